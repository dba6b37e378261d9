//! `ovms-hil dbc decode LOG --dbc FILE... [--bus N] [--jsonl] [--lenient]`.
//!
//! With `--jsonl`, one JSON object per frame a DBC message matches, with exactly these keys:
//! `{"ts": <seconds>, "bus": <n>, "id": <n>, "msg": "<name>", "signals": {"<signal>": <physical>, ...}}`.
//! Values are scaled physical numbers (value tables are not applied); for multiplexed messages only
//! the signals active for the multiplexer value; signals beyond a short frame's data are omitted.
//! Integral values print without a fraction; NaN/infinite float signals print as `null`.
//! When several DBC files define an identifier, the first file given wins.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use ovms_canlog::{open, ReadOptions};

use crate::dbc::{Dbc, DbcError, LoadOptions};

/// Arguments of `dbc decode`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct DbcDecodeArgs {
    /// CAN log (any format ovms-canlog detects: GVRET CSV, candump, CRTD, TRC, tattler CSV, ...).
    pub log: PathBuf,
    /// DBC file(s); the first that defines an identifier wins.
    #[arg(long = "dbc", value_name = "FILE", required = true, num_args = 1..)]
    pub dbc: Vec<PathBuf>,
    /// Decode only frames on this bus (0-based).
    #[arg(long)]
    pub bus: Option<u8>,
    /// Print JSON lines (the machine-readable contract) instead of text.
    #[arg(long)]
    pub jsonl: bool,
    /// Accept DBC defects (missing BS_/BU_, overlapping signals, VAL_ for unknown signals) with warnings.
    #[arg(long)]
    pub lenient: bool,
}

/// Why `dbc decode` failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A DBC file failed to load.
    #[error("{0}{hint}", hint = if matches!(.0, DbcError::At { .. }) { " (try --lenient)" } else { "" })]
    Dbc(#[from] DbcError),
    /// The log could not be read.
    #[error("{0}")]
    Log(String),
    /// Writing the output failed.
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
}

/// Counters of one decode run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Frames read from the log.
    pub frames: u64,
    /// Frames a DBC message matched (= lines written).
    pub decoded: u64,
}

/// Appends a JSON number for a physical value (integral values without a fraction).
fn push_number(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    if !v.is_finite() {
        out.push_str("null");
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        // Rust's shortest round-trip form is valid JSON for finite values.
        let _ = write!(out, "{v:?}");
    }
}

/// Appends a JSON string.
fn push_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// One JSON line (without the newline) for a decoded frame.
pub fn json_line(ts: f64, bus: u8, id: u32, msg: &str, signals: &[(&str, f64)]) -> String {
    let mut s = String::with_capacity(64 + signals.len() * 24);
    s.push_str("{\"ts\": ");
    push_number(&mut s, ts);
    s.push_str(", \"bus\": ");
    s.push_str(&bus.to_string());
    s.push_str(", \"id\": ");
    s.push_str(&id.to_string());
    s.push_str(", \"msg\": ");
    push_string(&mut s, msg);
    s.push_str(", \"signals\": {");
    for (k, (name, v)) in signals.iter().enumerate() {
        if k > 0 {
            s.push_str(", ");
        }
        push_string(&mut s, name);
        s.push_str(": ");
        push_number(&mut s, *v);
    }
    s.push_str("}}");
    s
}

