//! Metric requirements: V3-MET-* (draft) and SHIP-1.2, SHIP-4.4, SHIP-4.5 (shipped), plus the
//! payload formats of module-facts §6.1.

mod common;

use common::*;
use ovms_firmware::io::{Input, QoS};
use ovms_firmware::metrics::MetricValue;

const ALL: [&str; 3] = ["draft", "fw-3.3.005", "fw-3.3.006"];

fn metric_rel(profile: &str, name: &str) -> String {
    let base = if profile == "draft" { "m/" } else { "metric/" };
    format!("{base}{}", name.replace('.', "/"))
}

#[test]
fn v3_met_1_metric_topic_is_m_with_dots_as_slashes_draft() {
    let mut r = Rig::new("draft");
    r.set_metric("v.b.soc", MetricValue::Float(85.0));
    r.set_metric("xnl.v.b.gids", MetricValue::Int(200));
    r.module.run_command(r.now, "server v3 update modified");
    r.run_secs(1);
    assert_eq!(r.sent_to("m/v/b/soc")[0].payload(), "85");
    assert_eq!(r.sent_to("m/xnl/v/b/gids")[0].payload(), "200");
    let metric_topics: Vec<_> = r.broker.sent.iter().filter(|s| s.publish.retain).collect();
    assert!(metric_topics
        .iter()
        .all(|s| s.publish.topic.starts_with("ovms/u/car/m/")));
}

#[test]
fn ship_1_2_metric_topic_is_metric_shipped() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.set_metric("v.b.soc", MetricValue::Float(85.0));
        r.run_secs(1);
        assert_eq!(r.sent_to("metric/v/b/soc")[0].payload(), "85", "{p}");
        assert!(r.sent_to("m/v/b/soc").is_empty(), "{p}");
    }
}

#[test]
fn v3_met_2_payload_is_the_module_string_form_all_profiles() {
    for p in ALL {
        let mut r = Rig::new(p);
        r.set_metric("v.b.soc", MetricValue::Float(123456.7));
        r.set_metric("v.b.voltage", MetricValue::Float(1e-5));
        r.set_metric("v.e.on", MetricValue::Bool(true));
        r.set_metric("v.c.state", MetricValue::Str("charging".into()));
        r.set_metric(
            "v.b.c.voltage",
            MetricValue::FloatVec(vec![3.912, 3.915, 3.91]),
        );
        r.set_metric("v.c.timerstart", MetricValue::Int(27_000));
        r.set_metric("m.time.utc", MetricValue::Int(1_701_569_671));
        r.set_metric("v.p.latitude", MetricValue::Float(51.5074));
        r.module.run_command(r.now, "server v3 update all");
        r.run_secs(1);
        let last = |name: &str| {
            r.sent_to(&metric_rel(p, name))
                .last()
                .unwrap()
                .payload()
                .to_string()
        };
        assert_eq!(last("v.b.soc"), "123457", "{p}");
        assert_eq!(last("v.b.voltage"), "1e-05", "{p}");
        assert_eq!(last("v.e.on"), "yes", "{p}");
        assert_eq!(last("v.c.state"), "charging", "{p}");
        assert_eq!(last("v.b.c.voltage"), "3.912,3.915,3.91", "{p}");
        assert_eq!(last("v.c.timerstart"), "07:30:00", "{p}");
        assert_eq!(last("m.time.utc"), "2023-12-03 02:14:31 UTC", "{p}");
        let lat = if p == "draft" { "51.5074" } else { "51.507401" };
        assert_eq!(
            last("v.p.latitude"),
            lat,
            "{p}: lat/lon fixed 6 decimals from 3.3.005"
        );
    }
}

#[test]
fn v3_met_3_metrics_retained_qos0_all_profiles() {
    for p in ALL {
        let mut r = Rig::new(p);
        r.set_metric("v.b.soc", MetricValue::Float(50.0));
        r.module.run_command(r.now, "server v3 update all");
        r.run_secs(2);
        let s = r.sent_to(&metric_rel(p, "v.b.soc"));
        assert!(!s.is_empty(), "{p}");
        assert!(
            s.iter()
                .all(|s| s.publish.qos == QoS::AtMostOnce && s.publish.retain),
            "{p}"
        );
        let topic = format!("{}{}", r.prefix(), metric_rel(p, "v.b.soc"));
        assert_eq!(
            r.broker.retained.get(&topic).unwrap(),
            b"50",
            "{p}: a late subscriber gets it"
        );
    }
}

