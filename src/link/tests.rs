//! Real-kernel link tests, inside namespaces we create (see `net::testns`).

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use pnet_datalink::MacAddr;
use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
use pnet_packet::icmp::echo_request::MutableEchoRequestPacket;
use pnet_packet::icmp::{IcmpPacket, IcmpTypes};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::{Ipv4Packet, MutableIpv4Packet};

use super::*;
use crate::lab::testing::{self, NetNs, VethPair};
use crate::net::{iface, neigh};

/// A complete Ethernet + IPv4 + ICMP echo request, built by hand with pnet_packet views.
fn echo_request(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    seq: u16,
) -> Vec<u8> {
    let payload = b"pktforge link test payload 0123";
    let icmp_len = 8 + payload.len();
    let ip_len = 20 + icmp_len;
    let mut buf = vec![0u8; 14 + ip_len];
    {
        let mut eth = MutableEthernetPacket::new(&mut buf).unwrap();
        eth.set_destination(dst_mac);
        eth.set_source(src_mac);
        eth.set_ethertype(EtherTypes::Ipv4);
    }
    {
        let mut icmp = MutableEchoRequestPacket::new(&mut buf[34..]).unwrap();
        icmp.set_icmp_type(IcmpTypes::EchoRequest);
        icmp.set_identifier(id);
        icmp.set_sequence_number(seq);
        icmp.set_payload(payload);
        let c = pnet_packet::icmp::checksum(&IcmpPacket::new(&buf[34..]).unwrap());
        MutableEchoRequestPacket::new(&mut buf[34..])
            .unwrap()
            .set_checksum(c);
    }
    {
        let mut ip = MutableIpv4Packet::new(&mut buf[14..]).unwrap();
        ip.set_version(4);
        ip.set_header_length(5);
        ip.set_total_length(ip_len as u16);
        ip.set_identification(id);
        ip.set_ttl(64);
        ip.set_next_level_protocol(IpNextHeaderProtocols::Icmp);
        ip.set_source(src);
        ip.set_destination(dst);
        let c = pnet_packet::ipv4::checksum(&Ipv4Packet::new(&buf[14..]).unwrap());
        MutableIpv4Packet::new(&mut buf[14..])
            .unwrap()
            .set_checksum(c);
    }
    buf
}

/// What a test needs to know about one received frame (byte offsets, no `wire`).
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    src_mac: [u8; 6],
    ethertype: u16,
    proto: Option<u8>,
    icmp: Option<(u8, u16, u16)>, // type, id, seq
    src_ip: Option<Ipv4Addr>,
    bytes: Vec<u8>,
    ts: SystemTime,
}

fn summarize(f: &RxFrame<'_>) -> Seen {
    let d = f.data;
    let ethertype = u16::from_be_bytes([d[12], d[13]]);
    let ipv4 = ethertype == 0x0800 && d.len() >= 34;
    let proto = ipv4.then(|| d[23]);
    let icmp = (proto == Some(1) && d.len() >= 42).then(|| {
        (
            d[34],
            u16::from_be_bytes([d[38], d[39]]),
            u16::from_be_bytes([d[40], d[41]]),
        )
    });
    Seen {
        src_mac: d[6..12].try_into().unwrap(),
        ethertype,
        proto,
        icmp,
        src_ip: ipv4.then(|| Ipv4Addr::new(d[26], d[27], d[28], d[29])),
        bytes: d.to_vec(),
        ts: f.timestamp,
    }
}

/// Receive until `deadline`, at most `max` frames.
fn drain(link: &mut dyn Link, deadline: Instant, max: usize) -> Vec<Seen> {
    let mut v = Vec::new();
    while v.len() < max {
        match link.recv(deadline).unwrap() {
            Some(f) => v.push(summarize(&f)),
            None => break,
        }
    }
    v
}

