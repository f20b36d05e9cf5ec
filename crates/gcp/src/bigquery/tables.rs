//! Tables: create them from the XSD-derived schema when missing, add the optional columns
//! our schema has and an existing table lacks, and refuse an existing table whose schema
//! cannot take our rows — before any data moves.
//!
//! Schema evolution: new NULLABLE or REPEATED columns (also inside RECORDs) are added
//! with `tables.patch` in [`prepare`], before any input is read, rather than with
//! `schemaUpdateOptions: ["ALLOW_FIELD_ADDITION"]` on the load jobs: the change is explicit
//! (reported per table, checked before it is made), works for every write mode (BigQuery
//! takes ALLOW_FIELD_ADDITION only with WRITE_APPEND, or WRITE_TRUNCATE on a partition),
//! and the load jobs stay strict (a job never changes a schema behind the check).
//! The emulator, local-bigquery 0.3.2, was tried with both: each adds top-level columns,
//! and each silently ignores a field added inside an existing RECORD (the load option
//! even drops its values). The patched table is therefore read back, and a column it
//! still lacks stops the run with a message, before anything moves.

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

/// How an existing table's schema stands to ours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Why the table cannot take our rows (empty: it can, once `added` is added).
    pub problems: Vec<String>,
    /// The columns of ours it lacks that can be added (NULLABLE or REPEATED; a RECORD's
    /// fields come with it), as dotted paths (`Fax`, `ShipInfo.Zip`).
    pub added: Vec<String>,
}

/// Compares `ours` with the `existing` table's fields. A column we write that the table
/// lacks is an addition when it is NULLABLE or REPEATED (inside RECORDs too), a problem
/// when it is REQUIRED: BigQuery adds no REQUIRED column to an existing table.
pub fn compare(ours: &[TableFieldSchema], existing: &[TableFieldSchema], path: &str) -> Comparison {
    let mut out = Comparison::default();
    let find = |name: &str| existing.iter().find(|f| f.name.eq_ignore_ascii_case(name));
    for f in ours {
        let p = format!("{path}{}", f.name);
        let Some(e) = find(&f.name) else {
            if f.mode() == "REQUIRED" {
                out.problems.push(format!(
                    "column {p} is missing, and xml2bq writes it REQUIRED: BigQuery adds only NULLABLE or \
                     REPEATED columns to an existing table, so xml2bq does not add it. Add it to the table \
                     yourself as NULLABLE (`bq update` with the table's schema plus {p}, type {}, mode \
                     NULLABLE) and xml2bq loads into it",
                    norm_type(&f.field_type)
                ));
            } else {
                out.added.push(p);
            }
            continue;
        };
        let (ot, et) = (norm_type(&f.field_type), norm_type(&e.field_type));
        if ot != et {
            out.problems.push(format!("column {p} is {et}, xml2bq writes {ot}"));
            continue;
        }
        match (f.mode(), e.mode()) {
            (a, b) if a == b => {}
            ("REQUIRED", "NULLABLE") => {}
            (a, b) => out.problems.push(format!("column {p} is {b}, xml2bq writes {a}")),
        }
        if ot == "RECORD" {
            let inner = compare(&f.fields, &e.fields, &format!("{p}."));
            out.problems.extend(inner.problems);
            out.added.extend(inner.added);
        }
    }
    for e in existing {
        if e.mode() == "REQUIRED" && !ours.iter().any(|f| f.name.eq_ignore_ascii_case(&e.name)) {
            out.problems.push(format!("column {path}{} is REQUIRED but xml2bq has no value for it", e.name));
        }
    }
    out
}

fn name_of(field: &Value) -> &str {
    field.get("name").and_then(Value::as_str).unwrap_or_default()
}

