//! The per-scenario wire tap (ovms-hil-net): a TCP proxy between module and broker, the exact
//! record of every CONNECT and PUBLISH the module sent, and the barrier built on it.

use std::time::Duration;

use ovms_hil_net::capture::CaptureWriter;
use ovms_hil_net::tap::{Direction, Tap, TapOptions};
use ovms_hil_net::{Endpoint, TimeSource};

pub use ovms_hil_net::topic::topic_matches;

use super::observer::Watcher;

/// A PUBLISH the module sent, as the tap decoded it.
#[derive(Clone, Debug, PartialEq)]
pub struct SentPublish {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS flag as sent.
    pub qos: u8,
    /// RETAIN flag as sent.
    pub retain: bool,
    /// DUP flag as sent.
    pub dup: bool,
    /// Tap connection number (1 = the module's first connection).
    pub conn: u64,
}

/// The will of a CONNECT.
#[derive(Clone, Debug, PartialEq)]
pub struct SentWill {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
}

/// A CONNECT the module sent.
#[derive(Clone, Debug, PartialEq)]
pub struct SentConnect {
    /// Client id.
    pub client_id: String,
    /// Clean-session flag.
    pub clean_session: bool,
    /// Keepalive (s).
    pub keep_alive: u16,
    /// User name.
    pub username: Option<String>,
    /// The will, if the will flag was set.
    pub will: Option<SentWill>,
}

/// The tap of one scenario.
#[derive(Debug)]
pub struct ModuleTap {
    inner: Tap,
}

impl ModuleTap {
    /// Start a tap forwarding to `upstream`, writing to `capture` and stamping records with `time`.
    pub async fn start(
        upstream: &Endpoint,
        capture: Option<CaptureWriter>,
        time: TimeSource,
    ) -> Result<ModuleTap, String> {
        let opts = TapOptions {
            capture,
            time,
            ..TapOptions::default()
        };
        let inner = Tap::start(upstream, opts)
            .await
            .map_err(|e| format!("tap: {e}"))?;
        Ok(ModuleTap { inner })
    }

    /// `mqtt://127.0.0.1:<port>` for the module.
    pub fn url(&self) -> String {
        let e = self.inner.endpoint();
        format!("mqtt://{}:{}", e.host, e.port)
    }

    /// Every PUBLISH the module sent, in order (barrier sentinels excluded).
    pub fn publishes(&self) -> Vec<SentPublish> {
        self.inner
            .publishes(Direction::ToBroker)
            .into_iter()
            .map(|(conn, p)| SentPublish {
                topic: p.topic,
                payload: p.payload,
                qos: p.qos,
                retain: p.retain,
                dup: p.dup,
                conn,
            })
            .collect()
    }

    /// Every CONNECT the module sent, in order.
    pub fn connects(&self) -> Vec<SentConnect> {
        self.inner
            .connects()
            .into_iter()
            .map(|(_, c)| SentConnect {
                client_id: c.client_id,
                clean_session: c.clean_session,
                keep_alive: c.keep_alive,
                username: c.username,
                will: c.will.map(|w| SentWill {
                    topic: w.topic,
                    payload: w.payload,
                    qos: w.qos,
                    retain: w.retain,
                }),
            })
            .collect()
    }

    /// The barrier: every byte the module had written has passed the tap, and every resulting
    /// delivery reached `observer` (sentinel round trip through the broker; see
    /// `ovms_hil_net::barrier`).
    pub async fn settle(&self, observer: &Watcher, timeout: Duration) -> Result<(), String> {
        ovms_hil_net::barrier::settle(&self.inner, observer.inner(), timeout)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Wait until at least `n` module PUBLISHes passed the tap (an await on the tap's event
    /// stream); the error is the count reached at the timeout.
    pub async fn wait_publishes(&self, n: usize, timeout: Duration) -> Result<(), usize> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut events = self.inner.events();
        loop {
            let have = self.inner.publishes(Direction::ToBroker).len();
            if have >= n {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(_)) | Err(_) => return Err(have),
            }
        }
    }

    /// Stop the tap (closes its connections).
    pub async fn stop(self) {
        self.inner.shutdown().await;
    }
}
