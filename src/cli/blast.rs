//! `pktforge blast`: flags → [`BlastRequest`] → live progress, summary, JSON, SVG plot.

use clap::Args;

use super::args::{parse_hex, parse_u8_any, IpOptionArgs, LinkArgs};
use super::{options_request, path_request, resolve_host, seconds};
use pktforge::blast::{self, BlastRequest, Rate};
use pktforge::event::Totals;
use pktforge::{Error, Result, Stop};
use std::io::IsTerminal;

use super::render::Render;

/// `pktforge blast` flags.
#[derive(Debug, Args)]
pub struct BlastArgs {
    /// Host to send echo requests to (IPv4 address or name).
    pub dest: String,
    /// Frames per second over all threads, or `max`.
    #[arg(
        short = 'r',
        long = "rate",
        value_name = "PPS|max",
        default_value = "1000"
    )]
    pub rate: Rate,
    /// Stop after COUNT requests (over all threads).
    #[arg(short = 'c', long = "count", value_name = "COUNT", value_parser = super::args::parse_u64_any)]
    pub count: Option<u64>,
    /// Stop sending after SECS seconds.
    #[arg(short = 'd', long = "duration", value_name = "SECS")]
    pub duration: Option<f64>,
    /// ICMP data bytes (at least 16: sequence number + send time).
    #[arg(short = 's', long = "size", value_name = "SIZE", default_value_t = 56, value_parser = super::args::parse_usize_any)]
    pub size: usize,
    /// Sender threads, each with its own TX ring and RX ring (at most the interface's queues).
    #[arg(long = "threads", value_name = "N", default_value_t = 1)]
    pub threads: usize,
    /// How the fast backend transmits: auto (live when the interface delivers XDP
    /// redirects, else AF_XDP when it allows, else the TX ring), live (XDP live frames: an XDP
    /// program stamps and redirects each frame in the kernel; on veth the peer needs GRO or an
    /// XDP program), xdp (AF_XDP copy mode, one queue per thread), ring (TPACKET TX ring),
    /// sendmmsg.
    #[cfg(target_os = "linux")]
    #[arg(
        long = "tx-mode",
        value_name = "auto|live|xdp|ring|sendmmsg",
        default_value = "auto"
    )]
    pub tx_mode: pktforge::link::packet::fast::TxMode,
    /// After the last request, wait up to SECS for outstanding replies.
    #[arg(short = 'W', long = "wait", value_name = "SECS", default_value_t = 1.0)]
    pub wait: f64,
    /// At most N frames per syscall (1..=1024; larger batches send faster but stamp later
    /// frames of a batch early, inflating their RTT). With live TX: frames per redirect
    /// flush in the kernel (at most 256); each frame is stamped as it leaves. At a paced
    /// rate, also the most frames sent per wake-up (1: every frame at its own time).
    #[arg(long = "batch", value_name = "N", default_value_t = blast::DEFAULT_BATCH)]
    pub batch: usize,
    /// IP time to live (1..=255).
    #[arg(short = 't', long = "ttl", value_name = "TTL", default_value_t = 64,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub ttl: u8,
    /// IP TOS byte, decimal or 0x hex.
    #[arg(short = 'Q', long = "tos", value_name = "TOS", value_parser = parse_u8_any)]
    pub tos: Option<u8>,
    /// Set Don't Fragment.
    #[arg(long = "df")]
    pub df: bool,
    /// Send UDP datagrams to PORT instead of echo requests (same sequence + send time
    /// payload; matched when a UDP echo service sends them back, e.g. reflect --udp-echo).
    #[arg(long = "udp", value_name = "PORT")]
    pub udp: Option<u16>,
    /// ICMP identifier of thread 0 (thread k uses ID + k; default: process id). With --udp:
    /// the UDP source port of thread 0.
    #[arg(long = "id", value_name = "ID")]
    pub id: Option<u16>,
    /// Up to 16 hex bytes repeated after the 16-byte stamp.
    #[arg(short = 'p', long = "pattern", value_name = "HEX")]
    pub pattern: Option<String>,
    /// IP options.
    #[command(flatten)]
    pub ip_options: IpOptionArgs,
    /// Interface and addresses.
    #[command(flatten)]
    pub link: LinkArgs,
    /// Print the summary as one JSON object.
    #[arg(long = "json")]
    pub json: bool,
    /// Draw RTT over time and the RTT distribution into FILE (SVG).
    #[arg(long = "plot", value_name = "FILE.svg")]
    pub plot: Option<std::path::PathBuf>,
}

/// Turn `blast` flags into a typed request.
pub fn request(a: &BlastArgs) -> Result<BlastRequest> {
    let mut r = BlastRequest::new(resolve_host(&a.dest)?);
    r.rate = a.rate;
    r.count = a.count;
    r.duration = a.duration.map(|d| seconds("--duration", d)).transpose()?;
    r.size = a.size;
    r.threads = a.threads;
    r.backend = a.link.backend;
    #[cfg(target_os = "linux")]
    {
        r.tx_mode = a.tx_mode;
    }
    r.wait = seconds("--wait", a.wait)?;
    r.batch = a.batch;
    r.ttl = a.ttl;
    r.udp = a.udp;
    r.tos = a.tos.unwrap_or(0);
    r.dont_fragment = a.df;
    if let Some(id) = a.id {
        r.id = id;
    }
    if let Some(p) = &a.pattern {
        r.pattern = parse_hex("-p", p)?;
    }
    r.options = options_request(&a.ip_options)?;
    r.path = path_request(&a.link)?;
    Ok(r)
}

/// Run `blast`: exit 0 when replies came, 1 when none did, 2 on error (the summary of what
/// was sent is printed first).
pub fn run(a: BlastArgs, stop: &Stop) -> Result<i32> {
    let req = request(&a)?;
    if let Some(p) = &a.plot {
        // Refuse an unwritable plot path before sending anything.
        std::fs::write(p, b"")
            .map_err(|e| Error::io(format!("creating --plot file {}", p.display()), e))?;
    }
    if !a.json && (req.count.is_some() || req.duration.is_some()) {
        println!(
            "BLAST {} {} with {}-byte {} data, {}",
            req.dest,
            match req.rate {
                Rate::Max => "at max rate".to_string(),
                Rate::Pps(r) => format!("at {r} pps"),
            },
            req.size,
            match req.udp {
                Some(p) => format!("UDP (port {p})"),
                None => "ICMP".into(),
            },
            match (req.count, req.duration) {
                (Some(c), Some(d)) => format!("{c} requests or {} s", d.as_secs_f64()),
                (Some(c), None) => format!("{c} requests"),
                (None, Some(d)) => format!("{} s", d.as_secs_f64()),
                (None, None) => String::new(), // refused by blast::run below
            }
        );
    }
    let mut render = Render::new(a.json);
    render.progress = std::io::stderr().is_terminal();
    let summary = req.run_with(stop, &mut |ev| render.event(ev))?;
    if let (Some(p), Totals::Blast(b)) = (&a.plot, &summary.totals) {
        std::fs::write(p, blast::plot::svg(b, &b.timeline))
            .map_err(|e| Error::io(format!("writing --plot file {}", p.display()), e))?;
    }
    Ok(if summary.received().unwrap_or(0) > 0 {
        0
    } else {
        1
    })
}
