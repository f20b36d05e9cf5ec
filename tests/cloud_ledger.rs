//! Incremental loads into BigQuery against the emulators: the ledger table makes each
//! object version load once across scheduled runs, new arrivals, crashes and shards;
//! `--reload`, `ledger list` / `forget`, and `--archive` on Cloud Storage.
//! `./scripts/test.sh` starts the emulators; plain `cargo test` skips these.

mod common;
#[path = "common/emulators.rs"]
mod emulators;

use common::*;
use emulators::*;
use std::process::Output;

/// `k + 1` customers and orders, each text marked with `tag`.
fn document(k: usize, tag: &str) -> Vec<u8> {
    orders_document(k + 1, "", tag).into_bytes()
}

/// Uploads `in/NAME-<k>.xml` for each k; returns the rows per table they hold.
fn upload(bucket: &str, name: &str, range: std::ops::Range<usize>) -> i64 {
    let mut rows = 0;
    for k in range {
        put(bucket, &format!("in/{name}-{k}.xml"), document(k, &format!("-{name}{k}")));
        rows += k as i64 + 1;
    }
    rows
}

/// `xml2bq load gs://BUCKET/in/ --dest bq://PROJECT.DS --dead-letter gs://BUCKET/dead EXTRA`.
fn load(bucket: &str, ds: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"));
    let (input, dest, dead) =
        (format!("gs://{bucket}/in/"), format!("bq://{PROJECT}.{ds}"), format!("gs://{bucket}/dead"));
    cmd.args(["load", &input, "--dest", &dest, "--dead-letter", &dead, "--quiet"]).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    output_leaving_no_temp(&mut cmd, env.iter().any(|(k, _)| k.starts_with("XML2BQ_FAULT")))
}

/// `xml2bq ledger ARGS` (under the hang timeout, as `xml2bq()` runs it), which leaves
/// no work folder behind either.
fn ledger(args: &[&str]) -> Output {
    let o = output_leaving_no_temp(xml2bq_command().arg("ledger").args(args), false);
    assert_ne!(o.status.code(), Some(124), "xml2bq ledger {args:?} hung ({HANG_SECONDS} s)");
    o
}

