//! The Google Cloud path against real emulators: fake-gcs-server (Cloud Storage JSON
//! API) and local-bigquery (BigQuery REST). `./scripts/test.sh` installs and starts
//! them and runs these tests; plain `cargo test` skips them (they are `#[ignore]`d).

mod common;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/proxy.rs"]
mod proxy;

use common::*;
use emulators::*;
use serde_json::Value;
use std::process::Output;
use std::sync::atomic::Ordering;

/// A fresh bucket holding these sample files under `in/`.
fn bucket_with_samples(files: &[&str]) -> String {
    let bucket = bucket();
    for f in files {
        put(&bucket, &format!("in/{f}"), std::fs::read(format!("{SAMPLE}/{f}")).unwrap());
    }
    bucket
}

const SAMPLES: &[&str] = &["customer-orders.xml", "customers.xml", "orders.xml", "empty_data.xml", "headers_only.xml"];

fn load(bucket: &str, ds: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xml2bq"));
    let input = format!("gs://{bucket}/in/*.xml");
    let dest = format!("bq://{PROJECT}.{ds}");
    let dead = format!("gs://{bucket}/dead");
    cmd.args(["load", &input, "--dest", &dest, "--dead-letter", &dead, "--quiet"]).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn gcs_to_bigquery_typed_values_and_both_load_paths_agree() {
    let bucket = bucket_with_samples(SAMPLES);
    let (staged, direct) = (dataset(), dataset());
    let stage = format!("gs://{bucket}/stage");
    let o = load(&bucket, &staged, &["--staging", &stage, "--keep-source"], &[]);
    assert_eq!(o.status.code(), Some(3), "one file dead-lettered: {}", stderr(&o));
    let o = load(&bucket, &direct, &["--keep-source"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    for ds in [&staged, &direct] {
        assert_eq!(count(ds, "customers"), 5);
        assert_eq!(count(ds, "orders"), 23);
        let order = query(&format!(
            "SELECT ShipInfo.Freight, CAST(OrderDate AS STRING), ShipInfo.ShipVia, ShipInfo.ShipCity, CustomerID, ShipInfo.Freight = NUMERIC '3.35' \
             FROM {ds}.orders WHERE _source_uri = 'gs://{bucket}/in/customer-orders.xml' AND _record_ordinal = 1"
        ));
        assert_eq!(order.len(), 1);
        assert_eq!(order[0][0], "3.35", "NUMERIC");
        assert_eq!(order[0][5], "true", "exactly 3.35");
        assert!(order[0][1].as_str().unwrap().starts_with("1997-05-06"), "DATETIME: {:?}", order[0][1]);
        assert_eq!(order[0][2], "2");
        assert_eq!(order[0][3], "Eugene", "nested RECORD field");
        assert_eq!(order[0][4], "GREAL");
        let cust = query(&format!(
            "SELECT Fax, FullAddress.City, CompanyName FROM {ds}.customers \
             WHERE CustomerID = 'GREAL' AND _source_uri = 'gs://{bucket}/in/customer-orders.xml'"
        ));
        assert_eq!(
            cust,
            vec![vec![Value::Null, Value::from("Eugene"), Value::from("Great Lakes Food Market")]],
            "null optional Fax"
        );
        // The schema BigQuery holds is the generated one.
        let types = query(&format!(
            "SELECT column_name, data_type FROM {ds}.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'orders' ORDER BY column_name"
        ));
        let ty = |c: &str| types.iter().find(|r| r[0] == c).map(|r| r[1].as_str().unwrap().to_string());
        assert_eq!(ty("OrderDate").as_deref(), Some("DATETIME"));
    }
    // Identical tables whichever path.
    let all = |ds: &str, t: &str| {
        query(&format!("SELECT TO_JSON_STRING(x) FROM {ds}.{t} AS x ORDER BY _source_uri, _record_ordinal"))
    };
    assert_eq!(all(&staged, "orders"), all(&direct, "orders"));
    assert_eq!(all(&staged, "customers"), all(&direct, "customers"));
    assert!(names(&bucket, "stage/").is_empty(), "staged parts are deleted after success");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn bad_objects_go_to_the_gcs_dead_letter_and_none_of_their_rows_load() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "headers_only.xml"]);
    let bad =
        std::fs::read_to_string(format!("{SAMPLE}/orders.xml")).unwrap().replace("<Freight>3.35", "<Freight>three");
    put(&bucket, "in/bad_freight.xml", bad.into_bytes());
    let ds = dataset();
    let o = load(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(names(&bucket, "in/"), vec!["in/customer-orders.xml"]);
    assert_eq!(
        names(&bucket, "dead/"),
        vec![
            "dead/bad_freight.xml",
            "dead/bad_freight.xml.error.json",
            "dead/headers_only.xml",
            "dead/headers_only.xml.error.json"
        ]
    );
    let c = cloud();
    let url = format!("{}/storage/v1/b/{bucket}/o/dead%2Fbad_freight.xml.error.json?alt=media", c.storage.endpoint);
    let reason: Value = c
        .block_on(async { c.send(&c.storage, reqwest::Method::GET, &url, |r| r).await.unwrap().json().await.unwrap() });
    assert_eq!(reason["rule"], "invalid-value");
    assert_eq!(reason["path"], "Root/Orders/Order[1]/ShipInfo/Freight");
    assert_eq!(reason["source"], format!("gs://{bucket}/in/bad_freight.xml"));
    assert_eq!(count(&ds, "orders"), 22);
    let leaked = query(&format!(
        "SELECT COUNT(*) FROM {ds}.orders WHERE _source_uri LIKE '%bad_freight%' OR _source_uri LIKE '%headers_only%'"
    ));
    assert_eq!(leaked[0][0], "0");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn loading_the_same_inputs_twice_loads_once() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "customers.xml", "orders.xml"]);
    let ds = dataset();
    for run in 0..2 {
        let o = load(&bucket, &ds, &[], &[]);
        assert_eq!(o.status.code(), Some(0), "run {run}: {}", stderr(&o));
        if run == 0 {
            assert!(stderr(&o).contains(&format!("orders -> {PROJECT}.{ds}.orders: loaded")), "{}", stderr(&o));
        } else {
            // The ledger holds every object version: nothing is read or loaded again.
            assert!(stderr(&o).contains("3 files: 0 ok, 3 skipped (already loaded)"), "{}", stderr(&o));
            assert!(!stderr(&o).contains("orders -> "), "no load job: {}", stderr(&o));
        }
        assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (5, 23));
    }
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn bigquery_failing_between_the_two_tables_then_recovering_loads_each_row_once() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "customers.xml", "orders.xml"]);
    let ds = dataset();
    let bq = std::env::var("BIGQUERY_EMULATOR_HOST").unwrap();
    // Only the orders job's own calls: the ledger's records name that job too.
    let proxy = proxy::FaultProxy::start(bq.trim_start_matches("http://"), "/jobs/xml2bq_orders_");
    proxy.arm(true);
    let env = [("BIGQUERY_EMULATOR_HOST", proxy.host()), ("XML2BQ_RETRY_MAX_TIMES", "2".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = load(&bucket, &ds, &[], &env);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&format!("orders -> {PROJECT}.{ds}.orders: NOT LOADED")), "{err}");
    assert!(err.contains(&format!("customers -> {PROJECT}.{ds}.customers: loaded")), "{err}");
    // The orders job's look-up: the first try and 2 retries, then the run gives up on it.
    assert_eq!(proxy.refused.load(Ordering::SeqCst), 3, "the orders calls were refused and retried");
    assert_eq!(count(&ds, "customers"), 5);
    assert_eq!(count(&ds, "orders"), 0);
    // BigQuery is back: the same command finishes the job and loads nothing twice.
    proxy.arm(false);
    let o = load(&bucket, &ds, &[], &env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("customers -> ") && stderr(&o).contains(": already_loaded"), "{}", stderr(&o));
    assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (5, 23));
    let dupes = query(&format!(
        "SELECT COUNT(*) FROM (SELECT _source_uri, _record_ordinal FROM {ds}.orders GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ));
    assert_eq!(dupes[0][0], "0");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn truncate_replaces_the_tables() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "customers.xml"]);
    let ds = dataset();
    assert_eq!(load(&bucket, &ds, &[], &[]).status.code(), Some(0));
    assert_eq!(count(&ds, "customers"), 5);
    let c = cloud();
    c.block_on(c.gcs_delete(&bucket, "in/customer-orders.xml", None)).unwrap();
    let o = load(&bucket, &ds, &["--write", "truncate"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(count(&ds, "customers"), 1, "only customers.xml's row is left");
    let o = load(&bucket, &ds, &["--write", "truncate"], &[]);
    assert!(
        stderr(&o).contains("customers -> ") && stderr(&o).contains(": loaded"),
        "truncate always loads: {}",
        stderr(&o)
    );
    assert_eq!(count(&ds, "customers"), 1);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn an_incompatible_table_is_refused_before_anything_moves() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "headers_only.xml"]);
    let ds = dataset();
    let c = cloud();
    let body = serde_json::json!({
        "tableReference": { "projectId": PROJECT, "datasetId": ds, "tableId": "orders" },
        "schema": { "fields": [
            { "name": "CustomerID", "type": "STRING", "mode": "REQUIRED" },
            { "name": "OrderDate", "type": "STRING", "mode": "REQUIRED" }
        ] }
    });
    c.block_on(c.json::<Value>(
        &c.bigquery,
        reqwest::Method::POST,
        &c.bq_url(PROJECT, &format!("/datasets/{ds}/tables")),
        Some(&body),
    ))
    .unwrap();
    let stage = format!("gs://{bucket}/stage");
    let o = load(&bucket, &ds, &["--staging", &stage], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("column OrderDate is STRING, xml2bq writes DATETIME"), "{err}");
    assert!(err.contains("column EmployeeID is missing"), "{err}");
    assert_eq!(names(&bucket, "in/").len(), 2, "nothing dead-lettered");
    assert!(names(&bucket, "stage/").is_empty() && names(&bucket, "dead/").is_empty(), "nothing uploaded");
    let tables = query(&format!("SELECT table_name FROM {ds}.INFORMATION_SCHEMA.TABLES ORDER BY 1"));
    assert_eq!(tables, vec![vec![Value::from("orders")]], "customers was not created either");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn partitioning_and_clustering_are_applied_at_creation() {
    let bucket = bucket_with_samples(&["orders.xml"]);
    let ds = dataset();
    let o = load(&bucket, &ds, &["--partition-by", "OrderDate", "--cluster-by", "CustomerID,EmployeeID"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let c = cloud();
    let t: Value = c
        .block_on(c.json(
            &c.bigquery,
            reqwest::Method::GET,
            &c.bq_url(PROJECT, &format!("/datasets/{ds}/tables/orders")),
            None,
        ))
        .unwrap();
    assert_eq!(t["timePartitioning"]["field"], "OrderDate");
    assert_eq!(t["clustering"]["fields"], serde_json::json!(["CustomerID", "EmployeeID"]));
    let o = load(&bucket, &ds, &["--partition-by", "Nope"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--partition-by Nope"), "{}", stderr(&o));
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn transient_storage_failures_are_retried() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "headers_only.xml"]);
    let ds = dataset();
    let gcs = std::env::var("STORAGE_EMULATOR_HOST").unwrap();
    // Every Cloud Storage call goes through the proxy: the first four calls that touch
    // the bucket fail (503, dropped, 503, dropped) and are retried.
    let proxy = proxy::FaultProxy::start(gcs.trim_start_matches("http://"), &bucket);
    proxy.budget.store(4, Ordering::SeqCst);
    let host = proxy.host();
    let o = load(&bucket, &ds, &[], &[("STORAGE_EMULATOR_HOST", host.as_str())]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(proxy.refused.load(Ordering::SeqCst), 4);
    assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (4, 22));
    assert_eq!(names(&bucket, "dead/"), vec!["dead/headers_only.xml", "dead/headers_only.xml.error.json"]);
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn retries_are_bounded() {
    let bucket = bucket_with_samples(&["customers.xml"]);
    let ds = dataset();
    let gcs = std::env::var("STORAGE_EMULATOR_HOST").unwrap();
    let proxy = proxy::FaultProxy::start(gcs.trim_start_matches("http://"), &bucket);
    proxy.arm(true);
    let host = proxy.host();
    let start = std::time::Instant::now();
    let o = load(&bucket, &ds, &[], &[("STORAGE_EMULATOR_HOST", host.as_str()), ("XML2BQ_RETRY_MAX_TIMES", "3")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(proxy.refused.load(Ordering::SeqCst), 4, "one call and three retries");
    assert!(stderr(&o).contains("HTTP 503"), "{}", stderr(&o));
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn three_shards_load_the_same_rows_as_one_run() {
    let bucket = bucket_with_samples(&["customers.xml", "orders.xml"]);
    let orders = std::fs::read(format!("{SAMPLE}/customer-orders.xml")).unwrap();
    for i in 0..12 {
        put(&bucket, &format!("in/export-{i:02}.xml"), orders.clone());
    }
    let (whole, sharded) = (dataset(), dataset());
    assert_eq!(load(&bucket, &whole, &[], &[]).status.code(), Some(0));
    for i in 0..3 {
        let o = load(&bucket, &sharded, &[], &[("JOB_COMPLETION_INDEX", &i.to_string()), ("XML2BQ_SHARD_COUNT", "3")]);
        assert_eq!(o.status.code(), Some(0), "shard {i}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("(shard {i}/3)")), "{}", stderr(&o));
    }
    assert_eq!(count(&whole, "orders"), 12 * 22 + 1);
    assert_eq!(count(&sharded, "orders"), count(&whole, "orders"));
    assert_eq!(count(&sharded, "customers"), count(&whole, "customers"));
    // Each shard's loads are exactly-once on their own: re-running shard 1 adds nothing.
    let o = load(&bucket, &sharded, &["--shard", "1/3"], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(count(&sharded, "orders"), 12 * 22 + 1);
}

/// The ledger is read with a query; one that never finishes (the proxy answers every
/// look at it with `jobComplete: false`) stops the run after 10 waits, with a message,
/// before anything is loaded.
#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_ledger_query_that_never_finishes_stops_the_run_with_a_message() {
    let bucket = bucket_with_samples(&["customers.xml"]);
    let ds = dataset();
    let o = load(&bucket, &ds, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let bq = std::env::var("BIGQUERY_EMULATOR_HOST").unwrap();
    let proxy = proxy::FaultProxy::start(bq.trim_start_matches("http://"), &format!("/projects/{PROJECT}/queries"));
    proxy.answer(Some(r#"{"jobComplete": false, "jobReference": {"projectId": "test-project", "jobId": "q1"}}"#));
    put(&bucket, "in/more.xml", std::fs::read(format!("{SAMPLE}/orders.xml")).unwrap());
    let o = load(&bucket, &ds, &[], &[("BIGQUERY_EMULATOR_HOST", proxy.host().as_str())]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("the query did not finish within 10 minutes"), "{}", stderr(&o));
    assert_eq!(proxy.answered.load(Ordering::SeqCst), 11, "the query, then 10 looks at it");
    assert_eq!(count(&ds, "orders"), 0, "nothing loaded");
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn job_polling_stops_at_the_job_timeout_and_leaves_the_job_running() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "customers.xml", "orders.xml"]);
    let ds = dataset();
    // The emulator finishes every job at once: the proxy answers each look at a job with RUNNING.
    let bq = std::env::var("BIGQUERY_EMULATOR_HOST").unwrap();
    let proxy = proxy::FaultProxy::start(
        bq.trim_start_matches("http://"),
        &format!("GET /bigquery/v2/projects/{PROJECT}/jobs/xml2bq_"),
    );
    proxy.answer(Some(
        r#"{"kind": "bigquery#job", "jobReference": {"projectId": "test-project", "jobId": "x"},
            "status": {"state": "RUNNING"}}"#,
    ));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let host = proxy.host();
    let start = std::time::Instant::now();
    let o = load(
        &bucket,
        &ds,
        &["--job-timeout", "2s", "--report", report.to_str().unwrap()],
        &[("BIGQUERY_EMULATOR_HOST", host.as_str())],
    );
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    let err = stderr(&o);
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let loads = r["loads"].as_array().unwrap();
    assert_eq!(loads.len(), 2);
    for (l, table) in loads.iter().zip(["customers", "orders"]) {
        let id = l["job_id"].as_str().unwrap();
        assert!(id.starts_with(&format!("xml2bq_{table}_")), "{id}");
        assert_eq!(l["state"], "failed");
        assert_eq!(
            l["error"].as_str().unwrap(),
            format!(
                "load job {id} did not finish within --job-timeout 2s; it was left running (not cancelled): \
                 see it with `bq show -j {PROJECT}:{id}`. Re-running the same command picks this job up \
                 (it waits for it and loads nothing twice)"
            )
        );
        assert!(err.contains(&format!("{table} -> {PROJECT}.{ds}.{table}: NOT LOADED: load job {id} ")), "{err}");
    }
    assert!(err.contains("it was left running (not cancelled)"), "{err}");
    assert!(proxy.answered.load(Ordering::SeqCst) >= 4, "each job was looked at more than once");
    // The proxy stood in for jobs that were never submitted: nothing is in the tables.
    assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (0, 0));
}

#[test]
#[ignore = "needs the emulators: run ./scripts/test.sh"]
fn a_failed_cleanup_of_staged_parts_is_a_warning_not_a_failed_table() {
    let bucket = bucket_with_samples(&["customer-orders.xml", "customers.xml", "orders.xml"]);
    let ds = dataset();
    // Only the deletes of the staged parts fail (object names are one encoded path segment).
    let gcs = std::env::var("STORAGE_EMULATOR_HOST").unwrap();
    let proxy = proxy::FaultProxy::start(
        gcs.trim_start_matches("http://"),
        &format!("DELETE /storage/v1/b/{bucket}/o/stage%2F"),
    );
    proxy.arm(true);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let stage = format!("gs://{bucket}/stage");
    let host = proxy.host();
    let o = load(
        &bucket,
        &ds,
        &["--staging", &stage, "--report", report.to_str().unwrap()],
        &[("STORAGE_EMULATOR_HOST", host.as_str()), ("XML2BQ_RETRY_MAX_TIMES", "1")],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!((count(&ds, "customers"), count(&ds, "orders")), (5, 23));
    // Two parts per table (customer-orders.xml and customers.xml / orders.xml), each delete tried twice.
    assert_eq!(proxy.refused.load(Ordering::SeqCst), 8);
    assert_eq!(names(&bucket, "stage/").len(), 4, "the parts are still staged");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["exit_code"], 0);
    let loads = r["loads"].as_array().unwrap();
    assert_eq!(loads.len(), 2);
    for (l, table) in loads.iter().zip(["customers", "orders"]) {
        let id = l["job_id"].as_str().unwrap();
        assert_eq!(l["state"], "loaded");
        assert_eq!(l["output_rows"], if table == "customers" { 5 } else { 23 });
        assert!(l.get("error").is_none());
        let warnings = l["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1);
        let w = warnings[0].as_str().unwrap();
        let expected = format!(
            "2 of 2 staged parts could not be deleted after the load (the rows are loaded); \
             delete them with `gcloud storage rm -r gs://{bucket}/stage/{id}/`: DELETE http://{host}/storage/v1/b/{bucket}/o/stage%2F{id}%2F"
        );
        assert!(w.starts_with(&expected), "{w}");
        assert!(w.contains("HTTP 503"), "{w}");
        assert!(
            err.contains(&format!("{table} -> {PROJECT}.{ds}.{table}: loaded ({} rows, job {id})", l["rows"])),
            "{err}"
        );
        assert!(err.contains(&format!("    warning: {w}\n")), "{err}");
    }
}
