//! Where the decoder's XML events come from: a stream (quick-xml copies each event
//! into a buffer) or a slice already in memory (events borrow the slice: no copy).

pub use crate::bytes::{Plain, Text};
use crate::bytes::{same_bytes, text_before_markup, word_at};
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
    /// Simple content in one piece, read without events: called right after the start
    /// tag of an element named `name` (as written). When the input there holds
    /// character data without references or markup and then exactly `</name>` (see
    /// [`plain_leaf`]), both are consumed and the data returned: what one text event
    /// would have held. Otherwise nothing is consumed and the caller reads
    /// events as usual. (The reader does not see that end tag: it must not match end
    /// tags itself, as [`configure`] says.)
    fn text_to_end(&mut self, name: &[u8]) -> Option<Text<'_>> {
        let _ = name;
        None
    }
    /// A tag read without an event: called where the decoder expects a child of the
    /// element named `open` (as written; empty: none) or that element's end tag. When
    /// the input there, after the whitespace a reader that trims would skip, is a start
    /// tag whose name [`plain_start`] accepts, followed by `>` or by whitespace and
    /// attributes (not an empty-element tag), or exactly `</open>` ([`plain_end`]), it is
    /// consumed and returned. Otherwise nothing is consumed and the caller reads
    /// events as usual. Only right after a tag (an event or one of these steps), where
    /// the reader is looking for text.
    fn tag(&mut self, open: &[u8]) -> Tag<'_> {
        let _ = open;
        Tag::Other
    }
    /// The input that comes next, as far as the source holds it in memory, for the
    /// decoder to read a whole element in one step: only right after a tag, as
    /// [`Events::tag`] (None elsewhere, and from a source that cannot tell).
    fn window(&mut self) -> Option<&[u8]> {
        None
    }
    /// Consumes the first `len` bytes of the [`Events::window`]: markup the reader
    /// never saw, a whole element that ends there, start and end tag (so it leaves the
    /// reader as their events would have). Returns the [`Events::position`] after them.
    fn advance(&mut self, len: usize) -> u64 {
        let _ = len;
        self.position()
    }
}

/// What [`Events::tag`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Tag<'a> {
    /// A start tag: its content (what a start event holds: the name, then any
    /// attributes) and the length of its name.
    Start(&'a [u8], usize),
    /// The end tag of the open element.
    End,
    /// Nothing: the events tell what comes.
    Other,
}

/// What [`plain_tag`] found: lengths in the input.
enum Found {
    /// `<` at `ws`, the content (`len` bytes, a name of `name`) and `>`.
    Start {
        ws: usize,
        len: usize,
        name: usize,
    },
    End {
        len: usize,
    },
}

/// [`plain_start`], [`start_with_attributes`] or [`plain_end`], with one look at the
/// whitespace.
#[inline]
fn plain_tag(rest: &[u8], trim: bool, open: &[u8]) -> Option<Found> {
    let ws = blank_before_markup(rest, trim)?;
    if rest.get(ws + 1) == Some(&b'/') {
        end_after(rest, ws, open).map(|len| Found::End { len })
    } else {
        // A table lookup a byte: names are short, and eight bytes at a time (four exact
        // tests for whitespace, three ranges for names) measured slower, in instructions
        // and in time.
        let tag = &rest[ws..];
        let name = tag[1..].iter().position(|&b| BYTE_CLASS[usize::from(b)] != NAME)?;
        match tag.get(1 + name) {
            Some(b'>') if name > 0 => Some(Found::Start { ws, len: name, name }),
            Some(&b) if name > 0 && BYTE_CLASS[usize::from(b)] == WS => {
                start_with_attributes(&tag[1..], name).map(|len| Found::Start { ws, len, name })
            }
            _ => None,
        }
    }
}

/// The length of a start tag's content, `tag` being what follows its `<`, its name
/// `name` bytes long and followed by whitespace: up to the first `>` outside quotes, as
/// a reader finds the end of a tag, when that is not an empty-element tag (`/>`). None
/// when the input ends before (the events tell).
#[inline]
fn start_with_attributes(tag: &[u8], name: usize) -> Option<usize> {
    // quick-xml's element parser: `'` and `"` open and close quoted values, and a `>`
    // ends the tag only outside them.
    let mut quote = None;
    for i in memchr::memchr3_iter(b'>', b'\'', b'"', &tag[name..]) {
        let at = name + i;
        match (quote, tag[at]) {
            (None, b'>') => return (tag[at - 1] != b'/').then_some(at),
            (None, q) => quote = Some(q),
            (Some(q), b) if b == q => quote = None,
            _ => {}
        }
    }
    None
}

