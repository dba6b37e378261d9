//! The rig file format (`rigs/*.yaml`).
//!
//! ```yaml
//! kind: emulated            # emulated | emulator-process | bench
//! name: in-process emulator
//! module:
//!   vehicle_id: HIL         # scenarios append -<n> so each has its own topics
//!   mqtt_user: hil
//!   firmware_profile: ~     # run the module with another profile than the one asserted (fault injection)
//!   tls_verify: true        # false: accept any broker certificate, like `ovms-emu --insecure` (fault injection)
//!   params: { updatetime.idle: "600" }
//! broker: auto              # auto | mosquitto | container | embedded | mqtt://host:port (the CLI wins)
//! can: { kind: in-process } # none | in-process | socketcan (+ interface)
//! timing:
//!   settle_ms: 2000         # longest wait for the barrier before an assertion
//!   tolerance_ms: 0         # slack for intervals on a wall clock (bench rigs)
//! emulator: { binary: ovms-emu, args: [] }   # emulator-process only
//! private_broker:           # the security/fault scenarios' own Mosquitto (fault injection)
//!   acl_pattern: "ovms/%u/#"
//!   allow_anonymous: false  # true: anonymous clients may use the password listener
//!   check_passwords: true   # false: any password is accepted
//! ```
//! Unknown keys are errors; every error names `file:line:col`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the module under test is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RigKind {
    /// The ovms-emu edge in this process, on a virtual clock (the default).
    Emulated,
    /// The `ovms-emu` binary as a child process, its virtual clock driven over `--control`.
    EmulatorProcess,
    /// A real module on a bench (wall clock, tolerances).
    Bench,
}

impl fmt::Display for RigKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RigKind::Emulated => "emulated",
            RigKind::EmulatorProcess => "emulator-process",
            RigKind::Bench => "bench",
        })
    }
}

/// The module's identity and configuration.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModuleSpec {
    /// Vehicle id; each scenario appends `-<n>` for isolation on a shared broker.
    pub vehicle_id: String,
    /// MQTT username (`server.v3` / `user`).
    pub mqtt_user: String,
    /// MQTT password, if the broker needs one.
    pub password: Option<String>,
    /// The profile a bench module's firmware speaks (restricts a run to that profile).
    pub profile: Option<String>,
    /// The profile the *module* runs when it differs from the one assertions use (fault injection:
    /// a profile file with a wrong retain flag, QoS, will or cadence).
    pub firmware_profile: Option<String>,
    /// Keepalive override in seconds.
    pub keepalive_secs: Option<u16>,
    /// Verify the broker's TLS certificate (the firmware always does). `false` is fault
    /// injection: the emulated module accepts any certificate (`ovms-emu --insecure`).
    pub tls_verify: bool,
    /// Further `server.v3` parameters, as `config set` would set them.
    pub params: BTreeMap<String, String>,
}

impl Default for ModuleSpec {
    fn default() -> Self {
        ModuleSpec {
            vehicle_id: "HIL".into(),
            mqtt_user: "hil".into(),
            password: None,
            profile: None,
            firmware_profile: None,
            keepalive_secs: None,
            tls_verify: true,
            params: BTreeMap::new(),
        }
    }
}

/// How CAN frames reach the module.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CanKind {
    /// No CAN attachment (metrics are set directly).
    None,
    /// Frames are handed to the emulated module in-process (the default).
    #[default]
    InProcess,
    /// A SocketCAN interface (bench rigs, the QEMU VM).
    Socketcan,
}

/// The CAN attachment.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CanSpec {
    /// Which kind.
    pub kind: CanKind,
    /// Interface name for `socketcan` (`vcan0`, `can0`).
    pub interface: Option<String>,
}

/// Timing tolerances.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Timing {
    /// Longest wait (wall ms) for the barrier: everything the module sent reached the observer.
    pub settle_ms: u64,
    /// Slack (ms) allowed on intervals and windows (0 on the virtual clock).
    pub tolerance_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            settle_ms: 2000,
            tolerance_ms: 0,
        }
    }
}

/// The Mosquitto that the security and fault scenarios start for themselves. The defaults are
/// the protections the suite asserts; changing them is fault injection (the mutation test).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrivateBrokerSpec {
    /// ACL pattern of the password listener (`%u` = user name).
    pub acl_pattern: String,
    /// Let anonymous clients onto the password listener.
    pub allow_anonymous: bool,
    /// Check passwords on the password listener.
    pub check_passwords: bool,
}

impl Default for PrivateBrokerSpec {
    fn default() -> Self {
        PrivateBrokerSpec {
            acl_pattern: "ovms/%u/#".into(),
            allow_anonymous: false,
            check_passwords: true,
        }
    }
}

/// How to start the emulator process.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmulatorSpec {
    /// The binary (default: `ovms-emu` next to `ovms-hil`, then on `PATH`).
    pub binary: Option<PathBuf>,
    /// Extra arguments.
    pub args: Vec<String>,
}

