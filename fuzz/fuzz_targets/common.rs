//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (cargo fuzz,
//! nightly) and `tests/fuzz_replay.rs` (a plain stable `cargo test`, which replays
//! `fuzz/corpus/*` and `fuzz/artifacts/*` through exactly this code).
//!
//! Each body takes the fuzzer's bytes and panics on a finding: a panic of the code
//! under test, or a broken invariant (`assert!`). Hangs are caught by the caller's
//! time bound (libFuzzer's `-timeout`, the replay test's per-input limit).
//!
//! Input layouts (the corpora are written in them):
//! - `events`, `decoder`, `split`: the bytes are the XML file.
//! - `values`: byte 0 picks the parser, byte 1 is a parameter (scale, precision,
//!   time zone, integer type), the rest is the value (UTF-8, lossily).
//! - `differential`: byte 0 picks segment size and batch size, the rest is the file.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use xml2bq_core::document::Batches;
use xml2bq_core::events::{Borrowed, Buffered, Events, EventsOnly};
use xml2bq_core::parse::Decoder;
use xml2bq_core::utf8::Utf8Reader;
use xml2bq_core::value::{self, IntegerType, Ws};
use xml2bq_core::{DecodeError, Schema, document, facet};

/// The targets, as named in `fuzz/Cargo.toml`, `fuzz/corpus/` and `fuzz/artifacts/`.
pub const TARGETS: &[&str] = &["events", "values", "decoder", "split", "differential"];

/// Runs one target's body on `data`.
pub fn run(target: &str, schema: &'static Schema, data: &[u8]) {
    match target {
        "events" => events(data),
        "values" => values(data),
        "decoder" => {
            let _ = decoder(schema, data);
        }
        "split" => split(schema, data),
        "differential" => differential(schema, data),
        other => panic!("no fuzz target {other:?}"),
    }
}

// ---------------------------------------------------------------- events

