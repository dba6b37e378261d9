//! The per-scenario state: which profile, which module, its tap and observer, app clients, time.
//!
//! Each scenario gets its own vehicle id (`<rig vehicle id>-<n>`), hence its own topic prefix, its
//! own tap (a proxy between module and the shared broker) and its own observer (subscribed to the
//! prefix), so scenarios are isolated on one broker and may run concurrently.
//!
//! Time: on the virtual clock [`HilWorld::advance`] moves module time event to event through the
//! rig, stopping at every app-client heartbeat that falls due, and after every step waits at the
//! barrier ([`HilWorld::settle`]) until each PUBLISH the module handed to its socket has passed the
//! tap and reached the observer. Nothing sleeps.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use cucumber::gherkin;
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::{Duration, Instant};

use ovms_hil_net::capture::CaptureWriter;
use ovms_hil_net::TimeSource;

use crate::adapt::observer::{Seen, Watcher};
use crate::adapt::tap::{ModuleTap, SentConnect, SentPublish};
use crate::rig::app::AppClient;
use crate::rig::{ModuleRig, ModuleSetup};
use crate::runner::context::{self, RunContext};
use crate::runner::expand::profile_of;

/// One PUBLISH the module sent, as the tap saw it, with the module time it was sent at.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// Module (virtual) time, when the rig reports it; `None` on rigs without a module clock.
    pub at: Option<Instant>,
    /// The packet as the tap decoded it.
    pub publish: SentPublish,
}

/// State of one scenario.
pub struct HilWorld {
    ctx: Arc<RunContext>,
    /// Name of the profile assertions use.
    pub profile_name: String,
    /// The profile assertions use (topics, QoS, retain, cadence parameters).
    pub profile: Arc<Profile>,
    /// Scenario number within the run.
    pub number: u64,
    /// Vehicle id of this scenario's module.
    pub vehicle_id: String,
    /// MQTT user of the module.
    pub user: String,
    /// Topic prefix (`ovms/<user>/<vehicle>/`).
    pub prefix: String,
    /// `server.v3` parameters set before the module starts.
    pub params: BTreeMap<String, String>,
    /// Metrics set at boot.
    pub initial_metrics: Vec<(String, String)>,
    /// The module, once started.
    pub module: Option<ModuleRig>,
    /// The tap between module and broker, once started.
    pub tap: Option<ModuleTap>,
    /// The observer subscribed to `<prefix>#`, once started.
    pub observer: Option<Watcher>,
    /// Virtual app clients by name.
    pub apps: BTreeMap<String, AppClient>,
    /// Module time moved through in this scenario.
    pub elapsed: Duration,
    /// Module time when the module announced it is connected.
    pub connected_at: Option<Instant>,
    /// Scenario name (for the capture file).
    pub scenario: String,
    /// Vehicle the module runs (name or YAML path), set before it starts.
    pub vehicle: Option<String>,
    /// Module time stamps of tap publishes, for rigs that do not report them (emulator process):
    /// the module time of the step after which each publish was first seen.
    stamps: Vec<Instant>,
    /// Module time shared with the tap and observer records.
    time: TimeSource,
}

impl fmt::Debug for HilWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HilWorld")
            .field("profile", &self.profile_name)
            .field("vehicle_id", &self.vehicle_id)
            .field("prefix", &self.prefix)
            .field("started", &self.module.is_some())
            .field("apps", &self.apps.keys().collect::<Vec<_>>())
            .field("elapsed_ms", &self.elapsed.as_millis())
            .finish()
    }
}

impl cucumber::World for HilWorld {
    type Error = String;

    async fn new() -> Result<Self, String> {
        let ctx = context::current()
            .ok_or("no run in progress: scenarios run through ovms_hil::runner::run")?;
        let (profile_name, profile) = ctx
            .profiles
            .iter()
            .next()
            .map(|(n, p)| (n.clone(), p.clone()))
            .ok_or("the run has no profiles")?;
        let user = ctx.rig.module.mqtt_user.clone();
        Ok(HilWorld {
            params: ctx.rig.module.params.clone(),
            ctx,
            profile_name,
            profile,
            number: 0,
            vehicle_id: String::new(),
            user,
            prefix: String::new(),
            initial_metrics: Vec::new(),
            module: None,
            tap: None,
            observer: None,
            apps: BTreeMap::new(),
            elapsed: Duration::ZERO,
            connected_at: None,
            scenario: String::new(),
            vehicle: None,
            stamps: Vec::new(),
            time: TimeSource::new(),
        })
    }
}

/// How long the barrier may take before a step fails (wall time).
fn settle_timeout(ctx: &RunContext) -> StdDuration {
    StdDuration::from_millis(ctx.rig.timing.settle_ms.max(100))
}

