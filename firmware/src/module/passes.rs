//! Metric passes and their cadence: the full pass ("send all"), the modified pass, the interval
//! rule, and the 1-s tick that decides which runs (`Ticker1`).

use super::Module;
use crate::metrics::MetricValue;
use crate::profile::{
    CadenceCondition, CadenceRule, ConnectedPublish, DueCompare, FullPassQualifies,
};
use crate::time::Instant;

/// Pass bookkeeping, in whole seconds since boot (`None` = never / reset to 0 in the firmware).
#[derive(Clone, Debug, Default)]
pub(super) struct PassState {
    /// Start of the last full pass (`m_lasttx_sendall`); `None` also while a chunked pass is unfinished.
    pub last_full: Option<u64>,
    /// Last transmission (`m_lasttx`); `None` = a modified pass is due on the next tick.
    pub last_tx: Option<u64>,
    /// Last priority pass (`m_lasttx_priority`); `None` = a priority pass is due (3.3.006).
    pub last_prio: Option<u64>,
    /// Resume position of a chunked full pass.
    pub full_index: usize,
    /// Resume position of a chunked modified pass.
    pub mod_index: usize,
    /// Number of full passes started (chunks of one pass count once).
    pub full_passes: u64,
    /// Number of modified passes run.
    pub modified_passes: u64,
}

impl PassState {
    /// Forget chunk positions (on connect and disconnect).
    pub fn reset_chunks(&mut self) {
        self.full_index = 0;
        self.mod_index = 0;
    }
}

fn due(compare: DueCompare, k: u64, last: u64, interval: u64) -> bool {
    match compare {
        DueCompare::AtLeast => k >= last + interval,
        DueCompare::Greater => k > last + interval,
    }
}

/// The first tick second at which `due` holds.
fn first_due(compare: DueCompare, last: u64, interval: u64) -> u64 {
    match compare {
        DueCompare::AtLeast => last + interval,
        DueCompare::Greater => last + interval + 1,
    }
}

impl Module {
    /// The modified-pass interval (`next`) from the vehicle state and the peer count.
    pub(super) fn modified_interval(&self) -> u64 {
        let cad = &self.profile.spec().cadence;
        let applies = |c: CadenceCondition| match c {
            CadenceCondition::On => self.metrics.is_true("v.e.on"),
            CadenceCondition::Charging => self.metrics.is_true("v.c.charging"),
            CadenceCondition::Connected => self.clients.peers > 0,
            CadenceCondition::Awake => self.metrics.is_true("v.e.awake"),
        };
        let param = |c: CadenceCondition| {
            self.param_u64(match c {
                CadenceCondition::On => "updatetime.on",
                CadenceCondition::Charging => "updatetime.charging",
                CadenceCondition::Connected => "updatetime.connected",
                CadenceCondition::Awake => "updatetime.awake",
            })
        };
        let idle = self.param_u64("updatetime.idle");
        match cad.rule {
            CadenceRule::Minimum => [
                CadenceCondition::Connected,
                CadenceCondition::On,
                CadenceCondition::Charging,
                CadenceCondition::Awake,
            ]
            .into_iter()
            .filter(|c| applies(*c))
            .map(param)
            .fold(idle, u64::min),
            CadenceRule::FirstMatch => cad
                .order
                .iter()
                .find(|c| applies(**c))
                .map(|c| param(*c))
                .unwrap_or(idle),
        }
    }

    fn full_pass_due(&self, k: u64) -> bool {
        let Some(last) = self.passes.last_full else {
            return true;
        };
        let sendall = self.param_u64("updatetime.sendall");
        if sendall == 0 {
            return self.profile.spec().cadence.sendall_zero_every_tick;
        }
        due(self.profile.spec().cadence.compare, k, last, sendall)
    }

    fn has_priority_path(&self) -> bool {
        self.profile.spec().passes.priority_metrics.is_some()
    }

    /// Whether the periodic priority pass applies (`updatetime.priority` and `v.e.awake`).
    fn priority_periodic(&self) -> bool {
        self.param_bool("updatetime.priority", false) && self.metrics.is_true("v.e.awake")
    }

    fn priority_pass_due(&self, k: u64) -> bool {
        if !self.has_priority_path() {
            return false;
        }
        match self.passes.last_prio {
            None => true,
            Some(last) => self.priority_periodic() && k > last + self.param_u64("updatetime.on"),
        }
    }

    fn modified_pass_due(&self, k: u64, next: u64) -> bool {
        match self.passes.last_tx {
            None => true,
            Some(last) => due(self.profile.spec().cadence.compare, k, last, next),
        }
    }

