use super::*;
use crate::wire::testutil::{self, hex};
use proptest::prelude::*;

fn values(d: &Dissection, key: &str) -> Vec<String> {
    d.nodes()
        .into_iter()
        .filter(|n| n.key == key)
        .map(|n| n.value.clone())
        .collect()
}

#[test]
fn captured_rr_reply_every_slot_and_pointer() {
    let d = dissect_frame(&hex(testutil::RR_REPLY));
    assert!(d.complete, "{d:#?}");
    assert_eq!(d.find("ip.hdr_len").unwrap().value, "60 bytes (IHL 15)");
    assert_eq!(d.find("ip.checksum").unwrap().status, Status::Good);
    assert_eq!(d.find("icmp.checksum").unwrap().status, Status::Good);
    assert_eq!(
        values(&d, "ip.rec_rt"),
        [
            "192.0.2.2",
            "198.51.100.1",
            "203.0.113.1",
            "203.0.113.2",
            "203.0.113.2",
            "198.51.100.2",
            "192.0.2.1"
        ]
    );
    assert_eq!(values(&d, "ip.empty_rt"), ["0.0.0.0 ← pointer", "0.0.0.0"]);
    assert_eq!(values(&d, "ip.opt.ptr"), ["32 (slot 8)"]);
    assert_eq!(values(&d, "icmp.ident"), ["6762 (0x1a6a)"]);
}

#[test]
fn captured_errors_decode_the_quote_recursively() {
    let d = dissect_frame(&hex(testutil::TIME_EXCEEDED_RR));
    assert!(d.complete);
    let q = d.find("icmp.quote").unwrap();
    let keys: Vec<&str> = q.walk().iter().map(|n| n.key.as_str()).collect();
    assert!(keys.contains(&"icmp.quote.ip") && keys.contains(&"icmp.quote.icmp"));
    // The quoted RR shows r1's record; the quoted echo id/seq are there.
    assert!(q
        .walk()
        .iter()
        .any(|n| n.key == "ip.rec_rt" && n.value == "192.0.2.1"));
    assert!(q
        .walk()
        .iter()
        .any(|n| n.key == "icmp.seq" && n.value.starts_with("1 ")));

    let d = dissect_frame(&hex(testutil::PARAM_PROBLEM_LSRR));
    let p = d.find("icmp.pointer").unwrap();
    assert!(
        p.value
            .starts_with("22 (option LSRR (type 131) at offset 20, byte 2 (pointer))"),
        "{}",
        p.value
    );
    // The quoted LSRR's pointer 3 is malformed and said so, but the outer frame is fine.
    let q = d.find("icmp.quote").unwrap();
    assert!(q.is_malformed());
}

#[test]
fn wrong_checksums_marked_bad_with_the_right_value() {
    let mut b = hex(testutil::SSRR_REQUEST);
    b[24] ^= 0xff; // IP checksum high byte
    b[14 + 32 + 2] ^= 0x01; // ICMP checksum (IHL 8)
    let d = dissect_frame(&b);
    assert_eq!(
        d.find("ip.checksum").unwrap().status,
        Status::Bad {
            expected: "0x1e7e".into()
        }
    );
    assert_eq!(
        d.find("icmp.checksum").unwrap().status,
        Status::Bad {
            expected: "0x989b".into()
        }
    );
    assert!(d.complete, "a wrong checksum is not garbage");
}

#[test]
fn garbage_decodes_what_it_can_and_marks_the_rest() {
    let d = dissect_frame(&[0xff; 5]);
    assert!(!d.complete);
    assert_eq!(d.layers[0].key, "undecoded");
    assert_eq!(d.layers[0].len, 5);

    // Ethernet + IPv4 with IHL 4: Ethernet decoded, IP fields shown, payload undecoded.
    let mut b = hex(testutil::SSRR_REQUEST);
    b[14] = 0x44;
    let d = dissect_frame(&b);
    assert!(!d.complete);
    assert_eq!(d.find("eth.type").unwrap().value, "0x0800 (IPv4)");
    assert!(matches!(
        d.find("ip.hdr_len").unwrap().status,
        Status::Malformed { .. }
    ));
    assert_eq!(d.layers.last().unwrap().key, "undecoded");

    // Truncated timestamp reply.
    let mut b = hex(testutil::SSRR_REQUEST);
    b.truncate(14 + 32 + 12);
    b[14 + 32] = 14;
    b[16..18].copy_from_slice(&((32 + 12) as u16).to_be_bytes());
    let d = dissect_frame(&b);
    assert!(!d.complete);
    assert!(d
        .layers
        .last()
        .unwrap()
        .status
        .text()
        .contains("needs 20 bytes"));
}