/// A reader that hands out at most `n` bytes per read (splits every sequence).
struct Trickle<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let k = self.n.min(out.len()).min(self.data.len());
        out[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

/// Reads every event of `src` until Eof or the first error; owned copies, and the
/// error's text. Panics when the reader stops making progress.
fn drain(src: &mut dyn Events, limit: usize) -> (Vec<quick_xml::events::Event<'static>>, Option<String>) {
    let mut out = vec![];
    loop {
        assert!(out.len() <= limit, "the event reader made no progress ({} events from {limit} bytes)", out.len());
        match src.next() {
            Ok(quick_xml::events::Event::Eof) => return (out, None),
            Ok(e) => out.push(e.into_owned()),
            Err(e) => return (out, Some(e.to_string())),
        }
    }
}

/// The decoder's reader settings (see `Decoder::new`), for the raw event reads.
fn configure(src: &mut dyn Events) {
    xml2bq_core::events::configure(src.config_mut());
}

/// Utf8Reader and the quick-xml event reader over arbitrary bytes:
/// - the Utf8Reader passes exactly the input (a leading BOM too: the parser drops it) or refuses it,
///   whatever the read sizes, and refuses every input that is not UTF-8;
/// - the buffered event source over it reaches Eof or an error, with a small and a
///   large buffer alike, and (on UTF-8 input) gives the events of the borrowed
///   source that segment workers use;
/// - the schema-less decoder walk (root, skip, finish) ends with Ok or an error.
pub fn events(data: &[u8]) {
    let utf8 = std::str::from_utf8(data).is_ok();
    let body = data;
    let mut accepted = vec![];
    for (cap, n) in [(8, 1), (8, 3), (256 << 10, usize::MAX)] {
        let mut out = vec![];
        let read = Utf8Reader::with_capacity(cap, Trickle { data, n }).read_to_end(&mut out);
        // Refusing UTF-8 input is allowed (the reader may check more than UTF-8), but
        // not depending on how the input is read.
        if read.is_ok() {
            assert!(utf8, "Utf8Reader (capacity {cap}, reads of {n}) passed input that is not UTF-8");
            assert!(out == body, "Utf8Reader (capacity {cap}, reads of {n}) changed the bytes");
        }
        accepted.push(read.is_ok());
    }
    assert!(accepted.iter().all(|a| *a == accepted[0]), "Utf8Reader's verdict depends on read sizes: {accepted:?}");
    let accepted = accepted[0];
    let limit = data.len() + 8;
    let mut small = Buffered::new(Utf8Reader::with_capacity(8, Trickle { data, n: 5 }));
    configure(&mut small);
    let (small_events, small_err) = drain(&mut small, limit);
    let mut large = Buffered::new(Utf8Reader::new(data));
    configure(&mut large);
    let (large_events, large_err) = drain(&mut large, limit);
    if accepted {
        assert_eq!(small_events, large_events, "events depend on the read buffer's size");
        assert_eq!(small_err.is_some(), large_err.is_some(), "{small_err:?} vs {large_err:?}");
    } else {
        // A refused byte stops each reader when its buffer reaches it: fewer events
        // from a larger buffer, but the same ones, and an error for both.
        assert!(small_err.is_some() && large_err.is_some(), "refused input read to the end");
        let n = small_events.len().min(large_events.len());
        assert_eq!(small_events[..n], large_events[..n], "events depend on the read buffer's size");
    }
    if accepted {
        let mut borrowed = Borrowed::new(data);
        configure(&mut borrowed);
        let (b_events, b_err) = drain(&mut borrowed, limit);
        assert_eq!(large_events, b_events, "buffered and borrowed event sources disagree");
        assert_eq!(large_err, b_err, "buffered and borrowed event sources disagree on the error");
    }
    // The decoder's own walk, as for content it skips (no schema, no namespaces).
    let mut src = Buffered::new(Utf8Reader::with_capacity(8, Trickle { data, n: 7 }));
    let mut d = Decoder::new(&mut src, &[]);
    let walked = d.root().and_then(|_| d.skip()).and_then(|()| d.finish());
    if let Err(e) = walked {
        assert!(e.is_invalid_input(), "in-memory input gave a non-input error: {e:?}");
    }
}

// ---------------------------------------------------------------- values

const INTEGER_TYPES: [IntegerType; 13] = [
    IntegerType::Integer,
    IntegerType::Long,
    IntegerType::Int,
    IntegerType::Short,
    IntegerType::Byte,
    IntegerType::NonNegativeInteger,
    IntegerType::PositiveInteger,
    IntegerType::NonPositiveInteger,
    IntegerType::NegativeInteger,
    IntegerType::UnsignedLong,
    IntegerType::UnsignedInt,
    IntegerType::UnsignedShort,
    IntegerType::UnsignedByte,
];

fn temporal_checks(t: &value::Temporal, param: u8) {
    // Zones of -14:00..=+14:00 in steps, as a column's default zone.
    let tz = (i16::from(param) % 57 - 28) * 30;
    let _ = t.to_timestamp_micros(tz).map(value::format_timestamp_micros);
    let _ = t.to_datetime_micros().map(value::format_datetime_micros);
    let _ = t.to_date_days().map(value::format_date_days);
    let _ = t.to_time_micros().map(value::format_time_micros);
    let _ = t.to_string();
    assert_eq!(value::temporal_cmp(t, t), Some(std::cmp::Ordering::Equal), "a value equals itself: {t:?}");
    for other in ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00", "-0001-12-31T24:00:00+14:00"] {
        if let Ok(o) = value::date_time(other) {
            let _ = value::temporal_cmp(t, &o);
        }
    }
}

