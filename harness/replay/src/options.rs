//! What a replay does: clock, loops, time window, bus mapping, identifier filter.

use std::time::Duration;

use crate::filter::{BusMap, IdFilter};

/// How frames are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clock {
    /// As fast as the sink takes frames; each frame still carries its scheduled (log-time) offset,
    /// so a consumer on a virtual clock can advance its own time to it.
    Virtual,
    /// Real time: a frame at log offset `t` is handed to the sink at `t / speed` after the start
    /// (`speed` 2.0 = twice as fast as recorded).
    Wall {
        /// Speed factor (> 0, finite).
        speed: f64,
    },
}

/// How many times the log is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loops {
    /// This many passes (0 plays nothing).
    Times(u32),
    /// Until stopped (or until a pass yields no frame inside the window).
    Forever,
}

/// Which part of the log is played, in seconds relative to the first frame of the log
/// (on the monotonic timeline of [`crate::schedule`]). Offsets of played frames are measured from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TimeWindow {
    /// Seconds from the first frame where playing starts (default 0).
    pub start_s: f64,
    /// Seconds from the first frame where playing ends (inclusive), or `None` for the end of the log.
    pub end_s: Option<f64>,
}

/// Options of a replay. `Default` = virtual clock, one pass, whole log, no mapping, no filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Pacing.
    pub clock: Clock,
    /// Number of passes.
    pub loops: Loops,
    /// Extra pause between the last frame of one pass and the first frame of the next.
    pub loop_gap: Duration,
    /// Part of the log to play.
    pub window: TimeWindow,
    /// Log bus → sink bus; unmapped buses are dropped when the map is non-empty.
    pub bus_map: BusMap,
    /// Identifier include/exclude filter (applied to the log identifier).
    pub ids: IdFilter,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            clock: Clock::Virtual,
            loops: Loops::Times(1),
            loop_gap: Duration::ZERO,
            window: TimeWindow::default(),
            bus_map: BusMap::identity(),
            ids: IdFilter::all(),
        }
    }
}

/// Options that make no sense.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// Speed must be a finite number above zero.
    #[error("replay speed must be a finite number > 0, got {0}")]
    Speed(f64),
    /// Window bounds must be finite, `start >= 0` and `end >= start`.
    #[error("replay window must satisfy 0 <= start <= end (finite seconds), got start {start}, end {end:?}")]
    Window {
        /// Given start.
        start: f64,
        /// Given end.
        end: Option<f64>,
    },
}

impl ReplayOptions {
    /// Checks speed and window.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if let Clock::Wall { speed } = self.clock {
            if !(speed.is_finite() && speed > 0.0) {
                return Err(OptionsError::Speed(speed));
            }
        }
        let TimeWindow { start_s, end_s } = self.window;
        let bad_end = end_s.is_some_and(|e| !e.is_finite() || e < start_s);
        if !start_s.is_finite() || start_s < 0.0 || bad_end {
            return Err(OptionsError::Window {
                start: start_s,
                end: end_s,
            });
        }
        Ok(())
    }

    /// Window start in nanoseconds.
    pub(crate) fn window_start_ns(&self) -> u64 {
        secs_to_ns(self.window.start_s)
    }

    /// Window end in nanoseconds (inclusive), if any.
    pub(crate) fn window_end_ns(&self) -> Option<u64> {
        self.window.end_s.map(secs_to_ns)
    }
}

fn secs_to_ns(s: f64) -> u64 {
    (s * 1e9).round().clamp(0.0, u64::MAX as f64) as u64
}
