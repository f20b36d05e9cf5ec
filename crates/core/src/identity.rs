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

use crate::bytes::same_bytes;
use crate::error::{DecodeError, Rule};
/// Key tables are looked up once per selected node: a fast hasher (the values come from
/// the documents, but a table lives only as long as one file's scope).
type HashSet<T> = std::collections::HashSet<T, ahash::RandomState>;

/// A name test of a path step: namespace id and local name (None: `*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Test {
    pub ns: Option<u16>,
    pub local: Option<&'static str>,
}

impl Test {
    #[inline]
    fn matches(&self, ns: u16, local: &[u8]) -> bool {
        self.ns.is_none_or(|n| n == ns) && self.local.is_none_or(|l| same_bytes(l.as_bytes(), local))
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
    /// Does the path of the open elements below depth `from` (the context node's) match?
    fn matches<E: Elements + ?Sized>(&self, path: &E, from: usize) -> bool {
        let (n, len) = (self.steps.len(), path.depth());
        let rel = len.saturating_sub(from);
        if rel < n || (!self.descendants && rel != n) {
            return false;
        }
        // The last step first: it is the element that starts, the step most paths miss on.
        let base = len - n;
        let mut k = n;
        while k > 0 {
            k -= 1;
            let (ns, l) = path.get(base + k);
            if !self.steps[k].matches(ns, l) {
                return false;
            }
        }
        true
    }
}

/// The attributes of an element that starts, as identity fields read them:
/// `attr(ns, local, each)` calls `each` with the value of each attribute of that name
/// (`u16::MAX`: any namespace; None: any local name).
pub type Attributes<'a> = dyn Fn(u16, Option<&str>, &mut dyn FnMut(&str)) + 'a;

/// The names of the open elements, the root first: (namespace id, local name).
pub trait Elements {
    /// How many elements are open.
    fn depth(&self) -> usize;
    fn get(&self, i: usize) -> (u16, &[u8]);
    /// The last element's parent, as a number no other element of the document has
    /// (None: not known; then nothing is kept for its siblings).
    fn parent(&self) -> Option<u64> {
        None
    }
}

impl Elements for Vec<(u16, &[u8])> {
    fn depth(&self) -> usize {
        <[_]>::len(self)
    }
    fn get(&self, i: usize) -> (u16, &[u8]) {
        self[i]
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
    /// Appends the canonical form of `v` to `out` (false: not a value of the type; the
    /// decoder reports that itself).
    fn write(self, v: &str, out: &mut String) -> bool {
        use std::fmt::Write;
        let t = || v.trim_matches([' ', '\t', '\n', '\r']);
        match self {
            Canon::Text { collapse: false } => {
                out.push('s');
                out.push_str(v);
            }
            // Most values have no whitespace to collapse.
            Canon::Text { collapse: true } if !v.bytes().any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) => {
                out.push('s');
                out.push_str(v);
            }
            Canon::Text { collapse: true } => {
                out.push('s');
                // XML whitespace only (a no-break space is not collapsed).
                for (k, word) in t().split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()).enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    out.push_str(word);
                }
            }
            Canon::Decimal => match crate::value::decimal(t()) {
                Ok(d) => {
                    let _ = write!(out, "d{d}");
                }
                Err(_) => return false,
            },
            Canon::Float => match crate::value::double(t()) {
                Ok(f) => {
                    let _ = write!(out, "f{f}");
                }
                Err(_) => return false,
            },
            Canon::Boolean => match crate::value::boolean(t()) {
                Ok(b) => {
                    let _ = write!(out, "b{b}");
                }
                Err(_) => return false,
            },
            Canon::Temporal => {
                let t = t();
                let parsed = crate::value::date_time(t)
                    .or_else(|_| crate::value::date(t))
                    .or_else(|_| crate::value::time(t))
                    .or_else(|_| crate::value::g_year_month(t))
                    .or_else(|_| crate::value::g_year(t))
                    .or_else(|_| crate::value::g_month_day(t))
                    .or_else(|_| crate::value::g_month(t))
                    .or_else(|_| crate::value::g_day(t));
                let Ok(parsed) = parsed else { return false };
                let zoned = parsed.tz_minutes.is_some();
                // Zoned values compare as instants; unzoned ones as written.
                let _ = match parsed.to_timestamp_micros(0) {
                    Ok(m) => write!(out, "t{zoned}{m}"),
                    Err(_) => write!(out, "t{zoned}{t}"),
                };
            }
        }
        true
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
#[derive(Debug, Default)]
struct Selected {
    /// Index in [`Identity::scopes`].
    scope: usize,
    /// Index in the scope's constraints.
    constraint: usize,
    depth: usize,
    /// The canonical value of each field (when `filled`). Selected nodes are reused:
    /// these strings keep their capacity from one node to the next.
    values: Vec<String>,
    filled: Vec<bool>,
    /// Field values that come with the text of the element at this depth.
    pending: Vec<(usize, usize)>,
    offset: u64,
}

/// One thing an element's start does to the identity-constraint state.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// A scope keeps track of it as a child (`unless_absent`).
    Watch { scope: usize },
    /// A constraint of a scope selects it: a new selected node.
    Select { scope: usize, constraint: usize },
    /// Its attribute `test` is a field value of selected node `sel` (an index in
    /// [`Identity::selected`]).
    Attribute { sel: usize, field: usize, test: Test },
    /// Its text will be a field value of selected node `sel`.
    Pending { sel: usize, field: usize },
}

