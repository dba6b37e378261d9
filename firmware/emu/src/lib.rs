//! The emulated OVMS v3 module on a real broker: a thin tokio + rumqttc edge around the sans-IO
//! protocol core of `ovms-firmware`.
//!
//! Layout:
//! - [`broker`]: `mqtt://` / `mqtts://` addresses.
//! - [`config`]: [`EmuConfig`], clock mode and retry policy.
//! - [`handle`]: [`spawn`] and [`EmuHandle`], the API the harness and the binary use.
//! - `driver` (private): the task that drives one `Module` against the broker.
//! - `conn` (private): one broker connection (a task polling a rumqttc event loop).
//! - [`mqtt`]: pure conversions between the core's actions/inputs and rumqttc types; failure messages.
//! - [`tls`]: rustls (ring) client configuration from a CA file.
//! - [`secret`]: the password, never printed.
//! - [`event`]: what the edge reports ([`EmuEvent`]).
//! - [`crtd`]: the CRTD lines of the firmware's CAN "simulate" server, decoded without I/O.
//! - [`control`]: the line-based control protocol (parser without I/O, and its TCP server).
//! - [`control_client`]: a client of that protocol, for a harness running `ovms-emu` as a process.
//! - [`simulate`]: the CAN "simulate" TCP server feeding CRTD frames to the module.
//! - [`socketcan`]: `--can-socketcan`, frames from a SocketCAN interface fed the same way
//!   (feature `socketcan`).
//!
//! Contract with the firmware it emulates: the edge never sends DISCONNECT unless the core asks
//! (the shipped firmware never does), so the broker publishes the will on every stop, kill or cut.

#![warn(missing_docs)]

pub mod broker;
pub mod config;
mod conn;
pub mod control;
pub mod control_client;
pub mod crtd;
mod driver;
pub mod event;
pub mod handle;
pub mod mqtt;
pub mod secret;
pub mod simulate;
pub mod socketcan;
pub mod tls;

pub use broker::BrokerUrl;
pub use config::{ClockMode, EmuConfig, RetryPolicy};
pub use event::EmuEvent;
pub use handle::{spawn, EmuError, EmuHandle};
pub use secret::Secret;
