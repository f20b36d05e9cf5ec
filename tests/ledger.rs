//! Incremental loads into a folder destination: the ledger (`DEST/_xml2bq_ledger/`)
//! makes each input version load once, across runs, new arrivals and crashes;
//! `--reload`, `ledger list` / `ledger forget`, and `--archive`.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;

fn load(input: &Path, dest: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["load", input.to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    xml2bq(&args)
}

fn report(o: &std::process::Output, path: &Path) -> serde_json::Value {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("no report ({e}): {}", stderr(o)));
    serde_json::from_slice(&text).unwrap()
}

/// Writes `n` documents `NAME-<k>.xml` of `k + 1` customers and orders each.
fn add_files(dir: &Path, name: &str, range: std::ops::Range<usize>) {
    for k in range {
        std::fs::write(dir.join(format!("{name}-{k}.xml")), orders_document(k + 1, "", &format!("-{name}{k}")))
            .unwrap();
    }
}

/// (rows, distinct (_source_uri, _record_ordinal) pairs) of a table folder.
fn rows_and_keys(dir: &Path) -> (usize, usize) {
    let rows = table_rows(dir);
    let keys: BTreeSet<(String, i64)> = rows
        .iter()
        .map(|r| (r["_source_uri"].as_str().unwrap().to_string(), r["_record_ordinal"].as_i64().unwrap()))
        .collect();
    (rows.len(), keys.len())
}

fn statuses(r: &serde_json::Value) -> Vec<(String, String)> {
    r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let uri = f["uri"].as_str().unwrap();
            (uri.rsplit('/').next().unwrap().to_string(), f["status"].as_str().unwrap().to_string())
        })
        .collect()
}

