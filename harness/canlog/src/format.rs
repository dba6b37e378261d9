//! The log formats this crate knows, with their command-line names.

use std::fmt;
use std::str::FromStr;

/// A CAN log format. `Display`/`FromStr` use the kebab-case names listed on each variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `crtd`: CRTD text, OVMS flavour (`1R11 …`) and GVRET/SavvyCAN flavour (`R11 0000021A …`).
    Crtd,
    /// `candump`: can-utils `candump -l` log lines `(ts) iface ID#DATA`.
    Candump,
    /// `candump-screen`: can-utils `candump` default screen output `  can0  123   [8]  11 22 …`.
    CandumpScreen,
    /// `gvret-csv`: SavvyCAN/GVRET CSV (`Time Stamp,ID,Extended,[Dir,]Bus,LEN,D1,…`).
    GvretCsv,
    /// `peak-trc`: PEAK PCAN-View trace, `;$FILEVERSION=` 1.0 … 2.1.
    PeakTrc,
    /// `carbus-trc`: CARBUS Analyzer / CAN-Hacker text trace (`@ TEXT @` header, CR records).
    CarbusTrc,
    /// `vector-asc`: Vector ASCII log (`date …`, `base hex timestamps absolute`).
    VectorAsc,
    /// `tattler-csv`: OVMS v2 Roadster "tattler" / Netronics CANdo CSV (`TYPE,TIME,ID,D1,…`).
    TattlerCsv,
    /// `pcap`: classic pcap with link type 227 (LINKTYPE_CAN_SOCKETCAN).
    Pcap,
    /// `pcapng`: pcapng with interfaces of link type 227.
    Pcapng,
}

impl Format {
    /// Every format, in a stable order (used for help texts and tests).
    pub const ALL: [Format; 10] = [
        Format::Crtd,
        Format::Candump,
        Format::CandumpScreen,
        Format::GvretCsv,
        Format::PeakTrc,
        Format::CarbusTrc,
        Format::VectorAsc,
        Format::TattlerCsv,
        Format::Pcap,
        Format::Pcapng,
    ];

    /// The command-line name (`crtd`, `candump`, `gvret-csv`, …).
    pub fn name(self) -> &'static str {
        match self {
            Format::Crtd => "crtd",
            Format::Candump => "candump",
            Format::CandumpScreen => "candump-screen",
            Format::GvretCsv => "gvret-csv",
            Format::PeakTrc => "peak-trc",
            Format::CarbusTrc => "carbus-trc",
            Format::VectorAsc => "vector-asc",
            Format::TattlerCsv => "tattler-csv",
            Format::Pcap => "pcap",
            Format::Pcapng => "pcapng",
        }
    }

    /// True for the binary container formats (pcap, pcapng).
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Pcap | Format::Pcapng)
    }

    /// True when this crate can write the format (see [`crate::write`]).
    pub fn is_writable(self) -> bool {
        matches!(self, Format::Crtd | Format::Candump | Format::GvretCsv)
    }

    /// The format a file name extension conventionally means (`log` → candump, `crtd` → CRTD,
    /// `csv` → GVRET CSV, `asc`, `trc` → PEAK, `pcap`, `pcapng`). Used only for choosing an
    /// *output* format; input formats are always detected from content.
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "log" | "candump" => Some(Format::Candump),
            "crtd" => Some(Format::Crtd),
            "csv" => Some(Format::GvretCsv),
            "asc" => Some(Format::VectorAsc),
            "trc" => Some(Format::PeakTrc),
            "pcap" => Some(Format::Pcap),
            "pcapng" => Some(Format::Pcapng),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`]'s names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown CAN log format {0:?} (known: crtd, candump, candump-screen, gvret-csv, peak-trc, carbus-trc, vector-asc, tattler-csv, pcap, pcapng)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let found = Format::ALL.into_iter().find(|f| f.name() == lower);
        if let Some(f) = found {
            return Ok(f);
        }
        // A few spellings people use for the same thing.
        match lower.as_str() {
            "candump-log" | "canutils" => Ok(Format::Candump),
            "gvret" | "savvycan" | "savvycan-csv" | "csv" => Ok(Format::GvretCsv),
            "trc" | "peak" => Ok(Format::PeakTrc),
            "carbus" | "can-hacker" => Ok(Format::CarbusTrc),
            "asc" | "vector" => Ok(Format::VectorAsc),
            "tattler" | "cando" => Ok(Format::TattlerCsv),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}
