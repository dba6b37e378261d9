//! Table-driven malformed inputs: each gives a typed error at an exact line and column, read
//! whole and one byte at a time, strict and lenient; nothing panics.

use std::io::{self, BufRead, Read};

use ovms_canlog::{read, Format, LogError, ReadOptions, WarningKind};

/// A reader that hands out one byte per call (exercises every buffer boundary).
struct OneByte<'a>(&'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Ok(1)
    }
}

impl BufRead for OneByte<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(&self.0[..self.0.len().min(1)])
    }
    fn consume(&mut self, n: usize) {
        self.0 = &self.0[n..];
    }
}

/// The first error reading `input` strictly (creation or iteration).
fn first_error<R: BufRead>(r: R, format: Option<Format>) -> Option<LogError> {
    let opts = ReadOptions {
        format,
        lenient: false,
    };
    let reader = match read(r, "t.log", &opts) {
        Ok(r) => r,
        Err(e) => return Some(e),
    };
    reader.into_iter().find_map(Result::err)
}

const PCAP_LE: &[u8] = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\xe3\x00\x00\x00";

fn pcap_with(packet_header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = PCAP_LE.to_vec();
    v.extend_from_slice(packet_header);
    v.extend_from_slice(data);
    v
}

fn pcap_packet(data: &[u8]) -> Vec<u8> {
    let mut h = vec![1, 0, 0, 0, 0, 0, 0, 0];
    h.extend_from_slice(&(data.len() as u32).to_le_bytes());
    h.extend_from_slice(&(data.len() as u32).to_le_bytes());
    pcap_with(&h, data)
}

struct Case {
    name: &'static str,
    format: Option<Format>,
    input: Vec<u8>,
    line: u64,
    column: u64,
    expected: &'static str,
}

fn case(
    name: &'static str,
    format: Option<Format>,
    input: impl Into<Vec<u8>>,
    line: u64,
    column: u64,
    expected: &'static str,
) -> Case {
    Case {
        name,
        format,
        input: input.into(),
        line,
        column,
        expected,
    }
}

