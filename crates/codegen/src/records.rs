//! The typed record structs of the generated module: one struct per RECORD the
//! tables reach (fields by column, named in snake case), a `Row` enum with a variant
//! per table, and `decode_rows`, which runs the same generated decoders that fill the
//! Arrow columns with `xml2bq_core::typed::Typed` as their output.

use crate::plan::{ColType, Mode, Plan, Scalar};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Names the generated code uses unqualified: a record of that name gets a suffix.
const TAKEN: &[&str] = &["Box", "Err", "None", "Ok", "Option", "Result", "Self", "Some", "String", "Vec", "Row"];

/// The module text: `pub mod records { ... }`, `pub enum Row`, `pub fn decode_rows`.
pub fn emit(plan: &Plan, root_fns: &[String]) -> String {
    let (names, docs) = struct_names(plan);
    let mut out = String::new();
    writeln!(out, "/// Typed records: a struct per RECORD of the tables, a field per column.").ok();
    writeln!(out, "pub mod records {{").ok();
    writeln!(out, "    use xml2bq_core::typed;").ok();
    for (i, r) in plan.records.iter().enumerate() {
        let Some(name) = &names[i] else { continue };
        let fields = field_names(r.columns.iter().map(|c| c.name.as_str()));
        let mut body = String::new();
        for (c, f) in r.columns.iter().zip(&fields) {
            let ty = match c.ty {
                ColType::Scalar(s) => scalar_type(s).to_string(),
                ColType::Record(inner) => names[inner].clone().unwrap_or_default(),
            };
            let ty = match c.mode {
                Mode::Required => ty,
                Mode::Nullable => format!("Option<{ty}>"),
                Mode::Repeated => format!("Vec<{ty}>"),
            };
            writeln!(body, "        /// `{}`", c.name).ok();
            writeln!(body, "        pub {f}: {ty},").ok();
        }
        writeln!(out).ok();
        writeln!(out, "    /// {}", docs[i]).ok();
        writeln!(out, "    #[derive(Clone, Debug, Default, PartialEq)]").ok();
        writeln!(out, "    pub struct {name} {{\n{body}    }}").ok();
        writeln!(out).ok();
        writeln!(out, "    impl typed::Record for {name} {{").ok();
        out.push_str(&record_impl(plan, i, &fields, &names));
        writeln!(out, "    }}").ok();
    }
    writeln!(out, "}}\n").ok();

    // The rows.
    let variants = variant_names(plan);
    writeln!(out, "/// A row of one of the tables.").ok();
    writeln!(out, "#[derive(Clone, Debug, PartialEq)]").ok();
    writeln!(out, "pub enum Row {{").ok();
    for (t, v) in plan.tables.iter().zip(&variants) {
        let rec = names[t.record].clone().unwrap_or_default();
        writeln!(out, "    /// Table `{}`.\n    {v}(records::{rec}),", t.name).ok();
    }
    writeln!(out, "}}\n").ok();
    writeln!(out, "/// A new, empty row of table `table`.").ok();
    writeln!(out, "fn new_typed_row(table: u16) -> Box<dyn xml2bq_core::typed::Record> {{").ok();
    writeln!(out, "    match table {{").ok();
    for (k, t) in plan.tables.iter().enumerate() {
        let rec = names[t.record].clone().unwrap_or_default();
        writeln!(out, "        {k} => Box::<records::{rec}>::default(),").ok();
    }
    writeln!(out, "        _ => Box::new(xml2bq_core::typed::Ignored),\n    }}\n}}\n").ok();
    writeln!(
        out,
        "/// Decodes one document, validating it as the load path does; `row` gets each row\n\
         /// as its element ends (a nested table's rows before their enclosing row)."
    )
    .ok();
    writeln!(
        out,
        "pub fn decode_rows(input: impl std::io::Read, mut row: impl FnMut(Row)) -> Result<(), DecodeError> {{"
    )
    .ok();
    writeln!(
        out,
        "    let (text, _) = xml2bq_core::encoding::utf8_text(input).map_err(|e| DecodeError::from_io(&e, 0))?;"
    )
    .ok();
    writeln!(out, "    let mut events = xml2bq_core::events::Buffered::new(xml2bq_core::utf8::Utf8Reader::new(text));")
        .ok();
    writeln!(out, "    let mut d = Decoder::new(&mut events, SCHEMA.namespaces);").ok();
    writeln!(out, "    let mut rows = |table: u16, r: Box<dyn xml2bq_core::typed::Record>| match table {{").ok();
    for (k, (t, v)) in plan.tables.iter().zip(&variants).enumerate() {
        let rec = names[t.record].clone().unwrap_or_default();
        writeln!(out, "        {k} => row(Row::{v}(xml2bq_core::typed::take::<records::{rec}>(r))),").ok();
    }
    writeln!(out, "        _ => {{}}\n    }};").ok();
    writeln!(out, "    let mut out = xml2bq_core::typed::Typed::new(new_typed_row, &mut rows);").ok();
    writeln!(out, "    match xml2bq_core::document::root(&SCHEMA, &mut d)? {{").ok();
    for (k, f) in root_fns.iter().enumerate() {
        writeln!(out, "        {k} => {f}(&mut d, &mut out)?,").ok();
    }
    writeln!(out, "        _ => {{}}\n    }}").ok();
    writeln!(out, "    d.finish()\n}}\n").ok();
    out
}

