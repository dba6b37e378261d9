//! Frame decodes of the Roadster (spec §3, §4). `d` is always the zero-padded 8-byte payload.

use ovms_firmware::metrics::{format_fixed, MetricValue};
use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::VehicleOutput;

use super::{set, TeslaRoadster, CAC_CANCEL, ERROR_SUPPRESS};
use crate::units::{mi_to_km, psi_to_kpa};

use MetricValue::{Bool, Float, Int, Str};

/// Little-endian u16 from `d[i]`, `d[i+1]`.
fn u16le(d: &[u8; 8], i: usize) -> u32 {
    d[i] as u32 | (d[i + 1] as u32) << 8
}

/// Little-endian u32 from `d[4..8]`.
fn u32le_hi(d: &[u8; 8]) -> u32 {
    u32::from_le_bytes([d[4], d[5], d[6], d[7]])
}

/// A range in miles, replaced by 0 above 6000, stored in km.
fn range_km(miles: u32) -> f32 {
    let m = if miles > 6000 { 0 } else { miles };
    mi_to_km(m as f32)
}

/// Latitude/longitude: signed 32-bit from d4..d7, float ÷ 2048 ÷ 3600 in float arithmetic.
fn position(d: &[u8; 8]) -> f32 {
    let raw = u32le_hi(d) as i32;
    (raw as f32) / 2048.0 / 3600.0
}

/// 0x402: odometer and trip, tenths of a mile → km (value/10 in float, then mi→km).
pub(super) fn odometer(d: &[u8; 8], out: &mut Vec<VehicleOutput>) {
    let odo = d[3] as u32 | (d[4] as u32) << 8 | (d[5] as u32) << 16;
    let trip = u16le(d, 6);
    set(out, "v.p.odometer", Float(mi_to_km(odo as f32 / 10.0)));
    set(out, "v.p.trip", Float(mi_to_km(trip as f32 / 10.0)));
}

impl TeslaRoadster {
    /// 0x100, multiplexed by d0.
    pub(super) fn vms_to_vds(&mut self, now: Instant, d: &[u8; 8], out: &mut Vec<VehicleOutput>) {
        match d[0] {
            0x06 => match d[1] {
                0x1B => set(out, "v.c.timermode", Bool(d[4] != 0)),
                0x1A => set(
                    out,
                    "v.c.timerstart",
                    Int((d[4] as i64 * 60 + d[5] as i64) * 60),
                ),
                _ => {}
            },
            0x80 => {
                let soc = d[1] as f32;
                self.soc = Some(soc);
                set(out, "v.b.soc", Float(soc));
                set(out, "v.b.range.ideal", Float(range_km(u16le(d, 2))));
                set(out, "v.b.range.est", Float(range_km(u16le(d, 6))));
            }
            // 0x81 (car clock): a time source for the module clock, no metric (not modelled here).
            0x82 if self.aux12v => set(out, "v.e.temp", Float(d[1] as i8 as f32)),
            0x83 => set(out, "v.p.latitude", Float(position(d))),
            0x84 => set(out, "v.p.longitude", Float(position(d))),
            0x85 => {
                let lock = d[1] == 1;
                set(out, "v.p.gpslock", Bool(lock));
                set(out, "v.p.gpssq", Int(if lock { 100 } else { 0 }));
                set(out, "v.p.direction", Float((u16le(d, 2) % 360) as f32));
                let alt = if d[5] & 0xF0 != 0 { 0 } else { u16le(d, 4) };
                set(out, "v.p.altitude", Float(alt as f32));
            }
            0x87 if self.generation == 2 => {
                let gear = match d[1] & 0xE0 {
                    0x20 | 0x60 => Some(0),
                    0x40 => Some(-1),
                    0x80 => Some(1),
                    _ => None,
                };
                if let Some(g) = gear {
                    set(out, "v.e.gear", Int(g));
                }
            }
            0x88 => {
                set(out, "v.c.current", Float(d[1] as f32));
                set(out, "v.c.climit", Float(d[6] as f32));
            }
            0x89 => {
                let v = u16le(d, 2) as f32;
                set(out, "v.p.speed", Float(mi_to_km(d[1] as f32)));
                set(out, "v.m.rpm", Int(d[1] as i64 * 112));
                set(out, "v.c.voltage", Float(v));
            }
            0x8F => set(out, "v.e.hvac", Bool(u16le(d, 6) > 0)),
            0x93 => self.error_code(now, d, out),
            0x95 => self.charger_state(now, d, out),
            0x96 => self.status_bits(now, d, out),
            0x9E => self.cac(d, out),
            0xA3 if self.aux12v => {
                set(out, "v.i.temp", Float(d[1] as f32));
                set(out, "v.c.temp", Float(d[1] as f32));
                set(out, "v.m.temp", Float(d[2] as f32));
                set(out, "v.b.temp", Float(d[6] as f32));
            }
            0xA4 => {
                self.vin[0..7].copy_from_slice(&d[1..8]);
                self.vin_a4 = true;
            }
            0xA5 => {
                self.vin[7..14].copy_from_slice(&d[1..8]);
                self.vin_a5 = true;
                self.generation = if matches!(d[3], b'A' | b'B' | b'C') {
                    2
                } else {
                    1
                };
                let variant = if d[1] == b'3' { 'S' } else { 'N' };
                self.car_type = format!("TR{}{}", self.generation, variant);
                set(out, "v.type", Str(self.car_type.clone()));
            }
            0xA6 => {
                self.vin[14..17].copy_from_slice(&d[1..4]);
                if self.vin_a4 && self.vin_a5 {
                    let vin: String = self.vin.iter().map(|&b| b as char).collect();
                    set(out, "v.vin", Str(vin));
                }
            }
            _ => {}
        }
    }

