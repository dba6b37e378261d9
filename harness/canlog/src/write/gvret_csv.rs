//! GVRET/SavvyCAN CSV writer.

use std::io::Write;

use super::{push_byte, push_dec, push_hex, RecordWriter, WriteError};
use crate::format::Format;
use crate::frame::{Direction, Frame};
use crate::record::Record;

/// Writes the SavvyCAN header with `Dir` (`Time Stamp,ID,Extended,Dir,Bus,LEN,D1,…,D8`) and one
/// line per frame: microsecond timestamp, 8-digit hex ID, `true`/`false`, `Rx`/`Tx`, bus, LEN, the
/// data bytes zero-padded to 8 columns (CAN FD: LEN columns), and SavvyCAN's trailing comma.
/// Remote and error frames and non-frame records are skipped (the format has no place for them).
pub struct GvretCsvWriter<W> {
    out: W,
    line: Vec<u8>,
    skipped: u64,
    header: bool,
}

impl<W: Write> GvretCsvWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        GvretCsvWriter {
            out,
            line: Vec::with_capacity(256),
            skipped: 0,
            header: false,
        }
    }
}

impl<W: Write> RecordWriter for GvretCsvWriter<W> {
    fn write_frame(&mut self, f: &Frame) -> Result<bool, WriteError> {
        if f.rtr || f.error || f.data.len() > 64 || (!f.fd && f.data.len() > 8) {
            self.skipped += 1;
            return Ok(false);
        }
        let l = &mut self.line;
        l.clear();
        if !self.header {
            self.header = true;
            l.extend_from_slice(b"Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8\n");
        }
        let us = f.ts_ns / 1000;
        if us < 0 {
            l.push(b'-');
        }
        push_dec(l, us.unsigned_abs());
        l.push(b',');
        push_hex(l, f.id & 0x1FFF_FFFF, 8, true);
        l.extend_from_slice(if f.extended { b",true," } else { b",false," });
        l.extend_from_slice(if f.dir == Direction::Tx {
            b"Tx,"
        } else {
            b"Rx,"
        });
        push_dec(l, u64::from(f.bus));
        l.push(b',');
        push_dec(l, f.data.len() as u64);
        l.push(b',');
        for &b in &f.data {
            push_byte(l, b, true);
            l.push(b',');
        }
        for _ in f.data.len()..8 {
            l.extend_from_slice(b"00,");
        }
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
        Format::GvretCsv
    }
}
