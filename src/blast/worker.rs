//! One sending thread: its link (pnet or the Linux fast path), its TX loop and its RX matching.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::pace::{Pacer, Step};
use super::stats::{Gaps, Recorder};
use super::window::{Match, Window};
use super::{classify, Expect, Progress, Rx, Template};
#[cfg(target_os = "linux")]
use crate::link::packet::fast::FastLink;
#[cfg(target_os = "linux")]
use crate::link::xdp::live::{self, LiveSender};
use crate::link::Link;
use crate::{Error, Result};

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

pub(super) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64
}

/// The link a worker drives, borrowed from the run's session for the run: the fast path's
/// batch API (called directly, no virtual call per frame), or any [`Link`] one frame at a time
/// through a buffer of its own.
pub(super) enum WorkerLink<'s> {
    #[cfg(target_os = "linux")]
    Fast(&'s mut FastLink),
    Other(&'s mut dyn Link, Vec<u8>),
}

impl WorkerLink<'_> {
    /// How this link transmits (what `auto` settled on), for the notice and the summary.
    pub(super) fn tx_mode(&self) -> String {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.tx_mode().to_string(),
            WorkerLink::Other(..) => "sendto".to_string(),
        }
    }

    pub(super) fn send(
        &mut self,
        n: usize,
        fill: &mut dyn FnMut(usize, &mut [u8]) -> usize,
    ) -> Result<usize> {
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
    pub(super) fn recv(
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
    pub(super) fn finish_tx(&mut self) -> Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.tx_drain(Instant::now() + Duration::from_secs(1)),
            WorkerLink::Other(..) => Ok(()),
        }
    }

    pub(super) fn check_error(&mut self) -> Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.check_error(),
            WorkerLink::Other(..) => Ok(()),
        }
    }

    pub(super) fn kernel_drops(&self) -> u64 {
        match self {
            #[cfg(target_os = "linux")]
            WorkerLink::Fast(l) => l.stats().kernel_drops,
            WorkerLink::Other(l, _) => l.stats().kernel_drops,
        }
    }
}

/// State every worker shares.
pub(super) struct Shared {
    pub(super) windows: Vec<Window>,
    pub(super) progress: Vec<Progress>,
    pub(super) stop: AtomicBool,
    /// Workers still sending.
    pub(super) sending: AtomicUsize,
    /// Set when ctrl-C was seen.
    pub(super) interrupted: AtomicBool,
    pub(super) base_id: u16,
    /// What replies look like.
    pub(super) expect: Expect,
}

impl Shared {
    pub(super) fn total(&self, f: impl Fn(&Progress) -> &AtomicU64) -> u64 {
        self.progress
            .iter()
            .map(|p| f(p).load(Ordering::Relaxed))
            .sum()
    }
}

/// What one worker brings back.
pub(super) struct WorkerResult {
    pub(super) rec: Recorder,
    pub(super) gaps: Gaps,
    pub(super) duplicates: u64,
    pub(super) out_of_order: u64,
    pub(super) late: u64,
    pub(super) corrupt: u64,
    pub(super) first_ns: Option<u64>,
    pub(super) last_ns: u64,
    pub(super) kernel_drops: u64,
    /// Stopped by the user: requests unanswered whose wait had not expired.
    pub(super) in_flight: u64,
    pub(super) error: Option<Error>,
}

pub(super) struct Worker<'a> {
    pub(super) k: usize,
    pub(super) shared: &'a Shared,
    pub(super) template: Template,
    /// Frames per second for this worker (None: max).
    pub(super) rate: Option<f64>,
    pub(super) quota: Option<u64>,
    pub(super) until: Option<Instant>,
    pub(super) wait: Duration,
    pub(super) batch: usize,
    pub(super) user_stop: &'a AtomicBool,
    /// XDP live-frame transmitter (TxMode::Live): frames leave through it, not the link.
    #[cfg(target_os = "linux")]
    pub(super) live: Option<LiveSender>,
}

