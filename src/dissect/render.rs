//! Text forms of a dissection: the indented tree, a one-line summary (tcpdump-like) and a hex
//! dump with the tree beside it.

use super::{Dissection, Node, Status};
use crate::wire::{parse_frame, IcmpMessage, L3, L4};

/// The tree, one field per line, children indented: `Time to live: 64`, checksums with
/// `[good]` or `[BAD, should be 0x....]`, malformed fields with `[MALFORMED: why]`, fields that
/// break a rule of their RFC with `[WARNING: why]`.
pub fn render_text(d: &Dissection) -> Vec<String> {
    let mut out = Vec::new();
    for l in &d.layers {
        node_lines(l, 0, true, &mut out);
    }
    out
}

fn node_lines(n: &Node, depth: usize, layer: bool, out: &mut Vec<String>) {
    let mark = match &n.status {
        Status::Plain => String::new(),
        Status::Good => " [good]".into(),
        Status::Bad { expected } => format!(" [BAD, should be {expected}]"),
        Status::Malformed { reason } => format!(" [MALFORMED: {reason}]"),
        Status::Warning { reason } => format!(" [WARNING: {reason}]"),
    };
    let indent = "    ".repeat(depth);
    if layer {
        out.push(format!(
            "{indent}{}: {} (bytes {}..{}){mark}",
            n.name,
            n.value,
            n.offset,
            n.offset + n.len
        ));
    } else {
        out.push(format!("{indent}{}: {}{mark}", n.name, n.value));
    }
    for c in &n.children {
        // Nested layers (a quoted datagram's header) are shown as layers again.
        let is_layer = matches!(
            c.key.as_str(),
            "icmp.quote.ip"
                | "icmp.quote.icmp"
                | "icmp.quote.data"
                | "icmp.quote.udp"
                | "icmp.quote.tcp"
                | "icmpv6.quote.ipv6"
                | "icmpv6.quote.icmpv6"
                | "icmpv6.quote.data"
                | "ipv6.hopopts"
                | "ipv6.dstopts"
                | "ipv6.routing"
                | "ipv6.fraghdr"
                | "ah"
                | "esp"
                | "undecoded"
        );
        node_lines(c, depth + 1, is_layer, out);
    }
}

