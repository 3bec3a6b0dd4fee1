//! Completing the next hop: one trait for neighbour discovery (ARP for IPv4; NDP joins it).

use crate::link::path::{self, Path};
use crate::wire::MacAddr;

/// How a session learns the next hop's link-layer address on the wire, for paths of type `P`
/// (IPv4's [`Path`]; IPv6's [`super::Path6`] with [`super::Ndp`]).
pub trait Neighbours<P = Path> {
    /// The frame that asks for `path`'s next hop (an ARP request, or a Neighbor Solicitation).
    fn solicitation(&self, path: &P) -> Vec<u8>;
    /// The next hop's MAC when `frame` answers that solicitation on the path's VLAN stack.
    fn answer(&self, path: &P, frame: &[u8]) -> Option<MacAddr>;
}

/// ARP (RFC 826): a broadcast request, the reply from the next hop's address.
#[derive(Debug, Clone, Copy, Default)]
pub struct Arp;

impl Neighbours for Arp {
    fn solicitation(&self, path: &Path) -> Vec<u8> {
        path::arp_request(path)
    }

    fn answer(&self, path: &Path, frame: &[u8]) -> Option<MacAddr> {
        path::arp_answer(path, frame)
    }
}
