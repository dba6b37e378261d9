//! The emulated OVMS v3 module.
//!
//! Layout:
//! - [`time`]: our own `Instant`/`Duration` (milliseconds since module boot). The core never reads a clock.
//! - [`io`]: the core's inputs ([`io::Input`]) and actions ([`io::Action`]).
//! - [`metrics`]: the metrics store (OVMS names, native units, firmware string formatting, modified marks).
//! - [`vehicle`]: the trait vehicle decoders implement.
//!
//! The protocol core is sans-IO: inputs in, actions out, time is always an argument.

pub mod io;
pub mod metrics;
pub mod module;
pub mod profile;
pub mod time;
pub mod vehicle;
