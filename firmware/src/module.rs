//! The sans-IO server v3 protocol core: one OVMS module's MQTT behaviour.
//!
//! Drive it like quinn-proto's `Connection`: feed [`Module::handle`] with inputs, call
//! [`Module::handle_timeout`] when [`Module::poll_timeout`] is due, and drain [`Module::poll_action`]
//! after every call. Time is always an argument and must not go backwards (an earlier `now` is
//! treated as the latest time seen).
//!
//! Method kinds:
//! - getters: [`Module::metrics`], [`Module::profile`], [`Module::prefix`], [`Module::is_connected`],
//!   [`Module::peers`], [`Module::clients`], [`Module::status`], [`Module::config`],
//!   [`Module::stats`], [`Module::current_interval_secs`];
//! - inputs: [`Module::handle`], [`Module::handle_timeout`], [`Module::set_vehicle`],
//!   [`Module::run_command`], [`Module::log`];
//! - outputs: [`Module::poll_action`], [`Module::drain_actions`], [`Module::poll_timeout`].
//!
//! Timing model: the firmware does its server v3 work on a 1-s ticker (`ticker.1`) at every whole
//! second since boot, and purges clients on `ticker.60`. The core computes the next tick at which
//! anything is due and reports only that through `poll_timeout`, so hours of virtual time take
//! milliseconds. Ticks at which nothing is due are skipped (they would be no-ops). With a vehicle
//! selected whose [`Vehicle::needs_tick`] is true (the default), every tick is due (the decoder's
//! per-second `tick`).
//!
//! Internal events (`server.v3.connected`, `app.connected`, ...) are queued and dispatched after
//! the operation that raised them, like the firmware's event task.

mod clients;
mod events;
mod incoming;
mod notifications;
mod passes;
mod session;
mod shell;
mod timers;

use std::collections::{BTreeMap, VecDeque};

use crate::io::{Action, Input, Publish, QoS};
use crate::metrics::{MetricFilter, MetricValue, Metrics};
use crate::profile::{MessageKind, Profile, TopicVars};
use crate::time::Instant;
use crate::vehicle::{CanFrame, Vehicle, VehicleOutput};

pub use clients::ClientInfo;

/// Identity and configuration of one module (what `config` holds in the firmware).
#[derive(Clone, Debug, Default)]
pub struct ModuleConfig {
    /// `vehicle` / `id`.
    pub vehicle_id: String,
    /// `server.v3` / `user` (the MQTT username).
    pub username: String,
    /// Whether a password is configured (the secret itself stays at the edge).
    pub has_password: bool,
    /// `server.v3` / `clientid` (3.3.006+); defaults to the vehicle id.
    pub client_id: Option<String>,
    /// `server.v3` / `topic.prefix`; empty or `None` = the profile's default prefix.
    pub topic_prefix: Option<String>,
    /// Keepalive override in seconds (`--keepalive`).
    pub keepalive_secs: Option<u16>,
    /// Further `server.v3` parameters (`updatetime.connected` = `60`, ...), as `config set` would set them.
    pub params: BTreeMap<String, String>,
    /// Maintain `m.monotonic` (seconds since boot), refreshed before every metric pass, as the
    /// firmware does every second. Off by default: it would appear in every modified pass.
    pub monotonic_metric: bool,
}

/// Counters of what the module has done (for status output and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModuleStats {
    /// Accepted connections (CONNACK 0) so far.
    pub connections: u64,
    /// When the last CONNECT went out.
    pub last_connect: Option<Instant>,
    /// Full passes started (the chunks of one pass count once).
    pub full_passes: u64,
    /// Modified passes run (every chunk counts).
    pub modified_passes: u64,
}

/// One emulated module.
pub struct Module {
    profile: Profile,
    config: ModuleConfig,
    /// Config values outside `server.v3` set by `config set` (`(param, instance)` → value).
    other_config: BTreeMap<(String, String), String>,
    metrics: Metrics,
    filter: MetricFilter,
    prefix: String,
    vehicle: Option<Box<dyn Vehicle>>,
    actions: VecDeque<Action>,
    /// The latest time seen.
    now: Instant,
    session: session::Session,
    clients: clients::Clients,
    passes: passes::PassState,
    notes: notifications::Notifications,
    events: VecDeque<String>,
    /// Last whole second whose tick has been handled (or skipped as a no-op).
    last_tick: u64,
    /// The instant timers last ran at from [`Module::handle`] (several inputs at one instant check
    /// timers once; [`Module::handle_timeout`] always checks).
    timers_ran_at: Option<Instant>,
    vehicle_out: Vec<VehicleOutput>,
}

