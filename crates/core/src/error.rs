//! The reason a file is invalid: a rule, a message, where (element path, byte, line, column).

use serde::Serialize;
use std::fmt;

/// The rule a file broke, as a stable machine-readable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    NotWellFormed,
    InvalidUtf8,
    UnsupportedEncoding,
    /// A byte sequence the declared encoding does not define.
    InvalidEncoding,
    /// A text or attribute value longer than the limit (`--max-value-bytes`).
    ValueTooLarge,
    DoctypeForbidden,
    Truncated,
    /// A compressed input (`*.xml.gz`, `*.xml.zst`, a `Content-Encoding: gzip` object) whose
    /// compressed data is cut short or corrupt: see [`InvalidCompression`].
    InvalidCompression,
    WrongRoot,
    WrongNamespace,
    /// A rule of the mapping: none of the elements of a `require_one_of` group is present.
    NoTables,
    UnknownElement,
    UnknownAttribute,
    MissingElement,
    MissingAttribute,
    OutOfOrder,
    UnexpectedText,
    InvalidValue,
    FacetEnumeration,
    FacetPattern,
    FacetLength,
    FacetRange,
    FacetDigits,
    FixedValue,
    Nil,
    XsiType,
    Abstract,
    KeyDuplicate,
    KeyMissing,
    Keyref,
    /// A value the XSD accepts but BigQuery cannot hold.
    Unrepresentable,
    /// Not the file's fault: the input could not be read. Such files are left in place.
    Io,
    /// Not the file's fault: its rows could not be written. Such files are left in place.
    Write,
    /// Internal to the segment-parallel path: a guess did not hold; decode in one pass.
    Resync,
}

impl Rule {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        use Rule::*;
        match self {
            NotWellFormed => "not-well-formed",
            InvalidUtf8 => "invalid-utf8",
            UnsupportedEncoding => "unsupported-encoding",
            InvalidEncoding => "invalid-encoding",
            ValueTooLarge => "value-too-large",
            DoctypeForbidden => "doctype-forbidden",
            Truncated => "truncated",
            Rule::InvalidCompression => "invalid-compression",
            WrongRoot => "wrong-root",
            NoTables => "no-tables",
            UnknownElement => "unknown-element",
            UnknownAttribute => "unknown-attribute",
            MissingElement => "missing-element",
            MissingAttribute => "missing-attribute",
            OutOfOrder => "out-of-order",
            UnexpectedText => "unexpected-text",
            InvalidValue => "invalid-value",
            WrongNamespace => "wrong-namespace",
            FacetEnumeration => "facet-enumeration",
            FacetPattern => "facet-pattern",
            FacetLength => "facet-length",
            FacetRange => "facet-range",
            FacetDigits => "facet-digits",
            FixedValue => "fixed-value",
            Nil => "nil",
            XsiType => "xsi-type",
            Abstract => "abstract",
            KeyDuplicate => "key-duplicate",
            KeyMissing => "key-missing",
            Keyref => "keyref",
            Unrepresentable => "unrepresentable",
            Io => "io",
            Write => "write",
            Resync => "resync",
        }
    }
}

/// Compressed data that is cut short or corrupt: the file's fault, whichever layer of
/// the decoder meets it. Carried inside an `io::Error` of kind `InvalidData`, from the
/// decompressor up through the XML reader, and mapped to [`Rule::InvalidCompression`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidCompression {
    /// The input, as a URI.
    pub uri: String,
    /// `gzip` or `zstd`.
    pub format: &'static str,
    /// The compressed data ended inside a stream (a member or frame without its end).
    pub truncated: bool,
    /// Compressed bytes the decompressor had taken in when it failed (the stored file's
    /// offset: for a file cut short, its size).
    pub compressed_offset: u64,
    /// Decompressed bytes (the XML document) delivered before the failure: the offset
    /// the report's `offset`, `line` and `column` count in.
    pub offset: u64,
    /// What the decompressor said.
    pub detail: String,
}

impl fmt::Display for InvalidCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InvalidCompression { uri, format, compressed_offset, offset, detail, .. } = self;
        if self.truncated {
            write!(
                f,
                "{uri}: the {format} data is cut short: it ends at compressed byte {compressed_offset} inside a \
                 {format} stream, after {offset} bytes of decompressed XML ({detail}); was the file copied whole?"
            )
        } else {
            write!(
                f,
                "{uri}: the {format} data is corrupt at or before compressed byte {compressed_offset} (after {offset} \
                 bytes of decompressed XML): {detail}"
            )
        }
    }
}

