//! Upserts (`--write merge`): one table's batch goes into a staging table
//! `<table>_xml2bq_stage_<batch>` (a load job, WRITE_TRUNCATE), then one MERGE query job
//! folds it into the table: a row whose key the table holds replaces that row (every
//! column), a new key is inserted. Within the batch the last occurrence of a key wins:
//! files in the order given (oldest version first, then URI), then the record ordinal.
//! The staging table is dropped afterwards (a failure to drop it is a warning). It is
//! created, before anything is loaded into it, to expire after [`STAGING_LIFETIME`], and
//! set to expire again once loaded: one left by a run that stopped at any point goes by
//! itself.
//!
//! Both jobs have ids derived from the table and the batch ([`jobs::job_id`]): a re-run
//! of the batch finds the finished MERGE and runs nothing again.

use super::load::{LoadState, TableInput, TableLoad};
use super::{LoadOptions, jobs, tables};
use crate::{CloudError, Result};
use serde_json::Value;

/// What a merge needs besides the batch's parts.
#[derive(Clone, Copy, Debug)]
pub struct MergeInput<'a> {
    /// The key columns.
    pub key: &'a [String],
    /// The batch's input URIs (`_source_uri`), oldest first: a later one's rows win.
    pub files: &'a [String],
    /// The table's BigQuery schema (`fields`), which the staging table is created with.
    pub fields: &'a [Value],
}

/// What the merge of one table did, for the report.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Merged {
    pub key: Vec<String>,
    pub staging_table: String,
    /// The staging load's job (None when a previous run's MERGE was found done).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staging_job_id: Option<String>,
    /// Rows the MERGE inserted and updated (`dmlStats`).
    pub inserted: Option<u64>,
    pub updated: Option<u64>,
}

/// How long a staging table lives if nothing drops it: long enough for a stopped
/// batch to be run again.
pub const STAGING_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The staging table of `table`'s merge in `batch`.
pub fn staging_table(table: &str, batch: &str) -> String {
    format!("{table}_xml2bq_stage_{batch}")
}

/// A quoted identifier: `` `name` `` (a path such as `project.dataset.table` is quoted whole).
pub fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('`');
    for c in name.chars() {
        if matches!(c, '`' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('`');
    out
}

/// A string literal: `'...'`, with `\`, `'` and control characters escaped.
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A key column of the MERGE's ON clause: `=` for a REQUIRED column, `IS NOT DISTINCT
/// FROM` for a nullable one (NULL keys match each other, so a re-run inserts no copy).
pub struct KeyColumn<'a> {
    pub name: &'a str,
    pub required: bool,
}

