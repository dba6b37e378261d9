//! Brokers (mosquitto process, container, embedded, URL), the MQTT wire tap, the observer and
//! the capture file.
//!
//! Layout:
//! - [`broker`]: start a broker ([`broker::start_broker`]) and control it (stop, kill, restart).
//! - [`codec`]: sans-IO MQTT codec (check-then-parse), used by the tap.
//! - [`tap`]: TCP proxy between module and broker that records every packet and injects faults.
//! - [`observer`]: MQTT clients recording what subscribers see; [`app`]: a virtual app client;
//!   [`client`]: their shared rumqttc (v4/v5, rustls+ring) plumbing; [`topic`]: filter matching.
//! - [`capture`]: the JSON-lines capture file (writer and reader); [`time`]: its time stamps.
//! - [`barrier`]: wait until everything the module sent has reached the observer.

#![warn(missing_docs)]

pub mod app;
pub mod barrier;
pub mod broker;
pub mod capture;
pub mod client;
pub mod codec;
pub mod observer;
pub mod tap;
pub mod time;
pub mod topic;

pub use broker::{
    start_broker, BrokerChoice, BrokerError, BrokerHandle, BrokerOptions, Capabilities, Endpoint,
    TlsEndpoint,
};
pub use capture::{read_capture, CaptureRecord, CaptureWriter, Source};
pub use time::TimeSource;
