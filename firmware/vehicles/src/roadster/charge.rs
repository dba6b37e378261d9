//! The charger state machine of 0x95 (spec §5), the CAC stream request, and the parts of the
//! charge-time predictor (spec §6) that replays reach.

use ovms_firmware::metrics::MetricValue;
use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::VehicleOutput;

use super::{set, TeslaRoadster, CAC_REQUEST};

use MetricValue::{Bool, Float, Int, Str};

/// The app's "start charge" tracker (`m_starting_charge`). Only the app command leaves INACTIVE,
/// so it stays INACTIVE in passive replay; the transitions of 0x95 are still applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartingCharge {
    /// No app-started charge pending.
    #[default]
    Inactive,
    /// The app scheduled a start.
    Scheduled,
    /// Waiting for power.
    PowerWait,
    /// The start was sent.
    Started,
}

/// The firmware's mode key of a `v.c.mode` string; "" or undefined → −1 passed as a byte (255).
fn mode_key(mode: Option<&str>) -> u8 {
    match mode {
        Some("standard") => 0,
        Some("storage") => 1,
        Some("range") => 3,
        Some("performance") => 4,
        _ => 255,
    }
}

impl TeslaRoadster {
    /// 0x95: heating, state, sub-state, mode (generation known), kWh — in this order.
    pub(super) fn charger_state(
        &mut self,
        _now: Instant,
        d: &[u8; 8],
        out: &mut Vec<VehicleOutput>,
    ) {
        set(out, "v.e.heating", Bool(d[1] == 0x0F));
        let inactive = self.starting_charge == StartingCharge::Inactive;
        let state = match d[1] {
            0x01 => {
                self.starting_charge = StartingCharge::Inactive;
                Some("charging")
            }
            0x02 => {
                self.starting_charge = StartingCharge::Inactive;
                Some("topoff")
            }
            0x04 => Some("done"),
            0x0C | 0x16 | 0x17 | 0x18 | 0x19 => {
                self.starting_charge = StartingCharge::Inactive;
                Some("stopped")
            }
            0x15 => {
                if d[2] != 0x03 {
                    self.starting_charge = StartingCharge::Inactive;
                }
                Some("stopped")
            }
            0x0D => Some("prepare"),
            0x0E => Some(if inactive { "timerwait" } else { "prepare" }),
            0x0F => Some("heating"),
            _ => None,
        };
        if let Some(s) = state {
            let changed = self.state.as_deref() != Some(s);
            self.state = Some(s.to_string());
            set(out, "v.c.state", Str(s.into()));
            if changed && s == "done" {
                // Base class: a finished charge has no time to go.
                for m in [
                    "v.c.duration.full",
                    "v.c.duration.range",
                    "v.c.duration.soc",
                ] {
                    set(out, m, Int(0));
                }
            }
        }
        let inactive = self.starting_charge == StartingCharge::Inactive;
        let substate = match d[2] {
            // With the tracker at POWERWAIT the firmware re-sends "start charge"; the tracker
            // never gets there without the app command, so nothing is transmitted here.
            0x02 => Some("scheduledstart"),
            0x03 => Some("onrequest"),
            0x05 => Some("timerwait"),
            0x07 => {
                if self.starting_charge == StartingCharge::Scheduled {
                    self.starting_charge = StartingCharge::PowerWait;
                }
                Some(if inactive {
                    "powerwait"
                } else {
                    "scheduledstart"
                })
            }
            0x0D => Some("stopped"),
            _ => None,
        };
        if let Some(s) = substate {
            set(out, "v.c.substate", Str(s.into()));
        }
        let code = match self.generation {
            1 => Some(d[4] & 0x0F),
            2 => Some(d[5] >> 4),
            _ => None,
        };
        if let Some(code) = code {
            let mode = match code {
                0 => "standard",
                1 => "storage",
                3 => "range",
                4 => "performance",
                _ => "",
            };
            self.mode = Some(mode.to_string());
            set(out, "v.c.mode", Str(mode.into()));
        }
        set(out, "v.c.kwh", Float(d[7] as f32));
    }

    /// Reacts to `v.c.charging` being set: on a change to yes, request the CAC stream and run the
    /// charge-time predictor (as `NotifiedVehicleChargeStart`).
    pub(super) fn charging_changed(
        &mut self,
        _now: Instant,
        charging: bool,
        out: &mut Vec<VehicleOutput>,
    ) {
        let before = self.charging.unwrap_or(false);
        self.charging = Some(charging);
        if charging && !before {
            self.request_cac(out);
            self.predict_charge_time(out);
        }
    }

    /// Sends the CAC stream request on 0x102.
    pub(super) fn request_cac(&mut self, out: &mut Vec<VehicleOutput>) {
        self.cac_requested = true;
        out.push(VehicleOutput::Transmit {
            bus: 0,
            id: 0x102,
            extended: false,
            data: CAC_REQUEST.to_vec(),
        });
    }

    /// The charge-time predictor's error paths: an invalid mode (undefined/"" → 255, storage → 1)
    /// gives `v.c.duration.full` = −(100 + mode). The model for valid modes is not implemented, so
    /// nothing is written for them.
    pub(super) fn predict_charge_time(&mut self, out: &mut Vec<VehicleOutput>) {
        let mode = mode_key(self.mode.as_deref());
        if !matches!(mode, 0 | 3 | 4) {
            set(out, "v.c.duration.full", Int(-(100 + mode as i64)));
        }
    }
}
