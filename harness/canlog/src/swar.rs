//! Word-at-a-time (8 bytes per step) digit scanning for the well-formed-line fast paths. Safe code
//! only: words are loaded with `u64::from_le_bytes`, so the first byte is the least significant.

/// Eight bytes from `b[i..]` as a little-endian word, if that many are there.
#[inline(always)]
pub(crate) fn load8(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*b.get(i..)?.first_chunk::<8>()?))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// How many of the word's bytes, from the first, are ASCII decimal digits (0..=8).
#[inline(always)]
pub(crate) fn digit_run(x: u64) -> usize {
    // High bit of each byte set when the byte is above `9` (or not ASCII) …
    let above = ((x & !HIGH).wrapping_add(0x46 * ONES)) | x;
    // … and clear when it is below `0` (no borrow crosses bytes: every byte is >= 0x80 first).
    let not_below = (x | HIGH).wrapping_sub(0x30 * ONES);
    let bad = (above | !not_below) & HIGH;
    (bad.trailing_zeros() / 8) as usize
}

/// The value of the first `k` (1..=8) bytes of `x`, which must be ASCII digits.
#[inline(always)]
pub(crate) fn digits_value(x: u64, k: usize) -> u64 {
    debug_assert!((1..=8).contains(&k));
    // Digit values, moved up so the k digits end at the last byte (leading zero digits below).
    let d = x.wrapping_sub(0x30 * ONES) << (8 * (8 - k));
    // Pairs: 10 * first + second in the low byte of each 16-bit lane.
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    // Quads, then the whole: lanes combined with their weights in one multiply each.
    let lo = (d & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((d >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    lo.wrapping_add(hi) >> 32
}

/// A run of at most `max` (<= 18) ASCII digits at `b[i..]`: `(value, count)`. The run must be
/// followed by a non-digit byte inside `b` (so the caller can check that byte). `None` when
/// there is no such byte within `max + 1` bytes.
#[inline(always)]
pub(crate) fn digits(b: &[u8], i: usize, max: usize) -> Option<(u64, usize)> {
    // The first two words unrolled (timestamps have up to 10 integer digits); longer runs in
    // the loop.
    let x = load8(b, i)?;
    let k = digit_run(x);
    if k < 8 {
        if k > max {
            return None;
        }
        return Some((if k == 0 { 0 } else { digits_value(x, k) }, k));
    }
    if max < 8 {
        return None;
    }
    let y = load8(b, i + 8)?;
    let k2 = digit_run(y);
    if k2 == 8 {
        return digits_loop(b, i, max);
    }
    if 8 + k2 > max {
        return None;
    }
    let high = digits_value(x, 8);
    Some(if k2 == 0 {
        (high, 8)
    } else {
        (high * POW10[k2] + digits_value(y, k2), 8 + k2)
    })
}

/// [`digits`] for fields that usually hold one digit (channel, bus): that case byte by byte.
#[inline(always)]
pub(crate) fn digits_short(b: &[u8], i: usize, max: usize) -> Option<(u64, usize)> {
    let d0 = b.get(i)?.wrapping_sub(b'0');
    let d1 = b.get(i + 1)?.wrapping_sub(b'0');
    if d0 > 9 {
        return Some((0, 0));
    }
    if d1 > 9 {
        return (max >= 1).then_some((u64::from(d0), 1));
    }
    digits(b, i, max)
}

/// [`digits`] word by word, for runs of 16 digits and more.
#[inline(never)]
fn digits_loop(b: &[u8], i: usize, max: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    let mut n = 0usize;
    loop {
        let x = load8(b, i + n)?;
        let k = digit_run(x);
        if n + k > max {
            return None;
        }
        if k > 0 {
            v = v * POW10[k] + digits_value(x, k);
            n += k;
        }
        if k < 8 {
            return Some((v, n));
        }
    }
}

/// Powers of ten, 10^0 ..= 10^9.
pub(crate) const POW10: [u64; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// Index of the first byte at or after `i` that is not a space (`None` if the buffer ends first).
/// Tabs are not skipped: the fast paths leave lines with tabs to the general parsers.
#[inline(always)]
pub(crate) fn skip_spaces(b: &[u8], mut i: usize) -> Option<usize> {
    // Common: no space, or a single one (checked byte by byte before any word load).
    if *b.get(i)? != b' ' {
        return Some(i);
    }
    i += 1;
    if *b.get(i)? != b' ' {
        return Some(i);
    }
    loop {
        match load8(b, i) {
            Some(x) => {
                let t = x ^ (0x20 * ONES);
                if t != 0 {
                    return Some(i + (t.trailing_zeros() / 8) as usize);
                }
                i += 8;
            }
            None => {
                while *b.get(i)? == b' ' {
                    i += 1;
                }
                return Some(i);
            }
        }
    }
}

/// The high bit of each byte of `x` that is not a space (`b' '`), the other bits clear.
#[inline(always)]
pub(crate) fn nonspace_high(x: u64) -> u64 {
    let t = x ^ (0x20 * ONES);
    (((t & !HIGH).wrapping_add(!HIGH)) | t) & HIGH
}

/// Which of the first `len` (at most 63) bytes of a line are spaces, as a fixed-layout fast path
/// learns it from one line and checks it on the next: equal patterns mean the same runs of
/// non-space bytes (fields) at the same columns. Kept per 8-byte word in the form of
/// [`nonspace_high`], so a check is a few operations per word and one branch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SpacePattern {
    /// Per word: the high bits of the non-space bytes among the first `len` …
    pat: [u64; 8],
    /// … and of all of the first `len` bytes.
    reg: [u64; 8],
    len: usize,
}

impl SpacePattern {
    /// The pattern of the first `len` (< 64) bytes of `b`; `None` when fewer than 64 bytes are
    /// buffered.
    pub(crate) fn learn(b: &[u8], len: usize) -> Option<Self> {
        if len >= 64 {
            return None;
        }
        let mut pat = [0u64; 8];
        let mut reg = [0u64; 8];
        for (k, c) in b.first_chunk::<64>()?.as_chunks::<8>().0.iter().enumerate() {
            let bytes = len.saturating_sub(8 * k).min(8);
            reg[k] = if bytes == 8 {
                HIGH
            } else {
                HIGH & ((1u64 << (8 * bytes)) - 1)
            };
            pat[k] = nonspace_high(u64::from_le_bytes(*c)) & reg[k];
        }
        Some(SpacePattern { pat, reg, len })
    }

    /// Whether the first `len` bytes of `b` have their spaces where the learned line had them
    /// (`false` also when fewer than 32, 48 or 64 bytes, depending on `len`, are buffered).
    #[inline(always)]
    pub(crate) fn matches(&self, b: &[u8]) -> bool {
        // As few words as cover `len`: a choice made the same way for every line.
        if self.len <= 32 {
            b.first_chunk::<32>().is_some_and(|w| self.matches_words(w))
        } else if self.len <= 48 {
            b.first_chunk::<48>().is_some_and(|w| self.matches_words(w))
        } else {
            b.first_chunk::<64>().is_some_and(|w| self.matches_words(w))
        }
    }

    #[inline(always)]
    fn matches_words<const N: usize>(&self, w: &[u8; N]) -> bool {
        let mut diff = 0;
        for (k, c) in w.as_chunks::<8>().0.iter().enumerate() {
            diff |= (nonspace_high(u64::from_le_bytes(*c)) & self.reg[k]) ^ self.pat[k];
        }
        diff == 0
    }
}

/// Bit `k` set where byte `k` of `w` is not a space (`b' '`): the layout of a line's blank-
/// separated fields in one word, from eight independent loads at fixed offsets.
#[inline(always)]
pub(crate) fn nonspace_mask64(w: &[u8; 64]) -> u64 {
    let mut m = 0u64;
    for (k, c) in w.as_chunks::<8>().0.iter().enumerate() {
        // The high bits of the non-space bytes gathered into eight bits, byte 0 lowest (the
        // partial products do not overlap).
        let nz = nonspace_high(u64::from_le_bytes(*c));
        m |= (nz.wrapping_mul(0x0002_0408_1020_4081) >> 56) << (8 * k);
    }
    m
}

/// Like [`skip_spaces`] but at least one space is required.
#[inline(always)]
pub(crate) fn spaces1(b: &[u8], i: usize) -> Option<usize> {
    if *b.get(i)? != b' ' {
        return None;
    }
    skip_spaces(b, i + 1)
}

/// High bit of each byte of `x` set where the byte is in `lo..=hi` (`hi < 0x80`; bytes from
/// 0x80 up are never in range).
#[inline(always)]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    // High bit set when the byte is above `hi` (or not ASCII) …
    let above = ((x & !HIGH).wrapping_add(u64::from(0x7F - hi) * ONES)) | x;
    // … and when its low 7 bits are at least `lo` (no borrow crosses bytes).
    let not_below = (x | HIGH).wrapping_sub(u64::from(lo) * ONES);
    !above & not_below & HIGH
}

/// How many of the word's bytes, from the first, are ASCII hex digits (0..=8).
#[inline(always)]
pub(crate) fn hex_digit_run(x: u64) -> usize {
    let hex = in_range(x, b'0', b'9') | in_range(x | (0x20 * ONES), b'a', b'f');
    ((!hex & HIGH).trailing_zeros() / 8) as usize
}

/// Each byte of `x` that is a hex digit replaced by its value (other bytes become garbage).
#[inline(always)]
fn nibbles(x: u64) -> u64 {
    // Digits have bit 6 clear and their value in the low nibble; letters have bit 6 set and
    // their value minus 9 in the low nibble.
    (x & (0x0F * ONES)) + ((x >> 6) & ONES) * 9
}

/// Pairs of nibbles (first one high) as bytes in the low half of each 16-bit lane.
#[inline(always)]
fn nibble_pairs(n: u64) -> u64 {
    const LANES: u64 = 0x00FF_00FF_00FF_00FF;
    ((n & LANES) << 4) | ((n >> 8) & LANES)
}

/// The four bytes that eight ASCII hex digits (two per byte, first one high) stand for.
#[inline(always)]
pub(crate) fn hex_bytes4(x: u64) -> [u8; 4] {
    let p = nibble_pairs(nibbles(x));
    let t = (p | (p >> 8)) & 0x0000_FFFF_0000_FFFF;
    let t = (t | (t >> 16)) & 0xFFFF_FFFF;
    (t as u32).to_le_bytes()
}

/// The value of the hex digits that fill `x` from some byte on to its last byte (the first one
/// most significant); the bytes before them must be zero (a run of `k` digits loaded as a word
/// and shifted up by `8 * (8 - k)` bits).
#[inline(always)]
pub(crate) fn hex_word_value(x: u64) -> u32 {
    u32::from_be_bytes(hex_bytes4(x))
}

/// Three data bytes written `XX XX XX` (any separator bytes, any hex digits) at the start of the
/// word `x` (the bytes of the word at the first digit): bytes 0-1, 3-4 and 6-7 as the low three
/// bytes of the result. Bytes that are no hex digits only disturb the result bytes from theirs
/// on.
#[inline(always)]
pub(crate) fn hex_units3(x: u64) -> u64 {
    let n = nibbles(x);
    // Byte `j` is `n[j] << 4 | n[j + 1]`.
    let p = (n << 4) | (n >> 8);
    (p & 0xFF) | ((p >> 16) & 0xFF00) | ((p >> 32) & 0xFF_0000)
}

/// A run of 1..=`max` (<= 8) hex digits at `b[i..]` followed by another byte: `(value, count)`.
/// Byte by byte: for the short runs of IDs and data bytes this measured fewer instructions
/// than a word-at-a-time version (callgrind, every format).
#[inline(always)]
pub(crate) fn hex_run(b: &[u8], i: usize, max: usize) -> Option<(u32, usize)> {
    let mut v = 0u32;
    let mut n = 0;
    loop {
        let d = crate::parse::HEX[*b.get(i + n)? as usize];
        if d & 0xF0 != 0 {
            break;
        }
        if n == max {
            return None;
        }
        v = (v << 4) | u32::from(d);
        n += 1;
    }
    (n > 0).then_some((v, n))
}

/// [`hex_run`] of at most 8 digits (a CAN ID) from a 9-byte window when that many bytes are
/// buffered (8 digits and the byte after them): no bounds checks per digit.
#[inline(always)]
pub(crate) fn hex_id(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let Some(w) = b.get(i..).and_then(|r| r.first_chunk::<9>()) else {
        return hex_run(b, i, 8);
    };
    let mut v = 0u32;
    let mut n = 0;
    loop {
        let d = crate::parse::HEX[w[n] as usize];
        if d & 0xF0 != 0 {
            break;
        }
        if n == 8 {
            return None;
        }
        v = (v << 4) | u32::from(d);
        n += 1;
    }
    (n > 0).then_some((v, n))
}

/// Data bytes written as `<sep><hex>[<hex>]` units from `b[i..]` into `out[n..max]` (`max` <=
/// 8) while the units match: one or two digits (exactly two when `two_digits`), followed by a
/// byte that is no hex digit, so each unit is read exactly as a field of its digits would be.
/// Returns the new `(n, i)`; the caller goes on from there with its general loop (which checks
/// the byte after the last unit).
#[inline(always)]
pub(crate) fn sep_hex_units(
    b: &[u8],
    mut i: usize,
    sep: u8,
    two_digits: bool,
    out: &mut [u8; 8],
    mut n: usize,
    max: usize,
) -> (usize, usize) {
    let max = max.min(8);
    debug_assert!(
        crate::parse::HEX[sep as usize] & 0xF0 != 0,
        "the separator is a hex digit"
    );
    // Two-digit units from a fixed 25-byte window (8 units and the byte after them): no bounds
    // checks. A one-digit unit or the end of the buffer goes on in the loop below.
    if let Some(w) = b.get(i..).and_then(|r| r.first_chunk::<25>()) {
        let mut taken = 0;
        for k in 0..8 {
            if n >= max {
                break;
            }
            let o = 3 * k;
            let hi = crate::parse::HEX[w[o + 1] as usize];
            let lo = crate::parse::HEX[w[o + 2] as usize];
            if (w[o] != sep) | ((hi | lo) & 0xF0 != 0) {
                break;
            }
            out[n] = (hi << 4) | lo;
            n += 1;
            taken += 1;
        }
        // Each unit must be followed by a byte that is no hex digit. For all units but the last
        // one taken that byte is the next unit's separator, so only the last one is checked: a
        // third digit there means a longer field, left to the loop below (which refuses it).
        if taken > 0 && crate::parse::HEX[w[3 * taken] as usize] & 0xF0 == 0 {
            taken -= 1;
            n -= 1;
        }
        i += 3 * taken;
    }
    sep_hex_units_loop(b, i, sep, two_digits, out, n, max)
}

/// [`sep_hex_units`] unit by unit, without the window of two-digit units (for formats where
/// one-digit bytes are common).
#[inline(always)]
pub(crate) fn sep_hex_units_loop(
    b: &[u8],
    mut i: usize,
    sep: u8,
    two_digits: bool,
    out: &mut [u8; 8],
    mut n: usize,
    max: usize,
) -> (usize, usize) {
    let max = max.min(8);
    while n < max {
        let Some(&[s, h, l, t]) = b.get(i..i + 4) else {
            break;
        };
        let hi = crate::parse::HEX[h as usize];
        let lo = crate::parse::HEX[l as usize];
        let t_hex = crate::parse::HEX[t as usize] & 0xF0 == 0;
        // Non-short-circuit `|`: one branch per unit in the common case.
        if (s != sep) | ((hi | lo) & 0xF0 != 0) | t_hex {
            if two_digits || (s != sep) | (hi & 0xF0 != 0) | (lo & 0xF0 == 0) {
                break;
            }
            // One digit; `l` is the byte after it.
            out[n] = hi;
            i += 2;
        } else {
            out[n] = (hi << 4) | lo;
            i += 3;
        }
        n += 1;
    }
    (n, i)
}

/// The unit a pair of bytes starts, for [`sep_hex_units_mixed`], indexed by `first | second << 8`:
/// bit 15 set when `first` is a hex digit, then bit 8 set when `second` is one too (a two-digit
/// unit), and the unit's value in the low byte. 128 KiB, of which the rows of hex digits and
/// separators are used (about 5 KiB).
static HEX_PAIRS: [u16; 65536] = {
    let mut t = [0u16; 65536];
    let mut k = 0;
    while k < 65536 {
        let hi = crate::parse::HEX[k & 0xFF];
        let lo = crate::parse::HEX[k >> 8];
        if hi < 16 {
            t[k] = if lo < 16 {
                0x8100 | ((hi as u16) << 4) | lo as u16
            } else {
                0x8000 | hi as u16
            };
        }
        k += 1;
    }
    t
};

/// [`sep_hex_units_loop`] for units of one or two digits (`two_digits` false) from a 35-byte
/// window (eight units of at most three bytes and the byte after them): no bounds checks, and
/// both digits of a unit classified and combined by one lookup ([`HEX_PAIRS`]).
#[inline(always)]
pub(crate) fn sep_hex_units_mixed(
    b: &[u8],
    i: usize,
    sep: u8,
    out: &mut [u8; 8],
    n: usize,
    max: usize,
) -> (usize, usize) {
    let Some(w) = b.get(i..).and_then(|r| r.first_chunk::<35>()) else {
        return sep_hex_units_loop(b, i, sep, false, out, n, max);
    };
    let max = max.min(8);
    let mut n = n;
    // At most 3 bytes per unit and 8 units: `p` stays below 32 (the mask only drops the bounds
    // checks).
    let mut p = 0usize;
    while n < max {
        let q = p & 31;
        if w[q] != sep {
            break;
        }
        let pair = w[q + 1..].first_chunk::<2>().expect("q + 3 <= 34");
        let e = HEX_PAIRS[usize::from(u16::from_le_bytes(*pair))];
        if e & 0x8000 == 0 {
            break;
        }
        if e & 0x100 != 0 {
            if crate::parse::HEX[w[q + 3] as usize] < 16 {
                break; // a third digit: a longer field, left to the caller's loop
            }
            p += 3;
        } else {
            p += 2;
        }
        out[n] = e as u8;
        n += 1;
    }
    (n, i + p)
}

/// One data byte of exactly two hex digits at `b[i..]`, followed by a space, tab, CR or LF.
#[inline(always)]
pub(crate) fn hex_byte_field(b: &[u8], i: usize) -> Option<u8> {
    let hi = crate::parse::HEX[*b.get(i)? as usize];
    let lo = crate::parse::HEX[*b.get(i + 1)? as usize];
    if (hi | lo) & 0xF0 != 0 || !matches!(*b.get(i + 2)?, b' ' | b'\t' | b'\r' | b'\n') {
        return None;
    }
    Some((hi << 4) | lo)
}

/// The common layout of [`spaced_hex_bytes`]: `n` (<= 8) units ` XX` from `b[first]`, then a
/// space, tab, CR or LF; checked in one slice without bounds checks. Returns the index after the
/// last unit, `None` for any other layout (which [`spaced_hex_bytes`] reads byte by byte).
#[inline(always)]
pub(crate) fn spaced_hex_run(b: &[u8], first: usize, n: usize, out: &mut [u8; 8]) -> Option<usize> {
    let n = n.min(8);
    let run = b.get(first..first + 3 * n + 1)?;
    let mut bad = 0u8;
    let mut spaces = true;
    for (k, t) in run[..3 * n].chunks_exact(3).enumerate() {
        let hi = crate::parse::HEX[t[1] as usize];
        let lo = crate::parse::HEX[t[2] as usize];
        spaces &= t[0] == b' ';
        bad |= hi | lo;
        out[k] = (hi << 4) | lo;
    }
    if spaces & (bad & 0xF0 == 0) && matches!(run[3 * n], b' ' | b'\t' | b'\r' | b'\n') {
        return Some(first + 3 * n);
    }
    None
}

/// `n` (<= 8) data bytes of two hex digits, each after blanks (spaces only), into `out`; the
/// byte after the last one must be a space, tab, CR or LF. Returns the index after the last byte.
#[inline(always)]
pub(crate) fn spaced_hex_bytes(b: &[u8], i: usize, n: usize, out: &mut [u8; 8]) -> Option<usize> {
    let n = n.min(8);
    // Common layout: single spaces between the bytes, ` XX` per byte, checked in one slice
    // without bounds checks (from the last of the spaces before the first byte).
    let first = if n > 0 { spaces1(b, i)? - 1 } else { i };
    if let Some(end) = spaced_hex_run(b, first, n, out) {
        return Some(end);
    }
    let mut i = i;
    for d in &mut out[..n] {
        i = spaces1(b, i)?;
        *d = hex_byte_field(b, i)?;
        i += 2;
    }
    Some(i)
}

/// The end of the line containing `b[i]`: the index after its terminator (LF, CRLF or a lone
/// CR, as [`crate::source::Source`] splits lines), at most [`crate::MAX_LINE_LEN`] bytes from
/// `line_start`. `None` when the terminator is not buffered yet, or a CR is the last buffered
/// byte (an LF may follow in the next read).
#[inline(always)]
pub(crate) fn line_end(b: &[u8], i: usize, line_start: usize) -> Option<usize> {
    // Common: nothing but spaces before the terminator; else search for it.
    let mut at = skip_spaces(b, i)?;
    if !matches!(b[at], b'\n' | b'\r') {
        at = i + memchr::memchr2(b'\n', b'\r', b.get(i..)?)?;
    }
    if at - line_start > crate::MAX_LINE_LEN {
        return None;
    }
    if b[at] == b'\n' {
        return Some(at + 1);
    }
    Some(if *b.get(at + 1)? == b'\n' {
        at + 2
    } else {
        at + 1
    })
}

/// A decimal `<digits>[.<digits>]` at `b[i..]` in units of 10^-`frac_max` of the result unit
/// (e.g. `frac_max` 9 for seconds → ns, 6 for ms → ns): `(value, bytes)`. At most 18 integer
/// and `frac_max` fraction digits, at least one each side of a `.`; `None` otherwise.
#[inline(always)]
pub(crate) fn decimal(b: &[u8], i: usize, frac_max: usize) -> Option<(i64, usize)> {
    decimal_sep(b, i, frac_max, b'.')
}

/// [`decimal`] one digit at a time, with a branch per digit: for short numbers whose widths
/// repeat from line to line (relative times), where the branches are predicted and the fields
/// after the number can be read before its end is computed (a word-at-a-time count is a chain
/// of dependent operations the next loads wait for). Numbers of more than 18 digits in all go to
/// [`decimal`]. Same results as [`decimal`] wherever that reads a number.
#[inline(always)]
pub(crate) fn decimal_digits(b: &[u8], i: usize, frac_max: usize) -> Option<(i64, usize)> {
    decimal_digits_sep(b, i, frac_max, b'.').map(|(v, n, _)| (v, n))
}

/// [`decimal_digits`] with the decimal separator `.` or `sep`, and whether there was one:
/// `(value, bytes, fraction)`.
#[inline(always)]
pub(crate) fn decimal_digits_sep(
    b: &[u8],
    i: usize,
    frac_max: usize,
    sep: u8,
) -> Option<(i64, usize, bool)> {
    // Common: 20 bytes buffered (18 digits, the separator and the byte after them), read
    // without bounds checks. Near the end of the buffer: the word-at-a-time reader.
    match b.get(i..).and_then(|r| r.first_chunk::<20>()) {
        Some(w) => decimal_digits_window(w, b, i, frac_max, sep),
        None => long_decimal(b, i, frac_max, sep),
    }
}

/// [`decimal_digits_sep`] from a window of the 20 bytes at `b[i..]`.
#[inline(always)]
fn decimal_digits_window(
    w: &[u8; 20],
    b: &[u8],
    i: usize,
    frac_max: usize,
    sep: u8,
) -> Option<(i64, usize, bool)> {
    let mut j = 0;
    let mut v = 0u64;
    while j < 19 {
        let d = w[j].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + u64::from(d);
        j += 1;
    }
    if j > 18 {
        return long_decimal(b, i, frac_max, sep);
    }
    if j == 0 {
        return None;
    }
    let mut nf = 0;
    let frac = w[j] == b'.' || w[j] == sep;
    if frac {
        j += 1;
        while j < 19 {
            let d = w[j].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + u64::from(d);
            nf += 1;
            j += 1;
        }
        if nf > frac_max || j > 18 {
            return long_decimal(b, i, frac_max, sep);
        }
        if nf == 0 {
            return None;
        }
    }
    // `v` is the integer part times 10^nf plus the fraction (at most 18 digits, so below 10^18).
    let v = (v as i64).checked_mul(POW10[frac_max - nf] as i64)?;
    Some((v, j, frac))
}

/// [`decimal_digits_sep`] for numbers of more than 18 digits (or fraction digits past
/// `frac_max`), and near the end of the buffer: the word-at-a-time [`decimal_sep`] with the
/// separator that is there.
#[inline(never)]
fn long_decimal(b: &[u8], i: usize, frac_max: usize, sep: u8) -> Option<(i64, usize, bool)> {
    let int = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let s = match b.get(i + int) {
        Some(&c) if c == b'.' || c == sep => c,
        _ => b'.',
    };
    let (v, n) = decimal_sep(b, i, frac_max, s)?;
    Some((v, n, n > int))
}

/// [`decimal`] with the decimal separator `sep` (`.` or `,`).
#[inline(always)]
pub(crate) fn decimal_sep(b: &[u8], i: usize, frac_max: usize, sep: u8) -> Option<(i64, usize)> {
    let (int, ni) = digits(b, i, 18)?;
    if ni == 0 {
        return None;
    }
    let mut j = i + ni;
    let mut frac = 0u64;
    let mut nf = 0;
    if b[j] == sep {
        (frac, nf) = digits(b, j + 1, frac_max)?;
        if nf == 0 {
            return None;
        }
        j += 1 + nf;
    }
    // int < 10^18, frac < 10^9: the casts are exact.
    let v = (int as i64)
        .checked_mul(POW10[frac_max] as i64)?
        .checked_add(frac as i64 * POW10[frac_max - nf] as i64)?;
    Some((v, j - i))
}

/// Make `v` the first `len` (<= 8) bytes of `data`: one fixed 8-byte copy then a truncation
/// instead of a variable-length copy, reusing `v`'s capacity (a fresh `Vec` gets an 8-byte
/// allocation; none when `len` is 0).
#[inline(always)]
pub(crate) fn set_data(v: &mut Vec<u8>, data: &[u8; 8], len: usize) {
    v.clear();
    if len != 0 {
        if v.capacity() < 8 {
            // Exactly 8 bytes, without the growth path of `extend_from_slice`.
            *v = Vec::with_capacity(8);
        }
        v.extend_from_slice(data);
        v.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &[u8]) -> u64 {
        let mut a = [b'x'; 8];
        a[..s.len()].copy_from_slice(s);
        u64::from_le_bytes(a)
    }

    #[test]
    fn space_masks_and_patterns() {
        let mut line = [b' '; 64];
        line[..19].copy_from_slice(b"  1) 6.1\tRx  0386 8");
        line[63] = 0xA0; // not ASCII: not a space
        let m = nonspace_mask64(&line);
        let want = (0..64).fold(0u64, |m, k| m | (u64::from(line[k] != b' ') << k));
        assert_eq!(m, want);
        let p = SpacePattern::learn(&line, 19).unwrap();
        assert!(p.matches(&line));
        // Same runs, other bytes; anything after the pattern's bytes.
        let mut other = line.map(|c| if c == b' ' { c } else { b'Z' });
        other[40] = b'x';
        assert!(p.matches(&other));
        for k in 0..19 {
            let mut l = line;
            l[k] = if l[k] == b' ' { b'0' } else { b' ' };
            assert!(!p.matches(&l), "{k}");
        }
        assert!(!p.matches(&line[..31]), "fewer bytes than the check loads");
        assert!(SpacePattern::learn(&line[..63], 19).is_none());
        assert!(SpacePattern::learn(&line, 64).is_none());
        let p = SpacePattern::learn(&line, 63).unwrap();
        assert!(p.matches(&line) && !p.matches(&line[..63]));
    }

    #[test]
    fn digit_runs_and_values() {
        for (s, k) in [
            (&b"12345678"[..], 8),
            (b"1", 1),
            (b"", 0),
            (b"0123", 4),
            (b"9999999", 7),
        ] {
            assert_eq!(digit_run(word(s)), k, "{s:?}");
            if k > 0 {
                let want: u64 = std::str::from_utf8(s).unwrap().parse().unwrap();
                assert_eq!(digits_value(word(s), k), want, "{s:?}");
            }
        }
        // Every byte value: only 0-9 count as digits, whatever follows.
        for c in 0..=255u8 {
            let x = u64::from_le_bytes([c, b'5', 0xFF, b'/', b':', 0x80, b'0', b'9']);
            assert_eq!(digit_run(x) > 0, c.is_ascii_digit(), "{c:#x}");
            let y = u64::from_le_bytes([b'1', b'2', c, b'3', b'4', b'5', b'6', b'7']);
            assert_eq!(digit_run(y) == 8, c.is_ascii_digit(), "{c:#x}");
        }
    }

    #[test]
    fn digit_runs_in_slices() {
        assert_eq!(
            digits(b"1733187989.936605) ", 0, 18),
            Some((1_733_187_989, 10))
        );
        assert_eq!(digits(b"936605) can0 1", 0, 9), Some((936_605, 6)));
        assert_eq!(digits(b"0123456789012345678)xxxxxxx", 0, 18), None);
        assert_eq!(
            digits(b"012345678901234567)xxxxxxxx", 0, 18),
            Some((12_345_678_901_234_567, 18))
        );
        assert_eq!(digits(b"12)", 0, 9), None, "fewer than 8 bytes left");
        assert_eq!(digits_short(b"1)", 0, 3), Some((1, 1)));
        assert_eq!(digits_short(b"1)", 0, 0), None);
        assert_eq!(digits_short(b")x", 0, 3), Some((0, 0)));
        assert_eq!(digits_short(b"1", 0, 3), None, "no byte after the run");
        assert_eq!(digits_short(b"255\txxxxxxx", 0, 3), Some((255, 3)));
        assert_eq!(digits_short(b"2555\txxxxxx", 0, 3), None);
        assert_eq!(digits(b"x1234567", 0, 9), Some((0, 0)));
        assert_eq!(digits(b"1234567)", 0, 6), None);
        assert_eq!(digits(b"12345678)xxxxxxx", 0, 7), None);
        assert_eq!(digits(b"12345678)xxxxxxx", 0, 8), Some((12_345_678, 8)));
        assert_eq!(digits(b"123456789)xxxxxx", 0, 8), None);
        assert_eq!(
            digits(b"1234567890123456)xxxxxxx", 0, 18),
            Some((1_234_567_890_123_456, 16))
        );
        assert_eq!(digits(b"1234567890123456)xxxxxxx", 0, 15), None);
        assert_eq!(
            digits(b"12345678)", 0, 9),
            None,
            "fewer than 8 bytes after the word"
        );
    }

    #[test]
    fn hex_words() {
        // Every byte value: only 0-9, a-f and A-F count as hex digits, whatever follows.
        for c in 0..=255u8 {
            let x = u64::from_le_bytes([c, b'5', 0xFF, b'/', b':', 0x80, b'0', b'9']);
            assert_eq!(hex_digit_run(x) > 0, c.is_ascii_hexdigit(), "{c:#x}");
            let y = u64::from_le_bytes([b'1', b'a', c, b'F', b'4', b'5', b'6', b'7']);
            assert_eq!(hex_digit_run(y) == 8, c.is_ascii_hexdigit(), "{c:#x}");
        }
        for s in [
            &b"0"[..],
            b"7FF",
            b"1FFFFFFF",
            b"abcdef12",
            b"0000021A",
            b"fFfF",
        ] {
            assert_eq!(hex_digit_run(word(s)), s.len());
            let want = u32::from_str_radix(std::str::from_utf8(s).unwrap(), 16).unwrap();
            let mut ext = s.to_vec();
            ext.push(b'#');
            assert_eq!(hex_run(&ext, 0, 8), Some((want, s.len())), "{s:?}");
        }
        // The windowed ID reader reads what the byte loop reads.
        for s in [
            &b"0 xxxxxxxx"[..],
            b"7FF xxxxxxx",
            b"1FFFFFFF xx",
            b"1FFFFFFFF xx",
            b"0000021A",
            b"7FF x",
            b"1FFFFFFF",
            b"1FFFFFFF ",
            b" 123xxxxxxx",
            b"123G45678xxx",
        ] {
            assert_eq!(hex_id(s, 0), hex_run(s, 0, 8), "{s:?}");
        }
        assert_eq!(hex_bytes4(word(b"208010fF")), [0x20, 0x80, 0x10, 0xFF]);
        assert_eq!(hex_run(b"1FFFFFFF ", 0, 8), Some((0x1FFF_FFFF, 8)));
        assert_eq!(hex_run(b"1FFFFFFFF        ", 0, 8), None);
        assert_eq!(hex_run(b"1FFFFFFF", 0, 8), None, "no byte after the run");
        assert_eq!(hex_run(b"7FF,0,8,00,01", 0, 8), Some((0x7FF, 3)));
        assert_eq!(hex_run(b"7FF,0,8,00,01", 0, 2), None);
        assert_eq!(hex_run(b"AB 12 34 56 78", 0, 2), Some((0xAB, 2)));
        assert_eq!(hex_run(b"AB 12 34 56 78", 2, 2), None);
        let mut out = [0u8; 8];
        let units = |b: &[u8], sep, two, out: &mut [u8; 8], n, max| {
            sep_hex_units(b, 0, sep, two, out, n, max)
        };
        assert_eq!(units(b" 0A ff 1 22\n", b' ', true, &mut out, 0, 8), (2, 6));
        assert_eq!(out[..2], [0x0A, 0xFF]);
        assert_eq!(
            units(b" 0A ff 1 22\n", b' ', false, &mut out, 0, 8),
            (4, 11)
        );
        assert_eq!(out[..4], [0x0A, 0xFF, 0x01, 0x22]);
        assert_eq!(units(b",0A,123", b',', false, &mut out, 3, 8), (4, 3));
        assert_eq!(out[3], 0x0A);
        assert_eq!(units(b" 0A", b' ', true, &mut out, 0, 8), (0, 0));
        assert_eq!(units(b" 01 02 03", b' ', true, &mut out, 7, 8), (8, 3));
        assert_eq!(units(b" 01 02 03", b' ', true, &mut out, 0, 1), (1, 3));
        assert_eq!(
            units(b",1,", b',', false, &mut out, 0, 8),
            (0, 0),
            "4 bytes needed"
        );
        // Long enough for the 25-byte window.
        let long = b" 00 11 22 33 44 55 66 77 88 99 aa bb\n";
        assert_eq!(units(long, b' ', true, &mut out, 0, 8), (8, 24));
        assert_eq!(out, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
        assert_eq!(units(long, b' ', true, &mut out, 0, 3), (3, 9));
        assert_eq!(units(long, b' ', true, &mut out, 5, 8), (8, 9));
        let mixed = b" 0A b 22 3 44 55 66 77 88 99 aa bb\n";
        assert_eq!(units(mixed, b' ', true, &mut out, 0, 8), (1, 3));
        assert_eq!(units(mixed, b' ', false, &mut out, 0, 8), (8, 22));
        assert_eq!(out, [0x0A, 0x0B, 0x22, 0x03, 0x44, 0x55, 0x66, 0x77]);
        let bad = b" 0A 1G 22 33 44 55 66 77 88 99 aa bb\n";
        // ` 1` is a one-digit unit; the caller rejects the `G` after it.
        assert_eq!(units(bad, b' ', false, &mut out, 0, 8), (2, 5));
        assert_eq!(units(bad, b' ', true, &mut out, 0, 8), (1, 3));
        let three = b" 0A 123 22 33 44 55 66 77 88 99 aa bb\n";
        assert_eq!(units(three, b' ', false, &mut out, 0, 8), (1, 3));
    }

    /// The 25-byte window of [`sep_hex_units`] (which checks the byte after a unit only for the
    /// last unit taken) and the 35-byte window of [`sep_hex_units_mixed`] read exactly what the
    /// unit-by-unit loop reads, on pseudo-random text
    /// that mixes units of one to three digits, separators, other bytes and early ends.
    #[test]
    fn unit_window_matches_the_unit_loop() {
        const PIECES: [&[u8]; 10] = [
            b" 0A", b" ff", b" 1", b" 123", b" 9G", b",3C", b",7", b"  ", b"\n", b" 4d5",
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            let mut text = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut r = seed;
            for _ in 0..(r % 13) {
                r /= 13;
                text.extend_from_slice(PIECES[(r % 10) as usize]);
                r /= 10;
                if r == 0 {
                    r = seed.rotate_left(17);
                }
            }
            let cut = (seed >> 40) as usize % (text.len() + 1);
            // Padded so that the 35-byte window of `sep_hex_units_mixed` is there too.
            let mut padded = text.clone();
            padded.extend_from_slice(&[b'\n'; 40]);
            for t in [&text[..], &text[..cut], &padded[..]] {
                for sep in [b' ', b','] {
                    for two in [false, true] {
                        for (n0, max) in [(0, 8), (0, 3), (2, 8), (5, 6), (8, 8)] {
                            let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
                            let w = sep_hex_units(t, 0, sep, two, &mut a, n0, max);
                            let l = sep_hex_units_loop(t, 0, sep, two, &mut b, n0, max);
                            assert_eq!(w, l, "{:?} {sep} {two} {n0} {max}", t);
                            assert_eq!(a[..w.0], b[..l.0], "{:?}", t);
                            if !two {
                                let mut c = [0u8; 8];
                                let m = sep_hex_units_mixed(t, 0, sep, &mut c, n0, max);
                                assert_eq!(m, l, "mixed: {:?} {sep} {n0} {max}", t);
                                assert_eq!(c[..m.0], b[..l.0], "mixed: {:?}", t);
                            }
                        }
                    }
                }
            }
        }
    }

    /// [`decimal_digits`] reads what [`decimal`] reads wherever `decimal` reads a number.
    #[test]
    fn short_decimals_match() {
        for t in [
            &b"0.0518,100,8"[..],
            b"26.1  Rx  ",
            b"8825.8       ",
            b"1.2345678      ",
            b"1.23456789     ",
            b"123456.7       ",
            b"1234567.8      ",
            b"12.       ",
            b"12.x      ",
            b"12        ",
            b".5        ",
            b"1.5",
            b"1.5      ",
            b"1,5       ",
            b"1733187989.936605) ",
            b"166.064000 R11 ",
        ] {
            for frac_max in [3, 6, 9] {
                // `decimal` needs more bytes buffered after a `.`, so only where it reads a
                // number are the two compared.
                let long = decimal(t, 0, frac_max);
                if long.is_some() {
                    assert_eq!(decimal_digits(t, 0, frac_max), long, "{t:?} {frac_max}");
                }
            }
        }
        // (20 bytes buffered: the digit-by-digit window; with fewer, `decimal` decides.)
        assert_eq!(
            decimal_digits(b"26.1  Rx            ", 0, 6),
            Some((26_100_000, 4))
        );
        assert_eq!(
            decimal_digits(b"1.5                 ", 0, 6),
            Some((1_500_000, 3))
        );
        assert_eq!(decimal_digits(b"1.2345678           ", 0, 6), None);
        assert_eq!(
            decimal_digits(b"0.0518,100,88,7F,FF,", 0, 9),
            Some((51_800_000, 6))
        );
    }

    /// [`decimal_digits`] reads what [`decimal`] reads, on random numbers of every width
    /// (with and without fraction, past 18 digits, past `frac_max`) and cut buffers.
    #[test]
    fn digit_by_digit_decimals_match() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..50_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut r = seed;
            let mut t = Vec::new();
            for _ in 0..(r % 22) {
                t.push(b'0' + (r % 10) as u8);
                r = r.rotate_right(3);
            }
            if seed & 1 == 0 {
                t.push(b'.');
                for _ in 0..((seed >> 8) % 12) {
                    t.push(b'0' + ((seed >> 20) % 10) as u8);
                }
            }
            t.extend_from_slice(b",1,2             ");
            let cut = (seed >> 32) as usize % t.len();
            let comma: Vec<u8> = t
                .iter()
                .map(|&c| if c == b'.' { b',' } else { c })
                .collect();
            for b in [&t[..], &t[..cut], &comma[..], &comma[..cut]] {
                for frac_max in [3, 6, 9] {
                    let long = decimal(b, 0, frac_max);
                    if long.is_some() {
                        assert_eq!(decimal_digits(b, 0, frac_max), long, "{b:?} {frac_max}");
                    }
                    // Either separator: the reference reads with the one that is there.
                    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
                    let s = match b.get(int) {
                        Some(&c @ (b'.' | b',')) => c,
                        _ => b'.',
                    };
                    if let Some((v, n)) = decimal_sep(b, 0, frac_max, s) {
                        assert_eq!(
                            decimal_digits_sep(b, 0, frac_max, b','),
                            Some((v, n, n > int)),
                            "{b:?} {frac_max}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn line_pieces() {
        let b = b"     26.1  Rx 0386 8  0A ff\t \r\nnext";
        assert_eq!(skip_spaces(b, 0), Some(5));
        assert_eq!(spaces1(b, 4), Some(5));
        assert_eq!(spaces1(b, 5), None);
        assert_eq!(decimal(b, 5, 6), Some((26_100_000, 4)));
        assert_eq!(decimal(b"12 ", 0, 6), None, "fewer than 8 bytes left");
        assert_eq!(decimal(b"12        ", 0, 6), Some((12_000_000, 2)));
        assert_eq!(decimal(b"12.        ", 0, 6), None);
        assert_eq!(decimal(b"1.1234567        ", 0, 6), None);
        assert_eq!(hex_run(b, 14, 8), Some((0x386, 4)));
        assert_eq!(hex_run(b, 13, 8), None);
        assert_eq!(hex_run(b"123456789 ", 0, 8), None);
        assert_eq!(hex_byte_field(b, 22), Some(0x0A));
        assert_eq!(hex_byte_field(b, 25), Some(0xFF));
        assert_eq!(hex_byte_field(b"0A1 ", 0), None);
        assert_eq!(line_end(b, 22, 0), Some(31));
        assert_eq!(line_end(b"ab\rc", 0, 0), Some(3), "lone CR");
        assert_eq!(line_end(b"ab \rc", 0, 0), Some(4), "lone CR");
        assert_eq!(line_end(b"ab \r\nc", 0, 0), Some(5));
        assert_eq!(line_end(b"ab\r", 0, 0), None, "CR at the buffer end");
        assert_eq!(line_end(b"ab", 0, 0), None);
        assert_eq!(skip_spaces(b"   ", 0), None);
        let mut v = vec![9; 20];
        set_data(&mut v, &[1, 2, 3, 4, 5, 6, 7, 8], 3);
        assert_eq!(v, vec![1, 2, 3]);
        set_data(&mut v, &[1, 2, 3, 4, 5, 6, 7, 8], 8);
        assert_eq!(v, vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(v.capacity() >= 20, "capacity reused");
        set_data(&mut v, &[1; 8], 0);
        assert!(v.is_empty());
        assert_eq!(line_end(b"  x \r\n", 0, 0), Some(6));
        let mut out = [0u8; 8];
        assert_eq!(spaced_hex_bytes(b" 0A ff\t", 0, 2, &mut out), Some(6));
        assert_eq!(out[..2], [0x0A, 0xFF]);
        assert_eq!(spaced_hex_bytes(b"   0A  ff\n", 0, 2, &mut out), Some(9));
        assert_eq!(out[..2], [0x0A, 0xFF]);
        assert_eq!(spaced_hex_bytes(b"   0A ff\n", 0, 2, &mut out), Some(8));
        assert_eq!(out[..2], [0x0A, 0xFF]);
        assert_eq!(spaced_hex_bytes(b" 0A fg\n", 0, 2, &mut out), None);
        assert_eq!(spaced_hex_bytes(b" 0A f\n", 0, 2, &mut out), None);
        assert_eq!(spaced_hex_bytes(b" 0A\tff\n", 0, 2, &mut out), None);
        assert_eq!(spaced_hex_bytes(b" 0A 1234\n", 0, 2, &mut out), None);
        assert_eq!(spaced_hex_bytes(b" 0A\n", 0, 0, &mut out), Some(0));
    }
}
