//! The `canlog` command line (wired into `ovms-hil canlog …` by the harness).
//!
//! - `convert IN OUT [--to FORMAT]`: the output format comes from `--to` or OUT's extension
//!   (`.log` candump, `.crtd`, `.csv` GVRET); `-` as OUT writes to stdout (needs `--to`).
//! - `info FILE [--json]`: format, frames, duration (last minus first frame time), buses, distinct
//!   IDs, other records and warnings with their first locations.
//! - `cat FILE`: the frames as candump `-l` lines on stdout; a closed pipe ends quietly (exit 0).
//!
//! Exit codes: 0 ok, 1 bad input (unreadable file, parse error, output not writable), 2 usage
//! (no output format, unwritable format).

use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::error::LogError;
use crate::format::Format;
use crate::frame::Frame;
use crate::options::ReadOptions;
use crate::reader::open;
use crate::record::Record;
use crate::timeline::fmt_ns;
use crate::warnings::Warnings;
use crate::write::{self, WriteError};

/// Standalone parser (`canlog <command>`); the harness embeds [`CanlogCommand`] instead.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "canlog", about = "CAN logs in, frames out")]
pub struct CanlogCli {
    /// What to do.
    #[command(subcommand)]
    pub command: CanlogCommand,
}

/// `canlog` subcommands.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum CanlogCommand {
    /// Convert a log to candump -l, CRTD or GVRET CSV.
    Convert {
        /// Input log (format detected from content).
        input: PathBuf,
        /// Output file (`-` = stdout).
        output: PathBuf,
        /// Output format (default: from OUT's extension: .log, .crtd, .csv).
        #[arg(long)]
        to: Option<Format>,
        /// Force the input format instead of detecting it.
        #[arg(long)]
        format: Option<Format>,
        /// Skip bad input records (counted and reported) instead of failing.
        #[arg(long)]
        lenient: bool,
    },
    /// Summarise a log: format, frames, duration, buses, IDs, warnings.
    Info {
        /// The log.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Force the input format instead of detecting it.
        #[arg(long)]
        format: Option<Format>,
        /// Skip bad records (counted in the warnings) instead of failing.
        #[arg(long)]
        lenient: bool,
    },
    /// Print the frames as candump -l lines.
    Cat {
        /// The log.
        file: PathBuf,
        /// Force the input format instead of detecting it.
        #[arg(long)]
        format: Option<Format>,
        /// Skip bad records instead of failing.
        #[arg(long)]
        lenient: bool,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The command line cannot be carried out as given (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The input is unreadable or malformed (exit 1).
    #[error(transparent)]
    Input(#[from] LogError),
    /// Writing the output failed (exit 1).
    #[error("{path}: {source}")]
    Output {
        /// Output path (`-` for stdout).
        path: String,
        /// The failure.
        #[source]
        source: WriteError,
    },
}

impl CliError {
    /// The process exit code: 2 for usage errors, 1 otherwise.
    pub fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    /// [`CliError::code`] as an [`ExitCode`].
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }
}

/// Run a command with the process's stdout and stderr.
pub fn run(cmd: CanlogCommand) -> Result<ExitCode, CliError> {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut err = stderr.lock();
    run_with(cmd, &mut out, &mut err)
}

/// Run a command writing to the given streams (tests use buffers).
pub fn run_with(
    cmd: CanlogCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    match cmd {
        CanlogCommand::Convert {
            input,
            output,
            to,
            format,
            lenient,
        } => convert(
            &input,
            &output,
            to,
            ReadOptions { format, lenient },
            out,
            err,
        ),
        CanlogCommand::Info {
            file,
            json,
            format,
            lenient,
        } => info(&file, json, ReadOptions { format, lenient }, out),
        CanlogCommand::Cat {
            file,
            format,
            lenient,
        } => cat(&file, ReadOptions { format, lenient }, out),
    }
}

fn output_format(output: &Path, to: Option<Format>) -> Result<Format, CliError> {
    let f = match to {
        Some(f) => f,
        None => output
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_extension)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "cannot tell the output format from {:?}: use --to crtd|candump|gvret-csv",
                    output.display().to_string()
                ))
            })?,
    };
    if !f.is_writable() {
        return Err(CliError::Usage(format!(
            "cannot write {f}: writable formats are crtd, candump and gvret-csv"
        )));
    }
    Ok(f)
}

fn convert(
    input: &Path,
    output: &Path,
    to: Option<Format>,
    opts: ReadOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let fmt = output_format(output, to)?;
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
        if a == b {
            return Err(CliError::Usage(format!(
                "{}: input and output are the same file",
                input.display()
            )));
        }
    }
    let reader = open(input, &opts)?;
    let in_fmt = reader.format();
    let out_name = output.display().to_string();
    let oerr = |source| CliError::Output {
        path: out_name.clone(),
        source,
    };
    let to_stdout = output == Path::new("-");
    let mut w = if to_stdout {
        write::writer(fmt, &mut *out).map_err(oerr)?
    } else {
        write::create(output, fmt).map_err(oerr)?
    };
    let mut reader = reader;
    let mut written = 0u64;
    for rec in reader.by_ref() {
        let rec = rec?;
        match w.write_record(&rec) {
            Ok(true) => written += 1,
            Ok(false) => {}
            Err(e) if to_stdout && e.is_broken_pipe() => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(oerr(e)),
        }
    }
    match w.finish() {
        Err(e) if to_stdout && e.is_broken_pipe() => return Ok(ExitCode::SUCCESS),
        r => r.map_err(oerr)?,
    }
    let skipped = w.skipped();
    drop(w);
    let _ = writeln!(
        err,
        "{}: {in_fmt} → {fmt}: {written} records written, {skipped} not representable in {fmt}, {} warnings",
        input.display(),
        reader.warnings().total()
    );
    Ok(ExitCode::SUCCESS)
}

