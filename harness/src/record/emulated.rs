//! `record --replay LOG` on the in-process emulated rig: the log drives the module on the
//! VIRTUAL clock (module time moves from frame to frame, nothing sleeps); each CRTD frame is
//! stamped with the module time it was fed at and every tap publish with the instant the edge
//! handed it to its socket ([`stamp_capture`]).
//!
//! Ctrl-C finishes the frame being fed, waits at the barrier until every publish the module made
//! reached the tap and the observer, flushes the CRTD writer and finalises the capture times.

use std::path::Path;
use std::time::Duration as StdDuration;

use ovms_canlog::{Format, Frame, ReadOptions};
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::{Duration, Instant};
use ovms_hil_net::capture::{read_capture, CaptureRecord, CaptureWriter, Source};
use ovms_hil_net::TimeSource;

use crate::adapt::observer::Watcher;
use crate::adapt::tap::ModuleTap;
use crate::rig::file::RigFile;
use crate::rig::{emulated::Emulated, ModuleRig, ModuleSetup};

use super::yaml::RecordingYaml;
use super::{RecordArgs, RecordSummary, StopSignal};

/// Records `--replay LOG` through the emulated `rig` into `args.out`.
pub(super) async fn record(
    args: &RecordArgs,
    rig: &RigFile,
    stop: &StopSignal,
) -> Result<RecordSummary, String> {
    let profile_name = args.profile.as_deref().unwrap_or(super::DEFAULT_PROFILE);
    let profile = Profile::by_name_or_path(profile_name).map_err(|e| e.to_string())?;
    let Some(log) = &args.replay else {
        return Err("give a frame source: --replay LOG (emulated rig) or --can IFACE".into());
    };
    let vehicle_name = args
        .vehicle
        .as_deref()
        .ok_or("--replay needs --vehicle (the emulated module's decoder)")?;
    let vehicle =
        ovms_vehicles::load_vehicle(vehicle_name, &args.vehicles_dir).map_err(|e| e.to_string())?;
    let frames = ovms_canlog::open(log, &ReadOptions::default()).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;

    let choice = args
        .broker
        .clone()
        .or_else(|| rig.broker.clone())
        .unwrap_or_else(|| "auto".into());
    let broker = crate::adapt::broker::start(&choice).await?;
    eprintln!("{}", broker.describe());
    let session = Session {
        rig,
        profile,
        vehicle_id: args
            .vehicle_id
            .clone()
            .unwrap_or_else(|| rig.module.vehicle_id.clone()),
        user: args
            .user
            .clone()
            .unwrap_or_else(|| rig.module.mqtt_user.clone()),
        out: &args.out,
    };
    let result = session
        .run(broker.endpoint(), vehicle, frames.frames(), stop)
        .await;
    broker.stop().await;
    let summary = result?;
    let rec = RecordingYaml {
        vehicle: vehicle_name.to_string(),
        profile: profile_name.to_string(),
        vehicle_id: session.vehicle_id.clone(),
        user: session.user.clone(),
        params: rig.module.params.clone(),
        lead_in_secs: summary.lead_in_secs,
        log: "can.crtd".into(),
        capture: "capture.jsonl".into(),
        source: format!("ovms-hil record --replay {}", log.display()),
    };
    rec.write(&args.out)?;
    Ok(summary)
}
/// One recording's module identity and output directory.
struct Session<'a> {
    rig: &'a RigFile,
    profile: Profile,
    vehicle_id: String,
    user: String,
    out: &'a Path,
}

/// Progress is printed every this much module time.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