    /// The next tick second (> `last_tick`) at which the connected tick does something.
    pub(super) fn next_pass_tick(&self) -> Option<u64> {
        if !self.session.is_connected() {
            return None;
        }
        let base = self.last_tick + 1;
        if self.session.connect_work_pending || self.notes_pending_on_tick() {
            return Some(base);
        }
        let compare = self.profile.spec().cadence.compare;
        let full = match self.passes.last_full {
            None => Some(base),
            Some(last) => match self.param_u64("updatetime.sendall") {
                0 if self.profile.spec().cadence.sendall_zero_every_tick => Some(base),
                0 => None,
                s => Some(first_due(compare, last, s)),
            },
        };
        let mut modified = match self.passes.last_tx {
            None => base,
            Some(last) => first_due(compare, last, self.modified_interval()),
        };
        if self.has_priority_path() {
            match self.passes.last_prio {
                None => modified = base,
                Some(last) if self.priority_periodic() => {
                    modified = modified.min(last + self.param_u64("updatetime.on") + 1);
                }
                Some(_) => {}
            }
        }
        let t = full.map_or(modified, |f| f.min(modified));
        Some(t.max(base))
    }

    /// One connected 1-s tick at second `k` (the firmware's `Ticker1` body).
    pub(super) fn connected_tick(&mut self, now: Instant) {
        let k = now.as_secs();
        let next = self.modified_interval();
        if self.session.connect_work_pending {
            self.connect_work(now);
        }
        self.tick_notifications(now);
        if self.full_pass_due(k) {
            self.passes.last_full = Some(k);
            self.passes.last_prio = Some(k);
            self.passes.last_tx = Some(k);
            self.full_pass(now);
        } else if self.priority_pass_due(k) {
            self.passes.last_prio = Some(k);
            self.priority_pass(now);
        } else if self.modified_pass_due(k, next) {
            self.passes.last_tx = Some(k);
            self.modified_pass(now);
        }
    }

    fn refresh_monotonic(&mut self, now: Instant) {
        if self.config.monotonic_metric {
            self.metrics
                .set("m.monotonic", MetricValue::Int(now.as_secs() as i64));
        }
    }

    /// A `server.v3` chunk size param, when the profile chunks passes.
    fn chunk(&self, profile_default: Option<usize>, param: &str) -> Option<usize> {
        profile_default.map(|_| self.param_u64(param).max(1) as usize)
    }

    /// The full pass (`TransmitAllMetrics`): sorted walk, clear each modified bit, publish the
    /// qualifying ones; chunked where the profile says, resuming at the next call.
    pub(super) fn full_pass(&mut self, now: Instant) {
        if !self.session.is_connected() {
            return;
        }
        let spec = self.profile.spec();
        let purge = spec.clients.purge_before_pass;
        let qualifies = spec.passes.full_qualifies;
        let skip_connected = spec.session.connected_publish == ConnectedPublish::AfterConnack;
        let chunk = self.chunk(spec.passes.full_chunk, "queue.sendall");
        if purge {
            self.count_clients(now);
        }
        self.refresh_monotonic(now);
        if self.passes.full_index == 0 {
            self.passes.full_passes += 1;
        }
        let fixed = self.metrics.latlon_fixed6();
        let start = self.passes.full_index.min(self.metrics.len());
        let mut out: Vec<(String, String)> = Vec::new();
        let mut idx = start;
        for (name, metric) in self.metrics.iter().skip(start) {
            idx += 1;
            if !(skip_connected && name == "s.v3.connected") {
                if let Some(text) = metric.render(fixed) {
                    let ok = match qualifies {
                        FullPassQualifies::Defined => true,
                        FullPassQualifies::NonEmpty => !text.is_empty(),
                    };
                    if ok && self.filter.check(name) {
                        out.push((name.to_string(), text));
                    }
                }
            }
            if chunk.is_some_and(|c| out.len() >= c) {
                break;
            }
        }
        let total = self.metrics.len();
        for name in self
            .metrics
            .names()
            .skip(start)
            .take(idx - start)
            .map(str::to_string)
            .collect::<Vec<_>>()
        {
            self.metrics.clear_modified(&name);
        }
        for (name, text) in out {
            self.publish_metric(&name, text);
        }
        if idx >= total {
            self.passes.full_index = 0;
        } else {
            self.passes.full_index = idx;
            self.passes.last_full = None;
        }
    }

    /// The modified pass (`TransmitModifiedMetrics`): sorted walk, test-and-clear, publish.
    pub(super) fn modified_pass(&mut self, now: Instant) {
        if !self.session.is_connected() {
            return;
        }
        let spec = self.profile.spec();
        let purge = spec.clients.purge_before_pass;
        let requires_defined = spec.passes.modified_requires_defined;
        let chunk = self.chunk(spec.passes.modified_chunk, "queue.modified");
        if purge {
            self.count_clients(now);
        }
        self.refresh_monotonic(now);
        self.passes.modified_passes += 1;
        let fixed = self.metrics.latlon_fixed6();
        let start = self.passes.mod_index.min(self.metrics.len());
        let mut idx = start;
        let mut taken: Vec<String> = Vec::new();
        let mut out: Vec<(String, String)> = Vec::new();
        for (name, metric) in self.metrics.iter().skip(start) {
            idx += 1;
            if metric.is_modified() {
                taken.push(name.to_string());
                if let Some(text) = metric.render(fixed) {
                    out.push((name.to_string(), text));
                } else if !requires_defined {
                    out.push((name.to_string(), String::new()));
                }
            }
            if chunk.is_some_and(|c| out.len() >= c) {
                break;
            }
        }
        let total = self.metrics.len();
        for name in &taken {
            self.metrics.take_modified(name);
        }
        for (name, text) in out {
            self.publish_metric(&name, text);
        }
        if idx >= total {
            self.passes.mod_index = 0;
        } else {
            self.passes.mod_index = idx;
            self.passes.last_tx = None;
        }
    }

