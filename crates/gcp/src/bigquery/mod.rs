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

    /// Runs a standard-SQL query and returns all its rows as JSON values (`f`/`v` cells
    /// flattened to one value per column), every page of them: waits while the job runs
    /// (`jobComplete: false`) and follows `pageToken` to the last page.
    pub async fn bq_query(&self, project: &str, sql: &str) -> Result<Vec<Vec<serde_json::Value>>> {
        self.bq_query_pages(project, sql, None).await
    }

    /// Like [`Cloud::bq_query`], asking for at most `page_rows` rows per answer.
    pub async fn bq_query_pages(
        &self,
        project: &str,
        sql: &str,
        page_rows: Option<u32>,
    ) -> Result<Vec<Vec<serde_json::Value>>> {
        const WAIT_MS: u32 = 60_000;
        const MAX_WAITS: u32 = 10;
        let mut body = serde_json::json!({ "query": sql, "useLegacySql": false, "timeoutMs": WAIT_MS });
        if let Some(n) = page_rows {
            body["maxResults"] = n.into();
        }
        let mut ans: model::QueryResponse =
            self.json(&self.bigquery, Method::POST, &self.bq_url(project, "/queries"), Some(&body)).await?;
        let mut rows = vec![];
        // Each answer of a running query waits up to WAIT_MS for it: a bound on the whole wait.
        let mut waits = 0;
        loop {
            let token = if ans.job_complete {
                rows.extend(ans.rows.into_iter().map(|r| r.f.into_iter().map(|c| c.v).collect()));
                match ans.page_token {
                    None => return Ok(rows),
                    Some(t) => Some(t),
                }
            } else {
                waits += 1;
                if waits > MAX_WAITS {
                    let minutes = MAX_WAITS * WAIT_MS / 60_000;
                    let msg = format!("the query did not finish within {minutes} minutes: {sql}");
                    return Err(super::CloudError::Other(msg));
                }
                None
            };
            let Some(job) = ans.job_reference else {
                let what = if token.is_some() { "a next page" } else { "a query still running" };
                return Err(super::CloudError::Other(format!("BigQuery answered {what} without a job reference")));
            };
            let mut url = format!(
                "{}?timeoutMs={WAIT_MS}",
                self.bq_url(project, &format!("/queries/{}", super::encode(&job.job_id)))
            );
            for (k, v) in
                [("location", job.location), ("pageToken", token), ("maxResults", page_rows.map(|n| n.to_string()))]
            {
                if let Some(v) = v {
                    url.push_str(&format!("&{k}={}", super::encode(&v)));
                }
            }
            ans = self.json(&self.bigquery, Method::GET, &url, None).await?;
        }
    }
}
