//! The emulator-process rig: `ovms-emu --clock virtual --control 127.0.0.1:<port>` as a child
//! process, driven over its line-based control channel (`advance SECS`, `set`, `metrics`, ...).
//!
//! This rig cannot see the edge's event stream, so sent publishes carry no module time of their own
//! (the world stamps them with the step they appeared in) and delivery of app-client messages to
//! the module is confirmed only by a control round trip after the tap forwarded them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration as StdDuration;

use ovms_firmware::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use super::file::EmulatorSpec;
use super::ModuleSetup;

/// A running `ovms-emu` child process and its control connection.
#[derive(Debug)]
pub struct EmuProcess {
    child: Mutex<Child>,
    control: Mutex<BufReader<TcpStream>>,
}

/// Where the `ovms-emu` binary is: the rig's `emulator.binary`, else beside this executable, else `PATH`.
pub fn find_binary(spec: &EmulatorSpec, rig_dir: &Path) -> PathBuf {
    if let Some(b) = &spec.binary {
        let p = rig_dir.join(b);
        return if p.is_file() { p } else { b.clone() };
    }
    if let Ok(me) = std::env::current_exe() {
        for dir in me.ancestors().skip(1).take(2) {
            let p = dir.join("ovms-emu");
            if p.is_file() {
                return p;
            }
        }
    }
    PathBuf::from("ovms-emu")
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

impl EmuProcess {
    /// Start the child and connect to its control port.
    pub async fn start(
        spec: &EmulatorSpec,
        rig_dir: &Path,
        setup: ModuleSetup,
        vehicle: Option<&str>,
    ) -> Result<EmuProcess, String> {
        let binary = find_binary(spec, rig_dir);
        let port = free_port()?;
        let mut cmd = Command::new(&binary);
        cmd.arg("--broker")
            .arg(&setup.broker_url)
            .arg("--clock")
            .arg("virtual")
            .arg("--control")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--profile")
            .arg(profile_arg(&setup)?)
            .arg("--vehicle-id")
            .arg(&setup.vehicle_id)
            .arg("--username")
            .arg(&setup.user)
            .arg("--log-level")
            .arg("warn");
        if let Some(k) = setup.keepalive_secs {
            cmd.arg("--keepalive").arg(k.to_string());
        }
        if let Some(v) = vehicle {
            let root = rig_dir.parent().unwrap_or(rig_dir);
            cmd.arg("--vehicle")
                .arg(v)
                .arg("--vehicle-dir")
                .arg(root.join("scenarios/vehicles"));
        }
        for (k, v) in &setup.params {
            cmd.arg("--config").arg(format!("{k}={v}"));
        }
        for (k, v) in &setup.initial_metrics {
            cmd.arg("--set").arg(format!("{k}={v}"));
        }
        cmd.args(&spec.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let deadline = tokio::time::Instant::now() + StdDuration::from_secs(10);
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    return Err(format!(
                        "{} did not open its control port 127.0.0.1:{port}: {e}",
                        binary.display()
                    ))
                }
                Err(_) => tokio::time::sleep(StdDuration::from_millis(20)).await,
            }
        };
        Ok(EmuProcess {
            child: Mutex::new(child),
            control: Mutex::new(BufReader::new(stream)),
        })
    }

    /// Send one command; returns the text after `ok`.
    async fn call(&self, line: &str) -> Result<String, String> {
        let mut c = self.control.lock().await;
        c.get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| format!("control: {e}"))?;
        let mut reply = String::new();
        c.read_line(&mut reply)
            .await
            .map_err(|e| format!("control: {e}"))?;
        let reply = reply.trim_end();
        if let Some(rest) = reply.strip_prefix("ok") {
            Ok(rest.trim().to_string())
        } else {
            Err(format!("ovms-emu `{line}`: {reply}"))
        }
    }

    /// `advance SECS`.
    pub async fn advance(&self, d: Duration) -> Result<Instant, String> {
        let secs = d.as_millis() as f64 / 1000.0;
        let now = self.call(&format!("advance {secs:.3}")).await?;
        parse_secs(&now)
    }

    /// `now`.
    pub async fn now(&self) -> Result<Instant, String> {
        parse_secs(&self.call("now").await?)
    }

    /// Delivery cannot be observed from outside: one control round trip lets the child feed what
    /// its socket holds.
    pub async fn wait_received(&self, _n: usize, _timeout: StdDuration) -> Result<(), usize> {
        self.advance(Duration::ZERO)
            .await
            .map(|_| ())
            .map_err(|_| 0)
    }

    /// Not observable from outside the process.
    pub async fn received_count(&self) -> usize {
        0
    }

    /// `set METRIC VALUE`.
    pub async fn set_metric(&self, name: &str, value: &str) -> Result<(), String> {
        self.call(&format!("set {name} {value}")).await.map(|_| ())
    }

    /// `metrics NAME` (exact match picked from the reply).
    pub async fn metric(&self, name: &str) -> Result<Option<String>, String> {
        let mut c = self.control.lock().await;
        c.get_mut()
            .write_all(format!("metrics {name}\n").as_bytes())
            .await
            .map_err(|e| format!("control: {e}"))?;
        let mut head = String::new();
        c.read_line(&mut head).await.map_err(|e| e.to_string())?;
        let n: usize = head
            .trim()
            .strip_prefix("ok ")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("ovms-emu metrics: {}", head.trim()))?;
        let mut found = None;
        for _ in 0..n {
            let mut l = String::new();
            c.read_line(&mut l).await.map_err(|e| e.to_string())?;
            let l = l.trim_end_matches(['\r', '\n']);
            if let Some((k, v)) = l.split_once(' ') {
                if k == name {
                    found = Some(v.replace("\\n", "\n").replace("\\\\", "\\"));
                }
            } else if l == name {
                found = Some(String::new());
            }
        }
        Ok(found)
    }

    /// `frame BUS ID HEX` (bus 1-based on the wire).
    pub async fn can_frame(&self, bus: u8, id: u32, data: &[u8]) -> Result<(), String> {
        let hex: String = data.iter().map(|b| format!("{b:02X}")).collect();
        let hex = if hex.is_empty() { "-".to_string() } else { hex };
        self.call(&format!("frame {} {id:X} {hex}", bus + 1))
            .await
            .map(|_| ())
    }

    /// `notify KIND SUBTYPE TEXT`.
    pub async fn notify(&self, kind: &str, subtype: &str, text: &str) -> Result<(), String> {
        self.call(&format!("notify {kind} {subtype} {text}"))
            .await
            .map(|_| ())
    }

    /// `power-cut`.
    pub async fn power_cut(&self) -> Result<(), String> {
        self.call("power-cut").await.map(|_| ())
    }

    /// `network-cut`.
    pub async fn network_cut(&self) -> Result<(), String> {
        self.call("network-cut").await.map(|_| ())
    }

    /// Kill the child.
    pub async fn shutdown(self) {
        let mut child = self.child.into_inner();
        let _ = child.kill().await;
    }
}

/// The `--profile` argument: a shipped profile by name, else the file it was loaded from.
fn profile_arg(setup: &ModuleSetup) -> Result<String, String> {
    let name = setup.profile.name();
    if ovms_firmware::profile::Profile::builtin_source(name).is_some()
        && setup.profile.origin().starts_with("<builtin")
    {
        return Ok(name.to_string());
    }
    let origin = setup.profile.origin();
    if Path::new(origin).is_file() {
        return Ok(origin.to_string());
    }
    Err(format!(
        "profile {name} ({origin}) is neither shipped nor a file; cannot hand it to ovms-emu"
    ))
}

fn parse_secs(s: &str) -> Result<Instant, String> {
    let v: f64 = s
        .split_whitespace()
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|_| format!("ovms-emu: expected seconds, got {s:?}"))?;
    Ok(Instant::from_millis((v * 1000.0).round() as u64))
}
