//! Compressed inputs: `*.xml.gz` (gzip, concatenated members too), `*.xml.zst` and
//! `*.xml.zstd` (zstd, concatenated frames too), and Cloud Storage objects stored with
//! `Content-Encoding: gzip`, decompressed as a stream on a thread of their own.
//!
//! The decompressor runs beside the parser: it reads the stored bytes, inflates them
//! into 256 KiB chunks and hands them over through a queue of four, so at most a few
//! chunks are ever held, whatever the file's size, and decompression overlaps parsing.
//! The thread ends when the stream does, or at its next chunk once the reader and its
//! [`Check`] are dropped (an early dead-letter never leaves it blocked).
//!
//! Compressed data that is cut short or corrupt is the file's fault: the error carries
//! an [`InvalidCompression`] (rule `invalid-compression`), with the compressed byte
//! where it failed and the decompressed bytes delivered before. A failing *read* of the
//! stored bytes (a dropped connection) stays an I/O error: not the file's fault.
//! Corrupt data can inflate into garbage before the decompressor sees that it is
//! corrupt (gzip and zstd check their checksums at the end of a member or frame), so
//! the caller asks [`Check::finish`] after decoding, also when the XML was found
//! invalid: if the compressed data is bad, that is the reason reported.

use std::io::{self, BufReader, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use xml2bq_core::InvalidCompression;

/// Decompressed bytes per chunk handed to the parser.
const CHUNK: usize = 256 << 10;
/// Chunks queued between the decompressor and the parser.
const QUEUE: usize = 4;
/// The decompressor's buffer of stored bytes.
const INPUT_BUFFER: usize = 128 << 10;

/// How an input's stored bytes are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    /// By the file name's last suffix: `.gz` is gzip, `.zst` and `.zstd` zstd (any case).
    pub fn from_name(name: &str) -> Option<Compression> {
        let (_, ext) = name.rsplit_once('.')?;
        if ext.eq_ignore_ascii_case("gz") {
            Some(Compression::Gzip)
        } else if ext.eq_ignore_ascii_case("zst") || ext.eq_ignore_ascii_case("zstd") {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// `gzip` or `zstd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The name without its compression suffix: `a.xml.gz` → `a.xml`; other names as they are.
pub fn strip_suffix(name: &str) -> &str {
    match Compression::from_name(name) {
        Some(_) => name.rsplit_once('.').map_or(name, |(stem, _)| stem),
        None => name,
    }
}

/// A name that a folder (or a `gs://` prefix) is searched for: `*.xml`, `*.xml.gz`,
/// `*.xml.zst`, `*.xml.zstd`, in any case.
pub fn is_input_name(name: &str) -> bool {
    let inner = strip_suffix(name);
    inner.len() > 4 && inner.is_char_boundary(inner.len() - 4) && inner[inner.len() - 4..].eq_ignore_ascii_case(".xml")
}

/// What the decompressor sends: decompressed bytes (`Data(chunk, len)`), then the end,
/// or why it stopped.
enum Msg {
    Data(Vec<u8>, usize),
    End,
    Failed(io::Error),
}

/// How the stream ended, kept so that [`Check::finish`] can say it again.
#[derive(Clone)]
enum Outcome {
    End,
    Invalid(InvalidCompression),
    /// Reading the stored bytes failed (not the file's fault).
    Io(io::ErrorKind, String),
}

impl Outcome {
    fn of(e: &io::Error) -> Outcome {
        match e.get_ref().and_then(|r| r.downcast_ref::<InvalidCompression>()) {
            Some(bad) => Outcome::Invalid(bad.clone()),
            None => Outcome::Io(e.kind(), e.to_string()),
        }
    }

    fn result(&self) -> io::Result<()> {
        match self {
            Outcome::End => Ok(()),
            Outcome::Invalid(bad) => Err(io::Error::new(io::ErrorKind::InvalidData, bad.clone())),
            Outcome::Io(kind, message) => Err(io::Error::new(*kind, message.clone())),
        }
    }
}

/// The consumer's side, shared by the reader and its [`Check`].
struct Queue {
    rx: Receiver<Msg>,
    outcome: Option<Outcome>,
}

impl Queue {
    /// The next message; a decompressor that stopped without saying why (it panicked)
    /// is an I/O error, never a silent end of file.
    fn next(&mut self) -> Msg {
        self.rx.recv().unwrap_or_else(|_| {
            Msg::Failed(io::Error::other("the decompression thread stopped before the end of the stream"))
        })
    }
}

/// The decompressed document, read from the decompressor's thread.
pub struct Decompressed {
    queue: Arc<Mutex<Queue>>,
    /// Spent chunks go back to the decompressor, so a file reuses the same few buffers.
    spent: Sender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    len: usize,
}

/// Says, once the document has been decoded, whether the compressed data was whole and
/// sound: [`Check::finish`].
pub struct Check {
    queue: Arc<Mutex<Queue>>,
}

/// Starts decompressing `stored` (the stored bytes of `uri`) on a thread of its own.
/// Returns the decompressed stream and its [`Check`].
pub fn decompress(stored: Box<dyn Read + Send>, how: Compression, uri: &str) -> io::Result<(Decompressed, Check)> {
    let (tx, rx) = sync_channel(QUEUE);
    let (spent, reuse) = channel();
    let uri = uri.to_string();
    std::thread::Builder::new().name("xml2bq-decompress".into()).spawn(move || pump(stored, how, &uri, &tx, &reuse))?;
    let queue = Arc::new(Mutex::new(Queue { rx, outcome: None }));
    let reader = Decompressed { queue: queue.clone(), spent, cur: Vec::new(), pos: 0, len: 0 };
    Ok((reader, Check { queue }))
}

impl Read for Decompressed {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.len {
                let n = (self.len - self.pos).min(out.len());
                out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(o) = &q.outcome {
                return o.result().map(|()| 0);
            }
            match q.next() {
                Msg::Data(chunk, len) => {
                    let spent = std::mem::replace(&mut self.cur, chunk);
                    if spent.capacity() > 0 {
                        let _ = self.spent.send(spent); // the decompressor may be gone: no matter
                    }
                    (self.pos, self.len) = (0, len);
                }
                Msg::End => {
                    q.outcome = Some(Outcome::End);
                    return Ok(0);
                }
                Msg::Failed(e) => {
                    q.outcome = Some(Outcome::of(&e));
                    return Err(e);
                }
            }
        }
    }
}

impl Check {
    /// Reads what the parser left of the stream, to its end, and says whether the
    /// compressed data was whole and sound: `Err` with an [`InvalidCompression`] inside
    /// when it was not, another `Err` when the stored bytes could not be read.
    pub fn finish(&self) -> io::Result<()> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(o) = &q.outcome {
                return o.result();
            }
            match q.next() {
                Msg::Data(..) => {}
                Msg::End => q.outcome = Some(Outcome::End),
                Msg::Failed(e) => q.outcome = Some(Outcome::of(&e)),
            }
        }
    }
}

