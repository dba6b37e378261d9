//! A cucumber [`Writer`] that turns the event stream into [`RunResults`].
//!
//! It sits in the writer chain beside cucumber's console and JSON writers (after normalisation, so
//! events arrive in scenario order). Each scenario attempt becomes an [`Attempt`]; a retried scenario
//! keeps all of its attempts, and its final status is that of the last one. That is what makes the
//! JUnit report retry-aware: a scenario that failed once and then passed is a pass with a flaky run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cucumber::event::{self, Cucumber, HookType, RetryableScenario, StepError};
use cucumber::{cli, gherkin, parser, writer, Event, Writer};

use super::model::{Attempt, RunResults, ScenarioResult, Status};
use crate::runner::expand::{profile_of, strip_profile_suffix};

/// Results shared between the collector (inside cucumber's writer chain) and the caller.
pub type SharedResults = Arc<Mutex<RunResults>>;

/// The collecting writer; create it with [`Collector::new`] and read the results from the shared handle.
#[derive(Debug)]
pub struct Collector {
    out: SharedResults,
    index: HashMap<(String, usize), usize>,
    current: HashMap<(String, usize), Running>,
}

/// An attempt in progress.
#[derive(Debug)]
struct Running {
    started: SystemTime,
    failed: Option<String>,
    skipped: Option<String>,
}

impl Collector {
    /// A collector writing into `out`.
    pub fn new(out: SharedResults) -> Self {
        Collector {
            out,
            index: HashMap::new(),
            current: HashMap::new(),
        }
    }

    fn scenario_event<W>(
        &mut self,
        at: SystemTime,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
        ev: &RetryableScenario<W>,
    ) {
        let key = (feature.name.clone(), scenario.position.line);
        let path = feature.path.clone();
        let loc = |step: &gherkin::Step| match &path {
            Some(p) => format!("{}:{}", p.display(), step.position.line),
            None => format!("line {}", step.position.line),
        };
        match &ev.event {
            event::Scenario::Started => {
                self.current.insert(
                    key,
                    Running {
                        started: at,
                        failed: None,
                        skipped: None,
                    },
                );
            }
            event::Scenario::Step(step, st) | event::Scenario::Background(step, st) => {
                let Some(run) = self.current.get_mut(&key) else {
                    return;
                };
                match st {
                    event::Step::Failed(_, _, _, err) if run.failed.is_none() => {
                        run.failed = Some(format!(
                            "step `{} {}` ({}) failed: {}",
                            step.keyword.trim(),
                            step.value,
                            loc(step),
                            step_error_message(err)
                        ));
                    }
                    event::Step::Skipped if run.skipped.is_none() => {
                        run.skipped = Some(format!(
                            "step `{} {}` ({}) has no definition",
                            step.keyword.trim(),
                            step.value,
                            loc(step)
                        ));
                    }
                    _ => {}
                }
            }
            event::Scenario::Hook(which, event::Hook::Failed(_, info)) => {
                if let Some(run) = self.current.get_mut(&key) {
                    if run.failed.is_none() {
                        let when = match which {
                            HookType::Before => "setting up the scenario",
                            HookType::After => "tearing down the scenario",
                        };
                        run.failed = Some(format!("{when} failed: {}", panic_text(info)));
                    }
                }
            }
            event::Scenario::Finished => {
                let Some(run) = self.current.remove(&key) else {
                    return;
                };
                // An undefined step is a failure: the scenario did not check what it says.
                let (status, message) = match (run.failed, run.skipped) {
                    (Some(m), _) => (Status::Failed, Some(m)),
                    (None, Some(m)) => (Status::Failed, Some(m)),
                    (None, None) => (Status::Passed, None),
                };
                let attempt = Attempt {
                    status,
                    message,
                    wall: at.duration_since(run.started).unwrap_or(Duration::ZERO),
                };
                let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
                let idx = *self.index.entry(key).or_insert_with(|| {
                    let mut tags: Vec<String> = feature.tags.clone();
                    if let Some(r) = rule {
                        tags.extend(r.tags.iter().cloned());
                    }
                    tags.extend(scenario.tags.iter().cloned());
                    tags.retain(|t| profile_of_tag(t).is_none());
                    out.scenarios.push(ScenarioResult {
                        feature: strip_profile_suffix(&feature.name).to_string(),
                        path: feature.path.clone(),
                        profile: profile_of(feature).unwrap_or_default(),
                        name: scenario.name.clone(),
                        line: scenario.position.line,
                        tags,
                        attempts: Vec::new(),
                    });
                    out.scenarios.len() - 1
                });
                out.scenarios[idx].attempts.push(attempt);
            }
            _ => {}
        }
    }
}

fn profile_of_tag(tag: &str) -> Option<&str> {
    tag.strip_prefix(crate::runner::expand::PROFILE_TAG_PREFIX)
}

/// The readable text of a step error (the panic message of a failed assertion).
pub fn step_error_message(err: &StepError) -> String {
    match err {
        StepError::NotFound => "no step definition matches".into(),
        StepError::AmbiguousMatch(e) => format!("ambiguous: {e}"),
        StepError::Panic(info) => panic_text(info),
    }
}

fn panic_text(info: &event::Info) -> String {
    if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "a step panicked with a non-text payload".into()
    }
}

impl<W: 'static> Writer<W> for Collector {
    type Cli = cli::Empty;

    async fn handle_event(&mut self, ev: parser::Result<Event<Cucumber<W>>>, _cli: &Self::Cli) {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
                out.parse_errors.push(e.to_string());
                return;
            }
        };
        let at = event_time(&ev);
        if let Cucumber::Feature(feature, fev) = &ev.value {
            match fev {
                event::Feature::Scenario(sc, rev) => {
                    self.scenario_event(at, feature, None, sc, rev);
                }
                event::Feature::Rule(rule, event::Rule::Scenario(sc, rev)) => {
                    self.scenario_event(at, feature, Some(rule), sc, rev);
                }
                _ => {}
            }
        }
    }
}

fn event_time<T>(ev: &Event<T>) -> SystemTime {
    ev.at
}

impl writer::NonTransforming for Collector {}
