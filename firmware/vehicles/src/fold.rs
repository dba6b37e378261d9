//! A small fold of decoder outputs into a metric store with a timeline of payload changes: what a
//! replay test asserts against ("`v.b.soc` became `95` at 129.07 s").

use ovms_firmware::metrics::Metrics;
use ovms_firmware::vehicle::VehicleOutput;

/// One payload change of a metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Log time of the frame that caused it, seconds.
    pub t: f64,
    /// Metric name.
    pub name: String,
    /// The new payload string (firmware `AsString()`).
    pub payload: String,
}

/// A notification raised by the decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// Log time, seconds.
    pub t: f64,
    /// `error`, `info`, `alert`, `data`.
    pub kind: String,
    /// Subtype, e.g. `code`.
    pub subtype: String,
    /// Text, e.g. `TR,954,2097152`.
    pub text: String,
}

/// A frame the decoder asked to transmit.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// Log time, seconds.
    pub t: f64,
    /// Bus (0-based).
    pub bus: u8,
    /// Identifier.
    pub id: u32,
    /// Data bytes.
    pub data: Vec<u8>,
}

/// Metric store plus the history of payload changes, notifications and transmissions.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The firmware metric store (rendering, change detection).
    pub metrics: Metrics,
    /// Payload changes (a metric's first definition counts as a change).
    pub changes: Vec<Change>,
    /// Notifications.
    pub notices: Vec<Notice>,
    /// Transmissions.
    pub sent: Vec<Sent>,
    /// Events.
    pub events: Vec<(f64, String)>,
}

impl Timeline {
    /// An empty timeline over a fresh metric store.
    pub fn new() -> Self {
        Timeline {
            metrics: Metrics::new(),
            ..Timeline::default()
        }
    }

    /// Applies decoder outputs produced at log time `t` (seconds), draining `outputs`.
    pub fn apply(&mut self, t: f64, outputs: &mut Vec<VehicleOutput>) {
        for o in outputs.drain(..) {
            match o {
                VehicleOutput::Metric { name, value } => {
                    let before = self.metrics.as_string(&name);
                    self.metrics.set(&name, value);
                    let after = self.metrics.as_string(&name);
                    if after != before {
                        if let Some(payload) = after {
                            self.changes.push(Change { t, name, payload });
                        }
                    }
                }
                VehicleOutput::Notify {
                    kind,
                    subtype,
                    text,
                } => self.notices.push(Notice {
                    t,
                    kind,
                    subtype,
                    text,
                }),
                VehicleOutput::Event(e) => self.events.push((t, e)),
                VehicleOutput::Transmit { bus, id, data, .. } => {
                    self.sent.push(Sent { t, bus, id, data })
                }
            }
        }
    }

    /// The payload changes of one metric, in order.
    pub fn changes_of(&self, name: &str) -> Vec<(f64, String)> {
        self.changes
            .iter()
            .filter(|c| c.name == name)
            .map(|c| (c.t, c.payload.clone()))
            .collect()
    }

    /// The payload of `name` right after the frames at time `t` were applied.
    pub fn payload_at(&self, name: &str, t: f64) -> Option<String> {
        self.changes
            .iter()
            .rev()
            .find(|c| c.name == name && c.t <= t + 1e-9)
            .map(|c| c.payload.clone())
    }

    /// The current payload of `name` (`None` while undefined).
    pub fn current(&self, name: &str) -> Option<String> {
        self.metrics.as_string(name)
    }
}
