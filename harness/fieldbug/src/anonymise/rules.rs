//! The identifying list (`data/identifying.yaml`, compiled in) resolved for one vehicle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ovms_vehicles::dbc::{model::occupied_bits, Dbc, LoadOptions};
use ovms_vehicles::definition::VehicleDefinition;
use serde::Deserialize;

/// The shipped identifying list.
pub const IDENTIFYING_YAML: &str = include_str!("../../data/identifying.yaml");

/// Why the rules could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The list itself is malformed (`file:line:col: message`).
    #[error("{origin}:{line}:{col}: {message}")]
    Yaml {
        /// Where the list came from.
        origin: String,
        /// Line.
        line: u64,
        /// Column.
        col: u64,
        /// What is wrong.
        message: String,
    },
    /// The vehicle has no identifying list.
    #[error("no identifying list for vehicle `{name}` (known: {}); add it to harness/fieldbug/data/identifying.yaml", known.join(", "))]
    UnknownVehicle {
        /// Vehicle asked for.
        name: String,
        /// Vehicles listed.
        known: Vec<String>,
    },
    /// A DBC rule needs the vehicle definition, which failed to load.
    #[error(transparent)]
    Vehicle(#[from] ovms_vehicles::VehicleError),
    /// A DBC rule names a message or signal the vehicle's DBC files do not define.
    #[error("vehicle `{vehicle}`: {what} is not in its DBC files")]
    Unresolved {
        /// Vehicle.
        vehicle: String,
        /// The message or signal.
        what: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    vehicles: BTreeMap<String, VehicleList>,
    metrics: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VehicleList {
    #[serde(default)]
    vin: Vec<RuleSpec>,
    #[serde(default)]
    gps: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    #[serde(default)]
    id: Option<u32>,
    #[serde(default)]
    extended: bool,
    #[serde(default)]
    bus: Option<u8>,
    #[serde(default)]
    mux_byte: Option<usize>,
    #[serde(default)]
    mux: Vec<u8>,
    #[serde(default)]
    bytes: Vec<usize>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    signals: Vec<String>,
}

/// What identifying content a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identifying {
    /// The VIN (or part of it).
    Vin,
    /// A GPS position.
    Gps,
}

/// One resolved frame rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameRule {
    /// VIN or GPS.
    pub kind: Identifying,
    /// Bus, when the rule is bus-specific.
    pub bus: Option<u8>,
    /// Identifier.
    pub id: u32,
    /// 29-bit identifier.
    pub extended: bool,
    /// `(byte index, values)`: the frame matches when `data[index]` is one of the values.
    pub mux: Option<(usize, Vec<u8>)>,
    /// Bits (byte·8 + bit) to zero; empty = the whole payload.
    pub bits: Vec<u32>,
}

impl FrameRule {
    /// Whether the frame matches this rule.
    pub fn matches(&self, bus: u8, id: u32, extended: bool, data: &[u8]) -> bool {
        self.id == id
            && self.extended == extended
            && self.bus.is_none_or(|b| b == bus)
            && match &self.mux {
                Some((i, vals)) => data.get(*i).is_some_and(|b| vals.contains(b)),
                None => true,
            }
    }

    /// Zeroes the identifying part of `data` in place.
    pub fn zero(&self, data: &mut [u8]) {
        if self.bits.is_empty() {
            // Keep a multiplexer byte so the frame still reads as what it was.
            let keep = self.mux.as_ref().map(|(i, _)| *i);
            for (i, b) in data.iter_mut().enumerate() {
                if Some(i) != keep {
                    *b = 0;
                }
            }
            return;
        }
        for &bit in &self.bits {
            let (byte, b) = ((bit / 8) as usize, bit % 8);
            if let Some(v) = data.get_mut(byte) {
                *v &= !(1u8 << b);
            }
        }
    }
}

