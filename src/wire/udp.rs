//! UDP header (RFC 768): a borrowed view and a `Repr`, the checksum over the IPv4 pseudo-header.

use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_packet::udp::UdpPacket as PnetUdp;

use super::{be16, checksum, WireError};

/// IP protocol number of UDP.
pub const IP_PROTO_UDP: u8 = 17;
/// Length of the UDP header.
pub const UDP_HEADER_LEN: usize = 8;

/// Byte ranges of the UDP header.
pub mod field {
    use std::ops::Range;
    /// Source port.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Length of header + data.
    pub const LENGTH: Range<usize> = 4..6;
    /// Checksum over the pseudo-header, header and data (0: none).
    pub const CHECKSUM: Range<usize> = 6..8;
    /// Where the data starts.
    pub const PAYLOAD: usize = 8;
}

/// The Internet checksum of a transport segment `seg` (its checksum field included as it is)
/// behind the IPv4 pseudo-header of `src`, `dst`, `protocol` (RFC 768, RFC 793 3.1). Over a
/// segment whose checksum field is right the result is 0.
pub fn pseudo_header_checksum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, seg: &[u8]) -> u16 {
    // Sum the pseudo-header and the segment as one's-complement words without copying: the
    // pseudo-header is 12 bytes (an even count), so the segment's words stay aligned.
    let mut sum: u32 = 0;
    for w in src.octets().chunks(2).chain(dst.octets().chunks(2)) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    sum += u32::from(protocol);
    sum += seg.len() as u32 & 0xffff;
    sum += (seg.len() >> 16) as u32;
    // checksum() returns !fold(seg); fold again with our partial sum.
    let seg_sum = u32::from(!checksum(seg));
    sum += seg_sum;
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Internet checksum of an upper-layer packet `seg` (its checksum field included as it is)
/// behind the IPv6 pseudo-header (RFC 8200 §8.1): `src`, `dst` (the final destination), the
/// 32-bit upper-layer length and `next_header`. Over a packet whose checksum field is right the
/// result is 0.
pub fn pseudo_header_checksum_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, seg: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    for w in src.octets().chunks(2).chain(dst.octets().chunks(2)) {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    let len = seg.len() as u64;
    sum += (len >> 16) + (len & 0xffff);
    sum += u64::from(next_header);
    sum += u64::from(!checksum(seg));
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A borrowed view of a UDP datagram, in the style of smoltcp's `Packet<T: AsRef<[u8]>>`.
/// [`new_checked`](Self::new_checked) makes sure the 8-byte header is there; the payload is
/// clamped to the length field and to the bytes present. Fixed fields are read through
/// `pnet_packet`'s `UdpPacket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wrap `buffer` without checking: accessors panic under 8 bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Wrap `buffer`, refusing fewer than 8 bytes.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let n = buffer.as_ref().len();
        if n < UDP_HEADER_LEN {
            return Err(WireError::truncated("UDP", UDP_HEADER_LEN, n));
        }
        Ok(UdpPacket { buffer })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// All the bytes of the view.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    #[inline]
    fn pnet(&self) -> PnetUdp<'_> {
        PnetUdp::new(self.buffer.as_ref())
            .expect("UdpPacket made with new_unchecked over fewer than 8 bytes")
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.pnet().get_source()
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.pnet().get_destination()
    }
    /// Length field (header + data).
    pub fn len_field(&self) -> u16 {
        self.pnet().get_length()
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        self.pnet().get_checksum()
    }
    /// The datagram by its length field, clamped to the bytes present (at least the header).
    pub fn datagram(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.len_field()).clamp(UDP_HEADER_LEN, b.len());
        &b[..end]
    }
    /// The data after the header, clamped as [`datagram`](Self::datagram).
    pub fn payload(&self) -> &[u8] {
        &self.datagram()[field::PAYLOAD..]
    }
    /// Whether the checksum is right behind the pseudo-header of `src`, `dst`. `None` when it
    /// cannot be said: checksum 0 (none sent), or the length field is not the bytes present.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Option<bool> {
        let b = self.buffer.as_ref();
        if self.checksum() == 0 || usize::from(self.len_field()) != b.len() {
            return None;
        }
        Some(pseudo_header_checksum(src, dst, IP_PROTO_UDP, b) == 0)
    }
    /// The checksum this datagram should carry (over the bytes present).
    pub fn right_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let mut copy = self.buffer.as_ref().to_vec();
        copy[field::CHECKSUM].fill(0);
        match pseudo_header_checksum(src, dst, IP_PROTO_UDP, &copy) {
            0 => 0xffff,
            c => c,
        }
    }
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Whether the checksum is right behind the IPv6 pseudo-header of `src` and `dst` (the
    /// final destination). `None` when the length field is not the bytes present; a checksum of
    /// 0 is `Some(false)` (mandatory over IPv6, RFC 8200 §8.1).
    pub fn verify_checksum_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Option<bool> {
        let b = self.buffer.as_ref();
        if usize::from(self.len_field()) != b.len() {
            return None;
        }
        Some(self.checksum() != 0 && pseudo_header_checksum_v6(src, dst, IP_PROTO_UDP, b) == 0)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Compute and write the checksum behind the IPv6 pseudo-header of `src`, `dst` (a computed
    /// 0 is sent as all ones).
    pub fn fill_checksum_v6(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let c = pseudo_header_checksum_v6(src, dst, IP_PROTO_UDP, self.buffer.as_ref());
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }
    /// Set the source port.
    pub fn set_src_port(&mut self, p: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&p.to_be_bytes());
    }
    /// Set the destination port.
    pub fn set_dst_port(&mut self, p: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&p.to_be_bytes());
    }
    /// Set the length field.
    pub fn set_len_field(&mut self, l: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&l.to_be_bytes());
    }
    /// Set the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
    /// Compute and write the checksum behind the pseudo-header of `src`, `dst`.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = pseudo_header_checksum(src, dst, IP_PROTO_UDP, self.buffer.as_ref());
        // RFC 768: a computed 0 is sent as all ones (0 means "no checksum").
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }
    /// The data after the header (all bytes present).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// A UDP datagram to build, or as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Data after the header.
    pub payload: Vec<u8>,
    /// Write this length field instead of 8 + data.
    pub length_override: Option<u16>,
    /// Write this checksum instead of the computed one (0: "no checksum").
    pub checksum_override: Option<u16>,
}

