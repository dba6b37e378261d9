//! The one error type of the readers.
//!
//! Locations count from 1. For text formats `LINE` is the line number (a line ends at LF, CRLF or a
//! lone CR) and `COLUMN` the 1-based byte offset within the line. For the binary formats (pcap,
//! pcapng) `LINE` is the record number (1 = file header / first block) and `COLUMN` the 1-based
//! byte offset within that record.

use std::borrow::Cow;
use std::io;

/// A reader error with its exact location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The content does not match the format. Display: `FILE:LINE:COLUMN: expected …, found …`.
    #[error("{file}:{line}:{column}: expected {expected}, found {found}")]
    Parse {
        /// File (or stream) name as given to the reader.
        file: String,
        /// 1-based line (text) or record (binary) number.
        line: u64,
        /// 1-based byte column within the line or record.
        column: u64,
        /// What the reader expected at that place.
        expected: Cow<'static, str>,
        /// What it found there (a quoted excerpt, `end of line`, `end of file`, …).
        found: String,
    },
    /// Reading the input failed. Display: `FILE:LINE:COLUMN: read error: …`.
    #[error("{file}:{line}:{column}: read error: {source}")]
    Io {
        /// File (or stream) name.
        file: String,
        /// Line/record being read when it failed.
        line: u64,
        /// Column (1 when the failure is at a line start).
        column: u64,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl LogError {
    /// `(line, column)` of the error.
    pub fn location(&self) -> (u64, u64) {
        match self {
            LogError::Parse { line, column, .. } | LogError::Io { line, column, .. } => {
                (*line, *column)
            }
        }
    }

    /// The file name the error refers to.
    pub fn file(&self) -> &str {
        match self {
            LogError::Parse { file, .. } | LogError::Io { file, .. } => file,
        }
    }

    /// True for I/O failures (as opposed to bad content).
    pub fn is_io(&self) -> bool {
        matches!(self, LogError::Io { .. })
    }
}
