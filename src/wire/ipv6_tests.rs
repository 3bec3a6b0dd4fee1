//! IPv6 wire tests against bytes built by an independent builder: scapy 2.5.0 (built offline,
//! never sent; the script is in the comments of each vector's use). Emit must equal scapy's
//! bytes and parse must read them back field by field; every prefix of every vector must
//! parse without a panic.

use std::net::Ipv6Addr;

use super::icmpv6::{explain_pointer6, types};
use super::ipv6ext::*;
use super::testutil::hex;
use super::*;

/// Frames from scapy: E = Ether(src=5a:7f:53:3d:69:e5, dst=72:b6:fa:7b:54:a8),
/// A = 2001:db8:1::2, B = 2001:db8:3::2, R1 = 2001:db8:1::1, R2 = 2001:db8:2::2, data = 0..16.
#[allow(dead_code)]
pub(crate) mod v {
    pub const ECHO_HBH: &str =
        "72b6fa7b54a85a7f533d69e586dd600123450020004020010db800010000000000000000000220010db8000300000000\
            0000000000023a000502000001008000d9bd12340001000102030405060708090a0b0c0d0e0f";

    pub const ECHO_DEST: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000203c4020010db800010000000000000000000220010db8000300000000\
            0000000000023a000104000000008000ebef00010002000102030405060708090a0b0c0d0e0f";

    pub const ECHO_FRAG: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000202c4020010db800010000000000000000000220010db8000300000000\
            0000000000023a000000deadbeef8000ebee00010003000102030405060708090a0b0c0d0e0f";

    pub const ECHO_RT0: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000402b4020010db800010000000000000000000220010db8000100000000\
            0000000000013a0400020000000020010db800020000000000000000000220010db80003000000000000000000028000\
            ebed00010004000102030405060708090a0b0c0d0e0f";

    pub const ECHO_SRH: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000502b4020010db800010000000000000000000220010db8000100000000\
            0000000000013a0604020200000020010db800030000000000000000000220010db80002000000000000000000022001\
            0db80001000000000000000000018000ebec00010005000102030405060708090a0b0c0d0e0f";

    pub const UDP_SRH: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000482b4020010db800010000000000000000000220010db8000100000000\
            000000000001110604020200000020010db800030000000000000000000220010db80002000000000000000000022001\
            0db80001000000000000000000019c40829a0010f3e36162636465666768";

    pub const TCP_V6: &str =
        "72b6fa7b54a85a7f533d69e586dd600000000014064020010db800010000000000000000000220010db8000300000000\
            0000000000029c400050000003e8000000005002faf0b8ff0000";

    pub const NS: &str =
        "3333ff0000015a7f533d69e586dd6000000000203aff20010db8000100000000000000000002ff020000000000000000\
            0001ff000001870006850000000020010db800010000000000000000000101015a7f533d69e5";

    pub const NA: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000203aff20010db800010000000000000000000120010db8000100000000\
            00000000000288004a96e000000020010db8000100000000000000000001020172b6fa7b54a8";

    pub const RS: &str =
        "3333000000025a7f533d69e586dd6000000000103afffe80000000000000587f53fffe3d69e5ff020000000000000000\
            00000000000285004fea0000000001015a7f533d69e5";

    pub const RA: &str =
        "33330000000172b6fa7b54a886dd6000000000403afffe8000000000000070b6fafffe7b54a8ff020000000000000000\
            000000000001860033c44048070800007530000003e8010172b6fa7b54a805010000000005dc030440c0000151800000\
            38400000000020010db8000100000000000000000000";

    pub const PTB: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000403a4020010db800010000000000000000000120010db8000100000000\
            00000000000202000309000005006000000000103a3f20010db800010000000000000000000220010db8000300000000\
            00000000000280001824000100060001020304050607";

    pub const PARAM_PROBLEM: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000403a4020010db800010000000000000000000120010db8000100000000\
            000000000002040285cf0000002a600000000010004020010db800010000000000000000000220010db8000300000000\
            0000000000023a008004000000008000243b00010007";

    pub const REDIRECT: &str =
        "72b6fa7b54a85a7f533d69e586dd6000000000303afffe80000000000000000000000000000120010db8000100000000\
            00000000000289005a3900000000fe80000000000000000000000000000220010db80003000000000000000000020201\
            72b6fa7b54a9";

    pub const FRAG_UDP_SRC: &str =
        "600000000198114020010db800010000000000000000000220010db8000300000000000000000002000100020198fad3\
            000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\
            303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\
            606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f\
            909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
            c0c1c2c3c4c5c6c7000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627\
            28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657\
            58595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384858687\
            88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7\
            b8b9babbbcbdbebfc0c1c2c3c4c5c6c7";

