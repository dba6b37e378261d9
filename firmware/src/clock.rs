//! Clocks for the edge and the harness. The protocol core never calls a clock: the driver reads one
//! and passes `now` to [`crate::module::Module`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::time::{Duration, Instant};

/// A source of module time.
pub trait Clock {
    /// The current module time.
    fn now(&self) -> Instant;
}

/// A clock the caller advances by hand. Clones share the same time (an `Arc<AtomicU64>`), so a
/// driver, a broker fake and assertions can all read one clock.
#[derive(Clone, Debug, Default)]
pub struct VirtualClock {
    ms: Arc<AtomicU64>,
}

impl VirtualClock {
    /// A clock at module boot (0 ms).
    pub fn new() -> VirtualClock {
        VirtualClock::default()
    }

    /// Move forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.ms.fetch_add(d.as_millis(), Ordering::SeqCst);
    }

    /// Jump to `t`; a `t` earlier than the current time is ignored (time never goes back).
    pub fn set(&self, t: Instant) {
        self.ms.fetch_max(t.as_millis(), Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        Instant::from_millis(self.ms.load(Ordering::SeqCst))
    }
}

/// The system's monotonic clock, with its zero at construction (module boot).
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    start: std::time::Instant,
}

impl SystemClock {
    /// A clock whose zero is now.
    pub fn new() -> SystemClock {
        SystemClock {
            start: std::time::Instant::now(),
        }
    }

    /// The std instant that corresponds to module time `t` (for sleeping until a deadline).
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        self.start + std::time::Duration::from_millis(t.as_millis())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_is_shared_and_monotonic() {
        let a = VirtualClock::new();
        let b = a.clone();
        a.advance(Duration::from_secs(3600));
        assert_eq!(b.now(), Instant::from_secs(3600));
        b.set(Instant::from_secs(10));
        assert_eq!(a.now(), Instant::from_secs(3600));
        b.set(Instant::from_secs(7200));
        assert_eq!(a.now().as_secs(), 7200);
    }

    #[test]
    fn system_clock_moves_forward() {
        let c = SystemClock::new();
        let t0 = c.now();
        assert!(c.now() >= t0);
        assert!(c.to_std(Instant::from_secs(1)) > c.to_std(Instant::ZERO));
    }
}
