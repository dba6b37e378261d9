//! Client of a module's CAN log "simulate" TCP server: frames go to the module as OVMS-flavour
//! CRTD lines, paced on the wall clock.
//!
//! On the module: `can log start tcpserver simulate crtd :PORT`. The firmware reads lines,
//! skips lines not starting with a digit and the timestamp token, takes an optional bus digit
//! (default 1) and decodes `R11|R29|T11|T29 <hexid> <bytes>`; headers (`CXX`, `CVR`), events and
//! metrics are ignored on input (module-facts §7.2). Each frame is sent as
//!
//! ```text
//! <secs>.<usec> <bus 1-based>R11 <ID 3 hex digits> <bytes lowercase>
//! <secs>.<usec> <bus 1-based>R29 <ID 8 hex digits> <bytes lowercase>
//! ```
//!
//! with the timestamp = the frame's scheduled offset (the module ignores it).
//!
//! Two ways to stream:
//! - [`SimulateClient`] (tokio): [`SimulateClient::play`] takes any schedule of
//!   [`ScheduledFrame`]s — e.g. an [`ovms_replay::Schedule`] (window, loops, bus map, id filter)
//!   — and paces it with `tokio::time::sleep_until`.
//! - [`SimulateSink`] (blocking): an [`ovms_replay::FrameSink`], so [`ovms_replay::Replay::spawn`]
//!   drives it with the replay crate's own wall clock (sleep then spin).

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::ToSocketAddrs;
use std::time::Duration;

use ovms_canlog::Frame;
use ovms_replay::{FrameSink, ScheduledFrame, SinkError};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Why streaming to a simulate server failed.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// `HOST:PORT` could not be resolved or is malformed.
    #[error("CAN simulate server address `{addr}`: {reason}")]
    Address {
        /// The address given.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Nothing accepts connections there.
    #[error(
        "no CAN simulate server at {addr} ({source}); on the module run \
         `can log start tcpserver simulate crtd :PORT` and check the rig's bench.can address"
    )]
    Unreachable {
        /// The address.
        addr: String,
        /// The connect error.
        #[source]
        source: std::io::Error,
    },
    /// The connection did not complete in time.
    #[error("CAN simulate server at {addr} did not accept a connection within {after:?}")]
    ConnectTimeout {
        /// The address.
        addr: String,
        /// The timeout.
        after: Duration,
    },
    /// Writing failed (typically: the module closed the connection or rebooted).
    #[error("CAN simulate server at {addr}: write failed after {frames} frame(s): {source}")]
    Write {
        /// The address.
        addr: String,
        /// Frames sent before the failure.
        frames: u64,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A frame CRTD (and so the simulate server) cannot carry.
    #[error("frame {id:#x} on bus index {bus} cannot be sent as CRTD: {reason}")]
    Unrepresentable {
        /// Identifier.
        id: u32,
        /// Bus (0-based).
        bus: u8,
        /// Why.
        reason: &'static str,
    },
    /// The schedule (e.g. a log being read) failed.
    #[error("frame schedule failed after {frames} frame(s): {message}")]
    Schedule {
        /// Frames sent before.
        frames: u64,
        /// The schedule's error.
        message: String,
    },
}

