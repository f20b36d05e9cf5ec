//! xml2bq: stream XML files described by an XSD into typed Parquet, NDJSON and
//! BigQuery tables.
//!
//! Data flows one way: [`source`] (find and open inputs) → [`parse`] (generated,
//! schema-driven decoders over quick-xml) → [`batch`] (Arrow columns) → [`sink`]
//! (Parquet / NDJSON parts), with [`deadletter`] and [`report`] beside it and
//! [`pipeline`] taking one file through. [`schema`] holds the generated code.

// The generated code names this crate `::xml2bq`, so it compiles here and in tests alike.
extern crate self as xml2bq;

pub mod batch;
pub mod cli;
pub mod deadletter;
pub mod gcp;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod schema;
pub mod sink;
pub mod source;

/// Every file loaded (or valid).
pub const EXIT_OK: i32 = 0;
/// Nothing done, or some files could not be read or written (left in place).
pub const EXIT_FATAL: i32 = 1;
/// Finished, but some files were invalid (dead-lettered, or listed by validate).
pub const EXIT_REJECTED: i32 = 3;
