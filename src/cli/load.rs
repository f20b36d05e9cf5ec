//! `xml2bq load`: parse inputs, write typed tables (a local folder of parts, or
//! BigQuery), dead-letter invalid files.

use super::dest::{self, Create};
use super::{RunArgs, UsageError};
use crate::archive::Archive;
use crate::deadletter::DeadLetter;
use crate::report::Report;
use crate::sink::bigquery;
use crate::sink::{Format, LocalSink};
use crate::source::shard::Shard;
use crate::source::{ExpandError, Input, Loc, Location};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
use xml2bq_core::Schema;
use xml2bq_gcp::Connect;
use xml2bq_gcp::bigquery::config::{DEFAULT_JOB_TIMEOUT, parse_duration};
use xml2bq_gcp::bigquery::{Dest, LoadOptions, WriteMode, keys, tables};
use xml2bq_gcp::gcs::GsPath;

pub const EXAMPLES: &str = "\
Examples:
  xml2bq validate sample-data
      checks every file and lists the invalid ones; writes and moves nothing
  xml2bq load sample-data --dest out --keep-source
      writes out/customers/*.parquet and out/orders/*.parquet; invalid files are copied to
      out/_dead_letter/ with a <name>.error.json reason (without --keep-source they are
      moved there: removed from the input folder)
  xml2bq load 'exports/**/*.xml' --dest out --dead-letter rejected --keep-source --report run.json
  xml2bq load exports --dest out --format ndjson
  xml2bq load 'gs://in-bucket/exports/*.xml' --dest bq://my-project.sales \\
      --dead-letter gs://in-bucket/invalid --staging gs://tmp-bucket/xml2bq
      BigQuery load jobs of Parquet (tables created when missing); a re-run of the same
      inputs loads nothing twice
  xml2bq load 'gs://in-bucket/exports/*.xml' --dest bq://my-project.sales \
      --dead-letter gs://in-bucket/invalid --write merge --key customers=CustomerID
      upserts: a customer already in the table is replaced by its new version, a new one is
      added; without --key, each table's xs:key is its key

