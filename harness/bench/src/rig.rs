//! The bench rig file (`rigs/bench-*.yaml`): a real OVMS module on a bench.
//!
//! The top level is the harness's rig format (`kind`, `name`, `module`, `broker`, `timing`); a
//! bench rig adds the `bench:` section described here and attaches CAN per bus under `bench.can`
//! (a top-level `can:` is rejected in a bench rig).
//!
//! ```yaml
//! kind: bench
//! module: { vehicle_id: BENCH1, mqtt_user: bench, profile: fw-3.3.006 }
//! timing: { settle_ms: 5000, tolerance_ms: 1000 }
//! bench:
//!   broker: { tap: "0.0.0.0:18830", server: 192.168.7.1, port: 18830 }
//!   can:
//!     can1: { socketcan: can0 }
//!     can2: { simulate: "192.168.7.20:3000" }
//!   probe: { selector: "0403:6010", chip: esp32, firmware: images/ovms3.bin }
//!   power: { on: "relay 1 on", off: "relay 1 off", reset: "relay 1 cycle", timeout_ms: 5000 }
//!   commands: { via: mqtt }                 # or { via: shell, run: "ovms-cmd {command}" }
//!   intervals: { connected: 10, idle: 10, on: 5 }
//!   tolerance: { cadence_ms: 500, expiry_ms: 2000 }
//! ```
//!
//! Every error and warning names `file:line:col` ([`Diagnostic`]). Unknown keys are errors.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_saphyr::Spanned;

// ---------------------------------------------------------------------------------------------
// Diagnostics
// ---------------------------------------------------------------------------------------------

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The rig cannot be used.
    Error,
    /// The rig works, but something will not (e.g. no power control for power-cut scenarios).
    Warning,
}

/// One finding about a rig file, at `path:line:col` (line and column from 1; 0 = unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The rig file.
    pub path: PathBuf,
    /// Line from 1 (0: not about a position).
    pub line: u64,
    /// Column from 1 (0: unknown).
    pub col: u64,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// Whether this finding makes the rig unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: message` (warnings say `warning: message`), or `file: message` without a
    /// position.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        if self.line == 0 {
            write!(f, "{}: {sev}{}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {sev}{}",
                self.path.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

/// A bench rig file that could not be read or is invalid: the first error [`Diagnostic`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RigError(pub Diagnostic);

impl RigError {
    /// The diagnostic.
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.0
    }
}

// ---------------------------------------------------------------------------------------------
// File format (serde)
// ---------------------------------------------------------------------------------------------

/// The whole rig file as written (mirrors the harness's top level; see the module docs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRig {
    kind: Spanned<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    module: Option<Spanned<RawModule>>,
    #[serde(default)]
    broker: Option<String>,
    #[serde(default)]
    can: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    timing: RawTiming,
    #[serde(default)]
    emulator: Option<Spanned<IgnoredAny>>,
    #[serde(default)]
    bench: Option<Spanned<BenchSection>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    #[serde(default)]
    vehicle_id: Option<Spanned<String>>,
    #[serde(default)]
    mqtt_user: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    profile: Option<Spanned<String>>,
    #[serde(default)]
    firmware_profile: Option<Spanned<String>>,
    #[serde(default)]
    keepalive_secs: Option<u16>,
    #[serde(default)]
    params: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiming {
    #[serde(default = "default_settle_ms")]
    settle_ms: u64,
    #[serde(default)]
    tolerance_ms: u64,
}

impl Default for RawTiming {
    fn default() -> Self {
        RawTiming {
            settle_ms: default_settle_ms(),
            tolerance_ms: 0,
        }
    }
}

fn default_settle_ms() -> u64 {
    2000
}

/// The `bench:` section of a rig file. The harness's rig loader can embed this type as its
/// `bench` field (it rejects unknown keys the same way).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BenchSection {
    /// What the bench is (for reports).
    #[serde(default)]
    pub description: Option<String>,
    /// How a person reaches the module's shell (informational, e.g. `ssh://ovms.local`).
    #[serde(default)]
    pub console: Option<String>,
    /// The harness's broker as the module must see it.
    pub broker: BrokerSection,
    /// CAN attachment per module bus.
    #[serde(default)]
    pub can: CanSection,
    /// Debug probe (probe-rs).
    #[serde(default)]
    pub probe: Option<ProbeSection>,
    /// Relay power control (shell commands).
    #[serde(default)]
    pub power: Option<PowerSection>,
    /// How the harness sends console commands (`config set ...`) to the module.
    #[serde(default)]
    pub commands: CommandSection,
    /// `server.v3 updatetime.*` values (seconds) set before each scenario and restored after.
    #[serde(default)]
    pub intervals: IntervalSection,
    /// Tolerances of wall-clock assertions.
    #[serde(default)]
    pub tolerance: ToleranceSection,
    /// Longest time (ms) from power-on or reset until the module is connected again.
    #[serde(default = "default_boot_ms")]
    pub boot_ms: u64,
}

fn default_boot_ms() -> u64 {
    60_000
}

/// `bench.broker`: where the harness's wire tap listens and what the module is configured with.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrokerSection {
    /// `HOST:PORT` the wire tap binds (the module connects here; the tap forwards to the broker).
    pub tap: Spanned<String>,
    /// The harness host as the module reaches it: the module's `server.v3 server`.
    pub server: Spanned<String>,
    /// The module's `server.v3 port` (default: the tap's port).
    #[serde(default)]
    pub port: Option<Spanned<u16>>,
}

