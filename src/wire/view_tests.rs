//! The borrowed views against the `Repr`s, on real captured frames; a QinQ frame; truncation at
//! every length.

use super::testutil::{self, hex};
use super::*;
use proptest::prelude::*;

const CAPTURED: [&str; 11] = [
    testutil::RR_REQUEST,
    testutil::RR_REPLY,
    testutil::TSONLY_REPLY,
    testutil::TSANDADDR_REPLY,
    testutil::TSPRESPEC_REPLY,
    testutil::TIME_EXCEEDED_RR,
    testutil::SSRR_REQUEST,
    testutil::SR_FAILED,
    testutil::BAD_LSRR_REQUEST,
    testutil::PARAM_PROBLEM_LSRR,
    testutil::TIME_EXCEEDED_RR,
];

/// Every accessor of every view over `b`, as a frame; must never panic.
fn touch_all(b: &[u8]) {
    let Ok(eth) = EthernetFrame::new_checked(b) else {
        return;
    };
    let _ = (eth.dst(), eth.src(), eth.outer_ethertype(), eth.ethertype());
    let _ = (eth.tag_count(), eth.tags().count(), eth.header_len());
    touch_ipv4(eth.payload(), 2);
}

fn touch_ipv4(b: &[u8], depth: usize) {
    let Ok(ip) = Ipv4Packet::new_checked(b) else {
        return;
    };
    let _ = (ip.version(), ip.ihl(), ip.tos(), ip.total_len(), ip.ident());
    let _ = (
        ip.flags_and_offset(),
        ip.dont_fragment(),
        ip.more_fragments(),
    );
    let _ = (ip.frag_offset(), ip.ttl(), ip.protocol(), ip.checksum());
    let _ = (ip.src(), ip.dst(), ip.verify_checksum(), ip.header().len());
    for o in ip.option_iter() {
        match o {
            Ok(v) => {
                let _ = (
                    v.option_type(),
                    v.length_field(),
                    v.pointer(),
                    v.data().len(),
                );
                let _ = (v.ts_overflow_flag(), v.type_parts(), v.offset());
            }
            Err(m) => {
                let _ = m.fault.to_string();
            }
        }
    }
    let _ = Ipv4Repr::parse(&ip);
    let Ok(icmp) = IcmpPacket::new_checked(ip.payload()) else {
        return;
    };
    let _ = (
        icmp.msg_type(),
        icmp.code(),
        icmp.checksum(),
        icmp.verify_checksum(),
    );
    let _ = (
        icmp.ident(),
        icmp.seq_no(),
        icmp.echo_id_seq(),
        icmp.pointer(),
    );
    let _ = (
        icmp.gateway(),
        icmp.next_hop_mtu(),
        icmp.timestamps(),
        icmp.mask(),
    );
    let _ = (icmp.rest_of_header(), icmp.data().len());
    let _ = IcmpRepr::parse(&icmp);
    if depth > 0 {
        if let Some(Ok(q)) = icmp.quote() {
            touch_ipv4(q.as_bytes(), depth - 1);
        }
    }
}

