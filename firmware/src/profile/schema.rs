//! The profile file format (YAML). Every struct rejects unknown fields, so a typo is an error with
//! its line and column rather than a silently ignored setting.

use serde::Deserialize;

/// A whole profile file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// Profile name (`draft`, `fw-3.3.005`, ...).
    pub name: String,
    /// One line on what the profile models.
    #[serde(default)]
    pub description: String,
    /// Default topic prefix template; `{user}` and `{vehicle}` are filled in.
    pub prefix: String,
    /// Default prefix when the vehicle id is empty.
    pub prefix_no_vehicle: String,
    /// Topic templates per message kind, relative to the prefix. An absent kind does not exist.
    pub topics: Topics,
    /// The filters of the one SUBSCRIBE packet, relative to the prefix.
    pub subscriptions: Vec<Subscription>,
    /// The last will (its topic is the `connected` topic).
    pub will: WillSpec,
    /// CONNECT and reconnect behaviour.
    pub session: SessionSpec,
    /// Metric payload and topic details.
    pub metrics: MetricsSpec,
    /// Client (peer) presence.
    pub clients: ClientsSpec,
    /// When modified passes run.
    pub cadence: CadenceSpec,
    /// Full passes ("send all") and pass chunking.
    pub passes: PassesSpec,
    /// Notifications.
    pub notifications: NotificationsSpec,
    /// Commands.
    pub commands: CommandsSpec,
    /// Events.
    pub events: EventsSpec,
}

/// Topic templates (relative to the prefix).
///
/// Placeholders: `{metric}`, `{event}`, `{subtype}`, `{param}`, `{instance}` (dots become `/`),
/// `{client}`, `{command_id}`, `{type}`, `{id}`, `{age}` (one topic level each).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Topics {
    /// Metric values.
    pub metric: Option<TopicSpec>,
    /// `s.v3.connected` and the will.
    pub connected: Option<TopicSpec>,
    /// Client heartbeat.
    pub client_active: Option<TopicSpec>,
    /// Command from a client.
    pub command: Option<TopicSpec>,
    /// Response to a command.
    pub response: Option<TopicSpec>,
    /// Text notification (info, error, alert).
    pub notify: Option<TopicSpec>,
    /// Data notification.
    pub notify_data: Option<TopicSpec>,
    /// Event on one topic, payload = event name.
    pub event_legacy: Option<TopicSpec>,
    /// Event on its own topic, empty payload.
    pub event_topic: Option<TopicSpec>,
    /// Log lines.
    pub log: Option<TopicSpec>,
    /// Client metric request.
    pub request_metric: Option<TopicSpec>,
    /// Client config request.
    pub request_config: Option<TopicSpec>,
    /// Config reply to a client.
    pub config_reply: Option<TopicSpec>,
}

/// One topic template with its QoS and retain flag.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Template relative to the prefix.
    pub topic: String,
    /// QoS 0, 1 or 2.
    #[serde(deserialize_with = "de_qos")]
    pub qos: u8,
    /// RETAIN flag.
    #[serde(default)]
    pub retain: bool,
}

/// One subscription filter.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Filter relative to the prefix.
    pub filter: String,
    /// Requested QoS.
    #[serde(deserialize_with = "de_qos")]
    pub qos: u8,
}

/// The last will.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WillSpec {
    /// Will payload.
    pub payload: String,
    /// Will QoS.
    #[serde(deserialize_with = "de_qos")]
    pub qos: u8,
    /// Will retain flag.
    pub retain: bool,
}

/// When `s.v3.connected` = `yes` goes out.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectedPublish {
    /// A dedicated publish right after CONNACK (after the SUBSCRIBE); the full pass skips it.
    AfterConnack,
    /// Only inside the full pass, in its alphabetical place.
    InFullPass,
}

/// When the SUBSCRIBE and the connect full pass run.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectWork {
    /// Right when CONNACK arrives.
    AfterConnack,
    /// On the next 1-s tick after CONNACK.
    NextTick,
}

/// Reconnect delays in seconds.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReconnectSpec {
    /// After the TCP/TLS connect failed.
    pub connect_failed: u64,
    /// After an unexpected close.
    pub connection_lost: u64,
    /// After a CONNACK refusal.
    pub refused: u64,
}

