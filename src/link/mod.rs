//! Moving whole Ethernet frames on one interface. No protocol logic beyond a BPF filter.
//!
//! - [`packet`]: the two packet-socket backends ([`packet::pnet`], portable; [`packet::fast`],
//!   Linux rings) and what they share: the receive rules (`packet::rx`) and raw-IP sends on
//!   `lo` ([`packet::loopback`]);
//! - [`bpf`]: classic BPF, the programs a link attaches in the kernel;
//! - `ebpf` (Linux): the eBPF assembler, loader and BTF lookups the XDP programs are built with;
//! - `xdp` (Linux): AF_XDP transmit and live frames (`xdp::live`);
//! - [`capfile`]: capture files, read and written;
//! - `sys`: the syscall plumbing they share (sockets, `setsockopt`/`getsockopt`, descriptors).

use std::time::{Instant, SystemTime};

use crate::Result;

pub mod bpf;
pub mod capfile;
pub mod ebpf;
pub mod packet;
pub(crate) mod sys;
#[cfg(target_os = "linux")]
pub(crate) mod xdp;

pub use packet::rx::Direction;

/// One received frame with its kernel receive timestamp.
#[derive(Debug)]
pub struct RxFrame<'a> {
    /// The frame's bytes, from the Ethernet header on, with the VLAN tag the kernel moved
    /// into metadata put back in place.
    pub data: &'a [u8],
    /// When the kernel received it.
    pub timestamp: SystemTime,
    /// Its length on the wire (with the tag): more than `data.len()` when the receive buffer
    /// cut it.
    pub wire_len: usize,
    /// Sent by this host (`PACKET_OUTGOING`), not received.
    pub outgoing: bool,
}

/// Counters of one link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames handed to the kernel.
    pub sent: u64,
    /// Frames returned by [`Link::recv`].
    pub received: u64,
    /// Frames the kernel dropped because our receive buffer was full (`PACKET_STATISTICS` `tp_drops`).
    pub kernel_drops: u64,
    /// Whether the kernel honoured `PACKET_IGNORE_OUTGOING`. When false, outgoing frames are
    /// recognised by their bytes instead (see `own_frames_suppressed`).
    pub ignore_outgoing: bool,
    /// Copies of frames we sent that came back in and were not returned by `recv`
    /// (on `lo` every sent frame comes back once as an incoming frame).
    pub own_frames_suppressed: u64,
}

/// A link that sends and receives whole Ethernet frames on one interface.
pub trait Link: Send {
    /// Send one complete Ethernet frame (header included, no FCS).
    fn send(&mut self, frame: &[u8]) -> Result<()>;
    /// Wait until `deadline` for the next frame (None on timeout). Never returns our own outgoing frames.
    fn recv(&mut self, deadline: Instant) -> Result<Option<RxFrame<'_>>>;
    /// Like [`send`](Link::send), but the frame may wait to go out with the next ones, until
    /// the link is about to wait in [`recv`](Link::recv) for a frame, a batch is full, or
    /// [`flush`](Link::flush): a responder answering a burst makes one syscall for it. By
    /// default the frame is sent at once.
    fn send_batched(&mut self, frame: &[u8]) -> Result<()> {
        self.send(frame)
    }
    /// Send what [`send_batched`](Link::send_batched) left waiting.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    /// Counters so far.
    fn stats(&self) -> LinkStats;
    /// `frame` was sent by other means (a raw IP socket on `lo`): drop the copies the kernel
    /// hands back, as for frames sent through [`send`](Link::send).
    fn expect_own_copy(&mut self, _frame: &[u8]) {}
}

/// Which frames the kernel passes up to us.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RxFilter {
    /// Everything on the interface.
    All,
    /// ARP, plus IPv4 with protocol 1 (ICMP). Untagged frames only.
    #[default]
    ArpAndIcmp,
    /// A classic BPF program (e.g. compiled by [`crate::filter`]), attached in the kernel.
    Bpf(Vec<bpf::BpfInsn>),
    /// ARP, plus IPv4 ICMP whose destination address is the given one (frame offset 30).
    ArpAndIcmpTo(std::net::Ipv4Addr),
    /// ARP, plus IPv4 ICMP and IPv4 of the given protocol (UDP or TCP probes: their direct
    /// answers and the ICMP errors about them). Untagged frames only.
    ArpIcmpAnd(u8),
    /// IPv6 with ICMPv6 (NDP, echo, errors) or the given next header, or behind extension
    /// headers ([`bpf::icmp6_and`]). Untagged frames only.
    Icmp6And(u8),
}

/// The classic BPF program for `filter` as the caller meant it (None: accept everything).
pub(crate) fn filter_insns(filter: &RxFilter) -> Option<Vec<bpf::BpfInsn>> {
    match filter {
        RxFilter::All => None,
        RxFilter::ArpAndIcmp => Some(bpf::arp_and_icmp()),
        RxFilter::ArpAndIcmpTo(addr) => Some(bpf::arp_and_icmp_to(*addr)),
        RxFilter::ArpIcmpAnd(proto) => Some(bpf::arp_icmp_and(*proto)),
        RxFilter::Icmp6And(proto) => Some(bpf::icmp6_and(*proto)),
        RxFilter::Bpf(p) => Some(p.clone()),
    }
}

impl RxFilter {
    /// This filter applied to the frame inside the VLAN tags `vlans`, taking only frames that
    /// carry exactly those tags ([`bpf::under_vlan_stack`]); unchanged when `vlans` is empty.
    pub fn on_vlans(self, vlans: &crate::wire::VlanStack) -> Result<RxFilter> {
        if vlans.is_empty() {
            return Ok(self);
        }
        let inner = filter_insns(&self)
            .unwrap_or_else(|| vec![bpf::BpfInsn::new(bpf::RET_K, 0, 0, bpf::ACCEPT_LEN)]);
        bpf::under_vlan_stack(&inner, vlans)
            .map(RxFilter::Bpf)
            .map_err(|e| crate::Error::invalid(crate::Field::Vlan, e))
    }
}

