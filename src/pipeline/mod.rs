//! One file's trip: open → decode → write parts → commit, or abort and dead-letter.
//!
//! A run has one budget of worker threads (`--threads N`, a rayon pool whose first
//! worker is the calling thread), whatever the number and size of its files. Files
//! large enough to cut ([`Job::split_min_bytes`]) go one after another, each on every
//! worker: the calling thread stitches the document and decodes segments too, N - 1
//! workers decode the others ([`parallel`]), and one reader thread reads and cuts the
//! stream. Then the other files go N at a time, each decoded and encoded on its own
//! worker (a file alone in its phase has its Parquet encoded on a second worker).
//! So at most N threads decode or encode, and memory is a function of N and the
//! segment size, not of the inputs. Besides them, each compressed file being read has
//! its decompressor's thread (`xml2bq-decompress`, at most N).

mod parallel;

use crate::archive::Archive;
use crate::deadletter::{self, DeadLetter};
use crate::report::{FileReport, Status};
use crate::sink::{LocalSink, commit};
use crate::source::{Check, Counting, Input, Location};
use arrow_array::RecordBatch;
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use xml2bq_core::columns::{Columns, writer_stopped};
use xml2bq_core::events::Buffered;
use xml2bq_core::parse::Decoder;
use xml2bq_core::utf8::Utf8Reader;
use xml2bq_core::{DecodeError, Rule, Schema, document};

/// What to do with each file.
#[derive(Clone)]
pub struct Job {
    pub schema: &'static Schema,
    /// Where rows go; `None` validates only.
    pub sink: Option<LocalSink>,
    /// Where invalid files go; `None` leaves them in place (validate).
    pub dead_letter: Option<DeadLetter>,
    /// Where a file goes once its parts are committed (`None`: it stays).
    pub archive: Option<Archive>,
    /// Rows per record batch.
    pub batch_rows: usize,
    /// Files of at least this size are decoded in segments on every core.
    pub split_min_bytes: u64,
    /// The size of those segments; 0: [`segment_bytes`] for the run's thread count.
    pub segment_bytes: usize,
    /// The largest text or attribute value a file may hold.
    pub max_value_bytes: u64,
    /// Called with byte counts as input is read, and with each finished file.
    pub on_bytes: Arc<dyn Fn(u64) + Send + Sync>,
    pub on_file: Arc<dyn Fn(&FileReport) + Send + Sync>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start the worker threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    #[error("cannot finish what a stopped run left in {0} ({1}); nothing was read or moved: fix that, then run again")]
    Recover(String, std::io::Error),
}

/// Finishes what stopped runs left in the job's folders before anything else is written
/// (interrupted commits rolled forward or back, dead runs' temporaries removed).
fn recover(job: &Job) -> Result<(), RunError> {
    let mut roots = vec![];
    if let Some(sink) = &job.sink {
        roots.push(sink.dest.clone());
    }
    if let Some(DeadLetter { dir: Location::Local(dir), .. }) = &job.dead_letter {
        roots.push(dir.clone());
    }
    if let Some(Archive { dir: Location::Local(dir) }) = &job.archive {
        roots.push(dir.clone());
    }
    recover_folders(&roots)
}

/// Finishes what stopped runs left in these folders (those that exist), and says so.
/// Called before anything in them is read: the ledger, for one.
pub fn recover_folders(roots: &[std::path::PathBuf]) -> Result<(), RunError> {
    for root in roots.iter().filter(|r| r.is_dir()) {
        let done = commit::recover(root).map_err(|e| RunError::Recover(root.display().to_string(), e))?;
        if done != commit::Recovered::default() {
            eprintln!(
                "xml2bq: {}: undid {} and finished {} interrupted commits, removed {} temporary files of stopped runs",
                root.display(),
                done.rolled_back,
                done.rolled_forward,
                done.removed
            );
        }
    }
    Ok(())
}

