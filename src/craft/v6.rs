//! A hand-crafted IPv6 frame as a typed request: every field of the fixed header, the
//! extension headers in the order given, and ICMPv6, UDP or TCP behind them, each field either
//! given or defaulted to the right value (lengths, next headers, checksums over the final
//! destination). Building is pure: the addresses a path supplies are passed in. No I/O here.

use std::net::Ipv6Addr;

use crate::wire::icmpv6::{types, Icmpv6Message, Icmpv6Repr, NdpOption};
use crate::wire::ipv6ext::{
    ext_chain_len, opt, option_name, FragmentRepr, Ipv6Option, OptionAction, OptionsRepr,
    RoutingRepr, SrhRepr, SrhTlv, MAX_EXT_HEADER_LEN,
};
use crate::wire::{
    build_ipv6_frame, EthernetRepr, ExtHeaderRepr, Ipv6Repr, L6Repr, MacAddr, TcpRepr, UdpRepr,
    VlanStack, ETHERTYPE_IPV6, IPV6_HEADER_LEN, MAX_FLOW_LABEL,
};
use crate::{Error, Result};

use super::Transport;

/// Source address an IPv6 frame crafted offline (no source given) gets (documentation prefix).
pub const OFFLINE_SRC6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

/// Segments an SRH holds without TLVs: its length field counts 8-byte units beyond the first
/// in 8 bits, (8 + 16 n) / 8 - 1 <= 255.
pub const MAX_SRH_SEGMENTS: usize = 127;

/// The addresses that come from the path (or the command line when crafting offline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints6 {
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination.
    pub dst_mac: MacAddr,
    /// IPv6 source.
    pub src_ip: Ipv6Addr,
}

/// ICMPv6 fields; each type uses the ones it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmp6Spec {
    /// Type (default 128, echo request).
    pub icmp_type: u8,
    /// Code (default 0).
    pub code: u8,
    /// Checksum (default: the right one).
    pub checksum: Option<u16>,
    /// Identifier (echo).
    pub id: u16,
    /// Sequence number (echo).
    pub seq: u16,
    /// Parameter Problem pointer.
    pub pointer: u32,
    /// Packet Too Big MTU (default 1280).
    pub mtu: u32,
    /// NS/NA/Redirect target (default: the destination).
    pub target: Option<Ipv6Addr>,
    /// Redirect: the destination redirected (default: the destination).
    pub redirect_dest: Option<Ipv6Addr>,
    /// NA flags R, S, O.
    pub na_flags: (bool, bool, bool),
    /// Source Link-Layer Address option (NS, RS, RA, Redirect).
    pub sll: Option<MacAddr>,
    /// Target Link-Layer Address option (NA, Redirect).
    pub tll: Option<MacAddr>,
    /// RA: Cur Hop Limit, Router Lifetime.
    pub ra: (u8, u16),
    /// The packet an error quotes (default: see [`Frame6Spec::default_quote`]).
    pub quote: Option<Vec<u8>>,
}

impl Default for Icmp6Spec {
    fn default() -> Self {
        Icmp6Spec {
            icmp_type: types::ECHO_REQUEST,
            code: 0,
            checksum: None,
            id: 0,
            seq: 0,
            pointer: 0,
            mtu: 1280,
            target: None,
            redirect_dest: None,
            na_flags: (false, false, false),
            sll: None,
            tll: None,
            ra: (64, 1800),
            quote: None,
        }
    }
}

/// Every field of an Ethernet + IPv6 (+ extension headers) + ICMPv6/UDP/TCP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame6Spec {
    /// EtherType (default 0x86dd).
    pub ethertype: u16,
    /// VLAN tags, outermost first.
    pub vlans: VlanStack,
    /// The final destination (with a routing header, the last segment).
    pub dest: Ipv6Addr,
    /// The IPv6 destination field when a routing header visits other nodes first.
    pub first_hop: Option<Ipv6Addr>,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Hop limit (default 64).
    pub hop_limit: u8,
    /// Payload length field (default: the real length).
    pub payload_len: Option<u16>,
    /// Next header field of the fixed header (default: the first extension header's or the
    /// upper layer's).
    pub next_header: Option<u8>,
    /// Extension headers, in order.
    pub exts: Vec<ExtHeaderRepr>,
    /// ICMPv6 fields.
    pub icmp: Icmp6Spec,
    /// ICMPv6 unless UDP or TCP.
    pub transport: Transport,
    /// Bytes after the ICMPv6, UDP or TCP header.
    pub payload: Vec<u8>,
}

