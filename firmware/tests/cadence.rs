//! Cadence: V3-CAD-* (draft) and SHIP-4.1, SHIP-4.2 (shipped), on virtual time.

mod common;

use common::*;
use ovms_firmware::io::Input;
use ovms_firmware::metrics::MetricValue;

/// Change `v.b.soc` every second for `n` seconds, heartbeating `hb` every 60 s if given.
fn churn(r: &mut Rig, n: u64, hb: Option<&str>) {
    for i in 0..n {
        if let Some(t) = hb {
            if i % 60 == 0 {
                r.client_publish(t, b"1");
            }
        }
        let v = (r.now.as_millis() / 1000) as f32;
        r.set_metric("v.b.soc", MetricValue::Float(v));
        r.run_secs(1);
    }
}

fn gaps(t: &[u64]) -> Vec<u64> {
    t.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn v3_cad_1_modified_every_60s_with_client_draft() {
    let mut r = Rig::new("draft");
    churn(&mut r, 600, Some("c/app"));
    let t = r.times_of("m/v/b/soc");
    assert!(t.len() >= 9, "{t:?}");
    assert!(gaps(&t).iter().all(|g| *g == 60), "{t:?}");
}

#[test]
fn v3_cad_2_modified_every_600s_without_clients_draft() {
    let mut r = Rig::new("draft");
    churn(&mut r, 3000, None);
    let t = r.times_of("m/v/b/soc");
    assert_eq!(t, vec![600, 1200, 1800, 2400, 3000]);
}

#[test]
fn v3_cad_3_rate_follows_peers_draft() {
    let mut r = Rig::new("draft");
    churn(&mut r, 700, None); // pass at 600
    r.client_publish("c/app", b"1"); // at 700: 1-minute rate; 660 already passed → next tick
    churn(&mut r, 100, None); // the client stops heartbeating; expires at 820
    churn(&mut r, 1400, None);
    let t = r.times_of("m/v/b/soc");
    // 1-minute rate while the client lives; it expires at 820, just before the 821 pass, so the
    // rate falls back to ten minutes counted from the last pass at 761.
    assert_eq!(t, vec![600, 701, 761, 1361, 1961], "{t:?}");
}

#[test]
fn ship_4_2_modified_every_61s_with_client_and_601s_without_3_3_005() {
    // The firmware tests `now > last + next`: one tick later than the interval.
    let mut r = Rig::new("fw-3.3.005");
    churn(&mut r, 400, Some("client/app/active"));
    let t = r.times_of("metric/v/b/soc");
    assert!(gaps(&t[1..]).iter().all(|g| *g == 61), "{t:?}");
    let mut r = Rig::new("fw-3.3.005");
    churn(&mut r, 1900, None);
    assert_eq!(r.times_of("metric/v/b/soc"), vec![1, 602, 1203, 1804]);
}

#[test]
fn ship_4_1_3_3_005_minimum_of_applicable_intervals() {
    let mut cfg = config();
    cfg.params.insert("updatetime.on".into(), "30".into());
    cfg.params.insert("updatetime.charging".into(), "20".into());
    let mut r = Rig::with_config("fw-3.3.005", cfg);
    r.run_secs(1);
    assert_eq!(r.module.current_interval_secs(), 600);
    r.set_metric("v.e.on", MetricValue::Bool(true));
    assert_eq!(r.module.current_interval_secs(), 30);
    r.set_metric("v.c.charging", MetricValue::Bool(true));
    assert_eq!(r.module.current_interval_secs(), 20);
    r.client_publish("client/app/active", b"1");
    assert_eq!(r.module.current_interval_secs(), 20, "min(60, 30, 20, 600)");
    // Defaults: on/charging/awake = idle, so only peers matter.
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(1);
    r.set_metric("v.e.on", MetricValue::Bool(true));
    r.set_metric("v.e.awake", MetricValue::Bool(true));
    assert_eq!(r.module.current_interval_secs(), 600);
}

#[test]
fn ship_4_1_3_3_006_first_match_on_charging_peers_awake_idle() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(1);
    assert_eq!(r.module.current_interval_secs(), 600);
    r.set_metric("v.e.awake", MetricValue::Bool(true));
    assert_eq!(r.module.current_interval_secs(), 60);
    r.client_publish("client/app/active", b"1");
    assert_eq!(r.module.current_interval_secs(), 10);
    r.set_metric("v.c.charging", MetricValue::Bool(true));
    assert_eq!(r.module.current_interval_secs(), 10);
    r.set_metric("v.e.on", MetricValue::Bool(true));
    assert_eq!(r.module.current_interval_secs(), 5);
    // First match, not minimum: on wins even when its interval is longer than peers'.
    r.module
        .run_command(r.now, "config set server.v3 updatetime.on 20");
    assert_eq!(r.module.current_interval_secs(), 20);
    // And it drives the passes: every 21 s (`>`).
    let from = r.now.as_secs();
    churn(&mut r, 120, None);
    let t: Vec<u64> = r
        .times_of("metric/v/b/soc")
        .into_iter()
        .filter(|t| *t > from + 2)
        .collect();
    assert!(gaps(&t).iter().all(|g| *g == 21), "{t:?}");
}

