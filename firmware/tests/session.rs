//! Session requirements: V3-SES-* (draft) and SHIP-1.1, SHIP-1.3, SHIP-2, SHIP-3 (shipped).
//!
//! V3-SEC-1..3 (TLS, per-user ACL, credentials only) are broker/edge concerns: the core only
//! decides the CONNECT fields (tested here: username, password flag); TLS and ACLs are tested by
//! the harness against a real mosquitto.

mod common;

use common::*;
use ovms_firmware::io::{Action, Input, QoS};
use ovms_firmware::metrics::MetricValue;
use ovms_firmware::module::{Module, ModuleConfig};
use ovms_firmware::profile::Profile;
use ovms_firmware::time::Instant;

const ALL: [&str; 3] = ["draft", "fw-3.3.005", "fw-3.3.006"];

#[test]
fn v3_ses_1_first_action_is_connect_at_boot_all_profiles() {
    for p in ALL {
        let mut m = Module::new(Profile::builtin(p).unwrap(), config(), Instant::ZERO);
        assert!(matches!(m.poll_action(), Some(Action::Connect(_))), "{p}");
        assert!(
            m.poll_action().is_none(),
            "{p}: nothing else before CONNACK"
        );
    }
}

#[test]
fn v3_ses_3_will_is_connected_no_retained_qos0_draft() {
    let r = Rig::new("draft");
    let w = &r.broker.connects[0].1.will;
    assert_eq!(w.topic, "ovms/u/car/m/s/v3/connected");
    assert_eq!(w.payload, b"no");
    assert_eq!(w.qos, QoS::AtMostOnce);
    assert!(w.retain);
}

#[test]
fn ship_1_3_will_on_metric_topic_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let r = Rig::new(p);
        let w = &r.broker.connects[0].1.will;
        assert_eq!(w.topic, "ovms/u/car/metric/s/v3/connected", "{p}");
        assert_eq!(
            (w.payload.as_slice(), w.qos, w.retain),
            (&b"no"[..], QoS::AtMostOnce, true),
            "{p}"
        );
    }
}

#[test]
fn v3_ses_4_yes_right_after_connack_after_subscribe_draft() {
    let r = Rig::new("draft");
    assert_eq!(r.broker.log[0], "CONNECT");
    assert_eq!(r.broker.log[1], "SUBSCRIBE");
    assert_eq!(r.broker.log[2], "PUBLISH ovms/u/car/m/s/v3/connected");
    let yes = &r.broker.sent[0];
    assert_eq!(
        (yes.payload(), yes.publish.qos, yes.publish.retain, yes.at),
        ("yes", QoS::AtMostOnce, true, Instant::ZERO)
    );
    // A late subscriber gets the retained value.
    assert_eq!(
        r.broker
            .retained
            .get("ovms/u/car/m/s/v3/connected")
            .unwrap(),
        b"yes"
    );
    // `yes` goes out once per connection: the connect full pass skips it.
    assert_eq!(r.sent_to("m/s/v3/connected").len(), 1);
}

#[test]
fn ship_1_3_yes_only_inside_the_full_pass_on_the_next_tick_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        // Before the first tick nothing but the server.v3.connected event went out.
        assert!(r.sent_to("metric/s/v3/connected").is_empty(), "{p}");
        assert!(
            r.broker.subscribes.is_empty(),
            "{p}: SUBSCRIBE waits for the tick"
        );
        r.set_metric("v.b.soc", MetricValue::Float(80.0));
        r.set_metric("v.vin", MetricValue::Str("VIN1".into()));
        r.set_metric("m.time.utc", MetricValue::Int(1_701_569_671));
        let mark = r.mark();
        r.run_secs(1);
        assert_eq!(r.broker.subscribes.len(), 1, "{p}");
        let topics = r.topics_since(mark);
        // alphabetical: m.time.utc < s.v3.connected < s.v3.peers < v.b.soc < v.vin
        assert_eq!(
            topics,
            vec![
                "metric/m/time/utc",
                "metric/s/v3/connected",
                "metric/s/v3/peers",
                "metric/v/b/soc",
                "metric/v/vin"
            ],
            "{p}"
        );
        let yes = r.sent_to("metric/s/v3/connected")[0];
        assert_eq!(
            (yes.payload(), yes.publish.retain, yes.at),
            ("yes", true, secs(1)),
            "{p}"
        );
        // The include/exclude filter can suppress it (SHIP-4.4 applies to the connected metric too).
    }
}

