//! Vehicle definitions as data: a YAML file names DBC files (relative to the YAML), the bus each
//! applies to, and maps DBC signals to OVMS metrics. Adding a vehicle needs no Rust.
//!
//! ```yaml
//! name: Hyundai Kona Electric
//! type: HIONVFL            # published as v.type
//! dbc:
//!   - { file: ../dbc/kona-ev_pcan.dbc, bus: 0, lenient: true }
//! metrics:
//!   - metric: v.b.soc
//!     message: BMS_542       # message name (or `id: 0x542`)
//!     signal: SocDisp
//!   - metric: v.e.gear
//!     message: VCU_200
//!     signal: CURRENT_GEAR
//!     kind: int
//!     map: { 0: 0, 5: 1, 6: 0, 7: -1 }
//!   - metric: v.p.speed
//!     message: ...
//!     signal: ...
//!     convert: mph_to_kmh    # or scale/offset
//!     when: { signal: Valid, equals: 1 }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::VehicleError;

/// The YAML root.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleDefinition {
    /// Human-readable vehicle name.
    pub name: String,
    /// Vehicle type code published as `v.type`.
    #[serde(rename = "type")]
    pub type_code: String,
    /// Free text (sources, caveats).
    #[serde(default)]
    pub description: Option<String>,
    /// DBC files and their buses.
    pub dbc: Vec<DbcRef>,
    /// Signal → metric mappings.
    pub metrics: Vec<MetricMapping>,
}

/// One DBC file on one bus.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbcRef {
    /// Path relative to the YAML file.
    pub file: Spanned<String>,
    /// Bus (0-based) the DBC describes.
    #[serde(default)]
    pub bus: u8,
    /// Load with lenient DBC parsing (tolerate real-world defects with warnings).
    #[serde(default)]
    pub lenient: bool,
}

/// The class of the metric a signal is stored into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// 32-bit float (default).
    #[default]
    Float,
    /// Integer (the value is truncated towards zero).
    Int,
    /// `yes` when the value is non-zero.
    Bool,
    /// Text: requires `map` (value → text).
    String,
}

/// A named unit conversion, computed as the firmware does (value as float × double factor → float).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversion {
    /// Miles → km (× 1.609347).
    MiToKm,
    /// mph → km/h (× 1.609347).
    MphToKmh,
    /// psi → kPa.
    PsiToKpa,
    /// °F → °C.
    FahrenheitToCelsius,
    /// m/s → km/h.
    MsToKmh,
    /// W → kW, Wh → kWh.
    MilliToUnit,
}

impl Conversion {
    /// Applies the conversion to a float value.
    pub fn apply(self, x: f32) -> f32 {
        use crate::units::{convert_f32, MI_TO_KM, PSI_TO_KPA};
        match self {
            Conversion::MiToKm | Conversion::MphToKmh => convert_f32(x, MI_TO_KM),
            Conversion::PsiToKpa => convert_f32(x, PSI_TO_KPA),
            Conversion::FahrenheitToCelsius => (((x as f64) - 32.0) * 5.0 / 9.0) as f32,
            Conversion::MsToKmh => convert_f32(x, 3.6),
            Conversion::MilliToUnit => convert_f32(x, 0.001),
        }
    }
}

/// `when: { signal: X, equals: 1 }` (or `not_equals`): the mapping applies only to frames in which
/// signal X of the same message decodes to that physical value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Signal of the same message.
    pub signal: Spanned<String>,
    /// Required physical value.
    #[serde(default)]
    pub equals: Option<f64>,
    /// Excluded physical value.
    #[serde(default)]
    pub not_equals: Option<f64>,
}

/// A message by name or by numeric id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricMapping {
    /// OVMS metric name, e.g. `v.b.soc`.
    pub metric: Spanned<String>,
    /// DBC message name.
    #[serde(default)]
    pub message: Option<Spanned<String>>,
    /// DBC message id (alternative to `message`).
    #[serde(default)]
    pub id: Option<Spanned<u32>>,
    /// DBC signal name.
    pub signal: Spanned<String>,
    /// Bus; defaults to the bus of the first DBC that defines the message.
    #[serde(default)]
    pub bus: Option<u8>,
    /// Metric class.
    #[serde(default)]
    pub kind: MetricKind,
    /// Factor applied to the DBC physical value.
    #[serde(default)]
    pub scale: Option<f64>,
    /// Offset added after `scale`.
    #[serde(default)]
    pub offset: Option<f64>,
    /// Named unit conversion applied last.
    #[serde(default)]
    pub convert: Option<Conversion>,
    /// Value mapping: raw-physical integer → text (for `string`), number (`int`/`float`) or
    /// `yes`/`no` (`bool`). Values without an entry are not stored unless `default` is given.
    #[serde(default)]
    pub map: Option<BTreeMap<i64, String>>,
    /// Text stored for values missing from `map`.
    #[serde(default)]
    pub default: Option<String>,
    /// Condition on another signal of the same message.
    #[serde(default)]
    pub when: Option<Condition>,
}

/// Turns a serde-saphyr error into `file:line:col: message`.
pub fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> VehicleError {
    let (line, col) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let text = e.without_snippet().to_string();
    let message = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid YAML")
        .to_string();
    VehicleError::Definition {
        file: path.to_path_buf(),
        line,
        col,
        message,
    }
}

/// A located error in the definition (for semantic checks after parsing).
pub fn located(path: &Path, loc: serde_saphyr::Location, message: String) -> VehicleError {
    VehicleError::Definition {
        file: path.to_path_buf(),
        line: loc.line(),
        col: loc.column(),
        message,
    }
}

impl VehicleDefinition {
    /// Parses a definition from YAML text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, VehicleError> {
        serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))
    }

    /// Reads and parses a definition file.
    pub fn load(path: &Path) -> Result<Self, VehicleError> {
        let text = std::fs::read_to_string(path).map_err(|source| VehicleError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// The DBC paths resolved against the YAML file's directory.
    pub fn dbc_paths(&self, yaml_path: &Path) -> Vec<PathBuf> {
        let dir = yaml_path.parent().unwrap_or(Path::new("."));
        self.dbc.iter().map(|d| dir.join(&d.file.value)).collect()
    }
}
