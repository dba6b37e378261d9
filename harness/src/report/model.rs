//! What a run produced: one [`ScenarioResult`] per scenario and profile, each with its attempts.

use std::path::PathBuf;
use std::time::Duration;

/// How one attempt (or a whole scenario) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Every step passed.
    Passed,
    /// A step or hook failed, or a step had no definition.
    Failed,
    /// Nothing failed but a step was skipped.
    Skipped,
}

/// One execution of a scenario (retries make more than one).
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// How it ended.
    pub status: Status,
    /// The first failure: which step (with `file:line`) and the assertion message.
    pub message: Option<String>,
    /// Wall time of the attempt.
    pub wall: Duration,
}

/// One scenario run against one profile.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioResult {
    /// Feature name without the profile suffix.
    pub feature: String,
    /// The feature file.
    pub path: Option<PathBuf>,
    /// Profile the scenario ran for.
    pub profile: String,
    /// Scenario name.
    pub name: String,
    /// Line of the scenario (from 1).
    pub line: usize,
    /// Tags of feature, rule and scenario (without `@`).
    pub tags: Vec<String>,
    /// Every attempt, in order; the last decides.
    pub attempts: Vec<Attempt>,
}

impl ScenarioResult {
    /// The final status: that of the last attempt.
    pub fn status(&self) -> Status {
        self.attempts
            .last()
            .map(|a| a.status)
            .unwrap_or(Status::Skipped)
    }

    /// `file:line` of the scenario.
    pub fn location(&self) -> String {
        match &self.path {
            Some(p) => format!("{}:{}", p.display(), self.line),
            None => format!("<unknown>:{}", self.line),
        }
    }
}

/// Everything one run produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunResults {
    /// Per scenario and profile.
    pub scenarios: Vec<ScenarioResult>,
    /// Feature files that did not parse (`file:line:col: message`).
    pub parse_errors: Vec<String>,
    /// Wall time of the whole run.
    pub wall: Duration,
    /// Protocol (virtual) time the scenarios moved through, summed.
    pub protocol_time: Duration,
}

impl RunResults {
    /// Number of scenarios whose final status is `s`.
    pub fn count(&self, s: Status) -> usize {
        self.scenarios.iter().filter(|r| r.status() == s).count()
    }

    /// True when something was run, nothing failed or was skipped, and all features parsed.
    pub fn all_passed(&self) -> bool {
        self.parse_errors.is_empty()
            && !self.scenarios.is_empty()
            && self.scenarios.iter().all(|r| r.status() == Status::Passed)
    }

    /// The final plain line: `N passed, N failed` (skipped ones count as failed: they did not pass).
    pub fn final_line(&self) -> String {
        let passed = self.count(Status::Passed);
        let failed = self.scenarios.len() - passed + self.parse_errors.len();
        format!("{passed} passed, {failed} failed")
    }
}
