//! Replays the five Tesla Roadster reference logs (tattler CSV) through the Roadster decoder and a
//! metric fold, and asserts the metric timeline of roadster-decoder.md §9.3–9.4 with the exact
//! firmware payload strings.

use std::path::PathBuf;

use ovms_canlog::{open, ReadOptions};
use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::{CanFrame, Vehicle};
use ovms_vehicles::fold::Timeline;
use ovms_vehicles::TeslaRoadster;

fn log(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/logs")
        .join(format!("tesla-roadster_20120218.{name}.csv"))
}

/// Replays a log; `prefix` frames (0x100 payloads) are fed at t = 0 before the log.
fn replay_with(name: &str, prefix: &[&[u8]]) -> (Timeline, usize) {
    let mut car = TeslaRoadster::new();
    let mut tl = Timeline::new();
    let mut out = Vec::new();
    car.init(Instant::ZERO, &mut out);
    tl.apply(0.0, &mut out);
    for d in prefix {
        car.handle_frame(
            Instant::ZERO,
            CanFrame {
                bus: 0,
                id: 0x100,
                extended: false,
                data: d,
            },
            &mut out,
        );
        tl.apply(0.0, &mut out);
    }
    let reader = open(&log(name), &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    let mut next_tick = 1u64;
    for f in reader.frames() {
        let f = f.unwrap_or_else(|e| panic!("{e}"));
        let ms = (f.ts_ns.max(0) / 1_000_000) as u64;
        // Per-second ticks of module time up to this frame.
        while next_tick * 1000 <= ms {
            car.tick(Instant::from_secs(next_tick), &mut out);
            tl.apply(next_tick as f64, &mut out);
            next_tick += 1;
        }
        car.handle_frame(
            Instant::from_millis(ms),
            CanFrame {
                bus: f.bus,
                id: f.id,
                extended: f.extended,
                data: &f.data,
            },
            &mut out,
        );
        tl.apply(f.ts_secs(), &mut out);
        n += 1;
    }
    (tl, n)
}

fn replay(name: &str) -> (Timeline, usize) {
    replay_with(name, &[])
}

/// Asserts the change list of a metric: (time within 0.5 ms, payload).
fn assert_changes(tl: &Timeline, metric: &str, want: &[(f64, &str)]) {
    let got = tl.changes_of(metric);
    let ok = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|((t, p), (wt, wp))| (t - wt).abs() < 5e-4 && p == wp);
    assert!(ok, "{metric}: got {got:?}, want {want:?}");
}