/// `bench.can`: one optional attachment per module bus (CAN1..CAN3).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CanSection {
    /// CAN1 (DB9 pins H7/L2).
    #[serde(default)]
    pub can1: Option<Spanned<CanAttachment>>,
    /// CAN2 (DB9 pins H5/L4).
    #[serde(default)]
    pub can2: Option<Spanned<CanAttachment>>,
    /// CAN3 (DB9 pins H8/L6).
    #[serde(default)]
    pub can3: Option<Spanned<CanAttachment>>,
}

/// How frames for one bus reach the module.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CanAttachment {
    /// A SocketCAN interface of the harness host wired to the module's bus (`can0`, `vcan0`).
    Socketcan(String),
    /// The module's CAN log "simulate" TCP server `HOST:PORT`
    /// (`can log start tcpserver simulate crtd :PORT` on the module).
    Simulate(String),
}

/// `bench.probe`: a debug probe driven through probe-rs.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProbeSection {
    /// probe-rs selector `VID:PID[:SERIAL]` (hex); absent = the only probe attached.
    #[serde(default)]
    pub selector: Option<Spanned<String>>,
    /// Target chip name (probe-rs), `esp32` for an OVMS v3.
    #[serde(default = "default_chip")]
    pub chip: String,
    /// Firmware image to flash (ELF or ESP-IDF image), relative to the rig file.
    #[serde(default)]
    pub firmware: Option<Spanned<PathBuf>>,
    /// JTAG/SWD speed in kHz (default: the probe's).
    #[serde(default)]
    pub speed_khz: Option<u32>,
}

fn default_chip() -> String {
    "esp32".into()
}

/// `bench.power`: shell commands switching the module's supply through a relay.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PowerSection {
    /// Switch the supply on.
    #[serde(default)]
    pub on: Option<Spanned<String>>,
    /// Switch the supply off.
    #[serde(default)]
    pub off: Option<Spanned<String>>,
    /// Power-cycle (default: `off`, 1 s, `on`).
    #[serde(default)]
    pub reset: Option<Spanned<String>>,
    /// Longest a command may run (ms).
    #[serde(default = "default_command_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_command_timeout_ms() -> u64 {
    10_000
}

/// How console commands reach the module.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CommandVia {
    /// As server v3 commands on the profile's command topic (the module must be connected).
    #[default]
    Mqtt,
    /// Through a shell command (`run`, with `{command}` replaced by the quoted command).
    Shell,
}

/// `bench.commands`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommandSection {
    /// Channel.
    #[serde(default)]
    pub via: CommandVia,
    /// For `via: shell`: the command line, with `{command}` where the module command goes.
    #[serde(default)]
    pub run: Option<Spanned<String>>,
    /// For `via: mqtt`: the client id the harness uses in command topics.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Longest wait for a response (ms).
    #[serde(default = "default_command_timeout_ms")]
    pub timeout_ms: u64,
    /// Console command set of the module: `firmware` (`config list`/`config rm`) or `ovms-emu`
    /// (`config get`).
    #[serde(default)]
    pub dialect: DialectName,
}

/// `bench.commands.dialect`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DialectName {
    /// The OVMS firmware.
    #[default]
    Firmware,
    /// `ovms-emu`.
    OvmsEmu,
}

impl From<DialectName> for crate::intervals::Dialect {
    fn from(d: DialectName) -> Self {
        match d {
            DialectName::Firmware => crate::intervals::Dialect::Firmware,
            DialectName::OvmsEmu => crate::intervals::Dialect::OvmsEmu,
        }
    }
}

fn default_client_id() -> String {
    "ovms-hil".into()
}

impl Default for CommandSection {
    fn default() -> Self {
        CommandSection {
            via: CommandVia::Mqtt,
            run: None,
            client_id: default_client_id(),
            timeout_ms: default_command_timeout_ms(),
            dialect: DialectName::Firmware,
        }
    }
}

/// `bench.intervals`: wanted `server.v3 updatetime.*` values in seconds.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntervalSection {
    /// `updatetime.idle`.
    #[serde(default)]
    pub idle: Option<Spanned<u64>>,
    /// `updatetime.connected`.
    #[serde(default)]
    pub connected: Option<Spanned<u64>>,
    /// `updatetime.on`.
    #[serde(default)]
    pub on: Option<Spanned<u64>>,
    /// `updatetime.charging`.
    #[serde(default)]
    pub charging: Option<Spanned<u64>>,
    /// `updatetime.awake`.
    #[serde(default)]
    pub awake: Option<Spanned<u64>>,
    /// `updatetime.sendall`.
    #[serde(default)]
    pub sendall: Option<Spanned<u64>>,
    /// `updatetime.keepalive`.
    #[serde(default)]
    pub keepalive: Option<Spanned<u64>>,
}

impl IntervalSection {
    /// `(updatetime.<key>, value)` pairs that are set, in a fixed order, with their spans.
    pub fn entries(&self) -> Vec<(&'static str, &Spanned<u64>)> {
        [
            ("updatetime.idle", &self.idle),
            ("updatetime.connected", &self.connected),
            ("updatetime.on", &self.on),
            ("updatetime.charging", &self.charging),
            ("updatetime.awake", &self.awake),
            ("updatetime.sendall", &self.sendall),
            ("updatetime.keepalive", &self.keepalive),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }

    /// The wanted values as `(updatetime.<key>, seconds)`.
    pub fn wanted(&self) -> Vec<(String, u64)> {
        self.entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.value))
            .collect()
    }
}

