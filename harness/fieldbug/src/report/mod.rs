//! The HTML report: one self-contained page (inline CSS, inline SVG, a little inline JS, no
//! external resource) showing a capture as a timeline people can look at.
//!
//! What it draws, top to bottom, on one time axis (virtual seconds, or wall seconds since the
//! first record when the capture has no virtual time):
//! - failing assertions ([`Marker`]): a red line across everything with its message;
//! - the connected state: a band from the payloads of the profile's connected topic (`yes`/`no`);
//! - the peer count over time, from the payloads of the `s.v3.peers` metric topic;
//! - client heartbeats: one lane per client, a tick per publish on its active topic;
//! - cadence ticks: a dashed line where the module made a pass (at least
//!   [`ReportOptions::cadence_min_publishes`] publishes in the same virtual second);
//! - one lane per topic, a tick per publish; hovering shows time, payload, QoS and retain.
//!
//! Topics are classified by asking the protocol profile ([`crate::topics`]); nothing is
//! hard-coded. Every topic, payload and message is escaped.

mod escape;
mod model;
mod page;
mod svg;

pub use escape::esc;
pub use model::{infer_prefix, infer_profile};

use ovms_firmware::profile::Profile;
use ovms_hil_net::capture::CaptureRecord;

use crate::topics::TopicNames;

/// A failing assertion to mark on the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Time on the report's axis (virtual seconds).
    pub t: f64,
    /// The topic it concerns, if any (its lane gets a red dot).
    pub topic: Option<String>,
    /// What failed.
    pub message: String,
}

/// What to draw and how to classify topics.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Page title.
    pub title: String,
    /// The protocol profile that decides topics (`None`: inferred from the capture, see
    /// [`infer_profile`]; when nothing matches, only explicit [`ReportOptions::names`] are used).
    pub profile: Option<Profile>,
    /// The module's topic prefix (`None`: inferred from the connected topic, see [`infer_prefix`]).
    pub prefix: Option<String>,
    /// Explicit topic names (override the profile).
    pub names: TopicNames,
    /// Failing assertions.
    pub failures: Vec<Marker>,
    /// Publishes within one virtual second that make a cadence tick (a pass).
    pub cadence_min_publishes: usize,
    /// Page width of the timeline in pixels.
    pub width: u32,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            title: "ovms-hil capture".into(),
            profile: None,
            prefix: None,
            names: TopicNames::default(),
            failures: Vec::new(),
            cadence_min_publishes: 2,
            width: 1360,
        }
    }
}

/// Renders the capture as one self-contained HTML page.
pub fn render_report(capture: &[CaptureRecord], opts: &ReportOptions) -> String {
    let model = model::Model::build(capture, opts);
    let svg = svg::draw(&model, opts);
    page::page(&model, opts, &svg)
}

#[cfg(test)]
mod tests;
