//! High-rate echo generator: send echo requests at a set rate (or the maximum) from one or
//! more threads, match every reply through a sequence-indexed window, time it with the kernel
//! receive timestamp, and report rate, loss, reordering and latency percentiles.
//!
//! Every request's data starts with its 64-bit sequence number and its send time (UNIX ns,
//! little endian); the ICMP identifier names the sending thread (`id + thread`), the ICMP
//! sequence field holds the low 16 bits of the sequence number.

pub mod plot;
pub mod stats;
pub mod window;

use std::io::{IsTerminal, Write as _};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[cfg(target_os = "linux")]
use crate::link::fast::{FastLink, FastOptions, TxMode};
use crate::link::{self, Backend, Link, LinkConfig, RxFilter};
use crate::net::loopback::LoopbackGuard;
use crate::net::resolve::{self, PathRequest};
use crate::probe::options::OptionsRequest;
use crate::wire::{build_icmp_frame, checksum, EthernetRepr, IcmpRepr, Ipv4Repr, ETHERTYPE_IPV4};
use crate::{Error, Result};
use stats::{BlastSummary, Gaps, Recorder, RttSummary};
use window::{Match, Window};

/// Bytes of sequence number + send time at the start of every request's data.
pub const STAMP_BYTES: usize = 16;
/// Slots of the matching window per sender thread.
const WINDOW: usize = 1 << 18;
/// Default and largest number of frames per syscall.
pub const DEFAULT_BATCH: usize = 64;
/// Largest `--batch`.
pub const MAX_BATCH: usize = 1024;
/// Sleep in the kernel only when the next departure is further away than this; spin otherwise.
const SPIN: Duration = Duration::from_micros(200);
const MAX_IP_LEN: usize = 65535;

/// How fast to send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// Frames per second, over all threads.
    Pps(f64),
    /// As fast as the path takes them.
    Max,
}

impl std::str::FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Rate, String> {
        if s == "max" {
            return Ok(Rate::Max);
        }
        let v: f64 = s
            .parse()
            .map_err(|_| format!("{s:?}: expected frames per second (e.g. 10000) or max"))?;
        if !(v.is_finite() && v > 0.0) {
            return Err(format!(
                "{s}: the rate must be more than 0 frames per second"
            ));
        }
        Ok(Rate::Pps(v))
    }
}

/// A validated blast request.
#[derive(Debug, Clone)]
pub struct BlastRequest {
    /// The host to load.
    pub dest: Ipv4Addr,
    /// Sending rate.
    pub rate: Rate,
    /// Stop after this many requests (over all threads).
    pub count: Option<u64>,
    /// Stop sending after this long.
    pub duration: Option<Duration>,
    /// ICMP data bytes (at least [`STAMP_BYTES`]).
    pub size: usize,
    /// Sender threads (each with its own TX ring and RX ring in one fanout group).
    pub threads: usize,
    /// IP TTL.
    pub ttl: u8,
    /// IP TOS.
    pub tos: u8,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// ICMP identifier of thread 0 (thread k uses id + k).
    pub id: u16,
    /// Bytes repeated after the stamp; empty: 0x10, 0x11, ...
    pub pattern: Vec<u8>,
    /// IP options.
    pub options: OptionsRequest,
    /// Interface and address overrides.
    pub path: PathRequest,
    /// Which link implementation.
    pub backend: Backend,
    /// How the fast link transmits.
    #[cfg(target_os = "linux")]
    pub tx_mode: TxMode,
    /// After the last request, wait this long for outstanding replies.
    pub wait: Duration,
    /// At most this many frames per syscall (larger: fewer syscalls, but a later frame of a
    /// batch leaves later than its send stamp says, which inflates its RTT).
    pub batch: usize,
}

impl BlastRequest {
    /// Defaults: 1000 pps, 56 data bytes, TTL 64, one thread, 1 s wait, fast backend on Linux.
    pub fn new(dest: Ipv4Addr) -> BlastRequest {
        BlastRequest {
            dest,
            rate: Rate::Pps(1000.0),
            count: None,
            duration: None,
            size: 56,
            threads: 1,
            ttl: 64,
            tos: 0,
            dont_fragment: false,
            id: (std::process::id() & 0xffff) as u16,
            pattern: Vec::new(),
            options: OptionsRequest::default(),
            path: PathRequest {
                arp_timeout: Duration::from_secs(2),
                ..Default::default()
            },
            backend: Backend::default(),
            #[cfg(target_os = "linux")]
            tx_mode: TxMode::Auto,
            wait: Duration::from_secs(1),
            batch: DEFAULT_BATCH,
        }
    }
}

