//! Moving the module's clock (event to event on the virtual clock, with the barrier after each stop).

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::time::Duration;

use super::{args, num, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(GivenWhen, r"^(\d+) minutes? pass(?:es)?$", minutes),
        def!(GivenWhen, r"^(\d+) seconds? pass(?:es)?$", seconds),
    ]
}

fn minutes(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let m: u64 = num(&args(&ctx)[0], "minutes")?;
        w.advance(Duration::from_secs(m * 60)).await
    })
}

fn seconds(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let s: u64 = num(&args(&ctx)[0], "seconds")?;
        w.advance(Duration::from_secs(s)).await
    })
}
