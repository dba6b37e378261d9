//! Power, reset and halt of a bench module: a debug probe (probe-rs, feature `probe`) or a relay
//! driven by shell commands.
//!
//! - [`Probe`]: the actions a scenario needs: list, flash, reset, halt, resume.
//! - [`FakeProbe`]: records calls, can simulate "no probe attached" (tests, and the harness's own
//!   tests of bench steps).
//! - [`ShellPower`]: the rig's `bench.power` commands (halt = power off, resume = power on).
//! - `ProbeRs` (feature `probe`): ESP32 through probe-rs + probe-rs-espressif.
//!
//! Halting the module (core halted or power cut) is how a scenario makes the broker see a dead
//! module: no FIN/RST reaches the broker, so the will fires after 1.5 × keepalive.

mod fake;
#[cfg(feature = "probe")]
mod probers;
mod shell_power;

use std::path::Path;

pub use fake::{FakeProbe, ProbeCall};
#[cfg(feature = "probe")]
pub use probers::ProbeRs;
pub use shell_power::ShellPower;

use crate::rig::BenchRig;
use crate::shell::ShellError;

/// A probe (or relay) found on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeInfo {
    /// Name (`ESP-Prog`, `relay`).
    pub identifier: String,
    /// USB vendor id, if a USB probe.
    pub vendor_id: Option<u16>,
    /// USB product id.
    pub product_id: Option<u16>,
    /// Serial number.
    pub serial: Option<String>,
}

