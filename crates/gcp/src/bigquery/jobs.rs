//! Jobs: deterministic ids, submit (loads by URIs or with the data in the request; the
//! queries of a merge), wait with backoff until `--job-timeout`, and read the outcome
//! ([`Job`]) verbatim.

use super::LoadOptions;
use super::config::format_duration;
use super::model::Job;
use crate::{Cloud, CloudError, Result, retry, with_query};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use xml2bq_core::stable_hash;

/// The job id of one table's load (or merge) in one batch: the same table, write mode and
/// batch always give the same id, so a re-run finds the job instead of loading again.
/// `attempt` moves past a job that failed.
pub fn job_id(opts: &LoadOptions, table: &str, batch: &str, attempt: u32) -> String {
    let key = format!("{}.{}.{table}|{}|{batch}", opts.dest.project, opts.dest.dataset, opts.write.identity());
    let safe: String = table.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("xml2bq_{safe}_{:016x}_{attempt}", stable_hash(&key))
}

/// The id of a batch of inputs: derived from the destination, the write mode, each
/// input's versioned URI (sorted) and `nonce`. The sink passes a fresh nonce for every
/// new batch (the ledger's intent records the id, so a stopped batch is finished by it):
/// loading an input again never meets the jobs of its earlier batch.
pub fn batch_id(opts: &LoadOptions, versioned_uris: &[String], nonce: Option<&str>) -> String {
    let mut sorted: Vec<&String> = versioned_uris.iter().collect();
    sorted.sort();
    let mut key = format!("{}.{}|{}|", opts.dest.project, opts.dest.dataset, opts.write.identity());
    for u in sorted {
        key.push_str(u);
        key.push('\n');
    }
    if let Some(n) = nonce {
        key.push_str(n);
    }
    format!("{:016x}", stable_hash(&key))
}

/// The load configuration for `table` (data from `uris`, or from the request when empty).
pub fn load_config(opts: &LoadOptions, table: &str, uris: &[String]) -> Value {
    let mut load = json!({
        "destinationTable": { "projectId": opts.dest.project, "datasetId": opts.dest.dataset, "tableId": table },
        "sourceFormat": "PARQUET",
        "writeDisposition": opts.write.disposition(),
        "createDisposition": "CREATE_NEVER",
        "parquetOptions": { "enableListInference": true },
    });
    if !uris.is_empty() {
        load["sourceUris"] = json!(uris);
    }
    load
}

fn reference(opts: &LoadOptions, id: &str) -> Value {
    let mut r = json!({ "projectId": opts.dest.project, "jobId": id });
    if let Some(l) = &opts.location {
        r["location"] = json!(l);
    }
    r
}

/// The job, or None when no job has this id.
pub async fn get(cloud: &Cloud, opts: &LoadOptions, id: &str) -> Result<Option<Job>> {
    let url = job_url(cloud, opts, id)?;
    retry::idempotent(|| look_up(cloud, &url)).await
}

fn job_url(cloud: &Cloud, opts: &LoadOptions, id: &str) -> Result<String> {
    let location: Vec<(&str, &str)> = opts.location.iter().map(|l| ("location", l.as_str())).collect();
    with_query(&cloud.bq_url(&opts.dest.project, &format!("/jobs/{}", crate::encode(id))), &location)
}

