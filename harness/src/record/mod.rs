//! `ovms-hil record`: CAN frames and the module's MQTT traffic, side by side on one time base.
//!
//! A recording directory holds what `ovms-hil scaffold` turns into a regression test:
//!
//! - `can.crtd`: every CAN frame the module was given (ovms-canlog's CRTD writer), each stamped
//!   with the module time it was fed at;
//! - `capture.jsonl`: the wire tap (what the module sent and received) and the observer (what a
//!   subscriber to the module's prefix saw), every record stamped with the same module time;
//! - `recording.yaml`: vehicle, profile, vehicle id, user, params, `lead_in_secs` (the module time
//!   of the first frame), `log:` and `capture:` (the format of
//!   `ovms_hil_fieldbug::scaffold::Recording`).
//!
//! Two clocks, by rig kind:
//!
//! - [`emulated`] (`kind: emulated`, `--replay LOG --vehicle V`): the in-process module on the
//!   virtual clock; module time comes from the edge.
//! - [`wall`] (`kind: bench`): a real module, or `ovms-emu` standing in for one, on the WALL
//!   clock. Module time is wall time since the recording's zero (just before power-on). Frames
//!   reach it through `--simulate [HOST:PORT]` (its CAN simulate server) or are heard on
//!   `--can IFACE` (SocketCAN; with `--replay` also sent there); see [`frames`]. The capture is
//!   finalised by [`finalise`].
//!
//! Ctrl-C stops a recording cleanly: the frame being sent is finished, the barrier waits until
//! every publish the module made reached the tap and the observer, the CRTD writer is flushed,
//! capture times are finalised and `recording.yaml` is written. Progress goes to stderr.

pub mod emulated;
pub mod finalise;
pub mod frames;
pub mod wall;
pub mod yaml;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Args;
use ovms_firmware::time::Instant;

use crate::rig::file::{RigFile, RigKind};

pub use emulated::{is_barrier, stamp_capture, stamp_records};
pub use yaml::RecordingYaml;

/// The profile of the emulated module when `--profile` is not given.
pub const DEFAULT_PROFILE: &str = "fw-3.3.006";

/// `ovms-hil record`
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Emulated rig (virtual clock):
  ovms-hil record --replay LOG --vehicle tesla-roadster --out DIR
Bench rig (wall clock; module time = wall time since the recording's zero):
  ovms-hil record --rig rigs/bench-emu-process.yaml --simulate 127.0.0.1:13000 \\
      --replay LOG --vehicle tesla-roadster --out DIR
  ovms-hil record --rig rigs/bench-ovms-v3.yaml --can can0 --vehicle tesla-roadster --out DIR
Ctrl-C stops cleanly: every frame sent or heard is in can.crtd, every publish in capture.jsonl.")]
pub struct RecordArgs {
    /// Rig file (module identity, params, broker; `kind: bench` records on the wall clock).
    #[arg(long, value_name = "FILE", default_value = "rigs/emulated.yaml")]
    pub rig: PathBuf,
    /// Bench rig: record the frames seen on this SocketCAN interface (needs AF_CAN); with
    /// --replay the log is also sent there.
    #[arg(long, value_name = "IFACE")]
    pub can: Option<String>,
    /// Bench rig: send --replay LOG to the module's CAN simulate server (CRTD over TCP) at
    /// HOST:PORT (without a value: the rig's `bench.can.can<N>.simulate` for each frame's bus).
    #[arg(
        long,
        value_name = "HOST:PORT",
        num_args = 0..=1,
        conflicts_with = "can",
        requires = "replay"
    )]
    pub simulate: Option<Option<String>>,
    /// The CAN log to play: into the emulated module on the virtual clock, or on a bench rig
    /// through --simulate / --can on the wall clock.
    #[arg(long, value_name = "LOG")]
    pub replay: Option<PathBuf>,
    /// Vehicle the module runs (`tesla-roadster`, a scenarios/vehicles stem or a YAML file): the
    /// emulated module's decoder, and `vehicle:` of recording.yaml.
    #[arg(long, value_name = "NAME|FILE")]
    pub vehicle: Option<String>,
    /// Directory of vehicle definitions.
    #[arg(long, value_name = "DIR", default_value = "scenarios/vehicles")]
    pub vehicles_dir: PathBuf,
    /// Protocol profile of the module [default: fw-3.3.006; a bench rig's is its module.profile].
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Broker: auto, mosquitto, container, embedded, or mqtt://HOST:PORT [default: the rig's, else auto].
    #[arg(long)]
    pub broker: Option<String>,
    /// Vehicle id of the emulated module [default: the rig's].
    #[arg(long, value_name = "ID")]
    pub vehicle_id: Option<String>,
    /// MQTT user of the emulated module [default: the rig's].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Bench rig: wall-clock speed of --replay (2 = twice as fast as recorded).
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub speed: f64,
    /// Bench rig: keep recording this long after the last frame of --replay.
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    pub tail: f64,
    /// Bench rig: stop after this long from the first frame (without --replay, --can records
    /// until Ctrl-C otherwise).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// The recording directory (created; `can.crtd`, `capture.jsonl`, `recording.yaml`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// What a finished recording holds.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordSummary {
    /// Frames written to `can.crtd`.
    pub frames: u64,
    /// Error and remote frames skipped (and frames the path cannot carry).
    pub skipped: u64,
    /// Publishes the module sent.
    pub publishes: usize,
    /// Module time of the first frame (whole seconds).
    pub lead_in_secs: u64,
    /// Module time at the end.
    pub end: Instant,
    /// Whether Ctrl-C ended the recording before the log did.
    pub interrupted: bool,
}

