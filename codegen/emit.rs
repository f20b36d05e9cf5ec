//! Writes the generated Rust module: structs, decoders, Arrow columns, schemas.

use super::xsd::{Builtin, Element, Schema, Type};
use super::{Shape, column, snake};
use std::collections::BTreeSet;
use std::fmt::Write;

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
    "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do",
    "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

fn field_ident(xml_name: &str) -> String {
    let s = snake(xml_name);
    if KEYWORDS.contains(&s.as_str()) { format!("{s}_") } else { s }
}

fn pascal(name: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(if up { c.to_ascii_uppercase() } else { c });
            up = false;
        } else {
            up = true;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

struct Leaf {
    rust: &'static str,
    builder: &'static str,
    arrow: &'static str,
    bq: &'static str,
    /// Whether the Rust value is `Copy` (numbers) rather than a String.
    copy: bool,
}

fn leaf(b: Builtin) -> Leaf {
    use Builtin::*;
    let (rust, builder, arrow, bq, copy) = match b {
        String | NormalizedString | Token => ("String", "StringBuilder", "DataType::Utf8", "STRING", false),
        Integer { .. } => ("i64", "Int64Builder", "DataType::Int64", "INT64", true),
        Decimal => ("i128", "Decimal128Builder", "DataType::Decimal128(38, 9)", "NUMERIC", true),
        Boolean => ("bool", "BooleanBuilder", "DataType::Boolean", "BOOL", true),
        Double => ("f64", "Float64Builder", "DataType::Float64", "FLOAT64", true),
        Date => ("i32", "Date32Builder", "DataType::Date32", "DATE", true),
        DateTime => {
            ("i64", "TimestampMicrosecondBuilder", "DataType::Timestamp(TimeUnit::Microsecond, None)", "DATETIME", true)
        }
        DateTimeStamp => (
            "i64",
            "TimestampMicrosecondBuilder",
            "DataType::Timestamp(TimeUnit::Microsecond, Some(\"+00:00\".into()))",
            "TIMESTAMP",
            true,
        ),
    };
    Leaf { rust, builder, arrow, bq, copy }
}

fn leaf_doc(b: Builtin) -> &'static str {
    use Builtin::*;
    match b {
        String => "xs:string, kept exactly",
        NormalizedString => "xs:normalizedString (tabs and newlines become spaces)",
        Token => "xs:token (whitespace collapsed)",
        Integer { .. } => "xs:integer (range-checked)",
        Decimal => "xs:decimal, exact, scaled by 10^9 (NUMERIC)",
        Boolean => "xs:boolean",
        Double => "xs:double",
        Date => "xs:date, days since 1970-01-01",
        DateTime => "xs:dateTime without zone, microseconds since 1970-01-01T00:00:00 (DATETIME)",
        DateTimeStamp => "xs:dateTimeStamp, microseconds since the epoch, UTC (TIMESTAMP)",
    }
}

/// The whitespace rule of a string builtin, or None for typed values.
fn ws(b: Builtin) -> Option<&'static str> {
    match b {
        Builtin::String => Some("Ws::Preserve"),
        Builtin::NormalizedString => Some("Ws::Replace"),
        Builtin::Token => Some("Ws::Collapse"),
        _ => None,
    }
}

/// The value parser of a typed (non-string) builtin, as a `Fn(&str) -> Result<T, ValueError>` expression.
fn parser(b: Builtin) -> String {
    use Builtin::*;
    match b {
        Integer { min, max } => format!("|v| value::integer(v, {min}, {max})"),
        Decimal => "value::decimal".into(),
        Boolean => "value::boolean".into(),
        Double => "value::double".into(),
        Date => "value::date".into(),
        DateTime => "value::datetime".into(),
        DateTimeStamp => "value::timestamp".into(),
        String | NormalizedString | Token => unreachable!("strings have no parser"),
    }
}

/// How a field stores what is read: once, optionally, or as one more item.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Store {
    One,
    Opt,
    Many,
}

/// A `&mut` place for a String or a struct field of kind `store`.
fn place(f: &str, store: Store, default: &str) -> String {
    match store {
        Store::One => format!("&mut self.{f}"),
        Store::Opt => format!("self.{f}.get_or_insert_with({default})"),
        Store::Many => {
            format!("{{ self.{f}.push({default}()); self.{f}.last_mut().expect(\"just pushed\") }}")
        }
    }
}

