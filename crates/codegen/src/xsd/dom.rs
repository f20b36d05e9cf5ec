//! A schema document as a small tree: element names resolved to namespaces, the
//! in-scope prefix bindings of every node (for QName-valued attributes such as
//! `type="xs:string"`), and the line of every node for error messages.

use crate::error::{Error, Loc};
use quick_xml::events::{BytesStart, Event};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The XML Schema namespace.
pub const XS: &str = "http://www.w3.org/2001/XMLSchema";
/// The XML namespace (bound to `xml` in every document).
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// Prefix → namespace bindings in scope at a node (`""` is the default namespace).
pub type Bindings = Rc<BTreeMap<String, String>>;

/// One element of a schema document.
#[derive(Debug)]
pub struct Node {
    /// Namespace of the element (`XS` for schema components).
    pub ns: String,
    pub local: String,
    /// Unprefixed attributes by name; prefixed (foreign) attributes as `{ns}local`.
    attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Character data directly inside the element (for annotations only).
    pub text: String,
    pub bindings: Bindings,
    pub loc: Loc,
}

impl Node {
    /// An unprefixed attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// True for an element of the XML Schema namespace named `local`.
    pub fn is(&self, local: &str) -> bool {
        self.local == local && self.ns == XS
    }

    /// Child elements in the XML Schema namespace, without annotations.
    pub fn xs_children(&self) -> impl Iterator<Item = &Node> {
        self.children.iter().filter(|c| c.ns == XS && c.local != "annotation")
    }

    /// Resolves a QName-valued attribute value (`prefix:local`, or `local` in the
    /// default namespace) to (namespace, local name).
    pub fn qname(&self, value: &str) -> Result<(Option<String>, String), Error> {
        let value = value.trim();
        let (prefix, local) = match value.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", value),
        };
        if local.is_empty() || local.contains(':') {
            return Err(self.loc.error(format!("{value:?} is not a QName")));
        }
        if prefix == "xml" {
            return Ok((Some(XML.to_string()), local.to_string()));
        }
        match self.bindings.get(prefix) {
            Some(ns) if ns.is_empty() => Ok((None, local.to_string())),
            Some(ns) => Ok((Some(ns.clone()), local.to_string())),
            None if prefix.is_empty() => Ok((None, local.to_string())),
            None => Err(self.loc.error(format!("prefix {prefix:?} of {value:?} is not declared"))),
        }
    }

    /// A short description for messages: `xs:element name="x"`.
    pub fn describe(&self) -> String {
        match self.attr("name").or(self.attr("ref")) {
            Some(n) => format!("xs:{} {:?}", self.local, n),
            None => format!("xs:{}", self.local),
        }
    }
}

/// Reads a schema document.
pub fn read(path: &Path) -> Result<Node, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("cannot read schema file {}: {e}", path.display())))?;
    parse(&text, path)
}

