//! ICMPv6, read through [`Icmpv6Packet`]: echo, errors (the invoking packet dissected again by
//! `ipv6`, behind its extension headers; the Parameter Problem pointer explained), Packet Too
//! Big, and the NDP messages with their options. The checksum is verified over the
//! pseudo-header of the final destination. Keys as Wireshark's (`icmpv6.nd.ns.target_address`).

use std::net::Ipv6Addr;

use super::{
    data_node, hex, hex_preview, ipv6, mac_text, undecoded, Node, Status, MAX_QUOTE_DEPTH,
};
use crate::wire::icmpv6::{explain_pointer6, types};
use crate::wire::{be16, be32, names, Icmpv6Packet, MacAddr, ICMPV6_HEADER_LEN};

fn type_name(t: u8) -> &'static str {
    names::icmpv6_type(t).map_or(
        match t {
            130 => "Multicast Listener Query",
            131 => "Multicast Listener Report",
            132 => "Multicast Listener Done",
            143 => "Multicast Listener Report Message v2",
            _ => "Unknown",
        },
        |e| e.name,
    )
}

fn addr_at(m: &[u8], o: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&m[o..o + 16]);
    Ipv6Addr::from(a)
}

/// Dissect ICMPv6 at `at..end` sent from `src` to `dst` (the final destination).
pub(super) fn dissect(
    b: &[u8],
    at: usize,
    end: usize,
    unverifiable: Option<&str>,
    depth: usize,
    (src, dst): (Ipv6Addr, Ipv6Addr),
    layers: &mut Vec<Node>,
) {
    let quoted = depth > 0;
    let m = &b[at..end];
    let key = if quoted {
        "icmpv6.quote.icmpv6"
    } else {
        "icmpv6"
    };
    if m.len() < 4 {
        if !m.is_empty() {
            layers.push(undecoded(
                at,
                m,
                &format!("ICMPv6 header needs 4 bytes, got {}", m.len()),
            ));
        }
        return;
    }
    let v = Icmpv6Packet::new_unchecked(m);
    let (t, c) = (v.msg_type(), v.code());
    let mut n = Node::new(
        key,
        if quoted {
            "Quoted ICMPv6 header"
        } else {
            "Internet Control Message Protocol v6"
        },
        format!("{} ({t}/{c})", type_name(t)),
        at,
        m.len(),
    );
    n.push(Node::new(
        "icmpv6.type",
        "Type",
        format!("{t} ({})", type_name(t)),
        at,
        1,
    ));
    let code_text = match names::icmpv6_code(t, c) {
        Some(name) => format!("{c} ({name})"),
        None if c == 0 => "0".into(),
        None => format!("{c} (unexpected code for this type)"),
    };
    n.push(Node::new("icmpv6.code", "Code", code_text, at + 1, 1));
    let ck = v.checksum();
    let mut ckn = Node::new(
        "icmpv6.checksum",
        "Checksum",
        format!("0x{ck:04x}"),
        at + 2,
        2,
    );
    if let Some(why) = unverifiable {
        ckn.value.push_str(&format!(" (not verifiable: {why})"));
    } else if v.verify_checksum(src, dst) {
        ckn.value
            .push_str(&format!(" (pseudo-header destination {dst})"));
        ckn = ckn.with(Status::Good);
    } else {
        let mut z = m.to_vec();
        let mut p = Icmpv6Packet::new_unchecked(&mut z[..]);
        p.fill_checksum(src, dst);
        let right = p.checksum();
        ckn.value
            .push_str(&format!(" (pseudo-header destination {dst})"));
        ckn = ckn.with(Status::Bad {
            expected: format!("0x{right:04x}"),
        });
    }
    n.push(ckn);
    if m.len() < ICMPV6_HEADER_LEN {
        layers.push(n);
        layers.push(undecoded(
            at + 4,
            &m[4..],
            &format!("ICMPv6 header needs 8 bytes, got {}", m.len()),
        ));
        return;
    }
    let rest = v.rest_of_header();
    let mut body = ICMPV6_HEADER_LEN;
    let mut quote = false;
    let mut ndp = false;
    let mut need = ICMPV6_HEADER_LEN;
    match t {
        types::ECHO_REQUEST | types::ECHO_REPLY => {
            let (id, seq) = (v.ident(), v.seq_no());
            n.push(Node::new(
                "icmpv6.echo.identifier",
                "Identifier",
                format!("0x{id:04x} ({id})"),
                at + 4,
                2,
            ));
            n.push(Node::new(
                "icmpv6.echo.sequence_number",
                "Sequence",
                seq.to_string(),
                at + 6,
                2,
            ));
        }
        types::PACKET_TOO_BIG => {
            n.push(Node::new(
                "icmpv6.mtu",
                "MTU",
                v.word().to_string(),
                at + 4,
                4,
            ));
            quote = true;
        }
        types::PARAMETER_PROBLEM => {
            let p = v.word();
            n.push(Node::new(
                "icmpv6.pointer",
                "Pointer",
                format!("{p} ({})", explain_pointer6(v.data(), p)),
                at + 4,
                4,
            ));
            quote = true;
        }
        types::DEST_UNREACHABLE | types::TIME_EXCEEDED => {
            n.push(Node::new(
                "icmpv6.reserved",
                "Reserved",
                format!("0x{}", hex(&rest)),
                at + 4,
                4,
            ));
            quote = true;
        }
        types::ROUTER_SOLICITATION => {
            n.push(Node::new(
                "icmpv6.reserved",
                "Reserved",
                format!("0x{}", hex(&rest)),
                at + 4,
                4,
            ));
            ndp = true;
        }
        types::ROUTER_ADVERTISEMENT => {
            need = 16;
            if m.len() >= need {
                n.push(Node::new(
                    "icmpv6.nd.ra.cur_hop_limit",
                    "Cur hop limit",
                    m[4].to_string(),
                    at + 4,
                    1,
                ));
                let f = m[5];
                let prf = (f >> 3) & 3;
                let mut fl = Node::new(
                    "icmpv6.nd.ra.flag",
                    "Flags",
                    format!("0x{f:02x}"),
                    at + 5,
                    1,
                );
                for (k, name, val) in [
                    (
                        "icmpv6.nd.ra.flag.m",
                        "Managed address configuration",
                        f >> 7,
                    ),
                    ("icmpv6.nd.ra.flag.o", "Other configuration", (f >> 6) & 1),
                    ("icmpv6.nd.ra.flag.h", "Home Agent", (f >> 5) & 1),
                ] {
                    fl.push(Node::new(k, name, val.to_string(), at + 5, 1));
                }
                fl.push(Node::new(
                    "icmpv6.nd.ra.flag.prf",
                    "Prf (Default Router Preference)",
                    format!(
                        "{prf} ({})",
                        ["Medium", "High", "Reserved", "Low"][usize::from(prf)]
                    ),
                    at + 5,
                    1,
                ));
                fl.push(Node::new(
                    "icmpv6.nd.ra.flag.p",
                    "Proxy",
                    ((f >> 2) & 1).to_string(),
                    at + 5,
                    1,
                ));
                n.push(fl);
                n.push(Node::new(
                    "icmpv6.nd.ra.router_lifetime",
                    "Router lifetime (s)",
                    be16(m, 6).to_string(),
                    at + 6,
                    2,
                ));
                n.push(Node::new(
                    "icmpv6.nd.ra.reachable_time",
                    "Reachable time (ms)",
                    be32(m, 8).to_string(),
                    at + 8,
                    4,
                ));
                n.push(Node::new(
                    "icmpv6.nd.ra.retrans_timer",
                    "Retrans timer (ms)",
                    be32(m, 12).to_string(),
                    at + 12,
                    4,
                ));
            }
            body = 16;
            ndp = true;
        }
        types::NEIGHBOR_SOLICITATION | types::NEIGHBOR_ADVERTISEMENT => {
            need = 24;
            if t == types::NEIGHBOR_ADVERTISEMENT {
                let f = m[4];
                let mut fl = Node::new(
                    "icmpv6.nd.na.flag",
                    "Flags",
                    format!("0x{}", hex(&rest)),
                    at + 4,
                    4,
                );
                for (k, name, val) in [
                    ("icmpv6.nd.na.flag.r", "Router", f >> 7),
                    ("icmpv6.nd.na.flag.s", "Solicited", (f >> 6) & 1),
                    ("icmpv6.nd.na.flag.o", "Override", (f >> 5) & 1),
                ] {
                    fl.push(Node::new(k, name, val.to_string(), at + 4, 1));
                }
                n.push(fl);
            } else {
                n.push(Node::new(
                    "icmpv6.reserved",
                    "Reserved",
                    format!("0x{}", hex(&rest)),
                    at + 4,
                    4,
                ));
            }
            if m.len() >= need {
                let k = if t == types::NEIGHBOR_SOLICITATION {
                    "icmpv6.nd.ns.target_address"
                } else {
                    "icmpv6.nd.na.target_address"
                };
                n.push(Node::new(
                    k,
                    "Target Address",
                    addr_at(m, 8).to_string(),
                    at + 8,
                    16,
                ));
            }
            body = 24;
            ndp = true;
        }
        types::REDIRECT => {
            need = 40;
            n.push(Node::new(
                "icmpv6.reserved",
                "Reserved",
                format!("0x{}", hex(&rest)),
                at + 4,
                4,
            ));
            if m.len() >= need {
                n.push(Node::new(
                    "icmpv6.nd.rd.target_address",
                    "Target Address",
                    addr_at(m, 8).to_string(),
                    at + 8,
                    16,
                ));
                n.push(Node::new(
                    "icmpv6.nd.rd.destination_address",
                    "Destination Address",
                    addr_at(m, 24).to_string(),
                    at + 24,
                    16,
                ));
            }
            body = 40;
            ndp = true;
        }
        _ => n.push(Node::new(
            "icmpv6.rest",
            "Rest of header",
            hex(&rest),
            at + 4,
            4,
        )),
    }
    if m.len() < need {
        layers.push(n);
        layers.push(undecoded(
            at + ICMPV6_HEADER_LEN,
            &m[ICMPV6_HEADER_LEN..],
            &format!("{} needs {need} bytes, got {}", type_name(t), m.len()),
        ));
        return;
    }
    if ndp {
        let ok = ndp_options(&mut n, m, body, at);
        layers.push(n);
        if let Some((from, why)) = ok {
            layers.push(undecoded(at + from, &m[from..], &why));
        }
        return;
    }
    if quote {
        n.len = ICMPV6_HEADER_LEN;
        layers.push(n);
        if m.len() > ICMPV6_HEADER_LEN && depth >= MAX_QUOTE_DEPTH {
            layers.push(undecoded(
                at + ICMPV6_HEADER_LEN,
                &m[ICMPV6_HEADER_LEN..],
                &format!(
                    "quoted packet not dissected: ICMPv6 errors nested deeper than \
                     {MAX_QUOTE_DEPTH} levels"
                ),
            ));
        } else if m.len() > ICMPV6_HEADER_LEN {
            let mut inner = Vec::new();
            ipv6::dissect(b, at + ICMPV6_HEADER_LEN, end, depth + 1, &mut inner);
            let mut q = Node::new(
                "icmpv6.quote",
                "Invoking packet",
                format!("{} bytes", m.len() - ICMPV6_HEADER_LEN),
                at + ICMPV6_HEADER_LEN,
                m.len() - ICMPV6_HEADER_LEN,
            );
            q.children = inner;
            layers.push(q);
        }
        return;
    }
    if m.len() > body {
        n.push(data_node(b, at + body, end));
    }
    layers.push(n);
}

