//! `record` on a bench rig (`kind: bench`): a real module, or `ovms-emu` standing in for one, on
//! the WALL clock.
//!
//! The module is brought up as the bench runner does ([`BenchModule::start_with`]): the
//! harness's broker, the wire tap behind the rig's `bench.broker.tap` relay, an observer on the
//! module's prefix, power on, intervals shortened over the command channel, then the module's
//! `connected yes`. The recording's zero is taken just before power-on: module time is wall time
//! since then, for the CRTD frames and the capture alike (both are stamped from the system
//! clock). The log starts at the next whole second (`lead_in_secs`) and is paced on the wall
//! clock (`--speed`); see [`super::frames`] for the frame paths.
//!
//! The recording ends with the log plus `--tail`, after `--duration`, or at Ctrl-C; then the
//! barrier waits until what the module sent reached the tap and the observer, the CRTD writer is
//! flushed, the capture is finalised ([`super::finalise`]) and `recording.yaml` is written (with
//! the rig's params and the shortened intervals the module ran with). Only then are the
//! module's intervals restored; it is left running, as after a bench scenario.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use ovms_canlog::write::RecordWriter;
use ovms_canlog::{Format, Frame};
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::Instant;
use ovms_hil_bench::rig::CommandChannel;
use ovms_hil_bench::BenchRig;
use ovms_hil_net::capture::CaptureWriter;
use ovms_hil_net::{Endpoint, TimeSource};
use ovms_replay::socketcan::{AsyncSocketCanSource, SocketCanSink};
use tokio::time::Instant as TokioInstant;

use crate::adapt::observer::Watcher;
use crate::adapt::tap::ModuleTap;
use crate::rig::bench::BenchModule;

use super::finalise::finalise_wall_capture;
use super::frames::{FrameSink, FrameSource, LogFeed, Sent, SimulateRoute};
use super::yaml::RecordingYaml;
use super::{RecordArgs, RecordSummary, StopSignal};

/// Progress is printed every this much wall time.
const PROGRESS_EVERY: StdDuration = StdDuration::from_secs(5);

/// Records a bench module into `args.out`; `heard` is the opened `--can` source.
pub(super) async fn record(
    args: &RecordArgs,
    heard: Option<AsyncSocketCanSource>,
    stop: &StopSignal,
    files_final: &AtomicBool,
) -> Result<RecordSummary, String> {
    let bench = ovms_hil_bench::load_bench_rig(&args.rig).map_err(|e| e.to_string())?;
    let profile = bench.profile()?;
    if let Some(p) = &args.profile {
        let want = Profile::by_name_or_path(p).map_err(|e| e.to_string())?;
        if want.name() != profile.name() {
            return Err(format!(
                "--profile {p}: the bench module speaks {} (module.profile of {})",
                profile.name(),
                args.rig.display()
            ));
        }
    }
    if args.vehicle_id.is_some() || args.user.is_some() {
        return Err(format!(
            "--vehicle-id and --user are the bench module's own (module section of {})",
            args.rig.display()
        ));
    }
    let vehicle = args.vehicle.clone().ok_or(
        "--vehicle names the vehicle the bench module runs (recording.yaml's `vehicle:`, which \
         the scaffolded regression replays with)",
    )?;
    for (name, v) in [("--tail", Some(args.tail)), ("--duration", args.duration)] {
        if v.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
            return Err(format!("{name} must be a number of seconds >= 0"));
        }
    }
    let (source, sink) = match (heard, &args.simulate) {
        (Some(s), _) => {
            let sink = match (&args.replay, &args.can) {
                (Some(_), Some(iface)) => Some(FrameSink::SocketCan(
                    SocketCanSink::open(iface).map_err(|e| format!("--can {iface}: {e}"))?,
                )),
                _ => None,
            };
            (FrameSource::Heard(s), sink)
        }
        (None, Some(fixed)) => (
            FrameSource::Sent,
            Some(FrameSink::Simulate(SimulateRoute::new(
                fixed.clone(),
                &bench,
            )?)),
        ),
        (None, None) => {
            return Err(format!(
                "{}: a bench rig records through --simulate [HOST:PORT] --replay LOG (the \
                 module's CAN simulate server) or --can IFACE (SocketCAN)",
                args.rig.display()
            ))
        }
    };
    let feed = match &args.replay {
        Some(log) => Some(LogFeed::open(log, args.speed)?),
        None => None,
    };
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;

    let choice = args
        .broker
        .clone()
        .or_else(|| bench.broker_choice.clone())
        .unwrap_or_else(|| "auto".into());
    let broker = crate::adapt::broker::start(&choice).await?;
    eprintln!("{}", broker.describe());
    let yaml = RecordingYaml {
        vehicle,
        profile: bench.module.profile.clone(),
        vehicle_id: bench.module.vehicle_id.clone(),
        user: bench.module.mqtt_user.clone(),
        params: params_run_with(&bench),
        lead_in_secs: 0,
        log: "can.crtd".into(),
        capture: "capture.jsonl".into(),
        source: describe(args),
    };
    let session = Session {
        args,
        bench,
        profile,
        stop,
        files_final,
    };
    let result = session
        .run(broker.endpoint(), source, sink, feed, yaml)
        .await;
    broker.stop().await;
    result
}

