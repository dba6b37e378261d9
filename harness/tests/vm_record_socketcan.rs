//! VM only: `ovms-hil record --can vcan0` on a real kernel, run by `ci/socketcan-vm.sh` inside
//! its QEMU VM (`--ignored --test-threads=1`, with `OVMS_HIL_IN_VM=1`; both tests use vcan0).
//! Host `cargo test` builds it but skips it (`#[ignore]`); run anywhere else it fails, naming the
//! VM.
//!
//! `rigs/bench-emu-socketcan.yaml` (its own power commands, with this test's tap port, scratch
//! files and binary): `ovms-emu --can-socketcan vcan0` as a separate process on the wall clock,
//! a real mosquitto, and the `ovms-hil` binary as a subprocess recording what it hears on vcan0
//! while it replays a slice of a real Roadster log there (`--replay`):
//!
//! - the whole slice: `can.crtd` holds exactly the slice's frames (heard back through the
//!   kernel's loopback, with the kernel's receive time), on schedule; the capture holds the
//!   module's `v.b.soc` after the SOC frame on the same time base (within its interval plus the
//!   rig's cadence tolerance); `recording.yaml` reads back
//!   with the scaffold's reader (the checks of `record_check`, shared with `record_bench.rs`);
//! - SIGINT mid-slice: exit 0, every frame reported is in `can.crtd` (a prefix of the slice), the
//!   capture and `recording.yaml` are complete.
//!
//! Environment (set by the VM's run-list; the VM has no source tree): `OVMS_HIL_BIN` the
//! `ovms-hil` binary (default: the one cargo built with this test), `OVMS_EMU` an ovms-emu built
//! with `--features socketcan`, `OVMS_HIL_VM_RIG` the rig file and `OVMS_HIL_VM_RECORD_LOG` the
//! log slice (defaults: the source tree's rig and whole Roadster top-off log).

mod hil_cli;
mod record_check;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ovms_canlog::Frame;
use ovms_hil_net::capture::{CaptureRecord, Source};
use record_check::{
    check_recording, crtd_frames, interrupt_at_first_progress, is_soc_frame, read_frames,
    reported_frames, root, s, text, KillPidFile, PREFIX,
};

/// A file named by `var`, else `default` in the source tree.
fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| root().join(default), PathBuf::from)
}

/// A copy of the SocketCAN bench rig in a scratch directory, the emu it powers on killed (pid
/// file) when this is dropped.
struct Rig {
    dir: tempfile::TempDir,
    rig: PathBuf,
    /// Kills the rig's emu when the test ends.
    _pid: KillPidFile,
    log: PathBuf,
    /// Seconds within which the module's `v.b.soc` follows the SOC frame: its 2 s interval on
    /// the 1-s ticker (3 s) plus the rig's cadence tolerance (TCG, one vCPU shared by the emu,
    /// mosquitto and the recorder).
    soc_within: f64,
}

impl Rig {
    fn new() -> Rig {
        assert!(
            std::env::var_os("OVMS_HIL_IN_VM").is_some(),
            "VM only: run by ci/socketcan-vm.sh (needs AF_CAN, vcan0 and root); OVMS_HIL_IN_VM is unset"
        );
        ovms_replay::socketcan::create_vcan("vcan0").unwrap_or_else(|e| panic!("{e}"));
        let emu = std::env::var_os("OVMS_EMU").map_or_else(
            || {
                ovms_hil_bench::emu_binary::ovms_emu_binary(&root())
                    .unwrap_or_else(|e| panic!("{e}"))
            },
            PathBuf::from,
        );
        let dir = tempfile::tempdir().unwrap();
        let pid = dir.path().join("emu.pid");
        let log = dir.path().join("emu.log");
        let shipped =
            std::fs::read_to_string(env_path("OVMS_HIL_VM_RIG", "rigs/bench-emu-socketcan.yaml"))
                .unwrap();
        let tap = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let adapted = shipped
            .replace("/tmp/ovms-hil-bench-emu-socketcan.pid", s(&pid))
            // Appended: the shutdown's `reset` would start a second emu over the first one's log.
            .replace(
                ">/tmp/ovms-hil-bench-emu-socketcan.log",
                &format!(">>{}", s(&log)),
            )
            .replace("\"${OVMS_EMU:-ovms-emu}\"", s(&emu))
            .replace("127.0.0.1:18830", &format!("127.0.0.1:{tap}"));
        assert!(
            !adapted.contains("/tmp/ovms-hil-bench-emu")
                && adapted.contains("--can-socketcan vcan0"),
            "{adapted}"
        );
        let rig = dir.path().join("rig.yaml");
        std::fs::write(&rig, adapted).unwrap();
        let tolerance = ovms_hil_bench::load_bench_rig(&rig).unwrap().tolerance;
        Rig {
            dir,
            rig,
            _pid: KillPidFile(pid),
            log,
            soc_within: 3.0 + tolerance.cadence.as_secs_f64(),
        }
    }

