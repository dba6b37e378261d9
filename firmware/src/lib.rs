//! The emulated OVMS v3 module.
//!
//! Layout:
//! - [`time`]: our own `Instant`/`Duration` (milliseconds since module boot). The core never reads a clock.
//! - [`clock`]: the [`clock::Clock`] trait, a shared [`clock::VirtualClock`] and the [`clock::SystemClock`]
//!   for drivers (never used by the core).
//! - [`io`]: the core's inputs ([`io::Input`]) and actions ([`io::Action`]).
//! - [`profile`]: protocol profiles as data (`draft`, `fw-3.3.005`, `fw-3.3.006`, or a user file).
//! - [`metrics`]: the metrics store (OVMS names, native units, firmware string formatting, modified marks).
//! - [`commands`]: the command processor behind command topics (`metrics list`, `config set`, ...).
//! - [`module`]: the sans-IO server v3 protocol core.
//! - [`vehicle`]: the trait vehicle decoders implement.
//!
//! The protocol core is sans-IO: inputs in, actions out, time is always an argument.

#![warn(missing_docs)]

pub mod clock;
pub mod commands;
pub mod io;
pub mod metrics;
pub mod module;
pub mod profile;
pub mod time;
pub mod vehicle;
