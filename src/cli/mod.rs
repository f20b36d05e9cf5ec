//! The command line: one file per subcommand, shared options and output here.
//!
//! Each command checks its whole command line first (a malformed or contradictory flag
//! is a [`UsageError`], exit 2), then its destinations ([`dest`]: exit 1), and only then
//! reads its inputs.

mod dest;
pub mod ledger;
pub mod load;
pub mod schema;
pub mod validate;
pub mod watch;

use crate::report::{FileReport, Report, Status};
use crate::source::shard::Shard;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use xml2bq_core::Schema;
use xml2bq_gcp::Connect;

const EXIT_CODES: &str = "\
Exit codes:
  0  every file loaded (or, for validate, is valid)
  1  fatal error: nothing was done, or some files could not be read or written
     (those files are left in place; see the report)
  2  usage error
  3  finished, but some files were invalid (dead-lettered by load; listed by validate)";

/// Load XML files described by an XSD into typed tables: BigQuery, or Parquet or NDJSON folders.
#[derive(Parser, Debug)]
#[command(name = "xml2bq", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse XML files and write one folder of parts per table; move invalid files aside.
    #[command(after_help = load::EXAMPLES)]
    Load(Box<load::LoadArgs>),
    /// Check XML files against the schema; report, touch nothing.
    Validate(validate::ValidateArgs),
    /// Print the tables' BigQuery schemas (JSON), or what the binary was built from (--info).
    Schema(schema::SchemaArgs),
    /// Load new files as they arrive: a load every --interval, through the ledger, until SIGTERM.
    #[command(after_help = watch::EXAMPLES)]
    Watch(Box<watch::WatchArgs>),
    /// Show a destination's ledger of loaded inputs, or forget inputs so that they load again.
    #[command(after_help = ledger::EXAMPLES)]
    Ledger(ledger::LedgerArgs),
}

/// Runs the command line against `schema`; returns the process exit code.
pub fn main(schema: &'static Schema) -> i32 {
    // Built once per process; clap keeps it for the process's life.
    let version: &'static str = Box::leak(schema::version(schema).into_boxed_str());
    let cmd = Cli::command().long_version(version);
    let cli = match cmd.try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { crate::EXIT_USAGE } else { crate::EXIT_OK };
        }
    };
    // Google Cloud is connected to on first use, by the command that needs it.
    let connect = Connect::new();
    let result = match cli.command {
        Command::Load(a) => load::run(schema, *a, &connect),
        Command::Validate(a) => validate::run(schema, a, &connect),
        Command::Schema(a) => schema::run(schema, a),
        Command::Ledger(a) => ledger::run(schema, a, &connect),
        Command::Watch(a) => watch::run(schema, *a, &connect),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.is::<UsageError>() => {
            eprintln!("xml2bq: error: {e:#}\n\nFor more information, try '--help'.");
            crate::EXIT_USAGE
        }
        Err(e) => {
            eprintln!("xml2bq: error: {e:#}");
            crate::EXIT_FATAL
        }
    }
}

/// A malformed or contradictory command line (exit 2): found before anything is read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The inputs of a run (this shard's), and the entries refused as inputs.
pub struct Inputs {
    pub inputs: Vec<crate::source::Input>,
    /// Entries that cannot be inputs, as `failed` reports (left in place).
    pub refused: Vec<FileReport>,
}

impl Inputs {
    /// The pipeline's reports with the refused entries', sorted by URI.
    pub fn reports(&self, mut files: Vec<FileReport>) -> Vec<FileReport> {
        files.extend(self.refused.iter().cloned());
        files.sort_by(|a, b| a.uri.cmp(&b.uri));
        files
    }
}

