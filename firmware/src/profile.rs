//! Protocol profiles as data: one YAML file per profile decides every topic, QoS and retain flag.
//!
//! The harness reads the same files, so module and assertions share one source of truth.

use crate::io::QoS;

/// The kinds of message a profile places on topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// A metric value (`v.b.soc` ...).
    Metric,
    /// The last will / `s.v3.connected` topic.
    Connected,
    /// A client heartbeat ("active") topic.
    ClientActive,
    /// A command from a client.
    Command,
    /// The module's response to a command.
    Response,
    /// A text notification (info, error, alert).
    Notify,
    /// A data notification.
    NotifyData,
    /// An event, legacy single topic.
    EventLegacy,
    /// An event, MQTT-style topic per event.
    EventTopic,
    /// A log line.
    Log,
    /// A client's metric request (3.3.006+).
    RequestMetric,
    /// A client's config request (3.3.006+).
    RequestConfig,
    /// The module's config reply (3.3.006+).
    ConfigReply,
}

/// Values that fill a topic template.
#[derive(Clone, Debug, Default)]
pub struct TopicVars<'a> {
    /// Metric name (`v.b.soc`).
    pub metric: Option<&'a str>,
    /// Client id.
    pub client_id: Option<&'a str>,
    /// Command id.
    pub command_id: Option<&'a str>,
    /// Notification type.
    pub notify_kind: Option<&'a str>,
    /// Notification subtype (`charge.started`).
    pub subtype: Option<&'a str>,
    /// Event name.
    pub event: Option<&'a str>,
}

/// A loaded protocol profile.
#[derive(Clone, Debug)]
pub struct Profile {
    _private: (),
}

impl Profile {
    /// Names of the profiles that ship with ovms-hil.
    pub fn builtin_names() -> &'static [&'static str] {
        &["draft", "fw-3.3.005", "fw-3.3.006"]
    }

    /// A shipped profile by name, or a profile file by path.
    pub fn by_name_or_path(_s: &str) -> Result<Profile, ProfileError> {
        todo!()
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        todo!()
    }

    /// The default topic prefix for `username` and `vehicle_id`.
    pub fn default_prefix(&self, _username: &str, _vehicle_id: &str) -> String {
        todo!()
    }

    /// Whether the profile has this kind of message at all.
    pub fn has(&self, _kind: MessageKind) -> bool {
        todo!()
    }

    /// The resolved topic of `kind` under `prefix`; wildcards `+`/`#` for vars left `None`.
    pub fn topic(&self, _kind: MessageKind, _prefix: &str, _vars: &TopicVars<'_>) -> String {
        todo!()
    }

    /// QoS the module uses (or, for client-sent kinds, the profile's recommended QoS).
    pub fn qos(&self, _kind: MessageKind) -> QoS {
        todo!()
    }

    /// RETAIN flag the module uses.
    pub fn retain(&self, _kind: MessageKind) -> bool {
        todo!()
    }
}

/// A profile that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProfileError {
    /// Full message with file, line and column.
    pub message: String,
}