/// The length of the whitespace `rest` starts with (when `trim`: a reader that trims
/// skips it) and of the start tag after it, when that tag is `<name>`: a name of bytes
/// that are none of whitespace, quotes, `<`, `>`, `/`, `=`, `&`, `!` and `?` (so no
/// attributes, not an empty-element tag, not a comment, PI or end tag), then `>`: what
/// a reader would have returned as one start event with that name. None otherwise.
pub fn plain_start(rest: &[u8], trim: bool) -> Option<(usize, usize)> {
    match plain_tag(rest, trim, b"")? {
        Found::Start { ws, len, name } if len == name => Some((ws, name)),
        _ => None,
    }
}

/// The length of the whitespace `rest` starts with (none unless `trim`), when markup
/// (`<`) comes after it.
#[inline]
pub(crate) fn blank_before_markup(rest: &[u8], trim: bool) -> Option<usize> {
    let ws = if trim { rest.iter().position(|&b| BYTE_CLASS[usize::from(b)] != WS)? } else { 0 };
    (rest.get(ws) == Some(&b'<')).then_some(ws)
}

/// The whitespace before markup, as [`blank_before_markup`] measures it when trimming,
/// remembering the last: siblings are indented alike, so most often the bytes up to the
/// next `<` are the last ones again, told by comparing a word or two instead of a scan.
#[derive(Debug, Default)]
pub(crate) struct Indent {
    /// The first eight bytes of the last input measured, of which its whitespace and
    /// the `<` after it are those `mask` keeps (0: nothing remembered, or whitespace of
    /// sixteen bytes or more)...
    head: u64,
    mask: u64,
    /// ...and, for whitespace of eight bytes or more, the eight that end with the `<`.
    tail: u64,
    len: usize,
}

impl Indent {
    /// The length of the whitespace `rest` starts with, when markup (`<`) comes after it.
    #[inline]
    pub(crate) fn before_markup(&mut self, rest: &[u8]) -> Option<usize> {
        let Some(head) = word_at(rest, 0) else { return blank_before_markup(rest, true) };
        let len = self.len;
        if self.mask != 0
            && (head ^ self.head) & self.mask == 0
            && (len < 8 || word_at(rest, len - 7) == Some(self.tail))
        {
            return Some(len);
        }
        let ws = blank_before_markup(rest, true)?;
        // The whitespace and its `<`: in the head word, or in it and a tail word.
        (self.head, self.len) = (head, ws);
        self.mask = match ws {
            0..7 => (1u64 << (8 * (ws + 1))) - 1,
            7..16 => u64::MAX,
            _ => 0,
        };
        if ws >= 8 {
            self.tail = word_at(rest, ws - 7).unwrap_or(0);
        }
        Some(ws)
    }
}

/// The length of the whitespace `rest` starts with (when `trim`: a reader that trims
/// skips it) and of the end tag after it, when that tag is exactly `</name>`: what a
/// reader would have returned as one end event with that name. None otherwise.
#[inline]
pub fn plain_end(rest: &[u8], trim: bool, name: &[u8]) -> Option<usize> {
    let ws = blank_before_markup(rest, trim)?;
    end_after(rest, ws, name)
}

/// The length of `rest` up to the end of `</name>` at `ws` (`<` is there).
#[inline]
fn end_after(rest: &[u8], ws: usize, name: &[u8]) -> Option<usize> {
    let end = 2 + name.len();
    let tag = rest.get(ws..=ws + end)?;
    (!name.is_empty() && tag[1] == b'/' && tag[end] == b'>' && same_bytes(&tag[2..end], name)).then_some(ws + end + 1)
}

/// [`BYTE_CLASS`]: whitespace a reader that trims skips.
const WS: u8 = 1;
/// [`BYTE_CLASS`]: a byte a plain start tag's name may hold: none of whitespace,
/// quotes, `<`, `>`, `/`, `=`, `&`, `!` and `?` (see [`plain_start`]).
const NAME: u8 = 2;
/// Each byte's class in a start tag: [`WS`], [`NAME`] or neither (0).
static BYTE_CLASS: [u8; 256] = {
    let mut t = [NAME; 256];
    let mut i = 0;
    let not_name = *b" \t\n\r\"'<>/=&!?";
    while i < not_name.len() {
        t[not_name[i] as usize] = if i < 4 { WS } else { 0 };
        i += 1;
    }
    t
};