Credentials: Application Default Credentials (gcloud auth application-default login,
GOOGLE_APPLICATION_CREDENTIALS, or the metadata server on GKE and Composer).
STORAGE_EMULATOR_HOST and BIGQUERY_EMULATOR_HOST (host:port) select emulators.";

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Destination: a folder (one sub-folder of parts per table), or bq://PROJECT.DATASET.
    #[arg(long, default_value = "xml2bq-out", value_name = "DIR|bq://PROJECT.DATASET")]
    pub dest: String,
    /// Where invalid files are moved (a folder or gs://BUCKET/PREFIX), each with
    /// <name>.error.json [default: DEST/_dead_letter; required with bq://]
    #[arg(long, value_name = "DIR|gs://...")]
    pub dead_letter: Option<String>,
    /// Copy invalid files to the dead-letter location but leave the originals in place.
    #[arg(long)]
    pub keep_source: bool,
    /// Load the inputs the destination's ledger records as loaded again (by default
    /// they are skipped), appending their rows once more: in BigQuery, and in a
    /// folder as another set of parts beside the first.
    #[arg(long)]
    pub reload: bool,
    /// After a file's rows are committed in every table, move it here (a folder or
    /// gs://BUCKET/PREFIX), verified, with <name>.loaded.json. Inputs the ledger already
    /// holds are moved too. Invalid files go to the dead-letter location, never here.
    #[arg(long, value_name = "DIR|gs://...", conflicts_with = "keep_source")]
    pub archive: Option<String>,
    /// Output format of a folder destination.
    #[arg(long, value_enum, default_value_t = Format::Parquet)]
    pub format: Format,
    /// Rows per record batch (memory per table and thread grows with it).
    #[arg(long, default_value_t = 16_384, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = 131_072, value_parser = clap::value_parser!(u64).range(1..))]
    pub row_group_rows: u64,
    /// BigQuery: stage Parquet parts here and load them by URI (deleted after success).
    /// Without it the data is sent in the load request, as `bq load` does for local files.
    #[arg(long, value_name = "gs://BUCKET/PREFIX", help_heading = "BigQuery")]
    pub staging: Option<String>,
    /// BigQuery: append rows, replace the tables' contents (bq load --noreplace / --replace),
    /// or upsert by key (merge: see --key) [default: append]
    #[arg(long, value_enum, help_heading = "BigQuery")]
    pub write: Option<WriteMode>,
    /// BigQuery, with --write merge: the key a table's rows are matched on (repeatable).
    /// TABLE=COL[,COL] is that table's key (the schema's table name, as `xml2bq schema`
    /// names it); COL[,COL] without a table is the key of the one table that has all those
    /// columns (refused when several have them: name the table). A table without --key is
    /// keyed by the xs:key the XSD declares for its rows (its fields as top-level columns).
    /// A row whose key the table holds replaces it (every column); a new key is inserted;
    /// within one run the last occurrence wins (files by Cloud Storage generation or
    /// modification time, then URI; then the record's position). Rows for a table with no
    /// key stop the run (exit 2) before anything is loaded; _source_uri,_record_ordinal is a
    /// key that replaces a file's rows when the same file is loaded again.
    #[arg(long = "key", value_name = "[TABLE=]COL[,COL]", help_heading = "BigQuery")]
    pub keys: Vec<String>,
    /// BigQuery: partition new tables by day on this DATE/DATETIME/TIMESTAMP column
    /// (applied to the tables that have it).
    #[arg(long, value_name = "COLUMN", help_heading = "BigQuery")]
    pub partition_by: Option<String>,
    /// BigQuery: cluster new tables by these columns (comma-separated; applied to the tables that have them all).
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',', help_heading = "BigQuery")]
    pub cluster_by: Vec<String>,
    /// BigQuery: load table NAME into BQ_TABLE instead (repeatable), e.g. --table orders=orders_v2.
    #[arg(long = "table", value_name = "NAME=BQ_TABLE", help_heading = "BigQuery")]
    pub table_names: Vec<String>,
    /// BigQuery: the location of the jobs (e.g. EU, us-central1).
    #[arg(long, help_heading = "BigQuery")]
    pub location: Option<String>,
    /// BigQuery: how long to wait for each table's load job (e.g. 30s, 10m, 2h). When it passes,
    /// the job is left running (not cancelled), the table is reported not loaded with the job's id
    /// (`bq show -j ID`), and re-running the same command picks the job up [default: 6h]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "BigQuery")]
    pub job_timeout: Option<Duration>,
    /// BigQuery: a folder for the Parquet parts before they are loaded [default: a new folder under
    /// TMPDIR, removed when the run ends]
    #[arg(long, value_name = "DIR", help_heading = "BigQuery")]
    pub work_dir: Option<PathBuf>,
}

pub fn run(schema: &'static Schema, args: LoadArgs, connect: &Connect) -> anyhow::Result<i32> {
    let report = round(schema, &args, None, connect)?;
    super::finish(report, &args.run)
}