impl HilWorld {
    /// The before-hook: pick the profile of this feature copy and give the scenario its identity.
    pub async fn begin(
        &mut self,
        feature: &gherkin::Feature,
        _rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
    ) {
        self.scenario = scenario.name.clone();
        if let Some(name) = profile_of(feature) {
            if let Some(p) = self.ctx.profiles.get(&name) {
                self.profile_name = name;
                self.profile = p.clone();
            }
        }
        self.number = self.ctx.next_scenario_number();
        // A bench module has one fixed vehicle id; emulated scenarios get their own (HIL-<n>)
        // so they can share one broker concurrently.
        self.vehicle_id = if self.ctx.rig.kind == crate::rig::file::RigKind::Bench {
            self.ctx.rig.module.vehicle_id.clone()
        } else {
            format!("{}-{}", self.ctx.rig.module.vehicle_id, self.number)
        };
        self.prefix = self.profile.default_prefix(&self.user, &self.vehicle_id);
    }

    /// The after-hook: stop everything this scenario started and account its protocol time.
    /// (The capture file was written as things happened.)
    pub async fn finish(&mut self) {
        self.ctx.add_protocol_time(self.elapsed.as_millis());
        for (_, app) in std::mem::take(&mut self.apps) {
            app.stop().await;
        }
        if let Some(m) = self.module.take() {
            m.shutdown().await;
        }
        if let Some(o) = self.observer.take() {
            o.stop().await;
        }
        if let Some(t) = self.tap.take() {
            t.stop().await;
        }
    }

    /// The run's shared context.
    pub fn ctx(&self) -> &RunContext {
        &self.ctx
    }

    /// The topic of `kind` for this module (vars filled; `None` vars become wildcards).
    pub fn topic(&self, kind: MessageKind, vars: &TopicVars<'_>) -> String {
        self.profile.topic(kind, &self.prefix, vars)
    }

    /// The topic a metric is published on.
    pub fn metric_topic(&self, metric: &str) -> String {
        self.topic(
            MessageKind::Metric,
            &TopicVars {
                metric: Some(metric),
                ..TopicVars::default()
            },
        )
    }

    /// The profile's default of a `server.v3` parameter, overridden by the scenario's params.
    pub fn param_secs(&self, param: &str) -> Option<u64> {
        if let Some(v) = self.params.get(param) {
            return v.trim().parse().ok();
        }
        self.profile.param_default(param)
    }

    /// Start tap, observer and module if not running yet, and wait until the module announced it
    /// is connected (bounded by `max_wait` of module time).
    pub async fn start_module(&mut self) -> Result<(), String> {
        if self.module.is_some() {
            return Ok(());
        }
        let endpoint = self.ctx.broker.endpoint().clone();
        let capture = match &self.ctx.capture_dir {
            Some(dir) => {
                let file = dir.join(format!(
                    "{:03}-{}-{}.jsonl",
                    self.number,
                    self.profile_name,
                    slug(&self.scenario)
                ));
                Some(
                    CaptureWriter::create(&file)
                        .map_err(|e| format!("capture {}: {e}", file.display()))?,
                )
            }
            None => None,
        };
        let tap = ModuleTap::start(&endpoint, capture.clone(), self.time.clone()).await?;
        let observer = Watcher::start_with(
            &endpoint,
            &format!("hil-observer-{}", self.vehicle_id),
            &[format!("{}#", self.prefix)],
            capture,
            self.time.clone(),
        )
        .await?;
        let firmware_profile = match &self.ctx.rig.module.firmware_profile {
            Some(p) => {
                let path = self.ctx.rig_dir.join(p);
                let name = if path.is_file() {
                    path.display().to_string()
                } else {
                    p.clone()
                };
                Profile::by_name_or_path(&name).map_err(|e| e.to_string())?
            }
            None => (*self.profile).clone(),
        };
        let setup = ModuleSetup {
            broker_url: tap.url(),
            profile: firmware_profile,
            vehicle_id: self.vehicle_id.clone(),
            user: self.user.clone(),
            password: self.ctx.rig.module.password.clone(),
            keepalive_secs: self.ctx.rig.module.keepalive_secs,
            params: self.params.clone(),
            initial_metrics: self.initial_metrics.clone(),
            barrier_timeout: settle_timeout(&self.ctx),
        };
        let module = ModuleRig::start(
            &self.ctx.rig,
            &self.ctx.rig_dir,
            setup,
            self.vehicle.as_deref(),
        )
        .await?;
        self.tap = Some(tap);
        self.observer = Some(observer);
        self.module = Some(module);
        self.wait_connected(Duration::from_secs(120)).await
    }

