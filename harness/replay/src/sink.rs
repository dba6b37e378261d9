//! Where scheduled frames go.
//!
//! [`FrameSink`] is synchronous on purpose: the wall-clock runner spins on its own thread for
//! microsecond precision, and hands each frame over without an async runtime in between. Async
//! consumers read from a [`ChannelSink`]'s tokio receiver.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::mpsc;

use crate::error::BoxError;
use crate::schedule::ScheduledFrame;

/// Why a sink refused a frame.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The consumer is gone (e.g. the channel receiver was dropped). Ends a replay without error.
    #[error("the frame consumer has gone away")]
    Closed,
    /// No sink is routed for this (mapped) bus.
    #[error("no sink for bus {0}")]
    NoRoute(u8),
    /// A SocketCAN failure.
    #[cfg(feature = "socketcan")]
    #[error(transparent)]
    SocketCan(#[from] crate::socketcan::SocketCanError),
    /// Any other sink failure.
    #[error("{0}")]
    Other(BoxError),
}

/// Takes scheduled frames, one at a time, when the runner says they are due.
pub trait FrameSink {
    /// Delivers one frame (may block, e.g. for back-pressure).
    fn send(&mut self, frame: &ScheduledFrame) -> Result<(), SinkError>;
    /// Called once after the last frame.
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

impl<K: FrameSink + ?Sized> FrameSink for &mut K {
    fn send(&mut self, frame: &ScheduledFrame) -> Result<(), SinkError> {
        (**self).send(frame)
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        (**self).flush()
    }
}

impl<K: FrameSink + ?Sized> FrameSink for Box<K> {
    fn send(&mut self, frame: &ScheduledFrame) -> Result<(), SinkError> {
        (**self).send(frame)
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        (**self).flush()
    }
}

/// Discards frames, counting them (benchmarks).
#[derive(Debug, Default, Clone)]
pub struct NullSink {
    /// Frames received.
    pub frames: u64,
}

impl FrameSink for NullSink {
    fn send(&mut self, _frame: &ScheduledFrame) -> Result<(), SinkError> {
        self.frames += 1;
        Ok(())
    }
}

/// Keeps every frame (tests).
#[derive(Debug, Default, Clone)]
pub struct CollectingSink {
    /// Frames received, in order.
    pub frames: Vec<ScheduledFrame>,
    /// Number of `flush` calls.
    pub flushes: u32,
}

impl FrameSink for CollectingSink {
    fn send(&mut self, frame: &ScheduledFrame) -> Result<(), SinkError> {
        self.frames.push(frame.clone());
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        self.flushes += 1;
        Ok(())
    }
}

/// Sends frames into a tokio mpsc channel; the emulated module consumes the receiver.
/// A full channel blocks the sender (back-pressure); a dropped receiver ends the replay.
/// Never panics, also when called from inside a runtime (it then blocks that thread, so run the
/// replay with [`crate::Replay::spawn`] or on a blocking thread).
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<ScheduledFrame>,
}

/// A channel sink and its receiver, with room for `capacity` frames (at least 1).
pub fn channel_sink(capacity: usize) -> (ChannelSink, mpsc::Receiver<ScheduledFrame>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (ChannelSink { tx }, rx)
}

impl ChannelSink {
    /// Wraps an existing sender.
    pub fn new(tx: mpsc::Sender<ScheduledFrame>) -> Self {
        ChannelSink { tx }
    }
}

impl FrameSink for ChannelSink {
    fn send(&mut self, frame: &ScheduledFrame) -> Result<(), SinkError> {
        match self.tx.try_send(frame.clone()) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SinkError::Closed),
            Err(mpsc::error::TrySendError::Full(f)) => {
                block_on(self.tx.send(f)).map_err(|_| SinkError::Closed)
            }
        }
    }
}

/// Wakes a parked thread.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls a future to completion on the current thread (no runtime needed).
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Routes each frame to the sink of its (mapped) bus, e.g. bus 0 → vcan0, bus 1 → vcan1.
#[derive(Default)]
pub struct BusRouter {
    sinks: BTreeMap<u8, Box<dyn FrameSink + Send>>,
}

impl BusRouter {
    /// An empty router (every frame fails with [`SinkError::NoRoute`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the sink for `bus` (builder style).
    pub fn route(mut self, bus: u8, sink: impl FrameSink + Send + 'static) -> Self {
        self.sinks.insert(bus, Box::new(sink));
        self
    }
}

impl FrameSink for BusRouter {
    fn send(&mut self, frame: &ScheduledFrame) -> Result<(), SinkError> {
        let bus = frame.frame.bus;
        self.sinks
            .get_mut(&bus)
            .ok_or(SinkError::NoRoute(bus))?
            .send(frame)
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        self.sinks.values_mut().try_for_each(|s| s.flush())
    }
}
