//! Tables: create them from the XSD-derived schema when missing, and refuse an
//! existing table whose schema cannot take our rows — before any data moves.

use super::LoadOptions;
use crate::{Cloud, CloudError, Result};
use reqwest::Method;
use serde_json::{Value, json};

fn norm_type(t: &str) -> &str {
    match t {
        "INTEGER" => "INT64",
        "FLOAT" => "FLOAT64",
        "BOOLEAN" => "BOOL",
        "STRUCT" => "RECORD",
        other => other,
    }
}

fn mode(f: &Value) -> &str {
    f["mode"].as_str().unwrap_or("NULLABLE")
}

/// Why `existing` cannot take rows of `ours` (empty: compatible).
pub fn incompatibilities(ours: &[Value], existing: &[Value], path: &str) -> Vec<String> {
    let mut out = vec![];
    let find = |name: &str| existing.iter().find(|f| f["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)));
    for f in ours {
        let name = f["name"].as_str().unwrap_or_default();
        let p = format!("{path}{name}");
        let Some(e) = find(name) else {
            out.push(format!("column {p} is missing"));
            continue;
        };
        let (ot, et) =
            (norm_type(f["type"].as_str().unwrap_or_default()), norm_type(e["type"].as_str().unwrap_or_default()));
        if ot != et {
            out.push(format!("column {p} is {et}, xml2bq writes {ot}"));
            continue;
        }
        match (mode(f), mode(e)) {
            (a, b) if a == b => {}
            ("REQUIRED", "NULLABLE") => {}
            (a, b) => out.push(format!("column {p} is {b}, xml2bq writes {a}")),
        }
        if ot == "RECORD" {
            let (of, ef) = (
                f["fields"].as_array().cloned().unwrap_or_default(),
                e["fields"].as_array().cloned().unwrap_or_default(),
            );
            out.extend(incompatibilities(&of, &ef, &format!("{p}.")));
        }
    }
    for e in existing {
        let name = e["name"].as_str().unwrap_or_default();
        if mode(e) == "REQUIRED"
            && !ours.iter().any(|f| f["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        {
            out.push(format!("column {path}{name} is REQUIRED but xml2bq has no value for it"));
        }
    }
    out
}

fn has_column(fields: &[Value], name: &str) -> Option<String> {
    fields.iter().find(|f| f["name"] == name).map(|f| f["type"].as_str().unwrap_or_default().to_string())
}

/// What `prepare` did to one table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Prepared {
    pub table: String,
    pub created: bool,
}

/// Checks the dataset and every table; creates missing tables (with partitioning and
/// clustering where the table has those columns). Any incompatibility is an error
/// naming each problem; nothing is changed then.
pub async fn prepare(cloud: &Cloud, opts: &LoadOptions) -> Result<Vec<Prepared>> {
    let d = &opts.dest;
    let ds_url = cloud.bq_url(&d.project, &format!("/datasets/{}", d.dataset));
    if let Err(e) = cloud.json::<Value>(&cloud.bigquery, Method::GET, &ds_url, None).await {
        return Err(match e.status() {
            Some(404) => CloudError::Other(format!(
                "dataset {}.{} not found; create it first: bq mk --dataset {}:{}",
                d.project, d.dataset, d.project, d.dataset
            )),
            _ => e,
        });
    }
    // Partitioning and clustering go to the tables that have the columns.
    if let Some(p) = &opts.partition_by {
        let ok = opts
            .schemas
            .iter()
            .any(|s| has_column(s, p).is_some_and(|ty| matches!(ty.as_str(), "DATE" | "DATETIME" | "TIMESTAMP")));
        if !ok {
            return Err(CloudError::Other(format!(
                "--partition-by {p}: no table has a top-level DATE, DATETIME or TIMESTAMP column of that name"
            )));
        }
    }
    let mut existing = vec![];
    let mut problems = vec![];
    for (t, name) in opts.tables.iter().enumerate() {
        let url = cloud.bq_url(&d.project, &format!("/datasets/{}/tables/{}", d.dataset, name));
        match cloud.json::<Value>(&cloud.bigquery, Method::GET, &url, None).await {
            Ok(table) => {
                let theirs = table["schema"]["fields"].as_array().cloned().unwrap_or_default();
                for p in incompatibilities(&opts.schemas[t], &theirs, "") {
                    problems.push(format!("{}.{}.{name}: {p}", d.project, d.dataset));
                }
                existing.push(true);
            }
            Err(e) if e.status() == Some(404) => existing.push(false),
            Err(e) => return Err(e),
        }
    }
    if !problems.is_empty() {
        return Err(CloudError::Other(format!(
            "the destination cannot take these rows (nothing was loaded or moved):\n  {}\n\
             Compare with `xml2bq schema`; load into a new table (--table NAME=NEW) or fix the existing one.",
            problems.join("\n  ")
        )));
    }
    let mut out = vec![];
    for (t, name) in opts.tables.iter().enumerate() {
        if existing[t] {
            out.push(Prepared { table: name.clone(), created: false });
            continue;
        }
        let fields = opts.schemas[t].clone();
        let mut body = json!({
            "tableReference": { "projectId": d.project, "datasetId": d.dataset, "tableId": name },
            "schema": { "fields": fields },
            "description": opts.description,
        });
        if let Some(p) = &opts.partition_by
            && has_column(&fields, p).is_some()
        {
            body["timePartitioning"] = json!({ "type": "DAY", "field": p });
        }
        if !opts.cluster_by.is_empty() && opts.cluster_by.iter().all(|c| has_column(&fields, c).is_some()) {
            body["clustering"] = json!({ "fields": opts.cluster_by });
        }
        let url = cloud.bq_url(&d.project, &format!("/datasets/{}/tables", d.dataset));
        match cloud.json::<Value>(&cloud.bigquery, Method::POST, &url, Some(&body)).await {
            Ok(_) => {}
            Err(e) if e.status() == Some(409) => {} // created meanwhile (another shard)
            Err(e) => return Err(e),
        }
        out.push(Prepared { table: name.clone(), created: true });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_rules() {
        let ours = json!([
            {"name": "A", "type": "INT64", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "x", "type": "NUMERIC", "mode": "NULLABLE"}]}
        ]);
        let same = ours.clone();
        assert!(incompatibilities(ours.as_array().unwrap(), same.as_array().unwrap(), "").is_empty());
        let looser = json!([
            {"name": "a", "type": "INTEGER", "mode": "NULLABLE"},
            {"name": "R", "type": "STRUCT", "fields": [{"name": "x", "type": "NUMERIC"}]},
            {"name": "extra", "type": "STRING"}
        ]);
        assert!(incompatibilities(ours.as_array().unwrap(), looser.as_array().unwrap(), "").is_empty());
        let bad = json!([
            {"name": "A", "type": "STRING", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "x", "type": "FLOAT64"}]},
            {"name": "must", "type": "STRING", "mode": "REQUIRED"}
        ]);
        let p = incompatibilities(ours.as_array().unwrap(), bad.as_array().unwrap(), "");
        assert_eq!(
            p,
            vec![
                "column A is STRING, xml2bq writes INT64".to_string(),
                "column R.x is FLOAT64, xml2bq writes NUMERIC".to_string(),
                "column must is REQUIRED but xml2bq has no value for it".to_string(),
            ]
        );
    }
}