    /// 0x93: VDS error/alert → notification `error`/`code` `TR,<code>,<data>`.
    fn error_code(&mut self, now: Instant, d: &[u8; 8], out: &mut Vec<VehicleOutput>) {
        let code = u16le(d, 2);
        if code == 0xFFFF {
            return;
        }
        let data = u32le_hi(d);
        let notify = |out: &mut Vec<VehicleOutput>| {
            out.push(VehicleOutput::Notify {
                kind: "error".into(),
                subtype: "code".into(),
                text: format!("TR,{code},{data}"),
            })
        };
        if d[1] == 0x14 && code == 25 {
            // The "100 %" special case is forced: no suppression.
            self.error_codes.insert(code, now);
            notify(out);
        } else if d[1] & 0x01 != 0 {
            let recent = self
                .error_codes
                .get(&code)
                .is_some_and(|&t| now.saturating_since(t) < ERROR_SUPPRESS);
            if !recent {
                self.error_codes.insert(code, now);
                notify(out);
            }
        } else {
            // A clear sends nothing but restarts the suppression window.
            self.error_codes.insert(code, now);
        }
    }

    /// 0x96: doors and status bits.
    fn status_bits(&mut self, now: Instant, d: &[u8; 8], out: &mut Vec<VehicleOutput>) {
        let b = |byte: usize, mask: u8| d[byte] & mask != 0;
        set(out, "v.d.fl", Bool(b(1, 0x01)));
        set(out, "v.d.fr", Bool(b(1, 0x02)));
        set(out, "v.d.cp", Bool(b(1, 0x04)));
        set(out, "v.c.pilot", Bool(b(1, 0x08)));
        let charging = b(1, 0x10);
        set(out, "v.c.charging", Bool(charging));
        self.charging_changed(now, charging, out);
        set(out, "v.e.handbrake", Bool(b(1, 0x40)));
        let on = b(1, 0x80);
        set(out, "v.e.on", Bool(on));
        set(out, "v.e.awake", Bool(on));
        // A fresh metric is `no`: only a real change counts. The CAC request follows the 3-s
        // vehicle-state notification delay (sent from the per-second tick).
        if self.on.unwrap_or(false) != on {
            self.cac_request_at = Some(now + ovms_firmware::time::Duration::from_secs(3));
        }
        self.on = Some(on);
        set(out, "v.e.locked", Bool(b(2, 0x08)));
        set(out, "v.e.valet", Bool(b(2, 0x10)));
        set(out, "v.e.headlights", Bool(b(2, 0x20)));
        set(out, "v.d.hood", Bool(b(2, 0x40)));
        set(out, "v.d.trunk", Bool(b(2, 0x80)));
        set(out, "v.e.charging12v", Bool(b(3, 0x01)));
        self.aux12v = b(3, 0x02);
        set(out, "v.e.aux12v", Bool(self.aux12v));
        set(out, "v.e.cooling", Bool(self.aux12v));
        set(out, "v.e.alarm", Bool(b(4, 0x02)));
    }

