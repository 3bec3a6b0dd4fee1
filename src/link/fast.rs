//! The Linux fast path: AF_PACKET with memory-mapped rings.
//!
//! - **TX**: a TPACKET_V2 TX ring (default) or `sendmmsg` batches ([`TxMode`]). Frames are
//!   written in place into ring slots (or preallocated batch buffers) and handed to the kernel
//!   with one syscall per batch. They pass the kernel's packet taps (tcpdump on the host sees
//!   them) unless [`FastOptions::bypass_taps`] asks for `PACKET_QDISC_BYPASS` (floods only).
//! - **RX**: a TPACKET_V3 ring on a second socket (`PACKET_IGNORE_OUTGOING` unless outgoing
//!   frames are wanted), a classic BPF filter, kernel timestamps and the stripped VLAN tag in
//!   every packet header (the tag is put back into the bytes), and optional packet fanout so
//!   several threads each own one receive ring.
//!
//! The TX socket is bound with protocol 0, so it never queues a received frame.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::pnet::OwnFrames;
use super::sys::{
    packet_socket, setsockopt, Fd, PACKET_IGNORE_OUTGOING, PACKET_STATISTICS, SOL_PACKET,
    SO_ATTACH_FILTER, SO_TIMESTAMPNS,
};
use super::xdp::{self, XdpTx};
use super::{Link, LinkConfig, LinkStats, RxFrame};
use crate::net::Interface;
use crate::{Error, Result};

const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_TX_RING: libc::c_int = 13;
const PACKET_FANOUT: libc::c_int = 18;
const PACKET_QDISC_BYPASS: libc::c_int = 20;
const PACKET_MR_PROMISC: libc::c_int = 1;
const TPACKET_V2: libc::c_int = 1;
const TPACKET_V3: libc::c_int = 2;
const PACKET_FANOUT_CPU: u32 = 2;
const SO_SNDBUFFORCE: libc::c_int = 32;
const ETH_P_ALL: u16 = 0x0003;

const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const TP_STATUS_SEND_REQUEST: u32 = 1;
const TP_STATUS_SENDING: u32 = 2;
const TP_STATUS_WRONG_FORMAT: u32 = 4;
const TP_STATUS_TS_SOFTWARE: u32 = 1 << 29;
const TP_STATUS_TS_RAW_HARDWARE: u32 = 1 << 31;

/// `struct tpacket2_hdr` is 32 bytes; frame data starts at TPACKET_ALIGN(32 + sockaddr_ll(20)).
const TPACKET2_HDRLEN: usize = 32;
/// Where a V2 TX slot's frame starts: `TPACKET2_HDRLEN - sizeof(sockaddr_ll)` = 32, as the
/// kernel's `tpacket_parse_header` computes it without `PACKET_TX_HAS_OFF`.
const TX_DATA_OFFSET: usize = TPACKET2_HDRLEN;
/// Smallest and largest TX ring slot.
const MIN_SLOT: usize = 2048;
/// The largest TX ring slot: frames longer than `MAX_SLOT - TX_DATA_OFFSET` are refused.
pub(crate) const MAX_SLOT: usize = 16384;
/// TX ring size in bytes (per link).
const TX_RING_BYTES: usize = 4 << 20;
/// RX ring: the kernel hands a block over when it is full or RX_RETIRE_MS after its first
/// frame, however empty. Blocks are therefore kept small (just above the largest frame the MTU
/// allows) and many, so a slow reader at a low rate still has buffer_size worth of blocks, not
/// a few milliseconds' worth.
const RX_MIN_BLOCK: usize = 4 << 10;
const RX_MIN_BLOCKS: usize = 16;
const RX_MAX_BYTES: usize = 64 << 20;
const RX_FRAME: usize = 2048;
const RX_RETIRE_MS: u32 = 2;

/// RX block size and count for an interface MTU and a buffer size (bytes).
///
/// ```text
/// veth (1500), 4 MiB  → 4 KiB × 1024     lo (65536), 4 MiB → 128 KiB × 32
/// ```
fn rx_geometry(mtu: u32, buffer_size: usize) -> (usize, usize) {
    // Ethernet header, VLAN tag, tpacket3 header and sockaddr_ll, rounded generously.
    let largest = mtu as usize + 14 + 4 + 256;
    let block = largest.next_power_of_two().max(RX_MIN_BLOCK);
    let blocks = (buffer_size.min(RX_MAX_BYTES) / block).max(RX_MIN_BLOCKS);
    (block, blocks)
}
/// Frames per `sendmmsg` call.
const MMSG_BATCH: usize = 256;

/// How the fast link transmits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxMode {
    /// TPACKET_V2 TX ring: frames written into shared memory, one `sendto` flushes a batch.
    #[default]
    Ring,
    /// `sendmmsg`: frames in preallocated buffers, one syscall per batch (one copy each).
    Mmsg,
    /// AF_XDP in copy mode: frames written into a UMEM, one `sendto` transmits a batch
    /// (`link::xdp`); bound to one queue ([`FastOptions::queue`]).
    Xdp,
    /// AF_XDP when the interface and kernel allow it, else the TX ring.
    Auto,
    /// XDP live frames (`xdp_live`), driven by the caller beside this link; the
    /// link itself then transmits (ARP, single frames) with the TX ring.
    Live,
}