/// `bench.tolerance`: slack (ms) on wall-clock assertions; absent values use `timing.tolerance_ms`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToleranceSection {
    /// Publish intervals (cadence).
    #[serde(default)]
    pub cadence_ms: Option<u64>,
    /// Expiries (will after keepalive, client expiry).
    #[serde(default)]
    pub expiry_ms: Option<u64>,
    /// Command responses.
    #[serde(default)]
    pub response_ms: Option<u64>,
    /// Reconnect delays.
    #[serde(default)]
    pub reconnect_ms: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// The validated rig
// ---------------------------------------------------------------------------------------------

/// The module's identity (`module:`).
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleIdentity {
    /// Vehicle id (`vehicle id`), used as is on a bench (no per-scenario suffix).
    pub vehicle_id: String,
    /// MQTT user (`server.v3 user`).
    pub mqtt_user: String,
    /// MQTT password, if the broker needs one.
    pub password: Option<String>,
    /// The profile the flashed firmware speaks.
    pub profile: String,
    /// Keepalive override (seconds).
    pub keepalive_secs: Option<u16>,
    /// Further `server.v3` parameters.
    pub params: BTreeMap<String, String>,
}

/// Where the module must connect and where the tap listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerTarget {
    /// Address the wire tap binds.
    pub tap: SocketAddr,
    /// `server.v3 server` on the module.
    pub server: String,
    /// `server.v3 port` on the module.
    pub port: u16,
}

/// One bus attachment, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusLink {
    /// SocketCAN interface name.
    Socketcan(String),
    /// The module's simulate server `host:port`.
    Simulate(String),
}

/// A validated bus attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanLink {
    /// Module bus, 1-based (CAN1 = 1), as in CRTD.
    pub bus: u8,
    /// How frames get there.
    pub link: BusLink,
}

/// The probe, validated (firmware path resolved against the rig file's directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTarget {
    /// probe-rs selector.
    pub selector: Option<String>,
    /// Chip.
    pub chip: String,
    /// Firmware image.
    pub firmware: Option<PathBuf>,
    /// Speed in kHz.
    pub speed_khz: Option<u32>,
}

/// Relay commands, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowerCommands {
    /// On.
    pub on: Option<String>,
    /// Off.
    pub off: Option<String>,
    /// Power-cycle.
    pub reset: Option<String>,
    /// Per-command timeout.
    pub timeout: Duration,
}

/// The command channel, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandChannel {
    /// Server v3 commands over MQTT with this client id.
    Mqtt {
        /// Client id in the command topic.
        client_id: String,
        /// Response timeout.
        timeout: Duration,
    },
    /// A shell command template containing `{command}`.
    Shell {
        /// Template.
        run: String,
        /// Timeout.
        timeout: Duration,
    },
}

/// Tolerances, resolved (absent values take `timing.tolerance_ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tolerances {
    /// Cadence.
    pub cadence: Duration,
    /// Expiry.
    pub expiry: Duration,
    /// Response.
    pub response: Duration,
    /// Reconnect.
    pub reconnect: Duration,
}

/// A loaded, validated bench rig.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchRig {
    /// The file it came from.
    pub path: PathBuf,
    /// Name for reports.
    pub name: Option<String>,
    /// Module identity.
    pub module: ModuleIdentity,
    /// Broker choice of the harness (`broker:`).
    pub broker_choice: Option<String>,
    /// `timing.settle_ms`.
    pub settle: Duration,
    /// Where the module connects.
    pub broker: BrokerTarget,
    /// CAN attachments, by bus.
    pub can: Vec<CanLink>,
    /// Debug probe.
    pub probe: Option<ProbeTarget>,
    /// Relay power control.
    pub power: Option<PowerCommands>,
    /// Command channel.
    pub commands: CommandChannel,
    /// The module's console command set (how intervals are read and restored).
    pub dialect: crate::intervals::Dialect,
    /// Wanted intervals `(updatetime.<key>, seconds)`.
    pub intervals: Vec<(String, u64)>,
    /// Tolerances.
    pub tolerance: Tolerances,
    /// Boot time budget.
    pub boot: Duration,
    /// Description.
    pub description: Option<String>,
}

impl BenchRig {
    /// The profile the module's firmware speaks (`module.profile`, relative files against the
    /// rig file's directory).
    pub fn profile(&self) -> Result<ovms_firmware::profile::Profile, String> {
        load_profile(
            &self.module.profile,
            self.path.parent().unwrap_or(Path::new(".")),
        )
    }

    /// The interval plan for the rig's `bench.intervals`, from the module's answers to
    /// [`BenchRig::interval_read_commands`].
    pub fn interval_plan(
        &self,
        responses: &[String],
    ) -> Result<crate::intervals::IntervalPlan, String> {
        let profile = self.profile()?;
        crate::intervals::plan_from_responses(&profile, &self.intervals, self.dialect, responses)
            .map_err(|e| e.to_string())
    }

    /// The commands that read the current values of the rig's intervals.
    pub fn interval_read_commands(&self) -> Vec<String> {
        self.dialect.read_commands(&self.intervals)
    }

    /// The simulate server address for `bus` (1-based), if that bus is attached that way.
    pub fn simulate_addr(&self, bus: u8) -> Option<&str> {
        self.can.iter().find_map(|c| match &c.link {
            BusLink::Simulate(a) if c.bus == bus => Some(a.as_str()),
            _ => None,
        })
    }

