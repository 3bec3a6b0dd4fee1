//! NDP (RFC 4861): completing an IPv6 next hop at L2, as ARP does for IPv4. A Neighbor
//! Solicitation goes to the target's solicited-node multicast address (33:33:ff:xx:xx:xx) with
//! hop limit 255 and our Source Link-Layer Address; the answer is a Neighbor Advertisement for
//! the target with hop limit 255 (anything less crossed a router and is ignored, §7.1.2), its
//! Target Link-Layer Address option or, without one, the frame's source MAC. The kernel's
//! neighbour table is asked first.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant, SystemTime};

use super::neighbour::{refuse_tags_on_lo, source_mac, Neighbours};
use crate::link::capfile::{Packet, PcapWriter, LINKTYPE_ETHERNET};
use crate::link::Link;
use crate::net::neigh;
use crate::net::resolve::{PathRequest, Plan6};
use crate::wire::{
    build_ipv6_frame, is_link_local, multicast_mac, solicited_node, EthernetRepr, Icmpv6Message,
    Icmpv6Repr, Ipv6Packet, Ipv6Repr, L6Repr, MacAddr, NdpOption, VlanStack, ETHERTYPE_IPV6,
    IP_PROTO_ICMPV6,
};
use crate::{Error, Result};

/// The hop limit every NDP message carries and requires (RFC 4861 §7.1).
pub const NDP_HOP_LIMIT: u8 = 255;

/// A complete IPv6 path: everything needed to build the Ethernet + IPv6 headers.
#[derive(Debug, Clone)]
pub struct Path6 {
    /// Interface, addresses and next hop.
    pub plan: Plan6,
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination (the next hop's MAC).
    pub dst_mac: MacAddr,
    /// VLAN tags every frame of the path carries, outermost first.
    pub vlans: VlanStack,
}

impl Path6 {
    /// The Ethernet header of the path's IPv6 frames (its VLAN tags included).
    pub fn ethernet(&self) -> EthernetRepr {
        EthernetRepr {
            dst: self.dst_mac,
            src: self.src_mac,
            vlans: self.vlans,
            ethertype: ETHERTYPE_IPV6,
        }
    }

    /// An IPv6 header from the path's source to its destination carrying `next_header` with
    /// `hop_limit` (traffic class and flow label 0, the payload length computed on build).
    pub fn ipv6(&self, next_header: u8, hop_limit: u8) -> Ipv6Repr {
        Ipv6Repr {
            traffic_class: 0,
            flow_label: 0,
            next_header,
            hop_limit,
            src: self.plan.src_ip,
            dst: self.plan.dst_ip,
            payload_len_override: None,
        }
    }
}

/// Neighbor Discovery: a solicitation to the solicited-node group, the advertisement from the
/// next hop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ndp;

impl Neighbours<Path6> for Ndp {
    fn solicitation(&self, path: &Path6) -> Vec<u8> {
        solicitation(
            path.src_mac,
            &path.vlans,
            ns_source(&path.plan),
            path.plan.next_hop,
        )
    }

