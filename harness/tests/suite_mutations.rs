//! Each fault and security scenario of the conformance suite fails when the protection it checks
//! is removed: the emulated module runs a mutated copy of the `draft` profile (the rig's
//! `module.firmware_profile`) or skips TLS verification (`module.tls_verify: false`), or the
//! private broker runs a mutated ACL or lets anonymous clients in (`private_broker:`); the
//! assertions keep the real profile, and the runner (the same library API as `ovms-hil run`) must
//! report every selected scenario as failed.

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

/// What is removed from the emulated module or the private broker.
#[derive(Default)]
struct Mutation {
    /// The module runs this profile file instead of the draft.
    profile: Option<PathBuf>,
    /// More lines for the rig's `module:` section (two-space indented).
    module: &'static str,
    /// More top-level rig sections.
    top: &'static str,
}

/// Run `feature` scenarios selected by `tags` for the draft profile, with `m` applied.
async fn run(feature: &str, tags: &str, m: Mutation) -> RunResults {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("rig.yaml");
    let fw = m
        .profile
        .map(|p| format!("  firmware_profile: {}\n", p.display()))
        .unwrap_or_default();
    std::fs::write(
        &rig,
        format!(
            "kind: emulated\nname: mutated emulator\nmodule:\n  vehicle_id: MUT\n  \
             mqtt_user: hil\n{fw}{}timing:\n  settle_ms: 2000\n{}",
            m.module, m.top
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
    assert_all_passed(
        &run("faults.feature", sel, Mutation::default()).await,
        "control faults",
    );
    assert_all_passed(
        &run("faults-private.feature", "@fault", Mutation::default()).await,
        "control private faults",
    );
    assert_all_passed(
        &run(
            "security.feature",
            "@V3-SEC-2 or @protects-tls-verify or @protects-anonymous or @protects-password",
            Mutation::default(),
        )
        .await,
        "control security",
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
        Mutation {
            profile: Some(no_will.clone()),
            ..Mutation::default()
        },
    )
    .await;
    assert_all_failed(&r, "will removed (power and network cut)");
    let r = run(
        "faults-private.feature",
        "@V3-SES-5",
        Mutation {
            profile: Some(no_will),
            ..Mutation::default()
        },
    )
    .await;
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
        Mutation {
            profile: Some(unretained),
            ..Mutation::default()
        },
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
    let r = run(
        "faults-private.feature",
        "@V3-SES-4",
        Mutation {
            profile: Some(slow),
            ..Mutation::default()
        },
    )
    .await;
    assert_all_failed(&r, "reconnect removed");

    // A module that gives up after a failed first connect (retries an hour later).
    let no_retry = mutated_profile(
        dir.path(),
        "no-retry",
        "connect_failed: 20",
        "connect_failed: 3600",
    );
    let r = run(
        "faults-private.feature",
        "@protects-retry",
        Mutation {
            profile: Some(no_retry),
            ..Mutation::default()
        },
    )
    .await;
    assert_all_failed(&r, "retry after a failed connect removed");

    // A module that never expires silent clients.
    let immortal = mutated_profile(
        dir.path(),
        "no-expiry",
        "expiry_secs: 120",
        "expiry_secs: 100000",
    );
    let r = run(
        "faults.feature",
        "@V3-CLI-4",
        Mutation {
            profile: Some(immortal),
            ..Mutation::default()
        },
    )
    .await;
    assert_all_failed(&r, "client expiry removed");

    // The ACL opened to everyone: another user reads the module's retained metrics.
    let acl_open = Mutation {
        top: "private_broker:\n  acl_pattern: \"#\"\n",
        ..Mutation::default()
    };
    let r = run("security.feature", "@V3-SEC-2", acl_open).await;
    assert_all_failed(&r, "ACL opened");

    // The module accepts any broker certificate: the certificate from another CA is taken.
    let no_verify = Mutation {
        module: "  tls_verify: false\n",
        ..Mutation::default()
    };
    let r = run("security.feature", "@protects-tls-verify", no_verify).await;
    assert_all_failed(&r, "TLS verification off");

    // The password listener lets anonymous clients in.
    let anonymous = Mutation {
        top: "private_broker:\n  allow_anonymous: true\n",
        ..Mutation::default()
    };
    let r = run("security.feature", "@protects-anonymous", anonymous).await;
    assert_all_failed(&r, "anonymous allowed");

    // The password listener takes any password.
    let any_password = Mutation {
        top: "private_broker:\n  check_passwords: false\n",
        ..Mutation::default()
    };
    let r = run("security.feature", "@protects-password", any_password).await;
    assert_all_failed(&r, "passwords unchecked");
}
