//! The thin async driver around the sans-IO [`Module`] (quinn's `ConnectionDriver` shape).
//!
//! One task owns the module, the clock and at most one broker connection. It waits on three things:
//! commands from the [`crate::EmuHandle`], events from the connection task, and (wall clock only)
//! the module's next timer. After every input it drains [`Module::poll_action`] in order and turns
//! each action into a rumqttc request.
//!
//! The connection itself is a [`crate::conn::Conn`]; dropping it closes the socket without
//! DISCONNECT.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use ovms_firmware::clock::{Clock as _, SystemClock, VirtualClock};
use ovms_firmware::io::{Action, ConnectOptions, Input};
use ovms_firmware::metrics::MetricValue;
use ovms_firmware::module::Module;
use ovms_firmware::time::{Duration, Instant};
use rumqttc::{ConnectionError, Event, Incoming, Outgoing};
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::broker::BrokerUrl;
use crate::config::{ClockMode, EmuConfig, RetryPolicy};
use crate::conn::{recv_conn, Conn, ConnEvent, Queued};
use crate::event::EmuEvent;
use crate::handle::EmuError;
use crate::mqtt;
use crate::secret::Secret;

/// A request from the handle.
pub(crate) enum Command {
    Advance(Duration, oneshot::Sender<Result<Instant, EmuError>>),
    Input(Input, oneshot::Sender<Result<(), EmuError>>),
    SetMetric(String, String, oneshot::Sender<Result<(), EmuError>>),
    Now(oneshot::Sender<Instant>),
    Metrics(oneshot::Sender<BTreeMap<String, String>>),
    IsConnected(oneshot::Sender<bool>),
    NetworkCut(oneshot::Sender<Result<(), EmuError>>),
    PowerCut(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// Module time source: the firmware crate's clocks.
enum Clock {
    Wall(SystemClock),
    Virtual(VirtualClock),
}

/// Retry state for [`RetryPolicy::Edge`].
struct EdgeRetry {
    at: tokio::time::Instant,
    opts: ConnectOptions,
}

/// Bound on timer steps at one module instant (guards against a core that never moves its deadline).
const MAX_STEPS_PER_INSTANT: u32 = 10_000;

pub(crate) struct Driver {
    module: Module,
    clock: Clock,
    /// Last instant given to the module (time must not go backwards).
    last_now: Instant,
    broker: BrokerUrl,
    tls: Option<Arc<rustls::ClientConfig>>,
    password: Option<Secret>,
    retry: RetryPolicy,
    barrier_timeout: StdDuration,
    conn: Option<Conn>,
    failures: u32,
    edge_retry: Option<EdgeRetry>,
    /// The options of the last CONNECT (retried as is under [`RetryPolicy::Edge`]).
    last_opts: Option<ConnectOptions>,
    powered: bool,
    rx: mpsc::Receiver<Command>,
    events: broadcast::Sender<EmuEvent>,
}

impl Driver {
    pub(crate) fn new(
        mut module: Module,
        cfg: EmuConfig,
        tls: Option<Arc<rustls::ClientConfig>>,
        rx: mpsc::Receiver<Command>,
        events: broadcast::Sender<EmuEvent>,
    ) -> Driver {
        if let Some(vehicle) = cfg.vehicle {
            module.set_vehicle(Instant::ZERO, vehicle);
        }
        let clock = match cfg.clock {
            ClockMode::Wall => Clock::Wall(SystemClock::new()),
            ClockMode::Virtual => Clock::Virtual(VirtualClock::new()),
        };
        let mut d = Driver {
            module,
            clock,
            last_now: Instant::ZERO,
            broker: cfg.broker,
            tls,
            password: cfg.password,
            retry: cfg.retry,
            barrier_timeout: cfg.barrier_timeout,
            conn: None,
            failures: 0,
            edge_retry: None,
            last_opts: None,
            powered: true,
            rx,
            events,
        };
        for (name, text) in cfg.initial_metrics {
            let value = d.metric_value(&name, &text);
            d.module
                .handle(Instant::ZERO, Input::Metric { name, value });
        }
        d
    }

    /// The current module time (monotonic).
    fn now(&mut self) -> Instant {
        let t = match &self.clock {
            Clock::Wall(c) => c.now(),
            Clock::Virtual(c) => c.now(),
        };
        self.last_now = self.last_now.max(t);
        self.last_now
    }

    fn emit(&self, e: EmuEvent) {
        let _ = self.events.send(e);
    }

    /// The wall deadline of the module's next timer (wall clock only).
    fn wall_deadline(&self) -> Option<tokio::time::Instant> {
        let Clock::Wall(clock) = &self.clock else {
            return None;
        };
        if !self.powered {
            return None;
        }
        let t = self.module.poll_timeout()?;
        // Never earlier than 1 ms after the last instant handled (no busy loop on a stale deadline).
        let ms = t.as_millis().max(self.last_now.as_millis() + 1);
        Some(tokio::time::Instant::from_std(
            clock.to_std(Instant::from_millis(ms)),
        ))
    }

    pub(crate) async fn run(mut self) {
        // Boot: let timers due at 0 fire and carry out the first actions.
        let now = self.now();
        self.module.handle_timeout(now);
        self.pump().await;
        loop {
            let deadline = self.wall_deadline();
            let retry_at = self.edge_retry.as_ref().map(|r| r.at);
            tokio::select! {
                cmd = self.rx.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown(reply)) => {
                        self.conn = None;
                        let _ = reply.send(());
                        break;
                    }
                    Some(cmd) => self.command(cmd).await,
                },
                ev = recv_conn(&mut self.conn) => self.on_conn_event(ev).await,
                _ = sleep_until_opt(deadline) => {
                    let now = self.now();
                    self.module.handle_timeout(now);
                    self.pump().await;
                }
                _ = sleep_until_opt(retry_at) => {
                    if let Some(r) = self.edge_retry.take() {
                        self.connect(r.opts);
                        self.pump().await;
                    }
                }
            }
        }
        debug!("emulator task stopped");
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Advance(d, reply) => {
                let r = self.advance(d).await;
                let _ = reply.send(r);
            }
            Command::Input(input, reply) => {
                let r = self.feed(input).await;
                let _ = reply.send(r);
            }
            Command::SetMetric(name, text, reply) => {
                let value = self.metric_value(&name, &text);
                let r = self.feed(Input::Metric { name, value }).await;
                let _ = reply.send(r);
            }
            Command::Now(reply) => {
                let now = if self.powered {
                    self.now()
                } else {
                    self.last_now
                };
                let _ = reply.send(now);
            }
            Command::Metrics(reply) => {
                let m = self.module.metrics();
                let map = m
                    .names()
                    .filter_map(|n| Some((n.to_string(), m.as_string(n)?)))
                    .collect();
                let _ = reply.send(map);
            }
            Command::IsConnected(reply) => {
                let _ = reply.send(self.conn.as_ref().is_some_and(|c| c.connected));
            }
            Command::NetworkCut(reply) => {
                let r = if !self.powered {
                    Err(EmuError::PoweredOff)
                } else {
                    let was = self.conn.take();
                    self.edge_retry = None;
                    match was {
                        Some(c) if c.connected => {
                            drop(c);
                            let now = self.now();
                            let message = format!(
                                "connection to broker {} cut (no DISCONNECT sent)",
                                self.broker
                            );
                            warn!("{message}");
                            self.emit(EmuEvent::ConnectionLost { at: now, message });
                            self.module.handle(now, Input::ConnectionLost);
                            self.pump().await;
                            self.settle().await
                        }
                        Some(c) => {
                            drop(c);
                            let now = self.now();
                            self.module.handle(now, Input::ConnectFailed);
                            self.pump().await;
                            self.settle().await
                        }
                        None => Ok(()),
                    }
                };
                let _ = reply.send(r);
            }
            Command::PowerCut(reply) => {
                if self.powered {
                    self.conn = None;
                    self.edge_retry = None;
                    self.powered = false;
                    let at = self.now();
                    info!(
                        "power cut at {at}: connection dropped without DISCONNECT, module stopped"
                    );
                    self.emit(EmuEvent::PoweredOff { at });
                }
                let _ = reply.send(());
            }
            Command::Shutdown(reply) => {
                let _ = reply.send(());
            }
        }
    }

    /// A metric value from text, as the firmware's `metrics set` parses it: a registered metric
    /// takes the text and parses it by its own type; an unknown one becomes Int, Float or String.
    fn metric_value(&self, name: &str, text: &str) -> MetricValue {
        if self.module.metrics().get(name).is_some() {
            return MetricValue::Str(text.to_string());
        }
        let t = text.trim();
        if let Ok(i) = t.parse::<i64>() {
            MetricValue::Int(i)
        } else if let Ok(f) = t.parse::<f32>() {
            MetricValue::Float(f)
        } else {
            MetricValue::Str(text.to_string())
        }
    }

    async fn feed(&mut self, input: Input) -> Result<(), EmuError> {
        if !self.powered {
            return Err(EmuError::PoweredOff);
        }
        let now = self.now();
        self.module.handle(now, input);
        self.pump().await;
        self.settle().await
    }

    async fn advance(&mut self, d: Duration) -> Result<Instant, EmuError> {
        if !self.powered {
            return Err(EmuError::PoweredOff);
        }
        let Clock::Virtual(clock) = &self.clock else {
            return Err(EmuError::NotVirtual);
        };
        let clock = clock.clone();
        let start = clock.now();
        let target = start + d;
        self.settle().await?;
        let mut steps_here = 0u32;
        let mut last_step = start;
        while let Some(t) = self.module.poll_timeout().filter(|t| *t <= target) {
            let t = t.max(self.last_now);
            if t == last_step {
                steps_here += 1;
                if steps_here > MAX_STEPS_PER_INSTANT {
                    return Err(EmuError::Stuck(format!(
                        "poll_timeout() stays at {t} after handle_timeout({t})"
                    )));
                }
            } else {
                steps_here = 0;
                last_step = t;
            }
            clock.set(t);
            let now = self.now();
            self.module.handle_timeout(now);
            self.pump().await;
            self.settle().await?;
            if !self.powered {
                return Ok(self.last_now);
            }
        }
        clock.set(target);
        let now = self.now();
        self.module.handle_timeout(now);
        self.pump().await;
        self.settle().await?;
        Ok(now)
    }

    /// Wait until the link is settled: every event already read from the connection is fed, no
    /// CONNECT is without outcome, no packet is waiting to be flushed.
    async fn settle(&mut self) -> Result<(), EmuError> {
        let deadline = tokio::time::Instant::now() + self.barrier_timeout;
        loop {
            // First whatever the connection task has already read (incoming PUBLISHes included).
            while let Some(ev) = self.conn.as_mut().and_then(|c| c.rx.try_recv().ok()) {
                self.on_conn_event(ev).await;
            }
            let busy = match &self.conn {
                Some(c) => !c.connected || !c.queue.is_empty(),
                None => false,
            };
            if !busy {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, recv_conn(&mut self.conn)).await {
                Ok(ev) => self.on_conn_event(ev).await,
                Err(_) => {
                    let what = match &self.conn {
                        Some(c) if !c.connected => "no CONNACK".to_string(),
                        Some(c) => {
                            format!("{} packet(s) not yet written to the socket", c.queue.len())
                        }
                        None => "nothing".to_string(),
                    };
                    return Err(EmuError::BarrierTimeout(format!(
                        "broker {}: {what} after {:?}",
                        self.broker, self.barrier_timeout
                    )));
                }
            }
        }
    }

    /// Carry out every action the module has queued, in order.
    async fn pump(&mut self) {
        while let Some(action) = self.module.poll_action() {
            self.execute(action).await;
        }
    }

    async fn execute(&mut self, action: Action) {
        let at = self.last_now;
        match action {
            Action::Connect(opts) => {
                self.edge_retry = None;
                self.connect(opts);
            }
            Action::Subscribe(filters) => {
                let Some(c) = self.conn.as_mut().filter(|c| c.connected) else {
                    debug!("SUBSCRIBE dropped: not connected");
                    return;
                };
                let subs: Vec<_> = filters
                    .iter()
                    .map(|(f, q)| {
                        rumqttc::SubscribeFilter::new(f.clone(), mqtt::to_rumqttc_qos(*q))
                    })
                    .collect();
                match c.client.subscribe_many(subs).await {
                    Ok(()) => c.queue.push_back(Queued::Subscribe(filters)),
                    Err(e) => warn!("SUBSCRIBE {filters:?} not sent: {e}"),
                }
            }
            Action::Publish(p) => {
                let Some(c) = self.conn.as_mut().filter(|c| c.connected) else {
                    debug!("PUBLISH {} dropped: not connected", p.topic);
                    return;
                };
                let r = c
                    .client
                    .publish(
                        p.topic.clone(),
                        mqtt::to_rumqttc_qos(p.qos),
                        p.retain,
                        p.payload.clone(),
                    )
                    .await;
                match r {
                    Ok(()) => c.queue.push_back(Queued::Publish {
                        topic: p.topic,
                        payload: p.payload,
                        qos: p.qos,
                        retain: p.retain,
                    }),
                    Err(e) => warn!("PUBLISH {} not sent: {e}", p.topic),
                }
            }
            Action::Disconnect => {
                let Some(c) = self.conn.as_mut() else { return };
                match c.client.disconnect().await {
                    Ok(()) => c.queue.push_back(Queued::Disconnect),
                    Err(e) => warn!("DISCONNECT not sent: {e}"),
                }
            }
            Action::CanTransmit {
                bus,
                id,
                extended,
                data,
            } => {
                debug!("CAN transmit bus {} id {id:#x} {data:02x?}", bus + 1);
                self.emit(EmuEvent::CanTransmit {
                    at,
                    bus,
                    id,
                    extended,
                    data,
                });
            }
        }
    }

    /// Open a new connection with `opts` (dropping any old one without DISCONNECT).
    fn connect(&mut self, opts: ConnectOptions) {
        self.conn = None;
        let at = self.last_now;
        let options = match mqtt::mqtt_options(
            &opts,
            &self.broker,
            self.tls.as_ref(),
            self.password.as_ref(),
        ) {
            Ok(o) => o,
            Err(e) => {
                // What the broker would answer (identifier rejected), without opening a socket.
                error!("{e}");
                self.module.handle(at, Input::ConnRefused(2));
                return;
            }
        };
        info!(
            "connecting to broker {} as {:?}",
            self.broker, opts.client_id
        );
        self.emit(EmuEvent::Connecting {
            at,
            client_id: opts.client_id.clone(),
        });
        self.conn = Some(Conn::open(options));
        self.last_opts = Some(opts);
    }

    /// One event from the connection task.
    async fn on_conn_event(&mut self, ev: ConnEvent) {
        let at = self.last_now;
        match ev {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                if let Some(c) = self.conn.as_mut() {
                    c.connected = true;
                }
                self.failures = 0;
                info!("connected to broker {}", self.broker);
                self.emit(EmuEvent::Connected { at });
                if self.powered {
                    let now = self.now();
                    self.module.handle(now, Input::ConnAccepted);
                    self.pump().await;
                }
            }
            Ok(Event::Incoming(Incoming::Publish(p))) => {
                let publish = mqtt::incoming_publish(&p);
                debug!(
                    "received {} ({} bytes)",
                    publish.topic,
                    publish.payload.len()
                );
                self.emit(EmuEvent::Received {
                    at,
                    publish: publish.clone(),
                });
                if self.powered {
                    let now = self.now();
                    self.module.handle(now, Input::Publish(publish));
                    self.pump().await;
                }
            }
            Ok(Event::Outgoing(
                out @ (Outgoing::Publish(_) | Outgoing::Subscribe(_) | Outgoing::Disconnect),
            )) => {
                let Some(c) = self.conn.as_mut() else { return };
                let Some(q) = c.queue.pop_front() else {
                    debug!("unexpected {out:?}");
                    return;
                };
                match q {
                    Queued::Publish {
                        topic,
                        payload,
                        qos,
                        retain,
                    } => {
                        self.emit(EmuEvent::Sent {
                            at,
                            topic,
                            payload,
                            qos,
                            retain,
                        });
                    }
                    Queued::Subscribe(filters) => self.emit(EmuEvent::Subscribed { at, filters }),
                    Queued::Disconnect => {
                        self.conn = None;
                        self.emit(EmuEvent::Disconnected { at });
                    }
                }
            }
            Ok(other) => debug!("{other:?}"),
            Err(e) => self.on_failure(&e).await,
        }
    }

    /// The connection task ended with an error: classify, log one line, tell the core (or retry).
    async fn on_failure(&mut self, e: &ConnectionError) {
        let connected = self.conn.as_ref().is_some_and(|c| c.connected);
        self.conn = None;
        let f = mqtt::describe_failure(e, &self.broker, connected);
        let now = self.now();
        if connected {
            match self.profile_retry_delay(&f.input) {
                Some(d) => warn!("{}; reconnecting in {}", f.message, human(d)),
                None => warn!("{}", f.message),
            }
            self.emit(EmuEvent::ConnectionLost {
                at: now,
                message: f.message,
            });
            if self.powered {
                self.module.handle(now, Input::ConnectionLost);
                self.pump().await;
            }
            return;
        }
        self.failures += 1;
        match (self.retry, self.last_opts.clone()) {
            (RetryPolicy::Edge { first, max }, Some(opts)) => {
                let factor = 1u32 << (self.failures - 1).min(16);
                let delay = first.saturating_mul(factor).min(max);
                warn!("{}; retrying in {}", f.message, human(delay));
                self.emit(EmuEvent::ConnectFailed {
                    at: now,
                    message: f.message,
                    retry_in: Some(delay),
                });
                self.edge_retry = Some(EdgeRetry {
                    at: tokio::time::Instant::now() + delay,
                    opts,
                });
            }
            _ => {
                let retry_in = self.profile_retry_delay(&f.input);
                if self.powered {
                    self.module.handle(now, f.input);
                    self.pump().await;
                }
                match retry_in {
                    Some(d) => warn!("{}; retrying in {}", f.message, human(d)),
                    None => warn!("{}; not retrying", f.message),
                }
                self.emit(EmuEvent::ConnectFailed {
                    at: now,
                    message: f.message,
                    retry_in,
                });
            }
        }
    }

    /// The profile's reconnect delay after `input` (the core schedules exactly this).
    fn profile_retry_delay(&self, input: &Input) -> Option<StdDuration> {
        let r = &self.module.profile().spec().session.reconnect_secs;
        let secs = match input {
            Input::ConnRefused(_) => r.refused,
            Input::ConnectFailed => r.connect_failed,
            Input::ConnectionLost => r.connection_lost,
            _ => return None,
        };
        Some(StdDuration::from_secs(secs))
    }
}

/// `20 s`, `1.5 s`, `250 ms`.
fn human(d: StdDuration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{ms} ms")
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(StdDuration::from_secs(20)), "20 s");
        assert_eq!(human(StdDuration::from_millis(1500)), "1.5 s");
        assert_eq!(human(StdDuration::from_millis(250)), "250 ms");
    }
}