/// Live counters, readable while the run goes on (for the progress line).
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests sent so far.
    pub sent: AtomicU64,
    /// Distinct replies so far.
    pub received: AtomicU64,
}

/// The end of a run: the summary always, and the error that cut it short, if any.
#[derive(Debug)]
pub struct BlastOutcome {
    /// What was sent and received.
    pub summary: BlastSummary,
    /// RTT over time (for `--plot`).
    pub timeline: Vec<stats::TimePoint>,
    /// Why the run stopped early.
    pub error: Option<Error>,
}

fn validate(req: &BlastRequest) -> Result<()> {
    if let Rate::Pps(r) = req.rate {
        if !(r.is_finite() && r > 0.0) {
            return Err(Error::Invalid(format!(
                "--rate {r}: the rate must be more than 0 frames per second"
            )));
        }
    }
    if req.count.is_none() && req.duration.is_none() {
        return Err(Error::Invalid(
            "blast needs --count N or --duration SECS (or both): the run must end by itself".into(),
        ));
    }
    if req.count == Some(0) {
        return Err(Error::Invalid("--count must be at least 1".into()));
    }
    if req.duration.is_some_and(|d| d.is_zero()) {
        return Err(Error::Invalid("--duration must be more than 0".into()));
    }
    if req.batch == 0 || req.batch > MAX_BATCH {
        return Err(Error::Invalid(format!(
            "--batch {}: expected 1..={MAX_BATCH}",
            req.batch
        )));
    }
    if req.threads == 0 {
        return Err(Error::Invalid("--threads must be at least 1".into()));
    }
    if req.threads > 1 && req.backend != Backend::Fast {
        return Err(Error::Invalid(
            "--threads above 1 needs --backend fast (one TX ring and one fanout RX ring per thread)"
                .into(),
        ));
    }
    if req.size < STAMP_BYTES {
        return Err(Error::Invalid(format!(
            "-s {}: blast needs at least {STAMP_BYTES} data bytes (sequence number + send time)",
            req.size
        )));
    }
    if req.pattern.len() > 16 {
        return Err(Error::Invalid(format!(
            "-p PATTERN holds at most 16 bytes, got {}",
            req.pattern.len()
        )));
    }
    if req.ttl == 0 {
        return Err(Error::Invalid("-t TTL must be 1..=255".into()));
    }
    if usize::from(req.id) + req.threads > 0x10000 {
        return Err(Error::Invalid(format!(
            "--id {} + {} threads runs past identifier 65535",
            req.id, req.threads
        )));
    }
    Ok(())
}

/// Transmit queues of `iface` (ETHTOOL_GCHANNELS; 1 when the driver does not say).
pub fn tx_queues(iface: &str) -> usize {
    #[repr(C)]
    struct EthtoolChannels {
        cmd: u32,
        max_rx: u32,
        max_tx: u32,
        max_other: u32,
        max_combined: u32,
        rx_count: u32,
        tx_count: u32,
        other_count: u32,
        combined_count: u32,
    }
    const SIOCETHTOOL: libc::c_ulong = 0x8946;
    const ETHTOOL_GCHANNELS: u32 = 0x3c;
    let mut ch = EthtoolChannels {
        cmd: ETHTOOL_GCHANNELS,
        max_rx: 0,
        max_tx: 0,
        max_other: 0,
        max_combined: 0,
        rx_count: 0,
        tx_count: 0,
        other_count: 0,
        combined_count: 0,
    };
    // SAFETY: ifreq is plain data.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(iface.bytes().take(15)) {
        *d = s as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (&mut ch as *mut EthtoolChannels).cast();
    // SAFETY: a datagram socket for the ioctl, closed right after.
    let n = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return 1;
        }
        let rc = libc::ioctl(fd, SIOCETHTOOL as _, &mut ifr);
        libc::close(fd);
        if rc != 0 {
            return 1;
        }
        ch.tx_count.max(ch.combined_count)
    };
    (n as usize).max(1)
}

/// The request frame of one thread, with the checksum sum of its constant part precomputed so
/// each frame costs one copy plus a few additions.
#[derive(Clone)]
struct Template {
    frame: Vec<u8>,
    /// Offset of the ICMP header in the frame.
    icmp: usize,
    /// One's-complement sum of the ICMP message with checksum, sequence and stamp zeroed.
    base_sum: u32,
}

