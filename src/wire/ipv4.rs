//! IPv4 header (RFC 791) with options and deliberate-lie overrides.

use std::net::Ipv4Addr;

use pnet_packet::ipv4::{Ipv4Packet as PnetIpv4, MutableIpv4Packet as PnetIpv4Mut};

use super::ipopt::{options_len, parse_options, write_options, IpOption, IpOptions};
use super::{checksum, WireError};

/// IP protocol number of ICMP.
pub const IP_PROTO_ICMP: u8 = 1;
/// Length of an IPv4 header without options.
pub const IPV4_MIN_HEADER_LEN: usize = 20;
/// Largest fragment offset (13 bits, in 8-byte units).
pub const MAX_FRAG_OFFSET: u16 = 0x1fff;

/// Byte ranges of the IPv4 header (RFC 791 3.1).
pub mod field {
    use std::ops::Range;
    /// Version (high nibble) and IHL (low nibble).
    pub const VER_IHL: usize = 0;
    /// Type of service (DSCP + ECN).
    pub const TOS: usize = 1;
    /// Total length.
    pub const LENGTH: Range<usize> = 2..4;
    /// Identification.
    pub const IDENT: Range<usize> = 4..6;
    /// Flags (3 bits) and fragment offset (13 bits).
    pub const FLG_OFF: Range<usize> = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: Range<usize> = 10..12;
    /// Source address.
    pub const SRC: Range<usize> = 12..16;
    /// Destination address.
    pub const DST: Range<usize> = 16..20;
    /// Where the options start (the end of the fixed header).
    pub const OPTIONS: usize = 20;
}

/// Flag bits and the offset mask of the flags/fragment-offset word.
const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;

