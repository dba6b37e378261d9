//! Requirement coverage: which `@V3-*` / `@SHIP-*` ids the run's scenarios carry, and how they ended.
//!
//! An id counts once per scenario and profile. An id of `server-v3-draft.md` that no selected
//! scenario carries is listed as uncovered, so a gap in the suite is visible in every run.

pub mod ids;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{RunResults, Status};

/// Counts for one requirement id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    /// Scenario runs (scenario × profile) that carry the id.
    pub covered: usize,
    /// Of those, how many passed.
    pub passed: usize,
    /// Of those, how many did not pass.
    pub failed: usize,
}

/// The coverage table of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Every draft id (covered or not) and every other requirement tag seen, sorted by id.
    pub rows: BTreeMap<String, Row>,
}

impl Table {
    /// Count the requirement tags of `results`.
    pub fn from_results(results: &RunResults) -> Table {
        let mut rows: BTreeMap<String, Row> = ids::DRAFT_IDS
            .iter()
            .map(|(id, _)| (id.to_string(), Row::default()))
            .collect();
        for sc in &results.scenarios {
            let mut seen: Vec<&str> = sc
                .tags
                .iter()
                .map(String::as_str)
                .filter(|t| ids::is_requirement_tag(t))
                .collect();
            seen.sort();
            seen.dedup();
            for id in seen {
                let row = rows.entry(id.to_string()).or_default();
                row.covered += 1;
                if sc.status() == Status::Passed {
                    row.passed += 1;
                } else {
                    row.failed += 1;
                }
            }
        }
        Table { rows }
    }

    /// Ids that no scenario covered.
    pub fn uncovered(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|(_, r)| r.covered == 0)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// The table as text: covered ids with counts, then the uncovered ids in one list.
    pub fn render(&self) -> String {
        let mut s = String::from("Requirement coverage (scenario runs per id):\n");
        let _ = writeln!(
            s,
            "  {:<12} {:>7} {:>6} {:>6}  title",
            "id", "covered", "passed", "failed"
        );
        for (id, r) in self.rows.iter().filter(|(_, r)| r.covered > 0) {
            let title = ids::DRAFT_IDS
                .iter()
                .chain(ids::SHIP_BEHAVIOUR_SECTIONS)
                .find(|(i, _)| i == id)
                .map(|(_, t)| *t)
                .unwrap_or("");
            let mark = if r.failed > 0 { " FAILED" } else { "" };
            let _ = writeln!(
                s,
                "  {:<12} {:>7} {:>6} {:>6}  {title}{mark}",
                id, r.covered, r.passed, r.failed
            );
        }
        let unc = self.uncovered();
        let total = ids::DRAFT_IDS.len();
        let covered_draft = ids::DRAFT_IDS
            .iter()
            .filter(|(id, _)| self.rows.get(*id).is_some_and(|r| r.covered > 0))
            .count();
        let _ = writeln!(
            s,
            "  draft requirements covered: {covered_draft}/{total}; uncovered: {}",
            if unc.is_empty() {
                "none".to_string()
            } else {
                unc.join(", ")
            }
        );
        let ship_total = ids::SHIP_BEHAVIOUR_SECTIONS.len();
        let ship_uncovered: Vec<&str> = ids::SHIP_BEHAVIOUR_SECTIONS
            .iter()
            .filter(|(id, _)| self.rows.get(*id).is_none_or(|r| r.covered == 0))
            .map(|(id, _)| *id)
            .collect();
        let ship_covered = ship_total - ship_uncovered.len();
        let _ = writeln!(
            s,
            "  draft requirements: {}% covered; shipped behaviour sections covered: \
             {ship_covered}/{ship_total} ({}%); uncovered: {}",
            covered_draft * 100 / total.max(1),
            ship_covered * 100 / ship_total.max(1),
            if ship_uncovered.is_empty() {
                "none".to_string()
            } else {
                ship_uncovered.join(", ")
            }
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Attempt, ScenarioResult};
    use std::time::Duration;

    fn sc(tags: &[&str], status: Status) -> ScenarioResult {
        ScenarioResult {
            feature: "F".into(),
            path: None,
            profile: "draft".into(),
            name: "s".into(),
            line: 1,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            attempts: vec![Attempt {
                status,
                message: None,
                wall: Duration::ZERO,
            }],
        }
    }

    #[test]
    fn counts_and_uncovered() {
        let r = RunResults {
            scenarios: vec![
                sc(&["V3-MET-3", "SHIP-1.2"], Status::Passed),
                sc(&["V3-MET-3"], Status::Failed),
            ],
            ..Default::default()
        };
        let t = Table::from_results(&r);
        assert_eq!(
            t.rows["V3-MET-3"],
            Row {
                covered: 2,
                passed: 1,
                failed: 1
            }
        );
        assert_eq!(t.rows["SHIP-1.2"].covered, 1);
        assert!(t.uncovered().contains(&"V3-SES-1"));
        assert!(!t.uncovered().contains(&"V3-MET-3"));
        let text = t.render();
        assert!(text.contains("V3-MET-3"), "{text}");
        assert!(text.contains("FAILED"), "{text}");
        assert!(text.contains("uncovered: V3-CAD-1"), "{text}");
        // One of 20 shipped behaviour sections is covered; the rest are listed as uncovered.
        assert!(
            text.contains("shipped behaviour sections covered: 1/20 (5%)"),
            "{text}"
        );
        assert!(
            text.contains("uncovered: SHIP-1, SHIP-1.1, SHIP-1.3"),
            "{text}"
        );
    }
}