#[test]
fn views_read_what_the_reprs_read() {
    for h in CAPTURED {
        let b = hex(h);
        let f = parse_frame(&b).unwrap();
        let eth = EthernetFrame::new_checked(&b[..]).unwrap();
        assert_eq!(eth.dst(), f.eth.dst);
        assert_eq!(eth.src(), f.eth.src);
        assert_eq!(eth.ethertype(), f.eth.ethertype);
        assert_eq!(eth.tag_count(), 0);
        let L3::Ipv4 { ip, l4 } = &f.l3 else {
            panic!("IPv4 expected")
        };
        let v = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert_eq!(v.header_len(), ip.header_len);
        assert_eq!(v.total_len(), ip.total_len);
        assert_eq!(v.checksum(), ip.checksum);
        assert_eq!(v.verify_checksum(), ip.checksum_ok);
        let r = &ip.repr;
        assert_eq!(
            (v.tos(), v.ident(), v.ttl(), v.protocol()),
            (r.tos, r.id, r.ttl, r.protocol)
        );
        assert_eq!((v.src(), v.dst()), (r.src, r.dst));
        assert_eq!(
            (v.dont_fragment(), v.more_fragments(), v.frag_offset()),
            (r.dont_fragment, r.more_fragments, r.frag_offset)
        );
        // One option view per parsed option, with the same type byte and wire length (a
        // Malformed option holds the rest of the area, which the views walk on through).
        let views: Vec<_> = v.option_iter().map(Result::unwrap).collect();
        if r.options
            .iter()
            .any(|o| matches!(o, IpOption::Malformed { .. }))
        {
            assert!(views.len() >= r.options.len(), "{h}");
        } else {
            assert_eq!(views.len(), r.options.len(), "{h}");
        }
        for (ov, o) in views.iter().zip(&r.options) {
            assert_eq!(Some(ov.option_type()), o.option_type());
            if !matches!(o, IpOption::Malformed { .. }) {
                assert_eq!(ov.len(), o.wire_len());
                assert_eq!(&IpOption::parse(ov).unwrap(), o);
            }
        }
        let L4::Icmp(icmp) = l4 else {
            panic!("ICMP expected")
        };
        let iv = IcmpPacket::new_checked(v.payload()).unwrap();
        assert_eq!((iv.msg_type(), iv.code()), (icmp.icmp_type, icmp.code));
        assert_eq!(iv.checksum(), icmp.checksum);
        assert_eq!(iv.verify_checksum(), icmp.checksum_ok);
        match &icmp.repr.message {
            IcmpMessage::EchoReply { id, seq, data }
            | IcmpMessage::EchoRequest { id, seq, data } => {
                assert_eq!(iv.echo_id_seq(), Some((*id, *seq)));
                assert_eq!(iv.data(), &data[..]);
            }
            m => {
                let q = m.quote().unwrap().unwrap();
                let qv = iv.quote().unwrap().unwrap();
                assert_eq!(
                    (qv.src(), qv.dst(), qv.ident()),
                    (q.ip.repr.src, q.ip.repr.dst, q.ip.repr.id)
                );
                assert_eq!(qv.payload(), &q.payload[..]);
                let qi = IcmpPacket::new_checked(qv.payload()).unwrap();
                assert_eq!(qi.echo_id_seq(), q.echo_id_seq());
                assert_eq!(Ipv4Repr::parse(&qv).unwrap(), q.ip);
            }
        }
    }
}

#[test]
fn rr_reply_fields_by_view() {
    let b = hex(testutil::RR_REPLY);
    let eth = EthernetFrame::new_checked(&b[..]).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    assert_eq!((ip.header_len(), ip.total_len(), ip.ttl()), (60, 124, 62));
    let rr = ip.option_iter().next().unwrap().unwrap();
    assert_eq!(
        (rr.option_type(), rr.length_field(), rr.pointer()),
        (7, Some(39), Some(32))
    );
    assert_eq!(rr.data().len(), 36);
    assert_eq!(&rr.data()[..4], &[192, 0, 2, 2]);
    let icmp = IcmpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!(icmp.echo_id_seq(), Some((0x1a6a, 1)));
}

#[test]
fn time_exceeded_quotes_a_nested_view() {
    let b = hex(testutil::TIME_EXCEEDED_RR);
    let eth = EthernetFrame::new_checked(&b[..]).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let icmp = IcmpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.code()), (11, 0));
    let q = icmp.quote().unwrap().unwrap();
    assert_eq!(q.ttl(), 1);
    assert_eq!(q.src().to_string(), "192.0.2.2");
    let qrr = q.option_iter().nth(1).unwrap().unwrap(); // NOP, then RR
    assert_eq!((qrr.option_type(), qrr.pointer()), (7, Some(12)));
    let qi = IcmpPacket::new_checked(q.payload()).unwrap();
    assert_eq!(qi.msg_type(), 8);
    assert_eq!(qi.echo_id_seq(), Some((0x1a6e, 1)));
}

/// 802.1ad outer tag, 802.1Q inner tag, then the captured RR reply's IPv4 datagram.
fn qinq_frame() -> Vec<u8> {
    let rr = hex(testutil::RR_REPLY);
    let mut f = rr[..12].to_vec();
    f.extend(hex("88a8 a064 8100 2007 0800"));
    f.extend(&rr[14..]);
    f
}

