//! Builds the schema components from the loaded documents: resolves QName
//! references, named groups and attribute groups, element and attribute `ref=`,
//! derivations (complex and simple content, extension and restriction), facets,
//! substitution groups and identity constraints. What is outside the supported
//! language is refused with its name and place.

use super::dom::{Node, XML, XS};
use super::load::{SchemaDoc, SchemaSet};
use super::model::*;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// Kinds of named top-level components (each has its own symbol space).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Space {
    Type,
    Element,
    Attribute,
    Group,
    AttributeGroup,
}

struct Resolver<'a> {
    set: &'a SchemaSet,
    index: BTreeMap<(Space, QName), (usize, &'a Node)>,
    schema: Schema,
    elements: BTreeMap<QName, ElemId>,
    complex: BTreeMap<QName, ComplexId>,
    simple: BTreeMap<QName, SimpleId>,
    constraint_names: BTreeMap<QName, ConstraintId>,
    /// Keyrefs whose `refer` is resolved once every constraint is known.
    keyrefs: Vec<(ConstraintId, QName, usize, &'a Node)>,
    in_progress: BTreeSet<(Space, QName)>,
}

/// Resolves a loaded schema set into components.
pub fn resolve(set: &SchemaSet) -> Result<Schema> {
    let mut r = Resolver {
        set,
        index: BTreeMap::new(),
        schema: Schema::default(),
        elements: BTreeMap::new(),
        complex: BTreeMap::new(),
        simple: BTreeMap::new(),
        constraint_names: BTreeMap::new(),
        keyrefs: vec![],
        in_progress: BTreeSet::new(),
    };
    r.builtins();
    r.index_components()?;
    // Resolve every global component, so that substitution groups and the
    // candidates of xsi:type are all known.
    let globals: Vec<(Space, QName)> = r.index.keys().cloned().collect();
    for (space, q) in globals {
        match space {
            Space::Type => {
                r.named_type(&q, None)?;
            }
            Space::Element => {
                r.global_element(&q, None)?;
            }
            Space::Attribute => {
                r.global_attribute(&q, None)?;
            }
            _ => {}
        }
    }
    for (id, refer, doc, node) in std::mem::take(&mut r.keyrefs) {
        let target = *r.constraint_names.get(&refer).ok_or_else(|| {
            node.loc.error(format!("xs:keyref refers to {refer}, which is not an xs:key or xs:unique of the schema"))
        })?;
        if matches!(r.schema.constraints[target].kind, ConstraintKind::KeyRef(_)) {
            return Err(node.loc.error(format!("xs:keyref refers to {refer}, another keyref")));
        }
        let _ = doc;
        r.schema.constraints[id].kind = ConstraintKind::KeyRef(target);
    }
    r.substitution_groups();
    for &m in &set.mains {
        let doc = &set.docs[m];
        for c in doc.root.xs_children().filter(|c| c.is("element")) {
            let name = c.attr("name").unwrap_or_default();
            let q = QName::new(doc.target_ns.clone(), name);
            if let Some(&e) = r.elements.get(&q)
                && !r.schema.roots.contains(&e)
            {
                r.schema.roots.push(e);
            }
        }
    }
    r.schema.global_elements = r.elements.clone();
    Ok(r.schema)
}

fn occurs(node: &Node, name: &str, default: u32) -> Result<Option<u32>> {
    match node.attr(name).map(str::trim) {
        None => Ok(Some(default)),
        Some("unbounded") if name == "maxOccurs" => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| node.loc.error(format!("{name}={v:?} is not a count"))),
    }
}

fn flags(v: Option<&str>, default: &str) -> Vec<String> {
    let v = v.unwrap_or(default);
    if v.trim() == "#all" {
        return ["extension", "restriction", "substitution", "list", "union"].map(String::from).to_vec();
    }
    v.split_whitespace().map(String::from).collect()
}

/// Facet element names and whether this generator enforces them.
const FACETS: &[&str] = &[
    "length",
    "minLength",
    "maxLength",
    "pattern",
    "enumeration",
    "whiteSpace",
    "maxInclusive",
    "maxExclusive",
    "minInclusive",
    "minExclusive",
    "totalDigits",
    "fractionDigits",
];

