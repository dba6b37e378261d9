//! CONNECT and CONNACK: the session start, including the will and the credential flags.

use super::wire::{put_bytes, put_properties, put_u16, Reader};
use super::{CodecError, PacketType, Version};

/// The will message carried in CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// Will topic.
    pub topic: String,
    /// Will payload (binary).
    pub payload: Vec<u8>,
    /// Will QoS (0..=2).
    pub qos: u8,
    /// Will retain flag.
    pub retain: bool,
    /// MQTT 5 will properties, raw (empty before MQTT 5).
    pub properties: Vec<u8>,
}

/// A decoded CONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Protocol version announced by the client.
    pub version: Version,
    /// Client identifier.
    pub client_id: String,
    /// Clean session (MQTT 5: clean start).
    pub clean_session: bool,
    /// Keepalive in seconds.
    pub keep_alive: u16,
    /// MQTT 5 connect properties, raw (empty before MQTT 5).
    pub properties: Vec<u8>,
    /// The will, when the will flag is set.
    pub will: Option<Will>,
    /// User name, when present.
    pub username: Option<String>,
    /// Password, when present (never written to capture files).
    pub password: Option<Vec<u8>>,
}

impl Connect {
    /// Parses a CONNECT body; the version comes from the packet itself.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(body, PacketType::Connect);
        let name = r.string("protocol name")?;
        let level = r.u8("protocol level")?;
        let version = match (name.as_str(), level) {
            ("MQIsdp", 3) => Version::V3_1,
            ("MQTT", 4) => Version::V3_1_1,
            ("MQTT", 5) => Version::V5,
            _ => return Err(CodecError::UnsupportedProtocol { name, level }),
        };
        let flags = r.u8("connect flags")?;
        let will_flag = flags & 0x04 != 0;
        let will_qos = (flags >> 3) & 0x03;
        let will_retain = flags & 0x20 != 0;
        let has_password = flags & 0x40 != 0;
        let has_username = flags & 0x80 != 0;
        let bad = flags & 0x01 != 0
            || will_qos == 3
            || (!will_flag && (will_qos != 0 || will_retain))
            || (version != Version::V5 && has_password && !has_username);
        if bad {
            return Err(CodecError::InvalidConnectFlags(flags));
        }
        let keep_alive = r.u16("keepalive")?;
        let properties = if version == Version::V5 {
            r.properties()?
        } else {
            Vec::new()
        };
        let client_id = r.string("client identifier")?;
        let will = if will_flag {
            let properties = if version == Version::V5 {
                r.properties()?
            } else {
                Vec::new()
            };
            let topic = r.string("will topic")?;
            let payload = r.binary("will payload")?;
            Some(Will {
                topic,
                payload,
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };
        let username = if has_username {
            Some(r.string("user name")?)
        } else {
            None
        };
        let password = if has_password {
            Some(r.binary("password")?)
        } else {
            None
        };
        r.finish()?;
        Ok(Connect {
            version,
            client_id,
            clean_session: flags & 0x02 != 0,
            keep_alive,
            properties,
            will,
            username,
            password,
        })
    }

    /// Appends the CONNECT body.
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        let (name, level): (&[u8], u8) = match self.version {
            Version::V3_1 => (b"MQIsdp", 3),
            Version::V3_1_1 => (b"MQTT", 4),
            Version::V5 => (b"MQTT", 5),
        };
        put_bytes(name, out);
        out.push(level);
        let mut flags = 0u8;
        if self.clean_session {
            flags |= 0x02;
        }
        if let Some(w) = &self.will {
            flags |= 0x04 | ((w.qos & 3) << 3);
            if w.retain {
                flags |= 0x20;
            }
        }
        if self.password.is_some() {
            flags |= 0x40;
        }
        if self.username.is_some() {
            flags |= 0x80;
        }
        out.push(flags);
        put_u16(self.keep_alive, out);
        let v5 = self.version == Version::V5;
        if v5 {
            put_properties(&self.properties, out);
        }
        put_bytes(self.client_id.as_bytes(), out);
        if let Some(w) = &self.will {
            if v5 {
                put_properties(&w.properties, out);
            }
            put_bytes(w.topic.as_bytes(), out);
            put_bytes(&w.payload, out);
        }
        if let Some(u) = &self.username {
            put_bytes(u.as_bytes(), out);
        }
        if let Some(p) = &self.password {
            put_bytes(p, out);
        }
    }
}

/// A decoded CONNACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    /// Session present flag.
    pub session_present: bool,
    /// Return code (3.1.1) or reason code (5); 0 = accepted.
    pub code: u8,
    /// MQTT 5 properties, raw.
    pub properties: Vec<u8>,
}

impl ConnAck {
    /// Parses a CONNACK body.
    pub(crate) fn parse(body: &[u8], version: Version) -> Result<Self, CodecError> {
        let mut r = Reader::new(body, PacketType::ConnAck);
        let flags = r.u8("acknowledge flags")?;
        if flags & 0xfe != 0 {
            return Err(CodecError::InvalidFlags {
                packet: PacketType::ConnAck,
                flags,
            });
        }
        let code = r.u8("return code")?;
        let properties = if version == Version::V5 {
            r.properties()?
        } else {
            Vec::new()
        };
        r.finish()?;
        Ok(ConnAck {
            session_present: flags & 1 != 0,
            code,
            properties,
        })
    }

    /// Appends the CONNACK body.
    pub(crate) fn encode_body(&self, version: Version, out: &mut Vec<u8>) {
        out.push(self.session_present as u8);
        out.push(self.code);
        if version == Version::V5 {
            put_properties(&self.properties, out);
        }
    }
}
