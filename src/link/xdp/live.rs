//! XDP live-frame transmission: `BPF_PROG_RUN` with `BPF_F_TEST_XDP_LIVE_FRAMES` (Linux 5.18+)
//! runs an XDP program over a frame template `repeat` times, the frames handed in as if they
//! had arrived on `lo`; each run redirects its frame out of the sending interface. No skb is built on the sending
//! side, which is what makes it several times faster than AF_XDP copy mode or a TX ring.
//!
//! The program (assembled in Rust, [`crate::link::ebpf::asm`]) writes into each frame its sequence
//! number (from a per-sender counter in a shared, mmap'd array map), its send time
//! (`bpf_ktime_get_ns()`, CLOCK_MONOTONIC, shifted by the CLOCK_REALTIME offset measured at
//! start so that RTTs compare with the kernel's receive timestamps) and the ICMP checksum,
//! updated incrementally from a sum precomputed in user space. The sender's slot and that sum
//! travel in 8 bytes of XDP metadata in front of the template.
//!
//! The same program stays attached (native mode where the driver has it, else generic,
//! through a BPF link that the kernel removes when we exit) to the sending interface while it
//! runs: otherwise every call would add and remove it from the XDP dispatcher, two RCU grace
//! periods (~25 ms) each time. Attached, it sees every frame the interface receives and passes
//! them all: their ingress is the interface, not `lo`. Native mode is what lets a veth take
//! the replies an XDP reflector on its peer sends with XDP_TX.
//!
//! A redirect that the interface cannot take fails silently: a veth accepts them only while
//! its peer has an XDP program or GRO (NAPI) on; `lo` never does. [`LiveShared::probe`] sends
//! a few frames of a local experimental EtherType and checks that the interface's transmit
//! counter moved.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::link::ebpf::asm::{self, helper, xdp, xdp_md, Alu, Asm, Cond, Insn, Size};
use crate::link::ebpf::asm::{R0, R1, R2, R3, R4, R5, R6, R7, R8, R9};
use crate::link::ebpf::loader::{self, SharedMap};
use crate::link::sys::Fd;

/// Bytes of XDP metadata in front of the frame: sender slot (u32), checksum base (u16) and
/// the sender's ICMP identifier (u16, as in the frame).
pub const META_LEN: u32 = 8;
/// Largest frame live mode carries: one page, less the kernel's XDP headroom (256), its
/// per-page test-run header and the skb_shared_info tailroom (320), rounded down.
pub const MAX_FRAME: usize = 3392;
/// Sender slots in the counter map (one per thread); the last is the probe's.
pub const SLOTS: usize = 64;
const PROBE_SLOT: u32 = SLOTS as u32 - 1;
/// Bytes between two senders' counters: one cache line each, so that threads on different
/// cores never write the same line (8-byte neighbours cost two threads most of their gain).
const SLOT_STRIDE: usize = 64;
/// Frames per call at most: the window of in-flight requests is larger, and a call this long
/// still returns within a few milliseconds.
pub const MAX_CALL: u32 = 1 << 14;
/// Frames the probe sends.
const PROBE_FRAMES: u32 = 64;
/// IEEE 802 local experimental EtherType: peers drop it without answering.
const PROBE_ETHERTYPE: [u8; 2] = [0x88, 0xb5];

/// Why live transmission cannot be used.
#[derive(Debug)]
pub enum LiveError {
    /// The frame does not fit a live frame.
    TooLarge { frame: usize },
    /// The kernel refused the program or the map (too old, no BPF, no permission).
    Kernel(String),
    /// Another XDP program is attached to the interface.
    Busy(io::Error),
    /// The interface did not deliver the probe's redirected frames.
    NotDelivered { sent: u32, delivered: u64 },
}

impl std::fmt::Display for LiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveError::TooLarge { frame } => write!(
                f,
                "a {frame}-byte frame does not fit an XDP live frame (at most {MAX_FRAME} bytes: \
                 a page less the XDP headroom and tailroom)"
            ),
            LiveError::Kernel(e) => write!(
                f,
                "the kernel refused XDP live-frame transmission (needs Linux 5.18+ with BPF): {e}"
            ),
            LiveError::Busy(e) => write!(
                f,
                "could not attach the live-frame program: the interface already has an XDP \
                 program ({e})"
            ),
            LiveError::NotDelivered { sent, delivered } => write!(
                f,
                "the interface does not take XDP redirects: {sent} probe frames redirected, \
                 {delivered} delivered. On a veth pair the peer needs an XDP program attached \
                 or GRO on (ethtool -K PEER gro on); a physical NIC needs a driver with \
                 ndo_xdp_xmit; lo never takes them"
            ),
        }
    }
}

