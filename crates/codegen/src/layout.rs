//! From schema components and a mapping to a [`Plan`]: which elements are table
//! rows, the columns of every record, and one decoder per complex type and layout.
//!
//! Layouts depend on where an element is (a mapping rule may split a table off, rename
//! or exclude something below it, relax its content) and on how deep it is (BigQuery
//! nests RECORDs at most 15 levels; deeper content is kept as XML text). So records
//! are instantiated per (type, path, depth), sharing one instance wherever no rule
//! lies below and the type's own depth fits: most types get exactly one decoder.
//!
//! The automatic rule (no mapping): for each root, the outermost repeated elements of
//! complex type are tables named by their local name; everything else is in the
//! root's document table.

use crate::automaton::{self, Compiled, Symbol};
use crate::error::{Error, Result};
use crate::mapping::{ColumnRule, Mapping, NodePath, TypeChoice};
use crate::plan::*;
use crate::xsd::dom::{XML, XS};
use crate::xsd::model::{
    Builtin, ComplexId, Content, Derivation, ElemId, NsConstraint, QName, Schema, SimpleId, TypeRef, Variety,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One schema set to plan, with a name for its generated items.
pub struct Set<'a> {
    pub name: String,
    pub schema: &'a Schema,
}

/// A record instantiated for a declared type in one context.
#[derive(Clone, Debug)]
struct Inst {
    record: usize,
    variants: Vec<Variant>,
    xsi_field: Option<u16>,
    columns: usize,
}

/// A table being planned.
struct TableBuild {
    name: String,
    /// Row paths (elements), from the mapping or the automatic rule.
    paths: Vec<Vec<QName>>,
    record: Option<usize>,
    rows: Vec<RowPathPlan>,
    /// Per row (as in `rows`): its ancestor ordinal columns (name, counter, depth).
    lineage: Vec<Vec<(String, u16, u16)>>,
    document: bool,
}

struct Planner<'a> {
    mapping: &'a Mapping,
    plan: Plan,
    ns_ids: BTreeMap<Option<String>, u16>,
    tables: Vec<TableBuild>,
    /// Row path → table.
    row_paths: BTreeMap<Vec<QName>, usize>,
    /// Strict prefixes of row paths.
    prefixes: BTreeSet<Vec<QName>>,
    /// Element paths of every mapping rule (tables, columns, relaxations).
    rule_paths: Vec<Vec<QName>>,
    columns: BTreeMap<(Vec<QName>, Option<QName>), ColumnRule>,
    used_rules: BTreeSet<String>,
    counters: BTreeMap<Vec<QName>, u16>,
    records: HashMap<RecordPlan, usize>,
    names: BTreeSet<String>,
    set_plans: Vec<SetState>,
    /// Identity constraints planned: (set, constraint) → index in `plan.constraints`.
    constraint_ids: BTreeMap<(usize, usize), u16>,
    /// Constraints declared by the elements at these paths (for segment workers).
    scopes_by_path: BTreeMap<Vec<QName>, Vec<u16>>,
}

/// What a record instance depends on: the declared type, the path (when a mapping
/// rule lies below it), the depth (when the type could reach the nesting limit),
/// whether the element is nillable, and the derivations its `block` forbids.
type InstKey = (ComplexId, Option<Vec<QName>>, Option<u32>, bool, Vec<String>);

/// Memo tables of one schema set.
#[derive(Default)]
struct SetState {
    insts: HashMap<InstKey, Inst>,
    simples: HashMap<(SimpleId, Scalar), usize>,
    models: HashMap<(ComplexId, Vec<QName>), (usize, Compiled)>,
    heights: HashMap<ComplexId, Option<u32>>,
    prefix: String,
}

/// Plans every set against one mapping.
pub fn plan(mapping: &Mapping, sets: &[Set<'_>]) -> Result<Plan> {
    let mut p = Planner {
        mapping,
        plan: Plan { timezone_minutes: mapping.timezone_minutes, ..Plan::default() },
        ns_ids: BTreeMap::new(),
        tables: vec![],
        row_paths: BTreeMap::new(),
        prefixes: BTreeSet::new(),
        rule_paths: vec![],
        columns: BTreeMap::new(),
        used_rules: BTreeSet::new(),
        counters: BTreeMap::new(),
        records: HashMap::new(),
        names: BTreeSet::new(),
        set_plans: vec![],
        constraint_ids: BTreeMap::new(),
        scopes_by_path: BTreeMap::new(),
    };
    p.namespaces(sets);
    for (k, r) in &mapping.columns {
        p.columns.insert((r_path(k), k.attribute.clone()), r.clone());
        p.rule_paths.push(k.elements.clone());
    }
    for o in mapping.optional.iter().chain(mapping.require_one_of.iter().flatten()) {
        p.rule_paths.push(o.elements.clone());
    }
    if mapping.tables.is_empty() {
        for (i, s) in sets.iter().enumerate() {
            p.set_plans.push(SetState { prefix: prefix(&s.name, sets.len()), ..SetState::default() });
            p.automatic_tables(i, s.schema)?;
        }
    } else {
        for _ in sets {
            p.set_plans.push(SetState::default());
        }
        for (i, s) in sets.iter().enumerate() {
            p.set_plans[i].prefix = prefix(&s.name, sets.len());
        }
        for t in &mapping.tables {
            if p.tables.iter().any(|x| x.name.eq_ignore_ascii_case(&t.name)) {
                return Err(Error::new(format!("two tables are named {:?}", t.name)));
            }
            let paths: Vec<Vec<QName>> = t.rows.iter().map(|r| r.elements.clone()).collect();
            p.add_table(t.name.clone(), paths, false)?;
        }
    }
    // Names the emitted module gives its own functions: no decoder may take them.
    p.names.extend(["decode_rows".to_string(), "new_typed_row".to_string()]);
    for t in &p.tables {
        p.names.insert(format!("{}_row", snake(&t.name)));
        p.names.extend((1..t.paths.len()).map(|k| format!("{}_row_{k}", snake(&t.name))));
    }
    for s in sets {
        p.names.extend(s.schema.roots.iter().map(|&r| format!("document_{}", snake(&s.schema.elements[r].name.local))));
    }
    // Roots of every set, and everything reachable from them.
    let mut seen_roots = BTreeSet::new();
    for (i, s) in sets.iter().enumerate() {
        for &r in &s.schema.roots {
            let name = s.schema.elements[r].name.clone();
            if !mapping.allows_root(&name) {
                continue;
            }
            if !seen_roots.insert(name.clone()) {
                return Err(Error::new(format!("root element {name} is declared by two of the schema documents")));
            }
            p.root(i, s.schema, r)?;
        }
    }
    for (i, s) in sets.iter().enumerate() {
        p.globals(i, s.schema)?;
    }
    if p.plan.roots.is_empty() {
        return Err(Error::new(
            "no global element of the schema can be a document's root here (check the tables' paths and `roots`)",
        ));
    }
    for q in &mapping.roots {
        if !sets.iter().any(|s| s.schema.roots.iter().any(|&r| s.schema.elements[r].name == *q)) {
            return Err(Error::new(format!("roots: <{}> is not a global element of the schema documents", q.local)));
        }
    }
    p.finish_tables()?;
    p.check_rules_used()?;
    Ok(p.plan)
}

fn r_path(p: &NodePath) -> Vec<QName> {
    p.elements.clone()
}

fn prefix(name: &str, sets: usize) -> String {
    if sets > 1 { format!("{}_", snake(name)) } else { String::new() }
}

/// `CustomerID` → `customer_id`; any other character becomes `_`.
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
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) { format!("t_{out}") } else { out }
}

/// `base`, or `base{sep}2`, `base{sep}3`, ...: the first name not in `used`, then in it.
pub fn unique(used: &mut BTreeSet<String>, base: &str, sep: &str) -> String {
    let mut name = base.to_string();
    let mut k = 2;
    while used.contains(&name) {
        name = format!("{base}{sep}{k}");
        k += 1;
    }
    used.insert(name.clone());
    name
}

/// A column name BigQuery accepts: letters, digits and underscores, not starting with
/// `_` (reserved for lineage columns) or a digit.
pub fn column_name(local: &str) -> String {
    let s: String = local.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let s = s.trim_start_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) { format!("c_{s}") } else { s }
}

/// Columns of a record being laid out.
#[derive(Default)]
struct Layout {
    columns: Vec<ColumnPlan>,
    /// What each column holds (`element <a>`, `attribute b`): the same name for two
    /// different things is an error, the same thing from two variants shares its column.
    what: Vec<String>,
    /// The columns the current variant's decoder writes.
    touched: BTreeSet<u16>,
}

