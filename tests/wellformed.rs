//! The well-formedness corpus (`tests/wellformed/`, see its README): every document of it,
//! run through `xml2bq load` on both paths, gets the verdict its folder promises.
//!
//! - `nwf/`: not well-formed: dead-lettered with a well-formedness rule ([`WF_RULES`]),
//!   the same rule on both paths (a DOCTYPE in the prolog: `doctype-forbidden`).
//! - `wf/`: well-formed and valid: loaded, with the rows its `<Customer>`/`<Order>` start
//!   tags count, the same on both paths.
//! - `wf-invalid/`: well-formed, invalid against the schema: past the well-formedness
//!   stage (not rejected with a well-formedness rule), the same verdict on both paths.
//!
//! Each document is run three times: as written, in one pass; and with filler rows
//! inserted before its own rows (so that its defect lands after several segment cuts),
//! once in one pass (`--threads 1`) and once on the segment-parallel path forced onto
//! small files (`--split-min-bytes 0 --segment-bytes 64`: a cut after every row). Each run is one `load` of the
//! whole folder (fast); when that run panics, hangs or writes no report, every document
//! of it is run on its own under a timeout, so that a panic or a hang fails that document,
//! not the suite. `validate` is not used: it never takes the segment-parallel path.
//!
//! The test prints one line per wrong verdict and fails at the end with their count
//! (`WELLFORMED_VERBOSE=1`: a line per document with the outcome of each run).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wellformed");

/// The rules that say a file is not a well-formed XML document (`xml2bq_core::Rule`).
const WF_RULES: &[&str] =
    &["not-well-formed", "invalid-utf8", "unsupported-encoding", "invalid-encoding", "doctype-forbidden", "truncated"];

/// Documents of `nwf/` whose rule is fixed: a DOCTYPE in the prolog is refused by name.
const DOCTYPE_IN_PROLOG: &[&str] =
    &["nwf/doctype-28-simple.xml", "nwf/doctype-28-internal-subset.xml", "nwf/doctype-28-external-system.xml"];

/// Filler rows per table inserted by [`expand`].
const FILLER_ROWS: usize = 6;
/// A whole-folder run that takes longer than this has hung.
const BATCH_TIMEOUT: Duration = Duration::from_secs(180);
/// A one-document run that takes longer than this has hung.
const FILE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    /// Not well-formed.
    Nwf,
    /// Well-formed and valid.
    Wf,
    /// Well-formed, invalid against the schema.
    WfInvalid,
}

struct Doc {
    /// Path under the corpus folder, e.g. `nwf/char-2-nul-in-text.xml`.
    rel: String,
    class: Class,
    raw: Vec<u8>,
    /// With filler rows (None: the document has no `<Customers>` and `<Orders>` to fill).
    expanded: Option<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// The document as written, in one pass.
    Raw,
    /// With filler rows, in one pass.
    OnePass,
    /// With filler rows, on the segment-parallel path.
    Parallel,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Raw => "as written, one pass",
            Mode::OnePass => "with fillers, one pass",
            Mode::Parallel => "with fillers, parallel",
        }
    }

    fn flags(self) -> &'static [&'static str] {
        match self {
            Mode::Raw | Mode::OnePass => &["--threads", "1"],
            Mode::Parallel => &["--threads", "4", "--split-min-bytes", "0", "--segment-bytes", "64"],
        }
    }
}

/// What one run did with one document.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Loaded {
        customers: u64,
        orders: u64,
        segments: u64,
    },
    Rejected {
        rule: String,
    },
    /// Reported `failed` (left in place), or dead-lettered without a readable reason.
    Failed(String),
    /// The process exited without a report (a panic: exit 101).
    Crashed(String),
    Hang,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Loaded { customers, orders, .. } => write!(f, "loaded (customers {customers}, orders {orders})"),
            Outcome::Rejected { rule } => write!(f, "rejected: {rule}"),
            Outcome::Failed(m) => write!(f, "failed: {m}"),
            Outcome::Crashed(m) => write!(f, "crashed: {m}"),
            Outcome::Hang => write!(f, "hang (killed after the timeout)"),
        }
    }
}

