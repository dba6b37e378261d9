//! PEAK PCAN-View trace (`.trc`), file versions 1.0, 1.1, 1.2, 1.3, 2.0 and 2.1.
//!
//! Header lines start with `;`: `;$FILEVERSION=x.y` selects the layout, `;$STARTTIME=<days>` (an
//! OLE date, days since 1899-12-30) makes timestamps absolute (Unix-epoch nanoseconds = start +
//! offset); without it they are the file's offsets. `;$COLUMNS=N,O,T,B,I,d,R,L,D` names the 2.x
//! columns (default for 2.0: `N,O,T,I,d,l,D`). Without `$FILEVERSION` the 1.0 layout is assumed,
//! or 1.1 when the third field is `Rx`/`Tx`.
//!
//! 1.x records: `N) <ms> [<bus>] [Rx|Tx] <ID> [-] <DLC> <bytes|RTR>`; 2.x records: columns as
//! declared, types `DT` (data), `FD`/`FB`/`FE`/`BI` (CAN FD), `RR` (remote request). Other record
//! types (`Warng`, `Error`, `ST`, `EC`, `ER`, `EV`) are counted as
//! [`WarningKind::UnsupportedRecord`]. IDs of 8 hex digits (or above 7FF) are 29-bit. Buses are
//! 1-based in the file, 0-based in [`Frame::bus`].

use crate::formats::{finish_classic, DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{dec_u64, decimal_ns, hex_u32, trim, Fields, LineError, LineResult};
use crate::record::Record;
use crate::swar::{
    decimal_digits, digit_run, digits, digits_short, hex_id, line_end, load8, nonspace_mask64,
    skip_spaces, spaced_hex_bytes, spaced_hex_run, spaces1, SpacePattern,
};
use crate::warnings::WarningKind;

/// Decoder state from the header.
#[derive(Default)]
pub(crate) struct PeakDecoder {
    /// `(major, minor)` from `$FILEVERSION`.
    version: Option<(u8, u8)>,
    start_ns: i64,
    columns: Option<Vec<u8>>,
    /// Column layout of the last 1.x data line the fast path read (see [`Layout`]).
    layout: Option<Layout>,
    /// Lines the fixed-layout path took (tests check that it is used).
    #[cfg(test)]
    fixed_hits: u64,
}

/// Where the fields of a 1.x data line are, as learned from the last line the general fast
/// path read: PCAN-View pads its columns to fixed widths, so in most files consecutive lines
/// have their fields at the same columns. A line whose bytes before the data column are spaces
/// and non-spaces exactly where the layout's line had them (so its fields are the same runs of
/// non-space bytes; checked a word at a time, see [`SpacePattern`]) is read field by field at
/// those fixed columns, so the position of one field does not wait for the parsing of the one
/// before it. Any other line goes the general way (which learns its layout).
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Where the bytes before `data` are spaces.
    runs: SpacePattern,
    /// `(start, length)` of the message number `N)`, the offset, the bus and the ID; the column
    /// of the direction, the reserved `-` and the length digit.
    n: (usize, usize),
    off: (usize, usize),
    bus: (usize, usize),
    id: (usize, usize),
    dir: usize,
    dash: usize,
    len: usize,
    /// The column of the first data byte (at most 63).
    data: usize,
}

const DLC_TO_LEN: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