#[test]
fn text_and_summary() {
    let b = hex(testutil::SR_FAILED);
    let d = dissect_frame(&b);
    let t = render_text(&d).join("\n");
    assert!(t.contains("Code: 5 (source route failed)"), "{t}");
    assert!(t.contains("Header checksum: 0x2f70 [good]"), "{t}");
    assert!(
        t.contains("    Quoted IPv4 header: 192.0.2.2 → 192.0.2.1"),
        "{t}"
    );
    assert_eq!(
        summary(&b),
        "IP 192.0.2.1 > 192.0.2.2: ICMP Source Route Failed (quoting 192.0.2.2 > 192.0.2.1 \
         proto 1 echo id 21331 seq 1), length 56 (ttl 64, id 50813)"
    );
    let dump = hexdump_beside(&b, &render_text(&d));
    assert!(dump.starts_with("0000  5a 7f 53 3d 69 e5 72 b6  fa 7b 54 a8 08 00 45 c0"));
}

proptest! {
    #[test]
    fn never_panics_and_nodes_stay_in_the_frame(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut framed = hex("5a7f533d69e5 72b6fa7b54a8 0800");
        framed.extend(&bytes);
        if !bytes.is_empty() {
            framed[14] = 0x40 | (bytes[0] & 0x0f);
        }
        for b in [&bytes, &framed] {
            let d = dissect_frame(b);
            for n in d.nodes() {
                prop_assert!(n.offset + n.len <= b.len(), "{n:?}");
            }
            let _ = render_text(&d);
            let _ = summary(b);
        }
    }
}

#[test]
fn qinq_stack_shows_every_tag() {
    let rr = hex(testutil::RR_REPLY);
    let mut f = rr[..12].to_vec();
    f.extend(hex("88a8 a064 8100 2007 0800"));
    f.extend(&rr[14..]);
    let d = dissect_frame(&f);
    assert!(d.complete, "{d:#?}");
    assert_eq!(d.find("eth.type").unwrap().value, "0x88a8 (802.1ad)");
    assert_eq!(values(&d, "vlan.id"), ["100", "7"]);
    assert_eq!(values(&d, "vlan.priority"), ["5", "1"]);
    assert_eq!(
        values(&d, "vlan.etype"),
        ["0x8100 (802.1Q)", "0x0800 (IPv4)"]
    );
    assert_eq!(d.find("ip.ttl").unwrap().offset, 22 + 8);
    // Cut inside the inner tag: the rest is undecoded, never a panic.
    let d = dissect_frame(&f[..19]);
    assert!(!d.complete);
    assert_eq!(values(&d, "vlan.id"), ["100"]);
}
/// Ethernet + `levels` IPv4/ICMP Time Exceeded headers, each quoting the next, padded with
/// zeros to `len` bytes (the shape of the 65,002-byte frame that gave 238 MB of text).
fn nested_quotes(len: usize) -> Vec<u8> {
    let mut b = hex("5a7f533d69e5 72b6fa7b54a8 0800");
    while b.len() + 28 <= len {
        let left = u16::try_from(len - b.len()).unwrap_or(u16::MAX);
        let mut ip = hex("4500 0000 0001 0000 4001 0000 c0000201 c0000202");
        ip[2..4].copy_from_slice(&left.to_be_bytes());
        let c = crate::wire::checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        b.extend(ip);
        b.extend(hex("0b00 0000 00000000"));
    }
    b.resize(len, 0);
    b
}

