//! Argument parsing (two stages: clap, then [`Settings::from_args`]) and the run loop of the binary.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use ovms_emu::{spawn, BrokerUrl, ClockMode, EmuConfig, RetryPolicy, Secret};
use ovms_firmware::module::ModuleConfig;
use ovms_firmware::profile::Profile;
use tokio::net::TcpListener;
use tracing::{error, info};

/// The emulated OVMS v3 module: speaks the server v3 MQTT protocol of the chosen profile to a
/// real broker, on the wall clock (runs until killed) or on a virtual clock driven through the
/// control channel.
///
/// The password is never taken from the command line: use --password-file or the environment
/// variable OVMS_PASSWORD. It is never logged.
#[derive(Parser, Debug)]
#[command(name = "ovms-emu", version, about, long_about)]
struct Args {
    /// Broker address: mqtt://HOST:PORT (TCP) or mqtts://HOST:PORT (TLS, needs --ca).
    #[arg(long, value_name = "URL")]
    broker: String,

    /// PEM file with the CA certificate(s) that signed the broker's certificate (for mqtts://).
    /// The broker name is verified against its certificate.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,

    /// Accept any broker certificate (no chain or host name check; --ca not needed). For benches
    /// with throw-away certificates only: the firmware always verifies.
    #[arg(long)]
    insecure: bool,

    /// Client certificate (PEM chain) for mutual TLS, as firmware 3.3.006+ presents
    /// /store/tls/serverv3_client.crt; needs --client-key.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    client_cert: Option<PathBuf>,

    /// Private key (PEM) of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    client_key: Option<PathBuf>,

    /// MQTT username (config server.v3 user); also part of the default topic prefix ovms/USER/ID/.
    #[arg(long, value_name = "U", default_value = "")]
    username: String,

    /// File whose first line is the MQTT password (config password/server.v3). Without it, the
    /// environment variable OVMS_PASSWORD is used when set.
    #[arg(long, value_name = "F")]
    password_file: Option<PathBuf>,

    /// Vehicle id (config vehicle id): the MQTT client id and part of the default topic prefix.
    #[arg(long, value_name = "ID", default_value = "DEMO")]
    vehicle_id: String,

    /// Protocol profile: a shipped name (draft, fw-3.3.005, fw-3.3.006; "shipped" = newest) or a
    /// profile YAML file.
    #[arg(long, value_name = "NAME|FILE", default_value = "fw-3.3.006")]
    profile: String,

    /// MQTT keepalive in seconds (default: the profile's, e.g. 1740 for 3.3.005+; 0 disables).
    #[arg(long, value_name = "SECS")]
    keepalive: Option<u16>,

    /// Set a metric at boot, as `metrics set METRIC VALUE` would (repeatable).
    #[arg(long = "set", value_name = "METRIC=VALUE")]
    set: Vec<String>,

    /// Vehicle decoder: `tesla-roadster`, the name of a vehicle YAML file in --vehicle-dir, or
    /// the path of a vehicle YAML file (DBC-driven, ovms-vehicles).
    #[arg(long, value_name = "NAME|FILE")]
    vehicle: Option<String>,

    /// Where --vehicle NAME looks for NAME.yaml (default: scenarios/vehicles under the current
    /// directory, else the one in the ovms-hil source tree).
    #[arg(long, value_name = "DIR")]
    vehicle_dir: Option<PathBuf>,

    /// MQTT client id (config server.v3 clientid, where the profile has it; default: the vehicle id).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,

    /// Topic prefix (config server.v3 topic.prefix), used verbatim (default: the profile's).
    #[arg(long, value_name = "PREFIX")]
    topic_prefix: Option<String>,

    /// A server.v3 parameter, as `config set server.v3 PARAM VALUE` (repeatable), e.g.
    /// updatetime.idle=1 or metrics.include=v.b.*.
    #[arg(long = "config", value_name = "PARAM=VALUE")]
    config: Vec<String>,

    /// Clock: wall (module time = real time) or virtual (time moves only with the control
    /// channel's `advance`; needs --control).
    #[arg(long, value_enum, default_value_t = ClockArg::Wall)]
    clock: ClockArg,

