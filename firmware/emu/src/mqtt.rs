//! Pure conversions between the core's data ([`ovms_firmware::io`]) and rumqttc's types, and the
//! one-line descriptions of connection failures. Nothing here touches the network.

use std::sync::Arc;
use std::time::Duration;

use ovms_firmware::io::{ConnectOptions, IncomingPublish, Input, QoS};
use rumqttc::{
    ConnectReturnCode, ConnectionError, LastWill, MqttOptions, StateError, TlsConfiguration,
    Transport,
};

use crate::broker::BrokerUrl;
use crate::secret::Secret;

/// Largest packet the edge sends or accepts (command output and data notifications can be long;
/// rumqttc's 10 KiB default would turn a long response into a connection error).
pub const MAX_PACKET_SIZE: usize = 1 << 20;

/// A CONNECT the edge cannot express (raised before any packet is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// MQTT 3.1.1 (MQTT-3.1.3-7): an empty client id needs clean session 1; a broker refuses it with code 2.
    #[error("empty MQTT client id with clean session 0: the broker would refuse it (identifier rejected); set --vehicle-id or server.v3 clientid")]
    EmptyClientId,
}

/// rumqttc's QoS for ours.
pub fn to_rumqttc_qos(q: QoS) -> rumqttc::QoS {
    match q {
        QoS::AtMostOnce => rumqttc::QoS::AtMostOnce,
        QoS::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
        QoS::ExactlyOnce => rumqttc::QoS::ExactlyOnce,
    }
}

/// Our QoS for rumqttc's.
pub fn from_rumqttc_qos(q: rumqttc::QoS) -> QoS {
    match q {
        rumqttc::QoS::AtMostOnce => QoS::AtMostOnce,
        rumqttc::QoS::AtLeastOnce => QoS::AtLeastOnce,
        rumqttc::QoS::ExactlyOnce => QoS::ExactlyOnce,
    }
}

/// The rumqttc options for the core's CONNECT.
///
/// - client id, clean-session flag and keepalive exactly as asked (keepalive 0 disables pings);
/// - the will with its exact QoS and retain flag;
/// - the username only when `Some` and non-empty, the password (from `password`) only when
///   `send_password` and non-empty. rumqttc omits empty strings and their flags, so the
///   ≤3.3.005 habit of sending *empty* username/password fields (flags 0xE4) cannot be reproduced;
///   with non-empty credentials the flags are the same.
pub fn mqtt_options(
    opts: &ConnectOptions,
    broker: &BrokerUrl,
    tls: Option<&Arc<rustls::ClientConfig>>,
    password: Option<&Secret>,
) -> Result<MqttOptions, ConnectError> {
    if opts.client_id.is_empty() && !opts.clean_session {
        return Err(ConnectError::EmptyClientId);
    }
    let mut o = MqttOptions::new(opts.client_id.clone(), broker.host.clone(), broker.port);
    o.set_clean_session(opts.clean_session);
    o.set_keep_alive(Duration::from_secs(u64::from(opts.keepalive_secs)));
    let will = &opts.will;
    o.set_last_will(LastWill::new(
        will.topic.clone(),
        will.payload.clone(),
        to_rumqttc_qos(will.qos),
        will.retain,
    ));
    let user = opts.username.clone().unwrap_or_default();
    let pass = match (opts.send_password, password) {
        (true, Some(p)) => p.expose().to_string(),
        _ => String::new(),
    };
    if !user.is_empty() || !pass.is_empty() {
        o.set_credentials(user, pass);
    }
    o.set_max_packet_size(MAX_PACKET_SIZE, MAX_PACKET_SIZE);
    o.set_request_channel_capacity(1024);
    o.set_inflight(1000);
    if let Some(cfg) = tls {
        o.set_transport(Transport::Tls(TlsConfiguration::Rustls(cfg.clone())));
    }
    Ok(o)
}

