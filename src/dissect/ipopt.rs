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
        IpOption::Raw(_) | IpOption::Malformed { .. } => "Option",
        _ => names::ip_option_long_name(t),
    };
    let text = o.to_string();
    // Display starts with the short name ("RR: ..."); the node's name already says it.
    let value = match text.strip_prefix(o.type_name()) {
        Some(v) if v.starts_with([':', ' ']) => v.trim_start_matches(':').trim_start().to_string(),
        _ => text,
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
            n.push(Node::new(
                "ip.opt.data",
                "Data",
                hex(&b[2..]),
                at + field::POINTER,
                b.len() - 2,
            ));
        }
        _ => {}
    }
    n
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
    if !(p - first).is_multiple_of(step) {
        return n(p.to_string()).warning(format!(
            "points into the middle of a slot (slots start at {first} + {step}×n)"
        ));
    }
    if p > len {
        n(format!("{p} (full)"))
    } else {
        n(format!("{p} (slot {})", (p - first) / step + 1))
    }
}
