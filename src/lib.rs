//! xml2bq: stream XML files described by an XSD into typed Parquet, NDJSON and
//! BigQuery tables.
//!
//! Data flows one way: `source` (find and open inputs) → `parse` (generated,
//! schema-driven decoders over quick-xml) → `batch` (Arrow columns) → `sink`
//! (Parquet / NDJSON writers), with `deadletter` and `report` beside it and
//! `pipeline` tying one file's trip together.

pub mod batch;
pub mod parse;
pub mod schema;
