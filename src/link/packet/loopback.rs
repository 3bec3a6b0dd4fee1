//! Sending on `lo` without changing a system setting.
//!
//! A frame injected on `lo` through a packet socket enters the IP layer with no route attached,
//! so Linux routes it as if it came from outside and drops it as a martian (a 127/8 source needs
//! `route_localnet`, any local source `accept_local`). A datagram sent through a raw IP socket
//! (`IPPROTO_RAW`, header included) leaves through the kernel's own output path instead:
//! `lo` hands it back with its route attached and nothing is checked again. So on `lo`
//! [`LoopbackLink`] sends the IP part of each frame through a raw socket and receives through
//! the packet socket as usual; no sysctl is touched.
//!
//! What the kernel changes in such a datagram: it always writes the total length and the header
//! checksum, and an identification of 0 or a source of 0.0.0.0 is filled in. Frames that rely
//! on a wrong checksum or length must go through the packet socket
//! ([`crate::net::loopback::LoopbackGuard`]).

use std::time::Instant;

use crate::link::sys::Fd;
use crate::link::{Link, LinkStats, RxFrame};
use crate::wire::{EthernetFrame, Ipv4Packet, ETHERTYPE_IPV4};
use crate::{Error, Result};

/// A link on `lo` that sends through a raw IP socket and receives through `inner`.
pub struct LoopbackLink {
    inner: Box<dyn Link>,
    raw: Fd,
    sent: u64,
}

/// Whether `frame` can go through a raw IP socket unchanged: IPv4 with a consistent header
/// (checksum right, total length equal to the bytes present, nonzero id and source).
pub fn raw_sendable(frame: &[u8]) -> bool {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return false;
    };
    if eth.ethertype() != ETHERTYPE_IPV4 || eth.tag_count() != 0 {
        return false;
    }
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
        return false;
    };
    ip.version() == 4
        && ip.verify_checksum()
        && usize::from(ip.total_len()) == eth.payload().len()
        && ip.ident() != 0
        && !ip.src().is_unspecified()
}

impl LoopbackLink {
    /// Wrap `inner` (a packet-socket link on `lo`) with a raw IP socket for sending.
    pub fn new(inner: Box<dyn Link>) -> Result<Self> {
        // SAFETY: plain socket(2) call.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
        if fd < 0 {
            return Err(Error::io(
                "opening a raw IP socket for lo".to_string(),
                std::io::Error::last_os_error(),
            ));
        }
        Ok(LoopbackLink {
            inner,
            raw: Fd(fd),
            sent: 0,
        })
    }
}

impl Link for LoopbackLink {
    fn send(&mut self, frame: &[u8]) -> Result<()> {
        if !raw_sendable(frame) {
            return Err(Error::Unsupported {
                what: "this frame on lo".into(),
                needs: "on lo only well-formed IPv4 frames (right header checksum and length) \
                        can be sent without changing lo's sysctls"
                    .into(),
            });
        }
        let eth = EthernetFrame::new_checked(frame)?;
        let ip_bytes = eth.payload();
        let dst = Ipv4Packet::new_checked(ip_bytes)?.dst();
        // SAFETY: sockaddr_in is plain old data; zeroed is a valid value.
        let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from(dst).to_be();
        // The copies lo hands back to the packet socket are ours: let the inner link drop them.
        self.inner.expect_own_copy(frame);
        loop {
            // SAFETY: the buffer and address are valid for the given lengths.
            let n = unsafe {
                libc::sendto(
                    self.raw.0,
                    ip_bytes.as_ptr().cast(),
                    ip_bytes.len(),
                    0,
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            };
            if n >= 0 {
                self.sent += 1;
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::io(
                    format!("sending {} bytes on lo (raw IP socket)", ip_bytes.len()),
                    e,
                ));
            }
        }
    }

    fn recv(&mut self, deadline: Instant) -> Result<Option<RxFrame<'_>>> {
        self.inner.recv(deadline)
    }

    fn stats(&self) -> LinkStats {
        LinkStats {
            sent: self.sent,
            ..self.inner.stats()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{build_icmp_frame, EthernetRepr, IcmpRepr, Ipv4Repr, MacAddr};

    #[test]
    fn only_consistent_ipv4_frames_go_raw() {
        let eth = EthernetRepr {
            dst: MacAddr::zero(),
            src: MacAddr::zero(),
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        let mut ip = Ipv4Repr::new([127, 0, 0, 1].into(), [127, 0, 0, 1].into(), 1);
        ip.id = 7;
        let f = build_icmp_frame(&eth, &ip, &IcmpRepr::echo_request(1, 1, vec![0; 8])).unwrap();
        assert!(raw_sendable(&f));
        let mut bad = f.clone();
        bad[24] ^= 0xff; // IP checksum
        assert!(!raw_sendable(&bad));
        let mut arp = f.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(!raw_sendable(&arp));
        assert!(!raw_sendable(&f[..20]));
    }
}
