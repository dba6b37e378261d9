//! Protocol profiles as data: one YAML file per profile decides every topic, QoS and retain flag.
//!
//! The harness reads the same files, so module and assertions share one source of truth.
//! Three profiles ship inside the binary ([`Profile::builtin_names`]); a user can load their own
//! file with [`Profile::from_file`]. A bad file gives `FILE:LINE:COL: message`, and unknown fields
//! are rejected.

mod schema;
mod template;

use std::path::Path;

pub use schema::*;
pub use template::{Template, TopicCaptures};

use crate::io::{QoS, Will};

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

impl MessageKind {
    /// Every kind, in declaration order.
    pub const ALL: [MessageKind; 13] = [
        MessageKind::Metric,
        MessageKind::Connected,
        MessageKind::ClientActive,
        MessageKind::Command,
        MessageKind::Response,
        MessageKind::Notify,
        MessageKind::NotifyData,
        MessageKind::EventLegacy,
        MessageKind::EventTopic,
        MessageKind::Log,
        MessageKind::RequestMetric,
        MessageKind::RequestConfig,
        MessageKind::ConfigReply,
    ];

    /// The key of this kind under `topics:` in a profile file.
    pub fn key(self) -> &'static str {
        match self {
            MessageKind::Metric => "metric",
            MessageKind::Connected => "connected",
            MessageKind::ClientActive => "client_active",
            MessageKind::Command => "command",
            MessageKind::Response => "response",
            MessageKind::Notify => "notify",
            MessageKind::NotifyData => "notify_data",
            MessageKind::EventLegacy => "event_legacy",
            MessageKind::EventTopic => "event_topic",
            MessageKind::Log => "log",
            MessageKind::RequestMetric => "request_metric",
            MessageKind::RequestConfig => "request_config",
            MessageKind::ConfigReply => "config_reply",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
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
    /// Config param of a config reply (`vehicle`).
    pub param: Option<&'a str>,
    /// Config instance of a config reply (`id`).
    pub instance: Option<&'a str>,
    /// Data notification entry id (decimal).
    pub entry_id: Option<&'a str>,
    /// Data notification age (`0`, `-12`).
    pub age: Option<&'a str>,
}

/// A loaded protocol profile.
#[derive(Clone, Debug)]
pub struct Profile {
    spec: ProfileSpec,
    templates: Vec<Option<Template>>,
    origin: String,
}

const BUILTIN: &[(&str, &str)] = &[
    ("draft", include_str!("../profiles/draft.yaml")),
    ("fw-3.3.005", include_str!("../profiles/fw-3.3.005.yaml")),
    ("fw-3.3.006", include_str!("../profiles/fw-3.3.006.yaml")),
];

impl Profile {
    /// Names of the profiles that ship with ovms-hil.
    pub fn builtin_names() -> &'static [&'static str] {
        &["draft", "fw-3.3.005", "fw-3.3.006"]
    }

