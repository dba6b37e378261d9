//! Replay scheduler for CAN frames: virtual clock or wall clock, filters, loops, sinks (channel, SocketCAN).
//!
//! ```text
//! FrameSource ──► Schedule (timestamp policy, window, bus map, id filter, loops) ──► runner ──► FrameSink
//!  (Vec, iterator,     yields ScheduledFrame { offset, pass, frame }             (virtual: no wait;   (channel,
//!   log reader)                                                                   wall: sleep + spin)   SocketCAN, …)
//! ```
//!
//! - [`source`]: where frames come from ([`FrameSource`], re-opened once per loop pass).
//! - [`filter`]: bus mapping and identifier filters.
//! - [`options`]: [`ReplayOptions`] (clock, loops, window, filters) and their validation.
//! - [`schedule`]: the pure schedule: which frame goes out when (no waiting, no I/O besides the source).
//! - [`clock`]: the wall-clock time source (sleep then spin) and a fake one for tests.
//! - [`sink`]: the [`FrameSink`] trait and the channel, collecting, null and routing sinks.
//! - [`stats`]: counters and the lateness histogram.
//! - [`runner`]: [`Replay`], which drives a schedule into a sink on the chosen clock.
//! - `socketcan` (feature `socketcan`): SocketCAN sink and source, vcan creation.

#![deny(missing_docs)]

pub mod clock;
pub mod error;
pub mod filter;
pub mod options;
pub mod priority;
pub mod runner;
pub mod schedule;
pub mod sink;
#[cfg(feature = "socketcan")]
pub mod socketcan;
pub mod source;
pub mod stats;

pub use clock::{FakeWallClock, SystemWallClock, WallClock};
pub use error::{BoxError, ReplayError};
pub use filter::{BusMap, FilterParseError, IdFilter, IdRange};
pub use options::{Clock, Loops, OptionsError, ReplayOptions, TimeWindow};
pub use ovms_canlog::Frame;
pub use runner::{Replay, ReplayHandle, StopHandle};
pub use schedule::{Schedule, ScheduleStats, ScheduledFrame};
pub use sink::{
    channel_sink, BusRouter, ChannelSink, CollectingSink, FrameSink, NullSink, SinkError,
};
pub use source::{FnSource, FrameSource, IterSource, LogFileSource, PassIter, VecSource};
pub use stats::{EndReason, LatenessHistogram, ReplayStats};
