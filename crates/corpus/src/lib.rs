//! The schema corpus, compiled into this crate by `build.rs`, and what its tests need:
//! load a document with a case's schema (one pass, or the segment-parallel path),
//! read the tables back as canonical JSON (the form `tests/oracle/compare.py` reads),
//! and run that independent oracle.
#![forbid(unsafe_code)]

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use xml2bq::deadletter::DeadLetter;
use xml2bq::pipeline::{Job, run, run_file};
use xml2bq::report::Status;
use xml2bq::sink::{Format, LocalSink};
use xml2bq::source::{Input, Location};
use xml2bq_core::{Schema, value};

/// One corpus case: a mapping and its compiled schema (or why there is none).
pub struct Case {
    pub name: &'static str,
    pub mapping: &'static str,
    pub schema: Result<&'static Schema, &'static str>,
}

include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// `../shared/realworld`, when present.
pub fn shared() -> Option<PathBuf> {
    let s = env!("XML2BQ_CORPUS_SHARED");
    (!s.is_empty()).then(|| PathBuf::from(s))
}

/// The oracle venv's site-packages, when installed.
pub fn site() -> Option<PathBuf> {
    let s = env!("XML2BQ_CORPUS_SITE");
    (!s.is_empty()).then(|| PathBuf::from(s))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The oracle venv's Python (`XML2BQ_ORACLE_PYTHON`, else the cached venv), when installed.
pub fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("XML2BQ_ORACLE_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("XML2BQ_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/xml2bq")))?;
    let p = home.join("oracle-venv/bin/python");
    p.exists().then_some(p)
}

/// What xml2bq made of one document.
#[derive(Debug)]
pub struct Outcome {
    /// Rows per table (canonical JSON), for a loaded document.
    pub rows: BTreeMap<String, Vec<Value>>,
    /// The dead-letter rule of an invalid document.
    pub rule: Option<String>,
    pub message: Option<String>,
    /// Why the file failed (not the document's fault).
    pub failure: Option<String>,
    /// Segments of the parallel path (0: one pass).
    pub segments: usize,
    /// Rows the segment workers decoded.
    pub segment_rows: u64,
}

/// Loads `doc` with `schema` into a temporary folder. `parallel`: force the
/// segment-parallel path onto it with segments of about `parallel` bytes.
pub fn load(schema: &'static Schema, doc: &Path, parallel: Option<usize>) -> Outcome {
    let dest = tempfile::tempdir().expect("a temporary folder");
    let meta = std::fs::metadata(doc).expect("the document exists");
    let input = Input::local(doc.canonicalize().unwrap_or_else(|_| doc.to_path_buf()), &meta);
    let job = Job {
        schema,
        sink: Some(LocalSink {
            schema,
            dest: dest.path().to_path_buf(),
            format: Format::Parquet,
            row_group_rows: 1000,
            ledger: true,
            reload: false,
        }),
        dead_letter: Some(DeadLetter { dir: Location::Local(dest.path().join("_dead_letter")), keep_source: true }),
        archive: None,
        batch_rows: 7,
        split_min_bytes: if parallel.is_some() { 0 } else { u64::MAX },
        segment_bytes: parallel.unwrap_or(8 << 20),
        max_value_bytes: xml2bq_core::utf8::MAX_VALUE_BYTES,
        on_bytes: Arc::new(|_| ()),
        on_file: Arc::new(|_| ()),
    };
    // The parallel path is the pool's: a file alone on three workers (this thread
    // stitching, two decoding segments); one pass is one file's on one.
    let r = match parallel {
        Some(_) => run(&job, std::slice::from_ref(&input), 3).expect("a pool of three workers").remove(0),
        None => run_file(&job, &input),
    };
    let mut rows = BTreeMap::new();
    if r.status == Status::Loaded {
        for t in schema.tables {
            rows.insert(t.name.to_string(), table_rows(&dest.path().join(t.name)));
        }
    }
    Outcome {
        rows,
        rule: r.error.as_ref().map(|e| e.rule.as_str().to_string()),
        message: r.error.as_ref().map(|e| e.to_string()),
        failure: r.failure,
        segments: r.segments,
        segment_rows: r.segment_rows,
    }
}

/// The rows of a table folder's Parquet parts, canonical, ordered by (source, ordinal).
pub fn table_rows(dir: &Path) -> Vec<Value> {
    let mut parts: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect(),
        Err(_) => vec![],
    };
    parts.sort();
    let mut rows = vec![];
    for p in parts {
        let f = std::fs::File::open(&p).expect("a part");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .expect("a Parquet part")
            .build()
            .expect("a reader");
        for b in reader {
            rows.extend(canonical(&b.expect("a batch")));
        }
    }
    rows.sort_by_key(|r| {
        (r["_source_uri"].as_str().unwrap_or("").to_string(), r["_record_ordinal"].as_i64().unwrap_or(0))
    });
    rows
}

