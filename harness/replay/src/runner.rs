//! [`Replay`]: drives a [`Schedule`] into a [`FrameSink`] on the chosen clock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::{SystemWallClock, WallClock};
use crate::error::ReplayError;
use crate::options::{Clock, OptionsError, ReplayOptions};
use crate::schedule::Schedule;
use crate::sink::{FrameSink, SinkError};
use crate::source::FrameSource;
use crate::stats::{EndReason, LatenessHistogram, ReplayStats};

/// Stops a running replay (from any thread); the run ends with [`EndReason::Stopped`].
#[derive(Debug, Clone, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the replay to stop before its next frame.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A replay: a source plus options. Build with [`Replay::new`], then [`Replay::run`] (blocking),
/// [`Replay::spawn`] (own thread) or [`Replay::schedule`] (pull frames yourself on a virtual clock).
pub struct Replay<S> {
    source: S,
    options: ReplayOptions,
    stop: StopHandle,
}

impl<S: FrameSource> Replay<S> {
    /// Checks the options and wraps the source.
    pub fn new(source: S, options: ReplayOptions) -> Result<Self, OptionsError> {
        options.validate()?;
        Ok(Replay {
            source,
            options,
            stop: StopHandle::default(),
        })
    }

    /// A handle that stops this replay.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The frames with their offsets, without any waiting (the virtual clock, pulled by the caller).
    pub fn schedule(self) -> Schedule<S> {
        Schedule::new(self.source, self.options)
    }

    /// Plays into `sink` on the clock of the options (the wall clock uses [`SystemWallClock`]),
    /// blocking the calling thread until the replay ends.
    pub fn run<K: FrameSink + ?Sized>(self, sink: &mut K) -> Result<ReplayStats, ReplayError> {
        self.run_with_clock(sink, &mut SystemWallClock::default())
    }

    /// Like [`Replay::run`], with an injected wall-clock time source (ignored on the virtual clock).
    pub fn run_with_clock<K: FrameSink + ?Sized, C: WallClock + ?Sized>(
        self,
        sink: &mut K,
        clock: &mut C,
    ) -> Result<ReplayStats, ReplayError> {
        let speed = match self.options.clock {
            Clock::Virtual => None,
            Clock::Wall { speed } => Some(speed),
        };
        let stop = self.stop.clone();
        let mut schedule = Schedule::new(self.source, self.options);
        let mut lateness = LatenessHistogram::new();
        let mut frames_sent = 0u64;
        let started = Instant::now();
        clock.reset();
        let mut end = EndReason::Finished;
        for item in schedule.by_ref() {
            if stop.is_stopped() {
                end = EndReason::Stopped;
                break;
            }
            let sf = item?;
            if let Some(speed) = speed {
                let deadline = Duration::try_from_secs_f64(sf.offset.as_secs_f64() / speed)
                    .unwrap_or(Duration::MAX);
                if !clock.wait_until(deadline, &stop.0) {
                    end = EndReason::Stopped;
                    break;
                }
                let now = clock.now();
                lateness.record(now.abs_diff(deadline));
            }
            match sink.send(&sf) {
                Ok(()) => frames_sent += 1,
                Err(SinkError::Closed) => {
                    end = EndReason::SinkClosed;
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        match sink.flush() {
            Ok(()) | Err(SinkError::Closed) => {}
            Err(e) => return Err(e.into()),
        }
        let elapsed = match speed {
            Some(_) => clock.now(),
            None => started.elapsed(),
        };
        Ok(ReplayStats {
            schedule: schedule.stats().clone(),
            frames_sent,
            lateness,
            end,
            elapsed,
        })
    }
}

impl<S: FrameSource + Send + 'static> Replay<S> {
    /// Runs the replay on its own thread (with [`SystemWallClock`]); the sink moves there.
    pub fn spawn<K: FrameSink + Send + 'static>(self, mut sink: K) -> ReplayHandle {
        let stop = self.stop.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("ovms-replay".into())
            .spawn(move || {
                let result = self.run(&mut sink);
                let _ = tx.send(result);
            });
        ReplayHandle {
            stop,
            done: rx,
            spawn_error: thread.err().map(|e| e.to_string()),
        }
    }
}

/// A replay running on its own thread.
pub struct ReplayHandle {
    stop: StopHandle,
    done: tokio::sync::oneshot::Receiver<Result<ReplayStats, ReplayError>>,
    spawn_error: Option<String>,
}

impl ReplayHandle {
    /// A handle that stops the replay.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Waits (async) for the replay to end.
    pub async fn wait(self) -> Result<ReplayStats, ReplayError> {
        if let Some(e) = self.spawn_error {
            return Err(ReplayError::Thread(e));
        }
        self.done
            .await
            .unwrap_or_else(|_| Err(ReplayError::Thread("the replay thread panicked".into())))
    }

    /// Waits (blocking the calling thread) for the replay to end.
    pub fn join(self) -> Result<ReplayStats, ReplayError> {
        if let Some(e) = self.spawn_error {
            return Err(ReplayError::Thread(e));
        }
        crate::sink::block_on(self.done)
            .unwrap_or_else(|_| Err(ReplayError::Thread("the replay thread panicked".into())))
    }
}
