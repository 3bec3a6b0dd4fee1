//! The reflector's responder (`reflect::Responder::respond`, frame in → at most one frame out):
//! never a reply larger than the request (both counted at the 60-byte Ethernet minimum), at
//! most one answered request per frame, every reply well-formed, and never a reply to a
//! broadcast, multicast, loopback, zero or own source (IP or Ethernet), nor sent to one.
//!
//! Input: a flags byte (bit 0 answer broadcasts, bit 1 advertise as a router, bit 2 answer
//! address masks, bit 3 make the frame's IPv4/ICMP checksums right first, so mutated frames
//! get past the checksum test; bit 4 answer as 198.51.100.9, else as 203.0.113.2: the
//! addresses the seed requests were sent to), the prefix length (mod 33), then the frame.
//! The only reply to a martian this allows is RFC 1256's: a router solicitation from 0.0.0.0
//! is answered on the all-hosts group 224.0.0.1, TTL 1.
//!
//! `PKTFORGE_FUZZ_ALLOW_MARTIANS=1` skips the martian-source checks (every other check stays),
//! to fuzz the rest while the responder still answers martians.
#![no_main]
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use pktforge::reflect::{ReflectConfig, Responder};
use pktforge::wire::{parse_frame, IcmpMessage, MacAddr, ARP_REPLY, ARP_REQUEST, L3, L4};

const OWNS: [Ipv4Addr; 2] = [
    Ipv4Addr::new(203, 0, 113, 2),
    Ipv4Addr::new(198, 51, 100, 9),
];
const OWN_MAC: MacAddr = MacAddr(2, 0, 0, 0, 0, 9);

/// Why `a` is no address to answer (or answer through), if it is not.
fn martian(a: Ipv4Addr, own: Ipv4Addr, prefix: u8) -> Option<&'static str> {
    let host_bits = if prefix >= 31 { 0 } else { u32::MAX >> prefix };
    if a.is_broadcast() {
        Some("broadcast")
    } else if host_bits != 0 && u32::from(a) == u32::from(own) | host_bits {
        Some("our subnet's broadcast")
    } else if a.is_multicast() {
        Some("multicast")
    } else if a.is_loopback() {
        Some("loopback")
    } else if a.is_unspecified() {
        Some("zero")
    } else if a == own {
        Some("our own address")
    } else {
        None
    }
}

fn group_mac(m: MacAddr) -> bool {
    m.0 & 1 != 0
}

fn martians_checked() -> bool {
    static CHECK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CHECK.get_or_init(|| std::env::var_os("PKTFORGE_FUZZ_ALLOW_MARTIANS").is_none())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [flags, prefix, ..] = *data else {
        return;
    };
    let prefix = prefix % 33;
    let mut frame = data[2..].to_vec();
    if flags & 8 != 0 {
        pktforge_fuzz::fix_checksums(&mut frame);
    }
    let frame = &frame[..];
    let own = OWNS[usize::from(flags >> 4 & 1)];
    let mut cfg = ReflectConfig::new("fuzz0", own);
    cfg.broadcast = flags & 1 != 0;
    cfg.advertise = flags & 2 != 0;
    cfg.mask = (flags & 4 != 0).then_some(Ipv4Addr::new(255, 255, 255, 0));
    cfg.prefix = prefix;
    let mut r = Responder::new(cfg, OWN_MAC);
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let reply = r.respond(frame, at);
    let c = &r.counters;
    assert_eq!(c.frames, 1);
    let answered = c.answered() + c.arp_replies + c.advertisements;
    assert!(answered <= 1, "one frame counted as {answered} answers");
    let Some(reply) = reply else {
        return;
    };
    let show = || {
        format!(
            "\n request {}\n reply   {}",
            pktforge_fuzz::hex(frame),
            pktforge_fuzz::hex(&reply)
        )
    };
    assert_eq!(answered, 1, "a reply not counted as an answer{}", show());
    assert!(
        reply.len() <= frame.len().max(60),
        "reply of {} bytes to a {}-byte request{}",
        reply.len(),
        frame.len(),
        show()
    );
    let req = parse_frame(frame).expect("answered a frame that does not parse");
    let rep = parse_frame(&reply).expect("the reply does not parse");
    assert_eq!(rep.eth.src, OWN_MAC);
    // ARP replies go to the ARP sender's MAC (as Linux's do), ICMP to the frame's source.
    let peer = match &req.l3 {
        L3::Arp(q) => q.sender_mac,
        _ => req.eth.src,
    };
    assert_eq!(rep.eth.dst, peer);
    let check = martians_checked();
    assert!(
        !check || !group_mac(peer),
        "reflect answered a frame from the group (multicast) MAC {peer}{}",
        show()
    );
    match (&req.l3, &rep.l3) {
        (L3::Arp(q), L3::Arp(a)) => {
            assert_eq!((q.op, q.target_ip), (ARP_REQUEST, own));
            assert_eq!((a.op, a.sender_ip, a.sender_mac), (ARP_REPLY, own, OWN_MAC));
            assert_eq!((a.target_ip, a.target_mac), (q.sender_ip, q.sender_mac));
            // 0.0.0.0 is an address probe (RFC 5227), which an owner answers.
            if check && !q.sender_ip.is_unspecified() {
                if let Some(why) = martian(q.sender_ip, own, prefix) {
                    panic!(
                        "reflect answered ARP from {} ({why}){}",
                        q.sender_ip,
                        show()
                    );
                }
            }
        }
        (
            L3::Ipv4 {
                ip: qi,
                l4: L4::Icmp(qm),
            },
            L3::Ipv4 {
                ip: ai,
                l4: L4::Icmp(am),
            },
        ) => {
            assert!(
                qi.checksum_ok && qm.checksum_ok,
                "answered a bad checksum{}",
                show()
            );
            assert!(
                ai.checksum_ok && am.checksum_ok,
                "reply checksum wrong{}",
                show()
            );
            assert_eq!(ai.repr.src, own);
            let rfc1256 = matches!(qm.repr.message, IcmpMessage::RouterSolicitation)
                && qi.repr.src.is_unspecified()
                && ai.repr.dst == Ipv4Addr::new(224, 0, 0, 1)
                && ai.repr.ttl == 1;
            if check && !rfc1256 {
                if let Some(why) = martian(qi.repr.src, own, prefix) {
                    panic!(
                        "reflect answered a request from {} ({why}){}",
                        qi.repr.src,
                        show()
                    );
                }
                if let Some(why) = martian(ai.repr.dst, own, prefix) {
                    panic!("reflect sent a reply to {} ({why}){}", ai.repr.dst, show());
                }
            }
            use IcmpMessage::*;
            let kind_ok = matches!(
                (&qm.repr.message, &am.repr.message),
                (EchoRequest { .. }, EchoReply { .. })
                    | (TimestampRequest { .. }, TimestampReply { .. })
                    | (AddressMaskRequest { .. }, AddressMaskReply { .. })
                    | (RouterSolicitation, RouterAdvertisement { .. })
            );
            assert!(kind_ok, "reply kind does not answer the request{}", show());
            if let (
                EchoRequest { id, seq, data },
                EchoReply {
                    id: i2,
                    seq: s2,
                    data: d2,
                },
            ) = (&qm.repr.message, &am.repr.message)
            {
                assert_eq!((id, seq, data), (i2, s2, d2), "echo data changed{}", show());
            }
        }
        _ => panic!("reply does not answer the request{}", show()),
    }
});
