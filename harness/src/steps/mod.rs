//! Step definitions, one module per subject. Step texts are profile-neutral: a step names a
//! metric, a client or a notification, and asks the scenario's profile for the topic, QoS and
//! retain flag it implies.
//!
//! - [`module`]: the module, its parameters and the rig.
//! - [`broker`]: the broker and what it can be trusted with.
//! - [`metrics`]: setting metrics.
//! - [`time`]: moving the virtual clock.
//! - [`clients`]: virtual app clients, heartbeats, wills, peers.
//! - [`publish`]: assertions on what the module published (tap) and what subscribers saw (observer).
//! - [`session`]: CONNECT, will, power and network cuts.
//! - [`notify`] for notifications.
//! - [`commands`]: commands and responses.
//! - [`vehicle`]: the vehicle and CAN logs replayed into it.
//!
//! Steps are registered explicitly in [`collection`] (not through the `inventory`-based macros), so
//! the same collection serves the runner and `ovms-hil lint`, with each step's source location.

pub mod broker;
pub mod clients;
pub mod commands;
pub mod metrics;
pub mod module;
pub mod notify;
pub mod publish;
pub mod regression;
pub mod session;
pub mod suite_faults;
pub mod suite_logs;
pub mod suite_private;
pub mod suite_protocol;
pub mod suite_security;
pub mod suite_session;
pub mod time;
pub mod vehicle;

use std::future::Future;

use cucumber::step::{Collection, Context, Location};
use futures::future::LocalBoxFuture;
use regex::Regex;

use crate::world::HilWorld;

/// A step function as cucumber calls it.
pub type StepFn = cucumber::step::Step<HilWorld>;

/// Which keyword(s) a step answers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Given` only.
    Given,
    /// `When` only.
    When,
    /// `Then` only.
    Then,
    /// `Given` and `When` (set-up actions that also read well as events).
    GivenWhen,
}

/// One registered step.
#[derive(Clone, Copy, Debug)]
pub struct StepDef {
    /// Keyword(s).
    pub kind: Kind,
    /// The regular expression (anchored).
    pub pattern: &'static str,
    /// The function.
    pub func: StepFn,
    /// Where it is defined.
    pub location: Location,
}

/// Register a step: `def!(Kind, "^regex$", function)`.
#[macro_export]
#[doc(hidden)]
macro_rules! def {
    ($kind:ident, $re:expr, $f:path) => {
        $crate::steps::StepDef {
            kind: $crate::steps::Kind::$kind,
            pattern: $re,
            func: $f as $crate::steps::StepFn,
            location: cucumber::step::Location {
                path: file!(),
                line: line!(),
                column: column!(),
            },
        }
    };
}

/// Every step of every subject.
pub fn all() -> Vec<StepDef> {
    let mut v = Vec::new();
    v.extend(module::steps());
    v.extend(broker::steps());
    v.extend(metrics::steps());
    v.extend(time::steps());
    v.extend(clients::steps());
    v.extend(publish::steps());
    v.extend(session::steps());
    v.extend(notify::steps());
    v.extend(commands::steps());
    v.extend(vehicle::steps());
    v.extend(regression::steps());
    v.extend(suite_logs::steps());
    v.extend(suite_protocol::steps());
    v.extend(suite_session::steps());
    v.extend(suite_security::steps());
    v.extend(suite_faults::steps());
    v
}

/// The cucumber step collection.
pub fn collection() -> Collection<HilWorld> {
    let mut c = Collection::new();
    for d in all() {
        let re = Regex::new(d.pattern).expect("step patterns are constant and tested");
        let loc = Some(d.location);
        c = match d.kind {
            Kind::Given => c.given(loc, re, d.func),
            Kind::When => c.when(loc, re, d.func),
            Kind::Then => c.then(loc, re, d.func),
            Kind::GivenWhen => c.given(loc, re.clone(), d.func).when(loc, re, d.func),
        };
    }
    c
}

/// The capture groups of a matched step (without the whole match), unmatched optional groups empty.
pub fn args(ctx: &Context) -> Vec<String> {
    ctx.matches.iter().skip(1).map(|(_, s)| s.clone()).collect()
}

/// Run a step body; an `Err` fails the step with its message.
pub fn run<'a>(fut: impl Future<Output = Result<(), String>> + 'a) -> LocalBoxFuture<'a, ()> {
    Box::pin(async move {
        if let Err(e) = fut.await {
            std::panic::panic_any(e);
        }
    })
}

/// Parse a number capture.
pub fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{what}: `{s}` is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_is_anchored() {
        for d in all() {
            assert!(Regex::new(d.pattern).is_ok(), "{}", d.pattern);
            assert!(
                d.pattern.starts_with('^') && d.pattern.ends_with('$'),
                "{}",
                d.pattern
            );
        }
    }

    #[test]
    fn no_two_patterns_match_the_same_example() {
        // Each pattern's own example text (from the feature files) must match exactly one step.
        let c = collection();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../features");
        let files = crate::features::discover(&[dir.into()]).unwrap();
        let (feats, errs) = crate::features::parse_all(&files);
        assert!(errs.is_empty(), "{errs:?}");
        let mut n = 0;
        for f in &feats {
            use cucumber::feature::Ext as _;
            let f = &f.clone().expand_examples().expect("examples expand");
            let all_steps = f
                .background
                .iter()
                .flat_map(|b| b.steps.iter())
                .chain(f.scenarios.iter().flat_map(|s| s.steps.iter()))
                .chain(
                    f.rules
                        .iter()
                        .flat_map(|r| r.scenarios.iter().flat_map(|s| s.steps.iter())),
                );
            for st in all_steps {
                n += 1;
                let found = c.find(st);
                assert!(
                    matches!(found, Ok(Some(_))),
                    "{}:{}: `{}` is undefined or ambiguous",
                    f.path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    st.position.line,
                    st.value
                );
            }
        }
        assert!(n > 0);
    }
}
