//! `pktforge probe DEST --tcp PORT[,PORT…] | --udp PORT[,PORT…]`: ping-like port probes with
//! hping3/nping verdicts.

use clap::Args;

use super::args::{parse_port, ProbeArgs};
use super::frame::parse_tcp_options_args;
use super::render::Render;
use super::{exit_code, resolve_host, seconds, target};
use pktforge::probe::port::{PortProbeRequest, PortProtocol};
use pktforge::{Error, Result, Stop};

/// `pktforge probe` flags (count, interval and TTL as in ping).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("transport").required(true).args(["tcp", "udp"])))]
pub struct PortProbeArgs {
    /// Host to probe (IPv4 address or name).
    pub dest: String,
    /// TCP SYN probes to these ports (1..=65535, comma-separated).
    #[arg(long, value_name = "PORT[,PORT...]", value_parser = parse_port, value_delimiter = ',', conflicts_with = "udp")]
    pub tcp: Option<Vec<u16>>,
    /// UDP probes to these ports (1..=65535, comma-separated).
    #[arg(long, value_name = "PORT[,PORT...]", value_parser = parse_port, value_delimiter = ',')]
    pub udp: Option<Vec<u16>>,
    /// Rounds: each sends one probe to every port (default 1).
    #[arg(short = 'c', long = "count", value_name = "COUNT", default_value_t = 1)]
    pub count: u64,
    /// Seconds between probes.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECS",
        default_value_t = 1.0
    )]
    pub interval: f64,
    /// Seconds each probe waits for its answer.
    #[arg(
        short = 'W',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 1.0
    )]
    pub timeout: f64,
    /// IP time to live (1..=255).
    #[arg(short = 't', long = "ttl", value_name = "TTL", default_value_t = 64,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub ttl: u8,
    /// IP TOS byte, decimal or 0x hex.
    #[arg(short = 'Q', long = "tos", value_name = "TOS", value_parser = super::args::parse_u8_any)]
    pub tos: Option<u8>,
    /// First source port (probe n uses it + n − 1; default from the process id).
    #[arg(long, value_name = "PORT", value_parser = parse_port)]
    pub sport: Option<u16>,
    /// UDP data bytes (zeros).
    #[arg(short = 's', long = "size", value_name = "SIZE", default_value_t = 0)]
    pub size: usize,
    /// TCP: the SYN's options instead of Linux's (repeatable; `--tcp-option nop` alone for
    /// none worth the name).
    #[arg(long = "tcp-option", value_name = "OPT")]
    pub tcp_option: Vec<String>,
    /// IP options, interface, addresses and output.
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// Run `probe`; exit 0 when some probe got an answer (SYN-ACK, RST, a UDP reply or an ICMP
/// error), 1 when none did.
pub fn run(a: PortProbeArgs, stop: &Stop) -> Result<i32> {
    let dest = resolve_host(&a.dest)?;
    let (protocol, ports) = match (&a.tcp, &a.udp) {
        (Some(p), None) => (PortProtocol::Tcp, p.clone()),
        (None, Some(p)) => (PortProtocol::Udp, p.clone()),
        _ => {
            return Err(Error::Invalid(
                "give one of --tcp PORTS or --udp PORTS".into(),
            ))
        }
    };
    if protocol == PortProtocol::Udp && !a.tcp_option.is_empty() {
        return Err(Error::Invalid("--tcp-option needs --tcp".into()));
    }
    let mut req = PortProbeRequest::new(dest, protocol, ports);
    req.target = target(dest, &a.probe)?;
    req.target.ttl = a.ttl;
    req.target.tos = a.tos.unwrap_or(0);
    req.count = Some(a.count);
    req.interval = seconds("-i", a.interval)?;
    req.timeout = seconds("-W", a.timeout)?;
    if let Some(s) = a.sport {
        req.sport = s;
    }
    req.data = vec![0; a.size];
    if !a.tcp_option.is_empty() {
        req.tcp_options = Some(parse_tcp_options_args(&a.tcp_option)?);
    }
    // Unwritable outputs are refused before anything (ARP included) is sent.
    super::log::check_writable("--pcap", a.probe.output.pcap.as_deref())?;
    let mut log = super::log::Log::open(a.probe.output.log.as_deref())?;
    let mut out = Render::new(a.probe.output.json);
    let summary = req.run_with(stop, &mut |ev| {
        out.event(ev);
        log.event(ev);
    })?;
    // A port unreachable is an answer too (closed): exit 0 when anything answered.
    Ok(match &summary.totals {
        pktforge::event::Totals::Probe(p) if p.received + p.errors > 0 => 0,
        _ => exit_code(&summary),
    })
}
