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
//!
//! ```no_run
//! use ovms_hil_net::{app::AppClient, barrier::settle, client::ClientOptions};
//! use ovms_hil_net::observer::{Observer, ObserverOptions};
//! use ovms_hil_net::tap::{Direction, Tap, TapOptions};
//! use ovms_hil_net::{start_broker, BrokerChoice, BrokerOptions, CaptureWriter, TimeSource};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let broker = start_broker(BrokerChoice::Auto, BrokerOptions::default()).await?;
//! println!("{} ({})", broker.describe(), broker.why());
//! let capture = CaptureWriter::create("capture.jsonl")?;
//! let time = TimeSource::new();
//! let tap = Tap::start(
//!     &broker.endpoint(),
//!     TapOptions { capture: Some(capture.clone()), time: time.clone(), ..Default::default() },
//! )
//! .await?;
//! let observer = Observer::connect(
//!     ObserverOptions::new(ClientOptions::new(broker.endpoint(), "observer"), &["ovms/#"])
//!         .with_capture(capture)
//!         .with_time(time.clone()),
//! )
//! .await?;
//! // The module connects to tap.endpoint() instead of the broker.
//! let module = AppClient::connect(
//!     ClientOptions::new(tap.endpoint(), "module").with_will("ovms/u/v/metric/s/v3/connected", "no", 1, true),
//! )
//! .await?;
//! time.set_millis(60_000);
//! module.publish("ovms/u/v/metric/v/b/soc", "81", 1, true).await?;
//! settle(&tap, &observer, Duration::from_secs(5)).await?;
//! let sent = tap.publishes(Direction::ToBroker); // exact QoS/retain/dup as sent
//! let seen = observer.seen_on("ovms/u/v/#"); // what subscribers got
//! tap.faults().cut(); // power cut: the broker publishes the will
//! # let _ = (sent, seen);
//! # Ok(()) }
//! ```

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