fn decimal_checks(d: &value::Decimal<'_>, text: &str, param: u8) {
    let scale = u32::from(param % 80);
    let precision = u32::from(param / 2);
    let _ = d.to_i64();
    let _ = d.to_scaled_i128(scale, precision);
    let _ = d.to_scaled_i128(9, 38);
    let _ = d.to_scaled_i256(scale, precision.max(scale));
    let _ = d.to_scaled_i256(38, 76);
    let _ = (d.total_digits(), d.fraction_digits(), d.is_zero(), d.is_negative(), d.to_string());
    let _ = facet::digits(text, d, Some(u32::from(param % 20)), Some(u32::from(param % 7)));
    let _ = facet::range(text, |b| facet::cmp_decimal(d, b), Some("-1e"), Some("12.5"), Some("-0"), Some("99"));
    let _ = facet::int64(d, text);
    assert_eq!(d.cmp(d), std::cmp::Ordering::Equal);
}

/// Every public value parser and the conversions to column values: Ok or an error,
/// never a panic.
pub fn values(data: &[u8]) {
    let (which, param, rest) = match data {
        [w, p, rest @ ..] => (*w, *p, rest),
        [w] => (*w, 0, &[][..]),
        [] => return,
    };
    let text = String::from_utf8_lossy(rest);
    let s = text.as_ref();
    let temporal = [
        value::date_time,
        value::date_time_stamp,
        value::date,
        value::time,
        value::g_year,
        value::g_year_month,
        value::g_month_day,
        value::g_month,
        value::g_day,
    ];
    match which % 24 {
        k @ 0..=8 => {
            if let Ok(t) = temporal[k as usize](s) {
                temporal_checks(&t, param);
            }
        }
        9 => {
            if let Ok(d) = value::decimal(s) {
                decimal_checks(&d, s, param);
            }
        }
        10 => {
            if let Ok(d) = value::integer(s) {
                decimal_checks(&d, s, param);
            }
        }
        11 => {
            let ty = INTEGER_TYPES[usize::from(param) % INTEGER_TYPES.len()];
            if let Ok(d) = value::integer_of(s, ty) {
                decimal_checks(&d, s, param);
            }
            let _ = facet::integer_of(s, ty);
        }
        12 => {
            if let Ok(d) = value::duration(s) {
                let _ = (d.months(), d.days(), d.time_seconds(), d.seconds(), d.seconds_micros(), d.to_string());
                let _ = (d.is_zero(), d.is_negative(), d.frac_digits());
                assert_eq!(value::duration_cmp(&d, &d), Some(std::cmp::Ordering::Equal), "{s:?} equals itself");
                for other in ["P1M", "P30D", "-PT0.000001S", "P99999999999999999Y"] {
                    if let Ok(o) = value::duration(other) {
                        let _ = value::duration_cmp(&d, &o);
                    }
                }
            }
        }
        13 => {
            let mut out = vec![];
            let _ = value::base64(s, &mut out);
        }
        14 => {
            let mut out = vec![];
            let _ = value::hex(s, &mut out);
        }
        15 => {
            let _ = value::boolean(s);
        }
        16 => {
            if let Ok(f) = value::double(s) {
                let _ = facet::cmp_float(f, "1e308");
            }
        }
        17 => {
            let _ = value::float(s);
        }
        18 => {
            let _ = (value::name(s), value::nc_name(s), value::nmtoken(s));
        }
        19 => {
            let _ = value::qname(s);
        }
        20 => {
            let _ = value::language(s);
        }
        21 => {
            let _ = value::any_uri(s);
        }
        22 => {
            let _ = (value::list_items(s).count(), value::char_len(s), value::quote(s));
            let _ = facet::length(s, value::char_len(s), Some(u64::from(param)), Some(1), Some(9), "characters");
        }
        _ => {
            let mut scratch = String::new();
            for ws in [Ws::Preserve, Ws::Replace, Ws::Collapse] {
                let _ = value::whitespace(s, ws, &mut scratch).len();
            }
        }
    }
}

// ---------------------------------------------------------------- decoder

