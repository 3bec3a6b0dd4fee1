//! What a blast reports at the end: its summary, its RTT distribution in bars and its RTT over
//! time. Records only: blast's recorders and histograms fill them (`blast::stats`).

use std::fmt::Write as _;

use super::{Percentiles, RttStats};

/// One point of RTT over time: the replies that arrived in one interval.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct TimePoint {
    /// Interval start, seconds since the first send.
    pub t: f64,
    /// Interval length in seconds.
    pub width: f64,
    /// Replies in the interval.
    pub n: u64,
    /// Smallest RTT in the interval, µs.
    pub min_us: f64,
    /// Median RTT, µs.
    pub p50_us: f64,
    /// 99th-percentile RTT, µs.
    pub p99_us: f64,
    /// Largest RTT, µs.
    pub max_us: f64,
}

/// One bar of the RTT distribution: replies with RTT up to `le_us` (and above the previous bar).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Bucket {
    /// Upper bound of the bar, µs.
    pub le_us: f64,
    /// Replies in the bar.
    pub count: u64,
}

/// Everything a blast reports at the end.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BlastSummary {
    /// The host loaded.
    pub dest: String,
    /// Our source address.
    pub src: String,
    /// Interface sent on.
    pub iface: String,
    /// Link backend.
    pub backend: String,
    /// How frames were transmitted (what `auto` settled on).
    pub tx_mode: String,
    /// Sender threads.
    pub threads: usize,
    /// Ethernet frame length (no FCS).
    pub frame_bytes: usize,
    /// Echo requests handed to the kernel.
    pub sent: u64,
    /// Distinct requests answered.
    pub received: u64,
    /// Requests whose wait expired unanswered: sent − received − in_flight.
    pub lost: u64,
    /// Stopped early (SIGINT/SIGTERM): requests unanswered whose wait had not expired yet,
    /// neither received nor lost. 0 for a run that ended by itself.
    pub in_flight: u64,
    /// Lost, in percent of the requests whose fate is known (sent − in_flight).
    pub loss_percent: f64,
    /// Extra replies to answered requests.
    pub duplicates: u64,
    /// First replies that arrived after a reply to a later request.
    pub out_of_order: u64,
    /// Replies that came back after their window slot was reused (not counted as received).
    pub late: u64,
    /// Replies whose ICMP checksum or sequence field did not check out.
    pub corrupt: u64,
    /// Frames the kernel dropped because a receive ring was full.
    #[serde(rename = "dropped_by_kernel")]
    pub kernel_drops: u64,
    /// Asked rate in frames/s (None: `--rate max`).
    pub asked_rate: Option<f64>,
    /// Frames sent / time from the first to the last send.
    pub achieved_rate: f64,
    /// Replies received / the same span plus the wait for the last replies.
    pub rx_rate: f64,
    /// Seconds from the first to the last send (in JSON: `send_us`).
    #[serde(rename = "send_us", serialize_with = "seconds_as_us")]
    pub send_seconds: f64,
    /// Whole run, seconds (in JSON: the summary's `elapsed_us`).
    #[serde(skip)]
    pub elapsed_seconds: f64,
    /// Mean inter-departure gap per sender thread (µs) and its standard deviation: the jitter.
    pub gap_mean_us: Option<f64>,
    /// Standard deviation of the gaps, µs.
    pub jitter_us: Option<f64>,
    /// RTT statistics with percentiles, µs.
    pub rtt_us: Option<RttStats>,
    /// The RTT distribution in log-spaced bars.
    pub histogram: Vec<Bucket>,
    /// Why the run ended early, if it did.
    pub error: Option<String>,
    /// Whether Ctrl-C ended it (in JSON: the summary's `interrupted`).
    #[serde(skip)]
    pub interrupted: bool,
    /// RTT over time, for a plot (not in JSON: the histogram and percentiles are).
    #[serde(skip)]
    pub timeline: Vec<TimePoint>,
}

fn seconds_as_us<S: serde::Serializer>(s: &f64, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_f64(s * 1e6)
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.3} Mpps", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.3} kpps", r / 1e3)
    } else {
        format!("{r:.1} pps")
    }
}

