//! IPv6 extension headers (RFC 8200 §4): the one walker every reader uses ([`ExtChain`]), the
//! Hop-by-Hop and Destination Options TLVs, the Routing header (type 0 and the Segment Routing
//! Header, RFC 8754), the Fragment header, and `Repr`s to build each of them.
//!
//! Lengths: Hop-by-Hop, Destination Options and Routing are `(len + 1) × 8` bytes; AH is
//! `(len + 2) × 4` (RFC 4302); Fragment is 8. ESP (50) cannot be walked (its next header is
//! encrypted at the end): the walker stops and says so.

use std::net::Ipv6Addr;

use super::WireError;

/// IP protocol numbers of the IPv6 extension headers and the chain's ends.
pub mod proto {
    /// Hop-by-Hop Options.
    pub const HOP_BY_HOP: u8 = 0;
    /// Routing.
    pub const ROUTING: u8 = 43;
    /// Fragment.
    pub const FRAGMENT: u8 = 44;
    /// Encapsulating Security Payload.
    pub const ESP: u8 = 50;
    /// Authentication Header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// No Next Header.
    pub const NO_NEXT_HEADER: u8 = 59;
    /// Destination Options.
    pub const DEST_OPTS: u8 = 60;
    /// Mobility header (RFC 6275).
    pub const MOBILITY: u8 = 135;
    /// Host Identity Protocol (RFC 7401).
    pub const HIP: u8 = 139;
    /// Shim6 (RFC 5533).
    pub const SHIM6: u8 = 140;
    /// Experimental (RFC 3692).
    pub const EXPERIMENTAL_1: u8 = 253;
    /// Experimental (RFC 3692).
    pub const EXPERIMENTAL_2: u8 = 254;
}

/// Largest options or routing header: `(255 + 1) × 8` bytes.
pub const MAX_EXT_HEADER_LEN: usize = 2048;
/// Length of the Fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// Which kind of extension header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ExtKind {
    /// Hop-by-Hop Options (0).
    HopByHop,
    /// Routing (43).
    Routing,
    /// Fragment (44).
    Fragment,
    /// Destination Options (60).
    DestOpts,
    /// Authentication Header (51).
    Ah,
    /// Another header in the `(len + 1) × 8` format (Mobility, HIP, Shim6, experimental 253/254),
    /// with its protocol number.
    Generic(u8),
}

impl ExtKind {
    /// The kind an IP protocol number names, if it is an extension header the walker can skip.
    pub fn from_protocol(p: u8) -> Option<ExtKind> {
        Some(match p {
            proto::HOP_BY_HOP => ExtKind::HopByHop,
            proto::ROUTING => ExtKind::Routing,
            proto::FRAGMENT => ExtKind::Fragment,
            proto::DEST_OPTS => ExtKind::DestOpts,
            proto::AH => ExtKind::Ah,
            proto::MOBILITY
            | proto::HIP
            | proto::SHIM6
            | proto::EXPERIMENTAL_1
            | proto::EXPERIMENTAL_2 => ExtKind::Generic(p),
            _ => return None,
        })
    }

    /// Its IP protocol number.
    pub fn protocol(self) -> u8 {
        match self {
            ExtKind::HopByHop => proto::HOP_BY_HOP,
            ExtKind::Routing => proto::ROUTING,
            ExtKind::Fragment => proto::FRAGMENT,
            ExtKind::DestOpts => proto::DEST_OPTS,
            ExtKind::Ah => proto::AH,
            ExtKind::Generic(p) => p,
        }
    }

    /// Its name as tshark writes it.
    pub fn name(self) -> &'static str {
        match self {
            ExtKind::HopByHop => "Hop-by-Hop Options",
            ExtKind::Routing => "Routing Header",
            ExtKind::Fragment => "Fragment Header",
            ExtKind::DestOpts => "Destination Options",
            ExtKind::Ah => "Authentication Header",
            ExtKind::Generic(proto::MOBILITY) => "Mobility Header",
            ExtKind::Generic(proto::HIP) => "Host Identity Protocol",
            ExtKind::Generic(proto::SHIM6) => "Shim6",
            ExtKind::Generic(_) => "Experimental",
        }
    }
}

/// One extension header found by the walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    /// Its kind.
    pub kind: ExtKind,
    /// Offset of its first byte in the IPv6 payload.
    pub offset: usize,
    /// All its bytes (next header and length included).
    pub bytes: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// The header after this one.
    pub fn next_header(&self) -> u8 {
        self.bytes[0]
    }
    /// The bytes after next header and length (options, routing data...); for Fragment and AH
    /// the bytes after the first two too.
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[2..]
    }
}

/// Where the extension-header chain stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ChainEnd {
    /// An upper-layer (or unknown) protocol starts at `offset` of the IPv6 payload.
    Upper {
        /// Its protocol number.
        protocol: u8,
        /// Its offset in the IPv6 payload.
        offset: usize,
    },
    /// Next header 59: nothing follows (bytes after `offset` are to be ignored).
    NoNextHeader {
        /// Offset where the payload would have started.
        offset: usize,
    },
    /// ESP at `offset`: encrypted, the rest cannot be walked.
    Esp {
        /// Offset of the ESP header.
        offset: usize,
    },
    /// A Fragment header with a non-zero offset: what follows is the middle of a datagram, not
    /// the start of `protocol`.
    LaterFragment {
        /// The Fragment header's next header.
        protocol: u8,
        /// Offset of the fragment data.
        offset: usize,
    },
}

