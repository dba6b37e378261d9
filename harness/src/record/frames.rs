//! The frame paths of a wall-clock recording: where a replayed log goes ([`FrameSink`]), where
//! the recorded frames come from ([`FrameSource`]) and the log paced on the wall clock
//! ([`LogFeed`]).
//!
//! The recording loop ([`super::wall`]) is the same for every path:
//!
//! | flags | sink | source |
//! |---|---|---|
//! | `--simulate [HOST:PORT] --replay LOG` | the module's simulate server(s) | [`FrameSource::Sent`]: each frame as sent |
//! | `--can IFACE [--replay LOG]` | SocketCAN `IFACE` (with `--replay`) | [`FrameSource::Heard`]: frames seen on `IFACE` |
//!
//! On SocketCAN the frames sent onto the interface come back to the (separate) listening socket
//! by the kernel's local loopback, so the recording holds exactly what was on the interface: the
//! replayed log and anything else on the bus, stamped with the kernel's receive time.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration as StdDuration;

use ovms_canlog::reader::Frames;
use ovms_canlog::{Frame, ReadOptions};
use ovms_hil_bench::rig::BusLink;
use ovms_hil_bench::simulate::{SimulateClient, SimulateError};
use ovms_hil_bench::BenchRig;
use ovms_replay::socketcan::{AsyncSocketCanSource, SocketCanError, SocketCanSink};

/// Opens `--can IFACE` for listening. The bus number recorded is the rig's bus whose
/// `bench.can.can<N>.socketcan` is `iface` (CAN1 when none is, or the rig is not a bench rig).
pub fn open_socketcan(iface: &str, rig: &Path) -> Result<AsyncSocketCanSource, String> {
    let bus = ovms_hil_bench::load_bench_rig(rig)
        .ok()
        .and_then(|b| {
            b.can
                .iter()
                .find(|c| c.link == BusLink::Socketcan(iface.to_string()))
                .map(|c| c.bus.saturating_sub(1))
        })
        .unwrap_or(0);
    let source = AsyncSocketCanSource::open(iface, bus)
        .map_err(|e| format!("--can {iface}: SocketCAN (AF_CAN): {e}"))?;
    // Bursts must not be dropped while the recorder writes: ask for a large kernel buffer
    // (capped by net.core.rmem_max when not root; a refusal is not fatal).
    let _ = source.set_receive_buffer(4 << 20);
    Ok(source)
}

/// Where the recorded frames come from.
#[derive(Debug)]
pub enum FrameSource {
    /// The frames the recorder sends (`--simulate`), each stamped with the instant its send began
    /// (so anything the module does because of it is stamped later).
    Sent,
    /// The frames seen on a SocketCAN interface (`--can`), with the kernel's receive time.
    Heard(AsyncSocketCanSource),
}

impl FrameSource {
    /// Whether sent frames are recorded as sent (else they are recorded when heard).
    pub fn records_sent(&self) -> bool {
        matches!(self, FrameSource::Sent)
    }

    /// The next heard frame (`ts_ns`: Unix epoch nanoseconds); never resolves for
    /// [`FrameSource::Sent`].
    pub async fn heard(&self) -> Result<Frame, String> {
        match self {
            FrameSource::Sent => std::future::pending().await,
            FrameSource::Heard(s) => s.recv().await.map_err(|e| e.to_string()),
        }
    }
}

/// Where replayed frames go.
#[derive(Debug)]
pub enum FrameSink {
    /// The module's CAN simulate server(s).
    Simulate(SimulateRoute),
    /// A SocketCAN interface.
    SocketCan(SocketCanSink),
}

/// What [`FrameSink::send`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Sent.
    Yes,
    /// The path cannot carry it (remote, error, FD or out-of-range frame on CRTD): skipped.
    Skipped,
}

impl FrameSink {
    /// Send one frame now.
    pub async fn send(&mut self, frame: &Frame) -> Result<Sent, String> {
        if frame.error || frame.rtr {
            return Ok(Sent::Skipped);
        }
        match self {
            FrameSink::Simulate(r) => r.send(frame).await,
            FrameSink::SocketCan(s) => match tokio::task::block_in_place(|| s.send_frame(frame)) {
                Ok(()) => Ok(Sent::Yes),
                Err(SocketCanError::InvalidFrame { .. }) => Ok(Sent::Skipped),
                Err(e) => Err(e.to_string()),
            },
        }
    }

    /// Close the connections (the simulate servers see EOF).
    pub async fn close(self) {
        if let FrameSink::Simulate(r) = self {
            for (_, c) in r.clients {
                let _ = c.close().await;
            }
        }
    }
}

