//! The raw event-scan ceiling (bench/run.sh, case f): how fast bare quick-xml reads a
//! file's events when every core scans a part of it, with nothing else done.
//!
//! `cargo run --release --example scan_ceiling -- FILE [--threads N]`
//!
//! Reads FILE into memory (not timed), cuts it into N byte ranges (default: one per
//! core), each cut moved forward to the next line start between two tags (a line that
//! ends with `>`, the next one beginning with `<` after its indentation), and runs one
//! `quick_xml::Reader` over each range on its own thread: a `read_event`
//! loop over the byte slice that counts events and allocates nothing (events borrow
//! from the input). The reader settings are the decoder's (`xml2bq_core` events:
//! end names not matched, unmatched ends allowed since a range starts mid-document,
//! comments checked, empty elements not expanded, text not trimmed), the quick-xml
//! version is the repository's. Prints the scan's wall time and MB/s (file bytes / the
//! time until the last range is done), and a last line `mbps=X` for scripts.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threads" => threads = it.next().and_then(|v| v.parse().ok()).filter(|&n| n > 0).expect("--threads N"),
            _ => file = Some(a.clone()),
        }
    }
    let file = file.expect("usage: scan_ceiling FILE [--threads N]");
    let data = std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    let mut cuts = vec![0usize];
    for i in 1..threads {
        let nominal = (data.len() * i / threads).max(*cuts.last().unwrap());
        cuts.push(cut_after(&data, nominal));
    }
    cuts.push(data.len());
    let start = Instant::now();
    let results: Vec<(usize, u64, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let part = &data[w[0]..w[1]];
                s.spawn(move || {
                    let t = Instant::now();
                    (part.len(), scan(part), t.elapsed().as_secs_f64())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a scan thread panicked")).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let events: u64 = results.iter().map(|r| r.1).sum();
    for (i, (len, ev, t)) in results.iter().enumerate() {
        eprintln!("range {i}: {len} bytes, {ev} events, {t:.3} s, {:.1} MB/s", *len as f64 / 1e6 / t);
    }
    let mbps = data.len() as f64 / 1e6 / secs;
    println!("{file}: {} bytes, {threads} threads, {events} events, {secs:.3} s, {mbps:.1} MB/s", data.len());
    println!("mbps={mbps:.1}");
}

/// The first line start at or after `from` where the line before ends with `>` and the
/// line begins (after spaces or tabs) with `<`: between two tags, outside any text
/// (in files whose text, comments and CDATA sections stay on one line).
fn cut_after(data: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(p) = memchr::memchr(b'\n', &data[at..]) {
        let nl = at + p;
        let starts_tag = data[nl + 1..].iter().find(|b| !matches!(b, b' ' | b'\t')) == Some(&b'<');
        if nl > 0 && data[nl - 1] == b'>' && starts_tag {
            return nl + 1;
        }
        at = nl + 1;
    }
    data.len()
}

/// Counts the events of one range; stops the process on a syntax error.
fn scan(part: &[u8]) -> u64 {
    let mut reader = quick_xml::Reader::from_reader(part);
    let cfg = reader.config_mut();
    cfg.check_end_names = false;
    cfg.allow_unmatched_ends = true;
    cfg.check_comments = true;
    cfg.expand_empty_elements = false;
    cfg.trim_text(false);
    let mut n = 0u64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return n,
            Ok(e) => {
                std::hint::black_box(&e);
                n += 1;
            }
            Err(e) => {
                eprintln!("scan error at byte {} of a range: {e}", reader.buffer_position());
                std::process::exit(1);
            }
        }
    }
}
