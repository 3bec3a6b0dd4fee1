//! IP options: one node per option as [`IpOptions`] delimits them, typed by [`IpOption`].

use super::{hex, ts_text, Node};
use crate::wire::field::ipopt as field;
use crate::wire::{names, IpOption, IpOptions, TimestampFlag};

/// The option area at `at`: one node per option the walk delimits, then the padding.
pub(super) fn options_node(area: &[u8], at: usize) -> Node {
    let mut n = Node::new(
        "ip.options",
        "Options",
        format!("{} bytes", area.len()),
        at,
        area.len(),
    );
    let mut walk = IpOptions::new(area);
    for item in walk.by_ref() {
        match item {
            Ok(v) => {
                // A view whose contents are bogus becomes Malformed, holding the rest of the area.
                let o = IpOption::parse(&v).unwrap_or_else(|reason| IpOption::Malformed {
                    bytes: area[v.offset()..].to_vec(),
                    reason,
                });
                let raw = match o {
                    IpOption::Malformed { .. } => &area[v.offset()..],
                    _ => v.bytes(),
                };
                n.push(option_node(&o, raw, at + v.offset()));
                if matches!(o, IpOption::Malformed { .. }) {
                    return n;
                }
            }
            Err(m) => {
                let o = IpOption::Malformed {
                    bytes: m.rest.to_vec(),
                    reason: m.fault.to_string(),
                };
                n.push(option_node(&o, m.rest, at + m.offset));
            }
        }
    }
    let off = walk.consumed();
    if off < area.len() {
        let pad = &area[off..];
        let mut p = Node::new(
            "ip.opt.padding",
            "Padding",
            format!("{} bytes: {}", pad.len(), hex(pad)),
            at + off,
            pad.len(),
        );
        if pad.iter().any(|&x| x != 0) {
            p.value.push_str(" (not all zero)");
        }
        n.push(p);
    }
    n
}

fn option_node(o: &IpOption, raw: &[u8], at: usize) -> Node {
    let t = raw.first().copied().unwrap_or(0);
    let name = match o {
        IpOption::Malformed { .. } => "Option",
        _ => names::ip_option_long_name(t),
    };
    let text = o.to_string();
    // Display starts with the short name ("RR: ..."); the node's name already says it.
    let value = match text.strip_prefix(o.type_name()) {
        Some(v) if v.starts_with([':', ' ']) => v.trim_start_matches(':').trim_start().to_string(),
        _ => match o {
            // A named option the wire types keep as bytes: its decoded gist, else its bytes.
            IpOption::Raw(b) => raw_gist(b).unwrap_or(text),
            _ => text,
        },
    };
    let mut n = Node::new("ip.opt", name, value, at, raw.len());
    let type_node = Node::new(
        "ip.opt.type",
        "Type",
        format!(
            "{t} (copy {}, class {}, number {})",
            t >> 7,
            (t >> 5) & 3,
            t & 31
        ),
        at,
        1,
    );
    n.push(type_node);
    if let IpOption::Malformed { reason, .. } = o {
        if raw.len() >= 2 {
            n.push(Node::new(
                "ip.opt.len",
                "Length",
                raw[field::LENGTH].to_string(),
                at + field::LENGTH,
                1,
            ));
        }
        return n.malformed(reason.clone());
    }
    if raw.len() < 2 {
        return n;
    }
    n.push(Node::new(
        "ip.opt.len",
        "Length",
        raw[field::LENGTH].to_string(),
        at + field::LENGTH,
        1,
    ));
    match o {
        IpOption::RecordRoute { pointer, slots: a }
        | IpOption::LooseSourceRoute { pointer, route: a }
        | IpOption::StrictSourceRoute { pointer, route: a } => {
            let p = usize::from(*pointer);
            let filled = o.recorded().len();
            n.push(pointer_node(p, raw.len(), 4, 4, at));
            let rr = matches!(o, IpOption::RecordRoute { .. });
            for (i, addr) in a.iter().enumerate() {
                let (key, label) = match (rr, i < filled) {
                    (true, true) => ("ip.rec_rt", "Recorded route"),
                    (true, false) => ("ip.empty_rt", "Empty route"),
                    (false, true) => ("ip.rec_rt", "Recorded route"),
                    (false, false) => ("ip.src_rt", "Source route"),
                };
                let mut v = addr.to_string();
                if 4 + 4 * i == p {
                    v.push_str(" ← pointer");
                }
                n.push(Node::new(
                    key,
                    &format!("{label} {}", i + 1),
                    v,
                    at + field::ROUTE_DATA + 4 * i,
                    4,
                ));
            }
        }
        IpOption::Timestamp {
            pointer,
            overflow,
            flag,
            entries,
        } => {
            let filled = o.stamped().len();
            let step = if flag.has_addr() { 8 } else { 4 };
            n.push(pointer_node(usize::from(*pointer), raw.len(), 5, step, at));
            n.push(Node::new(
                "ip.opt.overflow",
                "Overflow",
                overflow.to_string(),
                at + field::TS_OFLW_FLG,
                1,
            ));
            let mut flag_node = Node::new(
                "ip.opt.flag",
                "Flag",
                format!("{} ({})", flag.to_u8(), flag.name()),
                at + field::TS_OFLW_FLG,
                1,
            );
            if let TimestampFlag::Other(v) = flag {
                flag_node = flag_node.warning(format!(
                    "undefined flag {v}: RFC 791 defines 0 (tsonly), 1 (tsandaddr) and \
                     3 (tsprespec); entries read as 4-byte timestamps"
                ));
            }
            n.push(flag_node);
            let mut off = at + field::TS_DATA;
            for (i, e) in entries.iter().enumerate() {
                let state = if i < filled { "" } else { " (empty)" };
                if let Some(a) = e.addr {
                    n.push(Node::new(
                        "ip.opt.time_stamp_addr",
                        &format!("Address {}", i + 1),
                        format!("{a}{state}"),
                        off,
                        4,
                    ));
                    off += 4;
                }
                n.push(Node::new(
                    "ip.opt.time_stamp",
                    &format!("Time stamp {}", i + 1),
                    format!("{}{state}", ts_text(e.timestamp)),
                    off,
                    4,
                ));
                off += 4;
            }
        }
        IpOption::Raw(b) if b.len() > 2 => {
            let fields = raw_fields(b);
            if fields.is_empty() {
                n.push(Node::new(
                    "ip.opt.data",
                    "Data",
                    hex(&b[2..]),
                    at + field::POINTER,
                    b.len() - 2,
                ));
            }
            for (key, label, value, off, len) in fields {
                n.push(Node::new(key, label, value, at + off, len));
            }
        }
        _ => {}
    }
    n
}

