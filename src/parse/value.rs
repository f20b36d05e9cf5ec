//! Parsers for XSD lexical values: exact, allocation-free, with errors that quote the rule.
//!
//! Numbers and dates follow the XSD `whitespace="collapse"` facet (surrounding
//! whitespace is ignored). Values BigQuery cannot hold exactly are errors, never
//! rounded: more than 9 decimal places, more than 29 integer digits, sub-microsecond
//! time, years outside 0001–9999.

use std::fmt;

/// XSD whitespace handling for string types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ws {
    /// xs:string: keep every character.
    Preserve,
    /// xs:normalizedString: tab, CR, LF → space.
    Replace,
    /// xs:token: replace, then trim and fold runs of spaces into one.
    Collapse,
}

/// Why a value does not parse as its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(v: &str, what: &str) -> Result<T, ValueError> {
    Err(ValueError(format!("{v:?} is not {what}")))
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn trim(v: &str) -> &str {
    v.trim_matches(is_ws)
}

/// Writes `v` into `dst` (reusing its allocation) with the whitespace rule `ws`.
pub fn set_ws(dst: &mut String, v: &str, ws: Ws) {
    dst.clear();
    match ws {
        Ws::Preserve => dst.push_str(v),
        Ws::Replace => dst.extend(v.chars().map(|c| if is_ws(c) { ' ' } else { c })),
        Ws::Collapse => {
            for (i, word) in v.split(is_ws).filter(|w| !w.is_empty()).enumerate() {
                if i > 0 {
                    dst.push(' ');
                }
                dst.push_str(word);
            }
        }
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// xs:integer (and kin) within `[min, max]`.
pub fn integer(v: &str, min: i64, max: i64) -> Result<i64, ValueError> {
    let s = trim(v);
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if !digits(body) {
        return err(v, "an xs:integer");
    }
    let mut n: i64 = 0;
    for b in body.bytes() {
        let d = i64::from(b - b'0');
        n = n
            .checked_mul(10)
            .and_then(|n| if neg { n.checked_sub(d) } else { n.checked_add(d) })
            .ok_or_else(|| ValueError(format!("{v:?} is out of range for INT64")))?;
    }
    if n < min || n > max {
        return Err(ValueError(format!("{v:?} is outside the type's range {min}..={max}")));
    }
    Ok(n)
}

/// NUMERIC's scale.
pub const DECIMAL_SCALE: u32 = 9;

/// xs:decimal as an i128 scaled by 10^9 (BigQuery NUMERIC), exact.
pub fn decimal(v: &str) -> Result<i128, ValueError> {
    let s = trim(v);
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty()) || !(int.is_empty() || digits(int)) || !(frac.is_empty() || digits(frac)) {
        return err(v, "an xs:decimal");
    }
    let int = int.trim_start_matches('0');
    if int.len() > 29 {
        return Err(ValueError(format!("{v:?} has more than 29 integer digits; NUMERIC cannot hold it")));
    }
    let kept = frac.trim_end_matches('0');
    if kept.len() > DECIMAL_SCALE as usize {
        return Err(ValueError(format!("{v:?} has more than {DECIMAL_SCALE} decimal places; NUMERIC would round it")));
    }
    let mut n: i128 = 0;
    for b in int.bytes().chain(kept.bytes()) {
        n = n * 10 + i128::from(b - b'0');
    }
    n *= 10i128.pow(DECIMAL_SCALE - kept.len() as u32);
    Ok(if neg { -n } else { n })
}

/// Formats a NUMERIC back to text (for messages and tests).
pub fn format_decimal(n: i128) -> String {
    let scale = 10i128.pow(DECIMAL_SCALE);
    let sign = if n < 0 { "-" } else { "" };
    let a = n.unsigned_abs();
    let (i, f) = (a / scale as u128, a % scale as u128);
    let f = format!("{f:09}");
    let f = f.trim_end_matches('0');
    if f.is_empty() { format!("{sign}{i}") } else { format!("{sign}{i}.{f}") }
}

/// xs:boolean.
pub fn boolean(v: &str) -> Result<bool, ValueError> {
    match trim(v) {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => err(v, "an xs:boolean (true, false, 1 or 0)"),
    }
}

/// xs:double / xs:float.
pub fn double(v: &str) -> Result<f64, ValueError> {
    let s = trim(v);
    match s {
        "INF" | "+INF" => return Ok(f64::INFINITY),
        "-INF" => return Ok(f64::NEG_INFINITY),
        "NaN" => return Ok(f64::NAN),
        _ => {}
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) {
        return err(v, "an xs:double");
    }
    s.parse().or_else(|_| err(v, "an xs:double"))
}

/// Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn num(s: &str, what: &str, v: &str) -> Result<u32, ValueError> {
    if s.len() == 2 && digits(s) { Ok(s.parse().expect("two digits")) } else { err(v, what) }
}

