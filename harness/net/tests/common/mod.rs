//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ovms_hil_net::broker::mosquitto::MosquittoBroker;
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::observer::{Observer, ObserverOptions};
use ovms_hil_net::{BrokerOptions, Endpoint};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A client id unique within this test process.
pub fn id(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts a real mosquitto with the given options.
pub async fn mosquitto(opts: BrokerOptions) -> MosquittoBroker {
    MosquittoBroker::start(&opts)
        .await
        .expect("mosquitto must be installed at /usr/sbin/mosquitto for these tests")
}

/// An observer on `filters` at `ep`.
pub async fn observer(ep: Endpoint, filters: &[&str]) -> Observer {
    Observer::connect(ObserverOptions::new(
        ClientOptions::new(ep, id("obs")),
        filters,
    ))
    .await
    .expect("observer connects")
}

pub const T: Duration = Duration::from_secs(5);