    pub const FRAG_UDP_0: &str =
        "6000000000a02c4020010db800010000000000000000000220010db80003000000000000000000021100000100000007\
            000100020198fad3000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627\
            28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657\
            58595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081828384858687\
            88898a8b8c8d8e8f";

    pub const FRAG_UDP_1: &str =
        "6000000000a02c4020010db800010000000000000000000220010db80003000000000000000000021100009900000007\
            909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
            c0c1c2c3c4c5c6c7000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627\
            28292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f5051525354555657\
            58595a5b5c5d5e5f";

    pub const FRAG_UDP_2: &str =
        "6000000000702c4020010db800010000000000000000000220010db80003000000000000000000021100013000000007\
            606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f\
            909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
            c0c1c2c3c4c5c6c7";
}

fn a() -> Ipv6Addr {
    "2001:db8:1::2".parse().unwrap()
}
fn b() -> Ipv6Addr {
    "2001:db8:3::2".parse().unwrap()
}
fn r1() -> Ipv6Addr {
    "2001:db8:1::1".parse().unwrap()
}
fn r2() -> Ipv6Addr {
    "2001:db8:2::2".parse().unwrap()
}
fn mac_a() -> MacAddr {
    MacAddr::new(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5)
}
fn mac_r1() -> MacAddr {
    MacAddr::new(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8)
}
fn eth() -> EthernetRepr {
    EthernetRepr::new(mac_r1(), mac_a(), ETHERTYPE_IPV6)
}
fn data16() -> Vec<u8> {
    (0u8..16).collect()
}

/// Read everything a reader would: Ethernet, IPv6, every extension header decoded, the upper
/// layer, an ICMPv6 error's quote and its pointer explained. Must never panic.
fn read_all(frame: &[u8]) -> Result<(), WireError> {
    let (e, eh) = EthernetRepr::parse_bytes(frame)?;
    let _ = e;
    let (ip, payload) = Ipv6Repr::parse_bytes(&frame[eh..])?;
    let mut chain = ExtChain::new(ip.repr.next_header, payload);
    for h in &mut chain {
        let h = h?;
        let _ = ExtHeaderRepr::parse(&h);
        for o in OptionIter::new(h.bytes) {
            let _ = o.map(|o| Ipv6Option::parse(&o));
        }
        let _ = RoutingHeader::new_checked(h.bytes).map(|r| r.final_destination());
    }
    let fd = final_destination(ip.repr.dst, ip.repr.next_header, payload);
    if let Some(ChainEnd::Upper {
        protocol: 58,
        offset,
    }) = chain.end()
    {
        let m = Icmpv6Repr::parse_bytes(&payload[offset..], ip.repr.src, fd)?;
        if let Some(q) = m.repr.message.quote() {
            let q = q?;
            let _ = q.upper_bytes();
            let _ = q.echo_id_seq();
        }
        if let Icmpv6Message::ParameterProblem { pointer, quote, .. } = &m.repr.message {
            let _ = explain_pointer6(quote, *pointer);
        }
    }
    Ok(())
}

#[test]
fn every_prefix_of_every_vector_reads_without_panic() {
    for (name, h) in [
        ("ECHO_HBH", v::ECHO_HBH),
        ("ECHO_DEST", v::ECHO_DEST),
        ("ECHO_FRAG", v::ECHO_FRAG),
        ("ECHO_RT0", v::ECHO_RT0),
        ("ECHO_SRH", v::ECHO_SRH),
        ("UDP_SRH", v::UDP_SRH),
        ("TCP_V6", v::TCP_V6),
        ("NS", v::NS),
        ("NA", v::NA),
        ("RS", v::RS),
        ("RA", v::RA),
        ("PTB", v::PTB),
        ("PARAM_PROBLEM", v::PARAM_PROBLEM),
        ("REDIRECT", v::REDIRECT),
    ] {
        let f = hex(h);
        read_all(&f).unwrap_or_else(|e| panic!("{name}: {e}"));
        for n in 0..f.len() {
            let _ = read_all(&f[..n]);
            // Garbage in the chain: flip each byte of the IPv6 part in turn.
            let mut g = f.clone();
            g[n] ^= 0xa5;
            let _ = read_all(&g);
        }
    }
}

fn echo(id: u16, seq: u16) -> L6Repr {
    L6Repr::Icmpv6(Icmpv6Repr::echo_request(id, seq, data16()))
}

