//! The bench rig: a real module (or `ovms-emu` as a separate process standing in for one) on the
//! WALL clock, built on the `ovms-hil-bench` crate.
//!
//! - **Broker.** The module is configured once (`BenchRig::setup_commands`) to connect to
//!   `bench.broker.tap`. This rig listens there and relays every connection byte for byte to the
//!   scenario's recording tap (`ModuleSetup::broker_url`), so the tap sees everything the module
//!   sends, as on the emulated rigs.
//! - **Power.** [`ovms_hil_bench::probe::open`] (probe, else relay commands): `resume` powers the
//!   module on at start, `halt` is the power cut (no FIN/RST reaches the broker: the will fires
//!   after 1.5 × keepalive).
//! - **Intervals.** Once the module is connected, `bench.intervals` are set over the module's
//!   command channel (server v3 commands over MQTT as `bench.commands.client_id`, or the shell
//!   channel) and restored at [`BenchModule::shutdown`].
//! - **CAN.** Frames for bus *n* go to the module's simulate server (`bench.can.can<n>.simulate`)
//!   or a SocketCAN interface (`bench.can.can<n>.socketcan`).
//! - **Time.** See [`wall_scale`]: module time asked for by a timing step is waited for on the
//!   wall clock, scaled by the ratio of the shortened intervals to the profile's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use ovms_canlog::Frame;
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::{Duration, Instant};
use ovms_hil_bench::intervals::IntervalPlan;
use ovms_hil_bench::probe::Probe;
use ovms_hil_bench::rig::CommandChannel;
use ovms_hil_bench::session::{restore_intervals, shorten_intervals, CommandSender};
use ovms_hil_bench::shell::ShellCommandChannel;
use ovms_hil_bench::simulate::SimulateClient;
use ovms_hil_bench::BenchRig;
use ovms_hil_net::Endpoint;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// Wall seconds per second of module time on a bench rig: the largest ratio
/// `shortened / profile default` among the rig's `bench.intervals` (at most 1).
///
/// Scenarios are written in module time for the firmware's intervals ("When 10 minutes pass"
/// covers one idle pass of 600 s). On a bench whose intervals were shortened, waiting `d × scale`
/// on the wall clock gives every shortened cadence at least as many passes as `d` gives it on the
/// emulator (the largest ratio is the least shortened interval). Intervals the profile lacks, or a
/// rig without `bench.intervals`, leave the scale at 1 (real time).
pub fn wall_scale(profile: &Profile, intervals: &[(String, u64)]) -> f64 {
    let mut scale: f64 = 0.0;
    for (key, wanted) in intervals {
        let key = if key.starts_with("updatetime.") {
            key.clone()
        } else {
            format!("updatetime.{key}")
        };
        if let Some(default) = profile.param_default(&key).filter(|d| *d > 0) {
            scale = scale.max(*wanted as f64 / default as f64);
        }
    }
    if scale <= 0.0 {
        1.0
    } else {
        scale.min(1.0)
    }
}

/// Server v3 commands over MQTT: published on the profile's command topic as the rig's
/// `client_id`, answered on its response topic.
pub struct MqttCommands {
    client: rumqttc::AsyncClient,
    topic_of: Box<dyn Fn(&str) -> String + Send + Sync>,
    qos: rumqttc::QoS,
    next_id: u64,
    timeout: StdDuration,
    responses: mpsc::UnboundedReceiver<(String, String)>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for MqttCommands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttCommands")
            .field("next_id", &self.next_id)
            .finish()
    }
}

fn qos_of(q: u8) -> rumqttc::QoS {
    match q {
        0 => rumqttc::QoS::AtMostOnce,
        1 => rumqttc::QoS::AtLeastOnce,
        _ => rumqttc::QoS::ExactlyOnce,
    }
}

