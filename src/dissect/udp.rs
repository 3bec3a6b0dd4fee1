//! UDP, read through [`UdpPacket`]; the checksum verified over the IPv4 pseudo-header when
//! every byte it covers is present.

use std::net::IpAddr;

use super::{data_node, undecoded, Node, Status};
use crate::wire::field::udp as field;
use crate::wire::udp::UDP_HEADER_LEN;
use crate::wire::UdpPacket;

/// Dissect UDP at `at..end` sent from `src` to `dst`. `unverifiable`: why the checksum gets no
/// verdict (a quote, a first fragment, a datagram cut short), if so.
pub(super) fn dissect(
    b: &[u8],
    at: usize,
    end: usize,
    unverifiable: Option<&str>,
    quoted: bool,
    (src, dst): (IpAddr, IpAddr),
    layers: &mut Vec<Node>,
) {
    let m = &b[at..end];
    let (key, name) = if quoted {
        ("icmp.quote.udp", "Quoted UDP header")
    } else {
        ("udp", "User Datagram Protocol")
    };
    if m.len() < 4 {
        if !m.is_empty() {
            layers.push(undecoded(
                at,
                m,
                &format!("UDP header needs {UDP_HEADER_LEN} bytes, got {}", m.len()),
            ));
        }
        return;
    }
    let ports = |n: &mut Node| {
        let (s, d) = (
            u16::from_be_bytes([m[0], m[1]]),
            u16::from_be_bytes([m[2], m[3]]),
        );
        n.value = format!("{s} → {d}");
        n.push(Node::new(
            "udp.srcport",
            "Source port",
            s.to_string(),
            at,
            2,
        ));
        n.push(Node::new(
            "udp.dstport",
            "Destination port",
            d.to_string(),
            at + field::DST_PORT.start,
            2,
        ));
    };
    let mut n = Node::new(key, name, "", at, m.len().min(UDP_HEADER_LEN));
    ports(&mut n);
    let Ok(v) = UdpPacket::new_checked(m) else {
        layers.push(n);
        // Fewer than 8 bytes: a quote cut after the ports is normal; in a datagram it is not.
        if !quoted {
            layers.push(undecoded(
                at + 4,
                &m[4..],
                &format!("UDP header needs {UDP_HEADER_LEN} bytes, got {}", m.len()),
            ));
        }
        return;
    };
    let len = v.len_field();
    let mut len_node = Node::new(
        "udp.length",
        "Length",
        len.to_string(),
        at + field::LENGTH.start,
        2,
    );
    if usize::from(len) < UDP_HEADER_LEN {
        len_node = len_node.malformed(format!("length {len} is below the 8-byte header"));
    } else if !quoted && usize::from(len) != m.len() && unverifiable.is_none() {
        len_node = len_node.malformed(format!(
            "length {len} is not the {} bytes the IP datagram carries",
            m.len()
        ));
    }
    n.push(len_node);
    let ck = v.checksum();
    let mut ck_node = Node::new(
        "udp.checksum",
        "Checksum",
        format!("0x{ck:04x}"),
        at + field::CHECKSUM.start,
        2,
    );
    if ck == 0 {
        ck_node.value.push_str(" (none)");
    } else if let Some(why) = unverifiable {
        ck_node.value.push_str(&format!(" (not verifiable: {why})"));
    } else {
        let verdict = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => v
                .verify_checksum(s, d)
                .map(|ok| (ok, v.right_checksum(s, d))),
            (IpAddr::V6(s), IpAddr::V6(d)) => v.verify_checksum_v6(s, d).map(|ok| {
                let mut z = m.to_vec();
                let mut c = UdpPacket::new_unchecked(&mut z[..]);
                c.fill_checksum_v6(s, d);
                (ok, c.checksum())
            }),
            _ => None,
        };
        if let Some((ok, right)) = verdict {
            ck_node = ck_node.with(if ok {
                Status::Good
            } else {
                Status::Bad {
                    expected: format!("0x{right:04x}"),
                }
            });
        }
    }
    n.push(ck_node);
    layers.push(n);
    if m.len() > UDP_HEADER_LEN {
        let mut d = data_node(b, at + UDP_HEADER_LEN, end);
        if quoted {
            d.key = "icmp.quote.data".into();
        }
        layers.push(d);
    }
}
