//! `xs:duration`: the XSD 1.0 lexical form `-?PnYnMnDTnHnMnS`, its value as exact months and seconds, and
//! the partial order of XSD 1.0 §3.2.6.2.

use super::temporal::days_from_civil;
use super::{ValueError, quote};
use std::cmp::Ordering;
use std::fmt;

/// An `xs:duration` value: months and seconds, exact (the fraction of the seconds is kept as its digits).
///
/// The years, months, days, hours, minutes and seconds fields may have any number of digits; a value whose
/// months, days or time-of-day seconds do not fit in a `u64` is Unrepresentable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration<'a> {
    negative: bool,
    months: u64,
    days: u64,
    /// Hours, minutes and whole seconds, in seconds.
    time_seconds: u64,
    /// The fraction digits of the seconds, without trailing zeros.
    frac: &'a str,
}

impl<'a> Duration<'a> {
    /// True for a duration below zero (`-P0D` is zero, not negative).
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// True for a zero duration.
    pub fn is_zero(&self) -> bool {
        self.months == 0 && self.days == 0 && self.time_seconds == 0 && self.frac.is_empty()
    }

    fn signed(&self, v: i128) -> i128 {
        if self.negative { -v } else { v }
    }

    /// The months part, signed: years × 12 + months.
    pub fn months(&self) -> i128 {
        self.signed(i128::from(self.months))
    }

    /// The days field, signed (BigQuery INTERVAL keeps days apart from months and time).
    pub fn days(&self) -> i128 {
        self.signed(i128::from(self.days))
    }

    /// The hours, minutes and whole seconds fields in seconds, signed.
    pub fn time_seconds(&self) -> i128 {
        self.signed(i128::from(self.time_seconds))
    }

    /// The seconds part, signed and truncated toward zero: days × 86400 + hours × 3600 + minutes × 60 +
    /// whole seconds. The rest is [`Duration::frac_digits`], with the same sign.
    pub fn seconds(&self) -> i128 {
        self.signed(i128::from(self.days) * 86_400 + i128::from(self.time_seconds))
    }

    /// The fraction digits of the seconds, without trailing zeros.
    pub fn frac_digits(&self) -> &'a str {
        self.frac
    }

    /// The seconds part in µs, signed; Unrepresentable with more than 6 fraction digits.
    pub fn seconds_micros(&self) -> Result<i128, ValueError> {
        if self.frac.len() > 6 {
            return Err(ValueError::unrepresentable(format!(
                "\"{self}\" has {} fraction digits in its seconds; microseconds hold 6 (map the column to STRING)",
                self.frac.len()
            )));
        }
        let mut micros: i128 = 0;
        for k in 0..6 {
            micros = micros * 10 + self.frac.as_bytes().get(k).map_or(0, |c| i128::from(c - b'0'));
        }
        let magnitude = (i128::from(self.days) * 86_400 + i128::from(self.time_seconds)) * 1_000_000 + micros;
        Ok(self.signed(magnitude))
    }
}

impl fmt::Display for Duration<'_> {
    /// A lexical form of the value: `-P1Y2M3DT4H5M6.7S` with zero fields left out (`PT0S` for zero);
    /// hours, minutes and seconds are normalized (`PT36H` shows as `PT36H`, `PT3600S` as `PT1H`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str("P")?;
        let (years, months) = (self.months / 12, self.months % 12);
        for (v, unit) in [(years, 'Y'), (months, 'M'), (self.days, 'D')] {
            if v != 0 {
                write!(f, "{v}{unit}")?;
            }
        }
        let (h, m, s) = (self.time_seconds / 3600, self.time_seconds / 60 % 60, self.time_seconds % 60);
        if h != 0 || m != 0 || s != 0 || !self.frac.is_empty() || self.is_zero() {
            f.write_str("T")?;
            for (v, unit) in [(h, 'H'), (m, 'M')] {
                if v != 0 {
                    write!(f, "{v}{unit}")?;
                }
            }
            if s != 0 || !self.frac.is_empty() || (h == 0 && m == 0) {
                write!(f, "{s}")?;
                if !self.frac.is_empty() {
                    write!(f, ".{}", self.frac)?;
                }
                f.write_str("S")?;
            }
        }
        Ok(())
    }
}

