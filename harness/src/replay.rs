//! Replaying a CAN log into the module, and the `ovms-hil replay` command.
//!
//! [`LogFeeder`] streams a log (any format ovms-canlog reads; never loaded whole) into a running
//! module: on the virtual clock it moves module time to each frame's offset from the first frame
//! and feeds the frame there, so the module's own timers (cadence ticks) fire between frames at
//! their exact instants; on the wall clock it waits for each frame's (scaled) time. Frames whose
//! time goes backwards in the log are fed at once (the log's order is kept, never re-sorted).
//!
//! `ovms-hil replay` wires a broker, a tap, an observer and the in-process module around the
//! feeder and prints every publish as the module makes it: module time, topic, payload, QoS, retain.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use ovms_canlog::{Frame, ReadOptions};
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::{Duration, Instant};
use ovms_hil_net::capture::CaptureWriter;
use ovms_hil_net::TimeSource;

use crate::adapt::observer::Watcher;
use crate::adapt::tap::ModuleTap;
use crate::cli::ReplayArgs;
use crate::rig::{emulated::Emulated, ModuleRig, ModuleSetup};

/// How frames are timed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// Module time jumps from frame to frame (as fast as possible).
    Virtual,
    /// Real time divided by this speed (1.0 = real time).
    Wall(f64),
}

/// Counters of one replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedStats {
    /// Frames fed to the module.
    pub frames: u64,
    /// Error frames and remote frames skipped.
    pub skipped: u64,
    /// Log time covered (last frame minus first), ms.
    pub log_ms: u64,
}

/// Streams one log into a module; call [`LogFeeder::step`] until it returns `Ok(None)`.
pub struct LogFeeder {
    frames: Box<dyn Iterator<Item = Result<Frame, ovms_canlog::LogError>> + Send>,
    pace: Pace,
    first_ns: Option<i64>,
    start_module: Option<Instant>,
    start_wall: Option<tokio::time::Instant>,
    pending: Option<Frame>,
    /// Counters so far.
    pub stats: FeedStats,
}

impl LogFeeder {
    /// Open `path` (format detected from its content).
    pub fn open(path: &Path, pace: Pace) -> Result<LogFeeder, String> {
        let reader = ovms_canlog::open(path, &ReadOptions::default()).map_err(|e| e.to_string())?;
        Ok(LogFeeder {
            frames: Box::new(reader.frames()),
            pace,
            first_ns: None,
            start_module: None,
            start_wall: None,
            pending: None,
            stats: FeedStats::default(),
        })
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, String> {
        if let Some(f) = self.pending.take() {
            return Ok(Some(f));
        }
        match self.frames.next() {
            None => Ok(None),
            Some(Ok(f)) => Ok(Some(f)),
            Some(Err(e)) => Err(e.to_string()),
        }
    }

    /// Feed every frame due at the current time, then move to the next frame's time. Returns the
    /// module time reached, or `None` when the log is done. Bad log records stop the replay with
    /// their `file:line:col` error.
    pub async fn step(&mut self, module: &ModuleRig) -> Result<Option<Instant>, String> {
        let Some(frame) = self.next_frame()? else {
            return Ok(None);
        };
        let first = *self.first_ns.get_or_insert(frame.ts_ns);
        let offset_ms = u64::try_from(frame.ts_ns.saturating_sub(first) / 1_000_000).unwrap_or(0);
        self.stats.log_ms = self.stats.log_ms.max(offset_ms);
        match self.pace {
            Pace::Virtual => {
                let now = module.now().await?;
                let start = *self.start_module.get_or_insert(now);
                let due = start + Duration::from_millis(offset_ms);
                if due > now {
                    // Move to the frame's instant first (timers fire on the way), then feed it.
                    self.pending = Some(frame);
                    let t = module.advance(due.saturating_since(now)).await?;
                    return Ok(Some(t));
                }
            }
            Pace::Wall(speed) => {
                let start = *self
                    .start_wall
                    .get_or_insert_with(tokio::time::Instant::now);
                let scaled =
                    StdDuration::from_secs_f64(offset_ms as f64 / 1000.0 / speed.max(1e-6));
                tokio::time::sleep_until(start + scaled).await;
            }
        }
        if frame.error || frame.rtr {
            self.stats.skipped += 1;
        } else {
            module
                .can_frame(frame.bus, frame.id, frame.extended, &frame.data)
                .await?;
            self.stats.frames += 1;
        }
        Ok(Some(module.now().await?))
    }
}

/// `ovms-hil replay` entry point; returns the exit code.
pub async fn main(args: ReplayArgs) -> u8 {
    match replay(args).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ovms-hil replay: {e}");
            2
        }
    }
}

