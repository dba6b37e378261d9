//! A real log through the scheduler (host, virtual clock).

use std::path::PathBuf;
use std::time::Duration;

use ovms_canlog::ReadOptions;
use ovms_replay::{
    CollectingSink, IdFilter, LogFileSource, Loops, Replay, ReplayError, ReplayOptions, TimeWindow,
};

fn tesla_log() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/logs/tesla-model-s_savvycan-example.candump.log")
}

#[test]
fn tesla_candump_log_schedules_every_frame_in_file_order() {
    let text = std::fs::read_to_string(tesla_log()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut sink = CollectingSink::default();
    let opts = ReplayOptions {
        loops: Loops::Times(2),
        ..Default::default()
    };
    let stats = Replay::new(
        LogFileSource::new(tesla_log(), ReadOptions::default()),
        opts,
    )
    .unwrap()
    .run(&mut sink)
    .unwrap();
    assert_eq!(stats.frames_sent, 2 * lines.len() as u64);
    // Frame-by-frame against the text: `(166.000000) vcan0 21A#FE3612FE690507AD`.
    for (sf, line) in sink.frames.iter().zip(&lines) {
        let (id, data) = line
            .split_whitespace()
            .nth(2)
            .unwrap()
            .split_once('#')
            .unwrap();
        assert_eq!(sf.frame.id, u32::from_str_radix(id, 16).unwrap(), "{line}");
        let bytes: Vec<u8> = (0..data.len() / 2)
            .map(|i| u8::from_str_radix(&data[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(sf.frame.data, bytes, "{line}");
    }
    // The log spans 166 s .. 174 s: pass 1 starts 8 s after pass 0.
    let second = &sink.frames[lines.len()];
    assert_eq!((second.pass, second.offset), (1, Duration::from_secs(8)));
    assert_eq!(sink.frames.last().unwrap().offset, Duration::from_secs(16));
}

#[test]
fn tesla_window_and_filter() {
    let opts = ReplayOptions {
        window: TimeWindow {
            start_s: 2.0,
            end_s: Some(3.0),
        },
        ids: IdFilter::parse("102", "").unwrap(),
        ..Default::default()
    };
    let frames: Vec<_> = Replay::new(
        LogFileSource::new(tesla_log(), ReadOptions::default()),
        opts,
    )
    .unwrap()
    .schedule()
    .map(|r| r.unwrap())
    .collect();
    assert!(!frames.is_empty());
    assert!(frames.iter().all(|sf| sf.frame.id == 0x102));
    assert!(frames
        .iter()
        .all(|sf| sf.offset == Duration::ZERO || sf.offset == Duration::from_secs(1)));
}

#[test]
fn missing_log_is_an_open_error_naming_the_file() {
    let mut sink = CollectingSink::default();
    let err = Replay::new(
        LogFileSource::new("/nonexistent/x.crtd", ReadOptions::default()),
        ReplayOptions::default(),
    )
    .unwrap()
    .run(&mut sink)
    .unwrap_err();
    assert!(matches!(err, ReplayError::Open { pass: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/x.crtd"), "{err}");
}
