//! The document skeleton: prolog, root, containers, records, epilogue.
//!
//! Records are decoded by the generated code; this driver walks the levels above
//! them, applies the file-level rules (a root with no container is invalid; each
//! container is optional and may be empty), numbers the records and hands out
//! record batches whenever a table has buffered `batch_rows` rows.
//!
//! It can also decode a *segment* of a document (see `pipeline::parallel`): one that
//! starts inside a container, right after a record, and may end between two records.

use super::{DecodeError, Decoder, Events, Rule};
use crate::schema::Document;
use arrow_array::RecordBatch;

/// Where decoding starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// At the start of the document.
    Document,
    /// Inside the container of table `t`, between two records.
    Container(usize),
}

/// Where decoding stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// At the end of the document (everything checked).
    Document,
    /// At the end of the input, inside the container of table `t`, between two records.
    Container(usize),
}

/// Rows per table, and where decoding stopped.
#[derive(Debug)]
pub struct Part {
    pub rows: Vec<u64>,
    pub exit: Exit,
}

/// Decodes one whole document. `emit(table, batch)` receives each full batch, then
/// the rest at the end. Returns the number of rows per table.
pub fn decode<D: Document, S: Events>(
    d: &mut Decoder<S>,
    source: &str,
    batch_rows: usize,
    emit: impl FnMut(usize, RecordBatch) -> Result<(), DecodeError>,
) -> Result<Vec<u64>, DecodeError> {
    decode_part::<D, S>(d, source, batch_rows, Entry::Document, false, &[], emit).map(|p| p.rows)
}

/// Decodes from `entry`; with `segment`, the input may end between two records
/// (then [`Exit::Container`]). Record ordinals of table `t` continue after
/// `ordinal_base[t]` (none given: from 1); `Part::rows` counts this call's records.
#[allow(clippy::too_many_arguments)]
pub fn decode_part<D: Document, S: Events>(
    d: &mut Decoder<S>,
    source: &str,
    batch_rows: usize,
    entry: Entry,
    segment: bool,
    ordinal_base: &[u64],
    mut emit: impl FnMut(usize, RecordBatch) -> Result<(), DecodeError>,
) -> Result<Part, DecodeError> {
    let root = D::ROOT;
    let specs = D::TABLES;
    let mut tables = D::default();
    let mut rows = vec![0u64; specs.len()];
    let flush = |tables: &mut D, emit: &mut dyn FnMut(usize, RecordBatch) -> Result<(), DecodeError>| {
        for c in 0..specs.len() {
            if tables.rows(c) > 0 {
                emit(c, tables.finish(c))?;
            }
        }
        Ok::<_, DecodeError>(())
    };
    let mut next = 0; // first container index still allowed
    let (mut seen_any, mut resume, mut t) = match entry {
        Entry::Document => {
            let tag = d.root()?;
            if d.name() != root.as_bytes() {
                let found = String::from_utf8_lossy(d.name()).into_owned();
                let msg = format!("root element is <{found}>; the schema's root is <{root}>");
                return Err(DecodeError::new(Rule::WrongRoot, msg, d.position()).within(&found));
            }
            d.attributes(|_, _| Ok(false)).map_err(|e| e.within(root))?;
            (false, None, d.first_child(tag)?)
        }
        Entry::Container(c) => (true, Some(c), super::Tag::Close),
    };
    loop {
        // The container we are in, and its first record tag when already read (a
        // resumed segment reads it below, like every later one).
        let (c, mut pending) = match resume.take() {
            Some(c) => (c, None),
            None => {
                if !t.is_open() {
                    break;
                }
                let Some(c) = (next..specs.len()).find(|&i| d.name() == specs[i].container.as_bytes()) else {
                    let containers: Vec<&str> = specs.iter().map(|t| t.container).collect();
                    let mut e = d.end(t, &containers).expect_err("t is open");
                    if e.rule == Rule::OutOfOrder {
                        e.message =
                            format!("{}; containers must appear once each, in the order {containers:?}", e.message);
                    }
                    return Err(e.within(root));
                };
                let within = |e: DecodeError| e.within(specs[c].container).within(root);
                d.attributes(|_, _| Ok(false)).map_err(within)?;
                (c, Some(d.first_child(t).map_err(within)?))
            }
        };
        let spec = &specs[c];
        let within = |e: DecodeError| e.within(spec.container).within(root);
        loop {
            let r = match pending.take() {
                Some(r) => r,
                None => match d.next_tag_or_eof().map_err(within)? {
                    Some(r) => r,
                    None if segment => {
                        flush(&mut tables, &mut emit)?;
                        return Ok(Part { rows, exit: Exit::Container(c) });
                    }
                    None => return Err(within(d.eof())),
                },
            };
            if !r.is_open() {
                break;
            }
            if d.name() != spec.record.as_bytes() {
                return Err(within(d.expected(r, spec.record, &[spec.record])));
            }
            rows[c] += 1;
            let n = rows[c] + ordinal_base.get(c).copied().unwrap_or(0);
            tables
                .decode_record(c, d, r, source, n as i64)
                .map_err(|e| within(e.within_item(spec.record, n as usize)))?;
            if tables.rows(c) >= batch_rows {
                emit(c, tables.finish(c))?;
            }
        }
        d.check_close(spec.container).map_err(within)?;
        seen_any = true;
        next = c + 1;
        t = d.next_tag().map_err(|e| e.within(root))?;
    }
    d.check_close(root).map_err(|e| e.within(root))?;
    if !seen_any {
        let names: Vec<&str> = specs.iter().map(|t| t.container).collect();
        let msg = format!("<{root}> holds none of {names:?}; an export needs at least one of them");
        return Err(DecodeError::new(Rule::NoTables, msg, d.position()).within(root));
    }
    d.finish()?;
    flush(&mut tables, &mut emit)?;
    Ok(Part { rows, exit: Exit::Document })
}
