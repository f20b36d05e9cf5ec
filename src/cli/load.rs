//! `xml2bq load`: parse inputs, write a folder of parts per table, dead-letter invalid files.

use super::RunArgs;
use crate::deadletter::DeadLetter;
use crate::sink::{Format, LocalSink};
use crate::source::{self, Location};
use clap::Args;
use std::path::PathBuf;

pub const EXAMPLES: &str = "\
Examples:
  xml2bq load sample-data --dest out
      writes out/customers/*.parquet and out/orders/*.parquet; invalid files go to
      out/_dead_letter/ with a <name>.error.json reason, and are removed from the input
  xml2bq load 'exports/**/*.xml' --dest out --dead-letter rejected --keep-source --report run.json
  xml2bq load exports --dest out --format ndjson";

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Destination folder: one sub-folder of parts per table (customers/, orders/).
    #[arg(long, default_value = "xml2bq-out", value_name = "DIR")]
    pub dest: PathBuf,
    /// Where invalid files are moved (a folder or gs://BUCKET/PREFIX), each with
    /// <name>.error.json [default: DEST/_dead_letter]
    #[arg(long, value_name = "DIR|gs://...")]
    pub dead_letter: Option<String>,
    /// Copy invalid files to the dead-letter folder but leave the originals in place.
    #[arg(long)]
    pub keep_source: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Parquet)]
    pub format: Format,
    /// Rows per record batch (memory per table and thread grows with it).
    #[arg(long, default_value_t = 16_384, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = 131_072, value_parser = clap::value_parser!(u64).range(1..))]
    pub row_group_rows: u64,
}

pub fn run(args: LoadArgs) -> anyhow::Result<i32> {
    let dead_dir = match &args.dead_letter {
        Some(d) => Location::parse(d),
        None => Location::Local(args.dest.join("_dead_letter")),
    };
    let dest = Location::Local(args.dest.clone());
    let inputs = source::expand(&args.run.inputs, &[dest.uri_prefix(), dead_dir.uri_prefix()])?;
    std::fs::create_dir_all(&args.dest)
        .map_err(|e| anyhow::anyhow!("cannot create destination {}: {e}", args.dest.display()))?;
    let sink = LocalSink { dest: args.dest.clone(), format: args.format, row_group_rows: args.row_group_rows as usize };
    let dead_letter = DeadLetter { dir: dead_dir, keep_source: args.keep_source };
    super::execute("load", &inputs, Some(sink), Some(dead_letter), args.batch_rows as usize, &args.run)
}