/// The MERGE statement: `target` and `stage` are full table paths (`project.dataset.table`),
/// `columns` every column of the rows (set on update, given on insert), `files` the
/// batch's URIs oldest first.
pub fn merge_sql(target: &str, stage: &str, columns: &[&str], key: &[KeyColumn<'_>], files: &[String]) -> String {
    let q = |c: &str| quote(c);
    let mut rank = String::from("CASE `_source_uri`");
    for (i, f) in files.iter().enumerate() {
        rank.push_str(&format!(" WHEN {} THEN {}", literal(f), i + 1));
    }
    rank.push_str(" ELSE 0 END");
    let partition: Vec<String> = key.iter().map(|k| q(k.name)).collect();
    let on: Vec<String> = key
        .iter()
        .map(|k| {
            let op = if k.required { "=" } else { "IS NOT DISTINCT FROM" };
            format!("t.{} {op} s.{}", q(k.name), q(k.name))
        })
        .collect();
    let set: Vec<String> = columns.iter().map(|c| format!("{} = s.{}", q(c), q(c))).collect();
    let names: Vec<String> = columns.iter().map(|c| q(c)).collect();
    let values: Vec<String> = columns.iter().map(|c| format!("s.{}", q(c))).collect();
    format!(
        "MERGE {target} AS t\n\
         USING (\n  SELECT * FROM {stage}\n  WHERE TRUE\n  QUALIFY ROW_NUMBER() OVER (\n    PARTITION BY {partition}\n    \
         ORDER BY {rank} DESC, `_record_ordinal` DESC) = 1\n) AS s\n\
         ON {on}\n\
         WHEN MATCHED THEN UPDATE SET {set}\n\
         WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})",
        target = q(target),
        stage = q(stage),
        partition = partition.join(", "),
        on = on.join(" AND "),
        set = set.join(", "),
        names = names.join(", "),
        values = values.join(", "),
    )
}

fn other(e: impl std::fmt::Display) -> CloudError {
    CloudError::Other(e.to_string())
}

/// The MERGE of `t`'s batch for `opts`'s destination.
fn sql(opts: &LoadOptions, t: &TableInput<'_>, m: &MergeInput<'_>) -> Result<String> {
    let path = |table: &str| format!("{}.{}.{table}", opts.dest.project, opts.dest.dataset);
    let columns: Vec<&str> = m.fields.iter().filter_map(|f| f["name"].as_str()).collect();
    let mut key = vec![];
    for k in m.key {
        let f = m
            .fields
            .iter()
            .find(|f| f["name"].as_str() == Some(k.as_str()))
            .ok_or_else(|| other(format!("merge key column {k} is not a column of {}", t.bq_table)))?;
        key.push(KeyColumn { name: k, required: f["mode"].as_str() == Some("REQUIRED") });
    }
    let stage = staging_table(t.bq_table, t.batch);
    Ok(merge_sql(&path(t.bq_table), &path(&stage), &columns, &key, m.files))
}

/// The `tables.insert` body of a staging table: its schema, and when it expires
/// (milliseconds since the epoch).
fn staging_body(opts: &LoadOptions, stage: &str, fields: &[Value], at_ms: u64) -> Value {
    let d = &opts.dest;
    serde_json::json!({
        "tableReference": { "projectId": d.project, "datasetId": d.dataset, "tableId": stage },
        "schema": { "fields": fields },
        "expirationTime": at_ms.to_string(),
    })
}

/// Merges one table's batch: finds the batch's MERGE a previous run finished, else loads
/// the staging table and runs it; then drops the staging table.
pub async fn run(
    cloud: &crate::Cloud,
    opts: &LoadOptions,
    t: &TableInput<'_>,
    m: &MergeInput<'_>,
    out: &mut TableLoad,
) -> Result<LoadState> {
    let stage = staging_table(t.bq_table, t.batch);
    let mut merged = Merged { key: m.key.to_vec(), staging_table: stage.clone(), ..Merged::default() };
    let sql = sql(opts, t, m)?;
    for attempt in 0..20 {
        let id = jobs::job_id(opts, t.bq_table, t.batch, attempt);
        let (job, fresh) = match jobs::get(cloud, opts, &id).await? {
            Some(j) if j.is_done() => (j, false),
            Some(_) => {
                out.job_id = Some(id.clone());
                (jobs::wait_for(cloud, opts, &id, "query job").await?, false)
            }
            None => {
                // Dropped after the MERGE; left behind (the run stops first, and the batch is
                // never run again), it goes by itself: it is created to expire, and the
                // expiry is set again after the load, which replaces the table's content.
                let at = std::time::SystemTime::now() + STAGING_LIFETIME;
                let at_ms = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
                tables::create(cloud, opts, &stage, &staging_body(opts, &stage, m.fields, at_ms)).await?;
                super::load::load_job(cloud, opts, t, &stage, Some(m.fields), out).await?;
                if let Err(e) = tables::expire(cloud, opts, &stage, at_ms).await {
                    out.warnings.push(format!(
                        "the staging table {stage} could not be set to expire ({e}); if a run stops before the \
                         merge drops it, drop it with `bq rm -f -t {}:{}.{stage}`",
                        opts.dest.project, opts.dest.dataset
                    ));
                }
                merged.staging_job_id = out.job_id.clone();
                out.job_id = Some(id.clone());
                jobs::insert_query(cloud, opts, &id, &sql).await?;
                (jobs::wait_for(cloud, opts, &id, "query job").await?, true)
            }
        };
        out.job_id = Some(id.clone());
        if let Some(f) = job.failure() {
            if fresh {
                out.merged = Some(merged);
                return Err(other(format!("merge job {id} failed: {f}; the staging table {stage} is kept")));
            }
            continue; // an earlier attempt failed: the next id is ours
        }
        let stats = job.dml_stats().unwrap_or_default();
        (merged.inserted, merged.updated) = (stats.inserted_row_count, stats.updated_row_count);
        if let Err(e) = tables::delete(cloud, opts, &stage).await {
            out.warnings.push(format!(
                "the staging table {stage} could not be dropped after the merge (the rows are merged); drop it with \
                 `bq rm -f -t {}:{}.{stage}`: {e}",
                opts.dest.project, opts.dest.dataset
            ));
        }
        out.merged = Some(merged);
        return Ok(if fresh { LoadState::Loaded } else { LoadState::AlreadyLoaded });
    }
    Err(other("20 merge attempts of this table and batch have failed; see the jobs in BigQuery"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_statement() {
        let files = vec!["gs://b/in/a.xml".to_string(), "file:///data/it's \\ new\n.xml".to_string()];
        let key = [KeyColumn { name: "CustomerID", required: false }, KeyColumn { name: "Region", required: true }];
        let sql = merge_sql(
            "p-1.sales.customers",
            "p-1.sales.customers_xml2bq_stage_00ff",
            &["CustomerID", "Region", "Company Name", "_source_uri", "_record_ordinal"],
            &key,
            &files,
        );
        assert_eq!(
            sql,
            "MERGE `p-1.sales.customers` AS t\n\
             USING (\n  SELECT * FROM `p-1.sales.customers_xml2bq_stage_00ff`\n  WHERE TRUE\n  \
             QUALIFY ROW_NUMBER() OVER (\n    PARTITION BY `CustomerID`, `Region`\n    \
             ORDER BY CASE `_source_uri` WHEN 'gs://b/in/a.xml' THEN 1 WHEN 'file:///data/it\\'s \\\\ new\\n.xml' THEN 2 \
             ELSE 0 END DESC, `_record_ordinal` DESC) = 1\n) AS s\n\
             ON t.`CustomerID` IS NOT DISTINCT FROM s.`CustomerID` AND t.`Region` = s.`Region`\n\
             WHEN MATCHED THEN UPDATE SET `CustomerID` = s.`CustomerID`, `Region` = s.`Region`, \
             `Company Name` = s.`Company Name`, `_source_uri` = s.`_source_uri`, `_record_ordinal` = s.`_record_ordinal`\n\
             WHEN NOT MATCHED THEN INSERT (`CustomerID`, `Region`, `Company Name`, `_source_uri`, `_record_ordinal`) \
             VALUES (s.`CustomerID`, s.`Region`, s.`Company Name`, s.`_source_uri`, s.`_record_ordinal`)"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("example.com:p.ds.t"), "`example.com:p.ds.t`");
        assert_eq!(quote("a`b\\c"), "`a\\`b\\\\c`");
        assert_eq!(literal("it's"), "'it\\'s'");
        assert_eq!(literal("a\u{1}b\tc"), "'a\\u0001b\\tc'");
        assert_eq!(staging_table("customers", "0123abcd"), "customers_xml2bq_stage_0123abcd");
    }
}
