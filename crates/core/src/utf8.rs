//! A reader that refuses invalid UTF-8 and the characters XML 1.0 forbids (its Char
//! production, §2.2) as the bytes go by, so a bad byte anywhere (text, names,
//! attributes, comments, PIs, CDATA) makes the file invalid, at a known offset.

use std::fmt;
use std::io::{self, BufRead, Read};

/// Invalid UTF-8 at a byte offset; carried inside an `io::Error` of kind `InvalidData`.
#[derive(Debug)]
pub struct InvalidUtf8 {
    pub offset: u64,
}

impl fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid UTF-8 at byte {}; xml2bq reads UTF-8 only", self.offset)
    }
}

impl std::error::Error for InvalidUtf8 {}

/// A character XML 1.0 does not allow (a C0 control other than tab, LF and CR, or
/// U+FFFE, U+FFFF) at a byte offset; carried inside an `io::Error` of kind `InvalidData`.
#[derive(Debug)]
pub struct ForbiddenChar {
    pub offset: u64,
    pub ch: char,
}

impl fmt::Display for ForbiddenChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "character U+{:04X} at byte {} is not allowed in XML (Char, XML 1.0 §2.2)",
            self.ch as u32, self.offset
        )
    }
}

impl std::error::Error for ForbiddenChar {}

/// A stretch of the input without a `<` longer than the value limit: a text or an
/// attribute value (or a tag) too large to hold; carried inside an `io::Error`.
#[derive(Debug)]
pub struct ValueTooLarge {
    pub offset: u64,
    pub limit: u64,
}

impl fmt::Display for ValueTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "more than {} bytes without markup before byte {}: a value larger than the limit \
             (--max-value-bytes; BigQuery cannot hold it either)",
            self.limit, self.offset
        )
    }
}

impl std::error::Error for ValueTooLarge {}

/// The default limit of one value: BigQuery's largest row, 100 MiB.
pub const MAX_VALUE_BYTES: u64 = 100 << 20;

/// Is `c` a character of XML 1.0's Char production?
#[inline]
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of valid UTF-8 `b` that XML 1.0 forbids, with its offset.
/// (Surrogates cannot occur in UTF-8; U+FFFE and U+FFFF are `EF BF BE`, `EF BF BF`.)
pub fn forbidden_char(b: &[u8]) -> Option<(usize, char)> {
    let mut from = 0;
    while let Some(start) = next_suspect(b, from) {
        let end = (start + CHUNK).min(b.len());
        for i in start..end {
            match b[i] {
                c @ 0..=0x1F if !matches!(c, b'\t' | b'\n' | b'\r') => return Some((i, char::from(c))),
                0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                    let ch = if b[i + 2] == 0xBE { '\u{FFFE}' } else { '\u{FFFF}' };
                    return Some((i, ch));
                }
                _ => {}
            }
        }
        from = end;
    }
    None
}

/// Bytes checked at once by [`next_suspect`].
const CHUNK: usize = 64;

/// Where the first chunk of `b[from..]` starts that holds a control character other
/// than tab, LF and CR, or an `EF` byte (which starts U+FFFE and U+FFFF): almost every
/// chunk holds neither. With AVX2 where the CPU has it: twice the bytes per instruction.
fn next_suspect(b: &[u8], from: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the one requirement of calling a `#[target_feature]` function is that
        // the CPU has the features it enables; `is_x86_feature_detected!` just said it
        // has AVX2. (The function itself is safe code, compiled for AVX2.)
        #[allow(unsafe_code)]
        return unsafe { next_suspect_avx2(b, from) };
    }
    next_suspect_portable(b, from)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn next_suspect_avx2(b: &[u8], from: usize) -> Option<usize> {
    next_suspect_portable(b, from)
}