impl std::fmt::Display for TxMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TxMode::Ring => "tx-ring",
            TxMode::Mmsg => "sendmmsg",
            TxMode::Xdp => "af_xdp",
            TxMode::Auto => "auto",
            TxMode::Live => "live",
        })
    }
}

impl std::str::FromStr for TxMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "ring" => Ok(TxMode::Ring),
            "sendmmsg" | "mmsg" => Ok(TxMode::Mmsg),
            "xdp" | "af_xdp" => Ok(TxMode::Xdp),
            "auto" => Ok(TxMode::Auto),
            "live" => Ok(TxMode::Live),
            _ => Err(format!("{s:?}: expected auto, live, xdp, ring or sendmmsg")),
        }
    }
}

#[repr(C)]
struct TpacketReq {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
}

#[repr(C)]
struct TpacketReq3 {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
    retire_blk_tov: u32,
    sizeof_priv: u32,
    feature_req_word: u32,
}

/// `struct tpacket_block_desc` with `tpacket_hdr_v1` inlined.
#[repr(C)]
struct BlockDesc {
    version: u32,
    offset_to_priv: u32,
    block_status: u32,
    num_pkts: u32,
    offset_to_first_pkt: u32,
    blk_len: u32,
    seq_num: u64,
    // ts_first_pkt, ts_last_pkt follow; unused.
}

/// `struct tpacket3_hdr`.
#[repr(C)]
struct Tpacket3Hdr {
    tp_next_offset: u32,
    tp_sec: u32,
    tp_nsec: u32,
    tp_snaplen: u32,
    tp_len: u32,
    tp_status: u32,
    tp_mac: u16,
    tp_net: u16,
    // hv1
    tp_rxhash: u32,
    tp_vlan_tci: u32,
    tp_vlan_tpid: u16,
    tp_padding: u16,
    tp_padding2: [u8; 8],
}

/// Where the `sockaddr_ll` follows a `tpacket3_hdr` (TPACKET_ALIGN(48)), and its
/// `sll_pkttype` byte within it.
const TP3_SLL: usize = 48;
const SLL_PKTTYPE: usize = 10;
/// The first byte the VLAN tag may be moved into: after that `sockaddr_ll`.
const TP3_SLL_END: usize = TP3_SLL + std::mem::size_of::<libc::sockaddr_ll>();

/// `struct tpacket2_hdr`.
#[repr(C)]
struct Tpacket2Hdr {
    tp_status: u32,
    tp_len: u32,
    tp_snaplen: u32,
    tp_mac: u16,
    tp_net: u16,
    tp_sec: u32,
    tp_nsec: u32,
    tp_vlan_tci: u16,
    tp_vlan_tpid: u16,
    tp_padding: [u8; 4],
}

struct Mmap {
    ptr: *mut u8,
    len: usize,
}

