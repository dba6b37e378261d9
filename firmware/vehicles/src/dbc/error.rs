//! DBC errors (with `FILE:LINE:COL`) and lenient-mode warnings (with `FILE:LINE`).

use std::fmt;
use std::path::PathBuf;

/// A 1-based line and column in a DBC file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub col: u32,
}

/// A DBC file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DbcError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A syntax or semantic error at a position.
    #[error("{}:{}:{}: {message}", file.display(), pos.line, pos.col)]
    At {
        /// The file (or `<memory>` for text parsed from a string).
        file: PathBuf,
        /// Where.
        pos: Pos,
        /// What is wrong.
        message: String,
    },
}

/// A defect tolerated in lenient mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbcWarning {
    /// The file.
    pub file: PathBuf,
    /// 1-based line of the offending statement.
    pub line: u32,
    /// What was tolerated and how.
    pub message: String,
}

impl fmt::Display for DbcWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: warning: {}",
            self.file.display(),
            self.line,
            self.message
        )
    }
}
