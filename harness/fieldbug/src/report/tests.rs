use super::*;
use ovms_firmware::profile::{MessageKind, TopicVars};
use ovms_hil_net::capture::Source;

use crate::topics::metric_topic;

fn publish(t: f64, topic: &str, payload: &str, dir: &str) -> CaptureRecord {
    let mut r =
        CaptureRecord::new(Source::Tap, Some(t), 5000.0 + t).with_payload(payload.as_bytes());
    r.kind = Some("publish".into());
    r.dir = Some(dir.into());
    r.topic = Some(topic.into());
    r.qos = Some(1);
    r.retain = Some(true);
    r
}

/// A capture of the fw-3.3.006 profile: connect, a full pass, a client, a pass, a lost session.
fn capture() -> (Vec<CaptureRecord>, String) {
    let p = Profile::builtin("fw-3.3.006").unwrap();
    let prefix = p.default_prefix("alice", "car1");
    let conn = p.topic(MessageKind::Connected, &prefix, &TopicVars::default());
    let hb = p.topic(
        MessageKind::ClientActive,
        &prefix,
        &TopicVars {
            client_id: Some("app"),
            ..Default::default()
        },
    );
    let soc = metric_topic(&p, &prefix, "v.b.soc");
    let peers = metric_topic(&p, &prefix, "s.v3.peers");
    let evil = metric_topic(&p, &prefix, "v.e.evil");
    let mut c = vec![
        publish(1.0, &conn, "yes", "to_broker"),
        publish(1.0, &soc, "80", "to_broker"),
        publish(1.2, &peers, "0", "to_broker"),
        publish(1.3, &evil, "<script>alert(1)</script>", "to_broker"),
        publish(30.0, &hb, "1", "to_client"),
        publish(30.0, &peers, "1", "to_broker"),
        publish(40.0, &soc, "79", "to_broker"),
        publish(40.5, &peers, "1", "to_broker"),
        publish(160.0, &peers, "0", "to_broker"),
        publish(200.0, &conn, "no", "to_client"),
    ];
    let mut bin = publish(100.0, &evil, "", "to_broker").with_payload(&[0xde, 0xad, 0xbe, 0xef]);
    bin.qos = Some(0);
    c.push(bin);
    c.sort_by(|a, b| a.t.partial_cmp(&b.t).unwrap());
    (c, prefix)
}