/// Why a probe action failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The crate was built without probe-rs.
    #[error(
        "bench.probe needs the debug-probe driver, but ovms-hil was built without the `probe` \
         feature: rebuild with --features probe"
    )]
    FeatureDisabled,
    /// No probe is attached (or none matches the selector).
    #[error("no debug probe attached{}", match selector { Some(s) => format!(" matching `{s}`"), None => String::new() })]
    NoProbe {
        /// The rig's selector.
        selector: Option<String>,
    },
    /// Several probes and no selector.
    #[error("{count} debug probes attached: set bench.probe.selector (VID:PID[:SERIAL]) to pick one: {list}")]
    Ambiguous {
        /// How many.
        count: usize,
        /// Their descriptions.
        list: String,
    },
    /// This controller cannot do that (e.g. a relay cannot flash).
    #[error("{by} cannot {action}: {hint}")]
    Unsupported {
        /// The action.
        action: &'static str,
        /// The controller.
        by: &'static str,
        /// What to configure instead.
        hint: &'static str,
    },
    /// The rig configures neither a probe nor power commands.
    #[error("the rig has neither bench.probe nor bench.power: cannot {action} the module")]
    NotConfigured {
        /// The action.
        action: &'static str,
    },
    /// A power command failed.
    #[error(transparent)]
    Shell(#[from] ShellError),
    /// probe-rs reported an error.
    #[error("debug probe: {action} failed: {message}")]
    Driver {
        /// The action.
        action: &'static str,
        /// probe-rs's message.
        message: String,
    },
    /// The firmware image is missing or unreadable.
    #[error("firmware image {path}: {reason}")]
    Image {
        /// Path.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The module-control actions a bench scenario needs. Blocking: call from
/// `tokio::task::spawn_blocking` in async code.
pub trait Probe: Send {
    /// What this controller is (for reports): `probe-rs esp32 (0403:6010)`, `relay`.
    fn describe(&self) -> String;
    /// Probes (or relays) available.
    fn list(&mut self) -> Result<Vec<ProbeInfo>, ProbeError>;
    /// Write `image` to the module's flash (the module is reset afterwards).
    fn flash(&mut self, image: &Path) -> Result<(), ProbeError>;
    /// Reset (or power-cycle) the module; it boots and reconnects.
    fn reset(&mut self) -> Result<(), ProbeError>;
    /// Stop the module dead (core halted / power off) without closing its connections.
    fn halt(&mut self) -> Result<(), ProbeError>;
    /// Let a halted module run again (core resumed / power on).
    fn resume(&mut self) -> Result<(), ProbeError>;
}

/// A parsed probe selector `VID:PID[:SERIAL]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// USB vendor id.
    pub vendor_id: u16,
    /// USB product id.
    pub product_id: u16,
    /// Serial number.
    pub serial: Option<String>,
}

/// Parse `VID:PID[:SERIAL]` (hex ids, as probe-rs writes them).
pub fn parse_selector(s: &str) -> Result<Selector, String> {
    let mut parts = s.splitn(3, ':');
    let hex = |p: Option<&str>, what: &str| -> Result<u16, String> {
        let p = p.ok_or_else(|| format!("missing {what}"))?;
        if p.is_empty() || p.len() > 4 {
            return Err(format!("{what} `{p}` must be 1-4 hex digits"));
        }
        u16::from_str_radix(p, 16).map_err(|_| format!("{what} `{p}` is not hex"))
    };
    let vendor_id = hex(parts.next(), "vendor id")?;
    let product_id = hex(parts.next(), "product id")?;
    let serial = parts.next().map(str::to_string);
    if serial.as_deref() == Some("") {
        return Err("empty serial number".into());
    }
    Ok(Selector {
        vendor_id,
        product_id,
        serial,
    })
}

/// The controller a rig describes: its probe if it has `bench.probe` (which needs the `probe`
/// feature), else its relay commands (`bench.power`).
pub fn open(rig: &BenchRig) -> Result<Box<dyn Probe>, ProbeError> {
    if let Some(p) = &rig.probe {
        #[cfg(feature = "probe")]
        {
            return Ok(Box::new(ProbeRs::new(p.clone())));
        }
        #[cfg(not(feature = "probe"))]
        {
            let _ = p;
            return Err(ProbeError::FeatureDisabled);
        }
    }
    match &rig.power {
        Some(p) => Ok(Box::new(ShellPower::new(p.clone()))),
        None => Err(ProbeError::NotConfigured {
            action: "control power of",
        }),
    }
}

/// The rig's relay commands alone (`bench.power`), whatever probe it also has: power-cut
/// scenarios work on a build without the `probe` feature.
pub fn open_power(rig: &BenchRig) -> Result<ShellPower, ProbeError> {
    rig.power
        .clone()
        .map(ShellPower::new)
        .ok_or(ProbeError::NotConfigured {
            action: "switch the power of",
        })
}

/// Flash the rig's firmware image through `probe` (`bench.probe.firmware`).
pub fn flash_rig_firmware(rig: &BenchRig, probe: &mut dyn Probe) -> Result<(), ProbeError> {
    let image =
        rig.probe
            .as_ref()
            .and_then(|p| p.firmware.as_ref())
            .ok_or(ProbeError::Unsupported {
                action: "flash",
                by: "this rig",
                hint: "set bench.probe.firmware to the image to flash",
            })?;
    if !image.is_file() {
        return Err(ProbeError::Image {
            path: image.display().to_string(),
            reason: "no such file".into(),
        });
    }
    probe.flash(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rig::parse_bench_rig;

    #[test]
    fn selectors() {
        assert_eq!(
            parse_selector("0403:6010").unwrap(),
            Selector {
                vendor_id: 0x0403,
                product_id: 0x6010,
                serial: None
            }
        );
        assert_eq!(
            parse_selector("303a:1001:AB:CD").unwrap().serial.as_deref(),
            Some("AB:CD")
        );
        for bad in ["", "0403", "xyz:1", "12345:1", "1:2:"] {
            assert!(parse_selector(bad).is_err(), "{bad}");
        }
    }

    const BASE: &str = "kind: bench\nmodule: { vehicle_id: B, mqtt_user: b, profile: fw-3.3.006 }\ntiming: { tolerance_ms: 500 }\nbench:\n  broker: { tap: \"127.0.0.1:18830\", server: 127.0.0.1 }\n  can: { can1: { socketcan: vcan0 } }\n";

    #[test]
    fn open_without_probe_feature_is_a_clear_error() {
        let rig = parse_bench_rig(
            &format!("{BASE}  probe: {{ chip: esp32 }}\n"),
            Path::new("r.yaml"),
        )
        .unwrap();
        let r = open(&rig);
        #[cfg(not(feature = "probe"))]
        {
            let e = r.err().unwrap();
            assert_eq!(e, ProbeError::FeatureDisabled);
            assert!(
                e.to_string().contains("rebuild with --features probe"),
                "{e}"
            );
        }
        #[cfg(feature = "probe")]
        assert!(r.unwrap().describe().contains("esp32"));
    }

    #[test]
    fn open_picks_relay_commands() {
        let rig = parse_bench_rig(
            &format!("{BASE}  power: {{ off: \"true\", on: \"true\" }}\n"),
            Path::new("r.yaml"),
        )
        .unwrap();
        let mut p = open(&rig).unwrap();
        assert_eq!(p.describe(), "relay (shell commands)");
        p.halt().unwrap();
        p.resume().unwrap();
    }

    #[test]
    fn open_without_anything_is_not_configured() {
        let rig = parse_bench_rig(BASE, Path::new("r.yaml")).unwrap();
        let e = open(&rig).err().unwrap();
        assert!(
            e.to_string()
                .contains("neither bench.probe nor bench.power"),
            "{e}"
        );
    }

    #[test]
    fn flashing_needs_an_existing_image() {
        let rig = parse_bench_rig(
            &format!("{BASE}  probe: {{ chip: esp32, firmware: /nonexistent/ovms3.bin }}\n"),
            Path::new("r.yaml"),
        )
        .unwrap();
        let mut fake = FakeProbe::new();
        let e = flash_rig_firmware(&rig, &mut fake).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/ovms3.bin"), "{e}");
        assert!(fake.calls().is_empty());

        let dir = tempfile::tempdir().unwrap();
        let img = dir.path().join("fw.bin");
        std::fs::write(&img, b"\xe9firmware").unwrap();
        let rig = parse_bench_rig(
            &format!("{BASE}  probe: {{ chip: esp32, firmware: fw.bin }}\n"),
            &dir.path().join("r.yaml"),
        )
        .unwrap();
        flash_rig_firmware(&rig, &mut fake).unwrap();
        assert_eq!(fake.calls(), vec![ProbeCall::Flash(img)]);
    }
}