/// The CRTD line (with LF) for `frame` at `ts` (timestamp token; ignored by the module).
///
/// Frames are always sent as `R` (received by the module): the simulate server feeds every frame
/// to the decoders regardless, and a `T` record would claim the module transmitted it.
pub fn crtd_line(ts: Duration, frame: &Frame) -> Result<String, SimulateError> {
    let bad = |reason| SimulateError::Unrepresentable {
        id: frame.id,
        bus: frame.bus,
        reason,
    };
    if frame.fd {
        return Err(bad("CAN FD frames have no CRTD record"));
    }
    if frame.rtr {
        return Err(bad("remote frames have no CRTD record"));
    }
    if frame.error {
        return Err(bad("error frames have no CRTD record"));
    }
    if frame.data.len() > 8 {
        return Err(bad("more than 8 data bytes"));
    }
    if frame.bus > 8 {
        return Err(bad("CRTD bus digits go from 1 to 9"));
    }
    if frame.extended && frame.id > 0x1FFF_FFFF {
        return Err(bad("29-bit identifier out of range"));
    }
    if !frame.extended && frame.id > 0x7FF {
        return Err(bad("11-bit identifier above 0x7FF"));
    }
    let mut l = String::with_capacity(64);
    let _ = write!(
        l,
        "{}.{:06} {}",
        ts.as_secs(),
        ts.subsec_micros(),
        frame.bus + 1
    );
    if frame.extended {
        let _ = write!(l, "R29 {:08X}", frame.id);
    } else {
        let _ = write!(l, "R11 {:03X}", frame.id);
    }
    for b in &frame.data {
        let _ = write!(l, " {b:02x}");
    }
    l.push('\n');
    Ok(l)
}

/// Pause/resume records the simulate server understands (`CDP` / `CDR`).
fn command_line(ts: Duration, cmd: &str) -> String {
    format!("{}.{:06} {cmd}\n", ts.as_secs(), ts.subsec_micros())
}

/// What [`SimulateClient::play`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlayStats {
    /// Frames written.
    pub frames: u64,
    /// Largest lateness of a frame against its deadline.
    pub max_late: Duration,
    /// Wall time from the start of the play to the last frame.
    pub elapsed: Duration,
}

/// A connection to a module's simulate server (tokio).
#[derive(Debug)]
pub struct SimulateClient {
    addr: String,
    stream: TcpStream,
    frames: u64,
    started: tokio::time::Instant,
}

impl SimulateClient {
    /// Connect to `addr` (`HOST:PORT`) within `timeout`.
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Self, SimulateError> {
        check_addr(addr)?;
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(SimulateError::ConnectTimeout {
                    addr: addr.to_string(),
                    after: timeout,
                })
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(SimulateError::Address {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })
            }
            Ok(Err(e)) => {
                return Err(SimulateError::Unreachable {
                    addr: addr.to_string(),
                    source: e,
                })
            }
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        Ok(SimulateClient {
            addr: addr.to_string(),
            stream,
            frames: 0,
            started: tokio::time::Instant::now(),
        })
    }

    /// The server address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Frames sent so far.
    pub fn frames_sent(&self) -> u64 {
        self.frames
    }

    async fn write(&mut self, line: &str) -> Result<(), SimulateError> {
        self.stream
            .write_all(line.as_bytes())
            .await
            .map_err(|source| SimulateError::Write {
                addr: self.addr.clone(),
                frames: self.frames,
                source,
            })
    }

    /// Send one frame now (timestamp: time since connecting).
    pub async fn send_frame(&mut self, frame: &Frame) -> Result<(), SimulateError> {
        let line = crtd_line(self.started.elapsed(), frame)?;
        self.write(&line).await?;
        self.frames += 1;
        Ok(())
    }

    /// Ask the server to pause feeding frames (`CDP`).
    pub async fn pause(&mut self) -> Result<(), SimulateError> {
        let l = command_line(self.started.elapsed(), "CDP");
        self.write(&l).await
    }

    /// Ask the server to resume feeding frames (`CDR`).
    pub async fn resume(&mut self) -> Result<(), SimulateError> {
        let l = command_line(self.started.elapsed(), "CDR");
        self.write(&l).await
    }

    /// Send the frames of `schedule` at their offsets from now (divided by `speed`, 1.0 = real
    /// time). Items are `Result`s so an [`ovms_replay::Schedule`] (which reads a log) fits as is;
    /// unrepresentable frames stop the play with an error naming the frame.
    pub async fn play<I, E>(&mut self, schedule: I, speed: f64) -> Result<PlayStats, SimulateError>
    where
        I: IntoIterator<Item = Result<ScheduledFrame, E>>,
        E: std::fmt::Display,
    {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        let start = tokio::time::Instant::now();
        let mut stats = PlayStats::default();
        for item in schedule {
            let sf = item.map_err(|e| SimulateError::Schedule {
                frames: stats.frames,
                message: e.to_string(),
            })?;
            let line = crtd_line(sf.offset, &sf.frame)?;
            let deadline = start + Duration::from_secs_f64(sf.offset.as_secs_f64() / speed);
            tokio::time::sleep_until(deadline).await;
            let now = tokio::time::Instant::now();
            stats.max_late = stats.max_late.max(now.saturating_duration_since(deadline));
            self.write(&line).await?;
            self.frames += 1;
            stats.frames += 1;
            stats.elapsed = now.duration_since(start);
        }
        self.stream
            .flush()
            .await
            .map_err(|source| SimulateError::Write {
                addr: self.addr.clone(),
                frames: self.frames,
                source,
            })?;
        Ok(stats)
    }

    /// Flush and close the connection (the server sees EOF).
    pub async fn close(mut self) -> Result<(), SimulateError> {
        let frames = self.frames;
        let addr = self.addr.clone();
        self.stream
            .shutdown()
            .await
            .map_err(|source| SimulateError::Write {
                addr,
                frames,
                source,
            })
    }
}

