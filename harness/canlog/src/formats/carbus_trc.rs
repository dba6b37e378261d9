//! CARBUS Analyzer / CAN-Hacker text trace (not a PEAK `.trc`).
//!
//! First record: `@ TEXT @ …` header (skipped). Records end with CR (the shared line reader
//! accepts CR, LF and CRLF), fields are tab-separated: time in seconds with a **decimal comma**
//! (`46,016`; a point is accepted too), channel (1-based), flags (4 hex digits, not interpreted),
//! hex ID (29-bit when it has more than 3 digits or exceeds 7FF), DLC, space-separated data bytes,
//! then fields that are ignored (a counter and the ASCII rendering).

use crate::formats::{set_classic, DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{
    dec_u64, decimal_ns, hex_byte2, hex_u32, trim, Fields, LineError, LineResult, Split,
};
use crate::record::Record;
use crate::swar::{
    decimal_digits_sep, digits_short, hex_byte_field, hex_id, line_end, sep_hex_units, skip_spaces,
    spaces1,
};

/// Decoder (stateless apart from the header check).
#[derive(Default)]
pub(crate) struct CarbusDecoder;

/// The index after the tab at `b[i]`.
#[inline(always)]
fn tab(b: &[u8], i: usize) -> Option<usize> {
    (*b.get(i)? == b'\t').then_some(i + 1)
}

impl LineDecoder for CarbusDecoder {
    /// `<sec>,<frac>\t<ch>\t<flags>\t<id>\t<dlc>\t<bytes>\t…` with a decimal comma or point,
    /// no blanks around the fields before the data, a one-digit DLC and two-digit bytes; the
    /// fields after the data are ignored as in `decode`. Everything else goes to `decode`.
    #[inline]
    fn decode_fast(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        // `<int>,<frac>` or `<int>.<frac>`: both parts required here. Digit by digit (see
        // `decimal_digits`).
        let (ts_ns, nt, frac) = decimal_digits_sep(b, 0, 9, b',')?;
        if !frac {
            return None;
        }
        let mut i = tab(b, nt)?;
        let (ch, nc) = digits_short(b, i, 3)?;
        if nc == 0 || ch == 0 || ch > 256 {
            return None;
        }
        i = tab(b, i + nc)?;
        let (_, nf) = hex_id(b, i)?;
        i = tab(b, i + nf)?;
        let (id, ni) = hex_id(b, i)?;
        if id > 0x1FFF_FFFF {
            return None;
        }
        i = tab(b, i + ni)?;
        let len = usize::from(b.get(i)?.wrapping_sub(b'0'));
        if len > 8 {
            return None;
        }
        i = tab(b, i + 1)?;
        let mut data = [0u8; 8];
        let mut k = 0;
        if len > 0 {
            i = skip_spaces(b, i)?;
            data[0] = hex_byte_field(b, i)?;
            i += 2;
            k = 1;
        }
        // Common: single spaces between the bytes; the loop below takes any other spacing.
        let (k, j) = sep_hex_units(b, i, b' ', true, &mut data, k, len);
        i = j;
        for d in &mut data[k..len] {
            i = spaces1(b, i)?;
            *d = hex_byte_field(b, i)?;
            i += 2;
        }
        // Only blanks may follow the bytes inside their field.
        i = skip_spaces(b, i)?;
        if !matches!(b[i], b'\t' | b'\r' | b'\n') {
            return None;
        }
        let end = line_end(b, i, 0)?;
        let extended = ni > 3 || id > 0x7FF;
        set_classic(
            out,
            ts_ns,
            (ch - 1) as u8,
            id,
            extended,
            Direction::Rx,
            &data,
            len,
        );
        Some(end)
    }

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
