//! Notifications: V3-NOT-* (draft) and SHIP-1.7 (shipped).

mod common;

use common::*;
use ovms_firmware::io::{Input, QoS};

fn notify(r: &mut Rig, kind: &str, subtype: &str, text: &str) {
    r.input(Input::Notify {
        kind: kind.into(),
        subtype: subtype.into(),
        text: text.into(),
    });
}

#[test]
fn v3_not_1_notify_type_qos2_not_retained_draft() {
    let mut r = Rig::new("draft");
    let mark = r.mark();
    notify(&mut r, "info", "charge.started", "Charging started\nline 2");
    notify(&mut r, "data", "log.grid", "a,b\nc");
    let s = r.sent_since(mark);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].publish.topic, "ovms/u/car/notify/info");
    assert_eq!(
        (s[0].payload(), s[0].publish.qos, s[0].publish.retain),
        ("Charging started\nline 2", QoS::ExactlyOnce, false)
    );
    assert_eq!(s[1].publish.topic, "ovms/u/car/notify/data");
    assert_eq!(s[1].payload(), "a,b\nc");
    assert!(s.iter().all(|s| s.at == r.now), "sent at once");
}

#[test]
fn v3_not_2_one_wildcard_covers_all_vehicles_notify_draft() {
    let mut r = Rig::new("draft");
    notify(&mut r, "alert", "batt.12v.alert", "12V low");
    let topic = &r.sent_to("notify/alert")[0].publish.topic;
    // The profile fixed the draft's inconsistency by choosing `notify/`.
    assert!(filter_matches("ovms/+/+/notify/#", topic));
    assert!(!filter_matches("ovms/+/+/n/#", topic));
}

#[test]
fn v3_not_1_queued_while_disconnected_sent_after_connect_draft() {
    let mut r = Rig::new("draft");
    r.cut();
    notify(&mut r, "info", "x", "one");
    notify(&mut r, "error", "y", "two");
    assert!(r.sent_to("notify/info").is_empty());
    r.run_secs(20);
    assert_eq!(r.sent_to("notify/info")[0].payload(), "one");
    assert_eq!(r.sent_to("notify/error")[0].payload(), "two");
}

#[test]
fn ship_1_7_text_notifications_subtype_slashes_qos1_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        notify(&mut r, "info", "charge.started", "Charge started\nat 10 kW");
        notify(&mut r, "alert", "batt.12v.alert", "12V low");
        notify(&mut r, "stream", "x", "not accepted");
        let s = r.sent_to("notify/info/charge/started");
        assert_eq!(s.len(), 1, "{p}");
        assert_eq!(
            (
                s[0].payload(),
                s[0].publish.qos,
                s[0].publish.retain,
                s[0].at
            ),
            ("Charge started\nat 10 kW", QoS::AtLeastOnce, false, secs(1))
        );
        assert_eq!(r.sent_to("notify/alert/batt/12v/alert").len(), 1);
        assert!(
            r.broker
                .sent
                .iter()
                .all(|s| !s.publish.topic.starts_with("ovms/u/car/notify/stream")),
            "{p}"
        );
        // The notify system raises notify.<type>.<subtype> events.
        assert!(
            r.sent_to("event")
                .iter()
                .any(|s| s.payload() == "notify.info.charge.started"),
            "{p}"
        );
    }
}

#[test]
fn ship_1_7_data_notification_first_line_id_and_age_qos2_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(10);
        notify(&mut r, "data", "log.grid", "*-LOG-Grid,1,2\nsecond line");
        assert!(
            r.broker
                .sent
                .iter()
                .all(|s| !s.publish.topic.contains("notify/data")),
            "{p}: data waits for the tick"
        );
        r.run_secs(1);
        let s: Vec<&Sent> = r
            .broker
            .sent
            .iter()
            .filter(|s| s.publish.topic.contains("/notify/data/"))
            .collect();
        assert_eq!(s.len(), 1, "{p}");
        // Entry 1, raised at 10 s, sent on the 11 s tick: age -1.
        assert_eq!(
            s[0].publish.topic, "ovms/u/car/notify/data/log/grid/1/-1",
            "{p}"
        );
        assert_eq!(
            (s[0].payload(), s[0].publish.qos, s[0].publish.retain),
            ("*-LOG-Grid,1,2", QoS::ExactlyOnce, false)
        );
        // Raised while disconnected: sent after reconnect with a negative age.
        r.cut();
        r.run_secs(5);
        notify(&mut r, "data", "debug.crash", "crash");
        r.run_secs(70);
        let s: Vec<&Sent> = r
            .broker
            .sent
            .iter()
            .filter(|s| s.publish.topic.contains("/notify/data/debug/crash/"))
            .collect();
        assert_eq!(s.len(), 1, "{p}");
        let age: i64 = s[0]
            .publish
            .topic
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(age <= -55, "{p}: age {age}");
    }
}

#[test]
fn ship_1_7_queued_text_notifications_one_per_type_per_tick_after_reconnect() {
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(2);
    r.cut();
    for i in 0..3 {
        notify(&mut r, "info", "t", &format!("i{i}"));
        notify(&mut r, "error", "t", &format!("e{i}"));
    }
    r.run_secs(60); // reconnect at 62; next tick 63
    r.run_secs(5);
    let info = r.times_of("notify/info/t");
    let err = r.times_of("notify/error/t");
    assert_eq!(info.len(), 3);
    assert_eq!(gaps(&info), vec![1, 1], "{info:?}");
    assert_eq!(info, err);
    let payloads: Vec<String> = r
        .sent_to("notify/info/t")
        .iter()
        .map(|s| s.payload().to_string())
        .collect();
    assert_eq!(payloads, vec!["i0", "i1", "i2"]);
}

fn gaps(t: &[u64]) -> Vec<u64> {
    t.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn notify_raise_command_reaches_the_topic() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(1);
    let out = r.module.run_command(
        r.now,
        "notify raise text alert flatbed.moved Vehicle is being moved",
    );
    r.pump();
    assert_eq!(out, "Raised alert notification flatbed.moved\n");
    assert_eq!(
        r.sent_to("notify/alert/flatbed/moved")[0].payload(),
        "Vehicle is being moved"
    );
}