/// `put`, `child` and `set` of record `i`.
fn record_impl(plan: &Plan, i: usize, fields: &[String], names: &[Option<String>]) -> String {
    let r = &plan.records[i];
    let mut out = String::new();
    let mut puts = String::new();
    let mut children = String::new();
    let mut sets = String::new();
    for (k, (c, f)) in r.columns.iter().zip(fields).enumerate() {
        match c.ty {
            ColType::Scalar(s) => {
                let (variant, value) = scalar_value(s);
                let assign = match c.mode {
                    Mode::Required => format!("self.{f} = {value}"),
                    Mode::Nullable => format!("self.{f} = Some({value})"),
                    Mode::Repeated => format!("self.{f}.push({value})"),
                };
                writeln!(puts, "                ({k}, typed::Value::{variant}(v)) => {assign},").ok();
            }
            ColType::Record(inner) => {
                let rec = names[inner].clone().unwrap_or_default();
                writeln!(children, "                {k} => Box::<{rec}>::default(),").ok();
                let assign = match c.mode {
                    Mode::Required => format!("self.{f} = typed::take(child)"),
                    Mode::Nullable => format!("self.{f} = Some(typed::take(child))"),
                    Mode::Repeated => format!("self.{f}.push(typed::take(child))"),
                };
                writeln!(sets, "                {k} => {assign},").ok();
            }
        }
    }
    if puts.is_empty() {
        writeln!(out, "        fn put(&mut self, _: u16, _: typed::Value<'_>) {{}}").ok();
    } else {
        writeln!(out, "        fn put(&mut self, field: u16, value: typed::Value<'_>) {{").ok();
        writeln!(
            out,
            "            match (field, value) {{\n{puts}                _ => {{}}\n            }}\n        }}"
        )
        .ok();
    }
    if children.is_empty() {
        writeln!(out, "        fn child(&self, _: u16) -> Box<dyn typed::Record> {{").ok();
        writeln!(out, "            Box::new(typed::Ignored)\n        }}").ok();
        writeln!(out, "        fn set(&mut self, _: u16, _: Box<dyn typed::Record>) {{}}").ok();
    } else {
        writeln!(out, "        fn child(&self, field: u16) -> Box<dyn typed::Record> {{").ok();
        writeln!(
            out,
            "            match field {{\n{children}                _ => Box::new(typed::Ignored),\n            }}\n        }}"
        )
        .ok();
        writeln!(out, "        fn set(&mut self, field: u16, child: Box<dyn typed::Record>) {{").ok();
        writeln!(out, "            match field {{\n{sets}                _ => {{}}\n            }}\n        }}").ok();
    }
    out
}

fn scalar_type(s: Scalar) -> &'static str {
    match s {
        Scalar::String => "String",
        Scalar::Bytes => "Vec<u8>",
        Scalar::Int64 => "i64",
        Scalar::Float64 => "f64",
        Scalar::Bool => "bool",
        Scalar::Numeric => "typed::Numeric",
        Scalar::BigNumeric => "typed::BigNumeric",
        Scalar::Date => "typed::Date",
        Scalar::Time => "typed::Time",
        Scalar::DateTime => "typed::DateTime",
        Scalar::Timestamp => "typed::Timestamp",
    }
}

