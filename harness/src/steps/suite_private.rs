//! A private rig for the security and fault scenarios: a Mosquitto process of the scenario's own
//! (TLS listener, password listener with the per-user ACL, plain listener), an emulated module on
//! the virtual clock connected to one of its listeners (optionally through a fault-injecting
//! tap), and observers. The run's shared broker cannot be killed, restarted or reconfigured
//! without disturbing the other scenarios, so these scenarios bring their own.
//!
//! State lives outside the world (the world has no extension slot): a registry keyed by the
//! scenario's vehicle id holds weak references, and a keeper task holds the rig until the run
//! ends (or at most [`KEEP_FOR`]); when the test runtime shuts down the keeper is dropped, and
//! with it the Mosquitto child (killed on drop) and the module.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration as StdDuration;

use ovms_emu::{spawn, BrokerUrl, ClockMode, EmuConfig, EmuEvent, EmuHandle, Secret};
use ovms_firmware::module::ModuleConfig;
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::Duration;
use ovms_hil_net::broker::mosquitto::MosquittoBroker;
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::observer::{Observer, ObserverOptions};
use ovms_hil_net::tap::{Tap, TapOptions};
use ovms_hil_net::{BrokerOptions, Endpoint};
use tokio::sync::broadcast;

use crate::world::HilWorld;

/// Longest a private rig outlives its scenario (wall time) when the run goes on.
pub const KEEP_FOR: StdDuration = StdDuration::from_secs(300);

/// The users of the private broker's password listener.
pub const USERS: [(&str, &str); 2] = [("alice", "alice-secret"), ("bob", "bob-secret")];

/// Where the module of a private rig connects.
#[derive(Clone, Debug)]
pub enum Target {
    /// The TLS listener, trusting this CA file.
    Tls(PathBuf),
    /// The password listener, with these credentials (`None` = anonymous).
    Auth(Option<(String, String)>),
    /// The plain listener, through a fault-injecting tap, with this keepalive.
    Tapped(Option<u16>),
}

/// The module of a private rig.
pub struct PrivModule {
    /// The emulator.
    pub handle: EmuHandle,
    /// Its event stream.
    pub events: broadcast::Receiver<EmuEvent>,
    /// Every event taken from the stream so far.
    pub log: Vec<EmuEvent>,
    /// The tap between module and broker, for [`Target::Tapped`].
    pub tap: Option<Tap>,
    /// Topic prefix.
    pub prefix: String,
}

impl PrivModule {
    /// Take every pending event into the log.
    pub fn pump(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(e) => self.log.push(e),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
    }

    /// Events of the log matching `pred`.
    pub fn count(&mut self, pred: impl Fn(&EmuEvent) -> bool) -> usize {
        self.pump();
        self.log.iter().filter(|e| pred(e)).count()
    }

    /// Move module time by `d`.
    pub async fn advance(&mut self, d: Duration) -> Result<(), String> {
        self.handle.advance(d).await.map_err(|e| e.to_string())?;
        self.pump();
        Ok(())
    }

    /// Advance one second at a time (at most `max` seconds) until `pred` holds for some event.
    pub async fn advance_until(
        &mut self,
        max: u64,
        pred: impl Fn(&EmuEvent) -> bool,
    ) -> Result<bool, String> {
        for _ in 0..=max {
            if self.count(&pred) > 0 {
                return Ok(true);
            }
            // Give the edge a moment of wall time to read the socket, then feed it.
            if let Some(e) =
                EmuHandle::wait_event(&mut self.events, StdDuration::from_millis(20), &pred).await
            {
                self.log.push(e);
                return Ok(true);
            }
            self.advance(Duration::from_secs(1)).await?;
        }
        Ok(self.count(&pred) > 0)
    }
}

/// One scenario's private rig.
#[derive(Default)]
pub struct Private {
    /// The broker (None once killed for good).
    pub broker: Option<MosquittoBroker>,
    /// The plain listener's endpoint (stays valid across restarts).
    pub plain: Option<Endpoint>,
    /// The module, once started.
    pub module: Option<PrivModule>,
    /// Observers by name.
    pub observers: BTreeMap<String, Observer>,
    /// Scratch directory (other CAs).
    pub scratch: Option<PathBuf>,
    /// Wall time of the last fault injected.
    pub fault_at: Option<std::time::Instant>,
    /// How many messages the witness had seen at the last broker restart.
    pub mark: usize,
}

