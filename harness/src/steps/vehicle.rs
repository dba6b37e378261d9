//! The vehicle the module runs, and CAN logs replayed into it.

use std::path::PathBuf;

use cucumber::step::Context;
use futures::future::LocalBoxFuture;

use super::{args, num, run, StepDef};
use crate::def;
use crate::replay::Pace;
use crate::world::HilWorld;

/// Steps of this subject.
pub fn steps() -> Vec<StepDef> {
    vec![
        def!(Given, r#"^the module runs vehicle "([^"]+)"$"#, vehicle),
        def!(
            GivenWhen,
            r#"^the log "([^"]+)" is replayed on the virtual clock$"#,
            replay_virtual
        ),
        def!(
            GivenWhen,
            r#"^the log "([^"]+)" is replayed on the wall clock at (\d+(?:\.\d+)?)x speed$"#,
            replay_wall
        ),
    ]
}

fn vehicle(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        if w.module.is_some() {
            return Err("the vehicle must be chosen before the module starts".into());
        }
        w.vehicle = Some(args(&ctx)[0].clone());
        Ok(())
    })
}

/// A log path as written in a feature: as given, else relative to the repository (the rig
/// directory's parent).
fn resolve(w: &HilWorld, p: &str) -> Result<PathBuf, String> {
    let direct = PathBuf::from(p);
    if direct.is_file() {
        return Ok(direct);
    }
    let root = w
        .ctx()
        .rig_dir
        .parent()
        .unwrap_or(&w.ctx().rig_dir)
        .to_path_buf();
    let rel = root.join(p);
    if rel.is_file() {
        Ok(rel)
    } else {
        Err(format!(
            "log {p} not found (also looked at {})",
            rel.display()
        ))
    }
}

fn replay_virtual(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let path = resolve(w, &args(&ctx)[0])?;
        let stats = w.replay_log(&path, Pace::Virtual).await?;
        if stats.frames == 0 {
            return Err(format!("{}: no frames were fed", path.display()));
        }
        Ok(())
    })
}

fn replay_wall(w: &mut HilWorld, ctx: Context) -> LocalBoxFuture<'_, ()> {
    run(async move {
        let a = args(&ctx);
        let path = resolve(w, &a[0])?;
        let speed: f64 = num(&a[1], "speed")?;
        w.replay_log(&path, Pace::Wall(speed)).await.map(|_| ())
    })
}
