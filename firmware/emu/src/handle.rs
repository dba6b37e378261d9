//! [`spawn`] and [`EmuHandle`]: the public face of the edge runtime.

use std::collections::BTreeMap;

use ovms_firmware::io::Input;
use ovms_firmware::module::Module;
use ovms_firmware::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::{ClockMode, EmuConfig};
use crate::driver::{Command, Driver};
use crate::event::EmuEvent;
use crate::tls::{self, TlsSetupError};

/// Why an [`EmuHandle`] call failed.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    /// TLS could not be set up (bad or missing CA file).
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// [`EmuHandle::advance`] on a module running on the wall clock.
    #[error("advance needs the virtual clock (this module runs on the wall clock)")]
    NotVirtual,
    /// The broker did not answer (CONNACK) or accept queued packets within the barrier timeout.
    /// The input or time step itself has been applied; only the flush is unconfirmed.
    #[error("barrier timeout: {0}")]
    BarrierTimeout(String),
    /// The module's timers did not move forward (a core bug guard; the message names the instant).
    #[error("the module's timers do not advance: {0}")]
    Stuck(String),
    /// The module has lost power ([`EmuHandle::power_cut`]); only queries still answer.
    #[error("the module is powered off")]
    PoweredOff,
    /// The runtime task has stopped.
    #[error("the emulator has stopped")]
    Stopped,
}

/// A running emulated module: one tokio task owning the [`Module`] and its broker connection.
///
/// Every method sends one command to that task and waits for its answer, so calls are applied
/// in the order they are made.
///
/// On the virtual clock, what the broker does happens whenever it happens in wall time: a
/// CONNACK, an incoming PUBLISH or a lost connection is fed to the module at the module time
/// current at that moment (time does not move by itself); timers fire only in
/// [`EmuHandle::advance`]. Broker-side timers (keepalive, will delivery) and rumqttc's PINGREQs
/// run on wall time.
#[derive(Debug)]
pub struct EmuHandle {
    tx: mpsc::Sender<Command>,
    events: broadcast::Sender<EmuEvent>,
    /// Subscribed before the task started: handed out by the first [`EmuHandle::events`] call.
    boot_events: std::sync::Mutex<Option<broadcast::Receiver<EmuEvent>>>,
    task: Option<JoinHandle<()>>,
    clock: ClockMode,
}

/// Start a module against `cfg.broker`. Returns once the task runs; it connects when the core
/// asks (on the wall clock by itself; on the virtual clock once [`EmuHandle::advance`] reaches the
/// core's first connect time).
///
/// Fails only when TLS cannot be set up (`mqtts://` without a usable `--ca`, unless
/// [`crate::tls::TlsVerify::Insecure`]).
pub async fn spawn(cfg: EmuConfig) -> Result<EmuHandle, EmuError> {
    let tls = match (cfg.broker.tls, cfg.tls_verify, &cfg.ca_file) {
        (false, _, _) => None,
        (true, tls::TlsVerify::Insecure, _) => {
            Some(tls::insecure_client_config(cfg.client_auth.as_ref())?)
        }
        (true, tls::TlsVerify::Verify, None) => return Err(TlsSetupError::NoCa.into()),
        (true, tls::TlsVerify::Verify, Some(path)) => {
            Some(tls::client_config(path, cfg.client_auth.as_ref())?)
        }
    };
    let (tx, rx) = mpsc::channel(64);
    let (events, boot_events) = broadcast::channel(4096);
    let clock = cfg.clock;
    let mut module_cfg = cfg.module.clone();
    module_cfg.has_password = cfg.password.is_some();
    let module = Module::new(cfg.profile.clone(), module_cfg, Instant::ZERO);
    let driver = Driver::new(module, cfg, tls, rx, events.clone());
    let task = tokio::spawn(driver.run());
    Ok(EmuHandle {
        tx,
        events,
        boot_events: std::sync::Mutex::new(Some(boot_events)),
        task: Some(task),
        clock,
    })
}

