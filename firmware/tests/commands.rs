//! Commands and requests: V3-CMD-* (draft) and SHIP-1.5, SHIP-1.6, SHIP-1.10 (shipped).

mod common;

use common::*;
use ovms_firmware::io::QoS;
use ovms_firmware::metrics::MetricValue;

#[test]
fn v3_cmd_1_and_2_command_on_cmd_c_response_on_cmd_r_qos2_draft() {
    let mut r = Rig::new("draft");
    r.set_metric("v.b.soc", MetricValue::Float(85.5));
    assert!(r.client_publish("cmd/app/c/", b"metrics list v.b.soc"));
    let s = r.sent_to("cmd/app/r/");
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].publish.qos, s[0].publish.retain),
        (QoS::ExactlyOnce, false)
    );
    assert!(s[0].payload().starts_with("v.b.soc "), "{}", s[0].payload());
    assert!(s[0].payload().trim_end().ends_with("85.5"));
}

#[test]
fn v3_cmd_3_imap_style_tag_is_echoed_draft() {
    let mut r = Rig::new("draft");
    r.client_publish("cmd/app/c/", b"A17 metrics set v.b.soc 42");
    assert_eq!(r.sent_to("cmd/app/r/")[0].payload(), "A17 Metric set\n");
    assert_eq!(r.module.metrics().as_string("v.b.soc").unwrap(), "42");
    // Without a tag the bare output comes back.
    r.client_publish("cmd/app/c/", b"event raise x.y");
    assert_eq!(r.sent_to("cmd/app/r/")[1].payload(), "Raised event: x.y\n");
}

#[test]
fn v3_cmd_4_response_goes_to_the_sender_only_and_runs_once_all_profiles() {
    for (p, cmd, resp) in [
        ("draft", "cmd/app1/c/", "cmd/app1/r/"),
        (
            "fw-3.3.005",
            "client/app1/command/9",
            "client/app1/response/9",
        ),
        (
            "fw-3.3.006",
            "client/app1/command/9",
            "client/app1/response/9",
        ),
    ] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        let mark = r.mark();
        r.client_publish(cmd, b"notify raise text info once hello");
        let responses: Vec<String> = r
            .topics_since(mark)
            .into_iter()
            .filter(|t| t.contains("/r/") || t.contains("response"))
            .collect();
        assert_eq!(responses, vec![resp.to_string()], "{p}");
        // Executed once: exactly one notification went out.
        let notes = r
            .topics_since(mark)
            .into_iter()
            .filter(|t| t.starts_with("notify/"))
            .count();
        assert_eq!(notes, 1, "{p}");
    }
}

#[test]
fn v3_cmd_5_config_through_the_command_processor_all_profiles() {
    for (p, cmd, resp) in [
        ("draft", "cmd/a/c/", "cmd/a/r/"),
        ("fw-3.3.006", "client/a/command/1", "client/a/response/1"),
    ] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        r.client_publish(cmd, b"config set server.v3 updatetime.connected 15");
        r.client_publish(cmd, b"config get server.v3 updatetime.connected");
        let s = r.sent_to(resp);
        assert_eq!(s[0].payload(), "Parameter has been set.\n", "{p}");
        assert_eq!(s[1].payload(), "15\n", "{p}");
        r.client_publish(
            if p == "draft" {
                "c/a"
            } else {
                "client/a/active"
            },
            b"1",
        );
        assert_eq!(r.module.current_interval_secs(), 15, "{p}");
    }
}

