//! Cuts a byte stream into segments that end right after a table row's end tag
//! (`</Order>`, `</g:trkpt>`), so that segments can be decoded in parallel.
//!
//! The names are searched as the document writes them: with the prefixes its root
//! element binds. Each cut is a guess (`</Order>` inside a comment or CDATA would
//! fool it), and so are the counts of rows and ancestors before each segment; the
//! stitched decode checks every guess (see `pipeline::parallel`), and a wrong one only
//! costs a sequential re-read, never a wrong row.

use memchr::memmem::{Finder, FinderRev};
use quick_xml::events::Event;
use std::io::{self, Read};
use std::sync::Arc;
use xml2bq_core::Schema;
use xml2bq_core::schema::NS_NONE;

/// Which row's end tag ends a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    pub table: usize,
    /// The row path (of the table's `rows`).
    pub row: usize,
    /// The end tag's name as written, e.g. `g:trkpt`.
    pub name: Vec<u8>,
}

/// One segment: its bytes, where it is in the file, what ends it (None for the last),
/// what ended the one before (None for the first), and the rows and ancestors counted
/// before it (guesses).
pub struct Segment {
    pub seq: usize,
    pub bytes: Buffer,
    pub offset: u64,
    pub after: Option<Cut>,
    pub cut: Option<Cut>,
    pub rows_before: Vec<u64>,
    pub counters_before: Vec<u64>,
}

/// A segment's bytes. When the segment is dropped (its worker and the stitching are
/// done with it), the allocation goes back to the splitter's pool for a later segment:
/// the pages stay mapped, so a large file does not page-fault fresh memory for each
/// segment, and stay initialized, so they are not zeroed again before each read.
pub struct Buffer {
    /// Initialized memory; the segment is its first `len` bytes.
    bytes: Vec<u8>,
    len: usize,
    pool: Option<Arc<Pool>>,
}

/// Spare segment allocations, at most [`POOL_CAP`].
#[derive(Default)]
struct Pool(std::sync::Mutex<Vec<Vec<u8>>>);

/// The spare allocations a pool keeps: more than the segments alive at once on a
/// 16-core run; the rest are freed.
const POOL_CAP: usize = 20;

impl Pool {
    fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok()?.pop()
    }
}

impl Buffer {
    /// Bytes of no pool (freed when dropped).
    pub fn new(bytes: Vec<u8>) -> Self {
        Buffer { len: bytes.len(), bytes, pool: None }
    }
}

impl std::ops::Deref for Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool
            && let Ok(mut spare) = pool.0.lock()
            && spare.len() < POOL_CAP
        {
            spare.push(std::mem::take(&mut self.bytes));
        }
    }
}

