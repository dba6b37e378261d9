//! Positive examples of every reader, covering what the real logs do not (OVMS CRTD records,
//! RTR/FD/error frames, PEAK 2.x, ASC variants, pcap/pcapng).

use std::borrow::Cow;
use std::time::Duration;

use ovms_canlog::{read, Direction, Format, Frame, ReadOptions, Record, WarningKind};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, TsResolution};

fn records(input: &[u8]) -> (Format, Vec<Record>, ovms_canlog::Warnings) {
    let mut r = read(input, "x", &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let f = r.format();
    let recs = r
        .by_ref()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    (f, recs, r.warnings().clone())
}

fn frames(input: &[u8]) -> (Format, Vec<Frame>) {
    let (f, recs, _) = records(input);
    (f, recs.into_iter().filter_map(Record::into_frame).collect())
}

#[test]
fn crtd_ovms_flavour_with_events_metrics_and_status() {
    let input = b"1542473901.020305 CXX OVMS CRTD\n\
1542473901.020305 CVR 3.1\n\
1542473901.020305 1CXX Info Type:crtd; Path:'/sd/can3.crtd'; Vehicle:TSHK;\n\
1542473901.020305 1R11 213 00 00 00 00 c0 01 00 00\n\
1542473901.030000 2T29 18DAF110 02 10 03\n\
1542473901.040000 3R11 7e8\n\
1542473901.050000 1CEV Event vehicle.charge.start\n\
1542473901.060000 1CMT Metric { \"name\": \"v.p.altitude\", \"value\": 121.3, \"unit\": \"m\" }\n\
1542473901.070000 1CER TX_Fail T11 123 01 02\n\
1542473901.080000 2CST Status intr=1 rxpkt=2 errflags=0\n\
# a comment\n";
    let (f, recs, w) = records(input);
    assert_eq!(f, Format::Crtd);
    assert!(w.is_empty(), "{w:?}");
    let t0 = 1_542_473_901_020_305_000;
    assert_eq!(
        recs[0],
        Record::Comment {
            ts_ns: Some(t0),
            text: "OVMS CRTD".into()
        }
    );
    assert_eq!(
        recs[1],
        Record::Comment {
            ts_ns: Some(t0),
            text: "CVR 3.1".into()
        }
    );
    let Record::Frame(a) = &recs[3] else { panic!() };
    assert_eq!(
        (a.bus, a.id, a.extended, a.dir),
        (0, 0x213, false, Direction::Rx)
    );
    assert_eq!(a.data, vec![0, 0, 0, 0, 0xc0, 1, 0, 0]);
    let Record::Frame(b) = &recs[4] else { panic!() };
    assert_eq!(
        (b.bus, b.id, b.extended, b.dir, b.data.len()),
        (1, 0x18DAF110, true, Direction::Tx, 3)
    );
    let Record::Frame(c) = &recs[5] else { panic!() };
    assert_eq!((c.bus, c.id, c.data.len()), (2, 0x7e8, 0));
    assert_eq!(
        recs[6],
        Record::Event {
            ts_ns: 1_542_473_901_050_000_000,
            name: "vehicle.charge.start".into()
        }
    );
    assert_eq!(
        recs[7],
        Record::Metric {
            ts_ns: 1_542_473_901_060_000_000,
            name: "v.p.altitude".into(),
            value: "121.3".into()
        }
    );
    assert_eq!(
        recs[8],
        Record::Comment {
            ts_ns: Some(1_542_473_901_070_000_000),
            text: "CER TX_Fail T11 123 01 02".into()
        }
    );
    assert_eq!(
        recs[10],
        Record::Comment {
            ts_ns: None,
            text: "a comment".into()
        }
    );
}

#[test]
fn candump_rtr_fd_error_and_extended() {
    let input = b"(0.100000) can0 123#R\n\
(0.200000) can1 12345678#R4\n\
(0.300000) can0 7FF##1000102030405060708090A0B\n\
(0.400000) can0 20000004#0000080000000000\n\
(0.500000) vcan2 001#11.22.33\n\
(0.600000) slcan 0AB#\n";
    let (f, fr) = frames(input);
    assert_eq!(f, Format::Candump);
    assert!(fr[0].rtr && fr[0].data.is_empty() && fr[0].id == 0x123);
    assert!(fr[1].rtr && fr[1].extended && fr[1].bus == 1 && fr[1].data == vec![0; 4]);
    assert!(fr[2].fd && fr[2].data.len() == 12 && fr[2].data[11] == 0x0B);
    assert!(fr[3].error && !fr[3].extended && fr[3].id == 4 && fr[3].data[2] == 8);
    assert_eq!(
        (fr[4].bus, fr[4].data.as_slice()),
        (2, &[0x11, 0x22, 0x33][..])
    );
    assert_eq!(
        (fr[5].bus, fr[5].data.len()),
        (3, 0),
        "unnumbered interfaces follow the highest bus"
    );
}

#[test]
fn candump_screen_with_and_without_timestamps() {
    let (f, fr) = frames(b"  can0  123   [8]  11 22 33 44 55 66 77 88\n  can1  1FFFFFFF   [2]  01 02   '..'\n  can0  321   [3]  remote request\n  can0  456  [12]  00 01 02 03 04 05 06 07 08 09 0A 0B\n");
    assert_eq!(f, Format::CandumpScreen);
    assert_eq!(fr.len(), 4);
    assert_eq!(
        fr[0].data,
        vec![0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]
    );
    assert!(fr[1].extended && fr[1].bus == 1 && fr[1].data == vec![1, 2]);
    assert!(fr[2].rtr && fr[2].data.len() == 3);
    assert!(fr[3].fd && fr[3].data.len() == 12);
    let (_, _, w) = records(b"  can0  123   [1]  11\n");
    assert_eq!(w.count(WarningKind::NoTimestamps), 1);
    let (f, fr) = frames(b" (1700000000.123456)  can0  123   [1]  11\n");
    assert_eq!(f, Format::CandumpScreen);
    assert_eq!(fr[0].ts_ns, 1_700_000_000_123_456_000);
}

#[test]
fn peak_trc_versions() {
    let v10 = b";##########\n;   Start time: 1/1/2020\n     1)      1059  0300  8  00 11 22 33 44 55 66 77\n     2)      1060  18DAF110  3  01 02 03\n     3)      1061  0123  2  RTR\n";
    let (f, fr) = frames(v10);
    assert_eq!(f, Format::PeakTrc);
    assert_eq!(
        (fr[0].ts_ns, fr[0].id, fr[0].data.len()),
        (1_059_000_000, 0x300, 8)
    );
    assert!(fr[1].extended && fr[1].id == 0x18DAF110);
    assert!(fr[2].rtr && fr[2].data.len() == 2);
    let v13 = b";$FILEVERSION=1.3\n     1)      1059.900 2  Tx        0300 -  2    00 11\n";
    let (_, fr) = frames(v13);
    assert_eq!(
        (fr[0].ts_ns, fr[0].bus, fr[0].dir),
        (1_059_900_000, 1, Direction::Tx)
    );
    let v21 = b";$FILEVERSION=2.1\n;$STARTTIME=25569.5\n;$COLUMNS=N,O,T,B,I,d,R,L,D\n      1         1.059 DT 1      0300 Rx -  2    00 11\n      2         2.000 FD 2  18DAF110 Tx -  9    00 01 02 03 04 05 06 07 08 09 0A 0B\n      3         3.000 ST 1 Rx    00 00 00 04\n      4         4.000 RR 1      0123 Rx -  3\n";
    let (f, recs, w) = records(v21);
    assert_eq!(f, Format::PeakTrc);
    let fr: Vec<_> = recs.into_iter().filter_map(Record::into_frame).collect();
    let noon = 43_200_000_000_000i64; // 1970-01-01 12:00 UTC
    assert_eq!(fr[0].ts_ns, noon + 1_059_000);
    assert!(fr[1].fd && fr[1].data.len() == 12 && fr[1].bus == 1 && fr[1].extended);
    assert!(fr[2].rtr && fr[2].data.len() == 3);
    assert_eq!(w.count(WarningKind::UnsupportedRecord), 1);
}

#[test]
fn vector_asc_variants() {
    let input = b"date Mon Jan 1 00:00:00.000 2024\nbase hex  timestamps absolute\ninternal events logged\n// version 9.0.0\nBegin Triggerblock Mon Jan 1 00:00:00.000 2024\n   0.000000 Start of measurement\n   0.001234 1  123             Rx   d 8 11 22 33 44 55 66 77 88  Length = 240000 BitCount = 124 ID = 291\n   0.002000 2  18DAF110x       Tx   d 3 01 02 03\n   0.003000 1  321             Rx   r 4\n   0.004000 1  ErrorFrame\n   0.005000 CANFD   2 Rx        456  MyMsg                            1 0 9 12 00 01 02 03 04 05 06 07 08 09 0a 0b   102000  130  303000 b8a0d7f5\n   0.006000 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%\nEnd TriggerBlock\n";
    let (f, recs, w) = records(input);
    assert_eq!(f, Format::VectorAsc);
    let fr: Vec<_> = recs.into_iter().filter_map(Record::into_frame).collect();
    assert_eq!(fr.len(), 5);
    assert_eq!(
        (fr[0].ts_ns, fr[0].id, fr[0].bus, fr[0].data[7]),
        (1_234_000, 0x123, 0, 0x88)
    );
    assert!(
        fr[1].extended && fr[1].id == 0x18DAF110 && fr[1].dir == Direction::Tx && fr[1].bus == 1
    );
    assert!(fr[2].rtr && fr[2].data.len() == 4);
    assert!(fr[3].error);
    assert!(fr[4].fd && fr[4].data.len() == 12 && fr[4].id == 0x456);
    assert_eq!(
        w.count(WarningKind::UnsupportedRecord),
        1,
        "the statistic line"
    );
    // base dec + relative timestamps
    let (_, fr) = frames(b"date x\nbase dec  timestamps relative\n   1.000000 1  291  Rx   d 2 17 255\n   0.500000 1  291  Rx   d 0\n");
    assert_eq!((fr[0].id, fr[0].data.as_slice()), (291, &[17, 255][..]));
    assert_eq!(fr[1].ts_ns, 1_500_000_000);
}

#[test]
fn carbus_and_tattler_small() {
    let (f, fr) = frames(b"@ TEXT @ 2 @ 64 @ 0 @ 2 @ 1 @ 00:00:00.001 @\r0,500\t2\t0004\t18DAF110\t2\t01 02\t00000000\t..      \t\r1,250\t1\t0004\t7E8\t0\t\t00000000\t        \t\r");
    assert_eq!(f, Format::CarbusTrc);
    assert_eq!(
        (fr[0].ts_ns, fr[0].bus, fr[0].extended),
        (500_000_000, 1, true)
    );
    assert_eq!((fr[1].ts_ns, fr[1].data.len()), (1_250_000_000, 0));
    let (f, recs, _) = records(b"~~~~\r\ntitle line\r\n\r\nTYPE,TIME,ID,D1,D2\r\nRR11,1.5,100,\r\nTD11,2,7E0,2,10,3\r\nBO,3,\r\n");
    assert_eq!(f, Format::TattlerCsv);
    assert_eq!(
        recs[0],
        Record::Comment {
            ts_ns: None,
            text: "title line".into()
        }
    );
    let Record::Frame(rr) = &recs[1] else {
        panic!("{:?}", recs[1])
    };
    assert!(rr.rtr && rr.id == 0x100);
    let Record::Frame(td) = &recs[2] else {
        panic!()
    };
    assert_eq!(
        (td.dir, td.data.as_slice()),
        (Direction::Tx, &[2, 0x10, 3][..])
    );
    assert_eq!(
        recs[3],
        Record::Comment {
            ts_ns: Some(3_000_000_000),
            text: "BO,3,".into()
        }
    );
}

fn socketcan(id: u32, flags: u8, data: &[u8], fd: bool) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend_from_slice(&[data.len() as u8, flags, 0, 0]);
    v.extend_from_slice(data);
    let total = if fd { 72 } else { 16 };
    v.resize(total.max(v.len()), 0);
    v
}