impl Drop for Private {
    fn drop(&mut self) {
        if let Some(d) = &self.scratch {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A shared private rig.
pub type Slot = Arc<tokio::sync::Mutex<Private>>;

static REGISTRY: Mutex<BTreeMap<String, Weak<tokio::sync::Mutex<Private>>>> =
    Mutex::new(BTreeMap::new());

/// The scenario's private rig, created (empty) on first use.
pub fn slot(w: &HilWorld) -> Slot {
    let run = crate::runner::context::current();
    // Vehicle ids restart with every run; the run's context (kept alive by the keeper below, so
    // its address is not reused meanwhile) tells runs in one process apart.
    let key = format!(
        "{:p}/{}",
        run.as_ref().map_or(std::ptr::null(), Arc::as_ptr),
        w.vehicle_id
    );
    let mut reg = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    reg.retain(|_, weak| weak.strong_count() > 0);
    if let Some(s) = reg.get(&key).and_then(Weak::upgrade) {
        return s;
    }
    let strong: Slot = Arc::new(tokio::sync::Mutex::new(Private::default()));
    reg.insert(key, Arc::downgrade(&strong));
    let keep = strong.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        loop {
            tokio::time::sleep(StdDuration::from_millis(250)).await;
            let same_run = match (&run, crate::runner::context::current()) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, &b),
                _ => false,
            };
            if !same_run || started.elapsed() > KEEP_FOR {
                break;
            }
        }
        drop(keep);
    });
    strong
}

/// Start the private broker: TLS and password listeners, with the per-user ACL (the rig's
/// `private_broker` section can weaken it: the mutation test, `tests/suite_mutations.rs`).
pub async fn start_broker(w: &HilWorld, p: &mut Private) -> Result<(), String> {
    if p.broker.is_some() {
        return Ok(());
    }
    let spec = &w.ctx().rig.private_broker;
    let opts = BrokerOptions {
        tls: true,
        users: USERS
            .iter()
            .map(|(u, pw)| (u.to_string(), pw.to_string()))
            .collect(),
        acl_pattern: spec.acl_pattern.clone(),
        auth_allows_anonymous: spec.allow_anonymous,
        auth_checks_passwords: spec.check_passwords,
        ..BrokerOptions::default()
    };
    let b = MosquittoBroker::start(&opts).await.map_err(|e| {
        format!("this scenario needs a real Mosquitto with TLS, passwords and ACLs: {e}")
    })?;
    p.plain = Some(b.endpoint());
    p.broker = Some(b);
    Ok(())
}

/// The private broker, or an error saying the scenario must start one.
pub fn broker(p: &mut Private) -> Result<&mut MosquittoBroker, String> {
    p.broker
        .as_mut()
        .ok_or_else(|| "no private broker (add `Given a private Mosquitto broker ...`)".into())
}

/// The private module, or an error.
pub fn module(p: &mut Private) -> Result<&mut PrivModule, String> {
    p.module
        .as_mut()
        .ok_or_else(|| "the private module was never started".into())
}

/// The profile the emulated module runs: the rig's `firmware_profile` (a mutation), else the
/// scenario's.
fn firmware_profile(w: &HilWorld) -> Result<Profile, String> {
    match &w.ctx().rig.module.firmware_profile {
        Some(p) => {
            let path = w.ctx().rig_dir.join(p);
            let name = if path.is_file() {
                path.display().to_string()
            } else {
                p.clone()
            };
            Profile::by_name_or_path(&name).map_err(|e| e.to_string())
        }
        None => Ok((*w.profile).clone()),
    }
}

