//! ARP for Ethernet/IPv4, by the offsets of [`crate::wire::field::arp`]. Shown field by field
//! even when the hardware or protocol type is not Ethernet/IPv4.

use std::ops::Range;

use super::{mac_text, undecoded, Node};
use crate::wire::field::arp as field;
use crate::wire::{be16, ip_at, mac_at, ArpRepr};

const LEN: usize = ArpRepr::BUFFER_LEN;

/// Dissect an Ethernet/IPv4 ARP packet at `at`.
pub(super) fn dissect(b: &[u8], at: usize, layers: &mut Vec<Node>) {
    let mac = |r: Range<usize>| mac_at(b, at + r.start);
    let ip = |r: Range<usize>| ip_at(b, at + r.start);
    let n16 = |r: Range<usize>| be16(b, at + r.start);
    if b.len() < at + LEN {
        layers.push(undecoded(
            at,
            &b[at..],
            &format!("ARP needs {LEN} bytes, got {}", b.len() - at),
        ));
        return;
    }
    let op = n16(field::OPER);
    let opname = match op {
        1 => "request",
        2 => "reply",
        _ => "unknown",
    };
    let mut n = Node::new(
        "arp",
        "Address Resolution Protocol",
        format!("{opname} {} → {}", ip(field::SPA), ip(field::TPA)),
        at,
        LEN,
    );
    n.push(Node::new(
        "arp.hw.type",
        "Hardware type",
        n16(field::HTYPE).to_string(),
        at + field::HTYPE.start,
        field::HTYPE.len(),
    ));
    n.push(Node::new(
        "arp.proto.type",
        "Protocol type",
        format!("0x{:04x}", n16(field::PTYPE)),
        at + field::PTYPE.start,
        field::PTYPE.len(),
    ));
    n.push(Node::new(
        "arp.hw.size",
        "Hardware size",
        b[at + field::HLEN].to_string(),
        at + field::HLEN,
        1,
    ));
    n.push(Node::new(
        "arp.proto.size",
        "Protocol size",
        b[at + field::PLEN].to_string(),
        at + field::PLEN,
        1,
    ));
    n.push(Node::new(
        "arp.opcode",
        "Opcode",
        format!("{op} ({opname})"),
        at + field::OPER.start,
        field::OPER.len(),
    ));
    n.push(Node::new(
        "arp.src.hw_mac",
        "Sender MAC",
        mac_text(mac(field::SHA)),
        at + field::SHA.start,
        field::SHA.len(),
    ));
    n.push(Node::new(
        "arp.src.proto_ipv4",
        "Sender IP",
        ip(field::SPA).to_string(),
        at + field::SPA.start,
        field::SPA.len(),
    ));
    n.push(Node::new(
        "arp.dst.hw_mac",
        "Target MAC",
        mac_text(mac(field::THA)),
        at + field::THA.start,
        field::THA.len(),
    ));
    n.push(Node::new(
        "arp.dst.proto_ipv4",
        "Target IP",
        ip(field::TPA).to_string(),
        at + field::TPA.start,
        field::TPA.len(),
    ));
    layers.push(n);
    if b.len() > at + LEN {
        layers.push(Node::new(
            "eth.padding",
            "Padding",
            format!("{} bytes", b.len() - at - LEN),
            at + LEN,
            b.len() - at - LEN,
        ));
    }
}