/// What to look for in a document: derived from the schema and the root's bindings.
#[derive(Clone, Debug)]
pub struct Targets {
    /// The prefix bindings the root element declares.
    pub bindings: Vec<(String, String)>,
    /// `</name>` of every row element form, with its cut (searched from the end).
    ends: Vec<(FinderRev<'static>, Cut)>,
    /// Per table: `<name` of its row elements' forms.
    row_starts: Vec<Vec<Finder<'static>>>,
    /// `<name` of every row element form a worker's run may start at, with its row.
    run_starts: Vec<(Finder<'static>, Cut)>,
    /// Per counter: `<name` of its element's forms.
    counter_starts: Vec<Vec<Finder<'static>>>,
}

impl Targets {
    /// Reads the root start tag at the start of `head` (the file's first bytes). None
    /// when it cannot be found there, or no row can be cut after.
    pub fn find(schema: &Schema, head: &[u8]) -> Option<Targets> {
        let mut reader = quick_xml::Reader::from_reader(head);
        let root = loop {
            match reader.read_event().ok()? {
                Event::Start(e) | Event::Empty(e) => break e.into_owned(),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::Text(_) => {}
                _ => return None,
            }
        };
        let mut bindings = vec![];
        for a in root.attributes() {
            let a = a.ok()?;
            let key = a.key.as_ref();
            let prefix = if key == b"xmlns" {
                String::new()
            } else if let Some(p) = key.strip_prefix(b"xmlns:") {
                String::from_utf8(p.to_vec()).ok()?
            } else {
                continue;
            };
            let uri = a.unescape_value().ok()?.into_owned();
            bindings.push((prefix, uri));
        }
        let ns_of = |uri: &str| schema.namespaces.iter().position(|n| *n == uri).map(|i| i as u16);
        // The forms an element (ns, local) can take in this document.
        let forms = |ns: u16, local: &str| -> Vec<Vec<u8>> {
            let mut out = vec![];
            let default = bindings.iter().rev().find(|(p, _)| p.is_empty()).map(|(_, u)| u.as_str()).unwrap_or("");
            if (ns == NS_NONE && default.is_empty()) || (ns != NS_NONE && ns_of(default) == Some(ns)) {
                out.push(local.as_bytes().to_vec());
            }
            for (p, u) in &bindings {
                if !p.is_empty() && ns != NS_NONE && ns_of(u) == Some(ns) {
                    out.push(format!("{p}:{local}").into_bytes());
                }
            }
            out
        };
        let mut ends = vec![];
        let mut run_starts = vec![];
        let mut row_starts = vec![];
        // Rows that hold rows of a table (its own or another's) further down: a worker
        // hands over the rows of one table per run, so neither cut after nor run from them.
        let holds_rows = |path: &[(u16, &str)]| {
            schema
                .tables
                .iter()
                .flat_map(|t| t.rows)
                .any(|o| o.elements.len() > path.len() && o.elements.starts_with(path))
        };
        let mut counter_starts = vec![vec![]; schema.counters];
        for (t, table) in schema.tables.iter().enumerate() {
            let mut starts = vec![];
            for (r, row) in table.rows.iter().enumerate() {
                let Some(&(ns, local)) = row.elements.last() else { continue };
                // Two row paths of one table ending in the same element: the cut could not
                // tell which parent its rows belong to.
                let ambiguous =
                    table.rows.iter().enumerate().any(|(k, o)| k != r && o.elements.last() == row.elements.last());
                let cuttable = !ambiguous && !holds_rows(row.elements);
                for f in forms(ns, local) {
                    let start = Finder::new(&[b"<".as_slice(), &f].concat()).into_owned();
                    if cuttable {
                        let end = FinderRev::new(&[b"</".as_slice(), &f, b">"].concat()).into_owned();
                        ends.push((end, Cut { table: t, row: r, name: f.clone() }));
                        run_starts.push((start.clone(), Cut { table: t, row: r, name: f.clone() }));
                    }
                    starts.push(start);
                }
                for a in row.ancestors {
                    if let Some(&(ans, alocal)) = row.elements.get(a.depth as usize) {
                        let c = &mut counter_starts[a.counter as usize];
                        for f in forms(ans, alocal) {
                            let s = [b"<".as_slice(), &f].concat();
                            if !c.contains(&s) {
                                c.push(s);
                            }
                        }
                    }
                }
            }
            row_starts.push(starts);
        }
        if ends.is_empty() {
            return None;
        }
        let counter_starts =
            counter_starts.iter().map(|c| c.iter().map(|n| Finder::new(n).into_owned()).collect()).collect();
        Some(Targets { bindings, ends, row_starts, run_starts, counter_starts })
    }

    /// Where the first start tag of a row a worker's run may start at is in
    /// `bytes[from..]` (an offset in `bytes`), and its row: a guess, like a cut, that
    /// the stitched decode checks.
    pub fn next_run_start(&self, bytes: &[u8], from: usize) -> Option<(usize, &Cut)> {
        let rest = bytes.get(from..)?;
        self.run_starts
            .iter()
            .filter_map(|(f, c)| {
                f.find_iter(rest).find(|&p| is_start_at(rest, p, f.needle().len())).map(|p| (from + p, c))
            })
            .min_by_key(|(p, _)| *p)
    }

    /// Adds the row start tags of each table and the start tags of each counter's
    /// elements in `bytes` to `rows` and `counters`.
    pub fn count(&self, bytes: &[u8], rows: &mut [u64], counters: &mut [u64]) {
        for (r, needles) in rows.iter_mut().zip(&self.row_starts) {
            *r += count_starts(bytes, needles);
        }
        for (c, needles) in counters.iter_mut().zip(&self.counter_starts) {
            *c += count_starts(bytes, needles);
        }
    }
}

/// Is the `<name` found at `p` (`len` bytes) a start tag: followed by `>`, `/` or whitespace?
fn is_start_at(bytes: &[u8], p: usize, len: usize) -> bool {
    matches!(bytes.get(p + len), Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r'))
}

/// Counts start tags `<name>`, `<name ...>`, `<name/>` in `bytes`.
fn count_starts(bytes: &[u8], needles: &[Finder<'static>]) -> u64 {
    needles.iter().map(|f| f.find_iter(bytes).filter(|&p| is_start_at(bytes, p, f.needle().len())).count() as u64).sum()
}

/// Splits a stream into segments of about `target` bytes.
pub struct Splitter<R> {
    input: R,
    target: usize,
    max: usize,
    /// The row end tags segments are cut after, and what the row and ancestor counts
    /// before each segment count.
    targets: Targets,
    rows_before: Vec<u64>,
    counters_before: Vec<u64>,
    /// Initialized memory; the bytes read are its first `filled`.
    buf: Vec<u8>,
    filled: usize,
    pool: Arc<Pool>,
    offset: u64,
    seq: usize,
    after: Option<Cut>,
    done: bool,
}

/// A segment grew past the limit without a row end tag in it.
#[derive(Debug)]
pub struct NoCut;

impl<R: Read> Splitter<R> {
    /// `head`: bytes already read from `input` (they come first).
    pub fn new(input: R, head: Vec<u8>, targets: &Targets, target: usize, max: usize) -> Self {
        Splitter {
            input,
            target,
            max,
            targets: targets.clone(),
            rows_before: vec![0; targets.row_starts.len()],
            counters_before: vec![0; targets.counter_starts.len()],
            filled: head.len(),
            buf: head,
            pool: Arc::default(),
            offset: 0,
            seq: 0,
            after: None,
            done: false,
        }
    }

    /// The first `len` bytes of `bytes`, as the next segment.
    fn segment(&mut self, bytes: Vec<u8>, len: usize, cut: Option<Cut>) -> Segment {
        let bytes = Buffer { bytes, len, pool: Some(self.pool.clone()) };
        let rows_before = self.rows_before.clone();
        let counters_before = self.counters_before.clone();
        self.targets.count(&bytes, &mut self.rows_before, &mut self.counters_before);
        let seq = self.seq;
        self.seq += 1;
        let offset = self.offset;
        self.offset += bytes.len() as u64;
        let after = std::mem::replace(&mut self.after, cut.clone());
        Segment { seq, bytes, offset, after, cut, rows_before, counters_before }
    }

    /// The end of the last row end tag in `buf[..limit]`, and its cut. Rows are small:
    /// look in the last 64 KiB first, and widen only when nothing is there.
    fn last_row_end(&self, limit: usize) -> Option<(usize, Cut)> {
        let buf = &self.buf[..limit];
        let mut window = 64 << 10;
        loop {
            let from = buf.len().saturating_sub(window);
            let hit = self
                .targets
                .ends
                .iter()
                .filter_map(|(f, c)| f.rfind(&buf[from..]).map(|p| (from + p + f.needle().len(), c)))
                .max_by_key(|(end, _)| *end)
                .map(|(end, c)| (end, c.clone()));
            if hit.is_some() || from == 0 {
                return hit;
            }
            // Each window holds the last one, so a tag across its edge is found too.
            window *= 8;
        }
    }

    /// Reads until `buf` holds `want` bytes or the input ends; true at the end.
    fn fill(&mut self, want: usize) -> io::Result<bool> {
        // Into initialized memory with plain reads: `read_to_end` into spare capacity
        // zeroes it first for a reader without a native `read_buf` (every boxed
        // source), 1.2% of the instructions of a load. Only growth is zeroed, once per
        // pooled buffer.
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        while self.filled < want {
            match self.input.read(&mut self.buf[self.filled..want]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// An allocation for the next segment's bytes, holding `buf[from..filled]`.
    fn next_buffer(&self, from: usize) -> Vec<u8> {
        let tail = &self.buf[from..self.filled];
        let mut next = self.pool.take().unwrap_or_else(|| Vec::with_capacity(self.target + (64 << 10)));
        if next.len() < tail.len() {
            next.resize(tail.len(), 0);
        }
        next[..tail.len()].copy_from_slice(tail);
        next
    }

    /// The next segment, None after the last.
    pub fn next_segment(&mut self) -> io::Result<Result<Option<Segment>, NoCut>> {
        if self.done {
            return Ok(Ok(None));
        }
        let mut want = self.target;
        loop {
            let eof = self.fill(want)?;
            if eof {
                self.done = true;
                let bytes = std::mem::take(&mut self.buf);
                return Ok(Ok(Some(self.segment(bytes, self.filled, None))));
            }
            match self.last_row_end(want.min(self.filled)) {
                Some((end, cut)) => {
                    let rest = self.next_buffer(end);
                    self.filled -= end;
                    let bytes = std::mem::replace(&mut self.buf, rest);
                    return Ok(Ok(Some(self.segment(bytes, end, Some(cut)))));
                }
                None if want >= self.max => return Ok(Err(NoCut)),
                None => want += self.target,
            }
        }
    }
}
