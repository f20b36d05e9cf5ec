//! The schema components the generator works from (XML Schema Part 1 §2.2), with
//! every reference resolved: element and attribute declarations, complex and simple
//! type definitions, particles, wildcards and identity constraints.

use crate::error::Loc;
use std::collections::BTreeMap;

/// An expanded name: (namespace, local name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QName {
    pub ns: Option<String>,
    pub local: String,
}

impl QName {
    pub fn new(ns: Option<String>, local: impl Into<String>) -> Self {
        QName { ns, local: local.into() }
    }
}

impl std::fmt::Display for QName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.ns {
            Some(ns) => write!(f, "{{{ns}}}{}", self.local),
            None => f.write_str(&self.local),
        }
    }
}

pub type ElemId = usize;
pub type ComplexId = usize;
pub type SimpleId = usize;
pub type ConstraintId = usize;

/// A type definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeRef {
    Simple(SimpleId),
    Complex(ComplexId),
}

/// The built-in simple types (XML Schema Part 2 §3), plus xs:dateTimeStamp (1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Builtin {
    AnySimpleType,
    String,
    NormalizedString,
    Token,
    Language,
    Name,
    NCName,
    NmToken,
    Id,
    IdRef,
    Entity,
    AnyUri,
    QName,
    Notation,
    Boolean,
    Decimal,
    Integer,
    Long,
    Int,
    Short,
    Byte,
    NonNegativeInteger,
    PositiveInteger,
    NonPositiveInteger,
    NegativeInteger,
    UnsignedLong,
    UnsignedInt,
    UnsignedShort,
    UnsignedByte,
    Float,
    Double,
    Duration,
    DateTime,
    DateTimeStamp,
    Date,
    Time,
    GYear,
    GYearMonth,
    GMonthDay,
    GMonth,
    GDay,
    Base64Binary,
    HexBinary,
}

impl Builtin {
    /// Every built-in atomic type with its XSD name and its base type's name.
    pub const ALL: &'static [(Builtin, &'static str, &'static str)] = &[
        (Builtin::AnySimpleType, "anySimpleType", ""),
        (Builtin::String, "string", "anySimpleType"),
        (Builtin::NormalizedString, "normalizedString", "string"),
        (Builtin::Token, "token", "normalizedString"),
        (Builtin::Language, "language", "token"),
        (Builtin::Name, "Name", "token"),
        (Builtin::NCName, "NCName", "Name"),
        (Builtin::NmToken, "NMTOKEN", "token"),
        (Builtin::Id, "ID", "NCName"),
        (Builtin::IdRef, "IDREF", "NCName"),
        (Builtin::Entity, "ENTITY", "NCName"),
        (Builtin::AnyUri, "anyURI", "anySimpleType"),
        (Builtin::QName, "QName", "anySimpleType"),
        (Builtin::Notation, "NOTATION", "anySimpleType"),
        (Builtin::Boolean, "boolean", "anySimpleType"),
        (Builtin::Decimal, "decimal", "anySimpleType"),
        (Builtin::Integer, "integer", "decimal"),
        (Builtin::Long, "long", "integer"),
        (Builtin::Int, "int", "long"),
        (Builtin::Short, "short", "int"),
        (Builtin::Byte, "byte", "short"),
        (Builtin::NonNegativeInteger, "nonNegativeInteger", "integer"),
        (Builtin::PositiveInteger, "positiveInteger", "nonNegativeInteger"),
        (Builtin::NonPositiveInteger, "nonPositiveInteger", "integer"),
        (Builtin::NegativeInteger, "negativeInteger", "nonPositiveInteger"),
        (Builtin::UnsignedLong, "unsignedLong", "nonNegativeInteger"),
        (Builtin::UnsignedInt, "unsignedInt", "unsignedLong"),
        (Builtin::UnsignedShort, "unsignedShort", "unsignedInt"),
        (Builtin::UnsignedByte, "unsignedByte", "unsignedShort"),
        (Builtin::Float, "float", "anySimpleType"),
        (Builtin::Double, "double", "anySimpleType"),
        (Builtin::Duration, "duration", "anySimpleType"),
        (Builtin::DateTime, "dateTime", "anySimpleType"),
        (Builtin::DateTimeStamp, "dateTimeStamp", "dateTime"),
        (Builtin::Date, "date", "anySimpleType"),
        (Builtin::Time, "time", "anySimpleType"),
        (Builtin::GYear, "gYear", "anySimpleType"),
        (Builtin::GYearMonth, "gYearMonth", "anySimpleType"),
        (Builtin::GMonthDay, "gMonthDay", "anySimpleType"),
        (Builtin::GMonth, "gMonth", "anySimpleType"),
        (Builtin::GDay, "gDay", "anySimpleType"),
        (Builtin::Base64Binary, "base64Binary", "anySimpleType"),
        (Builtin::HexBinary, "hexBinary", "anySimpleType"),
    ];

    /// The XSD name (`dateTime`).
    pub fn name(self) -> &'static str {
        Builtin::ALL.iter().find(|(b, _, _)| *b == self).map_or("?", |(_, n, _)| n)
    }

    /// The whiteSpace facet's fixed or default value for this type.
    pub fn whitespace(self) -> Ws {
        match self {
            Builtin::String | Builtin::AnySimpleType => Ws::Preserve,
            Builtin::NormalizedString => Ws::Replace,
            _ => Ws::Collapse,
        }
    }

    /// True for the integer family.
    pub fn is_integer(self) -> bool {
        use Builtin::*;
        matches!(
            self,
            Integer
                | Long
                | Int
                | Short
                | Byte
                | NonNegativeInteger
                | PositiveInteger
                | NonPositiveInteger
                | NegativeInteger
                | UnsignedLong
                | UnsignedInt
                | UnsignedShort
                | UnsignedByte
        )
    }
}

