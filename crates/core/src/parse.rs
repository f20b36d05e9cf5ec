//! The streaming decoder that generated code drives: quick-xml events in, one
//! element at a time, with namespaces resolved to the schema's namespace ids.
//!
//! A generated decoder asks for the attributes of the element just started
//! ([`Decoder::next_attribute`]), then either its text ([`Decoder::text`]) or its
//! children one by one ([`Decoder::next_child`]), each start tag resolved to a
//! namespace id and a local name. The decoder keeps the stack of open elements
//! (namespace scopes, the path for error messages) and nothing else: no element is
//! buffered beyond its start tag and one text value.

use crate::bytes::{Plain, Text, bytes_equal, same_bytes};
use crate::error::{DecodeError, Invalid, Rule};
use crate::events::{Events, Run, Tag};
use crate::identity::{Constraint, Elements, Identity};
use crate::model::{Miss, Model, State, Symbol, WILDCARD};
use crate::schema::{NS_NONE, NS_OTHER, NS_XSI};
use crate::value::{self, Ws};
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event};
use std::ops::Range;

/// An attribute of the current start tag (offsets into the tag's bytes).
#[derive(Clone, Debug)]
struct Attr {
    ns: u16,
    /// The local name (after the prefix).
    local: Range<usize>,
    /// The whole name as written.
    name: Range<usize>,
    value: Range<usize>,
}

/// A prefix binding in scope.
#[derive(Clone, Debug)]
struct Binding {
    prefix: Range<usize>,
    uri: Range<usize>,
    ns: u16,
}

/// An open element.
#[derive(Clone, Debug)]
struct Frame {
    /// The qualified name as written, in `Decoder::names`.
    name: Range<usize>,
    local_start: usize,
    ns: u16,
    /// `bindings.len()` before this element's declarations.
    bindings: usize,
    default_ns: u16,
    /// An empty-element tag: no content and no end tag to read.
    empty: bool,
    /// Position among consecutive siblings of the same name (1-based), for paths.
    index: u32,
    /// How many consecutive children so far had the name of the last one.
    child_count: u32,
    /// A table row: its path always shows its index.
    row: bool,
    /// This element among all the decoder opened (the identity constraints know an
    /// element's siblings by it: see [`crate::identity::Elements::parent`]).
    serial: u64,
}

/// What the current start tag said with `xsi:` attributes.
#[derive(Clone, Debug, Default)]
struct Xsi {
    /// `xsi:type`: (namespace id, local name) of the type.
    ty: Option<(u16, Range<usize>)>,
    nil: bool,
}

/// The open elements, as [`Identity`](crate::identity::Identity) reads them: the
/// elements around a segment, then the decoder's frames.
struct IdentityPath<'a> {
    around: &'a [(u16, &'static str)],
    frames: &'a [Frame],
    names: &'a [u8],
    parent: Option<u64>,
}

impl<'a> IdentityPath<'a> {
    /// A segment's decoder starts with a nameless frame standing for the elements around
    /// it (`around` names them): left out.
    fn new(around: &'a [(u16, &'static str)], frames: &'a [Frame], names: &'a [u8]) -> Self {
        let skip = frames.iter().take_while(|f| f.name.is_empty()).count();
        // The parent of the last element (a segment's nameless frame stands for the
        // element around it).
        let parent = frames.len().checked_sub(2).map(|k| frames[k].serial);
        IdentityPath { around, frames: &frames[skip..], names, parent }
    }
}

impl Elements for IdentityPath<'_> {
    fn depth(&self) -> usize {
        self.around.len() + self.frames.len()
    }
    fn parent(&self) -> Option<u64> {
        self.parent
    }
    fn get(&self, i: usize) -> (u16, &[u8]) {
        match self.around.get(i) {
            Some((ns, l)) => (*ns, l.as_bytes()),
            None => {
                let f = &self.frames[i - self.around.len()];
                (f.ns, &self.names[f.local_start..f.name.end])
            }
        }
    }
}

/// A generated decoder: reads one element's content into `O`.
pub type Decode<O> = fn(&mut Decoder<'_>, &mut O) -> Result<(), DecodeError>;

/// A schema-driven pull decoder over quick-xml events.
pub struct Decoder<'s> {
    src: &'s mut dyn Events,
    namespaces: &'static [&'static str],
    /// The last start tag's content: name and attributes.
    tag: Vec<u8>,
    name_len: usize,
    attrs: Vec<Attr>,
    /// Name and value ranges of the tag's attributes as read (reused).
    raw_attrs: Vec<(Range<usize>, Range<usize>)>,
    next_attr: usize,
    xsi: Xsi,
    /// xsi:type's local name (resolved from the QName value).
    xsi_local: String,
    frames: Vec<Frame>,
    names: Vec<u8>,
    bindings: Vec<Binding>,
    /// Prefixes and URIs of the bindings.
    strings: Vec<u8>,
    text: String,
    scratch: String,
    /// An attribute value with document-wide rules (ID, IDREF, QName), as checked (reused).
    lexical: String,
    text_start: u64,
    /// The element that ended last, and its index where it has one, for error paths
    /// and sibling numbers.
    last_closed: Closed,
    last_closed_index: Option<u32>,
    /// Captured XML text, as bytes (checked as UTF-8 once, when a capture ends).
    capture: Vec<u8>,
    captures: Vec<(usize, usize)>,
    /// A segment of a document: end tags of elements opened before it may come.
    segment: bool,
    /// Byte offset where the last event read began.
    event_start: u64,
    /// Identity constraints (xs:key, xs:keyref, ID/IDREF) of the document.
    identity: Identity,
    /// For a segment: the elements around it (root first), as the identity paths need them.
    around: Vec<(u16, &'static str)>,
    /// The longest text value allowed (a text made of many pieces, e.g. references).
    max_value: usize,
    /// Element names are checked as they open (in skipped content).
    check_names: bool,
    /// [`Decoder::next_leaf`] read an element whole: its text is in `text` for the
    /// value method its arm calls next.
    leaf_read: bool,
    /// What the identity constraints said of the leaf `next_leaf` read (for `read_text`).
    leaf_error: Option<DecodeError>,
    /// The last [`Frame::serial`] given.
    serial: u64,
    /// The whitespace before the last leaf `next_leaf` looked at (its siblings' again).
    indent: crate::events::Indent,
    /// The source skips the whitespace before markup (`trim_text_start`): set while
    /// reading element-only content, where that whitespace means nothing, so the reader
    /// emits no event for it. Cleared for text, mixed content and captures.
    trim: bool,
}

/// Start tags whose content holds this are scanned for namespace declarations.
const XMLNS: &[u8] = b"xmlns";

/// Attribute-value normalization (XML 1.0 §3.3.3) into `out`: literal whitespace becomes
/// a space (CR LF one space), before references are expanded (so `&#10;` stays a newline).
fn normalize_attribute(raw: &str, out: &mut String) {
    out.clear();
    let mut after_cr = false;
    for c in raw.chars() {
        if !(after_cr && c == '\n') {
            out.push(if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c });
        }
        after_cr = c == '\r';
    }
}

