//! One large file on every core. The stream is cut into segments after row end tags
//! ([`crate::source::split`]); worker threads decode the run of rows each segment
//! starts with, and every later run in it (from the next row start tag after what is
//! not a row), and encode them into Parquet row groups; this thread decodes the
//! document itself, stitched from the segments, and takes each worker's run where it
//! belongs (`Next::Run` in the generated decoders), so everything outside the runs
//! (containers, document-table content, the file's other rows) is decoded and checked
//! in order, exactly as in one pass.
//!
//! Every guess is checked: a run must start right after a row of the table the segment
//! was cut after, or exactly at the start tag it was found at, in that row's parent,
//! with the namespace bindings, row numbers and ancestor numbers the worker assumed.
//! Anything else — an invalid file, `</Order>` or `<Order>` inside a comment — gives
//! up, and the caller decodes the file in one pass, which is also the path that
//! reports errors. Rows, ordinals and their order in the parts never depend on the
//! thread count.

use super::Job;
use crate::sink::{LocalSink, encode_row_group};
use crate::source::split::{Segment, Splitter, Targets};
use crate::source::{Counting, Input};
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory};
use quick_xml::events::Event;
use std::collections::{BTreeMap, VecDeque};
use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, channel, sync_channel};
use std::sync::{Arc, Mutex};
use xml2bq_core::columns::Columns;
use xml2bq_core::events::{Borrowed, Events, ResyncSignal, Run};
use xml2bq_core::parse::Decoder;
use xml2bq_core::{DecodeError, Rule, Schema, document};

/// Per table, the encoded row group of a segment's run (None: no rows of that table).
type RowGroups = Vec<Option<Vec<ArrowColumnChunk>>>;

/// What a successful parallel pass did: rows per table, segments, part paths.
pub struct Written {
    pub rows: Vec<u64>,
    pub segments: usize,
    /// Rows the workers decoded (handed over in runs).
    pub segment_rows: u64,
    pub parts: Vec<std::path::PathBuf>,
}

/// One run of rows a worker decoded in a segment, and what it assumed.
struct RunPart {
    table: usize,
    /// Which of the table's row paths.
    row: usize,
    /// Where in the segment the run starts (0: right after the cut the segment starts
    /// after; later runs start at a row's start tag).
    start: usize,
    /// Where in the segment the stitched decode goes on after it.
    stop: usize,
    rows: u64,
    rows_before: u64,
    counters: Vec<u64>,
    identity: xml2bq_core::identity::Collected,
}

/// What a worker did with a segment: the runs of rows it decoded, in order, and the
/// rows of each table encoded as one row group. Between two runs, the stitched decode
/// reads what is not a row (`</trkseg><trkseg>`, `</Customers><Orders>`): a run stops
/// there, and the next starts at the next row's start tag.
struct Done {
    runs: Vec<RunPart>,
    groups: RowGroups,
}

fn resync() -> DecodeError {
    DecodeError::new(Rule::Resync, "a segment's guess did not hold", 0)
}

thread_local! {
    /// What the columns of the last segment this thread decoded held.
    static LAST_SIZES: std::cell::RefCell<Option<xml2bq_core::columns::Sizes>> =
        const { std::cell::RefCell::new(None) };
}

