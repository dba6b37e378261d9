//! candump `-l` writer: `(<sec>.<usec>) can<bus> <ID>#<DATA>`.

use std::io::Write;

use super::{push_byte, push_hex, push_secs_us, RecordWriter, WriteError};
use crate::format::Format;
use crate::frame::Frame;
use crate::record::Record;

/// Writes candump `-l` lines. Standard IDs as 3 hex digits, extended as 8, error frames as 8 with
/// 0x20000000, remote frames `ID#R[len]`, CAN FD `ID##0DATA`. Events, metrics and comments have no
/// place in the format and are skipped. Direction is not recorded by the format.
pub struct CandumpWriter<W> {
    out: W,
    line: Vec<u8>,
    skipped: u64,
}

impl<W: Write> CandumpWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        CandumpWriter {
            out,
            line: Vec::with_capacity(256),
            skipped: 0,
        }
    }
}

/// Append `ID#DATA` (or the RTR/FD/error forms) for `f`.
pub(crate) fn push_frame(l: &mut Vec<u8>, f: &Frame) {
    if f.error {
        push_hex(l, 0x2000_0000 | (f.id & 0x1FFF_FFFF), 8, true);
    } else if f.extended {
        push_hex(l, f.id & 0x1FFF_FFFF, 8, true);
    } else {
        push_hex(l, f.id & 0x7FF, 3, true);
    }
    l.push(b'#');
    if f.rtr {
        l.push(b'R');
        if !f.data.is_empty() {
            l.push(b'0' + f.data.len().min(8) as u8);
        }
        return;
    }
    if f.fd {
        l.extend_from_slice(b"#0");
    }
    for &b in &f.data {
        push_byte(l, b, true);
    }
}

impl<W: Write> RecordWriter for CandumpWriter<W> {
    fn write_frame(&mut self, f: &Frame) -> Result<bool, WriteError> {
        if (!f.fd && f.data.len() > 8) || f.data.len() > 64 {
            self.skipped += 1;
            return Ok(false);
        }
        let l = &mut self.line;
        l.clear();
        l.push(b'(');
        push_secs_us(l, f.ts_ns);
        l.extend_from_slice(b") can");
        super::push_dec(l, u64::from(f.bus));
        l.push(b' ');
        push_frame(l, f);
        l.push(b'\n');
        self.out.write_all(l)?;
        Ok(true)
    }

    fn write_record(&mut self, record: &Record) -> Result<bool, WriteError> {
        match record {
            Record::Frame(f) => self.write_frame(f),
            _ => {
                self.skipped += 1;
                Ok(false)
            }
        }
    }

    fn finish(&mut self) -> Result<(), WriteError> {
        self.out.flush()?;
        Ok(())
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }

    fn format(&self) -> Format {
        Format::Candump
    }
}
