//! `BrokerHandle`: one type over the four broker kinds.

#[cfg(feature = "containers")]
use super::container::ContainerBroker;
#[cfg(feature = "embedded")]
use super::embedded::EmbeddedBroker;
use super::external::ExternalBroker;
use super::mosquitto::MosquittoBroker;
use super::{BrokerError, Capabilities, Endpoint, TlsEndpoint};

/// The broker kinds.
#[derive(Debug)]
pub(crate) enum Inner {
    Mosquitto(Box<MosquittoBroker>),
    #[cfg(feature = "containers")]
    Container(Box<ContainerBroker>),
    #[cfg(feature = "embedded")]
    Embedded(EmbeddedBroker),
    External(ExternalBroker),
}

/// A running (or external) broker. Dropping it stops brokers we started and removes their files.
#[derive(Debug)]
pub struct BrokerHandle {
    pub(crate) inner: Inner,
    pub(crate) why: String,
}

impl BrokerHandle {
    /// Wraps a started mosquitto process.
    pub fn from_mosquitto(b: MosquittoBroker, why: impl Into<String>) -> Self {
        BrokerHandle {
            inner: Inner::Mosquitto(Box::new(b)),
            why: why.into(),
        }
    }

    /// `"mosquitto"`, `"container"`, `"embedded"` or `"external"`.
    pub fn kind(&self) -> &'static str {
        match &self.inner {
            Inner::Mosquitto(_) => "mosquitto",
            #[cfg(feature = "containers")]
            Inner::Container(_) => "container",
            #[cfg(feature = "embedded")]
            Inner::Embedded(_) => "embedded",
            Inner::External(_) => "external",
        }
    }

    /// Why this broker was chosen (e.g. `auto: mosquitto binary found at /usr/sbin/mosquitto`).
    pub fn why(&self) -> &str {
        &self.why
    }

    /// One human line, e.g. `broker: mosquitto 2.0.11 (local process, 127.0.0.1:41233)`.
    pub fn describe(&self) -> String {
        let ep = self.endpoint();
        match &self.inner {
            Inner::Mosquitto(b) => {
                format!("broker: mosquitto {} (local process, {ep})", b.version())
            }
            #[cfg(feature = "containers")]
            Inner::Container(b) => format!(
                "broker: mosquitto {} (container {}, {ep})",
                b.version(),
                &b.id()[..b.id().len().min(12)]
            ),
            #[cfg(feature = "embedded")]
            Inner::Embedded(_) => format!(
                "broker: rumqttd 0.20 (embedded, {ep}; QoS on delivery not meaningful, no ACL/TLS)"
            ),
            Inner::External(b) => format!("broker: external {}", b.url),
        }
    }

    /// The plain (or, for `mqtts://` URLs, the only) listener.
    pub fn endpoint(&self) -> Endpoint {
        match &self.inner {
            Inner::Mosquitto(b) => b.endpoint(),
            #[cfg(feature = "containers")]
            Inner::Container(b) => b.endpoint(),
            #[cfg(feature = "embedded")]
            Inner::Embedded(b) => b.endpoint(),
            Inner::External(b) => b.endpoint.clone(),
        }
    }

    /// `(host, port)` of [`BrokerHandle::endpoint`].
    pub fn host_port(&self) -> (String, u16) {
        let e = self.endpoint();
        (e.host, e.port)
    }

    /// `mqtt://host:port` of the plain listener (or the external URL).
    pub fn url(&self) -> String {
        match &self.inner {
            Inner::External(b) => b.url.clone(),
            _ => format!("mqtt://{}", self.endpoint()),
        }
    }

    /// The TLS listener and its CA, when there is one.
    pub fn tls(&self) -> Option<TlsEndpoint> {
        match &self.inner {
            Inner::Mosquitto(b) => b.tls(),
            #[cfg(feature = "containers")]
            Inner::Container(b) => b.tls(),
            #[cfg(feature = "embedded")]
            Inner::Embedded(_) => None,
            Inner::External(b) => b.tls_endpoint(),
        }
    }

    /// The authenticated listener (password file + ACL), when there is one.
    pub fn auth(&self) -> Option<Endpoint> {
        match &self.inner {
            Inner::Mosquitto(b) => b.auth(),
            #[cfg(feature = "containers")]
            Inner::Container(b) => b.auth(),
            #[cfg(feature = "embedded")]
            Inner::Embedded(_) => None,
            Inner::External(_) => None,
        }
    }

    /// What this broker can be trusted with.
    pub fn capabilities(&self) -> Capabilities {
        let full = |tls: bool, acl: bool| Capabilities {
            exact_qos: true,
            acl,
            tls,
            will: true,
            retain: true,
            restart: true,
        };
        match &self.inner {
            Inner::Mosquitto(b) => full(b.tls().is_some(), b.auth().is_some()),
            #[cfg(feature = "containers")]
            Inner::Container(b) => full(b.tls().is_some(), b.auth().is_some()),
            #[cfg(feature = "embedded")]
            Inner::Embedded(_) => EmbeddedBroker::CAPABILITIES,
            Inner::External(b) => b.capabilities(),
        }
    }

    /// The broker's log so far (empty for embedded and external brokers).
    pub async fn log(&self) -> String {
        match &self.inner {
            Inner::Mosquitto(b) => b.log(),
            #[cfg(feature = "containers")]
            Inner::Container(b) => b.log().await,
            _ => String::new(),
        }
    }

    /// Stops the broker gracefully.
    pub async fn stop(&mut self) -> Result<(), BrokerError> {
        match &mut self.inner {
            Inner::Mosquitto(b) => b.stop().await,
            #[cfg(feature = "containers")]
            Inner::Container(b) => b.stop().await,
            other => Err(unsupported(other, "stop")),
        }
    }

    /// Kills the broker (SIGKILL), for fault tests.
    pub async fn kill(&mut self) -> Result<(), BrokerError> {
        match &mut self.inner {
            Inner::Mosquitto(b) => b.kill().await,
            #[cfg(feature = "containers")]
            Inner::Container(b) => b.kill().await,
            other => Err(unsupported(other, "kill")),
        }
    }

    /// Starts the broker again on the same port(s).
    pub async fn restart(&mut self) -> Result<(), BrokerError> {
        match &mut self.inner {
            Inner::Mosquitto(b) => b.restart().await,
            #[cfg(feature = "containers")]
            Inner::Container(b) => b.restart().await,
            other => Err(unsupported(other, "restart")),
        }
    }
}

fn unsupported(inner: &Inner, op: &'static str) -> BrokerError {
    let kind = match inner {
        Inner::External(_) => "external",
        _ => "embedded",
    };
    BrokerError::Unsupported { kind, op }
}
