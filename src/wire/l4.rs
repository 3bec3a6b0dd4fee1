//! Whatever an IPv4 datagram carries, to build: ICMP, UDP, TCP or raw bytes, and the frame
//! builder for any of them (checksums over the pseudo-header of the final destination).

use std::net::Ipv4Addr;

use super::ether::EthernetRepr;
use super::icmp::IcmpRepr;
use super::ipv4::{Ipv4Repr, IP_PROTO_ICMP};
use super::tcp::{TcpRepr, IP_PROTO_TCP};
use super::udp::{UdpRepr, IP_PROTO_UDP};
use super::WireError;

/// An IPv4 payload to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L4Repr {
    /// An ICMP message.
    Icmp(IcmpRepr),
    /// A UDP datagram.
    Udp(UdpRepr),
    /// A TCP segment.
    Tcp(TcpRepr),
    /// Bytes as they are, for protocol `0`.
    Raw(u8, Vec<u8>),
}

impl L4Repr {
    /// The IP protocol number it goes under.
    pub fn protocol(&self) -> u8 {
        match self {
            L4Repr::Icmp(_) => IP_PROTO_ICMP,
            L4Repr::Udp(_) => IP_PROTO_UDP,
            L4Repr::Tcp(_) => IP_PROTO_TCP,
            L4Repr::Raw(p, _) => *p,
        }
    }

    /// Bytes [`emit`](Self::emit) writes; `Limit` for TCP options over 40 bytes.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        Ok(match self {
            L4Repr::Icmp(i) => i.buffer_len(),
            L4Repr::Udp(u) => u.buffer_len(),
            L4Repr::Tcp(t) => t.buffer_len()?,
            L4Repr::Raw(_, b) => b.len(),
        })
    }

    /// Write it into `buf` (exactly [`buffer_len`](Self::buffer_len) bytes), checksums behind
    /// the pseudo-header of `src` and `dst` — the final destination, also under a source route
    /// (RFC 1122 4.1.3.4, 4.2.2.7; Linux does the same).
    pub fn emit(&self, buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<(), WireError> {
        match self {
            L4Repr::Icmp(i) => i.emit(buf).map(|_| ()),
            L4Repr::Udp(u) => u.emit(buf, src, dst).map(|_| ()),
            L4Repr::Tcp(t) => t.emit(buf, src, dst).map(|_| ()),
            L4Repr::Raw(_, b) => {
                if buf.len() < b.len() {
                    return Err(WireError::truncated(
                        "payload output buffer",
                        b.len(),
                        buf.len(),
                    ));
                }
                buf[..b.len()].copy_from_slice(b);
                Ok(())
            }
        }
    }
}

/// Build Ethernet + IPv4 + `l4` into `buf` (cleared first); `final_dst` is the destination
/// the transport checksum is computed for (the IP destination unless source-routed). The IP
/// protocol is written as `ip` says. On error `buf` is left empty.
pub fn build_l4_frame_into(
    buf: &mut Vec<u8>,
    eth: &EthernetRepr,
    ip: &Ipv4Repr,
    l4: &L4Repr,
    final_dst: Ipv4Addr,
) -> Result<(), WireError> {
    buf.clear();
    let eh = eth.header_len();
    let ih = ip.header_len()?;
    let n = l4.buffer_len()?;
    buf.resize(eh + ih + n, 0);
    let r = eth
        .emit(&mut buf[..eh])
        .and_then(|_| ip.emit(&mut buf[eh..eh + ih], n))
        .and_then(|_| l4.emit(&mut buf[eh + ih..], ip.src, final_dst));
    if let Err(e) = r {
        buf.clear();
        return Err(e);
    }
    Ok(())
}
