//! blast's reply classifier (`blast::classify`, the allocation-free fast path) against the
//! general parser (`wire::parse_frame`): it takes exactly the untagged, unfragmented, whole
//! ICMP echo replies (code 0, at least 16 data bytes) whose id is one of ours, and calls one
//! `Reply` exactly when its checksum is right and its sequence field matches its data.
//!
//! Input: flags (bit 0: make the frame's checksums right first, so mutated replies get past
//! the checksum test), base id (2 bytes), thread count (1 byte, 1..=256), then the frame.
#![no_main]
use pktforge::blast::{classify, Rx, STAMP_BYTES};
use pktforge::wire::{parse_frame, IcmpMessage, L3, L4};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [flags, b0, b1, t, ..] = *data else {
        return;
    };
    let base = u16::from_be_bytes([b0, b1]);
    let threads = usize::from(t) + 1;
    let mut f = data[4..].to_vec();
    if flags & 1 != 0 {
        pktforge_fuzz::fix_checksums(&mut f);
    }
    let f = &f[..];
    let got = classify(f, base, threads, pktforge::blast::Expect::Icmp);
    // What the general parser says it should be.
    let want = match parse_frame(f) {
        Ok(fr) if fr.eth.vlans.is_empty() => match fr.l3 {
            L3::Ipv4 {
                ip,
                l4: L4::Icmp(p),
            } if !ip.is_fragment() && 14 + usize::from(ip.total_len) <= f.len() && p.code == 0 => {
                match p.repr.message {
                    IcmpMessage::EchoReply { id, seq, ref data }
                        if data.len() >= STAMP_BYTES
                            && usize::from(id.wrapping_sub(base)) < threads =>
                    {
                        let s64 = u64::from_le_bytes(data[..8].try_into().unwrap());
                        let ns = u64::from_le_bytes(data[8..16].try_into().unwrap());
                        if p.checksum_ok && seq == s64 as u16 {
                            Rx::Reply {
                                thread: usize::from(id.wrapping_sub(base)),
                                seq: s64,
                                sent_ns: ns,
                            }
                        } else {
                            Rx::Corrupt
                        }
                    }
                    _ => Rx::NotOurs,
                }
            }
            _ => Rx::NotOurs,
        },
        _ => Rx::NotOurs,
    };
    assert_eq!(
        got,
        want,
        "frame {}, base id {base}, {threads} threads",
        pktforge_fuzz::hex(f)
    );
});
