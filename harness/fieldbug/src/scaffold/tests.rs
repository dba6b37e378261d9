use super::*;
use crate::simulate::{SimClient, SimOptions};
use crate::topics::metric_topic;
use ovms_hil_net::capture::CaptureWriter;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vehicles_dir() -> PathBuf {
    root().join("scenarios/vehicles")
}

fn app_client() -> Vec<SimClient> {
    vec![SimClient {
        id: "app".into(),
        from_secs: 90,
        until_secs: Some(800),
        every_secs: 60,
    }]
}

/// A recording dir as a field user would share it: the Roadster drive log (anonymised to CRTD),
/// the capture of a module running `profile` on it, with an app live for most of the drive.
fn make_recording(dir: &Path, profile: &str, params: &[(&str, &str)]) -> Vec<CaptureRecord> {
    make_recording_with(dir, profile, params, &[])
}

fn make_recording_with(
    dir: &Path,
    profile: &str,
    params: &[(&str, &str)],
    outages: &[(u64, u64)],
) -> Vec<CaptureRecord> {
    let rules =
        crate::anonymise::IdentifyingRules::for_vehicle("tesla-roadster", &vehicles_dir()).unwrap();
    let log = dir.join("can.crtd");
    crate::anonymise::anonymise_log(
        &root().join("scenarios/logs/tesla-roadster_20120218.drive-a.csv"),
        &log,
        &rules,
        &Default::default(),
    )
    .unwrap();
    let p = Profile::builtin(profile).unwrap();
    let opts = SimOptions {
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        clients: app_client(),
        outages: outages.to_vec(),
        ..Default::default()
    };
    let v = ovms_vehicles::load_vehicle("tesla-roadster", &vehicles_dir()).unwrap();
    let mut cap = simulate_capture(&log, v, &p, &opts).unwrap();
    // A volatile metric at every pass, as a real module's clock would publish it.
    let prefix = p.default_prefix("anon", "anon");
    let utc = metric_topic(&p, &prefix, "m.time.utc");
    let passes: Vec<f64> = cap
        .iter()
        .filter_map(|r| r.t)
        .filter(|t| t.fract() == 0.0)
        .collect();
    for t in passes.iter().step_by(7) {
        let mut r = cap[0]
            .clone()
            .with_payload(format!("{}", 1_329_557_435.0 + t).as_bytes());
        r.t = Some(*t);
        r.kind = Some("publish".into());
        r.dir = Some("to_broker".into());
        r.topic = Some(utc.clone());
        cap.push(r);
    }
    cap.sort_by(|a, b| a.t.partial_cmp(&b.t).unwrap());
    let w = CaptureWriter::create(dir.join("capture.jsonl")).unwrap();
    for r in &cap {
        w.write(r).unwrap();
    }
    let params_yaml: String = params
        .iter()
        .map(|(k, v)| format!("  {k}: \"{v}\"\n"))
        .collect();
    std::fs::write(
        dir.join("recording.yaml"),
        format!(
            "vehicle: tesla-roadster\nprofile: {profile}\nvehicle_id: anon\nuser: anon\n{}{params_yaml}",
            if params.is_empty() { "" } else { "params:\n" }
        ),
    )
    .unwrap();
    cap
}

#[test]
fn scaffold_writes_scenario_and_feature_and_replay_matches() {
    let rec = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    make_recording(rec.path(), "draft", &[]);
    let rep = scaffold(
        rec.path(),
        "roadster-drive",
        repo.path(),
        &ScaffoldOptions::default(),
    )
    .unwrap();
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    assert_eq!(
        rep.log,
        repo.path().join("scenarios/roadster-drive/can.crtd")
    );
    assert!(rep.points >= 10, "{rep:?}");
    assert!(rep.ignored > 0, "m.time.utc left out");
    assert_eq!(rep.client_publishes, 12, "heartbeats at 90, 150, ..., 750");

    let e = ExpectedTimeline::load(&rep.expected).unwrap();
    assert_eq!(e.prefix, "ovms/anon/anon/");
    assert_eq!(e.vehicle, "tesla-roadster");
    assert_eq!(e.client_publishes[0].topic, "c/app");
    assert!(e
        .points
        .iter()
        .all(|p| !p.publishes.contains_key("m/m/time/utc")));
    assert_eq!(
        e.points[0]
            .publishes
            .get("m/s/v3/connected")
            .map(String::as_str),
        Some("yes")
    );
    // Payloads stay strings through YAML ("95" must not come back as a number or fail).
    assert!(e
        .points
        .iter()
        .any(|p| p.publishes.contains_key("m/v/b/soc")));

    let feature = std::fs::read_to_string(&rep.feature).unwrap();
    assert!(feature.contains("@regression @profile:draft"));
    assert!(feature
        .contains("When the recording \"scenarios/roadster-drive/expected.yaml\" is replayed"));
    assert!(feature.contains(
        "Then the published timeline matches \"scenarios/roadster-drive/expected.yaml\""
    ));

    // The in-process replay of the scenario reproduces the timeline.
    let (e2, actual) = replay_expected(&rep.expected, &vehicles_dir()).unwrap();
    assert_eq!(e2, e);
    check_timeline(&e, &actual).unwrap();

    // A second scaffold refuses to overwrite; --force does.
    let err = scaffold(
        rec.path(),
        "roadster-drive",
        repo.path(),
        &ScaffoldOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ScaffoldError::Exists(_)), "{err}");
    let force = ScaffoldOptions {
        force: true,
        ..Default::default()
    };
    scaffold(rec.path(), "roadster-drive", repo.path(), &force).unwrap();
}

