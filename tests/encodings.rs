//! Documents in other encodings than UTF-8 (ISO-8859-1, windows-1252, UTF-16 with a
//! byte-order mark) load to the same rows as their UTF-8 original; an unknown label
//! and bytes the declared encoding does not define are invalid files with their rule.

mod common;
use common::*;
use std::path::Path;

const SAMPLE_FILE: &str = "sample-data/customer-orders.xml";

/// The sample with non-ASCII text in it, declaring `label`.
fn text(label: &str, extra: &str) -> String {
    let s = std::fs::read_to_string(SAMPLE_FILE).unwrap();
    let s = s.replacen("encoding=\"utf-8\"", &format!("encoding=\"{label}\""), 1);
    s.replacen("Great Lakes Food Market", &format!("Grëat Låkes Fôod Märket ¿ÿ{extra}"), 1).replacen(
        "Hungry Coyote",
        "Hüngry Çoyote",
        1,
    )
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character")).collect()
}

fn windows_1252(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '€' => 0x80,
            '—' => 0x97,
            c => u8::try_from(u32::from(c)).expect("a windows-1252 character"),
        })
        .collect()
}

fn utf16(s: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for u in s.encode_utf16() {
        out.extend(if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    out
}

/// Loads `bytes` as `name` and returns (exit code, customers, orders) without the source URI.
fn load(name: &str, bytes: &[u8]) -> (Option<i32>, Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::write(input.path().join(name), bytes).unwrap();
    let o = xml2bq(&["load", input.path().to_str().unwrap(), "--dest", out.path().to_str().unwrap(), "--quiet"]);
    let rows = |t: &str| {
        let mut rows = table_rows(&out.path().join(t));
        for r in &mut rows {
            r.as_object_mut().unwrap().remove("_source_uri");
        }
        rows
    };
    (o.status.code(), rows("customers"), rows("orders"))
}

#[test]
fn other_encodings_load_to_the_rows_of_the_utf8_original() {
    for (label, extra, encode) in [
        ("ISO-8859-1", "", latin1 as fn(&str) -> Vec<u8>),
        ("windows-1252", " € —", windows_1252),
        ("UTF-16", "", |s| utf16(s, false)),
        ("UTF-16", " 東京 😀", |s| utf16(s, true)),
    ] {
        let original = text("utf-8", extra);
        let (code, customers, orders) = load("doc.xml", original.as_bytes());
        assert_eq!(code, Some(0));
        assert_eq!((customers.len(), orders.len()), (4, 22));
        assert!(customers.iter().any(|c| c["CompanyName"] == format!("Grëat Låkes Fôod Märket ¿ÿ{extra}")));
        let encoded = encode(&text(label, extra));
        assert_ne!(encoded, original.as_bytes());
        let (code2, customers2, orders2) = load("doc.xml", &encoded);
        assert_eq!(code2, Some(0), "{label}");
        assert_eq!(customers2, customers, "{label}");
        assert_eq!(orders2, orders, "{label}");
    }
}

fn rule_of(name: &str, bytes: &[u8]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join(name);
    std::fs::write(&f, bytes).unwrap();
    let report = dir.path().join("r.json");
    let o = xml2bq(&["validate", f.to_str().unwrap(), "--quiet", "--report", report.to_str().unwrap()]);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(Path::new(&report)).unwrap()).unwrap();
    let rule = r["files"][0]["error"]["rule"].as_str().unwrap_or("").to_string();
    (o.status.code(), rule)
}

#[test]
fn unknown_labels_and_undefined_bytes_are_invalid_with_their_rule() {
    let pure = std::fs::read_to_string(SAMPLE_FILE).unwrap();
    for label in ["utf8", "UTF-8", "ascii", "US-ASCII", "latin1"] {
        let doc = pure.replacen("encoding=\"utf-8\"", &format!("encoding=\"{label}\""), 1);
        assert_eq!(rule_of("ok.xml", doc.as_bytes()), (Some(0), String::new()), "{label}");
    }
    let klingon = pure.replacen("encoding=\"utf-8\"", "encoding=\"klingon\"", 1);
    assert_eq!(rule_of("k.xml", klingon.as_bytes()), (Some(3), "unsupported-encoding".into()));
    let ascii = text("US-ASCII", "");
    assert_eq!(rule_of("a.xml", ascii.as_bytes()), (Some(3), "invalid-encoding".into()));
    let mut sjis = pure.replacen("encoding=\"utf-8\"", "encoding=\"Shift_JIS\"", 1).into_bytes();
    let at = sjis.windows(5).position(|w| w == b"Great").unwrap();
    sjis[at] = 0x81; // a lead byte without its trail byte
    sjis[at + 1] = b' ';
    assert_eq!(rule_of("s.xml", &sjis), (Some(3), "invalid-encoding".into()));
    let bom_says_utf8 = [&[0xEF, 0xBB, 0xBF][..], text("ISO-8859-1", "").as_bytes()].concat();
    assert_eq!(rule_of("b.xml", &bom_says_utf8), (Some(3), "unsupported-encoding".into()));
}