impl Frame6Spec {
    /// An echo request to `dest` with every other field at its default.
    pub fn new(dest: Ipv6Addr) -> Frame6Spec {
        Frame6Spec {
            ethertype: ETHERTYPE_IPV6,
            vlans: VlanStack::EMPTY,
            dest,
            first_hop: None,
            traffic_class: 0,
            flow_label: 0,
            hop_limit: 64,
            payload_len: None,
            next_header: None,
            exts: Vec::new(),
            icmp: Icmp6Spec::default(),
            transport: Transport::Icmp,
            payload: Vec::new(),
        }
    }

    /// The IPv6 destination on the wire: the first hop of a routing header, else `dest`.
    pub fn wire_dst(&self) -> Ipv6Addr {
        self.first_hop.unwrap_or(self.dest)
    }

    /// What an error quotes without `quote`: an echo request's IPv6 header from this frame's
    /// destination to `src`, hop limit 1, and its 8-byte ICMPv6 header.
    pub fn default_quote(&self, src: Ipv6Addr) -> Vec<u8> {
        let mut ip = Ipv6Repr::new(self.wire_dst(), src, crate::wire::IP_PROTO_ICMPV6);
        ip.hop_limit = 1;
        let echo = Icmpv6Repr::echo_request(self.icmp.id, self.icmp.seq, Vec::new());
        let mut b = vec![0u8; IPV6_HEADER_LEN + 8];
        let _ = ip.emit(&mut b, 8);
        let _ = echo.emit(&mut b[IPV6_HEADER_LEN..], self.wire_dst(), src);
        b
    }

    /// The ICMPv6 message these fields describe.
    pub fn icmp_repr(&self, src: Ipv6Addr) -> Icmpv6Repr {
        use Icmpv6Message::*;
        let s = &self.icmp;
        let quote = || {
            let mut q = s.quote.clone().unwrap_or_else(|| self.default_quote(src));
            q.extend_from_slice(&self.payload);
            q
        };
        let mut options = Vec::new();
        if let Some(m) = s.sll {
            options.push(NdpOption::SourceLinkLayer(m));
        }
        if let Some(m) = s.tll {
            options.push(NdpOption::TargetLinkLayer(m));
        }
        let target = s.target.unwrap_or(self.dest);
        let (id, seq) = (s.id, s.seq);
        let message = match s.icmp_type {
            types::DEST_UNREACHABLE => DestUnreachable {
                code: s.code,
                quote: quote(),
            },
            types::PACKET_TOO_BIG => PacketTooBig {
                mtu: s.mtu,
                quote: quote(),
            },
            types::TIME_EXCEEDED => TimeExceeded {
                code: s.code,
                quote: quote(),
            },
            types::PARAMETER_PROBLEM => ParameterProblem {
                code: s.code,
                pointer: s.pointer,
                quote: quote(),
            },
            types::ECHO_REQUEST => EchoRequest {
                id,
                seq,
                data: self.payload.clone(),
            },
            types::ECHO_REPLY => EchoReply {
                id,
                seq,
                data: self.payload.clone(),
            },
            types::ROUTER_SOLICITATION => RouterSolicitation { options },
            types::ROUTER_ADVERTISEMENT => RouterAdvertisement {
                cur_hop_limit: s.ra.0,
                managed: false,
                other: false,
                preference: 0,
                router_lifetime: s.ra.1,
                reachable_time: 0,
                retrans_timer: 0,
                options,
            },
            types::NEIGHBOR_SOLICITATION => NeighborSolicitation { target, options },
            types::NEIGHBOR_ADVERTISEMENT => NeighborAdvertisement {
                router: s.na_flags.0,
                solicited: s.na_flags.1,
                override_flag: s.na_flags.2,
                target,
                options,
            },
            types::REDIRECT => Redirect {
                target,
                destination: s.redirect_dest.unwrap_or(self.dest),
                options,
            },
            t => {
                let mut rest = [0u8; 4];
                rest[..2].copy_from_slice(&id.to_be_bytes());
                rest[2..].copy_from_slice(&seq.to_be_bytes());
                Other {
                    icmp_type: t,
                    code: s.code,
                    rest,
                    data: self.payload.clone(),
                }
            }
        };
        // NDP messages: the payload (if any) after their options.
        let ndp = matches!(s.icmp_type, types::ROUTER_SOLICITATION..=types::REDIRECT);
        let message = if ndp && !self.payload.is_empty() {
            let typed = Icmpv6Repr::new(message);
            let mut b = vec![0u8; typed.buffer_len()];
            let _ = typed.emit(&mut b, src, self.dest);
            let mut data = b[8..].to_vec();
            data.extend_from_slice(&self.payload);
            Other {
                icmp_type: s.icmp_type,
                code: s.code,
                rest: [b[4], b[5], b[6], b[7]],
                data,
            }
        } else {
            message
        };
        Icmpv6Repr {
            message,
            code_override: Some(s.code),
            checksum_override: s.checksum,
        }
    }