impl ChainEnd {
    /// The offset where the chain stopped.
    pub fn offset(&self) -> usize {
        match *self {
            ChainEnd::Upper { offset, .. }
            | ChainEnd::NoNextHeader { offset }
            | ChainEnd::Esp { offset }
            | ChainEnd::LaterFragment { offset, .. } => offset,
        }
    }
}

/// The extension-header walker: an iterator over the headers of an IPv6 payload, starting from
/// the fixed header's next header. Every reader (dissector, matcher, checksum, reassembler)
/// walks the chain with it. After the iterator ends, [`end`](Self::end) says why: an upper
/// layer, No Next Header, ESP or a later fragment. A header cut short or with a length past the
/// payload yields one `Err` (`Truncated`) and ends the walk with `end() == None`.
#[derive(Debug, Clone)]
pub struct ExtChain<'a> {
    payload: &'a [u8],
    next: u8,
    offset: usize,
    end: Option<ChainEnd>,
    failed: bool,
}

impl<'a> ExtChain<'a> {
    /// Walk `payload` (the bytes after the 40-byte header) whose first header is `next_header`.
    pub fn new(next_header: u8, payload: &'a [u8]) -> Self {
        ExtChain {
            payload,
            next: next_header,
            offset: 0,
            end: None,
            failed: false,
        }
    }

    /// Why the walk stopped, once the iterator has returned `None` without an error.
    pub fn end(&self) -> Option<ChainEnd> {
        self.end
    }

    /// Walk to the end: the headers, then where the chain stops. `Err` on truncation.
    pub fn collect_all(mut self) -> Result<(Vec<ExtHeader<'a>>, ChainEnd), WireError> {
        let mut v = Vec::new();
        for h in &mut self {
            v.push(h?);
        }
        Ok((v, self.end.expect("walk ended without an error")))
    }
}

impl<'a> Iterator for ExtChain<'a> {
    type Item = Result<ExtHeader<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.end.is_some() || self.failed {
            return None;
        }
        let at = self.offset;
        let kind = match self.next {
            proto::NO_NEXT_HEADER => {
                self.end = Some(ChainEnd::NoNextHeader { offset: at });
                return None;
            }
            proto::ESP => {
                self.end = Some(ChainEnd::Esp { offset: at });
                return None;
            }
            p => match ExtKind::from_protocol(p) {
                Some(k) => k,
                None => {
                    self.end = Some(ChainEnd::Upper {
                        protocol: p,
                        offset: at,
                    });
                    return None;
                }
            },
        };
        let rest = &self.payload[at.min(self.payload.len())..];
        let name = kind.name();
        let need_min = if kind == ExtKind::Fragment { 8 } else { 2 };
        if rest.len() < need_min {
            self.failed = true;
            return Some(Err(WireError::truncated(name, need_min, rest.len())));
        }
        let len = match kind {
            ExtKind::Fragment => FRAGMENT_HEADER_LEN,
            ExtKind::Ah => (usize::from(rest[1]) + 2) * 4,
            _ => (usize::from(rest[1]) + 1) * 8,
        };
        if rest.len() < len {
            self.failed = true;
            return Some(Err(WireError::truncated(name, len, rest.len())));
        }
        let h = ExtHeader {
            kind,
            offset: at,
            bytes: &rest[..len],
        };
        self.next = rest[0];
        self.offset = at + len;
        if kind == ExtKind::Fragment && FragmentHeader::new_unchecked(h.bytes).frag_offset() != 0 {
            self.end = Some(ChainEnd::LaterFragment {
                protocol: self.next,
                offset: self.offset,
            });
        }
        Some(Ok(h))
    }
}

/// Where the upper layer of an IPv6 payload is: its protocol and offset (or why there is none:
/// No Next Header, ESP, a later fragment). `Err` when the chain is cut short.
pub fn upper_layer(next_header: u8, payload: &[u8]) -> Result<ChainEnd, WireError> {
    let mut c = ExtChain::new(next_header, payload);
    for h in &mut c {
        h?;
    }
    Ok(c.end().expect("walk ended without an error"))
}

/// The destination the upper-layer checksum is computed for (RFC 8200 §8.1): with a Routing
/// header whose Segments Left is above 0, the last address of a type 0 header or Segment
/// List\[0\] of a Segment Routing Header; otherwise `dst`. Headers that do not parse leave `dst`.
pub fn final_destination(dst: Ipv6Addr, next_header: u8, payload: &[u8]) -> Ipv6Addr {
    for h in ExtChain::new(next_header, payload) {
        let Ok(h) = h else { break };
        if h.kind != ExtKind::Routing {
            continue;
        }
        let r = RoutingHeader::new_unchecked(h.bytes);
        if r.segments_left() == 0 {
            continue;
        }
        if let Some(a) = r.final_destination() {
            return a;
        }
    }
    dst
}

// ---------------------------------------------------------------------------------------------
// Hop-by-Hop and Destination Options

/// Option types of Hop-by-Hop and Destination Options (IANA "Destination Options and Hop-by-Hop
/// Options").
pub mod opt {
    /// Pad1: one byte, no length.
    pub const PAD1: u8 = 0x00;
    /// PadN: length and that many zero bytes.
    pub const PADN: u8 = 0x01;
    /// Tunnel Encapsulation Limit (RFC 2473).
    pub const TUNNEL_ENCAP_LIMIT: u8 = 0x04;
    /// Router Alert (RFC 2711): a 2-byte value.
    pub const ROUTER_ALERT: u8 = 0x05;
    /// IOAM (RFC 9486), may change en route.
    pub const IOAM: u8 = 0x31;
    /// Jumbo Payload (RFC 2675): a 4-byte length.
    pub const JUMBO: u8 = 0xc2;
}

