//! Observers: MQTT clients (ovms-hil-net) that record what subscribers see through the broker.

use std::collections::HashMap;
use std::time::Duration;

use ovms_hil_net::observer::{Observer, ObserverOptions};
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::Endpoint;

pub use ovms_hil_net::observer::Seen;

use super::tap::SentPublish;

/// One observer subscribed to some filters.
#[derive(Debug)]
pub struct Watcher {
    inner: Observer,
}

impl Watcher {
    /// Connect as `client_id` and subscribe to `filters`; returns after the SUBACK.
    pub async fn start(endpoint: &Endpoint, client_id: &str, filters: &[String]) -> Result<Watcher, String> {
        let f: Vec<&str> = filters.iter().map(String::as_str).collect();
        let opts = ObserverOptions::new(ClientOptions::new(endpoint.clone(), client_id), &f);
        let inner = Observer::connect(opts)
            .await
            .map_err(|e| format!("observer {client_id}: {e}"))?;
        Ok(Watcher { inner })
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen()
    }

    /// Wait for the first message (seen already or later) matching `pred`.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&Seen) -> bool) -> Option<Seen> {
        self.inner.wait_for(timeout, pred).await.ok()
    }

    /// Wait until every publish in `wanted` (topic and payload, counted) has been seen; the error
    /// is how many are still missing at the timeout.
    pub async fn wait_all(&self, wanted: &[SentPublish], timeout: Duration) -> Result<(), usize> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut events = self.inner.events();
        loop {
            let missing = missing(wanted, &self.inner.seen());
            if missing == 0 {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(_)) | Err(_) => return Err(missing),
            }
        }
    }

    /// Disconnect.
    pub async fn stop(self) {
        self.inner.close().await;
    }
}

/// How many of `wanted` (as a multiset of topic and payload) are not in `seen`.
pub fn missing(wanted: &[SentPublish], seen: &[Seen]) -> usize {
    let mut have: HashMap<(&str, &[u8]), usize> = HashMap::new();
    for s in seen {
        *have.entry((s.topic.as_str(), s.payload.as_slice())).or_default() += 1;
    }
    let mut missing = 0;
    for w in wanted {
        match have.get_mut(&(w.topic.as_str(), w.payload.as_slice())) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing += 1,
        }
    }
    missing
}