/// Parses an `xs:duration`: `-?P(nY)?(nM)?(nD)?(T(nH)?(nM)?(n(.n+)?S)?)?` with at least one field, and at
/// least one field after a `T`. Only the seconds may have a fraction, with digits on both sides of the `.`
/// (`PT1.S` and `PT.5S` are refused, as by xmlschema).
pub fn duration(s: &str) -> Result<Duration<'_>, ValueError> {
    let fail = |why: &str| ValueError::invalid(format!("{} is not an xs:duration ({why})", quote(s)));
    let b = s.as_bytes();
    let mut i = 0;
    let negative = b.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    if b.get(i) != Some(&b'P') {
        return Err(fail("expected 'P'"));
    }
    i += 1;
    let mut overflow = false;
    let mut value = |digits: &[u8]| -> u64 {
        let v = digits.iter().try_fold(0u64, |acc, &c| acc.checked_mul(10)?.checked_add(u64::from(c - b'0')));
        overflow |= v.is_none();
        v.unwrap_or(0)
    };
    // The designators in the order they must come; a field may be left out, never repeated or reordered.
    const DATE: [u8; 3] = [b'Y', b'M', b'D'];
    const TIME: [u8; 3] = [b'H', b'M', b'S'];
    let mut fields = [0u64; 6];
    let mut frac: &str = "";
    let mut any = false;
    let mut in_time = false;
    let mut next_slot = 0; // index into DATE ++ TIME of the first designator still allowed
    loop {
        if !in_time && b.get(i) == Some(&b'T') {
            in_time = true;
            next_slot = 3;
            i += 1;
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(fail("'T' must be followed by an hours, minutes or seconds field"));
            }
            continue;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            break;
        }
        let digits = b.get(start..i).unwrap_or(&[]);
        let mut frac_digits: Option<&str> = None;
        if in_time && b.get(i) == Some(&b'.') {
            i += 1;
            let fstart = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == fstart {
                return Err(fail("expected digits after '.'"));
            }
            frac_digits = Some(s.get(fstart..i).unwrap_or(""));
        }
        let designators: &[u8; 3] = if in_time { &TIME } else { &DATE };
        let Some(&d) = b.get(i) else {
            return Err(fail("a number must be followed by a designator"));
        };
        let base = if in_time { 3 } else { 0 };
        let Some(pos) = designators.iter().position(|&x| x == d).map(|p| p + base) else {
            return Err(fail(if in_time {
                "expected H, M or S after a number in the time part"
            } else {
                "expected Y, M or D after a number (or 'T' before hours, minutes and seconds)"
            }));
        };
        if pos < next_slot {
            return Err(fail("the fields must come in the order Y M D T H M S, each at most once"));
        }
        if frac_digits.is_some() && d != b'S' {
            return Err(fail("only the seconds can have a fraction"));
        }
        if let Some(slot) = fields.get_mut(pos) {
            *slot = value(digits);
        }
        if let Some(f) = frac_digits {
            frac = f.trim_end_matches('0');
        }
        next_slot = pos + 1;
        any = true;
        i += 1;
    }
    if i != b.len() {
        return Err(fail("unexpected characters"));
    }
    if !any {
        return Err(fail("at least one field is required"));
    }
    let [y, mo, d, h, mi, sec] = fields;
    let months = y.checked_mul(12).and_then(|v| v.checked_add(mo));
    let time_seconds =
        h.checked_mul(3600).and_then(|v| v.checked_add(mi.checked_mul(60)?)).and_then(|v| v.checked_add(sec));
    let (Some(months), Some(time_seconds), false) = (months, time_seconds, overflow) else {
        return Err(ValueError::unrepresentable(format!(
            "{} is too long a duration to compute with (more than 2^64 months, days or seconds)",
            quote(s)
        )));
    };
    let mut v = Duration { negative, months, days: d, time_seconds, frac };
    v.negative = negative && !v.is_zero();
    Ok(v)
}

/// The instant, in seconds since the epoch, of `reference + d` (a reference date on day 1 at midnight UTC,
/// so adding months never has to pin the day), as a whole part and a fraction: `(whole, fraction)` where the
/// value is `whole + 0.fraction` if not `complement`, else `whole + (1 - 0.fraction)`.
fn instant_after<'a>(reference: (i128, u8), d: &Duration<'a>) -> (i128, Frac<'a>) {
    let (year, month) = reference;
    let total = year * 12 + i128::from(month) - 1 + d.months();
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let whole = days_from_civil(y, m, 1) * 86_400 + d.seconds();
    if d.negative && !d.frac.is_empty() {
        (whole - 1, Frac { digits: d.frac, complement: true })
    } else {
        (whole, Frac { digits: d.frac, complement: false })
    }
}