    /// The priority pass (3.3.006): the fixed list, then every metric matching `metrics.priority`
    /// minus `metrics.exclude` (an empty list matches all); modified (test-and-clear) and defined.
    pub(super) fn priority_pass(&mut self, now: Instant) {
        if !self.session.is_connected() {
            return;
        }
        if self.profile.spec().clients.purge_before_pass {
            self.count_clients(now);
        }
        self.refresh_monotonic(now);
        let fixed_list = self
            .profile
            .spec()
            .passes
            .priority_metrics
            .clone()
            .unwrap_or_default();
        let prio = crate::metrics::MetricFilter::new(
            self.config
                .params
                .get("metrics.priority")
                .map(String::as_str)
                .unwrap_or(""),
            self.config
                .params
                .get("metrics.exclude")
                .map(String::as_str)
                .unwrap_or(""),
        );
        let mut names: Vec<String> = fixed_list;
        names.extend(
            self.metrics
                .names()
                .filter(|n| prio.check(n))
                .map(str::to_string),
        );
        let mut processed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let fixed = self.metrics.latlon_fixed6();
        for name in names {
            if !processed.insert(name.clone()) {
                continue;
            }
            if self.metrics.take_modified(&name) {
                if let Some(text) = self.metrics.get(&name).and_then(|m| m.render(fixed)) {
                    self.publish_metric(&name, text);
                }
            }
        }
    }

    /// `server v3 update all|modified|priority`: reset the timer so the pass runs on the next tick.
    pub(super) fn request_update(&mut self, what: &str) -> bool {
        match what {
            "all" => self.passes.last_full = None,
            "modified" => self.passes.last_tx = None,
            "priority" if self.has_priority_path() => self.passes.last_prio = None,
            _ => return false,
        }
        true
    }

    /// The immediate path (3.3.006): with `updatetime.immediately=yes`, a changed metric that
    /// passes both the main filter and the immediate filter goes out at once.
    pub(super) fn immediate_metric(&mut self, name: &str) {
        if !self.profile.spec().passes.immediate
            || !self.session.is_connected()
            || !self.param_bool("updatetime.immediately", false)
            || !self.filter.check(name)
        {
            return;
        }
        let imm = crate::metrics::MetricFilter::new(
            self.config
                .params
                .get("metrics.include.immediately")
                .map(String::as_str)
                .unwrap_or(""),
            self.config
                .params
                .get("metrics.exclude.immediately")
                .map(String::as_str)
                .unwrap_or(""),
        );
        if imm.check(name) && self.metrics.take_modified(name) {
            let fixed = self.metrics.latlon_fixed6();
            if let Some(text) = self.metrics.get(name).and_then(|m| m.render(fixed)) {
                self.publish_metric(name, text);
            }
        }
    }

    /// The pass a new client / the connect event triggers (3.3.006), or the immediate modified
    /// pass on vehicle events.
    pub(super) fn event_passes(&mut self, now: Instant, event: &str) {
        if !self.session.is_connected() {
            return;
        }
        let k = now.as_secs();
        let spec = self.profile.spec();
        let immediate = spec
            .cadence
            .immediate_modified_events
            .iter()
            .any(|e| e == event);
        let new_client = spec.passes.new_client.clone();
        if immediate {
            self.passes.last_prio = Some(k);
            self.passes.last_tx = Some(k);
            self.modified_pass(now);
        }
        if let Some(rule) = new_client {
            if rule.events.iter().any(|e| e == event) {
                let last_full = self.passes.last_full.unwrap_or(0);
                let last_tx = self.passes.last_tx.unwrap_or(0);
                if k.saturating_sub(last_full) > rule.full_if_last_full_older_than_secs {
                    self.passes.last_full = Some(k);
                    self.passes.last_prio = Some(k);
                    self.passes.last_tx = Some(k);
                    self.full_pass(now);
                } else if k.saturating_sub(last_tx) > rule.modified_if_last_tx_older_than_secs {
                    self.passes.last_prio = Some(k);
                    self.passes.last_tx = Some(k);
                    self.modified_pass(now);
                }
            }
        }
    }
}
