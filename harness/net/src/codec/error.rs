//! Typed codec errors: every error names the packet and the field that was wrong.

use super::header::PacketType;

/// Why a byte sequence is not a valid MQTT packet.
///
/// `Incomplete` is *not* an error: [`super::check`] and [`super::decode`] return `Ok(None)` for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The remaining-length varint runs past four bytes.
    #[error("malformed remaining length: more than 4 length bytes")]
    MalformedRemainingLength,
    /// A variable byte integer inside a packet runs past four bytes.
    #[error("{packet}: malformed variable byte integer in {field}")]
    MalformedVarint {
        /// Packet being parsed.
        packet: PacketType,
        /// Field holding the integer.
        field: &'static str,
    },
    /// The packet is larger than the configured maximum.
    #[error("packet of {size} bytes exceeds the maximum of {max} bytes")]
    PacketTooLarge {
        /// Total size announced by the fixed header.
        size: usize,
        /// Configured maximum.
        max: usize,
    },
    /// Packet type 0 (or 15 before MQTT 5) is reserved.
    #[error("reserved packet type {0}")]
    ReservedPacketType(u8),
    /// The low nibble of the first byte is not what the packet type requires.
    #[error("{packet}: invalid fixed header flags {flags:#06b}")]
    InvalidFlags {
        /// Packet type.
        packet: PacketType,
        /// The flags found.
        flags: u8,
    },
    /// The body ended while a field was still expected.
    #[error("{packet}: body ends before {field}")]
    Truncated {
        /// Packet being parsed.
        packet: PacketType,
        /// The field that was expected.
        field: &'static str,
    },
    /// Bytes are left over after the last field.
    #[error("{packet}: {extra} unexpected trailing byte(s)")]
    TrailingBytes {
        /// Packet being parsed.
        packet: PacketType,
        /// Number of extra bytes.
        extra: usize,
    },
    /// A string field is not valid MQTT UTF-8 (invalid UTF-8 or contains U+0000).
    #[error("{packet}: {field} is not a valid MQTT UTF-8 string")]
    InvalidString {
        /// Packet being parsed.
        packet: PacketType,
        /// Field name.
        field: &'static str,
    },
    /// CONNECT names an unknown protocol or level.
    #[error("CONNECT: unsupported protocol {name:?} level {level}")]
    UnsupportedProtocol {
        /// Protocol name found.
        name: String,
        /// Protocol level found.
        level: u8,
    },
    /// CONNECT flags violate the specification.
    #[error("CONNECT: invalid connect flags {0:#010b}")]
    InvalidConnectFlags(u8),
    /// A QoS field holds 3.
    #[error("{packet}: invalid QoS {qos}")]
    InvalidQos {
        /// Packet being parsed.
        packet: PacketType,
        /// The value found.
        qos: u8,
    },
    /// A packet identifier that must be non-zero is zero.
    #[error("{packet}: packet identifier is 0")]
    ZeroPacketId {
        /// Packet being parsed.
        packet: PacketType,
    },
    /// PUBLISH QoS 0 with DUP set (MQTT-3.3.1-2).
    #[error("PUBLISH: DUP flag set on a QoS 0 message")]
    DupOnQos0,
    /// A PUBLISH topic name contains a wildcard or is empty.
    #[error("PUBLISH: invalid topic name {0:?}")]
    InvalidTopicName(String),
    /// SUBSCRIBE or UNSUBSCRIBE carries no topic filter.
    #[error("{packet}: no topic filter")]
    NoTopicFilter {
        /// Packet being parsed.
        packet: PacketType,
    },
    /// A subscription options byte has reserved bits set or an invalid value.
    #[error("SUBSCRIBE: invalid subscription options {0:#010b}")]
    InvalidSubscriptionOptions(u8),
    /// The packet type does not exist in the negotiated protocol version.
    #[error("{packet} is not valid in {version}")]
    NotInVersion {
        /// Packet type.
        packet: PacketType,
        /// Protocol version in use.
        version: super::Version,
    },
}