    /// The upper layer these fields describe.
    pub fn upper(&self, src: Ipv6Addr) -> L6Repr {
        match &self.transport {
            Transport::Icmp => L6Repr::Icmpv6(self.icmp_repr(src)),
            Transport::Udp(u) => L6Repr::Udp(UdpRepr {
                payload: self.payload.clone(),
                ..u.clone()
            }),
            Transport::Tcp(t) => L6Repr::Tcp(TcpRepr {
                payload: self.payload.clone(),
                ..t.clone()
            }),
        }
    }

    /// What in these fields the standards forbid or a receiver drops, although the headers
    /// can carry it, one sentence each ([`build`](Self::build) builds it as given).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.vlans.warnings();
        for (i, e) in self.exts.iter().enumerate() {
            match e {
                ExtHeaderRepr::HopByHop(o) => {
                    if i > 0 {
                        w.push(
                            "the Hop-by-Hop Options header is not first (RFC 8200 §4.1: it \
                             must follow the IPv6 header; a receiver sends Parameter Problem \
                             code 1)"
                                .into(),
                        );
                    }
                    option_warnings(&mut w, "Hop-by-Hop", o);
                }
                ExtHeaderRepr::DestOpts(o) => option_warnings(&mut w, "Destination", o),
                ExtHeaderRepr::Routing(RoutingRepr::Type0 { .. }) => w.push(
                    "Routing type 0 is deprecated (RFC 5095): a receiver refuses it with \
                     Parameter Problem code 0 when Segments Left is above 0"
                        .into(),
                ),
                ExtHeaderRepr::Routing(RoutingRepr::Srh(s))
                    if usize::from(s.segments_left) >= s.segments.len() =>
                {
                    w.push(format!(
                        "SRH Segments Left {} is beyond its {} segments: a receiver sends \
                         Parameter Problem code 0 pointing at it (RFC 8754 §4.3.1.1)",
                        s.segments_left,
                        s.segments.len()
                    ));
                }
                ExtHeaderRepr::Raw { protocol, bytes } => {
                    let len = bytes.get(1).map(|&l| (usize::from(l) + 1) * 8);
                    if *protocol != crate::wire::ipv6ext::proto::FRAGMENT
                        && len.is_some_and(|l| l != bytes.len())
                    {
                        w.push(format!(
                            "raw extension header {protocol}: its length byte says {} bytes, \
                             {} were given",
                            len.unwrap_or(0),
                            bytes.len()
                        ));
                    }
                }
                _ => {}
            }
        }
        if self.hop_limit == 0 {
            w.push("hop limit 0: no router forwards it".into());
        }
        if let Transport::Udp(u) = &self.transport {
            if u.checksum_override == Some(0) {
                w.push(
                    "UDP checksum 0 over IPv6: RFC 8200 §8.1 requires a checksum; a receiver \
                     discards it"
                        .into(),
                );
            }
        }
        w
    }

    /// Build the frame. Refuses, naming the limit, what the headers cannot hold (flow label
    /// over 20 bits, an option over 255 bytes, an extension header over 2048 bytes, an SRH
    /// HMAC of the wrong size, a payload over 65535 bytes); builds the rest as given.
    pub fn build(&self, ep: &Endpoints6) -> Result<Vec<u8>> {
        if self.flow_label > MAX_FLOW_LABEL {
            return Err(Error::Invalid(format!(
                "flow label {:#x} does not fit its 20-bit field (at most {MAX_FLOW_LABEL:#x})",
                self.flow_label
            )));
        }
        for e in &self.exts {
            let n = e.buffer_len()?;
            if n > MAX_EXT_HEADER_LEN {
                return Err(Error::Invalid(format!(
                    "an extension header of {n} bytes exceeds {MAX_EXT_HEADER_LEN} (its 8-bit \
                     length counts 8-byte units)"
                )));
            }
        }
        ext_chain_len(&self.exts)?;
        let eth = EthernetRepr {
            dst: ep.dst_mac,
            src: ep.src_mac,
            vlans: self.vlans,
            ethertype: self.ethertype,
        };
        let mut ip = Ipv6Repr::new(ep.src_ip, self.wire_dst(), 0);
        ip.traffic_class = self.traffic_class;
        ip.flow_label = self.flow_label;
        ip.hop_limit = self.hop_limit;
        ip.payload_len_override = self.payload_len;
        let mut frame = build_ipv6_frame(&eth, &ip, &self.exts, &self.upper(ep.src_ip))?;
        if let Some(n) = self.next_header {
            frame[eth.header_len() + crate::wire::field::ipv6::NXT_HDR] = n;
        }
        Ok(frame)
    }
}