/// The rig's `server.v3` params with the shortened intervals the module ran with.
fn params_run_with(bench: &BenchRig) -> BTreeMap<String, String> {
    let mut params = bench.module.params.clone();
    for (key, secs) in &bench.intervals {
        let key = if key.starts_with("updatetime.") {
            key.clone()
        } else {
            format!("updatetime.{key}")
        };
        params.insert(key, secs.to_string());
    }
    params
}

/// The command line, for the comment at the top of `recording.yaml`.
fn describe(args: &RecordArgs) -> String {
    let mut s = format!("ovms-hil record --rig {}", args.rig.display());
    match (&args.simulate, &args.can) {
        (Some(Some(a)), _) => s.push_str(&format!(" --simulate {a}")),
        (Some(None), _) => s.push_str(" --simulate"),
        (None, Some(i)) => s.push_str(&format!(" --can {i}")),
        (None, None) => {}
    }
    if let Some(l) = &args.replay {
        s.push_str(&format!(" --replay {} --speed {}", l.display(), args.speed));
    }
    s.push_str(" (wall clock)");
    s
}

/// The recording's zero: the system clock (which stamps capture records and frames alike) and
/// the monotonic clock (which paces the log) read at the same moment.
#[derive(Clone, Copy, Debug)]
struct Zero {
    system: SystemTime,
    mono: TokioInstant,
}

impl Zero {
    fn now() -> Zero {
        Zero {
            system: SystemTime::now(),
            mono: TokioInstant::now(),
        }
    }

    /// Unix seconds of the zero.
    fn unix(&self) -> f64 {
        self.system
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }

    fn unix_ns(&self) -> i64 {
        self.system
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    /// Nanoseconds of module time now (wall since zero, by the system clock).
    fn since_ns(&self) -> i64 {
        match SystemTime::now().duration_since(self.system) {
            Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
        }
    }
}

/// Frame counts, updated as the recording goes (kept when it fails midway).
#[derive(Debug, Default)]
struct Counts {
    frames: u64,
    skipped: u64,
}

struct Session<'a> {
    args: &'a RecordArgs,
    bench: BenchRig,
    profile: Profile,
    stop: &'a StopSignal,
    files_final: &'a AtomicBool,
}

