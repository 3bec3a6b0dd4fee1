//! `pktforge bench`: flags → [`BenchRequest`] → progress on standard error, a result table
//! (or JSON Lines), an SVG plot.

use std::io::Write as _;

use clap::Args;

use super::args::LinkArgs;
use super::{path_request, resolve_host, seconds};
use pktforge::bench::{self, BenchRequest, MaxRate, Precision};
use pktforge::blast::{self, BlastRequest};
use pktforge::event::bench::{BenchResult, BenchTest};
use pktforge::event::Event;
use pktforge::{Error, Field, Result, Stop};

/// `pktforge bench` flags.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The responder beyond the device under test (IPv4 address or name): the kernel's echo,
    /// `pktforge reflect`, or with --udp a UDP echo service (reflect --udp-echo).
    pub dest: String,
    /// Frame sizes in bytes, comma-separated. A size counts the whole Ethernet frame with its
    /// 4-byte FCS, as RFC 2544 does: 64 is sent as 60 bytes (14 Ethernet + 20 IPv4 + 8 ICMP
    /// or UDP + 18 data) and the NIC adds the FCS. At least 64; at most the MTU + 18.
    #[arg(
        short = 's',
        long = "size",
        value_name = "BYTES,...",
        value_delimiter = ',',
        default_value = "64,128,256,512,1024,1280,1518"
    )]
    pub sizes: Vec<usize>,
    /// The tests, comma-separated: throughput (RFC 2544 26.1), latency (26.2, at the
    /// throughput rate), frame-loss (26.3: 100 %, 90 %, ... of the maximum), back-to-back
    /// (26.4: the longest burst at the maximum rate without loss), or all.
    #[arg(
        long = "test",
        value_name = "TEST,...",
        value_delimiter = ',',
        default_value = "throughput,latency"
    )]
    pub tests: Vec<String>,
    /// Loss bound of the throughput search in percent of the frames sent (0: no loss at
    /// all, the no-drop rate, NDR). 0 ≤ PCT < 100.
    #[arg(long = "loss", value_name = "PCT", default_value_t = 0.0)]
    pub loss: f64,
    /// A second, higher loss bound: a second search per size for the partial drop rate (PDR).
    #[arg(long = "pdr", value_name = "PCT")]
    pub pdr: Option<f64>,
    /// Sending time of each trial in seconds (RFC 2544 asks for 60; shorter runs faster
    /// and lets a queue in the device hide a rate slightly above its throughput).
    #[arg(long = "trial", value_name = "SECS", default_value_t = 60.0)]
    pub trial: f64,
    /// After each trial's last frame, wait up to SECS for late answers (RFC 2544: 2) before
    /// counting; the next trial uses a new ICMP identifier (UDP source port), so answers to
    /// an earlier trial are never counted in a later one.
    #[arg(short = 'W', long = "wait", value_name = "SECS", default_value_t = 2.0)]
    pub wait: f64,
    /// Resolution of the searches: PCT% (stop when the bounds are within PCT percent of the
    /// upper one) or a number of frames per second (back-to-back: frames).
    #[arg(long = "precision", value_name = "PCT%|PPS", default_value = "1%")]
    pub precision: String,
    /// Where the throughput search starts: max (a first trial as fast as this host sends),
    /// a frame rate (10000 or 10000pps), or a line rate on the wire with preamble and gap
    /// (100mbit, 1gbit, 500kbit, 2.5e9bit), turned into each size's frame rate. Frame loss
    /// steps down from it; back-to-back bursts at the sender's maximum.
    #[arg(
        long = "max-rate",
        value_name = "max|PPS|RATEbit",
        default_value = "max"
    )]
    pub max_rate: String,
    /// Latency trials per size (RFC 2544 asks for 20); the RFC's figure is their average.
    #[arg(long = "latency-trials", value_name = "N", default_value_t = 1)]
    pub latency_trials: u32,
    /// Longest burst back-to-back tries (default: a trial's worth at the maximum rate).
    #[arg(long = "burst-max", value_name = "FRAMES")]
    pub burst_max: Option<u64>,
    /// Send UDP datagrams to PORT instead of echo requests (answered by a UDP echo service).
    #[arg(long = "udp", value_name = "PORT")]
    pub udp: Option<u16>,
    /// Sender threads, each with its own TX ring and RX ring (as blast).
    #[arg(long = "threads", value_name = "N", default_value_t = 1)]
    pub threads: usize,
    /// How the fast backend transmits (as blast): auto, live, xdp, ring, sendmmsg.
    #[cfg(target_os = "linux")]
    #[arg(
        long = "tx-mode",
        value_name = "auto|live|xdp|ring|sendmmsg",
        default_value = "auto"
    )]
    pub tx_mode: pktforge::link::packet::fast::TxMode,
    /// At most N frames per syscall (as blast).
    #[arg(long = "batch", value_name = "N", default_value_t = blast::DEFAULT_BATCH)]
    pub batch: usize,
    /// Interface and addresses.
    #[command(flatten)]
    pub link: LinkArgs,
    /// Write every step, trial, result and the summary as JSON Lines.
    #[arg(long = "json")]
    pub json: bool,
    /// Draw throughput and latency per frame size into FILE (SVG).
    #[arg(long = "plot", value_name = "FILE.svg")]
    pub plot: Option<std::path::PathBuf>,
}

