//! Build-time errors: a message and, when known, the schema file and line it is about.

use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;

/// A place in a schema or mapping file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub file: Rc<PathBuf>,
    pub line: u32,
}

impl Loc {
    pub fn new(file: Rc<PathBuf>, line: u32) -> Self {
        Loc { file, line }
    }

    /// An error at this place.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error { message: message.into(), loc: Some(self.clone()) }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Why a schema or mapping cannot be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub loc: Option<Loc>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error { message: message.into(), loc: None }
    }

    /// Adds a location when the error has none.
    pub fn at(mut self, loc: &Loc) -> Self {
        if self.loc.is_none() {
            self.loc = Some(loc.clone());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.loc {
            Some(l) => write!(f, "{l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
