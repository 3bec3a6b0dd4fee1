//! Whatever an IPv6 packet carries, to build: ICMPv6, UDP, TCP or raw bytes behind a chain of
//! extension headers, and the frame builder (checksums over the pseudo-header of the final
//! destination: the last segment when a Routing header has Segments Left above 0).

use std::net::Ipv6Addr;

use super::ether::EthernetRepr;
use super::icmpv6::{Icmpv6Repr, IP_PROTO_ICMPV6};
use super::ipv6::{Ipv6Repr, IPV6_HEADER_LEN};
use super::ipv6ext::{
    emit_ext_chain, ext_chain_len, final_destination_of, first_header, ExtHeaderRepr,
};
use super::tcp::{TcpRepr, IP_PROTO_TCP};
use super::udp::{UdpRepr, IP_PROTO_UDP};
use super::WireError;

/// An IPv6 upper-layer payload to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L6Repr {
    /// An ICMPv6 message.
    Icmpv6(Icmpv6Repr),
    /// A UDP datagram.
    Udp(UdpRepr),
    /// A TCP segment.
    Tcp(TcpRepr),
    /// Bytes as they are under a next header (59 for none).
    Raw(u8, Vec<u8>),
}

impl L6Repr {
    /// The next header number it goes under.
    pub fn protocol(&self) -> u8 {
        match self {
            L6Repr::Icmpv6(_) => IP_PROTO_ICMPV6,
            L6Repr::Udp(_) => IP_PROTO_UDP,
            L6Repr::Tcp(_) => IP_PROTO_TCP,
            L6Repr::Raw(p, _) => *p,
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        Ok(match self {
            L6Repr::Icmpv6(i) => i.buffer_len(),
            L6Repr::Udp(u) => u.buffer_len(),
            L6Repr::Tcp(t) => t.buffer_len()?,
            L6Repr::Raw(_, b) => b.len(),
        })
    }

    /// Write it into `buf`, checksums behind the IPv6 pseudo-header of `src` and `final_dst`.
    pub fn emit(
        &self,
        buf: &mut [u8],
        src: Ipv6Addr,
        final_dst: Ipv6Addr,
    ) -> Result<(), WireError> {
        match self {
            L6Repr::Icmpv6(i) => i.emit(buf, src, final_dst).map(|_| ()),
            L6Repr::Udp(u) => u.emit_v6(buf, src, final_dst).map(|_| ()),
            L6Repr::Tcp(t) => t.emit_v6(buf, src, final_dst).map(|_| ()),
            L6Repr::Raw(_, b) => {
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

/// Build the IPv6 packet `ip` + `exts` + `upper` into `buf` (cleared first). The fixed header's
/// next header is the first extension header's (or the upper layer's) whatever `ip` says; the
/// payload length counts the chain and the upper layer. On error `buf` is left empty.
pub fn build_ipv6_packet_into(
    buf: &mut Vec<u8>,
    ip: &Ipv6Repr,
    exts: &[ExtHeaderRepr],
    upper: &L6Repr,
) -> Result<(), WireError> {
    build_into(buf, None, ip, exts, upper)
}

/// Build Ethernet (with its VLAN stack) + IPv6 + `exts` + `upper` into `buf` (cleared first);
/// lengths and checksums right unless the Reprs override them, the upper-layer checksum over
/// the final destination. On error `buf` is left empty.
pub fn build_ipv6_frame_into(
    buf: &mut Vec<u8>,
    eth: &EthernetRepr,
    ip: &Ipv6Repr,
    exts: &[ExtHeaderRepr],
    upper: &L6Repr,
) -> Result<(), WireError> {
    build_into(buf, Some(eth), ip, exts, upper)
}

/// [`build_ipv6_frame_into`] into a new vector.
pub fn build_ipv6_frame(
    eth: &EthernetRepr,
    ip: &Ipv6Repr,
    exts: &[ExtHeaderRepr],
    upper: &L6Repr,
) -> Result<Vec<u8>, WireError> {
    let mut v = Vec::new();
    build_ipv6_frame_into(&mut v, eth, ip, exts, upper)?;
    Ok(v)
}

fn build_into(
    buf: &mut Vec<u8>,
    eth: Option<&EthernetRepr>,
    ip: &Ipv6Repr,
    exts: &[ExtHeaderRepr],
    upper: &L6Repr,
) -> Result<(), WireError> {
    buf.clear();
    let eh = eth.map_or(0, EthernetRepr::header_len);
    let xl = ext_chain_len(exts)?;
    let n = upper.buffer_len()?;
    buf.resize(eh + IPV6_HEADER_LEN + xl + n, 0);
    let mut hdr = ip.clone();
    hdr.next_header = first_header(exts, upper.protocol());
    let at = eh + IPV6_HEADER_LEN;
    let r = eth
        .map_or(Ok(0), |e| e.emit(&mut buf[..eh]))
        .and_then(|_| hdr.emit(&mut buf[eh..at], xl + n))
        .and_then(|_| emit_ext_chain(exts, upper.protocol(), &mut buf[at..at + xl]))
        .and_then(|_| {
            upper.emit(
                &mut buf[at + xl..],
                ip.src,
                final_destination_of(ip.dst, exts),
            )
        });
    if let Err(e) = r {
        buf.clear();
        return Err(e);
    }
    Ok(())
}
