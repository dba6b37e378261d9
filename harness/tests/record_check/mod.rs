//! The checks of a wall-clock `ovms-hil record` recording, shared by the end-to-end proofs of
//! the bench rigs (`tests/record_bench.rs`: frames sent through the module's simulate server, on
//! the host; `tests/vm_record_socketcan.rs`: frames heard on SocketCAN vcan0, inside the QEMU VM).
//!
//! Both record `ovms-emu` as the bench module `EMUBENCH` (user `hil`, profile fw-3.3.006,
//! intervals shortened to 2 s) while a real Roadster log is replayed, and both interrupt one
//! recording with SIGINT ([`interrupt_at_first_progress`]).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use ovms_canlog::{Frame, ReadOptions};
use ovms_hil_fieldbug::scaffold::{Recording, RecordingOverrides};
use ovms_hil_net::capture::{read_capture, CaptureRecord, Source};

/// The topic prefix of the bench module.
pub const PREFIX: &str = "ovms/hil/EMUBENCH/";

pub use super::hil_cli::{root, s, text};

/// Kills (after un-freezing) the process whose id is in a pid file when dropped: the `ovms-emu`
/// a bench rig's power commands started, even when a power cut left it stopped.
pub struct KillPidFile(pub PathBuf);

impl Drop for KillPidFile {
    fn drop(&mut self) {
        if let Ok(p) = std::fs::read_to_string(&self.0) {
            let p = p.trim();
            let _ = std::process::Command::new("kill")
                .args(["-CONT", p])
                .status();
            let _ = std::process::Command::new("kill")
                .args(["-KILL", p])
                .status();
        }
    }
}

/// Every frame of a CAN log (any format ovms-canlog reads).
pub fn read_frames(path: &Path) -> Vec<Frame> {
    ovms_canlog::open(path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .frames()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The frames of a recording's `can.crtd`.
pub fn crtd_frames(rec: &Path) -> Vec<Frame> {
    read_frames(&rec.join("can.crtd"))
}

/// The frame content (bus, id, data), not the time.
pub fn key(f: &Frame) -> (u8, u32, bool, Vec<u8>) {
    (f.bus, f.id, f.extended, f.data.clone())
}

/// A Roadster frame carrying the SOC (id 0x100, byte 0 = 0x80).
pub fn is_soc_frame(f: &Frame) -> bool {
    f.id == 0x100 && f.data.first() == Some(&0x80)
}

/// The checks every recording of `log` (replayed at `speed`) must pass, given the frames of its
/// `can.crtd`; returns the capture:
///
/// - `recording.yaml` reads back with the scaffold's reader (vehicle, profile, module identity,
///   the shortened intervals, `lead_in_secs`);
/// - the frames are exactly the log's, in order (a prefix when interrupted), each stamped no
///   earlier than its schedule (`lead_in + offset / speed`) and less than 1 s after it;
/// - the capture is finalised (every record has a module time), holds no harness traffic, and
///   has the module's `v.b.soc` = 96 (tap, then observer) after the first SOC frame, within
///   `soc_within` seconds (the module publishes a changed metric when its 2 s interval is due,
///   on its 1-s ticker: up to 3 s, plus the rig's latency).
pub fn check_recording(
    rec: &Path,
    frames: &[Frame],
    log: &[Frame],
    speed: f64,
    soc_within: f64,
) -> Vec<CaptureRecord> {
    let r = Recording::load(rec, &RecordingOverrides::default()).unwrap();
    assert_eq!(r.vehicle, "tesla-roadster");
    assert_eq!(r.profile, "fw-3.3.006");
    assert_eq!(
        (r.vehicle_id.as_str(), r.user.as_str()),
        ("EMUBENCH", "hil")
    );
    assert_eq!(
        r.params.get("updatetime.idle").map(String::as_str),
        Some("2"),
        "the shortened intervals the module ran with: {:?}",
        r.params
    );
    let lead_in = r.lead_in_secs.expect("lead_in_secs") as f64;

    assert!(!frames.is_empty());
    assert!(frames.len() <= log.len(), "more frames than the log has");
    assert_eq!(
        frames.iter().map(key).collect::<Vec<_>>(),
        log[..frames.len()].iter().map(key).collect::<Vec<_>>()
    );
    let log0 = log[0].ts_ns;
    let mut late_max = 0.0f64;
    for (f, l) in frames.iter().zip(log) {
        let due = lead_in + (l.ts_ns - log0) as f64 / 1e9 / speed;
        let at = f.ts_secs();
        assert!(at >= due - 1e-6, "frame at {at} before its time {due}");
        late_max = late_max.max(at - due);
    }
    assert!(late_max < 1.0, "a frame was {late_max:.3} s late");

    let capture = read_capture(rec.join("capture.jsonl")).unwrap();
    assert!(capture.iter().all(|r| r.t.is_some()), "records without t");
    assert!(
        !capture.iter().any(|r| r
            .topic
            .as_deref()
            .is_some_and(|t| t.starts_with("ovms-hil/") || t.contains("/client/ovms-hil/"))),
        "harness traffic left in the capture"
    );
    let soc_topic = format!("{PREFIX}metric/v/b/soc");
    let soc_at = |src: Source| {
        capture
            .iter()
            .find(|r| {
                r.src == src
                    && r.topic.as_deref() == Some(soc_topic.as_str())
                    && r.payload.as_deref() == Some("96")
            })
            .and_then(|r| r.t)
            .unwrap_or_else(|| panic!("no {src:?} v.b.soc = 96 in the capture"))
    };
    let first_soc_frame = frames
        .iter()
        .find(|f| is_soc_frame(f))
        .expect("a SOC frame was recorded")
        .ts_secs();
    let (tap, seen) = (soc_at(Source::Tap), soc_at(Source::Observer));
    assert!(
        first_soc_frame < tap && tap <= seen,
        "SOC frame at {first_soc_frame}, module publish at {tap}, observer at {seen}"
    );
    assert!(
        tap - first_soc_frame < soc_within,
        "SOC frame at {first_soc_frame}, module publish at {tap}: more than {soc_within} s"
    );
    capture
}

/// Runs `record` (an `ovms-hil record` command), sends it SIGINT at its first wall-clock
/// progress line (`recording: t=`), and returns its exit status and its whole stderr. `context`
/// is added to the panic when it ends before that line.
pub fn interrupt_at_first_progress(
    record: Command,
    context: impl Fn() -> String,
) -> (ExitStatus, String) {
    super::hil_cli::interrupt_at_line(record, "recording: t=", context)
}

/// The frame count `ovms-hil record` reported on stderr (`recorded N frames`).
pub fn reported_frames(stderr: &str) -> usize {
    regex::Regex::new(r"recorded (\d+) frames")
        .unwrap()
        .captures(stderr)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("no frame count reported: {stderr}"))
}
