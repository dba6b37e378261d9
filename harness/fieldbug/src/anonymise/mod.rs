//! Anonymise CAN logs and captures before they are shared or committed.
//!
//! - [`anonymise_log`]: drops VIN frames and zeroes (or drops) GPS position frames of a CAN log,
//!   following the vehicle's identifying list ([`rules`], from `data/identifying.yaml`: the
//!   vehicle definition YAML has no such field), and replaces identifying metric values in CRTD
//!   `CMT Metric` records.
//! - [`anonymise_capture`]: replaces the payloads of identifying metrics (`v.vin`,
//!   `v.p.latitude`, `v.p.longitude`, `v.p.gpstime`, ...) with fixed fake values, and the vehicle
//!   id and username wherever they occur (topic levels, text payloads, extra fields) with `anon`.
//!
//! Both return an [`AnonymiseReport`] counting what changed, per kind.

mod can;
mod capture;
pub mod rules;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use can::{anonymise_log, AnonymiseLogOptions, GpsPolicy};
pub use capture::{anonymise_capture, anonymise_records, AnonymiseCaptureOptions};
pub use rules::{IdentifyingRules, RulesError};

/// What an anonymisation changed: counts per kind (`vin frames dropped`, `gps frames zeroed`,
/// `v.vin payloads replaced`, `vehicle id in topics`, ...), plus totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnonymiseReport {
    /// Records read.
    pub records_in: u64,
    /// Records written.
    pub records_out: u64,
    /// Changes per kind.
    pub changes: BTreeMap<String, u64>,
}

impl AnonymiseReport {
    /// Adds one change of `kind`.
    pub fn count(&mut self, kind: &str) {
        *self.changes.entry(kind.to_string()).or_default() += 1;
    }

    /// The count of `kind` (0 when nothing of that kind changed).
    pub fn get(&self, kind: &str) -> u64 {
        self.changes.get(kind).copied().unwrap_or(0)
    }
}

impl fmt::Display for AnonymiseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} records in, {} records out",
            self.records_in, self.records_out
        )?;
        if self.changes.is_empty() {
            writeln!(f, "nothing identifying found")?;
        }
        for (k, n) in &self.changes {
            writeln!(f, "{n:>8}  {k}")?;
        }
        Ok(())
    }
}

/// Why anonymisation failed.
#[derive(Debug, thiserror::Error)]
pub enum AnonymiseError {
    /// The identifying list or the vehicle could not be resolved.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The input log is unreadable (file:line:column).
    #[error(transparent)]
    Log(#[from] ovms_canlog::LogError),
    /// The output log could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// Output file.
        path: PathBuf,
        /// Cause.
        source: ovms_canlog::WriteError,
    },
    /// The capture could not be read or written (file:line:column for bad lines).
    #[error(transparent)]
    Capture(#[from] ovms_hil_net::capture::CaptureError),
    /// The output would overwrite the input.
    #[error("{}: output must differ from the input", .0.display())]
    SameFile(PathBuf),
}