/// A borrowed view of an IPv4 datagram, in the style of smoltcp's `Packet<T: AsRef<[u8]>>`.
///
/// [`new_checked`](Self::new_checked) validates the version, the IHL against the bytes present
/// and against the total length; after it no accessor panics. The total length may exceed the
/// bytes present (a datagram quoted in an ICMP error): [`payload`](Self::payload) is clamped.
/// Fixed fields are read through `pnet_packet`'s `Ipv4Packet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wrap `buffer` without checking it: accessors panic when it is under 20 bytes, and the
    /// slices ([`options`](Self::options), [`payload`](Self::payload)) are clamped to it.
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wrap `buffer` after checking it. Errors: fewer than 20 bytes or than IHL×4, version ≠ 4,
    /// IHL < 5, total length smaller than the header.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let p = Ipv4Packet { buffer };
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), WireError> {
        let bytes = self.buffer.as_ref();
        if bytes.len() < IPV4_MIN_HEADER_LEN {
            return Err(WireError::truncated(
                "IPv4",
                IPV4_MIN_HEADER_LEN,
                bytes.len(),
            ));
        }
        let version = self.version();
        if version != 4 {
            return Err(WireError::malformed(
                "IPv4",
                format!("version field is {version}, expected 4"),
            ));
        }
        let ihl = self.ihl();
        if ihl < 5 {
            return Err(WireError::malformed(
                "IPv4",
                format!(
                    "IHL field is {ihl} ({} bytes), below the minimum 5 (20 bytes)",
                    ihl * 4
                ),
            ));
        }
        let hl = self.header_len();
        if bytes.len() < hl {
            return Err(WireError::truncated("IPv4 header", hl, bytes.len()));
        }
        let total_len = self.total_len();
        if usize::from(total_len) < hl {
            return Err(WireError::malformed(
                "IPv4",
                format!("total length field {total_len} is smaller than the header length {hl}"),
            ));
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// All the bytes the view was made over.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    #[inline]
    fn pnet(&self) -> PnetIpv4<'_> {
        PnetIpv4::new(self.buffer.as_ref())
            .expect("Ipv4Packet made with new_unchecked over fewer than 20 bytes")
    }

    /// Version field (4).
    #[inline]
    pub fn version(&self) -> u8 {
        self.pnet().get_version()
    }
    /// IHL field (header length in 32-bit words).
    #[inline]
    pub fn ihl(&self) -> u8 {
        self.pnet().get_header_length()
    }
    /// Header length in bytes (IHL × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }
    /// Type of service byte.
    #[inline]
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }
    /// Total length field.
    #[inline]
    pub fn total_len(&self) -> u16 {
        self.pnet().get_total_length()
    }
    /// Identification.
    #[inline]
    pub fn ident(&self) -> u16 {
        self.pnet().get_identification()
    }
    /// The whole flags/fragment-offset word.
    #[inline]
    pub fn flags_and_offset(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::FLG_OFF.start], b[field::FLG_OFF.start + 1]])
    }
    /// The reserved ("evil") bit.
    pub fn reserved_flag(&self) -> bool {
        self.flags_and_offset() & FLAG_RESERVED != 0
    }
    /// Don't fragment.
    pub fn dont_fragment(&self) -> bool {
        self.flags_and_offset() & FLAG_DF != 0
    }
    /// More fragments.
    pub fn more_fragments(&self) -> bool {
        self.flags_and_offset() & FLAG_MF != 0
    }
    /// Fragment offset in 8-byte units.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        self.pnet().get_fragment_offset()
    }
    /// Whether this is a fragment (more-fragments set or a non-zero offset).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.flags_and_offset() & (FLAG_MF | MAX_FRAG_OFFSET) != 0
    }
    /// Time to live.
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.pnet().get_ttl()
    }
    /// Protocol number.
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.pnet().get_next_level_protocol().0
    }
    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        self.pnet().get_checksum()
    }
    /// Source address.
    #[inline]
    pub fn src(&self) -> Ipv4Addr {
        self.pnet().get_source()
    }
    /// Destination address.
    #[inline]
    pub fn dst(&self) -> Ipv4Addr {
        self.pnet().get_destination()
    }
    /// The header bytes (IHL × 4, clamped to the buffer).
    pub fn header(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..self.header_len().min(b.len())]
    }
    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum(self.header()) == 0
    }
    /// The option area (bytes 20 .. IHL × 4).
    pub fn options(&self) -> &[u8] {
        self.header().get(field::OPTIONS..).unwrap_or(&[])
    }
    /// The options, one borrowed view at a time.
    pub fn option_iter(&self) -> IpOptions<'_> {
        IpOptions::new(self.options())
    }
    /// The payload: after the header, up to the total length, clamped to the bytes present
    /// (trailing Ethernet padding is cut; a quoted datagram is usually cut short).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.total_len()).min(b.len());
        b.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<'a> Ipv4Packet<&'a [u8]> {
    /// The payload (as [`payload`](Self::payload) bounds it), borrowed for the buffer's lifetime.
    pub fn into_payload(self) -> &'a [u8] {
        let end = usize::from(self.total_len()).min(self.buffer.len());
        self.buffer.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    #[inline]
    fn pnet_mut(&mut self) -> PnetIpv4Mut<'_> {
        PnetIpv4Mut::new(self.buffer.as_mut())
            .expect("Ipv4Packet made with new_unchecked over fewer than 20 bytes")
    }
    /// Set the time to live.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.pnet_mut().set_ttl(ttl);
    }
    /// Set the identification.
    pub fn set_ident(&mut self, id: u16) {
        self.pnet_mut().set_identification(id);
    }
    /// Set the source address.
    pub fn set_src(&mut self, a: Ipv4Addr) {
        self.pnet_mut().set_source(a);
    }
    /// Set the destination address.
    pub fn set_dst(&mut self, a: Ipv4Addr) {
        self.pnet_mut().set_destination(a);
    }
    /// Set the total length field.
    pub fn set_total_len(&mut self, len: u16) {
        self.pnet_mut().set_total_length(len);
    }
    /// Set the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        self.pnet_mut().set_checksum(c);
    }
    /// Compute and write the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum(self.header());
        self.set_checksum(c);
    }
    /// The payload (as [`payload`](Self::payload) bounds it), writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (hl, tl) = (self.header_len(), usize::from(self.total_len()));
        let b = self.buffer.as_mut();
        let end = tl.min(b.len());
        b.get_mut(hl..end).unwrap_or(&mut [])
    }
}

