//! BigQuery: tables created from the compiled schema ([`schema`]), and load jobs of Parquet,
//! exactly once per table.
//!
//! Split by role, like Vector's BigQuery sink: [`config`] (destination and options),
//! [`tables`] (schema check, table creation), [`jobs`] (deterministic job ids, submit,
//! wait, the in-request upload), [`load`] (one table's load from parts, end to end),
//! [`merge`] (`--write merge`: the staging load, the MERGE and its SQL), [`keys`] (the
//! merge keys: `--key` and the schema's `xs:key`), [`ledger`] (the destination's log of
//! loaded inputs), [`model`] (the REST resources read back: jobs, tables, query rows).

pub mod config;
pub mod jobs;
pub mod keys;
pub mod ledger;
pub mod load;
pub mod merge;
pub mod model;
pub mod schema;
pub mod tables;

pub use config::{Dest, LoadOptions, WriteMode};

use super::{Cloud, Result};
use reqwest::Method;

impl Cloud {
    /// `{endpoint}/bigquery/v2/projects/{project}{path}`.
    pub fn bq_url(&self, project: &str, path: &str) -> String {
        format!("{}/bigquery/v2/projects/{}{path}", self.bigquery.endpoint, super::encode(project))
    }

    /// Runs a standard-SQL query and returns its rows as JSON values (`f`/`v` cells
    /// flattened to one value per column). For checks and tests, not bulk reads.
    pub async fn bq_query(&self, project: &str, sql: &str) -> Result<Vec<Vec<serde_json::Value>>> {
        let body = serde_json::json!({ "query": sql, "useLegacySql": false, "timeoutMs": 60000 });
        let ans: model::QueryResponse =
            self.json(&self.bigquery, Method::POST, &self.bq_url(project, "/queries"), Some(&body)).await?;
        Ok(ans.rows.into_iter().map(|r| r.f.into_iter().map(|c| c.v).collect()).collect())
    }
}