#[test]
fn echo_with_hop_by_hop_router_alert_equals_scapy() {
    // IPv6(src=A,dst=B,fl=0x12345)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0),
    // PadN(optdata=b"")])/ICMPv6EchoRequest(id=0x1234,seq=1,data=data)
    let want = hex(v::ECHO_HBH);
    let mut ip = Ipv6Repr::new(a(), b(), 0);
    ip.flow_label = 0x12345;
    let exts = [ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![
        Ipv6Option::RouterAlert(0),
        Ipv6Option::PadN(0),
    ]))];
    assert_eq!(
        build_ipv6_frame(&eth(), &ip, &exts, &echo(0x1234, 1)).unwrap(),
        want
    );
    // Parse back.
    let (p, payload) = Ipv6Repr::parse_bytes(&want[14..]).unwrap();
    assert_eq!(p.repr.flow_label, 0x12345);
    assert_eq!(p.repr.next_header, proto::HOP_BY_HOP);
    let (hs, end) = ExtChain::new(0, payload).collect_all().unwrap();
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0].kind, ExtKind::HopByHop);
    assert_eq!(
        ExtHeaderRepr::parse(&hs[0]).unwrap(),
        ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![
            Ipv6Option::RouterAlert(0),
            Ipv6Option::PadN(0)
        ]))
    );
    assert_eq!(
        end,
        ChainEnd::Upper {
            protocol: 58,
            offset: 8
        }
    );
    let m = Icmpv6Repr::parse_bytes(&payload[8..], a(), b()).unwrap();
    assert!(m.checksum_ok);
    assert_eq!(
        m.repr.message,
        Icmpv6Message::EchoRequest {
            id: 0x1234,
            seq: 1,
            data: data16()
        }
    );
}

#[test]
fn echo_with_destination_options_and_fragment_equal_scapy() {
    // IPv6ExtHdrDestOpt(options=[PadN(optdata=4 zeros)]) / ICMPv6EchoRequest(id=1,seq=2)
    let exts = [ExtHeaderRepr::DestOpts(OptionsRepr::new(vec![
        Ipv6Option::PadN(4),
    ]))];
    let ip = Ipv6Repr::new(a(), b(), 0);
    assert_eq!(
        build_ipv6_frame(&eth(), &ip, &exts, &echo(1, 2)).unwrap(),
        hex(v::ECHO_DEST)
    );
    // IPv6ExtHdrFragment(id=0xdeadbeef, offset=0, m=0): an atomic fragment.
    let frag = FragmentRepr {
        offset: 0,
        more: false,
        ident: 0xdeadbeef,
    };
    let want = hex(v::ECHO_FRAG);
    let exts = [ExtHeaderRepr::Fragment(frag)];
    assert_eq!(
        build_ipv6_frame(&eth(), &ip, &exts, &echo(1, 3)).unwrap(),
        want
    );
    let fh = FragmentHeader::new_checked(&want[54..62]).unwrap();
    assert!(fh.is_atomic());
    assert_eq!(FragmentRepr::parse(&fh), frag);
    assert_eq!(fh.next_header(), 58);
    assert_eq!(
        upper_layer(44, &want[54..]).unwrap(),
        ChainEnd::Upper {
            protocol: 58,
            offset: 8
        }
    );
}

#[test]
fn routing_type0_equals_scapy_and_checksums_the_last_address() {
    // IPv6(dst=R1)/IPv6ExtHdrRouting(type=0, segleft=2, addresses=[R2,B])/ICMPv6EchoRequest
    let want = hex(v::ECHO_RT0);
    let rt = RoutingRepr::Type0 {
        segments_left: 2,
        reserved: 0,
        addresses: vec![r2(), b()],
    };
    let ip = Ipv6Repr::new(a(), r1(), 0);
    let exts = [ExtHeaderRepr::Routing(rt.clone())];
    assert_eq!(
        build_ipv6_frame(&eth(), &ip, &exts, &echo(1, 4)).unwrap(),
        want
    );
    let payload = &want[54..];
    assert_eq!(final_destination(r1(), 43, payload), b());
    let (hs, end) = ExtChain::new(43, payload).collect_all().unwrap();
    assert_eq!(RoutingRepr::parse(hs[0].bytes).unwrap(), rt);
    let m = Icmpv6Repr::parse_bytes(&payload[end.offset()..], a(), b()).unwrap();
    assert!(m.checksum_ok);
    // Over the first hop's address it would not verify.
    assert!(
        !Icmpv6Repr::parse_bytes(&payload[end.offset()..], a(), r1())
            .unwrap()
            .checksum_ok
    );
}

