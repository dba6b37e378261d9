//! The emulated OVMS v3 module.
//!
//! Layout:
//! - [`time`]: our own `Instant`/`Duration` (milliseconds since module boot). The core never reads a clock.
//! - [`metrics`]: the metrics store (OVMS names, native units, firmware string formatting, modified marks).
//!
//! The protocol core is sans-IO: inputs in, actions out, time is always an argument.

pub mod metrics;
pub mod time;