fn check_addr(addr: &str) -> Result<(), SimulateError> {
    let bad = |reason: &str| SimulateError::Address {
        addr: addr.to_string(),
        reason: reason.to_string(),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| bad("expected HOST:PORT"))?;
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad("port must be 1-65535")),
        Ok(_) => Ok(()),
    }
}

/// A blocking simulate-server connection usable as an [`ovms_replay::FrameSink`].
#[derive(Debug)]
pub struct SimulateSink {
    addr: String,
    stream: std::net::TcpStream,
    frames: u64,
}

impl SimulateSink {
    /// Connect (blocking) to `addr` within `timeout`.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Self, SimulateError> {
        check_addr(addr)?;
        let addrs: Vec<_> = addr
            .to_socket_addrs()
            .map_err(|e| SimulateError::Address {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?
            .collect();
        let mut last = None;
        for a in addrs {
            match std::net::TcpStream::connect_timeout(&a, timeout) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(SimulateSink {
                        addr: addr.to_string(),
                        stream,
                        frames: 0,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                Err(SimulateError::ConnectTimeout {
                    addr: addr.to_string(),
                    after: timeout,
                })
            }
            Some(e) => Err(SimulateError::Unreachable {
                addr: addr.to_string(),
                source: e,
            }),
            None => Err(SimulateError::Address {
                addr: addr.to_string(),
                reason: "resolves to no address".into(),
            }),
        }
    }

    /// Frames sent so far.
    pub fn frames_sent(&self) -> u64 {
        self.frames
    }
}

impl FrameSink for SimulateSink {
    fn send(&mut self, frame: &ScheduledFrame) -> Result<(), SinkError> {
        let line = crtd_line(frame.offset, &frame.frame).map_err(|e| SinkError::Other(e.into()))?;
        match self.stream.write_all(line.as_bytes()) {
            Ok(()) => {
                self.frames += 1;
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                Err(SinkError::Other(
                    SimulateError::Write {
                        addr: self.addr.clone(),
                        frames: self.frames,
                        source: e,
                    }
                    .into(),
                ))
            }
            Err(e) => Err(SinkError::Other(
                SimulateError::Write {
                    addr: self.addr.clone(),
                    frames: self.frames,
                    source: e,
                }
                .into(),
            )),
        }
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.stream
            .flush()
            .map_err(|e| SinkError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncBufReadExt;
    use tokio::net::TcpListener;

    fn f(bus: u8, id: u32, data: &[u8]) -> Frame {
        Frame::new(0, bus, id, data)
    }

    #[test]
    fn lines_are_ovms_crtd() {
        let l = crtd_line(
            Duration::from_micros(1_500_020),
            &f(0, 0x100, &[0x80, 0x39, 0xbb]),
        )
        .unwrap();
        assert_eq!(l, "1.500020 1R11 100 80 39 bb\n");
        let l = crtd_line(Duration::ZERO, &f(1, 0x18DAF110, &[0x02, 0x10, 0x03])).unwrap();
        assert_eq!(l, "0.000000 2R29 18DAF110 02 10 03\n");
        let l = crtd_line(Duration::ZERO, &f(2, 0x7, &[])).unwrap();
        assert_eq!(l, "0.000000 3R11 007\n");
    }

    #[test]
    fn matches_the_canlog_crtd_writer_frame_records() {
        // Same frame text as ovms-canlog's CRTD writer produces for received frames.
        let frames = [
            f(0, 0x213, &[0, 0, 0, 0, 0xc0, 1, 0, 0]),
            f(1, 0x18DAF110, &[2, 0x10, 3]),
        ];
        let mut buf = Vec::new();
        {
            let mut w = ovms_canlog::write::writer(ovms_canlog::Format::Crtd, &mut buf).unwrap();
            for fr in &frames {
                w.write_frame(fr).unwrap();
            }
            w.finish().unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        let theirs: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("R11") || l.contains("R29"))
            .collect();
        for (fr, line) in frames.iter().zip(theirs) {
            let mine = crtd_line(Duration::ZERO, fr).unwrap();
            assert_eq!(
                mine.trim_end().split_once(' ').unwrap().1,
                line.split_once(' ').unwrap().1
            );
        }
    }

    #[test]
    fn unrepresentable_frames_are_errors() {
        let mut fd = f(0, 0x100, &[0; 12]);
        fd.fd = true;
        assert!(crtd_line(Duration::ZERO, &fd).is_err());
        assert!(crtd_line(Duration::ZERO, &f(0, 0x100, &[0; 9])).is_err());
        assert!(crtd_line(Duration::ZERO, &f(9, 0x100, &[])).is_err());
        let mut rtr = f(0, 0x100, &[]);
        rtr.rtr = true;
        let e = crtd_line(Duration::ZERO, &rtr).unwrap_err();
        assert!(e.to_string().contains("remote"), "{e}");
        let mut wide = f(0, 0x100, &[]);
        wide.id = 0x800;
        wide.extended = false;
        assert!(crtd_line(Duration::ZERO, &wide).is_err());
    }

    async fn server() -> (String, tokio::task::JoinHandle<Vec<(Duration, String)>>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let h = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let t0 = std::time::Instant::now();
            let mut lines = tokio::io::BufReader::new(s).lines();
            let mut out = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                out.push((t0.elapsed(), line));
            }
            out
        });
        (addr, h)
    }

    fn sched(offsets_ms: &[u64]) -> Vec<Result<ScheduledFrame, String>> {
        offsets_ms
            .iter()
            .enumerate()
            .map(|(i, &ms)| {
                Ok(ScheduledFrame {
                    offset: Duration::from_millis(ms),
                    pass: 0,
                    frame: f(0, 0x100, &[0x80, i as u8]),
                })
            })
            .collect()
    }

    #[tokio::test]
    async fn play_paces_frames_on_the_wall_clock() {
        let (addr, h) = server().await;
        let mut c = SimulateClient::connect(&addr, Duration::from_secs(2))
            .await
            .unwrap();
        let stats = c.play(sched(&[0, 100, 250]), 1.0).await.unwrap();
        assert_eq!(stats.frames, 3);
        assert!(stats.elapsed >= Duration::from_millis(250), "{stats:?}");
        c.close().await.unwrap();
        let got = h.await.unwrap();
        let lines: Vec<&str> = got.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            lines,
            vec![
                "0.000000 1R11 100 80 00",
                "0.100000 1R11 100 80 01",
                "0.250000 1R11 100 80 02"
            ]
        );
        // Received no earlier than scheduled (relative to the first frame).
        let gap = got[2].0 - got[0].0;
        assert!(gap >= Duration::from_millis(240), "gap {gap:?}");
    }

