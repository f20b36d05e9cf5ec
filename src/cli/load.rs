//! `xml2bq load`: parse inputs, write typed tables (a local folder of parts, or
//! BigQuery), dead-letter invalid files.

use super::RunArgs;
use crate::deadletter::DeadLetter;
use crate::report::{FileReport, Report, Status};
use crate::sink::{Format, LocalSink};
use crate::source::{self, Input, Location};
use clap::Args;
use std::path::PathBuf;
use xml2bq_core::Schema;
use xml2bq_gcp::Cloud;
use xml2bq_gcp::bigquery::{Dest, LoadOptions, WriteMode, load, tables};
use xml2bq_gcp::gcs::GsPath;

pub const EXAMPLES: &str = "\
Examples:
  xml2bq load sample-data --dest out
      writes out/customers/*.parquet and out/orders/*.parquet; invalid files go to
      out/_dead_letter/ with a <name>.error.json reason, and are removed from the input
  xml2bq load 'exports/**/*.xml' --dest out --dead-letter rejected --keep-source --report run.json
  xml2bq load exports --dest out --format ndjson
  xml2bq load 'gs://in-bucket/exports/*.xml' --dest bq://my-project.sales \\
      --dead-letter gs://in-bucket/invalid --staging gs://tmp-bucket/xml2bq
      BigQuery load jobs of Parquet (tables created when missing); a re-run of the same
      inputs loads nothing twice

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
    /// BigQuery: append rows, or replace the tables' contents (bq load --noreplace / --replace).
    #[arg(long, value_enum, default_value_t = WriteMode::Append, help_heading = "BigQuery")]
    pub write: WriteMode,
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
    /// BigQuery: a folder for the Parquet parts before they are loaded [default: a temporary folder].
    #[arg(long, value_name = "DIR", help_heading = "BigQuery")]
    pub work_dir: Option<PathBuf>,
}

pub fn run(schema: &'static Schema, args: LoadArgs) -> anyhow::Result<i32> {
    if args.dest.starts_with("bq://") {
        return run_bigquery(schema, args);
    }
    if args.dest.starts_with("gs://") {
        anyhow::bail!(
            "--dest {}: give a local folder or bq://PROJECT.DATASET (gs:// is for inputs, --dead-letter and --staging)",
            args.dest
        );
    }
    let dest = PathBuf::from(&args.dest);
    let dead_dir = match &args.dead_letter {
        Some(d) => Location::parse(d),
        None => Location::Local(dest.join("_dead_letter")),
    };
    let exclude = [Location::Local(dest.clone()).uri_prefix(), dead_dir.uri_prefix()];
    let (inputs, shard) = args.run.shard_inputs(source::expand(&args.run.inputs, &exclude)?)?;
    std::fs::create_dir_all(&dest).map_err(|e| anyhow::anyhow!("cannot create destination {}: {e}", dest.display()))?;
    let sink = LocalSink { schema, dest, format: args.format, row_group_rows: args.row_group_rows as usize };
    let dead_letter = DeadLetter { dir: dead_dir, keep_source: args.keep_source };
    let (files, secs) =
        super::run_files(schema, &inputs, Some(sink), Some(dead_letter), args.batch_rows as usize, &args.run)?;
    let mut report = Report::new("load", schema, files, secs);
    report.shard = shard.map(|s| s.to_string());
    super::finish(report, &args.run)
}

