//! Content models at run time: which child elements may follow which. The code
//! generator compiles each complex type's particles into a deterministic automaton
//! over the type's symbols (its element names and wildcards), or, for `xs:all`, a
//! set of members each allowed once in any order. Symbols are numbered per type.

/// A child element name of a content model, or a wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Namespace id, or [`WILDCARD`].
    pub ns: u16,
    /// The local name (for a wildcard: a description, `an element of any namespace`).
    pub local: &'static str,
}

/// The namespace id of a wildcard symbol.
pub const WILDCARD: u16 = u16::MAX - 1;

/// Which namespaces a wildcard accepts (by namespace id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NsTest {
    Any,
    Not(&'static [u16]),
    In(&'static [u16]),
}

impl NsTest {
    #[inline]
    pub fn allows(self, ns: u16) -> bool {
        match self {
            NsTest::Any => true,
            NsTest::Not(v) => !v.contains(&ns),
            NsTest::In(v) => v.contains(&ns),
        }
    }
}

/// A compiled content model.
#[derive(Debug)]
pub struct Model {
    pub symbols: &'static [Symbol],
    /// The wildcard symbols and what they accept, in order.
    pub wildcards: &'static [(u16, NsTest)],
    pub automaton: Automaton,
}

#[derive(Debug)]
pub enum Automaton {
    /// A deterministic automaton; state 0 is the start. Per state: (index of its
    /// first edge, number of edges, accepting); edges are (symbol, next state).
    Dfa { states: &'static [(u32, u16, bool)], edges: &'static [(u16, u16)] },
    /// `xs:all`: members each at most once in any order. `member_of`: per symbol
    /// (substitutes share their head's member); `required`: per member;
    /// `optional`: the whole group may be absent.
    All { member_of: &'static [u8], required: &'static [bool], optional: bool },
}

/// Where a decoder is in a content model: a DFA state, or the members seen so far.
pub type State = u64;

/// Why a child element does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    /// No symbol of the model has this name.
    Unknown,
    /// A symbol of the model, but not allowed here.
    Misplaced,
}

impl Model {
    /// The state after `symbol`, or None when the symbol may not come here.
    #[inline(always)]
    pub fn step(&self, state: State, symbol: u16) -> Option<State> {
        match &self.automaton {
            Automaton::Dfa { states, edges } => {
                let (first, n, _) = *states.get(state as usize)?;
                let edges = edges.get(first as usize..first as usize + n as usize)?;
                edges.iter().find(|(s, _)| *s == symbol).map(|&(_, next)| State::from(next))
            }
            Automaton::All { member_of, .. } => {
                let m = *member_of.get(symbol as usize)?;
                let bit = 1u64 << m;
                (state & bit == 0).then_some(state | bit)
            }
        }
    }

