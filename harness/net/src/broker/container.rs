//! Mosquitto in a container via testcontainers, from the image `ovms-hil-mosquitto:local`
//! built locally FROM scratch out of the host's mosquitto binary and its `ldd` libraries
//! (no registry is needed; see `ci/mosquitto-image/`).
//!
//! Host ports are chosen free up front and mapped fixed, so `restart()` keeps them. Docker
//! publishes them on all host interfaces; clients here connect through 127.0.0.1 only.

use super::certs::{generate_tls_files, TlsFiles};
use super::config::{render, ConfigSpec};
use super::passwd::{write_acl_file, write_password_file};
use super::port::free_ports;
use super::{BrokerError, BrokerOptions, Endpoint, TlsEndpoint};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testcontainers::core::{BuildImageOptions, IntoContainerPort, WaitFor};
use testcontainers::runners::{AsyncBuilder, AsyncRunner};
use testcontainers::{ContainerAsync, GenericBuildableImage, GenericImage, ImageExt};

/// Image name.
pub const IMAGE_NAME: &str = "ovms-hil-mosquitto";
/// Image tag.
pub const IMAGE_TAG: &str = "local";

/// The Dockerfile (kept identical to `ci/mosquitto-image/Dockerfile`; a test checks it).
pub const DOCKERFILE: &str = include_str!("container.Dockerfile");

const PLAIN: u16 = 1883;
const TLS: u16 = 8883;
const AUTH: u16 = 1884;
const CONF_DIR: &str = "/mosquitto/config";

/// Checks that a Docker daemon answers; the error is a one-line reason.
pub async fn docker_available() -> Result<(), BrokerError> {
    let host = std::env::var("DOCKER_HOST").ok();
    let socket = match host.as_deref() {
        None => Some("/var/run/docker.sock"),
        Some(h) => h.strip_prefix("unix://"),
    };
    if let Some(sock) = socket {
        if !Path::new(sock).exists() {
            let hint = if host.is_none() {
                " and DOCKER_HOST is not set"
            } else {
                " (from DOCKER_HOST)"
            };
            return Err(BrokerError::Docker(format!(
                "no Docker socket at {sock}{hint}"
            )));
        }
    }
    let docker = testcontainers::bollard::Docker::connect_with_defaults()
        .map_err(|e| BrokerError::Docker(format!("cannot create a client: {e}")))?;
    match tokio::time::timeout(Duration::from_secs(3), docker.ping()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(BrokerError::Docker(format!("daemon does not answer: {e}"))),
        Err(_) => Err(BrokerError::Docker(
            "daemon did not answer a ping within 3 s".into(),
        )),
    }
}

/// True when the image already exists locally.
pub async fn image_exists() -> bool {
    let Ok(docker) = testcontainers::bollard::Docker::connect_with_defaults() else {
        return false;
    };
    docker
        .inspect_image(&format!("{IMAGE_NAME}:{IMAGE_TAG}"))
        .await
        .is_ok()
}