/// What a node that does not know an option type does with it: the type's two high bits
/// (RFC 8200 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum OptionAction {
    /// 00: skip the option, go on with the header.
    Skip,
    /// 01: discard the packet.
    Discard,
    /// 10: discard and send a Parameter Problem (code 2) to the source, even to multicast.
    DiscardAndParamProblem,
    /// 11: discard and send a Parameter Problem (code 2) unless the destination was multicast.
    DiscardAndParamProblemUnlessMulticast,
}

impl OptionAction {
    /// The action of option type `t`.
    pub fn of(t: u8) -> OptionAction {
        match t >> 6 {
            0 => OptionAction::Skip,
            1 => OptionAction::Discard,
            2 => OptionAction::DiscardAndParamProblem,
            _ => OptionAction::DiscardAndParamProblemUnlessMulticast,
        }
    }

    /// In words.
    pub fn explain(self) -> &'static str {
        match self {
            OptionAction::Skip => "skip over this option and continue processing the header",
            OptionAction::Discard => "discard the packet",
            OptionAction::DiscardAndParamProblem => {
                "discard the packet and send an ICMPv6 Parameter Problem, code 2"
            }
            OptionAction::DiscardAndParamProblemUnlessMulticast => {
                "discard the packet and send an ICMPv6 Parameter Problem, code 2, \
                 unless the destination was multicast"
            }
        }
    }
}

/// Whether option type `t` may change en route (its third-highest bit, RFC 8200 §4.2).
pub fn option_may_change(t: u8) -> bool {
    t & 0x20 != 0
}

/// The name of option type `t` (IANA), if it has one (the table is in [`names`](super::names)).
pub fn option_name(t: u8) -> Option<&'static str> {
    super::names::ipv6_option_name(t)
}

/// One TLV option as found in an options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// Offset of its type byte from the start of the extension header.
    pub offset: usize,
    /// Option type.
    pub opt_type: u8,
    /// Its data (empty for Pad1).
    pub data: &'a [u8],
}

impl RawOption<'_> {
    /// Bytes it takes (1 for Pad1, else 2 + data).
    pub fn wire_len(&self) -> usize {
        if self.opt_type == opt::PAD1 {
            1
        } else {
            2 + self.data.len()
        }
    }
}

/// Iterator over the TLV options of a Hop-by-Hop or Destination Options header. An option
/// whose length runs past the header yields one `Err` naming the overrun and ends the walk.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    area: &'a [u8],
    at: usize,
    base: usize,
    failed: bool,
}

impl<'a> OptionIter<'a> {
    /// Iterate over `header` (a whole options header: the options start at byte 2).
    pub fn new(header: &'a [u8]) -> Self {
        OptionIter {
            area: header.get(2..).unwrap_or(&[]),
            at: 0,
            base: 2,
            failed: false,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<RawOption<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.area.len() {
            return None;
        }
        let b = &self.area[self.at..];
        let offset = self.base + self.at;
        if b[0] == opt::PAD1 {
            self.at += 1;
            return Some(Ok(RawOption {
                offset,
                opt_type: opt::PAD1,
                data: &[],
            }));
        }
        if b.len() < 2 {
            self.failed = true;
            return Some(Err(WireError::malformed(
                "IPv6 option",
                format!(
                    "option type {:#04x} at offset {offset} has no length byte (the header ends)",
                    b[0]
                ),
            )));
        }
        let n = usize::from(b[1]);
        if b.len() < 2 + n {
            self.failed = true;
            return Some(Err(WireError::malformed(
                "IPv6 option",
                format!(
                    "option type {:#04x} at offset {offset} has length {n}, past the header's end \
                     ({} bytes left)",
                    b[0],
                    b.len() - 2
                ),
            )));
        }
        self.at += 2 + n;
        Some(Ok(RawOption {
            offset,
            opt_type: b[0],
            data: &b[2..2 + n],
        }))
    }
}

/// A Hop-by-Hop or Destination Options option, to build or as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Ipv6Option {
    /// Pad1 (one zero byte).
    Pad1,
    /// PadN with this many zero data bytes (0..=255).
    PadN(u8),
    /// Router Alert (RFC 2711) with its value (0 = MLD, 1 = RSVP, 2 = Active Networks).
    /// Aligned 2n+0 on emit.
    RouterAlert(u16),
    /// Jumbo Payload (RFC 2675) with its length. Aligned 4n+2 on emit.
    JumboPayload(u32),
    /// Tunnel Encapsulation Limit (RFC 2473).
    TunnelEncapLimit(u8),
    /// IOAM (RFC 9486), its data kept raw (the IOAM option type byte first). Aligned 4n+2 on emit.
    Ioam(Vec<u8>),
    /// Any option as type and data, written as given, with no alignment (a PadN with
    /// non-zero data, a Router Alert of the wrong length... parse as this too).
    Raw {
        /// Option type.
        opt_type: u8,
        /// Its data (at most 255 bytes).
        data: Vec<u8>,
    },
}

impl Ipv6Option {
    /// Option type byte.
    pub fn opt_type(&self) -> u8 {
        match self {
            Ipv6Option::Pad1 => opt::PAD1,
            Ipv6Option::PadN(_) => opt::PADN,
            Ipv6Option::RouterAlert(_) => opt::ROUTER_ALERT,
            Ipv6Option::JumboPayload(_) => opt::JUMBO,
            Ipv6Option::TunnelEncapLimit(_) => opt::TUNNEL_ENCAP_LIMIT,
            Ipv6Option::Ioam(_) => opt::IOAM,
            Ipv6Option::Raw { opt_type, .. } => *opt_type,
        }
    }