impl Session<'_> {
    async fn run(
        &self,
        endpoint: &ovms_hil_net::Endpoint,
        vehicle: Box<dyn ovms_firmware::vehicle::Vehicle>,
        mut frames: impl Iterator<Item = Result<Frame, ovms_canlog::LogError>>,
        stop: &StopSignal,
    ) -> Result<RecordSummary, String> {
        let capture_path = self.out.join("capture.jsonl");
        let capture = CaptureWriter::create(&capture_path).map_err(|e| e.to_string())?;
        let crtd_path = self.out.join("can.crtd");
        let mut crtd = ovms_canlog::write::create(&crtd_path, Format::Crtd)
            .map_err(|e| format!("{}: {e}", crtd_path.display()))?;
        let time = TimeSource::new();
        time.set_millis(0);
        let prefix = self.profile.default_prefix(&self.user, &self.vehicle_id);
        let tap = ModuleTap::start(endpoint, Some(capture.clone()), time.clone()).await?;
        let observer = Watcher::start_with(
            endpoint,
            &format!("hil-record-observer-{}", self.vehicle_id),
            &[format!("{prefix}#")],
            Some(capture),
            time.clone(),
        )
        .await?;
        let setup = ModuleSetup {
            broker_url: tap.url(),
            profile: self.profile.clone(),
            vehicle_id: self.vehicle_id.clone(),
            user: self.user.clone(),
            password: self.rig.module.password.clone(),
            keepalive_secs: self.rig.module.keepalive_secs,
            params: self.rig.module.params.clone(),
            initial_metrics: Vec::new(),
            barrier_timeout: StdDuration::from_millis(self.rig.timing.settle_ms.max(100)),
        };
        let module =
            ModuleRig::InProcess(Emulated::start_with_vehicle(setup, Some(vehicle), true).await?);
        let rec = Recorder {
            module: &module,
            tap: &tap,
            observer: &observer,
            time: &time,
            timeout: StdDuration::from_millis(self.rig.timing.settle_ms.max(100)),
        };
        let result = async {
            let connected =
                self.profile
                    .topic(MessageKind::Connected, &prefix, &TopicVars::default());
            rec.wait_connected(&connected).await?;
            // The log starts at the next whole second of module time (the regression replay
            // starts it at the same instant: `lead_in_secs`).
            let now = module.now().await?;
            let lead_in = now.as_millis().div_ceil(1000);
            let start = Instant::from_millis(lead_in * 1000);
            rec.advance_to(start).await?;
            let mut summary = RecordSummary {
                frames: 0,
                skipped: 0,
                publishes: 0,
                lead_in_secs: lead_in,
                end: start,
                interrupted: false,
            };
            let mut first_ns: Option<i64> = None;
            let mut next_progress = start + PROGRESS_EVERY;
            for frame in frames.by_ref() {
                if stop.is_set() {
                    summary.interrupted = true;
                    break;
                }
                let mut frame = frame.map_err(|e| e.to_string())?;
                let first = *first_ns.get_or_insert(frame.ts_ns);
                let offset_ms =
                    u64::try_from(frame.ts_ns.saturating_sub(first) / 1_000_000).unwrap_or(0);
                let due = start + Duration::from_millis(offset_ms);
                rec.advance_to(due).await?;
                if frame.error || frame.rtr {
                    summary.skipped += 1;
                    continue;
                }
                module
                    .can_frame(frame.bus, frame.id, frame.extended, &frame.data)
                    .await?;
                let at = module.now().await?;
                frame.ts_ns = i64::try_from(at.as_millis()).unwrap_or(i64::MAX) * 1_000_000;
                crtd.write_frame(&frame)
                    .map_err(|e| format!("{}: {e}", crtd_path.display()))?;
                summary.frames += 1;
                if at >= next_progress {
                    next_progress = at + PROGRESS_EVERY;
                    eprintln!(
                        "recording: module time {at}, {} frames, {} publishes",
                        summary.frames,
                        module.sent_count().unwrap_or(0)
                    );
                }
            }
            rec.settle().await?;
            summary.end = module.now().await?;
            summary.publishes = module.sent_count().unwrap_or(0);
            Ok::<_, String>(summary)
        }
        .await;
        // Whatever happened, keep what was recorded: flush the log, then stop the module.
        let flushed = crtd
            .finish()
            .map_err(|e| format!("{}: {e}", crtd_path.display()));
        let sent_log = module.sent_log();
        module.shutdown().await;
        observer.stop().await;
        tap.stop().await;
        let summary = result?;
        flushed?;
        stamp_capture(&capture_path, &sent_log)?;
        Ok(summary)
    }
}

/// The module, its tap and observer, and the time source their records share.
struct Recorder<'a> {
    module: &'a ModuleRig,
    tap: &'a ModuleTap,
    observer: &'a Watcher,
    time: &'a TimeSource,
    timeout: StdDuration,
}

