//! ICMP for IPv4 (RFC 792, 950, 1191, 1256), with iputils-ping wording for errors.

use std::net::Ipv4Addr;

use pnet_packet::icmp::IcmpPacket as PnetIcmp;

use super::ipopt::{IPOPT_LSRR, IPOPT_RR, IPOPT_SSRR, IPOPT_TS};
use super::ipv4::{Ipv4Packet, Ipv4Repr, ParsedIpv4};
use super::names;
use super::{be16, be32, checksum, ip_at, WireError};

/// Length of the fixed ICMP header (type, code, checksum, 4 more bytes).
pub const ICMP_HEADER_LEN: usize = field::DATA;

/// Byte ranges of an ICMP message (RFC 792).
pub mod field {
    use std::ops::Range;
    /// Type.
    pub const TYPE: usize = 0;
    /// Code.
    pub const CODE: usize = 1;
    /// Checksum over the whole message.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// The 4 type-specific bytes after the checksum.
    pub const REST: Range<usize> = 4..8;
    /// Identifier of echo-like types (echo, timestamp, information, address mask).
    pub const IDENT: Range<usize> = 4..6;
    /// Sequence number of echo-like types.
    pub const SEQ: Range<usize> = 6..8;
    /// Parameter problem: the pointer.
    pub const POINTER: usize = 4;
    /// Redirect: the gateway address.
    pub const GATEWAY: Range<usize> = 4..8;
    /// Destination unreachable code 4: the next-hop MTU (RFC 1191).
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
    /// Router advertisement: number of addresses, entry size (words), lifetime.
    pub const RA_NUM_ADDRS: usize = 4;
    /// Router advertisement: address entry size in 32-bit words.
    pub const RA_ENTRY_SIZE: usize = 5;
    /// Router advertisement: lifetime in seconds.
    pub const RA_LIFETIME: Range<usize> = 6..8;
    /// Where the data (or a quoted datagram, or the type's body) starts.
    pub const DATA: usize = 8;
    /// Timestamp messages: originate, receive, transmit timestamps.
    pub const TS_ORIGINATE: Range<usize> = 8..12;
    /// Receive timestamp.
    pub const TS_RECEIVE: Range<usize> = 12..16;
    /// Transmit timestamp.
    pub const TS_TRANSMIT: Range<usize> = 16..20;
    /// Address mask messages: the mask.
    pub const MASK: Range<usize> = 8..12;
}

/// ICMP type numbers pktforge handles by name.
pub mod types {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACHABLE: u8 = 3;
    /// Source quench.
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Router advertisement.
    pub const ROUTER_ADVERTISEMENT: u8 = 9;
    /// Router solicitation.
    pub const ROUTER_SOLICITATION: u8 = 10;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAMETER_PROBLEM: u8 = 12;
    /// Timestamp request.
    pub const TIMESTAMP: u8 = 13;
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: u8 = 14;
    /// Information request.
    pub const INFO_REQUEST: u8 = 15;
    /// Information reply.
    pub const INFO_REPLY: u8 = 16;
    /// Address mask request.
    pub const MASK_REQUEST: u8 = 17;
    /// Address mask reply.
    pub const MASK_REPLY: u8 = 18;
}

