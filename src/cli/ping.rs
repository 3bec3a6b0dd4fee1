//! `pktforge ping`: iputils-compatible flags → [`PingRequest`] → report.

use clap::Args;

use super::args::{parse_hex, parse_u16_any, parse_u8_any, ProbeArgs};
use super::render::Render;
use super::{exit_code, resolve_host, seconds, target};
use pktforge::event::Totals;
use pktforge::probe::ping::PingRequest;
use pktforge::{Result, Stop};

/// `pktforge ping` flags, named as in iputils ping.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// Host to ping (IPv4 address or name).
    pub dest: String,
    /// Stop after sending COUNT requests.
    #[arg(short = 'c', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,
    /// Seconds between requests.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECS",
        default_value_t = 1.0
    )]
    pub interval: f64,
    /// ICMP data bytes (after the 8-byte header).
    #[arg(short = 's', long = "size", value_name = "SIZE", default_value_t = 56)]
    pub size: usize,
    /// IP time to live (1..=255).
    #[arg(short = 't', long = "ttl", value_name = "TTL", default_value_t = 64,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub ttl: u8,
    /// IP TOS byte (DSCP << 2 | ECN), decimal or 0x hex.
    #[arg(short = 'Q', long = "tos", value_name = "TOS", value_parser = parse_u8_any)]
    pub tos: Option<u8>,
    /// Seconds to wait for replies after the last request.
    #[arg(
        short = 'W',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 10.0
    )]
    pub timeout: f64,
    /// Stop after SECS seconds, however many requests were sent.
    #[arg(short = 'w', long = "deadline", value_name = "SECS")]
    pub deadline: Option<f64>,
    /// Up to 16 hex bytes repeated to fill the data (after the 16-byte timestamp).
    #[arg(short = 'p', long = "pattern", value_name = "HEX")]
    pub pattern: Option<String>,
    /// Quiet: only the header and the summary.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Numeric output only (pktforge never resolves names in output; accepted for iputils habits).
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
    /// Set the Don't Fragment flag.
    #[arg(long = "df")]
    pub df: bool,
    /// ICMP identifier (default: process id).
    #[arg(long = "id", value_name = "ID", value_parser = parse_u16_any)]
    pub id: Option<u16>,
    /// IP options, interface, addresses and output.
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// Run `ping`; exit code 0 when any reply came, 1 when none did.
pub fn run(a: PingArgs, stop: &Stop) -> Result<i32> {
    let req = request(&a)?;
    // Unwritable outputs are refused before anything (ARP included) is sent.
    super::log::check_writable("--pcap", a.probe.output.pcap.as_deref())?;
    let mut log = super::log::Log::open(a.probe.output.log.as_deref())?;
    let mut out = Render::new(a.probe.output.json);
    out.quiet = a.quiet;
    let summary = req.run_with(stop, &mut |ev| {
        out.event(ev);
        log.event(ev);
    })?;
    // iputils: with -w, fewer replies than -c is a failure too.
    if let (Some(_), Some(c), Totals::Probe(p)) = (req.deadline, req.count, &summary.totals) {
        if p.received < c {
            return Ok(1);
        }
    }
    Ok(exit_code(&summary))
}

/// Turn `ping` flags into a typed request; refuses malformed values with the flag named.
pub fn request(a: &PingArgs) -> Result<PingRequest> {
    let mut req = PingRequest::new(resolve_host(&a.dest)?);
    req.target = target(req.target.dest, &a.probe)?;
    req.count = a.count;
    req.interval = seconds("-i", a.interval)?;
    req.size = a.size;
    req.target.ttl = a.ttl;
    req.target.tos = a.tos.unwrap_or(0);
    req.timeout = seconds("-W", a.timeout)?;
    req.deadline = a.deadline.map(|d| seconds("-w", d)).transpose()?;
    if let Some(p) = &a.pattern {
        req.pattern = parse_hex("-p", p)?;
    }
    req.target.dont_fragment = a.df;
    if let Some(id) = a.id {
        req.id = id;
    }
    Ok(req)
}
