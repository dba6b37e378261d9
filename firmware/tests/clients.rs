//! Client presence: V3-CLI-* (draft) and SHIP-1.4 (shipped).

mod common;

use common::*;
use ovms_firmware::metrics::MetricValue;

fn peers(r: &Rig) -> String {
    r.module
        .metrics()
        .as_string("s.v3.peers")
        .unwrap_or_default()
}

#[test]
fn v3_cli_1_heartbeat_one_adds_a_client_draft() {
    let mut r = Rig::new("draft");
    assert!(r.client_publish("c/app1", b"1"));
    assert_eq!(peers(&r), "1");
    assert_eq!(r.module.clients()[0].id, "app1");
    // Other payloads are not heartbeats in the draft.
    assert!(r.client_publish("c/app2", b"yes"));
    assert_eq!(peers(&r), "1");
}

#[test]
fn v3_cli_2_zero_removes_at_once_draft() {
    let mut r = Rig::new("draft");
    r.client_publish("c/app1", b"1");
    r.run_secs(5);
    r.client_publish("c/app1", b"0"); // explicit or by the client's will
    assert_eq!(peers(&r), "0");
    assert_eq!(r.module.peers(), 0);
}

#[test]
fn v3_cli_3_module_subscribes_c_and_counts_live_clients_draft() {
    let mut r = Rig::new("draft");
    assert!(r.broker.subscribes[0]
        .1
        .iter()
        .any(|(f, _)| f == "ovms/u/car/c/#"));
    r.client_publish("c/a", b"1");
    r.client_publish("c/b", b"1");
    r.client_publish("c/a", b"1");
    assert_eq!(peers(&r), "2");
}

#[test]
fn v3_cli_4_client_expires_exactly_120s_after_last_heartbeat_draft() {
    let mut r = Rig::new("draft");
    r.run_secs(10);
    r.client_publish("c/app", b"1");
    r.advance_to(ovms_firmware::time::Instant::from_millis(129_999));
    assert_eq!(peers(&r), "1");
    r.advance_to(secs(130));
    assert_eq!(peers(&r), "0");
    // Repeating once a minute keeps it alive for hours.
    r.client_publish("c/app", b"1");
    for _ in 0..180 {
        r.run_secs(60);
        r.client_publish("c/app", b"1");
        assert_eq!(peers(&r), "1");
    }
}

#[test]
fn v3_cli_5_client_answers_yes_with_heartbeat_and_is_counted_at_once_draft() {
    let mut r = Rig::new("draft");
    r.run_secs(30);
    r.cut();
    r.run_secs(20); // reconnect
                    // The client sees `yes` (retained) and announces itself at once.
    assert_eq!(
        r.broker
            .retained
            .get("ovms/u/car/m/s/v3/connected")
            .unwrap(),
        b"yes"
    );
    assert!(
        r.client_publish("c/app", b"1"),
        "the module subscribed before publishing yes"
    );
    assert_eq!(peers(&r), "1");
}

#[test]
fn ship_1_4_any_payload_but_empty_or_zero_adds_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        assert!(r.client_publish("client/a/active", b"1"));
        assert!(r.client_publish("client/b/active", b"whatever"));
        assert_eq!(peers(&r), "2", "{p}");
        r.client_publish("client/a/active", b"");
        assert_eq!(peers(&r), "1", "{p}");
        r.client_publish("client/b/active", b"0");
        assert_eq!(peers(&r), "0", "{p}");
        // Not a heartbeat topic: ignored.
        r.client_publish("client/a/active/x", b"1");
        assert_eq!(peers(&r), "0", "{p}");
    }
}

#[test]
fn ship_1_4_expiry_purged_on_the_60s_ticker_3_3_005() {
    let mut r = Rig::new("fw-3.3.005");
    r.advance_to(ovms_firmware::time::Instant::from_millis(5_500));
    r.client_publish("client/app/active", b"1"); // expiry = 5 + 120 = 125
    r.advance_to(secs(179));
    assert_eq!(peers(&r), "1", "no purge between tickers");
    r.advance_to(secs(180));
    assert_eq!(peers(&r), "0", "purged by ticker.60 at 180 s");
}

#[test]
fn ship_1_4_expiry_also_purged_before_passes_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    r.advance_to(ovms_firmware::time::Instant::from_millis(5_500));
    r.client_publish("client/app/active", b"1"); // expiry 125; with a peer passes run every 11 s
    r.advance_to(secs(125));
    assert_eq!(peers(&r), "1");
    r.advance_to(secs(140));
    assert_eq!(
        peers(&r),
        "0",
        "purged by the first pass after 125 s, well before the 180 s ticker"
    );
}

#[test]
fn ship_1_4_app_events_on_peer_count_changes() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        r.client_publish("client/a/active", b"1");
        r.client_publish("client/b/active", b"1");
        r.client_publish("client/a/active", b"0");
        r.client_publish("client/b/active", b"0");
        let events: Vec<String> = r
            .sent_to("event")
            .iter()
            .map(|s| s.payload().to_string())
            .collect();
        assert_eq!(
            events,
            vec![
                "server.v3.connected",
                "app.connected",
                "app.connected",
                "app.connected",
                "app.disconnected"
            ],
            "{p}: app.connected whenever the count changes and stays > 0"
        );
    }
}

#[test]
fn ship_1_4_peer_change_resets_modified_timer_3_3_005() {
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(100);
    r.set_metric("v.b.soc", MetricValue::Float(42.0));
    r.advance_to(ovms_firmware::time::Instant::from_millis(100_300));
    r.client_publish("client/app/active", b"1");
    r.run_secs(1);
    let t = r.times_of("metric/v/b/soc");
    assert_eq!(
        t,
        vec![101],
        "modified pass on the next tick after the peer change"
    );
}

#[test]
fn ship_4_2_new_client_triggers_full_pass_if_last_full_older_than_30s_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    r.run_secs(100); // connect full pass at 1
    let mark = r.mark();
    r.client_publish("client/app/active", b"1");
    let t: Vec<String> = r.topics_since(mark);
    assert!(
        t.contains(&"metric/v/b/soh".to_string()),
        "full pass at once: {t:?}"
    );
    assert_eq!(r.sent_since(mark).last().unwrap().at, secs(100));
    // A second client 5 s later: the last full pass is only 5 s old → no full pass; the count
    // change reset `m_lasttx` to 0, so "last tx > 20 s ago" holds → a modified pass at once.
    r.run_secs(5);
    let mark = r.mark();
    r.client_publish("client/app2/active", b"1");
    assert_eq!(
        r.topics_since(mark),
        vec!["event", "event/app/connected", "metric/s/v3/peers"]
    );
}

#[test]
fn ship_1_4_new_client_only_modified_set_3_3_005() {
    let mut r = Rig::new("fw-3.3.005");
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    r.run_secs(100);
    let mark = r.mark();
    r.client_publish("client/app/active", b"1");
    r.run_secs(1);
    assert!(
        !r.topics_since(mark).contains(&"metric/v/b/soh".to_string()),
        "≤3.3.005 sends only the modified set"
    );
    assert!(r
        .topics_since(mark)
        .contains(&"metric/s/v3/peers".to_string()));
}

#[test]
fn ship_1_4_client_map_survives_reconnect_peers_metric_reset() {
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(1);
    r.client_publish("client/app/active", b"1");
    r.cut();
    assert_eq!(peers(&r), "0");
    assert_eq!(r.module.clients().len(), 1);
}