/// Options shared by load and validate.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Input XML files, folders (searched recursively for *.xml) or globs ('data/**/*.xml').
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0, env = "XML2BQ_THREADS")]
    pub threads: usize,
    /// Write the run report (per-file outcome, rows, timings) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// No progress bar and no per-file lines; the summary is still printed.
    #[arg(long, short)]
    pub quiet: bool,
    /// Process only shard INDEX of COUNT of the inputs (0-based; a stable hash of each URI).
    /// Without it: JOB_COMPLETION_INDEX (with --shard-count), or CLOUD_RUN_TASK_INDEX/COUNT.
    #[arg(long, value_name = "INDEX/COUNT")]
    pub shard: Option<String>,
    /// The number of shards when the index comes from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, value_name = "N", env = "XML2BQ_SHARD_COUNT")]
    pub shard_count: Option<u64>,
    /// Exit 0 even when files were invalid (they are still dead-lettered and listed in the
    /// report): for orchestrators that decide from the report rather than the exit code.
    #[arg(long)]
    pub allow_invalid: bool,
    /// The largest text or attribute value (bytes) a file may hold; a file with a larger one
    /// is invalid (value-too-large) and is read no further. Default: 100 MiB, BigQuery's
    /// largest row.
    #[arg(long, value_name = "BYTES", env = "XML2BQ_MAX_VALUE_BYTES", default_value_t = xml2bq_core::utf8::MAX_VALUE_BYTES,
          value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_value_bytes: u64,
    /// Files of at least this many bytes are cut into segments decoded on every core.
    #[arg(long, default_value_t = 32 << 20, hide = true)]
    pub split_min_bytes: u64,
    /// The size of those segments (default: 8 MiB / --threads, at least 1 MiB, so that the
    /// segments in flight take about the same memory whatever the thread count).
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(64..))]
    pub segment_bytes: Option<u64>,
}

impl RunArgs {
    /// The shard this run processes (None: all inputs); a malformed `--shard`, or an
    /// index from the environment without a count, is a usage error.
    pub fn shard(&self) -> anyhow::Result<Option<Shard>> {
        Ok(Shard::resolve(self.shard.as_deref(), self.shard_count, |k| std::env::var(k).ok()).map_err(UsageError)?)
    }

    /// Checks, before anything is read, that `--report` can be written.
    pub fn check_report(&self) -> anyhow::Result<()> {
        match &self.report {
            Some(r) => dest::report_file(r),
            None => Ok(()),
        }
    }

    /// Expands the inputs and keeps this shard's (all of them when not sharded). The
    /// entries refused are printed now (unless --quiet) and reported as failed.
    pub fn inputs(&self, shard: Option<Shard>, exclude: &[String], connect: &Connect) -> anyhow::Result<Inputs> {
        let found = crate::source::expand(&self.inputs, exclude, connect)?;
        let mine = |uri: &str| shard.is_none_or(|s| s.owns(uri));
        if !self.quiet {
            for (link, target) in &found.revisits {
                eprintln!(
                    "note: {} not searched: it leads to {}, already searched (a symlink loop?)",
                    link.display(),
                    target.display()
                );
            }
        }
        let refused: Vec<FileReport> = found
            .refused
            .iter()
            .filter(|r| mine(&r.uri))
            .map(|r| {
                let mut f = FileReport::new(&r.uri, 0, Status::Failed);
                f.failure = Some(r.why.to_string());
                if !self.quiet {
                    eprintln!("{}", file_line(&f));
                }
                f
            })
            .collect();
        let inputs = found.inputs.into_iter().filter(|i| mine(&i.uri)).collect();
        Ok(Inputs { inputs, refused })
    }
}

/// Progress: a byte bar on a terminal, plain per-file lines otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
}

