//! Merge keys (`--write merge`): the columns a table's rows are matched on. `--key
//! TABLE=COL[,COL]` names a table's key; `--key COL[,COL]` is the key of the one table
//! that has all those columns; otherwise the `xs:key` the schema declares for the
//! table's rows, when its fields are the row's own attributes or child elements and
//! top-level columns of the table.
//!
//! An unqualified `--key` that several tables have is refused rather than applied to
//! each: tables that share a column name usually share it as a reference (the sample's
//! `orders` carry their customer's `CustomerID`), and keying those by it would keep one
//! row per referenced value.

use serde_json::Value;
use xml2bq_core::Schema;
use xml2bq_core::identity::{Kind, Path, Test};
use xml2bq_core::schema::Table;

/// The key of one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableKey {
    /// Rows are matched on these top-level columns.
    Columns(Vec<String>),
    /// No key: why, and how to give one (a batch with rows for the table is refused).
    Missing(String),
}

impl TableKey {
    pub fn columns(&self) -> Option<&[String]> {
        match self {
            TableKey::Columns(c) => Some(c),
            TableKey::Missing(_) => None,
        }
    }
}

/// A top-level column as BigQuery has it (lineage columns included): name, type, mode.
struct Top {
    name: String,
    ty: String,
    mode: String,
}

fn top_level(t: &Table) -> Vec<Top> {
    let text = |f: &Value, k: &str| f[k].as_str().unwrap_or_default().to_string();
    super::schema::fields(t)
        .iter()
        .map(|f| Top { name: text(f, "name"), ty: text(f, "type"), mode: text(f, "mode") })
        .collect()
}

fn column_list(t: &Table) -> String {
    top_level(t).iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Why `c` cannot be a key column (None: it can).
fn unfit(c: &Top) -> Option<String> {
    match (c.ty.as_str(), c.mode.as_str()) {
        (_, "REPEATED") => Some(format!("column {} is REPEATED", c.name)),
        ("RECORD", _) => Some(format!("column {} is a RECORD", c.name)),
        ("FLOAT64", _) => Some(format!("column {} is FLOAT64 (BigQuery cannot partition rows by it)", c.name)),
        _ => None,
    }
}

fn step_matches(t: &Test, (ns, local): (u16, &str)) -> bool {
    t.ns.is_none_or(|n| n == ns) && t.local.is_none_or(|l| l == local)
}

/// Does `p` (a selector alternative) select the element at the end of `below`, the
/// elements below the constraint's scope element?
fn selects(p: &Path, below: &[(u16, &str)]) -> bool {
    let n = p.steps.len();
    if p.attribute.is_some() || below.len() < n || (!p.descendants && below.len() != n) {
        return false;
    }
    p.steps.iter().zip(&below[below.len() - n..]).all(|(t, e)| step_matches(t, *e))
}

/// The local name of a field that is the selected element's own attribute (`@a`) or
/// child element (`a`); None for longer or alternative paths.
fn own_field(alternatives: &[Path]) -> Option<&'static str> {
    let [p] = alternatives else { return None };
    match (p.descendants, p.steps, p.attribute) {
        (false, [], Some(a)) => a.local,
        (false, [s], None) => s.local,
        _ => None,
    }
}

