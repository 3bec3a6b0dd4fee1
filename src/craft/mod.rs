//! A hand-crafted frame as a typed request: every Ethernet, IPv4 and ICMP, UDP or TCP field, each either
//! given or defaulted to the right value (lengths, IHL, checksums). Building is pure: the
//! addresses a path supplies (MACs, source IP) are passed in. No I/O here.

pub mod options;
pub mod v6;

use options::OptionsRequest;

use std::net::Ipv4Addr;

use crate::wire::{
    build_l4_frame_into, checksum, EthernetRepr, IcmpMessage, IcmpRepr, Ipv4Repr, L4Repr, MacAddr,
    TcpRepr, UdpRepr, VlanStack, ETHERTYPE_IPV4,
};
use crate::Result;

/// Every field of an Ethernet + IPv4 + ICMP frame; `None` means "the right value".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    /// EtherType of the payload (inner one when tagged).
    pub ethertype: u16,
    /// VLAN tags, outermost first, each with its TPID (empty: untagged).
    pub vlans: VlanStack,
    /// The destination the options lead to (for a source route, the last hop).
    pub dest: Ipv4Addr,
    /// IP version nibble (default 4).
    pub version: Option<u8>,
    /// Type of service byte.
    pub tos: u8,
    /// Identification.
    pub id: u16,
    /// Time to live.
    pub ttl: u8,
    /// Reserved ("evil") flag.
    pub reserved_flag: bool,
    /// Don't fragment.
    pub dont_fragment: bool,
    /// More fragments.
    pub more_fragments: bool,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
    /// IP protocol (default 1).
    pub protocol: u8,
    /// IHL field (default: the real header length / 4).
    pub ihl: Option<u8>,
    /// Total length field (default: the real length).
    pub total_len: Option<u16>,
    /// IP header checksum (default: the right one).
    pub ip_checksum: Option<u16>,
    /// IP options from the option flags.
    pub options: OptionsRequest,
    /// ICMP fields.
    pub icmp: IcmpSpec,
    /// What the datagram carries: ICMP (from `icmp`) unless UDP or TCP is asked for.
    pub transport: Transport,
    /// Bytes after the ICMP, UDP or TCP header (and after the kind's own fields or quote).
    pub payload: Vec<u8>,
}

/// The transport a crafted datagram carries. UDP and TCP take their data from
/// [`FrameSpec::payload`] (their own `payload` is replaced) and their checksum over the
/// pseudo-header of the final destination ([`FrameSpec::dest`]) unless overridden.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Transport {
    /// ICMP, from [`FrameSpec::icmp`].
    #[default]
    Icmp,
    /// A UDP datagram.
    Udp(UdpRepr),
    /// A TCP segment.
    Tcp(TcpRepr),
}

/// ICMP fields; each kind uses the ones it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpSpec {
    /// Type (default 8, echo request).
    pub icmp_type: u8,
    /// Code (default 0).
    pub code: u8,
    /// Checksum (default: the right one).
    pub checksum: Option<u16>,
    /// Identifier (echo, timestamp, information, address mask).
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
    /// Redirect gateway.
    pub gateway: Ipv4Addr,
    /// Parameter problem pointer.
    pub pointer: u8,
    /// Destination unreachable code 4: next-hop MTU.
    pub mtu: u16,
    /// Timestamp originate / receive / transmit (ms since midnight UT).
    pub timestamps: [u32; 3],
    /// Address mask.
    pub mask: Ipv4Addr,
    /// The datagram an error quotes (default: see [`FrameSpec::default_quote`]).
    pub quote: Option<Vec<u8>>,
}

impl Default for IcmpSpec {
    fn default() -> Self {
        IcmpSpec {
            icmp_type: 8,
            code: 0,
            checksum: None,
            id: 0,
            seq: 0,
            gateway: Ipv4Addr::UNSPECIFIED,
            pointer: 0,
            mtu: 0,
            timestamps: [0; 3],
            mask: Ipv4Addr::UNSPECIFIED,
            quote: None,
        }
    }
}

/// The addresses that come from the path (or from defaults when crafting offline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination.
    pub dst_mac: MacAddr,
    /// IPv4 source.
    pub src_ip: Ipv4Addr,
}

/// Source address a frame crafted offline (no interface, no source given) gets (TEST-NET-1).
pub const OFFLINE_SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

