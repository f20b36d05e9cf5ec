//! Byte-string helpers for the hot paths: short names and values compared and searched
//! a machine word at a time, where a call to `memcmp` or a vectorized search costs
//! more than the work on a few bytes; [`Plain`], text that needs no care; and
//! [`prefetch`], a hint for a lookup to come.

/// `a == b` for short byte strings such as names, in a few loads and compares instead
/// of a call to `memcmp`.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w4 = |s: &[u8], i: usize| <[u8; 4]>::try_from(&s[i..i + 4]).map_or(0, u32::from_le_bytes);
    match n {
        // The first and the last 8 (4) bytes, overlapping: together all of them.
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
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

/// Eight bytes of `s` from `i` (within it), as a word.
#[inline]
fn word(s: &[u8], i: usize) -> u64 {
    <[u8; 8]>::try_from(&s[i..i + 8]).map_or(0, u64::from_le_bytes)
}

/// The eight bytes of `s` at `at`, as a word (None past its end).
#[inline]
pub(crate) fn word_at(s: &[u8], at: usize) -> Option<u64> {
    s.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_le_bytes)
}

/// No byte of `b` is a space or below it (no whitespace, no control byte): the test of
/// most values before their whitespace is processed, eight bytes at a time.
#[inline]
pub(crate) fn above_space(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    // Some byte of `w` is below 0x21: exact as a whole (Hacker's Delight, "hasless").
    let below = |w: u64| w.wrapping_sub(ONES * 0x21) & !w & (ONES << 7) != 0;
    let n = b.len();
    if n < 8 {
        return b.iter().all(|&c| c > b' ');
    }
    let mut at = 0;
    while at + 8 <= n {
        if below(word(b, at)) {
            return false;
        }
        at += 8;
    }
    // The last bytes, in a word that overlaps the one before.
    at == n || !below(word(b, n - 8))
}

/// Bytes of `w` that need care in text: not ASCII, `>` (`]]>` is not allowed), CR
/// (line ends are normalized). The lowest set bit is exact, as in [`bytes_equal`].
#[inline]
fn care(w: u64) -> u64 {
    (w & u64::from_le_bytes([0x80; 8])) | bytes_equal(w, b'>') | bytes_equal(w, b'\r')
}

/// [`care`] for one byte.
#[inline]
fn cares(b: u8) -> bool {
    (b >= 0x80) | (b == b'>') | (b == b'\r')
}

/// Character data whose bytes need no care: ASCII (so UTF-8), without `>` (so without
/// `]]>`) and without CR (no line end to normalize). Made only in this module, by the
/// scans that check every byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plain<'a>(&'a [u8]);

impl<'a> Plain<'a> {
    /// `raw`, when none of its bytes needs care.
    #[inline]
    pub(crate) fn new(raw: &'a [u8]) -> Option<Self> {
        let mut words = raw.chunks_exact(8);
        let mut any = 0;
        for w in &mut words {
            any |= care(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let tail = words.remainder().iter().fold(false, |any, &b| any | cares(b));
        (any == 0 && !tail).then_some(Plain(raw))
    }

    /// The text.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(self) -> &'a str {
        // SAFETY: a `Plain` is made only by `Plain::new` and `text_before_markup`, each
        // of which checked every byte of it for the high bit (`care` ORs `w & 0x80..`
        // over whole words, `cares` does `b >= 0x80` for the bytes after the last whole
        // word) and made none when one was set,
        // and by `Text::copy_into`, from the bytes of such a `Plain`.
        // Bytes below 0x80 are ASCII, and ASCII is UTF-8: all `from_utf8_unchecked`
        // requires.
        unsafe { std::str::from_utf8_unchecked(self.0) }
    }
}

/// The character data a leaf starts with: plain, or raw bytes that need the careful
/// path (UTF-8 validation, `]]>`, line ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text<'a> {
    Plain(Plain<'a>),
    Raw(&'a [u8]),
}

impl<'a> Text<'a> {
    /// Its bytes.
    pub fn bytes(self) -> &'a [u8] {
        match self {
            Text::Plain(p) => p.0,
            Text::Raw(r) => r,
        }
    }

    /// The same text, copied into `buf` (the same bytes: plain stays plain).
    pub(crate) fn copy_into(self, buf: &mut Vec<u8>) -> Text<'_> {
        buf.clear();
        buf.extend_from_slice(self.bytes());
        match self {
            Text::Plain(_) => Text::Plain(Plain(buf)),
            Text::Raw(_) => Text::Raw(buf),
        }
    }
}

/// The text before the first `<` of `rest`, when no `&` comes before it. Eight bytes at
/// a time: values are short, and a call to a vectorized search costs more than it saves
/// on them.
#[inline]
pub(crate) fn text_before_markup(rest: &[u8]) -> Option<Text<'_>> {
    let mut at = 0;
    let mut cared = 0;
    while at + 8 <= rest.len() {
        let w = word(rest, at);
        // The lowest bit of each is exact: below the lowest `<`, every `&` and every
        // byte that needs care is a true one.
        let (lt, amp) = (bytes_equal(w, b'<'), bytes_equal(w, b'&'));
        if lt != 0 {
            let below = lt.trailing_zeros();
            if amp != 0 && amp.trailing_zeros() < below {
                return None;
            }
            let n = at + below as usize / 8;
            cared |= care(w) & ((1u64 << below) - 1);
            return Some(text(&rest[..n], cared == 0));
        }
        if amp != 0 {
            return None;
        }
        cared |= care(w);
        at += 8;
    }
    for (i, &b) in rest[at..].iter().enumerate() {
        match b {
            b'<' => return Some(text(&rest[..at + i], cared == 0)),
            b'&' => return None,
            _ => cared |= u64::from(cares(b)),
        }
    }
    None
}

/// `raw` as [`Text`]: plain when the scan that found it saw no byte that needs care.
#[inline]
fn text(raw: &[u8], plain: bool) -> Text<'_> {
    if plain { Text::Plain(Plain(raw)) } else { Text::Raw(raw) }
}

/// Asks the CPU to bring the cache line of `t` in, for a read soon after.
#[inline(always)]
pub fn prefetch<T>(t: &T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: PREFETCHT0 is a hint with no architectural effect: it never faults,
    // whatever the address, and neither reads into nor writes to the program's state.
    // (The address is that of a live reference anyway.)
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((t as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = t;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn above_space_is_the_byte_by_byte_test() {
        // Every length up to 40, with one byte at each place from the bytes around the
        // space and the control bytes (and UTF-8 lead and continuation bytes).
        let others: &[u8] = b"\x00\x01\t\n\r\x1f\x20\x21\x7f\x80\xc3\xff";
        let mut checked = 0;
        for n in 0..40 {
            for at in 0..n {
                for &o in others {
                    let mut b = vec![b'a'; n];
                    b[at] = o;
                    assert_eq!(above_space(&b), o > b' ', "{b:?}");
                    checked += 1;
                }
            }
            assert!(above_space(&vec![b'~'; n]));
        }
        assert_eq!(checked, 12 * (0..40).sum::<usize>());
    }
}