impl Worker<'_> {
    pub(super) fn run(mut self, mut link: WorkerLink<'_>, t0: Instant, t0_ns: u64) -> WorkerResult {
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
            in_flight: 0,
            error: None,
        };
        // (send time ns, first sequence of the batch) of the batches sent within the last
        // wait: on a user stop, what was sent after `stop − wait` is in flight, not lost.
        let wait_ns = self.wait.as_nanos() as u64;
        let mut recent: std::collections::VecDeque<(u64, u64)> = Default::default();
        // Highest sequence answered per sender thread, as this receiver saw them.
        let mut highest: Vec<Option<u64>> = vec![None; threads];
        let shared = self.shared;
        let (base_id, expect) = (shared.base_id, shared.expect);
        let mut on_rx = |data: &[u8], ts: SystemTime, r: &mut WorkerResult| match classify(
            data, base_id, threads, expect,
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

        #[cfg(target_os = "linux")]
        if self.live.is_some() {
            // Live frames are sent by the calling CPU: one core per sender thread.
            live::pin_to_allowed_cpu(self.k);
        }
        let window = &shared.windows[self.k];
        let progress = &shared.progress[self.k];
        let mut seq: u64 = 0;
        #[cfg(target_os = "linux")]
        let mut live = self.live.take();
        #[cfg(target_os = "linux")]
        let cap = if live.is_some() {
            live::MAX_CALL as usize
        } else {
            self.batch
        };
        #[cfg(not(target_os = "linux"))]
        let cap = self.batch;
        // Paced: the planner decides when to send, sleep or spin (see `pace`).
        let mut pacer = self.rate.map(|pps| Pacer::new(pps, self.batch, cap));
        let since = |t: Instant| -> i64 {
            match t.checked_duration_since(t0) {
                Some(d) => d.as_nanos() as i64,
                None => -(t0.duration_since(t).as_nanos() as i64),
            }
        };
        let at = |ns: i64| -> Instant {
            if ns >= 0 {
                t0 + Duration::from_nanos(ns as u64)
            } else {
                t0 - Duration::from_nanos(ns.unsigned_abs())
            }
        };
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
            let step = match &pacer {
                None if now < t0 => Step::Spin,
                None => Step::Send(cap as u64),
                Some(p) => p.step(since(now), seq, left),
            };
            let due = match step {
                Step::Send(n) => n.min(left) as usize,
                _ => 0,
            };
            if due > 0 {
                let ns = now_ns();
                let tpl = &self.template;
                let gaps = &mut r.gaps;
                #[cfg(target_os = "linux")]
                let sent = if let Some(tx) = live.as_mut() {
                    // The program stamps each frame itself; mark the window first, as a
                    // reply may come back before the call returns.
                    for s in seq..seq + due as u64 {
                        window.sent(s);
                    }
                    let n = tx
                        .send(due as u32, self.batch as u32)
                        .map_err(|e| Error::io("transmitting XDP live frames", e))?;
                    gaps.departed_many(ns, n);
                    n as usize
                } else {
                    link.send(due, &mut |i, buf| {
                        let s = seq + i as u64;
                        window.sent(s);
                        gaps.departed(ns);
                        tpl.write(buf, s, ns)
                    })?
                };
                #[cfg(not(target_os = "linux"))]
                let sent = link.send(due, &mut |i, buf| {
                    let s = seq + i as u64;
                    window.sent(s);
                    gaps.departed(ns);
                    tpl.write(buf, s, ns)
                })?;
                if sent > 0 {
                    while recent
                        .front()
                        .is_some_and(|&(t, _)| t.saturating_add(wait_ns) < ns)
                    {
                        recent.pop_front();
                    }
                    if recent.back().is_none_or(|&(t, _)| t != ns) {
                        recent.push_back((ns, seq));
                    }
                    r.first_ns.get_or_insert(ns);
                    r.last_ns = ns;
                    seq += sent as u64;
                    progress.sent.store(seq, Ordering::Relaxed);
                }
            }
            link.recv(None, &mut |d, ts| on_rx(d, ts, &mut r))?;
            match step {
                // Sleep in the kernel (waking early for replies) until the wake-up latency
                // before the departure; the rest is spun on the next rounds.
                Step::Sleep(wake_ns) => {
                    let mut wake = at(wake_ns);
                    if let Some(u) = self.until {
                        wake = wake.min(u);
                    }
                    link.recv(Some(wake), &mut |d, ts| on_rx(d, ts, &mut r))?;
                    if let Some(p) = pacer.as_mut() {
                        p.woke(since(wake), since(Instant::now()));
                    }
                }
                Step::Spin => std::hint::spin_loop(),
                Step::Send(_) if pacer.is_none() && due > 0 && due < cap => std::hint::spin_loop(),
                Step::Send(_) => {}
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
        let stop_ns = now_ns();
        if self.user_stop.load(Ordering::Relaxed) {
            shared.interrupted.store(true, Ordering::Relaxed);
            // The first request sent after stop − wait: it and all later ones had time left.
            let from = recent
                .iter()
                .find(|&&(t, _)| t.saturating_add(wait_ns) > stop_ns)
                .map_or(seq, |&(_, s)| s)
                .max(seq.saturating_sub(window.len() as u64));
            r.in_flight = (from..seq).filter(|&s| window.unanswered(s)).count() as u64;
        }
        r.rec.close_interval(stop_ns);
        r.kernel_drops = link.kernel_drops();
        if let Err(e) = res {
            shared.stop.store(true, Ordering::Relaxed);
            r.error = Some(e);
        }
        r
    }
}
