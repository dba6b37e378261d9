//! A bounded byte buffer over any `Read`: lines for the text formats, exact byte counts for the
//! binary ones. Memory is bounded by [`BUF_CAP`] whatever the input.

use std::io::{self, Read};

use crate::options::MAX_LINE_LEN;

/// Largest buffer size; a line of [`MAX_LINE_LEN`] bytes always fits.
pub(crate) const BUF_CAP: usize = 256 * 1024;

/// Initial buffer size; the buffer doubles (up to [`BUF_CAP`]) only when a line or binary record
/// does not fit. Reading 256 KiB at a time rather than 32 KiB was 2-6 % faster on the 1M-frame
/// bench files (crtd, tattler; CPU time, alternating runs), so it starts at the cap.
const BUF_INIT: usize = BUF_CAP;

/// One step of line reading.
pub(crate) enum LineStep<'a> {
    /// A line without its terminator (LF, CRLF or lone CR).
    Line(&'a [u8]),
    /// The line was longer than [`MAX_LINE_LEN`]; it was discarded up to its terminator.
    TooLong,
    /// End of input.
    Eof,
}

/// The buffered source.
pub(crate) struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// The previous line ended with a CR at the end of the buffer: a leading LF belongs to it.
    skip_lf: bool,
    /// Number of the last line returned (1-based), or of the line being read.
    pub(crate) line_no: u64,
}

impl<R: Read> Source<R> {
    pub(crate) fn new(inner: R) -> Self {
        Source {
            inner,
            buf: vec![0u8; BUF_INIT],
            start: 0,
            end: 0,
            eof: false,
            skip_lf: false,
            line_no: 0,
        }
    }

    /// Read more input behind the buffered bytes. Returns false at end of input.
    fn fill_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= BUF_CAP {
                return Ok(true); // full; caller decides
            }
            let grown = (self.buf.len() * 2).min(BUF_CAP);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Make at least `n` bytes available (`n <= BUF_CAP`). Returns false if the input ends first.
    pub(crate) fn fill_to(&mut self, n: usize) -> io::Result<bool> {
        debug_assert!(n <= BUF_CAP);
        while self.end - self.start < n {
            if !self.fill_more()? {
                return Ok(self.end - self.start >= n);
            }
        }
        Ok(true)
    }

    /// The buffered bytes.
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The buffered bytes from the start of the next line, for the decoders' fast paths. Empty
    /// while a CR at the end of the previous read still waits for its possible LF.
    #[inline]
    pub(crate) fn line_bytes(&self) -> &[u8] {
        if self.skip_lf {
            &[]
        } else {
            &self.buf[self.start..self.end]
        }
    }

    /// Take one line of `n` bytes (terminator included) that a fast path has read from
    /// [`Source::line_bytes`].
    #[inline]
    pub(crate) fn consume_line(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.start);
        self.line_no += 1;
        self.start += n;
    }

    /// Drop `n` buffered bytes (`n <= available().len()`).
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
    }

    /// Skip `n` bytes of input (may exceed the buffer). Returns false if the input ends first.
    pub(crate) fn skip(&mut self, mut n: u64) -> io::Result<bool> {
        loop {
            let have = (self.end - self.start) as u64;
            if have >= n {
                self.consume(n as usize);
                return Ok(true);
            }
            n -= have;
            self.consume(have as usize);
            if !self.fill_more()? {
                return Ok(false);
            }
        }
    }

    /// Peek up to `n` bytes from the start of the input without consuming them (for detection).
    pub(crate) fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        self.fill_to(n.min(BUF_CAP))?;
        let have = (self.end - self.start).min(n);
        Ok(&self.buf[self.start..self.start + have])
    }

    /// The next line.
    pub(crate) fn next_line(&mut self) -> io::Result<LineStep<'_>> {
        if self.skip_lf {
            if self.start == self.end {
                self.fill_more()?;
            }
            if self.start < self.end && self.buf[self.start] == b'\n' {
                self.consume(1);
            }
            self.skip_lf = false;
        }
        let mut scanned = 0usize; // bytes of the current line already searched
        loop {
            let hay = &self.buf[self.start + scanned..self.end];
            if let Some(i) = memchr::memchr2(b'\n', b'\r', hay) {
                let line_end = self.start + scanned + i;
                let line_start = self.start;
                let mut term = 1;
                if self.buf[line_end] == b'\r' {
                    if line_end + 1 < self.end {
                        if self.buf[line_end + 1] == b'\n' {
                            term = 2;
                        }
                    } else {
                        self.skip_lf = true;
                    }
                }
                self.line_no += 1;
                let len = line_end - line_start;
                self.consume(len + term);
                if len > MAX_LINE_LEN {
                    return Ok(LineStep::TooLong);
                }
                return Ok(LineStep::Line(&self.buf[line_start..line_end]));
            }
            scanned = self.end - self.start;
            if scanned > MAX_LINE_LEN {
                // Discard the over-long line up to (and including) its terminator.
                self.line_no += 1;
                self.discard_line()?;
                return Ok(LineStep::TooLong);
            }
            if !self.fill_more()? {
                if self.start == self.end {
                    return Ok(LineStep::Eof);
                }
                // Last line without a terminator.
                self.line_no += 1;
                let (s, e) = (self.start, self.end);
                self.consume(e - s);
                return Ok(LineStep::Line(&self.buf[s..e]));
            }
        }
    }

    fn discard_line(&mut self) -> io::Result<()> {
        loop {
            let hay = &self.buf[self.start..self.end];
            if let Some(i) = memchr::memchr2(b'\n', b'\r', hay) {
                let at = self.start + i;
                if self.buf[at] == b'\r' {
                    if at + 1 < self.end {
                        let extra = usize::from(self.buf[at + 1] == b'\n');
                        self.consume(i + 1 + extra);
                    } else {
                        self.consume(i + 1);
                        self.skip_lf = true;
                    }
                } else {
                    self.consume(i + 1);
                }
                return Ok(());
            }
            let n = self.end - self.start;
            self.consume(n);
            if !self.fill_more()? {
                return Ok(());
            }
        }
    }
}