/// Where the prefix of a qualified name ends. Names are short: eight bytes at a time in
/// a register cost less than a byte loop or a call to a vectorized search.
#[inline]
fn colon_in(name: &[u8]) -> Option<usize> {
    let mut words = name.chunks_exact(8);
    let mut base = 0;
    for w in &mut words {
        let hit = bytes_equal(u64::from_le_bytes(w.try_into().unwrap_or_default()), b':');
        if hit != 0 {
            return Some(base + hit.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    words.remainder().iter().position(|&b| b == b':').map(|p| base + p)
}

fn is_blank(b: &[u8]) -> bool {
    // No early exit: the runs between tags are short and almost always blank, and
    // a loop without branches is the faster one for them.
    b.iter().fold(true, |all, c| all & matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

impl<'s> Decoder<'s> {
    /// A decoder over `src`; `namespaces` are the schema's namespace URIs by id.
    pub fn new(src: &'s mut dyn Events, namespaces: &'static [&'static str]) -> Self {
        crate::events::configure(src.config_mut());
        let mut d = Decoder {
            src,
            namespaces,
            tag: Vec::with_capacity(256),
            name_len: 0,
            attrs: vec![],
            raw_attrs: vec![],
            next_attr: 0,
            xsi: Xsi::default(),
            xsi_local: String::new(),
            frames: vec![],
            names: vec![],
            bindings: vec![],
            strings: vec![],
            text: String::new(),
            scratch: String::new(),
            lexical: String::new(),
            text_start: 0,
            last_closed: Closed::NONE,
            last_closed_index: None,
            capture: Vec::new(),
            captures: vec![],
            segment: false,
            event_start: 0,
            identity: Identity::default(),
            around: vec![],
            max_value: usize::try_from(crate::utf8::MAX_VALUE_BYTES).unwrap_or(usize::MAX),
            check_names: false,
            leaf_read: false,
            leaf_error: None,
            serial: 0,
            indent: crate::events::Indent::default(),
            trim: false,
        };
        d.bind(b"xml", b"http://www.w3.org/XML/1998/namespace");
        d
    }

    /// A decoder for a segment of a document that starts between two rows inside
    /// elements opened before it, with the prefix bindings then in scope.
    pub fn segment(
        src: &'s mut dyn Events,
        namespaces: &'static [&'static str],
        bindings: &[(String, String)],
    ) -> Self {
        src.config_mut().allow_unmatched_ends = true;
        let mut d = Decoder::new(src, namespaces);
        for (p, uri) in bindings {
            d.bind(p.as_bytes(), uri.as_bytes());
        }
        d.segment = true;
        // A frame standing for the elements around the segment.
        let default_ns = d.lookup(b"").unwrap_or(NS_NONE);
        d.frames.push(Frame {
            name: 0..0,
            local_start: 0,
            ns: NS_NONE,
            bindings: d.bindings.len(),
            default_ns,
            empty: false,
            index: 1,
            child_count: 0,
            serial: 0,
            row: false,
        });
        d
    }

    /// Whether the source skips whitespace before markup (see [`Decoder::trim`]).
    #[inline]
    fn set_trim(&mut self, on: bool) {
        if self.trim != on {
            self.src.config_mut().trim_text_start = on;
            self.trim = on;
        }
    }

    fn bind(&mut self, prefix: &[u8], uri: &[u8]) -> u16 {
        let ns = self.intern(uri);
        let p0 = self.strings.len();
        self.strings.extend_from_slice(prefix);
        let u0 = self.strings.len();
        self.strings.extend_from_slice(uri);
        self.bindings.push(Binding { prefix: p0..u0, uri: u0..self.strings.len(), ns });
        ns
    }

    fn intern(&self, uri: &[u8]) -> u16 {
        self.namespaces.iter().position(|n| n.as_bytes() == uri).map_or(NS_OTHER, |i| i as u16)
    }

    /// The namespace bound to `prefix` (`b""`: the default namespace).
    fn lookup(&self, prefix: &[u8]) -> Option<u16> {
        self.binding(prefix).map(|b| if b.uri.is_empty() { NS_NONE } else { b.ns })
    }

    /// The innermost binding of `prefix`.
    fn binding(&self, prefix: &[u8]) -> Option<&Binding> {
        self.bindings.iter().rev().find(|b| &self.strings[b.prefix.clone()] == prefix)
    }

    /// The namespace name bound to `prefix`, as written.
    fn lookup_uri(&self, prefix: &[u8]) -> Option<&[u8]> {
        self.binding(prefix).map(|b| &self.strings[b.uri.clone()])
    }

    /// The longest text value allowed, in bytes.
    pub fn set_max_value_bytes(&mut self, limit: u64) {
        self.max_value = usize::try_from(limit).unwrap_or(usize::MAX);
    }

    /// Byte offset of the reader in the input.
    pub fn position(&self) -> u64 {
        self.src.position()
    }

    /// The path of the open elements, `Root/Orders/Order[3]/ShipInfo`.
    pub fn path(&self) -> String {
        let mut p = String::new();
        for f in &self.frames {
            if f.name.is_empty() {
                continue;
            }
            if !p.is_empty() {
                p.push('/');
            }
            p.push_str(&String::from_utf8_lossy(&self.names[f.name.clone()]));
            if f.index > 1 || f.row {
                p.push_str(&format!("[{}]", f.index));
            }
        }
        p
    }

    /// Marks the current element as a table row (error paths show its index).
    #[inline]
    pub fn mark_row(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.row = true;
        }
    }

    /// An error at the current position, with the current path.
    pub fn error(&self, rule: Rule, message: impl Into<String>) -> DecodeError {
        let mut e = DecodeError::new(rule, message, self.position());
        e.path = self.path();
        e
    }

    #[cold]
    fn bad_name(&self, what: &str, name: &[u8]) -> DecodeError {
        let name = String::from_utf8_lossy(name);
        self.error(Rule::NotWellFormed, format!("{name:?} is not a valid {what} name (XML 1.0 §2.3, Namespaces §3)"))
    }

    fn xml_error(&self, e: quick_xml::Error) -> DecodeError {
        let offset = self.src.error_position();
        let mut err = match e {
            quick_xml::Error::Io(io) => DecodeError::from_io(&io, offset),
            quick_xml::Error::Syntax(s) if format!("{s:?}").starts_with("Unclosed") => {
                DecodeError::new(Rule::Truncated, format!("the file ends inside markup ({s}); cut short?"), offset)
            }
            other => DecodeError::new(Rule::NotWellFormed, format!("not well-formed XML: {other}"), offset),
        };
        err.path = self.path();
        err
    }

    /// The error for input that ends before the document does.
    pub fn eof(&self) -> DecodeError {
        self.error(Rule::Truncated, "the file ends before the document does (cut short?)")
    }

    /// The namespace id of the current element.
    pub fn ns(&self) -> u16 {
        self.frames.last().map_or(NS_NONE, |f| f.ns)
    }

    /// The local name of the current element.
    pub fn local(&self) -> &[u8] {
        match self.frames.last() {
            Some(f) => &self.names[f.local_start..f.name.end],
            None => b"",
        }
    }

    /// The qualified name of the current element, as written.
    fn qname(&self) -> String {
        self.frames
            .last()
            .map_or_else(String::new, |f| String::from_utf8_lossy(&self.names[f.name.clone()]).into_owned())
    }

    // ---- reading events ----

    /// Pushes the frame and namespace scope of the start tag in `tag`; returns its namespace id.
    fn open(&mut self, empty: bool) -> Result<u16, DecodeError> {
        let name = &self.tag[..self.name_len];
        let colon = colon_in(name);
        let (start, index) = place_name(&mut self.names, &mut self.frames, &self.last_closed, name);
        self.push_element(empty, start, colon, index)
    }

    /// Pushes the frame and namespace scope of the element whose name `place_name` put
    /// at `start` of `names` (a prefix `colon` bytes long; `index`: its position among
    /// its siblings of that name), its attributes after the name in `tag`; returns its
    /// namespace id.
    fn push_element(
        &mut self,
        empty: bool,
        start: usize,
        colon: Option<usize>,
        index: u32,
    ) -> Result<u16, DecodeError> {
        self.clear_attributes();
        let bindings_before = self.bindings.len();
        if self.tag.len() > self.name_len {
            self.read_attributes()?;
        }
        // The element's name. A name the schema matches is an XML name (the schema's
        // are), so it is checked only where nothing matches it: in content skipped
        // here, and on the error paths of unmatched names ([`Decoder::name_error`]).
        if self.check_names && !crate::names::is_qname(&self.names[start..]) {
            return Err(self.bad_name("element", &self.names[start..]));
        }
        let declared = self.bindings.len() > bindings_before;
        let default_ns = match self.frames.last() {
            Some(parent) if !declared => parent.default_ns,
            _ => self.lookup(b"").unwrap_or(NS_NONE),
        };
        let ns = match colon {
            None => default_ns,
            Some(c) => {
                let prefix = &self.names[start..start + c];
                match self.lookup(prefix) {
                    Some(ns) if prefix != b"xmlns" => ns,
                    _ => {
                        let p = String::from_utf8_lossy(prefix).into_owned();
                        return Err(self.error(Rule::NotWellFormed, format!("namespace prefix {p:?} is not declared")));
                    }
                }
            }
        };
        let local_start = start + colon.map_or(0, |c| c + 1);
        self.serial += 1;
        self.frames.push(Frame {
            name: start..self.names.len(),
            local_start,
            ns,
            bindings: bindings_before,
            default_ns,
            empty,
            index,
            child_count: 0,
            row: false,
            serial: self.serial,
        });
        if self.identity.active() && self.identity.notices(self.identity_depth(), ns, &self.names[local_start..]) {
            self.identity_start(self.position())?;
        }
        Ok(ns)
    }

    /// No attributes read yet, for an element that starts.
    #[inline]
    fn clear_attributes(&mut self) {
        self.attrs.clear();
        self.next_attr = 0;
        self.xsi = Xsi::default();
    }

    /// How deep the current element is, as identity constraints count (the root: 1).
    #[inline]
    fn identity_depth(&self) -> usize {
        // A segment's first frame (nameless) stands for the elements `around` names.
        let skip = usize::from(self.frames.first().is_some_and(|f| f.name.is_empty()));
        self.around.len() + self.frames.len() - skip
    }

    /// What the identity constraints take from the element that starts (its start tag
    /// ends at `offset`).
    fn identity_start(&mut self, offset: u64) -> Result<(), DecodeError> {
        let (tag, attrs) = (&self.tag, &self.attrs);
        // Attribute values, normalized as the decoder hands them out; only computed for
        // the attributes a field selects.
        let attr = |ns: u16, local: Option<&str>, each: &mut dyn FnMut(&str)| {
            let mut v = String::new();
            let named = |a: &&Attr| {
                (ns == u16::MAX || a.ns == ns) && local.is_none_or(|x| x.as_bytes() == &tag[a.local.clone()])
            };
            for a in attrs.iter().filter(named) {
                let raw = &tag[a.value.clone()];
                // Most values have nothing to normalize or expand.
                if !raw.iter().any(|&b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
                    && let Ok(plain) = std::str::from_utf8(raw)
                {
                    each(plain);
                    continue;
                }
                normalize_attribute(&String::from_utf8_lossy(raw), &mut v);
                match quick_xml::escape::unescape(&v) {
                    Ok(c) => each(&c),
                    Err(_) => each(&v),
                }
            }
        };
        let path = IdentityPath::new(&self.around, &self.frames, &self.names);
        let r = self.identity.start(&path, &attr, offset);
        r.map_err(|e| self.at_path(e))
    }

    /// An identity constraint's error, with the current path.
    #[cold]
    fn at_path(&self, mut e: DecodeError) -> DecodeError {
        e.path = self.path();
        e
    }

    /// Opens the scope of the identity constraints `which` (of `all`) on the current element.
    pub fn open_scope(&mut self, all: &'static [Constraint], which: &[u16]) {
        self.identity.set_constraints(all);
        let depth = self.identity_depth();
        self.identity.open_scope(depth, which);
    }

    /// A segment worker: the identity scopes the elements around the segment opened.
    pub fn resume_scopes(
        &mut self,
        all: &'static [Constraint],
        around: &[(u16, &'static str)],
        scopes: &[(usize, &[u16])],
    ) {
        self.around = around.to_vec();
        self.identity.set_constraints(all);
        self.identity.resume(scopes);
    }

    /// Merges what a segment worker collected for the identity constraints.
    pub fn merge_identity(&mut self, c: crate::identity::Collected) -> Result<(), DecodeError> {
        self.identity.merge(c)
    }

    /// What this (worker's) decoder collected for the identity constraints.
    pub fn collected_identity(&mut self) -> crate::identity::Collected {
        self.identity.collected()
    }

    /// Parses the current tag's attributes: namespace declarations are bound, `xsi:`
    /// attributes noted, the others kept for [`Decoder::next_attribute`].
    fn read_attributes(&mut self) -> Result<(), DecodeError> {
        // Reused from tag to tag: no allocation per element.
        let mut raw = std::mem::take(&mut self.raw_attrs);
        raw.clear();
        let r = self.scan_attributes(&mut raw).and_then(|has_xmlns| self.bind_and_keep(&raw, has_xmlns));
        self.raw_attrs = raw;
        r
    }

    /// The name and value ranges of the tag's attributes, each checked as XML writes
    /// them, into `raw`; whether one may declare a namespace.
    fn scan_attributes(&self, raw: &mut Vec<(Range<usize>, Range<usize>)>) -> Result<bool, DecodeError> {
        let Ok(content) = simdutf8::basic::from_utf8(&self.tag) else {
            return Err(DecodeError::new(Rule::InvalidUtf8, "invalid UTF-8 in a start tag", self.position()));
        };
        // Most tags: the ranges read in one pass, then checked in order, as below.
        if attribute_ranges(&self.tag, self.name_len, raw).is_some() {
            let mut has_xmlns = false;
            for (k, (key, value)) in raw.iter().enumerate() {
                let (key, value) = (&self.tag[key.clone()], &self.tag[value.clone()]);
                has_xmlns |= key.starts_with(XMLNS);
                self.check_attribute(key, value, &raw[..k])?;
            }
            return Ok(has_xmlns);
        }
        raw.clear();
        let base = content.as_ptr() as usize;
        let offset = |s: &[u8]| s.as_ptr() as usize - base;
        let mut has_xmlns = false;
        // quick-xml's own check for repeated names keeps their ranges in a vector it
        // allocates for every start tag: `raw` is that list here, reused.
        let mut attributes = Attributes::new(content, self.name_len);
        attributes.with_checks(false);
        for a in attributes {
            let a = a.map_err(|e| {
                let mut err = DecodeError::new(Rule::NotWellFormed, format!("bad attribute: {e}"), self.position());
                err.path = self.path();
                err
            })?;
            let key = a.key.as_ref();
            has_xmlns |= key.starts_with(XMLNS);
            let k0 = offset(key);
            let v0 = offset(&a.value);
            self.check_attribute(key, &a.value, raw)?;
            raw.push((k0..k0 + key.len(), v0..v0 + a.value.len()));
        }
        Ok(has_xmlns)
    }

    /// The checks of one attribute (`key` and `value`: slices of `tag`) that come after
    /// those in `before`.
    fn check_attribute(
        &self,
        key: &[u8],
        value: &[u8],
        before: &[(Range<usize>, Range<usize>)],
    ) -> Result<(), DecodeError> {
        let k0 = key.as_ptr() as usize - self.tag.as_ptr() as usize;
        if !matches!(self.tag[k0 - 1], b' ' | b'\t' | b'\n' | b'\r') {
            let name = String::from_utf8_lossy(key).into_owned();
            return Err(self.error(Rule::NotWellFormed, format!("no whitespace before attribute {name}")));
        }
        if !crate::names::is_qname(key) {
            return Err(self.bad_name("attribute", key));
        }
        if before.iter().any(|(k, _)| &self.tag[k.clone()] == key) {
            let name = String::from_utf8_lossy(key).into_owned();
            return Err(self.error(
                Rule::NotWellFormed,
                format!("attribute {name} appears twice in one start tag (XML 1.0 §3.1)"),
            ));
        }
        if memchr::memchr2(b'<', b'&', value).is_some()
            && let Err(why) = check_attribute_value(value)
        {
            let name = String::from_utf8_lossy(key).into_owned();
            return Err(self.error(Rule::NotWellFormed, format!("attribute {name}: {why}")).within_attr(&name));
        }
        Ok(())
    }

    /// Binds the namespace declarations among `raw` (name and value ranges in the tag)
    /// and keeps the other attributes.
    fn bind_and_keep(&mut self, raw: &[(Range<usize>, Range<usize>)], has_xmlns: bool) -> Result<(), DecodeError> {
        if has_xmlns {
            for (k, v) in raw {
                let key = &self.tag[k.clone()];
                let prefix: Option<&[u8]> = if key == XMLNS { Some(b"") } else { key.strip_prefix(b"xmlns:") };
                if let Some(prefix) = prefix {
                    let prefix = prefix.to_vec();
                    let uri = quick_xml::escape::unescape(&String::from_utf8_lossy(&self.tag[v.clone()]))
                        .map(|c| c.into_owned())
                        .map_err(|e| self.error(Rule::NotWellFormed, format!("bad namespace name: {e}")))?;
                    if let Err(why) = check_binding(&prefix, &uri) {
                        return Err(self.error(Rule::NotWellFormed, why));
                    }
                    if prefix == b"xml" {
                        continue;
                    }
                    if uri.is_empty() && !prefix.is_empty() {
                        let p = String::from_utf8_lossy(&prefix).into_owned();
                        return Err(
                            self.error(Rule::NotWellFormed, format!("prefix {p:?} bound to an empty namespace"))
                        );
                    }
                    self.bind(&prefix, uri.as_bytes());
                }
            }
        }
        for (k, v) in raw.iter().cloned() {
            let key = &self.tag[k.clone()];
            if key == XMLNS || key.starts_with(b"xmlns:") {
                continue;
            }
            let (ns, local) = match colon_in(key) {
                None => (NS_NONE, k.clone()),
                Some(c) => {
                    let prefix = &key[..c];
                    let ns = match self.lookup(prefix) {
                        Some(ns) => ns,
                        None => {
                            let p = String::from_utf8_lossy(prefix).into_owned();
                            return Err(
                                self.error(Rule::NotWellFormed, format!("namespace prefix {p:?} is not declared"))
                            );
                        }
                    };
                    (ns, k.start + c + 1..k.end)
                }
            };
            // Unique attributes after namespace expansion (Namespaces in XML 1.0 §6.3).
            let uri = |name: &Range<usize>, local: &Range<usize>| {
                self.lookup_uri(&self.tag[name.start..local.start.saturating_sub(1).max(name.start)])
            };
            let expanded = |a: &Attr| {
                a.ns == ns
                    && self.tag[a.local.clone()] == self.tag[local.clone()]
                    && (ns != NS_OTHER || uri(&a.name, &a.local) == uri(&k, &local))
            };
            if ns != NS_NONE && self.attrs.iter().any(expanded) {
                let name = String::from_utf8_lossy(&self.tag[k.clone()]).into_owned();
                return Err(self.error(
                    Rule::NotWellFormed,
                    format!("attribute {name} repeats another attribute's namespace and local name"),
                ));
            }
            if ns == NS_XSI {
                self.xsi_attribute(local.clone(), v.clone())?;
            }
            self.attrs.push(Attr { ns, local, name: k, value: v });
        }
        Ok(())
    }

    fn xsi_attribute(&mut self, local: Range<usize>, v: Range<usize>) -> Result<(), DecodeError> {
        let value = String::from_utf8_lossy(&self.tag[v.clone()]).trim().to_string();
        match &self.tag[local] {
            b"type" => {
                let (prefix, name) = value.split_once(':').unwrap_or(("", &value));
                let ns = self.lookup(prefix.as_bytes()).or((prefix.is_empty()).then_some(NS_NONE));
                let Some(ns) = ns else {
                    return Err(
                        self.error(Rule::XsiType, format!("xsi:type {value:?}: prefix {prefix:?} is not declared"))
                    );
                };
                self.xsi_local = name.to_string();
                self.xsi.ty = Some((ns, 0..name.len()));
            }
            b"nil" => {
                self.xsi.nil = match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(self.error(Rule::InvalidValue, format!("xsi:nil={value:?} is not a boolean"))),
                }
            }
            b"schemaLocation" | b"noNamespaceSchemaLocation" => {}
            other => {
                let other = String::from_utf8_lossy(other).into_owned();
                return Err(self.error(
                    Rule::UnknownAttribute,
                    format!("xsi:{other} is not an attribute of XML Schema instances"),
                ));
            }
        }
        Ok(())
    }

    /// Pops the current element's frame and its namespace scope.
    #[inline]
    fn close(&mut self) {
        // `names` keeps the popped name: `last_closed` may point at it.
        if let Some(f) = self.frames.pop()
            && self.bindings.len() > f.bindings
        {
            // The element declared namespaces: their scope ends.
            self.bindings.truncate(f.bindings);
            if let Some(b) = self.bindings.last() {
                self.strings.truncate(b.uri.end);
            } else {
                self.strings.clear();
            }
        }
    }

    /// Reads the prolog up to the root element's start tag; returns its namespace id.
    pub fn root(&mut self) -> Result<u16, DecodeError> {
        let mut first = true;
        loop {
            let at_start = std::mem::replace(&mut first, false);
            match self.src.next() {
                Ok(Event::Decl(d)) => {
                    if !at_start {
                        return Err(self.error(
                            Rule::NotWellFormed,
                            "the XML declaration must come first in the file, before any whitespace",
                        ));
                    }
                    if let Err(why) = check_declaration(&d) {
                        return Err(self.error(Rule::NotWellFormed, format!("bad XML declaration: {why}")));
                    }
                    // The reader decided the encoding from this declaration already (see
                    // `encoding`); a source that did not must be UTF-8.
                    if let Some(enc) = d.encoding() {
                        let enc = enc.map_err(|e| DecodeError::new(Rule::NotWellFormed, e.to_string(), 0))?;
                        if encoding_rs::Encoding::for_label(&enc).is_none() {
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
                    keep_start(&mut self.tag, &mut self.name_len, &e);
                    return self.open(false);
                }
                Ok(Event::Empty(e)) => {
                    keep_start(&mut self.tag, &mut self.name_len, &e);
                    return self.open(true);
                }
                Ok(Event::Comment(_)) => {}
                Ok(Event::PI(p)) => {
                    if !pi_target_ok(&p) {
                        return Err(self.step_error(Step::BadPi));
                    }
                }
                Ok(Event::Text(t)) if is_blank(&t) => {}
                Ok(Event::Eof) => return Err(self.error(Rule::Truncated, "the file holds no root element")),
                Ok(_) => return Err(self.error(Rule::NotWellFormed, "content before the root element")),
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    /// After the root's end tag: only comments, PIs and whitespace may follow.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.src.next() {
                Ok(Event::Eof) => return self.identity.finish(),
                Ok(Event::Comment(_)) => {}
                Ok(Event::PI(p)) => {
                    if !pi_target_ok(&p) {
                        return Err(self.step_error(Step::BadPi));
                    }
                }
                Ok(Event::Text(t)) if is_blank(&t) => {}
                Ok(_) => return Err(self.error(Rule::NotWellFormed, "content after the root element")),
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    // ---- attributes ----

    /// The next attribute of the current element (namespace declarations and `xsi:`
    /// attributes excluded): its namespace id; its local name is [`Decoder::attr_local`].
    pub fn next_attribute(&mut self) -> Option<u16> {
        loop {
            let a = self.attrs.get(self.next_attr)?;
            self.next_attr += 1;
            // xsi: attributes were read with the tag.
            if a.ns != NS_XSI {
                return Some(a.ns);
            }
        }
    }

    /// The local name of the attribute returned by the last `next_attribute`.
    pub fn attr_local(&self) -> &[u8] {
        match self.next_attr.checked_sub(1).and_then(|i| self.attrs.get(i)) {
            Some(a) => &self.tag[a.local.clone()],
            None => b"",
        }
    }

    /// Passes the current attribute's value (normalized, references expanded, then
    /// whitespace-processed by `ws`) to `f`.
    pub fn attr_value<T>(&mut self, ws: Ws, f: impl FnOnce(&str) -> Result<T, Invalid>) -> Result<T, DecodeError> {
        self.attr_value_of(Lexical::Plain, ws, f)
    }

    /// Like [`Decoder::attr_value`] for a value with document-wide rules (`lex`).
    /// (A thin shell, like [`Decoder::text_of`].)
    #[inline]
    pub fn attr_value_of<T>(
        &mut self,
        lex: Lexical,
        ws: Ws,
        f: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<T, DecodeError> {
        let v = self.attr_text(ws)?;
        let t = match f(v) {
            Ok(t) => t,
            Err(inv) => return Err(self.attr_error(inv)),
        };
        if lex != Lexical::Plain {
            self.attr_lexical(lex, ws)?;
        }
        Ok(t)
    }

    /// The current attribute's value: normalized, references expanded, then
    /// whitespace-processed by `ws`.
    #[inline(never)]
    fn attr_text(&mut self, ws: Ws) -> Result<&str, DecodeError> {
        let Some(a) = self.next_attr.checked_sub(1).and_then(|i| self.attrs.get(i)) else {
            return Err(self.error(Rule::NotWellFormed, "no attribute"));
        };
        let raw = std::str::from_utf8(&self.tag[a.value.clone()]).unwrap_or("");
        // Most values hold neither references nor whitespace to normalize: used as read.
        let plain = !raw.bytes().fold(false, |any, b| any | matches!(b, b'&' | b'\t' | b'\n' | b'\r'));
        if plain {
            return Ok(value::whitespace(raw, ws, &mut self.scratch));
        }
        normalize_attribute(raw, &mut self.text);
        let expanded = match quick_xml::escape::unescape(&self.text) {
            Ok(std::borrow::Cow::Borrowed(_)) => None,
            Ok(std::borrow::Cow::Owned(s)) => Some(s),
            Err(e) => return Err(self.attr_reference_error(e)),
        };
        if let Some(s) = expanded {
            self.text = s;
        }
        Ok(value::whitespace(&self.text, ws, &mut self.scratch))
    }

    /// Checks and records the attribute value just read as `lex` says (an ID, a QName...).
    #[inline(never)]
    fn attr_lexical(&mut self, lex: Lexical, ws: Ws) -> Result<(), DecodeError> {
        let pos = self.src.position();
        // The value is read again, into a buffer of its own: `attr_text` hands out a part
        // of the decoder, and the identity state is another.
        let mut v = std::mem::take(&mut self.lexical);
        v.clear();
        v.push_str(self.attr_text(ws)?);
        let r = document_lexical(lex, &v, &self.bindings, &self.strings, &mut self.identity, pos);
        self.lexical = v;
        r.map_err(|inv| self.attr_error(inv))
    }

    /// The current attribute's name as written (for errors).
    fn attr_name(&self) -> String {
        let a = self.next_attr.checked_sub(1).and_then(|i| self.attrs.get(i));
        a.map_or_else(String::new, |a| String::from_utf8_lossy(&self.tag[a.name.clone()]).into_owned())
    }

    #[cold]
    #[inline(never)]
    fn attr_error(&self, inv: Invalid) -> DecodeError {
        let name = self.attr_name();
        self.error(inv.rule, inv.message).within_attr(&name)
    }

    #[cold]
    #[inline(never)]
    fn attr_reference_error(&self, e: quick_xml::escape::EscapeError) -> DecodeError {
        let name = self.attr_name();
        let msg = format!("bad reference in attribute {name}: {e}");
        self.error(Rule::NotWellFormed, msg).within_attr(&name)
    }

    /// Passes a default or fixed value (whitespace-processed by `ws`) to `f`.
    #[inline]
    pub fn default_value<T>(
        &mut self,
        v: &str,
        ws: Ws,
        f: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<T, DecodeError> {
        let v = value::whitespace(v, ws, &mut self.scratch);
        f(v).map_err(|inv| self.value_error(inv))
    }

    #[cold]
    #[inline(never)]
    fn value_error(&self, inv: Invalid) -> DecodeError {
        self.error(inv.rule, inv.message)
    }

    /// The error for an attribute the element does not declare.
    pub fn unknown_attribute(&self) -> DecodeError {
        let i = self.next_attr.saturating_sub(1);
        let name = self
            .attrs
            .get(i)
            .map_or_else(String::new, |a| String::from_utf8_lossy(&self.tag[a.name.clone()]).into_owned());
        let el = self.qname();
        self.error(Rule::UnknownAttribute, format!("attribute {name} is not declared for <{el}>")).within_attr(&name)
    }

    /// The error for a required attribute that is absent.
    pub fn missing_attribute(&self, name: &str) -> DecodeError {
        let el = self.qname();
        self.error(Rule::MissingAttribute, format!("<{el}> is missing its required attribute {name}")).within_attr(name)
    }

    /// The current attribute's text as written (for `xs:anyAttribute` columns).
    pub fn attr_markup(&self) -> String {
        let i = self.next_attr.saturating_sub(1);
        self.attrs.get(i).map_or_else(String::new, |a| {
            format!(
                "{}=\"{}\"",
                String::from_utf8_lossy(&self.tag[a.name.clone()]),
                String::from_utf8_lossy(&self.tag[a.value.clone()])
            )
        })
    }

    /// `xsi:type` of the current element: (namespace id, local name).
    pub fn xsi_type(&self) -> Option<(u16, &str)> {
        self.xsi.ty.as_ref().map(|(ns, r)| (*ns, &self.xsi_local[r.clone()]))
    }

    /// Checks that an xsi:type, if any, names the declared type (`None`: an anonymous
    /// type, which no xsi:type can name).
    #[inline]
    pub fn check_xsi_type(&self, declared: Option<(u16, &str)>) -> Result<(), DecodeError> {
        match (&self.xsi.ty, declared) {
            (None, _) => Ok(()),
            (Some(_), Some(dt)) if self.xsi_type() == Some(dt) => Ok(()),
            (Some(_), Some((_, name))) => Err(self.bad_xsi_type(name)),
            (Some(_), None) => Err(self.bad_xsi_type("the element's anonymous type")),
        }
    }

    /// The error for an element a strict wildcard allows only if the schema declares it.
    pub fn undeclared_element(&self) -> DecodeError {
        if let Some(e) = self.name_error() {
            return e;
        }
        let el = self.qname();
        self.error(
            Rule::UnknownElement,
            format!("element <{el}> is not declared by the schema, which a strict wildcard requires"),
        )
    }

    /// The error for an xsi:type that names no type allowed here.
    pub fn bad_xsi_type(&self, declared: &str) -> DecodeError {
        let t = self.xsi_local.clone();
        self.error(
            Rule::XsiType,
            format!("xsi:type {t:?} is not a type derived from {declared} that may replace it here"),
        )
    }

    /// True when the current element says `xsi:nil="true"`.
    pub fn nil(&self) -> bool {
        self.xsi.nil
    }

    /// Checks the current element against a declaration that is not nillable.
    #[inline]
    pub fn not_nil(&self) -> Result<(), DecodeError> {
        if self.xsi.nil {
            return Err(self.nil_refused());
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn nil_refused(&self) -> DecodeError {
        let el = self.qname();
        self.error(Rule::Nil, format!("<{el}> has xsi:nil=\"true\" but its declaration is not nillable"))
    }

    // ---- content ----

    /// Reads the text content of the current element (no child elements allowed) and
    /// passes it, whitespace-processed by `ws`, to `f`.
    pub fn text<T>(&mut self, ws: Ws, f: impl FnOnce(&str) -> Result<T, Invalid>) -> Result<T, DecodeError> {
        self.text_of(Lexical::Plain, ws, f)
    }

    /// Like [`Decoder::text`] for a value with document-wide rules (`lex`).
    ///
    /// Generated code calls this (and the other value methods) once per column, each
    /// with a closure of its own: each call is a copy of this body. It stays a few
    /// instructions around calls of the shared, out-of-line steps, so that the copies
    /// do not crowd the instruction cache.
    #[inline]
    pub fn text_of<T>(
        &mut self,
        lex: Lexical,
        ws: Ws,
        f: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<T, DecodeError> {
        if lex == Lexical::QName {
            return self.qname_text(ws, f);
        }
        let v = self.text_value(ws)?;
        let t = match f(v) {
            Ok(t) => t,
            Err(inv) => return Err(self.text_error(inv)),
        };
        if lex != Lexical::Plain {
            self.text_lexical(lex, ws)?;
        }
        Ok(t)
    }

    /// The current element's text (no child elements allowed), whitespace-processed by `ws`.
    #[inline(never)]
    fn text_value(&mut self, ws: Ws) -> Result<&str, DecodeError> {
        self.not_nil()?;
        self.read_text()?;
        Ok(value::whitespace(&self.text, ws, &mut self.scratch))
    }

    /// Checks and records the text value just read as `lex` says (an ID, IDREF...).
    #[inline(never)]
    fn text_lexical(&mut self, lex: Lexical, ws: Ws) -> Result<(), DecodeError> {
        let v = value::whitespace(&self.text, ws, &mut self.scratch);
        let r = document_lexical(lex, v, &self.bindings, &self.strings, &mut self.identity, self.text_start);
        r.map_err(|inv| self.text_error(inv))
    }

    /// A text value that is a QName: its prefix must be bound where the element is.
    #[inline(never)]
    fn qname_text<T>(&mut self, ws: Ws, f: impl FnOnce(&str) -> Result<T, Invalid>) -> Result<T, DecodeError> {
        self.not_nil()?;
        // The bindings of the element itself (its end pops them).
        let (bindings, strings) = (self.bindings.clone(), self.strings.clone());
        self.read_text()?;
        let v = value::whitespace(&self.text, ws, &mut self.scratch);
        let pos = self.text_start;
        let r = f(v).and_then(|t| {
            document_lexical(Lexical::QName, v, &bindings, &strings, &mut self.identity, pos)?;
            Ok(t)
        });
        r.map_err(|inv| self.text_error(inv))
    }

    /// A text value's error, at the element just closed.
    #[cold]
    #[inline(never)]
    fn text_error(&self, inv: Invalid) -> DecodeError {
        let mut e = DecodeError::new(inv.rule, inv.message, self.text_start);
        e.path = self.path_with_last();
        e
    }

    /// Like [`Decoder::text`], with a default value for empty content.
    #[inline]
    pub fn text_or<T>(
        &mut self,
        default: &str,
        ws: Ws,
        f: impl FnOnce(&str) -> Result<T, Invalid>,
    ) -> Result<T, DecodeError> {
        let v = self.text_or_default(default, ws)?;
        f(v).map_err(|inv| self.text_error(inv))
    }

    #[inline(never)]
    fn text_or_default(&mut self, default: &str, ws: Ws) -> Result<&str, DecodeError> {
        self.not_nil()?;
        self.read_text()?;
        if self.text.is_empty() {
            self.text.push_str(default);
        }
        Ok(value::whitespace(&self.text, ws, &mut self.scratch))
    }

    /// The path including the element just closed (text errors are reported after its end tag).
    fn path_with_last(&self) -> String {
        let mut p = self.path();
        if !self.last_closed.name(&self.names).is_empty() {
            if !p.is_empty() {
                p.push('/');
            }
            p.push_str(&self.last_closed());
        }
        p
    }

    /// The element that ended last, as error paths show it (`Order[2]`).
    fn last_closed(&self) -> String {
        let name = String::from_utf8_lossy(self.last_closed.name(&self.names));
        match self.last_closed_index {
            Some(i) => format!("{name}[{i}]"),
            None => name.into_owned(),
        }
    }

    /// The content of a nilled element: nothing at all.
    pub fn nil_content(&mut self) -> Result<(), DecodeError> {
        let mut text = String::new();
        match self.next_child_mixed(&mut text)? {
            None if text.is_empty() => Ok(()),
            _ => Err(self.error(Rule::Nil, "an element with xsi:nil=\"true\" must be empty")),
        }
    }

    /// Reads the current element's text (no child elements) into `text`, and closes it.
    #[inline]
    fn read_text(&mut self) -> Result<(), DecodeError> {
        if std::mem::take(&mut self.leaf_read) {
            // Read already, and closed (`next_leaf`): what the identity constraints said
            // of it comes now, where its events would have said it.
            return self.leaf_error.take().map_or(Ok(()), Err);
        }
        self.read_text_to_end()
    }

    /// [`Decoder::read_text`] of a text `next_leaf` did not read.
    #[inline(never)]
    fn read_text_to_end(&mut self) -> Result<(), DecodeError> {
        self.text.clear();
        self.text_start = self.position();
        self.last_closed = Closed::NONE;
        self.last_closed_index = None;
        let Some(f) = self.frames.last() else { return Err(self.eof()) };
        if f.empty {
            self.closed(true)?;
            return Ok(());
        }
        // Most values are short ASCII text and their end tag: read in one step when
        // nothing needs the events (a capture does).
        if self.captures.is_empty()
            && !f.name.is_empty()
            && let Some(text) = self.src.text_to_end(&self.names[f.name.clone()])
        {
            if let Err(step) = push_leaf_text(&mut self.text, text) {
                // Where the text ends, as the events would have said.
                let at = self.text_start + text.bytes().len() as u64;
                return Err(DecodeError { offset: at, ..self.step_error(step) });
            }
            if self.text.len() > self.max_value {
                return Err(self.value_too_large());
            }
            self.closed(true)?;
            return Ok(());
        }
        self.set_trim(false);
        loop {
            let capturing = !self.captures.is_empty();
            let step = match self.src.next() {
                Err(e) => return Err(self.xml_error(e)),
                Ok(ev) => {
                    if capturing {
                        capture_event(&mut self.capture, &ev);
                    }
                    match ev {
                        Event::Text(t) => text_step(push_text(&mut self.text, &t)),
                        Event::CData(t) => text_step(push_text(&mut self.text, &t)),
                        Event::Comment(_) => Step::More,
                        Event::PI(p) => pi_step(&p),
                        Event::GeneralRef(r) => match resolve_ref(&r) {
                            Some(c) => {
                                self.text.push(c);
                                Step::More
                            }
                            None => Step::BadRef(String::from_utf8_lossy(&r).into_owned()),
                        },
                        Event::End(e) => end_step(&self.frames, &self.names, e.name().as_ref()),
                        Event::Start(e) | Event::Empty(e) if crate::names::is_qname(e.name().as_ref()) => {
                            Step::Child(String::from_utf8_lossy(e.name().as_ref()).into_owned())
                        }
                        Event::Start(_) | Event::Empty(_) => Step::Markup,
                        Event::Eof => Step::Eof,
                        _ => Step::Markup,
                    }
                }
            };
            if self.text.len() > self.max_value {
                return Err(self.value_too_large());
            }
            match step {
                Step::More => {}
                Step::End => {
                    self.closed(true)?;
                    return Ok(());
                }
                Step::Child(inner) => {
                    let el = self.qname();
                    let msg = format!("element <{inner}> is not allowed inside <{el}>, which holds text only");
                    return Err(self.error(Rule::UnknownElement, msg));
                }
                other => return Err(self.step_error(other)),
            }
        }
    }

    #[cold]
    fn value_too_large(&self) -> DecodeError {
        let msg = format!("a text value of more than {} bytes (--max-value-bytes)", self.max_value);
        self.error(Rule::ValueTooLarge, msg)
    }

    /// The error of a step that cannot go on.
    fn step_error(&self, step: Step) -> DecodeError {
        match step {
            Step::BadUtf8 => self.error(Rule::InvalidUtf8, "invalid UTF-8 in text"),
            Step::BadPi => self.error(
                Rule::NotWellFormed,
                "a processing instruction's target must be a name other than xml (XML 1.0 §2.6); \
                 an XML declaration must come first in the file",
            ),
            Step::CdataEnd => self.error(Rule::NotWellFormed, "']]>' is not allowed in text (write ]]&gt;)"),
            Step::BadRef(n) => {
                self.error(Rule::NotWellFormed, format!("undefined entity or bad character reference &{n};"))
            }
            Step::Text => self.unexpected_text(),
            Step::Eof => self.eof(),
            Step::Doctype => self.error(Rule::DoctypeForbidden, "DOCTYPE declarations are refused"),
            Step::Markup => self.error(Rule::NotWellFormed, "misplaced XML declaration or markup"),
            Step::BadEnd(found) => {
                let el = self.qname();
                self.error(Rule::NotWellFormed, format!("end tag </{found}> does not match <{el}>"))
            }
            Step::More | Step::End | Step::Open(_) | Step::Child(_) => {
                self.error(Rule::NotWellFormed, "unexpected markup")
            }
        }
    }

    /// The current element has ended: pop it. `text`: it had simple content, now in `text`.
    #[inline(always)]
    fn closed(&mut self, text: bool) -> Result<(), DecodeError> {
        if let Some(f) = self.frames.last() {
            self.last_closed = Closed::Named(f.name.clone());
            self.last_closed_index = (f.index > 1 || f.row).then_some(f.index);
        }
        // Most elements matter to no constraint: told here, without a call.
        if self.identity.active() {
            let depth = self.identity_depth();
            if depth > 0 && self.identity.waits_for(depth) {
                self.identity_end(depth, text)?;
            }
        }
        self.close();
        Ok(())
    }

    /// What the identity constraints take from the element that ends at `depth` (before
    /// it is popped).
    #[inline(never)]
    fn identity_end(&mut self, depth: usize, text: bool) -> Result<(), DecodeError> {
        let offset = self.position();
        let t = if text { Some(self.text.as_str()) } else { None };
        self.identity.end(depth, t, offset).map_err(|e| self.at_path(e))
    }

    /// The next child element in one step, when it is one that `model` expects in
    /// `state` whose arm only reads its text (`leaves[symbol]` is not [`Leaf::No`]), written without prefix
    /// or attributes, holding character data without references, and nothing else needs
    /// its events: its symbol and the state after it. The element is then read and closed
    /// as [`Decoder::next_child`] and [`Decoder::text`] would have (the same names,
    /// sibling numbers, text and offsets for messages), its text waiting for the value
    /// method the arm calls. None: nothing was read, and the caller asks `next_child`.
    #[inline]
    pub fn next_leaf(&mut self, model: &Model, leaves: &[Leaf], state: State) -> Option<(u16, State)> {
        debug_assert!(!self.leaf_read, "a leaf's text was not taken");
        let edges = model.edges(state);
        let (empty, default_ns) = self.frames.last().map(|p| (p.empty, p.default_ns))?;
        if edges.is_empty()
            || empty
            || !self.captures.is_empty()
            || self.check_names
            || (self.segment && self.frames.len() == 1)
        {
            return None;
        }
        self.set_trim(true);
        let depth = self.identity_depth() + 1;
        let rest = self.src.window()?;
        let ws = self.indent.before_markup(rest)?;
        let tag = &rest[ws + 1..];
        let (symbol, next, leaf, name, text, len) = edges.iter().find_map(|&(symbol, next)| {
            let leaf = *leaves.get(usize::from(symbol))?;
            if leaf == Leaf::No {
                return None;
            }
            let sym = model.symbols.get(usize::from(symbol))?;
            let name: &'static [u8] = sym.local.as_bytes();
            if sym.ns != default_ns || tag.get(name.len()) != Some(&b'>') || !same_bytes(&tag[..name.len()], name) {
                return None;
            }
            let at = ws + name.len() + 2;
            let (text, len) = crate::events::plain_leaf(&rest[at..], name)?;
            Some((symbol, State::from(next), leaf, name, text, at + len))
        })?;
        let noticed = leaf == Leaf::Watched && self.identity.active() && self.identity.notices(depth, default_ns, name);
        // Text that needs care (non-ASCII, CR, `>`) is checked and normalized as the
        // events would have; an error is left to them, to be reported where they do.
        self.text.clear();
        if push_leaf_text(&mut self.text, text).is_err() || self.text.len() > self.max_value {
            return None;
        }
        // What opening and closing it would have left. (The text starts after the
        // start tag: `len` counts it, the text and the end tag.)
        let after_text = len - (ws + name.len() + 2);
        self.text_start = self.src.advance(len) - after_text as u64;
        // Numbered among its siblings, its name left where the schema has it.
        let (start, index) = number(&mut self.frames, &self.names, &self.last_closed, name);
        self.last_closed = Closed::Leaf { start, name };
        self.last_closed_index = (index > 1).then_some(index);
        self.clear_attributes();
        self.tag.clear();
        self.name_len = 0;
        self.leaf_read = true;
        if noticed {
            self.leaf_identity(start, name, index, default_ns);
        }
        Some((symbol, next))
    }

    /// The identity constraints' part of a leaf [`Decoder::next_leaf`] read that an open
    /// scope notices: its start and its end with its text, as [`Decoder::push_element`]
    /// and [`Decoder::closed`] would have told them, on a frame of its own (its `name`
    /// put at `start` of `names`) while they look. An error waits for the arm's value
    /// method ([`Decoder::read_text`]).
    #[inline(never)]
    fn leaf_identity(&mut self, start: usize, name: &[u8], index: u32, ns: u16) {
        self.names.truncate(start);
        self.names.extend_from_slice(name);
        self.frames.push(Frame {
            name: start..self.names.len(),
            local_start: start,
            ns,
            bindings: self.bindings.len(),
            default_ns: ns,
            empty: false,
            index,
            child_count: 0,
            row: false,
            serial: 0,
        });
        let path = IdentityPath::new(&self.around, &self.frames, &self.names);
        let r = self.identity.leaf(&path, &self.text, self.text_start, self.position());
        self.leaf_error = r.err().map(|e| self.at_path(e));
        self.frames.pop();
    }

    /// The next child element of the current element: its namespace id (its local name
    /// is [`Decoder::local`]), or None after the current element's end tag. Whitespace,
    /// comments and PIs between children are skipped; other text is an error.
    pub fn next_child(&mut self) -> Result<Option<u16>, DecodeError> {
        self.next_child_in(None)
    }

    /// Like [`Decoder::next_child`] in the decoder of an element whose children include
    /// table rows: at a segment boundary, the rows a worker decoded come as a [`Next::Run`].
    pub fn next_child_or_run(&mut self) -> Result<Next, DecodeError> {
        if let Some(mut run) = self.src.take_run() {
            self.check_run(&run)?;
            self.identity.merge(std::mem::take(&mut run.identity))?;
            return Ok(Next::Run(run));
        }
        Ok(match self.next_child()? {
            Some(ns) => Next::Child(ns),
            None => Next::End,
        })
    }

    /// A run fits where it comes: inside the rows' parent, with the bindings it assumed.
    fn check_run(&self, run: &Run) -> Result<(), DecodeError> {
        let resync = || Err(DecodeError::new(Rule::Resync, "a segment does not start where its rows belong", 0));
        let parent = &run.path[..run.path.len().saturating_sub(1)];
        if self.frames.len() != parent.len() {
            return resync();
        }
        for (f, (ns, local)) in self.frames.iter().zip(parent) {
            if f.ns != *ns || &self.names[f.local_start..f.name.end] != local.as_bytes() {
                return resync();
            }
        }
        let mut scope: Vec<(String, String)> = vec![];
        for b in self.bindings.iter().skip(1) {
            let p = String::from_utf8_lossy(&self.strings[b.prefix.clone()]).into_owned();
            let u = String::from_utf8_lossy(&self.strings[b.uri.clone()]).into_owned();
            scope.retain(|(q, _)| *q != p);
            scope.push((p, u));
        }
        let mut want = run.bindings.clone();
        want.sort();
        scope.sort();
        if scope != want {
            return resync();
        }
        Ok(())
    }

    /// The error that sends a file from the segment-parallel path back to one pass.
    #[cold]
    pub fn resync(&self) -> DecodeError {
        DecodeError::new(Rule::Resync, "rows decoded elsewhere do not fit here", self.position())
    }

    /// Byte offset where the last event read began (a worker stops there).
    pub fn event_start(&self) -> u64 {
        self.event_start
    }

    /// Like [`Decoder::next_child`] for mixed content: character data is appended to `text`.
    pub fn next_child_mixed(&mut self, text: &mut String) -> Result<Option<u16>, DecodeError> {
        self.next_child_in(Some(text))
    }

    fn next_child_in(&mut self, mut mixed: Option<&mut String>) -> Result<Option<u16>, DecodeError> {
        let Some(f) = self.frames.last() else { return Err(self.eof()) };
        if f.empty {
            self.closed(false)?;
            return Ok(None);
        }
        // Whitespace between children means nothing unless the text is kept.
        self.set_trim(mixed.is_none() && self.captures.is_empty());
        loop {
            let capturing = !self.captures.is_empty();
            if self.segment && self.frames.len() == 1 {
                // Only a segment's worker asks where it stopped, among the children of
                // the frame standing for the elements around the segment.
                self.event_start = self.src.position();
            }
            // Most start tags have no attributes, and most end tags are exactly the
            // open element's name: read in one step where whitespace between children
            // means nothing and no capture needs the events.
            if mixed.is_none() && !capturing {
                let open = self.frames.last().map_or(0..0, |f| f.name.clone());
                match self.src.tag(&self.names[open]) {
                    Tag::Start(content, name) if content.len() > name => {
                        // With attributes: as its start event.
                        keep_tag(&mut self.tag, &mut self.name_len, content, name);
                        return self.open(false).map(Some);
                    }
                    Tag::Start(name, _) => {
                        // Its name straight into `names` (no attributes: `tag` is empty).
                        let colon = colon_in(name);
                        let (start, index) = place_name(&mut self.names, &mut self.frames, &self.last_closed, name);
                        self.tag.clear();
                        self.name_len = 0;
                        return self.push_element(false, start, colon, index).map(Some);
                    }
                    Tag::End => {
                        self.closed(false)?;
                        return Ok(None);
                    }
                    Tag::Other => {}
                }
            }
            let step = match self.src.next() {
                Err(e) => return Err(self.xml_error(e)),
                Ok(ev) => {
                    if capturing {
                        capture_event(&mut self.capture, &ev);
                    }
                    match ev {
                        Event::Start(e) => {
                            keep_start(&mut self.tag, &mut self.name_len, &e);
                            Step::Open(false)
                        }
                        Event::Empty(e) => {
                            keep_start(&mut self.tag, &mut self.name_len, &e);
                            Step::Open(true)
                        }
                        Event::End(e) => end_step(&self.frames, &self.names, e.name().as_ref()),
                        Event::Comment(_) => Step::More,
                        Event::PI(p) => pi_step(&p),
                        Event::Text(t) => between_children(mixed.as_deref_mut(), &t),
                        Event::CData(t) => between_children(mixed.as_deref_mut(), &t),
                        Event::GeneralRef(r) => match (resolve_ref(&r), mixed.as_deref_mut()) {
                            (None, _) => Step::BadRef(String::from_utf8_lossy(&r).into_owned()),
                            (Some(c), Some(m)) => {
                                m.push(c);
                                Step::More
                            }
                            (Some(' ' | '\t' | '\n' | '\r'), None) => Step::More,
                            (Some(_), None) => Step::Text,
                        },
                        Event::Eof => Step::Eof,
                        Event::DocType(_) => Step::Doctype,
                        Event::Decl(_) => Step::Markup,
                    }
                }
            };
            match step {
                Step::More => {}
                Step::Open(empty) => return self.open(empty).map(Some),
                Step::End => {
                    self.closed(false)?;
                    return Ok(None);
                }
                Step::Eof if self.segment && self.frames.len() == 1 => return Ok(None),
                other => return Err(self.step_error(other)),
            }
        }
    }

    fn unexpected_text(&self) -> DecodeError {
        let el = self.qname();
        self.error(Rule::UnexpectedText, format!("text inside <{el}>, where the schema allows only child elements"))
    }

    /// Consumes the current element's content, checking only that it is well-formed.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        if let Some(e) = self.name_error() {
            return Err(e);
        }
        let depth = self.frames.len();
        let mut text = String::new();
        let checking = std::mem::replace(&mut self.check_names, true);
        let r = (|| {
            while self.frames.len() >= depth {
                text.clear();
                if self.next_child_mixed(&mut text)?.is_none() && self.frames.len() < depth {
                    break;
                }
            }
            Ok(())
        })();
        self.check_names = checking;
        r
    }

    /// The well-formedness error of the current element's name, if it is not an XML
    /// name: the schema matched no name to it, and this comes before any schema error.
    #[cold]
    pub fn name_error(&self) -> Option<DecodeError> {
        // (A segment's first frame stands for the elements around it: no name.)
        let f = self.frames.last().filter(|_| !(self.segment && self.frames.len() == 1))?;
        let name = &self.names[f.name.clone()];
        (!crate::names::is_qname(name)).then(|| self.bad_name("element", name))
    }

    /// Checks that the current element has no content at all, not even whitespace
    /// (its type's content is empty; attributes were read already).
    pub fn empty_content(&mut self) -> Result<(), DecodeError> {
        let mut text = String::new();
        match self.next_child_mixed(&mut text)? {
            None if text.is_empty() => Ok(()),
            None => Err(self.error(Rule::UnexpectedText, "text inside an element whose content must be empty")),
            Some(_) => {
                let inner = self.qname();
                Err(self.error(
                    Rule::UnknownElement,
                    format!("element <{inner}> is not allowed here: the content must be empty"),
                ))
            }
        }
    }

    // ---- capture of XML text (wildcards, recursion cut) ----

    /// Starts capturing the current element (its start tag was just read) as XML text,
    /// with the namespace declarations in scope added to its start tag.
    pub fn begin_capture(&mut self) {
        if self.captures.is_empty() {
            self.capture.clear();
        }
        let start = self.capture.len();
        let f = self.frames.last().cloned();
        self.capture.push(b'<');
        if let Some(f) = &f {
            self.capture.extend_from_slice(&self.names[f.name.clone()]);
        }
        self.capture.extend_from_slice(&self.tag[self.name_len..]);
        // Declarations in scope, outside this element: the nearest binding of each prefix.
        let own = f.as_ref().map_or(self.bindings.len(), |f| f.bindings);
        // Written straight into the capture (no allocation: a wildcard's content is
        // captured for every row of some schemas).
        let (capture, bindings, strings) = (&mut self.capture, &self.bindings, &self.strings);
        let prefix = |b: &Binding| &strings[b.prefix.clone()];
        for (i, b) in bindings[..own].iter().enumerate().rev() {
            let p = prefix(b);
            // The element's own declarations and nearer ones hide this one.
            if p == b"xml" || bindings[i + 1..].iter().any(|later| prefix(later) == p) {
                continue;
            }
            let uri = &strings[b.uri.clone()];
            if p.is_empty() {
                if uri.is_empty() {
                    continue;
                }
                capture.extend_from_slice(b" xmlns=\"");
            } else {
                capture.extend_from_slice(b" xmlns:");
                capture.extend_from_slice(p);
                capture.extend_from_slice(b"=\"");
            }
            if uri.iter().any(|c| matches!(c, b'&' | b'"' | b'<')) {
                // (ASCII bytes never occur inside a multi-byte UTF-8 sequence.)
                for &c in uri {
                    match c {
                        b'&' => capture.extend_from_slice(b"&amp;"),
                        b'"' => capture.extend_from_slice(b"&quot;"),
                        b'<' => capture.extend_from_slice(b"&lt;"),
                        c => capture.push(c),
                    }
                }
            } else {
                capture.extend_from_slice(uri);
            }
            capture.push(b'"');
        }
        self.capture.extend_from_slice(if f.is_some_and(|f| f.empty) { b"/>" } else { b">" });
        self.captures.push((start, self.frames.len()));
    }

    /// Ends the innermost capture (after its element was consumed); returns its text.
    pub fn end_capture(&mut self) -> &str {
        let start = self.captures.pop().map_or(0, |(s, _)| s);
        if simdutf8::basic::from_utf8(&self.capture[start..]).is_err() {
            // Only from a source that does not check UTF-8 (every load path does):
            // shown as a lossy conversion shows it.
            let shown = String::from_utf8_lossy(&self.capture[start..]).into_owned();
            self.capture.truncate(start);
            self.capture.extend_from_slice(shown.as_bytes());
        }
        simdutf8::basic::from_utf8(&self.capture[start..]).unwrap_or_default()
    }

    // ---- content-model errors ----

    /// The error for a child element that does not fit the content model in `state`.
    #[cold]
    pub fn content_error(&self, model: &Model, state: State, miss: Miss) -> DecodeError {
        if let Some(e) = self.name_error() {
            return e;
        }
        match miss {
            Miss::Unknown => self.unknown_child(model, state),
            Miss::Misplaced => self.misplaced(model, state),
        }
    }

    /// The error for a child element that is not one of the model's symbols.
    pub fn unknown_child(&self, model: &Model, state: State) -> DecodeError {
        let local = String::from_utf8_lossy(self.local()).into_owned();
        let ns = self.ns();
        let el = self.qname();
        if let Some(s) = model.symbols.iter().find(|s| s.ns != WILDCARD && s.local == local && s.ns != ns) {
            let msg = format!(
                "element <{el}> is in namespace {:?}; the schema expects <{}> in {}",
                self.namespace_name(ns),
                s.local,
                if s.ns == NS_NONE {
                    "no namespace".to_string()
                } else {
                    format!("namespace {:?}", self.namespace_name(s.ns))
                }
            );
            return self.error(Rule::WrongNamespace, msg);
        }
        let expected = describe(&model.expected(state));
        self.error(Rule::UnknownElement, format!("element <{el}> is not allowed here; expected {expected}"))
    }

    /// The error for a child element of the model that may not come in `state`: early
    /// (required elements are missing before it) or out of order (repeated, or late).
    pub fn misplaced(&self, model: &Model, state: State) -> DecodeError {
        let el = self.qname();
        let local = String::from_utf8_lossy(self.local()).into_owned();
        let ns = self.ns();
        let symbol = model.symbols.iter().position(|s| s.ns == ns && s.local == local).map(|s| s as u16);
        let expected = model.expected(state);
        if !model.accepts(state) && symbol.is_some_and(|s| model.reachable(state, s)) {
            let mut e = self
                .error(Rule::MissingElement, format!("missing required element {} before <{el}>", describe(&expected)));
            e.path = self.parent_path_with(&expected);
            return e;
        }
        let what = if expected.is_empty() { "nothing more".to_string() } else { describe(&expected) };
        self.error(Rule::OutOfOrder, format!("element <{el}> is out of order or repeated here; expected {what}"))
    }

    /// The path of the current element's parent, and of the missing element when only one is expected.
    fn parent_path_with(&self, expected: &[Symbol]) -> String {
        let mut p = self.path();
        if let Some(i) = p.rfind('/') {
            p.truncate(i);
        }
        if let [one] = expected
            && one.ns != WILDCARD
        {
            p.push('/');
            p.push_str(one.local);
        }
        p
    }

    /// The error when the content ends in a state that needs more.
    pub fn incomplete(&self, model: &Model, state: State) -> DecodeError {
        let expected = model.expected(state);
        let el = self.last_closed();
        let mut e = self
            .error(Rule::MissingElement, format!("<{el}> ends before its required element {}", describe(&expected)));
        e.path = self.path_with_last();
        if let [one] = expected.as_slice()
            && one.ns != WILDCARD
        {
            e.path.push('/');
            e.path.push_str(one.local);
        }
        e
    }

    /// The error for a mapping rule that requires one of several elements.
    pub fn none_of(&self, names: &[&str]) -> DecodeError {
        let el = self.last_closed();
        let mut e =
            self.error(Rule::NoTables, format!("<{el}> holds none of {names:?}; at least one of them is required"));
        e.path = self.path_with_last();
        e
    }

    /// The error for an element or type the schema declares abstract.
    pub fn abstract_used(&self, what: &str) -> DecodeError {
        let el = self.qname();
        self.error(Rule::Abstract, format!("<{el}> uses {what}, which is abstract"))
    }

    fn namespace_name(&self, ns: u16) -> String {
        if ns == NS_OTHER {
            return "(a namespace the schema does not know)".into();
        }
        self.namespaces.get(ns as usize).copied().unwrap_or("").to_string()
    }
}

/// How [`Decoder::next_leaf`] may read a symbol of a content model (the generated code
/// gives one per symbol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// Not in one step: its events are read.
    No,
    /// An element whose arm only reads its text, under a name no identity constraint of
    /// the schema selects, reads or watches.
    Plain,
    /// Such an element under a name that ends some identity constraint's path (or any
    /// name, when a path ends in `*`): read in one step unless an open scope notices it.
    Watched,
}

/// Values whose validity depends on the rest of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lexical {
    Plain,
    /// xs:QName, xs:NOTATION: the prefix must be bound where the value is.
    QName,
    /// xs:ID: unique in the document.
    Id,
    /// xs:IDREF / xs:IDREFS: each names an ID of the document.
    IdRef,
    IdRefs,
}

/// Checks (and records) a value of kind `lex` (not `Plain`: nothing to check).
#[inline(never)]
fn document_lexical(
    lex: Lexical,
    v: &str,
    bindings: &[Binding],
    strings: &[u8],
    identity: &mut Identity,
    offset: u64,
) -> Result<(), Invalid> {
    match lex {
        Lexical::Plain => Ok(()),
        Lexical::QName => match v.split_once(':') {
            Some((p, _)) if !bindings.iter().any(|b| &strings[b.prefix.clone()] == p.as_bytes()) => Err(Invalid::new(
                Rule::InvalidValue,
                format!("{v:?}: the prefix {p:?} is not bound to a namespace here"),
            )),
            _ => Ok(()),
        },
        Lexical::Id => identity.id(v, offset).map_err(|e| Invalid::new(e.rule, e.message)),
        Lexical::IdRef => {
            identity.idref(v, offset);
            Ok(())
        }
        Lexical::IdRefs => {
            for item in v.split_whitespace() {
                identity.idref(item, offset);
            }
            Ok(())
        }
    }
}

/// What comes next among an element's children.
#[derive(Debug)]
pub enum Next {
    Child(u16),
    /// Rows of a table decoded elsewhere.
    Run(Run),
    End,
}

/// What one event means to the loop reading it (decided while the event borrows the source).
enum Step {
    More,
    BadEnd(String),
    Open(bool),
    End,
    Child(String),
    Text,
    BadUtf8,
    /// A processing instruction whose target is not a Name or is `xml`.
    BadPi,
    /// `]]>` in character data.
    CdataEnd,
    BadRef(String),
    Eof,
    Doctype,
    Markup,
}

/// An end tag: it must close the current element (in a segment, the frame standing
/// for the elements around it accepts any end tag: the stitched decode checks it).
#[inline]
fn end_step(frames: &[Frame], names: &[u8], name: &[u8]) -> Step {
    match frames.last() {
        Some(f) if f.name.is_empty() || same_bytes(&names[f.name.clone()], name) => Step::End,
        _ => bad_end(name),
    }
}

#[cold]
#[inline(never)]
fn bad_end(name: &[u8]) -> Step {
    Step::BadEnd(String::from_utf8_lossy(name).into_owned())
}

fn text_step(r: Result<(), Step>) -> Step {
    r.err().unwrap_or(Step::More)
}

fn pi_step(pi: &[u8]) -> Step {
    if pi_target_ok(pi) { Step::More } else { Step::BadPi }
}

/// Character data between child elements: kept for mixed content, else only whitespace.
fn between_children(mixed: Option<&mut String>, t: &[u8]) -> Step {
    match mixed {
        Some(m) => text_step(push_text(m, t)),
        None if is_blank(t) => Step::More,
        None => match checked_text(t) {
            Err(bad) => bad,
            Ok(_) => Step::Text,
        },
    }
}

/// Puts the name of an element that starts into `names`, after its parent's (over the
/// bytes of elements closed since), and counts it among its parent's children; returns
/// where the name starts and the element's position among the consecutive siblings of
/// its name (1-based).
#[inline]
fn place_name(names: &mut Vec<u8>, frames: &mut [Frame], last_closed: &Closed, name: &[u8]) -> (usize, u32) {
    let (start, index) = number(frames, names, last_closed, name);
    names.truncate(start);
    names.extend_from_slice(name);
    (start, index)
}

/// Counts the element named `name` that starts among its parent's children; returns
/// where its name starts in `names` (after its parent's) and its position among the
/// consecutive siblings of its name (1-based).
#[inline(always)]
fn number(frames: &mut [Frame], names: &[u8], last_closed: &Closed, name: &[u8]) -> (usize, u32) {
    let start = frames.last().map_or(0, |f| f.name.end);
    // The previous sibling, if any, is the element that closed last: its name starts
    // where this one's does.
    let same = last_closed.start() == start && same_bytes(last_closed.name(names), name);
    let index = match frames.last_mut() {
        Some(parent) => {
            parent.child_count = if parent.child_count > 0 && same { parent.child_count + 1 } else { 1 };
            parent.child_count
        }
        None => 1,
    };
    (start, index)
}

/// The element that ended last, as sibling numbers and error paths need it.
#[derive(Clone, Debug)]
enum Closed {
    /// Its qualified name: a range of `names`, which keeps the bytes of popped frames
    /// until the next element opens.
    Named(Range<usize>),
    /// A leaf [`Decoder::next_leaf`] read: its name as the schema has it (not copied
    /// into `names`, where it would have started at `start`).
    Leaf { start: usize, name: &'static [u8] },
}

impl Closed {
    /// None: no element ended since the current one's text began.
    const NONE: Closed = Closed::Named(0..0);

    fn start(&self) -> usize {
        match self {
            Closed::Named(r) => r.start,
            Closed::Leaf { start, .. } => *start,
        }
    }

    fn name<'a>(&'a self, names: &'a [u8]) -> &'a [u8] {
        match self {
            Closed::Named(r) => names.get(r.clone()).unwrap_or_default(),
            Closed::Leaf { name, .. } => name,
        }
    }
}

/// The name and value ranges of the attributes in a start tag's `content` after its
/// name (`from` bytes), into `raw`: what quick-xml's attribute iterator (without its
/// checks) reads, step by step the same way. None where that iterator reports an error
/// (the caller then runs it, for that error).
fn attribute_ranges(content: &[u8], from: usize, raw: &mut Vec<(Range<usize>, Range<usize>)>) -> Option<()> {
    let blank = |b: u8| matches!(b, b' ' | b'\r' | b'\n' | b'\t');
    let skip = |mut i: usize| {
        while content.get(i).is_some_and(|&b| blank(b)) {
            i += 1;
        }
        i
    };
    let mut i = skip(from);
    while i < content.len() {
        // The name: its first byte, then up to `=` or whitespace.
        let key = i;
        i += 1;
        while content.get(i).is_some_and(|&b| b != b'=' && !blank(b)) {
            i += 1;
        }
        let key = key..i;
        i = skip(i);
        if content.get(i) != Some(&b'=') {
            return None;
        }
        i = skip(i + 1);
        let quote = *content.get(i).filter(|&&q| q == b'"' || q == b'\'')?;
        let value = i + 1;
        let end = value + memchr::memchr(quote, content.get(value..)?)?;
        raw.push((key, value..end));
        i = skip(end + 1);
    }
    Some(())
}

/// Keeps a start tag's content (name and attributes) in `tag`, the name its first
/// `name` bytes.
fn keep_tag(tag: &mut Vec<u8>, name_len: &mut usize, content: &[u8], name: usize) {
    tag.clear();
    tag.extend_from_slice(content);
    *name_len = name;
}

/// [`keep_tag`] for a start event.
fn keep_start(tag: &mut Vec<u8>, name_len: &mut usize, e: &BytesStart<'_>) {
    keep_tag(tag, name_len, e, e.name().as_ref().len());
}

/// Appends an event's markup to the capture buffer.
fn capture_event(capture: &mut Vec<u8>, ev: &Event<'_>) {
    let mut put = |open: &[u8], b: &[u8], close: &[u8]| {
        capture.extend_from_slice(open);
        capture.extend_from_slice(b);
        capture.extend_from_slice(close);
    };
    match ev {
        Event::Start(e) => put(b"<", e, b">"),
        Event::Empty(e) => put(b"<", e, b"/>"),
        Event::End(e) => put(b"</", e.name().as_ref(), b">"),
        Event::Text(t) => put(b"", t, b""),
        Event::CData(t) => put(b"<![CDATA[", t, b"]]>"),
        Event::Comment(t) => put(b"<!--", t, b"-->"),
        Event::PI(t) => put(b"<?", t, b"?>"),
        Event::GeneralRef(r) => put(b"&", r, b";"),
        _ => {}
    }
}

fn describe(symbols: &[Symbol]) -> String {
    match symbols {
        [] => "no element".into(),
        [one] => one.describe(),
        many => {
            let mut s: Vec<String> = many.iter().map(Symbol::describe).collect();
            let last = s.pop().unwrap_or_default();
            format!("{} or {last}", s.join(", "))
        }
    }
}

/// Resolves a predefined entity or character reference.
fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    match &**r {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        _ => r.resolve_char_ref().ok().flatten().filter(|&c| crate::utf8::is_xml_char(c)),
    }
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The rules of Namespaces in XML 1.0 §3 for a declaration of `prefix` (empty: the
/// default namespace) as `uri`.
fn check_binding(prefix: &[u8], uri: &str) -> Result<(), String> {
    let p = String::from_utf8_lossy(prefix);
    if !prefix.is_empty() && !crate::names::is_ncname(prefix) {
        return Err(format!("{p:?} is not a valid namespace prefix"));
    }
    match (prefix, uri) {
        (b"xml", XML_NS) => Ok(()),
        (b"xml", _) => Err(format!("the prefix xml may only be bound to {XML_NS}")),
        (b"xmlns", _) => Err("the prefix xmlns must not be declared".into()),
        (_, XML_NS) => Err(format!("{XML_NS} may only be bound to the prefix xml")),
        (_, XMLNS_NS) => Err(format!("{XMLNS_NS} must not be declared")),
        _ => Ok(()),
    }
}

/// The XML declaration's pseudo-attributes (XML 1.0 §2.8): `version` 1.x first, then
/// an optional `encoding` name, then an optional `standalone` yes or no, nothing else.
#[cold]
fn check_declaration(d: &quick_xml::events::BytesDecl<'_>) -> Result<(), String> {
    static DECL: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let re = DECL.get_or_init(|| {
        let (s, eq) = ("[ \\t\\r\\n]", "[ \\t\\r\\n]*=[ \\t\\r\\n]*");
        let q = |v: &str| format!("(?:\"{v}\"|'{v}')");
        regex::bytes::Regex::new(&format!(
            "^xml{s}+version{eq}{}(?:{s}+encoding{eq}{})?(?:{s}+standalone{eq}{})?{s}*$",
            q("1\\.[0-9]+"),
            q("[A-Za-z][A-Za-z0-9._-]*"),
            q("(?:yes|no)")
        ))
        .expect("a valid pattern")
    });
    if re.is_match(d) {
        Ok(())
    } else {
        Err(format!(
            "<?{}?> is not version=\"1.x\" followed by optional encoding and standalone=\"yes|no\"",
            String::from_utf8_lossy(d)
        ))
    }
}

/// An attribute value as written: no `<`, and every reference defined and naming an
/// XML character.
#[cold]
fn check_attribute_value(raw: &[u8]) -> Result<(), String> {
    if memchr::memchr(b'<', raw).is_some() {
        return Err("'<' is not allowed in an attribute value (write &lt;)".into());
    }
    let text = String::from_utf8_lossy(raw);
    let expanded = quick_xml::escape::unescape(&text).map_err(|e| format!("bad reference: {e}"))?;
    match expanded.chars().find(|&c| !crate::utf8::is_xml_char(c)) {
        Some(c) => Err(format!("a reference to U+{:04X}, which is not an XML character", c as u32)),
        None => Ok(()),
    }
}

/// A processing instruction's target: a Name without colons (Namespaces in XML 1.0
/// §7), and not `xml` in any case.
fn pi_target_ok(pi: &[u8]) -> bool {
    let end = pi.iter().position(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')).unwrap_or(pi.len());
    let target = &pi[..end];
    crate::names::is_ncname(target) && !target.eq_ignore_ascii_case(b"xml")
}

/// `raw` as text when none of its bytes needs care (see [`Plain`]). Texts are short, and
/// outside non-Latin scripts rarely hold such a byte: a loop without branches is cheaper
/// than the checks and searches it spares.
#[inline]
fn plain_text(raw: &[u8]) -> Option<&str> {
    Plain::new(raw).map(Plain::as_str)
}

/// Character data as text: UTF-8, without `]]>` (XML 1.0 §2.4).
fn checked_text(raw: &[u8]) -> Result<&str, Step> {
    match plain_text(raw) {
        // ASCII without `>`: no `]]>`.
        Some(s) => Ok(s),
        None => careful_text(raw),
    }
}

#[cold]
#[inline(never)]
fn careful_text(raw: &[u8]) -> Result<&str, Step> {
    let s = simdutf8::basic::from_utf8(raw).map_err(|_| Step::BadUtf8)?;
    if memchr::memchr_iter(b'>', raw).any(|i| i >= 2 && &raw[i - 2..i] == b"]]") {
        return Err(Step::CdataEnd);
    }
    Ok(s)
}

/// Appends raw text, normalizing line ends (`\r\n` and lone `\r` → `\n`) as XML requires.
#[inline(always)]
fn push_text(dst: &mut String, raw: &[u8]) -> Result<(), Step> {
    match plain_text(raw) {
        Some(s) => {
            dst.push_str(s);
            Ok(())
        }
        None => push_careful_text(dst, raw),
    }
}

/// A leaf's text read in one step, appended to `dst`: plain text as it is, other text
/// checked and normalized ([`push_careful_text`]). Inlined into its two callers: a call
/// per leaf measured 58 M instructions on 100 MB.
#[inline(always)]
fn push_leaf_text(dst: &mut String, text: Text<'_>) -> Result<(), Step> {
    match text {
        Text::Plain(p) => {
            dst.push_str(p.as_str());
            Ok(())
        }
        Text::Raw(raw) => push_careful_text(dst, raw),
    }
}

#[cold]
#[inline(never)]
fn push_careful_text(dst: &mut String, raw: &[u8]) -> Result<(), Step> {
    let s = careful_text(raw)?;
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
    use crate::events::Borrowed;

    const NS: &[&str] =
        &["", "http://www.w3.org/XML/1998/namespace", "http://www.w3.org/2001/XMLSchema-instance", "urn:a"];

    #[test]
    fn attributes_are_read_in_one_pass_as_quick_xml_reads_them() {
        // Random start-tag contents (name, then bytes that make and break attributes):
        // where attribute_ranges reads them, quick-xml's iterator (without its checks)
        // gives the same names and values and no error; where it does not, an error.
        let alphabet: &[u8] = b" \t\n\r==\"\"''abc:x<&/>";
        let mut rng = crate::value::test_util::Rng(0x6a09_e667_f3bc_c908_u64);
        let mut next = || rng.next();
        let (mut read, mut errors) = (0, 0);
        for _ in 0..200_000 {
            let mut content = b"e".to_vec();
            for _ in 0..(next() % 4) {
                // Mostly well-formed attributes, with random bytes between and inside.
                let spaces = b"  \n\t"[..(next() % 5) as usize].to_vec();
                let q = if next() % 2 == 0 { b'"' } else { b'\'' };
                let mut a = spaces;
                a.extend_from_slice(b"k");
                a.extend((0..next() % 3).map(|_| b"ab:"[(next() % 3) as usize]));
                a.extend_from_slice([&b"="[..], b" =", b"= ", b"\n=\t"][(next() % 4) as usize]);
                a.push(q);
                a.extend((0..next() % 4).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]));
                a.push(q);
                content.extend_from_slice(&a);
            }
            for _ in 0..(next() % 3) {
                let at = (next() as usize) % (content.len() + 1);
                content.insert(at, alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            let mut raw = vec![];
            let ours = attribute_ranges(&content, 1, &mut raw);
            let text = String::from_utf8(content.clone()).unwrap_or_default();
            let mut attrs = Attributes::new(&text, 1);
            attrs.with_checks(false);
            let base = text.as_ptr() as usize;
            let theirs: Result<Vec<_>, _> = attrs
                .map(|a| {
                    a.map(|a| {
                        let k = a.key.as_ref().as_ptr() as usize - base;
                        let v = a.value.as_ptr() as usize - base;
                        (k..k + a.key.as_ref().len(), v..v + a.value.len())
                    })
                })
                .collect();
            match ours {
                Some(()) => {
                    assert_eq!(theirs.as_ref().ok(), Some(&raw), "{text:?}");
                    read += 1;
                }
                None => {
                    assert!(theirs.is_err(), "{text:?}: quick-xml reads {theirs:?}");
                    errors += 1;
                }
            }
        }
        // The stream is fixed: both cases are well represented.
        assert_eq!((read, errors), (89_017, 110_983));
    }

    #[test]
    fn short_byte_strings_compare_as_slices_do() {
        let words: Vec<Vec<u8>> = (0..=20usize)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
                let mut v = vec![base.clone()];
                for i in 0..n {
                    let mut w = base.clone();
                    w[i] ^= 0x20;
                    v.push(w);
                }
                v
            })
            .collect();
        for a in &words {
            for b in &words {
                assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn colons_are_found_eight_bytes_at_a_time() {
        for name in ["a", "a:b", "abcdefg:h", "abcdefgh:i", "abcdefghijklmnop:q", "abcdefghijklmnopq", ":", "x::y", ""]
        {
            let want = name.bytes().position(|b| b == b':');
            assert_eq!(colon_in(name.as_bytes()), want, "{name}");
        }
        // Every length and position (whole words, then the bytes after them), with a byte
        // just above or below ':' next to it (the borrow of the zero-byte test).
        for len in 0..20 {
            assert_eq!(colon_in(&vec![b';'; len]), None, "{len}");
            for k in 0..len {
                let mut n = vec![b';'; len];
                n[k] = b':';
                if k > 0 {
                    n[k - 1] = b'9';
                }
                assert_eq!(colon_in(&n), Some(k), "{len} {k}");
                n[len - 1] = b':';
                assert_eq!(colon_in(&n), Some(k), "{len} {k}: the first colon");
            }
        }
    }

    #[test]
    fn text_that_needs_care_is_found_in_any_position() {
        for len in 0..20 {
            let plain = vec![b'a'; len];
            assert_eq!(plain_text(&plain), Some("a".repeat(len).as_str()));
            for k in 0..len {
                for b in [b'>', b'\r', 0x80, 0xE6, 0xFF] {
                    let mut t = plain.clone();
                    t[k] = b;
                    assert_eq!(plain_text(&t), None, "{len} {k} {b}");
                }
                // Neighbours of the bytes looked for are not them.
                for b in [b'=', b'?', b'\x0c', b'\x0e', 0x7F, b'\n', b'\t'] {
                    let mut t = plain.clone();
                    t[k] = b;
                    assert!(plain_text(&t).is_some(), "{len} {k} {b}");
                }
            }
        }
    }

    #[test]
    fn namespaces_resolve_by_uri_not_prefix() {
        for doc in ["<r xmlns='urn:a'><c>1</c></r>", "<p:r xmlns:p='urn:a'><p:c>1</p:c></p:r>"] {
            let mut src = Borrowed::new(doc.as_bytes());
            let mut d = Decoder::new(&mut src, NS);
            assert_eq!(d.root().unwrap(), 3);
            assert_eq!(d.local(), b"r");
            assert_eq!(d.next_child().unwrap(), Some(3));
            assert_eq!(d.local(), b"c");
            let v = d.text(Ws::Collapse, |v| Ok(v.to_string())).unwrap();
            assert_eq!(v, "1");
            assert_eq!(d.next_child().unwrap(), None);
        }
        let mut src = Borrowed::new(b"<q:r/>");
        let mut d = Decoder::new(&mut src, NS);
        assert_eq!(d.root().unwrap_err().rule, Rule::NotWellFormed);
    }

    #[test]
    fn names_are_checked_in_skipped_content_and_where_nothing_matches() {
        // Skipped content: every element name is checked as it opens.
        for (doc, ok) in [("<r><a><b-1/><c.d>x</c.d></a></r>", true), ("<r><a><ok/><1b/></a></r>", false)] {
            let mut src = Borrowed::new(doc.as_bytes());
            let mut d = Decoder::new(&mut src, NS);
            d.root().unwrap();
            assert_eq!(d.next_child().unwrap(), Some(NS_NONE));
            let r = d.skip();
            assert_eq!(r.is_ok(), ok, "{doc}: {r:?}");
            if let Err(e) = r {
                assert_eq!(e.rule, Rule::NotWellFormed, "{doc}");
            }
        }
        // An element no name of the schema matched: its name comes first.
        let mut src = Borrowed::new(b"<r><x.></x.></r>");
        let mut d = Decoder::new(&mut src, NS);
        d.root().unwrap();
        d.next_child().unwrap();
        assert!(d.name_error().is_none());
        let mut src = Borrowed::new(b"<r><-x></-x></r>");
        let mut d = Decoder::new(&mut src, NS);
        d.root().unwrap();
        d.next_child().unwrap();
        assert_eq!(d.name_error().map(|e| e.rule), Some(Rule::NotWellFormed));
    }

    #[test]
    fn an_attribute_written_twice_is_not_well_formed() {
        for (doc, ok) in
            [("<r a='1' b='2' c='3'/>", true), ("<r a='1' b='2' a='3'/>", false), ("<r a='1' a='1'/>", false)]
        {
            let mut src = Borrowed::new(doc.as_bytes());
            let mut d = Decoder::new(&mut src, NS);
            match d.root() {
                Ok(_) => assert!(ok, "{doc}"),
                Err(e) => {
                    assert!(!ok, "{doc}: {e:?}");
                    assert_eq!(e.rule, Rule::NotWellFormed, "{doc}");
                    assert!(e.message.contains("attribute a appears twice"), "{doc}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn attributes_are_normalized_then_unescaped() {
        let doc = "<r a=\"x\r\ny\tz\rw&#10;&amp;v\" xmlns:q=\"u\" xsi:nil='true' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'/>";
        let mut src = Borrowed::new(doc.as_bytes());
        let mut d = Decoder::new(&mut src, NS);
        d.root().unwrap();
        assert!(d.nil());
        assert_eq!(d.next_attribute(), Some(NS_NONE));
        assert_eq!(d.attr_local(), b"a");
        let v = d.attr_value(Ws::Preserve, |v| Ok(v.to_string())).unwrap();
        assert_eq!(v, "x y z w\n&v");
        assert_eq!(d.next_attribute(), None);
    }

    #[test]
    fn capture_adds_the_declarations_in_scope() {
        // The root's first child captured; then the root must end.
        let captured = |doc: &str| {
            let mut src = Borrowed::new(doc.as_bytes());
            let mut d = Decoder::new(&mut src, NS);
            d.root().unwrap();
            d.next_child().unwrap();
            d.begin_capture();
            d.skip().unwrap();
            let text = d.end_capture().to_string();
            assert_eq!(d.next_child().unwrap(), None, "{doc}");
            text
        };
        assert_eq!(
            captured("<r xmlns='urn:a' xmlns:x='urn:x'><x:e k='1'><f>t &amp; u</f></x:e></r>"),
            "<x:e k='1' xmlns:x=\"urn:x\" xmlns=\"urn:a\"><f>t &amp; u</f></x:e>"
        );
        // A namespace name with characters to escape in an attribute value, and non-ASCII.
        assert_eq!(
            captured("<r xmlns:x='urn:x?a=1&amp;b=&quot;2&quot;&lt;ü'><x:e/></r>"),
            "<x:e xmlns:x=\"urn:x?a=1&amp;b=&quot;2&quot;&lt;ü\"/>"
        );
    }
}
