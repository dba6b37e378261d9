//! Conformance-suite steps for the protocol areas the core slice leaves out: events, log lines,
//! the topic map as a whole, the all-vehicles notification wildcard, the configurable prefix and
//! bad input on the command topics. Topics, QoS and retain always come from the scenario's profile.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::{MessageKind, TopicVars};
use ovms_firmware::time::Duration;

use super::clients::client_id;
use super::publish::check_flags;
use super::{args, num, run, StepDef};
use crate::adapt::observer::Watcher;
use crate::adapt::tap::topic_matches;
use crate::def;
use crate::rig::ModuleRig;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            GivenWhen,
            r#"^the module raises event "([^"]+)"$"#,
            raise_event
        ),
        def!(
            Then,
            r#"^the module publishes event "([^"]+)"$"#,
            event_published
        ),
        def!(
            Then,
            r#"^the module does not publish event "([^"]+)"$"#,
            event_not_published
        ),
        def!(
            Then,
            r#"^the module publishes a log line containing "([^"]*)"$"#,
            log_line
        ),
        def!(Then, r"^the profile defines no log topic$", no_log_topic),
        def!(
            Then,
            r"^every topic the module published is one the profile defines$",
            topics_defined
        ),
        def!(
            Then,
            r#"^a subscriber to every vehicle's notifications receives the "([^"]+)" notification "([^"]+)" with text "([^"]*)" raised now$"#,
            wildcard_notification
        ),
        def!(
            Then,
            r#"^the module published metric "([^"]+)" under the prefix "([^"]+)"$"#,
            metric_under_prefix
        ),
        def!(
            Then,
            r#"^app client "([^"]+)" receives exactly (\d+) responses? to "([^"]+)"$"#,
            response_count
        ),
        def!(
            Then,
            r#"^the module sent no response to app client "([^"]+)"$"#,
            no_response_to
        ),
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" sends a command of (\d+) "(.)" characters with id "([^"]+)"$"#,
            long_command
        ),
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" sends (\d+) bytes of binary garbage as a command with id "([^"]+)"$"#,
            garbage_command
        ),
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" publishes "([^"]*)" on a client topic (\d+) characters long$"#,
            long_topic
        ),
        def!(
            Then,
            r"^the module is still on its first connection$",
            still_connected
        ),
    ]
}

/// The in-process emulator's handle (steps that raise events need it).
pub fn emu(w: &HilWorld) -> Result<&ovms_emu::EmuHandle, String> {
    match w.module()? {
        ModuleRig::InProcess(m) => Ok(m.handle()),
        _ => Err("this step needs the in-process emulated rig".into()),
    }
}

fn raise_event(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let name = args(&ctx)[0].clone();
        emu(w)?.event(&name).await.map_err(|e| e.to_string())?;
        // Events are dispatched after the current operation; one tick covers queued ones.
        w.advance(Duration::from_secs(1)).await
    })
}

/// (kind, topic, expected payload) of every form the profile publishes `event` in.
fn event_forms(w: &HilWorld, event: &str) -> Vec<(MessageKind, String, Vec<u8>)> {
    let mut v = Vec::new();
    if w.profile.has(MessageKind::EventLegacy) {
        v.push((
            MessageKind::EventLegacy,
            w.topic(MessageKind::EventLegacy, &TopicVars::default()),
            event.as_bytes().to_vec(),
        ));
    }
    if w.profile.has(MessageKind::EventTopic) {
        v.push((
            MessageKind::EventTopic,
            w.topic(
                MessageKind::EventTopic,
                &TopicVars {
                    event: Some(event),
                    ..TopicVars::default()
                },
            ),
            Vec::new(),
        ));
    }
    v
}

fn event_published(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let event = args(&ctx)[0].clone();
        w.settle().await?;
        let forms = event_forms(w, &event);
        if forms.is_empty() {
            return Err(format!("profile {} has no event topic", w.profile_name));
        }
        let sent = w.sent();
        for (kind, topic, payload) in forms {
            let hit = sent
                .iter()
                .find(|s| s.publish.topic == topic && s.publish.payload == payload);
            match hit {
                Some(s) => check_flags(w, kind, &s.publish, &format!("event {event}"))?,
                None => {
                    return Err(format!(
                        "event {event}: nothing on {topic} with payload {:?}; events sent: {:?}",
                        String::from_utf8_lossy(&payload),
                        sent.iter()
                            .filter(|s| s.publish.topic.contains("event"))
                            .map(|s| format!(
                                "{} {:?}",
                                s.publish.topic,
                                String::from_utf8_lossy(&s.publish.payload)
                            ))
                            .collect::<Vec<_>>()
                    ))
                }
            }
        }
        Ok(())
    })
}

fn event_not_published(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let event = args(&ctx)[0].clone();
        w.settle().await?;
        let forms = event_forms(w, &event);
        if forms.is_empty() {
            return Err(format!("profile {} has no event topic", w.profile_name));
        }
        for s in w.sent() {
            for (_, topic, payload) in &forms {
                if s.publish.topic == *topic && s.publish.payload == *payload {
                    return Err(format!(
                        "event {event} was published on {topic}, the profile excludes it"
                    ));
                }
            }
        }
        Ok(())
    })
}

