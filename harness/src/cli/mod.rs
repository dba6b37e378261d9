//! The `ovms-hil` command line: clap definitions and dispatch.
//!
//! Exit codes: 0 everything selected passed, 1 scenario failures, 2 usage or input errors
//! (a bad feature, rig or log file, a broker that cannot start).
//!
//! `anonymise`, `scaffold` and `report` are ovms-hil-fieldbug's commands (its clap arguments and
//! `run_*` functions); `record` is [`crate::record`]; `run --html` is [`html`].

pub mod html;

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
    /// Record CAN frames and the module's MQTT traffic side by side (one time base) into a directory.
    Record(crate::record::RecordArgs),
    /// Remove the VIN, GPS positions and the vehicle id / username from a CAN log or a capture.
    Anonymise(ovms_hil_fieldbug::cli::AnonymiseArgs),
    /// Turn a recording directory into scenarios/NAME/ and features/regressions/NAME.feature.
    Scaffold(ovms_hil_fieldbug::cli::ScaffoldArgs),
    /// Render a capture as one self-contained HTML timeline page.
    Report(ovms_hil_fieldbug::cli::ReportArgs),
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
    /// Write one HTML report page of the run's captures, failing assertions marked on the timeline.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
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
        Command::Record(args) => with_runtime(crate::record::main(args)),
        Command::Anonymise(a) => fieldbug("anonymise", |out| {
            ovms_hil_fieldbug::cli::run_anonymise(&a, out).map(|_| ())
        }),
        Command::Scaffold(a) => fieldbug("scaffold", |out| {
            ovms_hil_fieldbug::cli::run_scaffold(&a, out).map(|_| ())
        }),
        Command::Report(a) => fieldbug("report", |out| {
            ovms_hil_fieldbug::cli::run_report(&a, out).map(|_| ())
        }),
    }
}

/// Run one of ovms-hil-fieldbug's commands with stdout; an error is printed and exits 2.
fn fieldbug(
    name: &str,
    f: impl FnOnce(&mut dyn std::io::Write) -> Result<(), ovms_hil_fieldbug::cli::CliError>,
) -> ExitCode {
    let mut out = std::io::stdout();
    match f(&mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ovms-hil {name}: {e}");
            ExitCode::from(2)
        }
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
    let html = args.html.clone();
    let mut cfg = args.into_config();
    // The page is drawn from the per-scenario captures: without --capture-dir they go to a
    // directory of their own that is removed afterwards.
    let mut scratch = None;
    if html.is_some() && cfg.capture_dir.is_none() {
        let dir = std::env::temp_dir().join(format!("ovms-hil-run-{}", std::process::id()));
        cfg.capture_dir = Some(dir.clone());
        scratch = Some(dir);
    }
    let outcome = crate::runner::run(&cfg).await;
    let mut html_failed = false;
    if let (Ok(results), Some(page), Some(dir)) = (&outcome, &html, &cfg.capture_dir) {
        match html::write_run_report(results, dir, &cfg.profiles, page) {
            Ok(n) => println!("wrote {} ({n} failure markers)", page.display()),
            Err(e) => {
                eprintln!("ovms-hil run --html: {e}");
                html_failed = true;
            }
        }
    }
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    match outcome {
        Ok(_) if html_failed => 2,
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
