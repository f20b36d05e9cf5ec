//! Which character encoding a document is in, and a reader of its text as UTF-8.
//!
//! The encoding is decided as XML 1.0 Appendix F describes: a byte-order mark
//! (UTF-8, UTF-16LE, UTF-16BE), else the first bytes of `<?xml` in UTF-16 without a
//! mark, else the XML declaration's `encoding` (a WHATWG Encoding Standard label, as
//! encoding_rs knows them), else UTF-8. UTF-8 input passes through untouched (its
//! fast path); any other is decoded to UTF-8 as the bytes stream by, and a byte
//! sequence the encoding does not define stops the read with [`Malformed`].

use encoding_rs::{DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::fmt;
use std::io::{self, Read};

/// How many bytes are read ahead to find the XML declaration.
const HEAD: usize = 1024;

/// An `encoding` the Encoding Standard does not know, or one the bytes contradict;
/// carried inside an `io::Error` of kind `InvalidData`.
#[derive(Debug)]
pub struct Unsupported {
    pub message: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Unsupported {}

/// A byte sequence the declared encoding does not define, at a byte offset of the
/// input; carried inside an `io::Error` of kind `InvalidData`.
#[derive(Debug)]
pub struct Malformed {
    pub offset: u64,
    pub encoding: &'static str,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {} is not a character of the declared encoding {}", self.offset, self.encoding)
    }
}

impl std::error::Error for Malformed {}

/// What the start of a document says about its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub encoding: &'static Encoding,
    /// Declared as US-ASCII: windows-1252 to the Encoding Standard, but a byte over
    /// 0x7F is not ASCII.
    pub ascii_only: bool,
}

impl Sniffed {
    /// UTF-8: the bytes are the text.
    pub fn is_utf8(&self) -> bool {
        self.encoding == UTF_8 && !self.ascii_only
    }
}

fn unsupported(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Unsupported { message })
}

/// The encoding of a document that starts with `head` (its first bytes, up to 1 KiB).
pub fn sniff(head: &[u8]) -> io::Result<Sniffed> {
    let (by_bytes, skip) = match head {
        [0xEF, 0xBB, 0xBF, ..] => (Some(UTF_8), 3),
        [0xFF, 0xFE, ..] => (Some(UTF_16LE), 2),
        [0xFE, 0xFF, ..] => (Some(UTF_16BE), 2),
        [0x3C, 0x00, 0x3F, 0x00, ..] => (Some(UTF_16LE), 0),
        [0x00, 0x3C, 0x00, 0x3F, ..] => (Some(UTF_16BE), 0),
        _ => (None, 0),
    };
    // The declaration, read in the encoding the bytes show (ASCII-compatible otherwise).
    let text = by_bytes.unwrap_or(UTF_8).decode_without_bom_handling(&head[skip..]).0;
    let label = declared_label(&text);
    let declared = match &label {
        None => None,
        Some(l) => Some(Encoding::for_label(l.as_bytes()).ok_or_else(|| {
            unsupported(format!(
                "encoding {l:?} is not one xml2bq knows (the labels of the WHATWG Encoding Standard: \
                 UTF-8, UTF-16, ISO-8859-1, windows-1252, Shift_JIS, …); convert the file to UTF-8 \
                 (e.g. iconv -t UTF-8)"
            ))
        })?),
    };
    let ascii_only = label.as_deref().is_some_and(is_ascii_label);
    let encoding = match (by_bytes, declared) {
        (None, None) => UTF_8,
        (None, Some(e)) if e == UTF_16LE || e == UTF_16BE => {
            return Err(unsupported(format!(
                "the declaration says {} but the file has no UTF-16 byte-order mark and its bytes are not UTF-16",
                label.unwrap_or_default()
            )));
        }
        (None, Some(e)) => e,
        (Some(b), None) => b,
        // `UTF-16` (a label for UTF-16LE) with a big-endian mark is big-endian.
        (Some(b), Some(d)) if b == d || (b == UTF_16BE && d == UTF_16LE) => b,
        (Some(b), Some(_)) => {
            return Err(unsupported(format!(
                "the byte-order mark says {} but the declaration says {}",
                b.name(),
                label.unwrap_or_default()
            )));
        }
    };
    Ok(Sniffed { encoding, ascii_only: ascii_only && encoding == WINDOWS_1252 })
}