impl MqttCommands {
    /// Connect to `broker` and subscribe to the responses of `client_id` under `prefix`.
    pub async fn connect(
        broker: &Endpoint,
        profile: &Profile,
        prefix: &str,
        client_id: &str,
        timeout: StdDuration,
    ) -> Result<MqttCommands, String> {
        if !profile.has(MessageKind::Command) || !profile.has(MessageKind::Response) {
            return Err(format!(
                "profile {} has no command/response topics: use bench.commands.via shell",
                profile.name()
            ));
        }
        let resp_topic = profile.topic(
            MessageKind::Response,
            prefix,
            &TopicVars {
                client_id: Some(client_id),
                ..TopicVars::default()
            },
        );
        let (resp_head, _) = resp_topic
            .rsplit_once('+')
            .map(|(h, t)| (h.to_string(), t.to_string()))
            .unwrap_or_else(|| (resp_topic.clone(), String::new()));
        let mut opts = rumqttc::MqttOptions::new(
            format!("{client_id}-bench-{}", std::process::id()),
            broker.host.clone(),
            broker.port,
        );
        opts.set_keep_alive(StdDuration::from_secs(30));
        let (client, mut events) = rumqttc::AsyncClient::new(opts, 64);
        let (tx, responses) = mpsc::unbounded_channel();
        let (sub_tx, mut subacks) = mpsc::unbounded_channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        if let Some(id) = p.topic.strip_prefix(&resp_head) {
                            let id = id.split('/').next().unwrap_or("").to_string();
                            let text = String::from_utf8_lossy(&p.payload).to_string();
                            let _ = tx.send((id, text));
                        }
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                        let _ = sub_tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(StdDuration::from_millis(200)).await,
                }
            }
        });
        client
            .subscribe(resp_topic.clone(), rumqttc::QoS::AtLeastOnce)
            .await
            .map_err(|e| format!("command channel: subscribe {resp_topic}: {e}"))?;
        tokio::time::timeout(StdDuration::from_secs(10), subacks.recv())
            .await
            .map_err(|_| format!("command channel: no SUBACK for {resp_topic} from {broker}"))?;
        let prefix = prefix.to_string();
        let profile2 = profile.clone();
        let cid = client_id.to_string();
        Ok(MqttCommands {
            client,
            topic_of: Box::new(move |id| {
                profile2.topic(
                    MessageKind::Command,
                    &prefix,
                    &TopicVars {
                        client_id: Some(&cid),
                        command_id: Some(id),
                        ..TopicVars::default()
                    },
                )
            }),
            qos: qos_of(profile.qos(MessageKind::Command).as_u8()),
            next_id: 0,
            timeout,
            responses,
            task,
        })
    }

    /// Disconnect.
    pub async fn close(self) {
        let _ = self.client.disconnect().await;
        self.task.abort();
    }
}

impl CommandSender for MqttCommands {
    fn send(
        &mut self,
        command: &str,
    ) -> impl std::future::Future<Output = Result<String, String>> + Send {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let topic = (self.topic_of)(&id);
        let command = command.to_string();
        async move {
            while self.responses.try_recv().is_ok() {}
            self.client
                .publish(topic.clone(), self.qos, false, command.into_bytes())
                .await
                .map_err(|e| format!("publish on {topic}: {e}"))?;
            let deadline = tokio::time::Instant::now() + self.timeout;
            loop {
                match tokio::time::timeout_at(deadline, self.responses.recv()).await {
                    Ok(Some((rid, text))) if rid == id => return Ok(text),
                    Ok(Some(_)) => continue,
                    Ok(None) => return Err("command channel closed".into()),
                    Err(_) => {
                        return Err(format!(
                            "no response on the module's response topic within {} ms (command {id} on {topic})",
                            self.timeout.as_millis()
                        ))
                    }
                }
            }
        }
    }
}

/// The module's command channel.
#[derive(Debug)]
pub enum Commands {
    /// Server v3 commands over MQTT.
    Mqtt(MqttCommands),
    /// A shell template.
    Shell(ShellCommandChannel),
}

impl CommandSender for Commands {
    fn send(
        &mut self,
        command: &str,
    ) -> impl std::future::Future<Output = Result<String, String>> + Send {
        let command = command.to_string();
        async move {
            match self {
                Commands::Mqtt(m) => m.send(&command).await,
                Commands::Shell(s) => s.send(&command).await,
            }
        }
    }
}

/// The relay from `bench.broker.tap` to the scenario's recording tap.
#[derive(Debug)]
struct Relay {
    accept: JoinHandle<()>,
    conns: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    accepted: tokio::sync::watch::Receiver<u64>,
}