fn cases() -> Vec<Case> {
    use Format::*;
    let gv = "Time Stamp,ID,Extended,Bus,LEN,D1,D2\n";
    let mut huge = vec![b'('; 70_000];
    huge.extend_from_slice(b"\n(1.0) can0 123#00\n");
    let mut dlc9 = vec![0x00, 0x00, 0x01, 0x23, 9, 0, 0, 0];
    dlc9.extend_from_slice(&[0; 8]);
    vec![
        // detection
        case("empty file", None, "", 1, 1, "a CAN log"),
        case("binary garbage", None, b"\x00\x01\x02\xff\xfe\x80".to_vec(), 1, 1, "a CAN log"),
        case("prose", None, "hello world\nthis is not a log\n", 1, 1, "a CAN log"),
        case("BLF", None, b"LOGG\x90\x00\x00\x00".to_vec(), 1, 1, "BLF is not supported"),
        case("only blank lines", None, "\n\n   \n", 1, 1, "a CAN log"),
        // candump -l
        case("candump bad hex", None, "(1.0) can0 123#0G\n", 1, 17, "a second hex digit"),
        case("candump odd digits", None, "(1.0) can0 123#012\n", 1, 19, "a second hex digit"),
        case("candump 9 bytes", None, "(1.0) can0 123#000000000000000000\n", 1, 32, "after 8 data bytes"),
        case("candump 4-digit id", None, "(1.0) can0 1234#00\n", 1, 12, "3 hex digits"),
        case("candump id above 7FF", None, "(1.0) can0 800#00\n", 1, 12, "at most 7FF"),
        case("candump no #", Some(Candump), "(1.0) can0 12300\n", 1, 17, "`#`"),
        case("candump no parenthesis", Some(Candump), "1.0 can0 123#00\n", 1, 1, "`(`"),
        case("candump bad timestamp", None, "(1.x) can0 123#00\n", 1, 4, "timestamp"),
        case("candump truncated after ts", Some(Candump), "(1.0)\n", 1, 6, "an interface name"),
        case("candump truncated after iface", Some(Candump), "(1.0) can0\n", 1, 11, "a frame"),
        case("candump trailing junk", None, "(1.0) can0 123#00 X\n", 1, 19, "end of line"),
        case("candump error on line 2", None, "(1.0) can0 123#00\n(1.1) can0 123#0\n", 2, 17, "a second hex digit"),
        case("candump bad RTR length", None, "(1.0) can0 123#R9\n", 1, 17, "remote request length"),
        case("candump FD without flags", None, "(1.0) can0 123##\n", 1, 17, "flags"),
        case("garbage as candump", Some(Candump), b"\x00\xff\xfe\n".to_vec(), 1, 1, "`(`"),
        case("huge line", Some(Candump), huge, 1, 65_537, "at most 65536 bytes"),
        // CRTD
        case("crtd 11-bit id too big", None, "1.000000 1R11 800 00\n", 1, 15, "at most 7FF"),
        case("crtd unknown type", Some(Crtd), "1.000000 1X11 123\n", 1, 11, "CRTD record type"),
        case("crtd bus 0", Some(Crtd), "1.000000 0R11 123\n", 1, 10, "bus digit 1-9"),
        case("crtd no id", None, "1.000000 1R11\n", 1, 14, "11-bit hex CAN ID"),
        case("crtd 9 bytes", None, "1.000000 1R11 123 00 11 22 33 44 55 66 77 88\n", 1, 43, "after 8 data bytes"),
        case("crtd bad byte", None, "1.000000 1R11 123 0x\n", 1, 20, "hex digit"),
        case("crtd 3-digit byte", None, "1.000000 1R11 123 123\n", 1, 19, "one or two hex digits"),
        case("crtd bad timestamp", Some(Crtd), "abc 1R11 123\n", 1, 1, "timestamp"),
        case("crtd event without name", None, "1.000000 1CEV\n", 1, 14, "Event <name>"),
        case("crtd metric without value", None, "1.000000 1CMT Metric {\"name\":\"x\"}\n", 1, 21, "\"value\""),
        case("crtd 29-bit id too big", None, "1.000000 1R29 20000000 00\n", 1, 15, "at most 1FFFFFFF"),
        // GVRET CSV
        case("gvret missing header", Some(GvretCsv), "1,2,3\n", 1, 1, "header"),
        case("gvret bad Extended", None, format!("{gv}100,00000123,maybe,0,2,00,11\n"), 2, 14, "`true` or `false`"),
        case("gvret bad LEN", None, format!("{gv}100,00000123,false,0,9,00\n"), 2, 22, "CAN FD length"),
        case("gvret too few data columns", None, format!("{gv}100,00000123,false,0,3,00,11\n"), 2, 29, "data columns"),
        case("gvret bad hex byte", None, format!("{gv}100,00000123,false,0,2,0G,11\n"), 2, 25, "hex digit"),
        case("gvret bad timestamp", None, format!("{gv}1x0,00000123,false,0,2,00,11\n"), 2, 2, "microseconds"),
        case("gvret big id not extended", None, format!("{gv}100,00000800,false,0,0\n"), 2, 14, "29-bit ID"),
        case("gvret truncated line", None, format!("{gv}100,00000123\n"), 2, 13, "more columns"),
        case("gvret bus 300", None, format!("{gv}100,00000123,false,300,0\n"), 2, 20, "bus number"),
        // PEAK TRC
        case("peak DLC 9", None, ";$FILEVERSION=1.1\n     1)         6.1  Rx         0386  9  00\n", 2, 39, "data length 0-8"),
        case("peak no parenthesis", None, ";$FILEVERSION=1.1\n     1          6.1  Rx         0386  8\n", 2, 7, "`)`"),
        case("peak bad type", None, ";$FILEVERSION=1.1\n     1)         6.1  Xx         0386  2  00 00\n", 2, 22, "message type"),
        case("peak missing byte", None, ";$FILEVERSION=1.1\n     1)         6.1  Rx         0386  2  00\n", 2, 44, "a data byte"),
        case("peak bad version", None, ";$FILEVERSION=x.1\n", 1, 15, "file version"),
        // CARBUS TRC
        case("carbus DLC 9", None, "@ TEXT @\r46,016\t1\t0004\t45A\t9\t00\t\r", 2, 19, "DLC 0-8"),
        case("carbus bad time", None, "@ TEXT @\r46;016\t1\t0004\t45A\t1\t00\t\r", 2, 3, "decimal comma"),
        case("carbus truncated record", None, "@ TEXT @\r46,016\t1\r", 2, 9, "flags"),
        case("carbus more bytes than DLC", None, "@ TEXT @\r46,016\t1\t0004\t45A\t1\t00 11\t\r", 2, 24, "more bytes than the DLC"),
        // tattler CSV
        case("tattler unknown type", None, "TYPE,TIME,ID,D1\r\nXD11,0.1,100,00\r\n", 2, 1, "record type"),
        case("tattler id too big", None, "TYPE,TIME,ID,D1\r\nRD11,0.1,800,00\r\n", 2, 10, "at most 7FF"),
        case("tattler 3-digit byte", None, "TYPE,TIME,ID,D1\r\nRD11,0.1,100,100\r\n", 2, 14, "one or two hex digits"),
        case("tattler 9 bytes", None, "TYPE,TIME,ID,D1\r\nRD11,0.1,100,0,0,0,0,0,0,0,0,0\r\n", 2, 30, "after 8 data bytes"),
        // Vector ASC
        case("asc DLC 9", None, "date Mon\nbase hex  timestamps absolute\n   0.001 1  123  Rx   d 9 00\n", 3, 25, "DLC 0-8"),
        case("asc bad direction", Some(VectorAsc), "   0.001 1  123  Qx   d 1 00\n", 1, 18, "Rx or Tx"),
        case("asc 11-bit id too big", None, "date Mon\n   0.001 1  800  Rx   d 1 00\n", 2, 13, "11-bit CAN ID"),
        case("asc missing byte", None, "date Mon\n   0.001 1  123  Rx   d 2 00\n", 2, 29, "a data byte"),
        // pcap / pcapng (line = record, column = byte in record)
        case("pcap truncated header", None, b"\xd4\xc3\xb2\xa1\x02\x00".to_vec(), 0, 7, "24-byte pcap file header"),
        case("pcap wrong link type", None, b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x01\x00\x00\x00".to_vec(), 0, 21, "link type 227"),
        case("pcap truncated packet header", None, pcap_with(&[1, 2, 3, 4, 5], &[]), 1, 6, "16-byte packet header"),
        case("pcap huge packet length", None, pcap_with(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], &[]), 1, 9, "captured length"),
        case("pcap truncated packet data", None, pcap_with(&[0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0], &[0; 5]), 1, 22, "16 bytes of packet data"),
        case("pcap CAN length 9", None, pcap_packet(&dlc9), 1, 21, "data length"),
        case("pcap short SocketCAN frame", None, pcap_packet(&[0, 0, 1, 0x23]), 1, 17, "at least 8 bytes"),
        case("pcapng without section header", Some(Pcapng), b"\x01\x00\x00\x00\x0c\x00\x00\x00\x0c\x00\x00\x00".to_vec(), 1, 1, "Section Header Block"),
        case("pcapng bad byte-order magic", None, b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00".to_vec(), 1, 9, "byte-order magic"),
        case("pcapng truncated", None, b"\x0a\x0d\x0d\x0a\x1c\x00".to_vec(), 1, 7, "12-byte block header"),
    ]
}

#[test]
fn malformed_inputs_fail_at_the_exact_location() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        for (how, err) in [
            ("whole", first_error(&c.input[..], c.format)),
            ("byte-by-byte", first_error(OneByte(&c.input), c.format)),
        ] {
            let Some(err) = err else {
                failures.push(format!("{} ({how}): no error", c.name));
                continue;
            };
            let msg = err.to_string();
            let prefix = format!("t.log:{}:{}: expected ", c.line, c.column);
            if err.location() != (c.line, c.column)
                || !msg.starts_with(&prefix)
                || !msg.contains(c.expected)
            {
                failures.push(format!(
                    "{} ({how}): want {}:{} ~{:?}, got {msg}",
                    c.name, c.line, c.column, c.expected
                ));
            }
            if !msg.contains(", found ") {
                failures.push(format!("{} ({how}): no `found` part: {msg}", c.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lenient_mode_skips_and_records_where() {
    for c in cases() {
        let opts = ReadOptions {
            format: c.format,
            lenient: true,
        };
        let Ok(mut reader) = read(&c.input[..], "t.log", &opts) else {
            continue; // detection / header errors cannot be skipped
        };
        let mut errors = 0;
        for rec in reader.by_ref() {
            if let Err(e) = rec {
                // Only unrecoverable binary errors are still yielded.
                assert!(
                    matches!(
                        reader_format(&c),
                        Some(Format::Pcap | Format::Pcapng) | None
                    ),
                    "{}: {e}",
                    c.name
                );
                errors += 1;
            }
        }
        if errors == 0 {
            let w = reader.warnings();
            assert!(
                w.count(WarningKind::SkippedRecord) >= 1,
                "{}: nothing skipped",
                c.name
            );
            let first = w.first_of(WarningKind::SkippedRecord).next().unwrap();
            assert_eq!((first.line, first.column), (c.line, c.column), "{}", c.name);
        }
    }
}

fn reader_format(c: &Case) -> Option<Format> {
    c.format.or_else(|| {
        read(&c.input[..], "t", &ReadOptions::default())
            .ok()
            .map(|r| r.format())
    })
}

#[test]
fn huge_line_is_skipped_and_the_next_line_still_reads() {
    let mut input = vec![b'x'; 200_000];
    input.extend_from_slice(b"\r\n(1.0) can0 123#00\n");
    let opts = ReadOptions {
        format: Some(Format::Candump),
        lenient: true,
    };
    let mut r = read(&input[..], "big", &opts).unwrap();
    let frames: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(r.warnings().count(WarningKind::SkippedRecord), 1);
    let w = r
        .warnings()
        .first_of(WarningKind::SkippedRecord)
        .next()
        .unwrap();
    assert_eq!((w.line, w.column), (1, 65_537));
}

#[test]
fn empty_input_with_a_forced_text_format_is_an_empty_log() {
    for f in [
        Format::Candump,
        Format::Crtd,
        Format::GvretCsv,
        Format::VectorAsc,
        Format::PeakTrc,
    ] {
        let r = read(&b""[..], "e", &ReadOptions::with_format(f)).unwrap();
        assert_eq!(r.count(), 0);
    }
    for f in [Format::Pcap, Format::Pcapng] {
        let e = read(&b""[..], "e", &ReadOptions::with_format(f))
            .err()
            .unwrap();
        assert!(e.to_string().contains("end of file"), "{e}");
    }
}

#[test]
fn strict_mode_reports_every_bad_line_and_keeps_going() {
    let input = "(1.0) can0 123#00\n(1.1) can0 12G#00\n(1.2) can0 124#01\n(1.3) can0 125#0\n";
    let r = read(input.as_bytes(), "s", &ReadOptions::default()).unwrap();
    let out: Vec<_> = r.collect();
    assert_eq!(out.len(), 4);
    assert!(out[0].is_ok() && out[2].is_ok());
    assert_eq!(out[1].as_ref().unwrap_err().location(), (2, 14));
    assert_eq!(out[3].as_ref().unwrap_err().location(), (4, 17));
}
