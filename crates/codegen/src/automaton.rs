//! Content models compiled to automata. A complex type's particle tree becomes a
//! regular expression over its symbols (element names, wildcards), occurrence bounds
//! unrolled; its Glushkov automaton is made deterministic by subset construction,
//! which also checks the Unique Particle Attribution constraint (two particles never
//! compete for one element). `xs:all` becomes a set of members instead.

use crate::error::{Error, Result};
use crate::xsd::model::{ElemId, Particle, QName, Schema, Term, Wildcard};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Occurrence bounds are unrolled up to this many copies.
const UNROLL: u32 = 64;
/// Automata larger than this are refused.
const MAX_STATES: usize = 20_000;

/// A symbol of a content model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// An element name and the declaration it stands for.
    Element {
        name: QName,
        decl: ElemId,
    },
    Wildcard(Wildcard),
}

/// A compiled content model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Automaton {
    Dfa {
        /// Per state: (edges (symbol, next state), accepting).
        states: Vec<(Vec<(u16, u16)>, bool)>,
    },
    All {
        /// Per symbol: its member.
        member_of: Vec<u8>,
        required: Vec<bool>,
        optional: bool,
    },
}

/// A content model: its symbols and automaton, and what each symbol can do.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub symbols: Vec<Symbol>,
    pub automaton: Automaton,
    /// Per symbol: can it occur more than once in one content?
    pub repeated: Vec<bool>,
    /// Per symbol: can a valid content lack it?
    pub optional: Vec<bool>,
}

/// A particle tree with leaves numbered (copies made by unrolling share the number).
enum Node {
    Leaf { particle: usize, symbols: Vec<u16>, min: u32, max: Option<u32> },
    Seq(Vec<Node>, u32, Option<u32>),
    Alt(Vec<Node>, u32, Option<u32>),
}

/// A regular expression over positions.
enum Re {
    Empty,
    Pos(usize),
    Seq(Vec<Re>),
    Alt(Vec<Re>),
    Star(Box<Re>),
    Opt(Box<Re>),
}

struct Builder<'a> {
    schema: &'a Schema,
    symbols: Vec<Symbol>,
    /// Per position: (particle, symbols).
    positions: Vec<(usize, Vec<u16>)>,
    particles: usize,
    relaxed: &'a BTreeSet<QName>,
    context: &'a str,
}

impl Builder<'_> {
    fn symbol(&mut self, s: Symbol) -> u16 {
        if let Symbol::Element { name, .. } = &s
            && let Some(i) = self.symbols.iter().position(|x| matches!(x, Symbol::Element { name: n, .. } if n == name))
        {
            return i as u16;
        }
        self.symbols.push(s);
        (self.symbols.len() - 1) as u16
    }

    /// The symbols an element particle stands for: itself unless abstract, and its substitutes.
    fn element_symbols(&mut self, e: ElemId) -> Vec<u16> {
        let mut out = vec![];
        let mut decls = vec![e];
        decls.extend(self.schema.substitutes.get(&e).cloned().unwrap_or_default());
        for d in decls {
            let decl = &self.schema.elements[d];
            if !decl.is_abstract {
                out.push(self.symbol(Symbol::Element { name: decl.name.clone(), decl: d }));
            }
        }
        out
    }

    fn node(&mut self, p: &Particle) -> Result<Node> {
        Ok(match &p.term {
            Term::Element(e) => {
                let min = if self.relaxed.contains(&self.schema.elements[*e].name) { 0 } else { p.min };
                let particle = self.particles;
                self.particles += 1;
                Node::Leaf { particle, symbols: self.element_symbols(*e), min, max: p.max }
            }
            Term::Wildcard(w) => {
                let particle = self.particles;
                self.particles += 1;
                self.symbols.push(Symbol::Wildcard(w.clone()));
                Node::Leaf { particle, symbols: vec![(self.symbols.len() - 1) as u16], min: p.min, max: p.max }
            }
            Term::Sequence(ps) => Node::Seq(ps.iter().map(|c| self.node(c)).collect::<Result<_>>()?, p.min, p.max),
            Term::Choice(ps) => Node::Alt(ps.iter().map(|c| self.node(c)).collect::<Result<_>>()?, p.min, p.max),
            Term::All(_) => {
                return Err(Error::new(format!("{}: xs:all may only be the whole content model", self.context)));
            }
        })
    }

    /// One fresh copy of `n` without its occurrence bounds.
    fn once(&mut self, n: &Node) -> Result<Re> {
        Ok(match n {
            Node::Leaf { particle, symbols, .. } => {
                self.positions.push((*particle, symbols.clone()));
                if self.positions.len() > MAX_STATES {
                    return Err(Error::new(format!("{}: the content model is too large to compile", self.context)));
                }
                Re::Pos(self.positions.len() - 1)
            }
            Node::Seq(items, ..) => Re::Seq(items.iter().map(|c| self.re(c)).collect::<Result<_>>()?),
            Node::Alt(items, ..) => Re::Alt(items.iter().map(|c| self.re(c)).collect::<Result<_>>()?),
        })
    }

    /// `n` with its bounds: n{min} followed by n* or by nested optional copies.
    fn re(&mut self, n: &Node) -> Result<Re> {
        let (min, max) = match n {
            Node::Leaf { min, max, .. } | Node::Seq(_, min, max) | Node::Alt(_, min, max) => (*min, *max),
        };
        if min > UNROLL || max.is_some_and(|m| m - min > UNROLL) {
            return Err(Error::new(format!(
                "{}: occurrence bounds minOccurs={min} maxOccurs={} are beyond the {UNROLL} copies xml2bq unrolls",
                self.context,
                max.map_or("unbounded".to_string(), |m| m.to_string())
            )));
        }
        let mut parts = vec![];
        for _ in 0..min {
            parts.push(self.once(n)?);
        }
        match max {
            None => parts.push(Re::Star(Box::new(self.once(n)?))),
            Some(m) => {
                let mut tail = Re::Empty;
                for _ in min..m {
                    let copy = self.once(n)?;
                    tail = Re::Opt(Box::new(match tail {
                        Re::Empty => copy,
                        t => Re::Seq(vec![copy, t]),
                    }));
                }
                parts.push(tail);
            }
        }
        Ok(Re::Seq(parts))
    }
}