impl PeakDecoder {
    fn header(&mut self, line: &[u8]) -> LineResult<()> {
        let t = trim(&line[1..]);
        if let Some(v) = t.strip_prefix(b"$FILEVERSION=") {
            let col = line.len() - v.len();
            let v = trim(v);
            let dot = v.iter().position(|&b| b == b'.');
            let (maj, min) = match dot {
                Some(d) => (&v[..d], &v[d + 1..]),
                None => (v, &b"0"[..]),
            };
            let maj = dec_u64(maj, col, "a file version like 1.1 or 2.1", 2)? as u8;
            let min = dec_u64(min, col, "a file version like 1.1 or 2.1", 9)? as u8;
            if maj == 0 {
                return Err(LineError::at(col, "a file version 1.0 … 2.1"));
            }
            self.version = Some((maj, min));
        } else if let Some(v) = t.strip_prefix(b"$STARTTIME=") {
            let col = line.len() - v.len();
            let days: f64 = std::str::from_utf8(trim(v))
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|d: &f64| d.is_finite() && *d > 0.0 && *d < 2_958_466.0)
                .ok_or_else(|| LineError::at(col, "an OLE date (days since 1899-12-30)"))?;
            // Unix epoch = OLE day 25569.
            let secs = (days - 25_569.0) * 86_400.0;
            self.start_ns = (secs * 1e9).round() as i64;
        } else if let Some(v) = t.strip_prefix(b"$COLUMNS=") {
            let col = line.len() - v.len();
            let mut cols = Vec::new();
            for c in trim(v).split(|&b| b == b',') {
                match trim(c) {
                    [l @ (b'N' | b'O' | b'T' | b'B' | b'I' | b'd' | b'R' | b'L' | b'l' | b'D')] => {
                        cols.push(*l)
                    }
                    _ => {
                        return Err(LineError::at(
                            col,
                            "column letters from N,O,T,B,I,d,R,L,l,D",
                        ))
                    }
                }
            }
            if !cols.contains(&b'O') || !cols.contains(&b'I') || !cols.contains(&b'T') {
                return Err(LineError::at(col, "columns including O, T and I"));
            }
            self.columns = Some(cols);
        }
        Ok(())
    }

    fn data(f: &mut Fields<'_>, frame: &mut Frame, len: usize) -> LineResult<()> {
        frame.data = Vec::with_capacity(len);
        f.hex_bytes(len, &mut frame.data)
    }

    fn v1(
        &mut self,
        line: &[u8],
        minor: u8,
        ctx: &mut DecodeCtx<'_>,
    ) -> LineResult<Option<Record>> {
        let mut f = Fields::blank(line);
        let (nc, n) = f.expect("a message number `N)`")?;
        if n.last() != Some(&b')') {
            return Err(LineError::at(nc + n.len(), "`)` after the message number"));
        }
        let (oc, o) = f.expect("a time offset in milliseconds")?;
        let off = decimal_ns(o, oc, 1_000_000, b'.', "a time offset in milliseconds")?;
        let mut frame = new_frame(self.start_ns.saturating_add(off));
        // Version 1.1 is assumed for unversioned files whose third field is a direction.
        let minor = if self.version.is_none() {
            let mut peek = Fields::blank(line);
            let third = peek.nth(2).map(|x| x.1);
            if matches!(third, Some(b"Rx" | b"Tx")) {
                1
            } else {
                0
            }
        } else {
            minor
        };
        if minor >= 2 {
            let (bc, b) = f.expect("a bus number")?;
            let b = dec_u64(b, bc, "a bus number 1-256", 256)?;
            if b == 0 {
                return Err(LineError::at(bc, "a bus number 1-256"));
            }
            frame.bus = (b - 1) as u8;
        }
        if minor >= 1 {
            let (tc, t) = f.expect("a message type (Rx, Tx)")?;
            frame.dir = match t {
                b"Rx" => Direction::Rx,
                b"Tx" => Direction::Tx,
                b"Warng" | b"Error" | b"Info" | b"Event" => {
                    ctx.warnings.add(
                        WarningKind::UnsupportedRecord,
                        ctx.line,
                        tc as u64 + 1,
                        || format!("PEAK {} record skipped", String::from_utf8_lossy(t)),
                    );
                    return Ok(None);
                }
                _ => return Err(LineError::at(tc, "a message type (Rx, Tx, Warng, Error)")),
            };
        }
        let (ic, id) = f.expect("a hex CAN ID")?;
        set_id(&mut frame, id, ic)?;
        if minor >= 3 {
            let (rc, r) = f.expect("`-`")?;
            if r != b"-" {
                return Err(LineError::at(rc, "`-` (reserved column)"));
            }
        }
        let (lc, l) = f.expect("a data length 0-8")?;
        let len = dec_u64(l, lc, "a data length 0-8", 8)? as usize;
        let (_, rest) = f.rest();
        if rest.starts_with(b"RTR") {
            frame.rtr = true;
            frame.data.resize(len, 0);
        } else {
            Self::data(&mut f, &mut frame, len)?;
        }
        Ok(Some(Record::Frame(frame)))
    }

    fn v2(&mut self, line: &[u8], ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        const DEFAULT: &[u8] = b"NOTIdlD";
        let cols: &[u8] = self.columns.as_deref().unwrap_or(DEFAULT);
        let mut f = Fields::blank(line);
        let mut frame = new_frame(0);
        let mut len: Option<usize> = None;
        for &c in cols {
            if c == b'D' {
                let n =
                    len.ok_or_else(|| LineError::at(f.pos(), "a length column (L or l) before D"))?;
                if frame.rtr {
                    frame.data.resize(n, 0);
                } else {
                    Self::data(&mut f, &mut frame, n)?;
                }
                continue;
            }
            let what = match c {
                b'N' => "a message number",
                b'O' => "a time offset in milliseconds",
                b'T' => "a message type (DT, FD, FB, FE, BI, RR, …)",
                b'B' => "a bus number",
                b'I' => "a hex CAN ID",
                b'd' => "a direction (Rx, Tx)",
                b'R' => "`-` (reserved column)",
                b'L' => "a DLC 0-15",
                _ => "a data length",
            };
            let (fc, v) = f.expect(what)?;
            match c {
                b'O' => {
                    let off = decimal_ns(v, fc, 1_000_000, b'.', what)?;
                    frame.ts_ns = self.start_ns.saturating_add(off);
                }
                b'T' => match v {
                    b"DT" => {}
                    b"FD" | b"FB" | b"FE" | b"BI" => frame.fd = true,
                    b"RR" => frame.rtr = true,
                    b"ST" | b"EC" | b"ER" | b"EV" => {
                        ctx.warnings.add(
                            WarningKind::UnsupportedRecord,
                            ctx.line,
                            fc as u64 + 1,
                            || format!("PEAK {} record skipped", String::from_utf8_lossy(v)),
                        );
                        return Ok(None);
                    }
                    _ => return Err(LineError::at(fc, what)),
                },
                b'B' if v != b"-" => {
                    let b = dec_u64(v, fc, "a bus number 1-256", 256)?;
                    if b == 0 {
                        return Err(LineError::at(fc, "a bus number 1-256"));
                    }
                    frame.bus = (b - 1) as u8;
                }
                b'I' => set_id(&mut frame, v, fc)?,
                b'd' => {
                    frame.dir = match v {
                        b"Rx" => Direction::Rx,
                        b"Tx" => Direction::Tx,
                        _ => return Err(LineError::at(fc, what)),
                    }
                }
                b'L' => {
                    let dlc = dec_u64(v, fc, "a DLC 0-15", 15)? as usize;
                    len = Some(if frame.fd {
                        DLC_TO_LEN[dlc]
                    } else {
                        dlc.min(8)
                    });
                }
                b'l' => {
                    let n = dec_u64(v, fc, "a data length 0-64", 64)? as usize;
                    if !crate::parse::fd_len_ok(n) || (!frame.fd && n > 8) {
                        return Err(LineError::at(fc, "a data length (0-8, or a CAN FD length)"));
                    }
                    len = Some(n);
                }
                _ => {} // N, R: not used
            }
        }
        if let Some((xc, _)) = f.next() {
            return Err(LineError::at(xc, "end of line"));
        }
        Ok(Some(Record::Frame(frame)))
    }
}