    /// Listen for the line-based control channel on HOST:PORT (PORT 0 = any free port; stderr gets
    /// `control channel listening on ADDR`). Commands: advance SECS, now, set METRIC VALUE, event NAME,
    /// notify KIND SUBTYPE TEXT, frame BUS ID HEXDATA, metrics [FILTER], status, network-cut,
    /// power-cut, help. Each is answered with `ok ...` or `error ...`.
    #[arg(long, value_name = "HOST:PORT")]
    control: Option<SocketAddr>,

    /// Listen as the firmware's CAN log "simulate" TCP server on HOST:PORT: clients send CRTD
    /// text and each frame line is fed to the vehicle decoder (stderr gets
    /// `CAN simulate server listening on ADDR`; PORT 0 = any free port).
    #[arg(long, value_name = "HOST:PORT")]
    can_simulate: Option<SocketAddr>,

    /// Feed the frames received on a SocketCAN interface to the vehicle decoder, as
    /// --can-simulate does (repeatable: the n-th IFACE feeds CAN n, or BUS=IFACE with BUS 1-9).
    /// Needs a build with the cargo feature `socketcan` and a kernel with CAN (AF_CAN).
    #[arg(long, value_name = "[BUS=]IFACE")]
    can_socketcan: Vec<String>,

    /// Testing aid: retry a failed connection attempt after SECS (doubling per consecutive
    /// failure, up to --retry-max) instead of the profile's fixed 20-60 s.
    #[arg(long, value_name = "SECS")]
    retry_delay: Option<f64>,

    /// Upper bound of the doubling retry delay of --retry-delay.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60.0,
        requires = "retry_delay"
    )]
    retry_max: f64,

    /// Log level on stderr: error, warn, info, debug or trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    log_level: tracing::Level,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ClockArg {
    Wall,
    Virtual,
}

/// Why the binary stops with an error.
enum Failure {
    /// Bad arguments: exit 2.
    Usage(String),
    /// Anything else: exit 1.
    Fatal(String),
}

/// The validated settings (stage two).
struct Settings {
    config: EmuConfig,
    control: Option<SocketAddr>,
    can_simulate: Option<SocketAddr>,
    can_socketcan: Vec<ovms_emu::socketcan::SocketCanBus>,
}

fn split_assignment<'a>(flag: &str, s: &'a str) -> Result<(&'a str, &'a str), Failure> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v)),
        _ => Err(Failure::Usage(format!("{flag} {s:?}: expected NAME=VALUE"))),
    }
}

fn secs(flag: &str, v: f64) -> Result<Duration, Failure> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(Failure::Usage(format!(
            "{flag} {v}: expected a positive number of seconds"
        )))
    }
}

impl Settings {
    fn from_args(a: Args) -> Result<Settings, Failure> {
        let broker: BrokerUrl = a
            .broker
            .parse()
            .map_err(|e: ovms_emu::broker::BrokerUrlError| Failure::Usage(e.to_string()))?;
        if broker.tls && a.ca.is_none() && !a.insecure {
            return Err(Failure::Usage(
                "mqtts:// needs --ca FILE (or --insecure)".into(),
            ));
        }
        if a.clock == ClockArg::Virtual && a.control.is_none() {
            return Err(Failure::Usage(
                "--clock virtual needs --control HOST:PORT (nothing else can move the clock)"
                    .into(),
            ));
        }
        let mut initial_metrics = Vec::new();
        for s in &a.set {
            let (k, v) = split_assignment("--set", s)?;
            initial_metrics.push((k.to_string(), v.to_string()));
        }
        let mut params = BTreeMap::new();
        for s in &a.config {
            let (k, v) = split_assignment("--config", s)?;
            params.insert(k.to_string(), v.to_string());
        }
        let retry = match a.retry_delay {
            Some(first) => RetryPolicy::Edge {
                first: secs("--retry-delay", first)?,
                max: secs("--retry-max", a.retry_max)?,
            },
            None => RetryPolicy::Profile,
        };
        let password = match &a.password_file {
            Some(f) => Some(Secret::from_file(f).map_err(|e| Failure::Fatal(e.to_string()))?),
            None => std::env::var("OVMS_PASSWORD").ok().map(Secret::new),
        };
        let profile = Profile::by_name_or_path(&a.profile)
            .map_err(|e| Failure::Fatal(format!("profile: {e}")))?;
        let vehicle = match &a.vehicle {
            Some(v) => Some(load_vehicle(v, a.vehicle_dir.as_deref())?),
            None => None,
        };
        let module = ModuleConfig {
            vehicle_id: a.vehicle_id.clone(),
            username: a.username.clone(),
            has_password: password.is_some(),
            client_id: a.client_id.clone(),
            topic_prefix: a.topic_prefix.clone(),
            keepalive_secs: a.keepalive,
            params,
            ..ModuleConfig::default()
        };
        let mut config = EmuConfig::new(broker, profile, module);
        config.ca_file = a.ca.clone();
        if a.insecure {
            config.tls_verify = ovms_emu::tls::TlsVerify::Insecure;
        }
        if let (Some(cert), Some(key)) = (&a.client_cert, &a.client_key) {
            if !config.broker.tls {
                return Err(Failure::Usage(
                    "--client-cert needs an mqtts:// broker".into(),
                ));
            }
            config.client_auth = Some(ovms_emu::tls::ClientAuthFiles {
                cert: cert.clone(),
                key: key.clone(),
            });
        }
        config.password = password;
        config.vehicle = vehicle;
        config.initial_metrics = initial_metrics;
        config.clock = match a.clock {
            ClockArg::Wall => ClockMode::Wall,
            ClockArg::Virtual => ClockMode::Virtual,
        };
        config.retry = retry;
        Ok(Settings {
            config,
            control: a.control,
            can_simulate: a.can_simulate,
            can_socketcan: ovms_emu::socketcan::parse_buses(&a.can_socketcan)
                .map_err(Failure::Usage)?,
        })
    }
}

