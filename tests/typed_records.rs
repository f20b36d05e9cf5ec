//! The typed record structs generated from the sample schema are filled by the same
//! generated decoders as the Arrow columns: every sample file decoded both ways gives
//! the same rows, value for value.

#[allow(clippy::all, dead_code, unused_variables, unused_mut)]
mod schema {
    include!(concat!(env!("OUT_DIR"), "/schema.rs"));
}
mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch, StructArray};
use common::*;
use schema::records::{Customer, Order};
use schema::{Row, decode_rows};

fn typed(file: &std::path::Path) -> Result<(Vec<Customer>, Vec<Order>), xml2bq_core::DecodeError> {
    let (mut customers, mut orders) = (vec![], vec![]);
    decode_rows(std::fs::File::open(file).unwrap(), |row| match row {
        Row::Customers(c) => customers.push(c),
        Row::Orders(o) => orders.push(o),
    })?;
    Ok((customers, orders))
}

fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = b.column_by_name(name).unwrap().as_string::<i32>();
    (0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i).to_string())).collect()
}

fn field<'a>(s: &'a StructArray, name: &str) -> &'a dyn Array {
    s.column_by_name(name).unwrap().as_ref()
}

#[test]
fn sample_files_decode_into_typed_records_with_the_values_of_the_load_path() {
    let (mut n_customers, mut n_orders) = (0, 0);
    for name in ["customer-orders.xml", "customers.xml", "orders.xml", "empty_data.xml"] {
        let file = std::path::Path::new(SAMPLE).join(name);
        let (customers, orders) = typed(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = tempfile::tempdir().unwrap();
        let o = xml2bq(&["load", file.to_str().unwrap(), "--dest", out.path().to_str().unwrap(), "--keep-source"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));

        match read_table(&out.path().join("customers")) {
            None => assert!(customers.is_empty(), "{name}: typed customers the load path did not write"),
            Some(b) => {
                assert_eq!(customers.len(), b.num_rows(), "{name}");
                let ids: Vec<Option<String>> = customers.iter().map(|c| c.customer_id.clone()).collect();
                assert_eq!(ids, strings(&b, "CustomerID"), "{name}");
                let phones: Vec<Option<String>> = customers.iter().map(|c| Some(c.phone.clone())).collect();
                assert_eq!(phones, strings(&b, "Phone"), "{name}");
                let faxes: Vec<Option<String>> = customers.iter().map(|c| c.fax.clone()).collect();
                assert_eq!(faxes, strings(&b, "Fax"), "{name}");
                let address = b.column_by_name("FullAddress").unwrap().as_struct();
                let cities = field(address, "City").as_string::<i32>();
                for (i, c) in customers.iter().enumerate() {
                    assert_eq!(c.full_address.city, cities.value(i), "{name} customer {i}");
                }
            }
        }
        match read_table(&out.path().join("orders")) {
            None => assert!(orders.is_empty(), "{name}: typed orders the load path did not write"),
            Some(b) => {
                assert_eq!(orders.len(), b.num_rows(), "{name}");
                let ids: Vec<Option<String>> = orders.iter().map(|o| Some(o.customer_id.clone())).collect();
                assert_eq!(ids, strings(&b, "CustomerID"), "{name}");
                let dates = b.column_by_name("OrderDate").unwrap().as_primitive::<TimestampMicrosecondType>();
                let ship = b.column_by_name("ShipInfo").unwrap().as_struct();
                let freight = field(ship, "Freight").as_primitive::<Decimal128Type>();
                let via = field(ship, "ShipVia").as_primitive::<Int64Type>();
                for (i, o) in orders.iter().enumerate() {
                    assert_eq!(o.order_date.0, dates.value(i), "{name} order {i}");
                    assert_eq!(o.ship_info.freight.0, freight.value(i), "{name} order {i}");
                    assert_eq!(o.ship_info.ship_via, via.value(i), "{name} order {i}");
                }
            }
        }
        n_customers += customers.len();
        n_orders += orders.len();
    }
    assert_eq!((n_customers, n_orders), (5, 23));
    // A value checked by hand once: the first order of customer-orders.xml.
    let (_, orders) = typed(&std::path::Path::new(SAMPLE).join("customer-orders.xml")).unwrap();
    assert_eq!(orders[0].customer_id, "GREAL");
    assert_eq!(orders[0].order_date.0, 862_876_800_000_000, "1997-05-06T00:00:00");
    assert_eq!(orders[0].ship_info.freight.0, 3_350_000_000, "3.35 scaled by 10^9");
}

#[test]
fn an_invalid_file_is_an_error_with_its_rule() {
    let e = typed(&std::path::Path::new(SAMPLE).join("headers_only.xml")).unwrap_err();
    assert_eq!(e.rule.as_str(), "no-tables");
}