fn new_frame(ts_ns: i64) -> Frame {
    Frame {
        ts_ns,
        bus: 0,
        id: 0,
        extended: false,
        rtr: false,
        error: false,
        fd: false,
        dir: Direction::Rx,
        data: Vec::new(),
    }
}

fn set_id(frame: &mut Frame, id: &[u8], col: usize) -> LineResult<()> {
    let v = hex_u32(id, col, "a hex CAN ID of at most 8 digits")?;
    if v > 0x1FFF_FFFF {
        return Err(LineError::at(col, "a 29-bit CAN ID (at most 1FFFFFFF)"));
    }
    frame.id = v;
    frame.extended = id.len() == 8 || v > 0x7FF;
    Ok(())
}

impl PeakDecoder {
    /// The 1.x data record `N) <ms> [<bus>] [Rx|Tx] <ID> [-] <len> <bytes>` with spaces (no tabs),
    /// a plain `<digits>[.<digits>]` offset (at most 6 fraction digits), a one-digit length and
    /// two-digit bytes, in a file that declares its 1.x version. Everything else goes to `decode`.
    /// One copy per minor version (`MINOR` 3 stands for 3 and above), so the column checks are
    /// decided at compile time.
    #[inline]
    fn fast_v1<const MINOR: u8>(&self, b: &[u8], out: &mut Frame) -> Option<usize> {
        let mut i = skip_spaces(b, 0)?;
        let (_, nn) = digits(b, i, 18)?;
        i += nn;
        if nn == 0 || b[i] != b')' {
            return None;
        }
        i = spaces1(b, i + 1)?;
        let (off, no) = decimal_digits(b, i, 6)?;
        i = spaces1(b, i + no)?;
        // Fields go into `out` as soon as they are parsed (it is unspecified after `None`).
        out.ts_ns = self.start_ns.saturating_add(off);
        out.bus = 0;
        if MINOR >= 2 {
            let (n, nb) = digits_short(b, i, 3)?;
            if nb == 0 || n == 0 || n > 256 {
                return None;
            }
            out.bus = (n - 1) as u8;
            i = spaces1(b, i + nb)?;
        }
        out.dir = Direction::Rx;
        if MINOR >= 1 {
            out.dir = match b.get(i..i + 2)? {
                b"Rx" => Direction::Rx,
                b"Tx" => Direction::Tx,
                _ => return None,
            };
            i = spaces1(b, i + 2)?;
        }
        let (id, ni) = hex_id(b, i)?;
        if id > 0x1FFF_FFFF {
            return None;
        }
        out.id = id;
        out.extended = ni == 8 || id > 0x7FF;
        i = spaces1(b, i + ni)?;
        if MINOR >= 3 {
            if b[i] != b'-' {
                return None;
            }
            i = spaces1(b, i + 1)?;
        }
        let len = usize::from(b[i].wrapping_sub(b'0'));
        if len > 8 || !matches!(*b.get(i + 1)?, b' ' | b'\r' | b'\n') {
            return None;
        }
        i += 1;
        if len == 0 && !matches!(b[skip_spaces(b, i)?], b'\r' | b'\n') {
            return None; // maybe `RTR`
        }
        let mut data = [0u8; 8];
        i = spaced_hex_bytes(b, i, len, &mut data)?;
        let end = line_end(b, i, 0)?;
        finish_classic(out, &data, len);
        Some(end)
    }

