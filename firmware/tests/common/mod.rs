//! Test driver for the protocol core, in the style of quinn-proto's `Pair`: one [`Module`], one
//! in-memory [`FakeBroker`] (a fake: just enough MQTT routing, retain and will for assertions;
//! broker-behaviour claims are tested against real mosquitto in the harness), and virtual time
//! that jumps from deadline to deadline.
#![allow(dead_code)]

use ovms_firmware::io::{Action, ConnectOptions, IncomingPublish, Input, Publish, QoS};
use ovms_firmware::metrics::MetricValue;
use ovms_firmware::module::{Module, ModuleConfig};
use ovms_firmware::profile::Profile;
use ovms_firmware::time::{Duration, Instant};
use std::collections::BTreeMap;

/// How the fake broker answers CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectMode {
    /// CONNACK 0.
    Accept,
    /// CONNACK with this refusal code.
    Refuse(u8),
    /// The TCP connect fails.
    Fail,
    /// No answer (the connect hangs).
    Silent,
}

/// One publish the module sent, with the module time it was sent at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub at: Instant,
    pub publish: Publish,
}

impl Sent {
    pub fn payload(&self) -> &str {
        std::str::from_utf8(&self.publish.payload).unwrap_or("<binary>")
    }
}

/// An in-memory stand-in for an MQTT broker (named as a fake on purpose).
#[derive(Debug, Default)]
pub struct FakeBroker {
    pub connects: Vec<(Instant, ConnectOptions)>,
    pub subscribes: Vec<(Instant, Vec<(String, QoS)>)>,
    pub sent: Vec<Sent>,
    pub retained: BTreeMap<String, Vec<u8>>,
    pub disconnects: Vec<Instant>,
    pub can_tx: Vec<(Instant, u32, Vec<u8>)>,
    pub connected: bool,
    pub will: Option<ovms_firmware::io::Will>,
    /// Everything in order: `CONNECT`, `SUBSCRIBE`, `PUBLISH <topic>`, `DISCONNECT`.
    pub log: Vec<String>,
}