    /// The YAML text of a shipped profile.
    pub fn builtin_source(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// A shipped profile by name (`shipped` is an alias of the newest firmware profile).
    pub fn builtin(name: &str) -> Option<Profile> {
        let name = if name == "shipped" {
            "fw-3.3.006"
        } else {
            name
        };
        let src = Profile::builtin_source(name)?;
        Some(
            Profile::from_yaml_str(src, &format!("<builtin {name}>"))
                .expect("shipped profiles are valid"),
        )
    }

    /// A shipped profile by name, or a profile file by path.
    pub fn by_name_or_path(s: &str) -> Result<Profile, ProfileError> {
        match Profile::builtin(s) {
            Some(p) => Ok(p),
            None => Profile::from_file(Path::new(s)),
        }
    }

    /// Load a profile file.
    pub fn from_file(path: &Path) -> Result<Profile, ProfileError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            message: format!("{origin}: cannot read profile: {e}"),
        })?;
        Profile::from_yaml_str(&text, &origin)
    }

    /// Parse profile YAML; `origin` (a path) prefixes error messages.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let spec: ProfileSpec = serde_saphyr::from_str(text).map_err(|e| {
            let (line, col) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            ProfileError {
                message: format!(
                    "{origin}:{line}:{col}: {}",
                    first_line(&e.without_snippet().to_string())
                ),
            }
        })?;
        let mut templates = Vec::with_capacity(MessageKind::ALL.len());
        for kind in MessageKind::ALL {
            let t = match spec_topic(&spec, kind) {
                Some(ts) => Some(
                    Template::parse(&ts.topic).map_err(|m| located(text, origin, &ts.topic, &m))?,
                ),
                None => None,
            };
            templates.push(t);
        }
        for s in &spec.subscriptions {
            if s.filter.is_empty() {
                return Err(located(text, origin, "filter", "empty subscription filter"));
            }
        }
        for (t, what) in [
            (&spec.prefix, "prefix"),
            (&spec.prefix_no_vehicle, "prefix_no_vehicle"),
        ] {
            if let Some(bad) = template::unknown_prefix_placeholder(t) {
                return Err(located(
                    text,
                    origin,
                    t,
                    &format!("{what}: unknown placeholder {{{bad}}}"),
                ));
            }
        }
        Ok(Profile {
            spec,
            templates,
            origin: origin.to_string(),
        })
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Where the profile came from (`<builtin draft>` or a path).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The whole parsed profile (every rule the module follows).
    pub fn spec(&self) -> &ProfileSpec {
        &self.spec
    }

    /// The default topic prefix for `username` and `vehicle_id`.
    pub fn default_prefix(&self, username: &str, vehicle_id: &str) -> String {
        let t = if vehicle_id.is_empty() {
            &self.spec.prefix_no_vehicle
        } else {
            &self.spec.prefix
        };
        t.replace("{user}", username)
            .replace("{vehicle}", vehicle_id)
    }

    /// Whether the profile has this kind of message at all.
    pub fn has(&self, kind: MessageKind) -> bool {
        self.templates[kind.index()].is_some()
    }

    /// The topic spec (template, QoS, retain) of `kind`, if the profile has it.
    pub fn topic_spec(&self, kind: MessageKind) -> Option<&TopicSpec> {
        spec_topic(&self.spec, kind)
    }

    /// The parsed template of `kind`, if the profile has it.
    pub fn template(&self, kind: MessageKind) -> Option<&Template> {
        self.templates[kind.index()].as_ref()
    }

    /// The resolved topic of `kind` under `prefix`; wildcards `+`/`#` for vars left `None`
    /// (a multi-level variable left `None` ends the filter with `#`). Empty when the profile lacks
    /// the kind (see [`Profile::has`]).
    pub fn topic(&self, kind: MessageKind, prefix: &str, vars: &TopicVars<'_>) -> String {
        match self.template(kind) {
            Some(t) => {
                let mut s = String::with_capacity(prefix.len() + 32);
                s.push_str(prefix);
                t.render_into(&mut s, vars);
                s
            }
            None => String::new(),
        }
    }

    /// Match an incoming topic against `kind`'s template under `prefix`.
    pub fn match_topic<'t>(
        &self,
        kind: MessageKind,
        prefix: &str,
        topic: &'t str,
    ) -> Option<TopicCaptures<'t>> {
        let rest = topic.strip_prefix(prefix)?;
        self.template(kind)?.matches(rest)
    }

    /// QoS the module uses (or, for client-sent kinds, the profile's recommended QoS).
    /// `AtMostOnce` when the profile lacks the kind.
    pub fn qos(&self, kind: MessageKind) -> QoS {
        self.topic_spec(kind)
            .and_then(|t| QoS::from_u8(t.qos))
            .unwrap_or_default()
    }

    /// RETAIN flag the module uses (`false` when the profile lacks the kind).
    pub fn retain(&self, kind: MessageKind) -> bool {
        self.topic_spec(kind).is_some_and(|t| t.retain)
    }

    /// The SUBSCRIBE filters with their QoS, resolved under `prefix`.
    pub fn subscriptions(&self, prefix: &str) -> Vec<(String, QoS)> {
        self.spec
            .subscriptions
            .iter()
            .map(|s| {
                (
                    format!("{prefix}{}", s.filter),
                    QoS::from_u8(s.qos).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The last will under `prefix` (topic = the `connected` topic).
    pub fn will(&self, prefix: &str) -> Will {
        Will {
            topic: self.topic(MessageKind::Connected, prefix, &TopicVars::default()),
            payload: self.spec.will.payload.clone().into_bytes(),
            qos: QoS::from_u8(self.spec.will.qos).unwrap_or_default(),
            retain: self.spec.will.retain,
        }
    }

    /// Whether an event of this name is never published.
    pub fn event_excluded(&self, event: &str) -> bool {
        self.spec
            .events
            .exclude
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => event.starts_with(prefix),
                None => event == p,
            })
    }

    /// Whether a client expires `exactly` at its deadline (draft) or on the purge ticker.
    pub fn expiry_exact(&self) -> bool {
        self.spec.clients.expiry_check == ExpiryCheck::Exact
    }

    /// The default of a `server.v3` interval param (`updatetime.*`, `queue.*`), as a number of
    /// seconds / metrics; `None` for params the profile does not know.
    pub fn param_default(&self, param: &str) -> Option<u64> {
        let d = &self.spec.cadence.defaults;
        Some(match param {
            "updatetime.idle" => d.idle,
            "updatetime.connected" => d.connected,
            "updatetime.on" => d.on.unwrap_or(d.idle),
            "updatetime.charging" => d.charging.unwrap_or(d.idle),
            "updatetime.awake" => d.awake.unwrap_or(d.idle),
            "updatetime.sendall" => d.sendall,
            "updatetime.keepalive" => u64::from(self.spec.session.keepalive_secs),
            "queue.sendall" => self.spec.passes.full_chunk? as u64,
            "queue.modified" => self.spec.passes.modified_chunk? as u64,
            _ => return None,
        })
    }
}

/// The first line of a parser message, without its own trailing " at line L, column C".
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    match line.rfind(" at line ") {
        Some(at) if line[at..].contains(", column ") => line[..at].to_string(),
        _ => line.to_string(),
    }
}

