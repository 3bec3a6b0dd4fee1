//! UDP and TCP views and reprs against frames captured from Linux (kernel 6.18) in a private
//! namespace lab (a 192.0.2.2 ─ r1 ─ r2 ─ b 203.0.113.2, veth TX checksum offload off so the
//! checksums are on the wire) with `tcpdump -xx`: a `python3 -m http.server` handshake, a SYN
//! to a closed port and its RST, a UDP datagram and b's Port Unreachable for it. tshark 4
//! reported every TCP/UDP checksum of these frames good.

use std::net::Ipv4Addr;

use super::*;
use crate::wire::testutil::hex;
use crate::wire::udp::{pseudo_header_checksum, UdpPacket, UdpRepr, IP_PROTO_UDP};
use crate::wire::{EthernetFrame, IcmpPacket, Ipv4Packet};

/// SYN from a (python3 socket.create_connection) to b:8000: mss 1460, sackOK, TS, nop, wscale 10.
pub(crate) const SYN: &str =
    "aaf700af3d55aa8a16af9b4c08004500003cffa940004006 3d0dc0000202cb007102\
    e8b21f40c986da1300000000a002faf03a8700000204 05b40402080a2eab3a4700000000 0103030a";
/// b's SYN-ACK.
pub(crate) const SYN_ACK: &str =
    "aa8a16af9b4caaf700af3d5508004500003c000040003e063eb7cb007102c0000202\
    1f40e8b2bb442c9fc986da14a012fe88146700000204 05b40402080a6660d4322eab3a470103030a";
/// a's ACK: nop, nop, TS.
pub(crate) const ACK: &str = "aaf700af3d55aa8a16af9b4c080045000034ffaa400040063d14c0000202cb007102\
    e8b21f40c986da14bb442ca08010003f4180000001010 80a2eab3a476660d432";
/// b's RST-ACK for a SYN to the closed port 81.
pub(crate) const RST: &str = "aa8a16af9b4caaf700af3d55080045000028000040003e063ecbcb007102c0000202\
    0051da5800000000e4508f3d501400006393 0000";
/// A UDP datagram 192.0.2.2:40000 → 203.0.113.2:9999, "pktforge udp test".
pub(crate) const UDP: &str =
    "aaf700af3d55aa8a16af9b4c08004500002d066340004011 3658c0000202cb007102\
    9c40270f001903f0706b74666f7267652075647020746573 74";
/// b's Port Unreachable quoting it (whole datagram).
pub(crate) const PORT_UNREACH: &str =
    "aa8a16af9b4caaf700af3d55080045c00049dde800003e01a006cb007102c0000202\
    0303fb2c000000004500002d066340003e113858c0000202cb0071029c40270f001903f0706b74666f7267652075\
    647020746573 74";

fn ip_of(frame: &[u8]) -> (Ipv4Addr, Ipv4Addr, Vec<u8>) {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    (ip.src(), ip.dst(), ip.payload().to_vec())
}

#[test]
fn linux_syn_parses_and_rebuilds_to_the_same_bytes() {
    let f = hex(SYN);
    let (src, dst, seg) = ip_of(&f);
    let p = TcpPacket::new_checked(&seg[..]).unwrap();
    assert_eq!((p.src_port(), p.dst_port()), (59570, 8000));
    assert_eq!(p.seq(), 3381058067);
    assert_eq!(p.flags(), flags::SYN);
    assert_eq!(p.window(), 64240);
    assert_eq!(p.header_len(), 40);
    assert!(p.verify_checksum(src, dst));
    assert_eq!(
        p.option_list(),
        [
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps {
                tsval: 782973511,
                tsecr: 0
            },
            TcpOption::Nop,
            TcpOption::WindowScale(10),
        ]
    );
    let parsed = TcpRepr::parse(&p, src, dst);
    assert!(parsed.checksum_ok);
    let mut out = vec![0; parsed.repr.buffer_len().unwrap()];
    parsed.repr.emit(&mut out, src, dst).unwrap();
    assert_eq!(out, seg, "re-emitted SYN differs");
}

