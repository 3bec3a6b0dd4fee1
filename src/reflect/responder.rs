//! The pure part of the reflector: a received frame in, at most one frame out. No I/O.
//!
//! It answers ARP for its address, echo requests (IP options echoed as RFC 1122 3.2.1.8 and
//! Linux do: record route and timestamps go on recording, a source route is reversed),
//! timestamp requests and, when configured, address mask requests, router solicitations and
//! UDP echo. It is never an amplifier: a reply is never larger than the frame it answers (both
//! counted at the 60-byte Ethernet minimum), broadcast and multicast requests are ignored
//! unless asked for, and no reply goes to or through a martian address.

use std::net::Ipv4Addr;
use std::time::SystemTime;

use super::{Counters, ReflectConfig};
use crate::wire::hop::{ms_since_midnight_ut, record_hop};
use crate::wire::{
    build_icmp_frame, build_tagged_arp_frame, parse_options, ArpRepr, EthernetFrame, EthernetRepr,
    IcmpMessage, IcmpPacket, IcmpRepr, IpOption, Ipv4Packet, Ipv4Repr, MacAddr, Vlan, VlanStack,
    ARP_REPLY, ARP_REQUEST, ETHERTYPE_ARP, ETHERTYPE_IPV4, IP_PROTO_ICMP,
};
use crate::wire::{build_l4_frame_into, L4Repr, UdpPacket, UdpRepr, IP_PROTO_UDP};

/// Ethernet frames shorter than this are padded on the wire: the floor for "no amplification".
const ETH_MIN_FRAME: usize = 60;
/// All-hosts group, where unsolicited router advertisements go (RFC 1256).
const ALL_HOSTS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);
/// All-routers group, where router solicitations go.
const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);

/// The pure part: a received frame in, a reply frame out. No I/O.
pub struct Responder {
    cfg: ReflectConfig,
    mac: MacAddr,
    /// The tags of the request being answered (ours by VLAN, with its priorities).
    reply_vlans: VlanStack,
    /// Counters so far.
    pub counters: Counters,
}

impl Responder {
    /// A responder answering as `cfg.addr` with Ethernet address `mac`.
    pub fn new(cfg: ReflectConfig, mac: MacAddr) -> Self {
        Responder {
            reply_vlans: cfg.vlans,
            cfg,
            mac,
            counters: Counters::default(),
        }
    }

    fn is_group(&self, dst: Ipv4Addr) -> bool {
        let host_bits = if self.cfg.prefix >= 31 {
            0
        } else {
            u32::MAX >> self.cfg.prefix
        };
        dst.is_multicast()
            || dst.is_broadcast()
            || (host_bits != 0 && u32::from(dst) == (u32::from(self.cfg.addr) | host_bits))
    }

    /// A source address no reply may go to (RFC 1122 3.2.1.3, 3.2.2.6).
    fn is_martian_source(&self, src: Ipv4Addr) -> bool {
        src.is_unspecified() || src.is_loopback() || src == self.cfg.addr || self.is_group(src)
    }

    /// Take back the count of a reply that was built but not sent (rate limit, too large).
    pub fn uncount(&mut self, reply: &[u8]) {
        // Our replies carry our stack: the headers sit past its tags.
        let t = self.cfg.vlans.header_bytes();
        let c = &mut self.counters;
        match reply.get(12 + t..14 + t) {
            Some([0x08, 0x06]) => c.arp_replies = c.arp_replies.saturating_sub(1),
            Some([0x08, 0x00]) if reply.get(23 + t) == Some(&IP_PROTO_UDP) => {
                c.udp_echo_replies = c.udp_echo_replies.saturating_sub(1)
            }
            Some([0x08, 0x00]) => {
                let ihl = usize::from(reply.get(14 + t).copied().unwrap_or(0x45) & 0x0f) * 4;
                let n = match reply.get(14 + t + ihl) {
                    Some(0) => &mut c.echo_replies,
                    Some(14) => &mut c.timestamp_replies,
                    Some(18) => &mut c.mask_replies,
                    Some(9) => &mut c.advertisements,
                    _ => return,
                };
                *n = n.saturating_sub(1);
            }
            _ => {}
        }
    }

