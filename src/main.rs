//! The `xml2bq` binary: the command line over the schema compiled in at build time.
#![forbid(unsafe_code)]

/// The schema, compiled by `build.rs` from `XML2BQ_SCHEMA` (default: `xsd/customer_orders.toml`).
#[allow(clippy::all, dead_code, unused_variables, unused_mut)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/schema.rs"));
}

fn main() {
    std::process::exit(xml2bq::cli::main(&schema::SCHEMA));
}
