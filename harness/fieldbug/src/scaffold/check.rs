//! [`check_timeline`]: does a capture reproduce an expected timeline?

use std::collections::HashMap;
use std::fmt;

use ovms_firmware::profile::{MessageKind, Profile};
use ovms_hil_net::capture::CaptureRecord;

use super::expected::ExpectedTimeline;
use crate::timeline::{has_tap, is_module_publish, payload_text, record_time, wall_origin};

/// What was found instead of an expected publish.
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    /// The payload went out, but too far from the expected time (nearest publish time given).
    ElsewhereAt(f64),
    /// Within the tolerance the topic carried other payloads (the nearest one given) and the
    /// expected payload never went out.
    OtherPayload {
        /// The payload published nearest to the expected time.
        payload: String,
        /// When.
        t: f64,
    },
    /// The topic carried other payloads, none near the expected time, and never the expected one.
    NotPublishedNear,
    /// Nothing at all was published on the topic.
    NotPublished,
}

/// One expected publish that did not happen.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Metric name when the topic is a metric, else the topic relative to the prefix.
    pub what: String,
    /// The full topic.
    pub topic: String,
    /// The expected payload.
    pub payload: String,
    /// The expected virtual second.
    pub t: u64,
    /// What happened instead.
    pub found: Found,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {:?} at t={} s, ",
            self.what, self.payload, self.t
        )?;
        match &self.found {
            Found::ElsewhereAt(t) => write!(f, "published at t={} s", fmt_secs(*t)),
            Found::OtherPayload { payload, t } => {
                write!(f, "published {payload:?} at t={} s instead", fmt_secs(*t))
            }
            Found::NotPublishedNear => {
                write!(f, "not published (the topic carried other payloads)")
            }
            Found::NotPublished => write!(f, "not published"),
        }
    }
}

fn fmt_secs(t: f64) -> String {
    if (t - t.round()).abs() < 1e-6 {
        format!("{}", t.round() as i64)
    } else {
        format!("{t:.3}")
    }
}

/// The timeline did not match: every missing expected publish, in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineMismatch {
    /// The misses.
    pub mismatches: Vec<Mismatch>,
    /// How many expected publishes were checked.
    pub checked: usize,
}

impl fmt::Display for TimelineMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "published timeline differs: {} of {} expected publishes missing",
            self.mismatches.len(),
            self.checked
        )?;
        for m in self.mismatches.iter().take(25) {
            writeln!(f, "  {m}")?;
        }
        if self.mismatches.len() > 25 {
            writeln!(f, "  ... and {} more", self.mismatches.len() - 25)?;
        }
        Ok(())
    }
}

impl std::error::Error for TimelineMismatch {}

/// Checks that `actual` (a capture of the replay) reproduces `expected`.
///
/// For every cadence point of `expected` and every topic/payload in it whose metric is not
/// ignored, the module must have published that payload on `prefix + topic` at a virtual second
/// `s` (`floor(t)` of the record) with `|s − point.t| ≤ tolerance_secs`. Module publishes are the
/// tap's `to_broker` publishes (or, in captures without a tap, observer publishes that are not
/// client heartbeats). Extra publishes are not an error. The error lists every miss, e.g.
/// `v.b.soc: expected "95" at t=600 s, published at t=660 s` or `... not published`.
pub fn check_timeline(
    expected: &ExpectedTimeline,
    actual: &[CaptureRecord],
) -> Result<(), TimelineMismatch> {
    let profile = Profile::by_name_or_path(&expected.profile).ok();
    let client_topics: Vec<String> = expected
        .client_publishes
        .iter()
        .map(|c| format!("{}{}", expected.prefix, c.topic))
        .collect();
    let is_client = |t: &str| {
        client_topics.iter().any(|c| c == t)
            || profile.as_ref().is_some_and(|p| {
                p.match_topic(MessageKind::ClientActive, &expected.prefix, t)
                    .is_some()
            })
    };
    let tap = has_tap(actual);
    let wall0 = wall_origin(actual);
    // topic → [(time, payload)]
    let mut by_topic: HashMap<&str, Vec<(f64, String)>> = HashMap::new();
    for r in actual
        .iter()
        .filter(|r| is_module_publish(r, tap, &is_client))
    {
        let t = record_time(r, wall0);
        if let Some(topic) = r.topic.as_deref() {
            by_topic
                .entry(topic)
                .or_default()
                .push((t, payload_text(r)));
        }
    }
    let metric_of = |rel: &str| -> Option<String> {
        let p = profile.as_ref()?;
        let c = p.match_topic(MessageKind::Metric, "", rel)?;
        c.rest.map(|m| m.replace('/', "."))
    };
    let tol = expected.tolerance_secs as f64;
    let mut misses = Vec::new();
    let mut checked = 0;
    for point in &expected.points {
        for (rel, payload) in &point.publishes {
            let metric = metric_of(rel);
            if let Some(m) = &metric {
                if expected.is_ignored(m) {
                    continue;
                }
            } else if expected.is_ignored(rel) {
                continue;
            }
            checked += 1;
            let topic = format!("{}{}", expected.prefix, rel);
            let pubs = by_topic
                .get(topic.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let pt = point.t as f64;
            let near = |t: f64| (t.floor() - pt).abs() <= tol;
            if pubs.iter().any(|(t, p)| p == payload && near(*t)) {
                continue;
            }
            let dist = |t: f64| (t.floor() - pt).abs();
            let nearest = |f: &dyn Fn(&(f64, String)) -> bool| {
                pubs.iter()
                    .filter(|x| f(x))
                    .min_by(|a, b| dist(a.0).total_cmp(&dist(b.0)))
                    .cloned()
            };
            let found = if let Some((t, _)) = nearest(&|(_, p)| p == payload) {
                Found::ElsewhereAt(t)
            } else if let Some((t, p)) = nearest(&|(t, _)| near(*t)) {
                Found::OtherPayload { payload: p, t }
            } else if pubs.is_empty() {
                Found::NotPublished
            } else {
                Found::NotPublishedNear
            };
            misses.push(Mismatch {
                what: metric.unwrap_or_else(|| rel.clone()),
                topic,
                payload: payload.clone(),
                t: point.t,
                found,
            });
        }
    }
    if misses.is_empty() {
        Ok(())
    } else {
        Err(TimelineMismatch {
            mismatches: misses,
            checked,
        })
    }
}

impl TimelineMismatch {
    /// One report marker per miss (at the expected time, on the expected topic), for
    /// [`crate::report::ReportOptions::failures`].
    pub fn markers(&self) -> Vec<crate::report::Marker> {
        self.mismatches
            .iter()
            .map(|m| crate::report::Marker {
                t: m.t as f64,
                topic: Some(m.topic.clone()),
                message: m.to_string(),
            })
            .collect()
    }
}