#[test]
fn qinq_tag_stack() {
    let f = qinq_frame();
    let eth = EthernetFrame::new_checked(&f[..]).unwrap();
    assert_eq!(eth.outer_ethertype(), ETHERTYPE_QINQ);
    let tags: Vec<_> = eth.tags().collect();
    assert_eq!(tags.len(), 2);
    assert_eq!(
        (tags[0].offset, tags[0].tpid, tags[0].vid(), tags[0].pcp()),
        (12, 0x88a8, 0x064, 5)
    );
    assert_eq!(
        (tags[1].offset, tags[1].tpid, tags[1].vid(), tags[1].pcp()),
        (16, 0x8100, 7, 1)
    );
    assert!(!tags[0].dei());
    assert_eq!(
        (eth.ethertype(), eth.header_len(), eth.tag_count()),
        (0x0800, 22, 2)
    );
    let rr = hex(testutil::RR_REPLY);
    assert_eq!(eth.payload(), &rr[14..]);
    let p = parse_frame(&f).unwrap();
    let tags: Vec<(u16, u16)> = p.eth.vlans.iter().map(|t| (t.tpid, t.tci)).collect();
    assert_eq!(tags, [(0x88a8, 0xa064), (0x8100, 0x2007)]);
    assert_eq!(p.eth.ethertype, 0x0800);
    let L3::Ipv4 { ip, .. } = p.l3 else { panic!() };
    assert_eq!(ip.repr.ttl, 62);
    // Cut inside either tag: refused, naming the header with the tag.
    for cut in 14..22 {
        assert!(
            matches!(
                EthernetFrame::new_checked(&f[..cut]),
                Err(WireError::Truncated { .. })
            ),
            "{cut}"
        );
    }
    // 0x9100 is a TPID too.
    let mut g = f.clone();
    g[12..14].copy_from_slice(&[0x91, 0x00]);
    assert_eq!(EthernetFrame::new_checked(&g[..]).unwrap().tag_count(), 2);
}

#[test]
fn option_iterator_odd_and_truncated_lengths() {
    let faults = |area: &[u8]| -> Vec<String> {
        IpOptions::new(area)
            .map(|r| match r {
                Ok(v) => format!("{}/{}", v.option_type(), v.len()),
                Err(m) => format!("err@{}: {}", m.offset, m.fault),
            })
            .collect()
    };
    assert_eq!(faults(&[]), Vec::<String>::new());
    assert_eq!(faults(&[1, 1, 0, 0xff]), ["1/1", "1/1", "0/1"]);
    assert_eq!(
        faults(&[7]),
        ["err@0: option type 7 truncated: no length byte"]
    );
    assert_eq!(
        faults(&[1, 7, 1]),
        [
            "1/1",
            "err@1: option type 7 has length 1, below the minimum 2"
        ]
    );
    assert_eq!(
        faults(&[7, 9, 4, 0]),
        ["err@0: option type 7 has length 9 but only 4 bytes of options remain"]
    );
    // A 2-byte TS: whole as a view, no pointer, no data; its contents are the Repr's problem.
    let v = IpOptions::new(&[68, 2]).next().unwrap().unwrap();
    assert_eq!(
        (v.pointer(), v.ts_overflow_flag(), v.data()),
        (None, None, &[][..])
    );
    assert!(IpOption::parse(&v).is_err());
    // Padding after EOL is not walked.
    let mut it = IpOptions::new(&[1, 0, 0, 0]);
    assert_eq!(it.by_ref().count(), 2);
    assert_eq!(it.consumed(), 2);
}

#[test]
fn field_consts_agree_with_pnet() {
    use pnet_packet::ipv4::MutableIpv4Packet;
    let mut b = [0u8; 20];
    let mut p = MutableIpv4Packet::new(&mut b).unwrap();
    p.set_ttl(0x11);
    p.set_next_level_protocol(pnet_packet::ip::IpNextHeaderProtocol(0x22));
    p.set_total_length(0x3344);
    p.set_identification(0x5566);
    p.set_checksum(0x7788);
    p.set_source([1, 2, 3, 4].into());
    p.set_destination([5, 6, 7, 8].into());
    use super::field::ipv4 as f;
    assert_eq!((b[f::TTL], b[f::PROTOCOL]), (0x11, 0x22));
    assert_eq!(&b[f::LENGTH], &[0x33, 0x44]);
    assert_eq!(&b[f::IDENT], &[0x55, 0x66]);
    assert_eq!(&b[f::CHECKSUM], &[0x77, 0x88]);
    assert_eq!(&b[f::SRC], &[1, 2, 3, 4]);
    assert_eq!(&b[f::DST], &[5, 6, 7, 8]);
    let mut e = [0u8; 14];
    let mut pe = pnet_packet::ethernet::MutableEthernetPacket::new(&mut e).unwrap();
    pe.set_ethertype(pnet_packet::ethernet::EtherType(0xabcd));
    pe.set_source(MacAddr::new(1, 2, 3, 4, 5, 6));
    assert_eq!(&e[super::field::ether::ETHERTYPE], &[0xab, 0xcd]);
    assert_eq!(&e[super::field::ether::SRC], &[1, 2, 3, 4, 5, 6]);
}

