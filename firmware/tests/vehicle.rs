//! The vehicle interface as the module drives it: `v.type`, init metrics, frames, transmits,
//! per-second ticks and vehicle notifications/events.

mod common;

use common::*;
use ovms_firmware::io::Input;
use ovms_firmware::metrics::MetricValue;
use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::{CanFrame, Vehicle, VehicleOutput};

/// A made-up decoder: 0x100 byte 0 = SOC, 0x101 raises a notification and an event, and it
/// requests a stream on 0x200 at init. Counts its ticks in `x.test.ticks`.
struct TestVehicle {
    ticks: i64,
}

impl Vehicle for TestVehicle {
    fn type_code(&self) -> &str {
        "XT"
    }
    fn init(&mut self, _now: Instant, out: &mut Vec<VehicleOutput>) {
        out.push(VehicleOutput::Metric {
            name: "v.e.on".into(),
            value: MetricValue::Bool(false),
        });
        out.push(VehicleOutput::Transmit {
            bus: 0,
            id: 0x200,
            extended: false,
            data: vec![1, 2],
        });
    }
    fn handle_frame(&mut self, _now: Instant, f: CanFrame<'_>, out: &mut Vec<VehicleOutput>) {
        match f.id {
            0x100 => out.push(VehicleOutput::Metric {
                name: "v.b.soc".into(),
                value: MetricValue::Float(f32::from(*f.data.first().unwrap_or(&0))),
            }),
            0x101 => {
                out.push(VehicleOutput::Notify {
                    kind: "info".into(),
                    subtype: "charge.started".into(),
                    text: "go".into(),
                });
                out.push(VehicleOutput::Event("vehicle.charge.start".into()));
            }
            _ => {}
        }
    }
    fn tick(&mut self, _now: Instant, out: &mut Vec<VehicleOutput>) {
        self.ticks += 1;
        out.push(VehicleOutput::Metric {
            name: "x.test.ticks".into(),
            value: MetricValue::Int(self.ticks),
        });
    }
}

#[test]
fn vehicle_decodes_frames_into_published_metrics() {
    let mut r = Rig::new("fw-3.3.006");
    r.module
        .set_vehicle(r.now, Box::new(TestVehicle { ticks: 0 }));
    r.pump();
    assert_eq!(r.broker.can_tx.len(), 1, "init transmit");
    assert_eq!(r.module.metrics().as_string("v.type").unwrap(), "XT");
    r.input(Input::CanFrame {
        bus: 0,
        id: 0x100,
        extended: false,
        data: vec![77],
    });
    r.run_secs(1);
    assert_eq!(r.sent_to("metric/v/type")[0].payload(), "XT");
    assert_eq!(r.sent_to("metric/v/b/soc")[0].payload(), "77");
    assert_eq!(r.sent_to("metric/v/e/on")[0].payload(), "no");
    r.input(Input::CanFrame {
        bus: 0,
        id: 0x101,
        extended: false,
        data: vec![],
    });
    assert_eq!(r.sent_to("notify/info/charge/started").len(), 1);
    assert_eq!(r.sent_to("event/vehicle/charge/start").len(), 1);
    r.run_secs(59);
    assert_eq!(
        r.module.metrics().as_string("x.test.ticks").unwrap(),
        "60",
        "one tick per second"
    );
}

/// A decoder without per-second work.
struct QuietVehicle;

impl Vehicle for QuietVehicle {
    fn type_code(&self) -> &str {
        "XQ"
    }
    fn handle_frame(&mut self, _now: Instant, _f: CanFrame<'_>, _out: &mut Vec<VehicleOutput>) {}
    fn needs_tick(&self) -> bool {
        false
    }
}

#[test]
fn vehicle_ticks_wake_every_second_only_when_needed() {
    let mut r = Rig::new("fw-3.3.005");
    r.module
        .set_vehicle(r.now, Box::new(TestVehicle { ticks: 0 }));
    r.run_secs(3600);
    assert!(r.wakeups >= 3600, "{}", r.wakeups);
    let mut r = Rig::new("fw-3.3.005");
    r.module.set_vehicle(r.now, Box::new(QuietVehicle));
    r.run_secs(3600);
    assert!(r.wakeups < 20, "{}", r.wakeups);
    assert_eq!(r.sent_to("metric/v/type")[0].payload(), "XQ");
}
