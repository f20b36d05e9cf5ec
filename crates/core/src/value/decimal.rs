//! `xs:decimal`, `xs:integer` and the built-in integer types, as borrowed views of their digits, with exact
//! conversion to the scaled integers of Arrow `Decimal128` (NUMERIC) and `Decimal256` (BIGNUMERIC) columns.

use super::{ValueError, quote};
use arrow_buffer::i256;
use std::cmp::Ordering;
use std::fmt;

/// An `xs:decimal` value: a zero-allocation view of the digits of its lexical form.
///
/// The integer digits have no leading zeros and the fraction digits no trailing zeros, so zero is two empty
/// digit strings (and never negative: `-0` is `0`). Equality and order are those of the values.
#[derive(Debug, Clone, Copy)]
pub struct Decimal<'a> {
    neg: bool,
    int: &'a str,
    frac: &'a str,
    text: &'a str,
}

impl<'a> Decimal<'a> {
    /// True for a value below zero.
    pub fn is_negative(&self) -> bool {
        self.neg
    }

    /// The integer digits, without leading zeros (empty for a value whose magnitude is below 1).
    pub fn int_digits(&self) -> &'a str {
        self.int
    }

    /// The fraction digits, without trailing zeros (empty for an integer).
    pub fn frac_digits(&self) -> &'a str {
        self.frac
    }

    /// The text the value was parsed from.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// True for zero (whatever its sign and number of zeros).
    pub fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    /// The number of significant digits, as the totalDigits facet counts them: the smallest `t` such that
    /// the value is `i / 10^n` with `|i| < 10^t` and `n <= t` (so `0.012` has 3, `0` has 1).
    pub fn total_digits(&self) -> usize {
        (self.int.len() + self.frac.len()).max(1)
    }

    /// The number of fraction digits, as the fractionDigits facet counts them (trailing zeros do not count).
    pub fn fraction_digits(&self) -> usize {
        self.frac.len()
    }

    /// The value as an `i64` when it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        if !self.frac.is_empty() || self.int.len() > 19 {
            return None;
        }
        let mut magnitude: i128 = 0;
        for b in self.int.bytes() {
            magnitude = magnitude * 10 + i128::from(b - b'0');
        }
        i64::try_from(if self.neg { -magnitude } else { magnitude }).ok()
    }

    /// The value times `10^scale` as an `i128`, for a decimal column of `precision` digits of which `scale`
    /// are after the point (BigQuery NUMERIC is precision 38, scale 9).
    ///
    /// Unrepresentable when the value has more than `scale` fraction digits or more than
    /// `precision - scale` integer digits: the value is never rounded.
    pub fn to_scaled_i128(&self, scale: u32, precision: u32) -> Result<i128, ValueError> {
        self.check_fits(scale, precision)?;
        let mut acc: i128 = 0;
        let overflow = || self.overflow(scale, precision);
        for (chunk, n) in self.scaled_chunks(scale) {
            acc = acc
                .checked_mul(i128::from(POW10[n]))
                .and_then(|a| a.checked_add(i128::from(chunk)))
                .ok_or_else(overflow)?;
        }
        Ok(if self.neg { -acc } else { acc })
    }

    /// The value times `10^scale` as an `i256`, for a decimal column of `precision` digits of which `scale`
    /// are after the point (BigQuery BIGNUMERIC as Arrow `Decimal256(76, 38)`).
    pub fn to_scaled_i256(&self, scale: u32, precision: u32) -> Result<i256, ValueError> {
        self.check_fits(scale, precision)?;
        let overflow = || self.overflow(scale, precision);
        let pad = (scale as usize).saturating_sub(self.frac.len());
        if self.int.len() + self.frac.len() <= 19 && pad <= 38 {
            // Digits in a u64 (10^19 < 2^64) times 10^pad in a u128: a 192-bit product
            // from two 64 x 128-bit ones, with no i256 multiplication (GPX coordinates,
            // 16 digits scaled to 38 fraction digits, are all this case).
            let digits = self.int.bytes().chain(self.frac.bytes()).fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
            let p = POW10_U128[pad];
            let low = u128::from(digits) * (p & u128::from(u64::MAX));
            let high = u128::from(digits) * (p >> 64);
            let (low, carry) = low.overflowing_add(high << 64);
            // Below 10^19 * 10^38 < 2^190: the high half is below 2^62, a positive i128.
            let acc = i256::from_parts(low, ((high >> 64) + u128::from(carry)) as i128);
            return Ok(if self.neg { acc.checked_neg().ok_or_else(overflow)? } else { acc });
        }
        if self.int.len() + self.frac.len() <= 38 && pad <= 38 {
            // The digits and 10^pad each fit an i128 (10^38 < 2^127): one i256 product.
            // (A multiplication per digit was 17% of a GPX load.)
            let digits = self.int.bytes().chain(self.frac.bytes()).fold(0i128, |v, b| v * 10 + i128::from(b - b'0'));
            let acc = i256::from_i128(digits).checked_mul(i256::from_parts(POW10_U128[pad], 0)).ok_or_else(overflow)?;
            return Ok(if self.neg { acc.checked_neg().ok_or_else(overflow)? } else { acc });
        }
        let mut acc = i256::ZERO;
        // 18 digits at a time.
        for (chunk, n) in self.scaled_chunks(scale) {
            acc = acc
                .checked_mul(i256::from_i128(i128::from(POW10[n])))
                .and_then(|a| a.checked_add(i256::from_i128(i128::from(chunk))))
                .ok_or_else(overflow)?;
        }
        Ok(if self.neg { acc.checked_neg().ok_or_else(overflow)? } else { acc })
    }

    /// The digits of the value times `10^scale` (the caller checked the fraction fits in
    /// `scale`), at most [`CHUNK`] at a time: each chunk's value and its number of digits.
    fn scaled_chunks(&self, scale: u32) -> impl Iterator<Item = (u64, usize)> + '_ {
        let pad = (scale as usize).saturating_sub(self.frac.len());
        let mut digits = self.int.bytes().chain(self.frac.bytes()).chain(std::iter::repeat_n(b'0', pad));
        std::iter::from_fn(move || {
            let (mut value, mut n) = (0u64, 0);
            while n < CHUNK {
                let Some(b) = digits.next() else { break };
                value = value * 10 + u64::from(b - b'0');
                n += 1;
            }
            (n > 0).then_some((value, n))
        })
    }

    fn check_fits(&self, scale: u32, precision: u32) -> Result<(), ValueError> {
        // The column's name is spelled only for an error: this runs for every value.
        let column = || column_name(scale, precision);
        if self.frac.len() > scale as usize {
            return Err(ValueError::unrepresentable(format!(
                "{} has {} fraction digits; {} holds {scale} ({})",
                quote(self.text),
                self.frac.len(),
                column(),
                remedy(scale, precision)
            )));
        }
        let int_room = precision.saturating_sub(scale) as usize;
        if self.int.len() > int_room {
            return Err(ValueError::unrepresentable(format!(
                "{} has {} integer digits; {} holds {int_room} ({})",
                quote(self.text),
                self.int.len(),
                column(),
                remedy(scale, precision)
            )));
        }
        Ok(())
    }

    fn overflow(&self, scale: u32, precision: u32) -> ValueError {
        ValueError::unrepresentable(format!(
            "{} does not fit in {} ({})",
            quote(self.text),
            column_name(scale, precision),
            remedy(scale, precision)
        ))
    }
}

