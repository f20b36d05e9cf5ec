//! The command-line contract: a malformed or contradictory command line exits 2 before
//! anything is read or moved; a destination that is a file or cannot be written exits 1,
//! also before anything moves, naming the path; validate's summary speaks of valid and
//! invalid files; the help's examples move no file of the repository.

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// A folder with one valid and one invalid sample (the invalid one is what a run would move).
fn inputs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["orders.xml", "headers_only.xml"] {
        std::fs::copy(format!("{SAMPLE}/{f}"), dir.path().join(f)).unwrap();
    }
    dir
}

/// Both inputs are still in their folder.
fn inputs_in_place(input: &Path) {
    for f in ["orders.xml", "headers_only.xml"] {
        assert!(input.join(f).exists(), "{f} is still in the input folder");
    }
}

/// Nothing was read or moved: both inputs are still there, and `dest` holds no table.
fn untouched(input: &Path, dest: &Path) {
    inputs_in_place(input);
    for t in ["orders", "customers", "_dead_letter"] {
        assert!(!dest.join(t).exists(), "{} was not written", dest.join(t).display());
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_shard_that_is_not_index_slash_count_is_a_usage_error() {
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    let o = xml2bq(&["load", s(input.path()), "--dest", s(out.path()), "--shard", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(r#"--shard "x": expected INDEX/COUNT"#), "{}", stderr(&o));
    untouched(input.path(), out.path());
}

#[test]
fn a_shard_index_past_the_count_is_a_usage_error() {
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    let o = xml2bq(&["load", s(input.path()), "--dest", s(out.path()), "--shard", "5/3"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("shard 5/3: the index must be 0 to COUNT-1"), "{}", stderr(&o));
    untouched(input.path(), out.path());
}

#[test]
fn a_bigquery_destination_without_dead_letter_is_a_usage_error() {
    let input = inputs();
    let o = xml2bq(&["load", s(input.path()), "--dest", "bq://my-project.sales"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--dead-letter is required with a BigQuery destination"), "{}", stderr(&o));
    inputs_in_place(input.path());
}

#[test]
fn bigquery_options_with_a_folder_destination_are_a_usage_error() {
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    let o =
        xml2bq(&["load", s(input.path()), "--dest", s(out.path()), "--staging", "gs://b/stage", "--write", "truncate"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--staging, --write only apply to a BigQuery destination"), "{}", stderr(&o));
    let o = xml2bq(&["load", s(input.path()), "--dest", "gs://bucket/out"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--dest gs://bucket/out: give a local folder"), "{}", stderr(&o));
    untouched(input.path(), out.path());
}

#[test]
fn schema_of_an_unknown_table_is_a_usage_error_with_out_dir_too() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("schemas");
    let o = xml2bq(&["schema", "--table", "nope", "--out-dir", s(&dir)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(r#"--table "nope": no such table; the tables are ["customers", "orders"]"#));
    assert!(!dir.exists(), "nothing written");
    // With a real table, --out-dir writes only that one.
    let o = xml2bq(&["schema", "--table", "orders", "--out-dir", s(&dir)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written, ["orders.json"]);
}

#[test]
fn a_destination_that_is_a_file_is_refused_before_anything_moves() {
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    let file = out.path().join("taken");
    std::fs::write(&file, b"a file").unwrap();
    let o = xml2bq(&["load", s(input.path()), "--dest", s(&file)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let want = format!("--dest {}: exists and is not a folder", file.display());
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    untouched(input.path(), out.path());
}

#[test]
fn a_dead_letter_folder_under_a_file_is_refused_before_anything_moves() {
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    let file = out.path().join("taken");
    std::fs::write(&file, b"a file").unwrap();
    let dead = file.join("rejected");
    let o = xml2bq(&["load", s(input.path()), "--dest", s(out.path()), "--dead-letter", s(&dead)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let want = format!(
        "--dead-letter {}: cannot create the folder: {} is a file, not a folder",
        dead.display(),
        file.display()
    );
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    untouched(input.path(), out.path());
}

#[test]
fn a_dead_letter_folder_that_cannot_be_written_is_refused_before_anything_moves() {
    // /proc takes no new files, not even from root.
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    let o = xml2bq(&["load", s(input.path()), "--dest", s(out.path()), "--dead-letter", "/proc/xml2bq-rejected"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--dead-letter /proc/xml2bq-rejected: cannot write in /proc ("), "{}", stderr(&o));
    untouched(input.path(), out.path());
}

#[test]
fn the_default_dead_letter_folder_taken_by_a_file_is_refused_before_anything_moves() {
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    std::fs::write(out.path().join("_dead_letter"), b"a file").unwrap();
    let o = xml2bq(&["load", s(input.path()), "--dest", s(out.path())]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let want = format!("{}: exists and is not a folder", out.path().join("_dead_letter").display());
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    assert!(input.path().join("headers_only.xml").exists());
    assert!(!out.path().join("orders").exists());
}

#[test]
fn a_report_that_cannot_be_written_is_refused_before_anything_moves() {
    let (input, out) = (inputs(), tempfile::tempdir().unwrap());
    let report = out.path().join("no-such-folder/run.json");
    let o = xml2bq(&["load", s(input.path()), "--dest", s(out.path()), "--report", s(&report)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let want =
        format!("--report {}: the folder {} cannot be used", report.display(), report.parent().unwrap().display());
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    untouched(input.path(), out.path());
    let o = xml2bq(&["validate", s(input.path()), "--report", s(out.path())]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("--report {}: is a folder", out.path().display())), "{}", stderr(&o));
}

#[test]
fn schema_out_dir_errors_name_the_folder() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("taken");
    std::fs::write(&file, b"a file").unwrap();
    let o = xml2bq(&["schema", "--out-dir", s(&file)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("--out-dir {}: exists and is not a folder", file.display())));
    let o = xml2bq(&["schema", "--out-dir", "/proc/xml2bq-schemas"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--out-dir /proc/xml2bq-schemas: cannot create the folder (in /proc)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn validate_summary_counts_valid_and_invalid_files() {
    let input = inputs();
    let o = xml2bq(&["validate", s(input.path()), "--quiet"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("xml2bq validate: 2 files: 1 valid, 1 invalid, 0 failed\n"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("dead-lettered"), "validate moves nothing: {}", stderr(&o));
}

/// The examples of `load --help`, one command line each (continuations joined, quotes removed).
fn examples() -> Vec<Vec<String>> {
    let o = xml2bq(&["load", "--help"]);
    let help = String::from_utf8(o.stdout).unwrap();
    let text = &help[help.find("Examples:").expect("load --help has examples")..];
    let mut out: Vec<Vec<String>> = vec![];
    let mut continued = false;
    for line in text.lines() {
        let l = line.trim();
        if !continued && !l.starts_with("xml2bq ") {
            continue;
        }
        let words = l.trim_end_matches('\\').split_whitespace().map(|w| w.trim_matches('\'').to_string());
        if continued {
            out.last_mut().unwrap().extend(words);
        } else {
            out.push(words.skip(1).collect());
        }
        continued = l.ends_with('\\');
    }
    out
}

#[test]
fn help_examples_move_no_file_of_the_repository() {
    // Run every local example where the repository's files are: a copy of them, with
    // `exports` a second copy of the samples.
    let repo = tempfile::tempdir().unwrap();
    let copy = |to: &str| -> Vec<PathBuf> {
        let dir = repo.path().join(to);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::read_dir(SAMPLE)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let to = dir.join(p.file_name().unwrap());
                std::fs::copy(&p, &to).unwrap();
                to
            })
            .collect()
    };
    let tracked = copy("sample-data");
    copy("exports");
    let examples = examples();
    assert!(examples.len() >= 4, "{examples:?}");
    let mut ran = 0;
    for args in examples.iter().filter(|a| !a.iter().any(|w| w.starts_with("gs://") || w.starts_with("bq://"))) {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"))
            .args(args)
            .arg("--quiet")
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(matches!(o.status.code(), Some(0 | 3)), "{args:?}: {}", stderr(&o));
        ran += 1;
        for f in &tracked {
            assert!(f.exists(), "`xml2bq {}` moved {}", args.join(" "), f.display());
        }
    }
    assert!(ran >= 3, "the local examples ran: {examples:?}");
}
