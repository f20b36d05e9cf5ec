//! Tables: create them from the XSD-derived schema when missing, and refuse an
//! existing table whose schema cannot take our rows — before any data moves.

use super::LoadOptions;
use super::model::{Table, TableFieldSchema};
use crate::{Cloud, CloudError, Result};
use reqwest::Method;
use serde::de::IgnoredAny;
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

/// Why `existing` cannot take rows of `ours` (empty: compatible).
pub fn incompatibilities(ours: &[TableFieldSchema], existing: &[TableFieldSchema], path: &str) -> Vec<String> {
    let mut out = vec![];
    let find = |name: &str| existing.iter().find(|f| f.name.eq_ignore_ascii_case(name));
    for f in ours {
        let p = format!("{path}{}", f.name);
        let Some(e) = find(&f.name) else {
            out.push(format!("column {p} is missing"));
            continue;
        };
        let (ot, et) = (norm_type(&f.field_type), norm_type(&e.field_type));
        if ot != et {
            out.push(format!("column {p} is {et}, xml2bq writes {ot}"));
            continue;
        }
        match (f.mode(), e.mode()) {
            (a, b) if a == b => {}
            ("REQUIRED", "NULLABLE") => {}
            (a, b) => out.push(format!("column {p} is {b}, xml2bq writes {a}")),
        }
        if ot == "RECORD" {
            out.extend(incompatibilities(&f.fields, &e.fields, &format!("{p}.")));
        }
    }
    for e in existing {
        if e.mode() == "REQUIRED" && !ours.iter().any(|f| f.name.eq_ignore_ascii_case(&e.name)) {
            out.push(format!("column {path}{} is REQUIRED but xml2bq has no value for it", e.name));
        }
    }
    out
}

/// Our schema's fields (`LoadOptions::schemas`, the JSON sent) read as BigQuery answers them.
fn typed(fields: &[Value]) -> Result<Vec<TableFieldSchema>> {
    serde_json::from_value(Value::Array(fields.to_vec()))
        .map_err(|e| CloudError::Other(format!("a generated table schema does not read back: {e}")))
}

fn has_column<'a>(fields: &'a [TableFieldSchema], name: &str) -> Option<&'a str> {
    fields.iter().find(|f| f.name == name).map(|f| f.field_type.as_str())
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
    if let Err(e) = cloud.json::<IgnoredAny>(&cloud.bigquery, Method::GET, &ds_url, None).await {
        return Err(match e.status() {
            Some(404) => CloudError::Other(format!(
                "dataset {}.{} not found; create it first: bq mk --dataset {}:{}",
                d.project, d.dataset, d.project, d.dataset
            )),
            _ => e,
        });
    }
    let ours = opts.schemas.iter().map(|s| typed(s)).collect::<Result<Vec<_>>>()?;
    // Partitioning and clustering go to the tables that have the columns.
    if let Some(p) = &opts.partition_by {
        let ok =
            ours.iter().any(|s| has_column(s, p).is_some_and(|ty| matches!(ty, "DATE" | "DATETIME" | "TIMESTAMP")));
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
        match cloud.json::<Table>(&cloud.bigquery, Method::GET, &url, None).await {
            Ok(table) => {
                for p in incompatibilities(&ours[t], &table.schema.fields, "") {
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
        let mut body = json!({
            "tableReference": { "projectId": d.project, "datasetId": d.dataset, "tableId": name },
            "schema": { "fields": opts.schemas[t] },
            "description": opts.description,
        });
        if let Some(p) = &opts.partition_by
            && has_column(&ours[t], p).is_some()
        {
            body["timePartitioning"] = json!({ "type": "DAY", "field": p });
        }
        if !opts.cluster_by.is_empty() && opts.cluster_by.iter().all(|c| has_column(&ours[t], c).is_some()) {
            body["clustering"] = json!({ "fields": opts.cluster_by });
        }
        create(cloud, opts, name, &body).await?;
        out.push(Prepared { table: name.clone(), created: true });
    }
    Ok(out)
}

/// Creates table `name` of the destination from `body`. A table that exists by then
/// (another shard or run created it meanwhile: 409, or a failed commit of the racing
/// creation, as the emulator answers) is fine.
pub async fn create(cloud: &Cloud, opts: &LoadOptions, name: &str, body: &serde_json::Value) -> Result<()> {
    let d = &opts.dest;
    let url = cloud.bq_url(&d.project, &format!("/datasets/{}/tables", d.dataset));
    match cloud.json::<Table>(&cloud.bigquery, Method::POST, &url, Some(body)).await {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(409) => Ok(()),
        Err(e) => {
            let table = format!("{url}/{name}");
            match cloud.json::<Table>(&cloud.bigquery, Method::GET, &table, None).await {
                Ok(_) => Ok(()),
                Err(_) => Err(e),
            }
        }
    }
}

fn table_url(cloud: &Cloud, opts: &LoadOptions, name: &str) -> String {
    let d = &opts.dest;
    cloud.bq_url(&d.project, &format!("/datasets/{}/tables/{}", crate::encode(&d.dataset), crate::encode(name)))
}

/// Whether table `name` of the destination exists.
pub async fn exists(cloud: &Cloud, opts: &LoadOptions, name: &str) -> Result<bool> {
    match cloud.json::<IgnoredAny>(&cloud.bigquery, Method::GET, &table_url(cloud, opts, name), None).await {
        Ok(_) => Ok(true),
        Err(e) if e.status() == Some(404) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes table `name` of the destination; one that is gone already is fine.
pub async fn delete(cloud: &Cloud, opts: &LoadOptions, name: &str) -> Result<()> {
    let url = table_url(cloud, opts, name);
    crate::retry::idempotent(|| async {
        match cloud.send(&cloud.bigquery, Method::DELETE, &url, |r| r).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: Value) -> Vec<TableFieldSchema> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn compatibility_rules() {
        let ours = json!([
            {"name": "A", "type": "INT64", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "x", "type": "NUMERIC", "mode": "NULLABLE"}]}
        ]);
        let ours = fields(ours);
        let same = ours.clone();
        assert!(incompatibilities(&ours, &same, "").is_empty());
        let looser = json!([
            {"name": "a", "type": "INTEGER", "mode": "NULLABLE"},
            {"name": "R", "type": "STRUCT", "fields": [{"name": "x", "type": "NUMERIC"}]},
            {"name": "extra", "type": "STRING"}
        ]);
        assert!(incompatibilities(&ours, &fields(looser), "").is_empty());
        let bad = json!([
            {"name": "A", "type": "STRING", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "x", "type": "FLOAT64"}]},
            {"name": "must", "type": "STRING", "mode": "REQUIRED"}
        ]);
        let p = incompatibilities(&ours, &fields(bad), "");
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
