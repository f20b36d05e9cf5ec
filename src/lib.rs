//! xml2bq: stream XML files described by an XSD into typed Parquet, NDJSON and
//! BigQuery tables.
//!
//! Data flows one way: [`source`] (find and open inputs) → decoding (the code
//! generated from the schema, over `xml2bq_core`) → [`sink`] (Parquet / NDJSON
//! parts, BigQuery loads through `xml2bq_gcp`), with [`deadletter`] and [`report`]
//! beside it and [`pipeline`] taking one file through. The schema itself is an
//! argument (`&'static Schema`), compiled into the binary by `build.rs`.
#![forbid(unsafe_code)]

pub mod archive;
pub mod cli;
pub mod deadletter;
pub mod pipeline;
pub mod report;
pub mod sink;
pub mod source;

pub use xml2bq_core::schema::Schema;

/// Every file loaded (or valid).
pub const EXIT_OK: i32 = 0;
/// Nothing done, or some files could not be read or written (left in place).
pub const EXIT_FATAL: i32 = 1;
/// A usage error: a malformed or contradictory command line.
pub const EXIT_USAGE: i32 = 2;
/// Finished, but some files were invalid (dead-lettered, or listed by validate).
pub const EXIT_REJECTED: i32 = 3;
