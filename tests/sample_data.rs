//! The sample data end to end: counts, exact typed values, the dead-letter, the schema.

mod common;
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, StructArray};
use arrow_schema::{DataType, TimeUnit};
use common::*;

fn load_sample() -> (tempfile::TempDir, tempfile::TempDir, std::process::Output) {
    let input = sample_copy();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().to_str().unwrap();
    let o = xml2bq(&["load", input.path().to_str().unwrap(), "--dest", dest, "--quiet"]);
    (input, out, o)
}

#[test]
fn sample_counts_and_dead_letter() {
    let (input, out, o) = load_sample();
    assert_eq!(o.status.code(), Some(3), "some files dead-lettered → exit 3; stderr: {}", stderr(&o));
    let customers = table_rows(&out.path().join("customers"));
    let orders = table_rows(&out.path().join("orders"));
    let per_file = |rows: &[serde_json::Value], file: &str| {
        rows.iter().filter(|r| r["_source_uri"].as_str().unwrap().ends_with(&format!("/{file}"))).count()
    };
    assert_eq!(customers.len(), 5);
    assert_eq!(orders.len(), 23);
    assert_eq!(per_file(&customers, "customer-orders.xml"), 4);
    assert_eq!(per_file(&customers, "customers.xml"), 1);
    assert_eq!(per_file(&orders, "customer-orders.xml"), 22);
    assert_eq!(per_file(&orders, "orders.xml"), 1);
    assert_eq!(per_file(&orders, "empty_data.xml") + per_file(&customers, "empty_data.xml"), 0);

    // headers_only.xml: moved, with its reason beside it.
    let dl = out.path().join("_dead_letter");
    assert!(!input.path().join("headers_only.xml").exists(), "source removed after a verified copy");
    assert_eq!(
        std::fs::read(dl.join("headers_only.xml")).unwrap(),
        std::fs::read(format!("{SAMPLE}/headers_only.xml")).unwrap()
    );
    let reason: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dl.join("headers_only.xml.error.json")).unwrap()).unwrap();
    assert_eq!(reason["rule"], "no-tables");
    assert_eq!(reason["path"], "Root");
    assert_eq!(reason["line"], 3);
    assert_eq!(reason["size"], 53);
    assert!(reason["message"].as_str().unwrap().contains("Customers"));
    assert!(reason["source"].as_str().unwrap().ends_with("/headers_only.xml"));
    // Every other input is still in place.
    for f in ["customer-orders.xml", "customers.xml", "orders.xml", "empty_data.xml"] {
        assert!(input.path().join(f).exists(), "{f} stays");
    }
}

