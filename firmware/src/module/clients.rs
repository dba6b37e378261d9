//! Client presence: heartbeats, expiry, the peer count `s.v3.peers` and what a change triggers.

use std::collections::BTreeMap;

use super::Module;
use crate::metrics::MetricValue;
use crate::profile::{ExpiryCheck, HeartbeatRule};
use crate::time::{Duration, Instant};

/// One registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// Client id (the topic level after `client/` or `c/`).
    pub id: String,
    /// When it expires without a new heartbeat. With ticker-checked expiry (shipped profiles) it is
    /// purged at the first purge after this instant (`expiry < now` in whole seconds).
    pub expires_at: Instant,
}

/// The client map and the peer count server v3 last saw.
#[derive(Clone, Debug, Default)]
pub(super) struct Clients {
    /// id → expiry (ms since boot; whole seconds in ticker mode).
    map: BTreeMap<String, Instant>,
    /// `m_peers`.
    pub peers: usize,
}

impl Clients {
    pub fn list(&self) -> Vec<ClientInfo> {
        self.map
            .iter()
            .map(|(id, at)| ClientInfo {
                id: id.clone(),
                expires_at: *at,
            })
            .collect()
    }

    /// The earliest expiry, if any client is registered.
    pub fn earliest_expiry(&self) -> Option<Instant> {
        self.map.values().min().copied()
    }
}

impl Module {
    /// A heartbeat payload on `client`'s active topic.
    pub(super) fn on_heartbeat(&mut self, now: Instant, client: &str, payload: &[u8]) {
        let add = match self.profile.spec().clients.heartbeat {
            HeartbeatRule::OneAddsZeroRemoves => match payload {
                b"1" => Some(true),
                b"0" => Some(false),
                _ => None,
            },
            HeartbeatRule::EmptyOrZeroRemoves => Some(!(payload.is_empty() || payload == b"0")),
        };
        match add {
            Some(true) => self.add_client(now, client),
            Some(false) => self.remove_client(now, client),
            None => {}
        }
    }

    fn add_client(&mut self, now: Instant, id: &str) {
        let spec = &self.profile.spec().clients;
        let expiry = match spec.expiry_check {
            ExpiryCheck::Exact => now + Duration::from_secs(spec.expiry_secs),
            // monotonictime (whole seconds) + 120
            ExpiryCheck::Ticker => Instant::from_secs(now.as_secs() + spec.expiry_secs),
        };
        if self.clients.map.insert(id.to_string(), expiry).is_none() {
            self.log_line(now, &format!("MQTT client {id} has connected"));
        }
        self.count_clients(now);
    }

    fn remove_client(&mut self, now: Instant, id: &str) {
        if self.clients.map.remove(id).is_some() {
            self.log_line(now, &format!("MQTT client {id} has disconnected"));
            self.count_clients(now);
        }
    }

    /// Whether a client with this expiry is expired at `now`.
    fn is_expired(&self, expiry: Instant, now: Instant) -> bool {
        match self.profile.spec().clients.expiry_check {
            ExpiryCheck::Exact => expiry <= now,
            ExpiryCheck::Ticker => expiry.as_secs() < now.as_secs(),
        }
    }

    /// `CountClients()`: purge expired clients, update `s.v3.peers`, signal a change.
    pub(super) fn count_clients(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .clients
            .map
            .iter()
            .filter(|(_, at)| self.is_expired(**at, now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.clients.map.remove(&id);
            self.log_line(now, &format!("MQTT client {id} has timed out"));
        }
        let nc = self.clients.map.len();
        self.store_metric("s.v3.peers", MetricValue::Int(nc as i64));
        let old = self.clients.peers;
        let spec = self.profile.spec().clients.clone();
        if spec.app_events {
            if nc == 0 && old != 0 {
                self.raise_event("app.disconnected".into());
            } else if nc > 0 && nc != old {
                self.raise_event("app.connected".into());
            }
        }
        if nc != old && spec.peer_change_resets_timer {
            self.passes.last_tx = None;
        }
        self.clients.peers = nc;
    }

    /// When the next purge can change the count: the exact expiry (draft) or the first purge
    /// ticker after an expiry (shipped).
    pub(super) fn next_client_deadline(&self) -> Option<Instant> {
        let e = self.clients.earliest_expiry()?;
        let spec = &self.profile.spec().clients;
        match spec.expiry_check {
            ExpiryCheck::Exact => Some(e),
            ExpiryCheck::Ticker => {
                let t = spec.ticker_secs.max(1);
                let first = (e.as_secs() + 1).max(self.last_tick + 1);
                Some(Instant::from_secs(first.div_ceil(t) * t))
            }
        }
    }
}
