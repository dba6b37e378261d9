//! The error a replay run can end with.

use crate::sink::SinkError;

/// A boxed error from a frame source (e.g. a log reader's typed error with file:line:column).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a replay stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The source could not be (re)opened for a loop pass.
    #[error("cannot open the frame source for pass {pass}: {source}")]
    Open {
        /// 0-based loop pass.
        pass: u32,
        /// The source's error.
        #[source]
        source: BoxError,
    },
    /// The source yielded an error (e.g. a malformed log line) after `frames_read` good frames of this pass.
    #[error("frame source failed in pass {pass} after {frames_read} frames: {source}")]
    Source {
        /// 0-based loop pass.
        pass: u32,
        /// Frames read successfully in this pass before the error.
        frames_read: u64,
        /// The source's error.
        #[source]
        source: BoxError,
    },
    /// The sink refused a frame.
    #[error("sink failed: {0}")]
    Sink(#[from] SinkError),
    /// The replay thread panicked or vanished (only from [`crate::ReplayHandle`]).
    #[error("replay thread ended abnormally: {0}")]
    Thread(String),
}