    /// The reply to `frame` received at `at`, if any.
    pub fn respond(&mut self, frame: &[u8], at: SystemTime) -> Option<Vec<u8>> {
        self.counters.frames += 1;
        // Read through the views; the reply is built from Reprs.
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            self.counters.malformed += 1;
            return None;
        };
        // Only our VLAN stack (untagged when none), matched on the bytes; the reply carries
        // the request's tags.
        let Some(eh) = self.cfg.vlans.header_len_in(frame) else {
            self.counters.other_vlan += 1;
            return None;
        };
        self.reply_vlans = tags_of(frame, &self.cfg.vlans);
        let ethertype = u16::from_be_bytes([frame[eh - 2], frame[eh - 1]]);
        let payload = &frame[eh..];
        // A group address is never a source (IEEE 802: the I/G bit).
        let (src_mac, dst_mac) = (eth.src(), eth.dst());
        if src_mac.0 & 1 != 0 {
            self.counters.martian += 1;
            return None;
        }
        let to_us = dst_mac == self.mac;
        let group = dst_mac.0 & 1 != 0;
        let accepted = to_us
            || match ethertype {
                ETHERTYPE_ARP => dst_mac == MacAddr::broadcast(),
                ETHERTYPE_IPV4 => group && (self.cfg.broadcast || self.cfg.advertise),
                _ => false,
            };
        if !accepted {
            self.counters.not_our_mac += 1;
            return None;
        }
        let reply = match ethertype {
            ETHERTYPE_ARP => match ArpRepr::parse(payload) {
                Ok(arp) => self.arp(&arp),
                Err(_) => {
                    self.counters.malformed += 1;
                    None
                }
            },
            ETHERTYPE_IPV4 => {
                let Ok(ip) = Ipv4Packet::new_checked(payload) else {
                    self.counters.malformed += 1;
                    return None;
                };
                if ip.protocol() == IP_PROTO_UDP {
                    match self.cfg.udp_echo {
                        Some(port) => self.udp_echo(eth.src(), &ip, port, at, frame.len()),
                        None => None,
                    }
                } else {
                    let icmp =
                        (ip.protocol() == IP_PROTO_ICMP && ip.frag_offset() == 0).then(|| {
                            IcmpPacket::new_checked(ip.payload()).and_then(|v| IcmpRepr::parse(&v))
                        });
                    match icmp {
                        Some(Ok(icmp)) if ip.verify_checksum() && icmp.checksum_ok => {
                            self.icmp(eth.src(), &ip, &icmp.repr.message, at)
                        }
                        _ => {
                            self.counters.malformed += 1;
                            None
                        }
                    }
                }
            }
            _ => None,
        }?;
        if reply.len() > frame.len().max(ETH_MIN_FRAME) {
            self.counters.would_amplify += 1;
            self.uncount(&reply);
            return None;
        }
        // A reversed source route can name any address as the reply's first hop: never send
        // to a group, loopback or zero address (found by the `reflect` fuzz target). The
        // all-hosts answer to a solicitation from 0.0.0.0 (RFC 1256) is the one exception.
        let reply_dst = ipv4_on(&reply, &self.cfg.vlans).and_then(|ip| {
            let ip = Ipv4Packet::new_checked(ip).ok()?;
            let advert = IcmpPacket::new_checked(ip.payload()).is_ok_and(|m| m.msg_type() == 9);
            Some((ip.dst(), advert))
        });
        // The one group reply: an advertisement answering a solicitation from 0.0.0.0.
        let from_nobody = ipv4_on(frame, &self.cfg.vlans)
            .and_then(|ip| Ipv4Packet::new_checked(ip).ok().map(|ip| ip.src()))
            .is_some_and(|a| a.is_unspecified());
        if let Some((dst, advert)) = reply_dst {
            let all_hosts = dst == ALL_HOSTS && advert && from_nobody && self.cfg.advertise;
            // A request from 0.0.0.0 has nobody to answer but the all-hosts group.
            if !all_hosts && (from_nobody || self.is_martian_source(dst)) {
                self.counters.martian += 1;
                self.uncount(&reply);
                return None;
            }
        }
        Some(reply)
    }

    fn arp(&mut self, arp: &ArpRepr) -> Option<Vec<u8>> {
        if arp.op != ARP_REQUEST || arp.target_ip != self.cfg.addr {
            return None;
        }
        // 0.0.0.0 is a duplicate-address probe (RFC 5227) and is answered, to its MAC.
        let ip = arp.sender_ip;
        if arp.sender_mac.0 & 1 != 0 || (!ip.is_unspecified() && self.is_martian_source(ip)) {
            self.counters.martian += 1;
            return None;
        }
        self.counters.arp_replies += 1;
        let reply = ArpRepr {
            op: ARP_REPLY,
            sender_mac: self.mac,
            sender_ip: self.cfg.addr,
            target_mac: arp.sender_mac,
            target_ip: arp.sender_ip,
        };
        Some(build_tagged_arp_frame(
            self.mac,
            arp.sender_mac,
            &self.reply_vlans,
            &reply,
        ))
    }

    fn icmp(
        &mut self,
        peer_mac: MacAddr,
        ip: &Ipv4Packet<&[u8]>,
        msg: &IcmpMessage,
        at: SystemTime,
    ) -> Option<Vec<u8>> {
        let dst = ip.dst();
        let solicitation = matches!(msg, IcmpMessage::RouterSolicitation);
        let for_us = dst == self.cfg.addr
            || (solicitation && self.cfg.advertise && dst == ALL_ROUTERS)
            || (self.cfg.broadcast && self.is_group(dst));
        if !for_us {
            if self.is_group(dst) {
                self.counters.ignored_broadcast += 1;
            }
            return None;
        }
        if ip.is_fragment() {
            self.counters.malformed += 1;
            return None;
        }
        // A router solicitation from 0.0.0.0 is answered on the all-hosts group (RFC 1256).
        if self.is_martian_source(ip.src()) && !(solicitation && ip.src().is_unspecified()) {
            self.counters.martian += 1;
            return None;
        }
        let now = ms_since_midnight_ut(at);
        let message = match *msg {
            IcmpMessage::EchoRequest { id, seq, ref data } => {
                self.counters.echo_replies += 1;
                IcmpMessage::EchoReply {
                    id,
                    seq,
                    data: data.clone(),
                }
            }
            IcmpMessage::TimestampRequest {
                id, seq, originate, ..
            } => {
                self.counters.timestamp_replies += 1;
                IcmpMessage::TimestampReply {
                    id,
                    seq,
                    originate,
                    receive: now,
                    transmit: ms_since_midnight_ut(SystemTime::now()),
                }
            }
            IcmpMessage::AddressMaskRequest { id, seq, .. } if self.cfg.mask.is_some() => {
                self.counters.mask_replies += 1;
                IcmpMessage::AddressMaskReply {
                    id,
                    seq,
                    mask: self.cfg.mask.unwrap_or(Ipv4Addr::UNSPECIFIED),
                }
            }
            IcmpMessage::RouterSolicitation if self.cfg.advertise => {
                self.counters.advertisements += 1;
                self.advertisement()
            }
            _ => {
                self.counters.ignored_other += 1;
                return None;
            }
        };
        // As the receiving IP module: record and stamp ourselves, then build the options the
        // reply carries.
        let mut options = parse_options(ip.options());
        record_hop(&mut options, self.cfg.addr, now);
        let Some((reply_dst, mut options)) = reply_options(ip.src(), options) else {
            self.counters.route_not_done += 1;
            self.undo_count(&message);
            return None;
        };
        // RFC 1256: answer a solicitation from 0.0.0.0 on the all-hosts group.
        let reply_dst = if reply_dst.is_unspecified() {
            ALL_HOSTS
        } else {
            reply_dst
        };
        let mut rip = Ipv4Repr::new(self.cfg.addr, reply_dst, 1);
        rip.ttl = if solicitation { 1 } else { 64 };
        rip.tos = ip.tos();
        rip.id = ip.ident();
        record_hop(
            &mut options,
            self.cfg.addr,
            ms_since_midnight_ut(SystemTime::now()),
        );
        rip.options = options;
        let eth = EthernetRepr {
            dst: peer_mac,
            src: self.mac,
            vlans: self.reply_vlans,
            ethertype: ETHERTYPE_IPV4,
        };
        build_icmp_frame(&eth, &rip, &IcmpRepr::new(message)).ok()
    }

    /// The RFC 862 answer to a UDP datagram: the same data back, ports swapped, under the
    /// same rules as echo (our address only, no martian source, options echoed, never larger).
    fn udp_echo(
        &mut self,
        peer_mac: MacAddr,
        ip: &Ipv4Packet<&[u8]>,
        port: u16,
        at: SystemTime,
        frame_len: usize,
    ) -> Option<Vec<u8>> {
        let dst = ip.dst();
        if dst != self.cfg.addr && !(self.cfg.broadcast && self.is_group(dst)) {
            if self.is_group(dst) {
                self.counters.ignored_broadcast += 1;
            }
            return None;
        }
        let Ok(udp) = UdpPacket::new_checked(ip.payload()) else {
            self.counters.malformed += 1;
            return None;
        };
        if !ip.verify_checksum()
            || ip.is_fragment()
            || usize::from(udp.len_field()) != udp.as_bytes().len()
            || udp.verify_checksum(ip.src(), dst) == Some(false)
        {
            self.counters.malformed += 1;
            return None;
        }
        if udp.dst_port() != port {
            self.counters.ignored_other += 1;
            return None;
        }
        // Port 0 cannot be answered; echo (7), chargen (19) or our own port as the source is
        // another service that would answer us back: a loop (CVE-1999-0103).
        let sport = udp.src_port();
        if self.is_martian_source(ip.src()) || matches!(sport, 0 | 7 | 19) || sport == port {
            self.counters.martian += 1;
            return None;
        }
        let now = ms_since_midnight_ut(at);
        let mut options = parse_options(ip.options());
        record_hop(&mut options, self.cfg.addr, now);
        let Some((reply_dst, mut options)) = reply_options(ip.src(), options) else {
            self.counters.route_not_done += 1;
            return None;
        };
        let mut rip = Ipv4Repr::new(self.cfg.addr, reply_dst, 1);
        rip.protocol = IP_PROTO_UDP;
        rip.tos = ip.tos();
        rip.id = ip.ident();
        record_hop(
            &mut options,
            self.cfg.addr,
            ms_since_midnight_ut(SystemTime::now()),
        );
        rip.options = options;
        let eth = EthernetRepr {
            dst: peer_mac,
            src: self.mac,
            vlans: self.reply_vlans,
            ethertype: ETHERTYPE_IPV4,
        };
        let l4 = L4Repr::Udp(UdpRepr::new(port, sport, udp.payload().to_vec()));
        let mut reply = Vec::with_capacity(frame_len);
        // The checksum covers the final destination: the requester, also under a source route.
        build_l4_frame_into(&mut reply, &eth, &rip, &l4, ip.src()).ok()?;
        self.counters.udp_echo_replies += 1;
        Some(reply)
    }

    fn undo_count(&mut self, message: &IcmpMessage) {
        let c = &mut self.counters;
        match message {
            IcmpMessage::EchoReply { .. } => c.echo_replies -= 1,
            IcmpMessage::TimestampReply { .. } => c.timestamp_replies -= 1,
            IcmpMessage::AddressMaskReply { .. } => c.mask_replies -= 1,
            IcmpMessage::RouterAdvertisement { .. } => c.advertisements -= 1,
            _ => {}
        }
    }

    /// A router advertisement for our address.
    pub fn advertisement(&self) -> IcmpMessage {
        IcmpMessage::RouterAdvertisement {
            lifetime: self.cfg.lifetime,
            entry_size: 2,
            routers: vec![(self.cfg.addr, self.cfg.preference)],
        }
    }

    /// An unsolicited advertisement frame to the all-hosts group (or broadcast).
    pub fn unsolicited_advertisement(&mut self) -> Option<Vec<u8>> {
        let (dst, dst_mac) = if self.cfg.broadcast {
            (Ipv4Addr::BROADCAST, MacAddr::broadcast())
        } else {
            (ALL_HOSTS, MacAddr::new(0x01, 0x00, 0x5e, 0, 0, 1))
        };
        let mut ip = Ipv4Repr::new(self.cfg.addr, dst, 1);
        ip.ttl = 1;
        let eth = EthernetRepr {
            dst: dst_mac,
            src: self.mac,
            vlans: self.cfg.vlans,
            ethertype: ETHERTYPE_IPV4,
        };
        self.counters.advertisements += 1;
        build_icmp_frame(&eth, &ip, &IcmpRepr::new(self.advertisement())).ok()
    }
}

