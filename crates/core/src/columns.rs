//! Arrow columns for every table of a schema, filled by generated decoders through
//! [`Out`]: one arena of column builders (each table's row record, its nested
//! records and lists), a cursor on the current record, and the lineage columns.
//! A table's rows are handed out as a `RecordBatch` every `batch_rows` rows.

use crate::error::{DecodeError, Rule};
use crate::out::Out;
use crate::schema::{Column, ColumnType, Mode, Schema, Table};
use arrow_array::builder::*;
use arrow_array::{ArrayRef, ListArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer, i256};
use arrow_schema::{DataType, Field, Fields, SchemaRef, TimeUnit};
use std::sync::Arc;

/// NUMERIC as Arrow: Decimal128(38, 9).
pub const NUMERIC: (u8, i8) = (38, 9);
/// BIGNUMERIC as Arrow: Decimal256(76, 38).
pub const BIGNUMERIC: (u8, i8) = (76, 38);
/// TIMESTAMP columns carry this zone.
pub const UTC: &str = "+00:00";

/// The Arrow type of a column's values (without the list wrapper of a REPEATED column).
fn value_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::String => DataType::Utf8,
        ColumnType::Bytes => DataType::Binary,
        ColumnType::Int64 => DataType::Int64,
        ColumnType::Float64 => DataType::Float64,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Numeric => DataType::Decimal128(NUMERIC.0, NUMERIC.1),
        ColumnType::BigNumeric => DataType::Decimal256(BIGNUMERIC.0, BIGNUMERIC.1),
        ColumnType::Date => DataType::Date32,
        ColumnType::Time => DataType::Time64(TimeUnit::Microsecond),
        ColumnType::DateTime => DataType::Timestamp(TimeUnit::Microsecond, None),
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        ColumnType::Record(cols) => DataType::Struct(fields(cols)),
    }
}

/// The Arrow field of a column.
pub fn field(c: &Column) -> Field {
    let inner = value_type(c.ty);
    match c.mode {
        Mode::Repeated => Field::new(c.name, DataType::List(Arc::new(Field::new("item", inner, false))), false),
        Mode::Nullable => Field::new(c.name, inner, true),
        Mode::Required => Field::new(c.name, inner, false),
    }
}

fn fields(cols: &[Column]) -> Fields {
    cols.iter().map(field).collect()
}

/// The Arrow schema of a table: its columns, then `_source_uri`, `_record_ordinal`
/// and one `_<ancestor>_ordinal` per repeated ancestor.
pub fn arrow_schema(t: &Table) -> SchemaRef {
    let mut f: Vec<Field> = t.columns.iter().map(field).collect();
    f.push(Field::new("_source_uri", DataType::Utf8, false));
    f.push(Field::new("_record_ordinal", DataType::Int64, false));
    for a in t.ancestors {
        f.push(Field::new(a.column, DataType::Int64, a.nullable));
    }
    Arc::new(arrow_schema::Schema::new(f))
}