#[test]
fn srh_with_three_segments_equals_scapy() {
    // IPv6(dst=R1)/IPv6ExtHdrSegmentRouting(addresses=[B,R2,R1], segleft=2, lastentry=2)/...
    let srh = SrhRepr::from_path(&[r1(), r2(), b()]);
    assert_eq!(srh.segments, vec![b(), r2(), r1()]);
    assert_eq!(srh.active_segment(), Some(r1()));
    let ip = Ipv6Repr::new(a(), r1(), 0);
    let exts = [ExtHeaderRepr::Routing(RoutingRepr::Srh(srh.clone()))];
    let want = hex(v::ECHO_SRH);
    assert_eq!(
        build_ipv6_frame(&eth(), &ip, &exts, &echo(1, 5)).unwrap(),
        want
    );
    let payload = &want[54..];
    let r = RoutingHeader::new_checked(payload).unwrap();
    assert_eq!(
        (r.routing_type(), r.segments_left(), r.hdr_ext_len()),
        (4, 2, 6)
    );
    assert_eq!(
        RoutingRepr::parse(payload).unwrap(),
        RoutingRepr::Srh(srh.clone())
    );
    assert_eq!(final_destination(r1(), 43, payload), b());
    // UDP behind the same SRH: checksum over B.
    let udp = L6Repr::Udp(UdpRepr::new(40000, 33434, b"abcdefgh".to_vec()));
    assert_eq!(
        build_ipv6_frame(&eth(), &ip, &exts, &udp).unwrap(),
        hex(v::UDP_SRH)
    );
    let u = hex(v::UDP_SRH);
    let up = udp::UdpPacket::new_checked(&u[54 + 56..]).unwrap();
    assert_eq!(up.verify_checksum_v6(a(), b()), Some(true));
    assert_eq!(up.verify_checksum_v6(a(), r1()), Some(false));
}

#[test]
fn srh_tlvs_round_trip_and_limits() {
    let mut srh = SrhRepr::from_path(&[r1(), b()]);
    srh.tlvs = vec![
        SrhTlv::Hmac {
            d_flag: true,
            key_id: 7,
            hmac: vec![0xab; 32],
        },
        SrhTlv::PadN(6),
    ];
    let rt = RoutingRepr::Srh(srh.clone());
    let n = rt.buffer_len().unwrap();
    assert_eq!(n % 8, 0);
    let mut buf = vec![0u8; n];
    rt.emit(&mut buf, 58).unwrap();
    assert_eq!(RoutingRepr::parse(&buf).unwrap(), rt);
    srh.tlvs = vec![SrhTlv::Hmac {
        d_flag: false,
        key_id: 1,
        hmac: vec![0; 20],
    }];
    let e = RoutingRepr::Srh(srh).buffer_len().unwrap_err().to_string();
    assert!(e.contains("multiple of 8") && e.contains("32"), "{e}");
    // An HMAC TLV with its reserved byte set stays raw, so it is rebuilt byte for byte (found
    // by the ipv6 fuzz target, fuzz/regressions/ipv6/srh-hmac-reserved).
    let odd = hex("3a 03 04 00 00 00 0000 20010db8000300000000000000000002 05 06 0008 00000001");
    let rt = RoutingRepr::parse(&odd).unwrap();
    let mut again = vec![0u8; rt.buffer_len().unwrap()];
    rt.emit(&mut again, 58).unwrap();
    assert_eq!(again, odd);
    // Last Entry naming more segments than the header holds.
    buf[4] = 9;
    assert!(matches!(
        RoutingRepr::parse(&buf),
        Err(WireError::Malformed { .. })
    ));
}

#[test]
fn tcp_over_ipv6_equals_scapy() {
    // IPv6(src=A,dst=B)/TCP(sport=40000,dport=80,flags="S",seq=1000,window=64240)
    let mut t = TcpRepr::new(40000, 80, tcp::flags::SYN);
    t.seq = 1000;
    t.window = 64240;
    let ip = Ipv6Repr::new(a(), b(), 0);
    let want = hex(v::TCP_V6);
    assert_eq!(
        build_ipv6_frame(&eth(), &ip, &[], &L6Repr::Tcp(t)).unwrap(),
        want
    );
    assert!(TcpPacket::new_checked(&want[54..])
        .unwrap()
        .verify_checksum_v6(a(), b()));
}

