//! Captures: fake values for identifying metrics, `anon` for the vehicle id and username.

use std::collections::BTreeMap;
use std::path::Path;

use ovms_firmware::profile::Profile;
use ovms_hil_net::capture::{read_capture, CaptureRecord, CaptureWriter};

use super::rules::IdentifyingRules;
use super::{AnonymiseError, AnonymiseReport};
use crate::report::{infer_prefix, infer_profile};
use crate::topics::{TopicClassifier, TopicNames};

/// Options of [`anonymise_capture`].
#[derive(Clone, Debug)]
pub struct AnonymiseCaptureOptions {
    /// Profile deciding metric topics (`None`: inferred from the capture).
    pub profile: Option<Profile>,
    /// The vehicle id to hide (`None`: read from the captured prefix).
    pub vehicle_id: Option<String>,
    /// The username to hide (`None`: read from the captured prefix).
    pub username: Option<String>,
    /// What replaces the vehicle id and username.
    pub replacement: String,
    /// Metric → fixed fake payload (default: the shipped identifying list).
    pub metrics: BTreeMap<String, String>,
}

impl Default for AnonymiseCaptureOptions {
    fn default() -> Self {
        AnonymiseCaptureOptions {
            profile: None,
            vehicle_id: None,
            username: None,
            replacement: "anon".into(),
            metrics: IdentifyingRules::metrics_only().unwrap_or_default(),
        }
    }
}

/// Reads `input`, writes the anonymised capture to `output`, says what changed.
pub fn anonymise_capture(
    input: &Path,
    output: &Path,
    opts: &AnonymiseCaptureOptions,
) -> Result<AnonymiseReport, AnonymiseError> {
    if input
        .canonicalize()
        .ok()
        .is_some_and(|a| output.canonicalize().ok() == Some(a))
    {
        return Err(AnonymiseError::SameFile(output.to_path_buf()));
    }
    let recs = read_capture(input)?;
    let (out, report) = anonymise_records(&recs, opts);
    let w = CaptureWriter::create(output)?;
    for r in &out {
        w.write(r)?;
    }
    Ok(report)
}

/// `(username, vehicle id)` read off the captured prefix through the profile's prefix template.
fn identity_from_prefix(profile: &Profile, prefix: &str) -> (Option<String>, Option<String>) {
    let (mut user, mut vehicle) = (None, None);
    for (tpl, got) in profile.spec().prefix.split('/').zip(prefix.split('/')) {
        match tpl {
            "{user}" if !got.is_empty() => user = Some(got.to_string()),
            "{vehicle}" if !got.is_empty() => vehicle = Some(got.to_string()),
            _ => {}
        }
    }
    (user, vehicle)
}

