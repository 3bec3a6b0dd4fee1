//! What a run counts: its totals, the summary and progress records made from them, and the
//! running RTT statistics.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::event::{self, Command, ProbeTotals, RttStats, Summary, Totals};
use crate::Stop;

/// Totals of a run.
#[derive(Debug, Clone, Default)]
pub struct RunTotals {
    /// Probes sent.
    pub transmitted: u64,
    /// Probes answered directly (first answers only).
    pub received: u64,
    /// Extra answers to already answered probes.
    pub duplicates: u64,
    /// ICMP errors about our probes.
    pub errors: u64,
    /// Probes that timed out.
    pub timeouts: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// From the start to the last request sent or answer received: what iputils prints as
    /// `time` (the wait for answers that never came is left out).
    pub active: Duration,
    /// Answers that matched a probe but failed their IP or ICMP checksum (not counted as
    /// received).
    pub bad_checksums: u64,
    /// Frames the kernel dropped before the engine read them (the receive buffer was full).
    pub kernel_drops: u64,
    /// Most probes in flight when one was answered (iputils' `pipe`).
    pub pipe: u64,
    /// RTT of first answers (running sums: memory stays flat).
    pub rtt: RttAccumulator,
}

impl RunTotals {
    /// The summary record of a request/reply run to `dest`.
    pub fn summary(&self, command: Command, dest: Ipv4Addr, stop: &Stop) -> Summary {
        let lost = self.transmitted - self.received.min(self.transmitted);
        Summary {
            command,
            elapsed_us: event::us(self.elapsed),
            interrupted: stop.is_stopped(),
            totals: Totals::Probe(ProbeTotals {
                dest,
                sent: self.transmitted,
                received: self.received,
                duplicates: self.duplicates,
                errors: self.errors,
                loss_percent: if self.transmitted == 0 {
                    0.0
                } else {
                    100.0 * lost as f64 / self.transmitted as f64
                },
                rtt_us: self.rtt.stats(),
                routers: None,
                active_us: Some(event::us(self.active)),
                dropped_by_kernel: self.kernel_drops,
                bad_checksums: self.bad_checksums,
                pipe: self.pipe,
                ewma_us: self.rtt.ewma(),
            }),
        }
    }

    /// Interim totals (what SIGQUIT prints in iputils ping).
    pub fn progress(&self, elapsed: Duration) -> event::Progress {
        let lost = self.transmitted - self.received.min(self.transmitted);
        let secs = elapsed.as_secs_f64().max(1e-9);
        event::Progress {
            elapsed_us: event::us(elapsed),
            sent: self.transmitted,
            received: self.received,
            tx_rate: self.transmitted as f64 / secs,
            rx_rate: self.received as f64 / secs,
            loss_percent: Some(if self.transmitted == 0 {
                0.0
            } else {
                100.0 * lost as f64 / self.transmitted as f64
            }),
            rtt_us: self.rtt.stats(),
            ewma_us: self.rtt.ewma(),
        }
    }
}

/// Running min/max/sum/sum² of RTTs in µs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RttAccumulator {
    n: u64,
    sum: f64,
    sum2: f64,
    min: f64,
    max: f64,
    ewma: f64,
}

impl RttAccumulator {
    /// Add one sample (µs).
    pub fn add(&mut self, us: f64) {
        if self.n == 0 || us < self.min {
            self.min = us;
        }
        if self.n == 0 || us > self.max {
            self.max = us;
        }
        // iputils' moving average: the first sample, then 1/8 of each new difference.
        self.ewma = if self.n == 0 {
            us
        } else {
            self.ewma + (us - self.ewma) / 8.0
        };
        self.n += 1;
        self.sum += us;
        self.sum2 += us * us;
    }

    /// Take in the samples of another accumulator (min, max, sums; the moving average stays
    /// this one's unless it has no samples).
    pub fn merge(&mut self, other: &RttAccumulator) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.n += other.n;
        self.sum += other.sum;
        self.sum2 += other.sum2;
    }

    /// iputils' exponentially weighted moving average (weight 1/8); None without samples.
    pub fn ewma(&self) -> Option<f64> {
        (self.n > 0).then_some(self.ewma)
    }

    /// min/avg/max/mdev as iputils computes them; None without samples.
    pub fn stats(&self) -> Option<RttStats> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let avg = self.sum / n;
        Some(RttStats {
            min: self.min,
            avg,
            max: self.max,
            mdev: (self.sum2 / n - avg * avg).max(0.0).sqrt(),
            percentiles: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_accumulator_matches_iputils_formula() {
        let mut acc = RttAccumulator::default();
        assert!(acc.stats().is_none());
        for x in [1.0, 2.0, 3.0] {
            acc.add(x);
        }
        let s = acc.stats().unwrap();
        assert_eq!((s.min, s.avg, s.max), (1.0, 2.0, 3.0));
        assert!((s.mdev - (2.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }
}
