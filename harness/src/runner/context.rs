//! What every scenario of one run shares: the rig, the broker, the profiles, counters.
//!
//! cucumber creates each scenario's world with `World::new()`, which takes no arguments, so the run
//! installs one [`RunContext`] here before it starts cucumber and removes it afterwards. Runs in one
//! process are serialised by [`run_lock`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ovms_firmware::profile::Profile;

use crate::adapt::broker::SharedBroker;
use crate::rig::file::RigFile;

/// Shared state of one run.
#[derive(Debug)]
pub struct RunContext {
    /// The rig file in use.
    pub rig: RigFile,
    /// Directory of the rig file (relative paths inside it resolve from here).
    pub rig_dir: PathBuf,
    /// The broker every scenario connects to.
    pub broker: SharedBroker,
    /// Profiles by the name scenarios are expanded with.
    pub profiles: BTreeMap<String, Arc<Profile>>,
    /// Where per-scenario capture files go.
    pub capture_dir: Option<PathBuf>,
    next_scenario: AtomicU64,
    protocol_ms: AtomicU64,
}

impl RunContext {
    /// A context for one run.
    pub fn new(
        rig: RigFile,
        rig_dir: PathBuf,
        broker: SharedBroker,
        profiles: BTreeMap<String, Arc<Profile>>,
        capture_dir: Option<PathBuf>,
    ) -> RunContext {
        RunContext {
            rig,
            rig_dir,
            broker,
            profiles,
            capture_dir,
            next_scenario: AtomicU64::new(1),
            protocol_ms: AtomicU64::new(0),
        }
    }

    /// A fresh number for a scenario (makes its vehicle id unique on the shared broker).
    pub fn next_scenario_number(&self) -> u64 {
        self.next_scenario.fetch_add(1, Ordering::Relaxed)
    }

    /// Add protocol (module) time a scenario moved through.
    pub fn add_protocol_time(&self, ms: u64) {
        self.protocol_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Protocol time all scenarios moved through so far.
    pub fn protocol_time(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.protocol_ms.load(Ordering::Relaxed))
    }
}

static CURRENT: RwLock<Option<Arc<RunContext>>> = RwLock::new(None);
static RUN_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The lock every run holds while it uses the global context.
pub fn run_lock() -> &'static tokio::sync::Mutex<()> {
    &RUN_LOCK
}

/// The context of the run in progress, if any.
pub fn current() -> Option<Arc<RunContext>> {
    CURRENT.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Install `ctx` as the current context until the guard is dropped.
pub fn install(ctx: Arc<RunContext>) -> Installed {
    *CURRENT.write().unwrap_or_else(|p| p.into_inner()) = Some(ctx);
    Installed(())
}

/// Removes the current context when dropped.
#[derive(Debug)]
pub struct Installed(());

impl Drop for Installed {
    fn drop(&mut self) {
        *CURRENT.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
