//! Writer → reader round trips (proptest), and every real log converted to every writable format
//! reads back as the same frames.

use std::path::PathBuf;

use ovms_canlog::{open, read, writer, Direction, Format, Frame, ReadOptions, Record};
use proptest::prelude::*;

fn write_all(format: Format, recs: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = writer(format, &mut out).unwrap();
        for r in recs {
            assert!(w.write_record(r).unwrap(), "{format} refused {r:?}");
        }
        w.finish().unwrap();
    }
    out
}

fn read_back(format: Format, bytes: &[u8]) -> Vec<Record> {
    // Detection must recognise our own output too.
    let r = read(bytes, "rt", &ReadOptions::default()).unwrap();
    assert_eq!(r.format(), format);
    r.collect::<Result<Vec<_>, _>>().unwrap()
}

const FD_LENS: [usize; 7] = [12, 16, 20, 24, 32, 48, 64];

fn ts_us() -> impl Strategy<Value = i64> {
    (-4_000_000_000_000_000i64..4_000_000_000_000_000i64).prop_map(|us| us * 1000)
}

fn classic(max_bus: u8) -> impl Strategy<Value = Frame> {
    (
        ts_us(),
        0..=max_bus,
        any::<bool>(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..=8),
        any::<bool>(),
    )
        .prop_map(|(ts_ns, bus, extended, id, data, tx)| Frame {
            ts_ns,
            bus,
            id: if extended {
                id & 0x1FFF_FFFF
            } else {
                id & 0x7FF
            },
            extended,
            rtr: false,
            error: false,
            fd: false,
            dir: if tx { Direction::Tx } else { Direction::Rx },
            data,
        })
}

fn candump_frame() -> impl Strategy<Value = Frame> {
    let special = (0u8..4, any::<u32>(), 0usize..=8, 0usize..7, any::<u8>()).prop_map(
        |(kind, id, n, fdi, fill)| {
            let mut f = Frame::new(0, 0, id & 0x7FF, &[]);
            match kind {
                0 => {
                    f.rtr = true;
                    f.data = vec![0; n];
                }
                1 => {
                    f.fd = true;
                    f.data = vec![fill; FD_LENS[fdi]];
                }
                2 => {
                    f.fd = true;
                    f.data = vec![fill; n];
                }
                _ => {
                    f.error = true;
                    f.id = id & 0x1FFF_FFFF;
                    f.data = vec![fill; 8];
                }
            }
            f
        },
    );
    prop_oneof![
        3 => classic(255).prop_map(|mut f| { f.dir = Direction::Rx; f }),
        1 => (special, ts_us(), any::<u8>()).prop_map(|(mut f, ts, bus)| { f.ts_ns = ts; f.bus = bus; f }),
    ]
}

fn crtd_record() -> impl Strategy<Value = Record> {
    let value = prop_oneof![
        any::<i32>().prop_map(|v| v.to_string()),
        (any::<i16>(), 0u8..100).prop_map(|(a, b)| format!("{a}.{b}")),
        Just("true".to_string()),
        "[A-Za-z0-9 _-]{0,12}".prop_map(|s| format!("\"{s}\"")),
    ];
    prop_oneof![
        6 => classic(8).prop_map(Record::Frame),
        1 => (ts_us(), "[a-z][a-z0-9_.]{0,24}").prop_map(|(ts_ns, name)| Record::Event { ts_ns, name }),
        1 => (ts_us(), "[a-z][a-z0-9_.]{0,24}", value).prop_map(|(ts_ns, name, value)| Record::Metric { ts_ns, name, value }),
        1 => (ts_us(), "[A-Za-z0-9]([A-Za-z0-9 ;:=',.-]{0,30}[A-Za-z0-9])?").prop_map(|(t, text)| Record::Comment { ts_ns: Some(t), text }),
    ]
}

