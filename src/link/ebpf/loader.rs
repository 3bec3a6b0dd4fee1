//! The `bpf(2)` calls the XDP paths need: load a program (with the verifier's log on refusal),
//! create an mmap-able array map, attach a program to an interface through a BPF link (the
//! kernel detaches it when the last descriptor closes, also when the process dies), and run
//! a program over live frames (`BPF_PROG_RUN` with `BPF_F_TEST_XDP_LIVE_FRAMES`).

use std::io;
use std::ptr;

use crate::link::ebpf::asm::Insn;
use crate::link::sys::Fd;

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TEST_RUN: libc::c_long = 10;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_PROG_TYPE_XDP: u32 = 6;
/// `enum bpf_attach_type`: BPF_XDP.
const BPF_XDP: u32 = 37;
const BPF_F_MMAPABLE: u32 = 1 << 10;
/// Run an XDP program over frames that really leave (`XDP_TX`, `XDP_REDIRECT`).
pub const BPF_F_TEST_XDP_LIVE_FRAMES: u32 = 1 << 1;
/// Largest kernel batch (frames per redirect flush) in live mode (`TEST_XDP_MAX_BATCH`).
pub const MAX_LIVE_BATCH: u32 = 256;
/// XDP attach flags.
pub const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
/// Native (driver) mode.
pub const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