/// Whether ICMP type `t` is an error that quotes the offending datagram (3, 4, 5, 11, 12).
pub fn is_error_type(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// Whether ICMP type `t` carries an identifier and sequence number (echo, timestamp,
/// information and address mask, requests and replies).
pub fn has_id_seq(t: u8) -> bool {
    matches!(t, 0 | 8 | 13..=18)
}

/// A borrowed view of an ICMP message (the whole IP payload), in the style of smoltcp's
/// `Packet<T: AsRef<[u8]>>`. [`new_checked`](Self::new_checked) makes sure the 8-byte header is
/// there; type-specific bodies are bounds-checked by their accessors. Type, code and checksum
/// are read through `pnet_packet`'s `IcmpPacket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    /// Wrap `buffer` without checking: header accessors panic under 8 bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        IcmpPacket { buffer }
    }

    /// Wrap `buffer`, refusing fewer than 8 bytes.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let n = buffer.as_ref().len();
        if n < ICMP_HEADER_LEN {
            return Err(WireError::truncated("ICMP", ICMP_HEADER_LEN, n));
        }
        Ok(IcmpPacket { buffer })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    #[inline]
    fn pnet(&self) -> PnetIcmp<'_> {
        PnetIcmp::new(self.buffer.as_ref())
            .expect("IcmpPacket made with new_unchecked over fewer than 4 bytes")
    }

    #[inline]
    fn be16_at(&self, r: std::ops::Range<usize>) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[r.start], b[r.start + 1]])
    }

    /// Type.
    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.pnet().get_icmp_type().0
    }
    /// Code.
    #[inline]
    pub fn code(&self) -> u8 {
        self.pnet().get_icmp_code().0
    }
    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        self.pnet().get_checksum()
    }
    /// Whether the checksum verifies over the whole message.
    pub fn verify_checksum(&self) -> bool {
        checksum(self.buffer.as_ref()) == 0
    }
    /// The 4 type-specific header bytes.
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = self.buffer.as_ref();
        let r = field::REST.start;
        [b[r], b[r + 1], b[r + 2], b[r + 3]]
    }
    /// Bytes 4..6 read as an identifier (meaningful for [`has_id_seq`] types).
    #[inline]
    pub fn ident(&self) -> u16 {
        self.be16_at(field::IDENT)
    }
    /// Bytes 6..8 read as a sequence number (meaningful for [`has_id_seq`] types).
    #[inline]
    pub fn seq_no(&self) -> u16 {
        self.be16_at(field::SEQ)
    }
    /// `(id, seq)` of an echo-like type, `None` for the others.
    pub fn echo_id_seq(&self) -> Option<(u16, u16)> {
        has_id_seq(self.msg_type()).then(|| (self.ident(), self.seq_no()))
    }
    /// Parameter problem's pointer (byte 4).
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[field::POINTER]
    }
    /// Redirect's gateway (bytes 4..8).
    pub fn gateway(&self) -> Ipv4Addr {
        ip_at(self.buffer.as_ref(), field::GATEWAY.start)
    }
    /// Destination unreachable's next-hop MTU (bytes 6..8).
    pub fn next_hop_mtu(&self) -> u16 {
        self.be16_at(field::NEXT_HOP_MTU)
    }
    /// Everything after the 8-byte header: echo data, a quoted datagram, a type's body.
    #[inline]
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(field::DATA..).unwrap_or(&[])
    }
    /// Whether this is an error quoting a datagram (types 3, 4, 5, 11, 12).
    pub fn is_error(&self) -> bool {
        is_error_type(self.msg_type())
    }
    /// The datagram an error quotes, as a checked IPv4 view (its total length may exceed what is
    /// quoted). `None` for non-error types; `Err` when the quote is cut inside the IP header or
    /// is not IPv4.
    pub fn quote(&self) -> Option<Result<Ipv4Packet<&[u8]>, WireError>> {
        self.is_error()
            .then(|| Ipv4Packet::new_checked(self.data()))
    }
    /// The three timestamps of a timestamp request or reply, if the message holds them.
    pub fn timestamps(&self) -> Option<(u32, u32, u32)> {
        let b = self.buffer.as_ref();
        b.get(..field::TS_TRANSMIT.end)?;
        Some((
            be32(b, field::TS_ORIGINATE.start),
            be32(b, field::TS_RECEIVE.start),
            be32(b, field::TS_TRANSMIT.start),
        ))
    }
    /// The mask of an address mask request or reply, if the message holds it.
    pub fn mask(&self) -> Option<Ipv4Addr> {
        let b = self.buffer.as_ref();
        b.get(..field::MASK.end)?;
        Some(ip_at(b, field::MASK.start))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IcmpPacket<T> {
    /// Set the type.
    pub fn set_msg_type(&mut self, t: u8) {
        self.buffer.as_mut()[field::TYPE] = t;
    }
    /// Set the code.
    pub fn set_code(&mut self, c: u8) {
        self.buffer.as_mut()[field::CODE] = c;
    }
    /// Set the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
    /// Compute and write the checksum over the whole message.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
    /// The bytes after the 8-byte header, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(field::DATA..)
            .unwrap_or(&mut [])
    }
}

/// An ICMP message, by type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum IcmpMessage {
    /// Type 0.
    EchoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// Data after the header.
        data: Vec<u8>,
    },
    /// Type 3; `next_hop_mtu` is meaningful for code 4 (RFC 1191).
    DestUnreachable {
        /// ICMP code.
        code: u8,
        /// MTU of the next hop (code 4).
        next_hop_mtu: u16,
        /// The offending datagram: its IP header and at least 8 bytes after it.
        quote: Vec<u8>,
    },
    /// Type 4.
    SourceQuench {
        /// The offending datagram: its IP header and at least 8 bytes after it.
        quote: Vec<u8>,
    },
    /// Type 5.
    Redirect {
        /// ICMP code.
        code: u8,
        /// The better first hop.
        gateway: Ipv4Addr,
        /// The offending datagram: its IP header and at least 8 bytes after it.
        quote: Vec<u8>,
    },
    /// Type 8.
    EchoRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// Data after the header.
        data: Vec<u8>,
    },
    /// Type 9 (RFC 1256): routers with preference levels; `entry_size` in 32-bit words (2).
    RouterAdvertisement {
        /// Seconds the addresses stay valid.
        lifetime: u16,
        /// 32-bit words per router entry (2).
        entry_size: u8,
        /// (router address, preference) pairs.
        routers: Vec<(Ipv4Addr, i32)>,
    },
    /// Type 10.
    RouterSolicitation,
    /// Type 11: code 0 TTL, 1 reassembly.
    TimeExceeded {
        /// ICMP code.
        code: u8,
        /// The offending datagram: its IP header and at least 8 bytes after it.
        quote: Vec<u8>,
    },
    /// Type 12: `pointer` is the octet offset of the problem in the quoted header.
    ParameterProblem {
        /// ICMP code.
        code: u8,
        /// Octet offset of the problem in the quoted header.
        pointer: u8,
        /// The offending datagram: its IP header and at least 8 bytes after it.
        quote: Vec<u8>,
    },
    /// Type 13.
    TimestampRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// Sender's send time, ms since midnight UT.
        originate: u32,
        /// Responder's receive time, ms since midnight UT.
        receive: u32,
        /// Responder's send time, ms since midnight UT.
        transmit: u32,
    },
    /// Type 14.
    TimestampReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// Sender's send time, ms since midnight UT.
        originate: u32,
        /// Responder's receive time, ms since midnight UT.
        receive: u32,
        /// Responder's send time, ms since midnight UT.
        transmit: u32,
    },
    /// Type 15.
    InfoRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Type 16.
    InfoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Type 17 (RFC 950).
    AddressMaskRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// The address mask.
        mask: Ipv4Addr,
    },
    /// Type 18.
    AddressMaskReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// The address mask.
        mask: Ipv4Addr,
    },
    /// Any other type: bytes 4..8 and the rest verbatim.
    Other {
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// Header bytes 4..8.
        rest: [u8; 4],
        /// Data after the header.
        data: Vec<u8>,
    },
}

