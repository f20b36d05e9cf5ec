//! One file decoded in segments on several cores gives exactly the rows, ordinals and
//! errors of one sequential pass — including files built to fool the segment cuts.

mod common;
use common::*;
use std::path::Path;

struct Run {
    code: Option<i32>,
    report: serde_json::Value,
    customers: Vec<serde_json::Value>,
    orders: Vec<serde_json::Value>,
}

fn run(file: &Path, parallel: bool) -> Run {
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    let mut args = vec![
        "load".to_string(),
        file.to_str().unwrap().into(),
        "--dest".into(),
        out.path().to_str().unwrap().into(),
        "--keep-source".into(),
        "--quiet".into(),
        "--report".into(),
        report.to_str().unwrap().into(),
        "--batch-rows".into(),
        "50".into(),
    ];
    if parallel {
        args.extend(["--threads", "4", "--split-min-bytes", "0", "--segment-bytes", "3000"].map(String::from));
    } else {
        args.extend(["--threads", "1"].map(String::from));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = xml2bq(&args);
    Run {
        code: o.status.code(),
        report: serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap(),
        customers: table_rows(&out.path().join("customers")),
        orders: table_rows(&out.path().join("orders")),
    }
}

/// `text` with the `n`th (0-based) occurrence of `pat` replaced by `with`.
fn replace_nth(text: &str, pat: &str, n: usize, with: &str) -> String {
    let (at, _) = text.match_indices(pat).nth(n).expect("enough occurrences");
    format!("{}{with}{}", &text[..at], &text[at + pat.len()..])
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn segments_give_the_rows_of_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "big.xml", &orders_document(300, "", ""));
    let (seq, par) = (run(&f, false), run(&f, true));
    assert_eq!((seq.code, par.code), (Some(0), Some(0)));
    assert!(
        par.report["files"][0]["segments"].as_u64().unwrap() > 20,
        "the parallel path ran: {}",
        par.report["files"][0]
    );
    assert!(seq.report["files"][0].get("segments").is_none());
    // The workers decode every row but those of the first segment (this thread's),
    // the orders after `</Customers><Orders>` too: a run stops there, the next starts
    // at the first `<Order>`.
    let text = std::fs::read_to_string(&f).unwrap();
    let in_first_segment = text[..3000].matches("</Customer>").count() as u64;
    assert_eq!(par.report["files"][0]["segment_rows"].as_u64(), Some(600 - in_first_segment), "{}", par.report);
    assert_eq!(par.orders.len(), 300);
    assert_eq!(par.customers.len(), 300);
    assert_eq!(par.orders, seq.orders, "same rows, same ordinals");
    assert_eq!(par.customers, seq.customers);
    let ordinals: Vec<i64> = par.orders.iter().map(|r| r["_record_ordinal"].as_i64().unwrap()).collect();
    assert_eq!(ordinals, (1..=300).collect::<Vec<_>>());
    assert_eq!(par.orders[123]["ShipInfo"]["ShipName"], "O'Reilly & Daughters 東京 123");
    assert_eq!(par.orders[123]["CustomerID"], "C123");
}

#[test]
fn end_tags_inside_comments_and_cdata_do_not_fool_the_cuts() {
    let dir = tempfile::tempdir().unwrap();
    for (name, decoy) in
        [("comment.xml", "    <!-- </Order> </Customer> -->\n"), ("pi.xml", "    <?note </Order></Customer>?>\n")]
    {
        let f = write(dir.path(), name, &orders_document(200, decoy, ""));
        let (seq, par) = (run(&f, false), run(&f, true));
        assert_eq!((seq.code, par.code), (Some(0), Some(0)), "{name}");
        assert_eq!(par.orders.len(), 200, "{name}");
        assert_eq!(par.orders, seq.orders, "{name}");
        assert_eq!(par.customers, seq.customers, "{name}");
    }
    // Start tags between runs, inside a comment: a worker's next run would start there.
    // Either way, the rows of one pass.
    let decoy = "<!-- <Order><CustomerID>C9</CustomerID><EmployeeID>1</EmployeeID><OrderDate>2000-01-01T00:00:00</OrderDate>\
                 <RequiredDate>2000-01-02T00:00:00</RequiredDate><ShipInfo><ShipVia>1</ShipVia><Freight>1</Freight>\
                 <ShipName>x</ShipName><ShipAddress>x</ShipAddress><ShipCity>x</ShipCity><ShipPostalCode>1</ShipPostalCode>\
                 <ShipCountry>x</ShipCountry></ShipInfo></Order> -->";
    let text = orders_document(200, "", "").replace("<Orders>\n", &format!("<Orders>\n{decoy}\n"));
    let f = write(dir.path(), "start-tag-decoy.xml", &text);
    let (seq, par) = (run(&f, false), run(&f, true));
    assert_eq!((seq.code, par.code), (Some(0), Some(0)));
    assert_eq!(par.orders.len(), 200);
    assert_eq!(par.orders, seq.orders);
    assert_eq!(par.customers, seq.customers);
    // CDATA holding end tags, inside a record.
    let text = orders_document(200, "", "").replace("Orchestra Terrace]]>", "Orchestra </Order></Customer> Terrace]]>");
    let f = write(dir.path(), "cdata.xml", &text);
    let (seq, par) = (run(&f, false), run(&f, true));
    assert_eq!((seq.code, par.code), (Some(0), Some(0)));
    assert_eq!(par.orders, seq.orders);
    assert_eq!(par.orders[5]["ShipInfo"]["ShipAddress"], "<b>12</b> Orchestra </Order></Customer> Terrace");
}

