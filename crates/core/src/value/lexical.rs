//! The small lexical types: `xs:boolean`, `xs:float`/`xs:double`, XML names (`Name`, `NCName`, `NMTOKEN`,
//! `QName`), `xs:language`, `xs:anyURI`, list splitting and the character count of the length facets.

use super::{ValueError, is_xml_space, quote};

/// `xs:boolean`: `true`, `false`, `1` or `0` (case matters).
pub fn boolean(s: &str) -> Result<bool, ValueError> {
    match s {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ValueError::not_a(s, "boolean")),
    }
}

/// True when `s` is in the XSD 1.0 lexical space of `xs:float` and `xs:double`:
/// `(\+|-)?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee](\+|-)?[0-9]+)?|-?INF|NaN`.
///
/// `+INF` is refused: it is XSD 1.1 syntax, and xmlschema in XSD 1.0 mode refuses it too (as it does
/// `-NaN`, `inf`, `Infinity`).
fn is_float_lexical(s: &str) -> bool {
    if matches!(s, "INF" | "-INF" | "NaN") {
        return true;
    }
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn parse_float(s: &str, type_name: &str) -> Result<f64, ValueError> {
    if !is_float_lexical(s) {
        return Err(ValueError::not_a(s, type_name));
    }
    let v = match s {
        "INF" => f64::INFINITY,
        "-INF" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        // Rust's float grammar is a superset of the XSD one checked above, and rounds correctly.
        _ => s.parse::<f64>().map_err(|_| ValueError::not_a(s, type_name))?,
    };
    if v.is_infinite() && !s.ends_with("INF") {
        // A finite literal beyond the double range: XSD 1.1 would make it INF, we refuse to round that far.
        return Err(ValueError::unrepresentable(format!(
            "{} is beyond the range of a FLOAT64 (about 1.8e308); write INF or map the column to STRING",
            quote(s)
        )));
    }
    Ok(v)
}

/// `xs:double`: the `f64` nearest to the decimal text (`INF`, `-INF`, `NaN` included). A finite literal too
/// large for an `f64` (`1e400`, valid for xmlschema) is Unrepresentable; one too small becomes 0.
pub fn double(s: &str) -> Result<f64, ValueError> {
    parse_float(s, "double")
}

/// `xs:float`: the same lexical space as `xs:double`, and the `f64` nearest to the decimal text (not
/// rounded to `f32`: BigQuery has FLOAT64 only). Like xmlschema, the value is not checked against the `f32`
/// range (`1e39` is accepted).
pub fn float(s: &str) -> Result<f64, ValueError> {
    parse_float(s, "float")
}

/// XML 1.0 (fifth edition) `NameStartChar`.
///
/// This includes `#x10000-#xEFFFF`, which xmlschema leaves out (it only knows the BMP ranges).
pub fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) `NameChar`.
pub fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char)
}

fn is_nc_name(s: &str) -> bool {
    !s.contains(':') && is_name(s)
}

/// `xs:Name`.
pub fn name(s: &str) -> Result<(), ValueError> {
    if is_name(s) { Ok(()) } else { Err(ValueError::not_a(s, "Name")) }
}

/// `xs:NCName` (also `xs:ID`, `xs:IDREF`, `xs:ENTITY`): a Name without `:`.
pub fn nc_name(s: &str) -> Result<(), ValueError> {
    if is_nc_name(s) { Ok(()) } else { Err(ValueError::not_a(s, "NCName")) }
}

/// `xs:NMTOKEN`: one or more name characters.
pub fn nmtoken(s: &str) -> Result<(), ValueError> {
    if !s.is_empty() && s.chars().all(is_name_char) { Ok(()) } else { Err(ValueError::not_a(s, "NMTOKEN")) }
}

/// `xs:QName`, lexically: `prefix:local` or `local`, both NCNames; returns `(prefix, local)`.
///
/// Whether the prefix is declared is the caller's business (xmlschema refuses `a:b` when `a` is not in
/// scope; this function only checks the form).
pub fn qname(s: &str) -> Result<(Option<&str>, &str), ValueError> {
    let parts = match s.split_once(':') {
        Some((prefix, local)) => (Some(prefix), local),
        None => (None, s),
    };
    if parts.0.is_none_or(is_nc_name) && is_nc_name(parts.1) { Ok(parts) } else { Err(ValueError::not_a(s, "QName")) }
}

/// `xs:language`: `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`.
pub fn language(s: &str) -> Result<(), ValueError> {
    let mut parts = s.split('-');
    let first_ok =
        parts.next().is_some_and(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    if first_ok && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())) {
        Ok(())
    } else {
        Err(ValueError::not_a(s, "language"))
    }
}

/// `xs:anyURI`: every string is accepted.
///
/// XSD 1.0 defines the lexical space through the escaping rules of XLink, which map any string to a URI
/// reference; xmlschema (XSD 1.0 mode) accordingly accepts anything (`http://a b`, `%zz`, `a#b#c`, ``).
/// We match it.
pub fn any_uri(s: &str) -> Result<(), ValueError> {
    let _ = s;
    Ok(())
}

/// The items of a list type (`xs:NMTOKENS`, `xs:IDREFS`, a user `xs:list`): the value split on whitespace,
/// without empty items (so a collapsed value and a raw one split the same).
pub fn list_items(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_xml_space).filter(|item| !item.is_empty())
}