    /// The SocketCAN interface for `bus` (1-based), if attached that way.
    pub fn socketcan_interface(&self, bus: u8) -> Option<&str> {
        self.can.iter().find_map(|c| match &c.link {
            BusLink::Socketcan(i) if c.bus == bus => Some(i.as_str()),
            _ => None,
        })
    }

    /// Console commands that point the module at the harness (`server.v3 server`/`port`/`user`,
    /// `vehicle id`) and start its simulate server for every `simulate` bus. Run once when
    /// setting a bench up (over the shell channel, or typed on the module's console: changing
    /// the server over MQTT cuts the MQTT command channel).
    pub fn setup_commands(&self) -> Vec<String> {
        let mut out = vec![
            format!("config set vehicle id {}", self.module.vehicle_id),
            format!("config set server.v3 server {}", self.broker.server),
            format!("config set server.v3 port {}", self.broker.port),
            format!("config set server.v3 user {}", self.module.mqtt_user),
        ];
        let mut ports: Vec<u16> = self
            .can
            .iter()
            .filter_map(|c| match &c.link {
                BusLink::Simulate(a) => a.rsplit_once(':').and_then(|(_, p)| p.parse().ok()),
                BusLink::Socketcan(_) => None,
            })
            .collect();
        ports.sort_unstable();
        ports.dedup();
        for p in ports {
            out.push(format!("can log start tcpserver simulate crtd :{p}"));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Loading and validation
// ---------------------------------------------------------------------------------------------

/// Read, parse and validate a bench rig; the first error as `file:line:col: message`.
pub fn load_bench_rig(path: impl AsRef<Path>) -> Result<BenchRig, RigError> {
    let path = path.as_ref();
    let (rig, diags) = check(path);
    if let Some(d) = diags.into_iter().find(Diagnostic::is_error) {
        return Err(RigError(d));
    }
    rig.ok_or_else(|| {
        RigError(Diagnostic {
            severity: Severity::Error,
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message: "invalid bench rig".into(),
        })
    })
}

/// Parse a bench rig from text (`path` names it in messages and anchors relative paths).
pub fn parse_bench_rig(text: &str, path: &Path) -> Result<BenchRig, RigError> {
    let (rig, diags) = check_text(text, path);
    if let Some(d) = diags.into_iter().find(Diagnostic::is_error) {
        return Err(RigError(d));
    }
    rig.ok_or_else(|| {
        RigError(Diagnostic {
            severity: Severity::Error,
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message: "invalid bench rig".into(),
        })
    })
}

/// Every error and warning about a bench rig file (for `ovms-hil lint`); empty = clean.
pub fn lint_bench_rig(path: impl AsRef<Path>) -> Vec<Diagnostic> {
    check(path.as_ref()).1
}

fn check(path: &Path) -> (Option<BenchRig>, Vec<Diagnostic>) {
    match std::fs::read_to_string(path) {
        Ok(text) => check_text(&text, path),
        Err(e) => (
            None,
            vec![Diagnostic {
                severity: Severity::Error,
                path: path.to_path_buf(),
                line: 0,
                col: 0,
                message: format!("cannot read rig file: {e}"),
            }],
        ),
    }
}

/// Collects diagnostics while validating.
struct Checker<'a> {
    path: &'a Path,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn at<T>(&mut self, s: &Spanned<T>, sev: Severity, message: String) {
        self.out.push(Diagnostic {
            severity: sev,
            path: self.path.to_path_buf(),
            line: s.referenced.line(),
            col: s.referenced.column(),
            message,
        });
    }

    fn error<T>(&mut self, s: &Spanned<T>, message: String) {
        self.at(s, Severity::Error, message);
    }

    fn warn<T>(&mut self, s: &Spanned<T>, message: String) {
        self.at(s, Severity::Warning, message);
    }

    fn error_nowhere(&mut self, message: String) {
        self.out.push(Diagnostic {
            severity: Severity::Error,
            path: self.path.to_path_buf(),
            line: 0,
            col: 0,
            message,
        });
    }

    fn warn_nowhere(&mut self, message: String) {
        self.out.push(Diagnostic {
            severity: Severity::Warning,
            path: self.path.to_path_buf(),
            line: 0,
            col: 0,
            message,
        });
    }
}

fn yaml_diagnostic(e: &serde_saphyr::Error, path: &Path) -> Diagnostic {
    let (line, col) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let text = e.to_string();
    let message = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid YAML");
    let message = strip_position(message).to_string();
    Diagnostic {
        severity: Severity::Error,
        path: path.to_path_buf(),
        line,
        col,
        message,
    }
}

/// Drop a leading `error: line L column C: ` the parser puts into its own message (the position
/// is in the diagnostic already).
fn strip_position(m: &str) -> &str {
    let rest = m.strip_prefix("error: ").unwrap_or(m);
    if let Some(r) = rest.strip_prefix("line ") {
        if let Some((pos, msg)) = r.split_once(": ") {
            if pos
                .split(" column ")
                .all(|n| n.trim().parse::<u64>().is_ok())
            {
                return msg;
            }
        }
    }
    rest
}

fn check_text(text: &str, path: &Path) -> (Option<BenchRig>, Vec<Diagnostic>) {
    let raw: RawRig = match serde_saphyr::from_str(text) {
        Ok(r) => r,
        Err(e) => return (None, vec![yaml_diagnostic(&e, path)]),
    };
    let mut c = Checker {
        path,
        out: Vec::new(),
    };
    let rig = validate(raw, path, &mut c);
    let has_error = c.out.iter().any(Diagnostic::is_error);
    (if has_error { None } else { rig }, c.out)
}

fn validate(raw: RawRig, path: &Path, c: &mut Checker<'_>) -> Option<BenchRig> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if raw.kind.value != "bench" {
        c.error(
            &raw.kind,
            format!(
                "not a bench rig: kind is `{}`, expected `bench`",
                raw.kind.value
            ),
        );
        return None;
    }
    if let Some(can) = &raw.can {
        c.error(
            can,
            "a bench rig attaches CAN per bus under `bench.can` (can1/can2/can3: { socketcan: IF } \
             or { simulate: HOST:PORT }); remove the top-level `can:`"
                .into(),
        );
    }
    if let Some(emu) = &raw.emulator {
        c.error(
            emu,
            "`emulator:` is for emulator-process rigs, not bench rigs".into(),
        );
    }
    let module = check_module(raw.module.as_ref(), c);
    let Some(bench) = raw.bench else {
        c.error_nowhere("a bench rig needs a `bench:` section (at least `bench.broker`)".into());
        return None;
    };
    let b = &bench.value;
    let broker = check_broker(&b.broker, c);
    let can = check_can(&b.can, c);
    let probe = b.probe.as_ref().map(|p| check_probe(p, dir, c));
    let power = b.power.as_ref().map(|p| check_power(p, c));
    let commands = check_commands(&b.commands, c);
    check_intervals(
        &b.intervals,
        module.as_ref().map(|m| m.profile.as_str()),
        dir,
        c,
    );
    if probe.is_none() && power.is_none() {
        c.warn(
            &bench,
            "no `bench.probe` or `bench.power`: scenarios that cut power, reset or halt the module \
             cannot run on this rig"
                .into(),
        );
    }
    if can.is_empty() {
        c.warn(
            &bench,
            "no `bench.can` attachment: scenarios that send CAN frames cannot run on this rig"
                .into(),
        );
    }
    if b.boot_ms == 0 {
        c.error(&bench, "`bench.boot_ms` must be above 0".into());
    }
    let fallback = raw.timing.tolerance_ms;
    let t = &b.tolerance;
    let ms = |v: Option<u64>| Duration::from_millis(v.unwrap_or(fallback));
    let tolerance = Tolerances {
        cadence: ms(t.cadence_ms),
        expiry: ms(t.expiry_ms),
        response: ms(t.response_ms),
        reconnect: ms(t.reconnect_ms),
    };
    if fallback == 0 && t.cadence_ms.is_none() {
        c.warn(
            &bench,
            "no cadence tolerance (`bench.tolerance.cadence_ms` or `timing.tolerance_ms`): a real \
             module on the wall clock never hits intervals to the millisecond"
                .into(),
        );
    }
    Some(BenchRig {
        path: path.to_path_buf(),
        name: raw.name,
        module: module?,
        broker_choice: raw.broker,
        settle: Duration::from_millis(raw.timing.settle_ms),
        broker: broker?,
        can,
        probe: probe.flatten(),
        power: power.flatten(),
        commands: commands?,
        dialect: b.commands.dialect.into(),
        intervals: b.intervals.wanted(),
        tolerance,
        boot: Duration::from_millis(b.boot_ms),
        description: b.description.clone(),
    })
}

