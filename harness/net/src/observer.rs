//! Observer: an MQTT client that subscribes to filters and records what subscribers see
//! (topic, payload, QoS, retain, dup) in memory, on an event channel and in the capture file.
//!
//! It re-subscribes on every CONNACK (rumqttc drops subscriptions on a clean-session reconnect)
//! and sleeps `reconnect_delay` between attempts (rumqttc has no back-off). Messages on the
//! barrier filter are sentinels for [`crate::barrier`]: counted, never recorded as traffic.

use crate::capture::{CaptureRecord, CaptureWriter, Source};
use crate::client::{build, ClientError, ClientOptions, Ev, Link, Loop};
use crate::time::{wall_now, TimeSource};
use crate::topic::topic_matches;
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// Default topic prefix for barrier sentinels.
pub const BARRIER_PREFIX: &str = "ovms-hil/barrier";

/// One message as a subscriber saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS as delivered.
    pub qos: u8,
    /// Retain flag as delivered (true for retained copies sent on subscribe).
    pub retain: bool,
    /// DUP flag as delivered.
    pub dup: bool,
    /// Virtual time, when set.
    pub t: Option<f64>,
    /// Wall-clock Unix seconds.
    pub wall: f64,
}

impl Seen {
    /// The payload as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// How to run an observer.
#[derive(Debug, Clone)]
pub struct ObserverOptions {
    /// Connection options.
    pub client: ClientOptions,
    /// Filters and their subscription QoS.
    pub filters: Vec<(String, u8)>,
    /// MQTT 5 retain-as-published on every filter (ignored for v4).
    pub retain_as_published: bool,
    /// Name in capture records (`conn` field); defaults to the client id.
    pub name: String,
    /// Capture file.
    pub capture: Option<CaptureWriter>,
    /// Virtual time source.
    pub time: TimeSource,
    /// Also subscribe to barrier sentinels below this prefix (`None` = no barrier support).
    pub barrier_prefix: Option<String>,
}

impl ObserverOptions {
    /// Observes `filters` at QoS 2 with the given client options.
    pub fn new(client: ClientOptions, filters: &[&str]) -> Self {
        ObserverOptions {
            name: client.client_id.clone(),
            client,
            filters: filters.iter().map(|f| (f.to_string(), 2)).collect(),
            retain_as_published: false,
            capture: None,
            time: TimeSource::new(),
            barrier_prefix: Some(BARRIER_PREFIX.into()),
        }
    }

    /// Writes what is seen to `capture`.
    pub fn with_capture(mut self, capture: CaptureWriter) -> Self {
        self.capture = Some(capture);
        self
    }

    /// Stamps records with `time`.
    pub fn with_time(mut self, time: TimeSource) -> Self {
        self.time = time;
        self
    }
}

/// Connection state visible to waiters.
#[derive(Debug, Clone, Default)]
struct Status {
    connacks: u64,
    subacks: u64,
    seen: u64,
    sentinels: u64,
    last_error: Option<String>,
    stopped: bool,
}

struct Shared {
    seen: Mutex<Vec<Seen>>,
    sentinels: Mutex<HashSet<String>>,
    status: watch::Sender<Status>,
    events: broadcast::Sender<Seen>,
    closing: AtomicBool,
}

/// A running observer.
pub struct Observer {
    shared: Arc<Shared>,
    link: Link,
    task: JoinHandle<()>,
    name: String,
    barrier_prefix: Option<String>,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("name", &self.name)
            .finish()
    }
}