#[test]
fn v3_ses_2_prefix_configurable_everything_moves_all_profiles() {
    for p in ALL {
        let cfg = ModuleConfig {
            topic_prefix: Some("fleet/7/".into()),
            ..config()
        };
        let mut r = Rig::with_config(p, cfg);
        r.run_secs(2);
        assert_eq!(r.prefix(), "fleet/7/");
        assert!(
            r.broker.connects[0].1.will.topic.starts_with("fleet/7/"),
            "{p}"
        );
        assert!(
            r.broker.subscribes[0]
                .1
                .iter()
                .all(|(f, _)| f.starts_with("fleet/7/")),
            "{p}"
        );
        assert!(!r.broker.sent.is_empty());
        assert!(
            r.broker
                .sent
                .iter()
                .all(|s| s.publish.topic.starts_with("fleet/7/")),
            "{p}"
        );
    }
}

#[test]
fn ship_1_1_prefix_verbatim_and_default_without_vehicle_id() {
    let cfg = ModuleConfig {
        topic_prefix: Some("ovms/car".into()),
        ..config()
    };
    let mut r = Rig::with_config("fw-3.3.005", cfg);
    r.run_secs(1);
    assert!(r
        .broker
        .sent
        .iter()
        .any(|s| s.publish.topic == "ovms/carmetric/s/v3/connected"));
    let cfg = ModuleConfig {
        vehicle_id: String::new(),
        ..config()
    };
    let r = Rig::with_config("fw-3.3.006", cfg);
    assert_eq!(r.prefix(), "ovms/u/");
    let cfg = ModuleConfig {
        username: String::new(),
        ..config()
    };
    let r = Rig::with_config("fw-3.3.006", cfg);
    assert_eq!(r.prefix(), "ovms//car/");
}

#[test]
fn ship_1_1_prefix_change_takes_effect_at_next_connect() {
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(2);
    let out = r
        .module
        .run_command(r.now, "config set server.v3 topic.prefix new/");
    assert!(out.contains("set"));
    assert_eq!(r.prefix(), "ovms/u/car/");
    r.cut();
    r.run_secs(61);
    assert_eq!(r.prefix(), "new/");
    assert_eq!(
        r.broker.connects.last().unwrap().1.will.topic,
        "new/metric/s/v3/connected"
    );
}

#[test]
fn v3_ses_5_will_fires_on_loss_and_module_never_disconnects_all_profiles() {
    for p in ALL {
        let mut r = Rig::new(p);
        r.run_secs(5);
        r.cut();
        let will_topic = r.broker.will.as_ref().unwrap().topic.clone();
        assert_eq!(r.broker.retained.get(&will_topic).unwrap(), b"no", "{p}");
        assert!(!r.module.is_connected());
        assert_eq!(
            r.module.metrics().as_string("s.v3.connected").unwrap(),
            "no"
        );
        r.run_secs(3600);
        assert!(r.broker.disconnects.is_empty(), "{p}: no DISCONNECT ever");
        assert!(!r.broker.log.iter().any(|l| l == "DISCONNECT"));
    }
}

#[test]
fn ship_3_reconnect_delays_per_profile() {
    // (profile, connect failed, lost, refused)
    for (p, failed, lost, refused) in [
        ("draft", 20, 20, 20),
        ("fw-3.3.005", 60, 60, 60),
        ("fw-3.3.006", 30, 60, 30),
    ] {
        let mut r = Rig::with_mode(p, config(), ConnectMode::Fail);
        assert_eq!(r.broker.connects.len(), 1);
        assert_eq!(r.module.poll_timeout(), Some(secs(failed)), "{p}");
        r.run_secs(failed - 1);
        assert_eq!(r.broker.connects.len(), 1, "{p}");
        r.run_secs(1);
        assert_eq!(r.broker.connects.len(), 2, "{p}");
        assert_eq!(r.broker.connects[1].0, secs(failed), "{p}");

        r.mode = ConnectMode::Refuse(5);
        r.run_secs(failed);
        let t_refused = r.broker.connects.last().unwrap().0;
        r.run_secs(refused);
        assert_eq!(
            r.broker.connects.last().unwrap().0,
            t_refused + ovms_firmware::time::Duration::from_secs(refused),
            "{p}"
        );

        let mut r = Rig::new(p);
        r.run_secs(10);
        r.cut();
        r.run_secs(lost - 1);
        assert_eq!(r.broker.connects.len(), 1, "{p}");
        r.run_secs(1);
        assert_eq!(r.broker.connects.len(), 2, "{p}");
        assert!(r.module.is_connected());
    }
}

