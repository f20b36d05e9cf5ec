//! Streaming parse: quick-xml events in, validated records out.
//!
//! [`Decoder`] wraps a quick-xml pull reader over any `BufRead` and gives the
//! generated decoders (see `schema`) the few moves they need: next child tag, text
//! content as a typed value, attributes. Nothing here reads a file whole; the only
//! buffers are one event and one text value, reused for every element.

pub mod document;
mod error;
pub mod events;
pub mod utf8;
pub mod value;

pub use error::{DecodeError, Rule};
pub use events::{Borrowed, Buffered, Events};

use quick_xml::events::Event;
use quick_xml::events::attributes::Attributes;
use std::io::BufRead;
use value::{ValueError, Ws};

/// What the decoder just read at element level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// A start tag `<x ...>`.
    Open,
    /// An empty-element tag `<x/>`.
    Empty,
    /// The end tag of the enclosing element.
    Close,
}

impl Tag {
    /// True for a start or empty-element tag.
    pub fn is_open(self) -> bool {
        self != Tag::Close
    }
}

/// A schema-driven pull decoder over quick-xml events.
pub struct Decoder<S: Events> {
    src: S,
    /// The last start tag's content (name and attributes).
    tag: Vec<u8>,
    name_len: usize,
    text: String,
    attr: String,
    /// For a segment decoder: the name of the last end tag (see [`Decoder::check_close`]).
    segment_end: Option<Vec<u8>>,
}

impl<R: BufRead> Decoder<Buffered<R>> {
    /// A decoder over a stream.
    pub fn new(input: R) -> Self {
        Decoder::over(Buffered::new(input))
    }
}

impl<'a> Decoder<Borrowed<'a>> {
    /// A decoder over a whole document in memory.
    pub fn slice(input: &'a [u8]) -> Self {
        Decoder::over(Borrowed::new(input))
    }

    /// A decoder for a segment of a document that starts inside a container, after a
    /// record: end tags of elements opened before the segment are allowed, and checked
    /// by [`Decoder::check_close`].
    pub fn segment(input: &'a [u8]) -> Self {
        let mut d = Decoder::over(Borrowed::new(input));
        d.src.config_mut().allow_unmatched_ends = true;
        d.segment_end = Some(Vec::new());
        d
    }
}

impl<S: Events> Decoder<S> {
    fn over(mut src: S) -> Self {
        let cfg = src.config_mut();
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
        Decoder {
            src,
            tag: Vec::with_capacity(256),
            name_len: 0,
            text: String::new(),
            attr: String::new(),
            segment_end: None,
        }
    }

    /// Byte offset of the reader in the input.
    pub fn position(&self) -> u64 {
        self.src.position()
    }

    fn error(&self, rule: Rule, message: impl Into<String>) -> DecodeError {
        DecodeError::new(rule, message, self.position())
    }

    fn xml_error(&self, e: quick_xml::Error) -> DecodeError {
        let offset = self.src.error_position();
        match e {
            quick_xml::Error::Io(io) => DecodeError::from_io(&io, offset),
            quick_xml::Error::Syntax(s) if format!("{s:?}").starts_with("Unclosed") => {
                DecodeError::new(Rule::Truncated, format!("the file ends inside markup ({s}); cut short?"), offset)
            }
            other => DecodeError::new(Rule::NotWellFormed, format!("not well-formed XML: {other}"), offset),
        }
    }

    /// The error for input that ends before the document does.
    pub fn eof(&self) -> DecodeError {
        self.error(Rule::Truncated, "the file ends before the document does (cut short?)")
    }

    /// The name of the last start tag.
    pub fn name(&self) -> &[u8] {
        &self.tag[..self.name_len]
    }

    fn name_lossy(&self) -> String {
        String::from_utf8_lossy(self.name()).into_owned()
    }