/// Regression: a 65,002-byte frame of nested ICMP quotes was dissected 2,321 levels deep and
/// rendered as 238 MB of text (indentation grows with each level). Now the output is linear in
/// the frame: quotes stop at MAX_QUOTE_DEPTH, the rest is undecoded with the reason.
#[test]
fn nested_quotes_stop_at_the_depth_limit_and_output_stays_linear() {
    let b = nested_quotes(65_002);
    let d = dissect_frame(&b);
    let text: usize = render_text(&d).iter().map(|l| l.len() + 1).sum();
    let json = serde_json::to_string(&d).unwrap().len();
    assert!(text < 20 * b.len() && json < 20 * b.len(), "{text} {json}");
    assert!(!d.complete);
    let deepest = d
        .nodes()
        .into_iter()
        .filter(|n| n.key == "undecoded")
        .count();
    assert_eq!(deepest, 1);
    let why = d.find("undecoded").unwrap().status.text();
    assert!(why.contains("nested deeper than 4 levels"), "{why}");
    // Exactly MAX_QUOTE_DEPTH quoted headers were dissected, each inside the one before.
    assert_eq!(values(&d, "icmp.quote.ip").len(), MAX_QUOTE_DEPTH);
    let small = nested_quotes(14 + 28 * (MAX_QUOTE_DEPTH + 1));
    let d = dissect_frame(&small);
    assert!(d.complete, "{:?}", render_text(&d));
    assert_eq!(values(&d, "icmp.quote.ip").len(), MAX_QUOTE_DEPTH);
}

/// Ethernet + IPv4 (192.0.2.1 → 192.0.2.2, the given options, padded) + an ICMP echo request
/// with 8 data bytes; checksums right; `mf` sets More Fragments.
fn echo_with_options(opts: &str, mf: bool) -> Vec<u8> {
    let mut opt = hex(opts);
    while !opt.len().is_multiple_of(4) {
        opt.push(0);
    }
    let hl = 20 + opt.len();
    let mut icmp = hex("0800 0000 0001 0001 1111111111111111");
    let c = crate::wire::checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut ip = hex("4500 0000 0001 0000 4001 0000 c0000201 c0000202");
    ip[0] = 0x40 | (hl / 4) as u8;
    ip[2..4].copy_from_slice(&((hl + icmp.len()) as u16).to_be_bytes());
    if mf {
        ip[6] = 0x20;
    }
    ip.extend(opt);
    let c = crate::wire::checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut b = hex("020000000002 020000000001 0800");
    b.extend(ip);
    b.extend(icmp);
    b
}

fn ptr(d: &Dissection) -> &Node {
    d.find("ip.opt.ptr").unwrap()
}

/// RFC 791: a pointer greater than the length means the area is full, which is legal, for
/// routes and timestamps alike, whatever the value.
#[test]
fn full_options_are_legal() {
    for (opts, value) in [
        ("07 07 08 c0000201", "8 (full)"),
        ("07 07 0c c0000201", "12 (full)"),
        ("83 0b 0c c0000201 c0000202", "12 (full)"),
        ("89 07 fc c0000201", "252 (full)"),
        ("44 0c 0d 00 00000001 00000002", "13 (full)"),
        ("44 0c 0d 01 c0000201 00000001", "13 (full)"),
    ] {
        let d = dissect_frame(&echo_with_options(opts, false));
        assert!(d.complete, "{opts}: {:#?}", d.find("ip.options"));
        assert_eq!(ptr(&d).value, value, "{opts}");
        assert_eq!(ptr(&d).status, Status::Plain, "{opts}");
    }
}

