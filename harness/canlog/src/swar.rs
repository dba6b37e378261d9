//! Word-at-a-time (8 bytes per step) digit scanning for the well-formed-line fast paths. Safe code
//! only: words are loaded with `u64::from_le_bytes`, so the first byte is the least significant.

/// Eight bytes from `b[i..]` as a little-endian word, if that many are there.
#[inline(always)]
pub(crate) fn load8(b: &[u8], i: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(i..i.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(s))
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

/// Like [`skip_spaces`] but at least one space is required.
#[inline(always)]
pub(crate) fn spaces1(b: &[u8], i: usize) -> Option<usize> {
    if *b.get(i)? != b' ' {
        return None;
    }
    skip_spaces(b, i + 1)
}

/// A run of 1..=`max` (<= 8) hex digits at `b[i..]` followed by another byte: `(value, count)`.
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

/// `n` (<= 8) data bytes of two hex digits, each after blanks (spaces only), into `out`; the
/// byte after the last one must be a space, tab, CR or LF. Returns the index after the last byte.
#[inline(always)]
pub(crate) fn spaced_hex_bytes(b: &[u8], i: usize, n: usize, out: &mut [u8; 8]) -> Option<usize> {
    let n = n.min(8);
    // Common layout: single spaces between the bytes, ` XX` per byte, checked in one slice
    // without bounds checks (from the last of the spaces before the first byte).
    let first = if n > 0 { spaces1(b, i)? - 1 } else { i };
    if let Some(run) = b.get(first..first + 3 * n + 1) {
        let mut ok = true;
        for (k, t) in run[..3 * n].chunks_exact(3).enumerate() {
            let hi = crate::parse::HEX[t[1] as usize];
            let lo = crate::parse::HEX[t[2] as usize];
            ok &= t[0] == b' ' && (hi | lo) & 0xF0 == 0;
            out[k] = (hi << 4) | lo;
        }
        if ok && matches!(run[3 * n], b' ' | b'\t' | b'\r' | b'\n') {
            return Some(first + 3 * n);
        }
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

/// The first `len` (<= 8) bytes of `data` as a frame's data: one fixed 8-byte copy into an
/// 8-byte allocation instead of a variable-length copy (no allocation when `len` is 0).
#[inline(always)]
pub(crate) fn data_vec(data: &[u8; 8], len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    let mut v = Vec::with_capacity(8);
    v.extend_from_slice(data);
    v.truncate(len);
    v
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
        assert_eq!(digits(b"x1234567", 0, 9), Some((0, 0)));
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
        assert_eq!(data_vec(&[1, 2, 3, 4, 5, 6, 7, 8], 3), vec![1, 2, 3]);
        assert_eq!(
            data_vec(&[1, 2, 3, 4, 5, 6, 7, 8], 8),
            vec![1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert!(data_vec(&[1; 8], 0).is_empty());
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
