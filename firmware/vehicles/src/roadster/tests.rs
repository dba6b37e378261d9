//! Per-frame tests with the spec's sample frames (roadster-decoder.md §3–§5, §9.3).

use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::{CanFrame, Vehicle, VehicleOutput};

use super::*;
use crate::fold::Timeline;

struct Rig {
    car: TeslaRoadster,
    tl: Timeline,
    out: Vec<VehicleOutput>,
}

impl Rig {
    fn new() -> Self {
        let mut r = Rig {
            car: TeslaRoadster::new(),
            tl: Timeline::new(),
            out: Vec::new(),
        };
        r.car.init(Instant::ZERO, &mut r.out);
        r.tl.apply(0.0, &mut r.out);
        r
    }

    fn frame(&mut self, t: f64, id: u32, data: &[u8]) {
        let now = Instant::from_millis((t * 1000.0).round() as u64);
        self.car.handle_frame(
            now,
            CanFrame {
                bus: 0,
                id,
                extended: false,
                data,
            },
            &mut self.out,
        );
        self.tl.apply(t, &mut self.out);
    }

    fn tick(&mut self, secs: u64) {
        self.car.tick(Instant::from_secs(secs), &mut self.out);
        self.tl.apply(secs as f64, &mut self.out);
    }

    fn p(&self, name: &str) -> Option<String> {
        self.tl.current(name)
    }
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[test]
fn soc_and_ranges_in_km() {
    let mut r = Rig::new();
    r.frame(
        1.6826,
        0x100,
        &[0x80, 0x60, 0xBB, 0x00, 0x64, 0x00, 0xAA, 0x00],
    );
    assert_eq!(r.p("v.b.soc"), s("96"));
    assert_eq!(r.p("v.b.range.ideal"), s("300.948"));
    assert_eq!(r.p("v.b.range.est"), s("273.589"));
    // Ranges above 6000 miles become 0; 6000 stays.
    r.frame(2.0, 0x100, &[0x80, 0x60, 0x71, 0x17, 0, 0, 0x70, 0x17]);
    assert_eq!(r.p("v.b.range.ideal"), s("0"));
    assert_eq!(r.p("v.b.range.est"), s("9656.08"));
}

#[test]
fn speed_rpm_and_line_voltage_short_frame() {
    let mut r = Rig::new();
    r.frame(755.7617, 0x100, &[0x89, 0x26, 0xFF, 0xFF, 0x7F, 0xFF]);
    assert_eq!(r.p("v.p.speed"), s("61.1552"));
    assert_eq!(r.p("v.m.rpm"), s("4256"));
    assert_eq!(r.p("v.c.voltage"), s("65535"));
}

#[test]
fn doors_and_status_bits() {
    let mut r = Rig::new();
    r.frame(
        0.7433,
        0x100,
        &[0x96, 0x69, 0x00, 0x00, 0x21, 0x0C, 0x00, 0x00],
    );
    for (m, v) in [
        ("v.d.fl", "yes"),
        ("v.d.fr", "no"),
        ("v.d.cp", "no"),
        ("v.c.pilot", "yes"),
        ("v.c.charging", "no"),
        ("v.e.handbrake", "yes"),
        ("v.e.on", "no"),
        ("v.e.awake", "no"),
        ("v.e.aux12v", "no"),
        ("v.e.cooling", "no"),
        ("v.e.locked", "no"),
        ("v.e.alarm", "no"),
    ] {
        assert_eq!(r.p(m), s(v), "{m}");
    }
    assert!(!r.car.aux12v());
    r.frame(1.0, 0x100, &[0x96, 0x80, 0xF8, 0x03, 0x02, 0, 0, 0]);
    for m in [
        "v.e.on",
        "v.e.awake",
        "v.e.locked",
        "v.e.valet",
        "v.e.headlights",
        "v.d.hood",
        "v.d.trunk",
    ] {
        assert_eq!(r.p(m), s("yes"), "{m}");
    }
    for m in ["v.e.charging12v", "v.e.aux12v", "v.e.cooling", "v.e.alarm"] {
        assert_eq!(r.p(m), s("yes"), "{m}");
    }
    assert!(r.car.aux12v());
}

#[test]
fn ambient_and_temperatures_need_aux12v() {
    let mut r = Rig::new();
    r.frame(7.4417, 0x100, &[0x82, 0x0C]);
    r.frame(7.5, 0x100, &[0xA3, 0x11, 0x10, 0x00, 0x00, 0x00, 0x14]);
    assert_eq!(r.p("v.e.temp"), None);
    assert_eq!(r.p("v.i.temp"), None);
    r.frame(8.0, 0x100, &[0x96, 0x00, 0x00, 0x02, 0, 0, 0, 0]);
    r.frame(57.6543, 0x100, &[0x82, 0x0C]);
    assert_eq!(r.p("v.e.temp"), s("12"));
    // Signed ambient.
    r.frame(57.7, 0x100, &[0x82, 0xF6]);
    assert_eq!(r.p("v.e.temp"), s("-10"));
    r.frame(57.6561, 0x100, &[0xA3, 0x11, 0x10, 0x00, 0x00, 0x00, 0x14]);
    assert_eq!(r.p("v.i.temp"), s("17"));
    assert_eq!(r.p("v.c.temp"), s("17"));
    assert_eq!(r.p("v.m.temp"), s("16"));
    assert_eq!(r.p("v.b.temp"), s("20"));
    // Unsigned A3 temperatures.
    r.frame(58.0, 0x100, &[0xA3, 0xF0, 0, 0, 0, 0, 0xFF]);
    assert_eq!(r.p("v.i.temp"), s("240"));
    assert_eq!(r.p("v.b.temp"), s("255"));
}

#[test]
fn tpms_vectors_grow_to_index_plus_one() {
    let mut r = Rig::new();
    r.frame(1.0, 0x344, &[0, 0, 0, 0, 0, 0, 0x68, 0x34]);
    assert_eq!(r.p("v.t.pressure"), s("0,0,0,260.274"));
    assert_eq!(r.p("v.t.temp"), s("0,0,0,12"));
    let mut r = Rig::new();
    r.frame(1.0, 0x344, &[0x4E, 0x33]);
    assert_eq!(r.p("v.t.pressure"), s("195.205"));
    r.frame(
        176.8557,
        0x344,
        &[0x4E, 0x33, 0x4C, 0x33, 0x6A, 0x34, 0x69, 0x34],
    );
    assert_eq!(r.p("v.t.pressure"), s("195.205,190.2,265.279,262.777"));
    assert_eq!(r.p("v.t.temp"), s("11,11,12,12"));
    // A wheel with temperature byte 0 keeps its value even with a pressure byte.
    r.frame(
        177.0,
        0x344,
        &[0x10, 0x00, 0x4C, 0x34, 0x6A, 0x34, 0x69, 0x34],
    );
    assert_eq!(r.p("v.t.pressure"), s("195.205,190.2,265.279,262.777"));
    assert_eq!(r.p("v.t.temp"), s("11,12,12,12"));
}

#[test]
fn gps_status_position_and_altitude() {
    let mut r = Rig::new();
    r.frame(1.6835, 0x100, &[0x85, 0x01, 0x86, 0x00, 0x72, 0x00]);
    assert_eq!(r.p("v.p.gpslock"), s("yes"));
    assert_eq!(r.p("v.p.gpssq"), s("100"));
    assert_eq!(r.p("v.p.direction"), s("134"));
    assert_eq!(r.p("v.p.altitude"), s("114"));
    // Without lock direction/altitude are still set; direction mod 360; high nibble of d5 → 0 m.
    r.frame(2.0, 0x100, &[0x85, 0x00, 0x6C, 0x01, 0x72, 0x10]);
    assert_eq!(r.p("v.p.gpslock"), s("no"));
    assert_eq!(r.p("v.p.gpssq"), s("0"));
    assert_eq!(r.p("v.p.direction"), s("4"));
    assert_eq!(r.p("v.p.altitude"), s("0"));
    // 379753766 / 2048 / 3600 in float.
    let raw = 379_753_766u32.to_le_bytes();
    r.frame(3.0, 0x100, &[0x83, 0, 0, 0, raw[0], raw[1], raw[2], raw[3]]);
    let lat = (379_753_766i32 as f32) / 2048.0 / 3600.0;
    assert_eq!(
        r.p("v.p.latitude"),
        s(&ovms_firmware::metrics::format_g6(lat))
    );
    assert_eq!(ovms_firmware::metrics::format_fixed(lat, 6), "51.507401");
    let neg = (-379_753_766i32).to_le_bytes();
    r.frame(3.0, 0x100, &[0x84, 0, 0, 0, neg[0], neg[1], neg[2], neg[3]]);
    assert_eq!(
        r.p("v.p.longitude"),
        s(&ovms_firmware::metrics::format_g6(-lat))
    );
}

#[test]
fn charger_settings_and_timer() {
    let mut r = Rig::new();
    r.frame(0.0518, 0x100, &[0x88, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0x46]);
    assert_eq!(r.p("v.c.current"), s("127"));
    assert_eq!(r.p("v.c.climit"), s("70"));
    r.frame(1.0, 0x100, &[0x06, 0x1B, 0, 0, 1, 0, 0, 0]);
    assert_eq!(r.p("v.c.timermode"), s("yes"));
    r.frame(1.0, 0x100, &[0x06, 0x1A, 0, 0, 7, 30, 0, 0]);
    assert_eq!(r.p("v.c.timerstart"), s("07:30:00"));
    r.frame(1.0, 0x100, &[0x06, 0x1C, 0, 0, 9, 30, 0, 0]);
    assert_eq!(r.p("v.c.timerstart"), s("07:30:00"));
}

#[test]
fn charge_state_substate_kwh_and_mode_needs_generation() {
    let mut r = Rig::new();
    r.frame(
        11.7988,
        0x100,
        &[0x95, 0x01, 0x05, 0x64, 0x57, 0x02, 0x0E, 0x02],
    );
    assert_eq!(r.p("v.c.state"), s("charging"));
    assert_eq!(r.p("v.c.substate"), s("timerwait"));
    assert_eq!(r.p("v.c.kwh"), s("2"));
    assert_eq!(r.p("v.e.heating"), s("no"));
    assert_eq!(r.p("v.c.mode"), None);
    // Unknown state/sub-state bytes leave the metrics unchanged.
    r.frame(12.0, 0x100, &[0x95, 0x33, 0x09, 0, 0, 0, 0, 3]);
    assert_eq!(r.p("v.c.state"), s("charging"));
    assert_eq!(r.p("v.c.substate"), s("timerwait"));
    assert_eq!(r.p("v.c.kwh"), s("3"));
    for (st, sub, want_state, want_sub) in [
        (0x02, 0x02, "topoff", "scheduledstart"),
        (0x04, 0x03, "done", "onrequest"),
        (0x0C, 0x07, "stopped", "powerwait"),
        (0x15, 0x0D, "stopped", "stopped"),
        (0x0D, 0x05, "prepare", "timerwait"),
        (0x0E, 0x05, "timerwait", "timerwait"),
        (0x0F, 0x05, "heating", "timerwait"),
        (0x19, 0x05, "stopped", "timerwait"),
    ] {
        r.frame(13.0, 0x100, &[0x95, st, sub, 0, 0, 0, 0, 0]);
        assert_eq!(r.p("v.c.state"), s(want_state));
        assert_eq!(r.p("v.c.substate"), s(want_sub));
        assert_eq!(r.p("v.e.heating"), s(if st == 0x0F { "yes" } else { "no" }));
    }
    // A gen-2 VIN (d3 of 0xA5 = 'A') → mode from the high nibble of d5.
    r.frame(
        14.0,
        0x100,
        &[0xA4, b'S', b'F', b'Z', b'R', b'E', b'2', b'B'],
    );
    r.frame(
        14.0,
        0x100,
        &[0xA5, b'3', b'9', b'A', b'3', b'0', b'0', b'0'],
    );
    assert_eq!(r.p("v.type"), s("TR2S"));
    r.frame(14.0, 0x100, &[0xA6, b'3', b'5', b'9']);
    assert_eq!(r.p("v.vin"), s("SFZRE2B39A3000359"));
    r.frame(
        15.0,
        0x100,
        &[0x95, 0x01, 0x05, 0x64, 0x57, 0x32, 0x0E, 0x02],
    );
    assert_eq!(r.p("v.c.mode"), s("range"));
    r.frame(
        15.0,
        0x100,
        &[0x95, 0x01, 0x05, 0x64, 0x57, 0x22, 0x0E, 0x02],
    );
    assert_eq!(r.p("v.c.mode"), s(""));
}

#[test]
fn generation_one_uses_low_nibble_of_d4_and_gear_from_0x400() {
    let mut r = Rig::new();
    r.frame(
        1.0,
        0x100,
        &[0xA5, b'1', b'9', b'8', b'3', b'0', b'0', b'0'],
    );
    assert_eq!(r.p("v.type"), s("TR1N"));
    assert_eq!(r.car.car_type(), "TR1N");
    // VIN not published: 0xA4 was not seen.
    r.frame(1.0, 0x100, &[0xA6, b'3', b'5', b'9']);
    assert_eq!(r.p("v.vin"), None);
    r.frame(2.0, 0x100, &[0x95, 0x01, 0x05, 0, 0x04, 0x30, 0, 0]);
    assert_eq!(r.p("v.c.mode"), s("performance"));
    // 0x87 gear is gen-2 only.
    r.frame(3.0, 0x100, &[0x87, 0x80]);
    assert_eq!(r.p("v.e.gear"), None);
    for (d3, want) in [
        (0x2F, "1"),
        (0x3E, "-1"),
        (0x3B, "0"),
        (0x2F, "1"),
        (0x12, "1"),
        (0x3F, "0"),
    ] {
        r.frame(4.0, 0x400, &[0x01, 0, 0, d3]);
        assert_eq!(r.p("v.e.gear"), s(want));
    }
}

#[test]
fn gear_from_0x87_for_generation_two() {
    let mut r = Rig::new();
    r.frame(0.5, 0x100, &[0x87, 0x80]);
    assert_eq!(r.p("v.e.gear"), None);
    r.frame(
        1.0,
        0x100,
        &[0xA5, b'3', b'9', b'C', b'3', b'0', b'0', b'0'],
    );
    for (d1, want) in [
        (0x21, "0"),
        (0x83, "1"),
        (0x41, "-1"),
        (0x61, "0"),
        (0x01, "0"),
        (0x80, "1"),
        (0xE0, "1"),
    ] {
        r.frame(2.0, 0x100, &[0x87, d1]);
        assert_eq!(r.p("v.e.gear"), s(want), "{d1:#x}");
    }
    // Gen 2 ignores 0x400/01.
    r.frame(3.0, 0x400, &[0x01, 0, 0, 0x3E]);
    assert_eq!(r.p("v.e.gear"), s("1"));
}

#[test]
fn pack_current_power_and_odometer() {
    let mut r = Rig::new();
    r.frame(1.0, 0x400, &[0x02, 0, 0x10, 0x81]);
    assert_eq!(r.p("v.b.current"), s("272"));
    assert_eq!(r.p("v.b.power"), None, "no power while SOC undefined");
    r.frame(1.0, 0x100, &[0x80, 50, 0, 0, 0, 0, 0, 0]);
    r.frame(2.0, 0x400, &[0x02, 0, 0x10, 0x81]);
    let kw = (272.0f64 * (370.0 + 30.0 * 50.0 / 100.0) / 1000.0) as f32;
    assert_eq!(r.p("v.b.power"), s(&ovms_firmware::metrics::format_g6(kw)));
    assert_eq!(r.p("v.b.power"), s("104.72"));
    // Odometer 123456 tenths of a mile → 19868.4 km; d0 not checked.
    r.frame(3.0, 0x402, &[0x00, 0, 0, 0x40, 0xE2, 0x01, 0x0A, 0x00]);
    assert_eq!(r.p("v.p.odometer"), s("19868.4"));
    assert_eq!(r.p("v.p.trip"), s("1.60935"));
}

#[test]
fn lock_state_from_0x102() {
    let mut r = Rig::new();
    r.frame(1.0, 0x102, &[0x0E, 0x04]);
    assert_eq!(r.p("v.e.locked"), s("yes"));
    r.frame(2.0, 0x102, &[0x0E, 0x03]);
    assert_eq!(r.p("v.e.locked"), s("no"));
    r.frame(3.0, 0x102, &[0x05, 0x04]);
    assert_eq!(r.p("v.e.locked"), s("no"));
}

#[test]
fn error_codes_with_120_s_suppression() {
    let mut r = Rig::new();
    let raise = [0x93, 0x01, 0xBA, 0x03, 0x00, 0x00, 0x20, 0x00];
    let clear = [0x93, 0x00, 0xBA, 0x03, 0x00, 0x00, 0x20, 0x00];
    r.frame(73.1820, 0x100, &raise);
    assert_eq!(r.tl.notices.len(), 1);
    let n = &r.tl.notices[0];
    assert_eq!(
        (n.kind.as_str(), n.subtype.as_str(), n.text.as_str()),
        ("error", "code", "TR,954,2097152")
    );
    r.frame(76.2779, 0x100, &clear);
    assert_eq!(r.tl.notices.len(), 1, "a clear sends nothing");
    r.frame(150.0, 0x100, &raise);
    assert_eq!(r.tl.notices.len(), 1, "within 120 s of the clear");
    r.frame(196.3, 0x100, &raise);
    assert_eq!(r.tl.notices.len(), 2, "120 s after the clear");
    // 0xFFFF is ignored; the 0x14/25 case is forced.
    r.frame(197.0, 0x100, &[0x93, 0x01, 0xFF, 0xFF, 0, 0, 0, 0]);
    r.frame(198.0, 0x100, &[0x93, 0x14, 25, 0, 1, 0, 0, 0]);
    r.frame(199.0, 0x100, &[0x93, 0x14, 25, 0, 1, 0, 0, 0]);
    let texts: Vec<_> = r.tl.notices.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(
        texts,
        vec!["TR,954,2097152", "TR,954,2097152", "TR,25,1", "TR,25,1"]
    );
}

#[test]
fn cac_health_and_stream_requests() {
    let mut r = Rig::new();
    r.frame(1.0, 0x100, &[0x80, 96, 0, 0, 0, 0, 0, 0]);
    // Charging starts: CAC request at once, and duration.full = -355 (no mode known).
    r.frame(2.0, 0x100, &[0x96, 0x10, 0, 0, 0, 0, 0, 0]);
    assert_eq!(r.tl.sent.len(), 1);
    assert_eq!(r.tl.sent[0].data, CAC_REQUEST.to_vec());
    assert_eq!((r.tl.sent[0].bus, r.tl.sent[0].id), (0, 0x102));
    assert_eq!(r.p("v.c.duration.full"), s("-355"));
    r.frame(3.0, 0x100, &[0x9E, 68, 0x80, 154, 0, 0, 95, 100]);
    assert_eq!(r.p("v.b.cac"), s("154.5"));
    assert_eq!(
        r.p("v.b.health"),
        s("CAC 154.50Ah SOC 96% LIM 68% MIN 95% MAX 100%")
    );
    assert_eq!(r.p("v.b.p.level.min"), s("95"));
    assert_eq!(r.p("v.b.p.level.max"), s("100"));
    let soh = ((154.5f64 / 160.0) * 95.0) as f32;
    assert_eq!(r.p("v.b.soh"), s(&ovms_firmware::metrics::format_g6(soh)));
    assert_eq!(r.tl.sent.len(), 2);
    assert_eq!(r.tl.sent[1].data, CAC_CANCEL.to_vec());
    // A second 0x9E without a request sends nothing.
    r.frame(4.0, 0x100, &[0x9E, 68, 0x80, 170, 0, 0, 95, 99]);
    assert_eq!(r.tl.sent.len(), 2);
    let soh = ((170.5f64 / 215.0) * 95.0) as f32; // 9500/99 = 95 (integer division)
    assert_eq!(r.p("v.b.soh"), s(&ovms_firmware::metrics::format_g6(soh)));
    // Ticker60 repeats the prediction; done resets it to 0.
    r.tick(60);
    assert_eq!(r.p("v.c.duration.full"), s("-355"));
    r.frame(61.0, 0x100, &[0x95, 0x04, 0x09, 0, 0, 0, 0, 0]);
    assert_eq!(r.p("v.c.duration.full"), s("0"));
    // v.e.on change → CAC request 3 s later (on the tick).
    r.frame(70.0, 0x100, &[0x96, 0x80, 0, 0, 0, 0, 0, 0]);
    r.tick(71);
    assert_eq!(r.tl.sent.len(), 2);
    r.tick(73);
    assert_eq!(r.tl.sent.len(), 3);
    assert_eq!(r.tl.sent[2].data, CAC_REQUEST.to_vec());
}

#[test]
fn other_buses_and_ids_are_ignored() {
    let mut r = Rig::new();
    r.car.handle_frame(
        Instant::ZERO,
        CanFrame {
            bus: 1,
            id: 0x100,
            extended: false,
            data: &[0x80, 50],
        },
        &mut r.out,
    );
    r.car.handle_frame(
        Instant::ZERO,
        CanFrame {
            bus: 0,
            id: 0x1A0,
            extended: false,
            data: &[0x80, 50],
        },
        &mut r.out,
    );
    r.car.handle_frame(
        Instant::ZERO,
        CanFrame {
            bus: 0,
            id: 0x100,
            extended: false,
            data: &[],
        },
        &mut r.out,
    );
    assert!(r.out.is_empty());
    assert_eq!(r.p("v.type"), s("TR"));
}
