//! Run-time fault settings and the handle that changes them.
//!
//! - **cut**: every open connection is closed abruptly on both sides (RST, no DISCONNECT), as if
//!   the module lost power: the broker sends the will at once. New connections pass.
//! - **half-open**: packets are read but no longer forwarded in either direction and no socket
//!   is closed (a dead network): the broker only notices via keepalive (1.5 × keepalive) and then
//!   sends the will. A side that closes meanwhile is not reported to the other until `heal`.
//!   Connections accepted while half-open are black-holed too.
//! - **delay**: each packet waits this long before it is forwarded (order is kept).
//! - **hook**: a function sees every decoded packet and returns a [`Verdict`]: pass, drop,
//!   replace or delay it (e.g. drop one PUBACK to make the module retransmit with DUP).

use super::shared::TapShared;
use super::Direction;
use crate::codec::Packet;
use std::sync::Arc;
use std::time::Duration;

/// What a packet hook decides for one packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Forward unchanged.
    Pass,
    /// Swallow it (recorded with `forwarded: false`).
    Drop,
    /// Forward this packet instead (the original is recorded as not forwarded, the
    /// replacement as injected).
    Replace(Packet),
    /// Forward after this extra delay.
    Delay(Duration),
}

/// A packet hook: called for every packet in both directions (not for packets swallowed by
/// half-open, nor for barrier sentinels).
pub type PacketHook = Arc<dyn Fn(Direction, &Packet) -> Verdict + Send + Sync>;

/// Current fault settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Black-hole both directions, keep sockets open.
    pub half_open: bool,
    /// Delay before forwarding each module → broker packet.
    pub delay_to_broker: Duration,
    /// Delay before forwarding each broker → module packet.
    pub delay_to_client: Duration,
}

impl Faults {
    /// Delay for `dir`.
    pub fn delay(&self, dir: Direction) -> Duration {
        match dir {
            Direction::ToBroker => self.delay_to_broker,
            Direction::ToClient => self.delay_to_client,
        }
    }
}

/// Changes the tap's faults at run time (cheap to clone).
#[derive(Debug, Clone)]
pub struct FaultHandle {
    pub(crate) shared: Arc<TapShared>,
}

impl FaultHandle {
    /// Closes every open connection abruptly on both sides; returns how many were cut.
    pub fn cut(&self) -> usize {
        self.shared.cut_all()
    }

    /// Stops forwarding in both directions while keeping sockets open.
    pub fn half_open(&self) {
        self.shared.faults.send_modify(|f| f.half_open = true);
    }

    /// Ends half-open: forwarding resumes, and closes that happened meanwhile propagate.
    pub fn heal(&self) {
        self.shared.faults.send_modify(|f| f.half_open = false);
    }

    /// Delays every packet in `dir` by `d` (zero to stop delaying).
    pub fn set_delay(&self, dir: Direction, d: Duration) {
        self.shared.faults.send_modify(|f| match dir {
            Direction::ToBroker => f.delay_to_broker = d,
            Direction::ToClient => f.delay_to_client = d,
        });
    }

    /// Installs a packet hook (replacing any previous one).
    pub fn set_hook(&self, hook: impl Fn(Direction, &Packet) -> Verdict + Send + Sync + 'static) {
        *self.shared.hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(hook));
    }

    /// Removes the packet hook.
    pub fn clear_hook(&self) {
        *self.shared.hook.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Current settings.
    pub fn current(&self) -> Faults {
        *self.shared.faults.borrow()
    }
}
