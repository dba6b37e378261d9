//! A virtual app client on the virtual clock: announces itself on the profile's client topic,
//! repeats the heartbeat every interval of *module* time, and sets a will (`0`) on the same topic.
//!
//! The MQTT side is ovms-hil-net's app client; this type adds the schedule. The world asks
//! [`AppClient::next_due`] when it moves time, so heartbeats go out at their module instants.

use std::time::Duration as StdDuration;

use ovms_firmware::time::{Duration, Instant};
use ovms_hil_net::app::AppClient as NetApp;
use ovms_hil_net::client::ClientOptions;
use ovms_hil_net::Endpoint;

/// One app client.
#[derive(Debug)]
pub struct AppClient {
    client: Option<NetApp>,
    /// The heartbeat topic (`<prefix>c/<id>` or `<prefix>client/<id>/active`).
    pub topic: String,
    /// QoS of heartbeats.
    pub qos: u8,
    /// Heartbeat interval in module time (`None`: heartbeats stopped).
    pub interval: Option<Duration>,
    next: Option<Instant>,
    /// Module time of the last heartbeat sent.
    pub last_heartbeat: Option<Instant>,
    /// How many heartbeats were sent.
    pub heartbeats: usize,
    /// V3-CLI-5: the client watches the module's connected flag and sends a heartbeat at once
    /// whenever it turns `yes` (see [`crate::world::HilWorld::answer_connected`]).
    pub answers_connected: bool,
    /// How many of the module's `yes` publishes this client has already answered (or saw
    /// before it connected).
    pub answered_yes: usize,
}

impl AppClient {
    /// Connect with a will `0` on `topic`; heartbeats start with [`AppClient::heartbeat`].
    pub async fn connect(
        endpoint: &Endpoint,
        client_id: &str,
        topic: String,
        qos: u8,
        interval: Duration,
    ) -> Result<AppClient, String> {
        let opts = ClientOptions::new(endpoint.clone(), client_id)
            .with_will(topic.clone(), b"0".to_vec(), qos, false)
            .with_keep_alive(StdDuration::from_secs(5))
            .without_reconnect();
        let client = NetApp::connect(opts)
            .await
            .map_err(|e| format!("app client {client_id}: {e}"))?;
        Ok(AppClient {
            client: Some(client),
            topic,
            qos,
            interval: Some(interval),
            next: None,
            last_heartbeat: None,
            heartbeats: 0,
            answers_connected: false,
            answered_yes: 0,
        })
    }

    /// When the next heartbeat is due (module time), if heartbeats run.
    pub fn next_due(&self) -> Option<Instant> {
        self.interval.and(self.next)
    }

    fn client(&self) -> Result<&NetApp, String> {
        self.client
            .as_ref()
            .ok_or_else(|| "the app client is gone".to_string())
    }

    /// Publish `1` now (acknowledged by the broker for QoS 1/2) and schedule the next one.
    pub async fn heartbeat(&mut self, now: Instant) -> Result<(), String> {
        self.publish(b"1").await?;
        self.last_heartbeat = Some(now);
        self.heartbeats += 1;
        self.next = self.interval.map(|i| now + i);
        Ok(())
    }

    /// Publish `payload` on the heartbeat topic.
    pub async fn publish(&self, payload: &[u8]) -> Result<(), String> {
        let c = self.client()?;
        let r = if self.qos > 0 {
            c.publish_confirmed(
                &self.topic,
                payload.to_vec(),
                self.qos,
                false,
                StdDuration::from_secs(5),
            )
            .await
        } else {
            c.publish(&self.topic, payload.to_vec(), 0, false).await
        };
        r.map_err(|e| format!("app client publish on {}: {e}", self.topic))
    }

    /// Publish on any topic (commands).
    pub async fn publish_to(&self, topic: &str, payload: &[u8], qos: u8) -> Result<(), String> {
        let c = self.client()?;
        let r = if qos > 0 {
            c.publish_confirmed(
                topic,
                payload.to_vec(),
                qos,
                false,
                StdDuration::from_secs(5),
            )
            .await
        } else {
            c.publish(topic, payload.to_vec(), 0, false).await
        };
        r.map_err(|e| format!("app client publish on {topic}: {e}"))
    }

    /// Stop repeating the heartbeat (the client stays connected).
    pub fn stop_heartbeats(&mut self) {
        self.interval = None;
        self.next = None;
    }

    /// Drop the connection without DISCONNECT: the broker publishes the will `0`.
    pub fn vanish(&mut self) {
        if let Some(c) = self.client.take() {
            c.abort();
        }
        self.stop_heartbeats();
    }

    /// Disconnect gracefully.
    pub async fn stop(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.disconnect().await;
        }
    }
}
