//! Regression steps: a field recording scaffolded by `ovms-hil scaffold` replayed through the
//! real path (the rig's module on the virtual clock, the wire tap, the run's broker) and its
//! published timeline compared with `expected.yaml`.
//!
//! - `When the recording "<dir>/expected.yaml" is replayed`: the module is started with the
//!   recorded vehicle and `server.v3` params (over the rig's), module time is moved to
//!   `lead_in_secs`, the log (relative to the file) is fed on the virtual clock, then module
//!   time moves on by `tolerance_secs` so publishes due just after the last frame happen. The
//!   recorded client publishes (app heartbeats, commands) are published through the run's broker
//!   at their module times, before, during and after the log. Broker outages are refused.
//! - `Then the published timeline matches "<dir>/expected.yaml"`: for each cadence point, each
//!   topic/payload whose metric is not ignored must have been published by the module (tap) at a
//!   virtual second within `t ± tolerance_secs`
//!   (`ovms_hil_fieldbug::scaffold::check_timeline`). The failure lists every miss with its topic,
//!   the expected time and what was published instead, and when.

use std::path::{Path, PathBuf};

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::Profile;
use ovms_firmware::time::{Duration, Instant};
use ovms_hil_fieldbug::scaffold::{
    check_timeline, ClientPublish, ExpectedTimeline, TimelineMismatch,
};
use ovms_hil_net::app::AppClient as NetApp;
use ovms_hil_net::capture::{CaptureRecord, Source};
use ovms_hil_net::client::ClientOptions;

use super::{args, run, StepDef};
use crate::def;
use crate::replay::Pace;
use crate::rig::file::RigKind;
use crate::world::{HilWorld, Sent};

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            When,
            r#"^the recording "([^"]+)" is replayed$"#,
            replay_recording
        ),
        def!(
            Then,
            r#"^the published timeline matches "([^"]+)"$"#,
            timeline_matches
        ),
    ]
}

/// A path as written in a feature: as given (relative to the current directory), else relative
/// to the repository (the rig directory's parent).
fn resolve(w: &HilWorld, p: &str) -> Result<PathBuf, String> {
    let direct = PathBuf::from(p);
    if direct.is_file() {
        return Ok(direct);
    }
    let dir = &w.ctx().rig_dir;
    let rel = dir.parent().unwrap_or(dir).join(p);
    if rel.is_file() {
        Ok(rel)
    } else {
        Err(format!("{p} not found (also looked at {})", rel.display()))
    }
}

fn load(w: &HilWorld, p: &str) -> Result<(PathBuf, ExpectedTimeline), String> {
    let path = resolve(w, p)?;
    let e = ExpectedTimeline::load(&path).map_err(|e| e.to_string())?;
    Ok((path, e))
}

fn replay_recording(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let (path, e) = load(w, &args(&ctx)[0])?;
        if w.module.is_some() {
            return Err("the recording must be replayed into a module not started yet".into());
        }
        check_profile(w, &e)?;
        if w.ctx().rig.kind != RigKind::Emulated {
            return Err(format!(
                "regression replays need the in-process emulated rig (kind: emulated), which \
                 reports each publish's module time; this rig is {}",
                w.ctx().rig.kind
            ));
        }
        if !e.broker_outages.is_empty() {
            return Err(format!(
                "{}: this recording has {} broker outages; replaying those through the rig is \
                 not supported yet",
                path.display(),
                e.broker_outages.len()
            ));
        }
        w.vehicle = Some(e.vehicle.clone());
        w.params
            .extend(e.params.iter().map(|(k, v)| (k.clone(), v.clone())));
        w.start_module().await?;
        let lead_in = Instant::from_millis(e.lead_in_secs * 1000);
        let now = w.now().await?;
        if now < lead_in {
            w.advance(lead_in.saturating_since(now)).await?;
        }
        let log = path.parent().unwrap_or(Path::new(".")).join(&e.log);
        let tail = Duration::from_secs(e.tolerance_secs);
        let frames = if e.client_publishes.is_empty() {
            w.replay_log(&log, Pace::Virtual).await?.frames
        } else {
            replay_with_client_publishes(w, &log, lead_in, tail, &e.client_publishes).await?
        };
        if frames == 0 {
            return Err(format!("{}: no frames were fed", log.display()));
        }
        if e.client_publishes.is_empty() {
            w.advance(tail).await?;
        }
        Ok(())
    })
}

