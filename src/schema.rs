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

/// What generated code provides for one XSD: its document shape and, per table, a
/// record decoder that appends rows to Arrow columns.
pub trait Document: Default {
    /// The root element's name.
    const ROOT: &'static str;
    /// The tables, in document order.
    const TABLES: &'static [TableSpec];
    /// Decodes one record of `table` (its start tag `tag` just read) and appends it as a row.
    fn decode_record<S: crate::parse::Events>(
        &mut self,
        table: usize,
        d: &mut crate::parse::Decoder<S>,
        tag: crate::parse::Tag,
        source: &str,
        ordinal: i64,
    ) -> Result<(), crate::parse::DecodeError>;
    /// Rows buffered for `table`.
    fn rows(&self, table: usize) -> usize;
    /// Takes the buffered rows of `table` as a record batch.
    fn finish(&mut self, table: usize) -> arrow_array::RecordBatch;
    /// The Arrow schema of `table`, lineage columns last.
    fn arrow_schema(table: usize) -> arrow_schema::SchemaRef;
}

/// The XSD file the code was generated from.
pub const XSD_FILE: &str = env!("XML2BQ_XSD");

include!(concat!(env!("OUT_DIR"), "/schema_gen.rs"));

/// The index of the table named `name`.
pub fn table_index(name: &str) -> Option<usize> {
    TABLES.iter().position(|t| t.name == name)
}
