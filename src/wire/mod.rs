//! Bytes ↔ typed values for Ethernet, ARP, IPv4 (with options) and ICMP. No I/O here.
//!
//! Each layer has a plain `Repr` value with `parse`, `emit` and a length method, in the style of
//! smoltcp. Parsing is bounds-checked everywhere and never panics; building refuses what the
//! headers cannot hold, with messages that name the limit.

pub mod arp;
pub mod ether;
pub mod frame;
pub mod icmp;
pub mod ipopt;
pub mod ipv4;

pub use arp::*;
pub use ether::*;
pub use frame::*;
pub use icmp::*;
pub use ipopt::*;
pub use ipv4::*;

/// A MAC address: pnet's `pnet_base::MacAddr`, the type `pnet_packet::ethernet` uses.
/// (`pnet_packet::util` does not re-export it in 0.35; `pnet_datalink` does.)
pub use pnet_datalink::MacAddr;

/// Error building or parsing a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
pub enum WireError {
    /// Fewer bytes than the layer needs.
    #[error("{layer} truncated: needs {needed} bytes, got {got}")]
    Truncated {
        layer: &'static str,
        needed: usize,
        got: usize,
    },
    /// A field holds a value that cannot be right.
    #[error("malformed {layer}: {detail}")]
    Malformed { layer: &'static str, detail: String },
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
        assert!(s.len() % 2 == 0, "odd hex length");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
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
