//! The XSD 1.0 date and time types (`dateTime`, `date`, `time`, the five `g` types, and XSD 1.1's
//! `dateTimeStamp`) in one [`Temporal`] value, with their order relation and the conversions into BigQuery
//! TIMESTAMP, DATETIME, DATE and TIME columns.
//!
//! Year numbering follows xmlschema in XSD 1.0 mode: years are the numbers as written (`0000` is invalid),
//! and the Gregorian leap rule is applied to that number, so `-0004-02-29` is valid and `-0001-02-29` is
//! not. (The XSD 1.0 text makes `-0001` 1 BCE, a leap year in the proleptic calendar; xmlschema does not,
//! and we match it. Only negative years differ, and BigQuery holds none of them.)

use super::{ValueError, quote};
use std::cmp::Ordering;
use std::fmt;

const MICROS_PER_SECOND: i128 = 1_000_000;
const MICROS_PER_MINUTE: i128 = 60 * MICROS_PER_SECOND;
const MICROS_PER_DAY: i128 = 86_400 * MICROS_PER_SECOND;
/// The zone XSD uses to order a zoned value against an unzoned one (§3.2.7.4).
const MAX_TZ_MINUTES: i16 = 14 * 60;

/// A value of any of the date and time types: the fields its lexical form has are `Some`.
///
/// `hour` is 24 only for `24:00:00` (which XSD 1.0 allows, meaning 00:00:00 of the next day); the
/// conversions and [`temporal_cmp`] read it so. `micros` holds the first six fraction digits;
/// `sub_micro` is true when a later digit is not zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Temporal {
    pub year: Option<i64>,
    pub month: Option<u8>,
    pub day: Option<u8>,
    pub hour: Option<u8>,
    pub minute: Option<u8>,
    pub second: Option<u8>,
    pub micros: u32,
    pub sub_micro: bool,
    /// The time zone offset in minutes east of UTC (`Z` is 0), between -840 and 840.
    pub tz_minutes: Option<i16>,
}

fn is_leap(year: i128) -> bool {
    // Years that fit an i64 (all real ones) skip the slow 128-bit remainder.
    match i64::try_from(year) {
        Ok(y) => y % 4 == 0 && (y % 100 != 0 || y % 400 == 0),
        Err(_) => year % 4 == 0 && (year % 100 != 0 || year % 400 == 0),
    }
}

fn days_in_month(year: Option<i128>, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        // Without a year (gMonthDay), February 29 exists.
        2 if year.is_none_or(is_leap) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's algorithm).
pub(super) fn days_from_civil(year: i128, month: u8, day: u8) -> i128 {
    // Years of up to 16 digits (all real ones) in 64-bit arithmetic: 128-bit division is
    // a slow library call. The result is the same.
    const FAST: i128 = 10_000_000_000_000_000;
    if year.abs() < FAST {
        return i128::from(days_from_civil_i64(year as i64, month, day));
    }
    days_from_civil_wide(year, month, day)
}

/// H. Hinnant's `days_from_civil` in one integer width (the year's).
macro_rules! days_from_civil_in {
    ($name:ident, $t:ty) => {
        fn $name(year: $t, month: u8, day: u8) -> $t {
            let (m, d) = (<$t>::from(month), <$t>::from(day));
            let y = if m <= 2 { year - 1 } else { year };
            let era = y.div_euclid(400);
            let yoe = y - era * 400;
            let mp = (m + 9) % 12;
            let doy = (153 * mp + 2) / 5 + d - 1;
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            era * 146_097 + doe - 719_468
        }
    };
}

days_from_civil_in!(days_from_civil_wide, i128);
days_from_civil_in!(days_from_civil_i64, i64);

/// The date of a day number (days since 1970-01-01).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i128::from(month <= 2);
    (i64::try_from(year).unwrap_or(if year < 0 { i64::MIN } else { i64::MAX }), month, day)
}

/// µs of 0001-01-01T00:00:00 and of 9999-12-31T23:59:59.999999 since the epoch: BigQuery's range.
fn bq_min_micros() -> i128 {
    days_from_civil(1, 1, 1) * MICROS_PER_DAY
}

fn bq_max_micros() -> i128 {
    days_from_civil(10_000, 1, 1) * MICROS_PER_DAY - 1
}

impl Temporal {
    /// Wall-clock µs since 1970-01-01T00:00:00 of the fields as written, with the fields a type lacks taken
    /// from the reference 1972-12-01T00:00:00 (1972 is a leap year, so `--02-29` has a place; December has
    /// 31 days, so `---31` has one).
    fn local_micros(&self) -> i128 {
        let year = self.year.map_or(1972, i128::from);
        let days = days_from_civil(year, self.month.unwrap_or(12), self.day.unwrap_or(1));
        let seconds = (i128::from(self.hour.unwrap_or(0)) * 60 + i128::from(self.minute.unwrap_or(0))) * 60
            + i128::from(self.second.unwrap_or(0));
        days * MICROS_PER_DAY + seconds * MICROS_PER_SECOND + i128::from(self.micros)
    }

    /// The UTC instant in µs when the value is read in zone `tz_minutes`.
    fn instant_in(&self, tz_minutes: i16) -> i128 {
        self.local_micros() - i128::from(tz_minutes) * MICROS_PER_MINUTE
    }

    fn require_date(&self, column: &str) -> Result<(), ValueError> {
        if self.year.is_some() && self.month.is_some() && self.day.is_some() {
            Ok(())
        } else {
            Err(ValueError::unrepresentable(format!("\"{self}\" has no full date for a {column} column")))
        }
    }

    fn require_micros(&self, column: &str) -> Result<(), ValueError> {
        if self.sub_micro {
            Err(ValueError::unrepresentable(format!(
                "\"{self}\" has non-zero digits after the 6th fraction digit; {column} holds microseconds \
                 (map the column to STRING)"
            )))
        } else {
            Ok(())
        }
    }

    fn in_bq_range(&self, micros: i128, column: &str, what: &str) -> Result<i64, ValueError> {
        if (bq_min_micros()..=bq_max_micros()).contains(&micros) {
            i64::try_from(micros).map_err(|_| self.out_of_range(column, what))
        } else {
            Err(self.out_of_range(column, what))
        }
    }

