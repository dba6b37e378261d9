//! One direction of one proxied connection: read bytes, cut them into packets with the codec,
//! record each packet, apply faults, forward the exact bytes.

use super::event::TapEventKind;
use super::fault::Verdict;
use super::shared::{Close, Inject, TapShared};
use super::Direction;
use crate::codec::{self, Packet, Publish, Version};
use bytes::BytesMut;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};

/// Why a pump stops.
enum Stop {
    /// Closed from outside (cut, malformed on the other side, shutdown).
    Closed(Close),
    /// Our side sent malformed bytes.
    Malformed,
    /// Reading or writing failed.
    Io(String),
}

pub(crate) struct Pump {
    pub shared: Arc<TapShared>,
    pub conn: u64,
    pub dir: Direction,
    pub reader: OwnedReadHalf,
    pub writer: OwnedWriteHalf,
    pub close: watch::Sender<Option<Close>>,
    pub inject: Option<mpsc::Receiver<Inject>>,
    pub version: Arc<Mutex<Option<Version>>>,
    /// Module → broker only: QoS 2 packet ids awaiting PUBREL.
    pub pending_qos2: Option<Arc<Mutex<HashSet<u16>>>>,
}

async fn next_inject(rx: &mut Option<mpsc::Receiver<Inject>>) -> Option<Inject> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Pump {
    fn version(&self) -> Version {
        self.version
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_default()
    }

    fn record(&self, kind: TapEventKind) {
        self.shared.record(self.conn, self.dir, kind);
    }

    /// Runs until the connection ends in this direction.
    pub(crate) async fn run(mut self) {
        let mut buf = BytesMut::with_capacity(8 * 1024);
        let mut close_rx = self.close.subscribe();
        let mut eof = false;
        let stop = loop {
            if let Err(stop) = self.process(&mut buf, &mut close_rx).await {
                break stop;
            }
            if eof {
                break self.at_eof(&buf, &mut close_rx).await;
            }
            tokio::select! {
                biased;
                _ = close_rx.changed() => {
                    let c = *close_rx.borrow();
                    if let Some(c) = c {
                        break Stop::Closed(c);
                    }
                }
                Some(req) = next_inject(&mut self.inject) => {
                    eof = self.drain(&mut buf);
                    if let Err(stop) = self.process(&mut buf, &mut close_rx).await {
                        let _ = req.done.send(Err("connection closed".into()));
                        break stop;
                    }
                    let r = self.inject_sentinel(&req.topic).await;
                    let _ = req.done.send(r);
                }
                r = self.reader.read_buf(&mut buf) => match r {
                    Ok(0) => eof = true,
                    Ok(_) => {}
                    Err(e) => break Stop::Io(format!("read: {e}")),
                },
            }
        };
        self.finish(stop).await;
    }

    /// Reads whatever the kernel already holds, without waiting. Returns true on EOF.
    fn drain(&mut self, buf: &mut BytesMut) -> bool {
        loop {
            buf.reserve(4096);
            match self.reader.try_read_buf(buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Handles every complete packet in `buf`.
    async fn process(
        &mut self,
        buf: &mut BytesMut,
        close_rx: &mut watch::Receiver<Option<Close>>,
    ) -> Result<(), Stop> {
        loop {
            let (packet, len) = match codec::decode(buf, self.version(), self.shared.max_packet) {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(()),
                Err(error) => {
                    self.record(TapEventKind::Malformed { error });
                    return Err(Stop::Malformed);
                }
            };
            let frame = buf.split_to(len);
            if let Packet::Connect(c) = &packet {
                *self.version.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.version);
            }
            if let Some(pending) = &self.pending_qos2 {
                let mut pending = pending.lock().unwrap_or_else(|p| p.into_inner());
                match &packet {
                    Packet::Publish(p) if p.qos == 2 => {
                        pending.extend(p.pkid);
                    }
                    Packet::PubRel(a) => {
                        pending.remove(&a.pkid);
                    }
                    _ => {}
                }
            }
            let faults = *self.shared.faults.borrow();
            if faults.half_open {
                self.record(TapEventKind::Packet {
                    packet,
                    forwarded: false,
                    injected: false,
                });
                continue;
            }
            let verdict = self.shared.hook_verdict(self.dir, &packet);
            let mut delay = faults.delay(self.dir);
            let mut out = frame.to_vec();
            match verdict {
                Verdict::Pass => self.record(TapEventKind::Packet {
                    packet,
                    forwarded: true,
                    injected: false,
                }),
                Verdict::Delay(d) => {
                    delay += d;
                    self.record(TapEventKind::Packet {
                        packet,
                        forwarded: true,
                        injected: false,
                    });
                }
                Verdict::Drop => {
                    self.record(TapEventKind::Packet {
                        packet,
                        forwarded: false,
                        injected: false,
                    });
                    continue;
                }
                Verdict::Replace(replacement) => {
                    self.record(TapEventKind::Packet {
                        packet,
                        forwarded: false,
                        injected: false,
                    });
                    out = replacement.encode(self.version());
                    self.record(TapEventKind::Packet {
                        packet: replacement,
                        forwarded: true,
                        injected: true,
                    });
                }
            }
            if !delay.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = close_rx.changed() => {
                        if let Some(c) = *close_rx.borrow() {
                            return Err(Stop::Closed(c));
                        }
                    }
                }
            }
            if let Err(e) = self.writer.write_all(&out).await {
                return Err(Stop::Io(format!("write: {e}")));
            }
        }
    }

    /// Writes a QoS 0 sentinel PUBLISH after everything forwarded so far.
    async fn inject_sentinel(&mut self, topic: &str) -> Result<(), String> {
        if self.shared.faults.borrow().half_open {
            return Err("the tap is half-open: nothing reaches the broker".into());
        }
        let Some(version) = *self.version.lock().unwrap_or_else(|p| p.into_inner()) else {
            return Err("the module has not sent CONNECT yet".into());
        };
        let packet = Packet::Publish(Publish {
            dup: false,
            qos: 0,
            retain: false,
            topic: topic.to_string(),
            pkid: None,
            properties: Vec::new(),
            payload: Vec::new(),
        });
        let bytes = packet.encode(version);
        self.writer
            .write_all(&bytes)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.record(TapEventKind::Packet {
            packet,
            forwarded: true,
            injected: true,
        });
        Ok(())
    }

    /// The reader hit EOF: hold the close back while half-open, then pass it on.
    async fn at_eof(&self, buf: &BytesMut, close_rx: &mut watch::Receiver<Option<Close>>) -> Stop {
        if !buf.is_empty() {
            return Stop::Io(format!(
                "eof inside a packet ({} bytes buffered)",
                buf.len()
            ));
        }
        let mut faults = self.shared.faults.subscribe();
        loop {
            if !faults.borrow_and_update().half_open {
                return Stop::Io("eof".into());
            }
            tokio::select! {
                r = faults.changed() => if r.is_err() { return Stop::Io("eof".into()) },
                _ = close_rx.changed() => {
                    if let Some(c) = *close_rx.borrow() {
                        return Stop::Closed(c);
                    }
                }
            }
        }
    }

    async fn finish(self, stop: Stop) {
        let reason = match &stop {
            Stop::Closed(Close::Cut) => "cut".to_string(),
            Stop::Closed(Close::Plain(why)) => why.to_string(),
            Stop::Malformed => "malformed".to_string(),
            Stop::Io(e) => e.clone(),
        };
        match stop {
            Stop::Closed(Close::Cut) => {
                // RST instead of FIN on both sockets this pump touches.
                set_zero_linger(self.reader.as_ref());
                set_zero_linger(self.writer.as_ref());
                self.writer.forget();
            }
            Stop::Malformed => {
                let _ = self.close.send(Some(Close::Plain("malformed")));
                shutdown(self.writer).await;
            }
            Stop::Io(_) | Stop::Closed(Close::Plain(_)) => shutdown(self.writer).await,
        }
        self.shared
            .record(self.conn, self.dir, TapEventKind::Closed { reason });
    }
}

async fn shutdown(mut w: OwnedWriteHalf) {
    let _ = tokio::time::timeout(Duration::from_secs(1), w.shutdown()).await;
}

fn set_zero_linger(s: &tokio::net::TcpStream) {
    // tokio marks set_linger deprecated because a non-zero linger blocks on close; zero does not.
    #[allow(deprecated)]
    if let Err(e) = s.set_linger(Some(Duration::ZERO)) {
        tracing::debug!("setting SO_LINGER 0: {e}");
    }
}
