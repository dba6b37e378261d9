//! Where the broker is: `mqtt://HOST:PORT` (plain TCP) or `mqtts://HOST:PORT` (TLS).

use std::fmt;
use std::str::FromStr;

/// A parsed broker address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerUrl {
    /// `true` for `mqtts://`.
    pub tls: bool,
    /// Host name or IP address (used for SNI and certificate verification with TLS).
    pub host: String,
    /// TCP port (default 1883, or 8883 with TLS).
    pub port: u16,
}

/// A broker address that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid broker address {input:?}: {reason} (expected mqtt://HOST:PORT or mqtts://HOST:PORT)"
)]
pub struct BrokerUrlError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for BrokerUrl {
    type Err = BrokerUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| BrokerUrlError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let (tls, rest) = if let Some(rest) = s.strip_prefix("mqtt://") {
            (false, rest)
        } else if let Some(rest) = s.strip_prefix("mqtts://") {
            (true, rest)
        } else {
            return Err(err("unknown scheme"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('@') {
            return Err(err("only HOST:PORT may follow the scheme"));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| err("unclosed '['"))?;
            (host.to_string(), after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (rest.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(err("empty host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| err(&format!("port {p:?} is not a number 1-65535")))?,
            None if tls => 8883,
            None => 1883,
        };
        if port == 0 {
            return Err(err("port 0"));
        }
        Ok(BrokerUrl { tls, host, port })
    }
}

impl fmt::Display for BrokerUrl {
    /// `host:port`, the form used in log lines (`broker 127.0.0.1:1883 unreachable: ...`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_tls() {
        let u: BrokerUrl = "mqtt://127.0.0.1:1884".parse().unwrap();
        assert_eq!(
            u,
            BrokerUrl {
                tls: false,
                host: "127.0.0.1".into(),
                port: 1884
            }
        );
        let u: BrokerUrl = "mqtts://localhost".parse().unwrap();
        assert_eq!((u.tls, u.port), (true, 8883));
        let u: BrokerUrl = "mqtt://[::1]:1900".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 1900));
        assert_eq!(u.to_string(), "[::1]:1900");
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "tcp://h:1",
            "mqtt://",
            "mqtt://h:x",
            "mqtt://h:0",
            "mqtt://h:70000",
            "mqtt://u@h:1",
            "mqtt://h:1/x",
        ] {
            let e = bad.parse::<BrokerUrl>().unwrap_err();
            assert!(e.to_string().contains("expected mqtt://HOST:PORT"), "{e}");
        }
    }
}
