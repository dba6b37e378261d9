//! The wire tap: a TCP proxy between module and broker that decodes MQTT in both directions,
//! records every packet exactly as sent, and injects faults.
//!
//! Layout: `server` accepts (given its listener and shutdown future); `conn` pairs a client
//! with a fresh upstream connection; `pump` moves one direction packet by packet; [`fault`]
//! holds cut / half-open / delay and the [`FaultHandle`]; [`event`] defines the records;
//! `shared` holds state common to all of them. Malformed MQTT from either side is recorded as an
//! error event and closes that connection; nothing panics on input.
//!
//! The tap speaks plain TCP: put it in front of a plain listener (TLS would be opaque to it).

mod conn;
pub mod event;
pub mod fault;
mod pump;
mod server;
mod shared;

pub use event::{Direction, TapEvent, TapEventKind};
pub use fault::{FaultHandle, Faults, PacketHook, Verdict};
pub use shared::TapStats;

use crate::broker::Endpoint;
use crate::capture::CaptureWriter;
use crate::codec::{Connect, Packet, Publish, DEFAULT_MAX_PACKET};
use crate::time::TimeSource;
use shared::{Inject, TapShared};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// Tap settings.
#[derive(Debug, Clone)]
pub struct TapOptions {
    /// Capture file for tap records.
    pub capture: Option<CaptureWriter>,
    /// Virtual time for records.
    pub time: TimeSource,
    /// Largest packet accepted (bigger ones are a protocol error).
    pub max_packet: usize,
}

impl Default for TapOptions {
    fn default() -> Self {
        TapOptions {
            capture: None,
            time: TimeSource::new(),
            max_packet: DEFAULT_MAX_PACKET,
        }
    }
}

/// Why a tap operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    /// Binding the listener failed.
    #[error("binding the tap listener: {0}")]
    Bind(std::io::Error),
    /// The connection is unknown or already closed.
    #[error("tap connection {0} is not open")]
    NoConnection(u64),
    /// A sentinel could not be injected.
    #[error("tap connection {conn}: cannot inject the barrier sentinel: {reason}")]
    Inject {
        /// Connection.
        conn: u64,
        /// Why.
        reason: String,
    },
    /// Waiting timed out.
    #[error("tap: {what} did not happen within {timeout:?}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// Limit.
        timeout: Duration,
    },
}

/// A running tap. Dropping it stops accepting and closes its connections.
pub struct Tap {
    shared: Arc<TapShared>,
    addr: SocketAddr,
    upstream: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream)
            .finish()
    }
}

