//! The generator on variants of the XSD: a changed type or a new element changes the
//! generated structs and schemas with no other edit; unsupported constructs are refused.

#[allow(dead_code)]
#[path = "../codegen/mod.rs"]
mod codegen;

const XSD: &str = include_str!("../xsd/customer_orders.xsd");

fn bq(code: &str, table: &str) -> serde_json::Value {
    // The generated TABLES entry carries the BigQuery schema as a Rust string literal.
    let key = format!("name: \"{table}\"");
    let at = code.find(&key).unwrap();
    let start = code[at..].find("bigquery_schema: \"").unwrap() + at + "bigquery_schema: \"".len();
    // Read the Rust string literal up to its closing unescaped quote.
    let mut lit = String::new();
    let mut chars = code[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => lit.push(chars.next().unwrap()),
            '"' => break,
            c => lit.push(c),
        }
    }
    serde_json::from_str(&lit).unwrap()
}

fn field<'a>(schema: &'a serde_json::Value, path: &[&str]) -> &'a serde_json::Value {
    let mut cur = schema;
    let mut found = &serde_json::Value::Null;
    for p in path {
        found = cur.as_array().unwrap().iter().find(|f| f["name"] == *p).unwrap_or_else(|| panic!("no {p}"));
        cur = &found["fields"];
    }
    found
}

#[test]
fn generates_the_sample_schema() {
    let code = codegen::generate(XSD).unwrap();
    assert!(code.contains("pub struct Customer {"));
    assert!(code.contains("pub struct Order {"));
    assert!(code.contains("pub struct Address {"));
    assert!(code.contains("pub struct ShipInfo {"));
    assert!(code.contains("pub fax: Option<String>,"));
    assert!(code.contains("pub full_address: Address,"));
    assert!(code.contains("pub freight: i128,"));
    let orders = bq(&code, "orders");
    assert_eq!(field(&orders, &["ShipInfo", "Freight"])["type"], "NUMERIC");
}

#[test]
fn changing_a_type_changes_the_output() {
    let changed = XSD
        .replace("name='Freight' type='xs:decimal'", "name='Freight' type='xs:double'")
        .replace("name='OrderDate' type='xs:dateTime'", "name='OrderDate' type='xs:dateTimeStamp'");
    let code = codegen::generate(&changed).unwrap();
    let orders = bq(&code, "orders");
    assert_eq!(field(&orders, &["ShipInfo", "Freight"])["type"], "FLOAT64");
    assert_eq!(field(&orders, &["OrderDate"])["type"], "TIMESTAMP");
    assert!(code.contains("pub freight: f64,"));
}

#[test]
fn adding_elements_adds_columns() {
    let changed = XSD.replace(
        "<xs:element name='Fax' minOccurs='0' type='xs:string'/>",
        "<xs:element name='Fax' minOccurs='0' type='xs:string'/>\n<xs:element name='Email' minOccurs='0' maxOccurs='unbounded' type='xs:string'/>\n<xs:element name='Since' type='xs:date'/>\n<xs:element name='Vip' minOccurs='0' type='xs:boolean'/>",
    );
    let code = codegen::generate(&changed).unwrap();
    let customers = bq(&code, "customers");
    assert_eq!(field(&customers, &["Email"])["mode"], "REPEATED");
    assert_eq!(field(&customers, &["Since"])["type"], "DATE");
    assert_eq!(field(&customers, &["Vip"])["type"], "BOOL");
    assert!(code.contains("pub email: Vec<String>,"));
    assert!(code.contains("pub since: i32,"));
}

#[test]
fn a_third_table_and_a_simple_type() {
    let changed = XSD
        .replace(
            "</xs:sequence>\n    </xs:complexType>\n    <xs:key",
            "<xs:element name='Products'><xs:complexType><xs:sequence><xs:element name='Product' maxOccurs='unbounded'><xs:complexType><xs:sequence><xs:element name='Sku' type='Sku'/><xs:element name='Price' type='xs:decimal'/></xs:sequence></xs:complexType></xs:element></xs:sequence></xs:complexType></xs:element>\n      </xs:sequence>\n    </xs:complexType>\n    <xs:key",
        )
        .replace("</xs:schema>", "<xs:simpleType name='Sku'><xs:restriction base='xs:token'><xs:maxLength value='12'/></xs:restriction></xs:simpleType></xs:schema>");
    let code = codegen::generate(&changed).unwrap();
    let products = bq(&code, "products");
    assert_eq!(field(&products, &["Sku"])["type"], "STRING");
    assert_eq!(field(&products, &["Price"])["type"], "NUMERIC");
    assert!(code.contains("pub struct Product {"));
}

#[test]
fn unsupported_constructs_are_refused_by_name() {
    let e = codegen::generate(&XSD.replace(
        "<xs:attribute name='ShippedDate' type='xs:dateTime'/>",
        "<xs:choice><xs:element name='A' type='xs:string'/></xs:choice><xs:attribute name='ShippedDate' type='xs:dateTime'/>",
    ))
    .unwrap_err();
    assert!(e.contains("choice"), "{e}");
    let e = codegen::generate(&XSD.replace("type='xs:decimal'", "type='xs:duration'")).unwrap_err();
    assert!(e.contains("xs:duration"), "{e}");
}

#[test]
fn snake_case_names() {
    assert_eq!(codegen::snake("CustomerID"), "customer_id");
    assert_eq!(codegen::snake("ShipVia"), "ship_via");
    assert_eq!(codegen::snake("HTTPServerName"), "http_server_name");
    assert_eq!(codegen::snake("postal-code"), "postal_code");
}