fn sys_bpf(cmd: libc::c_long, attr: &mut [u8]) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a writable, zero-padded bpf_attr of the length passed.
    let rc = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), attr.len()) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn put32(a: &mut [u8], at: usize, v: u32) {
    a[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

fn put64(a: &mut [u8], at: usize, v: u64) {
    a[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

/// Why a program was not loaded: the error and the verifier's last words.
#[derive(Debug)]
pub struct LoadError {
    /// The `bpf(2)` error.
    pub error: io::Error,
    /// The tail of the verifier log.
    pub log: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        if !self.log.is_empty() {
            write!(f, " (verifier: {})", self.log)?;
        }
        Ok(())
    }
}

/// Load an XDP program.
pub fn load_xdp(prog: &[Insn], name: &str) -> Result<Fd, LoadError> {
    load_xdp_on(prog, name, None)
}

/// `BPF_F_XDP_DEV_BOUND_ONLY`: the program runs on one device only, and may call that
/// driver's XDP metadata kfuncs (e.g. `bpf_xdp_metadata_rx_vlan_tag`).
const BPF_F_XDP_DEV_BOUND_ONLY: u32 = 1 << 6;

/// Load an XDP program bound to the device `ifindex` (attach it there natively), so that it
/// may call the driver's metadata kfuncs.
pub fn load_xdp_dev_bound(prog: &[Insn], name: &str, ifindex: u32) -> Result<Fd, LoadError> {
    load_xdp_on(prog, name, Some(ifindex))
}

fn load_xdp_on(prog: &[Insn], name: &str, dev_bound: Option<u32>) -> Result<Fd, LoadError> {
    let license = b"GPL\0";
    let try_load = |log: &mut Vec<u8>| {
        let mut attr = [0u8; 128];
        put32(&mut attr, 0, BPF_PROG_TYPE_XDP);
        put32(&mut attr, 4, prog.len() as u32);
        put64(&mut attr, 8, prog.as_ptr() as u64);
        put64(&mut attr, 16, license.as_ptr() as u64);
        if let Some(ifindex) = dev_bound {
            put32(&mut attr, 44, BPF_F_XDP_DEV_BOUND_ONLY);
            put32(&mut attr, 64, ifindex);
        }
        if !log.is_empty() {
            put32(&mut attr, 24, 1);
            put32(&mut attr, 28, log.len() as u32);
            put64(&mut attr, 32, log.as_mut_ptr() as u64);
        }
        for (d, s) in attr[48..63].iter_mut().zip(name.bytes()) {
            *d = s;
        }
        sys_bpf(BPF_PROG_LOAD, &mut attr).map(|fd| Fd(fd as libc::c_int))
    };
    match try_load(&mut Vec::new()) {
        Ok(fd) => Ok(fd),
        Err(error) => {
            // Load again with a log to say why.
            let mut log = vec![0u8; 1 << 16];
            let _ = try_load(&mut log);
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let tail: Vec<&str> = text.lines().rev().take(3).collect();
            Err(LoadError {
                error,
                log: tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
            })
        }
    }
}

/// An array map with one `value_size`-byte element, mapped into our memory.
pub struct SharedMap {
    fd: Fd,
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is owned by the value; concurrent access goes through atomics.
unsafe impl Send for SharedMap {}
// SAFETY: as for Send: every shared access goes through atomics on the mapping.
unsafe impl Sync for SharedMap {}

impl SharedMap {
    /// Create the map and map its value.
    pub fn new(value_size: u32, name: &str) -> io::Result<SharedMap> {
        let mut attr = [0u8; 128];
        put32(&mut attr, 0, BPF_MAP_TYPE_ARRAY);
        put32(&mut attr, 4, 4);
        put32(&mut attr, 8, value_size);
        put32(&mut attr, 12, 1);
        put32(&mut attr, 16, BPF_F_MMAPABLE);
        for (d, s) in attr[28..43].iter_mut().zip(name.bytes()) {
            *d = s;
        }
        let fd = Fd(sys_bpf(BPF_MAP_CREATE, &mut attr)? as libc::c_int);
        let page = 4096usize;
        let len = (value_size as usize).div_ceil(page) * page;
        // SAFETY: mapping the map's value area, as BPF_F_MMAPABLE allows.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.0,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(SharedMap {
            fd,
            base: base.cast(),
            len,
        })
    }

    /// The map's descriptor (for `ld_map_value`).
    pub fn fd(&self) -> libc::c_int {
        self.fd.0
    }

    /// The 64-bit word at byte `offset` of the value (offset a multiple of 8, inside it).
    pub fn word(&self, offset: usize) -> &std::sync::atomic::AtomicU64 {
        assert!(offset.is_multiple_of(8) && offset + 8 <= self.len);
        // SAFETY: aligned, inside the live mapping; the kernel side updates it with plain or
        // atomic stores of the same width.
        unsafe { &*self.base.add(offset).cast::<std::sync::atomic::AtomicU64>() }
    }
}

impl Drop for SharedMap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `new` mapped.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// Attach `prog` to interface `ifindex` with a BPF link; detached when the returned
/// descriptor closes. `flags`: [`XDP_FLAGS_SKB_MODE`] or [`XDP_FLAGS_DRV_MODE`]. Fails with
/// EBUSY when the interface already has an XDP program.
pub fn attach_xdp(prog: &Fd, ifindex: u32, flags: u32) -> io::Result<Fd> {
    let mut attr = [0u8; 64];
    put32(&mut attr, 0, prog.0 as u32);
    put32(&mut attr, 4, ifindex);
    put32(&mut attr, 8, BPF_XDP);
    put32(&mut attr, 12, flags);
    Ok(Fd(sys_bpf(BPF_LINK_CREATE, &mut attr)? as libc::c_int))
}

/// `struct xdp_md` as `BPF_PROG_RUN` takes it.
#[repr(C)]
#[derive(Default)]
struct XdpMd {
    data: u32,
    data_end: u32,
    data_meta: u32,
    ingress_ifindex: u32,
    rx_queue_index: u32,
    egress_ifindex: u32,
}

/// Run `prog` `repeat` times over `frame` (whose first `meta_len` bytes are XDP metadata) as
/// if it had arrived on `ifindex` queue `queue`: every `XDP_TX` leaves through that interface.
/// `batch`: frames per redirect flush (1..=256). Returns when all have run, or early with
/// EINTR on a signal.
pub fn run_live(
    prog: &Fd,
    frame: &[u8],
    meta_len: u32,
    ifindex: u32,
    queue: u32,
    repeat: u32,
    batch: u32,
) -> io::Result<()> {
    let md = XdpMd {
        data: meta_len,
        data_end: frame.len() as u32,
        ingress_ifindex: ifindex,
        rx_queue_index: queue,
        ..Default::default()
    };
    let mut attr = [0u8; 80];
    put32(&mut attr, 0, prog.0 as u32);
    put32(&mut attr, 8, frame.len() as u32);
    put64(&mut attr, 16, frame.as_ptr() as u64);
    put32(&mut attr, 32, repeat);
    put32(&mut attr, 40, std::mem::size_of::<XdpMd>() as u32);
    put64(&mut attr, 48, (&md as *const XdpMd) as u64);
    put32(&mut attr, 64, BPF_F_TEST_XDP_LIVE_FRAMES);
    put32(&mut attr, 72, batch.clamp(1, MAX_LIVE_BATCH));
    sys_bpf(BPF_PROG_TEST_RUN, &mut attr).map(|_| ())
}