/// An error at the first occurrence of `needle` in the source (post-parse checks).
fn located(text: &str, origin: &str, needle: &str, message: &str) -> ProfileError {
    let (line, col) = match text.find(needle) {
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            (line, col)
        }
        None => (1, 1),
    };
    ProfileError {
        message: format!("{origin}:{line}:{col}: {message}"),
    }
}

fn spec_topic(spec: &ProfileSpec, kind: MessageKind) -> Option<&TopicSpec> {
    let t = &spec.topics;
    match kind {
        MessageKind::Metric => t.metric.as_ref(),
        MessageKind::Connected => t.connected.as_ref(),
        MessageKind::ClientActive => t.client_active.as_ref(),
        MessageKind::Command => t.command.as_ref(),
        MessageKind::Response => t.response.as_ref(),
        MessageKind::Notify => t.notify.as_ref(),
        MessageKind::NotifyData => t.notify_data.as_ref(),
        MessageKind::EventLegacy => t.event_legacy.as_ref(),
        MessageKind::EventTopic => t.event_topic.as_ref(),
        MessageKind::Log => t.log.as_ref(),
        MessageKind::RequestMetric => t.request_metric.as_ref(),
        MessageKind::RequestConfig => t.request_config.as_ref(),
        MessageKind::ConfigReply => t.config_reply.as_ref(),
    }
}

