//! Whole Ethernet frames: parse one layer after another, and build ICMP and ARP frames.

use super::arp::ArpRepr;
use super::ether::{
    EthernetFrame, EthernetRepr, ETHERNET_MIN_FRAME_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4,
};
use super::icmp::{IcmpRepr, ParsedIcmp};
use super::ipv4::{Ipv4Packet, Ipv4Repr, ParsedIpv4, IP_PROTO_ICMP};
use super::{MacAddr, WireError};

/// What an Ethernet frame carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum L3 {
    /// An Ethernet/IPv4 ARP packet.
    Arp(ArpRepr),
    /// An IPv4 datagram and what it carries.
    Ipv4 {
        /// The IPv4 header.
        ip: ParsedIpv4,
        /// Its payload.
        l4: L4,
    },
    /// Any other EtherType: the payload bytes.
    Other(Vec<u8>),
}

/// What an IPv4 datagram carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum L4 {
    /// An ICMP message.
    Icmp(ParsedIcmp),
    /// ICMP that could not be parsed (e.g. truncated), with its bytes.
    Malformed {
        /// Why it did not parse.
        error: WireError,
        /// The IP payload bytes.
        bytes: Vec<u8>,
    },
    /// Another protocol, or a non-first fragment: the payload bytes.
    Other(Vec<u8>),
}

/// A parsed Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Frame {
    /// The Ethernet header.
    pub eth: EthernetRepr,
    /// What it carries.
    pub l3: L3,
}

/// Parse a frame. The Ethernet header must parse, and so must an ARP packet or IPv4 header
/// (else `Err`); ICMP that does not parse is [`L4::Malformed`]. Trailing Ethernet padding is cut
/// by the IPv4 total length.
pub fn parse_frame(bytes: &[u8]) -> Result<Frame, WireError> {
    let frame = EthernetFrame::new_checked(bytes)?;
    let eth = EthernetRepr::parse(&frame)?;
    let rest = frame.payload();
    let l3 = match eth.ethertype {
        ETHERTYPE_ARP => L3::Arp(ArpRepr::parse(rest)?),
        ETHERTYPE_IPV4 => {
            let packet = Ipv4Packet::new_checked(rest)?;
            let ip = Ipv4Repr::parse(&packet)?;
            let payload = packet.into_payload();
            let l4 = if ip.repr.protocol == IP_PROTO_ICMP && ip.repr.frag_offset == 0 {
                match IcmpRepr::parse_bytes(payload) {
                    Ok(p) => L4::Icmp(p),
                    Err(error) => L4::Malformed {
                        error,
                        bytes: payload.to_vec(),
                    },
                }
            } else {
                L4::Other(payload.to_vec())
            };
            L3::Ipv4 { ip, l4 }
        }
        _ => L3::Other(rest.to_vec()),
    };
    Ok(Frame { eth, l3 })
}

/// Length of the frame [`build_icmp_frame`] would build.
pub fn icmp_frame_len(
    eth: &EthernetRepr,
    ip: &Ipv4Repr,
    icmp: &IcmpRepr,
) -> Result<usize, WireError> {
    Ok(eth.header_len() + ip.header_len()? + icmp.buffer_len())
}

/// Build Ethernet + IPv4 + ICMP with right lengths and checksums (unless overridden). The
/// EtherType and IP protocol are written as given (normally 0x0800 and 1). No padding: a short
/// frame stays short (padding would become trailing bytes of the IP datagram).
pub fn build_icmp_frame(
    eth: &EthernetRepr,
    ip: &Ipv4Repr,
    icmp: &IcmpRepr,
) -> Result<Vec<u8>, WireError> {
    let mut buf = Vec::new();
    build_icmp_frame_into(&mut buf, eth, ip, icmp)?;
    Ok(buf)
}

/// Like [`build_icmp_frame`] into `buf` (cleared first); allocates nothing when its capacity
/// suffices. On error `buf` is left empty.
pub fn build_icmp_frame_into(
    buf: &mut Vec<u8>,
    eth: &EthernetRepr,
    ip: &Ipv4Repr,
    icmp: &IcmpRepr,
) -> Result<(), WireError> {
    buf.clear();
    let eh = eth.header_len();
    let ih = ip.header_len()?;
    let icmp_len = icmp.buffer_len();
    buf.resize(eh + ih + icmp_len, 0);
    let r = eth
        .emit(&mut buf[..eh])
        .and_then(|_| ip.emit(&mut buf[eh..eh + ih], icmp_len))
        .and_then(|_| icmp.emit(&mut buf[eh + ih..]));
    if let Err(e) = r {
        buf.clear();
        return Err(e);
    }
    Ok(())
}

/// Build an ARP frame from `src_mac` to `dst_mac`, zero-padded to 60 bytes (the Ethernet
/// minimum without FCS).
pub fn build_arp_frame(src_mac: MacAddr, dst_mac: MacAddr, arp: &ArpRepr) -> Vec<u8> {
    build_tagged_arp_frame(src_mac, dst_mac, &super::VlanStack::EMPTY, arp)
}