fn parse_tests(list: &[String]) -> Result<Vec<BenchTest>> {
    let mut out = Vec::new();
    for t in list {
        let add: &[BenchTest] = match t.trim() {
            "throughput" => &[BenchTest::Throughput],
            "latency" => &[BenchTest::Latency],
            "frame-loss" | "frame_loss" | "loss" => &[BenchTest::FrameLoss],
            "back-to-back" | "back_to_back" => &[BenchTest::BackToBack],
            "all" => &[
                BenchTest::Throughput,
                BenchTest::Latency,
                BenchTest::FrameLoss,
                BenchTest::BackToBack,
            ],
            other => {
                return Err(Error::Invalid(format!(
                "--test {other:?}: expected throughput, latency, frame-loss, back-to-back or all"
            )))
            }
        };
        for a in add {
            if !out.contains(a) {
                out.push(*a);
            }
        }
    }
    if out.contains(&BenchTest::Latency) && !out.contains(&BenchTest::Throughput) {
        return Err(Error::Invalid(
            "--test latency runs at the throughput rate: add throughput".into(),
        ));
    }
    Ok(out)
}

fn parse_precision(s: &str) -> Result<Precision> {
    let bad = || {
        Error::invalid(
            Field::Precision,
            format!("{s:?}: expected PCT% (1%) or frames per second (100)"),
        )
    };
    match s.strip_suffix('%') {
        Some(p) => Ok(Precision::Percent(p.trim().parse().map_err(|_| bad())?)),
        None => Ok(Precision::Absolute(s.trim().parse().map_err(|_| bad())?)),
    }
}

fn parse_max_rate(s: &str) -> Result<MaxRate> {
    let bad = || {
        Error::invalid(
            Field::MaxRate,
            format!("{s:?}: expected max, frames per second (10000, 10000pps) or a line rate (100mbit, 1gbit)"),
        )
    };
    let t = s.trim().to_ascii_lowercase();
    if t == "max" {
        return Ok(MaxRate::Sender);
    }
    if let Some(num) = t.strip_suffix("bit").or_else(|| t.strip_suffix("bps")) {
        let (num, mult) = match num.chars().last() {
            Some('k') => (&num[..num.len() - 1], 1e3),
            Some('m') => (&num[..num.len() - 1], 1e6),
            Some('g') => (&num[..num.len() - 1], 1e9),
            _ => (num, 1.0),
        };
        let v: f64 = num.trim().parse().map_err(|_| bad())?;
        return Ok(MaxRate::Bps(v * mult));
    }
    let num = t.strip_suffix("pps").unwrap_or(&t);
    Ok(MaxRate::Pps(num.trim().parse().map_err(|_| bad())?))
}

/// Turn `bench` flags into a typed request.
pub fn request(a: &BenchArgs) -> Result<BenchRequest> {
    let mut b = BlastRequest::new(resolve_host(&a.dest)?);
    b.udp = a.udp;
    b.threads = a.threads;
    b.batch = a.batch;
    b.backend = a.link.backend;
    #[cfg(target_os = "linux")]
    {
        b.tx_mode = a.tx_mode;
    }
    b.path = path_request(&a.link)?;
    let mut r = BenchRequest::new(b);
    r.sizes = a.sizes.clone();
    r.tests = parse_tests(&a.tests)?;
    r.loss_percent = a.loss;
    r.pdr_percent = a.pdr;
    if !(a.trial.is_finite() && a.trial > 0.0) {
        return Err(Error::invalid(
            Field::Trial,
            format!("{}: must be more than 0 seconds", a.trial),
        ));
    }
    r.trial = seconds("--trial", a.trial)?;
    r.wait = seconds("--wait", a.wait)?;
    r.precision = parse_precision(&a.precision)?;
    r.max_rate = parse_max_rate(&a.max_rate)?;
    r.latency_trials = a.latency_trials;
    r.burst_max = a.burst_max;
    bench::validate(&r)?;
    Ok(r)
}