/// Glushkov sets of an expression.
struct Sets {
    nullable: bool,
    first: BTreeSet<usize>,
    last: BTreeSet<usize>,
}

fn glushkov(re: &Re, follow: &mut [BTreeSet<usize>]) -> Sets {
    match re {
        Re::Empty => Sets { nullable: true, first: BTreeSet::new(), last: BTreeSet::new() },
        Re::Pos(p) => Sets { nullable: false, first: [*p].into(), last: [*p].into() },
        Re::Seq(items) => {
            let mut acc = Sets { nullable: true, first: BTreeSet::new(), last: BTreeSet::new() };
            for it in items {
                let s = glushkov(it, follow);
                for &l in &acc.last {
                    follow[l].extend(s.first.iter().copied());
                }
                if acc.nullable {
                    acc.first.extend(s.first.iter().copied());
                }
                if s.nullable {
                    acc.last.extend(s.last);
                } else {
                    acc.last = s.last;
                }
                acc.nullable &= s.nullable;
            }
            acc
        }
        Re::Alt(items) => {
            let mut acc = Sets { nullable: items.is_empty(), first: BTreeSet::new(), last: BTreeSet::new() };
            for it in items {
                let s = glushkov(it, follow);
                acc.nullable |= s.nullable;
                acc.first.extend(s.first);
                acc.last.extend(s.last);
            }
            acc
        }
        Re::Star(inner) | Re::Opt(inner) => {
            let s = glushkov(inner, follow);
            if matches!(re, Re::Star(_)) {
                for &l in &s.last {
                    follow[l].extend(s.first.iter().copied());
                }
            }
            Sets { nullable: true, first: s.first, last: s.last }
        }
    }
}

