//! JUnit XML from [`RunResults`], written with quick-junit.
//!
//! One `<testsuite>` per feature and profile, one `<testcase>` per scenario. A scenario's status is
//! that of its last attempt: a scenario that failed, was retried and then passed is a success with
//! `<flakyFailure>` entries (not a `<failure>`), and one that kept failing is a `<failure>` with its
//! earlier attempts as `<rerunFailure>`. cucumber's own JUnit writer would count every failed attempt.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::model::{RunResults, Status};

/// Build the JUnit report.
pub fn build(results: &RunResults) -> Report {
    let mut report = Report::new("ovms-hil");
    report.set_time(results.wall);
    let mut suites: BTreeMap<String, TestSuite> = BTreeMap::new();
    for sc in &results.scenarios {
        let suite_name = format!("{} [{}]", sc.feature, sc.profile);
        let suite = suites
            .entry(suite_name.clone())
            .or_insert_with(|| TestSuite::new(suite_name));
        let last = sc.attempts.last();
        let mut status = match sc.status() {
            Status::Passed => TestCaseStatus::success(),
            Status::Failed => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                if let Some(m) = last.and_then(|a| a.message.clone()) {
                    s.set_message(first_line(&m)).set_description(m);
                }
                s
            }
            Status::Skipped => TestCaseStatus::skipped(),
        };
        let earlier = sc.attempts.len().saturating_sub(1);
        for a in &sc.attempts[..earlier] {
            let mut r = TestRerun::new(NonSuccessKind::Failure);
            r.set_time(a.wall);
            if let Some(m) = &a.message {
                r.set_message(first_line(m)).set_description(m.clone());
            }
            status.add_rerun(r);
        }
        let mut case = TestCase::new(sc.name.clone(), status);
        case.set_classname(sc.location());
        if let Some(a) = last {
            case.set_time(a.wall);
        }
        suite.add_test_case(case);
    }
    for (_, s) in suites {
        report.add_test_suite(s);
    }
    report
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// Write the JUnit report to `path`.
pub fn write(results: &RunResults, path: &Path) -> std::io::Result<()> {
    let xml = build(results)
        .to_string()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut f = std::fs::File::create(path)?;
    f.write_all(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Attempt, ScenarioResult};
    use std::time::Duration;

    fn sc(name: &str, attempts: Vec<Status>) -> ScenarioResult {
        ScenarioResult {
            feature: "F".into(),
            path: None,
            profile: "draft".into(),
            name: name.into(),
            line: 3,
            tags: vec![],
            attempts: attempts
                .into_iter()
                .map(|status| Attempt {
                    status,
                    message: (status == Status::Failed).then(|| "boom at x".to_string()),
                    wall: Duration::from_millis(5),
                })
                .collect(),
        }
    }

    #[test]
    fn retried_then_passed_is_not_a_failure() {
        let r = RunResults {
            scenarios: vec![
                sc("flaky", vec![Status::Failed, Status::Passed]),
                sc("bad", vec![Status::Failed, Status::Failed]),
                sc("good", vec![Status::Passed]),
            ],
            ..Default::default()
        };
        let xml = build(&r).to_string().unwrap();
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(xml.contains("tests=\"3\""), "{xml}");
        assert!(xml.contains("<flakyFailure"), "{xml}");
        assert!(xml.contains("<rerunFailure"), "{xml}");
        assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    }
}
