//! Loads a schema set: the named schema documents and every document they reach
//! through `xs:include` and `xs:import`, each resolved relative to the including file.
//! A `schemaLocation` that is a URL is never fetched: it must be mapped to a local
//! file in the mapping's `[schema_locations]`, or it is refused with a message that
//! says so.

use super::dom::{self, Node, XML, XS};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The published location of the XML namespace's schema; its few attributes
/// (`xml:lang`, `xml:space`, `xml:base`, `xml:id`) are built in.
const XML_XSD_URLS: &[&str] = &["http://www.w3.org/2001/xml.xsd", "https://www.w3.org/2001/xml.xsd"];

/// One schema document with its effective settings.
#[derive(Debug)]
pub struct SchemaDoc {
    pub root: Node,
    /// The target namespace (for a chameleon include: the includer's).
    pub target_ns: Option<String>,
    /// Included without a targetNamespace into one that has one: unqualified
    /// references inside it mean the includer's namespace.
    pub chameleon: bool,
    pub qualified_elements: bool,
    pub qualified_attributes: bool,
    pub block_default: String,
}

/// A loaded schema set.
#[derive(Debug)]
pub struct SchemaSet {
    pub docs: Vec<SchemaDoc>,
    /// Indices in `docs` of the documents named by the user (their global elements are roots).
    pub mains: Vec<usize>,
    /// Every file read (for cargo's rerun-if-changed).
    pub files: BTreeSet<PathBuf>,
}

struct Loader<'a> {
    locations: &'a BTreeMap<String, PathBuf>,
    docs: Vec<SchemaDoc>,
    seen: BTreeMap<(PathBuf, Option<String>), usize>,
    files: BTreeSet<PathBuf>,
}

/// Loads `mains` (schema documents named by the user) and what they include and import.
/// `locations` maps schemaLocation URLs to local files.
pub fn load(mains: &[PathBuf], locations: &BTreeMap<String, PathBuf>) -> Result<SchemaSet> {
    let mut l = Loader { locations, docs: vec![], seen: BTreeMap::new(), files: BTreeSet::new() };
    let mut main_ids = vec![];
    for m in mains {
        main_ids.push(l.doc(m, None, false)?);
    }
    Ok(SchemaSet { docs: l.docs, mains: main_ids, files: l.files })
}

fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ["http://", "https://", "ftp://", "urn:"].iter().any(|p| lower.starts_with(p))
}

impl Loader<'_> {
    /// Resolves a schemaLocation found in `from` (a file) to a local path; None for the
    /// XML namespace's schema, which is built in.
    fn locate(&self, node: &Node, from: &Path, location: &str) -> Result<Option<PathBuf>> {
        if let Some(p) = self.locations.get(location) {
            return Ok(Some(p.clone()));
        }
        if XML_XSD_URLS.contains(&location) {
            return Ok(None);
        }
        if is_url(location) {
            return Err(node.loc.error(format!(
                "schemaLocation {location:?} is a URL; xml2bq never fetches schemas. Download the file and map it \
                 in the mapping file: [schema_locations] {location:?} = \"local/copy.xsd\""
            )));
        }
        let base = from.parent().unwrap_or(Path::new("."));
        Ok(Some(base.join(location)))
    }

    /// Loads one document (once per file and effective namespace); returns its index.
    fn doc(&mut self, path: &Path, include_ns: Option<Option<String>>, _from_import: bool) -> Result<usize> {
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.files.insert(canon.clone());
        let root = dom::read(&canon)?;
        if !root.is("schema") {
            return Err(root.loc.error(format!(
                "expected an xs:schema element (namespace {XS}), found <{}> in namespace {:?}",
                root.local, root.ns
            )));
        }
        let declared = root.attr("targetNamespace").map(str::to_string);
        let (target_ns, chameleon) = match (&include_ns, &declared) {
            (None, _) => (declared.clone(), false),
            (Some(inc), Some(d)) if inc.as_deref() != Some(d.as_str()) => {
                return Err(root.loc.error(format!(
                    "xs:include of a schema whose targetNamespace {d:?} differs from the including schema's ({inc:?}); \
                     use xs:import for another namespace"
                )));
            }
            (Some(_), Some(_)) => (declared.clone(), false),
            (Some(inc), None) => (inc.clone(), inc.is_some()),
        };
        let key = (canon.clone(), target_ns.clone());
        if let Some(&i) = self.seen.get(&key) {
            return Ok(i);
        }
        let idx = self.docs.len();
        self.seen.insert(key, idx);
        let flag = |name: &str| root.attr(name) == Some("qualified");
        let doc = SchemaDoc {
            qualified_elements: flag("elementFormDefault"),
            qualified_attributes: flag("attributeFormDefault"),
            block_default: root.attr("blockDefault").unwrap_or("").to_string(),
            target_ns: target_ns.clone(),
            chameleon,
            root,
        };
        // Read the references before moving the document in (children are kept in place).
        let mut refs = vec![];
        for c in doc.root.xs_children() {
            match c.local.as_str() {
                "include" => {
                    let loc =
                        c.attr("schemaLocation").ok_or_else(|| c.loc.error("xs:include without schemaLocation"))?;
                    refs.push((self.locate(c, &canon, loc)?, Some(target_ns.clone())));
                }
                "import" => {
                    let ns = c.attr("namespace").map(str::to_string);
                    if ns == target_ns {
                        return Err(c.loc.error("xs:import of the schema's own target namespace (use xs:include)"));
                    }
                    match c.attr("schemaLocation") {
                        Some(loc) => {
                            if let Some(p) = self.locate(c, &canon, loc)? {
                                refs.push((Some(p), None));
                            }
                        }
                        None if ns.as_deref() == Some(XML) => {}
                        // No location: the components must come from another document of the set.
                        None => {}
                    }
                }
                "redefine" => {
                    return Err(c.loc.error(
                        "xs:redefine is not supported; apply the redefinition to a copy of the schema and include that",
                    ));
                }
                "override" => return Err(c.loc.error("xs:override (XSD 1.1) is not supported")),
                "defaultOpenContent" => return Err(c.loc.error("xs:defaultOpenContent (XSD 1.1) is not supported")),
                _ => {}
            }
        }
        self.docs.push(doc);
        for (p, inc) in refs {
            if let Some(p) = p {
                if !p.exists() {
                    return Err(Error::new(format!(
                        "{}: schema file {} (referenced by schemaLocation) does not exist",
                        canon.display(),
                        p.display()
                    )));
                }
                self.doc(&p, inc, true)?;
            }
        }
        Ok(idx)
    }
}
