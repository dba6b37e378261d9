//! OVMS v2 Roadster "tattler" CSV (Netronics CANdo export), an ancestor of CRTD.
//!
//! Lines: a preamble (rule lines `~~~~`, a title, blank lines), the header
//! `TYPE,TIME,ID,D1,…,D8`, records `RD11,0.0518,100,88,7F,FF`, and a trailer "Key" block.
//! Record types: `RD`/`TD` (received/transmitted data), `RR`/`TR` (remote requests) followed by
//! `11` or `29`; `EF`, `BA`, `BP`, `BO`, `ST` and `!` (error frame, bus states, CANdo status) become
//! [`Record::Comment`]s. TIME is seconds, ID hex, data bytes hex **without padding** (`0`), DLC
//! implied by the number of byte fields. A field starting with `;` (after tabs) is an annotation:
//! a `TD`/`TR` line without data bytes is an annotation marker and becomes a
//! [`Record::Comment`] with that text (empty for bare marks); annotations on data lines are
//! dropped. Lines without a comma (title, rules, key) are comments without timestamp; blank lines
//! and rule lines are skipped.

use crate::formats::{finish_classic, DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{decimal_ns, hex_byte12, hex_u32, text, trim, LineError, LineResult, Split};
use crate::record::Record;
use crate::swar::{decimal_digits, hex_id, hex_run, load8, sep_hex_units_mixed};

/// Decoder (stateless).
#[derive(Default)]
pub(crate) struct TattlerDecoder;

/// A type with its comma (five bytes) as the low bytes of a little-endian word.
const fn type_word(s: &[u8; 5]) -> u64 {
    u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], 0, 0, 0])
}
const RD11: u64 = type_word(b"RD11,");
const RD29: u64 = type_word(b"RD29,");
const TD11: u64 = type_word(b"TD11,");
const TD29: u64 = type_word(b"TD29,");

const TYPES: &str =
    "a record type (RD11, RD29, TD11, TD29, RR11, RR29, TR11, TR29, EF, BA, BP, BO, ST)";

impl LineDecoder for TattlerDecoder {
    /// `RD11|RD29|TD11|TD29,<sec>[.<frac>],<id>[,<byte>…]` with bytes of 1-2 hex digits, empty
    /// byte fields skipped, no blanks or annotations, at least one byte on `TD` lines (without
    /// bytes they are annotation markers). Everything else goes to `decode`.
    #[inline]
    fn decode_fast(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        // The type and its comma as the low five bytes of one word.
        let (dir, extended) = match load8(b, 0)? & 0xFF_FFFF_FFFF {
            RD11 => (Direction::Rx, false),
            RD29 => (Direction::Rx, true),
            TD11 => (Direction::Tx, false),
            TD29 => (Direction::Tx, true),
            _ => return None,
        };
        // Fields go into `out` as soon as they are parsed (it is unspecified after `None`).
        out.dir = dir;
        out.extended = extended;
        out.bus = 0;
        let (ts_ns, nt) = decimal_digits(b, 5, 9)?;
        out.ts_ns = ts_ns;
        let i = 5 + nt;
        if b[i] != b',' {
            return None;
        }
        let (id, ni) = hex_id(b, i + 1)?;
        if id > if extended { 0x1FFF_FFFF } else { 0x7FF } {
            return None;
        }
        out.id = id;
        let mut data = [0u8; 8];
        // Common: no empty fields (bytes of one or two digits); the loop below takes any other
        // layout.
        let (mut n, mut i) = sep_hex_units_mixed(b, i + 1 + ni, b',', &mut data, 0, 8);
        let end = loop {
            match *b.get(i)? {
                b'\n' => break i + 1,
                b'\r' => {
                    break if *b.get(i + 1)? == b'\n' {
                        i + 2
                    } else {
                        i + 1
                    }
                }
                b',' => i += 1,
                _ => return None,
            }
            if matches!(*b.get(i)?, b',' | b'\r' | b'\n') {
                continue; // an empty field
            }
            let (v, nv) = hex_run(b, i, 2)?;
            if n == 8 {
                return None;
            }
            data[n] = v as u8;
            n += 1;
            i += nv;
        };
        if (dir == Direction::Tx && n == 0) || end > crate::MAX_LINE_LEN {
            return None;
        }
        finish_classic(out, &data, n);
        Some(end)
    }

