//! Facet checks the generated value functions call: enumeration, pattern, length,
//! range, digits and fixed values, each failing with its own rule and a message
//! that quotes the value and the constraint.

use crate::error::{Invalid, Rule};
use crate::value::{self, Decimal};
use std::cmp::Ordering;

/// `enumeration`: `ok` tells whether `v` is one of `allowed`.
pub fn enumeration(ok: bool, v: &str, allowed: &[&str]) -> Result<(), Invalid> {
    if ok {
        return Ok(());
    }
    let shown: Vec<String> = allowed.iter().take(12).map(|a| format!("{a:?}")).collect();
    let more = if allowed.len() > 12 { format!(" and {} more", allowed.len() - 12) } else { String::new() };
    Err(Invalid::new(
        Rule::FacetEnumeration,
        format!("{v:?} is not one of the allowed values {}{more}", shown.join(", ")),
    ))
}

/// `pattern`: `v` must match one pattern of each derivation step (`steps` are the regexes,
/// `shown` the XSD patterns for the message).
pub fn pattern(v: &str, steps: &[&regex::Regex], shown: &[&str]) -> Result<(), Invalid> {
    for (re, p) in steps.iter().zip(shown) {
        if !re.is_match(v) {
            return Err(Invalid::new(Rule::FacetPattern, format!("{v:?} does not match the pattern {p:?}")));
        }
    }
    Ok(())
}

/// `length`, `minLength`, `maxLength` (in characters, bytes or list items: `unit`).
pub fn length(
    v: &str,
    n: usize,
    exact: Option<u64>,
    min: Option<u64>,
    max: Option<u64>,
    unit: &str,
) -> Result<(), Invalid> {
    let n64 = n as u64;
    let bad = |what: String| Err(Invalid::new(Rule::FacetLength, format!("{v:?} has {n} {unit}; {what}")));
    if let Some(e) = exact
        && n64 != e
    {
        return bad(format!("the length must be {e}"));
    }
    if let Some(m) = min
        && n64 < m
    {
        return bad(format!("the minimum length is {m}"));
    }
    if let Some(m) = max
        && n64 > m
    {
        return bad(format!("the maximum length is {m}"));
    }
    Ok(())
}

/// The four range facets, with `cmp` comparing the value with a bound (None: not comparable,
/// which fails, as a value must be provably within its bounds).
pub fn range(
    v: &str,
    cmp: impl Fn(&str) -> Option<Ordering>,
    min_inclusive: Option<&str>,
    max_inclusive: Option<&str>,
    min_exclusive: Option<&str>,
    max_exclusive: Option<&str>,
) -> Result<(), Invalid> {
    let fail = |what: &str, b: &str| Err(Invalid::new(Rule::FacetRange, format!("{v:?} is not {what} {b}")));
    if let Some(b) = min_inclusive
        && !matches!(cmp(b), Some(Ordering::Greater | Ordering::Equal))
    {
        return fail("at least", b);
    }
    if let Some(b) = max_inclusive
        && !matches!(cmp(b), Some(Ordering::Less | Ordering::Equal))
    {
        return fail("at most", b);
    }
    if let Some(b) = min_exclusive
        && cmp(b) != Some(Ordering::Greater)
    {
        return fail("greater than", b);
    }
    if let Some(b) = max_exclusive
        && cmp(b) != Some(Ordering::Less)
    {
        return fail("less than", b);
    }
    Ok(())
}

/// Compares a decimal with a bound written in the schema.
pub fn cmp_decimal(v: &Decimal<'_>, bound: &str) -> Option<Ordering> {
    value::decimal(bound).ok().map(|b| v.cmp(&b))
}

/// Compares a float with a bound written in the schema.
pub fn cmp_float(v: f64, bound: &str) -> Option<Ordering> {
    value::double(bound).ok().and_then(|b| v.partial_cmp(&b))
}

/// `totalDigits` and `fractionDigits`.
pub fn digits(v: &str, d: &Decimal<'_>, total: Option<u32>, fraction: Option<u32>) -> Result<(), Invalid> {
    if let Some(t) = total
        && d.total_digits() > t as usize
    {
        return Err(Invalid::new(
            Rule::FacetDigits,
            format!("{v:?} has {} digits; at most {t} are allowed", d.total_digits()),
        ));
    }
    if let Some(f) = fraction
        && d.fraction_digits() > f as usize
    {
        return Err(Invalid::new(
            Rule::FacetDigits,
            format!("{v:?} has {} fraction digits; at most {f} are allowed", d.fraction_digits()),
        ));
    }
    Ok(())
}

/// A `fixed` value: `equal` tells whether the value equals it (in the value space).
pub fn fixed(equal: bool, v: &str, fixed: &str) -> Result<(), Invalid> {
    if equal {
        Ok(())
    } else {
        Err(Invalid::new(Rule::FixedValue, format!("{v:?} differs from the fixed value {fixed:?}")))
    }
}

/// A value of a union must be a value of one of its member types.
pub fn union_member(ok: bool, v: &str, type_name: &str) -> Result<(), Invalid> {
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(Rule::InvalidValue, format!("{v:?} is not a value of any member type of {type_name}")))
    }
}

/// A value of a built-in integer type: the lexical form (invalid-value), then the
/// type's range, which XSD defines with min/maxInclusive facets (facet-range).
pub fn integer_of(v: &str, ty: value::IntegerType) -> Result<Decimal<'_>, Invalid> {
    let d = value::integer(v)?;
    let (min, max) = ty.bounds();
    let outside = |b: Option<&str>, want: Ordering| b.is_some_and(|b| cmp_decimal(&d, b) == Some(want));
    if outside(min, Ordering::Less) || outside(max, Ordering::Greater) {
        let range = format!("{}..={}", min.unwrap_or(""), max.unwrap_or(""));
        return Err(Invalid::new(Rule::FacetRange, format!("{v:?} is outside xs:{}'s range {range}", ty.name())));
    }
    Ok(d)
}

/// An INT64 column's value.
pub fn int64(d: &Decimal<'_>, v: &str) -> Result<i64, Invalid> {
    d.to_i64().ok_or_else(|| {
        Invalid::new(
            Rule::Unrepresentable,
            format!("{v:?} is beyond INT64's range; map the column to NUMERIC, BIGNUMERIC or STRING"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_messages() {
        assert_eq!(enumeration(false, "x", &["a", "b"]).unwrap_err().rule, Rule::FacetEnumeration);
        assert!(enumeration(true, "a", &["a"]).is_ok());
        let d = value::decimal("12.345").unwrap();
        assert_eq!(digits("12.345", &d, Some(4), None).unwrap_err().rule, Rule::FacetDigits);
        assert!(digits("12.345", &d, Some(5), Some(3)).is_ok());
        let r = range("12.345", |b| cmp_decimal(&d, b), Some("0"), Some("12.345"), None, Some("12.3451"));
        assert!(r.is_ok());
        let r = range("12.345", |b| cmp_decimal(&d, b), None, None, Some("12.345"), None);
        assert_eq!(r.unwrap_err().message, "\"12.345\" is not greater than 12.345");
        assert_eq!(length("ab", 2, None, Some(3), None, "characters").unwrap_err().rule, Rule::FacetLength);
        let re = regex::Regex::new("^(?:[0-9]{3}-[A-Z]{2})$").unwrap();
        assert!(pattern("872-AA", &[&re], &["\\d{3}-[A-Z]{2}"]).is_ok());
        assert_eq!(pattern("872-aa", &[&re], &["\\d{3}-[A-Z]{2}"]).unwrap_err().rule, Rule::FacetPattern);
    }
}