impl Layout {
    /// Adds a column (or finds the same one, added by another variant); names are
    /// compared as BigQuery does, ignoring case.
    fn add(&mut self, c: ColumnPlan, what: &str, context: &str) -> Result<u16> {
        let key = c.name.to_ascii_lowercase();
        if let Some(i) = self.columns.iter().position(|x| x.name.to_ascii_lowercase() == key) {
            if self.what[i] != what {
                return Err(Error::new(format!(
                    "{context}: {} and {what} would both be column {:?}; rename one in the mapping \
                     ([columns.\"/path\"] rename = \"...\")",
                    self.what[i], c.name
                )));
            }
            if self.columns[i].ty != c.ty {
                return Err(Error::new(format!(
                    "{context}: {what} has different types in the types that may appear here (by xsi:type); \
                     map it to one type in the mapping"
                )));
            }
            // A restriction may make it required, or single: the column takes the loosest mode.
            self.columns[i].mode = self.columns[i].mode.max(c.mode);
            self.touched.insert(i as u16);
            return Ok(i as u16);
        }
        self.columns.push(c);
        self.what.push(what.to_string());
        self.touched.insert((self.columns.len() - 1) as u16);
        Ok((self.columns.len() - 1) as u16)
    }
}

impl<'a> Planner<'a> {
    fn namespaces(&mut self, sets: &[Set<'_>]) {
        let mut all: BTreeSet<String> = BTreeSet::new();
        for s in sets {
            let sc = s.schema;
            for e in &sc.elements {
                all.extend(e.name.ns.clone());
            }
            for c in &sc.complex {
                all.extend(c.name.as_ref().and_then(|n| n.ns.clone()));
                for a in &c.attributes {
                    all.extend(a.decl.name.ns.clone());
                }
                if let Some(w) = &c.attr_wildcard {
                    wildcard_ns(&w.ns, &mut all);
                }
            }
            for t in sc.simple.iter().filter_map(|t| t.name.as_ref()) {
                all.extend(t.ns.clone());
            }
            for a in sc.global_attributes.keys() {
                all.extend(a.ns.clone());
            }
            for c in &sc.complex {
                if let Content::Elements { particle, .. } = &c.content {
                    collect_wildcard_ns(particle, &mut all);
                }
            }
        }
        for ns in self.mapping.xsd_namespaces() {
            all.insert(ns);
        }
        let mut list = vec![String::new(), XML.to_string(), XSI.to_string()];
        for ns in all {
            if !list.contains(&ns) {
                list.push(ns);
            }
        }
        for (i, ns) in list.iter().enumerate() {
            let key = if ns.is_empty() { None } else { Some(ns.clone()) };
            self.ns_ids.insert(key, i as u16);
        }
        self.plan.namespaces = list;
    }

    fn ns(&self, ns: &Option<String>) -> u16 {
        self.ns_ids.get(ns).copied().unwrap_or(u16::MAX)
    }

    fn add_table(&mut self, name: String, paths: Vec<Vec<QName>>, document: bool) -> Result<usize> {
        let t = self.tables.len();
        for p in &paths {
            if self.row_paths.insert(p.clone(), t).is_some() {
                return Err(Error::new(format!("the row path {} belongs to two tables", show(p))));
            }
            for k in 1..p.len() {
                self.prefixes.insert(p[..k].to_vec());
            }
            self.rule_paths.push(p.clone());
        }
        self.tables.push(TableBuild { name, paths, record: None, rows: vec![], lineage: vec![], document });
        Ok(t)
    }

    /// A unique Rust identifier derived from `base`.
    fn unique(&mut self, base: &str) -> String {
        unique(&mut self.names, base, "_")
    }

    fn intern_record(&mut self, r: RecordPlan) -> usize {
        if let Some(&i) = self.records.get(&r) {
            return i;
        }
        let i = self.plan.records.len();
        self.plan.records.push(r.clone());
        self.records.insert(r, i);
        i
    }

    /// Do table rows lie strictly inside the element at `path`?
    fn holds_rows(&self, path: &Option<Vec<QName>>) -> bool {
        path.as_ref().is_some_and(|p| self.prefixes.contains(p))
    }

    /// Is there a mapping rule at or below `path`?
    fn rules_below(&self, path: &[QName]) -> bool {
        self.rule_paths.iter().any(|r| r.len() >= path.len() && r.starts_with(path))
    }

    // ---- the automatic rule ----

    fn automatic_tables(&mut self, set: usize, schema: &Schema) -> Result<()> {
        let mut found: Vec<(String, Vec<QName>)> = vec![];
        for &r in &schema.roots {
            let e = &schema.elements[r];
            if let TypeRef::Complex(c) = e.ty {
                let mut visiting = BTreeSet::new();
                self.auto_walk(set, schema, c, vec![e.name.clone()], &mut visiting, &mut found)?;
            }
        }
        // Names: the local name, or parent_local where two tables would share one.
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (n, _) in &found {
            *counts.entry(n.to_ascii_lowercase()).or_default() += 1;
        }
        for (n, path) in found {
            let name = if counts[&n.to_ascii_lowercase()] > 1 && path.len() >= 2 {
                format!("{}_{}", path[path.len() - 2].local, n)
            } else {
                n
            };
            let name = table_name(&name);
            if self.tables.iter().any(|t| t.name.eq_ignore_ascii_case(&name)) {
                continue;
            }
            self.add_table(name, vec![path], false)?;
        }
        Ok(())
    }

    fn auto_walk(
        &mut self,
        set: usize,
        schema: &Schema,
        ty: ComplexId,
        path: Vec<QName>,
        visiting: &mut BTreeSet<ComplexId>,
        found: &mut Vec<(String, Vec<QName>)>,
    ) -> Result<()> {
        if !visiting.insert(ty) {
            return Ok(());
        }
        if let Content::Elements { particle, .. } = &schema.complex[ty].content {
            let hint = path.last().map_or("", |q| q.local.as_str()).to_string();
            let compiled = self.model(set, schema, ty, particle, &[], &hint)?.1;
            for (s, sym) in compiled.symbols.iter().enumerate() {
                let Symbol::Element { name, decl } = sym else { continue };
                let TypeRef::Complex(ct) = schema.elements[*decl].ty else { continue };
                if ct == schema.any_type || simple_like(schema, ct) {
                    continue;
                }
                let mut p = path.clone();
                p.push(name.clone());
                if compiled.repeated[s] {
                    found.push((name.local.clone(), p));
                } else {
                    self.auto_walk(set, schema, ct, p, visiting, found)?;
                }
            }
        }
        visiting.remove(&ty);
        Ok(())
    }

    // ---- roots and tables ----

    fn root(&mut self, set: usize, schema: &Schema, r: ElemId) -> Result<()> {
        let e = schema.elements[r].clone();
        let path = vec![e.name.clone()];
        let ns = self.ns(&e.name.ns);
        let declared = schema.type_name(e.ty);
        match e.ty {
            TypeRef::Simple(s) => {
                let (out, list) = self.column_type(schema, s, None, &path, None)?;
                let simple = self.simple(set, schema, s, out)?;
                let mode = if list {
                    Mode::Repeated
                } else if e.nillable {
                    Mode::Nullable
                } else {
                    Mode::Required
                };
                let record = self.intern_record(RecordPlan {
                    columns: vec![ColumnPlan { name: "value".into(), ty: ColType::Scalar(out), mode }],
                });
                let t = self.add_table(table_name(&e.name.local), vec![], true)?;
                self.tables[t].record = Some(record);
                self.plan.roots.push(RootPlan {
                    ns,
                    local: e.name.local.clone(),
                    table: Some(t as u16),
                    variants: vec![],
                    declared,
                    nillable: e.nillable,
                    simple: Some(simple),
                    scope: vec![],
                });
            }
            TypeRef::Complex(c) => {
                let scope = self.constraints_of(set, schema, r, Some(&path))?;
                if !scope.is_empty() {
                    self.scopes_by_path.insert(path.clone(), scope.clone());
                }
                let inst = self.record(set, schema, c, Some(&path), 0, e.nillable, &e.block, &e.name.local)?;
                // The root itself is a row of a table: no document table.
                if let Some(&t) = self.row_paths.get(&path) {
                    self.register_row(t, &path, &inst, &declared, e.nillable, &scope)?;
                    self.plan.roots.push(RootPlan {
                        ns,
                        local: e.name.local.clone(),
                        table: Some(t as u16),
                        variants: inst.variants,
                        declared,
                        nillable: e.nillable,
                        simple: None,
                        scope,
                    });
                    return Ok(());
                }
                let table = if inst.columns > 0 {
                    let name = match &self.mapping.document_name {
                        Some(n) if self.tables.iter().any(|t| t.paths.iter().any(|p| p[0] == e.name)) => n.clone(),
                        _ => table_name(&e.name.local),
                    };
                    if self.tables.iter().any(|t| t.name.eq_ignore_ascii_case(&name)) {
                        return Err(Error::new(format!(
                            "the document table of <{}> would be named {name:?} like another table; \
                             name it in the mapping ([document] name = \"...\")",
                            e.name.local
                        )));
                    }
                    let t = self.add_table(name, vec![], true)?;
                    self.tables[t].record = Some(inst.record);
                    Some(t as u16)
                } else {
                    None
                };
                self.plan.roots.push(RootPlan {
                    ns,
                    local: e.name.local.clone(),
                    table,
                    variants: inst.variants,
                    declared,
                    nillable: e.nillable,
                    simple: None,
                    scope,
                });
            }
        }
        Ok(())
    }

    /// Validators for the global elements of a set, when a strict or lax wildcard may meet them.
    fn globals(&mut self, set: usize, schema: &Schema) -> Result<()> {
        let wants = self.plan.decoders.iter().any(|d| match &d.content {
            ContentPlan::Elements { children, .. } => children.iter().any(
                |c| matches!(&c.action, ChildAction::Wildcard(w) if w.process != crate::xsd::model::Process::Skip),
            ),
            _ => false,
        });
        let prefix = self.set_plans[set].prefix.clone();
        let mut g = GlobalsPlan {
            fn_name: format!("{prefix}global_element"),
            elements: vec![],
            attributes_fn: format!("{prefix}global_attribute"),
            attributes: vec![],
        };
        let wants_attributes = self
            .plan
            .decoders
            .iter()
            .any(|d| d.attr_wildcard.as_ref().is_some_and(|w| w.process != crate::xsd::model::Process::Skip));
        if wants_attributes {
            let globals: Vec<(QName, SimpleId)> =
                schema.global_attributes.iter().map(|(q, a)| (q.clone(), a.ty)).collect();
            for (q, ty) in globals {
                let (out, _) = self.column_type(schema, ty, None, &[], None)?;
                let simple = self.simple(set, schema, ty, out)?;
                g.attributes.push((self.ns(&q.ns), q.local.clone(), simple));
            }
        }
        if wants {
            let globals: Vec<(QName, ElemId)> = schema.global_elements.iter().map(|(q, e)| (q.clone(), *e)).collect();
            for (q, e) in globals {
                let decl = schema.elements[e].clone();
                if decl.is_abstract {
                    continue;
                }
                let action = match decl.ty {
                    TypeRef::Simple(st) => {
                        let (out, _) = self.column_type(schema, st, None, &[], None)?;
                        GlobalAction::Value(self.simple(set, schema, st, out)?)
                    }
                    TypeRef::Complex(c) => {
                        let inst = self.record(set, schema, c, None, 0, decl.nillable, &decl.block, &q.local)?;
                        GlobalAction::Decoder(inst.variants, schema.type_name(decl.ty))
                    }
                };
                g.elements.push((self.ns(&q.ns), q.local.clone(), action));
            }
        }
        self.plan.globals.push(g);
        Ok(())
    }

    fn finish_tables(&mut self) -> Result<()> {
        for tb in &self.tables {
            if !tb.document && tb.rows.len() < tb.paths.len() {
                let missing: Vec<String> = tb
                    .paths
                    .iter()
                    .filter(|p| !tb.rows.iter().any(|r| r.elements.len() == p.len()))
                    .map(|p| show(p))
                    .collect();
                return Err(Error::new(format!(
                    "table {:?}: rows path {} is not an element of the schema (check the names and their namespaces)",
                    tb.name,
                    missing.join(", ")
                )));
            }
            // Ancestor columns: the union over the row paths, by name (NULL where a path has none).
            let mut ancestors: Vec<(String, bool)> = vec![];
            let mut rows = tb.rows.clone();
            for (row, named) in rows.iter_mut().zip(&tb.lineage) {
                row.ancestors.clear();
                for (name, counter, depth) in named {
                    let col = match ancestors.iter().position(|(a, _)| a == name) {
                        Some(i) => i,
                        None => {
                            ancestors.push((name.clone(), false));
                            ancestors.len() - 1
                        }
                    };
                    row.ancestors.push((col as u16, *counter, *depth));
                }
            }
            for (i, a) in ancestors.iter_mut().enumerate() {
                a.1 = rows.iter().any(|r| !r.ancestors.iter().any(|x| x.0 as usize == i));
            }
            self.plan.tables.push(TablePlan {
                name: tb.name.clone(),
                record: tb.record.unwrap_or(0),
                ancestors,
                rows,
                document: tb.document,
            });
        }
        let mut counters = vec![String::new(); self.counters.len()];
        for (p, &c) in &self.counters {
            counters[c as usize] = show(p);
        }
        self.plan.counters = counters;
        Ok(())
    }

    fn check_rules_used(&self) -> Result<()> {
        for k in self.mapping.columns.keys() {
            if !self.used_rules.contains(&k.text) {
                return Err(Error::new(format!(
                    "[columns.{:?}] matches no element or attribute of the schema (check the names and their namespaces)",
                    k.text
                )));
            }
        }
        for o in self.mapping.optional.iter().chain(self.mapping.require_one_of.iter().flatten()) {
            if !self.used_rules.contains(&o.text) {
                return Err(Error::new(format!("[relax] path {} matches no element of the schema", o.text)));
            }
        }
        Ok(())
    }

    // ---- records ----

    /// The RECORD nesting below a type (None: unbounded, the type is recursive).
    fn height(&mut self, set: usize, schema: &Schema, c: ComplexId, stack: &mut Vec<ComplexId>) -> Option<u32> {
        if let Some(h) = self.set_plans[set].heights.get(&c) {
            return *h;
        }
        if stack.contains(&c) {
            return None;
        }
        stack.push(c);
        let mut h = Some(0);
        let mut types: Vec<ComplexId> = vec![c];
        types.extend(derived(schema, c, &[]));
        for t in types {
            if let Content::Elements { particle, .. } = &schema.complex[t].content {
                let mut elems = vec![];
                collect_elements(schema, particle, &mut elems);
                for e in elems {
                    if let TypeRef::Complex(cc) = schema.elements[e].ty
                        && !simple_like(schema, cc)
                    {
                        h = match (h, self.height(set, schema, cc, stack)) {
                            (Some(a), Some(b)) => Some(a.max(b + 1)),
                            _ => None,
                        };
                    }
                }
            }
        }
        stack.pop();
        self.set_plans[set].heights.insert(c, h);
        h
    }

    /// The record and decoders of elements declared with complex type `declared` at `path`
    /// (None: outside the mapping's reach), `depth` RECORD levels deep.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        set: usize,
        schema: &Schema,
        declared: ComplexId,
        path: Option<&[QName]>,
        depth: u32,
        nillable: bool,
        block: &[String],
        hint: &str,
    ) -> Result<Inst> {
        // Outside the mapping's reach (below a cut, an excluded element, a wildcard's
        // globals) a record is only validated: it has no depth, and a recursive type met
        // again below itself calls the decoders of its provisional instance.
        let depth = if path.is_none() { 0 } else { depth };
        let specialized = path.filter(|p| self.rules_below(p)).map(|p| p.to_vec());
        let fits = self.height(set, schema, declared, &mut vec![]).is_some_and(|h| h + depth <= self.mapping.max_depth);
        let depth_key = if path.is_none() || (fits && specialized.is_none()) { None } else { Some(depth) };
        let blocked: Vec<String> = block.iter().filter(|b| *b == "extension" || *b == "restriction").cloned().collect();
        let key = (declared, specialized.clone(), depth_key, nillable, blocked);
        if let Some(i) = self.set_plans[set].insts.get(&key) {
            return Ok(i.clone());
        }
        let ct = schema.complex[declared].clone();
        let mut types = vec![];
        if !ct.is_abstract {
            types.push((declared, false));
        }
        for d in derived(schema, declared, block) {
            if !schema.complex[d].is_abstract {
                types.push((d, true));
            }
        }
        // The variants' decoders are numbered before they are planned, so that a type met
        // again below itself (validated through a recursion cut) can call them.
        let mut variants = vec![];
        for &(t, by_xsi) in &types {
            let xsi = schema.complex[t].name.as_ref().map(|n| (self.ns(&n.ns), n.local.clone()));
            self.plan.decoders.push(DecoderPlan::default());
            variants.push(Variant {
                xsi,
                decoder: self.plan.decoders.len() - 1,
                only_by_xsi: by_xsi,
                is_abstract: false,
            });
        }
        let provisional = Inst { record: usize::MAX, variants: variants.clone(), xsi_field: None, columns: 0 };
        self.set_plans[set].insts.insert(key.clone(), provisional);
        let mut layout = Layout::default();
        // An abstract declared type lays out its columns first, the derived types' own
        // columns follow; its decoder is planned for that but never emitted.
        if ct.is_abstract && !types.is_empty() {
            let slot = self.plan.decoders.len();
            self.plan.decoders.push(DecoderPlan::default());
            self.decoder(set, schema, declared, path, depth, nillable, &mut layout, hint, slot)?;
        }
        let mut written: Vec<BTreeSet<u16>> = vec![];
        for (&(t, _), v) in types.iter().zip(&variants) {
            let fields = self.decoder(set, schema, t, path, depth, nillable, &mut layout, hint, v.decoder)?;
            written.push(fields);
        }
        // A column not every type writes can be absent.
        for (i, c) in layout.columns.iter_mut().enumerate() {
            if c.mode == Mode::Required && written.iter().any(|w| !w.contains(&(i as u16))) {
                c.mode = Mode::Nullable;
            }
        }
        let xsi_field = if types.len() > 1 || (types.len() == 1 && types[0].1) {
            let c = ColumnPlan { name: "xsi_type".into(), ty: ColType::Scalar(Scalar::String), mode: Mode::Nullable };
            Some(layout.add(c, "the xsi:type column", &schema.type_name(TypeRef::Complex(declared)))?)
        } else {
            None
        };
        // Abstract types xsi:type may name here: an error, with its own rule.
        let mut abstract_types = vec![];
        if ct.is_abstract {
            abstract_types.push(declared);
        }
        abstract_types.extend(derived(schema, declared, block).into_iter().filter(|&d| schema.complex[d].is_abstract));
        for t in abstract_types {
            if let Some(n) = &schema.complex[t].name {
                let xsi = Some((self.ns(&n.ns), n.local.clone()));
                variants.push(Variant { xsi, decoder: 0, only_by_xsi: true, is_abstract: true });
            }
        }
        let columns = layout.columns.len();
        let record = self.intern_record(RecordPlan { columns: layout.columns });
        let inst = Inst { record, variants, xsi_field, columns };
        self.set_plans[set].insts.insert(key, inst.clone());
        Ok(inst)
    }

