//! Identity constraints checked as the document streams by: `xs:key`, `xs:unique`
//! and `xs:keyref` (XML Schema Part 1 §3.11), and the document-wide `xs:ID` /
//! `xs:IDREF` rules.
//!
//! A constraint lives in the scope of the element that declares it. Its selector
//! (a restricted XPath) picks nodes below that element; its fields pick one value
//! each below the selected node. Key and unique tuples must be distinct; a key's
//! fields must all be present; every keyref tuple must be a key tuple of its scope
//! (or of a scope below it) when the scope element ends. Values are compared in
//! their type's value space (`2` and `0002` are one integer) through [`Canon`].
//!
//! Only what is needed is kept: the key tuples of open scopes, and the keyref
//! tuples waiting for their scope's end.

use crate::error::{DecodeError, Rule};
use std::collections::HashSet;

/// A name test of a path step: namespace id and local name (None: `*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Test {
    pub ns: Option<u16>,
    pub local: Option<&'static str>,
}

impl Test {
    fn matches(&self, ns: u16, local: &[u8]) -> bool {
        self.ns.is_none_or(|n| n == ns) && self.local.is_none_or(|l| l.as_bytes() == local)
    }
}

/// One alternative of a selector or field path: `(.//)? a/b` (a field may end in `@c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    /// `.//`: the steps may start at any depth below the context node.
    pub descendants: bool,
    pub steps: &'static [Test],
    pub attribute: Option<Test>,
}

impl Path {
    /// Does the element path `rel` (below the context node) match the steps?
    fn matches(&self, rel: &[(u16, &[u8])]) -> bool {
        let n = self.steps.len();
        if rel.len() < n || (!self.descendants && rel.len() != n) {
            return false;
        }
        self.steps.iter().zip(&rel[rel.len() - n..]).all(|(t, (ns, l))| t.matches(*ns, l))
    }
}

/// How a field's values are compared: the value space of its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Canon {
    /// Strings (whitespace collapsed for the non-string types of the string family).
    Text {
        collapse: bool,
    },
    /// Decimals and integers: `2`, `02` and `2.0` are one value.
    Decimal,
    Float,
    Boolean,
    /// Date and time values: one instant, whatever the zone it is written in.
    Temporal,
}

