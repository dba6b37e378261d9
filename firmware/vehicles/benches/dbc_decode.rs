//! Decode throughput of our DBC decoder vs cantools on the same log and DBC, in the same run.
//!
//! Kona 2019 log, bus 0 (P-CAN) × kona-ev_pcan.dbc, frames replicated to ≥ 200,000. Our figure is the
//! decode of in-memory frames (message lookup + every signal's physical value); cantools' is the same
//! loop in Python (`ci/cantools_decode.py --bench-frames`: dict lookup + `Message.decode`).
//! Run: `ci/bench-dbc.sh` or `cargo bench -p ovms-vehicles --bench dbc_decode`.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use ovms_canlog::{open, ReadOptions};
use ovms_vehicles::dbc::{Dbc, LoadOptions};

const TARGET_FRAMES: usize = 200_000;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let log = root
        .join("scenarios/logs/kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv");
    let dbc = root.join("scenarios/dbc/kona-ev_pcan.dbc");
    let db = Dbc::load(&dbc, LoadOptions { lenient: true }).expect("DBC");
    let base: Vec<(u32, bool, Vec<u8>)> = open(&log, &ReadOptions::default())
        .expect("log")
        .frames()
        .map(|f| f.expect("frame"))
        .filter(|f| f.bus == 0)
        .map(|f| (f.id, f.extended, f.data))
        .collect();
    let mut frames = Vec::with_capacity(TARGET_FRAMES + base.len());
    while frames.len() < TARGET_FRAMES {
        frames.extend(base.iter().cloned());
    }
    let n = frames.len();

    let mut out: Vec<(u16, f64)> = Vec::with_capacity(64);
    let mut best = f64::MAX;
    let mut signals = 0usize;
    for _ in 0..7 {
        let t0 = Instant::now();
        let mut acc = 0.0f64;
        signals = 0;
        for (id, ext, data) in &frames {
            out.clear();
            if db.decode(*id, *ext, data, &mut out).is_some() {
                signals += out.len();
                for &(_, v) in &out {
                    acc += v;
                }
            }
        }
        black_box(acc);
        best = best.min(t0.elapsed().as_secs_f64());
    }
    let ours = n as f64 / best;
    println!(
        "ours:     {n} frames, {signals} signals, best of 7: {:.4} s = {:.0} frames/s",
        best, ours
    );

    let py = Command::new("python3")
        .arg(root.join("ci/cantools_decode.py"))
        .arg(&log)
        .arg("--dbc")
        .arg(&dbc)
        .arg("--bus")
        .arg("0")
        .arg("--bench-frames")
        .arg(TARGET_FRAMES.to_string())
        .output();
    let theirs = match py {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            let fps: f64 = text
                .split_whitespace()
                .nth(1)
                .and_then(|x| x.parse().ok())
                .expect("cantools_fps line");
            println!("cantools: {}", text.trim());
            fps
        }
        Ok(o) => panic!(
            "cantools bench failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("python3 not runnable ({e}); pip install cantools"),
    };
    println!("ratio ours/cantools: {:.1}x (target >= 50x)", ours / theirs);
}