/// Runs a load with `--report` and returns the report.
fn load_report(bucket: &str, ds: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let rep = dir.path().join("run.json");
    let mut args = vec!["--report", rep.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = load(bucket, ds, &args, env);
    let r = std::fs::read(&rep).map(|b| serde_json::from_slice(&b).unwrap()).unwrap_or(serde_json::Value::Null);
    (o, r)
}

fn totals(r: &serde_json::Value) -> (u64, u64) {
    (r["totals"]["loaded"].as_u64().unwrap(), r["totals"]["skipped"].as_u64().unwrap())
}

/// Both tables hold `rows` rows and no (_source_uri, _record_ordinal) pair twice.
fn exactly_once(ds: &str, rows: i64) {
    for t in ["customers", "orders"] {
        assert_eq!(count(ds, t), rows, "{ds}.{t}");
        assert_eq!(duplicates(ds, t), 0, "{ds}.{t}");
    }
}

/// The ledger is read with a query whose answer may come in pages (BigQuery sends
/// about 10 MB per answer): every page is read, in order, none twice.
#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_query_answer_is_read_to_its_last_page() {
    let c = cloud();
    let sql = "SELECT n FROM UNNEST(GENERATE_ARRAY(1, 7)) AS n ORDER BY n";
    let want: Vec<Vec<serde_json::Value>> = (1..=7).map(|n| vec![serde_json::json!(n.to_string())]).collect();
    for page in [Some(1), Some(3), Some(7), None] {
        let rows = c.block_on(c.bq_query_pages(PROJECT, sql, page)).unwrap();
        assert_eq!(rows, want, "pages of {page:?} rows");
    }
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_scheduled_run_over_one_prefix_loads_only_the_new_files() {
    let (bucket, ds) = (bucket(), dataset());
    let mut rows = upload(&bucket, "a", 0..5);
    let (o, r) = load_report(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(totals(&r), (5, 0));
    exactly_once(&ds, rows);

    rows += upload(&bucket, "b", 0..3);
    let (o, r) = load_report(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(totals(&r), (3, 5), "only the 3 new files load");
    assert!(stderr(&o).contains("8 files: 3 ok, 5 skipped (already loaded)"), "{}", stderr(&o));
    exactly_once(&ds, rows);
    assert_eq!(rows, 15 + 6);

    let (o, r) = load_report(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(totals(&r), (0, 8), "nothing new: nothing loads");
    assert!(r["loads"].as_array().is_none_or(|l| l.is_empty()), "no load job: {}", r["loads"]);
    exactly_once(&ds, rows);

    // --reload appends every row exactly once more.
    let (o, r) = load_report(&bucket, &ds, &["--reload"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(totals(&r), (8, 0));
    for t in ["customers", "orders"] {
        assert_eq!(count(&ds, t), 2 * rows);
        let twice = scalar(&format!(
            "SELECT COUNT(*) FROM (SELECT _source_uri, _record_ordinal FROM {ds}.{t} GROUP BY 1, 2 HAVING COUNT(*) = 2)"
        ));
        assert_eq!(twice, rows, "each row exactly twice");
    }

    // The ledger lists each object version once, loaded.
    let o = ledger(&["list", &format!("bq://{PROJECT}.{ds}"), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 8);
    assert!(lines.iter().all(|l| l["state"] == "loaded"));
    let a3 = lines.iter().find(|l| l["uri"] == format!("gs://{bucket}/in/a-3.xml")).unwrap();
    assert_eq!((a3["rows"]["orders"].as_u64(), a3["rows"]["customers"].as_u64()), (Some(4), Some(4)));

    // Forgetting one object loads it (and only it) again.
    let uri = format!("gs://{bucket}/in/b-1.xml");
    let o = ledger(&["forget", &format!("bq://{PROJECT}.{ds}"), &uri]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (o, r) = load_report(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(totals(&r), (1, 7));
    assert_eq!(count(&ds, "orders"), 2 * rows + 2);
    // Forgetting it again, now that it was a batch of its own: it loads once more.
    let o = ledger(&["forget", &format!("bq://{PROJECT}.{ds}"), &uri]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (o, r) = load_report(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(totals(&r), (1, 7));
    assert_eq!(count(&ds, "orders"), 2 * rows + 4);
}

/// A run stopped at `stop` (after the batch's intent, or after its jobs), two more files,
/// then a clean run: every row exactly once.
fn stopped_run_then_new_files(stop: &str) {
    let (bucket, ds) = (bucket(), dataset());
    let mut rows = upload(&bucket, "a", 0..5);
    let o = load(&bucket, &ds, &[], &[("XML2BQ_FAULT_STOP", stop)]);
    assert_eq!(o.status.code(), Some(137), "stopped at {stop}: {}", stderr(&o));
    let loaded = if stop == "after-jobs" { rows } else { 0 };
    assert_eq!(count(&ds, "orders"), loaded, "{stop}: the jobs ran or not");
    let o = ledger(&["list", &format!("bq://{PROJECT}.{ds}"), "--json"]);
    let pending = String::from_utf8(o.stdout).unwrap().lines().filter(|l| l.contains("\"pending\"")).count();
    assert_eq!(pending, 5, "{stop}: the batch is recorded, not done");

    rows += upload(&bucket, "b", 0..2);
    let (o, r) = load_report(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{stop}: {}", stderr(&o));
    assert_eq!(totals(&r), (7, 0));
    exactly_once(&ds, rows);
    let states: Vec<&str> = r["loads"].as_array().unwrap().iter().map(|l| l["state"].as_str().unwrap()).collect();
    let first = if stop == "after-jobs" { "already_loaded" } else { "loaded" };
    assert_eq!(states, [first, first, "loaded", "loaded"], "{stop}: the stopped batch first, then the new one");
    let (o, r) = load_report(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(totals(&r), (0, 7));
    exactly_once(&ds, rows);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_run_stopped_after_its_jobs_then_new_files_loads_everything_once() {
    stopped_run_then_new_files("after-jobs");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_run_stopped_between_intent_and_jobs_then_new_files_loads_everything_once() {
    stopped_run_then_new_files("after-intent");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn three_shards_run_twice_with_new_files_between_load_every_file_once() {
    let (bucket, ds) = (bucket(), dataset());
    let mut rows = upload(&bucket, "a", 0..12);
    let shard = |i: usize| {
        let o = load(&bucket, &ds, &[], &[("JOB_COMPLETION_INDEX", &i.to_string()), ("XML2BQ_SHARD_COUNT", "3")]);
        assert_eq!(o.status.code(), Some(0), "shard {i}: {}", stderr(&o));
    };
    // The three shards at once, as an Indexed Job runs them.
    std::thread::scope(|s| {
        for i in 0..3 {
            s.spawn(move || shard(i));
        }
    });
    exactly_once(&ds, rows);
    rows += upload(&bucket, "b", 0..4);
    std::thread::scope(|s| {
        for i in 0..3 {
            s.spawn(move || shard(i));
        }
    });
    exactly_once(&ds, rows);
    let per_file = query(&format!("SELECT _source_uri, COUNT(*) FROM {ds}.orders GROUP BY 1 ORDER BY 1"));
    assert_eq!(per_file.len(), 16, "every file");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn archive_moves_loaded_objects_verified_and_never_dead_lettered_ones() {
    let (bucket, ds) = (bucket(), dataset());
    let rows = upload(&bucket, "a", 0..3);
    put(&bucket, "in/headers_only.xml", std::fs::read(format!("{SAMPLE}/headers_only.xml")).unwrap());
    let c = cloud();
    let before: Vec<_> = c.block_on(c.gcs_list(&bucket, "in/")).unwrap();
    let archive = format!("gs://{bucket}/archive");
    let (o, r) = load_report(&bucket, &ds, &["--archive", &archive], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(totals(&r), (3, 0));
    exactly_once(&ds, rows);
    assert!(names(&bucket, "in/").is_empty(), "every object moved: {:?}", names(&bucket, "in/"));
    let mut archived = names(&bucket, "archive/");
    archived.sort();
    assert_eq!(
        archived,
        [
            "archive/a-0.xml",
            "archive/a-0.xml.loaded.json",
            "archive/a-1.xml",
            "archive/a-1.xml.loaded.json",
            "archive/a-2.xml",
            "archive/a-2.xml.loaded.json"
        ]
    );
    assert_eq!(names(&bucket, "dead/"), ["dead/headers_only.xml", "dead/headers_only.xml.error.json"]);
    for src in before.iter().filter(|o| o.name.starts_with("in/a-")) {
        let name = src.name.replace("in/", "archive/");
        let copy = c.block_on(c.gcs_get(&bucket, &name)).unwrap().unwrap();
        assert_eq!((copy.size, copy.crc32c), (src.size, src.crc32c), "{name} verified");
    }
    // Nothing is left to load or archive.
    let (o, r) = load_report(&bucket, &ds, &["--archive", &archive], &[]);
    assert_eq!(o.status.code(), Some(1), "no inputs left: {}", stderr(&o));
    assert_eq!(r, serde_json::Value::Null);
    exactly_once(&ds, rows);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn watch_loads_objects_uploaded_over_ten_seconds_and_stops_on_sigterm() {
    use std::io::BufRead;
    let (bucket, ds) = (bucket(), dataset());
    let watch = |extra: &[&str]| {
        let (input, dest, dead) =
            (format!("gs://{bucket}/in/"), format!("bq://{PROJECT}.{ds}"), format!("gs://{bucket}/dead"));
        std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"))
            .args(["watch", &input, "--dest", &dest, "--dead-letter", &dead, "--quiet"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = watch(&["--interval", "2s"]);
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut ready = String::new();
    err.read_line(&mut ready).unwrap();
    assert!(ready.starts_with("xml2bq watch: loading"), "{ready}");
    let mut rows = 0;
    let mut uploaded = vec![];
    for k in 0..6 {
        rows += upload(&bucket, "w", k..k + 1);
        uploaded.push(std::time::Instant::now());
        std::thread::sleep(std::time::Duration::from_millis(1700));
    }
    while count(&ds, "orders") < rows {
        assert!(uploaded[5].elapsed().as_secs() < 120, "all rows within 2 minutes of the last upload");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!("all 6 objects loaded {:?} after the last upload", uploaded[5].elapsed());
    let kill = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().map(|l| l["loaded"].as_u64().unwrap()).sum::<u64>(), 6, "{lines:?}");
    exactly_once(&ds, rows);
    // A restart loads nothing twice.
    let out = watch(&["--rounds", "1"]).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((line["loaded"].as_u64(), line["skipped"].as_u64()), (Some(0), Some(6)));
    exactly_once(&ds, rows);
}