impl Tap {
    /// Binds a free port on 127.0.0.1 and proxies to `upstream` (`host:port`).
    pub async fn start(upstream: &Endpoint, opts: TapOptions) -> Result<Tap, TapError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(TapError::Bind)?;
        Tap::spawn(listener, upstream, opts)
    }

    /// Proxies clients accepted on `listener` to `upstream` until shut down or dropped.
    pub fn spawn(
        listener: TcpListener,
        upstream: &Endpoint,
        opts: TapOptions,
    ) -> Result<Tap, TapError> {
        Tap::spawn_until(listener, upstream, opts, std::future::pending::<()>())
    }

    /// Like [`Tap::spawn`], and also stops (closing every connection) when `shutdown` resolves.
    pub fn spawn_until(
        listener: TcpListener,
        upstream: &Endpoint,
        opts: TapOptions,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<Tap, TapError> {
        let addr = listener.local_addr().map_err(TapError::Bind)?;
        let shared = Arc::new(TapShared::new(opts.capture, opts.time, opts.max_packet));
        let (tx, rx) = oneshot::channel::<()>();
        let upstream = upstream.to_string();
        let stop = async move {
            tokio::select! {
                _ = rx => {}
                _ = shutdown => {}
            }
        };
        let task = tokio::spawn(server::run(
            listener,
            upstream.clone(),
            shared.clone(),
            stop,
        ));
        Ok(Tap {
            shared,
            addr,
            upstream,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Where modules connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// [`Tap::addr`] as an endpoint.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            host: self.addr.ip().to_string(),
            port: self.addr.port(),
        }
    }

    /// The upstream broker address.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The fault controls.
    pub fn faults(&self) -> FaultHandle {
        FaultHandle {
            shared: self.shared.clone(),
        }
    }

    /// Live events from now on.
    pub fn events(&self) -> broadcast::Receiver<TapEvent> {
        self.shared.events.subscribe()
    }

    /// Every event so far, in order.
    pub fn history(&self) -> Vec<TapEvent> {
        self.shared
            .history
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Counters.
    pub fn stats(&self) -> TapStats {
        *self.shared.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every PUBLISH travelling in `dir` (sentinels excluded), with its connection number.
    pub fn publishes(&self, dir: Direction) -> Vec<(u64, Publish)> {
        self.history()
            .into_iter()
            .filter(|e| e.dir == dir)
            .filter_map(|e| match e.kind {
                TapEventKind::Packet {
                    packet: Packet::Publish(p),
                    injected: false,
                    ..
                } => Some((e.conn, p)),
                _ => None,
            })
            .collect()
    }

    /// Every CONNECT modules sent, with its connection number.
    pub fn connects(&self) -> Vec<(u64, Connect)> {
        self.history()
            .into_iter()
            .filter_map(|e| match e.kind {
                TapEventKind::Packet {
                    packet: Packet::Connect(c),
                    ..
                } => Some((e.conn, c)),
                _ => None,
            })
            .collect()
    }

    /// Numbers of the connections currently open.
    pub fn open_connections(&self) -> Vec<u64> {
        self.shared
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .copied()
            .collect()
    }

    /// Open connections that have sent CONNECT (the ones a sentinel can be injected into).
    pub fn connected(&self) -> Vec<u64> {
        self.shared
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, c)| c.version.lock().map(|v| v.is_some()).unwrap_or(false))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Waits for the first event (past or future) matching `pred`.
    pub async fn wait_event(
        &self,
        timeout: Duration,
        pred: impl Fn(&TapEvent) -> bool,
    ) -> Result<TapEvent, TapError> {
        let mut rx = self.shared.changed.subscribe();
        let mut from = 0;
        let fut = async {
            loop {
                rx.borrow_and_update();
                {
                    let history = self
                        .shared
                        .history
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    if let Some(e) = history[from.min(history.len())..].iter().find(|e| pred(e)) {
                        return e.clone();
                    }
                    from = history.len();
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| TapError::Timeout {
                what: "a matching tap event".into(),
                timeout,
            })
    }

    /// Waits until every QoS 2 PUBLISH the module sent on `conn` has been followed by its PUBREL
    /// (mosquitto delivers a QoS 2 message to subscribers only on PUBREL). Ok if the connection
    /// is gone.
    pub async fn wait_qos2_released(&self, conn: u64, timeout: Duration) -> Result<(), TapError> {
        let Some(pending) = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&conn)
            .map(|c| c.pending_qos2.clone())
        else {
            return Ok(());
        };
        let mut rx = self.shared.changed.subscribe();
        let fut = async {
            loop {
                rx.borrow_and_update();
                if pending.lock().map(|p| p.is_empty()).unwrap_or(true)
                    || !self.open_connections().contains(&conn)
                {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| TapError::Timeout {
                what: format!("PUBREL for every QoS 2 PUBLISH on connection {conn}"),
                timeout,
            })
    }

    /// Injects a QoS 0 PUBLISH on `topic` (empty payload) into connection `conn`'s module →
    /// broker stream, after every byte the module had written before this call (the kernel's
    /// receive buffer is drained first). Returns once the bytes were handed to the broker socket.
    pub async fn inject_sentinel(&self, conn: u64, topic: &str) -> Result<(), TapError> {
        let tx = self
            .shared
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&conn)
            .map(|c| c.inject.clone())
            .ok_or(TapError::NoConnection(conn))?;
        let (done, rx) = oneshot::channel();
        tx.send(Inject {
            topic: topic.to_string(),
            done,
        })
        .await
        .map_err(|_| TapError::NoConnection(conn))?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(TapError::Inject { conn, reason }),
            Err(_) => Err(TapError::NoConnection(conn)),
        }
    }

    /// Stops accepting, closes every connection and waits for them to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
