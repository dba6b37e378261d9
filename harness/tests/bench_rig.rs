//! The CI-run proof of the bench rig with no hardware: `rigs/bench-emu-process.yaml`, whose "real
//! module" is `ovms-emu` as a separate process on the WALL clock, started and frozen by the rig's
//! own power commands, driven through `ovms_hil::rig::bench::BenchModule` against a real
//! mosquitto:
//!
//! - start: relay on `bench.broker.tap` → the scenario's wire tap → mosquitto; power `on`; the
//!   module's CONNECT through the relay; intervals shortened over MQTT commands;
//! - cadence: Roadster SOC frames through the CAN simulate server, `v.b.soc` published on the
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
use ovms_hil_bench::rig::{BusLink, PowerCommands};
use ovms_hil_bench::tolerance;
use ovms_hil_net::broker::mosquitto::MosquittoBroker;
use ovms_hil_net::{BrokerOptions, Endpoint, TimeSource};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ovms-emu` (see [`ovms_hil_bench::emu_binary::ovms_emu_binary`]).
fn emu_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    ovms_hil_bench::emu_binary::ovms_emu_binary(&root).unwrap_or_else(|e| panic!("{e}"))
}

/// Kills the emu the power commands started (pid file) at the end, even if frozen.
struct KillPid(PathBuf);

impl Drop for KillPid {
    fn drop(&mut self) {
        if let Ok(p) = std::fs::read_to_string(&self.0) {
            let p = p.trim();
            let _ = Command::new("kill").args(["-CONT", p]).status();
            let _ = Command::new("kill").args(["-KILL", p]).status();
        }
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ovms_emu_as_a_bench_module_passes_cadence_heartbeat_and_will_on_the_wall_clock() {
    let started = Instant::now();
    let emu = emu_binary();
    // A real mosquitto on a free loopback port (the net crate's generated-config broker).
    let broker = MosquittoBroker::start(&BrokerOptions::default())
        .await
        .expect("mosquitto must be installed (ci installs it)");
    let broker_port = broker.endpoint().port;
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("emu.pid");
    let log = dir.path().join("emu.log");
    let _cleanup = KillPid(pid.clone());

    // The CI rig as shipped, with this test's ports, scratch files, binary and a 2 s keepalive
    // (so the will comes within seconds).
    let rig_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rigs/bench-emu-process.yaml");
    let mut rig = ovms_hil_bench::load_bench_rig(&rig_file).unwrap();
    let tap_port = free_port();
    let sim_port = free_port();
    let adapt = |cmd: &str| {
        let out = cmd
            .replace("/tmp/ovms-hil-bench-emu.pid", &pid.display().to_string())
            .replace("/tmp/ovms-hil-bench-emu.log", &log.display().to_string())
            .replace("\"${OVMS_EMU:-ovms-emu}\"", &emu.display().to_string())
            .replace("127.0.0.1:18830", &format!("127.0.0.1:{tap_port}"))
            .replace("127.0.0.1:13000", &format!("127.0.0.1:{sim_port}"))
            .replace("--keepalive 10", "--keepalive 2");
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
    for c in &mut rig.can {
        if let BusLink::Simulate(a) = &mut c.link {
            *a = format!("127.0.0.1:{sim_port}");
        }
    }
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
        .unwrap_or_else(|e| {
            panic!(
                "{e}\nemu log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });

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

    // Cadence: the SOC changes every 0.5 s through the simulate server; with updatetime 2 s it
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
    assert!(times.len() >= 3, "v.b.soc publishes: {socs:?}");
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
    tolerance::check_within(
        "peer count after the app heartbeat",
        got.duration_since(hb),
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
    tolerance::check_expiry(
        "will after the power cut",
        will_at.duration_since(halted),
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
        panic!(
            "{e}\nemu log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    tap.stop().await;
    let wall = started.elapsed();
    eprintln!("bench rig proof: {:.1} s wall", wall.as_secs_f64());
    assert!(wall < Duration::from_secs(90), "{wall:?}");
}
