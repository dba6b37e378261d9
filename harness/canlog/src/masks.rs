//! Byte classes of a 64-byte window as bit masks (bit `k` for byte `k`), for the masked fast
//! paths: a line's layout is then checked with a few integer operations on the masks instead of
//! a test per byte.
//!
//! On x86-64 the masks come from SSE2 (part of every x86-64 CPU, so there is no runtime
//! detection): 16 bytes per compare. Other targets have no masked paths ([`AVAILABLE`] is false)
//! and their readers use the scanning fast paths. [`classify_bytes`] computes the same masks a
//! byte at a time: the reference the SSE2 version is tested against.
//!
//! Measured and not kept: AVX2 (detected at run time, the masked path compiled in a
//! `#[target_feature]` function) ran fewer instructions but was 6-7 % slower on the crtd bench
//! file, with 32-byte and with 16-byte compares alike.

use crate::swar::{digits_value, hex_word_value, POW10};

/// Byte classes of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Masks {
    /// ASCII decimal digits.
    pub digit: u64,
    /// ASCII hex digits (either case).
    pub hex: u64,
    /// The separator byte the caller asked for.
    pub sep: u64,
    /// Line terminator bytes: LF and CR.
    pub eol: u64,
}

/// Whether [`classify`] is fast on this target (else the masked paths are skipped).
pub(crate) const AVAILABLE: bool = cfg!(all(target_arch = "x86_64", target_feature = "sse2"));

/// The classes of the 64 bytes of `w`, `sep` being the field separator.
#[inline(always)]
pub(crate) fn classify(w: &[u8; 64], sep: u8) -> Masks {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        let mut m = Masks {
            digit: 0,
            hex: 0,
            sep: 0,
            eol: 0,
        };
        for (k, chunk) in w.as_chunks::<16>().0.iter().enumerate() {
            // SAFETY: SSE2 is enabled (this block's cfg).
            let c = unsafe { x86::classify16(chunk, sep) };
            let at = 16 * k;
            m.digit |= c.digit << at;
            m.hex |= c.hex << at;
            m.sep |= c.sep << at;
            m.eol |= c.eol << at;
        }
        m
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        classify_bytes(w, sep)
    }
}

/// [`classify`] one byte at a time.
#[cfg_attr(
    all(target_arch = "x86_64", target_feature = "sse2", not(test)),
    allow(dead_code)
)]
pub(crate) fn classify_bytes(w: &[u8; 64], sep: u8) -> Masks {
    let mut m = Masks {
        digit: 0,
        hex: 0,
        sep: 0,
        eol: 0,
    };
    for (k, &c) in w.iter().enumerate() {
        let bit = 1u64 << k;
        if c.is_ascii_digit() {
            m.digit |= bit;
        }
        if c.is_ascii_hexdigit() {
            m.hex |= bit;
        }
        if c == sep {
            m.sep |= bit;
        }
        if c == b'\n' || c == b'\r' {
            m.eol |= bit;
        }
    }
    m
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod x86 {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_sub_epi8,
    };

    use super::Masks;

    // Each class, per byte: digits are `x - '0' <= 9` and letters `(x | 0x20) - 'a' <= 5` as
    // unsigned bytes, tested as `min(d, n) == d`.

    /// The masks of 16 bytes (in the low 16 bits of each field).
    ///
    /// # Safety
    /// The CPU must have SSE2 (every x86-64 CPU has).
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn classify16(chunk: &[u8; 16], sep: u8) -> Masks {
        // SAFETY: 16 readable bytes; the load has no alignment requirement.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>()) };
        let splat = |b: u8| _mm_set1_epi8(b as i8);
        let d = _mm_sub_epi8(v, splat(b'0'));
        let digit = _mm_cmpeq_epi8(_mm_min_epu8(d, splat(9)), d);
        let a = _mm_sub_epi8(_mm_or_si128(v, splat(0x20)), splat(b'a'));
        let hex = _mm_or_si128(digit, _mm_cmpeq_epi8(_mm_min_epu8(a, splat(5)), a));
        let bits = |x| u64::from(_mm_movemask_epi8(x) as u16);
        Masks {
            digit: bits(digit),
            hex: bits(hex),
            sep: bits(_mm_cmpeq_epi8(v, splat(sep))),
            eol: bits(_mm_or_si128(
                _mm_cmpeq_epi8(v, splat(b'\n')),
                _mm_cmpeq_epi8(v, splat(b'\r')),
            )),
        }
    }
}

/// The first 64 bytes of `b`, if there are that many.
#[inline(always)]
pub(crate) fn window(b: &[u8]) -> Option<&[u8; 64]> {
    b.first_chunk::<64>()
}

