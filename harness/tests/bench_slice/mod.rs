//! The bench slice shared by the end-to-end proofs of the CI-able bench rigs
//! (`tests/bench_rig.rs`: CAN through the simulate server, on the host;
//! `tests/vm_bench_socketcan.rs`: CAN through SocketCAN vcan0, inside the QEMU VM).
//!
//! [`adapt_rig`] points a shipped rig's own power commands at the test's ports, scratch files,
//! binary and a 2 s keepalive; [`run_slice`] drives the rig through
//! `ovms_hil::rig::bench::BenchModule` against a real mosquitto:
//!
//! - start: relay on `bench.broker.tap` → the scenario's wire tap → mosquitto; power `on`; the
//!   module's CONNECT through the relay; intervals shortened over MQTT commands;
//! - cadence: Roadster SOC frames through the rig's CAN1 link, `v.b.soc` published on the
//!   shortened interval, checked with the rig's cadence tolerance;
//! - heartbeat: an app heartbeat makes the module publish its peer count, within the response
//!   tolerance;
//! - will: power `off` (SIGSTOP: a silent, open connection) → the broker publishes the will after
//!   1.5 × keepalive, within the expiry tolerance;
//! - shutdown: the intervals are restored.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ovms_firmware::profile::{MessageKind, TopicVars};
use ovms_hil::adapt::tap::ModuleTap;
use ovms_hil::rig::bench::BenchModule;
use ovms_hil_bench::rig::PowerCommands;
use ovms_hil_bench::tolerance;
use ovms_hil_bench::BenchRig;
use ovms_hil_net::broker::mosquitto::MosquittoBroker;
use ovms_hil_net::{BrokerOptions, Endpoint, TimeSource};

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ovms-emu` (see [`ovms_hil_bench::emu_binary::ovms_emu_binary`]; `OVMS_EMU` overrides).
pub fn emu_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    ovms_hil_bench::emu_binary::ovms_emu_binary(&root).unwrap_or_else(|e| panic!("{e}"))
}

/// Kills the emu the power commands started (pid file) at the end, even if frozen.
pub struct KillPid(pub PathBuf);

impl Drop for KillPid {
    fn drop(&mut self) {
        if let Ok(p) = std::fs::read_to_string(&self.0) {
            let p = p.trim();
            let _ = Command::new("kill").args(["-CONT", p]).status();
            let _ = Command::new("kill").args(["-KILL", p]).status();
        }
    }
}

/// A shipped rig with its power commands rewritten for a test: every `(from, to)` replacement is
/// applied to each command (each command must change), plus the tap on `127.0.0.1:tap_port`.
pub fn adapt_rig(rig_file: &Path, replace: &[(&str, String)], tap_port: u16) -> BenchRig {
    let mut rig = ovms_hil_bench::load_bench_rig(rig_file).unwrap();
    let adapt = |cmd: &str| {
        let out = replace
            .iter()
            .fold(cmd.to_string(), |s, (from, to)| s.replace(from, to));
        assert_ne!(out, cmd);
        out
    };
    let cmds = rig.power.clone().expect("the CI rig has power commands");
    rig.power = Some(PowerCommands {
        on: cmds.on.as_deref().map(adapt),
        off: cmds.off.as_deref().map(adapt),
        reset: cmds.reset.as_deref().map(adapt),
        timeout: cmds.timeout,
    });
    rig.broker.tap = format!("127.0.0.1:{tap_port}").parse().unwrap();
    rig
}

/// Every publish under `prefix` with its wall-clock arrival at a subscriber.
struct Observer {
    client: rumqttc::AsyncClient,
    seen: Arc<Mutex<Vec<(Instant, String, String)>>>,
}

impl Observer {
    async fn start(port: u16, prefix: &str) -> Observer {
        let mut opts = rumqttc::MqttOptions::new("bench-rig-observer", "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(30));
        let (client, mut events) = rumqttc::AsyncClient::new(opts, 64);
        let seen: Arc<Mutex<Vec<(Instant, String, String)>>> = Arc::default();
        let s2 = seen.clone();
        let (sub_tx, mut subacks) = tokio::sync::mpsc::unbounded_channel::<()>();
        tokio::spawn(async move {
            while let Ok(ev) = events.poll().await {
                match ev {
                    rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) => {
                        let text = String::from_utf8_lossy(&p.payload).to_string();
                        s2.lock()
                            .unwrap()
                            .push((Instant::now(), p.topic.clone(), text));
                    }
                    rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_)) => {
                        let _ = sub_tx.send(());
                    }
                    _ => {}
                }
            }
        });
        client
            .subscribe(format!("{prefix}#"), rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), subacks.recv())
            .await
            .expect("SUBACK")
            .unwrap();
        Observer { client, seen }
    }

    fn on(&self, topic: &str, after: Instant) -> Vec<(Instant, String)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, top, _)| top == topic && *t >= after)
            .map(|(t, _, v)| (*t, v.clone()))
            .collect()
    }

    async fn wait_on(
        &self,
        topic: &str,
        after: Instant,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((t, _)) = self.on(topic, after).into_iter().find(|(_, v)| pred(v)) {
                return Some(t);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// What the slice measured on the wall clock.
#[derive(Debug)]
pub struct SliceReport {
    /// Intervals between the `v.b.soc` publishes (expected 3 s).
    pub cadence: Vec<Duration>,
    /// From the app heartbeat to the peer count.
    pub heartbeat: Duration,
    /// From the power cut to the will.
    pub will: Duration,
    /// The whole slice.
    pub wall: Duration,
}

/// Runs the slice on `rig` (already adapted, with a 2 s keepalive in its commands); `emu_log` is
/// the file the power commands send the emu's output to (quoted when something fails).
pub async fn run_slice(rig: BenchRig, emu_log: &Path) -> SliceReport {
    let started = Instant::now();
    let emu_log_text = || std::fs::read_to_string(emu_log).unwrap_or_default();
    // A real mosquitto on a free loopback port (the net crate's generated-config broker).
    let broker = MosquittoBroker::start(&BrokerOptions::default())
        .await
        .expect("mosquitto must be installed (ci installs it)");
    let broker_port = broker.endpoint().port;
    let profile = rig.profile().unwrap();
    let prefix = profile.default_prefix(&rig.module.mqtt_user, &rig.module.vehicle_id);
    let tolerances = rig.tolerance;

    let endpoint = Endpoint::loopback(broker_port);
    let obs = Observer::start(broker_port, &prefix).await;
    let tap = ModuleTap::start(&endpoint, None, TimeSource::new())
        .await
        .unwrap();
    let module = BenchModule::start_with(rig, &tap.url(), &endpoint)
        .await
        .unwrap_or_else(|e| panic!("{e}\nemu log:\n{}", emu_log_text()));

    // The module connected through the relay to the scenario's tap, with the profile's will.
    let connects = tap.connects();
    assert!(!connects.is_empty(), "the tap saw no CONNECT");
    let will = connects[0].will.as_ref().expect("the CONNECT has a will");
    let connected_topic = profile.topic(MessageKind::Connected, &prefix, &TopicVars::default());
    assert_eq!(will.topic, connected_topic);
    // The intervals were shortened over the MQTT command channel.
    let plan = module.plan().await.unwrap();
    assert!(!plan.apply.is_empty(), "{plan:?}");
    let idle = module
        .command("config get server.v3 updatetime.idle")
        .await
        .unwrap();
    assert_eq!(idle.trim(), "2", "{idle:?}");
    assert!(module.scale() < 1.0, "{}", module.scale());

    // Cadence: the SOC changes every 0.5 s through the rig's CAN1 link; with updatetime 2 s it
    // is published every 3 s on the wall clock (due when now > last + 2 on the 1-s ticker).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let soc_topic = format!("{prefix}metric/v/b/soc");
    let t0 = Instant::now();
    for i in 0..20u8 {
        module
            .can_frame(0, 0x100, false, &[0x80, 50 + i, 0xBB, 0, 0x64, 0, 0xAA, 0])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let socs = obs.on(&soc_topic, t0);
    let times: Vec<Instant> = socs
        .iter()
        .filter(|(_, v)| v.parse::<u8>().is_ok_and(|s| (50..70).contains(&s)))
        .map(|(t, _)| *t)
        .collect();
    assert!(
        times.len() >= 3,
        "v.b.soc publishes: {socs:?}\nemu log:\n{}",
        emu_log_text()
    );
    let cadence = tolerance::check_cadence_instants(
        "v.b.soc",
        &times,
        Duration::from_secs(3),
        tolerances.cadence,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("v.b.soc wall-clock intervals: {:?}", cadence.intervals);

    // Heartbeat: an app announces itself; the module publishes its peer count.
    let peers_topic = format!("{prefix}metric/s/v3/peers");
    let active = profile.topic(
        MessageKind::ClientActive,
        &prefix,
        &TopicVars {
            client_id: Some("benchapp"),
            ..TopicVars::default()
        },
    );
    let hb = Instant::now();
    obs.client
        .publish(active, rumqttc::QoS::AtLeastOnce, false, b"1".to_vec())
        .await
        .unwrap();
    let got = obs
        .wait_on(
            &peers_topic,
            hb,
            |v| v.trim() != "0",
            Duration::from_secs(10),
        )
        .await
        .unwrap_or_else(|| {
            panic!(
                "no peer count after the heartbeat: {:?}",
                obs.on(&peers_topic, hb)
            )
        });
    let heartbeat = got.duration_since(hb);
    tolerance::check_within(
        "peer count after the app heartbeat",
        heartbeat,
        Duration::ZERO,
        tolerances.response,
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // Will: power off (SIGSTOP) through the rig's power commands; the broker publishes the will
    // after 1.5 × keepalive (3 s) of silence, checked in whole seconds.
    let halted = Instant::now();
    module.power_cut().await.unwrap();
    let will_at = obs
        .wait_on(
            &connected_topic,
            halted,
            |v| v.as_bytes() == will.payload.as_slice(),
            Duration::from_secs(15),
        )
        .await
        .expect("no will after the power cut");
    let will_delay = will_at.duration_since(halted);
    tolerance::check_expiry(
        "will after the power cut",
        will_delay,
        // 1.5 × keepalive + 2 s (whole-second keepalive checks; rigs/README.md).
        tolerance::expected_will_delay(2),
        tolerances.expiry,
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // Shutdown resets the cut module (relay `reset`: kill and restart) and restores its
    // intervals over the command channel: every restore command must be answered and accepted.
    let restore = module.plan().await.unwrap().restore;
    assert!(!restore.is_empty());
    if let Err(e) = module.shutdown().await {
        panic!("{e}\nemu log:\n{}", emu_log_text());
    }
    tap.stop().await;
    let wall = started.elapsed();
    eprintln!("bench rig proof: {:.1} s wall", wall.as_secs_f64());
    // Seconds, not the ten minutes of the firmware's default intervals (about 25 s alone; the
    // bound leaves room for a loaded 2-core machine).
    assert!(wall < Duration::from_secs(150), "{wall:?}");
    SliceReport {
        cadence: cadence.intervals,
        heartbeat,
        will: will_delay,
        wall,
    }
}