#[test]
fn v3_met_4_only_modified_metrics_on_a_cadence_tick_all_profiles() {
    for p in ALL {
        let mut r = Rig::new(p);
        r.set_metric("v.b.soc", MetricValue::Float(50.0));
        r.set_metric("v.b.soh", MetricValue::Float(99.0));
        r.module.run_command(r.now, "server v3 update all");
        r.run_secs(2); // a full pass sent both and cleared the bits
        let mark = r.mark();
        r.set_metric("v.b.soc", MetricValue::Float(51.0));
        r.run_secs(700); // past one idle interval (600 s)
        assert_eq!(r.topics_since(mark), vec![metric_rel(p, "v.b.soc")], "{p}");
    }
}

#[test]
fn ship_4_5_same_value_is_not_resent_and_full_pass_clears_bits() {
    for p in ALL {
        let mut r = Rig::new(p);
        r.set_metric("v.b.soc", MetricValue::Float(50.0));
        r.module.run_command(r.now, "server v3 update all");
        r.run_secs(2);
        let n = r.sent_to(&metric_rel(p, "v.b.soc")).len();
        assert_eq!(n, 1, "{p}: the full pass sent it and cleared the bit");
        r.set_metric("v.b.soc", MetricValue::Float(50.0));
        r.run_secs(1300);
        let expected = if p == "fw-3.3.006" { 2 } else { 1 }; // 3.3.006: periodic sendall at 1200 s
        assert_eq!(r.sent_to(&metric_rel(p, "v.b.soc")).len(), expected, "{p}");
        assert!(r.module.metrics().is_defined("v.b.soc"));
        // Changes while disconnected accumulate; the reconnect full pass supersedes them.
        r.cut();
        r.set_metric("v.b.soc", MetricValue::Float(60.0));
        r.set_metric("v.b.soc", MetricValue::Float(61.0));
        let mark = r.mark();
        r.run_secs(61);
        let sent: Vec<_> = r
            .sent_since(mark)
            .iter()
            .filter(|s| s.publish.topic.ends_with("v/b/soc"))
            .collect();
        // 3.3.006: the `server.v3.connected` event starts a full pass at CONNACK (last one > 30 s
        // ago), and the connect tick runs its own full pass: two full passes, no modified one.
        let expected = if p == "fw-3.3.006" { 2 } else { 1 };
        assert_eq!(sent.len(), expected, "{p}");
        assert!(sent.iter().all(|s| s.payload() == "61"), "{p}");
    }
}

#[test]
fn v3_met_5_s_v3_connected_and_peers_are_maintained() {
    for p in ALL {
        let mut r = Rig::new(p);
        r.run_secs(1);
        let m = r.module.metrics();
        assert_eq!(m.as_string("s.v3.connected").unwrap(), "yes", "{p}");
        assert_eq!(m.as_string("s.v3.peers").unwrap(), "0", "{p}");
        let hb = if p == "draft" {
            "c/app"
        } else {
            "client/app/active"
        };
        assert!(r.client_publish(hb, b"1"));
        assert_eq!(
            r.module.metrics().as_string("s.v3.peers").unwrap(),
            "1",
            "{p}"
        );
        r.cut();
        assert_eq!(
            r.module.metrics().as_string("s.v3.connected").unwrap(),
            "no",
            "{p}"
        );
        assert_eq!(
            r.module.metrics().as_string("s.v3.peers").unwrap(),
            "0",
            "{p}"
        );
    }
}

#[test]
fn ship_1_2_full_pass_skips_empty_strings_until_3_3_006_sends_defined() {
    for (p, sends_empty) in [("fw-3.3.005", false), ("fw-3.3.006", true)] {
        let mut r = Rig::new(p);
        r.set_metric("v.c.state", MetricValue::Str(String::new()));
        r.run_secs(1);
        let s = r.sent_to("metric/v/c/state");
        assert_eq!(!s.is_empty(), sends_empty, "{p}");
        // Undefined metrics never go out.
        assert!(r.sent_to("metric/v/b/soh").is_empty(), "{p}");
    }
}

