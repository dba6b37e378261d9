//! The capture as a timeline: which records the module published, on which time axis, and how
//! they group into cadence points.
//!
//! A *cadence point* is one virtual second at which the module published: the firmware does its
//! server v3 work on a 1-s ticker, so a modified pass (or the full pass after connecting) puts all
//! its publishes into the same virtual second. Immediate publishes (a single metric) form points
//! of their own; [`is_pass`] tells passes apart by size.

use std::collections::BTreeMap;

use ovms_hil_net::capture::{CaptureRecord, Source};

/// Time of a record on the report's axis: virtual seconds when the capture has them, else wall
/// seconds since the first record's wall time.
pub fn record_time(r: &CaptureRecord, wall0: f64) -> f64 {
    r.t.unwrap_or(r.wall - wall0)
}

/// The earliest wall time in the capture (origin of the fallback axis).
pub fn wall_origin(capture: &[CaptureRecord]) -> f64 {
    capture
        .iter()
        .map(|r| r.wall)
        .fold(f64::INFINITY, f64::min)
        .min(f64::MAX)
}

/// Whether the record is a PUBLISH (or a will) with a topic.
pub fn is_publish(r: &CaptureRecord) -> bool {
    r.topic.is_some() && matches!(r.kind.as_deref(), None | Some("publish") | Some("will"))
}

/// Whether the capture has wire-tap records (then the tap is the source of truth for what the
/// module sent; observer records are what subscribers saw).
pub fn has_tap(capture: &[CaptureRecord]) -> bool {
    capture
        .iter()
        .any(|r| r.src == Source::Tap && is_publish(r))
}

/// Whether `r` is a publish sent by the module: a tap publish towards the broker, or (captures
/// without a tap) any observer publish for which `is_client_topic` is false.
pub fn is_module_publish(
    r: &CaptureRecord,
    tap: bool,
    is_client_topic: &dyn Fn(&str) -> bool,
) -> bool {
    if !is_publish(r) {
        return false;
    }
    match r.src {
        Source::Tap => r.dir.as_deref() != Some("to_client"),
        Source::Observer => !tap && !is_client_topic(r.topic.as_deref().unwrap_or("")),
    }
}

/// The payload as display text: UTF-8 as is, binary as `base64:…`.
pub fn payload_text(r: &CaptureRecord) -> String {
    match (r.payload.as_deref(), r.payload_encoding.as_deref()) {
        (Some(p), Some("base64")) => format!("base64:{p}"),
        (Some(p), _) => p.to_string(),
        (None, _) => String::new(),
    }
}

/// One cadence point: a virtual second and the publishes the module made in it.
#[derive(Clone, Debug, PartialEq)]
pub struct CadencePoint {
    /// The whole second (floor of the record times).
    pub second: i64,
    /// Topic → payloads in publish order at that second.
    pub publishes: BTreeMap<String, Vec<String>>,
    /// Number of publishes.
    pub count: usize,
}

/// Whether a point is a pass (at least `min_publishes` publishes in the second).
pub fn is_pass(p: &CadencePoint, min_publishes: usize) -> bool {
    p.count >= min_publishes.max(1)
}

/// Groups module publishes by virtual second, in time order.
pub fn cadence_points<'a>(
    module_publishes: impl IntoIterator<Item = &'a CaptureRecord>,
    wall0: f64,
) -> Vec<CadencePoint> {
    let mut by_sec: BTreeMap<i64, CadencePoint> = BTreeMap::new();
    for r in module_publishes {
        let t = record_time(r, wall0);
        if !t.is_finite() {
            continue;
        }
        let s = t.floor() as i64;
        let p = by_sec.entry(s).or_insert_with(|| CadencePoint {
            second: s,
            publishes: BTreeMap::new(),
            count: 0,
        });
        p.publishes
            .entry(r.topic.clone().unwrap_or_default())
            .or_default()
            .push(payload_text(r));
        p.count += 1;
    }
    by_sec.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: f64, topic: &str, payload: &str) -> CaptureRecord {
        let mut r =
            CaptureRecord::new(Source::Tap, Some(t), 1000.0 + t).with_payload(payload.as_bytes());
        r.kind = Some("publish".into());
        r.dir = Some("to_broker".into());
        r.topic = Some(topic.into());
        r
    }

    #[test]
    fn groups_by_whole_second() {
        let recs = [
            rec(0.2, "a", "1"),
            rec(0.9, "b", "2"),
            rec(60.0, "a", "3"),
            rec(60.4, "a", "4"),
            rec(75.5, "c", "x"),
        ];
        let pts = cadence_points(recs.iter(), 1000.0);
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[0].second, 0);
        assert_eq!(pts[0].count, 2);
        assert_eq!(pts[1].publishes["a"], vec!["3", "4"]);
        assert!(is_pass(&pts[1], 2));
        assert!(!is_pass(&pts[2], 2));
    }

    #[test]
    fn binary_payloads_are_labelled() {
        let r = rec(1.0, "a", "").with_payload(&[0xff, 0x00]);
        assert_eq!(payload_text(&r), "base64:/wA=");
    }
}
