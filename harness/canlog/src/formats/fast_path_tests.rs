//! The one-pass `decode_fast` paths agree with the general `decode` on every line they take,
//! take exactly the line and its terminator, and leave the lines they must not take alone.

use super::{line_decoder, DecodeCtx};
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
            let mut fast_dec = fresh();
            match fast_dec.decode_fast_owned(&buf) {
                Some((frame, n)) => {
                    assert_eq!(n, line.len() + term.len(), "{text}");
                    assert_eq!(general, Ok(Some(Record::Frame(frame))), "{text}");
                    assert!(w.is_empty(), "{text}: the general path warned");
                }
                None => assert!(!fast.contains(line), "fast path refused {text}"),
            }
        }
        // Any cut of the buffer (a read ends anywhere): no panic, and a line is only taken
        // whole, with its terminator.
        let mut buf = line.to_vec();
        buf.extend_from_slice(b"\r\n");
        for k in 0..buf.len() {
            if let Some((_, n)) = fresh().decode_fast_owned(&buf[..k]) {
                panic!("{text}: took {n} bytes of a {k}-byte cut");
            }
        }
        // Without its terminator the line may continue in the next read: never taken.
        assert!(fresh().decode_fast_owned(line).is_none(), "{text}");
        // A lone CR ends the line as well.
        let mut cr = line.to_vec();
        cr.extend_from_slice(b"\rnext line, long enough for word loads\n");
        if let Some((frame, n)) = fresh().decode_fast_owned(&cr) {
            assert_eq!(n, line.len() + 1, "{text}");
            let mut w = Warnings::default();
            let mut ctx = DecodeCtx {
                line: 1,
                warnings: &mut w,
            };
            assert_eq!(
                fresh().decode(line, &mut ctx),
                Ok(Some(Record::Frame(frame)))
            );
        }
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
    // A later 1.x minor version reads like 1.3.
    check(Format::PeakTrc, &[b";$FILEVERSION=1.4"], lines, &lines[..1]);
    // 1.2: bus column, no reserved column.
    let lines: &[&[u8]] = &[
        b"     1)      1059.900 1  Rx        0300  2  00 11",
        b"     2)      1059.900 256  Tx        0300  1  00",
        b"     3)      1059.900 0  Rx        0300  2  00 11",
        b"     4)      1059.900 257  Rx        0300  2  00 11",
        b"     5)      1059.900 1  Rx        0300 -  2  00 11",
        b"     6)      1059.900 Rx        0300  2  00 11",
    ];
    check(Format::PeakTrc, &[b";$FILEVERSION=1.2"], lines, &lines[..2]);
    // 1.0: no direction column.
    let lines: &[&[u8]] = &[
        b"     1)      1059.9  0300  2  00 11",
        b"     2)         0  1FFFFFFF  0",
        b"     3)      1059.9  Rx  0300  2  00 11",
        b"     4)      1059.9  0300  2  00 1G",
    ];
    check(Format::PeakTrc, &[b";$FILEVERSION=1.0"], lines, &lines[..2]);
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

#[test]
fn crtd_frames() {
    let lines: &[&[u8]] = &[
        b"166.064000 R11 0000021A FE 36 12 FE 69 05 07 AD ",
        b"1542473901.020305 1R11 213 00 01",
        b"1542473901.020305 2T29 1FFFFFFF 0 1 2 3 4 5 6 7",
        b"1542473901 3R11 7FF",
        b"1542473901.5 3R11 7FF   ",
        b"1.5 R29 0000021a fe 3 12 F 69 05 7 aD ",
        b"1.5 R11 21A 0 1  2 3",
        b"1.5 R11 21A 00 11 22 33 44 55 66 77",
        b"1.5 T29 1fFfFfFf 00",
        b"1.5 T11 00000000",
        b"1542473901.5 3R11 7FF 0 1 2 3 4 5 6 7 8",
        b"1.5 R11 0000021G 00",
        b"1.5 R11 00000021A 00",
        b"1.5 r11 21A 00",
        b"1.5 R11\t21A 00",
        b"1.5 R11  21A 00",
        b"1.5 R1121A 00",
        b"1542473901.5 3R11 7FF 00 11 22 33 44 55 66 77 88",
        b"1.5 R11 21A 00 11 22 33 44 55 66 77 8",
        b"1.5 R11 21A 00 11 2G",
        b"1.5 R11 21A 00 11,22",
        b"1.5 R11 21A 00 11 22x",
        b"1.5 R11 21A 00 11 223",
        b"1.5 R29 1FFFFFFFF 00",
        b"1.5 R29 FFFFFFFF 00",
        b"1542473901.5 3R11 800 00",
        b"1542473901.5 0R11 100 00",
        b"1542473901.5 1R11 100 000",
        b"1542473901.5 1R11 100 0G",
        b"1542473901.5 1R11 100\t00",
        b"1542473901.5 1R12 100 00",
        b"1542473901.5 1R11 100 00\t",
        b"1542473901.5 1R11",
        b"1542473901.5 1CXX hello",
        b"1542473901.5 1CEV Event vehicle.on",
        b"-1.5 1R11 100 00",
        b"1.1234567891 1R11 100 00",
        b"# a comment",
        b"",
    ];
    check(Format::Crtd, &[], lines, &lines[..10]);
}

