//! Scheduler behaviour on the virtual clock and on the fake wall clock (no sleeping).

use std::time::Duration;

use ovms_replay::{
    channel_sink, BusMap, Clock, CollectingSink, EndReason, FakeWallClock, FnSource, Frame,
    FrameSink, IdFilter, IdRange, IterSource, Loops, Replay, ReplayError, ReplayOptions,
    ScheduledFrame, SinkError, TimeWindow, VecSource,
};

const MS: i64 = 1_000_000;

fn f(ts_ms: i64, bus: u8, id: u32) -> Frame {
    Frame::new(ts_ms * MS, bus, id, &[id as u8])
}

/// (offset in ms, bus, id) of everything a schedule yields.
fn plan(frames: Vec<Frame>, opts: ReplayOptions) -> Vec<(u64, u8, u32)> {
    Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .schedule()
        .map(|r| {
            let sf = r.unwrap();
            (sf.offset.as_millis() as u64, sf.frame.bus, sf.frame.id)
        })
        .collect()
}

#[test]
fn file_order_and_offsets_relative_to_first_frame() {
    // Epoch-like timestamps: offsets start at 0 with the first frame.
    let base = 1_700_000_000_000i64;
    let frames = vec![
        f(base, 0, 1),
        f(base + 10, 0, 2),
        f(base + 10, 1, 3),
        f(base + 25, 0, 4),
    ];
    assert_eq!(
        plan(frames, ReplayOptions::default()),
        vec![(0, 0, 1), (10, 0, 2), (10, 1, 3), (25, 0, 4)]
    );
}

#[test]
fn backwards_timestamps_keep_file_order_with_zero_delay() {
    let frames = vec![
        f(0, 0, 1),
        f(100, 0, 2),
        f(40, 0, 3),
        f(50, 0, 4),
        f(200, 0, 5),
    ];
    let mut sched = Replay::new(VecSource::new(frames), ReplayOptions::default())
        .unwrap()
        .schedule();
    let got: Vec<(u64, u32)> = sched
        .by_ref()
        .map(|r| {
            r.map(|sf| (sf.offset.as_millis() as u64, sf.frame.id))
                .unwrap()
        })
        .collect();
    // 100 → 40 is clamped to 0 delay; 40 → 50 keeps its 10 ms; 50 → 200 keeps its 150 ms.
    assert_eq!(got, vec![(0, 1), (100, 2), (100, 3), (110, 4), (260, 5)]);
    assert_eq!(sched.stats().backwards_steps, 1);
}

#[test]
fn loops_accumulate_offsets_with_gap() {
    let frames = vec![f(0, 0, 1), f(30, 0, 2)];
    let opts = ReplayOptions {
        loops: Loops::Times(3),
        loop_gap: Duration::from_millis(5),
        ..Default::default()
    };
    let mut sched = Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .schedule();
    let got: Vec<(u64, u32, u32)> = sched
        .by_ref()
        .map(|r| {
            r.map(|sf| (sf.offset.as_millis() as u64, sf.pass, sf.frame.id))
                .unwrap()
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 0, 1),
            (30, 0, 2),
            (35, 1, 1),
            (65, 1, 2),
            (70, 2, 1),
            (100, 2, 2)
        ]
    );
    assert_eq!(sched.stats().passes_completed, 3);
}

#[test]
fn forever_loops_until_stopped_and_take_works() {
    let frames = vec![f(0, 0, 1), f(10, 0, 2)];
    let opts = ReplayOptions {
        loops: Loops::Forever,
        ..Default::default()
    };
    let sched = Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .schedule();
    let got: Vec<u64> = sched
        .take(1001)
        .map(|r| r.unwrap().offset.as_millis() as u64)
        .collect();
    assert_eq!(got.len(), 1001);
    assert_eq!(got[1000], 5000); // pass 500, first frame: 500 × 10 ms
}

