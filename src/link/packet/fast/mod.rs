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
//!
//! Here: the link, its options and ring geometry; `setup` opens it (sockets, rings, the
//! transmit path), `transmit` the transmit paths, `receive` the receive ring.

mod receive;
mod setup;
mod transmit;

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant, SystemTime};

use crate::link::packet::pnet::OwnFrames;
use crate::link::sys::{packet_drops, setsockopt, Fd, SOL_PACKET};
use crate::link::xdp::afxdp::{self, XdpTx};
use crate::link::{Link, LinkConfig, LinkStats, RxFrame};
use crate::net::Interface;
use crate::{Error, Result};

use libc::{PACKET_FANOUT, PACKET_FANOUT_CPU};
/// TPACKET versions as `setsockopt` takes them.
const TPACKET_V2: libc::c_int = libc::tpacket_versions::TPACKET_V2 as libc::c_int;
const TPACKET_V3: libc::c_int = libc::tpacket_versions::TPACKET_V3 as libc::c_int;

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
/// The least a per-frame (TPACKET_V2) ring maps: 16,384 slots of 2 KiB on a 1500-byte MTU.
const RX_PER_FRAME_BYTES: usize = 32 << 20;

/// The longest block retire timeout (a capture's 128 KiB blocks get 64 ms).
const RX_MAX_RETIRE_MS: u32 = 100;

/// RX block size and count for the largest frame to keep whole (Ethernet header and tags
/// included) and a buffer size (bytes).
///
/// ```text
/// veth (1500 + 18), 4 MiB  → 4 KiB × 1024     lo (65536 + 18), 4 MiB → 128 KiB × 32
/// ```
fn rx_geometry(largest_frame: usize, buffer_size: usize) -> (usize, usize) {
    // The tpacket3 header and sockaddr_ll before the frame, rounded generously.
    let largest = largest_frame + 256;
    let block = largest.next_power_of_two().max(RX_MIN_BLOCK);
    let blocks = (buffer_size.min(RX_MAX_BYTES) / block).max(RX_MIN_BLOCKS);
    (block, blocks)
}

/// The retire timeout for blocks of `block` bytes when the caller sized them past the MTU:
/// scaled with the block, so that a trickle of frames fills each block as far as it fills a
/// 4 KiB block in 2 ms, and the ring holds as many milliseconds of it as with MTU-sized
/// blocks (a slow reader loses nothing more). Probes keep 2 ms: they wait for each reply.
fn rx_retire_ms(block: usize) -> u32 {
    let scaled = RX_RETIRE_MS as usize * (block / RX_MIN_BLOCK).max(1);
    (scaled as u32).min(RX_MAX_RETIRE_MS)
}
/// The receive ring a link gets.
#[derive(Debug, Clone, Copy)]
enum RxRing {
    /// TPACKET_V3: frames packed into blocks, handed over a block at a time (when full or
    /// when its retire timer fires): few wake-ups at high rates, but a lone frame waits for
    /// the timer (1-2 ms). What captures and probes get.
    Blocks(libc::tpacket_req3),
    /// TPACKET_V2: one slot per frame, each with its own status, and the reader woken for
    /// every frame: no wait for a block. What a responder gets
    /// ([`LinkConfig::rx_per_frame`]); `frame` bytes per slot, `frames` slots.
    PerFrame {
        req: libc::tpacket_req,
        frame: usize,
        frames: usize,
    },
}

/// The ring for `cfg` on an interface whose MTU makes frames of `mtu_frame` bytes (Ethernet
/// header and a tag included).
fn rx_ring_for(cfg: &LinkConfig, mtu_frame: usize) -> RxRing {
    let largest = cfg.rx_max_frame.unwrap_or(mtu_frame);
    let (block_size, blocks) = rx_geometry(largest, cfg.buffer_size);
    if cfg.rx_per_frame {
        // A slot holds the frame behind its tpacket2 header and sockaddr_ll; slots tile pages
        // (a block is one page, or one slot when a slot is larger), so slot i is at i × frame.
        // As many frames as a block ring packs small ones into: a reader that the scheduler
        // keeps off its core for milliseconds at 100 kpps must not lose more than with blocks.
        let frame = (largest + 256).next_power_of_two().max(2048);
        let block = frame.max(4096);
        let bytes = cfg.buffer_size.clamp(RX_PER_FRAME_BYTES, RX_MAX_BYTES);
        let frames = (bytes / frame).max(RX_MIN_BLOCKS);
        let frames = frames.div_ceil(block / frame) * (block / frame);
        return RxRing::PerFrame {
            req: libc::tpacket_req {
                tp_block_size: block as u32,
                tp_block_nr: (frames * frame / block) as u32,
                tp_frame_size: frame as u32,
                tp_frame_nr: frames as u32,
            },
            frame,
            frames,
        };
    }
    let retire = match cfg.rx_max_frame {
        Some(f) if f > mtu_frame => rx_retire_ms(block_size),
        _ => RX_RETIRE_MS,
    };
    RxRing::Blocks(libc::tpacket_req3 {
        tp_block_size: block_size as u32,
        tp_block_nr: blocks as u32,
        tp_frame_size: RX_FRAME as u32,
        tp_frame_nr: (block_size * blocks / RX_FRAME) as u32,
        tp_retire_blk_tov: retire,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    })
}