#[test]
fn a_changed_cadence_fails_naming_topic_and_times() {
    let rec = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    make_recording(rec.path(), "draft", &[]);
    let rep = scaffold(
        rec.path(),
        "cadence",
        repo.path(),
        &ScaffoldOptions::default(),
    )
    .unwrap();
    let e = ExpectedTimeline::load(&rep.expected).unwrap();

    // The "fixed" firmware publishes every 30 s instead of every 60 s while a client is live.
    let p = Profile::builtin("draft").unwrap();
    let v = ovms_vehicles::load_vehicle("tesla-roadster", &vehicles_dir()).unwrap();
    let opts = SimOptions {
        params: [("updatetime.connected".to_string(), "30".to_string())].into(),
        clients: app_client(),
        ..Default::default()
    };
    let actual = simulate_capture(&rep.log, v, &p, &opts).unwrap();
    let err = check_timeline(&e, &actual).unwrap_err();
    let text = err.to_string();
    let moved: Vec<&Mismatch> = err
        .mismatches
        .iter()
        .filter(|m| matches!(m.found, Found::ElsewhereAt(_)))
        .collect();
    assert!(!moved.is_empty(), "{text}");
    let m = moved[0];
    let Found::ElsewhereAt(at) = m.found else {
        unreachable!()
    };
    assert!((at.floor() - m.t as f64).abs() > e.tolerance_secs as f64);
    let line = m.to_string();
    assert!(
        line.starts_with(&format!(
            "{}: expected {:?} at t={} s, published at t=",
            m.what, m.payload, m.t
        )),
        "{line}"
    );
    assert!(text.contains(&line), "{text}");
    assert!(
        m.what.starts_with("v.") || m.what.starts_with("s."),
        "metric names, not topics: {line}"
    );

    // Another protocol profile publishes on other topics altogether.
    let p6 = Profile::builtin("fw-3.3.006").unwrap();
    let v = ovms_vehicles::load_vehicle("tesla-roadster", &vehicles_dir()).unwrap();
    let actual = simulate_capture(&rep.log, v, &p6, &SimOptions::default()).unwrap();
    let err = check_timeline(&e, &actual).unwrap_err();
    assert_eq!(err.mismatches.len(), err.checked);
    assert!(
        err.to_string()
            .contains("s.v3.connected: expected \"yes\" at t=0 s, not published"),
        "{err}"
    );
}

fn publish(t: f64, topic: &str, payload: &str) -> CaptureRecord {
    let mut r = CaptureRecord::new(Source::Tap, Some(t), t).with_payload(payload.as_bytes());
    r.kind = Some("publish".into());
    r.dir = Some("to_broker".into());
    r.topic = Some(topic.into());
    r
}

fn timeline(points: Vec<(u64, &[(&str, &str)])>) -> ExpectedTimeline {
    ExpectedTimeline {
        vehicle: "tesla-roadster".into(),
        profile: "draft".into(),
        vehicle_id: "v".into(),
        user: "u".into(),
        prefix: "ovms/u/v/".into(),
        log: "can.crtd".into(),
        lead_in_secs: 0,
        params: Default::default(),
        tolerance_secs: 2,
        ignore: vec!["m.time.utc".into(), "m.net.*".into()],
        client_publishes: vec![],
        broker_outages: vec![],
        points: points
            .into_iter()
            .map(|(t, p)| ExpectedPoint {
                t,
                publishes: p
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            })
            .collect(),
    }
}

