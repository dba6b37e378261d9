//! A probe double for tests: records every call, keeps a halted/running state, and can pretend
//! that no probe is attached.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{Probe, ProbeError, ProbeInfo};

/// One recorded call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeCall {
    /// `list`.
    List,
    /// `flash(image)`.
    Flash(PathBuf),
    /// `reset`.
    Reset,
    /// `halt`.
    Halt,
    /// `resume`.
    Resume,
}

#[derive(Debug, Default)]
struct State {
    calls: Vec<ProbeCall>,
    halted: bool,
    resets: u32,
    fail_next: Option<String>,
}

/// A [`Probe`] that records calls. Clones share the record, so a test can keep one clone and
/// hand the other (boxed) to the code under test.
#[derive(Clone, Debug)]
pub struct FakeProbe {
    attached: bool,
    state: Arc<Mutex<State>>,
}

impl Default for FakeProbe {
    fn default() -> Self {
        FakeProbe::new()
    }
}

impl FakeProbe {
    /// An attached probe whose actions all succeed.
    pub fn new() -> Self {
        FakeProbe {
            attached: true,
            state: Arc::default(),
        }
    }

    /// No probe attached: every action fails with [`ProbeError::NoProbe`] (calls are still
    /// recorded) and `list` returns nothing.
    pub fn detached() -> Self {
        FakeProbe {
            attached: false,
            state: Arc::default(),
        }
    }

    /// Make the next action fail with a driver error carrying `message`.
    pub fn fail_next(&self, message: &str) {
        self.lock().fail_next = Some(message.to_string());
    }

    /// Calls so far, in order.
    pub fn calls(&self) -> Vec<ProbeCall> {
        self.lock().calls.clone()
    }

    /// Whether the (pretend) core is halted.
    pub fn is_halted(&self) -> bool {
        self.lock().halted
    }

    /// Number of successful resets (flashing resets too).
    pub fn resets(&self) -> u32 {
        self.lock().resets
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn act(&self, call: ProbeCall, action: &'static str) -> Result<(), ProbeError> {
        let mut s = self.lock();
        s.calls.push(call);
        if !self.attached {
            return Err(ProbeError::NoProbe { selector: None });
        }
        if let Some(message) = s.fail_next.take() {
            return Err(ProbeError::Driver { action, message });
        }
        Ok(())
    }
}

impl Probe for FakeProbe {
    fn describe(&self) -> String {
        "fake probe".into()
    }

    fn list(&mut self) -> Result<Vec<ProbeInfo>, ProbeError> {
        self.lock().calls.push(ProbeCall::List);
        Ok(if self.attached {
            vec![ProbeInfo {
                identifier: "fake probe".into(),
                vendor_id: Some(0xf00d),
                product_id: Some(0x0001),
                serial: Some("FAKE0".into()),
            }]
        } else {
            Vec::new()
        })
    }

    fn flash(&mut self, image: &Path) -> Result<(), ProbeError> {
        self.act(ProbeCall::Flash(image.to_path_buf()), "flash")?;
        let mut s = self.lock();
        s.halted = false;
        s.resets += 1;
        Ok(())
    }

    fn reset(&mut self) -> Result<(), ProbeError> {
        self.act(ProbeCall::Reset, "reset")?;
        let mut s = self.lock();
        s.halted = false;
        s.resets += 1;
        Ok(())
    }

    fn halt(&mut self) -> Result<(), ProbeError> {
        self.act(ProbeCall::Halt, "halt")?;
        self.lock().halted = true;
        Ok(())
    }

    fn resume(&mut self) -> Result<(), ProbeError> {
        self.act(ProbeCall::Resume, "resume")?;
        self.lock().halted = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_calls_and_state_across_clones() {
        let fake = FakeProbe::new();
        let mut boxed: Box<dyn Probe> = Box::new(fake.clone());
        boxed.halt().unwrap();
        assert!(fake.is_halted());
        boxed.resume().unwrap();
        boxed.reset().unwrap();
        assert_eq!(boxed.list().unwrap().len(), 1);
        assert_eq!(
            fake.calls(),
            vec![
                ProbeCall::Halt,
                ProbeCall::Resume,
                ProbeCall::Reset,
                ProbeCall::List
            ]
        );
        assert_eq!(fake.resets(), 1);
        assert!(!fake.is_halted());
    }

    #[test]
    fn detached_probe_fails_every_action() {
        let mut p = FakeProbe::detached();
        assert!(p.list().unwrap().is_empty());
        let e = p.halt().unwrap_err();
        assert_eq!(e.to_string(), "no debug probe attached");
        assert!(p.reset().is_err());
        assert!(p.flash(Path::new("x.bin")).is_err());
        assert!(!p.is_halted());
        assert_eq!(p.calls().len(), 4);
    }

    #[test]
    fn injected_failure_hits_once() {
        let mut p = FakeProbe::new();
        p.fail_next("JTAG scan chain broken");
        let e = p.halt().unwrap_err();
        assert_eq!(
            e.to_string(),
            "debug probe: halt failed: JTAG scan chain broken"
        );
        assert!(!p.is_halted());
        p.halt().unwrap();
        assert!(p.is_halted());
    }
}