fn corpus() -> Vec<Doc> {
    let mut docs = vec![];
    for (folder, class) in [("nwf", Class::Nwf), ("wf", Class::Wf), ("wf-invalid", Class::WfInvalid)] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(Path::new(CORPUS).join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        names.sort();
        for p in names {
            let raw = std::fs::read(&p).unwrap();
            let rel = format!("{folder}/{}", p.file_name().unwrap().to_str().unwrap());
            docs.push(Doc { rel, class, expanded: expand(&raw), raw });
        }
    }
    docs
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The document with [`FILLER_ROWS`] customers inserted right after its `<Customers>` and
/// as many orders right after its `<Orders>` (so its own rows come after several rows
/// the splitter can cut after); None when it has not both start tags.
fn expand(raw: &[u8]) -> Option<Vec<u8>> {
    let c = find(raw, b"<Customers>")? + b"<Customers>".len();
    let o = find(raw, b"<Orders>")? + b"<Orders>".len();
    if o < c {
        return None;
    }
    let mut customers = String::new();
    let mut orders = String::new();
    for i in 0..FILLER_ROWS {
        customers.push_str(&format!(
            "\n    <Customer CustomerID=\"FILL{i}\">\n      <CompanyName>Filler {i}</CompanyName>\n      \
             <ContactName>Filler</ContactName>\n      <ContactTitle>Owner</ContactTitle>\n      \
             <Phone>555-{i}</Phone>\n      <FullAddress><Address>1 Main St.</Address><City>Elgin</City>\
             <Region>OR</Region><PostalCode>97827</PostalCode><Country>USA</Country></FullAddress>\n    </Customer>"
        ));
        orders.push_str(&format!(
            "\n    <Order>\n      <CustomerID>FILL{i}</CustomerID>\n      <EmployeeID>{i}</EmployeeID>\n      \
             <OrderDate>1997-05-06T00:00:00</OrderDate>\n      <RequiredDate>1997-05-20T00:00:00</RequiredDate>\n      \
             <ShipInfo><ShipVia>2</ShipVia><Freight>1.5</Freight><ShipName>Filler {i}</ShipName>\
             <ShipAddress>1 Main St.</ShipAddress><ShipCity>Elgin</ShipCity><ShipRegion>OR</ShipRegion>\
             <ShipPostalCode>97827</ShipPostalCode><ShipCountry>USA</ShipCountry></ShipInfo>\n    </Order>"
        ));
    }
    let mut out = raw[..c].to_vec();
    out.extend_from_slice(customers.as_bytes());
    out.extend_from_slice(&raw[c..o]);
    out.extend_from_slice(orders.as_bytes());
    out.extend_from_slice(&raw[o..]);
    Some(out)
}

/// The document as text: UTF-16 by its byte order mark, else byte by byte (the names
/// counted are ASCII).
fn text(bytes: &[u8]) -> String {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        _ => bytes.iter().map(|&b| if b.is_ascii() { b as char } else { '\u{FFFD}' }).collect(),
    }
}

/// The rows a valid document holds: its `Customer` and `Order` start tags (empty-element
/// tags too), outside comments, PIs and CDATA sections.
fn expected_rows(bytes: &[u8]) -> (u64, u64) {
    let s = text(bytes);
    let (mut customers, mut orders) = (0, 0);
    let mut rest = s.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let skip_to = |r: &str, end: &str| r.find(end).map(|j| j + end.len()).unwrap_or(r.len());
        if rest.starts_with("<!--") {
            rest = &rest[skip_to(rest, "-->")..];
        } else if rest.starts_with("<![CDATA[") {
            rest = &rest[skip_to(rest, "]]>")..];
        } else if rest.starts_with("<?") {
            rest = &rest[skip_to(rest, "?>")..];
        } else {
            let name_end =
                rest[1..].find(|c: char| c.is_whitespace() || c == '>' || c == '/').map_or(rest.len(), |j| j + 1);
            match &rest[1..name_end] {
                "Customer" => customers += 1,
                "Order" => orders += 1,
                _ => {}
            }
            rest = &rest[1..];
        }
    }
    (customers, orders)
}

