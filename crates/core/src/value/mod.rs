//! XSD lexical values: parsers for every built-in simple type, exact, allocation-free.
//!
//! Generated decoders call these functions on element and attribute text to check it against the XSD 1.0
//! lexical space (XML Schema Part 2: Datatypes, second edition) and to convert it into what an Arrow or
//! BigQuery column holds. Every function is total: any `&str` gives a value or a [`ValueError`], never a
//! panic.
//!
//! * [`ValueErrorKind::Invalid`]: the text is not in the lexical space of the type (or, for the derived
//!   integer types, outside its value range).
//! * [`ValueErrorKind::Unrepresentable`]: the text is a valid XSD value that the target column cannot hold
//!   exactly (too many digits for NUMERIC, a year past 9999, sub-microsecond time, ...). Nothing is ever
//!   rounded or clamped silently.
//!
//! The typed parsers take the value *after* the whiteSpace facet was applied (see [`whitespace`]): for
//! every type but `xs:string` and `xs:normalizedString` that means collapsed, so they reject leading or
//! trailing blanks.
//!
//! Where the specification left room, [`xmlschema`](https://pypi.org/project/xmlschema/) 4.3 in XSD 1.0
//! mode is the reference; the places where we match it on purpose, or deliberately differ from one of its
//! bugs, say so in a comment.

mod binary;
mod decimal;
mod duration;
mod lexical;
mod temporal;

pub use binary::{base64, hex};
pub use decimal::{Decimal, IntegerType, decimal, decimal_as_numeric, decimal_const, integer, integer_of};
pub use duration::{Duration, duration, duration_cmp};
pub use lexical::{
    any_uri, boolean, char_len, double, float, is_name_char, is_name_start_char, language, list_items, name, nc_name,
    nmtoken, qname,
};
pub use temporal::{
    Temporal, date, date_time, date_time_as_datetime, date_time_as_timestamp, date_time_stamp, format_date_days,
    format_datetime_micros, format_time_micros, format_timestamp_micros, g_day, g_month, g_month_day, g_year,
    g_year_month, temporal_cmp, time,
};

use std::fmt;

/// Which of the two ways a value can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueErrorKind {
    /// Not in the XSD lexical space (or value range) of the type.
    Invalid,
    /// A valid XSD value that the target column cannot hold exactly.
    Unrepresentable,
}

/// Why a value was refused; the message quotes the value and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub kind: ValueErrorKind,
    pub message: String,
}

impl ValueError {
    /// A value outside the lexical space of its type.
    pub fn invalid(message: impl Into<String>) -> Self {
        ValueError { kind: ValueErrorKind::Invalid, message: message.into() }
    }

    /// A valid value that the column cannot hold.
    pub fn unrepresentable(message: impl Into<String>) -> Self {
        ValueError { kind: ValueErrorKind::Unrepresentable, message: message.into() }
    }

    /// `"{value}" is not an xs:{type}`.
    pub fn not_a(value: &str, type_name: &str) -> Self {
        Self::invalid(format!("{} is not an xs:{type_name}", quote(value)))
    }

    /// True for [`ValueErrorKind::Invalid`].
    pub fn is_invalid(&self) -> bool {
        self.kind == ValueErrorKind::Invalid
    }

    /// True for [`ValueErrorKind::Unrepresentable`].
    pub fn is_unrepresentable(&self) -> bool {
        self.kind == ValueErrorKind::Unrepresentable
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// The value quoted for a message (Rust string escapes), cut after 100 characters so that a huge text
/// node does not make a huge message.
pub fn quote(value: &str) -> String {
    const MAX: usize = 100;
    match value.char_indices().nth(MAX) {
        None => format!("{value:?}"),
        Some((cut, _)) => {
            let head = value.get(..cut).unwrap_or("");
            let shown = format!("{head:?}");
            format!("{}...\" ({} characters)", shown.trim_end_matches('"'), value.chars().count())
        }
    }
}

/// The whiteSpace facet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ws {
    /// `xs:string`: the value as it is.
    Preserve,
    /// `xs:normalizedString`: each tab, line feed and carriage return becomes a space.
    Replace,
    /// Every other type: replace, then squeeze runs of spaces into one and trim both ends.
    Collapse,
}

/// True for the four XML whitespace characters (`#x20 #x9 #xD #xA`).
#[inline]
pub fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Applies the whiteSpace facet; borrows `v` when nothing changes (no allocation in the common case), else
/// writes into `scratch` and returns it.
#[inline]
pub fn whitespace<'a>(v: &'a str, ws: Ws, scratch: &'a mut String) -> &'a str {
    match ws {
        Ws::Preserve => v,
        // Most values hold no whitespace at all: nothing to replace or collapse.
        _ if crate::bytes::above_space(v.as_bytes()) => v,
        _ => processed(v, ws, scratch),
    }
}

/// [`whitespace`] for `Replace` and `Collapse`.
fn processed<'a>(v: &'a str, ws: Ws, scratch: &'a mut String) -> &'a str {
    match ws {
        Ws::Preserve => v,
        Ws::Replace => {
            if !v.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) {
                return v;
            }
            scratch.clear();
            scratch.extend(v.chars().map(|c| if is_xml_space(c) { ' ' } else { c }));
            scratch
        }
        Ws::Collapse => {
            if is_collapsed(v) {
                return v;
            }
            scratch.clear();
            for (i, word) in v.split(is_xml_space).filter(|w| !w.is_empty()).enumerate() {
                if i > 0 {
                    scratch.push(' ');
                }
                scratch.push_str(word);
            }
            scratch
        }
    }
}

