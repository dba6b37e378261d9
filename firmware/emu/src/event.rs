//! What the edge reports while it runs (for the harness's barriers and for logs).

use std::time::Duration;

use ovms_firmware::io::{IncomingPublish, QoS};
use ovms_firmware::time::Instant;

/// One thing that happened at the edge, with the module time it happened at.
#[derive(Clone, Debug, PartialEq)]
pub enum EmuEvent {
    /// A CONNECT is being attempted (TCP/TLS connect, then CONNECT).
    Connecting {
        /// Module time.
        at: Instant,
        /// The client id in the CONNECT.
        client_id: String,
    },
    /// CONNACK accepted.
    Connected {
        /// Module time.
        at: Instant,
    },
    /// An attempt failed before CONNACK (unreachable, TLS failure, refused).
    ConnectFailed {
        /// Module time.
        at: Instant,
        /// The one-line message that was logged.
        message: String,
        /// When the next attempt is due (wall time from now), if known.
        retry_in: Option<Duration>,
    },
    /// An established connection was lost (closed by the broker or the network).
    ConnectionLost {
        /// Module time.
        at: Instant,
        /// The one-line message that was logged.
        message: String,
    },
    /// A PUBLISH was handed to the socket.
    Sent {
        /// Module time.
        at: Instant,
        /// Topic.
        topic: String,
        /// Payload.
        payload: Vec<u8>,
        /// QoS.
        qos: QoS,
        /// RETAIN flag.
        retain: bool,
    },
    /// A SUBSCRIBE was handed to the socket.
    Subscribed {
        /// Module time.
        at: Instant,
        /// Filters and requested QoS.
        filters: Vec<(String, QoS)>,
    },
    /// A DISCONNECT was handed to the socket (only where the profile's firmware sends one).
    Disconnected {
        /// Module time.
        at: Instant,
    },
    /// A PUBLISH from the broker was fed to the module.
    Received {
        /// Module time.
        at: Instant,
        /// The message.
        publish: IncomingPublish,
    },
    /// The module transmitted a CAN frame (bus 0-based).
    CanTransmit {
        /// Module time.
        at: Instant,
        /// Bus, 0-based.
        bus: u8,
        /// Identifier.
        id: u32,
        /// 29-bit identifier.
        extended: bool,
        /// Data.
        data: Vec<u8>,
    },
    /// The module lost power ([`crate::EmuHandle::power_cut`]).
    PoweredOff {
        /// Module time.
        at: Instant,
    },
}
