//! The control channel: a line-based TCP protocol to drive a separately running `ovms-emu`
//! (virtual time, inputs, queries).
//!
//! One command per line (LF or CRLF); every command gets exactly one reply line starting with
//! `ok` or `error`, except `metrics`, whose `ok N` line is followed by N lines `NAME VALUE`
//! (newlines inside values are written as `\n`, backslashes as `\\`).
//!
//! | command | effect | reply |
//! |---|---|---|
//! | `advance SECS` | virtual clock: move time by SECS (decimals allowed), see [`crate::EmuHandle::advance`] | `ok NOW` (seconds, 3 decimals) |
//! | `now` | | `ok NOW` |
//! | `set METRIC VALUE` | set a metric from text (VALUE is the rest of the line, may be empty; `\n`, `\r`, `\\` escapes) | `ok` |
//! | `event NAME` | raise a system event | `ok` |
//! | `notify KIND SUBTYPE TEXT` | raise a notification (KIND info, error, alert or data; TEXT escaped like VALUE) | `ok` |
//! | `frame BUS ID HEXDATA` | feed a CAN frame: BUS 1-based (CAN1 = 1), ID hex (29-bit when longer than 3 digits or above 7FF), HEXDATA contiguous hex bytes or `-` for none | `ok` |
//! | `metrics [FILTER]` | defined metrics; FILTER is `*`, `prefix*`, `*suffix` or a substring | `ok N` + N lines |
//! | `status` | | `ok connected=yes|no now=NOW` |
//! | `network-cut` | drop the connection without DISCONNECT; the module reconnects | `ok` |
//! | `power-cut` | drop the connection without DISCONNECT and stop the module | `ok` |
//! | `help` | | `ok COMMANDS...` |

use std::sync::Arc;

use ovms_firmware::io::Input;
use ovms_firmware::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

use crate::handle::EmuHandle;

/// Longest accepted command line in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// One parsed control command.
#[derive(Clone, Debug, PartialEq)]
pub enum ControlCommand {
    /// `advance SECS`.
    Advance(Duration),
    /// `now`.
    Now,
    /// `set METRIC VALUE`.
    Set {
        /// Metric name.
        name: String,
        /// Text value.
        value: String,
    },
    /// `event NAME`.
    Event(String),
    /// `notify KIND SUBTYPE TEXT`.
    Notify {
        /// info, error, alert or data.
        kind: String,
        /// Subtype (`charge.started`).
        subtype: String,
        /// Text.
        text: String,
    },
    /// `frame BUS ID HEXDATA` (bus stored 0-based).
    Frame {
        /// Bus, 0-based.
        bus: u8,
        /// Identifier.
        id: u32,
        /// 29-bit identifier.
        extended: bool,
        /// Data bytes.
        data: Vec<u8>,
    },
    /// `metrics [FILTER]`.
    Metrics(Option<String>),
    /// `status`.
    Status,
    /// `network-cut`.
    NetworkCut,
    /// `power-cut`.
    PowerCut,
    /// `help`.
    Help,
}

/// The command names, for `help`.
pub const COMMANDS: &str = "advance SECS | now | set METRIC VALUE | event NAME | notify KIND SUBTYPE TEXT | frame BUS ID HEXDATA | metrics [FILTER] | status | network-cut | power-cut | help";

/// Parse one line (without its line ending). The error is the text after `error `.
pub fn parse_command(line: &str) -> Result<ControlCommand, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let trimmed = line.trim_start();
    let (word, rest) = match trimmed.split_once([' ', '\t']) {
        Some((w, r)) => (w, r),
        None => (trimmed, ""),
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    let no_args = |cmd: ControlCommand| {
        if args.is_empty() {
            Ok(cmd)
        } else {
            Err(format!("{word} takes no arguments"))
        }
    };
    match word {
        "" => Err("empty command".into()),
        "advance" => {
            let [secs] = args[..] else {
                return Err("usage: advance SECS".into());
            };
            let s: f64 = secs
                .parse()
                .map_err(|_| format!("advance: {secs:?} is not a number of seconds"))?;
            if !(s.is_finite() && (0.0..1e12).contains(&s)) {
                return Err(format!(
                    "advance: {secs:?} is not a non-negative number of seconds"
                ));
            }
            Ok(ControlCommand::Advance(Duration::from_millis(
                (s * 1000.0).round() as u64,
            )))
        }
        "now" => no_args(ControlCommand::Now),
        "status" => no_args(ControlCommand::Status),
        "network-cut" => no_args(ControlCommand::NetworkCut),
        "power-cut" => no_args(ControlCommand::PowerCut),
        "help" => Ok(ControlCommand::Help),
        "set" => {
            let rest = rest.trim_start();
            let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
            if name.is_empty() {
                return Err("usage: set METRIC VALUE".into());
            }
            Ok(ControlCommand::Set {
                name: name.into(),
                value: unescape(value),
            })
        }
        "event" => {
            let [name] = args[..] else {
                return Err("usage: event NAME".into());
            };
            Ok(ControlCommand::Event(name.into()))
        }
        "notify" => {
            let mut parts = rest.trim_start().splitn(3, ' ');
            let kind = parts.next().unwrap_or("");
            let subtype = parts.next().unwrap_or("");
            let text = parts.next().unwrap_or("");
            if !matches!(kind, "info" | "error" | "alert" | "data") || subtype.is_empty() {
                return Err("usage: notify info|error|alert|data SUBTYPE TEXT".into());
            }
            Ok(ControlCommand::Notify {
                kind: kind.into(),
                subtype: subtype.into(),
                text: unescape(text),
            })
        }
        "frame" => parse_frame(&args),
        "metrics" => match args[..] {
            [] => Ok(ControlCommand::Metrics(None)),
            [f] => Ok(ControlCommand::Metrics(Some(f.into()))),
            _ => Err("usage: metrics [FILTER]".into()),
        },
        other => Err(format!("unknown command {other:?}; commands: {COMMANDS}")),
    }
}