enum Col {
    Str(StringBuilder),
    Bytes(BinaryBuilder),
    I64(Int64Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Dec128(Decimal128Builder),
    Dec256(Decimal256Builder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    DateTime(TimestampMicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    List(List),
    Record(Record),
}

/// A REPEATED column: offsets into its item column.
struct List {
    offsets: Vec<i32>,
    item: u32,
}

/// A RECORD column (or a table's row): its child columns are `first..first + n` of the arena.
struct Record {
    first: u32,
    n: u32,
    len: usize,
    validity: Vec<bool>,
    columns: &'static [Column],
}

impl Col {
    fn scalar(ty: ColumnType) -> Col {
        match ty {
            ColumnType::String => Col::Str(StringBuilder::new()),
            ColumnType::Bytes => Col::Bytes(BinaryBuilder::new()),
            ColumnType::Int64 => Col::I64(Int64Builder::new()),
            ColumnType::Float64 => Col::F64(Float64Builder::new()),
            ColumnType::Bool => Col::Bool(BooleanBuilder::new()),
            ColumnType::Numeric => Col::Dec128(Decimal128Builder::new()),
            ColumnType::BigNumeric => Col::Dec256(Decimal256Builder::new()),
            ColumnType::Date => Col::Date(Date32Builder::new()),
            ColumnType::Time => Col::Time(Time64MicrosecondBuilder::new()),
            ColumnType::DateTime => Col::DateTime(TimestampMicrosecondBuilder::new()),
            ColumnType::Timestamp => Col::Timestamp(TimestampMicrosecondBuilder::new()),
            ColumnType::Record(_) => unreachable!("records are built by Arena::record"),
        }
    }

    /// A builder like this one (an empty scalar column), with room for `rows` values of
    /// `bytes` bytes in all.
    fn sized(&self, rows: usize, bytes: usize) -> Option<Col> {
        Some(match self {
            Col::Str(_) => Col::Str(StringBuilder::with_capacity(rows, bytes)),
            Col::Bytes(_) => Col::Bytes(BinaryBuilder::with_capacity(rows, bytes)),
            Col::I64(_) => Col::I64(Int64Builder::with_capacity(rows)),
            Col::F64(_) => Col::F64(Float64Builder::with_capacity(rows)),
            Col::Bool(_) => Col::Bool(BooleanBuilder::with_capacity(rows)),
            Col::Dec128(_) => Col::Dec128(Decimal128Builder::with_capacity(rows)),
            Col::Dec256(_) => Col::Dec256(Decimal256Builder::with_capacity(rows)),
            Col::Date(_) => Col::Date(Date32Builder::with_capacity(rows)),
            Col::Time(_) => Col::Time(Time64MicrosecondBuilder::with_capacity(rows)),
            Col::DateTime(_) => Col::DateTime(TimestampMicrosecondBuilder::with_capacity(rows)),
            Col::Timestamp(_) => Col::Timestamp(TimestampMicrosecondBuilder::with_capacity(rows)),
            Col::List(_) | Col::Record(_) => return None,
        })
    }

    /// The bytes of a string or binary column's values so far (0 for other columns).
    fn value_bytes(&self) -> usize {
        match self {
            Col::Str(b) => b.values_slice().len(),
            Col::Bytes(b) => b.values_slice().len(),
            _ => 0,
        }
    }

    /// Rows of the enclosing record this column has a value for.
    fn rows(&self) -> usize {
        match self {
            Col::Str(b) => b.len(),
            Col::Bytes(b) => b.len(),
            Col::I64(b) => b.len(),
            Col::F64(b) => b.len(),
            Col::Bool(b) => b.len(),
            Col::Dec128(b) => b.len(),
            Col::Dec256(b) => b.len(),
            Col::Date(b) => b.len(),
            Col::Time(b) => b.len(),
            Col::DateTime(b) => b.len(),
            Col::Timestamp(b) => b.len(),
            Col::List(l) => l.offsets.len() - 1,
            Col::Record(r) => r.len,
        }
    }
}

/// Where values go: the current record's first child column, the record, the table.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    base: u32,
    rec: u32,
    /// Direct (not REPEATED) columns of the record given a value in its current row:
    /// when all are, completing the row has nothing to do.
    filled: u32,
    table: u16,
    /// The row path of the current row.
    path: u16,
}

struct TableState {
    root: u32,
    spec: &'static Table,
    ordinal: Int64Builder,
    ancestors: Vec<Int64Builder>,
    /// Rows of this table so far in the file (the last row's ordinal).
    rows: i64,
}

/// Values (and bytes of values) per column of a [`Columns`]: see [`Columns::sizes`].
#[derive(Clone, Debug, Default)]
pub struct Sizes(Vec<(usize, usize)>);

/// Receives each finished batch: (table index, rows).
pub type Sink = Box<dyn FnMut(usize, RecordBatch) -> Result<(), DecodeError> + Send>;

/// Called when rows of a table decoded elsewhere take their place (after this file's
/// rows before them were handed to the sink).
pub type RunHook = Box<dyn FnMut(&crate::events::Run) -> Result<(), DecodeError> + Send>;

/// The columns of every table of a schema, for one input file.
pub struct Columns {
    cols: Vec<Col>,
    tables: Vec<TableState>,
    stack: Vec<Cursor>,
    cur: Cursor,
    counters: Vec<i64>,
    source: String,
    batch_rows: usize,
    sink: Option<Sink>,
    run_hook: Option<RunHook>,
    /// Finished batches not yet taken (when there is no sink).
    ready: Vec<(usize, RecordBatch)>,
}

impl Columns {
    /// Empty columns for `schema`'s tables; rows carry `source` as their `_source_uri`.
    pub fn new(schema: &'static Schema, source: &str, batch_rows: usize) -> Self {
        let mut c = Columns {
            cols: vec![],
            tables: vec![],
            stack: vec![],
            cur: Cursor { base: 0, rec: 0, filled: 0, table: 0, path: 0 },
            counters: vec![0; schema.counters],
            source: source.to_string(),
            batch_rows: batch_rows.max(1),
            sink: None,
            run_hook: None,
            ready: vec![],
        };
        for spec in schema.tables {
            let root = c.record(spec.columns);
            c.tables.push(TableState {
                root,
                spec,
                ordinal: Int64Builder::new(),
                ancestors: spec.ancestors.iter().map(|_| Int64Builder::new()).collect(),
                rows: 0,
            });
        }
        c
    }

    /// Hands each finished batch to `sink` as soon as it is full (instead of keeping it).
    pub fn with_sink(mut self, sink: Sink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Calls `hook` where rows decoded elsewhere go (see [`Out::run`]).
    pub fn with_run_hook(mut self, hook: RunHook) -> Self {
        self.run_hook = Some(hook);
        self
    }

    /// Starts the ordinals of table `t` after `rows` rows, and sets ancestor counters
    /// (a segment of a file continues the numbering of the segments before it).
    pub fn resume(&mut self, table_rows: &[u64], counters: &[u64]) {
        for (t, n) in self.tables.iter_mut().zip(table_rows) {
            t.rows = *n as i64;
        }
        for (c, n) in self.counters.iter_mut().zip(counters) {
            *c = *n as i64;
        }
    }

    /// Rows per table so far in the file.
    pub fn rows(&self) -> Vec<u64> {
        self.tables.iter().map(|t| t.rows as u64).collect()
    }

    /// Adds the columns of a record to the arena; returns the record's index.
    fn record(&mut self, columns: &'static [Column]) -> u32 {
        let me = self.cols.len() as u32;
        self.cols.push(Col::Record(Record { first: 0, n: columns.len() as u32, len: 0, validity: vec![], columns }));
        let first = self.cols.len() as u32;
        // Children first (contiguous), then what they contain.
        for _ in columns {
            self.cols.push(Col::Bool(BooleanBuilder::new()));
        }
        for (k, c) in columns.iter().enumerate() {
            let value = match c.ty {
                ColumnType::Record(inner) => Some(self.record(inner)),
                ty if c.mode == Mode::Repeated => {
                    self.cols.push(Col::scalar(ty));
                    Some(self.cols.len() as u32 - 1)
                }
                _ => None,
            };
            let slot = (first + k as u32) as usize;
            self.cols[slot] = match (c.mode, value) {
                (Mode::Repeated, Some(item)) => Col::List(List { offsets: vec![0], item }),
                (_, Some(rec)) => {
                    // A single record: move it into its slot.
                    std::mem::replace(&mut self.cols[rec as usize], Col::Bool(BooleanBuilder::new()))
                }
                (_, None) => Col::scalar(c.ty),
            };
        }
        if let Col::Record(r) = &mut self.cols[me as usize] {
            r.first = first;
        }
        me
    }

    /// The column a value of field `f` goes to (the item column of a list).
    #[inline]
    fn target(&mut self, f: u16) -> &mut Col {
        let mut i = (self.cur.base + u32::from(f)) as usize;
        match &self.cols[i] {
            Col::List(l) => i = l.item as usize,
            // (Generated code gives a column at most one value per row.)
            _ => self.cur.filled += 1,
        }
        &mut self.cols[i]
    }

    /// Completes the current row of record `rec`: absent fields become NULL, lists close.
    fn complete(&mut self, rec: u32) {
        let (first, n, len) = match &self.cols[rec as usize] {
            Col::Record(r) => (r.first, r.n, r.len),
            _ => return,
        };
        // Every column has its value (then none is a list, which is never counted).
        if self.cur.rec == rec && self.cur.filled == n {
            debug_assert!((first..first + n).all(|c| self.cols[c as usize].rows() == len));
            return;
        }
        for c in first..first + n {
            self.complete_column(c, len);
        }
    }

    fn complete_column(&mut self, c: u32, len: usize) {
        match &mut self.cols[c as usize] {
            Col::List(l) => {
                let item = l.item;
                let items = self.cols[item as usize].rows() as i32;
                if let Col::List(l) = &mut self.cols[c as usize] {
                    while l.offsets.len() <= len {
                        l.offsets.push(items);
                    }
                }
            }
            col => {
                if col.rows() < len {
                    self.null(c);
                }
            }
        }
    }

    /// Appends a NULL to column `c` (for a record: to it and every column inside it).
    fn null(&mut self, c: u32) {
        match &mut self.cols[c as usize] {
            Col::Str(b) => b.append_null(),
            Col::Bytes(b) => b.append_null(),
            Col::I64(b) => b.append_null(),
            Col::F64(b) => b.append_null(),
            Col::Bool(b) => b.append_null(),
            Col::Dec128(b) => b.append_null(),
            Col::Dec256(b) => b.append_null(),
            Col::Date(b) => b.append_null(),
            Col::Time(b) => b.append_null(),
            Col::DateTime(b) => b.append_null(),
            Col::Timestamp(b) => b.append_null(),
            Col::List(l) => {
                let last = *l.offsets.last().unwrap_or(&0);
                l.offsets.push(last);
            }
            Col::Record(r) => {
                r.len += 1;
                r.validity.push(false);
                let (first, n, len) = (r.first, r.n, r.len);
                for k in first..first + n {
                    self.complete_column(k, len);
                }
            }
        }
    }

    /// Takes the buffered rows of table `t` as a batch (None: no rows).
    pub fn take(&mut self, t: usize) -> Result<Option<RecordBatch>, DecodeError> {
        let root = self.tables[t].root;
        let Col::Record(r) = &self.cols[root as usize] else { return Ok(None) };
        if r.len == 0 {
            return Ok(None);
        }
        let (first, columns) = (r.first, r.columns);
        let mut arrays = vec![];
        for k in 0..columns.len() as u32 {
            arrays.push(self.finish(first + k, &columns[k as usize])?);
        }
        if let Col::Record(r) = &mut self.cols[root as usize] {
            r.len = 0;
            r.validity.clear();
        }
        let st = &mut self.tables[t];
        // Every row of a file has its `_source_uri`: the column is made whole here, not
        // appended to row by row.
        let rows = st.ordinal.len();
        arrays.push(Arc::new(repeated(&self.source, rows)));
        let mut ordinal = std::mem::replace(&mut st.ordinal, Int64Builder::with_capacity(rows));
        arrays.push(Arc::new(ordinal.finish()));
        for a in &mut st.ancestors {
            arrays.push(Arc::new(a.finish()));
        }
        RecordBatch::try_new(arrow_schema(st.spec), arrays).map(Some).map_err(inconsistent)
    }

    /// Finishes column `c` (described by `spec`) into an array and resets it.
    fn finish(&mut self, c: u32, spec: &Column) -> Result<ArrayRef, DecodeError> {
        let item_spec = Column { mode: Mode::Required, ..*spec };
        Ok(match &mut self.cols[c as usize] {
            Col::List(l) => {
                let offsets = std::mem::replace(&mut l.offsets, vec![0]);
                let item = l.item;
                let values = self.finish(item, &item_spec)?;
                let f = Arc::new(Field::new("item", values.data_type().clone(), false));
                Arc::new(
                    ListArray::try_new(f, OffsetBuffer::new(ScalarBuffer::from(offsets)), values, None)
                        .map_err(inconsistent)?,
                )
            }
            Col::Record(r) => {
                let (first, columns) = (r.first, r.columns);
                let validity = std::mem::take(&mut r.validity);
                r.len = 0;
                let mut arrays = vec![];
                for k in 0..columns.len() as u32 {
                    arrays.push(self.finish(first + k, &columns[k as usize])?);
                }
                let nulls = if validity.iter().all(|v| *v) { None } else { Some(NullBuffer::from(validity)) };
                Arc::new(StructArray::try_new(fields(columns), arrays, nulls).map_err(inconsistent)?)
            }
            Col::Str(b) => Arc::new(b.finish()),
            Col::Bytes(b) => Arc::new(b.finish()),
            Col::I64(b) => Arc::new(b.finish()),
            Col::F64(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Dec128(b) => {
                Arc::new(b.finish().with_precision_and_scale(NUMERIC.0, NUMERIC.1).map_err(inconsistent)?)
            }
            Col::Dec256(b) => {
                Arc::new(b.finish().with_precision_and_scale(BIGNUMERIC.0, BIGNUMERIC.1).map_err(inconsistent)?)
            }
            Col::Date(b) => Arc::new(b.finish()),
            Col::Time(b) => Arc::new(b.finish()),
            Col::DateTime(b) => Arc::new(b.finish()),
            Col::Timestamp(b) => Arc::new(b.finish().with_timezone(UTC)),
        })
    }

    /// How many values (and bytes of them) each column holds now: a hint for columns
    /// that will take a like amount ([`Columns::sized_like`]).
    pub fn sizes(&self) -> Sizes {
        Sizes(self.cols.iter().map(|c| (c.rows(), c.value_bytes())).collect())
    }

    /// Makes room in each scalar column for what `sizes` says a like run held: the
    /// builders then take their values without growing (a copy at each doubling).
    pub fn sized_like(mut self, sizes: &Sizes) -> Self {
        if sizes.0.len() == self.cols.len() {
            for (c, &(rows, bytes)) in self.cols.iter_mut().zip(&sizes.0) {
                if let Some(sized) = c.sized(rows, bytes) {
                    *c = sized;
                }
            }
        }
        self
    }

    /// Hands out every buffered row: to the sink, or as the returned batches.
    pub fn flush(&mut self) -> Result<Vec<(usize, RecordBatch)>, DecodeError> {
        for t in 0..self.tables.len() {
            if let Some(b) = self.take(t)? {
                self.ready.push((t, b));
            }
        }
        self.drain()
    }

    fn drain(&mut self) -> Result<Vec<(usize, RecordBatch)>, DecodeError> {
        let ready = std::mem::take(&mut self.ready);
        match &mut self.sink {
            Some(sink) => {
                for (t, b) in ready {
                    sink(t, b)?;
                }
                Ok(vec![])
            }
            None => Ok(ready),
        }
    }

    fn wrong_type(&self, f: u16) -> ! {
        panic!("generated code wrote a value of the wrong type to field {f} (a code generator bug)")
    }
}

macro_rules! put {
    ($name:ident, $t:ty, $($variant:ident)|+) => {
        #[inline]
        fn $name(&mut self, f: u16, v: $t) {
            match self.target(f) {
                $(Col::$variant(b) => b.append_value(v),)+
                _ => self.wrong_type(f),
            }
        }
    };
}

/// `value` `n` times, as a string array.
fn repeated(value: &str, n: usize) -> StringArray {
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(value.len(), n));
    StringArray::new(offsets, Buffer::from(value.as_bytes().repeat(n)), None)
}

impl Out for Columns {
    fn begin_row(&mut self, table: u16, path: u16) {
        self.stack.push(self.cur);
        let root = self.tables[table as usize].root;
        let Col::Record(r) = &mut self.cols[root as usize] else { unreachable!("a table's root is a record") };
        r.len += 1;
        r.validity.push(true);
        self.cur = Cursor { base: r.first, rec: root, filled: 0, table, path };
    }

    fn end_row(&mut self) -> Result<(), DecodeError> {
        let rec = self.cur.rec;
        self.complete(rec);
        let t = self.cur.table as usize;
        let st = &mut self.tables[t];
        st.rows += 1;
        st.ordinal.append_value(st.rows);
        let lineage = st.spec.rows.get(self.cur.path as usize).map_or(&[][..], |r| r.ancestors);
        for (c, b) in st.ancestors.iter_mut().enumerate() {
            match lineage.iter().find(|l| l.column as usize == c) {
                Some(l) => b.append_value(self.counters[l.counter as usize]),
                None => b.append_null(),
            }
        }
        self.cur = self.stack.pop().unwrap_or(self.cur);
        let full = match &self.cols[self.tables[t].root as usize] {
            Col::Record(r) => r.len >= self.batch_rows,
            _ => false,
        };
        if full && let Some(b) = self.take(t)? {
            self.ready.push((t, b));
            if self.sink.is_some() {
                self.drain()?;
            }
        }
        Ok(())
    }

    fn enter(&mut self, f: u16) {
        let mut i = self.cur.base + u32::from(f);
        match &self.cols[i as usize] {
            Col::List(l) => i = l.item,
            _ => self.cur.filled += 1,
        }
        let (table, path) = (self.cur.table, self.cur.path);
        self.stack.push(self.cur);
        let Col::Record(r) = &mut self.cols[i as usize] else { self.wrong_type(f) };
        r.len += 1;
        r.validity.push(true);
        self.cur = Cursor { base: r.first, rec: i, filled: 0, table, path };
    }

    fn leave(&mut self) {
        let rec = self.cur.rec;
        self.complete(rec);
        self.cur = self.stack.pop().unwrap_or(self.cur);
    }

    fn count(&mut self, counter: u16) {
        self.counters[counter as usize] += 1;
    }

    fn run(&mut self, run: &crate::events::Run) -> Result<(), DecodeError> {
        let t = run.table as usize;
        let counters: Vec<u64> = self.counters.iter().map(|&c| c as u64).collect();
        if self.tables[t].rows as u64 != run.rows_before || counters != run.counters {
            return Err(DecodeError::new(Rule::Resync, "a segment's guess of what came before it did not hold", 0));
        }
        // This file's rows of the table so far go first.
        if let Some(b) = self.take(t)? {
            self.ready.push((t, b));
        }
        if self.sink.is_some() {
            self.drain()?;
        }
        if let Some(hook) = &mut self.run_hook {
            hook(run)?;
        }
        self.tables[t].rows += run.rows as i64;
        Ok(())
    }

    put!(put_str, &str, Str);
    put!(put_bytes, &[u8], Bytes);
    put!(put_i64, i64, I64 | Time | DateTime | Timestamp);
    put!(put_f64, f64, F64);
    put!(put_bool, bool, Bool);
    put!(put_i128, i128, Dec128);
    put!(put_i256, i256, Dec256);
    put!(put_i32, i32, Date);
}

/// Columns that do not make a valid Arrow array: a bug of the code generator, reported as
/// the file's failure (never a panic).
#[cold]
fn inconsistent(e: arrow_schema::ArrowError) -> DecodeError {
    DecodeError::new(
        Rule::Io,
        format!("internal error: the decoded columns are inconsistent ({e}); please report it"),
        0,
    )
}

/// The error a sink returns when the writer it feeds has stopped.
pub fn writer_stopped() -> DecodeError {
    DecodeError::new(Rule::Write, "the part writer stopped", 0)
}
