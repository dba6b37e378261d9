//! Relay power control through the rig's shell commands (`bench.power`).

use std::path::Path;
use std::time::Duration;

use super::{Probe, ProbeError, ProbeInfo};
use crate::rig::PowerCommands;
use crate::shell::run_shell;

/// Pause between `off` and `on` when a reset is done as a power cycle.
pub const CYCLE_PAUSE: Duration = Duration::from_secs(1);

/// A relay switched by shell commands: halt = power off, resume = power on, reset = the `reset`
/// command or off, [`CYCLE_PAUSE`], on.
#[derive(Clone, Debug)]
pub struct ShellPower {
    cmds: PowerCommands,
    cycle_pause: Duration,
}

impl ShellPower {
    /// Controller for these commands.
    pub fn new(cmds: PowerCommands) -> Self {
        ShellPower {
            cmds,
            cycle_pause: CYCLE_PAUSE,
        }
    }

    /// Change the off→on pause of a power-cycle reset.
    pub fn with_cycle_pause(mut self, pause: Duration) -> Self {
        self.cycle_pause = pause;
        self
    }

    fn run(
        &self,
        what: &'static str,
        cmd: &Option<String>,
        key: &'static str,
    ) -> Result<(), ProbeError> {
        let cmd = cmd.as_deref().ok_or(ProbeError::Unsupported {
            action: what,
            by: "the relay",
            hint: key,
        })?;
        run_shell(&format!("power {what}"), cmd, self.cmds.timeout)?;
        Ok(())
    }
}

impl Probe for ShellPower {
    fn describe(&self) -> String {
        "relay (shell commands)".into()
    }

    fn list(&mut self) -> Result<Vec<ProbeInfo>, ProbeError> {
        Ok(vec![ProbeInfo {
            identifier: "relay (shell commands)".into(),
            vendor_id: None,
            product_id: None,
            serial: None,
        }])
    }

    fn flash(&mut self, _image: &Path) -> Result<(), ProbeError> {
        Err(ProbeError::Unsupported {
            action: "flash",
            by: "a relay",
            hint: "configure bench.probe (and build with --features probe)",
        })
    }

    fn reset(&mut self) -> Result<(), ProbeError> {
        if self.cmds.reset.is_some() {
            return self.run("reset", &self.cmds.reset, "set bench.power.reset");
        }
        if self.cmds.off.is_none() || self.cmds.on.is_none() {
            return Err(ProbeError::Unsupported {
                action: "reset",
                by: "the relay",
                hint: "set bench.power.reset, or both bench.power.off and bench.power.on",
            });
        }
        self.run("off", &self.cmds.off, "set bench.power.off")?;
        std::thread::sleep(self.cycle_pause);
        self.run("on", &self.cmds.on, "set bench.power.on")
    }

    fn halt(&mut self) -> Result<(), ProbeError> {
        self.run("off", &self.cmds.off, "set bench.power.off")
    }

    fn resume(&mut self) -> Result<(), ProbeError> {
        self.run("on", &self.cmds.on, "set bench.power.on")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmds(dir: &Path, reset: bool) -> PowerCommands {
        let log = dir.join("relay.log");
        let l = log.display();
        PowerCommands {
            on: Some(format!("echo on >> {l}")),
            off: Some(format!("echo off >> {l}")),
            reset: reset.then(|| format!("echo cycle >> {l}")),
            timeout: Duration::from_secs(5),
        }
    }

    fn log(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("relay.log")).unwrap_or_default()
    }

    #[test]
    fn halt_resume_reset_run_the_commands() {
        let d = tempfile::tempdir().unwrap();
        let mut p = ShellPower::new(cmds(d.path(), true));
        p.halt().unwrap();
        p.resume().unwrap();
        p.reset().unwrap();
        assert_eq!(log(d.path()), "off\non\ncycle\n");
    }

    #[test]
    fn reset_without_reset_command_power_cycles() {
        let d = tempfile::tempdir().unwrap();
        let mut p =
            ShellPower::new(cmds(d.path(), false)).with_cycle_pause(Duration::from_millis(10));
        p.reset().unwrap();
        assert_eq!(log(d.path()), "off\non\n");
    }

    #[test]
    fn failing_relay_reports_stderr() {
        let mut p = ShellPower::new(PowerCommands {
            on: None,
            off: Some("echo 'relay board not found' >&2; exit 1".into()),
            reset: None,
            timeout: Duration::from_secs(5),
        });
        let e = p.halt().unwrap_err();
        assert!(e.to_string().contains("relay board not found"), "{e}");
        assert!(e.to_string().starts_with("power off:"), "{e}");
        let e = p.resume().unwrap_err();
        assert!(e.to_string().contains("bench.power.on"), "{e}");
        let e = p.reset().unwrap_err();
        assert!(e.to_string().contains("bench.power.reset"), "{e}");
        let e = p.flash(Path::new("x.bin")).unwrap_err();
        assert!(e.to_string().contains("bench.probe"), "{e}");
    }

    #[test]
    fn hanging_relay_times_out() {
        let mut p = ShellPower::new(PowerCommands {
            on: Some("sleep 20".into()),
            off: None,
            reset: None,
            timeout: Duration::from_millis(200),
        });
        let e = p.resume().unwrap_err();
        assert!(e.to_string().contains("still running after"), "{e}");
    }
}
