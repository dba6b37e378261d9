//! From a recording to a regression test.
//!
//! A recording directory holds a CAN log (`can.crtd`, or any `can.*`), the capture of what the
//! module published while that log played (`capture.jsonl`), and `recording.yaml` naming the
//! vehicle, profile, vehicle id and user (see [`Recording`]). [`scaffold`] writes:
//!
//! - `scenarios/NAME/can.<ext>`: the log (copied byte for byte);
//! - `scenarios/NAME/expected.yaml`: the [`ExpectedTimeline`]: module publishes grouped by virtual
//!   second (cadence points), volatile metrics left out and listed under `ignore:`, and the
//!   publishes the module received (client heartbeats, commands) and the broker outages, to
//!   replay;
//! - `features/regressions/NAME.feature`: two steps,
//!   `When the recording "scenarios/NAME/expected.yaml" is replayed` (module set up from the
//!   file: vehicle, profile, vehicle id, user, params; the log fed from module time
//!   `lead_in_secs`, the client publishes delivered at their times, the broker down during each
//!   outage) and
//!   `Then the published timeline matches "scenarios/NAME/expected.yaml"` ([`check_timeline`]).
//!
//! [`replay_expected`] runs the same replay in-process (the [`crate::simulate`] pipeline).

mod check;
mod expected;
mod recording;

pub use check::{check_timeline, Found, Mismatch, TimelineMismatch};
pub use expected::{
    is_ignored, ClientPublish, ExpectedError, ExpectedPoint, ExpectedTimeline, Outage,
    DEFAULT_IGNORE,
};
pub use recording::{Recording, RecordingOverrides};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ovms_firmware::profile::Profile;
use ovms_hil_net::capture::{read_capture, CaptureError, CaptureRecord, Source};

use crate::report::infer_prefix;
use crate::simulate::{simulate_capture, SimError, SimOptions, Stimulus};
use crate::timeline::{
    cadence_points, has_tap, is_module_publish, payload_text, record_time, wall_origin,
};
use crate::topics::{TopicClassifier, TopicKind, TopicNames};

/// Options of [`scaffold`].
#[derive(Clone, Debug)]
pub struct ScaffoldOptions {
    /// Allowed distance in virtual seconds between expected and actual publishes.
    pub tolerance_secs: u64,
    /// Metrics not compared (exact, or prefix with `*`).
    pub ignore: Vec<String>,
    /// Overwrite an existing scenario.
    pub force: bool,
    /// Values that replace or complete `recording.yaml`.
    pub overrides: RecordingOverrides,
}

impl Default for ScaffoldOptions {
    fn default() -> Self {
        ScaffoldOptions {
            tolerance_secs: 2,
            ignore: DEFAULT_IGNORE.iter().map(|s| s.to_string()).collect(),
            force: false,
            overrides: RecordingOverrides::default(),
        }
    }
}

/// What [`scaffold`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaffoldReport {
    /// `scenarios/NAME/`.
    pub scenario_dir: PathBuf,
    /// The copied log.
    pub log: PathBuf,
    /// `expected.yaml`.
    pub expected: PathBuf,
    /// The feature file.
    pub feature: PathBuf,
    /// Cadence points written.
    pub points: usize,
    /// Expected publishes written.
    pub publishes: usize,
    /// Module publishes left out as volatile.
    pub ignored: usize,
    /// Client publishes to replay.
    pub client_publishes: usize,
    /// Things worth a look (prefix mismatch, no virtual time, ...).
    pub warnings: Vec<String>,
}