/// An IPv4 header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Ipv4Repr {
    /// Type of service / DSCP+ECN byte.
    pub tos: u8,
    /// Identification.
    pub id: u16,
    /// The reserved ("evil") flag bit.
    pub reserved_flag: bool,
    /// Don't fragment.
    pub dont_fragment: bool,
    /// More fragments.
    pub more_fragments: bool,
    /// Fragment offset in 8-byte units (13 bits, at most 8191).
    pub frag_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Payload protocol (1 = ICMP).
    pub protocol: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Options, padded with EOL to a multiple of 4 bytes on emit (at most 40 bytes).
    pub options: Vec<IpOption>,
    /// Write this IHL (5..=15) instead of the real one; the header layout is unchanged.
    pub ihl_override: Option<u8>,
    /// Write this total length instead of header + payload.
    pub total_len_override: Option<u16>,
    /// Write this checksum instead of the computed one.
    pub checksum_override: Option<u16>,
}

/// A parsed IPv4 header plus the on-wire values the [`Ipv4Repr`] does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ParsedIpv4 {
    /// The header (options parsed, overrides `None`).
    pub repr: Ipv4Repr,
    /// Header length in bytes (IHL × 4).
    pub header_len: usize,
    /// Total length field.
    pub total_len: u16,
    /// Checksum field.
    pub checksum: u16,
    /// Whether the checksum field is right for the header bytes.
    pub checksum_ok: bool,
}

