//! What goes into the protocol core ([`Input`]) and what comes out of it ([`Action`]).
//!
//! These are plain data: the edge (tokio + rumqttc in `ovms-emu`, or the harness's in-process rig)
//! turns actions into packets and packets into inputs.

use crate::metrics::MetricValue;

/// MQTT quality of service level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum QoS {
    /// At most once.
    #[default]
    AtMostOnce = 0,
    /// At least once.
    AtLeastOnce = 1,
    /// Exactly once.
    ExactlyOnce = 2,
}

impl QoS {
    /// From the wire number 0, 1 or 2.
    pub fn from_u8(n: u8) -> Option<QoS> {
        match n {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The wire number 0, 1 or 2.
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// The last will the module registers in its CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Will {
    /// Will topic (resolved, prefix included).
    pub topic: String,
    /// Will payload, e.g. `no`.
    pub payload: Vec<u8>,
    /// Will QoS.
    pub qos: QoS,
    /// Will retain flag.
    pub retain: bool,
}

/// Everything the edge needs to send CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// MQTT client id.
    pub client_id: String,
    /// Username, `None` when the profile omits an empty one.
    pub username: Option<String>,
    /// Whether the password field is sent (the edge holds the secret itself; the core never sees it).
    pub send_password: bool,
    /// Clean-session flag (the shipped firmware always sends 0).
    pub clean_session: bool,
    /// Keepalive in seconds.
    pub keepalive_secs: u16,
    /// The last will.
    pub will: Will,
}

/// One PUBLISH the module wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// Resolved topic.
    pub topic: String,
    /// Payload bytes (metric strings are UTF-8).
    pub payload: Vec<u8>,
    /// QoS.
    pub qos: QoS,
    /// RETAIN flag.
    pub retain: bool,
}

/// One PUBLISH the module received (from its subscriptions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingPublish {
    /// Topic as received.
    pub topic: String,
    /// Payload bytes (may be binary garbage: the core must cope).
    pub payload: Vec<u8>,
    /// QoS as delivered.
    pub qos: QoS,
    /// RETAIN flag as delivered.
    pub retain: bool,
}

/// An input to the protocol core. Time is passed alongside, never read.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// The transport connection the module asked for with [`Action::Connect`] was accepted (CONNACK 0).
    ConnAccepted,
    /// CONNACK with a refusal code (1..=5).
    ConnRefused(u8),
    /// The TCP/TLS connection could not be opened.
    ConnectFailed,
    /// The connection was lost (closed by the broker or the network).
    ConnectionLost,
    /// A PUBLISH arrived on one of the module's subscriptions.
    Publish(IncomingPublish),
    /// A metric value changed in the car (from a vehicle decoder, `--set` or a test step).
    Metric {
        /// Metric name (`v.b.soc`).
        name: String,
        /// Value in the metric's native unit.
        value: MetricValue,
    },
    /// A system event was raised (e.g. `vehicle.charge.start`).
    Event(String),
    /// A notification was raised: `kind` is `info`, `error`, `alert` or `data`.
    Notify {
        /// `info`, `error`, `alert` or `data`.
        kind: String,
        /// Subtype, e.g. `charge.started`.
        subtype: String,
        /// Notification text (may be multi-line).
        text: String,
    },
    /// A CAN frame reached the module (bus 0-based); the selected vehicle decodes it.
    CanFrame {
        /// Bus, 0-based.
        bus: u8,
        /// 11- or 29-bit identifier.
        id: u32,
        /// 29-bit identifier.
        extended: bool,
        /// Data bytes (0..=8).
        data: Vec<u8>,
    },
}

/// An action the core wants the edge to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open the transport and send CONNECT with these options.
    Connect(ConnectOptions),
    /// Send one SUBSCRIBE packet with these filters and requested QoS.
    Subscribe(Vec<(String, QoS)>),
    /// Send a PUBLISH.
    Publish(Publish),
    /// Send DISCONNECT and close (only where the profile's firmware does so; the shipped firmware never does).
    Disconnect,
    /// Transmit a CAN frame on the bus (bus 0-based), e.g. the Roadster's stream request.
    CanTransmit {
        /// Bus, 0-based.
        bus: u8,
        /// 11- or 29-bit identifier.
        id: u32,
        /// 29-bit identifier.
        extended: bool,
        /// Data bytes (0..=8).
        data: Vec<u8>,
    },
}