/// Bits `0..n` set (`n <= 64`).
#[inline(always)]
pub(crate) fn low_bits(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// The end of the line at the start of `w`: `(e, end)` with `e` the index of its first CR or LF
/// and `end` the index after its terminator, LF or CRLF. `None` for a lone CR (which the other
/// paths take) or no terminator among the first 63 bytes.
#[inline(always)]
pub(crate) fn line_end(w: &[u8; 64], m: &Masks) -> Option<(usize, usize)> {
    let e = m.eol.trailing_zeros() as usize;
    if e > 62 {
        return None;
    }
    match w[e] {
        b'\n' => Some((e, e + 1)),
        _ if w[e + 1] == b'\n' => Some((e, e + 2)),
        _ => None,
    }
}

/// A time in seconds at `w[at..]` (`at` <= 20) written `<int>.<frac>` with 1-10 integer and 1-9
/// fraction digits, in nanoseconds: `(ns, index after it)`. `digit` is the window's digit mask.
/// `None` for any other form (or a time past the range of `i64` nanoseconds).
#[inline(always)]
pub(crate) fn seconds(w: &[u8; 64], digit: u64, at: usize) -> Option<(i64, usize)> {
    let digit = digit >> at;
    let k = (!digit).trailing_zeros() as usize;
    if !(1..=10).contains(&k) || w[(at + k).min(63)] != b'.' {
        return None;
    }
    let f = (!(digit >> (k + 1))).trailing_zeros() as usize;
    if !(1..=9).contains(&f) {
        return None;
    }
    let int = if k <= 8 {
        digits_value(word(w, at), k)
    } else {
        digits_value(word(w, at), 8) * POW10[k - 8] + digits_value(word(w, at + 8), k - 8)
    };
    let fw = word(w, at + k + 1);
    let frac = if f <= 8 {
        digits_value(fw, f) * POW10[9 - f]
    } else {
        digits_value(fw, 8) * 10 + u64::from(w[(at + k + 9).min(63)] - b'0')
    };
    // At most 10 integer digits: only the multiplication can overflow.
    let ns = (int as i64).checked_mul(1_000_000_000)? + frac as i64;
    Some((ns, at + k + 1 + f))
}

/// An ID of 1-8 hex digits at `w[at..]` (`at` <= 56): `(value, digits)`. `hex` is the window's
/// hex mask.
#[inline(always)]
pub(crate) fn hex_id(w: &[u8; 64], hex: u64, at: usize) -> Option<(u32, usize)> {
    let n = (!(hex >> at)).trailing_zeros() as usize;
    if !(1..=8).contains(&n) {
        return None;
    }
    Some((hex_word_value(word(w, at) << (8 * (8 - n))), n))
}

/// The eight bytes of `w` from `i` (at most 56) as a little-endian word.
#[inline(always)]
pub(crate) fn word(w: &[u8; 64], i: usize) -> u64 {
    let i = i.min(56);
    u64::from_le_bytes(*w[i..].first_chunk::<8>().expect("i <= 56"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(w: &[u8; 64], sep: u8) {
        assert_eq!(classify(w, sep), classify_bytes(w, sep), "sep {sep}");
    }

    #[test]
    fn sse2_masks_match_the_byte_loop_on_every_byte_value() {
        for sep in [b' ', b',', b';', b'\n'] {
            for start in (0..256).step_by(64) {
                check(&std::array::from_fn(|k| (start + k) as u8), sep);
                check(&std::array::from_fn(|k| (start + 63 - k) as u8), sep);
            }
        }
        let line: [u8; 64] =
            *b"166.064000 R11 0000021A FE 36 12 fe 69 05 07 AD \r\nRD11,0.1,1,ab\r";
        check(&line, b' ');
        let m = classify_bytes(&line, b' ');
        assert_eq!(m.eol.trailing_zeros(), 48);
        assert_eq!(m.digit & 0b1111, 0b0111);
        assert_eq!(m.hex & 0b1111, 0b0111);
        assert_eq!(m.hex >> 32 & 0xFF, 0b1011_0110); // " fe 69 0"
        assert_eq!(m.sep & low_bits(16), 1 << 10 | 1 << 14);
    }

    #[test]
    fn low_bits_and_words() {
        assert_eq!(low_bits(0), 0);
        assert_eq!(low_bits(3), 7);
        assert_eq!(low_bits(64), u64::MAX);
        let w: [u8; 64] = std::array::from_fn(|k| k as u8);
        assert_eq!(word(&w, 0), 0x0706_0504_0302_0100);
        assert_eq!(word(&w, 56), 0x3F3E_3D3C_3B3A_3938);
    }
}
