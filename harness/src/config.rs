//! The resolved configuration of one `ovms-hil run` (and of the `bdd` test target).

use std::path::{Path, PathBuf};

/// Everything a run needs; [`RunConfig::new`] gives the documented defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// Feature files or directories (default `features/`).
    pub paths: Vec<PathBuf>,
    /// Profiles to run each feature for, by name or path (default: every shipped profile).
    pub profiles: Vec<String>,
    /// The rig file (default `rigs/emulated.yaml`).
    pub rig: PathBuf,
    /// Broker choice: `auto`, `mosquitto`, `container`, `embedded` or a URL; `None` = the rig's, else auto.
    pub broker: Option<String>,
    /// cucumber tag expression selecting scenarios (`@V3-MET-1 and not @slow`).
    pub tags: Option<String>,
    /// Where to write JUnit XML.
    pub junit: Option<PathBuf>,
    /// Where to write cucumber JSON.
    pub json: Option<PathBuf>,
    /// Where to write one capture file (JSON lines) per scenario.
    pub capture_dir: Option<PathBuf>,
    /// How often a failed scenario is retried (0 = never; `@retry(n)` tags also work).
    pub retries: usize,
    /// Scenarios run at the same time (each has its own vehicle id and topics).
    pub concurrency: usize,
}

impl RunConfig {
    /// Defaults relative to `root` (the directory holding `features/` and `rigs/`).
    pub fn new(root: &Path) -> RunConfig {
        RunConfig {
            paths: vec![root.join("features")],
            profiles: ovms_firmware::profile::Profile::builtin_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            rig: root.join("rigs/emulated.yaml"),
            broker: None,
            tags: None,
            junit: None,
            json: None,
            capture_dir: None,
            retries: 0,
            concurrency: 4,
        }
    }

    /// The repository root as seen from this crate's sources (for tests and the `bdd` target).
    pub fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }
}
