//! The ledger table of a BigQuery destination, `DATASET._xml2bq_ledger`: an append-only
//! log of which input versions went into which tables by which jobs.
//!
//! Rows are only ever appended, each set by a load job whose id is derived from the
//! batch and the kind of record, so writing the same record twice (a retry, a re-run,
//! two shards finishing the same batch) adds it once. A batch is recorded as an
//! `intent` (one row per input and table, with the job id and row count) before any of
//! its load jobs is submitted, and as `done` once every table's job has succeeded;
//! `forgotten` makes an input loadable again, `abandoned` closes an intent whose jobs
//! never ran and whose inputs changed. What this log means is decided by the caller.

use super::{LoadOptions, jobs};
use crate::{Cloud, CloudError, Result};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::Path;

/// The ledger table's name in the destination dataset.
pub const TABLE: &str = "_xml2bq_ledger";

/// What one ledger row records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One input and table of a batch about to be loaded.
    Intent,
    /// Every table of the batch is loaded.
    Done,
    /// The input (`uri`) may load again.
    Forgotten,
    /// The batch's jobs never ran and will not: its inputs are free again.
    Abandoned,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Intent => "intent",
            Kind::Done => "done",
            Kind::Forgotten => "forgotten",
            Kind::Abandoned => "abandoned",
        }
    }
}

/// One ledger row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub batch: String,
    pub kind: Kind,
    pub uri: Option<String>,
    pub version: Option<String>,
    /// The BigQuery table (intent rows).
    pub table_name: Option<String>,
    pub job_id: Option<String>,
    pub row_count: Option<u64>,
    /// Microseconds since the epoch when the row was written.
    pub recorded_us: i64,
    pub tool: String,
}

