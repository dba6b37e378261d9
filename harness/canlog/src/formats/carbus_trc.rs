//! CARBUS Analyzer / CAN-Hacker text trace (not a PEAK `.trc`).
//!
//! First record: `@ TEXT @ …` header (skipped). Records end with CR (the shared line reader
//! accepts CR, LF and CRLF), fields are tab-separated: time in seconds with a **decimal comma**
//! (`46,016`; a point is accepted too), channel (1-based), flags (4 hex digits, not interpreted),
//! hex ID (29-bit when it has more than 3 digits or exceeds 7FF), DLC, space-separated data bytes,
//! then fields that are ignored (a counter and the ASCII rendering).

use crate::formats::{DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{
    dec_u64, decimal_ns, hex_byte2, hex_u32, trim, Fields, LineError, LineResult, Split,
};
use crate::record::Record;

/// Decoder (stateless apart from the header check).
#[derive(Default)]
pub(crate) struct CarbusDecoder;

impl LineDecoder for CarbusDecoder {
    fn decode(&mut self, line: &[u8], _ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        let t = trim(line);
        if t.is_empty() || t.starts_with(b"@") {
            return Ok(None);
        }
        let mut f = Split::new(line, b'\t');
        let (tc, ts) = f.expect("a time in seconds")?;
        let ts = trim(ts);
        let sep = if ts.contains(&b',') { b',' } else { b'.' };
        let ts_ns = decimal_ns(
            ts,
            tc,
            1_000_000_000,
            sep,
            "a time in seconds with a decimal comma (e.g. 46,016)",
        )?;
        let (cc, ch) = f.expect("a tab and a channel number")?;
        let ch = dec_u64(trim(ch), cc, "a channel number 1-256", 256)?;
        if ch == 0 {
            return Err(LineError::at(cc, "a channel number 1-256"));
        }
        let (fc, flags) = f.expect("a tab and the flags field")?;
        hex_u32(trim(flags), fc, "a hex flags field")?;
        let (ic, id_s) = f.expect("a tab and a hex CAN ID")?;
        let id_s = trim(id_s);
        let id = hex_u32(id_s, ic, "a hex CAN ID of at most 8 digits")?;
        if id > 0x1FFF_FFFF {
            return Err(LineError::at(ic, "a 29-bit CAN ID (at most 1FFFFFFF)"));
        }
        let (lc, l) = f.expect("a tab and a DLC")?;
        let len = dec_u64(trim(l), lc, "a DLC 0-8", 8)? as usize;
        let (dc, d) = f.expect("a tab and the data bytes")?;
        let mut data = Vec::with_capacity(len);
        let mut bytes = Fields::blank(d);
        for _ in 0..len {
            let (bc, b) = bytes
                .next()
                .ok_or_else(|| LineError::at(dc + d.len(), "as many data bytes as the DLC says"))?;
            data.push(hex_byte2(b, dc + bc)?);
        }
        if let Some((bc, _)) = bytes.next() {
            return Err(LineError::at(
                dc + bc,
                "a tab after the data bytes (more bytes than the DLC)",
            ));
        }
        Ok(Some(Record::Frame(Frame {
            ts_ns,
            bus: (ch - 1) as u8,
            id,
            extended: id_s.len() > 3 || id > 0x7FF,
            rtr: false,
            error: false,
            fd: false,
            dir: Direction::Rx,
            data,
        })))
    }
}