/// An ICMP message to emit, with optional deliberate lies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct IcmpRepr {
    /// The message.
    pub message: IcmpMessage,
    /// Write this code instead of the message's own.
    pub code_override: Option<u8>,
    /// Write this checksum instead of the computed one.
    pub checksum_override: Option<u16>,
}

/// A parsed ICMP message plus its on-wire type, code and checksum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ParsedIcmp {
    /// The message (overrides `None`).
    pub repr: IcmpRepr,
    /// Type field.
    pub icmp_type: u8,
    /// Code field (as on the wire, even for types whose message does not keep it).
    pub code: u8,
    /// Checksum field.
    pub checksum: u16,
    /// Whether the checksum is right over the whole message.
    pub checksum_ok: bool,
}

/// The original datagram quoted in an ICMP error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Quote {
    /// Its IP header, options parsed; total length as the original said.
    pub ip: ParsedIpv4,
    /// The bytes after the quoted header, as present (at least 8 in a conforming error).
    pub payload: Vec<u8>,
}

impl Quote {
    /// `(id, seq)` of a quoted ICMP echo request (or reply), if that is what was quoted.
    pub fn echo_id_seq(&self) -> Option<(u16, u16)> {
        let icmp = IcmpPacket::new_checked(&self.payload[..]).ok()?;
        let t = icmp.msg_type();
        if self.ip.repr.protocol == 1 && (t == types::ECHO_REQUEST || t == types::ECHO_REPLY) {
            Some((icmp.ident(), icmp.seq_no()))
        } else {
            None
        }
    }
}

impl IcmpMessage {
    /// The ICMP type number.
    pub fn icmp_type(&self) -> u8 {
        use IcmpMessage::*;
        match self {
            EchoReply { .. } => 0,
            DestUnreachable { .. } => 3,
            SourceQuench { .. } => 4,
            Redirect { .. } => 5,
            EchoRequest { .. } => 8,
            RouterAdvertisement { .. } => 9,
            RouterSolicitation => 10,
            TimeExceeded { .. } => 11,
            ParameterProblem { .. } => 12,
            TimestampRequest { .. } => 13,
            TimestampReply { .. } => 14,
            InfoRequest { .. } => 15,
            InfoReply { .. } => 16,
            AddressMaskRequest { .. } => 17,
            AddressMaskReply { .. } => 18,
            Other { icmp_type, .. } => *icmp_type,
        }
    }

    /// The code this message carries (0 for types without one).
    pub fn code(&self) -> u8 {
        use IcmpMessage::*;
        match self {
            DestUnreachable { code, .. }
            | Redirect { code, .. }
            | TimeExceeded { code, .. }
            | ParameterProblem { code, .. }
            | Other { code, .. } => *code,
            _ => 0,
        }
    }

    /// The quoted datagram bytes of an error message (types 3, 4, 5, 11, 12).
    pub fn quote_bytes(&self) -> Option<&[u8]> {
        use IcmpMessage::*;
        match self {
            DestUnreachable { quote, .. }
            | SourceQuench { quote }
            | Redirect { quote, .. }
            | TimeExceeded { quote, .. }
            | ParameterProblem { quote, .. } => Some(quote),
            _ => None,
        }
    }

    /// Whether this is an error message (types 3, 4, 5, 11, 12).
    pub fn is_error(&self) -> bool {
        self.quote_bytes().is_some()
    }

    /// For error kinds, parse the quoted original datagram: its IP header with options,
    /// tolerating a total length longer than what is quoted. `Err` when the quote is cut inside
    /// the IP header (or is not IPv4). `None` for non-error kinds.
    pub fn quote(&self) -> Option<Result<Quote, WireError>> {
        let q = self.quote_bytes()?;
        Some(Ipv4Repr::parse_bytes(q).map(|(ip, payload)| Quote {
            ip,
            payload: payload.to_vec(),
        }))
    }

    fn rest_and_body_len(&self) -> usize {
        use IcmpMessage::*;
        match self {
            EchoReply { data, .. } | EchoRequest { data, .. } | Other { data, .. } => data.len(),
            DestUnreachable { quote, .. }
            | SourceQuench { quote }
            | Redirect { quote, .. }
            | TimeExceeded { quote, .. }
            | ParameterProblem { quote, .. } => quote.len(),
            RouterAdvertisement {
                entry_size,
                routers,
                ..
            } => routers.len().min(255) * ra_stride(*entry_size),
            RouterSolicitation | InfoRequest { .. } | InfoReply { .. } => 0,
            TimestampRequest { .. } | TimestampReply { .. } => 12,
            AddressMaskRequest { .. } | AddressMaskReply { .. } => 4,
        }
    }