#[test]
fn sample_values_are_typed_exactly() {
    let (_input, out, _o) = load_sample();
    let customers = read_table(&out.path().join("customers")).unwrap();
    let orders = read_table(&out.path().join("orders")).unwrap();

    // Types.
    let s = orders.schema();
    assert_eq!(s.field_with_name("OrderDate").unwrap().data_type(), &DataType::Timestamp(TimeUnit::Microsecond, None));
    assert!(!s.field_with_name("OrderDate").unwrap().is_nullable());
    let DataType::Struct(ship) = s.field_with_name("ShipInfo").unwrap().data_type() else {
        panic!("ShipInfo is a struct")
    };
    let freight = ship.iter().find(|f| f.name() == "Freight").unwrap();
    assert_eq!(freight.data_type(), &DataType::Decimal128(38, 9));
    let shipped = ship.iter().find(|f| f.name() == "ShippedDate").unwrap();
    assert!(shipped.is_nullable());

    // The first order of customer-orders.xml.
    let rows = json_rows(&orders);
    let i = rows
        .iter()
        .position(|r| r["_source_uri"].as_str().unwrap().ends_with("/customer-orders.xml") && r["_record_ordinal"] == 1)
        .unwrap();
    assert_eq!(orders.column_by_name("CustomerID").unwrap().as_string::<i32>().value(i), "GREAL");
    assert_eq!(orders.column_by_name("EmployeeID").unwrap().as_string::<i32>().value(i), "6");
    let od = orders.column_by_name("OrderDate").unwrap().as_primitive::<TimestampMicrosecondType>();
    assert_eq!(od.value(i), 862_876_800_000_000, "1997-05-06T00:00:00");
    let ship: &StructArray = orders.column_by_name("ShipInfo").unwrap().as_struct();
    assert_eq!(ship.column_by_name("ShipVia").unwrap().as_primitive::<Int64Type>().value(i), 2);
    assert_eq!(
        ship.column_by_name("Freight").unwrap().as_primitive::<Decimal128Type>().value(i),
        3_350_000_000,
        "3.35 exactly"
    );
    let sd = ship.column_by_name("ShippedDate").unwrap().as_primitive::<TimestampMicrosecondType>();
    assert_eq!(sd.value(i), 863_136_000_000_000, "1997-05-09T00:00:00");
    assert_eq!(ship.column_by_name("ShipName").unwrap().as_string::<i32>().value(i), "Great Lakes Food Market");
    assert_eq!(ship.column_by_name("ShipPostalCode").unwrap().as_string::<i32>().value(i), "97403");

    // Customers: GREAL has no Fax (null), HUNGC has one.
    let crow = json_rows(&customers);
    let find = |id: &str| {
        crow.iter()
            .position(|r| r["CustomerID"] == id && r["_source_uri"].as_str().unwrap().ends_with("/customer-orders.xml"))
            .unwrap()
    };
    let fax = customers.column_by_name("Fax").unwrap().as_string::<i32>();
    let (greal, hungc) = (find("GREAL"), find("HUNGC"));
    assert!(fax.is_null(greal), "absent optional element is null");
    assert_eq!(fax.value(hungc), "(503) 555-2376");
    let addr: &StructArray = customers.column_by_name("FullAddress").unwrap().as_struct();
    assert_eq!(addr.column_by_name("City").unwrap().as_string::<i32>().value(hungc), "Elgin");
    assert_eq!(
        addr.column_by_name("Address").unwrap().as_string::<i32>().value(hungc),
        "City Center Plaza 516 Main St."
    );
    assert!(addr.column_by_name("CustomerID").unwrap().is_null(hungc), "absent optional attribute is null");
    assert_eq!(crow[hungc]["_record_ordinal"], 2);
}

#[test]
fn schema_command_prints_bigquery_types() {
    let o = xml2bq(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let field = |table: &str, path: &[&str]| -> serde_json::Value {
        let mut fields = v[table].as_array().unwrap().clone();
        let mut found = serde_json::Value::Null;
        for name in path {
            found = fields.iter().find(|f| f["name"] == *name).unwrap_or_else(|| panic!("{table}: no {name}")).clone();
            fields = found["fields"].as_array().cloned().unwrap_or_default();
        }
        found
    };
    assert_eq!(field("orders", &["OrderDate"])["type"], "DATETIME");
    assert_eq!(field("orders", &["OrderDate"])["mode"], "REQUIRED");
    assert_eq!(field("orders", &["ShipInfo", "Freight"])["type"], "NUMERIC");
    assert_eq!(field("orders", &["ShipInfo", "ShipVia"])["type"], "INT64");
    assert_eq!(field("orders", &["ShipInfo"])["type"], "RECORD");
    assert_eq!(field("customers", &["FullAddress"])["type"], "RECORD");
    assert_eq!(field("customers", &["Fax"])["mode"], "NULLABLE");
    assert_eq!(field("orders", &["ShipInfo", "ShippedDate"])["mode"], "NULLABLE");
    assert_eq!(field("orders", &["ShipInfo", "ShippedDate"])["type"], "DATETIME");
    assert_eq!(field("customers", &["_source_uri"])["type"], "STRING");
    assert_eq!(field("customers", &["_record_ordinal"])["type"], "INT64");
    assert_eq!(v["customers"].as_array().unwrap().len(), 9);

    // --table gives the bare array bq mk takes.
    let o = xml2bq(&["schema", "--table", "orders"]);
    let arr: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(arr, v["orders"]);
    let o = xml2bq(&["schema", "--table", "nope"]);
    assert_eq!(o.status.code(), Some(2), "a usage error");
    assert!(stderr(&o).contains("\"customers\""), "names the real tables: {}", stderr(&o));
}
