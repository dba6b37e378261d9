//! Vector ASCII log (`.asc`).
//!
//! Header lines `date …`, `base hex|dec  timestamps absolute|relative`, `internal events logged`,
//! `// version …`, `Begin Triggerblock …`, `End TriggerBlock` carry no frames (`base` and
//! `timestamps` are honoured: decimal IDs/bytes with `base dec`, accumulated times with
//! `timestamps relative`). Classic frames: `<time> <ch> <id>[x] Rx|Tx d <dlc> <bytes…> [Length = …
//! BitCount = … ID = …]`, remote frames `… r [<dlc>]`, error frames `<time> <ch> ErrorFrame`,
//! CAN FD `<time> CANFD <ch> Rx|Tx <id>[x] [<name>] <brs> <esi> <dlc> <len> <bytes…> …`. Channels
//! are 1-based. Other lines with a timestamp (`Start of measurement`, statistics, J1939, …) are
//! counted as [`WarningKind::UnsupportedRecord`] (`Start of measurement` silently).

use crate::formats::{set_classic, DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{dec_u64, decimal_ns, hex_val, trim, Fields, LineError, LineResult};
use crate::record::Record;
use crate::swar::{
    decimal_digits, digits_short, hex_id, line_end, skip_spaces, spaced_hex_bytes, spaces1,
};
use crate::warnings::WarningKind;

/// Decoder state from the header.
#[derive(Default)]
pub(crate) struct AscDecoder {
    decimal: bool,
    relative: bool,
    last_ns: i64,
}

fn starts_ci(t: &[u8], p: &[u8]) -> bool {
    t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p)
}

impl AscDecoder {
    fn num(&self, s: &[u8], col: usize, what: &'static str, max: u32) -> LineResult<u32> {
        let (radix, digits) = if self.decimal { (10, s) } else { (16, s) };
        if digits.is_empty() || digits.len() > 10 {
            return Err(LineError::at(col, what));
        }
        let mut v: u64 = 0;
        for (i, &c) in digits.iter().enumerate() {
            let d = if radix == 16 {
                hex_val(c)
            } else if c.is_ascii_digit() {
                Some(c - b'0')
            } else {
                None
            }
            .ok_or_else(|| {
                LineError::at(
                    col + i,
                    if radix == 16 {
                        "hex digit"
                    } else {
                        "decimal digit"
                    },
                )
            })?;
            v = v * radix + u64::from(d);
        }
        if v > u64::from(max) {
            return Err(LineError::at(col, what));
        }
        Ok(v as u32)
    }

    fn id(&self, s: &[u8], col: usize) -> LineResult<(u32, bool)> {
        let (body, ext) = match s.last() {
            Some(b'x' | b'X') => (&s[..s.len() - 1], true),
            _ => (s, false),
        };
        let id = self.num(
            body,
            col,
            if ext {
                "a 29-bit CAN ID"
            } else {
                "an 11-bit CAN ID (or a 29-bit one with an `x` suffix)"
            },
            if ext { 0x1FFF_FFFF } else { 0x7FF },
        )?;
        Ok((id, ext))
    }

    fn time(&mut self, ts: &[u8], col: usize) -> LineResult<i64> {
        let t = decimal_ns(ts, col, 1_000_000_000, b'.', "a time in seconds")?;
        if self.relative {
            self.last_ns = self.last_ns.saturating_add(t);
            Ok(self.last_ns)
        } else {
            Ok(t)
        }
    }

    fn bytes(&self, f: &mut Fields<'_>, n: usize, frame: &mut Frame) -> LineResult<()> {
        frame.data = Vec::with_capacity(n);
        if !self.decimal {
            // Common case: two hex digits per byte. Anything else (one-digit bytes, errors) goes
            // through the general loop below from the same place.
            let save = f.clone();
            if f.hex_bytes(n, &mut frame.data).is_ok() {
                return Ok(());
            }
            *f = save;
            frame.data.clear();
        }
        for _ in 0..n {
            let (bc, b) = f.expect("a data byte")?;
            frame.data.push(self.num(b, bc, "a data byte", 255)? as u8);
        }
        Ok(())
    }

