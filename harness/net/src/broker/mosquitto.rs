//! A local `mosquitto` process on free loopback ports with a generated config, certificates,
//! password file and ACL, all in a temporary directory removed on drop.

use super::certs::{generate_tls_files, TlsFiles};
use super::config::{render, ConfigSpec};
use super::passwd::{write_acl_file, write_password_file};
use super::port::free_ports;
use super::{BrokerError, BrokerOptions, Endpoint, LogBuffer, TlsEndpoint};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

/// A mosquitto broker running as a child process.
#[derive(Debug)]
pub struct MosquittoBroker {
    binary: PathBuf,
    dir: tempfile::TempDir,
    conf: PathBuf,
    plain_port: u16,
    tls: Option<(u16, TlsFiles)>,
    auth_port: Option<u16>,
    child: Option<Child>,
    version: String,
    log: LogBuffer,
    ready_timeout: Duration,
    extra_config: Vec<String>,
    auth_allows_anonymous: bool,
    auth_checks_passwords: bool,
}

/// How often start picks new ports when one turned out to be taken.
const START_ATTEMPTS: u32 = 3;

/// Default location of the Debian package's broker.
pub const DEFAULT_BINARY: &str = "/usr/sbin/mosquitto";

/// Finds the mosquitto binary: `$OVMS_HIL_MOSQUITTO`, PATH, then `/usr/sbin/mosquitto`.
pub fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OVMS_HIL_MOSQUITTO") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    super::find_in_path("mosquitto").or_else(|| {
        let p = PathBuf::from(DEFAULT_BINARY);
        p.is_file().then_some(p)
    })
}

