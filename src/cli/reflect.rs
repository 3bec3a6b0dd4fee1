//! `pktforge reflect`: the L2 responder.

use std::net::Ipv4Addr;

use clap::Args;

use super::render::Render;
use super::seconds;
use pktforge::reflect::ReflectConfig;
use pktforge::{Error, Result, Stop};

/// `pktforge reflect` flags.
#[derive(Debug, Args)]
pub struct ReflectArgs {
    /// Interface to answer on.
    #[arg(short = 'I', long = "interface", value_name = "IFACE")]
    pub iface: String,
    /// Address to answer for, with its prefix length (default /24).
    #[arg(long = "ip", value_name = "ADDR[/PREFIX]")]
    pub ip: String,
    /// Answer address mask requests with MASK (dotted quad or /LEN).
    #[arg(long = "mask", value_name = "MASK")]
    pub mask: Option<String>,
    /// Send router advertisements and answer router solicitations.
    #[arg(long = "advertise")]
    pub advertise: bool,
    /// Seconds between unsolicited advertisements.
    #[arg(long = "adv-interval", value_name = "SECS", default_value_t = 600.0)]
    pub adv_interval: f64,
    /// Preference level advertised.
    #[arg(
        long = "preference",
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub preference: i32,
    /// Lifetime advertised, in seconds.
    #[arg(long = "lifetime", value_name = "SECS", default_value_t = 1800)]
    pub lifetime: u16,
    /// Also answer requests sent to broadcast and multicast addresses.
    #[arg(long = "broadcast")]
    pub broadcast: bool,
    /// Most replies per second.
    #[arg(long = "rate-limit", value_name = "PPS")]
    pub rate_limit: Option<u32>,
    /// Stop after answering COUNT requests.
    #[arg(long = "count", value_name = "COUNT")]
    pub count: Option<u64>,
    /// Stop after SECS seconds.
    #[arg(long = "duration", value_name = "SECS")]
    pub duration: Option<f64>,
    /// Write every frame received and sent to FILE (pcap; pcapng when FILE ends in .pcapng
    /// or with --pcapng).
    #[arg(long = "pcap", value_name = "FILE")]
    pub pcap: Option<std::path::PathBuf>,
    /// Write the --pcap file as pcapng.
    #[arg(long = "pcapng", requires = "pcap")]
    pub pcapng: bool,
    /// Print the counters as JSON.
    #[arg(long = "json")]
    pub json: bool,
    /// Link implementation: fast (Linux rings, default on Linux) or pnet (portable).
    #[arg(long = "backend", value_name = "pnet|fast", default_value_t = pktforge::link::Backend::default())]
    pub backend: pktforge::link::Backend,
    /// Where plain echo requests are answered: auto (in the kernel by an XDP program when it
    /// attaches and neither --rate-limit nor --pcap is given, else packet), xdp, packet
    /// (everything in user space).
    #[arg(long = "mode", value_name = "auto|xdp|packet", default_value = "auto")]
    pub mode: pktforge::reflect::ReflectMode,
    /// Also answer UDP echo (RFC 862) on PORT (default 7), under the same rules as ICMP echo:
    /// our address only, no martian sources, never a larger reply; a datagram from port 0,
    /// echo (7), chargen (19) or PORT itself is not answered (two services would loop).
    #[arg(long = "udp-echo", value_name = "PORT", num_args = 0..=1, default_missing_value = "7")]
    pub udp_echo: Option<u16>,
    /// Answer on this VLAN: a tag ID[:PCP[:DEI]][@TPID], repeated for a stack, outermost
    /// first (as craft --vlan: TPID q, ad or hex; default 802.1Q for a single or the
    /// innermost tag, 802.1ad for outer ones). Only frames carrying exactly this stack (TPID
    /// and ID per tag) are answered, ARP included, and each reply carries the request's tags;
    /// without --vlan only untagged frames are. A stack is answered in user space (not XDP).
    #[arg(long = "vlan", value_name = "ID[:PCP[:DEI]][@TPID]")]
    pub vlan: Vec<String>,
}

/// Parse `ADDR[/PREFIX]`.
pub fn parse_addr_prefix(s: &str) -> Result<(Ipv4Addr, u8)> {
    let (a, p) = s.split_once('/').unwrap_or((s, "24"));
    let addr = a
        .parse()
        .map_err(|_| Error::Invalid(format!("--ip {s:?}: {a:?} is not an IPv4 address")))?;
    let prefix =
        p.parse::<u8>().ok().filter(|p| *p <= 32).ok_or_else(|| {
            Error::Invalid(format!("--ip {s:?}: the prefix length must be 0..=32"))
        })?;
    Ok((addr, prefix))
}

/// Parse a mask as a dotted quad or `/LEN`.
pub fn parse_mask(s: &str) -> Result<Ipv4Addr> {
    if let Some(len) = s.strip_prefix('/') {
        let n: u32 = len
            .parse()
            .ok()
            .filter(|n| *n <= 32)
            .ok_or_else(|| Error::Invalid(format!("--mask {s}: a prefix length is 0..=32")))?;
        return Ok(Ipv4Addr::from(u32::MAX.checked_shl(32 - n).unwrap_or(0)));
    }
    s.parse()
        .map_err(|_| Error::Invalid(format!("--mask {s:?}: expected a dotted quad or /LEN")))
}

/// Run the responder: a line once it answers, its counters at the end.
pub fn run(a: ReflectArgs, stop: &Stop) -> Result<i32> {
    let (addr, prefix) = parse_addr_prefix(&a.ip)?;
    let mut cfg = ReflectConfig::new(&a.iface, addr);
    cfg.prefix = prefix;
    cfg.mask = a.mask.as_deref().map(parse_mask).transpose()?;
    cfg.advertise = a.advertise;
    cfg.adv_interval = seconds("--adv-interval", a.adv_interval)?;
    cfg.preference = a.preference;
    cfg.lifetime = a.lifetime;
    cfg.broadcast = a.broadcast;
    cfg.rate_limit = a.rate_limit;
    cfg.count = a.count;
    cfg.duration = a.duration.map(|d| seconds("--duration", d)).transpose()?;
    cfg.pcap = a.pcap;
    cfg.pcap_format = super::pcap_format(a.pcapng);
    cfg.backend = a.backend;
    cfg.mode = a.mode;
    cfg.udp_echo = a.udp_echo;
    cfg.vlans = super::args::VlanArgs {
        vlan: a.vlan.clone(),
    }
    .stack()?;
    let mut out = Render::new(a.json);
    // The counters (the summary) are shown also when the run failed midway, then the error.
    cfg.run_with(stop, &mut |e| out.event(e)).map(|_| 0)
}
