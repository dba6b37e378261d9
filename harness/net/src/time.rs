//! The time stamps every capture record carries: virtual time set by the harness, wall time from the OS.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const UNSET: u64 = u64::MAX;

/// Shared virtual time, in milliseconds, that the harness sets and the tap and observer read.
///
/// Cloning shares the same value. Until [`TimeSource::set_millis`] is called (or after
/// [`TimeSource::clear`]) the virtual time is unknown and records carry `"t": null`.
#[derive(Debug, Clone)]
pub struct TimeSource(Arc<AtomicU64>);

impl Default for TimeSource {
    fn default() -> Self {
        TimeSource(Arc::new(AtomicU64::new(UNSET)))
    }
}

impl TimeSource {
    /// A time source with no virtual time set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the virtual time in milliseconds.
    pub fn set_millis(&self, ms: u64) {
        self.0.store(ms.min(UNSET - 1), Ordering::Release);
    }

    /// Forgets the virtual time (records then carry `"t": null`).
    pub fn clear(&self) {
        self.0.store(UNSET, Ordering::Release);
    }

    /// The virtual time in seconds, if set.
    pub fn virtual_secs(&self) -> Option<f64> {
        match self.0.load(Ordering::Acquire) {
            UNSET => None,
            ms => Some(ms as f64 / 1000.0),
        }
    }
}

/// Wall-clock time as Unix seconds.
pub fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
