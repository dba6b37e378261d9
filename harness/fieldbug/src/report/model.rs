//! From capture records to what the report draws.

use std::collections::BTreeMap;

use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_hil_net::capture::{CaptureRecord, Source};

use super::{Marker, ReportOptions};
use crate::timeline::{
    cadence_points, has_tap, is_module_publish, is_pass, is_publish, payload_text, record_time,
    wall_origin,
};
use crate::topics::{TopicClassifier, TopicKind};

/// One publish as drawn.
#[derive(Clone, Debug)]
pub struct Tick {
    /// Axis time.
    pub t: f64,
    /// Payload text.
    pub payload: String,
    /// QoS.
    pub qos: Option<u8>,
    /// Retain.
    pub retain: Option<bool>,
    /// Sent by the module.
    pub from_module: bool,
}

/// One topic lane.
#[derive(Clone, Debug)]
pub struct Lane {
    /// Full topic.
    pub topic: String,
    /// Label (topic relative to the prefix).
    pub label: String,
    /// Publishes.
    pub ticks: Vec<Tick>,
}

/// Everything the page shows.
#[derive(Debug)]
pub struct Model {
    /// Axis start.
    pub t0: f64,
    /// Axis end.
    pub t1: f64,
    /// Whether the axis is virtual time.
    pub virtual_time: bool,
    /// Profile name used, if any.
    pub profile: Option<String>,
    /// Prefix used.
    pub prefix: String,
    /// The connected topic.
    pub connected_topic: Option<String>,
    /// The peers topic.
    pub peers_topic: Option<String>,
    /// Connected state changes (`None`: payload neither yes nor no).
    pub connected: Vec<(f64, Option<bool>)>,
    /// Peer count changes.
    pub peers: Vec<(f64, i64)>,
    /// Client id → heartbeats.
    pub clients: BTreeMap<String, Vec<Tick>>,
    /// Cadence ticks: (second, publishes in it).
    pub cadence: Vec<(f64, usize)>,
    /// Topic lanes.
    pub lanes: Vec<Lane>,
    /// Failing assertions.
    pub failures: Vec<Marker>,
    /// Records in the capture.
    pub records: usize,
    /// Publishes drawn.
    pub publishes: usize,
}

/// The builtin profile whose connected topic (relative to a prefix) ends some captured topic.
/// Profiles with the same topics (fw-3.3.005 and fw-3.3.006) cannot be told apart by topics; the
/// newest wins.
pub fn infer_profile(capture: &[CaptureRecord]) -> Option<Profile> {
    Profile::builtin_names()
        .iter()
        .rev()
        .filter_map(|n| Profile::builtin(n))
        .find(|p| infer_prefix(capture, p).is_some())
}

/// The prefix under which the capture has `profile`'s connected topic.
pub fn infer_prefix(capture: &[CaptureRecord], profile: &Profile) -> Option<String> {
    let rel = profile.topic(MessageKind::Connected, "", &TopicVars::default());
    if rel.is_empty() {
        return None;
    }
    capture
        .iter()
        .filter_map(|r| r.topic.as_deref())
        .find_map(|t| {
            t.strip_suffix(rel.as_str())
                .filter(|p| p.is_empty() || p.ends_with('/'))
                .map(str::to_string)
        })
}