/// Decodes the rows a segment starts with, and every later run of rows of the same
/// table in it (a worker's part).
fn work(
    schema: &'static Schema,
    seg: &Segment,
    targets: &Targets,
    uri: &str,
    batch_rows: usize,
    factories: &[ArrowRowGroupWriterFactory],
) -> Result<Done, DecodeError> {
    let cut = seg.after.as_ref().ok_or_else(resync)?;
    // Leave a segment that starts with a byte-order mark to the one-pass decode.
    if bom_at(seg, 0) {
        return Err(resync());
    }
    if xml2bq_core::utf8::check_xml_text(&seg.bytes, seg.offset).is_err() {
        return Err(DecodeError::new(Rule::InvalidUtf8, "invalid UTF-8 in a segment", seg.offset));
    }
    // Sized like the last segment this thread decoded: segments are alike.
    let mut cols = LAST_SIZES.with_borrow(|last| match last {
        Some(sizes) => Columns::new(schema, uri, batch_rows).sized_like(sizes),
        None => Columns::new(schema, uri, batch_rows),
    });
    let (mut rows_before, mut counters) = (seg.rows_before.clone(), seg.counters_before.clone());
    let mut runs: Vec<RunPart> = vec![];
    let (mut start, mut table, mut row) = (0, cut.table, cut.row);
    loop {
        cols.resume(&rows_before, &counters);
        let path = &schema.tables[table].rows[row];
        let (rows, stop, identity) = decode_run(schema, path, &seg.bytes[start..], targets, &mut cols)?;
        // A later run that holds no row: its start tag was not one (the stitched decode
        // will read past it).
        if rows == 0 && start > 0 {
            break;
        }
        let stop = start + stop;
        runs.push(RunPart {
            table,
            row,
            start,
            stop,
            rows,
            rows_before: rows_before[table],
            counters: counters.clone(),
            identity,
        });
        rows_before[table] += rows;
        let Some((next, c)) = targets.next_run_start(&seg.bytes, stop) else { break };
        targets.count(&seg.bytes[stop..next], &mut rows_before, &mut counters);
        (start, table, row) = (next, c.table, c.row);
    }
    LAST_SIZES.set(Some(cols.sizes()));
    let mut batches: Vec<Vec<_>> = schema.tables.iter().map(|_| vec![]).collect();
    for (t, b) in cols.flush()? {
        // Rows only of the runs' tables: anything else could not be handed over.
        if !runs.iter().any(|r| r.table == t) {
            return Err(resync());
        }
        batches[t].push(b);
    }
    let mut groups: RowGroups = schema.tables.iter().map(|_| None).collect();
    for (t, b) in batches.iter().enumerate().filter(|(_, b)| !b.is_empty()) {
        let g = encode_row_group(&factories[t], b).map_err(|e| DecodeError::new(Rule::Write, e.to_string(), 0))?;
        groups[t] = Some(g);
    }
    Ok(Done { runs, groups })
}

/// Decodes the rows `bytes` start with into `cols`: how many, where the first event
/// that is not one starts, and what they hold for identity constraints.
fn decode_run(
    schema: &'static Schema,
    path: &xml2bq_core::schema::RowPath,
    bytes: &[u8],
    targets: &Targets,
    cols: &mut Columns,
) -> Result<(u64, usize, xml2bq_core::identity::Collected), DecodeError> {
    let &(ns, local) = path.elements.last().ok_or_else(resync)?;
    let mut events = Borrowed::new(bytes);
    let mut d = Decoder::segment(&mut events, schema.namespaces, &targets.bindings);
    // Identity-constraint tuples and IDs are collected for the stitched decode to check.
    let around = &path.elements[..path.elements.len() - 1];
    let scopes: Vec<(usize, &[u16])> = path.scopes.iter().map(|(depth, cs)| (*depth as usize, *cs)).collect();
    d.resume_scopes(schema.constraints, around, &scopes);
    let mut rows = 0;
    let stop = loop {
        match d.next_child()? {
            Some(n) if n == ns && d.local() == local.as_bytes() => {
                (path.decode)(&mut d, cols)?;
                rows += 1;
            }
            _ => break d.event_start() as usize,
        }
    };
    Ok((rows, stop, d.collected_identity()))
}

/// A segment's bytes, as a reader's buffer.
struct SegBytes(Arc<Segment>);

impl AsRef<[u8]> for SegBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0.bytes
    }
}

/// The document this thread decodes: the segments in order, each from where its
/// worker's run stopped, with the run handed over at the boundary.
struct Stitched<'a> {
    schema: &'static Schema,
    targets: &'a Targets,
    segments: &'a Receiver<Arc<Segment>>,
    results: &'a Receiver<(usize, Result<Done, DecodeError>)>,
    /// The segments waiting for a worker, and what a worker does with one: this thread
    /// takes one too while the result it needs is not there yet.
    queue: &'a Mutex<Receiver<Arc<Segment>>>,
    work_on: &'a (dyn Fn(&Segment) -> Result<Done, DecodeError> + Sync),
    early: BTreeMap<usize, Result<Done, DecodeError>>,
    tokens: &'a SyncSender<()>,
    current: Option<Arc<Segment>>,
    /// The current segment's runs still to come.
    runs: VecDeque<RunPart>,
    reader: quick_xml::Reader<Cursor<SegBytes>>,
    /// Where in the current segment the reader started, plus the bytes
    /// [`Events::text_to_end`] consumed since (which the reader does not count).
    start: usize,
    leaves: xml2bq_core::events::Leaves,
    buf: Vec<u8>,
    pending: Option<Run>,
    groups: Arc<Mutex<Option<RowGroups>>>,
    /// The last event was the end tag the current segment was cut after.
    ended_at_cut: bool,
    broken: bool,
    finished: bool,
    seen: usize,
    /// Rows of the runs handed over.
    segment_rows: u64,
}

