//! Sharding over real runs: every file in exactly one shard, the index taken from the
//! flag or from the engines' environment.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;

/// 50 small valid files.
fn fifty() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let orders = std::fs::read(format!("{SAMPLE}/orders.xml")).unwrap();
    for i in 0..50 {
        std::fs::write(dir.path().join(format!("export-{i:02}.xml")), &orders).unwrap();
    }
    dir
}

/// The files one validate run processed, from its report.
fn files_of(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, BTreeSet<String>, serde_json::Value) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"));
    cmd.args(["validate", dir.to_str().unwrap(), "--quiet", "--report", report.path().to_str().unwrap()]).args(args);
    cmd.env_remove("JOB_COMPLETION_INDEX").env_remove("CLOUD_RUN_TASK_INDEX").env_remove("CLOUD_RUN_TASK_COUNT");
    cmd.env_remove("XML2BQ_SHARD_COUNT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    let r: serde_json::Value = match std::fs::read(report.path()) {
        Ok(b) if !b.is_empty() => serde_json::from_slice(&b).unwrap(),
        _ => serde_json::Value::Null,
    };
    let files = r["files"]
        .as_array()
        .map(|f| f.iter().map(|f| f["uri"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    (o.status.code(), files, r)
}

#[test]
fn shards_cover_every_file_exactly_once() {
    let dir = fifty();
    let (_, all, _) = files_of(dir.path(), &[], &[]);
    assert_eq!(all.len(), 50);
    for n in [1usize, 2, 3, 7] {
        let mut union = BTreeSet::new();
        let mut total = 0;
        for i in 0..n {
            let (code, files, report) = files_of(dir.path(), &["--shard", &format!("{i}/{n}")], &[]);
            assert_eq!(code, Some(0));
            assert_eq!(report["shard"], format!("{i}/{n}"));
            total += files.len();
            union.extend(files);
        }
        assert_eq!(union, all, "{n} shards cover the whole set");
        assert_eq!(total, 50, "{n} shards: no file in two shards");
    }
}

#[test]
fn adding_files_does_not_move_the_others() {
    let dir = fifty();
    let (_, before, _) = files_of(dir.path(), &["--shard", "1/3"], &[]);
    std::fs::copy(format!("{SAMPLE}/orders.xml"), dir.path().join("new-file.xml")).unwrap();
    let (_, after, _) = files_of(dir.path(), &["--shard", "1/3"], &[]);
    assert!(before.is_subset(&after), "shard 1/3 keeps its files when one is added");
}

#[test]
fn the_index_comes_from_the_engines() {
    let dir = fifty();
    let (_, flag, _) = files_of(dir.path(), &["--shard", "1/3"], &[]);
    let (code, k8s, r) = files_of(dir.path(), &[], &[("JOB_COMPLETION_INDEX", "1"), ("XML2BQ_SHARD_COUNT", "3")]);
    assert_eq!(code, Some(0));
    assert_eq!(r["shard"], "1/3");
    assert_eq!(k8s, flag, "JOB_COMPLETION_INDEX is honoured");
    let (_, k8s_flag, _) = files_of(dir.path(), &["--shard-count", "3"], &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(k8s_flag, flag);
    let (_, run, _) = files_of(dir.path(), &[], &[("CLOUD_RUN_TASK_INDEX", "1"), ("CLOUD_RUN_TASK_COUNT", "3")]);
    assert_eq!(run, flag, "Cloud Run task index and count are honoured");
    let (code, _, _) = files_of(dir.path(), &[], &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(code, Some(2), "an index without a count is a usage error");
    let o = xml2bq(&["validate", dir.path().to_str().unwrap(), "--shard", "3/3"]);
    assert_eq!(o.status.code(), Some(2), "a usage error");
    assert!(stderr(&o).contains("0 to COUNT-1"), "{}", stderr(&o));
}

#[test]
fn allow_invalid_exits_zero_but_still_reports() {
    let input = sample_copy();
    let (code, _, r) = files_of(input.path(), &["--allow-invalid"], &[]);
    assert_eq!(code, Some(0));
    assert_eq!(r["totals"]["invalid"], 1);
    assert_eq!(r["exit_code"], 0);
}
