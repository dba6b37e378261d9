//! Byte-level parsing helpers shared by the text formats. Nothing here allocates on the success
//! path.

use std::borrow::Cow;

/// A problem in one line: 0-based byte column plus what was expected. What was *found* is taken
/// from the line at that column when the error is reported (see [`found_at`]).
///
/// Boxed so that `LineResult<T>` stays small on the success path (results come back in
/// registers); errors are rare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineError(Box<LineErrorInner>);

/// The fields of a [`LineError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineErrorInner {
    /// 0-based byte offset in the line.
    pub col: usize,
    /// What the parser expected there.
    pub expected: Cow<'static, str>,
    /// Overrides the excerpt taken from the line.
    pub found: Option<String>,
}

impl std::ops::Deref for LineError {
    type Target = LineErrorInner;
    fn deref(&self) -> &LineErrorInner {
        &self.0
    }
}

impl std::ops::DerefMut for LineError {
    fn deref_mut(&mut self) -> &mut LineErrorInner {
        &mut self.0
    }
}

impl LineError {
    /// Expected `expected` at `col`.
    #[cold]
    pub fn at(col: usize, expected: impl Into<Cow<'static, str>>) -> Self {
        LineError(Box::new(LineErrorInner {
            col,
            expected: expected.into(),
            found: None,
        }))
    }

    /// With an explicit "found" text.
    pub fn found(mut self, found: impl Into<String>) -> Self {
        self.0.found = Some(found.into());
        self
    }

    /// The fields, by value.
    pub fn into_inner(self) -> LineErrorInner {
        *self.0
    }
}

/// Result of a line decoder.
pub(crate) type LineResult<T> = Result<T, LineError>;

/// A short, quoted, escaped excerpt of `line` starting at `col` (up to the next separator), or
/// `end of line`.
pub(crate) fn found_at(line: &[u8], col: usize) -> String {
    if col >= line.len() {
        return "end of line".to_string();
    }
    let rest = &line[col..];
    let mut n = rest
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b','))
        .unwrap_or(rest.len());
    if n == 0 {
        n = 1; // show the separator itself
    }
    let take = n.min(24);
    let mut s = String::from("\"");
    for &b in &rest[..take] {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if n > take {
        s.push('…');
    }
    s.push('"');
    s
}

/// Splits a line into fields separated by runs of blanks, yielding `(column, field)`.
#[derive(Clone)]
pub(crate) struct Fields<'a> {
    line: &'a [u8],
    pos: usize,
}

/// Separator predicate: space or tab.
#[inline(always)]
pub(crate) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl<'a> Fields<'a> {
    /// Whitespace-separated fields (runs of spaces/tabs).
    pub fn blank(line: &'a [u8]) -> Self {
        Fields { line, pos: 0 }
    }

    /// Current position (start of the rest).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The rest of the line from the next non-separator byte.
    pub fn rest(&mut self) -> (usize, &'a [u8]) {
        while self.pos < self.line.len() && is_blank(self.line[self.pos]) {
            self.pos += 1;
        }
        (self.pos, &self.line[self.pos..])
    }

    /// Read exactly `n` blank-separated data bytes of two hex digits each into `out`. Errors are
    /// the same as taking each field with [`Fields::expect`] and [`hex_byte2`].
    #[inline]
    pub fn hex_bytes(&mut self, n: usize, out: &mut Vec<u8>) -> LineResult<()> {
        let line = self.line;
        let mut i = self.pos;
        for _ in 0..n {
            while i < line.len() && is_blank(line[i]) {
                i += 1;
            }
            if i >= line.len() {
                self.pos = i;
                return Err(LineError::at(line.len(), "a data byte"));
            }
            let hi = HEX[line[i] as usize];
            let lo = line.get(i + 1).map_or(0xFF, |&c| HEX[c as usize]);
            let ends = line.get(i + 2).is_none_or(|&c| is_blank(c));
            if (hi | lo) & 0xF0 != 0 || !ends {
                let mut e = i;
                while e < line.len() && !is_blank(line[e]) {
                    e += 1;
                }
                self.pos = e;
                return Err(hex_byte2(&line[i..e], i)
                    .err()
                    .unwrap_or_else(|| LineError::at(i, "a data byte")));
            }
            out.push((hi << 4) | lo);
            i += 2;
        }
        self.pos = i;
        Ok(())
    }

    /// The next field, or an error naming `expected` at the end of the line.
    #[inline]
    pub fn expect(&mut self, expected: &'static str) -> LineResult<(usize, &'a [u8])> {
        self.next()
            .ok_or_else(|| LineError::at(self.line.len(), expected))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (usize, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let line = self.line;
        let mut i = self.pos;
        while i < line.len() && is_blank(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            self.pos = i;
            return None;
        }
        let start = i;
        while i < line.len() && !is_blank(line[i]) {
            i += 1;
        }
        self.pos = i;
        Some((start, &line[start..i]))
    }
}

/// Splits on every single `sep` byte (CSV-like: empty fields are fields).
pub(crate) struct Split<'a> {
    line: &'a [u8],
    pos: usize,
    sep: u8,
    done: bool,
}

