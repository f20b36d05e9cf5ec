//! Nothing half-written: a file's rows appear in all its tables or in none, whatever
//! fails (a full disk, an I/O error, a file where a table folder should be) and
//! wherever the run is killed; the next run finishes what a killed one left and
//! removes its temporaries; dead-letter copies are whole, one per input, under a name
//! of their own, and a symlinked input is moved as a link.
//!
//! Faults come from the debug-only `XML2BQ_FAULT_*` variables (src/sink/fault.rs), or
//! from a real full tmpfs where mounting is permitted.

mod common;
use common::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A document with `n` customers and `n` orders, their text marked with `tag`.
fn document(n: usize, tag: &str) -> String {
    orders_document(n, "", tag)
}

/// A document whose text hardly compresses (a different 32-hex tag per record), so
/// that its parts take room.
fn noisy_document(n: usize) -> String {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut out = String::new();
    for (i, piece) in document(n, "{tag}").split("{tag}").enumerate() {
        if i > 0 {
            out.push_str(&format!("{:016x}{:016x}", mix(i as u64), mix(i as u64 + (1 << 40))));
        }
        out.push_str(piece);
    }
    out
}

/// Forces the segment-parallel path onto small files.
const PARALLEL: &[&str] = &["--threads", "2", "--split-min-bytes", "0", "--segment-bytes", "4000"];
const ONE_PASS: &[&str] = &["--threads", "1"];

