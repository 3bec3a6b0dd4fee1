//! ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861): a borrowed view, a message enum with
//! NDP options, and the checksum over the IPv6 pseudo-header.

use std::net::Ipv6Addr;

use pnet_packet::icmpv6::Icmpv6Packet as PnetIcmpv6;

use super::ether::mac_at;
use super::ipv6::{Ipv6Repr, ParsedIpv6, IPV6_HEADER_LEN};
use super::ipv6ext::{proto, ChainEnd, ExtChain};
use super::udp::pseudo_header_checksum_v6;
use super::{be16, be32, names, MacAddr, WireError};

/// IP protocol (next header) number of ICMPv6.
pub const IP_PROTO_ICMPV6: u8 = proto::ICMPV6;
/// Length of the fixed ICMPv6 header (type, code, checksum, 4 more bytes).
pub const ICMPV6_HEADER_LEN: usize = 8;

/// Byte ranges of the ICMPv6 header.
pub mod field {
    use std::ops::Range;
    /// Type.
    pub const TYPE: usize = 0;
    /// Code.
    pub const CODE: usize = 1;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// The 4 type-specific bytes (id/seq, MTU, pointer, flags...).
    pub const REST: Range<usize> = 4..8;
    /// Where the body starts.
    pub const DATA: usize = 8;
}

/// ICMPv6 type numbers.
pub mod types {
    /// Destination Unreachable.
    pub const DEST_UNREACHABLE: u8 = 1;
    /// Packet Too Big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time Exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter Problem.
    pub const PARAMETER_PROBLEM: u8 = 4;
    /// Echo Request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo Reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Router Solicitation.
    pub const ROUTER_SOLICITATION: u8 = 133;
    /// Router Advertisement.
    pub const ROUTER_ADVERTISEMENT: u8 = 134;
    /// Neighbor Solicitation.
    pub const NEIGHBOR_SOLICITATION: u8 = 135;
    /// Neighbor Advertisement.
    pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
    /// Redirect.
    pub const REDIRECT: u8 = 137;
}

/// The name of a Destination Unreachable code (IANA, see [`names::ICMPV6_CODES`]).
pub fn dest_unreachable_name(code: u8) -> Option<&'static str> {
    names::icmpv6_code(types::DEST_UNREACHABLE, code)
}

/// The name of a Time Exceeded code.
pub fn time_exceeded_name(code: u8) -> Option<&'static str> {
    names::icmpv6_code(types::TIME_EXCEEDED, code)
}

/// The name of a Parameter Problem code (IANA, 0–3 and later ones).
pub fn param_problem_name(code: u8) -> Option<&'static str> {
    names::icmpv6_code(types::PARAMETER_PROBLEM, code)
}

