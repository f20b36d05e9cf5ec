//! One file per edge case: each is either loaded with the exact expected value or
//! dead-lettered with a reason that names the element, and nothing of it is written.

mod common;
use common::*;
use serde_json::Value;

const CUSTOMER: &str = r#"<Customer CustomerID="GREAL">
      <CompanyName>Great Lakes Food Market</CompanyName>
      <ContactName>Howard Snyder</ContactName>
      <ContactTitle>Marketing Manager</ContactTitle>
      <Phone>(503) 555-7555</Phone>
      <FullAddress>
        <Address>2732 Baker Blvd.</Address>
        <City>Eugene</City>
        <Region>OR</Region>
        <PostalCode>97403</PostalCode>
        <Country>USA</Country>
      </FullAddress>
    </Customer>"#;

const ORDER: &str = r#"<Order>
      <CustomerID>GREAL</CustomerID>
      <EmployeeID>6</EmployeeID>
      <OrderDate>1997-05-06T00:00:00</OrderDate>
      <RequiredDate>1997-05-20T00:00:00</RequiredDate>
      <ShipInfo ShippedDate="1997-05-09T00:00:00">
        <ShipVia>2</ShipVia>
        <Freight>3.35</Freight>
        <ShipName>Great Lakes Food Market</ShipName>
        <ShipAddress>2732 Baker Blvd.</ShipAddress>
        <ShipCity>Eugene</ShipCity>
        <ShipRegion>OR</ShipRegion>
        <ShipPostalCode>97403</ShipPostalCode>
        <ShipCountry>USA</ShipCountry>
      </ShipInfo>
    </Order>"#;

fn doc(customer: &str, order: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Root>\n  <Customers>\n    {customer}\n  </Customers>\n  <Orders>\n    {ORDER}\n    {order}\n  </Orders>\n</Root>\n"
    )
}

