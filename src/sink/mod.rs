//! Sinks: where a file's record batches go. Each input file writes its own part per
//! table into `DEST/<table>/`, first under a temporary dot-file name; the parts are
//! renamed into place only when the whole file decoded, all of them or none
//! ([`commit`]), together with the input's [`ledger`] entry; a re-run of the same
//! input replaces its parts instead of adding to them, and `--reload` adds another set
//! (`<stem>-r<n>`) beside them.

pub mod bigquery;
pub mod commit;
pub mod fault;
pub mod ledger;

use crate::source::Input;
use arrow_array::RecordBatch;
use fault::Out;
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::ConvertedType;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use xml2bq_core::columns::arrow_schema;
use xml2bq_core::{Schema, stable_hash};

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
    pub schema: &'static Schema,
    pub dest: PathBuf,
    pub format: Format,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Record each committed input in the destination's [`ledger`] (off for the
    /// scratch folder of a BigQuery load, whose ledger is in BigQuery).
    pub ledger: bool,
    /// `--reload`: an input the ledger holds gets another set of parts beside its earlier
    /// ones (its rows once more, as a BigQuery append), instead of replacing them.
    pub reload: bool,
}

enum Part {
    Parquet(ArrowWriter<Out>),
    Ndjson(arrow_json::LineDelimitedWriter<BufWriter<Out>>),
}