impl Module {
    /// A module that boots at `now` with `profile` and `config`, without a vehicle. With a zero
    /// initial connect delay (all shipped profiles), the first action is [`Action::Connect`].
    pub fn new(profile: crate::profile::Profile, config: ModuleConfig, now: Instant) -> Module {
        let mut metrics = Metrics::new();
        metrics.set_latlon_fixed6(profile.spec().metrics.latlon_fixed6);
        let prefix = session::resolve_prefix(&profile, &config);
        let mut m = Module {
            filter: MetricFilter::default(),
            profile,
            config,
            other_config: BTreeMap::new(),
            metrics,
            prefix,
            vehicle: None,
            actions: VecDeque::new(),
            now,
            session: session::Session::default(),
            clients: clients::Clients::default(),
            passes: passes::PassState::default(),
            notes: notifications::Notifications::default(),
            events: VecDeque::new(),
            last_tick: now.as_secs(),
            timers_ran_at: None,
            vehicle_out: Vec::new(),
        };
        m.reload_filter();
        let delay = m.profile.spec().session.initial_connect_delay_secs;
        if delay == 0 {
            m.connect(now);
        } else {
            m.session.retry_at = Some(now + crate::time::Duration::from_secs(delay));
        }
        m
    }

    /// Select the vehicle decoder (publishes `v.type`, runs the decoder's `init`).
    pub fn set_vehicle(&mut self, now: Instant, mut vehicle: Box<dyn Vehicle>) {
        let now = self.advance(now);
        self.store_metric("v.type", MetricValue::Str(vehicle.type_code().to_string()));
        let mut out = std::mem::take(&mut self.vehicle_out);
        vehicle.init(now, &mut out);
        self.vehicle = Some(vehicle);
        self.apply_vehicle_outputs(now, &mut out);
        self.vehicle_out = out;
        self.drain_events(now);
    }

    /// Feed one input. Timers due at or before `now` fire first.
    pub fn handle(&mut self, now: Instant, input: Input) {
        let now = self.advance(now);
        if self.timers_ran_at != Some(now) {
            self.run_timers(now);
            self.timers_ran_at = Some(now);
        }
        match input {
            Input::ConnAccepted => self.on_conn_accepted(now),
            Input::ConnRefused(code) => self.on_conn_refused(now, code),
            Input::ConnectFailed => self.on_connect_failed(now),
            Input::ConnectionLost => self.on_connection_lost(now),
            Input::Publish(p) => self.on_incoming(now, &p.topic, &p.payload),
            Input::Metric { name, value } => self.store_metric(&name, value),
            Input::Event(name) => self.raise_event(name),
            Input::Notify {
                kind,
                subtype,
                text,
            } => self.raise_notification(now, &kind, &subtype, &text),
            Input::CanFrame {
                bus,
                id,
                extended,
                data,
            } => {
                if let Some(v) = self.vehicle.as_mut() {
                    let mut out = std::mem::take(&mut self.vehicle_out);
                    v.handle_frame(
                        now,
                        CanFrame {
                            bus,
                            id,
                            extended,
                            data: &data,
                        },
                        &mut out,
                    );
                    self.apply_vehicle_outputs(now, &mut out);
                    self.vehicle_out = out;
                }
            }
        }
        self.drain_events(now);
    }