fn check_module(m: Option<&Spanned<RawModule>>, c: &mut Checker<'_>) -> Option<ModuleIdentity> {
    let Some(m) = m else {
        c.error_nowhere(
            "a bench rig needs `module:` with `vehicle_id`, `mqtt_user` and `profile`".into(),
        );
        return None;
    };
    let v = &m.value;
    let mut ok = true;
    let vehicle_id = match &v.vehicle_id {
        None => {
            c.error(
                m,
                "`module.vehicle_id` is required on a bench (the module's `vehicle id`)".into(),
            );
            ok = false;
            String::new()
        }
        Some(id) if id.value.is_empty() || id.value.contains(['/', '+', '#', ' ']) => {
            c.error(
                id,
                format!(
                    "`module.vehicle_id` `{}` must be non-empty without `/`, `+`, `#` or spaces",
                    id.value
                ),
            );
            ok = false;
            String::new()
        }
        Some(id) => id.value.clone(),
    };
    let profile = match &v.profile {
        None => {
            c.error(
                m,
                "`module.profile` is required on a bench: the profile the flashed firmware speaks \
                 (e.g. fw-3.3.006)"
                    .into(),
            );
            ok = false;
            String::new()
        }
        Some(p) => {
            if load_profile(&p.value, c.path.parent().unwrap_or(Path::new("."))).is_err() {
                c.error(
                    p,
                    format!(
                        "unknown profile `{}` (shipped: {}; or a profile YAML file)",
                        p.value,
                        ovms_firmware::profile::Profile::builtin_names().join(", ")
                    ),
                );
                ok = false;
            }
            p.value.clone()
        }
    };
    if let Some(fp) = &v.firmware_profile {
        c.error(
            fp,
            "`module.firmware_profile` (fault injection) needs an emulated module; a bench module \
             runs its flashed firmware"
                .into(),
        );
        ok = false;
    }
    ok.then(|| ModuleIdentity {
        vehicle_id,
        mqtt_user: v.mqtt_user.clone().unwrap_or_default(),
        password: v.password.clone(),
        profile,
        keepalive_secs: v.keepalive_secs,
        params: v.params.clone(),
    })
}

