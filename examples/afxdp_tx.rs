//! A standalone AF_XDP copy-mode TX sender, for measuring against `trafgen` (benches/AFXDP.md).
//!
//! `afxdp_tx IFACE COUNT [QUEUE] [--batch N] [--need-wakeup] [--budget N]`
//!
//! One 60-byte Ethernet + IPv4 + ICMP echo frame (dst MAC 02:00:00:00:00:02, src MAC of IFACE,
//! 198.51.100.1 -> 198.51.100.2) is written once into every UMEM frame; the loop then reaps
//! completions, produces up to N TX descriptors, and kicks with `sendto` until the kernel has
//! consumed them, until COUNT frames have completed. `--budget N` sets XDP_MAX_TX_SKB_BUDGET
//! (Linux 6.17+): in copy mode one `sendto` otherwise transmits at most 32 frames.
//! Prints frames/s over the send loop and the number of `sendto` calls.

use std::io;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

const NUM_FRAMES: u32 = 4096;
const FRAME_SIZE: u32 = 2048;
const TX_RING: u32 = 2048;
const CQ_RING: u32 = 4096;
const FQ_RING: u32 = 2048;
const FRAME_LEN: usize = 60;
/// `XDP_MAX_TX_SKB_BUDGET` from linux/if_xdp.h (6.17); not in libc 0.2.191.
const XDP_MAX_TX_SKB_BUDGET: libc::c_int = 9;

fn os_err(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(
        e.kind(),
        format!("{what}: {e} (errno {})", e.raw_os_error().unwrap_or(0)),
    )
}

fn csum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn build_frame(src_mac: [u8; 6]) -> [u8; FRAME_LEN] {
    let mut f = [0u8; FRAME_LEN];
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    f[6..12].copy_from_slice(&src_mac);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    // IPv4: version/IHL, TOS, total length 46, id 0, no fragment, TTL 64, ICMP.
    f[14] = 0x45;
    f[16..18].copy_from_slice(&46u16.to_be_bytes());
    f[22] = 64;
    f[23] = 1;
    f[26..30].copy_from_slice(&[198, 51, 100, 1]);
    f[30..34].copy_from_slice(&[198, 51, 100, 2]);
    let ip = csum(&f[14..34]);
    f[24..26].copy_from_slice(&ip.to_be_bytes());
    // ICMP echo request, id 1, seq 1, 18 bytes of 0x11.
    f[34] = 8;
    f[38..40].copy_from_slice(&1u16.to_be_bytes());
    f[40..42].copy_from_slice(&1u16.to_be_bytes());
    f[42..].fill(0x11);
    let icmp = csum(&f[34..]);
    f[36..38].copy_from_slice(&icmp.to_be_bytes());
    f
}

fn iface_mac(name: &str) -> io::Result<[u8; 6]> {
    let s = std::fs::read_to_string(format!("/sys/class/net/{name}/address"))?;
    let mut mac = [0u8; 6];
    for (i, b) in s.trim().split(':').enumerate().take(6) {
        mac[i] = u8::from_str_radix(b, 16).map_err(io::Error::other)?;
    }
    Ok(mac)
}

/// One mmap'd ring: producer and consumer indices shared with the kernel, then the entries.
struct Ring {
    base: *mut libc::c_void,
    len: usize,
    producer: *const AtomicU32,
    consumer: *const AtomicU32,
    flags: *const AtomicU32,
    desc: *mut u8,
    mask: u32,
}

impl Ring {
    /// # Safety
    /// `fd` is an AF_XDP socket whose ring at `pgoff` has `entries` entries of `entry` bytes.
    unsafe fn map(
        fd: libc::c_int,
        off: &libc::xdp_ring_offset,
        pgoff: libc::off_t,
        entries: u32,
        entry: usize,
        what: &str,
    ) -> io::Result<Ring> {
        let len = off.desc as usize + entries as usize * entry;
        let base = libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_POPULATE,
            fd,
            pgoff,
        );
        if base == libc::MAP_FAILED {
            return Err(os_err(what));
        }
        let at = |o: u64| base.cast::<u8>().add(o as usize);
        Ok(Ring {
            base,
            len,
            producer: at(off.producer).cast(),
            consumer: at(off.consumer).cast(),
            flags: at(off.flags).cast(),
            desc: at(off.desc),
            mask: entries - 1,
        })
    }

    fn producer(&self) -> &AtomicU32 {
        // SAFETY: points into the live mapping, 4-byte aligned by the kernel's layout.
        unsafe { &*self.producer }
    }

    fn consumer(&self) -> &AtomicU32 {
        // SAFETY: as above.
        unsafe { &*self.consumer }
    }

    fn flags(&self) -> u32 {
        // SAFETY: as above.
        unsafe { (*self.flags).load(Ordering::Relaxed) }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `map` mapped.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn setsockopt<T>(fd: libc::c_int, opt: libc::c_int, val: &T, what: &str) -> io::Result<()> {
    // SAFETY: `val` is a valid T for the duration of the call.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_XDP,
            opt,
            (val as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(os_err(what))
    } else {
        Ok(())
    }
}

struct Args {
    iface: String,
    count: u64,
    queue: u32,
    batch: u32,
    need_wakeup: bool,
    budget: Option<u32>,
}

fn parse_args() -> Args {
    let usage = || -> ! {
        eprintln!("usage: afxdp_tx IFACE COUNT [QUEUE] [--batch N] [--need-wakeup] [--budget N]");
        std::process::exit(2);
    };
    let mut pos = Vec::new();
    let (mut batch, mut need_wakeup, mut budget) = (64u32, false, None);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--batch" => {
                batch = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--budget" => {
                budget = Some(
                    it.next()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| usage()),
                )
            }
            "--need-wakeup" => need_wakeup = true,
            _ if a.starts_with("--") => usage(),
            _ => pos.push(a),
        }
    }
    if pos.len() < 2 || batch == 0 || batch > TX_RING {
        usage();
    }
    Args {
        iface: pos[0].clone(),
        count: pos[1].parse().unwrap_or_else(|_| usage()),
        queue: pos
            .get(2)
            .map_or(0, |q| q.parse().unwrap_or_else(|_| usage())),
        batch,
        need_wakeup,
        budget,
    }
}

