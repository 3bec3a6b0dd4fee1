//! Bytes ↔ typed values for Ethernet, ARP, IPv4 (with options), ICMP, IPv6 (with extension
//! headers), ICMPv6, UDP and TCP. No I/O here.
//!
//! Each layer has a plain `Repr` value with `parse`, `emit` and a length method, in the style of
//! smoltcp. Parsing is bounds-checked everywhere and never panics; building refuses what the
//! headers cannot hold, with messages that name the limit.

mod arp;
mod ether;
pub mod frag;
pub mod frag6;
mod frame;
pub mod hop;
mod icmp;
pub mod icmpv6;
mod ipopt;
mod ipv4;
mod ipv6;
pub mod ipv6ext;
mod l4;
mod l6;
pub mod names;
pub mod tcp;
pub mod udp;
mod vlan;

pub use arp::*;
pub use ether::*;
pub use frame::*;
pub use icmp::*;
pub use icmpv6::{
    Icmpv6Message, Icmpv6Packet, Icmpv6Repr, NdpOption, ParsedIcmpv6, Quote6, ICMPV6_HEADER_LEN,
    IP_PROTO_ICMPV6,
};
pub use ipopt::*;
pub use ipv4::*;
pub use ipv6::*;
pub use ipv6ext::{ChainEnd, ExtChain, ExtHeaderRepr, ExtKind};
pub use l4::{build_l4_frame_into, L4Repr};
pub use l6::{build_ipv6_frame, build_ipv6_frame_into, build_ipv6_packet_into, L6Repr};
pub use tcp::{TcpOption, TcpPacket, TcpRepr, IP_PROTO_TCP};
pub use udp::{UdpPacket, UdpRepr, IP_PROTO_UDP};
pub use vlan::{Vlan, VlanStack, MAX_VID, MAX_VLAN_TAGS, RESERVED_VID};

/// Every header's field offsets in one place: `field::ipv4::TTL`, `field::ether::ETHERTYPE`...
/// (each header module keeps its own `field`; this names them apart).
pub mod field {
    pub use super::arp::field as arp;
    pub use super::ether::field as ether;
    pub use super::icmp::field as icmp;
    pub use super::icmpv6::field as icmpv6;
    pub use super::ipopt::field as ipopt;
    pub use super::ipv4::field as ipv4;
    pub use super::ipv6::field as ipv6;
    pub use super::tcp::field as tcp;
    pub use super::udp::field as udp;
}

/// A MAC address: pnet's `pnet_base::MacAddr`, the type `pnet_packet::ethernet` uses.
/// (`pnet_packet::util` does not re-export it in 0.35; `pnet_datalink` does.)
pub use pnet_datalink::MacAddr;

/// Error building or parsing a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
pub enum WireError {
    /// Fewer bytes than the layer needs.
    #[error("{layer} truncated: needs {needed} bytes, got {got}")]
    Truncated {
        /// Which layer or field.
        layer: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes there were.
        got: usize,
    },
    /// A field holds a value that cannot be right.
    #[error("malformed {layer}: {detail}")]
    Malformed {
        /// Which layer.
        layer: &'static str,
        /// What is wrong, naming the field.
        detail: String,
    },
    /// A request over a protocol limit; the message names the limit.
    #[error("{0}")]
    Limit(String),
    /// A value given as text (e.g. a MAC address) could not be understood; the message says why.
    #[error("{0}")]
    Invalid(String),
}

impl WireError {
    pub(crate) fn malformed(layer: &'static str, detail: impl Into<String>) -> Self {
        WireError::Malformed {
            layer,
            detail: detail.into(),
        }
    }

    pub(crate) fn truncated(layer: &'static str, needed: usize, got: usize) -> Self {
        WireError::Truncated { layer, needed, got }
    }
}