/// A profile that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProfileError {
    /// Full message with file, line and column.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_load_and_resolve_topics() {
        for name in Profile::builtin_names() {
            let p = Profile::builtin(name).unwrap();
            assert_eq!(p.name(), *name);
        }
        let d = Profile::builtin("draft").unwrap();
        let pre = d.default_prefix("u", "car");
        assert_eq!(pre, "ovms/u/car/");
        let v = TopicVars {
            metric: Some("v.b.soc"),
            ..Default::default()
        };
        assert_eq!(
            d.topic(MessageKind::Metric, &pre, &v),
            "ovms/u/car/m/v/b/soc"
        );
        assert_eq!(
            d.topic(MessageKind::Connected, &pre, &v),
            "ovms/u/car/m/s/v3/connected"
        );
        assert_eq!(d.qos(MessageKind::Notify), QoS::ExactlyOnce);
        assert!(d.has(MessageKind::Log));
        assert!(!d.has(MessageKind::EventTopic));
        let s = Profile::builtin("fw-3.3.006").unwrap();
        assert_eq!(
            s.topic(MessageKind::Metric, &pre, &v),
            "ovms/u/car/metric/v/b/soc"
        );
        assert_eq!(s.subscriptions(&pre).len(), 4);
        assert_eq!(
            Profile::builtin("fw-3.3.005")
                .unwrap()
                .subscriptions(&pre)
                .len(),
            2
        );
        assert_eq!(s.will(&pre).topic, "ovms/u/car/metric/s/v3/connected");
        assert_eq!(s.default_prefix("u", ""), "ovms/u/");
        assert!(
            s.event_excluded("ticker.60")
                && s.event_excluded("clock.0800")
                && !s.event_excluded("vehicle.on")
        );
        assert!(!s.has(MessageKind::Log));
        let cr = TopicVars {
            client_id: Some("app"),
            param: Some("server.v3"),
            instance: Some("user"),
            ..Default::default()
        };
        assert_eq!(
            s.topic(MessageKind::ConfigReply, &pre, &cr),
            "ovms/u/car/client/app/config/server/v3/user"
        );
        assert_eq!(s.param_default("updatetime.on"), Some(5));
        assert_eq!(
            Profile::builtin("fw-3.3.005")
                .unwrap()
                .param_default("updatetime.on"),
            Some(600)
        );
        assert_eq!(Profile::builtin("shipped").unwrap().name(), "fw-3.3.006");
    }

    #[test]
    fn bad_profiles_give_file_line_column() {
        let good = Profile::builtin_source("draft").unwrap();
        let unknown = good.replace(
            "clean_session: false",
            "clean_session: false\n  bogus_field: 1",
        );
        let e = Profile::from_yaml_str(&unknown, "my.yaml")
            .unwrap_err()
            .message;
        assert!(e.starts_with("my.yaml:"), "{e}");
        let parts: Vec<&str> = e.splitn(4, ':').collect();
        assert!(
            parts[1].parse::<u32>().unwrap() > 1 && parts[2].parse::<u32>().is_ok(),
            "{e}"
        );
        assert!(e.contains("bogus_field"), "{e}");

        let bad_qos = good.replace("{ topic: \"logs\", qos: 1", "{ topic: \"logs\", qos: 3");
        let e = Profile::from_yaml_str(&bad_qos, "q.yaml")
            .unwrap_err()
            .message;
        let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
        let expected = bad_qos.lines().position(|l| l.contains("qos: 3")).unwrap() + 1;
        assert_eq!(line, expected, "{e}");
        assert!(e.contains("QoS"), "{e}");

        let bad_tpl = good.replace("\"m/{metric}\"", "\"m/{metricz}\"");
        let e = Profile::from_yaml_str(&bad_tpl, "t.yaml")
            .unwrap_err()
            .message;
        let expected = bad_tpl
            .lines()
            .position(|l| l.contains("{metricz}"))
            .unwrap()
            + 1;
        assert!(e.starts_with(&format!("t.yaml:{expected}:")), "{e}");

        let e = Profile::from_yaml_str("name: [unclosed", "s.yaml")
            .unwrap_err()
            .message;
        assert!(e.starts_with("s.yaml:1:"), "{e}");
        let e = Profile::by_name_or_path("/nonexistent/profile.yaml")
            .unwrap_err()
            .message;
        assert!(e.contains("/nonexistent/profile.yaml"), "{e}");
    }

    #[test]
    fn profile_file_round_trip_from_disk() {
        let dir = std::env::temp_dir().join(format!("ovms-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("custom.yaml");
        let text = Profile::builtin_source("fw-3.3.005")
            .unwrap()
            .replace("name: fw-3.3.005", "name: custom");
        std::fs::write(&path, text).unwrap();
        let p = Profile::by_name_or_path(path.to_str().unwrap()).unwrap();
        assert_eq!(p.name(), "custom");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
