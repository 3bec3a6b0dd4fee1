//! The per-thread request frame, with the checksum of its constant part precomputed.

use std::net::Ipv4Addr;

use super::STAMP_BYTES;
use crate::wire::field::icmp as icmp_field;
use crate::wire::udp::{field as udp_field, pseudo_header_checksum};
use crate::wire::{
    build_icmp_frame, build_l4_frame_into, checksum, EthernetRepr, IcmpRepr, Ipv4Repr, L4Repr,
    UdpRepr, IP_PROTO_UDP,
};
use crate::Result;

/// What carries the stamp: an ICMP echo request, or a UDP datagram to a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Carrier {
    /// ICMP echo request with this identifier.
    Icmp { id: u16 },
    /// UDP datagram from `src_port` to `dst_port`; its checksum covers the pseudo-header of
    /// `src` and the final destination.
    Udp { src_port: u16, dst_port: u16 },
}

/// The request frame of one thread, with the checksum sum of its constant part precomputed so
/// each frame costs one copy plus a few additions.
#[derive(Clone)]
pub(super) struct Template {
    pub(super) frame: Vec<u8>,
    /// Offset of the transport (ICMP or UDP) header in the frame.
    pub(super) icmp: usize,
    /// One's-complement sum of the message with checksum, sequence and stamp zeroed (for UDP
    /// the pseudo-header included).
    pub(super) base_sum: u32,
    /// Whether the message is UDP (stamp after the 8-byte header, no 16-bit sequence field,
    /// a computed checksum of 0 sent as 0xffff).
    pub(super) udp: bool,
}

/// Where the stamp starts in the message: after ICMP's 8-byte echo header or UDP's header.
const STAMP: usize = icmp_field::DATA;
const _: () = assert!(icmp_field::DATA == udp_field::PAYLOAD);
/// End of the sequence number + send time.
const STAMP_END: usize = STAMP + STAMP_BYTES;

impl Template {
    pub(super) fn new(
        eth: &EthernetRepr,
        ip: &Ipv4Repr,
        carrier: Carrier,
        final_dst: Ipv4Addr,
        data: Vec<u8>,
    ) -> Result<Template> {
        let (frame, udp) = match carrier {
            Carrier::Icmp { id } => {
                let icmp = IcmpRepr::echo_request(id, 0, data);
                (build_icmp_frame(eth, ip, &icmp)?, false)
            }
            Carrier::Udp { src_port, dst_port } => {
                let mut ip = ip.clone();
                ip.protocol = IP_PROTO_UDP;
                let mut f = Vec::new();
                let l4 = L4Repr::Udp(UdpRepr::new(src_port, dst_port, data));
                build_l4_frame_into(&mut f, eth, &ip, &l4, final_dst)?;
                (f, true)
            }
        };
        let off = eth.header_len() + ip.header_len()?;
        // Checksum, sequence and stamp change per frame: sum the rest once.
        let mut z = frame[off..].to_vec();
        let base_sum = if udp {
            z[udp_field::CHECKSUM].fill(0);
            z[STAMP..STAMP_END].fill(0);
            u32::from(!pseudo_header_checksum(ip.src, final_dst, IP_PROTO_UDP, &z))
        } else {
            z[icmp_field::CHECKSUM].fill(0);
            z[icmp_field::SEQ.start..STAMP_END].fill(0);
            u32::from(!checksum(&z))
        };
        Ok(Template {
            frame,
            icmp: off,
            base_sum,
            udp,
        })
    }

    /// Write request `seq` sent at `ns` into `buf`; returns its length.
    #[inline]
    pub(super) fn write(&self, buf: &mut [u8], seq: u64, ns: u64) -> usize {
        let len = self.frame.len();
        let f = &mut buf[..len];
        f.copy_from_slice(&self.frame);
        let m = &mut f[self.icmp..];
        m[STAMP..STAMP + 8].copy_from_slice(&seq.to_le_bytes());
        m[STAMP + 8..STAMP_END].copy_from_slice(&ns.to_le_bytes());
        let mut sum = self.base_sum;
        if !self.udp {
            let s16 = seq as u16;
            m[icmp_field::SEQ].copy_from_slice(&s16.to_be_bytes());
            sum += u32::from(s16);
        }
        for w in m[STAMP..STAMP_END].chunks_exact(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        let c = !(sum as u16);
        if self.udp {
            // RFC 768: a computed 0 is sent as all ones (0 means "no checksum").
            let c = if c == 0 { 0xffff } else { c };
            m[udp_field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
        } else {
            m[icmp_field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
        }
        len
    }
}
