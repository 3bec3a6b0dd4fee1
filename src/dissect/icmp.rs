//! ICMP messages, read through [`IcmpPacket`]; the datagram an error quotes is dissected again
//! by `ipv4`. Type and code names come from [`crate::wire::names`].

use super::{
    cksum_status, data_node, hex, ipv4, ts_text, undecoded, Node, Status, MAX_QUOTE_DEPTH,
};
use crate::wire::field::icmp as field;
use crate::wire::{be16, be32, explain_pointer, ip_at, names, IcmpPacket, ICMP_HEADER_LEN};

/// The code as the dissector shows it: "1 (host unreachable)", or the bare number for a type
/// without named codes.
fn code_name(t: u8, c: u8) -> String {
    match names::icmp_code(t, c) {
        Some(e) => format!("{c} ({})", e.name),
        None if c == 0 => c.to_string(),
        None => format!("{c} (unexpected code for this type)"),
    }
}

/// Dissect ICMP at `at..end`. `unverifiable`: why the checksum cannot be verified (some of the
/// bytes it covers are not here), if so. `depth`: as for [`ipv4::dissect`].
pub(super) fn dissect(
    b: &[u8],
    at: usize,
    end: usize,
    unverifiable: Option<&str>,
    depth: usize,
    layers: &mut Vec<Node>,
) {
    let quoted = depth > 0;
    let m = &b[at..end];
    let key = if quoted { "icmp.quote.icmp" } else { "icmp" };
    if m.len() < 4 {
        if !m.is_empty() {
            layers.push(undecoded(
                at,
                m,
                &format!("ICMP header needs 8 bytes, got {}", m.len()),
            ));
        }
        return;
    }
    // Unchecked: fields are read only once the bytes for them are known to be there.
    let v = IcmpPacket::new_unchecked(m);
    let (t, c) = (v.msg_type(), v.code());
    let mut n = Node::new(
        key,
        if quoted {
            "Quoted ICMP header"
        } else {
            "Internet Control Message Protocol"
        },
        format!("{} ({t}/{c})", names::icmp_type_name(t)),
        at,
        m.len(),
    );
    n.push(Node::new(
        "icmp.type",
        "Type",
        format!("{t} ({})", names::icmp_type_name(t)),
        at,
        1,
    ));
    n.push(Node::new(
        "icmp.code",
        "Code",
        code_name(t, c),
        at + field::CODE,
        1,
    ));
    let ck = v.checksum();
    let mut ck_node = Node::new(
        "icmp.checksum",
        "Checksum",
        format!("0x{ck:04x}"),
        at + field::CHECKSUM.start,
        field::CHECKSUM.len(),
    );
    ck_node = if let Some(why) = unverifiable {
        ck_node.value.push_str(&format!(" (not verifiable: {why})"));
        ck_node
    } else {
        ck_node.with(cksum_status(m, field::CHECKSUM.start))
    };
    n.push(ck_node);
    if m.len() < ICMP_HEADER_LEN {
        layers.push(n);
        layers.push(undecoded(
            at + field::REST.start,
            &m[field::REST.start..],
            &format!("ICMP header needs 8 bytes, got {}", m.len()),
        ));
        return;
    }
    let idseq = |n: &mut Node| {
        let (id, seq) = (v.ident(), v.seq_no());
        n.push(Node::new(
            "icmp.ident",
            "Identifier",
            format!("{id} (0x{id:04x})"),
            at + field::IDENT.start,
            field::IDENT.len(),
        ));
        n.push(Node::new(
            "icmp.seq",
            "Sequence number",
            format!("{seq} (0x{seq:04x})"),
            at + field::SEQ.start,
            field::SEQ.len(),
        ));
    };
    let rest = v.rest_of_header();
    let mut body_from = field::DATA;
    let mut quote = false;
    let mut need = ICMP_HEADER_LEN;
    match t {
        0 | 8 | 15 | 16 => idseq(&mut n),
        13 | 14 => {
            idseq(&mut n);
            need = field::TS_TRANSMIT.end;
        }
        17 | 18 => {
            idseq(&mut n);
            need = field::MASK.end;
        }
        3 if c == 4 => {
            n.push(Node::new(
                "icmp.unused",
                "Unused",
                format!("0x{}", hex(&rest[..2])),
                at + field::REST.start,
                2,
            ));
            n.push(Node::new(
                "icmp.mtu",
                "Next-hop MTU",
                v.next_hop_mtu().to_string(),
                at + field::NEXT_HOP_MTU.start,
                field::NEXT_HOP_MTU.len(),
            ));
            quote = true;
        }
        3 => {
            n.push(Node::new(
                "icmp.unused",
                "Unused",
                hex(&rest),
                at + field::REST.start,
                field::REST.len(),
            ));
            quote = true;
        }
        5 => {
            n.push(Node::new(
                "icmp.redir_gw",
                "Gateway address",
                v.gateway().to_string(),
                at + field::GATEWAY.start,
                field::GATEWAY.len(),
            ));
            quote = true;
        }
        12 => {
            let p = v.pointer();
            let quoted_hdr = v.data();
            n.push(Node::new(
                "icmp.pointer",
                "Pointer",
                format!("{p} ({})", explain_pointer(quoted_hdr, p)),
                at + field::POINTER,
                1,
            ));
            let unused = field::POINTER + 1..field::DATA;
            n.push(Node::new(
                "icmp.unused",
                "Unused",
                hex(&m[unused.clone()]),
                at + unused.start,
                unused.len(),
            ));
            quote = true;
        }
        4 | 11 => {
            n.push(Node::new(
                "icmp.unused",
                "Unused",
                hex(&rest),
                at + field::REST.start,
                field::REST.len(),
            ));
            quote = true;
        }
        9 => {
            let (num, size) = (usize::from(m[field::RA_NUM_ADDRS]), m[field::RA_ENTRY_SIZE]);
            n.push(Node::new(
                "icmp.num_addrs",
                "Number of addresses",
                num.to_string(),
                at + field::RA_NUM_ADDRS,
                1,
            ));
            n.push(Node::new(
                "icmp.addr_entry_size",
                "Address entry size",
                format!("{size} (words)"),
                at + field::RA_ENTRY_SIZE,
                1,
            ));
            n.push(Node::new(
                "icmp.lifetime",
                "Lifetime",
                format!("{} s", be16(m, field::RA_LIFETIME.start)),
                at + field::RA_LIFETIME.start,
                field::RA_LIFETIME.len(),
            ));
            let stride = usize::from(size).max(2) * 4;
            need = field::DATA + num * stride;
            if size < 2 {
                if let Some(es) = n.children.last_mut() {
                    es.status = Status::Malformed {
                        reason: "below the minimum 2 words".into(),
                    };
                }
            }
            if m.len() >= need {
                for i in 0..num {
                    let o = field::DATA + i * stride;
                    n.push(Node::new(
                        "icmp.router_address",
                        &format!("Router address {}", i + 1),
                        ip_at(m, o).to_string(),
                        at + o,
                        4,
                    ));
                    n.push(Node::new(
                        "icmp.pref_level",
                        &format!("Preference level {}", i + 1),
                        (be32(m, o + 4) as i32).to_string(),
                        at + o + 4,
                        4,
                    ));
                }
                body_from = need;
            }
        }
        10 => n.push(Node::new(
            "icmp.reserved",
            "Reserved",
            hex(&rest),
            at + field::REST.start,
            field::REST.len(),
        )),
        _ => n.push(Node::new(
            "icmp.rest",
            "Rest of header",
            hex(&rest),
            at + field::REST.start,
            field::REST.len(),
        )),
    }
    if m.len() < need {
        layers.push(n);
        layers.push(undecoded(
            at + field::DATA,
            &m[field::DATA..],
            &format!(
                "{} needs {need} bytes, got {}",
                names::icmp_type_name(t),
                m.len()
            ),
        ));
        return;
    }
    match t {
        13 | 14 => {
            for (r, k, name) in [
                (
                    field::TS_ORIGINATE,
                    "icmp.originate_timestamp",
                    "Originate timestamp",
                ),
                (
                    field::TS_RECEIVE,
                    "icmp.receive_timestamp",
                    "Receive timestamp",
                ),
                (
                    field::TS_TRANSMIT,
                    "icmp.transmit_timestamp",
                    "Transmit timestamp",
                ),
            ] {
                n.push(Node::new(
                    k,
                    name,
                    ts_text(be32(m, r.start)),
                    at + r.start,
                    r.len(),
                ));
            }
            body_from = field::TS_TRANSMIT.end;
        }
        17 | 18 => {
            n.push(Node::new(
                "icmp.address_mask",
                "Address mask",
                ip_at(m, field::MASK.start).to_string(),
                at + field::MASK.start,
                field::MASK.len(),
            ));
            body_from = field::MASK.end;
        }
        _ => {}
    }
    if quote {
        n.len = ICMP_HEADER_LEN;
        layers.push(n);
        if m.len() > field::DATA && depth >= MAX_QUOTE_DEPTH {
            layers.push(undecoded(
                at + field::DATA,
                &m[field::DATA..],
                &format!(
                    "quoted datagram not dissected: ICMP errors nested deeper than \
                     {MAX_QUOTE_DEPTH} levels"
                ),
            ));
        } else if m.len() > field::DATA {
            let mut inner = Vec::new();
            ipv4::dissect(b, at + field::DATA, end, depth + 1, &mut inner);
            let mut q = Node::new(
                "icmp.quote",
                "Quoted datagram",
                format!("{} bytes", m.len() - field::DATA),
                at + field::DATA,
                m.len() - field::DATA,
            );
            q.children = inner;
            layers.push(q);
        }
        return;
    }
    if m.len() > body_from {
        n.push(data_node(b, at + body_from, end));
    }
    layers.push(n);
}
