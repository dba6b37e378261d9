//! CRTD: `<sec>.<usec> [<bus>]<type> …` (module-facts §7.1/7.2).
//!
//! Both flavours are read: OVMS (`1R11 213 00 01`, bus digit 1-based, 3-digit standard IDs) and
//! GVRET/SavvyCAN (`R11 0000021A FE 36 `, no bus digit → bus 0, 8-digit IDs, trailing space).
//! `CXX` → [`Record::Comment`] (text after `CXX `), `CEV Event <name>` → [`Record::Event`],
//! `CMT Metric {json}` → [`Record::Metric`]; `CVR`, `CER`, `CST` and the playback commands
//! (`CBC`, `CDP`, `CDR`, `CFC`, `CFA`) → [`Record::Comment`] whose text starts with the tag
//! (e.g. `CVR 3.1`). `#` lines are comments. Up to 8 data bytes of 1–2 hex digits each.

use crate::formats::{finish_classic, DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::masks::{self, word};
use crate::parse::{decimal_ns, hex_u32, hex_val, trim, Fields, LineError, LineResult};
use crate::record::Record;
use crate::swar::{decimal, hex_id, hex_run, hex_units3, sep_hex_units, skip_spaces, spaces1};

/// Decoder state (none needed: every CRTD line stands alone).
#[derive(Default)]
pub(crate) struct CrtdDecoder;

const R11: u32 = u32::from_le_bytes(*b"R11 ");
const R29: u32 = u32::from_le_bytes(*b"R29 ");
const T11: u32 = u32::from_le_bytes(*b"T11 ");
const T29: u32 = u32::from_le_bytes(*b"T29 ");

const TYPES: &str = "a CRTD record type (R11, R29, T11, T29, CXX, CVR, CEV, CMT, CER, CST, CBC, CDP, CDR, CFC, CFA), optionally after a bus digit 1-9";

impl LineDecoder for CrtdDecoder {
    /// `<sec>[.<frac>] [<bus>]R11|R29|T11|T29 <id> <bytes…>` with spaces (no tabs), at most 9
    /// fraction digits, data bytes of one or two hex digits. Everything else goes to `decode`.
    #[inline]
    fn decode_fast(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        decode_masked(b, out).or_else(|| decode_scanned(b, out))
    }

    fn decode(&mut self, line: &[u8], ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        decode_general(line, ctx)
    }
}

/// Data-unit layout ` XX` repeated: the separators' bits (0, 3, …, 21) …
const UNIT_SEPS: u64 = 0x24_9249;
/// … and the digits' bits (1, 2, 4, 5, …, 22, 23).
const UNIT_DIGITS: u64 = 0xDB_6DB6;

/// The fast path for the usual line as OVMS and SavvyCAN write it, from the byte-class masks of
/// the line's first 64 bytes ([`crate::masks`]): `<int>.<frac> [<bus>]<type> <id>` then data
/// bytes of two hex digits each after one space, then at most one space and LF or CRLF, the
/// whole line within 64 bytes. The layout is checked on the masks, the values read a word at a
/// time. Any other line (or fewer than 64 bytes buffered) is left to [`decode_scanned`].
#[inline(always)]
fn decode_masked(b: &[u8], out: &mut Frame) -> Option<usize> {
    if !masks::AVAILABLE {
        return None;
    }
    let w = masks::window(b)?;
    let m = masks::classify(w, b' ');
    let (e, end) = masks::line_end(w, &m)?;
    let (ts_ns, p) = masks::seconds(w, m.digit, 0)?;
    out.ts_ns = ts_ns;
    // One space, an optional bus digit, the type and one space.
    if (m.sep >> p) & 0b11 != 0b01 {
        return None;
    }
    let (bus, q) = match w[p + 1] {
        d @ b'1'..=b'9' => (d - b'1', p + 2),
        _ => (0, p + 1),
    };
    out.bus = bus;
    let (dir, extended) = match u32::from_le_bytes(*w[q..].first_chunk::<4>()?) {
        R11 => (Direction::Rx, false),
        R29 => (Direction::Rx, true),
        T11 => (Direction::Tx, false),
        T29 => (Direction::Tx, true),
        _ => return None,
    };
    // The ID: 1-8 hex digits.
    let r = q + 4;
    let (id, ni) = masks::hex_id(w, m.hex, r)?;
    if id > if extended { 0x1FFF_FFFF } else { 0x7FF } {
        return None;
    }
    out.id = id;
    out.extended = extended;
    out.dir = dir;
    // The data: `n` units ` XX`, then at most one space before the terminator.
    let d0 = r + ni;
    let len = e - d0;
    let n = len / 3;
    if n > 8 || d0 > 37 {
        return None;
    }
    let units = masks::low_bits(3 * n as u32);
    let trailing = match len % 3 {
        0 => 0,
        1 => 1u64 << (e - 1),
        _ => return None,
    };
    if (m.sep >> d0) & units != UNIT_SEPS & units
        || (m.hex >> d0) & units != UNIT_DIGITS & units
        || m.sep & trailing != trailing
    {
        return None;
    }
    // Three units per word from the first digit of units 0, 3 and 6 (past the `n` units the
    // bytes are garbage, cut off below).
    let data = hex_units3(word(w, d0 + 1))
        | hex_units3(word(w, d0 + 10)) << 24
        | hex_units3(word(w, d0 + 19)) << 48;
    finish_classic(out, &data.to_le_bytes(), n);
    Some(end)
}

/// The one-pass fast path for every frame line the masked path does not take: any run of
/// spaces, one-digit bytes, lines near the end of the buffer.
#[inline(always)]
fn decode_scanned(b: &[u8], out: &mut Frame) -> Option<usize> {
    {
        let mut i = skip_spaces(b, 0)?;
        // Fields go into `out` as soon as they are parsed (it is unspecified after `None`).
        let (ts_ns, nt) = decimal(b, i, 9)?;
        out.ts_ns = ts_ns;
        i = spaces1(b, i + nt)?;
        out.bus = match b[i] {
            d @ b'1'..=b'9' => {
                i += 1;
                d - b'1'
            }
            _ => 0,
        };
        // The type and the space after it as one 4-byte word.
        let (dir, extended) = match u32::from_le_bytes(*b.get(i..)?.first_chunk::<4>()?) {
            R11 => (Direction::Rx, false),
            R29 => (Direction::Rx, true),
            T11 => (Direction::Tx, false),
            T29 => (Direction::Tx, true),
            _ => return None,
        };
        i = spaces1(b, i + 3)?;
        let (id, ni) = hex_id(b, i)?;
        if id > if extended { 0x1FFF_FFFF } else { 0x7FF } {
            return None;
        }
        out.id = id;
        out.extended = extended;
        out.dir = dir;
        let mut data = [0u8; 8];
        // Common: single spaces before the bytes; the loop below takes any other layout.
        let (mut n, mut i) = sep_hex_units(b, i + ni, b' ', false, &mut data, 0, 8);
        let end = loop {
            if !matches!(b[i], b' ' | b'\r' | b'\n') {
                return None;
            }
            i = skip_spaces(b, i)?;
            match b[i] {
                b'\n' => break i + 1,
                b'\r' if *b.get(i + 1)? == b'\n' => break i + 2,
                _ => {}
            }
            let (v, nv) = hex_run(b, i, 2)?;
            if n == 8 {
                return None;
            }
            data[n] = v as u8;
            n += 1;
            i += nv;
        };
        if end > crate::MAX_LINE_LEN {
            return None;
        }
        finish_classic(out, &data, n);
        Some(end)
    }
}

/// The general parser: any record, with errors.
fn decode_general(line: &[u8], _ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
    {
        let t = trim(line);
        if t.is_empty() {
            return Ok(None);
        }
        if t[0] == b'#' {
            return Ok(Some(Record::Comment {
                ts_ns: None,
                text: crate::parse::text(trim(&t[1..])),
            }));
        }
        let mut f = Fields::blank(line);
        let (tc, ts) = f.expect("a timestamp")?;
        let ts_ns = decimal_ns(
            ts,
            tc,
            1_000_000_000,
            b'.',
            "a timestamp in seconds (e.g. 1542473901.020305)",
        )?;
        let (kc, kind) = f.expect(TYPES)?;
        let (bus, tag, tag_col) = match kind.first() {
            Some(d @ b'1'..=b'9') => (d - b'1', &kind[1..], kc + 1),
            Some(b'0') => {
                return Err(LineError::at(
                    kc,
                    "a bus digit 1-9 (CRTD buses are 1-based)",
                ))
            }
            _ => (0, kind, kc),
        };
        let (dir, ext) = match tag {
            b"R11" => (Direction::Rx, false),
            b"R29" => (Direction::Rx, true),
            b"T11" => (Direction::Tx, false),
            b"T29" => (Direction::Tx, true),
            _ => return other_record(tag, tag_col, ts_ns, &mut f),
        };
        let (ic, id) = f.expect(if ext {
            "a 29-bit hex CAN ID"
        } else {
            "an 11-bit hex CAN ID"
        })?;
        let id = hex_u32(id, ic, "a hex CAN ID of at most 8 digits")?;
        if !ext && id > 0x7FF {
            return Err(LineError::at(ic, "an 11-bit CAN ID (at most 7FF)"));
        }
        if ext && id > 0x1FFF_FFFF {
            return Err(LineError::at(ic, "a 29-bit CAN ID (at most 1FFFFFFF)"));
        }
        let mut data = Vec::with_capacity(8);
        for (bc, b) in f {
            if data.len() == 8 {
                return Err(LineError::at(bc, "end of line after 8 data bytes"));
            }
            if b.len() > 2 {
                return Err(LineError::at(bc, "a data byte of one or two hex digits"));
            }
            let mut v = 0u8;
            for (i, &c) in b.iter().enumerate() {
                v = (v << 4) | hex_val(c).ok_or_else(|| LineError::at(bc + i, "hex digit"))?;
            }
            data.push(v);
        }
        Ok(Some(Record::Frame(Frame {
            ts_ns,
            bus,
            id,
            extended: ext,
            rtr: false,
            error: false,
            fd: false,
            dir,
            data,
        })))
    }
}

fn other_record(
    tag: &[u8],
    tag_col: usize,
    ts_ns: i64,
    f: &mut Fields<'_>,
) -> LineResult<Option<Record>> {
    let (rc, rest) = f.rest();
    let rest_s = || crate::parse::text(trim(rest));
    match tag {
        b"CXX" => Ok(Some(Record::Comment {
            ts_ns: Some(ts_ns),
            text: rest_s(),
        })),
        b"CEV" => {
            let name = rest
                .strip_prefix(b"Event")
                .map(trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| LineError::at(rc, "`Event <name>`"))?;
            Ok(Some(Record::Event {
                ts_ns,
                name: crate::parse::text(name),
            }))
        }
        b"CMT" => {
            let Some(json) = rest.strip_prefix(b"Metric") else {
                return Err(LineError::at(rc, "`Metric {\"name\": …, \"value\": …}`"));
            };
            let jc = rc + 6;
            let (name, value) = metric_json(json, jc)?;
            Ok(Some(Record::Metric { ts_ns, name, value }))
        }
        b"CVR" | b"CER" | b"CST" | b"CBC" | b"CDP" | b"CDR" | b"CFC" | b"CFA" => {
            let mut text = crate::parse::text(tag);
            let r = trim(rest);
            if !r.is_empty() {
                text.push(' ');
                text.push_str(&String::from_utf8_lossy(r));
            }
            Ok(Some(Record::Comment {
                ts_ns: Some(ts_ns),
                text,
            }))
        }
        _ => Err(LineError::at(tag_col, TYPES)),
    }
}

/// Parse `{ "name": "…", "value": <json>, … }` starting at column `col`; returns the name and the
/// value's JSON text as written.
pub(crate) fn metric_json(s: &[u8], col: usize) -> LineResult<(String, String)> {
    let mut p = JsonScan { s, i: 0, col };
    p.ws();
    p.byte(b'{', "`{` opening the metric JSON object")?;
    let mut name = None;
    let mut value = None;
    loop {
        p.ws();
        if p.peek() == Some(b'}') {
            p.i += 1;
            break;
        }
        let ks = p.i;
        p.string()?;
        let key: String = serde_json::from_slice(&s[ks..p.i])
            .map_err(|_| LineError::at(col + ks, "a JSON string key"))?;
        p.ws();
        p.byte(b':', "`:` after the key")?;
        p.ws();
        let vs = p.i;
        p.value()?;
        let raw = &s[vs..p.i];
        if key == "name" {
            let n: String = serde_json::from_slice(raw)
                .map_err(|_| LineError::at(col + vs, "the metric name as a JSON string"))?;
            name = Some(n);
        } else if key == "value" {
            value = Some(crate::parse::text(raw));
        }
        p.ws();
        match p.peek() {
            Some(b',') => p.i += 1,
            Some(b'}') => {
                p.i += 1;
                break;
            }
            _ => {
                return Err(LineError::at(
                    col + p.i,
                    "`,` or `}` in the metric JSON object",
                ))
            }
        }
    }
    p.ws();
    if p.i < s.len() {
        return Err(LineError::at(
            col + p.i,
            "end of line after the metric JSON object",
        ));
    }
    let name = name.ok_or_else(|| LineError::at(col, "a \"name\" member in the metric JSON"))?;
    let value = value.ok_or_else(|| LineError::at(col, "a \"value\" member in the metric JSON"))?;
    Ok((name, value))
}

struct JsonScan<'a> {
    s: &'a [u8],
    i: usize,
    col: usize,
}

