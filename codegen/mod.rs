//! Generates Rust code from an XSD: record structs, their streaming decoders,
//! Arrow column builders and schemas, and BigQuery JSON schemas.
//!
//! Used by `build.rs` (output goes to `OUT_DIR`) and by the tests, which run it on
//! variants of the schema. The document shape it understands is the "export" shape:
//! one root element whose sequence holds container elements, each container holding
//! one repeated complex element: a table (`Root/Customers/Customer*` → `customers`).

pub mod emit;
pub mod xsd;

/// One table found in the schema.
#[derive(Debug)]
pub struct Table {
    /// Table name: the container's name in snake case (`Customers` → `customers`).
    pub name: String,
    pub container: String,
    pub record: xsd::Element,
}

/// The document shape: root element name and its tables, in document order.
#[derive(Debug)]
pub struct Shape {
    pub root: String,
    pub tables: Vec<Table>,
}

/// Finds the root/container/record shape in a parsed schema.
pub fn shape(schema: &xsd::Schema) -> Result<Shape, String> {
    let root = match schema.roots.as_slice() {
        [r] => r,
        [] => return Err("the XSD declares no top-level element".into()),
        many => {
            let names: Vec<_> = many.iter().map(|e| e.name.as_str()).collect();
            return Err(format!(
                "the XSD declares several top-level elements ({names:?}); xml2bq needs exactly one root"
            ));
        }
    };
    let xsd::Type::Complex(rt) = root.ty else {
        return Err(format!("root element {} has a simple type; it must contain container elements", root.name));
    };
    let rt = &schema.types[rt];
    if !rt.attributes.is_empty() {
        return Err(format!("root element {} has attributes; they would have no table to go to", root.name));
    }
    let mut tables = vec![];
    for c in &rt.children {
        let xsd::Type::Complex(ct) = c.ty else {
            return Err(format!(
                "{}/{} is a simple element; root children must be containers of records",
                root.name, c.name
            ));
        };
        let ct = &schema.types[ct];
        match ct.children.as_slice() {
            [rec]
                if rec.repeated()
                    && matches!(rec.ty, xsd::Type::Complex(_))
                    && !c.repeated()
                    && ct.attributes.is_empty() =>
            {
                tables.push(Table { name: snake(&c.name), container: c.name.clone(), record: rec.clone() })
            }
            _ => {
                return Err(format!(
                    "{}/{} must hold exactly one repeated complex element (the table's records) and no attributes",
                    root.name, c.name
                ));
            }
        }
    }
    if tables.is_empty() {
        return Err(format!("root element {} holds no containers of records", root.name));
    }
    Ok(Shape { root: root.name.clone(), tables })
}

/// Generates the whole Rust module for an XSD text.
pub fn generate(xsd_text: &str) -> Result<String, String> {
    let schema = xsd::parse(xsd_text)?;
    let shape = shape(&schema)?;
    emit::emit(&schema, &shape)
}

/// `CustomerID` → `customer_id`, `ShipVia` → `ship_via`, `postal-code` → `postal_code`.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A column name BigQuery accepts: letters, digits and underscores.
pub fn column(name: &str) -> String {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}
