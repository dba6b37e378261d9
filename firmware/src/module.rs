//! The sans-IO server v3 protocol core: one OVMS module's MQTT behaviour.
//!
//! Drive it like quinn-proto's `Connection`: feed [`Module::handle`] with inputs, call
//! [`Module::handle_timeout`] when [`Module::poll_timeout`] is due, and drain [`Module::poll_action`]
//! after every call. Time is always an argument and must not go backwards.

use std::collections::BTreeMap;

use crate::io::{Action, Input};
use crate::time::Instant;
use crate::vehicle::Vehicle;

/// Identity and configuration of one module (what `config` holds in the firmware).
#[derive(Clone, Debug, Default)]
pub struct ModuleConfig {
    /// `vehicle` / `id`.
    pub vehicle_id: String,
    /// `server.v3` / `user` (the MQTT username).
    pub username: String,
    /// Whether a password is configured (the secret itself stays at the edge).
    pub has_password: bool,
    /// `server.v3` / `clientid` (3.3.006+); defaults to the vehicle id.
    pub client_id: Option<String>,
    /// `server.v3` / `topic.prefix`; empty or `None` = the profile's default prefix.
    pub topic_prefix: Option<String>,
    /// Keepalive override in seconds (`--keepalive`).
    pub keepalive_secs: Option<u16>,
    /// Further `server.v3` parameters (`updatetime.connected` = `60`, ...), as `config set` would set them.
    pub params: BTreeMap<String, String>,
}

/// One emulated module.
pub struct Module {
    _private: (),
}

impl Module {
    /// A module that boots at `now` with `profile` and `config`, without a vehicle.
    pub fn new(_profile: crate::profile::Profile, _config: ModuleConfig, _now: Instant) -> Module {
        todo!("ovms-firmware core")
    }

    /// Select the vehicle decoder (publishes `v.type`, runs the decoder's `init`).
    pub fn set_vehicle(&mut self, _now: Instant, _vehicle: Box<dyn Vehicle>) {
        todo!()
    }

    /// Feed one input.
    pub fn handle(&mut self, _now: Instant, _input: Input) {
        todo!()
    }

    /// Let timers fire that are due at `now` (calling early is a harmless no-op).
    pub fn handle_timeout(&mut self, _now: Instant) {
        todo!()
    }

    /// The earliest instant at which [`Module::handle_timeout`] may produce actions.
    pub fn poll_timeout(&self) -> Option<Instant> {
        todo!()
    }

    /// The next action for the edge, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        todo!()
    }

    /// The metrics store (read-only).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        todo!()
    }

    /// The protocol profile in use.
    pub fn profile(&self) -> &crate::profile::Profile {
        todo!()
    }

    /// The resolved topic prefix (with its trailing `/` when it is the default).
    pub fn prefix(&self) -> &str {
        todo!()
    }
}
