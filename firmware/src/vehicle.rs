//! The interface between the module and a vehicle decoder (frames → metrics).
//!
//! Decoders live in the `ovms-vehicles` crate (DBC-driven and hand-written); the module only sees
//! this trait.

use crate::metrics::MetricValue;
use crate::time::Instant;

/// One CAN frame as a decoder sees it. `data` holds the recorded bytes (may be shorter than 8;
/// the firmware reads missing bytes as zero).
#[derive(Clone, Copy, Debug)]
pub struct CanFrame<'a> {
    /// Bus, 0-based (the firmware's CAN1 is 0).
    pub bus: u8,
    /// 11- or 29-bit identifier.
    pub id: u32,
    /// 29-bit identifier.
    pub extended: bool,
    /// Data bytes.
    pub data: &'a [u8],
}

/// What a decoder asks of the module.
#[derive(Clone, Debug, PartialEq)]
pub enum VehicleOutput {
    /// Store a metric value (native unit already applied).
    Metric {
        /// Metric name.
        name: String,
        /// Value in the native unit.
        value: MetricValue,
    },
    /// Raise a notification (`kind` = info, error, alert or data).
    Notify {
        /// `info`, `error`, `alert` or `data`.
        kind: String,
        /// Subtype, e.g. `charge.started`.
        subtype: String,
        /// Notification text (may be multi-line).
        text: String,
    },
    /// Raise a system event.
    Event(String),
    /// Transmit a frame on a bus (bus 0-based).
    Transmit {
        /// Bus, 0-based.
        bus: u8,
        /// 11- or 29-bit identifier.
        id: u32,
        /// 29-bit identifier.
        extended: bool,
        /// Data bytes (0..=8).
        data: Vec<u8>,
    },
}

/// A vehicle decoder: turns frames into metric updates, as a vehicle module of the firmware does.
pub trait Vehicle: Send {
    /// The vehicle type code published as `v.type` when the vehicle is selected (e.g. `TR`).
    fn type_code(&self) -> &str;

    /// Metrics the vehicle defines when it is loaded (pushed into `out`).
    fn init(&mut self, _now: Instant, _out: &mut Vec<VehicleOutput>) {}

    /// Decode one frame.
    fn handle_frame(&mut self, now: Instant, frame: CanFrame<'_>, out: &mut Vec<VehicleOutput>);

    /// Called once per second of module time (per-second derived metrics).
    fn tick(&mut self, _now: Instant, _out: &mut Vec<VehicleOutput>) {}

    /// Whether [`Vehicle::tick`] does anything. While it returns `true` (the default) the module
    /// wakes every second; a decoder without per-second work returns `false` so virtual time can
    /// jump from event to event.
    fn needs_tick(&self) -> bool {
        true
    }
}