/// Move module time to `t` (no-op if already there).
async fn advance_to(w: &mut HilWorld, t: Instant) -> Result<(), String> {
    let now = w.now().await?;
    if t > now {
        w.advance(t.saturating_since(now)).await?;
    }
    Ok(())
}

/// Module time of a recorded client publish (`t` in seconds, whole milliseconds).
fn client_time(p: &ClientPublish) -> Instant {
    Instant::from_millis((p.t.max(0.0) * 1000.0).round() as u64)
}

/// Feeds the log from `lead_in` on the virtual clock, frame by frame, and delivers the
/// recording's client publishes (heartbeats, commands) through the run's broker at their module
/// times, before the log, between its frames and up to `tail` after it (module time ends `tail`
/// after the last frame); each publish is waited for at the module. Returns the frames fed.
async fn replay_with_client_publishes(
    w: &mut HilWorld,
    log: &Path,
    lead_in: Instant,
    tail: Duration,
    publishes: &[ClientPublish],
) -> Result<u64, String> {
    let mut pending: Vec<&ClientPublish> = publishes.iter().collect();
    pending.sort_by(|a, b| a.t.total_cmp(&b.t));
    let mut pending = pending.into_iter().peekable();
    let id = format!("hil-regression-{}", w.vehicle_id);
    let opts =
        ClientOptions::new(w.ctx().broker.endpoint().clone(), id.clone()).without_reconnect();
    let client = NetApp::connect(opts)
        .await
        .map_err(|e| format!("client {id}: {e}"))?;
    let result = async {
        let reader = ovms_canlog::open(log, &ovms_canlog::ReadOptions::default())
            .map_err(|e| e.to_string())?;
        let mut first_ns = None;
        let mut fed = 0u64;
        for frame in reader.frames() {
            let frame = frame.map_err(|e| e.to_string())?;
            let first = *first_ns.get_or_insert(frame.ts_ns);
            let offset = u64::try_from(frame.ts_ns.saturating_sub(first) / 1_000_000).unwrap_or(0);
            let due = lead_in + Duration::from_millis(offset);
            deliver_until(w, &client, &mut pending, due).await?;
            advance_to(w, due).await?;
            if frame.error || frame.rtr {
                continue;
            }
            w.module()?
                .can_frame(frame.bus, frame.id, frame.extended, &frame.data)
                .await?;
            fed += 1;
        }
        // Publishes due just after the last frame happen, as in the recording.
        let end = w.now().await? + tail;
        deliver_until(w, &client, &mut pending, end).await?;
        advance_to(w, end).await?;
        Ok::<_, String>(fed)
    }
    .await;
    let _ = client.disconnect().await;
    result
}

/// Deliver the pending client publishes due at or before `until`, each at its module time.
async fn deliver_until<'a>(
    w: &mut HilWorld,
    client: &NetApp,
    pending: &mut std::iter::Peekable<impl Iterator<Item = &'a ClientPublish>>,
    until: Instant,
) -> Result<(), String> {
    while let Some(p) = pending.next_if(|p| client_time(p) <= until) {
        advance_to(w, client_time(p)).await?;
        let topic = format!("{}{}", w.prefix, p.topic);
        let payload = match p.payload.strip_prefix("base64:") {
            Some(b64) => {
                let mut r = CaptureRecord::new(Source::Observer, None, 0.0);
                r.payload = Some(b64.to_string());
                r.payload_encoding = Some("base64".into());
                r.payload_bytes()
                    .ok_or_else(|| format!("client publish on {topic}: bad base64 payload"))?
            }
            None => p.payload.clone().into_bytes(),
        };
        let before = w.module()?.received_count().await;
        client
            .publish(&topic, payload, 1, false)
            .await
            .map_err(|e| format!("client publish on {topic}: {e}"))?;
        w.wait_module_received(before + 1).await?;
    }
    Ok(())
}