/// The generated decoder over the bytes in one pass, as `load` runs it: Ok with the
/// rows per table, or an error of the input (never I/O, never the internal resync).
/// The same decode with every leaf read by events (no [`Events::text_to_end`]) gives
/// the same batches, or the same error at the same place.
pub fn decoder(schema: &'static Schema, data: &[u8]) -> Result<Vec<u64>, DecodeError> {
    let (r, batches) = decode_with(schema, &mut Buffered::new(Utf8Reader::new(data)));
    if let Err(e) = &r {
        assert!(e.is_invalid_input(), "in-memory input gave a non-input error: {e:?}");
    }
    let (by_events, by_events_batches) = decode_with(schema, &mut EventsOnly(Buffered::new(Utf8Reader::new(data))));
    let place = |r: &Result<Vec<u64>, DecodeError>| r.as_ref().map_err(|e| (e.rule, e.offset, e.path.clone())).cloned();
    assert_eq!(place(&r), place(&by_events), "leaves read in one step and by events differ");
    assert!(batches == by_events_batches, "leaves read in one step and by events give different batches");
    r
}

/// Decodes `events` in one pass: the rows per table and the batches.
fn decode_with(schema: &'static Schema, events: &mut dyn Events) -> (Result<Vec<u64>, DecodeError>, Batches) {
    document::decode_to_batches(schema, events, "file:///fuzz/input.xml", 16)
}

// ---------------------------------------------------------------- split

/// The splitter over the bytes, with small segments: it ends, and its segments are
/// the input, in order, each (but the last) ending with the row end tag it names.
pub fn split(schema: &'static Schema, data: &[u8]) {
    use xml2bq::source::split::{Splitter, Targets};
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let Some(targets) = Targets::find(schema, body) else { return };
    // Sizes from the input, so that the fuzzer varies them: 8..=260 bytes a segment;
    // the first bytes as the head the pipeline reads before it splits.
    let seed = data.iter().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(*b)));
    let target = 8 + (seed % 64) * 4;
    let head = (seed / 64) % (body.len() + 1);
    let mut s = Splitter::new(&body[head..], body[..head].to_vec(), &targets, target, target * 16);
    let mut joined = Vec::with_capacity(body.len());
    let mut prev_cut = None;
    let mut rows_before: Option<Vec<u64>> = None;
    for seq in 0.. {
        assert!(seq <= body.len() + 1, "the splitter does not end");
        match s.next_segment() {
            Err(e) => panic!("reading a slice failed: {e}"),
            Ok(Err(_)) | Ok(Ok(None)) => break,
            Ok(Ok(Some(seg))) => {
                assert_eq!(seg.seq, seq);
                assert_eq!(seg.offset, joined.len() as u64, "segment {seq} starts where the last ended");
                assert_eq!(seg.after, prev_cut, "segment {seq} knows what ended the last");
                if let Some(cut) = &seg.cut {
                    let end = [b"</".as_slice(), &cut.name, b">"].concat();
                    assert!(seg.bytes.ends_with(&end), "segment {seq} ends with its cut");
                } else {
                    assert!(joined.len() + seg.bytes.len() == body.len(), "only the last segment has no cut");
                }
                if let Some(before) = &rows_before {
                    assert!(before.iter().zip(&seg.rows_before).all(|(a, b)| a <= b), "row counts only grow");
                }
                rows_before = Some(seg.rows_before.clone());
                joined.extend_from_slice(&seg.bytes);
                prev_cut = seg.cut.clone();
                if seg.cut.is_none() {
                    assert!(matches!(s.next_segment(), Ok(Ok(None))), "nothing after the last segment");
                    break;
                }
            }
        }
    }
    assert!(body.starts_with(&joined), "the segments are the input");
}

// ---------------------------------------------------------------- differential

/// A scratch folder for the differential target's inputs and outputs (in memory
/// where /dev/shm exists); removed when dropped.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Folders of processes that are gone (a static's scratch is never dropped).
        if let Ok(rd) = std::fs::read_dir(&base) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("xml2bq-fuzz-").and_then(|r| r.split('-').next())
                    && Path::new("/proc").is_dir()
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("xml2bq-fuzz-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch folder");
        Scratch { dir }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every table's rows read back from a run's Parquet parts, in part order.