impl Template {
    fn new(eth: &EthernetRepr, ip: &Ipv4Repr, id: u16, data: Vec<u8>) -> Result<Template> {
        let icmp = IcmpRepr::echo_request(id, 0, data);
        let frame = build_icmp_frame(eth, ip, &icmp)?;
        let icmp_off = frame.len() - icmp.buffer_len();
        // Checksum, ICMP sequence and stamp change per frame: sum the rest once.
        let mut z = frame[icmp_off..].to_vec();
        z[2..4].fill(0);
        z[6..8 + STAMP_BYTES].fill(0);
        let base_sum = u32::from(!checksum(&z));
        Ok(Template {
            frame,
            icmp: icmp_off,
            base_sum,
        })
    }

    /// Write request `seq` sent at `ns` into `buf`; returns its length.
    #[inline]
    fn write(&self, buf: &mut [u8], seq: u64, ns: u64) -> usize {
        let len = self.frame.len();
        let f = &mut buf[..len];
        f.copy_from_slice(&self.frame);
        let i = self.icmp;
        let s16 = seq as u16;
        f[i + 6..i + 8].copy_from_slice(&s16.to_be_bytes());
        f[i + 8..i + 16].copy_from_slice(&seq.to_le_bytes());
        f[i + 16..i + 24].copy_from_slice(&ns.to_le_bytes());
        let mut sum = self.base_sum + u32::from(s16);
        for w in f[i + 8..i + 24].chunks_exact(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        f[i + 2..i + 4].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        len
    }
}

/// What [`classify`] makes of a received frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Rx {
    /// An echo reply to one of our threads.
    Reply {
        /// Which thread sent the request (its ICMP id minus the base id).
        thread: usize,
        /// The request's 64-bit sequence number (from the data; its low 16 bits are the ICMP
        /// sequence field).
        seq: u64,
        /// When it was sent (ns, from the data).
        sent_ns: u64,
    },
    /// An echo reply to one of our threads with a bad checksum or a sequence field that
    /// disagrees with its data.
    Corrupt,
    /// Anything else.
    NotOurs,
}

/// Recognise an echo reply to one of our requests (ICMP ids `base_id .. base_id + threads`,
/// untagged Ethernet, unfragmented, at least [`STAMP_BYTES`] of data) without allocating.
/// Bounds-checked throughout; public so it can be fuzzed against [`crate::wire::parse_frame`].
pub fn classify(f: &[u8], base_id: u16, threads: usize) -> Rx {
    let get = |r: std::ops::Range<usize>| f.get(r);
    if get(12..14) != Some(&[0x08, 0x00]) {
        return Rx::NotOurs;
    }
    let Some(&vihl) = f.get(14) else {
        return Rx::NotOurs;
    };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || f.get(23) != Some(&1) {
        return Rx::NotOurs;
    }
    let Some(fr) = get(20..22) else {
        return Rx::NotOurs;
    };
    if u16::from_be_bytes([fr[0], fr[1]]) & 0x3fff != 0 {
        return Rx::NotOurs; // a fragment
    }
    let tot = usize::from(u16::from_be_bytes([f[16], f[17]]));
    let Some(icmp) = get(14 + ihl..14 + tot.max(ihl)) else {
        return Rx::NotOurs;
    };
    if icmp.len() < 8 + STAMP_BYTES || icmp[0] != 0 || icmp[1] != 0 {
        return Rx::NotOurs;
    }
    let id = u16::from_be_bytes([icmp[4], icmp[5]]);
    let thread = usize::from(id.wrapping_sub(base_id));
    if thread >= threads {
        return Rx::NotOurs;
    }
    let seq = u64::from_le_bytes(icmp[8..16].try_into().unwrap_or_default());
    if checksum(icmp) != 0 || u16::from_be_bytes([icmp[6], icmp[7]]) != seq as u16 {
        return Rx::Corrupt;
    }
    let sent_ns = u64::from_le_bytes(icmp[16..24].try_into().unwrap_or_default());
    Rx::Reply {
        thread,
        seq,
        sent_ns,
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64
}

/// The link a worker drives: the fast path's batch API, or any [`Link`] one frame at a time.
/// Not boxed: one per thread, and the fast variant is the hot one.
#[allow(clippy::large_enum_variant)]
enum WorkerLink {
    #[cfg(target_os = "linux")]
    Fast(FastLink),
    Other(Box<dyn Link>, Vec<u8>),
}

impl WorkerLink {
    fn send(&mut self, n: usize, fill: &mut dyn FnMut(usize, &mut [u8]) -> usize) -> Result<usize> {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.send_in_place(n, fill),
            WorkerLink::Other(l, buf) => {
                for i in 0..n {
                    let len = fill(i, buf);
                    l.send(&buf[..len])?;
                }
                Ok(n)
            }
        }
    }

    /// Hand every frame waiting (or, with a future `deadline`, the first to arrive by then and
    /// all waiting after it) to `f`.
    fn recv(
        &mut self,
        deadline: Option<Instant>,
        f: &mut dyn FnMut(&[u8], SystemTime),
    ) -> Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => {
                if l.recv_in_place(f)? == 0 {
                    if let Some(d) = deadline {
                        l.wait_rx(d)?;
                        l.recv_in_place(f)?;
                    }
                }
                Ok(())
            }
            WorkerLink::Other(l, _) => {
                let mut until = deadline.unwrap_or_else(Instant::now);
                while let Some(rx) = l.recv(until)? {
                    f(rx.data, rx.timestamp);
                    until = Instant::now();
                }
                Ok(())
            }
        }
    }

    /// After the last send: make sure every queued frame has left.
    fn finish_tx(&mut self) -> Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.tx_drain(Instant::now() + Duration::from_secs(1)),
            WorkerLink::Other(..) => Ok(()),
        }
    }

    fn check_error(&mut self) -> Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.check_error(),
            WorkerLink::Other(..) => Ok(()),
        }
    }

    fn kernel_drops(&self) -> u64 {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.stats().kernel_drops,
            WorkerLink::Other(l, _) => l.stats().kernel_drops,
        }
    }
}