fn run(a: &Args) -> io::Result<()> {
    let cname = std::ffi::CString::new(a.iface.as_str()).map_err(io::Error::other)?;
    // SAFETY: NUL-terminated name.
    let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
    if ifindex == 0 {
        return Err(os_err("if_nametoindex"));
    }
    let frame = build_frame(iface_mac(&a.iface)?);

    // SAFETY: plain syscall; the fd is closed at the end of `run`.
    let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW, 0) };
    if fd < 0 {
        return Err(os_err("socket(AF_XDP)"));
    }

    let umem_len = (NUM_FRAMES * FRAME_SIZE) as usize;
    // SAFETY: anonymous private mapping, unmapped at the end of `run`.
    let umem = unsafe {
        libc::mmap(
            ptr::null_mut(),
            umem_len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    if umem == libc::MAP_FAILED {
        return Err(os_err("mmap umem"));
    }
    for i in 0..NUM_FRAMES as usize {
        // SAFETY: frame i lies inside the UMEM mapping.
        unsafe {
            ptr::copy_nonoverlapping(
                frame.as_ptr(),
                umem.cast::<u8>().add(i * FRAME_SIZE as usize),
                FRAME_LEN,
            )
        };
    }
    let reg = libc::xdp_umem_reg {
        addr: umem as u64,
        len: umem_len as u64,
        chunk_size: FRAME_SIZE,
        headroom: 0,
        flags: 0,
        tx_metadata_len: 0,
    };
    setsockopt(fd, libc::XDP_UMEM_REG, &reg, "XDP_UMEM_REG")?;
    // The kernel refuses to bind a UMEM without both rings, even for TX only.
    setsockopt(fd, libc::XDP_UMEM_FILL_RING, &FQ_RING, "XDP_UMEM_FILL_RING")?;
    setsockopt(
        fd,
        libc::XDP_UMEM_COMPLETION_RING,
        &CQ_RING,
        "XDP_UMEM_COMPLETION_RING",
    )?;
    setsockopt(fd, libc::XDP_TX_RING, &TX_RING, "XDP_TX_RING")?;
    if let Some(b) = a.budget {
        setsockopt(fd, XDP_MAX_TX_SKB_BUDGET, &b, "XDP_MAX_TX_SKB_BUDGET")?;
    }

    // SAFETY: all-zero is a valid xdp_mmap_offsets; the kernel fills it.
    let mut off: libc::xdp_mmap_offsets = unsafe { std::mem::zeroed() };
    let mut optlen = std::mem::size_of::<libc::xdp_mmap_offsets>() as libc::socklen_t;
    // SAFETY: `off` is writable for `optlen` bytes.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_XDP,
            libc::XDP_MMAP_OFFSETS,
            (&mut off as *mut libc::xdp_mmap_offsets).cast(),
            &mut optlen,
        )
    };
    if r < 0 {
        return Err(os_err("XDP_MMAP_OFFSETS"));
    }
    let desc_size = std::mem::size_of::<libc::xdp_desc>();
    // SAFETY: ring sizes match the setsockopt calls above.
    let (tx, cq, _fq) = unsafe {
        (
            Ring::map(
                fd,
                &off.tx,
                libc::XDP_PGOFF_TX_RING,
                TX_RING,
                desc_size,
                "mmap tx",
            )?,
            Ring::map(
                fd,
                &off.cr,
                libc::XDP_UMEM_PGOFF_COMPLETION_RING as libc::off_t,
                CQ_RING,
                8,
                "mmap cq",
            )?,
            Ring::map(
                fd,
                &off.fr,
                libc::XDP_UMEM_PGOFF_FILL_RING as libc::off_t,
                FQ_RING,
                8,
                "mmap fq",
            )?,
        )
    };

    let mut flags = libc::XDP_COPY;
    if a.need_wakeup {
        flags |= libc::XDP_USE_NEED_WAKEUP;
    }
    let sxdp = libc::sockaddr_xdp {
        sxdp_family: libc::AF_XDP as u16,
        sxdp_flags: flags,
        sxdp_ifindex: ifindex,
        sxdp_queue_id: a.queue,
        sxdp_shared_umem_fd: 0,
    };
    // A previous socket's UMEM pool is released from a kernel work item after close, and until
    // then bind on the same queue fails with EBUSY: retry for up to 2 s (outside the timed loop).
    let mut bind_retries = 0u32;
    loop {
        // SAFETY: `sxdp` is a valid sockaddr_xdp.
        let r = unsafe {
            libc::bind(
                fd,
                (&sxdp as *const libc::sockaddr_xdp).cast(),
                std::mem::size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
            )
        };
        if r == 0 {
            break;
        }
        if io::Error::last_os_error().raw_os_error() != Some(libc::EBUSY) || bind_retries >= 200 {
            return Err(os_err("bind(AF_XDP, XDP_COPY)"));
        }
        bind_retries += 1;
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    let mut free: Vec<u64> = (0..u64::from(NUM_FRAMES))
        .map(|i| i * u64::from(FRAME_SIZE))
        .collect();
    let (mut produced, mut completed, mut kicks, mut again) = (0u64, 0u64, 0u64, 0u64);
    let mut tx_prod = tx.producer().load(Ordering::Relaxed);
    let mut cq_cons = cq.consumer().load(Ordering::Relaxed);
    let t0 = Instant::now();
    while completed < a.count {
        // Reap completions: every completed address is a free frame again.
        let cq_prod = cq.producer().load(Ordering::Acquire);
        while cq_cons != cq_prod {
            // SAFETY: entry index masked into the ring; the kernel published it (Acquire).
            let addr = unsafe { *cq.desc.cast::<u64>().add((cq_cons & cq.mask) as usize) };
            free.push(addr);
            cq_cons = cq_cons.wrapping_add(1);
            completed += 1;
        }
        cq.consumer().store(cq_cons, Ordering::Release);

        // Produce up to one batch.
        let room = TX_RING - tx_prod.wrapping_sub(tx.consumer().load(Ordering::Acquire));
        let n = (a.batch as u64)
            .min(room as u64)
            .min(free.len() as u64)
            .min(a.count - produced) as u32;
        for _ in 0..n {
            let d = libc::xdp_desc {
                addr: free.pop().expect("counted"),
                len: FRAME_LEN as u32,
                options: 0,
            };
            // SAFETY: entry index masked into the ring, which we own until we publish it.
            unsafe {
                tx.desc
                    .cast::<libc::xdp_desc>()
                    .add((tx_prod & tx.mask) as usize)
                    .write(d)
            };
            tx_prod = tx_prod.wrapping_add(1);
        }
        produced += u64::from(n);
        tx.producer().store(tx_prod, Ordering::Release);

        // Kick until the kernel has taken everything we produced (copy mode transmits inside
        // sendto, at most the per-call budget each time).
        while tx.consumer().load(Ordering::Acquire) != tx_prod {
            if a.need_wakeup && tx.flags() & libc::XDP_RING_NEED_WAKEUP == 0 {
                break;
            }
            kicks += 1;
            // SAFETY: zero-length sendto on our socket.
            let r = unsafe { libc::sendto(fd, ptr::null(), 0, libc::MSG_DONTWAIT, ptr::null(), 0) };
            if r < 0 {
                match io::Error::last_os_error().raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::EBUSY) | Some(libc::ENOBUFS) => again += 1,
                    _ => return Err(os_err("sendto")),
                }
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "afxdp_tx {} q{} copy{} batch {} budget {}: {} frames in {:.3} s = {:.0} frames/s, {} sendto ({} EAGAIN/EBUSY/ENOBUFS), {} bind retries",
        a.iface,
        a.queue,
        if a.need_wakeup { "+need_wakeup" } else { "" },
        a.batch,
        a.budget.map_or("default".to_string(), |b| b.to_string()),
        completed,
        secs,
        completed as f64 / secs,
        kicks,
        again,
        bind_retries
    );
    drop((tx, cq, _fq));
    // SAFETY: the rings are unmapped; nothing refers to the UMEM or the socket any more.
    unsafe {
        libc::close(fd);
        libc::munmap(umem, umem_len);
    }
    Ok(())
}

fn main() {
    let a = parse_args();
    if let Err(e) = run(&a) {
        eprintln!("afxdp_tx: {e}");
        std::process::exit(1);
    }
}
