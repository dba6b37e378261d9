//! Reader options.

use crate::format::Format;

/// Longest line a text reader accepts (bytes, terminator excluded). Longer lines are an error, not
/// an allocation: memory stays bounded whatever the input.
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// How many locations each warning kind (and lenient skips) keeps; counts are always complete.
pub const MAX_WARNING_LOCATIONS: usize = 10;

/// Options for [`crate::open`] and [`crate::read`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Force a format instead of detecting it from the content.
    pub format: Option<Format>,
    /// Skip bad records (counted in [`crate::Warnings`] as [`crate::WarningKind::SkippedRecord`] with
    /// their first locations) instead of yielding an error for them. Errors that make the rest of the
    /// file unreadable (I/O errors, a broken pcap header) are still yielded.
    pub lenient: bool,
}

impl ReadOptions {
    /// Options with a forced format.
    pub fn with_format(format: Format) -> Self {
        ReadOptions {
            format: Some(format),
            lenient: false,
        }
    }

    /// The same options with `lenient` set.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }
}