/// Frames `send_batched` queues on the TX ring before it flushes them.
const TX_BATCH: usize = 64;
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
    /// (`link::xdp::afxdp`); bound to one queue ([`FastOptions::queue`]).
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

/// A TPACKET_V3 block's descriptor (its `tpacket_hdr_v1` in the `hdr.bh1` union member).
type BlockDesc = libc::tpacket_block_desc;
/// A TPACKET_V3 frame's header.
type Tpacket3Hdr = libc::tpacket3_hdr;

/// Where the `sockaddr_ll` follows a `tpacket3_hdr` (TPACKET_ALIGN(48)), and its
/// `sll_pkttype` byte within it.
const TP3_SLL: usize = 48;
const SLL_PKTTYPE: usize = 10;
/// The first byte the VLAN tag may be moved into: after that `sockaddr_ll`.
const TP3_SLL_END: usize = TP3_SLL + std::mem::size_of::<libc::sockaddr_ll>();

/// `struct tpacket2_hdr`.
type Tpacket2Hdr = libc::tpacket2_hdr;
/// Where the `sockaddr_ll` follows a `tpacket2_hdr` (TPACKET_ALIGN(32)), and its end.
const TP2_SLL: usize = TPACKET2_HDRLEN;
const TP2_SLL_END: usize = TP2_SLL + std::mem::size_of::<libc::sockaddr_ll>();

/// A received frame as either ring version describes it.
pub(super) struct RxHdr {
    ptr: *const u8,
    len: usize,
    ts: SystemTime,
    status: u32,
    tci: u16,
    tpid: u16,
    wire: usize,
    pkttype: u8,
    /// The 4 bytes before the frame are padding after the `sockaddr_ll`: a stripped VLAN tag
    /// can be put back in place.
    tag_room: bool,
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
    /// A TPACKET_V2 ring: `block` counts frames of `block_size` bytes, `offset` is 1 while
    /// the frame handed out last is still ours.
    per_frame: bool,
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
    policy: crate::link::packet::rx::RxPolicy,
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
            Tx::Xdp(_) => afxdp::FRAME_SIZE as usize,
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

impl FastLink {
    /// Send `frame` now (`flush`) or queue it on the TX ring for the next flush.
    fn send_one(&mut self, frame: &[u8], flush: bool) -> Result<()> {
        if frame.len() > self.max_frame() {
            return Err(Error::FrameDoesNotFit {
                bytes: frame.len(),
                place: "the TX slot".into(),
                limit: self.max_frame(),
            });
        }
        if !self.tx_wait_slot(Instant::now() + Duration::from_secs(1))? {
            return Err(Error::TxRingFull {
                iface: self.iface.name.clone(),
                how: "stayed full for 1 s".into(),
            });
        }
        if frame.len() >= 14 {
            self.ethertype_hint = u16::from_be_bytes([frame[12], frame[13]]);
        }
        self.own.remember(frame, Instant::now());
        let mut fill = |_, buf: &mut [u8]| {
            buf[..frame.len()].copy_from_slice(frame);
            frame.len()
        };
        let n = if flush {
            let n = self.send_in_place(1, &mut fill)?;
            self.ethertype_hint = 0x0800;
            n
        } else {
            // The hint stays: the flush that sends this frame gives it that protocol.
            self.queue_in_place(1, &mut fill)
        };
        if n == 1 {
            Ok(())
        } else {
            Err(Error::TxRingFull {
                iface: self.iface.name.clone(),
                how: "is full".into(),
            })
        }
    }
}

impl Link for FastLink {
    fn expect_own_copy(&mut self, frame: &[u8]) {
        self.own.remember(frame, Instant::now());
    }

