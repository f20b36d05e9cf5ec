//! `xml2bq validate`: parse inputs against the schema and report; write and move nothing.

use super::{Progress, RunArgs};
use crate::pipeline::{self, Job};
use crate::report::Report;
use crate::source;
use clap::Args;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<i32> {
    let inputs = source::expand(&args.run.inputs, &[])?;
    let progress = Arc::new(Progress::new(
        inputs.iter().map(|i| i.size).sum(),
        args.run.quiet,
    ));
    let job = Job {
        sink: None,
        dead_letter: None,
        batch_rows: 16_384,
        on_bytes: progress.on_bytes(),
        on_file: progress.on_file(),
    };
    let start = Instant::now();
    let files = pipeline::run(&job, &inputs, args.run.threads)?;
    progress.finish();
    let report = Report::new("validate", files, start.elapsed().as_secs_f64());
    super::finish(&report, &args.run)
}