impl Endpoints {
    /// The addresses a frame crafted without a path gets: those `path` overrides, zero MACs
    /// and [`OFFLINE_SRC`] for the rest.
    pub fn offline(path: &crate::net::resolve::PathRequest) -> Endpoints {
        Endpoints {
            src_mac: path.src_mac.unwrap_or(MacAddr::zero()),
            dst_mac: path.dst_mac.unwrap_or(MacAddr::zero()),
            src_ip: path.src.unwrap_or(OFFLINE_SRC),
        }
    }
}

impl FrameSpec {
    /// An echo request to `dest` with every other field at its default.
    pub fn new(dest: Ipv4Addr) -> FrameSpec {
        FrameSpec {
            ethertype: ETHERTYPE_IPV4,
            vlans: VlanStack::EMPTY,
            dest,
            version: None,
            tos: 0,
            id: 0,
            ttl: 64,
            reserved_flag: false,
            dont_fragment: false,
            more_fragments: false,
            frag_offset: 0,
            protocol: 1,
            ihl: None,
            total_len: None,
            ip_checksum: None,
            options: OptionsRequest::default(),
            icmp: IcmpSpec::default(),
            transport: Transport::Icmp,
            payload: Vec::new(),
        }
    }

    /// Carry `t` instead of ICMP, with the IP protocol set to match (17 UDP, 6 TCP, 1 ICMP).
    pub fn with_transport(mut self, t: Transport) -> FrameSpec {
        self.protocol = match &t {
            Transport::Icmp => 1,
            Transport::Udp(_) => crate::wire::IP_PROTO_UDP,
            Transport::Tcp(_) => crate::wire::IP_PROTO_TCP,
        };
        self.transport = t;
        self
    }

    /// The IP destination on the wire: the first hop of a source route, else `dest`.
    pub fn wire_dst(&self) -> Ipv4Addr {
        self.options.wire_destination(self.dest)
    }

    /// What an error message quotes when no `--quote` is given: the IPv4 header of an echo
    /// request from this frame's destination to its source (id/seq from the ICMP fields), TTL 1,
    /// plus its 8-byte ICMP header — the "IP header + 8 bytes" of RFC 792.
    pub fn default_quote(&self, src_ip: Ipv4Addr) -> Vec<u8> {
        let mut ip = Ipv4Repr::new(self.wire_dst(), src_ip, 1);
        ip.ttl = 1;
        ip.id = self.id;
        let echo = IcmpRepr::echo_request(self.icmp.id, self.icmp.seq, Vec::new());
        let mut b = vec![0u8; 28];
        // 20-byte header, no options: cannot fail.
        let _ = ip.emit(&mut b, 8);
        let _ = echo.emit(&mut b[crate::wire::IPV4_MIN_HEADER_LEN..]);
        b
    }

