//! Where the module under test is.
//!
//! - [`file`]: the `rigs/*.yaml` format.
//! - [`emulated`]: ovms-emu's edge in this process on the virtual clock (the default).
//! - [`process`]: the `ovms-emu` binary as a child process, driven over its control channel.
//! - [`app`]: a virtual app client (heartbeats, will, commands) on the broker.
//! - [`bench`]: a real module (or `ovms-emu` standing in for one) on the wall clock, through
//!   `ovms-hil-bench` (relay to the tap, power, intervals over the command channel, CAN).

pub mod app;
pub mod bench;
pub mod emulated;
pub mod file;
pub mod process;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration as StdDuration;

use ovms_firmware::profile::Profile;
use ovms_firmware::time::{Duration, Instant};

use file::{RigFile, RigKind};

/// What a rig needs to start one module.
#[derive(Clone, Debug)]
pub struct ModuleSetup {
    /// `mqtt://127.0.0.1:<port>` of the scenario's tap.
    pub broker_url: String,
    /// The profile the module runs.
    pub profile: Profile,
    /// Vehicle id.
    pub vehicle_id: String,
    /// MQTT user.
    pub user: String,
    /// MQTT password.
    pub password: Option<String>,
    /// Keepalive override.
    pub keepalive_secs: Option<u16>,
    /// `server.v3` parameters.
    pub params: BTreeMap<String, String>,
    /// Metrics set at boot.
    pub initial_metrics: Vec<(String, String)>,
    /// How long the edge may wait for the broker in one step.
    pub barrier_timeout: StdDuration,
}

/// Load a vehicle by name (searched in `<repo>/scenarios/vehicles`, the repo being the rig
/// directory's parent) or by path.
pub fn load_vehicle(
    name: &str,
    rig_dir: &Path,
) -> Result<Box<dyn ovms_firmware::vehicle::Vehicle>, String> {
    let root = rig_dir.parent().unwrap_or(rig_dir);
    ovms_vehicles::load_vehicle(name, &root.join("scenarios/vehicles")).map_err(|e| e.to_string())
}

/// A running module.
#[derive(Debug)]
pub enum ModuleRig {
    /// In-process emulator.
    InProcess(emulated::Emulated),
    /// Emulator child process.
    Process(Box<process::EmuProcess>),
    /// A module on a bench (wall clock).
    Bench(Box<bench::BenchModule>),
}

impl ModuleRig {
    /// Start the module the rig file describes, with the vehicle `vehicle` names (if any).
    pub async fn start(
        rig: &RigFile,
        rig_dir: &Path,
        setup: ModuleSetup,
        vehicle: Option<&str>,
    ) -> Result<ModuleRig, String> {
        match rig.kind {
            RigKind::Emulated => {
                let v = match vehicle {
                    Some(name) => Some(load_vehicle(name, rig_dir)?),
                    None => None,
                };
                Ok(ModuleRig::InProcess(
                    emulated::Emulated::start_with_vehicle(setup, v, true).await?,
                ))
            }
            RigKind::EmulatorProcess => Ok(ModuleRig::Process(Box::new(
                process::EmuProcess::start(&rig.emulator, rig_dir, setup, vehicle).await?,
            ))),
            RigKind::Bench => {
                let path = rig
                    .source
                    .as_deref()
                    .ok_or("a bench rig must be loaded from its file (RigFile::load)")?;
                let ctx = crate::runner::context::current()
                    .ok_or("a bench rig runs inside a run (no run context)")?;
                let broker = ctx.broker.endpoint().clone();
                Ok(ModuleRig::Bench(Box::new(
                    bench::BenchModule::start(path, &setup.broker_url, &broker).await?,
                )))
            }
        }
    }

    /// Move module time by `d`; returns when everything the module sent was handed to its socket.
    pub async fn advance(&self, d: Duration) -> Result<Instant, String> {
        match self {
            ModuleRig::InProcess(m) => m.advance(d).await,
            ModuleRig::Process(m) => m.advance(d).await,
            ModuleRig::Bench(m) => m.advance(d).await,
        }
    }

    /// Current module time.
    pub async fn now(&self) -> Result<Instant, String> {
        match self {
            ModuleRig::InProcess(m) => m.now().await,
            ModuleRig::Process(m) => m.now().await,
            ModuleRig::Bench(m) => m.now().await,
        }
    }

    /// Whether the rig reports module times of sent publishes ([`ModuleRig::sent_log`]).
    pub fn has_sent_log(&self) -> bool {
        matches!(self, ModuleRig::InProcess(_))
    }