impl std::error::Error for LiveError {}

/// CLOCK_REALTIME − CLOCK_MONOTONIC, in ns (wrapping).
fn realtime_offset() -> u64 {
    let read = |c| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is writable.
        unsafe { libc::clock_gettime(c, &mut ts) };
        (ts.tv_sec as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts.tv_nsec as u64)
    };
    let m0 = read(libc::CLOCK_MONOTONIC);
    let r = read(libc::CLOCK_REALTIME);
    let m1 = read(libc::CLOCK_MONOTONIC);
    r.wrapping_sub(m0 / 2 + m1 / 2)
}

/// The stamping program for ICMP echo requests whose ICMP header starts at `icmp`.
/// `header` is the template's first `icmp + 4` bytes (Ethernet, IP, ICMP type, code and
/// checksum): the program writes it into every frame, because the kernel recycles a frame's
/// page without copying the template again, and a page may come back holding what a peer
/// wrote into it (an XDP reflector answers in place).
///
/// The test run hands the frames in as if they had arrived on `inject` (the namespace's `lo`)
/// and the program redirects them out of `out`: so a frame that really arrives on `out` (a
/// reply, or one of ours that an XDP reflector sent back in place, metadata and all) is told
/// apart by its ingress interface and passed to the stack, and the program may stay attached
/// to `out` in native mode, which a veth needs to take the XDP_TX replies of its peer.
pub fn stamp_program(
    map_fd: i32,
    icmp: usize,
    time_offset: u64,
    header: &[u8],
    (inject, out): (u32, u32),
) -> Result<Vec<Insn>, String> {
    if header.len() != icmp + 4 {
        return Err("the header must run to the ICMP identifier".into());
    }
    let i = i16::try_from(icmp)
        .ok()
        .filter(|i| *i < 0x7000)
        .ok_or("ICMP offset too large")?;
    let as_imm = |v: u32| i32::try_from(v).map_err(|_| format!("ifindex {v} out of range"));
    let (inject, out) = (as_imm(inject)?, as_imm(out)?);
    let mut a = Asm::new();
    a.mov(R6, R1)
        .load(Size::W, R2, R6, xdp_md::INGRESS_IFINDEX)
        .jmp_imm(Cond::Ne, R2, inject, "pass")
        .call(helper::KTIME_GET_NS)
        .ld_imm64(R1, time_offset)
        .alu_reg(Alu::Add, R0, R1)
        .mov(R9, R0)
        // Bounds: 8 bytes of metadata (else: not a test-run frame: pass it up), the stamp.
        .load(Size::W, R2, R6, xdp_md::DATA_META)
        .load(Size::W, R3, R6, xdp_md::DATA)
        .load(Size::W, R4, R6, xdp_md::DATA_END)
        .mov(R5, R2)
        .alu_imm(Alu::Add, R5, META_LEN as i32)
        .jmp_reg(Cond::Gt, R5, R3, "pass")
        .mov(R5, R3)
        .alu_imm(Alu::Add, R5, i32::from(i) + 24)
        .jmp_reg(Cond::Gt, R5, R4, "drop")
        .load(Size::W, R8, R2, 0)
        .load(Size::H, R7, R2, 4)
        .load(Size::H, R1, R2, 6)
        .store(Size::H, R3, i + 4, R1);
    // The template's header, 8 bytes at a time.
    let mut at = 0usize;
    while at < header.len() {
        let n = match header.len() - at {
            r if r >= 8 => 8,
            r if r >= 4 => 4,
            r if r >= 2 => 2,
            _ => 1,
        };
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(&header[at..at + n]);
        let size = match n {
            8 => Size::DW,
            4 => Size::W,
            2 => Size::H,
            _ => Size::B,
        };
        a.ld_imm64(R1, u64::from_ne_bytes(w))
            .store(size, R3, at as i16, R1);
        at += n;
    }
    a.jmp_imm(Cond::Ge, R8, SLOTS as i32, "drop")
        // seq = counter[slot]++ (slot × SLOT_STRIDE bytes in)
        .alu_imm(Alu::Lsh, R8, SLOT_STRIDE.trailing_zeros() as i32)
        .ld_map_value(R1, map_fd, 0)
        .alu_reg(Alu::Add, R1, R8)
        .load(Size::DW, R8, R1, 0)
        .mov(R5, R8)
        .alu_imm(Alu::Add, R5, 1)
        .store(Size::DW, R1, 0, R5)
        // Stamp: sequence and send time, little endian; ICMP sequence = low 16 bits, BE.
        .store(Size::DW, R3, i + 8, R8)
        .store(Size::DW, R3, i + 16, R9)
        .mov(R5, R8)
        .to_be(R5, 16)
        .store(Size::H, R3, i + 6, R5)
        // Checksum: base + the words just written, in host order (see asm::native_sum).
        .alu_reg(Alu::Add, R7, R5);
    for r in [R8, R9] {
        a.mov(R1, r)
            .alu_imm(Alu::Lsh, R1, 32)
            .alu_imm(Alu::Rsh, R1, 32)
            .alu_reg(Alu::Add, R7, R1)
            .mov(R1, r)
            .alu_imm(Alu::Rsh, R1, 32)
            .alu_reg(Alu::Add, R7, R1);
    }
    for _ in 0..3 {
        a.mov(R1, R7)
            .alu_imm(Alu::Rsh, R1, 16)
            .alu_imm(Alu::And, R7, 0xffff)
            .alu_reg(Alu::Add, R7, R1);
    }
    a.alu_imm(Alu::Xor, R7, 0xffff)
        .store(Size::H, R3, i + 2, R7)
        .mov_imm(R1, out)
        .mov_imm(R2, 0)
        .call(helper::REDIRECT)
        .exit()
        .label("pass")
        .mov_imm(R0, xdp::PASS)
        .exit()
        .label("drop")
        .mov_imm(R0, xdp::DROP)
        .exit();
    a.finish()
}