#[test]
fn pcap_socketcan_both_byte_orders() {
    for endianness in [Endianness::Big, Endianness::Little] {
        let header = PcapHeader {
            datalink: DataLink::CAN_SOCKETCAN,
            endianness,
            ts_resolution: TsResolution::MicroSecond,
            snaplen: 72,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        let pkts = [
            socketcan(0x123, 0, &[1, 2, 3], false),
            socketcan(0x8000_0000 | 0x18DAF110, 0, &[9; 8], false),
            socketcan(0x4000_0000 | 0x7DF, 0, &[], false),
            socketcan(0x2000_0000 | 0x4, 0, &[0, 0, 8, 0, 0, 0, 0, 0], false),
            socketcan(0x456, 0x04 | 0x01, &[7; 12], true),
        ];
        for (i, p) in pkts.iter().enumerate() {
            let ts = Duration::new(1_700_000_000 + i as u64, 250_000);
            w.write_packet(&PcapPacket::new(ts, p.len() as u32, p))
                .unwrap();
        }
        let bytes = w.into_writer();
        let (f, fr) = frames(&bytes);
        assert_eq!(f, Format::Pcap);
        assert_eq!(fr.len(), 5);
        assert_eq!(
            (fr[0].ts_ns, fr[0].id, fr[0].data.as_slice()),
            (1_700_000_000_000_250_000, 0x123, &[1, 2, 3][..])
        );
        assert!(fr[1].extended && fr[1].id == 0x18DAF110);
        assert!(fr[2].rtr && fr[2].id == 0x7DF);
        assert!(fr[3].error && fr[3].id == 4);
        assert!(fr[4].fd && fr[4].data == vec![7; 12]);
    }
}

#[test]
fn pcapng_socketcan_interfaces_and_tsresol() {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    let mut can0 = InterfaceDescriptionBlock::new(DataLink::CAN_SOCKETCAN, 72);
    can0.options.push(InterfaceDescriptionOption::IfTsResol(9));
    w.write_pcapng_block(can0).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 1500))
        .unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::CAN_SOCKETCAN, 72))
        .unwrap();
    let pkt = |iface: u32, ticks: u64, data: Vec<u8>| EnhancedPacketBlock {
        interface_id: iface,
        timestamp: Duration::from_nanos(ticks),
        original_len: data.len() as u32,
        data: Cow::Owned(data),
        options: vec![],
    };
    w.write_pcapng_block(pkt(0, 1_000_000_123, socketcan(0x100, 0, &[1], false)))
        .unwrap();
    w.write_pcapng_block(pkt(1, 5, vec![0; 60])).unwrap();
    w.write_pcapng_block(pkt(2, 2_000_000, socketcan(0x200, 0, &[2, 3], false)))
        .unwrap();
    let bytes = w.into_inner();
    let (f, recs, warn) = records(&bytes);
    assert_eq!(f, Format::Pcapng);
    let fr: Vec<_> = recs.into_iter().filter_map(Record::into_frame).collect();
    assert_eq!(fr.len(), 2);
    assert_eq!(
        (fr[0].ts_ns, fr[0].bus, fr[0].id),
        (1_000_000_123, 0, 0x100),
        "tsresol 9 = ns ticks"
    );
    assert_eq!(
        (fr[1].ts_ns, fr[1].bus, fr[1].data.len()),
        (2_000_000_000, 2, 2),
        "default µs ticks"
    );
    assert_eq!(
        warn.count(WarningKind::UnsupportedRecord),
        1,
        "the Ethernet packet"
    );
}