#[test]
fn gvret_csv_layouts() {
    let lines: &[&[u8]] = &[
        b"19536135000,00000109,false,0,8,00,01,00,FF,FF,FF,0F,3D",
        b"19536135000,1FFFFFFF,true,1,2,0,1,,,,,,",
        b"1.5,7FF,False,255,0,",
        b"1.5,7FF,False,255,0",
        b"1.5,7FF,False,255,2,00,11,whatever,else",
        b"1.5,7fF,false,3,8,a,0b,C,dd,e,F,10,1",
        b"1.5,7FF,false,0,3,00,11,22,33,44",
        b"1.5,7FF,false,0,8,00,11,22,33,44,55,66,77",
        b"1.5,1FFFFFFF,TRUE,0,1,00",
        b"1.5,0001FFFF,True,0,1,00",
        b"1.5,7FF,FALSE,0,1,00",
        b"1.5,7FF,fALSE,0,1,00",
        b"1.5,7FF,tRUE,0,1,00",
        b"1.5,7FF,true ,0,1,00",
        b"1.5,7FF,falsey,0,1,00",
        b"1.5,7FF,false",
        b"1.5,100000000,true,0,1,00",
        b"1.5,0000010G,false,0,1,00",
        b"1.5,800,false,0,1,00",
        b"1.5,7FF,false,0,3,00,11,2G",
        b"1.5,7FF,false,0,3,00,11,2 ",
        b"1.5,7FF,false,0,3,00,11,222",
        b"1.5,20000000,true,0,1,00",
        b"1.5,100,false,256,1,00",
        b"1.5,100,false,0,9,00,11,22,33,44,55,66,77,88",
        b"1.5,100,false,0,2,00",
        b"1.5,100,false,0,2,00,111",
        b"1.5,100,false,0,2,00, 11",
        b"1.5,100,maybe,0,2,00,11",
        b"-1.5,100,false,0,1,00",
        b"1.5555,100,false,0,1,00",
        b"1.5,100,false,0,12,00,11,22,33,44,55,66,77,88,99,AA,BB",
        b"",
    ];
    check(
        Format::GvretCsv,
        &[b"Time Stamp,ID,Extended,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8"],
        lines,
        &lines[..10],
    );
    let lines: &[&[u8]] = &[
        b"19536135000,00000109,false,Tx,0,2,00,01,,,,,,",
        b"19536135000,00000109,false,Qx,0,2,00,01,,,,,,",
    ];
    check(
        Format::GvretCsv,
        &[b"Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8"],
        lines,
        &lines[..1],
    );
    // Another column order: left to the general path.
    check(
        Format::GvretCsv,
        &[b"Time Stamp,Extended,ID,Bus,LEN,D1,D2"],
        &[b"1.5,false,100,0,1,00"],
        &[],
    );
}

