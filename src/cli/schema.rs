//! `xml2bq schema`: the tables' BigQuery schemas, or what the binary was built from.

use super::UsageError;
use clap::Args;
use std::path::PathBuf;
use xml2bq_core::Schema;
use xml2bq_gcp::bigquery::schema::fields;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Print only this table's schema, as a bare JSON array (`bq mk --schema FILE` takes it).
    #[arg(long, value_name = "NAME", conflicts_with = "info")]
    pub table: Option<String>,
    /// Write <table>.json for every table (or the --table one) into this folder instead of printing.
    #[arg(long, value_name = "DIR", conflicts_with = "info")]
    pub out_dir: Option<PathBuf>,
    /// Print the mapping and schema files the binary was built with, the tables, and
    /// the relaxations of the schema the mapping states.
    #[arg(long)]
    pub info: bool,
}

/// `--version`'s long text: the version and the schema the binary was built with.
pub fn version(schema: &Schema) -> String {
    format!("{}\n{}", env!("CARGO_PKG_VERSION"), info(schema))
}

/// What the binary was built with, as text.
pub fn info(schema: &Schema) -> String {
    let i = &schema.info;
    let mut s = String::new();
    match i.mapping {
        Some(m) => s.push_str(&format!("mapping: {m}\n")),
        None => s.push_str("mapping: none (the automatic tables of the schema)\n"),
    }
    s.push_str("schema files (sha256):\n");
    for (f, h) in i.files {
        s.push_str(&format!("  {f}  {h}\n"));
    }
    s.push_str("roots:\n");
    for r in schema.roots {
        let ns = schema.namespace(r.ns);
        if ns.is_empty() {
            s.push_str(&format!("  <{}>\n", r.local));
        } else {
            s.push_str(&format!("  <{}> in {ns}\n", r.local));
        }
    }
    s.push_str("tables:\n");
    for t in schema.tables {
        let rows: Vec<String> =
            t.rows.iter().map(|r| r.elements.iter().map(|(_, l)| format!("/{l}")).collect::<String>()).collect();
        let what = if t.document { "one row per file".to_string() } else { rows.join(", ") };
        s.push_str(&format!("  {} ({what})\n", t.name));
    }
    if i.relaxations.is_empty() {
        s.push_str("relaxations of the schema: none\n");
    } else {
        s.push_str("relaxations of the schema (stated by the mapping):\n");
        for r in i.relaxations {
            s.push_str(&format!("  {r}\n"));
        }
    }
    s.push_str(&format!("unzoned xs:dateTime values are read in: {}\n", i.timezone));
    s.push_str(&format!("RECORD nesting kept as columns: {} levels (deeper: XML text)\n", i.max_depth));
    s
}

pub fn run(schema: &'static Schema, args: SchemaArgs) -> anyhow::Result<i32> {
    if args.info {
        print!("{}", info(schema));
        return Ok(crate::EXIT_OK);
    }
    let tables: Vec<&xml2bq_core::schema::Table> = match &args.table {
        Some(name) => match schema.table(name) {
            Some(t) => vec![&schema.tables[t]],
            None => {
                let names: Vec<&str> = schema.tables.iter().map(|t| t.name).collect();
                return Err(UsageError(format!("--table {name:?}: no such table; the tables are {names:?}")).into());
            }
        },
        None => schema.tables.iter().collect(),
    };
    if let Some(dir) = &args.out_dir {
        super::dest::folder("--out-dir", dir, super::dest::Create::Now)?;
        for t in tables {
            let path = dir.join(format!("{}.json", t.name));
            let text = serde_json::to_string_pretty(&fields(t))? + "\n";
            std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(crate::EXIT_OK);
    }
    let value = match &args.table {
        Some(_) => serde_json::Value::Array(fields(tables[0])),
        None => serde_json::Value::Object(
            tables.iter().map(|t| (t.name.to_string(), serde_json::Value::Array(fields(t)))).collect(),
        ),
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(crate::EXIT_OK)
}
