//! Events and logs: V3-EVT-1, V3-LOG-1 (draft) and SHIP-1.8, SHIP-1.9 (shipped).

mod common;

use common::*;
use ovms_firmware::io::{Input, QoS};

fn event(r: &mut Rig, name: &str) {
    r.input(Input::Event(name.into()));
}

#[test]
fn v3_evt_1_events_topic_qos2_except_ticker_draft() {
    let mut r = Rig::new("draft");
    let mark = r.mark();
    event(&mut r, "vehicle.charge.start");
    event(&mut r, "ticker.1");
    event(&mut r, "ticker.60");
    event(&mut r, "clock.0800");
    let s: Vec<&Sent> = r
        .sent_since(mark)
        .iter()
        .filter(|s| s.publish.topic.ends_with("/events"))
        .collect();
    let names: Vec<&str> = s.iter().map(|s| s.payload()).collect();
    assert_eq!(names, vec!["vehicle.charge.start", "clock.0800"]);
    assert!(s
        .iter()
        .all(|s| s.publish.qos == QoS::ExactlyOnce && !s.publish.retain));
}

#[test]
fn ship_1_8_legacy_and_mqtt_style_event_topics_qos0() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        let mark = r.mark();
        event(&mut r, "vehicle.charge.start");
        let s = r.sent_since(mark);
        assert_eq!(s.len(), 2, "{p}");
        assert_eq!(
            (s[0].publish.topic.as_str(), s[0].payload()),
            ("ovms/u/car/event", "vehicle.charge.start")
        );
        assert_eq!(
            (s[1].publish.topic.as_str(), s[1].payload()),
            ("ovms/u/car/event/vehicle/charge/start", "")
        );
        assert!(s
            .iter()
            .all(|s| s.publish.qos == QoS::AtMostOnce && !s.publish.retain));
    }
}

#[test]
fn ship_1_8_exclusions_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        let mark = r.mark();
        for e in [
            "ticker.1",
            "ticker.3600",
            "system.event",
            "system.wifi.scan.done",
            "clock.0800",
            "clock.day",
            "system.wifi.scan",
        ] {
            event(&mut r, e);
        }
        let names: Vec<String> = r
            .sent_since(mark)
            .iter()
            .filter(|s| s.publish.topic.ends_with("/event"))
            .map(|s| s.payload().to_string())
            .collect();
        assert_eq!(names, vec!["system.wifi.scan"], "{p}");
    }
}

#[test]
fn ship_1_8_legacy_topic_can_be_disabled_and_events_drop_while_disconnected() {
    let mut cfg = config();
    cfg.params.insert("events.legacy_topic".into(), "no".into());
    let mut r = Rig::with_config("fw-3.3.005", cfg);
    r.run_secs(1);
    let mark = r.mark();
    event(&mut r, "vehicle.on");
    assert_eq!(r.topics_since(mark), vec!["event/vehicle/on"]);
    r.cut();
    event(&mut r, "vehicle.off");
    r.run_secs(61);
    assert!(
        r.sent_to("event/vehicle/off").is_empty(),
        "events raised offline are dropped"
    );
    assert!(!r.sent_to("event/server/v3/connected").is_empty());
}

#[test]
fn ship_1_8_event_raise_command_publishes() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(1);
    assert!(r.client_publish("client/a/command/1", b"event raise vehicle.locked"));
    assert_eq!(r.sent_to("event/vehicle/locked").len(), 1);
}

#[test]
fn v3_log_1_logs_topic_qos1_draft() {
    let mut r = Rig::new("draft");
    r.client_publish("c/app", b"1");
    let s = r.sent_to("logs");
    assert!(!s.is_empty());
    assert!(
        s.iter()
            .any(|s| s.payload().contains("MQTT client app has connected")),
        "{:?}",
        s
    );
    assert!(s
        .iter()
        .all(|s| s.publish.qos == QoS::AtLeastOnce && !s.publish.retain));
    r.module.log(r.now, "custom line");
    r.pump();
    assert!(r
        .sent_to("logs")
        .iter()
        .any(|s| s.payload().ends_with("custom line")));
}

#[test]
fn ship_1_9_no_log_topic_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        r.client_publish("client/app/active", b"1");
        r.module.log(r.now, "custom line");
        r.pump();
        assert!(
            r.broker
                .sent
                .iter()
                .all(|s| !s.publish.topic.contains("log")),
            "{p}"
        );
    }
}