fn command(input: &Path, dest: &Path, extra: &[&str], env: &[(&str, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xml2bq"));
    c.args(["load", input.to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"]).args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs a load; returns its output and its report.
fn load(input: &Path, dest: &Path, extra: &[&str], env: &[(&str, String)]) -> (Output, Value) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut c = command(input, dest, extra, env);
    c.args(["--report", report.path().to_str().unwrap()]);
    let o = c.output().unwrap();
    let r = match std::fs::read(report.path()) {
        Ok(b) if !b.is_empty() => serde_json::from_slice(&b).unwrap(),
        _ => Value::Null,
    };
    (o, r)
}

/// The status of the file named `name` in a report.
fn status(report: &Value, name: &str) -> String {
    let files = report["files"].as_array().expect("a report");
    let f = files.iter().find(|f| f["uri"].as_str().unwrap().ends_with(&format!("/{name}"))).unwrap();
    f["status"].as_str().unwrap().to_string()
}

/// Every file below `dir` (recursively), relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// What a run left that is not output: temporaries, backups, journals, run locks (a
/// root's `.xml2bq/recover.lock`, which serialises recoveries, stays).
fn leftovers(dest: &Path) -> Vec<PathBuf> {
    files(dest)
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')))
        .filter(|p| !p.ends_with(".xml2bq/recover.lock"))
        .collect()
}

/// The visible parts of every table, by path relative to `dest`, with their row counts;
/// panics on a part that does not read whole.
fn visible_parts(dest: &Path) -> BTreeMap<PathBuf, usize> {
    let mut out = BTreeMap::new();
    for t in ["customers", "orders"] {
        for p in parts(&dest.join(t), "parquet") {
            let f = std::fs::File::open(&p).unwrap();
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)
                .unwrap_or_else(|e| panic!("{} is not whole: {e}", p.display()))
                .build()
                .unwrap();
            let rows = reader.map(|b| b.unwrap_or_else(|e| panic!("{}: {e}", p.display())).num_rows()).sum();
            out.insert(p.strip_prefix(dest).unwrap().to_path_buf(), rows);
        }
    }
    out
}

/// The rows of both tables.
fn rows(dest: &Path) -> (Vec<Value>, Vec<Value>) {
    (table_rows(&dest.join("customers")), table_rows(&dest.join("orders")))
}

/// The rows of both tables that came from `name`.
fn rows_of(dest: &Path, name: &str) -> usize {
    let (c, o) = rows(dest);
    c.iter().chain(&o).filter(|r| r["_source_uri"].as_str().unwrap().ends_with(&format!("/{name}"))).count()
}

#[test]
fn a_table_folder_that_is_a_file_never_half_loads_a_file() {
    let input = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{SAMPLE}/customers.xml"), input.path().join("customers.xml")).unwrap();
    std::fs::write(input.path().join("both.xml"), document(60, "both")).unwrap();
    for (mode, flags) in [("one pass", ONE_PASS), ("parallel", PARALLEL)] {
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("orders"), b"not a folder").unwrap();
        let (o, report) = load(input.path(), &dest, &[&["--keep-source"], flags].concat(), &[]);
        assert_eq!(o.status.code(), Some(1), "{mode}: {}", stderr(&o));
        // customers.xml has no orders: in one pass it needs nothing of the orders folder
        // (the parallel path opens every table's part first, and fails).
        match status(&report, "customers.xml").as_str() {
            "failed" if mode == "parallel" => assert_eq!(rows_of(&dest, "customers.xml"), 0, "{mode}"),
            "loaded" => assert_eq!(rows_of(&dest, "customers.xml"), 1, "{mode}"),
            s => panic!("{mode}: customers.xml {s}: {report}"),
        }
        // both.xml has orders: it fails, and none of its customers are visible.
        assert_eq!(status(&report, "both.xml"), "failed", "{mode}: {report}");
        assert_eq!(rows_of(&dest, "both.xml"), 0, "{mode}: none of a failed file's rows");
        assert_eq!(leftovers(&dest), Vec::<PathBuf>::new(), "{mode}: no temporary left");
        let failure = report["files"].as_array().unwrap().iter().find(|f| f["status"] == "failed").unwrap();
        let failure = failure["failure"].as_str().unwrap();
        assert!(failure.contains(dest.join("orders").to_str().unwrap()), "{mode}: names the path: {failure}");
    }
}

/// Loads `file` with a write budget of `budget` bytes; asserts the file is loaded
/// whole or failed with none of its rows visible, and nothing temporary left.
/// Returns whether it loaded.
fn load_within(file: &Path, flags: &[&str], env: &[(&str, String)], want_rows: usize) -> bool {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("dest");
    let (o, report) = load(file, &dest, &[&["--keep-source"], flags].concat(), env);
    let name = file.file_name().unwrap().to_str().unwrap();
    let what = format!("{flags:?} {env:?}: {}", stderr(&o));
    match status(&report, name).as_str() {
        "loaded" => {
            assert_eq!(o.status.code(), Some(0), "{what}");
            assert_eq!(rows_of(&dest, name), want_rows, "{what}");
        }
        "failed" => {
            assert_eq!(o.status.code(), Some(1), "{what}");
            assert_eq!(rows_of(&dest, name), 0, "{what}: a failed file shows none of its rows");
            assert!(visible_parts(&dest).is_empty(), "{what}");
        }
        s => panic!("{s}: {what}"),
    }
    assert_eq!(leftovers(&dest), Vec::<PathBuf>::new(), "{what}");
    status(&report, name) == "loaded"
}

#[test]
fn a_full_disk_fails_the_file_and_shows_none_of_its_rows() {
    // Acceptance 5, with a fault-injecting writer: every budget from nothing to enough,
    // so the disk fills in each part, between the parts and while committing.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("full.xml");
    std::fs::write(&file, document(200, "full")).unwrap();
    for (mode, flags) in [("one pass", ONE_PASS), ("parallel", PARALLEL)] {
        let out = tempfile::tempdir().unwrap();
        load(&file, out.path(), &[&["--keep-source"], flags].concat(), &[]);
        let total: u64 = files(out.path())
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .map(|p| std::fs::metadata(out.path().join(p)).unwrap().len())
            .sum();
        let mut failed = 0;
        for i in 0..12 {
            let budget = total * i / 10;
            let env = [("XML2BQ_FAULT_WRITE_BUDGET", budget.to_string())];
            if !load_within(&file, flags, &env, 400) {
                failed += 1;
            }
        }
        assert!(
            (10..12).contains(&failed),
            "{mode}: the budgets below the parts' size fail, enough loads ({failed} failed)"
        );
    }
}

/// A tmpfs of `bytes` at a fresh folder, unmounted on drop; `None` where mounting is not permitted.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(bytes: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs", dir.path().to_str()?])
            .output()
            .ok()?
            .status
            .success();
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).output();
    }
}