    /// [`Self::fast_v1`] at the columns of `l`: the same checks of the same fields, taken at
    /// positions fixed for the line once its field runs match the layout's.
    #[inline(always)]
    fn fixed_v1<const MINOR: u8>(&self, b: &[u8], out: &mut Frame, l: &Layout) -> Option<usize> {
        if !l.runs.matches(b) {
            return None;
        }
        // Each field now is one run of non-space bytes at the layout's columns; each parser
        // must take its whole run (as the general path's `spaces1` after it requires).
        // The number's value is not used: its digits in one word when they fit (as `digits`
        // would count them), else through `digits`.
        let k = digit_run(load8(b, l.n.0)?);
        let nn = if k < 8 { k } else { digits(b, l.n.0, 18)?.1 };
        if nn + 1 != l.n.1 || b[l.n.0 + nn] != b')' {
            return None;
        }
        let (off, no) = decimal_digits(b, l.off.0, 6)?;
        if no != l.off.1 {
            return None;
        }
        out.ts_ns = self.start_ns.saturating_add(off);
        out.bus = 0;
        if MINOR >= 2 {
            let (n, nb) = digits_short(b, l.bus.0, 3)?;
            if nb != l.bus.1 || n == 0 || n > 256 {
                return None;
            }
            out.bus = (n - 1) as u8;
        }
        out.dir = Direction::Rx;
        if MINOR >= 1 {
            // A run of two bytes (the layout's).
            out.dir = match &b[l.dir..l.dir + 2] {
                b"Rx" => Direction::Rx,
                b"Tx" => Direction::Tx,
                _ => return None,
            };
        }
        let (id, ni) = hex_id(b, l.id.0)?;
        if ni != l.id.1 || id > 0x1FFF_FFFF {
            return None;
        }
        out.id = id;
        out.extended = ni == 8 || id > 0x7FF;
        if MINOR >= 3 && b[l.dash] != b'-' {
            return None;
        }
        // A run of one byte, followed by spaces up to the data column.
        let len = usize::from(b[l.len].wrapping_sub(b'0'));
        if len.wrapping_sub(1) >= 8 {
            return None; // 0 (maybe `RTR`) or not a digit 1-8: the general way
        }
        let mut data = [0u8; 8];
        // From the space before the data column: what `spaced_hex_bytes` reads when the data
        // starts at that column (a space there makes a bad unit: the general way).
        let i = match spaced_hex_run(b, l.data - 1, len, &mut data) {
            Some(i) => i,
            None => spaced_hex_bytes(b, l.data - 1, len, &mut data)?,
        };
        let end = line_end(b, i, 0)?;
        finish_classic(out, &data, len);
        Some(end)
    }

