//! Build/parse cost of the frames pktforge sends and receives, beside same-run references
//! built on `pnet_packet` directly (its mutable views and checksum functions): compare
//! "pktforge ..." with "reference pnet ..." of the same run, as ratios.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, Criterion};
use pktforge::wire::ipv6ext::{upper_layer, Ipv6Option, OptionsRepr, RoutingRepr, SrhRepr};
use pktforge::wire::{
    build_icmp_frame, build_icmp_frame_into, checksum, parse_frame, EthernetFrame, EthernetRepr,
    IcmpPacket, IcmpRepr, IpOption, Ipv4Packet, Ipv4Repr, MacAddr, ETHERTYPE_IPV4, IP_PROTO_ICMP,
};
use pktforge::wire::{
    build_ipv6_frame, build_ipv6_frame_into, ExtHeaderRepr, Icmpv6Repr, Ipv6Repr, L6Repr,
    ETHERTYPE_IPV6,
};

fn setup(options: Vec<IpOption>) -> (EthernetRepr, Ipv4Repr, IcmpRepr) {
    let eth = EthernetRepr {
        dst: MacAddr::new(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8),
        src: MacAddr::new(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5),
        vlans: pktforge::wire::VlanStack::EMPTY,
        ethertype: ETHERTYPE_IPV4,
    };
    let mut ip = Ipv4Repr::new(
        Ipv4Addr::new(192, 0, 2, 2),
        Ipv4Addr::new(203, 0, 113, 2),
        IP_PROTO_ICMP,
    );
    ip.options = options;
    let icmp = IcmpRepr::echo_request(0x1a6a, 1, (0..56).collect());
    (eth, ip, icmp)
}

fn benches(c: &mut Criterion) {
    let (eth, ip, icmp) = setup(vec![]);
    c.bench_function("build echo frame, no options", |b| {
        b.iter(|| build_icmp_frame(black_box(&eth), black_box(&ip), black_box(&icmp)).unwrap())
    });

    let (eth_rr, ip_rr, icmp_rr) = setup(vec![IpOption::record_route(9).unwrap()]);
    c.bench_function("build echo frame, RR 9 slots (40 B options)", |b| {
        b.iter(|| {
            build_icmp_frame(black_box(&eth_rr), black_box(&ip_rr), black_box(&icmp_rr)).unwrap()
        })
    });

    let mut buf = Vec::with_capacity(2048);
    c.bench_function("build_icmp_frame_into reused buffer, RR 9 slots", |b| {
        b.iter(|| {
            build_icmp_frame_into(
                black_box(&mut buf),
                black_box(&eth_rr),
                black_box(&ip_rr),
                black_box(&icmp_rr),
            )
            .unwrap()
        })
    });

    // An echo reply carrying 7 recorded hops, as a Linux host sends it.
    let mut reply_ip = ip_rr.clone();
    std::mem::swap(&mut reply_ip.src, &mut reply_ip.dst);
    reply_ip.options = vec![IpOption::RecordRoute {
        pointer: 32,
        slots: vec![Ipv4Addr::new(198, 51, 100, 1); 9],
    }];
    let reply = IcmpRepr::new(pktforge::wire::IcmpMessage::EchoReply {
        id: 0x1a6a,
        seq: 1,
        data: (0..56).collect(),
    });
    let frame = build_icmp_frame(&eth_rr, &reply_ip, &reply).unwrap();
    c.bench_function("parse_frame echo reply with RR", |b| {
        b.iter(|| parse_frame(black_box(&frame)).unwrap())
    });

    // The borrowed views over the same frame: what a reply matcher reads (no allocation).
    c.bench_function(
        "views: echo reply with RR, id/seq/ttl + options walk",
        |b| {
            b.iter(|| {
                let f = black_box(&frame[..]);
                let eth = EthernetFrame::new_checked(f).unwrap();
                let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
                let icmp = IcmpPacket::new_checked(ip.payload()).unwrap();
                let opts = ip.option_iter().filter(Result::is_ok).count();
                (
                    icmp.echo_id_seq(),
                    ip.ttl(),
                    ip.src(),
                    opts,
                    icmp.verify_checksum(),
                )
            })
        },
    );
    let (eth0, ip0, icmp0) = setup(Vec::new());
    let plain = build_icmp_frame(&eth0, &ip0, &icmp0).unwrap();
    c.bench_function("views: echo frame, no options, id/seq/ttl", |b| {
        b.iter(|| {
            let f = black_box(&plain[..]);
            let eth = EthernetFrame::new_checked(f).unwrap();
            let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
            let icmp = IcmpPacket::new_checked(ip.payload()).unwrap();
            (icmp.echo_id_seq(), ip.ttl(), ip.src(), ip.dst())
        })
    });

    // Reference: the same 98-byte echo frame (no options) written with pnet's mutable views
    // and checksums, into a reused buffer, as a hand-written pnet sender would.
    let mut pbuf = vec![0u8; 14 + 20 + 8 + 56];
    c.bench_function(
        "reference pnet: build echo frame, no options, reused buffer",
        |b| b.iter(|| pnet_echo(black_box(&mut pbuf))),
    );
    let mut obuf = Vec::with_capacity(2048);
    c.bench_function(
        "pktforge: build echo frame, no options, reused buffer",
        |b| {
            b.iter(|| {
                build_icmp_frame_into(
                    black_box(&mut obuf),
                    black_box(&eth),
                    black_box(&ip),
                    black_box(&icmp),
                )
                .unwrap()
            })
        },
    );

    // IPv6: the same echo (56 data bytes) into a reused buffer, plain and behind Hop-by-Hop
    // (Router Alert) + a 3-segment SRH; and the extension-header walk over the latter.
    let a6: Ipv6Addr = "2001:db8:1::2".parse().unwrap();
    let b6: Ipv6Addr = "2001:db8:3::2".parse().unwrap();
    let eth6 = EthernetRepr {
        ethertype: ETHERTYPE_IPV6,
        ..eth
    };
    let ip6 = Ipv6Repr::new(a6, b6, 58);
    let echo6 = L6Repr::Icmpv6(Icmpv6Repr::echo_request(0x1a6a, 1, (0..56).collect()));
    let mut buf6 = Vec::with_capacity(2048);
    c.bench_function("build_ipv6_frame_into reused buffer, echo", |b| {
        b.iter(|| {
            build_ipv6_frame_into(
                black_box(&mut buf6),
                black_box(&eth6),
                black_box(&ip6),
                black_box(&[]),
                black_box(&echo6),
            )
            .unwrap()
        })
    });
    let exts = [
        ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![Ipv6Option::RouterAlert(0)])),
        ExtHeaderRepr::Routing(RoutingRepr::Srh(SrhRepr::from_path(&[
            "2001:db8:1::1".parse().unwrap(),
            "2001:db8:2::2".parse().unwrap(),
            b6,
        ]))),
    ];
    c.bench_function(
        "build_ipv6_frame_into reused buffer, echo + HBH + SRH",
        |b| {
            b.iter(|| {
                build_ipv6_frame_into(
                    black_box(&mut buf6),
                    black_box(&eth6),
                    black_box(&ip6),
                    black_box(&exts),
                    black_box(&echo6),
                )
                .unwrap()
            })
        },
    );
    let frame6 = build_ipv6_frame(&eth6, &ip6, &exts, &echo6).unwrap();
    c.bench_function("ExtChain walk: HBH + SRH to ICMPv6", |b| {
        b.iter(|| upper_layer(black_box(0), black_box(&frame6[54..])).unwrap())
    });

    let small: Vec<u8> = (0..64u8).collect();
    let large: Vec<u8> = (0..1500).map(|i| i as u8).collect();
    c.bench_function("checksum 64 B", |b| b.iter(|| checksum(black_box(&small))));
    c.bench_function("checksum 1500 B", |b| {
        b.iter(|| checksum(black_box(&large)))
    });
    c.bench_function("reference pnet: checksum 1500 B", |b| {
        b.iter(|| pnet_packet::util::checksum(black_box(&large), 99))
    });
}