/// Warnings for the options of a Hop-by-Hop or Destination Options header.
fn option_warnings(w: &mut Vec<String>, header: &str, o: &OptionsRepr) {
    for x in &o.options {
        let t = x.opt_type();
        let known = matches!(
            x,
            Ipv6Option::Pad1
                | Ipv6Option::PadN(_)
                | Ipv6Option::RouterAlert(_)
                | Ipv6Option::JumboPayload(_)
                | Ipv6Option::TunnelEncapLimit(_)
                | Ipv6Option::Ioam(_)
        ) || option_name(t).is_some();
        let action = OptionAction::of(t);
        if !known && action != OptionAction::Skip {
            w.push(format!(
                "{header} option type {t:#04x} is unknown with action bits {:02b}: a receiver \
                 that does not know it will {}",
                t >> 6,
                action.explain()
            ));
        }
        if t == opt::JUMBO && header == "Hop-by-Hop" {
            w.push(
                "Jumbo Payload with a 16-bit Payload Length (RFC 2675: the length field must be \
                 0 and the payload over 65535 bytes; a receiver sends Parameter Problem)"
                    .into(),
            );
        }
    }
}

/// A Segment Routing Header for `segments` (visiting order, before `dest`) then `dest`: the
/// list stored last-first, Segments Left pointing at the first segment. Refuses more segments
/// than its 8-bit length holds.
pub fn srh_for(segments: &[Ipv6Addr], dest: Ipv6Addr) -> Result<SrhRepr> {
    let mut path = segments.to_vec();
    path.push(dest);
    if path.len() > MAX_SRH_SEGMENTS {
        return Err(Error::Invalid(format!(
            "--srh: {} segments with the destination; an SRH holds at most {MAX_SRH_SEGMENTS} \
             (Hdr Ext Len is 8 bits in 8-byte units: 8 + 16 x 127 = 2040 bytes)",
            path.len()
        )));
    }
    Ok(SrhRepr::from_path(&path))
}

/// An SRH HMAC TLV from key id and HMAC bytes; refuses a size RFC 8754 §2.1.2 does not allow.
pub fn srh_hmac(key_id: u32, hmac: Vec<u8>) -> Result<SrhTlv> {
    if hmac.is_empty() || hmac.len() > 32 || !hmac.len().is_multiple_of(8) {
        return Err(Error::Invalid(format!(
            "--srh-hmac: an HMAC of {} bytes; it must be 8, 16, 24 or 32 bytes (RFC 8754 \
             §2.1.2: a multiple of 8, at most 32)",
            hmac.len()
        )));
    }
    Ok(SrhTlv::Hmac {
        d_flag: false,
        key_id,
        hmac,
    })
}

