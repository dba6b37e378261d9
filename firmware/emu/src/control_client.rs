//! A client of the control channel ([`crate::control`]), for a harness that runs `ovms-emu` as a
//! separate process.

use std::collections::BTreeMap;

use ovms_firmware::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpStream, ToSocketAddrs};

use crate::control::{escape, unescape};

/// A control command failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The connection failed or closed.
    #[error("control channel: {0}")]
    Io(#[from] std::io::Error),
    /// The emulator answered `error MESSAGE`.
    #[error("{command}: {message}")]
    Refused {
        /// The command sent.
        command: String,
        /// The message after `error `.
        message: String,
    },
    /// The reply did not follow the protocol.
    #[error("{command}: unexpected reply {reply:?}")]
    Protocol {
        /// The command sent.
        command: String,
        /// The reply line.
        reply: String,
    },
}

/// One connection to an emulator's control channel. Commands are answered in order.
pub struct ControlClient {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

/// Parse `SECS.mmm` as an instant.
fn parse_instant(command: &str, text: &str) -> Result<Instant, ControlError> {
    let bad = || ControlError::Protocol {
        command: command.into(),
        reply: format!("ok {text}"),
    };
    let (s, ms) = text.split_once('.').ok_or_else(bad)?;
    let s: u64 = s.parse().map_err(|_| bad())?;
    let ms: u64 = ms.parse().map_err(|_| bad())?;
    Ok(Instant::from_millis(s * 1000 + ms))
}

impl ControlClient {
    /// Connect to `addr` (as logged: `control channel listening on ADDR`).
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<ControlClient, ControlError> {
        let (r, w) = TcpStream::connect(addr).await?.into_split();
        Ok(ControlClient {
            reader: BufReader::new(r),
            writer: w,
        })
    }

    async fn line(&mut self) -> Result<String, ControlError> {
        let mut s = String::new();
        if self.reader.read_line(&mut s).await? == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        Ok(s.trim_end_matches(['\n', '\r']).to_string())
    }

    /// Send one command line; the text after `ok` (trimmed).
    pub async fn command(&mut self, command: &str) -> Result<String, ControlError> {
        self.writer
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        let reply = self.line().await?;
        if let Some(rest) = reply.strip_prefix("ok") {
            if rest.is_empty() || rest.starts_with(' ') {
                return Ok(rest.trim().to_string());
            }
        }
        match reply.strip_prefix("error ") {
            Some(message) => Err(ControlError::Refused {
                command: command.into(),
                message: message.into(),
            }),
            None => Err(ControlError::Protocol {
                command: command.into(),
                reply,
            }),
        }
    }

    /// `advance SECS`: the new module time (see [`crate::EmuHandle::advance`] for the guarantee).
    pub async fn advance(&mut self, d: Duration) -> Result<Instant, ControlError> {
        let cmd = format!(
            "advance {}.{:03}",
            d.as_millis() / 1000,
            d.as_millis() % 1000
        );
        let r = self.command(&cmd).await?;
        parse_instant(&cmd, &r)
    }

    /// `now`.
    pub async fn now(&mut self) -> Result<Instant, ControlError> {
        let r = self.command("now").await?;
        parse_instant("now", &r)
    }

    /// `set METRIC VALUE`.
    pub async fn set_metric(&mut self, name: &str, value: &str) -> Result<(), ControlError> {
        self.command(&format!("set {name} {}", escape(value)))
            .await
            .map(drop)
    }

    /// `metrics [FILTER]`: name → payload (newlines in values unescaped).
    pub async fn metrics(
        &mut self,
        filter: Option<&str>,
    ) -> Result<BTreeMap<String, String>, ControlError> {
        let cmd = match filter {
            Some(f) => format!("metrics {f}"),
            None => "metrics".to_string(),
        };
        let n = self.command(&cmd).await?;
        let n: usize = n.parse().map_err(|_| ControlError::Protocol {
            command: cmd.clone(),
            reply: format!("ok {n}"),
        })?;
        let mut map = BTreeMap::new();
        for _ in 0..n {
            let l = self.line().await?;
            let (k, v) = l.split_once(' ').unwrap_or((l.as_str(), ""));
            map.insert(k.to_string(), unescape(v));
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_parse() {
        assert_eq!(
            parse_instant("now", "61.005").unwrap(),
            Instant::from_millis(61_005)
        );
        assert!(parse_instant("now", "x").is_err());
    }
}
