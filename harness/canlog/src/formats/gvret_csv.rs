//! SavvyCAN/GVRET CSV: `Time Stamp,ID,Extended,[Dir,]Bus,LEN,D1,…,D8[,]`.
//!
//! The header line (first non-blank line) says which columns exist and where; `Dir` is optional.
//! Time Stamp is in microseconds (may be negative, may carry a fraction). ID is hex, Extended
//! `true`/`false`, Dir `Rx`/`Tx`, Bus decimal (0-based), LEN decimal (0-64; > 8 is CAN FD).
//! Exactly LEN data columns are read (1-2 hex digits each); padding columns after them and a
//! trailing comma are accepted.

use crate::formats::{finish_classic, DecodeCtx, LineDecoder};
use crate::frame::{Direction, Frame};
use crate::parse::{dec_u64, decimal_ns, hex_byte12, hex_u32, trim, LineError, LineResult, Split};
use crate::record::Record;
use crate::swar::{decimal, digits_short, hex_id, hex_run, line_end, load8, sep_hex_units};

/// Column positions from the header.
#[derive(Clone, Copy, Debug)]
struct Columns {
    ts: usize,
    id: usize,
    ext: usize,
    dir: Option<usize>,
    bus: Option<usize>,
    len: usize,
    d1: usize,
}

/// Decoder state: the header's columns once seen.
#[derive(Default)]
pub(crate) struct GvretDecoder {
    cols: Option<Columns>,
    /// The fast path's layout, decided once from `cols`: `Some(with_dir)` for the SavvyCAN
    /// layout with or without the `Dir` column, `None` for any other (or no header yet).
    fast_layout: Option<bool>,
}

/// Whether `c` is the SavvyCAN layout the fast path reads: `Some(with_dir)`, else `None`.
fn fast_layout(c: &Columns) -> Option<bool> {
    match (c.ts, c.id, c.ext, c.dir, c.bus, c.len, c.d1) {
        (0, 1, 2, None, Some(3), 4, 5) => Some(false),
        (0, 1, 2, Some(3), Some(4), 5, 6) => Some(true),
        _ => None,
    }
}

fn header(line: &[u8]) -> LineResult<Columns> {
    let mut ts = None;
    let mut id = None;
    let mut ext = None;
    let mut dir = None;
    let mut bus = None;
    let mut len = None;
    let mut d1 = None;
    for (i, (_, name)) in Split::new(line, b',').enumerate() {
        match trim(name) {
            b"Time Stamp" => ts = Some(i),
            b"ID" => id = Some(i),
            b"Extended" => ext = Some(i),
            b"Dir" => dir = Some(i),
            b"Bus" => bus = Some(i),
            b"LEN" => len = Some(i),
            b"D1" => d1 = Some(i),
            _ => {}
        }
    }
    let need = |v: Option<usize>, what: &'static str| {
        v.ok_or_else(|| {
            LineError::at(0, what).found(format!("header {:?}", String::from_utf8_lossy(line)))
        })
    };
    Ok(Columns {
        ts: need(ts, "a GVRET CSV header with a `Time Stamp` column")?,
        id: need(id, "a GVRET CSV header with an `ID` column")?,
        ext: need(ext, "a GVRET CSV header with an `Extended` column")?,
        dir,
        bus,
        len: need(len, "a GVRET CSV header with a `LEN` column")?,
        d1: need(d1, "a GVRET CSV header with a `D1` column")?,
    })
}

impl GvretDecoder {
    /// The SavvyCAN column layout `Time Stamp,ID,Extended,[Dir,]Bus,LEN,D1,…` with a plain
    /// `<digits>[.<digits>]` time (at most 3 fraction digits), LEN 0-8 and 1-2 hex digits per
    /// byte; the rest of the line after the data columns is ignored as in `decode`. Other layouts
    /// and anything unusual go to `decode`.
    #[inline]
    fn fast(&self, b: &[u8], out: &mut Frame) -> Option<usize> {
        let with_dir = self.fast_layout?;
        // Fields go into `out` as soon as they are parsed (it is unspecified after `None`).
        let (ts_ns, nt) = decimal(b, 0, 3)?;
        out.ts_ns = ts_ns;
        let mut i = comma(b, nt)?;
        let (id, ni) = hex_id(b, i)?;
        i = comma(b, i + ni)?;
        // The flag's first five bytes as one word (`true,` with its comma).
        let (extended, ne) = match load8(b, i)? & FIVE_BYTES {
            FALSE_LOWER | FALSE_TITLE | FALSE_UPPER => (false, 5),
            TRUE_LOWER | TRUE_TITLE | TRUE_UPPER => (true, 4),
            _ => return None,
        };
        i = comma(b, i + ne)?;
        if id > if extended { 0x1FFF_FFFF } else { 0x7FF } {
            return None;
        }
        out.id = id;
        out.extended = extended;
        out.dir = Direction::Rx;
        if with_dir {
            out.dir = match b.get(i..i + 2)? {
                b"Rx" | b"RX" | b"rx" => Direction::Rx,
                b"Tx" | b"TX" | b"tx" => Direction::Tx,
                _ => return None,
            };
            i = comma(b, i + 2)?;
        }
        let (bus, nb) = digits_short(b, i, 3)?;
        if nb == 0 || bus > 255 {
            return None;
        }
        out.bus = bus as u8;
        i = comma(b, i + nb)?;
        let len = usize::from(b.get(i)?.wrapping_sub(b'0'));
        if len > 8 {
            return None;
        }
        i += 1;
        let mut data = [0u8; 8];
        let (k, j) = sep_hex_units(b, i, b',', false, &mut data, 0, len);
        i = j;
        for d in &mut data[k..len] {
            i = comma(b, i)?;
            let (v, nv) = hex_run(b, i, 2)?;
            *d = v as u8;
            i += nv;
        }
        if !matches!(*b.get(i)?, b',' | b'\r' | b'\n') {
            return None;
        }
        let end = line_end(b, i, 0)?;
        finish_classic(out, &data, len);
        Some(end)
    }
}