/// The length of a string as the length facets count it: in characters (Unicode scalar values).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ValueErrorKind;
    use crate::value::test_util::fuzz_inputs;

    #[test]
    fn booleans() {
        assert_eq!(boolean("true"), Ok(true));
        assert_eq!(boolean("1"), Ok(true));
        assert_eq!(boolean("false"), Ok(false));
        assert_eq!(boolean("0"), Ok(false));
        for bad in ["TRUE", "True", "01", "", " true", "yes", "１", "é"] {
            assert!(boolean(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn doubles() {
        // Validity checked against xmlschema XMLSchema10 xs:double.
        let ok: &[(&str, f64)] = &[
            ("1E5", 1e5),
            (".5", 0.5),
            ("5.", 5.0),
            ("+.5e+3", 500.0),
            ("1.e5", 1e5),
            ("-0", -0.0),
            ("1e+5", 1e5),
            ("0.1", 0.1),
            ("1e-400", 0.0),
            ("1.7976931348623157e308", f64::MAX),
            ("-12.5E-2", -0.125),
            ("00012", 12.0),
        ];
        for (s, v) in ok {
            assert_eq!(double(s).unwrap(), *v, "{s}");
            assert_eq!(float(s).unwrap(), *v, "{s}");
        }
        assert_eq!(double("INF"), Ok(f64::INFINITY));
        assert_eq!(double("-INF"), Ok(f64::NEG_INFINITY));
        assert!(double("NaN").unwrap().is_nan());
        assert!(double("-0").unwrap().is_sign_negative());
        for bad in [
            "+INF", "-NaN", "+NaN", "inf", "Infinity", "nan", "1e", ".", ".e5", "1e5.0", "0x1", "1_0", " 1", "1 ", "",
            "e5", "1e+", "1d5", "１", "1é", "é", "--1", "1.5.",
        ] {
            let e = double(bad).unwrap_err();
            assert_eq!(e.kind, ValueErrorKind::Invalid, "{bad}");
            assert!(float(bad).is_err(), "{bad}");
        }
        let e = double("1e400").unwrap_err();
        assert_eq!(e.kind, ValueErrorKind::Unrepresentable);
        assert!(double("-1e400").unwrap_err().is_unrepresentable());
        // xs:float: no f32 range check (xmlschema accepts 1e39 as a float), value is the nearest f64.
        assert_eq!(float("1e39"), Ok(1e39));
        assert_eq!(float("0.1"), Ok(0.1));
    }

    #[test]
    fn names() {
        // Checked against xmlschema's xs:Name, except the supplementary-plane characters (see
        // is_name_start_char).
        for ok in [":a", "a:", "a-.", "é", "ʰ", "a·", "⁰", "a‿", "_", "a\u{300}", "\u{10000}", "a\u{EFFFF}", "１"]
        {
            assert!(name(ok).is_ok(), "{ok}");
        }
        for bad in ["1a", "-a", ".a", "a b", "", "·a", "\u{300}a", "‿a", "a\u{F0000}", "a\u{0}"] {
            assert!(name(bad).is_err(), "{bad}");
        }
        assert!(nc_name("a").is_ok());
        assert!(nc_name(":a").is_err() && nc_name("a:b").is_err() && nc_name("").is_err());
        for ok in ["1a", "-", ":", ".5", "·"] {
            assert!(nmtoken(ok).is_ok(), "{ok}");
        }
        for bad in ["a b", "", "a\u{FFFE}", "é!"] {
            assert!(nmtoken(bad).is_err(), "{bad}");
        }
        assert!(is_name_start_char('\u{2070}') && !is_name_start_char('\u{2190}'));
        assert!(is_name_char('\u{B7}') && !is_name_start_char('\u{B7}'));
    }

    #[test]
    fn qnames() {
        assert_eq!(qname("a:b"), Ok((Some("a"), "b")));
        assert_eq!(qname("local"), Ok((None, "local")));
        for bad in [":b", "a:", "a:b:c", "1a:b", "a:1b", "", ":", "a b"] {
            assert!(qname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn languages() {
        for ok in ["en", "en-US", "x", "i-klingon", "abcdefgh-12345678", "zh-Hant-TW"] {
            assert!(language(ok).is_ok(), "{ok}");
        }
        for bad in ["", "toolongxx", "en-", "-en", "en--US", "en_US", "en-123456789", "1en", "é", "en-é"] {
            assert!(language(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uris_lists_lengths() {
        for any in ["", "http://a b", "%zz", "a#b#c", "é", "\\", "::"] {
            assert!(any_uri(any).is_ok());
        }
        assert_eq!(list_items("a b  c").collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(list_items(" \t\n").count(), 0);
        assert_eq!(list_items("").count(), 0);
        assert_eq!(list_items("é\u{a0}x y").collect::<Vec<_>>(), ["é\u{a0}x", "y"]);
        assert_eq!(char_len("héllo"), 5);
        assert_eq!(char_len("\u{10000}"), 1);
        assert_eq!(char_len(""), 0);
    }

    #[test]
    fn no_panic_on_any_input() {
        let seeds = ["1.5e-3", "-INF", "NaN", "a:b", "en-US", "true", "\u{10000}x"];
        for s in fuzz_inputs(&seeds, 20_000) {
            let _ = (double(&s), float(&s), boolean(&s), name(&s), nc_name(&s), nmtoken(&s), qname(&s));
            let _ = (language(&s), any_uri(&s), list_items(&s).count(), char_len(&s));
        }
    }
}
