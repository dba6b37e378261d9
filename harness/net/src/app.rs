//! A virtual app client: connects (optionally with a will), publishes heartbeats and commands,
//! and disconnects gracefully. Its event loop runs in a task and reconnects like the observer.

use crate::client::{build, ClientError, ClientOptions, Ev, Link};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Default)]
struct Status {
    connacks: u64,
    completed: u64,
    last_error: Option<String>,
    stopped: bool,
}

/// A connected app client.
pub struct AppClient {
    link: Link,
    status: watch::Receiver<Status>,
    closing: Arc<AtomicBool>,
    task: JoinHandle<()>,
    id: String,
}

impl std::fmt::Debug for AppClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppClient").field("id", &self.id).finish()
    }
}

impl AppClient {
    /// Connects; returns after the first CONNACK or with the reason it failed.
    pub async fn connect(opts: ClientOptions) -> Result<Self, ClientError> {
        let (link, mut event_loop) = build(&opts)?;
        let (tx, mut rx) = watch::channel(Status::default());
        let closing = Arc::new(AtomicBool::new(false));
        let stop = closing.clone();
        let reconnect = opts.reconnect;
        let delay = opts.reconnect_delay;
        let task = tokio::spawn(async move {
            loop {
                match event_loop.poll().await {
                    Ev::ConnAck(Ok(())) => tx.send_modify(|s| s.connacks += 1),
                    Ev::ConnAck(Err(r)) => {
                        tx.send_modify(|s| s.last_error = Some(format!("refused: {r}")));
                        break;
                    }
                    Ev::PubDone => tx.send_modify(|s| s.completed += 1),
                    Ev::Error(e) => {
                        let first = tx.borrow().connacks == 0;
                        tx.send_modify(|s| s.last_error = Some(e));
                        if first || !reconnect || stop.load(Ordering::Acquire) {
                            break;
                        }
                        tokio::time::sleep(delay).await;
                    }
                    _ => {}
                }
            }
            tx.send_modify(|s| s.stopped = true);
        });
        let endpoint = opts.endpoint.to_string();
        let first = tokio::time::timeout(opts.connect_timeout, async {
            loop {
                {
                    let s = rx.borrow_and_update();
                    if s.connacks > 0 {
                        return Ok(());
                    }
                    if let Some(e) = &s.last_error {
                        return Err(e.clone());
                    }
                }
                if rx.changed().await.is_err() {
                    return Err("client task ended".to_string());
                }
            }
        })
        .await;
        match first {
            Ok(Ok(())) => Ok(AppClient {
                link,
                status: rx,
                closing,
                task,
                id: opts.client_id,
            }),
            Ok(Err(reason)) => {
                task.abort();
                Err(match reason.strip_prefix("refused: ") {
                    Some(r) => ClientError::Refused {
                        endpoint,
                        reason: r.to_string(),
                    },
                    None => ClientError::Connect { endpoint, reason },
                })
            }
            Err(_) => {
                task.abort();
                Err(ClientError::Timeout {
                    what: format!("connecting {} to {endpoint}", opts.client_id),
                    timeout: opts.connect_timeout,
                })
            }
        }
    }

    /// Client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Number of accepted CONNACKs so far.
    pub fn connacks(&self) -> u64 {
        self.status.borrow().connacks
    }

    /// Queues a publish (returns once rumqttc accepted the request).
    pub async fn publish(
        &self,
        topic: &str,
        payload: impl Into<Vec<u8>>,
        qos: u8,
        retain: bool,
    ) -> Result<(), ClientError> {
        self.link
            .publish(topic, payload.into(), qos, retain)
            .await
            .map_err(|_| ClientError::Closed(self.id.clone()))
    }

    /// Publishes with QoS 1 or 2 and waits for the PUBACK/PUBCOMP.
    pub async fn publish_confirmed(
        &self,
        topic: &str,
        payload: impl Into<Vec<u8>>,
        qos: u8,
        retain: bool,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        let qos = qos.clamp(1, 2);
        let mut rx = self.status.clone();
        let target = rx.borrow_and_update().completed + 1;
        self.publish(topic, payload, qos, retain).await?;
        let wait = async {
            loop {
                if rx.borrow_and_update().completed >= target {
                    return true;
                }
                if rx.changed().await.is_err() {
                    return false;
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ClientError::Closed(self.id.clone())),
            Err(_) => Err(ClientError::Timeout {
                what: format!("acknowledgement of {topic} from {}", self.id),
                timeout,
            }),
        }
    }

    /// Waits until the client has been accepted `n` times in total (reconnects count).
    pub async fn wait_connacks(&self, n: u64, timeout: Duration) -> Result<(), ClientError> {
        let mut rx = self.status.clone();
        let wait = async {
            loop {
                if rx.borrow_and_update().connacks >= n {
                    return;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClientError::Timeout {
                what: format!("CONNACK #{n} for {}", self.id),
                timeout,
            })
    }

    /// Disconnects gracefully (the broker discards the will) and stops the event loop.
    pub async fn disconnect(self) -> Result<(), ClientError> {
        self.closing.store(true, Ordering::Release);
        self.link
            .disconnect()
            .await
            .map_err(|_| ClientError::Closed(self.id.clone()))?;
        let mut rx = self.status.clone();
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while !rx.borrow_and_update().stopped {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        Ok(())
    }

    /// Stops the event loop without DISCONNECT (the socket closes; the broker sends the will).
    pub fn abort(self) {
        self.task.abort();
    }
}

impl Drop for AppClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}
