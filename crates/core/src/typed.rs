//! Typed records: the structs generated from the schema (one per RECORD, fields by
//! column), filled by the same generated decoders that fill the Arrow columns.
//!
//! [`Typed`] is the [`Out`] that builds them: a stack of records under construction,
//! one per element entered; a finished row goes to a callback with its table's number.
//! A library user reaches it through the generated `decode_rows`, which yields the
//! generated `Row` enum.

use crate::error::{DecodeError, Rule};
use crate::out::Out;
use arrow_buffer::i256;
use std::any::Any;

/// NUMERIC: the value scaled by 10^9 (`Numeric(3_350_000_000)` is 3.35).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Numeric(pub i128);

/// BIGNUMERIC: the value scaled by 10^38.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BigNumeric(pub i256);

/// DATE: days since 1970-01-01.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

/// TIME: microseconds since midnight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

/// DATETIME: microseconds since 1970-01-01T00:00:00, a wall time with no zone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

/// TIMESTAMP: microseconds since 1970-01-01T00:00:00Z, an instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// One decoded value, as the decoder hands it over.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    /// INT64, and the microseconds of TIME, DATETIME and TIMESTAMP.
    I64(i64),
    F64(f64),
    Bool(bool),
    /// NUMERIC, scaled by 10^9.
    I128(i128),
    /// BIGNUMERIC, scaled by 10^38.
    I256(i256),
    /// DATE, days since 1970-01-01.
    I32(i32),
}

/// A generated record struct. Fields are numbered as the record's columns.
pub trait Record: Any {
    /// Sets scalar field `field` (appends to it, when it is a list).
    fn put(&mut self, field: u16, value: Value<'_>);
    /// A new, empty record for record field `field`.
    fn child(&self, field: u16) -> Box<dyn Record>;
    /// Stores finished record `child` in field `field` (appends to it, when it is a list).
    fn set(&mut self, field: u16, child: Box<dyn Record>);
}

/// The record of a field no struct holds: everything put into it is dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ignored;

impl Record for Ignored {
    fn put(&mut self, _: u16, _: Value<'_>) {}
    fn child(&self, _: u16) -> Box<dyn Record> {
        Box::new(Ignored)
    }
    fn set(&mut self, _: u16, _: Box<dyn Record>) {}
}

/// The concrete record inside `r` (the generated `set` knows which type each field holds).
pub fn take<T: Record + Default>(r: Box<dyn Record>) -> T {
    let any: Box<dyn Any> = r;
    any.downcast::<T>().map(|b| *b).unwrap_or_default()
}

/// Builds typed records and hands each finished row to `rows`.
pub struct Typed<'a> {
    /// A new, empty row record of a table.
    new_row: fn(u16) -> Box<dyn Record>,
    rows: &'a mut dyn FnMut(u16, Box<dyn Record>),
    /// Records under construction: (the field the record goes to in its parent, or the
    /// table of a row; the record).
    stack: Vec<(Slot, Box<dyn Record>)>,
}

enum Slot {
    Row(u16),
    Field(u16),
}

impl<'a> Typed<'a> {
    pub fn new(new_row: fn(u16) -> Box<dyn Record>, rows: &'a mut dyn FnMut(u16, Box<dyn Record>)) -> Self {
        Typed { new_row, rows, stack: Vec::with_capacity(16) }
    }

    fn top(&mut self) -> Option<&mut Box<dyn Record>> {
        self.stack.last_mut().map(|(_, r)| r)
    }

    fn put(&mut self, field: u16, value: Value<'_>) {
        if let Some(r) = self.top() {
            r.put(field, value);
        }
    }
}

impl Out for Typed<'_> {
    fn begin_row(&mut self, table: u16, _path: u16) {
        let row = (self.new_row)(table);
        self.stack.push((Slot::Row(table), row));
    }

    fn end_row(&mut self) -> Result<(), DecodeError> {
        match self.stack.pop() {
            Some((Slot::Row(table), row)) => {
                (self.rows)(table, row);
                Ok(())
            }
            _ => Err(DecodeError::new(Rule::Resync, "typed records: a row ended where none began", 0)),
        }
    }

    fn enter(&mut self, field: u16) {
        let child = match self.top() {
            Some(r) => r.child(field),
            None => Box::new(Ignored),
        };
        self.stack.push((Slot::Field(field), child));
    }

    fn leave(&mut self) {
        if let Some((Slot::Field(field), child)) = self.stack.pop()
            && let Some(parent) = self.top()
        {
            parent.set(field, child);
        }
    }

    fn count(&mut self, _: u16) {}

    fn run(&mut self, _: &crate::events::Run) -> Result<(), DecodeError> {
        // Typed records are decoded in one pass: no segment's rows come here.
        Err(DecodeError::new(Rule::Resync, "typed records are decoded in one pass", 0))
    }

    fn put_str(&mut self, field: u16, v: &str) {
        self.put(field, Value::Str(v));
    }
    fn put_bytes(&mut self, field: u16, v: &[u8]) {
        self.put(field, Value::Bytes(v));
    }
    fn put_i64(&mut self, field: u16, v: i64) {
        self.put(field, Value::I64(v));
    }
    fn put_f64(&mut self, field: u16, v: f64) {
        self.put(field, Value::F64(v));
    }
    fn put_bool(&mut self, field: u16, v: bool) {
        self.put(field, Value::Bool(v));
    }
    fn put_i128(&mut self, field: u16, v: i128) {
        self.put(field, Value::I128(v));
    }
    fn put_i256(&mut self, field: u16, v: i256) {
        self.put(field, Value::I256(v));
    }
    fn put_i32(&mut self, field: u16, v: i32) {
        self.put(field, Value::I32(v));
    }
}
