//! `--plot FILE.svg`: RTT over time (per-interval min, median, p99, max) beside the RTT
//! distribution, as a self-contained SVG written by hand.

use std::fmt::Write as _;

use crate::event::blast::{BlastSummary, Bucket, TimePoint};

const W: f64 = 1100.0;
const H: f64 = 420.0;
const PAD: f64 = 55.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A "nice" upper bound for an axis.
fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let e = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * e)
        .find(|x| *x >= v)
        .unwrap_or(10.0 * e)
}

/// The SVG document for a finished run.
pub fn svg(summary: &BlastSummary, timeline: &[TimePoint]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let title = format!(
        "pktforge blast {} via {}: {} sent, {} received ({:.3}% loss), {:.0} pps achieved",
        summary.dest,
        summary.iface,
        summary.sent,
        summary.received,
        summary.loss_percent,
        summary.achieved_rate
    );
    let _ = writeln!(
        s,
        r#"<text x="{PAD}" y="18" font-size="13">{}</text>"#,
        esc(&title)
    );
    // Left: RTT over time.
    let (x0, x1, y0, y1) = (PAD, W * 0.62, H - PAD, 40.0);
    let tmax = nice(timeline.iter().map(|p| p.t + p.width).fold(0.0, f64::max));
    let rmax = nice(timeline.iter().map(|p| p.max_us).fold(0.0, f64::max));
    axes(&mut s, x0, x1, y0, y1, tmax, rmax, "time (s)", "RTT (us)");
    let sx = |t: f64| x0 + (x1 - x0) * t / tmax;
    let sy = |v: f64| y0 - (y0 - y1) * v / rmax;
    for (name, color, f) in [
        (
            "max",
            "#d62728",
            (|p: &TimePoint| p.max_us) as fn(&TimePoint) -> f64,
        ),
        ("p99", "#ff7f0e", |p: &TimePoint| p.p99_us),
        ("p50", "#1f77b4", |p: &TimePoint| p.p50_us),
        ("min", "#2ca02c", |p: &TimePoint| p.min_us),
    ] {
        let pts: Vec<String> = timeline
            .iter()
            .map(|p| format!("{:.1},{:.1}", sx(p.t + p.width / 2.0), sy(f(p))))
            .collect();
        if !pts.is_empty() {
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.2" points="{}"><title>{name}</title></polyline>"#,
                pts.join(" ")
            );
        }
    }
    for (i, (name, color)) in [
        ("max", "#d62728"),
        ("p99", "#ff7f0e"),
        ("p50", "#1f77b4"),
        ("min", "#2ca02c"),
    ]
    .iter()
    .enumerate()
    {
        let y = y1 + 12.0 + 14.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{name}</text>"#,
            x1 - 60.0,
            x1 - 45.0,
            x1 - 40.0,
            y + 4.0
        );
    }
    // Right: distribution (log-spaced buckets, bar height = share of replies).
    let (bx0, bx1) = (W * 0.70, W - 20.0);
    distribution(&mut s, &summary.histogram, bx0, bx1, y0, y1);
    s.push_str("</svg>\n");
    s
}

#[allow(clippy::too_many_arguments)]
fn axes(
    s: &mut String,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    xmax: f64,
    ymax: f64,
    xl: &str,
    yl: &str,
) {
    let _ = writeln!(
        s,
        r#"<path d="M{x0},{y1} V{y0} H{x1}" stroke="black" fill="none"/>"#
    );
    for i in 0..=5 {
        let f = i as f64 / 5.0;
        let x = x0 + (x1 - x0) * f;
        let y = y0 - (y0 - y1) * f;
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{y0}" x2="{x}" y2="{}" stroke="black"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"##,
            y0 + 4.0,
            y0 + 16.0,
            trim(xmax * f)
        );
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            x0 - 4.0,
            y + 4.0,
            trim(ymax * f)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{xl}</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">{yl}</text>"#,
        (x0 + x1) / 2.0,
        y0 + 32.0,
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0
    );
}

fn trim(v: f64) -> String {
    let t = format!("{v:.3}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn distribution(s: &mut String, b: &[Bucket], x0: f64, x1: f64, y0: f64, y1: f64) {
    let total: u64 = b.iter().map(|x| x.count).sum();
    let _ = writeln!(
        s,
        r#"<path d="M{x0},{y1} V{y0} H{x1}" stroke="black" fill="none"/><text x="{}" y="{}" text-anchor="middle">RTT (us, log buckets)</text><text x="{}" y="{}" text-anchor="middle">share of replies</text>"#,
        (x0 + x1) / 2.0,
        y0 + 32.0,
        (x0 + x1) / 2.0,
        y1 - 6.0
    );
    if total == 0 || b.is_empty() {
        return;
    }
    let max = b.iter().map(|x| x.count).max().unwrap_or(1) as f64;
    let bw = (x1 - x0) / b.len() as f64;
    let label_every = (b.len() / 6).max(1);
    for (i, x) in b.iter().enumerate() {
        let h = (y0 - y1) * x.count as f64 / max;
        let bx = x0 + bw * i as f64;
        let _ = writeln!(
            s,
            r##"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#1f77b4"><title>&lt;= {:.1} us: {} ({:.2}%)</title></rect>"##,
            y0 - h,
            (bw - 1.0).max(0.5),
            x.le_us,
            x.count,
            100.0 * x.count as f64 / total as f64
        );
        if i % label_every == 0 {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                bx + bw / 2.0,
                y0 + 16.0,
                trim(x.le_us)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::stats::{buckets, Recorder, RttSummary};
    use super::*;

    #[test]
    fn svg_is_well_formed_and_has_both_panels() {
        let mut r = Recorder::new(0);
        for i in 0..3000u64 {
            r.rtt(i * 1_000_000, i * 1_000_000 + 40_000 + (i % 13) * 3000);
        }
        r.close_interval(10_000_000_000);
        let summary = BlastSummary {
            timeline: Vec::new(),
            dest: "203.0.113.2".into(),
            src: "192.0.2.2".into(),
            iface: "a-r1".into(),
            backend: "fast".into(),
            tx_mode: "tx-ring".into(),
            threads: 1,
            frame_bytes: 98,
            sent: 3000,
            received: 3000,
            lost: 0,
            in_flight: 0,
            loss_percent: 0.0,
            duplicates: 0,
            out_of_order: 0,
            late: 0,
            corrupt: 0,
            kernel_drops: 0,
            asked_rate: Some(1000.0),
            achieved_rate: 1000.0,
            rx_rate: 1000.0,
            send_seconds: 3.0,
            elapsed_seconds: 3.0,
            gap_mean_us: None,
            jitter_us: None,
            rtt_us: RttSummary::from_histogram(&r.rtt),
            histogram: buckets(&r.rtt),
            error: None,
            interrupted: false,
        };
        let doc = svg(&summary, &r.timeline);
        assert!(doc.starts_with("<svg") && doc.trim_end().ends_with("</svg>"));
        assert_eq!(doc.matches("<polyline").count(), 4);
        assert!(doc.matches("<rect").count() > 3);
        assert_eq!(doc.matches('<').count(), doc.matches('>').count());
        // Empty runs still draw.
        let empty = svg(
            &BlastSummary {
                timeline: Vec::new(),
                histogram: vec![],
                ..summary
            },
            &[],
        );
        assert!(empty.contains("</svg>"));
    }
}