fn load_vehicle(
    name: &str,
    dir: Option<&std::path::Path>,
) -> Result<Box<dyn ovms_firmware::vehicle::Vehicle>, Failure> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let here = PathBuf::from("scenarios/vehicles");
            if here.is_dir() {
                here
            } else {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../scenarios/vehicles"
                ))
            }
        }
    };
    ovms_vehicles::load_vehicle(name, &dir)
        .map_err(|e| Failure::Fatal(format!("--vehicle {name}: {e}")))
}

pub(crate) fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // --help / --version print and exit 0; real usage errors exit 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    tracing_subscriber::fmt()
        .with_max_level(args.log_level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .init();
    let settings = match Settings::from_args(args) {
        Ok(s) => s,
        Err(Failure::Usage(m)) => {
            eprintln!("ovms-emu: {m}");
            return ExitCode::from(2);
        }
        Err(Failure::Fatal(m)) => {
            eprintln!("ovms-emu: {m}");
            return ExitCode::from(1);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ovms-emu: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            error!("{m}");
            eprintln!("ovms-emu: {m}");
            ExitCode::from(1)
        }
    }
}

async fn run(s: Settings) -> Result<(), String> {
    // Signal handlers first: a SIGTERM that arrives while the module connects is a clean stop too.
    let stop = stop_signal()?;
    let control = match s.control {
        Some(addr) => Some(bind(addr, "control channel").await?),
        None => None,
    };
    let simulate = match s.can_simulate {
        Some(addr) => Some(bind(addr, "CAN simulate server").await?),
        None => None,
    };
    let socketcan = ovms_emu::socketcan::open(&s.can_socketcan)?;
    info!(
        "ovms-emu: profile {}, broker {}, clock {:?}",
        s.config.profile.name(),
        s.config.broker,
        s.config.clock
    );
    let handle = Arc::new(spawn(s.config).await.map_err(|e| e.to_string())?);
    let mut servers = Vec::new();
    if let Some(l) = control {
        servers.push(tokio::spawn(ovms_emu::control::serve(l, handle.clone())));
    }
    if let Some(l) = simulate {
        servers.push(tokio::spawn(ovms_emu::simulate::serve(l, handle.clone())));
    }
    for c in socketcan {
        servers.push(tokio::spawn(ovms_emu::socketcan::feed(c, handle.clone())));
    }
    stop.await;
    info!("stopping (no DISCONNECT is sent: the broker publishes the will)");
    for s in servers {
        s.abort();
    }
    match Arc::try_unwrap(handle) {
        Ok(h) => h.shutdown().await,
        Err(h) => drop(h),
    }
    Ok(())
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener, String> {
    let l = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{what}: cannot listen on {addr}: {e}"))?;
    let local = l.local_addr().map_err(|e| format!("{what}: {e}"))?;
    info!("{what} listening on {local}");
    Ok(l)
}

/// A future that completes on SIGTERM or SIGINT (handlers installed when this is called).
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => info!("SIGTERM received"),
            _ = int.recv() => info!("SIGINT received"),
        }
    })
}
