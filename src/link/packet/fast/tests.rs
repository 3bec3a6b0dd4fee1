//! The fast link against the real kernel, in namespaces we create (see `net::testns`).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use super::*;
use crate::lab::testing::{self, VethPair};
use crate::link::RxFilter;
use crate::net::iface;
use crate::wire::{build_icmp_frame, EthernetRepr, IcmpRepr, Ipv4Repr, MacAddr, ETHERTYPE_IPV4};

const ME: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn request(src: MacAddr, dst: MacAddr, seq: u16) -> Vec<u8> {
    let eth = EthernetRepr {
        dst,
        src,
        vlans: crate::wire::VlanStack::EMPTY,
        ethertype: ETHERTYPE_IPV4,
    };
    let ip = Ipv4Repr::new(ME, PEER, 1);
    build_icmp_frame(
        &eth,
        &ip,
        &IcmpRepr::echo_request(0x7a11, seq, vec![0xab; 32]),
    )
    .unwrap()
}

fn cfg() -> LinkConfig {
    LinkConfig {
        filter: RxFilter::ArpAndIcmpTo(ME),
        ..LinkConfig::default()
    }
}

/// (ICMP type, seq, timestamp) of every frame received until `deadline` or `want` frames.
fn collect(link: &mut FastLink, deadline: Instant, want: usize) -> Vec<(u8, u16, SystemTime)> {
    let mut v = Vec::new();
    while v.len() < want && Instant::now() < deadline {
        link.recv_in_place(&mut |d, ts| {
            if d.len() >= 42 && d[23] == 1 {
                v.push((d[34], u16::from_be_bytes([d[40], d[41]]), ts));
            }
        })
        .unwrap();
        link.wait_rx(Instant::now() + Duration::from_millis(20))
            .unwrap();
    }
    v
}

#[test]
fn batch_send_and_ring_receive_with_kernel_timestamps_and_no_own_frames() {
    if !testing::require_root("fast batch send/receive") {
        return;
    }
    let v = VethPair::new("fk");
    let peer_mac = v.ns2.run(|| iface::by_name("veth2").unwrap().mac.unwrap());
    for mode in [TxMode::Ring, TxMode::Mmsg, TxMode::Xdp] {
        let (seen, stats, kts, before, after) = v.ns1.run(move || {
            let me = iface::by_name("veth1").unwrap();
            let my_mac = me.mac.unwrap();
            let mut link = FastLink::open(
                &me,
                &cfg(),
                FastOptions {
                    tx_mode: mode,
                    max_frame: 0,
                    queue: 0,
                    bypass_taps: false,
                },
            )
            .unwrap();
            let before = SystemTime::now();
            // One frame through the Link trait (may need ARP on the peer side first), then
            // a batch written in place.
            link.send(&request(my_mac, peer_mac, 0)).unwrap();
            let mut queued = 0;
            while queued < 100 {
                queued += link
                    .send_in_place(100 - queued, &mut |i, buf| {
                        let f = request(my_mac, peer_mac, (queued + i + 1) as u16);
                        buf[..f.len()].copy_from_slice(&f);
                        f.len()
                    })
                    .unwrap();
            }
            link.tx_drain(Instant::now() + Duration::from_secs(1))
                .unwrap();
            let seen = collect(&mut link, Instant::now() + Duration::from_secs(3), 101);
            let after = SystemTime::now();
            (seen, link.stats(), link.kernel_timestamped(), before, after)
        });
        assert_eq!(stats.sent, 101, "{mode:?}");
        assert!(stats.ignore_outgoing, "PACKET_IGNORE_OUTGOING is honoured");
        assert!(
            seen.iter().all(|&(t, _, _)| t == 0),
            "{mode:?}: only echo replies, never our own requests: {seen:?}"
        );
        let mut seqs: Vec<u16> = seen.iter().map(|s| s.1).collect();
        seqs.sort();
        seqs.dedup();
        assert_eq!(
            seqs,
            (0..=100).collect::<Vec<u16>>(),
            "{mode:?}: every reply once"
        );
        assert_eq!(
            kts, stats.received,
            "every ring frame carries a kernel timestamp"
        );
        for &(_, _, ts) in &seen {
            assert!(
                ts >= before && ts <= after,
                "kernel timestamp inside the run"
            );
        }
    }
}

#[test]
fn fanout_hands_each_reply_to_exactly_one_ring() {
    if !testing::require_root("fast fanout") {
        return;
    }
    let v = VethPair::new("ff");
    let peer_mac = v.ns2.run(|| iface::by_name("veth2").unwrap().mac.unwrap());
    let (a, b) = v.ns1.run(move || {
        let me = iface::by_name("veth1").unwrap();
        let my_mac = me.mac.unwrap();
        let mut l1 = FastLink::open(&me, &cfg(), FastOptions::default()).unwrap();
        let mut l2 = FastLink::open(&me, &cfg(), FastOptions::default()).unwrap();
        let group = (std::process::id() as u16) ^ 0x5a5a;
        l1.join_fanout(group).unwrap();
        l2.join_fanout(group).unwrap();
        for s in 0..50u16 {
            l1.send(&request(my_mac, peer_mac, s)).unwrap();
        }
        let end = Instant::now() + Duration::from_secs(2);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        while a.len() + b.len() < 50 && Instant::now() < end {
            a.extend(collect(
                &mut l1,
                Instant::now() + Duration::from_millis(30),
                50,
            ));
            b.extend(collect(
                &mut l2,
                Instant::now() + Duration::from_millis(30),
                50,
            ));
        }
        // Linger for stray duplicates.
        a.extend(collect(
            &mut l1,
            Instant::now() + Duration::from_millis(100),
            100,
        ));
        b.extend(collect(
            &mut l2,
            Instant::now() + Duration::from_millis(100),
            100,
        ));
        (a, b)
    });
    let mut all: Vec<u16> = a.iter().chain(&b).map(|s| s.1).collect();
    all.sort();
    assert_eq!(
        all,
        (0..50).collect::<Vec<u16>>(),
        "each reply in exactly one ring"
    );
}

#[test]
fn oversized_frame_is_refused_before_sending() {
    assert!(tx_slot_for(MAX_FRAME).is_some());
    assert!(tx_slot_for(MAX_FRAME + 1).is_none());
    assert_eq!(tx_slot_for(60), Some(MIN_SLOT));
    if !testing::require_root("fast oversized frame") {
        return;
    }
    let v = VethPair::new("fo");
    let r = v.ns1.run(|| {
        let me = iface::by_name("veth1").unwrap();
        FastLink::open(
            &me,
            &LinkConfig::default(),
            FastOptions {
                tx_mode: TxMode::Ring,
                max_frame: MAX_FRAME + 1,
                queue: 0,
                bypass_taps: false,
            },
        )
        .map(|_| ())
    });
    assert!(r.unwrap_err().to_string().contains("TX ring slot"));
}
