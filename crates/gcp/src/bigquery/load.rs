//! One table's load, end to end and exactly once: find the job a previous run may
//! have finished, else stage or send the Parquet, submit, wait, and check the row count.
//! With `--write merge` the load goes to a staging table and [`merge`] takes it from there.

use super::merge::{self, MergeInput, Merged};
use super::model::Job;
use super::{LoadOptions, jobs, tables};
use crate::{Cloud, CloudError, Result};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

/// What happened to one table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TableLoad {
    pub table: String,
    pub destination: String,
    pub state: LoadState,
    pub job_id: Option<String>,
    pub rows: u64,
    pub output_rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What went wrong without costing the table its rows (e.g. staged parts left behind).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `--write merge`: the key, the staging table and what the MERGE changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
}

/// The outcome of one table's load, as the report writes it (`already_loaded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadState {
    /// This run's job loaded the rows.
    Loaded,
    /// A previous run's job (same id) had loaded them: nothing was sent.
    AlreadyLoaded,
    /// No input file had rows for the table.
    NothingToLoad,
    /// Not loaded; `error` says why.
    Failed,
}

impl LoadState {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadState::Loaded => "loaded",
            LoadState::AlreadyLoaded => "already_loaded",
            LoadState::NothingToLoad => "nothing_to_load",
            LoadState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for LoadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything needed to load one table.
pub struct TableInput<'a> {
    /// The generated table name (`customers`).
    pub name: &'a str,
    /// The BigQuery table name.
    pub bq_table: &'a str,
    /// Parquet parts, one per input file with rows.
    pub parts: Vec<PathBuf>,
    /// The batch ([`jobs::batch_id`]): with the table, the job's identity.
    pub batch: &'a str,
    pub rows: u64,
    /// Scratch folder for a merged file.
    pub work: &'a Path,
    /// With `--write merge`: the key and the order of the files.
    pub merge: Option<MergeInput<'a>>,
}

/// Concatenates Parquet parts into one file (for a single in-request upload).
fn concat_parts(parts: &[PathBuf], out: &Path) -> std::io::Result<()> {
    let err = |e: parquet::errors::ParquetError| std::io::Error::other(e.to_string());
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
    for p in parts {
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(p)?).map_err(err)?.build().map_err(err)?;
        for batch in reader {
            let batch = batch.map_err(|e| std::io::Error::other(e.to_string()))?;
            if writer.is_none() {
                writer = Some(ArrowWriter::try_new(std::fs::File::create(out)?, batch.schema(), None).map_err(err)?);
            }
            writer.as_mut().expect("created").write(&batch).map_err(err)?;
        }
    }
    if let Some(w) = writer {
        w.close().map_err(err)?;
    }
    Ok(())
}

fn other(e: impl std::fmt::Display) -> CloudError {
    CloudError::Other(e.to_string())
}

