//! `recording.yaml` as `ovms-hil record` writes it (read back by
//! `ovms_hil_fieldbug::scaffold::Recording`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The contents of `recording.yaml`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordingYaml {
    /// Vehicle.
    pub vehicle: String,
    /// Profile.
    pub profile: String,
    /// Vehicle id.
    pub vehicle_id: String,
    /// MQTT user.
    pub user: String,
    /// `server.v3` params the module ran with.
    pub params: BTreeMap<String, String>,
    /// Module time of the first frame.
    pub lead_in_secs: u64,
    /// Log file name.
    pub log: String,
    /// Capture file name.
    pub capture: String,
    /// How it was recorded (a comment).
    pub source: String,
}

impl RecordingYaml {
    /// The YAML text (values quoted as JSON strings, which YAML reads unchanged).
    pub fn to_yaml(&self) -> String {
        let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        let mut out = format!("# recorded by {}\n", self.source.replace('\n', " "));
        let _ = writeln!(out, "vehicle: {}", q(&self.vehicle));
        let _ = writeln!(out, "profile: {}", q(&self.profile));
        let _ = writeln!(out, "vehicle_id: {}", q(&self.vehicle_id));
        let _ = writeln!(out, "user: {}", q(&self.user));
        if !self.params.is_empty() {
            out.push_str("params:\n");
            for (k, v) in &self.params {
                let _ = writeln!(out, "  {}: {}", q(k), q(v));
            }
        }
        let _ = writeln!(out, "lead_in_secs: {}", self.lead_in_secs);
        let _ = writeln!(out, "log: {}", q(&self.log));
        let _ = writeln!(out, "capture: {}", q(&self.capture));
        out
    }

    /// Write `dir/recording.yaml`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join("recording.yaml");
        std::fs::write(&path, self.to_yaml()).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovms_hil_fieldbug::scaffold::{Recording, RecordingOverrides};

    #[test]
    fn recording_yaml_reads_back_as_scaffold_expects() {
        let y = RecordingYaml {
            vehicle: "tesla-roadster".into(),
            profile: "draft".into(),
            vehicle_id: "A: \"b\"".into(),
            user: "u".into(),
            params: [("updatetime.connected".to_string(), "60".to_string())].into(),
            lead_in_secs: 3,
            log: "can.crtd".into(),
            capture: "capture.jsonl".into(),
            source: "test".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        y.write(dir.path()).unwrap();
        let r = Recording::load(dir.path(), &RecordingOverrides::default()).unwrap();
        assert_eq!(r.vehicle_id, "A: \"b\"");
        assert_eq!(r.lead_in_secs, Some(3));
        assert_eq!(r.params.get("updatetime.connected").unwrap(), "60");
        assert_eq!(r.log.as_deref(), Some(Path::new("can.crtd")));
    }
}
