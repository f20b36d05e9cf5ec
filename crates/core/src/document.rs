//! A whole document: the prolog, the root element (matched against the schema's
//! roots by namespace and local name, never by prefix), and what may follow it.

use crate::columns::Columns;
use crate::error::{DecodeError, Rule};
use crate::events::Events;
use crate::parse::Decoder;
use crate::schema::{NS_NONE, Schema};
use arrow_array::RecordBatch;
use std::sync::{Arc, Mutex};

/// Decodes a document with the schema's root decoders into `out`.
pub fn decode(schema: &'static Schema, d: &mut Decoder<'_>, out: &mut Columns) -> Result<(), DecodeError> {
    let root = root(schema, d)?;
    (schema.roots[root].decode)(d, out)?;
    d.finish()
}

/// Record batches, each with its table's index, in the order they were made.
pub type Batches = Vec<(usize, RecordBatch)>;

/// A document decoded in one pass from `events` into record batches in memory, of at
/// most `batch_rows` rows, whose `_source_uri` is `uri`: the rows per table, or the
/// error; and the batches made before the end (or the error), in order, with their
/// table. (Tests and fuzz targets compare decodes through it.)
pub fn decode_to_batches(
    schema: &'static Schema,
    events: &mut dyn Events,
    uri: &str,
    batch_rows: usize,
) -> (Result<Vec<u64>, DecodeError>, Batches) {
    let batches = Arc::new(Mutex::new(vec![]));
    let keep = batches.clone();
    let sink = Box::new(move |t, b| {
        keep.lock().unwrap_or_else(|e| e.into_inner()).push((t, b));
        Ok(())
    });
    let mut d = Decoder::new(events, schema.namespaces);
    let mut out = Columns::new(schema, uri, batch_rows).with_sink(sink);
    let r = decode(schema, &mut d, &mut out).and_then(|()| out.flush().map(drop)).map(|()| out.rows());
    drop(out);
    let batches = std::mem::take(&mut *batches.lock().unwrap_or_else(|e| e.into_inner()));
    (r, batches)
}

/// Reads the prolog and the root's start tag: which of the schema's roots it is.
pub fn root(schema: &Schema, d: &mut Decoder<'_>) -> Result<usize, DecodeError> {
    let ns = d.root()?;
    let local = d.local();
    match schema.roots.iter().position(|r| r.ns == ns && r.local.as_bytes() == local) {
        Some(i) => Ok(i),
        None => Err(wrong_root(schema, d, ns)),
    }
}

#[cold]
fn wrong_root(schema: &Schema, d: &Decoder<'_>, ns: u16) -> DecodeError {
    if let Some(e) = d.name_error() {
        return e;
    }
    let local = String::from_utf8_lossy(d.local()).into_owned();
    let in_ns = |n: u16| {
        if n == NS_NONE { "in no namespace".to_string() } else { format!("in namespace {:?}", schema.namespace(n)) }
    };
    let roots: Vec<String> = schema.roots.iter().map(|r| format!("<{}> {}", r.local, in_ns(r.ns))).collect();
    let mut e = if let Some(r) = schema.roots.iter().find(|r| r.local == local) {
        let msg = format!("the root <{local}> is {}; the schema's <{local}> is {}", in_ns(ns), in_ns(r.ns));
        d.error(Rule::WrongNamespace, msg)
    } else {
        d.error(
            Rule::WrongRoot,
            format!("the root element <{local}> {} is not one of the schema's: {}", in_ns(ns), roots.join(", ")),
        )
    };
    e.path = local;
    e
}
