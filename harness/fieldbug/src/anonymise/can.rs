//! CAN logs: drop VIN frames, zero or drop GPS frames, replace identifying `CMT Metric` values.

use std::path::Path;

use ovms_canlog::{Format, ReadOptions, Record};

use super::rules::{Identifying, IdentifyingRules};
use super::{AnonymiseError, AnonymiseReport};

/// What to do with GPS position frames (the same for every one of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GpsPolicy {
    /// Zero the position bytes/bits (the decoder then reads 0, 0 throughout).
    #[default]
    Zero,
    /// Drop the frames.
    Drop,
}

/// Options of [`anonymise_log`].
#[derive(Clone, Debug, Default)]
pub struct AnonymiseLogOptions {
    /// GPS frames: zero or drop.
    pub gps: GpsPolicy,
    /// Output format; `None` = the input's format when writable, else CRTD.
    pub format: Option<Format>,
    /// Skip unreadable records of the input instead of failing.
    pub lenient: bool,
}

/// Reads `input`, writes the anonymised log to `output` and says what changed.
///
/// Counted kinds: `vin frames dropped`, `gps frames zeroed` / `gps frames dropped`,
/// `<metric> metric records replaced` (CRTD `CMT Metric`), `records not representable`.
pub fn anonymise_log(
    input: &Path,
    output: &Path,
    rules: &IdentifyingRules,
    opts: &AnonymiseLogOptions,
) -> Result<AnonymiseReport, AnonymiseError> {
    if same_file(input, output) {
        return Err(AnonymiseError::SameFile(output.to_path_buf()));
    }
    let reader = ovms_canlog::open(input, &ReadOptions::default().lenient(opts.lenient))?;
    let format = opts.format.unwrap_or_else(|| {
        let f = reader.format();
        if f.is_writable() {
            f
        } else {
            Format::Crtd
        }
    });
    let werr = |source| AnonymiseError::Write {
        path: output.to_path_buf(),
        source,
    };
    let mut w = ovms_canlog::create(output, format).map_err(werr)?;
    let mut report = AnonymiseReport::default();
    for rec in reader {
        let mut rec = rec?;
        report.records_in += 1;
        match &mut rec {
            Record::Frame(f) => {
                if let Some(rule) = rules.rule_for(f.bus, f.id, f.extended, &f.data) {
                    match (rule.kind, opts.gps) {
                        (Identifying::Vin, _) => {
                            report.count("vin frames dropped");
                            continue;
                        }
                        (Identifying::Gps, GpsPolicy::Drop) => {
                            report.count("gps frames dropped");
                            continue;
                        }
                        (Identifying::Gps, GpsPolicy::Zero) => {
                            rule.zero(&mut f.data);
                            report.count("gps frames zeroed");
                        }
                    }
                }
            }
            Record::Metric { name, value, .. } => {
                if let Some(fake) = rules.metrics.get(name.as_str()) {
                    let json = serde_json::Value::String(fake.clone()).to_string();
                    if *value != json {
                        *value = json;
                        report.count(&format!("{name} metric records replaced"));
                    }
                }
            }
            Record::Event { .. } | Record::Comment { .. } => {}
        }
        if w.write_record(&rec).map_err(werr)? {
            report.records_out += 1;
        } else {
            report.count("records not representable in the output format");
        }
    }
    w.finish().map_err(werr)?;
    Ok(report)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovms_canlog::{Frame, RecordWriter};
    use std::path::PathBuf;

    fn data(p: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
    }

    fn roadster() -> IdentifyingRules {
        IdentifyingRules::for_vehicle("tesla-roadster", &data("scenarios/vehicles")).unwrap()
    }

    fn frames(path: &Path) -> Vec<Frame> {
        ovms_canlog::open(path, &ReadOptions::default())
            .unwrap()
            .frames()
            .map(|f| f.unwrap())
            .collect()
    }

    /// A Roadster log with a VIN (SFZRE8B17B3000000, made up), GPS positions and ordinary frames.
    fn synthetic_log(dir: &Path) -> PathBuf {
        let p = dir.join("in.crtd");
        let mut w = ovms_canlog::create(&p, Format::Crtd).unwrap();
        let vin = b"SFZRE8B17B3000000";
        let mut t = 1_000_000_000i64;
        let mut put = |w: &mut Box<dyn RecordWriter>, d: &[u8]| {
            w.write_frame(&Frame::new(t, 0, 0x100, d)).unwrap();
            t += 100_000_000;
        };
        for _ in 0..2 {
            put(&mut w, &[0x80, 95, 0x20, 0x01, 0, 0, 0x10, 0x01]);
            let mut a4 = vec![0xA4];
            a4.extend_from_slice(&vin[0..7]);
            put(&mut w, &a4);
            let mut a5 = vec![0xA5];
            a5.extend_from_slice(&vin[7..14]);
            put(&mut w, &a5);
            let mut a6 = vec![0xA6];
            a6.extend_from_slice(&vin[14..17]);
            put(&mut w, &a6);
            // 37.4 N, -122.1 W as the Roadster encodes them (× 2048 × 3600).
            let lat = (37.4f64 * 2048.0 * 3600.0) as i32;
            let lon = (-122.1f64 * 2048.0 * 3600.0) as i32;
            let mut g = vec![0x83, 0, 0, 0];
            g.extend_from_slice(&lat.to_le_bytes());
            put(&mut w, &g);
            let mut g = vec![0x84, 0, 0, 0];
            g.extend_from_slice(&lon.to_le_bytes());
            put(&mut w, &g);
        }
        w.write_record(&Record::Metric {
            ts_ns: t,
            name: "v.vin".into(),
            value: "\"SFZRE8B17B3000000\"".into(),
        })
        .unwrap();
        w.finish().unwrap();
        p
    }

    #[test]
    fn synthetic_vin_and_gps_are_removed_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let input = synthetic_log(dir.path());
        let out = dir.path().join("out.crtd");
        let rep =
            anonymise_log(&input, &out, &roadster(), &AnonymiseLogOptions::default()).unwrap();
        assert_eq!(rep.get("vin frames dropped"), 6);
        assert_eq!(rep.get("gps frames zeroed"), 4);
        assert_eq!(rep.get("v.vin metric records replaced"), 1);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(!text.contains("SFZRE8B17B3000000"));
        assert!(text.contains("ANONYMISEDVIN0000"));
        let fr = frames(&out);
        assert_eq!(fr.len(), 6, "2 × (soc + lat + lon)");
        assert!(fr.iter().all(|f| !matches!(f.data[0], 0xA4..=0xA6)));
        for f in fr.iter().filter(|f| matches!(f.data[0], 0x83 | 0x84)) {
            assert_eq!(&f.data[4..8], &[0, 0, 0, 0]);
        }
        // The SOC frame is untouched, byte for byte and time for time.
        let orig = frames(&input);
        assert_eq!(fr[0], orig[0]);

        // The decoder no longer learns the VIN or a position.
        let mut v = ovms_vehicles::TeslaRoadster::new();
        let mut tl = ovms_vehicles::fold::Timeline::new();
        let mut outp = Vec::new();
        use ovms_firmware::vehicle::{CanFrame, Vehicle};
        for f in &fr {
            v.handle_frame(
                ovms_firmware::time::Instant::from_millis((f.ts_ns / 1_000_000) as u64),
                CanFrame {
                    bus: f.bus,
                    id: f.id,
                    extended: f.extended,
                    data: &f.data,
                },
                &mut outp,
            );
            tl.apply(f.ts_secs(), &mut outp);
        }
        assert_eq!(tl.current("v.vin"), None);
        assert_eq!(tl.current("v.p.latitude").as_deref(), Some("0"));
        assert_eq!(tl.current("v.b.soc").as_deref(), Some("95"));
    }

    #[test]
    fn gps_can_be_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let input = synthetic_log(dir.path());
        let out = dir.path().join("out.log");
        let opts = AnonymiseLogOptions {
            gps: GpsPolicy::Drop,
            format: Some(Format::Candump),
            lenient: false,
        };
        let rep = anonymise_log(&input, &out, &roadster(), &opts).unwrap();
        assert_eq!(rep.get("gps frames dropped"), 4);
        // candump holds neither the metric record nor the two CRTD header comments.
        assert_eq!(rep.get("records not representable in the output format"), 3);
        assert_eq!(frames(&out).len(), 2);
    }

    #[test]
    fn real_roadster_log_is_unchanged_but_converted() {
        let dir = tempfile::tempdir().unwrap();
        let input = data("scenarios/logs/tesla-roadster_20120218.drive-a.csv");
        let out = dir.path().join("drive.crtd");
        let rep =
            anonymise_log(&input, &out, &roadster(), &AnonymiseLogOptions::default()).unwrap();
        assert!(
            rep.changes
                .keys()
                .all(|k| !k.contains("vin") && !k.contains("gps")),
            "{rep}"
        );
        let a = frames(&input);
        let b = frames(&out);
        assert_eq!(a.len(), b.len());
        assert_eq!(a.len(), 12469);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.id, &x.data), (y.id, &y.data));
            assert_eq!(x.ts_ns / 1000, y.ts_ns / 1000);
        }
    }

    #[test]
    fn bad_input_is_located_and_same_file_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.crtd");
        std::fs::write(&bad, "1.0 CXX OVMS CRTD\n1.5 1R11 1G0 zz\n").unwrap();
        let e = anonymise_log(
            &bad,
            &dir.path().join("o.crtd"),
            &roadster(),
            &AnonymiseLogOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("bad.crtd:2:"), "{e}");
        let e =
            anonymise_log(&bad, &bad, &roadster(), &AnonymiseLogOptions::default()).unwrap_err();
        assert!(matches!(e, AnonymiseError::SameFile(_)));
    }

    #[test]
    fn real_model_s_log_has_its_position_signals_zeroed() {
        let dir = tempfile::tempdir().unwrap();
        let input = data("scenarios/logs/tesla-model-s_savvycan-example.candump.log");
        let out = dir.path().join("model-s.log");
        let rules =
            IdentifyingRules::for_vehicle("tesla-model-s", &data("scenarios/vehicles")).unwrap();
        let rep = anonymise_log(&input, &out, &rules, &AnonymiseLogOptions::default()).unwrap();
        // MCU_locationStatus (0x3D8) appears 85 times in the log.
        assert_eq!(rep.get("gps frames zeroed"), 85, "{rep}");
        let (a, b) = (frames(&input), frames(&out));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.id, y.id);
            if x.id == 0x3D8 {
                assert!(y.data.iter().all(|b| *b == 0), "{:02X?}", y.data);
                assert_eq!(x.data.len(), y.data.len(), "DLC kept");
            } else {
                assert_eq!(x.data, y.data);
            }
        }
        assert!(a
            .iter()
            .any(|f| f.id == 0x3D8 && f.data.iter().any(|b| *b != 0)));
    }
}
