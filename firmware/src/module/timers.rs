//! Deadlines: the connect retry, client expiry, and the next 1-s tick at which anything is due.
//! `run_timers` fires them in time order; `next_deadline` is what `poll_timeout` reports.

use super::Module;
use crate::profile::ExpiryCheck;
use crate::time::Instant;

/// What fires next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timer {
    /// Send CONNECT again.
    Reconnect(Instant),
    /// A client expires (exact expiry check).
    ClientExpiry(Instant),
    /// A 1-s tick (second since boot) with work due.
    Tick(u64),
}

impl Timer {
    fn at(self) -> Instant {
        match self {
            Timer::Reconnect(t) | Timer::ClientExpiry(t) => t,
            Timer::Tick(k) => Instant::from_secs(k),
        }
    }
}

impl Module {
    /// The tick second of the next due tick: passes, the vehicle's per-second tick, or the purge
    /// ticker that will expire a client.
    fn next_tick(&self) -> Option<u64> {
        let base = self.last_tick + 1;
        let mut best = self.next_pass_tick();
        if self.vehicle.as_ref().is_some_and(|v| v.needs_tick()) {
            best = Some(base);
        }
        if self.profile.spec().clients.expiry_check == ExpiryCheck::Ticker {
            if let Some(t) = self.next_client_deadline() {
                let k = t.as_secs().max(base);
                best = Some(best.map_or(k, |b| b.min(k)));
            }
        }
        best
    }

    fn next_timer(&self) -> Option<Timer> {
        let mut cands: [Option<Timer>; 3] = [None; 3];
        cands[0] = self.session.retry_at.map(Timer::Reconnect);
        if self.profile.spec().clients.expiry_check == ExpiryCheck::Exact {
            cands[1] = self.next_client_deadline().map(Timer::ClientExpiry);
        }
        cands[2] = self.next_tick().map(Timer::Tick);
        // Earliest first; on a tie the order above (reconnect, expiry, tick) wins.
        cands.into_iter().flatten().min_by_key(|t| t.at())
    }

    /// The earliest instant at which something is due.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.next_timer().map(Timer::at)
    }

    /// Fire every timer due at or before `now`, in time order, each at its own instant.
    pub(super) fn run_timers(&mut self, now: Instant) {
        while let Some(timer) = self.next_timer() {
            let at = timer.at();
            if at > now {
                break;
            }
            match timer {
                Timer::Reconnect(_) => {
                    self.session.retry_at = None;
                    self.connect(at);
                }
                Timer::ClientExpiry(_) => self.count_clients(at),
                Timer::Tick(k) => {
                    self.process_tick(at);
                    self.last_tick = k;
                }
            }
            self.drain_events(at);
        }
        // Ticks up to `now` that were not due were no-ops: skip them.
        self.last_tick = self.last_tick.max(now.as_secs());
    }

    /// Everything the firmware does on the tick at `now` (a whole second).
    fn process_tick(&mut self, now: Instant) {
        let k = now.as_secs();
        if let Some(v) = self.vehicle.as_mut() {
            let mut out = std::mem::take(&mut self.vehicle_out);
            v.tick(now, &mut out);
            self.apply_vehicle_outputs(now, &mut out);
            self.vehicle_out = out;
        }
        let spec = &self.profile.spec().clients;
        if spec.expiry_check == ExpiryCheck::Ticker && k.is_multiple_of(spec.ticker_secs.max(1)) {
            self.count_clients(now);
        }
        if self.session.is_connected() {
            self.connected_tick(now);
        }
    }
}
