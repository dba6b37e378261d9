//! Renders the example report of ci/report-screenshot.sh from the real Roadster drive log.
//!
//! `cargo run -p ovms-hil-fieldbug --example report_example -- OUT_DIR`
//!
//! The recording: the drive log through the Tesla Roadster decoder and a module on the `draft`
//! profile (virtual clock, in-memory broker), two app clients, a broker outage from 480 s to
//! 540 s. The regression run: the same log with `updatetime.connected` = 30, checked against the
//! recording's expected timeline; its misses are the red markers. Writes `OUT_DIR/report-example.html`
//! and the two captures next to it.

use std::path::{Path, PathBuf};

use ovms_firmware::profile::Profile;
use ovms_hil_fieldbug::report::{render_report, ReportOptions};
use ovms_hil_fieldbug::scaffold::{
    check_timeline, expected_from_capture, Recording, ScaffoldOptions,
};
use ovms_hil_fieldbug::simulate::{simulate_capture, SimClient, SimOptions};
use ovms_hil_net::capture::{CaptureRecord, CaptureWriter};

fn write(path: &Path, recs: &[CaptureRecord]) -> Result<(), Box<dyn std::error::Error>> {
    let w = CaptureWriter::create(path)?;
    for r in recs {
        w.write(r)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "ci/artifacts".into()),
    );
    std::fs::create_dir_all(&out)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let log = root.join("scenarios/logs/tesla-roadster_20120218.drive-a.csv");
    let vehicles = root.join("scenarios/vehicles");
    let profile = Profile::builtin("draft").ok_or("no draft profile")?;
    let clients = vec![
        SimClient {
            id: "app".into(),
            from_secs: 60,
            until_secs: Some(900),
            every_secs: 60,
        },
        SimClient {
            id: "web".into(),
            from_secs: 200,
            until_secs: Some(420),
            every_secs: 50,
        },
    ];
    let recorded_opts = SimOptions {
        clients: clients.clone(),
        outages: vec![(480, 540)],
        tail_secs: 30,
        ..Default::default()
    };
    let v = ovms_vehicles::load_vehicle("tesla-roadster", &vehicles)?;
    let recorded = simulate_capture(&log, v, &profile, &recorded_opts)?;
    write(&out.join("report-example.recorded.jsonl"), &recorded)?;

    let rec = Recording {
        vehicle: "tesla-roadster".into(),
        profile: "draft".into(),
        vehicle_id: "anon".into(),
        user: "anon".into(),
        ..Default::default()
    };
    let mut warnings = Vec::new();
    let (expected, _) = expected_from_capture(
        &recorded,
        &rec,
        &profile,
        "can.csv",
        &ScaffoldOptions::default(),
        &mut warnings,
    );

    let mut run_opts = recorded_opts.clone();
    run_opts
        .params
        .insert("updatetime.connected".into(), "30".into());
    let v = ovms_vehicles::load_vehicle("tesla-roadster", &vehicles)?;
    let actual = simulate_capture(&log, v, &profile, &run_opts)?;
    write(&out.join("report-example.jsonl"), &actual)?;
    let failures = match check_timeline(&expected, &actual) {
        Ok(()) => Vec::new(),
        Err(e) => {
            eprintln!("{e}");
            e.markers().into_iter().take(3).collect()
        }
    };
    let html = render_report(
        &actual,
        &ReportOptions {
            title: "Roadster drive-a · draft · updatetime.connected=30 vs the recording".into(),
            profile: Some(profile),
            failures,
            ..Default::default()
        },
    );
    let page = out.join("report-example.html");
    std::fs::write(&page, html)?;
    println!("{}", page.display());
    Ok(())
}