/// An echo request frame written field by field with pnet_packet's views.
fn pnet_echo(buf: &mut [u8]) {
    use pnet_packet::ethernet::{EtherTypes, MutableEthernetPacket};
    use pnet_packet::icmp::{echo_request::MutableEchoRequestPacket, IcmpTypes};
    use pnet_packet::ip::IpNextHeaderProtocols;
    use pnet_packet::ipv4::{self, MutableIpv4Packet};
    use pnet_packet::{MutablePacket, Packet};
    {
        let mut e = MutableEthernetPacket::new(&mut buf[..]).unwrap();
        e.set_destination(MacAddr::new(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8));
        e.set_source(MacAddr::new(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5));
        e.set_ethertype(EtherTypes::Ipv4);
    }
    {
        let mut i = MutableIpv4Packet::new(&mut buf[14..]).unwrap();
        i.set_version(4);
        i.set_header_length(5);
        i.set_total_length(84);
        i.set_ttl(64);
        i.set_next_level_protocol(IpNextHeaderProtocols::Icmp);
        i.set_source(Ipv4Addr::new(192, 0, 2, 2));
        i.set_destination(Ipv4Addr::new(203, 0, 113, 2));
        i.set_checksum(0);
        let c = ipv4::checksum(&i.to_immutable());
        i.set_checksum(c);
    }
    let mut m = MutableEchoRequestPacket::new(&mut buf[34..]).unwrap();
    m.set_icmp_type(IcmpTypes::EchoRequest);
    m.set_identifier(0x1a6a);
    m.set_sequence_number(1);
    for (i, b) in m.payload_mut().iter_mut().enumerate() {
        *b = i as u8;
    }
    m.set_checksum(0);
    let c = pnet_packet::util::checksum(m.packet(), 1);
    m.set_checksum(c);
}

criterion_group!(wire, benches);
criterion_main!(wire);
