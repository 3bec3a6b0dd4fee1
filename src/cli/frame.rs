//! The frame flags `craft` and `send` share: every Ethernet, IPv4 and ICMP field.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;

use super::args::{parse_hex, parse_u16_any, parse_u8_any, IpOptionArgs, LinkArgs};
use super::{options_request, path_request, resolve_host};
use pktforge::craft::{fill_payload, Endpoints, FrameSpec, IcmpSpec};
use pktforge::wire::hop::ms_since_midnight_ut;
use pktforge::{Error, Result};

/// `ID[:PCP[:DEI]]` → 802.1Q TCI.
fn parse_vlan(s: &str) -> std::result::Result<u16, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 {
        return Err(format!("{s:?}: expected ID[:PCP[:DEI]]"));
    }
    let num = |p: &str, what: &str, max: u16| -> std::result::Result<u16, String> {
        let v: u16 = p
            .parse()
            .map_err(|_| format!("VLAN {what} {p:?} is not a number"))?;
        if v > max {
            return Err(format!("VLAN {what} {v} is out of range 0..={max}"));
        }
        Ok(v)
    };
    let id = num(parts[0], "ID", 4095)?;
    let pcp = parts
        .get(1)
        .map(|p| num(p, "PCP", 7))
        .transpose()?
        .unwrap_or(0);
    let dei = parts
        .get(2)
        .map(|p| num(p, "DEI", 1))
        .transpose()?
        .unwrap_or(0);
    Ok(pcp << 13 | dei << 12 | id)
}

/// Every field of the frame, shared by `craft` and `send`.
#[derive(Debug, Args, Clone)]
pub struct FrameArgs {
    /// Destination (IPv4 address or name); with a source route, the last hop.
    pub dest: Option<String>,
    /// Ethernet: EtherType (default 0x0800), decimal or 0x hex.
    #[arg(long, value_name = "TYPE", value_parser = parse_u16_any)]
    pub ethertype: Option<u16>,
    /// Ethernet: add an 802.1Q tag ID[:PCP[:DEI]] (ID 0..=4095, PCP 0..=7).
    #[arg(long, value_name = "ID[:PCP[:DEI]]", value_parser = parse_vlan)]
    pub vlan: Option<u16>,
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
        s.vlan = self.vlan;
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
            let default = if matches!(t, 0 | 8) { 56 } else { 0 };
            let size = self.size.unwrap_or(default);
            if size > 65535 {
                return Err(Error::Invalid(format!(
                    "--size {size} is over the IPv4 limit of 65535 bytes"
                )));
            }
            fill_payload(size, &pattern)
        };
        Ok(s)
    }

    /// MACs and source address given on the command line, with the offline defaults
    /// (zero MACs, 192.0.2.1) for what is missing.
    pub fn offline_endpoints(&self) -> Result<Endpoints> {
        Ok(Endpoints::offline(&path_request(&self.link)?))
    }
}