fn parse_frame(args: &[&str]) -> Result<ControlCommand, String> {
    let [bus, id, data] = args[..] else {
        return Err("usage: frame BUS ID HEXDATA".into());
    };
    let bus: u8 = bus
        .parse()
        .ok()
        .filter(|b| (1..=4).contains(b))
        .ok_or_else(|| format!("frame: bus {bus:?} is not 1-4"))?;
    let id_text = id;
    let id = u32::from_str_radix(id_text, 16)
        .map_err(|_| format!("frame: ID {id_text:?} is not hex"))?;
    let extended = id_text.len() > 3 || id > 0x7FF;
    if id > 0x1FFF_FFFF {
        return Err(format!("frame: ID {id_text:?} is above 1FFFFFFF"));
    }
    let data = if data == "-" {
        Vec::new()
    } else {
        parse_hex(data).ok_or_else(|| format!("frame: data {data:?} is not hex bytes"))?
    };
    if data.len() > 8 {
        return Err(format!("frame: {} data bytes (at most 8)", data.len()));
    }
    Ok(ControlCommand::Frame {
        bus: bus - 1,
        id,
        extended,
        data,
    })
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Whether `name` passes a `metrics` filter.
pub fn filter_matches(filter: &str, name: &str) -> bool {
    if filter == "*" {
        true
    } else if let Some(p) = filter.strip_suffix('*') {
        name.starts_with(p)
    } else if let Some(s) = filter.strip_prefix('*') {
        name.ends_with(s)
    } else {
        name.contains(filter)
    }
}

/// Seconds with 3 decimals.
pub fn secs(t: Instant) -> String {
    format!("{}.{:03}", t.as_millis() / 1000, t.as_millis() % 1000)
}

/// Escape a value for one protocol line: `\` → `\\`, newline → `\n`, CR → `\r`.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// Undo [`escape`] (an unknown escape keeps the escaped character; a trailing `\` stays).
pub fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Carry out one command; returns the full reply text (one or more lines, each ending in `\n`).
pub async fn execute(handle: &EmuHandle, cmd: ControlCommand) -> String {
    let r: Result<String, String> = async {
        let e = |e: crate::EmuError| e.to_string();
        Ok(match cmd {
            ControlCommand::Advance(d) => {
                format!("ok {}", secs(handle.advance(d).await.map_err(e)?))
            }
            ControlCommand::Now => format!("ok {}", secs(handle.now().await.map_err(e)?)),
            ControlCommand::Set { name, value } => {
                handle.set_metric(&name, &value).await.map_err(e)?;
                "ok".into()
            }
            ControlCommand::Event(name) => {
                handle.input(Input::Event(name)).await.map_err(e)?;
                "ok".into()
            }
            ControlCommand::Notify {
                kind,
                subtype,
                text,
            } => {
                handle
                    .input(Input::Notify {
                        kind,
                        subtype,
                        text,
                    })
                    .await
                    .map_err(e)?;
                "ok".into()
            }
            ControlCommand::Frame {
                bus,
                id,
                extended,
                data,
            } => {
                handle
                    .input(Input::CanFrame {
                        bus,
                        id,
                        extended,
                        data,
                    })
                    .await
                    .map_err(e)?;
                "ok".into()
            }
            ControlCommand::Metrics(filter) => {
                let all = handle.metrics().await.map_err(e)?;
                let lines: Vec<String> = all
                    .iter()
                    .filter(|(n, _)| filter.as_deref().is_none_or(|f| filter_matches(f, n)))
                    .map(|(n, v)| format!("{n} {}", escape(v)))
                    .collect();
                let mut out = format!("ok {}", lines.len());
                for l in lines {
                    out.push('\n');
                    out.push_str(&l);
                }
                out
            }
            ControlCommand::Status => {
                let c = handle.is_connected().await.map_err(e)?;
                let now = handle.now().await.map_err(e)?;
                format!(
                    "ok connected={} now={}",
                    if c { "yes" } else { "no" },
                    secs(now)
                )
            }
            ControlCommand::NetworkCut => {
                handle.network_cut().await.map_err(e)?;
                "ok".into()
            }
            ControlCommand::PowerCut => {
                handle.power_cut().await.map_err(e)?;
                "ok".into()
            }
            ControlCommand::Help => format!("ok {COMMANDS}"),
        })
    }
    .await;
    match r {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(msg) => format!("error {}\n", escape(&msg)),
    }
}

/// Serve the control protocol on `listener` until the task is dropped. Clients are served one
/// command at a time each, all against the same module.
pub async fn serve(listener: TcpListener, handle: Arc<EmuHandle>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                debug!("control client {peer} connected");
                let h = handle.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve_client(stream, &h).await {
                        debug!("control client {peer}: {e}");
                    }
                });
            }
            Err(e) => {
                warn!("control channel accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn serve_client(stream: TcpStream, handle: &EmuHandle) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .await?;
        if n == 0 {
            return Ok(());
        }
        let reply = if buf.len() > MAX_LINE {
            // Skip the rest of the overlong line.
            while !buf.ends_with(b"\n") {
                buf.clear();
                if (&mut reader)
                    .take(MAX_LINE as u64)
                    .read_until(b'\n', &mut buf)
                    .await?
                    == 0
                {
                    break;
                }
            }
            format!("error line longer than {MAX_LINE} bytes\n")
        } else {
            match std::str::from_utf8(&buf) {
                Err(_) => "error line is not UTF-8\n".to_string(),
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => match parse_command(line) {
                    Ok(cmd) => {
                        info!("control: {}", line.trim_end());
                        execute(handle, cmd).await
                    }
                    Err(msg) => format!("error {msg}\n"),
                },
            }
        };
        w.write_all(reply.as_bytes()).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(
            parse_command("advance 1.5").unwrap(),
            ControlCommand::Advance(Duration::from_millis(1500))
        );
        assert_eq!(parse_command("now\r").unwrap(), ControlCommand::Now);
        assert_eq!(
            parse_command("set v.b.soc 85.5").unwrap(),
            ControlCommand::Set {
                name: "v.b.soc".into(),
                value: "85.5".into()
            }
        );
        assert_eq!(
            parse_command("set v.e.vin").unwrap(),
            ControlCommand::Set {
                name: "v.e.vin".into(),
                value: "".into()
            }
        );
        assert_eq!(
            parse_command("set x.text a b  c").unwrap(),
            ControlCommand::Set {
                name: "x.text".into(),
                value: "a b  c".into()
            }
        );
        assert_eq!(
            parse_command("event vehicle.charge.start").unwrap(),
            ControlCommand::Event("vehicle.charge.start".into())
        );
        assert_eq!(
            parse_command("notify info charge.started Charging started").unwrap(),
            ControlCommand::Notify {
                kind: "info".into(),
                subtype: "charge.started".into(),
                text: "Charging started".into()
            }
        );
        assert_eq!(
            parse_command("frame 1 3b4 0102ff").unwrap(),
            ControlCommand::Frame {
                bus: 0,
                id: 0x3b4,
                extended: false,
                data: vec![1, 2, 0xff]
            }
        );
        assert_eq!(
            parse_command("frame 2 18DAF110 -").unwrap(),
            ControlCommand::Frame {
                bus: 1,
                id: 0x18DA_F110,
                extended: true,
                data: vec![]
            }
        );
        assert_eq!(
            parse_command("metrics v.b.*").unwrap(),
            ControlCommand::Metrics(Some("v.b.*".into()))
        );
        assert_eq!(
            parse_command("power-cut").unwrap(),
            ControlCommand::PowerCut
        );
    }

    #[test]
    fn bad_commands_are_errors_with_usage() {
        for (line, want) in [
            ("", "empty"),
            ("advance", "usage: advance SECS"),
            ("advance -1", "non-negative"),
            ("advance x", "not a number"),
            ("frame 0 100 00", "bus"),
            ("frame 1 xyz 00", "not hex"),
            ("frame 1 100 0", "not hex bytes"),
            ("frame 1 100 000102030405060708", "at most 8"),
            ("notify loud x y", "usage: notify"),
            ("now 5", "takes no arguments"),
            ("fly", "unknown command"),
        ] {
            let e = parse_command(line).unwrap_err();
            assert!(e.contains(want), "{line:?}: {e}");
        }
    }

    #[test]
    fn filters_and_escapes() {
        assert!(filter_matches("v.b.*", "v.b.soc"));
        assert!(!filter_matches("v.b.*", "v.c.mode"));
        assert!(filter_matches("*soc", "v.b.soc"));
        assert!(filter_matches("peers", "s.v3.peers"));
        assert_eq!(escape("a\nb\\c"), "a\\nb\\\\c");
        for v in ["", "plain", "two\nlines\r\n", "back\\slash\\n", "\\"] {
            assert_eq!(unescape(&escape(v)), v);
        }
        assert_eq!(
            parse_command("notify info x line1\\nline2").unwrap(),
            ControlCommand::Notify {
                kind: "info".into(),
                subtype: "x".into(),
                text: "line1\nline2".into()
            }
        );
        assert_eq!(secs(Instant::from_millis(61_005)), "61.005");
    }
}
