//! IPv6 header (RFC 8200 §3): a borrowed view, a `Repr`, and address helpers (solicited-node
//! multicast, multicast MAC, link-local, documentation prefix).

use std::net::Ipv6Addr;

use pnet_packet::ipv6::Ipv6Packet as PnetIpv6;

use super::{MacAddr, WireError};

/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// Largest flow label (20 bits).
pub const MAX_FLOW_LABEL: u32 = 0xf_ffff;
/// The minimum link MTU every IPv6 link has (RFC 8200 §5).
pub const IPV6_MIN_MTU: usize = 1280;

/// Byte ranges of the IPv6 header.
pub mod field {
    use std::ops::Range;
    /// Version (4 bits), traffic class (8), flow label (20).
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    /// Payload length (everything after the fixed header).
    pub const LENGTH: Range<usize> = 4..6;
    /// Next header.
    pub const NXT_HDR: usize = 6;
    /// Hop limit.
    pub const HOP_LIMIT: usize = 7;
    /// Source address.
    pub const SRC: Range<usize> = 8..24;
    /// Destination address.
    pub const DST: Range<usize> = 24..40;
    /// Where the payload (extension headers or upper layer) starts.
    pub const PAYLOAD: usize = 40;
}

/// A borrowed view of an IPv6 packet, in the style of smoltcp's `Packet<T: AsRef<[u8]>>`.
///
/// [`new_checked`](Self::new_checked) makes sure the 40-byte header is there and the version is
/// 6; after it no accessor panics. The payload length may exceed the bytes present (a packet
/// quoted in an ICMPv6 error): [`payload`](Self::payload) is clamped. Fixed fields are read
/// through `pnet_packet`'s `Ipv6Packet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wrap `buffer` without checking it: accessors panic under 40 bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wrap `buffer` after checking it. Errors: fewer than 40 bytes, version ≠ 6.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let n = buffer.as_ref().len();
        if n < IPV6_HEADER_LEN {
            return Err(WireError::truncated("IPv6", IPV6_HEADER_LEN, n));
        }
        let p = Ipv6Packet { buffer };
        let v = p.version();
        if v != 6 {
            return Err(WireError::malformed(
                "IPv6",
                format!("version field is {v}, expected 6"),
            ));
        }
        Ok(p)
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
    fn pnet(&self) -> PnetIpv6<'_> {
        PnetIpv6::new(self.buffer.as_ref())
            .expect("Ipv6Packet made with new_unchecked over fewer than 40 bytes")
    }

    /// Version field (6).
    pub fn version(&self) -> u8 {
        self.pnet().get_version()
    }
    /// Traffic class (DSCP + ECN).
    pub fn traffic_class(&self) -> u8 {
        self.pnet().get_traffic_class()
    }
    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.pnet().get_flow_label()
    }
    /// Payload length field.
    pub fn payload_len(&self) -> u16 {
        self.pnet().get_payload_length()
    }
    /// Next header field (the first extension header or the upper-layer protocol).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }
    /// Source address.
    pub fn src(&self) -> Ipv6Addr {
        self.pnet().get_source()
    }
    /// Destination address.
    pub fn dst(&self) -> Ipv6Addr {
        self.pnet().get_destination()
    }
    /// The payload by the payload length field, clamped to the bytes present. (A payload
    /// length of 0 with a Jumbo Payload option means "all the bytes": then it is the rest.)
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let pl = usize::from(self.payload_len());
        let end = if pl == 0 {
            b.len()
        } else {
            (field::PAYLOAD + pl).min(b.len())
        };
        &b[field::PAYLOAD..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Set the hop limit.
    pub fn set_hop_limit(&mut self, h: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = h;
    }
    /// Set the next header field.
    pub fn set_next_header(&mut self, n: u8) {
        self.buffer.as_mut()[field::NXT_HDR] = n;
    }
    /// Set the payload length field.
    pub fn set_payload_len(&mut self, l: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&l.to_be_bytes());
    }
    /// Set the destination address.
    pub fn set_dst(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.octets());
    }
}

/// An IPv6 fixed header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Ipv6Repr {
    /// Traffic class (DSCP + ECN).
    pub traffic_class: u8,
    /// Flow label (20 bits; larger is refused on emit).
    pub flow_label: u32,
    /// Next header: the first extension header or the upper-layer protocol.
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Write this payload length instead of the real one.
    pub payload_len_override: Option<u16>,
}