impl Relay {
    async fn start(listen: SocketAddr, upstream: String) -> Result<Relay, String> {
        let listener = bind_retry(listen).await?;
        let conns: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (tx, accepted) = tokio::sync::watch::channel(0u64);
        let c2 = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let up = upstream.clone();
                tx.send_modify(|n| *n += 1);
                let h = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&up).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = out.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                c2.lock().unwrap_or_else(|p| p.into_inner()).push(h);
            }
        });
        Ok(Relay {
            accept,
            conns,
            accepted,
        })
    }

    fn stop(&self) {
        self.accept.abort();
        for h in self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            h.abort();
        }
    }
}

/// The previous scenario's relay may still be closing: retry the fixed address for a while.
async fn bind_retry(addr: SocketAddr) -> Result<TcpListener, String> {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(5);
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("bench.broker.tap {addr}: cannot listen: {e}"))
            }
            Err(_) => tokio::time::sleep(StdDuration::from_millis(100)).await,
        }
    }
}

type Controller = Arc<std::sync::Mutex<Box<dyn Probe>>>;

/// Until `deadline`, send the rig's first interval read command (harmless) over MQTT with a
/// short timeout until the module answers: it subscribes to commands a moment after its CONNECT,
/// and a command published before that is lost. The shell channel needs no probing.
async fn await_answer(
    b: &BenchRig,
    commands: &mut Commands,
    deadline: tokio::time::Instant,
) -> Result<(), String> {
    let (Commands::Mqtt(m), Some(cmd)) = (commands, b.interval_read_commands().into_iter().next())
    else {
        return Ok(());
    };
    let full = m.timeout;
    m.timeout = StdDuration::from_millis(1500).min(full);
    let result = loop {
        match m.send(&cmd).await {
            Ok(_) => break Ok(()),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                break Err(format!(
                    "the module did not answer `{cmd}` within bench.boot_ms {} ms: {e}",
                    b.boot.as_millis()
                ))
            }
            Err(_) => {}
        }
    };
    m.timeout = full;
    result
}

/// A module on a bench, driven on the wall clock.
pub struct BenchModule {
    rig: BenchRig,
    relay: Relay,
    controller: Controller,
    commands: Mutex<Option<Commands>>,
    plan: Mutex<Option<IntervalPlan>>,
    simulate: Mutex<BTreeMap<u8, SimulateClient>>,
    scale: f64,
    t0: std::time::Instant,
    halted_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for BenchModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchModule")
            .field("rig", &self.rig.path)
            .field("scale", &self.scale)
            .finish()
    }
}

async fn blocking<T: Send + 'static>(
    c: &Controller,
    what: &'static str,
    f: impl FnOnce(&mut dyn Probe) -> Result<T, ovms_hil_bench::probe::ProbeError> + Send + 'static,
) -> Result<T, String> {
    let c = c.clone();
    tokio::task::spawn_blocking(move || {
        let mut g = c.lock().unwrap_or_else(|p| p.into_inner());
        f(g.as_mut()).map_err(|e| format!("{what}: {e}"))
    })
    .await
    .map_err(|e| format!("{what}: task failed: {e}"))?
}

impl BenchModule {
    /// Load the bench rig at `path` and start it (see [`BenchModule::start_with`]).
    pub async fn start(path: &Path, upstream_url: &str, broker: &Endpoint) -> Result<Self, String> {
        let b = ovms_hil_bench::load_bench_rig(path).map_err(|e| e.to_string())?;
        BenchModule::start_with(b, upstream_url, broker).await
    }