    fn data_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 0,
            Ipv6Option::PadN(n) => usize::from(*n),
            Ipv6Option::RouterAlert(_) => 2,
            Ipv6Option::JumboPayload(_) => 4,
            Ipv6Option::TunnelEncapLimit(_) => 1,
            Ipv6Option::Ioam(d) | Ipv6Option::Raw { data: d, .. } => d.len(),
        }
    }

    /// Bytes it takes on the wire, without alignment padding.
    pub fn wire_len(&self) -> usize {
        match self {
            Ipv6Option::Pad1 => 1,
            o => 2 + o.data_len(),
        }
    }

    /// Its alignment requirement `xn + y` as `(x, y)` (RFC 8200 §4.2), `(1, 0)` for none.
    pub fn alignment(&self) -> (usize, usize) {
        match self {
            Ipv6Option::RouterAlert(_) => (2, 0),
            Ipv6Option::JumboPayload(_) | Ipv6Option::Ioam(_) => (4, 2),
            _ => (1, 0),
        }
    }

    /// Read an option found by [`OptionIter`]: named kinds when their data has the right
    /// length, else [`Ipv6Option::Raw`].
    pub fn parse(o: &RawOption<'_>) -> Ipv6Option {
        let d = o.data;
        match (o.opt_type, d.len()) {
            (opt::PAD1, _) => Ipv6Option::Pad1,
            (opt::PADN, n) if d.iter().all(|&x| x == 0) => Ipv6Option::PadN(n as u8),
            (opt::ROUTER_ALERT, 2) => Ipv6Option::RouterAlert(u16::from_be_bytes([d[0], d[1]])),
            (opt::JUMBO, 4) => {
                Ipv6Option::JumboPayload(u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
            }
            (opt::TUNNEL_ENCAP_LIMIT, 1) => Ipv6Option::TunnelEncapLimit(d[0]),
            (opt::IOAM, _) => Ipv6Option::Ioam(d.to_vec()),
            (t, _) => Ipv6Option::Raw {
                opt_type: t,
                data: d.to_vec(),
            },
        }
    }

    fn check(&self) -> Result<(), WireError> {
        let n = self.data_len();
        if n > 255 {
            return Err(WireError::Limit(format!(
                "IPv6 option type {:#04x} has {n} data bytes; its length field holds at most 255",
                self.opt_type()
            )));
        }
        Ok(())
    }

    fn write(&self, b: &mut [u8]) {
        b[0] = self.opt_type();
        if let Ipv6Option::Pad1 = self {
            return;
        }
        let n = self.data_len();
        b[1] = n as u8;
        let d = &mut b[2..2 + n];
        match self {
            Ipv6Option::Pad1 => {}
            Ipv6Option::PadN(_) => d.fill(0),
            Ipv6Option::RouterAlert(v) => d.copy_from_slice(&v.to_be_bytes()),
            Ipv6Option::JumboPayload(v) => d.copy_from_slice(&v.to_be_bytes()),
            Ipv6Option::TunnelEncapLimit(v) => d[0] = *v,
            Ipv6Option::Ioam(x) | Ipv6Option::Raw { data: x, .. } => d.copy_from_slice(x),
        }
    }
}

/// Write padding of `n` bytes: Pad1 for 1, PadN otherwise.
fn write_pad(b: &mut [u8], n: usize) {
    match n {
        0 => {}
        1 => b[0] = opt::PAD1,
        _ => {
            b[0] = opt::PADN;
            b[1] = (n - 2) as u8;
            b[2..n].fill(0);
        }
    }
}

/// Padding to insert at `at` (from the header's start) for alignment `(x, y)`.
fn pad_for(at: usize, (x, y): (usize, usize)) -> usize {
    (x + y - at % x) % x
}

/// A Hop-by-Hop or Destination Options header to build: options written in order, each
/// aligned as its kind requires (Router Alert 2n, Jumbo and IOAM 4n+2) with Pad1/PadN before
/// it, and the whole padded to a multiple of 8. The next header is set by the chain builder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct OptionsRepr {
    /// The options.
    pub options: Vec<Ipv6Option>,
}

impl OptionsRepr {
    /// A header holding `options`.
    pub fn new(options: Vec<Ipv6Option>) -> Self {
        OptionsRepr { options }
    }

    /// Bytes [`emit`](Self::emit) writes: a multiple of 8. `Limit` when an option has over 255
    /// data bytes or the header exceeds 2048 bytes.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        let mut at = 2;
        for o in &self.options {
            o.check()?;
            at += pad_for(at, o.alignment()) + o.wire_len();
        }
        let len = at.div_ceil(8) * 8;
        if len > MAX_EXT_HEADER_LEN {
            return Err(WireError::Limit(format!(
                "IPv6 options header of {len} bytes exceeds {MAX_EXT_HEADER_LEN} (the 8-bit \
                 length in 8-byte units)"
            )));
        }
        Ok(len)
    }

    /// Write the header into the start of `buf` with `next_header`; returns its length.
    pub fn emit(&self, buf: &mut [u8], next_header: u8) -> Result<usize, WireError> {
        let len = self.buffer_len()?;
        if buf.len() < len {
            return Err(WireError::truncated(
                "IPv6 options output buffer",
                len,
                buf.len(),
            ));
        }
        let b = &mut buf[..len];
        b[0] = next_header;
        b[1] = (len / 8 - 1) as u8;
        let mut at = 2;
        for o in &self.options {
            let p = pad_for(at, o.alignment());
            write_pad(&mut b[at..], p);
            at += p;
            o.write(&mut b[at..]);
            at += o.wire_len();
        }
        write_pad(&mut b[at..], len - at);
        Ok(len)
    }

    /// Read the options of a whole options header (`header` starts with next header). Padding
    /// is kept as parsed. `Err` when an option overruns the header.
    pub fn parse(header: &[u8]) -> Result<OptionsRepr, WireError> {
        let mut options = Vec::new();
        for o in OptionIter::new(header) {
            options.push(Ipv6Option::parse(&o?));
        }
        Ok(OptionsRepr { options })
    }
}