fn gvret_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        3 => classic(255),
        1 => (classic(255), 0usize..7, any::<u8>()).prop_map(|(mut f, i, b)| { f.fd = true; f.data = vec![b; FD_LENS[i]]; f }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn candump_round_trip(frames in prop::collection::vec(candump_frame(), 0..40)) {
        let recs: Vec<Record> = frames.iter().cloned().map(Record::Frame).collect();
        let bytes = write_all(Format::Candump, &recs);
        if frames.is_empty() {
            prop_assert!(bytes.is_empty());
        } else {
            prop_assert_eq!(read_back(Format::Candump, &bytes), recs);
        }
    }

    #[test]
    fn crtd_round_trip(recs in prop::collection::vec(crtd_record(), 1..40)) {
        let bytes = write_all(Format::Crtd, &recs);
        let back = read_back(Format::Crtd, &bytes);
        prop_assert_eq!(back.len(), recs.len() + 2);
        let header = |t: &str| Record::Comment { ts_ns: recs[0].ts_ns(), text: t.to_string() };
        prop_assert_eq!(&back[0], &header("OVMS CRTD"));
        prop_assert_eq!(&back[1], &header("CVR 3.1"));
        prop_assert_eq!(&back[2..], &recs[..]);
    }

    #[test]
    fn gvret_round_trip(frames in prop::collection::vec(gvret_frame(), 1..40)) {
        let recs: Vec<Record> = frames.into_iter().map(Record::Frame).collect();
        let bytes = write_all(Format::GvretCsv, &recs);
        prop_assert_eq!(read_back(Format::GvretCsv, &bytes), recs);
    }

    #[test]
    fn timestamps_come_back_at_microsecond_precision(ts in any::<i64>().prop_map(|t| t / 4)) {
        let f = Frame::new(ts, 0, 0x123, &[1]);
        for format in [Format::Candump, Format::Crtd, Format::GvretCsv] {
            let bytes = write_all(format, &[Record::Frame(f.clone())]);
            let back: Vec<Frame> = read_back(format, &bytes).into_iter().filter_map(Record::into_frame).collect();
            prop_assert_eq!(back[0].ts_ns, ts / 1000 * 1000, "{}", format);
        }
    }
}

#[test]
fn every_real_log_converts_to_every_writable_format_and_back() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/logs");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".decoded.txt") || name.ends_with(".imbmw-raw.txt") {
            continue;
        }
        let orig: Vec<Frame> = open(&path, &ReadOptions::default())
            .unwrap()
            .frames()
            .collect::<Result<_, _>>()
            .unwrap();
        for format in [Format::Candump, Format::Crtd, Format::GvretCsv] {
            let recs: Vec<Record> = orig.iter().cloned().map(Record::Frame).collect();
            let bytes = write_all(format, &recs);
            let back: Vec<Frame> = read_back(format, &bytes)
                .into_iter()
                .filter_map(Record::into_frame)
                .collect();
            assert_eq!(back.len(), orig.len(), "{name} via {format}");
            for (a, b) in orig.iter().zip(&back) {
                let mut want = a.clone();
                want.ts_ns = a.ts_ns / 1000 * 1000;
                if format == Format::Candump {
                    want.dir = Direction::Rx; // candump -l has no direction
                }
                assert_eq!(b, &want, "{name} via {format}");
            }
        }
        n += 1;
    }
    assert_eq!(n, 20);
}

#[test]
fn crtd_to_crtd_keeps_one_header_and_status_tags() {
    let input = "1.000000 CXX OVMS CRTD\n1.000000 CVR 3.1\n1.500000 1R11 123 01\n2.000000 2CST Status intr=1 rxpkt=2\n2.500000 1CXX Info hello\n";
    let recs: Vec<Record> = read(input.as_bytes(), "in", &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let out = String::from_utf8(write_all(Format::Crtd, &recs)).unwrap();
    assert_eq!(
        out,
        "1.000000 CXX OVMS CRTD\n1.000000 CVR 3.1\n1.500000 1R11 123 01\n2.000000 1CST Status intr=1 rxpkt=2\n2.500000 1CXX Info hello\n"
    );
}
