//! Format detection from the first bytes of the content (never from the file name).

use crate::format::Format;
use crate::parse::{found_at, Fields};

/// How many bytes detection looks at.
pub(crate) const PEEK_LEN: usize = 8 * 1024;

/// Why detection failed.
#[derive(Debug)]
pub(crate) struct DetectError {
    pub line: u64,
    pub column: u64,
    pub expected: &'static str,
    pub found: String,
}

const EXPECTED: &str = "a CAN log (crtd, candump, candump-screen, gvret-csv, peak-trc, carbus-trc, vector-asc, tattler-csv, pcap, pcapng)";

/// Detect the format of `head` (the first bytes of the input).
pub(crate) fn detect(head: &[u8]) -> Result<Format, DetectError> {
    if head.is_empty() {
        return Err(DetectError {
            line: 1,
            column: 1,
            expected: EXPECTED,
            found: "an empty file".to_string(),
        });
    }
    if head.len() >= 4 {
        match [head[0], head[1], head[2], head[3]] {
            [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1] => return Ok(Format::Pcap),
            [0x0a, 0x0d, 0x0d, 0x0a] => return Ok(Format::Pcapng),
            [b'L', b'O', b'G', b'G'] => {
                return Err(DetectError {
                    line: 1,
                    column: 1,
                    expected:
                        "a supported CAN log (Vector BLF is not supported: convert it to ASC)",
                    found: "a Vector BLF file (\"LOGG\")".to_string(),
                })
            }
            _ => {}
        }
    }
    let mut line_no = 0u64;
    let mut first_bad: Option<(u64, String)> = None; // (line, excerpt)
    for line in head.split(|&b| b == b'\n' || b == b'\r') {
        line_no += 1;
        // With CRLF, split yields an empty piece between CR and LF; it is not a line of its own.
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        if let Some(f) = classify(line) {
            return Ok(f);
        }
        if first_bad.is_none() {
            first_bad = Some((line_no, found_at(line, 0)));
        }
        if line_no > 64 {
            break;
        }
    }
    // Detection looks at the whole head, so the error points at the start of the file; the
    // excerpt is the first non-blank line's start.
    let found = first_bad.map_or_else(|| "only blank lines".to_string(), |(_, f)| f);
    Err(DetectError {
        line: 1,
        column: 1,
        expected: EXPECTED,
        found,
    })
}

fn starts(line: &[u8], p: &[u8]) -> bool {
    line.len() >= p.len() && line[..p.len()].eq_ignore_ascii_case(p)
}

fn is_decimal(tok: &[u8]) -> bool {
    let t = tok.strip_prefix(b"-").unwrap_or(tok);
    !t.is_empty()
        && t.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        && t.iter().filter(|&&b| b == b'.').count() <= 1
        && t.iter().any(|b| b.is_ascii_digit())
}

fn is_crtd_type(tok: &[u8]) -> bool {
    let t = match tok.first() {
        Some(b'0'..=b'9') => &tok[1..],
        _ => tok,
    };
    matches!(
        t,
        b"R11"
            | b"R29"
            | b"T11"
            | b"T29"
            | b"CXX"
            | b"CVR"
            | b"CEV"
            | b"CMT"
            | b"CER"
            | b"CST"
            | b"CBC"
            | b"CDP"
            | b"CDR"
            | b"CFC"
            | b"CFA"
    )
}

/// Classify one non-blank line; `None` when it says nothing decisive.
fn classify(line: &[u8]) -> Option<Format> {
    let t = crate::parse::trim(line);
    if starts(t, b"@ TEXT @") {
        return Some(Format::CarbusTrc);
    }
    if t.starts_with(b";") {
        return Some(Format::PeakTrc);
    }
    if starts(t, b"date ")
        || starts(t, b"base ")
        || starts(t, b"begin triggerblock")
        || starts(t, b"internal events")
        || starts(t, b"no internal events")
    {
        return Some(Format::VectorAsc);
    }
    if t.starts_with(b"~~~")
        || starts(t, b"TYPE,TIME,ID")
        || starts(t, b"RD11,")
        || starts(t, b"TD11,")
    {
        return Some(Format::TattlerCsv);
    }
    if starts(t, b"Time Stamp,") {
        return Some(Format::GvretCsv);
    }
    if t.starts_with(b"#") || t.starts_with(b"//") {
        return None; // comment of CRTD (#) or ASC (//): look further
    }
    let mut f = Fields::blank(t);
    let a = f.next().map(|x| x.1)?;
    let b = f.next().map(|x| x.1);
    let c = f.next().map(|x| x.1);
    if a.starts_with(b"(") && a.ends_with(b")") {
        // candump -l `(ts) iface ID#DATA`, or candump -t screen `(ts)  can0  123   [8]  …`
        if let Some(c) = c {
            if c.contains(&b'#') {
                return Some(Format::Candump);
            }
            if c.starts_with(b"[") {
                return None;
            }
            if f.next().is_some_and(|(_, d)| d.starts_with(b"[")) {
                return Some(Format::CandumpScreen);
            }
        }
        return None;
    }
    if b.is_some_and(|b| is_decimal(a) && is_crtd_type(b)) {
        return Some(Format::Crtd);
    }
    if let (Some(b), Some(c)) = (b, c) {
        if c.starts_with(b"[") && c.ends_with(b"]") && b.iter().all(u8::is_ascii_hexdigit) {
            return Some(Format::CandumpScreen);
        }
        let d = f.next().map(|x| x.1);
        if is_decimal(a)
            && (b == b"CANFD"
                || (b.iter().all(u8::is_ascii_digit)
                    && (c.eq_ignore_ascii_case(b"ErrorFrame")
                        || matches!(d, Some(b"Rx" | b"Tx" | b"TxRq")))))
        {
            return Some(Format::VectorAsc);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_one_line() {
        let cases: &[(&[u8], Format)] = &[
            (b"1.000000 1R11 123 01 02\n", Format::Crtd),
            (b"166.064000 CXX GVRET-PC\n", Format::Crtd),
            (b"(1.000000) can0 123#0102\n", Format::Candump),
            (b"  can0  123   [2]  01 02\n", Format::CandumpScreen),
            (
                b" (1.000000)  can0  123   [2]  01 02\n",
                Format::CandumpScreen,
            ),
            (b"Time Stamp,ID,Extended,Bus,LEN,D1\n", Format::GvretCsv),
            (b";$FILEVERSION=1.1\n", Format::PeakTrc),
            (b"@ TEXT @ 2 @\r46,016\t1\r", Format::CarbusTrc),
            (b"date Mon Jan 1 00:00:00 2024\n", Format::VectorAsc),
            (b"   0.001234 1  123  Rx   d 8 11 22\n", Format::VectorAsc),
            (b"~~~~\r\ntitle\r\n", Format::TattlerCsv),
            (b"\xa1\xb2\xc3\xd4rest", Format::Pcap),
            (b"\x0a\x0d\x0d\x0arest", Format::Pcapng),
        ];
        for (head, want) in cases {
            assert_eq!(
                detect(head).unwrap(),
                *want,
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn rejects_empty_garbage_and_blf() {
        assert_eq!(detect(b"").unwrap_err().found, "an empty file");
        assert!(detect(b"hello world\n").is_err());
        assert!(detect(b"LOGG\x00\x00").unwrap_err().found.contains("BLF"));
        assert!(detect(b"\x00\x01\x02\x03\xff").is_err());
    }
}
