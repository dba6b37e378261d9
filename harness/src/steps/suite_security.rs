//! Security scenarios on the private Mosquitto (see [`super::suite_private`]): TLS with
//! certificate verification, password authentication, anonymous refusal and the per-user ACL
//! `ovms/<user>/#`. Mosquitto acknowledges a subscription the ACL denies and then delivers
//! nothing, so "cannot read" is asserted as silence over a bounded time, next to a positive
//! control that shows the same subscription would have received something.

use std::time::Duration as StdDuration;

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_emu::EmuEvent;
use ovms_firmware::profile::{MessageKind, TopicVars};
use ovms_firmware::time::Duration;
use ovms_hil_net::app::AppClient as NetApp;
use ovms_hil_net::broker::certs::generate_tls_files;
use ovms_hil_net::client::ClientOptions;

use super::suite_private::{self as private, Target, USERS};
use super::{args, num, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            Given,
            r"^a private Mosquitto broker with TLS, password users and the per-user ACL$",
            private_broker
        ),
        def!(
            GivenWhen,
            r"^the private module connects over TLS trusting the broker's CA$",
            tls_right_ca
        ),
        def!(
            GivenWhen,
            r"^the private module connects over TLS trusting another CA$",
            tls_wrong_ca
        ),
        def!(
            GivenWhen,
            r#"^the private module connects to the password listener as "([^"]+)" with password "([^"]*)"$"#,
            auth_connect
        ),
        def!(
            GivenWhen,
            r"^the private module connects to the password listener without credentials$",
            auth_anonymous
        ),
        def!(Then, r"^the private module is connected$", is_connected),
        def!(
            Then,
            r#"^the private module's connection fails with a message containing "([^"]+)"$"#,
            failed_with
        ),
        def!(
            Then,
            r"^the private module tries again after the profile's delay$",
            retries
        ),
        def!(
            Then,
            r#"^user "([^"]+)" reads the private module's retained metric "([^"]+)" = "([^"]*)"$"#,
            user_reads
        ),
        def!(
            Then,
            r#"^user "([^"]+)" receives nothing under the private module's prefix within (\d+) seconds?$"#,
            user_silence
        ),
        def!(
            When,
            r#"^user "([^"]+)" publishes "([^"]*)" on the private module's client topic, retained and live$"#,
            user_writes
        ),
        def!(
            Then,
            r#"^the private module receives nothing within (\d+) seconds?$"#,
            module_silence
        ),
        def!(
            Then,
            r"^an anonymous client is refused by the password listener$",
            anonymous_client
        ),
    ]
}

fn private_broker(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        private::start_broker(w, &mut p).await
    })
}

fn tls_right_ca(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let ca = private::broker(&mut p)?
            .tls()
            .ok_or("the private broker has no TLS listener")?
            .ca_cert;
        private::start_module(w, &mut p, Target::Tls(ca), 5).await
    })
}

fn tls_wrong_ca(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let dir = std::env::temp_dir().join(format!(
            "ovms-hil-other-ca-{}-{}",
            std::process::id(),
            w.vehicle_id
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        p.scratch = Some(dir.clone());
        let other = generate_tls_files(&dir, "some other CA").map_err(|e| e.to_string())?;
        private::start_module(w, &mut p, Target::Tls(other.ca_cert), 5).await
    })
}

fn auth_connect(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        private::start_module(
            w,
            &mut p,
            Target::Auth(Some((a[0].clone(), a[1].clone()))),
            5,
        )
        .await
    })
}

fn auth_anonymous(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        private::start_module(w, &mut p, Target::Auth(None), 5).await
    })
}

