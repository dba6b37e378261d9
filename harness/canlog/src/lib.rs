//! CAN logs in, frames out.
//!
//! One streaming reader per format behind one [`Frame`] type, format detection from content,
//! writers for candump `-l`, CRTD and GVRET CSV, and the `canlog` command-line tool ([`cli`]).
//!
//! ```no_run
//! use ovms_canlog::{open, ReadOptions};
//! let reader = open("drive.crtd".as_ref(), &ReadOptions::default())?;
//! println!("format: {}", reader.format());
//! for frame in reader.frames() {
//!     let frame = frame?;
//!     println!("{} {:03X} {:02X?}", frame.ts_ns, frame.id, frame.data);
//! }
//! # Ok::<(), ovms_canlog::LogError>(())
//! ```
//!
//! # Reading
//!
//! [`open`] / [`read`] detect the format from the first bytes (never the file name; see
//! [`ReadOptions::format`] to force one) and return a [`LogReader`], an iterator of
//! `Result<`[`Record`]`, `[`LogError`]`>` in file order; [`LogReader::frames`] keeps only frames.
//! [`LogReader::read_frame`] reads the next frame into a caller-owned [`Frame`] instead, reusing
//! its `data` buffer (like csv's `read_byte_record`): a loop over a whole log then allocates
//! nothing per frame, where the iterators allocate each frame's `data`.
//! Readers stream with constant memory: lines are sliced out of one 256 KiB buffer and parsed as
//! bytes. The common well-formed frame line of each text format (but candump screen output) is
//! parsed in one pass straight from the buffer, its end found while parsing; any other line
//! (headers, comments, odd spacing, errors, a line cut by the buffer end) goes through the
//! format's general parser, which gives the exact errors. Both paths yield the same records
//! (tested on the real logs, on randomly edited ones, and per format on random lines near its
//! usual layout). Reading a 1 GB candump log peaks at about 2.5 MB RSS (`ci/bench-canlog.sh`).
//!
//! What made the one-pass paths fast, measured on the bench files (CPU time, and callgrind for
//! instruction counts): the position of the next field should come from a predicted branch, not
//! from a computed count. Short times are read digit by digit (a branch per digit; the widths
//! repeat from line to line), candump's `(<10>.<6>)` time at fixed columns, tattler's bytes of one
//! or two digits with a branch on the width (branch-free versions with fewer instructions were up
//! to twice as slow: each byte's position then waits for the previous one). CRTD lines are checked
//! on SSE2 byte-class masks of their first 64 bytes and their eight data bytes read three per word
//! (`masks.rs`), which removes the per-byte loop and its exit branch.
//!
//! Formats: see [`Format`]; each has its own module under `formats/` documenting its layout.
//! Vector BLF is **not** supported: the Rust BLF readers on crates.io (e.g. `ablf` 0.2, `blf_asc`
//! 0.2) are young single-author crates without CAN FD coverage or documented failure behaviour,
//! and there is no real BLF log in the scenario set to test one against. Detection recognises the
//! `LOGG` signature and says so (convert BLF to ASC with the vendor tools or python-can).
//!
//! # Errors
//!
//! Every error says where: `FILE:LINE:COLUMN: expected …, found …` ([`LogError`]), lines and
//! columns counting from 1 (bytes, not characters). For pcap/pcapng the "line" is the record
//! number (see [`LogError`]). Nothing panics on any input: lines longer than [`MAX_LINE_LEN`]
//! (64 KiB) are an error (and are skipped without being buffered), binary length fields are
//! bounded before anything is read.
//!
//! In strict mode a bad record yields an `Err` and the iterator goes on with the next line (text
//! formats), so a caller may stop or collect; a binary stream that cannot be re-synchronised
//! ends after its error. With [`ReadOptions::lenient`] bad records are skipped and counted as
//! [`WarningKind::SkippedRecord`] with their first [`MAX_WARNING_LOCATIONS`] locations.
//!
//! # Quirk policy
//!
//! Records are **never re-ordered** and timestamps are never "fixed": `ts_ns` is what the file
//! says (relative, epoch or negative). Quirks are counted in [`Warnings`] (per kind, plus the first
//! locations), available from [`LogReader::warnings`] — complete once the iterator is exhausted:
//!
//! - backward steps: [`WarningKind::BusInterleaving`] when the frame is still in order on its own
//!   bus (two buses recorded through separate buffers, e.g. the Kona 2-bus logs: replay should
//!   sort or keep per-bus order), [`WarningKind::BackwardTimestamp`] when its own bus goes back,
//!   [`WarningKind::TimestampReset`] when the step back exceeds 1 s (the Kona heater log's clock
//!   reset to negative values);
//! - [`WarningKind::NegativeTimestamp`] per negative frame time (the Leaf inverter log);
//! - [`WarningKind::WholeSecondTimestamps`] once, when every frame time is a whole second and some
//!   repeat (SavvyCAN's candump export): sub-second timing is lost;
//! - [`WarningKind::SequenceNumbers`] once, when all times step by one constant amount shorter
//!   than any CAN frame can take (< 40 µs; the BMW i3 2015 log counts 0, 1, 2 … µs);
//! - decimal commas (CARBUS) are part of that format and read without a warning;
//! - [`WarningKind::NoTimestamps`] for candump screen output without `-t` (all times 0);
//! - [`WarningKind::UnsupportedRecord`] for recognised records that carry no frame (ASC events,
//!   PEAK status lines, pcapng packets of other link types).
//!
//! # Conventions
//!
//! Buses are 0-based in [`Frame::bus`] (CRTD `1R11`, PEAK/ASC/CARBUS channel 1 → bus 0; candump
//! `can1` → bus 1). Remote frames carry their requested length as that many zero bytes in
//! `data`. Error frames have `error` set and the error class in `id`.

#![warn(missing_docs)]

pub mod cli;
mod detect;
pub mod error;
pub mod format;
mod formats;
pub mod frame;
mod masks;
pub mod options;
mod parse;
pub mod reader;
pub mod record;
mod source;
mod swar;
mod timeline;
pub mod warnings;
pub mod write;

pub use error::LogError;
pub use format::{Format, UnknownFormat};
pub use frame::{Direction, Frame};
pub use options::{ReadOptions, MAX_LINE_LEN, MAX_WARNING_LOCATIONS};
pub use reader::{detect, open, read, Frames, LogReader};
pub use record::Record;
pub use warnings::{Warning, WarningKind, Warnings};
pub use write::{create, writer, RecordWriter, WriteError};