/// The schema to patch an existing table with: its `existing` fields first, unchanged
/// (every property BigQuery sent kept: descriptions, policy tags...), then the fields of
/// `ours` it lacks appended; a RECORD both have is merged the same way. For tables
/// [`compare`] found no problem with.
pub fn merged(existing: &[Value], ours: &[Value]) -> Vec<Value> {
    let find = |fields: &[Value], name: &str| fields.iter().position(|f| name_of(f).eq_ignore_ascii_case(name));
    let mut out: Vec<Value> = existing
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let inner = find(ours, name_of(&e)).and_then(|i| ours[i].get("fields")).and_then(Value::as_array);
            if let (Some(theirs), Some(inner)) = (e.get("fields").and_then(Value::as_array), inner) {
                e["fields"] = Value::Array(merged(theirs, inner));
            }
            e
        })
        .collect();
    for f in ours {
        if find(existing, name_of(f)).is_none() {
            out.push(f.clone());
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
    /// The BigQuery table.
    pub table: String,
    pub created: bool,
    /// The columns added to the existing table (dotted paths): the rows it held read NULL
    /// (or an empty array) in them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
}

/// An existing table as `tables.get` answered it: typed, and its fields verbatim.
fn read_table(answer: Value) -> Result<(Table, Vec<Value>)> {
    let fields = answer.pointer("/schema/fields").and_then(Value::as_array).cloned().unwrap_or_default();
    let table = serde_json::from_value(answer)
        .map_err(|e| CloudError::Other(format!("a table's description does not read: {e}")))?;
    Ok((table, fields))
}

/// Checks the dataset and every table; creates missing tables (with partitioning and
/// clustering where the table has those columns) and adds to existing ones the NULLABLE
/// and REPEATED columns of ours they lack. Any incompatibility is an error naming each
/// problem; nothing is changed then.
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
    // Per table: None when missing, else its fields verbatim and the columns to add.
    let mut existing: Vec<Option<(Vec<Value>, Vec<String>)>> = vec![];
    let mut problems = vec![];
    for (t, name) in opts.tables.iter().enumerate() {
        let url = cloud.bq_url(&d.project, &format!("/datasets/{}/tables/{}", d.dataset, name));
        match cloud.json::<Value>(&cloud.bigquery, Method::GET, &url, None).await {
            Ok(answer) => {
                let (table, fields) = read_table(answer)?;
                let c = compare(&ours[t], &table.schema.fields, "");
                for p in c.problems {
                    problems.push(format!("{}.{}.{name}: {p}", d.project, d.dataset));
                }
                existing.push(Some((fields, c.added)));
            }
            Err(e) if e.status() == Some(404) => existing.push(None),
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
        if let Some((fields, added)) = existing[t].take() {
            if !added.is_empty() {
                add_columns(cloud, opts, t, &ours[t], fields, &added).await?;
            }
            out.push(Prepared { table: name.clone(), created: false, added });
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
        out.push(Prepared { table: name.clone(), created: true, added: vec![] });
    }
    Ok(out)
}

/// Adds the `added` columns to table `t` (whose fields were `fields`) with `tables.patch`
/// of the merged schema, and reads the answer back: every column of ours must be there.
/// A patch that fails (another run changed the schema meanwhile) is retried on the table
/// read again; a table that has the columns by then (a concurrent shard added them) is fine.
async fn add_columns(
    cloud: &Cloud,
    opts: &LoadOptions,
    t: usize,
    ours: &[TableFieldSchema],
    mut fields: Vec<Value>,
    added: &[String],
) -> Result<()> {
    let d = &opts.dest;
    let name = &opts.tables[t];
    let label = format!("{}.{}.{name}", d.project, d.dataset);
    let url = cloud.bq_url(&d.project, &format!("/datasets/{}/tables/{}", d.dataset, name));
    let mut attempt = 0;
    loop {
        let body = json!({ "schema": { "fields": merged(&fields, &opts.schemas[t]) } });
        let err = match cloud.json::<Table>(&cloud.bigquery, Method::PATCH, &url, Some(&body)).await {
            Ok(table) => {
                let c = compare(ours, &table.schema.fields, "");
                if c.problems.is_empty() && c.added.is_empty() {
                    return Ok(());
                }
                let mut left = c.added;
                left.extend(c.problems);
                return Err(CloudError::Other(format!(
                    "{label}: the schema update adding {} was accepted, but the table still lacks {} \
                     (as the emulator local-bigquery does with a field inside an existing RECORD); \
                     nothing was loaded or moved",
                    added.join(", "),
                    left.join("; ")
                )));
            }
            Err(e) => e,
        };
        let answer = cloud.json::<Value>(&cloud.bigquery, Method::GET, &url, None).await?;
        let (table, now) = read_table(answer)?;
        let c = compare(ours, &table.schema.fields, "");
        if c.problems.is_empty() && c.added.is_empty() {
            return Ok(());
        }
        if attempt == 2 || !c.problems.is_empty() {
            return Err(CloudError::Other(format!(
                "{label}: adding the columns {} failed (nothing was loaded or moved): {err}",
                added.join(", ")
            )));
        }
        fields = now;
        attempt += 1;
    }
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

/// Sets table `name` of the destination to expire (BigQuery deletes it) at `at_ms`,
/// milliseconds since the epoch.
pub async fn expire(cloud: &Cloud, opts: &LoadOptions, name: &str, at_ms: u64) -> Result<()> {
    let url = table_url(cloud, opts, name);
    let body = serde_json::json!({ "expirationTime": at_ms.to_string() });
    // `json` retries it (the same expiry set again is the same table): no retry around it,
    // which would try it the square of the retry count.
    cloud.json::<IgnoredAny>(&cloud.bigquery, Method::PATCH, &url, Some(&body)).await.map(|_| ())
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
        assert_eq!(compare(&ours, &same, ""), Comparison::default());
        let looser = json!([
            {"name": "a", "type": "INTEGER", "mode": "NULLABLE"},
            {"name": "R", "type": "STRUCT", "fields": [{"name": "x", "type": "NUMERIC"}]},
            {"name": "extra", "type": "STRING"}
        ]);
        assert_eq!(compare(&ours, &fields(looser), ""), Comparison::default());
        let bad = json!([
            {"name": "A", "type": "STRING", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "x", "type": "FLOAT64"}]},
            {"name": "must", "type": "STRING", "mode": "REQUIRED"}
        ]);
        let c = compare(&ours, &fields(bad), "");
        assert_eq!(
            c.problems,
            vec![
                "column A is STRING, xml2bq writes INT64".to_string(),
                "column R.x is FLOAT64, xml2bq writes NUMERIC".to_string(),
                "column must is REQUIRED but xml2bq has no value for it".to_string(),
            ]
        );
        assert!(c.added.is_empty());
    }

    /// Columns the table lacks: NULLABLE and REPEATED ones (a new RECORD whole, with its
    /// REQUIRED fields; a field inside an existing RECORD) are additions, REQUIRED ones problems.
    #[test]
    fn missing_columns_are_added_unless_required() {
        let ours = fields(json!([
            {"name": "A", "type": "INT64", "mode": "REQUIRED"},
            {"name": "Fax", "type": "STRING", "mode": "NULLABLE"},
            {"name": "Tags", "type": "STRING", "mode": "REPEATED"},
            {"name": "New", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "k", "type": "STRING", "mode": "REQUIRED"}]},
            {"name": "R", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "x", "type": "NUMERIC", "mode": "NULLABLE"},
                {"name": "y", "type": "DATE"},
                {"name": "S", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "z", "type": "BOOL", "mode": "REPEATED"}]}
            ]}
        ]));
        let old = fields(json!([
            {"name": "A", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "x", "type": "NUMERIC"},
                {"name": "S", "type": "RECORD", "fields": []}
            ]}
        ]));
        let c = compare(&ours, &old, "");
        assert_eq!(c.problems, Vec::<String>::new());
        assert_eq!(c.added, vec!["Fax", "Tags", "New", "R.y", "R.S.z"]);

        let required = fields(json!([
            {"name": "A", "type": "INT64", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "m", "type": "STRING", "mode": "REQUIRED"}]}
        ]));
        let c = compare(&required, &fields(json!([{"name": "R", "type": "RECORD", "fields": []}])), "");
        assert!(c.added.is_empty());
        assert_eq!(c.problems.len(), 2, "{:?}", c.problems);
        assert!(c.problems[0].starts_with("column A is missing, and xml2bq writes it REQUIRED"), "{}", c.problems[0]);
        assert!(c.problems[0].contains("as NULLABLE"), "{}", c.problems[0]);
        assert!(c.problems[1].starts_with("column R.m is missing, and xml2bq writes it REQUIRED"), "{}", c.problems[1]);
    }

    /// The patch schema: the table's fields first, verbatim (even what xml2bq does not read),
    /// then ours appended, RECORDs merged the same way; merging again changes nothing.
    #[test]
    fn the_merged_schema_keeps_the_table_first() {
        let table = json!([
            {"name": "a", "type": "INTEGER", "mode": "REQUIRED", "description": "kept", "policyTags": {"names": ["t"]}},
            {"name": "extra", "type": "STRING"},
            {"name": "R", "type": "RECORD", "mode": "REPEATED", "description": "r", "fields": [{"name": "x", "type": "NUMERIC"}]}
        ]);
        let ours = json!([
            {"name": "A", "type": "INT64", "mode": "REQUIRED"},
            {"name": "R", "type": "RECORD", "mode": "REPEATED", "fields": [
                {"name": "x", "type": "NUMERIC", "mode": "NULLABLE"},
                {"name": "y", "type": "DATE", "mode": "NULLABLE"}
            ]},
            {"name": "Fax", "type": "STRING", "mode": "NULLABLE"}
        ]);
        let m = merged(table.as_array().unwrap(), ours.as_array().unwrap());
        let want = json!([
            {"name": "a", "type": "INTEGER", "mode": "REQUIRED", "description": "kept", "policyTags": {"names": ["t"]}},
            {"name": "extra", "type": "STRING"},
            {"name": "R", "type": "RECORD", "mode": "REPEATED", "description": "r", "fields": [
                {"name": "x", "type": "NUMERIC"},
                {"name": "y", "type": "DATE", "mode": "NULLABLE"}
            ]},
            {"name": "Fax", "type": "STRING", "mode": "NULLABLE"}
        ]);
        assert_eq!(Value::Array(m.clone()), want);
        assert_eq!(merged(&m, ours.as_array().unwrap()), m);
        let c = compare(&fields(ours), &fields(Value::Array(m)), "");
        assert_eq!(c, Comparison::default());
    }
}