/// Waits for `child` up to `timeout`; None (and the child killed) when it is still running.
fn wait_for(child: &mut std::process::Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `load INPUT` with `mode`'s flags in `work`; the outcome per input URI, or why no
/// report was written.
fn load(input: &Path, mode: Mode, work: &Path, timeout: Duration) -> Result<BTreeMap<String, Outcome>, Outcome> {
    let dest = work.join("out");
    let report = work.join("report.json");
    let stderr_path = work.join("stderr.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xml2bq"))
        .arg("load")
        .arg(input)
        .arg("--dest")
        .arg(&dest)
        .args(["--keep-source", "--quiet", "--allow-invalid", "--batch-rows", "4"])
        .arg("--report")
        .arg(&report)
        .args(mode.flags())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("run xml2bq");
    let Some(status) = wait_for(&mut child, timeout) else { return Err(Outcome::Hang) };
    let Ok(json) = std::fs::read(&report) else {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        let last = err.lines().find(|l| l.contains("panicked")).or(err.lines().last()).unwrap_or("");
        return Err(Outcome::Crashed(format!("exit {:?}, no report: {}", status.code(), last.trim())));
    };
    let report: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let mut out = BTreeMap::new();
    for f in report["files"].as_array().unwrap() {
        let uri = f["uri"].as_str().unwrap().to_string();
        let outcome = match f["status"].as_str().unwrap() {
            "loaded" => Outcome::Loaded {
                customers: f["rows"]["customers"].as_u64().unwrap_or(0),
                orders: f["rows"]["orders"].as_u64().unwrap_or(0),
                segments: f["segments"].as_u64().unwrap_or(0),
            },
            "dead_lettered" => {
                let rule = f["error"]["rule"].as_str().unwrap_or("?").to_string();
                // The reason beside the copy says the same.
                let copy = f["dead_letter"].as_str().unwrap_or("");
                let reason = std::fs::read(format!("{copy}.error.json"))
                    .ok()
                    .and_then(|j| serde_json::from_slice::<serde_json::Value>(&j).ok());
                match reason {
                    Some(r) if r["rule"] == rule.as_str() => Outcome::Rejected { rule },
                    Some(r) => Outcome::Failed(format!("report says {rule}, {copy}.error.json says {}", r["rule"])),
                    None => Outcome::Failed(format!("dead-lettered ({rule}) without a readable {copy}.error.json")),
                }
            }
            other => Outcome::Failed(format!("{other}: {}", f["failure"].as_str().unwrap_or(""))),
        };
        out.insert(uri, outcome);
    }
    Ok(out)
}

fn file_uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// The outcome of every document (by `rel`) in `mode`: one run of the whole folder, or one
/// run per document when that run gives no report.
fn run_mode(docs: &[&Doc], mode: Mode, bytes: impl Fn(&Doc) -> &[u8]) -> BTreeMap<String, Outcome> {
    let work = tempfile::tempdir().unwrap();
    let inputs = work.path().join("in");
    for d in docs {
        let p = inputs.join(&d.rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes(d)).unwrap();
    }
    let batch = work.path().join("batch");
    std::fs::create_dir(&batch).unwrap();
    let mut out = BTreeMap::new();
    match load(&inputs, mode, &batch, BATCH_TIMEOUT) {
        Ok(by_uri) => {
            for d in docs {
                let uri = file_uri(&inputs.join(&d.rel));
                let got = by_uri.get(&uri).cloned().unwrap_or(Outcome::Failed("not in the report".into()));
                out.insert(d.rel.clone(), got);
            }
        }
        Err(why) => {
            eprintln!(
                "[{}] the whole-folder run gave no report ({why}): running each document on its own",
                mode.name()
            );
            for (i, d) in docs.iter().enumerate() {
                let one = work.path().join(format!("one-{i}"));
                std::fs::create_dir(&one).unwrap();
                let input = inputs.join(&d.rel);
                let got = match load(&input, mode, &one, FILE_TIMEOUT) {
                    Ok(by_uri) => {
                        by_uri.get(&file_uri(&input)).cloned().unwrap_or(Outcome::Failed("not in the report".into()))
                    }
                    Err(why) => why,
                };
                out.insert(d.rel.clone(), got);
            }
        }
    }
    out
}

fn with_fillers(d: &Doc) -> &[u8] {
    d.expanded.as_deref().expect("a document with fillers")
}

/// Why `got` is the wrong verdict for `doc` (None: right).
fn wrong(doc: &Doc, bytes: &[u8], got: &Outcome) -> Option<String> {
    match (doc.class, got) {
        (Class::Nwf, Outcome::Rejected { rule }) if DOCTYPE_IN_PROLOG.contains(&doc.rel.as_str()) => {
            (rule != "doctype-forbidden").then(|| "expected rejected: doctype-forbidden".into())
        }
        (Class::Nwf, Outcome::Rejected { rule }) if WF_RULES.contains(&rule.as_str()) => None,
        (Class::Nwf, _) => Some("expected rejected with a well-formedness rule".into()),
        (Class::Wf, Outcome::Loaded { customers, orders, .. }) => {
            let (c, o) = expected_rows(bytes);
            (*customers != c || *orders != o).then(|| format!("expected loaded with customers {c}, orders {o}"))
        }
        (Class::Wf, _) => Some("expected loaded".into()),
        (Class::WfInvalid, Outcome::Loaded { .. }) => None,
        (Class::WfInvalid, Outcome::Rejected { rule }) if !WF_RULES.contains(&rule.as_str()) => None,
        (Class::WfInvalid, _) => Some("expected past the well-formedness stage (no well-formedness rule)".into()),
    }
}

