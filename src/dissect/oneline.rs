//! The one-line form of a frame as `tcpdump -nn` prints it (and `-v`, `-e`): TCP with its flags,
//! sequence numbers relative to the connection, window and options; UDP with its length; ICMP
//! in tcpdump's words; names for the IP protocols tcpdump names; ARP with the ARP length; IPv6
//! with its extension headers (walked by the one walker), ICMPv6 and NDP as tcpdump prints them.
//! Application protocols are not decoded: a line ends after the transport's `length N`.
//!
//! tcpdump numbers a TCP connection's sequence and acknowledgement numbers from the first
//! segment it sees with ACK set (a SYN-ACK starts a connection again), so [`OneLine`] keeps
//! that state across the frames of one capture. Everything reads through the [`crate::wire`]
//! views; nothing here panics on any input.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::{EthernetFrame, IcmpPacket, Ipv4Packet, MacAddr, TcpPacket, UdpPacket};

/// Connections remembered for relative sequence numbers; past this, new connections print
/// absolute numbers (tcpdump's table grows without bound).
const MAX_CONNECTIONS: usize = 1 << 16;

/// A connection as tcpdump keys it: the lower port's side first.
type ConnKey = (IpAddr, IpAddr, u32);

/// The one-line renderer of one capture: options and TCP connection state.
#[derive(Debug, Default, Clone)]
pub struct OneLine {
    /// tcpdump's `-v`: the IP header in parentheses before the addresses.
    pub verbose: bool,
    /// tcpdump's `-e`: the link-level header first.
    pub link_level: bool,
    tcp: HashMap<ConnKey, (u32, u32)>,
    /// How many quoted datagrams deep the line is.
    depth: usize,
}

/// Linux cooked (SLL) link type.
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// Linux cooked v2 (SLL2) link type.
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

impl OneLine {
    /// A renderer with tcpdump's `-v` and `-e` as given.
    pub fn new(verbose: bool, link_level: bool) -> Self {
        OneLine {
            verbose,
            link_level,
            tcp: HashMap::new(),
            depth: 0,
        }
    }

    /// The line of a record of `linktype` (1 Ethernet, 113 SLL, 276 SLL2); `wire_len` is its
    /// length on the wire (more than `data.len()` when the capture cut it).
    pub fn line(&mut self, linktype: u32, data: &[u8], wire_len: usize) -> String {
        match linktype {
            LINKTYPE_LINUX_SLL => self.sll(data, wire_len),
            LINKTYPE_LINUX_SLL2 => self.sll2(data, wire_len),
            1 => self.ethernet(data, wire_len),
            // Raw IP (LINKTYPE_RAW, DLT_RAW, IPv4, IPv6): the version nibble tells.
            101 | 12 | 14 | 228 | 229 => {
                let wire_len = wire_len.max(data.len());
                let proto = match data.first().map(|b| b >> 4) {
                    Some(6) => 0x86dd,
                    _ => 0x0800,
                };
                self.network(proto, data, wire_len)
                    .unwrap_or_else(|| format!("[|raw], length {wire_len}"))
            }
            // BSD loopback: a 4-byte address family in the host's (NULL) or network (LOOP)
            // byte order.
            0 | 108 if data.len() >= 4 => {
                let wire_len = wire_len.max(data.len());
                let af = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                let af = if af > 0xffff { af.swap_bytes() } else { af };
                let proto = match af {
                    2 => 0x0800,
                    24 | 28 | 30 => 0x86dd,
                    _ => 0,
                };
                let mut s = String::new();
                if self.link_level {
                    let name = if proto == 0x0800 { "IPv4" } else { "IPv6" };
                    let _ = write!(s, "AF {name} ({af}), length {wire_len}: ");
                }
                match self.network(proto, &data[4..], wire_len - 4) {
                    Some(b) => s.push_str(&b),
                    None => {
                        let _ = write!(s, "AF {af}, length {wire_len}");
                    }
                }
                s
            }
            l => format!(
                "[link type {l} not decoded], length {}",
                wire_len.max(data.len())
            ),
        }
    }

    /// The line of an Ethernet frame.
    pub fn ethernet(&mut self, data: &[u8], wire_len: usize) -> String {
        let wire_len = wire_len.max(data.len());
        let Ok(f) = EthernetFrame::new_checked(data) else {
            return format!(
                "malformed frame ({} bytes): shorter than an Ethernet header",
                data.len()
            );
        };
        let mut s = String::new();
        if self.link_level {
            let outer = f.outer_ethertype();
            let _ = write!(
                s,
                "{} > {}, ethertype {} (0x{outer:04x}), length {wire_len}: ",
                f.src(),
                f.dst(),
                ethertype_name(outer)
            );
            let mut tags = f.tags().peekable();
            while let Some(t) = tags.next() {
                let next = tags.peek().map_or(f.ethertype(), |n| n.tpid);
                let _ = write!(s, "vlan {}, p {}, ", t.vid(), t.pcp());
                if t.dei() {
                    s.push_str("DEI, ");
                }
                let _ = write!(s, "ethertype {} (0x{next:04x}), ", ethertype_name(next));
            }
        }
        let rest = wire_len.saturating_sub(f.header_len());
        match self.network(f.ethertype(), f.payload(), rest) {
            Some(body) => s.push_str(&body),
            None if self.link_level => {
                // An EtherType tcpdump has no decoder for: it stops after the header.
                s.truncate(s.trim_end_matches(", ").trim_end_matches(": ").len());
            }
            None => {
                let _ = write!(
                    s,
                    "{} > {}, ethertype {} (0x{:04x}), length {wire_len}",
                    f.src(),
                    f.dst(),
                    ethertype_name(f.ethertype()),
                    f.ethertype()
                );
            }
        }
        s
    }

    /// A Linux cooked (SLL) frame: 16-byte header, the protocol at 14.
    fn sll(&mut self, data: &[u8], wire_len: usize) -> String {
        let wire_len = wire_len.max(data.len());
        if data.len() < 16 {
            return format!("[|sll] frame of {} bytes, its header takes 16", data.len());
        }
        let pkttype = u16::from_be_bytes([data[0], data[1]]);
        let halen = usize::from(u16::from_be_bytes([data[4], data[5]]));
        let proto = u16::from_be_bytes([data[14], data[15]]);
        let mut s = String::new();
        if self.link_level {
            let _ = write!(s, "{:>3} ", pkttype_name(pkttype));
            s.push_str(&link_addr(&data[6..14], halen));
            s.push(' ');
            let _ = write!(s, "{}, length {wire_len}: ", sll_protocol(proto));
        }
        self.cooked_body(s, proto, &data[16..], wire_len - 16)
    }

    /// A Linux cooked v2 (SLL2) frame: 20-byte header, the protocol first.
    fn sll2(&mut self, data: &[u8], wire_len: usize) -> String {
        let wire_len = wire_len.max(data.len());
        if data.len() < 20 {
            return format!("[|sll2] frame of {} bytes, its header takes 20", data.len());
        }
        let proto = u16::from_be_bytes([data[0], data[1]]);
        let ifindex = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
        let pkttype = u16::from(data[10]);
        let halen = usize::from(data[11]);
        // tcpdump names the interface of the capturing host by its index, or `?`.
        let ifname = if_name(ifindex).unwrap_or_else(|| "?".into());
        let mut s = format!("{ifname:<5} {:<3} ", pkttype_name(pkttype));
        if self.link_level {
            let _ = write!(s, "ifindex {ifindex} ");
            s.push_str(&link_addr(&data[12..20], halen));
            s.push(' ');
            let _ = write!(s, "{}, length {wire_len}: ", sll_protocol(proto));
        }
        self.cooked_body(s, proto, &data[20..], wire_len - 20)
    }

