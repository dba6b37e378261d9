//! Conformance-suite steps for real traffic: what a replayed CAN log made the module publish over
//! time (the sequence of values a metric took on the wire, its highest value), and a synthetic
//! CRTD capture whose `CMT` comment records carry the expected values.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::MessageKind;

use super::publish::check_flags;
use super::{args, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            Then,
            r#"^metric "([^"]+)" was published with the values "([^"]*)" in that order$"#,
            sequence
        ),
        def!(
            Then,
            r#"^the highest value published for metric "([^"]+)" is "([^"]+)"$"#,
            highest
        ),
        def!(Then, r#"^metric "([^"]+)" was never published$"#, never),
        def!(
            Then,
            r#"^the module published every value the CMT records of "([^"]+)" expect$"#,
            crtd_cmt
        ),
    ]
}

/// Payloads published on `metric`'s topic, in order, consecutive repeats folded.
fn values(w: &HilWorld, metric: &str) -> Result<Vec<String>, String> {
    let topic = w.metric_topic(metric);
    let mut out: Vec<String> = Vec::new();
    for s in w.sent().into_iter().filter(|s| s.publish.topic == topic) {
        check_flags(
            w,
            MessageKind::Metric,
            &s.publish,
            &format!("metric {metric}"),
        )?;
        let v = String::from_utf8_lossy(&s.publish.payload).into_owned();
        if out.last() != Some(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// The expected values appear in the published sequence in this order (other values may lie
/// between them: the log may hold intermediate states the list does not name).
fn sequence(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        w.settle().await?;
        let want: Vec<String> = a[1].split(',').map(|s| s.trim().to_string()).collect();
        let got = values(w, &a[0])?;
        let mut it = got.iter();
        for v in &want {
            if !it.any(|g| g == v) {
                return Err(format!(
                    "metric {}: expected the values {want:?} in that order; the module published {got:?} \
                     ({v:?} missing or out of order)",
                    a[0]
                ));
            }
        }
        Ok(())
    })
}

fn highest(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        w.settle().await?;
        let got = values(w, &a[0])?;
        let max = got
            .iter()
            .filter_map(|v| v.parse::<f64>().ok().map(|n| (n, v)))
            .max_by(|x, y| x.0.total_cmp(&y.0));
        match max {
            Some((_, v)) if *v == a[1] => Ok(()),
            Some((_, v)) => Err(format!(
                "metric {}: highest published value is {v:?}, expected {:?} (published: {got:?})",
                a[0], a[1]
            )),
            None => Err(format!(
                "metric {}: no numeric value was published (published: {got:?})",
                a[0]
            )),
        }
    })
}

fn never(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        w.settle().await?;
        let got = values(w, &a[0])?;
        if got.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "metric {}: expected no publish, the module published {got:?}",
                a[0]
            ))
        }
    })
}

/// One expectation from a CRTD `CMT Metric {"name": …, "value": …}` record (the form OVMS
/// writes metric snapshots in; the replay feeds only frames, so these are expectations only).
#[derive(Debug, PartialEq)]
pub struct CmtExpect {
    /// Line number (1-based).
    pub line: usize,
    /// Metric name.
    pub metric: String,
    /// Expected payload.
    pub value: String,
}

/// The `CMT Metric {json}` records of a CRTD text (other records are skipped; a malformed one is
/// an error naming its file, line and column).
pub fn parse_cmt_expectations(text: &str, origin: &str) -> Result<Vec<CmtExpect>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let (Some(_t), Some(kind)) = (words.next(), words.next()) else {
            continue;
        };
        if kind.trim_start_matches(|c: char| c.is_ascii_digit()) != "CMT" {
            continue;
        }
        let at = |needle: &str| line.find(needle).map(|c| c + 1).unwrap_or(1);
        let Some(json_at) = line.find('{') else {
            return Err(format!(
                "{origin}:{}:{}: a CMT record needs `Metric {{\"name\": …, \"value\": …}}`",
                i + 1,
                at("CMT")
            ));
        };
        if !line[..json_at].trim_end().ends_with("Metric") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line[json_at..])
            .map_err(|e| format!("{origin}:{}:{}: {e}", i + 1, json_at + e.column()))?;
        let field = |k: &str| -> Result<String, String> {
            match v.get(k) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(other) => Ok(other.to_string()),
                None => Err(format!(
                    "{origin}:{}:{}: the CMT Metric record has no {k:?}",
                    i + 1,
                    json_at + 1
                )),
            }
        };
        out.push(CmtExpect {
            line: i + 1,
            metric: field("name")?,
            value: field("value")?,
        });
    }
    Ok(out)
}

fn crtd_cmt(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let root = w
            .ctx()
            .rig_dir
            .parent()
            .unwrap_or(&w.ctx().rig_dir)
            .to_path_buf();
        let path = root.join(&a[0]);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let expects = parse_cmt_expectations(&text, &a[0])?;
        if expects.is_empty() {
            return Err(format!("{}: no `CMT Metric` records", a[0]));
        }
        w.settle().await?;
        let mut errs = Vec::new();
        for e in &expects {
            let got = values(w, &e.metric)?;
            if !got.contains(&e.value) {
                errs.push(format!(
                    "{}:{}: {} expected {:?}, published {got:?}",
                    a[0], e.line, e.metric, e.value
                ));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("\n"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmt_expectations_parse_with_positions() {
        let text = "1.0 CXX start\n1.5 1R11 100 80 60\n2.0 1CMT Metric {\"name\": \"v.b.soc\", \"value\": \"96\"}\n";
        let e = parse_cmt_expectations(text, "x.crtd").unwrap();
        assert_eq!(
            e,
            vec![CmtExpect {
                line: 3,
                metric: "v.b.soc".into(),
                value: "96".into()
            }]
        );
        let err = parse_cmt_expectations("3.0 CMT Metric {\"name\": 1\n", "y.crtd").unwrap_err();
        assert!(err.starts_with("y.crtd:1:"), "{err}");
        let err =
            parse_cmt_expectations("3.0 CMT Metric {\"value\": \"1\"}\n", "z.crtd").unwrap_err();
        assert!(err.contains("no \"name\""), "{err}");
    }
}
