//! IPv6: the fixed header read through [`Ipv6Packet`], every extension header found by the one
//! walker ([`ExtChain`]) with its options, routing data or fragment fields, then ICMPv6, UDP or
//! TCP (checksums over the pseudo-header of the final destination). Keys as Wireshark's
//! (`ipv6.hlim`, `ipv6.opt.type`, `ipv6.routing.srh.addr`, `ipv6.fraghdr.offset`, ...).

use std::net::{IpAddr, Ipv6Addr};

use super::{data_node, hex, hex_preview, icmpv6, tcp, udp, undecoded, Node};
use crate::wire::field::ipv6 as field;
use crate::wire::ipv6ext::{
    final_destination, opt, option_may_change, ExtKind, FragmentHeader, OptionAction, OptionIter,
    RoutingHeader, ROUTING_TYPE_0, ROUTING_TYPE_SRH,
};
use crate::wire::{
    names, ChainEnd, ExtChain, Ipv6Packet, IPV6_HEADER_LEN, IP_PROTO_ICMPV6, IP_PROTO_TCP,
    IP_PROTO_UDP,
};

fn proto_text(p: u8) -> String {
    match ExtKind::from_protocol(p) {
        Some(k) => format!("{p} ({})", k.name()),
        None if p == 59 => format!("{p} (No Next Header)"),
        None if p == IP_PROTO_ICMPV6 => format!("{p} (ICMPv6)"),
        None => names::ip_proto_name(p).map_or(p.to_string(), |n| format!("{p} ({n})")),
    }
}

fn addr16(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}

