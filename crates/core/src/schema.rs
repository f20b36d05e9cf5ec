//! The static description of a compiled schema: what generated code provides and
//! the rest of xml2bq reads. Tables and their columns, the document roots and their
//! decoders, the namespaces the decoder knows, and where the schema came from.

use crate::columns::Columns;
use crate::error::DecodeError;
use crate::parse::Decoder;

/// A decoder for the element whose start tag was just read, writing to `Columns`.
pub type ElementDecoder = fn(&mut Decoder<'_>, &mut Columns) -> Result<(), DecodeError>;

/// Everything generated for one schema (one or several schema sets).
#[derive(Debug)]
pub struct Schema {
    pub info: Info,
    /// Namespace URIs by id: 0 is "no namespace", 1 the XML namespace, 2 XML Schema instance.
    pub namespaces: &'static [&'static str],
    pub tables: &'static [Table],
    pub roots: &'static [Root],
    /// Ancestor counters (for `_<ancestor>_ordinal` columns).
    pub counters: usize,
    /// The identity constraints (xs:key, xs:unique, xs:keyref) of the schema.
    pub constraints: &'static [crate::identity::Constraint],
}

/// Where a compiled schema came from, for `xml2bq schema --info` and `--version`.
#[derive(Debug)]
pub struct Info {
    /// The mapping file (None: a bare schema document with the automatic mapping).
    pub mapping: Option<&'static str>,
    /// Every schema file read, with the SHA-256 of its bytes.
    pub files: &'static [(&'static str, &'static str)],
    /// The relaxations of the schema the mapping states, one sentence each.
    pub relaxations: &'static [&'static str],
    /// The zone unzoned xs:dateTime values are read in (TIMESTAMP columns).
    pub timezone: &'static str,
    /// RECORD nesting beyond which content is kept as XML text.
    pub max_depth: u32,
}

/// A BigQuery column type (and the Arrow type that carries it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Bytes,
    Int64,
    Float64,
    Bool,
    /// Decimal128(38, 9).
    Numeric,
    /// Decimal256(76, 38).
    BigNumeric,
    Date,
    Time,
    DateTime,
    Timestamp,
    Record(&'static [Column]),
}

impl ColumnType {
    /// BigQuery's name of the type.
    pub fn bigquery(self) -> &'static str {
        match self {
            ColumnType::String => "STRING",
            ColumnType::Bytes => "BYTES",
            ColumnType::Int64 => "INT64",
            ColumnType::Float64 => "FLOAT64",
            ColumnType::Bool => "BOOL",
            ColumnType::Numeric => "NUMERIC",
            ColumnType::BigNumeric => "BIGNUMERIC",
            ColumnType::Date => "DATE",
            ColumnType::Time => "TIME",
            ColumnType::DateTime => "DATETIME",
            ColumnType::Timestamp => "TIMESTAMP",
            ColumnType::Record(_) => "RECORD",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Required,
    Nullable,
    Repeated,
}

impl Mode {
    pub fn bigquery(self) -> &'static str {
        match self {
            Mode::Required => "REQUIRED",
            Mode::Nullable => "NULLABLE",
            Mode::Repeated => "REPEATED",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    pub mode: Mode,
}

/// An `_<ancestor>_ordinal` lineage column of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ancestor {
    pub column: &'static str,
    /// NULL for the rows of a row path without this ancestor.
    pub nullable: bool,
}

/// Where a row path's ancestor ordinal comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lineage {
    /// The table's ancestor column.
    pub column: u16,
    pub counter: u16,
    /// The ancestor's place in the row path (0: the root).
    pub depth: u16,
}

/// Where a table's rows are in a document: the element path from the root.
#[derive(Debug)]
pub struct RowPath {
    /// (namespace id, local name) of each element, the root first and the row element last.
    pub elements: &'static [(u16, &'static str)],
    /// Decodes one row element (its start tag just read) as a row of the table.
    pub decode: ElementDecoder,
    /// The repeated ancestors on this path and their ordinal columns.
    pub ancestors: &'static [Lineage],
    /// Identity-constraint scopes the row's ancestors open: (depth, 1 = the root; constraints).
    pub scopes: &'static [(u16, &'static [u16])],
}

/// A table: its columns (lineage columns are added after them) and where its rows are.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub ancestors: &'static [Ancestor],
    pub rows: &'static [RowPath],
    /// The document table (one row per file) of a root element.
    pub document: bool,
}

/// A global element that may be a document's root.
#[derive(Debug)]
pub struct Root {
    pub ns: u16,
    pub local: &'static str,
    /// Decodes the root element (its start tag just read) and everything inside.
    pub decode: ElementDecoder,
}

/// Namespace ids every schema has.
pub const NS_NONE: u16 = 0;
pub const NS_XML: u16 = 1;
pub const NS_XSI: u16 = 2;
/// The id of a namespace the schema does not know.
pub const NS_OTHER: u16 = u16::MAX;

/// The namespaces every schema's table starts with.
pub const BASE_NAMESPACES: [&str; 3] =
    ["", "http://www.w3.org/XML/1998/namespace", "http://www.w3.org/2001/XMLSchema-instance"];

impl Schema {
    /// The index of the table named `name`.
    pub fn table(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }

    /// The namespace URI of an id, for messages.
    pub fn namespace(&self, ns: u16) -> &'static str {
        self.namespaces.get(ns as usize).copied().unwrap_or("(another namespace)")
    }
}
