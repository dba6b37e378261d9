//! Quirks a reader noticed but did not treat as errors (see the crate doc for the policy).

use std::fmt;

use crate::options::MAX_WARNING_LOCATIONS;

/// The kinds of warnings a reader records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningKind {
    /// A frame's timestamp is earlier than the previous frame on the *same* bus (by at most 1 s).
    BackwardTimestamp,
    /// A frame's timestamp is earlier than the previous frame, but not earlier than the previous
    /// frame on its own bus: two buses interleaved with separate buffers (Kona 2-bus logs).
    BusInterleaving,
    /// The timestamp jumped back by more than 1 s: the recording clock was reset.
    TimestampReset,
    /// A negative timestamp (counted per frame).
    NegativeTimestamp,
    /// Every timestamp of the file is a whole second and some repeat: timing below 1 s is lost.
    WholeSecondTimestamps,
    /// The "timestamps" step by one constant amount shorter than any CAN frame can take: they are
    /// sequence numbers, not times (e.g. the BMW i3 2015 log).
    SequenceNumbers,
    /// The file has no timestamps at all (candump screen output without `-t`); times are 0.
    NoTimestamps,
    /// A record of a kind this reader does not turn into a [`crate::Record`] (e.g. an ASC event,
    /// a PEAK status line, a pcap packet of another link type).
    UnsupportedRecord,
    /// Lenient mode skipped a bad record (its error message is the warning message).
    SkippedRecord,
}

impl WarningKind {
    /// Every kind, in display order.
    pub const ALL: [WarningKind; 9] = [
        WarningKind::BackwardTimestamp,
        WarningKind::BusInterleaving,
        WarningKind::TimestampReset,
        WarningKind::NegativeTimestamp,
        WarningKind::WholeSecondTimestamps,
        WarningKind::SequenceNumbers,
        WarningKind::NoTimestamps,
        WarningKind::UnsupportedRecord,
        WarningKind::SkippedRecord,
    ];

    /// A stable snake_case name (used in `info --json`).
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::BackwardTimestamp => "backward_timestamp",
            WarningKind::BusInterleaving => "bus_interleaving",
            WarningKind::TimestampReset => "timestamp_reset",
            WarningKind::NegativeTimestamp => "negative_timestamp",
            WarningKind::WholeSecondTimestamps => "whole_second_timestamps",
            WarningKind::SequenceNumbers => "sequence_numbers",
            WarningKind::NoTimestamps => "no_timestamps",
            WarningKind::UnsupportedRecord => "unsupported_record",
            WarningKind::SkippedRecord => "skipped_record",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One recorded warning location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What kind of quirk.
    pub kind: WarningKind,
    /// 1-based line (or record) number.
    pub line: u64,
    /// 1-based column (1 when the whole record is meant).
    pub column: u64,
    /// Human-readable detail.
    pub message: String,
}

/// Warning counts per kind plus the first [`MAX_WARNING_LOCATIONS`] locations of each kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    counts: [u64; WarningKind::ALL.len()],
    first: Vec<Warning>,
}

impl Warnings {
    /// Count one warning; its location is kept if fewer than [`MAX_WARNING_LOCATIONS`] of its kind
    /// are kept already. `message` is only called for kept locations.
    pub fn add(
        &mut self,
        kind: WarningKind,
        line: u64,
        column: u64,
        message: impl FnOnce() -> String,
    ) {
        let n = &mut self.counts[kind.index()];
        *n += 1;
        if *n <= MAX_WARNING_LOCATIONS as u64 {
            self.first.push(Warning {
                kind,
                line,
                column,
                message: message(),
            });
        }
    }

    /// How many warnings of `kind`.
    pub fn count(&self, kind: WarningKind) -> u64 {
        self.counts[kind.index()]
    }

    /// Total count over all kinds.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The kept locations, in the order they were found.
    pub fn first(&self) -> &[Warning] {
        &self.first
    }

    /// The kept locations of one kind.
    pub fn first_of(&self, kind: WarningKind) -> impl Iterator<Item = &Warning> {
        self.first.iter().filter(move |w| w.kind == kind)
    }

    /// `(kind, count)` for every kind with a non-zero count.
    pub fn counts(&self) -> impl Iterator<Item = (WarningKind, u64)> + '_ {
        WarningKind::ALL
            .into_iter()
            .map(|k| (k, self.count(k)))
            .filter(|(_, n)| *n > 0)
    }
}
