//! Compressed local inputs: `*.xml.gz` (one member or several) and `*.xml.zst` load the
//! same rows as the plain file; a compressed file cut short or corrupted is dead-lettered
//! with `invalid-compression` (never as the XML error its garbage would make), nothing
//! of it written; a folder is searched for compressed files too. (The `gs://` and
//! `Content-Encoding: gzip` cases are in `cloud_compressed.rs`.)

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// A document of about 2.3 MB (several 256 KiB chunks once decompressed).
fn document() -> String {
    orders_document(2000, "", "")
}

/// `load DIR --dest DEST --report`, with `extra`; returns (exit code, report).
fn load(input: &Path, dest: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let report = dest.with_extension("report.json");
    let mut args = vec!["load", input.to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"];
    args.extend(["--report", report.to_str().unwrap()]);
    args.extend(extra);
    let o = xml2bq(&args);
    let r = std::fs::read(&report).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    (o.status.code(), serde_json::from_slice(&r).unwrap())
}

/// The rows of both tables, with `_source_uri` left out (each file has its own).
fn rows(dest: &Path) -> Vec<Vec<Value>> {
    ["customers", "orders"]
        .iter()
        .map(|t| {
            table_rows(&dest.join(t))
                .into_iter()
                .map(|mut r| {
                    r.as_object_mut().unwrap().remove("_source_uri");
                    r
                })
                .collect()
        })
        .collect()
}

/// Part file names of a table.
fn part_names(dir: &Path) -> Vec<String> {
    parts(dir, "parquet").iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
}

/// The dead-letter reason of `name`.
fn reason(dest: &Path, name: &str) -> Value {
    let p = dest.join("_dead_letter").join(format!("{name}.error.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

#[test]
fn gzip_and_zstd_load_the_same_rows_as_the_plain_file() {
    let doc = document();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("a.xml"), &doc).unwrap();
    let (code, _) = load(&plain, &dir.path().join("out-plain"), &[]);
    assert_eq!(code, Some(0));
    let want = rows(&dir.path().join("out-plain"));
    assert_eq!((want[0].len(), want[1].len()), (2000, 2000));

    let half = doc.len() / 2;
    let cases: [(&str, Vec<u8>); 4] = [
        ("a.xml.gz", gzip(&[doc.as_bytes()])),
        // Concatenated members are one stream (`cat a.gz b.gz`), one of them empty.
        ("a.xml.gz", gzip(&[&doc.as_bytes()[..1000], &doc.as_bytes()[1000..half], b"", &doc.as_bytes()[half..]])),
        ("a.xml.zst", zstd(doc.as_bytes())),
        ("A.XML.ZSTD", [zstd(&doc.as_bytes()[..half]), zstd(&doc.as_bytes()[half..])].concat()),
    ];
    for (i, (name, bytes)) in cases.iter().enumerate() {
        let input = dir.path().join(format!("in{i}"));
        std::fs::create_dir(&input).unwrap();
        std::fs::write(input.join(name), bytes).unwrap();
        let dest = dir.path().join(format!("out{i}"));
        // A split threshold below the size: the document is cut into segments as it inflates.
        let split = ["--threads", "2", "--split-min-bytes", "0", "--segment-bytes", "65536"];
        let (code, report) = load(&input, &dest, &split);
        assert_eq!(code, Some(0), "{name}: {report}");
        let file = &report["files"][0];
        assert_eq!(file["status"], "loaded", "{name}");
        assert_eq!(file["bytes"], bytes.len() as u64, "{name}: the stored (compressed) size");
        assert!(file["segments"].as_u64().unwrap_or(0) > 1, "{name}: cut into segments: {file}");
        assert_eq!(rows(&dest), want, "{name}: the same rows");
        let uri = format!("file://{}", std::fs::canonicalize(input.join(name)).unwrap().display());
        let orders = table_rows(&dest.join("orders"));
        assert!(orders.iter().all(|r| r["_source_uri"] == uri.as_str()), "{name}: lineage names the stored file");
        // The parts are named after the document: `a-<hash>`, not `a.xml-<hash>`.
        let stem = name.split('.').next().unwrap();
        for t in ["customers", "orders"] {
            let names = part_names(&dest.join(t));
            assert_eq!(names.len(), 1, "{name}: {names:?}");
            assert!(names[0].starts_with(&format!("{stem}-")) && !names[0].contains(".xml"), "{names:?}");
        }
    }
}

#[test]
fn compressed_files_cut_short_or_corrupted_are_dead_lettered_with_their_rule() {
    let doc = document();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let gz = gzip(&[doc.as_bytes()]);
    let zst = zstd(doc.as_bytes());
    let flipped = |mut b: Vec<u8>, at: usize| {
        for x in &mut b[at..at + 4] {
            *x ^= 0xA5;
        }
        b
    };
    // (name, bytes, cut short?)
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("cut-half.xml.gz", gz[..gz.len() / 2].to_vec(), true),
        ("cut-header.xml.gz", gz[..6].to_vec(), true),
        ("cut-trailer.xml.gz", gz[..gz.len() - 3].to_vec(), true),
        ("empty.xml.gz", vec![], true),
        // In the deflate data: the document inflates into garbage (or the decoder
        // stops) long before the checksum at the end would tell.
        ("flip-third.xml.gz", flipped(gz.clone(), gz.len() / 3), false),
        ("flip-half.xml.gz", flipped(gz.clone(), gz.len() / 2), false),
        // The CRC-32 of the trailer: every byte of XML read, and all of it well-formed.
        ("flip-crc.xml.gz", flipped(gz.clone(), gz.len() - 8), false),
        ("not-gzip.xml.gz", doc.as_bytes().to_vec(), false),
        ("cut-half.xml.zst", zst[..zst.len() / 2].to_vec(), true),
        ("flip-half.xml.zst", flipped(zst.clone(), zst.len() / 2), false),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(input.join(name), bytes).unwrap();
    }
    let dest = dir.path().join("out");
    // Tried in segments first (as a large file is), then in one pass, which says why.
    let (code, report) = load(&input, &dest, &["--threads", "2", "--split-min-bytes", "0", "--segment-bytes", "65536"]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(report["totals"]["dead_lettered"], cases.len(), "{report}");
    for (name, bytes, cut) in &cases {
        let r = reason(&dest, name);
        assert_eq!(r["rule"], "invalid-compression", "{name}: {r}");
        let uri = format!("file://{}", std::fs::canonicalize(&input).unwrap().join(name).display());
        assert_eq!(r["source"], uri.as_str());
        let msg = r["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("{uri}: the {} data is ", if name.ends_with(".gz") { "gzip" } else { "zstd" }))
        );
        if *cut {
            assert!(msg.contains(&format!("cut short: it ends at compressed byte {} ", bytes.len())), "{name}: {msg}");
        } else {
            assert!(msg.contains("corrupt at or before compressed byte "), "{name}: {msg}");
        }
        // The offset counts the decompressed bytes delivered before the failure (of a
        // corrupt stream, they need not be the document's).
        if *name == "flip-crc.xml.gz" {
            assert_eq!(r["offset"], doc.len() as u64, "the whole document inflated before the trailer");
            let at = format!(
                "corrupt at or before compressed byte {} (after {} bytes of decompressed XML)",
                gz.len(),
                doc.len()
            );
            assert!(r["message"].as_str().unwrap().contains(&at), "{r}");
        }
        // The stored bytes were moved as they were, and nothing of the file was loaded.
        assert_eq!(&std::fs::read(dest.join("_dead_letter").join(name)).unwrap(), bytes, "{name}");
        assert_eq!(r["size"], bytes.len() as u64);
        assert!(!input.join(name).exists(), "{name} moved");
    }
    assert!(part_names(&dest.join("orders")).is_empty() && part_names(&dest.join("customers")).is_empty());

    // validate says the same, and moves nothing.
    for (name, bytes, _) in &cases {
        std::fs::write(input.join(name), bytes).unwrap();
    }
    let report_file = dir.path().join("v.json");
    let o = xml2bq(&["validate", input.to_str().unwrap(), "--report", report_file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    for f in v["files"].as_array().unwrap() {
        assert_eq!(f["status"], "invalid", "{f}");
        assert_eq!(f["error"]["rule"], "invalid-compression", "{f}");
    }
    assert_eq!(v["files"].as_array().unwrap().len(), cases.len());
}

/// An XML error inside sound compressed data is the XML's rule, at the line and column
/// of the decompressed document, as in the plain file.
#[test]
fn an_invalid_document_inside_sound_compression_keeps_its_xml_rule() {
    let doc = document().replacen("<Freight>7.35</Freight>", "<Freight>seven</Freight>", 1);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("bad.xml"), &doc).unwrap();
    std::fs::write(input.join("bad.xml.gz"), gzip(&[doc.as_bytes()])).unwrap();
    std::fs::write(input.join("bad.xml.zst"), zstd(doc.as_bytes())).unwrap();
    let dest = dir.path().join("out");
    let (code, report) = load(&input, &dest, &[]);
    assert_eq!(code, Some(3), "{report}");
    let plain = reason(&dest, "bad.xml");
    assert_eq!(plain["rule"], "invalid-value");
    assert_eq!(plain["path"], "Root/Orders/Order[8]/ShipInfo/Freight");
    for name in ["bad.xml.gz", "bad.xml.zst"] {
        let r = reason(&dest, name);
        for k in ["rule", "message", "path", "line", "column", "offset"] {
            assert_eq!(r[k], plain[k], "{name}: {k}");
        }
    }
}

#[test]
fn a_folder_is_searched_for_compressed_files_too() {
    let doc = document();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::write(input.join("a.xml"), &doc).unwrap();
    std::fs::write(input.join("b.xml.gz"), gzip(&[doc.as_bytes()])).unwrap();
    std::fs::write(input.join("sub/c.XML.GZ"), gzip(&[doc.as_bytes()])).unwrap();
    std::fs::write(input.join("sub/d.xml.zst"), zstd(doc.as_bytes())).unwrap();
    std::fs::write(input.join("e.xml.zstd"), zstd(doc.as_bytes())).unwrap();
    // Not searched for: compressed, but not XML by name; or another compression.
    std::fs::write(input.join("notes.gz"), gzip(&[b"not xml"])).unwrap();
    std::fs::write(input.join("f.xml.bz2"), b"BZh9").unwrap();
    std::fs::write(input.join("g.txt"), b"text").unwrap();
    let dest = dir.path().join("out");
    let (code, report) = load(&input, &dest, &[]);
    assert_eq!(code, Some(0), "{report}");
    let root = std::fs::canonicalize(&input).unwrap();
    let uris: Vec<&str> = report["files"].as_array().unwrap().iter().map(|f| f["uri"].as_str().unwrap()).collect();
    let want: Vec<String> = ["a.xml", "b.xml.gz", "e.xml.zstd", "sub/c.XML.GZ", "sub/d.xml.zst"]
        .iter()
        .map(|n| format!("file://{}/{n}", root.display()))
        .collect();
    assert_eq!(uris, want);
    assert_eq!(report["totals"]["rows"]["orders"], 5 * 2000);
    // Each file's rows are the plain file's.
    let orders = table_rows(&dest.join("orders"));
    for uri in &want {
        let mine: Vec<&Value> = orders.iter().filter(|r| r["_source_uri"] == uri.as_str()).collect();
        assert_eq!(mine.len(), 2000, "{uri}");
        assert_eq!(mine[7]["ShipInfo"]["Freight"], serde_json::json!(7.35), "{uri}");
    }
    // A compressed file named on the command line is read whatever its name.
    std::fs::write(dir.path().join("named.gz"), gzip(&[doc.as_bytes()])).unwrap();
    let (code, report) = load(&dir.path().join("named.gz"), &dir.path().join("out2"), &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["totals"]["rows"]["orders"], 2000);
}
