//! The `ovms-hil` command line: clap definitions and dispatch.
//!
//! Exit codes: 0 everything selected passed, 1 scenario failures, 2 usage or input errors
//! (a bad feature, rig or log file, a broker that cannot start).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::RunConfig;
use crate::report::summary;

/// ovms-hil: hardware-in-the-loop tests for OVMS v3 modules and their MQTT server v3 protocol.
#[derive(Debug, Parser)]
#[command(name = "ovms-hil", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Gherkin conformance suite against a rig (each feature once per profile).
    Run(RunArgs),
    /// Check feature files (syntax, undefined and ambiguous steps) and rig files without running.
    Lint(LintArgs),
    /// Replay a CAN log into the emulated module through a real broker and print what it publishes.
    Replay(ReplayArgs),
    /// CAN log tools: convert, info, cat (ovms-canlog).
    #[command(subcommand)]
    Canlog(crate::adapt::external::CanlogCommand),
    /// DBC tools (ovms-vehicles).
    #[command(subcommand)]
    Dbc(DbcCommand),
}

/// `ovms-hil dbc ...`
#[derive(Debug, Subcommand)]
pub enum DbcCommand {
    /// Decode a CAN log with DBC files, one JSON line per decoded message.
    Decode(crate::adapt::external::DbcDecodeArgs),
}

/// `ovms-hil run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Feature files or directories [default: features/].
    pub paths: Vec<PathBuf>,
    /// Profile by name (draft, fw-3.3.005, fw-3.3.006) or path; repeat for several [default: all shipped].
    #[arg(long = "profile", value_name = "P")]
    pub profiles: Vec<String>,
    /// Rig file [default: rigs/emulated.yaml].
    #[arg(long, value_name = "FILE")]
    pub rig: Option<PathBuf>,
    /// Broker: auto, mosquitto, container, embedded, or mqtt://HOST:PORT [default: the rig's, else auto].
    #[arg(long, value_name = "auto|mosquitto|container|embedded|URL")]
    pub broker: Option<String>,
    /// Tag expression selecting scenarios, e.g. "@V3-MET-1 and not @slow".
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Write JUnit XML here (a retried-then-passed scenario is not a failure).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write cucumber JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write one capture file (JSON lines: tap and observer) per scenario into this directory.
    #[arg(long, value_name = "DIR")]
    pub capture_dir: Option<PathBuf>,
    /// Retry a failed scenario up to N times.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub retries: usize,
    /// Scenarios run at once (each has its own vehicle id and topics).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
}

impl RunArgs {
    /// The run configuration, defaults relative to the current directory.
    pub fn into_config(self) -> RunConfig {
        let mut cfg = RunConfig::new(std::path::Path::new("."));
        if !self.paths.is_empty() {
            cfg.paths = self.paths;
        }
        if !self.profiles.is_empty() {
            cfg.profiles = self.profiles;
        }
        if let Some(r) = self.rig {
            cfg.rig = r;
        }
        cfg.broker = self.broker;
        cfg.tags = self.tags;
        cfg.junit = self.junit;
        cfg.json = self.json;
        cfg.capture_dir = self.capture_dir;
        cfg.retries = self.retries;
        cfg.concurrency = self.concurrency;
        cfg
    }
}

/// `ovms-hil lint`
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Feature files or directories, rig files (`*.yaml`) [default: features/ and rigs/].
    pub paths: Vec<PathBuf>,
}

/// `ovms-hil replay`
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The CAN log (any format ovms-canlog reads).
    pub log: PathBuf,
    /// Vehicle: a name (`roadster`, ...) or a vehicle YAML file.
    #[arg(long, value_name = "NAME|FILE")]
    pub vehicle: String,
    /// Directory of vehicle definitions [default: scenarios/vehicles].
    #[arg(long, value_name = "DIR")]
    pub vehicles_dir: Option<PathBuf>,
    /// Protocol profile [default: fw-3.3.006].
    #[arg(long, default_value = "fw-3.3.006", value_name = "P")]
    pub profile: String,
    /// Broker: auto, mosquitto, container, embedded, or mqtt://HOST:PORT.
    #[arg(long, default_value = "auto")]
    pub broker: String,
    /// Move the module's clock from frame to frame without waiting (the default).
    #[arg(long, conflicts_with = "speed")]
    pub r#virtual: bool,
    /// Replay on the wall clock at this speed (1 = real time).
    #[arg(long, value_name = "X")]
    pub speed: Option<f64>,
    /// Write the capture (JSON lines) here.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// Vehicle id of the emulated module.
    #[arg(long, default_value = "REPLAY")]
    pub vehicle_id: String,
    /// MQTT user of the emulated module.
    #[arg(long, default_value = "hil")]
    pub user: String,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => with_runtime(run(args)),
        Command::Lint(args) => ExitCode::from(crate::lint::main(&args.paths)),
        Command::Replay(args) => with_runtime(crate::replay::main(args)),
        Command::Canlog(cmd) => canlog(cmd),
        Command::Dbc(DbcCommand::Decode(args)) => dbc_decode(args),
    }
}

fn canlog(cmd: crate::adapt::external::CanlogCommand) -> ExitCode {
    match crate::adapt::external::run_canlog(cmd) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ovms-hil canlog: {e}");
            ExitCode::from(2)
        }
    }
}

fn dbc_decode(args: crate::adapt::external::DbcDecodeArgs) -> ExitCode {
    match crate::adapt::external::run_dbc_decode(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ovms-hil dbc decode: {e}");
            ExitCode::from(2)
        }
    }
}

fn with_runtime(fut: impl std::future::Future<Output = u8>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => ExitCode::from(rt.block_on(fut)),
        Err(e) => {
            eprintln!("ovms-hil: cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: RunArgs) -> u8 {
    let cfg = args.into_config();
    match crate::runner::run(&cfg).await {
        Ok(results) => {
            print!("{}", summary::render(&results));
            if results.all_passed() {
                0
            } else {
                1
            }
        }
        Err(e) => {
            eprintln!("ovms-hil run: {e}");
            2
        }
    }
}