#[test]
fn ship_4_2_periodic_full_pass_every_sendall_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    r.set_metric("v.b.soh", MetricValue::Float(99.0)); // never changes again
    r.run_secs(3700);
    assert_eq!(r.times_of("metric/v/b/soh"), vec![1, 1202, 2403, 3604]);
    // ≤3.3.005: sendall 0 = off.
    let mut r = Rig::new("fw-3.3.005");
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    r.run_secs(3700);
    assert_eq!(r.times_of("metric/v/b/soh"), vec![1]);
    // 3.3.005 with sendall configured.
    let mut cfg = config();
    cfg.params.insert("updatetime.sendall".into(), "600".into());
    let mut r = Rig::with_config("fw-3.3.005", cfg);
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    r.run_secs(1300);
    assert_eq!(r.times_of("metric/v/b/soh"), vec![1, 602, 1203]);
}

#[test]
fn ship_4_2_config_set_interval_drives_cadence_all_profiles() {
    for (p, rel, adj) in [
        ("draft", "m/v/b/soc", 0),
        ("fw-3.3.005", "metric/v/b/soc", 1),
        ("fw-3.3.006", "metric/v/b/soc", 1),
    ] {
        let mut r = Rig::new(p);
        r.run_secs(2);
        let out = r
            .module
            .run_command(r.now, "config set server.v3 updatetime.idle 30");
        assert_eq!(out, "Parameter has been set.\n");
        let from = r.now.as_secs();
        churn(&mut r, 300, None);
        let t: Vec<u64> = r
            .times_of(rel)
            .into_iter()
            .filter(|t| *t > from + 31)
            .collect();
        assert!(t.len() >= 5, "{p}: {t:?}");
        assert!(gaps(&t).iter().all(|g| *g == 30 + adj), "{p}: {t:?}");
    }
}

#[test]
fn ship_4_2_update_modified_and_all_commands() {
    let mut r = Rig::new("fw-3.3.005");
    r.set_metric("v.b.soh", MetricValue::Float(99.0));
    r.run_secs(10);
    r.set_metric("v.b.soc", MetricValue::Float(1.0));
    let out = r.module.run_command(r.now, "server v3 update modified");
    assert_eq!(
        out,
        "Server V3 data update for modified metrics has been scheduled\n"
    );
    let mark = r.mark();
    r.run_secs(1);
    assert_eq!(r.topics_since(mark), vec!["metric/v/b/soc"]);
    r.module.run_command(r.now, "server v3 update all");
    let mark = r.mark();
    r.run_secs(1);
    assert!(r.topics_since(mark).contains(&"metric/v/b/soh".to_string()));
}

