//! rumqttd 0.20 in-process on a free loopback port: the zero-install smoke broker.
//!
//! Known defect: rumqttd delivers every message with the *subscription* QoS instead of
//! min(publish QoS, subscription QoS) (MQTT-3.8.4-6), has no ACL and is not given our TLS
//! listener here. [`EmbeddedBroker::CAPABILITIES`] says so, and scenarios that need those are
//! skipped with that reason. rumqttd has no shutdown API: its threads live until the process exits.

use super::port::free_ports;
use super::{BrokerError, BrokerOptions, Capabilities, Endpoint};
use std::time::{Duration, Instant};

/// A running rumqttd.
#[derive(Debug)]
pub struct EmbeddedBroker {
    port: u16,
}

impl EmbeddedBroker {
    /// What rumqttd can be trusted with.
    pub const CAPABILITIES: Capabilities = Capabilities {
        exact_qos: false,
        acl: false,
        tls: false,
        will: true,
        retain: true,
        restart: false,
    };

    /// Starts rumqttd with one MQTT 3.1.1 listener on a free loopback port. TLS and users in
    /// `opts` are not supported and give an error rather than being ignored.
    pub async fn start(opts: &BrokerOptions) -> Result<Self, BrokerError> {
        if opts.tls {
            return Err(BrokerError::Unsupported {
                kind: "embedded",
                op: "serve TLS with the generated CA",
            });
        }
        if !opts.users.is_empty() {
            return Err(BrokerError::Unsupported {
                kind: "embedded",
                op: "enforce the password file and ACL",
            });
        }
        let port = free_ports(1)?[0];
        let config = serde_json::json!({
            "id": 0,
            "router": {
                "max_connections": 1000,
                "max_outgoing_packet_count": 200,
                "max_segment_size": 104_857_600,
                "max_segment_count": 10
            },
            "v4": { "1": {
                "name": "ovms-hil-v4",
                "listen": format!("127.0.0.1:{port}"),
                "next_connection_delay_ms": 1,
                "connections": {
                    "connection_timeout_ms": 60_000,
                    "max_payload_size": 1_048_576,
                    "max_inflight_count": 100,
                    "dynamic_filters": true
                }
            }}
        });
        let config: rumqttd::Config = serde_json::from_value(config)
            .map_err(|e| BrokerError::Embedded(format!("building the config: {e}")))?;
        std::thread::Builder::new()
            .name("ovms-hil-rumqttd".into())
            .spawn(move || {
                let mut broker = rumqttd::Broker::new(config);
                if let Err(e) = broker.start() {
                    tracing::error!("rumqttd stopped: {e}");
                }
            })
            .map_err(|source| BrokerError::Io {
                context: "spawning the rumqttd thread".into(),
                source,
            })?;
        let deadline = Instant::now() + opts.ready_timeout;
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(EmbeddedBroker { port });
            }
            if Instant::now() > deadline {
                return Err(BrokerError::StartTimeout {
                    what: "rumqttd".into(),
                    timeout: opts.ready_timeout,
                    log: format!("nothing accepted connections on 127.0.0.1:{port}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The listener.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::loopback(self.port)
    }
}