/// A parsed UDP header plus the on-wire values the [`UdpRepr`] does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ParsedUdp {
    /// The datagram (overrides `None`).
    pub repr: UdpRepr,
    /// Length field.
    pub length: u16,
    /// Checksum field.
    pub checksum: u16,
    /// Whether the checksum is right (`None`: none sent, or not all bytes present).
    pub checksum_ok: Option<bool>,
}

impl UdpRepr {
    /// A datagram between two ports with `payload`.
    pub fn new(src_port: u16, dst_port: u16, payload: Vec<u8>) -> Self {
        UdpRepr {
            src_port,
            dst_port,
            payload,
            length_override: None,
            checksum_override: None,
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        UDP_HEADER_LEN + self.payload.len()
    }

    /// Write the datagram into the start of `buf` as sent from `src` to `dst`; returns its
    /// length. Errors: over 65535 bytes (the length field), `buf` too short.
    pub fn emit(&self, buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<usize, WireError> {
        let n = self.buffer_len();
        let len = match self.length_override {
            Some(l) => l,
            None => u16::try_from(n).map_err(|_| {
                WireError::Limit(format!(
                    "UDP length {n} exceeds 65535 (the 16-bit length field: at most 65527 data bytes)"
                ))
            })?,
        };
        if buf.len() < n {
            return Err(WireError::truncated("UDP output buffer", n, buf.len()));
        }
        let mut p = UdpPacket::new_unchecked(&mut buf[..n]);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len_field(len);
        p.payload_mut().copy_from_slice(&self.payload);
        match self.checksum_override {
            Some(c) => p.set_checksum(c),
            None => p.fill_checksum(src, dst),
        }
        Ok(n)
    }

    /// Write the datagram into the start of `buf` as sent over IPv6 from `src` to `dst` (the
    /// final destination); as [`emit`](Self::emit) otherwise.
    pub fn emit_v6(
        &self,
        buf: &mut [u8],
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<usize, WireError> {
        let n = self.emit(buf, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)?;
        if self.checksum_override.is_none() {
            UdpPacket::new_unchecked(&mut buf[..n]).fill_checksum_v6(src, dst);
        }
        Ok(n)
    }

    /// Read a datagram from a checked view sent from `src` to `dst`.
    pub fn parse<T: AsRef<[u8]>>(p: &UdpPacket<T>, src: Ipv4Addr, dst: Ipv4Addr) -> ParsedUdp {
        ParsedUdp {
            repr: UdpRepr::new(p.src_port(), p.dst_port(), p.payload().to_vec()),
            length: p.len_field(),
            checksum: p.checksum(),
            checksum_ok: p.verify_checksum(src, dst),
        }
    }
}

/// Source and destination ports of a UDP or TCP header quoted in an ICMP error (only 8 bytes
/// are guaranteed there, and both headers start with the two ports).
pub fn quoted_ports(b: &[u8]) -> Option<(u16, u16)> {
    b.get(..4)?;
    Some((be16(b, 0), be16(b, 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn pseudo_header_sum_matches_a_copy() {
        // The same sum done the slow way: pseudo-header bytes, then the segment.
        for n in [0usize, 1, 7, 8, 9, 100, 1001] {
            let seg: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let (s, d) = (ip("192.0.2.2"), ip("203.0.113.2"));
            let mut all = Vec::new();
            all.extend_from_slice(&s.octets());
            all.extend_from_slice(&d.octets());
            all.extend_from_slice(&[0, 17]);
            all.extend_from_slice(&(n as u16).to_be_bytes());
            all.extend_from_slice(&seg);
            assert_eq!(
                pseudo_header_checksum(s, d, 17, &seg),
                checksum(&all),
                "n={n}"
            );
        }
    }

    #[test]
    fn malformed_input_never_panics() {
        for n in 0..8 {
            assert!(UdpPacket::new_checked(&[0u8; 8][..n]).is_err());
        }
        // Length field beyond the bytes, and below the header.
        let p = UdpPacket::new_checked(&[0, 1, 0, 2, 0xff, 0xff, 0, 1, 9][..]).unwrap();
        assert_eq!(p.payload(), &[9]);
        assert_eq!(p.verify_checksum(ip("1.2.3.4"), ip("1.2.3.5")), None);
        let p = UdpPacket::new_checked(&[0, 1, 0, 2, 0, 3, 0, 1, 9][..]).unwrap();
        assert_eq!(p.payload(), &[] as &[u8]);
    }

    #[test]
    fn emit_refuses_over_65535() {
        let r = UdpRepr::new(1, 2, vec![0; 65528]);
        let mut buf = vec![0; r.buffer_len()];
        let e = r.emit(&mut buf, ip("1.2.3.4"), ip("1.2.3.5")).unwrap_err();
        assert!(e.to_string().contains("65535"), "{e}");
    }
}
