//! The document skeleton: prolog, root, containers, records, epilogue.
//!
//! Records are decoded by the generated code; this driver walks the levels above
//! them, applies the file-level rules (a root with no container is invalid; each
//! container is optional and may be empty), numbers the records and hands out
//! record batches whenever a table has buffered `batch_rows` rows.

use super::{DecodeError, Decoder, Rule};
use crate::schema::Document;
use arrow_array::RecordBatch;
use std::io::BufRead;

/// Decodes one whole document. `emit(table, batch)` receives each full batch, then
/// the rest at the end; it returns false to stop early (the caller's choice, e.g. a
/// failed writer). Returns the number of rows per table.
pub fn decode<D: Document, R: BufRead>(
    d: &mut Decoder<R>,
    source: &str,
    batch_rows: usize,
    mut emit: impl FnMut(usize, RecordBatch) -> Result<(), DecodeError>,
) -> Result<Vec<u64>, DecodeError> {
    let root = D::ROOT;
    let tables_spec = D::TABLES;
    let mut tables = D::default();
    let mut rows = vec![0u64; tables_spec.len()];
    let tag = d.root()?;
    if d.name() != root.as_bytes() {
        let found = String::from_utf8_lossy(d.name()).into_owned();
        return Err(DecodeError::new(
            Rule::WrongRoot,
            format!("root element is <{found}>; the schema's root is <{root}>"),
            d.position(),
        )
        .within(&found));
    }
    d.attributes(|_, _| Ok(false)).map_err(|e| e.within(root))?;
    let mut next = 0; // first container index still allowed
    let mut seen_any = false;
    let mut t = d.first_child(tag)?;
    while t.is_open() {
        let Some(c) = (next..tables_spec.len()).find(|&i| d.name() == tables_spec[i].container.as_bytes()) else {
            let containers: Vec<&str> = tables_spec.iter().map(|t| t.container).collect();
            let mut e = d.end(t, &containers).expect_err("t is open");
            if e.rule == Rule::OutOfOrder {
                e.message = format!("{}; containers must appear once each, in the order {containers:?}", e.message);
            }
            return Err(e.within(root));
        };
        let spec = &tables_spec[c];
        let within = |e: DecodeError| e.within(spec.container).within(root);
        d.attributes(|_, _| Ok(false)).map_err(within)?;
        let mut r = d.first_child(t).map_err(within)?;
        while r.is_open() {
            if d.name() != spec.record.as_bytes() {
                return Err(within(d.expected(r, spec.record, &[spec.record])));
            }
            rows[c] += 1;
            let n = rows[c];
            tables
                .decode_record(c, d, r, source, n as i64)
                .map_err(|e| within(e.within_item(spec.record, n as usize)))?;
            if tables.rows(c) >= batch_rows {
                emit(c, tables.finish(c))?;
            }
            r = d.next_tag().map_err(within)?;
        }
        seen_any = true;
        next = c + 1;
        t = d.next_tag().map_err(|e| e.within(root))?;
    }
    if !seen_any {
        let names: Vec<&str> = tables_spec.iter().map(|t| t.container).collect();
        return Err(DecodeError::new(
            Rule::NoTables,
            format!("<{root}> holds none of {names:?}; an export needs at least one of them"),
            d.position(),
        )
        .within(root));
    }
    d.finish()?;
    for (c, _) in tables_spec.iter().enumerate() {
        if tables.rows(c) > 0 {
            emit(c, tables.finish(c))?;
        }
    }
    Ok(rows)
}
