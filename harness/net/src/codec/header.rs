//! The fixed header and the cheap completeness check (`check`), shared by every packet type.

use super::CodecError;
use std::fmt;

/// MQTT control packet types (the high nibble of the first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PacketType {
    /// 1: client asks to connect.
    Connect,
    /// 2: server answers CONNECT.
    ConnAck,
    /// 3: application message.
    Publish,
    /// 4: QoS 1 acknowledgement.
    PubAck,
    /// 5: QoS 2 step 1.
    PubRec,
    /// 6: QoS 2 step 2.
    PubRel,
    /// 7: QoS 2 step 3.
    PubComp,
    /// 8: client subscribes.
    Subscribe,
    /// 9: server answers SUBSCRIBE.
    SubAck,
    /// 10: client unsubscribes.
    Unsubscribe,
    /// 11: server answers UNSUBSCRIBE.
    UnsubAck,
    /// 12: keepalive ping.
    PingReq,
    /// 13: keepalive answer.
    PingResp,
    /// 14: graceful disconnect.
    Disconnect,
    /// 15: MQTT 5 enhanced authentication.
    Auth,
}

impl PacketType {
    /// Maps the type nibble to a packet type (`None` for 0).
    pub fn from_nibble(n: u8) -> Option<Self> {
        use PacketType::*;
        Some(match n {
            1 => Connect,
            2 => ConnAck,
            3 => Publish,
            4 => PubAck,
            5 => PubRec,
            6 => PubRel,
            7 => PubComp,
            8 => Subscribe,
            9 => SubAck,
            10 => Unsubscribe,
            11 => UnsubAck,
            12 => PingReq,
            13 => PingResp,
            14 => Disconnect,
            15 => Auth,
            _ => return None,
        })
    }

    /// The type nibble (1..=15).
    pub fn nibble(self) -> u8 {
        use PacketType::*;
        match self {
            Connect => 1,
            ConnAck => 2,
            Publish => 3,
            PubAck => 4,
            PubRec => 5,
            PubRel => 6,
            PubComp => 7,
            Subscribe => 8,
            SubAck => 9,
            Unsubscribe => 10,
            UnsubAck => 11,
            PingReq => 12,
            PingResp => 13,
            Disconnect => 14,
            Auth => 15,
        }
    }

    /// Lower-case name used in capture files (`"connect"`, `"publish"`, ...).
    pub fn name(self) -> &'static str {
        use PacketType::*;
        match self {
            Connect => "connect",
            ConnAck => "connack",
            Publish => "publish",
            PubAck => "puback",
            PubRec => "pubrec",
            PubRel => "pubrel",
            PubComp => "pubcomp",
            Subscribe => "subscribe",
            SubAck => "suback",
            Unsubscribe => "unsubscribe",
            UnsubAck => "unsuback",
            PingReq => "pingreq",
            PingResp => "pingresp",
            Disconnect => "disconnect",
            Auth => "auth",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name().to_ascii_uppercase())
    }
}

/// A decoded fixed header: what [`check`] learns without parsing the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    /// Packet type.
    pub packet: PacketType,
    /// Low nibble of the first byte (PUBLISH: DUP, QoS, RETAIN).
    pub flags: u8,
    /// Length of the variable header plus payload.
    pub remaining_len: usize,
    /// Length of the fixed header itself (2..=5 bytes).
    pub header_len: usize,
}

impl FixedHeader {
    /// Total size of the packet in bytes.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.remaining_len
    }
}

/// Largest value a 4-byte variable byte integer can carry.
pub const MAX_REMAINING_LEN: usize = 268_435_455;

/// Cheaply checks whether `buf` starts with a complete packet.
///
/// Returns `Ok(None)` when more bytes are needed, `Ok(Some(header))` when `buf` holds at least
/// `header.frame_len()` bytes, and an error when the fixed header itself is invalid or the packet
/// is larger than `max_size`. The body is not inspected.
pub fn check(buf: &[u8], max_size: usize) -> Result<Option<FixedHeader>, CodecError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let nibble = first >> 4;
    let packet = PacketType::from_nibble(nibble).ok_or(CodecError::ReservedPacketType(nibble))?;
    let flags = first & 0x0f;
    let expected = match packet {
        PacketType::Publish => None,
        PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
        _ => Some(0),
    };
    if let Some(want) = expected {
        if flags != want {
            return Err(CodecError::InvalidFlags { packet, flags });
        }
    }
    let Some((remaining_len, used)) = read_varint(&buf[1..])? else {
        return Ok(None);
    };
    let header = FixedHeader {
        packet,
        flags,
        remaining_len,
        header_len: 1 + used,
    };
    if header.frame_len() > max_size {
        return Err(CodecError::PacketTooLarge {
            size: header.frame_len(),
            max: max_size,
        });
    }
    if buf.len() < header.frame_len() {
        return Ok(None);
    }
    Ok(Some(header))
}

/// Reads a variable byte integer: `Ok(None)` if `buf` ends inside it, else `(value, bytes used)`.
pub(crate) fn read_varint(buf: &[u8]) -> Result<Option<(usize, usize)>, CodecError> {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        value |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    Err(CodecError::MalformedRemainingLength)
}

/// Appends `value` as a variable byte integer (minimal encoding).
///
/// Values above [`MAX_REMAINING_LEN`] cannot be represented; callers never build such packets.
pub(crate) fn write_varint(mut value: usize, out: &mut Vec<u8>) {
    debug_assert!(value <= MAX_REMAINING_LEN);
    loop {
        let mut b = (value % 128) as u8;
        value /= 128;
        if value > 0 {
            b |= 0x80;
        }
        out.push(b);
        if value == 0 {
            break;
        }
    }
}