    /// Advance module time one second at a time until the module has published its connected
    /// flag (`yes` on the profile's connected topic), at most `max_wait`.
    pub async fn wait_connected(&mut self, max_wait: Duration) -> Result<(), String> {
        self.wait_connected_after(0, max_wait).await
    }

    /// Like [`HilWorld::wait_connected`], skipping the first `start_count` `yes` publishes (those
    /// of earlier connections).
    pub async fn wait_connected_after(
        &mut self,
        start_count: usize,
        max_wait: Duration,
    ) -> Result<(), String> {
        let topic = self.topic(MessageKind::Connected, &TopicVars::default());
        let is_yes = |p: &SentPublish| p.topic == topic && p.payload == b"yes";
        let mut waited = Duration::ZERO;
        // First run what is due at the current instant (the first CONNECT and its CONNACK), so a
        // connect at this instant is seen, and answered by watching clients, at this instant.
        let mut zero_step = true;
        loop {
            self.settle().await?;
            let sent = self.sent();
            if let Some(s) = sent.iter().filter(|s| is_yes(&s.publish)).nth(start_count) {
                self.connected_at = s.at;
                let now = self.now().await?;
                return self.answer_connected(now).await;
            }
            if waited >= max_wait {
                return Err(format!(
                    "the module did not publish `yes` on {topic} within {} s of module time \
                     (it sent {} publishes; connects seen by the tap: {})",
                    max_wait.as_secs(),
                    sent.len(),
                    self.tap.as_ref().map(|t| t.connects().len()).unwrap_or(0)
                ));
            }
            if zero_step {
                zero_step = false;
                self.step(Duration::ZERO).await?;
                continue;
            }
            self.step(Duration::from_secs(1)).await?;
            waited = waited + Duration::from_secs(1);
        }
    }

    /// Replay a CAN log into the module; the barrier runs whenever the module published.
    pub async fn replay_log(
        &mut self,
        path: &std::path::Path,
        pace: crate::replay::Pace,
    ) -> Result<crate::replay::FeedStats, String> {
        let mut feeder = crate::replay::LogFeeder::open(path, pace)?;
        let start = self.now().await?;
        let mut last_sent = self.module()?.sent_count();
        while let Some(t) = feeder.step(self.module()?).await? {
            self.time.set_millis(t.as_millis());
            let sent = self.module()?.sent_count();
            if sent != last_sent || sent.is_none() {
                last_sent = sent;
                self.settle().await?;
            }
        }
        let end = self.now().await?;
        self.elapsed = self.elapsed + end.saturating_since(start);
        self.settle().await?;
        Ok(feeder.stats)
    }

    /// The module, or an error saying a step needs it running.
    pub fn module(&self) -> Result<&ModuleRig, String> {
        self.module
            .as_ref()
            .ok_or_else(|| "no module is running (add `Given the module is connected`)".into())
    }

    /// Current module time.
    pub async fn now(&self) -> Result<Instant, String> {
        self.module()?.now().await
    }

    /// Move module time forward by `d`, stopping at app heartbeats, with the barrier after each stop.
    pub async fn advance(&mut self, d: Duration) -> Result<(), String> {
        let target = self.now().await? + d;
        loop {
            let now = self.now().await?;
            if now >= target {
                break;
            }
            let next_hb = self.apps.values().filter_map(AppClient::next_due).min();
            let mut stop = match next_hb {
                Some(t) if t <= target => t.max(now),
                _ => target,
            };
            // Without the edge's own time stamps, move one second at a time so that each publish
            // is stamped to the second it happened in.
            if !self.module()?.has_sent_log() {
                stop = stop.min(now + Duration::from_secs(1));
            }
            self.step(stop.saturating_since(now)).await?;
            self.send_due_heartbeats(stop).await?;
        }
        Ok(())
    }

    /// One rig advance plus the barrier.
    async fn step(&mut self, d: Duration) -> Result<(), String> {
        let module = self.module()?;
        let now = module.advance(d).await?;
        self.time.set_millis(now.as_millis());
        self.elapsed = self.elapsed + d;
        self.settle().await?;
        self.stamp_new(now);
        self.answer_connected(now).await
    }

    /// V3-CLI-5: app clients that watch the module's connected flag send their heartbeat at the
    /// module time a new `yes` was published. The barrier has just proved that every publish the
    /// module made reached the subscribers, so a `yes` seen here is one a watching client has.
    pub async fn answer_connected(&mut self, now: Instant) -> Result<(), String> {
        if !self.apps.values().any(|a| a.answers_connected) {
            return Ok(());
        }
        let yes = self.connected_yes_count();
        let due: Vec<String> = self
            .apps
            .iter()
            .filter(|(_, a)| a.answers_connected && a.answered_yes < yes)
            .map(|(n, _)| n.clone())
            .collect();
        for n in due {
            if let Some(a) = self.apps.get_mut(&n) {
                a.answered_yes = yes;
            }
            self.app_publish_heartbeat(&n, now).await?;
        }
        Ok(())
    }

