//! The mapping file (TOML): which schema documents, which elements are table rows,
//! column types, renames and exclusions, and explicit relaxations of the schema.
//! A bare `.xsd` gets the automatic mapping (see [`crate::layout`]).

use crate::error::{Error, Result};
use crate::xsd::model::QName;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One or several strings (`xsd = "a.xsd"` or `xsd = ["a.xsd", "b.xsd"]`).
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: String,
    rows: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    name: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    #[serde(rename = "type")]
    ty: Option<String>,
    rename: Option<String>,
    #[serde(default)]
    exclude: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    timezone: Option<String>,
    max_depth: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRelax {
    #[serde(default)]
    optional: Vec<String>,
    #[serde(default)]
    require_one_of: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    xsd: OneOrMany,
    #[serde(default)]
    namespaces: BTreeMap<String, String>,
    #[serde(default)]
    schema_locations: BTreeMap<String, String>,
    #[serde(default, rename = "table")]
    tables: Vec<RawTable>,
    /// The root elements a document may have (default: the roots of the tables' paths;
    /// without tables: every global element of the named schema documents).
    #[serde(default)]
    roots: Vec<String>,
    #[serde(default)]
    document: RawDocument,
    #[serde(default)]
    types: BTreeMap<String, String>,
    #[serde(default)]
    columns: BTreeMap<String, RawColumn>,
    #[serde(default)]
    options: RawOptions,
    #[serde(default)]
    relax: RawRelax,
}

/// An absolute path of elements, optionally ending in an attribute.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodePath {
    pub elements: Vec<QName>,
    pub attribute: Option<QName>,
    /// As written in the mapping (for messages).
    pub text: String,
}

/// A column type the mapping may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeChoice {
    String,
    Int64,
    Float64,
    Numeric,
    BigNumeric,
    DateTime,
    Timestamp,
}

impl TypeChoice {
    fn parse(s: &str) -> Option<TypeChoice> {
        Some(match s.to_ascii_uppercase().as_str() {
            "STRING" => TypeChoice::String,
            "INT64" | "INTEGER" => TypeChoice::Int64,
            "FLOAT64" | "FLOAT" => TypeChoice::Float64,
            "NUMERIC" | "DECIMAL" => TypeChoice::Numeric,
            "BIGNUMERIC" | "BIGDECIMAL" => TypeChoice::BigNumeric,
            "DATETIME" => TypeChoice::DateTime,
            "TIMESTAMP" => TypeChoice::Timestamp,
            _ => return None,
        })
    }
}

/// Per-column settings.
#[derive(Clone, Debug, Default)]
pub struct ColumnRule {
    pub ty: Option<TypeChoice>,
    pub rename: Option<String>,
    pub exclude: bool,
}

#[derive(Clone, Debug)]
pub struct TableRule {
    pub name: String,
    pub rows: Vec<NodePath>,
}

/// A mapping, with every path resolved to expanded names.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// The file itself (None for a bare .xsd).
    pub file: Option<PathBuf>,
    /// The schema documents, each compiled as its own schema set.
    pub xsd: Vec<PathBuf>,
    pub schema_locations: BTreeMap<String, PathBuf>,
    pub tables: Vec<TableRule>,
    /// Root elements allowed (empty: see [`Mapping::allows_root`]).
    pub roots: Vec<QName>,
    pub document_name: Option<String>,
    /// Column type per XSD type (`xs:dateTime`, or a named simple type).
    pub types: BTreeMap<QName, TypeChoice>,
    pub columns: BTreeMap<NodePath, ColumnRule>,
    /// The zone of unzoned xs:dateTime values in TIMESTAMP columns, in minutes east of UTC.
    pub timezone_minutes: i16,
    pub timezone: String,
    pub max_depth: u32,
    pub optional: Vec<NodePath>,
    pub require_one_of: Vec<Vec<NodePath>>,
}

/// BigQuery's limit on RECORD nesting.
pub const MAX_DEPTH: u32 = 15;

const XS: &str = "http://www.w3.org/2001/XMLSchema";

impl Mapping {
    /// The automatic mapping of a bare schema document.
    pub fn automatic(xsd: &Path) -> Mapping {
        Mapping {
            file: None,
            xsd: vec![xsd.to_path_buf()],
            schema_locations: BTreeMap::new(),
            tables: vec![],
            roots: vec![],
            document_name: None,
            types: BTreeMap::new(),
            columns: BTreeMap::new(),
            timezone_minutes: 0,
            timezone: "UTC".into(),
            max_depth: MAX_DEPTH,
            optional: vec![],
            require_one_of: vec![],
        }
    }