/// A borrowed view of an ICMPv6 message, in the style of smoltcp's `Packet<T: AsRef<[u8]>>`.
/// [`new_checked`](Self::new_checked) makes sure the 8-byte header is there. Type, code and
/// checksum are read through `pnet_packet`'s `Icmpv6Packet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wrap without checking: accessors panic under 8 bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }
    /// Wrap after checking the 8-byte header is there.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let n = buffer.as_ref().len();
        if n < ICMPV6_HEADER_LEN {
            return Err(WireError::truncated("ICMPv6", ICMPV6_HEADER_LEN, n));
        }
        Ok(Icmpv6Packet { buffer })
    }
    /// All the bytes of the view.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    #[inline]
    fn pnet(&self) -> PnetIcmpv6<'_> {
        PnetIcmpv6::new(self.buffer.as_ref())
            .expect("Icmpv6Packet made with new_unchecked over fewer than 8 bytes")
    }
    /// Type.
    pub fn msg_type(&self) -> u8 {
        self.pnet().get_icmpv6_type().0
    }
    /// Code.
    pub fn code(&self) -> u8 {
        self.pnet().get_icmpv6_code().0
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        self.pnet().get_checksum()
    }
    /// The 4 type-specific bytes.
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        [b[4], b[5], b[6], b[7]]
    }
    /// Identifier (echo).
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// Sequence number (echo).
    pub fn seq_no(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    /// The 32-bit word after the checksum: MTU (Packet Too Big), pointer (Parameter Problem).
    pub fn word(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    /// The body after the 8-byte header.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }
    /// Whether the checksum is right behind the pseudo-header of `src` and `dst` (the final
    /// destination when a Routing header is present).
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        pseudo_header_checksum_v6(src, dst, IP_PROTO_ICMPV6, self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Set the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
    /// Compute and write the checksum behind the pseudo-header of `src`, `dst`.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let c = pseudo_header_checksum_v6(src, dst, IP_PROTO_ICMPV6, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// NDP option types (RFC 4861 §4.6 and later).
pub mod ndp {
    /// Source Link-Layer Address.
    pub const SOURCE_LL_ADDR: u8 = 1;
    /// Target Link-Layer Address.
    pub const TARGET_LL_ADDR: u8 = 2;
    /// Prefix Information.
    pub const PREFIX_INFO: u8 = 3;
    /// Redirected Header.
    pub const REDIRECTED_HEADER: u8 = 4;
    /// MTU.
    pub const MTU: u8 = 5;
    /// Recursive DNS Server (RFC 8106).
    pub const RDNSS: u8 = 25;
}

/// A Neighbor Discovery option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum NdpOption {
    /// Type 1: the sender's link-layer (Ethernet) address.
    SourceLinkLayer(#[serde(serialize_with = "super::ser_mac")] MacAddr),
    /// Type 2: the target's link-layer (Ethernet) address.
    TargetLinkLayer(#[serde(serialize_with = "super::ser_mac")] MacAddr),
    /// Type 3: Prefix Information.
    PrefixInformation {
        /// Prefix length in bits.
        prefix_len: u8,
        /// L: the prefix is on-link.
        on_link: bool,
        /// A: usable for stateless address autoconfiguration.
        autonomous: bool,
        /// Valid lifetime, seconds (0xffffffff: infinity).
        valid_lifetime: u32,
        /// Preferred lifetime, seconds.
        preferred_lifetime: u32,
        /// The prefix.
        prefix: Ipv6Addr,
    },
    /// Type 4: the start of the redirected packet (after 6 reserved bytes; zero-padded to 8).
    RedirectedHeader(Vec<u8>),
    /// Type 5: the link MTU.
    Mtu(u32),
    /// Any other option (RDNSS...): type and the bytes after type and length (so that
    /// `2 + data.len()` is a multiple of 8 on the wire; emit pads with zeros).
    Raw {
        /// Option type.
        opt_type: u8,
        /// Bytes after type and length.
        data: Vec<u8>,
    },
}

impl NdpOption {
    /// Bytes on the wire (a multiple of 8).
    pub fn wire_len(&self) -> usize {
        match self {
            NdpOption::SourceLinkLayer(_) | NdpOption::TargetLinkLayer(_) | NdpOption::Mtu(_) => 8,
            NdpOption::PrefixInformation { .. } => 32,
            NdpOption::RedirectedHeader(d) => (8 + d.len()).div_ceil(8) * 8,
            NdpOption::Raw { data, .. } => (2 + data.len()).div_ceil(8) * 8,
        }
    }

    fn write(&self, b: &mut [u8]) -> Result<usize, WireError> {
        let n = self.wire_len();
        if n > 255 * 8 {
            return Err(WireError::Limit(format!(
                "NDP option of {n} bytes exceeds 2040 (the 8-bit length in 8-byte units)"
            )));
        }
        let b = &mut b[..n];
        b.fill(0);
        b[1] = (n / 8) as u8;
        match self {
            NdpOption::SourceLinkLayer(m) | NdpOption::TargetLinkLayer(m) => {
                b[0] = if matches!(self, NdpOption::SourceLinkLayer(_)) {
                    ndp::SOURCE_LL_ADDR
                } else {
                    ndp::TARGET_LL_ADDR
                };
                b[2..8].copy_from_slice(&m.octets());
            }
            NdpOption::PrefixInformation {
                prefix_len,
                on_link,
                autonomous,
                valid_lifetime,
                preferred_lifetime,
                prefix,
            } => {
                b[0] = ndp::PREFIX_INFO;
                b[2] = *prefix_len;
                b[3] = (u8::from(*on_link) << 7) | (u8::from(*autonomous) << 6);
                b[4..8].copy_from_slice(&valid_lifetime.to_be_bytes());
                b[8..12].copy_from_slice(&preferred_lifetime.to_be_bytes());
                b[16..32].copy_from_slice(&prefix.octets());
            }
            NdpOption::RedirectedHeader(d) => {
                b[0] = ndp::REDIRECTED_HEADER;
                b[8..8 + d.len()].copy_from_slice(d);
            }
            NdpOption::Mtu(m) => {
                b[0] = ndp::MTU;
                b[4..8].copy_from_slice(&m.to_be_bytes());
            }
            NdpOption::Raw { opt_type, data } => {
                b[0] = *opt_type;
                b[2..2 + data.len()].copy_from_slice(data);
            }
        }
        Ok(n)
    }

    /// Parse the options area of an NDP message. A length of 0 or one past the end is
    /// `Malformed` (RFC 4861 §4.6: the message is to be discarded).
    pub fn parse_all(mut b: &[u8]) -> Result<Vec<NdpOption>, WireError> {
        let mut v = Vec::new();
        while !b.is_empty() {
            if b.len() < 2 {
                return Err(WireError::truncated("NDP option", 2, b.len()));
            }
            let n = usize::from(b[1]) * 8;
            if n == 0 {
                return Err(WireError::malformed(
                    "NDP option",
                    format!(
                        "option type {} has length 0 (at least 1 unit of 8 bytes)",
                        b[0]
                    ),
                ));
            }
            if b.len() < n {
                return Err(WireError::malformed(
                    "NDP option",
                    format!(
                        "option type {} has {n} bytes by its length, past the message's end ({} left)",
                        b[0],
                        b.len()
                    ),
                ));
            }
            let o = &b[..n];
            v.push(match (o[0], n) {
                (ndp::SOURCE_LL_ADDR, 8) => NdpOption::SourceLinkLayer(mac_at(o, 2)),
                (ndp::TARGET_LL_ADDR, 8) => NdpOption::TargetLinkLayer(mac_at(o, 2)),
                (ndp::PREFIX_INFO, 32) => NdpOption::PrefixInformation {
                    prefix_len: o[2],
                    on_link: o[3] & 0x80 != 0,
                    autonomous: o[3] & 0x40 != 0,
                    valid_lifetime: be32(o, 4),
                    preferred_lifetime: be32(o, 8),
                    prefix: addr_at(o, 16),
                },
                (ndp::REDIRECTED_HEADER, _) => NdpOption::RedirectedHeader(o[8..].to_vec()),
                (ndp::MTU, 8) => NdpOption::Mtu(be32(o, 4)),
                (t, _) => NdpOption::Raw {
                    opt_type: t,
                    data: o[2..].to_vec(),
                },
            });
            b = &b[n..];
        }
        Ok(v)
    }
}

fn addr_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(o)
}

/// An ICMPv6 message, by type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Icmpv6Message {
    /// Type 1, codes 0–8 (see [`dest_unreachable_name`]).
    DestUnreachable {
        /// Code.
        code: u8,
        /// As much of the invoking packet as fits the minimum MTU.
        quote: Vec<u8>,
    },
    /// Type 2.
    PacketTooBig {
        /// The next hop's MTU.
        mtu: u32,
        /// The invoking packet.
        quote: Vec<u8>,
    },
    /// Type 3: code 0 hop limit, 1 reassembly.
    TimeExceeded {
        /// Code.
        code: u8,
        /// The invoking packet.
        quote: Vec<u8>,
    },
    /// Type 4: `pointer` is the offset of the problem in the invoking packet (from its IPv6
    /// header's first byte).
    ParameterProblem {
        /// Code (see [`param_problem_name`]).
        code: u8,
        /// Offset of the erroneous byte in the quote.
        pointer: u32,
        /// The invoking packet.
        quote: Vec<u8>,
    },
    /// Type 128.
    EchoRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// Data.
        data: Vec<u8>,
    },
    /// Type 129.
    EchoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// Data.
        data: Vec<u8>,
    },
    /// Type 133.
    RouterSolicitation {
        /// NDP options.
        options: Vec<NdpOption>,
    },
    /// Type 134.
    RouterAdvertisement {
        /// Cur Hop Limit (0: unspecified).
        cur_hop_limit: u8,
        /// M: addresses by DHCPv6.
        managed: bool,
        /// O: other configuration by DHCPv6.
        other: bool,
        /// Default router preference (RFC 4191), the 2-bit field: 1 high, 0 medium, 3 low.
        preference: u8,
        /// Router lifetime, seconds (0: not a default router).
        router_lifetime: u16,
        /// Reachable time, ms.
        reachable_time: u32,
        /// Retrans timer, ms.
        retrans_timer: u32,
        /// NDP options.
        options: Vec<NdpOption>,
    },
    /// Type 135.
    NeighborSolicitation {
        /// The address being resolved.
        target: Ipv6Addr,
        /// NDP options.
        options: Vec<NdpOption>,
    },
    /// Type 136.
    NeighborAdvertisement {
        /// R: the sender is a router.
        router: bool,
        /// S: in answer to a solicitation.
        solicited: bool,
        /// O: override the cached link-layer address.
        override_flag: bool,
        /// The address advertised.
        target: Ipv6Addr,
        /// NDP options.
        options: Vec<NdpOption>,
    },
    /// Type 137.
    Redirect {
        /// The better first hop.
        target: Ipv6Addr,
        /// The destination redirected.
        destination: Ipv6Addr,
        /// NDP options.
        options: Vec<NdpOption>,
    },
    /// Any other type: the 4 header bytes and the body verbatim.
    Other {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// Header bytes 4..8.
        rest: [u8; 4],
        /// Body.
        data: Vec<u8>,
    },
}

