//! Sinks: where a file's record batches go. Each input file writes its own part per
//! table into `DEST/<table>/`, first under a temporary name; the parts are renamed
//! into place only when the whole file decoded (all-or-nothing), and a re-run of the
//! same input replaces its parts instead of adding to them.

use crate::schema::{TABLES, arrow_schema};
use crate::source::{Input, stable_hash};
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// Output file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Apache Parquet, zstd-compressed (typed: NUMERIC, DATETIME, RECORD).
    Parquet,
    /// Newline-delimited JSON, as `bq load --source_format=NEWLINE_DELIMITED_JSON` takes it.
    Ndjson,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Ndjson => "ndjson",
        }
    }
}

/// A local folder of tables.
#[derive(Clone, Debug)]
pub struct LocalSink {
    pub dest: PathBuf,
    pub format: Format,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

enum Part {
    Parquet(ArrowWriter<File>),
    Ndjson(arrow_json::LineDelimitedWriter<BufWriter<File>>),
}

/// The parts one input file is writing.
pub struct FileParts {
    sink: LocalSink,
    stem: String,
    parts: Vec<Option<(Part, PathBuf)>>,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl LocalSink {
    /// The final path of `input`'s part for table `t`.
    pub fn part_path(&self, input: &Input, t: usize) -> PathBuf {
        let stem = part_stem(input);
        self.dest.join(TABLES[t].name).join(format!("{stem}.{}", self.format.ext()))
    }

    /// Starts writing parts for one input file.
    pub fn begin(&self, input: &Input) -> FileParts {
        FileParts { sink: self.clone(), stem: part_stem(input), parts: TABLES.iter().map(|_| None).collect() }
    }
}

/// `<file stem>-<16 hex of the URI hash>`: readable, and unique per input URI.
fn part_stem(input: &Input) -> String {
    let name = input.name();
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    format!("{stem}-{:016x}", stable_hash(&input.uri))
}

impl FileParts {
    fn final_path(&self, t: usize) -> PathBuf {
        self.sink.dest.join(TABLES[t].name).join(format!("{}.{}", self.stem, self.sink.format.ext()))
    }

    /// Writes one batch of table `t`.
    pub fn write(&mut self, t: usize, batch: &RecordBatch) -> io::Result<()> {
        if self.parts[t].is_none() {
            let dir = self.sink.dest.join(TABLES[t].name);
            std::fs::create_dir_all(&dir)?;
            let tmp = dir.join(format!(".{}.{}.tmp-{}", self.stem, self.sink.format.ext(), std::process::id()));
            let file = File::create(&tmp)?;
            let part = match self.sink.format {
                Format::Parquet => {
                    let props = WriterProperties::builder()
                        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).map_err(io_err)?))
                        .set_max_row_group_row_count(Some(self.sink.row_group_rows))
                        .set_created_by(format!("xml2bq {}", env!("CARGO_PKG_VERSION")))
                        .build();
                    Part::Parquet(ArrowWriter::try_new(file, arrow_schema(t), Some(props)).map_err(io_err)?)
                }
                Format::Ndjson => {
                    Part::Ndjson(arrow_json::LineDelimitedWriter::new(BufWriter::with_capacity(1 << 20, file)))
                }
            };
            self.parts[t] = Some((part, tmp));
        }
        let (part, _) = self.parts[t].as_mut().expect("created above");
        match part {
            Part::Parquet(w) => w.write(batch).map_err(io_err),
            Part::Ndjson(w) => w.write(batch).map_err(io_err),
        }
    }

    fn close(part: Part) -> io::Result<()> {
        match part {
            Part::Parquet(w) => w.close().map(|_| ()).map_err(io_err),
            Part::Ndjson(mut w) => {
                w.finish().map_err(io_err)?;
                let mut inner = w.into_inner();
                io::Write::flush(&mut inner)?;
                inner.into_inner().map_err(|e| io_err(e.error()))?.sync_all()
            }
        }
    }

    /// Closes the parts and moves them into place; a table with no rows loses any
    /// part an earlier run of the same input left. Returns the final paths.
    pub fn commit(mut self) -> io::Result<Vec<PathBuf>> {
        let mut done = vec![];
        for t in 0..self.parts.len() {
            let fin = self.final_path(t);
            match self.parts[t].take() {
                Some((part, tmp)) => {
                    Self::close(part)?;
                    std::fs::rename(&tmp, &fin)?;
                    done.push(fin);
                }
                None => remove_if_exists(&fin)?,
            }
        }
        Ok(done)
    }

    /// Drops everything written for this input.
    pub fn abort(mut self) {
        for (part, tmp) in self.parts.iter_mut().filter_map(Option::take) {
            let _ = Self::close(part);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

impl Drop for FileParts {
    fn drop(&mut self) {
        for (_, tmp) in self.parts.iter_mut().filter_map(Option::take) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

fn remove_if_exists(p: &Path) -> io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
