//! The module's side of the command processor: config, metrics, notifications and events as
//! the commands see them.

use super::Module;
use crate::commands::{self, Shell};
use crate::metrics::Metrics;
use crate::time::Instant;

/// The module at one instant, as a [`Shell`].
struct ModuleShell<'a> {
    m: &'a mut Module,
    now: Instant,
}

impl Shell for ModuleShell<'_> {
    fn metrics(&self) -> &Metrics {
        &self.m.metrics
    }

    fn set_metric(&mut self, name: &str, value: &str) -> bool {
        let changed = self.m.metrics.set_from_text(name, value);
        if changed {
            self.m.immediate_metric(name);
        }
        changed
    }

    fn config_get(&self, param: &str, instance: &str) -> Option<String> {
        self.m.config_value(param, instance)
    }

    fn config_set(&mut self, param: &str, instance: &str, value: &str) {
        self.m.set_config_value(param, instance, value);
    }

    fn raise_notify(&mut self, kind: &str, subtype: &str, text: &str) {
        self.m.raise_notification(self.now, kind, subtype, text);
    }

    fn raise_event(&mut self, name: &str) {
        self.m.raise_event(name.to_string());
    }

    fn server_status(&self) -> String {
        self.m.status_text()
    }

    fn server_update(&mut self, what: &str) -> bool {
        self.m.request_update(what)
    }
}

impl Module {
    /// Run raw command bytes through the command processor.
    pub(super) fn execute_command(&mut self, now: Instant, bytes: &[u8]) -> String {
        let max = self.profile.spec().commands.max_len;
        let mut shell = ModuleShell { m: self, now };
        commands::run_bytes(&mut shell, bytes, max)
    }

    /// A config value (`param` = section such as `server.v3` or `vehicle`, `instance` = key).
    pub(super) fn config_value(&self, param: &str, instance: &str) -> Option<String> {
        let c = &self.config;
        match (param, instance) {
            ("vehicle", "id") => Some(c.vehicle_id.clone()),
            ("server.v3", "user") => Some(c.username.clone()),
            ("server.v3", "clientid") => c.client_id.clone(),
            ("server.v3", "topic.prefix") => c.topic_prefix.clone(),
            ("server.v3", key) => c.params.get(key).cloned(),
            _ => self
                .other_config
                .get(&(param.to_string(), instance.to_string()))
                .cloned(),
        }
    }

    /// Set a config value; `server.v3` filters and intervals apply at once, identity and prefix at
    /// the next connect (as in firmware ≤3.3.006).
    pub(super) fn set_config_value(&mut self, param: &str, instance: &str, value: &str) {
        let c = &mut self.config;
        match (param, instance) {
            ("vehicle", "id") => c.vehicle_id = value.to_string(),
            ("server.v3", "user") => c.username = value.to_string(),
            ("server.v3", "clientid") => c.client_id = Some(value.to_string()),
            ("server.v3", "topic.prefix") => c.topic_prefix = Some(value.to_string()),
            ("server.v3", key) => {
                c.params.insert(key.to_string(), value.to_string());
                if key.starts_with("metrics.") {
                    self.reload_filter();
                }
            }
            _ => {
                self.other_config
                    .insert((param.to_string(), instance.to_string()), value.to_string());
            }
        }
    }
}