impl<'a> Stitched<'a> {
    /// Whether the reader's part of the current segment is read: up to the next run's
    /// start, or to the segment's end.
    fn at_end(&self) -> bool {
        match &self.current {
            Some(s) => {
                let at = self.start + self.reader.buffer_position() as usize;
                let end = self.runs.front().map_or(s.bytes.len(), |r| r.start);
                // A reader that skips whitespace before markup reports the end of its
                // input after trailing whitespace: that is the end of the part too.
                // (Past the part's end: an event ran over a run's start, which
                // `advance` refuses.)
                s.bytes.get(at..end).is_none_or(|rest| {
                    rest.is_empty()
                        || (self.reader.config().trim_text_start
                            && rest.iter().all(|&b| xml2bq_core::value::is_xml_space(char::from(b))))
                })
            }
            None => true,
        }
    }

    /// The worker's result for segment `seq`. While it is not there and every worker
    /// is busy, this thread decodes the next waiting segment itself.
    fn result(&mut self, seq: usize) -> Result<Done, DecodeError> {
        loop {
            if let Some(r) = self.early.remove(&seq) {
                return r;
            }
            match self.results.try_recv() {
                Ok((s, r)) => {
                    self.early.insert(s, r);
                    continue;
                }
                Err(TryRecvError::Disconnected) => return Err(resync()),
                Err(TryRecvError::Empty) => {}
            }
            // A worker waiting for a segment holds the lock: then it takes the next one.
            let waiting = self.queue.try_lock().ok().and_then(|q| q.try_recv().ok());
            if let Some(seg) = waiting {
                let r = (self.work_on)(&seg);
                self.early.insert(seg.seq, r);
                continue;
            }
            match self.results.recv_timeout(std::time::Duration::from_millis(1)) {
                Ok((s, r)) => {
                    self.early.insert(s, r);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(resync()),
            }
        }
    }

    /// The run `part` of the current segment as the decoder takes it.
    fn run(&self, part: RunPart) -> Run {
        Run {
            table: part.table as u16,
            row: part.row as u16,
            path: self.schema.tables[part.table].rows[part.row].elements,
            rows: part.rows,
            rows_before: part.rows_before,
            counters: part.counters,
            bindings: self.targets.bindings.clone(),
            identity: part.identity,
        }
    }

    /// Hands over the current segment's next run, if the reader ended exactly where it
    /// starts, and goes on after it. False when the stitching cannot go on.
    fn next_run(&mut self, seg: &Arc<Segment>) -> bool {
        let at = self.start + self.reader.buffer_position() as usize;
        let Some(part) = self.runs.pop_front() else { return false };
        if at > part.start || bom_at(seg, part.stop) {
            return false;
        }
        self.read_from(seg, part.stop);
        self.ended_at_cut = part.stop == seg.bytes.len();
        self.pending = Some(self.run(part));
        true
    }

    /// Reads `seg` from `from` on, with the reader's settings as they are.
    fn read_from(&mut self, seg: &Arc<Segment>, from: usize) {
        self.reader = fresh_reader(self.reader.config(), seg, from);
        self.start = from;
        self.leaves.reset();
    }

    /// Moves to the next run or segment; false when the stitching cannot go on.
    fn advance(&mut self) -> bool {
        if let Some(cur) = self.current.clone()
            && !self.runs.is_empty()
        {
            return self.next_run(&cur);
        }
        if let Some(cur) = &self.current {
            if cur.cut.is_none() {
                self.finished = true;
                return true;
            }
            if !self.ended_at_cut {
                return false;
            }
            let _ = self.tokens.try_send(());
        }
        let Ok(seg) = self.segments.recv() else { return false };
        self.seen += 1;
        if seg.seq == 0 {
            // The splitter dropped the file's byte-order mark: a second one is a
            // character the reader would drop as well. The one-pass decode reports it.
            if bom_at(&seg, 0) || xml2bq_core::utf8::check_xml_text(&seg.bytes, seg.offset).is_err() {
                return false;
            }
            self.read_from(&seg, 0);
            self.runs.clear();
        } else {
            let Ok(done) = self.result(seg.seq) else { return false };
            let mut runs: VecDeque<RunPart> = done.runs.into();
            let Some(first) = runs.pop_front() else { return false };
            if bom_at(&seg, first.stop) {
                return false;
            }
            self.read_from(&seg, first.stop);
            self.runs = runs;
            // The first run taken appends the row group all the runs' rows are in.
            *self.groups.lock().unwrap_or_else(|e| e.into_inner()) = Some(done.groups);
            if first.rows > 0 {
                self.pending = Some(self.run(first));
            }
        }
        // A run that reaches the end of its segment ended with the row end tag the
        // segment was cut after.
        self.ended_at_cut = self.pending.is_some() && self.start == seg.bytes.len();
        self.current = Some(seg);
        true
    }
}

/// A reader of `seg` from `from` on with the settings `cfg`.
fn fresh_reader(
    cfg: &quick_xml::reader::Config,
    seg: &Arc<Segment>,
    from: usize,
) -> quick_xml::Reader<Cursor<SegBytes>> {
    let mut c = Cursor::new(SegBytes(seg.clone()));
    c.set_position(from as u64);
    xml2bq_core::events::fresh_reader(cfg, c)
}

/// UTF-8's byte-order mark (U+FEFF).
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Would a reader started at `at` in `seg` drop a byte-order mark there (as it does at
/// the start of its input; inside a document U+FEFF is a character like any other)?
/// Also true past the segment's end.
fn bom_at(seg: &Segment, at: usize) -> bool {
    seg.bytes.get(at..).is_none_or(|rest| rest.starts_with(BOM))
}

fn resync_io() -> quick_xml::Error {
    quick_xml::Error::Io(Arc::new(std::io::Error::other(ResyncSignal)))
}

impl Events for Stitched<'_> {
    fn next(&mut self) -> quick_xml::Result<Event<'_>> {
        if self.broken || self.pending.is_some() {
            return Err(resync_io());
        }
        while !self.finished && self.at_end() {
            if !self.advance() {
                self.broken = true;
                return Err(resync_io());
            }
            // A run here, where no rows belong: give up.
            if self.pending.is_some() {
                self.broken = true;
                return Err(resync_io());
            }
        }
        if self.finished {
            return Ok(Event::Eof);
        }
        self.buf.clear();
        let ev = self.reader.read_event_into(&mut self.buf);
        self.ended_at_cut = match (&ev, self.current.as_ref().and_then(|s| s.cut.as_ref())) {
            (Ok(Event::End(e)), Some(cut)) => e.name().as_ref() == cut.name.as_slice(),
            _ => false,
        };
        ev
    }