/// Transmit packets counter of `iface` in our network namespace (`/proc/net/dev`).
pub fn tx_packets(iface: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/dev").ok()?;
    text.lines().find_map(|l| {
        let (name, rest) = l.split_once(':')?;
        if name.trim() != iface {
            return None;
        }
        rest.split_whitespace().nth(9)?.parse().ok()
    })
}

/// Pin the calling thread to the `k`-th CPU it may run on (wrapping), so that `k` sender
/// threads use `k` different cores. Best effort: on failure the thread stays where it was.
pub fn pin_to_allowed_cpu(k: usize) {
    // SAFETY: cpu_set_t is plain data; the calls only read/write it and this thread's mask.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return;
        }
        let allowed: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect();
        if allowed.is_empty() {
            return;
        }
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(allowed[k % allowed.len()], &mut one);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one);
    }
}

/// The program, its counters and its attachment, shared by every sender thread.
pub struct LiveShared {
    prog: Fd,
    map: SharedMap,
    _link: Fd,
    /// Where the test run says the frames arrive (`lo`).
    inject: u32,
    iface: String,
    icmp: usize,
}

impl LiveShared {
    /// Load and attach the program for frames of `frame_len` bytes whose ICMP header starts at
    /// `icmp`, on interface `iface` (`ifindex`).
    pub fn open(
        iface: &str,
        ifindex: u32,
        template: &[u8],
        icmp: usize,
    ) -> Result<LiveShared, LiveError> {
        let frame_len = template.len();
        if frame_len > MAX_FRAME {
            return Err(LiveError::TooLarge { frame: frame_len });
        }
        let map = SharedMap::new((SLOTS * SLOT_STRIDE) as u32, "pf_live_seq")
            .map_err(|e| LiveError::Kernel(format!("creating the counter map: {e}")))?;
        if icmp + 24 > frame_len {
            return Err(LiveError::Kernel(
                "the template is not an echo request".into(),
            ));
        }
        // SAFETY: a NUL-terminated name.
        let inject = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        if inject == 0 {
            return Err(LiveError::Kernel(
                "this network namespace has no lo to inject live frames on".into(),
            ));
        }
        let insns = stamp_program(
            map.fd(),
            icmp,
            realtime_offset(),
            &template[..icmp + 4],
            (inject, ifindex),
        )
        .map_err(LiveError::Kernel)?;
        let prog = loader::load_xdp(&insns, "pf_live_tx")
            .map_err(|e| LiveError::Kernel(format!("loading the program: {e}")))?;
        // Native mode where the driver has it (a veth then also takes the XDP_TX replies of
        // an XDP reflector on its peer), else generic; either way frames that arrive on the
        // interface are passed up.
        let busy = |e: &io::Error| matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EEXIST));
        let link = loader::attach_xdp(&prog, ifindex, loader::XDP_FLAGS_DRV_MODE)
            .or_else(|e| {
                if busy(&e) {
                    Err(e)
                } else {
                    loader::attach_xdp(&prog, ifindex, loader::XDP_FLAGS_SKB_MODE)
                }
            })
            .map_err(|e| {
                if busy(&e) {
                    LiveError::Busy(e)
                } else {
                    LiveError::Kernel(format!("attaching the program: {e}"))
                }
            })?;
        Ok(LiveShared {
            prog,
            map,
            _link: link,
            inject,
            iface: iface.to_string(),
            icmp,
        })
    }

    /// Redirect a few frames like `frame` (EtherType changed to a local experimental one, so
    /// the peer drops them) and check that the interface counted them as transmitted.
    pub fn probe(&self, frame: &[u8]) -> Result<(), LiveError> {
        let mut f = frame.to_vec();
        if f.len() >= 14 {
            f[12..14].copy_from_slice(&PROBE_ETHERTYPE);
        }
        let buf = with_meta(PROBE_SLOT, 0, &f);
        let before = tx_packets(&self.iface).unwrap_or(0);
        loader::run_live(
            &self.prog,
            &buf,
            META_LEN,
            self.inject,
            0,
            PROBE_FRAMES,
            PROBE_FRAMES,
        )
        .map_err(|e| LiveError::Kernel(format!("running the program over live frames: {e}")))?;
        // The peer's NAPI poll may still be running on another CPU: give it a moment.
        let until = Instant::now() + Duration::from_millis(200);
        let mut delivered = 0;
        while Instant::now() < until {
            delivered = tx_packets(&self.iface).unwrap_or(0).saturating_sub(before);
            if delivered >= u64::from(PROBE_FRAMES) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(LiveError::NotDelivered {
            sent: PROBE_FRAMES,
            delivered,
        })
    }

    /// A sender for thread `slot` (0..SLOTS-1) transmitting `frame` (an echo request whose
    /// checksum, ICMP sequence and first 16 data bytes the program rewrites).
    pub fn sender(self: &Arc<Self>, slot: usize, frame: &[u8]) -> LiveSender {
        assert!(slot < PROBE_SLOT as usize);
        let i = self.icmp;
        let mut z = frame[i..].to_vec();
        z[2..4].fill(0);
        z[6..8 + 16].fill(0);
        let base = asm::native_sum(&z);
        // Metadata: slot, checksum base, and the ICMP identifier as the frame holds it.
        let id = u16::from_ne_bytes([frame[i + 4], frame[i + 5]]);
        LiveSender {
            shared: Arc::clone(self),
            slot,
            buf: with_meta(slot as u32, u32::from(base) | (u32::from(id) << 16), frame),
        }
    }

    fn counter(&self, slot: usize) -> &AtomicU64 {
        self.map.word(slot * SLOT_STRIDE)
    }
}

