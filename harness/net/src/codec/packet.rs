//! The `Packet` enum: dispatches parsing by packet type and encodes any packet back to bytes.

use super::connect::{ConnAck, Connect};
use super::header::{write_varint, FixedHeader, PacketType};
use super::publish::{Ack, Publish};
use super::subscribe::{SubAck, Subscribe, Unsubscribe};
use super::wire::Reader;
use super::{CodecError, Version};

/// Any MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT.
    Connect(Connect),
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    PubAck(Ack),
    /// PUBREC.
    PubRec(Ack),
    /// PUBREL.
    PubRel(Ack),
    /// PUBCOMP.
    PubComp(Ack),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    SubAck(SubAck),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    UnsubAck(Ack),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT; MQTT 5 reason code and properties kept raw.
    Disconnect(Vec<u8>),
    /// AUTH (MQTT 5 only), body kept raw.
    Auth(Vec<u8>),
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    /// Parses one complete packet: `frame` must hold at least `header.frame_len()` bytes
    /// (as guaranteed by [`super::check`]). `version` selects MQTT 5 property parsing; CONNECT
    /// carries its own version.
    pub fn parse(
        header: &FixedHeader,
        frame: &[u8],
        version: Version,
    ) -> Result<Packet, CodecError> {
        let body = &frame[header.header_len..header.frame_len()];
        let v = version;
        Ok(match header.packet {
            PacketType::Connect => Packet::Connect(Connect::parse(body)?),
            PacketType::ConnAck => Packet::ConnAck(ConnAck::parse(body, v)?),
            PacketType::Publish => Packet::Publish(Publish::parse(header.flags, body, v)?),
            PacketType::PubAck => Packet::PubAck(Ack::parse(PacketType::PubAck, body, v)?),
            PacketType::PubRec => Packet::PubRec(Ack::parse(PacketType::PubRec, body, v)?),
            PacketType::PubRel => Packet::PubRel(Ack::parse(PacketType::PubRel, body, v)?),
            PacketType::PubComp => Packet::PubComp(Ack::parse(PacketType::PubComp, body, v)?),
            PacketType::Subscribe => Packet::Subscribe(Subscribe::parse(body, v)?),
            PacketType::SubAck => Packet::SubAck(SubAck::parse(body, v)?),
            PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe::parse(body, v)?),
            PacketType::UnsubAck => Packet::UnsubAck(Ack::parse(PacketType::UnsubAck, body, v)?),
            PacketType::PingReq | PacketType::PingResp => {
                Reader::new(body, header.packet).finish()?;
                if header.packet == PacketType::PingReq {
                    Packet::PingReq
                } else {
                    Packet::PingResp
                }
            }
            PacketType::Disconnect => {
                if v != Version::V5 {
                    Reader::new(body, PacketType::Disconnect).finish()?;
                }
                Packet::Disconnect(body.to_vec())
            }
            PacketType::Auth => {
                if v != Version::V5 {
                    return Err(CodecError::NotInVersion {
                        packet: PacketType::Auth,
                        version: v,
                    });
                }
                Packet::Auth(body.to_vec())
            }
        })
    }

    /// Encodes the packet for `version` (CONNECT uses its own version).
    pub fn encode(&self, version: Version) -> Vec<u8> {
        let mut body = Vec::new();
        let v = version;
        let mut flags = 0u8;
        match self {
            Packet::Connect(c) => c.encode_body(&mut body),
            Packet::ConnAck(c) => c.encode_body(v, &mut body),
            Packet::Publish(p) => {
                flags = p.flags();
                p.encode_body(v, &mut body)
            }
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubComp(a) | Packet::UnsubAck(a) => {
                a.encode_body(v, &mut body)
            }
            Packet::PubRel(a) => {
                flags = 0b0010;
                a.encode_body(v, &mut body)
            }
            Packet::Subscribe(s) => {
                flags = 0b0010;
                s.encode_body(v, &mut body)
            }
            Packet::SubAck(s) => s.encode_body(v, &mut body),
            Packet::Unsubscribe(u) => {
                flags = 0b0010;
                u.encode_body(v, &mut body)
            }
            Packet::PingReq | Packet::PingResp => {}
            Packet::Disconnect(rest) | Packet::Auth(rest) => {
                if v == Version::V5 {
                    body.extend_from_slice(rest)
                }
            }
        }
        let mut out = Vec::with_capacity(body.len() + 5);
        out.push((self.packet_type().nibble() << 4) | flags);
        write_varint(body.len(), &mut out);
        out.extend_from_slice(&body);
        out
    }
}