/// Dissect an IPv6 packet at `at..end` and what it carries. `depth` as for the IPv4 dissector
/// (0: not quoted). Returns where the packet ends (40 + payload length, clamped to `end`).
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
        ("icmpv6.quote.ipv6", "Quoted IPv6 header")
    } else {
        ("ipv6", "Internet Protocol Version 6")
    };
    if avail < IPV6_HEADER_LEN {
        layers.push(undecoded(
            at,
            &b[at..end],
            &format!("IPv6 header needs {IPV6_HEADER_LEN} bytes, got {avail}"),
        ));
        return end;
    }
    let v = Ipv6Packet::new_unchecked(&b[at..end]);
    let mut ip = Node::new(
        key,
        name,
        format!("{} → {}", v.src(), v.dst()),
        at,
        IPV6_HEADER_LEN,
    );
    let version = v.version();
    let mut ver = Node::new("ipv6.version", "Version", version.to_string(), at, 1);
    if version != 6 {
        ver = ver.malformed(format!("version {version}, expected 6"));
    }
    ip.push(ver);
    let tc = v.traffic_class();
    let mut tcn = Node::new(
        "ipv6.tclass",
        "Traffic Class",
        format!("0x{tc:02x} (DSCP {}, ECN {})", tc >> 2, tc & 3),
        at,
        2,
    );
    tcn.push(Node::new(
        "ipv6.tclass.dscp",
        "Differentiated Services Codepoint",
        (tc >> 2).to_string(),
        at,
        2,
    ));
    tcn.push(Node::new(
        "ipv6.tclass.ecn",
        "Explicit Congestion Notification",
        (tc & 3).to_string(),
        at + 1,
        1,
    ));
    ip.push(tcn);
    let fl = v.flow_label();
    ip.push(Node::new(
        "ipv6.flow",
        "Flow Label",
        format!("0x{fl:05x}"),
        at + 1,
        3,
    ));
    let plen = usize::from(v.payload_len());
    let mut pl = Node::new(
        "ipv6.plen",
        "Payload Length",
        plen.to_string(),
        at + field::LENGTH.start,
        2,
    );
    let have = avail - IPV6_HEADER_LEN;
    if plen > have {
        if quoted {
            pl.value = format!("{plen} (quote holds {have})");
        } else {
            pl = pl.malformed(format!("only {have} bytes present"));
        }
    }
    ip.push(pl);
    let nxt = v.next_header();
    ip.push(Node::new(
        "ipv6.nxt",
        "Next Header",
        proto_text(nxt),
        at + field::NXT_HDR,
        1,
    ));
    ip.push(Node::new(
        "ipv6.hlim",
        "Hop Limit",
        v.hop_limit().to_string(),
        at + field::HOP_LIMIT,
        1,
    ));
    ip.push(Node::new(
        "ipv6.src",
        "Source Address",
        v.src().to_string(),
        at + field::SRC.start,
        16,
    ));
    ip.push(Node::new(
        "ipv6.dst",
        "Destination Address",
        v.dst().to_string(),
        at + field::DST.start,
        16,
    ));
    layers.push(ip);
    if version != 6 {
        let from = at + IPV6_HEADER_LEN;
        if from < end {
            layers.push(undecoded(
                from,
                &b[from..end],
                "IPv6 header is malformed: payload not decoded",
            ));
        }
        return end;
    }
    let pstart = at + IPV6_HEADER_LEN;
    let pend = (pstart + plen).min(end);
    let payload = &b[pstart..pend];
    let mut chain = ExtChain::new(nxt, payload);
    let mut fragmented = false;
    let mut walked = 0;
    for h in &mut chain {
        match h {
            Ok(h) => {
                walked = h.offset + h.bytes.len();
                let n = ext_node(&h.kind, h.bytes, pstart + h.offset);
                if h.kind == ExtKind::Fragment {
                    let f = FragmentHeader::new_unchecked(h.bytes);
                    fragmented |= !f.is_atomic();
                }
                layers.push(n);
            }
            Err(e) => {
                let from = pstart + walked;
                layers.push(undecoded(from, &b[from..pend], &e.to_string()));
                return pend;
            }
        }
    }
    let Some(stop) = chain.end() else {
        return pend;
    };
    let l4 = pstart + stop.offset();
    let unverifiable = if quoted {
        Some("quoted datagram")
    } else if fragmented {
        Some("fragment, the rest is in other fragments")
    } else if pstart + plen > end {
        Some("datagram cut short")
    } else {
        None
    };
    let fdst = final_destination(v.dst(), nxt, payload);
    match stop {
        ChainEnd::Upper { protocol, .. } if protocol == IP_PROTO_ICMPV6 => {
            icmpv6::dissect(b, l4, pend, unverifiable, depth, (v.src(), fdst), layers);
        }
        ChainEnd::Upper { protocol, .. }
            if protocol == IP_PROTO_UDP || protocol == IP_PROTO_TCP =>
        {
            let f = if protocol == IP_PROTO_UDP {
                udp::dissect
            } else {
                tcp::dissect
            };
            f(
                b,
                l4,
                pend,
                unverifiable,
                quoted,
                (IpAddr::V6(v.src()), IpAddr::V6(fdst)),
                layers,
            );
        }
        ChainEnd::NoNextHeader { .. } => {
            if l4 < pend {
                let mut d = data_node(b, l4, pend);
                d.name = "Data after No Next Header (ignored)".into();
                layers.push(d);
            }
        }
        ChainEnd::Esp { .. } if l4 < pend => {
            let mut e = Node::new(
                "esp",
                "Encapsulating Security Payload",
                format!("{} bytes (encrypted)", pend - l4),
                l4,
                pend - l4,
            );
            if pend - l4 >= 8 {
                e.push(Node::new(
                    "esp.spi",
                    "ESP SPI",
                    format!("0x{}", hex(&b[l4..l4 + 4])),
                    l4,
                    4,
                ));
                e.push(Node::new(
                    "esp.sequence",
                    "ESP Sequence",
                    u32::from_be_bytes([b[l4 + 4], b[l4 + 5], b[l4 + 6], b[l4 + 7]]).to_string(),
                    l4 + 4,
                    4,
                ));
            }
            layers.push(e);
        }
        _ => {
            if l4 < pend {
                let mut d = data_node(b, l4, pend);
                if matches!(stop, ChainEnd::LaterFragment { .. }) {
                    d.name = "Fragment data".into();
                }
                if quoted {
                    d.key = "icmpv6.quote.data".into();
                }
                layers.push(d);
            }
        }
    }
    pend
}