/// The stored bytes as the decompressor takes them in: counted, and whether their own
/// reader failed (an I/O error, not the file's fault) or ended.
struct Tap {
    inner: Box<dyn Read + Send>,
    read: u64,
    ended: bool,
    failed: bool,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) if !buf.is_empty() => {
                self.ended = true;
                Ok(0)
            }
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.failed |= e.kind() != io::ErrorKind::Interrupted;
                Err(e)
            }
        }
    }
}

/// The decompressor's thread: decodes `stored` into chunks until the end, an error, or
/// the consumer is gone.
fn pump(stored: Box<dyn Read + Send>, how: Compression, uri: &str, tx: &SyncSender<Msg>, reuse: &Receiver<Vec<u8>>) {
    let input = BufReader::with_capacity(INPUT_BUFFER, Tap { inner: stored, read: 0, ended: false, failed: false });
    match how {
        Compression::Gzip => run(flate2::bufread::MultiGzDecoder::new(input), |d| d.get_ref(), how, uri, tx, reuse),
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(input) {
            Ok(d) => run(d, |d| d.get_ref(), how, uri, tx, reuse),
            Err(e) => {
                let _ = tx.send(Msg::Failed(io::Error::other(format!("cannot start the zstd decoder: {e}"))));
            }
        },
    }
}