// ---------------------------------------------------------------------------------------------
// Routing

/// A borrowed view of a Routing header of any type (RFC 8200 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutingHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> RoutingHeader<T> {
    /// Wrap without checking: accessors panic under 4 bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        RoutingHeader { buffer }
    }
    /// Wrap after checking the 4 fixed bytes and the length field against the bytes present.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < 4 {
            return Err(WireError::truncated("IPv6 Routing header", 4, b.len()));
        }
        let len = (usize::from(b[1]) + 1) * 8;
        if b.len() < len {
            return Err(WireError::truncated("IPv6 Routing header", len, b.len()));
        }
        Ok(RoutingHeader { buffer })
    }
    /// Next header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    /// Header length in 8-byte units, not counting the first 8.
    pub fn hdr_ext_len(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    /// Routing type.
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[2]
    }
    /// Segments left.
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[3]
    }
    /// Type-specific data (from byte 4 to the header's end, clamped to the bytes present).
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = ((usize::from(b[1]) + 1) * 8).min(b.len());
        &b[4..end]
    }
    /// The final destination this header names: type 0 its last address, type 4 Segment
    /// List\[0\]. `None` for other types or when the list is empty.
    pub fn final_destination(&self) -> Option<Ipv6Addr> {
        let d = self.data();
        match self.routing_type() {
            ROUTING_TYPE_0 => {
                let n = d.len().saturating_sub(4) / 16;
                (n > 0).then(|| addr_at(d, 4 + (n - 1) * 16))
            }
            ROUTING_TYPE_SRH => (d.len() >= 20).then(|| addr_at(d, 4)),
            _ => None,
        }
    }
}

/// Routing type 0 (deprecated by RFC 5095; built on request).
pub const ROUTING_TYPE_0: u8 = 0;
/// Routing type 4: the Segment Routing Header (RFC 8754).
pub const ROUTING_TYPE_SRH: u8 = 4;

fn addr_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(o)
}

/// A TLV of the Segment Routing Header (RFC 8754 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SrhTlv {
    /// Pad1 (type 0).
    Pad1,
    /// PadN (type 4) with this many zero bytes.
    PadN(u8),
    /// HMAC (type 5): D flag, key id, the HMAC (a multiple of 8 bytes, at most 32).
    Hmac {
        /// The D bit: the destination address is not part of the HMAC.
        d_flag: bool,
        /// HMAC key id (0: no HMAC).
        key_id: u32,
        /// The HMAC.
        hmac: Vec<u8>,
    },
    /// Any other TLV.
    Raw {
        /// TLV type.
        tlv_type: u8,
        /// Its value.
        data: Vec<u8>,
    },
}

/// SRH TLV types.
pub mod srh_tlv {
    /// Pad1.
    pub const PAD1: u8 = 0;
    /// PadN.
    pub const PADN: u8 = 4;
    /// HMAC.
    pub const HMAC: u8 = 5;
}

impl SrhTlv {
    fn wire_len(&self) -> usize {
        match self {
            SrhTlv::Pad1 => 1,
            SrhTlv::PadN(n) => 2 + usize::from(*n),
            SrhTlv::Hmac { hmac, .. } => 2 + 6 + hmac.len(),
            SrhTlv::Raw { data, .. } => 2 + data.len(),
        }
    }

    fn check(&self) -> Result<(), WireError> {
        match self {
            SrhTlv::Hmac { hmac, .. } if hmac.len() > 32 || !hmac.len().is_multiple_of(8) => {
                Err(WireError::Limit(format!(
                    "SRH HMAC of {} bytes: it must be a multiple of 8 bytes, at most 32 \
                     (RFC 8754 §2.1.2)",
                    hmac.len()
                )))
            }
            SrhTlv::Raw { data, .. } if data.len() > 255 => Err(WireError::Limit(format!(
                "SRH TLV of {} data bytes; its length field holds at most 255",
                data.len()
            ))),
            _ => Ok(()),
        }
    }

    fn write(&self, b: &mut [u8]) {
        match self {
            SrhTlv::Pad1 => b[0] = srh_tlv::PAD1,
            SrhTlv::PadN(n) => {
                b[0] = srh_tlv::PADN;
                b[1] = *n;
                b[2..2 + usize::from(*n)].fill(0);
            }
            SrhTlv::Hmac {
                d_flag,
                key_id,
                hmac,
            } => {
                b[0] = srh_tlv::HMAC;
                b[1] = (6 + hmac.len()) as u8;
                b[2] = if *d_flag { 0x80 } else { 0 };
                b[3] = 0;
                b[4..8].copy_from_slice(&key_id.to_be_bytes());
                b[8..8 + hmac.len()].copy_from_slice(hmac);
            }
            SrhTlv::Raw { tlv_type, data } => {
                b[0] = *tlv_type;
                b[1] = data.len() as u8;
                b[2..2 + data.len()].copy_from_slice(data);
            }
        }
    }

