//! IPv6 fragmentation (RFC 8200 §4.5) and reassembly. Pure: no I/O, the caller passes the time.
//!
//! Fragmenting keeps the per-fragment headers (the IPv6 header and the extension headers up to
//! and including the Routing header, or Hop-by-Hop alone without one) in every fragment, inserts
//! a Fragment header after them and cuts the rest in 8-byte units. Reassembly keys packets by
//! (source, destination, identification), gives up after a timeout, holds at most a set number
//! of bytes, and decodes atomic fragments (offset 0, M clear) at once.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use super::ipv6::IPV6_HEADER_LEN;
use super::ipv6ext::{proto, ExtChain, ExtKind, FragmentHeader, FRAGMENT_HEADER_LEN};

/// Why a packet could not be fragmented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Frag6Error {
    /// Not a whole IPv6 packet, or its extension headers do not walk.
    #[error("not a whole IPv6 packet")]
    Malformed,
    /// It already carries a Fragment header.
    #[error("the packet already carries a Fragment header")]
    AlreadyFragmented,
    /// The MTU leaves no room for 8 data bytes after the per-fragment headers.
    #[error("an MTU of {mtu} leaves no room for data after {header} bytes of per-fragment headers and the 8-byte Fragment header")]
    MtuTooSmall {
        /// The MTU.
        mtu: usize,
        /// Bytes of the per-fragment headers.
        header: usize,
    },
}

/// Length of the per-fragment part of `packet` (from the IPv6 header's start) and the offset
/// of the next-header byte that names what follows it.
fn unfragmentable(packet: &[u8]) -> Result<(usize, usize), Frag6Error> {
    if packet.len() < IPV6_HEADER_LEN || packet[0] >> 4 != 6 {
        return Err(Frag6Error::Malformed);
    }
    let payload = &packet[IPV6_HEADER_LEN..];
    let mut split = (IPV6_HEADER_LEN, 6);
    let mut seen_routing = false;
    let headers: Vec<_> = ExtChain::new(packet[6], payload)
        .collect::<Result<_, _>>()
        .map_err(|_| Frag6Error::Malformed)?;
    for h in &headers {
        if h.kind == ExtKind::Fragment {
            return Err(Frag6Error::AlreadyFragmented);
        }
    }
    for h in &headers {
        let at = IPV6_HEADER_LEN + h.offset;
        match h.kind {
            ExtKind::HopByHop if h.offset == 0 => split = (at + h.bytes.len(), at),
            ExtKind::Routing => {
                split = (at + h.bytes.len(), at);
                seen_routing = true;
            }
            // Destination options before a Routing header are per-fragment too.
            ExtKind::DestOpts
                if !seen_routing
                    && headers
                        .iter()
                        .any(|r| r.kind == ExtKind::Routing && r.offset > h.offset) =>
            {
                split = (at + h.bytes.len(), at);
            }
            _ => {}
        }
    }
    Ok(split)
}

/// Split the IPv6 `packet` into fragments of at most `mtu` bytes each, with identification
/// `ident` (the packet itself when it fits). Each fragment's data is a multiple of 8 bytes but
/// the last's.
pub fn fragment6(packet: &[u8], mtu: usize, ident: u32) -> Result<Vec<Vec<u8>>, Frag6Error> {
    let (unfrag, nh_at) = unfragmentable(packet)?;
    let total = IPV6_HEADER_LEN + usize::from(u16::from_be_bytes([packet[4], packet[5]]));
    if total > packet.len() || total < unfrag {
        return Err(Frag6Error::Malformed);
    }
    if total <= mtu {
        return Ok(vec![packet[..total].to_vec()]);
    }
    let room = mtu.saturating_sub(unfrag + FRAGMENT_HEADER_LEN) & !7;
    if room == 0 {
        return Err(Frag6Error::MtuTooSmall {
            mtu,
            header: unfrag,
        });
    }
    let next = packet[nh_at];
    let rest = &packet[unfrag..total];
    let mut out = Vec::new();
    let mut off = 0;
    while off < rest.len() {
        let n = room.min(rest.len() - off);
        let more = off + n < rest.len();
        let mut f = Vec::with_capacity(unfrag + FRAGMENT_HEADER_LEN + n);
        f.extend_from_slice(&packet[..unfrag]);
        f[nh_at] = proto::FRAGMENT;
        f.push(next);
        f.push(0);
        f.extend_from_slice(&((((off / 8) as u16) << 3) | u16::from(more)).to_be_bytes());
        f.extend_from_slice(&ident.to_be_bytes());
        f.extend_from_slice(&rest[off..off + n]);
        let pl = (f.len() - IPV6_HEADER_LEN) as u16;
        f[4..6].copy_from_slice(&pl.to_be_bytes());
        out.push(f);
        off += n;
    }
    Ok(out)
}

/// Who a fragment belongs to (RFC 8200 §4.5): source, destination, identification.
pub type Frag6Key = (Ipv6Addr, Ipv6Addr, u32);

