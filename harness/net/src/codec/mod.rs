//! Sans-IO MQTT 3.1/3.1.1/5 codec used by the wire tap.
//!
//! Layout: [`header`] holds the fixed header and the cheap completeness [`check`]; `wire` reads
//! and writes fields; [`connect`], [`publish`] and [`subscribe`] each own the parse and encode of
//! their packets; [`packet`] dispatches by type. The split follows mini-redis: `check` decides
//! whether a whole packet is buffered (incomplete is `Ok(None)`, never an error), then
//! [`Packet::parse`] builds it. MQTT 5 properties are kept as raw bytes so a packet re-encodes
//! byte for byte. Nothing here does I/O or panics on input.

pub mod connect;
mod error;
pub mod header;
pub mod packet;
pub mod publish;
pub mod subscribe;
mod wire;

pub use connect::{ConnAck, Connect, Will};
pub use error::CodecError;
pub use header::{check, FixedHeader, PacketType, MAX_REMAINING_LEN};
pub use packet::Packet;
pub use publish::{Ack, Publish};
pub use subscribe::{SubAck, Subscribe, SubscribeFilter, Unsubscribe};

use std::fmt;

/// MQTT protocol version of a connection (decides whether bodies carry MQTT 5 properties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// MQTT 3.1 (`MQIsdp`, level 3).
    V3_1,
    /// MQTT 3.1.1 (level 4).
    #[default]
    V3_1_1,
    /// MQTT 5 (level 5).
    V5,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V3_1 => "MQTT 3.1",
            Version::V3_1_1 => "MQTT 3.1.1",
            Version::V5 => "MQTT 5",
        })
    }
}

/// Default largest packet the tap accepts (the protocol maximum).
pub const DEFAULT_MAX_PACKET: usize = MAX_REMAINING_LEN + 5;

/// Checks and parses the first packet in `buf`.
///
/// Returns `Ok(None)` if `buf` does not yet hold a whole packet, `Ok(Some((packet, len)))` with the
/// number of bytes the packet occupies, or the first protocol violation found.
pub fn decode(
    buf: &[u8],
    version: Version,
    max_size: usize,
) -> Result<Option<(Packet, usize)>, CodecError> {
    match check(buf, max_size)? {
        None => Ok(None),
        Some(h) => Ok(Some((Packet::parse(&h, buf, version)?, h.frame_len()))),
    }
}