/// How a file uses the run's workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Share {
    /// All `n` workers (2 or more): a file that [`splits`], cut into segments when its
    /// guesses hold.
    All(usize),
    /// Two workers: one decodes, the other encodes the Parquet parts (a file alone).
    Two,
    /// Its own worker only, decoding and encoding in turn (files side by side).
    One,
}

/// The default segment size on `n` workers: 8 MiB / n, at least 1 MiB. A large file
/// holds about n + 2 segments and n workers' builders for one segment each, so its
/// memory stays about the same whatever `--threads` is.
pub fn segment_bytes(n: usize) -> usize {
    ((8 << 20) / n.max(1)).max(1 << 20)
}

/// True when `input` is cut into segments on `n` workers. The splitter reads a stream,
/// so a compressed file is cut as it is inflated; its size is the compressed one, taken
/// as an eighth of the document's (a guess that only picks the path).
fn splits(job: &Job, input: &Input, n: usize) -> bool {
    let size = if input.compression().is_some() { input.size.saturating_mul(8) } else { input.size };
    n >= 2 && size >= job.split_min_bytes && job.sink.as_ref().is_some_and(|s| s.format == crate::sink::Format::Parquet)
}

/// Runs every input on `threads` workers (0: one per core); results in input order.
pub fn run(job: &Job, inputs: &[Input], threads: usize) -> Result<Vec<FileReport>, RunError> {
    let builder = rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("xml2bq-work-{i}"));
    // Called from a worker of another pool (a library user's), this thread cannot be
    // one of ours: it waits while a pool of N runs.
    let builder = if rayon::current_thread_index().is_none() { builder.use_current_thread() } else { builder };
    let pool = builder.build()?;
    recover(job)?;
    let n = pool.current_num_threads();
    let sized;
    let job = if job.segment_bytes == 0 {
        sized = Job { segment_bytes: segment_bytes(n), ..job.clone() };
        &sized
    } else {
        job
    };
    let (large, small): (Vec<usize>, Vec<usize>) = (0..inputs.len()).partition(|&i| splits(job, &inputs[i], n));
    let each = |i: usize, share: Share| {
        let r = run_shared(job, &inputs[i], share);
        (job.on_file)(&r);
        (i, r)
    };
    let mut files: Vec<(usize, FileReport)> = pool.install(|| {
        let mut files: Vec<_> = large.iter().map(|&i| each(i, Share::All(n))).collect();
        let share = if small.len() == 1 && n >= 2 { Share::Two } else { Share::One };
        files.par_extend(small.par_iter().map(|&i| each(i, share)));
        files
    });
    drop(pool);
    commit::release();
    files.sort_by_key(|(i, _)| *i);
    Ok(files.into_iter().map(|(_, r)| r).collect())
}

fn failed(input: &Input, why: String) -> FileReport {
    let mut r = FileReport::new(&input.uri, input.size, Status::Failed);
    r.failure = Some(why);
    r
}

/// Decodes one file, handing each full batch to `sink`; returns the rows per table.
fn decode_file(
    job: &Job,
    input: &Input,
    sink: impl FnMut(usize, RecordBatch) -> Result<(), DecodeError> + Send + 'static,
) -> Result<Vec<u64>, DecodeError> {
    let stored = input.open().map_err(|e| DecodeError::new(Rule::Io, format!("cannot open: {e}"), 0))?;
    let on_bytes = job.on_bytes.clone();
    // Progress counts the stored bytes (of a compressed file: the compressed ones).
    let counted = Counting { inner: stored, on_read: Box::new(move |n| on_bytes(n)) };
    let (document, check) = input
        .document(Box::new(counted))
        .map_err(|e| DecodeError::new(Rule::Io, format!("cannot start decompressing: {e}"), 0))?;
    let decoded = decode_document(job, input, document, sink);
    match check {
        Some(check) => checked(decoded, &check),
        None => decoded,
    }
}