/// [`get`] in one request, for a caller that retries around it.
async fn look_up(cloud: &Cloud, url: &str) -> Result<Option<Job>> {
    match cloud.json_once::<Job>(&cloud.bigquery, Method::GET, url, None).await {
        Ok(j) => Ok(Some(j)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Submits a load job reading `uris`; an existing job of that id (a retried submit) is fine.
pub async fn insert(cloud: &Cloud, opts: &LoadOptions, id: &str, load: Value) -> Result<()> {
    insert_job(cloud, opts, id, json!({ "load": load })).await
}

/// Submits a standard-SQL query job (a DML statement: nothing is read back but its
/// statistics); an existing job of that id is fine.
pub async fn insert_query(cloud: &Cloud, opts: &LoadOptions, id: &str, sql: &str) -> Result<()> {
    insert_job(cloud, opts, id, json!({ "query": { "query": sql, "useLegacySql": false } })).await
}

async fn insert_job(cloud: &Cloud, opts: &LoadOptions, id: &str, configuration: Value) -> Result<()> {
    let body = json!({ "jobReference": reference(opts, id), "configuration": configuration });
    let url = cloud.bq_url(&opts.dest.project, "/jobs");
    match cloud.json::<Job>(&cloud.bigquery, Method::POST, &url, Some(&body)).await {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(409) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Submits a load job with `file` as its data: a resumable upload, as `bq load` does
/// for local files. Retried as a whole; a job that already exists is not sent again.
pub async fn upload(cloud: &Cloud, opts: &LoadOptions, id: &str, load: Value, file: &Path) -> Result<()> {
    let len = std::fs::metadata(file).map_err(|e| CloudError::Other(format!("{}: {e}", file.display())))?.len();
    let body = json!({ "jobReference": reference(opts, id), "configuration": { "load": load } });
    let start = with_query(
        &format!("{}/upload/bigquery/v2/projects/{}/jobs", cloud.bigquery.endpoint, crate::encode(&opts.dest.project)),
        &[("uploadType", "resumable")],
    )?;
    let job = job_url(cloud, opts, id)?;
    // Retried as a whole: the look-up inside is one request.
    retry::idempotent(|| async {
        if look_up(cloud, &job).await?.is_some() {
            return Ok(());
        }
        let session = cloud
            .send(&cloud.bigquery, Method::POST, &start, |r| {
                r.header("X-Upload-Content-Type", "application/octet-stream")
                    .header("X-Upload-Content-Length", len)
                    .json(&body)
            })
            .await?;
        let location = session
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| CloudError::Other("the upload session answered without a Location".into()))?;
        // Streamed from disk, never held in memory whole.
        let data =
            tokio::fs::File::open(file).await.map_err(|e| CloudError::Other(format!("{}: {e}", file.display())))?;
        let body = reqwest::Body::wrap_stream(crate::gcs::file_stream(data));
        cloud
            .send(&cloud.bigquery, Method::PUT, &location, |r| {
                r.header("Content-Type", "application/octet-stream")
                    .header("Content-Length", len)
                    .header("Content-Range", format!("bytes 0-{}/{len}", len.saturating_sub(1)))
                    .body(body)
            })
            .await?;
        Ok(())
    })
    .await
}

/// Waits until the load job is DONE and returns it. Past `opts.job_timeout` the job is
/// left running (a load cannot be undone half-way; a re-run finds it by its id and waits
/// again) and the error says so.
pub async fn wait(cloud: &Cloud, opts: &LoadOptions, id: &str) -> Result<Job> {
    wait_for(cloud, opts, id, "load job").await
}

/// [`wait`] for any job; `what` names it in the timeout message (`query job`).
pub async fn wait_for(cloud: &Cloud, opts: &LoadOptions, id: &str, what: &str) -> Result<Job> {
    let deadline = tokio::time::Instant::now() + opts.job_timeout;
    let mut delay = Duration::from_millis(250);
    loop {
        let job = get(cloud, opts, id).await?.ok_or_else(|| CloudError::Other(format!("job {id} disappeared")))?;
        if job.is_done() {
            return Ok(job);
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(CloudError::Other(timed_out(opts, id, what)));
        }
        tokio::time::sleep(delay.min(left)).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// What to say when `--job-timeout` passes.
fn timed_out(opts: &LoadOptions, id: &str, what: &str) -> String {
    let location = opts.location.as_ref().map(|l| format!(" --location={l}")).unwrap_or_default();
    format!(
        "{what} {id} did not finish within --job-timeout {}; it was left running (not cancelled): \
         see it with `bq show{location} -j {}:{id}`. Re-running the same command picks this job up \
         (it waits for it and loads nothing twice)",
        format_duration(opts.job_timeout),
        opts.dest.project
    )
}
