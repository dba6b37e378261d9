//! Bench rigs: a real OVMS module driven by the same scenarios as the emulator.
//!
//! A real module runs on the wall clock: its intervals are shortened through its own command
//! channel ([`intervals`]), CAN frames reach it over SocketCAN or over the firmware's CAN log
//! "simulate" TCP server ([`simulate`]), power/reset/halt come from a debug probe or a relay
//! ([`probe`]), and timing assertions get the rig's tolerances ([`tolerance`]).
//!
//! - [`rig`]: the `rigs/bench-*.yaml` format, [`load_bench_rig`] and [`lint_bench_rig`].
//! - [`intervals`]: `config set server.v3 updatetime.*` before a scenario, restore after.
//! - [`simulate`]: the simulate-server client (CRTD over TCP, paced on the wall clock).
//! - [`probe`]: [`probe::Probe`] with a fake, a relay (shell) and a probe-rs (feature `probe`)
//!   implementation.
//! - [`session`]: [`session::shorten_intervals`] / [`session::restore_intervals`] over any
//!   [`session::CommandSender`] (the harness's MQTT commands, or the shell channel).
//! - [`shell`]: shell commands with a timeout (relay, shell command channel).
//! - [`tolerance`]: wall-clock cadence/expiry checks with readable messages.
//! - [`emu_binary`]: locating `ovms-emu` when it stands in for a bench module.

pub mod emu_binary;
pub mod intervals;
pub mod probe;
pub mod rig;
pub mod session;
pub mod shell;
pub mod simulate;
pub mod tolerance;

pub use rig::{
    lint_bench_rig, load_bench_rig, parse_bench_rig, BenchRig, Diagnostic, RigError, Severity,
};
