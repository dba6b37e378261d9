//! What the tap records: one event per packet, fault effect or connection change, and its
//! capture-file form.

use crate::capture::{encode_payload, CaptureRecord, Source};
use crate::codec::{CodecError, Packet};
use serde_json::{json, Value};
use std::net::SocketAddr;

/// Which way a packet travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Module (client) → broker: what the module sent.
    ToBroker,
    /// Broker → module: what the broker sent back.
    ToClient,
}

impl Direction {
    /// `"to_broker"` / `"to_client"`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::ToBroker => "to_broker",
            Direction::ToClient => "to_client",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum TapEventKind {
    /// A client connected to the tap (direction is `ToBroker`).
    Accepted {
        /// Client address.
        peer: SocketAddr,
    },
    /// The upstream broker could not be reached; the client was closed.
    UpstreamFailed {
        /// Cause.
        error: String,
    },
    /// A complete packet.
    Packet {
        /// The decoded packet.
        packet: Packet,
        /// False when a half-open fault swallowed it.
        forwarded: bool,
        /// True for barrier sentinels the tap injected itself.
        injected: bool,
    },
    /// Bytes that are not valid MQTT; the connection was closed.
    Malformed {
        /// The codec's verdict.
        error: CodecError,
    },
    /// One direction of the connection ended.
    Closed {
        /// Why (`eof`, `cut`, `malformed`, `shutdown`, an I/O error).
        reason: String,
    },
}

/// One tap event.
#[derive(Debug, Clone, PartialEq)]
pub struct TapEvent {
    /// Connection number (1, 2, ... in accept order).
    pub conn: u64,
    /// Direction.
    pub dir: Direction,
    /// Virtual time, when set.
    pub t: Option<f64>,
    /// Wall-clock Unix seconds.
    pub wall: f64,
    /// What happened.
    pub kind: TapEventKind,
}

impl TapEvent {
    /// The capture-file record (passwords are never written, only their presence).
    pub fn to_record(&self) -> CaptureRecord {
        let mut r = CaptureRecord::new(Source::Tap, self.t, self.wall);
        r.dir = Some(self.dir.name().into());
        r.conn = Some(self.conn.to_string());
        let extra = &mut r.extra;
        match &self.kind {
            TapEventKind::Accepted { peer } => {
                r.kind = Some("accepted".into());
                extra.insert("peer".into(), json!(peer.to_string()));
            }
            TapEventKind::UpstreamFailed { error } => {
                r.kind = Some("upstream_failed".into());
                extra.insert("error".into(), json!(error));
            }
            TapEventKind::Malformed { error } => {
                r.kind = Some("error".into());
                extra.insert("error".into(), json!(error.to_string()));
            }
            TapEventKind::Closed { reason } => {
                r.kind = Some("closed".into());
                extra.insert("reason".into(), json!(reason));
            }
            TapEventKind::Packet {
                packet,
                forwarded,
                injected,
            } => {
                r.kind = Some(packet.packet_type().name().into());
                if !forwarded {
                    extra.insert("dropped".into(), json!(true));
                }
                if *injected {
                    extra.insert("injected".into(), json!(true));
                }
                packet_fields(packet, &mut r);
            }
        }
        r
    }
}

fn payload_value(bytes: &[u8]) -> Value {
    let (text, enc) = encode_payload(bytes);
    match enc {
        Some(e) => json!({ "payload": text, "payload_encoding": e }),
        None => json!({ "payload": text }),
    }
}

fn packet_fields(packet: &Packet, r: &mut CaptureRecord) {
    match packet {
        Packet::Connect(c) => {
            r.extra.insert("client_id".into(), json!(c.client_id));
            r.extra
                .insert("protocol".into(), json!(c.version.to_string()));
            r.extra
                .insert("clean_session".into(), json!(c.clean_session));
            r.extra.insert("keep_alive".into(), json!(c.keep_alive));
            r.extra
                .insert("username_present".into(), json!(c.username.is_some()));
            r.extra
                .insert("password_present".into(), json!(c.password.is_some()));
            if let Some(u) = &c.username {
                r.extra.insert("username".into(), json!(u));
            }
            if let Some(w) = &c.will {
                let mut will = payload_value(&w.payload);
                will["topic"] = json!(w.topic);
                will["qos"] = json!(w.qos);
                will["retain"] = json!(w.retain);
                r.extra.insert("will".into(), will);
            }
        }
        Packet::ConnAck(c) => {
            r.extra.insert("code".into(), json!(c.code));
            r.extra
                .insert("session_present".into(), json!(c.session_present));
        }
        Packet::Publish(p) => {
            let (text, enc) = encode_payload(&p.payload);
            r.payload = Some(text);
            r.payload_encoding = enc.map(str::to_owned);
            r.topic = Some(p.topic.clone());
            r.qos = Some(p.qos);
            r.retain = Some(p.retain);
            r.dup = Some(p.dup);
            if let Some(id) = p.pkid {
                r.extra.insert("pkid".into(), json!(id));
            }
        }
        Packet::PubAck(a)
        | Packet::PubRec(a)
        | Packet::PubRel(a)
        | Packet::PubComp(a)
        | Packet::UnsubAck(a) => {
            r.extra.insert("pkid".into(), json!(a.pkid));
        }
        Packet::Subscribe(s) => {
            r.extra.insert("pkid".into(), json!(s.pkid));
            let filters: Vec<Value> = s
                .filters
                .iter()
                .map(|f| json!({ "filter": f.filter, "qos": f.qos(), "options": f.options }))
                .collect();
            r.extra.insert("filters".into(), json!(filters));
        }
        Packet::SubAck(s) => {
            r.extra.insert("pkid".into(), json!(s.pkid));
            r.extra.insert("codes".into(), json!(s.codes));
        }
        Packet::Unsubscribe(u) => {
            r.extra.insert("pkid".into(), json!(u.pkid));
            r.extra.insert("filters".into(), json!(u.filters));
        }
        Packet::PingReq | Packet::PingResp | Packet::Disconnect(_) | Packet::Auth(_) => {}
    }
}
