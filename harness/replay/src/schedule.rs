//! The schedule: which frame goes out at which offset. Pure (no waiting); the only I/O is the source.
//!
//! # Timeline and the timestamp policy
//! Frames are played in **file order**, always. Their times are put on a monotonic timeline that
//! starts at 0 with the first frame of the log: each frame comes `max(0, ts[i] - ts[i-1])` after the
//! previous one. A backwards step (a clock reset, merged buses slightly out of order) therefore
//! becomes a zero delay, and the spacing of the frames after it is kept; steps are counted in
//! [`ScheduleStats::backwards_steps`]. (Cost: a log whose frames are merely reordered drifts late by
//! the size of each reordering.)
//!
//! # Window, loops, filters
//! - The [`TimeWindow`](crate::TimeWindow) is applied to that timeline; a frame's offset is its timeline
//!   time minus the window start. Reading a pass stops at the first frame past the window end.
//! - Loop pass `k + 1` starts `span + loop_gap` after pass `k`, where `span` is the timeline time of
//!   the last in-window frame of pass `k` minus the window start: offsets keep growing across loops.
//! - Then the bus map (unmapped buses dropped when a map is given) and the id filter (on the log id).
//! - A pass that schedules no frame ends the replay (so `Loops::Forever` over an empty selection ends).

use std::time::Duration;

use ovms_canlog::Frame;

use crate::error::ReplayError;
use crate::options::{Loops, ReplayOptions};
use crate::source::{FrameSource, PassIter};

/// A frame with its place in the replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledFrame {
    /// Log-time offset from the start of the replay (window start of pass 0), accumulated over
    /// loop passes. Not scaled by the wall-clock speed.
    pub offset: Duration,
    /// 0-based loop pass.
    pub pass: u32,
    /// The frame, with its bus already mapped to the sink bus.
    pub frame: Frame,
}

/// Counters of the schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleStats {
    /// Frames read from the source (all passes).
    pub frames_read: u64,
    /// Frames scheduled (passed every filter).
    pub frames_scheduled: u64,
    /// Frames before the window start.
    pub dropped_window: u64,
    /// Frames on a bus the bus map does not map.
    pub dropped_bus: u64,
    /// Frames the id filter rejected.
    pub dropped_id: u64,
    /// Backwards timestamp steps that were clamped to zero delay.
    pub backwards_steps: u64,
    /// Passes read to their end (or to the window end).
    pub passes_completed: u32,
}

impl ScheduleStats {
    /// Frames dropped by the bus map or the id filter (not counting the window).
    pub fn dropped_by_filter(&self) -> u64 {
        self.dropped_bus + self.dropped_id
    }
}

/// An iterator of [`ScheduledFrame`]s (see the module docs for the rules). After an error it ends.
pub struct Schedule<S> {
    source: S,
    opts: ReplayOptions,
    win_start: u64,
    win_end: Option<u64>,
    pass: u32,
    iter: Option<PassIter>,
    prev_ts: Option<i64>,
    timeline: u64,
    base: u64,
    last_in_window: Option<u64>,
    pass_read: u64,
    pass_scheduled: u64,
    stats: ScheduleStats,
    finished: bool,
}

impl<S: FrameSource> Schedule<S> {
    /// A schedule over `source`. `opts` should be validated ([`ReplayOptions::validate`]);
    /// this type clamps nonsense rather than failing.
    pub fn new(source: S, opts: ReplayOptions) -> Self {
        Schedule {
            source,
            win_start: opts.window_start_ns(),
            win_end: opts.window_end_ns(),
            opts,
            pass: 0,
            iter: None,
            prev_ts: None,
            timeline: 0,
            base: 0,
            last_in_window: None,
            pass_read: 0,
            pass_scheduled: 0,
            stats: ScheduleStats::default(),
            finished: false,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &ScheduleStats {
        &self.stats
    }

    /// The options in use.
    pub fn options(&self) -> &ReplayOptions {
        &self.opts
    }

    fn wants_pass(&self) -> bool {
        match self.opts.loops {
            Loops::Times(n) => self.pass < n,
            Loops::Forever => true,
        }
    }

    fn start_pass(&mut self) -> Result<(), ReplayError> {
        let it = self
            .source
            .open_pass(self.pass)
            .map_err(|source| ReplayError::Open {
                pass: self.pass,
                source,
            })?;
        self.iter = Some(it);
        self.prev_ts = None;
        self.timeline = 0;
        self.last_in_window = None;
        self.pass_read = 0;
        self.pass_scheduled = 0;
        Ok(())
    }

    fn end_pass(&mut self) {
        self.iter = None;
        self.stats.passes_completed += 1;
        if self.pass_scheduled == 0 {
            self.finished = true;
            return;
        }
        let span = self
            .last_in_window
            .map_or(0, |l| l.saturating_sub(self.win_start));
        let gap = u64::try_from(self.opts.loop_gap.as_nanos()).unwrap_or(u64::MAX);
        self.base = self.base.saturating_add(span).saturating_add(gap);
        self.pass += 1;
    }

    /// Moves the timeline to `ts_ns` under the timestamp policy.
    fn advance(&mut self, ts_ns: i64) {
        if let Some(prev) = self.prev_ts {
            let step = i128::from(ts_ns) - i128::from(prev);
            if step < 0 {
                self.stats.backwards_steps += 1;
            } else {
                let step = u64::try_from(step).unwrap_or(u64::MAX);
                self.timeline = self.timeline.saturating_add(step);
            }
        }
        self.prev_ts = Some(ts_ns);
    }

    /// Applies window, bus map and id filter; `None` when the frame is dropped.
    fn admit(&mut self, mut frame: Frame) -> Option<ScheduledFrame> {
        self.advance(frame.ts_ns);
        if self.timeline < self.win_start {
            self.stats.dropped_window += 1;
            return None;
        }
        if self.win_end.is_some_and(|end| self.timeline > end) {
            self.end_pass();
            return None;
        }
        self.last_in_window = Some(self.timeline);
        let Some(bus) = self.opts.bus_map.apply(frame.bus) else {
            self.stats.dropped_bus += 1;
            return None;
        };
        if !self.opts.ids.passes(frame.id) {
            self.stats.dropped_id += 1;
            return None;
        }
        frame.bus = bus;
        self.stats.frames_scheduled += 1;
        self.pass_scheduled += 1;
        let offset = self.base.saturating_add(self.timeline - self.win_start);
        Some(ScheduledFrame {
            offset: Duration::from_nanos(offset),
            pass: self.pass,
            frame,
        })
    }
}

impl<S: FrameSource> Iterator for Schedule<S> {
    type Item = Result<ScheduledFrame, ReplayError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            if self.iter.is_none() {
                if !self.wants_pass() {
                    self.finished = true;
                    return None;
                }
                if let Err(e) = self.start_pass() {
                    self.finished = true;
                    return Some(Err(e));
                }
            }
            let next = self.iter.as_mut().and_then(|it| it.next());
            match next {
                None => self.end_pass(),
                Some(Err(source)) => {
                    self.finished = true;
                    self.iter = None;
                    return Some(Err(ReplayError::Source {
                        pass: self.pass,
                        frames_read: self.pass_read,
                        source,
                    }));
                }
                Some(Ok(frame)) => {
                    self.stats.frames_read += 1;
                    self.pass_read += 1;
                    if let Some(sf) = self.admit(frame) {
                        return Some(Ok(sf));
                    }
                }
            }
        }
    }
}