/// The destination and options of a reply to a datagram from `src` whose options (already
/// recorded into by us) are `opts`: record route and timestamps are kept, a source route is
/// reversed (RFC 1122 3.2.1.8, as Linux's ip_options_echo does), anything else is dropped.
/// None when a source route is not exhausted: we are not its last hop.
pub fn reply_options(src: Ipv4Addr, opts: Vec<IpOption>) -> Option<(Ipv4Addr, Vec<IpOption>)> {
    let mut dst = src;
    let mut out = Vec::new();
    for opt in opts {
        match opt {
            IpOption::RecordRoute { .. } | IpOption::Timestamp { .. } => out.push(opt),
            IpOption::LooseSourceRoute { pointer, ref route }
            | IpOption::StrictSourceRoute { pointer, ref route } => {
                if usize::from(pointer) <= 3 + 4 * route.len() {
                    return None; // hops left: the datagram was not for us to answer
                }
                let strict = matches!(opt, IpOption::StrictSourceRoute { .. });
                let visited = opt.recorded();
                let Some((&first_hop, rest)) = visited.split_last() else {
                    continue;
                };
                // The way back: the hops visited, last first, then the source. A route that
                // would start at the source itself is illegal (RFC 1812): skip that hop.
                let mut back: Vec<Ipv4Addr> = rest.iter().rev().copied().collect();
                if back.last() == Some(&src) {
                    back.pop();
                }
                back.push(src);
                if first_hop == src {
                    continue;
                }
                dst = first_hop;
                let sr = if strict {
                    IpOption::strict_source_route(back)
                } else {
                    IpOption::loose_source_route(back)
                };
                out.push(sr.ok()?);
            }
            _ => {}
        }
    }
    Some((dst, out))
}