/// The character data `rest` starts with and the length of it and the end tag after
/// it, when the data holds no reference (`&`) and is followed by exactly `</name>`:
/// what a reader would have returned as one text event and one end event. None
/// otherwise (the events tell what it is).
#[inline]
pub fn plain_leaf<'a>(rest: &'a [u8], name: &[u8]) -> Option<(Text<'a>, usize)> {
    let text = text_before_markup(rest)?;
    let at = text.bytes().len();
    let end = 2 + name.len();
    let tag = rest.get(at..=at + end)?;
    (tag[0] == b'<' && tag[1] == b'/' && tag[end] == b'>' && same_bytes(&tag[2..end], name))
        .then_some((text, at + end + 1))
}

/// Events with the one-step reads turned off (no window, no one-step tags or text):
/// what the decoder does by events alone. Tests and fuzz targets hold the one-step
/// paths to it.
pub struct EventsOnly<E>(pub E);

impl<E: Events> Events for EventsOnly<E> {
    fn next(&mut self) -> quick_xml::Result<Event<'_>> {
        self.0.next()
    }
    fn position(&self) -> u64 {
        self.0.position()
    }
    fn error_position(&self) -> u64 {
        self.0.error_position()
    }
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        self.0.config_mut()
    }
}

/// How many end tags are read without their event ([`Events::text_to_end`],
/// [`Events::tag`]) before the reader is started afresh.
/// quick-xml keeps the name of each start tag until its end tag's event, whether it
/// checks end tags or not; an end tag consumed without an event leaves its name there.
/// A fresh reader over the rest of the input, with the same settings, lets those names
/// go: they take at most this many names' bytes.
pub const LEAVES_PER_READER: u32 = 1024;

/// A reader over `input` with the settings `cfg` (the caller checks that `input` does
/// not start with what a new reader would take for a byte-order mark).
pub fn fresh_reader<R>(cfg: &quick_xml::reader::Config, input: R) -> quick_xml::Reader<R> {
    let mut r = quick_xml::Reader::from_reader(input);
    *r.config_mut() = cfg.clone();
    r
}

/// End tags read without their event ([`Events::text_to_end`], [`Events::tag`]) since
/// the reader started.
#[derive(Debug, Default)]
pub struct Leaves(u32);

impl Leaves {
    /// Counts one more such end tag, `next` the byte after it (if known): true when the reader
    /// is to start afresh there (see [`LEAVES_PER_READER`]), and the count starts over.
    /// Not before a byte that may begin a byte-order mark, which a new reader would drop.
    #[inline]
    pub fn one_more(&mut self, next: Option<&u8>) -> bool {
        self.0 += 1;
        let fresh = self.0 >= LEAVES_PER_READER && next.is_some_and(|&b| b != 0xEF);
        if fresh {
            self.0 = 0;
        }
        fresh
    }