/// One PUBLISH as the core sees it.
pub fn incoming_publish(p: &rumqttc::Publish) -> IncomingPublish {
    IncomingPublish {
        topic: p.topic.clone(),
        payload: p.payload.to_vec(),
        qos: from_rumqttc_qos(p.qos),
        retain: p.retain,
    }
}

/// The wire code (1..=5) of a CONNACK refusal.
pub fn refusal_code(code: ConnectReturnCode) -> u8 {
    match code {
        ConnectReturnCode::Success => 0,
        ConnectReturnCode::RefusedProtocolVersion => 1,
        ConnectReturnCode::BadClientId => 2,
        ConnectReturnCode::ServiceUnavailable => 3,
        ConnectReturnCode::BadUserNamePassword => 4,
        ConnectReturnCode::NotAuthorized => 5,
    }
}

/// The text of a CONNACK refusal code.
pub fn refusal_text(code: u8) -> &'static str {
    match code {
        1 => "unacceptable protocol version",
        2 => "identifier rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        5 => "not authorised",
        _ => "unknown reason",
    }
}

/// A failed or lost connection, classified for the core and described for the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The input for the core.
    pub input: Input,
    /// One line: `broker 127.0.0.1:1883 unreachable: connection refused`.
    pub message: String,
}

/// Classify a rumqttc error. `connected` says whether CONNACK had been received on this connection.
pub fn describe_failure(err: &ConnectionError, broker: &BrokerUrl, connected: bool) -> Failure {
    if let ConnectionError::ConnectionRefused(code) = err {
        let code = refusal_code(*code);
        return Failure {
            input: Input::ConnRefused(code),
            message: format!(
                "broker {broker} refused the connection: {} (CONNACK code {code})",
                refusal_text(code)
            ),
        };
    }
    let reason = failure_reason(err);
    if connected {
        Failure {
            input: Input::ConnectionLost,
            message: format!("connection to broker {broker} lost: {reason}"),
        }
    } else if matches!(err, ConnectionError::Tls(_))
        || reason.contains("certificate")
        || reason.contains("alert")
    {
        let hint = if reason.contains("CertificateRequired") {
            " (the broker requires a client certificate: --client-cert and --client-key)"
        } else {
            ""
        };
        Failure {
            input: Input::ConnectFailed,
            message: format!("TLS handshake with broker {broker} failed: {reason}{hint}"),
        }
    } else {
        Failure {
            input: Input::ConnectFailed,
            message: format!("broker {broker} unreachable: {reason}"),
        }
    }
}

/// A short lower-case reason: `connection refused`, `connection timed out`, ...
fn failure_reason(err: &ConnectionError) -> String {
    match err {
        ConnectionError::Io(e) => io_reason(e),
        ConnectionError::NetworkTimeout => "no CONNACK within the connection timeout".into(),
        ConnectionError::FlushTimeout => "write timed out".into(),
        ConnectionError::MqttState(StateError::Io(e)) => io_reason(e),
        ConnectionError::MqttState(StateError::ConnectionAborted) => {
            "connection closed by the broker".into()
        }
        ConnectionError::MqttState(StateError::AwaitPingResp) => {
            "no PINGRESP from the broker".into()
        }
        ConnectionError::MqttState(e) => {
            let text = e.to_string();
            // An I/O error surfacing through the packet codec (e.g. a TLS alert after the
            // handshake, as TLS 1.3 reports a missing client certificate).
            match text.strip_prefix("Mqtt serialization/deserialization error: IO: ") {
                Some(io) => io.to_string(),
                None => format!("protocol error: {text}"),
            }
        }
        ConnectionError::Tls(e) => tls_reason(e),
        ConnectionError::NotConnAck(p) => format!("expected CONNACK, received {p:?}"),
        other => other.to_string(),
    }
}

