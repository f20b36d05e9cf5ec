//! `xml2bq-codegen`: compile a schema or mapping without building xml2bq.
//!
//! ```text
//! xml2bq-codegen preview MAPPING.toml|SCHEMA.xsd   print the tables, columns and types
//! xml2bq-codegen emit MAPPING.toml|SCHEMA.xsd      print the generated Rust module
//! ```
#![forbid(unsafe_code)]

use std::path::Path;

const USAGE: &str = "usage: xml2bq-codegen preview|emit MAPPING.toml|SCHEMA.xsd";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, path) = match args.as_slice() {
        [c, p] if c == "preview" || c == "emit" => (c.as_str(), Path::new(p)),
        [h] if h == "--help" || h == "-h" => {
            println!(
                "{USAGE}\n\npreview: the tables, columns and types a mapping produces\nemit: the generated Rust module"
            );
            return;
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    match xml2bq_codegen::compile(path) {
        Ok(c) if cmd == "preview" => print!("{}", c.preview()),
        Ok(c) => print!("{}", c.code),
        Err(e) => {
            eprintln!("xml2bq-codegen: {e}");
            std::process::exit(1);
        }
    }
}