/// One load of the inputs as they are now. `settle` (watch mode): an input no argument
/// matches yet is no error, and a local file modified within `settle` waits for the next
/// round (it may still be being written).
pub fn round(
    schema: &'static Schema,
    args: &LoadArgs,
    settle: Option<Duration>,
    connect: &Connect,
) -> anyhow::Result<Report> {
    // The whole command line first (exit 2), then the destinations (exit 1), then the inputs.
    let shard = args.run.shard()?;
    if args.dest.starts_with("bq://") {
        return run_bigquery(schema, args, shard, settle, connect);
    }
    if args.dest.starts_with("gs://") {
        return Err(usage(format!(
            "--dest {}: give a local folder or bq://PROJECT.DATASET (gs:// is for inputs, --dead-letter and --staging)",
            args.dest
        )));
    }
    let bigquery_only: Vec<&str> = [
        ("--staging", args.staging.is_some()),
        ("--write", args.write.is_some()),
        ("--key", !args.keys.is_empty()),
        ("--partition-by", args.partition_by.is_some()),
        ("--cluster-by", !args.cluster_by.is_empty()),
        ("--table", !args.table_names.is_empty()),
        ("--location", args.location.is_some()),
        ("--job-timeout", args.job_timeout.is_some()),
        ("--work-dir", args.work_dir.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, given)| given.then_some(flag))
    .collect();
    if !bigquery_only.is_empty() {
        return Err(usage(format!(
            "{} only apply to a BigQuery destination (--dest bq://PROJECT.DATASET), not to the folder {}",
            bigquery_only.join(", "),
            args.dest
        )));
    }
    let dest = PathBuf::from(&args.dest);
    let dead_dir = match &args.dead_letter {
        Some(d) => Location::parse(d, connect)?,
        None => Location::Local(dest.join("_dead_letter")),
    };
    dest::folder("--dest", &dest, Create::WhenNeeded)?;
    check_dead_letter(args, &dead_dir)?;
    let archive = archive(args, connect)?;
    args.run.check_report()?;
    let mut exclude = vec![Location::Local(dest.clone()).uri_prefix(), dead_dir.uri_prefix()];
    exclude.extend(archive.as_ref().map(|a| a.dir.uri_prefix()));
    let inputs = inputs(args, shard, &exclude, settle, connect)?;
    dest::folder("--dest", &dest, Create::Now)?;
    let sink = LocalSink {
        schema,
        dest: dest.clone(),
        format: args.format,
        row_group_rows: args.row_group_rows as usize,
        ledger: true,
        reload: args.reload,
    };
    // What a stopped run left is finished first: the ledger is read only then.
    let mut folders = vec![dest.clone()];
    if let Some(Archive { dir: Location::Local(dir) }) = &archive {
        folders.push(dir.clone());
    }
    crate::pipeline::recover_folders(&folders)?;
    // The ledger's inputs are skipped (and archived when asked).
    let mut skipped = vec![];
    let mut todo = vec![];
    for input in &inputs.inputs {
        match sink.loaded(input) {
            Ok(Some(entry)) if !args.reload => {
                skipped.push(crate::archive::skipped(input, entry.rows, archive.as_ref(), &args.dest))
            }
            Ok(_) => todo.push(input.clone()),
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        }
    }
    let dead_letter = DeadLetter { dir: dead_dir, keep_source: args.keep_source };
    let (mut files, secs) =
        super::run_files(schema, &todo, Some(sink), Some(dead_letter), archive, args.batch_rows as usize, &args.run)?;
    files.extend(skipped);
    let mut report = Report::new("load", schema, inputs.reports(files), secs);
    report.shard = shard.map(|s| s.to_string());
    Ok(report)
}

/// The inputs of this round (see [`round`] for `settle`).
fn inputs(
    args: &LoadArgs,
    shard: Option<Shard>,
    exclude: &[String],
    settle: Option<Duration>,
    connect: &Connect,
) -> anyhow::Result<super::Inputs> {
    let Some(settle) = settle else { return args.run.inputs(shard, exclude, connect) };
    let mut found = match args.run.inputs(shard, exclude, connect) {
        Err(e) if matches!(e.downcast_ref(), Some(ExpandError::Empty(_) | ExpandError::NotFound(_))) => {
            return Ok(super::Inputs { inputs: vec![], refused: vec![] });
        }
        r => r?,
    };
    let now = std::time::SystemTime::now();
    found.inputs.retain(|i| match &i.loc {
        Loc::Local(p) => std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= settle)),
        Loc::Gcs(..) => true, // an object is whole once it is listed
    });
    Ok(found)
}

/// `--archive`, checked like the dead-letter location.
fn archive(args: &LoadArgs, connect: &Connect) -> anyhow::Result<Option<Archive>> {
    let Some(a) = &args.archive else { return Ok(None) };
    let dir = Location::parse(a, connect)?;
    if let Location::Local(d) = &dir {
        dest::folder("--archive", d, Create::WhenNeeded)?;
    }
    Ok(Some(Archive { dir }))
}

fn usage(msg: String) -> anyhow::Error {
    UsageError(msg).into()
}

/// A local dead-letter folder must be a folder this process can create and write in
/// (it is made when the first invalid file comes).
fn check_dead_letter(args: &LoadArgs, dir: &Location) -> anyhow::Result<()> {
    match dir {
        Location::Local(d) if args.dead_letter.is_some() => dest::folder("--dead-letter", d, Create::WhenNeeded),
        Location::Local(d) => dest::folder("the dead-letter folder (--dead-letter)", d, Create::WhenNeeded),
        Location::Gcs(..) => Ok(()),
    }
}

