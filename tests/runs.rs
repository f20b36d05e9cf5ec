//! Whole runs: re-runs, thread counts, formats, validate, reports, exit codes.

mod common;
use common::*;
use std::path::Path;

fn load(input: &Path, dest: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["load", input.to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    xml2bq(&args)
}

#[test]
fn rerun_replaces_parts_instead_of_duplicating_rows() {
    let input = sample_copy();
    let out = tempfile::tempdir().unwrap();
    load(input.path(), out.path(), &["--keep-source"]);
    let first = (table_rows(&out.path().join("customers")), table_rows(&out.path().join("orders")));
    let o = load(input.path(), out.path(), &["--keep-source"]);
    assert_eq!(o.status.code(), Some(3));
    let second = (table_rows(&out.path().join("customers")), table_rows(&out.path().join("orders")));
    assert_eq!((second.0.len(), second.1.len()), (5, 23));
    assert_eq!(first, second);
    assert_eq!(parts(&out.path().join("orders"), "parquet").len(), 2);
    assert!(input.path().join("headers_only.xml").exists(), "--keep-source keeps the original");
    assert!(out.path().join("_dead_letter/headers_only.xml.error.json").exists());
}

#[test]
fn rows_are_identical_whatever_the_thread_count_and_batch_size() {
    // One file of many records, so batches are cut many times.
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(format!("{SAMPLE}/customer-orders.xml")).unwrap();
    let (head, tail) = base.split_at(base.find("  </Orders>").unwrap());
    let orders = &head[head.find("    <Order>").unwrap()..];
    let big = format!("{head}{}{tail}", orders.repeat(40));
    std::fs::write(dir.path().join("big.xml"), &big).unwrap();
    for i in 0..5 {
        std::fs::copy(format!("{SAMPLE}/customer-orders.xml"), dir.path().join(format!("c{i}.xml"))).unwrap();
    }
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert_eq!(load(dir.path(), a.path(), &["--threads", "1"]).status.code(), Some(0));
    assert_eq!(
        load(dir.path(), b.path(), &["--threads", "4", "--batch-rows", "7", "--row-group-rows", "50"]).status.code(),
        Some(0)
    );
    let (ra, rb) = (table_rows(&a.path().join("orders")), table_rows(&b.path().join("orders")));
    assert_eq!(ra.len(), 22 * 41 + 22 * 5);
    assert_eq!(ra, rb);
    let ordinals: Vec<i64> = ra
        .iter()
        .filter(|r| r["_source_uri"].as_str().unwrap().ends_with("/big.xml"))
        .map(|r| r["_record_ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(ordinals, (1..=22 * 41).collect::<Vec<i64>>(), "ordinals are dense and in document order");
}

fn ndjson_rows(files: &[std::path::PathBuf]) -> Vec<serde_json::Value> {
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn ndjson_output_has_the_same_rows() {
    let input = sample_copy();
    let out = tempfile::tempdir().unwrap();
    let o = load(input.path(), out.path(), &["--format", "ndjson", "--keep-source"]);
    assert_eq!(o.status.code(), Some(3));
    let files = parts(&out.path().join("orders"), "ndjson");
    assert_eq!(files.len(), 2);
    let mut rows = ndjson_rows(&files);
    assert_eq!(rows.len(), 23);
    rows.sort_by_key(|r| (r["_source_uri"].as_str().unwrap().to_string(), r["_record_ordinal"].as_i64().unwrap()));
    let first = &rows[0];
    assert!(first["_source_uri"].as_str().unwrap().ends_with("/customer-orders.xml"));
    assert_eq!(first["OrderDate"], "1997-05-06T00:00:00");
    assert_eq!(first["ShipInfo"]["ShipVia"], 2);
    let raw = std::fs::read_to_string(files.iter().find(|f| f.to_str().unwrap().contains("customer-orders")).unwrap())
        .unwrap();
    assert!(raw.lines().next().unwrap().contains("\"Freight\":3.350000000"), "NUMERIC written exactly: {raw:.300}");
    let customers = ndjson_rows(&parts(&out.path().join("customers"), "ndjson"));
    let greal = customers.iter().find(|c| c["CustomerID"] == "GREAL").unwrap();
    assert!(greal.get("Fax").is_none_or(|f| f.is_null()), "null Fax: {greal}");
}

#[test]
fn validate_reports_and_touches_nothing() {
    let input = sample_copy();
    let report = input.path().join("report.json.out");
    let o = xml2bq(&["validate", input.path().to_str().unwrap(), "--report", report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("invalid file://") && err.contains("headers_only.xml") && err.contains("no-tables"), "{err}");
    assert_eq!(std::fs::read_dir(input.path()).unwrap().count(), 6, "five inputs and the report, nothing moved");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["totals"]["files"], 5);
    assert_eq!(r["totals"]["invalid"], 1);
    assert_eq!(r["totals"]["rows"]["orders"], 23);
    assert_eq!(r["exit_code"], 3);
    let o = xml2bq(&["validate", &format!("{SAMPLE}/customers.xml"), &format!("{SAMPLE}/orders.xml")]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn load_report_lists_every_file_in_one_state() {
    let input = sample_copy();
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("run.json");
    load(input.path(), out.path(), &["--report", report.to_str().unwrap()]);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    let status =
        |name: &str| files.iter().find(|f| f["uri"].as_str().unwrap().ends_with(name)).unwrap()["status"].clone();
    assert_eq!(status("/headers_only.xml"), "dead_lettered");
    assert_eq!(status("/customer-orders.xml"), "loaded");
    assert_eq!(status("/empty_data.xml"), "loaded");
    assert_eq!(r["totals"]["loaded"], 4);
    assert_eq!(r["totals"]["dead_lettered"], 1);
    assert_eq!(r["totals"]["rows"]["customers"], 5);
}

#[test]
fn globs_and_missing_inputs() {
    let out = tempfile::tempdir().unwrap();
    let o = xml2bq(&["load", &format!("{SAMPLE}/cust*.xml"), "--dest", out.path().to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(table_rows(&out.path().join("customers")).len(), 5);
    let o = xml2bq(&["load", "no/such/file.xml", "--dest", out.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("input not found: no/such/file.xml"), "{}", stderr(&o));
    let o = xml2bq(&["load", "--dest", "x"]);
    assert_eq!(o.status.code(), Some(2), "usage error");
}

#[test]
fn unwritable_destination_leaves_the_input_untouched() {
    let input = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{SAMPLE}/orders.xml"), input.path().join("orders.xml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    // A file where the table folder should be: writing the part fails.
    std::fs::write(out.path().join("orders"), b"not a folder").unwrap();
    let o = load(input.path(), out.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("FAILED") || stderr(&o).contains("1 failed"), "{}", stderr(&o));
    assert!(input.path().join("orders.xml").exists());
    assert!(!out.path().join("_dead_letter").exists(), "a write failure is not the file's fault");
}

#[test]
fn help_teaches() {
    let o = xml2bq(&["load", "--help"]);
    let h = String::from_utf8_lossy(&o.stdout);
    for needle in ["--dest", "--dead-letter", "--keep-source", "--format", "--report", "Exit codes", "Examples"] {
        assert!(
            h.contains(needle) || String::from_utf8_lossy(&xml2bq(&["--help"]).stdout).contains(needle),
            "--help lacks {needle}"
        );
    }
}
