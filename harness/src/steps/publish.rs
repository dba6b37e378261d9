//! Assertions on what the module published.
//!
//! Flags (QoS, retain) come from the tap — the exact record of what the module sent; subscribers
//! cannot see them faithfully because brokers re-stamp both on delivery. Retained delivery is
//! checked with a late subscriber through the broker (the observer side). Times are module time.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::{MessageKind, TopicVars};
use ovms_firmware::time::{Duration, Instant};
use regex::Regex;

use super::{args, num, run, StepDef};
use crate::adapt::observer::Watcher;
use crate::adapt::tap::SentPublish;
use crate::def;
use crate::rig::ModuleRig;
use crate::world::{HilWorld, Sent};

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            Then,
            r#"^the module publishes metric "([^"]+)" = "([^"]*)"$"#,
            metric_equals
        ),
        def!(
            Then,
            r#"^the module publishes metric "([^"]+)" matching "([^"]*)"$"#,
            metric_matches
        ),
        def!(
            Then,
            r#"^the module publishes metric "([^"]+)" within ([0-9.]+) of (-?[0-9.]+)$"#,
            metric_near
        ),
        def!(
            Then,
            r"^the module publishes that it is connected$",
            connected_yes
        ),
        def!(
            Then,
            r#"^a late subscriber receives metric "([^"]+)" = "([^"]*)" as a retained message$"#,
            late_metric
        ),
        def!(
            Then,
            r#"^a late subscriber receives the connected flag "([^"]*)" as a retained message$"#,
            late_connected
        ),
        def!(
            Then,
            r#"^metric "([^"]+)" was published (\d+) times? in the last (\d+) minutes$"#,
            count_in_window
        ),
        def!(
            Then,
            r#"^metric "([^"]+)" was not published in the last (\d+) minutes$"#,
            metric_silent
        ),
        def!(
            Then,
            r"^the module published nothing in the last (\d+) minutes$",
            all_silent
        ),
        def!(
            Then,
            r#"^publishes of metric "([^"]+)" in the last (\d+) minutes are (\d+) seconds apart, within (\d+) seconds?$"#,
            interval_fixed
        ),
        def!(
            Then,
            r#"^publishes of metric "([^"]+)" in the last (\d+) minutes are the profile's "([^"]+)" apart, within (\d+) seconds?$"#,
            interval_param
        ),
    ]
}

/// Check a publish's QoS and retain flag against the profile's rule for `kind`.
pub fn check_flags(
    w: &HilWorld,
    kind: MessageKind,
    p: &SentPublish,
    what: &str,
) -> Result<(), String> {
    let want_qos = w.profile.qos(kind).as_u8();
    let want_retain = w.profile.retain(kind);
    let mut errs = Vec::new();
    if p.qos != want_qos {
        errs.push(format!(
            "{what}: wrong QoS — the module sent QoS {} on {}, profile {} says QoS {want_qos}",
            p.qos, p.topic, w.profile_name
        ));
    }
    if p.retain != want_retain {
        errs.push(format!(
            "{what}: wrong retain flag — the module sent retain={} on {}, profile {} says retain={want_retain}",
            p.retain, p.topic, w.profile_name
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

fn text(p: &SentPublish) -> String {
    String::from_utf8_lossy(&p.payload).into_owned()
}

fn on_topic(w: &HilWorld, topic: &str) -> Vec<Sent> {
    w.sent()
        .into_iter()
        .filter(|s| s.publish.topic == topic)
        .collect()
}

fn summary_of(sent: &[Sent]) -> String {
    let shown: Vec<String> = sent
        .iter()
        .rev()
        .take(8)
        .map(|s| {
            let at = s.at.map(|t| format!("{t} ")).unwrap_or_default();
            format!("{at}{:?}", text(&s.publish))
        })
        .collect();
    if shown.is_empty() {
        "nothing".into()
    } else {
        format!("(latest first) {}", shown.join(", "))
    }
}

/// The latest publish of `metric` whose payload satisfies `ok`, flags checked.
fn metric_where(
    w: &HilWorld,
    metric: &str,
    want: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let topic = w.metric_topic(metric);
    let sent = on_topic(w, &topic);
    if sent.is_empty() {
        let topics: Vec<String> = w
            .sent()
            .iter()
            .map(|s| s.publish.topic.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .take(12)
            .collect();
        return Err(format!(
            "metric {metric}: the module never published on {topic} (profile {}); topics it did publish: {}",
            w.profile_name,
            if topics.is_empty() { "none".into() } else { topics.join(", ") }
        ));
    }
    match sent.iter().rev().find(|s| ok(&text(&s.publish))) {
        Some(s) => check_flags(
            w,
            MessageKind::Metric,
            &s.publish,
            &format!("metric {metric}"),
        ),
        None => Err(format!(
            "metric {metric}: expected {want} on {topic}; the module published {}",
            summary_of(&sent)
        )),
    }
}

fn metric_equals(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        w.settle().await?;
        metric_where(w, &a[0], &format!("{:?}", a[1]), |t| t == a[1])
    })
}

fn metric_matches(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let re =
            Regex::new(&a[1]).map_err(|e| format!("bad regular expression {:?}: {e}", a[1]))?;
        w.settle().await?;
        metric_where(w, &a[0], &format!("a payload matching /{}/", a[1]), |t| {
            re.is_match(t)
        })
    })
}

fn metric_near(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let tol: f64 = num(&a[1], "tolerance")?;
        let want: f64 = num(&a[2], "value")?;
        w.settle().await?;
        metric_where(w, &a[0], &format!("a number within {tol} of {want}"), |t| {
            t.trim()
                .parse::<f64>()
                .is_ok_and(|v| (v - want).abs() <= tol)
        })
    })
}