    /// Reads a mapping file or, for a `.xsd`, the automatic mapping.
    pub fn read(path: &Path) -> Result<Mapping> {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xsd")) {
            return Ok(Mapping::automatic(path));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(format!("cannot read mapping file {}: {e}", path.display())))?;
        Mapping::parse(&text, path)
    }

    /// Parses mapping text; relative paths are relative to `path`'s folder.
    pub fn parse(text: &str, path: &Path) -> Result<Mapping> {
        let err = |m: String| Error::new(format!("{}: {m}", path.display()));
        let raw: RawMapping = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut ns = raw.namespaces.clone();
        for (p, uri) in &ns {
            if p.is_empty() || p.contains(':') {
                return Err(err(format!("[namespaces]: {p:?} is not a prefix")));
            }
            if uri.is_empty() {
                return Err(err(format!("[namespaces]: prefix {p:?} is bound to an empty namespace")));
            }
        }
        ns.entry("xs".into()).or_insert_with(|| XS.into());
        ns.entry("xsd".into()).or_insert_with(|| XS.into());
        let resolve = |p: &str| -> Result<NodePath> { parse_path(p, &ns).map_err(&err) };
        let xsd = match raw.xsd {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        };
        if xsd.is_empty() {
            return Err(err("xsd = [] names no schema document".into()));
        }
        let mut tables = vec![];
        for t in raw.tables {
            if t.rows.is_empty() {
                return Err(err(format!("table {:?} has no rows = [...]", t.name)));
            }
            let rows = t.rows.iter().map(|r| resolve(r)).collect::<Result<Vec<_>>>()?;
            if let Some(r) = rows.iter().find(|r| r.attribute.is_some()) {
                return Err(err(format!("table {:?}: rows path {} ends in an attribute", t.name, r.text)));
            }
            tables.push(TableRule { name: t.name, rows });
        }
        let mut roots = vec![];
        for r in &raw.roots {
            let p = resolve(r)?;
            if p.elements.len() != 1 || p.attribute.is_some() {
                return Err(err(format!("roots: {r:?} is not a root element path such as \"/p:Document\"")));
            }
            roots.push(p.elements[0].clone());
        }
        let mut types = BTreeMap::new();
        for (k, v) in raw.types {
            let q = qname(&k, &ns).map_err(|m| err(format!("[types] {k:?}: {m}")))?;
            let c = TypeChoice::parse(&v).ok_or_else(|| err(format!("[types] {k:?} = {v:?}: not a column type")))?;
            types.insert(q, c);
        }
        let mut columns = BTreeMap::new();
        for (k, v) in raw.columns {
            let p = resolve(&k)?;
            let ty = match &v.ty {
                Some(t) => Some(
                    TypeChoice::parse(t)
                        .ok_or_else(|| err(format!("[columns.{k:?}] type = {t:?}: not a column type")))?,
                ),
                None => None,
            };
            columns.insert(p, ColumnRule { ty, rename: v.rename, exclude: v.exclude });
        }
        let (timezone, timezone_minutes) = match raw.options.timezone {
            None => ("UTC".to_string(), 0),
            Some(z) => {
                let m =
                    parse_zone(&z).ok_or_else(|| err(format!("[options] timezone = {z:?}: use UTC, Z or ±hh:mm")))?;
                (z, m)
            }
        };
        let max_depth = raw.options.max_depth.unwrap_or(MAX_DEPTH);
        if !(1..=MAX_DEPTH).contains(&max_depth) {
            return Err(err(format!(
                "[options] max_depth = {max_depth}: BigQuery nests RECORDs 1 to {MAX_DEPTH} deep"
            )));
        }
        let optional = raw.relax.optional.iter().map(|p| resolve(p)).collect::<Result<Vec<_>>>()?;
        let require_one_of = raw
            .relax
            .require_one_of
            .iter()
            .map(|g| g.iter().map(|p| resolve(p)).collect::<Result<Vec<_>>>())
            .collect::<Result<Vec<_>>>()?;
        let locate = |s: &str| dir.join(s);
        Ok(Mapping {
            file: Some(path.to_path_buf()),
            xsd: xsd.iter().map(|s| locate(s)).collect(),
            schema_locations: raw.schema_locations.iter().map(|(k, v)| (k.clone(), locate(v))).collect(),
            tables,
            roots,
            document_name: raw.document.name,
            types,
            columns,
            timezone_minutes,
            timezone,
            max_depth,
            optional,
            require_one_of,
        })
    }
}

