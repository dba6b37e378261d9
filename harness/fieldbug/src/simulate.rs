//! Log → module → capture records, in-process on a virtual clock.
//!
//! The CAN log is read with `ovms-canlog`, its frames are fed to an [`ovms_firmware::module::Module`]
//! with the chosen vehicle decoder and profile, and the module's actions are answered by a fake
//! in-memory broker that accepts the connection and records every PUBLISH as a capture record
//! (`src: tap`, `dir: to_broker`), exactly as the wire tap would write it. Optional app clients
//! send heartbeats on their active topic (recorded as `dir: to_client`, as the tap sees the broker
//! deliver them to the module). Time is virtual: frame times are the log's times relative to its
//! first frame, plus [`SimOptions::lead_in_secs`]; hours of log take milliseconds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ovms_canlog::{LogError, ReadOptions};
use ovms_firmware::io::{Action, IncomingPublish, Input, QoS};
use ovms_firmware::module::{Module, ModuleConfig};
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::Vehicle;
use ovms_hil_net::capture::{CaptureRecord, Source};

/// An app client that sends heartbeats while the log plays.
#[derive(Clone, Debug, PartialEq)]
pub struct SimClient {
    /// Client id (topic level).
    pub id: String,
    /// Virtual second of the first heartbeat.
    pub from_secs: u64,
    /// Virtual second after which no heartbeat is sent (`None`: until the end).
    pub until_secs: Option<u64>,
    /// Seconds between heartbeats.
    pub every_secs: u64,
}

/// One publish the broker delivers to the module at a virtual time.
#[derive(Clone, Debug, PartialEq)]
pub struct Stimulus {
    /// Virtual seconds since boot.
    pub t: f64,
    /// Full topic.
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// How to run the simulation.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// `vehicle/id` of the module.
    pub vehicle_id: String,
    /// MQTT username.
    pub username: String,
    /// `server.v3` parameters (`updatetime.connected` = `30`, ...).
    pub params: BTreeMap<String, String>,
    /// Virtual seconds between module boot and the log's first frame.
    pub lead_in_secs: u64,
    /// Virtual seconds the module keeps running after the last frame.
    pub tail_secs: u64,
    /// Wall-clock Unix seconds written for virtual time 0.
    pub wall_start: f64,
    /// App clients sending heartbeats.
    pub clients: Vec<SimClient>,
    /// Further publishes delivered to the module (e.g. recorded client publishes), any order.
    pub stimuli: Vec<Stimulus>,
    /// Broker outages `(from, to)` in virtual seconds: the session is lost at `from` (the broker
    /// publishes the will), connection attempts fail until `to`, then the module reconnects on its
    /// own retry timer.
    pub outages: Vec<(u64, u64)>,
    /// Read the log leniently (skip bad records instead of failing).
    pub lenient: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            vehicle_id: "anon".into(),
            username: "anon".into(),
            params: BTreeMap::new(),
            lead_in_secs: 0,
            tail_secs: 0,
            // 2012-02-18 09:30:35 UTC, the date of the shared Roadster logs.
            wall_start: 1_329_557_435.0,
            clients: Vec::new(),
            stimuli: Vec::new(),
            outages: Vec::new(),
            lenient: false,
        }
    }
}

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The CAN log could not be read (with file:line:column).
    #[error(transparent)]
    Log(#[from] LogError),
    /// The log holds no frame.
    #[error("{}: the log holds no CAN frame", .0.display())]
    Empty(PathBuf),
}