/// Ctrl-C, as a flag the recording loops poll and a future they can wait on.
#[derive(Clone, Debug)]
pub struct StopSignal {
    flag: Arc<AtomicBool>,
    rx: tokio::sync::watch::Receiver<bool>,
    tx: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for StopSignal {
    fn default() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(false);
        StopSignal {
            flag: Arc::default(),
            rx,
            tx: Arc::new(tx),
        }
    }
}

impl StopSignal {
    /// Ask the recording to stop.
    pub fn set(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.tx.send_replace(true);
    }

    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Returns once a stop was asked for.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// `ovms-hil record` entry point; returns the exit code (0 recorded, 2 error).
pub async fn main(args: RecordArgs) -> u8 {
    match record(&args).await {
        Ok(s) => {
            eprintln!(
                "recorded {} frames ({} skipped), {} module publishes, first frame at t={} s, \
                 module time {}{} into {}",
                s.frames,
                s.skipped,
                s.publishes,
                s.lead_in_secs,
                s.end,
                if s.interrupted {
                    " (stopped by Ctrl-C)"
                } else {
                    ""
                },
                args.out.display()
            );
            0
        }
        Err(e) => {
            eprintln!("ovms-hil record: {e}");
            2
        }
    }
}

/// Records into `args.out`; see the module documentation.
pub async fn record(args: &RecordArgs) -> Result<RecordSummary, String> {
    let rig = RigFile::load(&args.rig).map_err(|e| e.to_string())?;
    // The SocketCAN source opens first: without AF_CAN (or the interface) nothing is started
    // and nothing is written.
    let heard = match &args.can {
        Some(iface) => Some(frames::open_socketcan(iface, &args.rig)?),
        None => None,
    };
    let stop = StopSignal::default();
    let files_final = Arc::new(AtomicBool::new(false));
    let ctrl_c = {
        let stop = stop.clone();
        let files_final = files_final.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            eprintln!(
                "ovms-hil record: Ctrl-C: finishing the current frame and writing the recording"
            );
            stop.set();
            while tokio::signal::ctrl_c().await.is_ok() {
                if files_final.load(Ordering::SeqCst) {
                    eprintln!(
                        "ovms-hil record: Ctrl-C again: the recording is written; leaving now"
                    );
                    std::process::exit(130);
                }
                eprintln!("ovms-hil record: still writing the recording");
            }
        })
    };
    let result = match rig.kind {
        RigKind::Bench => wall::record(args, heard, &stop, &files_final).await,
        _ if heard.is_some() || args.simulate.is_some() => Err(format!(
            "{}: --can and --simulate record a bench module on the wall clock (kind: bench); \
             this rig is {}",
            args.rig.display(),
            rig.kind
        )),
        RigKind::Emulated => emulated::record(args, &rig, &stop).await,
        _ => Err(format!(
            "{}: `record --replay` needs the in-process emulated rig (kind: emulated), whose \
             capture takes each publish's module time from the edge, or a bench rig (kind: \
             bench) on the wall clock; this rig is {}",
            args.rig.display(),
            rig.kind
        )),
    };
    ctrl_c.abort();
    result
}
