//! Free loopback ports, found by binding port 0.

use super::BrokerError;
use std::net::TcpListener;

/// Returns `n` distinct free ports on 127.0.0.1 (all probes are held until every port is chosen).
pub fn free_ports(n: usize) -> Result<Vec<u16>, BrokerError> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|source| BrokerError::Io {
            context: "binding 127.0.0.1:0 to find a free port".into(),
            source,
        })?;
        held.push(l);
    }
    held.iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(|source| BrokerError::Io {
                    context: "reading a probe port".into(),
                    source,
                })
        })
        .collect()
}