/// A parsed IPv6 header plus the payload length field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ParsedIpv6 {
    /// The header (overrides `None`).
    pub repr: Ipv6Repr,
    /// Payload length field.
    pub payload_len: u16,
}

impl Ipv6Repr {
    /// A header with defaults: hop limit 64, traffic class and flow label 0.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8) -> Ipv6Repr {
        Ipv6Repr {
            traffic_class: 0,
            flow_label: 0,
            next_header,
            hop_limit: 64,
            src,
            dst,
            payload_len_override: None,
        }
    }

    /// Bytes [`emit`](Self::emit) writes (40).
    pub fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Write the header into the start of `buf` for a payload (extension headers included) of
    /// `payload_len` bytes; returns 40. Errors: flow label over 20 bits, payload over 65535
    /// (no jumbograms here), `buf` too short.
    pub fn emit(&self, buf: &mut [u8], payload_len: usize) -> Result<usize, WireError> {
        if self.flow_label > MAX_FLOW_LABEL {
            return Err(WireError::Limit(format!(
                "IPv6 flow label {:#x} does not fit its 20-bit field (at most {MAX_FLOW_LABEL:#x})",
                self.flow_label
            )));
        }
        let pl = match self.payload_len_override {
            Some(l) => l,
            None => u16::try_from(payload_len).map_err(|_| {
                WireError::Limit(format!(
                    "IPv6 payload length {payload_len} exceeds 65535 (the 16-bit field; \
                     jumbograms are not built)"
                ))
            })?,
        };
        if buf.len() < IPV6_HEADER_LEN {
            return Err(WireError::truncated(
                "IPv6 output buffer",
                IPV6_HEADER_LEN,
                buf.len(),
            ));
        }
        let w = (6u32 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label;
        buf[field::VER_TC_FLOW].copy_from_slice(&w.to_be_bytes());
        buf[field::LENGTH].copy_from_slice(&pl.to_be_bytes());
        buf[field::NXT_HDR] = self.next_header;
        buf[field::HOP_LIMIT] = self.hop_limit;
        buf[field::SRC].copy_from_slice(&self.src.octets());
        buf[field::DST].copy_from_slice(&self.dst.octets());
        Ok(IPV6_HEADER_LEN)
    }

    /// Read the header of a checked view.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> ParsedIpv6 {
        ParsedIpv6 {
            repr: Ipv6Repr {
                traffic_class: p.traffic_class(),
                flow_label: p.flow_label(),
                next_header: p.next_header(),
                hop_limit: p.hop_limit(),
                src: p.src(),
                dst: p.dst(),
                payload_len_override: None,
            },
            payload_len: p.payload_len(),
        }
    }

    /// Parse the header at the start of `bytes`; returns it and the payload (clamped as
    /// [`Ipv6Packet::payload`]).
    pub fn parse_bytes(bytes: &[u8]) -> Result<(ParsedIpv6, &[u8]), WireError> {
        let p = Ipv6Packet::new_checked(bytes)?;
        let parsed = Self::parse(&p);
        let pl = Ipv6Packet::new_unchecked(bytes).payload().len();
        Ok((parsed, &bytes[IPV6_HEADER_LEN..IPV6_HEADER_LEN + pl]))
    }
}