/// CONNECT parameters and reconnects.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// Clean-session flag.
    pub clean_session: bool,
    /// Keepalive default in seconds.
    pub keepalive_secs: u16,
    /// Config param overriding the keepalive (`updatetime.keepalive`), if the firmware has one.
    #[serde(default)]
    pub keepalive_param: Option<String>,
    /// Whether username and password flags are sent when the values are empty.
    pub send_empty_credentials: bool,
    /// Whether `server.v3 clientid` is honoured (else the client id is the vehicle id).
    pub client_id_configurable: bool,
    /// Seconds from boot to the first CONNECT.
    #[serde(default)]
    pub initial_connect_delay_secs: u64,
    /// Reconnect delays.
    pub reconnect_secs: ReconnectSpec,
    /// When `yes` is published.
    pub connected_publish: ConnectedPublish,
    /// When SUBSCRIBE and the connect full pass run.
    pub connect_work: ConnectWork,
}

/// Metric details.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricsSpec {
    /// Latitude/longitude with fixed 6 decimals (3.3.005+) instead of `%g`.
    pub latlon_fixed6: bool,
    /// Whether `retain.depth.limit=yes` drops RETAIN on topics with more than 7 `/` (3.3.006+).
    #[serde(default)]
    pub retain_depth_limit: bool,
    /// Whether `metrics.include` / `metrics.exclude` filter publishes (3.3.004+).
    #[serde(default)]
    pub filters: bool,
}

/// How a heartbeat payload is read.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HeartbeatRule {
    /// `1` adds/refreshes, `0` removes, anything else is ignored (draft).
    OneAddsZeroRemoves,
    /// Empty or `0` removes, anything else adds/refreshes (shipped).
    EmptyOrZeroRemoves,
}

/// How expiry is checked.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryCheck {
    /// At the exact instant (millisecond) the client expires.
    Exact,
    /// Purged in `CountClients()`: on the periodic ticker, on add/remove (and before passes if
    /// `purge_before_pass`); a client is expired once `expiry < now` in whole seconds.
    Ticker,
}

/// Client presence.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientsSpec {
    /// Seconds after the last heartbeat a client expires.
    pub expiry_secs: u64,
    /// How expiry is checked.
    pub expiry_check: ExpiryCheck,
    /// Period of the purge ticker (60).
    #[serde(default = "default_ticker")]
    pub ticker_secs: u64,
    /// Purge before each metric pass (3.3.006+).
    #[serde(default)]
    pub purge_before_pass: bool,
    /// Heartbeat payload rule.
    pub heartbeat: HeartbeatRule,
    /// A peer-count change resets the modified timer (a modified pass on the next tick).
    pub peer_change_resets_timer: bool,
    /// Raise `app.connected` / `app.disconnected` on count changes.
    #[serde(default)]
    pub app_events: bool,
}

fn default_ticker() -> u64 {
    60
}

/// How the modified interval is chosen.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CadenceRule {
    /// The minimum of idle and every applicable interval (3.3.004–3.3.005).
    Minimum,
    /// The first that applies in `order`, else idle (3.3.006).
    FirstMatch,
}

/// A condition that selects an interval.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CadenceCondition {
    /// `v.e.on` → `updatetime.on`.
    On,
    /// `v.c.charging` → `updatetime.charging`.
    Charging,
    /// peers > 0 → `updatetime.connected`.
    Connected,
    /// `v.e.awake` → `updatetime.awake`.
    Awake,
}

/// How "due" is compared.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DueCompare {
    /// `now >= last + interval` (exactly every interval).
    AtLeast,
    /// `now > last + interval` (the firmware's test: one tick later, every interval + 1 s).
    Greater,
}

/// Default intervals in seconds; `None` means "same as idle".
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CadenceDefaults {
    /// `updatetime.idle`.
    pub idle: u64,
    /// `updatetime.connected`.
    pub connected: u64,
    /// `updatetime.on`.
    pub on: Option<u64>,
    /// `updatetime.charging`.
    pub charging: Option<u64>,
    /// `updatetime.awake`.
    pub awake: Option<u64>,
    /// `updatetime.sendall`; 0 = no periodic full pass unless `sendall_zero_every_tick`.
    pub sendall: u64,
}