    /// The ICMP message these fields describe.
    pub fn icmp_repr(&self, src_ip: Ipv4Addr) -> IcmpRepr {
        use IcmpMessage::*;
        let s = &self.icmp;
        let (id, seq) = (s.id, s.seq);
        let quote = || {
            let mut q = s
                .quote
                .clone()
                .unwrap_or_else(|| self.default_quote(src_ip));
            q.extend_from_slice(&self.payload);
            q
        };
        let [originate, receive, transmit] = s.timestamps;
        let (message, fixed) = match s.icmp_type {
            0 => (
                EchoReply {
                    id,
                    seq,
                    data: self.payload.clone(),
                },
                false,
            ),
            8 => (
                EchoRequest {
                    id,
                    seq,
                    data: self.payload.clone(),
                },
                false,
            ),
            3 => (
                DestUnreachable {
                    code: s.code,
                    next_hop_mtu: s.mtu,
                    quote: quote(),
                },
                false,
            ),
            4 => (SourceQuench { quote: quote() }, false),
            5 => (
                Redirect {
                    code: s.code,
                    gateway: s.gateway,
                    quote: quote(),
                },
                false,
            ),
            11 => (
                TimeExceeded {
                    code: s.code,
                    quote: quote(),
                },
                false,
            ),
            12 => (
                ParameterProblem {
                    code: s.code,
                    pointer: s.pointer,
                    quote: quote(),
                },
                false,
            ),
            10 => (RouterSolicitation, true),
            13 => (
                TimestampRequest {
                    id,
                    seq,
                    originate,
                    receive,
                    transmit,
                },
                true,
            ),
            14 => (
                TimestampReply {
                    id,
                    seq,
                    originate,
                    receive,
                    transmit,
                },
                true,
            ),
            15 => (InfoRequest { id, seq }, true),
            16 => (InfoReply { id, seq }, true),
            17 => (
                AddressMaskRequest {
                    id,
                    seq,
                    mask: s.mask,
                },
                true,
            ),
            18 => (
                AddressMaskReply {
                    id,
                    seq,
                    mask: s.mask,
                },
                true,
            ),
            t => {
                let mut rest = [0u8; 4];
                rest[..2].copy_from_slice(&id.to_be_bytes());
                rest[2..].copy_from_slice(&seq.to_be_bytes());
                (
                    Other {
                        icmp_type: t,
                        code: s.code,
                        rest,
                        data: self.payload.clone(),
                    },
                    false,
                )
            }
        };
        // A fixed-size kind with a payload: the same bytes, then the payload (as `Other`).
        let message = if fixed && !self.payload.is_empty() {
            let typed = IcmpRepr::new(message);
            let mut b = vec![0u8; typed.buffer_len()];
            let _ = typed.emit(&mut b);
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
        IcmpRepr {
            message,
            code_override: Some(s.code),
            checksum_override: s.checksum,
        }
    }

    /// What in these fields the standards reserve or forbid although the headers can carry
    /// it, one sentence each. [`build`](Self::build) builds all of it as given (as scapy does);
    /// a caller shows these as warnings.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.vlans.warnings();
        if let Some(v) = self.version.filter(|&v| v != 4 && v <= 15) {
            w.push(format!(
                "IP version {v} is not 4: an IPv4 header is built with that version field"
            ));
        }
        if self.reserved_flag {
            w.push("the reserved IP flag bit is set (RFC 791: must be zero)".into());
        }
        let header = self
            .options
            .build(self.dest)
            .ok()
            .and_then(|o| {
                let mut ip = Ipv4Repr::new(self.dest, self.dest, self.protocol);
                ip.options = o;
                ip.header_len().ok()
            })
            .unwrap_or(crate::wire::IPV4_MIN_HEADER_LEN);
        if let Some(ihl) = self.ihl.filter(|&i| i <= 15) {
            let bytes = usize::from(ihl) * 4;
            if ihl < 5 {
                w.push(format!(
                    "IHL {ihl} is below the minimum 5 (20 bytes, RFC 791): the field says {ihl}, \
                     the {header}-byte header is built whole"
                ));
            } else if bytes < header {
                w.push(format!(
                    "IHL {ihl} ({bytes} bytes) is smaller than the header with options \
                     ({header} bytes): the field says {ihl}, the header is built whole"
                ));
            }
        }
        if let Some(t) = self.total_len.filter(|&t| usize::from(t) < header) {
            w.push(format!(
                "IP total length {t} is smaller than the header ({header} bytes)"
            ));
        }
        if self.ttl == 0 {
            w.push("TTL 0: a host must not send a datagram with TTL 0 (RFC 1122 3.2.1.7)".into());
        }
        for raw in &self.options.raw {
            if let Some(m) = raw_option_warning(raw) {
                w.push(m);
            }
        }
        let ports = match &self.transport {
            Transport::Udp(u) => Some(("UDP", u.src_port, u.dst_port)),
            Transport::Tcp(t) => Some(("TCP", t.src_port, t.dst_port)),
            Transport::Icmp => None,
        };
        match &self.transport {
            Transport::Udp(u) => {
                if let Some(l) = u.length_override.filter(|&l| l < 8) {
                    w.push(format!(
                        "UDP length {l} is below the 8-byte header (RFC 768)"
                    ));
                }
            }
            Transport::Tcp(t) => {
                if let Some(d) = t.data_offset_override.filter(|&d| d < 5) {
                    w.push(format!(
                        "TCP data offset {d} is below the minimum 5 (20 bytes, RFC 9293): the \
                         field says {d}, the header is built whole"
                    ));
                }
                if t.reserved != 0 {
                    w.push(format!(
                        "TCP reserved bits are {:#x} (RFC 9293: must be zero)",
                        t.reserved
                    ));
                }
            }
            Transport::Icmp => {}
        }
        if let Some((proto, sport, dport)) = ports {
            for (which, p) in [("source", sport), ("destination", dport)] {
                if p == 0 {
                    w.push(format!("{proto} {which} port 0 is reserved (IANA)"));
                }
            }
        }
        w
    }