/// The packet quoted in an ICMPv6 error, its extension headers walked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Quote6 {
    /// Its IPv6 header.
    pub ip: ParsedIpv6,
    /// Where its chain stops (offset in `payload`), `None` when the quote cuts the chain.
    pub upper: Option<ChainEnd>,
    /// The bytes after its 40-byte header, as present.
    pub payload: Vec<u8>,
}

impl Quote6 {
    /// The quoted upper-layer header and what follows, behind any extension headers: its
    /// protocol and bytes.
    pub fn upper_bytes(&self) -> Option<(u8, &[u8])> {
        match self.upper? {
            ChainEnd::Upper { protocol, offset } => Some((protocol, &self.payload[offset..])),
            _ => None,
        }
    }

    /// `(id, seq)` of a quoted echo request or reply.
    pub fn echo_id_seq(&self) -> Option<(u16, u16)> {
        let (p, b) = self.upper_bytes()?;
        let v = Icmpv6Packet::new_checked(b).ok()?;
        (p == IP_PROTO_ICMPV6 && matches!(v.msg_type(), types::ECHO_REQUEST | types::ECHO_REPLY))
            .then(|| (v.ident(), v.seq_no()))
    }
}

impl Icmpv6Message {
    /// The type number.
    pub fn icmp_type(&self) -> u8 {
        use Icmpv6Message::*;
        match self {
            DestUnreachable { .. } => types::DEST_UNREACHABLE,
            PacketTooBig { .. } => types::PACKET_TOO_BIG,
            TimeExceeded { .. } => types::TIME_EXCEEDED,
            ParameterProblem { .. } => types::PARAMETER_PROBLEM,
            EchoRequest { .. } => types::ECHO_REQUEST,
            EchoReply { .. } => types::ECHO_REPLY,
            RouterSolicitation { .. } => types::ROUTER_SOLICITATION,
            RouterAdvertisement { .. } => types::ROUTER_ADVERTISEMENT,
            NeighborSolicitation { .. } => types::NEIGHBOR_SOLICITATION,
            NeighborAdvertisement { .. } => types::NEIGHBOR_ADVERTISEMENT,
            Redirect { .. } => types::REDIRECT,
            Other { icmp_type, .. } => *icmp_type,
        }
    }

