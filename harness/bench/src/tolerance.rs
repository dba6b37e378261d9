//! Wall-clock assertions: a cadence, expiry or delay observed on a real module, checked against
//! the expected value with the rig's tolerance.
//!
//! Messages read like `v.b.soc: interval 10.9 s, expected 10 s ± 0.5 s`.

use std::fmt;
use std::time::Duration;

/// What was measured (used in messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Time between two consecutive publishes.
    Interval,
    /// Time until something expired (will after keepalive, client expiry).
    Expiry,
    /// Time until something happened (response, reconnect).
    Delay,
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Measure::Interval => "interval",
            Measure::Expiry => "expiry",
            Measure::Delay => "delay",
        })
    }
}

/// An observation outside its tolerance.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ToleranceError {
    /// One value out of range.
    #[error("{subject}: {measure} {}, expected {} ± {}{}", secs(*observed), secs(*expected), secs(*tolerance), at_suffix(*index))]
    OutOfRange {
        /// Metric or topic.
        subject: String,
        /// What kind of time.
        measure: Measure,
        /// Observed value.
        observed: Duration,
        /// Expected value.
        expected: Duration,
        /// Allowed deviation.
        tolerance: Duration,
        /// Which interval of a series (0-based), if a series was checked.
        index: Option<usize>,
    },
    /// Not enough observations to measure an interval.
    #[error("{subject}: {count} publish(es) seen, need at least {needed} to measure the interval")]
    TooFew {
        /// Metric or topic.
        subject: String,
        /// Observations.
        count: usize,
        /// Needed.
        needed: usize,
    },
    /// Timestamps going backwards.
    #[error("{subject}: observation {index} is earlier than the one before it")]
    NotMonotonic {
        /// Metric or topic.
        subject: String,
        /// Index of the offending observation.
        index: usize,
    },
    /// Happened too late (deadline checks).
    #[error("{subject}: {measure} {}, expected at most {} (+ {})", secs(*observed), secs(*limit), secs(*tolerance))]
    TooLate {
        /// Metric or topic.
        subject: String,
        /// What kind of time.
        measure: Measure,
        /// Observed.
        observed: Duration,
        /// Limit.
        limit: Duration,
        /// Allowed slack.
        tolerance: Duration,
    },
}

fn at_suffix(i: Option<usize>) -> String {
    match i {
        Some(i) => format!(" (interval {} of the series)", i + 1),
        None => String::new(),
    }
}

/// Seconds, compact: `10 s`, `10.9 s`, `0.25 s`, `1.234 s` (millisecond precision).
pub fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    let whole = ms / 1000;
    let frac = ms % 1000;
    if frac == 0 {
        format!("{whole} s")
    } else {
        let f = format!("{frac:03}");
        format!("{whole}.{} s", f.trim_end_matches('0'))
    }
}

/// Check `observed` is within `expected ± tolerance`.
pub fn check_value(
    subject: &str,
    measure: Measure,
    observed: Duration,
    expected: Duration,
    tolerance: Duration,
) -> Result<(), ToleranceError> {
    if observed.abs_diff(expected) <= tolerance {
        Ok(())
    } else {
        Err(ToleranceError::OutOfRange {
            subject: subject.to_string(),
            measure,
            observed,
            expected,
            tolerance,
            index: None,
        })
    }
}

/// Check one interval between two publishes.
pub fn check_interval(
    subject: &str,
    observed: Duration,
    expected: Duration,
    tolerance: Duration,
) -> Result<(), ToleranceError> {
    check_value(subject, Measure::Interval, observed, expected, tolerance)
}

/// Check an expiry (e.g. the will arriving after 1.5 × keepalive with no traffic).
pub fn check_expiry(
    subject: &str,
    observed: Duration,
    expected: Duration,
    tolerance: Duration,
) -> Result<(), ToleranceError> {
    check_value(subject, Measure::Expiry, observed, expected, tolerance)
}

/// When a broker is expected to publish a module's will after the module went silent (power cut,
/// halted core) with `keepalive_secs`: 1.5 × keepalive after its last packet, plus 2 s because
/// Mosquitto checks keepalives in whole seconds once a second (a silent client with keepalive 2 s
/// was closed 4.5–6.0 s after its last packet here). Check the observed delay with
/// [`check_expiry`] and the rig's expiry tolerance.
pub fn expected_will_delay(keepalive_secs: u16) -> Duration {
    Duration::from_millis(u64::from(keepalive_secs) * 1500 + 2000)
}

/// Check something happened no later than `limit + tolerance` (responses, reconnects).
pub fn check_within(
    subject: &str,
    observed: Duration,
    limit: Duration,
    tolerance: Duration,
) -> Result<(), ToleranceError> {
    if observed <= limit + tolerance {
        Ok(())
    } else {
        Err(ToleranceError::TooLate {
            subject: subject.to_string(),
            measure: Measure::Delay,
            observed,
            limit,
            tolerance,
        })
    }
}

/// The intervals of a cadence measured at consecutive publish times (any common origin).
#[derive(Clone, Debug, PartialEq)]
pub struct Cadence {
    /// Each interval.
    pub intervals: Vec<Duration>,
}

impl Cadence {
    /// Mean interval (zero when empty).
    pub fn mean(&self) -> Duration {
        if self.intervals.is_empty() {
            return Duration::ZERO;
        }
        self.intervals.iter().sum::<Duration>() / self.intervals.len() as u32
    }

