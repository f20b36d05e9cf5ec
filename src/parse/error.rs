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
    DoctypeForbidden,
    Truncated,
    WrongRoot,
    NoTables,
    UnknownElement,
    UnknownAttribute,
    MissingElement,
    MissingAttribute,
    OutOfOrder,
    UnexpectedText,
    InvalidValue,
    /// Not the file's fault: the input could not be read. Such files are left in place.
    Io,
}

impl Rule {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        use Rule::*;
        match self {
            NotWellFormed => "not-well-formed",
            InvalidUtf8 => "invalid-utf8",
            UnsupportedEncoding => "unsupported-encoding",
            DoctypeForbidden => "doctype-forbidden",
            Truncated => "truncated",
            WrongRoot => "wrong-root",
            NoTables => "no-tables",
            UnknownElement => "unknown-element",
            UnknownAttribute => "unknown-attribute",
            MissingElement => "missing-element",
            MissingAttribute => "missing-attribute",
            OutOfOrder => "out-of-order",
            UnexpectedText => "unexpected-text",
            InvalidValue => "invalid-value",
            Io => "io",
        }
    }
}

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
        if let Some(bad) = e.get_ref().and_then(|r| r.downcast_ref::<super::utf8::InvalidUtf8>()) {
            return DecodeError::new(Rule::InvalidUtf8, bad.to_string(), bad.offset);
        }
        DecodeError::new(Rule::Io, format!("read failed: {e}"), offset)
    }

    /// Prefixes the path with an element (or `@attribute`) name.
    pub fn within(mut self, name: &str) -> Self {
        self.path = if self.path.is_empty() { name.to_string() } else { format!("{name}/{}", self.path) };
        self
    }

    /// Prefixes the path with the `n`th (1-based) occurrence of an element.
    pub fn within_item(self, name: &str, n: usize) -> Self {
        self.within(&format!("{name}[{n}]"))
    }

    /// True when the file itself is at fault (dead-letter it); false for read failures.
    pub fn is_invalid_input(&self) -> bool {
        self.rule != Rule::Io
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
