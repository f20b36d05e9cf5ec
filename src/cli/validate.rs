//! `xml2bq validate`: parse inputs against the schema and report; write and move nothing.

use super::RunArgs;
use clap::Args;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(
    schema: &'static xml2bq_core::Schema,
    args: ValidateArgs,
    connect: &xml2bq_gcp::Connect,
) -> anyhow::Result<i32> {
    let shard = args.run.shard()?;
    args.run.check_report()?;
    let inputs = args.run.inputs(shard, &[], connect)?;
    let (files, secs) = super::run_files(schema, &inputs.inputs, None, None, None, 16_384, &args.run)?;
    let mut report = crate::report::Report::new("validate", schema, inputs.reports(files), secs);
    report.shard = shard.map(|s| s.to_string());
    super::finish(report, &args.run)
}