/// Replays `log` through a module with `vehicle` and `profile` and returns what the wire tap would
/// have captured, in order.
pub fn simulate_capture(
    log: &Path,
    vehicle: Box<dyn Vehicle>,
    profile: &Profile,
    opts: &SimOptions,
) -> Result<Vec<CaptureRecord>, SimError> {
    let reader = ovms_canlog::open(log, &ReadOptions::default().lenient(opts.lenient))?;
    let mut frames = Vec::new();
    for f in reader.frames() {
        let f = f?;
        if !f.error && !f.rtr {
            frames.push(f);
        }
    }
    let first = frames
        .first()
        .map(|f| f.ts_ns)
        .ok_or_else(|| SimError::Empty(log.to_path_buf()))?;
    let lead_ms = opts.lead_in_secs * 1000;
    let at = |ts_ns: i64| {
        Instant::from_millis(lead_ms + (ts_ns.saturating_sub(first).max(0) / 1_000_000) as u64)
    };
    let end = frames
        .iter()
        .map(|f| at(f.ts_ns))
        .max()
        .unwrap_or(Instant::ZERO)
        + ovms_firmware::time::Duration::from_secs(opts.tail_secs);

    let config = ModuleConfig {
        vehicle_id: opts.vehicle_id.clone(),
        username: opts.username.clone(),
        params: opts.params.clone(),
        ..Default::default()
    };
    let mut sim = Sim::new(
        profile.clone(),
        config,
        opts.wall_start,
        opts.outages.clone(),
    );
    sim.module.set_vehicle(Instant::ZERO, vehicle);
    sim.pump(Instant::ZERO);

    let mut heartbeats = schedule(opts, profile, sim.module.prefix(), end);
    heartbeats.reverse();
    for f in &frames {
        let now = at(f.ts_ns);
        sim.advance_to(now, &mut heartbeats);
        sim.module.handle(
            now,
            Input::CanFrame {
                bus: f.bus,
                id: f.id,
                extended: f.extended,
                data: f.data.clone(),
            },
        );
        sim.pump(now);
    }
    sim.advance_to(end, &mut heartbeats);
    Ok(sim.records)
}

/// Something that happens to the module from outside, besides CAN frames.
#[derive(Clone, Debug)]
enum Event {
    /// The broker delivers a publish.
    Deliver(String, Vec<u8>),
    /// The broker goes away (the session is lost).
    Lost,
}

/// Every publish to the module (heartbeats and stimuli) and outage start, in time order (stable).
fn schedule(
    opts: &SimOptions,
    profile: &Profile,
    prefix: &str,
    end: Instant,
) -> Vec<(Instant, Event)> {
    let (clients, stimuli) = (&opts.clients, &opts.stimuli);
    let mut out = Vec::new();
    for (from, _) in &opts.outages {
        out.push((Instant::from_secs(*from), Event::Lost));
    }
    let end_secs = end.as_secs();
    for c in clients {
        let topic = profile.topic(
            MessageKind::ClientActive,
            prefix,
            &TopicVars {
                client_id: Some(&c.id),
                ..Default::default()
            },
        );
        let every = c.every_secs.max(1);
        let until = c.until_secs.unwrap_or(end_secs).min(end_secs);
        let mut t = c.from_secs;
        while t <= until {
            out.push((
                Instant::from_secs(t),
                Event::Deliver(topic.clone(), b"1".to_vec()),
            ));
            t += every;
        }
    }
    for s in stimuli {
        let ms = (s.t.max(0.0) * 1000.0).round() as u64;
        out.push((
            Instant::from_millis(ms),
            Event::Deliver(s.topic.clone(), s.payload.clone()),
        ));
    }
    out.sort_by_key(|e| e.0);
    out
}

/// The module plus the fake broker.
struct Sim {
    module: Module,
    wall_start: f64,
    records: Vec<CaptureRecord>,
    connected: bool,
    /// Retained messages the fake broker holds (for completeness of its behaviour).
    retained: BTreeMap<String, Vec<u8>>,
    /// Broker outages (from, to), seconds.
    outages: Vec<(u64, u64)>,
    /// The will of the current session.
    will: Option<ovms_firmware::io::Will>,
}

impl Sim {
    fn new(
        profile: Profile,
        config: ModuleConfig,
        wall_start: f64,
        outages: Vec<(u64, u64)>,
    ) -> Sim {
        Sim {
            module: Module::new(profile, config, Instant::ZERO),
            wall_start,
            records: Vec::new(),
            connected: false,
            retained: BTreeMap::new(),
            outages,
            will: None,
        }
    }