    fn cooked_body(&mut self, mut s: String, proto: u16, payload: &[u8], rest: usize) -> String {
        match self.network(proto, payload, rest) {
            Some(b) => s.push_str(&b),
            None if self.link_level => {
                s.truncate(s.trim_end_matches(": ").len());
            }
            None => {
                let _ = write!(s, "{}, length {rest}", sll_protocol(proto));
            }
        }
        s
    }

    /// What follows the link header, for the EtherTypes decoded; None for the others.
    fn network(&mut self, ethertype: u16, payload: &[u8], wire_len: usize) -> Option<String> {
        match ethertype {
            0x0800 => Some(self.ipv4(payload)),
            0x86dd => Some(self.ipv6(payload)),
            0x0806 => Some(self.arp(payload, wire_len)),
            _ => None,
        }
    }

    fn arp(&self, b: &[u8], len: usize) -> String {
        let mut s = String::new();
        if !self.link_level {
            s.push_str("ARP, ");
        }
        if b.len() < 8 {
            return format!("{s}[|ARP]");
        }
        let (hrd, pro) = (
            u16::from_be_bytes([b[0], b[1]]),
            u16::from_be_bytes([b[2], b[3]]),
        );
        let (hln, pln) = (usize::from(b[4]), usize::from(b[5]));
        let op = u16::from_be_bytes([b[6], b[7]]);
        if hrd != 1 || pro != 0x0800 || hln != 6 || pln != 4 || b.len() < 28 {
            let _ = write!(s, "hardware type {hrd}, protocol 0x{pro:04x}, length {len}");
            return s;
        }
        if self.verbose {
            s.push_str("Ethernet (len 6), IPv4 (len 4), ");
        }
        let sha = MacAddr::new(b[8], b[9], b[10], b[11], b[12], b[13]);
        let spa = Ipv4Addr::new(b[14], b[15], b[16], b[17]);
        let tha = MacAddr::new(b[18], b[19], b[20], b[21], b[22], b[23]);
        let tpa = Ipv4Addr::new(b[24], b[25], b[26], b[27]);
        match op {
            1 => {
                let _ = write!(s, "Request who-has {tpa}");
                if tha != MacAddr::zero() {
                    let _ = write!(s, " ({tha})");
                }
                let _ = write!(s, " tell {spa}");
            }
            2 => {
                let _ = write!(s, "Reply {spa} is-at {sha}");
            }
            3 => {
                let _ = write!(s, "Reverse Request who-is {tha} tell {sha}");
            }
            4 => {
                let _ = write!(s, "Reverse Reply {tha} at {tpa}");
            }
            op => {
                let _ = write!(s, "Unknown ({op})");
            }
        }
        let _ = write!(s, ", length {len}");
        s
    }

    fn ipv4(&mut self, b: &[u8]) -> String {
        let mut s = String::new();
        if !self.link_level {
            s.push_str("IP ");
        }
        let Ok(ip) = Ipv4Packet::new_checked(b) else {
            let hlen = usize::from(b.first().map_or(0, |v| v & 0xf)) * 4;
            if b.len() >= 20 && b[0] >> 4 == 4 && hlen > b.len() {
                // The capture cut the header's options.
                let _ = write!(
                    s,
                    "{} > {}:  [remaining caplen({}) < header length({hlen})] ",
                    Ipv4Addr::new(b[12], b[13], b[14], b[15]),
                    Ipv4Addr::new(b[16], b[17], b[18], b[19]),
                    b.len()
                );
            }
            s.push_str("[|ip]");
            return s;
        };
        let hlen = ip.header_len();
        let total = usize::from(ip.total_len());
        let (src, dst) = (IpAddr::V4(ip.src()), IpAddr::V4(ip.dst()));
        let proto = ip.protocol();
        let more = ip.more_fragments();
        if self.verbose {
            let tos = ip.tos();
            let _ = write!(s, "(tos 0x{tos:x}");
            match tos & 3 {
                1 => s.push_str(",ECT(1)"),
                2 => s.push_str(",ECT(0)"),
                3 => s.push_str(",CE"),
                _ => {}
            }
            if ip.ttl() >= 1 {
                let _ = write!(s, ", ttl {}", ip.ttl());
            }
            let mut flags = Vec::new();
            if more {
                flags.push("+");
            }
            if ip.dont_fragment() {
                flags.push("DF");
            }
            if ip.reserved_flag() {
                flags.push("rsvd");
            }
            let flags = if flags.is_empty() {
                "none".to_string()
            } else {
                flags.join(", ")
            };
            let _ = write!(
                s,
                ", id {}, offset {}, flags [{flags}], proto {} ({proto}), length {total}",
                ip.ident(),
                usize::from(ip.frag_offset()) * 8,
                ip_proto_name(proto).unwrap_or("unknown"),
            );
            if hlen > 20 {
                s.push_str(", options (");
                ip_options(&mut s, ip.options());
                s.push(')');
            }
            if !ip.verify_checksum() {
                let right = crate::wire::checksum(&{
                    let mut h = ip.header().to_vec();
                    h[10] = 0;
                    h[11] = 0;
                    h
                });
                let _ = write!(s, ", bad cksum {:x} (->{right:x})!", ip.checksum());
            }
            s.push_str(")\n    ");
        }
        let payload = ip.payload();
        let plen = total.saturating_sub(hlen);
        if ip.frag_offset() != 0 {
            // A later fragment: no transport header, only the protocol's number (-n).
            let _ = write!(s, "{src} > {dst}: ip-proto-{proto}");
            return s;
        }
        self.transport(&mut s, src, dst, proto, payload, plen, more);
        s
    }