/// The start of an element named `(ns, local)` among the children of element `parent`.
#[derive(Debug, Default)]
struct Plan {
    parent: u64,
    ns: u16,
    local: Vec<u8>,
    plan: Vec<Step>,
}

/// The plans of the last few names started among some element's children.
#[derive(Debug, Default)]
struct Plans {
    entries: Vec<Plan>,
    /// The entry the next new plan takes once all are used.
    next: usize,
    /// A plan not kept (no parent).
    unkept: Vec<Step>,
}

impl Plans {
    const KEPT: usize = 4;

    fn find(&self, parent: u64, ns: u16, local: &[u8]) -> Option<usize> {
        self.entries.iter().position(|e| e.parent == parent && e.ns == ns && e.local == local)
    }

    /// An entry for a new plan (emptied), replacing the oldest once all are used.
    fn claim(&mut self, parent: u64, ns: u16, local: &[u8]) -> usize {
        let k = if self.entries.len() < Self::KEPT {
            self.entries.push(Plan::default());
            self.entries.len() - 1
        } else {
            let k = self.next;
            self.next = (k + 1) % Self::KEPT;
            k
        };
        let e = &mut self.entries[k];
        e.parent = parent;
        e.ns = ns;
        e.local.clear();
        e.local.extend_from_slice(local);
        e.plan.clear();
        k
    }
}

/// A key tuple as a key table holds it: up to 24 bytes in place (one memory access per
/// lookup, where a `String` needs two), longer ones on the heap. With smallvec's `union`
/// feature an entry is 32 bytes: two to a cache line (40 without it: many span two).
type Key = smallvec::SmallVec<[u8; 24]>;

#[derive(Debug, Default)]
struct Table {
    keys: Keys,
    refs: Vec<(Tuple, u64)>,
}

/// The key or unique tuples of one constraint in one scope. Looked up once per node a
/// keyref selects, at random: most lookups wait on memory, so the stitched decode asks
/// for entries ahead of their lookups ([`Keys::prefetch`]), which needs the hash
/// table's own API.
#[derive(Debug, Default)]
struct Keys {
    table: hashbrown::HashTable<Key>,
    hasher: ahash::RandomState,
}

impl Keys {
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn contains(&self, key: &[u8]) -> bool {
        self.table.find(self.hash(key), |k| k.as_slice() == key).is_some()
    }

    /// Adds `key`; false when it was there.
    fn insert(&mut self, key: &[u8]) -> bool {
        let Keys { table, hasher } = self;
        let entry = table.entry(hasher.hash_one(key), |k| k.as_slice() == key, |k| hasher.hash_one(k.as_slice()));
        match entry {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Key::from_slice(key));
                true
            }
        }
    }

    /// Brings the entry `key` would be in (if any) into the cache for a lookup soon after.
    fn prefetch(&self, key: &[u8]) {
        self.table.find(self.hash(key), |k| {
            crate::bytes::prefetch(k);
            false
        });
    }

    fn iter(&self) -> impl Iterator<Item = &Key> {
        self.table.iter()
    }
}

#[derive(Debug)]
struct Scope {
    depth: usize,
    /// How far below the scope element a selector may select (usize::MAX: `.//`).
    reach: usize,
    /// The name tests of the last steps of its selectors and fields, each with the
    /// depths below the scope element where it can match ([`depth_bit`]): an element
    /// no test matches at its depth is neither selected nor a field.
    names: Vec<(Test, u64)>,
    /// The depths of all of `names`: most elements are rejected by their depth...
    depths: u64,
    /// The depths of the last steps of its selectors alone.
    selector_depths: u64,
    /// ...or their name's length: bit `len % 64` is set for the length of each name in
    /// `names` (all bits for a wildcard).
    lengths: u64,
    /// Children of the scope element some keyref depends on (`unless_absent`).
    watched: Vec<(u16, &'static str)>,
    constraints: Vec<u16>,
    tables: Vec<Table>,
    /// Children of the scope element that occurred (for `unless_absent`).
    children: Vec<(u16, Vec<u8>)>,
}

impl Scope {
    /// Is `(ns, local)` at `depth` the last step of one of this scope's selectors or
    /// fields, at a depth where that step can be?
    #[inline]
    fn names_match(&self, depth: usize, ns: u16, local: &[u8]) -> bool {
        let Some(rel) = depth.checked_sub(self.depth) else { return false };
        let d = depth_bit(rel);
        self.depths & d != 0
            && self.lengths & length_bit(local.len()) != 0
            && self.names.iter().any(|(t, at)| at & d != 0 && t.matches(ns, local))
    }