fn log_line(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let want = args(&ctx)[0].clone();
        if !w.profile.has(MessageKind::Log) {
            return Err(format!("profile {} has no log topic", w.profile_name));
        }
        w.settle().await?;
        let topic = w.topic(MessageKind::Log, &TopicVars::default());
        let sent = w.sent();
        let lines: Vec<_> = sent.iter().filter(|s| s.publish.topic == topic).collect();
        match lines
            .iter()
            .find(|s| String::from_utf8_lossy(&s.publish.payload).contains(&want))
        {
            Some(s) => check_flags(w, MessageKind::Log, &s.publish, "log line"),
            None => Err(format!(
                "no log line containing {want:?} on {topic}; lines: {:?}",
                lines
                    .iter()
                    .map(|s| String::from_utf8_lossy(&s.publish.payload).into_owned())
                    .collect::<Vec<_>>()
            )),
        }
    })
}

fn no_log_topic(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        if w.profile.has(MessageKind::Log) {
            Err(format!(
                "profile {} defines a log topic ({})",
                w.profile_name,
                w.topic(MessageKind::Log, &TopicVars::default())
            ))
        } else {
            Ok(())
        }
    })
}

/// Every PUBLISH the module sent lies under its prefix and matches one of the profile's
/// module-side topic templates (so nothing undocumented, e.g. a log topic, leaks out).
fn topics_defined(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        w.settle().await?;
        let module_side = [
            MessageKind::Metric,
            MessageKind::Connected,
            MessageKind::Response,
            MessageKind::Notify,
            MessageKind::NotifyData,
            MessageKind::EventLegacy,
            MessageKind::EventTopic,
            MessageKind::Log,
            MessageKind::ConfigReply,
        ];
        let sent = w.sent();
        if sent.is_empty() {
            return Err("the module published nothing".into());
        }
        let mut bad = Vec::new();
        for s in &sent {
            let ok = module_side.iter().any(|k| {
                w.profile.has(*k)
                    && w.profile
                        .match_topic(*k, &w.prefix, &s.publish.topic)
                        .is_some()
            });
            if !ok {
                bad.push(s.publish.topic.clone());
            }
        }
        bad.dedup();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the module published on topics profile {} does not define: {:?}",
                w.profile_name, bad
            ))
        }
    })
}

/// A daemon subscribed to the notification topics of every user and vehicle (one wildcard
/// filter, built from the profile's template with `+` for user and vehicle) gets a notification
/// raised now.
fn wildcard_notification(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let kind = if a[0] == "data" {
            MessageKind::NotifyData
        } else {
            MessageKind::Notify
        };
        if !w.profile.has(kind) {
            return Err(format!(
                "profile {} has no {} notifications",
                w.profile_name, a[0]
            ));
        }
        let all_prefix = w.profile.default_prefix("+", "+");
        let filter = w.profile.topic(kind, &all_prefix, &TopicVars::default());
        let filter = match filter.find(['+', '#']) {
            // Everything after the first variable level below the prefix becomes `#`.
            Some(_) => {
                let fixed = filter
                    .strip_prefix(&all_prefix)
                    .unwrap_or(&filter)
                    .split('/')
                    .take_while(|l| *l != "+" && *l != "#")
                    .collect::<Vec<_>>()
                    .join("/");
                format!("{all_prefix}{fixed}/#")
            }
            None => filter,
        };
        w.settle().await?;
        let id = format!("hil-daemon-{}", w.vehicle_id);
        let daemon = Watcher::start(
            w.ctx().broker.endpoint(),
            &id,
            std::slice::from_ref(&filter),
        )
        .await?;
        w.module()?.notify(&a[0], &a[1], &a[2]).await?;
        w.advance(Duration::from_secs(2)).await?;
        let own = w.topic(
            kind,
            &TopicVars {
                notify_kind: Some(&a[0]),
                subtype: Some(&a[1]),
                ..TopicVars::default()
            },
        );
        let timeout = std::time::Duration::from_millis(w.ctx().rig.timing.settle_ms.max(100));
        let text = a[2].clone();
        let got = daemon
            .wait_for(timeout, |s| {
                topic_matches(&own, &s.topic) && s.payload == text.as_bytes()
            })
            .await;
        let seen: Vec<String> = daemon.seen().iter().map(|s| s.topic.clone()).collect();
        daemon.stop().await;
        match got {
            Some(_) => Ok(()),
            None => Err(format!(
                "a daemon subscribed to {filter} did not receive {:?} on {own}; it saw {seen:?}",
                a[2]
            )),
        }
    })
}