impl Canon {
    /// The canonical form of a value (None: not a value of the type; the decoder
    /// reports that itself).
    fn of(self, v: &str) -> Option<String> {
        let t = v.trim_matches([' ', '\t', '\n', '\r']);
        match self {
            Canon::Text { collapse: false } => Some(format!("s{v}")),
            Canon::Text { collapse: true } => Some(format!("s{}", t.split_whitespace().collect::<Vec<_>>().join(" "))),
            Canon::Decimal => crate::value::decimal(t).ok().map(|d| format!("d{d}")),
            Canon::Float => crate::value::double(t).ok().map(|f| format!("f{f}")),
            Canon::Boolean => crate::value::boolean(t).ok().map(|b| format!("b{b}")),
            Canon::Temporal => {
                let parsed = crate::value::date_time(t)
                    .or_else(|_| crate::value::date(t))
                    .or_else(|_| crate::value::time(t))
                    .or_else(|_| crate::value::g_year_month(t))
                    .or_else(|_| crate::value::g_year(t))
                    .or_else(|_| crate::value::g_month_day(t))
                    .or_else(|_| crate::value::g_month(t))
                    .or_else(|_| crate::value::g_day(t))
                    .ok()?;
                let zoned = parsed.tz_minutes.is_some();
                // Zoned values compare as instants; unzoned ones as written.
                let micros = parsed.to_timestamp_micros(0).ok().map(|m| m.to_string()).unwrap_or_else(|| t.to_string());
                Some(format!("t{zoned}{micros}"))
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Key,
    Unique,
    /// Refers to the key or unique constraint of this index.
    KeyRef(u16),
}

/// An identity constraint as generated from the schema.
#[derive(Debug)]
pub struct Constraint {
    pub name: &'static str,
    pub kind: Kind,
    pub selector: &'static [Path],
    pub fields: &'static [(&'static [Path], Canon)],
    /// For a keyref: a child of the scope element the mapping lets be absent, through
    /// which the referenced key's selector goes; when it is absent, nothing is checked.
    pub unless_absent: Option<(u16, &'static str)>,
}

/// A node the selector picked, waiting for its field values.
#[derive(Debug)]
struct Selected {
    /// Index in the scope's constraints.
    constraint: usize,
    depth: usize,
    values: Vec<Option<String>>,
    /// Field values that come with the text of the element at this depth.
    pending: Vec<(usize, usize)>,
    offset: u64,
}

#[derive(Debug, Default)]
struct Table {
    keys: HashSet<Vec<String>>,
    refs: Vec<(Vec<String>, u64)>,
}

#[derive(Debug)]
struct Scope {
    depth: usize,
    constraints: Vec<u16>,
    tables: Vec<Table>,
    /// Children of the scope element that occurred (for `unless_absent`).
    children: Vec<(u16, Vec<u8>)>,
}

/// Tuples collected by a segment worker, to be merged by the stitched decode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    /// (scope depth, constraint, tuple, is a keyref, offset)
    pub tuples: Vec<(usize, u16, Vec<String>, bool, u64)>,
    pub ids: Vec<String>,
    pub idrefs: Vec<(String, u64)>,
}

/// The identity-constraint state of one document.
#[derive(Debug, Default)]
pub struct Identity {
    constraints: &'static [Constraint],
    scopes: Vec<Scope>,
    selected: Vec<(usize, Selected)>,
    ids: HashSet<String>,
    idrefs: Vec<(String, u64)>,
    /// A worker collects tuples of scopes it did not open (opened before its segment).
    collecting: Option<Collected>,
    /// Scopes opened before a worker's segment start: (depth, constraints).
    outer: Vec<usize>,
}

fn error(rule: Rule, msg: String, offset: u64) -> DecodeError {
    DecodeError::new(rule, msg, offset)
}

impl Identity {
    pub fn new(constraints: &'static [Constraint]) -> Self {
        Identity { constraints, ..Identity::default() }
    }

    /// The schema's constraints (scopes refer to them by index).
    pub fn set_constraints(&mut self, constraints: &'static [Constraint]) {
        self.constraints = constraints;
    }

    /// True when some scope is open (element starts and ends must be reported).
    pub fn active(&self) -> bool {
        !self.scopes.is_empty()
    }

    /// Opens the scope of the element at `depth` (its start tag was reported already).
    pub fn open_scope(&mut self, depth: usize, constraints: &[u16]) {
        self.scopes.push(Scope {
            depth,
            constraints: constraints.to_vec(),
            tables: constraints.iter().map(|_| Table::default()).collect(),
            children: vec![],
        });
    }

    /// A worker: the scopes the elements around its segment opened, at their depths;
    /// tuples found for them are collected, not checked.
    pub fn resume(&mut self, scopes: &[(usize, &[u16])]) {
        for (depth, cs) in scopes {
            self.open_scope(*depth, cs);
            self.outer.push(self.scopes.len() - 1);
        }
        self.collecting = Some(Collected::default());
    }

