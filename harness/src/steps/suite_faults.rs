//! Fault scenarios on the private rig (see [`super::suite_private`]): a half-open network found
//! by the broker's keepalive, the broker killed and restarted mid-scenario, the broker
//! unreachable at start, and a client that disappears without a will.

use std::time::{Duration as StdDuration, Instant as WallInstant};

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_emu::EmuEvent;
use ovms_firmware::profile::{ExpiryCheck, MessageKind, TopicVars};
use ovms_firmware::time::Duration;
use ovms_hil_net::app::AppClient as NetApp;
use ovms_hil_net::client::ClientOptions;

use super::clients::client_id;
use super::suite_private::{self as private, Target};
use super::{args, num, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            GivenWhen,
            r"^the private module connects through a fault-injecting tap with a keepalive of (\d+) seconds$",
            tapped
        ),
        def!(
            Given,
            r"^a subscriber watches the private module's connected flag$",
            watch_flag
        ),
        def!(
            When,
            r"^the private module's network goes half-open$",
            half_open
        ),
        def!(
            Then,
            r"^the subscriber receives the will between (\d+) and (\d+) seconds after the fault$",
            will_between
        ),
        def!(When, r"^the private broker is killed$", kill),
        def!(When, r"^the private broker is stopped$", stop),
        def!(When, r"^the private broker is restarted$", restart),
        def!(
            Then,
            r"^the private module notices the lost connection$",
            notices_loss
        ),
        def!(
            Then,
            r"^the private module reconnects after the profile's delay and sends its full state$",
            reconnects_full
        ),
        def!(
            Then,
            r#"^a late subscriber to the private broker receives metric "([^"]+)" = "([^"]*)" and the connected flag "([^"]*)", retained$"#,
            late_private
        ),
        def!(
            GivenWhen,
            r"^the private module starts while its broker is unreachable$",
            start_unreachable
        ),
        def!(
            GivenWhen,
            r#"^a client "([^"]+)" without a will announces itself and vanishes$"#,
            vanish_without_will
        ),
        def!(
            Then,
            r#"^the module stops counting client "([^"]+)" within the profile's expiry bound$"#,
            expires_within_bound
        ),
    ]
}

fn tapped(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let ka: u16 = num(&args(&ctx)[0], "keepalive")?;
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        private::start_broker(w, &mut p).await?;
        private::start_module(w, &mut p, Target::Tapped(Some(ka)), 5).await?;
        let m = private::module(&mut p)?;
        if m.count(|e| matches!(e, EmuEvent::Connected { .. })) == 0 {
            return Err("the private module did not connect through the tap".into());
        }
        // The connect pass (`yes` and the metrics) goes out within a few ticks.
        m.advance(Duration::from_secs(3)).await
    })
}

fn watch_flag(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let prefix = private::module(&mut p)?.prefix.clone();
        let plain = p.plain.clone().ok_or("no private broker")?;
        let topic = private::connected_topic(w, &prefix);
        private::observe(&mut p, "flag", plain, None, &topic).await?;
        let obs = &p.observers["flag"];
        obs.wait_for(StdDuration::from_secs(3), |s| {
            s.topic == topic && s.payload == b"yes"
        })
        .await
        .map(|_| ())
        .map_err(|_| format!("the subscriber never saw `yes` on {topic}"))
    })
}

fn half_open(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let m = private::module(&mut p)?;
        let tap = m
            .tap
            .as_ref()
            .ok_or("the private module has no tap (connect it through one)")?;
        tap.faults().half_open();
        p.fault_at = Some(WallInstant::now());
        Ok(())
    })
}

/// The broker (not the module: its clock stands still) finds the dead link by keepalive
/// (1.5 × keepalive) and publishes the will: not before `lo` seconds, by `hi` seconds.
fn will_between(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let lo: u64 = num(&a[0], "seconds")?;
        let hi: u64 = num(&a[1], "seconds")?;
        let want = w.profile.will("").payload;
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let prefix = private::module(&mut p)?.prefix.clone();
        let topic = private::connected_topic(w, &prefix);
        let at = p.fault_at.ok_or("no fault was injected")?;
        let obs = p
            .observers
            .get("flag")
            .ok_or("no subscriber watches the flag")?;
        let left = StdDuration::from_secs(hi).saturating_sub(at.elapsed());
        let got = obs
            .wait_for(left, |s| s.topic == topic && s.payload == want)
            .await;
        let after = at.elapsed();
        match got {
            Err(_) => Err(format!(
                "no will {:?} on {topic} within {hi} s of the fault (seen: {:?})",
                String::from_utf8_lossy(&want),
                obs.seen().iter().map(|s| s.text()).collect::<Vec<_>>()
            )),
            Ok(_) if after < StdDuration::from_secs(lo) => Err(format!(
                "the will came {} ms after the fault, sooner than the keepalive bound of {lo} s",
                after.as_millis()
            )),
            Ok(_) => Ok(()),
        }
    })
}

fn kill(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        private::broker(&mut p)?
            .kill()
            .await
            .map_err(|e| e.to_string())?;
        p.fault_at = Some(WallInstant::now());
        Ok(())
    })
}

fn stop(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        private::start_broker(w, &mut p).await?;
        private::broker(&mut p)?
            .stop()
            .await
            .map_err(|e| e.to_string())
    })
}

fn restart(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        p.mark = p
            .observers
            .get("witness")
            .map(|o| o.seen().len())
            .unwrap_or(0);
        private::broker(&mut p)?
            .restart()
            .await
            .map_err(|e| e.to_string())
    })
}