    fn canfd(&mut self, ts_ns: i64, f: &mut Fields<'_>) -> LineResult<Option<Record>> {
        let (cc, ch) = f.expect("a channel number")?;
        let ch = dec_u64(ch, cc, "a channel number 1-256", 256)?;
        let mut frame = new_frame(ts_ns, ch, cc)?;
        frame.fd = true;
        let (dc, d) = f.expect("Rx or Tx")?;
        frame.dir = dir(d, dc)?;
        let (ic, id) = f.expect("a CAN ID")?;
        (frame.id, frame.extended) = self.id(id, ic)?;
        let (mut bc, mut brs) = f.expect("the BRS flag")?;
        if !matches!(brs, b"0" | b"1") {
            // A symbolic message name sits between ID and BRS.
            (bc, brs) = f.expect("the BRS flag")?;
        }
        if !matches!(brs, b"0" | b"1") {
            return Err(LineError::at(bc, "the BRS flag 0 or 1"));
        }
        let (ec, esi) = f.expect("the ESI flag")?;
        if !matches!(esi, b"0" | b"1") {
            return Err(LineError::at(ec, "the ESI flag 0 or 1"));
        }
        let (lc, dlc) = f.expect("a DLC")?;
        dec_u64(dlc, lc, "a DLC 0-15 (hex)", 15)
            .or_else(|_| self.num(dlc, lc, "a DLC 0-15", 15).map(u64::from))?;
        let (nc, len) = f.expect("a data length")?;
        let n = dec_u64(len, nc, "a data length 0-64", 64)? as usize;
        if !crate::parse::fd_len_ok(n) {
            return Err(LineError::at(
                nc,
                "a CAN FD data length (0-8, 12, 16, 20, 24, 32, 48, 64)",
            ));
        }
        self.bytes(f, n, &mut frame)?;
        Ok(Some(Record::Frame(frame)))
    }
}

fn dir(d: &[u8], col: usize) -> LineResult<Direction> {
    match d {
        b"Rx" => Ok(Direction::Rx),
        b"Tx" | b"TxRq" => Ok(Direction::Tx),
        _ => Err(LineError::at(col, "Rx or Tx")),
    }
}

fn new_frame(ts_ns: i64, ch: u64, col: usize) -> LineResult<Frame> {
    if ch == 0 {
        return Err(LineError::at(col, "a channel number 1-256"));
    }
    Ok(Frame {
        ts_ns,
        bus: (ch - 1) as u8,
        id: 0,
        extended: false,
        rtr: false,
        error: false,
        fd: false,
        dir: Direction::Rx,
        data: Vec::new(),
    })
}

impl AscDecoder {
    /// The classic data frame `<time> <ch> <id>[x] Rx|Tx|TxRq d <dlc> <bytes…> [anything]` with
    /// spaces (no tabs), hex base, absolute times of at most 9 fraction digits, a one-digit DLC
    /// and two-digit bytes. Everything else goes to `decode`.
    #[inline]
    fn fast(&self, b: &[u8], out: &mut Frame) -> Option<usize> {
        if self.decimal || self.relative {
            return None;
        }
        let mut i = skip_spaces(b, 0)?;
        let (ts_ns, nt) = decimal_digits(b, i, 9)?;
        i = spaces1(b, i + nt)?;
        let (ch, nc) = digits_short(b, i, 3)?;
        if nc == 0 || ch == 0 || ch > 256 {
            return None;
        }
        i = spaces1(b, i + nc)?;
        let (id, ni) = hex_id(b, i)?;
        i += ni;
        let extended = matches!(b[i], b'x' | b'X');
        i += usize::from(extended);
        if id > if extended { 0x1FFF_FFFF } else { 0x7FF } {
            return None;
        }
        i = spaces1(b, i)?;
        let dir = match b.get(i..i + 3)? {
            b"Rx " => Direction::Rx,
            b"Tx " => Direction::Tx,
            _ => return None,
        };
        i = spaces1(b, i + 2)?;
        if !matches!(b[i], b'd' | b'D') {
            return None;
        }
        i = spaces1(b, i + 1)?;
        let len = usize::from(b[i].wrapping_sub(b'0'));
        if len > 8 || !matches!(*b.get(i + 1)?, b' ' | b'\r' | b'\n') {
            return None;
        }
        i += 1;
        let mut data = [0u8; 8];
        i = spaced_hex_bytes(b, i, len, &mut data)?;
        let end = line_end(b, i, 0)?;
        set_classic(out, ts_ns, (ch - 1) as u8, id, extended, dir, &data, len);
        Some(end)
    }
}

