//! Every frame log in scenarios/logs reads completely, with the frame count MANIFEST.md states,
//! the right detected format, and the quirks the manifest describes counted as warnings.

use std::collections::HashSet;
use std::path::PathBuf;

use ovms_canlog::{open, Format, Frame, ReadOptions, Record, WarningKind, Warnings};

fn logs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/logs")
}

struct Read {
    format: Format,
    frames: Vec<Frame>,
    comments: Vec<(Option<i64>, String)>,
    warnings: Warnings,
}

fn read_all(name: &str) -> Read {
    let path = logs().join(name);
    let mut r = open(&path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let format = r.format();
    let mut frames = Vec::new();
    let mut comments = Vec::new();
    for rec in r.by_ref() {
        match rec.unwrap_or_else(|e| panic!("{e}")) {
            Record::Frame(f) => frames.push(f),
            Record::Comment { ts_ns, text } => comments.push((ts_ns, text)),
            other => panic!("unexpected record {other:?}"),
        }
    }
    Read {
        format,
        frames,
        comments,
        warnings: r.warnings().clone(),
    }
}

/// (file, detected format, frames per MANIFEST.md)
const LOGS: &[(&str, Format, usize)] = &[
    (
        "tesla-model-s_savvycan-example.candump.log",
        Format::Candump,
        12_974,
    ),
    (
        "tesla-model-s_savvycan-example.crtd.txt",
        Format::Crtd,
        12_974,
    ),
    (
        "tesla-model-s_savvycan-example.gvret.csv",
        Format::GvretCsv,
        12_974,
    ),
    (
        "unknown-vehicle_savvycan-example.carbusanalyzer.trc",
        Format::CarbusTrc,
        55,
    ),
    (
        "tesla-roadster_20120218.drive-a.csv",
        Format::TattlerCsv,
        12_469,
    ),
    (
        "tesla-roadster_20120218.charge-topoff.csv",
        Format::TattlerCsv,
        3_200,
    ),
    (
        "tesla-roadster_20120218.charge-slidestop.csv",
        Format::TattlerCsv,
        2_090,
    ),
    (
        "tesla-roadster_20120218.charge-breakerstop.csv",
        Format::TattlerCsv,
        1_057,
    ),
    (
        "tesla-roadster_20120218.charge-vdsstop.csv",
        Format::TattlerCsv,
        1_106,
    ),
    (
        "kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv",
        Format::GvretCsv,
        39_546,
    ),
    (
        "kona-ev-2021_221217-1-pcan-bcan-no-key.gvret.csv",
        Format::GvretCsv,
        14_294,
    ),
    (
        "kona-ev-2021_221210-2-dcan-obd-scan-vcu-mcu.gvret.csv",
        Format::GvretCsv,
        638,
    ),
    (
        "kona-ev-2020_250105-1-comp-can-heating.gvret.csv",
        Format::GvretCsv,
        27_982,
    ),
    (
        "bmw-i3-2019_ptcan-startup.gvret.csv",
        Format::GvretCsv,
        38_192,
    ),
    (
        "bmw-i3-2019_ptcan-dc-charge-circontrol-mid.gvret.csv",
        Format::GvretCsv,
        14_865,
    ),
    (
        "bmw-i3-2015rex_ptcan-ac-charge-start-end-69pct.gvret.csv",
        Format::GvretCsv,
        6_740,
    ),
    (
        "nissan-leaf-gen3-inverter_bench-from-cold.gvret.csv",
        Format::GvretCsv,
        8_713,
    ),
    ("hyundai-kona-ice_keyon.peak.trc", Format::PeakTrc, 12_257),
    (
        "hyundai-kona-ice_turnonlog.candump.log",
        Format::Candump,
        17_173,
    ),
    (
        "mitsubishi-imiev_cmu04-bench.peak.trc",
        Format::PeakTrc,
        172,
    ),
];

#[test]
fn every_log_reads_with_the_manifest_frame_count() {
    for (name, format, count) in LOGS {
        let r = read_all(name);
        assert_eq!(r.format, *format, "{name}: detected format");
        assert_eq!(r.frames.len(), *count, "{name}: frame count");
        assert_eq!(r.warnings.count(WarningKind::SkippedRecord), 0, "{name}");
        assert_eq!(
            r.warnings.count(WarningKind::UnsupportedRecord),
            0,
            "{name}"
        );
    }
}

#[test]
fn every_log_in_the_directory_is_covered_or_deliberately_not_a_frame_log() {
    for entry in std::fs::read_dir(logs()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let known = LOGS.iter().any(|(n, _, _)| *n == name);
        // The imBMW raw dump and the Roadster `.decoded.txt` renderings are not frame logs of a
        // supported format: detection must refuse them with a located error, not misread them.
        let not_frame_log = name.ends_with(".decoded.txt") || name.ends_with(".imbmw-raw.txt");
        assert!(
            known || not_frame_log,
            "{name} is neither tested nor excluded"
        );
        if not_frame_log {
            let err = open(&logs().join(&name), &ReadOptions::default()).err();
            let err = err.unwrap_or_else(|| panic!("{name} was detected as a CAN log"));
            assert_eq!(err.location(), (1, 1), "{name}: {err}");
        }
    }
}

fn key(f: &Frame) -> (u32, bool, Vec<u8>) {
    (f.id, f.extended, f.data.clone())
}

#[test]
fn tesla_model_s_three_formats_give_the_identical_frame_sequence() {
    let a = read_all("tesla-model-s_savvycan-example.candump.log");
    let b = read_all("tesla-model-s_savvycan-example.crtd.txt");
    let c = read_all("tesla-model-s_savvycan-example.gvret.csv");
    let ka: Vec<_> = a.frames.iter().map(key).collect();
    let kb: Vec<_> = b.frames.iter().map(key).collect();
    let kc: Vec<_> = c.frames.iter().map(key).collect();
    assert_eq!(ka.len(), 12_974);
    assert!(ka == kb, "candump vs crtd differ");
    assert!(ka == kc, "candump vs gvret differ");
    let ids: HashSet<u32> = a.frames.iter().map(|f| f.id).collect();
    assert_eq!(ids.len(), 180);
    assert!(a
        .frames
        .iter()
        .chain(&b.frames)
        .chain(&c.frames)
        .all(|f| f.bus == 0 && !f.extended));
    // Timestamps agree at the coarser precision: CRTD and CSV both at ms resolution.
    for (x, y) in b.frames.iter().zip(&c.frames) {
        assert_eq!(x.ts_ns, y.ts_ns);
    }
    assert_eq!(b.frames[0].ts_ns, 166_064_000_000);
    assert_eq!(b.frames.last().unwrap().ts_ns, 174_624_000_000);
    assert_eq!(a.frames.last().unwrap().ts_ns, 174_000_000_000);
    // Quirks: whole seconds in the candump export, a CXX comment line in the CRTD.
    assert_eq!(a.warnings.count(WarningKind::WholeSecondTimestamps), 1);
    assert_eq!(b.warnings.count(WarningKind::WholeSecondTimestamps), 0);
    assert_eq!(
        b.comments,
        vec![(
            Some(166_064_000_000),
            "GVRET-PC Reverse Engineering Tool Output V138".to_string()
        )]
    );
    assert_eq!(
        a.frames[0].data,
        vec![0xFE, 0x36, 0x12, 0xFE, 0x69, 0x05, 0x07, 0xAD]
    );
    assert_eq!(a.frames[4].data.len(), 7, "short frames stay short");
}

#[test]
fn kona_two_bus_logs_are_interleaved_not_reordered() {
    let r = read_all("kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv");
    let back = r
        .frames
        .windows(2)
        .filter(|w| w[1].ts_ns < w[0].ts_ns)
        .count();
    assert_eq!(
        back, 1_845,
        "file order kept: manifest counts 1,845 backward steps"
    );
    let w = &r.warnings;
    assert_eq!(
        w.count(WarningKind::BusInterleaving) + w.count(WarningKind::BackwardTimestamp),
        1_845
    );
    assert!(w.count(WarningKind::BusInterleaving) > 1_000);
    let bus0 = r.frames.iter().filter(|f| f.bus == 0).count();
    assert_eq!((bus0, r.frames.len() - bus0), (24_263, 15_283));
    let r = read_all("kona-ev-2021_221217-1-pcan-bcan-no-key.gvret.csv");
    let back = r
        .frames
        .windows(2)
        .filter(|w| w[1].ts_ns < w[0].ts_ns)
        .count();
    assert_eq!(back, 1_029);
    let bus0 = r.frames.iter().filter(|f| f.bus == 0).count();
    assert_eq!((bus0, r.frames.len() - bus0), (8_969, 5_325));
}

#[test]
fn kona_heater_clock_reset_and_negative_times() {
    let r = read_all("kona-ev-2020_250105-1-comp-can-heating.gvret.csv");
    assert_eq!(r.warnings.count(WarningKind::TimestampReset), 1);
    assert_eq!(r.warnings.count(WarningKind::NegativeTimestamp), 217);
    let reset = r
        .warnings
        .first_of(WarningKind::TimestampReset)
        .next()
        .unwrap();
    assert_eq!(reset.line, 90, "frame 89 is on line 90 (after the header)");
    assert_eq!(r.frames[87].ts_ns, 22_358_552_000);
    assert_eq!(r.frames[88].ts_ns, -364_210_000);
    assert_eq!(r.frames.last().unwrap().ts_ns, 46_149_330_000);
}

#[test]
fn bmw_i3_2015_sequence_numbers_are_flagged() {
    let r = read_all("bmw-i3-2015rex_ptcan-ac-charge-start-end-69pct.gvret.csv");
    assert_eq!(r.warnings.count(WarningKind::SequenceNumbers), 1);
    assert_eq!(r.frames[6739].ts_ns, 6_739_000);
    // Real timings elsewhere are not flagged.
    let r = read_all("bmw-i3-2019_ptcan-startup.gvret.csv");
    assert_eq!(r.warnings.count(WarningKind::SequenceNumbers), 0);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn leaf_inverter_negative_epoch_and_extended_ids() {
    let r = read_all("nissan-leaf-gen3-inverter_bench-from-cold.gvret.csv");
    assert_eq!(r.frames[0].ts_ns, -1_613_983_962_153_940_000);
    assert_eq!(r.warnings.count(WarningKind::NegativeTimestamp), 8_713);
    assert_eq!(r.warnings.count(WarningKind::BackwardTimestamp), 0);
    let ext: Vec<_> = r.frames.iter().filter(|f| f.extended).collect();
    assert_eq!(ext.len(), 6);
    assert!(ext.iter().all(|f| f.id == 0x18CC078C));
}

#[test]
fn roadster_tattler_annotations_are_comments() {
    let r = read_all("tesla-roadster_20120218.drive-a.csv");
    let notes: Vec<_> = r.comments.iter().filter(|(ts, _)| ts.is_some()).collect();
    assert_eq!(notes.len(), 5, "5 TD11 annotation lines");
    assert_eq!(
        notes[0].1,
        "A short drive around the block, starting and finishing with car off"
    );
    assert_eq!(notes[1], &(Some(71_181_300_000), String::new()));
    assert_eq!(
        notes[4].1,
        "VDS Trip display: 6.4km, 13minutes, 96Wh net energy, 150Wh/km"
    );
    let f = &r.frames[1];
    assert_eq!(
        (f.id, f.data.as_slice()),
        (0x100, &[0x89, 0x00, 0xFF, 0xFF, 0x7F, 0xFF][..])
    );
    assert_eq!(r.frames[0].ts_ns, 51_800_000);
    let dur = r.frames.last().unwrap().ts_ns - r.frames[0].ts_ns;
    assert!(
        (1_016_000_000_000..1_017_500_000_000).contains(&dur),
        "{dur}"
    );
}

#[test]
fn carbus_decimal_comma_and_peak_start_time() {
    let r = read_all("unknown-vehicle_savvycan-example.carbusanalyzer.trc");
    assert_eq!(r.frames[0].ts_ns, 46_016_000_000);
    assert_eq!(r.frames.last().unwrap().ts_ns, 56_094_000_000);
    assert_eq!((r.frames[0].id, r.frames[0].data[0]), (0x45A, 0x5A));
    let r = read_all("hyundai-kona-ice_keyon.peak.trc");
    // ;$STARTTIME=45701.6875023264 → 2025-02-13 16:30:00.201 (UTC as written) + 6.1 ms
    let first = r.frames[0].ts_ns;
    let expect = 1_739_464_200_201_000_000i64 + 6_100_000;
    assert!((first - expect).abs() < 1_000_000, "{first} vs {expect}");
    let dur = r.frames.last().unwrap().ts_ns - first;
    assert_eq!(dur, 8_825_800_000 - 6_100_000);
    assert_eq!((r.frames[2].id, r.frames[2].data.len()), (0x365, 2));
}

#[test]
fn candump_epoch_log() {
    let r = read_all("hyundai-kona-ice_turnonlog.candump.log");
    assert_eq!(r.frames[0].ts_ns, 1_733_187_989_936_605_000);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let ids: HashSet<u32> = r.frames.iter().map(|f| f.id).collect();
    assert_eq!(ids.len(), 42);
}
