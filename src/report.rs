//! The run report: what happened to each file, totals, and the JSON written by `--report`.

use serde::Serialize;
use std::collections::BTreeMap;
use xml2bq_core::{DecodeError, Schema};
use xml2bq_gcp::bigquery::load::LoadState;

/// The state a file ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Parsed and written (load), or parsed and valid (validate).
    Loaded,
    Valid,
    /// Not read: the destination's ledger records this version as loaded (load without
    /// `--reload`).
    Skipped,
    /// Invalid: moved to the dead-letter location with a reason.
    DeadLettered,
    /// Invalid (validate only: nothing was moved).
    Invalid,
    /// Not processed: left in place, with the error (read or write failure).
    Failed,
}

/// One file's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub uri: String,
    pub status: Status,
    pub bytes: u64,
    /// Rows per table (only for loaded or valid files).
    pub rows: BTreeMap<String, u64>,
    /// Segments the file was decoded in on several cores (0: decoded in one pass).
    #[serde(skip_serializing_if = "is_zero")]
    pub segments: usize,
    /// Of the rows, those decoded by the segment workers (the others by the thread that
    /// stitches the file together: what lies between runs of rows, and their first rows).
    #[serde(skip_serializing_if = "is_zero")]
    pub segment_rows: u64,
    /// Output parts written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// Where `--archive` moved the file after its rows were committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived: Option<String>,
    /// Why the file, although loaded, could not be archived (it is left in place; the
    /// next run archives it without loading it again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_error: Option<String>,
    /// Why the file is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<DecodeError>,
    /// Why the file could not be processed (I/O), for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl FileReport {
    pub fn new(uri: &str, bytes: u64, status: Status) -> Self {
        FileReport {
            uri: uri.to_string(),
            status,
            bytes,
            rows: BTreeMap::new(),
            segments: 0,
            segment_rows: 0,
            outputs: vec![],
            dead_letter: None,
            archived: None,
            archive_error: None,
            error: None,
            failure: None,
        }
    }

    /// Sets rows from a per-table vector (in the schema's table order).
    pub fn with_rows(mut self, schema: &Schema, rows: &[u64]) -> Self {
        self.rows = schema.tables.iter().zip(rows).map(|(t, n)| (t.name.to_string(), *n)).collect();
        self
    }
}

/// Totals over a run.
#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    pub files: usize,
    pub loaded: usize,
    /// Already loaded (the ledger), not read again.
    pub skipped: usize,
    pub dead_lettered: usize,
    pub invalid: usize,
    pub failed: usize,
    pub rows: BTreeMap<String, u64>,
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_s: f64,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub command: String,
    /// `INDEX/COUNT` when this run processed one shard of the inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub exit_code: i32,
    pub totals: Totals,
    pub files: Vec<FileReport>,
    /// BigQuery loads, one per table (BigQuery destinations only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub loads: Vec<xml2bq_gcp::bigquery::load::TableLoad>,
    /// BigQuery tables as the run found them: created, or existing with the columns it
    /// added (BigQuery destinations only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<xml2bq_gcp::bigquery::tables::Prepared>,
}

impl Report {
    pub fn new(command: &str, schema: &Schema, files: Vec<FileReport>, seconds: f64) -> Self {
        let count = |s: Status| files.iter().filter(|f| f.status == s).count();
        let mut rows: BTreeMap<String, u64> = schema.tables.iter().map(|t| (t.name.to_string(), 0)).collect();
        for f in &files {
            for (t, n) in &f.rows {
                *rows.entry(t.clone()).or_default() += n;
            }
        }
        let bytes = files.iter().map(|f| f.bytes).sum();
        let totals = Totals {
            files: files.len(),
            loaded: count(Status::Loaded) + count(Status::Valid),
            skipped: count(Status::Skipped),
            dead_lettered: count(Status::DeadLettered),
            invalid: count(Status::Invalid),
            failed: count(Status::Failed),
            rows,
            bytes,
            seconds,
            mb_per_s: if seconds > 0.0 { bytes as f64 / 1e6 / seconds } else { 0.0 },
        };
        let exit_code = if totals.failed > 0 || files.iter().any(|f| f.archive_error.is_some()) {
            crate::EXIT_FATAL
        } else if totals.dead_lettered + totals.invalid > 0 {
            crate::EXIT_REJECTED
        } else {
            crate::EXIT_OK
        };
        Report { command: command.to_string(), shard: None, exit_code, totals, files, loads: vec![], tables: vec![] }
    }

    /// Records the BigQuery loads; any failed table makes the run fatal (a warning does not).
    pub fn set_loads(&mut self, loads: Vec<xml2bq_gcp::bigquery::load::TableLoad>) {
        if loads.iter().any(|l| l.state == LoadState::Failed) {
            self.exit_code = crate::EXIT_FATAL;
        }
        self.loads = loads;
    }

    /// The human summary printed at the end of a run.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let shard = self.shard.as_ref().map(|s| format!(" (shard {s})")).unwrap_or_default();
        let mut s = if self.command == "validate" {
            // Validate moves nothing: a file is valid, invalid, or could not be read.
            format!(
                "xml2bq validate{shard}: {} files: {} valid, {} invalid, {} failed\n",
                t.files, t.loaded, t.invalid, t.failed
            )
        } else {
            let skipped =
                if t.skipped > 0 { format!(", {} skipped (already loaded)", t.skipped) } else { String::new() };
            format!(
                "xml2bq {}{shard}: {} files: {} ok{skipped}, {} dead-lettered, {} invalid, {} failed\n",
                self.command, t.files, t.loaded, t.dead_lettered, t.invalid, t.failed
            )
        };
        for (name, n) in &t.rows {
            s.push_str(&format!("  {name}: {n} rows\n"));
        }
        for p in self.tables.iter().filter(|p| !p.added.is_empty()) {
            s.push_str(&format!(
                "  table {}: columns added: {} (NULL or [] in the rows already there)\n",
                p.table,
                p.added.join(", ")
            ));
        }
        for l in &self.loads {
            let job = l.job_id.as_deref().unwrap_or("-");
            match &l.error {
                None => {
                    let merged = l.merged.as_ref().map_or(String::new(), |m| {
                        let n = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
                        format!("; merged on {}: {} inserted, {} updated", m.key.join(","), n(m.inserted), n(m.updated))
                    });
                    s.push_str(&format!(
                        "  {} -> {}: {} ({} rows, job {job}{merged})\n",
                        l.table, l.destination, l.state, l.rows
                    ))
                }
                Some(e) => s.push_str(&format!(
                    "  {} -> {}: NOT LOADED: {e}\n    re-run the same command to load it (tables already loaded are not loaded again)\n",
                    l.table, l.destination
                )),
            }
            for w in &l.warnings {
                s.push_str(&format!("    warning: {w}\n"));
            }
        }
        s.push_str(&format!("  {:.1} MB in {:.2} s ({:.1} MB/s)", t.bytes as f64 / 1e6, t.seconds, t.mb_per_s));
        s
    }
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}
