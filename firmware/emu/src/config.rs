//! What [`crate::spawn`] needs: broker, identity, profile, vehicle, clock mode and retry policy.

use std::path::PathBuf;
use std::time::Duration;

use ovms_firmware::module::ModuleConfig;
use ovms_firmware::profile::Profile;
use ovms_firmware::vehicle::Vehicle;

use crate::broker::BrokerUrl;
use crate::secret::Secret;

/// How module time moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// Module time is wall time since [`crate::spawn`]; timers fire by themselves.
    #[default]
    Wall,
    /// Module time moves only through [`crate::EmuHandle::advance`]; it starts at zero.
    Virtual,
}

/// Who decides when a failed connection attempt is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RetryPolicy {
    /// The core (the profile's firmware delays: 20, 30 or 60 s, no back-off). Faithful; the default.
    #[default]
    Profile,
    /// The edge, on the wall clock (a testing aid): after a failed attempt (no CONNACK) the edge
    /// retries the same CONNECT after `first`, doubling per consecutive failure up to `max`. The core
    /// does not see these failures, only the eventual outcome. Lost connections (after CONNACK)
    /// still go to the core.
    Edge {
        /// Delay after the first failure.
        first: Duration,
        /// Upper bound of the doubling delay.
        max: Duration,
    },
}

/// Everything needed to run one emulated module against a broker.
pub struct EmuConfig {
    /// The broker to connect to.
    pub broker: BrokerUrl,
    /// PEM CA file to verify a `mqtts://` broker (required with TLS).
    pub ca_file: Option<PathBuf>,
    /// Whether the broker's certificate is verified (default: yes, as the firmware does).
    pub tls_verify: crate::tls::TlsVerify,
    /// Client certificate and key for mutual TLS (with `mqtts://` only).
    pub client_auth: Option<crate::tls::ClientAuthFiles>,
    /// The MQTT password; sent only when the core's CONNECT asks for it.
    pub password: Option<Secret>,
    /// The protocol profile.
    pub profile: Profile,
    /// Identity and `server.v3` configuration (`has_password` is set from `password` by `spawn`).
    pub module: ModuleConfig,
    /// The vehicle decoder, if any.
    pub vehicle: Option<Box<dyn Vehicle>>,
    /// Metrics set at boot, before the first connection (`--set NAME=VALUE`).
    pub initial_metrics: Vec<(String, String)>,
    /// Wall or virtual time.
    pub clock: ClockMode,
    /// Who schedules connection retries.
    pub retry: RetryPolicy,
    /// How long a barrier ([`crate::EmuHandle::advance`], [`crate::EmuHandle::input`]) waits for the
    /// broker (a CONNACK, or the socket accepting queued packets) before it gives up.
    pub barrier_timeout: Duration,
}

impl EmuConfig {
    /// A configuration with defaults: no TLS, no password, no vehicle, wall clock, profile retries,
    /// 10 s barrier timeout.
    pub fn new(broker: BrokerUrl, profile: Profile, module: ModuleConfig) -> EmuConfig {
        EmuConfig {
            broker,
            ca_file: None,
            tls_verify: crate::tls::TlsVerify::Verify,
            client_auth: None,
            password: None,
            profile,
            module,
            vehicle: None,
            initial_metrics: Vec::new(),
            clock: ClockMode::Wall,
            retry: RetryPolicy::Profile,
            barrier_timeout: Duration::from_secs(10),
        }
    }
}