    /// Reads the prolog up to the root element's start tag and returns it.
    pub fn root(&mut self) -> Result<Tag, DecodeError> {
        loop {
            match self.src.next() {
                Ok(Event::Decl(d)) => {
                    if let Some(enc) = d.encoding() {
                        let enc = enc.map_err(|e| DecodeError::new(Rule::NotWellFormed, e.to_string(), 0))?;
                        if !enc.eq_ignore_ascii_case(b"utf-8") && !enc.eq_ignore_ascii_case(b"us-ascii") {
                            let enc = String::from_utf8_lossy(&enc).into_owned();
                            return Err(self.error(
                                Rule::UnsupportedEncoding,
                                format!(
                                    "encoding {enc:?} is not supported; convert the file to UTF-8 (e.g. iconv -t UTF-8)"
                                ),
                            ));
                        }
                    }
                }
                Ok(Event::DocType(_)) => {
                    return Err(self.error(
                        Rule::DoctypeForbidden,
                        "DOCTYPE declarations are refused (no entity expansion, no external fetch)",
                    ));
                }
                Ok(Event::Start(e)) => {
                    self.name_len = keep_tag(&mut self.tag, &e);
                    return Ok(Tag::Open);
                }
                Ok(Event::Empty(e)) => {
                    self.name_len = keep_tag(&mut self.tag, &e);
                    return Ok(Tag::Empty);
                }
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(Event::Text(t)) if is_blank(&t) => {}
                Ok(Event::Eof) => {
                    return Err(self.error(Rule::Truncated, "the file holds no root element"));
                }
                Ok(_) => {
                    return Err(self.error(Rule::NotWellFormed, "content before the root element"));
                }
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    /// After the root's end tag: only comments, PIs and whitespace may follow.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.src.next() {
                Ok(Event::Eof) => return Ok(()),
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(Event::Text(t)) if is_blank(&t) => {}
                Ok(_) => {
                    return Err(self.error(Rule::NotWellFormed, "content after the root element"));
                }
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    /// The next child tag of the current element, skipping whitespace, comments and PIs.
    pub fn next_tag(&mut self) -> Result<Tag, DecodeError> {
        match self.next_tag_or_eof()? {
            Some(t) => Ok(t),
            None => Err(self.eof()),
        }
    }

    /// Like [`Decoder::next_tag`], but the end of the input is `None` rather than an
    /// error (a segment of a document may end between two records).
    pub fn next_tag_or_eof(&mut self) -> Result<Option<Tag>, DecodeError> {
        loop {
            match self.src.next() {
                Ok(Event::Start(e)) => {
                    self.name_len = keep_tag(&mut self.tag, &e);
                    return Ok(Some(Tag::Open));
                }
                Ok(Event::Empty(e)) => {
                    self.name_len = keep_tag(&mut self.tag, &e);
                    return Ok(Some(Tag::Empty));
                }
                Ok(Event::End(e)) => {
                    if let Some(end) = &mut self.segment_end {
                        end.clear();
                        end.extend_from_slice(e.name().as_ref());
                    }
                    return Ok(Some(Tag::Close));
                }
                Ok(Event::Text(t)) if is_blank(&t) => {}
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(Event::Eof) => return Ok(None),
                Ok(Event::DocType(_)) => {
                    return Err(self.error(Rule::DoctypeForbidden, "DOCTYPE declarations are refused"));
                }
                Ok(Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) => {
                    return Err(self.error(Rule::UnexpectedText, "text where the schema allows only child elements"));
                }
                Ok(Event::Decl(_)) => {
                    return Err(self.error(Rule::NotWellFormed, "misplaced XML declaration"));
                }
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    /// Checks that the last end tag closes `name`. quick-xml checks every end tag of a
    /// whole document; a segment that starts inside a container cannot know the outer
    /// start tags, so its decoder checks the container and root end tags here.
    pub fn check_close(&self, name: &str) -> Result<(), DecodeError> {
        match &self.segment_end {
            Some(end) if end.as_slice() != name.as_bytes() => {
                let found = String::from_utf8_lossy(end).into_owned();
                Err(self.error(Rule::NotWellFormed, format!("end tag </{found}> does not match <{name}>")))
            }
            _ => Ok(()),
        }
    }

    /// The first child of an element whose start tag was `tag`.
    pub fn first_child(&mut self, tag: Tag) -> Result<Tag, DecodeError> {
        if tag == Tag::Empty { Ok(Tag::Close) } else { self.next_tag() }
    }

    /// Calls `f(name, value)` for each attribute of the last start tag (namespace
    /// declarations and `xsi:` attributes are skipped). `f` returns `Ok(false)` for an
    /// attribute it does not know. Values are unescaped and attribute-normalized.
    pub fn attributes(
        &mut self,
        mut f: impl FnMut(&[u8], &str) -> Result<bool, ValueError>,
    ) -> Result<(), DecodeError> {
        if self.tag.len() == self.name_len {
            return Ok(());
        }
        let pos = self.position();
        let content = simdutf8::basic::from_utf8(&self.tag)
            .map_err(|_| DecodeError::new(Rule::InvalidUtf8, "invalid UTF-8 in a start tag", pos))?;
        for a in Attributes::new(content, self.name_len) {
            let a = a.map_err(|e| DecodeError::new(Rule::NotWellFormed, format!("bad attribute: {e}"), pos))?;
            let key = a.key.as_ref();
            if key.starts_with(b"xmlns") || key.starts_with(b"xsi:") {
                continue;
            }
            let key_s = String::from_utf8_lossy(key);
            let raw = std::str::from_utf8(&a.value).expect("slice of a str at quote boundaries");
            // Attribute-value normalization: literal whitespace becomes a space (a CR LF
            // pair one space), before references are expanded (so &#10; stays a newline).
            self.attr.clear();
            let mut after_cr = false;
            for c in raw.chars() {
                if !(after_cr && c == '\n') {
                    self.attr.push(if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c });
                }
                after_cr = c == '\r';
            }
            let value = quick_xml::escape::unescape(&self.attr).map_err(|e| {
                DecodeError::new(Rule::NotWellFormed, format!("bad reference in attribute: {e}"), pos)
                    .within(&format!("@{key_s}"))
            })?;
            match f(key, &value) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(DecodeError::new(Rule::UnknownAttribute, format!("unknown attribute {key_s}"), pos)
                        .within(&format!("@{key_s}")));
                }
                Err(e) => {
                    return Err(DecodeError::new(Rule::InvalidValue, e.0, pos).within(&format!("@{key_s}")));
                }
            }
        }
        Ok(())
    }

    /// Reads the text content of the element whose start tag was `tag` into `self.text`.
    fn read_text(&mut self, tag: Tag, name: &'static str) -> Result<(), DecodeError> {
        self.text.clear();
        self.attributes(|_, _| Ok(false)).map_err(|e| e.within(name))?;
        if tag == Tag::Empty {
            return Ok(());
        }
        loop {
            match self.src.next() {
                Ok(Event::Text(t)) => {
                    if push_text(&mut self.text, &t).is_err() {
                        return Err(self.error(Rule::InvalidUtf8, "invalid UTF-8 in text").within(name));
                    }
                }
                Ok(Event::CData(t)) => {
                    if push_text(&mut self.text, &t).is_err() {
                        return Err(self.error(Rule::InvalidUtf8, "invalid UTF-8 in CDATA").within(name));
                    }
                }
                Ok(Event::GeneralRef(r)) => {
                    let c = match &*r {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => r.resolve_char_ref().ok().flatten(),
                    };
                    match c {
                        Some(c) => self.text.push(c),
                        None => {
                            let name_s = String::from_utf8_lossy(&r).into_owned();
                            return Err(self
                                .error(
                                    Rule::NotWellFormed,
                                    format!("undefined entity or bad character reference &{name_s};"),
                                )
                                .within(name));
                        }
                    }
                }
                Ok(Event::End(_)) => return Ok(()),
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(Event::Start(e) | Event::Empty(e)) => {
                    let inner = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    return Err(self
                        .error(
                            Rule::UnknownElement,
                            format!("element <{inner}> is not allowed inside <{name}>, which holds text"),
                        )
                        .within(name));
                }
                Ok(Event::Eof) => return Err(self.eof().within(name)),
                Ok(_) => {
                    return Err(self.error(Rule::NotWellFormed, "unexpected markup in text").within(name));
                }
                Err(e) => return Err(self.xml_error(e).within(name)),
            }
        }
    }

    /// Reads a string element into `dst` with whitespace rule `ws`.
    pub fn text_string(&mut self, tag: Tag, name: &'static str, dst: &mut String, ws: Ws) -> Result<(), DecodeError> {
        self.read_text(tag, name)?;
        value::set_ws(dst, &self.text, ws);
        Ok(())
    }

    /// Reads a typed element through the value parser `f`.
    pub fn text_value<T>(
        &mut self,
        tag: Tag,
        name: &'static str,
        f: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Result<T, DecodeError> {
        self.read_text(tag, name)?;
        f(&self.text).map_err(|e| self.error(Rule::InvalidValue, e.0).within(name))
    }

    /// The error for a tag that is not the `expected` child.
    pub fn expected(&self, t: Tag, expected: &'static str, children: &[&str]) -> DecodeError {
        if t == Tag::Close {
            return self.error(Rule::MissingElement, format!("missing required element <{expected}>")).within(expected);
        }
        let found = self.name_lossy();
        let pos = |n: &str| children.iter().position(|c| *c == n);
        if let (Some(f), Some(e)) = (pos(&found), pos(expected))
            && f > e
        {
            let msg = format!("missing required element <{expected}> (found <{found}>, which comes after it)");
            return self.error(Rule::MissingElement, msg).within(expected);
        }
        self.unexpected(children, &format!("; expected <{expected}>"))
    }

    fn unexpected(&self, children: &[&str], hint: &str) -> DecodeError {
        let found = self.name_lossy();
        let (rule, what) = if children.contains(&found.as_str()) {
            (Rule::OutOfOrder, "is out of order or repeated")
        } else {
            (Rule::UnknownElement, "is not in the schema here")
        };
        self.error(rule, format!("element <{found}> {what}{hint}")).within(&found)
    }

    /// Checks that `t` is the end tag (all children read).
    pub fn end(&self, t: Tag, children: &[&str]) -> Result<(), DecodeError> {
        if t == Tag::Close { Ok(()) } else { Err(self.unexpected(children, "")) }
    }

    /// Checks a repeated element's count against minOccurs/maxOccurs.
    pub fn check_count(&self, name: &'static str, n: usize, min: usize, max: usize) -> Result<(), DecodeError> {
        if n < min {
            let msg = format!("element <{name}> occurs {n} times; the schema requires at least {min}");
            return Err(self.error(Rule::MissingElement, msg).within(name));
        }
        if n > max {
            let msg = format!("element <{name}> occurs {n} times; the schema allows at most {max}");
            return Err(self.error(Rule::OutOfOrder, msg).within(name));
        }
        Ok(())
    }

    /// The error for a required attribute that is absent.
    pub fn missing_attribute(&self, name: &'static str) -> DecodeError {
        self.error(Rule::MissingAttribute, format!("missing required attribute {name}")).within(&format!("@{name}"))
    }
}

/// Keeps a start tag's content (name and attributes) in `tag`; returns the name's length.
fn keep_tag(tag: &mut Vec<u8>, e: &quick_xml::events::BytesStart<'_>) -> usize {
    tag.clear();
    tag.extend_from_slice(e);
    e.name().as_ref().len()
}

fn is_blank(b: &[u8]) -> bool {
    b.iter().all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Appends raw text, normalizing line ends (`\r\n` and lone `\r` → `\n`) as XML requires.
fn push_text(dst: &mut String, raw: &[u8]) -> Result<(), simdutf8::basic::Utf8Error> {
    let s = simdutf8::basic::from_utf8(raw)?;
    if memchr::memchr(b'\r', raw).is_some() {
        dst.push_str(&s.replace("\r\n", "\n").replace('\r', "\n"));
    } else {
        dst.push_str(s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_are_normalized_then_unescaped() {
        let doc = "<r a=\"x\r\ny\tz\rw&#10;&amp;v\" xmlns:q=\"u\"/>";
        let mut d = Decoder::slice(doc.as_bytes());
        assert_eq!(d.root().unwrap(), Tag::Empty);
        let mut seen = vec![];
        d.attributes(|k, v| {
            seen.push((String::from_utf8_lossy(k).into_owned(), v.to_string()));
            Ok(true)
        })
        .unwrap();
        assert_eq!(seen, vec![("a".to_string(), "x y z w\n&v".to_string())]);
    }
}