#[test]
fn linux_syn_ack_ack_and_rst() {
    for (h, fl, ack) in [
        (SYN_ACK, flags::SYN | flags::ACK, 3381058068u32),
        (ACK, flags::ACK, 3141807264),
        (RST, flags::RST | flags::ACK, 3830484797),
    ] {
        let f = hex(h);
        let (src, dst, seg) = ip_of(&f);
        let p = TcpPacket::new_checked(&seg[..]).unwrap();
        assert_eq!(p.flags(), fl, "{}", flags_text(p.flags()));
        assert_eq!(p.ack(), ack);
        assert!(p.verify_checksum(src, dst), "{h}");
        let parsed = TcpRepr::parse(&p, src, dst);
        let mut out = vec![0; parsed.repr.buffer_len().unwrap()];
        parsed.repr.emit(&mut out, src, dst).unwrap();
        assert_eq!(out, seg);
    }
    assert_eq!(flags_text(flags::SYN | flags::ACK), "S.");
    assert_eq!(flags_text(flags::RST | flags::ACK), "R.");
}

#[test]
fn linux_udp_parses_and_rebuilds() {
    let f = hex(UDP);
    let (src, dst, seg) = ip_of(&f);
    let p = UdpPacket::new_checked(&seg[..]).unwrap();
    assert_eq!(
        (p.src_port(), p.dst_port(), p.len_field()),
        (40000, 9999, 25)
    );
    assert_eq!(p.payload(), b"pktforge udp test");
    assert_eq!(p.verify_checksum(src, dst), Some(true));
    let parsed = UdpRepr::parse(&p, src, dst);
    let mut out = vec![0; parsed.repr.buffer_len()];
    parsed.repr.emit(&mut out, src, dst).unwrap();
    assert_eq!(out, seg);
    // A wrong source address breaks the pseudo-header sum.
    assert_eq!(
        p.verify_checksum(Ipv4Addr::new(192, 0, 2, 3), dst),
        Some(false)
    );
    assert_eq!(p.right_checksum(src, dst), 0x03f0);
}

#[test]
fn ports_read_from_the_quoted_datagram() {
    let f = hex(PORT_UNREACH);
    let (_, _, icmp) = ip_of(&f);
    let icmp = IcmpPacket::new_checked(&icmp[..]).unwrap();
    let q = icmp.quote().unwrap().unwrap();
    assert_eq!(q.protocol(), IP_PROTO_UDP);
    assert_eq!(
        crate::wire::udp::quoted_ports(q.payload()),
        Some((40000, 9999))
    );
    assert_eq!(quoted_tcp(&q.payload()[..8]).map(|t| t.0), Some(40000));
    assert_eq!(quoted_tcp(&q.payload()[..7]), None);
}

#[test]
fn checksum_is_right_with_ip_options_present() {
    // The pseudo-header has no room for options: a SYN inside a 60-byte IP header sums the same.
    let (src, dst) = (Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(203, 0, 113, 2));
    let mut r = TcpRepr::new(1234, 80, flags::SYN);
    r.seq = 7;
    let mut seg = vec![0; r.buffer_len().unwrap()];
    r.emit(&mut seg, src, dst).unwrap();
    let mut ip = crate::wire::Ipv4Repr::new(src, dst, IP_PROTO_TCP);
    ip.options = vec![crate::wire::IpOption::record_route(9).unwrap()];
    let hl = ip.header_len().unwrap();
    assert_eq!(hl, 60);
    let mut dgram = vec![0; hl + seg.len()];
    ip.emit(&mut dgram, seg.len()).unwrap();
    dgram[hl..].copy_from_slice(&seg);
    let v = Ipv4Packet::new_checked(&dgram[..]).unwrap();
    let t = TcpPacket::new_checked(v.payload()).unwrap();
    assert!(t.verify_checksum(v.src(), v.dst()));
}

#[test]
fn options_over_40_bytes_are_refused_naming_the_limit() {
    let mut r = TcpRepr::new(1, 2, flags::SYN);
    r.options = vec![
        TcpOption::Sack(vec![(1, 2); 4]), // 34
        TcpOption::Mss(1460),             // 38
        TcpOption::WindowScale(7),        // 41
    ];
    let e = r.header_len().unwrap_err().to_string();
    assert!(
        e.contains("41 bytes") && e.contains("at most 40") && e.contains("data offset 15"),
        "{e}"
    );
    r.options.pop();
    r.options.push(TcpOption::Nop);
    r.options.push(TcpOption::Nop);
    assert_eq!(r.header_len().unwrap(), 60);
    let mut seg = vec![0; 60];
    r.emit(&mut seg, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST)
        .unwrap();
    assert_eq!(seg[field::DATA_OFF] >> 4, 15);
    assert_eq!(parse_tcp_options(&seg[20..]), r.options);
    r.data_offset_override = Some(16);
    assert!(r
        .emit(&mut seg, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST)
        .is_err());
}