    /// One line in iputils-ping wording, e.g. "Destination Host Unreachable",
    /// "Frag needed and DF set (mtu = 1400)", "Redirect Host(New nexthop: 192.0.2.1)".
    pub fn describe(&self) -> String {
        use IcmpMessage::*;
        let t = self.icmp_type();
        let ping = |t: u8| names::icmp_type(t).map_or("", |e| e.ping);
        // Types whose code picks the wording: the code table's iputils column, or "Bad Code".
        let by_code = |code: u8| match names::icmp_code(t, code) {
            Some(e) if !e.ping.is_empty() => e.ping.to_string(),
            _ => format!("{}, Bad Code: {code}", ping(t)),
        };
        match self {
            DestUnreachable {
                code: 4,
                next_hop_mtu,
                ..
            } => format!("Frag needed and DF set (mtu = {next_hop_mtu})"),
            DestUnreachable { code, .. } | TimeExceeded { code, .. } => by_code(*code),
            Redirect { code, gateway, .. } => format!("{}(New nexthop: {gateway})", by_code(*code)),
            RouterAdvertisement { routers, .. } => {
                format!("{} ({} routers)", ping(t), routers.len())
            }
            ParameterProblem { pointer, .. } => format!("{}: pointer = {pointer}", ping(t)),
            Other { icmp_type, .. } => format!("Bad ICMP type: {icmp_type}"),
            _ => ping(t).to_string(),
        }
    }
}

/// Bytes per router advertisement entry (at least the 8 of address + preference).
fn ra_stride(entry_size: u8) -> usize {
    usize::from(entry_size).max(2) * 4
}

impl IcmpRepr {
    /// A message with no overrides.
    pub fn new(message: IcmpMessage) -> IcmpRepr {
        IcmpRepr {
            message,
            code_override: None,
            checksum_override: None,
        }
    }

    /// An echo request.
    pub fn echo_request(id: u16, seq: u16, data: Vec<u8>) -> IcmpRepr {
        Self::new(IcmpMessage::EchoRequest { id, seq, data })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        ICMP_HEADER_LEN + self.message.rest_and_body_len()
    }

    /// Write the message into the start of `buf`; returns its length. The checksum covers the
    /// whole message unless overridden. `Truncated` when `buf` is shorter than
    /// [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        use IcmpMessage::*;
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(WireError::truncated("ICMP output buffer", len, buf.len()));
        }
        let b = &mut buf[..len];
        b[field::TYPE] = self.message.icmp_type();
        b[field::CODE] = self.code_override.unwrap_or_else(|| self.message.code());
        b[field::CHECKSUM.start..field::DATA].fill(0);
        let id_seq = |b: &mut [u8], id: u16, seq: u16| {
            b[field::IDENT].copy_from_slice(&id.to_be_bytes());
            b[field::SEQ].copy_from_slice(&seq.to_be_bytes());
        };
        match &self.message {
            EchoReply { id, seq, data } | EchoRequest { id, seq, data } => {
                id_seq(b, *id, *seq);
                b[field::DATA..].copy_from_slice(data);
            }
            DestUnreachable {
                next_hop_mtu,
                quote,
                ..
            } => {
                b[field::NEXT_HOP_MTU].copy_from_slice(&next_hop_mtu.to_be_bytes());
                b[field::DATA..].copy_from_slice(quote);
            }
            SourceQuench { quote } | TimeExceeded { quote, .. } => {
                b[field::DATA..].copy_from_slice(quote)
            }
            Redirect { gateway, quote, .. } => {
                b[field::GATEWAY].copy_from_slice(&gateway.octets());
                b[field::DATA..].copy_from_slice(quote);
            }
            ParameterProblem { pointer, quote, .. } => {
                b[field::POINTER] = *pointer;
                b[field::DATA..].copy_from_slice(quote);
            }
            RouterAdvertisement {
                lifetime,
                entry_size,
                routers,
            } => {
                let n = routers.len().min(255);
                b[field::RA_NUM_ADDRS] = n as u8;
                b[field::RA_ENTRY_SIZE] = *entry_size;
                b[field::RA_LIFETIME].copy_from_slice(&lifetime.to_be_bytes());
                let stride = ra_stride(*entry_size);
                for (i, (addr, pref)) in routers.iter().take(n).enumerate() {
                    let at = field::DATA + i * stride;
                    b[at..at + 4].copy_from_slice(&addr.octets());
                    b[at + 4..at + 8].copy_from_slice(&pref.to_be_bytes());
                    b[at + 8..at + stride].fill(0);
                }
            }
            RouterSolicitation => {}
            TimestampRequest {
                id,
                seq,
                originate,
                receive,
                transmit,
            }
            | TimestampReply {
                id,
                seq,
                originate,
                receive,
                transmit,
            } => {
                id_seq(b, *id, *seq);
                b[field::TS_ORIGINATE].copy_from_slice(&originate.to_be_bytes());
                b[field::TS_RECEIVE].copy_from_slice(&receive.to_be_bytes());
                b[field::TS_TRANSMIT].copy_from_slice(&transmit.to_be_bytes());
            }
            InfoRequest { id, seq } | InfoReply { id, seq } => id_seq(b, *id, *seq),
            AddressMaskRequest { id, seq, mask } | AddressMaskReply { id, seq, mask } => {
                id_seq(b, *id, *seq);
                b[field::MASK].copy_from_slice(&mask.octets());
            }
            Other { rest, data, .. } => {
                b[field::REST].copy_from_slice(rest);
                b[field::DATA..].copy_from_slice(data);
            }
        }
        let ck = match self.checksum_override {
            Some(c) => c,
            None => checksum(b),
        };
        b[field::CHECKSUM].copy_from_slice(&ck.to_be_bytes());
        Ok(len)
    }

    /// Parse an ICMP message (the whole IP payload) from bytes: [`IcmpPacket::new_checked`]
    /// then [`parse`](Self::parse).
    pub fn parse_bytes(bytes: &[u8]) -> Result<ParsedIcmp, WireError> {
        IcmpRepr::parse(&IcmpPacket::new_checked(bytes)?)
    }

    /// Read the message of a checked view. Fewer bytes than the type needs (20 for
    /// timestamps; 12 for address masks; the entries of a router advertisement) is
    /// `Truncated`. Bytes beyond a fixed-size message are ignored.
    pub fn parse<T: AsRef<[u8]>>(packet: &IcmpPacket<T>) -> Result<ParsedIcmp, WireError> {
        use IcmpMessage::*;
        let bytes = packet.as_bytes();
        let (t, code) = (packet.msg_type(), packet.code());
        let need = |n: usize, layer: &'static str| {
            if bytes.len() < n {
                Err(WireError::truncated(layer, n, bytes.len()))
            } else {
                Ok(())
            }
        };
        let (id, seq) = (packet.ident(), packet.seq_no());
        let body = packet.data().to_vec();
        let message = match t {
            0 => EchoReply {
                id,
                seq,
                data: body,
            },
            8 => EchoRequest {
                id,
                seq,
                data: body,
            },
            3 => DestUnreachable {
                code,
                next_hop_mtu: packet.next_hop_mtu(),
                quote: body,
            },
            4 => SourceQuench { quote: body },
            5 => Redirect {
                code,
                gateway: packet.gateway(),
                quote: body,
            },
            9 => {
                let (n, entry_size) = (
                    usize::from(bytes[field::RA_NUM_ADDRS]),
                    bytes[field::RA_ENTRY_SIZE],
                );
                if entry_size < 2 {
                    return Err(WireError::malformed(
                        "ICMP router advertisement",
                        format!("address entry size {entry_size} is below 2 words"),
                    ));
                }
                let stride = ra_stride(entry_size);
                need(field::DATA + n * stride, "ICMP router advertisement")?;
                RouterAdvertisement {
                    lifetime: be16(bytes, field::RA_LIFETIME.start),
                    entry_size,
                    routers: (0..n)
                        .map(|i| {
                            let at = field::DATA + i * stride;
                            (ip_at(bytes, at), be32(bytes, at + 4) as i32)
                        })
                        .collect(),
                }
            }
            10 => RouterSolicitation,
            11 => TimeExceeded { code, quote: body },
            12 => ParameterProblem {
                code,
                pointer: packet.pointer(),
                quote: body,
            },
            13 | 14 => {
                need(field::TS_TRANSMIT.end, "ICMP timestamp")?;
                let (originate, receive, transmit) = packet.timestamps().unwrap_or_default();
                if t == 13 {
                    TimestampRequest {
                        id,
                        seq,
                        originate,
                        receive,
                        transmit,
                    }
                } else {
                    TimestampReply {
                        id,
                        seq,
                        originate,
                        receive,
                        transmit,
                    }
                }
            }
            15 => InfoRequest { id, seq },
            16 => InfoReply { id, seq },
            17 | 18 => {
                need(field::MASK.end, "ICMP address mask")?;
                let mask = packet.mask().unwrap_or(Ipv4Addr::UNSPECIFIED);
                if t == 17 {
                    AddressMaskRequest { id, seq, mask }
                } else {
                    AddressMaskReply { id, seq, mask }
                }
            }
            _ => Other {
                icmp_type: t,
                code,
                rest: packet.rest_of_header(),
                data: body,
            },
        };
        Ok(ParsedIcmp {
            repr: IcmpRepr::new(message),
            icmp_type: t,
            code,
            checksum: packet.checksum(),
            checksum_ok: packet.verify_checksum(),
        })
    }
}