fn ext_node(kind: &ExtKind, h: &[u8], at: usize) -> Node {
    let (key, title) = match kind {
        ExtKind::HopByHop => ("ipv6.hopopts", "IPv6 Hop-by-Hop Option"),
        ExtKind::DestOpts => ("ipv6.dstopts", "Destination Options for IPv6"),
        ExtKind::Routing => ("ipv6.routing", "Routing Header for IPv6"),
        ExtKind::Fragment => ("ipv6.fraghdr", "Fragment Header for IPv6"),
        ExtKind::Ah => ("ah", "Authentication Header"),
        ExtKind::Generic(_) => ("ipv6.ext", kind.name()),
    };
    let mut n = Node::new(
        key,
        title,
        format!("{} bytes, next header {}", h.len(), proto_text(h[0])),
        at,
        h.len(),
    );
    let nk = match kind {
        ExtKind::Ah => "ah.next_header".to_string(),
        _ => format!("{key}.nxt"),
    };
    n.push(Node::new(&nk, "Next Header", proto_text(h[0]), at, 1));
    match kind {
        ExtKind::Fragment => {
            let f = FragmentHeader::new_unchecked(h);
            n.push(Node::new(
                "ipv6.fraghdr.reserved_octet",
                "Reserved octet",
                format!("0x{:02x}", f.reserved()),
                at + 1,
                1,
            ));
            let o = f.frag_offset();
            n.push(Node::new(
                "ipv6.fraghdr.offset",
                "Offset",
                format!("{o} ({} bytes)", usize::from(o) * 8),
                at + 2,
                2,
            ));
            n.push(Node::new(
                "ipv6.fraghdr.reserved_bits",
                "Reserved bits",
                f.res_bits().to_string(),
                at + 3,
                1,
            ));
            n.push(Node::new(
                "ipv6.fraghdr.more",
                "More Fragments",
                u8::from(f.more_fragments()).to_string(),
                at + 3,
                1,
            ));
            let id = f.ident();
            let mut idn = Node::new(
                "ipv6.fraghdr.ident",
                "Identification",
                format!("0x{id:08x}"),
                at + 4,
                4,
            );
            if f.is_atomic() {
                idn.value
                    .push_str(" (atomic fragment: offset 0, no more fragments)");
            }
            n.push(idn);
            return n;
        }
        ExtKind::Ah => {
            n.push(Node::new(
                "ah.length",
                "Length",
                format!("{} ({} bytes)", h[1], h.len()),
                at + 1,
                1,
            ));
            if h.len() >= 12 {
                n.push(Node::new(
                    "ah.spi",
                    "AH SPI",
                    format!("0x{}", hex(&h[4..8])),
                    at + 4,
                    4,
                ));
                n.push(Node::new(
                    "ah.sequence",
                    "AH Sequence",
                    u32::from_be_bytes([h[8], h[9], h[10], h[11]]).to_string(),
                    at + 8,
                    4,
                ));
                n.push(Node::new(
                    "ah.icv",
                    "AH ICV",
                    hex_preview(&h[12..]),
                    at + 12,
                    h.len() - 12,
                ));
            }
            return n;
        }
        _ => {}
    }
    n.push(Node::new(
        &format!("{key}.len"),
        "Length",
        format!("{} ({} bytes)", h[1], h.len()),
        at + 1,
        1,
    ));
    match kind {
        ExtKind::HopByHop | ExtKind::DestOpts => options(&mut n, h, at),
        ExtKind::Routing => routing(&mut n, h, at),
        _ => n.push(data_node(h, 2, h.len())),
    }
    n
}