    /// An element started at `depth` (1: the root): `path` holds the names of the
    /// open elements (root first); `attr(ns, local)` gives an attribute's value.
    pub fn start(
        &mut self,
        path: &[(u16, &[u8])],
        attr: &dyn Fn(u16, Option<&str>) -> Vec<String>,
        offset: u64,
    ) -> Result<(), DecodeError> {
        let depth = path.len();
        let Some(&(ns, local)) = path.last() else { return Ok(()) };
        for scope in &mut self.scopes {
            if depth == scope.depth + 1 && !scope.children.iter().any(|(n, l)| *n == ns && l == local) {
                scope.children.push((ns, local.to_vec()));
            }
        }
        // New selected nodes.
        for (si, scope) in self.scopes.iter().enumerate() {
            if depth <= scope.depth {
                continue;
            }
            let rel = &path[scope.depth..];
            for (ci, &c) in scope.constraints.iter().enumerate() {
                let con = &self.constraints[c as usize];
                if con.selector.iter().any(|p| p.matches(rel)) {
                    let n = con.fields.len();
                    self.selected
                        .push((si, Selected { constraint: ci, depth, values: vec![None; n], pending: vec![], offset }));
                }
            }
        }
        // Field values below (or at) selected nodes.
        for (si, sel) in &mut self.selected {
            if depth < sel.depth {
                continue;
            }
            let rel = &path[sel.depth..];
            let scope = &self.scopes[*si];
            let con = &self.constraints[scope.constraints[sel.constraint] as usize];
            for (fi, (paths, canon)) in con.fields.iter().enumerate() {
                for p in paths.iter().filter(|p| p.matches(rel)) {
                    match p.attribute {
                        Some(a) => {
                            for v in attr(a.ns.unwrap_or(u16::MAX), a.local) {
                                set(sel, fi, *canon, &v, con.name, offset)?;
                            }
                        }
                        None => sel.pending.push((fi, depth)),
                    }
                }
            }
        }
        Ok(())
    }

    /// The element at `depth` ended; `text` is its text when it had simple content.
    pub fn end(&mut self, depth: usize, text: Option<&str>, offset: u64) -> Result<(), DecodeError> {
        // Field values from this element's text.
        for (si, sel) in &mut self.selected {
            if sel.pending.is_empty() {
                continue;
            }
            let scope = &self.scopes[*si];
            let con = &self.constraints[scope.constraints[sel.constraint] as usize];
            let mut k = 0;
            while k < sel.pending.len() {
                if sel.pending[k].1 == depth {
                    let (fi, _) = sel.pending.remove(k);
                    let canon = con.fields[fi].1;
                    match text {
                        Some(t) => set(sel, fi, canon, t, con.name, offset)?,
                        None => {
                            let msg = format!(
                                "a field of identity constraint {} selects an element without a simple value",
                                con.name
                            );
                            return Err(error(Rule::InvalidValue, msg, offset));
                        }
                    }
                } else {
                    k += 1;
                }
            }
        }
        // Selected nodes that end here.
        let mut k = 0;
        while k < self.selected.len() {
            if self.selected[k].1.depth == depth {
                let (si, sel) = self.selected.remove(k);
                self.complete(si, sel)?;
            } else {
                k += 1;
            }
        }
        // The scope that ends here.
        if self.scopes.last().is_some_and(|s| s.depth == depth) {
            let scope = self.scopes.pop().expect("checked");
            self.close(scope, offset)?;
        }
        Ok(())
    }

    fn complete(&mut self, si: usize, sel: Selected) -> Result<(), DecodeError> {
        let scope = &mut self.scopes[si];
        let c = scope.constraints[sel.constraint];
        let con = &self.constraints[c as usize];
        if sel.values.iter().any(Option::is_none) {
            if con.kind == Kind::Key {
                let msg = format!("a node selected by xs:key {} lacks a value for one of its fields", con.name);
                return Err(error(Rule::KeyMissing, msg, sel.offset));
            }
            return Ok(()); // unique and keyref ignore incomplete tuples
        }
        let tuple: Vec<String> = sel.values.into_iter().flatten().collect();
        let keyref = matches!(con.kind, Kind::KeyRef(_));
        if let Some(col) = &mut self.collecting
            && self.outer.contains(&si)
        {
            col.tuples.push((scope.depth, c, tuple, keyref, sel.offset));
            return Ok(());
        }
        let table = &mut scope.tables[sel.constraint];
        if keyref {
            table.refs.push((tuple, sel.offset));
        } else if !table.keys.insert(tuple.clone()) {
            return Err(duplicate(con, &tuple, sel.offset));
        }
        Ok(())
    }

