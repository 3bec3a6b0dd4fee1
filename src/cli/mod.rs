//! The command line: parse arguments into typed requests, run them on the library, render its
//! event stream as text or JSON, pick the exit code (0 some reply, 1 no reply, 2 error — as
//! iputils ping).

mod args;
mod bench;
mod blast;
mod capture;
mod craft;
mod decode;
mod frame;
mod lab;
mod log;
mod man;
mod names;
mod ping;
mod probe;
mod query;
mod quit;
mod reflect;
mod render;
mod send;
mod trace;

use std::net::{Ipv4Addr, ToSocketAddrs};
use std::time::Duration;

use clap::{Parser, Subcommand};

use args::{parse_addr_list, parse_hex, parse_timestamp_mode, IpOptionArgs, LinkArgs, ProbeArgs};
use pktforge::craft::options::{OptionsRequest, SourceRoute};
use pktforge::event::{Summary, Totals};
use pktforge::net::resolve::PathRequest;
use pktforge::probe::engine::Target;
use pktforge::probe::query::QueryKind;
use pktforge::wire::parse_mac;
use pktforge::{Error, Field, Result, Stop};

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
    Ping(Box<ping::PingArgs>),
    /// Build or remove the four-namespace lab (a - r1 - r2 - b: two Linux routers between two hosts).
    Lab(lab::LabArgs),
    /// Trace the route with rising TTL: ICMP echo (like traceroute -I), UDP (-U) or TCP SYN
    /// (-T), options-aware.
    Trace(Box<trace::TraceArgs>),
    /// Probe UDP or TCP ports like hping3/nping: open, closed, filtered per probe, with RTT.
    Probe(Box<probe::PortProbeArgs>),
    /// ICMP timestamp request (13/14): remote clock, RTT and clock offset (like clockdiff).
    Timestamp(Box<query::QueryArgs>),
    /// ICMP address mask request (17/18): the mask as dotted quad and prefix length.
    Mask(Box<query::QueryArgs>),
    /// ICMP information request (15/16), obsolete; says plainly when nobody answers.
    Info(Box<query::QueryArgs>),
    /// ICMP router solicitation (10) to 224.0.0.2 on -I IFACE; lists router advertisements (9).
    Rsol(Box<query::QueryArgs>),
    /// Answer ARP, echo, timestamp (and mask, router solicitation) at L2 for an address the
    /// kernel does not own.
    Reflect(Box<reflect::ReflectArgs>),
    /// Build one frame from flags and show its bytes and dissection (no network needed).
    Craft(Box<craft::CraftArgs>),
    /// Put crafted (or replayed) frames on an interface and show what answers.
    Send(Box<send::SendArgs>),
    /// Dissect frames given as hex, on standard input, or in a pcap file.
    Decode(decode::DecodeArgs),
    /// Capture frames on an interface with an in-kernel BPF filter, one line each.
    Capture(capture::CaptureArgs),
    /// Send echo requests at a set rate (or the maximum), match replies, report loss and latency.
    /// For speed its frames skip the host's packet taps (PACKET_QDISC_BYPASS, AF_XDP, XDP live
    /// frames): tcpdump or capture on this host does not see them; every other subcommand's
    /// frames are visible.
    Blast(Box<blast::BlastArgs>),
    /// Benchmark a device between this host and a responder the way RFC 2544 does: per frame
    /// size the highest rate without loss (binary search over blast trials), the latency
    /// there, frame loss at 100 %, 90 %, ... of the maximum, back-to-back bursts.
    Bench(Box<bench::BenchArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output, or write one page per subcommand into
    /// a directory.
    Man {
        /// Write pktforge.1 and pktforge-SUBCOMMAND.1 here instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<std::path::PathBuf>,
    },
}

/// Run the command line and return the process exit code.
pub fn main() -> i32 {
    // Die quietly on a closed pipe (`pktforge ... | head`), like every Unix filter.
    // SAFETY: setting a signal disposition to SIG_DFL has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let stop = Stop::new();
    let on_signal = stop.clone();
    let _ = ctrlc::set_handler(move || on_signal.stop());
    quit::install(&stop);
    // Put back lo settings a killed earlier run left changed in this namespace.
    for restored in pktforge::net::loopback::recover() {
        eprintln!("pktforge: restored {restored} (left changed by a run that was killed)");
    }
    let command = cli.command;
    let flags = flag_names(&command);
    match run(command, &stop) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pktforge: {}", e.render(&flags));
            2
        }
    }
}