    /// Largest deviation from `expected`.
    pub fn worst(&self, expected: Duration) -> Duration {
        self.intervals
            .iter()
            .map(|d| d.abs_diff(expected))
            .max()
            .unwrap_or_default()
    }
}

/// Check every interval between consecutive publish times (offsets from any common origin,
/// e.g. wall time since the scenario began) is `expected ± tolerance`. Needs 2 or more times.
pub fn check_cadence(
    subject: &str,
    times: &[Duration],
    expected: Duration,
    tolerance: Duration,
) -> Result<Cadence, ToleranceError> {
    if times.len() < 2 {
        return Err(ToleranceError::TooFew {
            subject: subject.to_string(),
            count: times.len(),
            needed: 2,
        });
    }
    let mut intervals = Vec::with_capacity(times.len() - 1);
    for (i, w) in times.windows(2).enumerate() {
        let Some(d) = w[1].checked_sub(w[0]) else {
            return Err(ToleranceError::NotMonotonic {
                subject: subject.to_string(),
                index: i + 1,
            });
        };
        if d.abs_diff(expected) > tolerance {
            return Err(ToleranceError::OutOfRange {
                subject: subject.to_string(),
                measure: Measure::Interval,
                observed: d,
                expected,
                tolerance,
                index: Some(i),
            });
        }
        intervals.push(d);
    }
    Ok(Cadence { intervals })
}

/// [`check_cadence`] over `std::time::Instant`s taken when each publish was observed.
pub fn check_cadence_instants(
    subject: &str,
    times: &[std::time::Instant],
    expected: Duration,
    tolerance: Duration,
) -> Result<Cadence, ToleranceError> {
    let Some(first) = times.first() else {
        return check_cadence(subject, &[], expected, tolerance);
    };
    let mut offsets = Vec::with_capacity(times.len());
    for (i, t) in times.iter().enumerate() {
        match t.checked_duration_since(*first) {
            Some(d) => offsets.push(d),
            None => {
                return Err(ToleranceError::NotMonotonic {
                    subject: subject.to_string(),
                    index: i,
                })
            }
        }
    }
    check_cadence(subject, &offsets, expected, tolerance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn message_reads_naturally() {
        let e = check_interval("v.b.soc", ms(10_900), ms(10_000), ms(500)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "v.b.soc: interval 10.9 s, expected 10 s ± 0.5 s"
        );
    }

    #[test]
    fn inside_and_at_the_edge_pass() {
        assert!(check_interval("m", ms(10_400), ms(10_000), ms(500)).is_ok());
        assert!(check_interval("m", ms(9_500), ms(10_000), ms(500)).is_ok());
        assert!(check_interval("m", ms(9_499), ms(10_000), ms(500)).is_err());
        assert!(check_interval("m", ms(10_000), ms(10_000), ms(0)).is_ok());
        assert!(check_interval("m", ms(10_001), ms(10_000), ms(0)).is_err());
    }

    #[test]
    fn expiry_and_deadline() {
        let e = check_expiry("will", ms(94_000), ms(90_000), ms(2_000)).unwrap_err();
        assert_eq!(e.to_string(), "will: expiry 94 s, expected 90 s ± 2 s");
        assert!(check_within("response", ms(2_100), ms(2_000), ms(200)).is_ok());
        let e = check_within("response", ms(2_300), ms(2_000), ms(200)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "response: delay 2.3 s, expected at most 2 s (+ 0.2 s)"
        );
    }

    #[test]
    fn cadence_series() {
        let t = [ms(0), ms(10_100), ms(19_900), ms(30_000)];
        let c = check_cadence("v.b.soc", &t, ms(10_000), ms(200)).unwrap();
        assert_eq!(c.intervals, vec![ms(10_100), ms(9_800), ms(10_100)]);
        assert_eq!(c.worst(ms(10_000)), ms(200));
        assert_eq!(c.mean(), ms(10_000));
        let t = [ms(0), ms(10_000), ms(21_000)];
        let e = check_cadence("v.b.soc", &t, ms(10_000), ms(500)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "v.b.soc: interval 11 s, expected 10 s ± 0.5 s (interval 2 of the series)"
        );
    }

    #[test]
    fn cadence_needs_two_and_monotonic() {
        let e = check_cadence("x", &[ms(1)], ms(10), ms(1)).unwrap_err();
        assert!(e.to_string().contains("need at least 2"), "{e}");
        let e = check_cadence("x", &[ms(5), ms(1)], ms(10), ms(1)).unwrap_err();
        assert!(matches!(e, ToleranceError::NotMonotonic { index: 1, .. }));
    }

    #[test]
    fn instants() {
        let t0 = std::time::Instant::now();
        let t = [t0, t0 + ms(1000), t0 + ms(2010)];
        let c = check_cadence_instants("x", &t, ms(1000), ms(20)).unwrap();
        assert_eq!(c.intervals.len(), 2);
        assert!(check_cadence_instants("x", &[], ms(1000), ms(20)).is_err());
    }

    #[test]
    fn seconds_format() {
        assert_eq!(secs(ms(0)), "0 s");
        assert_eq!(secs(ms(250)), "0.25 s");
        assert_eq!(secs(ms(1234)), "1.234 s");
        assert_eq!(secs(ms(60_000)), "60 s");
    }
}