fn connected_yes(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        w.settle().await?;
        let topic = w.topic(MessageKind::Connected, &TopicVars::default());
        let sent = on_topic(w, &topic);
        match sent.iter().find(|s| s.publish.payload == b"yes") {
            Some(s) => check_flags(w, MessageKind::Connected, &s.publish, "connected flag"),
            None => Err(format!(
                "the module never published `yes` on {topic}; it published there {}",
                summary_of(&sent)
            )),
        }
    })
}

/// A new subscriber to `topic` must get `payload` as a retained message.
async fn late_subscriber(
    w: &HilWorld,
    topic: &str,
    payload: &str,
    what: &str,
) -> Result<(), String> {
    w.settle().await?;
    let id = format!("hil-late-{}-{}", w.vehicle_id, w.seen().len());
    let watcher = Watcher::start(w.ctx().broker.endpoint(), &id, &[topic.to_string()]).await?;
    let timeout = std::time::Duration::from_millis(w.ctx().rig.timing.settle_ms.max(100));
    let got = watcher.wait_for(timeout, |s| s.topic == topic).await;
    watcher.stop().await;
    match got {
        None => Err(format!(
            "{what}: a subscriber arriving now got nothing on {topic} within {} ms (no retained message)",
            timeout.as_millis()
        )),
        Some(s) if s.payload != payload.as_bytes() => Err(format!(
            "{what}: a late subscriber got {:?} on {topic}, expected {payload:?}",
            s.text()
        )),
        Some(s) if !s.retain => Err(format!(
            "{what}: a late subscriber got {:?} on {topic} but not as a retained message",
            s.text()
        )),
        Some(_) => Ok(()),
    }
}

fn late_metric(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let topic = w.metric_topic(&a[0]);
        late_subscriber(w, &topic, &a[1], &format!("metric {}", a[0])).await
    })
}

fn late_connected(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let topic = w.topic(MessageKind::Connected, &TopicVars::default());
        late_subscriber(w, &topic, &a[0], "connected flag").await
    })
}

/// Publishes on `topic` (all when `None`) with module time in `(now - window, now]`.
async fn in_window(
    w: &HilWorld,
    topic: Option<&str>,
    window: Duration,
) -> Result<Vec<(Instant, SentPublish)>, String> {
    w.settle().await?;
    let now = w.now().await?;
    let from = Instant::from_millis(now.as_millis().saturating_sub(window.as_millis()));
    let mut out = Vec::new();
    for s in w.sent() {
        if topic.is_some_and(|t| t != s.publish.topic) {
            continue;
        }
        let at = s
            .at
            .ok_or("this rig does not report module times of publishes; window checks need the emulated rig")?;
        if at > from && at <= now {
            out.push((at, s.publish));
        }
    }
    Ok(out)
}

fn count_in_window(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let want: usize = num(&a[1], "count")?;
        let mins: u64 = num(&a[2], "minutes")?;
        let topic = w.metric_topic(&a[0]);
        let got = in_window(w, Some(&topic), Duration::from_secs(mins * 60)).await?;
        if got.len() == want {
            return Ok(());
        }
        let times: Vec<String> = got
            .iter()
            .map(|(t, p)| format!("{t} {:?}", text(p)))
            .collect();
        Err(format!(
            "metric {}: expected {want} publish(es) on {topic} in the last {mins} min, got {}: [{}]",
            a[0],
            got.len(),
            times.join(", ")
        ))
    })
}