/// A pointer between two slots, or before the first, is flagged (as Wireshark's expert info)
/// without making the frame malformed; so is an undefined timestamp flag.
#[test]
fn misaligned_pointers_and_undefined_flags_are_flagged() {
    for (opts, why) in [
        (
            "07 0b 05 c0000201 c0000202",
            "middle of a slot (slots start at 4 + 4×n)",
        ),
        ("83 0b 0a c0000201 c0000202", "middle of a slot"),
        (
            "44 0c 07 00 00000001 00000002",
            "middle of a slot (slots start at 5 + 4×n)",
        ),
        ("44 14 09 01 c0000201 00000001 c0000202 00000002", "5 + 8×n"),
    ] {
        let d = dissect_frame(&echo_with_options(opts, false));
        assert!(d.complete, "{opts}");
        match &ptr(&d).status {
            Status::Warning { reason } => assert!(reason.contains(why), "{opts}: {reason}"),
            s => panic!("{opts}: {s:?}"),
        }
        let t = render_text(&d).join("\n");
        assert!(t.contains("[WARNING: points into the middle"), "{t}");
    }
    // Aligned pointers are not flagged.
    for opts in [
        "07 0b 08 c0000201 c0000202",
        "44 0c 09 00 00000001 00000002",
    ] {
        let d = dissect_frame(&echo_with_options(opts, false));
        assert_eq!(ptr(&d).status, Status::Plain, "{opts}");
    }
    let d = dissect_frame(&echo_with_options("44 0c 05 02 00000001 00000002", false));
    assert!(d.complete);
    let flag = d.find("ip.opt.flag").unwrap();
    assert_eq!(flag.value, "2 (flag 2)");
    assert!(
        matches!(&flag.status, Status::Warning { reason } if reason.contains("undefined flag 2")),
        "{flag:?}"
    );
    for f in ["00", "01", "03"] {
        let d = dissect_frame(&echo_with_options(
            &format!("44 0c 05 {f} 00000001 00000002"),
            false,
        ));
        assert_eq!(d.find("ip.opt.flag").unwrap().status, Status::Plain, "{f}");
    }
}

/// The ICMP checksum of a first fragment covers bytes that are in later fragments: no verdict,
/// good or bad; the same message whole gets one.
#[test]
fn no_checksum_verdict_for_a_first_fragment() {
    let whole = dissect_frame(&echo_with_options("", false));
    assert_eq!(whole.find("icmp.checksum").unwrap().status, Status::Good);
    let mut b = echo_with_options("", true);
    let d = dissect_frame(&b);
    let ck = d.find("icmp.checksum").unwrap();
    assert_eq!(ck.status, Status::Plain);
    assert!(
        ck.value.contains("not verifiable: first fragment"),
        "{}",
        ck.value
    );
    // Even a checksum that would be wrong over these bytes is not called bad.
    let n = b.len();
    b[n - 1] ^= 0xff;
    assert_eq!(
        dissect_frame(&b).find("icmp.checksum").unwrap().status,
        Status::Plain
    );
}

/// The one-line summary gives no ICMP checksum verdict for a message it does not have whole:
/// a frame the capture cut short, or a first fragment.
#[test]
fn summary_judges_only_whole_messages() {
    let mut b = echo_with_options("", false);
    let n = b.len();
    b[n - 1] ^= 0xff;
    assert!(summary(&b).contains("(bad ICMP cksum)"), "{}", summary(&b));
    let cut = summary(&b[..n - 4]);
    assert!(
        cut.contains("ICMP echo request") && !cut.contains("cksum"),
        "{cut}"
    );
    let mut f = echo_with_options("", true);
    let n = f.len();
    f[n - 1] ^= 0xff;
    let first = summary(&f);
    assert!(
        first.contains("ICMP echo request") && !first.contains("cksum"),
        "{first}"
    );
}

/// A pointer past the option's length says the option is full, which is legal however far
/// past it points (RFC 791): no slot warning, also when it is not on a slot boundary.
#[test]
fn a_pointer_past_the_length_is_full_without_a_slot_warning() {
    for (opts, value) in [
        ("07 07 0a c0000201", "10 (full)"),
        ("44 0c 0f 00 00000001 00000002", "15 (full)"),
        ("44 0c 0e 00 00000001 00000002", "14 (full)"),
        (
            "44 14 17 01 c0000201 00000001 c0000202 00000002",
            "23 (full)",
        ),
        ("44 0c 10 03 c0000201 00000001", "16 (full)"),
    ] {
        let d = dissect_frame(&echo_with_options(opts, false));
        assert!(d.complete, "{opts}: {:#?}", d.find("ip.options"));
        assert_eq!(ptr(&d).value, value, "{opts}");
        assert_eq!(ptr(&d).status, Status::Plain, "{opts}");
        let t = render_text(&d).join("\n");
        assert!(!t.contains("WARNING"), "{t}");
    }
}

