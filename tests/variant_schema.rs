//! Code generated from `tests/fixtures/variant.xsd`, compiled and run: repeated and
//! optional elements and structs, attributes, every supported simple type.

#[allow(dead_code, clippy::all)]
mod variant {
    include!(concat!(env!("OUT_DIR"), "/variant_gen.rs"));
}

use arrow_array::RecordBatch;
use xml2bq::parse::{DecodeError, Decoder, document};

fn decode(xml: &str) -> Result<(Vec<u64>, Vec<RecordBatch>), DecodeError> {
    let mut d = Decoder::new(xml.as_bytes());
    let mut batches = vec![];
    let rows = document::decode::<variant::Tables, _>(&mut d, "mem://x", 2, |_, b| {
        batches.push(b);
        Ok(())
    })?;
    Ok((rows, batches))
}

fn rows(batches: &[RecordBatch]) -> Vec<serde_json::Value> {
    let mut w = arrow_json::ArrayWriter::new(Vec::new());
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    serde_json::from_slice(&w.into_inner()).unwrap()
}

const P1: &str = r#"<Product sku=" A-1 " active="true">
  <Name>Big	Box</Name>
  <Tag>red</Tag><Tag> blue </Tag>
  <Price>19.990</Price>
  <Weight>1.5e1</Weight>
  <Launched>2024-02-29</Launched>
  <Updated>2024-03-01T10:00:00.25+02:00</Updated>
  <Dimensions><W>3</W><H>4</H></Dimensions>
  <Variant><Code> S </Code><Stock>7</Stock></Variant>
  <Variant><Code>M</Code><Stock>65535</Stock></Variant>
  <Rating>5</Rating>
</Product>"#;

const P2: &str = r#"<Product sku="B-2">
  <Name>Plain</Name>
  <Price>-0.5</Price>
  <Launched>1999-12-31</Launched>
  <Updated>1999-12-31T23:59:59Z</Updated>
  <Variant><Code>ONE</Code><Stock>0</Stock></Variant>
  <Rating>0</Rating>
</Product>"#;

#[test]
fn every_supported_shape_decodes() {
    let xml = format!("<Export><Products>{P1}{P2}{P1}</Products></Export>");
    let (n, batches) = decode(&xml).unwrap();
    assert_eq!(n, vec![3]);
    assert_eq!(batches.len(), 2, "batch_rows=2 cuts 3 rows into 2 batches");
    let r = rows(&batches);
    assert_eq!(r.len(), 3);
    let a = &r[0];
    assert_eq!(a["sku"], "A-1");
    assert_eq!(a["active"], true);
    assert_eq!(a["Name"], "Big Box", "normalizedString turns the tab into a space");
    assert_eq!(a["Tag"], serde_json::json!(["red", " blue "]));
    assert_eq!(a["Price"].to_string(), "19.99");
    assert_eq!(a["Weight"], 15.0);
    assert_eq!(a["Launched"], "2024-02-29");
    assert_eq!(a["Updated"], "2024-03-01T08:00:00.250Z");
    assert_eq!(a["Dimensions"], serde_json::json!({"W": 3, "H": 4}));
    assert_eq!(a["Variant"], serde_json::json!([{"Code": "S", "Stock": 7}, {"Code": "M", "Stock": 65535}]));
    assert_eq!(a["Rating"], 5);
    assert_eq!(a["_record_ordinal"], 1);
    let b = &r[1];
    assert!(b.get("active").is_none_or(|v| v.is_null()));
    assert!(b.get("Weight").is_none_or(|v| v.is_null()));
    assert!(b.get("Dimensions").is_none_or(|v| v.is_null()), "absent optional struct is null: {b}");
    assert_eq!(b["Tag"], serde_json::json!([]), "absent repeated element is an empty list");
    assert_eq!(b["Variant"], serde_json::json!([{"Code": "ONE", "Stock": 0}]));
    assert_eq!(r[2]["sku"], "A-1");
    assert_eq!(r[2]["_record_ordinal"], 3);
}

fn rule(xml: String) -> (String, String) {
    let e = decode(&format!("<Export><Products>{xml}</Products></Export>")).unwrap_err();
    (e.rule.as_str().to_string(), e.path)
}

#[test]
fn occurrence_attribute_and_range_rules() {
    let four = P2.replace("<Rating>", "<Variant><Code>2</Code><Stock>1</Stock></Variant><Variant><Code>3</Code><Stock>1</Stock></Variant><Variant><Code>4</Code><Stock>1</Stock></Variant><Rating>");
    assert_eq!(rule(four), ("out-of-order".into(), "Export/Products/Product[1]/Variant".into()));
    let none = P2.replace("<Variant><Code>ONE</Code><Stock>0</Stock></Variant>", "");
    assert_eq!(rule(none).0, "missing-element");
    assert_eq!(
        rule(P2.replace(" sku=\"B-2\"", "")),
        ("missing-attribute".into(), "Export/Products/Product[1]/@sku".into())
    );
    assert_eq!(
        rule(P2.replace("<Stock>0", "<Stock>70000")),
        ("invalid-value".into(), "Export/Products/Product[1]/Variant[1]/Stock".into())
    );
    assert_eq!(rule(P2.replace("Z</Updated>", "</Updated>")).0, "invalid-value");
    assert_eq!(
        rule(P1.replace("<H>4</H>", "")),
        ("missing-element".into(), "Export/Products/Product[1]/Dimensions/H".into())
    );
    assert_eq!(
        rule(P2.replace("active", "x").replace("sku=\"B-2\"", "sku=\"B-2\" active=\"maybe\"")).0,
        "invalid-value"
    );
}