#[inline(always)]
fn next_suspect_portable(b: &[u8], from: usize) -> Option<usize> {
    // Branch-free over each chunk (`&` and `|`, not `&&`): the loop is vectorized.
    let suspect = |chunk: &[u8]| {
        chunk.iter().fold(false, |s, &c| s | ((c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r')) | (c == 0xEF))
    };
    b.get(from..)?.chunks(CHUNK).position(suspect).map(|k| from + k * CHUNK)
}

/// Checks that `b` is UTF-8 made of XML characters; the error says where it is not
/// (an `io::Error` of kind `InvalidData` carrying [`InvalidUtf8`] or [`ForbiddenChar`]).
pub fn check_xml_text(b: &[u8], base: u64) -> io::Result<()> {
    if simdutf8::basic::from_utf8(b).is_err() {
        let at = simdutf8::compat::from_utf8(b).err().map_or(0, |e| e.valid_up_to());
        return Err(invalid(base + at as u64));
    }
    match forbidden_char(b) {
        Some((i, ch)) => Err(forbidden(base + i as u64, ch)),
        None => Ok(()),
    }
}

/// A buffered reader whose every byte handed out is valid UTF-8 (it replaces
/// `BufReader`). A sequence split across reads is completed by the next read before it
/// is handed out. A byte-order mark is handed out too: the parser drops one at the
/// start (a second one is a character, out of place before the XML declaration).
pub struct Utf8Reader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// `buf[pos..good]` is checked and not yet consumed; `buf[good..end]` is an
    /// incomplete sequence waiting for its next bytes.
    pos: usize,
    good: usize,
    end: usize,
    /// Offset in the input of `buf[0]`.
    base: u64,
    /// Bytes handed out since the last `<`, and the most allowed (a value's size bound:
    /// checked here, before the parser buffers the value whole).
    since_markup: u64,
    max_run: u64,
}

impl<R: Read> Utf8Reader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_capacity(256 * 1024, inner)
    }

    pub fn with_capacity(cap: usize, inner: R) -> Self {
        Utf8Reader {
            inner,
            buf: vec![0; cap.max(8)].into_boxed_slice(),
            pos: 0,
            good: 0,
            end: 0,
            base: 0,
            since_markup: 0,
            max_run: MAX_VALUE_BYTES,
        }
    }

    /// Refuses input with more than `limit` bytes between two `<`: the bound of one
    /// text or attribute value.
    pub fn with_max_value_bytes(mut self, limit: u64) -> Self {
        self.max_run = limit;
        self
    }
}

impl<R: Read> BufRead for Utf8Reader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.good {
            // Keep the incomplete tail, read more behind it.
            let tail = self.end - self.good;
            self.base += self.good as u64;
            self.buf.copy_within(self.good..self.end, 0);
            // Shifted before anything can fail: a call after an error starts from here
            // and reports the same error at the same offset.
            (self.pos, self.good, self.end) = (0, 0, tail);
            let (mut n, mut got) = (tail, 1);
            while got > 0 && n < 4 {
                got = self.inner.read(&mut self.buf[n..])?;
                n += got;
                self.end = n;
            }
            // The fast check passes almost always; the compat one locates the problem.
            let good = if simdutf8::basic::from_utf8(&self.buf[..n]).is_ok() {
                n
            } else {
                match simdutf8::compat::from_utf8(&self.buf[..n]) {
                    Ok(_) => n,
                    Err(e) if e.error_len().is_none() && got > 0 => e.valid_up_to(),
                    Err(e) => return Err(invalid(self.base + e.valid_up_to() as u64)),
                }
            };
            if let Some((i, ch)) = forbidden_char(&self.buf[..good]) {
                return Err(forbidden(self.base + i as u64, ch));
            }
            let fresh = &self.buf[..good];
            let run = match (memchr::memchr(b'<', fresh), memchr::memrchr(b'<', fresh)) {
                (Some(first), Some(last)) => {
                    // A run inside one buffer is shorter than the buffer (256 KiB).
                    let leading = self.since_markup + first as u64;
                    self.since_markup = (good - last - 1) as u64;
                    leading.max(self.since_markup)
                }
                _ => {
                    self.since_markup += good as u64;
                    self.since_markup
                }
            };
            if run > self.max_run {
                let e = ValueTooLarge { offset: self.base + good as u64, limit: self.max_run };
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            (self.pos, self.good, self.end) = (0, good, n);
            if good == 0 && n > 0 {
                return self.fill_buf();
            }
        }
        Ok(&self.buf[self.pos..self.good])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.good);
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

fn invalid(offset: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, InvalidUtf8 { offset })
}

