//! The module, its `server.v3` parameters and its boot state.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;

use super::{args, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(Given, r"^the module is connected to the broker$", connected),
        def!(
            Given,
            r#"^the module's parameter "([^"]+)" is "([^"]*)"$"#,
            param
        ),
        def!(
            Given,
            r#"^metric "([^"]+)" is "([^"]*)" at boot$"#,
            boot_metric
        ),
    ]
}

/// Start tap, observer and module; wait until the module announced it is connected.
fn connected(w: &mut HilWorld, _ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move { w.start_module().await })
}

/// Set a `server.v3` parameter before the module starts.
fn param(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        if w.module.is_some() {
            return Err(format!(
                "parameter {} must be set before `the module is connected to the broker`",
                a[0]
            ));
        }
        w.params.insert(a[0].clone(), a[1].clone());
        Ok(())
    })
}

/// A metric value the module has at boot.
fn boot_metric(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        if w.module.is_some() {
            return Err("boot metrics must be set before the module starts".into());
        }
        w.initial_metrics.push((a[0].clone(), a[1].clone()));
        Ok(())
    })
}