fn options(n: &mut Node, h: &[u8], at: usize) {
    for o in OptionIter::new(h) {
        let o = match o {
            Ok(o) => o,
            Err(e) => {
                let done: usize = n
                    .children
                    .iter()
                    .filter(|c| c.key == "ipv6.opt")
                    .map(|c| c.len)
                    .sum::<usize>()
                    + 2;
                n.push(undecoded(
                    at + done,
                    &h[done.min(h.len())..],
                    &e.to_string(),
                ));
                return;
            }
        };
        let t = o.opt_type;
        let name = names::ipv6_option_name(t).unwrap_or("Unknown");
        let oat = at + o.offset;
        let mut c = Node::new(
            "ipv6.opt",
            &format!("{name} option"),
            format!("type 0x{t:02x}, {} bytes", o.wire_len()),
            oat,
            o.wire_len(),
        );
        let mut tn = Node::new(
            "ipv6.opt.type",
            "Type",
            format!("0x{t:02x} ({name})"),
            oat,
            1,
        );
        if t == opt::PAD1 {
            // One byte, its bits fixed: the type is all there is to say.
            c.push(tn);
            n.push(c);
            continue;
        }
        let action = OptionAction::of(t);
        tn.push(Node::new(
            "ipv6.opt.type.action",
            "Action",
            format!("{} ({})", t >> 6, action.explain()),
            oat,
            1,
        ));
        tn.push(Node::new(
            "ipv6.opt.type.change",
            "May Change",
            u8::from(option_may_change(t)).to_string(),
            oat,
            1,
        ));
        tn.push(Node::new(
            "ipv6.opt.type.rest",
            "Low-Order Bits",
            format!("0x{:02x}", t & 0x1f),
            oat,
            1,
        ));
        c.push(tn);
        if t != opt::PAD1 {
            c.push(Node::new(
                "ipv6.opt.length",
                "Length",
                o.data.len().to_string(),
                oat + 1,
                1,
            ));
        }
        let d = o.data;
        let dat = oat + 2;
        match (t, d.len()) {
            (opt::PAD1, _) => {}
            (opt::PADN, n) => {
                let mut p = Node::new("ipv6.opt.padn", "PadN", format!("{n} bytes"), dat, n);
                if d.iter().any(|&x| x != 0) {
                    p = p.warning("PadN bytes should be zero");
                }
                c.push(p);
            }
            (opt::ROUTER_ALERT, 2) => {
                let v = u16::from_be_bytes([d[0], d[1]]);
                let what = match v {
                    0 => "MLD",
                    1 => "RSVP",
                    2 => "Active Networks",
                    _ => "unassigned",
                };
                c.push(Node::new(
                    "ipv6.opt.router_alert",
                    "Router Alert",
                    format!("{v} ({what})"),
                    dat,
                    2,
                ));
            }
            (opt::JUMBO, 4) => c.push(Node::new(
                "ipv6.opt.jumbo",
                "Payload Length",
                u32::from_be_bytes([d[0], d[1], d[2], d[3]]).to_string(),
                dat,
                4,
            )),
            (opt::TUNNEL_ENCAP_LIMIT, 1) => c.push(Node::new(
                "ipv6.opt.tel",
                "Tunnel Encapsulation Limit",
                d[0].to_string(),
                dat,
                1,
            )),
            (_, 0) => {}
            (_, len) => c.push(Node::new("ipv6.opt.data", "Data", hex_preview(d), dat, len)),
        }
        n.push(c);
    }
}