impl EmuHandle {
    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, EmuError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| EmuError::Stopped)?;
        rx.await.map_err(|_| EmuError::Stopped)
    }

    /// The clock mode the module runs on.
    pub fn clock(&self) -> ClockMode {
        self.clock
    }

    /// Virtual clock only: move module time forward by `d`, event by event.
    ///
    /// Guarantee (the harness's virtual-time barrier relies on it): with `t0` = [`EmuHandle::now`]
    /// before the call and `T = t0 + d`,
    /// 1. every module timer due at or before `T` fires at its own instant, in order
    ///    (`handle_timeout(t)` for each `t = poll_timeout()` ≤ `T`), then the module is called at `T`;
    /// 2. after each of those steps, every action is carried out in the order the core emitted it,
    ///    and the next step starts only when the broker link is *settled*: every PUBLISH, SUBSCRIBE
    ///    and DISCONNECT has been written and flushed to the socket (with TLS: through the TLS
    ///    stream), and a CONNECT has its outcome (CONNACK, refusal or failure, fed back to the core
    ///    at the same module instant, whose actions are then settled the same way). Establishing
    ///    a connection therefore takes no module time;
    /// 3. PUBLISHes from the broker are fed at the module time current when they are taken from
    ///    the connection; before each step (and before returning) everything the connection has
    ///    already read from the socket is fed, and the responses are settled too. A PUBLISH still
    ///    in flight in the network or the broker may arrive during a later step: to make sure the
    ///    module has one before time moves, wait for its [`EmuEvent::Received`] first;
    /// 4. it returns the new module time `T` only when the link is settled after the last step.
    ///
    /// "Handed to the socket" means the kernel has the bytes; the broker may not have processed them
    /// yet. A harness that needs delivery should wait for the observer to see the message (or a
    /// later marker). Fails with [`EmuError::BarrierTimeout`] if the broker does not settle within
    /// the configured barrier timeout, and [`EmuError::NotVirtual`] on the wall clock.
    pub async fn advance(&self, d: Duration) -> Result<Instant, EmuError> {
        if self.clock != ClockMode::Virtual {
            return Err(EmuError::NotVirtual);
        }
        self.call(|reply| Command::Advance(d, reply)).await?
    }

    /// Feed one input at the current module time; returns when the resulting actions are settled
    /// (the same guarantee as one step of [`EmuHandle::advance`]).
    pub async fn input(&self, input: Input) -> Result<(), EmuError> {
        self.call(|reply| Command::Input(input, reply)).await?
    }

    /// Feed a CAN frame (bus 0-based) to the vehicle decoder; settles like [`EmuHandle::input`].
    pub async fn can_frame(
        &self,
        bus: u8,
        id: u32,
        extended: bool,
        data: &[u8],
    ) -> Result<(), EmuError> {
        self.input(Input::CanFrame {
            bus,
            id,
            extended,
            data: data.to_vec(),
        })
        .await
    }

    /// Set a metric from its text form, as `metrics set NAME VALUE` does: a known metric parses the
    /// text by its own type; an unknown one becomes an integer, a float or a string, by what the
    /// text parses as. Settles like [`EmuHandle::input`].
    pub async fn set_metric(&self, name: &str, value: &str) -> Result<(), EmuError> {
        self.call(|reply| Command::SetMetric(name.to_string(), value.to_string(), reply))
            .await?
    }

    /// Raise a system event (`vehicle.charge.start`).
    pub async fn event(&self, name: &str) -> Result<(), EmuError> {
        self.input(Input::Event(name.to_string())).await
    }

    /// Raise a notification (`kind` = info, error, alert or data).
    pub async fn notify(&self, kind: &str, subtype: &str, text: &str) -> Result<(), EmuError> {
        self.input(Input::Notify {
            kind: kind.into(),
            subtype: subtype.into(),
            text: text.into(),
        })
        .await
    }

    /// The current module time.
    pub async fn now(&self) -> Result<Instant, EmuError> {
        self.call(Command::Now).await
    }

    /// Every defined metric: name → payload string (`AsString()`), in name order.
    pub async fn metrics(&self) -> Result<BTreeMap<String, String>, EmuError> {
        self.call(Command::Metrics).await
    }

    /// One metric's payload string, `None` when undefined.
    pub async fn metric(&self, name: &str) -> Result<Option<String>, EmuError> {
        Ok(self.metrics().await?.remove(name))
    }

    /// Whether the broker connection is established (CONNACK received and not lost).
    pub async fn is_connected(&self) -> Result<bool, EmuError> {
        self.call(Command::IsConnected).await
    }

    /// Cut the network: the TCP connection is dropped without DISCONNECT (the broker publishes the
    /// will); the module keeps running, is told the connection was lost and reconnects as its
    /// firmware would.
    pub async fn network_cut(&self) -> Result<(), EmuError> {
        self.call(Command::NetworkCut).await?
    }

    /// Cut the power: the TCP connection is dropped without DISCONNECT (the broker publishes the
    /// will) and the module stops: no timers, no inputs, no reconnect. Queries ([`EmuHandle::now`],
    /// [`EmuHandle::metrics`]) still answer with the state at the cut.
    pub async fn power_cut(&self) -> Result<(), EmuError> {
        self.call(Command::PowerCut).await
    }

    /// Receive what the edge reports. The first call returns a receiver that holds every event
    /// since the module booted (up to 4096 of them; older ones are reported as lagged); later
    /// calls receive from the moment of the call.
    pub fn events(&self) -> broadcast::Receiver<EmuEvent> {
        let boot = self.boot_events.lock().ok().and_then(|mut g| g.take());
        boot.unwrap_or_else(|| self.events.subscribe())
    }

    /// Wait (wall time, up to `timeout`) until `rx` yields an event matching `pred`; returns it.
    /// `None` on timeout or when the emulator stopped. Use a receiver taken from
    /// [`EmuHandle::events`] *before* causing the event, so it cannot be missed.
    pub async fn wait_event(
        rx: &mut broadcast::Receiver<EmuEvent>,
        timeout: std::time::Duration,
        pred: impl Fn(&EmuEvent) -> bool,
    ) -> Option<EmuEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Ok(e)) if pred(&e) => return Some(e),
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return None,
            }
        }
    }

    /// Stop the task. The connection is closed without DISCONNECT (the firmware never sends one;
    /// the broker publishes the will).
    pub async fn shutdown(mut self) {
        let _ = self.call(Command::Shutdown).await;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmuHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