    fn parse_all(mut b: &[u8]) -> Result<Vec<SrhTlv>, WireError> {
        let mut v = Vec::new();
        while let Some(&t) = b.first() {
            if t == srh_tlv::PAD1 {
                v.push(SrhTlv::Pad1);
                b = &b[1..];
                continue;
            }
            if b.len() < 2 || b.len() < 2 + usize::from(b[1]) {
                return Err(WireError::malformed(
                    "SRH TLV",
                    format!("TLV type {t} runs past the header's end"),
                ));
            }
            let d = &b[2..2 + usize::from(b[1])];
            v.push(match t {
                srh_tlv::PADN if d.iter().all(|&x| x == 0) => SrhTlv::PadN(d.len() as u8),
                srh_tlv::HMAC
                    if d.len() >= 6
                        && (d.len() - 6).is_multiple_of(8)
                        && d[0] & 0x7f == 0
                        && d[1] == 0 =>
                {
                    SrhTlv::Hmac {
                        d_flag: d[0] & 0x80 != 0,
                        key_id: u32::from_be_bytes([d[2], d[3], d[4], d[5]]),
                        hmac: d[6..].to_vec(),
                    }
                }
                // An HMAC TLV with reserved bits set or a length off the 8-byte grid stays raw.
                _ => SrhTlv::Raw {
                    tlv_type: t,
                    data: d.to_vec(),
                },
            });
            b = &b[2 + d.len()..];
        }
        Ok(v)
    }
}

/// The Segment Routing Header (RFC 8754), routing type 4.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct SrhRepr {
    /// Segments Left: index of the active segment in `segments`.
    pub segments_left: u8,
    /// Write this Last Entry instead of `segments.len() - 1`.
    pub last_entry_override: Option<u8>,
    /// Flags byte.
    pub flags: u8,
    /// Tag.
    pub tag: u16,
    /// The Segment List as stored: `segments[0]` is the LAST segment (the final destination),
    /// the first segment to visit is at the end.
    pub segments: Vec<Ipv6Addr>,
    /// TLVs after the list (padded with zeros to a multiple of 8 on emit if they do not fill it).
    pub tlvs: Vec<SrhTlv>,
}

impl SrhRepr {
    /// An SRH for a path given in visiting order (the first segment is where the packet goes
    /// first, i.e. the IPv6 destination; the last is the target): stored reversed, Segments
    /// Left `path.len() - 1`.
    pub fn from_path(path: &[Ipv6Addr]) -> SrhRepr {
        SrhRepr {
            segments_left: path.len().saturating_sub(1) as u8,
            last_entry_override: None,
            flags: 0,
            tag: 0,
            segments: path.iter().rev().copied().collect(),
            tlvs: Vec::new(),
        }
    }

    /// The active segment (`segments[segments_left]`), if in range.
    pub fn active_segment(&self) -> Option<Ipv6Addr> {
        self.segments.get(usize::from(self.segments_left)).copied()
    }
}

/// A Routing header to build, or as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum RoutingRepr {
    /// Type 0 (RFC 2460, deprecated by RFC 5095): a reserved word and addresses.
    Type0 {
        /// Segments left.
        segments_left: u8,
        /// The 4 reserved bytes as a word.
        reserved: u32,
        /// The addresses, in visiting order (the last is the final destination).
        addresses: Vec<Ipv6Addr>,
    },
    /// Type 4, the Segment Routing Header.
    Srh(SrhRepr),
    /// Any routing type with its type-specific data (from byte 4; zero-padded to a multiple of 8
    /// on emit).
    Raw {
        /// Routing type.
        routing_type: u8,
        /// Segments left.
        segments_left: u8,
        /// Bytes from offset 4.
        data: Vec<u8>,
    },
}

