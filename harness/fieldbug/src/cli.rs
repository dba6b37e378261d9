//! Command-line arguments and runners for `ovms-hil anonymise`, `ovms-hil scaffold` and
//! `ovms-hil report`. The `ovms-hil` binary only wires these in:
//!
//! ```text
//! Command::Anonymise(a) => ovms_hil_fieldbug::cli::run_anonymise(&a, &mut std::io::stdout()),
//! Command::Scaffold(a)  => ovms_hil_fieldbug::cli::run_scaffold(&a, &mut std::io::stdout()),
//! Command::Report(a)    => ovms_hil_fieldbug::cli::run_report(&a, &mut std::io::stdout()),
//! // Err(e): print `ovms-hil <cmd>: {e}` to stderr and exit 2.
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use ovms_canlog::Format;
use ovms_firmware::profile::Profile;
use ovms_hil_net::capture::read_capture;

use crate::anonymise::{
    anonymise_capture, anonymise_log, AnonymiseCaptureOptions, AnonymiseError, AnonymiseLogOptions,
    AnonymiseReport, GpsPolicy, IdentifyingRules,
};
use crate::report::{render_report, Marker, ReportOptions};
use crate::scaffold::{scaffold, RecordingOverrides, ScaffoldError, ScaffoldOptions};

