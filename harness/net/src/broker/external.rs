//! An external broker given by URL: `mqtt://host[:port]` or `mqtts://host[:port][?ca=/path.pem]`.

use super::{BrokerError, Capabilities, Endpoint, TlsEndpoint};
use std::path::PathBuf;

/// A broker we did not start and cannot control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalBroker {
    /// The URL as given.
    pub url: String,
    /// Host and port.
    pub endpoint: Endpoint,
    /// `mqtts://`.
    pub tls: bool,
    /// CA file from `?ca=`.
    pub ca_cert: Option<PathBuf>,
}

impl ExternalBroker {
    /// What an external broker is assumed to do (a standards-conforming broker; no ACL users known).
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            exact_qos: true,
            acl: false,
            tls: self.tls,
            will: true,
            retain: true,
            restart: false,
        }
    }

    /// The TLS endpoint, for `mqtts://`.
    pub fn tls_endpoint(&self) -> Option<TlsEndpoint> {
        self.tls.then(|| TlsEndpoint {
            endpoint: self.endpoint.clone(),
            ca_cert: self.ca_cert.clone().unwrap_or_default(),
        })
    }

    /// Parses the URL.
    pub fn parse(url: &str) -> Result<Self, BrokerError> {
        let bad = |reason: &str| BrokerError::BadUrl {
            url: url.into(),
            reason: reason.into(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected mqtt://host:port or mqtts://host:port"))?;
        let (tls, default_port) = match scheme {
            "mqtt" | "tcp" => (false, 1883),
            "mqtts" | "ssl" => (true, 8883),
            _ => return Err(bad("scheme must be mqtt or mqtts")),
        };
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') || authority.contains('@') {
            return Err(bad(
                "expected host[:port] (credentials go in the step, not the URL)",
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port: u16 = p
                    .parse()
                    .map_err(|_| bad("port is not a number 1..=65535"))?;
                if port == 0 {
                    return Err(bad("port 0"));
                }
                (h.trim_matches(['[', ']']).to_string(), port)
            }
            _ => (authority.to_string(), default_port),
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let mut ca_cert = None;
        if let Some(q) = query {
            for kv in q.split('&') {
                match kv.split_once('=') {
                    Some(("ca", v)) if !v.is_empty() => ca_cert = Some(PathBuf::from(v)),
                    _ => return Err(bad("only the query parameter ca=/path/to/ca.pem is known")),
                }
            }
        }
        if ca_cert.is_some() && !tls {
            return Err(bad("ca= needs mqtts://"));
        }
        Ok(ExternalBroker {
            url: url.into(),
            endpoint: Endpoint { host, port },
            tls,
            ca_cert,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let b = ExternalBroker::parse("mqtt://127.0.0.1:1999").unwrap();
        assert_eq!(b.endpoint, Endpoint::loopback(1999));
        assert!(!b.tls);
        let b = ExternalBroker::parse("mqtts://localhost?ca=/tmp/ca.pem").unwrap();
        assert_eq!(b.endpoint.port, 8883);
        assert_eq!(
            b.ca_cert.as_deref(),
            Some(std::path::Path::new("/tmp/ca.pem"))
        );
        for bad in [
            "http://x",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:99999",
            "mqtt://u@h",
            "mqtt://h?ca=x",
        ] {
            assert!(ExternalBroker::parse(bad).is_err(), "{bad}");
        }
    }
}