/// The solicited-node multicast address of `addr` (RFC 4291 §2.7.1): `ff02::1:ffXX:XXXX` with
/// the low 24 bits of `addr`.
pub fn solicited_node(addr: Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The Ethernet address an IPv6 multicast address maps to (RFC 2464 §7): `33:33` and its low
/// 32 bits. `None` for a non-multicast address.
pub fn multicast_mac(addr: Ipv6Addr) -> Option<MacAddr> {
    if !addr.is_multicast() {
        return None;
    }
    let o = addr.octets();
    Some(MacAddr::new(0x33, 0x33, o[12], o[13], o[14], o[15]))
}

/// Whether `addr` is a unicast link-local address (`fe80::/10`).
pub fn is_link_local(addr: Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

/// Whether `addr` is in the documentation prefix `2001:db8::/32` (RFC 3849).
pub fn is_documentation(addr: Ipv6Addr) -> bool {
    let s = addr.segments();
    s[0] == 0x2001 && s[1] == 0x0db8
}

/// The modified EUI-64 link-local address of `mac` (RFC 4291 appendix A): `fe80::` with the
/// MAC's universal/local bit flipped and `ff:fe` in the middle.
pub fn link_local_from_mac(mac: MacAddr) -> Ipv6Addr {
    let m = mac.octets();
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        u16::from_be_bytes([m[0] ^ 0x02, m[1]]),
        u16::from_be_bytes([m[2], 0xff]),
        u16::from_be_bytes([0xfe, m[3]]),
        u16::from_be_bytes([m[4], m[5]]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::hex;
    use proptest::prelude::*;

    #[test]
    fn header_round_trip_known_bytes() {
        // scapy: IPv6(src="2001:db8:1::2", dst="2001:db8:3::2", tc=0xb8, fl=0x12345, hlim=63, nh=59)
        let b = hex(
            "6b812345 0000 3b 3f 20010db8000100000000000000000002 20010db8000300000000000000000002",
        );
        let p = Ipv6Packet::new_checked(&b[..]).unwrap();
        let r = Ipv6Repr::parse(&p);
        assert_eq!(r.repr.traffic_class, 0xb8);
        assert_eq!(r.repr.flow_label, 0x12345);
        assert_eq!(r.repr.hop_limit, 63);
        assert_eq!(r.repr.next_header, 59);
        assert_eq!(r.repr.src, "2001:db8:1::2".parse::<Ipv6Addr>().unwrap());
        let mut out = [0u8; 40];
        r.repr.emit(&mut out, 0).unwrap();
        assert_eq!(&out[..], &b[..]);
    }

    #[test]
    fn refuses_what_cannot_be_encoded() {
        let mut r = Ipv6Repr::new(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, 59);
        r.flow_label = 0x10_0000;
        let e = r.emit(&mut [0u8; 40], 0).unwrap_err().to_string();
        assert!(e.contains("20-bit"), "{e}");
        r.flow_label = 0;
        assert!(r
            .emit(&mut [0u8; 40], 70000)
            .unwrap_err()
            .to_string()
            .contains("65535"));
        assert!(matches!(
            r.emit(&mut [0u8; 39], 0),
            Err(WireError::Truncated { .. })
        ));
        assert!(Ipv6Packet::new_checked(&[0x45u8; 40][..]).is_err());
        assert!(Ipv6Packet::new_checked(&[0x60u8; 39][..]).is_err());
    }

    #[test]
    fn address_helpers() {
        let a: Ipv6Addr = "2001:db8::1:2:3:4567".parse().unwrap();
        assert_eq!(
            solicited_node(a),
            "ff02::1:ff03:4567".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            multicast_mac(solicited_node(a)),
            Some(MacAddr::new(0x33, 0x33, 0xff, 0x03, 0x45, 0x67))
        );
        assert_eq!(multicast_mac(a), None);
        assert!(is_link_local("fe80::1".parse().unwrap()));
        assert!(is_link_local("febf::1".parse().unwrap()));
        assert!(!is_link_local("fec0::1".parse().unwrap()));
        assert!(is_documentation(a));
        assert_eq!(
            link_local_from_mac(MacAddr::new(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5)),
            "fe80::587f:53ff:fe3d:69e5".parse::<Ipv6Addr>().unwrap()
        );
    }

    proptest! {
        #[test]
        fn round_trip(tc in any::<u8>(), fl in 0u32..=MAX_FLOW_LABEL, nh in any::<u8>(),
                      hl in any::<u8>(), s in any::<u128>(), d in any::<u128>(), pl in any::<u16>()) {
            let r = Ipv6Repr { traffic_class: tc, flow_label: fl, next_header: nh, hop_limit: hl,
                src: Ipv6Addr::from(s), dst: Ipv6Addr::from(d), payload_len_override: None };
            let mut b = [0u8; 40];
            r.emit(&mut b, usize::from(pl)).unwrap();
            let p = Ipv6Repr::parse(&Ipv6Packet::new_checked(&b[..]).unwrap());
            prop_assert_eq!(p.repr, r);
            prop_assert_eq!(p.payload_len, pl);
        }
    }
}