    /// The reader started afresh for another reason.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

/// Events from a stream.
pub struct Buffered<R> {
    /// Always there but while it is replaced by a fresh one.
    reader: Option<quick_xml::Reader<R>>,
    buf: Vec<u8>,
    /// Bytes before the reader's start (its own count starts there): those of earlier
    /// readers, and those consumed by [`Events::text_to_end`].
    base: u64,
    leaves: Leaves,
    /// What `config_mut` gives while there is no reader (never, outside `restart`).
    spare: quick_xml::reader::Config,
    /// The last thing read was a tag: the reader is looking for text.
    after_tag: bool,
}

impl<R: BufRead> Buffered<R> {
    pub fn new(input: R) -> Self {
        let reader = Some(quick_xml::Reader::from_reader(input));
        Buffered {
            reader,
            buf: Vec::with_capacity(4096),
            base: 0,
            leaves: Leaves::default(),
            spare: Default::default(),
            after_tag: false,
        }
    }
}

/// A fresh reader where `reader` is (see [`LEAVES_PER_READER`]), its count of bytes
/// added to `base`.
#[cold]
fn restart<R>(reader: &mut Option<quick_xml::Reader<R>>, base: &mut u64) {
    if let Some(old) = reader.take() {
        *base += old.buffer_position();
        let cfg = old.config().clone();
        *reader = Some(fresh_reader(&cfg, old.into_inner()));
    }
}

/// Consumes the next `len` bytes of a [`Buffered`] reader's input (its fields), which
/// end with an end tag read without its event, `next` the byte after them if buffered.
/// The reader starts afresh now and then (see [`LEAVES_PER_READER`]).
fn skip_end<R: BufRead>(
    reader: &mut Option<quick_xml::Reader<R>>,
    base: &mut u64,
    leaves: &mut Leaves,
    len: usize,
    next: Option<u8>,
) {
    if let Some(r) = reader.as_mut() {
        r.get_mut().consume(len);
        *base += len as u64;
        if leaves.one_more(next.as_ref()) {
            restart(reader, base);
        }
    }
}

impl<R: BufRead> Events for Buffered<R> {
    fn next(&mut self) -> quick_xml::Result<Event<'_>> {
        self.buf.clear();
        let ev = match &mut self.reader {
            Some(r) => r.read_event_into(&mut self.buf),
            None => Ok(Event::Eof),
        };
        self.after_tag = matches!(ev, Ok(Event::Start(_) | Event::End(_) | Event::Empty(_)));
        ev
    }
    fn tag(&mut self, open: &[u8]) -> Tag<'_> {
        // As for `text_to_end`: from what is buffered, or not at all.
        let Some(reader) = self.reader.as_mut().filter(|_| self.after_tag) else { return Tag::Other };
        let trim = reader.config().trim_text_start;
        let input = reader.get_mut();
        let Ok(rest) = input.fill_buf() else { return Tag::Other };
        match plain_tag(rest, trim, open) {
            None => Tag::Other,
            Some(Found::Start { ws, len, name }) => {
                self.buf.clear();
                self.buf.extend_from_slice(&rest[ws + 1..ws + 1 + len]);
                input.consume(ws + len + 2);
                self.base += (ws + len + 2) as u64;
                Tag::Start(&self.buf, name)
            }
            Some(Found::End { len }) => {
                let next = rest.get(len).copied();
                skip_end(&mut self.reader, &mut self.base, &mut self.leaves, len, next);
                Tag::End
            }
        }
    }
    fn window(&mut self) -> Option<&[u8]> {
        // From what is buffered, as `text_to_end`.
        let reader = self.reader.as_mut().filter(|_| self.after_tag)?;
        reader.get_mut().fill_buf().ok()
    }
    fn advance(&mut self, len: usize) -> u64 {
        if let Some(r) = self.reader.as_mut() {
            r.get_mut().consume(len);
            self.base += len as u64;
        }
        self.position()
    }
    fn position(&self) -> u64 {
        self.base + self.reader.as_ref().map_or(0, |r| r.buffer_position())
    }
    fn error_position(&self) -> u64 {
        self.base + self.reader.as_ref().map_or(0, |r| r.error_position())
    }
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        match &mut self.reader {
            Some(r) => r.config_mut(),
            // Not reached: the reader is missing only inside `restart`.
            None => &mut self.spare,
        }
    }
    fn text_to_end(&mut self, name: &[u8]) -> Option<Text<'_>> {
        // The reader takes its input through `fill_buf` and `consume`, exactly as far as
        // each event reaches: what is buffered starts right after the start tag. (A leaf
        // that runs past the buffered bytes is left to the events.)
        let input = self.reader.as_mut()?.get_mut();
        let rest = input.fill_buf().ok()?;
        let (text, len) = plain_leaf(rest, name)?;
        let next = rest.get(len).copied();
        let text = text.copy_into(&mut self.buf);
        skip_end(&mut self.reader, &mut self.base, &mut self.leaves, len, next);
        Some(text)
    }
}

/// Events borrowed from a slice in memory.
pub struct Borrowed<'a> {
    reader: quick_xml::Reader<&'a [u8]>,
    /// Bytes before the reader's start, as in [`Buffered`].
    base: u64,
    leaves: Leaves,
    /// The last thing read was a tag: the reader is looking for text.
    after_tag: bool,
}

impl<'a> Borrowed<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Borrowed { reader: quick_xml::Reader::from_reader(input), base: 0, leaves: Leaves::default(), after_tag: false }
    }
}