/// Digits per chunk of [`Decimal::scaled_chunks`]: the most a `u64` always holds.
const CHUNK: usize = 18;

/// `10^n` for a chunk of `n` digits.
const POW10: [u64; CHUNK + 1] = {
    let mut p = [1u64; CHUNK + 1];
    let mut i = 1;
    while i <= CHUNK {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// `10^n` for `n` up to 38 (10^38 < 2^127).
const POW10_U128: [u128; 39] = {
    let mut p = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

fn column_name(scale: u32, precision: u32) -> String {
    match (precision, scale) {
        (38, 9) => "NUMERIC".to_owned(),
        (76, 38) => "BIGNUMERIC".to_owned(),
        _ => format!("DECIMAL({precision}, {scale})"),
    }
}

fn remedy(scale: u32, precision: u32) -> &'static str {
    if (precision, scale) == (38, 9) { "map the column to BIGNUMERIC or STRING" } else { "map the column to STRING" }
}

impl PartialEq for Decimal<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal<'_> {}

impl PartialOrd for Decimal<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal<'_> {
    /// Value order (`-0 == 0`, `1.50 == 1.5`).
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (neg, _) => {
                let magnitude = self
                    .int
                    .len()
                    .cmp(&other.int.len())
                    .then_with(|| self.int.cmp(other.int))
                    // Trailing zeros are trimmed, so the digit strings order as the fractions do.
                    .then_with(|| self.frac.cmp(other.frac));
                if neg { magnitude.reverse() } else { magnitude }
            }
        }
    }
}

