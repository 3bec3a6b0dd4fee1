//! From a destination to a plan: interface, source address and next hop, as the kernel routes
//! it. [`crate::session::neighbour`] completes a plan with the next hop's MAC.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::net::{iface, route, Interface};
use crate::wire::{MacAddr, VlanStack};
use crate::{Error, Result};

/// What the user asked for: the IP destination on the wire and optional overrides.
#[derive(Debug, Clone)]
pub struct PathRequest {
    /// The address the first frame is sent to at the IP layer (for a source route, the first hop).
    pub dst: Option<Ipv4Addr>,
    /// Send on this interface instead of the routed one.
    pub iface: Option<String>,
    /// The IPv4 source address (may be spoofed).
    pub src: Option<Ipv4Addr>,
    /// The Ethernet source address.
    pub src_mac: Option<MacAddr>,
    /// The Ethernet destination (skips neighbour lookup and ARP).
    pub dst_mac: Option<MacAddr>,
    /// How long to wait for an ARP reply.
    pub arp_timeout: Duration,
    /// VLAN tags every frame of the path carries, outermost first (ARP included); frames
    /// from the path are taken only with this same stack. Empty: untagged.
    pub vlans: VlanStack,
}

/// How long a path waits for an ARP reply unless told otherwise.
pub const DEFAULT_ARP_TIMEOUT: Duration = Duration::from_secs(2);

impl Default for PathRequest {
    /// The routed interface and source, the neighbour cache or ARP (2 s wait) for the MAC.
    fn default() -> Self {
        PathRequest {
            dst: None,
            iface: None,
            src: None,
            src_mac: None,
            dst_mac: None,
            arp_timeout: DEFAULT_ARP_TIMEOUT,
            vlans: VlanStack::EMPTY,
        }
    }
}

/// Where frames go, before the next-hop MAC is known: needs no packet socket.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The interface to send on.
    pub iface: Interface,
    /// IPv4 source address of our frames.
    pub src_ip: Ipv4Addr,
    /// The IP destination on the wire.
    pub dst_ip: Ipv4Addr,
    /// The address whose MAC the frames go to (gateway or the destination itself).
    pub next_hop: Ipv4Addr,
    /// The gateway, if the destination is not on-link.
    pub gateway: Option<Ipv4Addr>,
}

/// Ask the kernel which interface, source and next hop reach `req.dst`.
pub fn plan(req: &PathRequest) -> Result<Plan> {
    let dst = req
        .dst
        .ok_or_else(|| Error::Invalid("no destination address given".into()))?;
    let forced = match &req.iface {
        Some(name) => Some(iface::by_name(name)?),
        None => None,
    };
    let rt = route::lookup(dst, None, forced.as_ref().map(|i| i.index))?;
    let iface = match forced {
        Some(i) => i,
        None => iface::by_index(rt.oif)?,
    };
    if !iface.is_up {
        return Err(Error::Invalid(format!(
            "interface {} is down (bring it up with: ip link set {} up)",
            iface.name, iface.name
        )));
    }
    let src_ip = match req.src {
        Some(s) => s,
        None => rt
            .prefsrc
            .or_else(|| iface.ipv4.first().map(|(a, _)| *a))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "interface {} has no IPv4 address; give a source address",
                    iface.name
                ))
            })?,
    };
    Ok(Plan {
        next_hop: rt.next_hop(dst),
        gateway: rt.gateway,
        iface,
        src_ip,
        dst_ip: dst,
    })
}

/// The MAC of a multicast group (RFC 1112: 01:00:5e + low 23 bits) or of a broadcast address
/// (limited, or the directed broadcast of one of the interface's networks); None for unicast.
pub fn group_mac(ip: Ipv4Addr, iface: &Interface) -> Option<MacAddr> {
    let o = ip.octets();
    if ip.is_multicast() {
        return Some(MacAddr::new(0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]));
    }
    let directed = iface
        .ipv4
        .iter()
        .any(|(a, p)| *p < 31 && (u32::from(*a) | (u32::MAX >> p)) == u32::from(ip));
    (ip.is_broadcast() || directed).then(MacAddr::broadcast)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface() -> Interface {
        Interface {
            name: "t0".into(),
            index: 9,
            mac: None,
            ipv4: vec![("192.0.2.2".parse().unwrap(), 24)],
            mtu: 1500,
            is_up: true,
            is_loopback: false,
        }
    }

    #[test]
    fn group_macs() {
        let i = iface();
        assert_eq!(
            group_mac("224.0.0.2".parse().unwrap(), &i),
            Some(MacAddr::new(1, 0, 0x5e, 0, 0, 2))
        );
        assert_eq!(
            group_mac("239.129.1.2".parse().unwrap(), &i),
            Some(MacAddr::new(1, 0, 0x5e, 1, 1, 2)),
            "only the low 23 bits map"
        );
        assert_eq!(
            group_mac("192.0.2.255".parse().unwrap(), &i),
            Some(MacAddr::broadcast())
        );
        assert_eq!(
            group_mac("255.255.255.255".parse().unwrap(), &i),
            Some(MacAddr::broadcast())
        );
        assert_eq!(group_mac("192.0.2.1".parse().unwrap(), &i), None);
    }
}
