//! Field bugs become regression tests, end to end through the `ovms-hil` binary:
//! `record` a real Roadster log replayed into the emulated module (virtual clock, real broker,
//! wire tap), `scaffold` the recording into a temporary repository layout, `run` the generated
//! feature (green), then run it against a module whose charging cadence differs (red, naming the
//! topics and times), with the `--html` page marking the failures.

mod hil_cli;

use std::process::Command;

use hil_cli::{hil, interrupt_at_line, root, s, text};

const LOG: &str = "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv";

#[test]
fn a_recorded_replay_scaffolds_into_a_feature_that_catches_a_cadence_change() {
    let repo = root();
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path().join("rec");
    let lab = tmp.path().join("lab");
    std::fs::create_dir_all(lab.join("rigs")).unwrap();

    // 1. record: the log drives the emulated module; CRTD and capture side by side.
    let o = hil(
        &repo,
        &[
            "record",
            "--rig",
            "rigs/emulated.yaml",
            "--replay",
            LOG,
            "--vehicle",
            "tesla-roadster",
            "--profile",
            "fw-3.3.006",
            "--vehicle-id",
            "anon",
            "--user",
            "anon",
            "--out",
            s(&rec),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("recording: module time"), "no progress: {err}");
    assert!(err.contains("recorded 3200 frames"), "{err}");

    let yaml = std::fs::read_to_string(rec.join("recording.yaml")).unwrap();
    assert!(yaml.contains("vehicle: \"tesla-roadster\""), "{yaml}");
    assert!(yaml.contains("profile: \"fw-3.3.006\""), "{yaml}");
    let lead_in: u64 = yaml
        .lines()
        .find_map(|l| l.strip_prefix("lead_in_secs: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("lead_in_secs");

    // One time base: the CRTD frames carry module time, starting at lead_in_secs.
    let frames: Vec<ovms_canlog::Frame> =
        ovms_canlog::open(&rec.join("can.crtd"), &ovms_canlog::ReadOptions::default())
            .unwrap()
            .frames()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(frames.len(), 3200);
    assert_eq!(
        frames[0].ts_ns,
        i64::try_from(lead_in).unwrap() * 1_000_000_000
    );
    let last_frame_s = frames.last().unwrap().ts_secs();
    let capture = ovms_hil_net::capture::read_capture(rec.join("capture.jsonl")).unwrap();
    let soc: Vec<f64> = capture
        .iter()
        .filter(|r| {
            r.src == ovms_hil_net::capture::Source::Tap
                && r.topic.as_deref() == Some("ovms/anon/anon/metric/v/b/soc")
        })
        .filter_map(|r| r.t)
        .collect();
    assert!(!soc.is_empty(), "v.b.soc never published");
    assert!(
        soc.iter()
            .all(|t| *t >= lead_in as f64 && *t <= last_frame_s + 1.0),
        "soc publishes {soc:?} outside the log's module time {lead_in}..{last_frame_s}"
    );
    assert!(
        !capture.iter().any(|r| r
            .topic
            .as_deref()
            .is_some_and(|t| t.starts_with("ovms-hil/"))),
        "barrier sentinels left in the capture"
    );

    // 2. scaffold into a temporary repository layout.
    let o = hil(
        &repo,
        &["scaffold", s(&rec), "--name", "topoff", "--root", s(&lab)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("cadence points"));
    let feature = lab.join("features/regressions/topoff.feature");
    let ftext = std::fs::read_to_string(&feature).unwrap();
    assert!(ftext.contains("@profile:fw-3.3.006"), "{ftext}");
    assert!(lab.join("scenarios/topoff/expected.yaml").is_file());

    // 3. run it: the same module, the same log → green.
    let rig = repo.join("rigs/emulated.yaml");
    let o = hil(
        &lab,
        &[
            "run",
            "features/regressions/topoff.feature",
            "--rig",
            s(&rig),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1 passed, 0 failed"),
        "{}",
        text(&o)
    );

    // 4. the module's charging cadence changes (30 s instead of the profile's 10 s) → red.
    let slow = lab.join("rigs/slow.yaml");
    let rig_text = std::fs::read_to_string(&rig).unwrap().replace(
        "  mqtt_user: hil\n",
        "  mqtt_user: hil\n  params:\n    updatetime.charging: \"30\"\n",
    );
    assert!(
        rig_text.contains("updatetime.charging"),
        "rig layout changed"
    );
    std::fs::write(&slow, rig_text).unwrap();
    let page = tmp.path().join("red.html");
    let o = hil(
        &lab,
        &[
            "run",
            "features/regressions/topoff.feature",
            "--rig",
            s(&slow),
            "--html",
            s(&page),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("published timeline differs"), "{}", text(&o));
    let miss = regex::Regex::new(
        r#"v\.b\.soc: expected "\d+" at t=(\d+) s, published at t=(\d+) s \[topic ovms/hil/HIL-\d+/metric/v/b/soc\]"#,
    )
    .unwrap();
    let c = miss
        .captures(&out)
        .unwrap_or_else(|| panic!("{}", text(&o)));
    let (want, got): (u64, u64) = (c[1].parse().unwrap(), c[2].parse().unwrap());
    assert!(
        got.abs_diff(want) > 2,
        "times {want} vs {got} within tolerance"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("v.b.soc: expected"), "failure not marked");
    assert!(
        html.contains("ovms/hil/HIL-1/metric/v/b/soc"),
        "topic lane missing"
    );
}

#[test]
fn record_from_socketcan_fails_cleanly_without_af_can() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rec");
    let o = hil(&root(), &["record", "--can", "vcan-hil0", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("ovms-hil record: --can vcan-hil0: "),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !out.exists(),
        "nothing is written when the source cannot open"
    );
}

#[test]
fn fieldbug_subcommands_are_wired() {
    let repo = root();
    let tmp = tempfile::tempdir().unwrap();
    let crtd = tmp.path().join("can.crtd");
    let o = hil(
        &repo,
        &[
            "anonymise",
            "scenarios/logs/tesla-roadster_20120218.drive-a.csv",
            s(&crtd),
            "--vehicle",
            "tesla-roadster",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(crtd.is_file());

    let capture = repo.join("scenarios/regression-example/capture.jsonl");
    let page = tmp.path().join("page.html");
    let o = hil(
        &repo,
        &[
            "report",
            s(&capture),
            "--out",
            s(&page),
            "--profile",
            "fw-3.3.006",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("ovms/anon/anon/metric/v/b/soc"),
        "no soc lane"
    );

    // Bad input: a typed error, exit 2.
    let o = hil(&repo, &["report", s(&tmp.path().join("missing.jsonl"))]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("ovms-hil report: "));
    let o = hil(&repo, &["scaffold", s(tmp.path()), "--name", "../escape"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid scenario name"));
}

#[test]
fn ctrl_c_stops_a_recording_cleanly_and_loses_nothing() {
    let repo = root();
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path().join("rec");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ovms-hil"));
    cmd.current_dir(&repo).args([
        "record",
        "--replay",
        "scenarios/logs/tesla-roadster_20120218.drive-a.csv",
        "--vehicle",
        "tesla-roadster",
        "--out",
        s(&rec),
    ]);
    // The first progress line: 60 s of the 1,017 s log are recorded; interrupt now.
    let (status, seen) = interrupt_at_line(cmd, "recording: module time", String::new);
    assert_eq!(status.code(), Some(0), "{seen}");
    assert!(seen.contains("(stopped by Ctrl-C)"), "{seen}");

    // Everything reported is on disk: the frame count, a complete capture, recording.yaml.
    let reported: usize = regex::Regex::new(r"recorded (\d+) frames")
        .unwrap()
        .captures(&seen)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or_else(|| panic!("{seen}"));
    assert!(reported > 0 && reported < 12_000, "not interrupted: {seen}");
    let frames = ovms_canlog::open(&rec.join("can.crtd"), &ovms_canlog::ReadOptions::default())
        .unwrap()
        .frames()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(frames.len(), reported);
    assert!(rec.join("recording.yaml").is_file());
    // ... and it scaffolds.
    let o = hil(
        &repo,
        &[
            "scaffold",
            s(&rec),
            "--name",
            "cut",
            "--root",
            s(tmp.path()),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
