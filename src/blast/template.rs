//! The per-thread request frame, with the checksum of its constant part precomputed.

use super::STAMP_BYTES;
use crate::wire::field::icmp as field;

/// End of the sequence number + send time at the start of the ICMP data.
const STAMP_END: usize = field::DATA + STAMP_BYTES;
use crate::wire::{build_icmp_frame, checksum, EthernetRepr, IcmpRepr, Ipv4Repr};
use crate::Result;

/// The request frame of one thread, with the checksum sum of its constant part precomputed so
/// each frame costs one copy plus a few additions.
#[derive(Clone)]
pub(super) struct Template {
    pub(super) frame: Vec<u8>,
    /// Offset of the ICMP header in the frame.
    pub(super) icmp: usize,
    /// One's-complement sum of the ICMP message with checksum, sequence and stamp zeroed.
    pub(super) base_sum: u32,
}

impl Template {
    pub(super) fn new(
        eth: &EthernetRepr,
        ip: &Ipv4Repr,
        id: u16,
        data: Vec<u8>,
    ) -> Result<Template> {
        let icmp = IcmpRepr::echo_request(id, 0, data);
        let frame = build_icmp_frame(eth, ip, &icmp)?;
        let icmp_off = frame.len() - icmp.buffer_len();
        // Checksum, ICMP sequence and stamp change per frame: sum the rest once.
        let mut z = frame[icmp_off..].to_vec();
        z[field::CHECKSUM].fill(0);
        z[field::SEQ.start..STAMP_END].fill(0);
        let base_sum = u32::from(!checksum(&z));
        Ok(Template {
            frame,
            icmp: icmp_off,
            base_sum,
        })
    }

    /// Write request `seq` sent at `ns` into `buf`; returns its length.
    #[inline]
    pub(super) fn write(&self, buf: &mut [u8], seq: u64, ns: u64) -> usize {
        let len = self.frame.len();
        let f = &mut buf[..len];
        f.copy_from_slice(&self.frame);
        let i = self.icmp;
        let s16 = seq as u16;
        let m = &mut f[i..];
        m[field::SEQ].copy_from_slice(&s16.to_be_bytes());
        m[field::DATA..field::DATA + 8].copy_from_slice(&seq.to_le_bytes());
        m[field::DATA + 8..STAMP_END].copy_from_slice(&ns.to_le_bytes());
        let mut sum = self.base_sum + u32::from(s16);
        for w in m[field::DATA..STAMP_END].chunks_exact(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        m[field::CHECKSUM].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        len
    }
}