    fn out_of_range(&self, column: &str, what: &str) -> ValueError {
        ValueError::unrepresentable(format!(
            "\"{self}\" is outside the years 0001 to 9999{what}; BigQuery {column} cannot hold it (map the column \
             to STRING)"
        ))
    }

    /// The UTC instant in µs since 1970-01-01T00:00:00Z, for a TIMESTAMP column. An unzoned value is read in
    /// the zone `default_tz_minutes`.
    ///
    /// Unrepresentable when the value has no date, has sub-microsecond digits, or falls outside
    /// 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999Z once converted to UTC.
    pub fn to_timestamp_micros(&self, default_tz_minutes: i16) -> Result<i64, ValueError> {
        self.require_date("TIMESTAMP")?;
        self.require_micros("TIMESTAMP")?;
        let micros = self.instant_in(self.tz_minutes.unwrap_or(default_tz_minutes));
        self.in_bq_range(micros, "TIMESTAMP", " in UTC")
    }

    /// Wall-clock µs since 1970-01-01T00:00:00, for a DATETIME column; a zoned value is first converted to
    /// its UTC wall time. Unrepresentable as [`Temporal::to_timestamp_micros`].
    pub fn to_datetime_micros(&self) -> Result<i64, ValueError> {
        self.require_date("DATETIME")?;
        self.require_micros("DATETIME")?;
        let micros = self.instant_in(self.tz_minutes.unwrap_or(0));
        let what = if self.tz_minutes.is_some() { " in UTC" } else { "" };
        self.in_bq_range(micros, "DATETIME", what)
    }

    /// Days since 1970-01-01 of the date as written, for a DATE column: the zone is ignored, the time of a
    /// `dateTime` too (but `24:00:00` is the next day). Unrepresentable without a full date or outside the
    /// years 0001 to 9999.
    pub fn to_date_days(&self) -> Result<i32, ValueError> {
        self.require_date("DATE")?;
        let (Some(year), Some(month), Some(day)) = (self.year, self.month, self.day) else {
            return Err(self.out_of_range("DATE", ""));
        };
        let days = days_from_civil(i128::from(year), month, day) + i128::from(self.hour == Some(24));
        let range = days_from_civil(1, 1, 1)..=days_from_civil(9999, 12, 31);
        if range.contains(&days) {
            i32::try_from(days).map_err(|_| self.out_of_range("DATE", ""))
        } else {
            Err(self.out_of_range("DATE", ""))
        }
    }

    /// µs since midnight, for a TIME column; a zoned value is converted to UTC time of day (wrapping around
    /// midnight), `24:00:00` is 0. Unrepresentable without a time or with sub-microsecond digits.
    pub fn to_time_micros(&self) -> Result<i64, ValueError> {
        if self.hour.is_none() {
            return Err(ValueError::unrepresentable(format!("\"{self}\" has no time of day for a TIME column")));
        }
        self.require_micros("TIME")?;
        let of_day = Temporal { year: None, month: None, day: None, ..*self };
        let micros = of_day.instant_in(self.tz_minutes.unwrap_or(0)).rem_euclid(MICROS_PER_DAY);
        i64::try_from(micros).map_err(|_| self.out_of_range("TIME", ""))
    }
}

fn write_year(f: &mut impl fmt::Write, year: i64) -> fmt::Result {
    if year < 0 { write!(f, "-{:04}", year.unsigned_abs()) } else { write!(f, "{year:04}") }
}

fn write_fraction(f: &mut impl fmt::Write, micros: u32) -> fmt::Result {
    if micros == 0 {
        return Ok(());
    }
    let digits = format!("{micros:06}");
    write!(f, ".{}", digits.trim_end_matches('0'))
}

impl fmt::Display for Temporal {
    /// The lexical form of the fields present (sub-microsecond digits are shown as `...`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut has_date = false;
        if let Some(year) = self.year {
            write_year(f, year)?;
            has_date = true;
        }
        if let Some(month) = self.month {
            f.write_str(if has_date { "-" } else { "--" })?;
            write!(f, "{month:02}")?;
            has_date = true;
        }
        if let Some(day) = self.day {
            f.write_str(if has_date { "-" } else { "---" })?;
            write!(f, "{day:02}")?;
            has_date = true;
        }
        if let Some(hour) = self.hour {
            if has_date {
                f.write_str("T")?;
            }
            write!(f, "{hour:02}:{:02}:{:02}", self.minute.unwrap_or(0), self.second.unwrap_or(0))?;
            if self.sub_micro {
                write!(f, ".{:06}...", self.micros)?;
            } else {
                write_fraction(f, self.micros)?;
            }
        }
        match self.tz_minutes {
            None => Ok(()),
            Some(0) => f.write_str("Z"),
            Some(tz) => {
                let sign = if tz < 0 { '-' } else { '+' };
                let abs = tz.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
            }
        }
    }
}

/// The order relation of XSD 1.0 §3.2.7.4: values with a zone are compared as instants, values without one
/// as if they were in UTC; a zoned value `P` and an unzoned `Q` compare only when `P` is before `Q` read at
/// +14:00 or after `Q` read at -14:00, else the order is indeterminate (`None`).
///
/// Fields a type lacks are taken from the same reference date, so values of the same type compare as the
/// type's values do. Two values that differ only after the 6th fraction digit compare equal when both have
/// such digits (the digits are not kept); otherwise the one with them is greater.
pub fn temporal_cmp(a: &Temporal, b: &Temporal) -> Option<Ordering> {
    let key = |t: &Temporal, tz: i16| (t.instant_in(tz), t.sub_micro);
    match (a.tz_minutes, b.tz_minutes) {
        (Some(x), Some(y)) => Some(key(a, x).cmp(&key(b, y))),
        (None, None) => Some(key(a, 0).cmp(&key(b, 0))),
        (Some(x), None) => {
            let p = key(a, x);
            if p < key(b, MAX_TZ_MINUTES) {
                Some(Ordering::Less)
            } else if p > key(b, -MAX_TZ_MINUTES) {
                Some(Ordering::Greater)
            } else {
                None
            }
        }
        (None, Some(_)) => temporal_cmp(b, a).map(Ordering::reverse),
    }
}

