//! `xml2bq-codegen preview MAPPING`: the tables, columns and types a mapping produces,
//! printed without building xml2bq.

use crate::plan::{ColType, Plan};
use std::fmt::Write;

/// The tables of a plan as indented text.
pub fn tables(plan: &Plan) -> String {
    let mut out = String::new();
    for t in &plan.tables {
        let kind = if t.document { "document table (one row per file)" } else { "table" };
        writeln!(out, "{} — {kind}", t.name).ok();
        for r in &t.rows {
            let path: String = r.elements.iter().map(|(_, l)| format!("/{l}")).collect();
            writeln!(out, "  rows: {path}").ok();
        }
        columns(plan, t.record, 1, &mut out);
        writeln!(out, "  _source_uri STRING REQUIRED\n  _record_ordinal INT64 REQUIRED").ok();
        for (n, nullable) in &t.ancestors {
            writeln!(out, "  {n} INT64 {}", if *nullable { "NULLABLE" } else { "REQUIRED" }).ok();
        }
        out.push('\n');
    }
    out
}

fn columns(plan: &Plan, record: usize, depth: usize, out: &mut String) {
    for c in &plan.records[record].columns {
        let pad = "  ".repeat(depth);
        match c.ty {
            ColType::Scalar(s) => writeln!(out, "{pad}{} {} {}", c.name, s.bigquery(), c.mode.bigquery()).ok(),
            ColType::Record(r) => {
                writeln!(out, "{pad}{} RECORD {}", c.name, c.mode.bigquery()).ok();
                columns(plan, r, depth + 1, out);
                None
            }
        };
    }
}