/// Column names are the XSD's local names, characters BigQuery refuses made `_`.
fn column_name(local: &str) -> String {
    local.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// The columns of the `xs:key` the schema declares for `t`'s rows; Err: why there is none.
/// The key must be declared on the document's root (so it tells the rows of one file
/// apart), select the rows of every row path of the table, and have fields that are
/// top-level columns.
pub fn declared(schema: &Schema, t: &Table) -> Result<Vec<String>, String> {
    let cols = top_level(t);
    let mut found: Option<Vec<String>> = None;
    for rp in t.rows {
        let mut why = None;
        let mut here = None;
        for &(depth, cons) in rp.scopes {
            let depth = depth as usize;
            for &c in cons {
                let Some(con) = schema.constraints.get(c as usize) else { continue };
                if con.kind != Kind::Key || depth == 0 || depth > rp.elements.len() {
                    continue;
                }
                if !con.selector.iter().any(|p| selects(p, &rp.elements[depth..])) {
                    continue;
                }
                if depth != 1 {
                    let scope = rp.elements[depth - 1].1;
                    why = Some(format!(
                        "its xs:key {} is declared on <{scope}>, so it tells rows apart only within one <{scope}>, \
                         not within a file",
                        con.name
                    ));
                    continue;
                }
                let mut names = vec![];
                for (alternatives, _) in con.fields {
                    let Some(local) = own_field(alternatives) else {
                        why = Some(format!(
                            "a field of its xs:key {} is not an attribute or child element of the row",
                            con.name
                        ));
                        break;
                    };
                    let name = column_name(local);
                    match cols.iter().find(|c| c.name == name) {
                        Some(c) if unfit(c).is_none() => names.push(name),
                        Some(c) => {
                            why = Some(format!("its xs:key {}: {}", con.name, unfit(c).unwrap_or_default()));
                            break;
                        }
                        None => {
                            why = Some(format!(
                                "the field {local} of its xs:key {} is not a top-level column (renamed or excluded \
                                 by the mapping?)",
                                con.name
                            ));
                            break;
                        }
                    }
                }
                if names.len() == con.fields.len() && !names.is_empty() {
                    here = Some(names);
                    break;
                }
            }
            if here.is_some() {
                break;
            }
        }
        match (here, &found) {
            (None, _) => return Err(why.unwrap_or_else(|| "the schema declares no xs:key for its rows".to_string())),
            (Some(h), Some(f)) if &h != f => {
                return Err("its row paths have different xs:key fields".to_string());
            }
            (Some(h), _) => found = Some(h),
        }
    }
    found.ok_or_else(|| "it has no row paths".to_string())
}

/// What to say about a table without a key.
fn missing(t: &Table, why: &str) -> String {
    format!(
        "table {} has no merge key: {why}; give one with --key {}=COL[,COL] (its columns: {}; \
         --key {}=_source_uri,_record_ordinal replaces a file's rows when that file is loaded again)",
        t.name,
        t.name,
        column_list(t),
        t.name
    )
}

/// Splits `COL[,COL]` (a column list of `--key`); empty names and repeated names are errors.
fn columns_of(spec: &str, list: &str) -> Result<Vec<String>, String> {
    let cols: Vec<String> = list.split(',').map(|c| c.trim().to_string()).collect();
    if cols.iter().any(String::is_empty) {
        return Err(format!("--key {spec}: expected [TABLE=]COLUMN[,COLUMN...]"));
    }
    for (i, c) in cols.iter().enumerate() {
        if cols[..i].contains(c) {
            return Err(format!("--key {spec}: column {c} is named twice"));
        }
    }
    Ok(cols)
}

/// Checks `cols` against `t`: each a top-level column fit to be a key.
fn check(spec: &str, t: &Table, cols: &[String]) -> Result<(), String> {
    let top = top_level(t);
    for c in cols {
        match top.iter().find(|x| &x.name == c) {
            None => {
                return Err(format!(
                    "--key {spec}: table {} has no column {c}; its columns: {}",
                    t.name,
                    column_list(t)
                ));
            }
            Some(x) => {
                if let Some(why) = unfit(x) {
                    return Err(format!(
                        "--key {spec}: in table {}, {why}; a key column is a top-level scalar column",
                        t.name
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The key of every table (in the schema's order) from the `--key` values
/// (`COL[,COL]` or `TABLE=COL[,COL]`) and the schema's `xs:key`s. Err: a usage error,
/// naming the flag (an unknown table or column, an unqualified key several tables have,
/// or no table with a key at all).
pub fn resolve(schema: &Schema, specs: &[String]) -> Result<Vec<TableKey>, String> {
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name).collect();
    let mut keys: Vec<Option<Vec<String>>> = vec![None; schema.tables.len()];
    let mut unqualified: Option<(&str, Vec<String>)> = None;
    for spec in specs {
        match spec.split_once('=') {
            Some((table, list)) => {
                let i = names
                    .iter()
                    .position(|n| *n == table.trim())
                    .ok_or_else(|| format!("--key {spec}: no table {:?}; the tables are {names:?}", table.trim()))?;
                if keys[i].is_some() {
                    return Err(format!("--key {spec}: table {} has a --key already", names[i]));
                }
                let cols = columns_of(spec, list)?;
                check(spec, &schema.tables[i], &cols)?;
                keys[i] = Some(cols);
            }
            None => {
                if let Some((first, _)) = unqualified {
                    return Err(format!(
                        "--key {spec}: a --key without a table is given already ({first}); give the others as TABLE=COLUMNS"
                    ));
                }
                unqualified = Some((spec, columns_of(spec, spec)?));
            }
        }
    }
    if let Some((spec, cols)) = unqualified {
        let has_all = |t: &Table| {
            let top = top_level(t);
            cols.iter().all(|c| top.iter().any(|x| &x.name == c))
        };
        let tables: Vec<usize> =
            (0..names.len()).filter(|&i| keys[i].is_none() && has_all(&schema.tables[i])).collect();
        match tables.as_slice() {
            [] => {
                let each: Vec<String> =
                    schema.tables.iter().map(|t| format!("{}: {}", t.name, column_list(t))).collect();
                return Err(format!(
                    "--key {spec}: no table has all of these columns; the tables' columns are\n  {}",
                    each.join("\n  ")
                ));
            }
            [i] => {
                check(spec, &schema.tables[*i], &cols)?;
                keys[*i] = Some(cols);
            }
            several => {
                let which: Vec<&str> = several.iter().map(|&i| names[i]).collect();
                return Err(format!(
                    "--key {spec}: tables {} all have these columns; a key is for one table's rows (a column \
                     other tables share is usually a reference to them): name the table, e.g. --key {}={spec}",
                    which.join(", "),
                    which[0]
                ));
            }
        }
    }
    let out: Vec<TableKey> = schema
        .tables
        .iter()
        .zip(keys)
        .map(|(t, k)| match k {
            Some(cols) => TableKey::Columns(cols),
            None => match declared(schema, t) {
                Ok(cols) => TableKey::Columns(cols),
                Err(why) => TableKey::Missing(missing(t, &why)),
            },
        })
        .collect();
    if out.iter().all(|k| k.columns().is_none()) {
        let why: Vec<&str> = out
            .iter()
            .filter_map(|k| match k {
                TableKey::Missing(w) => Some(w.as_str()),
                TableKey::Columns(_) => None,
            })
            .collect();
        return Err(format!("--write merge needs a key, and no table has one:\n  {}", why.join("\n  ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xml2bq_core::identity::{Canon, Constraint};
    use xml2bq_core::schema::{Column, ColumnType, Info, Mode, RowPath};

    fn no_decode(
        _: &mut xml2bq_core::parse::Decoder<'_>,
        _: &mut xml2bq_core::columns::Columns,
    ) -> Result<(), xml2bq_core::DecodeError> {
        Ok(())
    }

    const fn test(local: &'static str) -> Test {
        Test { ns: Some(0), local: Some(local) }
    }

    static CUSTOMER_COLS: &[Column] = &[
        Column { name: "CustomerID", ty: ColumnType::String, mode: Mode::Nullable },
        Column { name: "CompanyName", ty: ColumnType::String, mode: Mode::Required },
        Column { name: "Score", ty: ColumnType::Float64, mode: Mode::Nullable },
    ];
    static ORDER_COLS: &[Column] = &[
        Column { name: "CustomerID", ty: ColumnType::String, mode: Mode::Required },
        Column { name: "Lines", ty: ColumnType::Record(CUSTOMER_COLS), mode: Mode::Repeated },
    ];
    static CONSTRAINTS: &[Constraint] = &[
        Constraint {
            name: "CustomerIDKey",
            kind: Kind::Key,
            selector: &[Path { descendants: false, steps: &[test("Customers"), test("Customer")], attribute: None }],
            fields: &[(
                &[Path { descendants: false, steps: &[], attribute: Some(test("CustomerID")) }],
                Canon::Text { collapse: true },
            )],
            unless_absent: None,
        },
        Constraint {
            name: "CustomerIDKeyRef",
            kind: Kind::KeyRef(0),
            selector: &[Path { descendants: false, steps: &[test("Orders"), test("Order")], attribute: None }],
            fields: &[(
                &[Path { descendants: false, steps: &[test("CustomerID")], attribute: None }],
                Canon::Text { collapse: true },
            )],
            unless_absent: None,
        },
    ];
    static TABLES: &[Table] = &[
        Table {
            name: "customers",
            columns: CUSTOMER_COLS,
            ancestors: &[],
            rows: &[RowPath {
                elements: &[(0, "Root"), (0, "Customers"), (0, "Customer")],
                decode: no_decode,
                ancestors: &[],
                scopes: &[(1, &[0, 1])],
            }],
            document: false,
        },
        Table {
            name: "orders",
            columns: ORDER_COLS,
            ancestors: &[],
            rows: &[RowPath {
                elements: &[(0, "Root"), (0, "Orders"), (0, "Order")],
                decode: no_decode,
                ancestors: &[],
                scopes: &[(1, &[0, 1])],
            }],
            document: false,
        },
    ];
    static SCHEMA: Schema = Schema {
        info: Info { mapping: None, files: &[], relaxations: &[], timezone: "UTC", max_depth: 15 },
        namespaces: &["", "", ""],
        tables: TABLES,
        roots: &[],
        counters: 0,
        constraints: CONSTRAINTS,
    };

    fn keys(specs: &[&str]) -> Result<Vec<TableKey>, String> {
        resolve(&SCHEMA, &specs.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn cols(c: &[&str]) -> TableKey {
        TableKey::Columns(c.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn the_xs_key_is_the_default_and_a_keyref_is_no_key() {
        assert_eq!(declared(&SCHEMA, &TABLES[0]), Ok(vec!["CustomerID".to_string()]));
        assert_eq!(declared(&SCHEMA, &TABLES[1]), Err("the schema declares no xs:key for its rows".to_string()));
        let k = keys(&[]).unwrap();
        assert_eq!(k[0], cols(&["CustomerID"]));
        let TableKey::Missing(why) = &k[1] else { panic!("{k:?}") };
        assert!(why.starts_with("table orders has no merge key: the schema declares no xs:key"), "{why}");
        assert!(why.contains("--key orders=COL[,COL] (its columns: CustomerID, Lines, _source_uri, _record_ordinal"));
    }

    #[test]
    fn qualified_and_unqualified_keys() {
        let k = keys(&["customers=CompanyName", "orders=_source_uri,_record_ordinal"]).unwrap();
        assert_eq!(k, vec![cols(&["CompanyName"]), cols(&["_source_uri", "_record_ordinal"])]);
        // Unqualified: the one table that has the columns.
        assert_eq!(keys(&["CompanyName"]).unwrap()[0], cols(&["CompanyName"]));
        // A table with a key of its own is not a candidate.
        let k = keys(&["CustomerID", "orders=_source_uri,_record_ordinal"]).unwrap();
        assert_eq!(k[0], cols(&["CustomerID"]));
        let k = keys(&["orders = CustomerID", "CustomerID"]).unwrap();
        assert_eq!(k, vec![cols(&["CustomerID"]), cols(&["CustomerID"])]);
    }

    #[test]
    fn key_errors_name_the_flag_the_table_and_its_columns() {
        let err = |s: &[&str]| keys(s).unwrap_err();
        let e = err(&["CustomerID"]);
        assert!(e.contains("tables customers, orders all have these columns"), "{e}");
        assert!(e.contains("--key customers=CustomerID"), "{e}");
        let e = err(&["customers=Nope"]);
        assert_eq!(
            e,
            "--key customers=Nope: table customers has no column Nope; its columns: CustomerID, CompanyName, Score, \
             _source_uri, _record_ordinal"
        );
        assert!(err(&["nope=CustomerID"]).contains("no table \"nope\"; the tables are [\"customers\", \"orders\"]"));
        assert!(err(&["Nope"]).contains("no table has all of these columns"));
        assert!(err(&["customers=Score"]).contains("column Score is FLOAT64"));
        assert!(err(&["orders=Lines"]).contains("column Lines is REPEATED"));
        assert!(err(&["customers=CustomerID,CustomerID"]).contains("named twice"));
        assert!(err(&["customers="]).contains("expected [TABLE=]COLUMN"));
        assert!(err(&["customers=CompanyName", "customers=CustomerID"]).contains("has a --key already"));
        assert!(err(&["CompanyName", "_source_uri"]).contains("a --key without a table is given already"));
    }
}
