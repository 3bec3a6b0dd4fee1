//! Ethernet II and its VLAN tag stack (802.1Q, 802.1ad, 0x9100), read through [`EthernetFrame`].

use super::{
    arp, data_node, finish, hex_preview, ipv4, ipv6, mac_text, undecoded, Dissection, Node,
};
use crate::wire::field::ether as field;
use crate::wire::{
    names, EthernetFrame, ETHERNET_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6,
    ETHERTYPE_VLAN,
};

pub(super) fn ethertype_text(t: u16) -> String {
    match names::ethertype_name(t) {
        Some(n) => format!("0x{t:04x} ({n})"),
        None => format!("0x{t:04x}"),
    }
}

/// Dissect a whole Ethernet frame.
pub(super) fn dissect(b: &[u8]) -> Dissection {
    let mut layers = Vec::new();
    if b.len() < ETHERNET_HEADER_LEN {
        layers.push(undecoded(
            0,
            b,
            &format!(
                "Ethernet header needs {ETHERNET_HEADER_LEN} bytes, got {}",
                b.len()
            ),
        ));
        return finish(b.len(), layers);
    }
    let frame = EthernetFrame::new_unchecked(b);
    let (dst, src) = (mac_text(frame.dst()), mac_text(frame.src()));
    let mut eth = Node::new(
        "eth",
        "Ethernet II",
        format!("{src} → {dst}"),
        0,
        ETHERNET_HEADER_LEN,
    );
    eth.push(Node::new(
        "eth.dst",
        "Destination",
        dst,
        field::DST.start,
        field::DST.len(),
    ));
    eth.push(Node::new(
        "eth.src",
        "Source",
        src,
        field::SRC.start,
        field::SRC.len(),
    ));
    eth.push(Node::new(
        "eth.type",
        "Type",
        ethertype_text(frame.outer_ethertype()),
        field::ETHERTYPE.start,
        field::ETHERTYPE.len(),
    ));
    layers.push(eth);
    for tag in frame.tags() {
        // The tag's body follows its TPID; the EtherType after it is the next TPID or the
        // payload's.
        let body = tag.offset + field::ETHERTYPE.len();
        let next_at = body + field::TAG_ETHERTYPE.start;
        let next = u16::from_be_bytes([b[next_at], b[next_at + 1]]);
        let title = if tag.tpid == ETHERTYPE_VLAN {
            "802.1Q Virtual LAN"
        } else {
            "802.1ad Service VLAN"
        };
        let mut v = Node::new(
            "vlan",
            title,
            format!("ID {}, PCP {}", tag.vid(), tag.pcp()),
            body,
            field::TAG_LEN,
        );
        v.push(Node::new(
            "vlan.priority",
            "Priority (PCP)",
            tag.pcp().to_string(),
            body,
            1,
        ));
        v.push(Node::new(
            "vlan.dei",
            "Drop eligible (DEI)",
            u8::from(tag.dei()).to_string(),
            body,
            1,
        ));
        v.push(Node::new(
            "vlan.id",
            "VLAN ID",
            tag.vid().to_string(),
            body,
            field::TAG_TCI.len(),
        ));
        v.push(Node::new(
            "vlan.etype",
            "Type",
            ethertype_text(next),
            next_at,
            field::TAG_ETHERTYPE.len(),
        ));
        layers.push(v);
    }
    // A tag the walk could not finish: the TPID promised 4 more bytes.
    if EthernetFrame::new_checked(b).is_err() {
        let at = frame.header_len();
        layers.push(undecoded(
            at,
            &b[at..],
            "802.1Q tag needs 4 bytes after the Ethernet header",
        ));
        return finish(b.len(), layers);
    }
    let at = frame.header_len();
    match frame.ethertype() {
        t @ (ETHERTYPE_IPV4 | ETHERTYPE_IPV6) => {
            let end = if t == ETHERTYPE_IPV4 {
                ipv4::dissect(b, at, b.len(), 0, &mut layers)
            } else {
                ipv6::dissect(b, at, b.len(), 0, &mut layers)
            };
            if end < b.len() {
                layers.push(Node::new(
                    "eth.padding",
                    "Padding",
                    format!("{} bytes: {}", b.len() - end, hex_preview(&b[end..])),
                    end,
                    b.len() - end,
                ));
            }
        }
        ETHERTYPE_ARP => arp::dissect(b, at, &mut layers),
        _ => {
            if at < b.len() {
                layers.push(data_node(b, at, b.len()));
            }
        }
    }
    finish(b.len(), layers)
}
