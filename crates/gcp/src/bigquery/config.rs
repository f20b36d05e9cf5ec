//! The BigQuery destination and the options of a load, as given on the command line.

use crate::gcs::GsPath;

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

/// `--write`: as `bq load --noreplace` / `--replace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Add rows (WRITE_APPEND). Re-running the same inputs loads nothing twice.
    Append,
    /// Replace the table's rows (WRITE_TRUNCATE). Every run loads.
    Truncate,
}

impl WriteMode {
    pub fn disposition(self) -> &'static str {
        match self {
            WriteMode::Append => "WRITE_APPEND",
            WriteMode::Truncate => "WRITE_TRUNCATE",
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
    fn renames() {
        let t = ["customers", "orders"];
        assert_eq!(LoadOptions::table_names(&t, &["orders=o2".into()]).unwrap(), vec!["customers", "o2"]);
        assert!(LoadOptions::table_names(&t, &["nope=x".into()]).unwrap_err().contains("customers"));
    }
}
