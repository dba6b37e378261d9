//! Fast signal extraction: each signal is compiled once into a shift/mask over the frame's first
//! eight bytes read as one little- or big-endian `u64` (a per-bit walk only for signals beyond
//! byte 8), and messages are indexed by identifier in a hash map.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::model::{occupied_bits, ByteOrder, Message, Mux, Signal, ValueType};

/// A multiply-shift hasher for CAN identifiers (the std SipHash is needlessly slow for `u32` keys).
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Map keyed by `id | extended << 31`.
pub type IdMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

/// Lookup key of a frame or message.
#[inline]
pub fn id_key(id: u32, extended: bool) -> u32 {
    (id & 0x1FFF_FFFF) | ((extended as u32) << 31)
}

#[derive(Clone, Debug)]
enum Extract {
    /// `(le_u64(data[0..8]) >> shift) & mask`
    Le { shift: u32 },
    /// `(be_u64(data[0..8]) >> shift) & mask`
    Be { shift: u32 },
    /// Bit positions from most to least significant (signals beyond the first 8 bytes).
    Walk(Vec<u32>),
}

/// One signal compiled for extraction.
#[derive(Clone, Debug)]
pub struct CompiledSignal {
    extract: Extract,
    mask: u64,
    len: u32,
    value_type: ValueType,
    scale: f64,
    offset: f64,
    /// Bytes the frame must have for this signal to be decoded (truncated frames skip the rest).
    min_bytes: usize,
}

impl CompiledSignal {
    /// Compiles `s`.
    pub fn new(s: &Signal) -> Self {
        let mask = if s.len >= 64 {
            u64::MAX
        } else {
            (1u64 << s.len) - 1
        };
        let bits = occupied_bits(s.start, s.len, s.order);
        let min_bytes = bits.iter().map(|b| (b / 8) as usize + 1).max().unwrap_or(0);
        let extract = match s.order {
            ByteOrder::LittleEndian if s.start + s.len <= 64 => Extract::Le { shift: s.start },
            ByteOrder::BigEndian => {
                let msb_be = (s.start / 8) * 8 + 7 - s.start % 8;
                let lsb_be = msb_be + s.len - 1;
                if lsb_be < 64 {
                    Extract::Be { shift: 63 - lsb_be }
                } else {
                    Extract::Walk(bits)
                }
            }
            ByteOrder::LittleEndian => Extract::Walk(bits.into_iter().rev().collect()),
        };
        CompiledSignal {
            extract,
            mask,
            len: s.len,
            value_type: s.value_type,
            scale: s.scale,
            offset: s.offset,
            min_bytes,
        }
    }

    /// The raw bits of the signal (unsigned, right-aligned).
    #[inline]
    pub fn raw(&self, le: u64, be: u64, data: &[u8]) -> u64 {
        match &self.extract {
            Extract::Le { shift } => (le >> shift) & self.mask,
            Extract::Be { shift } => (be >> shift) & self.mask,
            Extract::Walk(bits) => {
                let mut v = 0u64;
                for &b in bits {
                    let byte = data.get((b / 8) as usize).copied().unwrap_or(0);
                    v = (v << 1) | ((byte >> (b % 8)) & 1) as u64;
                }
                v
            }
        }
    }

    /// The physical value of raw bits: sign or float interpretation, then `raw·scale + offset`.
    #[inline]
    pub fn physical(&self, raw: u64) -> f64 {
        let v = match self.value_type {
            ValueType::Unsigned => raw as f64,
            ValueType::Signed => {
                let sh = 64 - self.len;
                (((raw << sh) as i64) >> sh) as f64
            }
            ValueType::Float32 => f32::from_bits(raw as u32) as f64,
            ValueType::Float64 => f64::from_bits(raw),
        };
        v * self.scale + self.offset
    }

    /// Whether a frame of `n` bytes holds the whole signal.
    #[inline]
    pub fn fits(&self, n: usize) -> bool {
        n >= self.min_bytes
    }
}

/// A message compiled for decoding.
#[derive(Clone, Debug)]
pub struct CompiledMessage {
    /// Signals in file order.
    pub signals: Vec<CompiledSignal>,
    /// Indices of signals always present (plain and the switch).
    plain: Vec<u16>,
    /// Index of the multiplexer switch.
    switch: Option<u16>,
    /// Multiplexed signal indices by switch value, sorted by value.
    muxed: Vec<(u64, Vec<u16>)>,
}

