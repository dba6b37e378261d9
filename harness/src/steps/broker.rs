//! The broker and what it can be trusted with.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;

use super::{run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(
            Given,
            r"^a broker that keeps retained messages and delivers wills$",
            retain_will
        ),
        def!(
            Given,
            r"^a broker that delivers QoS as published$",
            exact_qos
        ),
    ]
}

fn retain_will(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let c = w.ctx().broker.capabilities();
        if c.retain && c.will {
            Ok(())
        } else {
            Err(format!(
                "the broker ({}) cannot be trusted with retain and wills",
                w.ctx().broker.describe()
            ))
        }
    })
}

fn exact_qos(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        if w.ctx().broker.capabilities().exact_qos {
            Ok(())
        } else {
            Err(format!(
                "the broker ({}) re-stamps QoS on delivery; run with --broker mosquitto",
                w.ctx().broker.describe()
            ))
        }
    })
}