impl<'a> Split<'a> {
    /// Fields separated by `sep`.
    pub fn new(line: &'a [u8], sep: u8) -> Self {
        Split {
            line,
            pos: 0,
            sep,
            done: false,
        }
    }

    /// The next field or an error at the end of the line.
    pub fn expect(&mut self, expected: &'static str) -> LineResult<(usize, &'a [u8])> {
        self.next()
            .ok_or_else(|| LineError::at(self.line.len(), expected))
    }
}

impl<'a> Iterator for Split<'a> {
    type Item = (usize, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start = self.pos;
        // Fields are short: a plain loop beats a memchr call per field.
        let rest = &self.line[start..];
        match rest.iter().position(|&b| b == self.sep) {
            Some(i) => {
                self.pos = start + i + 1;
                Some((start, &rest[..i]))
            }
            None => {
                self.done = true;
                self.pos = self.line.len();
                Some((start, rest))
            }
        }
    }
}

/// Hex digit values, 0xFF for non-digits. A `const`, not a `static`: each use site gets a local
/// copy addressed directly (a `static` was loaded through the GOT on every lookup).
pub(crate) const HEX: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The value of one hex digit.
#[inline(always)]
pub(crate) fn hex_val(b: u8) -> Option<u8> {
    let v = HEX[b as usize];
    (v != 0xFF).then_some(v)
}

/// Decode hex digit pairs without separators (`0011AA…`, even length) into `out`.
/// Returns the 0-based index of the first bad digit.
#[inline]
pub(crate) fn hex_pairs(s: &[u8], out: &mut Vec<u8>) -> Result<(), usize> {
    for (k, p) in s.chunks_exact(2).enumerate() {
        let hi = HEX[p[0] as usize];
        let lo = HEX[p[1] as usize];
        if (hi | lo) & 0xF0 != 0 {
            return Err(2 * k + usize::from(hi & 0xF0 == 0));
        }
        out.push((hi << 4) | lo);
    }
    Ok(())
}

/// Parse 1..=8 hex digits starting at column `col`. Errors point at the offending byte.
#[inline]
pub(crate) fn hex_u32(field: &[u8], col: usize, what: &'static str) -> LineResult<u32> {
    if field.is_empty() {
        return Err(LineError::at(col, what));
    }
    if field.len() > 8 {
        return Err(LineError::at(col, what));
    }
    let mut v: u32 = 0;
    for (i, &b) in field.iter().enumerate() {
        let d = hex_val(b).ok_or_else(|| LineError::at(col + i, "hex digit"))?;
        v = (v << 4) | u32::from(d);
    }
    Ok(v)
}

/// Parse exactly two hex digits (one data byte).
#[inline]
pub(crate) fn hex_byte2(field: &[u8], col: usize) -> LineResult<u8> {
    if field.len() != 2 {
        return Err(LineError::at(col, "a data byte of two hex digits"));
    }
    let hi = hex_val(field[0]).ok_or_else(|| LineError::at(col, "hex digit"))?;
    let lo = hex_val(field[1]).ok_or_else(|| LineError::at(col + 1, "hex digit"))?;
    Ok((hi << 4) | lo)
}

/// Parse one or two hex digits (unpadded byte, tattler CSV).
pub(crate) fn hex_byte12(field: &[u8], col: usize) -> LineResult<u8> {
    if field.is_empty() || field.len() > 2 {
        return Err(LineError::at(col, "a data byte of one or two hex digits"));
    }
    let mut v = 0u8;
    for (i, &b) in field.iter().enumerate() {
        v = (v << 4) | hex_val(b).ok_or_else(|| LineError::at(col + i, "hex digit"))?;
    }
    Ok(v)
}

/// Parse an unsigned decimal integer (no sign), at most `max`.
#[inline]
pub(crate) fn dec_u64(field: &[u8], col: usize, what: &'static str, max: u64) -> LineResult<u64> {
    if field.is_empty() {
        return Err(LineError::at(col, what));
    }
    let mut v: u64 = 0;
    for (i, &b) in field.iter().enumerate() {
        if !b.is_ascii_digit() {
            return Err(LineError::at(col + i, what));
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| LineError::at(col, what))?;
    }
    if v > max {
        return Err(LineError::at(col, what));
    }
    Ok(v)
}

