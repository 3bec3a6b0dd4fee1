//! `pktforge capture -I IFACE [FILTER]`: live frames, one decoded line each (tcpdump-like), or
//! the full dissection with `-v`. The filter runs in the kernel as classic BPF.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use clap::Args;

use super::seconds;
use pktforge::dissect::{dissect_frame, render_text, summary};
use pktforge::filter::Filter;
use pktforge::link::pcap::PcapWriter;
use pktforge::link::{self, LinkConfig, RxFilter};
use pktforge::net::iface;
use pktforge::{Error, Result};

/// `pktforge capture` flags.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Interface to capture on.
    #[arg(short = 'I', long = "interface", value_name = "IFACE")]
    pub iface: String,
    /// Filter words, e.g. `icmp and not host 192.0.2.1` (see the grammar in the README).
    pub filter: Vec<String>,
    /// Stop after COUNT frames.
    #[arg(short = 'c', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,
    /// Link implementation: fast (Linux TPACKET_V3 ring, default on Linux) or pnet (portable).
    #[arg(long = "backend", value_name = "pnet|fast", default_value_t = pktforge::link::Backend::default())]
    pub backend: pktforge::link::Backend,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Full dissection of each frame.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// One JSON object per frame (time, summary, dissection).
    #[arg(long)]
    pub json: bool,
    /// Also write the frames to FILE (pcap, nanosecond kernel timestamps).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Do not put the interface in promiscuous mode.
    #[arg(long = "no-promisc")]
    pub no_promisc: bool,
}

/// `HH:MM:SS.nnnnnnnnn` (UTC) of a time since the epoch.
pub fn time_of_day(d: Duration) -> String {
    let s = d.as_secs() % 86400;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        d.subsec_nanos()
    )
}

/// Run `capture` until the count, the duration or Ctrl-C; exit 0.
pub fn run(a: CaptureArgs, stop: &AtomicBool) -> Result<i32> {
    let filter = Filter::compile(&a.filter.join(" "))?;
    if a.count == Some(0) {
        return Err(Error::Invalid("-c COUNT must be at least 1".into()));
    }
    let duration = a.duration.map(|d| seconds("--duration", d)).transpose()?;
    let ifc = iface::by_name(&a.iface)?;
    let mut link = link::open_backend(
        a.backend,
        &ifc,
        &LinkConfig {
            filter: RxFilter::Bpf(filter.program.clone()),
            promiscuous: !a.no_promisc,
            buffer_size: 4 << 20,
        },
    )?;
    let mut pcap = a.pcap.as_ref().map(PcapWriter::create).transpose()?;
    let what = match &filter.expr {
        Some(e) => format!(" filter {e}"),
        None => String::new(),
    };
    eprintln!(
        "pktforge: capturing on {}{what} ({} BPF instructions in the kernel)",
        ifc.name,
        filter.program.len()
    );
    let start = Instant::now();
    let end = duration.map(|d| start + d);
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) && a.count.is_none_or(|c| n < c) {
        // Wake at least every 200 ms to notice Ctrl-C.
        let mut deadline = Instant::now() + Duration::from_millis(200);
        if let Some(e) = end {
            if Instant::now() >= e {
                break;
            }
            deadline = deadline.min(e);
        }
        let Some(rx) = link.recv(deadline)? else {
            continue;
        };
        n += 1;
        let ts = rx.timestamp;
        let t = ts
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        if let Some(w) = pcap.as_mut() {
            w.write(ts, rx.data)?;
        }
        print_rx(rx.data, t, a.verbose, a.json);
    }
    if let Some(w) = pcap.as_mut() {
        w.flush()?;
    }
    let st = link.stats();
    eprintln!("{n} frames captured, {} dropped by kernel", st.kernel_drops);
    Ok(0)
}

/// Print one received frame: a line (and the tree with `verbose`), or a JSON object.
pub fn print_rx(data: &[u8], t: Duration, verbose: bool, json: bool) {
    if json {
        let d = dissect_frame(data);
        let v = serde_json::json!({
            "time": t.as_secs_f64(),
            "summary": summary(data),
            "dissection": d,
        });
        println!("{v}");
        return;
    }
    println!("{} {}", time_of_day(t), summary(data));
    if verbose {
        for l in render_text(&dissect_frame(data)) {
            println!("    {l}");
        }
    }
}
