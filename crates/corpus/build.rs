//! Compiles every corpus schema into this crate, one module each, so that the whole
//! corpus is one test build: `tests/constructs/*/mapping.toml`, the real-world
//! mappings of `tests/realworld` (schemas from the oracle venv's PyPI packages, found
//! through `XML2BQ_ORACLE_SITE`) and of `tests/realworld/shared` (schemas in
//! `../shared/realworld`, or `XML2BQ_SHARED`). A case whose schema is missing or does
//! not compile is registered with the reason, and its test says so.

use std::fmt::Write;
use std::path::{Path, PathBuf};

struct Case {
    name: String,
    mapping: PathBuf,
    text: Result<String, String>,
}

fn main() {
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = crate_dir.join("../..").canonicalize().expect("the repository root");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-env-changed=XML2BQ_ORACLE_SITE");
    println!("cargo:rerun-if-env-changed=XML2BQ_SHARED");
    let site = std::env::var("XML2BQ_ORACLE_SITE").ok().filter(|s| Path::new(s).exists());
    let shared = std::env::var("XML2BQ_SHARED").map(PathBuf::from).unwrap_or_else(|_| root.join("../shared/realworld"));
    let shared = shared.exists().then(|| shared.canonicalize().unwrap_or(shared));
    println!(
        "cargo:rustc-env=XML2BQ_CORPUS_SHARED={}",
        shared.as_ref().map_or(String::new(), |s| s.display().to_string())
    );
    println!("cargo:rustc-env=XML2BQ_CORPUS_SITE={}", site.clone().unwrap_or_default());
    let mut cases = vec![];
    let dirs = |base: &Path, prefix: &str| -> Vec<(String, PathBuf)> {
        println!("cargo:rerun-if-changed={}", base.display());
        let mut v: Vec<(String, PathBuf)> = list(base)
            .into_iter()
            .filter(|p: &PathBuf| p.is_dir())
            .flat_map(|d| {
                let mut maps: Vec<PathBuf> = list(&d)
                    .into_iter()
                    .filter(|p: &PathBuf| {
                        p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("mapping"))
                            && p.extension().is_some_and(|e| e == "toml")
                    })
                    .collect();
                maps.sort();
                let dname = d.file_name().unwrap_or_default().to_string_lossy().into_owned();
                maps.into_iter().map(move |m| {
                    let stem = m.file_stem().unwrap_or_default().to_string_lossy().into_owned();
                    let name = if stem == "mapping" {
                        format!("{prefix}{dname}")
                    } else {
                        format!("{prefix}{dname}:{}", &stem["mapping-".len().min(stem.len())..])
                    };
                    (name, m)
                })
            })
            .collect();
        v.sort();
        v
    };
    for (name, m) in dirs(&root.join("tests/constructs"), "constructs/") {
        cases.push(Case { name, text: read(&m, None, None), mapping: m });
    }
    for (name, m) in dirs(&root.join("tests/realworld"), "realworld/") {
        if name.starts_with("realworld/shared") {
            continue;
        }
        let text = match &site {
            Some(s) => read(&m, Some(s), None),
            None => Err(
                "skipped: the oracle venv's packages are not installed (scripts/oracle/up.sh sets XML2BQ_ORACLE_SITE)"
                    .into(),
            ),
        };
        cases.push(Case { name, text, mapping: m });
    }
    for (name, m) in dirs(&root.join("tests/realworld/shared"), "shared/") {
        let text = match &shared {
            Some(s) => read(&m, None, Some(&s.display().to_string())),
            None => Err("skipped: ../shared/realworld is absent".into()),
        };
        cases.push(Case { name, text, mapping: m });
    }
    let mut registry =
        String::from("/// Every corpus case, compiled or with the reason it is not.\npub static CASES: &[Case] = &[\n");
    let mut modules = String::new();
    for (i, c) in cases.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", c.mapping.display());
        let compiled = c.text.clone().and_then(|t| {
            let m = xml2bq_codegen::mapping::Mapping::parse(&t, &c.mapping).map_err(|e| e.to_string())?;
            xml2bq_codegen::compile_mapping(m).map_err(|e| format!("does not compile: {e}"))
        });
        let schema = match compiled {
            Ok(comp) => {
                for f in &comp.files {
                    println!("cargo:rerun-if-changed={}", f.display());
                }
                let file = out.join(format!("case_{i}.rs"));
                std::fs::write(&file, comp.code).expect("write a case module");
                writeln!(modules, "#[allow(clippy::all, dead_code, unused_variables, unused_mut)]\nmod case_{i} {{\n    include!(concat!(env!(\"OUT_DIR\"), \"/case_{i}.rs\"));\n}}").ok();
                format!("Ok(&case_{i}::SCHEMA)")
            }
            Err(e) => format!("Err({e:?})"),
        };
        writeln!(
            registry,
            "    Case {{ name: {:?}, mapping: {:?}, schema: {schema} }},",
            c.name,
            c.mapping.display().to_string()
        )
        .ok();
    }
    registry.push_str("];\n");
    std::fs::write(out.join("cases.rs"), format!("{modules}\n{registry}")).expect("write the registry");
}

/// The entries of a folder (none when it cannot be read).
fn list(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => vec![],
    }
}

/// A mapping's text with `{site}` and `{shared}` replaced.
fn read(m: &Path, site: Option<&String>, shared: Option<&str>) -> Result<String, String> {
    let mut t = std::fs::read_to_string(m).map_err(|e| format!("cannot read {}: {e}", m.display()))?;
    if let Some(s) = site {
        t = t.replace("{site}", s);
    }
    if let Some(s) = shared {
        t = t.replace("{shared}", s);
    }
    Ok(t)
}
