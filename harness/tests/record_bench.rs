//! `ovms-hil record` on a BENCH rig, end to end through the binary: a real Roadster log is
//! streamed on the wall clock into `ovms-emu --can-simulate` (a separate process standing in for
//! a module, powered on by the rig's own commands) through `--simulate HOST:PORT`, with the
//! harness's mosquitto, the wire tap behind the rig's relay and the observer:
//!
//! - the whole log: `can.crtd` holds exactly the frames of the log, in order, each stamped no
//!   earlier than its schedule; the capture holds the module's `v.b.soc` publishes after the
//!   frame carrying the SOC, on the same time base, without the harness's command channel;
//!   `recording.yaml` reads back with the scaffold's reader and scaffolds;
//! - Ctrl-C (SIGINT to `ovms-hil record`) in the middle: exit 0, every frame reported is in
//!   `can.crtd` (a prefix of the log), the capture and `recording.yaml` are complete;
//! - `--can vcan0` without AF_CAN: exit 2 naming the interface, before anything is started.
//!
//! Each test has its own ports, pid and log files, so they run in parallel with the other
//! bench tests.

mod hil_cli;
mod record_check;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ovms_canlog::Frame;
use ovms_hil_net::capture::Source;
use record_check::{
    check_recording, crtd_frames, interrupt_at_first_progress, read_frames, reported_frames, root,
    s, text, KillPidFile,
};

const LOG: &str = "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv";
/// The module's `v.b.soc` follows the SOC frame within this many seconds (on the host).
const SOC_WITHIN: f64 = 3.5;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A copy of `rigs/bench-emu-process.yaml` in `dir` with this test's ports, pid and log files
/// and `ovms-emu` binary; the emu is killed (pid file) when this is dropped.
struct BenchEmu {
    rig: PathBuf,
    pid: KillPidFile,
    log: PathBuf,
    sim: String,
}