/// Parses `YYYY-MM-DD` at the start of `s`; returns days since the epoch and the rest.
fn parse_date<'a>(s: &'a str, v: &str, what: &str) -> Result<(i64, &'a str), ValueError> {
    if s.starts_with('-') || s.starts_with('+') {
        return Err(ValueError(format!("{v:?}: years before 0001 are outside BigQuery's range")));
    }
    let ylen = s.bytes().take_while(u8::is_ascii_digit).count();
    if ylen < 4 || (ylen > 4 && s.starts_with('0')) {
        return err(v, what);
    }
    let y: i64 = s[..ylen].parse().or_else(|_| err(v, what))?;
    let rest = &s[ylen..];
    if rest.len() < 6 || !rest.is_char_boundary(6) || &rest[..1] != "-" || &rest[3..4] != "-" {
        return err(v, what);
    }
    let m = num(&rest[1..3], what, v)?;
    let d = num(&rest[4..6], what, v)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(ValueError(format!("{v:?} is not a real calendar date")));
    }
    if !(1..=9999).contains(&y) {
        return Err(ValueError(format!("{v:?}: year {y} is outside BigQuery's range 0001-9999")));
    }
    Ok((days_from_civil(y, m, d), &rest[6..]))
}

/// Parses an optional zone (`Z`, `+hh:mm`, `-hh:mm`): its offset in seconds.
fn parse_zone(s: &str, v: &str, what: &str) -> Result<Option<i64>, ValueError> {
    match s {
        "" => Ok(None),
        "Z" => Ok(Some(0)),
        _ if s.len() == 6 && s.is_char_boundary(1) && (s.starts_with('+') || s.starts_with('-')) && &s[3..4] == ":" => {
            let h = num(&s[1..3], what, v)?;
            let m = num(&s[4..6], what, v)?;
            if h > 14 || m > 59 || (h == 14 && m > 0) {
                return err(v, what);
            }
            let off = i64::from(h * 3600 + m * 60);
            Ok(Some(if s.starts_with('-') { -off } else { off }))
        }
        _ => err(v, what),
    }
}

/// Parses a full dateTime: (microseconds as written, zone offset seconds).
fn parse_datetime(v: &str) -> Result<(i64, Option<i64>), ValueError> {
    const WHAT: &str = "an xs:dateTime (YYYY-MM-DDThh:mm:ss[.ffffff][Z|±hh:mm])";
    let s = trim(v);
    let (days, rest) = parse_date(s, v, WHAT)?;
    let rest = rest.strip_prefix('T').ok_or_else(|| ValueError(format!("{v:?} is not {WHAT}")))?;
    if rest.len() < 8 || !rest.is_char_boundary(8) || &rest[2..3] != ":" || &rest[5..6] != ":" {
        return err(v, WHAT);
    }
    let (h, mi, se) = (num(&rest[0..2], WHAT, v)?, num(&rest[3..5], WHAT, v)?, num(&rest[6..8], WHAT, v)?);
    let mut rest = &rest[8..];
    let mut micros: i64 = 0;
    let mut frac_nonzero = false;
    if let Some(f) = rest.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return err(v, WHAT);
        }
        let (fd, tail) = f.split_at(n);
        for (i, b) in fd.bytes().enumerate() {
            let dg = i64::from(b - b'0');
            if i < 6 {
                micros = micros * 10 + dg;
            } else if dg != 0 {
                return Err(ValueError(format!("{v:?} has sub-microsecond precision that BigQuery would drop")));
            }
            frac_nonzero |= dg != 0;
        }
        micros *= 10i64.pow(6u32.saturating_sub(n as u32));
        rest = tail;
    }
    let end_of_day = h == 24 && mi == 0 && se == 0 && !frac_nonzero;
    if (h > 23 && !end_of_day) || mi > 59 || se > 59 {
        return Err(ValueError(format!("{v:?} is not a valid time of day")));
    }
    let zone = parse_zone(rest, v, WHAT)?;
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + se);
    Ok((secs * 1_000_000 + micros, zone))
}

/// xs:dateTime without a zone: microseconds since 1970-01-01T00:00:00 (BigQuery DATETIME).
pub fn datetime(v: &str) -> Result<i64, ValueError> {
    match parse_datetime(v)? {
        (t, None) => Ok(t),
        (_, Some(_)) => Err(ValueError(format!(
            "{v:?} has a time zone, but this xs:dateTime column is a DATETIME (local time); \
             declare the element as xs:dateTimeStamp in the XSD to load zoned values as TIMESTAMP"
        ))),
    }
}