    /// 0x9E: CAC, pack levels, SOH and the health text; then cancel the stream if requested.
    fn cac(&mut self, d: &[u8; 8], out: &mut Vec<VehicleOutput>) {
        let cac = d[3] as f32 + d[2] as f32 / 256.0;
        let (lim, min, max) = (d[1], d[6], d[7]);
        set(out, "v.b.cac", Float(cac));
        set(out, "v.b.p.level.min", Float(min as f32));
        set(out, "v.b.p.level.max", Float(max as f32));
        // max = 0 would be an integer division by zero in the firmware; we leave SOH unset then.
        if max != 0 {
            // (cac/215.0) * ((100*min)/max): double arithmetic, integer division, stored as float.
            let base = if cac > 165.0 {
                cac as f64 / 215.0
            } else {
                cac as f64 / 160.0
            };
            let levels = (100 * min as u32 / max as u32) as f64;
            set(out, "v.b.soh", Float((base * levels) as f32));
        }
        // SOC is `v.b.soc` read back as an integer (truncated), 0 while undefined.
        let soc = self.soc.unwrap_or(0.0) as i64;
        let health = format!(
            "CAC {}Ah SOC {}% LIM {}% MIN {}% MAX {}%",
            format_fixed(cac, 2),
            soc,
            lim,
            min,
            max
        );
        set(out, "v.b.health", Str(health));
        if self.cac_requested {
            self.cac_requested = false;
            out.push(VehicleOutput::Transmit {
                bus: 0,
                id: 0x102,
                extended: false,
                data: CAC_CANCEL.to_vec(),
            });
        }
    }

    /// 0x344: TPMS; a wheel updates only when its temperature byte is > 0.
    pub(super) fn tpms(&mut self, d: &[u8; 8], out: &mut Vec<VehicleOutput>) {
        for wheel in 0..4 {
            let (p, t) = (d[2 * wheel], d[2 * wheel + 1]);
            if t == 0 {
                continue;
            }
            let psi = (p as f64 / 2.755) as f32;
            for v in [&mut self.tpms_pressure, &mut self.tpms_temp] {
                if v.len() < wheel + 1 {
                    v.resize(wheel + 1, 0.0);
                }
            }
            self.tpms_pressure[wheel] = psi_to_kpa(psi);
            self.tpms_temp[wheel] = t as f32 - 40.0;
            set(
                out,
                "v.t.pressure",
                MetricValue::FloatVec(self.tpms_pressure.clone()),
            );
            set(
                out,
                "v.t.temp",
                MetricValue::FloatVec(self.tpms_temp.clone()),
            );
        }
    }

    /// 0x400: gear (gen 1, d0 = 1) and pack current/power (d0 = 2).
    pub(super) fn frame_400(&mut self, d: &[u8; 8], out: &mut Vec<VehicleOutput>) {
        match d[0] {
            0x01 if self.generation == 1 => {
                let gear = match d[3] {
                    0x00 | 0x3F | 0x3B => Some(0),
                    0x3E => Some(-1),
                    0x2F => Some(1),
                    _ => None,
                };
                if let Some(g) = gear {
                    set(out, "v.e.gear", Int(g));
                }
            }
            0x02 => {
                let amps = d[2] as u32 + 256 * (d[3] as u32 & 0x7F);
                set(out, "v.b.current", Float(amps as f32));
                if let Some(soc) = self.soc.filter(|&s| s != 0.0) {
                    let kw = amps as f64 * (370.0 + 30.0 * soc as f64 / 100.0) / 1000.0;
                    set(out, "v.b.power", Float(kw as f32));
                }
            }
            _ => {}
        }
    }
}
