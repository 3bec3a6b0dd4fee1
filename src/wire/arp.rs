//! ARP for Ethernet + IPv4 (RFC 826).

use std::net::Ipv4Addr;

use super::ether::mac_at;
use super::{be16, ip_at, ser_mac, MacAddr, WireError};

/// ARP operation: request.
pub const ARP_REQUEST: u16 = 1;
/// ARP operation: reply.
pub const ARP_REPLY: u16 = 2;

/// Byte ranges of an Ethernet/IPv4 ARP packet (RFC 826).
pub mod field {
    use std::ops::Range;
    /// Hardware type (1 = Ethernet).
    pub const HTYPE: Range<usize> = 0..2;
    /// Protocol type (0x0800 = IPv4).
    pub const PTYPE: Range<usize> = 2..4;
    /// Hardware address length (6).
    pub const HLEN: usize = 4;
    /// Protocol address length (4).
    pub const PLEN: usize = 5;
    /// Operation.
    pub const OPER: Range<usize> = 6..8;
    /// Sender hardware address.
    pub const SHA: Range<usize> = 8..14;
    /// Sender protocol address.
    pub const SPA: Range<usize> = 14..18;
    /// Target hardware address.
    pub const THA: Range<usize> = 18..24;
    /// Target protocol address.
    pub const TPA: Range<usize> = 24..28;
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ArpRepr {
    /// Operation: 1 request, 2 reply (other values are kept as they are).
    pub op: u16,
    /// Sender hardware address.
    #[serde(serialize_with = "ser_mac")]
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (zero in a request).
    #[serde(serialize_with = "ser_mac")]
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// Length of an Ethernet/IPv4 ARP packet.
    pub const BUFFER_LEN: usize = 28;

    /// A who-has request for `target_ip`.
    pub fn request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> ArpRepr {
        ArpRepr {
            op: ARP_REQUEST,
            sender_mac,
            sender_ip,
            target_mac: MacAddr::zero(),
            target_ip,
        }
    }

    /// Parse an ARP packet; anything but hardware type 1 (Ethernet, 6-byte addresses) with
    /// protocol type 0x0800 (IPv4, 4-byte addresses) is `Malformed`.
    pub fn parse(bytes: &[u8]) -> Result<ArpRepr, WireError> {
        if bytes.len() < Self::BUFFER_LEN {
            return Err(WireError::truncated("ARP", Self::BUFFER_LEN, bytes.len()));
        }
        let (htype, ptype, hlen, plen) = (
            be16(bytes, field::HTYPE.start),
            be16(bytes, field::PTYPE.start),
            bytes[field::HLEN],
            bytes[field::PLEN],
        );
        if htype != 1 || ptype != 0x0800 || hlen != 6 || plen != 4 {
            return Err(WireError::malformed(
                "ARP",
                format!(
                    "only Ethernet/IPv4 ARP is understood (hardware type 1, protocol 0x0800, \
                     lengths 6/4); got hardware type {htype}, protocol {ptype:#06x}, lengths {hlen}/{plen}"
                ),
            ));
        }
        Ok(ArpRepr {
            op: be16(bytes, field::OPER.start),
            sender_mac: mac_at(bytes, field::SHA.start),
            sender_ip: ip_at(bytes, field::SPA.start),
            target_mac: mac_at(bytes, field::THA.start),
            target_ip: ip_at(bytes, field::TPA.start),
        })
    }

    /// Always [`BUFFER_LEN`](Self::BUFFER_LEN).
    pub fn buffer_len(&self) -> usize {
        Self::BUFFER_LEN
    }

    /// Write the packet into the start of `buf`; returns its length. `Truncated` when `buf`
    /// is shorter than 28 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        if buf.len() < Self::BUFFER_LEN {
            return Err(WireError::truncated(
                "ARP output buffer",
                Self::BUFFER_LEN,
                buf.len(),
            ));
        }
        buf[field::HTYPE].copy_from_slice(&1u16.to_be_bytes());
        buf[field::PTYPE].copy_from_slice(&0x0800u16.to_be_bytes());
        buf[field::HLEN] = 6;
        buf[field::PLEN] = 4;
        buf[field::OPER].copy_from_slice(&self.op.to_be_bytes());
        buf[field::SHA].copy_from_slice(&self.sender_mac.octets());
        buf[field::SPA].copy_from_slice(&self.sender_ip.octets());
        buf[field::THA].copy_from_slice(&self.target_mac.octets());
        buf[field::TPA].copy_from_slice(&self.target_ip.octets());
        Ok(Self::BUFFER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::hex;

    #[test]
    fn request_bytes_and_round_trip() {
        let a = ArpRepr::request(
            MacAddr::new(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8),
            Ipv4Addr::new(192, 0, 2, 2),
            Ipv4Addr::new(192, 0, 2, 1),
        );
        let mut b = [0u8; 28];
        a.emit(&mut b).unwrap();
        assert_eq!(
            &b[..],
            &hex("0001 0800 06 04 0001 72b6fa7b54a8 c0000202 000000000000 c0000201")[..]
        );
        assert_eq!(ArpRepr::parse(&b).unwrap(), a);
        assert!(matches!(
            ArpRepr::parse(&b[..27]),
            Err(WireError::Truncated { needed: 28, .. })
        ));
        let mut bad = b;
        bad[2] = 0x86;
        bad[3] = 0xdd; // protocol 0x86dd
        let e = ArpRepr::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("protocol 0x86dd"), "{e}");
    }
}