#[test]
fn forever_over_an_empty_selection_ends_instead_of_spinning() {
    let opts = ReplayOptions {
        loops: Loops::Forever,
        ids: IdFilter::all().include(IdRange::single(0x999)),
        ..Default::default()
    };
    assert!(plan(vec![f(0, 0, 1), f(1, 0, 2)], opts).is_empty());
    let empty = ReplayOptions {
        loops: Loops::Forever,
        ..Default::default()
    };
    assert!(plan(vec![], empty).is_empty());
}

#[test]
fn bus_map_renumbers_and_drops_unmapped() {
    let frames = vec![f(0, 0, 1), f(1, 1, 2), f(2, 2, 3)];
    let opts = ReplayOptions {
        bus_map: BusMap::identity().map(0, 1).map(2, 0),
        ..Default::default()
    };
    let mut sched = Replay::new(VecSource::new(frames.clone()), opts.clone())
        .unwrap()
        .schedule();
    let got: Vec<(u8, u32)> = sched
        .by_ref()
        .map(|r| r.map(|sf| (sf.frame.bus, sf.frame.id)).unwrap())
        .collect();
    assert_eq!(got, vec![(1, 1), (0, 3)]);
    assert_eq!(sched.stats().dropped_bus, 1);
    assert_eq!(BusMap::parse("0:1, 2:0").unwrap(), opts.bus_map);
    // Identity keeps every bus.
    assert_eq!(plan(frames, ReplayOptions::default()).len(), 3);
}

#[test]
fn id_filters_include_ranges_and_exclude_wins() {
    let frames: Vec<Frame> = [0x100, 0x150, 0x1FF, 0x200, 0x7E8, 0x18DA_F110]
        .iter()
        .enumerate()
        .map(|(i, &id)| f(i as i64, 0, id))
        .collect();
    let ids = IdFilter::parse("100-1ff, 7E8,0x18DAF110", "150").unwrap();
    let opts = ReplayOptions {
        ids,
        ..Default::default()
    };
    let mut sched = Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .schedule();
    let got: Vec<u32> = sched.by_ref().map(|r| r.unwrap().frame.id).collect();
    assert_eq!(got, vec![0x100, 0x1FF, 0x7E8, 0x18DA_F110]);
    assert_eq!(sched.stats().dropped_id, 2);
    assert_eq!(sched.stats().dropped_by_filter(), 2);
}

#[test]
fn filter_text_errors_name_the_column() {
    let e = IdFilter::parse("100, zz", "").unwrap_err();
    assert_eq!(e.column, 6);
    assert!(e.to_string().contains("column 6"), "{e}");
    let e = BusMap::parse("0:1,x").unwrap_err();
    assert_eq!(e.column, 5);
    assert!(IdRange::parse_list("20000000").is_err(), "above 29 bits");
}

#[test]
fn time_window_cuts_and_rebases_offsets() {
    let frames: Vec<Frame> = (0..10).map(|i| f(i * 100, 0, i as u32)).collect();
    let opts = ReplayOptions {
        window: TimeWindow {
            start_s: 0.25,
            end_s: Some(0.6),
        },
        loops: Loops::Times(2),
        ..Default::default()
    };
    let mut sched = Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .schedule();
    let got: Vec<(u64, u32)> = sched
        .by_ref()
        .map(|r| {
            r.map(|sf| (sf.offset.as_millis() as u64, sf.frame.id))
                .unwrap()
        })
        .collect();
    // Frames at 300..=600 ms, offsets from 250 ms; pass 2 starts span (600 − 250) later.
    assert_eq!(
        got,
        vec![
            (50, 3),
            (150, 4),
            (250, 5),
            (350, 6),
            (400, 3),
            (500, 4),
            (600, 5),
            (700, 6)
        ]
    );
    assert_eq!(sched.stats().dropped_window, 6);
    // Reading stops at the first frame past the end (700 ms): 8 frames read per pass, not 10.
    assert_eq!(sched.stats().frames_read, 16);
}