/// A compressed input's verdict, once its document is decoded: compressed data cut short
/// or corrupt is the reason the file is invalid, whatever the XML decoder made of the
/// bytes it inflated to first (corruption can inflate into garbage before the checksum
/// at the end of the member shows it), and a document that decoded is loaded only if
/// its compressed data was sound to the end.
fn checked(decoded: Result<Vec<u64>, DecodeError>, check: &Check) -> Result<Vec<u64>, DecodeError> {
    if decoded.as_ref().is_err_and(|e| !e.is_invalid_input()) {
        return decoded; // not the file's fault: reported as it is
    }
    match check.finish() {
        Ok(()) => decoded,
        Err(e) => {
            let e = DecodeError::from_io(&e, 0);
            match decoded {
                // The rest of the stored bytes could not be read to check them: the XML
                // error stands, it is in bytes that were read.
                Err(xml) if !e.is_invalid_input() => Err(xml),
                _ => Err(e),
            }
        }
    }
}

/// Decodes the XML document `stream` of `input`.
fn decode_document(
    job: &Job,
    input: &Input,
    stream: Box<dyn std::io::Read + Send>,
    sink: impl FnMut(usize, RecordBatch) -> Result<(), DecodeError> + Send + 'static,
) -> Result<Vec<u64>, DecodeError> {
    // Another encoding than UTF-8 is decoded to UTF-8 as it streams by.
    let (text, _) = xml2bq_core::encoding::utf8_text(stream).map_err(|e| DecodeError::from_io(&e, 0))?;
    let mut events = Buffered::new(Utf8Reader::new(text).with_max_value_bytes(job.max_value_bytes));
    let mut d = Decoder::new(&mut events, job.schema.namespaces);
    d.set_max_value_bytes(job.max_value_bytes);
    let mut out = Columns::new(job.schema, &input.uri, job.batch_rows).with_sink(Box::new(sink));
    document::decode(job.schema, &mut d, &mut out)?;
    out.flush()?;
    Ok(out.rows())
}

/// What decoding a file counted.
struct Counts {
    /// Rows per table.
    rows: Vec<u64>,
    /// Segments the file was cut into (0: one pass).
    segments: usize,
    /// Rows the segment workers decoded.
    segment_rows: u64,
}

impl Counts {
    fn one_pass(rows: Vec<u64>) -> Self {
        Counts { rows, segments: 0, segment_rows: 0 }
    }
}

type Decoded = (Result<Counts, DecodeError>, std::io::Result<Vec<String>>);

/// Tries the segment-parallel path for a large file ([`splits`]) on `n` workers; None:
/// decode it in one pass.
fn parallel_attempt(job: &Job, input: &Input, sink: &LocalSink, n: usize) -> Option<Decoded> {
    match parallel::write(job, input, sink, n - 1)? {
        Ok(w) => {
            let counts = Counts { rows: w.rows, segments: w.segments, segment_rows: w.segment_rows };
            Some((Ok(counts), Ok(paths(w.parts))))
        }
        Err(w) => Some((Err(write_failed(w)), Ok(vec![]))),
    }
}

