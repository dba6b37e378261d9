//! The metrics store: OVMS metric names, native units, the firmware's string formatting, and a
//! "modified since last sent" mark per metric.

mod value;

pub use value::MetricValue;
