//! Fragment reassembly: any sequence of packets (fragments of several datagrams, overlapping,
//! out of order, malformed) never panics and never holds more than the bound; a datagram cut
//! by `fragment()` and fed back in any order comes back whole and byte for byte.
//!
//! Input: byte 0 picks the MTU and the order, the rest is an IPv4 datagram to fragment, and
//! (after a 0xff 0xff marker) raw packets pushed as they are.
#![no_main]
use std::time::{Duration, Instant};

use pktforge::wire::frag::{fragment, Reassembler};

const BOUND: usize = 64 << 10;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let (datagram, raw) = match rest.windows(2).position(|w| w == [0xff, 0xff]) {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    let now = Instant::now();
    let mut r = Reassembler::new(Duration::from_secs(30), BOUND);
    // Raw packets: whatever they are, nothing panics and the bound holds.
    for chunk in raw.chunks(97) {
        let _ = r.push(chunk, now);
    }
    // A well-formed datagram cut into fragments comes back whole, in any order.
    let mtu = 68 + usize::from(ctl & 0x3f) * 8;
    let mut ip = datagram.to_vec();
    if ip.len() < 20 {
        return;
    }
    ip[0] = 0x45;
    let total = ip.len().min(4000);
    ip.truncate(total);
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    // No fragment fields, no DF: the datagram may be cut.
    ip[6] = 0;
    ip[7] = 0;
    ip[10] = 0;
    ip[11] = 0;
    let c = pktforge::wire::checksum(&ip[..20]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let Ok(mut pieces) = fragment(&ip, mtu) else {
        return;
    };
    if pieces.len() < 2 {
        return;
    }
    for p in &pieces {
        assert!(
            p.len() <= mtu,
            "a fragment of {} bytes over the MTU {mtu}",
            p.len()
        );
    }
    if ctl & 0x40 != 0 {
        pieces.reverse();
    }
    let mut fresh = Reassembler::new(Duration::from_secs(30), BOUND);
    let mut whole = None;
    for (i, p) in pieces.iter().enumerate() {
        let got = fresh.push(p, now);
        if i + 1 < pieces.len() {
            assert!(got.is_none(), "whole before the last fragment");
        } else {
            whole = got;
        }
    }
    let whole = whole.expect("every fragment given: the datagram is whole");
    assert_eq!(&whole[20..], &ip[20..], "reassembled payload differs");
    assert_eq!(fresh.in_progress(), 0);
});