/// MQTT topic filter matching (`+` one level, `#` the rest).
pub fn filter_matches(filter: &str, topic: &str) -> bool {
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Module + fake broker + virtual time.
pub struct Rig {
    pub module: Module,
    pub broker: FakeBroker,
    pub now: Instant,
    pub mode: ConnectMode,
    /// Timeouts handled so far (to show event-to-event stepping).
    pub wakeups: u64,
}

pub fn config() -> ModuleConfig {
    ModuleConfig {
        vehicle_id: "car".into(),
        username: "u".into(),
        has_password: true,
        ..Default::default()
    }
}

impl Rig {
    /// A module with `profile` booted at 0, connected (CONNACK answered at once).
    pub fn new(profile: &str) -> Rig {
        Rig::with_config(profile, config())
    }

    pub fn with_config(profile: &str, cfg: ModuleConfig) -> Rig {
        Rig::with_mode(profile, cfg, ConnectMode::Accept)
    }

    pub fn with_mode(profile: &str, cfg: ModuleConfig, mode: ConnectMode) -> Rig {
        let p = Profile::builtin(profile).expect("builtin profile");
        let module = Module::new(p, cfg, Instant::ZERO);
        let mut rig = Rig {
            module,
            broker: FakeBroker::default(),
            now: Instant::ZERO,
            mode,
            wakeups: 0,
        };
        rig.pump();
        rig
    }

    pub fn prefix(&self) -> String {
        self.module.prefix().to_string()
    }

    /// Carry out every pending action (and the broker's answers) at `self.now`.
    pub fn pump(&mut self) {
        for _ in 0..100_000 {
            let Some(a) = self.module.poll_action() else {
                return;
            };
            match a {
                Action::Connect(opts) => {
                    self.broker.log.push("CONNECT".into());
                    self.broker.will = Some(opts.will.clone());
                    self.broker.connects.push((self.now, opts));
                    match self.mode {
                        ConnectMode::Accept => {
                            self.broker.connected = true;
                            self.module.handle(self.now, Input::ConnAccepted);
                        }
                        ConnectMode::Refuse(c) => {
                            self.module.handle(self.now, Input::ConnRefused(c))
                        }
                        ConnectMode::Fail => self.module.handle(self.now, Input::ConnectFailed),
                        ConnectMode::Silent => {}
                    }
                }
                Action::Subscribe(f) => {
                    self.broker.log.push("SUBSCRIBE".into());
                    self.broker.subscribes.push((self.now, f))
                }
                Action::Publish(p) => {
                    assert!(self.broker.connected, "publish while not connected: {p:?}");
                    self.broker.log.push(format!("PUBLISH {}", p.topic));
                    if p.retain {
                        if p.payload.is_empty() {
                            self.broker.retained.remove(&p.topic);
                        } else {
                            self.broker
                                .retained
                                .insert(p.topic.clone(), p.payload.clone());
                        }
                    }
                    self.broker.sent.push(Sent {
                        at: self.now,
                        publish: p,
                    });
                }
                Action::Disconnect => {
                    self.broker.log.push("DISCONNECT".into());
                    self.broker.connected = false;
                    self.broker.disconnects.push(self.now);
                }
                Action::CanTransmit { id, data, .. } => {
                    self.broker.can_tx.push((self.now, id, data))
                }
            }
        }
        panic!("action storm: more than 100000 actions in one pump");
    }

    /// One step: jump the time to the module's next deadline, fire it and carry out the actions.
    /// Returns false when nothing is scheduled.
    pub fn step(&mut self) -> bool {
        let Some(next) = self.module.poll_timeout() else {
            return false;
        };
        assert!(
            next >= self.now,
            "deadline in the past: {next} < {}",
            self.now
        );
        self.now = next;
        self.module.handle_timeout(next);
        self.wakeups += 1;
        self.pump();
        true
    }

    /// Step at most `max` times (a connected module always has a next pass, so this is the way to
    /// "drive" it). Returns the number of steps taken.
    pub fn drive_bounded(&mut self, max: usize) -> usize {
        (0..max).take_while(|_| self.step()).count()
    }

    /// Jump from deadline to deadline until `t` (inclusive), then set the time to `t`.
    pub fn advance_to(&mut self, t: Instant) {
        while let Some(next) = self.module.poll_timeout() {
            if next > t {
                break;
            }
            assert!(
                next >= self.now,
                "deadline in the past: {next} < {}",
                self.now
            );
            self.now = next;
            self.module.handle_timeout(next);
            self.wakeups += 1;
            self.pump();
        }
        self.now = t;
        self.module.handle_timeout(t);
        self.pump();
    }

    pub fn run_for(&mut self, d: Duration) {
        let t = self.now + d;
        self.advance_to(t);
    }

    pub fn run_secs(&mut self, s: u64) {
        self.run_for(Duration::from_secs(s));
    }

    /// Feed an input at the current time.
    pub fn input(&mut self, i: Input) {
        self.module.handle(self.now, i);
        self.pump();
    }

    pub fn set_metric(&mut self, name: &str, v: MetricValue) {
        self.input(Input::Metric {
            name: name.into(),
            value: v,
        });
    }

    /// A client publishes `payload` to `prefix + rel`; delivered if the module subscribed to it.
    /// Returns whether the broker delivered it.
    pub fn client_publish(&mut self, rel: &str, payload: &[u8]) -> bool {
        let topic = format!("{}{}", self.prefix(), rel);
        self.client_publish_abs(&topic, payload)
    }

    pub fn client_publish_abs(&mut self, topic: &str, payload: &[u8]) -> bool {
        if !self.broker.connected {
            return false;
        }
        let subscribed = self
            .broker
            .subscribes
            .iter()
            .flat_map(|(_, f)| f.iter())
            .any(|(f, _)| filter_matches(f, topic));
        if !subscribed {
            return false;
        }
        self.input(Input::Publish(IncomingPublish {
            topic: topic.into(),
            payload: payload.to_vec(),
            qos: QoS::AtLeastOnce,
            retain: false,
        }));
        true
    }

    /// The connection drops without DISCONNECT: the broker fires the will.
    pub fn cut(&mut self) {
        self.broker.connected = false;
        if let Some(w) = self.broker.will.clone() {
            if w.retain {
                self.broker
                    .retained
                    .insert(w.topic.clone(), w.payload.clone());
            }
        }
        self.input(Input::ConnectionLost);
    }

    /// Publishes sent since index `from`.
    pub fn sent_since(&self, from: usize) -> &[Sent] {
        &self.broker.sent[from..]
    }

    pub fn mark(&self) -> usize {
        self.broker.sent.len()
    }

    /// Publishes to `prefix + rel` (exact topic).
    pub fn sent_to(&self, rel: &str) -> Vec<&Sent> {
        let topic = format!("{}{}", self.prefix(), rel);
        self.broker
            .sent
            .iter()
            .filter(|s| s.publish.topic == topic)
            .collect()
    }

    /// Times (in seconds) of publishes to `prefix + rel`.
    pub fn times_of(&self, rel: &str) -> Vec<u64> {
        self.sent_to(rel)
            .iter()
            .map(|s| s.at.as_millis() / 1000)
            .collect()
    }

    /// Relative topics sent since `from`.
    pub fn topics_since(&self, from: usize) -> Vec<String> {
        let p = self.prefix();
        self.sent_since(from)
            .iter()
            .map(|s| {
                s.publish
                    .topic
                    .strip_prefix(&p)
                    .unwrap_or(&s.publish.topic)
                    .to_string()
            })
            .collect()
    }
}

/// Convenience: seconds to Instant.
pub fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}