fn routing(n: &mut Node, h: &[u8], at: usize) {
    let r = RoutingHeader::new_unchecked(h);
    let (t, sl) = (r.routing_type(), r.segments_left());
    let tname = match t {
        ROUTING_TYPE_0 => "Source Route, deprecated by RFC 5095",
        2 => "Type 2 Routing",
        3 => "RPL Source Route",
        ROUTING_TYPE_SRH => "Segment Routing",
        _ => "",
    };
    n.push(Node::new(
        "ipv6.routing.type",
        "Type",
        if tname.is_empty() {
            t.to_string()
        } else {
            format!("{t} ({tname})")
        },
        at + 2,
        1,
    ));
    n.push(Node::new(
        "ipv6.routing.segleft",
        "Segments Left",
        sl.to_string(),
        at + 3,
        1,
    ));
    let d = &h[4..];
    match t {
        ROUTING_TYPE_0 if d.len() >= 4 => {
            n.push(Node::new(
                "ipv6.routing.src.reserved",
                "Reserved",
                format!("0x{}", hex(&d[..4])),
                at + 4,
                4,
            ));
            let addrs: Vec<_> = d[4..].chunks_exact(16).collect();
            let count = addrs.len();
            for (i, a) in addrs.iter().enumerate() {
                let mut v = addr16(a).to_string();
                // The next hop is addresses[count - segments_left].
                if usize::from(sl) <= count && i == count - usize::from(sl) && sl > 0 {
                    v.push_str(" (next hop)");
                }
                if i + 1 == count {
                    v.push_str(" (final destination)");
                }
                n.push(Node::new(
                    "ipv6.routing.src.addr",
                    &format!("Address[{}]", i + 1),
                    v,
                    at + 8 + 16 * i,
                    16,
                ));
            }
            if usize::from(sl) > count {
                if let Some(s) = n
                    .children
                    .iter_mut()
                    .find(|c| c.key == "ipv6.routing.segleft")
                {
                    s.status = super::Status::Malformed {
                        reason: format!("above the {count} addresses the header holds"),
                    };
                }
            }
        }
        ROUTING_TYPE_SRH if d.len() >= 4 => {
            let le = usize::from(d[0]);
            n.push(Node::new(
                "ipv6.routing.srh.last_entry",
                "Last Entry",
                le.to_string(),
                at + 4,
                1,
            ));
            n.push(Node::new(
                "ipv6.routing.srh.flags",
                "Flags",
                format!("0x{:02x}", d[1]),
                at + 5,
                1,
            ));
            n.push(Node::new(
                "ipv6.routing.srh.tag",
                "Tag",
                format!("0x{}", hex(&d[2..4])),
                at + 6,
                2,
            ));
            let held = (d.len() - 4) / 16;
            let count = (le + 1).min(held);
            for i in 0..count {
                let a = addr16(&d[4 + 16 * i..]);
                let mut v = a.to_string();
                if i == usize::from(sl) {
                    v.push_str(" (active segment)");
                }
                if i == 0 {
                    v.push_str(" (final destination)");
                }
                n.push(Node::new(
                    "ipv6.routing.srh.addr",
                    &format!("Address[{i}]"),
                    v,
                    at + 8 + 16 * i,
                    16,
                ));
            }
            if le + 1 > held {
                let from = 8 + 16 * count;
                n.push(undecoded(
                    at + from,
                    &h[from.min(h.len())..],
                    &format!(
                        "Last Entry {le} names {} segments; the header holds {held}",
                        le + 1
                    ),
                ));
            } else if usize::from(sl) > le {
                if let Some(s) = n
                    .children
                    .iter_mut()
                    .find(|c| c.key == "ipv6.routing.segleft")
                {
                    s.status = super::Status::Malformed {
                        reason: format!("above Last Entry {le}"),
                    };
                }
            }
            let tl = 8 + 16 * (le + 1);
            if tl < h.len() && le < held {
                srh_tlvs(n, &h[tl..], at + tl);
            }
        }
        _ => {
            if !d.is_empty() {
                n.push(Node::new(
                    "ipv6.routing.unknown_data",
                    "Type-Specific Data",
                    hex_preview(d),
                    at + 4,
                    d.len(),
                ));
            }
        }
    }
}

fn srh_tlvs(n: &mut Node, mut b: &[u8], mut at: usize) {
    while let Some(&t) = b.first() {
        if t == 0 {
            n.push(Node::new(
                "ipv6.routing.srh.tlv",
                "Pad1 TLV",
                "1 byte",
                at,
                1,
            ));
            b = &b[1..];
            at += 1;
            continue;
        }
        if b.len() < 2 || b.len() < 2 + usize::from(b[1]) {
            n.push(undecoded(at, b, "SRH TLV runs past the header"));
            return;
        }
        let l = 2 + usize::from(b[1]);
        let name = match t {
            4 => "PadN TLV",
            5 => "HMAC TLV",
            _ => "TLV",
        };
        n.push(Node::new(
            "ipv6.routing.srh.tlv",
            name,
            format!("type {t}, {} bytes: {}", l, hex_preview(&b[2..l])),
            at,
            l,
        ));
        b = &b[l..];
        at += l;
    }
}
