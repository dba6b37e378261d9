//! Topic classification: what a captured topic is, decided by the protocol profile.
//!
//! Nothing here knows a topic literally; every topic comes from
//! [`Profile::topic`] / [`Profile::match_topic`] under the capture's prefix, or from names the
//! caller gives explicitly ([`TopicNames`]).

use ovms_firmware::profile::{MessageKind, Profile, TopicVars};

/// The metric the module publishes its peer count on.
pub const PEERS_METRIC: &str = "s.v3.peers";

/// What a captured topic is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicKind {
    /// The connected flag / last will (`yes` / `no`).
    Connected,
    /// The peer count metric.
    Peers,
    /// A client heartbeat on a client's active topic.
    ClientActive {
        /// The client id from the topic.
        client: String,
    },
    /// Any other metric.
    Metric {
        /// The metric name (`v.b.soc`).
        name: String,
    },
    /// Anything else (commands, notifications, events, logs, foreign topics).
    Other,
}

/// Explicit topic names that override what the profile says (all full topics).
#[derive(Clone, Debug, Default)]
pub struct TopicNames {
    /// The connected topic.
    pub connected: Option<String>,
    /// The peers topic.
    pub peers: Option<String>,
    /// Topics carrying client heartbeats.
    pub client_active: Vec<String>,
}

/// Classifies topics of one module (one prefix) with one profile.
#[derive(Clone, Debug)]
pub struct TopicClassifier {
    profile: Profile,
    prefix: String,
    connected: String,
    peers: String,
    client_active: Vec<String>,
}

impl TopicClassifier {
    /// A classifier for topics under `prefix` (as the module resolved it, e.g. `ovms/u/v/`).
    pub fn new(profile: &Profile, prefix: &str, names: &TopicNames) -> Self {
        let connected = names.connected.clone().unwrap_or_else(|| {
            profile.topic(MessageKind::Connected, prefix, &TopicVars::default())
        });
        let peers = names
            .peers
            .clone()
            .unwrap_or_else(|| metric_topic(profile, prefix, PEERS_METRIC));
        TopicClassifier {
            profile: profile.clone(),
            prefix: prefix.to_string(),
            connected,
            peers,
            client_active: names.client_active.clone(),
        }
    }

    /// The prefix the classifier matches under.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The connected topic.
    pub fn connected_topic(&self) -> &str {
        &self.connected
    }

    /// The peers topic.
    pub fn peers_topic(&self) -> &str {
        &self.peers
    }

    /// What `topic` is.
    pub fn classify(&self, topic: &str) -> TopicKind {
        if topic == self.connected {
            return TopicKind::Connected;
        }
        if topic == self.peers {
            return TopicKind::Peers;
        }
        if self.client_active.iter().any(|t| t == topic) {
            let client = topic.rsplit('/').next().unwrap_or("").to_string();
            return TopicKind::ClientActive { client };
        }
        if let Some(c) = self
            .profile
            .match_topic(MessageKind::ClientActive, &self.prefix, topic)
        {
            return TopicKind::ClientActive {
                client: c.client.unwrap_or("").to_string(),
            };
        }
        if let Some(name) = self.metric_name(topic) {
            return TopicKind::Metric { name };
        }
        TopicKind::Other
    }

    /// The metric name of a metric topic (`…/m/v/b/soc` → `v.b.soc`), if it is one.
    pub fn metric_name(&self, topic: &str) -> Option<String> {
        let c = self
            .profile
            .match_topic(MessageKind::Metric, &self.prefix, topic)?;
        c.rest.map(|m| m.replace('/', "."))
    }

    /// The topic of metric `name` under the prefix.
    pub fn metric_topic(&self, name: &str) -> String {
        metric_topic(&self.profile, &self.prefix, name)
    }
}

/// The topic of metric `name` under `prefix`, as `profile` places it.
pub fn metric_topic(profile: &Profile, prefix: &str, name: &str) -> String {
    profile.topic(
        MessageKind::Metric,
        prefix,
        &TopicVars {
            metric: Some(name),
            ..Default::default()
        },
    )
}

/// The prefix a module with `user` and `vehicle_id` uses under `profile` by default.
pub fn default_prefix(profile: &Profile, user: &str, vehicle_id: &str) -> String {
    profile.default_prefix(user, vehicle_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_profile_not_by_literal() {
        for name in Profile::builtin_names() {
            let p = Profile::builtin(name).unwrap();
            let prefix = p.default_prefix("u", "car");
            let c = TopicClassifier::new(&p, &prefix, &TopicNames::default());
            let soc = metric_topic(&p, &prefix, "v.b.soc");
            assert_eq!(
                c.classify(&soc),
                TopicKind::Metric {
                    name: "v.b.soc".into()
                }
            );
            assert_eq!(c.classify(c.connected_topic()), TopicKind::Connected);
            assert_eq!(
                c.classify(&metric_topic(&p, &prefix, "s.v3.peers")),
                TopicKind::Peers
            );
            let hb = p.topic(
                MessageKind::ClientActive,
                &prefix,
                &TopicVars {
                    client_id: Some("app1"),
                    ..Default::default()
                },
            );
            assert_eq!(
                c.classify(&hb),
                TopicKind::ClientActive {
                    client: "app1".into()
                }
            );
            assert_eq!(c.classify("elsewhere/x"), TopicKind::Other);
        }
    }
}