    /// Build the frame. Refuses, naming the field and the limit, what the headers cannot
    /// hold (IP or TCP options over 40 bytes, IHL over 15, total length over 65535, fragment
    /// offset over 8191, version over 15). What they can hold is built as given, the
    /// reserved and out-of-spec included ([`warnings`](Self::warnings) lists those).
    pub fn build(&self, ep: &Endpoints) -> Result<Vec<u8>> {
        let eth = EthernetRepr {
            dst: ep.dst_mac,
            src: ep.src_mac,
            vlans: self.vlans,
            ethertype: self.ethertype,
        };
        let mut ip = Ipv4Repr::new(ep.src_ip, self.wire_dst(), self.protocol);
        ip.tos = self.tos;
        ip.id = self.id;
        ip.ttl = self.ttl;
        ip.reserved_flag = self.reserved_flag;
        ip.dont_fragment = self.dont_fragment;
        ip.more_fragments = self.more_fragments;
        ip.frag_offset = self.frag_offset;
        ip.options = self.options.build(self.dest)?;
        ip.ihl_override = self.ihl;
        ip.total_len_override = self.total_len;
        ip.checksum_override = self.ip_checksum;
        let l4 = match &self.transport {
            Transport::Icmp => L4Repr::Icmp(self.icmp_repr(ep.src_ip)),
            Transport::Udp(u) => L4Repr::Udp(UdpRepr {
                payload: self.payload.clone(),
                ..u.clone()
            }),
            Transport::Tcp(t) => L4Repr::Tcp(TcpRepr {
                payload: self.payload.clone(),
                ..t.clone()
            }),
        };
        let mut frame = Vec::new();
        build_l4_frame_into(&mut frame, &eth, &ip, &l4, self.dest)?;
        if let Some(v) = self.version {
            if v > 15 {
                return Err(crate::Error::invalid(
                    crate::Field::IpVersion,
                    format!("{v} does not fit its 4-bit field (0..=15)"),
                ));
            }
            let h = &mut frame[eth.header_len()..];
            h[crate::wire::field::ipv4::VER_IHL] =
                (v << 4) | (h[crate::wire::field::ipv4::VER_IHL] & 0x0f);
        }
        if self.ip_checksum.is_none() && (self.version.is_some() || self.ihl.is_some()) {
            header_checksum_as_received(&mut frame[eth.header_len()..]);
        }
        Ok(frame)
    }
}

/// The warning for raw option bytes whose length field disagrees with RFC 791: below 2, or
/// not the bytes given (the bytes are emitted verbatim all the same).
fn raw_option_warning(raw: &[u8]) -> Option<String> {
    let (&kind, rest) = raw.split_first()?;
    if kind <= 1 {
        return None; // EOL and NOP are single bytes
    }
    let name = crate::wire::names::ip_option(kind)
        .map(|(_, short)| format!("{short} ({kind})"))
        .unwrap_or_else(|| format!("type {kind}"));
    match rest.first() {
        None => Some(format!(
            "IP option {name} has no length byte (RFC 791: type, length, data)"
        )),
        Some(&len) if len < 2 => Some(format!(
            "IP option {name} has length {len}, below the minimum 2 (RFC 791)"
        )),
        Some(&len) if usize::from(len) != raw.len() => Some(format!(
            "IP option {name} has length {len} but {} bytes were given",
            raw.len()
        )),
        Some(_) => None,
    }
}

