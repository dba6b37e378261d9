//! The MQTT session: CONNECT options, CONNACK handling, reconnect delays, the connect work
//! (SUBSCRIBE, `s.v3.connected`, the connect full pass).

use super::Module;
use crate::io::{Action, ConnectOptions};
use crate::metrics::MetricValue;
use crate::profile::{ConnectWork, ConnectedPublish, MessageKind, Profile, TopicVars};
use crate::time::{Duration, Instant};

/// Where the connection is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum ConnState {
    /// No connection; a retry may be scheduled.
    #[default]
    Disconnected,
    /// CONNECT requested, waiting for the result.
    Connecting,
    /// CONNACK accepted.
    Connected,
}

/// Session state.
#[derive(Clone, Debug, Default)]
pub(super) struct Session {
    pub state: ConnState,
    /// When the next CONNECT goes out.
    pub retry_at: Option<Instant>,
    /// SUBSCRIBE + full pass still to run on the next tick (`m_sendall`).
    pub connect_work_pending: bool,
    /// The `server v3 status` detail line.
    pub status: String,
    /// Number of accepted connections so far.
    pub connections: u64,
    /// When the last CONNECT went out.
    pub last_connect: Option<Instant>,
}

impl Session {
    pub fn is_connected(&self) -> bool {
        self.state == ConnState::Connected
    }
}

/// The prefix the module uses: the configured one verbatim, else the profile default.
pub(super) fn resolve_prefix(profile: &Profile, config: &super::ModuleConfig) -> String {
    match config.topic_prefix.as_deref() {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => profile.default_prefix(&config.username, &config.vehicle_id),
    }
}

impl Module {
    /// Emit CONNECT (the prefix and options are re-read from config, as `Connect()` does).
    pub(super) fn connect(&mut self, now: Instant) {
        self.session.last_connect = Some(now);
        self.prefix = resolve_prefix(&self.profile, &self.config);
        let spec = &self.profile.spec().session;
        let client_id = match (&self.config.client_id, spec.client_id_configurable) {
            (Some(c), true) if !c.is_empty() => c.clone(),
            _ => self.config.vehicle_id.clone(),
        };
        let username = if spec.send_empty_credentials || !self.config.username.is_empty() {
            Some(self.config.username.clone())
        } else {
            None
        };
        let send_password = spec.send_empty_credentials || self.config.has_password;
        let keepalive_secs = self.config.keepalive_secs.unwrap_or_else(|| {
            spec.keepalive_param
                .as_deref()
                .and_then(|p| self.config.params.get(p))
                .and_then(|v| v.trim().parse::<u16>().ok())
                .unwrap_or(spec.keepalive_secs)
        });
        let opts = ConnectOptions {
            client_id,
            username,
            send_password,
            clean_session: spec.clean_session,
            keepalive_secs,
            will: self.profile.will(&self.prefix),
        };
        self.session.state = ConnState::Connecting;
        self.session.retry_at = None;
        self.session.status = "Connecting...".into();
        self.actions.push_back(Action::Connect(opts));
    }

    fn schedule_retry(&mut self, now: Instant, secs: u64, status: String) {
        self.session.state = ConnState::Disconnected;
        self.session.connect_work_pending = false;
        self.session.retry_at = Some(now + Duration::from_secs(secs));
        self.session.status = status;
    }

    pub(super) fn on_conn_accepted(&mut self, now: Instant) {
        if self.session.state != ConnState::Connecting {
            return; // a stray CONNACK: ignore
        }
        self.session.state = ConnState::Connected;
        self.session.connections += 1;
        self.session.status = "Connected to OVMS Server V3".into();
        self.passes.reset_chunks();
        let spec = self.profile.spec().session.clone();
        self.store_metric("s.v3.connected", MetricValue::Bool(true));
        // `s.v3.peers` reflects the peer count server v3 works with (0 after a disconnect until
        // the next purge recounts the kept client map).
        self.store_metric("s.v3.peers", MetricValue::Int(self.clients.peers as i64));
        self.log_line(now, "Status: Connected to OVMS Server V3");
        self.raise_event("server.v3.connected".into());
        match spec.connect_work {
            ConnectWork::AfterConnack => self.connect_work(now),
            ConnectWork::NextTick => self.session.connect_work_pending = true,
        }
    }

    /// SUBSCRIBE, `yes` where the profile publishes it on its own, then the full pass.
    pub(super) fn connect_work(&mut self, now: Instant) {
        self.session.connect_work_pending = false;
        let subs = self.profile.subscriptions(&self.prefix);
        if !subs.is_empty() {
            self.actions.push_back(Action::Subscribe(subs));
        }
        if self.profile.spec().session.connected_publish == ConnectedPublish::AfterConnack {
            self.metrics.clear_modified("s.v3.connected");
            let topic =
                self.profile
                    .topic(MessageKind::Connected, &self.prefix, &TopicVars::default());
            let qos = self.profile.qos(MessageKind::Connected);
            let retain = self.profile.retain(MessageKind::Connected);
            self.push_publish(topic, b"yes".to_vec(), qos, retain);
        }
        let k = now.as_secs();
        self.passes.last_full = Some(k);
        self.passes.last_prio = Some(k);
        self.passes.last_tx = Some(k);
        self.full_pass(now);
        if self.profile.spec().session.connect_work == ConnectWork::AfterConnack {
            self.flush_queued_notifications(now);
        }
    }

    pub(super) fn on_conn_refused(&mut self, now: Instant, code: u8) {
        if self.session.state != ConnState::Connecting {
            return;
        }
        let secs = self.profile.spec().session.reconnect_secs.refused;
        self.schedule_retry(
            now,
            secs,
            format!("Error: MQTT connection refused (code {code})"),
        );
    }

    pub(super) fn on_connect_failed(&mut self, now: Instant) {
        if self.session.state != ConnState::Connecting {
            return;
        }
        let secs = self.profile.spec().session.reconnect_secs.connect_failed;
        self.schedule_retry(now, secs, "Error: Connection failed".into());
    }

    pub(super) fn on_connection_lost(&mut self, now: Instant) {
        match self.session.state {
            ConnState::Disconnected => return,
            ConnState::Connecting => return self.on_connect_failed(now),
            ConnState::Connected => {}
        }
        let secs = self.profile.spec().session.reconnect_secs.connection_lost;
        self.schedule_retry(now, secs, "Disconnected from OVMS Server V3".into());
        self.store_metric("s.v3.connected", MetricValue::Bool(false));
        self.store_metric("s.v3.peers", MetricValue::Int(0));
        self.passes.reset_chunks();
    }

    /// The `server v3 status` text (the firmware's two lines).
    pub(super) fn status_text(&self) -> String {
        let state = match self.session.state {
            ConnState::Connected => "State: Connected".to_string(),
            ConnState::Connecting => "State: Connecting...".to_string(),
            ConnState::Disconnected => match self.session.retry_at {
                Some(at) => format!(
                    "State: Waiting to reconnect ({} second(s) remaining)",
                    at.saturating_since(self.now).as_millis().div_ceil(1000)
                ),
                None => "State: Disconnected".to_string(),
            },
        };
        format!(
            "{state}\n       {}\n       Profile: {}, prefix {}, peers {}, interval {} s\n",
            self.session.status,
            self.profile.name(),
            self.prefix,
            self.clients.peers,
            self.modified_interval()
        )
    }
}