impl fmt::Display for Decimal<'_> {
    /// The canonical form: `-1.5`, `0`, `12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.neg {
            f.write_str("-")?;
        }
        f.write_str(if self.int.is_empty() { "0" } else { self.int })?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        Ok(())
    }
}

/// Parses the XSD decimal lexical form: optional sign, digits with an optional `.`, at least one digit, no
/// exponent. Only ASCII digits count (xmlschema also accepts other Unicode digits through Python's `int`; we
/// do not, as XSD says `[0-9]`).
fn parse(s: &str, allow_point: bool) -> Option<Decimal<'_>> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_end = i;
    let (frac_start, frac_end) = if allow_point && b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (start, i)
    } else {
        (i, i)
    };
    if i != b.len() || (int_end == int_start && frac_end == frac_start) {
        return None;
    }
    // All the bytes looked at are ASCII, so these indices are char boundaries; `get` keeps it total anyway.
    let int = s.get(int_start..int_end)?.trim_start_matches('0');
    let frac = s.get(frac_start..frac_end)?.trim_end_matches('0');
    let zero = int.is_empty() && frac.is_empty();
    Some(Decimal { neg: neg && !zero, int, frac, text: s })
}

/// An `xs:decimal`.
pub fn decimal(s: &str) -> Result<Decimal<'_>, ValueError> {
    parse(s, true).ok_or_else(|| ValueError::not_a(s, "decimal"))
}

/// `xs:decimal` for a NUMERIC column: [`decimal`], then [`Decimal::to_scaled_i128`]`(9, 38)`;
/// a value of at most 18 digits, at most 9 of them after the point, is read in one step
/// (same value, same verdicts).
pub fn decimal_as_numeric(s: &str) -> Result<i128, ValueError> {
    match plain_scaled(s.as_bytes()) {
        Some(v) => Ok(v),
        None => decimal(s)?.to_scaled_i128(9, 38),
    }
}

/// `-?[0-9]+(\.[0-9]*)?` of at most 18 digits, at most 9 of them after the point, times
/// 10^9; None for anything else.
#[inline]
fn plain_scaled(b: &[u8]) -> Option<i128> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    let (int, frac) = match digits.iter().position(|&c| c == b'.') {
        Some(p) => (&digits[..p], &digits[p + 1..]),
        None => (digits, &[][..]),
    };
    if int.is_empty() || int.len() + frac.len() > 18 || frac.len() > 9 {
        return None;
    }
    let mut v = 0i64;
    for &c in int.iter().chain(frac) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    let scaled = i128::from(v) * i128::from(POW10[9 - frac.len()]);
    Some(if neg { -scaled } else { scaled })
}

/// An `xs:integer` (no `.` at all, not even `1.0`).
pub fn integer(s: &str) -> Result<Decimal<'_>, ValueError> {
    parse(s, false).ok_or_else(|| ValueError::not_a(s, "integer"))
}

/// A decimal constant from generated code (a facet bound), checked when the code was generated.
///
/// # Panics
/// When `s` is not an `xs:decimal`: the code generator only emits constants it has parsed itself.
pub fn decimal_const(s: &'static str) -> Decimal<'static> {
    match parse(s, true) {
        Some(d) => d,
        None => panic!("decimal_const: {s:?} is not an xs:decimal"),
    }
}

/// The built-in types derived from `xs:integer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegerType {
    Integer,
    Long,
    Int,
    Short,
    Byte,
    NonNegativeInteger,
    PositiveInteger,
    NonPositiveInteger,
    NegativeInteger,
    UnsignedLong,
    UnsignedInt,
    UnsignedShort,
    UnsignedByte,
}

