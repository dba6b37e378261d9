//! ovms-hil: the hardware-in-the-loop harness for OVMS v3 modules and their MQTT server v3 protocol.
//!
//! Layout:
//! - [`cli`]: the `ovms-hil` command line (clap definitions and dispatch; `main.rs` only calls it).
//! - [`config`]: resolved run configuration (features, profiles, rig, broker, reports).
//! - [`features`]: finding `.feature` files and pre-parsing them with `file:line:col` errors.
//! - [`runner`]: the one cucumber runner shared by `ovms-hil run` and the `bdd` test target.
//! - [`world`]: the per-scenario state (rig, broker, tap, observer, capture).
//! - [`steps`]: step definitions, one module per subject.
//! - [`rig`]: where the module is (in-process emulator, emulator process, bench) and `rigs/*.yaml`.
//! - [`report`]: run results, the summary, JUnit XML (retry-aware) and the requirement coverage table.
//! - [`coverage`]: requirement ids (`@V3-*`, `@SHIP-*`) and coverage accounting.
//! - [`lint`]: `ovms-hil lint` (features, scenario YAML and rig files).
//! - [`replay`]: `ovms-hil replay` (a CAN log into the emulated module through a real broker).
//! - [`record`]: `ovms-hil record` (CAN frames and MQTT capture on one time base, `recording.yaml`).
//! - [`adapt`]: the thin adapters over sibling crates whose APIs are still moving.

pub mod adapt;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod features;
pub mod lint;
pub mod record;
pub mod replay;
pub mod report;
pub mod rig;
pub mod runner;
pub mod steps;
pub mod world;