impl LineDecoder for AscDecoder {
    #[inline]
    fn decode_fast(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        self.fast(b, out)
    }

    fn decode(&mut self, line: &[u8], ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        let t = trim(line);
        if t.is_empty() || t.starts_with(b"//") {
            return Ok(None);
        }
        if starts_ci(t, b"base ") {
            let mut f = Fields::blank(t);
            f.next();
            if let Some((_, b)) = f.next() {
                self.decimal = b.eq_ignore_ascii_case(b"dec");
            }
            while let Some((_, w)) = f.next() {
                if w.eq_ignore_ascii_case(b"timestamps") {
                    self.relative = f
                        .next()
                        .is_some_and(|(_, m)| m.eq_ignore_ascii_case(b"relative"));
                }
            }
            return Ok(None);
        }
        if starts_ci(t, b"date ")
            || starts_ci(t, b"internal events")
            || starts_ci(t, b"no internal events")
            || starts_ci(t, b"begin triggerblock")
            || starts_ci(t, b"end triggerblock")
        {
            return Ok(None);
        }
        let mut f = Fields::blank(line);
        let (tc, ts) = f.expect("a time in seconds")?;
        let ts_ns = self.time(ts, tc)?;
        let (cc, ch) = f.expect("a channel number")?;
        if ch == b"CANFD" {
            return self.canfd(ts_ns, &mut f);
        }
        if !ch.iter().all(u8::is_ascii_digit) {
            if !starts_ci(&line[cc..], b"Start of measurement") {
                ctx.warnings.add(
                    WarningKind::UnsupportedRecord,
                    ctx.line,
                    cc as u64 + 1,
                    || {
                        format!(
                            "ASC line skipped: {}",
                            String::from_utf8_lossy(trim(&line[cc..]))
                        )
                    },
                );
            }
            return Ok(None);
        }
        let ch_n = dec_u64(ch, cc, "a channel number 1-256", 256)?;
        let mut frame = new_frame(ts_ns, ch_n, cc)?;
        let (ic, id) = f.expect("a CAN ID or ErrorFrame")?;
        if id.eq_ignore_ascii_case(b"ErrorFrame") {
            frame.error = true;
            return Ok(Some(Record::Frame(frame)));
        }
        if id.first().is_none_or(|&c| hex_val(c).is_none()) {
            ctx.warnings.add(
                WarningKind::UnsupportedRecord,
                ctx.line,
                ic as u64 + 1,
                || {
                    format!(
                        "ASC line skipped: {}",
                        String::from_utf8_lossy(trim(&line[cc..]))
                    )
                },
            );
            return Ok(None);
        }
        (frame.id, frame.extended) = self.id(id, ic)?;
        let (dc, d) = f.expect("Rx or Tx")?;
        frame.dir = dir(d, dc)?;
        let (kc, kind) = f.expect("`d` (data) or `r` (remote)")?;
        match kind {
            b"d" | b"D" => {
                let (lc, l) = f.expect("a DLC 0-8")?;
                let n = self.num(l, lc, "a DLC 0-8", 8)? as usize;
                self.bytes(&mut f, n, &mut frame)?;
            }
            b"r" | b"R" => {
                frame.rtr = true;
                if let Some((lc, l)) = f.next() {
                    if l.iter().all(u8::is_ascii_hexdigit) {
                        let n = self.num(l, lc, "a DLC 0-8", 8)? as usize;
                        frame.data.resize(n, 0);
                    }
                }
            }
            _ => return Err(LineError::at(kc, "`d` (data) or `r` (remote)")),
        }
        Ok(Some(Record::Frame(frame)))
    }
}