#[test]
fn report_shows_lanes_states_cadence_and_failures() {
    let (cap, prefix) = capture();
    let p = Profile::builtin("fw-3.3.006").unwrap();
    let soc = metric_topic(&p, &prefix, "v.b.soc");
    let opts = ReportOptions {
        title: "field bug <42>".into(),
        profile: Some(p.clone()),
        prefix: Some(prefix.clone()),
        failures: vec![Marker {
            t: 100.0,
            topic: Some(soc.clone()),
            message: "v.b.soc: expected \"78\" at t=100 s, not published".into(),
        }],
        ..Default::default()
    };
    let html = render_report(&cap, &opts);
    // One lane per topic (the heartbeat topic is drawn as a client lane instead).
    assert_eq!(
        html.matches(r#"<g class="lane""#).count(),
        4,
        "connected, peers, soc, evil"
    );
    assert!(html.contains(&format!(r#"data-topic="{}""#, esc(&soc))));
    assert!(html.contains("heartbeat app"));
    // Connected band: yes from 1 s, no from 200 s.
    assert!(html.contains("connected = yes from t=1 s"));
    assert!(html.contains("connected = no from t=200 s"));
    // Peers: four changes drawn as a step line.
    assert_eq!(html.matches(r#"class="peerd""#).count(), 4);
    assert!(html.contains("peers = 1 at t=30 s"));
    // Cadence: seconds 1 (4 publishes) and 40 (2 publishes) are passes; 30 has one module publish.
    assert!(html.contains("pass at t=1 s: 4 publishes"));
    assert!(html.contains("pass at t=40 s: 2 publishes"));
    assert!(!html.contains("pass at t=30 s"));
    // Failure: red line, lane dot and the list at the top.
    assert!(html.contains(r#"<g class="fail">"#));
    assert!(html.contains(r#"class="failc""#));
    assert!(html.contains("expected &quot;78&quot; at t=100 s, not published"));
    // Tick titles carry time, payload, QoS and retain.
    assert!(html.contains("t=40 s\n"));
    assert!(html.contains("payload: 79\nQoS 1 · retain yes"));
    assert!(html.contains("payload: base64:3q2+7w==\nQoS 0"));
    // Untrusted text is escaped; the page has exactly our one script and no external resource.
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("field bug &lt;42&gt;"));
    assert_eq!(html.matches("<script").count(), 1);
    for external in ["src=", "href=", "url(", "@import", "http://", "https://"] {
        let n = html.matches(external).count();
        // The SVG namespace is the only URL on the page.
        let allowed = usize::from(external == "http://");
        assert_eq!(n, allowed, "{external} appears {n} times");
    }
}

#[test]
fn profile_and_prefix_are_inferred_from_the_capture() {
    let (cap, prefix) = capture();
    let html = render_report(&cap, &ReportOptions::default());
    assert!(html.contains("profile <b>fw-3.3.006</b>"));
    assert!(html.contains(&format!("prefix <code>{}</code>", esc(&prefix))));
    assert!(html.contains("heartbeat app"));
}

#[test]
fn explicit_topic_names_work_without_a_profile() {
    let cap = vec![
        publish(0.0, "x/online", "yes", "to_broker"),
        publish(5.0, "x/count", "2", "to_broker"),
        publish(6.0, "x/hello/ping", "1", "to_client"),
    ];
    let opts = ReportOptions {
        names: crate::topics::TopicNames {
            connected: Some("x/online".into()),
            peers: Some("x/count".into()),
            client_active: vec!["x/hello/ping".into()],
        },
        ..Default::default()
    };
    let html = render_report(&cap, &opts);
    assert!(html.contains("profile <b>none</b>"));
    assert!(html.contains("connected = yes from t=0 s"));
    assert!(html.contains("peers = 2 at t=5 s"));
    assert!(html.contains("heartbeat ping"));
}

#[test]
fn empty_and_wall_only_captures_render() {
    let html = render_report(&[], &ReportOptions::default());
    assert!(html.contains("0 records"));
    let mut r = CaptureRecord::new(Source::Observer, None, 1_700_000_010.0).with_payload(b"1");
    r.topic = Some("a/b".into());
    let mut r0 = r.clone();
    r0.wall = 1_700_000_000.0;
    let html = render_report(&[r0, r], &ReportOptions::default());
    assert!(html.contains("wall time since first record"));
    assert!(html.contains("t=10 s\n"));
}

#[test]
fn simulated_roadster_capture_renders() {
    let profile = Profile::builtin("draft").unwrap();
    let v = ovms_vehicles::load_vehicle("tesla-roadster", std::path::Path::new(".")).unwrap();
    let opts = crate::simulate::SimOptions {
        clients: vec![crate::simulate::SimClient {
            id: "app".into(),
            from_secs: 120,
            until_secs: Some(600),
            every_secs: 60,
        }],
        ..Default::default()
    };
    let cap = crate::simulate::simulate_capture(
        &crate::simulate::tests::roadster_log(),
        v,
        &profile,
        &opts,
    )
    .unwrap();
    let html = render_report(&cap, &ReportOptions::default());
    assert!(html.contains("profile <b>draft</b>"));
    // With the app live, the draft's 60-s connected cadence makes several passes.
    let passes = html.matches(r#"class="cadm""#).count();
    assert!(passes >= 5, "{passes} passes");
    assert!(html.contains("peers = 1"));
    assert!(html.contains("peers = 0"));
}

#[test]
fn hostile_topics_and_payloads_never_break_the_page() {
    // Deterministic pseudo-random bytes (xorshift), including markup, quotes and controls.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet: Vec<char> = "<>&\"'/ \u{0}\u{1}\u{7f}\n\tabc</script><!--]]>é€"
        .chars()
        .collect();
    let mut cap = Vec::new();
    for i in 0..300 {
        let len = (next() % 40) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let mut r = publish(
            i as f64 * 0.7,
            &format!("ovms/{text}/x"),
            &text,
            "to_broker",
        );
        if i % 5 == 0 {
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            r = r.with_payload(&bytes);
        }
        if i % 7 == 0 {
            r.t = Some(f64::NAN);
        }
        cap.push(r);
    }
    let opts = ReportOptions {
        failures: vec![
            Marker {
                t: f64::NAN,
                topic: None,
                message: "</script><script>x".into(),
            },
            Marker {
                t: 3.0,
                topic: Some("<b>".into()),
                message: "<img src=x onerror=alert(1)>".into(),
            },
        ],
        ..Default::default()
    };
    let html = render_report(&cap, &opts);
    assert_eq!(html.matches("<script").count(), 1);
    assert_eq!(html.matches("</script>").count(), 1);
    assert!(!html.contains("<img"));
    assert!(!html.contains("<!--"));
    assert!(!html.contains("NaN"));
    assert!(!html.contains('\u{0}'));
}
