//! The library API ([`ovms_emu::spawn`], [`ovms_emu::EmuHandle`]) in-process, on the virtual
//! clock, against a real mosquitto broker: the `advance` barrier guarantee, reconnect delays
//! after a network cut, and a power cut.

mod support;

use std::time::Duration as StdDuration;

use ovms_emu::{spawn, ClockMode, EmuConfig, EmuError, EmuEvent, EmuHandle};
use ovms_firmware::module::ModuleConfig;
use ovms_firmware::profile::{MessageKind, Profile, TopicVars};
use ovms_firmware::time::{Duration, Instant};
use support::*;
use tokio::sync::broadcast::Receiver;

const T: StdDuration = StdDuration::from_secs(10);

fn config(broker: &Mosquitto, profile: &str) -> EmuConfig {
    let module = ModuleConfig {
        vehicle_id: "LIB".into(),
        username: "bob".into(),
        ..ModuleConfig::default()
    };
    let mut cfg = EmuConfig::new(
        broker.url().parse().unwrap(),
        Profile::by_name_or_path(profile).unwrap(),
        module,
    );
    cfg.clock = ClockMode::Virtual;
    cfg.initial_metrics = vec![("v.b.soc".into(), "55".into())];
    cfg
}

fn connected_topic(profile: &str) -> String {
    topic(
        profile,
        MessageKind::Connected,
        "bob",
        "LIB",
        &TopicVars::default(),
    )
}

/// Everything already reported, without waiting.
fn drain(rx: &mut Receiver<EmuEvent>) -> Vec<EmuEvent> {
    let mut v = Vec::new();
    while let Ok(e) = rx.try_recv() {
        v.push(e);
    }
    v
}

fn sent<'a>(events: &'a [EmuEvent], topic: &str) -> Vec<&'a EmuEvent> {
    events
        .iter()
        .filter(|e| matches!(e, EmuEvent::Sent { topic: t, .. } if t == topic))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advance_returns_only_after_every_resulting_packet_is_on_the_socket() {
    let profile = "fw-3.3.006";
    let broker = Mosquitto::start();
    let topic = connected_topic(profile);
    let soc = topic_for_metric(profile, "v.b.soc");
    let mut obs = Observer::v5(broker.port, "obs", &[&topic, &soc]).await;
    let h = spawn(config(&broker, profile)).await.unwrap();
    let mut rx = h.events();
    assert_eq!(h.now().await.unwrap(), Instant::ZERO);

    // The module asked to connect at boot; the connect work runs on the tick at 1 s.
    let now = h.advance(Duration::from_secs(1)).await.unwrap();
    assert_eq!(now, Instant::from_secs(1));
    let ev = drain(&mut rx);
    // The CONNECT outcome came first, at module time 0 (connecting takes no module time) ...
    let connected_at = ev.iter().find_map(|e| match e {
        EmuEvent::Connected { at } => Some(*at),
        _ => None,
    });
    assert_eq!(connected_at, Some(Instant::ZERO), "{ev:#?}");
    // ... then SUBSCRIBE and the full pass at 1 s, all written to the socket before advance returned.
    assert!(
        ev.iter()
            .any(|e| matches!(e, EmuEvent::Subscribed { at, .. } if *at == Instant::from_secs(1))),
        "{ev:#?}"
    );
    let yes = sent(&ev, &topic);
    assert!(
        matches!(yes[..], [EmuEvent::Sent { payload, retain: true, .. }] if payload == b"yes"),
        "{ev:#?}"
    );
    assert_eq!(sent(&ev, &soc).len(), 1, "{ev:#?}");
    obs.wait_for(&topic, b"yes", T).await;
    obs.wait_for(&soc, b"55", T).await;

    // Nothing is due before the next cadence: a short advance sends nothing.
    h.advance(Duration::from_secs(2)).await.unwrap();
    assert!(drain(&mut rx)
        .iter()
        .all(|e| !matches!(e, EmuEvent::Sent { .. })));
    assert!(matches!(h.set_metric("v.b.soc", "56").await, Ok(())));
    assert_eq!(h.metric("v.b.soc").await.unwrap().as_deref(), Some("56"));

    // An incoming PUBLISH is a Received event; waiting for it is the harness's barrier before
    // moving time (here: a heartbeat, then the peer count).
    let active = support::topic(
        profile,
        MessageKind::ClientActive,
        "bob",
        "LIB",
        &TopicVars {
            client_id: Some("app9"),
            ..TopicVars::default()
        },
    );
    publish(broker.port, "app9", &active, b"1", 1, false).await;
    let got = EmuHandle::wait_event(
        &mut rx,
        T,
        |e| matches!(e, EmuEvent::Received { publish, .. } if publish.topic == active),
    )
    .await;
    assert!(got.is_some(), "the heartbeat reached the module");
    assert_eq!(h.metric("s.v3.peers").await.unwrap().as_deref(), Some("1"));
    h.shutdown().await;
}

