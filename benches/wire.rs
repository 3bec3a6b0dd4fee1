//! Build/parse cost of the frames pktforge sends and receives.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{criterion_group, criterion_main, Criterion};
use pktforge::wire::{
    build_icmp_frame, build_icmp_frame_into, checksum, parse_frame, EthernetRepr, IcmpRepr,
    IpOption, Ipv4Repr, MacAddr, ETHERTYPE_IPV4, IP_PROTO_ICMP,
};

fn setup(options: Vec<IpOption>) -> (EthernetRepr, Ipv4Repr, IcmpRepr) {
    let eth = EthernetRepr {
        dst: MacAddr::new(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8),
        src: MacAddr::new(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5),
        vlan: None,
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

    let small: Vec<u8> = (0..64u8).collect();
    let large: Vec<u8> = (0..1500).map(|i| i as u8).collect();
    c.bench_function("checksum 64 B", |b| b.iter(|| checksum(black_box(&small))));
    c.bench_function("checksum 1500 B", |b| {
        b.iter(|| checksum(black_box(&large)))
    });
}

criterion_group!(wire, benches);
criterion_main!(wire);