#[test]
fn ship_3_connect_fields_3_3_005_always_send_credentials_client_id_is_vehicle() {
    let cfg = ModuleConfig {
        username: String::new(),
        has_password: false,
        client_id: Some("custom".into()),
        ..config()
    };
    let r = Rig::with_config("fw-3.3.005", cfg);
    let c = &r.broker.connects[0].1;
    assert_eq!(c.client_id, "car");
    assert_eq!(c.username.as_deref(), Some(""));
    assert!(c.send_password);
    assert!(!c.clean_session);
    assert_eq!(c.keepalive_secs, 1740);
}

#[test]
fn ship_3_connect_fields_3_3_006_omit_empty_credentials_configurable_client_id() {
    let cfg = ModuleConfig {
        username: String::new(),
        has_password: false,
        client_id: Some("custom".into()),
        ..config()
    };
    let r = Rig::with_config("fw-3.3.006", cfg);
    let c = &r.broker.connects[0].1;
    assert_eq!(c.client_id, "custom");
    assert_eq!(c.username, None);
    assert!(!c.send_password);
    let r = Rig::new("fw-3.3.006");
    let c = &r.broker.connects[0].1;
    assert_eq!(
        (c.client_id.as_str(), c.username.as_deref(), c.send_password),
        ("car", Some("u"), true)
    );
}

#[test]
fn ship_3_keepalive_defaults_and_overrides() {
    assert_eq!(Rig::new("draft").broker.connects[0].1.keepalive_secs, 60);
    let mut cfg = config();
    cfg.params
        .insert("updatetime.keepalive".into(), "120".into());
    assert_eq!(
        Rig::with_config("fw-3.3.006", cfg.clone()).broker.connects[0]
            .1
            .keepalive_secs,
        120
    );
    cfg.keepalive_secs = Some(5);
    assert_eq!(
        Rig::with_config("fw-3.3.006", cfg).broker.connects[0]
            .1
            .keepalive_secs,
        5
    );
}

#[test]
fn ship_2_one_subscribe_packet_all_filters_qos1() {
    for (p, n) in [("fw-3.3.005", 2), ("fw-3.3.006", 4)] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        assert_eq!(r.broker.subscribes.len(), 1);
        let f = &r.broker.subscribes[0].1;
        assert_eq!(f.len(), n, "{p}");
        assert!(f.iter().all(|(_, q)| *q == QoS::AtLeastOnce));
        assert_eq!(f[0].0, "ovms/u/car/client/+/active");
        assert_eq!(f[1].0, "ovms/u/car/client/+/command/+");
        // Every reconnect subscribes again.
        r.cut();
        r.run_secs(61);
        assert_eq!(r.broker.subscribes.len(), 2, "{p}");
    }
    let r = Rig::new("draft");
    let f = &r.broker.subscribes[0].1;
    assert_eq!(
        f,
        &vec![
            ("ovms/u/car/c/#".to_string(), QoS::AtLeastOnce),
            ("ovms/u/car/cmd/#".to_string(), QoS::ExactlyOnce)
        ]
    );
}

#[test]
fn stray_connection_inputs_are_ignored() {
    for p in ALL {
        let mut r = Rig::new(p);
        r.input(Input::ConnAccepted);
        r.input(Input::ConnRefused(3));
        r.input(Input::ConnectFailed);
        assert!(r.module.is_connected(), "{p}");
        assert_eq!(r.broker.connects.len(), 1);
    }
}

#[test]
fn server_v3_status_reports_state() {
    let mut r = Rig::with_mode("fw-3.3.006", config(), ConnectMode::Fail);
    let s = r.module.run_command(r.now, "server v3 status");
    assert!(
        s.starts_with("State: Waiting to reconnect (30 second(s) remaining)"),
        "{s}"
    );
    r.mode = ConnectMode::Accept;
    r.run_secs(30);
    let s = r.module.run_command(r.now, "server v3 status");
    assert!(s.starts_with("State: Connected\n"), "{s}");
}

#[test]
fn stats_count_connections_and_passes() {
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(1300);
    r.cut();
    r.run_secs(61); // reconnect at 1360, connect pass on the 1361 tick
    let s = r.module.stats();
    assert_eq!(s.connections, 2);
    assert_eq!(s.last_connect, Some(secs(1360)));
    assert_eq!(s.full_passes, 2, "one per connection (sendall off)");
    assert_eq!(s.modified_passes, 2, "at 602 and 1203");
}