    /// The decoder of concrete type `t` writing into `layout`.
    #[allow(clippy::too_many_arguments)]
    fn decoder(
        &mut self,
        set: usize,
        schema: &Schema,
        t: ComplexId,
        path: Option<&[QName]>,
        depth: u32,
        nillable: bool,
        layout: &mut Layout,
        hint: &str,
        slot: usize,
    ) -> Result<BTreeSet<u16>> {
        let ct = schema.complex[t].clone();
        let type_name = match &ct.name {
            Some(n) => n.local.clone(),
            None => format!("<{hint}>"),
        };
        let at = ct.loc.as_ref().map_or(String::new(), |l| format!("{l}: "));
        let context = match path {
            Some(p) => format!("{at}type {type_name} at {}", show(p)),
            None => format!("{at}type {type_name}"),
        };
        layout.touched.clear();
        let mut attrs = vec![];
        for u in &ct.attributes {
            let rule = path.and_then(|p| self.rule(p, Some(&u.decl.name)));
            let (out, list) = self.column_type(
                schema,
                u.decl.ty,
                rule.as_ref().and_then(|r| r.ty),
                path.unwrap_or(&[]),
                Some(&u.decl.name),
            )?;
            let simple = self.simple(set, schema, u.decl.ty, out)?;
            let field = if rule.as_ref().is_some_and(|r| r.exclude) {
                None
            } else {
                let name =
                    rule.as_ref().and_then(|r| r.rename.clone()).unwrap_or_else(|| column_name(&u.decl.name.local));
                let mode = if list {
                    Mode::Repeated
                } else if u.required || u.decl.default.is_some() || u.decl.fixed.is_some() {
                    Mode::Required
                } else {
                    Mode::Nullable
                };
                let what = format!("attribute {}", u.decl.name.local);
                Some(layout.add(ColumnPlan { name, ty: ColType::Scalar(out), mode }, &what, &context)?)
            };
            attrs.push(AttrPlan {
                ns: self.ns(&u.decl.name.ns),
                local: u.decl.name.local.clone(),
                value: ValuePlan { simple, field, list, wrap: false },
                required: u.required,
                default: u.decl.default.clone(),
                fixed: u.decl.fixed.clone(),
            });
        }
        let content = match &ct.content {
            Content::Empty => ContentPlan::Empty,
            Content::Simple(s) => {
                let (out, list) = self.column_type(schema, *s, None, path.unwrap_or(&[]), None)?;
                let simple = self.simple(set, schema, *s, out)?;
                let mode = if list {
                    Mode::Repeated
                } else if nillable {
                    Mode::Nullable
                } else {
                    Mode::Required
                };
                let c = ColumnPlan { name: "value".into(), ty: ColType::Scalar(out), mode };
                let field = layout.add(c, "the element's text (value)", &context)?;
                ContentPlan::Simple { value: ValuePlan { simple, field: Some(field), list, wrap: false } }
            }
            Content::Elements { particle, mixed } => {
                let relaxed: Vec<QName> = match path {
                    Some(p) => self
                        .mapping
                        .optional
                        .iter()
                        .filter(|o| o.elements.len() == p.len() + 1 && o.elements.starts_with(p))
                        .map(|o| {
                            self.used_rules.insert(o.text.clone());
                            o.elements[p.len()].clone()
                        })
                        .collect(),
                    None => vec![],
                };
                let (model, compiled) = self.model(set, schema, t, particle, &relaxed, hint)?;
                let mut children = vec![];
                // Elements first, then the mixed text, then wildcards.
                for (s, sym) in compiled.symbols.iter().enumerate() {
                    if let Symbol::Element { name, decl } = sym {
                        children.push(
                            self.child(set, schema, s as u16, name, *decl, &compiled, path, depth, layout, &context)?,
                        );
                    }
                }
                let mixed = if *mixed {
                    let mode = if nillable { Mode::Nullable } else { Mode::Required };
                    let c = ColumnPlan { name: "value".into(), ty: ColType::Scalar(Scalar::String), mode };
                    Some(Some(layout.add(c, "the element's text (value)", &context)?))
                } else {
                    None
                };
                // Every wildcard of the model shares one `any` column: the matched elements'
                // XML text, in document order.
                let wildcards: Vec<usize> = (0..compiled.symbols.len())
                    .filter(|&s| matches!(compiled.symbols[s], Symbol::Wildcard(_)))
                    .collect();
                let any_field = match wildcards.as_slice() {
                    [] => None,
                    [one] => {
                        let mode = column_mode(&compiled, *one, false);
                        let c = ColumnPlan { name: "any".into(), ty: ColType::Scalar(Scalar::String), mode };
                        Some(layout.add(c, "an xs:any wildcard", &context)?)
                    }
                    _ => {
                        let c = ColumnPlan {
                            name: "any".into(),
                            ty: ColType::Scalar(Scalar::String),
                            mode: Mode::Repeated,
                        };
                        Some(layout.add(c, "the xs:any wildcards", &context)?)
                    }
                };
                for &s in &wildcards {
                    let Symbol::Wildcard(w) = &compiled.symbols[s] else { continue };
                    children.push(ChildPlan {
                        symbol: s as u16,
                        name: None,
                        action: ChildAction::Wildcard(WildcardPlan {
                            test: self.ns_test(&w.ns),
                            process: w.process,
                            field: any_field,
                            globals: set as u16,
                        }),
                        nillable: false,
                        default: None,
                        fixed: None,
                        counter: None,
                        scope: vec![],
                    });
                }
                let mut require_one_of = vec![];
                if let Some(p) = path {
                    for group in &self.mapping.require_one_of {
                        if group.iter().all(|g| g.elements.len() == p.len() + 1 && g.elements.starts_with(p)) {
                            let mut syms = vec![];
                            let mut names = vec![];
                            for g in group {
                                self.used_rules.insert(g.text.clone());
                                let q = &g.elements[p.len()];
                                if let Some(i) = compiled
                                    .symbols
                                    .iter()
                                    .position(|s| matches!(s, Symbol::Element { name, .. } if name == q))
                                {
                                    syms.push(i as u16);
                                    names.push(q.local.clone());
                                }
                            }
                            require_one_of.push((syms, names));
                        }
                    }
                }
                ContentPlan::Elements { model, children, mixed, require_one_of }
            }
        };
        let mut abstract_elements = vec![];
        if let Content::Elements { particle, .. } = &ct.content {
            let mut elems = vec![];
            collect_elements(schema, particle, &mut elems);
            for e in elems {
                let decl = &schema.elements[e];
                let name = (self.ns(&decl.name.ns), decl.name.local.clone());
                if decl.is_abstract && !abstract_elements.contains(&name) {
                    abstract_elements.push(name);
                }
            }
        }
        // A nilled element has no content: in a nillable element's record, every column
        // but the attributes may be NULL.
        if nillable {
            for (i, c) in layout.columns.iter_mut().enumerate() {
                if !layout.touched.contains(&(i as u16)) {
                    continue;
                }
                let attribute = ct.attributes.iter().any(|u| {
                    let rule = path.and_then(|p| self.columns.get(&(p.to_vec(), Some(u.decl.name.clone()))));
                    let name = rule.and_then(|r| r.rename.clone()).unwrap_or_else(|| column_name(&u.decl.name.local));
                    name.eq_ignore_ascii_case(&c.name)
                });
                if c.mode == Mode::Required && !attribute {
                    c.mode = Mode::Nullable;
                }
            }
        }
        let attr_wildcard = match &ct.attr_wildcard {
            Some(w) => {
                let c = ColumnPlan {
                    name: "any_attributes".into(),
                    ty: ColType::Scalar(Scalar::String),
                    mode: Mode::Nullable,
                };
                let field = Some(layout.add(c, "an xs:anyAttribute wildcard", &context)?);
                Some(WildcardPlan { test: self.ns_test(&w.ns), process: w.process, field, globals: set as u16 })
            }
            None => None,
        };
        let base = format!("{}{}", self.set_plans[set].prefix, snake(&type_name_for_fn(schema, t, hint)));
        let fn_name = self.unique(&base);
        let doc = match path {
            Some(p) => format!("Decodes type `{type_name}` at `{}`.", show(p)),
            None => format!("Decodes type `{type_name}` (validation, recursion cuts and wildcards)."),
        };
        let written = layout.touched.clone();
        self.plan.decoders[slot] = DecoderPlan {
            fn_name,
            doc,
            type_name,
            is_abstract: ct.is_abstract,
            attrs,
            attr_wildcard,
            content,
            abstract_elements,
        };
        Ok(written)
    }