impl IntegerType {
    /// The XSD name, without prefix.
    pub fn name(self) -> &'static str {
        match self {
            IntegerType::Integer => "integer",
            IntegerType::Long => "long",
            IntegerType::Int => "int",
            IntegerType::Short => "short",
            IntegerType::Byte => "byte",
            IntegerType::NonNegativeInteger => "nonNegativeInteger",
            IntegerType::PositiveInteger => "positiveInteger",
            IntegerType::NonPositiveInteger => "nonPositiveInteger",
            IntegerType::NegativeInteger => "negativeInteger",
            IntegerType::UnsignedLong => "unsignedLong",
            IntegerType::UnsignedInt => "unsignedInt",
            IntegerType::UnsignedShort => "unsignedShort",
            IntegerType::UnsignedByte => "unsignedByte",
        }
    }

    /// The inclusive bounds of the value space (`None`: unbounded on that side).
    pub fn bounds(self) -> (Option<&'static str>, Option<&'static str>) {
        match self {
            IntegerType::Integer => (None, None),
            IntegerType::Long => (Some("-9223372036854775808"), Some("9223372036854775807")),
            IntegerType::Int => (Some("-2147483648"), Some("2147483647")),
            IntegerType::Short => (Some("-32768"), Some("32767")),
            IntegerType::Byte => (Some("-128"), Some("127")),
            IntegerType::NonNegativeInteger => (Some("0"), None),
            IntegerType::PositiveInteger => (Some("1"), None),
            IntegerType::NonPositiveInteger => (None, Some("0")),
            IntegerType::NegativeInteger => (None, Some("-1")),
            IntegerType::UnsignedLong => (Some("0"), Some("18446744073709551615")),
            IntegerType::UnsignedInt => (Some("0"), Some("4294967295")),
            IntegerType::UnsignedShort => (Some("0"), Some("65535")),
            IntegerType::UnsignedByte => (Some("0"), Some("255")),
        }
    }
}