    /// Let timers fire that are due at `now` (calling early is a harmless no-op).
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.advance(now);
        self.run_timers(now);
    }

    /// The earliest instant at which [`Module::handle_timeout`] may produce actions.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline()
    }

    /// The next action for the edge, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// All pending actions, in order.
    pub fn drain_actions(&mut self) -> impl Iterator<Item = Action> + '_ {
        self.actions.drain(..)
    }

    /// Run a shell command as a command topic would (output text, as the response payload), at
    /// `now`. The module's own actions it causes (e.g. `event raise`) are queued as usual.
    pub fn run_command(&mut self, now: Instant, line: &str) -> String {
        self.handle_timeout(now);
        let now = self.now;
        let out = self.execute_command(now, line.as_bytes());
        self.drain_events(now);
        out
    }

    /// Log a line (published on the profile's log topic while connected, where one exists).
    pub fn log(&mut self, now: Instant, line: &str) {
        let now = self.advance(now);
        self.log_line(now, line);
        self.drain_events(now);
    }

    /// The metrics store (read-only).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The protocol profile in use.
    pub fn profile(&self) -> &crate::profile::Profile {
        &self.profile
    }

    /// The resolved topic prefix (with its trailing `/` when it is the default).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The configuration (with `config set` changes applied).
    pub fn config(&self) -> &ModuleConfig {
        &self.config
    }

    /// Whether the MQTT session is up (CONNACK accepted, not lost since).
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// The peer count server v3 works with (`m_peers`).
    pub fn peers(&self) -> usize {
        self.clients.peers
    }

    /// Registered clients and when they expire.
    pub fn clients(&self) -> Vec<ClientInfo> {
        self.clients.list()
    }

    /// The `server v3 status` text.
    pub fn status(&self) -> String {
        self.status_text()
    }

    /// Counters: connections, passes.
    pub fn stats(&self) -> ModuleStats {
        ModuleStats {
            connections: self.session.connections,
            last_connect: self.session.last_connect,
            full_passes: self.passes.full_passes,
            modified_passes: self.passes.modified_passes,
        }
    }

    /// The modified-pass interval in seconds that applies right now.
    pub fn current_interval_secs(&self) -> u64 {
        self.modified_interval()
    }

    // ----- internals shared by the submodules -----

    /// Move the module's time forward (never back) and return it.
    fn advance(&mut self, now: Instant) -> Instant {
        if now > self.now {
            self.now = now;
        }
        self.now
    }

    /// A `server.v3` param as a number, else the profile default, else 0.
    fn param_u64(&self, name: &str) -> u64 {
        self.config
            .params
            .get(name)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(|v| v.max(0) as u64)
            .or_else(|| self.profile.param_default(name))
            .unwrap_or(0)
    }

    /// A `server.v3` yes/no param (`default` when unset).
    fn param_bool(&self, name: &str, default: bool) -> bool {
        match self.config.params.get(name) {
            Some(v) => matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "yes" | "1" | "true" | "on"
            ),
            None => default,
        }
    }

    fn reload_filter(&mut self) {
        self.filter = if self.profile.spec().metrics.filters {
            let inc = self
                .config
                .params
                .get("metrics.include")
                .map(String::as_str)
                .unwrap_or("");
            let exc = self
                .config
                .params
                .get("metrics.exclude")
                .map(String::as_str)
                .unwrap_or("");
            MetricFilter::new(inc, exc)
        } else {
            MetricFilter::default()
        };
    }

    /// Store a metric value; a change may go out at once on the immediate path.
    fn store_metric(&mut self, name: &str, value: MetricValue) {
        if self.metrics.set(name, value) {
            self.immediate_metric(name);
        }
    }

    fn push_publish(&mut self, topic: String, payload: Vec<u8>, qos: QoS, retain: bool) {
        self.actions.push_back(Action::Publish(Publish {
            topic,
            payload,
            qos,
            retain,
        }));
    }

    /// Publish one metric on its topic (include/exclude filter and retain depth limit applied).
    fn publish_metric(&mut self, name: &str, payload: String) {
        if !self.filter.check(name) {
            return;
        }
        let topic = self.profile.topic(
            MessageKind::Metric,
            &self.prefix,
            &TopicVars {
                metric: Some(name),
                ..Default::default()
            },
        );
        let mut retain = self.profile.retain(MessageKind::Metric);
        if retain
            && self.profile.spec().metrics.retain_depth_limit
            && self.param_bool("retain.depth.limit", false)
            && topic.matches('/').count() > 7
        {
            retain = false;
        }
        let qos = self.profile.qos(MessageKind::Metric);
        self.push_publish(topic, payload.into_bytes(), qos, retain);
    }

    fn apply_vehicle_outputs(&mut self, now: Instant, out: &mut Vec<VehicleOutput>) {
        for o in out.drain(..) {
            match o {
                VehicleOutput::Metric { name, value } => self.store_metric(&name, value),
                VehicleOutput::Notify {
                    kind,
                    subtype,
                    text,
                } => self.raise_notification(now, &kind, &subtype, &text),
                VehicleOutput::Event(e) => self.raise_event(e),
                VehicleOutput::Transmit {
                    bus,
                    id,
                    extended,
                    data,
                } => self.actions.push_back(Action::CanTransmit {
                    bus,
                    id,
                    extended,
                    data,
                }),
            }
        }
    }
}