impl<'a> Borrowed<'a> {
    /// Consumes the next `len` bytes, which end with an end tag read without its event.
    /// The reader starts afresh now and then (see [`LEAVES_PER_READER`]).
    #[inline]
    fn skip(&mut self, len: usize) {
        self.advance(len);
        if self.leaves.one_more(self.reader.get_ref().first()) {
            self.restart();
        }
    }

    #[cold]
    #[inline(never)]
    fn restart(&mut self) {
        self.base += self.reader.buffer_position();
        self.reader = fresh_reader(self.reader.config(), self.reader.get_ref());
    }
}

impl<'a> Events for Borrowed<'a> {
    fn next(&mut self) -> quick_xml::Result<Event<'_>> {
        let ev = self.reader.read_event();
        self.after_tag = matches!(ev, Ok(Event::Start(_) | Event::End(_) | Event::Empty(_)));
        ev
    }
    fn tag(&mut self, open: &[u8]) -> Tag<'_> {
        if !self.after_tag {
            return Tag::Other;
        }
        let trim = self.reader.config().trim_text_start;
        let rest: &'a [u8] = self.reader.get_ref();
        match plain_tag(rest, trim, open) {
            None => Tag::Other,
            Some(Found::Start { ws, len, name }) => {
                *self.reader.get_mut() = &rest[ws + len + 2..];
                self.base += (ws + len + 2) as u64;
                Tag::Start(&rest[ws + 1..ws + 1 + len], name)
            }
            Some(Found::End { len }) => {
                self.skip(len);
                Tag::End
            }
        }
    }
    fn window(&mut self) -> Option<&[u8]> {
        self.after_tag.then(|| *self.reader.get_ref())
    }
    fn advance(&mut self, len: usize) -> u64 {
        let rest: &'a [u8] = self.reader.get_ref();
        *self.reader.get_mut() = &rest[len..];
        self.base += len as u64;
        self.position()
    }
    fn position(&self) -> u64 {
        self.base + self.reader.buffer_position()
    }
    fn error_position(&self) -> u64 {
        self.base + self.reader.error_position()
    }
    fn text_to_end(&mut self, name: &[u8]) -> Option<Text<'_>> {
        // The slice reader consumes its input from the front: after a start tag, the
        // slice begins right after the tag's `>`, and after an end tag the reader is in
        // the same state as after a start tag (looking for text), so consuming the
        // text and the end tag here leaves it as their two events would have.
        let rest: &[u8] = self.reader.get_ref();
        let (text, len) = plain_leaf(rest, name)?;
        self.skip(len);
        Some(text)
    }
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        self.reader.config_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `plain_leaf` must find, the slow way: the text, whether it is plain, and
    /// the length of it and the end tag.
    fn leaf_by_hand<'a>(rest: &'a [u8], name: &[u8]) -> Option<(&'a [u8], bool, usize)> {
        let lt = rest.iter().position(|&b| b == b'<')?;
        let text = &rest[..lt];
        if text.contains(&b'&') {
            return None;
        }
        let mut tag = b"</".to_vec();
        tag.extend_from_slice(name);
        tag.push(b'>');
        let plain = text.iter().all(|&b| b < 0x80 && b != b'>' && b != b'\r');
        rest[lt..].starts_with(&tag).then_some((text, plain, lt + tag.len()))
    }

    /// `plain_leaf`'s answer in the same terms.
    fn leaf<'a>(rest: &'a [u8], name: &[u8]) -> Option<(&'a [u8], bool, usize)> {
        plain_leaf(rest, name).map(|(t, len)| (t.bytes(), matches!(t, Text::Plain(_)), len))
    }

    #[test]
    fn plain_leaves_are_found_as_by_hand_wherever_the_markup_is() {
        let names: [&[u8]; 4] = [b"a", b"OrderID", b"g:ele", b"abcdefghijklmnopq"];
        for len in 0..20 {
            for name in names {
                let text: Vec<u8> = (0..len).map(|i| b"x1 \xc3\xa9.>\r"[i % 8]).collect();
                let mut cases = vec![];
                for at in 0..=len {
                    for c in [b'<', b'&'] {
                        let mut t = text.clone();
                        t.insert(at, c);
                        cases.push(t);
                    }
                }
                cases.push(text.clone());
                for mut rest in cases {
                    for tail in
                        [&b"</a>"[..], b"</OrderID>", b"</g:ele>", b"</abcdefghijklmnopq>", b"</a >", b"<b/>", b""]
                    {
                        let n = rest.len();
                        rest.extend_from_slice(tail);
                        rest.extend_from_slice(b"<next>");
                        assert_eq!(
                            leaf(&rest, name),
                            leaf_by_hand(&rest, name),
                            "{:?} {:?}",
                            String::from_utf8_lossy(&rest),
                            String::from_utf8_lossy(name)
                        );
                        rest.truncate(n);
                    }
                }
            }
        }
        // Text that is plain only in part; cut short: no end tag, or only part of it.
        for (i, b) in [b'>', b'\r', 0xC3].into_iter().enumerate() {
            for at in 0..11 {
                let mut t = b"abcdefghijk</a>".to_vec();
                t[at] = b;
                assert_eq!(leaf(&t, b"a"), Some((&t[..11], false, 15)), "{i} {at}");
            }
        }
        assert_eq!(leaf(b"12</a", b"a"), None);
        assert_eq!(leaf(b"12", b"a"), None);
        assert_eq!(leaf(b"12</a>", b"a"), Some((&b"12"[..], true, 6)));
    }

    /// A slice reader over `input` with the decoder's settings, trimming or not.
    fn reader(input: &[u8], trim: bool) -> Borrowed<'_> {
        let mut src = Borrowed::new(input);
        configure(src.config_mut());
        src.config_mut().trim_text_start = trim;
        src
    }

    /// A deterministic stream of pseudo-random numbers from `seed` (xorshift64).
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn a_remembered_indent_measures_as_a_scan() {
        // Inputs of a few indents (some the same as the last, some one byte off it, some
        // of eight blanks or more), each followed by markup or not, measured in turn by
        // one Indent: always what blank_before_markup finds.
        let indents: [&[u8]; 10] = [
            b"\n  ",
            b"\n    ",
            b"\n      ",
            b"\n       ",
            b"\r\n\t",
            b"",
            b"\n         ",
            b"\n          ",
            b" \n   ",
            b"\n                  ",
        ];
        let after: [&[u8]; 6] = [b"<a>x</a>", b"<Order>", b"</b>", b"x<", b"<", b" <"];
        let mut next = xorshift(0x1f83_d9ab_fb41_bd6b_u64);
        let mut indent = Indent::default();
        let (mut found, mut remembered) = (0, 0);
        for _ in 0..100_000 {
            let mut rest = indents[(next() % 10) as usize].to_vec();
            rest.extend_from_slice(after[(next() % 6) as usize]);
            let cut = rest.len().saturating_sub((next() % 3) as usize);
            let rest = &rest[..cut];
            let hit = indent.mask != 0 && rest.len() >= 8;
            let want = blank_before_markup(rest, true);
            assert_eq!(indent.before_markup(rest), want, "{:?}", String::from_utf8_lossy(rest));
            found += usize::from(want.is_some());
            remembered += usize::from(hit && want == Some(indent.len));
        }
        // The stream is fixed: of its inputs, these have markup after their whitespace, and
        // these were measured from what was remembered.
        assert_eq!((found, remembered), (61_196, 40_606));
    }

    #[test]
    fn a_start_tag_read_in_one_step_is_what_the_reader_reads() {
        let alphabet: &[u8] = b" \n<>/ab:\"'=!?&\xc3\xa9-\t\r.;09_\x01";
        let blank: &[u8] = b" \n\t\r";
        let name: &[u8] = b"abZ_:-.09\xc3\xa9";
        let mut next = xorshift(0x2545_f491_4f6c_dd1d_u64);
        let (mut plain, mut cases) = (0, 0);
        for _ in 0..300_000 {
            // Mostly a tag's shape, whitespace then `<`, a name and `>`, at every length
            // around the eight-byte words; any byte may be anywhere.
            let shape = next();
            let mut rest = vec![];
            for _ in 0..shape % 20 {
                rest.push(blank[(next() % 4) as usize]);
            }
            rest.push(b'<');
            for _ in 0..(shape >> 8) % 20 {
                rest.push(name[(next() % name.len() as u64) as usize]);
            }
            rest.push(b'>');
            rest.extend(std::iter::repeat_n(b'x', ((shape >> 16) % 12) as usize));
            for _ in 0..(shape >> 24) % 3 {
                let at = (next() % rest.len() as u64) as usize;
                rest[at] = alphabet[(next() % alphabet.len() as u64) as usize];
            }
            if (shape >> 32).is_multiple_of(5) {
                rest.truncate((next() % (rest.len() as u64 + 1)) as usize);
            }
            for trim in [true, false] {
                cases += 1;
                let Some((ws, len)) = plain_start(&rest, trim) else { continue };
                plain += 1;
                let mut src = reader(&rest, trim);
                match src.next() {
                    Ok(Event::Start(e)) => {
                        assert_eq!(e.name().as_ref(), &rest[ws + 1..ws + 1 + len], "{rest:?}");
                        assert_eq!(e.attributes_raw(), b"", "{rest:?}");
                    }
                    other => panic!("{rest:?} {trim}: {other:?}"),
                }
                assert_eq!(src.position(), (ws + len + 2) as u64, "{rest:?}");
            }
        }
        // Both answers were seen many times.
        assert!(plain > 5_000 && cases - plain > 5_000, "{plain} of {cases}");
    }

    #[test]
    fn a_start_tag_with_attributes_read_in_one_step_is_what_the_reader_reads() {
        let inside: &[u8] = b" \n\ta=\"'>/x";
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let (mut read, mut cases) = (0, 0);
        for _ in 0..200_000 {
            let shape = next();
            let mut rest = b" \n".repeat((shape % 3) as usize);
            rest.extend_from_slice(b"<g:trkpt");
            for _ in 0..(shape >> 8) % 24 {
                rest.push(inside[(next() % inside.len() as u64) as usize]);
            }
            rest.extend_from_slice(b">x</g:trkpt>");
            for trim in [true, false] {
                cases += 1;
                let Some(Found::Start { ws, len, name }) = plain_tag(&rest, trim, b"p") else { continue };
                read += 1;
                let mut src = reader(&rest, trim);
                match src.next() {
                    Ok(Event::Start(e)) => {
                        assert_eq!(&*e, &rest[ws + 1..ws + 1 + len], "{rest:?}");
                        assert_eq!(e.name().as_ref().len(), name, "{rest:?}");
                    }
                    other => panic!("{rest:?} {trim}: {other:?}"),
                }
                assert_eq!(src.position(), (ws + len + 2) as u64, "{rest:?}");
            }
        }
        // Both answers were seen many times.
        assert!(read > 20_000 && cases - read > 20_000, "{read} of {cases}");
    }

    #[test]
    fn an_end_tag_read_in_one_step_is_what_the_reader_reads() {
        // (input, trim, the open element's name, what `plain_end` finds)
        type Case = (&'static [u8], bool, &'static [u8], Option<usize>);
        let cases: [Case; 10] = [
            (b"</a>", false, b"a", Some(4)),
            (b"</a>", true, b"a", Some(4)),
            (b"\n  </g:abc>x", true, b"g:abc", Some(11)),
            (b"\n  </abc>x", false, b"abc", None),
            (b"</abc >", true, b"abc", None),
            (b"</ab>", true, b"abc", None),
            (b"</abcd>", true, b"abc", None),
            (b"</abc", true, b"abc", None),
            (b" x</abc>", true, b"abc", None),
            (b"<abc>", true, b"abc", None),
        ];
        for (rest, trim, name, want) in cases {
            assert_eq!(plain_end(rest, trim, name), want, "{rest:?}");
            let Some(len) = want else { continue };
            let mut src = reader(rest, trim);
            match src.next() {
                Ok(Event::End(e)) => assert_eq!(e.name().as_ref(), name),
                other => panic!("{rest:?}: {other:?}"),
            }
            assert_eq!(src.position(), len as u64);
            // And in one step, from a reader after a tag.
            let doc = [b"<p>", rest].concat();
            let mut src = reader(&doc, trim);
            assert!(matches!(src.next(), Ok(Event::Start(_))));
            assert_eq!(src.tag(b"zz"), Tag::Other);
            assert_eq!(src.tag(name), Tag::End);
            assert_eq!(src.position(), 3 + len as u64);
        }
    }

    #[test]
    fn a_leaf_read_in_one_step_leaves_the_reader_as_its_events_would() {
        let doc = b"<r><a>12</a>\n<b>x&amp;y</b><c>z</c ></r>";
        leaves_read_in_one_step(&mut Borrowed::new(doc));
        leaves_read_in_one_step(&mut Buffered::new(std::io::BufReader::with_capacity(64, &doc[..])));
        // A leaf that runs past the buffered bytes: the events read it.
        let mut src = Buffered::new(std::io::BufReader::with_capacity(8, &doc[..]));
        configure(src.config_mut());
        assert!(matches!(src.next(), Ok(Event::Start(_))));
        assert!(matches!(src.next(), Ok(Event::Start(_))));
        assert_eq!(src.text_to_end(b"a"), None);
        assert!(matches!(src.next(), Ok(Event::Text(t)) if &*t == b"12"));
    }

    #[test]
    fn readers_started_afresh_go_on_where_the_last_stopped() {
        let n = 3 * LEAVES_PER_READER as usize + 7;
        let mut doc = b"<r>".to_vec();
        for i in 0..n {
            doc.extend_from_slice(format!("<a>{i}</a>").as_bytes());
            if i % 100 == 0 {
                doc.extend_from_slice(b"<b>x&amp;</b>");
            }
        }
        doc.extend_from_slice(b"</r>");
        let by_events = |src: &mut dyn Events| {
            configure(src.config_mut());
            let (mut leaves, mut ends, mut by_events) = (vec![], 0, 0);
            loop {
                match src.next() {
                    Ok(Event::Start(e)) if e.name().as_ref() == b"a" => match src.text_to_end(b"a") {
                        Some(t) => leaves.push(String::from_utf8_lossy(t.bytes()).into_owned()),
                        // Past the buffered bytes: the text's event (the end tag's next).
                        None => match src.next() {
                            Ok(Event::Text(t)) => {
                                leaves.push(String::from_utf8_lossy(&t).into_owned());
                                by_events += 1;
                            }
                            other => panic!("leaf {}: {other:?}", leaves.len()),
                        },
                    },
                    Ok(Event::End(_)) => ends += 1,
                    Ok(Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            (leaves, ends, by_events, src.position())
        };
        let want: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let len = doc.len() as u64;
        let (borrowed, buffered) = (
            by_events(&mut Borrowed::new(&doc)),
            by_events(&mut Buffered::new(std::io::BufReader::with_capacity(4096, &doc[..]))),
        );
        // From memory every leaf is read in one step; from a 4 KiB buffer, those that
        // run past its end are read by events.
        assert_eq!(borrowed.2, 0);
        assert!(buffered.2 > 0);
        for (leaves, ends, by_events, position) in [borrowed, buffered] {
            assert_eq!(leaves, want);
            // The `<b>` elements' and the root's end tags came as events, and those of
            // the leaves read by events.
            assert_eq!(ends, n.div_ceil(100) + 1 + by_events);
            assert_eq!(position, len);
        }
    }

    fn leaves_read_in_one_step(src: &mut dyn Events) {
        configure(src.config_mut());
        assert!(matches!(src.next(), Ok(Event::Start(_))));
        assert!(matches!(src.next(), Ok(Event::Start(_))));
        assert_eq!(src.text_to_end(b"a").map(Text::bytes), Some(&b"12"[..]));
        assert_eq!(src.position(), 12);
        assert!(matches!(src.next(), Ok(Event::Text(t)) if &*t == b"\n"));
        assert!(matches!(src.next(), Ok(Event::Start(e)) if e.name().as_ref() == b"b"));
        // A reference: nothing consumed, the events follow.
        assert_eq!(src.text_to_end(b"b"), None);
        assert_eq!(src.position(), 16);
        assert!(matches!(src.next(), Ok(Event::Text(t)) if &*t == b"x"));
        assert!(matches!(src.next(), Ok(Event::GeneralRef(_))));
        assert!(matches!(src.next(), Ok(Event::Text(t)) if &*t == b"y"));
        assert!(matches!(src.next(), Ok(Event::End(_))));
        assert!(matches!(src.next(), Ok(Event::Start(_))));
        // Space in the end tag: the events read it.
        assert_eq!(src.text_to_end(b"c"), None);
        assert!(matches!(src.next(), Ok(Event::Text(t)) if &*t == b"z"));
        assert!(matches!(src.next(), Ok(Event::End(e)) if e.name().as_ref() == b"c"));
        assert_eq!(src.position(), 36);
        assert!(matches!(src.next(), Ok(Event::End(_))));
        assert!(matches!(src.next(), Ok(Event::Eof)));
    }
}
