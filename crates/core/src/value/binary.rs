//! `xs:base64Binary` and `xs:hexBinary`: checked against the XSD 1.0 lexical space, decoded into a caller's
//! buffer.

use super::{ValueError, is_xml_space, quote};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

fn b64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Checks the XSD 1.0 `Base64Binary` production on the characters that are not whitespace (`chars`):
/// groups of four, `=` only as padding of the last group, and the bits that padding drops must be zero
/// (`B16`: a character whose low 2 bits are 0 before `=`; `B04`: one of `AQgw` before `==`).
fn check_base64<I: Iterator<Item = u8> + Clone>(chars: I) -> Result<(), &'static str> {
    let n = chars.clone().count();
    if !n.is_multiple_of(4) {
        return Err("the number of base64 characters is not a multiple of 4");
    }
    for (i, b) in chars.enumerate() {
        let from_end = n - i; // 1 for the last character
        if b == b'=' {
            if from_end > 2 {
                return Err("'=' is only allowed as padding at the end");
            }
        } else if b64_value(b).is_none() {
            return Err("it holds a character outside A-Z a-z 0-9 + / =");
        }
    }
    Ok(())
}

/// The padding rules, on the last group of four characters (whitespace removed).
fn check_padding(last: [u8; 4]) -> Result<(), &'static str> {
    match last {
        [_, _, b'=', b'='] => match b64_value(last[1]) {
            Some(v) if v & 0b1111 == 0 => Ok(()),
            Some(_) => Err("the character before '==' must be one of A Q g w"),
            None => Err("'=' is only allowed as padding at the end"),
        },
        [_, _, _, b'='] => match b64_value(last[2]) {
            Some(v) if v & 0b11 == 0 => Ok(()),
            Some(_) => Err("the character before '=' must be one of A E I M Q U Y c g k o s w 0 4 8"),
            None => Err("'=' is only allowed as padding at the end"),
        },
        [a, b, c, d] if [a, b, c, d].iter().all(|&x| b64_value(x).is_some()) => Ok(()),
        _ => Err("'=' is only allowed as padding at the end"),
    }
}

/// Decodes an `xs:base64Binary`, appending the bytes to `out` (which is left as it was on error).
///
/// XSD 1.0 allows a single space between any two characters of the collapsed value; since the value is
/// collapsed first, any XML whitespace anywhere is accepted here (as xmlschema does: `AA\nAA`, `AA = =`),
/// which also keeps the function total on a value that was not collapsed. Padding must be canonical and the
/// bits it drops zero (`AB==` is refused, as in xmlschema).
pub fn base64(s: &str, out: &mut Vec<u8>) -> Result<(), ValueError> {
    let fail = |why: &str| ValueError::invalid(format!("{} is not an xs:base64Binary ({why})", quote(s)));
    let bytes = s.as_bytes();
    let has_space = bytes.iter().any(|&b| is_xml_space(char::from(b)));
    let chars = bytes.iter().copied().filter(|&b| !is_xml_space(char::from(b)));
    check_base64(chars.clone()).map_err(fail)?;
    let mut last = [0u8; 4];
    let n = chars.clone().count();
    if n == 0 {
        return Ok(());
    }
    for (slot, b) in last.iter_mut().zip(chars.clone().skip(n - 4)) {
        *slot = b;
    }
    check_padding(last).map_err(fail)?;
    let decoded = if has_space {
        let compact: Vec<u8> = chars.collect();
        STANDARD.decode_vec(&compact, out)
    } else {
        STANDARD.decode_vec(bytes, out)
    };
    decoded.map_err(|e| fail(&e.to_string()))
}

/// Decodes an `xs:hexBinary` (pairs of hex digits, either case), appending the bytes to `out`.
pub fn hex(s: &str, out: &mut Vec<u8>) -> Result<(), ValueError> {
    let b = s.as_bytes();
    let nibble = |c: u8| char::from(c).to_digit(16);
    if !b.len().is_multiple_of(2) || !b.iter().all(|&c| c.is_ascii_hexdigit()) {
        return Err(ValueError::not_a(s, "hexBinary"));
    }
    out.reserve(b.len() / 2);
    for pair in b.chunks_exact(2) {
        if let [hi, lo] = pair
            && let (Some(hi), Some(lo)) = (nibble(*hi), nibble(*lo))
        {
            out.push((hi * 16 + lo) as u8);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::test_util::fuzz_inputs;

    fn b64(s: &str) -> Result<Vec<u8>, crate::value::ValueError> {
        let mut out = Vec::new();
        base64(s, &mut out).map(|()| out)
    }

    #[test]
    fn base64_lexical_space() {
        // Each verdict checked against xmlschema XMLSchema10 xs:base64Binary.
        assert_eq!(b64("").unwrap(), b"");
        assert_eq!(b64("AAAA").unwrap(), [0, 0, 0]);
        assert_eq!(b64("AA==").unwrap(), [0]);
        assert_eq!(b64("AAA=").unwrap(), [0, 0]);
        assert_eq!(b64("AQ==").unwrap(), [1]);
        assert_eq!(b64("AAE=").unwrap(), [0, 1]);
        assert_eq!(b64("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        for spaced in
            ["AA = =", "A A A A", " AAAA", "AAAA ", "AA AA", "AA  AA", "AA\nAA", "AAA= ", "A Q = =", "AA\r\n\tAA"]
        {
            assert!(b64(spaced).is_ok(), "{spaced:?}");
        }
        for bad in [
            "A===",
            "AA=A",
            "AB==",
            "AAF=",
            "AAA",
            "AAAAA",
            "AA==AAAA",
            "====",
            "A B = =",
            "A=B=",
            "AA-_",
            "AAA\u{e9}",
            "é",
            "AA==\u{a0}",
            "=AAA",
            "AAAA=",
            "AAAA====",
        ] {
            let e = b64(bad).unwrap_err();
            assert!(e.is_invalid(), "{bad:?}");
        }
        // The output buffer is appended to, and untouched on error.
        let mut out = vec![9];
        base64("AQ==", &mut out).unwrap();
        assert!(base64("AB==", &mut out).is_err());
        assert_eq!(out, [9, 1]);
    }

    #[test]
    fn hex_binary() {
        let mut out = Vec::new();
        hex("", &mut out).unwrap();
        hex("00aFff", &mut out).unwrap();
        assert_eq!(out, [0, 0xaf, 0xff]);
        for bad in ["0", "0g", "0 0", "001", "éé", "０0", " 00"] {
            assert!(hex(bad, &mut out).is_err(), "{bad}");
        }
        assert_eq!(out, [0, 0xaf, 0xff]);
    }

    #[test]
    fn no_panic_on_any_input() {
        let seeds = ["aGVsbG8gd29ybGQ=", "AA = =", "00aFff", "AQ=="];
        let mut out = Vec::new();
        for s in fuzz_inputs(&seeds, 20_000) {
            let _ = (base64(&s, &mut out), hex(&s, &mut out));
            out.clear();
        }
    }
}