fn metric_under_prefix(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let prefix = expand_prefix(w, &a[1]);
        w.settle().await?;
        let topic = w.profile.topic(
            MessageKind::Metric,
            &prefix,
            &TopicVars {
                metric: Some(&a[0]),
                ..TopicVars::default()
            },
        );
        let sent = w.sent();
        match sent.iter().find(|s| s.publish.topic == topic) {
            Some(s) => check_flags(w, MessageKind::Metric, &s.publish, "metric"),
            None => Err(format!(
                "metric {} never went out on {topic}; topics: {:?}",
                a[0],
                sent.iter()
                    .map(|s| s.publish.topic.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
            )),
        }
    })
}

/// `{vehicle}` and `{user}` in a prefix written in a feature become this scenario's values.
pub fn expand_prefix(w: &HilWorld, p: &str) -> String {
    p.replace("{vehicle}", &w.vehicle_id)
        .replace("{user}", &w.user)
}

fn response_topic(w: &HilWorld, client: &str, id: &str) -> String {
    let cid = client_id(w, client);
    w.topic(
        MessageKind::Response,
        &TopicVars {
            client_id: Some(&cid),
            command_id: Some(id),
            ..TopicVars::default()
        },
    )
}

fn response_count(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let want: usize = num(&a[1], "count")?;
        w.settle().await?;
        let topic = response_topic(w, &a[0], &a[2]);
        let got: Vec<String> = w
            .sent()
            .iter()
            .filter(|s| s.publish.topic == topic)
            .map(|s| String::from_utf8_lossy(&s.publish.payload).into_owned())
            .collect();
        if got.len() == want {
            Ok(())
        } else {
            Err(format!(
                "expected {want} response(s) on {topic}, the module sent {}: {got:?}",
                got.len()
            ))
        }
    })
}

fn no_response_to(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        w.settle().await?;
        let cid = client_id(w, &a[0]);
        let filter = w.topic(
            MessageKind::Response,
            &TopicVars {
                client_id: Some(&cid),
                ..TopicVars::default()
            },
        );
        let hits: Vec<String> = w
            .sent()
            .iter()
            .filter(|s| topic_matches(&filter, &s.publish.topic))
            .map(|s| s.publish.topic.clone())
            .collect();
        if hits.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the module sent responses to app client {}: {hits:?}",
                a[0]
            ))
        }
    })
}

/// Publish `payload` on app client `name`'s command topic for `id` and wait until the module
/// was fed it; then one second passes (responses go out at once or on the next tick).
async fn send_raw(w: &mut HilWorld, name: &str, id: &str, payload: &[u8]) -> Result<(), String> {
    if !w.profile.has(MessageKind::Command) {
        return Err(format!("profile {} has no command topic", w.profile_name));
    }
    let cid = client_id(w, name);
    let topic = w.topic(
        MessageKind::Command,
        &TopicVars {
            client_id: Some(&cid),
            command_id: Some(id),
            ..TopicVars::default()
        },
    );
    publish_and_wait(w, name, &topic, payload).await
}

async fn publish_and_wait(
    w: &mut HilWorld,
    name: &str,
    topic: &str,
    payload: &[u8],
) -> Result<(), String> {
    let qos = w.profile.qos(MessageKind::Command).as_u8();
    let before = w.module()?.received_count().await;
    let app = w
        .apps
        .get(name)
        .ok_or_else(|| format!("no app client named {name:?}"))?;
    app.publish_to(topic, payload, qos).await?;
    w.wait_module_received(before + 1).await?;
    w.advance(Duration::from_secs(1)).await
}

fn long_command(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let n: usize = num(&a[1], "length")?;
        let payload = a[2].repeat(n);
        send_raw(w, &a[0], &a[3], payload.as_bytes()).await
    })
}

/// Deterministic bytes covering every value, NULs and invalid UTF-8 included.
fn garbage(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8)
        .collect()
}

fn garbage_command(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let n: usize = num(&a[1], "length")?;
        send_raw(w, &a[0], &a[2], &garbage(n)).await
    })
}

/// A topic under the profile's client-active filter whose client level is padded to `len`
/// characters in total (the module subscribes to it, so it is fed the message).
fn long_topic(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let len: usize = num(&a[2], "length")?;
        let base = client_id(w, &a[0]);
        let probe = w.topic(
            MessageKind::ClientActive,
            &TopicVars {
                client_id: Some(&base),
                ..TopicVars::default()
            },
        );
        let pad = len.saturating_sub(probe.len());
        let long_id = format!("{base}{}", "x".repeat(pad));
        let topic = w.topic(
            MessageKind::ClientActive,
            &TopicVars {
                client_id: Some(&long_id),
                ..TopicVars::default()
            },
        );
        publish_and_wait(w, &a[0], &topic, a[1].as_bytes()).await
    })
}

/// The module is connected, and the tap saw exactly one CONNECT (it never had to reconnect).
fn still_connected(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        w.advance(Duration::from_secs(1)).await?;
        let connected = emu(w)?.is_connected().await.map_err(|e| e.to_string())?;
        let connects = w.connects().len();
        if connected && connects == 1 {
            Ok(())
        } else {
            Err(format!(
                "the module is {}connected and sent {connects} CONNECT(s) (expected 1: no reconnect)",
                if connected { "" } else { "not " }
            ))
        }
    })
}
