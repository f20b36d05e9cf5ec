//! Reads an XSD file into the small model the generator works from.
//!
//! Supported subset: top-level `xs:element`, named and anonymous `xs:complexType`
//! with `xs:sequence` of `xs:element` (minOccurs/maxOccurs) and `xs:attribute`
//! (`use="required"`), named or inline `xs:simpleType` restrictions (mapped to their
//! base type; facets are ignored) and the built-in simple types listed in [`Builtin`].
//! Anything else (choice, all, groups, extension, mixed content, imports) is refused
//! with an error that names it, so a schema is never half-understood.

use quick_xml::events::Event;
use std::collections::BTreeMap;

/// A built-in XSD simple type, grouped by how its value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// xs:string: kept exactly.
    String,
    /// xs:normalizedString: tab, CR and LF become spaces.
    NormalizedString,
    /// xs:token and its kin: whitespace collapsed.
    Token,
    /// xs:integer and its range-restricted kin, as i64 with bounds.
    Integer {
        min: i64,
        max: i64,
    },
    /// xs:decimal, exact, scale 9.
    Decimal,
    Boolean,
    Double,
    Date,
    /// xs:dateTime: local (no zone) timestamp.
    DateTime,
    /// xs:dateTimeStamp: zone required, stored as UTC.
    DateTimeStamp,
}

impl Builtin {
    pub fn from_xsd(local: &str) -> Option<Builtin> {
        use Builtin::*;
        Some(match local {
            "string" | "anySimpleType" => String,
            "normalizedString" => NormalizedString,
            "token" | "language" | "Name" | "NCName" | "NMTOKEN" | "ID" | "IDREF" | "ENTITY" | "anyURI" => Token,
            "integer" | "long" => Integer { min: i64::MIN, max: i64::MAX },
            "int" => Integer { min: i32::MIN as i64, max: i32::MAX as i64 },
            "short" => Integer { min: i16::MIN as i64, max: i16::MAX as i64 },
            "byte" => Integer { min: i8::MIN as i64, max: i8::MAX as i64 },
            "nonNegativeInteger" | "unsignedLong" => Integer { min: 0, max: i64::MAX },
            "positiveInteger" => Integer { min: 1, max: i64::MAX },
            "negativeInteger" => Integer { min: i64::MIN, max: -1 },
            "nonPositiveInteger" => Integer { min: i64::MIN, max: 0 },
            "unsignedInt" => Integer { min: 0, max: u32::MAX as i64 },
            "unsignedShort" => Integer { min: 0, max: u16::MAX as i64 },
            "unsignedByte" => Integer { min: 0, max: u8::MAX as i64 },
            "decimal" => Decimal,
            "boolean" => Boolean,
            "double" | "float" => Double,
            "date" => Date,
            "dateTime" => DateTime,
            "dateTimeStamp" => DateTimeStamp,
            _ => return None,
        })
    }
}

/// The type of an element or attribute once names are resolved.
#[derive(Clone, Debug)]
pub enum Type {
    Simple(Builtin),
    Complex(usize),
}

#[derive(Clone, Debug)]
pub struct Element {
    pub name: String,
    pub ty: Type,
    pub min: u32,
    /// None: unbounded.
    pub max: Option<u32>,
}

impl Element {
    pub fn repeated(&self) -> bool {
        self.max.is_none_or(|m| m > 1)
    }
    pub fn optional(&self) -> bool {
        self.min == 0
    }
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    pub ty: Builtin,
    pub required: bool,
}

#[derive(Clone, Debug)]
pub struct ComplexType {
    /// The XSD name, or None for an anonymous type.
    pub name: Option<String>,
    /// The name of the first element declared with this type (names anonymous structs).
    pub element_name: String,
    pub children: Vec<Element>,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug)]
pub struct Schema {
    pub roots: Vec<Element>,
    pub types: Vec<ComplexType>,
}

/// A parsed XML node (the XSD is small; a tree is the simplest thing).
#[derive(Debug, Default)]
struct Node {
    local: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.get(k).map(String::as_str)
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.into_owned(),
    }
}

fn read_tree(text: &str) -> Result<Node, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let ev = reader.read_event().map_err(|e| format!("XSD is not well-formed: {e}"))?;
        let open = |e: &quick_xml::events::BytesStart| -> Result<Node, String> {
            let mut n = Node { local: local(e.name().as_ref()), ..Node::default() };
            for a in e.attributes() {
                let a = a.map_err(|e| format!("bad XSD attribute: {e}"))?;
                let v = a.unescape_value().map_err(|e| format!("bad XSD attribute: {e}"))?;
                n.attrs.insert(local(a.key.as_ref()), v.into_owned());
            }
            Ok(n)
        };
        match ev {
            Event::Start(e) => stack.push(open(&e)?),
            Event::Empty(e) => {
                let n = open(&e)?;
                stack.last_mut().expect("stack").children.push(n);
            }
            Event::End(_) => {
                let n = stack.pop().expect("balanced");
                stack.last_mut().ok_or("unbalanced XSD")?.children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut top = stack.pop().ok_or("empty XSD")?;
    top.children.pop().ok_or_else(|| "XSD has no root element".to_string())
}

fn occurs(v: Option<&str>, default: u32) -> Result<Option<u32>, String> {
    match v {
        None => Ok(Some(default)),
        Some("unbounded") => Ok(None),
        Some(n) => n.parse().map(Some).map_err(|_| format!("bad occurrence value {n:?}")),
    }
}

struct Builder<'a> {
    named_complex: BTreeMap<String, &'a Node>,
    named_simple: BTreeMap<String, &'a Node>,
    types: Vec<ComplexType>,
    by_name: BTreeMap<String, usize>,
}

