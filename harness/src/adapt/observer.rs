//! Observers: MQTT clients (ovms-hil-net) that record what subscribers see through the broker.

use std::time::Duration;

use ovms_hil_net::capture::CaptureWriter;
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::observer::{Observer, ObserverOptions};
use ovms_hil_net::{Endpoint, TimeSource};

pub use ovms_hil_net::observer::Seen;

/// One observer subscribed to some filters.
#[derive(Debug)]
pub struct Watcher {
    inner: Observer,
}

impl Watcher {
    /// Connect as `client_id` and subscribe to `filters`; returns after the SUBACK.
    pub async fn start(
        endpoint: &Endpoint,
        client_id: &str,
        filters: &[String],
    ) -> Result<Watcher, String> {
        Watcher::start_with(endpoint, client_id, filters, None, TimeSource::new()).await
    }

    /// Like [`Watcher::start`], also writing what it sees to `capture`, stamped with `time`.
    pub async fn start_with(
        endpoint: &Endpoint,
        client_id: &str,
        filters: &[String],
        capture: Option<CaptureWriter>,
        time: TimeSource,
    ) -> Result<Watcher, String> {
        let f: Vec<&str> = filters.iter().map(String::as_str).collect();
        let mut opts = ObserverOptions::new(ClientOptions::new(endpoint.clone(), client_id), &f)
            .with_time(time);
        if let Some(c) = capture {
            opts = opts.with_capture(c);
        }
        let inner = Observer::connect(opts)
            .await
            .map_err(|e| format!("observer {client_id}: {e}"))?;
        Ok(Watcher { inner })
    }

    /// The net observer (for the barrier).
    pub fn inner(&self) -> &Observer {
        &self.inner
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen()
    }

    /// Wait for the first message (seen already or later) matching `pred`.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&Seen) -> bool) -> Option<Seen> {
        self.inner.wait_for(timeout, pred).await.ok()
    }

    /// Disconnect.
    pub async fn stop(self) {
        self.inner.close().await;
    }
}