#[test]
fn open_on_missing_interface_fails_cleanly() {
    if !testing::require_root("open_on_missing_interface_fails_cleanly") {
        return;
    }
    let ns = NetNs::new("lkmiss");
    let r = ns.run(|| {
        let mut fake = iface::by_name("lo").unwrap();
        fake.index = 999_999;
        fake.name = "ghost0".into();
        open(&fake, &LinkConfig::default()).map(|_| ())
    });
    match r {
        Err(crate::Error::Io { context, .. }) => assert!(context.contains("ghost0"), "{context}"),
        o => panic!("expected an Io error, got {o:?}"),
    }
}

#[test]
fn veth_echo_reply_filter_and_ignore_outgoing() {
    if !testing::require_root("veth_echo_reply_filter_and_ignore_outgoing") {
        return;
    }
    let v = VethPair::new("lk");
    let peer_mac = v.ns2.run(|| {
        iface::by_name("veth2")
            .unwrap()
            .mac
            .expect("veth has a MAC")
    });
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (flood_tx, flood_rx) = mpsc::channel::<usize>();

    let h1 = v.ns1.spawn(move || {
        let me = iface::by_name("veth1").unwrap();
        let my_mac = me.mac.unwrap();
        let cfg = LinkConfig::default();
        let mut link = open(&me, &cfg).unwrap();
        let mut all = open(
            &me,
            &LinkConfig {
                filter: RxFilter::All,
                ..cfg.clone()
            },
        )
        .unwrap();
        ready_tx.send(()).unwrap();
        let flood = flood_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("flood finished");

        let req = echo_request(
            my_mac,
            peer_mac,
            Ipv4Addr::new(192, 0, 2, 2),
            Ipv4Addr::new(192, 0, 2, 1),
            0x5046,
            1,
        );
        let before = SystemTime::now();
        link.send(&req).unwrap();
        // Keep receiving well past the reply so late flood frames would show up.
        let seen = drain(
            link.as_mut(),
            Instant::now() + Duration::from_millis(1500),
            2000,
        );
        let after = SystemTime::now();
        let seen_all = drain(
            all.as_mut(),
            Instant::now() + Duration::from_millis(200),
            5000,
        );
        (
            my_mac,
            req,
            flood,
            seen,
            seen_all,
            link.stats(),
            all.stats(),
            before,
            after,
        )
    });

    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("ns1 link ready");
    let h2 = v.ns2.spawn(|| {
        let s = UdpSocket::bind("192.0.2.1:0").unwrap();
        let mut n = 0;
        for i in 0..200u32 {
            if s.send_to(&i.to_be_bytes(), "192.0.2.2:9").is_ok() {
                n += 1;
            }
        }
        n
    });
    let sent_udp = h2.join().unwrap();
    // Let the flood reach ns1 before the ping starts.
    std::thread::sleep(Duration::from_millis(100));
    // (flood_tx is used after the sleep so the filtered link's window covers it.)
    flood_tx.send(sent_udp).unwrap();
    let (my_mac, req, flood, seen, seen_all, st, st_all, before, after) = h1.join().unwrap();
    assert_eq!(flood, 200, "ns2 sent the whole UDP flood");

    let my_mac = my_mac.octets();
    let replies: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.icmp == Some((0, 0x5046, 1)) && s.src_ip == Some(Ipv4Addr::new(192, 0, 2, 1)))
        .collect();
    assert_eq!(replies.len(), 1, "exactly one echo reply; saw {seen:#?}");
    let ts = replies[0].ts;
    assert!(
        ts >= before && ts <= after,
        "kernel timestamp {ts:?} within the exchange"
    );
    for s in &seen {
        assert_ne!(s.bytes, req, "our own request came back");
        assert_ne!(s.src_mac, my_mac, "an outgoing frame was received");
        assert!(
            s.ethertype == 0x0806 || (s.ethertype == 0x0800 && s.proto == Some(1)),
            "filter let through {s:?}"
        );
    }
    // The unfiltered link proves the UDP flood really arrived at veth1 ...
    let udp_all = seen_all.iter().filter(|s| s.proto == Some(17)).count();
    assert!(
        udp_all >= 150,
        "only {udp_all} UDP frames arrived unfiltered"
    );
    // ... and that IGNORE_OUTGOING hides every outgoing frame (our request, ns1's ARP
    // replies and ICMP port-unreachables) from every socket, not only the sender's.
    assert!(seen_all
        .iter()
        .all(|s| s.src_mac != my_mac && s.bytes != req));
    assert!(st.ignore_outgoing, "kernel refused PACKET_IGNORE_OUTGOING");
    assert_eq!((st.sent, st.received as usize), (1, seen.len()));
    assert_eq!(st.own_frames_suppressed, 0, "nothing to suppress on veth");
    assert_eq!(st_all.sent, 0);
    eprintln!("filtered: {st:?}; unfiltered: {st_all:?}; udp seen unfiltered: {udp_all}");

    // The exchange taught ns2's kernel our MAC: the neighbour cache shows it.
    let cached = v.ns2.run(|| {
        let text = std::fs::read_to_string("/proc/thread-self/net/arp").unwrap_or_default();
        eprintln!("ns2 /proc/thread-self/net/arp:\n{text}");
        neigh::lookup("veth2", Ipv4Addr::new(192, 0, 2, 2))
    });
    assert_eq!(cached.map(|m| m.octets()), Some(my_mac));
}

