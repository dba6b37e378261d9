//! SHIP-4.3 (priority and immediate paths, 3.3.006) and SHIP-4.6 (rate limits and queues).

mod common;

use common::*;
use ovms_firmware::metrics::MetricValue;

#[test]
fn ship_4_3_update_priority_sends_modified_priority_metrics_3_3_006() {
    let mut cfg = config();
    cfg.params
        .insert("metrics.priority".into(), "v.b.soc".into());
    let mut r = Rig::with_config("fw-3.3.006", cfg);
    r.run_secs(5);
    r.set_metric("v.p.latitude", MetricValue::Float(51.5));
    r.set_metric("v.b.soc", MetricValue::Float(50.0));
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    let out = r.module.run_command(r.now, "server v3 update priority");
    assert_eq!(
        out,
        "Server V3 data update for priority metrics has been scheduled\n"
    );
    let mark = r.mark();
    r.run_secs(1);
    assert_eq!(
        r.topics_since(mark),
        vec!["metric/v/p/latitude", "metric/v/b/soc"]
    );
    assert!(
        r.module.metrics().is_modified("v.b.soh"),
        "not a priority metric: still modified"
    );
}

#[test]
fn ship_4_3_empty_priority_list_matches_every_modified_metric_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(5);
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    r.module.run_command(r.now, "server v3 update priority");
    let mark = r.mark();
    r.run_secs(1);
    assert_eq!(r.topics_since(mark), vec!["metric/v/b/soh"]);
}

#[test]
fn ship_4_3_periodic_priority_pass_while_awake_3_3_006() {
    let mut cfg = config();
    cfg.params
        .insert("updatetime.priority".into(), "yes".into());
    cfg.params.insert("metrics.priority".into(), "v.p.*".into());
    let mut r = Rig::with_config("fw-3.3.006", cfg);
    r.set_metric("v.e.awake", MetricValue::Bool(true));
    r.run_secs(2);
    for i in 0..60 {
        r.set_metric("v.p.speed", MetricValue::Float(i as f32));
        r.run_secs(1);
    }
    let t = r.times_of("metric/v/p/speed");
    // Priority passes every updatetime.on (5) + 1 s from the connect pass at 1 s; the awake
    // modified pass (60 + 1 s after the connect pass) also sends it at 62 s.
    assert_eq!(t, vec![7, 13, 19, 25, 31, 37, 43, 49, 55, 61, 62]);
}

#[test]
fn ship_4_3_immediate_path_publishes_changes_at_once_3_3_006() {
    let mut cfg = config();
    cfg.params
        .insert("updatetime.immediately".into(), "yes".into());
    cfg.params
        .insert("metrics.include.immediately".into(), "v.p.*".into());
    let mut r = Rig::with_config("fw-3.3.006", cfg);
    r.run_secs(5);
    let mark = r.mark();
    r.set_metric("v.p.speed", MetricValue::Float(88.0));
    r.set_metric("v.b.soc", MetricValue::Float(50.0));
    r.set_metric("v.p.speed", MetricValue::Float(88.0)); // same value: nothing
    assert_eq!(r.topics_since(mark), vec!["metric/v/p/speed"]);
    assert_eq!(r.sent_since(mark)[0].at, r.now);
    assert!(r.module.metrics().is_modified("v.b.soc"));
}

#[test]
fn ship_4_3_no_priority_or_immediate_paths_before_3_3_006() {
    let mut cfg = config();
    cfg.params
        .insert("updatetime.immediately".into(), "yes".into());
    let mut r = Rig::with_config("fw-3.3.005", cfg);
    r.run_secs(5);
    assert!(r
        .module
        .run_command(r.now, "server v3 update priority")
        .starts_with("Error"));
    let mark = r.mark();
    r.set_metric("v.p.speed", MetricValue::Float(88.0));
    assert!(r.sent_since(mark).is_empty());
}

#[test]
fn ship_4_6_no_rate_limit_on_commands_and_requests() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(1);
    for i in 0..200 {
        r.client_publish(&format!("client/a/command/{i}"), b"server v3 status");
        r.client_publish("client/a/request/config", b"vehicle/id");
    }
    assert_eq!(
        r.broker
            .sent
            .iter()
            .filter(|s| s.publish.topic.contains("/response/"))
            .count(),
        200
    );
    assert_eq!(r.sent_to("client/a/config/vehicle/id").len(), 200);
    assert!(r
        .broker
        .sent
        .iter()
        .filter(|s| s.publish.topic.contains("/response/"))
        .all(|s| s.at == r.now));
}
