//! The CRTD lines the firmware's CAN log "simulate" server accepts, decoded without I/O.
//!
//! Rules (as `canformat_crtd::put` reads them):
//! - a line not starting with an ASCII digit is ignored (`#` comments, blank lines);
//! - the timestamp token (up to the first space) is skipped, its value is not used;
//! - an optional single bus digit follows (`1` = CAN1 when absent), then the record type;
//! - `R11`/`R29`/`T11`/`T29 <hexid> <byte>...` is a frame (ID in hex of either case, no padding
//!   needed, up to 8 hex bytes);
//! - `CBC`, `CDP`, `CDR`, `CFC`, `CFA` are bus commands (`CDP`/`CDR` pause and resume);
//! - every other record (`CXX`, `CEV`, `CMT`, `CER`, `CST`, `CVR`, ...) is ignored.
//!
//! Columns in errors count from 1, in characters of the line.

/// One decoded line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrtdRecord {
    /// A frame to feed to the module as received on `bus` (0-based: CAN1 is 0).
    Frame {
        /// Bus, 0-based.
        bus: u8,
        /// Identifier.
        id: u32,
        /// 29-bit identifier.
        extended: bool,
        /// Data bytes (0..=8).
        data: Vec<u8>,
    },
    /// `CDP`: pause feeding frames.
    Pause,
    /// `CDR`: resume feeding frames.
    Resume,
    /// A record the simulate server ignores (comments, headers, events, metrics, bus commands
    /// without meaning for an emulated bus).
    Ignored,
}

/// A malformed frame line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: expected {expected}, found {found:?}")]
pub struct CrtdError {
    /// 1-based column of the offending token.
    pub column: usize,
    /// What was expected there.
    pub expected: &'static str,
    /// What was found (`end of line` when missing).
    pub found: String,
}

/// Decode one line (without its line ending).
pub fn parse_line(line: &str) -> Result<CrtdRecord, CrtdError> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if !line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Ok(CrtdRecord::Ignored);
    }
    let mut tokens = Tokens::new(line);
    tokens.next(); // the timestamp
    let Some((col, rec)) = tokens.next() else {
        return Err(CrtdError {
            column: line.chars().count() + 1,
            expected: "a record type after the timestamp",
            found: "end of line".into(),
        });
    };
    let (bus, kind) = match rec.as_bytes().first() {
        Some(d) if d.is_ascii_digit() && rec.len() > 1 => {
            if *d == b'0' {
                return Err(CrtdError {
                    column: col,
                    expected: "a bus digit 1-9",
                    found: "0".into(),
                });
            }
            (d - b'1', &rec[1..])
        }
        _ => (0, rec),
    };
    let extended = match kind {
        "R11" | "T11" => false,
        "R29" | "T29" => true,
        "CDP" => return Ok(CrtdRecord::Pause),
        "CDR" => return Ok(CrtdRecord::Resume),
        _ => return Ok(CrtdRecord::Ignored),
    };
    let end_col = line.chars().count() + 1;
    let (id_col, id_text) = tokens.next().ok_or_else(|| CrtdError {
        column: end_col,
        expected: "a hex CAN identifier",
        found: "end of line".into(),
    })?;
    let id = u32::from_str_radix(id_text, 16).map_err(|_| CrtdError {
        column: id_col,
        expected: "a hex CAN identifier",
        found: id_text.into(),
    })?;
    let max = if extended { 0x1FFF_FFFF } else { 0x7FF };
    if id > max {
        return Err(CrtdError {
            column: id_col,
            expected: if extended {
                "a 29-bit identifier (at most 1FFFFFFF)"
            } else {
                "an 11-bit identifier (at most 7FF)"
            },
            found: id_text.into(),
        });
    }
    let mut data = Vec::with_capacity(8);
    for (col, byte) in tokens {
        if data.len() == 8 {
            return Err(CrtdError {
                column: col,
                expected: "at most 8 data bytes",
                found: byte.into(),
            });
        }
        let ok = byte.len() <= 2 && !byte.is_empty();
        let v = u8::from_str_radix(byte, 16)
            .ok()
            .filter(|_| ok)
            .ok_or_else(|| CrtdError {
                column: col,
                expected: "a hex data byte",
                found: byte.into(),
            })?;
        data.push(v);
    }
    Ok(CrtdRecord::Frame {
        bus,
        id,
        extended,
        data,
    })
}