impl<'a> Builder<'a> {
    fn simple(&self, type_name: &str, ctx: &str) -> Result<Builtin, String> {
        let l = local(type_name.as_bytes());
        if let Some(b) =
            (type_name.contains(':') || !self.named_simple.contains_key(&l)).then(|| Builtin::from_xsd(&l)).flatten()
        {
            return Ok(b);
        }
        match self.named_simple.get(&l) {
            Some(n) => self.simple_node(n, ctx),
            None => Err(format!(
                "{ctx}: type {type_name:?} is not a supported built-in type or a simpleType of this schema"
            )),
        }
    }

    fn simple_node(&self, n: &Node, ctx: &str) -> Result<Builtin, String> {
        match n.children.iter().find(|c| c.local != "annotation") {
            Some(r) if r.local == "restriction" => match r.attr("base") {
                Some(base) => self.simple(base, ctx),
                None => Err(format!("{ctx}: xs:restriction without base is not supported")),
            },
            Some(other) => Err(format!("{ctx}: xs:{} in a simpleType is not supported", other.local)),
            None => Err(format!("{ctx}: empty simpleType")),
        }
    }

    fn complex(&mut self, n: &'a Node, name: Option<String>, element_name: &str) -> Result<usize, String> {
        if let Some(nm) = &name
            && let Some(&i) = self.by_name.get(nm)
        {
            return Ok(i);
        }
        let ctx = name.clone().unwrap_or_else(|| element_name.to_string());
        if n.attr("mixed") == Some("true") {
            return Err(format!("{ctx}: mixed content is not supported"));
        }
        let idx = self.types.len();
        self.types.push(ComplexType {
            name: name.clone(),
            element_name: element_name.to_string(),
            children: vec![],
            attributes: vec![],
        });
        if let Some(nm) = name {
            self.by_name.insert(nm, idx);
        }
        let mut children = vec![];
        let mut attributes = vec![];
        for c in &n.children {
            match c.local.as_str() {
                "annotation" | "anyAttribute" => {}
                "sequence" => {
                    for e in &c.children {
                        match e.local.as_str() {
                            "element" => children.push(self.element(e, &ctx)?),
                            "annotation" => {}
                            other => {
                                return Err(format!("{ctx}: xs:{other} inside xs:sequence is not supported"));
                            }
                        }
                    }
                }
                "attribute" => {
                    let name = c.attr("name").ok_or(format!("{ctx}: attribute without name"))?;
                    let actx = format!("{ctx}/@{name}");
                    let ty = match (c.attr("type"), c.children.iter().find(|x| x.local == "simpleType")) {
                        (Some(t), _) => self.simple(t, &actx)?,
                        (None, Some(st)) => self.simple_node(st, &actx)?,
                        (None, None) => Builtin::String,
                    };
                    attributes.push(Attribute {
                        name: name.to_string(),
                        ty,
                        required: c.attr("use") == Some("required"),
                    });
                }
                other => {
                    return Err(format!("{ctx}: xs:{other} is not supported (only xs:sequence and xs:attribute)"));
                }
            }
        }
        self.types[idx].children = children;
        self.types[idx].attributes = attributes;
        Ok(idx)
    }

    fn element(&mut self, e: &'a Node, ctx: &str) -> Result<Element, String> {
        if let Some(r) = e.attr("ref") {
            return Err(format!("{ctx}: element ref={r:?} is not supported; declare the element inline"));
        }
        let name = e.attr("name").ok_or(format!("{ctx}: element without name"))?.to_string();
        let ectx = format!("{ctx}/{name}");
        let min = occurs(e.attr("minOccurs"), 1)?.ok_or(format!("{ectx}: minOccurs cannot be unbounded"))?;
        let max = occurs(e.attr("maxOccurs"), 1)?;
        let inline_complex = e.children.iter().find(|c| c.local == "complexType");
        let inline_simple = e.children.iter().find(|c| c.local == "simpleType");
        let ty = match (e.attr("type"), inline_complex, inline_simple) {
            (Some(t), _, _) => {
                let l = local(t.as_bytes());
                match self.named_complex.get(&l).copied() {
                    Some(n) if !t.starts_with("xs:") && !t.starts_with("xsd:") => {
                        Type::Complex(self.complex(n, Some(l), &name)?)
                    }
                    _ => Type::Simple(self.simple(t, &ectx)?),
                }
            }
            (None, Some(ct), _) => Type::Complex(self.complex(ct, None, &name)?),
            (None, None, Some(st)) => Type::Simple(self.simple_node(st, &ectx)?),
            (None, None, None) => Type::Simple(Builtin::String),
        };
        Ok(Element { name, ty, min, max })
    }
}

/// Parses XSD text into a [`Schema`].
pub fn parse(text: &str) -> Result<Schema, String> {
    let root = read_tree(text)?;
    if root.local != "schema" {
        return Err(format!("expected xs:schema at the top, found {}", root.local));
    }
    let mut b = Builder {
        named_complex: BTreeMap::new(),
        named_simple: BTreeMap::new(),
        types: vec![],
        by_name: BTreeMap::new(),
    };
    for c in &root.children {
        match (c.local.as_str(), c.attr("name")) {
            ("complexType", Some(n)) => {
                b.named_complex.insert(n.to_string(), c);
            }
            ("simpleType", Some(n)) => {
                b.named_simple.insert(n.to_string(), c);
            }
            ("include" | "import" | "redefine" | "group" | "attributeGroup", _) => {
                return Err(format!("xs:{} is not supported", c.local));
            }
            _ => {}
        }
    }
    let mut roots = vec![];
    for c in root.children.iter().filter(|c| c.local == "element") {
        roots.push(b.element(c, "schema")?);
    }
    Ok(Schema { roots, types: b.types })
}