/// RFC 2113's Router Alert values.
fn router_alert_text(v: u16) -> String {
    match v {
        0 => "Router shall examine packet (0)".into(),
        _ => format!("Reserved ({v})"),
    }
}

/// RFC 791's security levels (the 16-bit S field of an 11-byte Security option).
fn rfc791_security(v: u16) -> &'static str {
    match v {
        0x0000 => "Unclassified",
        0xf135 => "Confidential",
        0x789a => "EFTO",
        0xbc4d => "MMMM",
        0x5e26 => "PROG",
        0xaf13 => "Restricted",
        0xd788 => "Secret",
        0x6bc5 => "Top Secret",
        _ => "Unknown",
    }
}

/// RFC 1108's classification levels.
fn rfc1108_level(v: u8) -> &'static str {
    match v {
        0x01 => "Reserved 4",
        0x3d => "Top Secret",
        0x5a => "Secret",
        0x96 => "Confidential",
        0x66 => "Reserved 3",
        0xcc => "Reserved 2",
        0xab => "Unclassified",
        0xf1 => "Reserved 1",
        _ => "Unknown",
    }
}

/// Quick-Start's rate field as bits per second (RFC 4782: 40 kbit/s × 2^rate, 0 for 0).
fn qs_rate(r: u8) -> u64 {
    if r == 0 {
        0
    } else {
        40_000u64 << r
    }
}

/// The one-line gist of a named option kept as bytes, where its fields are decoded.
fn raw_gist(b: &[u8]) -> Option<String> {
    let u16_at = |i: usize| b.get(i..i + 2).map(|x| u16::from_be_bytes([x[0], x[1]]));
    match (b.first()?, b.len()) {
        (148, 4) => Some(router_alert_text(u16_at(2)?)),
        (136, 4) => Some(format!("stream {}", u16_at(2)?)),
        (11 | 12, 4) => Some(format!("MTU {}", u16_at(2)?)),
        (25, 8) => {
            let func = b[2] >> 4;
            let rate = qs_rate(b[2] & 0x0f);
            Some(match func {
                0 => format!("Rate request ({func}), {rate} bit/s, QS TTL {}", b[3]),
                8 => format!("Rate report ({func}), {rate} bit/s"),
                _ => format!("Function {func}, {rate} bit/s"),
            })
        }
        (82, 12) => Some(format!(
            "ID {}, outbound hops {}, return hops {}, originator {}",
            u16_at(2)?,
            u16_at(4)?,
            u16_at(6)?,
            std::net::Ipv4Addr::new(b[8], b[9], b[10], b[11])
        )),
        (130, 11) => Some(rfc791_security(u16_at(2)?).to_string()),
        (130, n) if n >= 3 => Some(rfc1108_level(b[2]).to_string()),
        _ => None,
    }
}