/// State every worker shares.
struct Shared {
    windows: Vec<Window>,
    progress: Vec<Progress>,
    stop: AtomicBool,
    /// Workers still sending.
    sending: AtomicUsize,
    /// Set when ctrl-C was seen.
    interrupted: AtomicBool,
    base_id: u16,
}

impl Shared {
    fn total(&self, f: impl Fn(&Progress) -> &AtomicU64) -> u64 {
        self.progress
            .iter()
            .map(|p| f(p).load(Ordering::Relaxed))
            .sum()
    }
}

/// What one worker brings back.
struct WorkerResult {
    rec: Recorder,
    gaps: Gaps,
    duplicates: u64,
    out_of_order: u64,
    late: u64,
    corrupt: u64,
    first_ns: Option<u64>,
    last_ns: u64,
    kernel_drops: u64,
    error: Option<Error>,
}

struct Worker<'a> {
    k: usize,
    shared: &'a Shared,
    template: Template,
    /// Frames per second for this worker (None: max).
    rate: Option<f64>,
    quota: Option<u64>,
    until: Option<Instant>,
    wait: Duration,
    batch: usize,
    user_stop: &'a AtomicBool,
}

impl Worker<'_> {
    fn run(self, mut link: WorkerLink, t0: Instant, t0_ns: u64) -> WorkerResult {
        // Wake from ppoll on time (default slack is 50 us): pacing depends on it.
        // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack.
        #[cfg(target_os = "linux")]
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong)
        };
        let threads = self.shared.windows.len();
        let mut r = WorkerResult {
            rec: Recorder::new(t0_ns),
            gaps: Gaps::default(),
            duplicates: 0,
            out_of_order: 0,
            late: 0,
            corrupt: 0,
            first_ns: None,
            last_ns: 0,
            kernel_drops: 0,
            error: None,
        };
        // Highest sequence answered per sender thread, as this receiver saw them.
        let mut highest: Vec<Option<u64>> = vec![None; threads];
        let shared = self.shared;
        let base_id = shared.base_id;
        let mut on_rx = |data: &[u8], ts: SystemTime, r: &mut WorkerResult| match classify(
            data, base_id, threads,
        ) {
            Rx::Reply {
                thread,
                seq,
                sent_ns,
            } => match shared.windows[thread].reply(seq) {
                Match::First => {
                    shared.progress[thread]
                        .received
                        .fetch_add(1, Ordering::Relaxed);
                    let rx_ns = ts.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos() as u64;
                    r.rec.rtt(sent_ns, rx_ns);
                    match highest[thread] {
                        Some(h) if seq < h => r.out_of_order += 1,
                        _ => highest[thread] = Some(seq),
                    }
                }
                Match::Duplicate => r.duplicates += 1,
                Match::Late => r.late += 1,
                Match::Unknown => r.corrupt += 1,
            },
            Rx::Corrupt => r.corrupt += 1,
            Rx::NotOurs => {}
        };

        let window = &shared.windows[self.k];
        let progress = &shared.progress[self.k];
        let mut seq: u64 = 0;
        let result: Result<()> = (|| loop {
            if self.user_stop.load(Ordering::Relaxed) {
                shared.interrupted.store(true, Ordering::Relaxed);
                return Ok(());
            }
            if shared.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let now = Instant::now();
            if self.until.is_some_and(|u| now >= u) || self.quota.is_some_and(|q| seq >= q) {
                return Ok(());
            }
            let left = self.quota.map_or(u64::MAX, |q| q - seq);
            let due = match self.rate {
                _ if now < t0 => 0,
                None => self.batch as u64,
                Some(pps) => {
                    let by_now = (now.duration_since(t0).as_secs_f64() * pps) as u64 + 1;
                    by_now.saturating_sub(seq).min(self.batch as u64)
                }
            }
            .min(left) as usize;
            if due > 0 {
                let ns = now_ns();
                let tpl = &self.template;
                let gaps = &mut r.gaps;
                let sent = link.send(due, &mut |i, buf| {
                    let s = seq + i as u64;
                    window.sent(s);
                    gaps.departed(ns);
                    tpl.write(buf, s, ns)
                })?;
                if sent > 0 {
                    r.first_ns.get_or_insert(ns);
                    r.last_ns = ns;
                    seq += sent as u64;
                    progress.sent.store(seq, Ordering::Relaxed);
                }
            }
            link.recv(None, &mut |d, ts| on_rx(d, ts, &mut r))?;
            if now < t0 {
                std::hint::spin_loop();
            } else if let Some(pps) = self.rate {
                let next = t0 + Duration::from_secs_f64(seq as f64 / pps);
                let now = Instant::now();
                if next > now + SPIN {
                    let mut wake = next - SPIN / 2;
                    if let Some(u) = self.until {
                        wake = wake.min(u);
                    }
                    link.recv(Some(wake), &mut |d, ts| on_rx(d, ts, &mut r))?;
                } else if next > now {
                    std::hint::spin_loop();
                }
            } else if due > 0 && due < self.batch {
                std::hint::spin_loop();
            }
        })();
        let result = result.and_then(|()| link.finish_tx());
        shared.sending.fetch_sub(1, Ordering::AcqRel);
        if let Err(e) = result {
            shared.stop.store(true, Ordering::Relaxed);
            r.error = Some(e);
            r.kernel_drops = link.kernel_drops();
            return r;
        }
        // Wait for the last replies: until every thread's requests are answered, the wait is
        // over, or the user stops. Another thread's replies may land in this ring.
        let end_wait = Instant::now() + self.wait;
        let res: Result<()> = (|| loop {
            let now = Instant::now();
            let all_sent = shared.sending.load(Ordering::Acquire) == 0;
            let answered = shared.total(|p| &p.received) >= shared.total(|p| &p.sent);
            if (all_sent && (answered || now >= end_wait))
                || self.user_stop.load(Ordering::Relaxed)
                || shared.stop.load(Ordering::Relaxed)
            {
                return Ok(());
            }
            link.check_error()?;
            let wake = (now + Duration::from_millis(10)).min(end_wait.max(now));
            link.recv(Some(wake), &mut |d, ts| on_rx(d, ts, &mut r))?;
        })();
        r.rec.close_interval(now_ns());
        r.kernel_drops = link.kernel_drops();
        if let Err(e) = res {
            shared.stop.store(true, Ordering::Relaxed);
            r.error = Some(e);
        }
        r
    }
}