/// `YYYY-MM-DDThh:mm:ss[.ffffff]Z` for µs since the epoch (fraction trimmed, absent when zero).
pub fn format_timestamp_micros(micros: i64) -> String {
    let mut s = format_datetime_micros(micros);
    s.push('Z');
    s
}

/// `YYYY-MM-DDThh:mm:ss[.ffffff]` for wall-clock µs since 1970-01-01T00:00:00.
pub fn format_datetime_micros(micros: i64) -> String {
    let m = i128::from(micros);
    let days = i64::try_from(m.div_euclid(MICROS_PER_DAY)).unwrap_or(0);
    let mut s = format_days(days);
    s.push('T');
    s.push_str(&format_time_micros(micros));
    s
}

/// `YYYY-MM-DD` for days since 1970-01-01.
pub fn format_date_days(days: i32) -> String {
    format_days(i64::from(days))
}

fn format_days(days: i64) -> String {
    use fmt::Write as _;
    let (year, month, day) = civil_from_days(days);
    let mut s = String::with_capacity(10);
    let _ = write_year(&mut s, year);
    let _ = write!(s, "-{month:02}-{day:02}");
    s
}

/// `hh:mm:ss[.ffffff]` for µs since midnight (taken modulo a day).
pub fn format_time_micros(micros: i64) -> String {
    use fmt::Write as _;
    let of_day = i128::from(micros).rem_euclid(MICROS_PER_DAY);
    let seconds = of_day / MICROS_PER_SECOND;
    let mut s = String::with_capacity(15);
    let _ = write!(s, "{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
    let _ = write_fraction(&mut s, u32::try_from(of_day % MICROS_PER_SECOND).unwrap_or(0));
    s
}

/// A cursor over the ASCII bytes of a lexical form; every failure is a reason for the message.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

type Step<T> = Result<T, &'static str>;

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, c: u8, why: &'static str) -> Step<()> {
        if self.eat(c) { Ok(()) } else { Err(why) }
    }

    fn digits(&mut self) -> &[u8] {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.b.get(start..self.i).unwrap_or(&[])
    }

    fn two(&mut self, why: &'static str) -> Step<u8> {
        match self.digits() {
            [a, b] => Ok((a - b'0') * 10 + (b - b'0')),
            _ => Err(why),
        }
    }

    /// `-?YYYY+`: at least four digits, no leading zero past four, not zero. Returns the year, `None` when
    /// it does not fit an i64 (the caller makes that Unrepresentable once the whole form is known valid),
    /// and whether the year is a leap year (known from the last four digits whatever the length).
    fn year(&mut self) -> Step<(Option<i64>, bool)> {
        let neg = self.eat(b'-');
        let digits = self.digits();
        if digits.len() < 4 {
            return Err("the year needs at least four digits");
        }
        if digits.len() > 4 && digits.first() == Some(&b'0') {
            return Err("a year of more than four digits cannot start with 0");
        }
        if digits.iter().all(|&c| c == b'0') {
            return Err("there is no year 0000 in XSD 1.0");
        }
        let value =
            |ds: &[u8]| ds.iter().try_fold(0i64, |acc, &c| acc.checked_mul(10)?.checked_add(i64::from(c - b'0')));
        let last4 = value(digits.get(digits.len() - 4..).unwrap_or(&[])).unwrap_or(0);
        let year = value(digits).map(|y| if neg { -y } else { y });
        Ok((year, is_leap(i128::from(last4))))
    }

    fn month(&mut self) -> Step<u8> {
        let m = self.two("the month needs two digits")?;
        if (1..=12).contains(&m) { Ok(m) } else { Err("the month must be 01 to 12") }
    }

    fn day(&mut self) -> Step<u8> {
        let d = self.two("the day needs two digits")?;
        if (1..=31).contains(&d) { Ok(d) } else { Err("the day must be 01 to 31") }
    }

    /// `YYYY-MM-DDThh:mm:ss` and no digit after it, the form almost every `xs:dateTime`
    /// takes, read in one step into `t` (then the rest of the time as [`Cursor::time`]
    /// reads it). Returns whether the year is a leap year; None (nothing read) for any
    /// other form, which the field-by-field steps read (or explain).
    fn fixed_date_time(&mut self, t: &mut Temporal) -> Option<Step<bool>> {
        let b = self.b.get(self.i..)?;
        if b.get(19).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (year, month, day, hour, minute, second) = fixed_fields(b)?;
        self.i += 19;
        let checked = (|| {
            if year == 0 {
                return Err("there is no year 0000 in XSD 1.0");
            }
            if !(1..=12).contains(&month) {
                return Err("the month must be 01 to 12");
            }
            if !(1..=31).contains(&day) {
                return Err("the day must be 01 to 31");
            }
            t.year = Some(year);
            (t.month, t.day) = (Some(month), Some(day));
            self.rest_of_time(t, hour, minute, second)
        })();
        Some(checked.map(|()| is_leap(i128::from(year))))
    }

    /// `hh:mm:ss(.s+)?` into `t`.
    fn time(&mut self, t: &mut Temporal) -> Step<()> {
        let hour = self.two("the hour needs two digits")?;
        self.expect(b':', "expected ':' after the hour")?;
        let minute = self.two("the minutes need two digits")?;
        self.expect(b':', "expected ':' after the minutes")?;
        let second = self.two("the seconds need two digits")?;
        self.rest_of_time(t, hour, minute, second)
    }

    /// The fraction after `hh:mm:ss` (read already), and the checks of the time, into `t`.
    fn rest_of_time(&mut self, t: &mut Temporal, hour: u8, minute: u8, second: u8) -> Step<()> {
        if self.eat(b'.') {
            let frac = self.digits();
            if frac.is_empty() {
                return Err("expected digits after '.'");
            }
            let mut micros = 0u32;
            for k in 0..6 {
                micros = micros * 10 + frac.get(k).map_or(0, |c| u32::from(c - b'0'));
            }
            t.micros = micros;
            t.sub_micro = frac.iter().skip(6).any(|&c| c != b'0');
        }
        if hour > 24 || (hour == 24 && (minute != 0 || second != 0 || t.micros != 0 || t.sub_micro)) {
            return Err("the hour must be 00 to 23, or 24:00:00");
        }
        if minute > 59 {
            return Err("the minutes must be 00 to 59");
        }
        if second > 59 {
            return Err("the seconds must be 00 to 59");
        }
        (t.hour, t.minute, t.second) = (Some(hour), Some(minute), Some(second));
        Ok(())
    }

    /// `(Z|(+|-)hh:mm)?` with |offset| <= 14:00.
    fn zone(&mut self) -> Step<Option<i16>> {
        let sign = match self.peek() {
            Some(b'Z') => {
                self.i += 1;
                return Ok(Some(0));
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Ok(None),
        };
        self.i += 1;
        let hh = self.two("the time zone hours need two digits")?;
        self.expect(b':', "expected ':' in the time zone")?;
        let mm = self.two("the time zone minutes need two digits")?;
        if mm > 59 {
            return Err("the time zone minutes must be 00 to 59");
        }
        let minutes = i16::from(hh) * 60 + i16::from(mm);
        if minutes > MAX_TZ_MINUTES {
            return Err("the time zone must be within -14:00 and +14:00");
        }
        Ok(Some(sign * minutes))
    }

    fn end(&self) -> Step<()> {
        if self.i == self.b.len() { Ok(()) } else { Err("unexpected characters") }
    }
}