/// A batch's rows in the canonical JSON of the conventions: decimals as canonical
/// strings, times as ISO text (TIMESTAMP with `Z`), bytes as base64.
pub fn canonical(b: &RecordBatch) -> Vec<Value> {
    let schema = b.schema();
    (0..b.num_rows())
        .map(|i| {
            let mut row = serde_json::Map::new();
            for (f, col) in schema.fields().iter().zip(b.columns()) {
                row.insert(f.name().clone(), cell(col, i));
            }
            Value::Object(row)
        })
        .collect()
}

/// `n` scaled by 10^scale as a canonical decimal.
fn decimal_text(digits: String, scale: usize) -> String {
    let (neg, mut d) = match digits.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, digits),
    };
    while d.len() <= scale {
        d.insert(0, '0');
    }
    let (int, frac) = d.split_at(d.len() - scale);
    let frac = frac.trim_end_matches('0');
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let s = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
    if neg && s != "0" { format!("-{s}") } else { s }
}

fn cell(a: &ArrayRef, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Utf8 => json!(a.as_string::<i32>().value(i)),
        DataType::Int64 => json!(a.as_primitive::<Int64Type>().value(i)),
        DataType::Boolean => json!(a.as_boolean().value(i)),
        DataType::Float64 => {
            let v = a.as_primitive::<Float64Type>().value(i);
            if v.is_nan() {
                json!("NaN")
            } else if v.is_infinite() {
                json!(if v > 0.0 { "INF" } else { "-INF" })
            } else {
                json!(v)
            }
        }
        DataType::Decimal128(_, s) => {
            json!(decimal_text(a.as_primitive::<Decimal128Type>().value(i).to_string(), *s as usize))
        }
        DataType::Decimal256(_, s) => {
            json!(decimal_text(a.as_primitive::<Decimal256Type>().value(i).to_string(), *s as usize))
        }
        DataType::Date32 => json!(value::format_date_days(a.as_primitive::<Date32Type>().value(i))),
        DataType::Time64(TimeUnit::Microsecond) => {
            json!(value::format_time_micros(a.as_primitive::<Time64MicrosecondType>().value(i)))
        }
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let v = a.as_primitive::<TimestampMicrosecondType>().value(i);
            if tz.is_some() {
                json!(value::format_timestamp_micros(v))
            } else {
                json!(value::format_datetime_micros(v))
            }
        }
        DataType::Binary => json!(base64::engine::general_purpose::STANDARD.encode(a.as_binary::<i32>().value(i))),
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut o = serde_json::Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                o.insert(f.name().clone(), cell(c, i));
            }
            Value::Object(o)
        }
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            let items = l.value(i);
            Value::Array((0..items.len()).map(|k| cell(&items, k)).collect())
        }
        other => json!(format!("(unexpected Arrow type {other})")),
    }
}

/// The BigQuery schemas of every table, as `xml2bq schema` prints them.
pub fn schema_json(schema: &Schema) -> Value {
    Value::Object(
        schema
            .tables
            .iter()
            .map(|t| (t.name.to_string(), Value::Array(xml2bq_gcp::bigquery::schema::fields(t))))
            .collect(),
    )
}

/// The oracle's verdict on our output for one document.
#[derive(Debug)]
pub struct Verdict {
    /// 0 equal, 1 differences, 2 oracle error, 3 must be dead-lettered, 4 unrepresentable.
    pub code: i32,
    pub output: String,
}

/// Runs `tests/oracle/compare.py` on our schema and rows for `doc`.
pub fn compare(python: &Path, mapping: &str, doc: &Path, schema: &Schema, out: &Outcome) -> Verdict {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let s = dir.path().join("S.json");
    let r = dir.path().join("R.json");
    std::fs::write(&s, serde_json::to_vec(&schema_json(schema)).expect("JSON")).expect("write S.json");
    std::fs::write(&r, serde_json::to_vec(&out.rows).expect("JSON")).expect("write R.json");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(root().join("tests/oracle/compare.py"))
        .arg("--mapping")
        .arg(mapping)
        .arg("--doc")
        .arg(doc)
        .arg("--schema-json")
        .arg(&s)
        .arg("--rows")
        .arg(&r);
    if let Some(site) = site() {
        cmd.arg("--subst").arg(format!("site={}", site.display()));
    }
    if let Some(sh) = shared() {
        cmd.arg("--subst").arg(format!("shared={}", sh.display()));
    }
    match cmd.output() {
        Ok(o) => Verdict {
            code: o.status.code().unwrap_or(-1),
            output: format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        },
        Err(e) => Verdict { code: -1, output: format!("cannot run {}: {e}", python.display()) },
    }
}