fn first_time_of(tl: &Timeline, metric: &str) -> Option<f64> {
    tl.changes_of(metric).first().map(|c| c.0)
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[test]
fn drive_a_timeline() {
    let (tl, n) = replay("drive-a");
    assert_eq!(n, 12_469);
    // §9.3 samples.
    assert_eq!(tl.payload_at("v.b.soc", 1.6826), s("96"));
    assert_eq!(tl.payload_at("v.b.range.ideal", 1.6826), s("300.948"));
    assert_eq!(tl.payload_at("v.b.range.est", 1.6826), s("273.589"));
    assert_eq!(tl.payload_at("v.p.speed", 755.7617), s("61.1552"));
    assert_eq!(tl.payload_at("v.m.rpm", 755.7617), s("4256"));
    assert_eq!(
        tl.payload_at("v.t.pressure", 176.8557),
        s("195.205,190.2,265.279,262.777")
    );
    assert_eq!(tl.payload_at("v.t.temp", 176.8557), s("11,11,12,12"));
    for (m, v) in [
        ("v.p.gpslock", "yes"),
        ("v.p.gpssq", "100"),
        ("v.p.direction", "134"),
        ("v.p.altitude", "114"),
    ] {
        assert_eq!(tl.payload_at(m, 1.6835), s(v), "{m}");
    }
    for (m, v) in [
        ("v.d.fl", "yes"),
        ("v.d.fr", "no"),
        ("v.d.cp", "no"),
        ("v.c.pilot", "yes"),
        ("v.c.charging", "no"),
        ("v.e.handbrake", "yes"),
        ("v.e.on", "no"),
        ("v.e.awake", "no"),
        ("v.e.aux12v", "no"),
        ("v.e.cooling", "no"),
        ("v.e.locked", "no"),
    ] {
        assert_eq!(tl.payload_at(m, 0.7433), s(v), "{m}");
    }
    // Ambient: the 7.4417 frame is dropped (aux12v false); the first accepted is at 57.6543.
    let first_temp = tl.changes_of("v.e.temp")[0].clone();
    assert!((first_temp.0 - 57.6543).abs() < 5e-4, "{first_temp:?}");
    assert_eq!(first_temp.1, "12");
    for (m, v) in [
        ("v.i.temp", "17"),
        ("v.c.temp", "17"),
        ("v.m.temp", "16"),
        ("v.b.temp", "20"),
    ] {
        assert_eq!(tl.payload_at(m, 57.6561), s(v), "{m}");
        assert!(
            first_time_of(&tl, m).unwrap() >= 57.6543,
            "{m} before aux12v"
        );
    }
    // §9.4 transitions.
    let soc = tl.changes_of("v.b.soc");
    let soc: Vec<(String, f64)> = soc.into_iter().map(|(t, p)| (p, t)).collect();
    assert_eq!(
        soc.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        vec!["96", "95", "94", "93"]
    );
    for ((_, t), want) in soc.iter().skip(1).zip([129.07, 369.56, 748.42]) {
        assert!((t - want).abs() < 0.01, "SOC change at {t}, want {want}");
    }
    assert_changes(
        &tl,
        "v.e.on",
        &[(0.7433, "no"), (74.7305, "yes"), (1009.1485, "no")],
    );
    let max_speed = tl
        .changes_of("v.p.speed")
        .iter()
        .map(|(_, p)| p.parse::<f64>().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(
        ovms_firmware::metrics::format_g6(max_speed as f32),
        "61.1552"
    );
    assert_eq!(tl.current("v.c.state"), s("done"));
    assert_eq!(tl.current("v.c.substate"), s("powerwait"));
    assert_eq!(tl.current("v.c.kwh"), s("30"));
    // Raw artefacts published as they are.
    assert!(tl.changes_of("v.c.current").iter().any(|(_, p)| p == "127"));
    assert!(tl
        .changes_of("v.c.voltage")
        .iter()
        .any(|(_, p)| p == "65535"));
    // No VIN frames: type stays TR, mode/vin/gear never set; no 0x400/0x402 metrics.
    assert_eq!(tl.current("v.type"), s("TR"));
    for m in [
        "v.c.mode",
        "v.vin",
        "v.e.gear",
        "v.b.current",
        "v.b.power",
        "v.p.odometer",
        "v.p.trip",
        "v.e.hvac",
        "v.b.cac",
    ] {
        assert_eq!(tl.current(m), None, "{m}");
    }
    assert!(tl.notices.is_empty());
    // v.e.on changes (74.7305, 1009.1485) → CAC stream requests 3 s later, sent by the first
    // per-second tick at or after that moment (77.7305 → 78, 1012.1485 → 1013).
    let req: Vec<f64> = tl
        .sent
        .iter()
        .filter(|s| s.data == ovms_vehicles::roadster::CAC_REQUEST)
        .map(|s| s.t)
        .collect();
    assert_eq!(req, vec![78.0, 1013.0]);
}

#[test]
fn drive_a_with_a_gen2_vin_sets_type_mode_and_gear() {
    let a4: &[u8] = &[0xA4, b'S', b'F', b'Z', b'R', b'E', b'2', b'B'];
    let a5: &[u8] = &[0xA5, b'3', b'9', b'A', b'3', b'0', b'0', b'0'];
    let a6: &[u8] = &[0xA6, b'3', b'5', b'9'];
    let (tl, _) = replay_with("drive-a", &[a4, a5, a6]);
    assert_eq!(tl.current("v.type"), s("TR2S"));
    assert_eq!(tl.current("v.vin"), s("SFZRE2B39A3000359"));
    assert_eq!(tl.current("v.c.mode"), s("standard"));
    let gear = tl.changes_of("v.e.gear");
    let payloads: Vec<&str> = gear.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(payloads, vec!["0", "1", "-1", "0"], "{gear:?}");
    for ((t, _), want) in gear.iter().skip(1).zip([148.0805, 972.9143, 1003.0157]) {
        assert!((t - want).abs() < 5e-4, "gear change at {t}, want {want}");
    }
}

#[test]
fn topoff_timeline() {
    let (tl, n) = replay("charge-topoff");
    assert_eq!(n, 3_200);
    let states = tl.changes_of("v.c.state");
    assert_eq!(states[0].1, "done");
    assert_changes(
        &tl,
        "v.c.state",
        &[
            (states[0].0, "done"),
            (8.2085, "prepare"),
            (11.7988, "charging"),
            (220.3398, "done"),
        ],
    );
    assert_eq!(tl.payload_at("v.c.substate", 11.7988), s("timerwait"));
    assert_eq!(tl.payload_at("v.c.kwh", 11.7988), s("2"));
    assert_eq!(tl.payload_at("v.e.heating", 11.7988), s("no"));
    assert_eq!(
        tl.current("v.c.substate"),
        s("timerwait"),
        "0x09 is ignored at done"
    );
    assert_changes(
        &tl,
        "v.c.charging",
        &[
            (tl.changes_of("v.c.charging")[0].0, "no"),
            (11.8674, "yes"),
            (220.6582, "no"),
        ],
    );
    assert_eq!(tl.current("v.c.mode"), None);
    // Charge-time predictor: -355 while charging without a mode, 0 at done.
    assert_eq!(tl.payload_at("v.c.duration.full", 11.8674), s("-355"));
    assert_eq!(tl.payload_at("v.c.duration.full", 220.3398), s("0"));
    // CAC request at charge start.
    assert!(tl
        .sent
        .iter()
        .any(|x| (x.t - 11.8674).abs() < 5e-4 && x.data == ovms_vehicles::roadster::CAC_REQUEST));
}

#[test]
fn slidestop_timeline() {
    let (tl, n) = replay("charge-slidestop");
    assert_eq!(n, 2_090);
    assert_eq!(tl.payload_at("v.c.state", 8.6417), s("prepare"));
    assert_eq!(tl.payload_at("v.c.state", 35.4147), s("charging"));
    assert_eq!(tl.payload_at("v.c.substate", 35.4147), s("timerwait"));
    let ch = tl.changes_of("v.c.charging");
    assert_changes(
        &tl,
        "v.c.charging",
        &[(ch[0].0, "no"), (35.1030, "yes"), (104.2846, "no")],
    );
    let st = tl.changes_of("v.c.state");
    assert!(
        st.iter()
            .any(|(t, p)| (t - 104.5681).abs() < 5e-4 && p == "stopped"),
        "{st:?}"
    );
    assert_eq!(tl.payload_at("v.c.substate", 104.5681), s("powerwait"));
    assert!(tl
        .changes_of("v.c.state")
        .iter()
        .any(|(t, p)| (t - 8.6417).abs() < 5e-4 && p == "prepare"));
}

#[test]
fn breakerstop_timeline_and_error_notification() {
    let (tl, n) = replay("charge-breakerstop");
    assert_eq!(n, 1_057);
    let st = tl.changes_of("v.c.state");
    assert_eq!(st[0].1, "stopped");
    assert_eq!(tl.payload_at("v.c.substate", st[0].0), s("powerwait"));
    assert_changes(
        &tl,
        "v.c.state",
        &[
            (st[0].0, "stopped"),
            (8.2781, "prepare"),
            (12.0083, "charging"),
            (72.7317, "stopped"),
        ],
    );
    let ch = tl.changes_of("v.c.charging");
    assert_changes(
        &tl,
        "v.c.charging",
        &[(ch[0].0, "no"), (11.9370, "yes"), (72.6603, "no")],
    );
    assert_eq!(tl.payload_at("v.c.substate", 72.7317), s("powerwait"));
    // Exactly one notification: raised at 73.1820, the clear at 76.2779 sends nothing.
    assert_eq!(tl.notices.len(), 1, "{:?}", tl.notices);
    let nt = &tl.notices[0];
    assert!((nt.t - 73.1820).abs() < 5e-4);
    assert_eq!(
        (nt.kind.as_str(), nt.subtype.as_str(), nt.text.as_str()),
        ("error", "code", "TR,954,2097152")
    );
}

#[test]
fn vdsstop_timeline() {
    let (tl, n) = replay("charge-vdsstop");
    assert_eq!(n, 1_106);
    let st = tl.changes_of("v.c.state");
    assert_eq!(st[0].1, "stopped");
    assert_eq!(tl.payload_at("v.c.substate", st[0].0), s("powerwait"));
    assert_changes(
        &tl,
        "v.c.state",
        &[
            (st[0].0, "stopped"),
            (10.1887, "prepare"),
            (13.7406, "charging"),
            (69.6237, "stopped"),
        ],
    );
    let ch = tl.changes_of("v.c.charging");
    assert_eq!(ch.last().unwrap().1, "no");
    assert!((ch.last().unwrap().0 - 69.3529).abs() < 5e-4, "{ch:?}");
    assert_eq!(tl.payload_at("v.c.substate", 69.6237), s("onrequest"));
    assert!(tl.notices.is_empty());
}