    fn broker_down(&self, now: Instant) -> bool {
        let s = now.as_secs();
        self.outages.iter().any(|(from, to)| s >= *from && s < *to)
    }

    /// The broker goes away: the session is lost and the broker publishes the will, which
    /// subscribers (the observer) see.
    fn lose(&mut self, now: Instant) {
        if !self.connected {
            return;
        }
        self.connected = false;
        let t = now.as_secs_f64();
        let mut closed = CaptureRecord::new(Source::Tap, Some(t), self.wall_start + t);
        closed.kind = Some("closed".into());
        closed.conn = Some("1".into());
        self.records.push(closed);
        if let Some(w) = self.will.take() {
            if w.retain {
                self.retained.insert(w.topic.clone(), w.payload.clone());
            }
            let mut r = CaptureRecord::new(Source::Observer, Some(t), self.wall_start + t)
                .with_payload(&w.payload);
            r.kind = Some("publish".into());
            r.conn = Some("observer".into());
            r.topic = Some(w.topic);
            r.qos = Some(w.qos.as_u8());
            r.retain = Some(w.retain);
            r.extra.insert("will".into(), true.into());
            self.records.push(r);
        }
        self.module.handle(now, Input::ConnectionLost);
        self.pump(now);
    }

    /// Run timers and heartbeats due up to `now` (inclusive for timers strictly before `now`).
    fn advance_to(&mut self, now: Instant, heartbeats: &mut Vec<(Instant, Event)>) {
        loop {
            let timer = self.module.poll_timeout().filter(|d| *d <= now);
            let hb = heartbeats.last().map(|e| e.0).filter(|d| *d <= now);
            match (timer, hb) {
                (None, None) => break,
                (Some(t), h) if h.is_none_or(|h| t <= h) => {
                    self.module.handle_timeout(t);
                    self.pump(t);
                }
                (_, Some(h)) => match heartbeats.pop().expect("peeked").1 {
                    Event::Deliver(topic, payload) => self.deliver(h, topic, payload),
                    Event::Lost => self.lose(h),
                },
                (Some(_), None) => unreachable!("covered by the guard arm"),
            }
        }
    }

    /// The broker delivers a client's publish to the module (while the session is up).
    fn deliver(&mut self, now: Instant, topic: String, payload: Vec<u8>) {
        if !self.connected {
            return;
        }
        let qos = QoS::AtLeastOnce;
        self.record(now, "to_client", &topic, &payload, qos, false);
        self.module.handle(
            now,
            Input::Publish(IncomingPublish {
                topic,
                payload,
                qos,
                retain: false,
            }),
        );
        self.pump(now);
    }

    fn record(
        &mut self,
        now: Instant,
        dir: &str,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) {
        let t = now.as_secs_f64();
        let mut r =
            CaptureRecord::new(Source::Tap, Some(t), self.wall_start + t).with_payload(payload);
        r.kind = Some("publish".into());
        r.dir = Some(dir.into());
        r.conn = Some("1".into());
        r.topic = Some(topic.to_string());
        r.qos = Some(qos.as_u8());
        r.retain = Some(retain);
        self.records.push(r);
    }