/// Start the module against `target`; returns after its first connection attempt ended
/// (CONNACK or failure), or after `wait_secs` of module time.
pub async fn start_module(
    w: &HilWorld,
    p: &mut Private,
    target: Target,
    wait_secs: u64,
) -> Result<(), String> {
    if p.module.is_some() {
        return Err("the private module is already running".into());
    }
    let b = broker(p)?;
    let (url, user, password, ca, tap, keepalive) = match &target {
        Target::Tls(ca) => {
            let t = b
                .tls()
                .ok_or("the private broker has no TLS listener (capability missing)")?;
            (
                format!("mqtts://127.0.0.1:{}", t.endpoint.port),
                w.user.clone(),
                None,
                Some(ca.clone()),
                None,
                None,
            )
        }
        Target::Auth(creds) => {
            let a = b
                .auth()
                .ok_or("the private broker has no password listener (capability missing)")?;
            let (u, pw) = match creds {
                Some((u, pw)) => (u.clone(), Some(pw.clone())),
                None => (String::new(), None),
            };
            (
                format!("mqtt://{}:{}", a.host, a.port),
                u,
                pw,
                None,
                None,
                None,
            )
        }
        Target::Tapped(ka) => {
            let tap = Tap::start(&b.endpoint(), TapOptions::default())
                .await
                .map_err(|e| format!("tap: {e}"))?;
            let e = tap.endpoint();
            (
                format!("mqtt://{}:{}", e.host, e.port),
                w.user.clone(),
                None,
                None,
                Some(tap),
                *ka,
            )
        }
    };
    let profile = firmware_profile(w)?;
    let prefix = profile.default_prefix(&user, &w.vehicle_id);
    // The witness: subscribed before the module starts, on the plain listener (no ACL), so a
    // later check can wait until the broker has really processed what the module handed to
    // its socket (the broker may lag the module's barrier by a few milliseconds).
    if let Some(plain) = p.plain.clone() {
        // A stopped broker has no witness; checks that need one say so.
        let _ = observe(p, "witness", plain, None, &format!("{prefix}#")).await;
    }
    let broker_url: BrokerUrl = url.parse().map_err(|e| format!("{e}"))?;
    let module = ModuleConfig {
        vehicle_id: w.vehicle_id.clone(),
        username: user,
        has_password: password.is_some(),
        keepalive_secs: keepalive,
        params: w.params.clone(),
        ..ModuleConfig::default()
    };
    let mut cfg = EmuConfig::new(broker_url, profile, module);
    cfg.clock = ClockMode::Virtual;
    cfg.ca_file = ca;
    if !w.ctx().rig.module.tls_verify {
        cfg.tls_verify = ovms_emu::tls::TlsVerify::Insecure;
    }
    cfg.password = password.map(Secret::new);
    cfg.initial_metrics = w.initial_metrics.clone();
    cfg.barrier_timeout = StdDuration::from_secs(5);
    let handle = spawn(cfg).await.map_err(|e| e.to_string())?;
    let events = handle.events();
    let mut m = PrivModule {
        handle,
        events,
        log: Vec::new(),
        tap,
        prefix,
    };
    m.advance_until(wait_secs, |e| {
        matches!(
            e,
            EmuEvent::Connected { .. } | EmuEvent::ConnectFailed { .. }
        )
    })
    .await?;
    p.module = Some(m);
    Ok(())
}

/// Connect an observer named `name` to `endpoint` (optional credentials) subscribed to `filter`.
pub async fn observe(
    p: &mut Private,
    name: &str,
    endpoint: Endpoint,
    creds: Option<(&str, &str)>,
    filter: &str,
) -> Result<(), String> {
    let mut opts = ClientOptions::new(endpoint, format!("hil-{name}-{}", std::process::id()));
    if let Some((u, pw)) = creds {
        opts = opts.with_credentials(u, pw);
    }
    let obs = Observer::connect(ObserverOptions::new(opts, &[filter]))
        .await
        .map_err(|e| format!("observer {name}: {e}"))?;
    if let Some(old) = p.observers.insert(name.to_string(), obs) {
        old.close().await;
    }
    Ok(())
}

/// Wait (wall time, bounded) until the witness saw `payload` on `topic` among the messages after
/// index `from`: from then on a new subscriber is a *late* one.
pub async fn witnessed(
    p: &Private,
    from: usize,
    topic: &str,
    payload: &[u8],
) -> Result<(), String> {
    let obs = p
        .observers
        .get("witness")
        .ok_or("no witness subscriber (the broker was down when the module started)")?;
    let deadline = std::time::Instant::now() + StdDuration::from_secs(3);
    loop {
        let seen = obs.seen();
        if seen
            .iter()
            .skip(from)
            .any(|s| s.topic == topic && s.payload == payload)
        {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "the broker never delivered {:?} on {topic} to a subscriber (3 s)",
                String::from_utf8_lossy(payload)
            ));
        }
        let _ = obs
            .wait_for(StdDuration::from_millis(50), |s| s.topic == topic)
            .await;
    }
}

/// The connected-flag topic under `prefix`.
pub fn connected_topic(w: &HilWorld, prefix: &str) -> String {
    w.profile
        .topic(MessageKind::Connected, prefix, &TopicVars::default())
}

/// A metric's topic under `prefix`.
pub fn metric_topic(w: &HilWorld, prefix: &str, metric: &str) -> String {
    w.profile.topic(
        MessageKind::Metric,
        prefix,
        &TopicVars {
            metric: Some(metric),
            ..TopicVars::default()
        },
    )
}
