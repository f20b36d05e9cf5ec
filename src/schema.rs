//! The types generated at build time from `xsd/*.xsd` (see `build.rs` and `codegen/`):
//! record structs, their decoders, Arrow columns and schemas, BigQuery schemas.

/// What the generator found for one table.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    /// Table name, e.g. `customers`.
    pub name: &'static str,
    /// The container element, e.g. `Customers`.
    pub container: &'static str,
    /// The repeated record element, e.g. `Customer`.
    pub record: &'static str,
    /// The BigQuery JSON schema (as `bq mk --schema` takes it), lineage columns included.
    pub bigquery_schema: &'static str,
}

/// The XSD file the code was generated from.
pub const XSD_FILE: &str = env!("XML2BQ_XSD");

include!(concat!(env!("OUT_DIR"), "/schema_gen.rs"));

/// The index of the table named `name`.
pub fn table_index(name: &str) -> Option<usize> {
    TABLES.iter().position(|t| t.name == name)
}
