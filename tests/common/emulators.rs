//! Helpers for the tests against the emulators (fake-gcs-server and local-bigquery,
//! started by `./scripts/test.sh`): buckets, objects, datasets, queries.
#![allow(dead_code)]

use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use xml2bq_gcp::{Cloud, Connect};

pub const NEEDS: &str = "needs the emulators: run ./scripts/test.sh";
pub const PROJECT: &str = "test-project";

pub fn cloud() -> Arc<Cloud> {
    for v in ["STORAGE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST"] {
        assert!(std::env::var(v).is_ok(), "{v} is not set: {NEEDS}");
    }
    static CONNECT: Connect = Connect::new();
    CONNECT.get().unwrap()
}

/// A name no other test (or test process) uses.
pub fn uniq(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{tag}{}n{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A fresh, empty bucket.
pub fn bucket() -> String {
    let c = cloud();
    let bucket = uniq("b");
    let url = format!("{}/storage/v1/b?project={PROJECT}", c.storage.endpoint);
    c.block_on(c.json::<Value>(&c.storage, reqwest::Method::POST, &url, Some(&serde_json::json!({ "name": bucket }))))
        .unwrap();
    bucket
}

pub fn put(bucket: &str, name: &str, bytes: Vec<u8>) {
    let c = cloud();
    c.block_on(c.gcs_put(bucket, name, bytes.into(), "application/xml")).unwrap();
}

/// The object names under `prefix`.
pub fn names(bucket: &str, prefix: &str) -> Vec<String> {
    let c = cloud();
    c.block_on(c.gcs_list(bucket, prefix)).unwrap().into_iter().map(|o| o.name).collect()
}

/// A fresh dataset.
pub fn dataset() -> String {
    let c = cloud();
    let ds = uniq("ds_");
    let body = serde_json::json!({ "datasetReference": { "projectId": PROJECT, "datasetId": ds } });
    c.block_on(c.json::<Value>(&c.bigquery, reqwest::Method::POST, &c.bq_url(PROJECT, "/datasets"), Some(&body)))
        .unwrap();
    ds
}

pub fn query(sql: &str) -> Vec<Vec<Value>> {
    let c = cloud();
    c.block_on(c.bq_query(PROJECT, sql)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one integer a query returns.
pub fn scalar(sql: &str) -> i64 {
    query(sql)[0][0].as_str().unwrap().parse().unwrap()
}

pub fn count(ds: &str, table: &str) -> i64 {
    scalar(&format!("SELECT COUNT(*) FROM {ds}.{table}"))
}

/// (_source_uri, _record_ordinal) pairs of a table that occur more than once.
pub fn duplicates(ds: &str, table: &str) -> i64 {
    scalar(&format!(
        "SELECT COUNT(*) FROM (SELECT _source_uri, _record_ordinal FROM {ds}.{table} GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ))
}