/// A shipped profile by name, or a profile file (relative paths against `dir`).
pub(crate) fn load_profile(
    name: &str,
    dir: &Path,
) -> Result<ovms_firmware::profile::Profile, String> {
    use ovms_firmware::profile::Profile;
    if let Some(p) = Profile::builtin(name) {
        return Ok(p);
    }
    let p = Path::new(name);
    let p = if p.is_relative() {
        dir.join(p)
    } else {
        p.to_path_buf()
    };
    Profile::from_file(&p).map_err(|e| e.to_string())
}

/// `HOST:PORT` with a non-empty host and a port above 0.
fn host_port(s: &str) -> Option<(&str, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty() && port != 0 && !host.contains(char::is_whitespace)).then_some((host, port))
}

fn check_broker(b: &BrokerSection, c: &mut Checker<'_>) -> Option<BrokerTarget> {
    let tap: Option<SocketAddr> = match b.tap.value.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            c.error(
                &b.tap,
                format!(
                    "`bench.broker.tap` `{}` must be IP:PORT (the address the wire tap binds, e.g. \
                     0.0.0.0:18830)",
                    b.tap.value
                ),
            );
            None
        }
    };
    let server = b.server.value.trim();
    if server.is_empty() || server.contains(char::is_whitespace) || server.contains('/') {
        c.error(
            &b.server,
            format!(
                "`bench.broker.server` `{}` must be a host name or IP address (what the module's \
                 `server.v3 server` is set to)",
                b.server.value
            ),
        );
        return None;
    }
    let port = match (&b.port, tap) {
        (Some(p), _) if p.value == 0 => {
            c.error(p, "`bench.broker.port` must be above 0".into());
            return None;
        }
        (Some(p), _) => p.value,
        (None, Some(t)) if t.port() != 0 => t.port(),
        (None, Some(_)) => {
            c.error(
                &b.tap,
                "`bench.broker.tap` has port 0: give a fixed port (the module must be configured \
                 with it) or set `bench.broker.port`"
                    .into(),
            );
            return None;
        }
        (None, None) => return None,
    };
    if let Some(t) = tap {
        if t.ip().is_loopback() && server != "127.0.0.1" && server != "localhost" && server != "::1"
        {
            c.warn(
                &b.tap,
                format!(
                    "the tap listens on loopback ({t}) but the module is told to connect to \
                     `{server}`: a module on another host cannot reach it"
                ),
            );
        }
    }
    Some(BrokerTarget {
        tap: tap?,
        server: server.to_string(),
        port,
    })
}

fn check_can(s: &CanSection, c: &mut Checker<'_>) -> Vec<CanLink> {
    let mut out = Vec::new();
    for (bus, att) in [(1u8, &s.can1), (2, &s.can2), (3, &s.can3)] {
        let Some(att) = att else { continue };
        match &att.value {
            CanAttachment::Socketcan(ifname) => {
                let bad = ifname.is_empty()
                    || ifname.len() > 15
                    || ifname.contains(['/', ':'])
                    || ifname.contains(char::is_whitespace);
                if bad {
                    c.error(
                        att,
                        format!(
                            "`bench.can.can{bus}.socketcan` `{ifname}` is not an interface name \
                             (1-15 characters, no `/`, `:` or spaces, e.g. can0)"
                        ),
                    );
                } else {
                    out.push(CanLink {
                        bus,
                        link: BusLink::Socketcan(ifname.clone()),
                    });
                }
            }
            CanAttachment::Simulate(addr) => {
                if host_port(addr).is_none() {
                    c.error(
                        att,
                        format!(
                            "`bench.can.can{bus}.simulate` `{addr}` must be HOST:PORT (the \
                             module's `can log start tcpserver simulate crtd :PORT` server)"
                        ),
                    );
                } else {
                    out.push(CanLink {
                        bus,
                        link: BusLink::Simulate(addr.clone()),
                    });
                }
            }
        }
    }
    out
}

fn check_probe(p: &ProbeSection, dir: &Path, c: &mut Checker<'_>) -> Option<ProbeTarget> {
    let mut ok = true;
    if let Some(sel) = &p.selector {
        if crate::probe::parse_selector(&sel.value).is_err() {
            c.error(
                sel,
                format!(
                    "`bench.probe.selector` `{}` must be VID:PID[:SERIAL] in hex (e.g. 0403:6010)",
                    sel.value
                ),
            );
            ok = false;
        }
    }
    if p.chip.trim().is_empty() {
        c.error_nowhere("`bench.probe.chip` must not be empty (esp32 for an OVMS v3)".into());
        ok = false;
    }
    let firmware = p.firmware.as_ref().map(|f| {
        let path = if f.value.is_relative() {
            dir.join(&f.value)
        } else {
            f.value.clone()
        };
        if !path.is_file() {
            c.warn(
                f,
                format!(
                    "firmware image {} does not exist (yet): flashing will fail until it is built",
                    path.display()
                ),
            );
        }
        path
    });
    ok.then(|| ProbeTarget {
        selector: p.selector.as_ref().map(|s| s.value.clone()),
        chip: p.chip.trim().to_string(),
        firmware,
        speed_khz: p.speed_khz,
    })
}