/// Like [`build_arp_frame`] with VLAN tags (outermost first) between the MACs and the
/// EtherType; padded to 60 bytes, as Linux pads a frame.
pub fn build_tagged_arp_frame(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    vlans: &super::VlanStack,
    arp: &ArpRepr,
) -> Vec<u8> {
    let eth = EthernetRepr {
        dst: dst_mac,
        src: src_mac,
        vlans: *vlans,
        ethertype: ETHERTYPE_ARP,
    };
    let eh = eth.header_len();
    let mut buf = vec![0u8; (eh + ArpRepr::BUFFER_LEN).max(ETHERNET_MIN_FRAME_LEN)];
    // The buffer is sized for both: neither emit can fail.
    let _ = eth.emit(&mut buf);
    let _ = arp.emit(&mut buf[eh..]);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::icmp::tests::arb_message;
    use crate::wire::icmp::IcmpMessage;
    use crate::wire::ipopt::IpOption;
    use crate::wire::ipv4::tests::arb_ipv4;
    use crate::wire::testutil::{self, hex};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    const A_MAC: MacAddr = MacAddr(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5);
    const R1_MAC: MacAddr = MacAddr(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8);

    #[test]
    fn every_captured_frame_parses_and_rebuilds_byte_exact() {
        for h in [
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
        ] {
            let bytes = hex(h);
            let f = parse_frame(&bytes).unwrap();
            let L3::Ipv4 {
                ip,
                l4: L4::Icmp(icmp),
            } = &f.l3
            else {
                panic!("{f:?}")
            };
            assert!(ip.checksum_ok && icmp.checksum_ok, "{h}");
            // Only BAD_LSRR_REQUEST is malformed, on purpose: its LSRR pointer is 3.
            let malformed = ip
                .repr
                .options
                .iter()
                .any(|o| matches!(o, IpOption::Malformed { .. }));
            assert_eq!(
                malformed,
                h == testutil::BAD_LSRR_REQUEST,
                "{:?}",
                ip.repr.options
            );
            let mut repr = ip.repr.clone();
            // Rebuild with the captured code kept (echo types do not store it).
            let mut ic = icmp.repr.clone();
            ic.code_override = Some(icmp.code);
            repr.checksum_override = None;
            let built = build_icmp_frame(&f.eth, &repr, &ic).unwrap();
            assert_eq!(built, bytes, "{h}");
        }
    }

    #[test]
    fn captured_rr_reply_frame() {
        let f = parse_frame(&hex(testutil::RR_REPLY)).unwrap();
        assert_eq!((f.eth.src, f.eth.dst), (R1_MAC, A_MAC));
        let L3::Ipv4 {
            ip,
            l4: L4::Icmp(icmp),
        } = &f.l3
        else {
            panic!()
        };
        assert_eq!(ip.header_len, 60);
        assert_eq!(
            ip.repr.options[0].to_string(),
            "RR: 192.0.2.2 198.51.100.1 203.0.113.1 203.0.113.2 203.0.113.2 198.51.100.2 \
             192.0.2.1 (7 of 9 slots)"
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

    fn echo_frame(opts: Vec<IpOption>) -> (EthernetRepr, Ipv4Repr, IcmpRepr) {
        let eth = EthernetRepr {
            dst: R1_MAC,
            src: A_MAC,
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        let mut ipr = Ipv4Repr::new(ip("192.0.2.2"), ip("203.0.113.2"), IP_PROTO_ICMP);
        ipr.id = 0xe09f;
        ipr.dont_fragment = true;
        ipr.options = opts;
        let icmp = IcmpRepr::echo_request(0x1a6a, 1, (0..56).collect());
        (eth, ipr, icmp)
    }

    #[test]
    fn built_echo_checksums_verified_by_pnet() {
        use pnet_packet::icmp::IcmpPacket;
        use pnet_packet::ipv4::Ipv4Packet;
        use pnet_packet::Packet;
        let (eth, ipr, icmp) = echo_frame(vec![IpOption::Nop, IpOption::record_route(9).unwrap()]);
        let b = build_icmp_frame(&eth, &ipr, &icmp).unwrap();
        assert_eq!(b.len(), 14 + 60 + 64);
        let ipp = Ipv4Packet::new(&b[14..]).unwrap();
        assert_eq!(ipp.get_header_length(), 15);
        assert_eq!(ipp.get_total_length(), 124);
        assert_eq!(pnet_packet::ipv4::checksum(&ipp), ipp.get_checksum());
        let icp = IcmpPacket::new(ipp.payload()).unwrap();
        assert_eq!(pnet_packet::icmp::checksum(&icp), icp.get_checksum());
        // The options are what Linux `ping -R` puts in its request.
        assert_eq!(&b[34..38], &hex("01072704")[..]);

        // Overrides write exactly the value given.
        let (eth, mut ipr, mut icmp) = echo_frame(vec![]);
        ipr.checksum_override = Some(0xdead);
        icmp.checksum_override = Some(0x0000);
        let b = build_icmp_frame(&eth, &ipr, &icmp).unwrap();
        assert_eq!(&b[24..26], &[0xde, 0xad]);
        assert_eq!(&b[36..38], &[0, 0]);
        let f = parse_frame(&b).unwrap();
        let L3::Ipv4 {
            ip,
            l4: L4::Icmp(ic),
        } = f.l3
        else {
            panic!()
        };
        assert!(!ip.checksum_ok && !ic.checksum_ok);
        assert_eq!((ip.checksum, ic.checksum), (0xdead, 0));
    }

    #[test]
    fn build_into_reuses_buffer() {
        let (eth, ipr, icmp) = echo_frame(vec![IpOption::record_route(9).unwrap()]);
        let mut buf = Vec::with_capacity(256);
        let p = buf.as_ptr();
        build_icmp_frame_into(&mut buf, &eth, &ipr, &icmp).unwrap();
        assert_eq!(buf, build_icmp_frame(&eth, &ipr, &icmp).unwrap());
        build_icmp_frame_into(&mut buf, &eth, &ipr, &icmp).unwrap();
        assert_eq!(buf.as_ptr(), p);
        assert_eq!(buf.len(), icmp_frame_len(&eth, &ipr, &icmp).unwrap());
        let mut bad = ipr.clone();
        bad.options.push(IpOption::Nop);
        bad.options.push(IpOption::Nop);
        assert!(build_icmp_frame_into(&mut buf, &eth, &bad, &icmp).is_err());
        assert!(buf.is_empty());
        bad.options.clear();
        bad.frag_offset = 9000;
        assert!(build_icmp_frame_into(&mut buf, &eth, &bad, &icmp).is_err());
        assert!(buf.is_empty());
    }

    #[test]
    fn arp_frame_padded_and_parsed() {
        let arp = ArpRepr::request(A_MAC, ip("192.0.2.2"), ip("192.0.2.1"));
        let b = build_arp_frame(A_MAC, MacAddr::broadcast(), &arp);
        assert_eq!(b.len(), 60);
        assert!(b[42..].iter().all(|&x| x == 0));
        let f = parse_frame(&b).unwrap();
        assert_eq!(f.eth.ethertype, ETHERTYPE_ARP);
        assert_eq!(f.l3, L3::Arp(arp));
    }

    #[test]
    fn malformed_icmp_and_other() {
        let (eth, mut ipr, _) = echo_frame(vec![]);
        let mut b = vec![0u8; 14 + 20 + 4];
        eth.emit(&mut b).unwrap();
        ipr.emit(&mut b[14..], 4).unwrap();
        let f = parse_frame(&b).unwrap();
        assert!(matches!(
            f.l3,
            L3::Ipv4 { l4: L4::Malformed { error: WireError::Truncated { .. }, ref bytes }, .. } if bytes.len() == 4
        ));
        ipr.protocol = 17;
        ipr.emit(&mut b[14..], 4).unwrap();
        assert!(matches!(
            parse_frame(&b).unwrap().l3,
            L3::Ipv4 {
                l4: L4::Other(_),
                ..
            }
        ));
        // Bad IPv4 header → Err.
        b[14] = 0x43;
        assert!(parse_frame(&b).is_err());
        b[12..14].copy_from_slice(&[0x86, 0xdd]);
        assert!(matches!(parse_frame(&b).unwrap().l3, L3::Other(ref v) if v.len() == 24));
        assert!(parse_frame(&b[..10]).is_err());
    }

    proptest! {
        #[test]
        fn parse_frame_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_frame(&bytes);
            // Also with a plausible Ethernet+IPv4 prefix so deeper layers get exercised.
            let mut b = hex("5a7f533d69e5 72b6fa7b54a8 0800");
            b.extend(&bytes);
            if !bytes.is_empty() {
                b[14] = 0x40 | (bytes[0] & 0x0f);
            }
            if let Ok(Frame { l3: L3::Ipv4 { l4: L4::Icmp(p), .. }, .. }) = parse_frame(&b) {
                let _ = p.repr.message.quote();
            }
        }

        #[test]
        fn frame_round_trip(ipr in arb_ipv4(), m in arb_message()) {
            let (eth, _, _) = echo_frame(vec![]);
            let mut ipr = ipr;
            ipr.protocol = IP_PROTO_ICMP;
            ipr.frag_offset = 0;
            let icmp = IcmpRepr::new(m);
            let b = build_icmp_frame(&eth, &ipr, &icmp).unwrap();
            let f = parse_frame(&b).unwrap();
            prop_assert_eq!(f.eth, eth);
            let L3::Ipv4 { ip, l4: L4::Icmp(p) } = f.l3 else { panic!() };
            prop_assert!(ip.checksum_ok && p.checksum_ok);
            prop_assert_eq!(usize::from(ip.total_len), b.len() - 14);
            prop_assert_eq!(p.repr, icmp);
            let mut got = ip.repr;
            if got.options.last() == Some(&IpOption::EndOfList) && ipr.options.last() != Some(&IpOption::EndOfList) {
                got.options.pop();
            }
            prop_assert_eq!(got, ipr);
        }
    }
}