/// The `typed::Value` variant a column's values come in, and the field value made of `v`.
fn scalar_value(s: Scalar) -> (&'static str, &'static str) {
    match s {
        Scalar::String => ("Str", "v.to_owned()"),
        Scalar::Bytes => ("Bytes", "v.to_vec()"),
        Scalar::Int64 => ("I64", "v"),
        Scalar::Float64 => ("F64", "v"),
        Scalar::Bool => ("Bool", "v"),
        Scalar::Numeric => ("I128", "typed::Numeric(v)"),
        Scalar::BigNumeric => ("I256", "typed::BigNumeric(v)"),
        Scalar::Date => ("I32", "typed::Date(v)"),
        Scalar::Time => ("I64", "typed::Time(v)"),
        Scalar::DateTime => ("I64", "typed::DateTime(v)"),
        Scalar::Timestamp => ("I64", "typed::Timestamp(v)"),
    }
}

/// A struct name per record the tables reach (None: unreachable), unique, from the row
/// element or the column that holds it; and a doc line saying which.
fn struct_names(plan: &Plan) -> (Vec<Option<String>>, Vec<String>) {
    let mut names: Vec<Option<String>> = vec![None; plan.records.len()];
    let mut docs = vec![String::new(); plan.records.len()];
    let mut used: BTreeSet<String> = TAKEN.iter().map(|s| s.to_string()).collect();
    let mut queue = std::collections::VecDeque::new();
    for t in &plan.tables {
        let element = t.rows.first().and_then(|r| r.elements.last()).map_or(t.name.as_str(), |(_, l)| l.as_str());
        if names[t.record].is_none() {
            names[t.record] = Some(unique(&mut used, &camel(element)));
            docs[t.record] = format!("A row of table `{}` (`<{element}>`).", t.name);
        }
        queue.push_back(t.record);
    }
    // Breadth first, so that the shallow records get the plain names.
    let mut seen = BTreeSet::new();
    while let Some(r) = queue.pop_front() {
        if !seen.insert(r) {
            continue;
        }
        for c in &plan.records[r].columns {
            if let ColType::Record(inner) = c.ty {
                if names[inner].is_none() {
                    names[inner] = Some(unique(&mut used, &camel(&c.name)));
                    docs[inner] = format!("The record of column `{}`.", c.name);
                }
                queue.push_back(inner);
            }
        }
    }
    (names, docs)
}

fn variant_names(plan: &Plan) -> Vec<String> {
    let mut used = BTreeSet::new();
    plan.tables.iter().map(|t| unique(&mut used, &camel(&t.name))).collect()
}

/// Names in the typed structs take a bare number (`Order2`, `ship_via2`).
fn unique(used: &mut BTreeSet<String>, base: &str) -> String {
    crate::layout::unique(used, base, "")
}

/// `ship_info`, `ShipInfo`, `shipInfo` → `ShipInfo`.
fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in crate::layout::snake(name).split('_').filter(|p| !p.is_empty()) {
        let mut cs = part.chars();
        if let Some(c) = cs.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() { format!("R{out}") } else { out }
}

/// Field names: the columns' names in snake case, unique within the struct, keywords raw.
fn field_names<'a>(columns: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut used = BTreeSet::new();
    columns
        .map(|c| {
            let n = unique(&mut used, &crate::layout::snake(c));
            match n.as_str() {
                "self" | "super" | "crate" | "Self" => format!("{n}_"),
                k if KEYWORDS.contains(&k) => format!("r#{n}"),
                _ => n,
            }
        })
        .collect()
}

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn", "else", "enum",
    "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move",
    "mut", "override", "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("ship_info"), "ShipInfo");
        assert_eq!(camel("ShipInfo"), "ShipInfo");
        assert_eq!(camel("trkpt"), "Trkpt");
        assert_eq!(camel("2nd"), "T2nd");
        assert_eq!(
            field_names(["type", "Type2", "OrderDate", "self"].into_iter()),
            ["r#type", "type2", "order_date", "self_"]
        );
        let mut used = BTreeSet::new();
        assert_eq!(unique(&mut used, "A"), "A");
        assert_eq!(unique(&mut used, "A"), "A2");
    }
}
