//! The frame flags `craft` and `send` share: every Ethernet, IPv4 and ICMP, UDP or TCP field.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;

use super::args::{
    parse_hex, parse_port_field, parse_tcp_flags_arg, parse_u16_any, parse_u32_any, parse_u8_any,
    IpOptionArgs, LinkArgs, VlanArgs,
};
use super::{options_request, path_request, resolve_host};
use pktforge::craft::options::OptionsRequest;
use pktforge::craft::v6::{
    parse_frag, parse_ipv6_option, rh0_for, srh_for, srh_hmac, Endpoints6, Frame6Spec, Icmp6Spec,
    MAX_SRH_SEGMENTS, OFFLINE_SRC6,
};
use pktforge::craft::{Endpoints, FrameSpec, IcmpSpec, Transport};
use pktforge::wire::echo_data;
use pktforge::wire::hop::ms_since_midnight_ut;
use pktforge::wire::ipv6ext::{OptionsRepr, RoutingRepr, MAX_EXT_HEADER_LEN};
use pktforge::wire::{ExtHeaderRepr, MacAddr, MAX_FLOW_LABEL};
use pktforge::wire::{TcpOption, TcpRepr, UdpRepr};
use pktforge::{Error, Result};

/// Every field of the frame, shared by `craft` and `send`.
#[derive(Debug, Args, Clone)]
pub struct FrameArgs {
    /// Destination (IPv4 address or name); with a source route, the last hop.
    pub dest: Option<String>,
    /// Ethernet: EtherType (default 0x0800), decimal or 0x hex.
    #[arg(long, value_name = "TYPE", value_parser = parse_u16_any)]
    pub ethertype: Option<u16>,
    /// VLAN tags.
    #[command(flatten)]
    pub vlan: VlanArgs,
    /// IPv4: version nibble (default 4).
    #[arg(long = "ip-version", value_name = "N", value_parser = clap::value_parser!(u8).range(0..=15))]
    pub ip_version: Option<u8>,
    /// IPv4: header length field in 32-bit words, 5..=15 (default: the real length).
    #[arg(long, value_name = "WORDS")]
    pub ihl: Option<u8>,
    /// IPv4: type of service byte, decimal or 0x hex.
    #[arg(long, value_name = "TOS", value_parser = parse_u8_any)]
    pub tos: Option<u8>,
    /// IPv4: total length field (default: the real length).
    #[arg(long = "ip-len", value_name = "BYTES")]
    pub ip_len: Option<u16>,
    /// IPv4: identification.
    #[arg(long, value_name = "ID", value_parser = parse_u16_any)]
    pub id: Option<u16>,
    /// IPv4: set the reserved ("evil", RFC 3514) flag.
    #[arg(long)]
    pub evil: bool,
    /// IPv4: set Don't Fragment.
    #[arg(long)]
    pub df: bool,
    /// IPv4: set More Fragments.
    #[arg(long)]
    pub mf: bool,
    /// IPv4: fragment offset in 8-byte units (0..=8191).
    #[arg(long = "frag-offset", value_name = "N")]
    pub frag_offset: Option<u16>,
    /// IPv4: time to live, 0..=255 (default 64).
    #[arg(long, value_name = "TTL")]
    pub ttl: Option<u8>,
    /// IPv4: protocol (default 1, ICMP; the ICMP bytes follow whatever it says).
    #[arg(long, value_name = "N")]
    pub protocol: Option<u8>,
    /// IPv4: header checksum to write instead of the right one (e.g. 0xdead).
    #[arg(long = "ip-checksum", value_name = "SUM", value_parser = parse_u16_any)]
    pub ip_checksum: Option<u16>,
    /// IP options.
    #[command(flatten)]
    pub ip_options: IpOptionArgs,
    /// ICMP: type (default 8, echo request).
    /// With -6: ICMPv6 type (default 128, echo request).
    #[arg(long = "icmp-type", visible_alias = "icmp6-type", value_name = "N")]
    pub icmp_type: Option<u8>,
    /// ICMP: code (default 0).
    #[arg(long = "icmp-code", visible_alias = "icmp6-code", value_name = "N")]
    pub icmp_code: Option<u8>,
    /// ICMP: checksum to write instead of the right one.
    #[arg(long = "icmp-checksum", visible_alias = "icmp6-checksum", value_name = "SUM", value_parser = parse_u16_any)]
    pub icmp_checksum: Option<u16>,
    /// ICMP: identifier (echo, timestamp, information, mask; default 0).
    #[arg(long = "icmp-id", value_name = "ID", value_parser = parse_u16_any)]
    pub icmp_id: Option<u16>,
    /// ICMP: sequence number (default 0).
    #[arg(long = "icmp-seq", value_name = "SEQ", value_parser = parse_u16_any)]
    pub icmp_seq: Option<u16>,
    /// ICMP redirect (type 5): gateway address.
    #[arg(long, value_name = "ADDR")]
    pub gateway: Option<Ipv4Addr>,
    /// ICMP parameter problem (type 12; ICMPv6 type 4): pointer.
    #[arg(long, value_name = "N", value_parser = parse_u32_any)]
    pub pointer: Option<u32>,
    /// ICMP destination unreachable (type 3, code 4): next-hop MTU; ICMPv6 Packet Too Big
    /// (type 2): the MTU (default 1280).
    #[arg(long, value_name = "MTU", value_parser = parse_u32_any)]
    pub mtu: Option<u32>,
    /// ICMP timestamp: originate, ms since midnight UT (default for type 13: now).
    #[arg(long, value_name = "MS")]
    pub orig: Option<u32>,
    /// ICMP timestamp: receive.
    #[arg(long, value_name = "MS")]
    pub recv: Option<u32>,
    /// ICMP timestamp: transmit.
    #[arg(long, value_name = "MS")]
    pub xmit: Option<u32>,
    /// ICMP address mask (types 17/18).
    #[arg(long, value_name = "MASK")]
    pub mask: Option<Ipv4Addr>,
    /// ICMP errors (3, 4, 5, 11, 12): the quoted datagram in hex (default: an echo request's
    /// IP header + 8 bytes, from DEST to the source).
    #[arg(long, value_name = "HEX")]
    pub quote: Option<String>,
    /// Carry UDP instead of ICMP (IP protocol 17).
    #[arg(long, conflicts_with = "tcp")]
    pub udp: bool,
    /// Carry TCP instead of ICMP (IP protocol 6).
    #[arg(long)]
    pub tcp: bool,
    /// UDP/TCP: source port, 0..=65535 (default 49152; 0 is reserved: built, with a warning).
    #[arg(long, value_name = "PORT", value_parser = parse_port_field)]
    pub sport: Option<u16>,
    /// UDP/TCP: destination port, 0..=65535 (default 33434 for UDP, 80 for TCP; 0 is
    /// reserved: built, with a warning).
    #[arg(long, value_name = "PORT", value_parser = parse_port_field)]
    pub dport: Option<u16>,
    /// TCP: flags as tcpdump letters S F R P A U E C (N for NS; `.` = ACK), names joined by
    /// commas (syn,ack), `none` or a number (default S).
    #[arg(long, value_name = "FLAGS", value_parser = parse_tcp_flags_arg)]
    pub flags: Option<u16>,
    /// TCP: sequence number (default 0).
    #[arg(long, value_name = "N", value_parser = parse_u32_any)]
    pub seq: Option<u32>,
    /// TCP: acknowledgment number (default 0).
    #[arg(long, value_name = "N", value_parser = parse_u32_any)]
    pub ack: Option<u32>,
    /// TCP: window (default 64240).
    #[arg(long, value_name = "N", value_parser = parse_u16_any)]
    pub win: Option<u16>,
    /// TCP: urgent pointer (default 0).
    #[arg(long, value_name = "N", value_parser = parse_u16_any)]
    pub urg: Option<u16>,
    /// TCP: an option, repeatable, in order: eol, nop, mss=N, wscale=N, sackok,
    /// sack=L:R[,L:R…], ts=VAL[:ECR], raw=HEX (at most 40 bytes in all).
    #[arg(long = "tcp-option", value_name = "OPT")]
    pub tcp_option: Vec<String>,
    /// TCP: data offset field in 32-bit words, 5..=15 (default: the real header length).
    #[arg(long = "data-offset", value_name = "WORDS", value_parser = clap::value_parser!(u8).range(0..=15))]
    pub data_offset: Option<u8>,
    /// UDP/TCP: checksum to write instead of the right one (UDP 0: none).
    #[arg(long = "l4-checksum", value_name = "SUM", value_parser = parse_u16_any)]
    pub l4_checksum: Option<u16>,
    /// UDP: length field to write instead of the real one.
    #[arg(long = "udp-len", value_name = "BYTES")]
    pub udp_len: Option<u16>,
    /// Payload bytes in hex.
    #[arg(long, value_name = "HEX", conflicts_with_all = ["data_file", "pattern", "size"])]
    pub data: Option<String>,
    /// Payload from a file (raw bytes).
    #[arg(long = "data-file", value_name = "FILE", conflicts_with_all = ["pattern", "size"])]
    pub data_file: Option<PathBuf>,
    /// Payload: up to 16 hex bytes repeated to --size (default 08 09 0a ... as ping).
    #[arg(long, value_name = "HEX")]
    pub pattern: Option<String>,
    /// Payload length (default 56 for echo, 0 otherwise).
    #[arg(long, value_name = "BYTES", value_parser = super::args::parse_usize_any)]
    pub size: Option<usize>,
    /// Interface, addresses and MACs.
    #[command(flatten)]
    pub link: LinkArgs,
    /// IPv6 fields and extension headers.
    #[command(flatten)]
    pub v6: Ipv6Args,
}