fn is_connected(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let m = private::module(&mut p)?;
        let ok = m
            .advance_until(5, |e| matches!(e, EmuEvent::Connected { .. }))
            .await?;
        if ok && m.handle.is_connected().await.map_err(|e| e.to_string())? {
            return Ok(());
        }
        let failures: Vec<String> = m
            .log
            .iter()
            .filter_map(|e| match e {
                EmuEvent::ConnectFailed { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect();
        Err(format!(
            "the private module is not connected; its attempts failed with: {failures:?}"
        ))
    })
}

fn failed_with(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let want = args(&ctx)[0].to_lowercase();
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let m = private::module(&mut p)?;
        m.advance_until(5, |e| {
            matches!(
                e,
                EmuEvent::ConnectFailed { .. } | EmuEvent::Connected { .. }
            )
        })
        .await?;
        m.pump();
        if m.log
            .iter()
            .any(|e| matches!(e, EmuEvent::Connected { .. }))
        {
            return Err(
                "the private module's connection was accepted; it should have failed".into(),
            );
        }
        let messages: Vec<String> = m
            .log
            .iter()
            .filter_map(|e| match e {
                EmuEvent::ConnectFailed { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect();
        if messages.iter().any(|m| m.to_lowercase().contains(&want)) {
            Ok(())
        } else {
            Err(format!(
                "expected a connection failure mentioning {want:?}; the module reported {messages:?}"
            ))
        }
    })
}

/// A failed attempt is retried after the profile's delay (refused or connect-failed): the next
/// attempt starts that long after the failure, to the second (module time).
fn retries(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let r = &w.profile.spec().session.reconnect_secs;
        let (refused_delay, failed_delay) = (r.refused, r.connect_failed);
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let m = private::module(&mut p)?;
        m.pump();
        let Some((failed_at, refused)) = m.log.iter().rev().find_map(|e| match e {
            EmuEvent::ConnectFailed { at, message, .. } => {
                Some((*at, message.contains("refused the connection")))
            }
            _ => None,
        }) else {
            return Err("the private module has not failed to connect".into());
        };
        let delay = if refused { refused_delay } else { failed_delay };
        let next_attempt = |log: &[EmuEvent]| {
            log.iter().find_map(|e| match e {
                EmuEvent::Connecting { at, .. } if *at > failed_at => Some(*at),
                _ => None,
            })
        };
        m.advance_until(
            delay + 5,
            |e| matches!(e, EmuEvent::Connecting { at, .. } if *at > failed_at),
        )
        .await?;
        let Some(at) = next_attempt(&m.log) else {
            return Err(format!(
                "the module did not try again within {} s of the failure (profile delay {delay} s)",
                delay + 5
            ));
        };
        let gap = at.saturating_since(failed_at).as_secs();
        if gap + 1 >= delay && gap <= delay + 1 {
            Ok(())
        } else {
            Err(format!(
                "the module tried again {gap} s after the failure; the profile waits {delay} s"
            ))
        }
    })
}

fn user_creds(name: &str) -> Result<(&'static str, &'static str), String> {
    USERS
        .iter()
        .find(|(u, _)| *u == name)
        .copied()
        .ok_or_else(|| format!("no private broker user {name:?} (users: alice, bob)"))
}

fn user_reads(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let creds = user_creds(&a[0])?;
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let prefix = private::module(&mut p)?.prefix.clone();
        let auth = private::broker(&mut p)?
            .auth()
            .ok_or("no password listener")?;
        let topic = private::metric_topic(w, &prefix, &a[1]);
        // The connect pass runs on the connect tick or the next one.
        private::module(&mut p)?
            .advance(Duration::from_secs(3))
            .await?;
        private::witnessed(&p, 0, &topic, a[2].as_bytes()).await?;
        let name = format!("reader-{}", a[0]);
        private::observe(&mut p, &name, auth, Some(creds), &topic).await?;
        let obs = &p.observers[&name];
        let got = obs
            .wait_for(StdDuration::from_secs(2), |s| s.topic == topic)
            .await
            .map_err(|_| format!("user {} got nothing on {topic} within 2 s", a[0]))?;
        if got.payload == a[2].as_bytes() && got.retain {
            Ok(())
        } else {
            Err(format!(
                "user {} got {:?} (retain={}) on {topic}, expected {:?} retained",
                a[0],
                got.text(),
                got.retain,
                a[2]
            ))
        }
    })
}

