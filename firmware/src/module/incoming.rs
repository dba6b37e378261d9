//! Incoming publishes: heartbeats, commands (with responses), metric and config requests.
//! Any topic or payload is accepted without panicking; what does not match is ignored.

use super::Module;
use crate::metrics::PatternList;
use crate::profile::{CommandTag, MessageKind, TopicVars};
use crate::time::Instant;

impl Module {
    /// Route one incoming publish.
    pub(super) fn on_incoming(&mut self, now: Instant, topic: &str, payload: &[u8]) {
        if !self.session.is_connected() {
            return;
        }
        let prefix = self.prefix.clone();
        if let Some(c) = self
            .profile
            .match_topic(MessageKind::ClientActive, &prefix, topic)
        {
            let client = c.client.unwrap_or("").to_string();
            self.on_heartbeat(now, &client, payload);
        } else if let Some(c) = self
            .profile
            .match_topic(MessageKind::Command, &prefix, topic)
        {
            let client = c.client.unwrap_or("").to_string();
            let cmd_id = c.command_id.map(str::to_string);
            self.on_command(now, &client, cmd_id.as_deref(), payload);
        } else if let Some(c) = self
            .profile
            .match_topic(MessageKind::RequestMetric, &prefix, topic)
        {
            let _client = c.client;
            self.on_request_metric(payload);
        } else if let Some(c) = self
            .profile
            .match_topic(MessageKind::RequestConfig, &prefix, topic)
        {
            let client = c.client.unwrap_or("").to_string();
            self.on_request_config(&client, payload);
        }
    }

    /// Run a command and publish the response on the profile's response topic.
    fn on_command(&mut self, now: Instant, client: &str, command_id: Option<&str>, payload: &[u8]) {
        self.log_line(now, &format!("Run command from {client}"));
        let (tag, body) = match self.profile.spec().commands.tag {
            CommandTag::None => (None, payload),
            CommandTag::LeadingWord => split_tag(payload),
        };
        let out = self.execute_command(now, body);
        let payload = match tag {
            Some(t) => {
                let mut p = Vec::with_capacity(t.len() + 1 + out.len());
                p.extend_from_slice(t);
                p.push(b' ');
                p.extend_from_slice(out.as_bytes());
                p
            }
            None => out.into_bytes(),
        };
        if !self.profile.has(MessageKind::Response) {
            return;
        }
        let vars = TopicVars {
            client_id: Some(client),
            command_id,
            ..Default::default()
        };
        let topic = self
            .profile
            .topic(MessageKind::Response, &self.prefix, &vars);
        let qos = self.profile.qos(MessageKind::Response);
        let retain = self.profile.retain(MessageKind::Response);
        self.push_publish(topic, payload, qos, retain);
    }

    /// `request/metric`: publish every defined metric matching the patterns on its normal topic
    /// (modified bits untouched).
    fn on_request_metric(&mut self, payload: &[u8]) {
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        let patterns = PatternList::parse(text);
        let fixed = self.metrics.latlon_fixed6();
        let out: Vec<(String, String)> = self
            .metrics
            .iter()
            .filter(|(name, _)| patterns.matches(name))
            .filter_map(|(name, m)| m.render(fixed).map(|t| (name.to_string(), t)))
            .collect();
        for (name, text) in out {
            self.publish_metric(&name, text);
        }
    }

    /// `request/config`: payload `param/instance` → the value on the config reply topic.
    fn on_request_config(&mut self, client: &str, payload: &[u8]) {
        let Ok(text) = std::str::from_utf8(payload) else {
            return;
        };
        let Some((param, instance)) = text.trim().split_once('/') else {
            return;
        };
        if param.is_empty() || instance.is_empty() || !self.profile.has(MessageKind::ConfigReply) {
            return;
        }
        let value = self.config_value(param, instance).unwrap_or_default();
        let vars = TopicVars {
            client_id: Some(client),
            param: Some(param),
            instance: Some(instance),
            ..Default::default()
        };
        let topic = self
            .profile
            .topic(MessageKind::ConfigReply, &self.prefix, &vars);
        let qos = self.profile.qos(MessageKind::ConfigReply);
        let retain = self.profile.retain(MessageKind::ConfigReply);
        self.push_publish(topic, value.into_bytes(), qos, retain);
    }
}

/// IMAP-style tag: a first word that is not a command verb, followed by a command.
fn split_tag(payload: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let Some(sp) = payload.iter().position(|b| *b == b' ') else {
        return (None, payload);
    };
    let (word, rest) = (&payload[..sp], &payload[sp + 1..]);
    match std::str::from_utf8(word) {
        Ok(w) if !w.is_empty() && !crate::commands::is_command_word(w) && !rest.is_empty() => {
            (Some(word), rest)
        }
        _ => (None, payload),
    }
}