impl JsonScan<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn err(&self, what: &'static str) -> LineError {
        LineError::at(self.col + self.i, what)
    }
    fn byte(&mut self, b: u8, what: &'static str) -> LineResult<()> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }
    fn string(&mut self) -> LineResult<()> {
        self.byte(b'"', "a JSON string")?;
        loop {
            match self.peek() {
                None => return Err(self.err("a closing `\"`")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
            }
        }
    }
    /// Any JSON value; nesting depth is bounded to keep the scanner iterative-safe.
    fn value(&mut self) -> LineResult<()> {
        let start = self.i;
        match self.peek() {
            Some(b'"') => self.string()?,
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.peek() {
                        None => return Err(self.err("a closing bracket")),
                        Some(b'"') => {
                            self.string()?;
                            continue;
                        }
                        Some(b'{' | b'[') => depth += 1,
                        Some(b'}' | b']') => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b' ' | b'\t') {
                        break;
                    }
                    self.i += 1;
                }
            }
        }
        let raw = &self.s[start.min(self.s.len())..self.i.min(self.s.len())];
        if self.i > self.s.len() || serde_json::from_slice::<serde_json::Value>(raw).is_err() {
            return Err(LineError::at(self.col + start, "a JSON value"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::masked_check::{check_buffer, check_random, terminator, Rng};
    use crate::warnings::Warnings;

    fn general(line: &[u8]) -> LineResult<Option<Record>> {
        let mut w = Warnings::default();
        decode_general(
            line,
            &mut DecodeCtx {
                line: 1,
                warnings: &mut w,
            },
        )
    }

    /// A line near the usual layouts (OVMS and SavvyCAN), with the variations the masked path
    /// must refuse or read right: long seconds, no or long fractions, bus digits 0-9, other
    /// record types, long IDs and bytes, extra and trailing blanks, each terminator.
    fn crtd_line(rng: &mut Rng) -> Vec<u8> {
        // Half the lines in the usual layouts, half with any of the variations.
        let wild = rng.chance(1, 2);
        let odd = |rng: &mut Rng, k: usize| wild && rng.chance(k, 20);
        let mut l = Vec::new();
        if odd(rng, 1) {
            l.push(b' ');
        }
        let n = if wild {
            *rng.pick(&[1, 3, 4, 10, 11, 12])
        } else {
            *rng.pick(&[3, 10])
        };
        l.extend(rng.digits(n));
        if !odd(rng, 1) {
            l.push(b'.');
            let n = if wild {
                *rng.pick(&[0, 1, 3, 6, 9, 10])
            } else {
                6
            };
            l.extend(rng.digits(n));
        }
        l.extend_from_slice(if odd(rng, 2) { &b"  "[..] } else { b" " });
        if rng.chance(1, 2) {
            l.push(if odd(rng, 4) {
                b'0'
            } else {
                b'1' + rng.below(9) as u8
            });
        }
        let types: [&[u8]; 6] = [b"R11", b"R29", b"T11", b"T29", b"CXX", b"r11"];
        let t: &&[u8] = rng.pick(&types[..if wild { 6 } else { 4 }]);
        l.extend_from_slice(t);
        l.push(b' ');
        let n = if wild {
            *rng.pick(&[1, 3, 8, 9])
        } else {
            *rng.pick(&[3, 8])
        };
        l.extend(rng.hex(n));
        for _ in 0..rng.below(if wild { 10 } else { 9 }) {
            l.extend_from_slice(if odd(rng, 1) { &b"  "[..] } else { b" " });
            let n = if odd(rng, 1) { 1 } else { 2 };
            l.extend(rng.hex(n));
        }
        let trailing = if wild {
            *rng.pick(&[0, 1, 2])
        } else {
            *rng.pick(&[0, 1])
        };
        l.extend(std::iter::repeat_n(b' ', trailing));
        l.extend_from_slice(terminator(rng, wild));
        l
    }

    #[test]
    fn masked_path_agrees_with_the_general_parser_on_random_lines() {
        check_random(0xC47D, 200_000, 20_000, crtd_line, decode_masked, general);
    }

    #[test]
    fn masked_path_reads_both_flavours() {
        let mut buf = b"166.064000 R11 0000021A FE 36 12 fe 69 05 07 AD \r\n".to_vec();
        buf.resize(80, b'x');
        assert!(check_buffer(&buf, decode_masked, general));
        let mut buf = b"1542473901.020305 3T29 18FEF100 00 01\n".to_vec();
        buf.resize(80, b'x');
        assert!(check_buffer(&buf, decode_masked, general) == masks::AVAILABLE);
        // Fewer than 64 bytes buffered: left to the other paths.
        assert!(!check_buffer(b"1.5 R11 123 00\n", decode_masked, general));
    }

    #[test]
    fn metric_value_text_is_kept() {
        let (n, v) = metric_json(
            br#" { "name": "v.p.altitude", "value": 121.30, "unit": "m" }"#,
            0,
        )
        .unwrap();
        assert_eq!((n.as_str(), v.as_str()), ("v.p.altitude", "121.30"));
        let (_, v) = metric_json(br#"{"name":"v.e.gear","value":"P"}"#, 0).unwrap();
        assert_eq!(v, "\"P\"");
        let (_, v) = metric_json(br#"{"name":"x","value":[1,{"a":"]"}]}"#, 0).unwrap();
        assert_eq!(v, r#"[1,{"a":"]"}]"#);
        assert!(metric_json(br#"{"name":"x"}"#, 0).is_err());
        assert!(metric_json(br#"{"name":"x","value":tru}"#, 0).is_err());
        assert!(metric_json(br#"{"name":"x","value":"unterminated}"#, 0).is_err());
    }
}