fn topic_for_metric(profile: &str, name: &str) -> String {
    topic(
        profile,
        MessageKind::Metric,
        "bob",
        "LIB",
        &TopicVars {
            metric: Some(name),
            ..TopicVars::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_cut_fires_the_will_and_reconnects_after_the_profile_delay() {
    for profile in ["draft", "fw-3.3.006"] {
        let lost_secs = Profile::by_name_or_path(profile)
            .unwrap()
            .spec()
            .session
            .reconnect_secs
            .connection_lost;
        let broker = Mosquitto::start();
        let topic = connected_topic(profile);
        let mut obs = Observer::v5(broker.port, "obs", &[&topic]).await;
        let h = spawn(config(&broker, profile)).await.unwrap();
        h.advance(Duration::from_secs(1)).await.unwrap();
        obs.wait_for(&topic, b"yes", T).await;
        assert!(h.is_connected().await.unwrap());

        let mut rx = h.events();
        drain(&mut rx); // the boot events
        h.network_cut().await.unwrap();
        obs.wait_for(&topic, b"no", T).await;
        assert!(!h.is_connected().await.unwrap());
        // One second short of the delay: no new attempt.
        h.advance(Duration::from_secs(lost_secs - 1)).await.unwrap();
        let ev = drain(&mut rx);
        assert!(
            !ev.iter().any(|e| matches!(e, EmuEvent::Connecting { .. })),
            "{profile}: {ev:#?}"
        );
        // At the delay: CONNECT, and (settled by advance) CONNACK.
        h.advance(Duration::from_secs(1)).await.unwrap();
        let ev = drain(&mut rx);
        let at = Instant::from_secs(1 + lost_secs);
        assert!(
            ev.iter()
                .any(|e| matches!(e, EmuEvent::Connecting { at: t, .. } if *t == at)),
            "{profile}: {ev:#?}"
        );
        assert!(h.is_connected().await.unwrap());
        obs.seen.clear();
        h.advance(Duration::from_secs(1)).await.unwrap();
        obs.wait_for(&topic, b"yes", T).await;
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cut_fires_the_will_and_stops_the_module() {
    let profile = "fw-3.3.005";
    let broker = Mosquitto::start();
    let topic = connected_topic(profile);
    let mut obs = Observer::v5(broker.port, "obs", &[&topic]).await;
    let h = spawn(config(&broker, profile)).await.unwrap();
    h.advance(Duration::from_secs(1)).await.unwrap();
    obs.wait_for(&topic, b"yes", T).await;
    h.power_cut().await.unwrap();
    obs.wait_for(&topic, b"no", T).await;
    assert!(matches!(
        h.advance(Duration::from_secs(100)).await,
        Err(EmuError::PoweredOff)
    ));
    assert!(matches!(
        h.set_metric("v.b.soc", "1").await,
        Err(EmuError::PoweredOff)
    ));
    // Queries still answer with the state at the cut.
    assert_eq!(h.now().await.unwrap(), Instant::from_secs(1));
    assert_eq!(h.metric("v.b.soc").await.unwrap().as_deref(), Some("55"));
    // No reconnect ever happens.
    let again = obs.drain_for(StdDuration::from_millis(300)).await;
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(
        broker
            .log
            .all()
            .iter()
            .filter(|l| l.contains("New client connected") && l.contains(" as LIB "))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_clock_module_refuses_advance_and_tls_needs_a_ca() {
    let broker = Mosquitto::start();
    let mut cfg = config(&broker, "fw-3.3.006");
    cfg.clock = ClockMode::Wall;
    let h = spawn(cfg).await.unwrap();
    assert!(matches!(
        h.advance(Duration::from_secs(1)).await,
        Err(EmuError::NotVirtual)
    ));
    h.shutdown().await;

    let mut cfg = config(&broker, "fw-3.3.006");
    cfg.broker = "mqtts://127.0.0.1:8883".parse().unwrap();
    let e = spawn(cfg).await.unwrap_err();
    assert!(e.to_string().contains("needs --ca"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtual_day_reaches_the_broker_packet_for_packet() {
    let profile = "fw-3.3.006";
    let sendall = Profile::by_name_or_path(profile)
        .unwrap()
        .param_default("updatetime.sendall")
        .unwrap();
    let broker = Mosquitto::start();
    let soc = topic_for_metric(profile, "v.b.soc");
    let mut obs = Observer::v5(broker.port, "obs", &[&soc]).await;
    let h = spawn(config(&broker, profile)).await.unwrap();
    let mut rx = h.events();
    let t0 = std::time::Instant::now();
    assert_eq!(
        h.advance(Duration::from_secs(86_400)).await.unwrap(),
        Instant::from_secs(86_400)
    );
    let took = t0.elapsed();
    let ev = drain(&mut rx);
    // v.b.soc never changes, so only full passes send it: the connect pass and one every
    // `updatetime.sendall` seconds.
    let at: Vec<Instant> = sent(&ev, &soc)
        .iter()
        .map(|e| match e {
            EmuEvent::Sent { at, .. } => *at,
            _ => unreachable!(),
        })
        .collect();
    let expected = 86_400 / (sendall + 1);
    assert!(
        at.len() as u64 >= expected && at.len() as u64 <= expected + 2,
        "{} sends: {at:?}",
        at.len()
    );
    assert!(
        at.windows(2)
            .all(|w| w[1].saturating_since(w[0]).as_secs() >= sendall),
        "{at:?}"
    );
    // Every one of them reached a subscriber (QoS 0 on loopback: none lost).
    let deadline = tokio::time::Instant::now() + T;
    while obs.seen.len() < at.len() {
        obs.drain_for(StdDuration::from_millis(50)).await;
        assert!(
            tokio::time::Instant::now() < deadline,
            "observer saw {} of {}",
            obs.seen.len(),
            at.len()
        );
    }
    assert_eq!(obs.seen.len(), at.len());
    eprintln!(
        "advanced 24 h of module time in {took:?} ({} full passes)",
        at.len()
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_client_drives_an_emulator_through_the_control_server() {
    use ovms_emu::control_client::{ControlClient, ControlError};
    let profile = "fw-3.3.006";
    let broker = Mosquitto::start();
    let soc = topic_for_metric(profile, "v.b.soc");
    let mut obs = Observer::v5(broker.port, "obs", &[&soc]).await;
    let h = std::sync::Arc::new(spawn(config(&broker, profile)).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(ovms_emu::control::serve(listener, h.clone()));
    let mut c = ControlClient::connect(addr).await.unwrap();
    assert_eq!(c.now().await.unwrap(), Instant::ZERO);
    assert_eq!(
        c.advance(Duration::from_millis(1500)).await.unwrap(),
        Instant::from_millis(1500)
    );
    obs.wait_for(&soc, b"55", T).await;
    c.set_metric("x.note", "two\nlines").await.unwrap();
    let m = c.metrics(Some("x.")).await.unwrap();
    assert_eq!(m.get("x.note").map(String::as_str), Some("two\nlines"));
    match c.command("advance soon").await {
        Err(ControlError::Refused { message, .. }) => {
            assert!(message.contains("not a number"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtual_day_with_a_vehicle_ticking_every_second() {
    let broker = Mosquitto::start();
    let mut cfg = config(&broker, "fw-3.3.006");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/vehicles");
    cfg.vehicle = Some(ovms_vehicles::load_vehicle("tesla-roadster", &dir).unwrap());
    let h = spawn(cfg).await.unwrap();
    let t0 = std::time::Instant::now();
    // The decoder's per-second tick makes every one of the 86 400 seconds a step.
    assert_eq!(
        h.advance(Duration::from_secs(86_400)).await.unwrap(),
        Instant::from_secs(86_400)
    );
    let took = t0.elapsed();
    assert!(h.is_connected().await.unwrap());
    assert_eq!(h.metric("v.type").await.unwrap().as_deref(), Some("TR"));
    eprintln!("advanced 24 h of module time with a vehicle in {took:?}");
    h.shutdown().await;
}