impl std::error::Error for InvalidCompression {}

/// Why a document was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecodeError {
    pub rule: Rule,
    pub message: String,
    /// Element path, e.g. `Root/Orders/Order[3]/ShipInfo/Freight` (`@Name` for attributes).
    pub path: String,
    /// Byte offset in the file, near the error.
    pub offset: u64,
    /// 1-based line and column of `offset`, when known.
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl DecodeError {
    pub fn new(rule: Rule, message: impl Into<String>, offset: u64) -> Self {
        DecodeError { rule, message: message.into(), path: String::new(), offset, line: None, column: None }
    }

    /// Maps a read error: invalid UTF-8 (from [`super::utf8`]) is the file's fault, anything else is I/O.
    pub fn from_io(e: &std::io::Error, offset: u64) -> Self {
        if let Some(bad) = e.get_ref().and_then(|r| r.downcast_ref::<crate::utf8::InvalidUtf8>()) {
            return DecodeError::new(Rule::InvalidUtf8, bad.to_string(), bad.offset);
        }
        if let Some(bad) = e.get_ref().and_then(|r| r.downcast_ref::<crate::encoding::Malformed>()) {
            return DecodeError::new(Rule::InvalidEncoding, bad.to_string(), bad.offset);
        }
        if let Some(bad) = e.get_ref().and_then(|r| r.downcast_ref::<crate::encoding::Unsupported>()) {
            return DecodeError::new(Rule::UnsupportedEncoding, bad.to_string(), 0);
        }
        if let Some(big) = e.get_ref().and_then(|r| r.downcast_ref::<crate::utf8::ValueTooLarge>()) {
            return DecodeError::new(Rule::ValueTooLarge, big.to_string(), big.offset);
        }
        if let Some(bad) = e.get_ref().and_then(|r| r.downcast_ref::<InvalidCompression>()) {
            return DecodeError::new(Rule::InvalidCompression, bad.to_string(), bad.offset);
        }
        if let Some(bad) = e.get_ref().and_then(|r| r.downcast_ref::<crate::utf8::ForbiddenChar>()) {
            return DecodeError::new(Rule::NotWellFormed, bad.to_string(), bad.offset);
        }
        if e.get_ref().is_some_and(|r| r.is::<crate::events::ResyncSignal>()) {
            return DecodeError::new(Rule::Resync, "a segment's guess did not hold", offset);
        }
        DecodeError::new(Rule::Io, format!("read failed: {e}"), offset)
    }

    /// Prefixes the path with an element (or `@attribute`) name.
    pub fn within(mut self, name: &str) -> Self {
        self.path = if self.path.is_empty() { name.to_string() } else { format!("{name}/{}", self.path) };
        self
    }

    /// Adds an attribute (`@name`) to the end of the path.
    pub fn within_attr(mut self, name: &str) -> Self {
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push('@');
        self.path.push_str(name);
        self
    }

    /// Prefixes the path with the `n`th (1-based) occurrence of an element.
    pub fn within_item(self, name: &str, n: usize) -> Self {
        self.within(&format!("{name}[{n}]"))
    }

    /// True when the file itself is at fault (dead-letter it); false for read and write failures.
    pub fn is_invalid_input(&self) -> bool {
        !matches!(self.rule, Rule::Io | Rule::Write | Rule::Resync)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rule.as_str())?;
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " at line {l}, column {c}")?,
            _ => write!(f, " at byte {}", self.offset)?,
        }
        if !self.path.is_empty() {
            write!(f, " ({})", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DecodeError {}

/// Why a value is invalid: the rule it breaks (a facet, the lexical space, BigQuery's
/// range) and a message. Value parsers and facet checks return it; the decoder adds
/// where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub rule: Rule,
    pub message: String,
}

impl Invalid {
    pub fn new(rule: Rule, message: impl Into<String>) -> Self {
        Invalid { rule, message: message.into() }
    }
}

impl From<crate::value::ValueError> for Invalid {
    fn from(e: crate::value::ValueError) -> Self {
        let rule = match e.kind {
            crate::value::ValueErrorKind::Invalid => Rule::InvalidValue,
            crate::value::ValueErrorKind::Unrepresentable => Rule::Unrepresentable,
        };
        Invalid { rule, message: e.message }
    }
}