/// The fields of a named option kept as bytes, as Wireshark decodes them: (key, label,
/// value, offset in the option, length). Empty when the type or length is not one decoded.
fn raw_fields(b: &[u8]) -> Vec<(&'static str, &'static str, String, usize, usize)> {
    let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    match (b[0], b.len()) {
        (148, 4) => vec![(
            "ip.opt.ra",
            "Router Alert",
            router_alert_text(u16_at(2)),
            2,
            2,
        )],
        (136, 4) => vec![(
            "ip.opt.sid",
            "Stream Identifier",
            u16_at(2).to_string(),
            2,
            2,
        )],
        (11 | 12, 4) => vec![("ip.opt.mtu", "MTU", u16_at(2).to_string(), 2, 2)],
        (25, 8) => {
            let func = b[2] >> 4;
            let mut v = vec![
                (
                    "ip.opt.qs_func",
                    "Function",
                    match func {
                        0 => "Rate request (0)".to_string(),
                        8 => "Rate report (8)".to_string(),
                        f => format!("Unknown ({f})"),
                    },
                    2,
                    1,
                ),
                (
                    "ip.opt.qs_rate",
                    "Rate",
                    format!("{} bit/s ({})", qs_rate(b[2] & 0x0f), b[2] & 0x0f),
                    2,
                    1,
                ),
            ];
            v.push(if func == 0 {
                ("ip.opt.qs_ttl", "QS TTL", b[3].to_string(), 3, 1)
            } else {
                ("ip.opt.qs_unused", "Not Used", b[3].to_string(), 3, 1)
            });
            let word = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            v.push((
                "ip.opt.qs_nonce",
                "QS Nonce",
                format!("0x{:08x}", word >> 2),
                4,
                4,
            ));
            v.push((
                "ip.opt.qs_reserved",
                "Reserved",
                format!("0x{:x}", word & 3),
                7,
                1,
            ));
            v
        }
        (82, 12) => vec![
            ("ip.opt.id_number", "ID Number", u16_at(2).to_string(), 2, 2),
            (
                "ip.opt.ohc",
                "Outbound Hop Count",
                u16_at(4).to_string(),
                4,
                2,
            ),
            (
                "ip.opt.rhc",
                "Return Hop Count",
                u16_at(6).to_string(),
                6,
                2,
            ),
            (
                "ip.opt.originator",
                "Originator IP Address",
                std::net::Ipv4Addr::new(b[8], b[9], b[10], b[11]).to_string(),
                8,
                4,
            ),
        ],
        (130, 11) => vec![
            (
                "ip.opt.sec_rfc791_sec",
                "Security",
                format!("{} (0x{:04x})", rfc791_security(u16_at(2)), u16_at(2)),
                2,
                2,
            ),
            (
                "ip.opt.sec_rfc791_comp",
                "Compartments",
                u16_at(4).to_string(),
                4,
                2,
            ),
            (
                "ip.opt.sec_rfc791_hr",
                "Handling Restrictions",
                hex(&b[6..8]),
                6,
                2,
            ),
            (
                "ip.opt.sec_rfc791_tcc",
                "Transmission Control Code",
                hex(&b[8..11]),
                8,
                3,
            ),
        ],
        (130, n) if n >= 3 => {
            let mut v = vec![(
                "ip.opt.sec_cl",
                "Classification Level",
                format!("{} (0x{:02x})", rfc1108_level(b[2]), b[2]),
                2,
                1,
            )];
            if n > 3 {
                v.push((
                    "ip.opt.sec_prot_auth_flags",
                    "Protection Authority Flags",
                    hex(&b[3..]),
                    3,
                    n - 3,
                ));
            }
            v
        }
        _ => Vec::new(),
    }
}

/// The pointer of a route (`first` 4, `step` 4) or timestamp option (`first` 5, `step` 4 or 8)
/// of `len` bytes: the slot it names, `full` past the length (legal, RFC 791), and a warning
/// when it points before the first slot or between two (as Wireshark's expert info).
fn pointer_node(p: usize, len: usize, first: usize, step: usize, at: usize) -> Node {
    let n = |text: String| Node::new("ip.opt.ptr", "Pointer", text, at + field::POINTER, 1);
    if p < first {
        return n(p.to_string()).warning(format!(
            "points before the first slot (the minimum is {first})"
        ));
    }
    if p > len {
        // Past the option: full, whatever room was left over (RFC 791).
        return n(format!("{p} (full)"));
    }
    if !(p - first).is_multiple_of(step) {
        return n(p.to_string()).warning(format!(
            "points into the middle of a slot (slots start at {first} + {step}×n)"
        ));
    }
    n(format!("{p} (slot {})", (p - first) / step + 1))
}
