//! xml2bq's build-time compiler: reads XSD files and a mapping, writes Rust.
//!
//! The flow: [`mapping`] (what the user asked for) and `xsd` (the schema
//! components) → `layout` (tables, records, decoders: a `plan::Plan`, with
//! content models compiled by `automaton`) → `emit` (the Rust module, with the typed
//! record structs of `records`).
//! `build.rs` calls [`compile`]; the `xml2bq-codegen preview` command prints a
//! plan's tables without building anything.
#![forbid(unsafe_code)]

mod automaton;
mod emit;
pub mod error;
mod layout;
pub mod mapping;
mod plan;
mod preview;
mod records;
mod xsd;
mod xsd_regex;

use error::{Error, Result};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The result of compiling a schema: the module text and every file read.
pub struct Compiled {
    /// The Rust module: `include!` it (it uses `xml2bq_core::prelude`).
    pub code: String,
    /// The mapping (if any) and every schema file, for cargo's rerun-if-changed.
    pub files: Vec<PathBuf>,
    plan: plan::Plan,
}

impl Compiled {
    /// The tables, columns and types, as indented text (`xml2bq-codegen preview`).
    pub fn preview(&self) -> String {
        preview::tables(&self.plan)
    }
}

/// Compiles a mapping file (`.toml`) or a bare schema document (`.xsd`).
pub fn compile(path: &Path) -> Result<Compiled> {
    compile_mapping(mapping::Mapping::read(path)?)
}

/// Compiles a mapping already read.
pub fn compile_mapping(mapping: mapping::Mapping) -> Result<Compiled> {
    let mut files: Vec<PathBuf> = mapping.file.iter().cloned().collect();
    let mut schemas = vec![];
    let mut names = vec![];
    for x in &mapping.xsd {
        if !x.exists() {
            return Err(Error::new(format!("schema file {} does not exist", x.display())));
        }
        let set = xsd::load::load(std::slice::from_ref(x), &mapping.schema_locations)?;
        files.extend(set.files.iter().cloned());
        schemas.push(xsd::resolve::resolve(&set)?);
        names.push(x.file_stem().map_or_else(|| "schema".to_string(), |s| s.to_string_lossy().into_owned()));
    }
    let sets: Vec<layout::Set<'_>> =
        schemas.iter().zip(&names).map(|(schema, name)| layout::Set { name: name.clone(), schema }).collect();
    let plan = layout::plan(&mapping, &sets)?;
    files.sort();
    files.dedup();
    let mut hashed = vec![];
    for f in &files {
        let bytes = std::fs::read(f).map_err(|e| Error::new(format!("cannot read {}: {e}", f.display())))?;
        let digest = sha2::Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        hashed.push((display(f), hex));
    }
    let source = emit::Source {
        mapping: mapping.file.as_ref().map(|f| display(f)),
        files: hashed,
        relaxations: relaxations(&mapping, &plan),
        timezone: mapping.timezone.clone(),
        max_depth: mapping.max_depth,
    };
    let code = emit::emit(&plan, &source);
    Ok(Compiled { code, files, plan })
}

/// A path as shown to users: relative to the current folder when under it.
fn display(p: &Path) -> String {
    let here = std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok());
    match here.and_then(|h| p.strip_prefix(h).ok().map(Path::to_path_buf)) {
        Some(rel) => rel.display().to_string(),
        None => p.display().to_string(),
    }
}

/// The mapping's relaxations of the schema, one sentence each.
fn relaxations(m: &mapping::Mapping, plan: &plan::Plan) -> Vec<String> {
    let mut out = vec![];
    if !m.tables.is_empty() || !m.roots.is_empty() {
        let roots: Vec<String> = plan.roots.iter().map(|r| format!("<{}>", r.local)).collect();
        out.push(format!(
            "documents must have the root {} (the mapping's); another global element of the schema is wrong-root",
            roots.join(" or ")
        ));
    }
    for o in &m.optional {
        out.push(format!(
            "{} may be absent although the schema requires it (its identity constraints are then not checked)",
            o.text
        ));
    }
    for g in &m.require_one_of {
        let names: Vec<&str> = g.iter().map(|p| p.text.as_str()).collect();
        out.push(format!("at least one of {} must be present (rule no-tables)", names.join(", ")));
    }
    out
}