/// US-ASCII's labels (the Encoding Standard maps them to windows-1252).
fn is_ascii_label(label: &str) -> bool {
    let l = label.to_ascii_lowercase();
    matches!(
        l.as_str(),
        "ascii" | "us-ascii" | "ansi_x3.4-1968" | "iso-ir-6" | "iso646-us" | "us" | "ibm367" | "cp367" | "csascii"
    )
}

/// The `encoding` of an XML declaration at the start of `text`, if any.
fn declared_label(text: &str) -> Option<String> {
    let decl = text.strip_prefix("<?xml")?;
    if !decl.starts_with([' ', '\t', '\r', '\n']) {
        return None;
    }
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..].trim_start_matches([' ', '\t', '\r', '\n']);
    let rest = rest.strip_prefix('=')?.trim_start_matches([' ', '\t', '\r', '\n']);
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Reads the start of `input`, decides its encoding, and returns a reader of its text
/// in UTF-8 (untouched when it is UTF-8 already) with what was decided.
pub fn utf8_text<'a, R: Read + 'a>(mut input: R) -> io::Result<(Box<dyn Read + 'a>, Sniffed)> {
    let mut head = vec![0u8; HEAD];
    let mut n = 0;
    while n < HEAD {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    let sniffed = sniff(&head)?;
    let whole = io::Cursor::new(head).chain(input);
    if sniffed.is_utf8() {
        return Ok((Box::new(whole), sniffed));
    }
    Ok((Box::new(Transcoder::new(whole, sniffed)), sniffed))
}

/// Decodes a stream in another encoding to UTF-8, refusing bytes it does not define.
struct Transcoder<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    name: &'static str,
    ascii_only: bool,
    input: Box<[u8]>,
    /// `input[start..end]` is read and not yet decoded.
    start: usize,
    end: usize,
    /// Offset in the input of `input[start]`.
    offset: u64,
    eof: bool,
    /// The decoder has seen the end of the input and flushed: every read from now on is
    /// the end (a decoder must not be called after that).
    finished: bool,
    /// `spill_bytes[spill.0..spill.1]`: decoded, not yet handed out.
    spill_bytes: [u8; 4],
    spill: (usize, usize),
}

impl<R: Read> Transcoder<R> {
    fn new(inner: R, s: Sniffed) -> Self {
        Transcoder {
            inner,
            decoder: s.encoding.new_decoder_with_bom_removal(),
            name: if s.ascii_only { "US-ASCII" } else { s.encoding.name() },
            ascii_only: s.ascii_only,
            input: vec![0; 64 << 10].into_boxed_slice(),
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            finished: false,
            spill_bytes: [0; 4],
            spill: (0, 0),
        }
    }