    /// The plan of one element symbol of a content model (and its column).
    #[allow(clippy::too_many_arguments)]
    fn child(
        &mut self,
        set: usize,
        schema: &Schema,
        symbol: u16,
        name: &QName,
        decl: ElemId,
        compiled: &Compiled,
        path: Option<&[QName]>,
        depth: u32,
        layout: &mut Layout,
        context: &str,
    ) -> Result<ChildPlan> {
        let e = schema.elements[decl].clone();
        let s = symbol as usize;
        let cpath: Option<Vec<QName>> = path.map(|p| {
            let mut v = p.to_vec();
            v.push(name.clone());
            v
        });
        let repeated = compiled.repeated[s];
        let mode = column_mode(compiled, s, e.nillable);
        let counter = match &cpath {
            Some(cp) if repeated && self.prefixes.contains(cp) => {
                let n = self.counters.len() as u16;
                Some(*self.counters.entry(cp.clone()).or_insert(n))
            }
            _ => None,
        };
        let rule = match &cpath {
            Some(cp) => self.element_rule(cp),
            None => None,
        };
        let excluded = rule.as_ref().is_some_and(|r| r.exclude);
        let col_name = rule.as_ref().and_then(|r| r.rename.clone()).unwrap_or_else(|| column_name(&name.local));
        let what = format!("element <{}>", name.local);
        let declared = schema.type_name(e.ty);
        let scope = self.constraints_of(set, schema, decl, cpath.as_deref())?;
        if let Some(cp) = &cpath
            && !scope.is_empty()
        {
            self.scopes_by_path.insert(cp.clone(), scope.clone());
        }
        let table = cpath.as_ref().and_then(|cp| self.row_paths.get(cp).copied());
        let action = if let Some(t) = table {
            let TypeRef::Complex(c) = e.ty else {
                return Err(Error::new(format!(
                    "table {:?}: its rows <{}> have a simple type; a table row must be an element of complex type",
                    self.tables[t].name, name.local
                )));
            };
            let cp = cpath.clone().unwrap_or_default();
            let inst = self.record(set, schema, c, Some(&cp), 0, e.nillable, &e.block, &name.local)?;
            let row = self.register_row(t, &cp, &inst, &declared, e.nillable, &scope)?;
            ChildAction::Record {
                place: Place::Row { table: t as u16, row },
                variants: inst.variants,
                declared: declared.clone(),
            }
        } else {
            match value_type(schema, e.ty) {
                Ok(st) => {
                    let (out, list) = self.column_type(
                        schema,
                        st,
                        rule.as_ref().and_then(|r| r.ty),
                        cpath.as_deref().unwrap_or(&[]),
                        None,
                    )?;
                    let simple = self.simple(set, schema, st, out)?;
                    let field = if excluded {
                        None
                    } else {
                        Some(self.value_column(layout, &col_name, out, list, repeated, mode, &what, context)?)
                    };
                    ChildAction::Value(ValuePlan { simple, field, list, wrap: list && repeated })
                }
                Err(_) if (excluded || depth + 1 > self.mapping.max_depth) && self.holds_rows(&cpath) => {
                    let why = if excluded {
                        "is excluded by the mapping".to_string()
                    } else {
                        format!("is nested deeper than max_depth = {}", self.mapping.max_depth)
                    };
                    return Err(Error::new(format!(
                        "element <{}> at {} {why}, but table rows lie inside it: raise [options] max_depth, \
                         or declare a table at or above it",
                        name.local,
                        show(cpath.as_deref().unwrap_or(&[]))
                    )));
                }
                Err(c) if excluded => {
                    let inst = self.record(set, schema, c, None, 0, e.nillable, &e.block, &name.local)?;
                    ChildAction::Record { place: Place::Discard, variants: inst.variants, declared: declared.clone() }
                }
                Err(c) if depth + 1 > self.mapping.max_depth && !schema_empty(schema, c) => {
                    let inst = self.record(set, schema, c, None, 0, e.nillable, &e.block, &name.local)?;
                    let col = ColumnPlan { name: col_name, ty: ColType::Scalar(Scalar::String), mode };
                    let field = Some(layout.add(col, &what, context)?);
                    ChildAction::Cut { field, variants: inst.variants, declared: declared.clone() }
                }
                Err(c) => {
                    let inst =
                        self.record(set, schema, c, cpath.as_deref(), depth + 1, e.nillable, &e.block, &name.local)?;
                    if inst.columns > 0 {
                        let col = ColumnPlan { name: col_name, ty: ColType::Record(inst.record), mode };
                        let field = layout.add(col, &what, context)?;
                        ChildAction::Record {
                            place: Place::Column { field, xsi_field: inst.xsi_field },
                            variants: inst.variants,
                            declared: declared.clone(),
                        }
                    } else if schema_empty(schema, c) && !excluded {
                        let col = ColumnPlan { name: col_name, ty: ColType::Scalar(Scalar::Bool), mode };
                        let field = Some(layout.add(col, &what, context)?);
                        let decoder = inst.variants.iter().find(|v| !v.is_abstract).map_or(0, |v| v.decoder);
                        ChildAction::Presence { field, decoder }
                    } else {
                        ChildAction::Record {
                            place: Place::Transparent,
                            variants: inst.variants,
                            declared: declared.clone(),
                        }
                    }
                }
            }
        };
        Ok(ChildPlan {
            symbol,
            name: Some((self.ns(&name.ns), name.local.clone())),
            action,
            nillable: e.nillable,
            default: e.default.clone(),
            fixed: e.fixed.clone(),
            counter,
            scope,
        })
    }

