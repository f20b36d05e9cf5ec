//! Helpers shared by the integration tests: run the binary, read tables back.
#![allow(dead_code)]

use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data");

/// How long one run of the binary may take before a test calls it hung.
pub const HANG_SECONDS: &str = "300";

/// Runs `xml2bq ARGS`, returns the output. A run that hangs is killed after
/// [`HANG_SECONDS`] (exit 124, from coreutils' `timeout`): it fails its test instead of
/// stopping the suite.
pub fn xml2bq(args: &[&str]) -> Output {
    let o = xml2bq_command().args(args).output().expect("run xml2bq (under coreutils' timeout)");
    assert_ne!(o.status.code(), Some(124), "xml2bq {args:?} hung ({HANG_SECONDS} s)");
    o
}

/// `xml2bq` under coreutils' `timeout`, as [`xml2bq`] runs it: add the arguments.
pub fn xml2bq_command() -> Command {
    let mut c = Command::new("timeout");
    c.args(["--kill-after=5", HANG_SECONDS, env!("CARGO_BIN_EXE_xml2bq")]);
    c
}

/// Runs `cmd` with a temporary folder (`TMPDIR`) of its own; unless the run is made to
/// crash (`crashes`), checks that it left nothing there (its work folder is removed on
/// every way out).
pub fn output_leaving_no_temp(cmd: &mut Command, crashes: bool) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let o = cmd.env("TMPDIR", tmp.path()).output().unwrap();
    if !crashes {
        let left: Vec<PathBuf> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "the run left {left:?} in its temporary folder: {}", stderr(&o));
    }
    o
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies the sample data into a fresh temp folder (tests may move files out of it).
pub fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(SAMPLE).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

/// All part files of a table folder, sorted.
pub fn parts(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == ext)).collect(),
        Err(_) => vec![],
    };
    v.sort();
    v
}

/// Reads every Parquet part of a table folder into one batch (sorted by source, ordinal).
pub fn read_table(dir: &Path) -> Option<RecordBatch> {
    let mut batches = vec![];
    for p in parts(dir, "parquet") {
        let r = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&p).unwrap()).unwrap().build().unwrap();
        for b in r {
            batches.push(b.unwrap());
        }
    }
    let schema = batches.first()?.schema();
    let cols = (0..schema.fields().len())
        .map(|i| {
            let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
            arrow_select::concat::concat(&arrays).unwrap()
        })
        .collect();
    Some(RecordBatch::try_new(schema, cols).unwrap())
}

/// Rows of a batch as JSON objects (arrow-json), for whole-row comparisons.
pub fn json_rows(b: &RecordBatch) -> Vec<serde_json::Value> {
    let mut w = arrow_json::ArrayWriter::new(Vec::new());
    w.write(b).unwrap();
    w.finish().unwrap();
    let bytes = w.into_inner();
    if bytes.is_empty() {
        return vec![];
    }
    serde_json::from_slice(&bytes).unwrap()
}

/// The rows of a table folder as JSON, sorted by (_source_uri, _record_ordinal).
pub fn table_rows(dir: &Path) -> Vec<serde_json::Value> {
    let mut rows = read_table(dir).map(|b| json_rows(&b)).unwrap_or_default();
    rows.sort_by_key(|r| (r["_source_uri"].as_str().unwrap().to_string(), r["_record_ordinal"].as_i64().unwrap()));
    rows
}

const ORDER: &str = "    <Order>
      <CustomerID>C{i}</CustomerID>
      <EmployeeID>{i}</EmployeeID>
      <OrderDate>1997-05-06T00:00:00</OrderDate>
      <RequiredDate>1997-05-20T00:00:00</RequiredDate>
      <ShipInfo ShippedDate=\"1997-05-09T00:00:00\">
        <ShipVia>2</ShipVia>
        <Freight>{i}.35</Freight>
        <ShipName>O'Reilly &amp; Daughters 東京 {i}{tag}</ShipName>
        <ShipAddress><![CDATA[<b>12</b> Orchestra Terrace]]></ShipAddress>
        <ShipCity>Walla Walla</ShipCity>
        <ShipRegion/>
        <ShipPostalCode>99362</ShipPostalCode>
        <ShipCountry>USA</ShipCountry>
      </ShipInfo>
    </Order>
";

const CUSTOMER: &str = "    <Customer CustomerID=\"C{i}\">
      <CompanyName>Company {i}{tag}</CompanyName>
      <ContactName>Zoë</ContactName>
      <ContactTitle>Owner</ContactTitle>
      <Phone>(503) 555-{i}</Phone>
      <FullAddress><Address>1 Main</Address><City>Elgin</City><Region>OR</Region><PostalCode>97827</PostalCode><Country>USA</Country></FullAddress>
    </Customer>
";

/// A customer-orders document with `n` customers and `n` orders; `after_each` follows
/// every record, `tag` marks the text of each (CompanyName, ShipName).
pub fn orders_document(n: usize, after_each: &str, tag: &str) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Root>\n  <Customers>\n");
    for i in 0..n {
        s.push_str(&CUSTOMER.replace("{i}", &i.to_string()).replace("{tag}", tag));
        s.push_str(after_each);
    }
    s.push_str("  </Customers>\n  <Orders>\n");
    for i in 0..n {
        s.push_str(&ORDER.replace("{i}", &i.to_string()).replace("{tag}", tag));
        s.push_str(after_each);
    }
    s.push_str("  </Orders>\n</Root>\n");
    s
}

/// gzip members, one per slice, concatenated (`cat a.gz b.gz` is one stream).
pub fn gzip(members: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![];
    for m in members {
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
        std::io::Write::write_all(&mut e, m).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

/// One zstd frame with a content checksum, as the `zstd` command writes it.
pub fn zstd(b: &[u8]) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(vec![], 3).unwrap();
    e.include_checksum(true).unwrap();
    std::io::Write::write_all(&mut e, b).unwrap();
    e.finish().unwrap()
}