/// Parses schema text (`path` is used for locations only).
pub fn parse(text: &str, path: &Path) -> Result<Node, Error> {
    let file: Rc<PathBuf> = Rc::new(path.to_path_buf());
    let lines = LineIndex::new(text);
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let root_bindings: Bindings = Rc::new(BTreeMap::new());
    let mut entities: BTreeMap<String, String> = BTreeMap::new();
    let mut stack: Vec<Node> = vec![];
    let mut top: Option<Node> = None;
    loop {
        let pos = reader.buffer_position();
        let loc = Loc::new(file.clone(), lines.line(pos));
        let ev = reader.read_event().map_err(|e| loc.error(format!("the schema is not well-formed XML: {e}")))?;
        match ev {
            Event::Start(e) | Event::Empty(e) if top.is_some() => {
                return Err(loc.error(format!("content after the root element: <{}>", name_of(&e))));
            }
            Event::Start(e) => {
                let parent = stack.last().map_or(&root_bindings, |n| &n.bindings);
                stack.push(open(&e, parent, loc, &entities)?);
            }
            Event::Empty(e) => {
                let parent = stack.last().map_or(&root_bindings, |n| &n.bindings);
                let node = open(&e, parent, loc, &entities)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(node),
                    None => top = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or_else(|| loc.error("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(node),
                    None => top = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            // Some published schemas (XML-DSig, XML Encryption) declare entities in an
            // internal subset: their general entities are expanded in attribute values.
            // Nothing is ever fetched; parameter entities and attribute defaults are ignored.
            Event::DocType(d) => entities = internal_entities(&String::from_utf8_lossy(&d)),
            Event::Eof => break,
            _ => {}
        }
    }
    top.ok_or_else(|| Error::new(format!("{}: the file holds no element", path.display())))
}

fn name_of(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.name().as_ref()).into_owned()
}

/// The general entities (`<!ENTITY name 'value'>`) of a DOCTYPE's internal subset.
fn internal_entities(doctype: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = doctype;
    while let Some(i) = rest.find("<!ENTITY") {
        rest = &rest[i + "<!ENTITY".len()..];
        let decl = rest.trim_start();
        if decl.starts_with('%') {
            continue;
        }
        let name: String = decl.chars().take_while(|c| !c.is_whitespace()).collect();
        let after = decl[name.len()..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else { continue };
        if let Some(end) = after[1..].find(q) {
            out.insert(name, after[1..1 + end].to_string());
        }
    }
    out
}

fn open(e: &BytesStart<'_>, parent: &Bindings, loc: Loc, entities: &BTreeMap<String, String>) -> Result<Node, Error> {
    let mut raw = vec![];
    let mut declared: Option<BTreeMap<String, String>> = None;
    for a in e.attributes() {
        let a = a.map_err(|err| loc.error(format!("bad attribute in <{}>: {err}", name_of(e))))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .unescape_value_with(|name| {
                entities.get(name).map(String::as_str).or_else(|| quick_xml::escape::resolve_predefined_entity(name))
            })
            .map_err(|err| loc.error(format!("bad attribute value in <{}>: {err}", name_of(e))))?
            .into_owned();
        if key == "xmlns" || key.starts_with("xmlns:") {
            let prefix = key.strip_prefix("xmlns").unwrap_or("").trim_start_matches(':').to_string();
            declared.get_or_insert_with(|| (**parent).clone()).insert(prefix, value);
        } else {
            raw.push((key, value));
        }
    }
    let bindings = match declared {
        Some(b) => Rc::new(b),
        None => parent.clone(),
    };
    let qname = name_of(e);
    let (prefix, local) = qname.split_once(':').unwrap_or(("", &qname));
    let ns = match bindings.get(prefix) {
        Some(ns) => ns.clone(),
        None if prefix.is_empty() => String::new(),
        None => return Err(loc.error(format!("prefix {prefix:?} of <{qname}> is not declared"))),
    };
    let mut attrs = vec![];
    for (key, value) in raw {
        match key.split_once(':') {
            None => attrs.push((key, value)),
            Some(("xml", l)) => attrs.push((format!("{{{XML}}}{l}"), value)),
            Some((p, l)) => {
                let ns = bindings
                    .get(p)
                    .ok_or_else(|| loc.error(format!("prefix {p:?} of attribute {key} is not declared")))?;
                attrs.push((format!("{{{ns}}}{l}"), value));
            }
        }
    }
    Ok(Node { ns, local: local.to_string(), attrs, children: vec![], text: String::new(), bindings, loc })
}

/// Byte offset → line number.
struct LineIndex {
    starts: Vec<u64>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i as u64 + 1));
        LineIndex { starts }
    }

    fn line(&self, pos: u64) -> u32 {
        // The reader's position is just before the event; skip to the next non-blank
        // would be nicer, but the line of the preceding markup end is close enough.
        self.starts.partition_point(|&s| s <= pos) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_subset_entities_expand_in_attributes() {
        let text = "<!DOCTYPE schema [ <!ATTLIST schema xmlns:ds CDATA #FIXED 'urn:d'> <!ENTITY dsig 'urn:d#'> <!ENTITY % p ''> ]>\n<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' targetNamespace='&dsig;x'/>";
        let root = parse(text, Path::new("s.xsd")).unwrap();
        assert_eq!(root.attr("targetNamespace"), Some("urn:d#x"));
    }

    #[test]
    fn names_bindings_and_lines() {
        let text = "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' xmlns:t='urn:t'>\n  <xs:element name='a' type='t:T' xml:lang='en'/>\n</xs:schema>";
        let root = parse(text, Path::new("s.xsd")).unwrap();
        assert!(root.is("schema"));
        let el = &root.children[0];
        assert!(el.is("element"));
        assert_eq!(el.attr("name"), Some("a"));
        assert_eq!(el.qname(el.attr("type").unwrap()).unwrap(), (Some("urn:t".into()), "T".into()));
        assert_eq!(el.qname("nope:x").unwrap_err().message, "prefix \"nope\" of \"nope:x\" is not declared");
        assert_eq!(el.loc.line, 2);
        assert!(el.attrs.iter().any(|(n, _)| n.ends_with("}lang")));
    }
}