impl ParsedIcmp {
    /// Like [`IcmpMessage::describe`], but with the on-wire code for types whose message does
    /// not keep one (e.g. "Echo Reply, code 3").
    pub fn describe(&self) -> String {
        let d = self.repr.message.describe();
        if self.code != self.repr.message.code() {
            format!("{d}, code {}", self.code)
        } else {
            d
        }
    }
}

const FIELDS: [(usize, usize, &str); 10] = [
    (0, 1, "version/IHL"),
    (1, 1, "type of service"),
    (2, 2, "total length"),
    (4, 2, "identification"),
    (6, 2, "flags/fragment offset"),
    (8, 1, "TTL"),
    (9, 1, "protocol"),
    (10, 2, "header checksum"),
    (12, 4, "source address"),
    (16, 4, "destination address"),
];

/// Say what a Parameter Problem `pointer` (0-based octet offset into the quoted IP header)
/// points at: a header field, or which option and which byte of it, e.g.
/// "option LSRR (type 131) at offset 20, byte 2 (pointer)".
pub fn explain_pointer(quote_header: &[u8], pointer: u8) -> String {
    let p = usize::from(pointer);
    if p < 20 {
        if let Some((start, len, name)) = FIELDS.iter().find(|(s, l, _)| p >= *s && p < s + l) {
            return if *len > 1 {
                format!(
                    "header field {name} at offset {start}, byte {} of {len}",
                    p - start
                )
            } else {
                format!("header field {name} at offset {start}")
            };
        }
    }
    let Some(&b0) = quote_header.first() else {
        return format!("offset {p}: no quoted header to look into");
    };
    let hl = usize::from(b0 & 0x0f) * 4;
    if p >= hl.max(20) {
        return format!("offset {p} is beyond the quoted header ({hl} bytes by its IHL)");
    }
    if quote_header.len() <= p {
        return format!(
            "offset {p} is in the options, but only {} bytes of the header are quoted",
            quote_header.len()
        );
    }
    let area_end = hl.min(quote_header.len());
    let mut at = 20;
    while at < area_end {
        let t = quote_header[at];
        let name = option_name(t);
        let olen = if t == 0 || t == 1 {
            1
        } else if at + 1 < area_end {
            usize::from(quote_header[at + 1])
        } else {
            return format!(
                "option {name} (type {t}) at offset {at}, byte {} (its length byte is missing)",
                p - at
            );
        };
        if olen < 2 && t > 1 {
            return format!(
                "option {name} (type {t}) at offset {at} with bogus length {olen}, byte {} ({})",
                p - at,
                byte_name(t, p - at)
            );
        }
        if p < at + olen || t == 0 {
            if t == 0 && p > at {
                return format!("padding after EOL (offset {at}), at offset {p}");
            }
            return format!(
                "option {name} (type {t}) at offset {at}, byte {} ({})",
                p - at,
                byte_name(t, p - at)
            );
        }
        at += olen;
    }
    format!("offset {p} is past the options as quoted")
}