/// Why scaffolding failed.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The scenario name is not a plain slug.
    #[error("invalid scenario name `{0}`: use letters, digits, `-` and `_`")]
    BadName(String),
    /// `recording.yaml` is bad or incomplete.
    #[error(transparent)]
    Recording(#[from] recording::RecordingError),
    /// The capture is unreadable.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The profile could not be loaded.
    #[error("{0}")]
    Profile(String),
    /// The capture holds no module publish.
    #[error("{}: no module publish in the capture", .0.display())]
    EmptyCapture(PathBuf),
    /// The target exists (use `force`).
    #[error("{} exists (use --force to overwrite)", .0.display())]
    Exists(PathBuf),
    /// Writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ScaffoldError + '_ {
    move |source| ScaffoldError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `name` is a plain slug (no path separators, no dots).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Builds the expected timeline of a capture (no files touched).
pub fn expected_from_capture(
    capture: &[CaptureRecord],
    rec: &Recording,
    profile: &Profile,
    log_name: &str,
    opts: &ScaffoldOptions,
    warnings: &mut Vec<String>,
) -> (ExpectedTimeline, usize) {
    let configured = rec
        .topic_prefix
        .clone()
        .unwrap_or_else(|| profile.default_prefix(&rec.user, &rec.vehicle_id));
    let prefix = match infer_prefix(capture, profile) {
        Some(p) if p != configured => {
            warnings.push(format!(
                "the capture uses prefix `{p}`, recording.yaml implies `{configured}`: using the capture's"
            ));
            p
        }
        Some(p) => p,
        None => configured,
    };
    if capture.iter().any(|r| r.t.is_none()) {
        warnings.push(
            "some records have no virtual time: their wall time since the first record is used"
                .into(),
        );
    }
    let classifier = TopicClassifier::new(profile, &prefix, &TopicNames::default());
    let is_client = |t: &str| matches!(classifier.classify(t), TopicKind::ClientActive { .. });
    let tap = has_tap(capture);
    let wall0 = wall_origin(capture);
    let module: Vec<&CaptureRecord> = capture
        .iter()
        .filter(|r| is_module_publish(r, tap, &is_client))
        .collect();
    let mut ignored = 0;
    let mut points = Vec::new();
    for p in cadence_points(module.iter().copied(), wall0) {
        let mut publishes = BTreeMap::new();
        for (topic, payloads) in p.publishes {
            let Some(rel) = topic.strip_prefix(prefix.as_str()) else {
                warnings.push(format!("topic `{topic}` is outside the prefix: left out"));
                continue;
            };
            let name = classifier.metric_name(&topic);
            if name.as_deref().is_some_and(|n| is_ignored(&opts.ignore, n)) {
                ignored += payloads.len();
                continue;
            }
            if let Some(last) = payloads.last() {
                publishes.insert(rel.to_string(), last.clone());
            }
        }
        if !publishes.is_empty() && p.second >= 0 {
            points.push(ExpectedPoint {
                t: p.second as u64,
                publishes,
            });
        }
    }
    let incoming = capture.iter().filter(|r| {
        crate::timeline::is_publish(r)
            && match r.src {
                Source::Tap => r.dir.as_deref() == Some("to_client"),
                Source::Observer => !tap && is_client(r.topic.as_deref().unwrap_or("")),
            }
    });
    let client_publishes = incoming
        .filter_map(|r| {
            let rel = r.topic.as_deref()?.strip_prefix(prefix.as_str())?;
            Some(ClientPublish {
                t: record_time(r, wall0),
                topic: rel.to_string(),
                payload: payload_text(r),
            })
        })
        .collect();
    let connected_at = capture
        .iter()
        .filter(|r| {
            r.topic.as_deref() == Some(classifier.connected_topic())
                && r.payload.as_deref() == Some("yes")
        })
        .map(|r| record_time(r, wall0))
        .next();
    let broker_outages = outages(capture, wall0);
    let lead_in_secs = rec
        .lead_in_secs
        .unwrap_or_else(|| connected_at.map(|t| t.max(0.0).floor() as u64).unwrap_or(0));
    (
        ExpectedTimeline {
            vehicle: rec.vehicle.clone(),
            profile: rec.profile.clone(),
            vehicle_id: rec.vehicle_id.clone(),
            user: rec.user.clone(),
            prefix,
            log: log_name.to_string(),
            lead_in_secs,
            params: rec.params.clone(),
            tolerance_secs: opts.tolerance_secs,
            ignore: opts.ignore.clone(),
            client_publishes,
            broker_outages,
            points,
        },
        ignored,
    )
}

/// Broker outages of a capture: from a tap `closed` record to the next accepted `connect` (a
/// tap `connect` record without a `result` of `connect failed`).
fn outages(capture: &[CaptureRecord], wall0: f64) -> Vec<Outage> {
    let mut out = Vec::new();
    let mut down: Option<u64> = None;
    for r in capture.iter().filter(|r| r.src == Source::Tap) {
        let t = record_time(r, wall0).max(0.0).floor() as u64;
        match r.kind.as_deref() {
            Some("closed") if down.is_none() => down = Some(t),
            Some("connect") => {
                let failed =
                    r.extra.get("result").and_then(|v| v.as_str()) == Some("connect failed");
                if let (Some(from), false) = (down, failed) {
                    out.push(Outage { from, to: t });
                    down = None;
                }
            }
            _ => {}
        }
    }
    out
}

/// Writes `scenarios/NAME/` and `features/regressions/NAME.feature` under `repo_root` from the
/// recording in `recording_dir`.
pub fn scaffold(
    recording_dir: &Path,
    name: &str,
    repo_root: &Path,
    opts: &ScaffoldOptions,
) -> Result<ScaffoldReport, ScaffoldError> {
    if !valid_name(name) {
        return Err(ScaffoldError::BadName(name.to_string()));
    }
    let rec = Recording::load(recording_dir, &opts.overrides)?;
    let profile = Profile::by_name_or_path(&rec.profile)
        .map_err(|e| ScaffoldError::Profile(e.to_string()))?;
    let capture_path = rec.capture_path(recording_dir);
    let capture = read_capture(&capture_path)?;
    let log_src = rec.log_path(recording_dir)?;
    let ext = log_src
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("log");
    let log_name = format!("can.{ext}");

    let scenario_dir = repo_root.join("scenarios").join(name);
    let feature = repo_root
        .join("features/regressions")
        .join(format!("{name}.feature"));
    for p in [&scenario_dir, &feature] {
        if p.exists() && !opts.force {
            return Err(ScaffoldError::Exists(p.clone()));
        }
    }
    let mut warnings = Vec::new();
    let (expected, ignored) =
        expected_from_capture(&capture, &rec, &profile, &log_name, opts, &mut warnings);
    if expected.points.is_empty() {
        return Err(ScaffoldError::EmptyCapture(capture_path));
    }

    std::fs::create_dir_all(&scenario_dir).map_err(io(&scenario_dir))?;
    let log = scenario_dir.join(&log_name);
    std::fs::copy(&log_src, &log).map_err(io(&log))?;
    let expected_path = scenario_dir.join("expected.yaml");
    let header = format!(
        "Expected published timeline of regression `{name}`, generated by `ovms-hil scaffold`\n\
         from {}. For every point, each topic (relative to `prefix`) must be published\n\
         with that payload at t ± tolerance_secs (virtual seconds since module boot); metrics\n\
         under `ignore` are not compared. `client_publishes` are replayed into the module.",
        recording_dir.display()
    );
    std::fs::write(&expected_path, expected.to_yaml(&header)).map_err(io(&expected_path))?;
    let fdir = feature.parent().expect("has a parent");
    std::fs::create_dir_all(fdir).map_err(io(fdir))?;
    std::fs::write(&feature, feature_text(name, &expected, recording_dir)).map_err(io(&feature))?;

    Ok(ScaffoldReport {
        scenario_dir,
        log,
        expected: expected_path,
        feature,
        points: expected.points.len(),
        publishes: expected.points.iter().map(|p| p.publishes.len()).sum(),
        ignored,
        client_publishes: expected.client_publishes.len(),
        warnings,
    })
}

/// The regression feature text.
pub fn feature_text(name: &str, e: &ExpectedTimeline, recording_dir: &Path) -> String {
    let profile_tag = if Profile::builtin(&e.profile).is_some() {
        format!(" @profile:{}", e.profile)
    } else {
        String::new()
    };
    format!(
        "# Generated by `ovms-hil scaffold` from {rec}.\n\
         # The expected timeline is what the module published in the recording; list metrics that\n\
         # may legitimately differ under `ignore:` in scenarios/{name}/expected.yaml.\n\
         @regression{profile_tag}\n\
         Feature: Regression {name}\n\
         \x20 The CAN log recorded for {name} ({vehicle}, profile {profile}), replayed through the\n\
         \x20 emulated module on the virtual clock, makes the module publish the same values at the\n\
         \x20 same cadence points as in the recording ({points} points, tolerance {tol} s).\n\
         \n\
         \x20 Scenario: {name} replays to the recorded timeline\n\
         \x20   When the recording \"scenarios/{name}/expected.yaml\" is replayed\n\
         \x20   Then the published timeline matches \"scenarios/{name}/expected.yaml\"\n",
        rec = recording_dir.display(),
        vehicle = e.vehicle,
        profile = e.profile,
        points = e.points.len(),
        tol = e.tolerance_secs,
    )
}

/// Why an in-process replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// `expected.yaml`.
    #[error(transparent)]
    Expected(#[from] ExpectedError),
    /// Profile.
    #[error("{0}")]
    Profile(String),
    /// Vehicle.
    #[error(transparent)]
    Vehicle(#[from] ovms_vehicles::VehicleError),
    /// The replay itself.
    #[error(transparent)]
    Sim(#[from] SimError),
}

/// Replays the recording described by `expected.yaml` in-process (virtual clock, fake broker)
/// and returns the capture: the log (relative to the file) from `lead_in_secs`, with the
/// module configured as recorded and the client publishes delivered at their times.
/// `vehicles_dir` resolves vehicle names (normally `scenarios/vehicles`).
pub fn replay_expected(
    expected_path: &Path,
    vehicles_dir: &Path,
) -> Result<(ExpectedTimeline, Vec<CaptureRecord>), ReplayError> {
    let e = ExpectedTimeline::load(expected_path)?;
    let profile =
        Profile::by_name_or_path(&e.profile).map_err(|x| ReplayError::Profile(x.to_string()))?;
    let vehicle = ovms_vehicles::load_vehicle(&e.vehicle, vehicles_dir)?;
    let dir = expected_path.parent().unwrap_or(Path::new("."));
    let opts = SimOptions {
        vehicle_id: e.vehicle_id.clone(),
        username: e.user.clone(),
        params: e.params.clone(),
        lead_in_secs: e.lead_in_secs,
        tail_secs: e.tolerance_secs,
        stimuli: e
            .client_publishes
            .iter()
            .map(|c| Stimulus {
                t: c.t,
                topic: format!("{}{}", e.prefix, c.topic),
                payload: c.payload.clone().into_bytes(),
            })
            .collect(),
        outages: e.broker_outages.iter().map(|o| (o.from, o.to)).collect(),
        ..Default::default()
    };
    let cap = simulate_capture(&dir.join(&e.log), vehicle, &profile, &opts)?;
    Ok((e, cap))
}

#[cfg(test)]
mod tests;