#[test]
fn a_full_tmpfs_fails_the_file_and_shows_none_of_its_rows() {
    // Acceptance 5 on a real full file system (where mounting is permitted).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("full.xml");
    std::fs::write(&file, noisy_document(2500)).unwrap();
    let clean = tempfile::tempdir().unwrap();
    load(&file, clean.path(), &["--keep-source", "--threads", "1"], &[]);
    let part = |t: &str| {
        std::fs::metadata(clean.path().join(t).join(&parts(&clean.path().join(t), "parquet")[0])).unwrap().len()
    };
    let (customers, orders) = (part("customers"), part("orders"));
    let Some(fs) = Tmpfs::mount(4 << 20) else {
        eprintln!("mounting a tmpfs is not permitted here: covered by the write-budget test only");
        return;
    };
    let page = 4096;
    for (mode, flags) in [("one pass", ONE_PASS), ("parallel", PARALLEL)] {
        // Fill the file system, then free room for the first part and half the second.
        let dest = fs.0.path().join("dest");
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::create_dir_all(&dest).unwrap();
        let filler = fs.0.path().join("filler");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&filler).unwrap();
            let block = vec![0u8; 1 << 16];
            while f.write_all(&block).is_ok() {}
            let _ = f.flush();
        }
        let pages = |n: u64| n.div_ceil(page);
        let room = (pages(customers.min(orders)) + 4 + pages(customers.max(orders)) / 2) * page;
        assert!(pages(customers.max(orders)) > 12, "parts of some size: {customers}, {orders}");
        let len = std::fs::metadata(&filler).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(&filler).unwrap().set_len(len.saturating_sub(room)).unwrap();
        let (o, report) = load(&file, &dest, &[&["--keep-source"], flags].concat(), &[]);
        assert_eq!(status(&report, "full.xml"), "failed", "{mode}: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(1), "{mode}");
        assert!(visible_parts(&dest).is_empty(), "{mode}: none of its rows visible");
        assert_eq!(leftovers(&dest), Vec::<PathBuf>::new(), "{mode}");
        std::fs::remove_file(&filler).unwrap();
    }
}

/// The input folder of the commit tests: one file with rows in both tables.
fn two_table_input(tag: &str) -> tempfile::TempDir {
    let input = tempfile::tempdir().unwrap();
    std::fs::write(input.path().join("both.xml"), document(30, tag)).unwrap();
    input
}

#[test]
fn an_io_error_between_renames_undoes_the_renames_done() {
    // A re-run replaces both parts of a file (four renames: each old part aside, each
    // new one in): an error at any of them leaves the first run's parts, exactly.
    for flags in [ONE_PASS, PARALLEL] {
        let input = two_table_input("first");
        let out = tempfile::tempdir().unwrap();
        let (_, r) = load(input.path(), out.path(), flags, &[]);
        assert_eq!(status(&r, "both.xml"), "loaded");
        let first = rows(out.path());
        std::fs::write(input.path().join("both.xml"), document(20, "second")).unwrap();
        for n in 1..=4 {
            let (o, r) = load(input.path(), out.path(), flags, &[("XML2BQ_FAULT_RENAME", n.to_string())]);
            assert_eq!(status(&r, "both.xml"), "failed", "rename {n}: {}", stderr(&o));
            assert_eq!(rows(out.path()), first, "rename {n} {flags:?}: the first run's rows, all of them");
            assert_eq!(leftovers(out.path()), Vec::<PathBuf>::new(), "rename {n}");
        }
        let (_, r) = load(input.path(), out.path(), flags, &[]);
        assert_eq!(status(&r, "both.xml"), "loaded");
        assert_eq!((rows(out.path()).0.len(), rows(out.path()).1.len()), (20, 20));
    }
}

