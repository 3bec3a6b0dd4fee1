//! `--plot FILE.svg`: throughput per frame size (Mbit/s on the wire and frames per second)
//! beside the latency at that rate (median and 99th percentile RTT), as a self-contained SVG.

use std::fmt::Write as _;

use crate::event::bench::{BenchResult, BenchTest};

const W: f64 = 1000.0;
const H: f64 = 400.0;
const PAD: f64 = 60.0;

fn nice(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let e = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * e)
        .find(|x| *x >= v)
        .unwrap_or(10.0 * e)
}

/// One panel: bars per size (`values`: (label, main, optional second value)), axis up to a
/// nice maximum.
#[allow(clippy::too_many_arguments)]
fn panel(
    s: &mut String,
    x0: f64,
    x1: f64,
    title: &str,
    unit: &str,
    rows: &[(usize, f64, Option<f64>)],
    names: (&str, &str),
    colors: (&str, &str),
) {
    let (y0, y1) = (H - PAD, 50.0);
    let max = nice(
        rows.iter()
            .map(|r| r.1.max(r.2.unwrap_or(0.0)))
            .fold(0.0, f64::max),
    );
    let _ = writeln!(s, r#"<text x="{x0}" y="38" font-size="13">{title}</text>"#);
    let _ = writeln!(
        s,
        r#"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="black"/><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="black"/>"#
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = y0 - (y0 - y1) * k as f64 / 4.0;
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"##,
            x0 - 4.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" transform="rotate(-90 {:.1} {:.1})" text-anchor="middle">{unit}</text>"#,
        x0 - 45.0,
        (y0 + y1) / 2.0,
        x0 - 45.0,
        (y0 + y1) / 2.0
    );
    let n = rows.len().max(1) as f64;
    let slot = (x1 - x0) / n;
    for (i, (size, a, b)) in rows.iter().enumerate() {
        let cx = x0 + slot * (i as f64 + 0.5);
        let bw = slot * 0.35;
        for (j, (v, color)) in [(Some(*a), colors.0), (*b, colors.1)].iter().enumerate() {
            if let Some(v) = v {
                let h = (y0 - y1) * v / max;
                let x = cx - bw + j as f64 * bw;
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{color}"/>"#,
                    y0 - h,
                    bw * 0.95
                );
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{size}</text>"#,
            y0 + 14.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">frame size (bytes, FCS included)</text>"#,
        (x0 + x1) / 2.0,
        y0 + 32.0
    );
    for (j, (name, color)) in [(names.0, colors.0), (names.1, colors.1)]
        .iter()
        .enumerate()
    {
        if name.is_empty() {
            continue;
        }
        let y = 50.0 + 14.0 * j as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}">{name}</text>"#,
            x1 - 110.0,
            y - 9.0,
            x1 - 96.0,
            y
        );
    }
}

/// The SVG for a benchmark's results: throughput and latency per frame size.
pub fn svg(dest: &str, results: &[BenchResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{PAD}" y="18" font-size="14">pktforge bench {dest}: RFC 2544 throughput and latency per frame size</text>"#
    );
    // The first bound's throughput per size (NDR), with its frame rate.
    let mut tput: Vec<(usize, f64, Option<f64>)> = Vec::new();
    for r in results.iter().filter(|r| r.test == BenchTest::Throughput) {
        if !tput.iter().any(|t| t.0 == r.frame_bytes) {
            tput.push((r.frame_bytes, r.rate_bps / 1e6, None));
        }
    }
    let lat: Vec<(usize, f64, Option<f64>)> = results
        .iter()
        .filter(|r| r.test == BenchTest::Latency)
        .filter_map(|r| {
            let rtt = r.rtt_us?;
            let p = rtt.percentiles?;
            Some((r.frame_bytes, p.p50, Some(p.p99)))
        })
        .collect();
    panel(
        &mut s,
        PAD + 20.0,
        W / 2.0 - 30.0,
        "throughput (Mbit/s on the wire)",
        "Mbit/s",
        &tput,
        ("", ""),
        ("#3572b0", "#3572b0"),
    );
    panel(
        &mut s,
        W / 2.0 + PAD,
        W - 30.0,
        "round-trip time at that rate (us)",
        "us",
        &lat,
        ("median", "99th pct"),
        ("#2a9d4a", "#d0602a"),
    );
    s.push_str("</svg>\n");
    s
}