#[test]
fn ship_1_5_command_response_topic_qos1_even_for_unregistered_clients() {
    for p in ["fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        assert!(r.client_publish("client/nobody/command/abc-1", b"server v3 status"));
        let s = r.sent_to("client/nobody/response/abc-1");
        assert_eq!(s.len(), 1, "{p}");
        assert_eq!(
            (s[0].publish.qos, s[0].publish.retain),
            (QoS::AtLeastOnce, false)
        );
        assert!(
            s[0].payload().starts_with("State: Connected\n"),
            "{p}: {}",
            s[0].payload()
        );
        // The payload is the bare command: no tag handling.
        r.client_publish("client/nobody/command/2", b"A1 metrics list");
        assert_eq!(
            r.sent_to("client/nobody/response/2")[0].payload(),
            "Unrecognised command\n"
        );
    }
}

#[test]
fn ship_1_5_bad_commands_answer_an_error_text() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(1);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("1", b"".to_vec(), "Error: empty command"),
        (
            "2",
            vec![0xc3, 0x28, 0xff],
            "Error: command is not valid UTF-8",
        ),
        ("3", vec![b'x'; 5000], "Error: command too long"),
        ("4", b"frobnicate now".to_vec(), "Unrecognised command"),
        ("5", b"metrics set".to_vec(), "Error: usage"),
    ];
    for (id, payload, expect) in cases {
        r.client_publish(&format!("client/a/command/{id}"), &payload);
        let s = r.sent_to(&format!("client/a/response/{id}"));
        assert!(
            s[0].payload().starts_with(expect),
            "{id}: {}",
            s[0].payload()
        );
    }
}

#[test]
fn ship_1_6_request_metric_publishes_matches_on_metric_topics_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    r.set_metric("v.b.soc", MetricValue::Float(80.0));
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    r.set_metric("v.e.on", MetricValue::Bool(true));
    r.run_secs(2);
    r.set_metric("v.b.soc", MetricValue::Float(81.0)); // modified, stays modified
    let mark = r.mark();
    assert!(r.client_publish(
        "client/app/request/metric",
        b" v.b.* , v.e.on, bad*pattern*"
    ));
    let mut topics = r.topics_since(mark);
    topics.sort();
    assert_eq!(
        topics,
        vec!["metric/v/b/soc", "metric/v/b/soh", "metric/v/e/on"]
    );
    assert!(r
        .sent_since(mark)
        .iter()
        .all(|s| s.publish.retain && s.publish.qos == QoS::AtMostOnce));
    assert!(
        r.module.metrics().is_modified("v.b.soc"),
        "modified flags are not cleared"
    );
    let mark = r.mark();
    r.client_publish("client/app/request/metric", b"");
    assert!(r.sent_since(mark).is_empty(), "an empty request is ignored");
    r.client_publish("client/app/request/metric", b"*");
    assert!(r.sent_since(mark).len() >= 5);
}

#[test]
fn ship_1_6_request_config_replies_on_config_topic_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(1);
    r.client_publish("client/app/request/config", b" vehicle/id ");
    let s = r.sent_to("client/app/config/vehicle/id");
    assert_eq!(
        (s[0].payload(), s[0].publish.qos, s[0].publish.retain),
        ("car", QoS::AtMostOnce, false)
    );
    r.client_publish("client/app/request/config", b"server.v3/updatetime.sendall");
    assert_eq!(
        r.sent_to("client/app/config/server/v3/updatetime/sendall")[0].payload(),
        ""
    );
    let mark = r.mark();
    for bad in [&b"novalue"[..], b"/x", b"x/", b"\xff/\xfe"] {
        r.client_publish("client/app/request/config", bad);
    }
    assert!(r.sent_since(mark).is_empty());
}

#[test]
fn ship_1_6_requests_do_not_exist_before_3_3_006() {
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(1);
    assert!(
        !r.client_publish("client/app/request/metric", b"*"),
        "not subscribed"
    );
    assert!(!r.client_publish("client/app/request/config", b"vehicle/id"));
}

#[test]
fn ship_1_10_no_config_topic_in_any_profile() {
    for p in ["draft", "fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        r.run_secs(1);
        assert!(
            !r.client_publish("config/server/v3/updatetime/idle", b"5"),
            "{p}"
        );
    }
}
