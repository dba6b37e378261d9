//! Conformance-suite steps around the session: reconnects after the profile's delay, a prefix
//! moved by command (re-read on the next CONNECT), and the on-demand requests of 3.3.006.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::{MessageKind, TopicVars};
use ovms_firmware::time::Duration;

use super::clients::client_id;
use super::publish::check_flags;
use super::suite_protocol::expand_prefix;
use super::{args, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            Then,
            r"^the module reconnects after the profile's reconnect delay$",
            reconnects
        ),
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" moves the module's topic prefix to "([^"]+)" by command$"#,
            move_prefix
        ),
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" requests metrics "([^"]*)"$"#,
            request_metrics
        ),
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" requests config "([^"]+)"$"#,
            request_config
        ),
        def!(
            Then,
            r#"^app client "([^"]+)" receives config "([^"]+)" = "([^"]*)"$"#,
            config_reply
        ),
    ]
}

/// The profile's delay after an unexpected close, in seconds.
fn lost_delay(w: &HilWorld) -> u64 {
    w.profile.spec().session.reconnect_secs.connection_lost
}

/// No new CONNECT before the delay; one right after it; then `yes` again (the full pass).
fn reconnects(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let delay = lost_delay(w);
        let before = w.connects().len();
        let yes_before = yes_count(w);
        if delay > 1 {
            w.advance(Duration::from_secs(delay - 1)).await?;
            let n = w.connects().len();
            if n != before {
                return Err(format!(
                    "the module reconnected before the profile's {delay} s reconnect delay \
                     ({} CONNECT(s) within {} s)",
                    n - before,
                    delay - 1
                ));
            }
        }
        w.advance(Duration::from_secs(2)).await?;
        let n = w.connects().len();
        if n == before {
            return Err(format!(
                "no new CONNECT within {} s of module time after the connection was lost \
                 (profile {}: reconnect after {delay} s)",
                delay + 1,
                w.profile_name
            ));
        }
        w.wait_connected_after(yes_before, Duration::from_secs(30))
            .await
    })
}

fn yes_count(w: &HilWorld) -> usize {
    let topic = w.topic(MessageKind::Connected, &TopicVars::default());
    w.sent()
        .iter()
        .filter(|s| s.publish.topic == topic && s.publish.payload == b"yes")
        .count()
}

async fn publish_kind(
    w: &mut HilWorld,
    name: &str,
    kind: MessageKind,
    payload: &[u8],
) -> Result<(), String> {
    if !w.profile.has(kind) {
        return Err(format!(
            "profile {} has no {} topic",
            w.profile_name,
            kind.key()
        ));
    }
    let cid = client_id(w, name);
    let topic = w.topic(
        kind,
        &TopicVars {
            client_id: Some(&cid),
            // Commands need an id level in the shipped profiles (ignored where there is none).
            command_id: Some("hil"),
            ..TopicVars::default()
        },
    );
    let qos = w.profile.qos(kind).as_u8();
    let before = w.module()?.received_count().await;
    let app = w
        .apps
        .get(name)
        .ok_or_else(|| format!("no app client named {name:?}"))?;
    app.publish_to(&topic, payload, qos).await?;
    w.wait_module_received(before + 1).await?;
    w.advance(Duration::from_secs(1)).await
}

/// `config set server.v3 topic.prefix <p>`, then a network cut: the new prefix applies at the
/// next CONNECT (firmware re-reads it in Connect()).
fn move_prefix(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let prefix = expand_prefix(w, &a[1]);
        let line = format!("config set server.v3 topic.prefix {prefix}");
        publish_kind(w, &a[0], MessageKind::Command, line.as_bytes()).await?;
        let yes_before = yes_count(w);
        w.settle().await?;
        w.module()?.network_cut().await?;
        w.prefix = prefix;
        let _ = yes_before;
        w.wait_connected_after(0, Duration::from_secs(lost_delay(w) + 30))
            .await
    })
}

fn request_metrics(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        publish_kind(w, &a[0], MessageKind::RequestMetric, a[1].as_bytes()).await
    })
}

fn request_config(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        publish_kind(w, &a[0], MessageKind::RequestConfig, a[1].as_bytes()).await
    })
}

fn config_reply(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let (param, instance) = a[1]
            .split_once('/')
            .ok_or_else(|| format!("config {:?} is not param/instance", a[1]))?;
        let cid = client_id(w, &a[0]);
        let topic = w.topic(
            MessageKind::ConfigReply,
            &TopicVars {
                client_id: Some(&cid),
                param: Some(param),
                instance: Some(instance),
                ..TopicVars::default()
            },
        );
        w.settle().await?;
        let sent = w.sent();
        let on_topic: Vec<_> = sent.iter().filter(|s| s.publish.topic == topic).collect();
        match on_topic
            .iter()
            .find(|s| s.publish.payload == a[2].as_bytes())
        {
            Some(s) => check_flags(w, MessageKind::ConfigReply, &s.publish, "config reply"),
            None => Err(format!(
                "no config reply {:?} on {topic}; replies there: {:?}",
                a[2],
                on_topic
                    .iter()
                    .map(|s| String::from_utf8_lossy(&s.publish.payload).into_owned())
                    .collect::<Vec<_>>()
            )),
        }
    })
}