    /// Its child `(ns, local)`, which some keyref depends on, occurred.
    fn saw(&mut self, ns: u16, local: &[u8]) {
        if !self.children.iter().any(|(n, l)| *n == ns && l == local) {
            self.children.push((ns, local.to_vec()));
        }
    }

    /// Is `(ns, local)` at `depth` a child of the scope element that some keyref depends on?
    #[inline]
    fn watches(&self, depth: usize, ns: u16, local: &[u8]) -> bool {
        depth == self.depth + 1 && self.watched.iter().any(|&(n, l)| n == ns && same_bytes(l.as_bytes(), local))
    }

    /// The keys of this scope's constraint `target`, which keyrefs refer to.
    fn keys_of(&self, target: u16) -> Option<&Keys> {
        self.constraints.iter().position(|&x| x == target).map(|k| &self.tables[k].keys)
    }

    /// Asks for the key table entry a keyref tuple of constraint `i` will be looked up in.
    fn prefetch(&self, all: &[Constraint], i: usize, tuple: &str) {
        if let Kind::KeyRef(target) = all[self.constraints[i] as usize].kind
            && let Some(keys) = self.keys_of(target)
        {
            keys.prefetch(tuple.as_bytes());
        }
    }

    /// A tuple of this scope's constraint `i`: a key or unique tuple must be new; a
    /// keyref tuple a key of this scope already has is settled (keys are never removed),
    /// any other waits for the scope's end.
    fn add(&mut self, all: &[Constraint], i: usize, tuple: &str, offset: u64) -> Result<(), DecodeError> {
        let con = &all[self.constraints[i] as usize];
        if let Kind::KeyRef(target) = con.kind {
            let settled = self.keys_of(target).is_some_and(|k| k.contains(tuple.as_bytes()));
            if !settled {
                self.tables[i].refs.push((tuple.to_string(), offset));
            }
            return Ok(());
        }
        if !self.tables[i].keys.insert(tuple.as_bytes()) {
            return Err(duplicate(con, tuple, offset));
        }
        Ok(())
    }
}

/// A key, unique or keyref tuple: the canonical values of its fields (each prefixed
/// with its kind), joined by NUL, which no XML value holds. One string: one allocation
/// per tuple, one pointer to follow per comparison.
pub type Tuple = String;

/// Tuples collected by a segment worker, to be merged by the stitched decode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    /// (scope depth, constraint, end of the tuple in `text`, offset): a tuple starts
    /// where the one before it ends.
    tuples: Vec<(usize, u16, usize, u64)>,
    /// The tuples one after the other: one buffer, not an allocation per tuple (a worker
    /// collects one for every row a keyref or key selects).
    text: String,
    pub ids: Vec<String>,
    pub idrefs: Vec<(String, u64)>,
}

impl Collected {
    /// (scope depth, constraint, tuple, offset), in the order found.
    fn tuples(&self) -> impl Iterator<Item = (usize, u16, &str, u64)> {
        let starts = std::iter::once(0).chain(self.tuples.iter().map(|t| t.2));
        self.tuples
            .iter()
            .zip(starts)
            .map(|(&(depth, c, end, offset), start)| (depth, c, &self.text[start..end], offset))
    }
}

/// The identity-constraint state of one document.
#[derive(Debug, Default)]
pub struct Identity {
    constraints: &'static [Constraint],
    scopes: Vec<Scope>,
    /// The selected nodes that have not ended are the first `live`, the deepest last;
    /// the others are done with, kept for reuse.
    selected: Vec<Selected>,
    live: usize,
    /// What the starts of elements do, kept for their siblings.
    plans: Plans,
    /// The tuple being checked (reused).
    tuple: Tuple,
    /// Field values waiting for an element's text, over all selected nodes.
    pending: usize,
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

/// Where a tuple a worker collected for the scope at `depth` and constraint `con` goes:
/// the scope's index and the constraint's index in it.
fn place(scopes: &[Scope], depth: usize, con: u16) -> Result<(usize, usize), &'static str> {
    let s = scopes.iter().position(|s| s.depth == depth).ok_or("a worker's identity scope is not open here")?;
    let i = scopes[s].constraints.iter().position(|&x| x == con);
    Ok((s, i.ok_or("a worker's identity constraint is not open here")?))
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

