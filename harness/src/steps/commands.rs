//! Commands from an app client and the module's responses.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::{MessageKind, TopicVars};

use super::clients::client_id;
use super::publish::check_flags;
use super::{args, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" sends command "([^"]*)" with id "([^"]+)"$"#,
            send
        ),
        def!(
            Then,
            r#"^app client "([^"]+)" receives a response to "([^"]+)" containing "([^"]*)"$"#,
            response
        ),
    ]
}

fn send(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        if !w.profile.has(MessageKind::Command) {
            return Err(format!("profile {} has no command topic", w.profile_name));
        }
        let cid = client_id(w, &a[0]);
        let topic = w.topic(
            MessageKind::Command,
            &TopicVars {
                client_id: Some(&cid),
                command_id: Some(&a[2]),
                ..TopicVars::default()
            },
        );
        let qos = w.profile.qos(MessageKind::Command).as_u8();
        let before = w.module()?.received_count().await;
        let app = w
            .apps
            .get(&a[0])
            .ok_or_else(|| format!("no app client named {:?}", a[0]))?;
        app.publish_to(&topic, a[1].as_bytes(), qos).await?;
        w.wait_module_received(before + 1).await?;
        // The response goes out at once or on the next tick.
        w.advance(ovms_firmware::time::Duration::from_secs(1)).await
    })
}

fn response(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let cid = client_id(w, &a[0]);
        let topic = w.topic(
            MessageKind::Response,
            &TopicVars {
                client_id: Some(&cid),
                command_id: Some(&a[1]),
                ..TopicVars::default()
            },
        );
        w.settle().await?;
        let sent = w.sent();
        let hit = sent.iter().find(|s| {
            s.publish.topic == topic && String::from_utf8_lossy(&s.publish.payload).contains(&a[2])
        });
        match hit {
            Some(s) => check_flags(w, MessageKind::Response, &s.publish, "command response"),
            None => Err(format!(
                "no response containing {:?} on {topic}; responses seen there: {:?}",
                a[2],
                sent.iter()
                    .filter(|s| s.publish.topic == topic)
                    .map(|s| String::from_utf8_lossy(&s.publish.payload).into_owned())
                    .collect::<Vec<_>>()
            )),
        }
    })
}