    /// (module time, topic) of each PUBLISH handed to the socket (empty when the rig cannot tell).
    pub fn sent_log(&self) -> Vec<(Instant, String)> {
        match self {
            ModuleRig::InProcess(m) => m.sent_log(),
            ModuleRig::Process(_) | ModuleRig::Bench(_) => Vec::new(),
        }
    }

    /// Number of PUBLISHes handed to the socket, when the rig can tell.
    pub fn sent_count(&self) -> Option<usize> {
        match self {
            ModuleRig::InProcess(m) => Some(m.sent_count()),
            ModuleRig::Process(_) | ModuleRig::Bench(_) => None,
        }
    }

    /// Wait until the module was fed `n` incoming publishes in total (`Err` = count reached).
    pub async fn wait_received(&self, n: usize, timeout: StdDuration) -> Result<(), usize> {
        match self {
            ModuleRig::InProcess(m) => m.wait_received(n, timeout).await,
            ModuleRig::Process(m) => m.wait_received(n, timeout).await,
            // A real module's reception cannot be observed; the barrier after the step orders it.
            ModuleRig::Bench(_) => Ok(()),
        }
    }

    /// Number of incoming publishes fed to the module so far.
    pub async fn received_count(&self) -> usize {
        match self {
            ModuleRig::InProcess(m) => m.received_count(),
            ModuleRig::Process(m) => m.received_count().await,
            ModuleRig::Bench(_) => 0,
        }
    }

    /// Set a metric from text.
    pub async fn set_metric(&self, name: &str, value: &str) -> Result<(), String> {
        match self {
            ModuleRig::InProcess(m) => m.set_metric(name, value).await,
            ModuleRig::Process(m) => m.set_metric(name, value).await,
            ModuleRig::Bench(_) => Err(format!(
                "cannot set {name} on a bench module directly: feed CAN frames instead \
                 (tag the scenario @emulated-only)"
            )),
        }
    }

    /// A metric's value in the module.
    pub async fn metric(&self, name: &str) -> Result<Option<String>, String> {
        match self {
            ModuleRig::InProcess(m) => m.metric(name).await,
            ModuleRig::Process(m) => m.metric(name).await,
            ModuleRig::Bench(_) => Err(format!(
                "cannot read {name} inside a bench module: assert on what it publishes"
            )),
        }
    }

    /// Feed a CAN frame (bus 0-based).
    pub async fn can_frame(
        &self,
        bus: u8,
        id: u32,
        extended: bool,
        data: &[u8],
    ) -> Result<(), String> {
        match self {
            ModuleRig::InProcess(m) => m.can_frame(bus, id, extended, data).await,
            ModuleRig::Process(m) => m.can_frame(bus, id, data).await,
            ModuleRig::Bench(m) => m.can_frame(bus, id, extended, data).await,
        }
    }

    /// Raise a notification.
    pub async fn notify(&self, kind: &str, subtype: &str, text: &str) -> Result<(), String> {
        match self {
            ModuleRig::InProcess(m) => m.notify(kind, subtype, text).await,
            ModuleRig::Process(m) => m.notify(kind, subtype, text).await,
            ModuleRig::Bench(_) => {
                Err("cannot raise a notification inside a bench module (@emulated-only)".into())
            }
        }
    }

    /// Cut the power.
    pub async fn power_cut(&self) -> Result<(), String> {
        match self {
            ModuleRig::InProcess(m) => m.power_cut().await,
            ModuleRig::Process(m) => m.power_cut().await,
            ModuleRig::Bench(m) => m.power_cut().await,
        }
    }

    /// Cut the network.
    pub async fn network_cut(&self) -> Result<(), String> {
        match self {
            ModuleRig::InProcess(m) => m.network_cut().await,
            ModuleRig::Process(m) => m.network_cut().await,
            ModuleRig::Bench(_) => {
                Err("a bench rig cannot cut the module's network (@emulated-only)".into())
            }
        }
    }

    /// The bench module, when this rig is a bench (wall clock, tolerances).
    pub fn bench(&self) -> Option<&bench::BenchModule> {
        match self {
            ModuleRig::Bench(m) => Some(m),
            _ => None,
        }
    }

    /// Stop the module.
    pub async fn shutdown(self) {
        match self {
            ModuleRig::InProcess(m) => m.shutdown().await,
            ModuleRig::Process(m) => (*m).shutdown().await,
            ModuleRig::Bench(m) => {
                if let Err(e) = (*m).shutdown().await {
                    tracing::warn!("bench rig: {e}");
                }
            }
        }
    }
}
