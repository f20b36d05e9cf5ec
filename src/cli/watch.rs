//! `xml2bq watch`: load new files as they arrive. Every `--interval` a round lists the
//! inputs and loads, through the destination's ledger, the versions it does not hold
//! (each round is one `load`: loaded files are skipped, a stopped batch is finished
//! first). A local file modified within `--settle` waits for the next round. SIGTERM or
//! SIGINT lets the round in progress finish, then the process exits 0 (a second one
//! stops at once), so a Kubernetes Deployment or a Cloud Run service can run it.

use super::load::{self, LoadArgs};
use super::{UsageError, finish_round};
use crate::report::Report;
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use xml2bq_core::Schema;
use xml2bq_gcp::bigquery::config::parse_duration;

pub const EXAMPLES: &str = "\
Examples:
  xml2bq watch incoming --dest out --archive done --interval 30s
      loads each new file in incoming/ within about 30 s of its arrival, then moves it to done/
  xml2bq watch 'gs://in-bucket/exports/' --dest bq://my-project.sales \\
      --dead-letter gs://in-bucket/invalid --interval 1m
      one line of JSON per round on stdout; stop with SIGTERM (the round in progress finishes)";

#[derive(Args, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Time between the start of two rounds (e.g. 30s, 5m).
    #[arg(long, default_value = "60s", value_parser = parse_duration, help_heading = "Watch")]
    pub interval: Duration,
    /// A local file modified within this time waits for the next round: it may still be
    /// being written. (Cloud Storage objects are whole once they are listed.)
    #[arg(long, default_value = "5s", value_parser = parse_duration, help_heading = "Watch")]
    pub settle: Duration,
    /// Stop after this many rounds [default: run until SIGTERM or SIGINT].
    #[arg(long, value_name = "N", help_heading = "Watch")]
    pub rounds: Option<u64>,
}

/// The line printed for each round.
#[derive(Serialize)]
struct RoundLine<'a> {
    round: u64,
    /// RFC 3339, when the round started.
    started: String,
    exit_code: i32,
    #[serde(flatten)]
    totals: &'a crate::report::Totals,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(schema: &'static Schema, args: WatchArgs, connect: &xml2bq_gcp::Connect) -> anyhow::Result<i32> {
    let stop = on_signals()?;
    eprintln!(
        "xml2bq watch: loading {} into {} every {} (SIGTERM or Ctrl-C stops after the round in progress)",
        args.load.run.inputs.join(" "),
        args.load.dest,
        xml2bq_gcp::bigquery::config::format_duration(args.interval)
    );
    let mut round = 0u64;
    loop {
        round += 1;
        let started = Instant::now();
        let stamp = crate::sink::ledger::now_rfc3339();
        let (report, error) = match load::round(schema, &args.load, Some(args.settle), connect) {
            Ok(r) => (r, None),
            // A usage error does not get better by waiting.
            Err(e) if e.is::<UsageError>() => return Err(e),
            Err(e) => (Report::new("load", schema, vec![], 0.0), Some(format!("{e:#}"))),
        };
        let line = RoundLine {
            round,
            started: stamp,
            exit_code: if error.is_some() { crate::EXIT_FATAL } else { report.exit_code },
            totals: &report.totals,
            error,
        };
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &line)?;
        writeln!(out)?;
        out.flush()?;
        drop(out);
        if let Some(e) = &line.error {
            eprintln!("xml2bq watch: round {round} failed (the next round tries again): {e}");
        } else if report.totals.files > report.totals.skipped {
            finish_round(&report, &args.load.run)?;
        }
        if stop.load(Ordering::SeqCst) || args.rounds.is_some_and(|n| round >= n) {
            return Ok(crate::EXIT_OK);
        }
        // Sleep until the next round, waking for a signal.
        while started.elapsed() < args.interval && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100).min(args.interval.saturating_sub(started.elapsed())));
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(crate::EXIT_OK);
        }
    }
}

/// A flag set by the first SIGTERM or SIGINT; a second one exits at once (status 130).
fn on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    use tokio::signal::unix::{SignalKind, signal};
    let stop = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    // Registered here, before any round, so that no signal is missed.
    let (mut term, mut int) = rt.block_on(async {
        Ok::<_, std::io::Error>((signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?))
    })?;
    let flag = stop.clone();
    std::thread::Builder::new().name("xml2bq-signals".into()).spawn(move || {
        rt.block_on(async {
            for n in 0.. {
                futures_util::future::select(Box::pin(term.recv()), Box::pin(int.recv())).await;
                if n > 0 {
                    std::process::exit(130);
                }
                flag.store(true, Ordering::SeqCst);
                eprintln!("xml2bq watch: stopping after the round in progress (signal again to stop now)");
            }
        })
    })?;
    Ok(stop)
}