/// Modified-pass cadence.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CadenceSpec {
    /// Interval rule.
    pub rule: CadenceRule,
    /// Order for `first_match` (ignored for `minimum`).
    #[serde(default)]
    pub order: Vec<CadenceCondition>,
    /// Due comparison.
    pub compare: DueCompare,
    /// Defaults.
    pub defaults: CadenceDefaults,
    /// `updatetime.sendall` = 0 means a full pass every tick (3.3.006) instead of "off".
    #[serde(default)]
    pub sendall_zero_every_tick: bool,
    /// Events that run a modified pass at once (3.3.006).
    #[serde(default)]
    pub immediate_modified_events: Vec<String>,
}

/// Which metrics a full pass publishes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FullPassQualifies {
    /// Defined metrics whose string value is non-empty (3.2.016–3.3.005).
    NonEmpty,
    /// Defined metrics (3.3.006+).
    Defined,
}

/// The full pass a new client (or the connect event) triggers (3.3.006).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewClientPass {
    /// Events that trigger the rule.
    pub events: Vec<String>,
    /// Full pass if the last full pass started more than this many seconds ago.
    pub full_if_last_full_older_than_secs: u64,
    /// Else a modified pass if the last transmission was more than this many seconds ago.
    pub modified_if_last_tx_older_than_secs: u64,
}

/// Full passes and chunking.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PassesSpec {
    /// Which metrics a full pass publishes.
    pub full_qualifies: FullPassQualifies,
    /// Max published metrics per full-pass call (`queue.sendall`), `None` = no chunking.
    #[serde(default)]
    pub full_chunk: Option<usize>,
    /// Max published metrics per modified-pass call (`queue.modified`), `None` = no chunking.
    #[serde(default)]
    pub modified_chunk: Option<usize>,
    /// A modified pass only publishes defined metrics (3.3.006).
    #[serde(default)]
    pub modified_requires_defined: bool,
    /// Full pass on a new client / connect event (3.3.006).
    #[serde(default)]
    pub new_client: Option<NewClientPass>,
    /// The priority pass's fixed metric list (3.3.006, §4.3); absent = no priority path.
    #[serde(default)]
    pub priority_metrics: Option<Vec<String>>,
    /// The immediate path (`updatetime.immediately`, 3.3.006, §4.3).
    #[serde(default)]
    pub immediate: bool,
}

/// When notifications go out.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NotifyDelivery {
    /// At once while connected; queued while disconnected and flushed right after the connect pass.
    Immediate,
    /// Text types at once while connected; data (and anything queued while disconnected) on the
    /// 1-s tick, at most one per type per tick.
    PerTick,
}

/// Notifications.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotificationsSpec {
    /// Accepted types (`info`, `error`, `alert`, `data`).
    pub types: Vec<String>,
    /// Delivery.
    pub delivery: NotifyDelivery,
    /// Data notifications carry only the first line.
    pub data_first_line_only: bool,
    /// Raise `notify.<type>.<subtype>` events for text notifications.
    #[serde(default)]
    pub raise_events: bool,
}

/// How a command payload may carry a tag.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CommandTag {
    /// No tag: the payload is the bare command.
    None,
    /// IMAP-style: a first word that is not a known command verb is a tag, echoed before the output.
    LeadingWord,
}

/// Commands.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommandsSpec {
    /// Tag rule.
    pub tag: CommandTag,
    /// Longest accepted command in bytes.
    #[serde(default = "default_max_command")]
    pub max_len: usize,
}

fn default_max_command() -> usize {
    2048
}

/// Events.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventsSpec {
    /// Event names never published (`ticker.*` style patterns allowed).
    pub exclude: Vec<String>,
    /// Config param that can turn the legacy topic off (`events.legacy_topic`), if any.
    #[serde(default)]
    pub legacy_param: Option<String>,
}

/// A QoS number, rejected (with its location) unless 0, 1 or 2.
fn de_qos<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let n = u8::deserialize(d)?;
    if n > 2 {
        return Err(serde::de::Error::custom(format!(
            "QoS must be 0, 1 or 2, found {n}"
        )));
    }
    Ok(n)
}
