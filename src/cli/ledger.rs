//! `xml2bq ledger`: show a destination's ledger of loaded inputs, or forget inputs so
//! that the next `load` reads them again.

use super::UsageError;
use crate::sink::bigquery;
use crate::sink::ledger as local;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use xml2bq_core::Schema;
use xml2bq_gcp::Connect;
use xml2bq_gcp::bigquery::{Dest, LoadOptions};

pub const EXAMPLES: &str = "\
Examples:
  xml2bq ledger list out
  xml2bq ledger list bq://my-project.sales --json
  xml2bq ledger forget out file:///data/exports/2026-11-01.xml
      the next `xml2bq load ... --dest out` loads that file again (its first parts are replaced)
  xml2bq ledger forget bq://my-project.sales gs://in-bucket/exports/a.xml
      the next load appends its rows again: delete the old ones first if they must not stay";

#[derive(Args, Debug)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// List the inputs loaded into DEST (and, for BigQuery, batches not finished yet).
    List {
        /// A folder destination, or bq://PROJECT.DATASET.
        #[arg(value_name = "DEST")]
        dest: String,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Forget inputs (by URI, as `ledger list` shows them), so that the next load reads them again.
    Forget {
        #[arg(value_name = "DEST")]
        dest: String,
        #[arg(value_name = "URI", required = true)]
        uris: Vec<String>,
    },
}

/// One line of `ledger list`.
#[derive(Serialize)]
struct Line {
    uri: String,
    version: String,
    /// `loaded`, or `pending` (a BigQuery batch recorded but not finished).
    state: &'static str,
    rows: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loaded_at: Option<String>,
}

pub fn run(schema: &'static Schema, args: LedgerArgs, connect: &Connect) -> anyhow::Result<i32> {
    match args.command {
        LedgerCommand::List { dest, json } => {
            let lines =
                if dest.starts_with("bq://") { bigquery_lines(schema, &dest, connect)? } else { local_lines(&dest)? };
            for l in &lines {
                if json {
                    println!("{}", serde_json::to_string(l)?);
                } else {
                    let rows: Vec<String> = l.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
                    println!("{}\t{}\t{}\t{}", l.state, l.uri, l.version, rows.join(", "));
                }
            }
            eprintln!("{} inputs in the ledger of {dest}", lines.len());
            Ok(crate::EXIT_OK)
        }
        LedgerCommand::Forget { dest, uris } => {
            let unknown = if dest.starts_with("bq://") {
                let (sink, _work) = bigquery_sink(schema, &dest, connect)?;
                sink.forget(&uris)?
            } else {
                local::forget(&folder(&dest)?, &uris)?
            };
            for u in &unknown {
                eprintln!("xml2bq: not in the ledger of {dest}: {u}");
            }
            eprintln!(
                "forgot {} of {} inputs: the next load of {dest} reads them again",
                uris.len() - unknown.len(),
                uris.len()
            );
            Ok(if unknown.is_empty() { crate::EXIT_OK } else { crate::EXIT_FATAL })
        }
    }
}

fn folder(dest: &str) -> anyhow::Result<PathBuf> {
    let p = PathBuf::from(dest);
    if !p.is_dir() {
        return Err(anyhow::anyhow!("{dest}: no such destination folder"));
    }
    Ok(p)
}

fn local_lines(dest: &str) -> anyhow::Result<Vec<Line>> {
    Ok(local::list(&folder(dest)?)?
        .into_iter()
        .map(|(_, e)| Line {
            uri: e.uri,
            version: e.version,
            state: "loaded",
            rows: e.rows,
            batch: None,
            loaded_at: Some(e.loaded_at),
        })
        .collect())
}

/// The sink of a BigQuery destination, with its work folder (removed when dropped).
fn bigquery_sink(
    schema: &'static Schema,
    dest: &str,
    connect: &Connect,
) -> anyhow::Result<(bigquery::Sink, tempfile::TempDir)> {
    let d = Dest::parse(dest).map_err(|e| UsageError(format!("DEST: {e}")))?;
    let names: Vec<String> = schema.tables.iter().map(|t| t.name.to_string()).collect();
    let temp = super::temp_folder("xml2bq-ledger-")?;
    let work = temp.path().to_path_buf();
    let parts = crate::sink::LocalSink {
        schema,
        dest: work.clone(),
        format: crate::sink::Format::Parquet,
        row_group_rows: 1,
        ledger: false,
        reload: false,
    };
    Ok((bigquery::Sink { cloud: connect.get()?, opts: LoadOptions::new(d, names), schema, parts, work }, temp))
}

fn bigquery_lines(schema: &'static Schema, dest: &str, connect: &Connect) -> anyhow::Result<Vec<Line>> {
    let (sink, _work) = bigquery_sink(schema, dest, connect)?;
    let state = sink.state()?;
    let mut lines: Vec<Line> = state
        .loaded_inputs()
        .map(|(uri, version, rows)| Line {
            uri: uri.to_string(),
            version: version.to_string(),
            state: "loaded",
            rows: rows.clone(),
            batch: None,
            loaded_at: None,
        })
        .collect();
    for p in state.pending() {
        for (uri, (version, rows)) in &p.files {
            lines.push(Line {
                uri: uri.clone(),
                version: version.clone(),
                state: "pending",
                rows: rows.clone(),
                batch: Some(p.batch.clone()),
                loaded_at: None,
            });
        }
    }
    lines.sort_by(|a, b| (&a.uri, &a.version).cmp(&(&b.uri, &b.version)));
    Ok(lines)
}