impl<'a> Resolver<'a> {
    fn doc(&self, d: usize) -> &'a SchemaDoc {
        &self.set.docs[d]
    }

    /// Resolves a QName-valued attribute of `node` in document `d`.
    fn qname(&self, d: usize, node: &Node, value: &str) -> Result<QName> {
        let (ns, local) = node.qname(value)?;
        let doc = self.doc(d);
        // A chameleon-included document's unqualified references mean the includer's namespace.
        let ns =
            if ns.is_none() && doc.chameleon && !node.bindings.contains_key("") { doc.target_ns.clone() } else { ns };
        Ok(QName::new(ns, local))
    }

    fn builtins(&mut self) {
        for &(b, name, base) in Builtin::ALL {
            let base = (!base.is_empty()).then(|| self.simple[&QName::new(Some(XS.into()), base)]);
            let id = self.schema.simple.len();
            self.schema.simple.push(SimpleType {
                name: Some(QName::new(Some(XS.into()), name)),
                variety: Variety::Atomic(b),
                facets: Facets::default(),
                whitespace: b.whitespace(),
                base,
                loc: None,
            });
            self.schema.builtins.insert(b, id);
            self.simple.insert(QName::new(Some(XS.into()), name), id);
        }
        let any_simple = self.schema.builtin(Builtin::AnySimpleType);
        for (name, item) in [("NMTOKENS", Builtin::NmToken), ("IDREFS", Builtin::IdRef), ("ENTITIES", Builtin::Entity)]
        {
            let id = self.schema.simple.len();
            let item = self.schema.builtin(item);
            self.schema.simple.push(SimpleType {
                name: Some(QName::new(Some(XS.into()), name)),
                variety: Variety::List(item),
                facets: Facets { min_length: Some(1), ..Facets::default() },
                whitespace: Ws::Collapse,
                base: Some(any_simple),
                loc: None,
            });
            self.simple.insert(QName::new(Some(XS.into()), name), id);
        }
        // xs:anyType: any attributes, mixed content of any elements, all lax.
        let lax = Wildcard { ns: NsConstraint::Any, process: Process::Lax };
        self.schema.any_type = self.schema.complex.len();
        self.schema.complex.push(ComplexType {
            name: Some(QName::new(Some(XS.into()), "anyType")),
            base: None,
            derivation: Derivation::Restriction,
            is_abstract: false,
            block: vec![],
            content: Content::Elements {
                particle: Particle {
                    min: 1,
                    max: Some(1),
                    term: Term::Sequence(vec![Particle { min: 0, max: None, term: Term::Wildcard(lax.clone()) }]),
                },
                mixed: true,
            },
            attributes: vec![],
            attr_wildcard: Some(lax),
            loc: None,
            order: (0, 0),
        });
        self.complex.insert(QName::new(Some(XS.into()), "anyType"), self.schema.any_type);
        // The XML namespace's attributes (the schema at www.w3.org/2001/xml.xsd).
        for (name, b) in
            [("lang", Builtin::Language), ("space", Builtin::NCName), ("base", Builtin::AnyUri), ("id", Builtin::Id)]
        {
            let q = QName::new(Some(XML.into()), name);
            let ty = self.schema.builtin(b);
            self.schema.global_attributes.insert(q.clone(), AttributeDecl { name: q, ty, default: None, fixed: None });
        }
    }

    fn index_components(&mut self) -> Result<()> {
        for (d, doc) in self.set.docs.iter().enumerate() {
            for c in doc.root.xs_children() {
                let space = match c.local.as_str() {
                    "simpleType" | "complexType" => Space::Type,
                    "element" => Space::Element,
                    "attribute" => Space::Attribute,
                    "group" => Space::Group,
                    "attributeGroup" => Space::AttributeGroup,
                    "include" | "import" | "annotation" | "notation" => continue,
                    other => return Err(c.loc.error(format!("xs:{other} at the top of a schema is not supported"))),
                };
                let name =
                    c.attr("name").ok_or_else(|| c.loc.error(format!("top-level {} without a name", c.describe())))?;
                let q = QName::new(doc.target_ns.clone(), name);
                if let Some((_, prev)) = self.index.insert((space, q.clone()), (d, c)) {
                    // The same document reached twice under one namespace is the same component.
                    if prev.loc != c.loc {
                        return Err(c.loc.error(format!(
                            "{} {q} is declared twice (also at {})",
                            c.describe(),
                            prev.loc
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn lookup(&self, space: Space, q: &QName, node: &Node) -> Result<(usize, &'a Node)> {
        self.index.get(&(space, q.clone())).copied().ok_or_else(|| {
            let what = match space {
                Space::Type => "type",
                Space::Element => "element",
                Space::Attribute => "attribute",
                Space::Group => "group",
                Space::AttributeGroup => "attribute group",
            };
            node.loc.error(format!("{what} {q} is not declared in the schema (missing xs:include or xs:import?)"))
        })
    }

    /// A type by name: built-in, simple or complex.
    fn named_type(&mut self, q: &QName, from: Option<&Node>) -> Result<TypeRef> {
        if let Some(&s) = self.simple.get(q) {
            return Ok(TypeRef::Simple(s));
        }
        if let Some(&c) = self.complex.get(q) {
            return Ok(TypeRef::Complex(c));
        }
        if q.ns.as_deref() == Some(XS) {
            let msg = format!("xs:{} is not a built-in type of XML Schema 1.0", q.local);
            return Err(from.map_or_else(|| Error::new(msg.clone()), |n| n.loc.error(msg.clone())));
        }
        let (d, node) = match from {
            Some(f) => self.lookup(Space::Type, q, f)?,
            None => *self.index.get(&(Space::Type, q.clone())).ok_or_else(|| Error::new(format!("no type {q}")))?,
        };
        if node.is("simpleType") {
            if !self.in_progress.insert((Space::Type, q.clone())) {
                return Err(node.loc.error(format!("simple type {q} is defined in terms of itself")));
            }
            let id = self.simple_type(d, node, Some(q.clone()))?;
            self.in_progress.remove(&(Space::Type, q.clone()));
            self.simple.insert(q.clone(), id);
            self.schema.types.insert(q.clone(), TypeRef::Simple(id));
            Ok(TypeRef::Simple(id))
        } else {
            let id = self.complex_type(d, node, Some(q.clone()))?;
            Ok(TypeRef::Complex(id))
        }
    }

    fn simple_ref(&mut self, d: usize, node: &Node, value: &str) -> Result<SimpleId> {
        let q = self.qname(d, node, value)?;
        match self.named_type(&q, Some(node))? {
            TypeRef::Simple(s) => Ok(s),
            TypeRef::Complex(_) => Err(node.loc.error(format!("{q} is a complex type where a simple type is needed"))),
        }
    }

    /// An `xs:simpleType` node.
    fn simple_type(&mut self, d: usize, node: &'a Node, name: Option<QName>) -> Result<SimpleId> {
        let body = node.xs_children().next().ok_or_else(|| node.loc.error("empty xs:simpleType"))?;
        let st = match body.local.as_str() {
            "restriction" => {
                let base = match (body.attr("base"), body.xs_children().find(|c| c.is("simpleType"))) {
                    (Some(b), _) => self.simple_ref(d, body, b)?,
                    (None, Some(inline)) => self.simple_type(d, inline, None)?,
                    (None, None) => return Err(body.loc.error("xs:restriction without a base type")),
                };
                self.restrict(d, body, base, name.clone())?
            }
            "list" => {
                let item = match (body.attr("itemType"), body.xs_children().find(|c| c.is("simpleType"))) {
                    (Some(t), _) => self.simple_ref(d, body, t)?,
                    (None, Some(inline)) => self.simple_type(d, inline, None)?,
                    (None, None) => return Err(body.loc.error("xs:list without an item type")),
                };
                if matches!(self.schema.simple[item].variety, Variety::List(_)) {
                    return Err(body.loc.error("a list of lists is not a valid XSD type"));
                }
                SimpleType {
                    name: name.clone(),
                    variety: Variety::List(item),
                    facets: Facets::default(),
                    whitespace: Ws::Collapse,
                    base: Some(self.schema.builtin(Builtin::AnySimpleType)),
                    loc: Some(node.loc.clone()),
                }
            }
            "union" => {
                let mut members = vec![];
                for m in body.attr("memberTypes").unwrap_or("").split_whitespace() {
                    members.push(self.simple_ref(d, body, m)?);
                }
                for inline in body.xs_children().filter(|c| c.is("simpleType")) {
                    members.push(self.simple_type(d, inline, None)?);
                }
                if members.is_empty() {
                    return Err(body.loc.error("xs:union without member types"));
                }
                SimpleType {
                    name: name.clone(),
                    variety: Variety::Union(members),
                    facets: Facets::default(),
                    whitespace: Ws::Collapse,
                    base: Some(self.schema.builtin(Builtin::AnySimpleType)),
                    loc: Some(node.loc.clone()),
                }
            }
            other => return Err(body.loc.error(format!("xs:{other} inside xs:simpleType is not supported"))),
        };
        let id = self.schema.simple.len();
        self.schema.simple.push(st);
        Ok(id)
    }

    /// A restriction of simple type `base` by the facets among `body`'s children.
    fn restrict(&mut self, d: usize, body: &Node, base: SimpleId, name: Option<QName>) -> Result<SimpleType> {
        let b = self.schema.simple[base].clone();
        let mut facets = b.facets.clone();
        let mut whitespace = b.whitespace;
        let mut patterns = vec![];
        let mut enumeration: Option<Vec<String>> = None;
        for f in body.xs_children() {
            // A simpleContent restriction also holds the type's attributes.
            if matches!(f.local.as_str(), "simpleType" | "attribute" | "attributeGroup" | "anyAttribute") {
                continue;
            }
            if !FACETS.contains(&f.local.as_str()) {
                return Err(f.loc.error(format!("facet xs:{} is not supported (XML Schema 1.0 facets only)", f.local)));
            }
            let value = f.attr("value").ok_or_else(|| f.loc.error(format!("xs:{} without a value", f.local)))?;
            let count = |v: &str| -> Result<u64> {
                v.trim().parse().map_err(|_| f.loc.error(format!("xs:{} value {v:?} is not a count", f.local)))
            };
            match f.local.as_str() {
                "length" => facets.length = Some(count(value)?),
                "minLength" => facets.min_length = Some(count(value)?),
                "maxLength" => facets.max_length = Some(count(value)?),
                "pattern" => patterns.push(value.to_string()),
                "enumeration" => {
                    // QName enumerations are compared as expanded names: keep {ns}local.
                    let v = if matches!(b.variety, Variety::Atomic(Builtin::QName | Builtin::Notation)) {
                        let q = self.qname(d, f, value)?;
                        q.to_string()
                    } else {
                        value.to_string()
                    };
                    enumeration.get_or_insert_with(Vec::new).push(v)
                }
                "whiteSpace" => {
                    whitespace = match value.trim() {
                        "preserve" => Ws::Preserve,
                        "replace" => Ws::Replace,
                        "collapse" => Ws::Collapse,
                        v => return Err(f.loc.error(format!("whiteSpace {v:?} is not preserve, replace or collapse"))),
                    }
                }
                "maxInclusive" => facets.max_inclusive = Some(value.trim().to_string()),
                "maxExclusive" => facets.max_exclusive = Some(value.trim().to_string()),
                "minInclusive" => facets.min_inclusive = Some(value.trim().to_string()),
                "minExclusive" => facets.min_exclusive = Some(value.trim().to_string()),
                "totalDigits" => facets.total_digits = Some(count(value)? as u32),
                "fractionDigits" => facets.fraction_digits = Some(count(value)? as u32),
                _ => unreachable!("checked against FACETS"),
            }
        }
        // A derived bound replaces the base's bound of the other kind on the same side.
        for f in body.xs_children() {
            match f.local.as_str() {
                "maxInclusive" => facets.max_exclusive = None,
                "maxExclusive" => facets.max_inclusive = None,
                "minInclusive" => facets.min_exclusive = None,
                "minExclusive" => facets.min_inclusive = None,
                _ => {}
            }
        }
        if !patterns.is_empty() {
            facets.patterns.push(patterns);
        }
        if enumeration.is_some() {
            facets.enumeration = enumeration;
        }
        Ok(SimpleType {
            name,
            variety: b.variety.clone(),
            facets,
            whitespace,
            base: Some(base),
            loc: Some(body.loc.clone()),
        })
    }

    /// An `xs:complexType` node (named: registered before its content, so it may refer to itself).
    fn complex_type(&mut self, d: usize, node: &'a Node, name: Option<QName>) -> Result<ComplexId> {
        if let Some(q) = &name
            && let Some(&c) = self.complex.get(q)
        {
            return Ok(c);
        }
        let doc = self.doc(d);
        let id = self.schema.complex.len();
        self.schema.complex.push(ComplexType {
            name: name.clone(),
            base: None,
            derivation: Derivation::Restriction,
            is_abstract: node.attr("abstract").map(str::trim) == Some("true"),
            block: flags(node.attr("block"), &doc.block_default),
            content: Content::Empty,
            attributes: vec![],
            attr_wildcard: None,
            loc: Some(node.loc.clone()),
            order: (d, node.loc.line),
        });
        if let Some(q) = &name {
            self.complex.insert(q.clone(), id);
            self.schema.types.insert(q.clone(), TypeRef::Complex(id));
        }
        for c in node.xs_children() {
            if matches!(c.local.as_str(), "openContent" | "assert") {
                return Err(c.loc.error(format!("xs:{} (XSD 1.1) is not supported", c.local)));
            }
        }
        let mixed_attr = node.attr("mixed").map(str::trim) == Some("true");
        let body = node.xs_children().find(|c| c.is("simpleContent") || c.is("complexContent"));
        let any_type = self.schema.any_type;
        let (base, derivation, content, attributes, wildcard) = match body {
            None => {
                let particle = self.content_particle(d, node)?;
                let content = match particle {
                    Some(p) => Content::Elements { particle: p, mixed: mixed_attr },
                    None if mixed_attr => Content::Elements { particle: Particle::empty(), mixed: true },
                    None => Content::Empty,
                };
                let (attrs, wc) = self.attributes(d, node, vec![], None, Derivation::Restriction)?;
                (Some(TypeRef::Complex(any_type)), Derivation::Restriction, content, attrs, wc)
            }
            Some(b) => {
                let der = b.xs_children().next().ok_or_else(|| b.loc.error(format!("empty xs:{}", b.local)))?;
                let derivation = match der.local.as_str() {
                    "extension" => Derivation::Extension,
                    "restriction" => Derivation::Restriction,
                    other => return Err(der.loc.error(format!("xs:{other} inside xs:{} is not supported", b.local))),
                };
                let base_name =
                    der.attr("base").ok_or_else(|| der.loc.error(format!("xs:{} without base", der.local)))?;
                let base_q = self.qname(d, der, base_name)?;
                let base = self.named_type(&base_q, Some(der))?;
                let (base_content, base_attrs, base_wc) = match base {
                    TypeRef::Complex(bc) => {
                        let t = &self.schema.complex[bc];
                        (Some(t.content.clone()), t.attributes.clone(), t.attr_wildcard.clone())
                    }
                    TypeRef::Simple(_) => (None, vec![], None),
                };
                if base == TypeRef::Complex(id) {
                    return Err(der.loc.error(format!("type {base_q} derives from itself")));
                }
                let content = if b.is("simpleContent") {
                    let simple = self.simple_content(d, der, derivation, base, base_content.as_ref(), &base_q)?;
                    Content::Simple(simple)
                } else {
                    let mixed = b.attr("mixed").map(|v| v.trim() == "true").unwrap_or(mixed_attr);
                    let own = self.content_particle(d, der)?;
                    match (derivation, base_content) {
                        (Derivation::Restriction, _) => match own {
                            Some(p) => Content::Elements { particle: p, mixed },
                            None if mixed => Content::Elements { particle: Particle::empty(), mixed },
                            None => Content::Empty,
                        },
                        (Derivation::Extension, Some(Content::Elements { particle: bp, mixed: bm })) => match own {
                            Some(p) => {
                                if matches!(bp.term, Term::All(_)) || matches!(p.term, Term::All(_)) {
                                    if bp.is_empty() {
                                        Content::Elements { particle: p, mixed: mixed || bm }
                                    } else {
                                        return Err(der.loc.error(
                                            "extending a type whose content is xs:all (or extending with xs:all) is not valid XSD 1.0",
                                        ));
                                    }
                                } else {
                                    Content::Elements {
                                        particle: Particle { min: 1, max: Some(1), term: Term::Sequence(vec![bp, p]) },
                                        mixed: mixed || bm,
                                    }
                                }
                            }
                            None => Content::Elements { particle: bp, mixed: bm || mixed },
                        },
                        (Derivation::Extension, Some(Content::Empty)) | (Derivation::Extension, None) => match own {
                            Some(p) => Content::Elements { particle: p, mixed },
                            None if mixed => Content::Elements { particle: Particle::empty(), mixed },
                            None => Content::Empty,
                        },
                        (Derivation::Extension, Some(Content::Simple(_))) => {
                            return Err(der.loc.error(format!(
                                "complexContent extension of {base_q}, which has simple content (use xs:simpleContent)"
                            )));
                        }
                    }
                };
                let (attrs, wc) = self.attributes(d, der, base_attrs, base_wc, derivation)?;
                (Some(base), derivation, content, attrs, wc)
            }
        };
        let ct = &mut self.schema.complex[id];
        ct.base = base;
        ct.derivation = derivation;
        ct.content = content;
        ct.attributes = attributes;
        ct.attr_wildcard = wildcard;
        Ok(id)
    }

    /// The simple type of a simpleContent derivation `der` from `base`.
    fn simple_content(
        &mut self,
        d: usize,
        der: &'a Node,
        derivation: Derivation,
        base: TypeRef,
        base_content: Option<&Content>,
        base_q: &QName,
    ) -> Result<SimpleId> {
        let restricted = |r: &mut Self, from: SimpleId| -> Result<SimpleId> {
            let from = match der.xs_children().find(|c| c.is("simpleType")) {
                Some(inline) => r.simple_type(d, inline, None)?,
                None => from,
            };
            let st = r.restrict(d, der, from, None)?;
            r.schema.simple.push(st);
            Ok(r.schema.simple.len() - 1)
        };
        match (derivation, base, base_content) {
            (Derivation::Extension, TypeRef::Simple(s), _) => Ok(s),
            (Derivation::Extension, TypeRef::Complex(_), Some(Content::Simple(s))) => Ok(*s),
            (Derivation::Restriction, TypeRef::Complex(_), Some(Content::Simple(s))) => restricted(self, *s),
            // A mixed type whose elements may all be absent can be restricted to text of a simple type.
            (Derivation::Restriction, TypeRef::Complex(_), Some(Content::Elements { mixed: true, particle }))
                if particle_emptiable(particle) && der.xs_children().any(|c| c.is("simpleType")) =>
            {
                let any = self.schema.builtin(Builtin::AnySimpleType);
                restricted(self, any)
            }
            (Derivation::Restriction, TypeRef::Simple(_), _) => Err(der.loc.error(
                "xs:simpleContent/xs:restriction needs a complex base type with simple content (use xs:extension)",
            )),
            _ => Err(der.loc.error(format!("xs:simpleContent derived from {base_q}, which has no simple content"))),
        }
    }

    /// The content particle among `node`'s children (sequence, choice, all or group), if any.
    fn content_particle(&mut self, d: usize, node: &'a Node) -> Result<Option<Particle>> {
        let mut found = None;
        for c in node.xs_children() {
            if matches!(c.local.as_str(), "sequence" | "choice" | "all" | "group") {
                if found.is_some() {
                    return Err(c.loc.error("a complex type has one content model (sequence, choice, all or group)"));
                }
                found = Some(self.particle(d, c)?);
            }
        }
        Ok(found.flatten())
    }

    /// A particle node: element, group reference, sequence, choice, all or any.
    fn particle(&mut self, d: usize, node: &'a Node) -> Result<Option<Particle>> {
        let min = occurs(node, "minOccurs", 1)?.unwrap_or(1);
        let max = occurs(node, "maxOccurs", 1)?;
        if max.is_some_and(|m| m < min) {
            return Err(node.loc.error(format!("maxOccurs is smaller than minOccurs ({min})")));
        }
        let term = match node.local.as_str() {
            "element" => Term::Element(self.local_element(d, node)?),
            "any" => Term::Wildcard(self.wildcard(d, node)?),
            "sequence" | "choice" | "all" => {
                let mut items = vec![];
                for c in node.xs_children() {
                    match c.local.as_str() {
                        "element" | "any" | "sequence" | "choice" | "group"
                            if node.local != "all" || c.local == "element" =>
                        {
                            if let Some(p) = self.particle(d, c)? {
                                items.push(p);
                            }
                        }
                        other => {
                            return Err(c.loc.error(format!("xs:{other} inside xs:{} is not supported", node.local)));
                        }
                    }
                }
                match node.local.as_str() {
                    "sequence" => Term::Sequence(items),
                    "choice" => Term::Choice(items),
                    _ => {
                        if items.iter().any(|p| p.max.is_none_or(|m| m > 1)) {
                            return Err(node.loc.error("xs:all members may occur at most once (XSD 1.0)"));
                        }
                        Term::All(items)
                    }
                }
            }
            "group" => {
                let r = node.attr("ref").ok_or_else(|| node.loc.error("xs:group inside a content model needs ref="))?;
                let q = self.qname(d, node, r)?;
                let (gd, gnode) = self.lookup(Space::Group, &q, node)?;
                if !self.in_progress.insert((Space::Group, q.clone())) {
                    return Err(node.loc.error(format!("group {q} contains itself")));
                }
                let body = gnode.xs_children().next().ok_or_else(|| gnode.loc.error("empty xs:group"))?;
                if !matches!(body.local.as_str(), "sequence" | "choice" | "all") {
                    return Err(body.loc.error(format!("xs:{} inside xs:group is not supported", body.local)));
                }
                if occurs(body, "minOccurs", 1)? != Some(1) || occurs(body, "maxOccurs", 1)? != Some(1) {
                    return Err(body.loc.error("the model group of a named xs:group cannot have occurrence bounds"));
                }
                let inner = self.particle(gd, body)?;
                self.in_progress.remove(&(Space::Group, q));
                match inner {
                    Some(p) => p.term,
                    None => return Ok(None),
                }
            }
            other => return Err(node.loc.error(format!("xs:{other} is not supported in a content model"))),
        };
        if max == Some(0) {
            return Ok(None);
        }
        Ok(Some(Particle { min, max, term }))
    }

    fn wildcard(&self, d: usize, node: &Node) -> Result<Wildcard> {
        let target = self.doc(d).target_ns.clone();
        let ns = match node.attr("namespace").map(str::trim).unwrap_or("##any") {
            "##any" => NsConstraint::Any,
            "##other" => NsConstraint::Not(target),
            list => NsConstraint::Set(
                list.split_whitespace()
                    .map(|t| match t {
                        "##targetNamespace" => target.clone(),
                        "##local" => None,
                        uri => Some(uri.to_string()),
                    })
                    .collect(),
            ),
        };
        let process = match node.attr("processContents").map(str::trim).unwrap_or("strict") {
            "strict" => Process::Strict,
            "lax" => Process::Lax,
            "skip" => Process::Skip,
            v => return Err(node.loc.error(format!("processContents {v:?} is not strict, lax or skip"))),
        };
        if node.attr("notNamespace").is_some() || node.attr("notQName").is_some() {
            return Err(node.loc.error("notNamespace/notQName (XSD 1.1) are not supported"));
        }
        Ok(Wildcard { ns, process })
    }

    /// An `xs:element` inside a content model: a local declaration or a reference.
    fn local_element(&mut self, d: usize, node: &'a Node) -> Result<ElemId> {
        if let Some(r) = node.attr("ref") {
            let q = self.qname(d, node, r)?;
            return self.global_element(&q, Some(node));
        }
        let doc = self.doc(d);
        let name = node.attr("name").ok_or_else(|| node.loc.error("xs:element without name or ref"))?;
        let qualified = match node.attr("form").map(str::trim) {
            Some("qualified") => true,
            Some("unqualified") => false,
            Some(v) => return Err(node.loc.error(format!("form {v:?} is not qualified or unqualified"))),
            None => doc.qualified_elements,
        };
        let ns = if qualified { doc.target_ns.clone() } else { None };
        self.element(d, node, QName::new(ns, name), false)
    }

    fn global_element(&mut self, q: &QName, from: Option<&Node>) -> Result<ElemId> {
        if let Some(&e) = self.elements.get(q) {
            return Ok(e);
        }
        let (d, node) = match from {
            Some(f) => self.lookup(Space::Element, q, f)?,
            None => {
                *self.index.get(&(Space::Element, q.clone())).ok_or_else(|| Error::new(format!("no element {q}")))?
            }
        };
        self.element(d, node, q.clone(), true)
    }

    /// An element declaration (global ones are registered before their type is resolved).
    fn element(&mut self, d: usize, node: &'a Node, name: QName, global: bool) -> Result<ElemId> {
        let doc = self.doc(d);
        for c in node.xs_children() {
            if c.is("alternative") {
                return Err(c.loc.error("xs:alternative (XSD 1.1) is not supported"));
            }
        }
        let id = self.schema.elements.len();
        let any_type = self.schema.any_type;
        self.schema.elements.push(ElementDecl {
            name: name.clone(),
            ty: TypeRef::Complex(any_type),
            nillable: node.attr("nillable").map(str::trim) == Some("true"),
            is_abstract: node.attr("abstract").map(str::trim) == Some("true"),
            default: node.attr("default").map(str::to_string),
            fixed: node.attr("fixed").map(str::to_string),
            subst_head: None,
            block: flags(node.attr("block"), &doc.block_default),
            constraints: vec![],
            order: (d, node.loc.line),
        });
        if global {
            self.elements.insert(name.clone(), id);
        }
        let head = match node.attr("substitutionGroup") {
            Some(h) if global => {
                let hq = self.qname(d, node, h.split_whitespace().next().unwrap_or(h))?;
                if h.split_whitespace().count() > 1 {
                    return Err(node.loc.error("several substitution group heads (XSD 1.1) are not supported"));
                }
                Some(self.global_element(&hq, Some(node))?)
            }
            Some(_) => return Err(node.loc.error("substitutionGroup is only allowed on global elements")),
            None => None,
        };
        let inline_complex = node.xs_children().find(|c| c.is("complexType"));
        let inline_simple = node.xs_children().find(|c| c.is("simpleType"));
        let ty = match (node.attr("type"), inline_complex, inline_simple) {
            (Some(t), _, _) => {
                let q = self.qname(d, node, t)?;
                self.named_type(&q, Some(node))?
            }
            (None, Some(ct), _) => TypeRef::Complex(self.complex_type(d, ct, None)?),
            (None, None, Some(st)) => TypeRef::Simple(self.simple_type(d, st, None)?),
            (None, None, None) => match head {
                Some(h) => self.schema.elements[h].ty,
                None => TypeRef::Complex(any_type),
            },
        };
        let mut constraints = vec![];
        for c in node.xs_children().filter(|c| matches!(c.local.as_str(), "key" | "keyref" | "unique")) {
            constraints.push(self.constraint(d, c)?);
        }
        let e = &mut self.schema.elements[id];
        e.ty = ty;
        e.subst_head = head;
        e.constraints = constraints;
        if e.default.is_some() && e.fixed.is_some() {
            return Err(node.loc.error("an element cannot have both default and fixed"));
        }
        Ok(id)
    }

    fn global_attribute(&mut self, q: &QName, from: Option<&Node>) -> Result<AttributeDecl> {
        if let Some(a) = self.schema.global_attributes.get(q) {
            return Ok(a.clone());
        }
        let (d, node) = match from {
            Some(f) => self.lookup(Space::Attribute, q, f)?,
            None => *self
                .index
                .get(&(Space::Attribute, q.clone()))
                .ok_or_else(|| Error::new(format!("no attribute {q}")))?,
        };
        let decl = self.attribute_decl(d, node, q.clone())?;
        self.schema.global_attributes.insert(q.clone(), decl.clone());
        Ok(decl)
    }

    fn attribute_decl(&mut self, d: usize, node: &'a Node, name: QName) -> Result<AttributeDecl> {
        let ty = match (node.attr("type"), node.xs_children().find(|c| c.is("simpleType"))) {
            (Some(t), _) => self.simple_ref(d, node, t)?,
            (None, Some(st)) => self.simple_type(d, st, None)?,
            (None, None) => self.schema.builtin(Builtin::AnySimpleType),
        };
        let default = node.attr("default").map(str::to_string);
        let fixed = node.attr("fixed").map(str::to_string);
        if default.is_some() && fixed.is_some() {
            return Err(node.loc.error("an attribute cannot have both default and fixed"));
        }
        Ok(AttributeDecl { name, ty, default, fixed })
    }

    /// The attribute uses and wildcard of a type (or derivation) node, on top of the base's.
    fn attributes(
        &mut self,
        d: usize,
        node: &'a Node,
        base: Vec<AttrUse>,
        base_wc: Option<Wildcard>,
        derivation: Derivation,
    ) -> Result<(Vec<AttrUse>, Option<Wildcard>)> {
        let mut uses = base;
        let mut own_wc = None;
        let mut prohibited = vec![];
        self.collect_attributes(d, node, &mut uses, &mut prohibited, &mut own_wc, derivation)?;
        uses.retain(|u| !prohibited.contains(&u.decl.name));
        let wc = match derivation {
            Derivation::Extension => own_wc.or(base_wc),
            Derivation::Restriction => own_wc,
        };
        Ok((uses, wc))
    }

    fn collect_attributes(
        &mut self,
        d: usize,
        node: &'a Node,
        uses: &mut Vec<AttrUse>,
        prohibited: &mut Vec<QName>,
        wc: &mut Option<Wildcard>,
        derivation: Derivation,
    ) -> Result<()> {
        let doc = self.doc(d);
        for c in node.xs_children() {
            match c.local.as_str() {
                "attribute" => {
                    let use_ = c.attr("use").map(str::trim).unwrap_or("optional");
                    let mut decl = match c.attr("ref") {
                        Some(r) => {
                            let q = self.qname(d, c, r)?;
                            let mut decl = self.global_attribute(&q, Some(c))?;
                            if let Some(v) = c.attr("default") {
                                decl.default = Some(v.to_string());
                            }
                            if let Some(v) = c.attr("fixed") {
                                decl.fixed = Some(v.to_string());
                            }
                            decl
                        }
                        None => {
                            let name = c.attr("name").ok_or_else(|| c.loc.error("xs:attribute without name or ref"))?;
                            let qualified = match c.attr("form").map(str::trim) {
                                Some("qualified") => true,
                                Some("unqualified") => false,
                                Some(v) => {
                                    return Err(c.loc.error(format!("form {v:?} is not qualified or unqualified")));
                                }
                                None => doc.qualified_attributes,
                            };
                            let ns = if qualified { doc.target_ns.clone() } else { None };
                            self.attribute_decl(d, c, QName::new(ns, name))?
                        }
                    };
                    if use_ == "prohibited" {
                        prohibited.push(decl.name.clone());
                        continue;
                    }
                    if use_ == "required" && decl.default.is_some() {
                        return Err(c.loc.error("a required attribute cannot have a default"));
                    }
                    let required = use_ == "required";
                    if !matches!(use_, "optional" | "required") {
                        return Err(c.loc.error(format!("use={use_:?} is not optional, required or prohibited")));
                    }
                    decl.name = decl.name.clone();
                    match uses.iter_mut().find(|u| u.decl.name == decl.name) {
                        Some(u) if derivation == Derivation::Restriction => *u = AttrUse { decl, required },
                        Some(_) => return Err(c.loc.error(format!("attribute {} is declared twice", decl.name))),
                        None => uses.push(AttrUse { decl, required }),
                    }
                }
                "attributeGroup" => {
                    let r = c.attr("ref").ok_or_else(|| c.loc.error("xs:attributeGroup here needs ref="))?;
                    let q = self.qname(d, c, r)?;
                    let (gd, gnode) = self.lookup(Space::AttributeGroup, &q, c)?;
                    if !self.in_progress.insert((Space::AttributeGroup, q.clone())) {
                        return Err(c.loc.error(format!("attribute group {q} contains itself")));
                    }
                    self.collect_attributes(gd, gnode, uses, prohibited, wc, derivation)?;
                    self.in_progress.remove(&(Space::AttributeGroup, q));
                }
                "anyAttribute" => *wc = Some(self.wildcard(d, c)?),
                "sequence" | "choice" | "all" | "group" | "simpleType" | "extension" | "restriction"
                | "simpleContent" | "complexContent" | "key" | "keyref" | "unique" => {}
                "assert" | "attributeAssert" => {
                    return Err(c.loc.error(format!("xs:{} (XSD 1.1) is not supported", c.local)));
                }
                f if FACETS.contains(&f) => {}
                other => return Err(c.loc.error(format!("xs:{other} is not supported here"))),
            }
        }
        Ok(())
    }

    fn constraint(&mut self, d: usize, node: &'a Node) -> Result<ConstraintId> {
        let name = node.attr("name").ok_or_else(|| node.loc.error(format!("xs:{} without a name", node.local)))?;
        let q = QName::new(self.doc(d).target_ns.clone(), name);
        let sel = node
            .xs_children()
            .find(|c| c.is("selector"))
            .ok_or_else(|| node.loc.error("identity constraint without xs:selector"))?;
        let sel_path = sel.attr("xpath").ok_or_else(|| sel.loc.error("xs:selector without xpath"))?;
        let selector = parse_xpath(sel, sel_path, false)?;
        let mut fields = vec![];
        for f in node.xs_children().filter(|c| c.is("field")) {
            let p = f.attr("xpath").ok_or_else(|| f.loc.error("xs:field without xpath"))?;
            fields.push(parse_xpath(f, p, true)?);
        }
        if fields.is_empty() {
            return Err(node.loc.error("identity constraint without xs:field"));
        }
        let kind = match node.local.as_str() {
            "key" => ConstraintKind::Key,
            "unique" => ConstraintKind::Unique,
            _ => ConstraintKind::KeyRef(usize::MAX),
        };
        let id = self.schema.constraints.len();
        self.schema.constraints.push(IdentityConstraint { name: q.clone(), kind, selector, fields });
        if kind != ConstraintKind::KeyRef(usize::MAX) {
            if self.constraint_names.insert(q.clone(), id).is_some() {
                return Err(node.loc.error(format!("identity constraint {q} is declared twice")));
            }
        } else {
            let refer = node.attr("refer").ok_or_else(|| node.loc.error("xs:keyref without refer"))?;
            let rq = self.qname(d, node, refer)?;
            self.keyrefs.push((id, rq, d, node));
        }
        Ok(id)
    }

    fn substitution_groups(&mut self) {
        let n = self.schema.elements.len();
        for e in 0..n {
            let mut head = self.schema.elements[e].subst_head;
            let mut guard = 0;
            while let Some(h) = head {
                self.schema.substitutes.entry(h).or_default().push(e);
                head = self.schema.elements[h].subst_head;
                guard += 1;
                if guard > n {
                    break;
                }
            }
        }
        // Members in declaration order.
        let elements = &self.schema.elements;
        for members in self.schema.substitutes.values_mut() {
            members.sort_by_key(|&m| elements[m].order);
        }
    }
}

fn particle_emptiable(p: &Particle) -> bool {
    p.min == 0 || p.is_empty()
}

/// Parses a selector or field XPath of an identity constraint.
fn parse_xpath(node: &Node, text: &str, field: bool) -> Result<Vec<XPath>> {
    let mut out = vec![];
    for alt in text.split('|') {
        let mut s = alt.trim();
        let mut path = XPath { descendants: false, steps: vec![], attribute: None };
        if let Some(rest) = s.strip_prefix(".//") {
            path.descendants = true;
            s = rest.trim_start();
        }
        let parts: Vec<&str> = s.split('/').map(str::trim).collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let part = part.strip_prefix("child::").unwrap_or(part).trim();
            let attr = part.strip_prefix('@').or_else(|| part.strip_prefix("attribute::"));
            if let Some(a) = attr {
                if !field || !last {
                    return Err(node.loc.error(format!("XPath {text:?}: an attribute step may only end a field")));
                }
                path.attribute = Some(name_test(node, a.trim(), true, text)?);
            } else if part == "." {
                path.steps.push(Step::SelfNode);
            } else {
                let (ns, local) = name_test(node, part, false, text)?;
                path.steps.push(Step::Child { ns, local });
            }
        }
        out.push(path);
    }
    Ok(out)
}

/// `*`, `p:*`, `name` or `p:name` → (namespace test, local test); unprefixed names are in no namespace.
fn name_test(node: &Node, t: &str, _attr: bool, text: &str) -> Result<(Option<Option<String>>, Option<String>)> {
    if t == "*" {
        return Ok((None, None));
    }
    if t.is_empty()
        || t.contains(['(', '[', ' ', ':'])
            && !t.split_once(':').is_some_and(|(p, l)| !p.is_empty() && !l.is_empty() && !l.contains(':'))
    {
        return Err(node.loc.error(format!("XPath {text:?} is outside the identity-constraint subset of XPath")));
    }
    match t.split_once(':') {
        Some((p, l)) => {
            let ns = node.bindings.get(p).cloned().or_else(|| (p == "xml").then(|| XML.to_string()));
            let ns = ns.ok_or_else(|| node.loc.error(format!("XPath {text:?}: prefix {p:?} is not declared")))?;
            Ok((Some(Some(ns)), if l == "*" { None } else { Some(l.to_string()) }))
        }
        None => Ok((Some(None), Some(t.to_string()))),
    }
}
