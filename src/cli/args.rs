//! Command-line arguments (clap derive). Values are checked here only for their form; the
//! request layer checks what they mean.

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
    Ping(Box<PingArgs>),
    /// Build or remove the four-namespace lab (a - r1 - r2 - b) of TESTING.md.
    Lab(LabArgs),
}

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
    #[arg(long = "id", value_name = "ID")]
    pub id: Option<u16>,
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

/// `pktforge lab`.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// up or down.
    #[command(subcommand)]
    pub action: LabAction,
}

/// Lab actions.
#[derive(Debug, Subcommand)]
pub enum LabAction {
    /// Build the namespaces PREFIX-a, PREFIX-r1, PREFIX-r2, PREFIX-b and their links.
    Up {
        /// Namespace name prefix.
        #[arg(long, default_value = "pf")]
        prefix: String,
    },
    /// Remove the lab's namespaces.
    Down {
        /// Namespace name prefix.
        #[arg(long, default_value = "pf")]
        prefix: String,
    },
}

fn parse_u8_any(s: &str) -> Result<u8, String> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse::<u32>(),
    }
    .map_err(|_| format!("{s:?} is not a number (decimal or 0x hex)"))?;
    u8::try_from(v).map_err(|_| format!("{v} is out of range 0..=255"))
}
