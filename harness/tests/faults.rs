//! The harness catches a broken module: the emulated module runs a deliberately wrong profile
//! (the rig's `module.firmware_profile`), the assertions use the real one, and the same runner
//! as `ovms-hil run` must report every affected scenario as failed, with a message that says what
//! was wrong. Each fault is a copy of the shipped `draft` profile with one rule changed.

use std::path::{Path, PathBuf};

use ovms_firmware::profile::Profile;
use ovms_hil::config::RunConfig;
use ovms_hil::report::{RunResults, Status};

/// Write the draft profile with `from` replaced by `to` (the replacement must apply).
fn faulty_profile(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let src = Profile::builtin_source("draft").expect("draft profile ships");
    assert!(src.contains(from), "draft profile has no {from:?}");
    let text = src
        .replacen(from, to, 1)
        .replacen("name: draft", &format!("name: draft-{name}"), 1);
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    // The faulty profile must still be a valid profile.
    Profile::from_file(&p).unwrap();
    p
}

/// Run the scenarios of `feature` selected by `tags` for the draft profile against a module
/// running the faulty profile.
async fn run_with_fault(
    fault: &str,
    from: &str,
    to: &str,
    feature: &str,
    tags: &str,
) -> RunResults {
    let dir = tempfile::tempdir().unwrap();
    let profile = faulty_profile(dir.path(), fault, from, to);
    let rig = dir.path().join("rig.yaml");
    std::fs::write(
        &rig,
        format!(
            "kind: emulated\nname: emulator with fault {fault}\nmodule:\n  vehicle_id: FAULT\n  \
             mqtt_user: hil\n  firmware_profile: {}\ntiming:\n  settle_ms: 2000\n",
            profile.display()
        ),
    )
    .unwrap();
    let root = RunConfig::repo_root();
    let mut cfg = RunConfig::new(&root);
    cfg.paths = vec![root.join("features").join(feature)];
    cfg.profiles = vec!["draft".into()];
    cfg.rig = rig;
    cfg.tags = Some(tags.into());
    cfg.junit = Some(dir.path().join("junit.xml"));
    let results = ovms_hil::runner::run(&cfg).await.expect("the run starts");
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        xml.contains("<failure"),
        "JUnit must show the failures:\n{xml}"
    );
    results
}

/// Every selected scenario failed, and each failure message contains one of `needles`.
fn assert_all_failed(r: &RunResults, needles: &[&str]) {
    assert!(!r.scenarios.is_empty(), "no scenario was selected");
    assert!(!r.all_passed());
    for sc in &r.scenarios {
        assert_eq!(
            sc.status(),
            Status::Failed,
            "{} passed despite the fault",
            sc.name
        );
        let msg = sc
            .attempts
            .last()
            .and_then(|a| a.message.clone())
            .unwrap_or_default();
        assert!(
            needles.iter().any(|n| msg.contains(n)),
            "{}: message does not say what was wrong: {msg}",
            sc.name
        );
        println!("[{}] {}\n    {msg}", sc.profile, sc.name);
    }
    assert_eq!(
        r.final_line(),
        format!("0 passed, {} failed", r.scenarios.len())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_retain_flag_fails_the_retain_scenarios() {
    let r = run_with_fault(
        "wrong-retain",
        r#"metric:        { topic: "m/{metric}", qos: 0, retain: true }"#,
        r#"metric:        { topic: "m/{metric}", qos: 0, retain: false }"#,
        "metrics.feature",
        "@V3-MET-3",
    )
    .await;
    assert_all_failed(&r, &["wrong retain flag", "no retained message"]);
    assert!(r.scenarios.iter().any(|s| s.attempts[0]
        .message
        .as_deref()
        .unwrap_or("")
        .contains("retain=false")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_qos_fails_the_metric_scenarios() {
    let r = run_with_fault(
        "wrong-qos",
        r#"metric:        { topic: "m/{metric}", qos: 0, retain: true }"#,
        r#"metric:        { topic: "m/{metric}", qos: 1, retain: true }"#,
        "metrics.feature",
        "@V3-MET-1",
    )
    .await;
    assert_all_failed(&r, &["wrong QoS — the module sent QoS 1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_cadence_fails_the_idle_cadence_scenario() {
    let r = run_with_fault(
        "skip-cadence",
        "defaults: { idle: 600,",
        "defaults: { idle: 900,",
        "cadence.feature",
        "@V3-CAD-2",
    )
    .await;
    assert_all_failed(
        &r,
        &[
            "publishes should be 600 s apart",
            "the cadence was missed",
            "expected 3 publish(es)",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_not_as_required_fails_the_will_scenarios() {
    let r = run_with_fault(
        "no-will",
        r#"will: { payload: "no", qos: 0, retain: true }"#,
        r#"will: { payload: "bye", qos: 0, retain: false }"#,
        "session.feature",
        "@V3-SES-3 or @V3-SES-5",
    )
    .await;
    assert_all_failed(&r, &["will differs", "no will:"]);
}