/// An integer of the built-in type `ty`: Invalid when the text is not an `xs:integer` or the value is
/// outside the range of `ty` (`-0` is a valid `xs:unsignedByte`, as in xmlschema).
pub fn integer_of(s: &str, ty: IntegerType) -> Result<Decimal<'_>, ValueError> {
    let d = parse(s, false).ok_or_else(|| ValueError::not_a(s, ty.name()))?;
    let (min, max) = ty.bounds();
    let below = min.and_then(|m| parse(m, false)).is_some_and(|m| d < m);
    let above = max.and_then(|m| parse(m, false)).is_some_and(|m| d > m);
    if below || above {
        let range = format!("{}..={}", min.unwrap_or(""), max.unwrap_or(""));
        return Err(ValueError::invalid(format!("{} is not an xs:{} (out of the range {range})", quote(s), ty.name())));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ValueErrorKind;
    use crate::value::test_util::fuzz_inputs;

    fn d(s: &str) -> Decimal<'_> {
        decimal(s).unwrap()
    }

    #[test]
    fn numerics_read_in_one_step_are_what_the_digit_views_give() {
        // Digit strings of every length to 22 with the point at every place, signed and
        // not, with a stray byte, and around the 18-digit and 9-fraction-digit limits:
        // the same value or the same error as decimal then to_scaled_i128(9, 38).
        let mut inputs: Vec<String> = vec!["".into(), ".".into(), "-".into(), ".5".into(), "5.".into(), "-0".into()];
        for len in 1..=22 {
            let digits: String = (0..len).map(|k| char::from(b'0' + ((k * 7 + 3) % 10) as u8)).collect();
            for at in 0..=len {
                let v = format!("{}.{}", &digits[..at], &digits[at..]);
                for sign in ["", "-", "+"] {
                    inputs.push(format!("{sign}{v}"));
                    inputs.push(format!("{sign}{digits}"));
                }
                inputs.push(format!("{v}x"));
                inputs.push(v.replace('.', ","));
            }
        }
        inputs.extend(
            ["999999999999999999", "999999999.999999999", "0.0000000001", "1.0000000000", "00000000000000000001"]
                .map(String::from),
        );
        let mut fast = 0;
        for v in &inputs {
            let slow = decimal(v).and_then(|d| d.to_scaled_i128(9, 38));
            assert_eq!(decimal_as_numeric(v), slow, "{v}");
            fast += usize::from(plain_scaled(v.as_bytes()).is_some());
        }
        // In one step: "5.", "-0", the two 18-digit extremes; unsigned and with '-', each
        // digit string of up to 18 digits (once per place of the point) and each of those
        // with a point after a digit and at most 9 digits after it (10 places from 11 up).
        let with_point: usize = (1..=18).map(|len: usize| len.min(10)).sum();
        let without: usize = (1..=18).map(|len| len + 1).sum();
        assert_eq!(fast, 4 + 2 * with_point + 2 * without);
    }

    #[test]
    fn decimal_lexical_space() {
        // Each of these was checked against xmlschema's XMLSchema10 xs:decimal.
        for ok in
            ["0", "-0", "+0", "1", "+.5", "5.", "-1.50", "000123.4500", "0.0", ".0", "-.0", "12345678901234567890123"]
        {
            assert!(decimal(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", ".", "+", "-", "+-1", "1e3", "1E3", "1_0", "3,35", " 1", "1 ", "１２", "١", "é", "1.2.3", "0x10",
            "--1", "1-", "INF", "NaN", "1.é", "é1",
        ] {
            let err = decimal(bad).unwrap_err();
            assert_eq!(err.kind, ValueErrorKind::Invalid, "{bad}");
        }
        assert_eq!(decimal("3,35").unwrap_err().message, "\"3,35\" is not an xs:decimal");
    }

    #[test]
    fn integer_lexical_space() {
        for ok in ["0", "-0", "+7", "0012", "-9223372036854775809"] {
            assert!(integer(ok).is_ok(), "{ok}");
        }
        for bad in ["1.0", "1.", ".0", "", "+", "-", "１", "1e0", "0x"] {
            assert!(integer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_form_and_digits() {
        for (text, canon, total, fraction) in [
            ("-1.50", "-1.5", 2, 1),
            ("0", "0", 1, 0),
            ("-0.000", "0", 1, 0),
            ("012", "12", 2, 0),
            ("0.012", "0.012", 3, 3),
            ("0.0012", "0.0012", 4, 4),
            ("+123.00000", "123", 3, 0),
            ("1230", "1230", 4, 0),
            ("100.001", "100.001", 6, 3),
        ] {
            let v = d(text);
            assert_eq!(v.to_string(), canon, "{text}");
            assert_eq!(v.total_digits(), total, "{text}");
            assert_eq!(v.fraction_digits(), fraction, "{text}");
        }
        assert!(d("-0.0").is_zero() && !d("-0.0").is_negative());
        assert_eq!(d("-001.10").int_digits(), "1");
        assert_eq!(d("-001.10").frac_digits(), "1");
        assert_eq!(d("-001.10").text(), "-001.10");
    }

    #[test]
    fn order() {
        let sorted =
            ["-100", "-99.99", "-1.5", "-1", "-0.001", "0", "0.0001", "0.001", "0.5", "0.51", "0.6", "1", "10"];
        for (i, a) in sorted.iter().enumerate() {
            for (j, b) in sorted.iter().enumerate() {
                assert_eq!(d(a).cmp(&d(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
        assert_eq!(d("-0"), d("0.000"));
        assert_eq!(d("1.50"), d("01.5"));
        assert!(d("1.5") != d("1.05"));
        assert!(decimal_const("2.5") > d("2.49999"));
    }

    #[test]
    fn to_i64_bounds() {
        assert_eq!(d("9223372036854775807").to_i64(), Some(i64::MAX));
        assert_eq!(d("-9223372036854775808").to_i64(), Some(i64::MIN));
        assert_eq!(d("9223372036854775808").to_i64(), None);
        assert_eq!(d("-9223372036854775809").to_i64(), None);
        assert_eq!(d("00000000000000000000000042").to_i64(), Some(42));
        assert_eq!(d("-0").to_i64(), Some(0));
        assert_eq!(d("1.5").to_i64(), None);
        assert_eq!(d("1.0").to_i64(), Some(1));
        assert_eq!(d("99999999999999999999").to_i64(), None);
    }

    #[test]
    fn numeric_limits() {
        let max = format!("{}.{}", "9".repeat(29), "9".repeat(9));
        assert_eq!(d(&max).to_scaled_i128(9, 38).unwrap(), 10i128.pow(38) - 1);
        assert_eq!(d(&format!("-{max}")).to_scaled_i128(9, 38).unwrap(), -(10i128.pow(38) - 1));
        assert_eq!(d("1.5").to_scaled_i128(9, 38).unwrap(), 1_500_000_000);
        assert_eq!(d("-0.000000001").to_scaled_i128(9, 38).unwrap(), -1);
        assert_eq!(d("0").to_scaled_i128(9, 38).unwrap(), 0);
        assert_eq!(d("1.0000000000").to_scaled_i128(9, 38).unwrap(), 1_000_000_000);

        let e = d("1.0000000001").to_scaled_i128(9, 38).unwrap_err();
        assert_eq!(e.kind, ValueErrorKind::Unrepresentable);
        assert_eq!(
            e.message,
            "\"1.0000000001\" has 10 fraction digits; NUMERIC holds 9 (map the column to BIGNUMERIC or STRING)"
        );
        let big = "1".repeat(30);
        let e = d(&big).to_scaled_i128(9, 38).unwrap_err();
        assert_eq!(e.kind, ValueErrorKind::Unrepresentable);
        assert!(e.message.contains("has 30 integer digits; NUMERIC holds 29"), "{}", e.message);
        // Leading zeros are not digits of the value.
        assert!(d(&format!("000{}", "9".repeat(29))).to_scaled_i128(9, 38).is_ok());
        // Other precisions: the arithmetic is checked.
        assert!(d(&"9".repeat(39)).to_scaled_i128(0, 39).is_err());
        assert_eq!(d("12.34").to_scaled_i128(2, 4).unwrap(), 1234);
        assert!(d("123.4").to_scaled_i128(2, 4).is_err());
    }

    #[test]
    fn bignumeric_limits() {
        let max = format!("{}.{}", "9".repeat(38), "9".repeat(38));
        let v = d(&max).to_scaled_i256(38, 76).unwrap();
        let expected = i256::from_i128(10).checked_pow(76).unwrap().checked_sub(i256::ONE).unwrap();
        assert_eq!(v, expected);
        assert_eq!(d(&format!("-{max}")).to_scaled_i256(38, 76).unwrap(), expected.checked_neg().unwrap());
        assert_eq!(d("-1.5").to_scaled_i256(38, 76).unwrap(), i256::from_i128(-15 * 10i128.pow(37)));
        let e = d(&format!("0.{}1", "0".repeat(38))).to_scaled_i256(38, 76).unwrap_err();
        assert_eq!(e.kind, ValueErrorKind::Unrepresentable);
        assert!(e.message.contains("has 39 fraction digits; BIGNUMERIC holds 38 (map the column to STRING)"));
        let e = d(&"1".repeat(39)).to_scaled_i256(38, 76).unwrap_err();
        assert!(e.message.contains("has 39 integer digits; BIGNUMERIC holds 38"), "{}", e.message);
        // Too wide for 256 bits at all: an error, not a wrap.
        assert!(d(&"9".repeat(80)).to_scaled_i256(0, 200).is_err());
    }

    /// The conversions take digits in chunks (and one product for short BIGNUMERICs):
    /// they equal the plain digit-by-digit sum on values of every length and scale.
    #[test]
    fn chunked_conversions_equal_the_digit_by_digit_sum() {
        fn slow(v: &Decimal<'_>, scale: u32) -> Option<i256> {
            let pad = (scale as usize).checked_sub(v.frac.len())?;
            let digits = v.int.bytes().chain(v.frac.bytes()).chain(std::iter::repeat_n(b'0', pad));
            let ten = i256::from_i128(10);
            let mut acc = i256::ZERO;
            for b in digits {
                acc = acc.checked_mul(ten)?.checked_add(i256::from_i128(i128::from(b - b'0')))?;
            }
            if v.neg { acc.checked_neg() } else { Some(acc) }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut checked = 0;
        for int_len in 0..=40 {
            for frac_len in [0, 1, 2, 7, 9, 17, 18, 19, 37, 38, 39] {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let digit = |k: usize| char::from(b'0' + ((seed >> (k % 60)) % 10) as u8);
                let int: String = (0..int_len).map(|k| if k == 0 { '7' } else { digit(k) }).collect();
                let frac: String = (0..frac_len).map(|k| if k + 1 == frac_len { '3' } else { digit(k + 3) }).collect();
                let sign = if seed.is_multiple_of(2) { "-" } else { "" };
                let text = format!("{sign}{}.{frac}", if int.is_empty() { "0" } else { &int });
                let v = d(&text);
                for (scale, precision) in [(38, 76), (9, 38), (0, 76), (20, 76), (38, 60)] {
                    let want = slow(&v, scale).filter(|_| v.check_fits(scale, precision).is_ok());
                    assert_eq!(v.to_scaled_i256(scale, precision).ok(), want, "{text} as ({precision}, {scale})");
                    checked += 1;
                }
                let want = slow(&v, 9).filter(|_| v.check_fits(9, 38).is_ok()).map(|w| w.as_i128());
                assert_eq!(v.to_scaled_i128(9, 38).ok(), want, "{text} as NUMERIC");
            }
        }
        assert_eq!(checked, 41 * 11 * 5);
    }

    #[test]
    fn integer_types() {
        use IntegerType::*;
        let cases: &[(IntegerType, &[&str], &[&str])] = &[
            (Integer, &["-99999999999999999999999", "0"], &["1.0"]),
            (Long, &["-9223372036854775808", "9223372036854775807"], &["-9223372036854775809", "9223372036854775808"]),
            (Int, &["-2147483648", "2147483647"], &["-2147483649", "2147483648"]),
            (Short, &["-32768", "32767"], &["-32769", "32768"]),
            (Byte, &["-128", "127", "+0127"], &["-129", "128"]),
            (NonNegativeInteger, &["0", "-0", "+0", "00", "99999999999999999999999"], &["-1"]),
            (PositiveInteger, &["1", "+01"], &["0", "-0", "-1"]),
            (NonPositiveInteger, &["0", "+0", "-99999999999999999999999"], &["1"]),
            (NegativeInteger, &["-1"], &["-0", "0", "1"]),
            (UnsignedLong, &["-0", "18446744073709551615", "+018446744073709551615"], &["18446744073709551616", "-1"]),
            (UnsignedInt, &["4294967295"], &["4294967296"]),
            (UnsignedShort, &["65535"], &["65536"]),
            (UnsignedByte, &["-0", "255"], &["256", "-1"]),
        ];
        for (ty, ok, bad) in cases {
            for v in *ok {
                assert!(integer_of(v, *ty).is_ok(), "{v} {ty:?}");
            }
            for v in *bad {
                let e = integer_of(v, *ty).unwrap_err();
                assert_eq!(e.kind, ValueErrorKind::Invalid, "{v} {ty:?}");
            }
            assert!(integer_of("１", *ty).is_err());
            assert!(integer_of("", *ty).is_err());
        }
        assert_eq!(
            integer_of("256", UnsignedByte).unwrap_err().message,
            "\"256\" is not an xs:unsignedByte (out of the range 0..=255)"
        );
    }

    #[test]
    #[should_panic(expected = "is not an xs:decimal")]
    fn decimal_const_panics_on_bad_constant() {
        decimal_const("1e5");
    }

    #[test]
    fn no_panic_on_any_input() {
        let seeds = ["-1.5", "+0.000", "123456789012345678901234567890.123456789", "1e5", "é.1"];
        for s in fuzz_inputs(&seeds, 20_000) {
            for v in [decimal(&s), integer(&s), integer_of(&s, IntegerType::UnsignedLong)].into_iter().flatten() {
                let _ = (v.to_i64(), v.to_scaled_i128(9, 38), v.to_scaled_i256(38, 76), v.to_string());
                let _ = (v.to_scaled_i128(40, 2), v.to_scaled_i256(0, 300), v.total_digits());
            }
        }
    }
}