/// Anonymises records in memory (what [`anonymise_capture`] writes).
///
/// Counted kinds: `<metric> payloads replaced`, `vehicle id in topics`, `username in topics`,
/// `vehicle id in payloads`, `username in payloads`, `identity in other fields`.
pub fn anonymise_records(
    recs: &[CaptureRecord],
    opts: &AnonymiseCaptureOptions,
) -> (Vec<CaptureRecord>, AnonymiseReport) {
    let profile = opts.profile.clone().or_else(|| infer_profile(recs));
    let prefix = profile.as_ref().and_then(|p| infer_prefix(recs, p));
    let (mut user, mut vehicle) = match (&profile, &prefix) {
        (Some(p), Some(px)) => identity_from_prefix(p, px),
        _ => (None, None),
    };
    if opts.username.is_some() {
        user = opts.username.clone();
    }
    if opts.vehicle_id.is_some() {
        vehicle = opts.vehicle_id.clone();
    }
    let hide: Vec<(String, &str)> = [(vehicle, "vehicle id"), (user, "username")]
        .into_iter()
        .filter_map(|(v, k)| {
            v.filter(|v| !v.is_empty() && *v != opts.replacement)
                .map(|v| (v, k))
        })
        .collect();
    let classifier = match (&profile, &prefix) {
        (Some(p), Some(px)) => Some(TopicClassifier::new(p, px, &TopicNames::default())),
        _ => None,
    };

    let mut report = AnonymiseReport::default();
    let mut out = Vec::with_capacity(recs.len());
    for r in recs {
        report.records_in += 1;
        let mut r = r.clone();
        // Identifying metric payloads (decided on the original topic).
        if let (Some(c), Some(topic)) = (&classifier, r.topic.as_deref()) {
            if let Some(name) = c.metric_name(topic) {
                if let Some(fake) = opts.metrics.get(&name) {
                    if r.payload_bytes().as_deref() != Some(fake.as_bytes()) {
                        r = r.with_payload(fake.as_bytes());
                        report.count(&format!("{name} payloads replaced"));
                    }
                }
            }
        }
        // The vehicle id and username as topic levels.
        if let Some(topic) = r.topic.as_mut() {
            let mut levels: Vec<String> = topic.split('/').map(str::to_string).collect();
            for (secret, kind) in &hide {
                for l in levels.iter_mut().filter(|l| *l == secret) {
                    *l = opts.replacement.clone();
                    report.count(&format!("{kind} in topics"));
                }
            }
            *topic = levels.join("/");
        }
        // ... and inside text payloads (config replies, command output, notifications).
        if r.payload_encoding.is_none() {
            if let Some(p) = r.payload.as_mut() {
                for (secret, kind) in &hide {
                    if secret.len() >= 3 && p.contains(secret.as_str()) {
                        *p = p.replace(secret.as_str(), &opts.replacement);
                        report.count(&format!("{kind} in payloads"));
                    }
                }
            }
        }
        // ... and in any other string field (client ids, connection names).
        let mut fields: Vec<&mut String> = r.conn.iter_mut().collect();
        for v in r.extra.values_mut() {
            if let serde_json::Value::String(s) = v {
                fields.push(s);
            }
        }
        for s in fields {
            for (secret, _) in &hide {
                if secret.len() >= 3 && s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), &opts.replacement);
                    report.count("identity in other fields");
                }
            }
        }
        report.records_out += 1;
        out.push(r);
    }
    (out, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::metric_topic;
    use ovms_firmware::profile::{MessageKind, TopicVars};
    use ovms_hil_net::capture::Source;

    fn rec(t: f64, topic: &str, payload: &str) -> CaptureRecord {
        let mut r =
            CaptureRecord::new(Source::Tap, Some(t), 1e9 + t).with_payload(payload.as_bytes());
        r.kind = Some("publish".into());
        r.dir = Some("to_broker".into());
        r.topic = Some(topic.into());
        r
    }

    #[test]
    fn identity_and_positions_are_replaced_consistently() {
        let p = Profile::builtin("fw-3.3.006").unwrap();
        let px = p.default_prefix("bobsmith", "BOBCAR");
        let conn = p.topic(MessageKind::Connected, &px, &TopicVars::default());
        let reply = p.topic(
            MessageKind::ConfigReply,
            &px,
            &TopicVars {
                client_id: Some("app"),
                param: Some("vehicle"),
                instance: Some("id"),
                ..Default::default()
            },
        );
        let mut connect = CaptureRecord::new(Source::Tap, Some(0.0), 1e9);
        connect.kind = Some("connect".into());
        connect.extra.insert("client_id".into(), "BOBCAR".into());
        let recs = vec![
            connect,
            rec(1.0, &conn, "yes"),
            rec(1.0, &metric_topic(&p, &px, "v.vin"), "5YJSA1E26FF000000"),
            rec(1.0, &metric_topic(&p, &px, "v.p.latitude"), "52.520008"),
            rec(1.0, &metric_topic(&p, &px, "v.p.longitude"), "13.404954"),
            rec(1.0, &metric_topic(&p, &px, "v.p.gpstime"), "1700000000"),
            rec(1.0, &metric_topic(&p, &px, "v.b.soc"), "81"),
            rec(9.0, &reply, "BOBCAR"),
            rec(60.0, &metric_topic(&p, &px, "v.p.latitude"), "52.520100"),
        ];
        let (out, rep) = anonymise_records(&recs, &AnonymiseCaptureOptions::default());
        let text: String = out
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        for secret in [
            "bobsmith",
            "BOBCAR",
            "5YJSA1E26FF000000",
            "52.52",
            "13.404954",
            "1700000000",
        ] {
            assert!(!text.contains(secret), "{secret} left in\n{text}");
        }
        let anon = p.default_prefix("anon", "anon");
        assert_eq!(
            out[1].topic.as_deref(),
            Some(
                p.topic(MessageKind::Connected, &anon, &TopicVars::default())
                    .as_str()
            )
        );
        assert_eq!(out[3].payload.as_deref(), Some("0.000000"));
        assert_eq!(out[8].payload.as_deref(), Some("0.000000"));
        assert_eq!(
            out[6].payload.as_deref(),
            Some("81"),
            "non-identifying metrics stay"
        );
        assert_eq!(rep.get("v.p.latitude payloads replaced"), 2);
        assert_eq!(rep.get("v.vin payloads replaced"), 1);
        assert_eq!(rep.get("vehicle id in topics"), 8);
        assert_eq!(rep.get("username in topics"), 8);
        assert_eq!(rep.get("vehicle id in payloads"), 1);
        assert_eq!(rep.get("identity in other fields"), 1);
        // Idempotent: a second pass finds nothing more.
        let (_, rep2) = anonymise_records(&out, &AnonymiseCaptureOptions::default());
        assert!(rep2.changes.is_empty(), "{rep2}");
    }

    #[test]
    fn files_round_trip_and_bad_lines_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::builtin("draft").unwrap();
        let px = p.default_prefix("u1x", "car9");
        let input = dir.path().join("c.jsonl");
        let w = CaptureWriter::create(&input).unwrap();
        w.write(&rec(
            0.0,
            &p.topic(MessageKind::Connected, &px, &TopicVars::default()),
            "yes",
        ))
        .unwrap();
        w.write(&rec(
            1.0,
            &metric_topic(&p, &px, "v.vin"),
            "SFZRE8B17B3000000",
        ))
        .unwrap();
        let out = dir.path().join("o.jsonl");
        let rep = anonymise_capture(&input, &out, &AnonymiseCaptureOptions::default()).unwrap();
        assert_eq!(rep.records_out, 2);
        let back = read_capture(&out).unwrap();
        assert_eq!(back[1].topic.as_deref(), Some("ovms/anon/anon/m/v/vin"));
        std::fs::write(
            &input,
            "{\"src\":\"tap\",\"t\":1,\"wall\":2}\n{\"src\":\"tap\",\"t\":oops}\n",
        )
        .unwrap();
        let e = anonymise_capture(&input, &out, &AnonymiseCaptureOptions::default()).unwrap_err();
        assert!(e.to_string().contains("c.jsonl:2:"), "{e}");
    }
}