    /// The code (0 for types without one).
    pub fn code(&self) -> u8 {
        use Icmpv6Message::*;
        match self {
            DestUnreachable { code, .. }
            | TimeExceeded { code, .. }
            | ParameterProblem { code, .. }
            | Other { code, .. } => *code,
            _ => 0,
        }
    }

    /// The invoking packet of an error message (types 1–4).
    pub fn quote_bytes(&self) -> Option<&[u8]> {
        use Icmpv6Message::*;
        match self {
            DestUnreachable { quote, .. }
            | PacketTooBig { quote, .. }
            | TimeExceeded { quote, .. }
            | ParameterProblem { quote, .. } => Some(quote),
            _ => None,
        }
    }

    /// Whether this is an error message (types below 128).
    pub fn is_error(&self) -> bool {
        self.icmp_type() < 128
    }

    /// For errors, the quoted packet: its IPv6 header and where its extension-header chain
    /// stops. `Err` when the quote is cut inside the 40-byte header or is not IPv6.
    pub fn quote(&self) -> Option<Result<Quote6, WireError>> {
        let q = self.quote_bytes()?;
        Some(Ipv6Repr::parse_bytes(q).map(|(ip, payload)| {
            let mut c = ExtChain::new(ip.repr.next_header, payload);
            let upper = if c.by_ref().all(|h| h.is_ok()) {
                c.end()
            } else {
                None
            };
            Quote6 {
                ip,
                upper,
                payload: payload.to_vec(),
            }
        }))
    }