/// Which fields a type's lexical form has.
#[derive(Clone, Copy)]
enum Form {
    DateTime,
    Date,
    Time,
    GYear,
    GYearMonth,
    GMonthDay,
    GMonth,
    GDay,
}

fn parse(s: &str, form: Form, type_name: &str, zone_required: bool) -> Result<Temporal, ValueError> {
    parse_with(s, form, type_name, zone_required, true)
}

/// [`parse`]; `fast`: an `xs:dateTime` of the usual form is read in one step
/// ([`Cursor::fixed_date_time`]), with the verdict and value of the field-by-field steps.
fn parse_with(s: &str, form: Form, type_name: &str, zone_required: bool, fast: bool) -> Result<Temporal, ValueError> {
    let mut c = Cursor { b: s.as_bytes(), i: 0 };
    let mut t = Temporal::default();
    let mut year_overflow = false;
    let mut run = || -> Step<()> {
        let mut leap = None;
        let mut year = |c: &mut Cursor<'_>, t: &mut Temporal| -> Step<()> {
            let (y, is_leap) = c.year()?;
            t.year = y;
            year_overflow = y.is_none();
            leap = Some(is_leap);
            Ok(())
        };
        let fixed = if fast && matches!(form, Form::DateTime) { c.fixed_date_time(&mut t) } else { None };
        match (form, fixed) {
            (_, Some(read)) => leap = Some(read?),
            (Form::DateTime | Form::Date | Form::GYear | Form::GYearMonth, None) => {
                year(&mut c, &mut t)?;
                if !matches!(form, Form::GYear) {
                    c.expect(b'-', "expected '-' after the year")?;
                    t.month = Some(c.month()?);
                }
                if matches!(form, Form::DateTime | Form::Date) {
                    c.expect(b'-', "expected '-' after the month")?;
                    t.day = Some(c.day()?);
                }
                if matches!(form, Form::DateTime) {
                    c.expect(b'T', "expected 'T' between the date and the time")?;
                    c.time(&mut t)?;
                }
            }
            (Form::Time, None) => c.time(&mut t)?,
            (Form::GMonthDay | Form::GMonth, None) => {
                c.expect(b'-', "expected '--' before the month")?;
                c.expect(b'-', "expected '--' before the month")?;
                t.month = Some(c.month()?);
                if matches!(form, Form::GMonthDay) {
                    c.expect(b'-', "expected '-' after the month")?;
                    t.day = Some(c.day()?);
                }
            }
            (Form::GDay, None) => {
                for _ in 0..3 {
                    c.expect(b'-', "expected '---' before the day")?;
                }
                t.day = Some(c.day()?);
            }
        }
        if let (Some(month), Some(day)) = (t.month, t.day) {
            let year = leap.map(|l| if l { 2000 } else { 2001 });
            if day > days_in_month(year, month) {
                return Err("that day does not exist in that month");
            }
        }
        t.tz_minutes = c.zone()?;
        c.end()?;
        if zone_required && t.tz_minutes.is_none() {
            return Err("a time zone is required");
        }
        Ok(())
    };
    match run() {
        Ok(()) if year_overflow => Err(ValueError::unrepresentable(format!(
            "{} has a year too large to compute with (map the column to STRING)",
            quote(s)
        ))),
        Ok(()) => Ok(t),
        Err(why) => Err(ValueError::invalid(format!("{} is not an xs:{type_name} ({why})", quote(s)))),
    }
}

/// `xs:dateTime`: `-?YYYY-MM-DDThh:mm:ss(.s+)?(zone)?`.
pub fn date_time(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::DateTime, "dateTime", false)
}

/// `xs:dateTime` for a DATETIME column: [`date_time`], then
/// [`Temporal::to_datetime_micros`]; the form almost every value takes,
/// `YYYY-MM-DDThh:mm:ss`, is read in one step (same value, same verdicts).
pub fn date_time_as_datetime(s: &str) -> Result<i64, ValueError> {
    match plain_local_micros(s.as_bytes()) {
        Some(micros) => Ok(micros),
        None => date_time(s)?.to_datetime_micros(),
    }
}

/// `xs:dateTime` for a TIMESTAMP column: [`date_time`], then
/// [`Temporal::to_timestamp_micros`]; `YYYY-MM-DDThh:mm:ss`, unzoned or in `Z`, is read
/// in one step (same value, same verdicts).
pub fn date_time_as_timestamp(s: &str, default_tz_minutes: i16) -> Result<i64, ValueError> {
    let (local, tz) = match s.as_bytes() {
        [local @ .., b'Z'] => (local, 0),
        local => (local, default_tz_minutes),
    };
    let instant = plain_local_micros(local)
        .map(|m| i128::from(m) - i128::from(tz) * MICROS_PER_MINUTE)
        .filter(|m| (bq_min_micros()..=bq_max_micros()).contains(m))
        .and_then(|m| i64::try_from(m).ok());
    match instant {
        Some(micros) => Ok(micros),
        None => date_time(s)?.to_timestamp_micros(default_tz_minutes),
    }
}

