//! Shared MQTT client plumbing over rumqttc 0.25 (v4 and v5): connection options, the lean rustls
//! (ring) TLS config, and one event type for both protocol versions. Used by the observer and
//! the app client.

use crate::broker::Endpoint;
use rumqttc::v5::mqttbytes::v5 as m5;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Which MQTT version a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MqttVersion {
    /// MQTT 3.1.1.
    #[default]
    V4,
    /// MQTT 5 (needed for retain-as-published).
    V5,
}

/// A will for a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WillSpec {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS 0..=2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
}

/// Default for [`ClientOptions::max_packet_size`]: 16 MiB.
pub const DEFAULT_MAX_PACKET_SIZE: usize = 16 * 1024 * 1024;

/// How to connect a client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Client identifier.
    pub client_id: String,
    /// User name and password.
    pub credentials: Option<(String, String)>,
    /// CA file; `Some` means TLS.
    pub ca_cert: Option<PathBuf>,
    /// Keepalive (0 or at least 1 s).
    pub keep_alive: Duration,
    /// Clean session / clean start.
    pub clean_session: bool,
    /// Will.
    pub will: Option<WillSpec>,
    /// Protocol version.
    pub version: MqttVersion,
    /// Reconnect after a lost connection (after the first successful CONNACK).
    pub reconnect: bool,
    /// Pause between reconnect attempts (rumqttc has no back-off of its own).
    pub reconnect_delay: Duration,
    /// How long the first connection may take.
    pub connect_timeout: Duration,
    /// Largest packet sent or accepted (rumqttc's own default is only 10 KiB).
    pub max_packet_size: usize,
}

impl ClientOptions {
    /// Plain MQTT 3.1.1, keepalive 30 s, clean session, reconnecting.
    pub fn new(endpoint: Endpoint, client_id: impl Into<String>) -> Self {
        ClientOptions {
            endpoint,
            client_id: client_id.into(),
            credentials: None,
            ca_cert: None,
            keep_alive: Duration::from_secs(30),
            clean_session: true,
            will: None,
            version: MqttVersion::V4,
            reconnect: true,
            reconnect_delay: Duration::from_millis(100),
            connect_timeout: Duration::from_secs(5),
            max_packet_size: DEFAULT_MAX_PACKET_SIZE,
        }
    }

    /// Sets user name and password.
    pub fn with_credentials(mut self, user: impl Into<String>, pass: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), pass.into()));
        self
    }

    /// Uses TLS trusting `ca_cert`.
    pub fn with_tls(mut self, ca_cert: impl Into<PathBuf>) -> Self {
        self.ca_cert = Some(ca_cert.into());
        self
    }

    /// Sets the will.
    pub fn with_will(
        mut self,
        topic: impl Into<String>,
        payload: impl Into<Vec<u8>>,
        qos: u8,
        retain: bool,
    ) -> Self {
        self.will = Some(WillSpec {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
        });
        self
    }

    /// Sets the keepalive.
    pub fn with_keep_alive(mut self, d: Duration) -> Self {
        self.keep_alive = d;
        self
    }

    /// Speaks MQTT 5.
    pub fn v5(mut self) -> Self {
        self.version = MqttVersion::V5;
        self
    }

    /// Disables reconnecting.
    pub fn without_reconnect(mut self) -> Self {
        self.reconnect = false;
        self
    }
}

/// Why a client could not connect or act.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The CA file could not be used.
    #[error("TLS setup with CA {path}: {reason}")]
    TlsSetup {
        /// CA file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The options are invalid.
    #[error("invalid client options: {0}")]
    Options(String),
    /// The broker refused the connection.
    #[error("connection to {endpoint} refused: {reason}")]
    Refused {
        /// Broker address.
        endpoint: String,
        /// Refusal text with its return code.
        reason: String,
    },
    /// Connecting failed (network, TLS handshake, protocol).
    #[error("connecting to {endpoint} failed: {reason}")]
    Connect {
        /// Broker address.
        endpoint: String,
        /// Cause (e.g. `TLS: invalid peer certificate: UnknownIssuer`).
        reason: String,
    },
    /// Nothing happened in time.
    #[error("{what} did not happen within {timeout:?}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The limit.
        timeout: Duration,
    },
    /// The client's event loop has stopped.
    #[error("client {0} is closed")]
    Closed(String),
}