    /// NDP options of an ND message.
    pub fn ndp_options(&self) -> Option<&[NdpOption]> {
        use Icmpv6Message::*;
        match self {
            RouterSolicitation { options }
            | RouterAdvertisement { options, .. }
            | NeighborSolicitation { options, .. }
            | NeighborAdvertisement { options, .. }
            | Redirect { options, .. } => Some(options),
            _ => None,
        }
    }

    fn body_len(&self) -> usize {
        use Icmpv6Message::*;
        let opts = |o: &[NdpOption]| o.iter().map(NdpOption::wire_len).sum::<usize>();
        match self {
            DestUnreachable { quote, .. }
            | PacketTooBig { quote, .. }
            | TimeExceeded { quote, .. }
            | ParameterProblem { quote, .. } => quote.len(),
            EchoRequest { data, .. } | EchoReply { data, .. } | Other { data, .. } => data.len(),
            RouterSolicitation { options } => opts(options),
            RouterAdvertisement { options, .. } => 8 + opts(options),
            NeighborSolicitation { options, .. } | NeighborAdvertisement { options, .. } => {
                16 + opts(options)
            }
            Redirect { options, .. } => 32 + opts(options),
        }
    }

    /// One line, e.g. "Destination unreachable: Port unreachable", "Packet too big: mtu = 1280".
    pub fn describe(&self) -> String {
        use Icmpv6Message::*;
        let named = |n: Option<&str>, code: u8| n.map_or(format!("code {code}"), str::to_string);
        match self {
            DestUnreachable { code, .. } => format!(
                "Destination unreachable: {}",
                named(dest_unreachable_name(*code), *code)
            ),
            PacketTooBig { mtu, .. } => format!("Packet too big: mtu = {mtu}"),
            TimeExceeded { code, .. } => {
                format!("Time exceeded: {}", named(time_exceeded_name(*code), *code))
            }
            ParameterProblem { code, pointer, .. } => format!(
                "Parameter problem: {}, pointer = {pointer}",
                named(param_problem_name(*code), *code)
            ),
            EchoRequest { id, seq, .. } => format!("Echo request, id {id}, seq {seq}"),
            EchoReply { id, seq, .. } => format!("Echo reply, id {id}, seq {seq}"),
            RouterSolicitation { .. } => "Router solicitation".into(),
            RouterAdvertisement { .. } => "Router advertisement".into(),
            NeighborSolicitation { target, .. } => {
                format!("Neighbor solicitation, who has {target}")
            }
            NeighborAdvertisement { target, .. } => {
                format!("Neighbor advertisement, tgt is {target}")
            }
            Redirect {
                target,
                destination,
                ..
            } => format!("Redirect, {destination} to {target}"),
            Other {
                icmp_type, code, ..
            } => format!("ICMPv6 type {icmp_type}, code {code}"),
        }
    }
}