const FIVE_BYTES: u64 = 0xFF_FFFF_FFFF;
/// `s` (five bytes) as the low bytes of a little-endian word.
const fn word5(s: &[u8; 5]) -> u64 {
    u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], 0, 0, 0])
}
const FALSE_LOWER: u64 = word5(b"false");
const FALSE_TITLE: u64 = word5(b"False");
const FALSE_UPPER: u64 = word5(b"FALSE");
const TRUE_LOWER: u64 = word5(b"true,");
const TRUE_TITLE: u64 = word5(b"True,");
const TRUE_UPPER: u64 = word5(b"TRUE,");

/// The index after the comma at `b[i]`.
#[inline(always)]
fn comma(b: &[u8], i: usize) -> Option<usize> {
    (*b.get(i)? == b',').then_some(i + 1)
}

impl LineDecoder for GvretDecoder {
    #[inline]
    fn decode_fast(&mut self, b: &[u8], out: &mut Frame) -> Option<usize> {
        self.fast(b, out)
    }

    fn decode(&mut self, line: &[u8], _ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>> {
        if trim(line).is_empty() {
            return Ok(None);
        }
        let Some(c) = self.cols else {
            if !line.starts_with(b"Time Stamp,") {
                return Err(LineError::at(
                    0,
                    "the GVRET CSV header `Time Stamp,ID,Extended,…`",
                ));
            }
            let cols = header(line)?;
            self.fast_layout = fast_layout(&cols);
            self.cols = Some(cols);
            return Ok(None);
        };
        let mut frame = Frame {
            ts_ns: 0,
            bus: 0,
            id: 0,
            extended: false,
            rtr: false,
            error: false,
            fd: false,
            dir: Direction::Rx,
            data: Vec::new(),
        };
        let mut len = None;
        let mut last_col = 0;
        let mut last_end = 0;
        let mut id_col = 0;
        let mut ext_col = 0;
        for (i, (col, field)) in Split::new(line, b',').enumerate() {
            last_col = i;
            last_end = col + field.len();
            if i == c.ts {
                frame.ts_ns = decimal_ns(field, col, 1_000, b'.', "a timestamp in microseconds")?;
            } else if i == c.id {
                id_col = col;
                frame.id = hex_u32(field, col, "a hex CAN ID of at most 8 digits")?;
            } else if i == c.ext {
                ext_col = col;
                frame.extended = match field {
                    b"true" | b"True" | b"TRUE" => true,
                    b"false" | b"False" | b"FALSE" => false,
                    _ => return Err(LineError::at(col, "`true` or `false`")),
                };
            } else if Some(i) == c.dir {
                frame.dir = match field {
                    b"Rx" | b"RX" | b"rx" => Direction::Rx,
                    b"Tx" | b"TX" | b"tx" => Direction::Tx,
                    _ => return Err(LineError::at(col, "`Rx` or `Tx`")),
                };
            } else if Some(i) == c.bus {
                frame.bus = dec_u64(field, col, "a decimal bus number 0-255", 255)? as u8;
            } else if i == c.len {
                let n = dec_u64(field, col, "a decimal length 0-64", 64)? as usize;
                if !crate::parse::fd_len_ok(n) {
                    return Err(LineError::at(
                        col,
                        "a CAN FD length (0-8, 12, 16, 20, 24, 32, 48, 64)",
                    ));
                }
                frame.fd = n > 8;
                frame.data = Vec::with_capacity(n);
                len = Some(n);
            } else if i >= c.d1 {
                let Some(n) = len else {
                    return Err(LineError::at(col, "the LEN column before the data columns"));
                };
                if i - c.d1 < n {
                    frame.data.push(hex_byte12(field, col)?);
                } else {
                    break;
                }
            }
        }
        let n = len.unwrap_or(0);
        if last_col < c.len || frame.data.len() < n {
            let what = if last_col < c.len {
                "more columns (the line ends before LEN)"
            } else {
                "as many data columns as LEN says"
            };
            return Err(LineError::at(last_end, what));
        }
        if !frame.extended && frame.id > 0x7FF {
            return Err(LineError::at(
                ext_col,
                "`true` (the ID is above 7FF, so it is a 29-bit ID)",
            ));
        }
        if frame.id > 0x1FFF_FFFF {
            return Err(LineError::at(id_col, "a 29-bit CAN ID (at most 1FFFFFFF)"));
        }
        Ok(Some(Record::Frame(frame)))
    }
}
