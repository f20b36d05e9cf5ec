//! `--threads N` is the run's whole budget: however many files, and however large, at
//! most N threads decode or encode (the calling thread and the pool's `xml2bq-work-*`),
//! beside one `xml2bq-read` thread that reads and cuts a large file. Counted from
//! `/proc/PID/task` while the run goes on.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;

/// The names of a process's threads now (empty once it has exited); the main thread
/// is `main`. A thread names itself once it runs: until then it has the process's
/// name, so a thread still so named 20 ms later is `unnamed`.
fn thread_names(pid: u32) -> Vec<String> {
    let comm = |tid: &str| std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).ok();
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return vec![] };
    let tids: Vec<String> = rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    let mut names = vec![];
    for tid in tids {
        let Some(name) = comm(&tid) else { continue };
        let name = name.trim_end();
        if tid == pid.to_string() {
            names.push("main".to_string());
        } else if name == "xml2bq" {
            std::thread::sleep(std::time::Duration::from_millis(20));
            match comm(&tid) {
                Some(later) if later.trim_end() == "xml2bq" => names.push("unnamed".to_string()),
                Some(later) => names.push(later.trim_end().to_string()),
                None => {}
            }
        } else {
            names.push(name.to_string());
        }
    }
    names
}

/// What the samples of a run saw: the most threads that decode or encode at once, the
/// most reader threads at once, and every thread name.
struct Seen {
    working: usize,
    readers: usize,
    names: BTreeSet<String>,
}

/// Runs `xml2bq load INPUT` with these arguments, sampling its threads until it exits.
fn sampled_load(input: &Path, dest: &Path, report: &Path, extra: &[&str]) -> (std::process::ExitStatus, Seen) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"))
        .args(["load", input.to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"])
        .args(["--report", report.to_str().unwrap()])
        .args(extra)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Seen { working: 0, readers: 0, names: BTreeSet::new() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the run did not end");
        let names = thread_names(child.id());
        let working = names.iter().filter(|n| *n == "main" || n.starts_with("xml2bq-work-")).count();
        seen.working = seen.working.max(working);
        seen.readers = seen.readers.max(names.iter().filter(|n| *n == "xml2bq-read").count());
        seen.names.extend(names);
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    (status, seen)
}

#[test]
fn threads_bound_the_decoding_threads_whatever_the_inputs() {
    let input = tempfile::tempdir().unwrap();
    // Three files cut into segments (forced by small limits), and twelve small ones.
    for k in 0..3 {
        std::fs::write(input.path().join(format!("big-{k}.xml")), orders_document(4000, "", &format!("-big{k}")))
            .unwrap();
    }
    for k in 0..12 {
        std::fs::write(input.path().join(format!("small-{k}.xml")), orders_document(50, "", &format!("-small{k}")))
            .unwrap();
    }
    for n in [2usize, 3] {
        let out = tempfile::tempdir().unwrap();
        let report = out.path().join("report.json");
        let threads = n.to_string();
        let args = ["--threads", &threads, "--split-min-bytes", "1000000", "--segment-bytes", "65536"];
        let (status, seen) = sampled_load(input.path(), &out.path().join("dest"), &report, &args);
        assert_eq!(status.code(), Some(0));
        let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert_eq!(r["totals"]["rows"]["orders"], 3 * 4000 + 12 * 50);
        assert_eq!(r["totals"]["rows"]["customers"], 3 * 4000 + 12 * 50);
        let cut: Vec<u64> = r["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["uri"].as_str().unwrap().contains("/big-"))
            .map(|f| f["segments"].as_u64().unwrap_or(0))
            .collect();
        assert_eq!(cut.len(), 3);
        assert!(cut.iter().all(|&s| s > 10), "the large files were cut into segments: {cut:?}");
        // The pool's workers live as long as the run: every sample after its start sees N.
        assert_eq!(seen.working, n, "threads seen: {:?}", seen.names);
        assert_eq!(seen.readers, 1, "threads seen: {:?}", seen.names);
        let others: Vec<&String> = seen
            .names
            .iter()
            .filter(|t| !(*t == "main" || *t == "xml2bq-read" || t.starts_with("xml2bq-work-")))
            .collect();
        assert!(others.is_empty(), "threads of no budget: {others:?}");
    }
}