    fn answer(&self, path: &Path6, frame: &[u8]) -> Option<MacAddr> {
        advertised_mac(frame, &path.vlans, path.plan.next_hop)
    }
}

/// The source address of our solicitations: one of the interface's own (a spoofed one would
/// teach the neighbour a false mapping), link-local for a link-local target.
fn ns_source(plan: &Plan6) -> Ipv6Addr {
    let ifc = &plan.iface;
    if is_link_local(plan.next_hop) {
        if let Some(a) = ifc.link_local_ipv6() {
            return a;
        }
    }
    if ifc.ipv6.iter().any(|(a, _)| *a == plan.src_ip) {
        return plan.src_ip;
    }
    ifc.global_ipv6()
        .or_else(|| ifc.link_local_ipv6())
        .unwrap_or(plan.src_ip)
}

/// A Neighbor Solicitation for `target` from `src` (`src_mac`), on `vlans`.
pub fn solicitation(
    src_mac: MacAddr,
    vlans: &VlanStack,
    src: Ipv6Addr,
    target: Ipv6Addr,
) -> Vec<u8> {
    let group = solicited_node(target);
    let eth = EthernetRepr {
        dst: multicast_mac(group).expect("a solicited-node address is multicast"),
        src: src_mac,
        vlans: *vlans,
        ethertype: ETHERTYPE_IPV6,
    };
    let ip = Ipv6Repr {
        traffic_class: 0,
        flow_label: 0,
        next_header: IP_PROTO_ICMPV6,
        hop_limit: NDP_HOP_LIMIT,
        src,
        dst: group,
        payload_len_override: None,
    };
    let ns = Icmpv6Repr::new(Icmpv6Message::NeighborSolicitation {
        target,
        options: vec![NdpOption::SourceLinkLayer(src_mac)],
    });
    build_ipv6_frame(&eth, &ip, &[], &L6Repr::Icmpv6(ns)).expect("a solicitation always builds")
}

/// The MAC `frame` gives for `target`: a Neighbor Advertisement for it on exactly `vlans`,
/// hop limit 255, checksum right; its Target Link-Layer Address option, or the frame's source
/// MAC when it has none.
pub fn advertised_mac(frame: &[u8], vlans: &VlanStack, target: Ipv6Addr) -> Option<MacAddr> {
    let eh = vlans.header_len_in(frame)?;
    if frame.get(eh - 2..eh)? != ETHERTYPE_IPV6.to_be_bytes() {
        return None;
    }
    let ip = Ipv6Packet::new_checked(&frame[eh..]).ok()?;
    if ip.hop_limit() != NDP_HOP_LIMIT || ip.next_header() != IP_PROTO_ICMPV6 {
        return None;
    }
    let icmp = Icmpv6Repr::parse_bytes(ip.payload(), ip.src(), ip.dst()).ok()?;
    if !icmp.checksum_ok || icmp.code != 0 {
        return None;
    }
    match icmp.repr.message {
        Icmpv6Message::NeighborAdvertisement {
            target: t, options, ..
        } if t == target => Some(
            options
                .iter()
                .find_map(|o| match o {
                    NdpOption::TargetLinkLayer(m) => Some(*m),
                    _ => None,
                })
                .unwrap_or_else(|| {
                    let s = &frame[6..12];
                    MacAddr::new(s[0], s[1], s[2], s[3], s[4], s[5])
                }),
        ),
        _ => None,
    }
}

/// Complete an IPv6 plan with MAC addresses: overrides first, then a multicast destination's
/// group MAC, the kernel's neighbour table (untagged only), then Neighbor Solicitations sent
/// and answered on `link` within `req.arp_timeout`, each written to `capture` when given.
pub fn complete6(
    plan: Plan6,
    req: &PathRequest,
    link: &mut dyn Link,
    capture: Option<&mut PcapWriter>,
) -> Result<Path6> {
    refuse_tags_on_lo(&plan.iface, req)?;
    let src_mac = source_mac(&plan.iface, req);
    let dst_mac = if let Some(m) = req.dst_mac {
        m
    } else if plan.iface.is_loopback {
        MacAddr::zero()
    } else if let Some(m) = multicast_mac(plan.next_hop) {
        m
    } else if let Some(m) = req
        .vlans
        .is_empty()
        .then(|| neigh::lookup6(plan.iface.index, plan.next_hop))
        .flatten()
    {
        m
    } else {
        resolve(link, &plan, src_mac, &req.vlans, req.arp_timeout, capture)?
    };
    Ok(Path6 {
        plan,
        src_mac,
        dst_mac,
        vlans: req.vlans,
    })
}

/// A path whose next hop's MAC is not known yet: frames go to the next hop's solicited-node
/// group MAC (which it listens to) until an advertisement says otherwise.
pub fn unresolved6(plan: Plan6, req: &PathRequest) -> Path6 {
    Path6 {
        src_mac: source_mac(&plan.iface, req),
        dst_mac: multicast_mac(solicited_node(plan.next_hop))
            .expect("a solicited-node address is multicast"),
        plan,
        vlans: req.vlans,
    }
}

/// Send solicitations for `plan.next_hop` and wait for the advertisement, every 250 ms.
fn resolve(
    link: &mut dyn Link,
    plan: &Plan6,
    src_mac: MacAddr,
    vlans: &VlanStack,
    timeout: Duration,
    mut capture: Option<&mut PcapWriter>,
) -> Result<MacAddr> {
    let frame = solicitation(src_mac, vlans, ns_source(plan), plan.next_hop);
    let start = Instant::now();
    let end = start + timeout;
    let retry = Duration::from_millis(250);
    let mut next_send = start;
    loop {
        let now = Instant::now();
        if now >= end {
            return Err(Error::NdpTimeout {
                target: plan.next_hop,
                iface: plan.iface.name.clone(),
                timeout_ms: timeout.as_millis() as u64,
            });
        }
        if now >= next_send {
            let at = SystemTime::now();
            link.send(&frame)?;
            if let Some(c) = capture.as_deref_mut() {
                c.write(at, &frame)?;
            }
            next_send = now + retry;
        }
        if let Some(rx) = link.recv(next_send.min(end))? {
            let mac = advertised_mac(rx.data, vlans, plan.next_hop);
            if let (Some(_), Some(c)) = (mac, capture.as_deref_mut()) {
                c.write_packet(&Packet {
                    timestamp: rx.timestamp,
                    data: rx.data,
                    wire_len: rx.wire_len,
                    linktype: LINKTYPE_ETHERNET,
                    outgoing: Some(rx.outgoing),
                })?;
            }
            if let Some(mac) = mac {
                return Ok(mac);
            }
        }
    }
}
