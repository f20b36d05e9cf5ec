//! One value larger than the limit: the file is dead-lettered with `value-too-large`
//! without the value being held whole (a 1 GB input with a 200 MB text value stays
//! under 256 MB of memory).

mod common;
use common::*;
use std::io::Write;

const ORDER: &str = "<Order><CustomerID>GREAL</CustomerID><EmployeeID>6</EmployeeID>\
<OrderDate>1997-05-06T00:00:00</OrderDate><RequiredDate>1997-05-20T00:00:00</RequiredDate>\
<ShipInfo ShippedDate=\"1997-05-09T00:00:00\"><ShipVia>2</ShipVia><Freight>3.35</Freight>\
<ShipName>Great Lakes Food Market</ShipName><ShipAddress>2732 Baker Blvd.</ShipAddress>\
<ShipCity>Eugene</ShipCity><ShipRegion>OR</ShipRegion><ShipPostalCode>97403</ShipPostalCode>\
<ShipCountry>USA</ShipCountry></ShipInfo></Order>\n";

/// Writes a document of about `total` bytes whose order number `at_row` has a ShipName
/// of `value` bytes.
fn write_doc(path: &std::path::Path, total: u64, at_row: usize, value: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Root><Orders>\n").unwrap();
    let mut written = 0u64;
    let mut row = 0;
    let chunk = "x".repeat(1 << 20);
    while written < total {
        if row == at_row {
            let (head, tail) = ORDER.split_once("Great Lakes Food Market").unwrap();
            f.write_all(head.as_bytes()).unwrap();
            for _ in 0..value / chunk.len() {
                f.write_all(chunk.as_bytes()).unwrap();
            }
            f.write_all(tail.as_bytes()).unwrap();
            written += value as u64;
        } else {
            f.write_all(ORDER.as_bytes()).unwrap();
            written += ORDER.len() as u64;
        }
        row += 1;
    }
    f.write_all(b"</Orders></Root>\n").unwrap();
}

#[test]
fn a_value_over_the_limit_dead_letters_the_file_with_bounded_memory() {
    if !std::path::Path::new("/usr/bin/time").exists() {
        panic!("/usr/bin/time (Debian package `time`) is needed to measure the peak memory");
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let doc = input.join("big.xml");
    write_doc(&doc, 1 << 30, 20_000, 200 << 20);
    assert!(std::fs::metadata(&doc).unwrap().len() >= 1 << 30);
    let dest = dir.path().join("out");
    let time = dir.path().join("time");
    let o = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o", time.to_str().unwrap(), env!("CARGO_BIN_EXE_xml2bq"), "load"])
        .args([input.to_str().unwrap(), "--dest", dest.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let listing: Vec<_> = std::fs::read_dir(dest.join("_dead_letter"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    let reason = std::fs::read(dest.join("_dead_letter/big.xml.error.json"));
    let reason: serde_json::Value =
        serde_json::from_slice(&reason.unwrap_or_else(|e| panic!("{e}: {listing:?}; {}", stderr(&o)))).unwrap();
    assert_eq!(reason["rule"], "value-too-large", "{reason}");
    assert!(dest.join("_dead_letter/big.xml").exists() && !doc.exists());
    assert!(parts(&dest.join("orders"), "parquet").is_empty(), "no rows of the invalid file");
    // The last line (`time` first notes a non-zero exit status).
    let peak_kb: u64 = std::fs::read_to_string(&time).unwrap().lines().last().unwrap().trim().parse().unwrap();
    assert!(peak_kb < 256 * 1024, "peak RSS {} MiB", peak_kb / 1024);
    eprintln!("peak RSS {} MiB", peak_kb / 1024);

    // A smaller limit applies to a smaller value, also to one written in pieces (CDATA
    // sections: each piece short, the value long).
    let small = input.join("pieces.xml");
    let pieces = format!("<![CDATA[{}]]>", "y".repeat(500)).repeat(10);
    std::fs::write(
        &small,
        format!("<Root><Orders>{}</Orders></Root>", ORDER.replace("Great Lakes Food Market", &pieces)),
    )
    .unwrap();
    let report = dir.path().join("r.json");
    let o = xml2bq(&[
        "validate",
        small.to_str().unwrap(),
        "--max-value-bytes",
        "4096",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["files"][0]["error"]["rule"], "value-too-large");
    assert_eq!(r["files"][0]["error"]["path"], "Root/Orders/Order[1]/ShipInfo/ShipName");
    let o = xml2bq(&["validate", small.to_str().unwrap(), "--max-value-bytes", "5000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
