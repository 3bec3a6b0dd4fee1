//! Completing the next hop: one trait for neighbour discovery (ARP for IPv4; NDP joins it),
//! and the plan completed with MAC addresses: from the request's overrides, the kernel's
//! neighbour cache, or an ARP request sent and answered on the link.

use std::time::{Duration, Instant};

use crate::link::Link;
use crate::net::resolve::{group_mac, PathRequest, Plan};
use crate::net::{neigh, Interface};
use crate::session::Path;
use crate::wire::{build_tagged_arp_frame, ArpRepr, MacAddr, VlanStack, ETHERTYPE_ARP};
use crate::{Error, Result};

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
        arp_request(path)
    }

    fn answer(&self, path: &Path, frame: &[u8]) -> Option<MacAddr> {
        arp_answer(path, frame)
    }
}

/// `lo` carries no VLAN tags: a stack asked for there is refused.
pub(crate) fn refuse_tags_on_lo(iface: &Interface, req: &PathRequest) -> Result<()> {
    if iface.is_loopback && !req.vlans.is_empty() {
        return Err(Error::invalid(
            crate::Field::Vlan,
            format!(
                "cannot be sent on {}: a loopback device carries no VLAN tags",
                iface.name
            ),
        ));
    }
    Ok(())
}

/// The Ethernet source of a path: the request's, else the interface's, else zero (`lo`).
pub(crate) fn source_mac(iface: &Interface, req: &PathRequest) -> MacAddr {
    req.src_mac.or(iface.mac).unwrap_or(MacAddr::zero())
}

/// Complete a plan with MAC addresses: overrides first, then the kernel's neighbour cache, then
/// an ARP request sent and answered on `link`. On a VLAN (`req.vlans` not empty) the kernel's
/// cache, which is the untagged link's, is not asked: ARP goes out and is answered with the
/// same tags. `lo` carries no tags: a stack there is refused.
pub fn complete(plan: Plan, req: &PathRequest, link: &mut dyn Link) -> Result<Path> {
    refuse_tags_on_lo(&plan.iface, req)?;
    let src_mac = source_mac(&plan.iface, req);
    let dst_mac = if let Some(m) = req.dst_mac {
        m
    } else if plan.iface.is_loopback {
        MacAddr::zero()
    } else if let Some(m) = group_mac(plan.next_hop, &plan.iface) {
        m
    } else if let Some(m) = req
        .vlans
        .is_empty()
        .then(|| neigh::lookup(&plan.iface.name, plan.next_hop))
        .flatten()
    {
        m
    } else {
        arp_resolve(link, &plan, src_mac, &req.vlans, req.arp_timeout)?
    };
    Ok(Path {
        plan,
        src_mac,
        dst_mac,
        vlans: req.vlans,
    })
}

/// A path whose next hop's MAC is not known yet (frames would go to the broadcast address
/// until an ARP reply says otherwise).
pub fn unresolved(plan: Plan, req: &PathRequest) -> Path {
    Path {
        src_mac: source_mac(&plan.iface, req),
        dst_mac: MacAddr::broadcast(),
        plan,
        vlans: req.vlans,
    }
}

/// The ARP request frame asking for `path`'s next hop.
pub fn arp_request(path: &Path) -> Vec<u8> {
    let sender_ip = path
        .plan
        .iface
        .ipv4
        .first()
        .map(|(a, _)| *a)
        .unwrap_or(path.plan.src_ip);
    let request = ArpRepr::request(path.src_mac, sender_ip, path.plan.next_hop);
    build_tagged_arp_frame(path.src_mac, MacAddr::broadcast(), &path.vlans, &request)
}

/// The MAC `frame` gives for `path`'s next hop, if it is an ARP reply from it on the path's
/// VLAN stack.
pub fn arp_answer(path: &Path, frame: &[u8]) -> Option<MacAddr> {
    arp_reply_from(frame, &path.vlans, path.plan.next_hop)
}

/// The sender's MAC when `frame` is an ARP reply from `ip` carrying exactly `vlans`.
fn arp_reply_from(frame: &[u8], vlans: &VlanStack, ip: std::net::Ipv4Addr) -> Option<MacAddr> {
    let eh = vlans.header_len_in(frame)?;
    if frame.get(eh - 2..eh)? != ETHERTYPE_ARP.to_be_bytes() {
        return None;
    }
    let arp = ArpRepr::parse(&frame[eh..]).ok()?;
    (arp.op == 2 && arp.sender_ip == ip).then_some(arp.sender_mac)
}

/// Send ARP requests for `plan.next_hop` and wait for the answer, retrying every 250 ms.
fn arp_resolve(
    link: &mut dyn Link,
    plan: &Plan,
    src_mac: MacAddr,
    vlans: &VlanStack,
    timeout: Duration,
) -> Result<MacAddr> {
    // Ask with the interface's own address when it has one: a spoofed sender would teach the
    // neighbour a false mapping.
    let sender_ip = plan
        .iface
        .ipv4
        .first()
        .map(|(a, _)| *a)
        .unwrap_or(plan.src_ip);
    let request = ArpRepr::request(src_mac, sender_ip, plan.next_hop);
    let frame = build_tagged_arp_frame(src_mac, MacAddr::broadcast(), vlans, &request);
    let start = Instant::now();
    let end = start + timeout;
    let retry = Duration::from_millis(250);
    let mut next_send = start;
    loop {
        let now = Instant::now();
        if now >= end {
            return Err(Error::ArpTimeout {
                target: plan.next_hop,
                iface: plan.iface.name.clone(),
                timeout_ms: timeout.as_millis() as u64,
            });
        }
        if now >= next_send {
            link.send(&frame)?;
            next_send = now + retry;
        }
        if let Some(rx) = link.recv(next_send.min(end))? {
            if let Some(mac) = arp_reply_from(rx.data, vlans, plan.next_hop) {
                return Ok(mac);
            }
        }
    }
}
