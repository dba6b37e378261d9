//! pcapng with SocketCAN interfaces (link type 227). Blocks are framed here (the block length is
//! checked against the buffer before anything is parsed) and decoded with `pcap-file`'s
//! `PcapNgParser`, which tracks sections and interfaces. Enhanced Packet Blocks on a link-type-227
//! interface become frames (bus = interface index, timestamp scaled by the interface's
//! `if_tsresol`, default µs); packets on other interfaces and Simple/obsolete Packet Blocks are
//! counted as [`WarningKind::UnsupportedRecord`]; other blocks are skipped.
//!
//! Locations: the record is the 1-based block number (the first Section Header Block is 1); the
//! column is the 1-based byte offset within the block.

use std::io::Read;

use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::DataLink;

use crate::formats::pcap::{parse_err, socketcan_frame};
use crate::formats::BinaryError;
use crate::record::Record;
use crate::source::{Source, BUF_CAP};
use crate::warnings::{WarningKind, Warnings};

const SHB: u32 = 0x0A0D_0D0A;

/// Decoder state.
#[derive(Default)]
pub(crate) struct PcapngDecoder {
    parser: Option<PcapNgParser>,
    little: bool,
    record: u64,
}

impl PcapngDecoder {
    pub(crate) fn record_no(&self) -> u64 {
        self.record
    }

    /// Frame the next block: `Ok(None)` at a clean end of file, else the block length.
    fn frame<R: Read>(&mut self, src: &mut Source<R>) -> Result<Option<usize>, BinaryError> {
        let rec = self.record;
        let io = |source| BinaryError::Io {
            record: rec,
            column: 1,
            source,
        };
        let complete = src.fill_to(12).map_err(io)?;
        let head = src.available();
        if !complete {
            if head.is_empty() && rec > 1 {
                return Ok(None);
            }
            return Err(parse_err(
                rec,
                head.len() as u64 + 1,
                "a 12-byte block header",
                format!("end of file after {} bytes", head.len()),
                true,
            ));
        }
        let word = |i: usize, little: bool| {
            let b = [head[i], head[i + 1], head[i + 2], head[i + 3]];
            if little {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        };
        if word(0, false) == SHB {
            self.little = match word(8, false) {
                0x1A2B_3C4D => false,
                0x4D3C_2B1A => true,
                _ => {
                    return Err(parse_err(
                        rec,
                        9,
                        "the byte-order magic 1a2b3c4d",
                        format!("{:02x?}", &head[8..12]),
                        true,
                    ));
                }
            };
        } else if self.parser.is_none() {
            return Err(parse_err(
                rec,
                1,
                "a Section Header Block (0a0d0d0a)",
                format!("{:02x?}", &head[..4]),
                true,
            ));
        }
        let len = word(4, self.little);
        if len < 12 || len % 4 != 0 {
            return Err(parse_err(
                rec,
                5,
                "a block length that is a multiple of 4 and at least 12",
                len.to_string(),
                true,
            ));
        }
        let len = len as usize;
        if len > BUF_CAP {
            // Far larger than any CAN packet: skip it and say so.
            let ok = src.skip(len as u64).map_err(io)?;
            return Err(parse_err(
                rec,
                5,
                format!("a block of at most {BUF_CAP} bytes"),
                format!("{len} bytes"),
                !ok,
            ));
        }
        if !src.fill_to(len).map_err(io)? {
            let n = src.available().len();
            return Err(parse_err(
                rec,
                n as u64 + 1,
                format!("a block of {len} bytes"),
                format!("end of file after {n} bytes"),
                true,
            ));
        }
        Ok(Some(len))
    }

    pub(crate) fn read_header<R: Read>(&mut self, src: &mut Source<R>) -> Result<(), BinaryError> {
        self.record = 1;
        let Some(len) = self.frame(src)? else {
            return Err(parse_err(
                1,
                1,
                "a Section Header Block",
                "end of file".to_string(),
                true,
            ));
        };
        let (_, parser) = PcapNgParser::new(&src.available()[..len])
            .map_err(|e| parse_err(1, 1, "a valid Section Header Block", e.to_string(), true))?;
        src.consume(len);
        self.parser = Some(parser);
        Ok(())
    }

    pub(crate) fn next<R: Read>(
        &mut self,
        src: &mut Source<R>,
        w: &mut Warnings,
    ) -> Option<Result<Record, BinaryError>> {
        loop {
            self.record += 1;
            let rec = self.record;
            let len = match self.frame(src) {
                Ok(None) => return None,
                Ok(Some(len)) => len,
                Err(e) => return Some(Err(e)),
            };
            let parser = self.parser.as_mut()?;
            let block = parser.next_block(&src.available()[..len]);
            let out = match block {
                Err(e) => Some(Err(parse_err(
                    rec,
                    1,
                    "a valid pcapng block",
                    e.to_string(),
                    false,
                ))),
                Ok((_, Block::EnhancedPacket(epb))) => {
                    match parser.interfaces().get(epb.interface_id as usize) {
                        None => Some(Err(parse_err(
                            rec,
                            9,
                            "the index of a described interface",
                            epb.interface_id.to_string(),
                            false,
                        ))),
                        Some(idb) if idb.linktype != DataLink::CAN_SOCKETCAN => {
                            w.add(WarningKind::UnsupportedRecord, rec, 1, || {
                                format!(
                                    "packet on interface {} of link type {} skipped",
                                    epb.interface_id,
                                    u32::from(idb.linktype)
                                )
                            });
                            None
                        }
                        Some(idb) => {
                            let resol = idb
                                .options
                                .iter()
                                .find_map(|o| match o {
                                    InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
                                    _ => None,
                                })
                                .unwrap_or(6);
                            let ticks = epb.timestamp.as_nanos();
                            let ns = ticks_to_ns(ticks, resol);
                            let bus = u8::try_from(epb.interface_id).unwrap_or(u8::MAX);
                            Some(socketcan_frame(&epb.data, ns, bus, rec, 29).map(Record::Frame))
                        }
                    }
                }
                Ok((_, Block::SimplePacket(_) | Block::Packet(_))) => {
                    w.add(WarningKind::UnsupportedRecord, rec, 1, || {
                        "simple/obsolete packet block skipped".to_string()
                    });
                    None
                }
                Ok(_) => None,
            };
            src.consume(len);
            if out.is_some() {
                return out;
            }
        }
    }
}

/// Timestamp ticks → nanoseconds for an `if_tsresol` value (high bit: power of two).
fn ticks_to_ns(ticks: u128, resol: u8) -> i64 {
    let ns: u128 = if resol & 0x80 != 0 {
        let p = u32::from(resol & 0x7F);
        if p >= 127 {
            0
        } else {
            ticks.saturating_mul(1_000_000_000) >> p
        }
    } else {
        let p = u32::from(resol);
        if p <= 9 {
            ticks.saturating_mul(10u128.pow(9 - p))
        } else if p < 38 {
            ticks / 10u128.pow(p - 9)
        } else {
            0
        }
    };
    i64::try_from(ns).unwrap_or(i64::MAX)
}