impl BlastSummary {
    /// The summary as text, in the style of ping's closing lines.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "--- {} blast statistics ---", self.dest);
        let _ = writeln!(
            s,
            "{} sent, {} received, {:.3}% loss, {} duplicates, {} out of order, {} late, {} corrupt, {} kernel drops",
            self.sent,
            self.received,
            self.loss_percent,
            self.duplicates,
            self.out_of_order,
            self.late,
            self.corrupt,
            self.kernel_drops
        );
        if self.in_flight > 0 {
            let _ = writeln!(
                s,
                "{} in flight when stopped (unanswered, their wait not over: not counted as lost)",
                self.in_flight
            );
        }
        let asked = self
            .asked_rate
            .map(|r| format!("{} asked", fmt_rate(r)))
            .unwrap_or_else(|| "max asked".into());
        let dev = match self.asked_rate {
            Some(r) if r > 0.0 && self.sent > 1 => {
                format!(" ({:+.2}%)", 100.0 * (self.achieved_rate - r) / r)
            }
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "rate: {} achieved{dev}, {asked}; rx {}; {:.3} s sending, {:.3} s in all; {} x {}-byte frames, {} thread{} ({}/{})",
            fmt_rate(self.achieved_rate),
            fmt_rate(self.rx_rate),
            self.send_seconds,
            self.elapsed_seconds,
            self.sent,
            self.frame_bytes,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.backend,
            self.tx_mode
        );
        if let (Some(m), Some(j)) = (self.gap_mean_us, self.jitter_us) {
            let _ = writeln!(
                s,
                "departures: mean gap {m:.3} us, jitter (stddev of gaps) {j:.3} us per thread"
            );
        }
        match &self.rtt_us {
            Some(r) => {
                let p = r.percentiles.unwrap_or(Percentiles {
                    p50: r.avg,
                    p90: r.max,
                    p99: r.max,
                    p999: r.max,
                });
                let _ = writeln!(
                    s,
                    "rtt us: min {:.1} p50 {:.1} p90 {:.1} p99 {:.1} p99.9 {:.1} max {:.1} (mean {:.1}, stddev {:.1})",
                    r.min, p.p50, p.p90, p.p99, p.p999, r.max, r.avg, r.mdev
                );
                s.push_str(&text_histogram(&self.histogram));
            }
            None => s.push_str("rtt: no replies\n"),
        }
        s
    }
}

/// Bars of `#` scaled to the largest bucket, one line per bucket with its upper bound in µs.
pub fn text_histogram(b: &[Bucket]) -> String {
    let mut s = String::new();
    let max = b.iter().map(|x| x.count).max().unwrap_or(0).max(1);
    let total: u64 = b.iter().map(|x| x.count).sum::<u64>().max(1);
    for x in b.iter().filter(|x| x.count > 0) {
        let w = ((x.count as f64 / max as f64) * 50.0).ceil() as usize;
        let _ = writeln!(
            s,
            "  <= {:>10.1} us {:>10} {:>6.2}% {}",
            x.le_us,
            x.count,
            100.0 * x.count as f64 / total as f64,
            "#".repeat(w)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> BlastSummary {
        BlastSummary {
            timeline: Vec::new(),
            dest: "192.0.2.1".into(),
            src: "192.0.2.2".into(),
            iface: "veth1".into(),
            backend: "fast".into(),
            tx_mode: "tx-ring".into(),
            threads: 1,
            frame_bytes: 98,
            sent: 10,
            received: 9,
            lost: 1,
            in_flight: 0,
            loss_percent: 10.0,
            duplicates: 0,
            out_of_order: 0,
            late: 0,
            corrupt: 0,
            kernel_drops: 3,
            asked_rate: None,
            achieved_rate: 1000.0,
            rx_rate: 900.0,
            send_seconds: 0.25,
            elapsed_seconds: 1.5,
            gap_mean_us: None,
            jitter_us: None,
            rtt_us: None,
            histogram: vec![Bucket {
                le_us: 12.5,
                count: 9,
            }],
            error: None,
            interrupted: true,
        }
    }

    /// The record's JSON names: the send span in µs, the kernel's drops by their schema name,
    /// and what the summary's envelope carries (elapsed time, interrupted) left out.
    #[test]
    fn the_json_keeps_the_schema_names() {
        let v = serde_json::to_value(summary()).unwrap();
        assert_eq!(v["send_us"], 250_000.0);
        assert_eq!(v["dropped_by_kernel"], 3);
        assert_eq!(v["histogram"][0]["le_us"], 12.5);
        for gone in [
            "send_seconds",
            "kernel_drops",
            "elapsed_seconds",
            "interrupted",
        ] {
            assert!(v.get(gone).is_none(), "{gone}");
        }
    }

    #[test]
    fn the_text_names_the_rates_and_the_bars() {
        let t = summary().to_text();
        assert!(t.contains("--- 192.0.2.1 blast statistics ---"), "{t}");
        assert!(t.contains("1.000 kpps achieved, max asked"), "{t}");
        assert!(text_histogram(&summary().histogram).contains('#'));
    }
}