    /// `ovms-hil record --can vcan0 --replay <slice>` into `out`.
    fn record(&self, out: &Path, slice: &Path) -> Command {
        let bin = std::env::var_os("OVMS_HIL_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_ovms-hil")),
            PathBuf::from,
        );
        let mut c = Command::new(bin);
        c.current_dir(self.dir.path()).args([
            "record",
            "--rig",
            s(&self.rig),
            "--can",
            "vcan0",
            "--replay",
            s(slice),
            "--tail",
            "2",
            "--vehicle",
            "tesla-roadster",
            "--out",
            s(out),
        ]);
        c
    }

    fn emu_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn slice() -> (PathBuf, Vec<Frame>) {
    let path = env_path(
        "OVMS_HIL_VM_RECORD_LOG",
        "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv",
    );
    let frames = read_frames(&path);
    assert!(frames.iter().any(is_soc_frame), "no SOC frame in the slice");
    (path, frames)
}

/// Module time of the first `src` record of the module's `v.b.soc`.
fn soc_at(capture: &[CaptureRecord], src: Source) -> f64 {
    let topic = format!("{PREFIX}metric/v/b/soc");
    capture
        .iter()
        .find(|r| r.src == src && r.topic.as_deref() == Some(topic.as_str()))
        .and_then(|r| r.t)
        .unwrap_or(f64::NAN)
}

#[test]
#[ignore = "VM only: ci/socketcan-vm.sh runs it (needs AF_CAN, root and mosquitto)"]
fn vm_record_hears_a_roadster_slice_replayed_on_vcan0_and_the_module_soc() {
    let started = Instant::now();
    let rig = Rig::new();
    let (slice, log) = slice();
    let rec = rig.dir.path().join("rec");
    let o = rig.record(&rec, &slice).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\nemu log:\n{}",
        text(&o),
        rig.emu_log()
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("recorded {} frames (0 skipped)", log.len())),
        "{err}"
    );
    assert!(!err.contains("Ctrl-C"), "{err}");
    assert!(
        rig.emu_log()
            .contains("SocketCAN vcan0: first frame fed to CAN1"),
        "the emu read the frames from vcan0:\n{}",
        rig.emu_log()
    );

    // Exactly the frames that were on the bus: the slice, heard back from vcan0.
    let frames = crtd_frames(&rec);
    assert_eq!(frames.len(), log.len(), "exactly the frames on vcan0");
    let capture = check_recording(&rec, &frames, &log, 1.0, rig.soc_within);
    let connect = capture
        .iter()
        .find(|r| r.src == Source::Tap && r.kind.as_deref() == Some("connect"))
        .and_then(|r| r.t)
        .expect("the tap's CONNECT");
    assert!(connect >= 0.0 && connect < frames[0].ts_secs(), "{connect}");

    let soc_frame = frames.iter().find(|f| is_soc_frame(f)).unwrap().ts_secs();
    let summary = err
        .lines()
        .find(|l| l.starts_with("recorded "))
        .unwrap_or("");
    println!("RECORD-VM ovms-hil: {summary}");
    println!(
        "RECORD-VM whole slice: {} frames on vcan0 -> can.crtd t={:.3}..{:.3} s, first SOC frame \
         t={soc_frame:.3} s, v.b.soc tap t={:.3} s observer t={:.3} s, {} capture records, \
         {:.1} s wall",
        frames.len(),
        frames[0].ts_secs(),
        frames.last().unwrap().ts_secs(),
        soc_at(&capture, Source::Tap),
        soc_at(&capture, Source::Observer),
        capture.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
#[ignore = "VM only: ci/socketcan-vm.sh runs it (needs AF_CAN, root and mosquitto)"]
fn vm_sigint_stops_a_socketcan_recording_cleanly_and_loses_nothing() {
    let started = Instant::now();
    let rig = Rig::new();
    let (slice, log) = slice();
    let rec = rig.dir.path().join("rec");
    // The first progress line comes 5 s into the slice: about half of it.
    let (status, seen) = interrupt_at_first_progress(rig.record(&rec, &slice), || {
        format!("emu log:\n{}", rig.emu_log())
    });
    assert_eq!(status.code(), Some(0), "{seen}");
    assert!(seen.contains("(stopped by Ctrl-C)"), "{seen}");

    let reported = reported_frames(&seen);
    assert!(
        reported > 0 && reported < log.len(),
        "not interrupted: {seen}"
    );
    let frames = crtd_frames(&rec);
    assert_eq!(frames.len(), reported, "{seen}");
    let capture = check_recording(&rec, &frames, &log, 1.0, rig.soc_within);
    let last_frame = frames.last().unwrap().ts_secs();
    let last_record = capture.iter().filter_map(|r| r.t).fold(0.0, f64::max);
    assert!(
        last_record < last_frame + 5.0,
        "records until {last_record}, last frame {last_frame}"
    );
    println!(
        "RECORD-VM SIGINT: {reported} of {} frames in can.crtd (last t={last_frame:.3} s), \
         {} capture records (last t={last_record:.3} s), {:.1} s wall",
        log.len(),
        capture.len(),
        started.elapsed().as_secs_f64()
    );
}