    /// Relay `bench.broker.tap` to `upstream_url` (the scenario's tap, `mqtt://host:port`), power
    /// the module on, wait up to `bench.boot_ms` for its connection, then shorten its intervals
    /// through the command channel (MQTT commands go to `broker`).
    pub async fn start_with(
        b: BenchRig,
        upstream_url: &str,
        broker: &Endpoint,
    ) -> Result<Self, String> {
        let profile = b.profile()?;
        let scale = wall_scale(&profile, &b.intervals);
        let upstream = upstream_url
            .strip_prefix("mqtt://")
            .unwrap_or(upstream_url)
            .to_string();
        let relay = Relay::start(b.broker.tap, upstream).await?;
        let controller: Controller = Arc::new(std::sync::Mutex::new(
            ovms_hil_bench::probe::open(&b).map_err(|e| e.to_string())?,
        ));
        let started = tokio::time::Instant::now();
        blocking(&controller, "power on", |p| p.resume()).await?;
        let mut accepted = relay.accepted.clone();
        let boot_left = b.boot.saturating_sub(started.elapsed());
        tokio::time::timeout(boot_left, accepted.wait_for(|n| *n > 0))
            .await
            .map_err(|_| {
                format!(
                    "the module did not connect to the harness at {} within bench.boot_ms {} \
                     (is it configured with: {}?)",
                    b.broker.tap,
                    b.boot.as_millis(),
                    b.setup_commands().join("; ")
                )
            })?
            .map_err(|_| "relay stopped".to_string())?;
        let prefix = profile.default_prefix(&b.module.mqtt_user, &b.module.vehicle_id);
        let mut commands = match &b.commands {
            CommandChannel::Mqtt { client_id, timeout } => Commands::Mqtt(
                MqttCommands::connect(broker, &profile, &prefix, client_id, *timeout).await?,
            ),
            CommandChannel::Shell { run, timeout } => Commands::Shell(ShellCommandChannel {
                template: run.clone(),
                timeout: *timeout,
            }),
        };
        // The module subscribes to commands shortly after its CONNECT: probe with a harmless
        // read and a short timeout until it answers (or boot time runs out).
        if let Err(e) = await_answer(&b, &mut commands, started + b.boot).await {
            relay.stop();
            return Err(e);
        }
        let plan = loop {
            match shorten_intervals(&b, &mut commands).await {
                Ok(p) => break p,
                Err(e) if started.elapsed() >= b.boot => {
                    relay.stop();
                    return Err(format!("shortening the module's intervals: {e}"));
                }
                Err(_) => tokio::time::sleep(StdDuration::from_millis(500)).await,
            }
        };
        Ok(BenchModule {
            rig: b,
            relay,
            controller,
            commands: Mutex::new(Some(commands)),
            plan: Mutex::new(Some(plan)),
            simulate: Mutex::new(BTreeMap::new()),
            scale,
            t0: std::time::Instant::now(),
            halted_at: std::sync::Mutex::new(None),
        })
    }

    /// The rig.
    pub fn rig(&self) -> &BenchRig {
        &self.rig
    }

    /// Wall seconds per module second ([`wall_scale`]).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The interval plan applied at start (what [`BenchModule::shutdown`] restores).
    pub async fn plan(&self) -> Option<IntervalPlan> {
        self.plan.lock().await.clone()
    }

    /// Send one console command over the rig's command channel.
    pub async fn command(&self, command: &str) -> Result<String, String> {
        let mut g = self.commands.lock().await;
        let c = g.as_mut().ok_or("the command channel is closed")?;
        c.send(command).await
    }

    /// Module-time equivalent of the wall time since start.
    pub async fn now(&self) -> Result<Instant, String> {
        let wall = self.t0.elapsed().as_secs_f64();
        Ok(Instant::from_millis((wall / self.scale * 1000.0) as u64))
    }

    /// Wait `d × scale` on the wall clock.
    pub async fn advance(&self, d: Duration) -> Result<Instant, String> {
        let wall = StdDuration::from_secs_f64(d.as_millis() as f64 / 1000.0 * self.scale);
        tokio::time::sleep(wall).await;
        self.now().await
    }

