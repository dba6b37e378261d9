//! The hand-written Tesla Roadster decoder (OVMS vehicle type `TR`), following
//! `shared/spec/roadster-decoder.md` (firmware 3.3.003 … HEAD).
//!
//! It decodes CAN1 (bus 0) IDs 0x100 (multiplexed by d0), 0x102, 0x344, 0x400 and 0x402; frames
//! shorter than 8 bytes are zero-padded and no DLC or sanity check is made, like the firmware.
//!
//! Implemented besides the frame decodes:
//! - the VIN-derived generation (`TR1N`, `TR2S`, ...) gating the charge mode (0x95), gear from
//!   0x87 (gen 2) and gear from 0x400/01 (gen 1); the `m_aux12v` gate of 0x82 and 0xA3;
//! - the 0x93 error notification `TR,<code>,<data>` with its 120-s suppression;
//! - the CAC stream request (0x102 `06 D0 07 00 00 00 00 40`) when `v.c.charging` turns yes, 3 s
//!   after `v.e.on` changes (on the per-second tick), and its cancellation after a 0x9E frame;
//! - the base-class reactions the spec's expected values need: `v.c.duration.full/.range/.soc`
//!   reset to 0 when `v.c.state` becomes `done`, and the charge-time predictor's error path
//!   (`v.c.duration.full` = −355 while charging with no known mode), on a 60-s tick.
//!
//! Not implemented (documented gaps): the charge-time model for a known mode (standard/range/
//! performance tapers of `vehicle_teslaroadster_ctp.cpp`) — while the mode is known nothing is
//! written to `v.c.duration.*` on charge start; the clock provider of 0x81 and `v.p.gpstime`
//! (the module clock belongs to the module, not the decoder); the cooldown bookkeeping of 0x8F;
//! the digital speedo and app commands (the starting-charge tracker therefore stays INACTIVE, as
//! in any passive replay); charge-state notifications and the per-second `v.e.parktime`,
//! `v.e.drivetime`, `v.c.time`, `v.b.consumption` (base-class work of the module).

mod charge;
mod frames;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use ovms_firmware::metrics::MetricValue;
use ovms_firmware::time::{Duration, Instant};
use ovms_firmware::vehicle::{CanFrame, Vehicle, VehicleOutput};

pub use charge::StartingCharge;

/// Vehicle name used by [`crate::load_vehicle`].
pub const NAME: &str = "tesla-roadster";
/// Vehicle type code published as `v.type` before a VIN is seen.
pub const TYPE_CODE: &str = "TR";

/// CAC stream request sent on 0x102.
pub const CAC_REQUEST: [u8; 8] = [0x06, 0xD0, 0x07, 0x00, 0x00, 0x00, 0x00, 0x40];
/// CAC stream cancel sent on 0x102.
pub const CAC_CANCEL: [u8; 8] = [0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40];

/// Suppression window of repeated error-code raises.
pub const ERROR_SUPPRESS: Duration = Duration::from_secs(120);

/// The Tesla Roadster decoder and its non-metric state.
#[derive(Debug, Default)]
pub struct TeslaRoadster {
    /// `m_type`: empty until a 0xA5 VIN frame, then e.g. `TR2S`.
    car_type: String,
    /// Generation from the VIN (1 or 2), 0 while unknown.
    generation: u8,
    /// `m_aux12v`: bit 1 of d3 of the last 0x96 frame.
    aux12v: bool,
    /// The app's starting-charge tracker (INACTIVE during passive replay).
    starting_charge: StartingCharge,
    /// VIN buffer and which parts arrived.
    vin: [u8; 17],
    vin_a4: bool,
    vin_a5: bool,
    /// Error code → time of its last raise or clear (0x93).
    error_codes: HashMap<u32, Instant>,
    /// TPMS vectors (FL, FR, RL, RR), grown on demand like the firmware's vector metrics.
    tpms_pressure: Vec<f32>,
    tpms_temp: Vec<f32>,
    /// Values of metrics the decoder reads back (the firmware reads them from the store).
    soc: Option<f32>,
    state: Option<String>,
    mode: Option<String>,
    charging: Option<bool>,
    on: Option<bool>,
    /// A CAC stream request is outstanding (cancel after the next 0x9E).
    cac_requested: bool,
    /// When to send the CAC request after a `v.e.on` change (3-s vehicle-state delay).
    cac_request_at: Option<Instant>,
}

impl TeslaRoadster {
    /// A decoder in its power-on state.
    pub fn new() -> Self {
        Self::default()
    }

    /// `m_type` (empty until a VIN frame names the generation).
    pub fn car_type(&self) -> &str {
        &self.car_type
    }

    /// `m_aux12v`.
    pub fn aux12v(&self) -> bool {
        self.aux12v
    }
}

/// Pushes a metric output.
pub(crate) fn set(out: &mut Vec<VehicleOutput>, name: &str, value: MetricValue) {
    out.push(VehicleOutput::Metric {
        name: name.to_string(),
        value,
    });
}

impl Vehicle for TeslaRoadster {
    fn type_code(&self) -> &str {
        TYPE_CODE
    }

    fn init(&mut self, _now: Instant, out: &mut Vec<VehicleOutput>) {
        set(out, "v.type", MetricValue::Str(TYPE_CODE.into()));
    }

    fn handle_frame(&mut self, now: Instant, frame: CanFrame<'_>, out: &mut Vec<VehicleOutput>) {
        if frame.bus != 0 {
            return;
        }
        let mut d = [0u8; 8];
        let n = frame.data.len().min(8);
        d[..n].copy_from_slice(&frame.data[..n]);
        match frame.id {
            0x100 => self.vms_to_vds(now, &d, out),
            // 0x102 from the VDS: only the lock result (d0 = 0x0E) is decoded.
            0x102 if d[0] == 0x0E => set(out, "v.e.locked", MetricValue::Bool(d[1] == 0x04)),
            0x344 => self.tpms(&d, out),
            0x400 => self.frame_400(&d, out),
            0x402 => frames::odometer(&d, out),
            _ => {}
        }
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<VehicleOutput>) {
        if self.cac_request_at.is_some_and(|t| now >= t) {
            self.cac_request_at = None;
            self.request_cac(out);
        }
        // Ticker60: every 60 s of module time while charging.
        if self.charging == Some(true) && now.as_secs().is_multiple_of(60) {
            self.predict_charge_time(out);
        }
    }
}