/// Absolute paths `ldd` prints for `binary` (shared libraries and the loader).
pub fn ldd_paths(binary: &Path) -> Result<Vec<PathBuf>, BrokerError> {
    let out = std::process::Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|source| BrokerError::Io {
            context: "running ldd".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(BrokerError::Docker(format!(
            "ldd {} failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(parse_ldd(&String::from_utf8_lossy(&out.stdout)))
}

/// Extracts the absolute paths from `ldd` output, sorted and deduplicated.
pub fn parse_ldd(text: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = text
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .collect();
    v.sort();
    v.dedup();
    v
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nmosquitto:x:100:101:mosquitto:/mosquitto:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\nmosquitto:x:101:\nnogroup:x:65534:\n";
const PLACEHOLDER_CONF: &str = "listener 1883\nallow_anonymous true\nuser root\nlog_dest stderr\n";

/// Builds the image from the host's mosquitto (skipped when it already exists).
pub async fn build_image(binary: &Path) -> Result<GenericImage, BrokerError> {
    let mut image = GenericBuildableImage::new(IMAGE_NAME, IMAGE_TAG)
        .with_dockerfile_string(DOCKERFILE)
        .with_file(binary, "rootfs/usr/sbin/mosquitto")
        .with_data(PASSWD, "rootfs/etc/passwd")
        .with_data(GROUP, "rootfs/etc/group")
        .with_data(PLACEHOLDER_CONF, "rootfs/mosquitto/config/mosquitto.conf");
    for lib in ldd_paths(binary)? {
        let target = format!("rootfs{}", lib.display());
        // Resolve symlinks: the build context must hold the library itself.
        let real = std::fs::canonicalize(&lib).unwrap_or(lib);
        image = image.with_file(real, target);
    }
    image
        .build_image_with(BuildImageOptions::new().with_skip_if_exists(true))
        .await
        .map_err(|e| BrokerError::Docker(format!("building {IMAGE_NAME}:{IMAGE_TAG}: {e}")))
}

/// A running mosquitto container.
pub struct ContainerBroker {
    container: ContainerAsync<GenericImage>,
    _dir: tempfile::TempDir,
    plain_port: u16,
    tls: Option<(u16, TlsFiles)>,
    auth_port: Option<u16>,
    version: String,
    ready_timeout: Duration,
}

impl std::fmt::Debug for ContainerBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerBroker")
            .field("id", &self.container.id())
            .field("plain_port", &self.plain_port)
            .finish()
    }
}

impl ContainerBroker {
    /// Builds the image if needed and starts a container with a generated config.
    pub async fn start(opts: &BrokerOptions) -> Result<Self, BrokerError> {
        docker_available().await?;
        let image = match super::mosquitto::find_binary() {
            Some(bin) => build_image(&bin).await?,
            None if image_exists().await => GenericImage::new(IMAGE_NAME, IMAGE_TAG),
            None => {
                return Err(BrokerError::NotFound {
                    what: format!(
                    "image {IMAGE_NAME}:{IMAGE_TAG} and a host mosquitto binary to build it from"
                ),
                })
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("ovms-hil-container-")
            .tempdir()
            .map_err(|source| BrokerError::Io {
                context: "creating a temp dir".into(),
                source,
            })?;
        let need = 1 + opts.tls as usize + !opts.users.is_empty() as usize;
        let mut ports = free_ports(need)?.into_iter();
        let plain_port = ports.next().unwrap_or_default();
        let conf_path = |name: &str| PathBuf::from(format!("{CONF_DIR}/{name}"));
        let (ca, cert, key) = (
            conf_path("ca.crt"),
            conf_path("server.crt"),
            conf_path("server.key"),
        );
        let (pw, acl) = (conf_path("passwd"), conf_path("acl"));
        let tls = if opts.tls {
            let files = generate_tls_files(dir.path(), "ovms-hil test CA")?;
            Some((ports.next().unwrap_or_default(), files))
        } else {
            None
        };
        let auth_port = if opts.users.is_empty() {
            None
        } else {
            write_password_file(&dir.path().join("passwd"), &opts.users, opts.passwd_method)?;
            write_acl_file(&dir.path().join("acl"), &opts.acl_pattern)?;
            Some(ports.next().unwrap_or_default())
        };
        let conf = render(&ConfigSpec {
            bind: None,
            plain_port: PLAIN,
            tls: tls
                .as_ref()
                .map(|_| (TLS, ca.as_path(), cert.as_path(), key.as_path())),
            auth: auth_port.map(|_| (AUTH, pw.as_path(), acl.as_path())),
            user_root: true,
            extra: &opts.extra_config,
            auth_allows_anonymous: opts.auth_allows_anonymous,
            auth_checks_passwords: opts.auth_checks_passwords,
        });
        let mut request = image
            .with_wait_for(WaitFor::message_on_stderr(" running"))
            .with_mapped_port(plain_port, PLAIN.tcp())
            .with_copy_to(format!("{CONF_DIR}/mosquitto.conf"), conf.into_bytes())
            .with_startup_timeout(opts.ready_timeout.max(Duration::from_secs(30)));
        if let Some((port, files)) = &tls {
            request = request
                .with_mapped_port(*port, TLS.tcp())
                .with_copy_to(ca.display().to_string(), read(&files.ca_cert)?)
                .with_copy_to(cert.display().to_string(), read(&files.server_cert)?)
                .with_copy_to(key.display().to_string(), read(&files.server_key)?);
        }
        if let Some(port) = auth_port {
            request = request
                .with_mapped_port(port, AUTH.tcp())
                .with_copy_to(pw.display().to_string(), read(&dir.path().join("passwd"))?)
                .with_copy_to(acl.display().to_string(), read(&dir.path().join("acl"))?);
        }
        let container = request
            .start()
            .await
            .map_err(|e| BrokerError::Docker(format!("starting the container: {e}")))?;
        let log = stderr_text(&container).await;
        let version = log
            .lines()
            .find_map(super::mosquitto::parse_ready_line)
            .unwrap_or_else(|| "?".into());
        Ok(ContainerBroker {
            container,
            _dir: dir,
            plain_port,
            tls,
            auth_port,
            version,
            ready_timeout: opts.ready_timeout,
        })
    }

    /// Mosquitto version inside the container.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Container id.
    pub fn id(&self) -> &str {
        self.container.id()
    }

    /// The plain listener (host side).
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::loopback(self.plain_port)
    }

    /// The TLS listener (host side), when configured.
    pub fn tls(&self) -> Option<TlsEndpoint> {
        self.tls.as_ref().map(|(port, f)| TlsEndpoint {
            endpoint: Endpoint::loopback(*port),
            ca_cert: f.ca_cert.clone(),
        })
    }

    /// The authenticated listener (host side), when configured.
    pub fn auth(&self) -> Option<Endpoint> {
        self.auth_port.map(Endpoint::loopback)
    }

    /// The container's stderr (the broker log).
    pub async fn log(&self) -> String {
        stderr_text(&self.container).await
    }

    /// Stops the container (SIGTERM, then SIGKILL after 5 s).
    pub async fn stop(&mut self) -> Result<(), BrokerError> {
        self.container
            .stop_with_timeout(Some(5))
            .await
            .map_err(|e| BrokerError::Docker(format!("stopping: {e}")))
    }

    /// Kills the container immediately.
    pub async fn kill(&mut self) -> Result<(), BrokerError> {
        self.container
            .stop_with_timeout(Some(0))
            .await
            .map_err(|e| BrokerError::Docker(format!("killing: {e}")))
    }

    /// Starts the container again on the same host ports and waits for a new readiness line.
    pub async fn restart(&mut self) -> Result<(), BrokerError> {
        let running = self.container.is_running().await.unwrap_or(false);
        if running {
            self.stop().await?;
        }
        let before = stderr_text(&self.container)
            .await
            .matches(" running")
            .count();
        self.container
            .start()
            .await
            .map_err(|e| BrokerError::Docker(format!("restarting: {e}")))?;
        let deadline = Instant::now() + self.ready_timeout;
        loop {
            let log = stderr_text(&self.container).await;
            if log.matches(" running").count() > before {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(BrokerError::StartTimeout {
                    what: "mosquitto container".into(),
                    timeout: self.ready_timeout,
                    log,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn stderr_text(c: &ContainerAsync<GenericImage>) -> String {
    c.stderr_to_vec()
        .await
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

fn read(path: &Path) -> Result<Vec<u8>, BrokerError> {
    std::fs::read(path).map_err(|source| BrokerError::Io {
        context: format!("reading {}", path.display()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_parses() {
        let text = "\tlinux-vdso.so.1 (0x00007ffc)\n\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x1)\n\t/lib64/ld-linux-x86-64.so.2 (0x2)\n";
        assert_eq!(
            parse_ldd(text),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libssl.so.3"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
    }

    #[test]
    fn dockerfile_matches_the_ci_recipe() {
        let ci = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ci/mosquitto-image/Dockerfile"
        );
        let text = std::fs::read_to_string(ci).expect("ci/mosquitto-image/Dockerfile");
        assert_eq!(text, DOCKERFILE);
        assert!(!DOCKERFILE.contains("# syntax="));
    }
}