/// The NDP options from `from`; `Some((offset, why))` where they cannot be decoded.
fn ndp_options(n: &mut Node, m: &[u8], mut o: usize, at: usize) -> Option<(usize, String)> {
    while o < m.len() {
        let r = &m[o..];
        if r.len() < 2 {
            return Some((o, "NDP option needs 2 bytes for type and length".into()));
        }
        let (t, l) = (r[0], usize::from(r[1]) * 8);
        if l == 0 {
            return Some((
                o,
                format!("NDP option type {t} with length 0 (RFC 4861 4.6)"),
            ));
        }
        if r.len() < l {
            return Some((
                o,
                format!(
                    "NDP option type {t} of {l} bytes runs past the message ({} left)",
                    r.len()
                ),
            ));
        }
        let name = names::ndp_option_name(t).unwrap_or("Unknown");
        let oat = at + o;
        let mut c = Node::new(
            "icmpv6.opt",
            &format!("ICMPv6 Option ({name})"),
            format!("type {t}, {l} bytes"),
            oat,
            l,
        );
        c.push(Node::new(
            "icmpv6.opt.type",
            "Type",
            format!("{t} ({name})"),
            oat,
            1,
        ));
        c.push(Node::new(
            "icmpv6.opt.length",
            "Length",
            format!("{} ({l} bytes)", r[1]),
            oat + 1,
            1,
        ));
        match t {
            1 | 2 if l == 8 => {
                let mac = MacAddr::new(r[2], r[3], r[4], r[5], r[6], r[7]);
                let k = if t == 1 {
                    "icmpv6.opt.src_linkaddr"
                } else {
                    "icmpv6.opt.target_linkaddr"
                };
                c.push(Node::new(
                    "icmpv6.opt.linkaddr",
                    "Link-layer address",
                    mac_text(mac),
                    oat + 2,
                    6,
                ));
                c.push(Node::new(
                    k,
                    "Link-layer address",
                    mac_text(mac),
                    oat + 2,
                    6,
                ));
            }
            3 if l == 32 => {
                c.push(Node::new(
                    "icmpv6.opt.prefix.length",
                    "Prefix Length",
                    r[2].to_string(),
                    oat + 2,
                    1,
                ));
                let f = r[3];
                let mut fl = Node::new(
                    "icmpv6.opt.prefix.flag",
                    "Flag",
                    format!("0x{f:02x}"),
                    oat + 3,
                    1,
                );
                for (k, nm, v) in [
                    ("icmpv6.opt.prefix.flag.l", "On-link flag(L)", f >> 7),
                    (
                        "icmpv6.opt.prefix.flag.a",
                        "Autonomous address-configuration flag(A)",
                        (f >> 6) & 1,
                    ),
                    (
                        "icmpv6.opt.prefix.flag.r",
                        "Router address flag(R)",
                        (f >> 5) & 1,
                    ),
                ] {
                    fl.push(Node::new(k, nm, v.to_string(), oat + 3, 1));
                }
                c.push(fl);
                let life = |v: u32| {
                    if v == u32::MAX {
                        format!("{v} (infinity)")
                    } else {
                        format!("{v} s")
                    }
                };
                c.push(Node::new(
                    "icmpv6.opt.prefix.valid_lifetime",
                    "Valid Lifetime",
                    life(be32(r, 4)),
                    oat + 4,
                    4,
                ));
                c.push(Node::new(
                    "icmpv6.opt.prefix.preferred_lifetime",
                    "Preferred Lifetime",
                    life(be32(r, 8)),
                    oat + 8,
                    4,
                ));
                c.push(Node::new(
                    "icmpv6.opt.prefix",
                    "Prefix",
                    addr_at(r, 16).to_string(),
                    oat + 16,
                    16,
                ));
            }
            5 if l == 8 => c.push(Node::new(
                "icmpv6.opt.mtu",
                "MTU",
                be32(r, 4).to_string(),
                oat + 4,
                4,
            )),
            4 if l > 8 => c.push(Node::new(
                "icmpv6.opt.redirected_packet",
                "Redirected Packet",
                hex_preview(&r[8..l]),
                oat + 8,
                l - 8,
            )),
            _ => c.push(Node::new(
                "icmpv6.opt.data",
                "Data",
                hex_preview(&r[2..l]),
                oat + 2,
                l - 2,
            )),
        }
        n.push(c);
        o += l;
    }
    None
}
