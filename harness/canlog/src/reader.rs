//! [`LogReader`]: one streaming reader over every format.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::detect as detection;
use crate::error::LogError;
use crate::format::Format;
use crate::formats::{self, BinaryDecoder, BinaryError, DecodeCtx, LineDecoder};
use crate::frame::Frame;
use crate::options::{ReadOptions, MAX_LINE_LEN};
use crate::parse::found_at;
use crate::record::Record;
use crate::source::{LineStep, Source};
use crate::timeline::Timeline;
use crate::warnings::{WarningKind, Warnings};

/// The decoder behind a reader.
enum Decoder {
    Text(Box<dyn LineDecoder>),
    Binary(BinaryDecoder),
}

/// What one step of a text reader produced.
enum TextStep {
    /// The fast path wrote a frame into the caller's slot.
    Fast,
    /// A record or an error from the general parser.
    Record(Result<Record, LogError>),
    /// End of input.
    End,
}

/// A streaming reader of one CAN log: an iterator of [`Record`]s in file order.
///
/// Memory use is constant (one fixed buffer, see [`crate::MAX_LINE_LEN`]). After the iterator
/// returns `None`, [`LogReader::warnings`] holds the complete warning counts.
pub struct LogReader<R = Box<dyn BufRead + Send>> {
    src: Source<R>,
    file: String,
    format: Format,
    lenient: bool,
    decoder: Decoder,
    warnings: Warnings,
    timeline: Timeline,
    done: bool,
    /// Try the decoder's one-pass fast path before splitting a line (off in tests that compare
    /// both paths, and once `done`).
    fast_path: bool,
}

/// Open a file and detect its format from its content (or use `opts.format`).
///
/// Errors: the file cannot be opened (`LogError::Io` at 1:1), it is empty or its content matches no
/// known format (`LogError::Parse` at 1:1), or a binary header is broken.
pub fn open(path: &Path, opts: &ReadOptions) -> Result<LogReader, LogError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| LogError::Io {
        file: name.clone(),
        line: 1,
        column: 1,
        source,
    })?;
    // Our own buffer does the line splitting; reads of 8 KiB and more bypass this one.
    let boxed: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(8 * 1024, file));
    read(boxed, &name, opts)
}

/// Read a log from any buffered reader; `name` is used in error messages.
pub fn read<R: BufRead>(r: R, name: &str, opts: &ReadOptions) -> Result<LogReader<R>, LogError> {
    let mut src = Source::new(r);
    let format = match opts.format {
        Some(f) => f,
        None => {
            let head = src
                .peek(detection::PEEK_LEN)
                .map_err(|source| LogError::Io {
                    file: name.to_string(),
                    line: 1,
                    column: 1,
                    source,
                })?;
            detection::detect(head).map_err(|e| LogError::Parse {
                file: name.to_string(),
                line: e.line,
                column: e.column,
                expected: e.expected.into(),
                found: e.found,
            })?
        }
    };
    let decoder = if format.is_binary() {
        Decoder::Binary(BinaryDecoder::new(format))
    } else {
        Decoder::Text(formats::line_decoder(format))
    };
    let mut reader = LogReader {
        src,
        file: name.to_string(),
        format,
        lenient: opts.lenient,
        decoder,
        warnings: Warnings::default(),
        timeline: Timeline::new(),
        done: false,
        fast_path: true,
    };
    if let Decoder::Binary(dec) = &mut reader.decoder {
        if let Err(e) = dec.read_header(&mut reader.src) {
            return Err(bin_error(&reader.file, e));
        }
    }
    Ok(reader)
}

/// Detect the format of a log from its first bytes (8 KiB are enough; more are ignored).
/// `name` is used in the error.
pub fn detect(head: &[u8], name: &str) -> Result<Format, LogError> {
    detection::detect(&head[..head.len().min(detection::PEEK_LEN)]).map_err(|e| LogError::Parse {
        file: name.to_string(),
        line: e.line,
        column: e.column,
        expected: e.expected.into(),
        found: e.found,
    })
}

fn bin_error(file: &str, e: BinaryError) -> LogError {
    match e {
        BinaryError::Io {
            record,
            column,
            source,
        } => LogError::Io {
            file: file.to_string(),
            line: record,
            column,
            source,
        },
        BinaryError::Parse {
            record,
            column,
            expected,
            found,
            ..
        } => LogError::Parse {
            file: file.to_string(),
            line: record,
            column,
            expected,
            found,
        },
    }
}