/// A fraction in [0, 1): `0.digits`, or `1 - 0.digits` when `complement` (digits without trailing zeros).
struct Frac<'a> {
    digits: &'a str,
    complement: bool,
}

impl Frac<'_> {
    fn digit(&self, k: usize) -> u8 {
        let b = self.digits.as_bytes();
        let Some(&c) = b.get(k) else { return 0 };
        let d = c - b'0';
        match (self.complement, k + 1 == b.len()) {
            (false, _) => d,
            (true, false) => 9 - d,
            (true, true) => 10 - d,
        }
    }

    fn cmp(&self, other: &Frac<'_>) -> Ordering {
        let n = self.digits.len().max(other.digits.len());
        (0..n).map(|k| self.digit(k).cmp(&other.digit(k))).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
    }
}

/// The partial order of durations (XSD 1.0 §3.2.6.2): `a` and `b` are added to each of 1696-09-01T00:00:00Z,
/// 1697-02-01T00:00:00Z, 1903-03-01T00:00:00Z and 1903-07-01T00:00:00Z; when the four results order the same
/// way that is the order, else it is indeterminate (`None`: `P1M` and `P30D`). `P1Y` equals `P12M`, `P1D`
/// equals `PT24H`.
pub fn duration_cmp(a: &Duration<'_>, b: &Duration<'_>) -> Option<Ordering> {
    const REFERENCES: [(i128, u8); 4] = [(1696, 9), (1697, 2), (1903, 3), (1903, 7)];
    let mut result = None;
    for reference in REFERENCES {
        let (wa, fa) = instant_after(reference, a);
        let (wb, fb) = instant_after(reference, b);
        let order = wa.cmp(&wb).then_with(|| fa.cmp(&fb));
        match result {
            None => result = Some(order),
            Some(o) if o != order => return None,
            Some(_) => {}
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ValueErrorKind;
    use crate::value::test_util::fuzz_inputs;

    fn d(s: &str) -> Duration<'_> {
        duration(s).unwrap()
    }

    #[test]
    fn lexical_space() {
        // Each verdict checked against xmlschema XMLSchema10 xs:duration.
        for ok in [
            "P1Y",
            "-P1Y",
            "P1Y2M3DT4H5M6.7S",
            "PT1.5S",
            "PT0S",
            "-PT0S",
            "PT36H",
            "P0Y",
            "P1M",
            "PT1M",
            "P1DT1S",
            "P0001Y",
            "PT0.000S",
            "P99999999999Y",
            "P1YT1H",
        ] {
            assert!(duration(ok).is_ok(), "{ok}");
        }
        for bad in [
            "P", "PT", "+P1Y", "PT1.S", "PT.5S", "P1.5Y", "P1YT", "PT1H1H", "P1D1Y", "P-1Y", "P1W", "p1Y", "P1y",
            "P1Y2MT", "PT1,5S", "", "-", "-P", "1Y", "P1", "PT1", "P1Y ", " P1Y", "PT1H2H", "PT1S1M", "P1M1M",
            "PT1.5M", "P１Y", "Pé", "P1YT1D", "PT1HT1M", "P1.5S",
        ] {
            let e = duration(bad).unwrap_err();
            assert_eq!(e.kind, ValueErrorKind::Invalid, "{bad}");
        }
        // Lexically fine, but beyond what we compute with.
        let e = duration("P99999999999999999999Y").unwrap_err();
        assert_eq!(e.kind, ValueErrorKind::Unrepresentable);
        assert!(duration("P1537228672809129302Y").unwrap_err().is_unrepresentable()); // x12 overflows u64
        assert!(duration(&format!("PT{}S", "9".repeat(25))).unwrap_err().is_unrepresentable());
        assert!(duration(&format!("P1{}Y", "x")).unwrap_err().is_invalid());
    }

    #[test]
    fn values() {
        let v = d("-P1Y2M3DT4H5M6.70S");
        assert!(v.is_negative());
        assert_eq!(v.months(), -14);
        assert_eq!(v.days(), -3);
        assert_eq!(v.time_seconds(), -(4 * 3600 + 5 * 60 + 6));
        assert_eq!(v.seconds(), -(3 * 86_400 + 4 * 3600 + 5 * 60 + 6));
        assert_eq!(v.frac_digits(), "7");
        assert_eq!(v.seconds_micros(), Ok(-((3 * 86_400 + 4 * 3600 + 5 * 60 + 6) * 1_000_000 + 700_000)));
        assert_eq!(v.to_string(), "-P1Y2M3DT4H5M6.7S");
        assert!(!d("-PT0S").is_negative() && d("-PT0.000S").is_zero());
        assert_eq!(d("-PT0S").to_string(), "PT0S");
        assert_eq!(d("PT3600S").to_string(), "PT1H");
        assert_eq!(d("P0000012M").to_string(), "P1Y");
        assert!(d("PT0.0000001S").seconds_micros().unwrap_err().is_unrepresentable());
        assert_eq!(d("PT0.0000010S").seconds_micros(), Ok(1));
    }

    #[test]
    fn order() {
        use Ordering::*;
        let cmp = |a: &str, b: &str| duration_cmp(&d(a), &d(b));
        // Examples of XSD 1.0 §3.2.6.2.
        assert_eq!(cmp("P1Y", "P364D"), Some(Greater));
        assert_eq!(cmp("P1Y", "P365D"), None);
        assert_eq!(cmp("P1Y", "P366D"), None);
        assert_eq!(cmp("P1Y", "P367D"), Some(Less));
        assert_eq!(cmp("P1M", "P27D"), Some(Greater));
        assert_eq!(cmp("P1M", "P28D"), None);
        assert_eq!(cmp("P1M", "P29D"), None);
        assert_eq!(cmp("P1M", "P30D"), None);
        assert_eq!(cmp("P1M", "P31D"), None);
        assert_eq!(cmp("P1M", "P32D"), Some(Less));
        assert_eq!(cmp("P5M", "P149D"), Some(Greater));
        assert_eq!(cmp("P5M", "P150D"), None);
        assert_eq!(cmp("P5M", "P153D"), None);
        assert_eq!(cmp("P5M", "P154D"), Some(Less));
        // Equalities.
        assert_eq!(cmp("P1Y", "P12M"), Some(Equal));
        assert_eq!(cmp("P1D", "PT24H"), Some(Equal));
        assert_eq!(cmp("PT1H", "PT60M"), Some(Equal));
        assert_eq!(cmp("PT1.50S", "PT1.5S"), Some(Equal));
        assert_eq!(cmp("-PT0S", "PT0S"), Some(Equal));
        // Fractions and signs.
        assert_eq!(cmp("PT1.5S", "PT1.25S"), Some(Greater));
        assert_eq!(cmp("-PT1.5S", "-PT1.25S"), Some(Less));
        assert_eq!(cmp("-PT0.5S", "PT0S"), Some(Less));
        assert_eq!(cmp("-PT0.5S", "-PT1S"), Some(Greater));
        assert_eq!(cmp("-PT0.05S", "-PT0.5S"), Some(Greater));
        assert_eq!(cmp("-PT1.000000000001S", "-PT1S"), Some(Less));
        assert_eq!(cmp("-P1M", "-P1M"), Some(Equal));
        assert_eq!(cmp("-P1M", "-P32D"), Some(Greater));
        assert_eq!(cmp("-P1M", "P0D"), Some(Less));
        // Enormous values do not overflow.
        let big = format!("P{}M", u64::MAX);
        assert_eq!(duration_cmp(&d(&big), &d("P1D")), Some(Greater));
        assert_eq!(duration_cmp(&d(&format!("-{big}")), &d(&big)), Some(Less));
        let big_s = format!("P{}DT{}S", u64::MAX, u64::MAX);
        assert_eq!(duration_cmp(&d(&big_s), &d(&big)), Some(Less));
    }

    #[test]
    fn no_panic_on_any_input() {
        let seeds = ["-P1Y2M3DT4H5M6.7S", "PT0.0000001S", "P18446744073709551615M", "PT1H"];
        let parsed: Vec<String> = fuzz_inputs(&seeds, 20_000);
        let values: Vec<Duration<'_>> = parsed.iter().filter_map(|s| duration(s).ok()).collect();
        for (k, v) in values.iter().enumerate() {
            let w = &values[(k * 7 + 3) % values.len()];
            let _ = (duration_cmp(v, w), v.seconds_micros(), v.to_string(), v.months(), v.seconds());
        }
    }
}
