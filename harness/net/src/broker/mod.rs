//! Brokers behind one handle: a local `mosquitto` process, a mosquitto container, an embedded
//! rumqttd, or an external URL.
//!
//! Layout: [`mosquitto`] runs the process; [`container`] builds and runs the local image;
//! [`embedded`] runs rumqttd in-process; [`external`] parses a URL; [`config`] renders
//! mosquitto.conf; [`certs`] makes the test CA; [`passwd`] writes password and ACL files;
//! [`port`] finds free ports; [`choice`] implements [`start_broker`] (`auto` = mosquitto binary,
//! else container when Docker answers, else embedded) and says which was chosen and why.

pub mod certs;
pub mod choice;
pub mod config;
#[cfg(feature = "containers")]
pub mod container;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod external;
mod handle;
pub mod mosquitto;
pub mod passwd;
pub mod port;

pub use choice::{start_broker, BrokerChoice};
pub use handle::BrokerHandle;
pub use passwd::PasswdMethod;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to configure on a broker we start ourselves.
#[derive(Debug, Clone)]
pub struct BrokerOptions {
    /// Add a TLS listener with a freshly generated CA and server certificate.
    pub tls: bool,
    /// Users (name, password) of the authenticated listener; empty = no such listener.
    pub users: Vec<(String, String)>,
    /// ACL pattern for the authenticated listener (`%u` = user name).
    pub acl_pattern: String,
    /// How to write the password file.
    pub passwd_method: PasswdMethod,
    /// How long to wait for the readiness line.
    pub ready_timeout: Duration,
    /// Extra lines for the general section of mosquitto.conf.
    pub extra_config: Vec<String>,
    /// Let anonymous clients onto the authenticated listener too (`allow_anonymous true`). Fault
    /// injection only: the suite's mutation test shows the "anonymous refused" scenario failing.
    pub auth_allows_anonymous: bool,
    /// Check passwords on the authenticated listener (default). `false` drops the password
    /// file (any password, or none, is accepted; the ACL still applies by user name): fault
    /// injection only, for the suite's mutation test.
    pub auth_checks_passwords: bool,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        BrokerOptions {
            tls: false,
            users: Vec::new(),
            acl_pattern: "ovms/%u/#".into(),
            passwd_method: PasswdMethod::Auto,
            ready_timeout: Duration::from_secs(10),
            extra_config: Vec::new(),
            auth_allows_anonymous: false,
            auth_checks_passwords: true,
        }
    }
}

/// A TCP address clients connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// `127.0.0.1:port`.
    pub fn loopback(port: u16) -> Self {
        Endpoint {
            host: "127.0.0.1".into(),
            port,
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A TLS listener and the CA that signed its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsEndpoint {
    /// Address of the TLS listener.
    pub endpoint: Endpoint,
    /// PEM file of the CA clients must trust (empty path for an external broker with public CA).
    pub ca_cert: PathBuf,
}

/// What a broker can be trusted to show; scenarios needing a missing capability are skipped
/// with [`Capabilities::missing`] as the visible reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Delivers with QoS = min(publish QoS, subscription QoS) (rumqttd does not).
    pub exact_qos: bool,
    /// Has the authenticated listener with the `ovms/%u/#` ACL.
    pub acl: bool,
    /// Has the TLS listener with our CA.
    pub tls: bool,
    /// Sends wills on abrupt disconnect.
    pub will: bool,
    /// Keeps and delivers retained messages.
    pub retain: bool,
    /// Can be stopped, killed and restarted on the same port.
    pub restart: bool,
}

impl Capabilities {
    /// Names of the wanted capabilities this broker lacks (empty = all present).
    pub fn missing(&self, wanted: &Capabilities) -> Vec<&'static str> {
        let mut v = Vec::new();
        let pairs = [
            (wanted.exact_qos, self.exact_qos, "exact QoS on delivery"),
            (wanted.acl, self.acl, "ACL"),
            (wanted.tls, self.tls, "TLS"),
            (wanted.will, self.will, "will"),
            (wanted.retain, self.retain, "retain"),
            (wanted.restart, self.restart, "restart"),
        ];
        for (want, have, name) in pairs {
            if want && !have {
                v.push(name);
            }
        }
        v
    }

    /// No capability (useful as a base for `wanted`).
    pub const NONE: Capabilities = Capabilities {
        exact_qos: false,
        acl: false,
        tls: false,
        will: false,
        retain: false,
        restart: false,
    };
}

/// Why a broker could not be started or controlled.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A required program is not installed.
    #[error("not found: {what}")]
    NotFound {
        /// What is missing.
        what: String,
    },
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The broker did not report readiness in time.
    #[error("{what} did not report readiness within {timeout:?}; its log:\n{log}")]
    StartTimeout {
        /// Which broker.
        what: String,
        /// The timeout.
        timeout: Duration,
        /// Its log so far.
        log: String,
    },
    /// The broker exited during start.
    #[error("{what} exited during start ({status}); its log:\n{log}")]
    Exited {
        /// Which broker.
        what: String,
        /// Exit status.
        status: String,
        /// Its log.
        log: String,
    },
    /// Certificate generation failed.
    #[error("generating test certificates: {0}")]
    Certificates(String),
    /// A generated file could not be made.
    #[error("broker configuration: {0}")]
    Config(String),
    /// Docker is not usable (one-line reason).
    #[error("docker: {0}")]
    Docker(String),
    /// The embedded broker failed.
    #[error("embedded broker: {0}")]
    Embedded(String),
    /// The broker URL is not `mqtt://host:port` or `mqtts://host:port`.
    #[error("bad broker URL {url:?}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// This kind of broker cannot do the operation.
    #[error("{kind} broker cannot {op}")]
    Unsupported {
        /// Broker kind.
        kind: &'static str,
        /// Operation.
        op: &'static str,
    },
    /// The requested broker kind was compiled out.
    #[error("broker kind {0} is not compiled in (enable the cargo feature)")]
    NotCompiled(&'static str),
}

/// A shared, bounded text buffer collecting a broker's log lines.
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<String>>);

/// Upper bound on kept log text (older text is dropped first).
const LOG_LIMIT: usize = 1 << 20;

impl LogBuffer {
    /// Appends one line.
    pub fn push_line(&self, line: &str) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.push_str(line);
        s.push('\n');
        if s.len() > LOG_LIMIT {
            let mut cut = s.len() - LOG_LIMIT / 2;
            while !s.is_char_boundary(cut) {
                cut += 1;
            }
            s.drain(..cut);
        }
    }

    /// The collected text.
    pub fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Finds an executable named `name` on PATH.
pub(crate) fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
