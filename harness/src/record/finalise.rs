//! Finalising the capture of a wall-clock recording.
//!
//! While recording, the tap and the observer write every record as it happens (one unbuffered
//! line each), stamped with the wall clock (`wall`, Unix seconds) and an approximate module time
//! (`t`, updated by a ticker). [`finalise_wall_capture`] then rewrites the file so that:
//!
//! - `t = wall - zero` exactly: the same time base as the CRTD frames, which are stamped from the
//!   same clock;
//! - the harness's own traffic is left out: the barrier sentinels and the bench command channel
//!   (`config get/set` of the intervals and their responses, which the recording's
//!   `recording.yaml` params stand for);
//! - records after the end of the recording are left out (the module keeps running and the
//!   intervals are restored afterwards).
//!
//! The file is rewritten through a temporary file and renamed, so an interruption leaves the
//! raw capture; a line being written while the file is read (the tap still runs) is ignored: it
//! is later than the end.

use std::path::Path;

use ovms_hil_net::capture::{CaptureRecord, CaptureWriter, Source};
use ovms_hil_net::topic::topic_matches;

use super::is_barrier;

/// What [`finalise_wall_capture`] kept and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Finalised {
    /// Records written.
    pub kept: usize,
    /// Barrier sentinels and command-channel records left out.
    pub harness: usize,
    /// Records after the end left out.
    pub after_end: usize,
    /// Publishes the module sent (tap, towards the broker) among the kept records.
    pub module_publishes: usize,
}

/// Rewrite the capture at `path`: see the module documentation. `zero` and `end` are Unix
/// seconds; `harness_filters` are MQTT topic filters of the harness's own traffic.
pub fn finalise_wall_capture(
    path: &Path,
    zero: f64,
    end: f64,
    harness_filters: &[String],
) -> Result<Finalised, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Only complete lines: a line without its newline is still being written (after `end`).
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    let mut records = Vec::new();
    for (i, line) in complete.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: CaptureRecord = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}:{}: {e}", path.display(), i + 1, e.column()))?;
        records.push(r);
    }
    let (records, report) = finalise_records(records, zero, end, harness_filters);
    let tmp = path.with_extension("jsonl.tmp");
    {
        let w = CaptureWriter::create(&tmp).map_err(|e| e.to_string())?;
        for r in &records {
            w.write(r).map_err(|e| e.to_string())?;
        }
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(report)
}

/// In-memory part of [`finalise_wall_capture`].
pub fn finalise_records(
    records: Vec<CaptureRecord>,
    zero: f64,
    end: f64,
    harness_filters: &[String],
) -> (Vec<CaptureRecord>, Finalised) {
    let mut report = Finalised::default();
    let mut out = Vec::with_capacity(records.len());
    for mut r in records {
        let harness = is_barrier(&r)
            || r.topic
                .as_deref()
                .is_some_and(|t| harness_filters.iter().any(|f| topic_matches(f, t)));
        if harness {
            report.harness += 1;
            continue;
        }
        if r.wall > end {
            report.after_end += 1;
            continue;
        }
        // Microsecond resolution, like the CRTD frames.
        r.t = Some(((r.wall - zero) * 1e6).round() / 1e6);
        if r.src == Source::Tap
            && r.dir.as_deref() != Some("to_client")
            && matches!(r.kind.as_deref(), None | Some("publish"))
            && r.topic.is_some()
        {
            report.module_publishes += 1;
        }
        out.push(r);
    }
    report.kept = out.len();
    (out, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(wall: f64, topic: &str) -> CaptureRecord {
        let mut r = CaptureRecord::new(Source::Tap, Some(0.0), wall);
        r.kind = Some("publish".into());
        r.topic = Some(topic.into());
        r
    }

    #[test]
    fn times_are_wall_since_zero_and_harness_traffic_is_left_out() {
        let filters = vec![
            "ovms/u/V/client/ovms-hil/command/+".to_string(),
            "ovms/u/V/client/ovms-hil/response/+".to_string(),
        ];
        let recs = vec![
            rec(1000.25, "ovms/u/V/metric/s/v3/connected"),
            rec(1000.5, "ovms/u/V/client/ovms-hil/command/1"),
            rec(1000.6, "ovms/u/V/client/ovms-hil/response/1"),
            rec(1000.7, "ovms-hil/barrier/1-1"),
            rec(1003.1234567, "ovms/u/V/metric/v/b/soc"),
            rec(1009.0, "ovms/u/V/metric/v/b/soc"),
        ];
        let (out, rep) = finalise_records(recs, 1000.0, 1005.0, &filters);
        let got: Vec<(f64, &str)> = out
            .iter()
            .map(|r| (r.t.unwrap(), r.topic.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0.25, "ovms/u/V/metric/s/v3/connected"),
                (3.123457, "ovms/u/V/metric/v/b/soc")
            ]
        );
        assert_eq!(
            rep,
            Finalised {
                kept: 2,
                harness: 3,
                after_end: 1,
                module_publishes: 2
            }
        );
    }

    #[test]
    fn a_line_being_written_is_ignored_and_the_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("capture.jsonl");
        let mut text = serde_json::to_string(&rec(10.5, "a")).unwrap();
        text.push('\n');
        text.push_str("{\"src\":\"tap\",\"wa");
        std::fs::write(&p, text).unwrap();
        let rep = finalise_wall_capture(&p, 10.0, 11.0, &[]).unwrap();
        assert_eq!(rep.kept, 1);
        let back = ovms_hil_net::capture::read_capture(&p).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].t, Some(0.5));
    }
}