fn check_power(p: &PowerSection, c: &mut Checker<'_>) -> Option<PowerCommands> {
    let mut ok = true;
    for (name, cmd) in [("on", &p.on), ("off", &p.off), ("reset", &p.reset)] {
        if let Some(cmd) = cmd {
            if cmd.value.trim().is_empty() {
                c.error(cmd, format!("`bench.power.{name}` must not be empty"));
                ok = false;
            }
        }
    }
    if p.on.is_none() && p.off.is_none() && p.reset.is_none() {
        c.error_nowhere("`bench.power` needs at least one of `on`, `off`, `reset`".into());
        ok = false;
    }
    if p.timeout_ms == 0 {
        c.error_nowhere("`bench.power.timeout_ms` must be above 0".into());
        ok = false;
    }
    if p.off.is_none() && (p.on.is_some() || p.reset.is_some()) {
        c.warn_nowhere("`bench.power` has no `off` command: power-cut scenarios cannot run".into());
    }
    let v = |s: &Option<Spanned<String>>| s.as_ref().map(|s| s.value.trim().to_string());
    ok.then(|| PowerCommands {
        on: v(&p.on),
        off: v(&p.off),
        reset: v(&p.reset),
        timeout: Duration::from_millis(p.timeout_ms),
    })
}

fn check_commands(s: &CommandSection, c: &mut Checker<'_>) -> Option<CommandChannel> {
    let timeout = Duration::from_millis(s.timeout_ms);
    if s.timeout_ms == 0 {
        c.error_nowhere("`bench.commands.timeout_ms` must be above 0".into());
        return None;
    }
    match s.via {
        CommandVia::Mqtt => {
            if let Some(run) = &s.run {
                c.error(
                    run,
                    "`bench.commands.run` is only used with `via: shell`".into(),
                );
                return None;
            }
            if s.client_id.is_empty() || s.client_id.contains(['/', '+', '#']) {
                c.error_nowhere(format!(
                    "`bench.commands.client_id` `{}` must be non-empty without `/`, `+`, `#`",
                    s.client_id
                ));
                return None;
            }
            Some(CommandChannel::Mqtt {
                client_id: s.client_id.clone(),
                timeout,
            })
        }
        CommandVia::Shell => match &s.run {
            None => {
                c.error_nowhere(
                    "`bench.commands.via: shell` needs `run:` with `{command}` in it".into(),
                );
                None
            }
            Some(run) if !run.value.contains("{command}") => {
                c.error(
                    run,
                    "`bench.commands.run` must contain `{command}` (replaced by the quoted module \
                     command)"
                        .into(),
                );
                None
            }
            Some(run) => Some(CommandChannel::Shell {
                run: run.value.clone(),
                timeout,
            }),
        },
    }
}