/// Every option IANA lists is named in the tree (Wireshark's names), and the fields Wireshark
/// decodes are decoded: Router Alert, Security (RFC 791 and RFC 1108), Stream ID, Quick-Start,
/// Traceroute, MTU Probe.
#[test]
fn named_options_and_their_fields() {
    let name_of = |opts: &str| -> (String, String) {
        let d = dissect_frame(&echo_with_options(opts, false));
        assert!(d.complete, "{opts}");
        let n = d.find("ip.opt").unwrap();
        (n.name.clone(), n.value.clone())
    };
    for (opts, name, value) in [
        (
            "94 04 0000",
            "Router Alert (RTRALT)",
            "Router shall examine packet (0)",
        ),
        ("88 04 0001", "Stream ID (SID)", "stream 1"),
        (
            "82 0b 0000 0000 0000 000000",
            "Security (SEC)",
            "Unclassified",
        ),
        ("82 04 5a 00", "Security (SEC)", "Secret"),
        ("85 04 0000", "Extended Security (E-SEC)", "option type"),
        ("86 04 0000", "Commercial Security (CIPSO)", "option type"),
        (
            "19 08 00 40 00000000",
            "Quick-Start (QS)",
            "Rate request (0), 0 bit/s, QS TTL 64",
        ),
        (
            "52 0c 0001 0002 0003 c0000201",
            "Traceroute (TR)",
            "ID 1, outbound hops 2, return hops 3, originator 192.0.2.1",
        ),
        ("0b 04 05dc", "MTU Probe (MTUP)", "MTU 1500"),
        ("0c 04 05dc", "MTU Reply (MTUR)", "MTU 1500"),
        (
            "95 04 0000",
            "Selective Directed Broadcast (SDB)",
            "option type",
        ),
        (
            "0a 04 0000",
            "Experimental Measurement (ZSU)",
            "option type",
        ),
        (
            "1e 04 0000",
            "RFC3692-style Experiment (EXP)",
            "option type",
        ),
        (
            "cd 04 0000",
            "Experimental Flow Control (FINN)",
            "option type",
        ),
        ("32 04 0000", "Option", "option type"),
    ] {
        let (n, v) = name_of(opts);
        assert_eq!(n, name, "{opts}");
        assert!(v.starts_with(value), "{opts}: {v}");
    }
    let fields = |opts: &str| -> Vec<(String, String)> {
        let d = dissect_frame(&echo_with_options(opts, false));
        d.nodes()
            .into_iter()
            .filter(|n| {
                n.key.starts_with("ip.opt.")
                    && !matches!(n.key.as_str(), "ip.opt.type" | "ip.opt.len")
            })
            .map(|n| (n.key.clone(), n.value.clone()))
            .collect()
    };
    let kv = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        fields("94 04 0000"),
        kv(&[("ip.opt.ra", "Router shall examine packet (0)")])
    );
    assert_eq!(fields("88 04 002a"), kv(&[("ip.opt.sid", "42")]));
    assert_eq!(
        fields("82 0b d788 0003 4142 434445"),
        kv(&[
            ("ip.opt.sec_rfc791_sec", "Secret (0xd788)"),
            ("ip.opt.sec_rfc791_comp", "3"),
            ("ip.opt.sec_rfc791_hr", "4142"),
            ("ip.opt.sec_rfc791_tcc", "434445"),
        ])
    );
    assert_eq!(
        fields("19 08 83 00 12345678"),
        kv(&[
            ("ip.opt.qs_func", "Rate report (8)"),
            ("ip.opt.qs_rate", "320000 bit/s (3)"),
            ("ip.opt.qs_unused", "0"),
            ("ip.opt.qs_nonce", "0x048d159e"),
            ("ip.opt.qs_reserved", "0x0"),
        ])
    );
    assert_eq!(
        fields("52 0c 0001 0002 0003 c0000201"),
        kv(&[
            ("ip.opt.id_number", "1"),
            ("ip.opt.ohc", "2"),
            ("ip.opt.rhc", "3"),
            ("ip.opt.originator", "192.0.2.1"),
        ])
    );
}