/// A Routing type 0 header for `hops` (visiting order, before `dest`) then `dest`.
pub fn rh0_for(hops: &[Ipv6Addr], dest: Ipv6Addr) -> Result<RoutingRepr> {
    let addresses: Vec<Ipv6Addr> = hops.iter().skip(1).copied().chain([dest]).collect();
    if addresses.len() > 127 {
        return Err(Error::Invalid(format!(
            "--rh0: {} addresses after the first hop; a type 0 header holds at most 127",
            addresses.len()
        )));
    }
    Ok(RoutingRepr::Type0 {
        segments_left: addresses.len() as u8,
        reserved: 0,
        addresses,
    })
}

/// One option of `--hbh`/`--dest-opt`: `pad1`, `padn=N`, `ra=V`, `jumbo=N`, `tel=N`,
/// `ioam=HEX` or a raw `TYPE:HEX` (type decimal or 0x hex, data hex, may be empty).
pub fn parse_ipv6_option(s: &str) -> Result<Ipv6Option> {
    let bad = |why: String| Error::Invalid(format!("IPv6 option {s:?}: {why}"));
    let num = |v: &str| -> Result<u64> {
        let r = match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => v.parse(),
        };
        r.map_err(|_| bad(format!("{v:?} is not a number")))
    };
    let hex = |v: &str| -> Result<Vec<u8>> {
        let v: String = v.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
        if !v.len().is_multiple_of(2) {
            return Err(bad("odd number of hex digits".into()));
        }
        (0..v.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&v[i..i + 2], 16)
                    .map_err(|_| bad(format!("{:?} is not hex", &v[i..i + 2])))
            })
            .collect()
    };
    let limit = |n: u64, max: u64, what: &str| -> Result<u64> {
        if n > max {
            Err(bad(format!("{n} does not fit {what} (at most {max})")))
        } else {
            Ok(n)
        }
    };
    let (name, value) = match s.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (s, None),
    };
    Ok(match (name.to_ascii_lowercase().as_str(), value) {
        ("pad1", None) => Ipv6Option::Pad1,
        ("padn", v) => {
            Ipv6Option::PadN(limit(num(v.unwrap_or("0"))?, 255, "PadN's 8-bit length")? as u8)
        }
        ("ra", v) => {
            Ipv6Option::RouterAlert(limit(num(v.unwrap_or("0"))?, 0xffff, "16 bits")? as u16)
        }
        ("jumbo", Some(v)) => {
            Ipv6Option::JumboPayload(limit(num(v)?, u64::from(u32::MAX), "32 bits")? as u32)
        }
        ("tel", Some(v)) => Ipv6Option::TunnelEncapLimit(limit(num(v)?, 255, "8 bits")? as u8),
        ("ioam", Some(v)) => {
            let d = hex(v)?;
            if d.len() > 255 {
                return Err(bad(format!(
                    "{} data bytes; an option's length field holds at most 255",
                    d.len()
                )));
            }
            Ipv6Option::Ioam(d)
        }
        _ => {
            let (t, d) = s.split_once(':').ok_or_else(|| {
                bad("expected pad1, padn=N, ra=V, jumbo=N, tel=N, ioam=HEX or TYPE:HEX".into())
            })?;
            let opt_type = limit(num(t)?, 255, "the 8-bit option type")? as u8;
            let data = hex(d)?;
            if data.len() > 255 {
                return Err(bad(format!(
                    "{} data bytes; an option's length field holds at most 255",
                    data.len()
                )));
            }
            Ipv6Option::Raw { opt_type, data }
        }
    })
}

