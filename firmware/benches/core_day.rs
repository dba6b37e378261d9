//! A 24 h virtual day through the protocol core: 200 metrics changing at 10 Hz and one client
//! heartbeating every 60 s, on the `fw-3.3.006` profile (connected 10 s cadence with a peer).
//!
//! Prints the wall time of one day and the publishes per second of wall time, then lets criterion
//! measure the day (10 flat samples). Run: `cargo bench -p ovms-firmware --bench core_day`.

use std::hint::black_box;
use std::time::Instant as WallInstant;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use ovms_firmware::io::{Action, IncomingPublish, Input, QoS};
use ovms_firmware::metrics::MetricValue;
use ovms_firmware::module::{Module, ModuleConfig};
use ovms_firmware::profile::Profile;
use ovms_firmware::time::Instant;

const METRICS: usize = 200;
const STEP_MS: u64 = 100; // 10 Hz
const DAY_MS: u64 = 24 * 3600 * 1000;
const HEARTBEAT_MS: u64 = 60_000;

/// Counts of what one day produced.
#[derive(Debug, Default, Clone, Copy)]
struct DayStats {
    publishes: u64,
    inputs: u64,
}

fn drain(m: &mut Module, now: Instant, stats: &mut DayStats) {
    while let Some(a) = m.poll_action() {
        match a {
            Action::Connect(_) => m.handle(now, Input::ConnAccepted),
            Action::Publish(p) => {
                stats.publishes += 1;
                black_box(&p);
            }
            other => {
                black_box(&other);
            }
        }
    }
}

fn run_day() -> DayStats {
    let profile = Profile::builtin("fw-3.3.006").expect("builtin");
    let cfg = ModuleConfig {
        vehicle_id: "car".into(),
        username: "u".into(),
        has_password: true,
        ..Default::default()
    };
    let mut m = Module::new(profile, cfg, Instant::ZERO);
    let names: Vec<String> = (0..METRICS).map(|i| format!("x.bench.m{i:03}")).collect();
    let heartbeat_topic = format!("{}client/app/active", m.prefix());
    let mut stats = DayStats::default();
    drain(&mut m, Instant::ZERO, &mut stats);
    let mut t = 0u64;
    let mut next_hb = 0u64;
    while t < DAY_MS {
        let now = Instant::from_millis(t);
        // Timers due before this step (event to event).
        while let Some(due) = m.poll_timeout() {
            if due > now {
                break;
            }
            m.handle_timeout(due);
            drain(&mut m, due, &mut stats);
        }
        if t >= next_hb {
            next_hb += HEARTBEAT_MS;
            let p = IncomingPublish {
                topic: heartbeat_topic.clone(),
                payload: b"1".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: false,
            };
            m.handle(now, Input::Publish(p));
            stats.inputs += 1;
        }
        let step = t / STEP_MS;
        for (i, name) in names.iter().enumerate() {
            let v = ((step + i as u64) % 1000) as f32 * 0.1;
            m.handle(
                now,
                Input::Metric {
                    name: name.clone(),
                    value: MetricValue::Float(v),
                },
            );
        }
        stats.inputs += METRICS as u64;
        drain(&mut m, now, &mut stats);
        t += STEP_MS;
    }
    m.handle_timeout(Instant::from_millis(DAY_MS));
    drain(&mut m, Instant::from_millis(DAY_MS), &mut stats);
    stats
}

/// CPU time (user + system) of this process in seconds, from `/proc/self/stat` (Linux; the
/// kernel's USER_HZ is 100). `None` elsewhere. On a loaded machine it is steadier than wall time.
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields after the command: state is index 0, utime is 11, stime is 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn core_day(c: &mut Criterion) {
    let cpu0 = process_cpu_secs();
    let start = WallInstant::now();
    let stats = run_day();
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, process_cpu_secs()) {
        (Some(a), Some(b)) => format!("{:.3} s CPU", b - a),
        _ => "CPU time n/a".to_string(),
    };
    println!(
        "core_day: one 24 h virtual day ({} inputs) in {:.3} s wall time ({cpu}); {} publishes = {:.0} publishes/s of wall time ({:.1} per virtual second)",
        stats.inputs,
        wall,
        stats.publishes,
        stats.publishes as f64 / wall,
        stats.publishes as f64 / 86_400.0
    );
    let mut g = c.benchmark_group("core_day");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(std::time::Duration::from_millis(1));
    g.measurement_time(std::time::Duration::from_secs(1));
    g.bench_function("24h_200_metrics_10hz_1_client", |b| {
        b.iter(|| black_box(run_day()))
    });
    g.finish();
}

criterion_group!(benches, core_day);
criterion_main!(benches);