/// Space-separated tokens with their 1-based character columns.
struct Tokens<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn new(line: &'a str) -> Self {
        Tokens { line, pos: 0 }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.line[self.pos..];
        let skip = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let start = self.pos + skip;
        if start >= self.line.len() {
            self.pos = self.line.len();
            return None;
        }
        let len = self.line[start..]
            .find([' ', '\t'])
            .unwrap_or(self.line.len() - start);
        self.pos = start + len;
        let column = self.line[..start].chars().count() + 1;
        Some((column, &self.line[start..start + len]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bus: u8, id: u32, extended: bool, data: &[u8]) -> CrtdRecord {
        CrtdRecord::Frame {
            bus,
            id,
            extended,
            data: data.to_vec(),
        }
    }

    #[test]
    fn frames_with_and_without_bus_digit() {
        assert_eq!(
            parse_line("1542473901.020305 1R11 213 00 00 00 00 c0 01 00 00").unwrap(),
            frame(0, 0x213, false, &[0, 0, 0, 0, 0xc0, 1, 0, 0])
        );
        assert_eq!(
            parse_line("12.5 R11 3b4 A1 2").unwrap(),
            frame(0, 0x3b4, false, &[0xa1, 2])
        );
        assert_eq!(
            parse_line("3 2T29 18DAF110 02 10 03").unwrap(),
            frame(1, 0x18DA_F110, true, &[2, 0x10, 3])
        );
        assert_eq!(
            parse_line("3 1R11 100").unwrap(),
            frame(0, 0x100, false, &[])
        );
        assert_eq!(
            parse_line("3 1R11 100\r").unwrap(),
            frame(0, 0x100, false, &[])
        );
    }

    #[test]
    fn non_frame_lines_are_ignored() {
        for l in [
            "",
            "# comment",
            "  1 R11 100",
            "0.000000 CXX OVMS CRTD",
            "0 CVR 3.1",
            "1 1CEV Event x",
            "1 1CMT Metric {}",
            "1 1CER Error intr=1",
            "1 3CBC A 500000",
        ] {
            assert_eq!(parse_line(l).unwrap(), CrtdRecord::Ignored, "{l:?}");
        }
        assert_eq!(parse_line("1 CDP").unwrap(), CrtdRecord::Pause);
        assert_eq!(parse_line("1 1CDR").unwrap(), CrtdRecord::Resume);
    }

    #[test]
    fn errors_name_the_column() {
        let e = parse_line("1.0 1R11 zz 00").unwrap_err();
        assert_eq!(
            (e.column, e.expected, e.found.as_str()),
            (10, "a hex CAN identifier", "zz")
        );
        let e = parse_line("1.0 1R11 100 00 0g").unwrap_err();
        assert_eq!((e.column, e.found.as_str()), (17, "0g"));
        let e = parse_line("1.0 1R11 800").unwrap_err();
        assert!(e.expected.contains("11-bit"));
        let e = parse_line("1.0 1R11").unwrap_err();
        assert_eq!((e.column, e.found.as_str()), (9, "end of line"));
        let e = parse_line("1.0 1R11 1 0 1 2 3 4 5 6 7 8").unwrap_err();
        assert_eq!(e.expected, "at most 8 data bytes");
        let e = parse_line("1.0").unwrap_err();
        assert_eq!(e.column, 4);
        assert!(parse_line("1.0 0R11 100").is_err());
        assert!(parse_line("1.0 1R11 100 123").is_err());
    }
}