#[test]
fn an_interrupted_commit_is_finished_by_the_next_run() {
    // Crash at each point of a commit (after the journal, after each rename, after the
    // commit mark): the visible parts are whole, and the next run gives the clean result.
    let input = two_table_input("first");
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(input.path().join("both.xml"), document(20, "second")).unwrap();
    load(input.path(), clean.path(), ONE_PASS, &[]);
    let want = rows(clean.path());
    for n in 1..=6 {
        std::fs::write(input.path().join("both.xml"), document(30, "first")).unwrap();
        let out = tempfile::tempdir().unwrap();
        load(input.path(), out.path(), ONE_PASS, &[]);
        std::fs::write(input.path().join("both.xml"), document(20, "second")).unwrap();
        let (o, _) = load(input.path(), out.path(), ONE_PASS, &[("XML2BQ_FAULT_CRASH", n.to_string())]);
        assert_eq!(o.status.code(), Some(137), "crash point {n}: {}", stderr(&o));
        visible_parts(out.path());
        let (o, r) = load(input.path(), out.path(), ONE_PASS, &[]);
        assert_eq!(status(&r, "both.xml"), "loaded", "{}", stderr(&o));
        assert!(stderr(&o).contains("interrupted commits"), "crash point {n}: recovery reported: {}", stderr(&o));
        assert_eq!(rows(out.path()), want, "crash point {n}");
        assert_eq!(leftovers(out.path()), Vec::<PathBuf>::new(), "crash point {n}");
    }
}

/// A pid no process has (a child that has exited).
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

#[test]
fn temporaries_of_killed_runs_are_removed_and_a_live_runs_are_kept() {
    let input = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{SAMPLE}/orders.xml"), input.path().join("orders.xml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path();
    let dead = dead_pid();
    let orders = dest.join("orders");
    let meta = dest.join(".xml2bq");
    std::fs::create_dir_all(&orders).unwrap();
    std::fs::create_dir_all(&meta).unwrap();
    // An older version's temporary (named by pid only), a dead run's, a dead run's
    // backup and journal temporary, and its lock file (free: the run is gone).
    let old = orders.join(format!(".orders-00000000000000aa.parquet.tmp-{dead}"));
    let killed = orders.join(format!(".x-00000000000000bb.parquet.tmp-{dead}-00000000000000ab"));
    let backup = orders.join(format!(".x-00000000000000bb.parquet.bak-{dead}-00000000000000ab"));
    let lock = meta.join(format!("{dead}-00000000000000ab.lock"));
    for p in [&old, &killed, &backup, &lock] {
        std::fs::write(p, b"partial").unwrap();
    }
    // A live run's temporary: its lock is held (by this test process).
    let live_id = format!("{}-00000000000000cd", std::process::id());
    let live_lock = std::fs::File::create(meta.join(format!("{live_id}.lock"))).unwrap();
    live_lock.lock().unwrap();
    let live = orders.join(format!(".y-00000000000000cc.parquet.tmp-{live_id}"));
    std::fs::write(&live, b"being written").unwrap();
    let (o, r) = load(input.path(), dest, &[], &[]);
    assert_eq!(status(&r, "orders.xml"), "loaded", "{}", stderr(&o));
    for p in [&old, &killed, &backup, &lock] {
        assert!(!p.exists(), "{} removed", p.display());
    }
    assert!(live.exists(), "a live run's temporary is kept");
    let kept = [PathBuf::from(format!(".xml2bq/{live_id}.lock")), live.strip_prefix(dest).unwrap().to_path_buf()];
    assert_eq!(leftovers(dest), kept);
    drop(live_lock);
}

/// One invalid file (a header with no tables) of `size` bytes or more.
fn invalid_document(size: usize) -> String {
    let pad = format!("<!-- {} -->\n", "x".repeat(size));
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{pad}<Root/>\n")
}

