//! State shared by the accept loop, the connection pumps and the `Tap` handle.

use super::event::{TapEvent, TapEventKind};
use super::fault::{Faults, PacketHook, Verdict};
use super::Direction;
use crate::capture::CaptureWriter;
use crate::codec::Version;
use crate::time::{wall_now, TimeSource};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How a connection is being ended from outside its pumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// Power cut: RST on both sides.
    Cut,
    /// Protocol error or shutdown: ordinary close.
    Plain(&'static str),
}

/// A request to inject a sentinel PUBLISH into a connection's module → broker stream.
pub(crate) struct Inject {
    pub topic: String,
    pub done: oneshot::Sender<Result<(), String>>,
}

/// Control handles of one open connection.
pub(crate) struct ConnCtl {
    pub close: watch::Sender<Option<Close>>,
    pub inject: mpsc::Sender<Inject>,
    /// Protocol version once CONNECT was seen (shared with the pumps).
    pub version: std::sync::Arc<Mutex<Option<Version>>>,
    /// Packet ids of module QoS 2 PUBLISHes whose PUBREL has not passed yet.
    pub pending_qos2: std::sync::Arc<Mutex<std::collections::HashSet<u16>>>,
}

/// Counters of what passed the tap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TapStats {
    /// Connections accepted.
    pub connections: u64,
    /// PUBLISH packets from modules forwarded to the broker (sentinels excluded).
    pub publishes_to_broker: u64,
    /// PUBLISH packets from the broker forwarded to modules.
    pub publishes_to_client: u64,
    /// Packets swallowed by half-open.
    pub dropped: u64,
    /// Malformed streams seen.
    pub malformed: u64,
}

pub(crate) struct TapShared {
    pub events: broadcast::Sender<TapEvent>,
    pub history: Mutex<Vec<TapEvent>>,
    pub capture: Option<CaptureWriter>,
    pub time: TimeSource,
    pub faults: watch::Sender<Faults>,
    pub conns: Mutex<BTreeMap<u64, ConnCtl>>,
    pub next_conn: AtomicU64,
    pub stats: Mutex<TapStats>,
    pub max_packet: usize,
    /// Bumped on every recorded event so waiters can re-check history.
    pub changed: watch::Sender<u64>,
    /// Optional per-packet fault hook.
    pub hook: Mutex<Option<PacketHook>>,
}

impl std::fmt::Debug for TapShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapShared").finish_non_exhaustive()
    }
}

impl TapShared {
    pub(crate) fn new(capture: Option<CaptureWriter>, time: TimeSource, max_packet: usize) -> Self {
        TapShared {
            events: broadcast::channel(4096).0,
            history: Mutex::new(Vec::new()),
            capture,
            time,
            faults: watch::channel(Faults::default()).0,
            conns: Mutex::new(BTreeMap::new()),
            next_conn: AtomicU64::new(1),
            stats: Mutex::new(TapStats::default()),
            max_packet,
            changed: watch::channel(0).0,
            hook: Mutex::new(None),
        }
    }

    /// Records an event: history, channel, capture file, counters.
    pub(crate) fn record(&self, conn: u64, dir: Direction, kind: TapEventKind) {
        let ev = TapEvent {
            conn,
            dir,
            t: self.time.virtual_secs(),
            wall: wall_now(),
            kind,
        };
        {
            let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            match &ev.kind {
                TapEventKind::Accepted { .. } => st.connections += 1,
                TapEventKind::Malformed { .. } => st.malformed += 1,
                TapEventKind::Packet {
                    forwarded: false, ..
                } => st.dropped += 1,
                TapEventKind::Packet {
                    packet: crate::codec::Packet::Publish(_),
                    injected: false,
                    ..
                } => match dir {
                    Direction::ToBroker => st.publishes_to_broker += 1,
                    Direction::ToClient => st.publishes_to_client += 1,
                },
                _ => {}
            }
        }
        if let Some(cap) = &self.capture {
            if let Err(e) = cap.write(&ev.to_record()) {
                tracing::warn!("tap capture write failed: {e}");
            }
        }
        self.history
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(ev.clone());
        let _ = self.events.send(ev);
        self.changed.send_modify(|n| *n += 1);
    }

    /// Asks the hook (if any) what to do with `packet`.
    pub(crate) fn hook_verdict(&self, dir: Direction, packet: &crate::codec::Packet) -> Verdict {
        let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match hook {
            Some(h) => h(dir, packet),
            None => Verdict::Pass,
        }
    }

    /// Signals every open connection to close abruptly.
    pub(crate) fn cut_all(&self) -> usize {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        for c in conns.values() {
            let _ = c.close.send(Some(Close::Cut));
        }
        conns.len()
    }

    /// Signals every open connection to close normally.
    pub(crate) fn close_all(&self, why: &'static str) {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        for c in conns.values() {
            let _ = c.close.send(Some(Close::Plain(why)));
        }
    }
}
