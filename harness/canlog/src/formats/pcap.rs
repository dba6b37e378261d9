//! Classic pcap with link type 227 (LINKTYPE_CAN_SOCKETCAN), both byte orders, µs and ns
//! resolution. The file header is parsed with `pcap-file`; every packet is a SocketCAN frame:
//! a **big-endian** 32-bit `can_id` (EFF 0x80000000, RTR 0x40000000, ERR 0x20000000), a length
//! byte, a flags byte (0x04 = CAN FD), two reserved bytes, then the data. Packets longer than 16
//! bytes or with the FD flag are CAN FD. pcap has no interface number: every frame is bus 0.
//!
//! Locations: record 0 is the file header, packets count from 1; the column is the 1-based byte
//! offset within the record (header included).

use std::io::Read;

use pcap_file::pcap::PcapHeader;
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::formats::BinaryError;
use crate::frame::{Direction, Frame};
use crate::record::Record;
use crate::source::Source;
use crate::warnings::Warnings;

/// Largest packet accepted (a CAN FD SocketCAN frame is 72 bytes; this leaves room for CAN XL).
pub(crate) const MAX_PACKET: u32 = 64 * 1024;

/// Decoder state.
#[derive(Default)]
pub(crate) struct PcapDecoder {
    header: Option<PcapHeader>,
    record: u64,
}

pub(crate) fn parse_err(
    record: u64,
    column: u64,
    expected: impl Into<std::borrow::Cow<'static, str>>,
    found: String,
    fatal: bool,
) -> BinaryError {
    BinaryError::Parse {
        record,
        column,
        expected: expected.into(),
        found,
        fatal,
    }
}

impl PcapDecoder {
    pub(crate) fn record_no(&self) -> u64 {
        self.record
    }

    pub(crate) fn read_header<R: Read>(&mut self, src: &mut Source<R>) -> Result<(), BinaryError> {
        let io = |source| BinaryError::Io {
            record: 0,
            column: 1,
            source,
        };
        let complete = src.fill_to(24).map_err(io)?;
        let have = src.available();
        if !complete {
            return Err(parse_err(
                0,
                have.len() as u64 + 1,
                "a 24-byte pcap file header",
                format!("end of file after {} bytes", have.len()),
                true,
            ));
        }
        let (_, header) = PcapHeader::from_slice(&have[..24]).map_err(|_| {
            parse_err(
                0,
                1,
                "the pcap magic number a1b2c3d4 or a1b23c4d (either byte order)",
                format!("{:02x?}", &have[..4]),
                true,
            )
        })?;
        if header.datalink != DataLink::CAN_SOCKETCAN {
            return Err(parse_err(
                0,
                21,
                "link type 227 (LINKTYPE_CAN_SOCKETCAN)",
                format!("link type {}", u32::from(header.datalink)),
                true,
            ));
        }
        src.consume(24);
        self.header = Some(header);
        Ok(())
    }

    pub(crate) fn next<R: Read>(
        &mut self,
        src: &mut Source<R>,
        _w: &mut Warnings,
    ) -> Option<Result<Record, BinaryError>> {
        let header = self.header?;
        self.record += 1;
        let rec = self.record;
        let io = |source| BinaryError::Io {
            record: rec,
            column: 1,
            source,
        };
        match src.fill_to(16) {
            Err(e) => return Some(Err(io(e))),
            Ok(false) => {
                let n = src.available().len();
                if n == 0 {
                    return None;
                }
                return Some(Err(parse_err(
                    rec,
                    n as u64 + 1,
                    "a 16-byte packet header",
                    format!("end of file after {n} bytes"),
                    true,
                )));
            }
            Ok(true) => {}
        }
        let h = &src.available()[..16];
        let rd = |i: usize| {
            let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
            match header.endianness {
                Endianness::Big => u32::from_be_bytes(b),
                Endianness::Little => u32::from_le_bytes(b),
            }
        };
        let incl = rd(8);
        let (ts_sec, ts_frac) = (rd(0), rd(4));
        if incl > MAX_PACKET {
            return Some(Err(parse_err(
                rec,
                9,
                format!("a captured length of at most {MAX_PACKET}"),
                incl.to_string(),
                true,
            )));
        }
        match src.fill_to(16 + incl as usize) {
            Err(e) => return Some(Err(io(e))),
            Ok(false) => {
                let n = src.available().len();
                return Some(Err(parse_err(
                    rec,
                    n as u64 + 1,
                    format!("{} bytes of packet data", incl),
                    format!("end of file after {} bytes", n.saturating_sub(16)),
                    true,
                )));
            }
            Ok(true) => {}
        }
        let frac_ns: i64 = match header.ts_resolution {
            TsResolution::MicroSecond => i64::from(ts_frac) * 1_000,
            TsResolution::NanoSecond => i64::from(ts_frac),
        };
        let ts_ns = i64::from(ts_sec) * 1_000_000_000 + frac_ns;
        let result = socketcan_frame(&src.available()[16..16 + incl as usize], ts_ns, 0, rec, 17);
        src.consume(16 + incl as usize);
        Some(result.map(Record::Frame))
    }
}

/// Decode a LINKTYPE_CAN_SOCKETCAN packet. `col0` is the 1-based column of the packet's first
/// byte within its record.
pub(crate) fn socketcan_frame(
    d: &[u8],
    ts_ns: i64,
    bus: u8,
    rec: u64,
    col0: u64,
) -> Result<Frame, BinaryError> {
    if d.len() < 8 {
        return Err(parse_err(
            rec,
            col0,
            "a SocketCAN frame of at least 8 bytes",
            format!("{} bytes", d.len()),
            false,
        ));
    }
    let raw = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    let len = usize::from(d[4]);
    let flags = d[5];
    if flags & 0x80 != 0 {
        return Err(parse_err(
            rec,
            col0 + 5,
            "a CAN or CAN FD frame",
            "a CAN XL frame".to_string(),
            false,
        ));
    }
    let fd = flags & 0x04 != 0 || d.len() > 16 || len > 8;
    let max = if fd { 64 } else { 8 };
    if len > max || !crate::parse::fd_len_ok(len) {
        return Err(parse_err(
            rec,
            col0 + 4,
            format!("a data length of at most {max}"),
            len.to_string(),
            false,
        ));
    }
    let rtr = raw & 0x4000_0000 != 0;
    if !rtr && d.len() < 8 + len {
        return Err(parse_err(
            rec,
            col0 + 8,
            format!("{len} data bytes"),
            format!("{} bytes", d.len() - 8),
            false,
        ));
    }
    let extended = raw & 0x8000_0000 != 0;
    let error = raw & 0x2000_0000 != 0;
    let id = if extended || error {
        raw & 0x1FFF_FFFF
    } else {
        raw & 0x7FF
    };
    let data = if rtr {
        vec![0; len.min(8)]
    } else {
        d[8..8 + len].to_vec()
    };
    Ok(Frame {
        ts_ns,
        bus,
        id,
        extended: extended && !error,
        rtr,
        error,
        fd: fd && !rtr,
        dir: Direction::Rx,
        data,
    })
}
