//! The top level of the command line and the argument groups several subcommands share (clap
//! derive). Values are checked here only for their form; the request layer checks what they mean.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Hand-crafted Ethernet/IPv4/ICMP frames over AF_PACKET.
#[derive(Debug, Parser)]
#[command(name = "pktforge", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send ICMP echo requests and show the replies (like iputils ping), with IP options.
    Ping(Box<super::ping::PingArgs>),
    /// Build or remove the four-namespace lab (a - r1 - r2 - b) of TESTING.md.
    Lab(super::lab::LabArgs),
    /// Trace the route with ICMP echo and rising TTL (like traceroute -I), options-aware.
    Trace(Box<super::trace::TraceArgs>),
    /// ICMP timestamp request (13/14): remote clock, RTT and clock offset (like clockdiff).
    Timestamp(Box<super::query::QueryArgs>),
    /// ICMP address mask request (17/18): the mask as dotted quad and prefix length.
    Mask(Box<super::query::QueryArgs>),
    /// ICMP information request (15/16), obsolete; says plainly when nobody answers.
    Info(Box<super::query::QueryArgs>),
    /// ICMP router solicitation (10) to 224.0.0.2 on -I IFACE; lists router advertisements (9).
    Rsol(Box<super::query::QueryArgs>),
    /// Answer ARP, echo, timestamp (and mask, router solicitation) at L2 for an address the
    /// kernel does not own.
    Reflect(Box<super::reflect::ReflectArgs>),
    /// Build one frame from flags and show its bytes and dissection (no network needed).
    Craft(Box<super::craft::CraftArgs>),
    /// Put crafted (or replayed) frames on an interface and show what answers.
    Send(Box<super::send::SendArgs>),
    /// Dissect frames given as hex, on standard input, or in a pcap file.
    Decode(super::decode::DecodeArgs),
    /// Capture frames on an interface with an in-kernel BPF filter, one line each.
    Capture(super::capture::CaptureArgs),
    /// Send echo requests at a set rate (or the maximum), match replies, report loss and latency.
    Blast(Box<super::blast::BlastArgs>),
}

/// The flags every probe shares: IP options, interface and addresses, output.
#[derive(Debug, Args, Clone)]
pub struct ProbeArgs {
    /// IP options.
    #[command(flatten)]
    pub ip_options: IpOptionArgs,
    /// Interface and addresses.
    #[command(flatten)]
    pub link: LinkArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// IP option flags shared by every probe.
#[derive(Debug, Args, Clone)]
pub struct IpOptionArgs {
    /// Record route (RR, as many slots as fit: 9 alone); the route is shown as RR: lines.
    #[arg(short = 'R', long = "record-route")]
    pub record_route: bool,
    /// Loose source route through HOP[,HOP...] (at most 9): IP destination = first hop.
    #[arg(long = "lsrr", value_name = "HOP[,HOP...]", conflicts_with = "ssrr")]
    pub lsrr: Option<String>,
    /// Strict source route through HOP[,HOP...] (at most 9): each hop adjacent to the last.
    #[arg(long = "ssrr", value_name = "HOP[,HOP...]")]
    pub ssrr: Option<String>,
    /// Timestamp option: tsonly | tsandaddr | tsprespec=ADDR[,ADDR...].
    #[arg(long = "timestamp", value_name = "MODE")]
    pub timestamp: Option<String>,
    /// Raw option bytes in hex (type, length, data), emitted verbatim; repeatable.
    #[arg(long = "ip-option", value_name = "HEX")]
    pub ip_option: Vec<String>,
}

/// Interface and address overrides shared by every probe.
#[derive(Debug, Args, Clone)]
pub struct LinkArgs {
    /// Send on this interface (default: the one the kernel routes DEST through).
    #[arg(short = 'I', long = "interface", value_name = "IFACE")]
    pub iface: Option<String>,
    /// IPv4 source address (default: the interface's; any address may be given).
    #[arg(long = "src", value_name = "ADDR")]
    pub src: Option<Ipv4Addr>,
    /// Ethernet source address (default: the interface's).
    #[arg(long = "src-mac", value_name = "MAC")]
    pub src_mac: Option<String>,
    /// Ethernet destination (default: the next hop's, from the neighbour cache or ARP).
    #[arg(long = "dst-mac", value_name = "MAC")]
    pub dst_mac: Option<String>,
    /// Seconds to wait for an ARP reply from the next hop.
    #[arg(long = "arp-timeout", value_name = "SECS", default_value_t = 2.0)]
    pub arp_timeout: f64,
    /// Link implementation: fast (Linux TX/RX rings, the default on Linux) or pnet (portable,
    /// one syscall per frame).
    #[arg(long = "backend", value_name = "pnet|fast", default_value_t = pktforge::link::Backend::default())]
    pub backend: pktforge::link::Backend,
}

/// Output flags shared by every probe.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Write every frame sent and received to FILE (pcap, nanosecond timestamps).
    #[arg(long = "pcap", value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// One JSON object per line for each event and the summary, instead of text.
    #[arg(long = "json")]
    pub json: bool,
}

/// A byte given in decimal or `0x` hex.
pub fn parse_u8_any(s: &str) -> Result<u8, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse::<u32>(),
    }
    .map_err(|_| format!("{s:?} is not a number (decimal or 0x hex)"))?;
    u8::try_from(v).map_err(|_| format!("{v} is out of range 0..=255"))
}