fn ledger_uris(dest: &Path) -> Vec<String> {
    let o = xml2bq(&["ledger", "list", dest.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["uri"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn new_files_load_once_and_loaded_ones_are_skipped() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let rep = out.path().join("run.json");
    let dest = out.path().join("dest");
    add_files(input.path(), "a", 0..5); // 1+2+3+4+5 = 15 rows per table
    let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(report(&o, &rep)["totals"]["loaded"], 5);
    assert_eq!(rows_and_keys(&dest.join("orders")), (15, 15));

    add_files(input.path(), "b", 0..3); // 1+2+3 = 6 more
    let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&o, &rep);
    assert_eq!((r["totals"]["loaded"].as_u64(), r["totals"]["skipped"].as_u64()), (Some(3), Some(5)));
    let loaded: Vec<String> = statuses(&r).into_iter().filter(|(_, s)| s == "loaded").map(|(n, _)| n).collect();
    assert_eq!(loaded, ["b-0.xml", "b-1.xml", "b-2.xml"]);
    assert!(stderr(&o).contains("8 files: 3 ok, 5 skipped (already loaded)"), "{}", stderr(&o));
    assert_eq!(rows_and_keys(&dest.join("orders")), (21, 21));
    assert_eq!(rows_and_keys(&dest.join("customers")), (21, 21));
    // Skipped files carry the rows the ledger recorded.
    let skipped = r["files"].as_array().unwrap().iter().find(|f| f["uri"].as_str().unwrap().ends_with("/a-4.xml"));
    assert_eq!(skipped.unwrap()["rows"]["orders"], 5);

    // Nothing new: nothing loads, and no part is rewritten.
    let before: Vec<_> = parts(&dest.join("orders"), "parquet")
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = report(&o, &rep);
    assert_eq!((r["totals"]["loaded"].as_u64(), r["totals"]["skipped"].as_u64()), (Some(0), Some(8)));
    let after: Vec<_> = parts(&dest.join("orders"), "parquet")
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(before, after);

    // A changed file is a new version: it loads again, replacing its own parts.
    std::fs::write(input.path().join("a-0.xml"), orders_document(4, "", "-changed")).unwrap();
    let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
    let r = report(&o, &rep);
    assert_eq!((r["totals"]["loaded"].as_u64(), r["totals"]["skipped"].as_u64()), (Some(1), Some(7)));
    assert_eq!(rows_and_keys(&dest.join("orders")), (24, 24));

    // --reload reads every file again and appends its rows once more, as BigQuery does:
    // every (_source_uri, _record_ordinal) pair is there exactly twice.
    let o = load(input.path(), &dest, &["--reload", "--report", rep.to_str().unwrap()]);
    let r = report(&o, &rep);
    assert_eq!((r["totals"]["loaded"].as_u64(), r["totals"]["skipped"].as_u64()), (Some(8), Some(0)));
    assert_eq!(rows_and_keys(&dest.join("orders")), (48, 24));
    assert_eq!(rows_and_keys(&dest.join("customers")), (48, 24));
    assert_eq!(key_counts(&dest.join("orders")), BTreeSet::from([2]));
    assert_eq!(parts(&dest.join("orders"), "parquet").len(), 16);
    assert_eq!(ledger_uris(&dest).len(), 8);

    // Run again: nothing loads; the ledger's rows count both loads.
    let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
    let r = report(&o, &rep);
    assert_eq!((r["totals"]["loaded"].as_u64(), r["totals"]["skipped"].as_u64()), (Some(0), Some(8)));
    let skipped = r["files"].as_array().unwrap().iter().find(|f| f["uri"].as_str().unwrap().ends_with("/a-4.xml"));
    assert_eq!(skipped.unwrap()["rows"]["orders"], 10);
    assert_eq!(rows_and_keys(&dest.join("orders")), (48, 24));

    // A changed file replaces both of its loads: 2 x 2 rows of a-1 go, its 3 new rows come.
    std::fs::write(input.path().join("a-1.xml"), orders_document(3, "", "-changed")).unwrap();
    let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
    let r = report(&o, &rep);
    assert_eq!((r["totals"]["loaded"].as_u64(), r["totals"]["skipped"].as_u64()), (Some(1), Some(7)));
    assert_eq!(rows_and_keys(&dest.join("orders")), (47, 25));
    assert_eq!(parts(&dest.join("orders"), "parquet").len(), 15);
}

/// How many times each (_source_uri, _record_ordinal) pair occurs, as a set of counts.
fn key_counts(dir: &Path) -> BTreeSet<usize> {
    let mut n = std::collections::BTreeMap::<(String, i64), usize>::new();
    for r in table_rows(dir) {
        *n.entry((r["_source_uri"].as_str().unwrap().to_string(), r["_record_ordinal"].as_i64().unwrap()))
            .or_default() += 1;
    }
    n.into_values().collect()
}

#[test]
fn ledger_forget_lets_one_file_load_again() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("dest");
    add_files(input.path(), "a", 0..3);
    assert_eq!(load(input.path(), &dest, &[]).status.code(), Some(0));
    let uris = ledger_uris(&dest);
    assert_eq!(uris.len(), 3);
    let o = xml2bq(&["ledger", "list", dest.to_str().unwrap()]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.lines().all(|l| l.starts_with("loaded\tfile://")), "{text}");
    assert!(text.contains("orders 2"), "rows per table are listed: {text}");

    let o = xml2bq(&["ledger", "forget", dest.to_str().unwrap(), &uris[1], "file:///not/loaded.xml"]);
    assert_eq!(o.status.code(), Some(1), "an unknown URI is an error: {}", stderr(&o));
    assert!(stderr(&o).contains("not in the ledger of") && stderr(&o).contains("file:///not/loaded.xml"));
    assert!(stderr(&o).contains("forgot 1 of 2 inputs"), "{}", stderr(&o));
    assert_eq!(ledger_uris(&dest), vec![uris[0].clone(), uris[2].clone()]);

    let rep = out.path().join("run.json");
    let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
    let r = report(&o, &rep);
    let loaded: Vec<String> = statuses(&r).into_iter().filter(|(_, s)| s == "loaded").map(|(n, _)| n).collect();
    assert_eq!(loaded, ["a-1.xml"]);
    assert_eq!(rows_and_keys(&dest.join("orders")), (6, 6));

    let o = xml2bq(&["ledger", "list", out.path().join("nope").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nope: no such destination folder"), "{}", stderr(&o));
}

#[test]
fn a_crash_at_any_commit_step_then_new_files_loads_everything_once() {
    // Crash points: after a commit's journal, after each rename (see src/sink/fault.rs).
    for crash in 1..=6 {
        let input = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("dest");
        add_files(input.path(), "a", 0..4);
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"));
        cmd.args(["load", input.path().to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"]);
        cmd.args(["--threads", "1"]).env("XML2BQ_FAULT_CRASH", crash.to_string());
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(137), "crash point {crash} was reached: {}", stderr(&o));
        // Visible rows are whole files only (a commit cut short is finished or undone by
        // the next run, before it reads anything).
        let (rows, keys) = rows_and_keys(&dest.join("orders"));
        assert_eq!(rows, keys);
        // Two more arrive; the re-run loads everything exactly once.
        add_files(input.path(), "b", 0..2);
        let rep = out.path().join("run.json");
        let o = load(input.path(), &dest, &["--report", rep.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r = report(&o, &rep);
        assert_eq!(r["totals"]["loaded"].as_u64().unwrap() + r["totals"]["skipped"].as_u64().unwrap(), 6);
        assert!(r["totals"]["skipped"].as_u64().unwrap() < 4, "crash {crash}: the crash stopped a commit");
        assert_eq!(rows_and_keys(&dest.join("orders")), (13, 13), "crash {crash}");
        assert_eq!(rows_and_keys(&dest.join("customers")), (13, 13), "crash {crash}");
        assert_eq!(ledger_uris(&dest).len(), 6);
    }
}

#[test]
fn archive_moves_loaded_files_verified_and_never_invalid_ones() {
    let input = sample_copy();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("dest");
    let archive = out.path().join("archive");
    let originals: Vec<(String, Vec<u8>)> = ["customer-orders.xml", "customers.xml", "orders.xml", "empty_data.xml"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(input.path().join(n)).unwrap()))
        .collect();
    let rep = out.path().join("run.json");
    let o = load(input.path(), &dest, &["--archive", archive.to_str().unwrap(), "--report", rep.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "headers_only.xml is invalid: {}", stderr(&o));
    let left: Vec<String> =
        std::fs::read_dir(input.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(left.is_empty(), "every file moved: {left:?}");
    for (name, bytes) in &originals {
        assert_eq!(&std::fs::read(archive.join(name)).unwrap(), bytes, "{name} archived byte for byte");
        let note: serde_json::Value =
            serde_json::from_slice(&std::fs::read(archive.join(format!("{name}.loaded.json"))).unwrap()).unwrap();
        assert_eq!(note["size"], bytes.len());
        assert_eq!(note["crc32c"], format!("{:08x}", crc32c::crc32c(bytes)));
        assert!(note["source"].as_str().unwrap().ends_with(&format!("/{name}")));
    }
    assert!(!archive.join("headers_only.xml").exists(), "an invalid file is not archived");
    assert!(dest.join("_dead_letter/headers_only.xml").exists());
    let r = report(&o, &rep);
    let archived = r["files"].as_array().unwrap().iter().filter(|f| f["archived"].is_string()).count();
    assert_eq!(archived, 4);
    assert_eq!(rows_and_keys(&dest.join("orders")), (23, 23));
}

#[test]
fn a_crash_anywhere_between_load_and_archive_is_finished_by_the_next_run() {
    // Every crash point of one file's commit and archive copy, in turn, until a run
    // passes them all.
    for crash in 1.. {
        let input = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let (dest, archive) = (out.path().join("dest"), out.path().join("archive"));
        let original = std::fs::read(format!("{SAMPLE}/customer-orders.xml")).unwrap();
        std::fs::write(input.path().join("customer-orders.xml"), &original).unwrap();
        let run = |fault: Option<u32>| {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"));
            cmd.args(["load", input.path().to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"]);
            cmd.args(["--archive", archive.to_str().unwrap()]);
            if let Some(n) = fault {
                cmd.env("XML2BQ_FAULT_CRASH", n.to_string());
            }
            cmd.output().unwrap()
        };
        let o = run(Some(crash));
        if o.status.code() == Some(0) {
            assert!(crash > 3, "a commit of two tables and a ledger entry, then a copy: {crash} crash points");
            break;
        }
        assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
        let o = run(None);
        assert_eq!(o.status.code(), Some(0), "crash {crash}: {}", stderr(&o));
        assert_eq!(std::fs::read(archive.join("customer-orders.xml")).unwrap(), original, "crash {crash}");
        assert!(!input.path().join("customer-orders.xml").exists(), "crash {crash}: the source is gone");
        assert_eq!(rows_and_keys(&dest.join("orders")), (22, 22), "crash {crash}");
        assert_eq!(rows_and_keys(&dest.join("customers")), (4, 4), "crash {crash}");
        assert_eq!(ledger_uris(&dest).len(), 1);
        let temporaries: Vec<String> = std::fs::read_dir(&archive)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(temporaries.is_empty() || temporaries == [".xml2bq"], "crash {crash}: {temporaries:?}");
    }
}
