//! `xml2bq watch` on a local folder: files arriving one after another are each loaded
//! once within a few rounds; SIGTERM lets the round in progress finish and exits 0; a
//! restart loads nothing twice.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn watch(input: &Path, dest: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xml2bq"))
        .args(["watch", input.to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the line saying the signal handlers are in place.
fn wait_ready(child: &mut Child) -> BufReader<std::process::ChildStderr> {
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.starts_with("xml2bq watch: loading "), "{line}");
    err
}

fn ledger_len(dest: &Path) -> usize {
    match std::fs::read_dir(dest.join("_xml2bq_ledger")) {
        Ok(rd) => rd.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".json")).count(),
        Err(_) => 0,
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

/// The JSON lines a finished watch printed, one per round.
fn rounds(child: Child) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (out.status.code(), lines)
}

#[test]
fn files_arriving_over_ten_seconds_are_each_loaded_once() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("dest");
    let mut child = watch(input.path(), &dest, &["--interval", "2s", "--settle", "1s"]);
    let _err = wait_ready(&mut child);
    let mut rows = 0;
    for k in 0..6 {
        std::fs::write(input.path().join(format!("f{k}.xml")), orders_document(k + 1, "", "")).unwrap();
        rows += k + 1;
        std::thread::sleep(Duration::from_millis(1700));
    }
    let last = Instant::now();
    while ledger_len(&dest) < 6 {
        assert!(last.elapsed() < Duration::from_secs(120), "6 files loaded within 2 minutes: {}", ledger_len(&dest));
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("the last file was loaded {:?} after the last write", last.elapsed());
    sigterm(&child);
    let (code, lines) = rounds(child);
    assert_eq!(code, Some(0));
    let loaded: u64 = lines.iter().map(|l| l["loaded"].as_u64().unwrap()).sum();
    assert_eq!(loaded, 6, "each file loaded in exactly one round: {lines:?}");
    assert!(lines.len() >= 3, "rounds every 2 s: {}", lines.len());
    assert_eq!(table_rows(&dest.join("orders")).len(), rows);

    // A restart loads nothing again.
    let child = watch(input.path(), &dest, &["--interval", "1s", "--settle", "1ms", "--rounds", "2"]);
    let (code, lines) = rounds(child);
    assert_eq!(code, Some(0));
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["loaded"] == 0 && l["skipped"] == 6), "{lines:?}");
}

#[test]
fn sigterm_during_a_round_finishes_it_and_exits_zero() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("dest");
    // Large enough that the first round is still loading it when the signal comes.
    std::fs::write(input.path().join("big.xml"), orders_document(25_000, "", "")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut child = watch(input.path(), &dest, &["--interval", "1h", "--settle", "1ms", "--threads", "1"]);
    let _err = wait_ready(&mut child);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ledger_len(&dest), 0, "the round is still in progress");
    sigterm(&child);
    let (code, lines) = rounds(child);
    assert_eq!(code, Some(0), "exit 0 after the round");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["loaded"], 1);
    assert_eq!(lines[0]["rows"]["orders"], 25_000);
    assert_eq!(ledger_len(&dest), 1);
    // A restart loads nothing twice (the file is older than --settle: it is looked at).
    let child = watch(input.path(), &dest, &["--settle", "1ms", "--rounds", "1"]);
    let (code, lines) = rounds(child);
    assert_eq!(code, Some(0));
    assert_eq!((lines[0]["loaded"].as_u64(), lines[0]["skipped"].as_u64()), (Some(0), Some(1)));
}