/// One line per frame, as tcpdump prints it, e.g.
/// `IP 192.0.2.2 > 203.0.113.2: ICMP echo request, id 6762, seq 1, length 64`.
pub fn summary(bytes: &[u8]) -> String {
    let f = match parse_frame(bytes) {
        Ok(f) => f,
        Err(e) => return format!("malformed frame ({} bytes): {e}", bytes.len()),
    };
    let vlan: String = f
        .eth
        .vlans
        .iter()
        .map(|t| format!("vlan {}, ", t.vid()))
        .collect();
    if f.eth.ethertype == crate::wire::ETHERTYPE_IPV6 {
        // IPv6 has no parsed form in `L3`: the tcpdump-style renderer walks it.
        let line = super::OneLine::new(false, false).ethernet(bytes, bytes.len());
        return format!("{vlan}{line}");
    }
    match f.l3 {
        L3::Arp(a) => match a.op {
            1 => format!(
                "{vlan}ARP, Request who-has {} tell {}, length {}",
                a.target_ip,
                a.sender_ip,
                bytes.len()
            ),
            2 => format!(
                "{vlan}ARP, Reply {} is-at {}, length {}",
                a.sender_ip,
                a.sender_mac,
                bytes.len()
            ),
            op => format!("{vlan}ARP, opcode {op}, length {}", bytes.len()),
        },
        L3::Other(_) => format!(
            "{} > {}, {vlan}ethertype 0x{:04x}, length {}",
            f.eth.src,
            f.eth.dst,
            f.eth.ethertype,
            bytes.len()
        ),
        L3::Ipv4 { ip, l4 } => {
            let r = &ip.repr;
            let mut s = format!("{vlan}IP {} > {}: ", r.src, r.dst);
            let ip_len = usize::from(ip.total_len).saturating_sub(ip.header_len);
            match l4 {
                L4::Icmp(p) => {
                    s.push_str(&icmp_summary(&p.repr.message, p.describe()));
                    s.push_str(&format!(", length {ip_len}"));
                    // Only a whole message can be verified (not one cut by the capture, not
                    // a first fragment).
                    let whole = f.eth.header_len() + usize::from(ip.total_len) <= bytes.len()
                        && !r.more_fragments;
                    if whole && !p.checksum_ok {
                        s.push_str(" (bad ICMP cksum)");
                    }
                }
                L4::Malformed { error, .. } => s.push_str(&format!("ICMP malformed: {error}")),
                L4::Other(_) => {
                    if ip.is_fragment() {
                        s.push_str(&format!(
                            "ip-proto-{} fragment offset {}, length {ip_len}",
                            r.protocol,
                            usize::from(r.frag_offset) * 8
                        ));
                    } else {
                        s.push_str(&format!("ip-proto-{}, length {ip_len}", r.protocol));
                    }
                }
            }
            s.push_str(&format!(" (ttl {}, id {}", r.ttl, r.id));
            if r.dont_fragment {
                s.push_str(", DF");
            }
            if !ip.checksum_ok {
                s.push_str(", bad IP cksum");
            }
            s.push(')');
            let opts: Vec<String> = r
                .options
                .iter()
                .filter(|o| !matches!(o, crate::wire::IpOption::EndOfList))
                .map(|o| o.to_string())
                .collect();
            if !opts.is_empty() {
                s.push_str(&format!(" [{}]", opts.join("; ")));
            }
            s
        }
    }
}

fn icmp_summary(m: &IcmpMessage, describe: String) -> String {
    use IcmpMessage::*;
    match m {
        EchoRequest { id, seq, .. } => format!("ICMP echo request, id {id}, seq {seq}"),
        EchoReply { id, seq, .. } => format!("ICMP echo reply, id {id}, seq {seq}"),
        TimestampRequest { id, seq, .. } => format!("ICMP time stamp query, id {id}, seq {seq}"),
        TimestampReply { id, seq, .. } => format!("ICMP time stamp reply, id {id}, seq {seq}"),
        AddressMaskRequest { id, seq, .. } => {
            format!("ICMP address mask request, id {id}, seq {seq}")
        }
        AddressMaskReply { id, seq, mask } => {
            format!("ICMP address mask is {mask}, id {id}, seq {seq}")
        }
        _ if m.is_error() => {
            let mut s = format!("ICMP {describe}");
            if let Some(Ok(q)) = m.quote() {
                s.push_str(&format!(
                    " (quoting {} > {} proto {}",
                    q.ip.repr.src, q.ip.repr.dst, q.ip.repr.protocol
                ));
                if let Some((id, seq)) = q.echo_id_seq() {
                    s.push_str(&format!(" echo id {id} seq {seq}"));
                }
                s.push(')');
            }
            s
        }
        _ => format!("ICMP {describe}"),
    }
}

/// A hex dump, 16 bytes a row with offsets, and the dissection tree beside it.
pub fn hexdump_beside(bytes: &[u8], tree: &[String]) -> String {
    let rows: Vec<String> = bytes
        .chunks(16)
        .enumerate()
        .map(|(i, c)| {
            let h: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
            let (a, b) = h.split_at(h.len().min(8));
            format!("{:04x}  {:<23}  {:<23}", i * 16, a.join(" "), b.join(" "))
        })
        .collect();
    let n = rows.len().max(tree.len());
    let mut out = String::new();
    for i in 0..n {
        let left = rows.get(i).map(String::as_str).unwrap_or("");
        match tree.get(i) {
            Some(t) => out.push_str(&format!("{left:<54}  │ {t}\n")),
            None => out.push_str(&format!("{left}\n")),
        }
    }
    out
}