    fn malformed(&self, at: u64) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, Malformed { offset: at, encoding: self.name })
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // A character decoded for a read too small to take it whole, handed out first.
        if self.spill.0 < self.spill.1 {
            let (from, to) = self.spill;
            let k = (to - from).min(out.len());
            out[..k].copy_from_slice(&self.spill_bytes[from..from + k]);
            self.spill.0 += k;
            return Ok(k);
        }
        if self.finished || out.is_empty() {
            return Ok(0);
        }
        // The decoder needs room for one character's UTF-8.
        if out.len() < 4 {
            let mut small = [0u8; 4];
            let n = self.read(&mut small)?;
            let k = n.min(out.len());
            out[..k].copy_from_slice(&small[..k]);
            self.spill_bytes = small;
            self.spill = (k, n);
            return Ok(k);
        }
        loop {
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = self.inner.read(&mut self.input)?;
                self.eof = self.end == 0;
            }
            let chunk = &self.input[self.start..self.end];
            if self.ascii_only
                && let Some(i) = chunk.iter().position(|b| *b > 0x7F)
            {
                return Err(self.malformed(self.offset + i as u64));
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(chunk, out, self.eof);
            if let DecoderResult::Malformed(bad, extra) = result {
                let at = (read as u64).saturating_sub(u64::from(bad) + u64::from(extra));
                return Err(self.malformed(self.offset + at));
            }
            self.start += read;
            self.offset += read as u64;
            self.finished = self.eof && matches!(result, DecoderResult::InputEmpty);
            if written > 0 || self.finished {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> io::Result<String> {
        let (mut r, _) = utf8_text(io::Cursor::new(bytes.to_vec()))?;
        let mut s = String::new();
        r.read_to_string(&mut s)?;
        Ok(s)
    }

    #[test]
    fn declared_and_marked_encodings_become_utf8() {
        let doc = "<?xml version=\"1.0\" encoding=\"ENC\"?><a>Café ÿ</a>";
        let latin1 = encoding_rs::WINDOWS_1252.encode(&doc.replace("ENC", "ISO-8859-1")).0.into_owned();
        assert_eq!(text(&latin1).unwrap(), doc.replace("ENC", "ISO-8859-1"));
        let mut le = vec![0xFF, 0xFE];
        let utf16 = doc.replace("ENC", "UTF-16");
        le.extend(utf16.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(text(&le).unwrap(), utf16);
        let mut be = vec![0xFE, 0xFF];
        be.extend(utf16.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(text(&be).unwrap(), utf16);
        let plain = "<a>ok</a>";
        assert_eq!(text(plain.as_bytes()).unwrap(), plain);
        assert!(sniff(b"<?xml version='1.0' encoding='utf8'?>").unwrap().is_utf8());
    }

    #[test]
    fn reading_on_after_the_end_stays_at_the_end() {
        // Found by the differential fuzz target: a read after the end called the finished
        // decoder again, which panics.
        let (mut r, _) = utf8_text(io::Cursor::new(b"\xFE\xFF\xFF\xFA".to_vec())).unwrap();
        let mut out = vec![];
        r.read_to_end(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\u{FFFA}");
        let mut buf = [0u8; 16];
        for _ in 0..3 {
            assert_eq!(r.read(&mut buf).unwrap(), 0);
            assert_eq!(r.read(&mut buf[..1]).unwrap(), 0);
        }
    }

    #[test]
    fn reads_smaller_than_a_character_lose_nothing() {
        let doc = "<?xml version='1.0' encoding='UTF-16'?><a>東京 😀 é</a>";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(doc.encode_utf16().flat_map(u16::to_le_bytes));
        let (mut r, _) = utf8_text(io::Cursor::new(bytes)).unwrap();
        let mut out = vec![];
        let mut one = [0u8; 1];
        while r.read(&mut one).unwrap() == 1 {
            out.push(one[0]);
        }
        assert_eq!(String::from_utf8(out).unwrap(), doc);
    }

    #[test]
    fn unknown_labels_and_bad_bytes_are_refused() {
        let e = text(b"<?xml version='1.0' encoding='klingon'?><a/>").unwrap_err();
        assert!(e.get_ref().unwrap().is::<Unsupported>(), "{e}");
        let e = text(b"<?xml version='1.0' encoding='us-ascii'?><a>\xE9</a>").unwrap_err();
        let m = e.get_ref().unwrap().downcast_ref::<Malformed>().unwrap();
        assert_eq!((m.offset, m.encoding), (44, "US-ASCII"));
        let e = text(b"<?xml version='1.0' encoding='Shift_JIS'?><a>\x81\x20</a>").unwrap_err();
        assert!(e.get_ref().unwrap().is::<Malformed>(), "{e}");
        let e = text(b"\xEF\xBB\xBF<?xml version='1.0' encoding='ISO-8859-1'?><a/>").unwrap_err();
        assert!(e.get_ref().unwrap().is::<Unsupported>(), "{e}");
        let e = text(b"<?xml version='1.0' encoding='UTF-16'?><a/>").unwrap_err();
        assert!(e.get_ref().unwrap().is::<Unsupported>(), "{e}");
    }
}
