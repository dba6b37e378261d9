//! Moving the module's clock (event to event on the virtual clock, with the barrier after each stop).
//!
//! Wall-clock mode (bench rigs): the same steps wait on the wall clock. `N minutes pass` is N
//! minutes of *module* time as the scenario is written for the firmware's intervals; the bench
//! rig waits `N min × scale`, where scale = the largest `shortened / profile default` among the
//! rig's `bench.intervals` (`ovms_hil::rig::bench::wall_scale`), so every shortened cadence gets
//! at least as many passes as on the emulator. Cadence checks then expect the SHORTENED interval
//! with `bench.tolerance.cadence_ms`, and the will is awaited 1.5 × keepalive (wall) after the
//! power cut with `bench.tolerance.expiry_ms` (see `steps::publish`, `steps::session`).

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