    /// The layout of a data line of `len` (>= 1) bytes that [`Self::fast_v1`] has read: its
    /// first field runs, in the order the version's columns come.
    fn learn<const MINOR: u8>(b: &[u8]) -> Option<Layout> {
        let m = nonspace_mask64(b.first_chunk::<64>()?);
        let mut starts = m & !(m << 1);
        let mut ends = m & !(m >> 1);
        // N, offset, [bus], [direction], ID, [`-`], length; then the first data byte.
        let fields =
            4 + usize::from(MINOR >= 1) + usize::from(MINOR >= 2) + usize::from(MINOR >= 3);
        let mut runs = [(0usize, 0usize); 7];
        for r in &mut runs[..fields] {
            let s = starts.trailing_zeros() as usize;
            let e = ends.trailing_zeros() as usize;
            if s >= 64 || e >= 64 {
                return None;
            }
            *r = (s, e + 1 - s);
            starts &= starts - 1;
            ends &= ends - 1;
        }
        let data = starts.trailing_zeros() as usize;
        if data >= 64 {
            return None;
        }
        let mut it = runs[..fields].iter().copied();
        let n = it.next()?;
        let off = it.next()?;
        let bus = if MINOR >= 2 { it.next()? } else { (0, 0) };
        let dir = if MINOR >= 1 { it.next()?.0 } else { 0 };
        let id = it.next()?;
        let dash = if MINOR >= 3 { it.next()?.0 } else { 0 };
        let len = it.next()?.0;
        Some(Layout {
            runs: SpacePattern::learn(b, data)?,
            n,
            off,
            bus,
            id,
            dir,
            dash,
            len,
            data,
        })
    }