/// The IPv6 flags of `craft -6` and `send -6`.
#[derive(Debug, Args, Clone, Default)]
pub struct Ipv6Args {
    /// Build an IPv6 frame (also when DEST is an IPv6 address).
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// IPv6: hop limit (default 64).
    #[arg(short = 't', long = "hop-limit", value_name = "N")]
    pub hop_limit: Option<u8>,
    /// IPv6: traffic class byte (DSCP + ECN), decimal or 0x hex.
    #[arg(long = "traffic-class", visible_alias = "tclass", value_name = "TC", value_parser = parse_u8_any)]
    pub traffic_class: Option<u8>,
    /// IPv6: flow label, 0..=0xfffff.
    #[arg(long = "flow-label", value_name = "LABEL", value_parser = parse_u32_any)]
    pub flow_label: Option<u32>,
    /// IPv6: payload length field to write instead of the real one.
    #[arg(long = "payload-len", value_name = "BYTES", value_parser = parse_u16_any)]
    pub payload_len: Option<u16>,
    /// IPv6: next header field to write instead of the right one.
    #[arg(long = "next-header", value_name = "N", value_parser = parse_u8_any)]
    pub next_header: Option<u8>,
    /// IPv6: a Hop-by-Hop Options header with these options: pad1, padn=N, ra=V (Router
    /// Alert), jumbo=N, tel=N (Tunnel Encapsulation Limit), ioam=HEX, or any TYPE:HEX.
    /// Extension headers are built in the order given.
    #[arg(long = "hbh", value_name = "OPT[,OPT...]")]
    pub hbh: Vec<String>,
    /// IPv6: a Destination Options header (options as --hbh).
    #[arg(long = "dest-opt", value_name = "OPT[,OPT...]")]
    pub dest_opt: Vec<String>,
    /// IPv6: a Fragment header (offset in 8-byte units, M flag, identification).
    #[arg(long = "frag", value_name = "OFFSET[:M[:ID]]")]
    pub frag: Vec<String>,
    /// IPv6: a Routing type 0 header (deprecated, RFC 5095) via these hops to DEST.
    #[arg(long = "rh0", value_name = "ADDR[,ADDR...]")]
    pub rh0: Vec<String>,
    /// IPv6: a Segment Routing Header via these segments to DEST (the IPv6 destination is the
    /// first segment; the list is stored last-first).
    #[arg(long = "srh", value_name = "SEG[,SEG...]")]
    pub srh: Vec<String>,
    /// SRH: Segments Left to write instead of the right one (may point beyond the list).
    #[arg(long = "srh-segleft", value_name = "N", requires = "srh")]
    pub srh_segleft: Option<u8>,
    /// SRH: tag.
    #[arg(long = "srh-tag", value_name = "TAG", value_parser = parse_u16_any, requires = "srh")]
    pub srh_tag: Option<u16>,
    /// SRH: an HMAC TLV (key id, 8/16/24/32 bytes of HMAC in hex).
    #[arg(long = "srh-hmac", value_name = "KEYID:HEX", requires = "srh")]
    pub srh_hmac: Option<String>,
    /// IPv6: a raw extension header under next header TYPE, its bytes in hex (the first byte is
    /// replaced by the next header, the rest written as given).
    #[arg(long = "ext-hdr", value_name = "TYPE:HEX")]
    pub ext_hdr: Vec<String>,
    /// ICMPv6 NS/NA/Redirect: target address (default DEST).
    #[arg(long = "target", value_name = "ADDR")]
    pub target: Option<String>,
    /// ICMPv6 Redirect: the destination redirected (default DEST).
    #[arg(long = "redirect-dest", value_name = "ADDR")]
    pub redirect_dest: Option<String>,
    /// ICMPv6 NA: flags, letters R (router), S (solicited), O (override), e.g. SO.
    #[arg(long = "na-flags", value_name = "RSO")]
    pub na_flags: Option<String>,
    /// ICMPv6 NDP: a Source Link-Layer Address option.
    #[arg(long = "sll", value_name = "MAC")]
    pub sll: Option<String>,
    /// ICMPv6 NDP: a Target Link-Layer Address option.
    #[arg(long = "tll", value_name = "MAC")]
    pub tll: Option<String>,
}