    /// Records that elements at `path` are rows of table `t`, decoded by `inst`.
    fn register_row(
        &mut self,
        t: usize,
        path: &[QName],
        inst: &Inst,
        declared: &str,
        nillable: bool,
        scope: &[u16],
    ) -> Result<u16> {
        let tb = &mut self.tables[t];
        match tb.record {
            Some(r) if r != inst.record => {
                return Err(Error::new(format!(
                    "table {:?}: its row paths give rows of different columns; split it into two tables",
                    tb.name
                )));
            }
            _ => tb.record = Some(inst.record),
        }
        let elements: Vec<(u16, String)> = path.iter().map(|q| (self.ns(&q.ns), q.local.clone())).collect();
        // The repeated ancestors (their counters were set up while planning their parents).
        let mut lineage = vec![];
        let mut used: BTreeMap<String, usize> = BTreeMap::new();
        for k in 1..path.len() {
            if let Some(&c) = self.counters.get(&path[..k]) {
                let local = column_name(&path[k - 1].local);
                let n = used.entry(local.clone()).or_default();
                *n += 1;
                let name = if *n > 1 { format!("_{local}_{n}_ordinal") } else { format!("_{local}_ordinal") };
                lineage.push((name, c, (k - 1) as u16));
            }
        }
        if let Some(k) = self.tables[t].rows.iter().position(|r| r.elements == elements) {
            return Ok(k as u16);
        }
        self.tables[t].lineage.push(lineage);
        let outer_scopes = (1..path.len())
            .filter_map(|k| self.scopes_by_path.get(&path[..k]).map(|s| (k as u16, s.clone())))
            .collect();
        self.tables[t].rows.push(RowPathPlan {
            elements,
            ancestors: vec![],
            variants: inst.variants.clone(),
            declared: declared.to_string(),
            nillable,
            scope: scope.to_vec(),
            outer_scopes,
        });
        Ok((self.tables[t].rows.len() - 1) as u16)
    }