#[test]
fn invalid_options_are_refused() {
    let src = || VecSource::new(vec![]);
    for speed in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let opts = ReplayOptions {
            clock: Clock::Wall { speed },
            ..Default::default()
        };
        assert!(Replay::new(src(), opts).is_err(), "speed {speed}");
    }
    let opts = ReplayOptions {
        window: TimeWindow {
            start_s: 2.0,
            end_s: Some(1.0),
        },
        ..Default::default()
    };
    assert!(Replay::new(src(), opts).is_err());
}

#[test]
fn wall_clock_speed_factor_scales_deadlines() {
    let frames = vec![f(0, 0, 1), f(100, 0, 2), f(1000, 0, 3)];
    let opts = ReplayOptions {
        clock: Clock::Wall { speed: 4.0 },
        ..Default::default()
    };
    let mut clock = FakeWallClock::new();
    let mut sink = CollectingSink::default();
    let stats = Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .run_with_clock(&mut sink, &mut clock)
        .unwrap();
    assert_eq!(
        clock.deadlines,
        vec![
            Duration::ZERO,
            Duration::from_millis(25),
            Duration::from_millis(250)
        ]
    );
    // Offsets stay in log time.
    let offsets: Vec<u64> = sink
        .frames
        .iter()
        .map(|s| s.offset.as_millis() as u64)
        .collect();
    assert_eq!(offsets, vec![0, 100, 1000]);
    assert_eq!(stats.frames_sent, 3);
    assert_eq!(stats.elapsed, Duration::from_millis(250));
    assert_eq!(stats.lateness.max(), Duration::ZERO);
    assert_eq!(sink.flushes, 1);
}

#[test]
fn wall_clock_lateness_is_measured() {
    let frames: Vec<Frame> = (0..100).map(|i| f(i, 0, 1)).collect();
    let late: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
    let mut clock = FakeWallClock::with_lateness(late);
    let opts = ReplayOptions {
        clock: Clock::Wall { speed: 1.0 },
        ..Default::default()
    };
    let stats = Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .run_with_clock(&mut CollectingSink::default(), &mut clock)
        .unwrap();
    assert_eq!(stats.lateness.count(), 100);
    assert_eq!(stats.lateness.max(), Duration::from_micros(100));
    let p50 = stats.lateness.p50().as_nanos();
    assert!((50_000..=50_800).contains(&p50), "p50 {p50}");
    let p99 = stats.lateness.p99().as_nanos();
    assert!((99_000..=100_000).contains(&p99), "p99 {p99}");
}

#[test]
fn virtual_clock_does_not_wait() {
    let frames = vec![f(0, 0, 1), f(3_600_000, 0, 2)]; // one hour apart
    let mut clock = FakeWallClock::new();
    let mut sink = CollectingSink::default();
    let stats = Replay::new(VecSource::new(frames), ReplayOptions::default())
        .unwrap()
        .run_with_clock(&mut sink, &mut clock)
        .unwrap();
    assert!(clock.deadlines.is_empty());
    assert_eq!(sink.frames[1].offset, Duration::from_secs(3600));
    assert_eq!(stats.lateness.count(), 0);
    assert_eq!(stats.end, EndReason::Finished);
}

#[derive(Debug, thiserror::Error)]
#[error("log.crtd:7:12: bad hex byte")]
struct FakeParseError;

#[test]
fn source_errors_end_the_replay_with_context() {
    let items: Vec<Result<Frame, FakeParseError>> = vec![
        Ok(f(0, 0, 1)),
        Ok(f(1, 0, 2)),
        Err(FakeParseError),
        Ok(f(2, 0, 3)),
    ];
    let mut sink = CollectingSink::default();
    let err = Replay::new(IterSource::new(items.into_iter()), ReplayOptions::default())
        .unwrap()
        .run(&mut sink)
        .unwrap_err();
    assert_eq!(sink.frames.len(), 2);
    match &err {
        ReplayError::Source {
            pass, frames_read, ..
        } => assert_eq!((*pass, *frames_read), (0, 2)),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("log.crtd:7:12"), "{err}");
}

