//! `xml2bq validate`: parse inputs against the schema and report; write and move nothing.

use super::RunArgs;
use crate::source;
use clap::Args;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(schema: &'static xml2bq_core::Schema, args: ValidateArgs) -> anyhow::Result<i32> {
    let (inputs, shard) = args.run.shard_inputs(source::expand(&args.run.inputs, &[])?)?;
    let (files, secs) = super::run_files(schema, &inputs, None, None, 16_384, &args.run)?;
    let mut report = crate::report::Report::new("validate", schema, files, secs);
    report.shard = shard.map(|s| s.to_string());
    super::finish(report, &args.run)
}