/// Decodes a file in one pass on this thread; with `beside`, a second worker of the
/// pool encodes and writes its parts meanwhile, else this thread does in turn.
fn one_pass(job: &Job, input: &Input, sink: &LocalSink, beside: bool) -> Decoded {
    let parts = sink.begin(input);
    let (decoded, parts) = if beside {
        let (tx, rx) = sync_channel::<(usize, RecordBatch)>(4);
        let mut written = None;
        let mut decoded = None;
        rayon::scope(|s| {
            let written = &mut written;
            s.spawn(move |_| {
                let mut parts = parts;
                let mut result = Ok(());
                for (t, b) in rx {
                    result = parts.write(t, &b);
                    if result.is_err() {
                        break;
                    }
                }
                *written = Some(result.map(|()| parts));
            });
            decoded = Some(decode_file(job, input, move |t, b| tx.send((t, b)).map_err(|_| writer_stopped())));
        });
        let written = written.unwrap_or_else(|| Err(std::io::Error::other("the part writer did not finish")));
        (decoded.expect("decoded in the scope"), written)
    } else {
        let shared = Arc::new(std::sync::Mutex::new(parts));
        let to = shared.clone();
        let decoded = decode_file(job, input, move |t, b| {
            let mut parts = to.lock().unwrap_or_else(|e| e.into_inner());
            parts.write(t, &b).map_err(write_failed)
        });
        // A write error ends the decode with that error (`write_failed`).
        let parts = Arc::try_unwrap(shared)
            .map_err(|_| std::io::Error::other("the parts are still in use"))
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()));
        (decoded, parts)
    };
    match (decoded, parts) {
        (Ok(rows), Ok(parts)) => {
            let committed = parts.commit(&rows).map(paths);
            (Ok(Counts::one_pass(rows)), committed)
        }
        (Err(e), Ok(parts)) => {
            parts.abort();
            (Err(e), Ok(vec![]))
        }
        (_, Err(w)) => (Err(write_failed(w)), Ok(vec![])),
    }
}

fn write_failed(w: std::io::Error) -> DecodeError {
    DecodeError::new(Rule::Write, format!("writing output failed: {w}"), 0)
}

/// Part paths as the report shows them.
fn paths(p: Vec<std::path::PathBuf>) -> Vec<String> {
    p.iter().map(|p| p.display().to_string()).collect()
}

/// Processes one file to exactly one end state: loaded, dead-lettered or failed.
pub fn run_file(job: &Job, input: &Input) -> FileReport {
    run_shared(job, input, Share::One)
}

/// [`run_file`] on the workers `share` gives it.
fn run_shared(job: &Job, input: &Input, share: Share) -> FileReport {
    let (decoded, outputs) = match (&job.sink, share) {
        (None, _) => (decode_file(job, input, |_, _| Ok(())).map(Counts::one_pass), Ok(vec![])),
        (Some(sink), Share::All(n)) => {
            parallel_attempt(job, input, sink, n).unwrap_or_else(|| one_pass(job, input, sink, true))
        }
        (Some(sink), Share::Two) => one_pass(job, input, sink, true),
        (Some(sink), Share::One) => one_pass(job, input, sink, false),
    };
    let outputs = match outputs {
        Ok(o) => o,
        Err(e) => return failed(input, format!("committing output failed: {e}")),
    };
    match decoded {
        Ok(Counts { rows, segments, segment_rows }) => {
            let status = if job.sink.is_some() { Status::Loaded } else { Status::Valid };
            let mut r = FileReport::new(&input.uri, input.size, status).with_rows(job.schema, &rows);
            r.outputs = outputs;
            r.segments = segments;
            r.segment_rows = segment_rows;
            if let (Some(archive), Some(sink)) = (&job.archive, &job.sink) {
                match archive.take(input, &r.rows, &sink.dest.display().to_string()) {
                    Ok(to) => r.archived = Some(to),
                    Err(e) => r.archive_error = Some(e.to_string()),
                }
            }
            r
        }
        Err(e) if !e.is_invalid_input() => failed(input, e.message),
        Err(mut e) => {
            if let Ok((line, col)) = deadletter::locate(input, e.offset) {
                (e.line, e.column) = (Some(line), Some(col));
            }
            let mut r = FileReport::new(&input.uri, input.size, Status::Invalid);
            if let Some(dl) = &job.dead_letter {
                match dl.take(input, &e, job.schema) {
                    Ok(p) => {
                        r.status = Status::DeadLettered;
                        r.dead_letter = Some(p);
                    }
                    Err(io) => {
                        r.status = Status::Failed;
                        r.failure = Some(format!("invalid, but dead-lettering failed (source left in place): {io}"));
                    }
                }
            }
            r.error = Some(e);
            r
        }
    }
}
