//! Vehicle decoders for the emulated OVMS module: DBC-driven vehicles described by YAML files,
//! and the hand-written Tesla Roadster (`TR`).
//!
//! - [`dbc`]: DBC parser (strict/lenient, `FILE:LINE:COL` errors) and a precompiled decoder;
//! - [`definition`] + [`dbc_vehicle`]: vehicles as data (YAML → [`DbcVehicle`]);
//! - [`roadster`]: the Tesla Roadster decoder of the firmware, to the letter of the spec;
//! - [`load_vehicle`] / [`vehicle_names`]: selection by name or file;
//! - [`cli`]: `ovms-hil dbc decode` (JSON lines per decoded frame);
//! - [`fold`]: a metric timeline for replay tests; [`units`]: the firmware's unit conversions.

#![warn(missing_docs)]

pub mod cli;
pub mod dbc;
pub mod dbc_vehicle;
pub mod definition;
pub mod fold;
pub mod roadster;
pub mod units;

use std::path::{Path, PathBuf};

use ovms_firmware::vehicle::Vehicle;

pub use dbc_vehicle::DbcVehicle;
pub use roadster::TeslaRoadster;

/// Why a vehicle could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum VehicleError {
    /// A file could not be read.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The YAML definition is invalid (syntax, unknown field, unknown message or signal).
    #[error("{}:{line}:{col}: {message}", file.display())]
    Definition {
        /// The YAML file.
        file: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        col: u64,
        /// What is wrong.
        message: String,
    },
    /// A DBC file named by the definition is invalid.
    #[error(transparent)]
    Dbc(#[from] dbc::DbcError),
    /// No built-in vehicle or definition file has this name.
    #[error("unknown vehicle `{name}`; known: {}", known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
}

/// Names of every selectable vehicle: `tesla-roadster` and the YAML stems in `search_dir`, sorted.
pub fn vehicle_names(search_dir: &Path) -> Vec<String> {
    let mut names = vec![roadster::NAME.to_string()];
    if let Ok(rd) = std::fs::read_dir(search_dir) {
        for e in rd.flatten() {
            let p = e.path();
            if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Loads a vehicle by name (`tesla-roadster`, or the stem of a YAML file in `search_dir`, which is
/// normally `scenarios/vehicles/`) or by path to a YAML definition.
pub fn load_vehicle(
    name_or_path: &str,
    search_dir: &Path,
) -> Result<Box<dyn Vehicle>, VehicleError> {
    if name_or_path == roadster::NAME {
        return Ok(Box::new(TeslaRoadster::new()));
    }
    let as_path = Path::new(name_or_path);
    let is_yaml = matches!(
        as_path.extension().and_then(|x| x.to_str()),
        Some("yaml" | "yml")
    );
    if is_yaml || as_path.components().count() > 1 {
        if as_path.is_file() {
            return Ok(Box::new(DbcVehicle::load(as_path)?));
        }
        return Err(VehicleError::Io {
            file: as_path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "vehicle definition not found",
            ),
        });
    }
    for ext in ["yaml", "yml"] {
        let p = search_dir.join(format!("{name_or_path}.{ext}"));
        if p.is_file() {
            return Ok(Box::new(DbcVehicle::load(&p)?));
        }
    }
    Err(VehicleError::Unknown {
        name: name_or_path.to_string(),
        known: vehicle_names(search_dir),
    })
}