fn option_name(t: u8) -> &'static str {
    match t {
        0 => "EOL",
        1 => "NOP",
        IPOPT_RR => "RR",
        IPOPT_LSRR => "LSRR",
        IPOPT_SSRR => "SSRR",
        IPOPT_TS => "TS",
        130 => "SEC",
        148 => "RA",
        _ => "unknown",
    }
}

fn byte_name(t: u8, k: usize) -> String {
    match (t, k) {
        (_, 0) => "type".into(),
        (0 | 1, _) => "data".into(),
        (_, 1) => "length".into(),
        (IPOPT_RR | IPOPT_LSRR | IPOPT_SSRR | IPOPT_TS, 2) => "pointer".into(),
        (IPOPT_TS, 3) => "overflow/flag".into(),
        (IPOPT_RR | IPOPT_LSRR | IPOPT_SSRR, k) => format!("address {}", (k - 3) / 4 + 1),
        _ => "data".into(),
    }
}

/// Echo data as iputils fills it: `size` bytes of `pattern` repeated, starting over after the
/// first `skip` bytes (which a stamp overwrites); without a pattern 0x08, 0x09, ... by position.
pub fn echo_data(size: usize, pattern: &[u8], skip: usize) -> Vec<u8> {
    (0..size)
        .map(|i| match pattern {
            [] => (i + 8) as u8,
            p => p[i.saturating_sub(skip) % p.len()],
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::ipopt::IpOption;
    use crate::wire::testutil::{self, hex};
    use proptest::prelude::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// The ICMP part of a captured frame (after Ethernet and the IP header).
    fn icmp_of(frame_hex: &str) -> (ParsedIpv4, Vec<u8>) {
        let f = hex(frame_hex);
        let (ip, payload) = Ipv4Repr::parse_bytes(&f[14..]).unwrap();
        (ip, payload.to_vec())
    }

    #[test]
    fn dest_unreachable_source_route_failed() {
        let (outer, icmp) = icmp_of(testutil::SR_FAILED);
        assert!(outer.checksum_ok);
        let p = IcmpRepr::parse_bytes(&icmp).unwrap();
        assert!(p.checksum_ok);
        assert_eq!((p.icmp_type, p.code), (3, 5));
        assert_eq!(p.repr.message.describe(), "Source Route Failed");
        let q = p.repr.message.quote().unwrap().unwrap();
        assert!(q.ip.checksum_ok);
        assert_eq!(q.ip.repr.id, 0x4242);
        assert_eq!(q.ip.repr.dst, ip("192.0.2.1"));
        assert_eq!(q.echo_id_seq(), Some((0x5353, 1)));
        assert_eq!(
            q.ip.repr.options,
            vec![
                IpOption::StrictSourceRoute {
                    pointer: 4,
                    route: vec![ip("203.0.113.2"), ip("192.0.2.2")]
                },
                IpOption::EndOfList
            ]
        );
        assert_eq!(q.payload.len(), 16);
        // Re-emit byte for byte.
        let mut out = vec![0u8; p.repr.buffer_len()];
        p.repr.emit(&mut out).unwrap();
        assert_eq!(out, icmp);
    }

    #[test]
    fn time_exceeded_quoting_rr() {
        let (outer, icmp) = icmp_of(testutil::TIME_EXCEEDED_RR);
        // r1 echoes the RR option in its own error (and records itself there).
        assert_eq!(
            outer.repr.options[0].recorded(),
            vec![ip("192.0.2.2"), ip("192.0.2.1"), ip("192.0.2.1")]
        );
        let p = IcmpRepr::parse_bytes(&icmp).unwrap();
        assert!(p.checksum_ok);
        assert_eq!(p.repr.message.describe(), "Time to live exceeded");
        let q = p.repr.message.quote().unwrap().unwrap();
        assert_eq!(q.ip.repr.ttl, 1);
        assert_eq!(q.ip.total_len, 124);
        // r1 recorded itself into the datagram before the TTL check, without fixing the checksum.
        assert!(!q.ip.checksum_ok);
        assert_eq!(q.ip.repr.options[0], IpOption::Nop);
        assert_eq!(
            q.ip.repr.options[1].recorded(),
            vec![ip("192.0.2.2"), ip("192.0.2.1")]
        );
        assert_eq!(q.echo_id_seq(), Some((0x1a6e, 1)));
        assert_eq!(q.payload.len(), 64);
    }

    #[test]
    fn parameter_problem_into_lsrr() {
        let (_, icmp) = icmp_of(testutil::PARAM_PROBLEM_LSRR);
        let p = IcmpRepr::parse_bytes(&icmp).unwrap();
        assert!(p.checksum_ok);
        let IcmpMessage::ParameterProblem { pointer, quote, .. } = &p.repr.message else {
            panic!("{:?}", p.repr.message)
        };
        assert_eq!(*pointer, 22);
        assert_eq!(p.repr.message.describe(), "Parameter problem: pointer = 22");
        assert_eq!(
            explain_pointer(quote, *pointer),
            "option LSRR (type 131) at offset 20, byte 2 (pointer)"
        );
        assert_eq!(
            explain_pointer(quote, 20),
            "option LSRR (type 131) at offset 20, byte 0 (type)"
        );
        assert_eq!(
            explain_pointer(quote, 24),
            "option LSRR (type 131) at offset 20, byte 4 (address 1)"
        );
        assert_eq!(
            explain_pointer(quote, 27),
            "option EOL (type 0) at offset 27, byte 0 (type)"
        );
        assert_eq!(
            explain_pointer(quote, 16),
            "header field destination address at offset 16, byte 0 of 4"
        );
        assert_eq!(explain_pointer(quote, 8), "header field TTL at offset 8");
        assert!(explain_pointer(quote, 28).contains("beyond the quoted header (28 bytes"));
        let q = p.repr.message.quote().unwrap().unwrap();
        match &q.ip.repr.options[0] {
            IpOption::Malformed { reason, .. } => assert!(reason.contains("pointer 3"), "{reason}"),
            o => panic!("{o:?}"),
        }
        assert_eq!(q.echo_id_seq(), Some((0x4c4c, 2)));
    }

    #[test]
    fn explain_pointer_edges() {
        let mut h = hex("4f00007c 00000000 01010000 c0000202 cb007102");
        h.extend(hex("01 01 07 27 08"));
        assert_eq!(
            explain_pointer(&h, 21),
            "option NOP (type 1) at offset 21, byte 0 (type)"
        );
        assert_eq!(
            explain_pointer(&h, 24),
            "option RR (type 7) at offset 22, byte 2 (pointer)"
        );
        assert!(explain_pointer(&h, 30).contains("only 25 bytes of the header are quoted"));
        assert!(explain_pointer(&[], 30).contains("no quoted header"));
        let mut h2 = hex("46000000 00000000 00000000 00000000 00000000");
        h2.extend(hex("00 00 00 00"));
        assert_eq!(
            explain_pointer(&h2, 22),
            "padding after EOL (offset 20), at offset 22"
        );
    }

    #[test]
    fn truncated_messages() {
        assert!(matches!(
            IcmpRepr::parse_bytes(&[8, 0, 0]),
            Err(WireError::Truncated {
                needed: 8,
                got: 3,
                ..
            })
        ));
        let ts = hex("0d00 0000 0001 0002 00000001 00000002");
        assert!(matches!(
            IcmpRepr::parse_bytes(&ts),
            Err(WireError::Truncated {
                layer: "ICMP timestamp",
                needed: 20,
                got: 16
            })
        ));
        assert!(matches!(
            IcmpRepr::parse_bytes(&hex("1100 0000 0001 0002 ffff")),
            Err(WireError::Truncated { needed: 12, .. })
        ));
        assert!(matches!(
            IcmpRepr::parse_bytes(&hex("0900 0000 0202 0708 c0000201 00000001")),
            Err(WireError::Truncated { needed: 24, .. })
        ));
        assert!(IcmpRepr::parse_bytes(&hex("0900 0000 0201 0708")).is_err());
        // A quote cut inside its IP header is an error from quote().
        let m = IcmpMessage::TimeExceeded {
            code: 0,
            quote: hex("4f00007c 0000"),
        };
        assert!(matches!(m.quote(), Some(Err(WireError::Truncated { .. }))));
        let m = IcmpMessage::TimeExceeded {
            code: 0,
            quote: hex("45000054 00000000 01010000 c0000202 cb00"),
        };
        assert!(m.quote().unwrap().is_err());
        assert!(IcmpMessage::EchoReply {
            id: 0,
            seq: 0,
            data: vec![]
        }
        .quote()
        .is_none());
    }

    #[test]
    fn echo_reply_captured_and_checksums() {
        let (_, icmp) = icmp_of(testutil::RR_REPLY);
        let p = IcmpRepr::parse_bytes(&icmp).unwrap();
        assert!(p.checksum_ok);
        let IcmpMessage::EchoReply { id, seq, data } = &p.repr.message else {
            panic!()
        };
        assert_eq!((*id, *seq, data.len()), (0x1a6a, 1, 56));
        assert_eq!(
            pnet_packet::icmp::checksum(&pnet_packet::icmp::IcmpPacket::new(&icmp).unwrap()),
            p.checksum
        );
        let mut r = p.repr.clone();
        r.checksum_override = Some(0x1234);
        r.code_override = Some(7);
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[1..4], &[7, 0x12, 0x34]);
        let back = IcmpRepr::parse_bytes(&out).unwrap();
        assert!(!back.checksum_ok);
        assert_eq!(back.code, 7);
        assert_eq!(back.describe(), "Echo Reply, code 7");
    }

    #[test]
    fn describe_wording() {
        let du = |code, next_hop_mtu| IcmpMessage::DestUnreachable {
            code,
            next_hop_mtu,
            quote: vec![],
        };
        assert_eq!(du(0, 0).describe(), "Destination Net Unreachable");
        assert_eq!(
            du(4, 1400).describe(),
            "Frag needed and DF set (mtu = 1400)"
        );
        assert_eq!(du(13, 0).describe(), "Packet filtered");
        assert_eq!(du(15, 0).describe(), "Precedence Cutoff");
        assert_eq!(du(16, 0).describe(), "Dest Unreachable, Bad Code: 16");
        let rd = |code| IcmpMessage::Redirect {
            code,
            gateway: ip("192.0.2.1"),
            quote: vec![],
        };
        assert_eq!(rd(0).describe(), "Redirect Network(New nexthop: 192.0.2.1)");
        assert_eq!(
            rd(3).describe(),
            "Redirect Type of Service and Host(New nexthop: 192.0.2.1)"
        );
        assert_eq!(
            rd(9).describe(),
            "Redirect, Bad Code: 9(New nexthop: 192.0.2.1)"
        );
        assert_eq!(
            IcmpMessage::TimeExceeded {
                code: 1,
                quote: vec![]
            }
            .describe(),
            "Frag reassembly time exceeded"
        );
        assert_eq!(
            IcmpMessage::TimeExceeded {
                code: 2,
                quote: vec![]
            }
            .describe(),
            "Time exceeded, Bad Code: 2"
        );
        assert_eq!(
            IcmpMessage::SourceQuench { quote: vec![] }.describe(),
            "Source Quench"
        );
    }

    /// One of every message kind.
    pub(crate) fn arb_message() -> impl Strategy<Value = IcmpMessage> {
        use IcmpMessage::*;
        let data = || proptest::collection::vec(any::<u8>(), 0..40);
        let addr = || any::<u32>().prop_map(Ipv4Addr::from);
        prop_oneof![
            (any::<u16>(), any::<u16>(), data()).prop_map(|(id, seq, data)| EchoReply {
                id,
                seq,
                data
            }),
            (any::<u16>(), any::<u16>(), data()).prop_map(|(id, seq, data)| EchoRequest {
                id,
                seq,
                data
            }),
            (any::<u8>(), any::<u16>(), data()).prop_map(|(code, next_hop_mtu, quote)| {
                DestUnreachable {
                    code,
                    next_hop_mtu,
                    quote,
                }
            }),
            data().prop_map(|quote| SourceQuench { quote }),
            (any::<u8>(), addr(), data()).prop_map(|(code, gateway, quote)| Redirect {
                code,
                gateway,
                quote
            }),
            (
                any::<u16>(),
                2u8..4,
                proptest::collection::vec((addr(), any::<i32>()), 0..5)
            )
                .prop_map(|(lifetime, entry_size, routers)| RouterAdvertisement {
                    lifetime,
                    entry_size,
                    routers
                }),
            Just(RouterSolicitation),
            (any::<u8>(), data()).prop_map(|(code, quote)| TimeExceeded { code, quote }),
            (any::<u8>(), any::<u8>(), data()).prop_map(|(code, pointer, quote)| {
                ParameterProblem {
                    code,
                    pointer,
                    quote,
                }
            }),
            any::<(u16, u16, u32, u32, u32)>().prop_map(
                |(id, seq, originate, receive, transmit)| TimestampRequest {
                    id,
                    seq,
                    originate,
                    receive,
                    transmit
                }
            ),
            any::<(u16, u16, u32, u32, u32)>().prop_map(
                |(id, seq, originate, receive, transmit)| TimestampReply {
                    id,
                    seq,
                    originate,
                    receive,
                    transmit
                }
            ),
            any::<(u16, u16)>().prop_map(|(id, seq)| InfoRequest { id, seq }),
            any::<(u16, u16)>().prop_map(|(id, seq)| InfoReply { id, seq }),
            (any::<u16>(), any::<u16>(), addr()).prop_map(|(id, seq, mask)| AddressMaskRequest {
                id,
                seq,
                mask
            }),
            (any::<u16>(), any::<u16>(), addr()).prop_map(|(id, seq, mask)| AddressMaskReply {
                id,
                seq,
                mask
            }),
            (19u8..=255, any::<u8>(), any::<[u8; 4]>(), data()).prop_map(
                |(icmp_type, code, rest, data)| Other {
                    icmp_type,
                    code,
                    rest,
                    data
                }
            ),
        ]
    }

    proptest! {
        #[test]
        fn parse_and_quote_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(p) = IcmpRepr::parse_bytes(&bytes) {
                let _ = p.describe();
                if let Some(Ok(q)) = p.repr.message.quote() {
                    let _ = q.echo_id_seq();
                }
                if let IcmpMessage::ParameterProblem { pointer, quote, .. } = &p.repr.message {
                    let _ = explain_pointer(quote, *pointer);
                }
            }
            for ptr in [0u8, 19, 20, 21, 40, 59, 60, 255] {
                let _ = explain_pointer(&bytes, ptr);
            }
        }

        #[test]
        fn round_trip_every_kind(m in arb_message()) {
            let r = IcmpRepr::new(m);
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b).unwrap();
            let p = IcmpRepr::parse_bytes(&b).unwrap();
            prop_assert!(p.checksum_ok);
            prop_assert_eq!(p.code, r.message.code());
            prop_assert_eq!(p.icmp_type, r.message.icmp_type());
            prop_assert_eq!(p.repr, r);
        }
    }
}