fn check_intervals(s: &IntervalSection, profile: Option<&str>, dir: &Path, c: &mut Checker<'_>) {
    let prof = profile.and_then(|p| load_profile(p, dir).ok());
    for (key, v) in s.entries() {
        if v.value == 0 {
            c.error(v, format!("`bench.intervals` {key} must be at least 1 s"));
            continue;
        }
        if let Some(prof) = &prof {
            if !crate::intervals::profile_has_param(prof, key) {
                c.error(
                    v,
                    format!(
                        "profile {} has no `server.v3 {key}`: that firmware cannot set it",
                        prof.name()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
kind: bench
name: test bench
module:
  vehicle_id: BENCH1
  mqtt_user: bench
  profile: fw-3.3.006
timing:
  settle_ms: 5000
  tolerance_ms: 700
bench:
  broker:
    tap: 0.0.0.0:18830
    server: 192.168.7.1
  can:
    can1: { socketcan: can0 }
    can2: { simulate: \"192.168.7.20:3000\" }
  power:
    on: relay on
    off: relay off
  commands: { via: shell, run: \"ssh ovms {command}\" }
  intervals: { connected: 10, on: 5 }
  tolerance: { cadence_ms: 500 }
";

    fn p() -> &'static Path {
        Path::new("rigs/bench-x.yaml")
    }

    #[test]
    fn good_rig_parses_with_all_parts() {
        let r = parse_bench_rig(GOOD, p()).unwrap();
        assert_eq!(r.module.vehicle_id, "BENCH1");
        assert_eq!(r.module.profile, "fw-3.3.006");
        assert_eq!(r.broker.tap, "0.0.0.0:18830".parse().unwrap());
        assert_eq!(r.broker.server, "192.168.7.1");
        assert_eq!(r.broker.port, 18830, "port defaults to the tap's");
        assert_eq!(r.socketcan_interface(1), Some("can0"));
        assert_eq!(r.simulate_addr(2), Some("192.168.7.20:3000"));
        assert_eq!(r.simulate_addr(1), None);
        assert_eq!(
            r.intervals,
            vec![
                ("updatetime.connected".to_string(), 10),
                ("updatetime.on".to_string(), 5)
            ]
        );
        assert_eq!(r.tolerance.cadence, Duration::from_millis(500));
        assert_eq!(r.tolerance.expiry, Duration::from_millis(700), "falls back");
        assert_eq!(
            r.commands,
            CommandChannel::Shell {
                run: "ssh ovms {command}".into(),
                timeout: Duration::from_secs(10)
            }
        );
        let p = r.power.unwrap();
        assert_eq!(p.off.as_deref(), Some("relay off"));
        assert!(p.reset.is_none());
    }

    #[test]
    fn setup_commands_point_the_module_at_the_tap() {
        let r = parse_bench_rig(GOOD, p()).unwrap();
        let cmds = r.setup_commands();
        assert!(cmds.contains(&"config set server.v3 server 192.168.7.1".to_string()));
        assert!(cmds.contains(&"config set server.v3 port 18830".to_string()));
        assert!(cmds.contains(&"can log start tcpserver simulate crtd :3000".to_string()));
    }

    fn err(text: &str) -> Diagnostic {
        parse_bench_rig(text, p()).unwrap_err().0
    }

    #[test]
    fn unknown_key_in_bench_section_has_position() {
        let t = GOOD.replace(
            "  tolerance: { cadence_ms: 500 }",
            "  tolerance: { cadense_ms: 500 }",
        );
        let d = err(&t);
        assert_eq!(d.line, 22, "{d}");
        assert!(d.col > 1, "{d}");
        assert!(d.message.starts_with("unknown field `cadense_ms`"), "{d}");
        assert!(d.to_string().starts_with("rigs/bench-x.yaml:22:"), "{d}");
    }

    #[test]
    fn bad_simulate_address_points_at_it() {
        let t = GOOD.replace("192.168.7.20:3000", "192.168.7.20");
        let d = err(&t);
        assert_eq!(d.line, 16, "{d}");
        assert!(d.message.contains("HOST:PORT"), "{d}");
    }

    #[test]
    fn unknown_bus_is_rejected() {
        let t = GOOD.replace("can2: {", "can4: {");
        let d = err(&t);
        assert_eq!(d.line, 16, "{d}");
        assert!(d.message.contains("can4"), "{d}");
    }

    #[test]
    fn unknown_attachment_kind_is_rejected() {
        let t = GOOD.replace("{ socketcan: can0 }", "{ serial: ttyUSB0 }");
        let d = err(&t);
        assert_eq!(d.line, 15, "{d}");
        assert!(d.message.contains("serial"), "{d}");
    }

    #[test]
    fn missing_profile_is_an_error() {
        let t = GOOD.replace("  profile: fw-3.3.006\n", "");
        let d = err(&t);
        assert!(d.message.contains("module.profile"), "{d}");
    }

    #[test]
    fn unknown_profile_points_at_it() {
        let t = GOOD.replace("profile: fw-3.3.006", "profile: fw-9.9");
        let d = err(&t);
        assert_eq!((d.line, d.col), (6, 12), "{d}");
        assert!(d.message.contains("fw-9.9"), "{d}");
    }

    #[test]
    fn interval_the_profile_lacks_is_an_error() {
        let t = GOOD
            .replace("profile: fw-3.3.006", "profile: fw-3.3.005")
            .replace(
                "{ connected: 10, on: 5 }",
                "{ connected: 10, keepalive: 30 }",
            );
        // 3.3.005 has updatetime.keepalive, so this parses...
        assert!(parse_bench_rig(&t, p()).is_ok());
        let t = GOOD.replace("{ connected: 10, on: 5 }", "{ connected: 0 }");
        let d = err(&t);
        assert_eq!(d.line, 21, "{d}");
        assert!(d.message.contains("at least 1"), "{d}");
    }

    #[test]
    fn shell_channel_needs_placeholder() {
        let t = GOOD.replace("ssh ovms {command}", "ssh ovms");
        let d = err(&t);
        assert_eq!(d.line, 20, "{d}");
        assert!(d.message.contains("{command}"), "{d}");
    }

    #[test]
    fn top_level_can_is_rejected_in_a_bench_rig() {
        let t = GOOD.replace(
            "timing:",
            "can: { kind: socketcan, interface: can0 }\ntiming:",
        );
        let d = err(&t);
        assert_eq!(d.line, 7, "{d}");
        assert!(d.message.contains("bench.can"), "{d}");
    }

    #[test]
    fn non_bench_kind_is_rejected() {
        let d = err("kind: emulated\n");
        assert_eq!(d.line, 1, "{d}");
        assert!(d.message.contains("not a bench rig"), "{d}");
    }

    #[test]
    fn bad_tap_address() {
        let t = GOOD.replace("tap: 0.0.0.0:18830", "tap: somewhere");
        let d = err(&t);
        assert_eq!(d.line, 12, "{d}");
        assert!(d.message.contains("IP:PORT"), "{d}");
    }

    #[test]
    fn lint_reports_warnings_without_failing() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bench-w.yaml");
        let t = GOOD
            .replace("  power:\n    on: relay on\n    off: relay off\n", "")
            .replace("  tolerance: { cadence_ms: 500 }\n", "")
            .replace("  tolerance_ms: 700\n", "");
        std::fs::write(&f, t).unwrap();
        let d = lint_bench_rig(&f);
        assert!(d.iter().all(|d| !d.is_error()), "{d:?}");
        assert!(d.iter().any(|d| d.message.contains("bench.power")), "{d:?}");
        assert!(d.iter().any(|d| d.message.contains("cadence")), "{d:?}");
        assert!(d[0].to_string().contains("warning: "), "{}", d[0]);
        assert!(load_bench_rig(&f).is_ok());
    }

    #[test]
    fn lint_of_missing_file() {
        let d = lint_bench_rig("/nonexistent/bench.yaml");
        assert_eq!(d.len(), 1);
        assert!(d[0].is_error());
        assert!(d[0].message.contains("cannot read"), "{}", d[0]);
    }

    #[test]
    fn garbage_yaml_never_panics() {
        for t in [
            "",
            ":",
            "kind: [",
            "bench: 3",
            "- a\n- b",
            "kind: bench\nbench: {}\n",
        ] {
            assert!(parse_bench_rig(t, p()).is_err(), "{t:?}");
        }
    }

    #[test]
    fn shipped_bench_rigs_are_valid() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rigs"));
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("bench-") && name.ends_with(".yaml") {
                let d = lint_bench_rig(e.path());
                assert!(d.iter().all(|d| !d.is_error()), "{name}: {d:?}");
                n += 1;
            }
        }
        assert!(n >= 2, "expected the shipped bench rigs");
    }
}