fn run_bigquery(
    schema: &'static Schema,
    args: &LoadArgs,
    shard: Option<Shard>,
    settle: Option<Duration>,
    connect: &Connect,
) -> anyhow::Result<Report> {
    let dest = Dest::parse(&args.dest).map_err(|e| usage(format!("--dest: {e}")))?;
    let Some(dead) = &args.dead_letter else {
        return Err(usage(
            "--dead-letter is required with a BigQuery destination: a folder or gs://BUCKET/PREFIX for invalid files"
                .into(),
        ));
    };
    if args.format != Format::Parquet {
        return Err(usage(format!(
            "BigQuery loads use Parquet; --format {:?} is for folder destinations",
            args.format
        )));
    }
    let staging = match &args.staging {
        Some(s) => Some(GsPath::parse(s).ok_or_else(|| usage(format!("--staging {s}: expected gs://BUCKET/PREFIX")))?),
        None => None,
    };
    let table_names: Vec<&str> = schema.tables.iter().map(|t| t.name).collect();
    let write = args.write.unwrap_or(WriteMode::Append);
    let keys = match write {
        WriteMode::Merge => keys::resolve(schema, &args.keys).map_err(usage)?,
        _ if !args.keys.is_empty() => {
            return Err(usage(format!(
                "--key {} only applies with --write merge (the write mode is {})",
                args.keys.join(" --key "),
                format!("{write:?}").to_lowercase()
            )));
        }
        _ => vec![],
    };
    let opts = LoadOptions {
        dest,
        tables: LoadOptions::table_names(&table_names, &args.table_names).map_err(usage)?,
        schemas: schema.tables.iter().map(xml2bq_gcp::bigquery::schema::fields).collect(),
        description: format!(
            "Loaded by xml2bq from {}",
            schema.info.mapping.or(schema.info.files.first().map(|f| f.0)).unwrap_or("its schema")
        ),
        write,
        partition_by: args.partition_by.clone(),
        cluster_by: args.cluster_by.clone(),
        staging: staging.clone(),
        location: args.location.clone(),
        job_timeout: args.job_timeout.unwrap_or(DEFAULT_JOB_TIMEOUT),
        keys,
    };
    let dead_dir = Location::parse(dead, connect)?;
    check_dead_letter(args, &dead_dir)?;
    let archive = archive(args, connect)?;
    if let Some(w) = &args.work_dir {
        dest::folder("--work-dir", w, Create::Now)?;
    }
    args.run.check_report()?;
    let cloud = connect.get()?;
    // Before any data moves: the dataset exists, the tables exist or are created, and fit.
    let prepared = cloud.block_on(tables::prepare(&cloud, &opts))?;
    let mut exclude = vec![dead_dir.uri_prefix()];
    exclude.extend(staging.as_ref().map(|s| format!("gs://{}/{}", s.bucket, s.join(""))));
    exclude.extend(archive.as_ref().map(|a| a.dir.uri_prefix()));
    let found = inputs(args, shard, &exclude, settle, connect)?;
    // Without --work-dir, a fresh folder under the system's temporary folder, removed
    // when this function returns, whichever way.
    let temp;
    let work = match &args.work_dir {
        // (Created and checked above.)
        Some(w) => w.clone(),
        None => {
            temp = super::temp_folder("xml2bq-")?;
            temp.path().to_path_buf()
        }
    };
    let parts = LocalSink {
        schema,
        dest: work.clone(),
        format: Format::Parquet,
        row_group_rows: args.row_group_rows as usize,
        ledger: false,
        reload: false,
    };
    let sink = bigquery::Sink { cloud, opts, schema, parts: parts.clone(), work: work.clone() };
    let dead_letter = DeadLetter { dir: dead_dir, keep_source: args.keep_source };
    let start = std::time::Instant::now();
    let reload = args.reload;
    let parse = |inputs: &[Input]| {
        let batch_rows = args.batch_rows as usize;
        Ok(super::run_files(schema, inputs, Some(parts), Some(dead_letter), None, batch_rows, &args.run)?.0)
    };
    let outcome = sink.run(&found.inputs, reload, archive.as_ref(), &args.dest, parse);
    let outcome = outcome.map_err(|e| match e.downcast::<bigquery::Unkeyed>() {
        Ok(unkeyed) => usage(unkeyed.0),
        Err(e) => e,
    });
    let (files, loads) = outcome?;
    let mut report = Report::new("load", schema, found.reports(files), start.elapsed().as_secs_f64());
    report.shard = shard.map(|s| s.to_string());
    report.set_loads(loads);
    report.tables = prepared;
    Ok(report)
}
