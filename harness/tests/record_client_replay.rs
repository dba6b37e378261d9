//! A recording whose capture has client publishes (an app's heartbeats) replays through the
//! regression step: the heartbeats are published through the run's broker at their recorded
//! module times, between the log's frames, so the module behaves as recorded (peer count, the
//! connected cadence). Without them the same feature goes red.
//!
//! The recording is made with ovms-hil-fieldbug's in-process pipeline (the Roadster top-off
//! charge log and an app live from t=30 s to t=200 s), scaffolded and run through the `ovms-hil`
//! binary.

mod hil_cli;

use std::path::Path;

use ovms_firmware::profile::Profile;
use ovms_hil_fieldbug::scaffold::ExpectedTimeline;
use ovms_hil_fieldbug::simulate::{simulate_capture, SimClient, SimOptions};
use ovms_hil_net::capture::CaptureWriter;

use hil_cli::{hil, root, s, text};

const LOG: &str = "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv";

/// A recording directory: the log, the capture of a draft module with an app live for most of
/// the charge, and recording.yaml.
fn make_recording(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let log = dir.join("can.csv");
    std::fs::copy(root().join(LOG), &log).unwrap();
    let profile = Profile::builtin("draft").unwrap();
    let opts = SimOptions {
        lead_in_secs: 2,
        clients: vec![SimClient {
            id: "app".into(),
            from_secs: 30,
            until_secs: Some(200),
            every_secs: 60,
        }],
        ..Default::default()
    };
    let vehicle =
        ovms_vehicles::load_vehicle("tesla-roadster", &root().join("scenarios/vehicles")).unwrap();
    let capture = simulate_capture(&log, vehicle, &profile, &opts).unwrap();
    let w = CaptureWriter::create(dir.join("capture.jsonl")).unwrap();
    for r in &capture {
        w.write(r).unwrap();
    }
    std::fs::write(
        dir.join("recording.yaml"),
        "vehicle: tesla-roadster\nprofile: draft\nvehicle_id: anon\nuser: anon\nlead_in_secs: 2\n\
         log: can.csv\n",
    )
    .unwrap();
}

#[test]
fn recorded_client_publishes_are_replayed_at_their_times() {
    let repo = root();
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path().join("rec");
    let lab = tmp.path().join("lab");
    make_recording(&rec);

    let o = hil(
        &repo,
        &["scaffold", s(&rec), "--name", "with-app", "--root", s(&lab)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(", 3 client publishes)"), "{out}");

    // Green: the heartbeats are delivered as recorded.
    let rig = repo.join("rigs/emulated.yaml");
    let feature = "features/regressions/with-app.feature";
    let t0 = std::time::Instant::now();
    let o = hil(&lab, &["run", feature, "--rig", s(&rig)]);
    eprintln!(
        "replay with the heartbeats: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1 passed, 0 failed"),
        "{}",
        text(&o)
    );

    // Red without them: the module never sees the app (peer count, connected cadence).
    let expected = lab.join("scenarios/with-app/expected.yaml");
    let mut e = ExpectedTimeline::load(&expected).unwrap();
    assert_eq!(e.client_publishes.len(), 3);
    e.client_publishes.clear();
    std::fs::write(&expected, e.to_yaml("the app's heartbeats removed")).unwrap();
    let o = hil(&lab, &["run", feature, "--rig", s(&rig)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("published timeline differs"),
        "{}",
        text(&o)
    );
    assert!(stdout.contains("s.v3.peers"), "{}", text(&o));
}
