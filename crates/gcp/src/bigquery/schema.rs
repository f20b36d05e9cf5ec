//! BigQuery table schemas (`fields` JSON, as `bq mk --schema` takes them) from the
//! compiled schema's tables: columns, then the lineage columns.

use serde_json::{Value, json};
use xml2bq_core::schema::{Column, ColumnType, Table};

fn field(c: &Column) -> Value {
    let mut f = json!({ "name": c.name, "type": c.ty.bigquery(), "mode": c.mode.bigquery() });
    if let ColumnType::Record(cols) = c.ty {
        f["fields"] = Value::Array(cols.iter().map(field).collect());
    }
    f
}

/// The BigQuery fields of a table, lineage columns last.
pub fn fields(t: &Table) -> Vec<Value> {
    let mut out: Vec<Value> = t.columns.iter().map(field).collect();
    out.push(json!({ "name": "_source_uri", "type": "STRING", "mode": "REQUIRED" }));
    out.push(json!({ "name": "_record_ordinal", "type": "INT64", "mode": "REQUIRED" }));
    for a in t.ancestors {
        let mode = if a.nullable { "NULLABLE" } else { "REQUIRED" };
        out.push(json!({ "name": a.column, "type": "INT64", "mode": mode }));
    }
    out
}
