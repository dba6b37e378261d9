//! The `ovms-emu` binary against a real mosquitto broker, per protocol profile where the
//! profiles differ. Every topic, QoS and retain flag comes from the profile files (the same
//! source the module uses), so a broken profile lookup or transport mapping fails here.

mod support;

use std::time::Duration;

use ovms_firmware::profile::{CommandTag, MessageKind, Profile, TopicVars};
use support::*;

const T: Duration = Duration::from_secs(10);
const USER: &str = "alice";
const VID: &str = "DEMO";

fn vars() -> TopicVars<'static> {
    TopicVars::default()
}

fn metric_vars(name: &str) -> TopicVars<'_> {
    TopicVars {
        metric: Some(name),
        ..TopicVars::default()
    }
}

fn connected_topic(profile: &str) -> String {
    topic(profile, MessageKind::Connected, USER, VID, &vars())
}

fn emu_args<'a>(broker: &'a str, profile: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--broker",
        broker,
        "--profile",
        profile,
        "--username",
        USER,
        "--vehicle-id",
        VID,
    ];
    v.extend_from_slice(extra);
    v
}

/// Per-profile test functions, one `#[tokio::test]` each (they run in parallel).
macro_rules! per_profile {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn draft() {
                super::$body("draft").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn fw_3_3_005() {
                super::$body("fw-3.3.005").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn fw_3_3_006() {
                super::$body("fw-3.3.006").await
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// V3-SES-4: a late subscriber receives `yes`, retained.

async fn late_subscriber_gets_connected_yes(profile: &str) {
    let broker = Mosquitto::start();
    let url = broker.url();
    let emu = Emu::start(&emu_args(&url, profile, &[]));
    emu.wait_connected();
    let topic = connected_topic(profile);
    // The module publishes `yes` after CONNACK (draft) or in the next tick's full pass: wait for
    // the broker to have received it, then subscribe late.
    broker.log.wait_for(
        &format!("Received PUBLISH from {VID} (d0, q0, r1, m0, '{topic}', ... (3 bytes))"),
        T,
    );
    let mut late = Observer::v5(broker.port, "late", &[&topic]).await;
    let seen = late.wait_for(&topic, b"yes", T).await;
    assert!(seen.retain, "a late subscriber gets the retained copy");
    // CONNECT as the profile says: clean session 0, will retained QoS 0, username sent.
    let p = Profile::by_name_or_path(profile).unwrap();
    let ka = p.spec().session.keepalive_secs;
    broker
        .log
        .wait_for(&format!("as {VID} (p2, c0, k{ka}, u'{USER}')"), T);
    broker
        .log
        .wait_for("Will message specified (2 bytes) (r1, q0)", T);
}
per_profile!(
    connected_yes_is_retained,
    late_subscriber_gets_connected_yes
);

// ---------------------------------------------------------------------------------------------
// V3-SES-5: kill -9 of the process makes the broker publish the will `no`, retained.

async fn kill_9_fires_the_will(profile: &str) {
    let broker = Mosquitto::start();
    let url = broker.url();
    let topic = connected_topic(profile);
    let mut obs = Observer::v5(broker.port, "obs", &[&topic]).await;
    let mut emu = Emu::start(&emu_args(&url, profile, &[]));
    obs.wait_for(&topic, b"yes", T).await;
    emu.kill9();
    let will = obs.wait_for(&topic, b"no", T).await;
    assert!(
        will.retain,
        "the will is published with RETAIN (retain-as-published)"
    );
    assert_eq!(will.qos, 0);
    let mut late = Observer::v5(broker.port, "late", &[&topic]).await;
    let seen = late
        .wait(&format!("{topic} retained"), T, |s| s.topic == topic)
        .await;
    assert_eq!((seen.payload.as_slice(), seen.retain), (&b"no"[..], true));
    assert!(
        !broker
            .log
            .all()
            .iter()
            .any(|l| l.contains(&format!("Received DISCONNECT from {VID}"))),
        "no DISCONNECT may reach the broker"
    );
}
per_profile!(kill_9_publishes_the_will, kill_9_fires_the_will);

// ---------------------------------------------------------------------------------------------
// V3-MET-1..3: `--set` metric on the profile's topic with the profile's QoS and retain flag.

async fn set_metric_arrives_with_profile_flags(profile: &str) {
    let broker = Mosquitto::start();
    let url = broker.url();
    let p = Profile::by_name_or_path(profile).unwrap();
    let topic = topic(
        profile,
        MessageKind::Metric,
        USER,
        VID,
        &metric_vars("v.b.soc"),
    );
    let (qos, retain) = (
        p.qos(MessageKind::Metric).as_u8(),
        p.retain(MessageKind::Metric),
    );
    // Subscribed before the module starts: the copy is live, and retain-as-published shows the
    // sender's own RETAIN flag; QoS 2 on the subscription shows the sender's QoS.
    let mut obs = Observer::v5(broker.port, "obs", &[&topic]).await;
    let _emu = Emu::start(&emu_args(&url, profile, &["--set", "v.b.soc=85.50"]));
    let seen = obs.wait_for(&topic, b"85.5", T).await;
    assert_eq!((seen.qos, seen.retain), (qos, retain), "{topic}");
    // The broker's ingress log shows the flags of the PUBLISH as the module sent it.
    broker.log.wait_for(
        &format!(
            "Received PUBLISH from {VID} (d0, q{qos}, r{}, m0, '{topic}', ... (4 bytes))",
            u8::from(retain)
        ),
        T,
    );
}
per_profile!(
    set_metric_uses_profile_topic_qos_retain,
    set_metric_arrives_with_profile_flags
);

// ---------------------------------------------------------------------------------------------
// A clean stop (SIGTERM / SIGINT) exits 0 and still sends no DISCONNECT: the will fires.

async fn clean_stop(sig: &str) {
    let profile = "fw-3.3.006";
    let broker = Mosquitto::start();
    let url = broker.url();
    let topic = connected_topic(profile);
    let mut obs = Observer::v5(broker.port, "obs", &[&topic]).await;
    let mut emu = Emu::start(&emu_args(&url, profile, &[]));
    obs.wait_for(&topic, b"yes", T).await;
    assert_eq!(
        emu.signal_and_wait(sig),
        Some(0),
        "exit code after SIG{sig}"
    );
    obs.wait_for(&topic, b"no", T).await;
    assert!(!broker
        .log
        .all()
        .iter()
        .any(|l| l.contains(&format!("Received DISCONNECT from {VID}"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_0_and_the_will_fires() {
    clean_stop("TERM").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_0_and_the_will_fires() {
    clean_stop("INT").await
}

// ---------------------------------------------------------------------------------------------
// V3-CLI-1/3/4 and V3-CAD: a heartbeat raises s.v3.peers; expiry lowers it, on the virtual clock.

async fn heartbeat_raises_peers(profile: &str) {
    let broker = Mosquitto::start();
    let url = broker.url();
    let p = Profile::by_name_or_path(profile).unwrap();
    let peers_topic = topic(
        profile,
        MessageKind::Metric,
        USER,
        VID,
        &metric_vars("s.v3.peers"),
    );
    let active = topic(
        profile,
        MessageKind::ClientActive,
        USER,
        VID,
        &TopicVars {
            client_id: Some("app1"),
            ..vars()
        },
    );
    let mut obs = Observer::v5(broker.port, "obs", &[&peers_topic]).await;
    let emu = Emu::start(&emu_args(
        &url,
        profile,
        &["--clock", "virtual", "--control", "127.0.0.1:0"],
    ));
    let mut ctl = Control::connect(&emu.control_addr());
    emu.wait_connected();
    // The connect work (SUBSCRIBE, full pass) runs at the next 1-s tick (or at once for draft).
    assert_eq!(ctl.ok("advance 1"), "1.000");
    broker.log.wait_for(&format!("Sending SUBACK to {VID}"), T);
    assert_eq!(
        ctl.metrics("s.v3.peers")
            .get("s.v3.peers")
            .map(String::as_str),
        Some("0")
    );

    publish(broker.port, "app1", &active, b"1", 1, false).await;
    // Barrier: the module has counted the client.
    let deadline = std::time::Instant::now() + T;
    while ctl
        .metrics("s.v3.peers")
        .get("s.v3.peers")
        .map(String::as_str)
        != Some("1")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "s.v3.peers never became 1"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Within one `connected` cadence (≤ 60 s in every profile) the modified pass sends it.
    let connected_secs = p.param_default("updatetime.connected").unwrap_or(60);
    ctl.ok(&format!("advance {}", connected_secs + 1));
    let seen = obs.wait_for(&peers_topic, b"1", T).await;
    assert!(seen.retain == p.retain(MessageKind::Metric));

    // No refresh: the client expires after 120 s (purged by ticker.60 in the shipped firmware),
    // and `0` goes out within the idle cadence.
    obs.seen.clear();
    ctl.ok("advance 200");
    assert_eq!(
        ctl.metrics("s.v3.peers")
            .get("s.v3.peers")
            .map(String::as_str),
        Some("0")
    );
    let idle = p.param_default("updatetime.idle").unwrap_or(600);
    ctl.ok(&format!("advance {}", idle + 1));
    obs.wait_for(&peers_topic, b"0", T).await;
}

per_profile!(
    heartbeat_raises_peers_on_virtual_clock,
    heartbeat_raises_peers
);

// ---------------------------------------------------------------------------------------------
// V3-CMD: a command gets its response on the right topic; binary garbage gets an error response
// and the module stays connected (a later command still works).

async fn command_and_garbage(profile: &str) {
    let broker = Mosquitto::start();
    let url = broker.url();
    let p = Profile::by_name_or_path(profile).unwrap();
    let tagged = p.spec().commands.tag == CommandTag::LeadingWord;
    let cmd_topic = |id: &'static str| {
        topic(
            profile,
            MessageKind::Command,
            USER,
            VID,
            &TopicVars {
                client_id: Some("app1"),
                command_id: Some(id),
                ..vars()
            },
        )
    };
    let resp_topic = |id: &'static str| {
        topic(
            profile,
            MessageKind::Response,
            USER,
            VID,
            &TopicVars {
                client_id: Some("app1"),
                command_id: Some(id),
                ..vars()
            },
        )
    };
    let connected = connected_topic(profile);
    let resp_filter = topic(
        profile,
        MessageKind::Response,
        USER,
        VID,
        &TopicVars {
            client_id: Some("app1"),
            ..vars()
        },
    );
    let mut obs = Observer::v5(broker.port, "obs", &[&resp_filter, &connected]).await;
    let emu = Emu::start(&emu_args(&url, profile, &["--config", "updatetime.idle=2"]));
    emu.wait_connected();
    broker.log.wait_for(&format!("Sending SUBACK to {VID}"), T);
    let body = |tag: &str, cmd: &[u8]| -> Vec<u8> {
        let mut v = Vec::new();
        if tagged {
            v.extend_from_slice(tag.as_bytes());
            v.push(b' ');
        }
        v.extend_from_slice(cmd);
        v
    };
    let qos = p.qos(MessageKind::Command).as_u8();
    let expect = |tag: &str, text: &str| -> Vec<u8> {
        if tagged {
            format!("{tag} {text}").into_bytes()
        } else {
            text.as_bytes().to_vec()
        }
    };

    // A response is matched by topic (and, for tagged profiles, by its leading tag).
    let is_response = |s: &Seen, id: &'static str, tag: &str| {
        s.topic == resp_topic(id)
            && (!tagged || s.payload.starts_with(format!("{tag} ").as_bytes()))
    };

    publish(
        broker.port,
        "app1",
        &cmd_topic("c1"),
        &body("A1", b"metrics set x.test 42"),
        qos,
        false,
    )
    .await;
    let r = obs
        .wait(&format!("response on {}", resp_topic("c1")), T, |s| {
            is_response(s, "c1", "A1")
        })
        .await;
    assert_eq!(r.payload, expect("A1", "Metric set\n"));
    assert_eq!(
        (r.qos, r.retain),
        (
            p.qos(MessageKind::Response).as_u8(),
            p.retain(MessageKind::Response)
        )
    );

    let garbage: &[u8] = &[0xff, 0xfe, 0x00, 0x80, 0xc3];
    publish(
        broker.port,
        "app1",
        &cmd_topic("c2"),
        &body("A2", garbage),
        qos,
        false,
    )
    .await;
    let r = obs
        .wait(&format!("response on {}", resp_topic("c2")), T, |s| {
            is_response(s, "c2", "A2")
        })
        .await;
    let text = String::from_utf8_lossy(&r.payload).into_owned();
    assert!(
        text.contains("Error"),
        "garbage gets an error response, got {text:?}"
    );

    publish(
        broker.port,
        "app1",
        &cmd_topic("c3"),
        &body("A3", b"metrics list x.test"),
        qos,
        false,
    )
    .await;
    let r = obs
        .wait(&format!("response on {}", resp_topic("c3")), T, |s| {
            is_response(s, "c3", "A3")
        })
        .await;
    let text = String::from_utf8_lossy(&r.payload).into_owned();
    assert!(text.contains("x.test") && text.contains("42"), "{text:?}");

    // `--config` reaches the module's server.v3 configuration.
    publish(
        broker.port,
        "app1",
        &cmd_topic("c4"),
        &body("A4", b"config get server.v3 updatetime.idle"),
        qos,
        false,
    )
    .await;
    let r = obs
        .wait(&format!("response on {}", resp_topic("c4")), T, |s| {
            is_response(s, "c4", "A4")
        })
        .await;
    assert_eq!(r.payload, expect("A4", "2\n"));

    assert!(
        !obs.seen
            .iter()
            .any(|s| s.topic == connected && s.payload == b"no"),
        "the will never fired"
    );
    let connects = broker
        .log
        .all()
        .iter()
        .filter(|l| l.contains("New client connected from") && l.contains(&format!(" as {VID} ")))
        .count();
    assert_eq!(connects, 1, "one connection for the whole test");
}
per_profile!(command_response_and_garbage, command_and_garbage);

// ---------------------------------------------------------------------------------------------
// Unreachable broker at start: one clear line per failure, retries (with back-off), then connects.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_retried_until_it_appears() {
    let port = free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let emu = Emu::start(&emu_args(
        &url,
        "fw-3.3.006",
        &["--retry-delay", "0.2", "--retry-max", "0.4"],
    ));
    emu.stderr.wait_for(
        &format!("broker 127.0.0.1:{port} unreachable: connection refused; retrying in 200 ms"),
        Duration::from_secs(3),
    );
    emu.stderr.wait_for(
        &format!("broker 127.0.0.1:{port} unreachable: connection refused; retrying in 400 ms"),
        Duration::from_secs(3),
    );
    let broker = Mosquitto::start_on(port, "");
    emu.wait_connected();
    let topic = connected_topic("fw-3.3.006");
    let mut late = Observer::v5(broker.port, "late", &[&topic]).await;
    late.wait_for(&topic, b"yes", T).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_uses_the_profile_delay_by_default() {
    for (profile, secs) in [("draft", 20), ("fw-3.3.005", 60), ("fw-3.3.006", 30)] {
        let p = Profile::by_name_or_path(profile).unwrap();
        assert_eq!(p.spec().session.reconnect_secs.connect_failed, secs);
        let port = free_port();
        let url = format!("mqtt://127.0.0.1:{port}");
        let emu = Emu::start(&emu_args(&url, profile, &[]));
        emu.stderr.wait_for(
            &format!(
                "broker 127.0.0.1:{port} unreachable: connection refused; retrying in {secs} s"
            ),
            Duration::from_secs(3),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The virtual clock through the control channel: events and notifications on the profile topics.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_channel_events_notifications_and_errors() {
    let profile = "fw-3.3.006";
    let broker = Mosquitto::start();
    let url = broker.url();
    let event_topic = topic(profile, MessageKind::EventLegacy, USER, VID, &vars());
    let notify_topic = topic(
        profile,
        MessageKind::Notify,
        USER,
        VID,
        &TopicVars {
            notify_kind: Some("info"),
            subtype: Some("charge.started"),
            ..vars()
        },
    );
    let mut obs = Observer::v5(broker.port, "obs", &[&event_topic, &notify_topic]).await;
    let emu = Emu::start(&emu_args(
        &url,
        profile,
        &["--clock", "virtual", "--control", "127.0.0.1:0"],
    ));
    let mut ctl = Control::connect(&emu.control_addr());
    emu.wait_connected();
    assert_eq!(ctl.ok("now"), "0.000");
    assert_eq!(ctl.ok("advance 1.5"), "1.500");
    assert_eq!(ctl.ok("status"), "connected=yes now=1.500");
    ctl.ok("event vehicle.charge.start");
    obs.wait_for(&event_topic, b"vehicle.charge.start", T).await;
    ctl.ok("notify info charge.started Charging started");
    // Notifications go out on the next tick.
    ctl.ok("advance 1");
    let n = obs.wait_for(&notify_topic, b"Charging started", T).await;
    assert_eq!(n.qos, 1);
    assert!(ctl.cmd("fly away").starts_with("error unknown command"));
    assert!(ctl.cmd("advance -3").starts_with("error"));
    ctl.ok("set v.b.soc 77");
    assert_eq!(
        ctl.metrics("v.b.soc").get("v.b.soc").map(String::as_str),
        Some("77")
    );
    // power-cut: the will fires, the module answers no more inputs.
    let connected = connected_topic(profile);
    let mut late = Observer::v5(broker.port, "late", &[&connected]).await;
    late.wait_for(&connected, b"yes", T).await;
    ctl.ok("power-cut");
    late.wait_for(&connected, b"no", T).await;
    assert_eq!(ctl.cmd("set v.b.soc 1"), "error the module is powered off");
}

// ---------------------------------------------------------------------------------------------
// Credentials: the password comes from OVMS_PASSWORD or --password-file, is sent, never logged.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_from_env_or_file_is_sent_and_never_logged() {
    let dir = TempDir::new("pw");
    let pwfile = dir.0.join("passwd");
    let st = std::process::Command::new("mosquitto_passwd")
        .args(["-c", "-b"])
        .arg(&pwfile)
        .args([USER, "s3cret-pw"])
        .status()
        .unwrap();
    assert!(st.success());
    let port = free_port();
    let extra = format!(
        "listener {} 127.0.0.1\nallow_anonymous false\npassword_file {}\n",
        free_port(),
        pwfile.display()
    );
    let broker = Mosquitto::start_on(port, &extra);
    let auth_port: u16 = extra.split_whitespace().nth(1).unwrap().parse().unwrap();
    let url = format!("mqtt://127.0.0.1:{auth_port}");

    let emu = Emu::start_env(
        &emu_args(&url, "fw-3.3.006", &[]),
        &[("OVMS_PASSWORD", "s3cret-pw")],
    );
    emu.wait_connected();
    let secret_file = dir.0.join("secret");
    std::fs::write(&secret_file, "s3cret-pw\n").unwrap();
    let emu2 = Emu::start(&emu_args(
        &url,
        "fw-3.3.006",
        &[
            "--password-file",
            secret_file.to_str().unwrap(),
            "--client-id",
            "DEMO2",
            "--log-level",
            "trace",
        ],
    ));
    emu2.wait_connected();
    let wrong = Emu::start_env(
        &emu_args(&url, "fw-3.3.006", &["--client-id", "DEMO3"]),
        &[("OVMS_PASSWORD", "wrong")],
    );
    wrong.stderr.wait_for(&format!("broker 127.0.0.1:{auth_port} refused the connection: not authorised (CONNACK code 5); retrying in 30 s"), T);
    for e in [&emu, &emu2, &wrong] {
        assert!(
            !e.stderr.all().iter().any(|l| l.contains("s3cret-pw")),
            "the password was logged"
        );
    }
    drop(broker);
}

// ---------------------------------------------------------------------------------------------
// TLS: the broker is verified against --ca; a wrong CA gives a clear message.

/// A CA (certificate PEM, issuer) with common name `name`.
fn make_ca(name: &str) -> (String, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), rcgen::Issuer::new(params, key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_broker_is_verified_against_the_ca() {
    let dir = TempDir::new("tls");
    let d = &dir.0;
    let (ca_pem, issuer) = make_ca("ovms-hil test CA");
    let (other_pem, _) = make_ca("some other CA");
    let server_key = rcgen::KeyPair::generate().unwrap();
    let mut sp =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    sp.distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let server = sp.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(d.join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(d.join("otherca.pem"), &other_pem).unwrap();
    std::fs::write(d.join("server.pem"), server.pem()).unwrap();
    std::fs::write(d.join("server.key"), server_key.serialize_pem()).unwrap();
    // A client certificate from the same CA, for the mutual-TLS listener.
    let client_key = rcgen::KeyPair::generate().unwrap();
    let mut cp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "DEMO");
    let client = cp.signed_by(&client_key, &issuer).unwrap();
    std::fs::write(d.join("client.pem"), client.pem()).unwrap();
    std::fs::write(d.join("client.key"), client_key.serialize_pem()).unwrap();
    let tls_port = free_port();
    let mtls_port = free_port();
    let extra = format!(
        "listener {tls_port} 127.0.0.1\nallow_anonymous true\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\n\
         listener {mtls_port} 127.0.0.1\nallow_anonymous true\ncafile {0}/ca.pem\ncertfile {0}/server.pem\nkeyfile {0}/server.key\nrequire_certificate true\n",
        d.display()
    );
    let broker = Mosquitto::start_on(free_port(), &extra);
    let url = format!("mqtts://127.0.0.1:{tls_port}");
    let topic = connected_topic("fw-3.3.006");
    let mut obs = Observer::v5(broker.port, "obs", &[&topic]).await;
    let ca = d.join("ca.pem");
    let _emu = Emu::start(&emu_args(
        &url,
        "fw-3.3.006",
        &["--ca", ca.to_str().unwrap()],
    ));
    obs.wait_for(&topic, b"yes", T).await;

    let other = d.join("otherca.pem");
    let bad = Emu::start(&emu_args(
        &url,
        "fw-3.3.006",
        &["--ca", other.to_str().unwrap(), "--client-id", "BAD"],
    ));
    let line = bad.stderr.wait_for(
        &format!("TLS handshake with broker 127.0.0.1:{tls_port} failed:"),
        T,
    );
    assert!(
        line.contains("not signed by the CA given with --ca"),
        "{line}"
    );

    // Mutual TLS: without a client certificate the broker rejects the handshake; with one
    // signed by its CA the module connects.
    let murl = format!("mqtts://127.0.0.1:{mtls_port}");
    let anon = Emu::start(&emu_args(
        &murl,
        "fw-3.3.006",
        &["--ca", ca.to_str().unwrap(), "--client-id", "ANON"],
    ));
    anon.stderr.wait_for(
        &format!("TLS handshake with broker 127.0.0.1:{mtls_port} failed: received fatal alert: CertificateRequired (the broker requires a client certificate: --client-cert and --client-key)"),
        T,
    );
    assert!(!anon
        .stderr
        .all()
        .iter()
        .any(|l| l.contains("connected to broker")));
    let (cert, key) = (d.join("client.pem"), d.join("client.key"));
    let mtls = Emu::start(&emu_args(
        &murl,
        "fw-3.3.006",
        &[
            "--ca",
            ca.to_str().unwrap(),
            "--client-cert",
            cert.to_str().unwrap(),
            "--client-key",
            key.to_str().unwrap(),
            "--client-id",
            "MTLS",
        ],
    ));
    mtls.wait_connected();

    // --insecure: the certificate from another CA than the one given is accepted, and without
    // --ca at all (the switch the suite's mutation test uses to prove the wrong-CA scenario).
    let insecure = Emu::start(&emu_args(
        &url,
        "fw-3.3.006",
        &[
            "--ca",
            other.to_str().unwrap(),
            "--insecure",
            "--client-id",
            "INSECURE",
        ],
    ));
    insecure.wait_connected();
    let no_ca = Emu::start(&emu_args(
        &url,
        "fw-3.3.006",
        &["--insecure", "--client-id", "NOCA"],
    ));
    no_ca.wait_connected();
}

// ---------------------------------------------------------------------------------------------
// The command line contract.

fn run_emu(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ovms-emu"))
        .args(args)
        .env_remove("OVMS_PASSWORD")
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn help_explains_every_option_and_usage_errors_exit_2() {
    let (code, help) = run_emu(&["--help"]);
    assert_eq!(code, Some(0));
    for opt in [
        "--broker",
        "--ca",
        "--username",
        "--password-file",
        "OVMS_PASSWORD",
        "--vehicle-id",
        "--profile",
        "--keepalive",
        "--set",
        "--vehicle",
        "--clock",
        "--control",
        "--can-simulate",
        "--retry-delay",
        "--config",
        "--client-id",
        "--topic-prefix",
    ] {
        assert!(help.contains(opt), "--help lacks {opt}");
    }
    for (args, want) in [
        (vec![], "--broker"),
        (vec!["--broker", "http://x:1"], "expected mqtt://HOST:PORT"),
        (
            vec!["--broker", "mqtt://127.0.0.1:1", "--set", "novalue"],
            "expected NAME=VALUE",
        ),
        (
            vec!["--broker", "mqtt://127.0.0.1:1", "--clock", "virtual"],
            "needs --control",
        ),
        (vec!["--broker", "mqtts://127.0.0.1:1"], "needs --ca"),
        (
            vec!["--broker", "mqtt://127.0.0.1:1", "--password", "x"],
            "--password",
        ),
    ] {
        let (code, out) = run_emu(&args);
        assert_eq!(code, Some(2), "{args:?}: {out}");
        assert!(out.contains(want), "{args:?}: {out}");
    }
    let (code, out) = run_emu(&[
        "--broker",
        "mqtt://127.0.0.1:1",
        "--profile",
        "/nonexistent/p.yaml",
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("/nonexistent/p.yaml"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// The CAN "simulate" server: a CRTD stream reaches the vehicle decoder; bad lines are reported
// with line and column and skipped.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn can_simulate_feeds_crtd_frames_to_the_vehicle() {
    use tokio::io::AsyncWriteExt;
    let profile = "fw-3.3.006";
    let broker = Mosquitto::start();
    let url = broker.url();
    let soc_topic = topic(
        profile,
        MessageKind::Metric,
        USER,
        VID,
        &metric_vars("v.b.soc"),
    );
    let mut obs = Observer::v5(broker.port, "obs", &[&soc_topic]).await;
    let emu = Emu::start(&emu_args(
        &url,
        profile,
        &[
            "--vehicle",
            "tesla-roadster",
            "--clock",
            "virtual",
            "--control",
            "127.0.0.1:0",
            "--can-simulate",
            "127.0.0.1:0",
        ],
    ));
    let mut ctl = Control::connect(&emu.control_addr());
    let sim = emu.stderr.wait_for("CAN simulate server listening on ", T);
    let sim_addr = sim.rsplit(' ').next().unwrap().to_string();
    emu.wait_connected();
    ctl.ok("advance 1");
    // A header, a comment, an event record, a malformed frame line, then the roadster's
    // SOC/range frame (roadster-decoder.md, drive-a 1.6826: SOC 96 %, ideal 187 mi).
    let stream = "0.000000 CXX OVMS CRTD\n# comment\n0.5 1CEV Event vehicle.on\n1.0 1R11 1zz 00\n1.6826 1R11 100 80 60 bb 00 64 00 aa 00\n";
    let mut s = tokio::net::TcpStream::connect(&sim_addr).await.unwrap();
    s.write_all(stream.as_bytes()).await.unwrap();
    s.shutdown().await.unwrap();
    emu.stderr.wait_for(
        "line 4: column 10: expected a hex CAN identifier, found \"1zz\"",
        T,
    );
    emu.stderr
        .wait_for("1 frames fed, 3 lines ignored, 1 bad lines", T);
    let m = ctl.metrics("v.b.");
    assert_eq!(m.get("v.b.soc").map(String::as_str), Some("96"), "{m:?}");
    assert_eq!(
        m.get("v.b.range.ideal").map(String::as_str),
        Some("300.948"),
        "{m:?}"
    );
    // The next modified pass (idle cadence at most) publishes it.
    ctl.ok("advance 601");
    obs.wait_for(&soc_topic, b"96", T).await;
    // The control channel's `frame` feeds the same decoder (SOC 80 %).
    ctl.ok("frame 1 100 8050bb006400aa00");
    assert_eq!(
        ctl.metrics("v.b.soc").get("v.b.soc").map(String::as_str),
        Some("80")
    );
}

#[test]
fn unknown_vehicle_is_a_fatal_error_naming_the_choices() {
    let (code, out) = run_emu(&["--broker", "mqtt://127.0.0.1:1", "--vehicle", "no-such-car"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("no-such-car") && out.contains("tesla-roadster"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// CONNECT options from the command line, where the profiles differ: `--client-id` exists only
// from 3.3.006 on (before, the client id is always the vehicle id); `--keepalive` overrides the
// profile's; `--topic-prefix` is used verbatim.

async fn connect_options_follow_the_profile(profile: &str) {
    let broker = Mosquitto::start();
    let url = broker.url();
    let p = Profile::by_name_or_path(profile).unwrap();
    let expected_id = if p.spec().session.client_id_configurable {
        "car-7"
    } else {
        VID
    };
    let prefix = "fleet/car7/";
    let soc = p.topic(MessageKind::Metric, prefix, &metric_vars("v.b.soc"));
    let mut obs = Observer::v5(broker.port, "obs", &[&soc]).await;
    let _emu = Emu::start(&emu_args(
        &url,
        profile,
        &[
            "--client-id",
            "car-7",
            "--keepalive",
            "7",
            "--topic-prefix",
            prefix,
            "--set",
            "v.b.soc=12",
        ],
    ));
    broker
        .log
        .wait_for(&format!("as {expected_id} (p2, c0, k7, u'{USER}')"), T);
    obs.wait_for(&soc, b"12", T).await;
    let will_topic = p.topic(MessageKind::Connected, prefix, &vars());
    broker.log.wait_for(&format!("\t{will_topic}"), T);
}
per_profile!(
    client_id_keepalive_and_prefix_options,
    connect_options_follow_the_profile
);

#[test]
fn control_port_in_use_is_fatal() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let (code, out) = run_emu(&["--broker", "mqtt://127.0.0.1:1", "--control", &addr]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("control channel: cannot listen on {addr}")),
        "{out}"
    );
}

#[test]
fn keepalive_reaches_the_wire_as_pingreq() {
    let broker = Mosquitto::start();
    let url = broker.url();
    let emu = Emu::start(&emu_args(&url, "fw-3.3.006", &["--keepalive", "1"]));
    emu.wait_connected();
    broker
        .log
        .wait_for(&format!("as {VID} (p2, c0, k1, u'{USER}')"), T);
    broker.log.wait_for(
        &format!("Received PINGREQ from {VID}"),
        Duration::from_secs(5),
    );
}

// ---------------------------------------------------------------------------------------------
// `--can-socketcan`: documented in --help; a bad value is a usage error; without AF_CAN, a
// missing interface or a build without the `socketcan` feature it exits 1 naming the cause.

#[test]
fn can_socketcan_errors_are_clear_and_exit_without_a_panic() {
    let (code, help) = run_emu(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(
        help.contains("--can-socketcan") && help.contains("socketcan"),
        "{help}"
    );
    let base = ["--broker", "mqtt://127.0.0.1:1", "--can-socketcan"];
    let with = |v: &'static str| -> Vec<&'static str> {
        let mut a = base.to_vec();
        a.push(v);
        a
    };
    let (code, out) = run_emu(&with("0=vcan0"));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("--can-socketcan \"0=vcan0\": bus \"0\" must be 1-9"),
        "{out}"
    );
    // An interface that exists nowhere: on this host (no AF_CAN) or a CAN-capable one alike.
    let (code, out) = run_emu(&with("ovmsnocan9"));
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    let want = if cfg!(feature = "socketcan") {
        "--can-socketcan ovmsnocan9 (CAN1): this kernel has no CAN support or interface ovmsnocan9 is missing"
    } else {
        "--can-socketcan ovmsnocan9: this ovms-emu was built without the `socketcan` feature"
    };
    assert!(out.contains(want), "{out}");
}