#[test]
fn fn_source_reopens_per_pass_and_open_errors_are_typed() {
    let mut opened = 0u32;
    let src = FnSource::new(move || {
        opened += 1;
        if opened > 2 {
            return Err(FakeParseError);
        }
        Ok(vec![Ok::<_, FakeParseError>(f(0, 0, opened))])
    });
    let opts = ReplayOptions {
        loops: Loops::Times(5),
        ..Default::default()
    };
    let mut sched = Replay::new(src, opts).unwrap().schedule();
    assert_eq!(sched.next().unwrap().unwrap().frame.id, 1);
    assert_eq!(sched.next().unwrap().unwrap().frame.id, 2);
    assert!(matches!(
        sched.next(),
        Some(Err(ReplayError::Open { pass: 2, .. }))
    ));
    assert!(sched.next().is_none());
}

#[test]
fn iter_source_replays_from_memory_on_later_passes() {
    let items = (0..3).map(|i| Ok::<_, FakeParseError>(f(i, 0, i as u32)));
    let opts = ReplayOptions {
        loops: Loops::Times(2),
        ..Default::default()
    };
    let ids: Vec<u32> = Replay::new(IterSource::new(items), opts)
        .unwrap()
        .schedule()
        .map(|r| r.unwrap().frame.id)
        .collect();
    assert_eq!(ids, vec![0, 1, 2, 0, 1, 2]);
}

#[test]
fn channel_sink_delivers_in_order_and_closed_receiver_ends_replay() {
    let frames: Vec<Frame> = (0..50).map(|i| f(i, 0, i as u32)).collect();
    let (sink, mut rx) = channel_sink(4); // smaller than the log: exercises back-pressure
    let handle = Replay::new(VecSource::new(frames), ReplayOptions::default())
        .unwrap()
        .spawn(sink);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let got: Vec<ScheduledFrame> = rt.block_on(async {
        let mut got = Vec::new();
        while let Some(sf) = rx.recv().await {
            got.push(sf);
        }
        got
    });
    let stats = handle.join().unwrap();
    assert_eq!(stats.frames_sent, 50);
    assert_eq!(got.len(), 50);
    assert!(got.windows(2).all(|w| w[0].frame.id + 1 == w[1].frame.id));
    assert_eq!(got[49].offset, Duration::from_millis(49));

    let (mut sink, rx) = channel_sink(1);
    drop(rx);
    assert!(matches!(sink.send(&got[0]), Err(SinkError::Closed)));
    let opts = ReplayOptions {
        loops: Loops::Forever,
        ..Default::default()
    };
    let stats = Replay::new(VecSource::new(vec![f(0, 0, 1)]), opts)
        .unwrap()
        .run(&mut sink)
        .unwrap();
    assert_eq!(stats.end, EndReason::SinkClosed);
}

#[test]
fn stop_handle_ends_a_forever_wall_replay() {
    let opts = ReplayOptions {
        clock: Clock::Wall { speed: 1.0 },
        loops: Loops::Forever,
        ..Default::default()
    };
    // One frame every 10 ms of real time, forever; stopped from the consumer side.
    let (sink, mut rx) = channel_sink(16);
    let replay = Replay::new(VecSource::new(vec![f(0, 0, 1), f(10, 0, 2)]), opts).unwrap();
    let stop = replay.stop_handle();
    let handle = replay.spawn(sink);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..5 {
            rx.recv().await.unwrap();
        }
        stop.stop();
        let stats = handle.wait().await.unwrap();
        assert_eq!(stats.end, EndReason::Stopped);
        assert!(stats.frames_sent >= 5);
    });
}

#[test]
fn extreme_speeds_do_not_panic() {
    for speed in [1e-300, f64::MIN_POSITIVE, 1e300] {
        let opts = ReplayOptions {
            clock: Clock::Wall { speed },
            ..Default::default()
        };
        let mut clock = FakeWallClock::new();
        let stats = Replay::new(VecSource::new(vec![f(0, 0, 1), f(1000, 0, 2)]), opts)
            .unwrap()
            .run_with_clock(&mut CollectingSink::default(), &mut clock)
            .unwrap();
        assert_eq!(stats.frames_sent, 2, "speed {speed}");
    }
}