    /// Merges tuples a worker collected (the stitched decode, at the run's place).
    pub fn merge(&mut self, c: Collected) -> Result<(), DecodeError> {
        for (depth, con, tuple, keyref, offset) in c.tuples {
            let Some(scope) = self.scopes.iter_mut().find(|s| s.depth == depth) else {
                return Err(error(Rule::Resync, "a worker's identity scope is not open here".into(), offset));
            };
            let Some(i) = scope.constraints.iter().position(|&x| x == con) else {
                return Err(error(Rule::Resync, "a worker's identity constraint is not open here".into(), offset));
            };
            let table = &mut scope.tables[i];
            if keyref {
                table.refs.push((tuple, offset));
            } else if !table.keys.insert(tuple.clone()) {
                return Err(duplicate(&self.constraints[con as usize], &tuple, offset));
            }
        }
        for id in c.ids {
            self.id(&id, 0)?;
        }
        self.idrefs.extend(c.idrefs);
        Ok(())
    }

    /// Takes what a worker collected.
    pub fn collected(&mut self) -> Collected {
        self.collecting.take().unwrap_or_default()
    }

    fn close(&mut self, scope: Scope, offset: u64) -> Result<(), DecodeError> {
        for (i, &c) in scope.constraints.iter().enumerate() {
            let con = &self.constraints[c as usize];
            let Kind::KeyRef(target) = con.kind else { continue };
            if let Some((ns, l)) = con.unless_absent
                && !scope.children.iter().any(|(n, x)| *n == ns && x.as_slice() == l.as_bytes())
            {
                continue;
            }
            let keys = scope.constraints.iter().position(|&x| x == target).map(|k| &scope.tables[k].keys);
            for (tuple, at) in &scope.tables[i].refs {
                if !keys.is_some_and(|k| k.contains(tuple)) {
                    let shown: Vec<&str> = tuple.iter().map(|v| &v[1..]).collect();
                    let msg = format!(
                        "xs:keyref {} refers to {shown:?}, which no node of {} has",
                        con.name, self.constraints[target as usize].name
                    );
                    return Err(error(Rule::Keyref, msg, *at));
                }
            }
        }
        // Key tables of this scope serve keyrefs of the scopes around it.
        for (i, &c) in scope.constraints.iter().enumerate() {
            if matches!(self.constraints[c as usize].kind, Kind::KeyRef(_)) {
                continue;
            }
            if let Some(parent) = self.scopes.iter_mut().rev().find(|s| s.constraints.contains(&c)) {
                let k = parent.constraints.iter().position(|&x| x == c).expect("contains");
                for t in &scope.tables[i].keys {
                    parent.tables[k].keys.insert(t.clone());
                }
            }
        }
        let _ = offset;
        Ok(())
    }

    /// An xs:ID value: unique in the document.
    pub fn id(&mut self, v: &str, offset: u64) -> Result<(), DecodeError> {
        if let Some(c) = &mut self.collecting {
            c.ids.push(v.to_string());
            return Ok(());
        }
        if !self.ids.insert(v.to_string()) {
            return Err(error(Rule::KeyDuplicate, format!("the ID {v:?} occurs twice in the document"), offset));
        }
        Ok(())
    }

    /// An xs:IDREF value: some element of the document must have that ID.
    pub fn idref(&mut self, v: &str, offset: u64) {
        match &mut self.collecting {
            Some(c) => c.idrefs.push((v.to_string(), offset)),
            None => self.idrefs.push((v.to_string(), offset)),
        }
    }

    /// At the end of the document: every IDREF names an ID.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        for (v, at) in &self.idrefs {
            if !self.ids.contains(v) {
                return Err(error(Rule::Keyref, format!("IDREF {v:?} names no ID of the document"), *at));
            }
        }
        Ok(())
    }
}

