//! Where frames come from. A source is opened once per loop pass, so a file source re-reads the
//! file (streaming, constant memory) while an in-memory source replays its frames.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ovms_canlog::{Frame, ReadOptions};

use crate::error::BoxError;

/// One pass over a source: frames in file order, or the source's error (which ends the replay).
pub type PassIter = Box<dyn Iterator<Item = Result<Frame, BoxError>> + Send>;

/// Something that can produce the frames of a log, once per loop pass.
pub trait FrameSource {
    /// Starts pass `pass` (0-based). Called again for every loop pass.
    fn open_pass(&mut self, pass: u32) -> Result<PassIter, BoxError>;
}

impl<S: FrameSource + ?Sized> FrameSource for Box<S> {
    fn open_pass(&mut self, pass: u32) -> Result<PassIter, BoxError> {
        (**self).open_pass(pass)
    }
}

/// Frames held in memory (shared, so every pass is cheap).
#[derive(Debug, Clone)]
pub struct VecSource {
    frames: Arc<Vec<Frame>>,
}

impl VecSource {
    /// Wraps a list of frames.
    pub fn new(frames: Vec<Frame>) -> Self {
        VecSource {
            frames: Arc::new(frames),
        }
    }
}

impl FrameSource for VecSource {
    fn open_pass(&mut self, _pass: u32) -> Result<PassIter, BoxError> {
        Ok(Box::new(SharedIter {
            frames: self.frames.clone(),
            next: 0,
        }))
    }
}

/// Iterates a shared list by index, cloning each frame.
struct SharedIter {
    frames: Arc<Vec<Frame>>,
    next: usize,
}

impl Iterator for SharedIter {
    type Item = Result<Frame, BoxError>;
    fn next(&mut self) -> Option<Self::Item> {
        let f = self.frames.get(self.next)?.clone();
        self.next += 1;
        Some(Ok(f))
    }
}

/// A source made from a function that opens a fresh iterator per pass, e.g.
/// `FnSource::new(move || ovms_canlog::open(&path, &opts).map(|r| r.frames()))`.
pub struct FnSource<F> {
    open: F,
}

impl<F> FnSource<F> {
    /// Wraps the opening function.
    pub fn new(open: F) -> Self {
        FnSource { open }
    }
}

impl<F, I, E, E2> FrameSource for FnSource<F>
where
    F: FnMut() -> Result<I, E>,
    I: IntoIterator<Item = Result<Frame, E2>>,
    I::IntoIter: Send + 'static,
    E: Into<BoxError>,
    E2: Into<BoxError>,
{
    fn open_pass(&mut self, _pass: u32) -> Result<PassIter, BoxError> {
        let it = (self.open)().map_err(Into::into)?;
        Ok(Box::new(it.into_iter().map(|r| r.map_err(Into::into))))
    }
}

/// A one-shot fallible iterator. The first pass streams it and keeps a copy of every frame, so
/// later loop passes replay from memory (memory grows with the log; prefer [`FnSource`] for
/// long logs played in loops).
pub struct IterSource<I> {
    inner: Option<I>,
    recording: Arc<Mutex<Vec<Frame>>>,
    recorded: Option<Arc<Vec<Frame>>>,
}

impl<I> IterSource<I> {
    /// Wraps the iterator.
    pub fn new(iter: I) -> Self {
        IterSource {
            inner: Some(iter),
            recording: Arc::new(Mutex::new(Vec::new())),
            recorded: None,
        }
    }
}

impl<I, E> FrameSource for IterSource<I>
where
    I: Iterator<Item = Result<Frame, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn open_pass(&mut self, _pass: u32) -> Result<PassIter, BoxError> {
        if let Some(inner) = self.inner.take() {
            let recording = self.recording.clone();
            return Ok(Box::new(inner.map(move |r| {
                let f = r.map_err(Into::into)?;
                if let Ok(mut rec) = recording.lock() {
                    rec.push(f.clone());
                }
                Ok(f)
            })));
        }
        let frames = match &self.recorded {
            Some(frames) => frames.clone(),
            None => {
                let taken = match self.recording.lock() {
                    Ok(mut rec) => std::mem::take(&mut *rec),
                    Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
                };
                let frames = Arc::new(taken);
                self.recorded = Some(frames.clone());
                frames
            }
        };
        Ok(Box::new(SharedIter { frames, next: 0 }))
    }
}

/// A CAN log file in any format `ovms_canlog` reads, streamed again on every loop pass
/// (constant memory). Parse errors carry the file, line and column.
#[derive(Debug, Clone)]
pub struct LogFileSource {
    path: PathBuf,
    opts: ReadOptions,
}

impl LogFileSource {
    /// The log at `path`, read with `opts` (format detection unless `opts.format` is set).
    pub fn new(path: impl AsRef<Path>, opts: ReadOptions) -> Self {
        LogFileSource {
            path: path.as_ref().to_path_buf(),
            opts,
        }
    }
}

impl FrameSource for LogFileSource {
    fn open_pass(&mut self, _pass: u32) -> Result<PassIter, BoxError> {
        let reader = ovms_canlog::open(&self.path, &self.opts)?;
        Ok(Box::new(reader.frames().map(|r| r.map_err(Into::into))))
    }
}