/// The identifying list of one vehicle, resolved to frame rules, plus the metric replacements.
#[derive(Clone, Debug, Default)]
pub struct IdentifyingRules {
    /// Vehicle name.
    pub vehicle: String,
    /// Frame rules.
    pub frames: Vec<FrameRule>,
    /// Metric name → fixed fake payload.
    pub metrics: BTreeMap<String, String>,
}

fn parse_list(text: &str, origin: &str) -> Result<ListFile, RulesError> {
    serde_saphyr::from_str(text).map_err(|e| {
        let (line, col) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        RulesError::Yaml {
            origin: origin.to_string(),
            line,
            col,
            message: e
                .without_snippet()
                .to_string()
                .lines()
                .next()
                .unwrap_or("invalid YAML")
                .to_string(),
        }
    })
}

impl IdentifyingRules {
    /// Vehicles the shipped list covers.
    pub fn known_vehicles() -> Vec<String> {
        parse_list(IDENTIFYING_YAML, "identifying.yaml")
            .map(|l| l.vehicles.into_keys().collect())
            .unwrap_or_default()
    }

    /// Only the metric replacements (for captures, where no vehicle is needed).
    pub fn metrics_only() -> Result<BTreeMap<String, String>, RulesError> {
        Ok(parse_list(IDENTIFYING_YAML, "identifying.yaml")?.metrics)
    }

    /// The shipped rules for `vehicle` (a name; a definition path resolves by its file stem).
    /// DBC rules load the definition from `vehicles_dir/NAME.yaml` (or the path itself).
    pub fn for_vehicle(vehicle: &str, vehicles_dir: &Path) -> Result<Self, RulesError> {
        Self::from_yaml(
            IDENTIFYING_YAML,
            "harness/fieldbug/data/identifying.yaml",
            vehicle,
            vehicles_dir,
        )
    }

    /// Rules from a list in `text` (same format as the shipped file).
    pub fn from_yaml(
        text: &str,
        origin: &str,
        vehicle: &str,
        vehicles_dir: &Path,
    ) -> Result<Self, RulesError> {
        let mut list = parse_list(text, origin)?;
        let as_path = Path::new(vehicle);
        let name = if matches!(
            as_path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            as_path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(vehicle)
                .to_string()
        } else {
            vehicle.to_string()
        };
        let known: Vec<String> = list.vehicles.keys().cloned().collect();
        let Some(v) = list.vehicles.remove(&name) else {
            return Err(RulesError::UnknownVehicle { name, known });
        };
        let mut dbc: Option<Dbc> = None;
        let mut frames = Vec::new();
        for (kind, specs) in [(Identifying::Vin, v.vin), (Identifying::Gps, v.gps)] {
            for s in specs {
                if let Some(msg) = &s.message {
                    if dbc.is_none() {
                        dbc = Some(load_dbc(vehicle, &name, vehicles_dir)?);
                    }
                    let db = dbc.as_ref().expect("loaded above");
                    let idx = db.find_by_name(msg).ok_or_else(|| RulesError::Unresolved {
                        vehicle: name.clone(),
                        what: format!("message `{msg}`"),
                    })?;
                    let m = &db.messages()[idx];
                    let mut bits = Vec::new();
                    for sig in &s.signals {
                        let sg = m.signal(sig).ok_or_else(|| RulesError::Unresolved {
                            vehicle: name.clone(),
                            what: format!("signal `{msg}.{sig}`"),
                        })?;
                        bits.extend(occupied_bits(sg.start, sg.len, sg.order));
                    }
                    frames.push(FrameRule {
                        kind,
                        bus: s.bus,
                        id: m.id,
                        extended: m.extended,
                        mux: None,
                        bits,
                    });
                } else if let Some(id) = s.id {
                    let bits = s
                        .bytes
                        .iter()
                        .flat_map(|b| (*b as u32 * 8)..(*b as u32 * 8 + 8))
                        .collect();
                    frames.push(FrameRule {
                        kind,
                        bus: s.bus,
                        id,
                        extended: s.extended || id > 0x7FF,
                        mux: s.mux_byte.map(|i| (i, s.mux.clone())),
                        bits,
                    });
                }
            }
        }
        Ok(IdentifyingRules {
            vehicle: name,
            frames,
            metrics: list.metrics,
        })
    }

