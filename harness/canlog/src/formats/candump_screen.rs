//! can-utils `candump` screen output: `  can0  123   [8]  11 22 33 44 55 66 77 88`.
//!
//! An optional leading `(<seconds>)` timestamp (`candump -t a|d|z`) is read; without one every
//! frame gets timestamp 0 and a [`WarningKind::NoTimestamps`] warning is recorded once. `[n]` with
//! n > 8 (or a two-digit `[nn]`) is CAN FD. `remote request` marks an RTR frame; an 8-digit ID with
//! 0x20000000 set is an error frame. Anything after the data bytes (the `-a` ASCII column
//! `'…'`, `ERRORFRAME`) is ignored, as are the indented error-explanation lines of `candump -e`.
//! Buses: as for `candump -l` (trailing interface number).

use crate::formats::candump::BusMap;
use crate::formats::{DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{dec_u64, decimal_ns, hex_u32, trim, Fields, LineError, LineResult};
use crate::record::Record;
use crate::warnings::WarningKind;

/// Decoder state.
#[derive(Default)]
pub(crate) struct ScreenDecoder {
    ifaces: BusMap,
    warned: bool,
}

impl LineDecoder for ScreenDecoder {
    fn decode(&mut self, line: &[u8], ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        let t = trim(line);
        if t.is_empty() || line.first() == Some(&b'\t') {
            return Ok(None);
        }
        let mut f = Fields::blank(line);
        let (mut c, mut tok) = f.expect("an interface name")?;
        let mut ts_ns = 0;
        if tok.first() == Some(&b'(') {
            if tok.last() != Some(&b')') || tok.len() < 3 {
                return Err(LineError::at(c + tok.len(), "`)` closing the timestamp"));
            }
            ts_ns = decimal_ns(
                &tok[1..tok.len() - 1],
                c + 1,
                1_000_000_000,
                b'.',
                "a timestamp in seconds",
            )?;
            (c, tok) = f.expect("an interface name")?;
        } else if !self.warned {
            self.warned = true;
            ctx.warnings
                .add(WarningKind::NoTimestamps, ctx.line, 1, || {
                    "candump screen output without timestamps: every frame has time 0".to_string()
                });
        }
        let _ = c;
        let bus = self.ifaces.bus(tok);
        let (ic, id_s) = f.expect("a hex CAN ID")?;
        if id_s.len() != 3 && id_s.len() != 8 {
            return Err(LineError::at(
                ic,
                "a CAN ID of 3 hex digits (11-bit) or 8 hex digits (29-bit)",
            ));
        }
        let raw = hex_u32(id_s, ic, "a hex CAN ID")?;
        let (lc, len_s) = f.expect("`[<length>]`")?;
        if len_s.len() < 3 || len_s[0] != b'[' || len_s[len_s.len() - 1] != b']' {
            return Err(LineError::at(lc, "`[<length>]`"));
        }
        let len = dec_u64(
            &len_s[1..len_s.len() - 1],
            lc + 1,
            "a decimal data length",
            64,
        )? as usize;
        let fd = len > 8 || len_s.len() == 4;
        if fd && !crate::parse::fd_len_ok(len) {
            return Err(LineError::at(
                lc + 1,
                "a CAN FD length (0-8, 12, 16, 20, 24, 32, 48, 64)",
            ));
        }
        let mut frame = Frame {
            ts_ns,
            bus,
            id: raw,
            extended: id_s.len() == 8,
            rtr: false,
            error: false,
            fd,
            dir: Direction::Rx,
            data: Vec::with_capacity(len),
        };
        if id_s.len() == 3 && raw > 0x7FF {
            return Err(LineError::at(ic, "an 11-bit CAN ID (at most 7FF)"));
        }
        if id_s.len() == 8 && raw & 0x2000_0000 != 0 {
            frame.error = true;
            frame.extended = false;
            frame.id = raw & 0x1FFF_FFFF;
        }
        let (_, rest) = f.rest();
        if rest.starts_with(b"remote request") {
            frame.rtr = true;
            frame.data.resize(len, 0);
            return Ok(Some(Record::Frame(frame)));
        }
        f.hex_bytes(len, &mut frame.data)?;
        Ok(Some(Record::Frame(frame)))
    }
}