impl Mmap {
    fn new(fd: RawFd, len: usize) -> io::Result<Mmap> {
        // SAFETY: a fresh shared mapping of the socket's ring; checked for MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mmap { ptr: p.cast(), len })
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn sockaddr_ll(ifindex: u32, protocol: u16) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain data; all-zero is valid.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = protocol.to_be();
    sa.sll_ifindex = ifindex as i32;
    sa
}

fn bind(fd: RawFd, iface: &Interface, protocol: u16) -> Result<()> {
    let sa = sockaddr_ll(iface.index, protocol);
    // SAFETY: binding to a valid sockaddr_ll.
    let rc = unsafe {
        libc::bind(
            fd,
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(Error::io(
            format!("binding a packet socket to {}", iface.name),
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// The TX ring slot size for frames up to `frame_len` bytes, or None when none fits.
pub(crate) fn tx_slot_for(frame_len: usize) -> Option<usize> {
    let need = frame_len + TX_DATA_OFFSET;
    (need <= MAX_SLOT).then(|| need.next_power_of_two().max(MIN_SLOT))
}

/// Largest frame the TX ring can carry.
pub const MAX_FRAME: usize = MAX_SLOT - TX_DATA_OFFSET;

enum Tx {
    Ring {
        map: Mmap,
        slot: usize,
        slots: usize,
        next: usize,
        /// Slots filled since the last flush.
        pending: usize,
    },
    Mmsg {
        bufs: Vec<u8>,
        slot: usize,
        lens: Vec<usize>,
        iov: Vec<libc::iovec>,
        msgs: Vec<libc::mmsghdr>,
        addr: Box<libc::sockaddr_ll>,
    },
    Xdp(Box<XdpTx>),
}

// SAFETY: the raw pointers point into memory owned by the value itself (mapping, vectors).
unsafe impl Send for Tx {}

/// Receive ring cursor.
struct Rx {
    map: Mmap,
    /// Bytes per block and number of blocks.
    block_size: usize,
    blocks: usize,
    block: usize,
    /// Packets left in the current user-owned block, and the offset of the next one.
    left: u32,
    offset: usize,
}
// SAFETY: as for Tx.
unsafe impl Send for Rx {}

/// Options of the fast link beyond [`LinkConfig`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FastOptions {
    /// How frames are transmitted.
    pub tx_mode: TxMode,
    /// Largest frame this link will send (sizes the TX slots); 0: 1514.
    pub max_frame: usize,
    /// The device queue an AF_XDP socket binds to (one socket per queue).
    pub queue: u32,
    /// Transmit with `PACKET_QDISC_BYPASS`: faster, but the frames skip the kernel's packet
    /// taps, so no capture on this host (tcpdump included) sees them. For floods only.
    pub bypass_taps: bool,
}

/// A fast-path link on one interface (see the module docs).
pub struct FastLink {
    iface: Interface,
    tx_fd: Fd,
    rx_fd: Fd,
    tx: Tx,
    rx: Rx,
    sent: u64,
    received: u64,
    kernel_ts: u64,
    drops: std::cell::Cell<u64>,
    ignore_outgoing: bool,
    own: OwnFrames,
    suppressed: u64,
    /// Scratch for the single-frame `recv` on `lo` (own-frame check needs the bytes).
    ethertype_hint: u16,
    policy: super::rx::RxPolicy,
    /// A frame whose tag could not be put back in the ring slot is copied here.
    scratch: Vec<u8>,
}

/// One frame from the ring, after the direction and VLAN rules.
struct RxSlot {
    ptr: *const u8,
    len: usize,
    wire_len: usize,
    outgoing: bool,
    ts: SystemTime,
    /// The bytes are in `scratch`, not at `ptr`.
    copied: bool,
}

impl FastLink {
    /// Open the TX and RX sockets and rings on `iface`.
    pub fn open(iface: &Interface, cfg: &LinkConfig, opts: FastOptions) -> Result<FastLink> {
        let max_frame = if opts.max_frame == 0 {
            1514
        } else {
            opts.max_frame
        };
        let slot = tx_slot_for(max_frame).ok_or_else(|| {
            Error::Invalid(format!(
                "a {max_frame}-byte frame does not fit the TX ring slot (at most {MAX_FRAME} bytes)"
            ))
        })?;
        let ctx = |what: &str| format!("{what} on {}", iface.name);

        // ---- TX socket.
        let tx_fd = packet_socket(iface)?;
        let one: libc::c_int = 1;
        if opts.bypass_taps {
            setsockopt(tx_fd.0, SOL_PACKET, PACKET_QDISC_BYPASS, &one)
                .map_err(|e| Error::io(ctx("setting PACKET_QDISC_BYPASS"), e))?;
        }
        let sndbuf: libc::c_int = 4 << 20;
        let _ = setsockopt(tx_fd.0, libc::SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf);
        let xdp_fits = max_frame <= xdp::FRAME_SIZE as usize;
        let mut mode = match opts.tx_mode {
            TxMode::Live => TxMode::Ring,
            m => m,
        };
        let mut xdp_tx = None;
        if matches!(mode, TxMode::Xdp | TxMode::Auto) {
            match XdpTx::open(iface.index, opts.queue) {
                Ok(x) if xdp_fits => xdp_tx = Some(Box::new(x)),
                Ok(_) if mode == TxMode::Xdp => {
                    return Err(Error::Invalid(format!(
                        "a {max_frame}-byte frame does not fit an AF_XDP frame ({} bytes)",
                        xdp::FRAME_SIZE
                    )))
                }
                Err(e) if mode == TxMode::Xdp => {
                    return Err(Error::io(
                        ctx(&format!("opening an AF_XDP socket on queue {}", opts.queue)),
                        e,
                    ))
                }
                _ => mode = TxMode::Ring,
            }
        }
        let tx = match mode {
            TxMode::Xdp | TxMode::Auto => Tx::Xdp(
                xdp_tx
                    .take()
                    .ok_or_else(|| Error::Invalid("AF_XDP socket missing".into()))?,
            ),
            TxMode::Ring | TxMode::Live => {
                setsockopt(tx_fd.0, SOL_PACKET, PACKET_VERSION, &TPACKET_V2)
                    .map_err(|e| Error::io(ctx("selecting TPACKET_V2"), e))?;
                let block = slot.max(1 << 16);
                let req = TpacketReq {
                    block_size: block as u32,
                    block_nr: (TX_RING_BYTES / block) as u32,
                    frame_size: slot as u32,
                    frame_nr: (TX_RING_BYTES / slot) as u32,
                };
                setsockopt(tx_fd.0, SOL_PACKET, PACKET_TX_RING, &req)
                    .map_err(|e| Error::io(ctx("setting up the TX ring"), e))?;
                let map = Mmap::new(tx_fd.0, TX_RING_BYTES)
                    .map_err(|e| Error::io(ctx("mapping the TX ring"), e))?;
                Tx::Ring {
                    map,
                    slot,
                    slots: TX_RING_BYTES / slot,
                    next: 0,
                    pending: 0,
                }
            }
            TxMode::Mmsg => {
                let addr = Box::new(sockaddr_ll(iface.index, 0x0800));
                Tx::Mmsg {
                    bufs: vec![0u8; MMSG_BATCH * slot],
                    slot,
                    lens: vec![0; MMSG_BATCH],
                    // SAFETY: plain C structs; pointers are set before each use.
                    iov: vec![unsafe { std::mem::zeroed() }; MMSG_BATCH],
                    msgs: vec![unsafe { std::mem::zeroed() }; MMSG_BATCH],
                    addr,
                }
            }
        };
        bind(tx_fd.0, iface, 0)?;

        // ---- RX socket.
        let rx_fd = packet_socket(iface)?;
        let ignore_outgoing = cfg.direction == super::Direction::In
            && setsockopt(rx_fd.0, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one).is_ok();
        if let Some(mut prog) = super::filter_program(&cfg.filter) {
            let fprog = libc::sock_fprog {
                len: prog.len() as libc::c_ushort,
                filter: prog.as_mut_ptr(),
            };
            setsockopt(rx_fd.0, libc::SOL_SOCKET, SO_ATTACH_FILTER, &fprog)
                .map_err(|e| Error::io(ctx("attaching the receive filter"), e))?;
        }
        // Turns on receive timestamping in the stack (net_enable_timestamp), so ring headers
        // carry the skb's receive time (TP_STATUS_TS_SOFTWARE), not the time the ring was
        // filled.
        setsockopt(rx_fd.0, libc::SOL_SOCKET, SO_TIMESTAMPNS, &one)
            .map_err(|e| Error::io(ctx("enabling receive timestamps"), e))?;
        setsockopt(rx_fd.0, SOL_PACKET, PACKET_VERSION, &TPACKET_V3)
            .map_err(|e| Error::io(ctx("selecting TPACKET_V3"), e))?;
        let (block_size, blocks) = rx_geometry(iface.mtu, cfg.buffer_size);
        let req = TpacketReq3 {
            block_size: block_size as u32,
            block_nr: blocks as u32,
            frame_size: RX_FRAME as u32,
            frame_nr: (block_size * blocks / RX_FRAME) as u32,
            retire_blk_tov: RX_RETIRE_MS,
            sizeof_priv: 0,
            feature_req_word: 0,
        };
        setsockopt(rx_fd.0, SOL_PACKET, PACKET_RX_RING, &req)
            .map_err(|e| Error::io(ctx("setting up the RX ring"), e))?;
        let rx_map = Mmap::new(rx_fd.0, block_size * blocks)
            .map_err(|e| Error::io(ctx("mapping the RX ring"), e))?;
        bind(rx_fd.0, iface, ETH_P_ALL)?;
        if cfg.promiscuous {
            #[repr(C)]
            struct PacketMreq {
                ifindex: libc::c_int,
                ty: u16,
                alen: u16,
                address: [u8; 8],
            }
            let mr = PacketMreq {
                ifindex: iface.index as libc::c_int,
                ty: PACKET_MR_PROMISC as u16,
                alen: 0,
                address: [0; 8],
            };
            setsockopt(rx_fd.0, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr)
                .map_err(|e| Error::io(ctx("enabling promiscuous mode"), e))?;
        }

        let copies_per_send = if cfg.direction == super::Direction::In {
            usize::from(iface.is_loopback) + usize::from(!ignore_outgoing)
        } else {
            0
        };
        Ok(FastLink {
            policy: super::rx_policy(iface, cfg),
            scratch: Vec::new(),
            iface: iface.clone(),
            tx_fd,
            rx_fd,
            tx,
            rx: Rx {
                map: rx_map,
                block_size,
                blocks,
                block: 0,
                left: 0,
                offset: 0,
            },
            sent: 0,
            received: 0,
            kernel_ts: 0,
            drops: std::cell::Cell::new(0),
            ignore_outgoing,
            own: OwnFrames::new(copies_per_send),
            suppressed: 0,
            ethertype_hint: 0x0800,
        })
    }

    /// Join packet fanout group `id` (mode CPU: each receive ring gets the frames the kernel
    /// processed on "its" CPU). Every link of one blast joins the same group, so each frame
    /// reaches exactly one ring.
    pub fn join_fanout(&mut self, id: u16) -> Result<()> {
        let arg: u32 = u32::from(id) | (PACKET_FANOUT_CPU << 16);
        setsockopt(self.rx_fd.0, SOL_PACKET, PACKET_FANOUT, &arg).map_err(|e| {
            Error::io(
                format!("joining packet fanout group {id} on {}", self.iface.name),
                e,
            )
        })
    }

    /// Frames received with a kernel timestamp (software or hardware) in the ring header.
    pub fn kernel_timestamped(&self) -> u64 {
        self.kernel_ts
    }

    /// Largest frame one TX slot carries.
    pub fn max_frame(&self) -> usize {
        match &self.tx {
            Tx::Ring { slot, .. } | Tx::Mmsg { slot, .. } => slot - TX_DATA_OFFSET,
            Tx::Xdp(_) => xdp::FRAME_SIZE as usize,
        }
    }

    /// How this link transmits (what `TxMode::Auto` settled on).
    pub fn tx_mode(&self) -> TxMode {
        match &self.tx {
            Tx::Ring { .. } => TxMode::Ring,
            Tx::Mmsg { .. } => TxMode::Mmsg,
            Tx::Xdp(_) => TxMode::Xdp,
        }
    }

    fn tx_slot_ptr(map: &Mmap, slot: usize, i: usize) -> *mut u8 {
        // SAFETY: i < slots, so the slot lies inside the mapping.
        unsafe { map.ptr.add(i * slot) }
    }

    /// Flush queued TX slots with one syscall. Returns an error when the kernel refuses.
    fn tx_flush(&mut self) -> Result<()> {
        if let Tx::Xdp(x) = &mut self.tx {
            let r = x.kick();
            return r.map_err(|e| self.tx_error(e));
        }
        match &mut self.tx {
            Tx::Xdp(_) => Ok(()),
            Tx::Ring { pending, .. } => {
                if *pending == 0 {
                    return Ok(());
                }
                let sa = sockaddr_ll(self.iface.index, self.ethertype_hint);
                loop {
                    // SAFETY: zero-length sendto flushes the TX ring.
                    let rc = unsafe {
                        libc::sendto(
                            self.tx_fd.0,
                            std::ptr::null(),
                            0,
                            libc::MSG_DONTWAIT,
                            (&sa as *const libc::sockaddr_ll).cast(),
                            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                        )
                    };
                    if rc >= 0 {
                        // The kernel may stop early (socket buffer full); what it left stays
                        // queued and goes with the next flush or `tx_drain`.
                        if let Tx::Ring { pending, .. } = &mut self.tx {
                            *pending = 0;
                        }
                        return Ok(());
                    }
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => continue,
                        // Socket buffer momentarily full: the frames stay queued and go out
                        // with the next flush.
                        Some(libc::EAGAIN) | Some(libc::ENOBUFS) => return Ok(()),
                        _ => return Err(self.tx_error(e)),
                    }
                }
            }
            Tx::Mmsg {
                bufs,
                slot,
                lens,
                iov,
                msgs,
                addr,
            } => {
                let n = lens.len().min(msgs.len());
                let n = lens[..n].iter().take_while(|&&l| l > 0).count();
                if n == 0 {
                    return Ok(());
                }
                addr.sll_protocol = self.ethertype_hint.to_be();
                for i in 0..n {
                    iov[i].iov_base = bufs[i * *slot..].as_mut_ptr().cast();
                    iov[i].iov_len = lens[i];
                    let h = &mut msgs[i].msg_hdr;
                    h.msg_name = (&mut **addr as *mut libc::sockaddr_ll).cast();
                    h.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                    h.msg_iov = &mut iov[i];
                    h.msg_iovlen = 1;
                }
                let mut done = 0;
                while done < n {
                    // SAFETY: msgs[done..n] are filled above and point into `bufs`.
                    let rc = unsafe {
                        libc::sendmmsg(
                            self.tx_fd.0,
                            msgs[done..].as_mut_ptr(),
                            (n - done) as libc::c_uint,
                            0,
                        )
                    };
                    if rc < 0 {
                        let e = io::Error::last_os_error();
                        match e.raw_os_error() {
                            Some(libc::EINTR) => continue,
                            Some(libc::ENOBUFS) | Some(libc::EAGAIN) => {
                                std::thread::yield_now();
                                continue;
                            }
                            _ => {
                                lens.iter_mut().for_each(|l| *l = 0);
                                let err =
                                    io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0));
                                return Err(Error::io(
                                    format!("sending on {}", self.iface.name),
                                    err,
                                ));
                            }
                        }
                    }
                    done += rc as usize;
                }
                lens.iter_mut().for_each(|l| *l = 0);
                Ok(())
            }
        }
    }

    fn tx_error(&self, e: io::Error) -> Error {
        let down = matches!(e.raw_os_error(), Some(libc::ENETDOWN) | Some(libc::ENXIO));
        Error::io(
            if down {
                format!("sending on {}: the interface went down", self.iface.name)
            } else {
                format!("sending on {}", self.iface.name)
            },
            e,
        )
    }

    /// Flush until every queued TX slot has been taken by the kernel, or `deadline`.
    pub fn tx_drain(&mut self, deadline: Instant) -> Result<()> {
        loop {
            let busy = match &mut self.tx {
                Tx::Ring {
                    map,
                    slot,
                    slots,
                    pending,
                    ..
                } => {
                    let busy = (0..*slots).any(|i| {
                        let hdr = Self::tx_slot_ptr(map, *slot, i) as *const Tpacket2Hdr;
                        // SAFETY: see tx_wait_slot.
                        let st = unsafe { std::ptr::read_volatile(&(*hdr).tp_status) };
                        st & TP_STATUS_SEND_REQUEST != 0
                    });
                    if busy {
                        *pending = (*pending).max(1);
                    }
                    busy
                }
                Tx::Mmsg { .. } => false,
                Tx::Xdp(x) => {
                    x.reap();
                    x.in_flight() > 0
                }
            };
            if !busy {
                return Ok(());
            }
            self.tx_flush()?;
            if Instant::now() >= deadline {
                return Ok(());
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    /// Wait up to `deadline` for a free TX slot (the kernel frees them as frames leave).
    fn tx_wait_slot(&mut self, deadline: Instant) -> Result<bool> {
        loop {
            let free = match &mut self.tx {
                Tx::Ring {
                    map, slot, next, ..
                } => {
                    let hdr = Self::tx_slot_ptr(map, *slot, *next) as *const Tpacket2Hdr;
                    // SAFETY: the header lies in the mapping; the kernel writes it concurrently,
                    // hence the volatile read.
                    let st = unsafe { std::ptr::read_volatile(&(*hdr).tp_status) };
                    if st & TP_STATUS_WRONG_FORMAT != 0 {
                        return Err(Error::Invalid(format!(
                            "the kernel refused a frame on {} (TP_STATUS_WRONG_FORMAT)",
                            self.iface.name
                        )));
                    }
                    st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING) == 0
                }
                Tx::Mmsg { .. } => true,
                Tx::Xdp(x) => x.has_room(),
            };
            if free {
                return Ok(true);
            }
            // Ring full: push out what is queued, then give the kernel a moment.
            self.tx_flush()?;
            if Instant::now() >= deadline {
                return Ok(false);
            }
            let fd = match &self.tx {
                Tx::Xdp(x) => x.raw_fd(),
                _ => self.tx_fd.0,
            };
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, 1) };
            if p.revents & libc::POLLERR != 0 {
                return Err(self.sock_error(fd));
            }
        }
    }

    fn sock_error(&self, fd: RawFd) -> Error {
        let mut err: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: SO_ERROR writes one int.
        unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        let e = if err != 0 {
            io::Error::from_raw_os_error(err)
        } else {
            io::Error::other("socket error")
        };
        if err == libc::ENETDOWN {
            Error::io(format!("{}: the interface went down", self.iface.name), e)
        } else {
            Error::io(format!("packet socket on {}", self.iface.name), e)
        }
    }

    /// Queue up to `n` frames written in place by `fill(i, slot) -> len` and flush them with one
    /// syscall. Returns how many were queued: fewer than `n` when the ring is full.
    /// `fill` must return a length ≤ the slot length; 0 skips the slot.
    pub fn send_in_place(
        &mut self,
        n: usize,
        fill: &mut dyn FnMut(usize, &mut [u8]) -> usize,
    ) -> Result<usize> {
        let mut queued = 0;
        match &mut self.tx {
            Tx::Ring {
                map,
                slot,
                slots,
                next,
                pending,
            } => {
                while queued < n {
                    let base = Self::tx_slot_ptr(map, *slot, *next);
                    let hdr = base as *mut Tpacket2Hdr;
                    // SAFETY: see tx_wait_slot.
                    let st = unsafe { std::ptr::read_volatile(&(*hdr).tp_status) };
                    if st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT)
                        != 0
                    {
                        break;
                    }
                    // SAFETY: the data area of a slot we own (status AVAILABLE).
                    let data = unsafe {
                        std::slice::from_raw_parts_mut(
                            base.add(TX_DATA_OFFSET),
                            *slot - TX_DATA_OFFSET,
                        )
                    };
                    let len = fill(queued, data);
                    queued += 1;
                    if len == 0 {
                        continue;
                    }
                    // SAFETY: header fields of a slot we own; the fence orders the data
                    // before the status the kernel polls.
                    unsafe {
                        (*hdr).tp_len = len as u32;
                        fence(Ordering::Release);
                        std::ptr::write_volatile(&mut (*hdr).tp_status, TP_STATUS_SEND_REQUEST);
                    }
                    *next = (*next + 1) % *slots;
                    *pending += 1;
                    self.sent += 1;
                }
            }
            Tx::Mmsg {
                bufs, slot, lens, ..
            } => {
                let n = n.min(MMSG_BATCH);
                while queued < n {
                    let data = &mut bufs[queued * *slot..(queued + 1) * *slot];
                    let len = fill(queued, data);
                    lens[queued] = len;
                    queued += 1;
                    if len > 0 {
                        self.sent += 1;
                    }
                }
                // Compact skipped slots is unnecessary: a 0 length ends the batch, so keep
                // only the prefix before the first skipped one.
            }
            Tx::Xdp(x) => {
                let (calls, sent) = x.queue(n, fill);
                queued = calls;
                self.sent += sent;
            }
        }
        self.tx_flush()?;
        Ok(queued)
    }

    /// Hand every frame already in the receive ring to `f` (data, kernel timestamp), without
    /// waiting. Returns how many frames were handed over.
    pub fn recv_in_place(&mut self, f: &mut dyn FnMut(&[u8], SystemTime)) -> Result<usize> {
        let mut n = 0;
        while let Some(slot) = self.next_frame() {
            if self.own.is_active()
                && self
                    .own
                    .take(slot_bytes(&self.scratch, &slot), Instant::now())
            {
                self.suppressed += 1;
                continue;
            }
            self.received += 1;
            n += 1;
            f(self.slot_bytes(&slot), slot.ts);
        }
        Ok(n)
    }

    /// The bytes of a frame `next_frame` returned.
    fn slot_bytes(&self, s: &RxSlot) -> &[u8] {
        slot_bytes(&self.scratch, s)
    }

    /// The next frame the direction rule wants, its VLAN tag put back and, when it had one,
    /// the filter run again on the restored bytes.
    fn next_frame(&mut self) -> Option<RxSlot> {
        loop {
            let (ptr, len, ts, hdr) = self.next_rx()?;
            // SAFETY: hdr is the frame's tpacket3_hdr, inside a block we own (next_rx checked
            // the frame's bounds, which lie past the header and its sockaddr_ll).
            let (status, tci, tpid, wire, pkttype) = unsafe {
                let h = &*hdr;
                let pkttype = *(hdr as *const u8).add(TP3_SLL + SLL_PKTTYPE);
                (
                    h.tp_status,
                    h.tp_vlan_tci as u16,
                    h.tp_vlan_tpid,
                    h.tp_len as usize,
                    pkttype,
                )
            };
            if !self.policy.wants(pkttype) {
                continue;
            }
            let outgoing = pkttype == super::rx::PACKET_OUTGOING;
            let mut slot = RxSlot {
                ptr,
                len,
                wire_len: wire,
                outgoing,
                ts,
                copied: false,
            };
            let Some(tag) = super::rx::stripped_tag(status, tci, tpid) else {
                return Some(slot);
            };
            if len < 12 {
                return Some(slot);
            }
            let room = ptr as usize - hdr as usize;
            if room >= TP3_SLL_END + super::rx::TAG_LEN {
                // SAFETY: the 4 bytes before the frame are padding after the sockaddr_ll in
                // a block we own; the mapping is writable.
                unsafe {
                    let start = (ptr as *mut u8).sub(super::rx::TAG_LEN);
                    std::ptr::copy(ptr, start, 12);
                    let t = start.add(12);
                    std::ptr::copy_nonoverlapping(tag.0.to_be_bytes().as_ptr(), t, 2);
                    std::ptr::copy_nonoverlapping(tag.1.to_be_bytes().as_ptr(), t.add(2), 2);
                    slot.ptr = start;
                }
            } else {
                self.scratch.clear();
                self.scratch.resize(super::rx::TAG_LEN, 0);
                // SAFETY: as in slot_bytes.
                self.scratch
                    .extend_from_slice(unsafe { std::slice::from_raw_parts(ptr, len) });
                super::rx::insert_tag(&mut self.scratch, super::rx::TAG_LEN, len, tag);
                slot.copied = true;
            }
            slot.len += super::rx::TAG_LEN;
            slot.wire_len += super::rx::TAG_LEN;
            if self.policy.accepts_retagged(self.slot_bytes(&slot)) {
                return Some(slot);
            }
        }
    }

    /// The next frame of the ring (pointer, length, timestamp, its header), releasing
    /// exhausted blocks.
    fn next_rx(&mut self) -> Option<(*const u8, usize, SystemTime, *const Tpacket3Hdr)> {
        loop {
            let base = self.rx.map.ptr;
            // SAFETY: block < blocks, so the descriptor lies in the mapping.
            let bd = unsafe { base.add(self.rx.block * self.rx.block_size) } as *mut BlockDesc;
            if self.rx.left == 0 {
                if self.rx.offset != 0 {
                    // Finished with this block: give it back and move on.
                    fence(Ordering::Release);
                    // SAFETY: status word of a block we own.
                    unsafe { std::ptr::write_volatile(&mut (*bd).block_status, TP_STATUS_KERNEL) };
                    self.rx.offset = 0;
                    self.rx.block = (self.rx.block + 1) % self.rx.blocks;
                    continue;
                }
                // SAFETY: volatile read of a status the kernel writes.
                let st = unsafe { std::ptr::read_volatile(&(*bd).block_status) };
                if st & TP_STATUS_USER == 0 {
                    return None;
                }
                fence(Ordering::Acquire);
                // SAFETY: the block is ours now.
                let (num, first) = unsafe { ((*bd).num_pkts, (*bd).offset_to_first_pkt) };
                if num == 0 {
                    self.rx.offset = 1; // empty block: release it on the next turn
                    continue;
                }
                self.rx.left = num;
                self.rx.offset = first as usize;
            }
            let block_base = bd as *const u8;
            if self.rx.offset + std::mem::size_of::<Tpacket3Hdr>() > self.rx.block_size {
                self.rx.left = 0;
                self.rx.offset = 1;
                continue;
            }
            // SAFETY: offset within the block (checked above).
            let hp = unsafe { block_base.add(self.rx.offset) } as *const Tpacket3Hdr;
            // SAFETY: as above.
            let h = unsafe { &*hp };
            let mac = usize::from(h.tp_mac);
            let len = h.tp_snaplen as usize;
            let ok = mac >= TP3_SLL_END && self.rx.offset + mac + len <= self.rx.block_size;
            // SAFETY: bounds checked by `ok`.
            let ptr = unsafe { block_base.add(self.rx.offset + mac) };
            let ts = SystemTime::UNIX_EPOCH + Duration::new(u64::from(h.tp_sec), h.tp_nsec);
            if h.tp_status & (TP_STATUS_TS_SOFTWARE | TP_STATUS_TS_RAW_HARDWARE) != 0 {
                self.kernel_ts += 1;
            }
            self.rx.left -= 1;
            if self.rx.left == 0 || h.tp_next_offset == 0 {
                self.rx.left = 0;
                self.rx.offset = self.rx.offset.max(1);
            } else {
                self.rx.offset += h.tp_next_offset as usize;
            }
            if ok {
                return Some((ptr, len, ts, hp));
            }
        }
    }

    /// Wait until a receive block is ready or `deadline` passes. Errors when the socket reports
    /// one (e.g. the interface went down).
    pub fn wait_rx(&mut self, deadline: Instant) -> Result<()> {
        if self.rx.left > 0 {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let ts = libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        let mut p = libc::pollfd {
            fd: self.rx_fd.0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd and timespec.
        let rc = unsafe { libc::ppoll(&mut p, 1, &ts, std::ptr::null()) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(Error::io(format!("waiting on {}", self.iface.name), e));
        }
        if rc > 0 && p.revents & libc::POLLERR != 0 {
            return Err(self.sock_error(self.rx_fd.0));
        }
        Ok(())
    }

    /// Check for an asynchronous socket error (e.g. the interface went down).
    pub fn check_error(&self) -> Result<()> {
        let mut p = libc::pollfd {
            fd: self.rx_fd.0,
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no waiting.
        unsafe { libc::poll(&mut p, 1, 0) };
        if p.revents & libc::POLLERR != 0 {
            return Err(self.sock_error(self.rx_fd.0));
        }
        Ok(())
    }
}

/// The bytes of a frame `next_frame` returned (`scratch`: the link's copy buffer).
fn slot_bytes<'a>(scratch: &'a [u8], s: &RxSlot) -> &'a [u8] {
    if s.copied {
        &scratch[..s.len]
    } else {
        // SAFETY: the frame lies inside a ring block we own until the next next_rx call,
        // which needs the link mutably, as the scratch borrow does.
        unsafe { std::slice::from_raw_parts(s.ptr, s.len) }
    }
}

impl Link for FastLink {
    fn expect_own_copy(&mut self, frame: &[u8]) {
        self.own.remember(frame, Instant::now());
    }

    fn send(&mut self, frame: &[u8]) -> Result<()> {
        if frame.len() > self.max_frame() {
            return Err(Error::Invalid(format!(
                "a {}-byte frame does not fit the TX slot ({} bytes)",
                frame.len(),
                self.max_frame()
            )));
        }
        if !self.tx_wait_slot(Instant::now() + Duration::from_secs(1))? {
            return Err(Error::Invalid(format!(
                "TX ring on {} stayed full for 1 s",
                self.iface.name
            )));
        }
        if frame.len() >= 14 {
            self.ethertype_hint = u16::from_be_bytes([frame[12], frame[13]]);
        }
        self.own.remember(frame, Instant::now());
        let n = self.send_in_place(1, &mut |_, buf| {
            buf[..frame.len()].copy_from_slice(frame);
            frame.len()
        })?;
        self.ethertype_hint = 0x0800;
        if n == 1 {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "TX ring on {} is full",
                self.iface.name
            )))
        }
    }

    fn recv(&mut self, deadline: Instant) -> Result<Option<RxFrame<'_>>> {
        loop {
            if let Some(slot) = self.next_frame() {
                if self.own.is_active()
                    && self
                        .own
                        .take(slot_bytes(&self.scratch, &slot), Instant::now())
                {
                    self.suppressed += 1;
                    continue;
                }
                self.received += 1;
                return Ok(Some(RxFrame {
                    data: self.slot_bytes(&slot),
                    timestamp: slot.ts,
                    wire_len: slot.wire_len,
                    outgoing: slot.outgoing,
                }));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            self.wait_rx(deadline)?;
        }
    }

    fn stats(&self) -> LinkStats {
        #[repr(C)]
        struct StatsV3 {
            tp_packets: u32,
            tp_drops: u32,
            tp_freeze_q_cnt: u32,
        }
        let mut st = StatsV3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = std::mem::size_of::<StatsV3>() as libc::socklen_t;
        // SAFETY: PACKET_STATISTICS writes a tpacket_stats_v3; counters reset on read.
        let rc = unsafe {
            libc::getsockopt(
                self.rx_fd.0,
                SOL_PACKET,
                PACKET_STATISTICS,
                (&mut st as *mut StatsV3).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            self.drops.set(self.drops.get() + u64::from(st.tp_drops));
        }
        LinkStats {
            sent: self.sent,
            received: self.received,
            kernel_drops: self.drops.get(),
            ignore_outgoing: self.ignore_outgoing,
            own_frames_suppressed: self.suppressed,
        }
    }
}

const _: () = assert!(std::mem::size_of::<Tpacket2Hdr>() == TPACKET2_HDRLEN);
const _: () = assert!(std::mem::size_of::<Tpacket3Hdr>() == TP3_SLL);
const _: () = assert!(std::mem::size_of::<BlockDesc>() == 32);

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;

#[cfg(test)]
mod geometry_tests {
    use super::*;

    #[test]
    fn rx_blocks_hold_the_largest_frame_and_fill_the_buffer() {
        assert_eq!(rx_geometry(1500, 4 << 20), (4 << 10, 1024));
        assert_eq!(rx_geometry(65536, 4 << 20), (128 << 10, 32));
        assert_eq!(
            rx_geometry(1500, 0),
            (4 << 10, RX_MIN_BLOCKS),
            "a floor of blocks"
        );
        assert_eq!(
            rx_geometry(9000, 1 << 30).1 * rx_geometry(9000, 1 << 30).0,
            RX_MAX_BYTES
        );
    }
}
