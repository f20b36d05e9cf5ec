//! The BigQuery destination and the options of a load, as given on the command line.

use super::keys::TableKey;
use crate::gcs::GsPath;
use std::time::Duration;

/// `bq://PROJECT.DATASET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    pub project: String,
    pub dataset: String,
}

impl Dest {
    /// Parses `bq://PROJECT.DATASET` (also `bq://PROJECT:DATASET`, as `bq` writes it).
    pub fn parse(s: &str) -> Result<Dest, String> {
        let rest = s.strip_prefix("bq://").ok_or_else(|| format!("{s:?} is not bq://PROJECT.DATASET"))?;
        let (project, dataset) = rest
            .rsplit_once(['.', ':'])
            .filter(|(p, d)| !p.is_empty() && !d.is_empty() && !d.contains('/'))
            .ok_or_else(|| format!("{s:?} is not bq://PROJECT.DATASET (e.g. bq://my-project.sales)"))?;
        Ok(Dest { project: project.to_string(), dataset: dataset.to_string() })
    }
}

/// `--write`: as `bq load --noreplace` / `--replace`, or an upsert by key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Add rows (WRITE_APPEND). Re-running the same inputs loads nothing twice.
    Append,
    /// Replace the table's rows (WRITE_TRUNCATE). Every run loads.
    Truncate,
    /// Upsert by key (--key): load into a staging table, then MERGE: a row whose key the
    /// table holds replaces it, a new key is inserted; within a run the last occurrence wins.
    Merge,
}

impl WriteMode {
    /// The load's `writeDisposition` (a merge loads into its staging table: WRITE_TRUNCATE).
    pub fn disposition(self) -> &'static str {
        match self {
            WriteMode::Append => "WRITE_APPEND",
            WriteMode::Truncate | WriteMode::Merge => "WRITE_TRUNCATE",
        }
    }

    /// What a job's and a batch's id are derived from besides the tables and the inputs.
    pub fn identity(self) -> &'static str {
        match self {
            WriteMode::Append | WriteMode::Truncate => self.disposition(),
            WriteMode::Merge => "MERGE",
        }
    }
}

/// Everything a BigQuery load needs besides the data.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub dest: Dest,
    /// BigQuery table name per table of the schema (in the schema's order).
    pub tables: Vec<String>,
    /// The BigQuery schema (`fields`) of each table, in the same order.
    pub schemas: Vec<Vec<serde_json::Value>>,
    /// The description of tables xml2bq creates.
    pub description: String,
    pub write: WriteMode,
    pub partition_by: Option<String>,
    pub cluster_by: Vec<String>,
    /// Staging prefix for Parquet parts; None sends the data in the load request.
    pub staging: Option<GsPath>,
    /// BigQuery location for jobs (e.g. `EU`); None lets BigQuery choose.
    pub location: Option<String>,
    /// How long to wait for one load job before leaving it running and reporting the table
    /// not loaded (`--job-timeout`).
    pub job_timeout: Duration,
    /// With [`WriteMode::Merge`]: the key of each table (in the schema's order; empty otherwise).
    pub keys: Vec<TableKey>,
}

/// `--job-timeout` when not given.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// Parses a duration as people write it: `30s`, `10m`, `2h`, `1h30m`, `1d`, `500ms`
/// (a bare number is seconds). Zero is refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration: write e.g. 30s, 10m, 2h or 1h30m");
    let mut rest = s.trim();
    let mut total = Duration::ZERO;
    if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
        total = Duration::from_secs(rest.parse().map_err(|_| bad())?);
        rest = "";
    } else if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let letters = rest[digits..].bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[digits..digits + letters] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        let n: u32 = rest[..digits].parse().map_err(|_| bad())?;
        total = unit.checked_mul(n).and_then(|d| total.checked_add(d)).ok_or_else(bad)?;
        rest = &rest[digits + letters..];
    }
    if total.is_zero() {
        return Err(format!("{s:?}: the duration must be more than zero"));
    }
    Ok(total)
}

/// A duration as [`parse_duration`] reads it: `6h`, `1h30m`, `2s`, `1m500ms`.
pub fn format_duration(d: Duration) -> String {
    let (secs, ms) = (d.as_secs(), d.subsec_millis());
    let mut out = String::new();
    for (n, unit) in [(secs / 3600, "h"), (secs / 60 % 60, "m"), (secs % 60, "s"), (u64::from(ms), "ms")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".to_string() } else { out }
}

impl LoadOptions {
    /// Options for `dest` with these BigQuery table names, every other setting the default
    /// (for reading and writing the ledger; `load` fills in its flags).
    pub fn new(dest: Dest, tables: Vec<String>) -> Self {
        LoadOptions {
            dest,
            schemas: tables.iter().map(|_| vec![]).collect(),
            tables,
            description: String::new(),
            write: WriteMode::Append,
            partition_by: None,
            cluster_by: vec![],
            staging: None,
            location: None,
            job_timeout: DEFAULT_JOB_TIMEOUT,
            keys: vec![],
        }
    }

    /// Applies `NAME=TABLE` renames to the schema's table names.
    pub fn table_names(tables: &[&str], renames: &[String]) -> Result<Vec<String>, String> {
        let mut names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        for r in renames {
            let (from, to) = r.split_once('=').ok_or_else(|| format!("--table {r:?}: expected NAME=BQ_TABLE"))?;
            let i = tables
                .iter()
                .position(|t| *t == from)
                .ok_or_else(|| format!("--table {r:?}: no table {from:?}; the tables are {tables:?}"))?;
            names[i] = to.to_string();
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(Dest::parse("bq://p-1.ds").unwrap(), Dest { project: "p-1".into(), dataset: "ds".into() });
        assert_eq!(Dest::parse("bq://p:ds").unwrap().dataset, "ds");
        assert_eq!(Dest::parse("bq://example.com:p.ds").unwrap().project, "example.com:p");
        assert!(Dest::parse("bq://nodataset").is_err());
        assert!(Dest::parse("gs://b/x").is_err());
    }

    #[test]
    fn durations() {
        let d = |s: &str| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(d("30s"), Ok(30_000));
        assert_eq!(d("10m"), Ok(600_000));
        assert_eq!(d("2h"), Ok(7_200_000));
        assert_eq!(d("1h30m"), Ok(5_400_000));
        assert_eq!(d("1d"), Ok(86_400_000));
        assert_eq!(d("500ms"), Ok(500));
        assert_eq!(d("45"), Ok(45_000));
        for bad in ["", "h", "10x", "1.5h", "-1s", "s10", "10 s", "0s", "0", "99999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("0s").unwrap_err().contains("more than zero"));
        assert_eq!(format_duration(DEFAULT_JOB_TIMEOUT), "6h");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(2500)), "2s500ms");
        for s in ["2s", "10m", "2h", "1h30m", "500ms"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }

    #[test]
    fn renames() {
        let t = ["customers", "orders"];
        assert_eq!(LoadOptions::table_names(&t, &["orders=o2".into()]).unwrap(), vec!["customers", "o2"]);
        assert!(LoadOptions::table_names(&t, &["nope=x".into()]).unwrap_err().contains("customers"));
    }
}