    /// How many times the module has published `yes` on its connected topic so far.
    pub fn connected_yes_count(&self) -> usize {
        let topic = self.topic(MessageKind::Connected, &TopicVars::default());
        self.sent()
            .iter()
            .filter(|s| s.publish.topic == topic && s.publish.payload == b"yes")
            .count()
    }

    /// Give tap publishes not stamped yet the module time `now` (rigs without a sent log).
    fn stamp_new(&mut self, now: Instant) {
        let n = self.tap.as_ref().map(|t| t.publishes().len()).unwrap_or(0);
        while self.stamps.len() < n {
            self.stamps.push(now);
        }
    }

    /// Heartbeats of app clients due at or before `now`; each is waited for at the module.
    async fn send_due_heartbeats(&mut self, now: Instant) -> Result<(), String> {
        let names: Vec<String> = self
            .apps
            .iter()
            .filter(|(_, a)| a.next_due().is_some_and(|t| t <= now))
            .map(|(n, _)| n.clone())
            .collect();
        for n in names {
            self.app_publish_heartbeat(&n, now).await?;
        }
        Ok(())
    }

    /// App client `name` publishes its heartbeat now and the module receives it (barrier).
    pub async fn app_publish_heartbeat(&mut self, name: &str, now: Instant) -> Result<(), String> {
        let before = self.module()?.received_count().await;
        let app = self
            .apps
            .get_mut(name)
            .ok_or_else(|| format!("no app client named {name:?}"))?;
        app.heartbeat(now).await?;
        self.wait_module_received(before + 1).await
    }

    /// Wait until the module has been fed `count` incoming publishes in total (an await on the
    /// edge's event stream), then settle.
    pub async fn wait_module_received(&mut self, count: usize) -> Result<(), String> {
        let timeout = settle_timeout(&self.ctx);
        self.module()?
            .wait_received(count, timeout)
            .await
            .map_err(|got| {
                format!(
                    "the module received {got} of {count} client publishes within {} ms",
                    timeout.as_millis()
                )
            })?;
        self.settle().await
    }

    /// The barrier: everything the module handed to its socket has passed the tap, and every
    /// resulting delivery reached the observer (a sentinel round trip through the broker).
    pub async fn settle(&self) -> Result<(), String> {
        let (Some(tap), Some(obs)) = (&self.tap, &self.observer) else {
            return Ok(());
        };
        let timeout = settle_timeout(&self.ctx);
        // 1. Every PUBLISH the edge reported as handed to its socket has reached the tap.
        if let Some(expected) = self.module.as_ref().and_then(ModuleRig::sent_count) {
            tap.wait_publishes(expected, timeout).await.map_err(|got| {
                format!(
                    "barrier: the module reported {expected} PUBLISH(es) handed to its socket, \
                     but only {got} reached the tap within {} ms",
                    timeout.as_millis()
                )
            })?;
        }
        // 2. Everything that passed the tap was delivered to the observer (sentinel round trip).
        tap.settle(obs, timeout).await
    }

    /// What the module sent (tap), each with its module time (from the rig, matched in order).
    pub fn sent(&self) -> Vec<Sent> {
        self.sent_with_time()
    }

    fn sent_with_time(&self) -> Vec<Sent> {
        let Some(tap) = &self.tap else {
            return Vec::new();
        };
        let has_log = self.module.as_ref().is_some_and(ModuleRig::has_sent_log);
        let times: Vec<(Instant, String)> = if has_log {
            self.module
                .as_ref()
                .map(|m| m.sent_log())
                .unwrap_or_default()
        } else {
            let pubs = tap.publishes();
            self.stamps
                .iter()
                .zip(pubs.iter())
                .map(|(t, p)| (*t, p.topic.clone()))
                .collect()
        };
        tap.publishes()
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let at = times
                    .get(i)
                    .filter(|(_, topic)| *topic == p.topic)
                    .map(|(t, _)| *t);
                Sent { at, publish: p }
            })
            .collect()
    }

    /// Every CONNECT the module sent (tap).
    pub fn connects(&self) -> Vec<SentConnect> {
        self.tap.as_ref().map(|t| t.connects()).unwrap_or_default()
    }

    /// What the observer saw.
    pub fn seen(&self) -> Vec<Seen> {
        self.observer.as_ref().map(|o| o.seen()).unwrap_or_default()
    }
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').chars().take(60).collect()
}