/// The recording's profile must be the scenario's (the feature's `@profile:` tag).
fn check_profile(w: &HilWorld, e: &ExpectedTimeline) -> Result<(), String> {
    let recorded = Profile::by_name_or_path(&e.profile).map_err(|x| x.to_string())?;
    if recorded.name() != w.profile_name {
        return Err(format!(
            "the recording was made with profile {} but this scenario runs with {} \
             (tag the feature @profile:{})",
            recorded.name(),
            w.profile_name,
            recorded.name()
        ));
    }
    Ok(())
}

/// What the module sent, as capture records on the virtual time axis.
pub fn sent_records(sent: &[Sent]) -> Vec<CaptureRecord> {
    sent.iter()
        .filter_map(|s| {
            let t = s.at?.as_millis() as f64 / 1000.0;
            let mut r =
                CaptureRecord::new(Source::Tap, Some(t), 0.0).with_payload(&s.publish.payload);
            r.kind = Some("publish".into());
            r.dir = Some("to_broker".into());
            r.topic = Some(s.publish.topic.clone());
            r.qos = Some(s.publish.qos);
            r.retain = Some(s.publish.retain);
            Some(r)
        })
        .collect()
}

/// The failure text: every miss with its full topic.
pub fn describe(path: &str, m: &TimelineMismatch) -> String {
    let mut out = format!(
        "{path}: published timeline differs: {} of {} expected publishes missing",
        m.mismatches.len(),
        m.checked
    );
    for x in m.mismatches.iter().take(40) {
        out.push_str(&format!("\n  {x} [topic {}]", x.topic));
    }
    if m.mismatches.len() > 40 {
        out.push_str(&format!("\n  ... and {} more", m.mismatches.len() - 40));
    }
    out
}

fn timeline_matches(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let p = args(&ctx)[0].clone();
        let (_, mut e) = load(w, &p)?;
        w.settle().await?;
        let sent = w.sent();
        if sent.is_empty() {
            return Err("the module published nothing (was the recording replayed?)".into());
        }
        if sent.iter().all(|s| s.at.is_none()) {
            return Err(
                "this rig reports no module time for publishes; the timeline cannot be compared"
                    .into(),
            );
        }
        // The scenario's module runs under its own vehicle id on the shared broker.
        e.prefix = w.prefix.clone();
        check_timeline(&e, &sent_records(&sent)).map_err(|m| describe(&p, &m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapt::tap::SentPublish;
    use ovms_hil_fieldbug::scaffold::{Found, Mismatch};

    #[test]
    fn sent_publishes_become_tap_records_on_the_virtual_axis() {
        let s = Sent {
            at: Some(Instant::from_millis(61_500)),
            publish: SentPublish {
                topic: "ovms/u/v/metric/v/b/soc".into(),
                payload: b"95".to_vec(),
                qos: 1,
                retain: true,
                dup: false,
                conn: 1,
            },
        };
        let unstamped = Sent {
            at: None,
            ..s.clone()
        };
        let r = sent_records(&[s, unstamped]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].t, Some(61.5));
        assert_eq!(r[0].payload.as_deref(), Some("95"));
        assert_eq!(r[0].dir.as_deref(), Some("to_broker"));
    }

    #[test]
    fn the_failure_names_topic_and_times() {
        let m = TimelineMismatch {
            mismatches: vec![Mismatch {
                what: "v.b.soc".into(),
                topic: "ovms/u/v/metric/v/b/soc".into(),
                payload: "95".into(),
                t: 181,
                found: Found::ElsewhereAt(151.0),
            }],
            checked: 10,
        };
        let text = describe("x/expected.yaml", &m);
        assert!(text.contains("1 of 10"), "{text}");
        assert!(
            text.contains("v.b.soc: expected \"95\" at t=181 s, published at t=151 s [topic ovms/u/v/metric/v/b/soc]"),
            "{text}"
        );
    }
}