#[test]
fn check_messages_name_topic_payload_and_times() {
    let e = timeline(vec![
        (
            600,
            &[
                ("m/v/b/soc", "95"),
                ("m/m/time/utc", "1"),
                ("m/m/net/sq", "-70"),
            ],
        ),
        (660, &[("m/v/b/range/ideal", "300"), ("m/v/e/on", "yes")]),
        (720, &[("m/v/p/odometer", "1000")]),
        (780, &[("notify/info", "hello")]),
    ]);
    let actual = vec![
        publish(601.5, "ovms/u/v/m/v/e/on", "yes"), // 59 s early: outside ±2 s
        publish(660.2, "ovms/u/v/m/v/b/soc", "95"),
        publish(659.0, "ovms/u/v/m/v/b/range/ideal", "299"),
        publish(100.0, "ovms/u/v/m/v/p/odometer", "999"),
        publish(781.9, "ovms/u/v/notify/info", "hello"),
    ];
    let err = check_timeline(&e, &actual).unwrap_err();
    assert_eq!(err.checked, 5, "ignored metrics are not checked");
    let lines: Vec<String> = err.mismatches.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        lines,
        [
            "v.b.soc: expected \"95\" at t=600 s, published at t=660.200 s",
            "v.b.range.ideal: expected \"300\" at t=660 s, published \"299\" at t=659 s instead",
            "v.e.on: expected \"yes\" at t=660 s, published at t=601.500 s",
            "v.p.odometer: expected \"1000\" at t=720 s, not published (the topic carried other payloads)",
        ]
    );
    // Within tolerance passes (notify at 781.9 → second 781, expected 780).
    let ok = timeline(vec![
        (780, &[("notify/info", "hello")]),
        (661, &[("m/v/b/soc", "95")]),
    ]);
    check_timeline(&ok, &actual).unwrap();
    let none = timeline(vec![(5, &[("m/v/b/temp", "20")])]);
    assert_eq!(
        check_timeline(&none, &actual).unwrap_err().mismatches[0].to_string(),
        "v.b.temp: expected \"20\" at t=5 s, not published"
    );
}

#[test]
fn bad_names_and_recordings_are_typed_errors() {
    let rec = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    for bad in ["../x", "a/b", "", "a.b"] {
        assert!(matches!(
            scaffold(rec.path(), bad, repo.path(), &ScaffoldOptions::default()),
            Err(ScaffoldError::BadName(_))
        ));
    }
    let e = scaffold(rec.path(), "x", repo.path(), &ScaffoldOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("no recording.yaml and no --vehicle given"),
        "{e}"
    );
    std::fs::write(
        rec.path().join("recording.yaml"),
        "vehicle: tesla-roadster\nprofil: draft\n",
    )
    .unwrap();
    let e = scaffold(rec.path(), "x", repo.path(), &ScaffoldOptions::default()).unwrap_err();
    assert!(e.to_string().contains("recording.yaml:2:"), "{e}");
    let e = ExpectedTimeline::from_yaml("vehicle: x\npoints: [ {t: -1} ]\n", "e.yaml").unwrap_err();
    assert!(e.to_string().starts_with("e.yaml:"), "{e}");
}

#[test]
fn a_recorded_broker_outage_is_replayed() {
    let rec = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    make_recording_with(rec.path(), "draft", &[], &[(480, 540)]);
    let rep = scaffold(
        rec.path(),
        "outage",
        repo.path(),
        &ScaffoldOptions::default(),
    )
    .unwrap();
    let e = ExpectedTimeline::load(&rep.expected).unwrap();
    assert_eq!(e.broker_outages, vec![Outage { from: 480, to: 540 }]);
    // The reconnection's full pass is part of the expected timeline...
    assert!(
        e.points
            .iter()
            .any(|p| p.t == 540 && p.publishes.len() > 20),
        "{:?}",
        e.points
            .iter()
            .map(|p| (p.t, p.publishes.len()))
            .collect::<Vec<_>>()
    );
    // ... and the replay with the outage reproduces it; without the outage it does not.
    let (_, actual) = replay_expected(&rep.expected, &vehicles_dir()).unwrap();
    check_timeline(&e, &actual).unwrap();
    let mut no_outage = e.clone();
    no_outage.broker_outages.clear();
    let path = rep.scenario_dir.join("no-outage.yaml");
    std::fs::write(&path, no_outage.to_yaml("test")).unwrap();
    let (_, actual) = replay_expected(&path, &vehicles_dir()).unwrap();
    let err = check_timeline(&e, &actual).unwrap_err();
    assert!(err.mismatches.iter().any(|m| m.t == 540), "{err}");
}

#[test]
fn observer_only_captures_give_the_same_expectation() {
    let rec = tempfile::tempdir().unwrap();
    let cap = make_recording(rec.path(), "draft", &[]);
    let p = Profile::builtin("draft").unwrap();
    let r = Recording::load(rec.path(), &RecordingOverrides::default()).unwrap();
    let opts = ScaffoldOptions::default();
    let (from_tap, _) = expected_from_capture(&cap, &r, &p, "can.crtd", &opts, &mut Vec::new());
    // What an observer subscribed to the module's prefix would have recorded.
    let observed: Vec<CaptureRecord> = cap
        .iter()
        .filter(|r| crate::timeline::is_publish(r))
        .map(|r| {
            let mut o = r.clone();
            o.src = Source::Observer;
            o.dir = None;
            o
        })
        .collect();
    let (from_observer, _) =
        expected_from_capture(&observed, &r, &p, "can.crtd", &opts, &mut Vec::new());
    assert_eq!(from_observer.points, from_tap.points);
    assert_eq!(from_observer.client_publishes, from_tap.client_publishes);
    check_timeline(&from_tap, &observed).unwrap();
}