#[derive(Debug)]
struct Pending6 {
    key: Frag6Key,
    started: Instant,
    /// The first fragment's per-fragment headers, the offset of the next-header byte to
    /// rewrite, and the Fragment header's next header.
    head: Option<(Vec<u8>, usize, u8)>,
    data: Vec<u8>,
    /// Byte ranges received, `start..end`.
    got: Vec<(usize, usize)>,
    /// Data length, once the last fragment came.
    total: Option<usize>,
}

impl Pending6 {
    fn complete(&self) -> bool {
        let Some(total) = self.total else {
            return false;
        };
        let mut r = self.got.clone();
        r.sort_unstable();
        let mut end = 0;
        for (s, e) in r {
            if s > end {
                return false;
            }
            end = end.max(e);
        }
        end >= total
    }
}

/// Reassembles fragmented IPv6 packets, with a timeout per packet and a bound on bytes held.
#[derive(Debug)]
pub struct Reassembler6 {
    pending: Vec<Pending6>,
    timeout: Duration,
    max_bytes: usize,
    /// Packets given up (timed out, evicted for room, or inconsistent).
    pub dropped: u64,
}

impl Default for Reassembler6 {
    /// 60 s per packet (RFC 8200 §4.5, Linux's ip6frag_time), 4 MiB in all.
    fn default() -> Self {
        Reassembler6::new(Duration::from_secs(60), 4 << 20)
    }
}

impl Reassembler6 {
    /// A reassembler giving up on a packet after `timeout`, holding at most `max_bytes`.
    pub fn new(timeout: Duration, max_bytes: usize) -> Self {
        Reassembler6 {
            pending: Vec::new(),
            timeout,
            max_bytes,
            dropped: 0,
        }
    }

    /// Packets being reassembled.
    pub fn in_progress(&self) -> usize {
        self.pending.len()
    }

    fn held(&self) -> usize {
        self.pending.iter().map(|p| p.data.len()).sum()
    }