impl Observer {
    /// Connects and subscribes; returns after the first CONNACK and SUBACK, or the reason the
    /// first connection failed (refused, TLS, network).
    pub async fn connect(opts: ObserverOptions) -> Result<Self, ClientError> {
        let (link, event_loop) = build(&opts.client)?;
        let (status, _) = watch::channel(Status::default());
        let shared = Arc::new(Shared {
            seen: Mutex::new(Vec::new()),
            sentinels: Mutex::new(HashSet::new()),
            status,
            events: broadcast::channel(1024).0,
            closing: AtomicBool::new(false),
        });
        let mut filters = opts.filters.clone();
        if let Some(prefix) = &opts.barrier_prefix {
            filters.push((format!("{prefix}/#"), 0));
        }
        let mut rx = shared.status.subscribe();
        let task = tokio::spawn(run(
            event_loop,
            link.clone(),
            shared.clone(),
            filters,
            opts.clone(),
        ));
        let endpoint = opts.client.endpoint.to_string();
        let first = tokio::time::timeout(opts.client.connect_timeout, async {
            loop {
                {
                    let s = rx.borrow_and_update();
                    if s.connacks > 0 && s.subacks > 0 {
                        return Ok(());
                    }
                    if let Some(e) = &s.last_error {
                        return Err(e.clone());
                    }
                }
                if rx.changed().await.is_err() {
                    return Err("observer task ended".to_string());
                }
            }
        })
        .await;
        let fail = |reason: String| {
            task.abort();
            if reason.starts_with("refused: ") {
                ClientError::Refused {
                    endpoint: endpoint.clone(),
                    reason: reason.trim_start_matches("refused: ").to_string(),
                }
            } else {
                ClientError::Connect {
                    endpoint: endpoint.clone(),
                    reason,
                }
            }
        };
        match first {
            Ok(Ok(())) => Ok(Observer {
                shared,
                link,
                task,
                name: opts.name,
                barrier_prefix: opts.barrier_prefix,
            }),
            Ok(Err(reason)) => Err(fail(reason)),
            Err(_) => {
                task.abort();
                Err(ClientError::Timeout {
                    what: format!("connecting observer to {endpoint}"),
                    timeout: opts.client.connect_timeout,
                })
            }
        }
    }

    /// Observer name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Everything seen so far (sentinels excluded).
    pub fn seen(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Messages seen on topics matching `filter`.
    pub fn seen_on(&self, filter: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| topic_matches(filter, &s.topic))
            .collect()
    }

    /// A live stream of what is seen from now on.
    pub fn events(&self) -> broadcast::Receiver<Seen> {
        self.shared.events.subscribe()
    }

    /// Number of CONNACKs accepted so far (1 after connect; grows with reconnects).
    pub fn connacks(&self) -> u64 {
        self.shared.status.borrow().connacks
    }

    /// Scans messages from index `*from` on for one matching `pred`, advancing `*from`.
    fn scan(&self, from: &Cell<usize>, pred: impl Fn(&Seen) -> bool) -> Option<Seen> {
        let seen = self.shared.seen.lock().unwrap_or_else(|p| p.into_inner());
        let start = from.get().min(seen.len());
        let hit = seen[start..].iter().position(pred);
        match hit {
            Some(i) => {
                from.set(start + i + 1);
                Some(seen[start + i].clone())
            }
            None => {
                from.set(seen.len());
                None
            }
        }
    }

