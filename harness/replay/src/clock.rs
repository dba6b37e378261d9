//! Wall-clock time sources for [`crate::Clock::Wall`]: the real one (sleep, then spin) and a fake
//! one for deterministic tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A time source the wall-clock runner waits on.
pub trait WallClock {
    /// Makes "now" the origin (called when a run starts).
    fn reset(&mut self);
    /// Time since the origin.
    fn now(&mut self) -> Duration;
    /// Returns `true` once `now() >= deadline`, or `false` early when `stop` becomes set.
    fn wait_until(&mut self, deadline: Duration, stop: &AtomicBool) -> bool;
}

/// The real clock ([`Instant`]): sleeps with the OS timer until `spin` before the deadline, then
/// busy-waits, which gives microsecond precision at the cost of one busy core while spinning.
#[derive(Debug, Clone)]
pub struct SystemWallClock {
    origin: Instant,
    spin: Duration,
    max_sleep: Duration,
}

impl Default for SystemWallClock {
    fn default() -> Self {
        Self::new(Duration::from_micros(200))
    }
}

impl SystemWallClock {
    /// A clock that spins for the last `spin` before each deadline (200 µs by default).
    pub fn new(spin: Duration) -> Self {
        SystemWallClock {
            origin: Instant::now(),
            spin,
            max_sleep: Duration::from_millis(20),
        }
    }
}

impl WallClock for SystemWallClock {
    fn reset(&mut self) {
        self.origin = Instant::now();
    }

    fn now(&mut self) -> Duration {
        self.origin.elapsed()
    }

    fn wait_until(&mut self, deadline: Duration, stop: &AtomicBool) -> bool {
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = self.origin.elapsed();
            if now >= deadline {
                return true;
            }
            let remaining = deadline - now;
            if remaining > self.spin {
                // Sleep in slices so a stop request is seen within `max_sleep`.
                std::thread::sleep((remaining - self.spin).min(self.max_sleep));
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// A fake wall clock for tests: waiting jumps straight to the deadline plus an injected lateness
/// (cycled from the list given), and every deadline waited for is recorded.
#[derive(Debug, Clone, Default)]
pub struct FakeWallClock {
    now: Duration,
    lateness: Vec<Duration>,
    next_lateness: usize,
    /// Every deadline passed to `wait_until`, in order.
    pub deadlines: Vec<Duration>,
}

impl FakeWallClock {
    /// A fake clock that is never late.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fake clock that arrives `lateness[i % len]` after the i-th deadline it waits for.
    pub fn with_lateness(lateness: Vec<Duration>) -> Self {
        FakeWallClock {
            lateness,
            ..Self::default()
        }
    }

    /// Moves time forward (e.g. to simulate a slow sink).
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }
}

impl WallClock for FakeWallClock {
    fn reset(&mut self) {
        self.now = Duration::ZERO;
    }

    fn now(&mut self) -> Duration {
        self.now
    }

    fn wait_until(&mut self, deadline: Duration, stop: &AtomicBool) -> bool {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        self.deadlines.push(deadline);
        let late = if self.lateness.is_empty() {
            Duration::ZERO
        } else {
            let l = self.lateness[self.next_lateness % self.lateness.len()];
            self.next_lateness += 1;
            l
        };
        if self.now < deadline {
            self.now = deadline.saturating_add(late);
        }
        true
    }
}