/// Parse a decimal number `[-]digits[<sep>digits]` in units of `unit_ns` nanoseconds (1e9 for
/// seconds, 1e6 for milliseconds, 1e3 for microseconds) into nanoseconds. Fraction digits beyond
/// nanosecond precision are truncated. `sep` is the decimal separator (`.` or `,`).
#[inline]
pub(crate) fn decimal_ns(
    field: &[u8],
    col: usize,
    unit_ns: i64,
    sep: u8,
    what: &'static str,
) -> LineResult<i64> {
    let (neg, digits, off) = match field.first() {
        Some(b'-') => (true, &field[1..], 1),
        Some(b'+') => (false, &field[1..], 1),
        _ => (false, field, 0),
    };
    if digits.is_empty() {
        return Err(LineError::at(col, what));
    }
    let mut int: i64 = 0;
    let mut i = 0;
    while i < digits.len() {
        let d = digits[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        int = if i < 18 {
            int * 10 + i64::from(d)
        } else {
            int.checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(d)))
                .ok_or_else(|| LineError::at(col, "a timestamp within ±292 years"))?
        };
        i += 1;
    }
    let int_digits = i;
    // Fraction: keep as many digits as the unit has below one nanosecond's precision, then scale
    // once by a power of ten (no division per digit).
    let unit_exp = match unit_ns {
        1_000_000_000 => 9,
        1_000_000 => 6,
        1_000 => 3,
        _ => 0,
    };
    let mut frac_val: i64 = 0;
    let mut frac_digits = 0usize;
    if i < digits.len() && digits[i] == sep {
        i += 1;
        while i < digits.len() {
            let d = digits[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if frac_digits < unit_exp {
                frac_val = frac_val * 10 + i64::from(d);
            }
            frac_digits += 1;
            i += 1;
        }
    }
    const POW10: [i64; 10] = [
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
    let kept = frac_digits.min(unit_exp);
    let frac_ns = frac_val * POW10[unit_exp - kept];
    if i < digits.len() || (int_digits == 0 && frac_digits == 0) {
        return Err(LineError::at(col + off + i, what));
    }
    let ns = int
        .checked_mul(unit_ns)
        .and_then(|v| v.checked_add(frac_ns))
        .ok_or_else(|| LineError::at(col, "a timestamp within ±292 years"))?;
    Ok(if neg { -ns } else { ns })
}

/// Trim ASCII spaces and tabs at both ends.
pub(crate) fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|&c| !is_blank(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|&c| !is_blank(c)).map_or(s, |p| p + 1);
    &b[s..e]
}

/// Valid CAN FD data lengths.
pub(crate) fn fd_len_ok(n: usize) -> bool {
    n <= 8 || matches!(n, 12 | 16 | 20 | 24 | 32 | 48 | 64)
}

/// Lossy text of a byte slice (comments).
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds() {
        assert_eq!(
            decimal_ns(b"166.064000", 0, 1_000_000_000, b'.', "t"),
            Ok(166_064_000_000)
        );
        assert_eq!(
            decimal_ns(b"-0.5", 0, 1_000_000_000, b'.', "t"),
            Ok(-500_000_000)
        );
        assert_eq!(
            decimal_ns(b"46,016", 0, 1_000_000_000, b',', "t"),
            Ok(46_016_000_000)
        );
        assert_eq!(decimal_ns(b"6.1", 0, 1_000_000, b'.', "t"), Ok(6_100_000));
        assert_eq!(
            decimal_ns(b"1.1234567891", 0, 1_000_000_000, b'.', "t"),
            Ok(1_123_456_789)
        );
        assert_eq!(decimal_ns(b"12", 0, 1_000, b'.', "t"), Ok(12_000));
        assert_eq!(decimal_ns(b"1x", 5, 1_000, b'.', "t").unwrap_err().col, 6);
        assert!(decimal_ns(b"-", 0, 1_000, b'.', "t").is_err());
        assert!(decimal_ns(b"99999999999999999999", 0, 1, b'.', "t").is_err());
    }

    #[test]
    fn hex() {
        assert_eq!(hex_u32(b"1A0", 0, "id"), Ok(0x1A0));
        assert_eq!(hex_u32(b"1G0", 4, "id").unwrap_err().col, 5);
        assert!(hex_u32(b"123456789", 0, "id").is_err());
        assert_eq!(hex_byte2(b"fE", 0), Ok(0xFE));
        assert_eq!(hex_byte12(b"0", 0), Ok(0));
    }

    #[test]
    fn found_excerpt() {
        assert_eq!(found_at(b"abc def", 4), "\"def\"");
        assert_eq!(found_at(b"abc", 3), "end of line");
        assert_eq!(found_at(b"a\x00b", 1), "\"\\x00b\"");
    }
}
