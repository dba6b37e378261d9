//! can-utils `candump -l` log: `(<sec>.<usec>) <iface> <frame>`.
//!
//! `<frame>` is `ID#DATA` (classic), `ID#R[len]` (remote request; the requested length becomes
//! that many zero bytes in `data`), or `ID##<flags>DATA` (CAN FD; the flags nibble is read and
//! dropped). ID: 3 hex digits = 11-bit, 8 hex digits = 29-bit; an 8-digit ID with the
//! `CAN_ERR_FLAG` 0x20000000 set is an error frame (its `id` is the error class, `extended` false).
//! Data bytes may be separated by `.`. An optional trailing `R`/`T` direction token is accepted.
//! Bus: the trailing decimal number of the interface name (`can1` → 1, `vcan0` → 0); names
//! without one get 0, 1, … in order of appearance after the highest numbered bus seen so far.

use crate::formats::{set_classic, DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{decimal_ns, hex_val, trim, Fields, LineError, LineResult, HEX};
use crate::record::Record;
use crate::swar::{
    digit_run, digits, digits_value, hex_bytes4, hex_digit_run, hex_id, load8, POW10,
};

/// Decoder with the interface → bus map.
#[derive(Default)]
pub(crate) struct CandumpDecoder {
    ifaces: BusMap,
}

/// Interface names → bus numbers (see the module doc).
#[derive(Default)]
pub(crate) struct BusMap {
    last: Vec<u8>,
    last_bus: u8,
    /// `last` as a little-endian word when it has 1..=8 bytes (else `last_len` is 0).
    last_word: u64,
    last_len: usize,
    named: Vec<(Vec<u8>, u8)>,
    next_free: u8,
}

impl BusMap {
    /// The bus for interface `name`.
    #[inline]
    pub(crate) fn bus(&mut self, name: &[u8]) -> u8 {
        if name == self.last.as_slice() && !self.last.is_empty() {
            return self.last_bus;
        }
        let digits = name.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let bus = if digits > 0 && digits <= 3 {
            let n = name[name.len() - digits..]
                .iter()
                .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
            u8::try_from(n).ok()
        } else {
            None
        };
        let bus = match bus {
            Some(b) => b,
            None => match self.named.iter().find(|(n, _)| n.as_slice() == name) {
                Some((_, b)) => *b,
                None => {
                    let b = self.next_free;
                    self.next_free = self.next_free.saturating_add(1);
                    if self.named.len() < 256 {
                        self.named.push((name.to_vec(), b));
                    }
                    b
                }
            },
        };
        if bus >= self.next_free {
            self.next_free = bus.saturating_add(1);
        }
        self.last.clear();
        self.last.extend_from_slice(name);
        self.last_bus = bus;
        self.last_len = 0;
        if (1..=8).contains(&name.len()) {
            let mut w = [0u8; 8];
            w[..name.len()].copy_from_slice(name);
            self.last_word = u64::from_le_bytes(w);
            self.last_len = name.len();
        }
        bus
    }

    /// The bus of the last interface name when `b[i..]` starts with that name followed by a
    /// space: `(bus, name length)`.
    #[inline(always)]
    fn same_as_last(&self, b: &[u8], i: usize) -> Option<(u8, usize)> {
        let len = self.last_len;
        if len == 0 {
            return None;
        }
        let w = load8(b, i)?;
        let mask = u64::MAX >> (64 - 8 * len);
        ((w ^ self.last_word) & mask == 0 && b.get(i + len) == Some(&b' '))
            .then_some((self.last_bus, len))
    }
}

impl CandumpDecoder {
    /// The common shape `(<sec>.<frac>) <iface> <frame>` with single spaces and nothing after the
    /// frame, parsed in one pass. `None` sends the line to the general parser (which also
    /// produces the exact error for bad lines).
    #[inline]
    fn fast(&mut self, b: &[u8]) -> Option<Frame> {
        const POW10: [i64; 10] = [
            1_000_000_000,
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ];
        if b.first() != Some(&b'(') {
            return None;
        }
        let mut i = 1;
        let mut int: i64 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i <= 18 {
            int = int * 10 + i64::from(b[i] - b'0');
            i += 1;
        }
        if i == 1 || b.get(i) != Some(&b'.') {
            return None;
        }
        i += 1;
        let fs = i;
        let mut frac: i64 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - fs < 9 {
            frac = frac * 10 + i64::from(b[i] - b'0');
            i += 1;
        }
        let nf = i - fs;
        if nf == 0 || b.get(i) != Some(&b')') || b.get(i + 1) != Some(&b' ') {
            return None;
        }
        let ts_ns = int
            .checked_mul(1_000_000_000)?
            .checked_add(frac * POW10[nf])?;
        i += 2;
        let is = i;
        while i < b.len() && b[i] != b' ' {
            if b[i] == b'\t' {
                return None;
            }
            i += 1;
        }
        if i == is || i + 1 >= b.len() {
            return None;
        }
        let bus = self.ifaces.bus(&b[is..i]);
        let tok = &b[i + 1..];
        if tok.iter().any(|&c| c == b' ' || c == b'\t') {
            return None;
        }
        let mut frame = parse_frame(tok, i + 1).ok()?;
        frame.ts_ns = ts_ns;
        frame.bus = bus;
        Some(frame)
    }
}

impl LineDecoder for CandumpDecoder {
    fn decode(&mut self, line: &[u8], _ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        if let Some(frame) = self.fast(line) {
            return Ok(Some(Record::Frame(frame)));
        }
        self.decode_general(line)
    }

    /// `(<sec>.<frac>) <iface> <ID>#<hex pairs>` + LF/CRLF with single spaces, a 3- or 8-digit
    /// data-frame ID (no error flag), at most 8 data bytes without separators, at most 18 integer
    /// and 9 fraction digits. Everything else (remote, FD, error frames, `.` separators, a
    /// direction token, odd spacing, lines cut by the buffer end) goes to `decode`.
    #[inline]
    fn decode_fast(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        if b.first() != Some(&b'(') {
            return None;
        }
        let (ts_ns, mut i) = match epoch_micros(b) {
            Some(t) => (t, 20),
            None => {
                let (int, ni) = digits(b, 1, 18)?;
                let mut i = 1 + ni;
                if ni == 0 || b[i] != b'.' {
                    return None;
                }
                i += 1;
                let (frac, nf) = digits(b, i, 9)?;
                i += nf;
                if nf == 0 || b[i] != b')' || b.get(i + 1) != Some(&b' ') {
                    return None;
                }
                // int < 10^18 and frac < 10^9: the casts are exact.
                let ts_ns = (int as i64)
                    .checked_mul(1_000_000_000)?
                    .checked_add(frac as i64 * POW10[9 - nf] as i64)?;
                (ts_ns, i + 2)
            }
        };
        let bus = match self.ifaces.same_as_last(b, i) {
            Some((bus, len)) => {
                i += len;
                bus
            }
            None => {
                let is = i;
                while i < b.len() && b[i] != b' ' {
                    if matches!(b[i], b'\t' | b'\n' | b'\r') || i - is > 64 {
                        return None;
                    }
                    i += 1;
                }
                if i == is || i >= b.len() {
                    return None;
                }
                self.ifaces.bus(&b[is..i])
            }
        };
        i += 1; // the space
        let (id, id_len) = hex_id(b, i)?;
        if !matches!(id_len, 3 | 8) || b[i + id_len] != b'#' {
            return None;
        }
        let extended = id_len == 8;
        if id > if extended { 0x1FFF_FFFF } else { 0x7FF } {
            return None;
        }
        i += id_len + 1;
        let mut data = [0u8; 8];
        let n;
        if let (Some(w1), Some(w2)) = (load8(b, i), load8(b, i + 8)) {
            // Up to 16 digits in two words; an odd count or a 17th digit fails below.
            let k1 = hex_digit_run(w1);
            let digits = if k1 == 8 { 8 + hex_digit_run(w2) } else { k1 };
            if digits % 2 != 0 {
                return None;
            }
            data[..4].copy_from_slice(&hex_bytes4(w1));
            data[4..].copy_from_slice(&hex_bytes4(w2));
            n = digits / 2;
            i += digits;
        } else {
            n = data_bytes(b, &mut i, &mut data)?;
        }
        let end = match b.get(i) {
            Some(b'\n') => i + 1,
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') => i + 2,
            _ => return None,
        };
        set_classic(out, ts_ns, bus, id, extended, Direction::Rx, &data, n);
        Some(end)
    }
}

/// The time as candump writes it, `(<10 digits>.<6 digits>) ` (Unix time in microseconds), at
/// the start of `b`, in nanoseconds. The fields are at fixed columns, so the bytes after the time
/// are read at a known place while the digits are still being checked (a branch that is almost
/// always predicted), instead of after a digit count. `None` for any other form.
#[inline(always)]
fn epoch_micros(b: &[u8]) -> Option<i64> {
    let w = b.first_chunk::<20>()?;
    if w[11] != b'.' || w[18] != b')' || w[19] != b' ' {
        return None;
    }
    let int8 = u64::from_le_bytes(*w[1..].first_chunk::<8>()?);
    let frac = u64::from_le_bytes(*w[12..].first_chunk::<8>()?);
    let (d9, d10) = (w[9].wrapping_sub(b'0'), w[10].wrapping_sub(b'0'));
    if digit_run(int8) != 8 || d9 > 9 || d10 > 9 || digit_run(frac) != 6 {
        return None;
    }
    let int = digits_value(int8, 8) * 100 + u64::from(d9) * 10 + u64::from(d10);
    // Below 10^10 s, which can pass the range of `i64` nanoseconds (about 9.2 * 10^9 s).
    (int as i64)
        .checked_mul(1_000_000_000)?
        .checked_add(digits_value(frac, 6) as i64 * 1_000)
}

/// Hex digit pairs at `b[*i..]` into `data` (at most 8), byte by byte (near the buffer end):
/// the number of bytes, `*i` moved past them.
#[inline(never)]
fn data_bytes(b: &[u8], i: &mut usize, data: &mut [u8; 8]) -> Option<usize> {
    let mut n = 0;
    loop {
        let hi = HEX[*b.get(*i)? as usize];
        if hi & 0xF0 != 0 {
            return Some(n);
        }
        let lo = HEX[*b.get(*i + 1)? as usize];
        if lo & 0xF0 != 0 || n == 8 {
            return None;
        }
        data[n] = (hi << 4) | lo;
        n += 1;
        *i += 2;
    }
}

impl CandumpDecoder {
    /// The general parser: any spacing, optional direction token, exact errors.
    fn decode_general(&mut self, line: &[u8]) -> LineResult<Option<Record>> {
        if trim(line).is_empty() {
            return Ok(None);
        }
        let mut f = Fields::blank(line);
        let (tc, ts) = f.expect("`(<seconds>)`")?;
        if ts.first() != Some(&b'(') {
            return Err(LineError::at(tc, "`(` opening the timestamp"));
        }
        if ts.last() != Some(&b')') || ts.len() < 3 {
            return Err(LineError::at(tc + ts.len(), "`)` closing the timestamp"));
        }
        let ts_ns = decimal_ns(
            &ts[1..ts.len() - 1],
            tc + 1,
            1_000_000_000,
            b'.',
            "a timestamp in seconds (e.g. 1733187989.936605)",
        )?;
        let (_, iface) = f.expect("an interface name")?;
        let bus = self.ifaces.bus(iface);
        let (fc, frame) = f.expect("a frame `ID#DATA`")?;
        let mut out = parse_frame(frame, fc)?;
        out.ts_ns = ts_ns;
        out.bus = bus;
        if let Some((dc, d)) = f.next() {
            out.dir = match d {
                b"R" => Direction::Rx,
                b"T" => Direction::Tx,
                _ => return Err(LineError::at(dc, "end of line (or a direction R/T)")),
            };
            if let Some((xc, _)) = f.next() {
                return Err(LineError::at(xc, "end of line"));
            }
        }
        Ok(Some(Record::Frame(out)))
    }
}

/// Parse `ID#DATA` / `ID#R[len]` / `ID##<flags>DATA` (timestamp and bus left 0).
#[inline]
pub(crate) fn parse_frame(s: &[u8], col: usize) -> LineResult<Frame> {
    let hash = memchr::memchr(b'#', s)
        .ok_or_else(|| LineError::at(col + s.len(), "`#` between the CAN ID and the data"))?;
    let id_s = &s[..hash];
    if id_s.len() != 3 && id_s.len() != 8 {
        return Err(LineError::at(
            col,
            "a CAN ID of 3 hex digits (11-bit) or 8 hex digits (29-bit)",
        ));
    }
    let mut id = 0u32;
    for (i, &c) in id_s.iter().enumerate() {
        id = (id << 4) | u32::from(hex_val(c).ok_or_else(|| LineError::at(col + i, "hex digit"))?);
    }
    let mut frame = Frame {
        ts_ns: 0,
        bus: 0,
        id,
        extended: id_s.len() == 8,
        rtr: false,
        error: false,
        fd: false,
        dir: Direction::Rx,
        data: Vec::new(),
    };
    if id_s.len() == 3 && id > 0x7FF {
        return Err(LineError::at(col, "an 11-bit CAN ID (at most 7FF)"));
    }
    if id_s.len() == 8 {
        if id & 0x2000_0000 != 0 {
            frame.error = true;
            frame.extended = false;
            frame.id = id & 0x1FFF_FFFF;
        } else if id > 0x1FFF_FFFF {
            return Err(LineError::at(col, "a 29-bit CAN ID (at most 1FFFFFFF)"));
        }
    }
    let mut rest = &s[hash + 1..];
    let mut rc = col + hash + 1;
    let mut max = 8;
    if rest.first() == Some(&b'#') {
        frame.fd = true;
        max = 64;
        let flags = rest.get(1).copied();
        if flags.is_none_or(|c| hex_val(c).is_none()) {
            return Err(LineError::at(rc + 1, "a CAN FD flags hex digit after `##`"));
        }
        rest = &rest[2..];
        rc += 2;
    } else if matches!(rest.first(), Some(b'R' | b'r')) {
        frame.rtr = true;
        match rest.get(1) {
            None => {}
            Some(&d @ b'0'..=b'8') if rest.len() == 2 => {
                frame.data = vec![0; usize::from(d - b'0')]
            }
            Some(_) => {
                return Err(LineError::at(
                    rc + 1,
                    "end of frame or a remote request length 0-8",
                ))
            }
        }
        return Ok(frame);
    }
    frame.data = Vec::with_capacity(rest.len() / 2);
    // Fast path: plain hex pairs (no `.` separators, no `_` DLC suffix).
    if rest.len().is_multiple_of(2) && rest.len() / 2 <= max {
        match crate::parse::hex_pairs(rest, &mut frame.data) {
            Ok(()) => return Ok(frame),
            Err(_) => frame.data.clear(), // find the exact error (or the separators) below
        }
    }
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == b'.' {
            i += 1;
            continue;
        }
        if rest[i] == b'_' && !frame.fd && frame.data.len() == 8 {
            // len8_dlc suffix `_<dlc>` (9..F): accepted, not kept.
            if rest.len() == i + 2 && hex_val(rest[i + 1]).is_some() {
                break;
            }
            return Err(LineError::at(rc + i + 1, "a DLC hex digit after `_`"));
        }
        if frame.data.len() == max {
            return Err(LineError::at(
                rc + i,
                if max == 8 {
                    "end of frame after 8 data bytes"
                } else {
                    "end of frame after 64 data bytes"
                },
            ));
        }
        let hi = hex_val(rest[i]).ok_or_else(|| LineError::at(rc + i, "hex digit"))?;
        let lo = rest
            .get(i + 1)
            .and_then(|&c| hex_val(c))
            .ok_or_else(|| LineError::at(rc + i + 1, "a second hex digit of the data byte"))?;
        frame.data.push((hi << 4) | lo);
        i += 2;
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::masked_check::{check_random, terminator, Rng};

    /// A log line near candump's own layout, with the variations the fast path must refuse or
    /// read right: other time widths (and the 10.6 one broken at each place), remote, FD and
    /// error frames, odd IDs and data, direction tokens, each terminator. One interface, so that
    /// bus numbers do not depend on the lines before.
    fn candump_line(rng: &mut Rng) -> Vec<u8> {
        let wild = rng.chance(1, 2);
        let odd = |rng: &mut Rng, k: usize| wild && rng.chance(k, 20);
        let mut l = vec![b'('];
        let (ni, nf) = if odd(rng, 6) {
            (*rng.pick(&[1, 9, 10, 11, 19]), *rng.pick(&[0, 3, 6, 9, 10]))
        } else {
            (10, 6)
        };
        l.extend(rng.digits(ni));
        if nf > 0 || !odd(rng, 2) {
            l.push(b'.');
        }
        l.extend(rng.digits(nf));
        l.extend_from_slice(if odd(rng, 1) { b") can0  " } else { b") can0 " });
        let n = if odd(rng, 2) {
            *rng.pick(&[1, 4, 9])
        } else {
            *rng.pick(&[3, 8])
        };
        l.extend(rng.hex(n));
        l.push(b'#');
        if odd(rng, 2) {
            let odd_data: [&[u8]; 4] = [b"R", b"R4", b"#1", b"11.22"];
            let t: &&[u8] = rng.pick(&odd_data);
            l.extend_from_slice(t);
        } else {
            let n = if odd(rng, 1) {
                2 * rng.below(10) + 1
            } else {
                2 * rng.below(9)
            };
            l.extend(rng.hex(n));
        }
        if odd(rng, 1) {
            l.extend_from_slice(b" R");
        }
        l.extend_from_slice(terminator(rng, wild));
        l
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser_on_random_lines() {
        // A fresh decoder for each line on both sides: bus numbers follow the interfaces seen.
        check_random(
            0xCA9D,
            200_000,
            20_000,
            candump_line,
            |b, out| CandumpDecoder::default().decode_fast(b, out),
            |line| CandumpDecoder::default().decode_general(line),
        );
    }

    /// The one-pass path and the general parser agree on every line the fast path accepts.
    #[test]
    fn fast_path_matches_general_parser() {
        let lines: &[&[u8]] = &[
            b"(1733187989.936605) can0 153#208010FF00FF802E",
            b"(166.000000) vcan0 21A#FE3612FE690507AD",
            b"(0.1) can1 12345678#R4",
            b"(0.300000) can0 7FF##1000102030405060708090A0B",
            b"(0.400000) can0 20000004#0000080000000000",
            b"(0.500000) vcan2 001#11.22.33",
            b"(0.600000) slcan 0AB#",
            b"(9.123456789) can3 123#R",
            b"(1.1234567891) can0 123#00",
            b"(123456789012345678.5) can0 123#00",
        ];
        for line in lines {
            let mut a = CandumpDecoder::default();
            let mut b = CandumpDecoder::default();
            let fast = a.fast(line).map(Record::Frame);
            match b.decode_general(line) {
                Ok(general) if fast.is_some() => {
                    assert_eq!(fast, general, "{}", String::from_utf8_lossy(line))
                }
                Ok(_) => {} // left to the general parser, e.g. more than 9 fraction digits
                Err(_) => assert!(fast.is_none(), "{}", String::from_utf8_lossy(line)),
            }
        }
        // The one-pass buffer path agrees too, takes exactly the line and its terminator, and
        // leaves lines without a terminator in the buffer (they may continue) to `decode`.
        let more: &[&[u8]] = &[
            b"(1733187989.936605) can0 1FFFFFFF#",
            b"(1733187989.936605) can0 20000004#00",
            b"(1733187989.936605) can0 123#001122334455667788",
            b"(1733187989.936605) can0 123#0",
            b"(1733187989.936605) can0 800#00",
            b"(1733187989.936605) can0\t123#00",
            b"(1733187989.936605) can0 123#00_9",
            b"(1733187989.936605) can0 123#00 ",
            b"(1733187989.) can0 123#00",
            b"(.5) can0 123#00",
            b"(1.0000000000) can0 123#00",
            b"(9999999999999999999.0) can0 123#00",
            b"(999999999999999999.0) can0 123#00",
            b"(123456789.123456789) can0 123#00",
            b"(1.5) averyveryverylonginterfacename7 7FF#FFEE",
        ];
        // Lines the one-pass path must take.
        const PLAIN: [&[u8]; 6] = [
            b"(1733187989.936605) can0 153#208010FF00FF802E",
            b"(166.000000) vcan0 21A#FE3612FE690507AD",
            b"(0.600000) slcan 0AB#",
            b"(1733187989.936605) can0 1FFFFFFF#",
            b"(123456789.123456789) can0 123#00",
            b"(1.5) averyveryverylonginterfacename7 7FF#FFEE",
        ];
        assert!(PLAIN.iter().all(|p| lines.contains(p) || more.contains(p)));
        for line in lines.iter().chain(more) {
            for term in [&b"\n"[..], b"\r\n"] {
                let mut buf = line.to_vec();
                buf.extend_from_slice(term);
                buf.extend_from_slice(b"(2.0) can0 123#00\n");
                let mut a = CandumpDecoder::default();
                let mut b = CandumpDecoder::default();
                let mut w = crate::warnings::Warnings::default();
                let mut ctx = DecodeCtx {
                    line: 1,
                    warnings: &mut w,
                };
                let general = b.decode(line, &mut ctx);
                let text = String::from_utf8_lossy(line);
                match a.decode_fast_owned(&buf) {
                    Some((frame, n)) => {
                        assert_eq!(n, line.len() + term.len(), "{text}");
                        assert_eq!(general, Ok(Some(Record::Frame(frame))), "{text}");
                    }
                    None => assert!(
                        !PLAIN.contains(line),
                        "fast path refused a plain line: {text}"
                    ),
                }
                // Twice: the second time through the cached interface name.
                if let Some((frame, _)) = a.decode_fast_owned(&buf) {
                    assert_eq!(general, Ok(Some(Record::Frame(frame))), "{text}");
                }
            }
            let mut a = CandumpDecoder::default();
            assert!(
                a.decode_fast_owned(line).is_none(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        // Lines the fast path must leave to the general parser.
        for line in [
            &b"(-0.5) can0 123#00"[..],
            b"(1.0)  can0 123#00",
            b"(1.0) can0 123#00 T",
            b"(1) can0 123#00",
            b"(1.0) can0 12G#00",
        ] {
            assert!(
                CandumpDecoder::default().fast(line).is_none(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
