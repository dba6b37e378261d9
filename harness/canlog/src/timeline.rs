//! Timestamp quirk tracking (see the crate doc's policy): file order is kept, never re-sorted;
//! quirks become [`Warnings`].

use crate::warnings::{WarningKind, Warnings};

/// A backward step longer than this is a clock reset rather than jitter or bus interleaving.
pub(crate) const RESET_THRESHOLD_NS: i64 = 1_000_000_000;

/// A constant step shorter than this cannot be real CAN timing: the shortest classic CAN frame
/// (47 bits at 1 Mbit/s) takes 47 µs.
pub(crate) const MIN_FRAME_TIME_NS: i64 = 40_000;

/// The last time of a bus without frames yet.
const NO_FRAME: i64 = i64::MIN;

/// Watches frame timestamps in file order.
#[derive(Debug)]
pub(crate) struct Timeline {
    /// The previous frame's time (meaningful once `frames > 0`).
    prev: i64,
    /// Per bus, the time of its last frame; [`NO_FRAME`] before the first (it compares as "no
    /// earlier frame": every time is at or after it).
    bus_last: Box<[i64; 256]>,
    /// Frames seen until `settled` (after that only `frames > 1` is asked, and it holds).
    frames: u64,
    first_line: u64,
    all_whole: bool,
    any_repeat: bool,
    step: Option<i64>,
    constant_step: bool,
    /// Both whole-file patterns ruled out (`!all_whole && !constant_step`, so `frames > 0`):
    /// one flag for the common case of [`Timeline::observe`].
    settled: bool,
}

impl Timeline {
    pub(crate) fn new() -> Self {
        Timeline {
            prev: 0,
            bus_last: Box::new([NO_FRAME; 256]),
            frames: 0,
            first_line: 0,
            all_whole: true,
            any_repeat: false,
            step: None,
            constant_step: true,
            settled: false,
        }
    }

    /// Look at one frame's timestamp.
    #[inline]
    pub(crate) fn observe(&mut self, ts: i64, bus: u8, line: u64, w: &mut Warnings) {
        // The common case once the whole-file patterns are ruled out (they never come back): a
        // non-negative time, in order. Only the per-bus and previous times need updating.
        if self.settled && ts >= 0 && ts >= self.prev {
            self.bus_last[bus as usize] = ts;
            self.prev = ts;
            return;
        }
        self.observe_all(ts, bus, line, w);
    }

    /// [`Timeline::observe`] with every check.
    #[inline(never)]
    fn observe_all(&mut self, ts: i64, bus: u8, line: u64, w: &mut Warnings) {
        if self.frames == 0 {
            self.first_line = line;
        }
        self.frames += 1;
        if ts < 0 {
            w.add(WarningKind::NegativeTimestamp, line, 1, || {
                format!("negative timestamp {}", fmt_ns(ts))
            });
        }
        if ts % 1_000_000_000 != 0 {
            self.all_whole = false;
        }
        if self.frames > 1 {
            let p = self.prev;
            let diff = ts.wrapping_sub(p);
            if ts == p {
                self.any_repeat = true;
            }
            match self.step {
                None => self.step = Some(diff),
                Some(s) if s != diff => self.constant_step = false,
                Some(_) => {}
            }
            if ts < p {
                let back = p.saturating_sub(ts);
                let bus_prev = self.bus_last[bus as usize];
                if back > RESET_THRESHOLD_NS {
                    w.add(WarningKind::TimestampReset, line, 1, || {
                        format!("timestamp jumps back from {} to {}", fmt_ns(p), fmt_ns(ts))
                    });
                } else if ts >= bus_prev {
                    w.add(WarningKind::BusInterleaving, line, 1, || {
                        format!(
                            "timestamp {} is before the previous frame's {} (another bus); in order on bus {}",
                            fmt_ns(ts),
                            fmt_ns(p),
                            bus
                        )
                    });
                } else {
                    w.add(WarningKind::BackwardTimestamp, line, 1, || {
                        format!("timestamp goes back from {} to {}", fmt_ns(p), fmt_ns(ts))
                    });
                }
            }
        }
        self.bus_last[bus as usize] = ts;
        self.prev = ts;
        self.settled = !self.all_whole && !self.constant_step;
    }

