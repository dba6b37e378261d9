//! `expected.yaml`: the published timeline a regression scenario must reproduce.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Metrics whose values depend on the wall clock or the machine, ignored by default.
pub const DEFAULT_IGNORE: &[&str] = &[
    "m.time.utc",
    "m.monotonic",
    "m.freeram",
    "m.tasks",
    "m.net.*",
    "v.e.parktime",
    "v.e.drivetime",
    "v.c.time",
    "v.p.gpstime",
];

/// One cadence point: a virtual second and what the module published in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPoint {
    /// Virtual second since module boot.
    pub t: u64,
    /// Topic relative to the prefix → payload (the last one published in that second).
    pub publishes: BTreeMap<String, String>,
}

/// One publish the broker delivered to the module in the recording (a client heartbeat, a
/// command, ...), to be replayed at the same virtual time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPublish {
    /// Virtual seconds since module boot.
    pub t: f64,
    /// Topic relative to the prefix.
    pub topic: String,
    /// Payload (UTF-8).
    pub payload: String,
}

/// One broker outage of the recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// Virtual second the session was lost.
    pub from: u64,
    /// Virtual second the broker accepted the module again.
    pub to: u64,
}

/// The whole expected timeline (the root of `expected.yaml`).
///
/// Semantics (what [`super::check_timeline`] and the harness step
/// `Then the published timeline matches "…/expected.yaml"` check): for every point and every
/// topic/payload in it whose metric is not in `ignore`, the module must publish that payload on
/// `prefix + topic` at a virtual second within `t ± tolerance_secs` (times compared as whole
/// seconds, `floor(t)`). Extra publishes are allowed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTimeline {
    /// Vehicle name for `load_vehicle` (`tesla-roadster`, a `scenarios/vehicles` stem, or a path).
    pub vehicle: String,
    /// Protocol profile (builtin name or file).
    pub profile: String,
    /// Module `vehicle/id`.
    pub vehicle_id: String,
    /// MQTT username.
    pub user: String,
    /// The topic prefix the module used.
    pub prefix: String,
    /// The CAN log, relative to this file.
    pub log: String,
    /// Virtual seconds between module boot and the log's first frame.
    #[serde(default)]
    pub lead_in_secs: u64,
    /// `server.v3` parameters the module ran with.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Allowed distance (virtual seconds) between expected and actual publish.
    pub tolerance_secs: u64,
    /// Metrics not compared (exact names, or a prefix ending in `*`).
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Publishes to replay into the module.
    #[serde(default)]
    pub client_publishes: Vec<ClientPublish>,
    /// Broker outages to replay: the session is lost at `from`, connection attempts fail until
    /// `to` (virtual seconds); the module reconnects on its own retry timer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub broker_outages: Vec<Outage>,
    /// The cadence points.
    pub points: Vec<ExpectedPoint>,
}

/// `expected.yaml` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExpectedError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Bad YAML or unknown field.
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
}

impl ExpectedTimeline {
    /// Whether `metric` is ignored.
    pub fn is_ignored(&self, metric: &str) -> bool {
        is_ignored(&self.ignore, metric)
    }

    /// Parses YAML text; `path` names it in errors.
    pub fn from_yaml(text: &str, path: &str) -> Result<Self, ExpectedError> {
        serde_saphyr::from_str(text).map_err(|e| {
            let (line, col) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            ExpectedError::Yaml {
                path: path.to_string(),
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
        })
    }

    /// Reads `expected.yaml`.
    pub fn load(path: &Path) -> Result<Self, ExpectedError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ExpectedError::Io {
            path: p.clone(),
            source,
        })?;
        Self::from_yaml(&text, &p)
    }

    /// The YAML text (with a header comment).
    pub fn to_yaml(&self, header: &str) -> String {
        let body = serde_saphyr::to_string(self)
            .unwrap_or_else(|e| format!("# serialisation failed: {e}\n"));
        let mut out = String::new();
        for l in header.lines() {
            out.push_str("# ");
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&body);
        out
    }
}

/// Whether `metric` matches a pattern of `ignore` (exact, or prefix with a trailing `*`).
pub fn is_ignored(ignore: &[String], metric: &str) -> bool {
    ignore.iter().any(|p| match p.strip_suffix('*') {
        Some(pre) => metric.starts_with(pre),
        None => p == metric,
    })
}
