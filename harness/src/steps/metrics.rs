//! Setting metrics in the module.

use cucumber::step::Context;
use futures::future::LocalBoxFuture;
use ovms_firmware::time::Duration;

use super::{args, num, run, StepDef};
use crate::def;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(GivenWhen, r#"^metric "([^"]+)" is set to "([^"]*)"$"#, set),
        def!(
            GivenWhen,
            r#"^metric "([^"]+)" changes every (\d+) seconds for (\d+) minutes$"#,
            changes
        ),
    ]
}

/// Set one metric now (the module decides when to publish it).
fn set(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        w.module()?.set_metric(&a[0], &a[1]).await?;
        w.settle().await
    })
}

/// Give a metric a new value every `every` seconds for `total` minutes (virtual time).
fn changes(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let every: u64 = num(&a[1], "interval")?;
        let total: u64 = num(&a[2], "duration")?;
        if every == 0 {
            return Err("the interval must be at least 1 second".into());
        }
        let steps = total * 60 / every;
        for i in 0..steps {
            // Distinct consecutive values: a repeated value would not count as modified.
            let value = 10 + (i % 80);
            w.module()?.set_metric(&a[0], &value.to_string()).await?;
            w.advance(Duration::from_secs(every)).await?;
        }
        Ok(())
    })
}