fn forbidden(offset: u64, ch: char) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, ForbiddenChar { offset, ch })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one byte at a time from its inner slice, to split every sequence.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn passes_split_sequences_and_the_bom() {
        let text = "\u{FEFF}<a>日本語 ✓ ok</a>";
        let mut out = String::new();
        Utf8Reader::with_capacity(8, Trickle(text.as_bytes())).read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn refuses_characters_xml_forbids_with_offset() {
        for (doc, at, ch) in [
            (&b"<a>ok\x01no</a>"[..], 5, '\u{1}'),
            (b"<a x='\x00'/>", 6, '\0'),
            (b"<a><!-- \x1F --></a>", 8, '\u{1F}'),
            (b"<a>\xEF\xBF\xBE</a>", 3, '\u{FFFE}'),
            (b"<a>\xEF\xBF\xBF</a>", 3, '\u{FFFF}'),
        ] {
            let mut v = Vec::new();
            let e = Utf8Reader::with_capacity(8, Trickle(doc)).read_to_end(&mut v).unwrap_err();
            let bad = e.get_ref().unwrap().downcast_ref::<ForbiddenChar>().unwrap();
            assert_eq!((bad.offset, bad.ch), (at, ch), "{doc:?}");
            assert_eq!(forbidden_char(doc), Some((at as usize, ch)));
        }
        let long = format!("{}\u{1}", "x".repeat(200));
        assert_eq!(forbidden_char(long.as_bytes()), Some((200, '\u{1}')));
        // At every offset of three chunks, behind chunks that only look suspect (`EF`
        // of U+FF21, which XML allows), and with nothing forbidden at all.
        for at in 0..200 {
            for (bad, ch) in [("\u{8}", '\u{8}'), ("\u{FFFF}", '\u{FFFF}')] {
                let mut doc = "\u{FF21}\t\n".repeat(at / 5);
                doc.push_str(&"x".repeat(at - doc.len()));
                let fine = doc.clone() + "\u{FF21}";
                doc.push_str(bad);
                doc.push_str("\u{FF21}y");
                assert_eq!(forbidden_char(doc.as_bytes()), Some((at, ch)), "{at}");
                assert_eq!(forbidden_char(fine.as_bytes()), None, "{at}");
            }
        }
        let fine = "<a>\t\r\n \u{7F} \u{85} \u{FFFD} \u{EFBF} \u{10FFFF} 東京</a>";
        assert_eq!(forbidden_char(fine.as_bytes()), None);
        let mut v = Vec::new();
        Utf8Reader::with_capacity(8, Trickle(fine.as_bytes())).read_to_end(&mut v).unwrap();
        assert!(is_xml_char('\u{10000}') && !is_xml_char('\u{FFFE}') && !is_xml_char('\u{8}'));
    }

    #[test]
    fn refuses_a_run_without_markup_longer_than_the_limit() {
        // The bytes between two `<`: `a>` and the text.
        let doc = format!("<a>{}</a><b>{}</b>", "x".repeat(98), "y".repeat(98));
        let mut v = Vec::new();
        let r = Utf8Reader::with_capacity(16, doc.as_bytes()).with_max_value_bytes(100).read_to_end(&mut v);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(v, doc.as_bytes());
        let doc = format!("<a>{}</a>", "x".repeat(99));
        let e =
            Utf8Reader::with_capacity(16, doc.as_bytes()).with_max_value_bytes(100).read_to_end(&mut v).unwrap_err();
        let big = e.get_ref().unwrap().downcast_ref::<ValueTooLarge>().unwrap();
        assert_eq!(big.limit, 100);
    }

    #[test]
    fn refuses_bad_bytes_with_offset() {
        let mut v = Vec::new();
        let e = Utf8Reader::new(&b"<a>ok\xFFno</a>"[..]).read_to_end(&mut v).unwrap_err();
        let bad = e.get_ref().unwrap().downcast_ref::<InvalidUtf8>().unwrap();
        assert_eq!(bad.offset, 5);
        let e = Utf8Reader::new(&b"<a>\xE6\x97"[..]).read_to_end(&mut v).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // Asked again after an error, in the same buffer and in a later one: the same
        // error at the same offset.
        for (cap, doc, at) in [(256, &b"<a>ok\xFFno</a>"[..], 5), (8, b"<root>ok\xFFno</a>", 8)] {
            let mut r = Utf8Reader::with_capacity(cap, doc);
            let mut offsets = vec![];
            for _ in 0..3 {
                match r.fill_buf() {
                    Ok(b) => {
                        let n = b.len();
                        r.consume(n);
                    }
                    Err(e) => offsets.push(e.get_ref().unwrap().downcast_ref::<InvalidUtf8>().unwrap().offset),
                }
            }
            // (The second document's first buffer, `<root>ok`, is good.)
            let want = if cap == 8 { vec![at; 2] } else { vec![at; 3] };
            assert_eq!(offsets, want, "{doc:?}");
        }
    }
}