/// Builds a rustls client config (ring provider) trusting only the CA in `ca_cert`.
pub fn tls_config(ca_cert: &Path) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let err = |reason: String| ClientError::TlsSetup {
        path: ca_cert.to_path_buf(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_cert).map_err(|e| err(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| err(e.to_string()))?;
        roots.add(cert).map_err(|e| err(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(err("no certificate in the file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn qos4(q: u8) -> rumqttc::QoS {
    match q {
        0 => rumqttc::QoS::AtMostOnce,
        1 => rumqttc::QoS::AtLeastOnce,
        _ => rumqttc::QoS::ExactlyOnce,
    }
}

fn qos5(q: u8) -> rumqttc::v5::mqttbytes::QoS {
    match q {
        0 => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
        1 => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
        _ => rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
    }
}

/// A message as a client received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub retain: bool,
    pub dup: bool,
}

/// One event of either protocol version's event loop.
#[derive(Debug)]
pub(crate) enum Ev {
    /// CONNACK; `Err` holds the refusal text.
    ConnAck(Result<(), String>),
    SubAck,
    /// PUBACK or PUBCOMP: an outgoing QoS > 0 publish completed.
    PubDone,
    Publish(Received),
    /// The connection failed or was lost.
    Error(String),
    Other,
}

/// The request side of a client (cheap to clone).
#[derive(Clone, Debug)]
pub(crate) enum Link {
    V4(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

/// The event-loop side of a client.
pub(crate) enum Loop {
    V4(Box<rumqttc::EventLoop>),
    V5(Box<rumqttc::v5::EventLoop>),
}

/// Creates a client from options.
pub(crate) fn build(opts: &ClientOptions) -> Result<(Link, Loop), ClientError> {
    if !opts.keep_alive.is_zero() && opts.keep_alive < Duration::from_secs(1) {
        return Err(ClientError::Options(
            "keepalive must be 0 or at least 1 s".into(),
        ));
    }
    let tls = match &opts.ca_cert {
        Some(ca) => Some(tls_config(ca)?),
        None => None,
    };
    let host = opts.endpoint.host.clone();
    let port = opts.endpoint.port;
    let timeout = opts.connect_timeout.as_secs().max(1);
    match opts.version {
        MqttVersion::V4 => {
            let mut o = rumqttc::MqttOptions::new(&opts.client_id, host, port);
            o.set_keep_alive(opts.keep_alive)
                .set_clean_session(opts.clean_session)
                .set_max_packet_size(opts.max_packet_size, opts.max_packet_size)
                .set_inflight(16);
            if let Some((u, p)) = &opts.credentials {
                o.set_credentials(u, p);
            }
            if let Some(w) = &opts.will {
                o.set_last_will(rumqttc::LastWill::new(
                    &w.topic,
                    w.payload.clone(),
                    qos4(w.qos),
                    w.retain,
                ));
            }
            if let Some(cfg) = tls {
                o.set_transport(rumqttc::Transport::Tls(rumqttc::TlsConfiguration::Rustls(
                    cfg,
                )));
            }
            let (c, mut el) = rumqttc::AsyncClient::new(o, 64);
            el.network_options.set_connection_timeout(timeout);
            Ok((Link::V4(c), Loop::V4(Box::new(el))))
        }
        MqttVersion::V5 => {
            let mut o = rumqttc::v5::MqttOptions::new(&opts.client_id, host, port);
            o.set_keep_alive(opts.keep_alive)
                .set_clean_start(opts.clean_session)
                .set_connection_timeout(timeout)
                .set_max_packet_size(Some(
                    u32::try_from(opts.max_packet_size).unwrap_or(u32::MAX),
                ));
            if let Some((u, p)) = &opts.credentials {
                o.set_credentials(u, p);
            }
            if let Some(w) = &opts.will {
                o.set_last_will(m5::LastWill::new(
                    &w.topic,
                    w.payload.clone(),
                    qos5(w.qos),
                    w.retain,
                    None,
                ));
            }
            if let Some(cfg) = tls {
                o.set_transport(rumqttc::Transport::Tls(rumqttc::TlsConfiguration::Rustls(
                    cfg,
                )));
            }
            let (c, el) = rumqttc::v5::AsyncClient::new(o, 64);
            Ok((Link::V5(c), Loop::V5(Box::new(el))))
        }
    }
}

fn refusal_v4(code: rumqttc::ConnectReturnCode) -> String {
    use rumqttc::ConnectReturnCode as C;
    match code {
        C::Success => "accepted (rc 0)".into(),
        C::RefusedProtocolVersion => "unacceptable protocol version (rc 1)".into(),
        C::BadClientId => "identifier rejected (rc 2)".into(),
        C::ServiceUnavailable => "server unavailable (rc 3)".into(),
        C::BadUserNamePassword => "bad user name or password (rc 4)".into(),
        C::NotAuthorized => "not authorised (rc 5)".into(),
    }
}

impl Loop {
    /// Polls the next event.
    pub(crate) async fn poll(&mut self) -> Ev {
        match self {
            Loop::V4(el) => {
                use rumqttc::{Event, Packet};
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(c))) => {
                        if c.code == rumqttc::ConnectReturnCode::Success {
                            Ev::ConnAck(Ok(()))
                        } else {
                            Ev::ConnAck(Err(refusal_v4(c.code)))
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => Ev::SubAck,
                    Ok(Event::Incoming(Packet::PubAck(_)))
                    | Ok(Event::Incoming(Packet::PubComp(_))) => Ev::PubDone,
                    Ok(Event::Incoming(Packet::Publish(p))) => Ev::Publish(Received {
                        topic: p.topic.clone(),
                        payload: p.payload.to_vec(),
                        qos: p.qos as u8,
                        retain: p.retain,
                        dup: p.dup,
                    }),
                    Ok(_) => Ev::Other,
                    Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
                        Ev::ConnAck(Err(refusal_v4(code)))
                    }
                    Err(e) => Ev::Error(e.to_string()),
                }
            }
            Loop::V5(el) => {
                use m5::Packet;
                use rumqttc::v5::{ConnectionError, Event};
                match el.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(c))) => {
                        if c.code == m5::ConnectReturnCode::Success {
                            Ev::ConnAck(Ok(()))
                        } else {
                            Ev::ConnAck(Err(format!("{:?}", c.code)))
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => Ev::SubAck,
                    Ok(Event::Incoming(Packet::PubAck(_)))
                    | Ok(Event::Incoming(Packet::PubComp(_))) => Ev::PubDone,
                    Ok(Event::Incoming(Packet::Publish(p))) => Ev::Publish(Received {
                        topic: String::from_utf8_lossy(&p.topic).into_owned(),
                        payload: p.payload.to_vec(),
                        qos: p.qos as u8,
                        retain: p.retain,
                        dup: p.dup,
                    }),
                    Ok(_) => Ev::Other,
                    Err(ConnectionError::ConnectionRefused(code)) => {
                        Ev::ConnAck(Err(format!("{code:?}")))
                    }
                    Err(e) => Ev::Error(e.to_string()),
                }
            }
        }
    }
}

impl Link {
    /// Queues a SUBSCRIBE for `filters` without blocking (safe inside the event-loop task).
    pub(crate) fn try_subscribe(
        &self,
        filters: &[(String, u8)],
        retain_as_published: bool,
    ) -> Result<(), String> {
        if filters.is_empty() {
            return Ok(());
        }
        match self {
            Link::V4(c) => c
                .try_subscribe_many(
                    filters
                        .iter()
                        .map(|(f, q)| rumqttc::SubscribeFilter::new(f.clone(), qos4(*q))),
                )
                .map_err(|e| e.to_string()),
            Link::V5(c) => c
                .try_subscribe_many(filters.iter().map(|(f, q)| {
                    let mut filter = m5::Filter::new(f.clone(), qos5(*q));
                    filter.preserve_retain = retain_as_published;
                    filter
                }))
                .map_err(|e| e.to_string()),
        }
    }

    /// Queues a PUBLISH.
    pub(crate) async fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
    ) -> Result<(), String> {
        match self {
            Link::V4(c) => c
                .publish(topic, qos4(qos), retain, payload)
                .await
                .map_err(|e| e.to_string()),
            Link::V5(c) => c
                .publish(topic, qos5(qos), retain, payload)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Queues a DISCONNECT (graceful: no will).
    pub(crate) async fn disconnect(&self) -> Result<(), String> {
        match self {
            Link::V4(c) => c.disconnect().await.map_err(|e| e.to_string()),
            Link::V5(c) => c.disconnect().await.map_err(|e| e.to_string()),
        }
    }
}
