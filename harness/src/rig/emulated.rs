//! The in-process rig: ovms-emu's edge runtime in this process, on the virtual clock.
//!
//! The edge's event stream is read into a log: the module time and topic of every PUBLISH handed to
//! the socket (to time-stamp what the tap saw) and a count of incoming publishes fed to the module
//! (the barrier for app-client messages). Waiting for a count awaits the stream, never sleeps.

use std::time::Duration as StdDuration;

use ovms_emu::{spawn, BrokerUrl, ClockMode, EmuConfig, EmuEvent, EmuHandle, Secret};
use ovms_firmware::module::ModuleConfig;
use ovms_firmware::time::{Duration, Instant};
use ovms_firmware::vehicle::Vehicle;
use tokio::sync::broadcast;

use super::ModuleSetup;

/// Log of what the edge reported.
#[derive(Debug, Default)]
pub struct EdgeLog {
    /// (module time, topic) of every PUBLISH handed to the socket, in order.
    pub sent: Vec<(Instant, String)>,
    /// Incoming publishes fed to the module.
    pub received: usize,
}

impl EdgeLog {
    fn record(&mut self, ev: EmuEvent) {
        match ev {
            EmuEvent::Sent { at, topic, .. } => self.sent.push((at, topic)),
            EmuEvent::Received { .. } => self.received += 1,
            _ => {}
        }
    }
}

/// The in-process emulated module.
#[derive(Debug)]
pub struct Emulated {
    handle: EmuHandle,
    events: tokio::sync::Mutex<(broadcast::Receiver<EmuEvent>, EdgeLog)>,
}

impl Emulated {
    /// Spawn the module against `setup.broker_url` (the scenario's tap), on the virtual clock.
    pub async fn start(setup: ModuleSetup) -> Result<Emulated, String> {
        Emulated::start_with_vehicle(setup, None, true).await
    }

    /// Spawn the module with a vehicle decoder, on the virtual clock or the wall clock.
    pub async fn start_with_vehicle(
        setup: ModuleSetup,
        vehicle: Option<Box<dyn Vehicle>>,
        virtual_clock: bool,
    ) -> Result<Emulated, String> {
        let url: BrokerUrl = setup.broker_url.parse().map_err(|e| format!("{e}"))?;
        let module = ModuleConfig {
            vehicle_id: setup.vehicle_id.clone(),
            username: setup.user.clone(),
            has_password: setup.password.is_some(),
            client_id: None,
            topic_prefix: None,
            keepalive_secs: setup.keepalive_secs,
            params: setup.params.clone(),
            ..ModuleConfig::default()
        };
        let mut cfg = EmuConfig::new(url, setup.profile, module);
        cfg.clock = if virtual_clock {
            ClockMode::Virtual
        } else {
            ClockMode::Wall
        };
        cfg.vehicle = vehicle;
        cfg.password = setup.password.map(Secret::new);
        cfg.initial_metrics = setup.initial_metrics;
        cfg.barrier_timeout = setup.barrier_timeout;
        let handle = spawn(cfg).await.map_err(|e| e.to_string())?;
        let events = handle.events();
        Ok(Emulated {
            handle,
            events: tokio::sync::Mutex::new((events, EdgeLog::default())),
        })
    }

    /// The edge handle (for everything the rig does not wrap).
    pub fn handle(&self) -> &EmuHandle {
        &self.handle
    }

    /// Move module time by `d` (see `EmuHandle::advance` for the guarantee: when it returns, every
    /// resulting PUBLISH was handed to the socket and reported on the event stream).
    pub async fn advance(&self, d: Duration) -> Result<Instant, String> {
        self.handle.advance(d).await.map_err(|e| e.to_string())
    }

    /// Current module time.
    pub async fn now(&self) -> Result<Instant, String> {
        self.handle.now().await.map_err(|e| e.to_string())
    }

    /// Take everything the edge reported so far into the log, then read it.
    fn with_log<T>(&self, f: impl FnOnce(&EdgeLog) -> T) -> T {
        match self.events.try_lock() {
            Ok(mut guard) => {
                let (rx, log) = &mut *guard;
                pump(rx, log);
                f(log)
            }
            // Only one step of a scenario runs at a time; a held lock means a wait is in progress.
            Err(_) => f(&EdgeLog::default()),
        }
    }

    /// (module time, topic) of every PUBLISH handed to the socket so far.
    pub fn sent_log(&self) -> Vec<(Instant, String)> {
        self.with_log(|l| l.sent.clone())
    }

    /// Number of PUBLISHes the edge reported as handed to the socket.
    pub fn sent_count(&self) -> usize {
        self.with_log(|l| l.sent.len())
    }

    /// Number of incoming publishes fed to the module.
    pub fn received_count(&self) -> usize {
        self.with_log(|l| l.received)
    }

    /// Wait (on the event stream, no polling) until `n` incoming publishes were fed to the module,
    /// or `timeout` passes; the error is the count reached.
    pub async fn wait_received(&self, n: usize, timeout: StdDuration) -> Result<(), usize> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut guard = self.events.lock().await;
        let (rx, log) = &mut *guard;
        loop {
            pump(rx, log);
            if log.received >= n {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Ok(ev)) => log.record(ev),
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return Err(log.received),
            }
        }
    }

    /// Set a metric from text.
    pub async fn set_metric(&self, name: &str, value: &str) -> Result<(), String> {
        self.handle
            .set_metric(name, value)
            .await
            .map_err(|e| e.to_string())
    }

    /// A metric's current payload string in the module (`None` when undefined).
    pub async fn metric(&self, name: &str) -> Result<Option<String>, String> {
        self.handle.metric(name).await.map_err(|e| e.to_string())
    }

    /// Feed a CAN frame.
    pub async fn can_frame(
        &self,
        bus: u8,
        id: u32,
        extended: bool,
        data: &[u8],
    ) -> Result<(), String> {
        self.handle
            .can_frame(bus, id, extended, data)
            .await
            .map_err(|e| e.to_string())
    }

    /// Raise a notification.
    pub async fn notify(&self, kind: &str, subtype: &str, text: &str) -> Result<(), String> {
        self.handle
            .notify(kind, subtype, text)
            .await
            .map_err(|e| e.to_string())
    }

    /// Cut the power (no DISCONNECT; the broker publishes the will).
    pub async fn power_cut(&self) -> Result<(), String> {
        self.handle.power_cut().await.map_err(|e| e.to_string())
    }

    /// Cut the network (no DISCONNECT); the module reconnects as its firmware would.
    pub async fn network_cut(&self) -> Result<(), String> {
        self.handle.network_cut().await.map_err(|e| e.to_string())
    }

    /// Stop the module.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// Move every event already on the stream into the log.
fn pump(rx: &mut broadcast::Receiver<EmuEvent>, log: &mut EdgeLog) {
    loop {
        match rx.try_recv() {
            Ok(ev) => log.record(ev),
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                eprintln!("emulator event log lagged by {n} events; some timestamps are missing");
            }
            Err(_) => break,
        }
    }
}