    fn ipv6(&mut self, b: &[u8]) -> String {
        use crate::wire::ipv6ext::{ExtKind, FragmentHeader, OptionIter, RoutingHeader};
        use crate::wire::{ChainEnd, ExtChain};
        let mut s = String::new();
        if !self.link_level {
            s.push_str("IP6 ");
        }
        if b.len() < 40 || b[0] >> 4 != 6 {
            s.push_str("[|ip6]");
            return s;
        }
        let plen = usize::from(u16::from_be_bytes([b[4], b[5]]));
        let next = b[6];
        let hlim = b[7];
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[8..24]);
        let src6 = Ipv6Addr::from(a);
        a.copy_from_slice(&b[24..40]);
        let dst6 = Ipv6Addr::from(a);
        let (src, dst) = (IpAddr::V6(src6), IpAddr::V6(dst6));
        if self.verbose {
            let flow = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let class = (flow >> 20) & 0xff;
            let label = flow & 0xfffff;
            if class != 0 {
                let _ = write!(s, "(class 0x{class:x}, ");
            } else {
                s.push('(');
            }
            if label != 0 {
                let _ = write!(s, "flowlabel 0x{label:05x}, ");
            }
            let _ = write!(
                s,
                "hlim {hlim}, next-header {} ({next}) payload length: {plen}) ",
                ip6_next_name(next)
            );
        }
        let end = (40 + plen).min(b.len());
        let payload = &b[40..end];
        let _ = write!(s, "{src} > {dst}: ");
        let mut chain = ExtChain::new(next, payload);
        let mut fragmented = false;
        let mut any_ext = false;
        for h in &mut chain {
            let Ok(h) = h else {
                s.push_str("[|ip6]");
                return s;
            };
            any_ext = true;
            match h.kind {
                ExtKind::HopByHop | ExtKind::DestOpts => {
                    s.push_str(if h.kind == ExtKind::HopByHop {
                        "HBH "
                    } else {
                        "DSTOPT "
                    });
                    if self.verbose {
                        for o in OptionIter::new(h.bytes) {
                            let Ok(o) = o else { break };
                            let d = o.data;
                            match o.opt_type {
                                0 => s.push_str("(pad1)"),
                                1 => s.push_str("(padn)"),
                                5 if d.len() == 2 => {
                                    let _ = write!(
                                        s,
                                        "(rtalert: 0x{:04x}) ",
                                        u16::from_be_bytes([d[0], d[1]])
                                    );
                                }
                                0xc2 if d.len() == 4 => {
                                    let _ = write!(
                                        s,
                                        "(jumbo: {}) ",
                                        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
                                    );
                                }
                                t => {
                                    let _ = write!(s, "(opt_type 0x{t:02x}: len={})", d.len());
                                }
                            }
                        }
                        s.push(' ');
                    }
                }
                ExtKind::Routing => {
                    let r = RoutingHeader::new_unchecked(h.bytes);
                    let t = r.routing_type();
                    let _ = write!(s, "RT6 (len={}, type={t}", h.bytes[1]);
                    let d = &h.bytes[4..];
                    match t {
                        0 => {
                            let _ = write!(s, " [Deprecated], segleft={}", r.segments_left());
                            if self.verbose {
                                let _ = write!(
                                    s,
                                    ", rsv=0x{:x}",
                                    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
                                );
                            }
                            for (i, c) in d[4..].chunks_exact(16).enumerate() {
                                let mut o = [0u8; 16];
                                o.copy_from_slice(c);
                                let _ = write!(s, ", [{i}]{}", Ipv6Addr::from(o));
                            }
                        }
                        4 => {
                            let _ =
                                write!(s, ", segleft={}, last-entry={}", r.segments_left(), d[0]);
                            if self.verbose {
                                let _ = write!(s, ", flags=0x{:x}", d[1]);
                            }
                            let _ = write!(s, ", tag={:x}", u16::from_be_bytes([d[2], d[3]]));
                            let n = (usize::from(d[0]) + 1).min((d.len() - 4) / 16);
                            for i in 0..n {
                                let mut o = [0u8; 16];
                                o.copy_from_slice(&d[4 + 16 * i..20 + 16 * i]);
                                let _ = write!(s, ", [{i}]{}", Ipv6Addr::from(o));
                            }
                        }
                        _ => {
                            let _ = write!(s, ", segleft={}", r.segments_left());
                        }
                    }
                    s.push_str(") ");
                }
                ExtKind::Fragment => {
                    let f = FragmentHeader::new_unchecked(h.bytes);
                    let off = usize::from(f.frag_offset()) * 8;
                    let len = payload.len().saturating_sub(h.offset + 8);
                    let len = plen.saturating_sub(h.offset + 8).max(len);
                    if self.verbose {
                        let _ = write!(s, "frag (0x{:08x}:{off}|{len})", f.ident());
                    } else {
                        let _ = write!(s, "frag ({off}|{len})");
                    }
                    if off != 0 {
                        return s;
                    }
                    s.push(' ');
                    // tcpdump verifies no checksum behind a Fragment header, atomic or not.
                    fragmented = true;
                }
                ExtKind::Ah if h.bytes.len() >= 12 => {
                    let a = h.bytes;
                    let icv: String = a[12..].iter().map(|x| format!("{x:02x}")).collect();
                    s.push_str("AH(");
                    if self.verbose {
                        let _ = write!(s, "length={}({}-bytes),", a[1], a.len());
                    }
                    let _ = write!(
                        s,
                        "spi=0x{:08x},seq=0x{:x},icv=0x{icv}): ",
                        u32::from_be_bytes([a[4], a[5], a[6], a[7]]),
                        u32::from_be_bytes([a[8], a[9], a[10], a[11]])
                    );
                }
                ExtKind::Ah | ExtKind::Generic(_) => {
                    let _ = write!(s, "{} ", ip6_next_name(h.kind.protocol()));
                }
            }
        }
        let Some(ChainEnd::Upper { protocol, offset }) = chain.end() else {
            match chain.end() {
                Some(ChainEnd::Esp { offset }) if payload.len() >= offset + 8 => {
                    let p = &payload[offset..];
                    let _ = write!(
                        s,
                        "ESP(spi=0x{:08x},seq=0x{:x}), length {}",
                        u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
                        u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
                        plen.saturating_sub(offset)
                    );
                }
                Some(ChainEnd::NoNextHeader { .. }) => s.push_str("no next header"),
                _ => {
                    s.truncate(s.trim_end().len());
                }
            }
            return s;
        };
        let up = &payload[offset..];
        let ulen = plen.saturating_sub(offset);
        let fdst = IpAddr::V6(crate::wire::ipv6ext::final_destination(dst6, next, payload));
        match protocol {
            6 | 17 => {
                let mut t = String::new();
                if protocol == 6 {
                    self.tcp(&mut t, (src, fdst), up, ulen, fragmented);
                } else {
                    udp(&mut t, src, fdst, up, ulen, fragmented);
                }
                if up.len() >= 4 {
                    let (sp, dp) = (
                        u16::from_be_bytes([up[0], up[1]]),
                        u16::from_be_bytes([up[2], up[3]]),
                    );
                    let with = format!("{src}.{sp} > {fdst}.{dp}: ");
                    let body = t.strip_prefix(&with).unwrap_or(&t).to_string();
                    // The addresses are printed already; tcpdump repeats them beside the
                    // ports only when the transport header follows the IPv6 header directly.
                    if any_ext {
                        let _ = write!(s, "{sp} > {dp}: ");
                    } else {
                        s.truncate(s.len() - format!("{src} > {dst}: ").len());
                        let _ = write!(s, "{src}.{sp} > {dst}.{dp}: ");
                    }
                    let mut body = body;
                    if protocol == 17
                        && self.verbose
                        && !fragmented
                        && up.len() >= ulen
                        && ulen >= 8
                    {
                        let ck = u16::from_be_bytes([up[6], up[7]]);
                        let mut z = up[..ulen].to_vec();
                        z[6] = 0;
                        z[7] = 0;
                        let right = transport_sum(src, fdst, 17, &z);
                        let mark = if transport_sum(src, fdst, 17, &up[..ulen]) == 0 {
                            "[udp sum ok] ".to_string()
                        } else {
                            format!("[bad udp cksum 0x{ck:04x} -> 0x{right:04x}!] ")
                        };
                        body.insert_str(0, &mark);
                    }
                    s.push_str(&body);
                } else {
                    s.push_str(&t);
                }
            }
            58 => {
                self.icmp6(&mut s, (src6, fdst), up, ulen, fragmented);
            }
            p => {
                let _ = match ip_proto_name(p) {
                    Some(n) => write!(s, "{n} {ulen}"),
                    None => write!(s, "ip-proto-{p} {ulen}"),
                };
            }
        }
        s
    }

    /// `ICMP6, ...` as tcpdump prints it (-v: the checksum checked, ND lengths first).
    fn icmp6(
        &self,
        s: &mut String,
        (src, dst): (Ipv6Addr, IpAddr),
        b: &[u8],
        len: usize,
        fragmented: bool,
    ) {
        if b.len() < 4 {
            s.push_str("[|icmp6]");
            return;
        }
        let (t, code) = (b[0], b[1]);
        if self.verbose && !fragmented && b.len() >= len {
            let sum = transport_sum(IpAddr::V6(src), dst, 58, &b[..len]);
            if sum == 0 {
                s.push_str("[icmp6 sum ok] ");
            } else {
                let mut z = b[..len].to_vec();
                z[2] = 0;
                z[3] = 0;
                let right = transport_sum(IpAddr::V6(src), dst, 58, &z);
                let _ = write!(
                    s,
                    "[bad icmp6 cksum 0x{:04x} -> 0x{right:04x}!] ",
                    u16::from_be_bytes([b[2], b[3]])
                );
            }
        }
        let _ = write!(s, "ICMP6, {}", icmp6_name(t));
        if self.verbose && (133..=137).contains(&t) {
            let _ = write!(s, ", length {len}");
        }
        let addr = |o: usize| -> Option<Ipv6Addr> {
            let mut a = [0u8; 16];
            a.copy_from_slice(b.get(o..o + 16)?);
            Some(Ipv6Addr::from(a))
        };
        // The invoking packet's destination (errors).
        let qdst = addr(8 + 24);
        match t {
            1 => {
                let Some(d) = qdst else {
                    s.push_str("[|icmp6]");
                    return;
                };
                match code {
                    0 => {
                        let _ = write!(s, ", unreachable route {d}");
                    }
                    1 => {
                        let _ = write!(s, ",  unreachable prohibited {d}");
                    }
                    2 => {
                        let _ = write!(
                            s,
                            ", beyond scope {d}, source address {}",
                            addr(8 + 8).unwrap_or(Ipv6Addr::UNSPECIFIED)
                        );
                    }
                    3 => {
                        let _ = write!(s, ", unreachable address {d}");
                    }
                    4 => {
                        s.push_str(", unreachable port");
                        let q = &b[8..];
                        let end = crate::wire::ipv6ext::upper_layer(q[6], &q[40..]);
                        match end {
                            Ok(crate::wire::ChainEnd::Upper { protocol, offset })
                                if q.len() >= 40 + offset + 4 =>
                            {
                                let o = 40 + offset;
                                let dport = u16::from_be_bytes([q[o + 2], q[o + 3]]);
                                let _ = match protocol {
                                    6 => write!(s, ", {d} tcp port {dport}"),
                                    17 => write!(s, ", {d} udp port {dport}"),
                                    _ => write!(
                                        s,
                                        ", {d} protocol {} port {dport} unreachable",
                                        q[6]
                                    ),
                                };
                            }
                            _ => {
                                s.push_str("[|icmp6]");
                                return;
                            }
                        }
                    }
                    c => {
                        // tcpdump dumps the message after naming the code, and stops there.
                        let _ = write!(s, ", unknown unreach code ({c})");
                        hex_lines(s, "\n\t", &b[..len.min(b.len())]);
                        return;
                    }
                }
            }
            2 if b.len() >= 8 => {
                let _ = write!(s, ", mtu {}", u32::from_be_bytes([b[4], b[5], b[6], b[7]]));
            }
            3 => match (code, qdst) {
                (0, Some(d)) => {
                    let _ = write!(s, " for {d}");
                }
                (1, _) => s.push_str(" (reassembly)"),
                (0, None) => {
                    s.push_str("[|icmp6]");
                    return;
                }
                (c, _) => {
                    let _ = write!(s, ", unknown code ({c})");
                }
            },
            4 if b.len() >= 8 => {
                let p = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                let _ = match code {
                    0 => write!(s, ", erroneous - octet {p}"),
                    1 => write!(s, ", next header - octet {p}"),
                    2 => write!(s, ", option - octet {p}"),
                    c => write!(s, ", code-#{c}"),
                };
            }
            128 | 129 if b.len() >= 8 => {
                let _ = write!(
                    s,
                    ", id {}, seq {}",
                    u16::from_be_bytes([b[4], b[5]]),
                    u16::from_be_bytes([b[6], b[7]])
                );
            }
            135 => match addr(8) {
                Some(a) => {
                    let _ = write!(s, ", who has {a}");
                }
                None => {
                    s.push_str("[|icmp6]");
                    return;
                }
            },
            136 => match addr(8) {
                Some(a) => {
                    let _ = write!(s, ", tgt is {a}");
                    if self.verbose {
                        let f = b[4];
                        let mut n = Vec::new();
                        for (bit, name) in
                            [(0x80, "router"), (0x40, "solicited"), (0x20, "override")]
                        {
                            if f & bit != 0 {
                                n.push(name);
                            }
                        }
                        let n = if n.is_empty() {
                            "none".to_string()
                        } else {
                            n.join(", ")
                        };
                        let _ = write!(s, ", Flags [{n}]");
                    }
                }
                None => {
                    s.push_str("[|icmp6]");
                    return;
                }
            },
            137 => match (addr(8), addr(24)) {
                (Some(tg), Some(d)) => {
                    let _ = write!(s, ", {d} to {tg}");
                }
                _ => {
                    s.push_str("[|icmp6]");
                    return;
                }
            },
            143 if b.len() >= 8 => {
                let n = u16::from_be_bytes([b[6], b[7]]);
                let _ = write!(s, ", {n} group record(s)");
                if self.verbose {
                    let mut o = 8;
                    for _ in 0..n {
                        let Some(a) = addr(o + 4) else { break };
                        let kind = match b[o] {
                            1 => "is_in".to_string(),
                            2 => "is_ex".into(),
                            3 => "to_in".into(),
                            4 => "to_ex".into(),
                            5 => "allow".into(),
                            6 => "block".into(),
                            k => format!("[invalid rtype {k}]"),
                        };
                        let ns = u16::from_be_bytes([b[o + 2], b[o + 3]]);
                        let _ = write!(s, " [gaddr {a} {kind}, {ns} source(s)]");
                        o += 20 + 16 * usize::from(ns) + 4 * usize::from(b[o + 1]);
                    }
                }
            }
            _ => {}
        }
        if self.verbose && (133..=137).contains(&t) {
            let from = match t {
                133 => 8,
                134 => 16,
                135 | 136 => 24,
                _ => 40,
            };
            if t == 134 && b.len() >= 16 {
                let f = b[5];
                let mut n = Vec::new();
                for (bit, name) in [
                    (0x80, "managed"),
                    (0x40, "other stateful"),
                    (0x20, "home agent"),
                    (0x04, "proxy"),
                ] {
                    if f & bit != 0 {
                        n.push(name);
                    }
                }
                let n = if n.is_empty() {
                    "none".to_string()
                } else {
                    n.join(", ")
                };
                let _ = write!(
                    s,
                    "\n\thop limit {}, Flags [{n}], pref {}, router lifetime {}s, reachable time {}ms, retrans timer {}ms",
                    b[4],
                    ["medium", "high", "rsv", "low"][usize::from((f >> 3) & 3)],
                    u16::from_be_bytes([b[6], b[7]]),
                    u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
                    u32::from_be_bytes([b[12], b[13], b[14], b[15]])
                );
            }
            nd_options(s, b.get(from..len.min(b.len())).unwrap_or(&[]));
        }
        if !self.verbose {
            let _ = write!(s, ", length {len}");
        }
    }

    /// The IP payload, addresses included (TCP and UDP put ports beside them).
    #[allow(clippy::too_many_arguments)]
    fn transport(
        &mut self,
        s: &mut String,
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        payload: &[u8],
        plen: usize,
        fragmented: bool,
    ) {
        match proto {
            6 => self.tcp(s, (src, dst), payload, plen, fragmented),
            17 => udp(s, src, dst, payload, plen, fragmented),
            1 => {
                let _ = write!(s, "{src} > {dst}: ");
                icmp(s, payload, plen, self.verbose && !fragmented);
                // -v: the datagram an error quotes, as tcpdump prints it.
                let quoted = payload.len() > 8 && matches!(payload[0], 3 | 4 | 5 | 11 | 12);
                if self.verbose && quoted && self.depth < crate::dissect::MAX_QUOTE_DEPTH {
                    s.push_str("\n\t");
                    self.depth += 1;
                    let inner = self.ipv4(&payload[8..]);
                    self.depth -= 1;
                    s.push_str(&inner);
                }
            }
            50 if payload.len() >= 8 => {
                let spi = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                let seq = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                let _ = write!(
                    s,
                    "{src} > {dst}: ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {plen}"
                );
            }
            2 if payload.len() >= 8 => {
                let _ = write!(s, "{src} > {dst}: ");
                igmp(s, payload, plen, self.verbose);
            }
            _ => {
                let _ = write!(s, "{src} > {dst}: ");
                match ip_proto_name(proto) {
                    Some(n) if proto != 0 => {
                        let _ = write!(s, "{n} {plen}");
                    }
                    _ => {
                        let _ = write!(s, " ip-proto-{proto} {plen}");
                    }
                }
            }
        }
    }

    fn tcp(
        &mut self,
        s: &mut String,
        (src, dst): (IpAddr, IpAddr),
        b: &[u8],
        plen: usize,
        fragmented: bool,
    ) {
        if b.len() < 4 {
            let _ = write!(s, "{src} > {dst}: [|tcp]");
            return;
        }
        let sport = u16::from_be_bytes([b[0], b[1]]);
        let dport = u16::from_be_bytes([b[2], b[3]]);
        let _ = write!(s, "{src}.{sport} > {dst}.{dport}: ");
        if b.len() < 20 {
            s.push_str("[|tcp]");
            return;
        }
        let p = TcpPacket::new_unchecked(b);
        let hlen = p.header_len();
        if hlen < 20 {
            let _ = write!(
                s,
                " tcp {} [bad hdr length {hlen} - too short, < 20]",
                plen.wrapping_sub(hlen) as u32
            );
            return;
        }
        let flags = p.flags();
        let _ = write!(s, "Flags [{}]", tcp_flags(flags));
        let (mut seq, mut ack) = (p.seq(), p.ack());
        let (mut thseq, mut thack, mut rev) = (0u32, 0u32, false);
        if flags & ACK != 0 {
            rev = sport > dport || (sport == dport && octets(src) > octets(dst));
            let key = if rev {
                (dst, src, u32::from(dport) << 16 | u32::from(sport))
            } else {
                (src, dst, u32::from(sport) << 16 | u32::from(dport))
            };
            let known = self.tcp.get(&key).copied();
            let entry = match known {
                Some(base) if flags & SYN == 0 => {
                    if rev {
                        seq = seq.wrapping_sub(base.1);
                        ack = ack.wrapping_sub(base.0);
                    } else {
                        seq = seq.wrapping_sub(base.0);
                        ack = ack.wrapping_sub(base.1);
                    }
                    Some(base)
                }
                _ => {
                    let base = if rev {
                        (ack.wrapping_sub(1), seq)
                    } else {
                        (seq, ack.wrapping_sub(1))
                    };
                    if known.is_some() || self.tcp.len() < MAX_CONNECTIONS {
                        self.tcp.insert(key, base);
                    }
                    Some(base)
                }
            };
            if let Some((a, b)) = entry {
                thseq = a;
                thack = b;
            }
        }
        if hlen > plen {
            let _ = write!(s, " [bad hdr length {hlen} - too long, > {plen}]");
            return;
        }
        if self.verbose && !fragmented && b.len() >= plen {
            let sum = transport_sum(src, dst, 6, &b[..plen]);
            let field = p.checksum();
            let _ = write!(s, ", cksum 0x{field:04x}");
            if sum != 0 {
                let mut z = b[..plen].to_vec();
                z[16] = 0;
                z[17] = 0;
                let right = transport_sum(src, dst, 6, &z);
                let _ = write!(s, " (incorrect -> 0x{right:04x})");
            } else {
                s.push_str(" (correct)");
            }
        }
        let length = (plen - hlen) as u32;
        if length > 0 || flags & (SYN | FIN | RST) != 0 {
            let _ = write!(s, ", seq {seq}");
            if length > 0 {
                let _ = write!(s, ":{}", seq.wrapping_add(length));
            }
        }
        if flags & ACK != 0 {
            let _ = write!(s, ", ack {ack}");
        }
        let _ = write!(s, ", win {}", p.window());
        if flags & URG != 0 {
            let _ = write!(s, ", urg {}", p.urgent());
        }
        if hlen > 20 {
            let opts = &b[20..hlen.min(b.len())];
            if opts.len() < hlen - 20 {
                s.push_str(", options [[|tcp]");
                return;
            }
            s.push_str(", options [");
            if let Err(later) = tcp_options(s, opts, flags, (rev, thseq, thack)) {
                s.push_str("[bad opt]");
                if later {
                    s.push(']');
                }
                return;
            }
            s.push(']');
        }
        let _ = write!(s, ", length {length}");
    }
}

