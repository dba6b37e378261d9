//! `recording.yaml`: what a recording directory was recorded with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The contents of `recording.yaml` (completed by [`RecordingOverrides`]).
///
/// ```yaml
/// vehicle: tesla-roadster      # load_vehicle name or definition path
/// profile: draft               # builtin profile or file
/// vehicle_id: anon
/// user: anon
/// params: { updatetime.connected: "60" }   # optional server.v3 params
/// lead_in_secs: 0              # optional: module time of the log's first frame
/// log: can.crtd                # optional: default the only can.* file
/// capture: capture.jsonl       # optional
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// Vehicle.
    pub vehicle: String,
    /// Profile.
    pub profile: String,
    /// Vehicle id.
    pub vehicle_id: String,
    /// Username.
    pub user: String,
    /// `server.v3` topic prefix, when not the profile's default.
    #[serde(default)]
    pub topic_prefix: Option<String>,
    /// Parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Module time of the log's first frame.
    #[serde(default)]
    pub lead_in_secs: Option<u64>,
    /// Log file name in the directory.
    #[serde(default)]
    pub log: Option<PathBuf>,
    /// Capture file name in the directory.
    #[serde(default)]
    pub capture: Option<PathBuf>,
}

/// Command-line values that replace (or stand in for) `recording.yaml` fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordingOverrides {
    /// Vehicle.
    pub vehicle: Option<String>,
    /// Profile.
    pub profile: Option<String>,
    /// Vehicle id.
    pub vehicle_id: Option<String>,
    /// User.
    pub user: Option<String>,
    /// Log path (absolute or relative to the current directory).
    pub log: Option<PathBuf>,
    /// Capture path (absolute or relative to the current directory).
    pub capture: Option<PathBuf>,
}

/// `recording.yaml` is bad, or the recording is incomplete.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// Bad YAML / unknown or missing field.
    #[error("{path}:{line}:{col}: {message}")]
    Yaml {
        /// File.
        path: String,
        /// Line.
        line: u64,
        /// Column.
        col: u64,
        /// What is wrong.
        message: String,
    },
    /// Unreadable file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A required value is neither in `recording.yaml` nor given.
    #[error("{dir}: no recording.yaml and no --{field} given")]
    Missing {
        /// Directory.
        dir: String,
        /// Field.
        field: &'static str,
    },
    /// No or several `can.*` logs.
    #[error("{dir}: {message}")]
    Log {
        /// Directory.
        dir: String,
        /// What is wrong.
        message: String,
    },
}

impl Recording {
    /// Reads `dir/recording.yaml` (if present) and applies `ov`.
    pub fn load(dir: &Path, ov: &RecordingOverrides) -> Result<Recording, RecordingError> {
        let path = dir.join("recording.yaml");
        let mut rec = if path.is_file() {
            let p = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|source| RecordingError::Io {
                path: p.clone(),
                source,
            })?;
            serde_saphyr::from_str::<Recording>(&text).map_err(|e| {
                let (line, col) = e
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((1, 1));
                RecordingError::Yaml {
                    path: p,
                    line,
                    col,
                    message: e
                        .without_snippet()
                        .to_string()
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("invalid YAML")
                        .to_string(),
                }
            })?
        } else {
            Recording::default()
        };
        let d = dir.display().to_string();
        for (slot, val, field) in [
            (&mut rec.vehicle, &ov.vehicle, "vehicle"),
            (&mut rec.profile, &ov.profile, "profile"),
            (&mut rec.vehicle_id, &ov.vehicle_id, "vehicle-id"),
            (&mut rec.user, &ov.user, "user"),
        ] {
            if let Some(v) = val {
                *slot = v.clone();
            }
            if slot.is_empty() {
                return Err(RecordingError::Missing { dir: d, field });
            }
        }
        if ov.log.is_some() {
            rec.log = ov.log.clone();
        }
        if ov.capture.is_some() {
            rec.capture = ov.capture.clone();
        }
        Ok(rec)
    }

    /// The capture file.
    pub fn capture_path(&self, dir: &Path) -> PathBuf {
        match &self.capture {
            Some(p) if p.is_absolute() || p.exists() => p.clone(),
            Some(p) => dir.join(p),
            None => dir.join("capture.jsonl"),
        }
    }

    /// The log file: as given, else the one `can.*` in `dir`.
    pub fn log_path(&self, dir: &Path) -> Result<PathBuf, RecordingError> {
        let d = dir.display().to_string();
        if let Some(p) = &self.log {
            return Ok(if p.is_absolute() || p.exists() {
                p.clone()
            } else {
                dir.join(p)
            });
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| RecordingError::Io {
                path: d.clone(),
                source,
            })?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.file_stem().and_then(|s| s.to_str()) == Some("can"))
            .collect();
        found.sort();
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(RecordingError::Log {
                dir: d,
                message: "no CAN log (`can.*`) and no --log given".into(),
            }),
            _ => Err(RecordingError::Log {
                dir: d,
                message: format!("several CAN logs: {found:?}; name one with `log:` or --log"),
            }),
        }
    }
}
