//! Thin adapters over sibling crates whose APIs were still moving while this crate was written:
//! when one changes, only its adapter file changes.
//!
//! - [`broker`]: the run's shared broker (ovms-hil-net).
//! - [`tap`]: the per-scenario wire tap between module and broker (ovms-hil-net).
//! - [`observer`]: MQTT clients that record what subscribers see (ovms-hil-net).
//! - [`external`]: the `canlog` and `dbc` subcommands owned by ovms-canlog and ovms-vehicles.

pub mod broker;
pub mod external;
pub mod observer;
pub mod tap;