fn cat(file: &Path, opts: ReadOptions, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let mut reader = open(file, &opts)?;
    let mut w = write::writer(Format::Candump, &mut *out).expect("candump is writable");
    // One frame reused for the whole log: no allocation per frame.
    let mut frame = Frame::default();
    while reader.read_frame(&mut frame)? {
        if let Err(e) = w.write_frame(&frame) {
            if e.is_broken_pipe() {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(CliError::Output {
                path: "-".into(),
                source: e,
            });
        }
    }
    match w.finish() {
        Err(e) if !e.is_broken_pipe() => Err(CliError::Output {
            path: "-".into(),
            source: e,
        }),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// What `info` reports.
#[derive(Debug, Default)]
struct Summary {
    frames: u64,
    events: u64,
    metrics: u64,
    comments: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    buses: BTreeMap<u8, u64>,
    ids: HashSet<(u32, bool)>,
    extended: u64,
    fd: u64,
    rtr: u64,
    error_frames: u64,
}

fn info(
    file: &Path,
    json: bool,
    opts: ReadOptions,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let mut reader = open(file, &opts)?;
    let mut s = Summary::default();
    for rec in reader.by_ref() {
        match rec? {
            Record::Frame(f) => {
                s.frames += 1;
                s.first_ts.get_or_insert(f.ts_ns);
                s.last_ts = Some(f.ts_ns);
                s.min_ts = Some(s.min_ts.map_or(f.ts_ns, |m| m.min(f.ts_ns)));
                s.max_ts = Some(s.max_ts.map_or(f.ts_ns, |m| m.max(f.ts_ns)));
                *s.buses.entry(f.bus).or_default() += 1;
                s.ids.insert((f.id, f.extended));
                s.extended += u64::from(f.extended);
                s.fd += u64::from(f.fd);
                s.rtr += u64::from(f.rtr);
                s.error_frames += u64::from(f.error);
            }
            Record::Event { .. } => s.events += 1,
            Record::Metric { .. } => s.metrics += 1,
            Record::Comment { .. } => s.comments += 1,
        }
    }
    let name = file.display().to_string();
    let text = if json {
        let mut v = info_json(&name, reader.format(), &s, reader.warnings()).to_string();
        v.push('\n');
        v
    } else {
        info_text(&name, reader.format(), &s, reader.warnings())
    };
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(CliError::Output {
            path: "-".into(),
            source: e.into(),
        }),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn duration(s: &Summary) -> i64 {
    match (s.first_ts, s.last_ts) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    }
}

fn info_json(name: &str, format: Format, s: &Summary, w: &Warnings) -> serde_json::Value {
    let buses: serde_json::Map<String, serde_json::Value> = s
        .buses
        .iter()
        .map(|(b, n)| (b.to_string(), (*n).into()))
        .collect();
    let counts: serde_json::Map<String, serde_json::Value> = w
        .counts()
        .map(|(k, n)| (k.name().to_string(), n.into()))
        .collect();
    let first: Vec<serde_json::Value> = w
        .first()
        .iter()
        .map(|x| serde_json::json!({"kind": x.kind.name(), "line": x.line, "column": x.column, "message": x.message}))
        .collect();
    serde_json::json!({
        "file": name,
        "format": format.name(),
        "frames": s.frames,
        "events": s.events,
        "metrics": s.metrics,
        "comments": s.comments,
        "first_ts_ns": s.first_ts,
        "last_ts_ns": s.last_ts,
        "duration_ns": duration(s),
        "duration_s": duration(s) as f64 / 1e9,
        "buses": buses,
        "distinct_ids": s.ids.len(),
        "extended_frames": s.extended,
        "fd_frames": s.fd,
        "remote_frames": s.rtr,
        "error_frames": s.error_frames,
        "warnings": { "total": w.total(), "counts": counts, "first": first },
    })
}

fn info_text(name: &str, format: Format, s: &Summary, w: &Warnings) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "file:      {name}");
    let _ = writeln!(o, "format:    {format}");
    let _ = writeln!(o, "frames:    {}", s.frames);
    if let (Some(a), Some(b)) = (s.first_ts, s.last_ts) {
        let _ = writeln!(
            o,
            "duration:  {} s (first {}, last {})",
            fmt_ns(duration(s)),
            fmt_ns(a),
            fmt_ns(b)
        );
    }
    let buses: Vec<String> = s
        .buses
        .iter()
        .map(|(b, n)| format!("{b} ({n} frames)"))
        .collect();
    let _ = writeln!(
        o,
        "buses:     {}",
        if buses.is_empty() {
            "none".into()
        } else {
            buses.join(", ")
        }
    );
    let _ = writeln!(
        o,
        "ids:       {} distinct ({} extended, {} FD, {} remote, {} error frames)",
        s.ids.len(),
        s.extended,
        s.fd,
        s.rtr,
        s.error_frames
    );
    let _ = writeln!(
        o,
        "records:   {} comments, {} events, {} metrics",
        s.comments, s.events, s.metrics
    );
    if w.is_empty() {
        let _ = writeln!(o, "warnings:  none");
    } else {
        let _ = writeln!(o, "warnings:  {}", w.total());
        for (k, n) in w.counts() {
            let lines: Vec<String> = w
                .first_of(k)
                .map(|x| format!("{}:{}", x.line, x.column))
                .collect();
            let _ = writeln!(o, "  {k}: {n} (first at {})", lines.join(", "));
            if let Some(x) = w.first_of(k).next() {
                let _ = writeln!(o, "    e.g. {}", x.message);
            }
        }
    }
    o
}
