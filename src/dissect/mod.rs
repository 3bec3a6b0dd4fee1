//! Bytes → a tree of named fields (name, value, byte offset/length, status), for `decode`,
//! `capture -v`, `send --wait` and `craft`'s dump. No I/O.
//!
//! Field keys follow Wireshark's display-filter names where one exists (`ip.ttl`,
//! `icmp.redir_gw`, `ip.rec_rt`, ...), so a tree can be compared with `tshark -T fields` field
//! by field. Checksums are marked good or bad (with the right value); the datagram quoted in an
//! ICMP error is dissected recursively, [`MAX_QUOTE_DEPTH`] levels deep at most; bytes that
//! cannot be decoded end in an `undecoded` node and make the dissection incomplete. Nothing here
//! panics on any input, and the tree (and its text) grows linearly with the frame.

mod render;

use std::net::Ipv4Addr;

pub use render::{hexdump_beside, render_text, summary};

use crate::wire::{
    checksum, explain_pointer, parse_options, IpOption, ETHERTYPE_ARP, ETHERTYPE_IPV4,
    ETHERTYPE_VLAN,
};

/// Most ICMP errors dissected inside one another (a quote quoting a quote ...). A conforming
/// host never sends an error about an error (RFC 1122 3.2.2), so 2 levels already show
/// something odd; deeper quotes end in an `undecoded` node saying so. Without a limit a 64 KB
/// frame of nested quotes (28 bytes a level) gave thousands of levels, indented further each
/// time: output quadratic in the frame size, and a deep recursion.
pub const MAX_QUOTE_DEPTH: usize = 4;

/// What a field's value is worth.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    /// Nothing to check.
    #[default]
    Plain,
    /// A checksum that verifies.
    Good,
    /// A checksum that does not verify; the value it should have.
    Bad {
        /// The right value, e.g. `0x67ca`.
        expected: String,
    },
    /// A field that cannot be right, or bytes that could not be decoded; why.
    Malformed {
        /// Why.
        reason: String,
    },
}

impl Status {
    fn is_plain(&self) -> bool {
        *self == Status::Plain
    }

    /// Text form: "", "good", "bad (should be 0x1234)", "malformed: ...".
    pub fn text(&self) -> String {
        match self {
            Status::Plain => String::new(),
            Status::Good => "good".into(),
            Status::Bad { expected } => format!("bad (should be {expected})"),
            Status::Malformed { reason } => format!("malformed: {reason}"),
        }
    }
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// One named field (or a layer, or a group of fields).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// Machine name, Wireshark-style where one exists (`ip.ttl`).
    pub key: String,
    /// Human name (`Time to live`).
    pub name: String,
    /// The value as text (`64`, `0x0800 (IPv4)`).
    pub value: String,
    /// Byte offset in the frame.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// Checksum verdict or malformation.
    #[serde(skip_serializing_if = "Status::is_plain")]
    pub status: Status,
    /// Sub-fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    fn new(key: &str, name: &str, value: impl Into<String>, offset: usize, len: usize) -> Node {
        Node {
            key: key.into(),
            name: name.into(),
            value: value.into(),
            offset,
            len,
            status: Status::Plain,
            children: Vec::new(),
        }
    }

    fn with(mut self, status: Status) -> Node {
        self.status = status;
        self
    }

    fn malformed(mut self, reason: impl Into<String>) -> Node {
        self.status = Status::Malformed {
            reason: reason.into(),
        };
        self
    }

    fn push(&mut self, n: Node) {
        self.children.push(n);
    }

    /// Every node of this subtree, depth first, this one first.
    pub fn walk(&self) -> Vec<&Node> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }

    /// Whether this subtree holds a malformed field or undecoded bytes.
    pub fn is_malformed(&self) -> bool {
        self.walk()
            .iter()
            .any(|n| matches!(n.status, Status::Malformed { .. }))
    }
}