/// A command failed (print it and exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Anonymisation.
    #[error(transparent)]
    Anonymise(#[from] AnonymiseError),
    /// Scaffolding.
    #[error(transparent)]
    Scaffold(#[from] ScaffoldError),
    /// Reading the capture.
    #[error(transparent)]
    Capture(#[from] ovms_hil_net::capture::CaptureError),
    /// Bad argument.
    #[error("{0}")]
    Usage(String),
    /// Writing output.
    #[error("{}: {source}", path.display())]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

fn out_err(source: std::io::Error) -> CliError {
    CliError::Io {
        path: PathBuf::from("<stdout>"),
        source,
    }
}

/// `ovms-hil anonymise IN OUT --vehicle V`
#[derive(Debug, Clone, Args)]
pub struct AnonymiseArgs {
    /// Input: a CAN log (any format ovms-canlog reads) or a capture (JSON lines, told apart by content).
    pub input: PathBuf,
    /// Output file (CAN logs: same format when writable, else CRTD; see --format).
    pub output: PathBuf,
    /// Vehicle whose identifying frames to remove (CAN logs): `tesla-roadster`, a
    /// scenarios/vehicles stem, or a definition file.
    #[arg(long, value_name = "NAME|FILE")]
    pub vehicle: Option<String>,
    /// Directory of vehicle definitions.
    #[arg(long, value_name = "DIR", default_value = "scenarios/vehicles")]
    pub vehicles_dir: PathBuf,
    /// GPS position frames: zero them or drop them.
    #[arg(long, value_enum, default_value_t = GpsPolicy::Zero)]
    pub gps: GpsPolicy,
    /// Output format of a CAN log: crtd, candump or gvret-csv.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Captures: protocol profile deciding topics [default: inferred from the capture].
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Captures: the vehicle id to hide [default: read from the topic prefix].
    #[arg(long, value_name = "ID")]
    pub vehicle_id: Option<String>,
    /// Captures: the username to hide [default: read from the topic prefix].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// What replaces the vehicle id and username.
    #[arg(long, default_value = "anon")]
    pub replacement: String,
    /// Skip unreadable CAN log records instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

/// Whether `path` holds a capture (first non-blank byte is `{`).
pub fn looks_like_capture(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// Runs `anonymise`, prints what changed and returns the counts.
pub fn run_anonymise(a: &AnonymiseArgs, out: &mut dyn Write) -> Result<AnonymiseReport, CliError> {
    let report = if looks_like_capture(&a.input) {
        let profile = match &a.profile {
            Some(p) => {
                Some(Profile::by_name_or_path(p).map_err(|e| CliError::Usage(e.to_string()))?)
            }
            None => None,
        };
        let opts = AnonymiseCaptureOptions {
            profile,
            vehicle_id: a.vehicle_id.clone(),
            username: a.user.clone(),
            replacement: a.replacement.clone(),
            ..Default::default()
        };
        anonymise_capture(&a.input, &a.output, &opts)?
    } else {
        let vehicle = a.vehicle.as_deref().ok_or_else(|| {
            CliError::Usage(format!(
                "{}: a CAN log needs --vehicle (one of: {})",
                a.input.display(),
                IdentifyingRules::known_vehicles().join(", ")
            ))
        })?;
        let rules = IdentifyingRules::for_vehicle(vehicle, &a.vehicles_dir)
            .map_err(AnonymiseError::from)?;
        let format = match &a.format {
            Some(f) => Some(
                f.parse::<Format>()
                    .map_err(|e| CliError::Usage(e.to_string()))?,
            ),
            None => None,
        };
        let opts = AnonymiseLogOptions {
            gps: a.gps,
            format,
            lenient: a.lenient,
        };
        anonymise_log(&a.input, &a.output, &rules, &opts)?
    };
    write!(out, "{}: {report}", a.output.display()).map_err(out_err)?;
    Ok(report)
}

/// `ovms-hil scaffold DIR --name NAME`
#[derive(Debug, Clone, Args)]
pub struct ScaffoldArgs {
    /// Recording directory: `can.*` log, `capture.jsonl`, `recording.yaml`.
    pub dir: PathBuf,
    /// Scenario name (letters, digits, `-`, `_`).
    #[arg(long)]
    pub name: String,
    /// Repository root to write `scenarios/NAME/` and `features/regressions/NAME.feature` under.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Vehicle (replaces recording.yaml's).
    #[arg(long, value_name = "NAME|FILE")]
    pub vehicle: Option<String>,
    /// Protocol profile (replaces recording.yaml's).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Vehicle id (replaces recording.yaml's).
    #[arg(long, value_name = "ID")]
    pub vehicle_id: Option<String>,
    /// MQTT user (replaces recording.yaml's).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// The CAN log [default: the one `can.*` in DIR].
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The capture [default: DIR/capture.jsonl].
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// Allowed distance in virtual seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    pub tolerance: u64,
    /// Also ignore this metric (exact, or prefix ending in `*`); repeatable.
    #[arg(long, value_name = "METRIC")]
    pub ignore: Vec<String>,
    /// Overwrite an existing scenario.
    #[arg(long)]
    pub force: bool,
}

/// Runs `scaffold` and prints what was written.
pub fn run_scaffold(
    a: &ScaffoldArgs,
    out: &mut dyn Write,
) -> Result<crate::scaffold::ScaffoldReport, CliError> {
    let mut opts = ScaffoldOptions {
        tolerance_secs: a.tolerance,
        force: a.force,
        overrides: RecordingOverrides {
            vehicle: a.vehicle.clone(),
            profile: a.profile.clone(),
            vehicle_id: a.vehicle_id.clone(),
            user: a.user.clone(),
            log: a.log.clone(),
            capture: a.capture.clone(),
        },
        ..Default::default()
    };
    opts.ignore.extend(a.ignore.iter().cloned());
    let r = scaffold(&a.dir, &a.name, &a.root, &opts)?;
    let w = |e| out_err(e);
    writeln!(out, "wrote {}", r.log.display()).map_err(w)?;
    writeln!(
        out,
        "wrote {} ({} cadence points, {} expected publishes, {} volatile left out, {} client publishes)",
        r.expected.display(),
        r.points,
        r.publishes,
        r.ignored,
        r.client_publishes
    )
    .map_err(out_err)?;
    writeln!(out, "wrote {}", r.feature.display()).map_err(out_err)?;
    for warn in &r.warnings {
        writeln!(out, "warning: {warn}").map_err(out_err)?;
    }
    Ok(r)
}

/// `ovms-hil report CAPTURE [--out FILE] [--profile P]`
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The capture (JSON lines).
    pub capture: PathBuf,
    /// Output HTML file [default: the capture with `.html`].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Protocol profile deciding topics [default: inferred from the capture].
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// The module's topic prefix [default: inferred from the connected topic].
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Page title [default: the capture file name].
    #[arg(long)]
    pub title: Option<String>,
    /// Mark a failing assertion: `T:MESSAGE` or `T:TOPIC:MESSAGE` (T in virtual seconds); repeatable.
    #[arg(long = "fail", value_name = "T:[TOPIC:]MESSAGE")]
    pub failures: Vec<String>,
}

/// Parses `T:MESSAGE` / `T:TOPIC:MESSAGE` (a topic has no spaces and contains `/`).
pub fn parse_marker(s: &str) -> Result<Marker, CliError> {
    let (t, rest) = s
        .split_once(':')
        .ok_or_else(|| CliError::Usage(format!("--fail `{s}`: expected T:MESSAGE")))?;
    let t: f64 = t
        .trim()
        .parse()
        .map_err(|_| CliError::Usage(format!("--fail `{s}`: `{t}` is not a time in seconds")))?;
    let (topic, message) = match rest.split_once(':') {
        Some((topic, msg)) if topic.contains('/') && !topic.contains(' ') => {
            (Some(topic.to_string()), msg.trim().to_string())
        }
        _ => (None, rest.trim().to_string()),
    };
    Ok(Marker { t, topic, message })
}

/// Runs `report`: writes the HTML page and prints its path.
pub fn run_report(a: &ReportArgs, out: &mut dyn Write) -> Result<PathBuf, CliError> {
    let capture = read_capture(&a.capture)?;
    let profile = match &a.profile {
        Some(p) => Some(Profile::by_name_or_path(p).map_err(|e| CliError::Usage(e.to_string()))?),
        None => None,
    };
    let failures = a
        .failures
        .iter()
        .map(|f| parse_marker(f))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = ReportOptions {
        title: a.title.clone().unwrap_or_else(|| {
            format!(
                "ovms-hil capture {}",
                a.capture.file_name().and_then(|n| n.to_str()).unwrap_or("")
            )
        }),
        profile,
        prefix: a.prefix.clone(),
        failures,
        ..Default::default()
    };
    let html = render_report(&capture, &opts);
    let path = a
        .out
        .clone()
        .unwrap_or_else(|| a.capture.with_extension("html"));
    std::fs::write(&path, html).map_err(|source| CliError::Io {
        path: path.clone(),
        source,
    })?;
    writeln!(out, "wrote {}", path.display()).map_err(out_err)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    enum Cmd {
        Anonymise(AnonymiseArgs),
        Scaffold(ScaffoldArgs),
        Report(ReportArgs),
    }

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn the_three_commands_run_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let log = root().join("scenarios/logs/tesla-roadster_20120218.drive-a.csv");
        let vdir = root().join("scenarios/vehicles");
        // anonymise a log
        let Cmd::Anonymise(a) = Cmd::parse_from([
            "x",
            "anonymise",
            log.to_str().unwrap(),
            d.join("rec/can.crtd").to_str().unwrap(),
            "--vehicle",
            "tesla-roadster",
            "--vehicles-dir",
            vdir.to_str().unwrap(),
        ]) else {
            unreachable!()
        };
        std::fs::create_dir_all(d.join("rec")).unwrap();
        let mut out = Vec::new();
        let rep = run_anonymise(&a, &mut out).unwrap();
        assert_eq!(rep.records_out, rep.records_in);
        // a capture of it, then report and anonymise the capture
        let p = Profile::builtin("draft").unwrap();
        let v = ovms_vehicles::load_vehicle("tesla-roadster", &vdir).unwrap();
        let sim = crate::simulate::SimOptions {
            vehicle_id: "MYCAR".into(),
            username: "me123".into(),
            ..Default::default()
        };
        let cap = crate::simulate::simulate_capture(&d.join("rec/can.crtd"), v, &p, &sim).unwrap();
        let w = ovms_hil_net::capture::CaptureWriter::create(d.join("raw.jsonl")).unwrap();
        cap.iter().for_each(|r| w.write(r).unwrap());
        let Cmd::Anonymise(a) = Cmd::parse_from([
            "x",
            "anonymise",
            d.join("raw.jsonl").to_str().unwrap(),
            d.join("rec/capture.jsonl").to_str().unwrap(),
        ]) else {
            unreachable!()
        };
        let rep = run_anonymise(&a, &mut out).unwrap();
        assert!(rep.get("vehicle id in topics") > 10, "{rep}");
        let text = std::fs::read_to_string(d.join("rec/capture.jsonl")).unwrap();
        assert!(!text.contains("MYCAR") && !text.contains("me123"));

        let Cmd::Report(r) = Cmd::parse_from([
            "x",
            "report",
            d.join("rec/capture.jsonl").to_str().unwrap(),
            "--fail",
            "300:ovms/anon/anon/m/v/b/soc:soc stuck",
        ]) else {
            unreachable!()
        };
        let html_path = run_report(&r, &mut out).unwrap();
        assert_eq!(html_path, d.join("rec/capture.html"));
        let html = std::fs::read_to_string(html_path).unwrap();
        assert!(html.contains("soc stuck") && html.contains("profile <b>draft</b>"));

        let Cmd::Scaffold(s) = Cmd::parse_from([
            "x",
            "scaffold",
            d.join("rec").to_str().unwrap(),
            "--name",
            "drive",
            "--root",
            d.to_str().unwrap(),
            "--vehicle",
            "tesla-roadster",
            "--profile",
            "draft",
            "--vehicle-id",
            "anon",
            "--user",
            "anon",
        ]) else {
            unreachable!()
        };
        let rep = run_scaffold(&s, &mut out).unwrap();
        assert!(d.join("features/regressions/drive.feature").is_file());
        assert!(rep.points > 0);
        let printed = String::from_utf8(out).unwrap();
        assert!(printed.contains("cadence points"), "{printed}");
    }

    #[test]
    fn usage_errors() {
        let e = parse_marker("soon: x").unwrap_err();
        assert!(e.to_string().contains("not a time"));
        let m = parse_marker("12.5:it broke: badly").unwrap();
        assert_eq!(
            (m.t, m.topic, m.message.as_str()),
            (12.5, None, "it broke: badly")
        );
        let dir = tempfile::tempdir().unwrap();
        let a = AnonymiseArgs {
            input: root().join("scenarios/logs/tesla-roadster_20120218.drive-a.csv"),
            output: dir.path().join("o.crtd"),
            vehicle: None,
            vehicles_dir: root().join("scenarios/vehicles"),
            gps: GpsPolicy::Zero,
            format: None,
            profile: None,
            vehicle_id: None,
            user: None,
            replacement: "anon".into(),
            lenient: false,
        };
        let e = run_anonymise(&a, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("needs --vehicle (one of: "), "{e}");
    }
}
