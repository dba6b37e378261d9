//! The metrics store: OVMS metric names, native units, the firmware's string formatting, and a
//! "modified since last sent" mark per metric.

pub mod format;
mod value;

pub use format::{format_fixed, format_g6};
pub use value::MetricValue;

/// The metrics store.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    _private: (),
}

impl Metrics {
    /// The payload string of a defined metric (`AsString()`), `None` when undefined.
    pub fn as_string(&self, _name: &str) -> Option<String> {
        todo!()
    }
}