    /// Answer every pending action as a healthy broker would.
    fn pump(&mut self, now: Instant) {
        while let Some(a) = self.module.poll_action() {
            match a {
                Action::Connect(c) => {
                    let t = now.as_secs_f64();
                    let mut r = CaptureRecord::new(Source::Tap, Some(t), self.wall_start + t);
                    r.kind = Some("connect".into());
                    r.dir = Some("to_broker".into());
                    r.conn = Some("1".into());
                    r.extra
                        .insert("client_id".into(), c.client_id.clone().into());
                    if self.broker_down(now) {
                        r.extra.insert("result".into(), "connect failed".into());
                        self.records.push(r);
                        self.module.handle(now, Input::ConnectFailed);
                        continue;
                    }
                    self.records.push(r);
                    self.connected = true;
                    self.will = Some(c.will.clone());
                    self.module.handle(now, Input::ConnAccepted);
                }
                Action::Publish(p) => {
                    if p.retain {
                        self.retained.insert(p.topic.clone(), p.payload.clone());
                    }
                    self.record(now, "to_broker", &p.topic, &p.payload, p.qos, p.retain);
                }
                Action::Disconnect => self.connected = false,
                Action::Subscribe(_) | Action::CanTransmit { .. } => {}
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::topics::{TopicClassifier, TopicKind, TopicNames};

    pub(crate) fn roadster_log() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../scenarios/logs/tesla-roadster_20120218.drive-a.csv")
    }

    #[test]
    fn roadster_drive_becomes_a_capture() {
        let profile = Profile::builtin("draft").unwrap();
        let v = ovms_vehicles::load_vehicle("tesla-roadster", Path::new(".")).unwrap();
        let opts = SimOptions {
            clients: vec![SimClient {
                id: "app".into(),
                from_secs: 100,
                until_secs: Some(700),
                every_secs: 60,
            }],
            ..Default::default()
        };
        let cap = simulate_capture(&roadster_log(), v, &profile, &opts).unwrap();
        let prefix = profile.default_prefix("anon", "anon");
        let c = TopicClassifier::new(&profile, &prefix, &TopicNames::default());
        let soc: Vec<_> = cap
            .iter()
            .filter(|r| {
                r.topic.as_deref().map(|t| c.classify(t))
                    == Some(TopicKind::Metric {
                        name: "v.b.soc".into(),
                    })
            })
            .collect();
        assert!(!soc.is_empty(), "v.b.soc is published");
        let yes = cap.iter().any(|r| {
            r.topic.as_deref() == Some(c.connected_topic()) && r.payload.as_deref() == Some("yes")
        });
        assert!(yes, "the connected flag goes out");
        let hbs = cap
            .iter()
            .filter(|r| {
                matches!(
                    r.topic.as_deref().map(|t| c.classify(t)),
                    Some(TopicKind::ClientActive { .. })
                )
            })
            .count();
        assert_eq!(hbs, 11, "heartbeats at 100, 160, ..., 700");
        let peers: Vec<_> = cap
            .iter()
            .filter(|r| r.topic.as_deref() == Some(c.peers_topic()))
            .map(|r| r.payload.clone().unwrap())
            .collect();
        assert!(peers.contains(&"1".to_string()), "peers: {peers:?}");
        let last = cap.iter().filter_map(|r| r.t).fold(0.0, f64::max);
        assert!(last > 700.0, "virtual time covers the log: {last}");
        // Times never go backwards.
        assert!(cap.windows(2).all(|w| w[0].t <= w[1].t));
    }

    #[test]
    fn an_outage_publishes_the_will_and_the_module_reconnects() {
        let profile = Profile::builtin("draft").unwrap();
        let v = ovms_vehicles::load_vehicle("tesla-roadster", Path::new(".")).unwrap();
        let opts = SimOptions {
            outages: vec![(300, 400)],
            ..Default::default()
        };
        let cap = simulate_capture(&roadster_log(), v, &profile, &opts).unwrap();
        let prefix = profile.default_prefix("anon", "anon");
        let c = TopicClassifier::new(&profile, &prefix, &TopicNames::default());
        let states: Vec<(f64, &str, Source)> = cap
            .iter()
            .filter(|r| r.topic.as_deref() == Some(c.connected_topic()))
            .map(|r| (r.t.unwrap(), r.payload.as_deref().unwrap(), r.src))
            .collect();
        assert_eq!(states[0], (0.0, "yes", Source::Tap));
        assert_eq!(states[1], (300.0, "no", Source::Observer), "the will");
        // Retries every 20 s (draft) fail until 400 s; the next one succeeds.
        let back = states[2];
        assert_eq!(back.1, "yes");
        assert!(back.0 >= 400.0 && back.0 <= 420.0, "{back:?}");
        let failed = cap
            .iter()
            .filter(|r| r.extra.get("result").and_then(|v| v.as_str()) == Some("connect failed"))
            .count();
        assert!(failed >= 4, "{failed} failed attempts");
    }
}