/// Recompute the IPv4 header checksum of `ip` (a datagram as built) over the IHL×4 bytes its
/// header field names, as a receiver checks it: with `--ihl` above the header built, that
/// includes the first payload bytes (as many as there are).
fn header_checksum_as_received(ip: &mut [u8]) {
    use crate::wire::field::ipv4 as f;
    let covered = (usize::from(ip[f::VER_IHL] & 0x0f) * 4).min(ip.len());
    ip[f::CHECKSUM].fill(0);
    let ck = checksum(&ip[..covered]);
    ip[f::CHECKSUM].copy_from_slice(&ck.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_values_are_built_and_listed_as_warnings() {
        let ep = Endpoints::offline(&crate::net::resolve::PathRequest::default());
        let mut s = FrameSpec::new("192.0.2.1".parse().unwrap());
        assert!(s.warnings().is_empty());
        s.vlans = VlanStack::parse_specs(&["4095"]).unwrap();
        s.reserved_flag = true;
        s.ihl = Some(3);
        s.ttl = 0;
        s.options.raw = vec![vec![0x94, 0x03, 0x00, 0x00]];
        let w = s.warnings();
        assert_eq!(w.len(), 5, "{w:?}");
        assert!(w[0].contains("VLAN ID 4095 is reserved"), "{w:?}");
        assert!(w.iter().any(|x| x.contains("reserved IP flag")), "{w:?}");
        assert!(
            w.iter().any(|x| x.contains("IHL 3 is below the minimum 5")),
            "{w:?}"
        );
        assert!(w.iter().any(|x| x.contains("TTL 0")), "{w:?}");
        assert!(
            w.iter()
                .any(|x| x.contains("RA (148) has length 3 but 4 bytes were given")),
            "{w:?}"
        );
        let f = s.build(&ep).unwrap();
        assert_eq!(&f[12..16], &[0x81, 0x00, 0x0f, 0xff]);
        assert_eq!(f[18], 0x43);
        s.transport = Transport::Udp(UdpRepr {
            src_port: 0,
            dst_port: 0,
            payload: Vec::new(),
            length_override: None,
            checksum_override: None,
        });
        assert_eq!(
            s.warnings()
                .iter()
                .filter(|x| x.contains("port 0 is reserved"))
                .count(),
            2
        );
    }
    use crate::dissect::{dissect_frame, Status};

    fn ep() -> Endpoints {
        Endpoints {
            src_mac: MacAddr::zero(),
            dst_mac: MacAddr::zero(),
            src_ip: OFFLINE_SRC,
        }
    }

    #[test]
    fn defaults_are_right_and_lies_are_kept() {
        let mut s = FrameSpec::new("203.0.113.2".parse().unwrap());
        s.payload = crate::wire::echo_data(56, &[], 0);
        let b = s.build(&ep()).unwrap();
        assert_eq!(b.len(), 14 + 20 + 8 + 56);
        let d = dissect_frame(&b);
        assert_eq!(d.find("ip.checksum").unwrap().status, Status::Good);
        assert_eq!(d.find("icmp.checksum").unwrap().status, Status::Good);
        s.ip_checksum = Some(0xbeef);
        s.icmp.checksum = Some(0);
        s.version = Some(6);
        let b = s.build(&ep()).unwrap();
        assert_eq!(b[14] >> 4, 6);
        assert_eq!(&b[24..26], &[0xbe, 0xef]);
        assert_eq!(&b[36..38], &[0, 0]);
    }

    #[test]
    fn errors_quote_an_echo_and_fixed_kinds_carry_payload() {
        let mut s = FrameSpec::new("192.0.2.2".parse().unwrap());
        s.icmp.icmp_type = 11;
        s.icmp.id = 7;
        s.icmp.seq = 9;
        let b = s.build(&ep()).unwrap();
        let d = dissect_frame(&b);
        assert!(d.complete);
        let q = d.find("icmp.quote").unwrap();
        assert!(q
            .walk()
            .iter()
            .any(|n| n.key == "icmp.seq" && n.value.starts_with("9 ")));
        s.icmp.icmp_type = 13;
        s.icmp.timestamps = [1, 2, 3];
        s.payload = vec![0xaa; 4];
        let b = s.build(&ep()).unwrap();
        assert_eq!(b.len(), 14 + 20 + 20 + 4);
        assert_eq!(&b[42..46], &[0, 0, 0, 1]);
        assert_eq!(&b[54..], &[0xaa; 4]);
    }

    /// `--ihl 7` over a 20-byte header: the receiver checks the checksum over 28 bytes (the
    /// header and the first 8 of the ICMP message), so the builder computes it there too.
    #[test]
    fn ihl_override_checksums_the_bytes_the_receiver_checks() {
        let mut s = FrameSpec::new("203.0.113.2".parse().unwrap());
        s.payload = vec![0x11; 8];
        for ihl in [5, 7, 15] {
            s.ihl = Some(ihl);
            let b = s.build(&ep()).unwrap();
            let covered = (usize::from(ihl) * 4).min(b.len() - 14);
            assert_eq!(b[14] & 0x0f, ihl);
            assert_eq!(checksum(&b[14..14 + covered]), 0, "IHL {ihl}");
            if ihl == 7 {
                assert_eq!(
                    dissect_frame(&b).find("ip.checksum").unwrap().status,
                    Status::Good
                );
                // Only the 20 bytes built would not verify.
                assert_ne!(checksum(&b[14..34]), 0);
            }
        }
        // A given checksum is kept as it is.
        s.ip_checksum = Some(0xbeef);
        let b = s.build(&ep()).unwrap();
        assert_eq!(&b[24..26], &[0xbe, 0xef]);
    }
}
