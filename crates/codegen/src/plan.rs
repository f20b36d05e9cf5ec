//! The plan the emitter writes out: tables and their column layouts, the decoder
//! functions (one per complex type and layout), content models and value functions.
//! Built by [`crate::layout`]; every item is self-contained (names, namespace ids,
//! column types resolved), so the emitter never looks at the schema again.

use crate::xsd::model::{Builtin, Facets, Process, Ws};

/// A column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    String,
    Bytes,
    Int64,
    Float64,
    Bool,
    Numeric,
    BigNumeric,
    Date,
    Time,
    DateTime,
    Timestamp,
}

impl Scalar {
    pub fn bigquery(self) -> &'static str {
        match self {
            Scalar::String => "STRING",
            Scalar::Bytes => "BYTES",
            Scalar::Int64 => "INT64",
            Scalar::Float64 => "FLOAT64",
            Scalar::Bool => "BOOL",
            Scalar::Numeric => "NUMERIC",
            Scalar::BigNumeric => "BIGNUMERIC",
            Scalar::Date => "DATE",
            Scalar::Time => "TIME",
            Scalar::DateTime => "DATETIME",
            Scalar::Timestamp => "TIMESTAMP",
        }
    }

    /// The `ColumnType` variant name in xml2bq_core::schema.
    pub fn variant(self) -> &'static str {
        match self {
            Scalar::String => "String",
            Scalar::Bytes => "Bytes",
            Scalar::Int64 => "Int64",
            Scalar::Float64 => "Float64",
            Scalar::Bool => "Bool",
            Scalar::Numeric => "Numeric",
            Scalar::BigNumeric => "BigNumeric",
            Scalar::Date => "Date",
            Scalar::Time => "Time",
            Scalar::DateTime => "DateTime",
            Scalar::Timestamp => "Timestamp",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ColType {
    Scalar(Scalar),
    Record(usize),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnPlan {
    pub name: String,
    pub ty: ColType,
    pub mode: Mode,
}

/// A record layout: the columns of a table row or of a RECORD column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct RecordPlan {
    pub columns: Vec<ColumnPlan>,
}

/// A value function: XSD lexical value (whitespace already applied) → column value.
#[derive(Clone, Debug, PartialEq)]
pub struct SimplePlan {
    pub fn_name: String,
    pub doc: String,
    pub out: Scalar,
    pub ws: Ws,
    pub kind: SimpleKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SimpleKind {
    Atomic {
        builtin: Builtin,
        facets: Facets,
    },
    /// Items of another value function; facets on the list (length in items, pattern
    /// and enumeration on the whole value).
    List {
        item: usize,
        facets: Facets,
    },
    /// Members tried in order; `out` is the common column type or STRING.
    Union {
        members: Vec<usize>,
        facets: Facets,
    },
}

/// Where a simple value goes.
#[derive(Clone, Debug, PartialEq)]
pub struct ValuePlan {
    pub simple: usize,
    /// The field of the current record (None: validated, not kept).
    pub field: Option<u16>,
    /// The value is a list (its items go to a REPEATED column).
    pub list: bool,
    /// A list-valued element that repeats: each occurrence is a record whose field 0 holds the items.
    pub wrap: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttrPlan {
    pub ns: u16,
    pub local: String,
    pub value: ValuePlan,
    pub required: bool,
    pub default: Option<String>,
    pub fixed: Option<String>,
}

/// Which namespaces a wildcard accepts, by namespace id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NsTest {
    Any,
    /// Any namespace but these (namespace ids; NS_NONE included for `##other`).
    Not(Vec<u16>),
    /// One of these.
    In(Vec<u16>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct WildcardPlan {
    pub test: NsTest,
    pub process: Process,
    pub field: Option<u16>,
    /// Which schema set's global declarations validate what it matches (an index into `globals`).
    pub globals: u16,
}

/// How a decoder that writes into some record is called for one element.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The xsi:type naming this variant: (namespace id, local); None for the declared type.
    pub xsi: Option<(u16, String)>,
    pub decoder: usize,
    /// Reached only through xsi:type (the declared type itself is abstract, or this is derived).
    pub only_by_xsi: bool,
    /// An abstract type: naming it in xsi:type is an error (`decoder` is not used).
    pub is_abstract: bool,
}

/// Where a complex child's record goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// A RECORD column of the current record (`xsi_field`: its `xsi_type` column).
    Column { field: u16, xsi_field: Option<u16> },
    /// A row of a table (`row`: which of its row paths).
    Row { table: u16, row: u16 },
    /// No column: its content only holds table rows (decoded in the current record's context).
    Transparent,
    /// Validated, kept nowhere.
    Discard,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChildAction {
    Value(ValuePlan),
    Record {
        place: Place,
        variants: Vec<Variant>,
        declared: String,
    },
    /// Kept as XML text (recursion cut), validated by the variants with nothing written.
    Cut {
        field: Option<u16>,
        variants: Vec<Variant>,
        declared: String,
    },
    /// An empty element (no attributes, no content): BOOL true.
    Presence {
        field: Option<u16>,
        decoder: usize,
    },
    Wildcard(WildcardPlan),
}

/// One symbol of a decoder's content model.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildPlan {
    pub symbol: u16,
    /// (namespace id, local name); None for a wildcard.
    pub name: Option<(u16, String)>,
    pub action: ChildAction,
    pub nillable: bool,
    pub default: Option<String>,
    pub fixed: Option<String>,
    /// Ancestor counter to bump when this element starts.
    pub counter: Option<u16>,
    /// Identity constraints the element declares (indices into `Plan::constraints`).
    pub scope: Vec<u16>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum ContentPlan {
    #[default]
    Empty,
    Simple {
        value: ValuePlan,
    },
    Elements {
        model: usize,
        children: Vec<ChildPlan>,
        /// Mixed content: the field its text goes to (Some(None): validated only).
        mixed: Option<Option<u16>>,
        /// Groups of symbols of which at least one must occur (mapping `require_one_of`).
        require_one_of: Vec<(Vec<u16>, Vec<String>)>,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecoderPlan {
    pub fn_name: String,
    pub doc: String,
    pub type_name: String,
    /// An abstract type's decoder only lays out its columns: it is not emitted.
    pub is_abstract: bool,
    pub attrs: Vec<AttrPlan>,
    pub attr_wildcard: Option<WildcardPlan>,
    pub content: ContentPlan,
    /// Abstract elements of the content model (an element may not be one of them).
    pub abstract_elements: Vec<(u16, String)>,
}

/// A compiled content model, ready to print as a static.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelPlan {
    pub name: String,
    /// (namespace id or WILDCARD, local name or description).
    pub symbols: Vec<(Option<u16>, String)>,
    pub wildcards: Vec<(u16, NsTest)>,
    pub automaton: crate::automaton::Automaton,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RowPathPlan {
    pub elements: Vec<(u16, String)>,
    /// (ancestor column, counter, depth in the path) of each repeated ancestor.
    pub ancestors: Vec<(u16, u16, u16)>,
    /// The decoder of one row: the row element's variants.
    pub variants: Vec<Variant>,
    pub declared: String,
    pub nillable: bool,
    /// Identity constraints the row element declares.
    pub scope: Vec<u16>,
    /// Scopes the row's ancestors open: (depth, 1 = the root; constraints).
    pub outer_scopes: Vec<(u16, Vec<u16>)>,
}

/// A name test: (namespace id or any, local name or any).
pub type TestPlan = (Option<u16>, Option<String>);

/// A path of an identity constraint (`.` steps removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPlan {
    pub descendants: bool,
    pub steps: Vec<TestPlan>,
    pub attribute: Option<TestPlan>,
}

/// How an identity constraint's field values compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CanonPlan {
    Text { collapse: bool },
    Decimal,
    Float,
    Boolean,
    Temporal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    Key,
    Unique,
    KeyRef(u16),
}

/// An identity constraint (xs:key, xs:unique, xs:keyref).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintPlan {
    pub name: String,
    pub kind: ConstraintKind,
    pub selector: Vec<PathPlan>,
    pub fields: Vec<(Vec<PathPlan>, CanonPlan)>,
    pub unless_absent: Option<(u16, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TablePlan {
    pub name: String,
    pub record: usize,
    /// `_<ancestor>_ordinal` columns: (column name, nullable).
    pub ancestors: Vec<(String, bool)>,
    pub rows: Vec<RowPathPlan>,
    pub document: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RootPlan {
    pub ns: u16,
    pub local: String,
    /// The document table (None: the root's content only holds other tables' rows).
    pub table: Option<u16>,
    pub variants: Vec<Variant>,
    pub declared: String,
    pub nillable: bool,
    /// A root of simple type: the value function (its table has one `value` column).
    pub simple: Option<usize>,
    pub scope: Vec<u16>,
}

/// Validation of declared global elements met by strict and lax wildcards.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GlobalsPlan {
    pub fn_name: String,
    /// (namespace id, local, how to validate): a decoder, or a value function.
    pub elements: Vec<(u16, String, GlobalAction)>,
    pub attributes_fn: String,
    /// Global attributes met by strict and lax attribute wildcards: (namespace id, local, value function).
    pub attributes: Vec<(u16, String, usize)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GlobalAction {
    Decoder(Vec<Variant>, String),
    Value(usize),
}

/// Everything to emit.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub namespaces: Vec<String>,
    pub records: Vec<RecordPlan>,
    pub tables: Vec<TablePlan>,
    pub roots: Vec<RootPlan>,
    pub decoders: Vec<DecoderPlan>,
    pub models: Vec<ModelPlan>,
    pub simples: Vec<SimplePlan>,
    pub counters: Vec<String>,
    pub globals: Vec<GlobalsPlan>,
    pub constraints: Vec<ConstraintPlan>,
    /// The zone of unzoned dateTime values in TIMESTAMP columns, minutes east of UTC.
    pub timezone_minutes: i16,
}
