//! Field-level reading and writing (u8, u16, strings, binary data, properties) for packet bodies.

use super::header::{read_varint, write_varint, PacketType};
use super::CodecError;

/// A cursor over one packet body; every read names the field it expects so errors are precise.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    packet: PacketType,
}

impl<'a> Reader<'a> {
    /// Starts reading the body of `packet`.
    pub(crate) fn new(buf: &'a [u8], packet: PacketType) -> Self {
        Reader {
            buf,
            pos: 0,
            packet,
        }
    }

    fn truncated(&self, field: &'static str) -> CodecError {
        CodecError::Truncated {
            packet: self.packet,
            field,
        }
    }

    /// Reads `n` raw bytes.
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.truncated(field))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.truncated(field))?;
        self.pos = end;
        Ok(s)
    }

    /// Reads one byte.
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, CodecError> {
        Ok(self.take(1, field)?[0])
    }

    /// Reads a big-endian u16.
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, CodecError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a non-zero packet identifier.
    pub(crate) fn packet_id(&mut self) -> Result<u16, CodecError> {
        let id = self.u16("packet identifier")?;
        if id == 0 {
            return Err(CodecError::ZeroPacketId {
                packet: self.packet,
            });
        }
        Ok(id)
    }

    /// Reads length-prefixed binary data.
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<Vec<u8>, CodecError> {
        let len = self.u16(field)? as usize;
        Ok(self.take(len, field)?.to_vec())
    }

    /// Reads a length-prefixed MQTT UTF-8 string (no U+0000).
    pub(crate) fn string(&mut self, field: &'static str) -> Result<String, CodecError> {
        let len = self.u16(field)? as usize;
        let raw = self.take(len, field)?;
        let s = std::str::from_utf8(raw).map_err(|_| CodecError::InvalidString {
            packet: self.packet,
            field,
        })?;
        if s.contains('\0') {
            return Err(CodecError::InvalidString {
                packet: self.packet,
                field,
            });
        }
        Ok(s.to_owned())
    }

    /// Reads an MQTT 5 property block (length varint + raw bytes); the bytes are kept verbatim.
    pub(crate) fn properties(&mut self) -> Result<Vec<u8>, CodecError> {
        let rest = &self.buf[self.pos..];
        let (len, used) = match read_varint(rest) {
            Ok(Some(v)) => v,
            Ok(None) => return Err(self.truncated("properties length")),
            Err(_) => {
                return Err(CodecError::MalformedVarint {
                    packet: self.packet,
                    field: "properties length",
                })
            }
        };
        self.pos += used;
        Ok(self.take(len, "properties")?.to_vec())
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// True when every byte was consumed.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Fails with `TrailingBytes` if anything is left.
    pub(crate) fn finish(&self) -> Result<(), CodecError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(CodecError::TrailingBytes {
                packet: self.packet,
                extra: self.buf.len() - self.pos,
            })
        }
    }
}

/// Appends a big-endian u16.
pub(crate) fn put_u16(v: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends length-prefixed bytes (string or binary data). Longer inputs are truncated to 65535.
pub(crate) fn put_bytes(b: &[u8], out: &mut Vec<u8>) {
    let b = &b[..b.len().min(u16::MAX as usize)];
    put_u16(b.len() as u16, out);
    out.extend_from_slice(b);
}

/// Appends an MQTT 5 property block.
pub(crate) fn put_properties(p: &[u8], out: &mut Vec<u8>) {
    write_varint(p.len(), out);
    out.extend_from_slice(p);
}