    /// Waits for the first message (already seen or future) matching `pred`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&Seen) -> bool,
    ) -> Result<Seen, ClientError> {
        let what = format!("a matching message at observer {}", self.name);
        let from = Cell::new(0);
        self.wait_status(timeout, what, |_| self.scan(&from, &pred))
            .await
    }

    /// Waits until at least `n` messages on `filter` were seen; returns them.
    pub async fn wait_count(
        &self,
        filter: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Seen>, ClientError> {
        let what = format!("{n} message(s) on {filter} at observer {}", self.name);
        let from = Cell::new(0);
        let count = Cell::new(0usize);
        self.wait_status(timeout, what, |_| {
            while self
                .scan(&from, |s| topic_matches(filter, &s.topic))
                .is_some()
            {
                count.set(count.get() + 1);
            }
            (count.get() >= n).then(|| self.seen_on(filter))
        })
        .await
    }

    /// Asserts that nothing arrives on `filter` for `duration`; returns the first offender.
    pub async fn expect_silence(&self, filter: &str, duration: Duration) -> Result<(), Seen> {
        let from = Cell::new(self.shared.seen.lock().map(|v| v.len()).unwrap_or(0));
        let r = self
            .wait_status(duration, String::new(), |_| {
                self.scan(&from, |s| topic_matches(filter, &s.topic))
            })
            .await;
        match r {
            Ok(s) => Err(s),
            Err(_) => Ok(()),
        }
    }

    /// Waits until the observer has (re)connected `n` times in total and re-subscribed.
    pub async fn wait_connacks(&self, n: u64, timeout: Duration) -> Result<(), ClientError> {
        let what = format!("CONNACK #{n} at observer {}", self.name);
        self.wait_status(timeout, what, |s| {
            (s.connacks >= n && s.subacks >= n).then_some(())
        })
        .await
    }

    /// Publishes through the observer's own connection (used for barrier round trips).
    pub async fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        qos: u8,
        retain: bool,
    ) -> Result<(), ClientError> {
        self.link
            .publish(topic, payload.to_vec(), qos, retain)
            .await
            .map_err(|_| ClientError::Closed(self.name.clone()))
    }

    /// Barrier topic prefix this observer listens on.
    pub fn barrier_prefix(&self) -> Option<&str> {
        self.barrier_prefix.as_deref()
    }

    /// Waits until the sentinel `topic` has been received.
    pub async fn wait_sentinel(&self, topic: &str, timeout: Duration) -> Result<(), ClientError> {
        let what = format!("barrier sentinel {topic} at observer {}", self.name);
        self.wait_status(timeout, what, |_| {
            self.shared
                .sentinels
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(topic)
                .then_some(())
        })
        .await
    }

    async fn wait_status<T>(
        &self,
        timeout: Duration,
        what: String,
        check: impl Fn(&Status) -> Option<T>,
    ) -> Result<T, ClientError> {
        let mut rx = self.shared.status.subscribe();
        let fut = async {
            loop {
                let status = rx.borrow_and_update().clone();
                if let Some(v) = check(&status) {
                    return Some(v);
                }
                if status.stopped || rx.changed().await.is_err() {
                    return None;
                }
            }
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(ClientError::Closed(self.name.clone())),
            Err(_) => Err(ClientError::Timeout { what, timeout }),
        }
    }

    /// Disconnects gracefully and stops the event loop.
    pub async fn close(self) {
        self.shared.closing.store(true, Ordering::Release);
        let _ = self.link.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            let mut rx = self.shared.status.subscribe();
            while !rx.borrow_and_update().stopped {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        self.task.abort();
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    mut event_loop: Loop,
    link: Link,
    shared: Arc<Shared>,
    filters: Vec<(String, u8)>,
    opts: ObserverOptions,
) {
    let sentinel_filter = opts.barrier_prefix.as_ref().map(|p| format!("{p}/#"));
    loop {
        match event_loop.poll().await {
            Ev::ConnAck(Ok(())) => {
                let r = link.try_subscribe(&filters, opts.retain_as_published);
                shared.status.send_modify(|s| {
                    s.connacks += 1;
                    if let Err(e) = r {
                        s.last_error = Some(format!("subscribe: {e}"));
                    }
                });
            }
            Ev::ConnAck(Err(reason)) => {
                shared
                    .status
                    .send_modify(|s| s.last_error = Some(format!("refused: {reason}")));
                if !opts.client.reconnect || shared.status.borrow().connacks == 0 {
                    break;
                }
                tokio::time::sleep(opts.client.reconnect_delay).await;
            }
            Ev::SubAck => shared.status.send_modify(|s| s.subacks += 1),
            Ev::Publish(r) => {
                if sentinel_filter
                    .as_deref()
                    .is_some_and(|f| topic_matches(f, &r.topic))
                {
                    shared
                        .sentinels
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(r.topic);
                    shared.status.send_modify(|s| s.sentinels += 1);
                    continue;
                }
                let seen = Seen {
                    topic: r.topic,
                    payload: r.payload,
                    qos: r.qos,
                    retain: r.retain,
                    dup: r.dup,
                    t: opts.time.virtual_secs(),
                    wall: wall_now(),
                };
                if let Some(cap) = &opts.capture {
                    let mut rec = CaptureRecord::new(Source::Observer, seen.t, seen.wall)
                        .with_payload(&seen.payload);
                    rec.kind = Some("publish".into());
                    rec.conn = Some(opts.name.clone());
                    rec.topic = Some(seen.topic.clone());
                    rec.qos = Some(seen.qos);
                    rec.retain = Some(seen.retain);
                    rec.dup = Some(seen.dup);
                    if let Err(e) = cap.write(&rec) {
                        tracing::warn!("capture write failed: {e}");
                    }
                }
                shared
                    .seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(seen.clone());
                let _ = shared.events.send(seen);
                shared.status.send_modify(|s| s.seen += 1);
            }
            Ev::Error(e) => {
                let stop = shared.closing.load(Ordering::Acquire)
                    || !opts.client.reconnect
                    || shared.status.borrow().connacks == 0;
                shared.status.send_modify(|s| s.last_error = Some(e));
                if stop {
                    break;
                }
                tokio::time::sleep(opts.client.reconnect_delay).await;
            }
            Ev::PubDone | Ev::Other => {}
        }
    }
    shared.status.send_modify(|s| s.stopped = true);
}
