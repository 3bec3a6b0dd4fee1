//! The link-level prefix of a one-line summary, as `tcpdump -e` prints it: MAC addresses, the
//! outer EtherType, the frame's length, then every VLAN tag of the stack with its priority.

use std::fmt::Write as _;

use crate::wire::EthernetFrame;

/// tcpdump's name of an EtherType.
fn ethertype_name(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x86dd => "IPv6",
        0x8100 => "802.1Q",
        0x88a8 => "802.1Q-QinQ",
        0x9100 => "802.1Q-9100",
        0x8035 => "Reverse ARP",
        0x88cc => "LLDP",
        0x8847 => "MPLS unicast",
        0x8848 => "MPLS multicast",
        0x8863 => "PPPoE D",
        0x8864 => "PPPoE S",
        _ => "Unknown",
    }
}

/// `src > dst, ethertype 802.1Q (0x8100), length 102: vlan 100, p 3, ethertype IPv4
/// (0x0800), ` and the rest of [`summary`](super::summary) after it, without its own
/// protocol word (`IP `, `ARP, `) or VLAN prefix, as `tcpdump -e -n` prints a frame.
pub fn summary_link(bytes: &[u8]) -> String {
    let rest = super::summary(bytes);
    let Ok(f) = EthernetFrame::new_checked(bytes) else {
        return rest;
    };
    let mut s = String::with_capacity(rest.len() + 96);
    let outer = f.outer_ethertype();
    let _ = write!(
        s,
        "{} > {}, ethertype {} (0x{outer:04x}), length {}: ",
        f.src(),
        f.dst(),
        ethertype_name(outer),
        bytes.len()
    );
    let mut tags = f.tags().peekable();
    while let Some(t) = tags.next() {
        let next = tags.peek().map_or(f.ethertype(), |n| n.tpid);
        let _ = write!(s, "vlan {}, p {}, ", t.vid(), t.pcp());
        if t.dei() {
            s.push_str("DEI, ");
        }
        let _ = write!(s, "ethertype {} (0x{next:04x}), ", ethertype_name(next));
    }
    let mut body = rest.as_str();
    while let Some(r) = body.strip_prefix("vlan ") {
        body = r.split_once(", ").map_or("", |x| x.1);
    }
    let body = body
        .strip_prefix("IP ")
        .or_else(|| body.strip_prefix("ARP, "))
        .unwrap_or(body);
    if f.tag_count() == 0 && s.ends_with(": ") && !matches!(f.ethertype(), 0x0800 | 0x0806) {
        // An EtherType the summary has no decoder for: tcpdump stops after the header.
        s.truncate(s.len() - 2);
        return s;
    }
    s.push_str(body);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{self, hex};

    #[test]
    fn vlan_stacks_like_tcpdump_e() {
        let plain = hex(testutil::RR_REQUEST);
        let mut qinq = plain[..12].to_vec();
        qinq.extend_from_slice(&[0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x30, 0x14]);
        qinq.extend_from_slice(&plain[12..]);
        let line = summary_link(&qinq);
        assert!(
            line.contains(&format!(
                ", ethertype 802.1Q-QinQ (0x88a8), length {}: vlan 200, p 0, ethertype 802.1Q \
                 (0x8100), vlan 20, p 1, DEI, ethertype IPv4 (0x0800), 192.0.2.2 > ",
                qinq.len()
            )),
            "{line}"
        );
        let line = summary_link(&plain);
        assert!(
            line.contains(", ethertype IPv4 (0x0800), length "),
            "{line}"
        );
        assert!(!line.contains("IP 192"), "{line}");
        assert!(summary_link(&[0u8; 5]).starts_with("malformed"));
    }
}