    fn send(&mut self, frame: &[u8]) -> Result<()> {
        self.send_one(frame, true)
    }

    fn send_batched(&mut self, frame: &[u8]) -> Result<()> {
        // Only the TX ring queues without sending (the other modes send at once). One flush
        // gives every frame it sends one protocol: a frame of another EtherType goes after a
        // flush of those queued before it.
        if !matches!(self.tx, Tx::Ring { .. }) {
            return self.send_one(frame, true);
        }
        let ethertype = frame.get(12..14).map(|t| u16::from_be_bytes([t[0], t[1]]));
        if self.tx_pending() > 0 && ethertype != Some(self.ethertype_hint) {
            self.tx_flush()?;
        }
        self.send_one(frame, false)?;
        if self.tx_pending() >= TX_BATCH {
            self.tx_flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.tx_flush()
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
            // Nothing more to read: what send_batched queued goes now, before any wait.
            if self.tx_pending() > 0 {
                self.tx_flush()?;
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            self.wait_rx(deadline)?;
        }
    }

    fn stats(&self) -> LinkStats {
        self.drops
            .set(self.drops.get() + packet_drops::<libc::tpacket_stats_v3>(self.rx_fd.0));
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod geometry_tests {
    use super::*;

    #[test]
    fn rx_blocks_hold_the_largest_frame_and_fill_the_buffer() {
        assert_eq!(rx_geometry(1500 + 18, 4 << 20), (4 << 10, 1024));
        assert_eq!(rx_geometry(65536 + 18, 4 << 20), (128 << 10, 32));
        assert_eq!(
            rx_geometry(1500 + 18, 0),
            (4 << 10, RX_MIN_BLOCKS),
            "a floor of blocks"
        );
        assert_eq!(
            rx_geometry(9018, 1 << 30).1 * rx_geometry(9018, 1 << 30).0,
            RX_MAX_BYTES
        );
        // A block holds the largest frame with its headers.
        for f in [1518, 9018, 65_558, 65_536 + 14] {
            assert!(rx_geometry(f, 4 << 20).0 >= f + 48 + 32, "{f}");
        }
    }

    #[test]
    fn a_responder_gets_a_ring_that_wakes_it_for_every_frame() {
        let responder = LinkConfig {
            buffer_size: 4 << 20,
            rx_per_frame: true,
            ..LinkConfig::default()
        };
        match rx_ring_for(&responder, 1500 + 18) {
            RxRing::PerFrame { req, frame, frames } => {
                assert_eq!((frame, frames), (2048, 16384));
                assert_eq!(req.tp_frame_size as usize, frame);
                assert_eq!(req.tp_frame_nr as usize, frames);
                assert_eq!(req.tp_block_size, 4096);
                assert_eq!(req.tp_block_nr as usize * 4096, frame * frames);
                // The largest frame fits behind its headers.
                assert!(frame >= 1518 + TP2_SLL_END + 16);
            }
            r => panic!("a responder must not wait for a block to retire: {r:?}"),
        }
        // Jumbo frames: one slot per block, still one frame per slot.
        match rx_ring_for(&responder, 9000 + 18) {
            RxRing::PerFrame { req, frame, frames } => {
                assert_eq!((frame, frames), (16384, 2048));
                assert_eq!(req.tp_block_size as usize, frame);
                assert_eq!(req.tp_block_nr as usize, frames);
            }
            r => panic!("{r:?}"),
        }
        // Everything else keeps the block ring and its retire timer.
        let capture = LinkConfig {
            buffer_size: 4 << 20,
            ..LinkConfig::default()
        };
        match rx_ring_for(&capture, 1518) {
            RxRing::Blocks(r) => {
                assert_eq!((r.tp_block_size, r.tp_block_nr), (4096, 1024));
                assert_eq!(r.tp_retire_blk_tov, RX_RETIRE_MS);
            }
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn retire_timeout_scales_with_the_block() {
        assert_eq!(rx_retire_ms(4 << 10), RX_RETIRE_MS);
        assert_eq!(rx_retire_ms(128 << 10), 64);
        assert_eq!(rx_retire_ms(1 << 20), RX_MAX_RETIRE_MS);
    }
}