/// `YYYY-MM-DDThh:mm:ss` exactly, every field in its range (a day of that month, no
/// `24:00:00`), as µs since 1970-01-01T00:00:00 of that wall time; None for anything
/// else, which the field-by-field reading takes (and explains).
#[inline]
fn plain_local_micros(b: &[u8]) -> Option<i64> {
    if b.len() != 19 {
        return None;
    }
    let (year, month, day, hour, minute, second) = fixed_fields(b)?;
    if year == 0
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(Some(i128::from(year)), month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let (hour, minute, second) = (i64::from(hour), i64::from(minute), i64::from(second));
    let days = days_from_civil_i64(year, month, day);
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1_000_000)
}

/// The fields of the `YYYY-MM-DDThh:mm:ss` that `b` starts with, digits where digits go
/// (their ranges unchecked): year, month, day, hour, minute, second. None for any other
/// shape.
#[inline]
fn fixed_fields(b: &[u8]) -> Option<(i64, u8, u8, u8, u8, u8)> {
    let b: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    // Every digit place at once (no branch per digit), then the fields.
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if DIGITS.iter().fold(false, |bad, &k| bad | (b[k].wrapping_sub(b'0') > 9)) {
        return None;
    }
    let two = |k: usize| (b[k] - b'0') * 10 + (b[k + 1] - b'0');
    let year = i64::from(two(0)) * 100 + i64::from(two(2));
    Some((year, two(5), two(8), two(11), two(14), two(17)))
}

/// `xs:dateTimeStamp` (XSD 1.1): an `xs:dateTime` with a required zone.
pub fn date_time_stamp(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::DateTime, "dateTimeStamp", true)
}

/// `xs:date`: `-?YYYY-MM-DD(zone)?`.
pub fn date(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::Date, "date", false)
}

/// `xs:time`: `hh:mm:ss(.s+)?(zone)?`.
pub fn time(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::Time, "time", false)
}

/// `xs:gYear`: `-?YYYY(zone)?`.
pub fn g_year(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::GYear, "gYear", false)
}

/// `xs:gYearMonth`: `-?YYYY-MM(zone)?`.
pub fn g_year_month(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::GYearMonth, "gYearMonth", false)
}

/// `xs:gMonthDay`: `--MM-DD(zone)?` (`--02-29` is valid).
pub fn g_month_day(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::GMonthDay, "gMonthDay", false)
}

/// `xs:gMonth`: `--MM(zone)?`. The `--MM--` form of the first edition's erratum is refused, as xmlschema
/// refuses it in XSD 1.0 mode.
pub fn g_month(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::GMonth, "gMonth", false)
}

