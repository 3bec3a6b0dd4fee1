//! IPv4 header fields, read through an unchecked [`Ipv4Packet`] so a malformed header is still
//! shown field by field; the options in `ipopt`, ICMP in `icmp`.

use super::{cksum_status, data_node, icmp, ipopt, tcp, udp, undecoded, Node};
use crate::wire::field::ipv4 as field;
use crate::wire::{
    names, Ipv4Packet, IPV4_MIN_HEADER_LEN, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP,
};

/// Dissect an IPv4 datagram at `at` (its bytes end at `end`) and what it carries, pushing the
/// layers. `depth`: how many ICMP errors quote it (0 = not quoted; inside a quote a total length
/// beyond the bytes is expected). Returns where the datagram ends (by its total length, clamped
/// to `end`).
pub(super) fn dissect(
    b: &[u8],
    at: usize,
    end: usize,
    depth: usize,
    layers: &mut Vec<Node>,
) -> usize {
    let quoted = depth > 0;
    let avail = end - at;
    let (key, name) = if quoted {
        ("icmp.quote.ip", "Quoted IPv4 header")
    } else {
        ("ip", "Internet Protocol Version 4")
    };
    if avail < IPV4_MIN_HEADER_LEN {
        layers.push(undecoded(
            at,
            &b[at..end],
            &format!("IPv4 header needs {IPV4_MIN_HEADER_LEN} bytes, got {avail}"),
        ));
        return end;
    }
    // Unchecked on purpose: a malformed header is shown field by field (20 bytes are there).
    let v = Ipv4Packet::new_unchecked(&b[at..end]);
    let version = v.version();
    let ihl = v.ihl();
    let hl = v.header_len();
    let total = usize::from(v.total_len());
    let mut ip = Node::new(
        key,
        name,
        format!("{} → {}", v.src(), v.dst()),
        at,
        hl.clamp(IPV4_MIN_HEADER_LEN, avail),
    );
    let mut ver = Node::new("ip.version", "Version", version.to_string(), at, 1);
    if version != 4 {
        ver = ver.malformed(format!("version {version}, expected 4"));
    }
    ip.push(ver);
    let mut ihl_node = Node::new(
        "ip.hdr_len",
        "Header length",
        format!("{hl} bytes (IHL {ihl})"),
        at,
        1,
    );
    let mut header_ok = version == 4;
    if ihl < 5 {
        ihl_node = ihl_node.malformed(format!("IHL {ihl} is below the minimum 5 (20 bytes)"));
        header_ok = false;
    } else if hl > avail {
        ihl_node = ihl_node.malformed(format!("header of {hl} bytes, only {avail} present"));
        header_ok = false;
    }
    ip.push(ihl_node);
    let tos = v.tos();
    ip.push(Node::new(
        "ip.dsfield",
        "Type of service",
        format!("0x{tos:02x} (DSCP {}, ECN {})", tos >> 2, tos & 3),
        at + field::TOS,
        1,
    ));
    let mut len_node = Node::new(
        "ip.len",
        "Total length",
        total.to_string(),
        at + field::LENGTH.start,
        field::LENGTH.len(),
    );
    if total < hl.max(IPV4_MIN_HEADER_LEN) {
        len_node = len_node.malformed(format!(
            "smaller than the header ({} bytes)",
            hl.max(IPV4_MIN_HEADER_LEN)
        ));
        header_ok = false;
    } else if total > avail {
        if quoted {
            len_node.value = format!("{total} (quote holds {avail})");
        } else {
            len_node = len_node.malformed(format!("only {avail} bytes present"));
        }
    }
    ip.push(len_node);
    let id = v.ident();
    ip.push(Node::new(
        "ip.id",
        "Identification",
        format!("0x{id:04x} ({id})"),
        at + field::IDENT.start,
        field::IDENT.len(),
    ));
    let ff = v.flags_and_offset();
    let mut names = Vec::new();
    if v.reserved_flag() {
        names.push("reserved");
    }
    if v.dont_fragment() {
        names.push("DF");
    }
    if v.more_fragments() {
        names.push("MF");
    }
    let mut flags = Node::new(
        "ip.flags",
        "Flags",
        format!(
            "0x{:x}{}",
            ff >> 13,
            if names.is_empty() {
                String::new()
            } else {
                format!(" ({})", names.join(", "))
            }
        ),
        at + field::FLG_OFF.start,
        1,
    );
    flags.push(Node::new(
        "ip.flags.rb",
        "Reserved bit",
        ((ff >> 15) & 1).to_string(),
        at + field::FLG_OFF.start,
        1,
    ));
    flags.push(Node::new(
        "ip.flags.df",
        "Don't fragment",
        ((ff >> 14) & 1).to_string(),
        at + field::FLG_OFF.start,
        1,
    ));
    flags.push(Node::new(
        "ip.flags.mf",
        "More fragments",
        ((ff >> 13) & 1).to_string(),
        at + field::FLG_OFF.start,
        1,
    ));
    ip.push(flags);
    let fo = v.frag_offset();
    ip.push(Node::new(
        "ip.frag_offset",
        "Fragment offset",
        format!("{fo} ({} bytes)", usize::from(fo) * 8),
        at + field::FLG_OFF.start,
        2,
    ));
    ip.push(Node::new(
        "ip.ttl",
        "Time to live",
        v.ttl().to_string(),
        at + field::TTL,
        1,
    ));
    let proto = v.protocol();
    ip.push(Node::new(
        "ip.proto",
        "Protocol",
        names::ip_proto_name(proto).map_or(proto.to_string(), |n| format!("{proto} ({n})")),
        at + field::PROTOCOL,
        1,
    ));
    let ck = v.checksum();
    let mut ck_node = Node::new(
        "ip.checksum",
        "Header checksum",
        format!("0x{ck:04x}"),
        at + field::CHECKSUM.start,
        field::CHECKSUM.len(),
    );
    if header_ok || (ihl >= 5 && hl <= avail) {
        ck_node = ck_node.with(cksum_status(
            &b[at..at + hl.max(IPV4_MIN_HEADER_LEN)],
            field::CHECKSUM.start,
        ));
    }
    ip.push(ck_node);
    ip.push(Node::new(
        "ip.src",
        "Source",
        v.src().to_string(),
        at + field::SRC.start,
        field::SRC.len(),
    ));
    ip.push(Node::new(
        "ip.dst",
        "Destination",
        v.dst().to_string(),
        at + field::DST.start,
        field::DST.len(),
    ));
    if ihl > 5 && hl <= avail {
        ip.push(ipopt::options_node(v.options(), at + field::OPTIONS));
    }
    layers.push(ip);
    if !header_ok {
        let from = if ihl >= 5 && hl <= avail {
            at + hl
        } else {
            at + IPV4_MIN_HEADER_LEN
        };
        if from < end {
            layers.push(undecoded(
                from,
                &b[from..end],
                "IPv4 header is malformed: payload not decoded",
            ));
        }
        return end;
    }
    let pend = (at + total).min(end);
    let pstart = at + hl;
    // A transport checksum covers the whole message: no verdict where some of its bytes are
    // not here (a quote, a first fragment, a datagram cut short).
    let unverifiable = if quoted {
        Some("quoted datagram")
    } else if v.more_fragments() {
        Some("first fragment, the rest is in later fragments")
    } else if at + total > end {
        Some("datagram cut short")
    } else {
        None
    };
    if proto == IP_PROTO_ICMP && fo == 0 {
        icmp::dissect(b, pstart, pend, unverifiable, depth, layers);
    } else if (proto == IP_PROTO_UDP || proto == IP_PROTO_TCP) && fo == 0 {
        let l4 = if proto == IP_PROTO_UDP {
            udp::dissect
        } else {
            tcp::dissect
        };
        l4(
            b,
            pstart,
            pend,
            unverifiable,
            quoted,
            (v.src().into(), v.dst().into()),
            layers,
        );
    } else if pstart < pend {
        let mut d = data_node(b, pstart, pend);
        if fo != 0 {
            d.name = "Fragment data".into();
        }
        if quoted {
            d.key = "icmp.quote.data".into();
        }
        layers.push(d);
    }
    pend
}
