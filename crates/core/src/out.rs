//! What generated decoders write to. A decoder walks an element and tells its
//! [`Out`] which row, record and field each value belongs to; the Arrow columns
//! ([`crate::columns::Columns`]), the typed records ([`crate::typed`]) and
//! [`Discard`] (validation only) are the three consumers.
//!
//! Fields are numbered within the current record (its columns, in order). Every
//! value method is called only with a field whose column has that type: the code
//! generator guarantees it.

use crate::error::DecodeError;
use arrow_buffer::i256;

/// A consumer of decoded values.
pub trait Out {
    /// A row of table `table`, found at its row path `path`, starts: its record becomes
    /// the current one.
    fn begin_row(&mut self, table: u16, path: u16);
    /// The row is complete: absent fields become NULL (or empty lists), lineage is added.
    fn end_row(&mut self) -> Result<(), DecodeError>;
    /// Field `field` of the current record is a record (or one more item of a list of records): enter it.
    fn enter(&mut self, field: u16);
    /// Back to the enclosing record.
    fn leave(&mut self);
    /// One more element counted by ancestor counter `counter` has started.
    fn count(&mut self, counter: u16);
    /// Rows decoded elsewhere (the segment-parallel path) come here: checks what the
    /// worker assumed about the rows and counters before them.
    fn run(&mut self, run: &crate::events::Run) -> Result<(), DecodeError>;
    /// STRING.
    fn put_str(&mut self, field: u16, v: &str);
    /// BYTES.
    fn put_bytes(&mut self, field: u16, v: &[u8]);
    /// INT64, and the microseconds of TIME, DATETIME and TIMESTAMP.
    fn put_i64(&mut self, field: u16, v: i64);
    fn put_f64(&mut self, field: u16, v: f64);
    fn put_bool(&mut self, field: u16, v: bool);
    /// NUMERIC: the value scaled by 10^9.
    fn put_i128(&mut self, field: u16, v: i128);
    /// BIGNUMERIC: the value scaled by 10^38.
    fn put_i256(&mut self, field: u16, v: i256);
    /// DATE: days since 1970-01-01.
    fn put_i32(&mut self, field: u16, v: i32);
}

/// Validation only: every value is dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl Out for Discard {
    fn begin_row(&mut self, _: u16, _: u16) {}
    fn end_row(&mut self) -> Result<(), DecodeError> {
        Ok(())
    }
    fn enter(&mut self, _: u16) {}
    fn leave(&mut self) {}
    fn count(&mut self, _: u16) {}
    fn run(&mut self, _: &crate::events::Run) -> Result<(), DecodeError> {
        Ok(())
    }
    fn put_str(&mut self, _: u16, _: &str) {}
    fn put_bytes(&mut self, _: u16, _: &[u8]) {}
    fn put_i64(&mut self, _: u16, _: i64) {}
    fn put_f64(&mut self, _: u16, _: f64) {}
    fn put_bool(&mut self, _: u16, _: bool) {}
    fn put_i128(&mut self, _: u16, _: i128) {}
    fn put_i256(&mut self, _: u16, _: i256) {}
    fn put_i32(&mut self, _: u16, _: i32) {}
}
