//! The one-pass `decode_fast` paths agree with the general `decode` on every line they take,
//! take exactly the line and its terminator, and leave the lines they must not take alone.

use super::{line_decoder, DecodeCtx, LineDecoder};
use crate::format::Format;
use crate::record::Record;
use crate::warnings::Warnings;

/// Feed `header` through `decode`, then check each line of `lines` with both paths. Every line
/// in `fast` must be taken by the fast path.
fn check(format: Format, header: &[&[u8]], lines: &[&[u8]], fast: &[&[u8]]) {
    for f in fast {
        assert!(lines.contains(f), "{}", String::from_utf8_lossy(f));
    }
    let fresh = || {
        let mut d = line_decoder(format);
        let mut w = Warnings::default();
        for h in header {
            let mut ctx = DecodeCtx {
                line: 1,
                warnings: &mut w,
            };
            assert_eq!(d.decode(h, &mut ctx), Ok(None));
        }
        d
    };
    for line in lines {
        let text = String::from_utf8_lossy(line);
        for term in [&b"\n"[..], b"\r\n"] {
            let mut buf = line.to_vec();
            buf.extend_from_slice(term);
            buf.extend_from_slice(b"next line, long enough for word loads\n");
            let mut general_dec = fresh();
            let mut w = Warnings::default();
            let mut ctx = DecodeCtx {
                line: 1,
                warnings: &mut w,
            };
            let general = general_dec.decode(line, &mut ctx);
            let mut fast_dec: Box<dyn LineDecoder> = fresh();
            match fast_dec.decode_fast(&buf) {
                Some((frame, n)) => {
                    assert_eq!(n, line.len() + term.len(), "{text}");
                    assert_eq!(general, Ok(Some(Record::Frame(frame))), "{text}");
                    assert!(w.is_empty(), "{text}: the general path warned");
                }
                None => assert!(!fast.contains(line), "fast path refused {text}"),
            }
        }
        // Without its terminator the line may continue in the next read: never taken.
        assert!(fresh().decode_fast(line).is_none(), "{text}");
        // A lone CR ends the line in the general path: left to it.
        let mut cr = line.to_vec();
        cr.extend_from_slice(b"\rnext line, long enough for word loads\n");
        assert!(fresh().decode_fast(&cr).is_none(), "{text}");
    }
}

#[test]
fn peak_trc_v1() {
    let lines: &[&[u8]] = &[
        b"     7)        26.1  Rx         0386  8  00 00 00 C0 00 40 00 80 ",
        b"     9)        28.8  Rx         0365  2  00 00",
        b"    10)        29.0  Tx     1FFFFFFF  1  ab ",
        b"    11)           0  Rx         0001  0 ",
        b"    12)        29.0  Rx         0001  0  RTR",
        b"    13)        29.0  Rx         0001  2  RTR",
        b"    14)        29.0  Rx         0001  2  00",
        b"    15)        29.0  Rx         0001  2  00 1",
        b"    16)        29.0  Rx         0001  2  00 11 22",
        b"    17)        29.0  Rx         0001  2  00\t11",
        b"    18)        29.0  Warng      0001  2  00 11",
        b"    19)       -29.0  Rx         0001  2  00 11",
        b"    20)   29.1234567  Rx         0001  2  00 11",
        b"    21)        29.0  Rx        20000000  2  00 11",
        b"    22)        29.0  Rx         0801  2  00 11",
        b"    23)        29.0  Rx         0801  9  00 11",
        b"    24)        29.0  Rx         0801  10  00 11",
        b"    25)        29.   Rx         0801  2  00 11",
        b"    26]        29.0  Rx         0801  2  00 11",
        b"; comment line",
        b"",
        b"   ",
    ];
    let fast: &[&[u8]] = &[lines[0], lines[1], lines[2], lines[3], lines[8], lines[14]];
    check(
        Format::PeakTrc,
        &[b";$FILEVERSION=1.1", b";$STARTTIME=45701.6875023264"],
        lines,
        fast,
    );
    // 1.3: bus and reserved columns.
    let lines: &[&[u8]] = &[
        b"     1)      1059.900 1  Rx        0300 -  8    00 00 00 00 04 00 00 00",
        b"     2)      1059.900 0  Rx        0300 -  8    00 00 00 00 04 00 00 00",
        b"     3)      1059.900 2  Rx        0300 x  8    00 00 00 00 04 00 00 00",
    ];
    check(Format::PeakTrc, &[b";$FILEVERSION=1.3"], lines, &lines[..1]);
}

#[test]
fn vector_asc_classic() {
    let head: &[&[u8]] = &[
        b"date Tue Dec 3 01:06:29.936 pm 2024",
        b"base hex  timestamps absolute",
    ];
    let lines: &[&[u8]] = &[
        b"   0.000189 1  164             Rx   d 4 00 08 12 1A",
        b"  53.221525 1  140             Rx   d 8 56 81 00 5C 20 00 0C 97  Length = 0 BitCount = 0 ID = 320",
        b"   1.5 2  1FFFFFFFx       Tx   d 0",
        b"   1.5 2  1FFFFFFFX       Tx   D 1 0f ",
        b"   1.5 1  800             Rx   d 1 00",
        b"   1.5 1  1FFFFFFFFx      Rx   d 1 00",
        b"   1.5 0  100             Rx   d 1 00",
        b"   1.5 1  100             TxRq d 1 00",
        b"   1.5 1  100             Rx   r 1",
        b"   1.5 1  100             Rx   d 2 00",
        b"   1.5 1  100             Rx   d 1 0",
        b"   1.5 1  ErrorFrame",
        b"   1.5 CANFD 1 Rx 100 1 0 8 8 00 11 22 33 44 55 66 77",
        b"   1.5 1  100             Rx   d 9 00",
        b"   1.5 1  100             Rx\td 1 00",
        b"   1.1234567891 1  100    Rx   d 1 00",
        b"   1.5 Start of measurement",
        b"Begin Triggerblock Tue Dec 3 01:06:29.936 pm 2024",
        b"// comment",
    ];
    check(Format::VectorAsc, head, lines, &lines[..4]);
    // Relative times and decimal bases are left to the general path.
    check(
        Format::VectorAsc,
        &[b"base dec  timestamps absolute"],
        &[b"   1.5 1  100             Rx   d 1 00"],
        &[],
    );
}
