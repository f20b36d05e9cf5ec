//! Compiles the schema into Rust (in `OUT_DIR`) for the `xml2bq` binary.
//!
//! `XML2BQ_SCHEMA` names a mapping file (`.toml`) or a schema document (`.xsd`),
//! absolute or relative to the repository root; without it, the repository's own
//! setup, `xsd/customer_orders.toml`. What cannot be compiled is reported with the
//! construct and where it is, and the build stops (no panic, no broken code).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=XML2BQ_SCHEMA");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let schema = match std::env::var_os("XML2BQ_SCHEMA") {
        Some(p) if !p.is_empty() => root.join(PathBuf::from(p)),
        _ => root.join("xsd/customer_orders.toml"),
    };
    println!("cargo:rerun-if-changed={}", schema.display());
    let compiled = match xml2bq_codegen::compile(&schema) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: xml2bq cannot compile the schema {}:\n  {e}", schema.display());
            eprintln!("  (XML2BQ_SCHEMA names the mapping or .xsd to build for; the README lists what is supported)");
            std::process::exit(1);
        }
    };
    for f in &compiled.files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("schema.rs");
    if let Err(e) = std::fs::write(&out, compiled.code) {
        eprintln!("error: cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
