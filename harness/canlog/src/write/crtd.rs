//! CRTD writer, OVMS flavour (module-facts §7.1).

use std::io::Write;

use super::{push_byte, push_hex, push_secs_us, RecordWriter, WriteError};
use crate::format::Format;
use crate::frame::{Direction, Frame};
use crate::record::Record;

/// Writes OVMS CRTD 3.1: a `<ts> CXX OVMS CRTD` / `<ts> CVR 3.1` header (timestamp of the first
/// record), then `<ts> <bus+1><R|T><11|29> <ID> <bytes>` with uppercase IDs (3 or 8 digits) and
/// lowercase bytes, `1CEV Event <name>`, `1CMT Metric {"name": …, "value": …}` and
/// `1CXX <text>` comments (a comment that came from a CRTD `CER`/`CST`/`CBC`/`CFA` record keeps
/// its tag, and a read-back `OVMS CRTD` / `CVR 3.1` header is not repeated). Frames CRTD cannot hold (CAN FD, more than 8 bytes, remote, error
/// frames, bus above 8) are skipped.
pub struct CrtdWriter<W> {
    out: W,
    line: Vec<u8>,
    skipped: u64,
    header: bool,
    last_ts: i64,
}

impl<W: Write> CrtdWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        CrtdWriter {
            out,
            line: Vec::with_capacity(256),
            skipped: 0,
            header: false,
            last_ts: 0,
        }
    }

    fn header(&mut self, ts: i64) -> Result<(), WriteError> {
        if !self.header {
            self.header = true;
            let l = &mut self.line;
            l.clear();
            push_secs_us(l, ts);
            l.extend_from_slice(b" CXX OVMS CRTD\n");
            push_secs_us(l, ts);
            l.extend_from_slice(b" CVR 3.1\n");
            self.out.write_all(l)?;
        }
        Ok(())
    }

    fn tagged(&mut self, ts: i64, tag: &[u8], text: &str) -> Result<bool, WriteError> {
        if text.contains(['\n', '\r']) {
            self.skipped += 1;
            return Ok(false);
        }
        self.header(ts)?;
        let l = &mut self.line;
        l.clear();
        push_secs_us(l, ts);
        l.push(b' ');
        l.extend_from_slice(tag);
        l.extend_from_slice(text.as_bytes());
        l.push(b'\n');
        self.out.write_all(l)?;
        Ok(true)
    }
}

impl<W: Write> RecordWriter for CrtdWriter<W> {
    fn write_frame(&mut self, f: &Frame) -> Result<bool, WriteError> {
        if f.fd || f.rtr || f.error || f.data.len() > 8 || f.bus > 8 {
            self.skipped += 1;
            return Ok(false);
        }
        self.header(f.ts_ns)?;
        self.last_ts = f.ts_ns;
        let l = &mut self.line;
        l.clear();
        push_secs_us(l, f.ts_ns);
        l.push(b' ');
        l.push(b'1' + f.bus);
        l.push(if f.dir == Direction::Tx { b'T' } else { b'R' });
        if f.extended {
            l.extend_from_slice(b"29 ");
            push_hex(l, f.id & 0x1FFF_FFFF, 8, true);
        } else {
            l.extend_from_slice(b"11 ");
            push_hex(l, f.id & 0x7FF, 3, true);
        }
        for &b in &f.data {
            l.push(b' ');
            push_byte(l, b, false);
        }
        l.push(b'\n');
        self.out.write_all(l)?;
        Ok(true)
    }

    fn write_record(&mut self, record: &Record) -> Result<bool, WriteError> {
        match record {
            Record::Frame(f) => self.write_frame(f),
            Record::Event { ts_ns, name } => {
                self.last_ts = *ts_ns;
                if name.is_empty() || name.contains(char::is_whitespace) {
                    self.skipped += 1;
                    return Ok(false);
                }
                self.tagged(*ts_ns, b"1CEV Event ", name)
            }
            Record::Metric { ts_ns, name, value } => {
                self.last_ts = *ts_ns;
                let name_json = serde_json::Value::String(name.clone()).to_string();
                let text = format!("{{ \"name\": {name_json}, \"value\": {value} }}");
                self.tagged(*ts_ns, b"1CMT Metric ", &text)
            }
            Record::Comment { ts_ns, text } => {
                let ts = ts_ns.unwrap_or(self.last_ts);
                if text == "OVMS CRTD" || text == "CVR 3.1" {
                    // A CRTD header read back: this writer writes its own, once.
                    self.header(ts)?;
                    return Ok(true);
                }
                let tag = text.get(..4).unwrap_or("");
                if matches!(tag, "CER " | "CST " | "CBC " | "CFA ") {
                    // A bus-status / command record read from CRTD keeps its tag.
                    return self.tagged(ts, b"1", text);
                }
                self.tagged(ts, b"1CXX ", text)
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
        Format::Crtd
    }
}