/// `xs:gDay`: `---DD(zone)?`.
pub fn g_day(s: &str) -> Result<Temporal, ValueError> {
    parse(s, Form::GDay, "gDay", false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ValueErrorKind;
    use crate::value::test_util::fuzz_inputs;

    #[test]
    fn date_times_read_in_one_step_are_what_the_field_by_field_reading_gives() {
        // Every combination of fields around their limits (year 0000, leap and common
        // Februaries, day 0 and 32, 24:00:00, minute and second 60), in the usual form
        // and with a fraction, a zone or one byte more or less: the same value or the
        // same error as date_time then to_datetime_micros / to_timestamp_micros.
        let years = ["0000", "0001", "1600", "1900", "1970", "2000", "2023", "2024", "9999"];
        let (months, days) = (["00", "01", "02", "04", "12", "13"], ["00", "01", "28", "29", "30", "31", "32"]);
        let (hours, sixties) = (["00", "23", "24"], ["00", "59", "60"]);
        let suffixes = ["", "Z", ".5", "+01:00", "-14:00", "Z ", "0"];
        let mut fast = 0;
        for y in years {
            for m in months {
                for d in days {
                    for h in hours {
                        for mi in sixties {
                            for s in sixties {
                                for x in suffixes {
                                    let v = format!("{y}-{m}-{d}T{h}:{mi}:{s}{x}");
                                    let slow = date_time(&v).and_then(|t| t.to_datetime_micros());
                                    assert_eq!(date_time_as_datetime(&v), slow, "{v}");
                                    for tz in [0, 60, -840] {
                                        let slow = date_time(&v).and_then(|t| t.to_timestamp_micros(tz));
                                        assert_eq!(date_time_as_timestamp(&v, tz), slow, "{v} in {tz}");
                                    }
                                    fast +=
                                        usize::from(plain_local_micros(v.trim_end_matches('Z').as_bytes()).is_some());
                                }
                            }
                        }
                    }
                }
            }
        }
        // Read in one step: the dates that exist (17 in each of the 3 leap years, 16 in
        // each of the 5 common ones), at 2 hours, minutes and seconds each, unzoned and in Z.
        assert_eq!(fast, (3 * 17 + 5 * 16) * 2 * 2 * 2 * 2);
    }

    #[test]
    fn day_numbers_agree_in_64_and_128_bits() {
        let years = (-2001..=2401).chain([-9_999_999_999_999_999, 9_999_999_999_999_999, 123_456_789_012]);
        for y in years {
            for (m, d) in [(1, 1), (2, 28), (2, 29), (3, 1), (12, 31)] {
                assert_eq!(
                    i128::from(days_from_civil_i64(y, m, d)),
                    days_from_civil_wide(i128::from(y), m, d),
                    "{y}-{m}-{d}"
                );
            }
            assert_eq!(is_leap(i128::from(y)), y.rem_euclid(4) == 0 && (y % 100 != 0 || y % 400 == 0), "{y}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    fn ts(s: &str) -> Result<i64, ValueError> {
        date_time(s).and_then(|t| t.to_timestamp_micros(0))
    }

    #[test]
    fn the_one_step_date_time_agrees_with_the_field_by_field_steps() {
        // The usual form takes the one step; others do not.
        let mut t = Temporal::default();
        let mut c = Cursor { b: b"2000-02-29T23:59:59Z", i: 0 };
        assert_eq!(c.fixed_date_time(&mut t), Some(Ok(true)));
        assert_eq!(
            (c.i, t.year, t.month, t.day, t.hour, t.second),
            (19, Some(2000), Some(2), Some(29), Some(23), Some(59))
        );
        assert_eq!(Cursor { b: b"-2000-02-29T23:59:59", i: 0 }.fixed_date_time(&mut t), None);
        assert_eq!(Cursor { b: b"2000-02-29T23:59:590", i: 0 }.fixed_date_time(&mut t), None);
        let mut checked = 0;
        for y in ["0000", "0001", "1900", "1999", "2000", "2024", "9999", "-2000", "02000", "20a0"] {
            for m in ["00", "01", "02", "04", "12", "13", "1"] {
                for d in ["00", "01", "28", "29", "30", "31", "32"] {
                    for time in ["00:00:00", "23:59:59", "24:00:00", "24:00:01", "12:60:00", "12:00:60", "7:00:00"] {
                        for rest in ["", "Z", ".5", ".0000001", "+14:00", "+14:01", "-05:30", "1", "x", ".", ".000000Z"]
                        {
                            for sep in ["T", "t"] {
                                let v = format!("{y}-{m}-{d}{sep}{time}{rest}");
                                let general = parse_with(&v, Form::DateTime, "dateTime", false, false);
                                assert_eq!(date_time(&v), general, "{v}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 10 * 7 * 7 * 7 * 11 * 2);
    }

    #[test]
    fn date_time_lexical_space() {
        // Each verdict checked against xmlschema XMLSchema10 xs:dateTime.
        for ok in [
            "2000-01-01T00:00:00",
            "-0001-01-01T00:00:00",
            "10000-01-01T00:00:00",
            "12000-12-31T00:00:00",
            "2000-01-01T24:00:00",
            "2000-01-01T24:00:00.0",
            "2000-02-29T00:00:00",
            "-0004-02-29T00:00:00",
            "-0400-02-29T00:00:00",
            "2000-01-01T00:00:00+14:00",
            "2000-01-01T00:00:00-14:00",
            "2000-01-01T00:00:00+13:59",
            "2000-01-01T00:00:00-00:00",
            "2000-01-01T00:00:00.123456789Z",
            "2004-02-29T23:59:59.5-05:30",
        ] {
            assert!(date_time(ok).is_ok(), "{ok}");
        }
        for bad in [
            "0000-01-01T00:00:00",
            "-0000-01-01T00:00:00",
            "01000-01-01T00:00:00",
            "2000-01-01T24:00:00.1",
            "2000-01-01T24:01:00",
            "1900-02-29T00:00:00",
            "2001-02-29T00:00:00",
            "-0001-02-29T00:00:00",
            "-0005-02-29T00:00:00",
            "-0100-02-29T00:00:00",
            "2000-04-31T00:00:00",
            "2000-01-01T00:00:00+14:01",
            "2000-01-01T00:00:00+13:60",
            "2000-01-01T00:00:00+15:00",
            "2000-01-01T00:00:00+1:00",
            "2000-01-01T00:00:00+0100",
            "2000-01-01T00:00:00.Z",
            "2000-01-01T00:00:60",
            "2000-01-01T00:60:00",
            "2000-01-01T25:00:00",
            "2000-01-01T00:00",
            "2000-1-01T00:00:00",
            "+2000-01-01T00:00:00",
            "2000-01-01T00:00:00z",
            "2000-01-01t00:00:00",
            "2000-01-01 00:00:00",
            "200-01-01T00:00:00",
            "2000-13-01T00:00:00",
            "2000-00-01T00:00:00",
            "2000-01-00T00:00:00",
            "2000-01-32T00:00:00",
            "2012-1é-02T00:00:00",
            "２０００-01-01T00:00:00",
            "2000-01-01T00:00:00Zé",
            "2000-01-01T00:00:00 ",
            "",
            "é",
            "T",
        ] {
            let e = date_time(bad).unwrap_err();
            assert_eq!(e.kind, ValueErrorKind::Invalid, "{bad}");
        }
        assert_eq!(
            date_time("2001-02-29T00:00:00").unwrap_err().message,
            "\"2001-02-29T00:00:00\" is not an xs:dateTime (that day does not exist in that month)"
        );
    }

    #[test]
    fn other_types_lexical_space() {
        // Each verdict checked against xmlschema XMLSchema10.
        type Parser = fn(&str) -> Result<Temporal, ValueError>;
        let cases: &[(Parser, &[&str], &[&str])] = &[
            (
                date,
                &["2000-01-01Z", "2000-01-01+14:00", "2000-01-01-05:00", "99999-01-01", "-0400-02-29"],
                &["2000-01-01T", "2000-13-01", "-0100-02-29", "2000-01-01T00:00:00", "2012-1é-02", "１９９９-01-01"],
            ),
            (
                time,
                &["24:00:00", "24:00:00Z", "23:59:59.9999999", "00:00:00+14:00", "12:00:00.5-03:00", "24:00:00.000"],
                &[
                    "12:00",
                    "1:00:00",
                    "12:60:00",
                    "25:00:00",
                    "24:00:00.5",
                    "12:00:00+14:30",
                    "12:00:00.",
                    "１２:00:00",
                ],
            ),
            (
                g_year,
                &["2000Z", "20000", "-2000", "2000+14:00", "-0001"],
                &["0000", "-0000", "200", "020000", "2000-01"],
            ),
            (g_year_month, &["2000-02", "-0001-12Z"], &["2000-2", "0000-01", "2000-13", "2000-02-01"]),
            (
                g_month_day,
                &["--02-29", "--12-31Z", "--02-29+01:00", "--01-31"],
                &["--02-30", "--04-31", "--1-01", "--13-01", "-02-01", "--02"],
            ),
            (g_month, &["--12", "--01Z", "--01+14:00"], &["--12--", "--13", "--01--Z", "--00", "-01", "--1"]),
            (g_day, &["---31", "---01Z", "---31-14:00"], &["---32", "---00", "---1", "--01", "----01"]),
            (date_time_stamp, &["2000-01-01T00:00:00Z", "2000-01-01T24:00:00+01:00"], &["2000-01-01T00:00:00"]),
        ];
        for (parse, ok, bad) in cases {
            for s in *ok {
                assert!(parse(s).is_ok(), "{s}");
            }
            for s in *bad {
                assert!(parse(s).unwrap_err().is_invalid(), "{s}");
            }
            for s in ["", "é", "-", "Z"] {
                assert!(parse(s).is_err());
            }
        }
    }

    #[test]
    fn fields() {
        let t = date_time("-0004-02-29T23:59:58.1234567+05:30").unwrap();
        assert_eq!(
            t,
            Temporal {
                year: Some(-4),
                month: Some(2),
                day: Some(29),
                hour: Some(23),
                minute: Some(59),
                second: Some(58),
                micros: 123_456,
                sub_micro: true,
                tz_minutes: Some(330),
            }
        );
        assert!(!date_time("2000-01-01T00:00:00.1234560").unwrap().sub_micro);
        let g = g_month_day("--02-29-01:00").unwrap();
        assert_eq!((g.year, g.month, g.day, g.hour, g.tz_minutes), (None, Some(2), Some(29), None, Some(-60)));
        assert_eq!(g.to_string(), "--02-29-01:00");
        assert_eq!(g_day("---07Z").unwrap().to_string(), "---07Z");
        assert_eq!(g_month("--07").unwrap().to_string(), "--07");
        assert_eq!(g_year("-0044").unwrap().to_string(), "-0044");
        assert_eq!(time("24:00:00").unwrap().to_string(), "24:00:00");
        assert_eq!(t.to_string(), "-0004-02-29T23:59:58.123456...+05:30");
    }

    #[test]
    fn huge_years() {
        let e = date("99999999999999999999-01-01").unwrap_err();
        assert_eq!(e.kind, ValueErrorKind::Unrepresentable);
        // Leap-year rule still applied from the last digits.
        assert!(date("99999999999999992000-02-29").unwrap_err().is_unrepresentable());
        assert!(date("99999999999999991900-02-29").unwrap_err().is_invalid());
        assert!(date("9223372036854775807-12-31").unwrap().to_date_days().unwrap_err().is_unrepresentable());
        assert!(date_time("-9223372036854775807-12-31T24:00:00-14:00").unwrap().to_timestamp_micros(0).is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(ts("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(ts("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(ts("1969-12-31T23:59:59.999999Z"), Ok(-1));
        let max = ts("9999-12-31T23:59:59.999999Z").unwrap();
        assert_eq!(max, 253_402_300_799_999_999);
        assert_eq!(format_timestamp_micros(max), "9999-12-31T23:59:59.999999Z");
        let min = ts("0001-01-01T00:00:00Z").unwrap();
        assert_eq!(min, -62_135_596_800_000_000);
        assert_eq!(format_timestamp_micros(min), "0001-01-01T00:00:00Z");
        // Past the range after the conversion to UTC.
        for out in [
            "9999-12-31T23:00:00-02:00",
            "0001-01-01T00:00:00+00:01",
            "10000-01-01T00:00:00Z",
            "9999-12-31T24:00:00Z",
            "-0001-01-01T00:00:00Z",
        ] {
            let e = ts(out).unwrap_err();
            assert_eq!(e.kind, ValueErrorKind::Unrepresentable, "{out}");
        }
        assert_eq!(ts("9999-12-31T23:00:00+02:00"), Ok(ts("9999-12-31T21:00:00Z").unwrap()));
        // 24:00:00 is the next day.
        assert_eq!(ts("1999-12-31T24:00:00Z"), ts("2000-01-01T00:00:00Z"));
        // Unzoned values are read in the default zone.
        let t = date_time("2000-01-01T12:00:00").unwrap();
        assert_eq!(t.to_timestamp_micros(60).unwrap(), ts("2000-01-01T11:00:00Z").unwrap());
        assert_eq!(t.to_timestamp_micros(-840).unwrap(), ts("2000-01-02T02:00:00Z").unwrap());
        // Sub-microsecond digits.
        let e = ts("2000-01-01T00:00:00.1234567Z").unwrap_err();
        assert_eq!(e.kind, ValueErrorKind::Unrepresentable);
        assert!(e.message.contains("6th fraction digit"), "{}", e.message);
        assert_eq!(ts("2000-01-01T00:00:00.1234560Z"), Ok(946_684_800_123_456));
        assert_eq!(format_timestamp_micros(946_684_800_123_400), "2000-01-01T00:00:00.1234Z");
        // A date alone is its midnight.
        assert_eq!(date("2000-01-01+01:00").unwrap().to_timestamp_micros(0), ts("1999-12-31T23:00:00Z"));
        assert!(time("12:00:00").unwrap().to_timestamp_micros(0).unwrap_err().is_unrepresentable());
        assert!(g_year("2000").unwrap().to_timestamp_micros(0).is_err());
    }

    #[test]
    fn datetimes() {
        let dt = |s: &str| date_time(s).unwrap().to_datetime_micros();
        assert_eq!(dt("2000-01-01T12:00:00"), dt("2000-01-01T13:30:00+01:30"));
        assert_eq!(format_datetime_micros(dt("2000-01-01T00:00:00-14:00").unwrap()), "2000-01-01T14:00:00");
        assert_eq!(format_datetime_micros(dt("2000-02-28T24:00:00").unwrap()), "2000-02-29T00:00:00");
        assert_eq!(format_datetime_micros(dt("9999-12-31T23:59:59.999999").unwrap()), "9999-12-31T23:59:59.999999");
        assert!(dt("9999-12-31T23:59:59.999999-00:01").unwrap_err().is_unrepresentable());
        assert!(dt("10000-01-01T00:00:00").unwrap_err().is_unrepresentable());
        assert!(dt("2000-01-01T00:00:00.0000001").unwrap_err().is_unrepresentable());
        assert_eq!(format_datetime_micros(-1), "1969-12-31T23:59:59.999999");
    }

    #[test]
    fn dates() {
        let days = |s: &str| date(s).unwrap().to_date_days();
        assert_eq!(days("1970-01-01"), Ok(0));
        assert_eq!(days("1970-01-02+14:00"), Ok(1)); // the zone of an xs:date is ignored
        assert_eq!(days("0001-01-01"), Ok(-719_162));
        assert_eq!(days("9999-12-31"), Ok(2_932_896));
        assert_eq!(format_date_days(2_932_896), "9999-12-31");
        assert_eq!(format_date_days(-719_162), "0001-01-01");
        assert_eq!(format_date_days(11_016), "2000-02-29");
        assert!(days("10000-01-01").unwrap_err().is_unrepresentable());
        assert!(days("-0001-12-31").unwrap_err().is_unrepresentable());
        for leap in ["2000-02-29", "2004-02-29", "1600-02-29"] {
            assert!(days(leap).is_ok(), "{leap}");
        }
        for not_leap in ["1900-02-29", "2100-02-29", "2001-02-29"] {
            assert!(date(not_leap).is_err(), "{not_leap}");
        }
        assert_eq!(date_time("2000-02-28T24:00:00").unwrap().to_date_days(), days("2000-02-29"));
        assert!(date_time("9999-12-31T24:00:00").unwrap().to_date_days().unwrap_err().is_unrepresentable());
        assert!(g_year_month("2000-01").unwrap().to_date_days().unwrap_err().is_unrepresentable());
    }

    #[test]
    fn times() {
        let tm = |s: &str| time(s).unwrap().to_time_micros();
        assert_eq!(tm("00:00:00"), Ok(0));
        assert_eq!(tm("24:00:00"), Ok(0));
        assert_eq!(tm("23:59:59.999999"), Ok(86_399_999_999));
        assert_eq!(tm("01:00:00+02:00"), tm("23:00:00"));
        assert_eq!(tm("23:00:00-02:00"), tm("01:00:00"));
        assert_eq!(tm("12:00:00Z"), tm("12:00:00"));
        assert!(tm("12:00:00.0000001").unwrap_err().is_unrepresentable());
        assert_eq!(tm("12:00:00.5000000"), Ok(43_200_500_000));
        assert_eq!(format_time_micros(43_200_500_000), "12:00:00.5");
        assert_eq!(format_time_micros(86_399_999_999), "23:59:59.999999");
        assert_eq!(format_time_micros(-1), "23:59:59.999999");
        assert_eq!(date_time("2000-01-01T10:30:00+01:00").unwrap().to_time_micros(), tm("09:30:00"));
        assert!(date("2000-01-01").unwrap().to_time_micros().unwrap_err().is_unrepresentable());
    }

    #[test]
    fn order_relation() {
        use Ordering::*;
        let cmp = |a: &str, b: &str| temporal_cmp(&date_time(a).unwrap(), &date_time(b).unwrap());
        assert_eq!(cmp("2000-01-01T12:00:00Z", "2000-01-01T13:00:00+01:00"), Some(Equal));
        assert_eq!(cmp("2000-01-01T12:00:00", "2000-01-01T12:00:00.000001"), Some(Less));
        assert_eq!(cmp("2000-01-01T24:00:00", "2000-01-02T00:00:00"), Some(Equal));
        // Examples of XSD 1.0 §3.2.7.4.
        assert_eq!(cmp("2000-01-15T00:00:00", "2000-02-15T00:00:00"), Some(Less));
        assert_eq!(cmp("2000-01-15T12:00:00", "2000-01-16T12:00:00Z"), Some(Less));
        assert_eq!(cmp("2000-01-01T12:00:00", "1999-12-31T23:00:00Z"), None);
        assert_eq!(cmp("2000-01-16T12:00:00", "2000-01-16T12:00:00Z"), None);
        assert_eq!(cmp("2000-01-16T00:00:00", "2000-01-16T12:00:00Z"), None);
        assert_eq!(cmp("2000-01-16T12:00:00Z", "2000-01-15T12:00:00"), Some(Greater));
        // Within 14 hours: indeterminate; one minute beyond: decided.
        assert_eq!(cmp("2000-01-01T00:00:00", "2000-01-01T14:00:00Z"), None);
        assert_eq!(cmp("2000-01-01T00:00:00", "2000-01-01T14:00:01Z"), Some(Less));
        assert_eq!(cmp("2000-01-01T14:00:01", "2000-01-01T00:00:00Z"), Some(Greater));
        assert_eq!(cmp("-0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"), Some(Less));
        assert_eq!(cmp("10000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"), Some(Greater));
        assert_eq!(cmp("2000-01-01T00:00:00.1234567", "2000-01-01T00:00:00.123456"), Some(Greater));
        let g = |f: fn(&str) -> Result<Temporal, ValueError>, a: &str, b: &str| {
            temporal_cmp(&f(a).unwrap(), &f(b).unwrap())
        };
        assert_eq!(g(g_month_day, "--02-29", "--03-01"), Some(Less));
        assert_eq!(g(g_day, "---31", "---01"), Some(Greater));
        assert_eq!(g(g_month, "--12Z", "--01Z"), Some(Greater));
        assert_eq!(g(time, "23:00:00-02:00", "01:00:00Z"), Some(Greater)); // same reference day
        assert_eq!(g(g_year, "-2000", "1999"), Some(Less));
        assert_eq!(g(date, "2000-01-01", "2000-01-01Z"), None);
        assert_eq!(g(date, "2000-01-02", "2000-01-01Z"), Some(Greater)); // 01-02T00:00+14:00 is 01-01T10:00Z
        assert_eq!(g(date, "2000-01-03", "2000-01-01Z"), Some(Greater));
    }

    #[test]
    fn no_panic_on_any_input() {
        let seeds = [
            "2000-01-01T00:00:00.1234567+14:00",
            "-0004-02-29",
            "24:00:00Z",
            "--02-29",
            "---31-14:00",
            "--12",
            "99999-12",
            "9999-12-31T24:00:00-14:00",
        ];
        for s in fuzz_inputs(&seeds, 30_000) {
            for f in [date_time, date_time_stamp, date, time, g_year, g_year_month, g_month_day, g_month, g_day] {
                if let Ok(t) = f(&s) {
                    let _ = (t.to_timestamp_micros(840), t.to_timestamp_micros(-840), t.to_datetime_micros());
                    let _ = (t.to_date_days(), t.to_time_micros(), t.to_string(), temporal_cmp(&t, &t));
                }
            }
        }
        for v in [i64::MIN, i64::MAX, 0, -1] {
            let _ = (format_timestamp_micros(v), format_datetime_micros(v), format_time_micros(v));
        }
        let _ = (format_date_days(i32::MIN), format_date_days(i32::MAX));
    }
}