const FIN: u16 = 0x01;
const SYN: u16 = 0x02;
const RST: u16 = 0x04;
const ACK: u16 = 0x10;
const URG: u16 = 0x20;

/// The Internet checksum of a transport segment behind its IPv4 or IPv6 pseudo-header: 0
/// over a segment whose checksum field is right; the field's value over one whose field is 0.
fn transport_sum(src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for w in octets(src).chunks(2).chain(octets(dst).chunks(2)) {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    sum += u32::from(proto);
    sum += seg.len() as u32 & 0xffff;
    sum += (seg.len() >> 16) as u32;
    sum += u32::from(!crate::wire::checksum(seg));
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// tcpdump's flag letters, in its order: F S R P . U E W; `none` for no flag.
fn tcp_flags(f: u16) -> String {
    const LETTERS: [(u16, char); 8] = [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, '.'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ];
    let s: String = LETTERS
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, c)| *c)
        .collect();
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

/// The options list in tcpdump's words; Err when an option's length is bad (tcpdump then
/// prints `[bad opt]`, and `]` when it was not the first option).
fn tcp_options(
    s: &mut String,
    mut b: &[u8],
    flags: u16,
    (rev, thseq, thack): (bool, u32, u32),
) -> Result<(), bool> {
    let mut first = true;
    while let Some(&opt) = b.first() {
        let later = !first;
        if !first {
            s.push(',');
        }
        first = false;
        let len = if matches!(opt, 0 | 1) {
            1
        } else {
            match b.get(1) {
                Some(&l) if l >= 2 && usize::from(l) <= b.len() => usize::from(l),
                _ => return Err(later),
            }
        };
        let data = &b[len.min(2)..len];
        let name = match opt {
            0 => "eol",
            1 => "nop",
            2 => "mss",
            3 => "wscale",
            4 => "sackOK",
            5 => "sack",
            6 => "echo",
            7 => "echoreply",
            8 => "TS",
            11 => "cc",
            12 => "ccnew",
            13 => "ccecho",
            19 => "md5",
            20 => "scps",
            28 => "uto",
            29 => "tcp-ao",
            30 => "mptcp",
            34 => "tfo",
            254 => "exp",
            _ => "",
        };
        if name.is_empty() {
            let _ = write!(s, "unknown-{opt}");
        } else {
            s.push_str(name);
        }
        let mut used = data.len();
        match opt {
            2 if data.len() >= 2 => {
                let _ = write!(s, " {}", u16::from_be_bytes([data[0], data[1]]));
                used = 2;
            }
            3 if !data.is_empty() => {
                let _ = write!(s, " {}", data[0]);
                used = 1;
            }
            5 => {
                if !data.len().is_multiple_of(8) {
                    s.push_str(" invalid sack");
                } else {
                    let _ = write!(s, " {} ", data.len() / 8);
                    for c in data.chunks(8) {
                        let mut st = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                        let mut en = u32::from_be_bytes([c[4], c[5], c[6], c[7]]);
                        let base = if rev { thseq } else { thack };
                        st = st.wrapping_sub(base);
                        en = en.wrapping_sub(base);
                        let _ = write!(s, "{{{st}:{en}}}");
                    }
                }
            }
            6 | 7 | 11 | 12 | 13 if data.len() >= 4 => {
                let _ = write!(
                    s,
                    " {}",
                    u32::from_be_bytes([data[0], data[1], data[2], data[3]])
                );
                used = 4;
            }
            8 if data.len() >= 8 => {
                let _ = write!(
                    s,
                    " val {} ecr {}",
                    u32::from_be_bytes([data[0], data[1], data[2], data[3]]),
                    u32::from_be_bytes([data[4], data[5], data[6], data[7]])
                );
                used = 8;
            }
            0 | 1 | 4 => used = 0,
            19 => {
                s.push_str(" shared secret not supplied with -M, can't check - ");
                for x in data {
                    let _ = write!(s, "{x:02x}");
                }
            }
            30 => {
                if !mptcp(s, &b[..len], flags) {
                    return Err(later);
                }
            }
            2 | 3 | 6 | 7 | 8 | 11 | 12 | 13 => return Err(later),
            _ => {
                if !data.is_empty() {
                    s.push(' ');
                }
                for x in data {
                    let _ = write!(s, "{x:02x}");
                }
            }
        }
        let expect = used + if matches!(opt, 0 | 1) { 1 } else { 2 };
        if expect != len && matches!(opt, 2 | 3 | 6 | 7 | 8 | 11 | 12 | 13) {
            let _ = write!(s, "[len {len}]");
        }
        b = &b[len..];
        if opt == 0 {
            break;
        }
    }
    Ok(())
}

/// A Multipath TCP option (`o`: kind, length, subtype...) as tcpdump 4.99 prints it after
/// `mptcp`; false when tcpdump finds it malformed.
fn mptcp(s: &mut String, o: &[u8], flags: u16) -> bool {
    if o.len() < 3 {
        return false;
    }
    // (tcpdump 4.99 has no name for subtype 8, TCPRST.)
    const NAMES: [&str; 9] = [
        "capable",
        "join",
        "dss",
        "add-addr",
        "rem-addr",
        "prio",
        "fail",
        "fast-close",
        "unknown",
    ];
    let subtype = usize::from(o[2] >> 4).min(8);
    let len = o.len();
    let _ = write!(s, " {len} {}", NAMES[subtype]);
    let be64 = |b: &[u8]| u64::from_be_bytes(b[..8].try_into().unwrap_or([0; 8]));
    match subtype {
        0 => {
            let syn = flags & SYN != 0;
            let ack_only = flags & (SYN | ACK) == ACK;
            if !((len == 12 || len == 4) && syn) && !(matches!(len, 20 | 22 | 24) && ack_only) {
                return false;
            }
            let version = o[2] & 0xf;
            if version > 1 {
                let _ = write!(s, " Unknown Version ({version})");
                return true;
            }
            let _ = write!(s, " v{version}");
            if o[3] & 0x80 != 0 {
                s.push_str(" csum");
            }
            if len == 12 || len >= 20 {
                let _ = write!(s, " {{0x{:x}", be64(&o[4..]));
                if len >= 20 {
                    let _ = write!(s, ",0x{:x}", be64(&o[12..]));
                }
                s.push('}');
            }
            true
        }
        2 => {
            if len < 4 || flags & SYN != 0 {
                return false;
            }
            let f = o[3];
            let mut r = &o[4..];
            if f & 0x10 != 0 {
                s.push_str(" fin");
            }
            if f & 0x01 != 0 {
                if f & 0x02 != 0 {
                    let Some(v) = r.get(..8) else { return false };
                    let _ = write!(s, " ack {}", be64(v));
                    r = &r[8..];
                } else {
                    let Some(v) = r.get(..4) else { return false };
                    let _ = write!(s, " ack {}", u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                    r = &r[4..];
                }
            }
            if f & 0x04 != 0 {
                if f & 0x08 != 0 {
                    let Some(v) = r.get(..8) else { return false };
                    let _ = write!(s, " seq {}", be64(v));
                    r = &r[8..];
                } else {
                    let Some(v) = r.get(..4) else { return false };
                    let _ = write!(s, " seq {}", u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                    r = &r[4..];
                }
                let Some(v) = r.get(..6) else { return false };
                let _ = write!(
                    s,
                    " subseq {} len {}",
                    u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
                    u16::from_be_bytes([v[4], v[5]])
                );
                r = &r[6..];
                if r.len() >= 2 {
                    let _ = write!(s, " csum 0x{:x}", u16::from_be_bytes([r[0], r[1]]));
                    r = &r[2..];
                }
            }
            r.is_empty()
        }
        4 => {
            for id in &o[3..] {
                let _ = write!(s, " id {id}");
            }
            len >= 4
        }
        7 => {
            if len != 12 {
                return false;
            }
            let _ = write!(s, " key 0x{:x}", be64(&o[4..]));
            true
        }
        _ => true,
    }
}

fn udp(s: &mut String, src: IpAddr, dst: IpAddr, b: &[u8], plen: usize, fragmented: bool) {
    if b.len() < 4 {
        let _ = write!(s, "{src} > {dst}: [|udp]");
        return;
    }
    let (sport, dport) = (
        u16::from_be_bytes([b[0], b[1]]),
        u16::from_be_bytes([b[2], b[3]]),
    );
    let _ = write!(s, "{src}.{sport} > {dst}.{dport}: ");
    if plen < 8 {
        let _ = write!(s, "truncated-udp {plen}");
        return;
    }
    if b.len() < 8 {
        s.push_str("[|udp]");
        return;
    }
    let ulen = usize::from(UdpPacket::new_unchecked(b).len_field());
    if ulen < 8 {
        let _ = write!(s, "truncated-udplength {ulen}");
        return;
    }
    let ulen = ulen - 8;
    let length = plen - 8;
    if ulen > length && !fragmented {
        let _ = write!(s, "UDP, bad length {ulen} > {length}");
    } else {
        let _ = write!(s, "UDP, length {ulen}");
    }
}

/// `ICMP ..., length N` in tcpdump's words (`-v`: the checksum checked when whole).
fn icmp(s: &mut String, b: &[u8], plen: usize, check: bool) {
    let Ok(p) = IcmpPacket::new_checked(b) else {
        s.push_str("ICMP [|icmp]");
        return;
    };
    let t = p.msg_type();
    let code = p.code();
    let quoted = || -> Option<Ipv4Packet<&[u8]>> { Ipv4Packet::new_checked(p.data()).ok() };
    let qdst = || {
        quoted()
            .map(|q| q.dst().to_string())
            .unwrap_or_else(|| "?".into())
    };
    let text = match t {
        0 | 8 => format!(
            "echo {}, id {}, seq {}",
            if t == 8 { "request" } else { "reply" },
            p.ident(),
            p.seq_no()
        ),
        3 => {
            let d = qdst();
            match code {
                0 => format!("net {d} unreachable"),
                1 => format!("host {d} unreachable"),
                2 => format!(
                    "{d} protocol {} unreachable",
                    quoted().map_or(0, |q| q.protocol())
                ),
                3 => match quoted() {
                    Some(q)
                        if q.payload().len() >= 4 || q.as_bytes().len() >= q.header_len() + 4 =>
                    {
                        let at = q.header_len();
                        let raw = q.as_bytes();
                        let dport = u16::from_be_bytes([raw[at + 2], raw[at + 3]]);
                        match q.protocol() {
                            6 => format!("{d} tcp port {dport} unreachable"),
                            17 => format!("{d} udp port {dport} unreachable"),
                            pr => format!("{d} protocol {pr} port {dport} unreachable"),
                        }
                    }
                    _ => format!("{d} port unreachable"),
                },
                4 => match p.next_hop_mtu() {
                    0 => format!("{d} unreachable - need to frag"),
                    m => format!("{d} unreachable - need to frag (mtu {m})"),
                },
                5 => format!("{d} unreachable - source route failed"),
                6 => format!("net {d} unreachable - unknown"),
                7 => format!("host {d} unreachable - unknown"),
                8 => format!("{d} unreachable - source host isolated"),
                9 => format!("net {d} unreachable - admin prohibited"),
                10 => format!("host {d} unreachable - admin prohibited"),
                11 => format!("net {d} unreachable - tos prohibited"),
                12 => format!("host {d} unreachable - tos prohibited"),
                13 => format!("host {d} unreachable - admin prohibited filter"),
                14 => format!("host {d} unreachable - host precedence violation"),
                15 => format!("host {d} unreachable - precedence cutoff"),
                c => format!("{d} unreachable - #{c}"),
            }
        }
        4 => "source quench".into(),
        5 => {
            let d = qdst();
            let g = p.gateway();
            match code {
                0 => format!("redirect {d} to net {g}"),
                1 => format!("redirect {d} to host {g}"),
                2 => format!("redirect-tos {d} to net {g}"),
                3 => format!("redirect-tos {d} to host {g}"),
                c => format!("redirect-#{c} {d} to {g}"),
            }
        }
        9 => router_advert(&p),
        10 => "router solicitation".into(),
        11 => match code {
            0 => "time exceeded in-transit".into(),
            1 => "ip reassembly time exceeded".into(),
            c => format!("time exceeded-#{c}"),
        },
        12 => {
            if code != 0 {
                format!("parameter problem - code {code}")
            } else {
                format!("parameter problem - octet {}", p.pointer())
            }
        }
        13 => format!("time stamp query id {} seq {}", p.ident(), p.seq_no()),
        14 => match p.timestamps() {
            Some((o, r, x)) => format!(
                "time stamp reply id {} seq {}: org {}, recv {}, xmit {}",
                p.ident(),
                p.seq_no(),
                stamp(o),
                stamp(r),
                stamp(x)
            ),
            None => format!("time stamp reply id {} seq {}", p.ident(), p.seq_no()),
        },
        15 => "information request".into(),
        16 => "information reply".into(),
        17 => "address mask request".into(),
        18 => match p.data().get(..4) {
            Some(m) => format!(
                "address mask is 0x{:08x}",
                u32::from_be_bytes([m[0], m[1], m[2], m[3]])
            ),
            None => "address mask reply".into(),
        },
        t => format!("type-#{t}"),
    };
    let _ = write!(s, "ICMP {text}, length {plen}");
    if check && b.len() >= plen && crate::wire::checksum(&b[..plen]) != 0 {
        let mut z = b[..plen].to_vec();
        z[2] = 0;
        z[3] = 0;
        let _ = write!(
            s,
            " (wrong icmp cksum {:x} (->{:x})!)",
            p.checksum(),
            crate::wire::checksum(&z)
        );
    }
}

/// IP options as tcpdump -v lists them: `NOP,RR 192.0.2.1, 0.0.0.0`.
fn ip_options(s: &mut String, mut b: &[u8]) {
    let mut first = true;
    while let Some(&code) = b.first() {
        if !first {
            s.push(',');
        }
        first = false;
        let name = match code {
            0 => "EOL",
            1 => "NOP",
            68 => "timestamp",
            130 => "security",
            7 => "RR",
            137 => "SSRR",
            131 => "LSRR",
            148 => "RA",
            82 => "traceroute",
            _ => "",
        };
        if name.is_empty() {
            let _ = write!(s, "unknown {code}");
        } else {
            s.push_str(name);
        }
        if matches!(code, 0 | 1) {
            b = &b[1..];
            continue;
        }
        let Some(&len) = b.get(1) else {
            s.push_str(" [bad length]");
            return;
        };
        let len = usize::from(len);
        if len < 2 {
            let _ = write!(s, " [bad length {len}]");
            return;
        }
        if len > b.len() {
            s.push_str(" [truncated-option]");
            return;
        }
        let o = &b[..len];
        match code {
            7 | 131 | 137 => {
                if len < 3 {
                    let _ = write!(s, " [bad length {len}]");
                } else {
                    let ptr = usize::from(o[2]).saturating_sub(1);
                    if ptr < 3 || (ptr + 1) & 3 != 0 || ptr > len + 1 {
                        let _ = write!(s, " [bad ptr {}]", o[2]);
                    }
                    let mut at = 3;
                    while at + 4 <= len {
                        let a = Ipv4Addr::new(o[at], o[at + 1], o[at + 2], o[at + 3]);
                        let _ = write!(s, " {a}");
                        if ptr > at {
                            s.push(',');
                        }
                        at += 4;
                    }
                }
            }
            148 => {
                if len != 4 {
                    let _ = write!(s, " [bad length {len}]");
                } else {
                    let v = u16::from_be_bytes([o[2], o[3]]);
                    if v != 0 {
                        let _ = write!(s, " value {v}");
                    }
                }
            }
            _ => {}
        }
        b = &b[len..];
        if code == 0 {
            break;
        }
    }
}

/// IGMP as tcpdump prints it (v3 reports and queries by their type only).
fn igmp(s: &mut String, b: &[u8], len: usize, verbose: bool) {
    let group = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
    match b[0] {
        0x11 => {
            s.push_str("igmp query");
            if len >= 12 {
                s.push_str(" v3");
            } else {
                if b[1] != 0 {
                    s.push_str(" v2");
                    if b[1] != 100 {
                        let _ = write!(s, " [max resp time {}]", b[1]);
                    }
                } else {
                    s.push_str(" v1");
                }
                if !group.is_unspecified() {
                    let _ = write!(s, " [gaddr {group}]");
                }
                if len != 8 {
                    let _ = write!(s, " [len {len}]");
                }
            }
        }
        0x12 => {
            let _ = write!(s, "igmp v1 report {group}");
            if len != 8 {
                let _ = write!(s, " [len {len}]");
            }
        }
        0x16 => {
            let _ = write!(s, "igmp v2 report {group}");
        }
        0x22 => s.push_str("igmp v3 report"),
        0x17 => {
            let _ = write!(s, "igmp leave {group}");
        }
        t => {
            let _ = write!(s, "igmp-{t}");
        }
    }
    if verbose && b.len() >= len && len >= 4 && crate::wire::checksum(&b[..len]) != 0 {
        let _ = write!(s, " bad igmp cksum {:x}!", u16::from_be_bytes([b[2], b[3]]));
    }
}

fn router_advert(p: &IcmpPacket<&[u8]>) -> String {
    let r = p.rest_of_header();
    let (num, size) = (r[0], r[1]);
    let life = u16::from_be_bytes([r[2], r[3]]);
    let mut s = String::from("router advertisement lifetime ");
    if life < 60 {
        let _ = write!(s, "{life}");
    } else if life < 3600 {
        let _ = write!(s, "{}:{:02}", life / 60, life % 60);
    } else {
        let _ = write!(
            s,
            "{}:{:02}:{:02}",
            life / 3600,
            (life % 3600) / 60,
            life % 60
        );
    }
    let _ = write!(s, " {num}:");
    if size != 2 {
        let _ = write!(s, " [size {size}]");
        return s;
    }
    for e in p.data().chunks_exact(8).take(usize::from(num)) {
        let a = Ipv4Addr::new(e[0], e[1], e[2], e[3]);
        let pref = u32::from_be_bytes([e[4], e[5], e[6], e[7]]);
        let _ = write!(s, " {{{a} {pref}}}");
    }
    s
}

/// An ICMP timestamp (ms since midnight UT) as tcpdump shows it.
fn stamp(ms: u32) -> String {
    if ms > 86_400_000 {
        return "[> 24h]".into();
    }
    let (h, m, sec, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{sec:02}.{milli:03}")
}

/// tcpdump's names of IP protocols (its `ipproto_values`).
pub fn ip_proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        0 => "HBH",
        1 => "ICMP",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        8 => "EGP",
        9 => "IGRP",
        17 => "UDP",
        33 => "DCCP",
        41 => "IPv6",
        43 => "Routing",
        44 => "Fragment",
        46 => "RSVP",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        60 => "DSTOPTS",
        88 => "EIGRP",
        89 => "OSPF",
        94 => "ETHERIP",
        97 => "ETHERIP",
        98 => "ENCAP",
        103 => "PIM",
        108 => "Compressed IP",
        112 => "VRRP",
        113 => "PGM",
        115 => "L2TP",
        132 => "SCTP",
        135 => "Mobility",
        _ => return None,
    })
}

/// tcpdump's print_unknown_data: each line `prefix`, the offset, then 16 bytes in 2-byte words.
fn hex_lines(s: &mut String, prefix: &str, b: &[u8]) {
    for (i, line) in b.chunks(16).enumerate() {
        let words: Vec<String> = line
            .chunks(2)
            .map(|w| w.iter().map(|x| format!("{x:02x}")).collect())
            .collect();
        let _ = write!(s, "{prefix}0x{:04x}:  {}", i * 16, words.join(" "));
    }
}

/// NDP options as tcpdump -v lists them, a line each.
fn nd_options(s: &mut String, mut b: &[u8]) {
    let life = |v: u32| {
        if v == u32::MAX {
            "infinity".to_string()
        } else {
            format!("{v}s")
        }
    };
    while b.len() >= 2 {
        let (t, units) = (b[0], usize::from(b[1]));
        let l = units * 8;
        if l == 0 || l > b.len() {
            s.push_str("[|icmp6]");
            return;
        }
        let name = match t {
            1 => "source link-address",
            2 => "destination link-address",
            3 => "prefix info",
            4 => "redirected header",
            5 => "mtu",
            7 => "advertisement interval",
            8 => "homeagent information",
            24 => "route info",
            25 => "rdnss",
            31 => "dnssl",
            _ => "unknown",
        };
        let _ = write!(s, "\n\t  {name} option ({t}), length {l} ({units}): ");
        let d = &b[..l];
        match t {
            1 | 2 => {
                let mac: Vec<String> = d[2..].iter().map(|x| format!("{x:02x}")).collect();
                s.push_str(&mac.join(":"));
            }
            5 if l == 8 => {
                let _ = write!(s, " {}", u32::from_be_bytes([d[4], d[5], d[6], d[7]]));
            }
            3 if l == 32 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&d[16..32]);
                let mut n = Vec::new();
                for (bit, name) in [(0x80, "onlink"), (0x40, "auto"), (0x20, "router")] {
                    if d[3] & bit != 0 {
                        n.push(name);
                    }
                }
                let n = if n.is_empty() {
                    "none".to_string()
                } else {
                    n.join(", ")
                };
                let _ = write!(
                    s,
                    "{}/{}, Flags [{n}], valid time {}, pref. time {}",
                    Ipv6Addr::from(o),
                    d[2],
                    life(u32::from_be_bytes([d[4], d[5], d[6], d[7]])),
                    life(u32::from_be_bytes([d[8], d[9], d[10], d[11]]))
                );
            }
            _ => hex_lines(s, "\n\t  ", &d[2..]),
        }
        b = &b[l..];
    }
}

