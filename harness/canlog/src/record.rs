//! What a reader yields: frames plus the non-frame records some formats carry.

use crate::frame::Frame;

/// One record of a CAN log, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A CAN (or CAN FD / error / remote) frame.
    Frame(Frame),
    /// An OVMS event (CRTD `CEV Event <name>`).
    Event {
        /// Timestamp in nanoseconds.
        ts_ns: i64,
        /// Event name, e.g. `vehicle.charge.start`.
        name: String,
    },
    /// An OVMS metric (CRTD `CMT Metric { "name": …, "value": … }`).
    Metric {
        /// Timestamp in nanoseconds.
        ts_ns: i64,
        /// Metric name, e.g. `v.b.soc`.
        name: String,
        /// The metric's JSON value text exactly as written (`121.3`, `true`, `"PARK"`).
        value: String,
    },
    /// A comment, annotation or informational line (CRTD `CXX`/`CVR`/`CER`/`CST`, tattler `;` notes,
    /// preamble titles).
    Comment {
        /// Timestamp in nanoseconds when the line has one.
        ts_ns: Option<i64>,
        /// The text (without the record tag where the format has one, e.g. CRTD `CXX `).
        text: String,
    },
}

impl Record {
    /// The timestamp of the record, if it has one.
    pub fn ts_ns(&self) -> Option<i64> {
        match self {
            Record::Frame(f) => Some(f.ts_ns),
            Record::Event { ts_ns, .. } | Record::Metric { ts_ns, .. } => Some(*ts_ns),
            Record::Comment { ts_ns, .. } => *ts_ns,
        }
    }

    /// The frame, if this record is one.
    pub fn as_frame(&self) -> Option<&Frame> {
        match self {
            Record::Frame(f) => Some(f),
            _ => None,
        }
    }

    /// The frame by value, if this record is one.
    pub fn into_frame(self) -> Option<Frame> {
        match self {
            Record::Frame(f) => Some(f),
            _ => None,
        }
    }
}