/// A dissected frame: its layers, top level first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dissection {
    /// Frame length in bytes.
    pub len: usize,
    /// Ethernet, 802.1Q, ARP / IPv4, ICMP, data, padding, undecoded — in frame order.
    pub layers: Vec<Node>,
    /// False when some bytes could not be decoded or a field is malformed.
    pub complete: bool,
}

impl Dissection {
    /// Every node of every layer, depth first.
    pub fn nodes(&self) -> Vec<&Node> {
        self.layers.iter().flat_map(|l| l.walk()).collect()
    }

    /// The first node with this key.
    pub fn find(&self, key: &str) -> Option<&Node> {
        self.nodes().into_iter().find(|n| n.key == key)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hex of up to 32 bytes, with the total when longer.
fn hex_preview(b: &[u8]) -> String {
    if b.len() <= 32 {
        hex(b)
    } else {
        format!("{}… ({} bytes)", hex(&b[..32]), b.len())
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

fn mac_at(b: &[u8], at: usize) -> String {
    b[at..at + 6]
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Bytes from `offset` to `end` that could not be decoded.
fn undecoded(offset: usize, bytes: &[u8], why: &str) -> Node {
    Node::new(
        "undecoded",
        "Undecoded",
        format!("{} bytes: {}", bytes.len(), hex_preview(bytes)),
        offset,
        bytes.len(),
    )
    .malformed(why)
}

fn cksum_status(data: &[u8], field_at: usize) -> Status {
    if checksum(data) == 0 {
        Status::Good
    } else {
        let mut copy = data.to_vec();
        copy[field_at] = 0;
        copy[field_at + 1] = 0;
        let right = checksum(&copy);
        Status::Bad {
            expected: format!("0x{right:04x}"),
        }
    }
}

/// Dissect a whole Ethernet frame.
pub fn dissect_frame(b: &[u8]) -> Dissection {
    let mut layers = Vec::new();
    if b.len() < 14 {
        layers.push(undecoded(
            0,
            b,
            &format!("Ethernet header needs 14 bytes, got {}", b.len()),
        ));
        return finish(b.len(), layers);
    }
    let mut eth = Node::new(
        "eth",
        "Ethernet II",
        format!("{} → {}", mac_at(b, 6), mac_at(b, 0)),
        0,
        14,
    );
    eth.push(Node::new("eth.dst", "Destination", mac_at(b, 0), 0, 6));
    eth.push(Node::new("eth.src", "Source", mac_at(b, 6), 6, 6));
    let mut ethertype = be16(b, 12);
    let mut at = 14;
    eth.push(Node::new(
        "eth.type",
        "Type",
        ethertype_text(ethertype),
        12,
        2,
    ));
    layers.push(eth);
    if ethertype == ETHERTYPE_VLAN {
        if b.len() < 18 {
            layers.push(undecoded(
                14,
                &b[14..],
                "802.1Q tag needs 4 bytes after the Ethernet header",
            ));
            return finish(b.len(), layers);
        }
        let tci = be16(b, 14);
        ethertype = be16(b, 16);
        let mut v = Node::new(
            "vlan",
            "802.1Q Virtual LAN",
            format!("ID {}, PCP {}", tci & 0x0fff, tci >> 13),
            14,
            4,
        );
        v.push(Node::new(
            "vlan.priority",
            "Priority (PCP)",
            (tci >> 13).to_string(),
            14,
            1,
        ));
        v.push(Node::new(
            "vlan.dei",
            "Drop eligible (DEI)",
            ((tci >> 12) & 1).to_string(),
            14,
            1,
        ));
        v.push(Node::new(
            "vlan.id",
            "VLAN ID",
            (tci & 0x0fff).to_string(),
            14,
            2,
        ));
        v.push(Node::new(
            "vlan.etype",
            "Type",
            ethertype_text(ethertype),
            16,
            2,
        ));
        layers.push(v);
        at = 18;
    }
    match ethertype {
        ETHERTYPE_IPV4 => {
            let end = ipv4(b, at, b.len(), 0, &mut layers);
            if end < b.len() {
                layers.push(Node::new(
                    "eth.padding",
                    "Padding",
                    format!("{} bytes: {}", b.len() - end, hex_preview(&b[end..])),
                    end,
                    b.len() - end,
                ));
            }
        }
        ETHERTYPE_ARP => arp(b, at, &mut layers),
        _ => {
            if at < b.len() {
                layers.push(data_node(b, at, b.len()));
            }
        }
    }
    finish(b.len(), layers)
}

fn finish(len: usize, layers: Vec<Node>) -> Dissection {
    let complete = !layers.iter().any(Node::is_malformed);
    Dissection {
        len,
        layers,
        complete,
    }
}

fn ethertype_text(t: u16) -> String {
    let name = match t {
        ETHERTYPE_IPV4 => " (IPv4)",
        ETHERTYPE_ARP => " (ARP)",
        ETHERTYPE_VLAN => " (802.1Q)",
        0x86dd => " (IPv6)",
        _ => "",
    };
    format!("0x{t:04x}{name}")
}

fn data_node(b: &[u8], from: usize, to: usize) -> Node {
    Node::new(
        "data",
        "Data",
        format!("{} bytes: {}", to - from, hex_preview(&b[from..to])),
        from,
        to - from,
    )
}

fn arp(b: &[u8], at: usize, layers: &mut Vec<Node>) {
    if b.len() < at + 28 {
        layers.push(undecoded(
            at,
            &b[at..],
            &format!("ARP needs 28 bytes, got {}", b.len() - at),
        ));
        return;
    }
    let op = be16(b, at + 6);
    let opname = match op {
        1 => "request",
        2 => "reply",
        _ => "unknown",
    };
    let mut n = Node::new(
        "arp",
        "Address Resolution Protocol",
        format!("{opname} {} → {}", ip_at(b, at + 14), ip_at(b, at + 24)),
        at,
        28,
    );
    n.push(Node::new(
        "arp.hw.type",
        "Hardware type",
        be16(b, at).to_string(),
        at,
        2,
    ));
    n.push(Node::new(
        "arp.proto.type",
        "Protocol type",
        format!("0x{:04x}", be16(b, at + 2)),
        at + 2,
        2,
    ));
    n.push(Node::new(
        "arp.hw.size",
        "Hardware size",
        b[at + 4].to_string(),
        at + 4,
        1,
    ));
    n.push(Node::new(
        "arp.proto.size",
        "Protocol size",
        b[at + 5].to_string(),
        at + 5,
        1,
    ));
    n.push(Node::new(
        "arp.opcode",
        "Opcode",
        format!("{op} ({opname})"),
        at + 6,
        2,
    ));
    n.push(Node::new(
        "arp.src.hw_mac",
        "Sender MAC",
        mac_at(b, at + 8),
        at + 8,
        6,
    ));
    n.push(Node::new(
        "arp.src.proto_ipv4",
        "Sender IP",
        ip_at(b, at + 14).to_string(),
        at + 14,
        4,
    ));
    n.push(Node::new(
        "arp.dst.hw_mac",
        "Target MAC",
        mac_at(b, at + 18),
        at + 18,
        6,
    ));
    n.push(Node::new(
        "arp.dst.proto_ipv4",
        "Target IP",
        ip_at(b, at + 24).to_string(),
        at + 24,
        4,
    ));
    layers.push(n);
    if b.len() > at + 28 {
        layers.push(Node::new(
            "eth.padding",
            "Padding",
            format!("{} bytes", b.len() - at - 28),
            at + 28,
            b.len() - at - 28,
        ));
    }
}

/// Dissect an IPv4 datagram at `at` (its bytes end at `end`) and what it carries, pushing the
/// layers. `depth`: how many ICMP errors quote it (0 = not quoted; inside a quote a total length
/// beyond the bytes is expected). Returns where the datagram ends (by its total length, clamped
/// to `end`).
fn ipv4(b: &[u8], at: usize, end: usize, depth: usize, layers: &mut Vec<Node>) -> usize {
    let quoted = depth > 0;
    let avail = end - at;
    let (key, name) = if quoted {
        ("icmp.quote.ip", "Quoted IPv4 header")
    } else {
        ("ip", "Internet Protocol Version 4")
    };
    if avail < 20 {
        layers.push(undecoded(
            at,
            &b[at..end],
            &format!("IPv4 header needs 20 bytes, got {avail}"),
        ));
        return end;
    }
    let h = &b[at..];
    let version = h[0] >> 4;
    let ihl = h[0] & 0x0f;
    let hl = usize::from(ihl) * 4;
    let total = usize::from(be16(h, 2));
    let mut ip = Node::new(
        key,
        name,
        format!("{} → {}", ip_at(h, 12), ip_at(h, 16)),
        at,
        hl.clamp(20, avail),
    );
    let mut v = Node::new("ip.version", "Version", version.to_string(), at, 1);
    if version != 4 {
        v = v.malformed(format!("version {version}, expected 4"));
    }
    ip.push(v);
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
    ip.push(Node::new(
        "ip.dsfield",
        "Type of service",
        format!("0x{:02x} (DSCP {}, ECN {})", h[1], h[1] >> 2, h[1] & 3),
        at + 1,
        1,
    ));
    let mut len_node = Node::new("ip.len", "Total length", total.to_string(), at + 2, 2);
    if total < hl.max(20) {
        len_node = len_node.malformed(format!("smaller than the header ({} bytes)", hl.max(20)));
        header_ok = false;
    } else if total > avail {
        if quoted {
            len_node.value = format!("{total} (quote holds {avail})");
        } else {
            len_node = len_node.malformed(format!("only {avail} bytes present"));
        }
    }
    ip.push(len_node);
    let id = be16(h, 4);
    ip.push(Node::new(
        "ip.id",
        "Identification",
        format!("0x{id:04x} ({id})"),
        at + 4,
        2,
    ));
    let ff = be16(h, 6);
    let mut names = Vec::new();
    if ff & 0x8000 != 0 {
        names.push("reserved");
    }
    if ff & 0x4000 != 0 {
        names.push("DF");
    }
    if ff & 0x2000 != 0 {
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
        at + 6,
        1,
    );
    flags.push(Node::new(
        "ip.flags.rb",
        "Reserved bit",
        ((ff >> 15) & 1).to_string(),
        at + 6,
        1,
    ));
    flags.push(Node::new(
        "ip.flags.df",
        "Don't fragment",
        ((ff >> 14) & 1).to_string(),
        at + 6,
        1,
    ));
    flags.push(Node::new(
        "ip.flags.mf",
        "More fragments",
        ((ff >> 13) & 1).to_string(),
        at + 6,
        1,
    ));
    ip.push(flags);
    let fo = ff & 0x1fff;
    ip.push(Node::new(
        "ip.frag_offset",
        "Fragment offset",
        format!("{fo} ({} bytes)", usize::from(fo) * 8),
        at + 6,
        2,
    ));
    ip.push(Node::new(
        "ip.ttl",
        "Time to live",
        h[8].to_string(),
        at + 8,
        1,
    ));
    let proto = h[9];
    ip.push(Node::new(
        "ip.proto",
        "Protocol",
        format!("{proto}{}", proto_name(proto)),
        at + 9,
        1,
    ));
    let ck = be16(h, 10);
    let mut ck_node = Node::new(
        "ip.checksum",
        "Header checksum",
        format!("0x{ck:04x}"),
        at + 10,
        2,
    );
    if header_ok || (ihl >= 5 && hl <= avail) {
        ck_node = ck_node.with(cksum_status(&h[..hl.max(20)], 10));
    }
    ip.push(ck_node);
    ip.push(Node::new(
        "ip.src",
        "Source",
        ip_at(h, 12).to_string(),
        at + 12,
        4,
    ));
    ip.push(Node::new(
        "ip.dst",
        "Destination",
        ip_at(h, 16).to_string(),
        at + 16,
        4,
    ));
    if ihl > 5 && hl <= avail {
        ip.push(options_node(&h[20..hl], at + 20));
    }
    layers.push(ip);
    if !header_ok {
        let from = if ihl >= 5 && hl <= avail {
            at + hl
        } else {
            at + 20
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
    if proto == 1 && fo == 0 {
        icmp(b, pstart, pend, at + total > end, depth, layers);
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

fn proto_name(p: u8) -> &'static str {
    match p {
        1 => " (ICMP)",
        2 => " (IGMP)",
        4 => " (IPIP)",
        6 => " (TCP)",
        17 => " (UDP)",
        47 => " (GRE)",
        50 => " (ESP)",
        _ => "",
    }
}

fn options_node(area: &[u8], at: usize) -> Node {
    let mut n = Node::new(
        "ip.options",
        "Options",
        format!("{} bytes", area.len()),
        at,
        area.len(),
    );
    let mut off = 0;
    for o in parse_options(area) {
        let len = o.wire_len().min(area.len() - off);
        n.push(option_node(&o, &area[off..off + len], at + off));
        off += len;
        if o == IpOption::EndOfList {
            break;
        }
    }
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
        IpOption::EndOfList => "End of Options List (EOL)",
        IpOption::Nop => "No-Operation (NOP)",
        IpOption::RecordRoute { .. } => "Record Route (RR)",
        IpOption::LooseSourceRoute { .. } => "Loose Source Route (LSRR)",
        IpOption::StrictSourceRoute { .. } => "Strict Source Route (SSRR)",
        IpOption::Timestamp { .. } => "Time Stamp (TS)",
        IpOption::Raw(_) => "Option",
        IpOption::Malformed { .. } => "Option",
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
                raw[1].to_string(),
                at + 1,
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
        raw[1].to_string(),
        at + 1,
        1,
    ));
    match o {
        IpOption::RecordRoute { pointer, slots: a }
        | IpOption::LooseSourceRoute { pointer, route: a }
        | IpOption::StrictSourceRoute { pointer, route: a } => {
            let p = usize::from(*pointer);
            let filled = o.recorded().len();
            let ptr_text = if p > raw.len() {
                format!("{p} (full)")
            } else {
                format!("{p} (slot {})", (p.saturating_sub(4)) / 4 + 1)
            };
            n.push(Node::new("ip.opt.ptr", "Pointer", ptr_text, at + 2, 1));
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
                    at + 3 + 4 * i,
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
            n.push(Node::new(
                "ip.opt.ptr",
                "Pointer",
                format!("{pointer} (entry {})", filled + 1),
                at + 2,
                1,
            ));
            n.push(Node::new(
                "ip.opt.overflow",
                "Overflow",
                overflow.to_string(),
                at + 3,
                1,
            ));
            n.push(Node::new(
                "ip.opt.flag",
                "Flag",
                format!("{} ({})", flag.to_u8(), flag.name()),
                at + 3,
                1,
            ));
            let mut off = at + 4;
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
                at + 2,
                b.len() - 2,
            ));
        }
        _ => {}
    }
    n
}

/// A timestamp in ms since midnight UT, as `12345678 (03:25:45.678 UT)`; high bit: non-standard.
fn ts_text(t: u32) -> String {
    if t & 0x8000_0000 != 0 {
        return format!("{t} (non-standard: {})", t & 0x7fff_ffff);
    }
    let ms = t % 1000;
    let s = t / 1000;
    if s >= 86400 {
        return format!("{t} (beyond 24 h)");
    }
    format!(
        "{t} ({:02}:{:02}:{:02}.{ms:03} UT)",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

fn icmp_type_name(t: u8) -> &'static str {
    match t {
        0 => "Echo Reply",
        3 => "Destination Unreachable",
        4 => "Source Quench",
        5 => "Redirect",
        8 => "Echo Request",
        9 => "Router Advertisement",
        10 => "Router Solicitation",
        11 => "Time Exceeded",
        12 => "Parameter Problem",
        13 => "Timestamp Request",
        14 => "Timestamp Reply",
        15 => "Information Request",
        16 => "Information Reply",
        17 => "Address Mask Request",
        18 => "Address Mask Reply",
        _ => "Unknown",
    }
}

fn code_name(t: u8, c: u8) -> String {
    let s = match (t, c) {
        (3, 0) => "net unreachable",
        (3, 1) => "host unreachable",
        (3, 2) => "protocol unreachable",
        (3, 3) => "port unreachable",
        (3, 4) => "fragmentation needed and DF set",
        (3, 5) => "source route failed",
        (3, 6) => "destination network unknown",
        (3, 7) => "destination host unknown",
        (3, 8) => "source host isolated",
        (3, 9) => "network administratively prohibited",
        (3, 10) => "host administratively prohibited",
        (3, 11) => "network unreachable for TOS",
        (3, 12) => "host unreachable for TOS",
        (3, 13) => "communication administratively prohibited",
        (3, 14) => "host precedence violation",
        (3, 15) => "precedence cutoff in effect",
        (5, 0) => "redirect for network",
        (5, 1) => "redirect for host",
        (5, 2) => "redirect for TOS and network",
        (5, 3) => "redirect for TOS and host",
        (11, 0) => "TTL exceeded in transit",
        (11, 1) => "fragment reassembly time exceeded",
        (12, 0) => "pointer indicates the error",
        (12, 1) => "missing a required option",
        (12, 2) => "bad length",
        (_, 0) => "",
        _ => "unexpected code for this type",
    };
    if s.is_empty() {
        c.to_string()
    } else {
        format!("{c} ({s})")
    }
}

/// Dissect ICMP at `at..end`. `cut`: the IP datagram is longer than the bytes present (a quote),
/// so the checksum cannot be verified. `depth`: as for [`ipv4`].
fn icmp(b: &[u8], at: usize, end: usize, cut: bool, depth: usize, layers: &mut Vec<Node>) {
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
    let (t, c) = (m[0], m[1]);
    let mut n = Node::new(
        key,
        if quoted {
            "Quoted ICMP header"
        } else {
            "Internet Control Message Protocol"
        },
        format!("{} ({t}/{c})", icmp_type_name(t)),
        at,
        m.len(),
    );
    n.push(Node::new(
        "icmp.type",
        "Type",
        format!("{t} ({})", icmp_type_name(t)),
        at,
        1,
    ));
    n.push(Node::new("icmp.code", "Code", code_name(t, c), at + 1, 1));
    let ck = be16(m, 2);
    let mut ck_node = Node::new(
        "icmp.checksum",
        "Checksum",
        format!("0x{ck:04x}"),
        at + 2,
        2,
    );
    ck_node = if cut {
        ck_node
            .value
            .push_str(" (not verifiable: message cut short)");
        ck_node
    } else {
        ck_node.with(cksum_status(m, 2))
    };
    n.push(ck_node);
    if m.len() < 8 {
        layers.push(n);
        layers.push(undecoded(
            at + 4,
            &m[4..],
            &format!("ICMP header needs 8 bytes, got {}", m.len()),
        ));
        return;
    }
    let idseq = |n: &mut Node| {
        let (id, seq) = (be16(m, 4), be16(m, 6));
        n.push(Node::new(
            "icmp.ident",
            "Identifier",
            format!("{id} (0x{id:04x})"),
            at + 4,
            2,
        ));
        n.push(Node::new(
            "icmp.seq",
            "Sequence number",
            format!("{seq} (0x{seq:04x})"),
            at + 6,
            2,
        ));
    };
    let mut body_from = 8;
    let mut quote = false;
    let mut need = 8;
    match t {
        0 | 8 | 15 | 16 => idseq(&mut n),
        13 | 14 => {
            idseq(&mut n);
            need = 20;
        }
        17 | 18 => {
            idseq(&mut n);
            need = 12;
        }
        3 if c == 4 => {
            n.push(Node::new(
                "icmp.unused",
                "Unused",
                format!("0x{:04x}", be16(m, 4)),
                at + 4,
                2,
            ));
            n.push(Node::new(
                "icmp.mtu",
                "Next-hop MTU",
                be16(m, 6).to_string(),
                at + 6,
                2,
            ));
            quote = true;
        }
        3 => {
            n.push(Node::new("icmp.unused", "Unused", hex(&m[4..8]), at + 4, 4));
            quote = true;
        }
        5 => {
            n.push(Node::new(
                "icmp.redir_gw",
                "Gateway address",
                ip_at(m, 4).to_string(),
                at + 4,
                4,
            ));
            quote = true;
        }
        12 => {
            let p = m[4];
            let quoted_hdr = &m[8..];
            n.push(Node::new(
                "icmp.pointer",
                "Pointer",
                format!("{p} ({})", explain_pointer(quoted_hdr, p)),
                at + 4,
                1,
            ));
            n.push(Node::new("icmp.unused", "Unused", hex(&m[5..8]), at + 5, 3));
            quote = true;
        }
        4 | 11 => {
            n.push(Node::new("icmp.unused", "Unused", hex(&m[4..8]), at + 4, 4));
            quote = true;
        }
        9 => {
            let (num, size) = (usize::from(m[4]), m[5]);
            n.push(Node::new(
                "icmp.num_addrs",
                "Number of addresses",
                num.to_string(),
                at + 4,
                1,
            ));
            n.push(Node::new(
                "icmp.addr_entry_size",
                "Address entry size",
                format!("{size} (words)"),
                at + 5,
                1,
            ));
            n.push(Node::new(
                "icmp.lifetime",
                "Lifetime",
                format!("{} s", be16(m, 6)),
                at + 6,
                2,
            ));
            let stride = usize::from(size).max(2) * 4;
            need = 8 + num * stride;
            if size < 2 {
                if let Some(es) = n.children.last_mut() {
                    es.status = Status::Malformed {
                        reason: "below the minimum 2 words".into(),
                    };
                }
            }
            if m.len() >= need {
                for i in 0..num {
                    let o = 8 + i * stride;
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
            hex(&m[4..8]),
            at + 4,
            4,
        )),
        _ => n.push(Node::new(
            "icmp.rest",
            "Rest of header",
            hex(&m[4..8]),
            at + 4,
            4,
        )),
    }
    if m.len() < need {
        layers.push(n);
        layers.push(undecoded(
            at + 8,
            &m[8..],
            &format!("{} needs {need} bytes, got {}", icmp_type_name(t), m.len()),
        ));
        return;
    }
    match t {
        13 | 14 => {
            for (i, (k, name)) in [
                ("icmp.originate_timestamp", "Originate timestamp"),
                ("icmp.receive_timestamp", "Receive timestamp"),
                ("icmp.transmit_timestamp", "Transmit timestamp"),
            ]
            .into_iter()
            .enumerate()
            {
                n.push(Node::new(
                    k,
                    name,
                    ts_text(be32(m, 8 + 4 * i)),
                    at + 8 + 4 * i,
                    4,
                ));
            }
            body_from = 20;
        }
        17 | 18 => {
            n.push(Node::new(
                "icmp.address_mask",
                "Address mask",
                ip_at(m, 8).to_string(),
                at + 8,
                4,
            ));
            body_from = 12;
        }
        _ => {}
    }
    if quote {
        n.len = 8;
        layers.push(n);
        if m.len() > 8 && depth >= MAX_QUOTE_DEPTH {
            layers.push(undecoded(
                at + 8,
                &m[8..],
                &format!(
                    "quoted datagram not dissected: ICMP errors nested deeper than \
                     {MAX_QUOTE_DEPTH} levels"
                ),
            ));
        } else if m.len() > 8 {
            let mut inner = Vec::new();
            ipv4(b, at + 8, end, depth + 1, &mut inner);
            let mut q = Node::new(
                "icmp.quote",
                "Quoted datagram",
                format!("{} bytes", m.len() - 8),
                at + 8,
                m.len() - 8,
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

#[cfg(test)]
mod tests;