/// A bench rig's real module. Only the fields below are read here; the rest of the `bench:`
/// section (broker, CAN, power, probe, commands, intervals, tolerances) belongs to the bench
/// driver (`ovms-hil-bench`), which validates it, so unknown keys are accepted in this section.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct BenchSpec {
    /// What the bench is.
    pub description: Option<String>,
    /// How the harness reaches the module's shell (e.g. `ssh://ovms.local` or `serial:///dev/ttyUSB0`).
    pub console: Option<String>,
}

/// One rig file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RigFile {
    /// Where the module is.
    pub kind: RigKind,
    /// A name for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Module identity and configuration.
    #[serde(default)]
    pub module: ModuleSpec,
    /// Broker choice (the command line overrides it).
    #[serde(default)]
    pub broker: Option<String>,
    /// CAN attachment.
    #[serde(default)]
    pub can: CanSpec,
    /// Timing tolerances.
    #[serde(default)]
    pub timing: Timing,
    /// Emulator process settings (`emulator-process`).
    #[serde(default)]
    pub emulator: EmulatorSpec,
    /// The security and fault scenarios' own broker.
    #[serde(default)]
    pub private_broker: PrivateBrokerSpec,
    /// Bench settings (`bench`).
    #[serde(default)]
    pub bench: BenchSpec,
    /// The file this rig was loaded from (set by [`RigFile::load`]; bench rigs are re-read from
    /// it by `ovms-hil-bench`).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Default for RigFile {
    fn default() -> Self {
        RigFile {
            kind: RigKind::Emulated,
            name: Some("in-process emulator".into()),
            module: ModuleSpec::default(),
            broker: None,
            can: CanSpec::default(),
            timing: Timing::default(),
            emulator: EmulatorSpec::default(),
            private_broker: PrivateBrokerSpec::default(),
            bench: BenchSpec::default(),
            source: None,
        }
    }
}

/// A rig file that could not be read or is invalid (`file:line:col: message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RigError {
    /// The file.
    pub path: PathBuf,
    /// Line from 1 (0: not about a position).
    pub line: u64,
    /// Column from 1 (0: unknown).
    pub col: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

impl std::error::Error for RigError {}

impl RigFile {
    /// Parse rig YAML; `path` is used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<RigFile, RigError> {
        let rig: RigFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(&e, path))?;
        rig.validate(path)?;
        Ok(rig)
    }

    /// Read and parse a rig file.
    pub fn load(path: &Path) -> Result<RigFile, RigError> {
        let text = std::fs::read_to_string(path).map_err(|e| RigError {
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message: format!("cannot read rig file: {e}"),
        })?;
        let mut rig = RigFile::parse(&text, path)?;
        rig.source = Some(path.to_path_buf());
        Ok(rig)
    }

    fn validate(&self, path: &Path) -> Result<(), RigError> {
        let err = |m: String| RigError {
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message: m,
        };
        if self.module.vehicle_id.is_empty() {
            return Err(err("module.vehicle_id must not be empty".into()));
        }
        if self.module.vehicle_id.contains(['/', '+', '#']) {
            return Err(err(format!(
                "module.vehicle_id `{}` must not contain `/`, `+` or `#`",
                self.module.vehicle_id
            )));
        }
        if self.can.kind == CanKind::Socketcan && self.can.interface.is_none() {
            return Err(err("can.kind socketcan needs can.interface".into()));
        }
        Ok(())
    }
}

/// Turn a serde-saphyr error into `file:line:col: message`.
pub fn yaml_error(e: &serde_saphyr::Error, path: &Path) -> RigError {
    let (line, col) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    RigError {
        path: path.to_path_buf(),
        line,
        col,
        message: first_meaningful_line(&e.to_string()),
    }
}

fn first_meaningful_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid YAML")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rig_file_parses() {
        let p = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../rigs/emulated.yaml"
        ));
        let rig = RigFile::load(p).unwrap();
        assert_eq!(rig.kind, RigKind::Emulated);
        assert!(!rig.module.vehicle_id.is_empty());
    }

    #[test]
    fn unknown_key_has_line_and_column() {
        let text = "kind: emulated\nmodule:\n  vehicle_id: X\n  colour: red\n";
        let e = RigFile::parse(text, Path::new("r.yaml")).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.col >= 1, "{e}");
        assert!(e.to_string().starts_with("r.yaml:4:"), "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }

    #[test]
    fn bad_kind_is_reported() {
        let e = RigFile::parse("kind: spaceship\n", Path::new("r.yaml")).unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("spaceship"), "{e}");
    }

    #[test]
    fn socketcan_needs_interface() {
        let e = RigFile::parse(
            "kind: bench\ncan: { kind: socketcan }\n",
            Path::new("r.yaml"),
        )
        .unwrap_err();
        assert!(e.message.contains("interface"), "{e}");
    }
}