#[test]
fn ship_4_4_include_exclude_filters() {
    let mut cfg = config();
    cfg.params
        .insert("metrics.include".into(), "v.b.*, s.v3.connected".into());
    cfg.params.insert("metrics.exclude".into(), "*.soh".into());
    let mut r = Rig::with_config("fw-3.3.006", cfg);
    r.set_metric("v.b.soc", MetricValue::Float(1.0));
    r.set_metric("v.b.soh", MetricValue::Float(2.0));
    r.set_metric("v.e.on", MetricValue::Bool(false));
    r.run_secs(1);
    assert_eq!(
        r.topics_since(0)
            .into_iter()
            .filter(|t| t.starts_with("metric/"))
            .collect::<Vec<_>>(),
        vec!["metric/s/v3/connected", "metric/v/b/soc"]
    );
    // A `config set` changes the filter at once.
    r.module
        .run_command(r.now, "config set server.v3 metrics.include v.e.on");
    r.module.run_command(r.now, "server v3 update all");
    let mark = r.mark();
    r.run_secs(1);
    assert_eq!(
        r.topics_since(mark)
            .into_iter()
            .filter(|t| t.starts_with("metric/"))
            .collect::<Vec<_>>(),
        vec!["metric/v/e/on"]
    );
    // The LWT is not filtered.
    assert_eq!(
        r.broker.connects[0].1.will.topic,
        "ovms/u/car/metric/s/v3/connected"
    );
}

#[test]
fn ship_1_2_retain_depth_limit_3_3_006() {
    let mut cfg = config();
    cfg.params.insert("retain.depth.limit".into(), "yes".into());
    let mut r = Rig::with_config("fw-3.3.006", cfg);
    r.set_metric("xnl.v.b.deep.a.b", MetricValue::Int(1)); // ovms/u/car/metric/xnl/v/b/deep/a/b = 9 '/'
    r.set_metric("v.b.soc", MetricValue::Int(1));
    r.run_secs(1);
    assert!(!r.sent_to("metric/xnl/v/b/deep/a/b")[0].publish.retain);
    assert!(r.sent_to("metric/v/b/soc")[0].publish.retain);
}

#[test]
fn ship_4_2_full_pass_is_chunked_at_queue_sendall_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    for i in 0..250 {
        r.set_metric(&format!("x.m{i:03}"), MetricValue::Int(i));
    }
    // 250 + s.v3.connected + s.v3.peers = 252 defined; chunks of 100.
    r.run_secs(1);
    let first_tick = r
        .sent_since(0)
        .iter()
        .filter(|s| s.publish.topic.contains("/metric/"))
        .count();
    assert_eq!(
        first_tick, 200,
        "the connect tick runs a second chunk at once"
    );
    r.run_secs(1);
    let total = r
        .sent_since(0)
        .iter()
        .filter(|s| s.publish.topic.contains("/metric/"))
        .count();
    assert_eq!(total, 252);
    // Order is strcmp order across chunks.
    let topics: Vec<String> = r
        .sent_since(0)
        .iter()
        .filter(|s| s.publish.topic.contains("/metric/"))
        .map(|s| s.publish.topic.clone())
        .collect();
    let mut sorted = topics.clone();
    sorted.sort();
    assert_eq!(topics, sorted);
    // queue.sendall is a config param.
    let mut cfg = config();
    cfg.params.insert("queue.sendall".into(), "10".into());
    let mut r = Rig::with_config("fw-3.3.006", cfg);
    for i in 0..25 {
        r.set_metric(&format!("x.m{i:03}"), MetricValue::Int(i));
    }
    r.run_secs(1);
    assert_eq!(
        r.broker
            .sent
            .iter()
            .filter(|s| s.publish.topic.contains("/metric/"))
            .count(),
        20
    );
}

#[test]
fn ship_4_2_modified_pass_is_chunked_at_queue_modified_3_3_006() {
    let mut cfg = config();
    cfg.params.insert("queue.modified".into(), "5".into());
    let mut r = Rig::with_config("fw-3.3.006", cfg);
    r.run_secs(2);
    for i in 0..12 {
        r.set_metric(&format!("x.m{i:03}"), MetricValue::Int(i));
    }
    r.module.run_command(r.now, "server v3 update modified");
    let mark = r.mark();
    r.run_secs(1);
    assert_eq!(r.sent_since(mark).len(), 5);
    r.run_secs(1);
    assert_eq!(
        r.sent_since(mark).len(),
        10,
        "the remainder follows on the next tick"
    );
    r.run_secs(1);
    assert_eq!(r.sent_since(mark).len(), 12);
}

#[test]
fn unknown_metric_via_input_is_created_and_published() {
    let mut r = Rig::new("fw-3.3.005");
    r.input(Input::Metric {
        name: "xrt.custom".into(),
        value: MetricValue::Str("hello".into()),
    });
    r.run_secs(1);
    assert_eq!(r.sent_to("metric/xrt/custom")[0].payload(), "hello");
}
