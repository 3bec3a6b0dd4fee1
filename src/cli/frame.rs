//! The frame flags `craft` and `send` share: every Ethernet, IPv4 and ICMP, UDP or TCP field.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;

use super::args::{
    parse_hex, parse_port_field, parse_tcp_flags_arg, parse_u16_any, parse_u32_any, parse_u8_any,
    IpOptionArgs, LinkArgs, VlanArgs,
};
use super::{options_request, path_request, resolve_host};
use pktforge::craft::{Endpoints, FrameSpec, IcmpSpec, Transport};
use pktforge::wire::echo_data;
use pktforge::wire::hop::ms_since_midnight_ut;
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
    #[arg(long = "icmp-type", value_name = "N")]
    pub icmp_type: Option<u8>,
    /// ICMP: code (default 0).
    #[arg(long = "icmp-code", value_name = "N")]
    pub icmp_code: Option<u8>,
    /// ICMP: checksum to write instead of the right one.
    #[arg(long = "icmp-checksum", value_name = "SUM", value_parser = parse_u16_any)]
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
    /// ICMP parameter problem (type 12): pointer.
    #[arg(long, value_name = "N")]
    pub pointer: Option<u8>,
    /// ICMP destination unreachable (type 3, code 4): next-hop MTU.
    #[arg(long, value_name = "MTU")]
    pub mtu: Option<u16>,
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
}

impl FrameArgs {
    /// The typed frame; refuses malformed values naming the flag.
    pub fn spec(&self) -> Result<FrameSpec> {
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
            pointer: self.pointer.unwrap_or(0),
            mtu: self.mtu.unwrap_or(0),
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
        s.payload = if let Some(d) = &self.data {
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
            let default = if matches!(t, 0 | 8) && !self.udp && !self.tcp {
                56
            } else {
                0
            };
            let size = self.size.unwrap_or(default);
            if size > 65535 {
                return Err(Error::Invalid(format!(
                    "--size {size} is over the IPv4 limit of 65535 bytes"
                )));
            }
            echo_data(size, &pattern, 0)
        };
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