    /// The identity constraints element `e` declares, planned (indices into `plan.constraints`).
    fn constraints_of(&mut self, set: usize, schema: &Schema, e: ElemId, path: Option<&[QName]>) -> Result<Vec<u16>> {
        let mut out = vec![];
        for &c in &schema.elements[e].constraints {
            out.push(self.constraint(set, schema, e, c, path)?);
        }
        Ok(out)
    }

    fn constraint(&mut self, set: usize, schema: &Schema, e: ElemId, c: usize, path: Option<&[QName]>) -> Result<u16> {
        if let Some(&i) = self.constraint_ids.get(&(set, c)) {
            return Ok(i);
        }
        let ic = schema.constraints[c].clone();
        let kind = match ic.kind {
            crate::xsd::model::ConstraintKind::Key => ConstraintKind::Key,
            crate::xsd::model::ConstraintKind::Unique => ConstraintKind::Unique,
            crate::xsd::model::ConstraintKind::KeyRef(target) => {
                // The referenced key is declared by this element or one below it.
                let owner = schema.elements.iter().position(|x| x.constraints.contains(&target)).unwrap_or(e);
                ConstraintKind::KeyRef(self.constraint(set, schema, owner, target, None)?)
            }
        };
        let path_plan = |p: &crate::xsd::model::XPath, me: &Self| PathPlan {
            descendants: p.descendants,
            steps: p
                .steps
                .iter()
                .filter_map(|s| match s {
                    crate::xsd::model::Step::SelfNode => None,
                    crate::xsd::model::Step::Child { ns, local } => {
                        Some((ns.as_ref().map(|n| me.ns(n)), local.clone()))
                    }
                })
                .collect(),
            attribute: p.attribute.as_ref().map(|(ns, local)| (ns.as_ref().map(|n| me.ns(n)), local.clone())),
        };
        let selector: Vec<PathPlan> = ic.selector.iter().map(|p| path_plan(p, self)).collect();
        // The selected elements, and each field's type: found by walking the schema.
        let TypeRef::Complex(scope_type) = schema.elements[e].ty else {
            return Err(Error::new(format!(
                "identity constraint {} is declared on an element of simple type",
                ic.name.local
            )));
        };
        let mut selected = vec![];
        for p in &ic.selector {
            selected.extend(walk(schema, &[TypeRef::Complex(scope_type)], p));
        }
        let mut fields = vec![];
        for f in &ic.fields {
            let paths: Vec<PathPlan> = f.iter().map(|p| path_plan(p, self)).collect();
            let mut canon = None;
            for p in f {
                let ends = walk(schema, &selected, p);
                let simple = match &p.attribute {
                    Some((ns, local)) => ends.iter().find_map(|t| attribute_type(schema, *t, ns, local)),
                    None => ends.iter().find_map(|t| match t {
                        TypeRef::Simple(s) => Some(*s),
                        TypeRef::Complex(c) => match schema.complex[*c].content {
                            Content::Simple(s) => Some(s),
                            _ => None,
                        },
                    }),
                };
                if canon.is_none() {
                    canon = simple.map(|s| canon_of(schema, s));
                }
            }
            fields.push((paths, canon.unwrap_or(CanonPlan::Text { collapse: true })));
        }
        // A keyref whose key's selector goes through a child the mapping lets be absent
        // is not checked when that child is absent.
        let mut unless_absent = None;
        if let (crate::xsd::model::ConstraintKind::KeyRef(target), Some(p)) = (ic.kind, path) {
            for sp in &schema.constraints[target].selector {
                if let Some(crate::xsd::model::Step::Child { ns: Some(ns), local: Some(local) }) = sp.steps.first() {
                    let mut child = p.to_vec();
                    child.push(QName::new(ns.clone(), local.clone()));
                    if self.mapping.optional.iter().any(|o| o.elements == child) {
                        unless_absent = Some((self.ns(ns), local.clone()));
                    }
                }
            }
        }
        let i = self.plan.constraints.len() as u16;
        self.plan.constraints.push(ConstraintPlan {
            name: ic.name.local.clone(),
            kind,
            selector,
            fields,
            unless_absent,
        });
        self.constraint_ids.insert((set, c), i);
        Ok(i)
    }

    /// Adds the column of a simple value: a scalar, a list (REPEATED), or a record
    /// holding each occurrence's list when a list-valued element repeats.
    #[allow(clippy::too_many_arguments)]
    fn value_column(
        &mut self,
        layout: &mut Layout,
        name: &str,
        out: Scalar,
        list: bool,
        repeated: bool,
        mode: Mode,
        what: &str,
        context: &str,
    ) -> Result<u16> {
        let c = if list && repeated {
            let inner = self.intern_record(RecordPlan {
                columns: vec![ColumnPlan { name: "value".into(), ty: ColType::Scalar(out), mode: Mode::Repeated }],
            });
            ColumnPlan { name: name.to_string(), ty: ColType::Record(inner), mode: Mode::Repeated }
        } else if list {
            ColumnPlan { name: name.to_string(), ty: ColType::Scalar(out), mode: Mode::Repeated }
        } else {
            ColumnPlan { name: name.to_string(), ty: ColType::Scalar(out), mode }
        };
        layout.add(c, what, context)
    }

    /// The column rule of an element path (marks it used).
    fn element_rule(&mut self, path: &[QName]) -> Option<ColumnRule> {
        self.rule(path, None)
    }

    fn rule(&mut self, path: &[QName], attribute: Option<&QName>) -> Option<ColumnRule> {
        let key = (path.to_vec(), attribute.cloned());
        let r = self.columns.get(&key).cloned()?;
        if let Some((k, _)) =
            self.mapping.columns.iter().find(|(k, _)| k.elements == path && k.attribute.as_ref() == attribute)
        {
            self.used_rules.insert(k.text.clone());
        }
        Some(r)
    }

    fn ns_test(&self, c: &NsConstraint) -> NsTest {
        match c {
            NsConstraint::Any => NsTest::Any,
            NsConstraint::Not(t) => {
                let mut v = vec![0];
                if t.is_some() {
                    v.push(self.ns(t));
                }
                NsTest::Not(v)
            }
            NsConstraint::Set(s) => NsTest::In(s.iter().map(|n| self.ns(n)).collect()),
        }
    }

    // ---- content models ----