/// Compiles a content particle. `relaxed`: element names whose particles become optional.
pub fn compile(schema: &Schema, particle: &Particle, relaxed: &BTreeSet<QName>, context: &str) -> Result<Compiled> {
    let mut b = Builder { schema, symbols: vec![], positions: vec![], particles: 0, relaxed, context };
    if let Term::All(members) = &particle.term {
        let mut member_of = vec![];
        let mut required = vec![];
        for (m, p) in members.iter().enumerate() {
            let Term::Element(e) = p.term else {
                return Err(Error::new(format!("{context}: xs:all may hold elements only")));
            };
            let min = if relaxed.contains(&schema.elements[e].name) { 0 } else { p.min };
            required.push(min > 0);
            for s in b.element_symbols(e) {
                if member_of.len() <= s as usize {
                    member_of.resize(s as usize + 1, 0);
                }
                member_of[s as usize] = m as u8;
            }
        }
        if members.len() > 64 {
            return Err(Error::new(format!("{context}: xs:all with more than 64 members is not supported")));
        }
        let n = b.symbols.len();
        let optional: Vec<bool> = (0..n).map(|s| !required[member_of[s] as usize] || particle.min == 0).collect();
        return Ok(Compiled {
            symbols: b.symbols,
            automaton: Automaton::All { member_of, required, optional: particle.min == 0 },
            repeated: vec![false; n],
            optional,
        });
    }
    let node = b.node(particle)?;
    let re = b.re(&node)?;
    let mut follow = vec![BTreeSet::new(); b.positions.len()];
    let top = glushkov(&re, &mut follow);
    // Subset construction; state 0 is the start.
    let start: Vec<usize> = vec![];
    let mut ids: HashMap<Vec<usize>, u16> = HashMap::new();
    let mut sets: Vec<Vec<usize>> = vec![start.clone()];
    ids.insert(start, 0);
    let mut states: Vec<(Vec<(u16, u16)>, bool)> = vec![];
    let mut i = 0;
    while i < sets.len() {
        let set = sets[i].clone();
        let next: BTreeSet<usize> =
            if i == 0 { top.first.clone() } else { set.iter().flat_map(|&p| follow[p].iter().copied()).collect() };
        let accepting = if i == 0 { top.nullable } else { set.iter().any(|p| top.last.contains(p)) };
        let mut by_symbol: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for &p in &next {
            for &s in &b.positions[p].1 {
                by_symbol.entry(s).or_default().push(p);
            }
        }
        let mut edges = vec![];
        for (s, targets) in by_symbol {
            let particles: BTreeSet<usize> = targets.iter().map(|&p| b.positions[p].0).collect();
            if particles.len() > 1 {
                let what = match &b.symbols[s as usize] {
                    Symbol::Element { name, .. } => format!("element <{}>", name.local),
                    Symbol::Wildcard(_) => "a wildcard".to_string(),
                };
                return Err(Error::new(format!(
                    "{context}: the content model is ambiguous: {what} can match two particles (Unique Particle Attribution)"
                )));
            }
            let id = match ids.get(&targets) {
                Some(&id) => id,
                None => {
                    let id = sets.len() as u16;
                    if sets.len() >= MAX_STATES {
                        return Err(Error::new(format!("{context}: the content model is too large to compile")));
                    }
                    ids.insert(targets.clone(), id);
                    sets.push(targets);
                    id
                }
            };
            edges.push((s, id));
        }
        states.push((edges, accepting));
        i += 1;
    }
    // Wildcards and elements may overlap (UPA in XSD 1.0 forbids it within one state).
    check_wildcards(&b.symbols, &states, context)?;
    let n = b.symbols.len();
    let repeated = (0..n as u16).map(|s| repeats(&states, s)).collect();
    let optional = (0..n as u16).map(|s| avoidable(&states, s)).collect();
    Ok(Compiled { symbols: b.symbols, automaton: Automaton::Dfa { states }, repeated, optional })
}