impl Progress {
    pub fn new(total_bytes: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(total_bytes);
            b.set_style(
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}")
                    .expect("valid template"),
            );
            b
        });
        Progress { bar, quiet }
    }

    pub fn on_bytes(self: &Arc<Self>) -> Arc<dyn Fn(u64) + Send + Sync> {
        let me = self.clone();
        Arc::new(move |n| {
            if let Some(b) = &me.bar {
                b.inc(n)
            }
        })
    }

    pub fn on_file(self: &Arc<Self>) -> Arc<dyn Fn(&FileReport) + Send + Sync> {
        let me = self.clone();
        Arc::new(move |f: &FileReport| {
            if me.quiet {
                return;
            }
            let line = file_line(f);
            match &me.bar {
                Some(b) if f.status == Status::Loaded || f.status == Status::Valid => b.set_message(line),
                Some(b) => b.println(line),
                None => eprintln!("{line}"),
            }
        })
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// A fresh folder under the system's temporary folder (`TMPDIR`), removed when dropped.
fn temp_folder(prefix: &str) -> anyhow::Result<tempfile::TempDir> {
    let tmp = std::env::temp_dir();
    tempfile::Builder::new().prefix(prefix).tempdir_in(&tmp).map_err(|e| {
        anyhow::anyhow!("cannot create a work folder in {}: {e} (set TMPDIR or --work-dir)", tmp.display())
    })
}

/// One line about one file.
pub fn file_line(f: &FileReport) -> String {
    let rows: Vec<String> = f.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
    match f.status {
        Status::Loaded => format!("loaded {}{}: {}", f.uri, archived(f), rows.join(", ")),
        Status::Valid => format!("valid {}: {}", f.uri, rows.join(", ")),
        Status::Skipped => format!("skipped {} (already loaded){}: {}", f.uri, archived(f), rows.join(", ")),
        Status::DeadLettered => format!(
            "dead-lettered {} -> {}: {}",
            f.uri,
            f.dead_letter.as_deref().unwrap_or("?"),
            f.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
        ),
        Status::Invalid => {
            format!("invalid {}: {}", f.uri, f.error.as_ref().map(|e| e.to_string()).unwrap_or_default())
        }
        Status::Failed => format!("FAILED {} (left in place): {}", f.uri, f.failure.as_deref().unwrap_or("?")),
    }
}

/// ` -> archived URI`, or why archiving failed.
fn archived(f: &FileReport) -> String {
    match (&f.archived, &f.archive_error) {
        (Some(a), _) => format!(" -> archived {a}"),
        (None, Some(e)) => format!(" (NOT ARCHIVED: {e})"),
        (None, None) => String::new(),
    }
}

/// Runs `inputs` through a job built from `sink` and `dead_letter`; returns each
/// file's report and the seconds taken.
pub fn run_files(
    schema: &'static Schema,
    inputs: &[crate::source::Input],
    sink: Option<crate::sink::LocalSink>,
    dead_letter: Option<crate::deadletter::DeadLetter>,
    archive: Option<crate::archive::Archive>,
    batch_rows: usize,
    args: &RunArgs,
) -> anyhow::Result<(Vec<FileReport>, f64)> {
    let progress = Arc::new(Progress::new(inputs.iter().map(|i| i.size).sum(), args.quiet));
    let job = crate::pipeline::Job {
        schema,
        sink,
        dead_letter,
        archive,
        batch_rows,
        split_min_bytes: args.split_min_bytes,
        segment_bytes: args.segment_bytes.map_or(0, |b| b as usize),
        max_value_bytes: args.max_value_bytes,
        on_bytes: progress.on_bytes(),
        on_file: progress.on_file(),
    };
    let start = std::time::Instant::now();
    let files = crate::pipeline::run(&job, inputs, args.threads)?;
    progress.finish();
    Ok((files, start.elapsed().as_secs_f64()))
}

/// Prints the summary, writes `--report`, returns the exit code.
pub fn finish(mut report: Report, args: &RunArgs) -> anyhow::Result<i32> {
    if args.allow_invalid && report.exit_code == crate::EXIT_REJECTED {
        report.exit_code = crate::EXIT_OK;
    }
    eprintln!("{}", report.summary());
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(path, json).map_err(|e| anyhow::anyhow!("cannot write report {}: {e}", path.display()))?;
    }
    Ok(report.exit_code)
}

/// For a round of `watch`: prints the summary and appends the report to `--report`
/// as one line of JSON.
pub fn finish_round(report: &Report, args: &RunArgs) -> anyhow::Result<()> {
    eprintln!("{}", report.summary());
    if let Some(path) = &args.report {
        let mut json = serde_json::to_vec(report)?;
        json.push(b'\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("cannot write report {}: {e}", path.display()))?;
        std::io::Write::write_all(&mut f, &json)
            .map_err(|e| anyhow::anyhow!("cannot write report {}: {e}", path.display()))?;
    }
    Ok(())
}
