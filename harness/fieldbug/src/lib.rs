//! Field bugs become regression tests.
//!
//! A module in the field misbehaves; its owner shares a CAN log and an MQTT capture. This crate
//! turns that into something people can look at and something CI can check:
//!
//! - [`report`]: one self-contained HTML page with a timeline of the capture (publishes per topic,
//!   cadence ticks, connected state, peers, client heartbeats, failing assertions);
//! - [`anonymise`]: removes the VIN, GPS positions and the vehicle id / username from CAN logs and
//!   captures, and says what it changed;
//! - [`scaffold`]: from a recording directory, writes `scenarios/NAME/` (log + expected timeline)
//!   and `features/regressions/NAME.feature`; [`scaffold::check_timeline`] is the assertion;
//! - [`simulate`]: log → module → capture records, in-process on a virtual clock (used by the
//!   report example and the scaffold tests);
//! - [`topics`]: topic classification asked of the protocol profile (no hard-coded topics);
//! - [`timeline`]: grouping of module publishes into cadence points;
//! - [`cli`]: clap arguments and `run_*` functions for `ovms-hil anonymise|scaffold|report`.

#![warn(missing_docs)]

pub mod anonymise;
pub mod cli;
pub mod report;
pub mod scaffold;
pub mod simulate;
pub mod timeline;
pub mod topics;

pub use ovms_hil_net::capture::{read_capture, CaptureRecord, Source};
pub use report::{render_report, Marker, ReportOptions};
pub use simulate::{simulate_capture, SimOptions};