fn run(command: Command, stop: &Stop) -> Result<i32> {
    match command {
        Command::Ping(a) => ping::run(*a, stop),
        Command::Lab(a) => lab::run(a.action),
        Command::Trace(a) => trace::run(*a, stop),
        Command::Probe(a) => probe::run(*a, stop),
        Command::Timestamp(a) => query::run(QueryKind::Timestamp, *a, stop),
        Command::Mask(a) => query::run(QueryKind::Mask, *a, stop),
        Command::Info(a) => query::run(QueryKind::Info, *a, stop),
        Command::Rsol(a) => query::run(QueryKind::Rsol, *a, stop),
        Command::Reflect(a) => reflect::run(*a, stop),
        Command::Craft(a) => craft::run(*a),
        Command::Send(a) => send::run(*a, stop),
        Command::Decode(a) => decode::run(a),
        Command::Capture(a) => capture::run(a, stop),
        Command::Blast(a) => blast::run(*a, stop),
        Command::Bench(a) => bench::run(*a, stop),
        Command::Completions { shell } => man::completions(shell),
        Command::Man { out_dir } => man::man(out_dir.as_deref()),
    }
}

/// How this subcommand's flags name each request field in error messages.
fn flag_names(command: &Command) -> impl Fn(Field) -> &'static str {
    // trace follows traceroute: -w is the per-probe wait, -t the TOS, -s... as ping elsewhere.
    let trace = matches!(command, Command::Trace(_));
    let blast = matches!(command, Command::Blast(_));
    let long_count = matches!(command, Command::Reflect(_));
    move |f| match f {
        Field::Count if blast => "--count N",
        Field::Count if long_count => "--count",
        Field::Count => "-c",
        Field::Interval => "-i",
        Field::DataSize => "-s",
        Field::Pattern => "-p",
        Field::Ttl => "-t",
        Field::IpVersion => "--ip-version",
        Field::Tos if trace => "-t",
        Field::Tos => "-Q",
        Field::Timeout if trace => "-w",
        Field::Timeout => "-W",
        Field::Deadline => "-w",
        Field::FirstTtl => "-f",
        Field::MaxTtl => "-m",
        Field::ProbesPerHop => "-q",
        Field::InFlight => "-N",
        Field::Id => "--id",
        Field::LooseSourceRoute => "--lsrr",
        Field::StrictSourceRoute => "--ssrr",
        Field::IpOption => "--ip-option",
        Field::Timestamp => "--timestamp",
        Field::SrcMac => "--src-mac",
        Field::DstMac => "--dst-mac",
        Field::Src => "--src",
        Field::Iface => "-I",
        Field::ArpTimeout => "--arp-timeout",
        Field::Rate => "--rate",
        Field::Duration if blast => "--duration SECS",
        Field::Duration => "--duration",
        Field::Threads => "--threads",
        Field::Batch => "--batch",
        Field::Backend => "--backend",
        Field::ResponderAddress => "--ip",
        Field::Mask => "--mask",
        Field::RateLimit => "--rate-limit",
        Field::Filter => "filter",
        Field::Force => "--force",
        Field::Input => "input",
        Field::LabPrefix => "--prefix",
        Field::Port if trace => "-p",
        Field::Port if blast => "--udp",
        Field::Port if long_count => "--udp-echo",
        Field::Port => "--tcp/--udp",
        Field::Broadcast => "-b",
        Field::Preload => "-l",
        Field::Fragment => "--fragment",
        Field::FragmentOverlap => "--fragment-overlap",
        Field::Vlan => "--vlan",
        Field::FrameSize => "--size",
        Field::LossBound => "--loss/--pdr",
        Field::Trial => "--trial",
        Field::Precision => "--precision",
        Field::MaxRate => "--max-rate",
        _ => f.name(),
    }
}

/// 0 when some probe was answered, 1 when none was (iputils).
fn exit_code(s: &Summary) -> i32 {
    match &s.totals {
        Totals::Probe(p) if p.received > 0 => 0,
        _ => 1,
    }
}