fn yes_no(p: &str) -> Option<bool> {
    match p {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

impl Model {
    /// Builds the model.
    pub fn build(capture: &[CaptureRecord], opts: &ReportOptions) -> Model {
        let wall0 = wall_origin(capture);
        let profile = opts.profile.clone().or_else(|| infer_profile(capture));
        let prefix = opts
            .prefix
            .clone()
            .or_else(|| profile.as_ref().and_then(|p| infer_prefix(capture, p)))
            .unwrap_or_default();
        let classifier = profile
            .as_ref()
            .map(|p| TopicClassifier::new(p, &prefix, &opts.names));
        let classify = |topic: &str| -> TopicKind {
            match &classifier {
                Some(c) => c.classify(topic),
                None => {
                    if opts.names.connected.as_deref() == Some(topic) {
                        TopicKind::Connected
                    } else if opts.names.peers.as_deref() == Some(topic) {
                        TopicKind::Peers
                    } else if opts.names.client_active.iter().any(|t| t == topic) {
                        TopicKind::ClientActive {
                            client: topic.rsplit('/').next().unwrap_or("").to_string(),
                        }
                    } else {
                        TopicKind::Other
                    }
                }
            }
        };
        let is_client = |t: &str| matches!(classify(t), TopicKind::ClientActive { .. });
        let tap = has_tap(capture);
        let chosen: Vec<&CaptureRecord> = capture
            .iter()
            .filter(|r| is_publish(r))
            .filter(|r| !tap || r.src == Source::Tap)
            .collect();
        // The connected state also counts what only subscribers see: the broker's will.
        let mut connected: Vec<(f64, Option<bool>)> = capture
            .iter()
            .filter(|r| is_publish(r) && (tap && r.src == Source::Observer))
            .filter(|r| {
                matches!(
                    classify(r.topic.as_deref().unwrap_or("")),
                    TopicKind::Connected
                )
            })
            .map(|r| (record_time(r, wall0), yes_no(&payload_text(r))))
            .collect();

        let mut lanes: BTreeMap<String, Lane> = BTreeMap::new();
        let mut clients: BTreeMap<String, Vec<Tick>> = BTreeMap::new();
        let mut peers = Vec::new();
        let (mut t0, mut t1) = (f64::INFINITY, f64::NEG_INFINITY);
        for r in &chosen {
            let t = record_time(r, wall0);
            if !t.is_finite() {
                continue;
            }
            t0 = t0.min(t);
            t1 = t1.max(t);
            let topic = r.topic.clone().unwrap_or_default();
            let tick = Tick {
                t,
                payload: payload_text(r),
                qos: r.qos,
                retain: r.retain,
                from_module: is_module_publish(r, tap, &is_client),
            };
            match classify(&topic) {
                TopicKind::ClientActive { client } => {
                    clients.entry(client).or_default().push(tick);
                    continue;
                }
                TopicKind::Connected => connected.push((t, yes_no(&tick.payload))),
                TopicKind::Peers => {
                    if let Ok(n) = tick.payload.trim().parse::<i64>() {
                        peers.push((t, n));
                    }
                }
                _ => {}
            }
            let label = topic
                .strip_prefix(prefix.as_str())
                .filter(|_| !prefix.is_empty())
                .unwrap_or(&topic)
                .to_string();
            lanes
                .entry(topic.clone())
                .or_insert_with(|| Lane {
                    topic: topic.clone(),
                    label,
                    ticks: Vec::new(),
                })
                .ticks
                .push(tick);
        }
        connected.sort_by(|a, b| a.0.total_cmp(&b.0));
        connected.dedup_by(|b, a| a.1 == b.1);
        for (t, _) in &connected {
            t0 = t0.min(*t);
            t1 = t1.max(*t);
        }
        let failures: Vec<Marker> = opts
            .failures
            .iter()
            .filter(|m| m.t.is_finite())
            .cloned()
            .collect();
        for m in &failures {
            t0 = t0.min(m.t);
            t1 = t1.max(m.t);
        }
        if !t0.is_finite() {
            t0 = 0.0;
            t1 = 1.0;
        }
        if t1 - t0 < 1.0 {
            t1 = t0 + 1.0;
        }
        let module_pubs = chosen
            .iter()
            .copied()
            .filter(|r| is_module_publish(r, tap, &is_client));
        let cadence = cadence_points(module_pubs, wall0)
            .into_iter()
            .filter(|p| is_pass(p, opts.cadence_min_publishes))
            .map(|p| (p.second as f64, p.count))
            .collect();
        let mut lanes: Vec<Lane> = lanes.into_values().collect();
        // Module state first (connected, peers), then by label.
        let key = |l: &Lane| match classify(&l.topic) {
            TopicKind::Connected => 0,
            TopicKind::Peers => 1,
            TopicKind::Metric { .. } => 2,
            _ => 3,
        };
        lanes.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.label.cmp(&b.label)));
        Model {
            t0,
            t1,
            virtual_time: capture.iter().any(|r| r.t.is_some()),
            profile: profile.as_ref().map(|p| p.name().to_string()),
            connected_topic: classifier
                .as_ref()
                .map(|c| c.connected_topic().to_string())
                .or_else(|| opts.names.connected.clone()),
            peers_topic: classifier
                .as_ref()
                .map(|c| c.peers_topic().to_string())
                .or_else(|| opts.names.peers.clone()),
            prefix,
            connected,
            peers,
            clients,
            cadence,
            publishes: chosen.len(),
            lanes,
            failures,
            records: capture.len(),
        }
    }
}
