//! One large file on every core: the stream is cut into segments after record end
//! tags ([`crate::source::split`]); worker threads decode each segment and encode it
//! into one Parquet row group per table; this thread appends the row groups in order.
//!
//! Each cut is a guess, and each guess is checked: a segment must decode cleanly,
//! stop exactly between two records of the table it was cut after (the last one must
//! end the document), and hold exactly as many records as the splitter counted (its
//! ordinals were numbered from that count). Anything else — an invalid file, or
//! `</Order>` inside a comment — returns `None`, and the caller decodes the file in
//! one pass instead, which is also the path that reports errors. Rows, ordinals and
//! part files never depend on the thread count.

use super::Job;
use crate::parse::document::{self, Entry, Exit};
use crate::parse::{DecodeError, Decoder, Rule};
use crate::schema::{TABLES, Tables};
use crate::sink::{LocalSink, encode_row_group};
use crate::source::split::{Segment, Splitter};
use crate::source::{Counting, Input};
use arrow_array::RecordBatch;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel};

/// Per table, the encoded row group of a segment (None: no rows of that table).
type RowGroups = Vec<Option<Vec<ArrowColumnChunk>>>;

/// A decoded and encoded segment.
struct Encoded {
    seq: usize,
    cut_after: Option<usize>,
    records: Vec<u64>,
    result: Result<(RowGroups, document::Part), DecodeError>,
}

/// What a successful parallel pass did: rows per table, segments, part paths.
pub struct Written {
    pub rows: Vec<u64>,
    pub segments: usize,
    pub parts: Vec<std::path::PathBuf>,
}

fn encode_segment(
    seg: &Segment,
    source: &str,
    batch_rows: usize,
    factories: &[ArrowRowGroupWriterFactory],
) -> Result<(RowGroups, document::Part), DecodeError> {
    let io = |e: std::io::Error| DecodeError::new(Rule::Io, e.to_string(), 0);
    if simdutf8::basic::from_utf8(&seg.bytes).is_err() {
        return Err(DecodeError::new(Rule::InvalidUtf8, "invalid UTF-8 in a segment", 0));
    }
    let mut d = match seg.entry {
        Entry::Document => Decoder::slice(&seg.bytes),
        Entry::Container(_) => Decoder::segment(&seg.bytes),
    };
    let mut batches: Vec<Vec<RecordBatch>> = vec![vec![]; TABLES.len()];
    let last = seg.cut_after.is_none();
    let part = document::decode_part::<Tables, _>(
        &mut d,
        source,
        batch_rows,
        seg.entry,
        !last,
        &seg.records_before,
        |t, b| {
            batches[t].push(b);
            Ok(())
        },
    )?;
    let groups = batches
        .iter()
        .enumerate()
        .map(|(t, b)| if b.is_empty() { Ok(None) } else { encode_row_group(&factories[t], t, b).map(Some) })
        .collect::<Result<_, _>>()
        .map_err(io)?;
    Ok((groups, part))
}

/// Decodes and writes `input` on `workers` threads. `Some(Ok(written))` when every
/// segment checked out; `Some(Err)` when writing failed; `None` to decode
/// the file in one pass instead (nothing of this attempt is left behind).
pub fn write(job: &Job, input: &Input, sink: &LocalSink, workers: usize) -> Option<std::io::Result<Written>> {
    if sink.format != crate::sink::Format::Parquet {
        return None;
    }
    let stream = input.open().ok()?;
    let (mut parts, factories) = match sink.begin_row_groups(input) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let on_bytes = job.on_bytes.clone();
    let counted = Counting { inner: stream, on_read: Box::new(move |n| on_bytes(n)) };
    let records: Vec<&str> = TABLES.iter().map(|t| t.record).collect();
    let mut splitter = Splitter::new(counted, &records, job.segment_bytes, job.segment_bytes.saturating_mul(16));
    let stop = AtomicBool::new(false);
    let (seg_tx, seg_rx) = sync_channel::<Segment>(1);
    let seg_rx = Mutex::new(seg_rx);
    let (out_tx, out_rx) = channel::<Encoded>();
    let outcome = std::thread::scope(|s| {
        // Reader: cut the stream. A read error or a segment with no record end ends the
        // attempt before the last segment, so it never finishes (the one-pass decode will
        // meet the same input and say what is wrong).
        let stop_r = &stop;
        s.spawn(move || {
            while !stop_r.load(Ordering::Relaxed) {
                match splitter.next_segment() {
                    Ok(Ok(Some(seg))) => {
                        if seg_tx.send(seg).is_err() {
                            break;
                        }
                    }
                    Ok(Ok(None)) => break,
                    _ => {
                        stop_r.store(true, Ordering::SeqCst);
                        break;
                    }
                }
            }
        });
        for _ in 0..workers {
            let (rx, tx, stop_w, factories) = (&seg_rx, out_tx.clone(), &stop, &factories);
            s.spawn(move || {
                loop {
                    // Take the lock for the receive only (a `while let` would hold it
                    // for the whole body and run the workers one at a time).
                    let next = rx.lock().expect("segment queue").recv();
                    let Ok(seg) = next else { break };
                    if stop_w.load(Ordering::Relaxed) {
                        break;
                    }
                    let result = encode_segment(&seg, &input.uri, job.batch_rows, factories);
                    let done = Encoded { seq: seg.seq, cut_after: seg.cut_after, records: seg.records, result };
                    if tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(out_tx);
        // This thread: check each segment in order and append its row groups.
        let mut pending = BTreeMap::new();
        let (mut next, mut finished) = (0, false);
        let mut rows = vec![0u64; TABLES.len()];
        for e in out_rx.iter() {
            pending.insert(e.seq, e);
            while let Some(e) = pending.remove(&next) {
                let Ok((groups, part)) = e.result else {
                    stop.store(true, Ordering::SeqCst);
                    return None;
                };
                let exit_ok = match (e.cut_after, part.exit) {
                    (Some(t), Exit::Container(c)) => t == c,
                    (None, Exit::Document) => true,
                    _ => false,
                };
                if !exit_ok || part.rows != e.records {
                    stop.store(true, Ordering::SeqCst);
                    return None;
                }
                for (t, g) in groups.into_iter().enumerate() {
                    if let Some(chunks) = g
                        && let Err(err) = parts.append(t, chunks)
                    {
                        stop.store(true, Ordering::SeqCst);
                        return Some(Err(err));
                    }
                    rows[t] += part.rows[t];
                }
                finished = e.cut_after.is_none();
                next += 1;
            }
        }
        finished.then_some(Ok((rows, next)))
    });
    match outcome? {
        Ok((rows, segments)) => Some(parts.commit(&rows).map(|p| Written { rows, segments, parts: p })),
        Err(e) => Some(Err(e)),
    }
}