/// `OFFSET[:M[:ID]]` of `--frag`: offset in 8-byte units (0..=8191), M 0|1, ID (decimal or 0x).
pub fn parse_frag(s: &str) -> Result<FragmentRepr> {
    let bad = |why: &str| Error::Invalid(format!("--frag {s}: {why}"));
    let mut it = s.split(':');
    let num = |v: Option<&str>, d: u64| -> Result<u64> {
        match v {
            None => Ok(d),
            Some(v) => match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => v.parse(),
            }
            .map_err(|_| bad("expected OFFSET[:M[:ID]], numbers")),
        }
    };
    let offset = num(it.next(), 0)?;
    let more = num(it.next(), 0)?;
    let ident = num(it.next(), 0)?;
    if it.next().is_some() {
        return Err(bad("expected OFFSET[:M[:ID]]"));
    }
    if offset > 0x1fff {
        return Err(bad(
            "the offset does not fit its 13-bit field (0..=8191, in 8-byte units)",
        ));
    }
    if more > 1 {
        return Err(bad("M is one bit: 0 or 1"));
    }
    if ident > u64::from(u32::MAX) {
        return Err(bad("the identification does not fit 32 bits"));
    }
    Ok(FragmentRepr {
        offset: offset as u16,
        more: more == 1,
        ident: ident as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep() -> Endpoints6 {
        Endpoints6 {
            src_mac: MacAddr::zero(),
            dst_mac: MacAddr::zero(),
            src_ip: OFFLINE_SRC6,
        }
    }

    #[test]
    fn options_parse_and_limits_are_named() {
        assert_eq!(
            parse_ipv6_option("ra=0").unwrap(),
            Ipv6Option::RouterAlert(0)
        );
        assert_eq!(
            parse_ipv6_option("0x80:").unwrap(),
            Ipv6Option::Raw {
                opt_type: 0x80,
                data: vec![]
            }
        );
        let long = format!("0x1e:{}", "00".repeat(256));
        let e = parse_ipv6_option(&long).unwrap_err().to_string();
        assert!(e.contains("at most 255"), "{e}");
        assert!(parse_frag("8192").is_err());
        assert_eq!(
            parse_frag("1:1:0x10").unwrap(),
            FragmentRepr {
                offset: 1,
                more: true,
                ident: 16
            }
        );
        let segs: Vec<Ipv6Addr> = (0..127u16)
            .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i))
            .collect();
        let e = srh_for(&segs, OFFLINE_SRC6).unwrap_err().to_string();
        assert!(e.contains("at most 127"), "{e}");
        assert!(srh_for(&segs[1..], OFFLINE_SRC6).is_ok());
        assert!(srh_hmac(1, vec![0; 12]).is_err());
    }

    #[test]
    fn srh_checksum_uses_the_final_destination() {
        let b: Ipv6Addr = "2001:db8:3::2".parse().unwrap();
        let r1: Ipv6Addr = "2001:db8:1::1".parse().unwrap();
        let mut s = Frame6Spec::new(b);
        s.first_hop = Some(r1);
        s.exts = vec![ExtHeaderRepr::Routing(RoutingRepr::Srh(
            srh_for(&[r1], b).unwrap(),
        ))];
        let f = s.build(&ep()).unwrap();
        assert_eq!(&f[14 + 24..14 + 40], &r1.octets());
        let icmp = &f[14 + 40 + 40..];
        let v = crate::wire::Icmpv6Packet::new_checked(icmp).unwrap();
        assert!(v.verify_checksum(OFFLINE_SRC6, b));
        s.flow_label = 0x10_0000;
        assert!(s.build(&ep()).unwrap_err().to_string().contains("20-bit"));
    }

    #[test]
    fn discarding_options_misplaced_hbh_and_rh0_are_warned_not_refused() {
        let d: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut s = Frame6Spec::new(d);
        assert!(s.warnings().is_empty());
        s.exts = vec![
            ExtHeaderRepr::DestOpts(OptionsRepr::new(vec![Ipv6Option::Raw {
                opt_type: 0x1e,
                data: vec![],
            }])),
            ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![Ipv6Option::Raw {
                opt_type: 0xde,
                data: vec![],
            }])),
            ExtHeaderRepr::Routing(rh0_for(&[d], d).unwrap()),
        ];
        let w = s.warnings();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("not first"), "{w:?}");
        assert!(
            w[1].contains("0xde is unknown with action bits 11"),
            "{w:?}"
        );
        assert!(
            w[1].contains("unless the destination was multicast"),
            "{w:?}"
        );
        assert!(w[2].contains("RFC 5095"), "{w:?}");
        assert!(s.build(&ep()).is_ok());
    }
}