fn tls_reason(e: &rumqttc::TlsError) -> String {
    let text = match e {
        rumqttc::TlsError::Io(io) => io_reason(io),
        other => other.to_string(),
    };
    if text.contains("UnknownIssuer") || text.contains("BadSignature") {
        format!("{text} (the broker's certificate is not signed by the CA given with --ca)")
    } else if text.contains("NotValidForName") {
        format!("{text} (the broker's certificate does not name this host)")
    } else {
        text
    }
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    let kind = match e.kind() {
        ConnectionRefused => "connection refused",
        ConnectionReset => "connection reset by the broker",
        ConnectionAborted => "connection aborted",
        TimedOut => "connection timed out",
        UnexpectedEof => "connection closed by the broker",
        HostUnreachable => "host unreachable",
        NetworkUnreachable => "network unreachable",
        BrokenPipe => "connection closed by the broker (broken pipe)",
        _ => "",
    };
    if kind.is_empty() {
        // Inner errors (rustls) carry the useful text; io::Error's Display shows it.
        e.to_string()
    } else {
        kind.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovms_firmware::io::Will;

    fn opts() -> ConnectOptions {
        ConnectOptions {
            client_id: "DEMO".into(),
            username: Some("alice".into()),
            send_password: true,
            clean_session: false,
            keepalive_secs: 1740,
            will: Will {
                topic: "ovms/alice/DEMO/metric/s/v3/connected".into(),
                payload: b"no".to_vec(),
                qos: QoS::AtMostOnce,
                retain: true,
            },
        }
    }

    fn broker() -> BrokerUrl {
        "mqtt://127.0.0.1:1883".parse().unwrap()
    }

    #[test]
    fn connect_options_map_exactly() {
        let o = mqtt_options(&opts(), &broker(), None, Some(&Secret::new("pw"))).unwrap();
        assert_eq!(o.client_id(), "DEMO");
        assert!(!o.clean_session());
        assert_eq!(o.keep_alive(), Duration::from_secs(1740));
        let will = o.last_will().unwrap();
        assert_eq!(
            (
                will.topic.as_str(),
                &will.message[..],
                will.qos,
                will.retain
            ),
            (
                "ovms/alice/DEMO/metric/s/v3/connected",
                &b"no"[..],
                rumqttc::QoS::AtMostOnce,
                true
            )
        );
        let login = o.credentials().unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("alice", "pw")
        );
    }

    #[test]
    fn password_only_when_asked_and_username_only_when_some() {
        let mut c = opts();
        c.send_password = false;
        let o = mqtt_options(&c, &broker(), None, Some(&Secret::new("pw"))).unwrap();
        assert_eq!(o.credentials().unwrap().password, "");
        c.username = None;
        let o = mqtt_options(&c, &broker(), None, Some(&Secret::new("pw"))).unwrap();
        assert!(o.credentials().is_none());
    }

    #[test]
    fn empty_client_id_without_clean_session_is_an_error_not_a_panic() {
        let mut c = opts();
        c.client_id.clear();
        assert_eq!(
            mqtt_options(&c, &broker(), None, None).unwrap_err(),
            ConnectError::EmptyClientId
        );
    }

    #[test]
    fn failures_are_classified_with_one_line_messages() {
        let refused =
            ConnectionError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let f = describe_failure(&refused, &broker(), false);
        assert_eq!(f.input, Input::ConnectFailed);
        assert_eq!(
            f.message,
            "broker 127.0.0.1:1883 unreachable: connection refused"
        );
        let lost = ConnectionError::MqttState(StateError::ConnectionAborted);
        let f = describe_failure(&lost, &broker(), true);
        assert_eq!(f.input, Input::ConnectionLost);
        assert_eq!(
            f.message,
            "connection to broker 127.0.0.1:1883 lost: connection closed by the broker"
        );
        let f = describe_failure(
            &ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized),
            &broker(),
            false,
        );
        assert_eq!(f.input, Input::ConnRefused(5));
        assert!(f.message.contains("not authorised (CONNACK code 5)"));
    }
}