#[test]
fn neighbor_discovery_messages_equal_scapy() {
    let ll_a: Ipv6Addr = "fe80::587f:53ff:fe3d:69e5".parse().unwrap();
    let ll_r1: Ipv6Addr = "fe80::70b6:faff:fe7b:54a8".parse().unwrap();
    let snm = solicited_node(r1());
    let mut ip = Ipv6Repr::new(a(), snm, 0);
    ip.hop_limit = 255;
    let e = EthernetRepr::new(multicast_mac(snm).unwrap(), mac_a(), ETHERTYPE_IPV6);
    let ns = Icmpv6Message::NeighborSolicitation {
        target: r1(),
        options: vec![NdpOption::SourceLinkLayer(mac_a())],
    };
    let want = hex(v::NS);
    let got = build_ipv6_frame(&e, &ip, &[], &L6Repr::Icmpv6(Icmpv6Repr::new(ns.clone())));
    assert_eq!(got.unwrap(), want);
    let p = Icmpv6Repr::parse_bytes(&want[54..], a(), snm).unwrap();
    assert!(p.checksum_ok);
    assert_eq!(p.repr.message, ns);

    let na = Icmpv6Message::NeighborAdvertisement {
        router: true,
        solicited: true,
        override_flag: true,
        target: r1(),
        options: vec![NdpOption::TargetLinkLayer(mac_r1())],
    };
    let mut ip = Ipv6Repr::new(r1(), a(), 0);
    ip.hop_limit = 255;
    let want = hex(v::NA);
    let got = build_ipv6_frame(
        &eth(),
        &ip,
        &[],
        &L6Repr::Icmpv6(Icmpv6Repr::new(na.clone())),
    );
    assert_eq!(got.unwrap(), want);
    assert_eq!(
        Icmpv6Repr::parse_bytes(&want[54..], r1(), a())
            .unwrap()
            .repr
            .message,
        na
    );

    let all_routers: Ipv6Addr = "ff02::2".parse().unwrap();
    let rs = Icmpv6Message::RouterSolicitation {
        options: vec![NdpOption::SourceLinkLayer(mac_a())],
    };
    let mut ip = Ipv6Repr::new(ll_a, all_routers, 0);
    ip.hop_limit = 255;
    let e = EthernetRepr::new(multicast_mac(all_routers).unwrap(), mac_a(), ETHERTYPE_IPV6);
    let want = hex(v::RS);
    let got = build_ipv6_frame(&e, &ip, &[], &L6Repr::Icmpv6(Icmpv6Repr::new(rs.clone())));
    assert_eq!(got.unwrap(), want);
    assert_eq!(
        Icmpv6Repr::parse_bytes(&want[54..], ll_a, all_routers)
            .unwrap()
            .repr
            .message,
        rs
    );

    // ICMPv6ND_RA(chlim=64,O=1,prf=1,routerlifetime=1800,reachabletime=30000,retranstimer=1000)
    // / SrcLLAddr / MTU(1500) / PrefixInfo(2001:db8:1::/64, L, A, 86400, 14400)
    let ra = Icmpv6Message::RouterAdvertisement {
        cur_hop_limit: 64,
        managed: false,
        other: true,
        preference: 1,
        router_lifetime: 1800,
        reachable_time: 30000,
        retrans_timer: 1000,
        options: vec![
            NdpOption::SourceLinkLayer(mac_r1()),
            NdpOption::Mtu(1500),
            NdpOption::PrefixInformation {
                prefix_len: 64,
                on_link: true,
                autonomous: true,
                valid_lifetime: 86400,
                preferred_lifetime: 14400,
                prefix: "2001:db8:1::".parse().unwrap(),
            },
        ],
    };
    let all_nodes: Ipv6Addr = "ff02::1".parse().unwrap();
    let mut ip = Ipv6Repr::new(ll_r1, all_nodes, 0);
    ip.hop_limit = 255;
    let e = EthernetRepr::new(multicast_mac(all_nodes).unwrap(), mac_r1(), ETHERTYPE_IPV6);
    let want = hex(v::RA);
    let got = build_ipv6_frame(&e, &ip, &[], &L6Repr::Icmpv6(Icmpv6Repr::new(ra.clone())));
    assert_eq!(got.unwrap(), want);
    let p = Icmpv6Repr::parse_bytes(&want[54..], ll_r1, all_nodes).unwrap();
    assert!(p.checksum_ok);
    assert_eq!(p.icmp_type, types::ROUTER_ADVERTISEMENT);
    assert_eq!(p.repr.message, ra);

    // ICMPv6ND_Redirect(tgt=fe80::2, dst=B)/DstLLAddr(72:b6:fa:7b:54:a9) from fe80::1
    let rd = Icmpv6Message::Redirect {
        target: "fe80::2".parse().unwrap(),
        destination: b(),
        options: vec![NdpOption::TargetLinkLayer(MacAddr::new(
            0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa9,
        ))],
    };
    let mut ip = Ipv6Repr::new("fe80::1".parse().unwrap(), a(), 0);
    ip.hop_limit = 255;
    let want = hex(v::REDIRECT);
    let got = build_ipv6_frame(
        &eth(),
        &ip,
        &[],
        &L6Repr::Icmpv6(Icmpv6Repr::new(rd.clone())),
    );
    assert_eq!(got.unwrap(), want);
    assert_eq!(
        Icmpv6Repr::parse_bytes(&want[54..], ip.src, a())
            .unwrap()
            .repr
            .message,
        rd
    );
}

