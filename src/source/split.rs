//! Cuts a byte stream into segments that end right after a record's end tag
//! (`</Order>`, `</Customer>`), so that segments can be decoded in parallel.
//!
//! The cut is a guess: `</Order>` inside a comment or CDATA would fool it. The
//! decoders check every guess (see `pipeline::parallel`), and a wrong one only costs
//! a sequential re-read, never a wrong row.

use crate::parse::document::Entry;
use memchr::memmem::{Finder, FinderRev};
use std::io::{self, Read};

/// One segment: bytes, where its decoding starts, and (unless last) which table's
/// record end tag it was cut after.
pub struct Segment {
    pub seq: usize,
    pub bytes: Vec<u8>,
    pub entry: Entry,
    /// The table whose record end tag ends this segment; None for the last segment.
    pub cut_after: Option<usize>,
    /// Per table: the record start tags seen in this segment (a guess, like the cut:
    /// the decoder's exact count must agree) and how many all earlier segments held.
    pub records: Vec<u64>,
    pub records_before: Vec<u64>,
}

/// Counts start tags `<name>`, `<name ...>`, `<name/>` in `bytes`.
fn count_starts(bytes: &[u8], finder: &Finder<'_>) -> u64 {
    finder
        .find_iter(bytes)
        .filter(|&p| matches!(bytes.get(p + finder.needle().len()), Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r')))
        .count() as u64
}

/// Splits a stream into segments of about `target` bytes.
pub struct Splitter<R> {
    input: R,
    target: usize,
    max: usize,
    finders: Vec<(usize, FinderRev<'static>)>,
    starts: Vec<Finder<'static>>,
    before: Vec<u64>,
    buf: Vec<u8>,
    seq: usize,
    entry: Entry,
    done: bool,
    started: bool,
}

/// A segment grew past the limit without a record end tag in it.
#[derive(Debug)]
pub struct NoCut;

impl<R: Read> Splitter<R> {
    /// `records`: the record element names, by table index.
    pub fn new(input: R, records: &[&str], target: usize, max: usize) -> Self {
        let finders = records
            .iter()
            .enumerate()
            .map(|(t, r)| (t, FinderRev::new(format!("</{r}>").as_bytes()).into_owned()))
            .collect();
        let starts = records.iter().map(|r| Finder::new(format!("<{r}").as_bytes()).into_owned()).collect();
        let before = vec![0; records.len()];
        Splitter {
            input,
            target,
            max,
            finders,
            starts,
            before,
            buf: Vec::new(),
            seq: 0,
            entry: Entry::Document,
            done: false,
            started: false,
        }
    }

    /// Makes a segment of `bytes`, counting its record start tags.
    fn segment(&mut self, bytes: Vec<u8>, entry: Entry, cut_after: Option<usize>) -> Segment {
        let records: Vec<u64> = self.starts.iter().map(|f| count_starts(&bytes, f)).collect();
        let records_before = self.before.clone();
        for (b, n) in self.before.iter_mut().zip(&records) {
            *b += n;
        }
        let seq = self.seq;
        self.seq += 1;
        Segment { seq, bytes, entry, cut_after, records, records_before }
    }

    /// The end of the last record end tag in `buf`, and its table. Records are small:
    /// look in the last 64 KiB first, and widen only when nothing is there.
    fn last_record_end(&self) -> Option<(usize, usize)> {
        let mut window = 64 << 10;
        loop {
            let from = self.buf.len().saturating_sub(window);
            let hit = self
                .finders
                .iter()
                .filter_map(|(t, f)| f.rfind(&self.buf[from..]).map(|p| (from + p + f.needle().len(), *t)))
                .max();
            if hit.is_some() || from == 0 {
                return hit;
            }
            // Each window holds the last one, so a tag across its edge is found too.
            window *= 8;
        }
    }

    /// Reads until `buf` holds `want` bytes or the input ends; true at the end.
    fn fill(&mut self, want: usize) -> io::Result<bool> {
        let mut chunk = vec![0u8; (want - self.buf.len().min(want)).clamp(1, 1 << 20)];
        while self.buf.len() < want {
            let room = (want - self.buf.len()).min(chunk.len());
            let n = self.input.read(&mut chunk[..room])?;
            if n == 0 {
                return Ok(true);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        Ok(false)
    }

    /// The next segment, None after the last.
    pub fn next_segment(&mut self) -> io::Result<Result<Option<Segment>, NoCut>> {
        if self.done {
            return Ok(Ok(None));
        }
        let mut want = self.target;
        loop {
            let eof = self.fill(want)?;
            if !self.started {
                self.started = true;
                if self.buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                    self.buf.drain(..3);
                }
            }
            if eof {
                self.done = true;
                let bytes = std::mem::take(&mut self.buf);
                return Ok(Ok(Some(self.segment(bytes, self.entry, None))));
            }
            let cut = self.last_record_end();
            match cut {
                Some((end, t)) => {
                    let rest = self.buf.split_off(end);
                    let bytes = std::mem::replace(&mut self.buf, rest);
                    let entry = std::mem::replace(&mut self.entry, Entry::Container(t));
                    return Ok(Ok(Some(self.segment(bytes, entry, Some(t)))));
                }
                None if self.buf.len() >= self.max => return Ok(Err(NoCut)),
                None => want = self.buf.len() + self.target,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `n` bytes per read, so the splitter sees the input in pieces.
    struct Pieces<'a>(&'a [u8], usize);
    impl Read for Pieces<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn segments_chain_and_join_back_to_the_input() {
        let mut doc = b"\xEF\xBB\xBF<R><A>".to_vec();
        for i in 0..40 {
            doc.extend_from_slice(format!("<a>{i}</a>").as_bytes());
        }
        doc.extend_from_slice(b"</A><B>");
        for i in 0..40 {
            doc.extend_from_slice(format!("<b>{i}</b>").as_bytes());
        }
        doc.extend_from_slice(b"</B></R>");
        for piece in [1, 7, 64, 4096] {
            let mut s = Splitter::new(Pieces(&doc, piece), &["a", "b"], 50, 1 << 20);
            let mut segs = vec![];
            while let Some(seg) = s.next_segment().unwrap().unwrap() {
                segs.push(seg);
            }
            assert!(segs.len() > 5, "{} segments", segs.len());
            assert_eq!(segs[0].entry, Entry::Document);
            for (k, seg) in segs.iter().enumerate() {
                assert_eq!(seg.seq, k);
                match seg.cut_after {
                    Some(t) => {
                        assert!(seg.bytes.ends_with(if t == 0 { b"</a>" } else { b"</b>" }));
                        assert_eq!(segs[k + 1].entry, Entry::Container(t));
                    }
                    None => assert_eq!(k, segs.len() - 1),
                }
            }
            let counts: Vec<u64> = (0..2).map(|t| segs.iter().map(|s| s.records[t]).sum()).collect();
            assert_eq!(counts, vec![40, 40], "every record start counted once");
            let last = segs.last().unwrap();
            assert_eq!((0..2).map(|t| last.records_before[t] + last.records[t]).collect::<Vec<_>>(), vec![40, 40]);
            let joined: Vec<u8> = segs.iter().flat_map(|s| s.bytes.clone()).collect();
            assert_eq!(joined, &doc[3..], "the BOM is dropped, nothing else");
        }
    }

    #[test]
    fn gives_up_without_a_cut() {
        let doc = [b'x'; 100];
        let mut s = Splitter::new(&doc[..], &["a"], 10, 50);
        assert!(s.next_segment().unwrap().is_err());
    }
}
