//! What a blast measured: per-thread recorders (RTT histogram, RTT over time, departure gaps)
//! merged into one [`BlastSummary`]. The records themselves live with the events
//! ([`crate::event::blast`]); they are named here too.

use hdrhistogram::Histogram;

pub use crate::event::blast::{text_histogram, BlastSummary, Bucket, TimePoint};
use crate::event::{Percentiles, RttStats};

/// Highest RTT the histogram holds (60 s, in ns); higher values are clamped.
const RTT_MAX_NS: u64 = 60_000_000_000;
/// RTT-over-time points kept per thread before adjacent intervals are merged.
const TIMELINE_MAX: usize = 1024;

/// An empty RTT histogram in nanoseconds, 3 significant digits.
pub fn rtt_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, RTT_MAX_NS, 3).expect("static histogram bounds are valid")
}

/// Welford mean/variance of inter-departure gaps, mergeable across threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gaps {
    n: u64,
    mean: f64,
    m2: f64,
    last_ns: Option<u64>,
}

impl Gaps {
    /// A frame left at `ns` (send timestamp).
    #[inline]
    pub fn departed(&mut self, ns: u64) {
        if let Some(last) = self.last_ns {
            let g = ns.saturating_sub(last) as f64;
            self.n += 1;
            let d = g - self.mean;
            self.mean += d / self.n as f64;
            self.m2 += d * (g - self.mean);
        }
        self.last_ns = Some(ns);
    }

    /// `n` frames left together at `ns` (one batch, one stamp): gaps of 0 after the first.
    pub fn departed_many(&mut self, ns: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.departed(ns);
        self.merge(&Gaps {
            n: n - 1,
            mean: 0.0,
            m2: 0.0,
            last_ns: Some(ns),
        });
    }

    /// Combine two independent sets (Chan et al.).
    pub fn merge(&mut self, o: &Gaps) {
        if o.n == 0 {
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.n = n;
    }

    /// Mean gap and its standard deviation (the jitter), in microseconds.
    pub fn mean_stddev_us(&self) -> Option<(f64, f64)> {
        (self.n > 0).then(|| {
            (
                self.mean / 1e3,
                (self.m2 / self.n as f64).max(0.0).sqrt() / 1e3,
            )
        })
    }
}

/// What one thread saw on the receive side.
pub struct Recorder {
    /// Every RTT (ns).
    pub rtt: Histogram<u64>,
    interval: Histogram<u64>,
    interval_start_ns: u64,
    interval_ns: u64,
    /// RTT over time.
    pub timeline: Vec<TimePoint>,
    t0_ns: u64,
}

impl Recorder {
    /// A recorder whose time axis starts at `t0_ns` (UNIX ns), one point per 100 ms at first.
    pub fn new(t0_ns: u64) -> Recorder {
        Recorder {
            rtt: rtt_histogram(),
            interval: rtt_histogram(),
            interval_start_ns: t0_ns,
            interval_ns: 100_000_000,
            timeline: Vec::new(),
            t0_ns,
        }
    }

    /// A reply arrived at `rx_ns` for a request sent at `tx_ns`.
    #[inline]
    pub fn rtt(&mut self, tx_ns: u64, rx_ns: u64) {
        if rx_ns >= self.interval_start_ns + self.interval_ns {
            self.close_interval(rx_ns);
        }
        let v = rx_ns.saturating_sub(tx_ns).clamp(1, RTT_MAX_NS);
        self.rtt.saturating_record(v);
        self.interval.saturating_record(v);
    }