impl Recorder<'_> {
    /// Move module time to `t` (no-op if already there) and wait at the barrier if it published.
    async fn advance_to(&self, t: Instant) -> Result<(), String> {
        let now = self.module.now().await?;
        if t > now {
            let before = self.module.sent_count();
            let reached = self.module.advance(t.saturating_since(now)).await?;
            self.time.set_millis(reached.as_millis());
            if self.module.sent_count() != before {
                self.settle().await?;
            }
        }
        Ok(())
    }

    /// Every publish the edge handed to its socket reached the tap, and the observer saw the rest.
    async fn settle(&self) -> Result<(), String> {
        if let Some(n) = self.module.sent_count() {
            self.tap
                .wait_publishes(n, self.timeout)
                .await
                .map_err(|got| format!("barrier: {got} of {n} publishes reached the tap"))?;
        }
        self.tap.settle(self.observer, self.timeout).await
    }

    /// Advance one second at a time until the module published `yes` on `connected`.
    async fn wait_connected(&self, connected: &str) -> Result<(), String> {
        for _ in 0..=120 {
            let t = self.module.advance(Duration::ZERO).await?;
            self.time.set_millis(t.as_millis());
            self.settle().await?;
            if self
                .tap
                .publishes()
                .iter()
                .any(|p| p.topic == connected && p.payload == b"yes")
            {
                return Ok(());
            }
            let t = self.module.advance(Duration::from_secs(1)).await?;
            self.time.set_millis(t.as_millis());
        }
        Err("the module did not connect within 120 s of module time".into())
    }
}

/// Give every tap publish towards the broker the module time the edge reported for it (matched
/// in order by topic), so the capture and the CRTD share one exact time base, and leave out the
/// harness's own barrier sentinels (not module traffic). The file is rewritten through a
/// temporary file and renamed: an interruption leaves the original.
pub fn stamp_capture(path: &Path, sent: &[(Instant, String)]) -> Result<usize, String> {
    let mut records = read_capture(path).map_err(|e| e.to_string())?;
    records.retain(|r| !is_barrier(r));
    let n = stamp_records(&mut records, sent);
    let tmp = path.with_extension("jsonl.tmp");
    {
        let w = CaptureWriter::create(&tmp).map_err(|e| e.to_string())?;
        for r in &records {
            w.write(r).map_err(|e| e.to_string())?;
        }
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(n)
}

/// Whether `r` is one of the harness's barrier sentinels.
pub fn is_barrier(r: &CaptureRecord) -> bool {
    r.topic
        .as_deref()
        .is_some_and(|t| t.starts_with(ovms_hil_net::observer::BARRIER_PREFIX))
}

/// In-memory part of [`stamp_capture`]; returns how many records got an exact time.
pub fn stamp_records(records: &mut [CaptureRecord], sent: &[(Instant, String)]) -> usize {
    let mut next = sent.iter().peekable();
    let mut n = 0;
    for r in records.iter_mut().filter(|r| {
        r.src == Source::Tap
            && r.dir.as_deref() != Some("to_client")
            && matches!(r.kind.as_deref(), None | Some("publish"))
            && r.topic.is_some()
    }) {
        if let Some((at, topic)) = next.peek() {
            if r.topic.as_deref() == Some(topic.as_str()) {
                r.t = Some(at.as_millis() as f64 / 1000.0);
                next.next();
                n += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_publishes_get_the_edge_times_in_order() {
        let mk = |src, dir: &str, topic: &str| {
            let mut r = CaptureRecord::new(src, Some(9.0), 1.0);
            r.kind = Some("publish".into());
            r.dir = Some(dir.into());
            r.topic = Some(topic.into());
            r
        };
        let mut recs = vec![
            mk(Source::Tap, "to_broker", "a"),
            mk(Source::Tap, "to_client", "a"),
            mk(Source::Tap, "to_broker", "sentinel"),
            mk(Source::Observer, "to_client", "b"),
            mk(Source::Tap, "to_broker", "b"),
        ];
        let sent = vec![
            (Instant::from_millis(1500), "a".to_string()),
            (Instant::from_millis(2000), "b".to_string()),
        ];
        assert_eq!(stamp_records(&mut recs, &sent), 2);
        let t: Vec<_> = recs.iter().map(|r| r.t.unwrap()).collect();
        assert_eq!(t, vec![1.5, 9.0, 9.0, 9.0, 2.0]);
    }
}