/// tcpdump's word for an IPv6 next header in `-v` (`next-header Options (0)`).
fn ip6_next_name(p: u8) -> &'static str {
    match p {
        0 => "Options",
        43 => "Routing",
        44 => "Fragment",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        _ => match ip_proto_name(p) {
            Some(n) if p != 59 && p != 60 => n,
            _ => "unknown",
        },
    }
}

fn icmp6_name(t: u8) -> String {
    match t {
        128 => "echo request".into(),
        129 => "echo reply".into(),
        1 => "destination unreachable".into(),
        2 => "packet too big".into(),
        3 => "time exceeded in-transit".into(),
        4 => "parameter problem".into(),
        130 => "multicast listener query".into(),
        131 => "multicast listener report".into(),
        132 => "multicast listener done".into(),
        133 => "router solicitation".into(),
        134 => "router advertisement".into(),
        135 => "neighbor solicitation".into(),
        136 => "neighbor advertisement".into(),
        137 => "redirect".into(),
        143 => "multicast listener report v2".into(),
        t => format!("unknown icmp6 type ({t})"),
    }
}

/// tcpdump's name of an EtherType.
pub fn ethertype_name(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x0806 => "ARP",
        0x86dd => "IPv6",
        0x8100 => "802.1Q",
        0x88a8 => "802.1Q-QinQ",
        0x9100 => "802.1Q-9100",
        0x8035 => "Reverse ARP",
        0x88cc => "LLDP",
        0x8847 => "MPLS unicast",
        0x8848 => "MPLS multicast",
        0x8863 => "PPPoE D",
        0x8864 => "PPPoE S",
        0x888e => "EAPOL",
        0x8809 => "Slow Protocols",
        0x88f7 => "PTP",
        0x8902 => "CFM",
        _ => "Unknown",
    }
}

/// The protocol field of a cooked header as tcpdump shows it.
fn sll_protocol(p: u16) -> String {
    if p <= 1500 {
        match p {
            1 => "802.3".into(),
            4 => "802.2".into(),
            _ => format!("ethertype Unknown (0x{p:04x})"),
        }
    } else {
        format!("ethertype {} (0x{p:04x})", ethertype_name(p))
    }
}

/// A cooked header's packet type: `In`, `B`, `M`, `P`, `Out`.
fn pkttype_name(t: u16) -> &'static str {
    match t {
        0 => "In",
        1 => "B",
        2 => "M",
        3 => "P",
        4 => "Out",
        _ => "?",
    }
}

/// A cooked header's link address (`halen` bytes of 8): a MAC when 6 bytes long.
fn link_addr(a: &[u8], halen: usize) -> String {
    let n = halen.min(a.len());
    a[..n]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The name of interface `index` on this host (as tcpdump prints SLL2 frames), if any.
fn if_name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf holds IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into buf.
    let c = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(c.to_string_lossy().into_owned())
}