fn tables(schema: &'static Schema, dest: &Path) -> Vec<Option<arrow_array::RecordBatch>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    schema
        .tables
        .iter()
        .map(|t| {
            let mut parts: Vec<PathBuf> = std::fs::read_dir(dest.join(t.name))
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            parts.retain(|p| p.extension().is_some_and(|x| x == "parquet"));
            parts.sort();
            let mut batches = vec![];
            for p in parts {
                let f = std::fs::File::open(&p).expect("open a part");
                let r = ParquetRecordBatchReaderBuilder::try_new(f).expect("a readable part").build().expect("reader");
                batches.extend(r.map(|b| b.expect("a readable row group")));
            }
            let first = batches.first()?.schema();
            Some(arrow_select::concat::concat_batches(&first, &batches).expect("batches of one schema"))
        })
        .collect()
}

/// One pass and the segment-parallel path (forced onto the file, with tiny segments)
/// give the same verdict — loaded, or invalid by the same rule at the same path —
/// and, when loaded, the same rows in every table.
pub fn differential_in(scratch: &Scratch, schema: &'static Schema, data: &[u8]) {
    use xml2bq::pipeline::{Job, run};
    use xml2bq::report::Status;
    use xml2bq::sink::{Format, LocalSink};
    use xml2bq::source::Input;
    let Some((&param, xml)) = data.split_first() else { return };
    let segment_bytes = 16 + usize::from(param & 0x3f) * 8;
    let batch_rows = 1 + usize::from(param >> 6);
    let file = scratch.dir.join("input.xml");
    std::fs::write(&file, xml).expect("write the input");
    let meta = std::fs::metadata(&file).expect("the input was written");
    let input = Input::local(file, &meta);
    let run = |name: &str, split_min_bytes: u64| {
        let dest = scratch.dir.join(name);
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::create_dir_all(&dest).expect("create the destination");
        let job = Job {
            schema,
            sink: Some(LocalSink {
                schema,
                dest: dest.clone(),
                format: Format::Parquet,
                row_group_rows: batch_rows,
                ledger: false,
                reload: false,
            }),
            dead_letter: None,
            archive: None,
            batch_rows,
            split_min_bytes,
            segment_bytes,
            max_value_bytes: xml2bq_core::utf8::MAX_VALUE_BYTES,
            on_bytes: Arc::new(|_| {}),
            on_file: Arc::new(|_| {}),
        };
        // As the binary runs it: recovery and locks, then the file on a pool of 2
        // threads (so the parallel path is tried), locks given back at the end.
        let mut reports = run(&job, std::slice::from_ref(&input), 2).expect("the run starts");
        let report = reports.pop().expect("one report per input");
        let rows = tables(schema, &dest);
        (report, rows)
    };
    let (seq, seq_rows) = run("one-pass", u64::MAX);
    let (par, par_rows) = run("parallel", 0);
    let verdict =
        |r: &xml2bq::report::FileReport| (r.status, r.error.as_ref().map(|e| (e.rule, e.path.clone())), r.rows.clone());
    assert_eq!(verdict(&par), verdict(&seq), "verdicts differ: parallel {par:?}\none pass {seq:?}");
    assert!(seq.status != Status::Failed, "in-memory input failed (neither loaded nor invalid): {:?}", seq.failure);
    if seq.status == Status::Invalid {
        assert!(seq_rows.iter().chain(&par_rows).all(Option::is_none), "an invalid file left rows behind");
    }
    for (t, (p, s)) in par_rows.iter().zip(&seq_rows).enumerate() {
        assert!(p == s, "table {} differs: parallel {p:?}\none pass {s:?}", schema.tables[t].name);
    }
}

/// [`differential_in`] in a scratch folder kept for the whole process.
pub fn differential(schema: &'static Schema, data: &[u8]) {
    static SCRATCH: OnceLock<std::sync::Mutex<Scratch>> = OnceLock::new();
    let scratch = SCRATCH.get_or_init(|| std::sync::Mutex::new(Scratch::new()));
    let guard = scratch.lock().unwrap_or_else(|e| e.into_inner());
    differential_in(&guard, schema, data);
}
