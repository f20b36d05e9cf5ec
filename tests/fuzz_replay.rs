//! Replays every file of `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/`
//! through the fuzz targets' own bodies (`fuzz/fuzz_targets/common.rs`), on stable:
//! each must finish without a panic or a broken invariant, within a time bound.
//! Fuzzing itself is `scripts/fuzz.sh TARGET SECONDS` (nightly, cargo fuzz).

#[allow(clippy::all, dead_code, unused_variables, unused_mut)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/schema.rs"));
}
#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz_common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Per input; generous for a debug build (the fuzzers use -timeout=10 on release).
const LIMIT: Duration = Duration::from_secs(60);

fn files(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut all = vec![];
    for kind in ["corpus", "artifacts"] {
        if let Ok(rd) = std::fs::read_dir(root.join(kind).join(target)) {
            all.extend(rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()));
        }
    }
    all.retain(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')));
    all.sort();
    all
}

fn replay(target: &'static str) {
    let files = files(target);
    assert!(!files.is_empty(), "fuzz/corpus/{target}/ holds the target's corpus");
    for f in files {
        let data = std::fs::read(&f).unwrap();
        let (tx, rx) = mpsc::channel();
        let name = f.display().to_string();
        let worker = std::thread::Builder::new()
            .name(format!("{target}: {name}"))
            .spawn(move || {
                fuzz_common::run(target, &schema::SCHEMA, &data);
                let _ = tx.send(());
            })
            .unwrap();
        match rx.recv_timeout(LIMIT) {
            Ok(()) => worker.join().unwrap(),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let why = worker
                    .join()
                    .err()
                    .map(|p| p.downcast_ref::<String>().cloned().or(p.downcast_ref::<&str>().map(|s| s.to_string())));
                panic!("fuzz target {target} on {name}: panicked: {why:?}");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("fuzz target {target} on {name}: no end after {LIMIT:?}"),
        }
    }
}

#[test]
fn events_corpus_and_artifacts() {
    replay("events");
}

#[test]
fn values_corpus_and_artifacts() {
    replay("values");
}

#[test]
fn decoder_corpus_and_artifacts() {
    replay("decoder");
}

#[test]
fn split_corpus_and_artifacts() {
    replay("split");
}

#[test]
fn differential_corpus_and_artifacts() {
    replay("differential");
}

#[test]
fn every_target_is_replayed() {
    assert_eq!(fuzz_common::TARGETS, ["events", "values", "decoder", "split", "differential"]);
}