#[test]
fn a_failed_dead_letter_copy_leaves_no_partial_copy_and_the_rerun_uses_the_name() {
    let input = tempfile::tempdir().unwrap();
    let bad = input.path().join("bad.xml");
    let text = invalid_document(300_000);
    std::fs::write(&bad, &text).unwrap();
    let out = tempfile::tempdir().unwrap();
    let dl = out.path().join("_dead_letter");
    // The disk fills halfway through the copy.
    let (o, r) = load(input.path(), out.path(), &[], &[("XML2BQ_FAULT_WRITE_BUDGET", "150000".into())]);
    assert_eq!(status(&r, "bad.xml"), "failed", "{}", stderr(&o));
    assert!(bad.exists(), "the source stays");
    assert_eq!(files(&dl).into_iter().filter(|p| !p.starts_with(".xml2bq")).count(), 0, "no partial copy");
    // Killed before the verified copy is renamed.
    let (o, _) = load(input.path(), out.path(), &[], &[("XML2BQ_FAULT_CRASH", "1".into())]);
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    assert!(bad.exists(), "the source stays");
    let (o, r) = load(input.path(), out.path(), &["--keep-source"], &[]);
    assert_eq!(status(&r, "bad.xml"), "dead_lettered", "{}", stderr(&o));
    let (o, r) = load(input.path(), out.path(), &[], &[]);
    assert_eq!(status(&r, "bad.xml"), "dead_lettered", "{}", stderr(&o));
    assert!(!bad.exists());
    let visible: Vec<PathBuf> = files(&dl).into_iter().filter(|p| !p.starts_with(".xml2bq")).collect();
    assert_eq!(visible, [PathBuf::from("bad.xml"), PathBuf::from("bad.xml.error.json")], "one copy, its own name");
    assert_eq!(std::fs::read_to_string(dl.join("bad.xml")).unwrap(), text);
    assert_eq!(leftovers(out.path()), Vec::<PathBuf>::new());
}

#[test]
fn a_symlinked_input_is_dead_lettered_as_a_link() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("headers_only.xml");
    std::fs::copy(format!("{SAMPLE}/headers_only.xml"), &target).unwrap();
    let input = tempfile::tempdir().unwrap();
    let link = input.path().join("linked.xml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (o, r) = load(input.path(), out.path(), &[], &[]);
    assert_eq!(status(&r, "linked.xml"), "dead_lettered", "{}", stderr(&o));
    assert!(target.exists(), "the link's target is never touched");
    assert!(link.symlink_metadata().is_err(), "the link itself is moved");
    let dl = out.path().join("_dead_letter");
    assert_eq!(std::fs::read(dl.join("linked.xml")).unwrap(), std::fs::read(&target).unwrap());
    let reason: Value = serde_json::from_slice(&std::fs::read(dl.join("linked.xml.error.json")).unwrap()).unwrap();
    assert!(reason["source"].as_str().unwrap().ends_with("/linked.xml"), "{reason}");
}