    fn model(
        &mut self,
        set: usize,
        schema: &Schema,
        t: ComplexId,
        particle: &crate::xsd::model::Particle,
        relaxed: &[QName],
        hint: &str,
    ) -> Result<(usize, Compiled)> {
        let key = (t, relaxed.to_vec());
        if let Some((i, c)) = self.set_plans[set].models.get(&key) {
            return Ok((*i, c.clone()));
        }
        let type_name = schema.type_name(TypeRef::Complex(t));
        let context =
            format!("type {type_name}{}", schema.complex[t].loc.as_ref().map_or(String::new(), |l| format!(" ({l})")));
        let relaxed_set: BTreeSet<QName> = relaxed.iter().cloned().collect();
        let compiled = automaton::compile(schema, particle, &relaxed_set, &context)?;
        let symbols = compiled
            .symbols
            .iter()
            .map(|s| match s {
                Symbol::Element { name, .. } => (Some(self.ns(&name.ns)), name.local.clone()),
                Symbol::Wildcard(w) => (None, describe_wildcard(&w.ns)),
            })
            .collect();
        let wildcards = compiled
            .symbols
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Symbol::Wildcard(w) => Some((i as u16, self.ns_test(&w.ns))),
                _ => None,
            })
            .collect();
        let base = format!("{}{}_model", self.set_plans[set].prefix, snake(&type_name_for_fn(schema, t, hint)));
        let name = self.unique(&base).to_ascii_uppercase();
        self.plan.models.push(ModelPlan { name, symbols, wildcards, automaton: compiled.automaton.clone() });
        let i = self.plan.models.len() - 1;
        self.set_plans[set].models.insert(key, (i, compiled.clone()));
        Ok((i, compiled))
    }

    // ---- simple values ----

    /// The column type of simple type `s` (and whether it is a list): the mapping's
    /// choice for this path, else for the type (or a type it derives from), else the default.
    fn column_type(
        &mut self,
        schema: &Schema,
        s: SimpleId,
        chosen: Option<TypeChoice>,
        path: &[QName],
        attr: Option<&QName>,
    ) -> Result<(Scalar, bool)> {
        let st = &schema.simple[s];
        match &st.variety {
            Variety::List(item) => Ok((self.column_type(schema, *item, chosen, path, attr)?.0, true)),
            Variety::Union(members) => {
                if let Some(TypeChoice::String) = chosen {
                    return Ok((Scalar::String, false));
                }
                let mut outs = BTreeSet::new();
                for &m in members {
                    let (o, list) = self.column_type(schema, m, None, path, attr)?;
                    outs.insert((o, list));
                }
                match outs.len() {
                    1 => Ok(*outs.iter().next().unwrap_or(&(Scalar::String, false))),
                    _ => Ok((Scalar::String, false)),
                }
            }
            Variety::Atomic(b) => {
                let by_type = self.type_choice(schema, s);
                let choice = chosen.or(by_type);
                let default = default_scalar(*b, &st.facets);
                let out = match choice {
                    None => default,
                    Some(c) => {
                        let out = match c {
                            TypeChoice::String => Scalar::String,
                            TypeChoice::Int64 => Scalar::Int64,
                            TypeChoice::Float64 => Scalar::Float64,
                            TypeChoice::Numeric => Scalar::Numeric,
                            TypeChoice::BigNumeric => Scalar::BigNumeric,
                            TypeChoice::DateTime => Scalar::DateTime,
                            TypeChoice::Timestamp => Scalar::Timestamp,
                        };
                        let ok = out == Scalar::String
                            || out == default
                            || match b {
                                b if b.is_integer() => {
                                    matches!(out, Scalar::Numeric | Scalar::BigNumeric | Scalar::Float64)
                                }
                                Builtin::Decimal => {
                                    matches!(out, Scalar::Numeric | Scalar::BigNumeric | Scalar::Float64)
                                }
                                Builtin::DateTime | Builtin::DateTimeStamp => {
                                    matches!(out, Scalar::DateTime | Scalar::Timestamp)
                                }
                                _ => false,
                            };
                        if !ok {
                            let mut at = show(path);
                            if let Some(a) = attr {
                                at.push_str(&format!("/@{}", a.local));
                            }
                            return Err(Error::new(format!(
                                "{at}: xs:{} values cannot be stored as {}",
                                b.name(),
                                out.bigquery()
                            )));
                        }
                        out
                    }
                };
                Ok((out, false))
            }
        }
    }

    /// The mapping's `[types]` choice for `s` or the nearest named type it derives from,
    /// up to its built-in type (so `"xs:decimal"` does not capture xs:integer columns).
    fn type_choice(&self, schema: &Schema, s: SimpleId) -> Option<TypeChoice> {
        let mut cur = Some(s);
        while let Some(t) = cur {
            let name = schema.simple[t].name.as_ref();
            if let Some(c) = name.and_then(|n| self.mapping.types.get(n)) {
                return Some(*c);
            }
            if name.is_some_and(|n| n.ns.as_deref() == Some(XS)) {
                return None;
            }
            cur = schema.simple[t].base;
        }
        None
    }

    fn simple(&mut self, set: usize, schema: &Schema, s: SimpleId, out: Scalar) -> Result<usize> {
        if let Some(&i) = self.set_plans[set].simples.get(&(s, out)) {
            return Ok(i);
        }
        let st = schema.simple[s].clone();
        let type_label = match &st.name {
            Some(n) if n.ns.as_deref() == Some(XS) => format!("xs:{}", n.local),
            Some(n) => n.local.clone(),
            None => "an anonymous simple type".to_string(),
        };
        let kind = match &st.variety {
            Variety::Atomic(b) => {
                for step in &st.facets.patterns {
                    for p in step {
                        crate::xsd_regex::translate(p).map_err(|e| {
                            let at = st.loc.as_ref().map_or(String::new(), |l| format!("{l}: "));
                            Error::new(format!("{at}pattern {p:?} of {type_label}: {e}"))
                        })?;
                    }
                }
                SimpleKind::Atomic { builtin: *b, facets: st.facets.clone() }
            }
            Variety::List(item) => {
                let item = self.simple(set, schema, *item, out)?;
                SimpleKind::List { item, facets: st.facets.clone() }
            }
            Variety::Union(members) => {
                let mut ids = vec![];
                for &m in members {
                    let (mo, _) = self.column_type(schema, m, None, &[], None)?;
                    let mo = if out == Scalar::String { mo } else { out };
                    ids.push(self.simple(set, schema, m, mo)?);
                }
                SimpleKind::Union { members: ids, facets: st.facets.clone() }
            }
        };
        let base = match &st.name {
            Some(n) if n.ns.as_deref() == Some(XS) => format!("{}xs_{}", self.set_plans[set].prefix, snake(&n.local)),
            Some(n) => format!("{}{}", self.set_plans[set].prefix, snake(&n.local)),
            None => format!("{}anonymous", self.set_plans[set].prefix),
        };
        let base = if out == default_out(schema, s) {
            base
        } else {
            format!("{base}_as_{}", out.bigquery().to_ascii_lowercase())
        };
        let fn_name = self.unique(&base);
        let doc = format!("{type_label} as {}", out.bigquery());
        self.plan.simples.push(SimplePlan { fn_name, doc, out, ws: st.whitespace, kind });
        let i = self.plan.simples.len() - 1;
        self.set_plans[set].simples.insert((s, out), i);
        Ok(i)
    }
}

/// The types of the elements a path (of an identity constraint) reaches from `from`.
fn walk(schema: &Schema, from: &[TypeRef], p: &crate::xsd::model::XPath) -> Vec<TypeRef> {
    use crate::xsd::model::Step;
    let tests: Vec<(&Option<Option<String>>, &Option<String>)> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::SelfNode => None,
            Step::Child { ns, local } => Some((ns, local)),
        })
        .collect();
    let mut cur: Vec<TypeRef> = from.to_vec();
    if p.descendants {
        // Every type below, at any depth.
        let mut all = cur.clone();
        let mut k = 0;
        while k < all.len() {
            for (_, t) in child_elements(schema, all[k]) {
                if !all.contains(&t) {
                    all.push(t);
                }
            }
            k += 1;
        }
        cur = all;
    }
    for (ns, local) in tests {
        let mut next = vec![];
        for t in &cur {
            for (q, ty) in child_elements(schema, *t) {
                let ns_ok = ns.as_ref().is_none_or(|n| *n == q.ns);
                let local_ok = local.as_ref().is_none_or(|l| *l == q.local);
                if ns_ok && local_ok && !next.contains(&ty) {
                    next.push(ty);
                }
            }
        }
        cur = next;
    }
    cur
}

/// The child elements (name, type) a type's content allows.
fn child_elements(schema: &Schema, t: TypeRef) -> Vec<(QName, TypeRef)> {
    let TypeRef::Complex(c) = t else { return vec![] };
    let Content::Elements { particle, .. } = &schema.complex[c].content else { return vec![] };
    let mut elems = vec![];
    collect_elements(schema, particle, &mut elems);
    elems.iter().map(|&e| (schema.elements[e].name.clone(), schema.elements[e].ty)).collect()
}