    fn take_run(&mut self) -> Option<Run> {
        let at_boundary = self.pending.is_none() && !self.broken && !self.finished && self.current.is_some();
        if at_boundary && self.at_end() && !self.advance() {
            self.broken = true;
        }
        let run = self.pending.take();
        self.segment_rows += run.as_ref().map_or(0, |r| r.rows);
        run
    }

    fn position(&self) -> u64 {
        self.current.as_ref().map_or(0, |s| s.offset) + (self.start as u64) + self.reader.buffer_position()
    }

    fn error_position(&self) -> u64 {
        self.current.as_ref().map_or(0, |s| s.offset) + (self.start as u64) + self.reader.error_position()
    }

    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        self.reader.config_mut()
    }

    fn text_to_end(&mut self, name: &[u8]) -> Option<xml2bq_core::events::Text<'_>> {
        if self.broken || self.pending.is_some() || self.finished {
            return None;
        }
        let seg = self.current.as_ref()?;
        // Within the reader's part of the segment. (Where the reader is: its input's
        // position. Its own count leaves out a byte-order mark it dropped.)
        let at = usize::try_from(self.reader.get_ref().position()).ok()?;
        let end = self.runs.front().map_or(seg.bytes.len(), |r| r.start);
        let (text, len) = xml2bq_core::events::plain_leaf(seg.bytes.get(at..end)?, name)?;
        let after = at + len;
        self.ended_at_cut = seg.cut.as_ref().is_some_and(|c| c.name == name);
        self.reader.get_mut().set_position(after as u64);
        self.start += len;
        // A fresh reader now and then (see `LEAVES_PER_READER`).
        if self.leaves.one_more(seg.bytes.get(after)) {
            self.reader = fresh_reader(self.reader.config(), seg, after);
            self.start = after;
        }
        Some(text)
    }
}

