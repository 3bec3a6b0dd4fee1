//! UDP and TCP in the dissector, on frames captured from Linux (see `wire::tcp::tests`).

use super::*;
use crate::wire::tcp::tests::{PORT_UNREACH, RST, SYN, SYN_ACK, UDP};
use crate::wire::testutil::hex;

fn values(d: &Dissection, key: &str) -> Vec<String> {
    d.nodes()
        .into_iter()
        .filter(|n| n.key == key)
        .map(|n| n.value.clone())
        .collect()
}

#[test]
fn linux_syn_every_field_and_option() {
    let d = dissect_frame(&hex(SYN));
    assert!(d.complete, "{d:#?}");
    assert_eq!(values(&d, "tcp.srcport"), ["59570"]);
    assert_eq!(values(&d, "tcp.dstport"), ["8000"]);
    assert_eq!(values(&d, "tcp.seq_raw"), ["3381058067"]);
    assert_eq!(values(&d, "tcp.flags"), ["0x002 (SYN)"]);
    assert_eq!(values(&d, "tcp.hdr_len"), ["40 bytes (data offset 10)"]);
    assert_eq!(values(&d, "tcp.options.mss_val"), ["1460"]);
    assert_eq!(
        values(&d, "tcp.options.wscale.shift"),
        ["10 (multiply by 1024)"]
    );
    assert_eq!(values(&d, "tcp.options.timestamp.tsval"), ["782973511"]);
    assert_eq!(d.find("tcp.checksum").unwrap().status, Status::Good);
    let text = render_text(&d).join("\n");
    assert!(text.contains("[good]"), "{text}");
}

#[test]
fn linux_syn_ack_and_rst() {
    let d = dissect_frame(&hex(SYN_ACK));
    assert_eq!(values(&d, "tcp.flags"), ["0x012 (SYN, ACK)"]);
    assert_eq!(d.find("tcp.checksum").unwrap().status, Status::Good);
    let d = dissect_frame(&hex(RST));
    assert_eq!(values(&d, "tcp.flags"), ["0x014 (RST, ACK)"]);
    assert_eq!(d.find("tcp.checksum").unwrap().status, Status::Good);
}

#[test]
fn bad_checksums_say_what_they_should_be() {
    let mut f = hex(UDP);
    f[14 + 20 + 6] ^= 0xff;
    let d = dissect_frame(&f);
    assert_eq!(
        d.find("udp.checksum").unwrap().status,
        Status::Bad {
            expected: "0x03f0".into()
        }
    );
    assert!(render_text(&d)
        .join("\n")
        .contains("[BAD, should be 0x03f0]"));
    let mut f = hex(SYN);
    f[14 + 20 + 16] = 0;
    f[14 + 20 + 17] = 0;
    let d = dissect_frame(&f);
    assert_eq!(
        d.find("tcp.checksum").unwrap().status,
        Status::Bad {
            expected: "0x3a87".into()
        }
    );
}

#[test]
fn linux_udp_and_its_port_unreachable() {
    let d = dissect_frame(&hex(UDP));
    assert!(d.complete);
    assert_eq!(values(&d, "udp.srcport"), ["40000"]);
    assert_eq!(values(&d, "udp.length"), ["25"]);
    assert_eq!(d.find("udp.checksum").unwrap().status, Status::Good);
    let d = dissect_frame(&hex(PORT_UNREACH));
    assert!(d.complete, "{d:#?}");
    let q = d.find("icmp.quote.udp").unwrap();
    assert_eq!(q.value, "40000 → 9999");
    let ck = q
        .walk()
        .into_iter()
        .find(|n| n.key == "udp.checksum")
        .unwrap();
    assert_eq!(ck.status, Status::Plain, "no verdict inside a quote");
}

#[test]
fn an_8_byte_tcp_quote_gives_ports_and_seq_only() {
    // A router's Time Exceeded for a SYN: IP header + 8 bytes of TCP.
    let syn = hex(SYN);
    let quoted = &syn[14..14 + 28];
    let ip = crate::wire::Ipv4Repr::new(
        "192.0.2.1".parse().unwrap(),
        "192.0.2.2".parse().unwrap(),
        1,
    );
    let eth = crate::wire::EthernetRepr {
        dst: crate::wire::MacAddr::zero(),
        src: crate::wire::MacAddr::zero(),
        vlans: crate::wire::VlanStack::EMPTY,
        ethertype: crate::wire::ETHERTYPE_IPV4,
    };
    let f = crate::wire::build_icmp_frame(
        &eth,
        &ip,
        &crate::wire::IcmpRepr::new(crate::wire::IcmpMessage::TimeExceeded {
            code: 0,
            quote: quoted.to_vec(),
        }),
    )
    .unwrap();
    let d = dissect_frame(&f);
    assert!(d.complete, "{d:#?}");
    let q = d.find("icmp.quote.tcp").unwrap();
    assert_eq!(q.value, "59570 → 8000");
    assert_eq!(values(&d, "tcp.seq_raw"), ["3381058067"]);
    assert!(d.find("tcp.checksum").is_none());
}

#[test]
fn every_truncation_never_panics() {
    for h in [SYN, SYN_ACK, RST, UDP, PORT_UNREACH] {
        let f = hex(h);
        for n in 0..f.len() {
            let _ = render_text(&dissect_frame(&f[..n]));
        }
    }
}
