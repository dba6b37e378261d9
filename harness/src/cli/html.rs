//! `ovms-hil run --html FILE`: one report page (ovms-hil-fieldbug's renderer) from the captures
//! of the run, with every failing assertion marked on the timeline.
//!
//! The runner writes one capture per scenario (`NNN-<profile>-<scenario slug>.jsonl`) into the
//! capture directory; the page draws all of them on the virtual time axis. A failure message line
//! that names a virtual time (`at t=181 s`, as the timeline and cadence assertions do) becomes a
//! marker at that time (on its topic when the line ends in `[topic …]`); other failures are
//! marked at the last time their scenario's capture reached.

use std::path::{Path, PathBuf};

use ovms_firmware::profile::Profile;
use ovms_hil_fieldbug::report::{render_report, Marker, ReportOptions};
use ovms_hil_net::capture::{read_capture, CaptureRecord};
use regex::Regex;

use crate::report::model::Status;
use crate::report::RunResults;

/// One scenario's capture file and records.
struct ScenarioCapture {
    file: String,
    records: Vec<CaptureRecord>,
}

/// Reads every `*.jsonl` capture in `dir`, sorted by name.
fn read_dir_captures(dir: &Path) -> Result<Vec<ScenarioCapture>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("jsonl"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let mut records = read_capture(&p).map_err(|e| e.to_string())?;
            records.retain(|r| !crate::record::is_barrier(r));
            Ok(ScenarioCapture {
                file: p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string(),
                records,
            })
        })
        .collect()
}

/// The slug the world names capture files with.
pub fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').chars().take(60).collect()
}

/// Markers for one failure message: one per line naming `at t=N s`, else one at `fallback_t`.
pub fn markers_for(scenario: &str, message: &str, fallback_t: f64) -> Vec<Marker> {
    let time = Regex::new(r"at t=(\d+(?:\.\d+)?) s").expect("constant regex");
    let topic = Regex::new(r"\[topic ([^\]\s]+)\]\s*$").expect("constant regex");
    let mut out: Vec<Marker> = message
        .lines()
        .filter_map(|line| {
            let t: f64 = time.captures(line)?.get(1)?.as_str().parse().ok()?;
            let on = topic.captures(line).and_then(|c| c.get(1));
            let text = match on {
                Some(m) => &line[..m.start() - "[topic ".len()],
                None => line,
            };
            Some(Marker {
                t,
                topic: on.map(|m| m.as_str().to_string()),
                message: format!("{scenario}: {}", text.trim()),
            })
        })
        .collect();
    if out.is_empty() {
        let first: Vec<&str> = message.lines().take(3).collect();
        out.push(Marker {
            t: fallback_t,
            topic: None,
            message: format!("{scenario}: {}", first.join(" / ")),
        });
    }
    out
}

/// Renders the page for `results` from the captures in `capture_dir` into `out`; returns the
/// number of markers drawn.
pub fn write_run_report(
    results: &RunResults,
    capture_dir: &Path,
    profiles: &[String],
    out: &Path,
) -> Result<usize, String> {
    let captures = read_dir_captures(capture_dir)?;
    let mut failures = Vec::new();
    for s in results
        .scenarios
        .iter()
        .filter(|s| s.status() != Status::Passed)
    {
        let suffix = format!("-{}-{}.jsonl", s.profile, slug(&s.name));
        let last_t = captures
            .iter()
            .filter(|c| c.file.ends_with(&suffix))
            .flat_map(|c| c.records.iter().filter_map(|r| r.t))
            .fold(0.0, f64::max);
        let message = s
            .attempts
            .last()
            .and_then(|a| a.message.clone())
            .unwrap_or_else(|| "did not pass".into());
        let name = format!("{} [{}]", s.location(), s.profile);
        failures.extend(markers_for(&name, &message, last_t));
    }
    let records: Vec<CaptureRecord> = captures.into_iter().flat_map(|c| c.records).collect();
    let profile = match profiles {
        [one] => Profile::by_name_or_path(one).ok(),
        _ => None,
    };
    let n = failures.len();
    let opts = ReportOptions {
        title: format!(
            "ovms-hil run: {} passed, {} not passed",
            results.count(Status::Passed),
            results.scenarios.len() - results.count(Status::Passed)
        ),
        profile,
        failures,
        ..Default::default()
    };
    std::fs::write(out, render_report(&records, &opts))
        .map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_lines_become_markers_at_their_times() {
        let msg = "Step failed: features/x.feature:7\nx/expected.yaml: published timeline differs\n  \
                   v.b.soc: expected \"95\" at t=181 s, published at t=151 s [topic ovms/u/v/metric/v/b/soc]\n  \
                   v.b.temp: expected \"20\" at t=5.5 s, not published";
        let m = markers_for("s", msg, 99.0);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].t, 181.0);
        assert_eq!(m[0].topic.as_deref(), Some("ovms/u/v/metric/v/b/soc"));
        assert_eq!(
            m[0].message,
            "s: v.b.soc: expected \"95\" at t=181 s, published at t=151 s"
        );
        assert_eq!((m[1].t, m[1].topic.as_deref()), (5.5, None));
        let m = markers_for("s", "no module\nmore", 42.0);
        assert_eq!((m.len(), m[0].t), (1, 42.0));
        assert_eq!(m[0].message, "s: no module / more");
    }

    #[test]
    fn slug_matches_capture_names() {
        assert_eq!(
            slug("roadster-topoff replays to the recorded timeline"),
            "roadster-topoff-replays-to-the-recorded-timeline"
        );
    }
}
