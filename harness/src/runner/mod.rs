//! The one runner behind `ovms-hil run` and the `bdd` test target.
//!
//! Order of work in [`run`]: find and pre-parse the features (syntax errors stop the run with
//! `file:line:col`), load the rig, load the profiles, start the broker once, expand each feature
//! once per profile ([`expand`]), run cucumber with the step collection, collect results, stop the
//! broker, write JUnit. The console shows cucumber's progress as scenarios finish; the caller prints
//! [`crate::report::summary::render`] afterwards.

pub mod context;
pub mod expand;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::Ext as _;
use cucumber::{cli, gherkin, writer, Cucumber};
use futures::FutureExt as _;
use ovms_firmware::profile::Profile;

use crate::config::RunConfig;
use crate::features::{self, FeatureError};
use crate::report::collect::Collector;
use crate::report::{junit, RunResults};
use crate::rig::file::{RigError, RigFile, RigKind};
use crate::world::HilWorld;

/// Why a run could not start or finish (scenario failures are results, not errors).
#[derive(Debug)]
pub enum RunError {
    /// Feature files missing or with syntax errors (all of them, each `file:line:col`).
    Features(Vec<FeatureError>),
    /// The rig file is missing or invalid.
    Rig(RigError),
    /// A profile could not be loaded.
    Profile(String),
    /// The tag expression does not parse.
    Tags(String),
    /// No broker could be started.
    Broker(String),
    /// A report file could not be written.
    Report(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Features(errs) => {
                for (i, e) in errs.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            RunError::Rig(e) => write!(f, "{e}"),
            RunError::Profile(m) => write!(f, "profile: {m}"),
            RunError::Tags(m) => write!(f, "--tags: {m}"),
            RunError::Broker(m) => write!(f, "broker: {m}"),
            RunError::Report(m) => write!(f, "report: {m}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Parse a cucumber tag expression (`@a and not @b`).
pub fn parse_tags(expr: &str) -> Result<TagOperation, RunError> {
    TagOperation::from_str(expr).map_err(|e| RunError::Tags(format!("`{expr}`: {e}")))
}

/// Load the profiles named in `names`; a bench rig that pins a profile restricts the run to it.
pub fn load_profiles(
    names: &[String],
    rig: &RigFile,
) -> Result<BTreeMap<String, Arc<Profile>>, RunError> {
    let mut out = BTreeMap::new();
    let wanted: Vec<String> = match &rig.module.profile {
        Some(pinned) => vec![pinned.clone()],
        None => names.to_vec(),
    };
    for n in &wanted {
        let p = Profile::by_name_or_path(n).map_err(|e| RunError::Profile(e.to_string()))?;
        out.insert(p.name().to_string(), Arc::new(p));
    }
    Ok(out)
}

/// Load the rig file named in `cfg`.
pub fn load_rig(path: &Path) -> Result<(RigFile, PathBuf), RunError> {
    let rig = RigFile::load(path).map_err(RunError::Rig)?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((rig, dir))
}

/// Run the selected scenarios once per profile. Returns the results even when scenarios fail.
pub async fn run(cfg: &RunConfig) -> Result<RunResults, RunError> {
    let _lock = context::run_lock().lock().await;
    let started = std::time::Instant::now();

    let files = features::discover(&cfg.paths).map_err(|e| RunError::Features(vec![e]))?;
    let (parsed, errors) = features::parse_all(&files);
    if !errors.is_empty() {
        return Err(RunError::Features(errors));
    }
    let (rig, rig_dir) = load_rig(&cfg.rig)?;
    let tag_filter = cfg.tags.as_deref().map(parse_tags).transpose()?;
    let profiles = load_profiles(&cfg.profiles, &rig)?;
    // A bench rig has one module behind one fixed tap address: its scenarios run one at a time,
    // and scenarios that need the emulator's insides (`@emulated-only`) are skipped with a reason.
    let bench = rig.kind == RigKind::Bench;
    // Scenarios that start a Mosquitto of their own (`@needs-mosquitto`: security, broker
    // restarts) are skipped with a reason when there is no mosquitto binary to start.
    let have_mosquitto = ovms_hil_net::broker::mosquitto::find_binary().is_some();

    let choice = cfg
        .broker
        .clone()
        .or_else(|| rig.broker.clone())
        .unwrap_or_else(|| "auto".into());
    let broker = crate::adapt::broker::start(&choice)
        .await
        .map_err(RunError::Broker)?;
    println!("{}", broker.describe());
    println!(
        "rig: {} ({}); profiles: {}",
        rig.name.as_deref().unwrap_or("unnamed"),
        rig.kind,
        profiles.keys().cloned().collect::<Vec<_>>().join(", ")
    );

    if let Some(dir) = &cfg.capture_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| RunError::Report(format!("{}: {e}", dir.display())))?;
    }
    let profile_names: Vec<String> = profiles.keys().cloned().collect();
    let ctx = Arc::new(context::RunContext::new(
        rig,
        rig_dir,
        broker.clone(),
        profiles,
        cfg.capture_dir.clone(),
    ));
    let installed = context::install(ctx.clone());

    let shared: Arc<Mutex<RunResults>> = Arc::default();
    let json_out: Box<dyn Write> = match &cfg.json {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .map_err(|e| RunError::Report(format!("{}: {e}", p.display())))?,
        ),
        None => Box::new(std::io::sink()),
    };
    let writer = writer::Basic::stdout()
        .summarized()
        .tee::<HilWorld, _>(
            Collector::new(shared.clone())
                .discard_stats_writes()
                .discard_arbitrary_writes(),
        )
        .tee::<HilWorld, _>(writer::Json::for_tee(json_out))
        .normalized();
    let runner = cucumber::runner::Basic::default()
        .steps(crate::steps::collection())
        .max_concurrent_scenarios(if bench { 1 } else { cfg.concurrency.max(1) })
        .retries((cfg.retries > 0).then_some(cfg.retries))
        .before(|feature, rule, scenario, world: &mut HilWorld| {
            world.begin(feature, rule, scenario).boxed_local()
        })
        .after(|_f, _r, _scenario, _ev, world: Option<&mut HilWorld>| {
            async move {
                if let Some(w) = world {
                    w.finish().await;
                }
            }
            .boxed_local()
        });
    let expanded = expand::expand(&parsed, &profile_names);
    Cucumber::<HilWorld, _, Vec<gherkin::Feature>, _, _, cli::Empty>::custom(
        expand::ExpandedParser,
        runner,
        writer,
    )
    .with_default_cli()
    .filter_run(expanded, move |feature, rule, scenario| {
        let tags: Vec<&String> = feature
            .tags
            .iter()
            .chain(rule.iter().flat_map(|r| r.tags.iter()))
            .chain(scenario.tags.iter())
            .collect();
        if let Some(op) = &tag_filter {
            if !op.eval(tags.iter().map(|s| s.as_str())) {
                return false;
            }
        }
        let has = |tag: &str| tags.iter().any(|t| *t == tag);
        if bench && has("emulated-only") {
            eprintln!(
                "skipped on bench rig (@emulated-only): {}: {}",
                feature.name, scenario.name
            );
            return false;
        }
        if !have_mosquitto && has("needs-mosquitto") {
            eprintln!(
                "skipped, no mosquitto binary on this machine (@needs-mosquitto; install \
                 mosquitto or set OVMS_HIL_MOSQUITTO): {}: {}",
                feature.name, scenario.name
            );
            return false;
        }
        true
    })
    .await;

    drop(installed);
    let protocol_time = ctx.protocol_time();
    drop(ctx);
    broker.stop().await;

    let mut results = std::mem::take(&mut *shared.lock().unwrap_or_else(|p| p.into_inner()));
    results.wall = started.elapsed();
    results.protocol_time = protocol_time;
    if let Some(p) = &cfg.junit {
        junit::write(&results, p).map_err(|e| RunError::Report(format!("{}: {e}", p.display())))?;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_expressions_parse_and_evaluate() {
        let op = parse_tags("@V3-MET-1 and not @slow").unwrap();
        assert!(op.eval(["V3-MET-1"].iter()));
        assert!(!op.eval(["V3-MET-1", "slow"].iter()));
        assert!(parse_tags("@a and and").is_err());
    }
}
