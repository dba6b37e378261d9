//! Timestamp quirk tracking (see the crate doc's policy): file order is kept, never re-sorted;
//! quirks become [`Warnings`].

use crate::warnings::{WarningKind, Warnings};

/// A backward step longer than this is a clock reset rather than jitter or bus interleaving.
pub(crate) const RESET_THRESHOLD_NS: i64 = 1_000_000_000;

/// A constant step shorter than this cannot be real CAN timing: the shortest classic CAN frame
/// (47 bits at 1 Mbit/s) takes 47 µs.
pub(crate) const MIN_FRAME_TIME_NS: i64 = 40_000;

/// Watches frame timestamps in file order.
#[derive(Debug)]
pub(crate) struct Timeline {
    prev: Option<i64>,
    bus_last: Box<[Option<i64>; 256]>,
    frames: u64,
    first_line: u64,
    all_whole: bool,
    any_repeat: bool,
    step: Option<i64>,
    constant_step: bool,
}

impl Timeline {
    pub(crate) fn new() -> Self {
        Timeline {
            prev: None,
            bus_last: Box::new([None; 256]),
            frames: 0,
            first_line: 0,
            all_whole: true,
            any_repeat: false,
            step: None,
            constant_step: true,
        }
    }

    /// Look at one frame's timestamp.
    pub(crate) fn observe(&mut self, ts: i64, bus: u8, line: u64, w: &mut Warnings) {
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
        if let Some(p) = self.prev {
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
                } else if bus_prev.is_none_or(|b| ts >= b) {
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
        self.bus_last[bus as usize] = Some(ts);
        self.prev = Some(ts);
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