/// xs:dateTimeStamp (zone required): microseconds since the epoch, UTC (BigQuery TIMESTAMP).
pub fn timestamp(v: &str) -> Result<i64, ValueError> {
    match parse_datetime(v)? {
        (t, Some(off)) => Ok(t - off * 1_000_000),
        (_, None) => Err(ValueError(format!("{v:?} has no time zone, which xs:dateTimeStamp requires"))),
    }
}

/// xs:date: days since 1970-01-01 (a zone, if written, is checked and dropped).
pub fn date(v: &str) -> Result<i32, ValueError> {
    const WHAT: &str = "an xs:date (YYYY-MM-DD)";
    let (days, rest) = parse_date(trim(v), v, WHAT)?;
    parse_zone(rest, v, WHAT)?;
    Ok(days as i32)
}

/// Formats DATETIME microseconds as `YYYY-MM-DDThh:mm:ss[.ffffff]` (for messages and tests).
pub fn format_datetime(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let us = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let base = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60);
    if us == 0 { base } else { format!("{base}.{us:06}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_checked_not_wrapped() {
        assert_eq!(integer(" 42 ", i64::MIN, i64::MAX), Ok(42));
        assert_eq!(integer("-9223372036854775808", i64::MIN, i64::MAX), Ok(i64::MIN));
        assert!(integer("9223372036854775808", i64::MIN, i64::MAX).unwrap_err().0.contains("out of range"));
        assert!(integer("1.0", i64::MIN, i64::MAX).is_err());
        assert!(integer("", i64::MIN, i64::MAX).is_err());
        assert!(integer("70000", -32768, 32767).is_err());
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal("3.35"), Ok(3_350_000_000));
        assert_eq!(decimal("-0.000000001"), Ok(-1));
        assert_eq!(decimal(".5"), Ok(500_000_000));
        assert_eq!(decimal("7."), Ok(7_000_000_000));
        assert_eq!(decimal("1.0000000000000"), Ok(1_000_000_000));
        assert!(decimal("1.0000000001").unwrap_err().0.contains("9 decimal places"));
        assert!(decimal("abc").is_err());
        assert!(decimal(".").is_err());
        assert!(decimal("1e5").is_err());
        assert_eq!(
            format_decimal(decimal("99999999999999999999999999999.999999999").unwrap()),
            "99999999999999999999999999999.999999999"
        );
        assert!(decimal("100000000000000000000000000000").is_err());
        assert_eq!(format_decimal(-1_500_000_000), "-1.5");
    }

    #[test]
    fn datetimes() {
        assert_eq!(datetime("1997-05-06T00:00:00"), Ok(862_876_800_000_000));
        assert_eq!(datetime("1970-01-01T00:00:00.5"), Ok(500_000));
        assert_eq!(datetime("1999-12-31T24:00:00"), datetime("2000-01-01T00:00:00"));
        assert!(datetime("1997-02-30T00:00:00").is_err());
        assert!(datetime("1997-05-06").is_err());
        assert!(datetime("1997-05-06T25:00:00").is_err());
        assert!(datetime("1997-05-06T00:00:00Z").unwrap_err().0.contains("xs:dateTimeStamp"));
        assert!(datetime("1970-01-01T00:00:00.0000001").is_err());
        assert_eq!(timestamp("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(timestamp("1970-01-01T00:00:00Z"), Ok(0));
        assert!(timestamp("1970-01-01T00:00:00").is_err());
        assert_eq!(format_datetime(862_876_800_000_000), "1997-05-06T00:00:00");
        assert_eq!(date("2000-03-01"), Ok(11_017));
        assert!(date("2001-02-29").is_err());
    }

    #[test]
    fn whitespace_rules() {
        let mut s = String::from("old");
        set_ws(&mut s, "  a \t b\n ", Ws::Collapse);
        assert_eq!(s, "a b");
        set_ws(&mut s, "a\tb", Ws::Replace);
        assert_eq!(s, "a b");
        set_ws(&mut s, " O'Reilly  &  x ", Ws::Preserve);
        assert_eq!(s, " O'Reilly  &  x ");
    }

    #[test]
    fn booleans_and_doubles() {
        assert_eq!(boolean(" 1 "), Ok(true));
        assert!(boolean("yes").is_err());
        assert_eq!(double("-INF"), Ok(f64::NEG_INFINITY));
        assert_eq!(double("1.5e3"), Ok(1500.0));
        assert!(double("inf").is_err());
    }
}
