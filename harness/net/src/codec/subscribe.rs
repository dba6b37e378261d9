//! SUBSCRIBE, SUBACK and UNSUBSCRIBE.

use super::wire::{put_bytes, put_properties, put_u16, Reader};
use super::{CodecError, PacketType, Version};

/// One topic filter of a SUBSCRIBE with its options byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeFilter {
    /// Topic filter.
    pub filter: String,
    /// Options byte: bits 0-1 QoS; MQTT 5 adds no-local, retain-as-published, retain handling.
    pub options: u8,
}

impl SubscribeFilter {
    /// Requested maximum QoS.
    pub fn qos(&self) -> u8 {
        self.options & 0x03
    }
}

/// A decoded SUBSCRIBE packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet identifier.
    pub pkid: u16,
    /// MQTT 5 properties, raw.
    pub properties: Vec<u8>,
    /// Filters, at least one.
    pub filters: Vec<SubscribeFilter>,
}

impl Subscribe {
    /// Parses a SUBSCRIBE body.
    pub(crate) fn parse(body: &[u8], version: Version) -> Result<Self, CodecError> {
        let mut r = Reader::new(body, PacketType::Subscribe);
        let pkid = r.packet_id()?;
        let properties = if version == Version::V5 {
            r.properties()?
        } else {
            Vec::new()
        };
        let mut filters = Vec::new();
        while !r.is_empty() {
            let filter = r.string("topic filter")?;
            let options = r.u8("subscription options")?;
            let invalid = if version == Version::V5 {
                options & 0xc0 != 0 || options & 3 == 3 || (options >> 4) & 3 == 3
            } else {
                options > 2
            };
            if invalid {
                return Err(CodecError::InvalidSubscriptionOptions(options));
            }
            filters.push(SubscribeFilter { filter, options });
        }
        if filters.is_empty() {
            return Err(CodecError::NoTopicFilter {
                packet: PacketType::Subscribe,
            });
        }
        Ok(Subscribe {
            pkid,
            properties,
            filters,
        })
    }

    /// Appends the SUBSCRIBE body.
    pub(crate) fn encode_body(&self, version: Version, out: &mut Vec<u8>) {
        put_u16(self.pkid, out);
        if version == Version::V5 {
            put_properties(&self.properties, out);
        }
        for f in &self.filters {
            put_bytes(f.filter.as_bytes(), out);
            out.push(f.options);
        }
    }
}

/// A decoded SUBACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Packet identifier.
    pub pkid: u16,
    /// MQTT 5 properties, raw.
    pub properties: Vec<u8>,
    /// Granted QoS or failure codes, one per filter.
    pub codes: Vec<u8>,
}

impl SubAck {
    /// Parses a SUBACK body.
    pub(crate) fn parse(body: &[u8], version: Version) -> Result<Self, CodecError> {
        let mut r = Reader::new(body, PacketType::SubAck);
        let pkid = r.packet_id()?;
        let properties = if version == Version::V5 {
            r.properties()?
        } else {
            Vec::new()
        };
        Ok(SubAck {
            pkid,
            properties,
            codes: r.rest().to_vec(),
        })
    }

    /// Appends the SUBACK body.
    pub(crate) fn encode_body(&self, version: Version, out: &mut Vec<u8>) {
        put_u16(self.pkid, out);
        if version == Version::V5 {
            put_properties(&self.properties, out);
        }
        out.extend_from_slice(&self.codes);
    }
}

/// A decoded UNSUBSCRIBE packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet identifier.
    pub pkid: u16,
    /// MQTT 5 properties, raw.
    pub properties: Vec<u8>,
    /// Filters, at least one.
    pub filters: Vec<String>,
}

impl Unsubscribe {
    /// Parses an UNSUBSCRIBE body.
    pub(crate) fn parse(body: &[u8], version: Version) -> Result<Self, CodecError> {
        let mut r = Reader::new(body, PacketType::Unsubscribe);
        let pkid = r.packet_id()?;
        let properties = if version == Version::V5 {
            r.properties()?
        } else {
            Vec::new()
        };
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(r.string("topic filter")?);
        }
        if filters.is_empty() {
            return Err(CodecError::NoTopicFilter {
                packet: PacketType::Unsubscribe,
            });
        }
        Ok(Unsubscribe {
            pkid,
            properties,
            filters,
        })
    }

    /// Appends the UNSUBSCRIBE body.
    pub(crate) fn encode_body(&self, version: Version, out: &mut Vec<u8>) {
        put_u16(self.pkid, out);
        if version == Version::V5 {
            put_properties(&self.properties, out);
        }
        for f in &self.filters {
            put_bytes(f.as_bytes(), out);
        }
    }
}