fn set(sel: &mut Selected, fi: usize, canon: Canon, v: &str, name: &str, offset: u64) -> Result<(), DecodeError> {
    if sel.values[fi].is_some() {
        let msg = format!("a field of identity constraint {name} selects more than one value");
        return Err(error(Rule::InvalidValue, msg, offset));
    }
    // A value that is not of its type is reported by the decoder; it never matches.
    sel.values[fi] = Some(canon.of(v).unwrap_or_else(|| format!("?{v}")));
    Ok(())
}

fn duplicate(con: &Constraint, tuple: &[String], offset: u64) -> DecodeError {
    let shown: Vec<&str> = tuple.iter().map(|v| &v[1..]).collect();
    let what = if con.kind == Kind::Key { "xs:key" } else { "xs:unique" };
    error(Rule::KeyDuplicate, format!("{what} {}: the value {shown:?} occurs twice", con.name), offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T_CUSTOMER: Test = Test { ns: Some(0), local: Some("Customer") };
    const T_ORDER: Test = Test { ns: Some(0), local: Some("Order") };
    const T_ID: Test = Test { ns: Some(0), local: Some("ID") };
    static CONS: [Constraint; 2] = [
        Constraint {
            name: "CustomerKey",
            kind: Kind::Key,
            selector: &[Path { descendants: true, steps: &[T_CUSTOMER], attribute: None }],
            fields: &[(&[Path { descendants: false, steps: &[], attribute: Some(T_ID) }], Canon::Decimal)],
            unless_absent: None,
        },
        Constraint {
            name: "OrderCustomer",
            kind: Kind::KeyRef(0),
            selector: &[Path { descendants: true, steps: &[T_ORDER], attribute: None }],
            fields: &[(&[Path { descendants: false, steps: &[T_ID], attribute: None }], Canon::Decimal)],
            unless_absent: None,
        },
    ];

    fn run(events: &[(&str, Option<&str>)]) -> Result<(), DecodeError> {
        // ("+Name", attribute ID) starts an element; ("-", text) ends one.
        let mut id = Identity::new(&CONS);
        let mut path: Vec<(u16, &[u8])> = vec![];
        for (i, (e, v)) in events.iter().enumerate() {
            if let Some(name) = e.strip_prefix('+') {
                path.push((0, name.as_bytes()));
                let attrs = v.map(|s| vec![s.to_string()]).unwrap_or_default();
                id.start(&path, &|_, l| if l == Some("ID") { attrs.clone() } else { vec![] }, i as u64)?;
                if path.len() == 1 {
                    id.open_scope(1, &[0, 1]);
                }
            } else {
                id.end(path.len(), *v, i as u64)?;
                path.pop();
            }
        }
        Ok(())
    }

    #[test]
    fn keys_and_keyrefs() {
        let ok = [
            ("+R", None),
            ("+Customer", Some("2")),
            ("-", None),
            ("+Order", None),
            ("+ID", None),
            ("-", Some(" 002 ")),
            ("-", None),
            ("-", None),
        ];
        assert!(run(&ok).is_ok(), "002 is the integer 2");
        let dangling = [
            ("+R", None),
            ("+Customer", Some("2")),
            ("-", None),
            ("+Order", None),
            ("+ID", None),
            ("-", Some("3")),
            ("-", None),
            ("-", None),
        ];
        assert_eq!(run(&dangling).unwrap_err().rule, Rule::Keyref);
        let dup =
            [("+R", None), ("+Customer", Some("2")), ("-", None), ("+Customer", Some("2.0")), ("-", None), ("-", None)];
        assert_eq!(run(&dup).unwrap_err().rule, Rule::KeyDuplicate);
        let missing = [("+R", None), ("+Customer", None), ("-", None), ("-", None)];
        assert_eq!(run(&missing).unwrap_err().rule, Rule::KeyMissing);
    }
}