    /// Take one IPv6 packet. A fragment is kept; the whole packet comes back when its last
    /// missing piece arrives (per-fragment headers of the first fragment, the Fragment header
    /// removed, payload length rewritten). An atomic fragment comes back at once, decoded the
    /// same way. A packet without a Fragment header, or malformed, gives `None`.
    pub fn push(&mut self, ip: &[u8], now: Instant) -> Option<Vec<u8>> {
        let before = self.pending.len();
        self.pending
            .retain(|p| now.saturating_duration_since(p.started) < self.timeout);
        self.dropped += (before - self.pending.len()) as u64;
        if ip.len() < IPV6_HEADER_LEN || ip[0] >> 4 != 6 {
            return None;
        }
        let end = (IPV6_HEADER_LEN + usize::from(u16::from_be_bytes([ip[4], ip[5]]))).min(ip.len());
        let ip = &ip[..end];
        let payload = &ip[IPV6_HEADER_LEN..];
        // The Fragment header and the next-header byte that names it.
        let mut nh_at = 6;
        let mut frag = None;
        for h in ExtChain::new(ip[6], payload) {
            let h = h.ok()?;
            if h.kind == ExtKind::Fragment {
                frag = Some(h);
                break;
            }
            nh_at = IPV6_HEADER_LEN + h.offset;
        }
        let h = frag?;
        let fh = FragmentHeader::new_unchecked(h.bytes);
        let unfrag = IPV6_HEADER_LEN + h.offset;
        let data = &ip[unfrag + FRAGMENT_HEADER_LEN..];
        let offset = usize::from(fh.frag_offset()) * 8;
        let more = fh.more_fragments();
        let rebuild = |head: &[u8], nh_at: usize, next: u8, data: &[u8]| -> Option<Vec<u8>> {
            let mut out = Vec::with_capacity(head.len() + data.len());
            out.extend_from_slice(head);
            out[nh_at] = next;
            out.extend_from_slice(data);
            let pl = u16::try_from(out.len() - IPV6_HEADER_LEN).ok()?;
            out[4..6].copy_from_slice(&pl.to_be_bytes());
            Some(out)
        };
        if offset == 0 && !more {
            return rebuild(&ip[..unfrag], nh_at, fh.next_header(), data);
        }
        if data.is_empty() || (more && !data.len().is_multiple_of(8)) || offset + data.len() > 65535
        {
            return None;
        }
        let key: Frag6Key = (
            super::ipv6::Ipv6Packet::new_unchecked(ip).src(),
            super::ipv6::Ipv6Packet::new_unchecked(ip).dst(),
            fh.ident(),
        );
        let i = match self.pending.iter().position(|p| p.key == key) {
            Some(i) => i,
            None => {
                self.pending.push(Pending6 {
                    key,
                    started: now,
                    head: None,
                    data: Vec::new(),
                    got: Vec::new(),
                    total: None,
                });
                self.pending.len() - 1
            }
        };
        let last = offset + data.len();
        if self.held() + last.saturating_sub(self.pending[i].data.len()) > self.max_bytes {
            let Some(j) = (0..self.pending.len()).find(|&j| j != i) else {
                self.pending.remove(i);
                self.dropped += 1;
                return None;
            };
            self.pending.remove(j);
            self.dropped += 1;
            return self.push(ip, now);
        }
        let p = &mut self.pending[i];
        if !more {
            if p.total.is_some_and(|t| t != last) || p.got.iter().any(|&(_, e)| e > last) {
                self.pending.swap_remove(i);
                self.dropped += 1;
                return None;
            }
            p.total = Some(last);
        } else if p.total.is_some_and(|t| last > t) {
            self.pending.swap_remove(i);
            self.dropped += 1;
            return None;
        }
        if p.data.len() < last {
            p.data.resize(last, 0);
        }
        p.data[offset..last].copy_from_slice(data);
        p.got.push((offset, last));
        if offset == 0 {
            p.head = Some((ip[..unfrag].to_vec(), nh_at, fh.next_header()));
        }
        if p.head.is_none() || !p.complete() {
            return None;
        }
        let p = self.pending.swap_remove(i);
        let (head, nh_at, next) = p.head?;
        let out = rebuild(&head, nh_at, next, &p.data[..p.total?]);
        if out.is_none() {
            self.dropped += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv6_tests::v;
    use crate::wire::testutil::hex;

    #[test]
    fn fragments_equal_scapy_and_reassemble_in_any_order() {
        // fragment6(IPv6(src=A,dst=B)/IPv6ExtHdrFragment(id=7)/UDP(1→2)/(bytes(range(200))*2), 200)
        let whole = hex(v::FRAG_UDP_SRC);
        let frags = fragment6(&whole, 200, 7).unwrap();
        let want = [hex(v::FRAG_UDP_0), hex(v::FRAG_UDP_1), hex(v::FRAG_UDP_2)];
        assert_eq!(frags, want);
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut r = Reassembler6::default();
            let now = Instant::now();
            let mut got = None;
            for (k, &i) in order.iter().enumerate() {
                let out = r.push(&frags[i], now);
                if k < 2 {
                    assert!(out.is_none());
                } else {
                    got = out;
                }
            }
            assert_eq!(got.unwrap(), whole, "order {order:?}");
            assert_eq!(r.in_progress(), 0);
        }
    }

    #[test]
    fn atomic_fragment_is_decoded_at_once() {
        let f = hex(v::ECHO_FRAG);
        let mut r = Reassembler6::default();
        let out = r.push(&f[14..], Instant::now()).unwrap();
        assert_eq!(out[6], 58);
        assert_eq!(out.len(), f.len() - 14 - 8);
        assert_eq!(&out[40..], &f[14 + 48..]);
        assert_eq!(r.in_progress(), 0);
    }

    #[test]
    fn routing_header_is_repeated_in_every_fragment() {
        let f = hex(v::ECHO_RT0);
        let mut p = f[14..].to_vec();
        // 80 bytes of per-fragment headers + 8 of Fragment header leave 8 data bytes at 96.
        let frags = fragment6(&p, 96, 9).unwrap();
        assert_eq!(frags.len(), 3);
        for fr in &frags {
            assert!(fr.len() <= 96);
            assert_eq!(fr[6], 43);
            assert_eq!(fr[40], 44, "the Fragment header follows the Routing header");
            assert_eq!(&fr[41..80], &p[41..80]);
        }
        let mut r = Reassembler6::default();
        let now = Instant::now();
        let mut out = None;
        for fr in frags.iter().rev() {
            out = r.push(fr, now).or(out);
        }
        assert_eq!(out.unwrap(), p);
        p[0] = 0x45;
        assert_eq!(fragment6(&p, 96, 9), Err(Frag6Error::Malformed));
        let e = fragment6(&f[14..], 80, 1).unwrap_err().to_string();
        assert!(e.contains("MTU of 80"), "{e}");
    }

    #[test]
    fn bound_and_timeout_hold() {
        let whole = hex(v::FRAG_UDP_SRC);
        let frags = fragment6(&whole, 200, 7).unwrap();
        let mut r = Reassembler6::new(Duration::from_secs(1), 4096);
        let t0 = Instant::now();
        assert!(r.push(&frags[0], t0).is_none());
        assert_eq!(r.in_progress(), 1);
        assert!(r.push(&frags[1], t0 + Duration::from_secs(2)).is_none());
        assert!(r.push(&frags[2], t0 + Duration::from_secs(2)).is_none());
        assert_eq!(
            r.dropped, 1,
            "the first piece timed out, the rest waits for it"
        );
        assert_eq!(r.in_progress(), 1);
        // 300 bytes cannot hold the last piece at offset 384.
        let mut small = Reassembler6::new(Duration::from_secs(1), 300);
        assert!(small.push(&frags[2], t0).is_none());
        assert_eq!((small.in_progress(), small.dropped), (0, 1));
        assert!(small.held() <= 300);
    }
}