#[test]
fn setters_rewrite_in_place() {
    let mut b = hex(testutil::RR_REQUEST);
    let mut eth = EthernetFrame::new_checked(&mut b[..]).unwrap();
    let (d, s) = (eth.dst(), eth.src());
    eth.set_dst(s);
    eth.set_src(d);
    let mut ip = Ipv4Packet::new_checked(eth.payload_mut()).unwrap();
    ip.set_ttl(9);
    ip.set_ident(0x4242);
    let (src, dst) = (ip.src(), ip.dst());
    ip.set_src(dst);
    ip.set_dst(src);
    ip.fill_checksum();
    assert!(ip.verify_checksum());
    let mut icmp = IcmpPacket::new_checked(ip.payload_mut()).unwrap();
    icmp.set_msg_type(0);
    icmp.set_code(0);
    icmp.fill_checksum();
    assert!(icmp.verify_checksum());
    let f = parse_frame(&b).unwrap();
    assert_eq!((f.eth.dst, f.eth.src), (s, d));
    let L3::Ipv4 {
        ip,
        l4: L4::Icmp(icmp),
    } = f.l3
    else {
        panic!()
    };
    assert!(ip.checksum_ok && icmp.checksum_ok);
    assert_eq!(
        (ip.repr.ttl, ip.repr.id, ip.repr.src, ip.repr.dst),
        (9, 0x4242, dst, src)
    );
    assert!(matches!(
        icmp.repr.message,
        IcmpMessage::EchoReply {
            id: 0x1a6a,
            seq: 1,
            ..
        }
    ));
}

#[test]
fn emit_refuses_a_short_buffer() {
    let e = EthernetRepr {
        dst: MacAddr::broadcast(),
        src: MacAddr::zero(),
        vlans: crate::wire::VlanStack::from_tags(&[crate::wire::Vlan::dot1q(1).unwrap()]).unwrap(),
        ethertype: 0x0800,
    };
    assert!(matches!(
        e.emit(&mut [0u8; 17]),
        Err(WireError::Truncated {
            needed: 18,
            got: 17,
            ..
        })
    ));
    let icmp = IcmpRepr::echo_request(1, 2, vec![0; 10]);
    assert!(matches!(
        icmp.emit(&mut [0u8; 17]),
        Err(WireError::Truncated {
            needed: 18,
            got: 17,
            ..
        })
    ));
    let arp = ArpRepr::request(MacAddr::zero(), [0, 0, 0, 1].into(), [0, 0, 0, 2].into());
    assert!(matches!(
        arp.emit(&mut [0u8; 27]),
        Err(WireError::Truncated { needed: 28, .. })
    ));
}

#[test]
fn truncation_at_every_length_never_panics() {
    let mut frames: Vec<Vec<u8>> = CAPTURED.iter().map(|h| hex(h)).collect();
    frames.push(qinq_frame());
    for f in &frames {
        for cut in 0..=f.len() {
            touch_all(&f[..cut]);
            // Starting inside the frame too: every view over every suffix.
            touch_ipv4(&f[cut..], 2);
            let _ = parse_frame(&f[..cut]);
        }
    }
}

proptest! {
    #[test]
    fn views_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        touch_all(&bytes);
        touch_ipv4(&bytes, 2);
    }

    #[test]
    fn options_never_panic(area in proptest::collection::vec(any::<u8>(), 0..48)) {
        let mut it = IpOptions::new(&area);
        let n: usize = it.by_ref().map(|r| r.map_or(0, |v| v.len())).sum();
        prop_assert!(n <= area.len());
        prop_assert!(it.consumed() <= area.len());
    }
}