    #[tokio::test]
    async fn speed_scales_the_schedule() {
        let (addr, h) = server().await;
        let mut c = SimulateClient::connect(&addr, Duration::from_secs(2))
            .await
            .unwrap();
        let t0 = std::time::Instant::now();
        c.play(sched(&[0, 400]), 4.0).await.unwrap();
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(95) && took < Duration::from_millis(390),
            "{took:?}"
        );
        c.close().await.unwrap();
        assert_eq!(h.await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn pause_resume_and_single_frames() {
        let (addr, h) = server().await;
        let mut c = SimulateClient::connect(&addr, Duration::from_secs(2))
            .await
            .unwrap();
        c.pause().await.unwrap();
        c.send_frame(&f(1, 0x344, &[1, 2])).await.unwrap();
        c.resume().await.unwrap();
        assert_eq!(c.frames_sent(), 1);
        c.close().await.unwrap();
        let got = h.await.unwrap();
        assert!(got[0].1.ends_with(" CDP"), "{got:?}");
        assert!(got[1].1.ends_with(" 2R11 344 01 02"), "{got:?}");
        assert!(got[2].1.ends_with(" CDR"), "{got:?}");
    }

    #[tokio::test]
    async fn unreachable_server_is_a_clear_error() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        let e = SimulateClient::connect(&addr, Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(matches!(e, SimulateError::Unreachable { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&addr) && msg.contains("can log start tcpserver simulate"),
            "{msg}"
        );
        let e = SimulateSink::connect(&addr, Duration::from_secs(2)).unwrap_err();
        assert!(matches!(e, SimulateError::Unreachable { .. }), "{e}");
    }

    #[tokio::test]
    async fn bad_addresses() {
        for a in ["nohost", ":3000", "127.0.0.1:0", "127.0.0.1:99999"] {
            let e = SimulateClient::connect(a, Duration::from_secs(1))
                .await
                .unwrap_err();
            assert!(matches!(e, SimulateError::Address { .. }), "{a}: {e}");
        }
    }

    #[tokio::test]
    async fn schedule_errors_stop_the_play() {
        let (addr, _h) = server().await;
        let mut c = SimulateClient::connect(&addr, Duration::from_secs(2))
            .await
            .unwrap();
        let mut s = sched(&[0]);
        s.push(Err("log line 7: bad".to_string()));
        let e = c.play(s, 1.0).await.unwrap_err();
        assert!(
            e.to_string().contains("after 1 frame(s): log line 7"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn server_going_away_is_a_write_error() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let h = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            drop(s);
        });
        let mut c = SimulateClient::connect(&addr, Duration::from_secs(2))
            .await
            .unwrap();
        h.await.unwrap();
        let mut err = None;
        for _ in 0..200 {
            if let Err(e) = c
                .send_frame(&f(0, 0x100, &[0x80, 1, 2, 3, 4, 5, 6, 7]))
                .await
            {
                err = Some(e);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let e = err.expect("writes to a closed peer must fail");
        assert!(matches!(e, SimulateError::Write { .. }), "{e}");
    }

    #[tokio::test]
    async fn replay_crate_drives_the_blocking_sink() {
        use ovms_replay::{Clock, Replay, ReplayOptions, VecSource};
        let (addr, h) = server().await;
        let sink = SimulateSink::connect(&addr, Duration::from_secs(2)).unwrap();
        let frames = vec![
            Frame::new(1_000_000_000, 0, 0x100, &[0x80, 57]),
            Frame::new(1_050_000_000, 1, 0x102, &[0x0e, 1]),
        ];
        let opts = ReplayOptions {
            clock: Clock::Wall { speed: 1.0 },
            ..ReplayOptions::default()
        };
        let stats = Replay::new(VecSource::new(frames), opts)
            .unwrap()
            .spawn(sink)
            .wait()
            .await
            .unwrap();
        assert_eq!(stats.frames_sent, 2);
        let got = h.await.unwrap();
        let lines: Vec<&str> = got.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            lines,
            vec!["0.000000 1R11 100 80 39", "0.050000 2R11 102 0e 01"]
        );
    }
}
