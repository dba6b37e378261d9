//! probe-rs driver (feature `probe`): an ESP32 OVMS module through an external JTAG probe
//! (ESP-Prog, J-Link, CMSIS-DAP). The session is opened on first use and kept, so a halted core
//! stays halted until [`Probe::resume`].

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use probe_rs::flashing;
use probe_rs::probe::list::Lister;
use probe_rs::probe::DebugProbeSelector;
use probe_rs::{Permissions, Session};

use super::{Probe, ProbeError, ProbeInfo};
use crate::rig::ProbeTarget;

/// How long a halt request may take.
const HALT_TIMEOUT: Duration = Duration::from_millis(500);

fn register_espressif() {
    static ONCE: Once = Once::new();
    ONCE.call_once(probe_rs_espressif::register_plugin);
}

/// A debug probe driven through probe-rs.
pub struct ProbeRs {
    target: ProbeTarget,
    session: Option<Session>,
}

impl std::fmt::Debug for ProbeRs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeRs")
            .field("target", &self.target)
            .field("attached", &self.session.is_some())
            .finish()
    }
}

fn driver(action: &'static str) -> impl Fn(probe_rs::Error) -> ProbeError {
    move |e| ProbeError::Driver {
        action,
        message: e.to_string(),
    }
}

impl ProbeRs {
    /// A controller for the rig's probe (nothing is opened until the first action).
    pub fn new(target: ProbeTarget) -> Self {
        ProbeRs {
            target,
            session: None,
        }
    }

    fn session(&mut self, action: &'static str) -> Result<&mut Session, ProbeError> {
        if self.session.is_none() {
            register_espressif();
            let lister = Lister::new();
            let infos = lister.list_all();
            let probe = match &self.target.selector {
                Some(sel) => {
                    let s: DebugProbeSelector = sel.parse().map_err(|e| ProbeError::Driver {
                        action,
                        message: format!("selector `{sel}`: {e}"),
                    })?;
                    if !infos.iter().any(|i| {
                        i.vendor_id == s.vendor_id
                            && i.product_id == s.product_id
                            && (s.serial_number.is_none() || i.serial_number == s.serial_number)
                    }) {
                        return Err(ProbeError::NoProbe {
                            selector: Some(sel.clone()),
                        });
                    }
                    lister.open(s)
                }
                None => match infos.len() {
                    0 => return Err(ProbeError::NoProbe { selector: None }),
                    1 => infos[0].open(),
                    n => {
                        return Err(ProbeError::Ambiguous {
                            count: n,
                            list: infos
                                .iter()
                                .map(|i| i.to_string())
                                .collect::<Vec<_>>()
                                .join("; "),
                        })
                    }
                },
            };
            let mut probe = probe.map_err(|e| ProbeError::Driver {
                action,
                message: e.to_string(),
            })?;
            if let Some(k) = self.target.speed_khz {
                probe.set_speed(k).map_err(|e| ProbeError::Driver {
                    action,
                    message: format!("set speed {k} kHz: {e}"),
                })?;
            }
            let session = probe
                .attach(self.target.chip.as_str(), Permissions::default())
                .map_err(driver(action))?;
            self.session = Some(session);
        }
        Ok(self.session.as_mut().expect("just attached"))
    }

    fn each_core(
        &mut self,
        action: &'static str,
        f: impl Fn(&mut probe_rs::Core<'_>) -> Result<(), probe_rs::Error>,
    ) -> Result<(), ProbeError> {
        let session = self.session(action)?;
        let cores: Vec<usize> = session.list_cores().into_iter().map(|(i, _)| i).collect();
        for i in cores {
            let mut core = session.core(i).map_err(driver(action))?;
            f(&mut core).map_err(driver(action))?;
        }
        Ok(())
    }
}

impl Probe for ProbeRs {
    fn describe(&self) -> String {
        format!(
            "probe-rs {} ({})",
            self.target.chip,
            self.target
                .selector
                .as_deref()
                .unwrap_or("the only probe attached")
        )
    }

    fn list(&mut self) -> Result<Vec<ProbeInfo>, ProbeError> {
        register_espressif();
        Ok(Lister::new()
            .list_all()
            .into_iter()
            .map(|i| ProbeInfo {
                identifier: i.identifier.clone(),
                vendor_id: Some(i.vendor_id),
                product_id: Some(i.product_id),
                serial: i.serial_number.clone(),
            })
            .collect())
    }

    fn flash(&mut self, image: &Path) -> Result<(), ProbeError> {
        let is_elf = std::fs::read(image)
            .map(|b| b.starts_with(b"\x7fELF"))
            .map_err(|e| ProbeError::Image {
                path: image.display().to_string(),
                reason: e.to_string(),
            })?;
        if !is_elf {
            return Err(ProbeError::Image {
                path: image.display().to_string(),
                reason: "not an ELF file: flashing through the probe takes the firmware ELF \
                         (converted to an ESP-IDF image); flash .bin images over the USB serial"
                    .into(),
            });
        }
        register_espressif();
        let format = flashing::image_format("idf").ok_or(ProbeError::Driver {
            action: "flash",
            message: "probe-rs has no `idf` image format (probe-rs-espressif not registered)"
                .into(),
        })?;
        let loader = format.create_loader(None);
        let session = self.session("flash")?;
        flashing::download_file(session, image, loader).map_err(|e| ProbeError::Driver {
            action: "flash",
            message: e.to_string(),
        })?;
        self.reset()
    }

    fn reset(&mut self) -> Result<(), ProbeError> {
        let session = self.session("reset")?;
        let mut core = session.core(0).map_err(driver("reset"))?;
        core.reset().map_err(driver("reset"))
    }

    fn halt(&mut self) -> Result<(), ProbeError> {
        self.each_core("halt", |c| c.halt(HALT_TIMEOUT).map(|_| ()))
    }

    fn resume(&mut self) -> Result<(), ProbeError> {
        self.each_core("resume", |c| c.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(selector: Option<&str>) -> ProbeTarget {
        ProbeTarget {
            selector: selector.map(str::to_string),
            chip: "esp32".into(),
            firmware: None,
            speed_khz: None,
        }
    }

    #[test]
    fn without_an_attached_probe_actions_fail_clearly() {
        let mut p = ProbeRs::new(target(None));
        assert_eq!(p.describe(), "probe-rs esp32 (the only probe attached)");
        if p.list().unwrap().is_empty() {
            let e = p.halt().unwrap_err();
            assert_eq!(e, ProbeError::NoProbe { selector: None });
            assert_eq!(e.to_string(), "no debug probe attached");
            assert!(p.resume().is_err());
            assert!(p.reset().is_err());
        }
        // A selector no attached probe matches is reported with the selector.
        let mut p = ProbeRs::new(target(Some("dead:beef:NOPE")));
        let e = p.halt().unwrap_err();
        assert!(e.to_string().contains("dead:beef:NOPE"), "{e}");
    }

    #[test]
    fn flashing_refuses_non_elf_images_before_touching_the_probe() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("ovms3.bin");
        std::fs::write(&bin, [0xe9u8, 3, 2, 0x20]).unwrap();
        let mut p = ProbeRs::new(target(None));
        let e = p.flash(&bin).unwrap_err();
        assert!(e.to_string().contains("not an ELF"), "{e}");
        let e = p.flash(&dir.path().join("missing.elf")).unwrap_err();
        assert!(matches!(e, ProbeError::Image { .. }), "{e}");
    }
}