impl FrameArgs {
    /// The typed frame; refuses malformed values naming the flag.
    pub fn spec(&self) -> Result<FrameSpec> {
        if let Some(f) = self.v6.set_flag() {
            return Err(Error::Invalid(format!(
                "{f} is an IPv6 field: it needs -6 or an IPv6 destination"
            )));
        }
        let dest = self
            .dest
            .as_deref()
            .ok_or_else(|| Error::Invalid("DEST is required (the IPv4 destination)".into()))?;
        let mut s = FrameSpec::new(resolve_host(dest)?);
        if let Some(t) = self.ethertype {
            s.ethertype = t;
        }
        s.vlans = self.vlan.stack()?;
        s.version = self.ip_version;
        s.ihl = self.ihl;
        s.tos = self.tos.unwrap_or(0);
        s.total_len = self.ip_len;
        s.id = self.id.unwrap_or(0);
        s.reserved_flag = self.evil;
        s.dont_fragment = self.df;
        s.more_fragments = self.mf;
        s.frag_offset = self.frag_offset.unwrap_or(0);
        if s.frag_offset > 0x1fff {
            return Err(Error::Invalid(format!(
                "--frag-offset {} does not fit its 13-bit field (0..=8191, in 8-byte units)",
                s.frag_offset
            )));
        }
        s.ttl = self.ttl.unwrap_or(64);
        s.protocol = self.protocol.unwrap_or(1);
        s.ip_checksum = self.ip_checksum;
        s.options = options_request(&self.ip_options)?;
        let t = self.icmp_type.unwrap_or(8);
        s.icmp = IcmpSpec {
            icmp_type: t,
            code: self.icmp_code.unwrap_or(0),
            checksum: self.icmp_checksum,
            id: self.icmp_id.unwrap_or(0),
            seq: self.icmp_seq.unwrap_or(0),
            gateway: self.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED),
            pointer: narrow("--pointer", self.pointer, 255, "an ICMP pointer is 8 bits")? as u8,
            mtu: narrow("--mtu", self.mtu, 65535, "the ICMP next-hop MTU is 16 bits")? as u16,
            timestamps: [
                self.orig.unwrap_or_else(|| {
                    if t == 13 {
                        ms_since_midnight_ut(SystemTime::now())
                    } else {
                        0
                    }
                }),
                self.recv.unwrap_or(0),
                self.xmit.unwrap_or(0),
            ],
            mask: self.mask.unwrap_or(Ipv4Addr::UNSPECIFIED),
            quote: self
                .quote
                .as_deref()
                .map(|q| parse_hex("--quote", q))
                .transpose()?,
        };
        s.payload = self.payload(matches!(t, 0 | 8) && !self.udp && !self.tcp)?;
        let protocol = self.protocol;
        s = s.with_transport(self.transport()?);
        if let Some(p) = protocol {
            s.protocol = p;
        }
        // What the fields can carry is built, the reserved and out-of-spec included; say so.
        for w in s.warnings() {
            eprintln!("pktforge: warning: {w}");
        }
        Ok(s)
    }

    /// The payload bytes: --data, --data-file, or --pattern to --size (56 for an echo).
    fn payload(&self, echo: bool) -> Result<Vec<u8>> {
        let p = if let Some(d) = &self.data {
            parse_hex("--data", d)?
        } else if let Some(f) = &self.data_file {
            std::fs::read(f).map_err(|e| Error::io(format!("--data-file {}", f.display()), e))?
        } else {
            let pattern = match &self.pattern {
                Some(p) => parse_hex("--pattern", p)?,
                None => Vec::new(),
            };
            if pattern.len() > 16 {
                return Err(Error::Invalid(format!(
                    "--pattern holds at most 16 bytes, got {}",
                    pattern.len()
                )));
            }
            let default = if echo { 56 } else { 0 };
            let size = self.size.unwrap_or(default);
            if size > 65535 {
                return Err(Error::Invalid(format!(
                    "--size {size} is over the IP limit of 65535 bytes"
                )));
            }
            echo_data(size, &pattern, 0)
        };
        Ok(p)
    }

    /// The UDP or TCP header the flags describe; refuses transport flags without `--udp`/`--tcp`
    /// and TCP flags with `--udp`.
    fn transport(&self) -> Result<Transport> {
        let tcp_only = [
            ("--flags", self.flags.is_some()),
            ("--seq", self.seq.is_some()),
            ("--ack", self.ack.is_some()),
            ("--win", self.win.is_some()),
            ("--urg", self.urg.is_some()),
            ("--tcp-option", !self.tcp_option.is_empty()),
            ("--data-offset", self.data_offset.is_some()),
        ];
        let either = [
            ("--sport", self.sport.is_some()),
            ("--dport", self.dport.is_some()),
            ("--l4-checksum", self.l4_checksum.is_some()),
        ];
        if !self.tcp {
            if let Some((f, _)) = tcp_only.iter().find(|(_, set)| *set) {
                return Err(Error::Invalid(format!("{f} needs --tcp")));
            }
        }
        if !self.udp && self.udp_len.is_some() {
            return Err(Error::Invalid("--udp-len needs --udp".into()));
        }
        if !self.udp && !self.tcp {
            if let Some((f, _)) = either.iter().find(|(_, set)| *set) {
                return Err(Error::Invalid(format!("{f} needs --udp or --tcp")));
            }
            return Ok(Transport::Icmp);
        }
        let sport = self.sport.unwrap_or(49152);
        if self.udp {
            let mut u = UdpRepr::new(sport, self.dport.unwrap_or(33434), Vec::new());
            u.length_override = self.udp_len;
            u.checksum_override = self.l4_checksum;
            return Ok(Transport::Udp(u));
        }
        let mut t = TcpRepr::new(
            sport,
            self.dport.unwrap_or(80),
            self.flags.unwrap_or(pktforge::wire::tcp::flags::SYN),
        );
        t.seq = self.seq.unwrap_or(0);
        t.ack = self.ack.unwrap_or(0);
        t.window = self.win.unwrap_or(64240);
        t.urgent = self.urg.unwrap_or(0);
        t.options = parse_tcp_options_args(&self.tcp_option)?;
        // Below 5 is a lie a receiver rejects: allowed, as --ihl is.
        t.data_offset_override = self.data_offset;
        t.checksum_override = self.l4_checksum;
        Ok(Transport::Tcp(t))
    }

    /// MACs and source address given on the command line, with the offline defaults
    /// (zero MACs, 192.0.2.1) for what is missing.
    pub fn offline_endpoints(&self) -> Result<Endpoints> {
        Ok(Endpoints::offline(&path_request(&self.link)?))
    }
}

