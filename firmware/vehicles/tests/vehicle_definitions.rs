//! YAML vehicle definitions: selection by name/path, replay of real logs through the shipped
//! definitions (values checked against scenarios/MANIFEST.md), and located errors for bad YAML.

use std::path::{Path, PathBuf};

use ovms_canlog::{open, ReadOptions};
use ovms_firmware::time::Instant;
use ovms_firmware::vehicle::CanFrame;
use ovms_vehicles::fold::Timeline;
use ovms_vehicles::{load_vehicle, vehicle_names, VehicleError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vehicles_dir() -> PathBuf {
    root().join("scenarios/vehicles")
}

fn replay(vehicle: &str, log: &str) -> Timeline {
    let mut v = load_vehicle(vehicle, &vehicles_dir()).unwrap_or_else(|e| panic!("{e}"));
    let mut tl = Timeline::new();
    let mut out = Vec::new();
    v.init(Instant::ZERO, &mut out);
    tl.apply(0.0, &mut out);
    let reader = open(
        &root().join("scenarios/logs").join(log),
        &ReadOptions::default(),
    )
    .unwrap();
    for f in reader.frames() {
        let f = f.unwrap();
        let frame = CanFrame {
            bus: f.bus,
            id: f.id,
            extended: f.extended,
            data: &f.data,
        };
        v.handle_frame(Instant::ZERO, frame, &mut out);
        tl.apply(f.ts_secs(), &mut out);
    }
    tl
}

fn payloads(tl: &Timeline, m: &str) -> Vec<String> {
    tl.changes_of(m).into_iter().map(|(_, p)| p).collect()
}

fn floats(tl: &Timeline, m: &str) -> Vec<f64> {
    tl.changes_of(m)
        .into_iter()
        .map(|(_, p)| p.parse().unwrap())
        .collect()
}

#[test]
fn names_and_selection() {
    let names = vehicle_names(&vehicles_dir());
    for n in [
        "bmw-i3",
        "hyundai-kona-ev",
        "tesla-model-s",
        "tesla-roadster",
    ] {
        assert!(names.contains(&n.to_string()), "{names:?}");
    }
    assert_eq!(
        load_vehicle("tesla-roadster", &vehicles_dir())
            .unwrap()
            .type_code(),
        "TR"
    );
    assert_eq!(
        load_vehicle("hyundai-kona-ev", &vehicles_dir())
            .unwrap()
            .type_code(),
        "HIONVFL"
    );
    let by_path = vehicles_dir().join("bmw-i3.yaml");
    assert_eq!(
        load_vehicle(by_path.to_str().unwrap(), Path::new("/nonexistent"))
            .unwrap()
            .type_code(),
        "BMWI3"
    );
    match load_vehicle("nissan-leaf", &vehicles_dir()) {
        Err(VehicleError::Unknown { name, known }) => {
            assert_eq!(name, "nissan-leaf");
            assert!(known.contains(&"tesla-roadster".to_string()));
        }
        other => panic!("{:?}", other.map(|v| v.type_code().to_string())),
    }
}

#[test]
fn kona_2019_log_through_the_definition() {
    let tl = replay(
        "hyundai-kona-ev",
        "kona-ev-2019_230112-7-pcan-ccan-power-off-on-ready-off.gvret.csv",
    );
    assert_eq!(tl.current("v.type").as_deref(), Some("HIONVFL"));
    // MANIFEST: displayed SOC 36.5 % constant, gear P, 12 V 12.1 → 13.4 → 0, ignition 0…4 → 0.
    assert_eq!(payloads(&tl, "v.b.soc"), vec!["36.5"]);
    assert_eq!(payloads(&tl, "v.e.gear"), vec!["0"]);
    let v12 = floats(&tl, "v.b.12v.voltage");
    assert!((v12[0] - 12.1).abs() < 1e-4, "{v12:?}");
    assert!(v12.iter().any(|v| (v - 13.4).abs() < 1e-4), "{v12:?}");
    assert_eq!(*v12.last().unwrap(), 0.0);
    let awake = payloads(&tl, "v.e.awake");
    assert_eq!(awake.first().map(String::as_str), Some("no"));
    assert!(awake.contains(&"yes".to_string()));
    assert_eq!(awake.last().map(String::as_str), Some("no"));
}

#[test]
fn bmw_i3_logs_through_the_definition() {
    let tl = replay("bmw-i3", "bmw-i3-2019_ptcan-startup.gvret.csv");
    // MANIFEST: HV SOC 45.4 → 45.3 %, pack ~350.5 V, current −0.5…−3.5 A (i3 sign) → +0.5…+3.5 A.
    assert_eq!(payloads(&tl, "v.b.soc"), vec!["45.4", "45.3"]);
    let v = floats(&tl, "v.b.voltage");
    assert!(v.iter().all(|x| (x - 350.5).abs() < 3.0), "{v:?}");
    let i = floats(&tl, "v.b.current");
    assert!(i.iter().all(|x| (-0.1..=3.6).contains(x)), "{i:?}");
    let tl = replay(
        "bmw-i3",
        "bmw-i3-2019_ptcan-dc-charge-circontrol-mid.gvret.csv",
    );
    // MANIFEST: charging power ~45.1–45.35 kW (0x3E9), HV SOC 45.9 → 46.1 %.
    let p = floats(&tl, "v.c.power");
    assert!(
        !p.is_empty() && p.iter().all(|x| (45.0..=45.4).contains(x)),
        "{p:?}"
    );
    let soc = floats(&tl, "v.b.soc");
    assert_eq!((soc[0], *soc.last().unwrap()), (45.9, 46.1));
}

#[test]
fn tesla_model_s_log_through_the_definition() {
    let tl = replay("tesla-model-s", "tesla-model-s_savvycan-example.gvret.csv");
    assert_eq!(tl.current("v.type").as_deref(), Some("TS"));
    // DI_gear 4 = D in the capture; doors from GTW_carState (FL is SNA = 3 → not stored).
    assert_eq!(tl.current("v.e.gear").as_deref(), Some("1"));
    assert_eq!(tl.current("v.d.fr").as_deref(), Some("yes"));
    assert_eq!(tl.current("v.d.fl"), None);
    assert!(tl.current("v.p.speed").is_some());
}

fn write_case(dir: &Path, yaml: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let dbc = "VERSION \"\"\nNS_ :\nBS_:\nBU_: A\nBO_ 256 Status: 8 A\n SG_ Valid : 0|1@1+ (1,0) [0|1] \"\" A\n \
               SG_ Speed : 8|16@1+ (0.01,0) [0|655] \"mph\" A\n SG_ Mode : 24|8@1+ (1,0) [0|255] \"\" A\n";
    std::fs::write(dir.join("t.dbc"), dbc).unwrap();
    let p = dir.join("v.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

#[test]
fn conditions_conversions_and_value_maps() {
    let dir = std::env::temp_dir().join(format!("ovms-vehicles-def-{}", std::process::id()));
    let yaml = "name: T\ntype: TT\ndbc:\n  - { file: t.dbc, bus: 0 }\nmetrics:\n  \
                - { metric: v.p.speed, message: Status, signal: Speed, convert: mph_to_kmh, when: { signal: Valid, equals: 1 } }\n  \
                - { metric: v.c.mode, message: Status, signal: Mode, kind: string, map: { 0: standard, 3: range }, default: \"\" }\n";
    let p = write_case(&dir, yaml);
    let mut v = load_vehicle(p.to_str().unwrap(), &dir).unwrap();
    let mut tl = Timeline::new();
    let mut out = Vec::new();
    let mut feed = |data: &[u8], tl: &mut Timeline| {
        v.handle_frame(
            Instant::ZERO,
            CanFrame {
                bus: 0,
                id: 256,
                extended: false,
                data,
            },
            &mut out,
        );
        tl.apply(0.0, &mut out);
    };
    // Valid = 0: speed not stored; mode 3 → range.
    feed(&[0, 0x10, 0x27, 3, 0, 0, 0, 0], &mut tl);
    assert_eq!(tl.current("v.p.speed"), None);
    assert_eq!(tl.current("v.c.mode").as_deref(), Some("range"));
    // Valid = 1: 100.00 mph → 160.935 km/h (firmware factor 1.609347); unmapped mode → default "".
    feed(&[1, 0x10, 0x27, 9, 0, 0, 0, 0], &mut tl);
    assert_eq!(tl.current("v.p.speed").as_deref(), Some("160.935"));
    assert_eq!(tl.current("v.c.mode").as_deref(), Some(""));
    // Other bus: ignored.
    v.handle_frame(
        Instant::ZERO,
        CanFrame {
            bus: 1,
            id: 256,
            extended: false,
            data: &[1, 0, 0, 0],
        },
        &mut out,
    );
    assert!(out.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_definitions_give_file_line_column() {
    let dir = std::env::temp_dir().join(format!("ovms-vehicles-bad-{}", std::process::id()));
    let cases = [
        // Unknown field (deny_unknown_fields).
        ("name: T\ntype: TT\ndbc: []\nmetrics: []\ncolour: red\n", ":5:1:", "colour"),
        // Unknown signal: points at the signal value.
        (
            "name: T\ntype: TT\ndbc:\n  - { file: t.dbc }\nmetrics:\n  - metric: v.b.soc\n    message: Status\n    signal: Nope\n",
            ":8:13:",
            "has no signal `Nope`",
        ),
        // Unknown message.
        (
            "name: T\ntype: TT\ndbc:\n  - { file: t.dbc }\nmetrics:\n  - metric: v.b.soc\n    message: Nope\n    signal: Speed\n",
            ":7:14:",
            "no DBC message `Nope`",
        ),
        // Missing DBC file.
        ("name: T\ntype: TT\ndbc:\n  - file: missing.dbc\nmetrics: []\n", ":4:11:", "not found"),
        // Bad kind.
        (
            "name: T\ntype: TT\ndbc:\n  - { file: t.dbc }\nmetrics:\n  - { metric: x, message: Status, signal: Mode, kind: text }\n",
            ":6:",
            "text",
        ),
        // String without map.
        (
            "name: T\ntype: TT\ndbc:\n  - { file: t.dbc }\nmetrics:\n  - { metric: x, message: Status, signal: Mode, kind: string }\n",
            ":6:",
            "needs a `map`",
        ),
    ];
    for (yaml, loc, what) in cases {
        let p = write_case(&dir, yaml);
        let err = match load_vehicle(p.to_str().unwrap(), &dir) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {yaml}"),
        };
        assert!(err.starts_with(&p.display().to_string()), "{err}");
        assert!(err.contains(loc), "want {loc} in: {err}");
        assert!(err.contains(what), "want {what} in: {err}");
    }
    // A broken DBC named by the definition: the DBC's own FILE:LINE:COL.
    let p = write_case(
        &dir,
        "name: T\ntype: TT\ndbc:\n  - { file: t.dbc }\nmetrics: []\n",
    );
    std::fs::write(
        dir.join("t.dbc"),
        "VERSION \"\"\nBO_ 1 X: 8 A\n SG_ S : 0|8@1+ (1,0) [0|1] A\n",
    )
    .unwrap();
    let err = load_vehicle(p.to_str().unwrap(), &dir)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("t.dbc:3:29: expected unit string"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
