//! Cross-check of our DBC decoder against cantools on every frame of every shared log that has a
//! DBC. `ci/cantools_decode.py` prints cantools' decode in the `dbc decode --jsonl` schema; we run
//! our `dbc decode` path (`cli::decode_to`) on the same log and DBC(s) and compare line by line:
//! same frames, same message, same signal set, values equal within 1e-9 relative.
//!
//! Explained differences (counted and asserted, not skipped):
//! - a multiplexed frame whose switch value no signal is defined for: cantools raises
//!   `expected multiplexer id …` and gives no signals (the script prints `"error"`); we output the
//!   plain signals only (the switch included). The test accepts exactly that and counts it
//!   (`unknown_mux`); none of the shared logs currently hits it.
//! - messages with overlapping signals (i3 LIM `LIMMsg3B4`, 0x3B4): cantools' whole-message
//!   unpack fails ("unpacking failed"), so the script decodes each signal with cantools on its own
//!   (`"fallback": "per-signal"`); those values are compared like any other (`per_signal`).
//! - DBC repairs cantools needs to load the files at all are done by the script (missing
//!   `BS_:`/`BU_:` in the Kona DBCs, the `VAL_ 568 UI_mapSpeedLimit` line of tesla_can.dbc); we load
//!   the untouched files in lenient mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ovms_vehicles::cli::{decode_to, DbcDecodeArgs};
use ovms_vehicles::dbc::{Dbc, LoadOptions, Mux};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn logp(name: &str) -> PathBuf {
    root().join("scenarios/logs").join(name)
}

fn dbcp(name: &str) -> PathBuf {
    root().join("scenarios/dbc").join(name)
}

fn cantools(log: &Path, dbcs: &[PathBuf], bus: Option<u8>) -> Vec<Value> {
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("ci/cantools_decode.py")).arg(log);
    for d in dbcs {
        cmd.arg("--dbc").arg(d);
    }
    if let Some(b) = bus {
        cmd.arg("--bus").arg(b.to_string());
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run python3 ({e}); install Python 3 and `pip install cantools`"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) || stderr.contains("No module named") {
        panic!("cantools is not available: pip install cantools\n{stderr}");
    }
    assert!(out.status.success(), "cantools_decode.py failed: {stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON from cantools ({e}): {l}"))
        })
        .collect()
}