fn metric_silent(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let mins: u64 = num(&a[1], "minutes")?;
        let topic = w.metric_topic(&a[0]);
        let got = in_window(w, Some(&topic), Duration::from_secs(mins * 60)).await?;
        match got.first() {
            None => Ok(()),
            Some((t, p)) => Err(format!(
                "metric {}: expected nothing on {topic} in the last {mins} min, the module published {:?} at {t} ({} in all)",
                a[0],
                text(p),
                got.len()
            )),
        }
    })
}

fn all_silent(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let mins: u64 = num(&args(&ctx)[0], "minutes")?;
        let got = in_window(w, None, Duration::from_secs(mins * 60)).await?;
        match got.first() {
            None => Ok(()),
            Some((t, p)) => Err(format!(
                "expected no publish in the last {mins} min, the module published {:?} on {} at {t} ({} in all)",
                text(p),
                p.topic,
                got.len()
            )),
        }
    })
}

/// Consecutive publishes of a metric in the window are `period` apart, ± `tol`.
async fn check_intervals(
    w: &HilWorld,
    metric: &str,
    mins: u64,
    period: u64,
    tol: u64,
    param: Option<&str>,
    source: &str,
) -> Result<(), String> {
    let topic = w.metric_topic(metric);
    let got = in_window(w, Some(&topic), Duration::from_secs(mins * 60)).await?;
    if got.len() < 2 {
        return Err(format!(
            "metric {metric}: need at least 2 publishes on {topic} in the last {mins} min to measure a \
             {period} s cadence ({source}), got {} — the cadence was missed",
            got.len()
        ));
    }
    if let Some(b) = w.module.as_ref().and_then(ModuleRig::bench) {
        return check_bench_intervals(b, metric, &got, period, param, source);
    }
    let gaps: Vec<u64> = got
        .windows(2)
        .map(|p| p[1].0.saturating_since(p[0].0).as_millis())
        .collect();
    let bad: Vec<String> = gaps
        .iter()
        .filter(|g| g.abs_diff(period * 1000) > tol * 1000)
        .map(|g| format!("{:.1} s", *g as f64 / 1000.0))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        let all: Vec<String> = gaps
            .iter()
            .map(|g| format!("{:.1}", *g as f64 / 1000.0))
            .collect();
        Err(format!(
            "metric {metric}: publishes should be {period} s apart ± {tol} s ({source}), \
             but gaps were [{}] s (off: {})",
            all.join(", "),
            bad.join(", ")
        ))
    }
}

fn interval_fixed(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let mins: u64 = num(&a[1], "minutes")?;
        let period: u64 = num(&a[2], "seconds")?;
        let tol: u64 = num(&a[3], "tolerance")?;
        check_intervals(w, &a[0], mins, period, tol, None, "as stated").await
    })
}

fn interval_param(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let mins: u64 = num(&a[1], "minutes")?;
        let tol: u64 = num(&a[3], "tolerance")?;
        let period = w
            .param_secs(&a[2])
            .ok_or_else(|| format!("profile {} has no parameter {}", w.profile_name, a[2]))?;
        let source = format!("profile {} {} = {period} s", w.profile_name, a[2]);
        check_intervals(w, &a[0], mins, period, tol, Some(&a[2]), &source).await
    })
}

/// Wall-clock mode of the cadence check on a bench rig: the gaps (module-time stamps × the rig's
/// wall scale) must match the rig's SHORTENED value of `param` when the rig sets one (else
/// `period` × scale), within `bench.tolerance.cadence_ms` (the scenario's own tolerance is for
/// the virtual clock).
fn check_bench_intervals(
    b: &crate::rig::bench::BenchModule,
    metric: &str,
    got: &[(Instant, SentPublish)],
    period: u64,
    param: Option<&str>,
    source: &str,
) -> Result<(), String> {
    let (expected, why) = match param.and_then(|p| b.shortened(p)) {
        Some(v) => (
            std::time::Duration::from_secs(v),
            format!("{source}, shortened on the bench to {v} s"),
        ),
        None => (
            std::time::Duration::from_secs_f64(period as f64 * b.scale()),
            format!("{source}, × wall scale {:.4}", b.scale()),
        ),
    };
    let offsets: Vec<std::time::Duration> = got
        .iter()
        .map(|(t, _)| std::time::Duration::from_secs_f64(t.as_millis() as f64 / 1000.0 * b.scale()))
        .collect();
    ovms_hil_bench::tolerance::check_cadence(
        &format!("{metric} ({why})"),
        &offsets,
        expected,
        b.rig().tolerance.cadence,
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}