fn with_meta(slot: u32, base: u32, frame: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(META_LEN as usize + frame.len());
    b.extend_from_slice(&slot.to_ne_bytes());
    b.extend_from_slice(&base.to_ne_bytes());
    b.extend_from_slice(frame);
    b
}

/// One thread's live-frame transmitter.
pub struct LiveSender {
    shared: Arc<LiveShared>,
    slot: usize,
    buf: Vec<u8>,
}

impl LiveSender {
    /// The sequence number the next frame will carry.
    pub fn next_seq(&self) -> u64 {
        self.shared.counter(self.slot).load(Ordering::Acquire)
    }

    /// Transmit `n` frames (at most [`MAX_CALL`]), `batch` per redirect flush. Returns how
    /// many the program stamped and handed on (fewer than `n` when a signal cut the call
    /// short).
    pub fn send(&mut self, n: u32, batch: u32) -> io::Result<u64> {
        let n = n.min(MAX_CALL);
        if n == 0 {
            return Ok(0);
        }
        let before = self.next_seq();
        let r = loader::run_live(
            &self.shared.prog,
            &self.buf,
            META_LEN,
            self.shared.inject,
            0,
            n,
            batch,
        );
        let done = self.next_seq().wrapping_sub(before);
        match r {
            Ok(()) => Ok(done),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(done),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_program_assembles() {
        let p = stamp_program(3, 34, 12345, &[0x45; 38], (1, 2)).unwrap();
        assert!(p.len() > 40 && p.len() < 160, "{}", p.len());
        assert!(stamp_program(3, 34, 0, &[0; 30], (1, 2)).is_err());
        assert!(stamp_program(3, 40000, 0, &[0; 40004], (1, 2)).is_err());
    }

    #[test]
    fn tx_packets_reads_lo() {
        assert!(tx_packets("lo").is_some());
        assert!(tx_packets("no-such-iface0").is_none());
    }
}