/// Stores a value expression `v` into field `f`.
fn assign(f: &str, store: Store, v: &str) -> String {
    match store {
        Store::One => format!("self.{f} = {v};"),
        Store::Opt => format!("self.{f} = Some({v});"),
        Store::Many => format!("self.{f}.push({v});"),
    }
}

/// Reads the current element's text into field `f`.
fn read_leaf(b: Builtin, name: &str, f: &str, store: Store) -> String {
    match ws(b) {
        Some(ws) => format!("d.text_string(t, {name:?}, {}, {ws})?;", place(f, store, "String::new")),
        None => assign(f, store, &format!("d.text_value(t, {name:?}, {})?", parser(b))),
    }
}

/// Parses attribute value `v` into field `f`.
fn read_attr(b: Builtin, f: &str, store: Store) -> String {
    match ws(b) {
        Some(ws) => format!("value::set_ws({}, v, {ws});", place(f, store, "String::new")),
        None => assign(f, store, &format!("({})(v)?", parser(b))),
    }
}

struct Names {
    structs: Vec<String>,
}

fn struct_names(schema: &Schema, shape: &Shape) -> Names {
    let mut used = BTreeSet::new();
    let mut structs = vec![String::new(); schema.types.len()];
    // Records first, so they get the plain element names (Customer, Order).
    let mut order: Vec<usize> = shape
        .tables
        .iter()
        .filter_map(|t| match t.record.ty {
            Type::Complex(i) => Some(i),
            Type::Simple(_) => None,
        })
        .collect();
    order.extend(0..schema.types.len());
    for i in order {
        if !structs[i].is_empty() {
            continue;
        }
        let ty = &schema.types[i];
        let is_record = shape.tables.iter().any(|t| matches!(t.record.ty, Type::Complex(j) if j == i));
        let base = match (&ty.name, is_record) {
            (Some(n), false) => pascal(n.strip_suffix("Type").filter(|s| !s.is_empty()).unwrap_or(n)),
            _ => pascal(&ty.element_name),
        };
        let mut name = base.clone();
        let mut k = 2;
        while used.contains(&name) || name.ends_with("Columns") || name == "Tables" {
            name = format!("{base}{k}");
            k += 1;
        }
        used.insert(name.clone());
        structs[i] = name;
    }
    Names { structs }
}

fn rust_type(e: &Element, names: &Names) -> String {
    let inner = match e.ty {
        Type::Simple(b) => leaf(b).rust.to_string(),
        Type::Complex(i) => names.structs[i].clone(),
    };
    if e.repeated() {
        format!("Vec<{inner}>")
    } else if e.optional() {
        format!("Option<{inner}>")
    } else {
        inner
    }
}

fn arrow_type(ty: &Type, names: &Names) -> String {
    match ty {
        Type::Simple(b) => leaf(*b).arrow.to_string(),
        Type::Complex(i) => format!("DataType::Struct({}Columns::fields())", names.structs[*i]),
    }
}

fn arrow_field(e: &Element, names: &Names) -> String {
    let col = column(&e.name);
    let inner = arrow_type(&e.ty, names);
    if e.repeated() {
        format!("Field::new({col:?}, DataType::List(Arc::new(Field::new(\"item\", {inner}, false))), false)")
    } else {
        format!("Field::new({col:?}, {inner}, {})", e.optional())
    }
}

