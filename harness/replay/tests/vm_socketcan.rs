//! SocketCAN tests against a real kernel. They run inside the QEMU rig (`ci/socketcan-vm.sh`), which
//! builds this binary with `--features vm-tests` and sets `OVMS_HIL_IN_VM=1`. Anywhere else they FAIL
//! (never silently pass): plain `cargo test` does not build them (required feature `vm-tests`).

use std::path::PathBuf;
use std::sync::Once;
use std::thread;
use std::time::Duration;

use ovms_canlog::{Frame, ReadOptions};
use ovms_replay::socketcan::{
    create_vcan, probe_af_can, AsyncSocketCanSource, SocketCanError, SocketCanSink, SocketCanSource,
};
use ovms_replay::{BusMap, BusRouter, Clock, LogFileSource, Replay, ReplayOptions, VecSource};

static SETUP: Once = Once::new();

/// Asserts we are in the rig and creates vcan0/vcan1 via netlink (once).
fn in_vm() {
    assert_eq!(
        std::env::var("OVMS_HIL_IN_VM").as_deref(),
        Ok("1"),
        "vm_* tests need a kernel with CAN: run them with ci/socketcan-vm.sh"
    );
    SETUP.call_once(|| {
        probe_af_can().expect("AF_CAN in the VM kernel");
        create_vcan("vcan0").expect("create vcan0");
        create_vcan("vcan1").expect("create vcan1");
    });
}

/// Starts a recorder on `iface` that returns what it got after `idle` without a frame.
fn record(iface: &str, idle: Duration) -> thread::JoinHandle<Vec<Frame>> {
    let src = SocketCanSource::open(iface, 0).expect("open recorder");
    src.set_receive_buffer(16 << 20).expect("rcvbuf");
    src.set_idle_timeout(Some(idle)).expect("timeout");
    thread::spawn(move || src.map(|r| r.expect("recv")).collect())
}

#[test]
fn vm_send_and_receive_classic_extended_rtr_fd() {
    in_vm();
    let mut sent = vec![
        Frame::new(0, 0, 0x123, &[1, 2, 3]),
        Frame::new(0, 0, 0x18DA_F110, &[0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2, 3]),
        Frame::new(0, 0, 0x7FF, &[]),
    ];
    let mut rtr = Frame::new(0, 0, 0x321, &[]);
    rtr.rtr = true;
    sent.push(rtr);
    let mut fd = Frame::new(0, 0, 0x456, &(0..64).collect::<Vec<u8>>());
    fd.fd = true;
    sent.push(fd);

    let rec = record("vcan0", Duration::from_millis(300));
    let mut sink = SocketCanSink::open("vcan0").unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for f in &sent {
        sink.send_frame(f).unwrap();
    }
    let got = rec.join().unwrap();
    assert_eq!(got.len(), sent.len(), "{got:?}");
    for (g, s) in got.iter().zip(&sent) {
        assert!(
            g.ts_ns >= before,
            "kernel timestamp {} before send {before}",
            g.ts_ns
        );
        let mut g = g.clone();
        g.ts_ns = 0;
        assert_eq!(&g, s);
    }
    assert!(got.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns));
}

/// Parses `(sec.usec) iface ID#DATA` lines (candump -l) into (µs, id, data), independently of ovms_canlog.
fn candump_minimal(text: &str) -> Vec<(i64, u32, Vec<u8>)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            let ts = parts.next().unwrap().trim_matches(|c| c == '(' || c == ')');
            let (s, frac) = ts.split_once('.').unwrap();
            let us = s.parse::<i64>().unwrap() * 1_000_000 + frac.parse::<i64>().unwrap();
            let (id, data) = parts.nth(1).unwrap().split_once('#').unwrap();
            let bytes = (0..data.len() / 2)
                .map(|i| u8::from_str_radix(&data[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            (us, u32::from_str_radix(id, 16).unwrap(), bytes)
        })
        .collect()
}