fn ours(log: &Path, dbcs: &[PathBuf], bus: Option<u8>) -> Vec<Value> {
    let args = DbcDecodeArgs {
        log: log.to_path_buf(),
        dbc: dbcs.to_vec(),
        bus,
        jsonl: true,
        lenient: true,
    };
    let mut out = Vec::new();
    let mut warn = Vec::new();
    decode_to(&args, &mut out, &mut warn).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[derive(Debug, Default)]
struct Outcome {
    frames: usize,
    signals: usize,
    unknown_mux: usize,
    per_signal: usize,
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Compares one case; panics with the first disagreement.
fn compare(log: &str, dbcs: &[&str], bus: Option<u8>) -> Outcome {
    let log = logp(log);
    let dbcs: Vec<PathBuf> = dbcs.iter().map(|d| dbcp(d)).collect();
    let db = Dbc::load_all(&dbcs, LoadOptions { lenient: true }).unwrap();
    let theirs = cantools(&log, &dbcs, bus);
    let mine = ours(&log, &dbcs, bus);
    let case = format!("{} × {:?} bus {:?}", log.display(), dbcs, bus);
    assert_eq!(
        mine.len(),
        theirs.len(),
        "{case}: decoded frame counts differ"
    );
    let mut o = Outcome::default();
    for (k, (m, t)) in mine.iter().zip(&theirs).enumerate() {
        let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5, "{case}: line {k} keys {keys:?}");
        for key in ["bus", "id", "msg"] {
            assert_eq!(
                m[key], t[key],
                "{case}: line {k} `{key}`: ours {m} cantools {t}"
            );
        }
        let (mts, tts) = (m["ts"].as_f64().unwrap(), t["ts"].as_f64().unwrap());
        assert!(
            (mts - tts).abs() < 1e-6,
            "{case}: line {k} ts {mts} vs {tts}"
        );
        o.frames += 1;
        let msg_idx = db.find_by_name(m["msg"].as_str().unwrap()).unwrap();
        let msg = &db.messages()[msg_idx];
        if let Some(err) = t.get("error") {
            // cantools refused the frame: only an unknown multiplexer value is an accepted reason.
            let err = err.as_str().unwrap();
            assert!(
                err.starts_with("expected multiplexer id"),
                "{case}: line {k}: cantools error {err}"
            );
            let switch = msg
                .signals
                .iter()
                .find(|s| s.mux == Mux::Switch)
                .expect("multiplexed message");
            let value = m["signals"][&switch.name].as_f64().expect("switch decoded") as u64;
            assert!(
                !db.compiled(msg_idx).knows_mux_value(value),
                "{case}: line {k}: mux {value} is known"
            );
            for name in m["signals"].as_object().unwrap().keys() {
                let s = msg.signal(name).unwrap();
                assert!(
                    !matches!(s.mux, Mux::Value(_)),
                    "{case}: line {k}: muxed signal {name} emitted"
                );
            }
            o.unknown_mux += 1;
            continue;
        }
        if t.get("fallback").is_some() {
            // Only messages with overlapping signals need cantools' per-signal decode.
            let bits: Vec<Vec<u32>> = msg
                .signals
                .iter()
                .map(|s| ovms_vehicles::dbc::model::occupied_bits(s.start, s.len, s.order))
                .collect();
            let overlap = bits
                .iter()
                .enumerate()
                .any(|(i, a)| bits[..i].iter().any(|b| a.iter().any(|x| b.contains(x))));
            assert!(
                overlap,
                "{case}: line {k}: per-signal fallback for {} without overlap",
                msg.name
            );
            o.per_signal += 1;
        }
        let ms: BTreeMap<&String, f64> = m["signals"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k, v.as_f64().unwrap()))
            .collect();
        let ts: BTreeMap<&String, f64> = t["signals"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k, v.as_f64().unwrap()))
            .collect();
        assert_eq!(
            ms.keys().collect::<Vec<_>>(),
            ts.keys().collect::<Vec<_>>(),
            "{case}: line {k}: signal sets differ\nours {m}\ncantools {t}"
        );
        for (name, v) in &ms {
            let w = ts[name];
            assert!(
                close(*v, w),
                "{case}: line {k} signal {name}: ours {v} cantools {w}"
            );
            o.signals += 1;
        }
    }
    eprintln!("{case}: {o:?}");
    o
}

#[test]
fn tesla_model_s_all_three_formats() {
    let dbcs = [
        "tesla-model-s_opendbc_tesla_can.dbc",
        "tesla-model-s_opendbc_tesla_powertrain.dbc",
    ];
    let mut counts = Vec::new();
    for log in [
        "tesla-model-s_savvycan-example.candump.log",
        "tesla-model-s_savvycan-example.crtd.txt",
        "tesla-model-s_savvycan-example.gvret.csv",
    ] {
        let o = compare(log, &dbcs, None);
        assert!(o.frames > 1000 && o.signals > 5000, "{log}: {o:?}");
        counts.push((o.frames, o.signals, o.unknown_mux));
    }
    // The three files hold the same capture: identical decode counts.
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
}

#[test]
fn kona_2019_pcan_and_ccan() {
    let log = "kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv";
    let p = compare(log, &["kona-ev_pcan.dbc"], Some(0));
    assert!(p.frames > 20_000, "{p:?}");
    let c = compare(log, &["kona-ev_ccan.dbc"], Some(1));
    assert!(c.frames > 100, "{c:?}");
}

#[test]
fn kona_2021_pcan_and_bcan() {
    let log = "kona-ev-2021_221217-1-pcan-bcan-no-key.gvret.csv";
    let p = compare(log, &["kona-ev_pcan.dbc"], Some(0));
    assert!(p.frames > 5_000, "{p:?}");
    let b = compare(log, &["kona-ev_bcan.dbc"], Some(1));
    assert!(b.frames > 100, "{b:?}");
}

#[test]
fn kona_heater_comp_can() {
    let o = compare(
        "kona-ev-2020_250105-1-comp-can-heating.gvret.csv",
        &["kona-ev_comp_can.dbc"],
        None,
    );
    assert!(o.frames > 10_000, "{o:?}");
}

