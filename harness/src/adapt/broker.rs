//! The run's broker: started once through `ovms_hil_net::start_broker`, shared by every scenario.

use std::str::FromStr;
use std::sync::Arc;

use ovms_hil_net::{
    start_broker, BrokerChoice, BrokerHandle, BrokerOptions, Capabilities, Endpoint,
};

/// A started broker, shared by all scenarios of a run (cheap to clone).
#[derive(Clone, Debug)]
pub struct SharedBroker {
    inner: Arc<tokio::sync::Mutex<Option<BrokerHandle>>>,
    endpoint: Endpoint,
    describe: String,
    capabilities: Capabilities,
}

/// Start the broker named by `choice` (`auto`, `mosquitto`, `container`, `embedded` or a URL).
pub async fn start(choice: &str) -> Result<SharedBroker, String> {
    let parsed = BrokerChoice::from_str(choice).map_err(|e| e.to_string())?;
    let handle = start_broker(parsed, BrokerOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(SharedBroker {
        endpoint: handle.endpoint(),
        describe: handle.describe(),
        capabilities: handle.capabilities(),
        inner: Arc::new(tokio::sync::Mutex::new(Some(handle))),
    })
}

impl SharedBroker {
    /// Where clients connect (plain TCP).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// One line saying which broker runs and why.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// What this broker can be trusted with (exact QoS, will, retain, ACL, TLS).
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Stop the broker (idempotent).
    pub async fn stop(&self) {
        if let Some(mut h) = self.inner.lock().await.take() {
            if let Err(e) = h.stop().await {
                eprintln!("broker: stopping failed: {e}");
            }
        }
    }
}