fn rate_text(pps: f64) -> String {
    if pps >= 1e6 {
        format!("{:.3} Mpps", pps / 1e6)
    } else if pps >= 1e3 {
        format!("{:.2} kpps", pps / 1e3)
    } else {
        format!("{pps:.0} pps")
    }
}

fn progress(ev: &Event) {
    let mut e = std::io::stderr().lock();
    match ev {
        Event::BenchStep(s) => {
            let what = match (s.burst, s.rate_pps) {
                (Some(b), _) => format!("burst of {b} frames"),
                (None, Some(r)) => rate_text(r),
                (None, None) => "max rate".into(),
            };
            let bounds = match (s.low, s.high) {
                (Some(l), Some(h)) => format!(" (bounds {l:.0}..{h:.0})"),
                (Some(l), None) => format!(" (from {l:.0})"),
                _ => String::new(),
            };
            let _ = write!(
                e,
                "bench: {} B {} trial {}: {what}{bounds} ... ",
                s.frame_bytes,
                s.test.name(),
                s.trial
            );
        }
        Event::BenchTrial(t) => {
            let _ = writeln!(
                e,
                "{} sent, {} lost ({:.4}%){}, {} -> {}",
                t.sent,
                t.lost,
                t.loss_percent,
                if t.duplicates > 0 {
                    format!(", {} duplicated", t.duplicates)
                } else {
                    String::new()
                },
                rate_text(t.achieved_pps),
                if t.passed { "pass" } else { "fail" }
            );
        }
        Event::Notice(n) => {
            let _ = writeln!(e, "pktforge: {}", n.message);
        }
        _ => {}
    }
}

/// The results as a table, one row per test and size.
pub fn table(results: &[BenchResult], interrupted: bool) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{:<13} {:>6} {:>12} {:>11} {:>8} {:>10} {:>10} {:>10} {:>10} {:>7}\n",
        "test",
        "bytes",
        "rate",
        "Mbit/s",
        "loss %",
        "rtt p50",
        "rtt p99",
        "rtt max",
        "rfc avg",
        "burst"
    ));
    for r in results {
        let rtt = r.rtt_us;
        let p = rtt.and_then(|x| x.percentiles);
        let us = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}us"));
        let test = match (r.test, r.loss_bound_percent, r.percent_of_max) {
            (BenchTest::Throughput, Some(b), _) if b > 0.0 => format!("throughput≤{b}%"),
            (BenchTest::FrameLoss, _, Some(p)) => format!("loss@{p:.0}%"),
            (t, _, _) => t.name().replace('_', "-"),
        };
        s.push_str(&format!(
            "{:<13} {:>6} {:>12} {:>11.2} {:>8.4} {:>10} {:>10} {:>10} {:>10} {:>7}{}{}\n",
            test,
            r.frame_bytes,
            rate_text(r.rate_pps),
            r.rate_bps / 1e6,
            r.loss_percent,
            us(p.map(|p| p.p50)),
            us(p.map(|p| p.p99)),
            us(rtt.map(|x| x.max)),
            us(r.rfc_latency_us),
            r.burst.map_or("-".into(), |b| b.to_string()),
            if r.sender_limited {
                "  (sender's limit)"
            } else {
                ""
            },
            if r.interrupted {
                "  (interrupted: bound so far)"
            } else {
                ""
            },
        ));
    }
    if interrupted {
        s.push_str("interrupted: the results above are those found so far\n");
    }
    s
}

/// Run `bench`: 0 when it ran (or was stopped) and reported its results, 2 on error (the
/// results found until then are printed first).
pub fn run(a: BenchArgs, stop: &Stop) -> Result<i32> {
    let req = request(&a)?;
    if let Some(p) = &a.plot {
        std::fs::write(p, b"")
            .map_err(|e| Error::io(format!("creating --plot file {}", p.display()), e))?;
    }
    let json = a.json;
    let out = bench::run(&req, stop, &mut |ev| {
        if json {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{}", serde_json::to_string(ev).unwrap_or_default());
            let _ = o.flush();
            if let Event::Notice(n) = ev {
                eprintln!("pktforge: {}", n.message);
            }
        } else {
            progress(ev);
        }
    })?;
    if !json {
        print!("{}", table(&out.totals.results, out.interrupted));
    }
    if let Some(p) = &a.plot {
        std::fs::write(p, bench::plot::svg(&out.totals.dest, &out.totals.results))
            .map_err(|e| Error::io(format!("writing --plot file {}", p.display()), e))?;
    }
    if let Some(e) = out.error {
        return Err(e);
    }
    Ok(0)
}
