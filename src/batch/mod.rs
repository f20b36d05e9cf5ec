//! Column-building helpers the generated code uses: list columns, struct validity,
//! and the lineage columns every table carries.

use arrow_array::builder::{ArrayBuilder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, ListArray};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::Field;
use std::sync::Arc;

/// A list column: offsets plus a child builder (`values`).
#[derive(Default)]
pub struct ListColumn<B> {
    offsets: Vec<i32>,
    pub values: B,
}

impl<B> ListColumn<B> {
    /// Ends one row that added `items` values to `values`.
    pub fn close_row(&mut self, items: usize) {
        let last = self.offsets.last().copied().unwrap_or(0);
        self.offsets.push(last + items as i32);
    }

    /// Builds the list array around the finished `values`.
    pub fn finish(&mut self, values: ArrayRef) -> ArrayRef {
        let mut offsets = Vec::with_capacity(self.offsets.len() + 1);
        offsets.push(0);
        offsets.append(&mut self.offsets);
        let field = Arc::new(Field::new("item", values.data_type().clone(), false));
        Arc::new(ListArray::new(field, OffsetBuffer::new(ScalarBuffer::from(offsets)), values, None))
    }
}

/// Takes a struct column's validity: `None` when every row is present.
pub fn take_validity(v: &mut Vec<bool>) -> Option<NullBuffer> {
    let v = std::mem::take(v);
    if v.iter().all(|b| *b) { None } else { Some(NullBuffer::from(v)) }
}

/// The lineage columns: `_source_uri` and `_record_ordinal` (1-based, per table and file).
#[derive(Default)]
pub struct Lineage {
    source: StringBuilder,
    ordinal: Int64Builder,
}

impl Lineage {
    pub fn append(&mut self, source: &str, ordinal: i64) {
        self.source.append_value(source);
        self.ordinal.append_value(ordinal);
    }

    pub fn len(&self) -> usize {
        self.ordinal.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn arrays(&mut self) -> [ArrayRef; 2] {
        [Arc::new(self.source.finish()), Arc::new(self.ordinal.finish())]
    }
}

/// Adds `by` to the `_record_ordinal` column (the last one) of a batch: a segment of
/// a file numbers its records from 1; the file's earlier segments had `by` of them.
pub fn offset_ordinals(batch: arrow_array::RecordBatch, by: u64) -> arrow_array::RecordBatch {
    use arrow_array::cast::AsArray;
    if by == 0 {
        return batch;
    }
    let last = batch.num_columns() - 1;
    let ordinals: arrow_array::Int64Array =
        batch.column(last).as_primitive::<arrow_array::types::Int64Type>().unary(|v| v + by as i64);
    let mut cols = batch.columns().to_vec();
    cols[last] = Arc::new(ordinals);
    arrow_array::RecordBatch::try_new(batch.schema(), cols).expect("same schema, same lengths")
}