/// Bytes of VLAN tags that count against the interface MTU when Linux sends a frame from a
/// packet socket: it takes MTU bytes after the 14-byte header, and 4 more only when the outer
/// TPID is 802.1Q (`packet_extra_vlan_len_allowed`), so a single 802.1Q tag is free and every
/// other tag costs its 4 bytes.
pub fn vlan_mtu_overhead(vlans: &crate::wire::VlanStack) -> usize {
    let bytes = vlans.header_bytes();
    match vlans.first() {
        Some(t) if t.tpid == crate::wire::ETHERTYPE_VLAN => bytes - packet::rx::TAG_LEN,
        _ => bytes,
    }
}

/// The program attached in the kernel for `filter`: the caller's, behind a prefix that passes
/// frames whose VLAN tag the kernel stripped (the receiver puts the tag back and runs the
/// caller's program itself, so `vlan 100` matches and an untagged-only filter drops them).
pub(crate) fn filter_program(filter: &RxFilter) -> Option<Vec<libc::sock_filter>> {
    let p = filter_insns(filter)?;
    if p.len() + 3 > bpf::MAX_INSNS {
        return Some(p.iter().map(|i| i.to_sock_filter()).collect());
    }
    Some(
        bpf::pass_vlan_tagged(&p, bpf::ACCEPT_LEN)
            .iter()
            .map(|i| i.to_sock_filter())
            .collect(),
    )
}

/// The receive rules of a link opened with `cfg` on `iface`.
pub(crate) fn rx_policy(iface: &crate::net::Interface, cfg: &LinkConfig) -> packet::rx::RxPolicy {
    packet::rx::RxPolicy {
        direction: cfg.direction,
        loopback: iface.is_loopback,
        program: filter_insns(&cfg.filter),
    }
}

/// Which implementation moves the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `pnet_datalink`: one `sendto`/`recvfrom` per frame; portable.
    Pnet,
    /// Linux rings ([`packet::fast::FastLink`]): TX ring or `sendmmsg`, TPACKET_V3 RX ring, fanout.
    Fast,
}

impl Default for Backend {
    /// `Fast` on Linux, `Pnet` elsewhere.
    fn default() -> Self {
        if cfg!(target_os = "linux") {
            Backend::Fast
        } else {
            Backend::Pnet
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Pnet => "pnet",
            Backend::Fast => "fast",
        })
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "pnet" => Ok(Backend::Pnet),
            "fast" if cfg!(target_os = "linux") => Ok(Backend::Fast),
            "fast" => Err("the fast backend needs Linux".into()),
            _ => Err(format!("{s:?}: expected pnet or fast")),
        }
    }
}

/// How to open a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// Which frames the kernel passes up.
    pub filter: RxFilter,
    /// Also receive unicast frames addressed to other MACs.
    pub promiscuous: bool,
    /// Kernel receive buffer (`SO_RCVBUF`) in bytes.
    pub buffer_size: usize,
    /// Which frames come back: received (default, what probes want), sent, or both.
    pub direction: Direction,
    /// The longest frame (Ethernet header and VLAN tags included) the receive buffer must
    /// keep whole. None: the interface's MTU (what probes need). A capture asks for more: GRO
    /// and GSO hand packet sockets frames up to 64 KiB whatever the MTU, and the MTU may be
    /// raised while it runs. Longer frames are cut, their wire length still reported.
    pub rx_max_frame: Option<usize>,
    /// Wake the reader for every frame, not once per batch: a responder answering requests
    /// as they come wants each one at once (on the fast link: a TPACKET_V2 ring, whose frames
    /// are handed over one by one, instead of TPACKET_V3 blocks that a lone frame waits in
    /// until the block's timer retires it, 1-2 ms). Batches still form at high rates.
    pub rx_per_frame: bool,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            filter: RxFilter::ArpAndIcmp,
            promiscuous: false,
            buffer_size: 1 << 20,
            direction: Direction::In,
            rx_max_frame: None,
            rx_per_frame: false,
        }
    }
}

/// Open a link on `iface` (the backend is [`packet::pnet::PnetLink`]).
pub fn open(iface: &crate::net::Interface, cfg: &LinkConfig) -> Result<Box<dyn Link>> {
    Ok(Box::new(packet::pnet::PnetLink::open(iface, cfg)?))
}

/// Open a link on `iface` with the chosen backend.
pub fn open_backend(
    backend: Backend,
    iface: &crate::net::Interface,
    cfg: &LinkConfig,
) -> Result<Box<dyn Link>> {
    match backend {
        Backend::Pnet => open(iface, cfg),
        #[cfg(target_os = "linux")]
        Backend::Fast => Ok(Box::new(packet::fast::FastLink::open(
            iface,
            cfg,
            packet::fast::FastOptions {
                // TX slots sized for the interface's MTU (jumbo frames), Ethernet header and
                // a VLAN tag included; lo's 65,536 is capped (probes on lo use a raw socket).
                max_frame: (iface.mtu as usize + 14 + 4).clamp(1514, packet::fast::MAX_FRAME),
                ..packet::fast::FastOptions::default()
            },
        )?)),
        #[cfg(not(target_os = "linux"))]
        Backend::Fast => Err(crate::Error::Unsupported {
            what: "the fast backend".into(),
            needs: "it needs Linux".into(),
        }),
    }
}

#[cfg(test)]
mod tests;
