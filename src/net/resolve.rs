//! From a destination to a plan: interface, source address and next hop, as the kernel routes
//! it. [`crate::session::neighbour`] completes a plan with the next hop's MAC.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    /// The IPv6 source address (may be spoofed).
    pub src6: Option<Ipv6Addr>,
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
            src6: None,
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

/// Refuse an interface that is down, saying how to bring it up.
fn require_up(iface: &Interface) -> Result<()> {
    if iface.is_up {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "interface {} is down (bring it up with: ip link set {} up)",
        iface.name, iface.name
    )))
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
    require_up(&iface)?;
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

/// Where IPv6 frames go, before the next-hop MAC is known ([`plan6`]).
#[derive(Debug, Clone)]
pub struct Plan6 {
    /// The interface to send on.
    pub iface: Interface,
    /// IPv6 source address of our frames (the kernel's selection unless given).
    pub src_ip: Ipv6Addr,
    /// The IPv6 destination on the wire.
    pub dst_ip: Ipv6Addr,
    /// The address whose MAC the frames go to (the gateway, or the destination itself).
    pub next_hop: Ipv6Addr,
    /// The gateway (often a router's link-local address), if the destination is not on-link.
    pub gateway: Option<Ipv6Addr>,
}

/// Whether `a` is only meaningful on one link: unicast fe80::/10, or multicast of
/// interface- or link-local scope (ff01::/16, ff02::/16).
pub fn needs_scope(a: Ipv6Addr) -> bool {
    crate::wire::is_link_local(a) || (a.is_multicast() && a.segments()[0] & 0x000f <= 2)
}

/// Parse a destination as users type it: an IPv4 or IPv6 address, an IPv6 link-local one with
/// its scope (`fe80::1%a-r1`, or `%IFINDEX`). Returns the address and the interface the scope
/// names. A scope on any other address is refused, naming the rule.
pub fn parse_scoped(text: &str) -> Result<(IpAddr, Option<String>)> {
    let bad = |why: String| Error::invalid(crate::Field::Destination, why);
    let (addr, scope) = match text.split_once('%') {
        Some((a, s)) => (a, Some(s)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| {
        bad(format!(
            "{text:?} is not an IPv4 or IPv6 address (IPv6: 8 groups of up to 4 hex digits,              \"::\" once; a link-local one may end in %INTERFACE)"
        ))
    })?;
    let Some(scope) = scope else {
        return Ok((ip, None));
    };
    let IpAddr::V6(v6) = ip else {
        return Err(bad(format!(
            "{text:?}: a scope (%{scope}) belongs only to an IPv6 link-local address"
        )));
    };
    if !needs_scope(v6) {
        return Err(bad(format!(
            "{text:?}: a scope (%{scope}) is allowed only on a link-local address \
             (fe80::/10, ff01::/16, ff02::/16); {v6} is global and routed"
        )));
    }
    if scope.is_empty() {
        return Err(bad(format!(
            "{text:?}: the scope after % is empty (name an interface: {v6}%IFACE)"
        )));
    }
    let name = match scope.parse::<u32>() {
        Ok(index) => iface::name_of_index(index).ok_or_else(|| {
            bad(format!(
                "{text:?}: the scope names interface index {index}, which does not exist"
            ))
        })?,
        Err(_) => scope.to_string(),
    };
    Ok((ip, Some(name)))
}

/// Ask the kernel which interface, source and next hop reach the IPv6 destination `dst`
/// (`ip -6 route get`). A link-local destination is sent on `req.iface` (its scope); without
/// one it is refused unless the host has a single interface that is up besides `lo`.
pub fn plan6(dst: Ipv6Addr, req: &PathRequest) -> Result<Plan6> {
    let forced =
        match &req.iface {
            Some(name) => Some(iface::by_name(name)?),
            None if needs_scope(dst) => {
                let up: Vec<Interface> = iface::list()?
                    .into_iter()
                    .filter(|i| i.is_up && !i.is_loopback)
                    .collect();
                if up.len() != 1 {
                    let names: Vec<&str> = up.iter().map(|i| i.name.as_str()).collect();
                    return Err(Error::invalid(
                        crate::Field::Destination,
                        format!(
                        "{dst} is link-local and this host has {} interfaces up ({}): give its \
                         scope, {dst}%IFACE, or the interface with -I",
                        up.len(),
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                    ));
                }
                up.into_iter().next()
            }
            None => None,
        };
    let rt = route::lookup6(dst, None, forced.as_ref().map(|i| i.index))?;
    let iface = match forced {
        Some(i) => i,
        None => iface::by_index(rt.oif)?,
    };
    require_up(&iface)?;
    let src_ip = match req.src6 {
        Some(s) => s,
        None => rt
            .prefsrc
            .or_else(|| {
                if needs_scope(dst) {
                    iface.link_local_ipv6()
                } else {
                    iface.global_ipv6().or_else(|| iface.link_local_ipv6())
                }
            })
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "interface {} has no IPv6 address; give a source address",
                    iface.name
                ))
            })?,
    };
    Ok(Plan6 {
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
            ipv6: Vec::new(),
            mtu: 1500,
            is_up: true,
            is_loopback: false,
        }
    }

    #[test]
    fn scoped_destinations() {
        let (a, s) = parse_scoped("fe80::1%a-r1").unwrap();
        assert_eq!(a, "fe80::1".parse::<IpAddr>().unwrap());
        assert_eq!(s.as_deref(), Some("a-r1"));
        let (a, s) = parse_scoped("ff02::1%veth1").unwrap();
        assert!(a.is_multicast() && s.as_deref() == Some("veth1"));
        assert_eq!(
            parse_scoped("2001:db8:3::2").unwrap(),
            ("2001:db8:3::2".parse().unwrap(), None)
        );
        assert_eq!(
            parse_scoped("192.0.2.1").unwrap(),
            ("192.0.2.1".parse().unwrap(), None)
        );
        assert_eq!(parse_scoped("fe80::1").unwrap().1, None);
        // lo is index 1 in every namespace
        assert_eq!(parse_scoped("fe80::1%1").unwrap().1.as_deref(), Some("lo"));
        for (text, want) in [
            ("2001:db8::1%a-r1", "allowed only on a link-local address"),
            ("ff0e::1%a-r1", "allowed only on a link-local address"),
            ("192.0.2.1%a-r1", "only to an IPv6 link-local"),
            ("fe80::1%", "scope after % is empty"),
            ("fe80::1%999999", "index 999999"),
            ("2001:db8::g", "not an IPv4 or IPv6 address"),
            ("2001:db8:1:2:3:4:5:6:7", "not an IPv4 or IPv6 address"),
            ("", "not an IPv4 or IPv6 address"),
        ] {
            let e = parse_scoped(text).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidValue {
                        field: crate::Field::Destination,
                        ..
                    }
                ),
                "{text}: {e:?}"
            );
            assert!(e.to_string().contains(want), "{text}: {e}");
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