    /// Feed a frame to bus `bus` (0-based) through the simulate server or SocketCAN.
    pub async fn can_frame(
        &self,
        bus: u8,
        id: u32,
        extended: bool,
        data: &[u8],
    ) -> Result<(), String> {
        let mut frame = Frame::new(0, bus, id, data);
        frame.extended = extended;
        let n = bus + 1;
        if let Some(addr) = self.rig.simulate_addr(n) {
            let mut sims = self.simulate.lock().await;
            let c = match sims.entry(n) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(
                    SimulateClient::connect(addr, StdDuration::from_secs(5))
                        .await
                        .map_err(|e| e.to_string())?,
                ),
            };
            return c.send_frame(&frame).await.map_err(|e| e.to_string());
        }
        if let Some(iface) = self.rig.socketcan_interface(n) {
            let iface = iface.to_string();
            return tokio::task::spawn_blocking(move || {
                let mut sink = ovms_replay::socketcan::SocketCanSink::open(&iface)
                    .map_err(|e| format!("{iface}: {e}"))?;
                sink.send_frame(&frame).map_err(|e| format!("{iface}: {e}"))
            })
            .await
            .map_err(|e| e.to_string())?;
        }
        Err(format!(
            "the bench rig has no CAN attachment for CAN{n} (bench.can.can{n})"
        ))
    }

    /// Cut the power: halt the core (probe) or switch the relay off.
    pub async fn power_cut(&self) -> Result<(), String> {
        blocking(&self.controller, "power cut", |p| p.halt()).await?;
        *self.halted_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
        Ok(())
    }

    /// When the last power cut took effect (wall clock), if the module is cut.
    pub fn halted_at(&self) -> Option<std::time::Instant> {
        *self.halted_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shortened value (seconds) of `updatetime.<key>` on this rig, if it sets one.
    pub fn shortened(&self, param: &str) -> Option<u64> {
        self.rig
            .intervals
            .iter()
            .find(|(k, _)| k == param || k.strip_prefix("updatetime.") == Some(param))
            .map(|(_, v)| *v)
    }

    /// Power the module on again (or resume the halted core).
    pub async fn power_on(&self) -> Result<(), String> {
        blocking(&self.controller, "power on", |p| p.resume()).await?;
        *self.halted_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    /// Restore the intervals (resetting a cut module first), close the command channel and the
    /// relay. The module is left running.
    pub async fn shutdown(self) -> Result<(), String> {
        let mut result = Ok(());
        if let Some(plan) = self.plan.lock().await.take() {
            if !plan.restore.is_empty() {
                // A cut module is reset (power-cycled): resumed, it would wait out its
                // reconnect delay (60 s on the firmware) before it could be reached.
                if self.halted_at().is_some() {
                    let _ = blocking(&self.controller, "reset", |p| p.reset()).await;
                }
                if let Some(c) = self.commands.lock().await.as_mut() {
                    let deadline = tokio::time::Instant::now() + self.rig.boot;
                    // After a power cut the module reconnects first.
                    if let Err(e) = await_answer(&self.rig, c, deadline).await {
                        result = Err(format!("restoring the module's intervals: {e}"));
                    }
                    while result.is_ok() {
                        match restore_intervals(&plan, c).await {
                            Ok(()) => break,
                            Err(e) if tokio::time::Instant::now() >= deadline => {
                                result = Err(e);
                                break;
                            }
                            Err(_) => tokio::time::sleep(StdDuration::from_millis(500)).await,
                        }
                    }
                }
            }
        }
        if let Some(Commands::Mqtt(m)) = self.commands.lock().await.take() {
            m.close().await;
        }
        self.relay.stop();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_scale_is_the_least_shortened_interval() {
        let p = Profile::by_name_or_path("fw-3.3.006").unwrap();
        let idle = p.param_default("updatetime.idle").unwrap();
        let on = p.param_default("updatetime.on").unwrap();
        let s = wall_scale(&p, &[("updatetime.idle".into(), 2)]);
        assert!((s - 2.0 / idle as f64).abs() < 1e-9, "{s}");
        let s = wall_scale(
            &p,
            &[("updatetime.idle".into(), 2), ("updatetime.on".into(), 2)],
        );
        assert!((s - (2.0 / on as f64).max(2.0 / idle as f64)).abs() < 1e-9);
        assert_eq!(wall_scale(&p, &[]), 1.0);
        assert_eq!(wall_scale(&p, &[("updatetime.idle".into(), 10_000)]), 1.0);
    }

    #[test]
    fn shipped_ci_rig_scale() {
        let b = ovms_hil_bench::load_bench_rig(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs/bench-emu-process.yaml"),
        )
        .unwrap();
        let s = wall_scale(&b.profile().unwrap(), &b.intervals);
        assert!(s > 0.0 && s <= 1.0, "{s}");
    }
}
