//! Writers: candump `-l`, CRTD (OVMS flavour) and GVRET CSV.
//!
//! A [`RecordWriter`] takes [`Record`]s; records the format cannot represent (e.g. a CAN FD frame
//! in CRTD, an event in candump) are skipped and counted ([`RecordWriter::skipped`]), never
//! written half-way. Timestamps are written at the format's precision (µs for all three),
//! truncated toward zero.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::format::Format;
use crate::frame::Frame;
use crate::record::Record;

mod candump;
mod crtd;
mod gvret_csv;

pub use candump::CandumpWriter;
pub use crtd::CrtdWriter;
pub use gvret_csv::GvretCsvWriter;

/// A writer failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Writing failed.
    #[error("write error: {0}")]
    Io(#[from] io::Error),
    /// This crate has no writer for the format.
    #[error("cannot write {0}: writable formats are crtd, candump and gvret-csv")]
    Unwritable(Format),
}

impl WriteError {
    /// True when the output was closed by the reader (e.g. `| head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, WriteError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Writes records of one format.
pub trait RecordWriter {
    /// Write one frame; `Ok(false)` if the format cannot represent it (counted as skipped).
    fn write_frame(&mut self, frame: &Frame) -> Result<bool, WriteError>;

    /// Write one record; `Ok(false)` if the format cannot represent it (counted as skipped).
    fn write_record(&mut self, record: &Record) -> Result<bool, WriteError>;

    /// Flush everything written so far.
    fn finish(&mut self) -> Result<(), WriteError>;

    /// How many records were skipped as not representable.
    fn skipped(&self) -> u64;

    /// The format written.
    fn format(&self) -> Format;
}

/// A writer of `format` over `out` (buffer `out` yourself, or use [`create`]).
pub fn writer<'a, W: Write + 'a>(
    format: Format,
    out: W,
) -> Result<Box<dyn RecordWriter + 'a>, WriteError> {
    Ok(match format {
        Format::Candump => Box::new(CandumpWriter::new(out)),
        Format::Crtd => Box::new(CrtdWriter::new(out)),
        Format::GvretCsv => Box::new(GvretCsvWriter::new(out)),
        other => return Err(WriteError::Unwritable(other)),
    })
}

/// Create (truncate) `path` and return a buffered writer of `format`.
pub fn create(path: &Path, format: Format) -> Result<Box<dyn RecordWriter>, WriteError> {
    if !format.is_writable() {
        return Err(WriteError::Unwritable(format));
    }
    let f = File::create(path)?;
    writer(format, BufWriter::with_capacity(64 * 1024, f))
}

const HEX_UP: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LO: &[u8; 16] = b"0123456789abcdef";

/// Append `v` as `width` uppercase hex digits.
pub(crate) fn push_hex(out: &mut Vec<u8>, v: u32, width: usize, upper: bool) {
    let t = if upper { HEX_UP } else { HEX_LO };
    for i in (0..width).rev() {
        out.push(t[((v >> (i * 4)) & 0xF) as usize]);
    }
}

/// Append a byte as two hex digits.
pub(crate) fn push_byte(out: &mut Vec<u8>, b: u8, upper: bool) {
    let t = if upper { HEX_UP } else { HEX_LO };
    out.push(t[usize::from(b >> 4)]);
    out.push(t[usize::from(b & 0xF)]);
}

/// Append a decimal number.
pub(crate) fn push_dec(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Append `ts_ns` as seconds with 6 decimals (`-0.364000`), truncated toward zero.
pub(crate) fn push_secs_us(out: &mut Vec<u8>, ts_ns: i64) {
    if ts_ns < 0 && ts_ns / 1000 != 0 {
        out.push(b'-');
    }
    let a = ts_ns.unsigned_abs() / 1000;
    push_dec(out, a / 1_000_000);
    out.push(b'.');
    let frac = a % 1_000_000;
    let mut tmp = [b'0'; 6];
    let mut f = frac;
    for i in (0..6).rev() {
        tmp[i] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.extend_from_slice(&tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_format() {
        let s = |ns| {
            let mut v = Vec::new();
            push_secs_us(&mut v, ns);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(166_064_000_000), "166.064000");
        assert_eq!(s(-364_000_000), "-0.364000");
        assert_eq!(s(0), "0.000000");
        assert_eq!(s(-999), "0.000000");
        assert_eq!(s(1_733_187_989_936_605_123), "1733187989.936605");
    }
}
