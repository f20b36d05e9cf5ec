//! XML names (XML 1.0 fifth edition §2.3, Namespaces in XML 1.0 §3): which byte
//! strings are an NCName or a QName. ASCII names take a table lookup per
//! byte; others are decoded and checked against the productions' ranges.

/// 1: may start a name; 2: may continue one (ASCII only; `:` is left to the callers).
const ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        t[c] = if b.is_ascii_alphabetic() || b == b'_' {
            3
        } else if b.is_ascii_digit() || b == b'-' || b == b'.' {
            2
        } else {
            0
        };
        c += 1;
    }
    t
};

fn is_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_start_char(c) || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// ASCII name characters only, the first a name start (no colon): the common name,
/// in one branch-free pass.
#[inline]
fn is_ascii_ncname(b: &[u8]) -> bool {
    b.split_first().is_some_and(|(&first, rest)| {
        first < 128
            && ASCII[usize::from(first)] & 1 != 0
            && rest.iter().fold(true, |ok, &c| ok & (c < 128 && ASCII[usize::from(c & 0x7F)] != 0))
    })
}

/// An NCName: a Name without colons.
pub fn is_ncname(b: &[u8]) -> bool {
    if is_ascii_ncname(b) {
        return true;
    }
    if b.is_empty() || b.is_ascii() {
        return false;
    }
    let Ok(s) = std::str::from_utf8(b) else { return false };
    let mut chars = s.chars();
    chars.next().is_some_and(is_start_char) && chars.all(is_name_char)
}

/// A QName: `NCName` or `NCName:NCName`.
#[inline]
pub fn is_qname(b: &[u8]) -> bool {
    if is_ascii_ncname(b) {
        return true;
    }
    qname_slow(b)
}

#[cold]
fn qname_slow(b: &[u8]) -> bool {
    match memchr::memchr(b':', b) {
        None => is_ncname(b),
        Some(c) => is_ncname(&b[..c]) && is_ncname(&b[c + 1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_productions() {
        for good in ["a", "_x", "Order", "a-b.c_1", "Café", "東京", "x\u{B7}y", "a\u{300}"] {
            assert!(is_ncname(good.as_bytes()), "{good}");
            assert!(is_qname(good.as_bytes()), "{good}");
        }
        for bad in ["", "1a", "-a", ".a", "a b", "a<", "a&", "a\"", "\u{B7}a", "a\u{D7}", "\u{300}a", "a/"] {
            assert!(!is_ncname(bad.as_bytes()), "{bad:?}");
        }
        assert!(is_qname(b"p:a") && !is_qname(b"p:") && !is_qname(b":a") && !is_qname(b"a:b:c"));
        assert!(!is_qname(b"1p:a") && !is_qname(b"p:1a"));
        assert!(!is_ncname(b"a\xFF"));
    }
}
