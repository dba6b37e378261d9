//! The `ovms-hil` binary end to end: `run` with reports, `lint`, input errors with positions,
//! and `replay` of a real CAN log through a real broker.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ovms-hil"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn run_writes_junit_json_and_coverage_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let json = dir.path().join("cucumber.json");
    let caps = dir.path().join("captures");
    let out = bin()
        .current_dir(root())
        .args([
            "run",
            "features/session.feature",
            "--profile",
            "draft",
            "--profile",
            "fw-3.3.006",
        ])
        .arg("--junit")
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg("--capture-dir")
        .arg(&caps)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("mosquitto"),
        "the broker line is missing: {stdout}"
    );
    assert!(stdout.contains("8 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("V3-SES-5"), "coverage table: {stdout}");
    assert!(stdout.contains("uncovered: "), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 8, "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        j.as_array().map(Vec::len),
        Some(2),
        "one JSON feature per profile"
    );
    let captures: Vec<_> = std::fs::read_dir(&caps).unwrap().flatten().collect();
    assert_eq!(captures.len(), 8);
    let text = std::fs::read_to_string(captures[0].path()).unwrap();
    assert!(
        text.lines().any(|l| l.contains("\"src\":\"tap\"")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains("\"src\":\"observer\"")),
        "{text}"
    );
}

#[test]
fn syntax_error_in_a_feature_names_file_line_column_and_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.feature");
    std::fs::write(
        &f,
        "Feature: broken\n  Scenario: s\n    Given a step\n    Whenever nothing\n",
    )
    .unwrap();
    for cmd in ["run", "lint"] {
        let out = bin().current_dir(root()).arg(cmd).arg(&f).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{cmd}: {all}");
        // gherkin reports where its parser gave up (after the bad line): file:line:col.
        let at = all
            .find(&format!("{}:", f.display()))
            .map(|i| &all[i + f.display().to_string().len() + 1..])
            .unwrap_or_else(|| panic!("{cmd}: no position: {all}"));
        let mut parts = at.splitn(3, ':');
        let line: usize = parts.next().unwrap().parse().unwrap();
        let col: usize = parts.next().unwrap().parse().unwrap();
        assert!((4..=5).contains(&line) && col >= 1, "{cmd}: {all}");
        assert!(all.contains("syntax error"), "{cmd}: {all}");
    }
}

#[test]
fn lint_reports_undefined_steps_and_passes_the_core_slice() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.feature");
    std::fs::write(
        &f,
        "Feature: x\n  Scenario: s\n    Given the module is connected to the broker\n    Then the sky is green\n",
    )
    .unwrap();
    let out = bin().arg("lint").arg(&f).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains(&format!("{}:4:", f.display())), "{stdout}");
    assert!(stdout.contains("undefined step"), "{stdout}");

    let out = bin()
        .current_dir(root())
        .args([
            "lint",
            "features/session.feature",
            "features/metrics.feature",
            "features/cadence.feature",
            "features/clients.feature",
            "rigs",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("0 error(s)"), "{stdout}");
}

#[test]
fn bad_rig_file_is_reported_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("rig.yaml");
    std::fs::write(&rig, "kind: emulated\nmodule:\n  vehicle_idd: X\n").unwrap();
    let out = bin()
        .current_dir(root())
        .args(["run", "features/session.feature", "--rig"])
        .arg(&rig)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:", rig.display())),
        "{stderr}"
    );
}

#[test]
fn replay_prints_each_publish_with_module_time_and_writes_the_capture() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("replay.jsonl");
    let started = std::time::Instant::now();
    let out = bin()
        .current_dir(root())
        .args([
            "replay",
            "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv",
            "--vehicle",
            "tesla-roadster",
            "--profile",
            "fw-3.3.006",
            "--capture",
        ])
        .arg(&cap)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // A charging Roadster: the SOC and the charge state go out as retained QoS 0 metrics.
    let soc: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("/metric/v/b/soc "))
        .collect();
    assert!(!soc.is_empty(), "{stdout}");
    assert!(soc[0].contains("q0 r"), "{}", soc[0]);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("/metric/v/c/state  charging")),
        "{stdout}"
    );
    // Module time leads every line ("65.000s ...").
    assert!(
        soc[0]
            .trim_start()
            .split('s')
            .next()
            .unwrap()
            .parse::<f64>()
            .is_ok(),
        "{}",
        soc[0]
    );
    assert!(stderr.contains("replayed 3200 frames"), "{stderr}");
    // About four minutes of log on the virtual clock take well under the log's own duration.
    assert!(started.elapsed().as_secs() < 60);
    let capture = std::fs::read_to_string(&cap).unwrap();
    assert!(capture.lines().count() > 50);
    assert!(capture.contains("/metric/v/b/soc"));
}

#[test]
fn canlog_and_dbc_subcommands_are_wired() {
    let out = bin()
        .current_dir(root())
        .args([
            "canlog",
            "info",
            "scenarios/logs/tesla-roadster_20120218.charge-topoff.csv",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("frames:    3200"), "{stdout}");

    let out = bin()
        .current_dir(root())
        .args([
            "dbc",
            "decode",
            "scenarios/logs/kona-ev-2021_221217-1-pcan-bcan-no-key.gvret.csv",
            "--dbc",
            "scenarios/dbc/kona-ev_pcan.dbc",
            "--jsonl",
            "--lenient",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: serde_json::Value =
        serde_json::from_str(stdout.lines().next().expect("decoded lines")).unwrap();
    assert!(first.get("signals").is_some(), "{first}");
}

#[test]
fn retried_scenarios_keep_every_attempt_in_junit() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("always-fails.feature");
    // No module was started, so the assertion fails on every attempt.
    std::fs::write(
        &f,
        "Feature: retry\n  Scenario: fails every time\n    Then the module publishes metric \"v.b.soc\" = \"80\"\n",
    )
    .unwrap();
    let junit = dir.path().join("junit.xml");
    let out = bin()
        .current_dir(root())
        .arg("run")
        .arg(&f)
        .args(["--profile", "draft", "--retries", "2", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"1\""), "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert_eq!(xml.matches("<rerunFailure").count(), 2, "{xml}");
}