/// IPv6 frames of every header kind: Hop-by-Hop with an unknown option, an SRH, a first
/// fragment, an NDP Router Advertisement with options, a Parameter Problem quoting a packet
/// behind its Hop-by-Hop header, and TCP.
fn ipv6_frames() -> Vec<Vec<u8>> {
    use crate::wire::icmpv6::{Icmpv6Message, Icmpv6Repr, NdpOption};
    use crate::wire::ipv6ext::{FragmentRepr, Ipv6Option, OptionsRepr, RoutingRepr, SrhRepr};
    use crate::wire::{
        build_ipv6_frame, EthernetRepr, ExtHeaderRepr, Ipv6Repr, L6Repr, MacAddr, TcpRepr,
        VlanStack, ETHERTYPE_IPV6,
    };
    let eth = EthernetRepr {
        dst: MacAddr::new(2, 0, 0, 0, 0, 1),
        src: MacAddr::new(2, 0, 0, 0, 0, 2),
        vlans: VlanStack::default(),
        ethertype: ETHERTYPE_IPV6,
    };
    let (s, d): (std::net::Ipv6Addr, std::net::Ipv6Addr) = (
        "2001:db8:1::2".parse().unwrap(),
        "2001:db8:3::2".parse().unwrap(),
    );
    let ip = Ipv6Repr::new(s, d, 0);
    let echo = L6Repr::Icmpv6(Icmpv6Repr::echo_request(1, 1, vec![7; 16]));
    let hbh = ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![
        Ipv6Option::RouterAlert(0),
        Ipv6Option::Raw {
            opt_type: 0x80,
            data: vec![1, 2],
        },
    ]));
    let build =
        |exts: &[ExtHeaderRepr], up: &L6Repr| build_ipv6_frame(&eth, &ip, exts, up).unwrap();
    let quoted = build(std::slice::from_ref(&hbh), &echo)[14..].to_vec();
    vec![
        build(&[hbh], &echo),
        build(
            &[ExtHeaderRepr::Routing(RoutingRepr::Srh(
                SrhRepr::from_path(&["2001:db8:2::1".parse().unwrap(), d]),
            ))],
            &echo,
        ),
        build(
            &[ExtHeaderRepr::Fragment(FragmentRepr {
                offset: 0,
                more: true,
                ident: 7,
            })],
            &echo,
        ),
        build(
            &[],
            &L6Repr::Icmpv6(Icmpv6Repr::new(Icmpv6Message::RouterAdvertisement {
                cur_hop_limit: 64,
                managed: true,
                other: true,
                preference: 3,
                router_lifetime: 1800,
                reachable_time: 0,
                retrans_timer: 0,
                options: vec![
                    NdpOption::SourceLinkLayer(MacAddr::new(2, 0, 0, 0, 0, 2)),
                    NdpOption::Mtu(1280),
                    NdpOption::PrefixInformation {
                        prefix_len: 64,
                        on_link: true,
                        autonomous: false,
                        valid_lifetime: u32::MAX,
                        preferred_lifetime: 0,
                        prefix: "2001:db8:1::".parse().unwrap(),
                    },
                ],
            })),
        ),
        build(
            &[],
            &L6Repr::Icmpv6(Icmpv6Repr::new(Icmpv6Message::ParameterProblem {
                code: 2,
                pointer: 42,
                quote: quoted,
            })),
        ),
        build(&[], &L6Repr::Tcp(TcpRepr::new(40000, 80, 0x002))),
    ]
}

fn read_everything(b: &[u8]) {
    let d = dissect_frame(b);
    for n in d.nodes() {
        assert!(n.offset + n.len <= b.len(), "{n:?} in {}", super::hex(b));
    }
    let _ = render_text(&d);
    let _ = summary(b);
    for (v, e) in [(false, false), (true, false), (true, true)] {
        let _ = super::OneLine::new(v, e).ethernet(b, b.len());
    }
}