#[test]
fn errors_equal_scapy_and_quote_behind_extension_headers() {
    // ICMPv6PacketTooBig(mtu=1280) quoting IPv6(A→B, hlim 63)/EchoRequest(id=1, seq=6, 0..8)
    let want = hex(v::PTB);
    let quote = want[62..].to_vec();
    let ptb = Icmpv6Message::PacketTooBig { mtu: 1280, quote };
    let ip = Ipv6Repr::new(r1(), a(), 0);
    let got = build_ipv6_frame(
        &eth(),
        &ip,
        &[],
        &L6Repr::Icmpv6(Icmpv6Repr::new(ptb.clone())),
    );
    assert_eq!(got.unwrap(), want);
    let p = Icmpv6Repr::parse_bytes(&want[54..], r1(), a()).unwrap();
    assert!(p.checksum_ok);
    assert_eq!(p.repr.message.describe(), "Packet too big: mtu = 1280");
    let q = p.repr.message.quote().unwrap().unwrap();
    assert_eq!(q.ip.repr.hop_limit, 63);
    assert_eq!(q.echo_id_seq(), Some((1, 6)));

    // ICMPv6ParamProblem(code=2, ptr=42) quoting an echo with an HBH option of type 0x80.
    let want = hex(v::PARAM_PROBLEM);
    let p = Icmpv6Repr::parse_bytes(&want[54..], r1(), a()).unwrap();
    assert!(p.checksum_ok);
    let Icmpv6Message::ParameterProblem {
        code,
        pointer,
        ref quote,
    } = p.repr.message
    else {
        panic!("not a parameter problem: {:?}", p.repr.message)
    };
    assert_eq!((code, pointer), (2, 42));
    let q = p.repr.message.quote().unwrap().unwrap();
    // The quoted transport header is found behind the Hop-by-Hop header.
    assert_eq!(q.echo_id_seq(), Some((1, 7)));
    let why = explain_pointer6(quote, pointer);
    assert!(why.contains("Hop-by-Hop") && why.contains("0x80"), "{why}");
    assert!(why.contains("Parameter Problem"), "{why}");
    // Routing type 0 with Segments Left 1 (code 0, pointer 42 from the kernel): the type byte.
    let rt0 = hex(v::ECHO_RT0);
    let why = explain_pointer6(&rt0[14..], 42);
    assert_eq!(why, "byte 42: the Routing Header at 40, its routing type");
    assert_eq!(
        explain_pointer6(&rt0[14..], 7),
        "byte 7: the IPv6 hop limit (byte 0 of it)"
    );
    let mut r = Icmpv6Repr::new(p.repr.message.clone());
    let mut buf = vec![0u8; r.buffer_len()];
    r.emit(&mut buf, r1(), a()).unwrap();
    assert_eq!(buf, &want[54..]);
    // A deliberately wrong checksum.
    r.checksum_override = Some(0xbeef);
    r.emit(&mut buf, r1(), a()).unwrap();
    let bad = Icmpv6Repr::parse_bytes(&buf, r1(), a()).unwrap();
    assert_eq!(bad.checksum, 0xbeef);
    assert!(!bad.checksum_ok);
}