impl Mapping {
    /// May a document have root `q`? With tables declared, the roots are those the mapping
    /// names (`roots = [...]`), else those its tables' paths start with; without tables,
    /// every global element of the schema documents.
    pub fn allows_root(&self, q: &QName) -> bool {
        if !self.roots.is_empty() {
            return self.roots.contains(q);
        }
        self.tables.is_empty() || self.tables.iter().any(|t| t.rows.iter().any(|r| r.elements.first() == Some(q)))
    }
}

fn qname(s: &str, ns: &BTreeMap<String, String>) -> std::result::Result<QName, String> {
    match s.split_once(':') {
        Some((p, l)) => {
            let uri = ns.get(p).ok_or_else(|| format!("prefix {p:?} is not in [namespaces]"))?;
            if l.is_empty() || l.contains(':') {
                return Err(format!("{s:?} is not a name"));
            }
            Ok(QName::new(Some(uri.clone()), l))
        }
        None if s.is_empty() => Err("empty name".into()),
        None => Ok(QName::new(None, s)),
    }
}

/// `/p:a/b/@c` → elements [{p}a, b], attribute c.
fn parse_path(s: &str, ns: &BTreeMap<String, String>) -> std::result::Result<NodePath, String> {
    let body = s.strip_prefix('/').ok_or_else(|| format!("path {s:?} must be absolute (start with /)"))?;
    let mut elements = vec![];
    let mut attribute = None;
    let steps: Vec<&str> = body.split('/').collect();
    for (i, step) in steps.iter().enumerate() {
        if let Some(a) = step.strip_prefix('@') {
            if i + 1 != steps.len() {
                return Err(format!("path {s:?}: an attribute must be the last step"));
            }
            attribute = Some(qname(a, ns).map_err(|m| format!("path {s:?}: {m}"))?);
        } else {
            elements.push(qname(step, ns).map_err(|m| format!("path {s:?}: {m}"))?);
        }
    }
    if elements.is_empty() {
        return Err(format!("path {s:?} names no element"));
    }
    Ok(NodePath { elements, attribute, text: s.to_string() })
}

/// `UTC`, `Z`, `+09:00`, `-05:30` → minutes east of UTC.
pub fn parse_zone(z: &str) -> Option<i16> {
    match z {
        "UTC" | "Z" | "utc" => return Some(0),
        _ => {}
    }
    let b = z.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        return None;
    }
    let h: i16 = z.get(1..3)?.parse().ok()?;
    let m: i16 = z.get(4..6)?.parse().ok()?;
    if h > 14 || m > 59 || (h == 14 && m > 0) {
        return None;
    }
    let off = h * 60 + m;
    Some(if b[0] == b'-' { -off } else { off })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_types_and_errors() {
        let text = r#"
xsd = "gpx.xsd"
[namespaces]
g = "urn:g"
[[table]]
name = "trkpt"
rows = ["/g:gpx/g:trk/g:trkseg/g:trkpt"]
[types]
"xs:dateTime" = "DATETIME"
[columns."/g:gpx/g:trk/g:trkseg/g:trkpt/@lat"]
rename = "latitude"
[options]
timezone = "+09:00"
"#;
        let m = Mapping::parse(text, Path::new("/x/m.toml")).unwrap();
        assert_eq!(m.xsd, vec![PathBuf::from("/x/gpx.xsd")]);
        assert_eq!(m.tables[0].rows[0].elements.len(), 4);
        assert_eq!(m.tables[0].rows[0].elements[3], QName::new(Some("urn:g".into()), "trkpt"));
        assert_eq!(m.types[&QName::new(Some(XS.into()), "dateTime")], TypeChoice::DateTime);
        let (p, c) = m.columns.iter().next().unwrap();
        assert_eq!(p.attribute, Some(QName::new(None, "lat")));
        assert_eq!(c.rename.as_deref(), Some("latitude"));
        assert_eq!(m.timezone_minutes, 540);
        let bad = Mapping::parse("xsd = 'a.xsd'\n[[table]]\nname='t'\nrows=['/q:a']", Path::new("m.toml"));
        assert!(bad.unwrap_err().message.contains("prefix \"q\" is not in [namespaces]"));
        let unknown = Mapping::parse("xsd = 'a.xsd'\ntables = 1", Path::new("m.toml"));
        assert!(unknown.unwrap_err().message.contains("unknown field"));
    }
}