fn is_collapsed(v: &str) -> bool {
    // (`whitespace` answers values with no whitespace at all before this.)
    let b = v.as_bytes();
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut prev_space = false;
    for &c in b {
        if matches!(c, b'\t' | b'\n' | b'\r') {
            return false;
        }
        let space = c == b' ';
        if space && prev_space {
            return false;
        }
        prev_space = space;
    }
    true
}

#[cfg(test)]
pub(crate) mod test_util {
    /// A xorshift generator for the no-panic property tests.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    const ALPHABET: &[char] = &[
        '0',
        '1',
        '2',
        '5',
        '9',
        '-',
        '+',
        '.',
        ':',
        'T',
        'Z',
        'P',
        'Y',
        'M',
        'D',
        'H',
        'S',
        'E',
        'e',
        'I',
        'N',
        'F',
        'a',
        'A',
        '=',
        ' ',
        '\t',
        '\n',
        '/',
        '_',
        'é',
        '１',
        '٣',
        '\u{10000}',
        '\u{0}',
        'x',
        'g',
        'W',
        'Q',
    ];

    /// Random strings and mutations of `seeds`: deletions, insertions, replacements, truncations.
    pub fn fuzz_inputs(seeds: &[&str], rounds: usize) -> Vec<String> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut out = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let mut chars: Vec<char> = if rng.below(4) == 0 || seeds.is_empty() {
                (0..rng.below(12)).map(|_| ALPHABET[rng.below(ALPHABET.len())]).collect()
            } else {
                seeds[rng.below(seeds.len())].chars().collect()
            };
            for _ in 0..=rng.below(3) {
                let at = rng.below(chars.len() + 1);
                match rng.below(4) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 => chars.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                    2 if at < chars.len() => chars[at] = ALPHABET[rng.below(ALPHABET.len())],
                    _ => chars.truncate(at),
                }
            }
            out.push(chars.into_iter().collect());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_borrows_when_unchanged() {
        let mut scratch = String::new();
        for ws in [Ws::Preserve, Ws::Replace, Ws::Collapse] {
            let v = "a b";
            let out = whitespace(v, ws, &mut scratch);
            assert_eq!(out, "a b");
            assert!(std::ptr::eq(out, v));
        }
    }

    #[test]
    fn whitespace_facets() {
        let mut s = String::new();
        assert_eq!(whitespace(" a\t\nb\r ", Ws::Preserve, &mut s), " a\t\nb\r ");
        assert_eq!(whitespace(" a\t\nb\r ", Ws::Replace, &mut s), " a  b  ");
        assert_eq!(whitespace(" a\t\nb\r ", Ws::Collapse, &mut s), "a b");
        assert_eq!(whitespace("  ", Ws::Collapse, &mut s), "");
        assert_eq!(whitespace("", Ws::Collapse, &mut s), "");
        assert_eq!(whitespace("é  ü", Ws::Collapse, &mut s), "é ü");
        assert_eq!(whitespace("\u{a0}x", Ws::Collapse, &mut s), "\u{a0}x"); // NBSP is not XML whitespace
    }

    #[test]
    fn messages_quote_and_cut() {
        assert_eq!(ValueError::not_a("3,35", "decimal").message, "\"3,35\" is not an xs:decimal");
        assert_eq!(ValueError::not_a("x", "date").to_string(), "\"x\" is not an xs:date");
        let long = "é".repeat(300);
        let q = quote(&long);
        assert!(q.starts_with("\"éé") && q.ends_with("...\" (300 characters)"), "{q}");
    }
}
