//! Where the decoder's XML events come from: a stream (quick-xml copies each event
//! into a buffer) or a slice already in memory (events borrow the slice: no copy).

use quick_xml::events::Event;
use std::io::BufRead;

/// Rows of one table decoded elsewhere (by a segment worker): what the source of a
/// stitched document hands the decoder at a segment boundary, with the assumptions
/// the worker made, which the decoder and the output check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub table: u16,
    /// Which of the table's row paths.
    pub row: u16,
    /// The row element's path (namespace id, local name), the root first.
    pub path: &'static [(u16, &'static str)],
    pub rows: u64,
    /// Rows of the table before the run, as the worker numbered them.
    pub rows_before: u64,
    /// Ancestor counters, as the worker saw them.
    pub counters: Vec<u64>,
    /// The prefix bindings in scope, as the worker assumed them.
    pub bindings: Vec<(String, String)>,
    /// Identity-constraint tuples and IDs the worker found for scopes opened before it.
    pub identity: crate::identity::Collected,
}

/// The I/O error a stitched source returns when rows decoded elsewhere do not fit:
/// the decoder reports it as [`crate::Rule::Resync`] (decode the file in one pass).
#[derive(Debug)]
pub struct ResyncSignal;

impl std::fmt::Display for ResyncSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a segment's guess did not hold")
    }
}

impl std::error::Error for ResyncSignal {}

/// The reader settings the decoder reads with. End tags are matched by the decoder,
/// against its own stack: that works the same for a whole document and for one
/// stitched from segments.
pub fn configure(cfg: &mut quick_xml::reader::Config) {
    cfg.check_end_names = false;
    cfg.allow_unmatched_ends = true;
    cfg.check_comments = true;
    cfg.expand_empty_elements = false;
    cfg.trim_text(false);
}

/// A source of quick-xml events.
pub trait Events {
    /// The next event.
    fn next(&mut self) -> quick_xml::Result<Event<'_>>;
    /// Rows decoded elsewhere that come next, if the source is at such a point.
    fn take_run(&mut self) -> Option<Run> {
        None
    }
    /// Byte offset after the last event.
    fn position(&self) -> u64;
    /// Byte offset of the last error.
    fn error_position(&self) -> u64;
    /// The reader's configuration.
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config;
}

/// Events from a stream.
pub struct Buffered<R> {
    reader: quick_xml::Reader<R>,
    buf: Vec<u8>,
}

impl<R: BufRead> Buffered<R> {
    pub fn new(input: R) -> Self {
        Buffered { reader: quick_xml::Reader::from_reader(input), buf: Vec::with_capacity(4096) }
    }
}

impl<R: BufRead> Events for Buffered<R> {
    fn next(&mut self) -> quick_xml::Result<Event<'_>> {
        self.buf.clear();
        self.reader.read_event_into(&mut self.buf)
    }
    fn position(&self) -> u64 {
        self.reader.buffer_position()
    }
    fn error_position(&self) -> u64 {
        self.reader.error_position()
    }
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        self.reader.config_mut()
    }
}

/// Events borrowed from a slice in memory.
pub struct Borrowed<'a> {
    reader: quick_xml::Reader<&'a [u8]>,
}

impl<'a> Borrowed<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Borrowed { reader: quick_xml::Reader::from_reader(input) }
    }
}

impl Events for Borrowed<'_> {
    fn next(&mut self) -> quick_xml::Result<Event<'_>> {
        self.reader.read_event()
    }
    fn position(&self) -> u64 {
        self.reader.buffer_position()
    }
    fn error_position(&self) -> u64 {
        self.reader.error_position()
    }
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        self.reader.config_mut()
    }
}
