//! The firmware's CAN log "simulate" TCP server (`can log start tcpserver simulate crtd PORT`):
//! clients send CRTD text; every frame line is fed to the module as if received on its bus.
//!
//! Lines are decoded by [`crate::crtd::parse_line`]. A malformed frame line is logged with its
//! line and column and skipped; the stream goes on (the firmware also keeps reading).
//! `CDP` pauses and `CDR` resumes feeding for that client. Frames are fed at the module time
//! current when they are read (timestamps in the stream are ignored, as in the firmware).

use std::sync::Arc;

use ovms_firmware::io::Input;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, info, warn};

use crate::crtd::{parse_line, CrtdRecord};
use crate::handle::EmuHandle;

/// Longest accepted line in bytes (the firmware's own buffer is far smaller).
pub const MAX_LINE: usize = 4096;

/// What one client's stream amounted to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimulateStats {
    /// Lines read.
    pub lines: u64,
    /// Frames fed to the module.
    pub frames: u64,
    /// Lines ignored (comments, headers, events, metrics, frames while paused).
    pub ignored: u64,
    /// Malformed frame lines.
    pub errors: u64,
}

/// Accept simulate clients on `listener` forever (until the task is dropped).
pub async fn serve(listener: TcpListener, handle: Arc<EmuHandle>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                info!("CAN simulate client {peer} connected");
                let h = handle.clone();
                tokio::spawn(async move {
                    match feed_stream(stream, &h, &peer.to_string()).await {
                        Ok(s) => info!(
                            "CAN simulate client {peer} closed: {} frames fed, {} lines ignored, {} bad lines",
                            s.frames, s.ignored, s.errors
                        ),
                        Err(e) => warn!("CAN simulate client {peer}: {e}"),
                    }
                });
            }
            Err(e) => {
                warn!("CAN simulate accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Feed one client's CRTD stream to the module until EOF.
pub async fn feed_stream(
    stream: TcpStream,
    handle: &EmuHandle,
    name: &str,
) -> std::io::Result<SimulateStats> {
    let mut reader = BufReader::new(stream);
    let mut stats = SimulateStats::default();
    let mut paused = false;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .await?;
        if n == 0 {
            return Ok(stats);
        }
        stats.lines += 1;
        let line_no = stats.lines;
        if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
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
            warn!("simulate {name} line {line_no}: longer than {MAX_LINE} bytes, skipped");
            stats.errors += 1;
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        let line = text.trim_end_matches(['\n', '\r']);
        match parse_line(line) {
            Ok(CrtdRecord::Frame {
                bus,
                id,
                extended,
                data,
            }) if !paused => {
                if let Err(e) = handle
                    .input(Input::CanFrame {
                        bus,
                        id,
                        extended,
                        data,
                    })
                    .await
                {
                    warn!("simulate {name} line {line_no}: frame not fed: {e}");
                    return Ok(stats);
                }
                stats.frames += 1;
            }
            Ok(CrtdRecord::Frame { .. }) | Ok(CrtdRecord::Ignored) => stats.ignored += 1,
            Ok(CrtdRecord::Pause) => {
                debug!("simulate {name}: paused");
                paused = true;
            }
            Ok(CrtdRecord::Resume) => {
                debug!("simulate {name}: resumed");
                paused = false;
            }
            Err(e) => {
                warn!("simulate {name} line {line_no}: {e}");
                stats.errors += 1;
            }
        }
    }
}
