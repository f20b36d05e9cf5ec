//! xml2bq's runtime, the crate that generated decoders depend on: the streaming
//! decoder ([`parse`]), XSD values ([`value`]) and facets ([`facet`]), content models
//! ([`model`]), and the Arrow columns decoded values go to ([`columns`] through
//! [`out::Out`]). No I/O beyond reading a stream, no async, no HTTP.
// Three `unsafe` blocks, each with the proof beside it: `bytes::Plain::as_str`, the
// AVX2 call in `utf8::next_suspect` and the prefetch hint in `bytes::prefetch`.
#![deny(unsafe_code)]

mod bytes;
pub mod columns;
pub mod document;
pub mod encoding;
pub mod error;
pub mod events;
pub mod facet;
pub mod identity;
pub mod model;
pub mod names;
pub mod out;
pub mod parse;
pub mod schema;
pub mod typed;
pub mod utf8;
pub mod value;

pub use error::{DecodeError, Invalid, InvalidCompression, Rule};
pub use schema::Schema;

/// What generated code uses, in one import.
pub mod prelude {
    pub use crate::columns::Columns;
    pub use crate::error::{DecodeError, Invalid, Rule};
    pub use crate::facet;
    pub use crate::identity::{Canon, Constraint, Kind, Path, Test};
    pub use crate::model::{Automaton, Model, NsTest, Symbol, WILDCARD};
    pub use crate::out::{Discard, Out};
    pub use crate::parse::{Decode, Decoder, Leaf, Lexical, Next};
    pub use crate::schema::{Ancestor, Column, ColumnType, Info, Lineage, Mode, Root, RowPath, Schema, Table};
    pub use crate::value::{self, IntegerType, Ws};
    pub use arrow_buffer::i256;
    pub use regex::Regex;
    pub use std::sync::LazyLock;
}

/// A stable 64-bit FNV-1a hash of a string: names part files and jobs, assigns shards
/// (the same URI always gives the same value, on every machine and version).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
