//! Notifications: text types (info, error, alert) and data, with the profile's topics, QoS,
//! delivery rule and payload rule.
//!
//! The core does not see PUBREC, so the shipped "one data notification in flight" chain is
//! modelled as a broker that acknowledges at once: every queued data notification goes out, one
//! after another, on the tick.

use std::collections::{BTreeMap, VecDeque};

use super::Module;
use crate::profile::{MessageKind, NotifyDelivery, TopicVars};
use crate::time::Instant;

/// One raised notification.
#[derive(Clone, Debug)]
struct Note {
    id: u64,
    kind: String,
    subtype: String,
    text: String,
    created: Instant,
}

/// Queued notifications per type, the id counter, and log lines waiting to go out.
#[derive(Clone, Debug, Default)]
pub(super) struct Notifications {
    next_id: u64,
    queued: BTreeMap<String, VecDeque<Note>>,
    /// Log lines of the current operation (see `events.rs`).
    pub logs: Vec<String>,
}

impl Notifications {
    fn any_queued(&self) -> bool {
        self.queued.values().any(|q| !q.is_empty())
    }
}

impl Module {
    /// A notification was raised (input, vehicle, or `notify raise`).
    pub(super) fn raise_notification(
        &mut self,
        now: Instant,
        kind: &str,
        subtype: &str,
        text: &str,
    ) {
        let spec = self.profile.spec().notifications.clone();
        let is_data = kind == "data";
        if !is_data && spec.raise_events {
            self.raise_event(format!("notify.{kind}.{subtype}"));
        }
        if !spec.types.iter().any(|t| t == kind) {
            return;
        }
        self.notes.next_id += 1;
        let note = Note {
            id: self.notes.next_id,
            kind: kind.to_string(),
            subtype: subtype.to_string(),
            text: text.to_string(),
            created: now,
        };
        let send_now = self.session.is_connected()
            && match spec.delivery {
                NotifyDelivery::Immediate => true,
                NotifyDelivery::PerTick => !is_data,
            };
        if send_now {
            self.publish_note(now, &note);
        } else {
            self.notes
                .queued
                .entry(note.kind.clone())
                .or_default()
                .push_back(note);
        }
    }

    /// Whether the next tick has notifications to send.
    pub(super) fn notes_pending_on_tick(&self) -> bool {
        self.profile.spec().notifications.delivery == NotifyDelivery::PerTick
            && self.notes.any_queued()
    }

    /// Tick delivery: one queued notification per text type, and the data chain.
    pub(super) fn tick_notifications(&mut self, now: Instant) {
        if self.profile.spec().notifications.delivery != NotifyDelivery::PerTick {
            return;
        }
        let kinds: Vec<String> = self.notes.queued.keys().cloned().collect();
        for kind in kinds {
            let n = if kind == "data" { usize::MAX } else { 1 };
            for _ in 0..n {
                let Some(note) = self
                    .notes
                    .queued
                    .get_mut(&kind)
                    .and_then(VecDeque::pop_front)
                else {
                    break;
                };
                self.publish_note(now, &note);
            }
        }
    }

    /// Send everything queued (immediate delivery, after the connect pass).
    pub(super) fn flush_queued_notifications(&mut self, now: Instant) {
        let queued = std::mem::take(&mut self.notes.queued);
        let mut all: Vec<Note> = queued.into_values().flatten().collect();
        all.sort_by_key(|n| n.id);
        for n in all {
            self.publish_note(now, &n);
        }
    }

    fn publish_note(&mut self, now: Instant, note: &Note) {
        let is_data = note.kind == "data";
        let kind = if is_data {
            MessageKind::NotifyData
        } else {
            MessageKind::Notify
        };
        if !self.profile.has(kind) {
            return;
        }
        let id = note.id.to_string();
        let age_secs = now.saturating_since(note.created).as_secs() as i64;
        let age = (-age_secs).to_string();
        let vars = TopicVars {
            notify_kind: Some(&note.kind),
            subtype: Some(&note.subtype),
            entry_id: Some(&id),
            age: Some(&age),
            ..Default::default()
        };
        let topic = self.profile.topic(kind, &self.prefix, &vars);
        let mut payload = note.text.as_str();
        if is_data && self.profile.spec().notifications.data_first_line_only {
            payload = payload.split('\n').next().unwrap_or("");
        }
        let qos = self.profile.qos(kind);
        let retain = self.profile.retain(kind);
        self.push_publish(topic, payload.as_bytes().to_vec(), qos, retain);
    }
}
