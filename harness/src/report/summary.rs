//! The console summary printed after a run: failures with their messages, the requirement
//! coverage table, the time ratio, and the final `N passed, N failed` line.

use std::fmt::Write as _;

use super::model::{RunResults, Status};
use crate::coverage;

/// The full summary text.
pub fn render(results: &RunResults) -> String {
    let mut s = String::new();
    for e in &results.parse_errors {
        let _ = writeln!(s, "parse error: {e}");
    }
    let failed: Vec<_> = results
        .scenarios
        .iter()
        .filter(|r| r.status() != Status::Passed)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(s, "\nFailed scenarios:");
        for r in failed {
            let msg = r
                .attempts
                .last()
                .and_then(|a| a.message.clone())
                .unwrap_or_else(|| "did not pass".into());
            let _ = writeln!(
                s,
                "  [{}] {} ({})\n      {}",
                r.profile,
                r.name,
                r.location(),
                msg.replace('\n', "\n      ")
            );
        }
    }
    let retried = results
        .scenarios
        .iter()
        .filter(|r| r.attempts.len() > 1 && r.status() == Status::Passed)
        .count();
    if retried > 0 {
        let _ = writeln!(s, "\n{retried} scenario(s) passed after a retry (flaky)");
    }
    let _ = writeln!(s, "\n{}", coverage::Table::from_results(results).render());
    let wall = results.wall.as_secs_f64();
    let proto = results.protocol_time.as_secs_f64();
    if proto > 0.0 && wall > 0.0 {
        let _ = writeln!(
            s,
            "time: {wall:.2} s wall for {proto:.0} s of protocol time (ratio {:.0}x)",
            proto / wall
        );
    } else {
        let _ = writeln!(s, "time: {wall:.2} s wall");
    }
    let _ = writeln!(s, "{}", results.final_line());
    s
}
