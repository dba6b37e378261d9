//! can-utils `candump -l` log: `(<sec>.<usec>) <iface> <frame>`.
//!
//! `<frame>` is `ID#DATA` (classic), `ID#R[len]` (remote request; the requested length becomes
//! that many zero bytes in `data`), or `ID##<flags>DATA` (CAN FD; the flags nibble is read and
//! dropped). ID: 3 hex digits = 11-bit, 8 hex digits = 29-bit; an 8-digit ID with the
//! `CAN_ERR_FLAG` 0x20000000 set is an error frame (its `id` is the error class, `extended` false).
//! Data bytes may be separated by `.`. An optional trailing `R`/`T` direction token is accepted.
//! Bus: the trailing decimal number of the interface name (`can1` → 1, `vcan0` → 0); names
//! without one get 0, 1, … in order of appearance after the highest numbered bus seen so far.

use crate::formats::{DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{decimal_ns, hex_val, trim, Fields, LineError, LineResult};
use crate::record::Record;

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
    named: Vec<(Vec<u8>, u8)>,
    next_free: u8,
}

impl BusMap {
    /// The bus for interface `name`.
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
        bus
    }
}

impl LineDecoder for CandumpDecoder {
    fn decode(&mut self, line: &[u8], _ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
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