/// `--pcapng` given: pcapng; else the file name decides (`.pcapng`).
pub fn pcap_format(pcapng: bool) -> pktforge::link::capfile::PcapFormat {
    if pcapng {
        pktforge::link::capfile::PcapFormat::PcapNg
    } else {
        pktforge::link::capfile::PcapFormat::ByName
    }
}

/// The destination and the shared probe flags as a [`Target`] (TTL and TOS left at defaults).
pub fn target(dest: Ipv4Addr, a: &ProbeArgs) -> Result<Target> {
    let mut t = Target::new(dest);
    t.options = options_request(&a.ip_options)?;
    t.path = path_request(&a.link)?;
    t.path.vlans = a.vlan.stack()?;
    for w in t.path.vlans.warnings() {
        eprintln!("pktforge: warning: {w}");
    }
    t.pcap = a.output.pcap.clone();
    t.pcap_format = pcap_format(a.output.pcapng);
    t.backend = a.link.backend;
    Ok(t)
}

/// The IP option flags as a typed request.
pub fn options_request(a: &IpOptionArgs) -> Result<OptionsRequest> {
    Ok(OptionsRequest {
        record_route: a.record_route,
        source_route: match (&a.lsrr, &a.ssrr) {
            (Some(l), _) => Some(SourceRoute::Loose(parse_addr_list("--lsrr", l)?)),
            (None, Some(s)) => Some(SourceRoute::Strict(parse_addr_list("--ssrr", s)?)),
            (None, None) => None,
        },
        timestamp: a
            .timestamp
            .as_deref()
            .map(parse_timestamp_mode)
            .transpose()?,
        raw: a
            .ip_option
            .iter()
            .map(|h| parse_hex("--ip-option", h))
            .collect::<Result<_>>()?,
    })
}

/// The interface and address flags as a typed request.
pub fn path_request(a: &LinkArgs) -> Result<PathRequest> {
    let src = match a.src {
        None => None,
        Some(std::net::IpAddr::V4(s)) => Some(s),
        Some(std::net::IpAddr::V6(s)) => {
            return Err(Error::Invalid(format!(
                "--src {s} is an IPv6 address: only craft -6 and send -6 take one"
            )))
        }
    };
    // `-I ADDR` (iputils): the interface holding that address, and that address as source.
    let (iface, src) = match a.iface.as_deref().map(str::parse::<Ipv4Addr>) {
        Some(Ok(addr)) => {
            let ifc = pktforge::net::iface::list()?
                .into_iter()
                .find(|i| i.ipv4.iter().any(|(x, _)| *x == addr))
                .ok_or_else(|| {
                    Error::invalid(Field::Iface, format!("no interface has the address {addr}"))
                })?;
            (Some(ifc.name), src.or(Some(addr)))
        }
        _ => (a.iface.clone(), src),
    };
    Ok(PathRequest {
        dst: None,
        iface,
        src,
        src6: None,
        src_mac: a
            .src_mac
            .as_deref()
            .map(|m| mac_flag("--src-mac", m))
            .transpose()?,
        dst_mac: a
            .dst_mac
            .as_deref()
            .map(|m| mac_flag("--dst-mac", m))
            .transpose()?,
        arp_timeout: seconds("--arp-timeout", a.arp_timeout)?,
        // Set by the commands that take --vlan.
        vlans: Default::default(),
    })
}

/// A MAC address flag; the error names the flag.
fn mac_flag(flag: &str, s: &str) -> Result<pktforge::wire::MacAddr> {
    parse_mac(s).map_err(|e| Error::Invalid(format!("{flag}: {e}")))
}

/// Seconds given on the command line as a duration.
pub fn seconds(flag: &str, s: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        Error::Invalid(format!(
            "{flag} {s}: expected a non-negative number of seconds"
        ))
    })
}

/// An IPv4 address, or a name looked up through the system resolver.
pub fn resolve_host(host: &str) -> Result<Ipv4Addr> {
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        return Ok(a);
    }
    let bad = || {
        Error::Invalid(format!(
            "{host:?}: not an IPv4 address or a known host name"
        ))
    };
    // A dotted number that is not an address is a typo, not a name: never ask DNS about it.
    let numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if numeric || host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    (host, 0)
        .to_socket_addrs()
        .map_err(|_| bad())?
        .find_map(|sa| match sa.ip() {
            std::net::IpAddr::V4(a) => Some(a),
            _ => None,
        })
        .ok_or_else(bad)
}
