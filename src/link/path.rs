//! Completing a path on a link: the next hop's MAC from the overrides, the kernel's neighbour
//! cache, or an ARP request sent and answered on the link.

use std::time::{Duration, Instant};

use crate::link::Link;
use crate::net::neigh;
use crate::net::resolve::{group_mac, PathRequest, Plan};
use crate::wire::{build_arp_frame, parse_frame, ArpRepr, MacAddr, L3};
use crate::{Error, Result};

/// A complete path: everything needed to build the Ethernet + IPv4 headers.
#[derive(Debug, Clone)]
pub struct Path {
    /// Interface, addresses and next hop.
    pub plan: Plan,
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination (next hop's MAC).
    pub dst_mac: MacAddr,
}

/// Complete a plan with MAC addresses: overrides first, then the kernel's neighbour cache, then
/// an ARP request sent and answered on `link`.
pub fn complete(plan: Plan, req: &PathRequest, link: &mut dyn Link) -> Result<Path> {
    let src_mac = req.src_mac.or(plan.iface.mac).unwrap_or(MacAddr::zero());
    let dst_mac = if let Some(m) = req.dst_mac {
        m
    } else if plan.iface.is_loopback {
        MacAddr::zero()
    } else if let Some(m) = group_mac(plan.next_hop, &plan.iface) {
        m
    } else if let Some(m) = neigh::lookup(&plan.iface.name, plan.next_hop) {
        m
    } else {
        arp_resolve(link, &plan, src_mac, req.arp_timeout)?
    };
    Ok(Path {
        plan,
        src_mac,
        dst_mac,
    })
}

/// A path whose next hop's MAC is not known yet (frames would go to the broadcast address
/// until an ARP reply says otherwise).
pub fn unresolved(plan: Plan, req: &PathRequest) -> Path {
    Path {
        src_mac: req.src_mac.or(plan.iface.mac).unwrap_or(MacAddr::zero()),
        dst_mac: MacAddr::broadcast(),
        plan,
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
    build_arp_frame(path.src_mac, MacAddr::broadcast(), &request)
}

/// The MAC `frame` gives for `path`'s next hop, if it is an ARP reply from it.
pub fn arp_answer(path: &Path, frame: &[u8]) -> Option<MacAddr> {
    match parse_frame(frame).ok()?.l3 {
        L3::Arp(arp) if arp.op == 2 && arp.sender_ip == path.plan.next_hop => Some(arp.sender_mac),
        _ => None,
    }
}

/// Send ARP requests for `plan.next_hop` and wait for the answer, retrying every 250 ms.
fn arp_resolve(
    link: &mut dyn Link,
    plan: &Plan,
    src_mac: MacAddr,
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
    let frame = build_arp_frame(src_mac, MacAddr::broadcast(), &request);
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
            if let Ok(f) = parse_frame(rx.data) {
                if let L3::Arp(arp) = f.l3 {
                    if arp.op == 2 && arp.sender_ip == plan.next_hop {
                        return Ok(arp.sender_mac);
                    }
                }
            }
        }
    }
}