#[test]
fn two_invalid_files_of_one_name_keep_a_copy_and_a_reason_each() {
    let input = tempfile::tempdir().unwrap();
    for d in ["a", "b"] {
        std::fs::create_dir(input.path().join(d)).unwrap();
        std::fs::copy(format!("{SAMPLE}/headers_only.xml"), input.path().join(d).join("same.xml")).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let dl = out.path().join("_dead_letter");
    let mut names = vec![];
    for run in 0..3 {
        let (o, r) = load(input.path(), out.path(), &["--keep-source"], &[]);
        assert_eq!(r["totals"]["dead_lettered"], 2, "run {run}: {}", stderr(&o));
        let visible: Vec<PathBuf> = files(&dl).into_iter().filter(|p| !p.starts_with(".xml2bq")).collect();
        assert_eq!(visible.len(), 4, "run {run}: two copies, two reasons: {visible:?}");
        let sources: std::collections::BTreeSet<String> = visible
            .iter()
            .filter(|p| p.to_str().unwrap().ends_with(".error.json"))
            .map(|p| {
                let v: Value = serde_json::from_slice(&std::fs::read(dl.join(p)).unwrap()).unwrap();
                assert_eq!(
                    v["dead_letter"].as_str().unwrap(),
                    dl.join(p).to_str().unwrap().trim_end_matches(".error.json")
                );
                v["source"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(sources.len(), 2, "run {run}: each reason names its own source");
        if run > 0 {
            assert_eq!(visible, names, "a re-run keeps the names");
        }
        names = visible;
    }
}

/// A small deterministic generator (xorshift64*), for the kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The inputs of the kill test: files over the (forced) parallel threshold, small ones,
/// and invalid ones (one over the threshold, one large to copy).
fn kill_inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let big = document(400, "big");
    let mut files = vec![
        ("big1.xml".to_string(), big.clone().into_bytes()),
        ("big2.xml".to_string(), document(300, "two").into_bytes()),
        ("bad_big.xml".to_string(), big.replacen("<Freight>350.35</Freight>", "<Freight>x</Freight>", 1).into_bytes()),
        ("bad_copy.xml".to_string(), invalid_document(2_000_000).into_bytes()),
    ];
    for name in ["customer-orders.xml", "customers.xml", "orders.xml", "headers_only.xml", "empty_data.xml"] {
        files.push((name.to_string(), std::fs::read(format!("{SAMPLE}/{name}")).unwrap()));
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    files
}

const INVALID: [&str; 3] = ["bad_big.xml", "bad_copy.xml", "headers_only.xml"];

#[test]
fn sigkill_at_random_moments_then_a_rerun_gives_the_clean_result() {
    // Acceptance 4. One input folder (the same path every time, so that URIs, part
    // names and rows compare), re-filled before each trial.
    let base = tempfile::tempdir().unwrap();
    let input = base.path().join("in");
    let flags = ["--threads", "2", "--split-min-bytes", "60000", "--segment-bytes", "8000", "--batch-rows", "50"];
    let inputs = kill_inputs(&input);
    let clean = base.path().join("clean");
    let start = Instant::now();
    let (o, r) = load(&input, &clean, &flags, &[]);
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(r["totals"]["dead_lettered"], 3, "{r}");
    assert!(
        r["files"].as_array().unwrap().iter().any(|f| f["segments"].as_u64().unwrap_or(0) > 1),
        "parallel path ran"
    );
    let want_parts = visible_parts(&clean);
    let want_rows = rows(&clean);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut killed_mid = 0;
    for trial in 0..20 {
        kill_inputs(&input);
        let dest = base.path().join(format!("kill{trial}"));
        let delay = Duration::from_micros(rng.next() % (took.as_micros() as u64 + 1));
        let mut child = command(&input, &dest, &flags, &[]).spawn().unwrap();
        std::thread::sleep(delay);
        let ended_first = child.try_wait().unwrap().is_some();
        child.kill().unwrap();
        child.wait().unwrap();
        if !ended_first {
            killed_mid += 1;
        }
        // After the kill: every visible part is whole, with the clean run's row count.
        for (p, n) in visible_parts(&dest) {
            assert_eq!(Some(&n), want_parts.get(&p), "trial {trial} ({delay:?}): {} is the clean part", p.display());
        }
        let (o, r) = load(&input, &dest, &flags, &[]);
        assert!(matches!(o.status.code(), Some(0 | 3)), "trial {trial} ({delay:?}): {}\n{r}", stderr(&o));
        assert_eq!(visible_parts(&dest), want_parts, "trial {trial} ({delay:?}): the clean parts");
        assert_eq!(rows(&dest), want_rows, "trial {trial} ({delay:?}): the clean rows");
        assert_eq!(leftovers(&dest), Vec::<PathBuf>::new(), "trial {trial} ({delay:?}): no temporaries");
        let dl: Vec<PathBuf> =
            files(&dest.join("_dead_letter")).into_iter().filter(|p| !p.starts_with(".xml2bq")).collect();
        let mut want_dl: Vec<PathBuf> =
            INVALID.iter().flat_map(|n| [PathBuf::from(n), PathBuf::from(format!("{n}.error.json"))]).collect();
        want_dl.sort();
        assert_eq!(dl, want_dl, "trial {trial} ({delay:?}): one copy and one reason per invalid file");
        for (name, bytes) in &inputs {
            if INVALID.contains(&name.as_str()) {
                assert_eq!(&std::fs::read(dest.join("_dead_letter").join(name)).unwrap(), bytes, "trial {trial}");
                assert!(!input.join(name).exists(), "trial {trial}: {name} moved");
            } else {
                assert!(input.join(name).exists(), "trial {trial}: {name} stays");
            }
        }
        std::fs::remove_dir_all(&dest).unwrap();
    }
    assert!(killed_mid >= 5, "kills hit a running load ({killed_mid} of 20; a clean run took {took:?})");
    eprintln!("20 kills ({killed_mid} mid-run) after a clean run of {took:?}, in {:?}", start.elapsed());
}