/// The three whiteSpace facet values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ws {
    Preserve,
    Replace,
    Collapse,
}

/// Effective facets of a simple type (the most derived value of each).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Facets {
    pub length: Option<u64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// One entry per derivation step; a value must match one pattern of every step.
    pub patterns: Vec<Vec<String>>,
    /// Lexical values of the most derived enumeration, with the bindings of their
    /// declaring schema document for QName values.
    pub enumeration: Option<Vec<String>>,
    pub min_inclusive: Option<String>,
    pub max_inclusive: Option<String>,
    pub min_exclusive: Option<String>,
    pub max_exclusive: Option<String>,
    pub total_digits: Option<u32>,
    pub fraction_digits: Option<u32>,
}

/// What a simple type's values are made of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Variety {
    /// A built-in primitive or derived atomic type, possibly restricted.
    Atomic(Builtin),
    List(SimpleId),
    Union(Vec<SimpleId>),
}

#[derive(Clone, Debug)]
pub struct SimpleType {
    pub name: Option<QName>,
    pub variety: Variety,
    pub facets: Facets,
    pub whitespace: Ws,
    /// The type this one restricts (None for anySimpleType).
    pub base: Option<SimpleId>,
    pub loc: Option<Loc>,
}

/// Which namespaces a wildcard accepts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NsConstraint {
    Any,
    /// `##other`: any namespace but this one, and not "no namespace".
    Not(Option<String>),
    /// A list of namespaces (None: no namespace).
    Set(Vec<Option<String>>),
}