/// A number flag that has a narrower field in IPv4 than in IPv6.
fn narrow(flag: &str, v: Option<u32>, max: u32, why: &str) -> Result<u32> {
    match v {
        Some(n) if n > max => Err(Error::Invalid(format!("{flag} {n}: {why} (at most {max})"))),
        n => Ok(n.unwrap_or(0)),
    }
}

/// `--tcp-option` values → options, checked against the 40-byte limit.
pub fn parse_tcp_options_args(args: &[String]) -> Result<Vec<TcpOption>> {
    let opts = args
        .iter()
        .map(|a| {
            a.parse::<TcpOption>()
                .map_err(|e| Error::Invalid(format!("--tcp-option: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    pktforge::wire::tcp::tcp_options_len(&opts)
        .map_err(|e| Error::Invalid(format!("--tcp-option: {e}")))?;
    Ok(opts)
}

impl Ipv6Args {
    /// The first IPv6-only flag given, if any.
    pub fn set_flag(&self) -> Option<&'static str> {
        [
            ("--hop-limit", self.hop_limit.is_some()),
            ("--traffic-class", self.traffic_class.is_some()),
            ("--flow-label", self.flow_label.is_some()),
            ("--payload-len", self.payload_len.is_some()),
            ("--next-header", self.next_header.is_some()),
            ("--hbh", !self.hbh.is_empty()),
            ("--dest-opt", !self.dest_opt.is_empty()),
            ("--frag", !self.frag.is_empty()),
            ("--rh0", !self.rh0.is_empty()),
            ("--srh", !self.srh.is_empty()),
            ("--ext-hdr", !self.ext_hdr.is_empty()),
            ("--target", self.target.is_some()),
            ("--redirect-dest", self.redirect_dest.is_some()),
            ("--na-flags", self.na_flags.is_some()),
            ("--sll", self.sll.is_some()),
            ("--tll", self.tll.is_some()),
        ]
        .into_iter()
        .find(|(_, set)| *set)
        .map(|(f, _)| f)
    }
}

/// The extension-header flags, in the order `emit` takes them when the command line does not
/// tell (RFC 8200 §4.1's recommended order).
const EXT_FLAGS: [&str; 6] = [
    "--hbh",
    "--dest-opt",
    "--rh0",
    "--srh",
    "--frag",
    "--ext-hdr",
];

/// The extension-header flags in the order they appear in `argv` (`--hbh X` or `--hbh=X`).
fn ext_flag_order(argv: &[String]) -> Vec<&'static str> {
    let mut v = Vec::new();
    for a in argv {
        if a == "--" {
            break;
        }
        if let Some(f) = EXT_FLAGS
            .iter()
            .find(|f| a == *f || a.starts_with(&format!("{f}=")))
        {
            v.push(*f);
        }
    }
    v
}

/// An IPv6 address flag; the error names the flag.
fn addr6(flag: &str, s: &str) -> Result<Ipv6Addr> {
    s.trim().parse::<Ipv6Addr>().map_err(|_| {
        Error::Invalid(format!(
            "{flag} {s:?}: not an IPv6 address (eight 16-bit hex groups, :: for zeros; \
             a scope %IFACE is not taken here)"
        ))
    })
}

/// A list of IPv6 addresses.
fn addrs6(flag: &str, s: &str) -> Result<Vec<Ipv6Addr>> {
    s.split(',').map(|a| addr6(flag, a)).collect()
}

/// `TYPE:HEX` of `--ext-hdr`.
fn raw_ext(s: &str) -> Result<ExtHeaderRepr> {
    let (t, h) = s.split_once(':').ok_or_else(|| {
        Error::Invalid(format!(
            "--ext-hdr {s}: expected TYPE:HEX (next header number, bytes)"
        ))
    })?;
    let protocol = parse_u8_any(t).map_err(|e| Error::Invalid(format!("--ext-hdr {s}: {e}")))?;
    let bytes = parse_hex("--ext-hdr", h)?;
    if bytes.len() < 2 {
        return Err(Error::Invalid(format!(
            "--ext-hdr {s}: {} bytes; a header needs at least 2 (next header, length)",
            bytes.len()
        )));
    }
    if bytes.len() > MAX_EXT_HEADER_LEN {
        return Err(Error::Invalid(format!(
            "--ext-hdr {s}: {} bytes exceeds {MAX_EXT_HEADER_LEN}, the most an extension \
             header's 8-bit length (in 8-byte units) can say",
            bytes.len()
        )));
    }
    Ok(ExtHeaderRepr::Raw { protocol, bytes })
}

impl FrameArgs {
    /// Whether the flags ask for an IPv6 frame: `-6` or an IPv6 destination.
    pub fn is_v6(&self) -> bool {
        self.v6.ipv6 || self.dest.as_deref().is_some_and(|d| d.contains(':'))
    }

    /// The typed IPv6 frame; refuses malformed values and IPv4-only flags naming the flag.
    pub fn spec6(&self) -> Result<Frame6Spec> {
        let v4_only = [
            ("--ihl", self.ihl.is_some()),
            ("--ip-version", self.ip_version.is_some()),
            ("--ip-len", self.ip_len.is_some()),
            ("--id", self.id.is_some()),
            ("--evil", self.evil),
            ("--df", self.df),
            ("--mf", self.mf),
            ("--frag-offset", self.frag_offset.is_some()),
            ("--protocol", self.protocol.is_some()),
            ("--ip-checksum", self.ip_checksum.is_some()),
            ("--gateway", self.gateway.is_some()),
            ("--mask", self.mask.is_some()),
            ("--orig", self.orig.is_some()),
            ("--recv", self.recv.is_some()),
            ("--xmit", self.xmit.is_some()),
            (
                "IP option flags",
                options_request(&self.ip_options)? != OptionsRequest::default(),
            ),
        ];
        if let Some((f, _)) = v4_only.iter().find(|(_, set)| *set) {
            return Err(Error::Invalid(format!(
                "{f} is an IPv4 field: not with -6 (see --hop-limit, --traffic-class, \
                 --next-header, --payload-len, --frag)"
            )));
        }
        let a = &self.v6;
        let dest = self
            .dest
            .as_deref()
            .ok_or_else(|| Error::Invalid("DEST is required (the IPv6 destination)".into()))?;
        let mut s = Frame6Spec::new(addr6("DEST", dest)?);
        if let Some(t) = self.ethertype {
            s.ethertype = t;
        }
        s.vlans = self.vlan.stack()?;
        // NDP messages are dropped unless they arrive with hop limit 255 (RFC 4861 §6.1).
        let ndp = (133..=137).contains(&self.icmp_type.unwrap_or(128)) && !self.udp && !self.tcp;
        s.hop_limit = a
            .hop_limit
            .or(self.ttl)
            .unwrap_or(if ndp { 255 } else { 64 });
        s.traffic_class = a.traffic_class.or(self.tos).unwrap_or(0);
        s.flow_label = a.flow_label.unwrap_or(0);
        if s.flow_label > MAX_FLOW_LABEL {
            return Err(Error::Invalid(format!(
                "--flow-label {:#x} does not fit its 20-bit field (at most {MAX_FLOW_LABEL:#x})",
                s.flow_label
            )));
        }
        s.payload_len = a.payload_len;
        s.next_header = a.next_header;
        // Extension headers in the order given on the command line.
        let argv: Vec<String> = std::env::args().collect();
        let mut order = ext_flag_order(&argv);
        let given = [
            a.hbh.len(),
            a.dest_opt.len(),
            a.rh0.len(),
            a.srh.len(),
            a.frag.len(),
            a.ext_hdr.len(),
        ];
        let counts_agree = EXT_FLAGS
            .iter()
            .zip(given)
            .all(|(f, n)| order.iter().filter(|x| *x == f).count() == n);
        if !counts_agree {
            order = EXT_FLAGS
                .iter()
                .zip(given)
                .flat_map(|(f, n)| std::iter::repeat_n(*f, n))
                .collect();
        }
        let mut next = [0usize; 6];
        for f in order {
            let k = EXT_FLAGS.iter().position(|x| *x == f).unwrap_or(0);
            let i = next[k];
            next[k] += 1;
            let opts = |v: &str| -> Result<OptionsRepr> {
                let o = v
                    .split(',')
                    .filter(|x| !x.is_empty())
                    .map(parse_ipv6_option)
                    .collect::<Result<Vec<_>>>()
                    .map_err(|e| Error::Invalid(format!("{f}: {e}")))?;
                let r = OptionsRepr::new(o);
                r.buffer_len()
                    .map_err(|e| Error::Invalid(format!("{f} {v}: {e}")))?;
                Ok(r)
            };
            let e = match f {
                "--hbh" => ExtHeaderRepr::HopByHop(opts(&a.hbh[i])?),
                "--dest-opt" => ExtHeaderRepr::DestOpts(opts(&a.dest_opt[i])?),
                "--frag" => ExtHeaderRepr::Fragment(parse_frag(&a.frag[i])?),
                "--rh0" => {
                    let hops = addrs6("--rh0", &a.rh0[i])?;
                    s.first_hop.get_or_insert(hops[0]);
                    ExtHeaderRepr::Routing(rh0_for(&hops, s.dest)?)
                }
                "--srh" => {
                    let segs = addrs6("--srh", &a.srh[i])?;
                    let mut r = srh_for(&segs, s.dest)?;
                    s.first_hop.get_or_insert(segs[0]);
                    if let Some(n) = a.srh_segleft {
                        r.segments_left = n;
                    }
                    r.tag = a.srh_tag.unwrap_or(0);
                    if let Some(h) = &a.srh_hmac {
                        let (k, x) = h.split_once(':').ok_or_else(|| {
                            Error::Invalid(format!("--srh-hmac {h}: expected KEYID:HEX"))
                        })?;
                        let key = parse_u32_any(k)
                            .map_err(|e| Error::Invalid(format!("--srh-hmac {h}: {e}")))?;
                        r.tlvs.push(srh_hmac(key, parse_hex("--srh-hmac", x)?)?);
                    }
                    let r = RoutingRepr::Srh(r);
                    r.buffer_len().map_err(|e| {
                        Error::Invalid(format!("--srh: {e} (at most {MAX_SRH_SEGMENTS} segments)"))
                    })?;
                    ExtHeaderRepr::Routing(r)
                }
                _ => raw_ext(&a.ext_hdr[i])?,
            };
            s.exts.push(e);
        }
        let t = self.icmp_type.unwrap_or(128);
        let mac = |flag: &str, m: &Option<String>| -> Result<Option<MacAddr>> {
            m.as_deref()
                .map(|x| {
                    pktforge::wire::parse_mac(x).map_err(|e| Error::Invalid(format!("{flag}: {e}")))
                })
                .transpose()
        };
        let flags = a.na_flags.as_deref().unwrap_or("").to_ascii_uppercase();
        if let Some(c) = flags.chars().find(|c| !"RSO".contains(*c)) {
            return Err(Error::Invalid(format!(
                "--na-flags: {c:?} is not R (router), S (solicited) or O (override)"
            )));
        }
        s.icmp = Icmp6Spec {
            icmp_type: t,
            code: self.icmp_code.unwrap_or(0),
            checksum: self.icmp_checksum,
            id: self.icmp_id.unwrap_or(0),
            seq: self.icmp_seq.unwrap_or(0),
            pointer: self.pointer.unwrap_or(0),
            mtu: self.mtu.unwrap_or(1280),
            target: a
                .target
                .as_deref()
                .map(|x| addr6("--target", x))
                .transpose()?,
            redirect_dest: a
                .redirect_dest
                .as_deref()
                .map(|x| addr6("--redirect-dest", x))
                .transpose()?,
            na_flags: (
                flags.contains('R'),
                flags.contains('S'),
                flags.contains('O'),
            ),
            sll: mac("--sll", &a.sll)?,
            tll: mac("--tll", &a.tll)?,
            ra: (64, 1800),
            quote: self
                .quote
                .as_deref()
                .map(|q| parse_hex("--quote", q))
                .transpose()?,
        };
        s.payload = self.payload(matches!(t, 128 | 129) && !self.udp && !self.tcp)?;
        s.transport = self.transport()?;
        for w in s.warnings() {
            eprintln!("pktforge: warning: {w}");
        }
        Ok(s)
    }

    /// The IPv6 addresses given on the command line: --src (default 2001:db8::1), the MACs
    /// (default: with -I the interface's as source; a multicast destination's group MAC; zero).
    pub fn endpoints6(&self, spec: &Frame6Spec) -> Result<Endpoints6> {
        let src_ip = match self.link.src {
            None => OFFLINE_SRC6,
            Some(std::net::IpAddr::V6(a)) => a,
            Some(std::net::IpAddr::V4(a)) => {
                return Err(Error::Invalid(format!(
                    "--src {a} is an IPv4 address; the destination is IPv6"
                )))
            }
        };
        let link = LinkArgs {
            src: None,
            ..self.link.clone()
        };
        let path = path_request(&link)?;
        let iface_mac = match &path.iface {
            Some(name) => {
                pktforge::net::iface::list()?
                    .into_iter()
                    .find(|i| &i.name == name)
                    .ok_or_else(|| Error::Invalid(format!("-I {name}: no such interface")))?
                    .mac
            }
            None => None,
        };
        Ok(Endpoints6 {
            src_mac: path.src_mac.or(iface_mac).unwrap_or(MacAddr::zero()),
            dst_mac: path
                .dst_mac
                .or_else(|| pktforge::wire::multicast_mac(spec.wire_dst()))
                .unwrap_or(MacAddr::zero()),
            src_ip,
        })
    }
}

/// Identification of the fragments `--fragment` makes of an IPv6 packet.
pub const FRAGMENT6_IDENT: u32 = 1;

/// An IPv6 frame's packet as fragments of `plan.size` data bytes (RFC 8200 §4.5: the
/// per-fragment headers repeated, a Fragment header after them), each behind the frame's
/// Ethernet header; overlapping fragments are IPv4-only.
pub fn split6(frame: &[u8], plan: pktforge::send::FragmentPlan) -> Result<Vec<Vec<u8>>> {
    use pktforge::wire::frag6::{fragment6, Frag6Error};
    plan.validate()?;
    if plan.overlap > 0 {
        return Err(Error::Invalid(
            "--fragment-overlap is for IPv4 (RFC 5722 forbids overlapping IPv6 fragments and \
             Linux drops the whole packet; build them by hand with --frag)"
                .into(),
        ));
    }
    let eh = pktforge::wire::EthernetFrame::new_checked(frame)
        .map_err(|e| Error::Invalid(format!("fragmenting: {e}")))?
        .header_len();
    let packet = &frame[eh..];
    // With no room at all, fragment6 names the per-fragment headers' length.
    let unfrag = match fragment6(packet, 0, FRAGMENT6_IDENT) {
        Err(Frag6Error::MtuTooSmall { header, .. }) => header,
        Err(e) => return Err(Error::Invalid(format!("--fragment: {e}"))),
        Ok(_) => 0,
    };
    let mtu = unfrag + pktforge::wire::ipv6ext::FRAGMENT_HEADER_LEN + plan.size;
    let mut pieces = fragment6(packet, mtu, FRAGMENT6_IDENT)
        .map_err(|e| Error::Invalid(format!("--fragment: {e}")))?;
    if plan.reverse {
        pieces.reverse();
    }
    Ok(pieces
        .into_iter()
        .map(|p| {
            let mut f = frame[..eh].to_vec();
            f.extend_from_slice(&p);
            f
        })
        .collect())
}
