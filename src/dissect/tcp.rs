//! TCP, read through [`TcpPacket`]: ports, sequence numbers, flags, options; the checksum
//! verified over the IPv4 pseudo-header when every byte it covers is present. A segment quoted
//! in an ICMP error usually holds only its first 8 bytes: ports and sequence number, no verdict.

use std::net::IpAddr;

use super::{data_node, hex, undecoded, Node, Status};
use crate::wire::field::tcp as field;
use crate::wire::names;
use crate::wire::tcp::{flags_text, TcpOption, TCP_MIN_HEADER_LEN};
use crate::wire::{be16, be32, TcpPacket};

/// Dissect TCP at `at..end` sent from `src` to `dst`. `unverifiable`: why the checksum gets no
/// verdict (a quote, a first fragment, a segment cut short), if so.
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
        ("icmp.quote.tcp", "Quoted TCP header")
    } else {
        ("tcp", "Transmission Control Protocol")
    };
    if m.len() < 4 {
        if !m.is_empty() {
            layers.push(undecoded(
                at,
                m,
                &format!(
                    "TCP header needs {TCP_MIN_HEADER_LEN} bytes, got {}",
                    m.len()
                ),
            ));
        }
        return;
    }
    let (sp, dp) = (be16(m, 0), be16(m, 2));
    let mut n = Node::new(key, name, format!("{sp} → {dp}"), at, m.len());
    n.push(Node::new(
        "tcp.srcport",
        "Source port",
        sp.to_string(),
        at,
        2,
    ));
    n.push(Node::new(
        "tcp.dstport",
        "Destination port",
        dp.to_string(),
        at + field::DST_PORT.start,
        2,
    ));
    if m.len() >= field::SEQ.end {
        n.push(Node::new(
            "tcp.seq_raw",
            "Sequence number",
            be32(m, field::SEQ.start).to_string(),
            at + field::SEQ.start,
            4,
        ));
    }
    let v = match TcpPacket::new_checked(m) {
        Ok(v) => v,
        Err(e) => {
            let from = m.len().min(field::SEQ.end);
            n.len = from;
            layers.push(n);
            if from < m.len() || !quoted {
                let mut u = undecoded(at + from, &m[from..], &e.to_string());
                if quoted {
                    // A quote may end anywhere after 8 bytes: say so, but it is no fault.
                    u.status = Status::Plain;
                    u.key = "icmp.quote.data".into();
                    u.name = "Rest of the quoted TCP header".into();
                }
                if !u.value.starts_with("0 bytes") {
                    layers.push(u);
                }
            }
            return;
        }
    };
    let hl = v.header_len();
    n.len = hl;
    n.value = format!("{sp} → {dp} [{}]", flags_text(v.flags()));
    n.push(Node::new(
        "tcp.ack_raw",
        "Acknowledgment number",
        v.ack().to_string(),
        at + field::ACK.start,
        4,
    ));
    n.push(Node::new(
        "tcp.hdr_len",
        "Header length",
        format!("{hl} bytes (data offset {})", v.data_offset()),
        at + field::DATA_OFF,
        1,
    ));
    let f = v.flags();
    let mut fl = Node::new(
        "tcp.flags",
        "Flags",
        format!("0x{f:03x} ({})", names::tcp_flag_names(f)),
        at + field::DATA_OFF,
        2,
    );
    if v.reserved() != 0 {
        fl = fl.malformed(format!("reserved bits set: {:#x}", v.reserved()));
    }
    n.push(fl);
    n.push(Node::new(
        "tcp.window_size_value",
        "Window",
        v.window().to_string(),
        at + field::WINDOW.start,
        2,
    ));
    let ck = v.checksum();
    let mut ck_node = Node::new(
        "tcp.checksum",
        "Checksum",
        format!("0x{ck:04x}"),
        at + field::CHECKSUM.start,
        2,
    );
    if let Some(why) = unverifiable {
        ck_node.value.push_str(&format!(" (not verifiable: {why})"));
    } else {
        let (ok, right) = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (v.verify_checksum(s, d), v.right_checksum(s, d)),
            (IpAddr::V4(_), IpAddr::V6(_)) | (IpAddr::V6(_), IpAddr::V4(_)) => (true, 0),
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let mut z = m.to_vec();
                let mut c = TcpPacket::new_unchecked(&mut z[..]);
                c.fill_checksum_v6(s, d);
                (v.verify_checksum_v6(s, d), c.checksum())
            }
        };
        ck_node = ck_node.with(if ok {
            Status::Good
        } else {
            Status::Bad {
                expected: format!("0x{right:04x}"),
            }
        });
    }
    n.push(ck_node);
    n.push(Node::new(
        "tcp.urgent_pointer",
        "Urgent pointer",
        v.urgent().to_string(),
        at + field::URGENT.start,
        2,
    ));
    if hl > TCP_MIN_HEADER_LEN {
        n.push(options_node(v.options(), at + field::OPTIONS));
    }
    layers.push(n);
    if m.len() > hl {
        let mut d = data_node(b, at + hl, end);
        if quoted {
            d.key = "icmp.quote.data".into();
        }
        layers.push(d);
    }
}

fn options_node(opts: &[u8], at: usize) -> Node {
    let mut n = Node::new(
        "tcp.options",
        "Options",
        format!("{} bytes", opts.len()),
        at,
        opts.len(),
    );
    let mut off = at;
    for o in crate::wire::tcp::parse_tcp_options(opts) {
        let len = o.len();
        let kind = match &o {
            TcpOption::Raw(_) => None,
            TcpOption::Other { kind, .. } => Some(*kind),
            _ => opts.get(off - at).copied(),
        };
        let title = kind.map_or("Undecodable option bytes", names::tcp_option_name);
        let mut c = Node::new("tcp.option_kind", title, o.describe(), off, len);
        match &o {
            TcpOption::Mss(v) => c.push(Node::new(
                "tcp.options.mss_val",
                "MSS",
                v.to_string(),
                off + 2,
                2,
            )),
            TcpOption::WindowScale(s) => c.push(Node::new(
                "tcp.options.wscale.shift",
                "Shift count",
                format!("{s} (multiply by {})", 1u64 << (*s).min(30)),
                off + 2,
                1,
            )),
            TcpOption::Sack(blocks) => {
                for (i, (l, r)) in blocks.iter().enumerate() {
                    c.push(Node::new(
                        "tcp.options.sack_le",
                        "Left edge",
                        l.to_string(),
                        off + 2 + 8 * i,
                        4,
                    ));
                    c.push(Node::new(
                        "tcp.options.sack_re",
                        "Right edge",
                        r.to_string(),
                        off + 6 + 8 * i,
                        4,
                    ));
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                c.push(Node::new(
                    "tcp.options.timestamp.tsval",
                    "Timestamp value",
                    tsval.to_string(),
                    off + 2,
                    4,
                ));
                c.push(Node::new(
                    "tcp.options.timestamp.tsecr",
                    "Timestamp echo reply",
                    tsecr.to_string(),
                    off + 6,
                    4,
                ));
            }
            TcpOption::Raw(bytes) => {
                c = c.malformed(format!(
                    "{} bytes that do not form an option: {}",
                    bytes.len(),
                    hex(bytes)
                ));
            }
            _ => {}
        }
        n.push(c);
        off += len;
    }
    n
}
