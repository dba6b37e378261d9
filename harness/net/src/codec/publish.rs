//! PUBLISH and the four packet-id acknowledgements (PUBACK, PUBREC, PUBREL, PUBCOMP; also UNSUBACK).

use super::wire::{put_bytes, put_properties, put_u16, Reader};
use super::{CodecError, PacketType, Version};

/// A decoded PUBLISH packet with the sender's exact flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// DUP flag.
    pub dup: bool,
    /// QoS (0..=2).
    pub qos: u8,
    /// RETAIN flag.
    pub retain: bool,
    /// Topic name.
    pub topic: String,
    /// Packet identifier (present iff QoS > 0).
    pub pkid: Option<u16>,
    /// MQTT 5 properties, raw.
    pub properties: Vec<u8>,
    /// Application payload.
    pub payload: Vec<u8>,
}

impl Publish {
    /// Parses a PUBLISH from its fixed-header flags and body.
    pub(crate) fn parse(flags: u8, body: &[u8], version: Version) -> Result<Self, CodecError> {
        let qos = (flags >> 1) & 0x03;
        if qos == 3 {
            return Err(CodecError::InvalidQos {
                packet: PacketType::Publish,
                qos,
            });
        }
        let dup = flags & 0x08 != 0;
        if dup && qos == 0 {
            return Err(CodecError::DupOnQos0);
        }
        let mut r = Reader::new(body, PacketType::Publish);
        let topic = r.string("topic name")?;
        if topic.contains(['+', '#']) || (topic.is_empty() && version != Version::V5) {
            return Err(CodecError::InvalidTopicName(topic));
        }
        let pkid = if qos > 0 { Some(r.packet_id()?) } else { None };
        let properties = if version == Version::V5 {
            r.properties()?
        } else {
            Vec::new()
        };
        let payload = r.rest().to_vec();
        Ok(Publish {
            dup,
            qos,
            retain: flags & 0x01 != 0,
            topic,
            pkid,
            properties,
            payload,
        })
    }

    /// The fixed-header flags nibble.
    pub(crate) fn flags(&self) -> u8 {
        ((self.dup as u8) << 3) | ((self.qos & 3) << 1) | self.retain as u8
    }

    /// Appends the PUBLISH body.
    pub(crate) fn encode_body(&self, version: Version, out: &mut Vec<u8>) {
        put_bytes(self.topic.as_bytes(), out);
        if let Some(id) = self.pkid {
            put_u16(id, out);
        }
        if version == Version::V5 {
            put_properties(&self.properties, out);
        }
        out.extend_from_slice(&self.payload);
    }
}

/// A packet-identifier acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Packet identifier.
    pub pkid: u16,
    /// MQTT 5 reason code, properties and (UNSUBACK) reason codes, raw; empty before MQTT 5.
    pub rest: Vec<u8>,
}

impl Ack {
    /// Parses an acknowledgement body.
    pub(crate) fn parse(
        packet: PacketType,
        body: &[u8],
        version: Version,
    ) -> Result<Self, CodecError> {
        let mut r = Reader::new(body, packet);
        let pkid = r.packet_id()?;
        let rest = if version == Version::V5 {
            r.rest().to_vec()
        } else {
            r.finish()?;
            Vec::new()
        };
        Ok(Ack { pkid, rest })
    }

    /// Appends the acknowledgement body.
    pub(crate) fn encode_body(&self, version: Version, out: &mut Vec<u8>) {
        put_u16(self.pkid, out);
        if version == Version::V5 {
            out.extend_from_slice(&self.rest);
        }
    }
}
