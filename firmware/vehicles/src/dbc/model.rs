//! The parsed DBC data model: messages, signals, value tables.

use super::error::Pos;

/// Bit numbering and byte order of a signal (`@1` = Intel, `@0` = Motorola).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// `@1`: little-endian; the start bit is the least significant bit.
    LittleEndian,
    /// `@0`: big-endian; the start bit is the most significant bit (DBC "sawtooth" numbering).
    BigEndian,
}

/// How the raw bits are interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// `+`
    Unsigned,
    /// `-` (two's complement)
    Signed,
    /// `SIG_VALTYPE_ … : 1` (32-bit IEEE float)
    Float32,
    /// `SIG_VALTYPE_ … : 2` (64-bit IEEE double)
    Float64,
}

/// The multiplexing role of a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mux {
    /// Always present.
    Plain,
    /// `M`: the multiplexer switch.
    Switch,
    /// `mN`: present only when the switch's raw value is N.
    Value(u64),
}

/// One signal (`SG_`).
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// Signal name.
    pub name: String,
    /// Start bit as written in the DBC.
    pub start: u32,
    /// Length in bits (1..=64).
    pub len: u32,
    /// Byte order.
    pub order: ByteOrder,
    /// Value type.
    pub value_type: ValueType,
    /// Multiplexing role.
    pub mux: Mux,
    /// Factor.
    pub scale: f64,
    /// Offset.
    pub offset: f64,
    /// Minimum (as written).
    pub min: f64,
    /// Maximum (as written).
    pub max: f64,
    /// Unit text.
    pub unit: String,
    /// Receiving nodes.
    pub receivers: Vec<String>,
    /// Value table (`VAL_`), kept for reference; decode output does not apply it.
    pub choices: Vec<(i64, String)>,
    /// Where the signal is defined.
    pub pos: Pos,
}

/// One message (`BO_`).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// CAN identifier without the extended flag.
    pub id: u32,
    /// 29-bit identifier (bit 31 set in the DBC id).
    pub extended: bool,
    /// Message name.
    pub name: String,
    /// Length in bytes.
    pub len: u32,
    /// Transmitting node.
    pub transmitter: String,
    /// Signals in file order.
    pub signals: Vec<Signal>,
    /// Where the message is defined.
    pub pos: Pos,
}

impl Message {
    /// The signal called `name`.
    pub fn signal(&self, name: &str) -> Option<&Signal> {
        self.signals.iter().find(|s| s.name == name)
    }

    /// Index of the signal called `name`.
    pub fn signal_index(&self, name: &str) -> Option<usize> {
        self.signals.iter().position(|s| s.name == name)
    }
}

/// Physical bit positions (byte·8 + bit, bit 0 = LSB of the byte) that a signal occupies.
pub fn occupied_bits(start: u32, len: u32, order: ByteOrder) -> Vec<u32> {
    let mut bits = Vec::with_capacity(len as usize);
    match order {
        ByteOrder::LittleEndian => bits.extend(start..start + len),
        ByteOrder::BigEndian => {
            let mut pos = start;
            for _ in 0..len {
                bits.push(pos);
                if pos.is_multiple_of(8) {
                    pos += 15;
                } else {
                    pos -= 1;
                }
            }
        }
    }
    bits
}
