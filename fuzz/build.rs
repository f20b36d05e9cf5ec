//! The sample schema's decoder for the targets, compiled as the root `build.rs` does
//! (`XML2BQ_SCHEMA`, relative to the repository root; default the repository's own).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=XML2BQ_SCHEMA");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("..");
    let schema = match std::env::var_os("XML2BQ_SCHEMA") {
        Some(p) if !p.is_empty() => root.join(PathBuf::from(p)),
        _ => root.join("xsd/customer_orders.toml"),
    };
    println!("cargo:rerun-if-changed={}", schema.display());
    let compiled =
        xml2bq_codegen::compile(&schema).unwrap_or_else(|e| panic!("cannot compile {}: {e}", schema.display()));
    for f in &compiled.files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("schema.rs");
    std::fs::write(&out, compiled.code).expect("write schema.rs");
}
