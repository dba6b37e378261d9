//! Events (published with the profile's exclusions, and dispatched to the pass triggers) and log
//! lines (published where the profile has a log topic).

use super::Module;
use crate::profile::{MessageKind, TopicVars};
use crate::time::Instant;

/// Upper bound of events dispatched in one drain (an event storm cannot loop forever).
const MAX_EVENTS_PER_DRAIN: usize = 10_000;

impl Module {
    /// Queue an event; it is dispatched after the current operation (like the firmware's event task).
    pub(super) fn raise_event(&mut self, name: String) {
        self.events.push_back(name);
    }

    /// Dispatch queued events: publish them, then run the listeners (pass triggers).
    pub(super) fn drain_events(&mut self, now: Instant) {
        let mut n = 0;
        while let Some(e) = self.events.pop_front() {
            self.publish_event(&e);
            self.event_passes(now, &e);
            n += 1;
            if n >= MAX_EVENTS_PER_DRAIN {
                self.events.clear();
                break;
            }
        }
        self.flush_logs();
    }

    /// Publish an event on the profile's event topics (connected only; excluded names never).
    fn publish_event(&mut self, event: &str) {
        if !self.session.is_connected() || self.profile.event_excluded(event) {
            return;
        }
        if self.profile.has(MessageKind::EventLegacy) {
            let enabled = match self.profile.spec().events.legacy_param.clone() {
                Some(p) => self.param_bool(&p, true),
                None => true,
            };
            if enabled {
                let topic = self.profile.topic(
                    MessageKind::EventLegacy,
                    &self.prefix,
                    &TopicVars::default(),
                );
                let qos = self.profile.qos(MessageKind::EventLegacy);
                let retain = self.profile.retain(MessageKind::EventLegacy);
                self.push_publish(topic, event.as_bytes().to_vec(), qos, retain);
            }
        }
        if self.profile.has(MessageKind::EventTopic) {
            let vars = TopicVars {
                event: Some(event),
                ..Default::default()
            };
            let topic = self
                .profile
                .topic(MessageKind::EventTopic, &self.prefix, &vars);
            let qos = self.profile.qos(MessageKind::EventTopic);
            let retain = self.profile.retain(MessageKind::EventTopic);
            self.push_publish(topic, Vec::new(), qos, retain);
        }
    }

    /// Record a log line (`I (<ms>) v3: <text>`, the ESP-IDF log layout); it is published after
    /// the current operation while connected, where the profile has a log topic.
    pub(super) fn log_line(&mut self, now: Instant, text: &str) {
        if self.profile.has(MessageKind::Log) && self.session.is_connected() {
            self.notes
                .logs
                .push(format!("I ({}) ovms-server-v3: {}", now.as_millis(), text));
        }
    }

    fn flush_logs(&mut self) {
        if self.notes.logs.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut self.notes.logs);
        if !self.session.is_connected() {
            return;
        }
        let topic = self
            .profile
            .topic(MessageKind::Log, &self.prefix, &TopicVars::default());
        let qos = self.profile.qos(MessageKind::Log);
        let retain = self.profile.retain(MessageKind::Log);
        for l in lines {
            self.push_publish(topic.clone(), l.into_bytes(), qos, retain);
        }
    }
}