impl CompiledMessage {
    /// Compiles `m`.
    pub fn new(m: &Message) -> Self {
        let mut plain = Vec::new();
        let mut switch = None;
        let mut muxed: Vec<(u64, Vec<u16>)> = Vec::new();
        for (k, s) in m.signals.iter().enumerate() {
            let k = k as u16;
            match s.mux {
                Mux::Plain => plain.push(k),
                Mux::Switch => {
                    plain.push(k);
                    switch = Some(k);
                }
                Mux::Value(v) => match muxed.iter_mut().find(|(x, _)| *x == v) {
                    Some((_, list)) => list.push(k),
                    None => muxed.push((v, vec![k])),
                },
            }
        }
        muxed.sort_by_key(|(v, _)| *v);
        CompiledMessage {
            signals: m.signals.iter().map(CompiledSignal::new).collect(),
            plain,
            switch,
            muxed,
        }
    }

    /// Whether the message has a multiplexer switch.
    pub fn is_multiplexed(&self) -> bool {
        self.switch.is_some()
    }

    /// Whether `value` is a switch value some signal is defined for.
    pub fn knows_mux_value(&self, value: u64) -> bool {
        self.muxed.iter().any(|(v, _)| *v == value)
    }

    /// Decodes `data` into `out` as `(signal index, physical value)` pairs, in file order of the
    /// plain signals followed by the active multiplexed ones. Signals that do not fit in a short
    /// frame are skipped (as cantools' `allow_truncated`). Returns the raw multiplexer value if any.
    #[inline]
    pub fn decode_into(&self, data: &[u8], out: &mut Vec<(u16, f64)>) -> Option<u64> {
        let mut b = [0u8; 8];
        let n = data.len().min(8);
        b[..n].copy_from_slice(&data[..n]);
        let le = u64::from_le_bytes(b);
        let be = u64::from_be_bytes(b);
        let len = data.len();
        let mut mux = None;
        for &k in &self.plain {
            let s = &self.signals[k as usize];
            if !s.fits(len) {
                continue;
            }
            let raw = s.raw(le, be, data);
            if Some(k) == self.switch {
                mux = Some(raw);
            }
            out.push((k, s.physical(raw)));
        }
        if let Some(m) = mux {
            if let Ok(pos) = self.muxed.binary_search_by_key(&m, |(v, _)| *v) {
                for &k in &self.muxed[pos].1 {
                    let s = &self.signals[k as usize];
                    if s.fits(len) {
                        out.push((k, s.physical(s.raw(le, be, data))));
                    }
                }
            }
        }
        mux
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::error::Pos;

    fn sig(
        start: u32,
        len: u32,
        order: ByteOrder,
        vt: ValueType,
        scale: f64,
        offset: f64,
    ) -> Signal {
        Signal {
            name: "s".into(),
            start,
            len,
            order,
            value_type: vt,
            mux: Mux::Plain,
            scale,
            offset,
            min: 0.0,
            max: 0.0,
            unit: String::new(),
            receivers: vec![],
            choices: vec![],
            pos: Pos::default(),
        }
    }

    fn decode(s: &Signal, data: &[u8]) -> f64 {
        let c = CompiledSignal::new(s);
        let mut b = [0u8; 8];
        let n = data.len().min(8);
        b[..n].copy_from_slice(&data[..n]);
        c.physical(c.raw(u64::from_le_bytes(b), u64::from_be_bytes(b), data))
    }

    #[test]
    fn intel_unsigned_and_signed() {
        let d = [0x34, 0x12, 0xFF, 0, 0, 0, 0, 0];
        assert_eq!(
            decode(
                &sig(
                    0,
                    16,
                    ByteOrder::LittleEndian,
                    ValueType::Unsigned,
                    1.0,
                    0.0
                ),
                &d
            ),
            0x1234 as f64
        );
        assert_eq!(
            decode(
                &sig(16, 8, ByteOrder::LittleEndian, ValueType::Signed, 1.0, 0.0),
                &d
            ),
            -1.0
        );
        assert_eq!(
            decode(
                &sig(
                    4,
                    8,
                    ByteOrder::LittleEndian,
                    ValueType::Unsigned,
                    0.5,
                    -1.0
                ),
                &d
            ),
            0x23 as f64 * 0.5 - 1.0
        );
    }

    #[test]
    fn motorola_start_bit_is_msb_sawtooth() {
        // 16-bit big-endian value 0x1234 in bytes 0..2: DBC start bit = 7 (MSB of byte 0).
        let d = [0x12, 0x34, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            decode(
                &sig(7, 16, ByteOrder::BigEndian, ValueType::Unsigned, 1.0, 0.0),
                &d
            ),
            0x1234 as f64
        );
        // 4 bits starting at bit 3 of byte 1 (start 11): byte1 = 0x34 → bits 3..0 = 0x4.
        assert_eq!(
            decode(
                &sig(11, 4, ByteOrder::BigEndian, ValueType::Unsigned, 1.0, 0.0),
                &d
            ),
            4.0
        );
        // 12 bits from bit 3 of byte 0 across into byte 1: 0x2 (low nibble of 0x12) then 0x34 → 0x234.
        assert_eq!(
            decode(
                &sig(3, 12, ByteOrder::BigEndian, ValueType::Unsigned, 1.0, 0.0),
                &d
            ),
            0x234 as f64
        );
        // Signed 8 bits in the last byte.
        let d2 = [0, 0, 0, 0, 0, 0, 0, 0x80];
        assert_eq!(
            decode(
                &sig(63, 8, ByteOrder::BigEndian, ValueType::Signed, 1.0, 0.0),
                &d2
            ),
            -128.0
        );
    }

    #[test]
    fn floats_and_64_bit() {
        let f = 3.5f32.to_le_bytes();
        let d = [f[0], f[1], f[2], f[3], 0, 0, 0, 0];
        assert_eq!(
            decode(
                &sig(0, 32, ByteOrder::LittleEndian, ValueType::Float32, 1.0, 0.0),
                &d
            ),
            3.5
        );
        let g = (-2.25f64).to_be_bytes();
        assert_eq!(
            decode(
                &sig(7, 64, ByteOrder::BigEndian, ValueType::Float64, 2.0, 0.0),
                &g
            ),
            -4.5
        );
        let all = [0xFF; 8];
        assert_eq!(
            decode(
                &sig(
                    0,
                    64,
                    ByteOrder::LittleEndian,
                    ValueType::Unsigned,
                    1.0,
                    0.0
                ),
                &all
            ),
            u64::MAX as f64
        );
        assert_eq!(
            decode(
                &sig(0, 64, ByteOrder::LittleEndian, ValueType::Signed, 1.0, 0.0),
                &all
            ),
            -1.0
        );
    }

    #[test]
    fn walk_path_matches_beyond_eight_bytes() {
        let mut d = [0u8; 12];
        d[9] = 0xAB;
        d[8] = 0xCD;
        assert_eq!(
            decode(
                &sig(
                    64,
                    16,
                    ByteOrder::LittleEndian,
                    ValueType::Unsigned,
                    1.0,
                    0.0
                ),
                &d
            ),
            0xABCD as f64
        );
        // Big-endian 16 bits at bytes 8..10: start bit = 8*8+7 = 71.
        assert_eq!(
            decode(
                &sig(71, 16, ByteOrder::BigEndian, ValueType::Unsigned, 1.0, 0.0),
                &d
            ),
            0xCDAB as f64
        );
        // The walk agrees with the fast path for a signal inside the first 8 bytes.
        let s = sig(5, 11, ByteOrder::BigEndian, ValueType::Unsigned, 1.0, 0.0);
        let c = CompiledSignal::new(&s);
        let walk = Extract::Walk(occupied_bits(5, 11, ByteOrder::BigEndian));
        let cw = CompiledSignal {
            extract: walk,
            ..c.clone()
        };
        let data = [0xA5, 0x5A, 0x3C, 0, 0, 0, 0, 0];
        let (le, be) = (u64::from_le_bytes(data), u64::from_be_bytes(data));
        assert_eq!(c.raw(le, be, &data), cw.raw(le, be, &data));
    }
}