/// Run a blast. Refuses what it can before anything is sent; once sending has started, an
/// error (e.g. the interface went down) ends the run and comes back in
/// [`BlastOutcome::error`] beside the summary of what was sent until then.
pub fn run(req: &BlastRequest, user_stop: &AtomicBool, live: bool) -> Result<BlastOutcome> {
    validate(req)?;
    let ip_options = req.options.build(req.dest)?;
    let wire_dst = req.options.wire_destination(req.dest);
    let path_req = PathRequest {
        dst: Some(wire_dst),
        ..req.path.clone()
    };
    let plan = resolve::plan(&path_req)?;
    let option_bytes = crate::wire::emit_options(&ip_options)?.len();
    let ip_bytes = 20 + option_bytes + 8 + req.size;
    let limit = (plan.iface.mtu as usize).min(MAX_IP_LEN);
    if ip_bytes > limit {
        return Err(Error::Invalid(format!(
            "-s {} makes a {ip_bytes}-byte IP packet but the MTU of {} is {limit}: the largest -s here is {}",
            req.size,
            plan.iface.name,
            limit.saturating_sub(20 + option_bytes + 8)
        )));
    }
    let frame_len = 14 + ip_bytes;
    #[cfg(target_os = "linux")]
    if req.backend == Backend::Fast && frame_len > crate::link::fast::MAX_FRAME {
        return Err(Error::Invalid(format!(
            "a {frame_len}-byte frame does not fit the fast link's TX ring slot (at most {} bytes): \
             the largest -s here is {}",
            crate::link::fast::MAX_FRAME,
            crate::link::fast::MAX_FRAME - 14 - 20 - option_bytes - 8
        )));
    }
    let queues = tx_queues(&plan.iface.name);
    if req.threads > queues {
        return Err(Error::Invalid(format!(
            "--threads {} but {} has {queues} transmit queue{}: at most --threads {queues}",
            req.threads,
            plan.iface.name,
            if queues == 1 { "" } else { "s" }
        )));
    }

    let cfg = LinkConfig {
        filter: RxFilter::ArpAndIcmpTo(plan.src_ip),
        promiscuous: false,
        buffer_size: 4 << 20,
    };
    let open = |iface: &crate::net::Interface, queue: u32| -> Result<WorkerLink> {
        match req.backend {
            #[cfg(target_os = "linux")]
            Backend::Fast => Ok(WorkerLink::Fast(FastLink::open(
                iface,
                &cfg,
                FastOptions {
                    tx_mode: req.tx_mode,
                    max_frame: frame_len,
                    queue,
                },
            )?)),
            _ => Ok(WorkerLink::Other(
                link::open_backend(req.backend, iface, &cfg)?,
                vec![0u8; frame_len],
            )),
        }
    };
    let mut first = open(&plan.iface, 0)?;
    let _lo_guard = if plan.iface.is_loopback {
        Some(LoopbackGuard::enable()?)
    } else {
        None
    };
    let path = {
        let l: &mut dyn Link = match &mut first {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l,
            WorkerLink::Other(l, _) => l.as_mut(),
        };
        resolve::complete(plan, &path_req, l)?
    };
    let mut links = vec![first];
    for queue in 1..req.threads {
        links.push(open(&path.plan.iface, queue as u32)?);
    }
    // What the links really transmit with (`auto` settles on AF_XDP or the TX ring).
    let tx_mode_used = match &links[0] {
        #[cfg(target_os = "linux")]
        WorkerLink::Fast(f) => f.tx_mode().to_string(),
        _ => "sendto".to_string(),
    };
    #[cfg(target_os = "linux")]
    if links.len() > 1 {
        let group = (std::process::id() & 0xffff) as u16;
        for l in &mut links {
            if let WorkerLink::Fast(f) = l {
                f.join_fanout(group)?;
            }
        }
    }

    let eth = EthernetRepr {
        dst: path.dst_mac,
        src: path.src_mac,
        vlan: None,
        ethertype: ETHERTYPE_IPV4,
    };
    let mut ip = Ipv4Repr::new(path.plan.src_ip, wire_dst, 1);
    ip.ttl = req.ttl;
    ip.tos = req.tos;
    ip.dont_fragment = req.dont_fragment;
    ip.options = ip_options;
    let data: Vec<u8> = (0..req.size)
        .map(|i| match req.pattern.as_slice() {
            [] => (i + 8) as u8,
            p => p[(i - STAMP_BYTES.min(i)) % p.len()],
        })
        .collect();

    let n = req.threads;
    let shared = Shared {
        windows: (0..n).map(|_| Window::new(WINDOW)).collect(),
        progress: (0..n).map(|_| Progress::default()).collect(),
        stop: AtomicBool::new(false),
        sending: AtomicUsize::new(n),
        interrupted: AtomicBool::new(false),
        base_id: req.id,
    };
    let mut workers = Vec::with_capacity(n);
    for k in 0..n {
        let quota = req
            .count
            .map(|c| c / n as u64 + u64::from((k as u64) < c % n as u64));
        workers.push(Worker {
            k,
            shared: &shared,
            template: Template::new(&eth, &ip, req.id.wrapping_add(k as u16), data.clone())?,
            rate: match req.rate {
                Rate::Pps(r) => Some(r / n as f64),
                Rate::Max => None,
            },
            quota,
            until: None,
            wait: req.wait,
            batch: req.batch,
            user_stop,
        });
    }

    let started = Instant::now();
    // Start all threads on one schedule, slightly in the future.
    let t0 = started + Duration::from_millis(2);
    let t0_ns = now_ns() + 2_000_000;
    for w in &mut workers {
        w.until = req.duration.map(|d| t0 + d);
    }
    let results: Vec<WorkerResult> = std::thread::scope(|sc| {
        let handles: Vec<_> = workers
            .into_iter()
            .zip(links)
            .map(|(w, l)| sc.spawn(move || w.run(l, t0, t0_ns)))
            .collect();
        let mut last = (Instant::now(), 0u64, 0u64);
        let tty = live && std::io::stderr().is_terminal();
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            if tty && last.0.elapsed() >= Duration::from_secs(1) {
                let (s, r) = (shared.total(|p| &p.sent), shared.total(|p| &p.received));
                let dt = last.0.elapsed().as_secs_f64();
                let loss = if s > 0 {
                    100.0 * s.saturating_sub(r) as f64 / s as f64
                } else {
                    0.0
                };
                eprint!(
                    "\r{:>7.1}s  tx {:>10.0}/s  rx {:>10.0}/s  sent {s}  received {r}  loss so far {loss:.2}%   ",
                    started.elapsed().as_secs_f64(),
                    (s - last.1) as f64 / dt,
                    (r - last.2) as f64 / dt
                );
                let _ = std::io::stderr().flush();
                last = (Instant::now(), s, r);
            }
        }
        if tty && last.1 > 0 {
            eprintln!();
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("blast worker panicked"))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    Ok(merge(
        req,
        &path,
        &shared,
        results,
        frame_len,
        elapsed,
        tx_mode_used,
    ))
}

fn merge(
    req: &BlastRequest,
    path: &resolve::Path,
    shared: &Shared,
    results: Vec<WorkerResult>,
    frame_len: usize,
    elapsed: f64,
    tx_mode_used: String,
) -> BlastOutcome {
    let mut rtt = stats::rtt_histogram();
    let mut gaps = Gaps::default();
    let mut timeline = Vec::new();
    let (mut dup, mut ooo, mut late, mut corrupt, mut drops) = (0, 0, 0, 0, 0);
    let mut first = u64::MAX;
    let mut last = 0u64;
    let mut error = None;
    for r in results {
        let _ = rtt.add(&r.rec.rtt);
        gaps.merge(&r.gaps);
        timeline.extend(r.rec.timeline);
        dup += r.duplicates;
        ooo += r.out_of_order;
        late += r.late;
        corrupt += r.corrupt;
        drops += r.kernel_drops;
        if let Some(f) = r.first_ns {
            first = first.min(f);
            last = last.max(r.last_ns);
        }
        if error.is_none() {
            error = r.error;
        }
    }
    timeline.sort_by(|a, b| a.t.total_cmp(&b.t));
    let sent = shared.total(|p| &p.sent);
    let received = shared.total(|p| &p.received);
    let send_seconds = if first <= last {
        (last - first) as f64 / 1e9
    } else {
        0.0
    };
    // n frames span n−1 gaps at the asked rate.
    let achieved_rate = if sent > 1 && send_seconds > 0.0 {
        (sent - 1) as f64 / send_seconds
    } else {
        0.0
    };
    let (gap_mean_us, jitter_us) = gaps.mean_stddev_us().unzip();
    let summary = BlastSummary {
        kind: "summary",
        dest: req.dest.to_string(),
        src: path.plan.src_ip.to_string(),
        iface: path.plan.iface.name.clone(),
        backend: match req.backend {
            Backend::Fast => "fast".into(),
            Backend::Pnet => "pnet".into(),
        },
        tx_mode: tx_mode_used,
        threads: req.threads,
        frame_bytes: frame_len,
        sent,
        received,
        lost: sent.saturating_sub(received),
        loss_percent: if sent > 0 {
            100.0 * sent.saturating_sub(received) as f64 / sent as f64
        } else {
            0.0
        },
        duplicates: dup,
        out_of_order: ooo,
        late,
        corrupt,
        kernel_drops: drops,
        asked_rate: match req.rate {
            Rate::Pps(r) => Some(r),
            Rate::Max => None,
        },
        achieved_rate,
        rx_rate: if elapsed > 0.0 {
            received as f64 / elapsed
        } else {
            0.0
        },
        send_seconds,
        elapsed_seconds: elapsed,
        gap_mean_us,
        jitter_us,
        rtt_us: RttSummary::from_histogram(&rtt),
        histogram: stats::buckets(&rtt),
        error: error.as_ref().map(|e: &Error| e.to_string()),
        interrupted: shared.interrupted.load(Ordering::Relaxed),
    };
    BlastOutcome {
        summary,
        timeline,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{parse_frame, IcmpMessage, MacAddr, L3, L4};

    fn template(size: usize) -> Template {
        let eth = EthernetRepr {
            dst: MacAddr(2, 0, 0, 0, 0, 2),
            src: MacAddr(2, 0, 0, 0, 0, 1),
            vlan: None,
            ethertype: ETHERTYPE_IPV4,
        };
        let ip = Ipv4Repr::new(
            "192.0.2.2".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
            1,
        );
        Template::new(&eth, &ip, 0x4242, (0..size).map(|i| i as u8).collect()).unwrap()
    }

    #[test]
    fn incremental_checksum_matches_a_full_one() {
        for size in [16, 17, 18, 56, 1400] {
            let t = template(size);
            let mut buf = vec![0u8; 2048];
            for (seq, ns) in [
                (0u64, 0u64),
                (1, 1),
                (65535, u64::MAX),
                (1 << 40, 123456789),
            ] {
                let n = t.write(&mut buf, seq, ns);
                let f = parse_frame(&buf[..n]).unwrap();
                let L3::Ipv4 {
                    ip,
                    l4: L4::Icmp(p),
                } = f.l3
                else {
                    panic!()
                };
                assert!(ip.checksum_ok && p.checksum_ok, "size {size} seq {seq}");
                let IcmpMessage::EchoRequest { id, seq: s16, data } = p.repr.message else {
                    panic!()
                };
                assert_eq!((id, s16), (0x4242, seq as u16));
                assert_eq!(&data[..8], &seq.to_le_bytes());
                assert_eq!(&data[8..16], &ns.to_le_bytes());
            }
        }
    }

    /// Turn a request frame into the reply the kernel would send.
    fn reply_of(req: &[u8]) -> Vec<u8> {
        let mut r = req.to_vec();
        r[34] = 0; // type 0: echo reply
        let mut z = r[34..].to_vec();
        z[2..4].fill(0);
        let c = checksum(&z);
        r[36..38].copy_from_slice(&c.to_be_bytes());
        r
    }

    #[test]
    fn classify_replies_and_refuse_the_rest() {
        let t = template(56);
        let mut buf = vec![0u8; 256];
        let n = t.write(&mut buf, 77, 999);
        let req = buf[..n].to_vec();
        assert_eq!(classify(&req, 0x4242, 1), Rx::NotOurs, "our own request");
        let rep = reply_of(&req);
        assert_eq!(
            classify(&rep, 0x4242, 1),
            Rx::Reply {
                thread: 0,
                seq: 77,
                sent_ns: 999
            }
        );
        assert_eq!(
            classify(&rep, 0x4241, 2),
            Rx::Reply {
                thread: 1,
                seq: 77,
                sent_ns: 999
            }
        );
        assert_eq!(classify(&rep, 0x4243, 4), Rx::NotOurs, "other id");
        let mut bad = rep.clone();
        bad[60] ^= 1;
        assert_eq!(classify(&bad, 0x4242, 1), Rx::Corrupt);
        for cut in 0..rep.len() {
            let _ = classify(&rep[..cut], 0x4242, 1);
        }
        let mut garbage = rep.clone();
        garbage[14] = 0x4f; // IHL 15 past the end
        let _ = classify(&garbage, 0x4242, 1);
        garbage[16..18].copy_from_slice(&[0xff, 0xff]);
        let _ = classify(&garbage, 0x4242, 1);
    }

    #[test]
    fn rate_parsing_and_validation() {
        assert_eq!("max".parse::<Rate>(), Ok(Rate::Max));
        assert_eq!("1e4".parse::<Rate>(), Ok(Rate::Pps(10000.0)));
        for bad in ["0", "-5", "nan", "inf", "fast"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        let mut r = BlastRequest::new("192.0.2.1".parse().unwrap());
        assert!(validate(&r).unwrap_err().to_string().contains("--count"));
        r.count = Some(10);
        validate(&r).unwrap();
        r.size = 15;
        assert!(validate(&r).unwrap_err().to_string().contains("16"));
        r.size = 56;
        r.threads = 0;
        assert!(validate(&r).is_err());
        r.threads = 2;
        r.backend = Backend::Pnet;
        assert!(validate(&r).unwrap_err().to_string().contains("fast"));
    }
}