    /// Could the element `(ns, local)` at `depth` matter to an open scope: selected, a
    /// field, or a child a scope keeps track of? (False: [`Identity::start`] has nothing
    /// to do.)
    #[inline]
    pub fn notices(&self, depth: usize, ns: u16, local: &[u8]) -> bool {
        self.scopes.iter().any(|s| s.watches(depth, ns, local) || s.names_match(depth, ns, local))
    }

    /// Opens the scope of the element at `depth` (its start tag was reported already).
    pub fn open_scope(&mut self, depth: usize, constraints: &[u16]) {
        let reach = constraints
            .iter()
            .flat_map(|&c| self.constraints[c as usize].selector)
            .map(|p| if p.descendants { usize::MAX } else { p.steps.len() })
            .max()
            .unwrap_or(0);
        let cons = || constraints.iter().map(|&c| &self.constraints[c as usize]);
        let mut names: Vec<(Test, u64)> = vec![];
        let mut add = |t: Option<&Test>, at: u64| {
            let Some(t) = t else { return };
            match names.iter_mut().find(|(n, _)| n == t) {
                Some((_, d)) => *d |= at,
                None => names.push((*t, at)),
            }
        };
        for con in cons() {
            // Where the selector's nodes are, then each field's below them.
            let selected = con.selector.iter().fold(0, |m, p| m | path_depths(p, 1));
            for p in con.selector {
                add(p.steps.last(), path_depths(p, 1));
            }
            for p in con.fields.iter().flat_map(|(paths, _)| paths.iter()) {
                add(p.steps.last(), path_depths(p, selected));
            }
        }
        let mut watched: Vec<(u16, &'static str)> = cons().filter_map(|c| c.unless_absent).collect();
        watched.dedup();
        let lengths = names.iter().fold(0, |m, (t, _)| m | t.local.map_or(u64::MAX, |l| length_bit(l.len())));
        let depths = names.iter().fold(0, |m, (_, d)| m | d);
        let selector_depths = cons().flat_map(|c| c.selector).fold(0, |m, p| m | path_depths(p, 1));
        self.scopes.push(Scope {
            depth,
            reach,
            names,
            depths,
            selector_depths,
            lengths,
            watched,
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
    /// open elements (root first); `attr` gives the element's attribute values.
    ///
    /// What an element's start does depends only on its name and the elements open
    /// around it, so it is worked out once per name among the children of one element
    /// ([`Elements::parent`]) and done again for each sibling of that name: rows, the
    /// elements most often selected, are siblings.
    pub fn start<E: Elements + ?Sized>(
        &mut self,
        path: &E,
        attr: &Attributes<'_>,
        offset: u64,
    ) -> Result<(), DecodeError> {
        let depth = path.depth();
        if depth == 0 {
            return Ok(());
        }
        let (ns, local) = path.get(depth - 1);
        let (k, plan) = self.take_plan(path, depth, ns, local);
        let r = self.execute(&plan, depth, ns, local, attr, offset);
        self.give_back(k, plan);
        r
    }

    /// The plan of the start of the last element of `path`, `(ns, local)` at `depth`,
    /// taken out of the entry it has (if kept): [`Identity::give_back`] returns it.
    fn take_plan<E: Elements + ?Sized>(
        &mut self,
        path: &E,
        depth: usize,
        ns: u16,
        local: &[u8],
    ) -> (Option<usize>, Vec<Step>) {
        let Some(parent) = path.parent() else {
            let mut plan = std::mem::take(&mut self.plans.unkept);
            plan.clear();
            self.plan_start(path, depth, ns, local, &mut plan);
            return (None, plan);
        };
        let k = match self.plans.find(parent, ns, local) {
            Some(k) => k,
            None => {
                let k = self.plans.claim(parent, ns, local);
                let mut plan = std::mem::take(&mut self.plans.entries[k].plan);
                self.plan_start(path, depth, ns, local, &mut plan);
                self.plans.entries[k].plan = plan;
                k
            }
        };
        (Some(k), std::mem::take(&mut self.plans.entries[k].plan))
    }

    /// Puts a plan [`Identity::take_plan`] took back where it was kept.
    fn give_back(&mut self, k: Option<usize>, plan: Vec<Step>) {
        match k {
            Some(k) => self.plans.entries[k].plan = plan,
            None => self.plans.unkept = plan,
        }
    }

    /// What the start of `(ns, local)` at `depth` (the last of `path`) does, in order:
    /// the scopes that keep track of it as a child, the constraints that select it, and
    /// the field values it gives selected nodes (the live ones, then the new ones).
    fn plan_start<E: Elements + ?Sized>(&self, path: &E, depth: usize, ns: u16, local: &[u8], plan: &mut Vec<Step>) {
        let mut named = false;
        for (si, scope) in self.scopes.iter().enumerate() {
            if scope.watches(depth, ns, local) {
                plan.push(Step::Watch { scope: si });
            }
            named |= scope.names_match(depth, ns, local);
        }
        if !named {
            return;
        }
        for (si, scope) in self.scopes.iter().enumerate() {
            if depth <= scope.depth
                || depth - scope.depth > scope.reach
                || scope.selector_depths & depth_bit(depth - scope.depth) == 0
            {
                continue;
            }
            for (ci, &c) in scope.constraints.iter().enumerate() {
                if self.constraints[c as usize].selector.iter().any(|p| p.matches(path, scope.depth)) {
                    plan.push(Step::Select { scope: si, constraint: ci });
                }
            }
        }
        for (sel, s) in self.selected[..self.live].iter().enumerate() {
            if depth >= s.depth {
                self.plan_fields(path, depth, (sel, s.scope, s.constraint, s.depth), plan);
            }
        }
        let mut sel = self.live;
        for k in 0..plan.len() {
            if let Step::Select { scope, constraint } = plan[k] {
                self.plan_fields(path, depth, (sel, scope, constraint, depth), plan);
                sel += 1;
            }
        }
    }

    /// The field values the element at `depth` gives selected node `sel` (of `scope`'s
    /// `constraint`, at depth `from`).
    fn plan_fields<E: Elements + ?Sized>(
        &self,
        path: &E,
        depth: usize,
        (sel, scope, constraint, from): (usize, usize, usize, usize),
        plan: &mut Vec<Step>,
    ) {
        debug_assert!(depth >= from);
        let con = &self.constraints[self.scopes[scope].constraints[constraint] as usize];
        for (field, (paths, _)) in con.fields.iter().enumerate() {
            for p in paths.iter().filter(|p| p.matches(path, from)) {
                plan.push(match p.attribute {
                    Some(test) => Step::Attribute { sel, field, test },
                    None => Step::Pending { sel, field },
                });
            }
        }
    }

    /// Does what [`Identity::plan_start`] worked out for an element that starts.
    fn execute(
        &mut self,
        plan: &[Step],
        depth: usize,
        ns: u16,
        local: &[u8],
        attr: &Attributes<'_>,
        offset: u64,
    ) -> Result<(), DecodeError> {
        for step in plan {
            match *step {
                Step::Watch { scope } => self.scopes[scope].saw(ns, local),
                Step::Select { scope, constraint } => {
                    let n = self.constraints[self.scopes[scope].constraints[constraint] as usize].fields.len();
                    if self.live == self.selected.len() {
                        self.selected.push(Selected::default());
                    }
                    let sel = &mut self.selected[self.live];
                    self.live += 1;
                    sel.scope = scope;
                    sel.constraint = constraint;
                    sel.depth = depth;
                    sel.offset = offset;
                    sel.values.resize_with(n, String::new);
                    sel.filled.clear();
                    sel.filled.resize(n, false);
                    sel.pending.clear();
                }
                Step::Attribute { sel, field, test } => {
                    let s = &mut self.selected[sel];
                    let con = &self.constraints[self.scopes[s.scope].constraints[s.constraint] as usize];
                    let canon = con.fields[field].1;
                    let mut r = Ok(());
                    attr(test.ns.unwrap_or(u16::MAX), test.local, &mut |v| {
                        if r.is_ok() {
                            r = set(s, field, canon, v, con.name, offset);
                        }
                    });
                    r?;
                }
                Step::Pending { sel, field } => {
                    self.selected[sel].pending.push((field, depth));
                    self.pending += 1;
                }
            }
        }
        Ok(())
    }

    /// An element without attributes that holds text alone started at `start` and ended
    /// at `end` (`path` ends with it): what [`Identity::start`] and [`Identity::end`]
    /// would have done, in one step where no selector can select it.
    pub fn leaf<E: Elements + ?Sized>(
        &mut self,
        path: &E,
        text: &str,
        start: u64,
        end: u64,
    ) -> Result<(), DecodeError> {
        let depth = path.depth();
        if depth == 0 {
            return Ok(());
        }
        // Not planned as starts are: a leaf's parent is most often a row, whose leaves
        // have no siblings of their name.
        let (ns, local) = path.get(depth - 1);
        let (mut named, mut selectable) = (false, false);
        for scope in &mut self.scopes {
            if scope.watches(depth, ns, local) {
                scope.saw(ns, local);
            }
            if scope.names_match(depth, ns, local) {
                named = true;
                selectable |= scope.selector_depths & depth_bit(depth - scope.depth) != 0;
            }
        }
        if !named {
            return Ok(());
        }
        if selectable {
            self.start(path, &|_, _, _| {}, start)?;
            return if self.waits_for(depth) { self.end(depth, Some(text), end) } else { Ok(()) };
        }
        // A field of selected nodes (its ancestors) at most: its text is the value, set
        // in the order their end would have set it.
        for sel in &mut self.selected[..self.live] {
            let con = &self.constraints[self.scopes[sel.scope].constraints[sel.constraint] as usize];
            let from = sel.depth;
            for (fi, (paths, canon)) in con.fields.iter().enumerate() {
                for _ in paths.iter().filter(|p| p.attribute.is_none() && p.matches(path, from)) {
                    set(sel, fi, *canon, text, con.name, end)?;
                }
            }
        }
        Ok(())
    }

    /// Does anything wait for the end of the element at `depth`? (Selected nodes are
    /// ancestors-or-self of it, the deepest last.)
    #[inline]
    pub fn waits_for(&self, depth: usize) -> bool {
        self.pending > 0
            || self.live > 0 && self.selected[self.live - 1].depth == depth
            || self.scopes.last().is_some_and(|s| s.depth == depth)
    }

    /// The element at `depth` ended; `text` is its text when it had simple content.
    pub fn end(&mut self, depth: usize, text: Option<&str>, offset: u64) -> Result<(), DecodeError> {
        if !self.waits_for(depth) {
            return Ok(());
        }
        // Field values from this element's text.
        for sel in &mut self.selected[..self.live] {
            if sel.pending.is_empty() {
                continue;
            }
            let scope = &self.scopes[sel.scope];
            let con = &self.constraints[scope.constraints[sel.constraint] as usize];
            let mut k = 0;
            while k < sel.pending.len() {
                if sel.pending[k].1 == depth {
                    let (fi, _) = sel.pending.remove(k);
                    self.pending -= 1;
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
        // Selected nodes that end here: the last ones (those below them ended before).
        let live = &self.selected[..self.live];
        let first = live.iter().rposition(|s| s.depth != depth).map_or(0, |k| k + 1);
        for k in first..self.live {
            self.pending -= self.selected[k].pending.len();
            if let Err(e) = self.check(k) {
                self.live = k;
                return Err(e);
            }
        }
        self.live = first;
        // The scope that ends here.
        if self.scopes.last().is_some_and(|s| s.depth == depth) {
            let scope = self.scopes.pop().expect("checked");
            self.close(scope)?;
        }
        Ok(())
    }

    /// The tuple of the selected node `k`, which ended.
    fn check(&mut self, k: usize) -> Result<(), DecodeError> {
        let sel = &self.selected[k];
        let si = sel.scope;
        let scope = &mut self.scopes[si];
        let c = scope.constraints[sel.constraint];
        let con = &self.constraints[c as usize];
        if sel.filled.iter().any(|f| !f) {
            if con.kind == Kind::Key {
                let msg = format!("a node selected by xs:key {} lacks a value for one of its fields", con.name);
                return Err(error(Rule::KeyMissing, msg, sel.offset));
            }
            return Ok(()); // unique and keyref ignore incomplete tuples
        }
        let tuple = |out: &mut String| {
            for (k, v) in sel.values.iter().enumerate() {
                if k > 0 {
                    out.push('\0');
                }
                out.push_str(v);
            }
        };
        if let Some(col) = &mut self.collecting
            && self.outer.contains(&si)
        {
            tuple(&mut col.text);
            col.tuples.push((scope.depth, c, col.text.len(), sel.offset));
            return Ok(());
        }
        self.tuple.clear();
        tuple(&mut self.tuple);
        scope.add(self.constraints, sel.constraint, &self.tuple, sel.offset)
    }

    /// Merges tuples a worker collected (the stitched decode, at the run's place).
    pub fn merge(&mut self, c: Collected) -> Result<(), DecodeError> {
        // The key table entries of the tuples a few ahead are asked for first: their
        // lookups then find them in the cache.
        const AHEAD: usize = 8;
        let mut ahead = c.tuples();
        let prefetch = |scopes: &[Scope], (depth, con, tuple, _): (usize, u16, &str, u64)| {
            if let Ok((s, i)) = place(scopes, depth, con) {
                scopes[s].prefetch(self.constraints, i, tuple);
            }
        };
        for t in ahead.by_ref().take(AHEAD) {
            prefetch(&self.scopes, t);
        }
        for (depth, con, tuple, offset) in c.tuples() {
            if let Some(t) = ahead.next() {
                prefetch(&self.scopes, t);
            }
            let (s, i) = place(&self.scopes, depth, con).map_err(|m| error(Rule::Resync, m.into(), offset))?;
            self.scopes[s].add(self.constraints, i, tuple, offset)?;
        }
        drop(ahead);
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

    fn close(&mut self, scope: Scope) -> Result<(), DecodeError> {
        for (i, &c) in scope.constraints.iter().enumerate() {
            let con = &self.constraints[c as usize];
            let Kind::KeyRef(target) = con.kind else { continue };
            if let Some((ns, l)) = con.unless_absent
                && !scope.children.iter().any(|(n, x)| *n == ns && x.as_slice() == l.as_bytes())
            {
                continue;
            }
            let keys = scope.keys_of(target);
            for (tuple, at) in &scope.tables[i].refs {
                if !keys.is_some_and(|k| k.contains(tuple.as_bytes())) {
                    let shown = shown(tuple);
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
                for t in scope.tables[i].keys.iter() {
                    parent.tables[k].keys.insert(t);
                }
            }
        }
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
    if sel.filled[fi] {
        let msg = format!("a field of identity constraint {name} selects more than one value");
        return Err(error(Rule::InvalidValue, msg, offset));
    }
    // A value that is not of its type is reported by the decoder; it never matches.
    let out = &mut sel.values[fi];
    out.clear();
    if !canon.write(v, out) {
        out.clear();
        out.push('?');
        out.push_str(v);
    }
    sel.filled[fi] = true;
    Ok(())
}

/// The bit of a set of depths below a scope element for depth `rel` (1: a child of
/// it); the last bit stands for that depth and all below it.
#[inline]
fn depth_bit(rel: usize) -> u64 {
    1 << rel.min(63)
}

/// The depths where `p`'s last step can be, below context nodes at `from` (a set of
/// depths, as [`depth_bit`] makes them).
fn path_depths(p: &Path, from: u64) -> u64 {
    let n = p.steps.len();
    let mut at = 0;
    for rel in (0..64).filter(|&r| from & (1 << r) != 0) {
        // A context node at the last depth may be deeper still: so may the step.
        let deeper = p.descendants || rel == 63;
        let first = (rel + n).min(63);
        at |= if deeper { u64::MAX << first } else { 1 << first };
    }
    at
}

/// The bit of [`Scope::lengths`] for a name of `len` bytes.
#[inline]
fn length_bit(len: usize) -> u64 {
    1 << (len % 64)
}

/// A tuple's values as written in the documents (without their kind prefixes).
fn shown(tuple: &str) -> Vec<&str> {
    tuple.split('\0').map(|v| v.get(1..).unwrap_or(v)).collect()
}

fn duplicate(con: &Constraint, tuple: &str, offset: u64) -> DecodeError {
    let shown = shown(tuple);
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
        run_with(&CONS, events, false)
    }

    /// The open elements with the serials a decoder gives them: their starts are
    /// planned once per name among one element's children.
    struct Numbered<'a> {
        names: Vec<(u16, &'a [u8])>,
        serials: Vec<u64>,
    }

    impl Elements for Numbered<'_> {
        fn depth(&self) -> usize {
            self.names.len()
        }
        fn get(&self, i: usize) -> (u16, &[u8]) {
            self.names[i]
        }
        fn parent(&self) -> Option<u64> {
            self.serials.len().checked_sub(2).map(|k| self.serials[k])
        }
    }

    /// ("+Name", attribute ID) starts an element; ("-", text) ends one. The scope of
    /// every constraint of `cons` is the root. `numbered`: the elements have serials.
    fn run_with(
        cons: &'static [Constraint],
        events: &[(&str, Option<&str>)],
        numbered: bool,
    ) -> Result<(), DecodeError> {
        run_leaves(cons, events, numbered, false)
    }

    /// `leaves`: an element without attributes whose end comes next with text goes to
    /// [`Identity::leaf`] (as `next_leaf` reads it).
    fn run_leaves(
        cons: &'static [Constraint],
        events: &[(&str, Option<&str>)],
        numbered: bool,
        leaves: bool,
    ) -> Result<(), DecodeError> {
        let mut id = Identity::new(cons);
        let mut path = Numbered { names: vec![], serials: vec![] };
        let all: Vec<u16> = (0..cons.len() as u16).collect();
        let mut skip_end = false;
        for (i, (e, v)) in events.iter().enumerate() {
            if std::mem::take(&mut skip_end) {
                continue;
            }
            if let Some(name) = e.strip_prefix('+') {
                path.names.push((0, name.as_bytes()));
                path.serials.push(i as u64);
                let each_id = |_: u16, l: Option<&str>, each: &mut dyn FnMut(&str)| {
                    if let (Some("ID"), Some(v)) = (l, v) {
                        each(v);
                    }
                };
                let leaf = match events.get(i + 1) {
                    Some(("-", Some(text))) if leaves && v.is_none() && path.names.len() > 1 => Some(*text),
                    _ => None,
                };
                if let Some(text) = leaf {
                    id.leaf(&path, text, i as u64, i as u64 + 1)?;
                    path.names.pop();
                    path.serials.pop();
                    skip_end = true;
                    continue;
                }
                if numbered {
                    id.start(&path, &each_id, i as u64)?;
                } else {
                    id.start(&path.names, &each_id, i as u64)?;
                }
                if path.names.len() == 1 {
                    id.open_scope(1, &all);
                }
            } else {
                id.end(path.names.len(), *v, i as u64)?;
                path.names.pop();
                path.serials.pop();
            }
        }
        id.finish()
    }

    #[test]
    fn planned_starts_do_what_the_unplanned_ones_do() {
        const T_X: Test = Test { ns: Some(0), local: Some("X") };
        // Selectors end at depths 2 and 4 below the root: leaves at 3 and 5 are read in
        // one step, those at 4 take the general path.
        static MORE: [Constraint; 4] = [
            Constraint {
                name: "CustomerKey",
                kind: Kind::Key,
                selector: &[Path { descendants: false, steps: &[T_CUSTOMER], attribute: None }],
                fields: &[(&[Path { descendants: false, steps: &[], attribute: Some(T_ID) }], Canon::Decimal)],
                unless_absent: None,
            },
            Constraint {
                name: "OrderCustomer",
                kind: Kind::KeyRef(0),
                selector: &[Path { descendants: false, steps: &[T_ORDER], attribute: None }],
                fields: &[(&[Path { descendants: false, steps: &[T_ID], attribute: None }], Canon::Decimal)],
                unless_absent: None,
            },
            Constraint {
                name: "XXOrder",
                kind: Kind::Unique,
                selector: &[Path { descendants: false, steps: &[T_X, T_X, T_ORDER], attribute: None }],
                fields: &[
                    (&[Path { descendants: false, steps: &[T_ID], attribute: None }], Canon::Text { collapse: true }),
                    (&[Path { descendants: false, steps: &[], attribute: Some(T_ID) }], Canon::Decimal),
                ],
                unless_absent: None,
            },
            Constraint {
                name: "XKey",
                kind: Kind::Unique,
                selector: &[Path { descendants: false, steps: &[T_X], attribute: None }],
                fields: &[(&[Path { descendants: false, steps: &[T_X, T_ID], attribute: None }], Canon::Decimal)],
                unless_absent: None,
            },
        ];
        const NAMES: [&str; 4] = ["Customer", "Order", "ID", "X"];
        const VALUES: [&str; 5] = ["1", "2", " 02 ", "3", "x"];
        fn element(rng: &mut crate::value::test_util::Rng, depth: usize, out: &mut Vec<(String, Option<String>)>) {
            let name = NAMES[rng.below(NAMES.len())];
            let attr = (rng.below(3) > 0).then(|| VALUES[rng.below(VALUES.len())].to_string());
            out.push((format!("+{name}"), attr));
            let children = if depth < 4 { rng.below(4) } else { 0 };
            for _ in 0..children {
                element(rng, depth + 1, out);
            }
            let text = (children == 0 && rng.below(4) > 0).then(|| VALUES[rng.below(VALUES.len())].to_string());
            out.push(("-".to_string(), text));
        }
        let mut rng = crate::value::test_util::Rng(0x243f_6a88_85a3_08d3);
        let (mut documents, mut errors) = (0, std::collections::BTreeMap::<String, usize>::new());
        for _ in 0..3000 {
            let mut events = vec![("+R".to_string(), None)];
            for _ in 0..rng.below(6) {
                element(&mut rng, 2, &mut events);
            }
            events.push(("-".to_string(), None));
            let events: Vec<(&str, Option<&str>)> = events.iter().map(|(e, v)| (e.as_str(), v.as_deref())).collect();
            let planned = run_with(&MORE, &events, true);
            let unplanned = run_with(&MORE, &events, false);
            assert_eq!(planned, unplanned, "{events:?}");
            assert_eq!(run_leaves(&MORE, &events, true, true), unplanned, "leaves in one step: {events:?}");
            documents += 1;
            let rule = planned.map_or_else(|e| format!("{:?}", e.rule), |()| "valid".into());
            *errors.entry(rule).or_default() += 1;
        }
        assert_eq!(documents, 3000);
        assert_eq!(
            format!("{errors:?}"),
            r#"{"InvalidValue": 455, "KeyDuplicate": 54, "KeyMissing": 492, "Keyref": 54, "valid": 1945}"#
        );
    }

    #[test]
    fn tokens_collapse_xml_whitespace_only() {
        let canon = |v: &str| {
            let mut out = String::new();
            assert!(Canon::Text { collapse: true }.write(v, &mut out));
            out
        };
        assert_eq!(canon("ab"), "sab");
        assert_eq!(canon(" a \t b\r\n"), "sa b");
        // A no-break space is not XML whitespace: kept, with or without spaces beside it.
        assert_eq!(canon("a\u{A0}b"), "sa\u{A0}b");
        assert_eq!(canon("a\u{A0} b "), "sa\u{A0} b");
    }

    #[test]
    fn a_key_entry_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Key>(), 32);
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