impl NsConstraint {
    pub fn allows(&self, ns: &Option<String>) -> bool {
        match self {
            NsConstraint::Any => true,
            NsConstraint::Not(t) => ns.is_some() && ns != t,
            NsConstraint::Set(s) => s.contains(ns),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Process {
    Strict,
    Lax,
    Skip,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Wildcard {
    pub ns: NsConstraint,
    pub process: Process,
}

/// A particle: a term with occurrence bounds (`max` None: unbounded).
#[derive(Clone, Debug)]
pub struct Particle {
    pub min: u32,
    pub max: Option<u32>,
    pub term: Term,
}

#[derive(Clone, Debug)]
pub enum Term {
    Element(ElemId),
    Wildcard(Wildcard),
    Sequence(Vec<Particle>),
    Choice(Vec<Particle>),
    All(Vec<Particle>),
}

impl Particle {
    pub fn empty() -> Particle {
        Particle { min: 1, max: Some(1), term: Term::Sequence(vec![]) }
    }

    /// True when the particle can match nothing but the empty sequence.
    pub fn is_empty(&self) -> bool {
        match &self.term {
            Term::Sequence(ps) | Term::Choice(ps) | Term::All(ps) => ps.iter().all(Particle::is_empty),
            _ => self.max == Some(0),
        }
    }
}

/// The content of a complex type.
#[derive(Clone, Debug)]
pub enum Content {
    /// No character data, no children (attributes only).
    Empty,
    /// Character data of a simple type.
    Simple(SimpleId),
    /// Child elements (and, when mixed, character data between them).
    Elements { particle: Particle, mixed: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation {
    Extension,
    Restriction,
}

/// An attribute declaration.
#[derive(Clone, Debug)]
pub struct AttributeDecl {
    pub name: QName,
    pub ty: SimpleId,
    pub default: Option<String>,
    pub fixed: Option<String>,
}

/// An attribute use of a complex type.
#[derive(Clone, Debug)]
pub struct AttrUse {
    pub decl: AttributeDecl,
    pub required: bool,
}

#[derive(Clone, Debug)]
pub struct ComplexType {
    pub name: Option<QName>,
    pub base: Option<TypeRef>,
    pub derivation: Derivation,
    pub is_abstract: bool,
    /// Derivation methods blocked for xsi:type substitution ("extension", "restriction").
    pub block: Vec<String>,
    pub content: Content,
    pub attributes: Vec<AttrUse>,
    pub attr_wildcard: Option<Wildcard>,
    pub loc: Option<Loc>,
    /// Where it is declared: (schema document in load order, line), for a stable order.
    pub order: (usize, u32),
}

#[derive(Clone, Debug)]
pub struct ElementDecl {
    pub name: QName,
    pub ty: TypeRef,
    pub nillable: bool,
    pub is_abstract: bool,
    pub default: Option<String>,
    pub fixed: Option<String>,
    /// The head of the substitution group this element belongs to.
    pub subst_head: Option<ElemId>,
    /// Blocked substitutions ("extension", "restriction", "substitution").
    pub block: Vec<String>,
    pub constraints: Vec<ConstraintId>,
    /// Where it is declared: (schema document in load order, line).
    pub order: (usize, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    Key,
    Unique,
    KeyRef(ConstraintId),
}

/// An XPath step of an identity constraint (the restricted subset of Part 1 §3.11.6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// `.`
    SelfNode,
    /// A child element name test: (namespace, local) with `*` wildcards.
    Child { ns: Option<Option<String>>, local: Option<String> },
}

/// One alternative of a selector or field path: `(.//)? step/step/...` (fields may end in `@name`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct XPath {
    pub descendants: bool,
    pub steps: Vec<Step>,
    /// For a field: the attribute it ends in, `(namespace, local)` with `*` wildcards.
    pub attribute: Option<(Option<Option<String>>, Option<String>)>,
}

#[derive(Clone, Debug)]
pub struct IdentityConstraint {
    pub name: QName,
    pub kind: ConstraintKind,
    pub selector: Vec<XPath>,
    pub fields: Vec<Vec<XPath>>,
}

/// A resolved schema set.
#[derive(Debug, Default)]
pub struct Schema {
    pub elements: Vec<ElementDecl>,
    pub complex: Vec<ComplexType>,
    pub simple: Vec<SimpleType>,
    pub constraints: Vec<IdentityConstraint>,
    pub global_elements: BTreeMap<QName, ElemId>,
    pub global_attributes: BTreeMap<QName, AttributeDecl>,
    pub types: BTreeMap<QName, TypeRef>,
    /// Global elements of the documents the user named: the possible document roots.
    pub roots: Vec<ElemId>,
    /// For each substitution group head: its members (transitively), in declaration order.
    pub substitutes: BTreeMap<ElemId, Vec<ElemId>>,
    /// The built-in simple types by kind.
    pub builtins: BTreeMap<Builtin, SimpleId>,
    /// xs:anyType.
    pub any_type: ComplexId,
}

impl Schema {
    pub fn builtin(&self, b: Builtin) -> SimpleId {
        self.builtins[&b]
    }

    /// The built-in atomic type a simple type derives from (None for lists and unions).
    pub fn atomic_builtin(&self, s: SimpleId) -> Option<Builtin> {
        match &self.simple[s].variety {
            Variety::Atomic(b) => Some(*b),
            _ => None,
        }
    }

    /// A readable name for a type: its QName's local name, or "(anonymous)".
    pub fn type_name(&self, t: TypeRef) -> String {
        let n = match t {
            TypeRef::Complex(c) => self.complex[c].name.as_ref(),
            TypeRef::Simple(s) => self.simple[s].name.as_ref(),
        };
        n.map_or_else(|| "(anonymous)".to_string(), |q| q.local.clone())
    }
}