fn check_wildcards(symbols: &[Symbol], states: &[(Vec<(u16, u16)>, bool)], context: &str) -> Result<()> {
    for (edges, _) in states {
        for (i, &(a, _)) in edges.iter().enumerate() {
            for &(b, _) in &edges[i + 1..] {
                let clash = match (&symbols[a as usize], &symbols[b as usize]) {
                    (Symbol::Wildcard(w), Symbol::Element { name, .. })
                    | (Symbol::Element { name, .. }, Symbol::Wildcard(w)) => {
                        w.ns.allows(&name.ns).then(|| format!("element <{}> and a wildcard", name.local))
                    }
                    (Symbol::Wildcard(_), Symbol::Wildcard(_)) => None,
                    _ => None,
                };
                if let Some(what) = clash {
                    return Err(Error::new(format!(
                        "{context}: the content model is ambiguous: {what} compete for the same elements (Unique Particle Attribution)"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// States reachable from `from` (including it).
fn reach(states: &[(Vec<(u16, u16)>, bool)], from: impl IntoIterator<Item = u16>, avoid: Option<u16>) -> Vec<bool> {
    let mut seen = vec![false; states.len()];
    let mut stack: Vec<u16> = from.into_iter().collect();
    while let Some(s) = stack.pop() {
        if std::mem::replace(&mut seen[s as usize], true) {
            continue;
        }
        for &(sym, next) in &states[s as usize].0 {
            if Some(sym) != avoid {
                stack.push(next);
            }
        }
    }
    seen
}

/// Can `sym` occur twice in one content?
fn repeats(states: &[(Vec<(u16, u16)>, bool)], sym: u16) -> bool {
    let all = reach(states, [0], None);
    let after: Vec<u16> = states
        .iter()
        .enumerate()
        .filter(|(i, _)| all[*i])
        .flat_map(|(_, (e, _))| e.iter().filter(|(s, _)| *s == sym).map(|&(_, n)| n))
        .collect();
    let from = reach(states, after, None);
    states.iter().enumerate().any(|(i, (e, _))| from[i] && e.iter().any(|(s, _)| *s == sym))
}

/// Can a valid content lack `sym`?
fn avoidable(states: &[(Vec<(u16, u16)>, bool)], sym: u16) -> bool {
    let r = reach(states, [0], Some(sym));
    states.iter().enumerate().any(|(i, (_, acc))| r[i] && *acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xsd::model::{ElementDecl, TypeRef};

    fn schema(names: &[&str]) -> Schema {
        let mut s = Schema::default();
        for n in names {
            s.elements.push(ElementDecl {
                name: QName::new(None, *n),
                ty: TypeRef::Simple(0),
                nillable: false,
                is_abstract: false,
                default: None,
                fixed: None,
                subst_head: None,
                block: vec![],
                constraints: vec![],
                order: (0, 0),
            });
        }
        s
    }

    fn el(e: ElemId, min: u32, max: Option<u32>) -> Particle {
        Particle { min, max, term: Term::Element(e) }
    }

    fn accepts(c: &Compiled, word: &[u16]) -> bool {
        let Automaton::Dfa { states } = &c.automaton else { panic!() };
        let mut s = 0u16;
        for &w in word {
            match states[s as usize].0.iter().find(|(x, _)| *x == w) {
                Some(&(_, n)) => s = n,
                None => return false,
            }
        }
        states[s as usize].1
    }

    #[test]
    fn bounded_and_unbounded_repeats() {
        let s = schema(&["a", "b"]);
        // (a{2,3}, b*)
        let p = Particle { min: 1, max: Some(1), term: Term::Sequence(vec![el(0, 2, Some(3)), el(1, 0, None)]) };
        let c = compile(&s, &p, &BTreeSet::new(), "t").unwrap();
        assert!(!accepts(&c, &[0]));
        assert!(accepts(&c, &[0, 0]));
        assert!(accepts(&c, &[0, 0, 0, 1, 1]));
        assert!(!accepts(&c, &[0, 0, 0, 0]));
        assert_eq!(c.repeated, vec![true, true]);
        assert_eq!(c.optional, vec![false, true]);
    }

    #[test]
    fn repeated_choice_and_ambiguity() {
        let s = schema(&["a", "b"]);
        let choice = Particle { min: 0, max: None, term: Term::Choice(vec![el(0, 1, Some(1)), el(1, 1, Some(1))]) };
        let c = compile(&s, &choice, &BTreeSet::new(), "t").unwrap();
        assert!(accepts(&c, &[1, 0, 1]));
        assert_eq!(c.repeated, vec![true, true]);
        // (a?, a) is ambiguous.
        let bad = Particle { min: 1, max: Some(1), term: Term::Sequence(vec![el(0, 0, Some(1)), el(0, 1, Some(1))]) };
        assert!(compile(&s, &bad, &BTreeSet::new(), "t").unwrap_err().message.contains("Unique Particle Attribution"));
    }

    #[test]
    fn relaxed_elements_become_optional() {
        let s = schema(&["a", "b"]);
        let p = Particle { min: 1, max: Some(1), term: Term::Sequence(vec![el(0, 1, Some(1)), el(1, 1, Some(1))]) };
        let relaxed: BTreeSet<QName> = [QName::new(None, "a")].into();
        let c = compile(&s, &p, &relaxed, "t").unwrap();
        assert!(accepts(&c, &[1]));
        assert!(accepts(&c, &[0, 1]));
        assert_eq!(c.optional, vec![true, false]);
    }
}
