//! Each fault and security scenario of the conformance suite fails when the protection it checks
//! is removed: the emulated module runs a mutated copy of the `draft` profile (the rig's
//! `module.firmware_profile`) or the private broker runs a mutated ACL, the assertions keep the
//! real profile, and the runner (the same library API as `ovms-hil run`) must report every
//! selected scenario as failed.

use std::path::{Path, PathBuf};

use ovms_firmware::profile::Profile;
use ovms_hil::config::RunConfig;
use ovms_hil::report::{RunResults, Status};

/// The draft profile with `from` replaced by `to` (the replacement must apply).
fn mutated_profile(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let src = Profile::builtin_source("draft").expect("draft profile ships");
    assert!(src.contains(from), "draft profile has no {from:?}");
    let text = src
        .replacen(from, to, 1)
        .replacen("name: draft", &format!("name: draft-{name}"), 1);
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    Profile::from_file(&p).unwrap();
    p
}

/// Run `feature` scenarios selected by `tags` for the draft profile, the module running
/// `profile` (or the draft itself when `None`).
async fn run(feature: &str, tags: &str, profile: Option<PathBuf>) -> RunResults {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("rig.yaml");
    let fw = profile
        .map(|p| format!("  firmware_profile: {}\n", p.display()))
        .unwrap_or_default();
    std::fs::write(
        &rig,
        format!(
            "kind: emulated\nname: mutated emulator\nmodule:\n  vehicle_id: MUT\n  \
             mqtt_user: hil\n{fw}timing:\n  settle_ms: 2000\n"
        ),
    )
    .unwrap();
    let root = RunConfig::repo_root();
    let mut cfg = RunConfig::new(&root);
    cfg.paths = vec![root.join("features").join(feature)];
    cfg.profiles = vec!["draft".into()];
    cfg.rig = rig;
    cfg.tags = Some(tags.into());
    ovms_hil::runner::run(&cfg).await.expect("the run starts")
}

fn assert_all_failed(r: &RunResults, what: &str) {
    assert!(!r.scenarios.is_empty(), "{what}: no scenario was selected");
    for sc in &r.scenarios {
        let msg = sc
            .attempts
            .last()
            .and_then(|a| a.message.clone())
            .unwrap_or_default();
        assert_eq!(
            sc.status(),
            Status::Failed,
            "{what}: `{}` passed although the protection was removed",
            sc.name
        );
        println!("[{what}] {} failed as it must:\n    {msg}", sc.name);
    }
}

fn assert_all_passed(r: &RunResults, what: &str) {
    assert!(!r.scenarios.is_empty(), "{what}: no scenario was selected");
    for sc in &r.scenarios {
        assert_eq!(
            sc.status(),
            Status::Passed,
            "{what}: `{}` fails without any mutation: {:?}",
            sc.name,
            sc.attempts.last().and_then(|a| a.message.clone())
        );
    }
}

const WILL: &str = r#"will: { payload: "no", qos: 0, retain: true }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_pass_unmutated_and_fail_mutated() {
    let dir = tempfile::tempdir().unwrap();

    // Control: the selected scenarios pass with the real profile and broker.
    let sel = "@fault and not @V3-CLI-5";
    assert_all_passed(&run("faults.feature", sel, None).await, "control faults");
    assert_all_passed(
        &run("faults-private.feature", "@fault", None).await,
        "control private faults",
    );
    assert_all_passed(
        &run("security.feature", "@V3-SEC-2", None).await,
        "control ACL",
    );

    // A module whose will says something else: no `no` after a power cut, a network cut or a
    // half-open link.
    let no_will = mutated_profile(
        dir.path(),
        "no-will",
        WILL,
        r#"will: { payload: "still-here", qos: 0, retain: true }"#,
    );
    let r = run(
        "faults.feature",
        "@V3-SES-5 and @fault",
        Some(no_will.clone()),
    )
    .await;
    assert_all_failed(&r, "will removed (power and network cut)");
    let r = run("faults-private.feature", "@V3-SES-5", Some(no_will)).await;
    assert_all_failed(&r, "will removed (half-open)");

    // A will that is not retained: a late subscriber finds no retained `no`.
    let unretained = mutated_profile(
        dir.path(),
        "will-not-retained",
        WILL,
        r#"will: { payload: "no", qos: 0, retain: false }"#,
    );
    let r = run(
        "faults.feature",
        "@V3-SES-5 and @SHIP-1.3",
        Some(unretained),
    )
    .await;
    assert_all_failed(&r, "will not retained");

    // A module that never reconnects in time after the broker restarts.
    let slow = mutated_profile(
        dir.path(),
        "no-reconnect",
        "connection_lost: 20",
        "connection_lost: 3600",
    );
    let r = run("faults-private.feature", "@V3-SES-4", Some(slow)).await;
    assert_all_failed(&r, "reconnect removed");

    // A module that never expires silent clients.
    let immortal = mutated_profile(
        dir.path(),
        "no-expiry",
        "expiry_secs: 120",
        "expiry_secs: 100000",
    );
    let r = run("faults.feature", "@V3-CLI-4", Some(immortal)).await;
    assert_all_failed(&r, "client expiry removed");

    // The ACL opened to everyone: another user reads the module's retained metrics.
    std::env::set_var(ovms_hil::steps::suite_private::ACL_PATTERN_ENV, "#");
    let r = run("security.feature", "@V3-SEC-2", None).await;
    std::env::remove_var(ovms_hil::steps::suite_private::ACL_PATTERN_ENV);
    assert_all_failed(&r, "ACL opened");
}