/// `ovms-emu`, located (or built) once for the tests of this file.
fn emu_binary() -> PathBuf {
    static EMU: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    EMU.get_or_init(|| ovms_hil_bench::emu_binary::ovms_emu_binary(&root()))
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

impl BenchEmu {
    /// The rig with `emu` as the module's binary.
    fn new(dir: &Path, emu: &Path) -> BenchEmu {
        let pid = dir.join("emu.pid");
        let log = dir.join("emu.log");
        let sim = format!("127.0.0.1:{}", free_port());
        let shipped = std::fs::read_to_string(root().join("rigs/bench-emu-process.yaml")).unwrap();
        let text = shipped
            .replace("/tmp/ovms-hil-bench-emu.pid", s(&pid))
            .replace("/tmp/ovms-hil-bench-emu.log", s(&log))
            .replace("\"${OVMS_EMU:-ovms-emu}\"", s(emu))
            .replace("127.0.0.1:18830", &format!("127.0.0.1:{}", free_port()))
            .replace("127.0.0.1:13000", &sim);
        assert!(!text.contains("/tmp/ovms-hil-bench-emu"), "{text}");
        let rig = dir.join("rig.yaml");
        std::fs::write(&rig, text).unwrap();
        BenchEmu {
            rig,
            pid: KillPidFile(pid),
            log,
            sim,
        }
    }

    fn emu_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn record_cmd(bench: &BenchEmu, out: &Path, speed: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ovms-hil"));
    c.current_dir(root()).args([
        "record",
        "--rig",
        s(&bench.rig),
        "--simulate",
        &bench.sim,
        "--replay",
        LOG,
        "--speed",
        speed,
        "--tail",
        "2",
        "--vehicle",
        "tesla-roadster",
        "--out",
        s(out),
    ]);
    c
}

fn log_frames() -> Vec<Frame> {
    read_frames(&root().join(LOG))
}

#[test]
fn a_roadster_log_recorded_from_a_bench_module_through_its_simulate_server() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let bench = BenchEmu::new(tmp.path(), &emu_binary());
    let rec = tmp.path().join("rec");
    // The 226 s log at 20x: about 11 s of streaming.
    let o = record_cmd(&bench, &rec, "20").output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\nemu log:\n{}",
        text(&o),
        bench.emu_log()
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("recording: t="), "no progress: {err}");
    assert!(err.contains("recorded 3200 frames (0 skipped)"), "{err}");
    assert!(!err.contains("Ctrl-C"), "{err}");

    let frames = crtd_frames(&rec);
    assert_eq!(frames.len(), 3200, "exactly the frames sent");
    let capture = check_recording(&rec, &frames, &log_frames(), 20.0, SOC_WITHIN);
    // The capture spans the log and its tail; the CONNECT precedes the first frame.
    let connect = capture
        .iter()
        .find(|r| r.src == Source::Tap && r.kind.as_deref() == Some("connect"))
        .and_then(|r| r.t)
        .expect("the tap's CONNECT");
    assert!(connect >= 0.0 && connect < frames[0].ts_secs(), "{connect}");

    // ... and it scaffolds, with no client publishes (the command channel is left out).
    let lab = tmp.path().join("lab");
    let o = Command::new(env!("CARGO_BIN_EXE_ovms-hil"))
        .current_dir(root())
        .args(["scaffold", s(&rec), "--name", "benchrec", "--root", s(&lab)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(", 0 client publishes)"), "{out}");
    let wall = started.elapsed();
    eprintln!("bench recording: {:.1} s wall", wall.as_secs_f64());
    assert!(wall < Duration::from_secs(60), "{wall:?}");
}

#[test]
fn ctrl_c_stops_a_bench_recording_cleanly_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bench = BenchEmu::new(tmp.path(), &emu_binary());
    let rec = tmp.path().join("rec");
    // At 5x the log would take 45 s: interrupted at the first progress line.
    let (status, seen) = interrupt_at_first_progress(record_cmd(&bench, &rec, "5"), || {
        format!("emu log:\n{}", bench.emu_log())
    });
    assert_eq!(status.code(), Some(0), "{seen}");
    assert!(seen.contains("(stopped by Ctrl-C)"), "{seen}");

    // Everything reported is on disk and readable.
    let reported = reported_frames(&seen);
    assert!(reported > 0 && reported < 3200, "not interrupted: {seen}");
    let frames = crtd_frames(&rec);
    assert_eq!(frames.len(), reported, "{seen}");
    let capture = check_recording(&rec, &frames, &log_frames(), 5.0, SOC_WITHIN);
    // Nothing after the end: the last frame and the last record are close together.
    let last_frame = frames.last().unwrap().ts_secs();
    let last_record = capture.iter().filter_map(|r| r.t).fold(0.0, f64::max);
    assert!(
        last_record < last_frame + 5.0,
        "records until {last_record}, last frame {last_frame}"
    );
}

#[test]
fn record_from_socketcan_on_a_bench_rig_fails_cleanly_without_af_can() {
    if ovms_replay::socketcan::probe_af_can().is_ok() {
        eprintln!("this kernel has AF_CAN: the failure path is not testable here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // A binary that does not exist: powering the module on would fail differently.
    let bench = BenchEmu::new(tmp.path(), &tmp.path().join("no-such-ovms-emu"));
    let out = tmp.path().join("rec");
    let o = Command::new(env!("CARGO_BIN_EXE_ovms-hil"))
        .current_dir(root())
        .args([
            "record",
            "--rig",
            s(&bench.rig),
            "--can",
            "vcan0",
            "--vehicle",
            "tesla-roadster",
            "--out",
            s(&out),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("ovms-hil record: --can vcan0: SocketCAN (AF_CAN): "),
        "{err}"
    );
    assert!(
        err.contains("vcan0 is missing") || err.contains("no CAN support"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // Nothing was started or written: no output directory, the module was never powered on.
    assert!(!out.exists());
    assert!(!bench.pid.0.exists(), "the module was powered on");
}