fn user_silence(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let secs: u64 = num(&a[1], "seconds")?;
        let creds = user_creds(&a[0])?;
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let prefix = private::module(&mut p)?.prefix.clone();
        let auth = private::broker(&mut p)?
            .auth()
            .ok_or("no password listener")?;
        let filter = format!("{prefix}#");
        let name = format!("intruder-{}", a[0]);
        // The SUBSCRIBE is acknowledged even when the ACL denies it.
        private::observe(&mut p, &name, auth, Some(creds), &filter).await?;
        // Something live under the prefix during the window: the module publishes a change.
        let m = private::module(&mut p)?;
        m.handle
            .set_metric("v.b.soc", "42")
            .await
            .map_err(|e| e.to_string())?;
        m.advance(Duration::from_secs(700)).await?;
        let obs = &p.observers[&name];
        match obs
            .expect_silence(&filter, StdDuration::from_secs(secs))
            .await
        {
            Ok(()) if obs.seen().is_empty() => Ok(()),
            Ok(()) => Err(format!(
                "user {} received {:?} under {prefix}",
                a[0],
                obs.seen()
                    .iter()
                    .map(|s| s.topic.clone())
                    .collect::<Vec<_>>()
            )),
            Err(s) => Err(format!(
                "user {} received {:?} on {} (retain={}) under another user's prefix {prefix}",
                a[0],
                s.text(),
                s.topic,
                s.retain
            )),
        }
    })
}

fn user_writes(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let creds = user_creds(&a[0])?;
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let prefix = private::module(&mut p)?.prefix.clone();
        let auth = private::broker(&mut p)?
            .auth()
            .ok_or("no password listener")?;
        let topic = w.profile.topic(
            MessageKind::ClientActive,
            &prefix,
            &TopicVars {
                client_id: Some("intruder"),
                ..TopicVars::default()
            },
        );
        let app = NetApp::connect(
            ClientOptions::new(auth, format!("hil-writer-{}", w.vehicle_id))
                .with_credentials(creds.0, creds.1)
                .without_reconnect(),
        )
        .await
        .map_err(|e| format!("user {}: {e}", a[0]))?;
        app.publish_confirmed(
            &topic,
            a[1].as_bytes().to_vec(),
            1,
            true,
            StdDuration::from_secs(2),
        )
        .await
        .map_err(|e| format!("user {}: {e}", a[0]))?;
        app.publish_confirmed(
            &topic,
            a[1].as_bytes().to_vec(),
            1,
            false,
            StdDuration::from_secs(2),
        )
        .await
        .map_err(|e| format!("user {}: {e}", a[0]))?;
        let _ = app.disconnect().await;
        Ok(())
    })
}

fn module_silence(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let secs: u64 = num(&args(&ctx)[0], "seconds")?;
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let m = private::module(&mut p)?;
        let is_rx = |e: &EmuEvent| matches!(e, EmuEvent::Received { .. });
        let got = EmuHandle_wait(m, secs, is_rx).await?;
        match got {
            None => Ok(()),
            Some(EmuEvent::Received { publish, .. }) => Err(format!(
                "the module received {:?} on {} from another user",
                String::from_utf8_lossy(&publish.payload),
                publish.topic
            )),
            Some(e) => Err(format!("unexpected event {e:?}")),
        }
    })
}

/// Wait `secs` of wall time for an event matching `pred` (the module time moves by one second
/// at the end so anything the edge read is fed); the first match, if any.
#[allow(non_snake_case)]
async fn EmuHandle_wait(
    m: &mut private::PrivModule,
    secs: u64,
    pred: impl Fn(&EmuEvent) -> bool,
) -> Result<Option<EmuEvent>, String> {
    let before = m.count(&pred);
    let got =
        ovms_emu::EmuHandle::wait_event(&mut m.events, StdDuration::from_secs(secs), &pred).await;
    if let Some(e) = got {
        return Ok(Some(e));
    }
    m.advance(Duration::from_secs(1)).await?;
    if m.count(&pred) > before {
        return Ok(m.log.iter().rev().find(|e| pred(e)).cloned());
    }
    Ok(None)
}

fn anonymous_client(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let auth = private::broker(&mut p)?
            .auth()
            .ok_or("no password listener")?;
        let r = NetApp::connect(
            ClientOptions::new(auth, format!("hil-anon-{}", w.vehicle_id)).without_reconnect(),
        )
        .await;
        match r {
            Err(e) => {
                let text = e.to_string();
                if text.to_lowercase().contains("refused") || text.contains("authori") {
                    Ok(())
                } else {
                    Err(format!(
                        "the anonymous client failed, but not by refusal: {text}"
                    ))
                }
            }
            Ok(app) => {
                let ok = app.wait_connacks(1, StdDuration::from_secs(2)).await;
                app.abort();
                match ok {
                    Ok(()) => Err("the password listener accepted an anonymous client".into()),
                    Err(_) => Ok(()),
                }
            }
        }
    })
}