/// The parts this thread appends to, shared by its own rows and the workers' runs.
struct Assembler {
    parts: crate::sink::RowGroupParts,
    factories: Arc<Vec<ArrowRowGroupWriterFactory>>,
}

/// Decodes and writes `input` on this thread and `workers` workers of the pool. `Some(Ok(written))` when every
/// guess held; `Some(Err)` when writing failed; `None` to decode the file in one pass
/// instead (nothing of this attempt is left behind).
pub fn write(job: &Job, input: &Input, sink: &LocalSink, workers: usize) -> Option<std::io::Result<Written>> {
    if sink.format != crate::sink::Format::Parquet {
        return None;
    }
    let schema = job.schema;
    // Progress counts the stored bytes; a compressed file's document is inflated on a
    // thread of its own as the splitter reads it.
    let on_bytes = job.on_bytes.clone();
    let stored = Counting { inner: input.open().ok()?, on_read: Box::new(move |n| on_bytes(n)) };
    let (mut stream, check) = input.document(Box::new(stored)).ok()?;
    let mut head = Vec::with_capacity(256 << 10);
    stream.by_ref().take(256 << 10).read_to_end(&mut head).ok()?;
    // Segments are cut from the bytes: only UTF-8 documents take this path.
    if !xml2bq_core::encoding::sniff(&head[..head.len().min(1024)]).is_ok_and(|s| s.is_utf8()) {
        return None;
    }
    let bom = if head.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
    let targets = Targets::find(schema, &head[bom..])?;
    let (parts, factories) = match sink.begin_row_groups(input) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let factories = Arc::new(factories);
    let mut splitter =
        Splitter::new(stream, head.split_off(bom), &targets, job.segment_bytes, job.segment_bytes.saturating_mul(16));
    let stop = AtomicBool::new(false);
    let (seg_tx, seg_rx) = sync_channel::<Arc<Segment>>(1);
    let seg_rx = Mutex::new(seg_rx);
    let (main_tx, main_rx) = channel::<Arc<Segment>>();
    let (res_tx, res_rx) = channel::<(usize, Result<Done, DecodeError>)>();
    // Segments alive at once (bounds memory): the splitter takes a token per segment,
    // this thread gives one back when it leaves a segment.
    // One per decoding thread, one the stitching is in, one waiting.
    let (token_tx, token_rx) = sync_channel::<()>(workers + 3);
    for _ in 0..workers + 3 {
        let _ = token_tx.try_send(());
    }
    let asm = Arc::new(Mutex::new(Assembler { parts, factories: factories.clone() }));
    let groups: Arc<Mutex<Option<RowGroups>>> = Arc::new(Mutex::new(None));
    // What a worker (or this thread, helping) does with a segment. After a stop it still
    // answers every segment, so that this thread never waits for one.
    let work_on = |seg: &Segment| {
        if stop.load(Ordering::Relaxed) {
            Err(resync())
        } else {
            work(schema, seg, &targets, &input.uri, job.batch_rows, &factories)
        }
    };
    let outcome = std::thread::scope(|s| {
        let stop_r = &stop;
        let reader = std::thread::Builder::new().name("xml2bq-read".into()).spawn_scoped(s, move || {
            while !stop_r.load(Ordering::Relaxed) && token_rx.recv().is_ok() {
                match splitter.next_segment() {
                    Ok(Ok(Some(seg))) => {
                        let seg = Arc::new(seg);
                        if seg.seq > 0 && seg_tx.send(seg.clone()).is_err() {
                            break;
                        }
                        if main_tx.send(seg).is_err() {
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
        if reader.is_err() {
            return None; // no thread to read with: the one-pass decode reads itself
        }
        // The workers are the run's pool's: this thread is one of them, the others take
        // these loops (and go back to the pool when the segments end).
        rayon::in_place_scope(|rs| {
            for _ in 0..workers {
                let (rx, tx, work_on) = (&seg_rx, res_tx.clone(), &work_on);
                rs.spawn(move |_| {
                    loop {
                        // Hold the lock for the receive only, so that workers run side by side.
                        let next = rx.lock().map(|r| r.recv());
                        let Ok(Ok(seg)) = next else { break };
                        if tx.send((seg.seq, work_on(&seg))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(res_tx);
            let mut stitched = Stitched {
                schema,
                targets: &targets,
                segments: &main_rx,
                results: &res_rx,
                queue: &seg_rx,
                work_on: &work_on,
                early: BTreeMap::new(),
                tokens: &token_tx,
                current: None,
                runs: VecDeque::new(),
                reader: quick_xml::Reader::from_reader(Cursor::new(SegBytes(Arc::new(Segment {
                    seq: usize::MAX,
                    bytes: crate::source::split::Buffer::new(vec![]),
                    offset: 0,
                    after: None,
                    cut: None,
                    rows_before: vec![],
                    counters_before: vec![],
                })))),
                start: 0,
                leaves: Default::default(),
                buf: Vec::with_capacity(4096),
                pending: None,
                groups: groups.clone(),
                ended_at_cut: false,
                broken: false,
                finished: false,
                seen: 0,
                segment_rows: 0,
            };
            let asm_sink = asm.clone();
            let (asm_hook, groups_hook) = (asm.clone(), groups.clone());
            let mut out = Columns::new(schema, &input.uri, job.batch_rows)
                .with_sink(Box::new(move |t, b| {
                    let mut a = asm_sink.lock().unwrap_or_else(|e| e.into_inner());
                    let chunks = encode_row_group(&a.factories[t], &[b]).map_err(super::write_failed)?;
                    a.parts.append(t, chunks).map_err(super::write_failed)
                }))
                .with_run_hook(Box::new(move |run| {
                    // The first run of a table in a segment appends the row group of
                    // all its runs there.
                    let chunks = groups_hook
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .as_mut()
                        .and_then(|g| g.get_mut(run.table as usize).and_then(Option::take));
                    if let Some(chunks) = chunks {
                        let mut a = asm_hook.lock().unwrap_or_else(|e| e.into_inner());
                        a.parts.append(run.table as usize, chunks).map_err(super::write_failed)?;
                    }
                    Ok(())
                }));
            let decoded = {
                let mut d = Decoder::new(&mut stitched, schema.namespaces);
                document::decode(schema, &mut d, &mut out).and_then(|()| out.flush().map(drop))
            };
            let rows = out.rows();
            drop(out);
            let (segments, segment_rows) = (stitched.seen, stitched.segment_rows);
            let whole = stitched.finished;
            // Stop the others, however this ended.
            stop.store(true, Ordering::SeqCst);
            drop(stitched);
            drop(token_tx);
            drop(main_rx);
            match decoded {
                Ok(()) if whole => Some(Ok((rows, segments, segment_rows))),
                Err(e) if e.rule == Rule::Write => Some(Err(std::io::Error::other(e.message))),
                _ => None,
            }
        })
    });
    let asm = Arc::try_unwrap(asm).ok()?.into_inner().unwrap_or_else(|e| e.into_inner());
    match outcome? {
        // Compressed data must be sound to its end (its checksum), or the one-pass
        // decode says why the file is invalid.
        Ok(_) if check.as_ref().is_some_and(|c| c.finish().is_err()) => None,
        Ok((rows, segments, segment_rows)) => {
            Some(asm.parts.commit(&rows).map(|parts| Written { rows, segments, segment_rows, parts }))
        }
        Err(e) => Some(Err(e)),
    }
}
