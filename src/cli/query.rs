//! `pktforge timestamp | mask | info | rsol`: the ICMP request/reply family with ping-like
//! output, one engine and one set of flags.

use clap::Args;

use super::args::{parse_u16_any, ProbeArgs};
use super::render::Render;
use super::{exit_code, resolve_host, seconds, target};
use pktforge::probe::query::{QueryKind, QueryRequest};
use pktforge::{Result, Stop};

/// Flags shared by `timestamp`, `mask`, `info` and `rsol`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Host to query (rsol: the solicitation's destination, default 224.0.0.2).
    pub dest: Option<String>,
    /// Requests to send.
    #[arg(short = 'c', long = "count", value_name = "COUNT", default_value_t = 3, value_parser = super::args::parse_u64_any)]
    pub count: u64,
    /// Seconds between requests.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECS",
        default_value_t = 1.0
    )]
    pub interval: f64,
    /// Seconds each request waits for its answer (rsol: how long to collect advertisements).
    #[arg(
        short = 'W',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 2.0
    )]
    pub timeout: f64,
    /// IP TTL (default 64; rsol 1, as RFC 1256 asks).
    #[arg(short = 't', long = "ttl", value_name = "TTL",
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub ttl: Option<u8>,
    /// IP TOS byte.
    #[arg(short = 'Q', long = "tos", value_name = "TOS", value_parser = super::args::parse_u8_any)]
    pub tos: Option<u8>,
    /// ICMP identifier (default: process id).
    #[arg(long = "id", value_name = "ID", value_parser = parse_u16_any)]
    pub id: Option<u16>,
    /// Quiet: only the header and the summary.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// IP options, interface, addresses and output.
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// Run one of the request/reply subcommands.
pub fn run(kind: QueryKind, a: QueryArgs, stop: &Stop) -> Result<i32> {
    let dest = a.dest.as_deref().map(resolve_host).transpose()?;
    let mut req = QueryRequest::new(kind, dest)?;
    let default_ttl = req.target.ttl;
    req.target = target(req.target.dest, &a.probe)?;
    req.target.ttl = a.ttl.unwrap_or(default_ttl);
    req.target.tos = a.tos.unwrap_or(0);
    if let Some(id) = a.id {
        req.id = id;
    }
    req.count = a.count;
    req.interval = seconds("-i", a.interval)?;
    req.timeout = seconds("-W", a.timeout)?;
    // Unwritable outputs are refused before anything (ARP included) is sent.
    super::log::check_writable("--pcap", a.probe.output.pcap.as_deref())?;
    let mut log = super::log::Log::open(a.probe.output.log.as_deref())?;
    let mut out = Render::new(a.probe.output.json);
    out.quiet = a.quiet;
    out.wait = Some(req.timeout);
    let summary = req.run_with(stop, &mut |ev| {
        out.event(ev);
        log.event(ev);
    })?;
    Ok(exit_code(&summary))
}
