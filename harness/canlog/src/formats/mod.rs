//! One decoder per format. Text decoders are sans-IO: they get one line (without terminator) and
//! return a record, nothing, or a [`LineError`]; the shared [`crate::LogReader`] adds file, line,
//! leniency and timestamp checks.

use std::borrow::Cow;
use std::io;

use crate::format::Format;
use crate::frame::{Direction, Frame};
use crate::parse::LineResult;
use crate::record::Record;
use crate::warnings::Warnings;

pub(crate) mod candump;
pub(crate) mod candump_screen;
pub(crate) mod carbus_trc;
pub(crate) mod crtd;
pub(crate) mod gvret_csv;
pub(crate) mod pcap;
pub(crate) mod pcapng;
pub(crate) mod peak_trc;
pub(crate) mod tattler_csv;
pub(crate) mod vector_asc;

#[cfg(test)]
mod fast_path_tests;
#[cfg(test)]
pub(crate) mod masked_check;

/// What a decoder may touch besides the line.
pub(crate) struct DecodeCtx<'a> {
    /// 1-based number of the line being decoded.
    pub line: u64,
    /// Where to count quirks.
    pub warnings: &'a mut Warnings,
}

/// A sans-IO decoder of one text format.
pub(crate) trait LineDecoder: Send {
    /// Decode one line. `Ok(None)` means the line carries no record (blank, header, …).
    fn decode(&mut self, line: &[u8], ctx: &mut DecodeCtx<'_>) -> LineResult<Option<Record>>;

    /// Fast path: read the common well-formed frame line at the start of `buf` (buffered input
    /// that begins at a line start) in one pass, terminator (LF or CRLF) included, into `out`
    /// (every field overwritten, `data` reusing its capacity), and return the number of bytes
    /// the line takes. `None` leaves the line to [`LineDecoder::decode`] (and `out` in an
    /// unspecified but valid state): a decoder returns `Some` only for lines that `decode` reads
    /// to the same frame without any warning, and never for a line longer than
    /// [`crate::MAX_LINE_LEN`].
    #[inline]
    fn decode_fast(&mut self, _buf: &[u8], _out: &mut Frame) -> Option<usize> {
        None
    }

    /// [`LineDecoder::decode_fast`] into a fresh frame whose fields all hold values no fast
    /// path produces, so a field the fast path forgets to write shows in the comparison with
    /// [`LineDecoder::decode`].
    #[cfg(test)]
    fn decode_fast_owned(&mut self, buf: &[u8]) -> Option<(Frame, usize)> {
        let mut out = poisoned_frame();
        let n = self.decode_fast(buf, &mut out)?;
        Some((out, n))
    }
}

/// A frame whose fields all hold values no fast path produces: a field a fast path forgets to
/// write shows when its result is compared with the general parser's.
#[cfg(test)]
pub(crate) fn poisoned_frame() -> Frame {
    Frame {
        ts_ns: i64::MIN + 7,
        bus: 0xEE,
        id: 0xFFFF_FFFF,
        extended: true,
        rtr: true,
        error: true,
        fd: true,
        dir: crate::frame::Direction::Tx,
        data: vec![0xEE; 64],
    }
}

/// Overwrite `out` with a classic (not remote, error or FD) data frame whose data is the first
/// `len` (<= 8) bytes of `data`, reusing the capacity of `out.data` (or see [`finish_classic`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn set_classic(
    out: &mut Frame,
    ts_ns: i64,
    bus: u8,
    id: u32,
    extended: bool,
    dir: Direction,
    data: &[u8; 8],
    len: usize,
) {
    out.ts_ns = ts_ns;
    out.bus = bus;
    out.id = id;
    out.extended = extended;
    out.rtr = false;
    out.error = false;
    out.fd = false;
    out.dir = dir;
    crate::swar::set_data(&mut out.data, data, len);
}

/// Finish a classic data frame whose `ts_ns`, `bus`, `id`, `extended` and `dir` the fast path
/// has already written into `out` (each as soon as it was parsed, so fewer values stay live in
/// registers): clear the remote, error and FD flags and make `data[..len]` (`len` <= 8) the data.
#[inline(always)]
pub(crate) fn finish_classic(out: &mut Frame, data: &[u8; 8], len: usize) {
    out.rtr = false;
    out.error = false;
    out.fd = false;
    crate::swar::set_data(&mut out.data, data, len);
}

/// The text decoder for `format` (which must not be binary).
pub(crate) fn line_decoder(format: Format) -> Box<dyn LineDecoder> {
    match format {
        Format::Crtd => Box::new(crtd::CrtdDecoder),
        Format::Candump => Box::new(candump::CandumpDecoder::default()),
        Format::CandumpScreen => Box::new(candump_screen::ScreenDecoder::default()),
        Format::GvretCsv => Box::new(gvret_csv::GvretDecoder::default()),
        Format::PeakTrc => Box::new(peak_trc::PeakDecoder::default()),
        Format::CarbusTrc => Box::new(carbus_trc::CarbusDecoder),
        Format::VectorAsc => Box::new(vector_asc::AscDecoder::default()),
        Format::TattlerCsv => Box::new(tattler_csv::TattlerDecoder),
        Format::Pcap | Format::Pcapng => unreachable!("binary formats have no line decoder"),
    }
}

/// A binary-format problem.
#[derive(Debug)]
pub(crate) enum BinaryError {
    /// Reading failed.
    Io {
        record: u64,
        column: u64,
        source: io::Error,
    },
    /// Bad content. `fatal` = the rest of the file cannot be found (no resync possible).
    Parse {
        record: u64,
        column: u64,
        expected: Cow<'static, str>,
        found: String,
        fatal: bool,
    },
}

impl BinaryError {
    pub(crate) fn is_fatal(&self) -> bool {
        match self {
            BinaryError::Io { .. } => true,
            BinaryError::Parse { fatal, .. } => *fatal,
        }
    }
}

/// The decoder of a binary format.
pub(crate) enum BinaryDecoder {
    Pcap(pcap::PcapDecoder),
    Pcapng(pcapng::PcapngDecoder),
}

impl BinaryDecoder {
    pub(crate) fn new(format: Format) -> Self {
        match format {
            Format::Pcapng => BinaryDecoder::Pcapng(pcapng::PcapngDecoder::default()),
            _ => BinaryDecoder::Pcap(pcap::PcapDecoder::default()),
        }
    }

    pub(crate) fn record_no(&self) -> u64 {
        match self {
            BinaryDecoder::Pcap(d) => d.record_no(),
            BinaryDecoder::Pcapng(d) => d.record_no(),
        }
    }

    pub(crate) fn read_header<R: io::Read>(
        &mut self,
        src: &mut crate::source::Source<R>,
    ) -> Result<(), BinaryError> {
        match self {
            BinaryDecoder::Pcap(d) => d.read_header(src),
            BinaryDecoder::Pcapng(d) => d.read_header(src),
        }
    }

    pub(crate) fn next<R: io::Read>(
        &mut self,
        src: &mut crate::source::Source<R>,
        w: &mut Warnings,
    ) -> Option<Result<Record, BinaryError>> {
        match self {
            BinaryDecoder::Pcap(d) => d.next(src, w),
            BinaryDecoder::Pcapng(d) => d.next(src, w),
        }
    }
}
