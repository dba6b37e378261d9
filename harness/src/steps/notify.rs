//! Notifications raised in the module and published on the profile's notify topics.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::{MessageKind, TopicVars};

use super::publish::check_flags;
use super::{args, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            GivenWhen,
            r#"^the module raises a "([^"]+)" notification "([^"]+)" with text "([^"]*)"$"#,
            raise
        ),
        def!(
            Then,
            r#"^the module publishes the "([^"]+)" notification "([^"]+)" with text "([^"]*)"$"#,
            published
        ),
    ]
}

fn kind_of(t: &str) -> MessageKind {
    if t == "data" {
        MessageKind::NotifyData
    } else {
        MessageKind::Notify
    }
}

fn raise(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        w.module()?.notify(&a[0], &a[1], &a[2]).await?;
        // Notifications go out on the next tick.
        w.advance(ovms_firmware::time::Duration::from_secs(2)).await
    })
}

fn published(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let kind = kind_of(&a[0]);
        if !w.profile.has(kind) {
            return Err(format!(
                "profile {} has no {} notifications",
                w.profile_name, a[0]
            ));
        }
        w.settle().await?;
        let filter = w.topic(
            kind,
            &TopicVars {
                notify_kind: Some(&a[0]),
                subtype: Some(&a[1]),
                ..TopicVars::default()
            },
        );
        let sent = w.sent();
        let hit = sent.iter().find(|s| {
            crate::adapt::tap::topic_matches(&filter, &s.publish.topic)
                && String::from_utf8_lossy(&s.publish.payload) == a[2]
        });
        match hit {
            Some(s) => check_flags(w, kind, &s.publish, &format!("{} notification", a[0])),
            None => {
                Err(format!(
                "no {} notification {:?} with text {:?} on {filter}; the module published on: {:?}",
                a[0],
                a[1],
                a[2],
                sent.iter().map(|s| s.publish.topic.as_str()).collect::<Vec<_>>()
            ))
            }
        }
    })
}