/// Malformed IPv6 frames never panic the dissector or the one-liner: every prefix of each
/// kind of frame, and every byte of it flipped to 0x00, 0xff and its complement.
#[test]
fn ipv6_every_prefix_and_flipped_byte_never_panics() {
    let frames = ipv6_frames();
    for f in &frames {
        let d = dissect_frame(f);
        assert!(d.complete, "{d:#?}");
        for n in 0..=f.len() {
            read_everything(&f[..n]);
        }
        for i in 14..f.len() {
            for x in [0u8, 0xff, !f[i], f[i] ^ 0x01] {
                let mut g = f.clone();
                g[i] = x;
                read_everything(&g);
            }
        }
    }
}

proptest! {
    #[test]
    fn ipv6_random_payloads_never_panic(
        nh in any::<u8>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut f = hex("020000000001 020000000002 86dd 60000000");
        f.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        f.extend_from_slice(&[nh, 64]);
        f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        f.extend(&bytes);
        read_everything(&f);
    }
}

/// Regression (fuzz `dissect`): an MLD frame whose Hop-by-Hop header runs past a short payload
/// length. Every field stays inside the frame and every form of the output is bounded.
#[test]
fn ipv6_fuzz_regression_hop_by_hop_past_the_payload() {
    let frame = hex("33330000001696d54940c08586dd600020010db800a10300000000000000000049fffe40c085ff0200000000000000000000000000000001072710c6016401c6336402c63300000002006400ff0200000000000089000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002300000000000005000000ff02000000000000040000ffff000002");
    let d = dissect_frame(&frame);
    for n in d.nodes() {
        assert!(n.offset + n.len <= frame.len(), "{} outside", n.key);
    }
    within_the_output_bound(&frame);
    // The densest case: a Hop-by-Hop header of 2,048 bytes that is all Pad1.
    let mut dense = frame[..54].to_vec();
    dense[20] = 0; // next header: Hop-by-Hop
    let mut hbh = vec![0u8; 2048];
    hbh[0] = 59; // then No Next Header
    hbh[1] = 255; // (255 + 1) * 8 bytes
    dense[18..20].copy_from_slice(&2048u16.to_be_bytes());
    dense.extend_from_slice(&hbh);
    within_the_output_bound(&dense);
}

/// The fuzz target's bound: text, JSON and every one-line form within 200 bytes a frame byte
/// (plus 4 KiB).
fn within_the_output_bound(frame: &[u8]) {
    let d = dissect_frame(frame);
    for n in d.nodes() {
        assert!(n.offset + n.len <= frame.len(), "{} outside", n.key);
    }
    let bound = 4096 + 200 * frame.len();
    let text: usize = render_text(&d).iter().map(|l| l.len() + 1).sum();
    let json = serde_json::to_string(&d).unwrap().len();
    assert!(
        text <= bound && json <= bound,
        "{text} text, {json} JSON, bound {bound}"
    );
    assert!(summary(frame).len() <= bound);
    for (v, e) in [(false, false), (true, false), (true, true)] {
        let line = OneLine::new(v, e).ethernet(frame, frame.len());
        assert!(line.len() <= bound, "{} bytes", line.len());
    }
}

/// Regression (fuzz `dissect`): a record route whose pointer is 0, printed in tcpdump's `-v`
/// form, subtracted below zero.
#[test]
fn oneline_verbose_record_route_with_pointer_zero() {
    let frame = hex("5a7f533d69e572b6fa7b54a808004fc000c0c67100004001079bc0000201c00002020727000000000000000000000000000008005c041a6e0001f802046b00000000bc4b0a0000000000101112131415000202c0000201c0000201000000000000000000000000000000000000000000000000000b0032fa00000000161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
    within_the_output_bound(&frame);
    let line = OneLine::new(true, false).ethernet(&frame, frame.len());
    assert!(line.contains("[bad ptr 0]"), "{line}");
}
