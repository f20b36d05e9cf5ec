//! `xml2bq schema`: print the BigQuery JSON schemas generated from the XSD.

use crate::schema::{TABLES, table_index};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Print only this table's schema, as a bare JSON array (`bq mk --schema FILE` takes it).
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Write <table>.json for every table into this folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

fn parsed(t: usize) -> serde_json::Value {
    serde_json::from_str(TABLES[t].bigquery_schema).expect("generated schema is JSON")
}

pub fn run(args: SchemaArgs) -> anyhow::Result<i32> {
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir)?;
        for (t, spec) in TABLES.iter().enumerate() {
            let path = dir.join(format!("{}.json", spec.name));
            std::fs::write(&path, serde_json::to_string_pretty(&parsed(t))? + "\n")?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(crate::EXIT_OK);
    }
    let value = match &args.table {
        Some(name) => {
            let t = table_index(name).ok_or_else(|| {
                let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
                anyhow::anyhow!("no table {name:?}; the tables are {names:?}")
            })?;
            parsed(t)
        }
        None => {
            serde_json::Value::Object(TABLES.iter().enumerate().map(|(t, s)| (s.name.to_string(), parsed(t))).collect())
        }
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(crate::EXIT_OK)
}