#[test]
fn ship_4_2_vehicle_events_run_an_immediate_modified_pass_3_3_006() {
    let mut r = Rig::new("fw-3.3.006");
    r.run_secs(100);
    r.set_metric("v.e.on", MetricValue::Bool(true));
    let mark = r.mark();
    r.input(Input::Event("vehicle.on".into()));
    let topics = r.topics_since(mark);
    assert!(topics.contains(&"metric/v/e/on".to_string()), "{topics:?}");
    assert!(r.sent_since(mark).iter().all(|s| s.at == r.now));
    // 3.3.005 waits for the cadence.
    let mut r = Rig::new("fw-3.3.005");
    r.run_secs(100);
    r.set_metric("v.e.on", MetricValue::Bool(true));
    let mark = r.mark();
    r.input(Input::Event("vehicle.on".into()));
    assert!(!r.topics_since(mark).contains(&"metric/v/e/on".to_string()));
}

#[test]
fn hours_of_virtual_time_jump_event_to_event_all_profiles() {
    for p in ["draft", "fw-3.3.005", "fw-3.3.006"] {
        let mut r = Rig::new(p);
        let wall = std::time::Instant::now();
        r.run_secs(24 * 3600);
        let elapsed = wall.elapsed();
        // Idle module: a modified pass every ~600 s (+ sendall) — not one wakeup per second.
        assert!(r.wakeups < 400, "{p}: {} wakeups for a day", r.wakeups);
        assert!(
            elapsed.as_millis() < 2000,
            "{p}: a virtual day took {elapsed:?}"
        );
    }
    // With a client heartbeating every minute for 6 h (3.3.006: 11-s passes).
    let mut r = Rig::new("fw-3.3.006");
    for _ in 0..360 {
        r.client_publish("client/app/active", b"1");
        r.run_secs(60);
    }
    assert!(r.wakeups < 6 * 3600 / 11 + 500, "{} wakeups", r.wakeups);
}

#[test]
fn poll_timeout_is_none_when_nothing_can_happen() {
    let mut r = Rig::with_mode("fw-3.3.005", config(), ConnectMode::Silent);
    r.run_secs(10);
    assert_eq!(
        r.module.poll_timeout(),
        None,
        "connecting with no answer: nothing due"
    );
}

#[test]
fn ship_4_1_3_3_006_defaults_peer_10s_awake_60s_idle_600s() {
    let mut r = Rig::new("fw-3.3.006");
    churn(&mut r, 200, Some("client/app/active"));
    let t: Vec<u64> = r
        .times_of("metric/v/b/soc")
        .into_iter()
        .filter(|t| *t > 20)
        .collect();
    assert!(
        gaps(&t).iter().all(|g| *g == 11),
        "connected 10 s (+1 for `>`): {t:?}"
    );
    let mut r = Rig::new("fw-3.3.006");
    r.set_metric("v.e.awake", MetricValue::Bool(true));
    churn(&mut r, 300, None);
    assert_eq!(r.times_of("metric/v/b/soc"), vec![1, 62, 123, 184, 245]);
}

#[test]
fn step_jumps_straight_to_each_pass_draft() {
    let mut r = Rig::new("draft");
    r.client_publish("c/app", b"1");
    // Each step lands on the next deadline: the pass at 60 s, the client's expiry at 120 s (it
    // fires before that second's tick, which then runs at the idle rate), then every 600 s.
    let mut times = Vec::new();
    for _ in 0..5 {
        assert!(r.step());
        times.push(r.now.as_millis());
    }
    assert_eq!(times, vec![60_000, 120_000, 660_000, 1_260_000, 1_860_000]);
    // `s.v3.peers`: 0 in the connect pass, 1 at the 60 s pass, 0 (after the expiry) at 660 s.
    assert_eq!(r.times_of("m/s/v3/peers"), vec![0, 60, 660]);
    assert_eq!(r.drive_bounded(10), 10);
}