impl<R: Read> LogReader<R> {
    /// The format being read (detected or forced).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Warnings so far (complete once the iterator has returned `None`).
    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }

    /// The name used in error messages.
    pub fn file_name(&self) -> &str {
        &self.file
    }

    /// The current line (text) or record (binary) number.
    pub fn position(&self) -> u64 {
        match &self.decoder {
            Decoder::Text(_) => self.src.line_no,
            Decoder::Binary(d) => d.record_no(),
        }
    }

    /// Only the frames (events, metrics and comments are skipped).
    pub fn frames(self) -> Frames<R> {
        Frames { reader: self }
    }

    /// The end of reading: no more records (the fast path is off too, so that
    /// [`LogReader::read_frame`] checks one flag per line).
    fn set_done(&mut self) {
        self.done = true;
        self.fast_path = false;
    }

    fn on_error(&mut self, err: LogError) -> Option<Result<Record, LogError>> {
        if self.lenient {
            let (line, column) = err.location();
            self.warnings
                .add(WarningKind::SkippedRecord, line, column, || err.to_string());
            None
        } else {
            Some(Err(err))
        }
    }

    /// Read the next frame into `frame`, overwriting all its fields and reusing the capacity of
    /// its `data` (so a loop over a whole log allocates nothing per frame, unlike
    /// [`LogReader::frames`], which hands out a new [`Frame`] each time). Events, metrics and
    /// comments are skipped.
    ///
    /// Returns `Ok(true)` when `frame` holds the next frame, `Ok(false)` at the end of the log,
    /// and an error for a bad record exactly as the iterator does: in strict mode reading may go
    /// on after a text-format error (with the next line), in lenient mode bad records are
    /// skipped and counted. After `Ok(false)` or an error, `frame` holds unspecified (valid)
    /// values.
    ///
    /// ```no_run
    /// use ovms_canlog::{open, Frame, ReadOptions};
    /// let mut reader = open("drive.crtd".as_ref(), &ReadOptions::default())?;
    /// let mut frame = Frame::default();
    /// let mut bytes = 0;
    /// while reader.read_frame(&mut frame)? {
    ///     bytes += frame.data.len();
    /// }
    /// # Ok::<(), ovms_canlog::LogError>(())
    /// ```
    // Always inlined: the fast path is a few lines, and a call per frame measured about 30
    // instructions more per frame (callgrind, every text format).
    #[inline(always)]
    pub fn read_frame(&mut self, frame: &mut Frame) -> Result<bool, LogError> {
        // The common case inline and small: a frame line the fast path takes.
        if let Decoder::Text(dec) = &mut self.decoder {
            // (`fast_path` is off once `done`.)
            if self.fast_path {
                if let Some(n) = dec.decode_fast(self.src.line_bytes(), frame) {
                    self.src.consume_line(n);
                    self.timeline.observe(
                        frame.ts_ns,
                        frame.bus,
                        self.src.line_no,
                        &mut self.warnings,
                    );
                    return Ok(true);
                }
            }
        }
        self.read_frame_slow(frame)
    }

    /// [`LogReader::read_frame`] past the fast path: any record, any format.
    #[inline(never)]
    fn read_frame_slow(&mut self, frame: &mut Frame) -> Result<bool, LogError> {
        loop {
            if self.done {
                return Ok(false);
            }
            let next = match self.decoder {
                Decoder::Text(_) => match self.step_text(frame) {
                    TextStep::Fast => return Ok(true),
                    TextStep::Record(rec) => Some(rec),
                    TextStep::End => None,
                },
                Decoder::Binary(_) => self.next_binary(),
            };
            match next {
                Some(Ok(Record::Frame(f))) => {
                    *frame = f;
                    return Ok(true);
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e),
                None => return Ok(false),
            }
        }
    }

    /// One step of a text reader: the next frame through the decoder's one-pass fast path into
    /// `out`, or the next record or error through the general parser.
    #[inline]
    fn step_text(&mut self, out: &mut Frame) -> TextStep {
        let Decoder::Text(dec) = &mut self.decoder else {
            return TextStep::End;
        };
        loop {
            if self.fast_path {
                if let Some(n) = dec.decode_fast(self.src.line_bytes(), out) {
                    self.src.consume_line(n);
                    let line_no = self.src.line_no;
                    self.timeline
                        .observe(out.ts_ns, out.bus, line_no, &mut self.warnings);
                    return TextStep::Fast;
                }
            }
            // Every step but end-of-input consumes exactly one line.
            let line_no = self.src.line_no + 1;
            let step = self.src.next_line();
            let err = match step {
                Err(source) => {
                    self.set_done();
                    return TextStep::Record(Err(LogError::Io {
                        file: self.file.clone(),
                        line: line_no,
                        column: 1,
                        source,
                    }));
                }
                Ok(LineStep::Eof) => {
                    self.set_done();
                    self.timeline.finish(&mut self.warnings);
                    return TextStep::End;
                }
                Ok(LineStep::TooLong) => LogError::Parse {
                    file: self.file.clone(),
                    line: line_no,
                    column: MAX_LINE_LEN as u64 + 1,
                    expected: format!("a line of at most {MAX_LINE_LEN} bytes").into(),
                    found: "a longer line".to_string(),
                },
                Ok(LineStep::Line(line)) => {
                    let mut ctx = DecodeCtx {
                        line: line_no,
                        warnings: &mut self.warnings,
                    };
                    match dec.decode(line, &mut ctx) {
                        Ok(None) => continue,
                        Ok(Some(rec)) => {
                            if let Record::Frame(f) = &rec {
                                self.timeline
                                    .observe(f.ts_ns, f.bus, line_no, &mut self.warnings);
                            }
                            return TextStep::Record(Ok(rec));
                        }
                        Err(e) => {
                            let e = e.into_inner();
                            LogError::Parse {
                                file: self.file.clone(),
                                line: line_no,
                                column: e.col as u64 + 1,
                                found: e.found.unwrap_or_else(|| found_at(line, e.col)),
                                expected: e.expected,
                            }
                        }
                    }
                }
            };
            if self.lenient {
                let (line, column) = err.location();
                self.warnings
                    .add(WarningKind::SkippedRecord, line, column, || err.to_string());
                continue;
            }
            return TextStep::Record(Err(err));
        }
    }

    fn next_binary(&mut self) -> Option<Result<Record, LogError>> {
        loop {
            let Decoder::Binary(dec) = &mut self.decoder else {
                return None;
            };
            match dec.next(&mut self.src, &mut self.warnings) {
                None => {
                    self.set_done();
                    self.timeline.finish(&mut self.warnings);
                    return None;
                }
                Some(Ok(rec)) => {
                    if let Record::Frame(f) = &rec {
                        let n = dec.record_no();
                        self.timeline.observe(f.ts_ns, f.bus, n, &mut self.warnings);
                    }
                    return Some(Ok(rec));
                }
                Some(Err(e)) => {
                    let fatal = e.is_fatal();
                    if fatal {
                        self.set_done();
                    }
                    let err = bin_error(&self.file, e);
                    if fatal {
                        return Some(Err(err));
                    }
                    if let Some(r) = self.on_error(err) {
                        return Some(r);
                    }
                }
            }
        }
    }
}

impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<Record, LogError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.decoder {
            Decoder::Text(_) => {
                let mut frame = Frame::default();
                match self.step_text(&mut frame) {
                    TextStep::Fast => Some(Ok(Record::Frame(frame))),
                    TextStep::Record(rec) => Some(rec),
                    TextStep::End => None,
                }
            }
            Decoder::Binary(_) => self.next_binary(),
        }
    }
}

/// [`LogReader::frames`]: the frames of a log, errors included.
pub struct Frames<R = Box<dyn BufRead + Send>> {
    reader: LogReader<R>,
}

impl<R: Read> Frames<R> {
    /// The underlying reader (format, warnings, position).
    pub fn reader(&self) -> &LogReader<R> {
        &self.reader
    }

    /// Warnings so far (complete once the iterator has returned `None`).
    pub fn warnings(&self) -> &Warnings {
        self.reader.warnings()
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.reader.format()
    }

    /// Back to the record reader.
    pub fn into_inner(self) -> LogReader<R> {
        self.reader
    }
}

impl<R: Read> Iterator for Frames<R> {
    type Item = Result<Frame, LogError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let mut frame = Frame::default();
        match self.reader.read_frame(&mut frame) {
            Ok(true) => Some(Ok(frame)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records, errors and warnings of `text` read as `format`, with or without the fast paths.
    fn read_all(text: &[u8], format: Format, fast: bool) -> (Vec<String>, String) {
        let opts = ReadOptions::with_format(format);
        let mut r = read(std::io::Cursor::new(text.to_vec()), "t", &opts).unwrap();
        r.fast_path = fast;
        let out = r
            .by_ref()
            .map(|rec| match rec {
                Ok(rec) => format!("{rec:?}"),
                Err(e) => format!("error {e}"),
            })
            .collect();
        (out, format!("{:?}", r.warnings()))
    }

    /// The frames (and errors) of `text` through the iterator and through `read_frame` into one
    /// reused slot, with the warnings of each.
    fn frames_both_ways(text: &[u8], format: Format, lenient: bool) -> [(Vec<String>, String); 2] {
        let mut opts = ReadOptions::with_format(format);
        opts.lenient = lenient;
        let open = || read(std::io::Cursor::new(text.to_vec()), "t", &opts).unwrap();
        let mut frames = open().frames();
        let by_iter: Vec<String> = frames
            .by_ref()
            .map(|f| match f {
                Ok(f) => format!("{f:?}"),
                Err(e) => format!("error {e}"),
            })
            .collect();
        let iter_w = format!("{:?}", frames.warnings());
        let mut r = open();
        let mut slot = Frame::default();
        let mut by_slot = Vec::new();
        loop {
            match r.read_frame(&mut slot) {
                Ok(true) => by_slot.push(format!("{slot:?}")),
                Ok(false) => break,
                Err(e) => by_slot.push(format!("error {e}")),
            }
        }
        // Finished stays finished.
        assert!(!r.read_frame(&mut slot).unwrap());
        [(by_iter, iter_w), (by_slot, format!("{:?}", r.warnings()))]
    }

    /// Well-formed lines of each text format (headers first) that random edits start from.
    const SAMPLES: [(Format, &str); 8] = [
        (
            Format::Candump,
            "(1733187989.936605) can0 153#208010FF00FF802E\n(1733187989.936794) can1 164#0008121A\n",
        ),
        (
            Format::Crtd,
            "166.064000 R11 0000021A FE 36 12 FE 69 05 07 AD \n1542473901.020305 2T29 1FFFFFFF 0 1 2\n",
        ),
        (
            Format::GvretCsv,
            "Time Stamp,ID,Extended,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8\r\n19536135000,00000109,false,0,8,00,01,00,FF,FF,FF,0F,3D\r\n1.5,7FF,False,255,2,00,11,,,,,,\r\n",
        ),
        (
            Format::PeakTrc,
            ";$FILEVERSION=1.1\r\n     7)        26.1  Rx         0386  8  00 00 00 C0 00 40 00 80 \r\n     9)        28.8  Tx         0365  2  00 00 \r\n",
        ),
        (
            Format::PeakTrc,
            ";$FILEVERSION=1.3\n     1)      1059.900 1  Rx        0300 -  8    00 00 00 00 04 00 00 00\n     2)      1059.901 2  Tx    1FFFFFFF -  2    00 11\n     3)      1059.902 1  Rx        0300 -  1    FF\n",
        ),
        (
            Format::TattlerCsv,
            "TYPE,TIME,ID,D1,D2,D3,D4,D5,D6,D7,D8\r\nRD11,0.0518,100,88,7F,FF,FF,FF,FF,FF,46\r\nTD29,12.5,1FFFFFFF,0,A\r\n",
        ),
        (
            Format::CarbusTrc,
            "@ TEXT @ 1 @\r47,016\t1\t0004\t45A\t8\t5A 04 00 00 00 00 00 00\t00000000\t$       \t\r47.5\t2\t0004\t1FFFFFFF\t1\t5A\t0\tZ\r",
        ),
        (
            Format::VectorAsc,
            "date Tue Dec 3 01:06:29.936 pm 2024\nbase hex  timestamps absolute\n   0.000189 1  164             Rx   d 4 00 08 12 1A\n  53.221525 2  1FFFFFFFx       Tx   d 8 56 81 00 5C 20 00 0C 97  Length = 0 BitCount = 0 ID = 320\n",
        ),
    ];

    const ALPHABET: &[u8] = b" \t\r\n0123456789ABCDEFabcdefxX#.,;()RTdr-_G";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Random edits (replace, insert, delete bytes) of well-formed logs read the same with
        /// and without the fast paths: same records, same errors at the same places, same
        /// warnings.
        #[test]
        fn fast_paths_agree_with_the_general_parsers(
            which in 0..SAMPLES.len(),
            reps in 1usize..4,
            edits in proptest::collection::vec((any::<usize>(), 0usize..ALPHABET.len(), 0u8..3), 0..6),
        ) {
            let (format, sample) = SAMPLES[which];
            let mut text = sample.repeat(reps).into_bytes();
            for (at, c, kind) in edits {
                let at = at % (text.len() + 1);
                match kind {
                    0 if at < text.len() => text[at] = ALPHABET[c],
                    1 => text.insert(at, ALPHABET[c]),
                    _ if at < text.len() => { text.remove(at); }
                    _ => {}
                }
            }
            prop_assert_eq!(read_all(&text, format, true), read_all(&text, format, false));
            for lenient in [false, true] {
                let [by_iter, by_slot] = frames_both_ways(&text, format, lenient);
                prop_assert_eq!(by_iter, by_slot);
            }
        }
    }

    /// `read_frame` into one reused frame reads every scenario log (text and binary) to the same
    /// frames, errors and warnings as the iterator, and a frame with a longer `data` before it
    /// (e.g. CAN FD) leaves nothing behind.
    #[test]
    fn read_frame_reuse_matches_the_iterator_on_the_real_logs() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/logs");
        let mut frames = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(r) = open(&path, &ReadOptions::default()) else {
                continue;
            };
            let format = r.format();
            let text = std::fs::read(&path).unwrap();
            let [(by_iter, iter_w), (by_slot, slot_w)] = frames_both_ways(&text, format, false);
            assert_eq!(by_iter.len(), by_slot.len(), "{}", path.display());
            for (a, b) in by_iter.iter().zip(&by_slot) {
                assert_eq!(a, b, "{}", path.display());
            }
            assert_eq!(iter_w, slot_w, "{}", path.display());
            frames += by_iter.len();
        }
        assert!(frames > 100_000, "only {frames} frames read");
        let text =
            b"(1.0) can0 123##10011223344556677889900112233\n(2.0) can0 123#01\n(3.0) can0 123#\n";
        let [by_iter, (by_slot, _)] = frames_both_ways(text, Format::Candump, false);
        assert_eq!(by_iter.0, by_slot);
        assert!(by_slot[1].contains("data: [1]"), "{}", by_slot[1]);
        assert!(by_slot[2].contains("data: []"), "{}", by_slot[2]);
    }

    /// Every record, warning and error of every scenario log is the same with and without the
    /// one-pass fast paths (the real logs cover every text format but ASC; buffer boundaries
    /// fall mid-line many times in each).
    #[test]
    fn fast_paths_change_nothing_on_the_real_logs() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/logs");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let run = |fast: bool| {
                let mut r = match open(&path, &ReadOptions::default()) {
                    Ok(r) => r,
                    Err(e) => return (None, vec![format!("{e}")], String::new()),
                };
                r.fast_path = fast;
                let format = r.format();
                let mut out = Vec::new();
                for rec in r.by_ref() {
                    out.push(match rec {
                        Ok(rec) => format!("{rec:?}"),
                        Err(e) => format!("error {e}"),
                    });
                }
                (Some(format), out, format!("{:?}", r.warnings()))
            };
            let (format, fast, fast_w) = run(true);
            let (_, slow, slow_w) = run(false);
            assert_eq!(fast.len(), slow.len(), "{}", path.display());
            for (a, b) in fast.iter().zip(&slow) {
                assert_eq!(a, b, "{}", path.display());
            }
            assert_eq!(fast_w, slow_w, "{}", path.display());
            if format.is_some_and(|f| !f.is_binary()) {
                checked += 1;
            }
        }
        assert!(
            checked >= 10,
            "only {checked} text logs found in {}",
            dir.display()
        );
    }
}