#[test]
fn malformed_segments_never_panic() {
    let f = hex(SYN);
    let (_, _, seg) = ip_of(&f);
    for n in 0..seg.len() {
        if let Ok(p) = TcpPacket::new_checked(&seg[..n]) {
            let _ = (p.option_list(), p.payload(), p.flags());
        }
    }
    // Data offset 4, and one beyond the bytes.
    let mut bad = seg.clone();
    bad[field::DATA_OFF] = 0x40;
    assert!(TcpPacket::new_checked(&bad[..]).is_err());
    bad[field::DATA_OFF] = 0xf0;
    assert!(TcpPacket::new_checked(&bad[..]).is_err());
    // Options with bad lengths end as raw bytes.
    assert_eq!(
        parse_tcp_options(&[2, 9, 1, 1]),
        [TcpOption::Raw(vec![2, 9, 1, 1])]
    );
    assert_eq!(
        parse_tcp_options(&[2, 3, 1, 0]),
        [TcpOption::Raw(vec![2, 3, 1]), TcpOption::EndOfList]
    );
    assert_eq!(
        parse_tcp_options(&[1, 5]),
        [TcpOption::Nop, TcpOption::Raw(vec![5])]
    );
    assert_eq!(
        parse_tcp_options(&[1, 7, 0]),
        [TcpOption::Nop, TcpOption::Raw(vec![7, 0])]
    );
}

#[test]
fn pseudo_header_udp_zero_is_sent_as_ffff() {
    // Find a payload whose checksum computes to 0 and check it goes out as 0xffff.
    let (s, d) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let mut r = UdpRepr::new(1, 2, vec![0, 0]);
    let mut buf = vec![0; 10];
    r.emit(&mut buf, s, d).unwrap();
    let c = u16::from_be_bytes([buf[6], buf[7]]);
    // Adding c to the data makes the sum all ones: the computed checksum becomes 0.
    r.payload = c.to_be_bytes().to_vec();
    r.emit(&mut buf, s, d).unwrap();
    assert_eq!(&buf[6..8], &[0xff, 0xff]);
    assert_eq!(pseudo_header_checksum(s, d, IP_PROTO_UDP, &buf), 0);
}

#[test]
fn flags_from_letters_names_and_numbers() {
    assert_eq!(parse_tcp_flags("S").unwrap(), flags::SYN);
    assert_eq!(parse_tcp_flags("SA").unwrap(), flags::SYN | flags::ACK);
    assert_eq!(parse_tcp_flags("S.").unwrap(), flags::SYN | flags::ACK);
    assert_eq!(parse_tcp_flags("SFRPAUEC").unwrap(), 0xff);
    assert_eq!(parse_tcp_flags("syn,ack").unwrap(), 0x12);
    assert_eq!(parse_tcp_flags("FIN|PSH|URG").unwrap(), 0x29);
    assert_eq!(parse_tcp_flags("ACK").unwrap(), flags::ACK);
    assert_eq!(parse_tcp_flags("none").unwrap(), 0);
    assert_eq!(parse_tcp_flags("0x12").unwrap(), 0x12);
    let e = parse_tcp_flags("SX").unwrap_err().to_string();
    assert!(e.contains("'X'") && e.contains("FSRPAUECN"), "{e}");
    assert!(parse_tcp_flags("syn,bogus").is_err());
    assert!(parse_tcp_flags("0x200").is_err());
}

#[test]
fn options_from_text() {
    let o: Vec<TcpOption> = [
        "mss=1460",
        "sackok",
        "ts=5:6",
        "nop",
        "wscale=7",
        "sack=1:2,3:4",
        "raw=fe0401",
        "eol",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    assert_eq!(
        o,
        [
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps { tsval: 5, tsecr: 6 },
            TcpOption::Nop,
            TcpOption::WindowScale(7),
            TcpOption::Sack(vec![(1, 2), (3, 4)]),
            TcpOption::Raw(vec![0xfe, 4, 1]),
            TcpOption::EndOfList,
        ]
    );
    assert!("mss=70000".parse::<TcpOption>().is_err());
    assert!("wscale=15".parse::<TcpOption>().is_err());
    assert!("sack=1:2,1:2,1:2,1:2,1:2"
        .parse::<TcpOption>()
        .unwrap_err()
        .to_string()
        .contains("at most 4"));
    assert!("bogus".parse::<TcpOption>().is_err());
}