/// True when this process runs as root (mosquitto would then drop privileges).
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl MosquittoBroker {
    /// Generates the configuration and starts the broker; returns once it logged
    /// `mosquitto version … running`.
    pub async fn start(opts: &BrokerOptions) -> Result<Self, BrokerError> {
        let binary = find_binary().ok_or_else(|| BrokerError::NotFound {
            what: "mosquitto binary (install the mosquitto package or set OVMS_HIL_MOSQUITTO)"
                .into(),
        })?;
        Self::start_with(binary, opts).await
    }

    /// Like [`MosquittoBroker::start`] with an explicit binary.
    pub async fn start_with(binary: PathBuf, opts: &BrokerOptions) -> Result<Self, BrokerError> {
        let dir = tempfile::Builder::new()
            .prefix("ovms-hil-mosquitto-")
            .tempdir()
            .map_err(|source| BrokerError::Io {
                context: "creating the broker's temp dir".into(),
                source,
            })?;
        let tls = if opts.tls {
            Some((0, generate_tls_files(dir.path(), "ovms-hil test CA")?))
        } else {
            None
        };
        let auth_port = if opts.users.is_empty() {
            None
        } else {
            write_password_file(&dir.path().join("passwd"), &opts.users, opts.passwd_method)?;
            write_acl_file(&dir.path().join("acl"), &opts.acl_pattern)?;
            Some(0)
        };
        let mut broker = MosquittoBroker {
            binary,
            conf: dir.path().join("mosquitto.conf"),
            dir,
            plain_port: 0,
            tls,
            auth_port,
            child: None,
            version: String::new(),
            log: LogBuffer::default(),
            ready_timeout: opts.ready_timeout,
            extra_config: opts.extra_config.clone(),
            auth_allows_anonymous: opts.auth_allows_anonymous,
            auth_checks_passwords: opts.auth_checks_passwords,
        };
        // A probed free port can be taken by someone else before mosquitto binds it: retry.
        let mut attempt = 1;
        loop {
            broker.assign_ports_and_write_config()?;
            match broker.spawn().await {
                Err(BrokerError::Exited { ref log, .. })
                    if attempt < START_ATTEMPTS && log.contains("Address already in use") =>
                {
                    attempt += 1;
                    broker.log = LogBuffer::default();
                }
                other => return other.map(|()| broker),
            }
        }
    }

    /// Picks free ports for every listener and writes mosquitto.conf.
    fn assign_ports_and_write_config(&mut self) -> Result<(), BrokerError> {
        let need = 1 + self.tls.is_some() as usize + self.auth_port.is_some() as usize;
        let mut ports = free_ports(need)?.into_iter();
        self.plain_port = ports.next().unwrap_or_default();
        if let Some((port, _)) = &mut self.tls {
            *port = ports.next().unwrap_or_default();
        }
        if let Some(port) = &mut self.auth_port {
            *port = ports.next().unwrap_or_default();
        }
        let pw = self.dir.path().join("passwd");
        let acl = self.dir.path().join("acl");
        let text = render(&ConfigSpec {
            bind: Some("127.0.0.1"),
            plain_port: self.plain_port,
            tls: self.tls.as_ref().map(|(p, f)| {
                (
                    *p,
                    f.ca_cert.as_path(),
                    f.server_cert.as_path(),
                    f.server_key.as_path(),
                )
            }),
            auth: self.auth_port.map(|p| (p, pw.as_path(), acl.as_path())),
            user_root: running_as_root(),
            extra: &self.extra_config,
            auth_allows_anonymous: self.auth_allows_anonymous,
            auth_checks_passwords: self.auth_checks_passwords,
        });
        std::fs::write(&self.conf, text).map_err(|source| BrokerError::Io {
            context: format!("writing {}", self.conf.display()),
            source,
        })
    }

    async fn spawn(&mut self) -> Result<(), BrokerError> {
        let mut child = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| BrokerError::Io {
                context: format!("starting {}", self.binary.display()),
                source,
            })?;
        let stderr = child.stderr.take();
        let (ready_tx, ready_rx) = oneshot::channel::<String>();
        let log = self.log.clone();
        if let Some(stderr) = stderr {
            tokio::spawn(async move {
                let mut ready_tx = Some(ready_tx);
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.push_line(&line);
                    if let Some(v) = parse_ready_line(&line) {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(v);
                        }
                    }
                }
            });
        }
        let timeout = self.ready_timeout;
        let outcome = tokio::select! {
            v = ready_rx => match v {
                Ok(version) => Some(version),
                // stderr closed without the readiness line: the broker is exiting.
                Err(_) => {
                    let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                    return Err(self.exited(status.ok().and_then(|s| s.ok())).await);
                }
            },
            status = child.wait() => return Err(self.exited(status.ok()).await),
            _ = tokio::time::sleep(timeout) => None,
        };
        match outcome {
            Some(version) => {
                self.version = version;
                self.child = Some(child);
                Ok(())
            }
            None => {
                let _ = child.start_kill();
                Err(BrokerError::StartTimeout {
                    what: "mosquitto".into(),
                    timeout,
                    log: self.log.text(),
                })
            }
        }
    }

    async fn exited(&self, status: Option<std::process::ExitStatus>) -> BrokerError {
        // Give the stderr reader a moment to collect the last lines.
        tokio::time::sleep(Duration::from_millis(50)).await;
        BrokerError::Exited {
            what: "mosquitto".into(),
            status: status.map_or_else(|| "still running".into(), |s| s.to_string()),
            log: self.log.text(),
        }
    }

    /// Version from the readiness line, e.g. `2.0.11`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The plain anonymous listener.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::loopback(self.plain_port)
    }

    /// The TLS listener, when configured.
    pub fn tls(&self) -> Option<TlsEndpoint> {
        self.tls.as_ref().map(|(port, f)| TlsEndpoint {
            endpoint: Endpoint::loopback(*port),
            ca_cert: f.ca_cert.clone(),
        })
    }

    /// The authenticated listener, when configured.
    pub fn auth(&self) -> Option<Endpoint> {
        self.auth_port.map(Endpoint::loopback)
    }

    /// Directory holding the config, certificates, password and ACL files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the broker wrote to stderr so far (its log).
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    /// Stops the broker with SIGTERM (SIGKILL after 5 s).
    pub async fn stop(&mut self) -> Result<(), BrokerError> {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: plain kill(2) on our own child's pid.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        Ok(())
    }

    /// Kills the broker with SIGKILL (no clean shutdown), for fault tests.
    pub async fn kill(&mut self) -> Result<(), BrokerError> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.map_err(|source| BrokerError::Io {
                context: "killing mosquitto".into(),
                source,
            })?;
        }
        Ok(())
    }

    /// Starts the broker again with the same config and ports (stopping it first if running).
    pub async fn restart(&mut self) -> Result<(), BrokerError> {
        self.stop().await?;
        self.spawn().await
    }
}

/// Extracts the version from `... mosquitto version 2.0.11 running`.
pub(crate) fn parse_ready_line(line: &str) -> Option<String> {
    let rest = &line[line.find("mosquitto version ")? + "mosquitto version ".len()..];
    let version = rest.strip_suffix(" running")?.trim();
    Some(version.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_ready_line;

    #[test]
    fn ready_line_gives_version() {
        assert_eq!(
            parse_ready_line("1764000000: mosquitto version 2.0.11 running").as_deref(),
            Some("2.0.11")
        );
        assert_eq!(
            parse_ready_line("1764000000: mosquitto version 2.0.11 starting"),
            None
        );
    }
}
