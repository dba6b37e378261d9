//! The emulated OVMS v3 module.
//!
//! Layout:
//! - [`time`]: our own `Instant`/`Duration` (milliseconds since module boot). The core never reads a clock.
//! - [`clock`]: the [`clock::Clock`] trait, a shared [`clock::VirtualClock`] and the [`clock::SystemClock`]
//!   for drivers (never used by the core).
//! - [`io`]: the core's inputs ([`io::Input`]) and actions ([`io::Action`]).
//! - [`profile`]: protocol profiles as data (`draft`, `fw-3.3.005`, `fw-3.3.006`, or a user file).
//! - [`metrics`]: the metrics store (OVMS names, native units, firmware string formatting, modified marks).
//! - [`commands`]: the command processor behind command topics (`metrics list`, `config set`, ...).
//! - [`module`]: the sans-IO server v3 protocol core.
//! - [`vehicle`]: the trait vehicle decoders implement.
//!
//! The protocol core is sans-IO: inputs in, actions out, time is always an argument.
//!
//! ```
//! use ovms_firmware::io::{Action, Input};
//! use ovms_firmware::metrics::MetricValue;
//! use ovms_firmware::module::{Module, ModuleConfig};
//! use ovms_firmware::profile::Profile;
//! use ovms_firmware::time::Instant;
//!
//! let profile = Profile::by_name_or_path("fw-3.3.006").unwrap();
//! let config = ModuleConfig { vehicle_id: "car".into(), username: "u".into(), ..Default::default() };
//! let mut m = Module::new(profile, config, Instant::ZERO);
//! // The edge opens the connection and reports the CONNACK.
//! assert!(matches!(m.poll_action(), Some(Action::Connect(_))));
//! m.handle(Instant::from_millis(20), Input::ConnAccepted);
//! m.handle(Instant::from_millis(30), Input::Metric { name: "v.b.soc".into(), value: MetricValue::Float(85.0) });
//! // Jump to the next deadline: the 1-s tick sends SUBSCRIBE and the full pass.
//! let due = m.poll_timeout().unwrap();
//! assert_eq!(due, Instant::from_secs(1));
//! m.handle_timeout(due);
//! let topics: Vec<String> = m
//!     .drain_actions()
//!     .filter_map(|a| match a { Action::Publish(p) => Some(p.topic), _ => None })
//!     .collect();
//! assert!(topics.contains(&"ovms/u/car/metric/v/b/soc".to_string()));
//! ```

#![warn(missing_docs)]

pub mod clock;
pub mod commands;
pub mod io;
pub mod metrics;
pub mod module;
pub mod profile;
pub mod time;
pub mod vehicle;