#[test]
fn every_document_gets_its_verdict_on_both_paths() {
    let start = Instant::now();
    let docs = corpus();
    let count = |c: Class| docs.iter().filter(|d| d.class == c).count();
    let (nwf, wf, wfi) = (count(Class::Nwf), count(Class::Wf), count(Class::WfInvalid));
    assert!(
        nwf >= 120 && wf + wfi >= 60,
        "the corpus holds {nwf} not-well-formed and {} well-formed documents",
        wf + wfi
    );

    let all: Vec<&Doc> = docs.iter().collect();
    let expanded: Vec<&Doc> = docs.iter().filter(|d| d.expanded.is_some()).collect();
    let raw = run_mode(&all, Mode::Raw, |d| d.raw.as_slice());
    let one_pass = run_mode(&expanded, Mode::OnePass, with_fillers);
    let parallel = run_mode(&expanded, Mode::Parallel, with_fillers);

    let mut failures = 0;
    let mut split = 0;
    let mut not_split = vec![];
    // WELLFORMED_VERBOSE=1: one line per document with every run's outcome.
    let verbose = std::env::var_os("WELLFORMED_VERBOSE").is_some();
    for d in &docs {
        let mut lines = vec![];
        let runs: Vec<(Mode, &BTreeMap<String, Outcome>, &[u8])> = match &d.expanded {
            Some(e) => vec![(Mode::Raw, &raw, &d.raw), (Mode::OnePass, &one_pass, e), (Mode::Parallel, &parallel, e)],
            None => vec![(Mode::Raw, &raw, &d.raw)],
        };
        // (what was expected, what the run did) -> the runs
        let mut wrongs: Vec<(String, String, Vec<&str>)> = vec![];
        for (mode, outcomes, bytes) in runs {
            let got = &outcomes[&d.rel];
            if let Some(why) = wrong(d, bytes, got) {
                // The rows of a document that should not load differ with the fillers: not shown.
                let got = match got {
                    Outcome::Loaded { .. } if d.class != Class::Wf => "loaded".to_string(),
                    other => other.to_string(),
                };
                match wrongs.iter_mut().find(|(w, g, _)| *w == why && *g == got) {
                    Some((_, _, modes)) => modes.push(mode.name()),
                    None => wrongs.push((why, got, vec![mode.name()])),
                }
            }
            if mode == Mode::Parallel {
                match got {
                    Outcome::Loaded { segments, .. } if *segments > 1 => split += 1,
                    Outcome::Loaded { .. } => not_split.push(d.rel.as_str()),
                    _ => {}
                }
            }
        }
        for (why, got, modes) in wrongs {
            lines.push(format!("{why}, got {got} [{}]", modes.join("; ")));
        }
        if let (Some(a), Some(b)) = (one_pass.get(&d.rel), parallel.get(&d.rel))
            && a.to_string() != b.to_string()
        {
            lines.push(format!("the paths disagree: one pass {a}, parallel {b}"));
        }
        if verbose {
            let all: Vec<String> = [("raw", &raw), ("one pass", &one_pass), ("parallel", &parallel)]
                .iter()
                .filter_map(|(m, o)| o.get(&d.rel).map(|got| format!("{m}: {got}")))
                .collect();
            println!("{}: {}", d.rel, all.join("; "));
        }
        if !lines.is_empty() {
            failures += 1;
            println!("WRONG {}: {}", d.rel, lines.join("; "));
        }
    }
    if !not_split.is_empty() {
        println!("note: loaded on the parallel path in one segment: {}", not_split.join(", "));
    }
    let loaded_parallel = parallel.values().filter(|o| matches!(o, Outcome::Loaded { .. })).count();
    println!(
        "{nwf} not well-formed, {wf} well-formed and valid, {wfi} well-formed and invalid; {} documents with \
         fillers, {split} of the {loaded_parallel} loaded on the parallel path were cut into segments; {:.1} s",
        expanded.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        loaded_parallel == 0 || split * 2 >= loaded_parallel,
        "the parallel path must cut most documents it loads: {split} of {loaded_parallel}"
    );
    assert_eq!(failures, 0, "{failures} documents got the wrong verdict (the lines above)");
}
