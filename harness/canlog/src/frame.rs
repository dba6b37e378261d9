//! The one CAN frame type of ovms-hil.

/// Which way a frame went, seen from the recording device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the bus.
    #[default]
    Rx,
    /// Transmitted by the recording device (e.g. the OVMS module itself).
    Tx,
}

/// One CAN (or CAN FD) frame as recorded.
///
/// Short frames stay short: `data` holds exactly the bytes that were recorded (DLC bytes); padding
/// to 8 is the consumer's choice (the OVMS firmware reads missing bytes as zero).
///
/// `Frame::default()` is an empty received classic frame (time 0, bus 0, ID 0), e.g. the slot
/// for [`crate::LogReader::read_frame`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Timestamp in nanoseconds, as the log states it (relative or epoch; may be negative in real logs).
    pub ts_ns: i64,
    /// Bus number, 0-based (CRTD's 1-based bus digit `1` becomes 0).
    pub bus: u8,
    /// Identifier: 11-bit when `extended` is false, 29-bit when true.
    pub id: u32,
    /// 29-bit identifier.
    pub extended: bool,
    /// Remote transmission request.
    pub rtr: bool,
    /// Error frame.
    pub error: bool,
    /// CAN FD frame (data up to 64 bytes).
    pub fd: bool,
    /// Received or transmitted.
    pub dir: Direction,
    /// The recorded data bytes (0..=64).
    pub data: Vec<u8>,
}

impl Frame {
    /// A received classic data frame on `bus` with `id` (extended when `id > 0x7FF`).
    pub fn new(ts_ns: i64, bus: u8, id: u32, data: &[u8]) -> Self {
        Frame {
            ts_ns,
            bus,
            id,
            extended: id > 0x7FF,
            rtr: false,
            error: false,
            fd: false,
            dir: Direction::Rx,
            data: data.to_vec(),
        }
    }

    /// The data zero-padded to 8 bytes (what the OVMS firmware decoders see for a classic frame).
    pub fn padded8(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        let n = self.data.len().min(8);
        out[..n].copy_from_slice(&self.data[..n]);
        out
    }

    /// Timestamp in seconds (for reports and JSON).
    pub fn ts_secs(&self) -> f64 {
        self.ts_ns as f64 / 1e9
    }
}