struct Outcome {
    code: Option<i32>,
    reason: Option<Value>,
    customers: Vec<Value>,
    orders: Vec<Value>,
    source_exists: bool,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn run(name: &str, bytes: &[u8]) -> Outcome {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = input.path().join(name);
    std::fs::write(&file, bytes).unwrap();
    let o = xml2bq(&["load", file.to_str().unwrap(), "--dest", out.path().to_str().unwrap(), "--quiet"]);
    let reason_path = out.path().join("_dead_letter").join(format!("{name}.error.json"));
    let reason = std::fs::read(&reason_path).ok().map(|b| serde_json::from_slice(&b).unwrap());
    if reason.is_some() {
        assert_eq!(
            std::fs::read(out.path().join("_dead_letter").join(name)).unwrap(),
            bytes,
            "dead-letter copy is exact"
        );
    }
    Outcome {
        code: o.status.code(),
        reason,
        customers: table_rows(&out.path().join("customers")),
        orders: table_rows(&out.path().join("orders")),
        source_exists: file.exists(),
        _dirs: (input, out),
    }
}

/// Asserts a file was dead-lettered for `rule` at a path ending in `path_end`.
fn assert_rejected(o: &Outcome, rule: &str, path_end: &str) {
    assert_eq!(o.code, Some(3));
    let r = o.reason.as_ref().expect("an .error.json");
    assert_eq!(r["rule"], rule, "reason: {r}");
    let path = r["path"].as_str().unwrap();
    assert!(path.ends_with(path_end), "path {path:?} should end with {path_end:?}; reason: {r}");
    assert!(r["line"].as_u64().unwrap() >= 1);
    assert!(o.customers.is_empty() && o.orders.is_empty(), "an invalid file writes no rows");
    assert!(!o.source_exists, "the source is removed after the verified copy");
}

#[test]
fn truncated_right_after_a_complete_order() {
    let full = doc(CUSTOMER, ORDER);
    let cut = &full[..full.rfind("</Order>").unwrap() + "</Order>".len()];
    let o = run("truncated.xml", cut.as_bytes());
    assert_rejected(&o, "truncated", "Root/Orders");
}

#[test]
fn truncated_mid_tag() {
    let full = doc(CUSTOMER, ORDER);
    let o = run("cut.xml", &full.as_bytes()[..full.find("<Freight>").unwrap() + 4]);
    assert_eq!(o.reason.as_ref().unwrap()["rule"], "truncated", "{:?}", o.reason);
    assert!(o.orders.is_empty());
}

#[test]
fn bad_datetime() {
    let o = run("baddate.xml", doc(CUSTOMER, &ORDER.replace("1997-05-20T00:00:00", "1997-02-30T00:00:00")).as_bytes());
    assert_rejected(&o, "invalid-value", "Root/Orders/Order[2]/RequiredDate");
    assert!(o.reason.unwrap()["message"].as_str().unwrap().contains("1997-02-30"));
}

#[test]
fn a_bad_value_of_a_leaf_read_whole_is_reported_where_its_text_starts() {
    // RequiredDate is read in one step (`Decoder::next_leaf`): the reason is the one its
    // events give, at the first byte of the text.
    let bytes = doc(CUSTOMER, &ORDER.replace("1997-05-20T00:00:00", "1997-02-30T00:00:00")).into_bytes();
    let at = bytes.windows(10).position(|w| w == b"1997-02-30").unwrap();
    let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
    let column = at - bytes[..at].iter().rposition(|&b| b == b'\n').unwrap();
    let o = run("baddate2.xml", &bytes);
    let r = o.reason.clone().unwrap();
    assert_rejected(&o, "invalid-value", "Root/Orders/Order[2]/RequiredDate");
    assert_eq!(
        (r["offset"].as_u64(), r["line"].as_u64(), r["column"].as_u64()),
        (Some(at as u64), Some(line as u64), Some(column as u64)),
        "{r}"
    );
}

#[test]
fn non_numeric_freight() {
    let o = run("freight.xml", doc(CUSTOMER, &ORDER.replace("<Freight>3.35", "<Freight>3,35")).as_bytes());
    assert_rejected(&o, "invalid-value", "Order[2]/ShipInfo/Freight");
    assert!(o.reason.unwrap()["message"].as_str().unwrap().contains("\"3,35\""));
}

#[test]
fn integer_out_of_range_is_an_error_not_a_wrap() {
    // A valid xs:integer that INT64 cannot hold: unrepresentable, never wrapped.
    let o = run("shipvia.xml", doc(CUSTOMER, &ORDER.replace("<ShipVia>2", "<ShipVia>9223372036854775808")).as_bytes());
    assert_rejected(&o, "unrepresentable", "ShipInfo/ShipVia");
    assert!(o.reason.unwrap()["message"].as_str().unwrap().contains("INT64"));
}

#[test]
fn unknown_element() {
    let o = run("unknown.xml", doc(&CUSTOMER.replace("<Phone>", "<Email>a@b.c</Email>\n      <Phone>"), "").as_bytes());
    assert_rejected(&o, "unknown-element", "Root/Customers/Customer[1]/Email");
    assert!(o.reason.unwrap()["message"].as_str().unwrap().contains("<Email>"));
}

#[test]
fn unknown_attribute() {
    let o = run(
        "attr.xml",
        doc(&CUSTOMER.replace("CustomerID=\"GREAL\"", "CustomerID=\"GREAL\" Vip=\"y\""), "").as_bytes(),
    );
    assert_rejected(&o, "unknown-attribute", "Customer[1]/@Vip");
}

#[test]
fn missing_required_element() {
    let o = run("missing.xml", doc(CUSTOMER, &ORDER.replace("<EmployeeID>6</EmployeeID>", "")).as_bytes());
    assert_rejected(&o, "missing-element", "Root/Orders/Order[2]/EmployeeID");
}

#[test]
fn element_repeated_out_of_order() {
    let twice = CUSTOMER.replace("<Phone>(503) 555-7555</Phone>", "<Phone>1</Phone>\n      <Phone>2</Phone>");
    let o = run("order.xml", doc(&twice, "").as_bytes());
    assert_rejected(&o, "out-of-order", "Customer[1]/Phone[2]");
}

#[test]
fn swapped_elements_name_the_missing_one() {
    let swapped = CUSTOMER.replace(
        "<ContactName>Howard Snyder</ContactName>\n      <ContactTitle>Marketing Manager</ContactTitle>",
        "<ContactTitle>Marketing Manager</ContactTitle>\n      <ContactName>Howard Snyder</ContactName>",
    );
    let o = run("swap.xml", doc(&swapped, "").as_bytes());
    assert_rejected(&o, "missing-element", "Customer[1]/ContactName");
    assert!(o.reason.unwrap()["message"].as_str().unwrap().contains("<ContactTitle>"));
}

#[test]
fn doctype_with_internal_entity() {
    let x = doc(CUSTOMER, "")
        .replacen("<Root>", "<!DOCTYPE Root [ <!ENTITY boom \"boom boom boom\"> ]>\n<Root>", 1)
        .replace("Howard Snyder", "&boom;");
    let o = run("doctype.xml", x.as_bytes());
    assert_rejected(&o, "doctype-forbidden", "");
    assert_eq!(o.reason.unwrap()["line"], 2);
}

#[test]
fn invalid_utf8() {
    let mut bytes = doc(CUSTOMER, "").into_bytes();
    let at = bytes.windows(6).position(|w| w == b"Eugene").unwrap();
    bytes[at + 1] = 0xFF;
    let o = run("latin1.xml", &bytes);
    assert_eq!(o.code, Some(3));
    let r = o.reason.unwrap();
    assert_eq!(r["rule"], "invalid-utf8", "{r}");
    assert_eq!(r["offset"], at as u64 + 1);
    assert!(o.orders.is_empty() && o.customers.is_empty());
}

#[test]
fn an_unknown_encoding_is_refused_with_advice() {
    // ISO-8859-1 and the other encodings of the Encoding Standard load (tests/encodings.rs).
    let x = doc(CUSTOMER, "").replace("encoding=\"utf-8\"", "encoding=\"EBCDIC-Klingon\"");
    let o = run("decl.xml", x.as_bytes());
    assert_eq!(o.reason.as_ref().unwrap()["rule"], "unsupported-encoding");
    assert!(o.reason.unwrap()["message"].as_str().unwrap().contains("UTF-8"));
}

#[test]
fn token_whitespace_is_collapsed_string_is_kept() {
    // A second customer (the sample's keyref: the first order still names GREAL).
    let second = CUSTOMER
        .replace("CustomerID=\"GREAL\"", "CustomerID=\"  GR\tEAL  \"")
        .replace("<Region>OR</Region>", "<Region/>")
        .replace("<Phone>(503) 555-7555</Phone>", "<Phone>  (503)  555-7555 </Phone>");
    let x = doc(
        &format!("{CUSTOMER}\n    {second}"),
        &ORDER
            .replace("<CustomerID>GREAL</CustomerID>", "<CustomerID>\n   GR   EAL \n</CustomerID>")
            .replace("<ShipVia>2", "<ShipVia> 2 "),
    );
    let o = run("token.xml", x.as_bytes());
    assert_eq!(o.code, Some(0));
    assert_eq!(o.customers[1]["CustomerID"], "GR EAL");
    assert_eq!(o.customers[1]["Phone"], "  (503)  555-7555 ", "xs:string keeps every space");
    assert_eq!(o.customers[1]["FullAddress"]["Region"], "", "present but empty is the empty string, not null");
    assert_eq!(o.orders[1]["CustomerID"], "GR EAL");
    assert_eq!(o.orders[1]["ShipInfo"]["ShipVia"], 2);
}

#[test]
fn entities_cdata_and_non_latin_text_come_through_exactly() {
    // A second customer (the sample's keyref: the order names GREAL).
    let second = CUSTOMER
        .replace("Great Lakes Food Market", "O'Reilly &amp; Daughters")
        .replace("Howard Snyder", "<![CDATA[<b>Bold</b> & \"quoted\"]]> &lt;ok&gt;")
        .replace("Marketing Manager", "東京 Ελλάδα Ünïcödé 🚀 &#x263A;&#65;")
        .replace("2732 Baker Blvd.", "Line1\r\nLine2")
        .replace("CustomerID=\"GREAL\"", "CustomerID=\"A&amp;B\"");
    let x = doc(&format!("{CUSTOMER}\n    {second}"), "");
    let o = run("unicode.xml", x.as_bytes());
    assert_eq!(o.code, Some(0));
    let c = &o.customers[1];
    assert_eq!(c["CompanyName"], "O'Reilly & Daughters");
    assert_eq!(c["ContactName"], "<b>Bold</b> & \"quoted\" <ok>");
    assert_eq!(c["ContactTitle"], "東京 Ελλάδα Ünïcödé 🚀 ☺A");
    assert_eq!(c["FullAddress"]["Address"], "Line1\nLine2", "XML line-end normalization");
    assert_eq!(c["CustomerID"], "A&B");
}

#[test]
fn text_where_only_elements_belong() {
    let o = run("text.xml", doc(&CUSTOMER.replace("<FullAddress>", "stray text<FullAddress>"), "").as_bytes());
    assert_eq!(o.reason.as_ref().unwrap()["rule"], "unexpected-text");
    assert!(o.reason.unwrap()["path"].as_str().unwrap().contains("Customer[1]"));
}

#[test]
fn wrong_root_and_content_after_root() {
    let o = run("root.xml", b"<?xml version=\"1.0\"?><Export><Orders/></Export>");
    assert_rejected(&o, "wrong-root", "Export");
    let o = run("after.xml", format!("{}<Root/>", doc(CUSTOMER, "")).as_bytes());
    assert_eq!(o.reason.unwrap()["rule"], "not-well-formed");
}

#[test]
fn mismatched_end_tag() {
    let o = run("mismatch.xml", doc(&CUSTOMER.replace("</City>", "</Town>"), "").as_bytes());
    assert_eq!(o.reason.as_ref().unwrap()["rule"], "not-well-formed");
    assert!(o.customers.is_empty());
}

#[test]
fn only_orders_and_empty_containers_are_valid() {
    let x = format!("<Root><Orders>{ORDER}</Orders></Root>");
    let o = run("orders_only.xml", x.as_bytes());
    assert_eq!(o.code, Some(0));
    assert_eq!((o.customers.len(), o.orders.len()), (0, 1));
    let o = run("empty.xml", b"<Root><Customers/><Orders></Orders></Root>");
    assert_eq!(o.code, Some(0));
    let o = run("twice.xml", b"<Root><Orders/><Customers/></Root>");
    assert_rejected(&o, "out-of-order", "Root/Customers");
}

#[test]
fn zoned_datetime_in_a_datetime_column_is_its_utc_wall_time() {
    // OrderDate is a DATETIME (the sample's mapping): a zoned value is stored as its UTC wall time.
    let o =
        run("zone.xml", doc(CUSTOMER, &ORDER.replace("1997-05-06T00:00:00", "1997-05-06T00:00:00+02:00")).as_bytes());
    assert_eq!(o.code, Some(0));
    assert_eq!(o.orders[1]["OrderDate"], "1997-05-05T22:00:00");
    assert_eq!(o.orders[0]["OrderDate"], "1997-05-06T00:00:00");
}

#[test]
fn an_order_naming_no_customer_of_the_file_breaks_the_keyref() {
    // The sample XSD's xs:keyref: every Order's CustomerID names a Customer of the same file.
    let o = run("keyref.xml", doc(CUSTOMER, &ORDER.replace("<CustomerID>GREAL", "<CustomerID>NOSUCH")).as_bytes());
    assert_rejected(&o, "keyref", "Root");
    let r = o.reason.as_ref().expect("an .error.json");
    assert!(r["message"].as_str().unwrap().contains("NOSUCH"), "the reason names the value: {r}");
    // The same order in a file without Customers: the keyref's scope is absent, nothing to check.
    let only_orders =
        format!("<Root><Orders>{}</Orders></Root>", ORDER.replace("<CustomerID>GREAL", "<CustomerID>NOSUCH"));
    let o = run("orders-only.xml", only_orders.as_bytes());
    assert_eq!(o.code, Some(0), "reason: {:?}", o.reason);
    assert_eq!(o.orders.len(), 1);
    assert_eq!(o.orders[0]["CustomerID"], "NOSUCH");
}
