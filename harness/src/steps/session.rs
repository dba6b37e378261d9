//! The session: CONNECT and its will (from the tap), power and network cuts, will delivery (observer).
//!
//! On a bench rig (wall clock) the will is awaited until 1.5 × keepalive + `bench.tolerance.expiry_ms`
//! after the power cut and its delay is checked with that tolerance.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::profile::{MessageKind, TopicVars};

use super::{run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            Then,
            r"^the module's CONNECT carries the profile's will$",
            connect_will
        ),
        def!(GivenWhen, r"^the module loses power$", power_cut),
        def!(GivenWhen, r"^the module's network is cut$", network_cut),
        def!(
            Then,
            r"^subscribers receive the will on the connected topic$",
            will_delivered
        ),
    ]
}

/// The last CONNECT the module sent carries exactly the profile's will.
fn connect_will(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let connects = w.connects();
        let c = connects
            .last()
            .ok_or("the tap saw no CONNECT from the module")?;
        let want = w.profile.will(&w.prefix);
        let Some(got) = &c.will else {
            return Err(format!(
                "the module's CONNECT (client id {}) sets no will; profile {} wants {:?} on {} (QoS {}, retain {})",
                c.client_id,
                w.profile_name,
                String::from_utf8_lossy(&want.payload),
                want.topic,
                want.qos.as_u8(),
                want.retain
            ));
        };
        let mut errs = Vec::new();
        if got.topic != want.topic {
            errs.push(format!(
                "will topic {} (expected {})",
                got.topic, want.topic
            ));
        }
        if got.payload != want.payload {
            errs.push(format!(
                "will payload {:?} (expected {:?})",
                String::from_utf8_lossy(&got.payload),
                String::from_utf8_lossy(&want.payload)
            ));
        }
        if got.qos != want.qos.as_u8() {
            errs.push(format!(
                "will QoS {} (expected {})",
                got.qos,
                want.qos.as_u8()
            ));
        }
        if got.retain != want.retain {
            errs.push(format!(
                "will retain={} (expected {})",
                got.retain, want.retain
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the module's CONNECT will differs from profile {}: {}",
                w.profile_name,
                errs.join("; ")
            ))
        }
    })
}

fn power_cut(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        w.settle().await?;
        w.module()?.power_cut().await
    })
}

fn network_cut(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        w.settle().await?;
        w.module()?.network_cut().await
    })
}

/// The observer (subscribed before the module connected) gets the profile's will payload on the
/// connected topic after the `yes` it saw before.
fn will_delivered(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let topic = w.topic(MessageKind::Connected, &TopicVars::default());
        let want = w.profile.will(&w.prefix).payload;
        let obs = w
            .observer
            .as_ref()
            .ok_or("no observer: the module never started")?;
        let mut timeout = std::time::Duration::from_millis(w.ctx().rig.timing.settle_ms.max(100));
        // Wall-clock mode: the broker fires the will 1.5 × keepalive after the module's last
        // packet, whatever module time the scenario let pass; wait for that (+ the rig's expiry
        // tolerance) from the power cut, and check the delay with that tolerance.
        let bench = w.module.as_ref().and_then(|m| m.bench()).and_then(|b| {
            let ka = w.connects().last().map(|c| c.keep_alive)?;
            Some((b.halted_at()?, ka, b.rig().tolerance.expiry))
        });
        if let Some((halted, ka, tol)) = bench {
            let expiry = ovms_hil_bench::tolerance::expected_will_delay(ka);
            timeout = timeout.max((expiry + tol).saturating_sub(halted.elapsed()));
        }
        let got = obs
            .wait_for(timeout, |s| s.topic == topic && s.payload == want)
            .await;
        if let (Some(seen), Some((halted, ka, tol))) = (&got, bench) {
            let expiry = ovms_hil_bench::tolerance::expected_will_delay(ka);
            // Arrival (the observer's wall stamp) minus the cut, both as Unix seconds.
            let now_unix = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            let cut_unix = now_unix - halted.elapsed().as_secs_f64();
            let delay = std::time::Duration::from_secs_f64((seen.wall - cut_unix).max(0.0));
            ovms_hil_bench::tolerance::check_expiry("will after the power cut", delay, expiry, tol)
                .map_err(|e| e.to_string())?;
        }
        match got {
            Some(_) => Ok(()),
            None => Err(format!(
                "no will: subscribers did not receive {:?} on {topic} within {} ms after the connection was lost \
                 (what they saw on that topic: {:?})",
                String::from_utf8_lossy(&want),
                timeout.as_millis(),
                obs.seen()
                    .iter()
                    .filter(|s| s.topic == topic)
                    .map(|s| s.text())
                    .collect::<Vec<_>>()
            )),
        }
    })
}