/// Simulate-server addresses by bus: one address for every bus (`--simulate HOST:PORT`), or the
/// rig's `bench.can.can<N>.simulate` per bus (`--simulate` without a value). Connections are
/// opened on first use and kept.
#[derive(Debug)]
pub struct SimulateRoute {
    fixed: Option<String>,
    by_bus: BTreeMap<u8, String>,
    clients: BTreeMap<String, SimulateClient>,
}

impl SimulateRoute {
    /// The route of `--simulate [fixed]` on `rig`; an error when neither names an address.
    pub fn new(fixed: Option<String>, rig: &BenchRig) -> Result<SimulateRoute, String> {
        let by_bus: BTreeMap<u8, String> = rig
            .can
            .iter()
            .filter_map(|c| match &c.link {
                BusLink::Simulate(a) => Some((c.bus.saturating_sub(1), a.clone())),
                BusLink::Socketcan(_) => None,
            })
            .collect();
        if fixed.is_none() && by_bus.is_empty() {
            return Err(format!(
                "{}: --simulate without HOST:PORT needs a bench.can.can<N>.simulate address in the rig",
                rig.path.display()
            ));
        }
        Ok(SimulateRoute {
            fixed,
            by_bus,
            clients: BTreeMap::new(),
        })
    }

    /// Connect now to every address frames may go to (so a missing server fails before the
    /// recording starts).
    pub async fn connect_all(&mut self) -> Result<(), String> {
        let addrs: Vec<String> = match &self.fixed {
            Some(a) => vec![a.clone()],
            None => self.by_bus.values().cloned().collect(),
        };
        for a in addrs {
            self.client(&a).await?;
        }
        Ok(())
    }

    async fn client(&mut self, addr: &str) -> Result<&mut SimulateClient, String> {
        if !self.clients.contains_key(addr) {
            let c = SimulateClient::connect(addr, StdDuration::from_secs(5))
                .await
                .map_err(|e| e.to_string())?;
            self.clients.insert(addr.to_string(), c);
        }
        self.clients
            .get_mut(addr)
            .ok_or_else(|| format!("{addr}: no connection"))
    }

    async fn send(&mut self, frame: &Frame) -> Result<Sent, String> {
        let addr = match (&self.fixed, self.by_bus.get(&frame.bus)) {
            (Some(a), _) | (None, Some(a)) => a.clone(),
            (None, None) => {
                return Err(format!(
                    "the log has a frame on CAN{} but the rig has no bench.can.can{}.simulate \
                     (give --simulate HOST:PORT to send every bus there)",
                    u16::from(frame.bus) + 1,
                    u16::from(frame.bus) + 1
                ))
            }
        };
        match self.client(&addr).await?.send_frame(frame).await {
            Ok(()) => Ok(Sent::Yes),
            Err(SimulateError::Unrepresentable { .. }) => Ok(Sent::Skipped),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A CAN log paced on the wall clock: frame *k* is due at `start + (ts_k - ts_0) / speed`.
pub struct LogFeed {
    frames: Frames,
    first_ns: Option<i64>,
    start: tokio::time::Instant,
    speed: f64,
    next: Option<Frame>,
    done: bool,
}

impl std::fmt::Debug for LogFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogFeed")
            .field("speed", &self.speed)
            .field("done", &self.done)
            .finish()
    }
}

impl LogFeed {
    /// Open `log`; nothing is due before [`LogFeed::start_at`].
    pub fn open(log: &Path, speed: f64) -> Result<LogFeed, String> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(format!("--speed must be a number > 0, got {speed}"));
        }
        let reader = ovms_canlog::open(log, &ReadOptions::default()).map_err(|e| e.to_string())?;
        Ok(LogFeed {
            frames: reader.frames(),
            first_ns: None,
            start: tokio::time::Instant::now(),
            speed,
            next: None,
            done: false,
        })
    }

    /// The first frame is due at `start`.
    pub fn start_at(&mut self, start: tokio::time::Instant) {
        self.start = start;
    }

    /// When the next frame is due; `None` at the end of the log.
    pub fn next_due(&mut self) -> Result<Option<tokio::time::Instant>, String> {
        if self.next.is_none() && !self.done {
            match self.frames.next() {
                Some(Ok(f)) => self.next = Some(f),
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e.to_string());
                }
                None => self.done = true,
            }
        }
        Ok(self.next.as_ref().map(|f| {
            let first = *self.first_ns.get_or_insert(f.ts_ns);
            let offset = u64::try_from(f.ts_ns.saturating_sub(first)).unwrap_or(0);
            self.start + StdDuration::from_nanos((offset as f64 / self.speed) as u64)
        }))
    }

    /// Take the frame [`LogFeed::next_due`] announced.
    pub fn take(&mut self) -> Option<Frame> {
        self.next.take()
    }
}