#[test]
fn candump_cuts() {
    let lines: &[&[u8]] = &[
        b"(1733187989.936605) can0 153#208010FF00FF802E",
        b"(1733187989.936605) can0 1FFFFFFF#",
        b"(1.5) vcan12 7FF#00",
        b"(1.5) can0 7ff#0011223344556677",
        b"(1.5) can0 1fffFFFF#aAbBcCdDeEfF0918",
        b"(1.5) can0 123#0011223344",
        b"(1.5) can0 123#00112233445566",
        b"(1.5) can0 7FF#00 T",
        b"(1.5) can0 7FF#R",
        b"(1.5) can0 7FF#001122334455667788",
        b"(1.5) can0 7FF#00112233445566778",
        b"(1.5) can0 7FF#0011223344556677_9",
        b"(1.5) can0 7FF#001",
        b"(1.5) can0 7FF#0G",
        b"(1.5) can0 7FF#00.11",
        b"(1.5) can0 7F#00",
        b"(1.5) can0 7FFF#00",
        b"(1.5) can0 1FFFFFFFF#00",
        b"(1.5) can0 3FFFFFFF#00",
        b"(1.5) can0 G23#00",
    ];
    check(Format::Candump, &[], lines, &lines[..7]);
}

#[test]
fn carbus_trc_records() {
    let lines: &[&[u8]] = &[
        b"47,016\t1\t0004\t45A\t8\t5A 04 00 00 00 00 00 00\t00000000\t$       \t",
        b"47.016\t1\t0004\t1FFFFFFF\t2\t5A 04\t00000000\tZ",
        b"47,016\t2\t0004\t045\t0\t\t00000000\t",
        b"47,016\t1\t0004\t45A\t2\t5A  04 \t",
        b"47,016\t1\t0004\t45a\t3\t 5a 0B cC",
        b"47,016\t1\t0004\t45A\t2\t5A 04 11\t",
        b"47,016\t1\t0004\t45A\t3\t5A 04 1\t",
        b"47,016\t1\t0004\t45A\t3\t5A 04 1G\t",
        b"47,016\t1\t0004\t45A\t3\t5A 04 11x\t",
        b"47,016\t1\t0004\t45A\t3\t5A 04 111\t",
        b"47,\t1\t0004\t45A\t1\t5A\t",
        b",5\t1\t0004\t45A\t1\t5A\t",
        b"47\t1\t0004\t45A\t1\t5A\t",
        b"47,016\t1\t0004\t45A\t2\t5A\t",
        b"47,016\t0\t0004\t45A\t1\t5A\t",
        b"47,016\t1\t0004\t20000000\t1\t5A\t",
        b"47,016\t1\t0004\t45A\t9\t5A\t",
        b"47.0,16\t1\t0004\t45A\t1\t5A\t",
        b"47,016 \t1\t0004\t45A\t1\t5A\t",
        b"47,016\t1\t0004\t45A\t1\t5A4\t",
        b"@ TEXT @ 1 @ 2 @",
        b"",
    ];
    check(Format::CarbusTrc, &[], lines, &lines[..5]);
}

#[test]
fn tattler_csv_records() {
    let lines: &[&[u8]] = &[
        b"RD11,0.0518,100,88,7F,FF,FF,FF,FF,FF,46",
        b"RD29,12.5,1FFFFFFF,0,A",
        b"TD11,0.0518,100,88,,7F",
        b"RD11,0.0518,100",
        b"RD11,0.0518,100,",
        b"RD11,1,7fF,a,0B,c,Dd,e,f,0,1",
        b"RD11,1,7FF,0,11,2,33,,",
        b"TD29,1,1FFFFFFF,0",
        b"RD11,1,7FF,0,11,2G",
        b"rd11,1,7FF,0",
        b"RD11;1,7FF,0",
        b"RD12,1,7FF,0",
        b"RD1,1,7FF,0",
        b"RD11,1,7FF,0,11,222",
        b"RD11,1,7FF,0,11,2 ",
        b"TD11,0.0518,100",
        b"TD11,0.0518,100,;mark",
        b"RD11,0.0518,100,88;note",
        b"RD11,0.0518,100,88, 7F",
        b"RD11,0.0518,800,88",
        b"RD11,0.0518,100,881",
        b"RD11,0.0518,100,1,2,3,4,5,6,7,8,9",
        b"RR11,0.0518,100",
        b"EF,0.0518,error",
        b"TYPE,TIME,ID,D1,D2,D3,D4,D5,D6,D7,D8",
        b"~~~~~~~~",
        b"",
    ];
    check(Format::TattlerCsv, &[], lines, &lines[..8]);
}