#[test]
fn options_are_aligned_and_padded() {
    // Jumbo 4n+2 after a Router Alert at 2: RA 2..6, then at 6 → 4n+2 holds, jumbo 6..12,
    // padded to 16 with PadN(2).
    let o = OptionsRepr::new(vec![
        Ipv6Option::RouterAlert(1),
        Ipv6Option::JumboPayload(70000),
        Ipv6Option::TunnelEncapLimit(4),
    ]);
    let n = o.buffer_len().unwrap();
    let mut b = vec![0u8; n];
    o.emit(&mut b, 58).unwrap();
    assert_eq!(n, 16);
    assert_eq!(hex("3a01 050200 01 c2040001 1170 040104 00"), b);
    // Jumbo first: at 2 already 4n+2.
    let o = OptionsRepr::new(vec![Ipv6Option::Pad1, Ipv6Option::JumboPayload(1)]);
    let mut b = vec![0u8; o.buffer_len().unwrap()];
    o.emit(&mut b, 59).unwrap();
    assert_eq!(hex("3b01 00 010100 c204 00000001 01020000"), b);
    let back = OptionsRepr::parse(&b).unwrap();
    assert_eq!(back.options[0], Ipv6Option::Pad1);
    assert_eq!(back.options[2], Ipv6Option::JumboPayload(1));
    // Limits.
    let big = OptionsRepr::new(vec![Ipv6Option::Raw {
        opt_type: 0x1e,
        data: vec![0; 256],
    }]);
    assert!(big.buffer_len().unwrap_err().to_string().contains("255"));
    let huge = OptionsRepr::new(vec![Ipv6Option::PadN(255); 9]);
    assert!(huge.buffer_len().unwrap_err().to_string().contains("2048"));
    // An option that overruns the header.
    let e = OptionsRepr::parse(&hex("3a00 1e09 0000 0000"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("past the header"), "{e}");
}

#[test]
fn option_action_bits() {
    assert_eq!(OptionAction::of(0x1e), OptionAction::Skip);
    assert_eq!(OptionAction::of(0x5e), OptionAction::Discard);
    assert_eq!(OptionAction::of(0x80), OptionAction::DiscardAndParamProblem);
    assert_eq!(
        OptionAction::of(0xc2),
        OptionAction::DiscardAndParamProblemUnlessMulticast
    );
    assert_eq!(option_name(0xc2), Some("Jumbo Payload"));
    assert_eq!(names::icmpv6_type(128).unwrap().keyword, "icmp6-echo");
    assert_eq!(icmpv6::dest_unreachable_name(4), Some("Port unreachable"));
    assert_eq!(icmpv6::dest_unreachable_name(9), None);
    assert_eq!(
        icmpv6::param_problem_name(3),
        Some("IPv6 First Fragment has incomplete IPv6 Header Chain")
    );
    assert!(option_may_change(opt::IOAM));
    assert!(!option_may_change(opt::ROUTER_ALERT));
}

#[test]
fn walker_stops_where_it_must() {
    assert_eq!(
        upper_layer(59, &[1, 2, 3]).unwrap(),
        ChainEnd::NoNextHeader { offset: 0 }
    );
    // DestOpts then ESP.
    let b = hex("3200 0104 00000000 deadbeef");
    assert_eq!(upper_layer(60, &b).unwrap(), ChainEnd::Esp { offset: 8 });
    // AH: (len + 2) × 4 = 16 with len 2.
    let b = hex("3a02 0000 00000001 00000001 00000000 8000");
    assert_eq!(
        upper_layer(51, &b).unwrap(),
        ChainEnd::Upper {
            protocol: 58,
            offset: 16
        }
    );
    // A later fragment.
    let b = hex("1100 0009 00000007 aaaa");
    assert_eq!(
        upper_layer(44, &b).unwrap(),
        ChainEnd::LaterFragment {
            protocol: 17,
            offset: 8
        }
    );
    // A length past the payload.
    let e = upper_layer(0, &hex("3a01 0000 0000 0000")).unwrap_err();
    assert!(
        matches!(
            e,
            WireError::Truncated {
                needed: 16,
                got: 8,
                ..
            }
        ),
        "{e}"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn addr() -> impl Strategy<Value = Ipv6Addr> {
        any::<u128>().prop_map(Ipv6Addr::from)
    }

    fn option() -> impl Strategy<Value = Ipv6Option> {
        prop_oneof![
            any::<u16>().prop_map(Ipv6Option::RouterAlert),
            any::<u32>().prop_map(Ipv6Option::JumboPayload),
            any::<u8>().prop_map(Ipv6Option::TunnelEncapLimit),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Ipv6Option::Ioam),
            (
                prop::sample::select(vec![0x1eu8, 0x3e, 0x5e, 0x80, 0xc0, 0xfe]),
                proptest::collection::vec(any::<u8>(), 0..40)
            )
                .prop_map(|(opt_type, data)| Ipv6Option::Raw { opt_type, data }),
        ]
    }

    fn ndp_option() -> impl Strategy<Value = NdpOption> {
        prop_oneof![
            any::<[u8; 6]>().prop_map(|m| NdpOption::SourceLinkLayer(MacAddr::new(
                m[0], m[1], m[2], m[3], m[4], m[5]
            ))),
            any::<u32>().prop_map(NdpOption::Mtu),
            (
                any::<u8>(),
                any::<bool>(),
                any::<bool>(),
                any::<u32>(),
                any::<u32>(),
                addr()
            )
                .prop_map(|(l, on, au, v, p, a)| NdpOption::PrefixInformation {
                    prefix_len: l,
                    on_link: on,
                    autonomous: au,
                    valid_lifetime: v,
                    preferred_lifetime: p,
                    prefix: a,
                }),
            (100u8..200, proptest::collection::vec(any::<u8>(), 0..3)).prop_map(|(t, d)| {
                NdpOption::Raw {
                    opt_type: t,
                    data: [d, vec![0; 6]].concat()[..6].to_vec(),
                }
            }),
        ]
    }

    fn strip_pads(o: &OptionsRepr) -> Vec<Ipv6Option> {
        o.options
            .iter()
            .filter(|x| !matches!(x, Ipv6Option::Pad1 | Ipv6Option::PadN(_)))
            .cloned()
            .collect()
    }

    proptest! {
        #[test]
        fn options_round_trip_aligned(opts in proptest::collection::vec(option(), 0..8)) {
            let o = OptionsRepr::new(opts);
            let n = o.buffer_len().unwrap();
            prop_assert_eq!(n % 8, 0);
            let mut b = vec![0u8; n];
            o.emit(&mut b, 58).unwrap();
            let back = OptionsRepr::parse(&b).unwrap();
            prop_assert_eq!(strip_pads(&back), strip_pads(&o));
            for r in OptionIter::new(&b) {
                let r = r.unwrap();
                let (x, y) = Ipv6Option::parse(&r).alignment();
                prop_assert_eq!(r.offset % x, y, "misaligned {:#x}", r.opt_type);
            }
        }

        #[test]
        fn srh_round_trip(path in proptest::collection::vec(addr(), 1..10), flags in any::<u8>(),
                          tag in any::<u16>(), hmac in proptest::option::of((any::<bool>(),
                          any::<u32>(), 0usize..5))) {
            let mut s = SrhRepr::from_path(&path);
            s.flags = flags;
            s.tag = tag;
            if let Some((d_flag, key_id, k)) = hmac {
                s.tlvs.push(SrhTlv::Hmac { d_flag, key_id, hmac: vec![0x5a; 8 * k] });
            }
            let rt = RoutingRepr::Srh(s.clone());
            let mut b = vec![0u8; rt.buffer_len().unwrap()];
            rt.emit(&mut b, 17).unwrap();
            prop_assert_eq!(RoutingRepr::parse(&b).unwrap(), rt);
            let want = if path.len() > 1 { *path.last().unwrap() } else { path[0] };
            let fd = final_destination(path[0], 43, &b);
            prop_assert_eq!(fd, if s.segments_left > 0 { want } else { path[0] });
        }

        #[test]
        fn chain_walks_back_as_built(kinds in proptest::collection::vec(0u8..4, 0..6),
                                     payload in proptest::collection::vec(any::<u8>(), 0..32)) {
            let exts: Vec<ExtHeaderRepr> = kinds.iter().map(|k| match k {
                0 => ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![
                    Ipv6Option::RouterAlert(0),
                    Ipv6Option::PadN(0),
                ])),
                1 => ExtHeaderRepr::DestOpts(OptionsRepr::new(vec![Ipv6Option::PadN(4)])),
                2 => ExtHeaderRepr::Routing(RoutingRepr::Srh(SrhRepr::from_path(&[
                    Ipv6Addr::LOCALHOST,
                ]))),
                _ => ExtHeaderRepr::Fragment(FragmentRepr { offset: 0, more: false, ident: 1 }),
            }).collect();
            let n = ext_chain_len(&exts).unwrap();
            let mut b = vec![0u8; n];
            prop_assert_eq!(emit_ext_chain(&exts, 17, &mut b).unwrap(), n);
            b.extend_from_slice(&payload);
            let (hs, end) = ExtChain::new(first_header(&exts, 17), &b).collect_all().unwrap();
            prop_assert_eq!(hs.len(), exts.len());
            for (h, e) in hs.iter().zip(&exts) {
                prop_assert_eq!(h.kind.protocol(), e.protocol());
                prop_assert_eq!(&ExtHeaderRepr::parse(h).unwrap(), e);
            }
            prop_assert_eq!(end, ChainEnd::Upper { protocol: 17, offset: n });
        }

        #[test]
        fn icmpv6_round_trip(src in addr(), dst in addr(), target in addr(),
                             opts in proptest::collection::vec(ndp_option(), 0..4),
                             id in any::<u16>(), seq in any::<u16>(),
                             data in proptest::collection::vec(any::<u8>(), 0..64), which in 0u8..4) {
            let m = match which {
                0 => Icmpv6Message::EchoRequest { id, seq, data },
                1 => Icmpv6Message::NeighborSolicitation { target, options: opts },
                2 => Icmpv6Message::NeighborAdvertisement { router: id & 1 != 0,
                    solicited: id & 2 != 0, override_flag: id & 4 != 0, target, options: opts },
                _ => Icmpv6Message::ParameterProblem { code: (id % 4) as u8,
                    pointer: u32::from(seq), quote: data },
            };
            let r = Icmpv6Repr::new(m);
            let mut b = vec![0u8; r.buffer_len()];
            r.emit(&mut b, src, dst).unwrap();
            let p = Icmpv6Repr::parse_bytes(&b, src, dst).unwrap();
            prop_assert!(p.checksum_ok);
            prop_assert_eq!(p.repr, r);
        }
    }
}