    /// Close the current interval (if it saw replies) and start the one holding `now_ns`.
    pub fn close_interval(&mut self, now_ns: u64) {
        let h = &self.interval;
        if !h.is_empty() {
            self.timeline.push(TimePoint {
                t: (self.interval_start_ns.saturating_sub(self.t0_ns)) as f64 / 1e9,
                width: self.interval_ns as f64 / 1e9,
                n: h.len(),
                min_us: h.min() as f64 / 1e3,
                p50_us: h.value_at_quantile(0.5) as f64 / 1e3,
                p99_us: h.value_at_quantile(0.99) as f64 / 1e3,
                max_us: h.max() as f64 / 1e3,
            });
            self.interval.reset();
        }
        if self.timeline.len() >= TIMELINE_MAX {
            // Memory stays flat: halve the resolution.
            self.timeline = self
                .timeline
                .chunks(2)
                .map(|c| merge_points(c[0], c.get(1).copied()))
                .collect();
            self.interval_ns *= 2;
        }
        let k = now_ns.saturating_sub(self.t0_ns) / self.interval_ns;
        self.interval_start_ns = (self.t0_ns + k * self.interval_ns).max(self.interval_start_ns);
    }
}

fn merge_points(a: TimePoint, b: Option<TimePoint>) -> TimePoint {
    let Some(b) = b else { return a };
    let n = a.n + b.n;
    TimePoint {
        t: a.t,
        width: (b.t + b.width - a.t).max(a.width),
        n,
        min_us: a.min_us.min(b.min_us),
        p50_us: (a.p50_us * a.n as f64 + b.p50_us * b.n as f64) / n.max(1) as f64,
        p99_us: a.p99_us.max(b.p99_us),
        max_us: a.max_us.max(b.max_us),
    }
}

/// RTT statistics in microseconds: the record every run reports.
pub type RttSummary = RttStats;

impl RttStats {
    /// From an RTT histogram in ns; None when empty.
    pub fn from_histogram(h: &Histogram<u64>) -> Option<RttStats> {
        if h.is_empty() {
            return None;
        }
        let us = |v: u64| v as f64 / 1e3;
        Some(RttStats {
            min: us(h.min()),
            avg: h.mean() / 1e3,
            max: us(h.max()),
            mdev: h.stdev() / 1e3,
            percentiles: Some(Percentiles {
                p50: us(h.value_at_quantile(0.5)),
                p90: us(h.value_at_quantile(0.9)),
                p99: us(h.value_at_quantile(0.99)),
                p999: us(h.value_at_quantile(0.999)),
            }),
        })
    }
}

/// Log-spaced buckets (4 per octave) from the smallest to the largest RTT.
pub fn buckets(h: &Histogram<u64>) -> Vec<Bucket> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let step = 2f64.powf(0.25);
    let mut lo = h.min().max(1) as f64;
    let max = h.max() as f64;
    let mut prev = 0u64;
    loop {
        let hi = (lo * step).min(max * 1.0001 + 1.0);
        let upto = h.count_between(0, hi as u64);
        out.push(Bucket {
            le_us: hi / 1e3,
            count: upto - prev,
        });
        prev = upto;
        if hi > max || out.len() > 200 {
            break;
        }
        lo = hi;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_merge_equals_whole() {
        let mut a = Gaps::default();
        let mut b = Gaps::default();
        let mut all = Gaps::default();
        for (i, t) in [0u64, 10, 25, 30, 50, 51, 90].iter().enumerate() {
            all.departed(*t);
            if i < 4 {
                a.departed(*t);
            } else {
                b.departed(*t);
            }
        }
        // b starts fresh at 50: its first gap is 51-50; `all` has the 30→50 gap too.
        let (m, _) = all.mean_stddev_us().unwrap();
        assert!((m - 90.0 / 6.0 / 1e3).abs() < 1e-12);
        a.merge(&b);
        assert_eq!(a.n, 5);
        assert!(Gaps::default().mean_stddev_us().is_none());
    }

    #[test]
    fn recorder_timeline_and_buckets() {
        let t0 = 1_000_000_000_000u64;
        let mut r = Recorder::new(t0);
        for i in 0..5000u64 {
            let rx = t0 + i * 1_000_000; // one per ms for 5 s
            r.rtt(rx - 50_000 - (i % 7) * 1000, rx);
        }
        r.close_interval(t0 + 6_000_000_000);
        assert_eq!(r.rtt.len(), 5000);
        assert!(r.timeline.len() >= 49 && r.timeline.len() <= 51);
        assert_eq!(r.timeline.iter().map(|p| p.n).sum::<u64>(), 5000);
        let s = RttSummary::from_histogram(&r.rtt).unwrap();
        assert!(
            (s.min - 50.0).abs() < 0.1 && (s.max - 56.0).abs() < 0.1,
            "{s:?}"
        );
        let b = buckets(&r.rtt);
        assert_eq!(b.iter().map(|x| x.count).sum::<u64>(), 5000);
        assert!(text_histogram(&b).contains('#'));
    }

    #[test]
    fn timeline_memory_is_bounded() {
        let t0 = 0u64;
        let mut r = Recorder::new(t0);
        for i in 0..20_000u64 {
            r.rtt(i * 100_000_000, i * 100_000_000 + 1000); // one reply per 100 ms interval
        }
        assert!(r.timeline.len() <= TIMELINE_MAX);
    }
}
