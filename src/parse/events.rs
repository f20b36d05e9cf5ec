//! Where the decoder's XML events come from: a stream (quick-xml copies each event
//! into a buffer) or a slice already in memory (events borrow the slice: no copy).

use quick_xml::events::Event;
use std::io::BufRead;

/// A source of quick-xml events.
pub trait Events {
    /// The next event.
    fn next(&mut self) -> quick_xml::Result<Event<'_>>;
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