    fn decode(&mut self, line: &[u8], _ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        let t = trim(line);
        if t.is_empty() || t.starts_with(b"~") || t.starts_with(b"TYPE,") {
            return Ok(None);
        }
        if !t.contains(&b',') {
            return Ok(Some(Record::Comment {
                ts_ns: None,
                text: text(t),
            }));
        }
        let mut f = Split::new(line, b',');
        let (kc, kind) = f.expect(TYPES)?;
        let (dir, rtr, ext) = match kind {
            b"RD11" => (Direction::Rx, false, false),
            b"RD29" => (Direction::Rx, false, true),
            b"TD11" => (Direction::Tx, false, false),
            b"TD29" => (Direction::Tx, false, true),
            b"RR11" => (Direction::Rx, true, false),
            b"RR29" => (Direction::Rx, true, true),
            b"TR11" => (Direction::Tx, true, false),
            b"TR29" => (Direction::Tx, true, true),
            b"EF" | b"BA" | b"BP" | b"BO" | b"ST" | b" !" | b"!" => {
                let (tc, ts) = f.expect("a time in seconds")?;
                let ts_ns = decimal_ns(trim(ts), tc, 1_000_000_000, b'.', "a time in seconds")?;
                return Ok(Some(Record::Comment {
                    ts_ns: Some(ts_ns),
                    text: text(trim(line)),
                }));
            }
            _ => return Err(LineError::at(kc, TYPES)),
        };
        let (tc, ts) = f.expect("a time in seconds")?;
        let ts_ns = decimal_ns(
            ts,
            tc,
            1_000_000_000,
            b'.',
            "a time in seconds (e.g. 0.0518)",
        )?;
        let (ic, id) = f.expect("a hex CAN ID")?;
        let id = hex_u32(id, ic, "a hex CAN ID of at most 8 digits")?;
        if (!ext && id > 0x7FF) || id > 0x1FFF_FFFF {
            return Err(LineError::at(
                ic,
                if ext {
                    "a 29-bit CAN ID (at most 1FFFFFFF)"
                } else {
                    "an 11-bit CAN ID (at most 7FF)"
                },
            ));
        }
        let mut data = Vec::with_capacity(8);
        let mut note: Option<String> = None;
        for (bc, b) in f.by_ref() {
            let bt = trim(b);
            if bt.first() == Some(&b';') {
                // The annotation runs to the end of the line (it may contain commas).
                let start = bc + (b.len() - trim_start(b).len()) + 1;
                note = Some(text(trim(&line[start..])));
                break;
            }
            if bt.is_empty() {
                continue;
            }
            if data.len() == 8 {
                return Err(LineError::at(bc, "end of line after 8 data bytes"));
            }
            data.push(hex_byte12(bt, bc)?);
        }
        if dir == Direction::Tx && data.is_empty() && !rtr {
            return Ok(Some(Record::Comment {
                ts_ns: Some(ts_ns),
                text: note.unwrap_or_default(),
            }));
        }
        Ok(Some(Record::Frame(Frame {
            ts_ns,
            bus: 0,
            id,
            extended: ext,
            rtr,
            error: false,
            fd: false,
            dir,
            data,
        })))
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    &b[n..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::masked_check::{check_random, terminator, Rng};
    use crate::warnings::Warnings;

    fn general(line: &[u8]) -> LineResult<Option<Record>> {
        let mut w = Warnings::default();
        TattlerDecoder.decode(
            line,
            &mut DecodeCtx {
                line: 1,
                warnings: &mut w,
            },
        )
    }

    /// A record line near the usual layout, with the variations the fast path must refuse or
    /// read right: other types, times without fraction or with long ones, long IDs, bytes of
    /// one to three digits, empty fields, annotations, each terminator.
    fn tattler_line(rng: &mut Rng) -> Vec<u8> {
        let wild = rng.chance(1, 2);
        let odd = |rng: &mut Rng, k: usize| wild && rng.chance(k, 20);
        let types: [&[u8]; 6] = [b"RD11", b"RD29", b"TD11", b"TD29", b"RR11", b"EF"];
        let mut l = rng.pick(&types[..if wild { 6 } else { 4 }]).to_vec();
        l.push(b',');
        let n = if odd(rng, 2) { 9 } else { 1 + rng.below(4) };
        l.extend(rng.digits(n));
        if !odd(rng, 2) {
            l.push(b'.');
            let n = if odd(rng, 2) { 10 } else { 1 + rng.below(5) };
            l.extend(rng.digits(n));
        }
        l.push(b',');
        let n = if odd(rng, 2) {
            9
        } else {
            *rng.pick(&[1, 3, 3, 8])
        };
        l.extend(rng.hex(n));
        for _ in 0..rng.below(if wild { 10 } else { 9 }) {
            l.push(b',');
            let n = if odd(rng, 1) {
                *rng.pick(&[0, 3])
            } else {
                1 + rng.below(2)
            };
            l.extend(rng.hex(n));
        }
        if odd(rng, 1) {
            l.extend_from_slice(b"\t;note");
        }
        l.extend_from_slice(terminator(rng, wild));
        l
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser_on_random_lines() {
        check_random(
            0x7A77,
            200_000,
            20_000,
            tattler_line,
            |b, out| TattlerDecoder.decode_fast(b, out),
            general,
        );
    }
}