impl Session<'_> {
    async fn run(
        self,
        endpoint: &Endpoint,
        source: FrameSource,
        mut sink: Option<FrameSink>,
        mut feed: Option<LogFeed>,
        mut yaml: RecordingYaml,
    ) -> Result<RecordSummary, String> {
        let out = &self.args.out;
        let capture_path = out.join("capture.jsonl");
        let capture = CaptureWriter::create(&capture_path).map_err(|e| e.to_string())?;
        let crtd_path = out.join("can.crtd");
        let mut crtd = ovms_canlog::write::create(&crtd_path, Format::Crtd)
            .map_err(|e| format!("{}: {e}", crtd_path.display()))?;
        let m = &self.bench.module;
        let prefix = self.profile.default_prefix(&m.mqtt_user, &m.vehicle_id);

        // Module time while recording (approximate, for a capture read before it is
        // finalised); the finalised capture takes it exactly from each record's wall time.
        let zero = Zero::now();
        let time = TimeSource::new();
        time.set_millis(0);
        let ticker = {
            let time = time.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(StdDuration::from_millis(10));
                loop {
                    every.tick().await;
                    time.set_millis(zero.mono.elapsed().as_millis() as u64);
                }
            })
        };
        let tap = ModuleTap::start(endpoint, Some(capture.clone()), time.clone()).await?;
        let observer = Watcher::start_with(
            endpoint,
            &format!("hil-record-observer-{}", m.vehicle_id),
            &[format!("{prefix}#")],
            Some(capture),
            time,
        )
        .await?;
        eprintln!(
            "recording: powering the bench module on ({}), module time 0 = now",
            self.bench.name.as_deref().unwrap_or("bench rig")
        );
        let upstream = tap.url();
        let started = tokio::select! {
            m = BenchModule::start_with(self.bench.clone(), &upstream, endpoint) => m,
            _ = self.stop.wait() => Err("Ctrl-C before the module was up: nothing recorded".into()),
        };
        let module = match started {
            Ok(m) => m,
            Err(e) => {
                ticker.abort();
                observer.stop().await;
                tap.stop().await;
                let _ = crtd.finish();
                return Err(e);
            }
        };

        let mut counts = Counts::default();
        let mut lead_in_secs = 0;
        let streamed = async {
            let connected =
                self.profile
                    .topic(MessageKind::Connected, &prefix, &TopicVars::default());
            self.wait_connected(&tap, &connected).await?;
            if let Some(FrameSink::Simulate(r)) = sink.as_mut() {
                r.connect_all().await?;
            }
            // The log starts at the next whole second of module time (where the regression
            // replay starts it: `lead_in_secs`).
            lead_in_secs = zero.mono.elapsed().as_millis().div_ceil(1000) as u64;
            let start = zero.mono + StdDuration::from_secs(lead_in_secs);
            tokio::select! {
                _ = tokio::time::sleep_until(start) => {}
                _ = self.stop.wait() => {}
            }
            if let Some(f) = feed.as_mut() {
                f.start_at(start);
                eprintln!(
                    "recording: module connected; the log starts at t={lead_in_secs} s (speed {})",
                    self.args.speed
                );
            } else {
                eprintln!("recording: module connected; recording from t={lead_in_secs} s");
            }
            self.stream(
                &zero,
                start,
                &source,
                sink.as_mut(),
                feed.as_mut(),
                &tap,
                crtd.as_mut(),
                &mut counts,
            )
            .await
        }
        .await;

        // Whatever happened, keep what was recorded: the barrier, the CRTD flushed, the capture
        // finalised and recording.yaml written, all before the module is touched again.
        if let Some(s) = sink {
            s.close().await;
        }
        if let Err(e) = tap
            .settle(
                &observer,
                self.bench.settle.max(StdDuration::from_millis(500)),
            )
            .await
        {
            eprintln!("ovms-hil record: warning: barrier at the end: {e}");
        }
        let end_ns = zero.since_ns();
        let end_unix = zero.unix() + end_ns as f64 / 1e9;
        let flushed = crtd
            .finish()
            .map_err(|e| format!("{}: {e}", crtd_path.display()));
        let finalised = finalise_wall_capture(
            &capture_path,
            zero.unix(),
            end_unix,
            &self.harness_filters(&prefix),
        );
        yaml.lead_in_secs = lead_in_secs;
        let written = yaml.write(out);
        self.files_final.store(true, Ordering::SeqCst);
        ticker.abort();

        eprintln!("recording: written; restoring the module's intervals");
        if let Err(e) = module.shutdown().await {
            eprintln!("ovms-hil record: warning: {e}");
        }
        observer.stop().await;
        tap.stop().await;

        let interrupted = streamed?;
        flushed?;
        let finalised = finalised?;
        written?;
        Ok(RecordSummary {
            frames: counts.frames,
            skipped: counts.skipped,
            publishes: finalised.module_publishes,
            lead_in_secs,
            end: Instant::from_millis(u64::try_from(end_ns / 1_000_000).unwrap_or(0)),
            interrupted,
        })
    }

    /// Topic filters of the harness's command channel (left out of the capture).
    fn harness_filters(&self, prefix: &str) -> Vec<String> {
        let CommandChannel::Mqtt { client_id, .. } = &self.bench.commands else {
            return Vec::new();
        };
        let vars = TopicVars {
            client_id: Some(client_id),
            ..TopicVars::default()
        };
        [MessageKind::Command, MessageKind::Response]
            .into_iter()
            .filter(|k| self.profile.has(*k))
            .map(|k| self.profile.topic(k, prefix, &vars))
            .collect()
    }

    /// Until the module published `connected yes` (within `bench.boot_ms`).
    async fn wait_connected(&self, tap: &ModuleTap, connected: &str) -> Result<(), String> {
        let deadline = TokioInstant::now() + self.bench.boot;
        loop {
            if tap
                .publishes()
                .iter()
                .any(|p| p.topic == connected && p.payload == b"yes")
            {
                return Ok(());
            }
            if self.stop.is_set() {
                return Err("Ctrl-C before the module connected: nothing recorded".into());
            }
            if TokioInstant::now() >= deadline {
                return Err(format!(
                    "the module did not publish `{connected}` = yes within bench.boot_ms {} ms",
                    self.bench.boot.as_millis()
                ));
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
    }

    /// The recording loop, the same for every frame path; returns whether Ctrl-C ended it.
    #[allow(clippy::too_many_arguments)]
    async fn stream(
        &self,
        zero: &Zero,
        start: TokioInstant,
        source: &FrameSource,
        mut sink: Option<&mut FrameSink>,
        mut feed: Option<&mut LogFeed>,
        tap: &ModuleTap,
        crtd: &mut dyn RecordWriter,
        counts: &mut Counts,
    ) -> Result<bool, String> {
        let never = start + StdDuration::from_secs(100 * 365 * 86_400);
        let mut end = self
            .args
            .duration
            .map_or(never, |d| start + StdDuration::from_secs_f64(d));
        let mut next_progress = TokioInstant::now() + PROGRESS_EVERY;
        loop {
            if self.stop.is_set() {
                return Ok(true);
            }
            let due = match feed.as_deref_mut() {
                Some(f) => f.next_due()?,
                None => None,
            };
            if feed.is_some() && due.is_none() {
                // The log is over: record the tail, then stop.
                let tail = TokioInstant::now() + StdDuration::from_secs_f64(self.args.tail);
                end = end.min(tail);
                feed = None;
            }
            tokio::select! {
                biased;
                _ = self.stop.wait() => return Ok(true),
                _ = tokio::time::sleep_until(end) => return Ok(false),
                _ = tokio::time::sleep_until(due.unwrap_or(never)), if due.is_some() => {
                    let (Some(f), Some(s)) = (feed.as_deref_mut(), sink.as_deref_mut()) else {
                        continue;
                    };
                    let Some(mut frame) = f.take() else { continue };
                    // Stamped when its send begins: whatever the module does because of it is
                    // stamped later.
                    let at = zero.since_ns();
                    match s.send(&frame).await? {
                        Sent::Skipped => counts.skipped += 1,
                        Sent::Yes if source.records_sent() => {
                            frame.ts_ns = at;
                            write_frame(crtd, &frame, counts)?;
                        }
                        Sent::Yes => {}
                    }
                }
                heard = source.heard() => {
                    let mut frame = heard?;
                    frame.ts_ns = frame.ts_ns.saturating_sub(zero.unix_ns());
                    write_frame(crtd, &frame, counts)?;
                }
                _ = tokio::time::sleep_until(next_progress) => {
                    next_progress += PROGRESS_EVERY;
                    eprintln!(
                        "recording: t={:.1} s, {} frames, {} module publishes",
                        zero.since_ns() as f64 / 1e9,
                        counts.frames,
                        tap.publishes().len()
                    );
                }
            }
        }
    }
}

fn write_frame(
    crtd: &mut dyn RecordWriter,
    frame: &Frame,
    counts: &mut Counts,
) -> Result<(), String> {
    match crtd.write_frame(frame) {
        Ok(true) => counts.frames += 1,
        Ok(false) => counts.skipped += 1,
        Err(e) => return Err(format!("can.crtd: {e}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn recording_params_are_the_rigs_with_the_shortened_intervals() {
        let b = ovms_hil_bench::load_bench_rig(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs/bench-emu-process.yaml"),
        )
        .unwrap();
        let p = params_run_with(&b);
        assert_eq!(p.get("updatetime.idle").map(String::as_str), Some("2"));
        assert_eq!(p.get("updatetime.charging").map(String::as_str), Some("2"));
    }
}
