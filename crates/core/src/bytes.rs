//! Byte-string helpers for the hot paths: short names and values compared and searched
//! a machine word at a time, where a call to `memcmp` or a vectorized search costs
//! more than the work on a few bytes.

/// `a == b` for short byte strings such as names, in a few loads and compares instead
/// of a call to `memcmp`.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], i: usize| <[u8; 8]>::try_from(&s[i..i + 8]).map_or(0, u64::from_le_bytes);
    let w4 = |s: &[u8], i: usize| <[u8; 4]>::try_from(&s[i..i + 4]).map_or(0, u32::from_le_bytes);
    match n {
        // The first and the last 8 (4) bytes, overlapping: together all of them.
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

/// Bytes of `w` equal to `b`: the high bit of each such byte set (and maybe of bytes
/// after the first such byte, never before it: the lowest set bit is exact).
#[inline]
pub(crate) fn bytes_equal(w: u64, b: u8) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let x = w ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGH
}