/// The Internet checksum (RFC 1071) of `data`: one's complement of the one's-complement sum of
/// its 16-bit big-endian words (an odd last byte is padded with zero).
///
/// Over a header whose checksum field holds the right value the result is 0.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]))
            + u64::from(u16::from_be_bytes([c[2], c[3]]))
            + u64::from(u16::from_be_bytes([c[4], c[5]]))
            + u64::from(u16::from_be_bytes([c[6], c[7]]));
    }
    let mut words = chunks.remainder().chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Serialize a MAC address as its `aa:bb:cc:dd:ee:ff` text (pnet's serde feature is off).
pub(crate) fn ser_mac<S: serde::Serializer>(mac: &MacAddr, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(mac)
}

pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn ip_at(b: &[u8], at: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

#[cfg(test)]
pub(crate) mod testutil {
    /// Hex string (whitespace ignored) → bytes.
    pub fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(s.len().is_multiple_of(2), "odd hex length");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    // Frames captured with tshark on a's veth in a private netns lab:
    // a 192.0.2.2 — r1 192.0.2.1/198.51.100.1 — r2 198.51.100.2/203.0.113.1 — b 203.0.113.2
    // (Linux routers, iputils ping 20221126). Ethernet: a = 5a:7f:53:3d:69:e5, r1 = 72:b6:fa:7b:54:a8.

    /// `ping -R -c1 203.0.113.2` echo request from a (NOP + RR, a's address recorded).
    pub const RR_REQUEST: &str =
        "72b6fa7b54a85a7f533d69e508004f00007ce09f4000400167cac0000202cb00710201072708c000\
        020200000000000000000000000000000000000000000000000000000000000000000800e9511a6a\
        0001f802046b000000002f020a0000000000101112131415161718191a1b1c1d1e1f202122232425\
        262728292a2b2c2d2e2f3031323334353637";

    /// Its echo reply as seen on a's interface: RR pointer 32, 7 addresses.
    pub const RR_REPLY: &str =
        "5a7f533d69e572b6fa7b54a808004f00007c228900003e01b23fcb007102c0000202072720c00002\
        02c6336401cb007101cb007102cb007102c6336402c00002010000000000000000000000f1511a6a\
        0001f802046b000000002f020a0000000000101112131415161718191a1b1c1d1e1f202122232425\
        262728292a2b2c2d2e2f3031323334353637";

    /// Echo reply to `ping -T tsonly`: TS len 40, pointer 33, 7 stamps.
    pub const TSONLY_REPLY: &str =
        "5a7f533d69e572b6fa7b54a808004f00007c228a00003e014fb7cb007102c00002024428210001f7\
        cb5401f7cb5401f7cb5401f7cb5401f7cb5401f7cb5401f7cb5400000000000000000000a23e1a6b\
        0001f802046b000000007e140a0000000000101112131415161718191a1b1c1d1e1f202122232425\
        262728292a2b2c2d2e2f3031323334353637";

    /// Echo reply to `ping -T tsandaddr`: 4 pairs, overflow 2.
    pub const TSANDADDR_REPLY: &str =
        "5a7f533d69e572b6fa7b54a808004e000078228b00003e01ca2ecb007102c000020244242521c000\
        020201f7cb59c000020101f7cb59c633640201f7cb59cb00710201f7cb590000962b1a6c0001f802\
        046b000000008a260a0000000000101112131415161718191a1b1c1d1e1f20212223242526272829\
        2a2b2c2d2e2f3031323334353637";

    /// Echo reply to `ping -T tsprespec 192.0.2.1 198.51.100.2 203.0.113.1 203.0.113.2`.
    pub const TSPRESPEC_REPLY: &str =
        "5a7f533d69e572b6fa7b54a808004e000078228c00003e012591cb007102c000020244241d03c000\
        020101f7cb5dc633640201f7cb5dcb00710101f7cb5dcb007102000000000000e0181a6d0001f802\
        046b0000000040380a0000000000101112131415161718191a1b1c1d1e1f20212223242526272829\
        2a2b2c2d2e2f3031323334353637";

    /// Time Exceeded from r1 (192.0.2.1) for `ping -R -t1`: its own header echoes RR, and it quotes
    /// the whole datagram with r1's address already recorded (quoted checksum not updated).
    pub const TIME_EXCEEDED_RR: &str =
        "5a7f533d69e572b6fa7b54a808004fc000c0c67100004001079bc0000201c0000202072710c00002\
        02c0000201c0000201000000000000000000000000000000000000000000000000000b0032fa0000\
        00004f00007ce0a340000101a6c6c0000202cb0071020107270cc0000202c0000201000000000000\
        0000000000000000000000000000000000000000000008005c041a6e0001f802046b00000000bc4b\
        0a0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031\
        323334353637";

    /// Echo request with SSRR [203.0.113.2, 192.0.2.2] sent to r1 (raw socket).
    pub const SSRR_REQUEST: &str =
        "72b6fa7b54a85a7f533d69e50800480000304242000040011e7ec0000202c0000201890b04cb0071\
        02c0000202000800989b535300010001020304050607";

    /// r1's Destination Unreachable code 5 (source route failed) for it: 203.0.113.2 is not on-link.
    pub const SR_FAILED: &str =
        "5a7f533d69e572b6fa7b54a8080045c0004cc67d000040012f70c0000201c00002020305fcfa0000\
        0000480000304242000040011e7ec0000202c0000201890b04cb007102c0000202000800989b5353\
        00010001020304050607";

    /// Echo request with an LSRR whose pointer is 3 (below the minimum 4).
    pub const BAD_LSRR_REQUEST: &str =
        "72b6fa7b54a85a7f533d69e508004700002c4242000040012948c0000202c0000201830703cb0071\
        020008009fa14c4c00020001020304050607";

    /// r1's Parameter Problem for it, pointer 22 = the LSRR's pointer byte.
    pub const PARAM_PROBLEM_LSRR: &str =
        "5a7f533d69e572b6fa7b54a8080045c00048c71b000040012ed6c0000201c00002020c00ddff1600\
        00004700002c4242000040012948c0000202c0000201830703cb0071020008009fa14c4c00020001\
        020304050607";
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checksum_known_header() {
        // RFC 1071 style example: a real IPv4 header (captured), checksum field included → 0.
        let h = testutil::hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
        assert_eq!(checksum(&h), 0);
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0x01]), !0x0100);
    }

    proptest! {
        #[test]
        fn checksum_matches_pnet(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            // pnet returns 0 for empty input, skipword beyond the end means "skip nothing".
            if !data.is_empty() {
                prop_assert_eq!(checksum(&data), pnet_packet::util::checksum(&data, usize::MAX));
            }
        }
    }
}

#[cfg(test)]
mod view_tests;

#[cfg(test)]
mod ipv6_tests;

#[cfg(test)]
mod ipv6_kernel_tests;