    /// The first rule a frame matches.
    pub fn rule_for(&self, bus: u8, id: u32, extended: bool, data: &[u8]) -> Option<&FrameRule> {
        self.frames
            .iter()
            .find(|r| r.matches(bus, id, extended, data))
    }
}

fn load_dbc(vehicle: &str, name: &str, vehicles_dir: &Path) -> Result<Dbc, RulesError> {
    let path: PathBuf = if Path::new(vehicle).is_file() {
        PathBuf::from(vehicle)
    } else {
        vehicles_dir.join(format!("{name}.yaml"))
    };
    let def = VehicleDefinition::load(&path)?;
    let lenient = def.dbc.iter().any(|d| d.lenient);
    Ok(
        Dbc::load_all(&def.dbc_paths(&path), LoadOptions { lenient })
            .map_err(ovms_vehicles::VehicleError::from)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vehicles_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/vehicles")
    }

    #[test]
    fn roadster_rules_match_vin_and_gps_frames() {
        let r = IdentifyingRules::for_vehicle("tesla-roadster", &vehicles_dir()).unwrap();
        let vin = r.rule_for(0, 0x100, false, &[0xA5, 0x53, 0x46]).unwrap();
        assert_eq!(vin.kind, Identifying::Vin);
        let gps = r
            .rule_for(0, 0x100, false, &[0x83, 0, 0, 0, 1, 2, 3, 4])
            .unwrap();
        assert_eq!(gps.kind, Identifying::Gps);
        let mut d = [0x83, 9, 9, 9, 1, 2, 3, 4];
        gps.zero(&mut d);
        assert_eq!(d, [0x83, 9, 9, 9, 0, 0, 0, 0]);
        assert!(r.rule_for(0, 0x100, false, &[0x80, 1]).is_none());
        assert!(r.rule_for(0, 0x102, false, &[0xA5]).is_none());
        assert_eq!(r.metrics["v.vin"].len(), 17);
    }

    #[test]
    fn dbc_rules_resolve_signal_bits() {
        let r = IdentifyingRules::for_vehicle("tesla-model-s", &vehicles_dir()).unwrap();
        let loc = r
            .frames
            .iter()
            .find(|f| f.id == 984)
            .expect("MCU_locationStatus is 0x3D8");
        // Latitude 0|28 and longitude 28|29, little endian: bits 0..57.
        assert_eq!(loc.bits.len(), 57);
        let mut d = [0xFF; 8];
        loc.zero(&mut d);
        // Bits 57..64 (gpsAccuracy) survive.
        assert_eq!(d, [0, 0, 0, 0, 0, 0, 0, 0xFE]);
    }

    #[test]
    fn unknown_vehicle_and_bad_lists_are_errors() {
        let e = IdentifyingRules::for_vehicle("no-such-car", &vehicles_dir()).unwrap_err();
        assert!(e.to_string().contains("tesla-roadster"), "{e}");
        let e = IdentifyingRules::from_yaml(
            "vehicles: {x: {vin: [{idd: 1}]}}\nmetrics: {}\n",
            "l.yaml",
            "x",
            &vehicles_dir(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("l.yaml:1:"), "{e}");
        let e = IdentifyingRules::from_yaml(
            "vehicles: {x: {gps: [{message: Nope}]}}\nmetrics: {}\n",
            "l.yaml",
            "tesla-model-s",
            &vehicles_dir(),
        )
        .unwrap_err();
        assert!(matches!(e, RulesError::UnknownVehicle { .. }), "{e}");
    }
}