    /// The 1.x fast path: the fixed-layout path when the line matches the last layout, else
    /// [`Self::fast_v1`], whose data lines then give the layout for the next lines.
    #[inline(always)]
    fn fast_v1_layout<const MINOR: u8>(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        if let Some(l) = &self.layout {
            if let Some(n) = self.fixed_v1::<MINOR>(b, out, l) {
                #[cfg(test)]
                {
                    self.fixed_hits += 1;
                }
                return Some(n);
            }
        }
        let n = self.fast_v1::<MINOR>(b, out)?;
        if !out.data.is_empty() {
            self.layout = Self::learn::<MINOR>(b);
        }
        Some(n)
    }
}

impl LineDecoder for PeakDecoder {
    #[inline]
    fn decode_fast(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        match self.version {
            Some((1, 0)) => self.fast_v1_layout::<0>(b, out),
            Some((1, 1)) => self.fast_v1_layout::<1>(b, out),
            Some((1, 2)) => self.fast_v1_layout::<2>(b, out),
            Some((1, _)) => self.fast_v1_layout::<3>(b, out),
            _ => None,
        }
    }

    fn decode(&mut self, line: &[u8], ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        let t = trim(line);
        if t.is_empty() {
            return Ok(None);
        }
        if t[0] == b';' {
            // A header may change the version, and with it the columns a layout stands for.
            self.layout = None;
            let off = line.len() - trim_start_len(line);
            self.header(&line[off..]).map_err(|mut e| {
                e.col += off;
                e
            })?;
            return Ok(None);
        }
        match self.version {
            Some((2, _)) => self.v2(line, ctx),
            Some((1, minor)) => self.v1(line, minor, ctx),
            None => self.v1(line, 0, ctx),
            Some(_) => Err(LineError::at(0, "a record of a known file version")),
        }
    }
}