impl Row {
    /// A row of `kind` for `batch`, stamped now.
    pub fn new(batch: &str, kind: Kind) -> Row {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Row {
            batch: batch.to_string(),
            kind,
            uri: None,
            version: None,
            table_name: None,
            job_id: None,
            row_count: None,
            recorded_us: i64::try_from(now.as_micros()).unwrap_or(i64::MAX),
            tool: format!("xml2bq {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The ledger table's schema.
pub fn fields() -> Vec<Value> {
    let f = |name: &str, ty: &str, mode: &str| json!({ "name": name, "type": ty, "mode": mode });
    vec![
        f("batch", "STRING", "REQUIRED"),
        f("kind", "STRING", "REQUIRED"),
        f("uri", "STRING", "NULLABLE"),
        f("version", "STRING", "NULLABLE"),
        f("table_name", "STRING", "NULLABLE"),
        f("job_id", "STRING", "NULLABLE"),
        f("row_count", "INT64", "NULLABLE"),
        f("recorded_us", "INT64", "REQUIRED"),
        f("tool", "STRING", "NULLABLE"),
    ]
}

fn table_url(cloud: &Cloud, opts: &LoadOptions) -> String {
    cloud.bq_url(&opts.dest.project, &format!("/datasets/{}/tables", crate::encode(&opts.dest.dataset)))
}

/// Creates the ledger table when it is missing (another run creating it meanwhile is fine).
pub async fn prepare(cloud: &Cloud, opts: &LoadOptions) -> Result<()> {
    let url = format!("{}/{TABLE}", table_url(cloud, opts));
    match cloud.json::<Value>(&cloud.bigquery, Method::GET, &url, None).await {
        Ok(_) => return Ok(()),
        Err(e) if e.status() == Some(404) => {}
        Err(e) => return Err(e),
    }
    let body = json!({
        "tableReference": { "projectId": opts.dest.project, "datasetId": opts.dest.dataset, "tableId": TABLE },
        "schema": { "fields": fields() },
        "description": "xml2bq's ledger: which input versions were loaded into this dataset's tables, by which jobs",
    });
    super::tables::create(cloud, opts, TABLE, &body).await
}

/// Every row of the ledger (empty when the table does not exist yet).
pub async fn read(cloud: &Cloud, opts: &LoadOptions) -> Result<Vec<Row>> {
    let url = format!("{}/{TABLE}", table_url(cloud, opts));
    match cloud.json::<Value>(&cloud.bigquery, Method::GET, &url, None).await {
        Ok(_) => {}
        Err(e) if e.status() == Some(404) => return Ok(vec![]),
        Err(e) => return Err(e),
    }
    let sql = format!(
        "SELECT batch, kind, uri, version, table_name, job_id, row_count, recorded_us, tool FROM {}.{TABLE}",
        opts.dest.dataset
    );
    let cells = cloud.bq_query(&opts.dest.project, &sql).await?;
    cells.iter().map(|r| parse_row(r)).collect()
}

fn parse_row(cells: &[Value]) -> Result<Row> {
    let bad = |what: &str| CloudError::Other(format!("ledger {TABLE}: unreadable row ({what}): {cells:?}"));
    let text = |i: usize| cells.get(i).and_then(Value::as_str).map(str::to_string);
    let int =
        |i: usize| cells.get(i).and_then(|v| v.as_str().and_then(|s| s.parse::<i64>().ok()).or_else(|| v.as_i64()));
    let kind = match text(1).as_deref() {
        Some("intent") => Kind::Intent,
        Some("done") => Kind::Done,
        Some("forgotten") => Kind::Forgotten,
        Some("abandoned") => Kind::Abandoned,
        _ => return Err(bad("kind")),
    };
    Ok(Row {
        batch: text(0).ok_or_else(|| bad("batch"))?,
        kind,
        uri: text(2),
        version: text(3),
        table_name: text(4),
        job_id: text(5),
        row_count: int(6).and_then(|n| u64::try_from(n).ok()),
        recorded_us: int(7).ok_or_else(|| bad("recorded_us"))?,
        tool: text(8).unwrap_or_default(),
    })
}

/// Appends `rows` (all of one batch and kind) by a load job whose id is derived from the
/// batch and kind: appending the same record again adds nothing. `work` holds the
/// newline-delimited JSON sent.
pub async fn append(cloud: &Cloud, opts: &LoadOptions, rows: &[Row], work: &Path) -> Result<()> {
    let Some(first) = rows.first() else { return Ok(()) };
    let id = format!("xml2bq-ledger_{}_{}", first.kind.as_str(), first.batch);
    let mut ndjson = vec![];
    for r in rows {
        serde_json::to_writer(&mut ndjson, r).map_err(|e| CloudError::Other(e.to_string()))?;
        ndjson.push(b'\n');
    }
    let file = work.join(format!("{id}.ndjson"));
    std::fs::write(&file, &ndjson).map_err(|e| CloudError::Other(format!("{}: {e}", file.display())))?;
    let load = json!({
        "destinationTable": { "projectId": opts.dest.project, "datasetId": opts.dest.dataset, "tableId": TABLE },
        "sourceFormat": "NEWLINE_DELIMITED_JSON",
        "writeDisposition": "WRITE_APPEND",
        "createDisposition": "CREATE_NEVER",
    });
    jobs::upload(cloud, opts, &id, load, &file).await?;
    let job = jobs::wait(cloud, opts, &id).await?;
    let _ = std::fs::remove_file(&file);
    match job.failure() {
        Some(f) => Err(CloudError::Other(format!("writing the ledger {TABLE} (job {id}) failed: {f}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_query_cells() {
        let cells = vec![
            json!("b1"),
            json!("intent"),
            json!("gs://b/a.xml"),
            json!("7"),
            json!("orders"),
            json!("xml2bq_orders_x_0"),
            json!("23"),
            json!("1795711568000000"),
            json!("xml2bq 0.1.0"),
        ];
        let r = parse_row(&cells).unwrap();
        assert_eq!(r.kind, Kind::Intent);
        assert_eq!((r.row_count, r.recorded_us), (Some(23), 1_795_711_568_000_000));
        assert_eq!(serde_json::to_value(Kind::Abandoned).unwrap(), json!("abandoned"));
        let mut nulls = cells.clone();
        nulls[2] = Value::Null;
        nulls[6] = Value::Null;
        assert_eq!(parse_row(&nulls).unwrap().uri, None);
        nulls[1] = json!("other");
        assert!(parse_row(&nulls).is_err());
    }
}