#[test]
fn invalid_files_get_the_reason_of_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let good = orders_document(200, "", "");
    let cases = [
        (
            "value.xml",
            good.replacen("<Freight>150.35</Freight>", "<Freight>x</Freight>", 1),
            "invalid-value",
            "Root/Orders/Order[151]/ShipInfo/Freight",
        ),
        ("truncated.xml", good[..good.rfind("</Order>").unwrap() + 8].to_string(), "truncated", "Root/Orders"),
        ("close.xml", good.replace("  </Orders>\n</Root>", "  </Ordrs>\n</Root>"), "not-well-formed", ""),
        ("utf8.xml", good.replacen("Zoë", "Zo\u{FFFD}", 1), "", ""),
        // Identity constraints: tuples the workers collect, checked by the stitched decode.
        ("keyref.xml", good.replacen("<CustomerID>C150<", "<CustomerID>C999<", 1), "keyref", "Root"),
        ("key.xml", good.replacen("CustomerID=\"C150\"", "CustomerID=\"C3\"", 1), "key-duplicate", ""),
    ];
    for (name, text, rule, path) in cases {
        let mut bytes = text.into_bytes();
        if name == "utf8.xml" {
            let at = bytes.windows(3).position(|w| w == "\u{FFFD}".as_bytes()).unwrap();
            bytes[at] = 0xFF; // not UTF-8
        }
        let f = dir.path().join(name);
        std::fs::write(&f, &bytes).unwrap();
        let (seq, par) = (run(&f, false), run(&f, true));
        assert_eq!((seq.code, par.code), (Some(3), Some(3)), "{name}");
        let (se, pe) = (&seq.report["files"][0]["error"], &par.report["files"][0]["error"]);
        assert_eq!(pe, se, "{name}: the same reason, line and column");
        if !rule.is_empty() {
            assert_eq!(pe["rule"], rule, "{name}: {pe}");
        } else {
            assert_eq!(pe["rule"], "invalid-utf8", "{name}: {pe}");
        }
        if !path.is_empty() {
            assert_eq!(pe["path"], path, "{name}");
        }
        assert!(par.orders.is_empty() && par.customers.is_empty(), "{name}: nothing written");
    }
}

#[test]
fn non_ascii_in_date_times_is_an_invalid_value_on_both_paths_never_a_panic_or_a_hang() {
    // Issue 8: a non-ASCII character inside an xs:dateTime panicked (a byte index inside a
    // character), and with two of them the parallel path waited forever.
    let dir = tempfile::tempdir().unwrap();
    let text = orders_document(300, "", "");
    let text = replace_nth(&text, "<OrderDate>1997-05-06T00:00:00", 40, "<OrderDate>1997-05-0\u{e9}T00:00:00");
    let text = replace_nth(&text, "ShippedDate=\"1997-05-09T00:00:00", 250, "ShippedDate=\"1997-05-0&#xE9;T00:00:00");
    for (name, text) in
        [("one.xml", replace_nth(&orders_document(300, "", ""), "05-06T", 7, "05-\u{e9}6T")), ("two.xml", text)]
    {
        let f = write(dir.path(), name, &text);
        let (seq, par) = (run(&f, false), run(&f, true));
        assert_eq!((seq.code, par.code), (Some(3), Some(3)), "{name}: {}", par.report);
        let (s, p) = (&seq.report["files"][0]["error"], &par.report["files"][0]["error"]);
        assert_eq!(s["rule"], "invalid-value", "{name}: {s}");
        assert_eq!((&p["rule"], &p["path"], &p["offset"]), (&s["rule"], &s["path"], &s["offset"]), "{name}");
        assert!(par.orders.is_empty() && seq.orders.is_empty(), "{name}: no rows of an invalid file");
    }
}

#[test]
fn a_byte_order_mark_right_after_a_cut_gets_the_verdict_of_one_pass() {
    // Issue 8: a segment's reader dropped a U+FEFF at its start, so the parallel path
    // loaded what one pass rejects. Here one follows every order: a cut lands before one.
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "bom.xml", &orders_document(200, "", "").replace("</Order>\n", "</Order>\u{FEFF}\n"));
    let (seq, par) = (run(&f, false), run(&f, true));
    assert_eq!((seq.code, par.code), (Some(3), Some(3)));
    let (s, p) = (&seq.report["files"][0]["error"], &par.report["files"][0]["error"]);
    assert_eq!(s["rule"], "unexpected-text", "{s}");
    assert_eq!((&p["rule"], &p["offset"]), (&s["rule"], &s["offset"]));
}