impl Ipv4Repr {
    /// A header with defaults: TTL 64, id 0, no flags, no options, no overrides.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8) -> Ipv4Repr {
        Ipv4Repr {
            tos: 0,
            id: 0,
            reserved_flag: false,
            dont_fragment: false,
            more_fragments: false,
            frag_offset: 0,
            ttl: 64,
            protocol,
            src,
            dst,
            options: Vec::new(),
            ihl_override: None,
            total_len_override: None,
            checksum_override: None,
        }
    }

    /// Bytes [`emit`](Self::emit) writes: 20 + options padded to 4; `Limit` over 60.
    /// (An `ihl_override` changes only the field, not this length.)
    pub fn header_len(&self) -> Result<usize, WireError> {
        Ok(IPV4_MIN_HEADER_LEN + options_len(&self.options)?)
    }

    /// Write the header into the start of `buf` for a payload of `payload_len` bytes; returns the
    /// header length. Checksum is computed over the written header unless overridden.
    ///
    /// Errors: options over 40 bytes, fragment offset over 8191, IHL override over 15 (an
    /// override below 5 or below the header with options is written as given, the header
    /// whole), total length over 65535, `buf` too short.
    pub fn emit(&self, buf: &mut [u8], payload_len: usize) -> Result<usize, WireError> {
        let hl = self.header_len()?;
        if self.frag_offset > MAX_FRAG_OFFSET {
            return Err(WireError::Limit(format!(
                "IPv4 fragment offset {} does not fit its 13-bit field (at most {MAX_FRAG_OFFSET}, \
                 in 8-byte units)",
                self.frag_offset
            )));
        }
        let ihl = match self.ihl_override {
            Some(v) if v > 15 => {
                return Err(WireError::Limit(format!(
                    "IPv4 IHL {v} does not fit its 4-bit field (at most 15 = 60 bytes)"
                )))
            }
            // Below 5 or below the header with options: out of spec but encodable, so the
            // field says what was asked and the header is written whole.
            Some(v) => v,
            None => (hl / 4) as u8,
        };
        let total = match self.total_len_override {
            Some(t) => t,
            None => u16::try_from(hl + payload_len).map_err(|_| {
                WireError::Limit(format!(
                    "IPv4 total length {} exceeds 65535 (header {hl} + payload {payload_len})",
                    hl + payload_len
                ))
            })?,
        };
        if buf.len() < hl {
            return Err(WireError::truncated("IPv4 output buffer", hl, buf.len()));
        }
        let h = &mut buf[..hl];
        h[field::VER_IHL] = 0x40 | ihl;
        h[field::TOS] = self.tos;
        h[field::LENGTH].copy_from_slice(&total.to_be_bytes());
        h[field::IDENT].copy_from_slice(&self.id.to_be_bytes());
        let flags = if self.reserved_flag { FLAG_RESERVED } else { 0 }
            | if self.dont_fragment { FLAG_DF } else { 0 }
            | if self.more_fragments { FLAG_MF } else { 0 }
            | self.frag_offset;
        h[field::FLG_OFF].copy_from_slice(&flags.to_be_bytes());
        h[field::TTL] = self.ttl;
        h[field::PROTOCOL] = self.protocol;
        h[field::CHECKSUM].fill(0);
        h[field::SRC].copy_from_slice(&self.src.octets());
        h[field::DST].copy_from_slice(&self.dst.octets());
        write_options(&self.options, &mut h[field::OPTIONS..])?;
        let ck = match self.checksum_override {
            Some(c) => c,
            None => checksum(h),
        };
        h[field::CHECKSUM].copy_from_slice(&ck.to_be_bytes());
        Ok(hl)
    }

    /// Read the header from a checked view (options parsed, overrides `None`). The payload is
    /// [`Ipv4Packet::payload`].
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<ParsedIpv4, WireError> {
        let repr = Ipv4Repr {
            tos: packet.tos(),
            id: packet.ident(),
            reserved_flag: packet.reserved_flag(),
            dont_fragment: packet.dont_fragment(),
            more_fragments: packet.more_fragments(),
            frag_offset: packet.frag_offset(),
            ttl: packet.ttl(),
            protocol: packet.protocol(),
            src: packet.src(),
            dst: packet.dst(),
            options: parse_options(packet.options()),
            ihl_override: None,
            total_len_override: None,
            checksum_override: None,
        };
        Ok(ParsedIpv4 {
            repr,
            header_len: packet.header_len(),
            total_len: packet.total_len(),
            checksum: packet.checksum(),
            checksum_ok: packet.verify_checksum(),
        })
    }

    /// Parse an IPv4 header from bytes. Returns it and the payload: clamped to the total length
    /// and to the bytes present (a datagram quoted in an ICMP error is usually cut short: not an
    /// error). Errors as [`Ipv4Packet::new_checked`].
    pub fn parse_bytes(bytes: &[u8]) -> Result<(ParsedIpv4, &[u8]), WireError> {
        let packet = Ipv4Packet::new_checked(bytes)?;
        Ok((Ipv4Repr::parse(&packet)?, packet.into_payload()))
    }
}

impl ParsedIpv4 {
    /// Whether this datagram is a fragment (more-fragments set or a non-zero offset).
    pub fn is_fragment(&self) -> bool {
        self.repr.more_fragments || self.repr.frag_offset != 0
    }
}

