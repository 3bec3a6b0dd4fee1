//! `pktforge capture -i IFACE [FILTER]`: live frames, one decoded line each (tcpdump-like), or
//! the full dissection with `--tree` (`-v`: tcpdump's verbose line). The filter is tcpdump's language, compiled by libpcap and run
//! in the kernel as classic BPF. `capture -r FILE [FILTER]` reads a pcap or pcapng file
//! instead, as `tcpdump -r`.

use std::path::PathBuf;

use clap::Args;

use super::render::Render;
use super::seconds;
use pktforge::capture::file::ReadRequest;
use pktforge::capture::live::CaptureRequest;
use pktforge::filter::Filter;
use pktforge::{Result, Stop};

/// `pktforge capture` flags.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Interface to capture on (`-i` as tcpdump; `-I` as the other subcommands).
    #[arg(
        short = 'i',
        short_alias = 'I',
        long = "interface",
        value_name = "IFACE",
        required_unless_present_any = ["dump", "read"],
        conflicts_with = "read"
    )]
    pub iface: Option<String>,
    /// Read frames from a capture file (pcap or pcapng; Ethernet or Linux cooked SLL/SLL2)
    /// instead of an interface, as tcpdump -r (`-` for standard input): the filter is compiled
    /// for the file's link type.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,
    /// A tcpdump filter expression (pcap-filter(7)), e.g. `icmp and not host 192.0.2.1`,
    /// `tcp port 80`, `vlan 100 and icmp[icmptype] == icmp-echo`; several words are joined.
    pub filter: Vec<String>,
    /// Print the filter's compiled BPF program (as `tcpdump -d`) and exit.
    #[arg(short = 'd')]
    pub dump: bool,
    /// Stop after COUNT frames.
    #[arg(short = 'c', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,
    /// Which frames: `in` (received), `out` (sent by this host) or `inout` (both, default),
    /// as tcpdump's -Q.
    #[arg(
        short = 'Q',
        long = "direction",
        value_name = "in|out|inout",
        default_value = "inout",
        conflicts_with = "read"
    )]
    pub direction: pktforge::link::Direction,
    /// Print the link level too: MAC addresses, EtherType, VLAN tags (as tcpdump -e).
    #[arg(short = 'e')]
    pub link_level: bool,
    /// Names are never looked up; accepted (also as -nn) for tcpdump users.
    #[arg(short = 'n', action = clap::ArgAction::Count)]
    pub numeric: u8,
    /// Link implementation: fast (Linux TPACKET_V3 ring, default on Linux) or pnet (portable).
    #[arg(long = "backend", value_name = "pnet|fast", default_value_t = pktforge::link::Backend::default(), conflicts_with = "read")]
    pub backend: pktforge::link::Backend,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS", conflicts_with = "read")]
    pub duration: Option<f64>,
    /// The IP header's fields in parentheses before the addresses, as tcpdump -v.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Full dissection of each frame under its line (as tshark -V).
    #[arg(long = "tree")]
    pub tree: bool,
    /// One JSON object per frame (time, summary, dissection).
    #[arg(long)]
    pub json: bool,
    /// Write the frames to FILE instead of printing them (as tcpdump -w; --print prints them
    /// as well): pcap with nanosecond kernel timestamps, pcapng when FILE ends in .pcapng or
    /// with --pcapng. From -r: the matching records, timestamps, lengths and link type kept.
    #[arg(
        short = 'w',
        long = "write",
        visible_alias = "pcap",
        value_name = "FILE"
    )]
    pub write: Option<PathBuf>,
    /// Write the -w file as pcapng (an interface block with nanosecond resolution, an
    /// enhanced packet block per frame).
    #[arg(long = "pcapng", requires = "write")]
    pub pcapng: bool,
    /// With -w: print each frame as well.
    #[arg(long)]
    pub print: bool,
    /// Do not put the interface in promiscuous mode (as tcpdump -p).
    #[arg(short = 'p', long = "no-promisc", conflicts_with = "read")]
    pub no_promisc: bool,
}

/// Run `capture` until the count, the duration or a signal; exit 0.
pub fn run(a: CaptureArgs, stop: &Stop) -> Result<i32> {
    if let Some(file) = &a.read {
        return read(&a, file, stop);
    }
    let filter = Filter::compile(&a.filter.join(" "))?;
    if a.dump {
        print!("{}", filter.dump());
        return Ok(0);
    }
    let mut req = CaptureRequest::new(a.iface.clone().unwrap_or_default());
    req.filter = filter;
    req.count = a.count;
    req.duration = a.duration.map(|d| seconds("--duration", d)).transpose()?;
    req.promiscuous = !a.no_promisc;
    req.backend = a.backend;
    req.pcap = a.write.clone();
    req.pcap_format = super::pcap_format(a.pcapng);
    req.direction = a.direction;
    req.link_level = a.link_level;
    req.report_frames = a.write.is_none() || a.print || a.json;
    req.ip_detail = a.verbose;
    req.dissect = a.tree || a.json;
    let _ = a.numeric;
    let mut out = Render::new(a.json);
    out.verbose = a.tree;
    req.run_with(stop, &mut |ev| out.event(ev))?;
    Ok(0)
}

/// `capture -r FILE`: the file's records through the filter; exit 0.
fn read(a: &CaptureArgs, file: &std::path::Path, stop: &Stop) -> Result<i32> {
    let mut req = ReadRequest::new(file);
    let text = a.filter.join(" ");
    req.filter = (!text.trim().is_empty()).then_some(text);
    if a.dump {
        print!("{}", req.compiled_filter()?.dump());
        return Ok(0);
    }
    req.count = a.count;
    req.write = a.write.clone();
    req.write_format = super::pcap_format(a.pcapng);
    req.link_level = a.link_level;
    req.report_frames = a.write.is_none() || a.print || a.json;
    req.ip_detail = a.verbose;
    req.dissect = a.tree || a.json;
    let mut out = Render::new(a.json);
    out.verbose = a.tree;
    req.run_with(stop, &mut |ev| out.event(ev))?;
    Ok(0)
}