/// The tags `frame` carries where `ours` expects them (the caller checked that they match
/// `ours` by VLAN): TPIDs and TCIs as received, priorities included.
fn tags_of(frame: &[u8], ours: &VlanStack) -> VlanStack {
    let mut out = VlanStack::EMPTY;
    for (i, t) in ours.iter().enumerate() {
        let at = 12 + 4 * i + 2;
        let tci = frame
            .get(at..at + 2)
            .map_or(t.tci, |b| u16::from_be_bytes([b[0], b[1]]));
        // No more tags than `ours` holds: the push cannot fail.
        let _ = out.push(Vlan { tpid: t.tpid, tci });
    }
    out
}

/// The IPv4 datagram of `frame` when it carries IPv4 on exactly the stack `vlans`.
pub(super) fn ipv4_on<'a>(frame: &'a [u8], vlans: &VlanStack) -> Option<&'a [u8]> {
    let eh = vlans.header_len_in(frame)?;
    (frame.get(eh - 2..eh)? == ETHERTYPE_IPV4.to_be_bytes()).then(|| &frame[eh..])
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Interface;
    use crate::wire::{build_icmp_frame, parse_frame, EthernetRepr, L3};
    use crate::Field;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn responder() -> Responder {
        let mut cfg = ReflectConfig::new("t0", a("203.0.113.9"));
        cfg.mask = Some(a("255.255.255.0"));
        Responder::new(cfg, MacAddr::new(2, 0, 0, 0, 0, 9))
    }

    fn request(dst: Ipv4Addr, options: Vec<IpOption>, msg: IcmpMessage) -> Vec<u8> {
        let mut ip = Ipv4Repr::new(a("192.0.2.2"), dst, 1);
        ip.options = options;
        let eth = EthernetRepr {
            dst: MacAddr::new(2, 0, 0, 0, 0, 9),
            src: MacAddr::new(2, 0, 0, 0, 0, 1),
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        build_icmp_frame(&eth, &ip, &IcmpRepr::new(msg)).unwrap()
    }

    fn echo() -> IcmpMessage {
        IcmpMessage::EchoRequest {
            id: 1,
            seq: 2,
            data: vec![7; 56],
        }
    }

    /// Regression (found by the `reflect` fuzz target): an echo request whose exhausted LSRR
    /// recorded 224.0.0.2 was answered along the reversed route, to the multicast group.
    #[test]
    fn a_reversed_source_route_never_sends_the_reply_to_a_group() {
        let mut r = responder();
        let route = IpOption::LooseSourceRoute {
            pointer: 8,
            route: vec![a("224.0.0.2")],
        };
        let req = request(a("203.0.113.9"), vec![route], echo());
        assert!(r.respond(&req, SystemTime::now()).is_none());
        assert_eq!(r.counters.martian, 1);
        assert_eq!(r.counters.echo_replies, 0, "counters count replies sent");
    }

    #[test]
    fn echo_reply_keeps_recording_the_route() {
        let mut r = responder();
        let mut rr = vec![IpOption::record_route(9).unwrap()];
        record_hop(&mut rr, a("192.0.2.2"), 0);
        let req = request(a("203.0.113.9"), rr, echo());
        let reply = r.respond(&req, SystemTime::now()).expect("answered");
        assert_eq!(reply.len(), req.len(), "same size as the request");
        let f = parse_frame(&reply).unwrap();
        let L3::Ipv4 { ip, .. } = f.l3 else { panic!() };
        assert_eq!(ip.repr.dst, a("192.0.2.2"));
        assert_eq!(
            ip.repr.options[0].recorded(),
            vec![a("192.0.2.2"), a("203.0.113.9"), a("203.0.113.9")]
        );
    }

    #[test]
    fn source_route_is_reversed() {
        // a → (LSRR via r2) → us: r2 recorded 203.0.113.1; the pointer is past the end.
        let lsrr = IpOption::LooseSourceRoute {
            pointer: 8,
            route: vec![a("203.0.113.1")],
        };
        let (dst, opts) = reply_options(a("192.0.2.2"), vec![lsrr]).unwrap();
        assert_eq!(dst, a("203.0.113.1"), "back through r2 first");
        assert_eq!(
            opts,
            vec![IpOption::loose_source_route(vec![a("192.0.2.2")]).unwrap()]
        );
        // Longer: visited h1, h2, h3 → reply goes to h3, route h2, h1, src.
        let ssrr = IpOption::StrictSourceRoute {
            pointer: 16,
            route: vec![a("198.51.100.1"), a("198.51.100.2"), a("203.0.113.1")],
        };
        let (dst, opts) = reply_options(a("192.0.2.2"), vec![ssrr]).unwrap();
        assert_eq!(dst, a("203.0.113.1"));
        let IpOption::StrictSourceRoute { route, pointer } = &opts[0] else {
            panic!()
        };
        assert_eq!(*pointer, 4, "pointer at the start of the reversed route");
        assert_eq!(
            route,
            &vec![a("198.51.100.2"), a("198.51.100.1"), a("192.0.2.2")]
        );
        // Not exhausted: not ours to answer.
        let open = IpOption::loose_source_route(vec![a("203.0.113.9")]).unwrap();
        assert!(reply_options(a("192.0.2.2"), vec![open]).is_none());
    }

    #[test]
    fn broadcasts_are_ignored_unless_asked() {
        let mut r = responder();
        let req = request(a("203.0.113.255"), vec![], echo());
        assert!(r.respond(&req, SystemTime::now()).is_none());
        assert_eq!(r.counters.ignored_broadcast, 1);
        let mut cfg = ReflectConfig::new("t0", a("203.0.113.9"));
        cfg.broadcast = true;
        let mut r = Responder::new(cfg, MacAddr::new(2, 0, 0, 0, 0, 9));
        assert!(r.respond(&req, SystemTime::now()).is_some());
    }

    #[test]
    fn mask_and_timestamp_are_answered_bad_checksums_are_not() {
        let mut r = responder();
        let req = request(
            a("203.0.113.9"),
            vec![],
            IcmpMessage::AddressMaskRequest {
                id: 1,
                seq: 1,
                mask: Ipv4Addr::UNSPECIFIED,
            },
        );
        assert!(r.respond(&req, SystemTime::now()).is_some());
        let mut bad = req.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff; // break the ICMP checksum
        assert!(r.respond(&bad, SystemTime::now()).is_none());
        assert_eq!(r.counters.malformed, 1);
        let ts = request(
            a("203.0.113.9"),
            vec![],
            IcmpMessage::TimestampRequest {
                id: 1,
                seq: 1,
                originate: 5,
                receive: 0,
                transmit: 0,
            },
        );
        assert!(r.respond(&ts, SystemTime::now()).is_some());
        assert_eq!(
            (r.counters.mask_replies, r.counters.timestamp_replies),
            (1, 1)
        );
    }

    #[test]
    fn validation_names_the_problem() {
        let lo = Interface {
            name: "b-r2".into(),
            index: 2,
            mac: None,
            ipv4: vec![(a("203.0.113.2"), 24)],
            ipv6: Vec::new(),
            mtu: 1500,
            is_up: true,
            is_loopback: false,
        };
        let cfg = ReflectConfig::new("b-r2", a("203.0.113.2"));
        let e = cfg
            .validate(std::slice::from_ref(&lo))
            .unwrap_err()
            .to_string();
        assert!(e.contains("kernel would answer too"), "{e}");
        let mut cfg = ReflectConfig::new("b-r2", a("203.0.113.9"));
        cfg.mask = Some(a("255.0.255.0"));
        assert!(cfg
            .validate(&[lo])
            .unwrap_err()
            .to_string()
            .contains("not contiguous"));
    }

    fn request_from(src: Ipv4Addr, src_mac: MacAddr, dst_mac: MacAddr) -> Vec<u8> {
        let ip = Ipv4Repr::new(src, a("203.0.113.9"), 1);
        let eth = EthernetRepr {
            dst: dst_mac,
            src: src_mac,
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        build_icmp_frame(&eth, &ip, &IcmpRepr::new(echo())).unwrap()
    }

    #[test]
    fn martian_sources_and_other_macs_are_dropped() {
        let ours = MacAddr::new(2, 0, 0, 0, 0, 9);
        let peer = MacAddr::new(2, 0, 0, 0, 0, 1);
        let mut r = responder();
        for src in [
            "0.0.0.0",
            "255.255.255.255",
            "203.0.113.255",
            "224.0.0.1",
            "239.1.2.3",
            "127.0.0.1",
            "203.0.113.9",
        ] {
            let req = request_from(a(src), peer, ours);
            assert!(r.respond(&req, SystemTime::now()).is_none(), "{src}");
        }
        assert_eq!(r.counters.martian, 7);
        for mac in [MacAddr::broadcast(), MacAddr::new(1, 0, 0x5e, 0, 0, 1)] {
            let req = request_from(a("192.0.2.2"), mac, ours);
            assert!(r.respond(&req, SystemTime::now()).is_none());
        }
        assert_eq!(r.counters.martian, 9);
        // Another host's MAC, or broadcast, for an echo: not ours.
        for dst in [MacAddr::new(2, 0, 0, 0, 0, 7), MacAddr::broadcast()] {
            let req = request_from(a("192.0.2.2"), peer, dst);
            assert!(r.respond(&req, SystemTime::now()).is_none());
        }
        assert_eq!(r.counters.not_our_mac, 2);
        assert_eq!(r.counters.echo_replies, 0, "nothing was answered");
        let good = request_from(a("192.0.2.2"), peer, ours);
        let reply = r
            .respond(&good, SystemTime::now())
            .expect("a plain echo is answered");
        assert_eq!(r.counters.echo_replies, 1);
        r.uncount(&reply);
        assert_eq!(
            r.counters.echo_replies, 0,
            "a reply not sent is not counted"
        );
    }

    #[test]
    fn arp_from_a_group_sender_is_dropped_a_probe_is_answered() {
        let mut r = responder();
        let ask = |sender_mac, sender_ip| {
            let req = ArpRepr {
                op: ARP_REQUEST,
                sender_mac,
                sender_ip,
                target_mac: MacAddr::zero(),
                target_ip: a("203.0.113.9"),
            };
            crate::wire::build_arp_frame(MacAddr::new(2, 0, 0, 0, 0, 1), MacAddr::broadcast(), &req)
        };
        let peer = MacAddr::new(2, 0, 0, 0, 0, 1);
        assert!(r
            .respond(
                &ask(MacAddr::broadcast(), a("192.0.2.2")),
                SystemTime::now()
            )
            .is_none());
        assert!(r
            .respond(&ask(peer, a("255.255.255.255")), SystemTime::now())
            .is_none());
        assert_eq!(r.counters.martian, 2);
        assert!(r
            .respond(&ask(peer, a("0.0.0.0")), SystemTime::now())
            .is_some());
        assert!(r
            .respond(&ask(peer, a("192.0.2.2")), SystemTime::now())
            .is_some());
        assert_eq!(r.counters.arp_replies, 2);
    }

    #[test]
    fn only_its_own_vlan_stack_is_answered_with_the_requests_tags() {
        use crate::wire::{build_tagged_arp_frame, EthernetFrame, VlanStack};
        let st = |s: &[&str]| VlanStack::parse_specs(s).unwrap();
        let stacks = [
            VlanStack::EMPTY,
            st(&["100:5"]),
            st(&["101"]),
            st(&["100@ad"]),
            st(&["200", "100"]),
            st(&["200:1", "20:2:1"]),
            st(&["9@0x9200"]),
        ];
        let ours_mac = MacAddr::new(2, 0, 0, 0, 0, 9);
        let peer = MacAddr::new(2, 0, 0, 0, 0, 1);
        let echo_on = |v: &VlanStack| {
            let ip = Ipv4Repr::new(a("192.0.2.2"), a("203.0.113.9"), 1);
            let eth = EthernetRepr {
                vlans: *v,
                ..EthernetRepr::new(ours_mac, peer, ETHERTYPE_IPV4)
            };
            build_icmp_frame(&eth, &ip, &IcmpRepr::new(echo())).unwrap()
        };
        let arp_on = |v: &VlanStack| {
            let req = ArpRepr::request(peer, a("192.0.2.2"), a("203.0.113.9"));
            build_tagged_arp_frame(peer, MacAddr::broadcast(), v, &req)
        };
        for ours in &stacks {
            let mut cfg = ReflectConfig::new("t0", a("203.0.113.9"));
            cfg.vlans = *ours;
            let mut r = Responder::new(cfg, ours_mac);
            let mut others = 0;
            for theirs in &stacks {
                for req in [echo_on(theirs), arp_on(theirs)] {
                    let got = r.respond(&req, SystemTime::now());
                    if !ours.same_vlans(theirs) {
                        assert!(got.is_none(), "{ours} answered {theirs}");
                        // A TPID of one's own is just another EtherType to an untagged
                        // reflector: not IPv4, not counted as a VLAN.
                        if ours.header_len_in(&req).is_none() {
                            others += 1;
                        }
                        continue;
                    }
                    let reply = got.unwrap_or_else(|| panic!("{ours} ignored {theirs}"));
                    // The request's own tags, priorities and TPIDs included.
                    let eh = theirs.ethernet_header_len();
                    assert_eq!(&reply[..6], &req[6..12], "{ours}: to the sender");
                    assert_eq!(&reply[6..12], &ours_mac.octets()[..], "{ours}: from us");
                    assert_eq!(&reply[12..eh - 2], &req[12..eh - 2], "{ours}: its tags");
                    assert_eq!(
                        theirs.header_len_in(&reply),
                        Some(theirs.ethernet_header_len())
                    );
                    if theirs.iter().all(|t| t.tpid != 0x9200) {
                        let tags: Vec<u16> = EthernetFrame::new_checked(&reply[..])
                            .unwrap()
                            .tags()
                            .map(|t| t.tci)
                            .collect();
                        let want: Vec<u16> = theirs.iter().map(|t| t.tci).collect();
                        assert_eq!(tags, want);
                    }
                }
            }
            assert_eq!(r.counters.other_vlan, others);
            assert_eq!(
                (r.counters.echo_replies, r.counters.arp_replies),
                (1, 1),
                "{ours}"
            );
            // A reply taken back (rate limit) is uncounted where its tags put it.
            let reply = r.respond(&echo_on(ours), SystemTime::now()).unwrap();
            r.uncount(&reply);
            assert_eq!(r.counters.echo_replies, 1, "{ours}");
        }
    }

    fn udp_request(src: Ipv4Addr, sport: u16, dport: u16, options: Vec<IpOption>) -> Vec<u8> {
        let mut ip = Ipv4Repr::new(src, a("203.0.113.9"), 1);
        ip.protocol = IP_PROTO_UDP;
        ip.options = options;
        let eth = EthernetRepr {
            dst: MacAddr::new(2, 0, 0, 0, 0, 9),
            src: MacAddr::new(2, 0, 0, 0, 0, 1),
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        let l4 = L4Repr::Udp(UdpRepr::new(sport, dport, b"sixteen bytes..!".to_vec()));
        let mut f = Vec::new();
        build_l4_frame_into(&mut f, &eth, &ip, &l4, ip.dst).unwrap();
        f
    }

    #[test]
    fn udp_echo_answers_its_port_only_and_never_a_service() {
        let mut cfg = ReflectConfig::new("t0", a("203.0.113.9"));
        cfg.udp_echo = Some(7);
        let mut r = Responder::new(cfg, MacAddr::new(2, 0, 0, 0, 0, 9));
        let mut rr = vec![IpOption::record_route(9).unwrap()];
        record_hop(&mut rr, a("192.0.2.2"), 0);
        let req = udp_request(a("192.0.2.2"), 40000, 7, rr);
        let reply = r.respond(&req, SystemTime::now()).expect("answered");
        assert_eq!(reply.len(), req.len(), "same size as the request");
        assert_eq!(r.counters.udp_echo_replies, 1);
        let eth = EthernetFrame::new_checked(&reply[..]).unwrap();
        assert_eq!(eth.dst(), MacAddr::new(2, 0, 0, 0, 0, 1));
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!((ip.src(), ip.dst()), (a("203.0.113.9"), a("192.0.2.2")));
        let opts = parse_options(ip.options());
        assert_eq!(
            opts[0].recorded(),
            vec![a("192.0.2.2"), a("203.0.113.9"), a("203.0.113.9")],
            "record route goes on recording"
        );
        let udp = UdpPacket::new_checked(ip.payload()).unwrap();
        assert_eq!((udp.src_port(), udp.dst_port()), (7, 40000));
        assert_eq!(udp.payload(), b"sixteen bytes..!");
        assert_eq!(udp.verify_checksum(ip.src(), ip.dst()), Some(true));
        r.uncount(&reply);
        assert_eq!(
            r.counters.udp_echo_replies, 0,
            "a reply not sent is not counted"
        );

        // Another port: not ours to answer. A service as the source: a loop. Martians: no.
        assert!(r
            .respond(
                &udp_request(a("192.0.2.2"), 40000, 9, vec![]),
                SystemTime::now()
            )
            .is_none());
        assert_eq!(r.counters.ignored_other, 1);
        for sport in [0, 7, 19] {
            let q = udp_request(a("192.0.2.2"), sport, 7, vec![]);
            assert!(
                r.respond(&q, SystemTime::now()).is_none(),
                "source port {sport}"
            );
        }
        for src in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "127.0.0.1",
            "203.0.113.9",
        ] {
            let q = udp_request(a(src), 40000, 7, vec![]);
            assert!(r.respond(&q, SystemTime::now()).is_none(), "{src}");
        }
        assert_eq!(r.counters.martian, 8);
        let mut bad = udp_request(a("192.0.2.2"), 40000, 7, vec![]);
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(r.respond(&bad, SystemTime::now()).is_none());
        assert_eq!(r.counters.malformed, 1, "bad UDP checksum");
        assert_eq!(r.counters.udp_echo_replies, 0);

        // Without a UDP echo port nothing UDP is answered.
        let mut plain = responder();
        assert!(plain.respond(&req, SystemTime::now()).is_none());
        assert_eq!(plain.counters.answered(), 0);
        let mut cfg = ReflectConfig::new("t0", a("203.0.113.9"));
        cfg.udp_echo = Some(0);
        assert_eq!(cfg.validate(&[]).unwrap_err().field(), Some(Field::Port));
    }
}