/// Prefix length of a contiguous mask (None for e.g. 255.0.255.0).
pub fn mask_prefix(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let ones = m.leading_ones();
    (m.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::be16;
    use crate::wire::ipopt::tests::arb_options;
    use crate::wire::testutil::hex;
    use proptest::prelude::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// IPv4 header of a real echo reply to `ping -R` (captured), options in ipopt's test.
    /// (The options are those captured on the wire.)
    const RR_REPLY_HDR: &str = "4f00007c 22890000 3e01b23f cb007102 c0000202";

    #[test]
    fn parse_captured_rr_reply() {
        let mut b = hex(RR_REPLY_HDR);
        b.extend(hex(crate::wire::ipopt::tests::RR_REPLY_WIRE_OPTS));
        b.extend(vec![0xab; 64]); // ICMP (not checked here)
        let (p, payload) = Ipv4Repr::parse_bytes(&b).unwrap();
        assert_eq!(p.header_len, 60);
        assert_eq!(p.total_len, 124);
        assert!(p.checksum_ok);
        assert_eq!(p.checksum, 0xb23f);
        assert_eq!(payload.len(), 64);
        let r = &p.repr;
        assert_eq!((r.ttl, r.protocol, r.id), (62, 1, 0x2289));
        assert_eq!((r.src, r.dst), (ip("203.0.113.2"), ip("192.0.2.2")));
        assert!(!r.dont_fragment);
        assert_eq!(r.options.len(), 2);
        assert_eq!(r.options[0].recorded().len(), 7);
        // Re-emitting reproduces the header byte for byte (checksum recomputed = same).
        let mut out = [0u8; 60];
        assert_eq!(r.emit(&mut out, 64).unwrap(), 60);
        assert_eq!(&out[..], &b[..60]);
    }

    #[test]
    fn emit_defaults_and_overrides() {
        let mut r = Ipv4Repr::new(ip("192.0.2.2"), ip("203.0.113.2"), IP_PROTO_ICMP);
        r.id = 0x1234;
        r.dont_fragment = true;
        let mut b = [0u8; 20];
        assert_eq!(r.emit(&mut b, 64).unwrap(), 20);
        assert_eq!(&b[..10], &hex("4500 0054 1234 4000 4001")[..]);
        assert_eq!(checksum(&b), 0);
        assert_eq!(
            pnet_packet::ipv4::checksum(&pnet_packet::ipv4::Ipv4Packet::new(&b).unwrap()),
            be16(&b, 10)
        );

        r.checksum_override = Some(0xbeef);
        r.total_len_override = Some(9);
        r.ihl_override = Some(7);
        r.emit(&mut b, 64).unwrap();
        assert_eq!(&b[10..12], &[0xbe, 0xef]);
        assert_eq!(&b[2..4], &[0, 9]);
        assert_eq!(b[0], 0x47);
    }

    #[test]
    fn emit_errors_name_the_field() {
        let mut r = Ipv4Repr::new(ip("192.0.2.2"), ip("203.0.113.2"), 1);
        let mut b = [0u8; 60];
        r.frag_offset = 8192;
        let e = r.emit(&mut b, 0).unwrap_err().to_string();
        assert!(
            e.contains("fragment offset 8192") && e.contains("8191"),
            "{e}"
        );
        r.frag_offset = 8191;
        r.more_fragments = true;
        r.emit(&mut b, 0).unwrap();
        assert_eq!(&b[6..8], &[0x3f, 0xff]);

        // Out of spec but encodable: the field says so, the header is whole.
        r.ihl_override = Some(4);
        assert_eq!(r.emit(&mut b, 0).unwrap(), 20);
        assert_eq!(b[0], 0x44);
        r.ihl_override = Some(16);
        assert!(r.emit(&mut b, 0).unwrap_err().to_string().contains("4-bit"));
        r.options = vec![IpOption::record_route(2).unwrap()]; // 11 → 12 bytes
        r.ihl_override = Some(7);
        assert_eq!(r.emit(&mut b, 0).unwrap(), 32);
        assert_eq!(b[0], 0x47);
        r.ihl_override = None;
        let e = r.emit(&mut b, 65504).unwrap_err().to_string();
        assert!(e.contains("65536 exceeds 65535"), "{e}");
        let e = r.emit(&mut b[..31], 0).unwrap_err();
        assert!(matches!(
            e,
            WireError::Truncated {
                needed: 32,
                got: 31,
                ..
            }
        ));
        r.options = vec![
            IpOption::record_route(9).unwrap(),
            IpOption::Nop,
            IpOption::Nop,
        ];
        assert!(matches!(r.header_len(), Err(WireError::Limit(_))));
    }

    #[test]
    fn parse_errors() {
        let good = hex("45000054 12344000 40010000 c0000202 cb007102");
        assert!(matches!(
            Ipv4Repr::parse_bytes(&good[..19]),
            Err(WireError::Truncated {
                layer: "IPv4",
                needed: 20,
                got: 19
            })
        ));
        let mut b = good.clone();
        b[0] = 0x44;
        assert!(Ipv4Repr::parse_bytes(&b)
            .unwrap_err()
            .to_string()
            .contains("IHL field is 4"));
        b[0] = 0x65;
        assert!(Ipv4Repr::parse_bytes(&b)
            .unwrap_err()
            .to_string()
            .contains("version field is 6"));
        b[0] = 0x46;
        assert!(matches!(
            Ipv4Repr::parse_bytes(&b),
            Err(WireError::Truncated {
                needed: 24,
                got: 20,
                ..
            })
        ));
        let mut b = good.clone();
        b[2..4].copy_from_slice(&[0, 19]);
        assert!(Ipv4Repr::parse_bytes(&b)
            .unwrap_err()
            .to_string()
            .contains("total length field 19"));
        // Short total length vs bytes present: payload clamps to what is there.
        let (p, pl) = Ipv4Repr::parse_bytes(&good).unwrap();
        assert!(!p.checksum_ok);
        assert_eq!(p.total_len, 84);
        assert!(pl.is_empty());
        // Trailing Ethernet padding is cut by the total length.
        let mut b = good.clone();
        b[2..4].copy_from_slice(&[0, 22]);
        b.extend([1, 2, 3, 4]);
        assert_eq!(Ipv4Repr::parse_bytes(&b).unwrap().1, &[1, 2][..]);
    }

    pub(crate) fn arb_ipv4() -> impl Strategy<Value = Ipv4Repr> {
        (
            any::<(u8, u16, bool, bool, bool)>(),
            (
                0u16..=8191,
                any::<u8>(),
                any::<u8>(),
                any::<u32>(),
                any::<u32>(),
            ),
            arb_options(),
        )
            .prop_map(|((tos, id, rf, df, mf), (fo, ttl, proto, s, d), options)| {
                Ipv4Repr {
                    tos,
                    id,
                    reserved_flag: rf,
                    dont_fragment: df,
                    more_fragments: mf,
                    frag_offset: fo,
                    ttl,
                    protocol: proto,
                    src: Ipv4Addr::from(s),
                    dst: Ipv4Addr::from(d),
                    options,
                    ihl_override: None,
                    total_len_override: None,
                    checksum_override: None,
                }
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok((p, pl)) = Ipv4Repr::parse_bytes(&bytes) {
                prop_assert!(p.header_len + pl.len() <= bytes.len());
            }
        }

        #[test]
        fn round_trip(r in arb_ipv4(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let hl = r.header_len().unwrap();
            let mut b = vec![0u8; hl + payload.len()];
            prop_assert_eq!(r.emit(&mut b, payload.len()).unwrap(), hl);
            b[hl..].copy_from_slice(&payload);
            let (p, pl) = Ipv4Repr::parse_bytes(&b).unwrap();
            prop_assert!(p.checksum_ok);
            prop_assert_eq!(pl, &payload[..]);
            let mut got = p.repr.clone();
            let raw: usize = r.options.iter().map(IpOption::wire_len).sum();
            if raw < hl - 20 {
                prop_assert_eq!(got.options.pop(), Some(IpOption::EndOfList));
            }
            prop_assert_eq!(got, r);
        }
    }
}