#[test]
fn bmw_i3_logs_with_lim_dbc() {
    for log in [
        "bmw-i3-2019_ptcan-startup.gvret.csv",
        "bmw-i3-2019_ptcan-dc-charge-circontrol-mid.gvret.csv",
        "bmw-i3-2015rex_ptcan-ac-charge-start-end-69pct.gvret.csv",
    ] {
        let o = compare(log, &["bmw-i3_LIM.dbc"], None);
        assert!(o.frames > 100, "{log}: {o:?}");
        if log.starts_with("bmw-i3-2019_ptcan-startup") {
            assert!(
                o.per_signal > 0,
                "0x3B4 frames exercise the overlapping-signal path: {o:?}"
            );
        }
    }
}

#[test]
fn leaf_inverter_with_ev_can_dbcs() {
    for dbc in [
        "nissan-leaf_EV-can_ZE0.dbc",
        "nissan-leaf_EV-can_AZE0.dbc",
        "nissan-leaf_EV-can_ZE1.dbc",
    ] {
        let o = compare(
            "nissan-leaf-gen3-inverter_bench-from-cold.gvret.csv",
            &[dbc],
            None,
        );
        assert!(o.frames > 1000, "{dbc}: {o:?}");
    }
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Every message of every shipped DBC on pseudo-random frames (random bytes, random DLC 0..=8 so
/// truncated frames occur, multiplexer values both known and unknown), written as a candump log:
/// covers every signal layout of the shipped DBCs, not only those the logs happen to contain.
#[test]
fn every_message_of_every_dbc_on_random_frames() {
    let dir = std::env::temp_dir().join(format!("ovms-vehicles-agreement-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(root().join("scenarios/dbc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".dbc"))
        .collect();
    names.sort();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut total = Outcome::default();
    for name in &names {
        let db = Dbc::load(&dbcp(name), LoadOptions { lenient: true }).unwrap();
        let mut text = String::new();
        let mut t = 0.0f64;
        for m in db.messages() {
            let switch = m.signals.iter().find(|s| s.mux == Mux::Switch);
            for k in 0..24 {
                let dlc = if k % 3 == 0 {
                    (rng.next() % 9) as usize
                } else {
                    m.len.min(8) as usize
                };
                let mut data: Vec<u8> = (0..dlc).map(|_| rng.next() as u8).collect();
                // Steer half of the multiplexed frames to a defined switch value (8-bit Intel
                // switches at bit 0 are the common case; others stay random).
                if let (Some(sw), true, false) = (switch, k % 2 == 0, data.is_empty()) {
                    if sw.start == 0
                        && sw.len <= 8
                        && sw.order == ovms_vehicles::dbc::ByteOrder::LittleEndian
                    {
                        let values: Vec<u64> = m
                            .signals
                            .iter()
                            .filter_map(|s| {
                                if let Mux::Value(v) = s.mux {
                                    Some(v)
                                } else {
                                    None
                                }
                            })
                            .collect();
                        if !values.is_empty() {
                            let v = values[(rng.next() % values.len() as u64) as usize];
                            let mask = ((1u16 << sw.len) - 1) as u8;
                            data[0] = (data[0] & !mask) | (v as u8 & mask);
                        }
                    }
                }
                let hex: String = data.iter().map(|b| format!("{b:02X}")).collect();
                let id = if m.extended {
                    format!("{:08X}", m.id)
                } else {
                    format!("{:03X}", m.id)
                };
                t += 0.001;
                text.push_str(&format!("({t:.6}) can0 {id}#{hex}\n"));
            }
        }
        let log = dir.join(format!("{name}.candump.log"));
        std::fs::write(&log, text).unwrap();
        let o = compare(log.to_str().unwrap(), &[name], None);
        assert_eq!(o.frames, db.messages().len() * 24, "{name}");
        total.frames += o.frames;
        total.signals += o.signals;
        total.unknown_mux += o.unknown_mux;
        total.per_signal += o.per_signal;
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("all DBCs: {total:?}");
    assert!(total.unknown_mux > 0 && total.per_signal > 0, "{total:?}");
}