fn run<D: Read>(
    mut decoder: D,
    input: impl Fn(&D) -> &BufReader<Tap>,
    how: Compression,
    uri: &str,
    tx: &SyncSender<Msg>,
    reuse: &Receiver<Vec<u8>>,
) {
    let mut produced = 0u64;
    loop {
        let mut chunk = reuse.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
        let mut len = 0;
        // Fill the chunk: fewer, fuller hand-overs.
        let ended = loop {
            if len == chunk.len() {
                break Ok(false);
            }
            match decoder.read(&mut chunk[len..]) {
                Ok(0) => break Ok(true),
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        produced += len as u64;
        if len > 0 && tx.send(Msg::Data(chunk, len)).is_err() {
            return; // the reader and its check are gone
        }
        let msg = match ended {
            Ok(false) => continue,
            Ok(true) if produced == 0 && input(&decoder).get_ref().read == 0 => {
                // An empty file holds no stream at all.
                Msg::Failed(invalid(how, uri, true, 0, 0, "the file is empty".into()))
            }
            Ok(true) => Msg::End,
            Err(e) => {
                let buffered = input(&decoder);
                let tap = buffered.get_ref();
                if tap.failed {
                    Msg::Failed(e) // reading the stored bytes failed: as it is
                } else {
                    let at = tap.read - buffered.buffer().len() as u64;
                    let truncated = tap.ended && e.kind() == io::ErrorKind::UnexpectedEof;
                    Msg::Failed(invalid(how, uri, truncated, at, produced, e.to_string()))
                }
            }
        };
        let _ = tx.send(msg);
        return;
    }
}

fn invalid(how: Compression, uri: &str, truncated: bool, at: u64, produced: u64, detail: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        InvalidCompression {
            uri: uri.to_string(),
            format: how.as_str(),
            truncated,
            compressed_offset: at,
            offset: produced,
            detail,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![];
        for p in parts {
            let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }

    /// Frames with a content checksum, as the `zstd` command writes them (the library
    /// leaves it out by default: then a flipped byte can inflate into other bytes unseen).
    fn zstd(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![];
        for p in parts {
            let mut e = zstd::stream::write::Encoder::new(vec![], 3).unwrap();
            e.include_checksum(true).unwrap();
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }

    /// Decompresses `stored` through the thread: (what was read, the reader's error,
    /// the check's verdict).
    fn run(stored: Vec<u8>, how: Compression) -> (Vec<u8>, Option<io::Error>, io::Result<()>) {
        let (mut r, check) = decompress(Box::new(io::Cursor::new(stored)), how, "file:///t/a.xml.gz").unwrap();
        let mut out = vec![];
        let err = r.read_to_end(&mut out).err();
        (out, err, check.finish())
    }

    fn bad(e: &io::Error) -> &InvalidCompression {
        e.get_ref().and_then(|r| r.downcast_ref::<InvalidCompression>()).unwrap_or_else(|| panic!("not invalid: {e}"))
    }

    /// A document of `n` bytes that compresses to several deflate blocks.
    fn doc(n: usize) -> Vec<u8> {
        let mut s = b"<Root>".to_vec();
        let mut i = 0u64;
        while s.len() < n {
            i = i.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            s.extend(format!("<v>{}</v>\n", i >> 20).as_bytes());
        }
        s.extend(b"</Root>");
        s
    }

    #[test]
    fn names() {
        assert_eq!(Compression::from_name("a.xml.gz"), Some(Compression::Gzip));
        assert_eq!(Compression::from_name("a.XML.GZ"), Some(Compression::Gzip));
        assert_eq!(Compression::from_name("a.xml.zst"), Some(Compression::Zstd));
        assert_eq!(Compression::from_name("a.xml.zstd"), Some(Compression::Zstd));
        assert_eq!(Compression::from_name("a.xml"), None);
        assert_eq!(Compression::from_name("gz"), None);
        assert_eq!(strip_suffix("a.xml.gz"), "a.xml");
        assert_eq!(strip_suffix("a.xml"), "a.xml");
        for yes in ["a.xml", "A.XML", "a.xml.gz", "b.Xml.Zst", "c.xml.zstd"] {
            assert!(is_input_name(yes), "{yes}");
        }
        for no in ["a.gz", "a.xml.bz2", "xml.gz", ".xml", "a.txt", "a.xmlgz", "é.gz"] {
            assert!(!is_input_name(no), "{no}");
        }
    }

    #[test]
    fn round_trips_and_concatenations() {
        let d = doc(1 << 20);
        for how in [Compression::Gzip, Compression::Zstd] {
            let pack = if how == Compression::Gzip { gzip } else { zstd };
            let (out, err, check) = run(pack(&[&d]), how);
            assert!(err.is_none() && check.is_ok(), "{how:?}");
            assert_eq!(out, d);
            // Several members (frames) are one stream, in order.
            let (out, err, check) = run(pack(&[&d[..1000], &d[1000..300_000], &d[300_000..]]), how);
            assert!(err.is_none() && check.is_ok(), "{how:?}");
            assert_eq!(out, d);
        }
    }

    #[test]
    fn every_cut_is_truncated() {
        let d = doc(8_000);
        for how in [Compression::Gzip, Compression::Zstd] {
            let whole = if how == Compression::Gzip { gzip(&[&d]) } else { zstd(&[&d]) };
            for cut in 0..whole.len() {
                let (out, err, check) = run(whole[..cut].to_vec(), how);
                let err = err.unwrap_or_else(|| panic!("{how:?} cut at {cut} of {} read as whole", whole.len()));
                let b = bad(&err);
                assert!(b.truncated, "{how:?} cut at {cut}: {b}");
                assert_eq!(b.compressed_offset, cut as u64, "{how:?} cut at {cut}");
                assert_eq!(b.offset, out.len() as u64);
                assert!(d.starts_with(&out), "{how:?} cut at {cut}: the bytes before the error are the document's");
                assert_eq!(bad(&check.unwrap_err()), b, "the check says it again");
            }
        }
    }

    #[test]
    fn flipped_bytes_are_invalid() {
        let d = doc(60_000);
        for how in [Compression::Gzip, Compression::Zstd] {
            let whole = if how == Compression::Gzip { gzip(&[&d]) } else { zstd(&[&d]) };
            // A hundred places through the data, and each byte of the trailer (checksum).
            let spread = (0..whole.len()).step_by(whole.len() / 100);
            for at in spread.chain(whole.len() - 8..whole.len()) {
                let mut c = whole.clone();
                c[at] ^= 0x5A;
                let (_, err, check) = run(c, how);
                // Every corruption is caught: by the reader, or at the latest by the check.
                let e = check.expect_err(&format!("{how:?}: byte {at} flipped went unnoticed"));
                let b = bad(&e);
                assert!(b.compressed_offset <= whole.len() as u64);
                if let Some(r) = err {
                    assert_eq!(bad(&r), b);
                }
            }
        }
    }

    #[test]
    fn trailing_garbage_and_wrong_format() {
        let d = doc(10_000);
        let mut g = gzip(&[&d]);
        g.extend(b"garbage after the member");
        let (out, err, _) = run(g, Compression::Gzip);
        assert_eq!(out, d);
        assert!(!bad(&err.unwrap()).truncated);
        let (_, err, _) = run(d.clone(), Compression::Gzip);
        assert!(!bad(&err.unwrap()).truncated, "plain XML named .gz");
        let (_, err, _) = run(d, Compression::Zstd);
        assert!(!bad(&err.unwrap()).truncated, "plain XML named .zst");
    }

    /// Stored bytes that cannot be read: an I/O error as it is, not the file's fault.
    #[test]
    fn read_failures_stay_io() {
        struct Failing(io::Cursor<Vec<u8>>);
        impl Read for Failing {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                if self.0.position() > 5000 {
                    return Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection reset"));
                }
                let n = b.len().min(1000);
                self.0.read(&mut b[..n])
            }
        }
        let g = gzip(&[&doc(200_000)]);
        let (mut r, check) =
            decompress(Box::new(Failing(io::Cursor::new(g))), Compression::Gzip, "gs://b/a.xml.gz").unwrap();
        let e = r.read_to_end(&mut vec![]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        assert!(e.get_ref().and_then(|r| r.downcast_ref::<InvalidCompression>()).is_none());
        assert_eq!(check.finish().unwrap_err().kind(), io::ErrorKind::ConnectionReset);
    }

    /// A reader dropped early stops the thread: the source is dropped soon after.
    #[test]
    fn dropping_the_reader_stops_the_thread() {
        /// Endless valid gzip: one member, again and again. `_alive` is dropped with it.
        struct Endless {
            _alive: Arc<()>,
            member: io::Cursor<Vec<u8>>,
        }
        impl Read for Endless {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                if self.member.position() == self.member.get_ref().len() as u64 {
                    self.member.set_position(0);
                }
                self.member.read(b)
            }
        }
        let alive = Arc::new(());
        let member = gzip(&[&[b' '; 1 << 16]]);
        let body: Box<dyn Read + Send> = Box::new(Endless { _alive: alive.clone(), member: io::Cursor::new(member) });
        let (mut r, check) = decompress(body, Compression::Gzip, "file:///z.xml.gz").unwrap();
        let mut buf = vec![0u8; 4 << 20];
        r.read_exact(&mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == b' '));
        drop((r, check));
        let t = std::time::Instant::now();
        while Arc::strong_count(&alive) > 1 {
            assert!(t.elapsed().as_secs() < 10, "the decompression thread still runs");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
