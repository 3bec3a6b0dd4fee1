//! UDP and TCP views and Reprs: any bytes never panic; a segment or datagram that parses is
//! emitted again (checksums recomputed over the pseudo-header), parses to the same value, and
//! its checksum then verifies.
#![no_main]
use std::net::Ipv4Addr;

use pktforge::wire::{TcpPacket, TcpRepr, UdpPacket, UdpRepr};

const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const DST: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(v) = UdpPacket::new_checked(data) {
        let _ = v.verify_checksum(SRC, DST);
        let p = UdpRepr::parse(&v, SRC, DST);
        let mut r = p.repr.clone();
        r.length_override = None;
        r.checksum_override = None;
        let mut buf = vec![0u8; r.buffer_len()];
        if r.emit(&mut buf, SRC, DST).is_ok() {
            let v2 = UdpPacket::new_checked(&buf[..]).expect("an emitted datagram reads");
            assert_eq!(v2.verify_checksum(SRC, DST), Some(true));
            let p2 = UdpRepr::parse(&v2, SRC, DST);
            assert_eq!(p2.repr.payload, r.payload);
            assert_eq!(
                (p2.repr.src_port, p2.repr.dst_port),
                (r.src_port, r.dst_port)
            );
        }
    }
    if let Ok(v) = TcpPacket::new_checked(data) {
        let _ = v.verify_checksum(SRC, DST);
        let p = TcpRepr::parse(&v, SRC, DST);
        let mut r = p.repr.clone();
        r.data_offset_override = None;
        r.checksum_override = None;
        let Ok(n) = r.buffer_len() else { return };
        let mut buf = vec![0u8; n];
        if r.emit(&mut buf, SRC, DST).is_ok() {
            let v2 = TcpPacket::new_checked(&buf[..]).expect("an emitted segment reads");
            assert!(v2.verify_checksum(SRC, DST));
            let p2 = TcpRepr::parse(&v2, SRC, DST);
            assert_eq!(p2.repr.payload, r.payload);
            assert_eq!(
                (p2.repr.seq, p2.repr.ack, p2.repr.flags, p2.repr.window),
                (r.seq, r.ack, r.flags, r.window)
            );
        }
    }
});
