//! Replay counters and the lateness histogram.

use std::time::Duration;

use crate::schedule::ScheduleStats;

/// Sub-buckets per power of two: values are kept to within 1/64 (≈1.6 %) of their true size.
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets for every `u64` nanosecond value.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// A log-linear histogram of |actual − scheduled| in nanoseconds (constant memory, ≈1.6 % precision;
/// `max` and `mean` are exact).
#[derive(Clone)]
pub struct LatenessHistogram {
    counts: Vec<u64>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

impl std::fmt::Debug for LatenessHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatenessHistogram")
            .field("count", &self.count)
            .field("p50", &self.p50())
            .field("p99", &self.p99())
            .field("max", &self.max())
            .finish()
    }
}

impl Default for LatenessHistogram {
    fn default() -> Self {
        LatenessHistogram {
            counts: vec![0; BUCKETS],
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = exp - SUB_BITS;
    let sub = (v >> shift) & (SUB - 1);
    ((shift as u64 + 1) * SUB + sub) as usize
}

/// Largest value that falls into bucket `i`.
fn bucket_high(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let shift = i / SUB - 1;
    let sub = i % SUB;
    let low = (SUB + sub) << shift;
    low.saturating_add((1u64 << shift) - 1)
}

impl LatenessHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one sample.
    pub fn record(&mut self, lateness: Duration) {
        let ns = u64::try_from(lateness.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket_of(ns)] += 1;
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value at quantile `q` (0.0..=1.0), as the upper edge of its bucket (never above `max`).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Duration::from_nanos(bucket_high(i).min(self.max_ns));
            }
        }
        Duration::from_nanos(self.max_ns)
    }

    /// Median.
    pub fn p50(&self) -> Duration {
        self.quantile(0.50)
    }

    /// 99th percentile.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// Largest sample (exact).
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.max_ns)
    }

    /// Mean (exact).
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos((self.sum_ns / u128::from(self.count)) as u64)
    }
}

/// Why a replay ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// All passes were played (or a pass scheduled nothing).
    Finished,
    /// [`crate::StopHandle::stop`] was called.
    Stopped,
    /// The sink's consumer went away (e.g. the channel receiver was dropped).
    SinkClosed,
}

/// What a replay run did.
#[derive(Debug, Clone)]
pub struct ReplayStats {
    /// Read / scheduled / dropped counters of the schedule.
    pub schedule: ScheduleStats,
    /// Frames the sink accepted.
    pub frames_sent: u64,
    /// |actual − scheduled| of each frame handed to the sink, measured just before the hand-over
    /// (wall clock only; empty on the virtual clock).
    pub lateness: LatenessHistogram,
    /// Why the run ended.
    pub end: EndReason,
    /// Time the run took (on the runner's clock).
    pub elapsed: Duration,
}

impl ReplayStats {
    /// Frames dropped by the bus map or the id filter.
    pub fn dropped_by_filter(&self) -> u64 {
        self.schedule.dropped_by_filter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut prev = 0;
        for v in (0..200_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let b = bucket_of(v);
            assert!(b >= prev, "bucket order at {v}");
            prev = b;
            assert!(bucket_high(b) >= v, "upper edge below value {v}");
            assert!(bucket_high(b) - v <= v / 64 + 1, "bucket too wide at {v}");
        }
    }

    #[test]
    fn quantiles_of_known_samples() {
        let mut h = LatenessHistogram::new();
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.count(), 100);
        let p50 = h.p50().as_nanos() as f64;
        assert!((50_000.0..=50_000.0 * 1.016).contains(&p50), "p50 {p50}");
        let p99 = h.p99().as_nanos() as f64;
        assert!((99_000.0..=99_000.0 * 1.016).contains(&p99), "p99 {p99}");
        assert_eq!(h.max(), Duration::from_micros(100));
        assert_eq!(h.mean(), Duration::from_nanos(50_500));
        assert_eq!(LatenessHistogram::new().p99(), Duration::ZERO);
    }
}
