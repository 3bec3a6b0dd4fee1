//! Recognising replies to our requests, through the wire views, without allocating.

use super::STAMP_BYTES;
use crate::wire::{
    EthernetFrame, IcmpPacket, Ipv4Packet, UdpPacket, ETHERTYPE_IPV4, IP_PROTO_ICMP, IP_PROTO_UDP,
};

/// What [`classify`] makes of a received frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Rx {
    /// An echo reply to one of our threads.
    Reply {
        /// Which thread sent the request (its ICMP id minus the base id).
        thread: usize,
        /// The request's 64-bit sequence number (from the data; its low 16 bits are the ICMP
        /// sequence field).
        seq: u64,
        /// When it was sent (ns, from the data).
        sent_ns: u64,
    },
    /// An echo reply to one of our threads with a bad checksum or a sequence field that
    /// disagrees with its data.
    Corrupt,
    /// Anything else.
    NotOurs,
}

/// What our requests are, so what a reply to them looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// ICMP echo replies with identifiers `base_id..base_id + threads`.
    Icmp,
    /// UDP datagrams from this port to ports `base_id..base_id + threads` (echoed).
    Udp(u16),
}

/// Recognise a reply to one of our requests (untagged like the requests, unfragmented, at least
/// [`STAMP_BYTES`] of data) without allocating. Bounds-checked throughout; public so it can be
/// fuzzed against [`crate::wire::parse_frame`].
pub fn classify(f: &[u8], base_id: u16, threads: usize, expect: Expect) -> Rx {
    let Ok(eth) = EthernetFrame::new_checked(f) else {
        return Rx::NotOurs;
    };
    // Our requests leave untagged: a reply from a VLAN is not to them (found by fuzzing).
    if eth.tag_count() != 0 {
        return Rx::NotOurs;
    }
    if eth.ethertype() != ETHERTYPE_IPV4 {
        return Rx::NotOurs;
    }
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
        return Rx::NotOurs;
    };
    let proto = match expect {
        Expect::Icmp => IP_PROTO_ICMP,
        Expect::Udp(_) => IP_PROTO_UDP,
    };
    // A datagram cut short (total length past the bytes) is not a reply we can check.
    if ip.protocol() != proto
        || ip.is_fragment()
        || usize::from(ip.total_len()) > ip.as_bytes().len()
    {
        return Rx::NotOurs;
    }
    let le64 = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
    match expect {
        Expect::Icmp => {
            let Ok(icmp) = IcmpPacket::new_checked(ip.payload()) else {
                return Rx::NotOurs;
            };
            let data = icmp.data();
            if data.len() < STAMP_BYTES || icmp.msg_type() != 0 || icmp.code() != 0 {
                return Rx::NotOurs;
            }
            let thread = usize::from(icmp.ident().wrapping_sub(base_id));
            if thread >= threads {
                return Rx::NotOurs;
            }
            let seq = le64(&data[..8]);
            if !icmp.verify_checksum() || icmp.seq_no() != seq as u16 {
                return Rx::Corrupt;
            }
            Rx::Reply {
                thread,
                seq,
                sent_ns: le64(&data[8..16]),
            }
        }
        Expect::Udp(port) => {
            let Ok(udp) = UdpPacket::new_checked(ip.payload()) else {
                return Rx::NotOurs;
            };
            if udp.src_port() != port {
                return Rx::NotOurs;
            }
            let thread = usize::from(udp.dst_port().wrapping_sub(base_id));
            let data = udp.payload();
            if thread >= threads || data.len() < STAMP_BYTES {
                return Rx::NotOurs;
            }
            // No checksum (0) is allowed in UDP; a wrong one, or a length field that is not
            // the datagram's, is not.
            if usize::from(udp.len_field()) != ip.payload().len()
                || udp.verify_checksum(ip.src(), ip.dst()) == Some(false)
            {
                return Rx::Corrupt;
            }
            Rx::Reply {
                thread,
                seq: le64(&data[..8]),
                sent_ns: le64(&data[8..16]),
            }
        }
    }
}