async fn replay(args: ReplayArgs) -> Result<(), String> {
    let pace = match args.speed {
        Some(s) if s > 0.0 => Pace::Wall(s),
        Some(s) => return Err(format!("--speed must be positive, got {s}")),
        None => Pace::Virtual,
    };
    let vehicles_dir = args
        .vehicles_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("scenarios/vehicles"));
    let vehicle =
        ovms_vehicles::load_vehicle(&args.vehicle, &vehicles_dir).map_err(|e| e.to_string())?;
    let profile = Profile::by_name_or_path(&args.profile).map_err(|e| e.to_string())?;
    let mut feeder = LogFeeder::open(&args.log, pace)?;

    let broker = crate::adapt::broker::start(&args.broker).await?;
    eprintln!("{}", broker.describe());
    let result = async {
        let capture = match &args.capture {
            Some(p) => Some(CaptureWriter::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
            None => None,
        };
        let time = TimeSource::new();
        let prefix = profile.default_prefix(&args.user, &args.vehicle_id);
        let tap = ModuleTap::start(broker.endpoint(), capture.clone(), time.clone()).await?;
        let observer = Watcher::start_with(
            broker.endpoint(),
            &format!("hil-replay-observer-{}", args.vehicle_id),
            &[format!("{prefix}#")],
            capture,
            time.clone(),
        )
        .await?;
        let setup = ModuleSetup {
            broker_url: tap.url(),
            profile: profile.clone(),
            vehicle_id: args.vehicle_id.clone(),
            user: args.user.clone(),
            password: None,
            keepalive_secs: None,
            params: Default::default(),
            initial_metrics: Vec::new(),
            barrier_timeout: StdDuration::from_secs(10),
        };
        let virtual_clock = pace == Pace::Virtual;
        let module = ModuleRig::InProcess(
            Emulated::start_with_vehicle(setup, Some(vehicle), virtual_clock).await?,
        );
        let connected = profile.topic(MessageKind::Connected, &prefix, &TopicVars::default());
        let wall_start = std::time::Instant::now();
        let mut printed = 0usize;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "# module time  QoS retain  topic  payload");
        // Connect first (on the virtual clock, time moves one second at a time until `yes`).
        if virtual_clock {
            let mut waited = 0;
            loop {
                let t = module.advance(Duration::ZERO).await?;
                time.set_millis(t.as_millis());
                tap.settle(&observer, StdDuration::from_secs(5)).await?;
                if tap.publishes().iter().any(|p| p.topic == connected && p.payload == b"yes") {
                    break;
                }
                if waited >= 120 {
                    return Err("the module did not connect within 120 s of module time".into());
                }
                module.advance(Duration::from_secs(1)).await?;
                waited += 1;
            }
        }
        let mut last_sent = 0;
        loop {
            let step = feeder.step(&module).await?;
            let sent = module.sent_count().unwrap_or(0);
            if sent != last_sent || step.is_none() {
                last_sent = sent;
                if let Some(t) = step {
                    time.set_millis(t.as_millis());
                }
                tap.settle(&observer, StdDuration::from_secs(5)).await?;
                let times = module.sent_log();
                for (i, p) in tap.publishes().iter().enumerate().skip(printed) {
                    let at = times
                        .get(i)
                        .map(|(t, _)| format!("{t:>12}"))
                        .unwrap_or_else(|| format!("{:>12}", "?"));
                    let _ = writeln!(
                        out,
                        "{at}  q{} {}  {}  {}",
                        p.qos,
                        if p.retain { "r" } else { "-" },
                        p.topic,
                        String::from_utf8_lossy(&p.payload)
                    );
                    printed = i + 1;
                }
            }
            if step.is_none() {
                break;
            }
        }
        let end = module.now().await?;
        let wall = wall_start.elapsed().as_secs_f64();
        eprintln!(
            "replayed {} frames ({} skipped) covering {:.1} s of log in {wall:.2} s wall; module time {end}; {printed} publishes",
            feeder.stats.frames,
            feeder.stats.skipped,
            feeder.stats.log_ms as f64 / 1000.0
        );
        module.shutdown().await;
        observer.stop().await;
        tap.stop().await;
        Ok(())
    }
    .await;
    broker.stop().await;
    result
}