/// Decodes `args.log` with the DBC files into `out`; DBC warnings go to `warn`.
pub fn decode_to(
    args: &DbcDecodeArgs,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<DecodeStats, CliError> {
    let db = Dbc::load_all(
        &args.dbc,
        LoadOptions {
            lenient: args.lenient,
        },
    )?;
    for w in db.warnings() {
        writeln!(warn, "{w}")?;
    }
    let reader =
        open(&args.log, &ReadOptions::default()).map_err(|e| CliError::Log(e.to_string()))?;
    let mut stats = DecodeStats::default();
    let mut vals = Vec::with_capacity(64);
    for frame in reader.frames() {
        let f = frame.map_err(|e| CliError::Log(e.to_string()))?;
        stats.frames += 1;
        if f.rtr || f.error || args.bus.is_some_and(|b| b != f.bus) {
            continue;
        }
        vals.clear();
        let Some(idx) = db.decode(f.id, f.extended, &f.data, &mut vals) else {
            continue;
        };
        stats.decoded += 1;
        let msg = &db.messages()[idx];
        if args.jsonl {
            let named: Vec<(&str, f64)> = vals
                .iter()
                .map(|&(k, v)| (msg.signals[k as usize].name.as_str(), v))
                .collect();
            writeln!(
                out,
                "{}",
                json_line(f.ts_secs(), f.bus, f.id, &msg.name, &named)
            )?;
        } else {
            write!(out, "{:.6} {} {:X} {}", f.ts_secs(), f.bus, f.id, msg.name)?;
            for &(k, v) in &vals {
                let s = &msg.signals[k as usize];
                write!(out, " {}={}", s.name, v)?;
                if !s.unit.is_empty() {
                    write!(out, " {}", s.unit)?;
                }
            }
            writeln!(out)?;
        }
    }
    Ok(stats)
}

/// Runs `dbc decode` on stdout/stderr.
pub fn run_decode(args: DbcDecodeArgs) -> Result<ExitCode, CliError> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    decode_to(&args, &mut out, &mut err)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Top {
        #[command(flatten)]
        args: DbcDecodeArgs,
    }

    #[test]
    fn json_line_has_exactly_the_contract_keys() {
        let l = json_line(
            1.5,
            1,
            0x123,
            "M\"x",
            &[("A", 3.0), ("B", -0.25), ("C", f64::NAN)],
        );
        assert_eq!(
            l,
            r#"{"ts": 1.5, "bus": 1, "id": 291, "msg": "M\"x", "signals": {"A": 3, "B": -0.25, "C": null}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 5);
    }

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn text_mode_bus_filter_and_errors() {
        let log = root().join(
            "scenarios/logs/kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv",
        );
        let dbc = root().join("scenarios/dbc/kona-ev_ccan.dbc");
        let mut args = DbcDecodeArgs {
            log: log.clone(),
            dbc: vec![dbc.clone()],
            bus: Some(1),
            jsonl: false,
            lenient: true,
        };
        let (mut out, mut warn) = (Vec::new(), Vec::new());
        let stats = decode_to(&args, &mut out, &mut warn).unwrap();
        assert_eq!(stats.frames, 39_546);
        assert!(stats.decoded > 0);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count() as u64, stats.decoded);
        assert!(
            text.lines().all(|l| l.split(' ').nth(1) == Some("1")),
            "bus filter"
        );
        // The missing BS_/BU_ defect is reported as a warning with file and line.
        let warn = String::from_utf8(warn).unwrap();
        assert!(warn.contains("kona-ev_ccan.dbc:6: warning:"), "{warn}");
        // Bus 0 has no C-CAN messages.
        args.bus = Some(0);
        let stats = decode_to(&args, &mut Vec::new(), &mut Vec::new()).unwrap();
        assert_eq!(stats.decoded, 0);
        // Strict mode: located error with a hint.
        args.lenient = false;
        let e = decode_to(&args, &mut Vec::new(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("kona-ev_ccan.dbc:6:1:") && e.ends_with("(try --lenient)"),
            "{e}"
        );
        // Missing log.
        args.lenient = true;
        args.log = root().join("scenarios/logs/nope.csv");
        assert!(matches!(
            decode_to(&args, &mut Vec::new(), &mut Vec::new()),
            Err(CliError::Log(_))
        ));
    }

    #[test]
    fn args_parse() {
        let t = Top::try_parse_from([
            "x", "log.csv", "--dbc", "a.dbc", "b.dbc", "--bus", "1", "--jsonl",
        ])
        .unwrap();
        assert_eq!(
            t.args.dbc,
            vec![PathBuf::from("a.dbc"), PathBuf::from("b.dbc")]
        );
        assert_eq!(t.args.bus, Some(1));
        assert!(t.args.jsonl && !t.args.lenient);
        assert!(
            Top::try_parse_from(["x", "log.csv"]).is_err(),
            "--dbc is required"
        );
    }
}