fn notices_loss(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let m = private::module(&mut p)?;
        // The edge reads the closed socket in wall time; module time stands still meanwhile.
        let lost = |e: &EmuEvent| matches!(e, EmuEvent::ConnectionLost { .. });
        for _ in 0..50 {
            if m.count(lost) > 0 {
                return Ok(());
            }
            let _ =
                ovms_emu::EmuHandle::wait_event(&mut m.events, StdDuration::from_millis(100), lost)
                    .await
                    .map(|e| m.log.push(e));
            m.advance(Duration::ZERO).await?;
        }
        Err("the module never noticed that the broker went away".into())
    })
}

/// No CONNECT before the profile's delay after the loss; one right after it; then the full pass
/// (the connected flag `yes` again).
fn reconnects_full(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let delay = w.profile.spec().session.reconnect_secs.connection_lost;
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let m = private::module(&mut p)?;
        let attempt = |e: &EmuEvent| matches!(e, EmuEvent::Connecting { .. });
        let connected = |e: &EmuEvent| matches!(e, EmuEvent::Connected { .. });
        let a0 = m.count(attempt);
        let c0 = m.count(connected);
        m.advance(Duration::from_secs(delay.saturating_sub(1)))
            .await?;
        if m.count(attempt) > a0 {
            return Err(format!(
                "the module reconnected before the profile's {delay} s delay"
            ));
        }
        m.advance(Duration::from_secs(2)).await?;
        if !m
            .advance_until(5, |e| matches!(e, EmuEvent::Connected { .. }))
            .await?
            || m.count(connected) == c0
        {
            return Err(format!(
                "the module did not reconnect within {} s after the loss (profile delay {delay} s)",
                delay + 6
            ));
        }
        m.advance(Duration::from_secs(3)).await
    })
}

fn late_private(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        let prefix = private::module(&mut p)?.prefix.clone();
        let plain = p.plain.clone().ok_or("no private broker")?;
        let metric = private::metric_topic(w, &prefix, &a[0]);
        let flag = private::connected_topic(w, &prefix);
        private::witnessed(&p, p.mark, &metric, a[1].as_bytes()).await?;
        private::witnessed(&p, p.mark, &flag, a[2].as_bytes()).await?;
        private::observe(&mut p, "late", plain, None, &format!("{prefix}#")).await?;
        let obs = &p.observers["late"];
        for (topic, want) in [(&metric, &a[1]), (&flag, &a[2])] {
            let got = obs
                .wait_for(StdDuration::from_secs(2), |s| {
                    s.topic == *topic && s.retain && s.payload == want.as_bytes()
                })
                .await;
            if got.is_err() {
                return Err(format!(
                    "a late subscriber got no retained {want:?} on {topic}; it saw {:?}",
                    obs.seen()
                        .iter()
                        .map(|s| format!("{} {:?} retain={}", s.topic, s.text(), s.retain))
                        .collect::<Vec<_>>()
                ));
            }
        }
        Ok(())
    })
}

fn start_unreachable(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let slot = private::slot(w);
        let mut p = slot.lock().await;
        private::start_broker(w, &mut p).await?;
        private::broker(&mut p)?
            .stop()
            .await
            .map_err(|e| e.to_string())?;
        // The password listener's port, now closed: a TCP connect is refused.
        private::start_module(
            w,
            &mut p,
            Target::Auth(Some(("alice".into(), "alice-secret".into()))),
            5,
        )
        .await
    })
}

fn vanish_without_will(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let name = args(&ctx)[0].clone();
        let cid = client_id(w, &name);
        let topic = w.topic(
            MessageKind::ClientActive,
            &TopicVars {
                client_id: Some(&cid),
                ..TopicVars::default()
            },
        );
        let app = NetApp::connect(
            ClientOptions::new(w.ctx().broker.endpoint().clone(), cid.clone()).without_reconnect(),
        )
        .await
        .map_err(|e| format!("client {name}: {e}"))?;
        let before = w.module()?.received_count().await;
        app.publish_confirmed(&topic, b"1".to_vec(), 1, false, StdDuration::from_secs(2))
            .await
            .map_err(|e| format!("client {name}: {e}"))?;
        w.wait_module_received(before + 1).await?;
        // Gone without DISCONNECT and without a will: the broker tells nobody.
        app.abort();
        w.advance(Duration::from_secs(1)).await
    })
}

async fn peers(w: &HilWorld) -> Result<Option<u64>, String> {
    Ok(w.module()?
        .metric("s.v3.peers")
        .await?
        .and_then(|v| v.trim().parse().ok()))
}

/// Counted now; uncounted no sooner than the expiry and no later than expiry + the purge ticker
/// (for ticker-purged profiles) + one second.
fn expires_within_bound(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let name = args(&ctx)[0].clone();
        let c = &w.profile.spec().clients;
        let expiry = c.expiry_secs;
        let bound = expiry
            + match c.expiry_check {
                ExpiryCheck::Exact => 0,
                ExpiryCheck::Ticker => c.ticker_secs,
            }
            + 2;
        if peers(w).await? != Some(1) {
            return Err(format!(
                "client {name} is not counted after its heartbeat (s.v3.peers = {:?})",
                peers(w).await?
            ));
        }
        let mut waited = 1u64; // the announce step moved one second already
        loop {
            if peers(w).await? == Some(0) {
                return if waited + 1 >= expiry {
                    Ok(())
                } else {
                    Err(format!(
                        "client {name} expired after {waited} s, before the profile's {expiry} s"
                    ))
                };
            }
            if waited > bound {
                return Err(format!(
                    "client {name} is still counted {waited} s after its last heartbeat \
                     (profile bound {bound} s): a client without a will never expires"
                ));
            }
            w.advance(Duration::from_secs(1)).await?;
            waited += 1;
        }
    })
}