    /// The edges (symbol, next state) out of a DFA state (none for `xs:all`).
    #[inline]
    pub fn edges(&self, state: State) -> &'static [(u16, u16)] {
        match &self.automaton {
            Automaton::Dfa { states, edges } => states
                .get(state as usize)
                .and_then(|&(first, n, _)| edges.get(first as usize..first as usize + n as usize))
                .unwrap_or(&[]),
            Automaton::All { .. } => &[],
        }
    }

    /// The state after `n` more `symbol`s (rows decoded elsewhere), or None.
    pub fn repeat(&self, mut state: State, symbol: u16, n: u64) -> Option<State> {
        for _ in 0..n {
            let next = self.step(state, symbol)?;
            if next == state {
                return Some(state);
            }
            state = next;
        }
        Some(state)
    }

    /// The symbol a child element is and the state after it: `named` is the element
    /// symbol its name matched (if any), tried before the wildcards that accept `ns`.
    /// (Inlined into each generated loop: there `named` is a small constant per arm.)
    #[inline(always)]
    pub fn next(&self, state: State, named: Option<u16>, ns: u16) -> Result<(u16, State), Miss> {
        if let Some(s) = named
            && let Some(next) = self.step(state, s)
        {
            return Ok((s, next));
        }
        let mut seen = named.is_some();
        for &(s, test) in self.wildcards {
            if test.allows(ns) {
                seen = true;
                if let Some(next) = self.step(state, s) {
                    return Ok((s, next));
                }
            }
        }
        Err(if seen { Miss::Misplaced } else { Miss::Unknown })
    }

    /// True when the content may end in `state`.
    pub fn accepts(&self, state: State) -> bool {
        match &self.automaton {
            Automaton::Dfa { states, .. } => states.get(state as usize).is_some_and(|s| s.2),
            Automaton::All { required, optional, .. } => {
                (state == 0 && *optional)
                    || required.iter().enumerate().all(|(m, &req)| !req || state & (1u64 << m) != 0)
            }
        }
    }

    /// True when `symbol` can still come after `state` (possibly after other symbols):
    /// an element that does is early (required ones are missing before it); one that
    /// cannot is out of order or repeated.
    pub fn reachable(&self, state: State, symbol: u16) -> bool {
        match &self.automaton {
            Automaton::Dfa { states, edges } => {
                let mut seen = vec![false; states.len()];
                let mut stack = vec![state as usize];
                while let Some(s) = stack.pop() {
                    if s >= seen.len() || std::mem::replace(&mut seen[s], true) {
                        continue;
                    }
                    let (first, n, _) = states[s];
                    for &(sym, next) in edges.get(first as usize..first as usize + n as usize).unwrap_or(&[]) {
                        if sym == symbol {
                            return true;
                        }
                        stack.push(next as usize);
                    }
                }
                false
            }
            Automaton::All { .. } => self.step(state, symbol).is_some(),
        }
    }

    /// A symbol, for messages.
    pub fn symbol(&self, symbol: u16) -> Symbol {
        self.symbols.get(symbol as usize).copied().unwrap_or(Symbol { ns: WILDCARD, local: "?" })
    }

    /// The symbols that may come next in `state`.
    pub fn expected(&self, state: State) -> Vec<Symbol> {
        match &self.automaton {
            Automaton::Dfa { states, edges } => match states.get(state as usize) {
                Some(&(first, n, _)) => edges
                    .get(first as usize..first as usize + n as usize)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&(s, _)| self.symbol(s))
                    .collect(),
                None => vec![],
            },
            Automaton::All { member_of, .. } => (0..self.symbols.len())
                .filter(|&s| member_of.get(s).is_some_and(|&m| state & (1u64 << m) == 0))
                .map(|s| self.symbols[s])
                .collect(),
        }
    }
}

impl Symbol {
    /// `<name>`, or the wildcard's description.
    pub fn describe(&self) -> String {
        if self.ns == WILDCARD { self.local.to_string() } else { format!("<{}>", self.local) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Symbol = Symbol { ns: 0, local: "a" };
    const B: Symbol = Symbol { ns: 0, local: "b" };
    const ANY: Symbol = Symbol { ns: WILDCARD, local: "an element of another namespace" };
    // (a, b?)* then any ##other: states 0 start/accept; 1 after a; 2 after b.
    static AB: Model = Model {
        symbols: &[A, B, ANY],
        wildcards: &[(2, NsTest::Not(&[0]))],
        automaton: Automaton::Dfa {
            states: &[(0, 2, true), (2, 3, true), (5, 2, true), (7, 0, true)],
            edges: &[(0, 1), (2, 3), (0, 1), (1, 2), (2, 3), (0, 1), (2, 3)],
        },
    };

    #[test]
    fn dfa_steps_and_wildcards() {
        assert_eq!(AB.next(0, Some(0), 0), Ok((0, 1)));
        assert_eq!(AB.next(0, Some(1), 0), Err(Miss::Misplaced));
        assert_eq!(AB.next(1, Some(1), 0), Ok((1, 2)));
        assert_eq!(AB.next(2, None, 5), Ok((2, 3)), "an element of another namespace");
        assert_eq!(AB.next(2, None, 0), Err(Miss::Unknown), "no namespace: not the wildcard's");
        assert_eq!(AB.next(3, Some(0), 0), Err(Miss::Misplaced));
        assert!(AB.accepts(2));
        assert_eq!(AB.expected(1), vec![A, B, ANY]);
        assert_eq!(AB.step(99, 0), None);
    }

    #[test]
    fn all_steps() {
        let m = Model {
            symbols: &[Symbol { ns: 0, local: "x" }, Symbol { ns: 0, local: "y" }, Symbol { ns: 0, local: "y2" }],
            wildcards: &[],
            automaton: Automaton::All { member_of: &[0, 1, 1], required: &[true, false], optional: false },
        };
        let s = m.step(0, 1).unwrap();
        assert_eq!(m.step(s, 2), None, "y and its substitute are one member");
        assert!(!m.accepts(s));
        let s = m.step(s, 0).unwrap();
        assert!(m.accepts(s));
        assert_eq!(m.step(s, 0), None);
    }
}