/// Loads one table. A job with this table's deterministic id that already succeeded
/// means the rows are there: nothing is sent again.
pub async fn load_table(cloud: &Cloud, opts: &LoadOptions, t: &TableInput<'_>) -> TableLoad {
    let mut out = blank(opts, t);
    if t.rows == 0 {
        out.state = LoadState::NothingToLoad;
        return out;
    }
    match run(cloud, opts, t, &mut out).await {
        Ok(state) => out.state = state,
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

/// A table not loaded for `why`, found before any job (e.g. a merge without a key).
pub fn refused(opts: &LoadOptions, t: &TableInput<'_>, why: String) -> TableLoad {
    TableLoad { error: Some(why), ..blank(opts, t) }
}

/// The report of `t` before anything is done: failed, no job.
fn blank(opts: &LoadOptions, t: &TableInput<'_>) -> TableLoad {
    TableLoad {
        table: t.name.to_string(),
        destination: format!("{}.{}.{}", opts.dest.project, opts.dest.dataset, t.bq_table),
        state: LoadState::Failed,
        job_id: None,
        rows: t.rows,
        output_rows: None,
        error: None,
        warnings: vec![],
        merged: None,
    }
}

async fn run(cloud: &Cloud, opts: &LoadOptions, t: &TableInput<'_>, out: &mut TableLoad) -> Result<LoadState> {
    match &t.merge {
        Some(m) => merge::run(cloud, opts, t, m, out).await,
        None => load_job(cloud, opts, t, t.bq_table, None, out).await,
    }
}

/// Loads the batch's parts into `table` with the batch's job (the next attempt's id when
/// an earlier attempt failed). `create`: the schema to create the table with (a merge's
/// staging table, WRITE_TRUNCATE); a finished job whose table is gone since loads again.
pub(crate) async fn load_job(
    cloud: &Cloud,
    opts: &LoadOptions,
    t: &TableInput<'_>,
    table: &str,
    create: Option<&[serde_json::Value]>,
    out: &mut TableLoad,
) -> Result<LoadState> {
    for attempt in 0..20 {
        let id = jobs::job_id(opts, table, t.batch, attempt);
        out.job_id = Some(id.clone());
        let (job, fresh) = match jobs::get(cloud, opts, &id).await? {
            Some(j) if j.is_done() => (j, false),
            Some(_) => (jobs::wait(cloud, opts, &id).await?, false),
            None => (submit(cloud, opts, t, table, create, &id, &mut out.warnings).await?, true),
        };
        if let Some(f) = job.failure() {
            if fresh {
                return Err(other(format!("load job {id} failed: {f}")));
            }
            continue; // an earlier attempt failed: the next id is ours
        }
        let got = job.output_rows();
        out.output_rows = got;
        if got != Some(t.rows) {
            return Err(other(format!(
                "load job {id} reports {} output rows; xml2bq produced {}",
                got.map_or("no".to_string(), |n| n.to_string()),
                t.rows
            )));
        }
        if !fresh && create.is_some() && !tables::exists(cloud, opts, table).await? {
            continue; // the staging table is gone since: load it again under the next id
        }
        return Ok(if fresh { LoadState::Loaded } else { LoadState::AlreadyLoaded });
    }
    Err(other("20 load attempts of this table and input set have failed; see the jobs in BigQuery"))
}

/// Sends the data and waits for the job; staged parts are removed after success (a part
/// that cannot be removed is a warning: the rows are loaded all the same).
async fn submit(
    cloud: &Cloud,
    opts: &LoadOptions,
    t: &TableInput<'_>,
    table: &str,
    create: Option<&[serde_json::Value]>,
    id: &str,
    warnings: &mut Vec<String>,
) -> Result<Job> {
    let config = |uris: &[String]| {
        let mut load = jobs::load_config(opts, table, uris);
        if let Some(fields) = create {
            load["createDisposition"] = serde_json::json!("CREATE_IF_NEEDED");
            load["schema"] = serde_json::json!({ "fields": fields });
        }
        load
    };
    match &opts.staging {
        Some(stage) => {
            let mut uris = vec![];
            let mut staged = vec![];
            for (i, p) in t.parts.iter().enumerate() {
                let name = stage.join(&format!("{id}/{}-{i:05}.parquet", t.name));
                let o = cloud.gcs_put_file(&stage.bucket, &name, p).await?;
                uris.push(o.uri());
                staged.push(name);
            }
            jobs::insert(cloud, opts, id, config(&uris)).await?;
            let job = jobs::wait(cloud, opts, id).await?;
            if job.failure().is_none() {
                let mut failed = vec![];
                for name in &staged {
                    if let Err(e) = cloud.gcs_delete(&stage.bucket, name, None).await {
                        failed.push(e);
                    }
                }
                if let Some(first) = failed.first() {
                    warnings.push(format!(
                        "{} of {} staged parts could not be deleted after the load (the rows are loaded); \
                         delete them with `gcloud storage rm -r gs://{}/{}/`: {first}",
                        failed.len(),
                        staged.len(),
                        stage.bucket,
                        stage.join(id)
                    ));
                }
            }
            Ok(job)
        }
        None => {
            let file = if t.parts.len() == 1 {
                t.parts[0].clone()
            } else {
                let merged = t.work.join(format!("{id}.parquet"));
                concat_parts(&t.parts, &merged).map_err(other)?;
                merged
            };
            jobs::upload(cloud, opts, id, config(&[]), &file).await?;
            jobs::wait(cloud, opts, id).await
        }
    }
}