fn bq_fields(schema: &Schema, ty: usize, out: &mut String) {
    let t = &schema.types[ty];
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
    };
    for a in &t.attributes {
        sep(out);
        let mode = if a.required { "REQUIRED" } else { "NULLABLE" };
        write!(out, r#"{{"name":"{}","type":"{}","mode":"{mode}"}}"#, column(&a.name), leaf(a.ty).bq).unwrap();
    }
    for e in &t.children {
        sep(out);
        let mode = if e.repeated() {
            "REPEATED"
        } else if e.optional() {
            "NULLABLE"
        } else {
            "REQUIRED"
        };
        match e.ty {
            Type::Simple(b) => {
                write!(out, r#"{{"name":"{}","type":"{}","mode":"{mode}"}}"#, column(&e.name), leaf(b).bq).unwrap()
            }
            Type::Complex(i) => {
                write!(out, r#"{{"name":"{}","type":"RECORD","mode":"{mode}","fields":["#, column(&e.name)).unwrap();
                bq_fields(schema, i, out);
                out.push_str("]}");
            }
        }
    }
}

fn check_names(schema: &Schema, ty: usize, names: &Names) -> Result<(), String> {
    let t = &schema.types[ty];
    let mut seen = BTreeSet::new();
    let cols = t.attributes.iter().map(|a| &a.name).chain(t.children.iter().map(|e| &e.name));
    for n in cols {
        if !seen.insert(column(n).to_ascii_lowercase()) || !seen.insert(format!("rust:{}", field_ident(n))) {
            return Err(format!(
                "type {}: two attributes/elements map to the column or field name {:?}; rename one in the XSD",
                names.structs[ty],
                column(n)
            ));
        }
    }
    Ok(())
}

fn emit_struct(schema: &Schema, ty: usize, names: &Names, out: &mut String) {
    let t = &schema.types[ty];
    let sname = &names.structs[ty];
    let xsd_name = t.name.as_deref().unwrap_or("(anonymous)");
    writeln!(out, "/// Generated from complex type `{xsd_name}` (element `{}`).", t.element_name).unwrap();
    writeln!(out, "#[derive(Debug, Clone, Default, PartialEq)]\npub struct {sname} {{").unwrap();
    for a in &t.attributes {
        let r = leaf(a.ty).rust;
        let ty = if a.required { r.to_string() } else { format!("Option<{r}>") };
        writeln!(out, "    /// Attribute `{}`: {}.", a.name, leaf_doc(a.ty)).unwrap();
        writeln!(out, "    pub {}: {ty},", field_ident(&a.name)).unwrap();
    }
    for e in &t.children {
        let doc = match e.ty {
            Type::Simple(b) => leaf_doc(b).to_string(),
            Type::Complex(i) => format!("nested record `{}`", names.structs[i]),
        };
        writeln!(out, "    /// Element `{}`: {doc}.", e.name).unwrap();
        writeln!(out, "    pub {}: {},", field_ident(&e.name), rust_type(e, names)).unwrap();
    }
    writeln!(out, "}}\n").unwrap();

    // The decoder.
    let children: Vec<String> = t.children.iter().map(|e| format!("{:?}", e.name)).collect();
    writeln!(out, "impl {sname} {{").unwrap();
    writeln!(out, "    /// Child element names, in schema order.").unwrap();
    writeln!(out, "    pub const CHILDREN: &'static [&'static str] = &[{}];", children.join(", ")).unwrap();
    writeln!(out, "    /// Decodes this element, whose start tag `tag` was just read, up to its end tag.").unwrap();
    writeln!(
        out,
        "    pub fn decode<S: Events>(&mut self, d: &mut Decoder<S>, tag: Tag) -> Result<(), DecodeError> {{"
    )
    .unwrap();
    if t.attributes.is_empty() {
        writeln!(out, "        d.attributes(|_, _| Ok(false))?;").unwrap();
    } else {
        for a in &t.attributes {
            writeln!(out, "        let mut seen_{} = false;", field_ident(&a.name)).unwrap();
        }
        writeln!(out, "        d.attributes(|k, v| {{\n            match k {{").unwrap();
        for a in &t.attributes {
            let f = field_ident(&a.name);
            let store = if a.required { Store::One } else { Store::Opt };
            writeln!(out, "                b{:?} => {{ {} seen_{f} = true; }}", a.name, read_attr(a.ty, &f, store))
                .unwrap();
        }
        writeln!(out, "                _ => return Ok(false),\n            }}\n            Ok(true)\n        }})?;")
            .unwrap();
        for a in &t.attributes {
            let f = field_ident(&a.name);
            if a.required {
                writeln!(out, "        if !seen_{f} {{ return Err(d.missing_attribute({:?})); }}", a.name).unwrap();
            } else {
                writeln!(out, "        if !seen_{f} {{ self.{f} = None; }}").unwrap();
            }
        }
    }
    writeln!(out, "        let mut t = d.first_child(tag)?;").unwrap();
    for e in &t.children {
        let f = field_ident(&e.name);
        let n = &e.name;
        let cond = format!("t.is_open() && d.name() == b{n:?}");
        let read = |store: Store| -> String {
            match e.ty {
                Type::Simple(b) => read_leaf(b, n, &f, store),
                Type::Complex(_) if store == Store::Many => format!(
                    "self.{f}.push(Default::default());\n            let n = self.{f}.len();\n            self.{f}.last_mut().expect(\"just pushed\").decode(d, t).map_err(|e| e.within_item({n:?}, n))?;"
                ),
                Type::Complex(_) => format!(
                    "{}.decode(d, t).map_err(|e| e.within({n:?}))?;",
                    place(&f, store, "Default::default").trim_start_matches("&mut ")
                ),
            }
        };
        if e.repeated() {
            writeln!(out, "        self.{f}.clear();").unwrap();
            writeln!(
                out,
                "        while {cond} {{\n            {}\n            t = d.next_tag()?;\n        }}",
                read(Store::Many)
            )
            .unwrap();
            let max = e.max.map_or("usize::MAX".to_string(), |m| m.to_string());
            writeln!(out, "        d.check_count({n:?}, self.{f}.len(), {}, {max})?;", e.min).unwrap();
        } else if e.optional() {
            writeln!(out, "        if {cond} {{\n            {}\n            t = d.next_tag()?;", read(Store::Opt))
                .unwrap();
            writeln!(out, "        }} else {{\n            self.{f} = None;\n        }}").unwrap();
        } else {
            writeln!(out, "        if {cond} {{\n            {}\n            t = d.next_tag()?;", read(Store::One))
                .unwrap();
            writeln!(
                out,
                "        }} else {{\n            return Err(d.expected(t, {n:?}, Self::CHILDREN));\n        }}"
            )
            .unwrap();
        }
    }
    writeln!(out, "        d.end(t, Self::CHILDREN)\n    }}\n}}\n").unwrap();

    // Arrow columns.
    writeln!(out, "/// Arrow column builders for [`{sname}`].\n#[derive(Default)]\npub struct {sname}Columns {{")
        .unwrap();
    writeln!(out, "    validity: Vec<bool>,").unwrap();
    let col_ty = |e: &Element| -> String {
        let inner = match e.ty {
            Type::Simple(b) => leaf(b).builder.to_string(),
            Type::Complex(i) => format!("{}Columns", names.structs[i]),
        };
        if e.repeated() { format!("ListColumn<{inner}>") } else { inner }
    };
    for a in &t.attributes {
        writeln!(out, "    {}: {},", field_ident(&a.name), leaf(a.ty).builder).unwrap();
    }
    for e in &t.children {
        writeln!(out, "    {}: {},", field_ident(&e.name), col_ty(e)).unwrap();
    }
    writeln!(out, "}}\n").unwrap();
    writeln!(out, "impl {sname}Columns {{").unwrap();
    // fields()
    writeln!(out, "    /// The Arrow fields of [`{sname}`], in column order.\n    pub fn fields() -> Fields {{\n        Fields::from(vec![").unwrap();
    for a in &t.attributes {
        writeln!(out, "            Field::new({:?}, {}, {}),", column(&a.name), leaf(a.ty).arrow, !a.required).unwrap();
    }
    for e in &t.children {
        writeln!(out, "            {},", arrow_field(e, names)).unwrap();
    }
    writeln!(out, "        ])\n    }}").unwrap();
    // append()
    writeln!(
        out,
        "    /// Appends one value.\n    pub fn append(&mut self, r: &{sname}) {{\n        self.validity.push(true);"
    )
    .unwrap();
    let append_leaf = |b: Builtin, col: &str, val: &str, optional: bool| -> String {
        let l = leaf(b);
        match (optional, l.copy) {
            (false, true) => format!("{col}.append_value({val});"),
            (false, false) => format!("{col}.append_value(&{val});"),
            (true, true) => format!("{col}.append_option({val});"),
            (true, false) => format!("{col}.append_option({val}.as_deref());"),
        }
    };
    for a in &t.attributes {
        let f = field_ident(&a.name);
        writeln!(out, "        {}", append_leaf(a.ty, &format!("self.{f}"), &format!("r.{f}"), !a.required)).unwrap();
    }
    for e in &t.children {
        let f = field_ident(&e.name);
        if e.repeated() {
            let item = match e.ty {
                Type::Simple(b) => append_leaf(b, &format!("self.{f}.values"), "*v", false),
                Type::Complex(_) => format!("self.{f}.values.append(v);"),
            };
            writeln!(out, "        for v in &r.{f} {{ {item} }}\n        self.{f}.close_row(r.{f}.len());").unwrap();
        } else {
            match e.ty {
                Type::Simple(b) => {
                    writeln!(out, "        {}", append_leaf(b, &format!("self.{f}"), &format!("r.{f}"), e.optional()))
                        .unwrap()
                }
                Type::Complex(_) if e.optional() => writeln!(
                    out,
                    "        match &r.{f} {{ Some(v) => self.{f}.append(v), None => self.{f}.append_null() }}"
                )
                .unwrap(),
                Type::Complex(_) => writeln!(out, "        self.{f}.append(&r.{f});").unwrap(),
            }
        }
    }
    writeln!(out, "    }}").unwrap();
    // append_null()
    writeln!(out, "    /// Appends a null (this struct absent).\n    pub fn append_null(&mut self) {{\n        self.validity.push(false);").unwrap();
    for a in &t.attributes {
        writeln!(out, "        self.{}.append_null();", field_ident(&a.name)).unwrap();
    }
    for e in &t.children {
        let f = field_ident(&e.name);
        if e.repeated() {
            writeln!(out, "        self.{f}.close_row(0);").unwrap();
        } else {
            writeln!(out, "        self.{f}.append_null();").unwrap();
        }
    }
    writeln!(out, "    }}").unwrap();
    // arrays()
    let finish_leaf = |b: Builtin, expr: &str| -> String {
        match b {
            Builtin::Decimal => format!(
                "Arc::new({expr}.finish().with_precision_and_scale(38, 9).expect(\"38,9 is valid\")) as ArrayRef"
            ),
            Builtin::DateTimeStamp => {
                format!("Arc::new({expr}.finish().with_timezone(\"+00:00\")) as ArrayRef")
            }
            _ => format!("Arc::new({expr}.finish()) as ArrayRef"),
        }
    };
    writeln!(out, "    /// Takes the built columns, leaving the builders empty.\n    pub fn arrays(&mut self) -> Vec<ArrayRef> {{\n        vec![").unwrap();
    for a in &t.attributes {
        writeln!(out, "            {},", finish_leaf(a.ty, &format!("self.{}", field_ident(&a.name)))).unwrap();
    }
    for e in &t.children {
        let f = field_ident(&e.name);
        let item = match e.ty {
            Type::Simple(b) => finish_leaf(b, &format!("self.{f}.values")),
            Type::Complex(_) => format!("Arc::new(self.{f}.values.finish()) as ArrayRef"),
        };
        if e.repeated() {
            writeln!(out, "            {{ let values = {item}; self.{f}.finish(values) }},").unwrap();
        } else {
            let one = match e.ty {
                Type::Simple(b) => finish_leaf(b, &format!("self.{f}")),
                Type::Complex(_) => format!("Arc::new(self.{f}.finish()) as ArrayRef"),
            };
            writeln!(out, "            {one},").unwrap();
        }
    }
    writeln!(out, "        ]\n    }}").unwrap();
    writeln!(
        out,
        "    /// Finishes a struct array.\n    pub fn finish(&mut self) -> StructArray {{\n        let nulls = take_validity(&mut self.validity);\n        StructArray::new(Self::fields(), self.arrays(), nulls)\n    }}\n}}\n"
    )
    .unwrap();
}

/// Emits the module text.
pub fn emit(schema: &Schema, shape: &Shape) -> Result<String, String> {
    let names = struct_names(schema, shape);
    // Only the types reachable from the tables.
    let mut reach = BTreeSet::new();
    let mut stack: Vec<usize> =
        shape.tables.iter().filter_map(|t| if let Type::Complex(i) = t.record.ty { Some(i) } else { None }).collect();
    while let Some(i) = stack.pop() {
        if reach.insert(i) {
            check_names(schema, i, &names)?;
            for c in &schema.types[i].children {
                if let Type::Complex(j) = c.ty {
                    stack.push(j);
                }
            }
        }
    }
    let mut out = String::new();
    out.push_str("// @generated by xml2bq's build.rs from the XSD. Do not edit.\n");
    out.push_str("#[allow(unused_imports)]\nuse ::xml2bq::batch::{ListColumn, take_validity};\n");
    out.push_str(
        "#[allow(unused_imports)]\nuse ::xml2bq::parse::{DecodeError, Decoder, Events, Tag, value::{self, Ws}};\n",
    );
    out.push_str("#[allow(unused_imports)]\nuse arrow_array::{ArrayRef, RecordBatch, StructArray, builder::*};\n");
    out.push_str(
        "#[allow(unused_imports)]\nuse arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};\n",
    );
    out.push_str("use std::sync::Arc;\n\n");
    writeln!(out, "/// The document's root element.\npub const ROOT: &str = {:?};\n", shape.root).unwrap();
    for &i in &reach {
        emit_struct(schema, i, &names, &mut out);
    }
    // Tables.
    out.push_str("/// The tables, in document order.\npub const TABLES: &[::xml2bq::schema::TableSpec] = &[\n");
    for t in &shape.tables {
        let Type::Complex(i) = t.record.ty else { unreachable!() };
        let mut bq = String::from("[");
        bq_fields(schema, i, &mut bq);
        bq.push_str(r#",{"name":"_source_uri","type":"STRING","mode":"REQUIRED"},{"name":"_record_ordinal","type":"INT64","mode":"REQUIRED"}]"#);
        writeln!(
            out,
            "    ::xml2bq::schema::TableSpec {{ name: {:?}, container: {:?}, record: {:?}, bigquery_schema: {bq:?} }},",
            t.name, t.container, t.record.name
        )
        .unwrap();
    }
    out.push_str("];\n\n");
    // Per-table Arrow schema.
    out.push_str("/// The Arrow schema of table `table` (an index into [`TABLES`]), lineage columns last.\npub fn arrow_schema(table: usize) -> SchemaRef {\n    let mut fields: Vec<Arc<Field>> = match table {\n");
    for (k, t) in shape.tables.iter().enumerate() {
        let Type::Complex(i) = t.record.ty else { unreachable!() };
        writeln!(out, "        {k} => {}Columns::fields().iter().cloned().collect(),", names.structs[i]).unwrap();
    }
    out.push_str("        _ => panic!(\"no table {table}\"),\n    };\n");
    out.push_str("    fields.push(Arc::new(Field::new(\"_source_uri\", DataType::Utf8, false)));\n");
    out.push_str("    fields.push(Arc::new(Field::new(\"_record_ordinal\", DataType::Int64, false)));\n");
    out.push_str("    Arc::new(Schema::new(fields))\n}\n\n");
    // Tables struct.
    out.push_str("/// One reusable record per table and the column builders its rows go to.\n#[derive(Default)]\npub struct Tables {\n");
    for t in &shape.tables {
        let Type::Complex(i) = t.record.ty else { unreachable!() };
        let s = &names.structs[i];
        writeln!(out, "    /// The record being decoded for `{}`.\n    pub {}_record: {s},", t.name, t.name).unwrap();
        writeln!(out, "    {}: {s}Columns,\n    {}_lineage: ::xml2bq::batch::Lineage,", t.name, t.name).unwrap();
    }
    out.push_str("}\n\nimpl ::xml2bq::schema::Document for Tables {\n");
    out.push_str(
        "    const ROOT: &'static str = ROOT;\n    const TABLES: &'static [::xml2bq::schema::TableSpec] = TABLES;\n",
    );
    out.push_str("    fn decode_record<S: Events>(&mut self, table: usize, d: &mut Decoder<S>, tag: Tag, source: &str, ordinal: i64) -> Result<(), DecodeError> {\n        match table {\n");
    for (k, t) in shape.tables.iter().enumerate() {
        let n = &t.name;
        writeln!(
            out,
            "            {k} => {{\n                self.{n}_record.decode(d, tag)?;\n                self.{n}.append(&self.{n}_record);\n                self.{n}_lineage.append(source, ordinal);\n            }}"
        )
        .unwrap();
    }
    out.push_str("            _ => panic!(\"no table {table}\"),\n        }\n        Ok(())\n    }\n");
    out.push_str("    fn rows(&self, table: usize) -> usize {\n        match table {\n");
    for (k, t) in shape.tables.iter().enumerate() {
        writeln!(out, "            {k} => self.{}_lineage.len(),", t.name).unwrap();
    }
    out.push_str("            _ => 0,\n        }\n    }\n");
    out.push_str("    fn finish(&mut self, table: usize) -> RecordBatch {\n        let mut cols = match table {\n");
    for (k, t) in shape.tables.iter().enumerate() {
        writeln!(out, "            {k} => self.{}.arrays(),", t.name).unwrap();
    }
    out.push_str("            _ => panic!(\"no table {table}\"),\n        };\n");
    out.push_str("        let lineage = match table {\n");
    for (k, t) in shape.tables.iter().enumerate() {
        writeln!(out, "            {k} => &mut self.{}_lineage,", t.name).unwrap();
    }
    out.push_str("            _ => unreachable!(),\n        };\n        cols.extend(lineage.arrays());\n");
    out.push_str("        RecordBatch::try_new(arrow_schema(table), cols).expect(\"generated columns match the generated schema\")\n    }\n");
    out.push_str("    fn arrow_schema(table: usize) -> SchemaRef {\n        arrow_schema(table)\n    }\n}\n");
    Ok(out)
}