fn trim_start_len(line: &[u8]) -> usize {
    let lead = line
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    line.len() - lead
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warnings::Warnings;

    fn decoder(version: &[u8]) -> PeakDecoder {
        let mut d = PeakDecoder::default();
        let mut w = Warnings::default();
        let mut ctx = DecodeCtx {
            line: 1,
            warnings: &mut w,
        };
        assert_eq!(d.decode(version, &mut ctx), Ok(None));
        d
    }

    fn general(version: &[u8], line: &[u8]) -> (LineResult<Option<Record>>, bool) {
        let mut w = Warnings::default();
        let mut ctx = DecodeCtx {
            line: 2,
            warnings: &mut w,
        };
        let r = decoder(version).decode(line, &mut ctx);
        (r, w.is_empty())
    }

    /// After a `template` line has set the layout, `line` reads through the fast paths exactly
    /// as the general parser reads it. Returns whether the fixed-layout path took it.
    fn check_after(version: &[u8], template: &[u8], line: &[u8]) -> bool {
        let mut d = decoder(version);
        let mut buf = template.to_vec();
        buf.extend_from_slice(b"\n");
        let want = buf.len();
        buf.extend_from_slice(&[b'-'; 64]);
        let n = d.decode_fast_owned(&buf).map(|x| x.1);
        assert_eq!(n, Some(want), "{}", String::from_utf8_lossy(template));
        assert!(d.layout.is_some(), "{}", String::from_utf8_lossy(template));
        let hits = d.fixed_hits;
        let text = String::from_utf8_lossy(line);
        for term in [&b"\n"[..], b"\r\n", b"\r"] {
            let mut buf = line.to_vec();
            buf.extend_from_slice(term);
            buf.extend_from_slice(
                b"     2)         6.4  Rx         0387  8  00 00 00 00 00 02 02 00 \n",
            );
            let mut d2 = PeakDecoder {
                layout: d.layout,
                ..decoder(version)
            };
            if let Some((frame, n)) = d2.decode_fast_owned(&buf) {
                assert_eq!(n, line.len() + term.len(), "{text:?}");
                let (g, quiet) = general(version, line);
                assert_eq!(g, Ok(Some(Record::Frame(frame))), "{text:?}");
                assert!(quiet, "{text:?}: the general path warned");
            }
            if d2.fixed_hits > hits {
                return true;
            }
        }
        false
    }

    const TEMPLATES: [(&[u8], &[u8]); 5] = [
        (
            b";$FILEVERSION=1.1",
            b"     7)        26.1  Rx         0386  8  00 00 00 C0 00 40 00 80 ",
        ),
        (
            b";$FILEVERSION=1.1",
            b"    10)        29.0  Tx     1FFFFFFF  2  ab 0F",
        ),
        (b";$FILEVERSION=1.0", b"     1)      1059.9  0300  2  00 11"),
        (
            b";$FILEVERSION=1.2",
            b"     1)      1059.900 12  Rx        0300  2  00 11",
        ),
        (
            b";$FILEVERSION=1.3",
            b"     1)      1059.900 1  Rx        0300 -  8    00 00 00 00 04 00 00 00",
        ),
    ];

    #[test]
    fn fixed_layout_path_matches_the_general_parser() {
        for (version, template) in TEMPLATES {
            // The template itself and lines of the same layout go the fixed way.
            assert!(check_after(version, template, template));
            let mut same = template.to_vec();
            for b in same.iter_mut().rev() {
                if b.is_ascii_digit() {
                    *b = b'0' + (*b - b'0' + 3) % 10;
                }
            }
            // (the length digit may now be out of range: only compared, not required)
            check_after(version, template, &same);
            // Every byte replaced, removed or doubled; every cut.
            for p in 0..template.len() {
                for c in b" x\t0189aFG).-RT+" {
                    let mut l = template.to_vec();
                    l[p] = *c;
                    check_after(version, template, &l);
                }
                let mut l = template.to_vec();
                l.remove(p);
                check_after(version, template, &l);
                let mut l = template.to_vec();
                l.insert(p, template[p]);
                check_after(version, template, &l);
                let mut l = template.to_vec();
                l.insert(p, b' ');
                check_after(version, template, &l);
                check_after(version, template, &template[..p]);
            }
        }
        // A layout does not outlive a change of version: a 1.1 line read as 1.0 has no ID
        // where the 1.1 layout has it.
        let (v11, t) = TEMPLATES[0];
        let mut d = decoder(v11);
        let mut buf = t.to_vec();
        buf.extend_from_slice(b"\n");
        buf.extend_from_slice(&[b'-'; 64]);
        assert!(d.decode_fast_owned(&buf).is_some() && d.layout.is_some());
        let mut w = Warnings::default();
        let mut ctx = DecodeCtx {
            line: 3,
            warnings: &mut w,
        };
        assert_eq!(d.decode(b";$FILEVERSION=1.0", &mut ctx), Ok(None));
        assert!(d.decode_fast_owned(&buf).is_none());
        // Other lengths, RTR and no data at the template's columns.
        let t = TEMPLATES[0].1;
        let head = &t[..38];
        for tail in [
            &b"1  ff"[..],
            b"2  00 11 ",
            b"0 ",
            b"0",
            b"0  RTR",
            b"2  RTR",
            b"8  00 11 22 33 44 55 66 7",
            b"8  00 11 22 33 44 55 66 77 88",
            b"9  00 11 22 33 44 55 66 77 88",
            b"3  00  11 22",
            b"3  00 11\t22",
        ] {
            let mut l = head.to_vec();
            l.extend_from_slice(tail);
            let hit = check_after(TEMPLATES[0].0, t, &l);
            if [&b"1  ff"[..], b"2  00 11 ", b"3  00  11 22"].contains(&tail) {
                assert!(hit, "{}", String::from_utf8_lossy(&l));
            }
        }
    }
}