/// The simple type of an attribute (name test) of a type.
fn attribute_type(
    schema: &Schema,
    t: TypeRef,
    ns: &Option<Option<String>>,
    local: &Option<String>,
) -> Option<SimpleId> {
    let TypeRef::Complex(c) = t else { return None };
    schema.complex[c]
        .attributes
        .iter()
        .find(|u| {
            ns.as_ref().is_none_or(|n| *n == u.decl.name.ns) && local.as_ref().is_none_or(|l| *l == u.decl.name.local)
        })
        .map(|u| u.decl.ty)
}

/// How values of a simple type compare in identity constraints.
fn canon_of(schema: &Schema, s: SimpleId) -> CanonPlan {
    match schema.atomic_builtin(s) {
        Some(Builtin::Decimal) => CanonPlan::Decimal,
        Some(b) if b.is_integer() => CanonPlan::Decimal,
        Some(Builtin::Float | Builtin::Double) => CanonPlan::Float,
        Some(Builtin::Boolean) => CanonPlan::Boolean,
        Some(
            Builtin::DateTime
            | Builtin::DateTimeStamp
            | Builtin::Date
            | Builtin::Time
            | Builtin::GYear
            | Builtin::GYearMonth
            | Builtin::GMonthDay
            | Builtin::GMonth
            | Builtin::GDay,
        ) => CanonPlan::Temporal,
        _ => CanonPlan::Text { collapse: schema.simple[s].whitespace != crate::xsd::model::Ws::Preserve },
    }
}

/// The default column type of a simple type (for naming value functions).
fn default_out(schema: &Schema, s: SimpleId) -> Scalar {
    match &schema.simple[s].variety {
        Variety::Atomic(b) => default_scalar(*b, &schema.simple[s].facets),
        Variety::List(i) => default_out(schema, *i),
        Variety::Union(_) => Scalar::String,
    }
}

/// XSD built-in → column type (README: "Types").
fn default_scalar(b: Builtin, f: &crate::xsd::model::Facets) -> Scalar {
    use Builtin::*;
    match b {
        Boolean => Scalar::Bool,
        Float | Double => Scalar::Float64,
        Decimal => {
            let frac = f.fraction_digits.or(f.total_digits);
            let total = f.total_digits;
            match (frac, total) {
                (Some(fr), Some(t)) if fr <= 9 && t.saturating_sub(fr.min(t)) <= 29 => Scalar::Numeric,
                _ => Scalar::BigNumeric,
            }
        }
        b if b.is_integer() => Scalar::Int64,
        Date => Scalar::Date,
        Time => Scalar::Time,
        DateTime | DateTimeStamp => Scalar::Timestamp,
        Base64Binary | HexBinary => Scalar::Bytes,
        _ => Scalar::String,
    }
}

/// The mode of a child element's column. In the record of a nillable element (`nilled`),
/// every element column may be NULL (a nilled element has no content).
fn column_mode(c: &Compiled, s: usize, nillable: bool) -> Mode {
    if c.repeated[s] {
        Mode::Repeated
    } else if c.optional[s] || nillable {
        Mode::Nullable
    } else {
        Mode::Required
    }
}

/// A complex type with simple content and nothing else: its element is a plain value.
/// The simple type an element's value has (a simple type, or a simple-like complex
/// one: a scalar column), or the complex type of its record.
fn value_type(schema: &Schema, t: TypeRef) -> std::result::Result<SimpleId, ComplexId> {
    match t {
        TypeRef::Simple(st) => Ok(st),
        TypeRef::Complex(c) => match schema.complex[c].content {
            Content::Simple(st) if simple_like(schema, c) => Ok(st),
            _ => Err(c),
        },
    }
}

fn simple_like(schema: &Schema, c: ComplexId) -> bool {
    let t = &schema.complex[c];
    matches!(t.content, Content::Simple(_))
        && t.attributes.is_empty()
        && t.attr_wildcard.is_none()
        && derivations(schema, c).is_empty()
}

/// A complex type with no attributes, no content and no derived types.
fn schema_empty(schema: &Schema, c: ComplexId) -> bool {
    let t = &schema.complex[c];
    matches!(t.content, Content::Empty)
        && t.attributes.is_empty()
        && t.attr_wildcard.is_none()
        && derivations(schema, c).is_empty()
}

/// Named complex types derived from `base` (by any steps) that xsi:type may name,
/// minus those `block` (of the element or the type) forbids.
fn derived(schema: &Schema, base: ComplexId, element_block: &[String]) -> Vec<ComplexId> {
    let type_block = &schema.complex[base].block;
    derivations(schema, base)
        .into_iter()
        .filter(|(_, methods)| {
            !methods.iter().any(|m| {
                let name = if *m == Derivation::Extension { "extension" } else { "restriction" };
                type_block.iter().chain(element_block).any(|b| b == name)
            })
        })
        .map(|(t, _)| t)
        .collect()
}

/// Every named complex type derived from `base` (by any steps, whatever `block` says),
/// with the derivation methods on the way, in the order the schema declares them.
fn derivations(schema: &Schema, base: ComplexId) -> Vec<(ComplexId, Vec<Derivation>)> {
    // Every type derives from xs:anyType; its elements are kept as XML text instead.
    if base == schema.any_type {
        return vec![];
    }
    let mut out = vec![];
    for (i, t) in schema.complex.iter().enumerate() {
        if i == base || t.name.is_none() || i == schema.any_type {
            continue;
        }
        // Walk up from i to base, noting the derivation methods used.
        let mut methods = vec![];
        let mut cur = i;
        while let Some(TypeRef::Complex(b)) = schema.complex[cur].base {
            methods.push(schema.complex[cur].derivation);
            if b == base {
                out.push((i, methods));
                break;
            }
            if b == cur || b == schema.any_type {
                break;
            }
            cur = b;
        }
    }
    out.sort_by_key(|(i, _)| schema.complex[*i].order);
    out
}

fn collect_elements(schema: &Schema, p: &crate::xsd::model::Particle, out: &mut Vec<ElemId>) {
    use crate::xsd::model::Term;
    match &p.term {
        Term::Element(e) => {
            out.push(*e);
            out.extend(schema.substitutes.get(e).cloned().unwrap_or_default());
        }
        Term::Wildcard(_) => {}
        Term::Sequence(ps) | Term::Choice(ps) | Term::All(ps) => {
            for c in ps {
                collect_elements(schema, c, out);
            }
        }
    }
}

fn collect_wildcard_ns(p: &crate::xsd::model::Particle, out: &mut BTreeSet<String>) {
    use crate::xsd::model::Term;
    match &p.term {
        Term::Wildcard(w) => wildcard_ns(&w.ns, out),
        Term::Sequence(ps) | Term::Choice(ps) | Term::All(ps) => {
            for c in ps {
                collect_wildcard_ns(c, out);
            }
        }
        Term::Element(_) => {}
    }
}

fn wildcard_ns(ns: &NsConstraint, out: &mut BTreeSet<String>) {
    match ns {
        NsConstraint::Set(s) => out.extend(s.iter().flatten().cloned()),
        NsConstraint::Not(t) => out.extend(t.clone()),
        NsConstraint::Any => {}
    }
}

fn describe_wildcard(ns: &NsConstraint) -> String {
    match ns {
        NsConstraint::Any => "an element of any namespace".into(),
        NsConstraint::Not(Some(t)) => format!("an element of a namespace other than {t}"),
        NsConstraint::Not(None) => "an element in a namespace".into(),
        NsConstraint::Set(s) => {
            let names: Vec<String> = s.iter().map(|n| n.clone().unwrap_or_else(|| "no namespace".into())).collect();
            format!("an element of {}", names.join(" or "))
        }
    }
}

/// A type's name for generated identifiers (an anonymous type: its element's name).
fn type_name_for_fn(schema: &Schema, t: ComplexId, hint: &str) -> String {
    match &schema.complex[t].name {
        Some(n) => n.local.clone(),
        None => hint.to_string(),
    }
}

/// A table name BigQuery accepts.
fn table_name(n: &str) -> String {
    let s: String = n.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.is_empty() { "table".into() } else { s }
}

/// `/a/b`: the local names of a path.
pub fn show(p: &[QName]) -> String {
    p.iter().map(|q| format!("/{}", q.local)).collect()
}

impl Mapping {
    /// The namespaces the mapping names (so a document in them gets a namespace id).
    fn xsd_namespaces(&self) -> Vec<String> {
        let mut v = vec![];
        for t in &self.tables {
            for r in &t.rows {
                v.extend(r.elements.iter().filter_map(|q| q.ns.clone()));
            }
        }
        v
    }
}
