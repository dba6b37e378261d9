//! Virtual app clients: heartbeats on the profile's client topic, wills, and the peer count.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::{MessageKind, TopicVars};
use ovms_firmware::time::Duration;

use super::{args, num, run, StepDef};
use crate::def;
use crate::rig::app::AppClient;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            GivenWhen,
            r#"^an app client "([^"]+)" connects and sends a heartbeat every (\d+) seconds$"#,
            connect
        ),
        def!(
            Given,
            r#"^an app client "([^"]+)" is live before the module starts, sends a heartbeat every (\d+) seconds and (answers the module's connected "yes" at once|does not watch the connected flag)$"#,
            connect_before_module
        ),
        def!(
            Then,
            r#"^app client "([^"]+)" sent a heartbeat at the module time the module connected$"#,
            answered_at_connect
        ),
        def!(
            GivenWhen,
            r#"^app client "([^"]+)" stops sending heartbeats$"#,
            stop_hb
        ),
        def!(GivenWhen, r#"^app client "([^"]+)" vanishes$"#, vanish),
        def!(GivenWhen, r#"^app client "([^"]+)" says goodbye$"#, goodbye),
        def!(Then, r"^the module counts (\d+) peers?$", peers),
        def!(
            Then,
            r#"^the module counts (\d+) peers? between (\d+) and (\d+) seconds after app client "([^"]+)" last sent a heartbeat$"#,
            peers_between
        ),
    ]
}

/// The client id an app client named `name` uses in this scenario.
pub fn client_id(w: &HilWorld, name: &str) -> String {
    format!("{name}-{}", w.vehicle_id)
}

fn connect(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        connect_app(w, &a[0], num(&a[1], "heartbeat interval")?).await
    })
}

/// Connect app client `name` (heartbeat every `every` seconds) and send its first heartbeat.
async fn connect_app(w: &mut HilWorld, name: &str, every: u64) -> Result<(), String> {
    let app = new_app(w, name, every).await?;
    w.apps.insert(name.to_string(), app);
    let now = w.now().await?;
    w.app_publish_heartbeat(name, now).await
}

/// App client `name` on the run's broker, with its will, on the profile's heartbeat topic.
async fn new_app(w: &HilWorld, name: &str, every: u64) -> Result<AppClient, String> {
    if !w.profile.has(MessageKind::ClientActive) {
        return Err(format!(
            "profile {} has no client heartbeat topic",
            w.profile_name
        ));
    }
    let id = client_id(w, name);
    let topic = w.topic(
        MessageKind::ClientActive,
        &TopicVars {
            client_id: Some(&id),
            ..TopicVars::default()
        },
    );
    let qos = w.profile.qos(MessageKind::ClientActive).as_u8();
    let endpoint = w.ctx().broker.endpoint().clone();
    AppClient::connect(&endpoint, &id, topic, qos, Duration::from_secs(every)).await
}

/// An app client connected to the broker before the module exists. Its periodic heartbeats start
/// with its first one: the answer to the module's `yes`, or never when it does not watch.
fn connect_before_module(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        if w.module().is_ok() {
            return Err("the module is already running: this client must come first".into());
        }
        let mut app = new_app(w, &a[0], num(&a[1], "heartbeat interval")?).await?;
        app.answers_connected = a[2].starts_with("answers");
        w.apps.insert(a[0].clone(), app);
        Ok(())
    })
}

/// The client's first heartbeat went out at the module time of the module's connected `yes`.
fn answered_at_connect(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let name = args(&ctx)[0].clone();
        let connected_at = w.connected_at;
        let a = app(w, &name)?;
        match a.last_heartbeat {
            Some(t) if a.heartbeats == 1 && Some(t) == connected_at => Ok(()),
            Some(t) => Err(format!(
                "app client {name}: {} heartbeat(s), the last at t={t}; the module connected at \
                 t={}",
                a.heartbeats,
                connected_at.map_or("?".into(), |c| c.to_string())
            )),
            None => Err(format!(
                "app client {name} sent no heartbeat (the module connected at t={})",
                connected_at.map_or("?".into(), |c| c.to_string())
            )),
        }
    })
}

fn app<'w>(w: &'w mut HilWorld, name: &str) -> Result<&'w mut AppClient, String> {
    w.apps
        .get_mut(name)
        .ok_or_else(|| format!("no app client named {name:?} in this scenario"))
}

fn stop_hb(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        app(w, &args(&ctx)[0])?.stop_heartbeats();
        Ok(())
    })
}

/// The client's connection drops without DISCONNECT: the broker publishes its will `0`, and the
/// module must receive it.
fn vanish(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let before = w.module()?.received_count().await;
        app(w, &args(&ctx)[0])?.vanish();
        w.wait_module_received(before + 1).await
    })
}

/// The client publishes `0` itself.
fn goodbye(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let name = args(&ctx)[0].clone();
        let before = w.module()?.received_count().await;
        let a = app(w, &name)?;
        a.publish(b"0").await?;
        a.stop_heartbeats();
        w.wait_module_received(before + 1).await
    })
}

async fn peer_count(w: &HilWorld) -> Result<Option<u64>, String> {
    let v = w.module()?.metric("s.v3.peers").await?;
    Ok(v.and_then(|s| s.trim().parse().ok()))
}

fn peers(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let want: u64 = num(&args(&ctx)[0], "peers")?;
        match peer_count(w).await? {
            Some(n) if n == want => Ok(()),
            got => Err(format!(
                "s.v3.peers: expected {want}, the module has {}",
                got.map(|n| n.to_string())
                    .unwrap_or_else(|| "no value".into())
            )),
        }
    })
}

/// Move time one second at a time until the peer count is reached; check when that happened.
fn peers_between(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let want: u64 = num(&a[0], "peers")?;
        let lo: u64 = num(&a[1], "seconds")?;
        let hi: u64 = num(&a[2], "seconds")?;
        let last = app(w, &a[3])?
            .last_heartbeat
            .ok_or_else(|| format!("app client {} never sent a heartbeat", a[3]))?;
        loop {
            let now = w.now().await?;
            let since = now.saturating_since(last).as_secs();
            if peer_count(w).await? == Some(want) {
                return if since >= lo {
                    Ok(())
                } else {
                    Err(format!(
                        "s.v3.peers reached {want} only {since} s after the last heartbeat \
                         (expected between {lo} and {hi} s): the client expired too early"
                    ))
                };
            }
            if since > hi {
                return Err(format!(
                    "s.v3.peers is still {} {since} s after app client {}'s last heartbeat \
                     (expected {want} by {hi} s)",
                    peer_count(w)
                        .await?
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "undefined".into()),
                    a[3]
                ));
            }
            w.advance(Duration::from_secs(1)).await?;
        }
    })
}