/// The parts one input file is writing.
pub struct FileParts {
    sink: LocalSink,
    stem: String,
    input: Input,
    parts: Vec<Option<(Part, PathBuf)>>,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl LocalSink {
    /// The final path of `input`'s part for table `t`.
    pub fn part_path(&self, input: &Input, t: usize) -> PathBuf {
        self.paths(&part_stem(input), t).0
    }

    /// Table `t`'s part for the input with this stem: the final path, and the temporary
    /// one it is written under (in the same folder).
    fn paths(&self, stem: &str, t: usize) -> (PathBuf, PathBuf) {
        let dir = self.dest.join(self.schema.tables[t].name);
        let ext = self.format.ext();
        let fin = dir.join(format!("{stem}.{ext}"));
        let tmp = commit::temp_path(&fin, "tmp");
        (fin, tmp)
    }

    /// [`LocalSink::paths`], creating the table's folder.
    fn create_paths(&self, stem: &str, t: usize) -> io::Result<(PathBuf, PathBuf)> {
        let p = self.paths(stem, t);
        let dir = p.0.parent().expect("a table folder");
        std::fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create table folder {}: {e}", dir.display())))?;
        Ok(p)
    }

    /// The ledger's entry for `input` when it records the input's current version.
    pub fn loaded(&self, input: &Input) -> io::Result<Option<ledger::Entry>> {
        Ok(ledger::get(&self.dest, &part_stem(input))?.filter(|e| e.covers(input)))
    }

    /// Applies a commit of `input`'s parts (`ops`, one per table, named `stem`), with its
    /// ledger entry when the ledger is on; returns the final paths of the parts written.
    ///
    /// Parts under the input's own stem replace its earlier ones: the parts the previous
    /// entry lists (those of `--reload`s) are removed in the same commit. Parts under a
    /// reload stem ([`LocalSink::stem_for`]) are added to them, and the entry counts both.
    fn apply(&self, input: &Input, stem: &str, mut ops: Vec<commit::Op>, rows: &[u64]) -> io::Result<Vec<PathBuf>> {
        let parts: Vec<PathBuf> = ops.iter().filter(|o| o.tmp.is_some()).map(|o| o.fin.clone()).collect();
        if self.ledger {
            let key = part_stem(input);
            let previous = match ledger::get(&self.dest, &key) {
                Ok(p) => p,
                Err(e) => return Err(discard(&ops, e)),
            };
            let rows = self.schema.tables.iter().zip(rows).map(|(t, n)| (t.name.to_string(), *n)).collect();
            let mut entry = ledger::Entry::new(&input.uri, &input.version, rows, &parts, &self.dest);
            match previous {
                Some(prev) if stem != key => entry.add_earlier(prev),
                Some(prev) => {
                    for fin in prev.part_paths(&self.dest) {
                        if !ops.iter().any(|o| o.fin == fin) {
                            ops.push(commit::Op { tmp: None, fin });
                        }
                    }
                }
                None => {}
            }
            match ledger::stage(&self.dest, &key, &entry) {
                Ok(op) => ops.push(op),
                Err(e) => return Err(discard(&ops, e)),
            }
        }
        commit::apply(&self.dest, &ops)?;
        Ok(parts)
    }

    /// The stem of the parts `input` writes now: [`part_stem`], or with `--reload` (and
    /// the ledger on) a new stem beside it, `<part stem>-r<hex nanoseconds>`, so that the
    /// rows are added once more.
    fn stem_for(&self, input: &Input) -> String {
        let stem = part_stem(input);
        if !(self.reload && self.ledger) {
            return stem;
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("{stem}-r{nanos:x}")
    }

    /// Finishes what stopped runs left in the destination (see [`commit::recover`]);
    /// called once before a run writes anything.
    pub fn recover(&self) -> io::Result<commit::Recovered> {
        commit::recover(&self.dest)
    }

    /// Starts writing parts for one input file.
    pub fn begin(&self, input: &Input) -> FileParts {
        FileParts {
            sink: self.clone(),
            stem: self.stem_for(input),
            input: input.clone(),
            parts: self.schema.tables.iter().map(|_| None).collect(),
        }
    }
}

/// `<file stem>-<16 hex of the URI hash>`: readable, and unique per input URI. The stem
/// of a compressed file is its document's (`a.xml.gz` → `a`).
fn part_stem(input: &Input) -> String {
    let name = input.document_name();
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    format!("{stem}-{:016x}", stable_hash(&input.uri))
}

impl FileParts {
    /// Writes one batch of table `t`.
    pub fn write(&mut self, t: usize, batch: &RecordBatch) -> io::Result<()> {
        if self.parts[t].is_none() {
            let (_, tmp) = self.sink.create_paths(&self.stem, t)?;
            let file = create(&tmp)?;
            let part = match self.sink.format {
                Format::Parquet => Part::Parquet({
                    let schema = arrow_schema(&self.sink.schema.tables[t]);
                    let props = writer_props(&schema, self.sink.row_group_rows)?;
                    ArrowWriter::try_new(file, schema, Some(props)).map_err(io_err)?
                }),
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

    /// Writes the part's footer and flushes it to the disk.
    fn close(part: Part) -> io::Result<()> {
        match part {
            Part::Parquet(mut w) => {
                w.finish().map_err(io_err)?;
                w.inner().sync()
            }
            Part::Ndjson(mut w) => {
                w.finish().map_err(io_err)?;
                let mut inner = w.into_inner();
                io::Write::flush(&mut inner)?;
                inner.into_inner().map_err(|e| io_err(e.error()))?.sync()
            }
        }
    }

    /// Closes the parts and moves them into place (with the ledger entry recording
    /// `rows` per table), all of them or (on an error) none; a table with no rows loses
    /// any part an earlier run of the same input left. Returns the final paths.
    pub fn commit(mut self, rows: &[u64]) -> io::Result<Vec<PathBuf>> {
        let mut ops = vec![];
        let mut closed = Ok(());
        for t in 0..self.parts.len() {
            let (fin, _) = self.sink.paths(&self.stem, t);
            let tmp = self.parts[t].take().map(|(part, tmp)| {
                if closed.is_ok() {
                    closed = Self::close(part).map_err(|e| annotated(e, &tmp));
                }
                tmp
            });
            ops.push(commit::Op { tmp, fin });
        }
        if let Err(e) = closed {
            return Err(discard(&ops, e));
        }
        self.sink.apply(&self.input, &self.stem, ops, rows)
    }

    /// Drops everything written for this input.
    pub fn abort(mut self) {
        for (part, tmp) in self.parts.iter_mut().filter_map(Option::take) {
            drop(part);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Removes the temporaries of `ops` (a commit that will not happen); returns `e`.
fn discard(ops: &[commit::Op], e: io::Error) -> io::Error {
    for tmp in ops.iter().filter_map(|o| o.tmp.as_ref()) {
        let _ = std::fs::remove_file(tmp);
    }
    e
}

/// Creates an output file.
fn create(p: &std::path::Path) -> io::Result<Out> {
    File::create(p).map(Out).map_err(|e| annotated(e, p))
}

/// The error, naming the file it happened to.
fn annotated(e: io::Error, p: &std::path::Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

impl Drop for FileParts {
    fn drop(&mut self) {
        for (_, tmp) in self.parts.iter_mut().filter_map(Option::take) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Parquet parts written one row group at a time from column chunks encoded
/// elsewhere (by the threads that decoded them): the segment-parallel path.
pub struct RowGroupParts {
    sink: LocalSink,
    stem: String,
    input: Input,
    final_paths: Vec<PathBuf>,
    parts: Vec<Option<(SerializedFileWriter<Out>, PathBuf)>>,
}

impl LocalSink {
    /// Opens one Parquet part per table for `input` and returns, beside it, the
    /// factories that encode row groups for those parts on any thread.
    pub fn begin_row_groups(&self, input: &Input) -> io::Result<(RowGroupParts, Vec<ArrowRowGroupWriterFactory>)> {
        let stem = self.stem_for(input);
        // Built as it goes, so that an error drops (removes) the parts already created.
        let mut parts = RowGroupParts {
            sink: self.clone(),
            stem: stem.clone(),
            input: input.clone(),
            final_paths: vec![],
            parts: vec![],
        };
        let mut factories = vec![];
        for t in 0..self.schema.tables.len() {
            let (fin, tmp) = self.create_paths(&stem, t)?;
            let file = create(&tmp)?;
            parts.parts.push(None);
            parts.final_paths.push(fin);
            let schema = arrow_schema(&self.schema.tables[t]);
            let writer = ArrowWriter::try_new(file, schema.clone(), Some(writer_props(&schema, self.row_group_rows)?));
            let opened = writer.and_then(ArrowWriter::into_serialized_writer).map_err(io_err);
            let (writer, factory) = match opened {
                Ok(w) => w,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            };
            parts.parts[t] = Some((writer, tmp));
            factories.push(factory);
        }
        Ok((parts, factories))
    }
}

/// How the parts of a table with Arrow schema `schema` are written.
fn writer_props(schema: &arrow_schema::Schema, row_group_rows: usize) -> io::Result<WriterProperties> {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).map_err(io_err)?))
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_created_by(format!("xml2bq {}", env!("CARGO_PKG_VERSION")));
    // parquet 60 keeps a decimal column chunk's minimum and maximum as slices of the
    // buffer all its values were converted into, and a part keeps the statistics of
    // every row group until it is closed: the whole column would stay in memory to the
    // end of the file (a 500 MB GPX track with three BIGNUMERIC columns peaked at
    // 252 MB). Decimal columns get no statistics.
    let parquet = ArrowSchemaConverter::new().convert(schema).map_err(io_err)?;
    for c in parquet.columns().iter().filter(|c| c.converted_type() == ConvertedType::DECIMAL) {
        props = props.set_column_statistics_enabled(c.path().clone(), EnabledStatistics::None);
    }
    Ok(props.build())
}

/// Encodes batches of table `t` into the column chunks of one row group.
pub fn encode_row_group(
    factory: &ArrowRowGroupWriterFactory,
    batches: &[RecordBatch],
) -> io::Result<Vec<ArrowColumnChunk>> {
    let Some(first) = batches.first() else { return Ok(vec![]) };
    let schema = first.schema();
    let mut writers = factory.create_column_writers(0).map_err(io_err)?;
    for b in batches {
        let mut w = writers.iter_mut();
        for (field, col) in schema.fields().iter().zip(b.columns()) {
            for leaf in compute_leaves(field, col).map_err(io_err)? {
                w.next().expect("one writer per leaf").write(&leaf).map_err(io_err)?;
            }
        }
    }
    writers.into_iter().map(|w| w.close().map_err(io_err)).collect()
}

impl RowGroupParts {
    /// Appends one encoded row group to table `t`'s part.
    pub fn append(&mut self, t: usize, chunks: Vec<ArrowColumnChunk>) -> io::Result<()> {
        let (writer, _) = self.parts[t].as_mut().expect("open until commit");
        let mut rg = writer.next_row_group().map_err(io_err)?;
        for c in chunks {
            c.append_to_row_group(&mut rg).map_err(io_err)?;
        }
        rg.close().map_err(io_err)?;
        Ok(())
    }

    /// Closes the parts and moves those with rows into place (as [`FileParts::commit`]).
    pub fn commit(mut self, rows: &[u64]) -> io::Result<Vec<PathBuf>> {
        let mut ops = vec![];
        let mut closed = Ok(());
        for ((part, fin), n) in self.parts.iter_mut().zip(&self.final_paths).zip(rows) {
            let (mut writer, tmp) = part.take().expect("open until commit");
            if *n == 0 {
                drop(writer);
                let _ = std::fs::remove_file(&tmp);
                ops.push(commit::Op { tmp: None, fin: fin.clone() });
                continue;
            }
            if closed.is_ok() {
                closed = writer.finish().map_err(io_err).and_then(|_| writer.inner().sync());
                closed = closed.map_err(|e| annotated(e, &tmp));
            }
            ops.push(commit::Op { tmp: Some(tmp), fin: fin.clone() });
        }
        if let Err(e) = closed {
            return Err(discard(&ops, e));
        }
        self.sink.apply(&self.input, &self.stem, ops, rows)
    }
}

impl Drop for RowGroupParts {
    fn drop(&mut self) {
        for (_, tmp) in self.parts.iter_mut().filter_map(Option::take) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field, Schema as ArrowSchema};
    use parquet::schema::types::ColumnPath;

    #[test]
    fn decimal_columns_get_no_statistics_and_the_others_chunk_statistics() {
        let inner = Field::new("b", DataType::Decimal256(76, 38), true);
        let listed = Field::new("d", DataType::Decimal128(38, 9), true);
        let schema = ArrowSchema::new(vec![
            Field::new("a", DataType::Decimal128(12, 2), true),
            Field::new("s", DataType::Struct(vec![inner].into()), true),
            Field::new(
                "l",
                DataType::List(std::sync::Arc::new(Field::new("item", DataType::Struct(vec![listed].into()), true))),
                true,
            ),
            Field::new("c", DataType::Int64, false),
            Field::new("t", DataType::Utf8, false),
        ]);
        let props = writer_props(&schema, 1000).unwrap();
        let stats = |p: &[&str]| props.statistics_enabled(&ColumnPath::new(p.iter().map(|s| s.to_string()).collect()));
        assert_eq!(stats(&["a"]), EnabledStatistics::None);
        assert_eq!(stats(&["s", "b"]), EnabledStatistics::None);
        assert_eq!(stats(&["l", "list", "item", "d"]), EnabledStatistics::None);
        assert_eq!(stats(&["c"]), EnabledStatistics::Chunk);
        assert_eq!(stats(&["t"]), EnabledStatistics::Chunk);
        assert_eq!(props.max_row_group_row_count(), Some(1000));
    }
}