fn run_bigquery(schema: &'static Schema, args: LoadArgs) -> anyhow::Result<i32> {
    let dest = Dest::parse(&args.dest).map_err(anyhow::Error::msg)?;
    let Some(dead) = &args.dead_letter else {
        anyhow::bail!(
            "--dead-letter is required with a BigQuery destination: a folder or gs://BUCKET/PREFIX for invalid files"
        );
    };
    if args.format != Format::Parquet {
        anyhow::bail!("BigQuery loads use Parquet; --format {:?} is for folder destinations", args.format);
    }
    let staging = match &args.staging {
        Some(s) => Some(GsPath::parse(s).ok_or_else(|| anyhow::anyhow!("--staging {s}: expected gs://BUCKET/PREFIX"))?),
        None => None,
    };
    let table_names: Vec<&str> = schema.tables.iter().map(|t| t.name).collect();
    let opts = LoadOptions {
        dest,
        tables: LoadOptions::table_names(&table_names, &args.table_names).map_err(anyhow::Error::msg)?,
        schemas: schema.tables.iter().map(xml2bq_gcp::bigquery::schema::fields).collect(),
        description: format!(
            "Loaded by xml2bq from {}",
            schema.info.mapping.or(schema.info.files.first().map(|f| f.0)).unwrap_or("its schema")
        ),
        write: args.write,
        partition_by: args.partition_by.clone(),
        cluster_by: args.cluster_by.clone(),
        staging: staging.clone(),
        location: args.location.clone(),
    };
    let cloud = Cloud::get()?;
    // Before any data moves: the dataset exists, the tables exist or are created, and fit.
    cloud.block_on(tables::prepare(&cloud, &opts))?;
    let dead_dir = Location::parse(dead);
    let mut exclude = vec![dead_dir.uri_prefix()];
    if let Some(s) = &staging {
        exclude.push(Location::Gcs(s.clone()).uri_prefix());
    }
    let (inputs, shard) = args.run.shard_inputs(source::expand(&args.run.inputs, &exclude)?)?;
    let work = match &args.work_dir {
        Some(w) => w.clone(),
        None => std::env::temp_dir().join(format!("xml2bq-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work).map_err(|e| anyhow::anyhow!("cannot create work folder {}: {e}", work.display()))?;
    let sink =
        LocalSink { schema, dest: work.clone(), format: Format::Parquet, row_group_rows: args.row_group_rows as usize };
    let dead_letter = DeadLetter { dir: dead_dir, keep_source: args.keep_source };
    let (files, secs) =
        super::run_files(schema, &inputs, Some(sink.clone()), Some(dead_letter), args.batch_rows as usize, &args.run)?;
    let start = std::time::Instant::now();
    let loads = load_tables(schema, &cloud, &opts, &sink, &inputs, &files, &work);
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    let mut report = Report::new("load", schema, files, secs + start.elapsed().as_secs_f64());
    report.shard = shard.map(|s| s.to_string());
    report.set_loads(loads);
    super::finish(report, &args.run)
}

/// Loads every table from the parts of the files that loaded, one job per table.
fn load_tables(
    schema: &'static Schema,
    cloud: &Cloud,
    opts: &LoadOptions,
    sink: &LocalSink,
    inputs: &[Input],
    files: &[FileReport],
    work: &std::path::Path,
) -> Vec<load::TableLoad> {
    let loaded: Vec<(&Input, &FileReport)> =
        inputs.iter().zip(files).filter(|(_, f)| f.status == Status::Loaded).collect();
    let mut versions: Vec<String> = loaded.iter().map(|(i, _)| i.versioned_uri()).collect();
    versions.sort();
    let nonce = (opts.write == WriteMode::Truncate).then(|| {
        format!("{:?}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default())
    });
    schema
        .tables
        .iter()
        .enumerate()
        .map(|(t, spec)| {
            let with_rows: Vec<(&Input, u64)> = loaded
                .iter()
                .map(|(i, f)| (*i, f.rows.get(spec.name).copied().unwrap_or(0)))
                .filter(|(_, n)| *n > 0)
                .collect();
            let input = load::TableInput {
                name: spec.name,
                bq_table: &opts.tables[t],
                parts: with_rows.iter().map(|(i, _)| sink.part_path(i, t)).collect(),
                inputs: &versions,
                rows: with_rows.iter().map(|(_, n)| n).sum(),
                work,
            };
            cloud.block_on(load::load_table(cloud, opts, &input, nonce.as_deref()))
        })
        .collect()
}
