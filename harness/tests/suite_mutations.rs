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

/// How a protection is removed.
enum Removal {
    /// The module's profile: the draft with `from` replaced by `to`.
    Profile {
        from: &'static str,
        to: &'static str,
    },
    /// Lines for the rig's `module:` section.
    Module(&'static str),
    /// Top-level rig sections.
    Top(&'static str),
}

/// One protection: what removes it, and the scenarios (feature, tag expression) that must fail.
struct Case {
    what: &'static str,
    removal: Removal,
    feature: &'static str,
    tags: &'static str,
}

/// Every fault and security protection the suite checks.
const CASES: &[Case] = &[
    // No `no` after a power cut, a network cut or a half-open link.
    Case {
        what: "will removed (power and network cut)",
        removal: Removal::Profile {
            from: WILL,
            to: r#"will: { payload: "still-here", qos: 0, retain: true }"#,
        },
        feature: "faults.feature",
        tags: "@V3-SES-5 and @fault",
    },
    Case {
        what: "will removed (half-open)",
        removal: Removal::Profile {
            from: WILL,
            to: r#"will: { payload: "still-here", qos: 0, retain: true }"#,
        },
        feature: "faults-private.feature",
        tags: "@V3-SES-5",
    },
    // A late subscriber finds no retained `no`.
    Case {
        what: "will not retained",
        removal: Removal::Profile {
            from: WILL,
            to: r#"will: { payload: "no", qos: 0, retain: false }"#,
        },
        feature: "faults.feature",
        tags: "@V3-SES-5 and @SHIP-1.3",
    },
    // The module does not reconnect in time after the broker restarts.
    Case {
        what: "reconnect removed",
        removal: Removal::Profile {
            from: "connection_lost: 20",
            to: "connection_lost: 3600",
        },
        feature: "faults-private.feature",
        tags: "@V3-SES-4",
    },
    // The module gives up after a failed first connect (retries an hour later).
    Case {
        what: "retry after a failed connect removed",
        removal: Removal::Profile {
            from: "connect_failed: 20",
            to: "connect_failed: 3600",
        },
        feature: "faults-private.feature",
        tags: "@protects-retry",
    },
    // Silent clients never expire.
    Case {
        what: "client expiry removed",
        removal: Removal::Profile {
            from: "expiry_secs: 120",
            to: "expiry_secs: 100000",
        },
        feature: "faults.feature",
        tags: "@V3-CLI-4",
    },
    // Another user reads the module's retained metrics.
    Case {
        what: "ACL opened",
        removal: Removal::Top("private_broker:\n  acl_pattern: \"#\"\n"),
        feature: "security.feature",
        tags: "@V3-SEC-2",
    },
    // The certificate from another CA is taken.
    Case {
        what: "TLS verification off",
        removal: Removal::Module("  tls_verify: false\n"),
        feature: "security.feature",
        tags: "@protects-tls-verify",
    },
    Case {
        what: "anonymous allowed",
        removal: Removal::Top("private_broker:\n  allow_anonymous: true\n"),
        feature: "security.feature",
        tags: "@protects-anonymous",
    },
    Case {
        what: "passwords unchecked",
        removal: Removal::Top("private_broker:\n  check_passwords: false\n"),
        feature: "security.feature",
        tags: "@protects-password",
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_pass_unmutated_and_fail_mutated() {
    let dir = tempfile::tempdir().unwrap();

    // Control: the selected scenarios pass with the real profile and broker.
    assert_all_passed(
        &run("faults.feature", "@fault", Mutation::default()).await,
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

    for (i, case) in CASES.iter().enumerate() {
        let m = match case.removal {
            Removal::Profile { from, to } => Mutation {
                profile: Some(mutated_profile(dir.path(), &format!("m{i}"), from, to)),
                ..Mutation::default()
            },
            Removal::Module(lines) => Mutation {
                module: lines,
                ..Mutation::default()
            },
            Removal::Top(lines) => Mutation {
                top: lines,
                ..Mutation::default()
            },
        };
        let r = run(case.feature, case.tags, m).await;
        assert_all_failed(&r, case.what);
    }
}