/// An ICMPv6 message to emit, with optional deliberate lies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Icmpv6Repr {
    /// The message.
    pub message: Icmpv6Message,
    /// Write this code instead of the message's own.
    pub code_override: Option<u8>,
    /// Write this checksum instead of the computed one.
    pub checksum_override: Option<u16>,
}

/// A parsed ICMPv6 message plus its on-wire type, code and checksum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ParsedIcmpv6 {
    /// The message (overrides `None`).
    pub repr: Icmpv6Repr,
    /// Type field.
    pub icmp_type: u8,
    /// Code field as on the wire.
    pub code: u8,
    /// Checksum field.
    pub checksum: u16,
    /// Whether the checksum is right behind the pseudo-header given to `parse`.
    pub checksum_ok: bool,
}

impl Icmpv6Repr {
    /// A message with no overrides.
    pub fn new(message: Icmpv6Message) -> Self {
        Icmpv6Repr {
            message,
            code_override: None,
            checksum_override: None,
        }
    }

    /// An echo request.
    pub fn echo_request(id: u16, seq: u16, data: Vec<u8>) -> Self {
        Self::new(Icmpv6Message::EchoRequest { id, seq, data })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        ICMPV6_HEADER_LEN + self.message.body_len()
    }

    /// Write the message into the start of `buf` as sent from `src` to `dst` (the final
    /// destination); returns its length. The checksum covers the pseudo-header and the whole
    /// message unless overridden.
    pub fn emit(&self, buf: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) -> Result<usize, WireError> {
        use Icmpv6Message::*;
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(WireError::truncated("ICMPv6 output buffer", len, buf.len()));
        }
        let b = &mut buf[..len];
        b[..ICMPV6_HEADER_LEN].fill(0);
        b[field::TYPE] = self.message.icmp_type();
        b[field::CODE] = self.code_override.unwrap_or_else(|| self.message.code());
        let put_opts = |b: &mut [u8], mut at: usize, opts: &[NdpOption]| {
            for o in opts {
                at += o.write(&mut b[at..])?;
            }
            Ok::<(), WireError>(())
        };
        match &self.message {
            DestUnreachable { quote, .. } | TimeExceeded { quote, .. } => {
                b[8..].copy_from_slice(quote)
            }
            PacketTooBig { mtu, quote } => {
                b[4..8].copy_from_slice(&mtu.to_be_bytes());
                b[8..].copy_from_slice(quote);
            }
            ParameterProblem { pointer, quote, .. } => {
                b[4..8].copy_from_slice(&pointer.to_be_bytes());
                b[8..].copy_from_slice(quote);
            }
            EchoRequest { id, seq, data } | EchoReply { id, seq, data } => {
                b[4..6].copy_from_slice(&id.to_be_bytes());
                b[6..8].copy_from_slice(&seq.to_be_bytes());
                b[8..].copy_from_slice(data);
            }
            RouterSolicitation { options } => put_opts(b, 8, options)?,
            RouterAdvertisement {
                cur_hop_limit,
                managed,
                other,
                preference,
                router_lifetime,
                reachable_time,
                retrans_timer,
                options,
            } => {
                b[4] = *cur_hop_limit;
                b[5] =
                    (u8::from(*managed) << 7) | (u8::from(*other) << 6) | ((preference & 3) << 3);
                b[6..8].copy_from_slice(&router_lifetime.to_be_bytes());
                b[8..12].copy_from_slice(&reachable_time.to_be_bytes());
                b[12..16].copy_from_slice(&retrans_timer.to_be_bytes());
                put_opts(b, 16, options)?;
            }
            NeighborSolicitation { target, options } => {
                b[8..24].copy_from_slice(&target.octets());
                put_opts(b, 24, options)?;
            }
            NeighborAdvertisement {
                router,
                solicited,
                override_flag,
                target,
                options,
            } => {
                b[4] = (u8::from(*router) << 7)
                    | (u8::from(*solicited) << 6)
                    | (u8::from(*override_flag) << 5);
                b[8..24].copy_from_slice(&target.octets());
                put_opts(b, 24, options)?;
            }
            Redirect {
                target,
                destination,
                options,
            } => {
                b[8..24].copy_from_slice(&target.octets());
                b[24..40].copy_from_slice(&destination.octets());
                put_opts(b, 40, options)?;
            }
            Other { rest, data, .. } => {
                b[4..8].copy_from_slice(rest);
                b[8..].copy_from_slice(data);
            }
        }
        let mut p = Icmpv6Packet::new_unchecked(b);
        match self.checksum_override {
            Some(c) => p.set_checksum(c),
            None => p.fill_checksum(src, dst),
        }
        Ok(len)
    }

    /// Parse a message (the upper-layer bytes) sent from `src` to `dst` (the final
    /// destination, for the checksum verdict).
    pub fn parse_bytes(
        bytes: &[u8],
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<ParsedIcmpv6, WireError> {
        Self::parse(&Icmpv6Packet::new_checked(bytes)?, src, dst)
    }

    /// Read the message of a checked view. ND messages shorter than their fixed part are
    /// `Truncated`; NDP options with length 0 or past the end are `Malformed`.
    pub fn parse<T: AsRef<[u8]>>(
        p: &Icmpv6Packet<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<ParsedIcmpv6, WireError> {
        use Icmpv6Message::*;
        let b = p.as_bytes();
        let (t, code) = (p.msg_type(), p.code());
        let need = |n: usize, layer: &'static str| {
            if b.len() < n {
                Err(WireError::truncated(layer, n, b.len()))
            } else {
                Ok(())
            }
        };
        let body = p.data().to_vec();
        let message = match t {
            types::DEST_UNREACHABLE => DestUnreachable { code, quote: body },
            types::PACKET_TOO_BIG => PacketTooBig {
                mtu: p.word(),
                quote: body,
            },
            types::TIME_EXCEEDED => TimeExceeded { code, quote: body },
            types::PARAMETER_PROBLEM => ParameterProblem {
                code,
                pointer: p.word(),
                quote: body,
            },
            types::ECHO_REQUEST => EchoRequest {
                id: p.ident(),
                seq: p.seq_no(),
                data: body,
            },
            types::ECHO_REPLY => EchoReply {
                id: p.ident(),
                seq: p.seq_no(),
                data: body,
            },
            types::ROUTER_SOLICITATION => RouterSolicitation {
                options: NdpOption::parse_all(&b[8..])?,
            },
            types::ROUTER_ADVERTISEMENT => {
                need(16, "ICMPv6 Router Advertisement")?;
                RouterAdvertisement {
                    cur_hop_limit: b[4],
                    managed: b[5] & 0x80 != 0,
                    other: b[5] & 0x40 != 0,
                    preference: (b[5] >> 3) & 3,
                    router_lifetime: be16(b, 6),
                    reachable_time: be32(b, 8),
                    retrans_timer: be32(b, 12),
                    options: NdpOption::parse_all(&b[16..])?,
                }
            }
            types::NEIGHBOR_SOLICITATION => {
                need(24, "ICMPv6 Neighbor Solicitation")?;
                NeighborSolicitation {
                    target: addr_at(b, 8),
                    options: NdpOption::parse_all(&b[24..])?,
                }
            }
            types::NEIGHBOR_ADVERTISEMENT => {
                need(24, "ICMPv6 Neighbor Advertisement")?;
                NeighborAdvertisement {
                    router: b[4] & 0x80 != 0,
                    solicited: b[4] & 0x40 != 0,
                    override_flag: b[4] & 0x20 != 0,
                    target: addr_at(b, 8),
                    options: NdpOption::parse_all(&b[24..])?,
                }
            }
            types::REDIRECT => {
                need(40, "ICMPv6 Redirect")?;
                Redirect {
                    target: addr_at(b, 8),
                    destination: addr_at(b, 24),
                    options: NdpOption::parse_all(&b[40..])?,
                }
            }
            _ => Other {
                icmp_type: t,
                code,
                rest: p.rest_of_header(),
                data: body,
            },
        };
        Ok(ParsedIcmpv6 {
            repr: Icmpv6Repr::new(message),
            icmp_type: t,
            code,
            checksum: p.checksum(),
            checksum_ok: p.verify_checksum(src, dst),
        })
    }
}