#[test]
fn vm_replay_real_log_onto_vcan_and_record_it_back() {
    in_vm();
    let log = std::env::var("OVMS_HIL_TESLA_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../scenarios/logs/tesla-model-s_savvycan-example.candump.log")
        });
    let expected = candump_minimal(&std::fs::read_to_string(&log).unwrap());
    assert!(expected.len() > 10_000);

    // Play the 8 s log in real time onto vcan0; record it from a second socket. (Real time, not
    // faster: under TCG one burst of ~1,500 frames takes about half a second to write.)
    let rec = record("vcan0", Duration::from_millis(1500));
    let opts = ReplayOptions {
        clock: Clock::Wall { speed: 1.0 },
        ..Default::default()
    };
    let mut sink = SocketCanSink::open("vcan0").unwrap();
    // The replay clock starts inside run(), just after this instant (same realtime clock as the
    // kernel's receive timestamps).
    let started_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let stats = Replay::new(LogFileSource::new(&log, ReadOptions::default()), opts)
        .unwrap()
        .run(&mut sink)
        .unwrap();
    let got = rec.join().unwrap();
    assert_eq!(stats.frames_sent, expected.len() as u64);
    assert_eq!(got.len(), expected.len(), "frames recorded back");
    for (i, (g, (_, id, data))) in got.iter().zip(&expected).enumerate() {
        assert_eq!((g.id, &g.data), (*id, data), "frame {i}");
        assert!(!g.extended && !g.fd && !g.rtr, "frame {i}");
    }
    // Pacing, seen in the kernel receive timestamps. The log is nine bursts one second apart (its
    // timestamps have 1 s resolution). Each burst's first frame must (a) never arrive before it is
    // due, and (b) arrive soon after it is due, or soon after the previous burst was written when
    // that took longer than the gap (under TCG on a busy host one burst can take ~1 s to write).
    let due_ms = |us: i64| (started_ns as f64 / 1e6) + (us - expected[0].0) as f64 / 1e3;
    let rx_ms = |i: usize| got[i].ts_ns as f64 / 1e6;
    let mut report = Vec::new();
    let mut bursts = 0;
    for (i, (us, _, _)) in expected.iter().enumerate() {
        if i > 0 && *us == expected[i - 1].0 {
            continue;
        }
        bursts += 1;
        let due = due_ms(*us);
        let ready = if i == 0 { due } else { due.max(rx_ms(i - 1)) };
        report.push(((due - due_ms(expected[0].0)) as i64, rx_ms(i) - due));
        assert!(
            rx_ms(i) >= due - 1.0,
            "burst at frame {i} went out {} ms early",
            due - rx_ms(i)
        );
        assert!(
            rx_ms(i) - ready <= 250.0,
            "burst at frame {i} arrived {} ms after it could have",
            rx_ms(i) - ready
        );
    }
    println!(
        "replayed {} frames; burst (due ms, arrival − due ms): {report:?}; dispatch lateness p50 {:?} p99 {:?} max {:?}",
        got.len(),
        stats.lateness.p50(),
        stats.lateness.p99(),
        stats.lateness.max()
    );
    assert_eq!(bursts, 9);
}

#[test]
fn vm_bus_map_routes_to_two_interfaces() {
    in_vm();
    let frames = vec![
        Frame::new(0, 0, 0x100, &[0]),
        Frame::new(1_000_000, 1, 0x200, &[1]),
        Frame::new(2_000_000, 2, 0x300, &[2]),
    ];
    let rec0 = record("vcan0", Duration::from_millis(400));
    let rec1 = record("vcan1", Duration::from_millis(400));
    let opts = ReplayOptions {
        clock: Clock::Wall { speed: 1.0 },
        bus_map: BusMap::identity().map(0, 1).map(1, 0),
        ..Default::default()
    };
    let mut router = BusRouter::new()
        .route(0, SocketCanSink::open("vcan0").unwrap())
        .route(1, SocketCanSink::open("vcan1").unwrap());
    let stats = Replay::new(VecSource::new(frames), opts)
        .unwrap()
        .run(&mut router)
        .unwrap();
    assert_eq!((stats.frames_sent, stats.schedule.dropped_bus), (2, 1));
    let on0: Vec<u32> = rec0.join().unwrap().iter().map(|f| f.id).collect();
    let on1: Vec<u32> = rec1.join().unwrap().iter().map(|f| f.id).collect();
    assert_eq!(on0, vec![0x200]);
    assert_eq!(on1, vec![0x100]);
}

#[test]
fn vm_missing_interface_still_a_clean_error_with_af_can() {
    in_vm();
    let err = SocketCanSink::open("nosuchcan9").unwrap_err();
    assert!(matches!(err, SocketCanError::Unavailable { .. }), "{err:?}");
    assert_eq!(err.errno(), Some(19));
    let mut sink = SocketCanSink::open("vcan0").unwrap();
    let mut too_long = Frame::new(0, 0, 0x1, &[0; 9]);
    too_long.fd = false;
    assert!(matches!(
        sink.send_frame(&too_long),
        Err(SocketCanError::InvalidFrame { .. })
    ));
}

#[test]
fn vm_async_source_records_with_kernel_timestamps() {
    in_vm();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let src = AsyncSocketCanSource::open("vcan1", 7).unwrap();
        src.set_receive_buffer(1 << 20).unwrap();
        let sender = thread::spawn(|| {
            let mut sink = SocketCanSink::open("vcan1").unwrap();
            for i in 0..100u32 {
                sink.send_frame(&Frame::new(0, 0, 0x500 + i, &i.to_le_bytes()))
                    .unwrap();
            }
        });
        let mut got = Vec::new();
        while got.len() < 100 {
            let f = tokio::time::timeout(Duration::from_secs(5), src.recv())
                .await
                .expect("frame within 5 s")
                .unwrap();
            got.push(f);
        }
        sender.join().unwrap();
        for (i, f) in got.iter().enumerate() {
            assert_eq!((f.bus, f.id), (7, 0x500 + i as u32));
            assert_eq!(f.data, (i as u32).to_le_bytes());
        }
        assert!(got
            .windows(2)
            .all(|w| w[0].ts_ns <= w[1].ts_ns && w[0].ts_ns > 0));
    });
}