    /// End of input: whole-file quirks.
    pub(crate) fn finish(&mut self, w: &mut Warnings) {
        if w.count(WarningKind::NoTimestamps) > 0 {
            return;
        }
        if self.frames >= 2 && self.all_whole && self.any_repeat {
            w.add(
                WarningKind::WholeSecondTimestamps,
                self.first_line,
                1,
                || {
                    format!(
                        "all {} timestamps are whole seconds and repeat: sub-second timing is lost",
                        self.frames
                    )
                },
            );
        }
        if self.frames >= 3 && self.constant_step {
            if let Some(step) = self.step {
                if step > 0 && step < MIN_FRAME_TIME_NS {
                    w.add(WarningKind::SequenceNumbers, self.first_line, 1, || {
                        format!(
                            "all {} timestamps step by exactly {} ns, shorter than any CAN frame: they are sequence numbers, not times",
                            self.frames, step
                        )
                    });
                }
            }
        }
    }
}

/// `-12.345678901` style seconds for messages.
pub(crate) fn fmt_ns(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    format!("{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(frames: &[(i64, u8)]) -> Warnings {
        let mut w = Warnings::default();
        let mut t = Timeline::new();
        for (i, &(ts, bus)) in frames.iter().enumerate() {
            t.observe(ts, bus, i as u64 + 1, &mut w);
        }
        t.finish(&mut w);
        w
    }

    const MS: i64 = 1_000_000;

    #[test]
    fn classifies_backward_steps() {
        // bus 1 lags bus 0 but is in order on its own: interleaving
        let w = run(&[(10 * MS, 0), (12 * MS, 0), (11 * MS, 1), (13 * MS, 1)]);
        assert_eq!(w.count(WarningKind::BusInterleaving), 1);
        assert_eq!(w.count(WarningKind::BackwardTimestamp), 0);
        assert_eq!(
            w.first_of(WarningKind::BusInterleaving)
                .next()
                .unwrap()
                .line,
            3
        );
        // the same bus goes back
        let w = run(&[(10 * MS, 0), (12 * MS, 0), (11 * MS, 0)]);
        assert_eq!(w.count(WarningKind::BackwardTimestamp), 1);
        // more than a second back: a clock reset, wherever it happens
        let w = run(&[(22_000 * MS, 0), (-364 * MS, 0), (-300 * MS, 0)]);
        assert_eq!(w.count(WarningKind::TimestampReset), 1);
        assert_eq!(w.count(WarningKind::NegativeTimestamp), 2);
        assert_eq!(w.count(WarningKind::BackwardTimestamp), 0);
    }

    #[test]
    fn whole_seconds_and_sequence_numbers() {
        let w = run(&[(166_000 * MS, 0), (166_000 * MS, 0), (167_000 * MS, 0)]);
        assert_eq!(w.count(WarningKind::WholeSecondTimestamps), 1);
        // whole seconds that never repeat are plausible (1 Hz traffic)
        let w = run(&[(1_000 * MS, 0), (2_000 * MS, 0), (3_000 * MS, 0)]);
        assert!(w.is_empty());
        let w = run(&[(0, 0), (1_000, 0), (2_000, 0), (3_000, 0)]);
        assert_eq!(w.count(WarningKind::SequenceNumbers), 1);
        // a constant but physically possible step (100 µs) is not flagged
        let w = run(&[(0, 0), (100_000, 0), (200_000, 0)]);
        assert!(w.is_empty());
        // one irregular step breaks the pattern
        let w = run(&[(0, 0), (1_000, 0), (2_000, 0), (9_000, 0)]);
        assert_eq!(w.count(WarningKind::SequenceNumbers), 0);
    }

    #[test]
    fn locations_are_capped_counts_are_not() {
        let frames: Vec<(i64, u8)> = (0..100).map(|i| (-(i + 1), 0)).collect();
        let w = run(&frames);
        assert_eq!(w.count(WarningKind::NegativeTimestamp), 100);
        assert_eq!(
            w.first_of(WarningKind::NegativeTimestamp).count(),
            crate::MAX_WARNING_LOCATIONS
        );
    }
}