impl RoutingRepr {
    fn unpadded_len(&self) -> Result<usize, WireError> {
        Ok(match self {
            RoutingRepr::Type0 { addresses, .. } => 8 + 16 * addresses.len(),
            RoutingRepr::Srh(s) => {
                if s.segments.len() > 256 {
                    return Err(WireError::Limit(format!(
                        "SRH with {} segments: Last Entry holds at most 256 (and the header \
                         2048 bytes)",
                        s.segments.len()
                    )));
                }
                let mut n = 8 + 16 * s.segments.len();
                for t in &s.tlvs {
                    t.check()?;
                    n += t.wire_len();
                }
                n
            }
            RoutingRepr::Raw { data, .. } => 4 + data.len(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes (a multiple of 8); `Limit` over 2048.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        let n = self.unpadded_len()?.div_ceil(8) * 8;
        if n > MAX_EXT_HEADER_LEN {
            return Err(WireError::Limit(format!(
                "IPv6 Routing header of {n} bytes exceeds {MAX_EXT_HEADER_LEN} (the 8-bit length \
                 in 8-byte units)"
            )));
        }
        Ok(n)
    }

    /// The routing type.
    pub fn routing_type(&self) -> u8 {
        match self {
            RoutingRepr::Type0 { .. } => ROUTING_TYPE_0,
            RoutingRepr::Srh(_) => ROUTING_TYPE_SRH,
            RoutingRepr::Raw { routing_type, .. } => *routing_type,
        }
    }

    /// Segments left.
    pub fn segments_left(&self) -> u8 {
        match self {
            RoutingRepr::Type0 { segments_left, .. } | RoutingRepr::Raw { segments_left, .. } => {
                *segments_left
            }
            RoutingRepr::Srh(s) => s.segments_left,
        }
    }

    /// Write the header into the start of `buf` with `next_header`; returns its length.
    pub fn emit(&self, buf: &mut [u8], next_header: u8) -> Result<usize, WireError> {
        let len = self.buffer_len()?;
        if buf.len() < len {
            return Err(WireError::truncated(
                "IPv6 Routing output buffer",
                len,
                buf.len(),
            ));
        }
        let b = &mut buf[..len];
        b.fill(0);
        b[0] = next_header;
        b[1] = (len / 8 - 1) as u8;
        b[2] = self.routing_type();
        b[3] = self.segments_left();
        match self {
            RoutingRepr::Type0 {
                reserved,
                addresses,
                ..
            } => {
                b[4..8].copy_from_slice(&reserved.to_be_bytes());
                for (i, a) in addresses.iter().enumerate() {
                    b[8 + 16 * i..24 + 16 * i].copy_from_slice(&a.octets());
                }
            }
            RoutingRepr::Srh(s) => {
                b[4] = s
                    .last_entry_override
                    .unwrap_or(s.segments.len().saturating_sub(1) as u8);
                b[5] = s.flags;
                b[6..8].copy_from_slice(&s.tag.to_be_bytes());
                for (i, a) in s.segments.iter().enumerate() {
                    b[8 + 16 * i..24 + 16 * i].copy_from_slice(&a.octets());
                }
                let mut at = 8 + 16 * s.segments.len();
                for t in &s.tlvs {
                    t.write(&mut b[at..]);
                    at += t.wire_len();
                }
            }
            RoutingRepr::Raw { data, .. } => b[4..4 + data.len()].copy_from_slice(data),
        }
        Ok(len)
    }

    /// Read a whole Routing header (`header` starts with next header): type 0 and 4 decoded,
    /// others raw. An SRH whose Last Entry names more segments than the header holds, or whose
    /// TLVs overrun, is `Malformed`.
    pub fn parse(header: &[u8]) -> Result<RoutingRepr, WireError> {
        let r = RoutingHeader::new_checked(header)?;
        let d = r.data();
        Ok(match r.routing_type() {
            ROUTING_TYPE_0 => RoutingRepr::Type0 {
                segments_left: r.segments_left(),
                reserved: u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
                addresses: d[4..].chunks_exact(16).map(|c| addr_at(c, 0)).collect(),
            },
            ROUTING_TYPE_SRH => {
                let n = usize::from(d[0]) + 1;
                let list_end = 4 + 16 * n;
                if d.len() < list_end {
                    return Err(WireError::malformed(
                        "SRH",
                        format!(
                            "Last Entry {} names {n} segments ({} bytes); the header holds {}",
                            d[0],
                            16 * n,
                            d.len() - 4
                        ),
                    ));
                }
                RoutingRepr::Srh(SrhRepr {
                    segments_left: r.segments_left(),
                    last_entry_override: None,
                    flags: d[1],
                    tag: u16::from_be_bytes([d[2], d[3]]),
                    segments: d[4..list_end]
                        .chunks_exact(16)
                        .map(|c| addr_at(c, 0))
                        .collect(),
                    tlvs: SrhTlv::parse_all(&d[list_end..])?,
                })
            }
            t => RoutingRepr::Raw {
                routing_type: t,
                segments_left: r.segments_left(),
                data: d.to_vec(),
            },
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Fragment

/// A borrowed view of a Fragment header (RFC 8200 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    /// Wrap without checking: accessors panic under 8 bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        FragmentHeader { buffer }
    }
    /// Wrap after checking the 8 bytes are there.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let n = buffer.as_ref().len();
        if n < FRAGMENT_HEADER_LEN {
            return Err(WireError::truncated(
                "IPv6 Fragment header",
                FRAGMENT_HEADER_LEN,
                n,
            ));
        }
        Ok(FragmentHeader { buffer })
    }
    /// Next header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    /// The reserved byte.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    /// Fragment offset in 8-byte units (13 bits).
    pub fn frag_offset(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[2], b[3]]) >> 3
    }
    /// The two reserved bits beside M.
    pub fn res_bits(&self) -> u8 {
        (self.buffer.as_ref()[3] >> 1) & 3
    }
    /// More fragments.
    pub fn more_fragments(&self) -> bool {
        self.buffer.as_ref()[3] & 1 != 0
    }
    /// Identification.
    pub fn ident(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }
    /// An atomic fragment (RFC 6946): offset 0 and M clear, the whole datagram in one piece.
    pub fn is_atomic(&self) -> bool {
        self.frag_offset() == 0 && !self.more_fragments()
    }
}

/// A Fragment header to build, or as parsed (the next header is set by the chain builder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct FragmentRepr {
    /// Offset in 8-byte units (at most 8191).
    pub offset: u16,
    /// More fragments.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

impl FragmentRepr {
    /// Write the 8 bytes with `next_header`. `Limit` for an offset over 13 bits.
    pub fn emit(&self, buf: &mut [u8], next_header: u8) -> Result<usize, WireError> {
        if self.offset > 0x1fff {
            return Err(WireError::Limit(format!(
                "IPv6 fragment offset {} does not fit its 13-bit field (at most 8191, in 8-byte \
                 units)",
                self.offset
            )));
        }
        if buf.len() < FRAGMENT_HEADER_LEN {
            return Err(WireError::truncated(
                "IPv6 Fragment output buffer",
                FRAGMENT_HEADER_LEN,
                buf.len(),
            ));
        }
        buf[0] = next_header;
        buf[1] = 0;
        let w = (self.offset << 3) | u16::from(self.more);
        buf[2..4].copy_from_slice(&w.to_be_bytes());
        buf[4..8].copy_from_slice(&self.ident.to_be_bytes());
        Ok(FRAGMENT_HEADER_LEN)
    }

    /// Read a Fragment header view.
    pub fn parse<T: AsRef<[u8]>>(h: &FragmentHeader<T>) -> FragmentRepr {
        FragmentRepr {
            offset: h.frag_offset(),
            more: h.more_fragments(),
            ident: h.ident(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The chain, to build

/// One extension header to build.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ExtHeaderRepr {
    /// Hop-by-Hop Options (must come first to be honoured).
    HopByHop(OptionsRepr),
    /// Destination Options.
    DestOpts(OptionsRepr),
    /// Routing.
    Routing(RoutingRepr),
    /// Fragment.
    Fragment(FragmentRepr),
    /// Any header as bytes under `protocol`; byte 0 is overwritten with the next header, the
    /// rest (length byte included) is written as given.
    Raw {
        /// The protocol number it goes under.
        protocol: u8,
        /// Its bytes (at least 2).
        bytes: Vec<u8>,
    },
}

impl ExtHeaderRepr {
    /// The protocol number it goes under.
    pub fn protocol(&self) -> u8 {
        match self {
            ExtHeaderRepr::HopByHop(_) => proto::HOP_BY_HOP,
            ExtHeaderRepr::DestOpts(_) => proto::DEST_OPTS,
            ExtHeaderRepr::Routing(_) => proto::ROUTING,
            ExtHeaderRepr::Fragment(_) => proto::FRAGMENT,
            ExtHeaderRepr::Raw { protocol, .. } => *protocol,
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        match self {
            ExtHeaderRepr::HopByHop(o) | ExtHeaderRepr::DestOpts(o) => o.buffer_len(),
            ExtHeaderRepr::Routing(r) => r.buffer_len(),
            ExtHeaderRepr::Fragment(_) => Ok(FRAGMENT_HEADER_LEN),
            ExtHeaderRepr::Raw { bytes, .. } => {
                if bytes.len() < 2 {
                    return Err(WireError::Limit(format!(
                        "a raw extension header of {} bytes: it needs at least 2 (next header \
                         and length)",
                        bytes.len()
                    )));
                }
                Ok(bytes.len())
            }
        }
    }

    /// Write it into the start of `buf` followed by `next_header`; returns its length.
    pub fn emit(&self, buf: &mut [u8], next_header: u8) -> Result<usize, WireError> {
        match self {
            ExtHeaderRepr::HopByHop(o) | ExtHeaderRepr::DestOpts(o) => o.emit(buf, next_header),
            ExtHeaderRepr::Routing(r) => r.emit(buf, next_header),
            ExtHeaderRepr::Fragment(f) => f.emit(buf, next_header),
            ExtHeaderRepr::Raw { bytes, .. } => {
                let n = self.buffer_len()?;
                if buf.len() < n {
                    return Err(WireError::truncated(
                        "IPv6 extension output buffer",
                        n,
                        buf.len(),
                    ));
                }
                buf[..n].copy_from_slice(bytes);
                buf[0] = next_header;
                Ok(n)
            }
        }
    }

    /// Read a header found by the walker: options, routing and fragment decoded, others raw.
    pub fn parse(h: &ExtHeader<'_>) -> Result<ExtHeaderRepr, WireError> {
        Ok(match h.kind {
            ExtKind::HopByHop => ExtHeaderRepr::HopByHop(OptionsRepr::parse(h.bytes)?),
            ExtKind::DestOpts => ExtHeaderRepr::DestOpts(OptionsRepr::parse(h.bytes)?),
            ExtKind::Routing => ExtHeaderRepr::Routing(RoutingRepr::parse(h.bytes)?),
            ExtKind::Fragment => {
                ExtHeaderRepr::Fragment(FragmentRepr::parse(&FragmentHeader::new_checked(h.bytes)?))
            }
            k => ExtHeaderRepr::Raw {
                protocol: k.protocol(),
                bytes: h.bytes.to_vec(),
            },
        })
    }
}

/// Bytes the chain `exts` takes.
pub fn ext_chain_len(exts: &[ExtHeaderRepr]) -> Result<usize, WireError> {
    exts.iter().map(ExtHeaderRepr::buffer_len).sum()
}

/// The next header the fixed header carries for `exts` in front of `upper`.
pub fn first_header(exts: &[ExtHeaderRepr], upper: u8) -> u8 {
    exts.first().map_or(upper, ExtHeaderRepr::protocol)
}

/// Write the chain `exts` (in order) ending in `upper` into the start of `buf`; returns its
/// length.
pub fn emit_ext_chain(
    exts: &[ExtHeaderRepr],
    upper: u8,
    buf: &mut [u8],
) -> Result<usize, WireError> {
    let mut at = 0;
    for (i, e) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map_or(upper, ExtHeaderRepr::protocol);
        let n = buf.len();
        at += e.emit(&mut buf[at.min(n)..], next)?;
    }
    Ok(at)
}

/// The destination the upper-layer checksum uses for a chain to build: the final destination
/// of the first Routing header with Segments Left above 0, else `dst`.
pub fn final_destination_of(dst: Ipv6Addr, exts: &[ExtHeaderRepr]) -> Ipv6Addr {
    for e in exts {
        if let ExtHeaderRepr::Routing(r) = e {
            if r.segments_left() == 0 {
                continue;
            }
            match r {
                RoutingRepr::Type0 { addresses, .. } => {
                    if let Some(a) = addresses.last() {
                        return *a;
                    }
                }
                RoutingRepr::Srh(s) => {
                    if let Some(a) = s.segments.first() {
                        return *a;
                    }
                }
                RoutingRepr::Raw { .. } => {}
            }
        }
    }
    dst
}