#[test]
fn loopback_echo_seen_once_request_never() {
    if !testing::require_root("loopback_echo_seen_once_request_never") {
        return;
    }
    let ns = NetNs::new("lklo");
    // Kernel behaviour: a frame injected on lo has no route attached yet (normal lo
    // traffic keeps the route of its output path), so IPv4 input validates it like any
    // received frame: 127.0.0.1 as destination is martian unless route_localnet=1, and a
    // source that is one of our own addresses is martian unless accept_local=1.
    ns.sysctl("net.ipv4.conf.lo.route_localnet", "1");
    ns.sysctl("net.ipv4.conf.lo.accept_local", "1");
    let (seen, observed, st) = ns.run(|| {
        let lo = iface::by_name("lo").unwrap();
        assert_eq!(lo.mac, None);
        let mut link = open(&lo, &LinkConfig::default()).unwrap();
        // An unfiltered observer that sends nothing: shows what the kernel itself delivers.
        let mut observer = open(
            &lo,
            &LinkConfig {
                filter: RxFilter::All,
                ..LinkConfig::default()
            },
        )
        .unwrap();
        let zero = MacAddr::zero();
        let req = echo_request(
            zero,
            zero,
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::LOCALHOST,
            0x4c4f,
            7,
        );
        link.send(&req).unwrap();
        let deadline = Instant::now() + Duration::from_millis(700);
        let seen = drain(link.as_mut(), deadline, 100);
        let observed = drain(observer.as_mut(), deadline, 100);
        (seen, observed, link.stats())
    });
    let count = |v: &[Seen], t: u8| v.iter().filter(|s| s.icmp == Some((t, 0x4c4f, 7))).count();
    assert_eq!(count(&seen, 0), 1, "exactly one echo reply: {seen:#?}");
    assert_eq!(
        count(&seen, 8),
        0,
        "our request must not come back: {seen:#?}"
    );
    // Kernel behaviour: the outgoing copy is hidden by IGNORE_OUTGOING, the looped-back
    // incoming copy is not — one request, one reply, never the request twice.
    assert_eq!(count(&observed, 8), 1, "observer: {observed:#?}");
    assert_eq!(count(&observed, 0), 1, "observer: {observed:#?}");
    assert!(st.ignore_outgoing);
    assert_eq!(st.own_frames_suppressed, 1, "{st:?}");
    eprintln!("lo stats: {st:?}");
}