/// What the byte at `pointer` of a quoted packet is, in words, for a Parameter Problem:
/// a field of the fixed header, or the extension header (and option) the pointer falls in.
pub fn explain_pointer6(quote: &[u8], pointer: u32) -> String {
    let p = pointer as usize;
    const FIXED: [(usize, usize, &str); 6] = [
        (0, 4, "version/traffic class/flow label"),
        (4, 2, "payload length"),
        (6, 1, "next header"),
        (7, 1, "hop limit"),
        (8, 16, "source address"),
        (24, 16, "destination address"),
    ];
    if p < IPV6_HEADER_LEN {
        let (s, _, name) = FIXED
            .iter()
            .find(|(s, n, _)| p >= *s && p < s + n)
            .copied()
            .unwrap_or((0, 0, "header"));
        return format!("byte {p}: the IPv6 {name} (byte {} of it)", p - s);
    }
    let Ok((ip, payload)) = Ipv6Repr::parse_bytes(quote) else {
        return format!("byte {p}: beyond what the quote shows");
    };
    for h in ExtChain::new(ip.repr.next_header, payload) {
        let Ok(h) = h else { break };
        let start = IPV6_HEADER_LEN + h.offset;
        if p >= start && p < start + h.bytes.len() {
            let within = p - start;
            let what = match within {
                0 => "next header".to_string(),
                1 => "length".to_string(),
                2 if h.kind == super::ipv6ext::ExtKind::Routing => "routing type".into(),
                3 if h.kind == super::ipv6ext::ExtKind::Routing => "segments left".into(),
                _ if matches!(
                    h.kind,
                    super::ipv6ext::ExtKind::HopByHop | super::ipv6ext::ExtKind::DestOpts
                ) =>
                {
                    let o = super::ipv6ext::OptionIter::new(h.bytes)
                        .filter_map(Result::ok)
                        .find(|o| within >= o.offset && within < o.offset + o.wire_len());
                    match o {
                        Some(o) => format!(
                            "option type {:#04x}{} (unknown: {})",
                            o.opt_type,
                            super::ipv6ext::option_name(o.opt_type)
                                .map_or(String::new(), |n| format!(" {n}")),
                            super::ipv6ext::OptionAction::of(o.opt_type).explain()
                        ),
                        None => format!("byte {within}"),
                    }
                }
                _ => format!("byte {within}"),
            };
            return format!("byte {p}: the {} at {start}, its {what}", h.kind.name());
        }
    }
    format!("byte {p}: in the upper-layer header or data")
}
