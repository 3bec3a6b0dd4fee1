//! The run loop, one job per step: report progress when asked, stop sending after the count,
//! fail the probes whose next hop never answered ARP, time out the late ones, send the probe
//! that is due, and otherwise take in what arrives, until the run is over.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use super::book::{Book, Pending};
use super::classify::{classify, fragment_ip};
use super::path::ProbePath;
use super::totals::RunTotals;
use super::{Flow, Probe, ProbeEvent, Schedule};
use crate::event::{self, time_us, IcmpError};
use crate::wire::frag::Reassembler;
use crate::wire::{L4Repr, VlanStack};
use crate::{Result, Stop};

/// How long a round of ARP for the next hop lasts before every probe that waited for it fails:
/// the kernel's 3 unicast solicitations 1 s apart (ucast_solicit, retrans_time).
const NEIGHBOUR_WAIT: Duration = Duration::from_secs(3);

/// The longest one receive waits: how often the loop looks at the stop flag, the deadline and
/// the timeouts when nothing arrives.
const TICK: Duration = Duration::from_millis(100);

/// Whether the loop goes on after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Go,
    End,
}

/// What the run has seen and what it reports: the slot book, the totals, the fragments of
/// datagrams not yet whole, and the caller's callback.
pub(super) struct Ledger<'r> {
    book: Book,
    pub(super) totals: RunTotals,
    /// The last request sent or answer received.
    pub(super) last_activity: Instant,
    reassembler: Reassembler,
    on_event: &'r mut dyn FnMut(&ProbeEvent) -> Flow,
    /// False once the count is sent or the caller asked to send nothing more.
    sending: bool,
}

/// One run of probes of `K` over a [`ProbePath`].
pub(super) struct Run<'r, K: Probe + ?Sized> {
    path: &'r mut ProbePath,
    kind: &'r mut K,
    schedule: &'r Schedule,
    stop: &'r Stop,
    started: Instant,
    deadline: Option<Instant>,
    /// When the next probe is due.
    next_send: Instant,
    /// Probes held until the next hop answers ARP: (sequence number, probe number).
    held: Vec<(u16, u64)>,
    /// When the current round of asking the next hop started.
    arp_round: Option<Instant>,
    pub(super) ledger: Ledger<'r>,
}

impl<'r, K: Probe + ?Sized> Run<'r, K> {
    pub(super) fn new(
        path: &'r mut ProbePath,
        kind: &'r mut K,
        schedule: &'r Schedule,
        stop: &'r Stop,
        on_event: &'r mut dyn FnMut(&ProbeEvent) -> Flow,
        started: Instant,
    ) -> Self {
        Run {
            path,
            kind,
            schedule,
            stop,
            started,
            deadline: schedule.deadline.map(|d| started + d),
            next_send: started,
            held: Vec::new(),
            arp_round: None,
            ledger: Ledger {
                book: Book::default(),
                totals: RunTotals::default(),
                last_activity: started,
                reassembler: Reassembler::default(),
                on_event,
                sending: true,
            },
        }
    }

    /// Run until the stop flag, the deadline, the caller, or nothing left to send or wait for
    /// ends it.
    pub(super) fn run_loop(&mut self) -> Result<()> {
        tighten_timer_slack(self.schedule.interval);
        loop {
            let now = Instant::now();
            if self.time_is_up(now) || self.report_progress_if_asked(now) == Next::End {
                return Ok(());
            }
            self.stop_sending_after_the_count();
            if self.fail_probes_held_for_arp(now) == Next::End
                || self.time_out_late_probes(now) == Next::End
            {
                return Ok(());
            }
            let window_open = self.window_open();
            if self.ledger.sending && window_open && now >= self.next_send {
                if self.send_next_probe(now)? == Next::End {
                    return Ok(());
                }
                continue;
            }
            if self.nothing_left_to_wait_for() {
                return Ok(());
            }
            let wake = self.next_wake(now, window_open);
            if self.receive(wake)? == Next::End {
                return Ok(());
            }
        }
    }

    /// Stopped, or past the deadline.
    fn time_is_up(&self, now: Instant) -> bool {
        self.stop.is_stopped() || self.deadline.is_some_and(|d| now >= d)
    }

    /// Interim totals, when [`Stop::request_progress`] asked for them.
    fn report_progress_if_asked(&mut self, now: Instant) -> Next {
        if !self.stop.take_progress_request() {
            return Next::Go;
        }
        let p = self
            .ledger
            .totals
            .progress(now.duration_since(self.started));
        self.ledger
            .report_heeding_only_stop(&ProbeEvent::Progress(p))
    }

    /// Send nothing more once the count is sent.
    fn stop_sending_after_the_count(&mut self) {
        if (self.schedule.count).is_some_and(|c| self.ledger.totals.transmitted >= c) {
            self.ledger.sending = false;
        }
    }

    /// Probes whose next hop never answered ARP: like the kernel, a resolution round lasts
    /// [`NEIGHBOUR_WAIT`], then every probe that waited for it fails at once.
    fn fail_probes_held_for_arp(&mut self, now: Instant) -> Next {
        let round_over = |t: Instant| now.duration_since(t) >= NEIGHBOUR_WAIT;
        if !self.arp_round.is_some_and(round_over) {
            return Next::Go;
        }
        self.arp_round = None;
        let src = self.path.path().plan.src_ip;
        let ledger = &mut self.ledger;
        for (seq, n) in std::mem::take(&mut self.held) {
            let Some(p) = ledger
                .book
                .get(seq)
                .filter(|p| p.n == n && !p.settled)
                .copied()
            else {
                continue;
            };
            ledger.book.settle(seq);
            ledger.totals.errors += 1;
            ledger.totals.pipe = ledger.totals.pipe.max(ledger.totals.transmitted + 1 - p.n);
            ledger.last_activity = now;
            let e = host_unreachable(seq, src, &p, SystemTime::now());
            if ledger.report_heeding_only_stop(&ProbeEvent::Error(e)) == Next::End {
                return Next::End;
            }
        }
        Next::Go
    }

    /// Time out what waited too long: only the oldest unsettled probes are looked at.
    fn time_out_late_probes(&mut self, now: Instant) -> Next {
        let Some(limit) = now.checked_sub(self.schedule.timeout) else {
            return Next::Go;
        };
        while let Some(seq) = self.ledger.book.expire(limit) {
            self.ledger.totals.timeouts += 1;
            if self
                .ledger
                .report_heeding_only_stop(&ProbeEvent::Timeout { seq })
                == Next::End
            {
                return Next::End;
            }
        }
        Next::Go
    }

    /// Fewer probes unanswered than the window allows (always, without a window).
    fn window_open(&self) -> bool {
        self.schedule.window == 0 || self.ledger.book.outstanding < self.schedule.window
    }

    /// Send the probe that is due (or, while the next hop is unknown, ask for it again and
    /// hold the probe), book it and report it.
    fn send_next_probe(&mut self, now: Instant) -> Result<Next> {
        let n = self.ledger.totals.transmitted + 1;
        let seq = n as u16; // counts from 1, as iputils; wraps like it
        let at = SystemTime::now();
        let payload = self.kind.payload(seq, at);
        let ip_bytes = 20 + self.path.option_bytes() + payload.buffer_len()?;
        let at = if self.path.ask_for_next_hop()? {
            // No MAC for the next hop yet: asked again; the probe waits for the answer.
            self.held.push((seq, n));
            self.arp_round.get_or_insert(now);
            at
        } else {
            send_probe(self.path, self.kind, seq, &payload, at)?
        };
        if self.ledger.book_sent(seq, n, at) == Next::End {
            return Ok(Next::End);
        }
        self.hold_the_rate(now);
        let ip = self.path.ip();
        let sent = event::Request {
            seq,
            time_us: time_us(at),
            dest: ip.dst,
            ttl: ip.ttl,
            ip_bytes,
        };
        Ok(self.ledger.report(&ProbeEvent::Sent(sent)))
    }

    /// Hold the average rate: a send that was late (timer slack, a busy pass) is made up by
    /// the next ones, as iputils' token bucket does; after a stall of more than 100 ms the
    /// schedule restarts from now instead of bursting.
    fn hold_the_rate(&mut self, now: Instant) {
        if self.ledger.totals.transmitted >= u64::from(self.schedule.preload.max(1)) {
            self.next_send += self.schedule.interval;
        }
        if now.saturating_duration_since(self.next_send) > Duration::from_millis(100) {
            self.next_send = now;
        }
    }

    /// Nothing more to send and nothing outstanding (unless the run listens until its
    /// deadline).
    fn nothing_left_to_wait_for(&self) -> bool {
        !self.ledger.sending
            && self.ledger.book.outstanding == 0
            && !(self.schedule.collect && self.deadline.is_some())
    }

    /// Until when the next receive may wait: a tick, the next send, the deadline.
    fn next_wake(&self, now: Instant, window_open: bool) -> Instant {
        let mut wake = now + TICK;
        if self.ledger.sending && window_open {
            wake = wake.min(self.next_send);
        }
        if let Some(d) = self.deadline {
            wake = wake.min(d);
        }
        wake
    }

    /// Take in the next frame that arrives before `wake`, if any.
    fn receive(&mut self, wake: Instant) -> Result<Next> {
        if self.path.next_hop_unknown() {
            return self.receive_while_asking(wake);
        }
        let src = self.path.path().plan.src_ip;
        let vlans = self.path.vlans();
        let Run {
            path, kind, ledger, ..
        } = self;
        let Some(rx) = path.session().recv(wake)? else {
            return Ok(Next::Go);
        };
        Ok(ledger.take_in(&**kind, src, &vlans, rx.data, rx.timestamp))
    }

    /// While the next hop is unknown: a frame that answers our ARP request sends the probes
    /// held for it; any other is taken in as usual. (The frame is copied: the path learns
    /// from it.)
    fn receive_while_asking(&mut self, wake: Instant) -> Result<Next> {
        let Some(rx) = self.path.session().recv(wake)? else {
            return Ok(Next::Go);
        };
        let (frame, at) = (rx.data.to_vec(), rx.timestamp);
        if self.path.learn_next_hop(&frame) {
            self.send_held_probes()?;
            return Ok(Next::Go);
        }
        let src = self.path.path().plan.src_ip;
        let vlans = self.path.vlans();
        Ok(self.ledger.take_in(&*self.kind, src, &vlans, &frame, at))
    }

    /// The next hop answered at last: send what waited for it, as the kernel sends the
    /// packets it queued while resolving.
    fn send_held_probes(&mut self) -> Result<()> {
        for (seq, n) in std::mem::take(&mut self.held) {
            if (self.ledger.book.get(seq)).is_some_and(|p| p.n == n && !p.settled) {
                let t = SystemTime::now();
                let payload = self.kind.payload(seq, t);
                let at = send_probe(self.path, self.kind, seq, &payload, t)?;
                if let Some(p) = self.ledger.book.get_mut(seq) {
                    p.at = at;
                }
            }
        }
        Ok(())
    }
}

impl Ledger<'_> {
    /// Report `ev`: the caller may end the run or stop the sending.
    fn report(&mut self, ev: &ProbeEvent) -> Next {
        match (self.on_event)(ev) {
            Flow::Stop => Next::End,
            Flow::StopSending => {
                self.sending = false;
                Next::Go
            }
            Flow::Continue => Next::Go,
        }
    }

    /// Report `ev` (a timeout, progress, a probe failed for want of ARP): only the caller's
    /// [`Flow::Stop`] is heeded.
    fn report_heeding_only_stop(&mut self, ev: &ProbeEvent) -> Next {
        match (self.on_event)(ev) {
            Flow::Stop => Next::End,
            Flow::StopSending | Flow::Continue => Next::Go,
        }
    }

    /// Book probe `n` (sequence number `seq`) as sent at `at`. A probe still unsettled in
    /// that slot (the sequence numbers went round before it was settled) times out.
    fn book_sent(&mut self, seq: u16, n: u64, at: SystemTime) -> Next {
        self.totals.transmitted = n;
        self.last_activity = Instant::now();
        let pending = Pending {
            n,
            at,
            sent: self.last_activity,
            answers: 0,
            settled: false,
        };
        if self.book.insert(seq, pending).is_some() {
            self.totals.timeouts += 1;
            return self.report_heeding_only_stop(&ProbeEvent::Timeout { seq });
        }
        Next::Go
    }

    /// Classify a received `frame` (our source `src`, our VLAN stack `vlans`), count what it
    /// says about our probes and report it.
    fn take_in<K: Probe + ?Sized>(
        &mut self,
        kind: &K,
        src: Ipv4Addr,
        vlans: &VlanStack,
        frame: &[u8],
        at: SystemTime,
    ) -> Next {
        // A fragment is kept until its datagram is whole; then the whole one is classified
        // (every fragment went to the capture file as received).
        let assembled = fragment_ip(frame, vlans).and_then(|(eh, ip)| {
            let whole = self.reassembler.push(ip, Instant::now())?;
            let mut f = frame[..eh].to_vec();
            f.extend_from_slice(&whole);
            Some(f)
        });
        let bytes = assembled.as_deref().unwrap_or(frame);
        let Some(ev) = classify(kind, src, vlans, bytes, at, &mut self.book) else {
            return Next::Go;
        };
        if let Some(seq) = self.count(&ev) {
            self.settle_answered(seq, at);
        }
        self.report(&ev)
    }

    /// Count what `ev` says; the probe it answers, if it settles one.
    fn count(&mut self, ev: &ProbeEvent) -> Option<u16> {
        match ev {
            ProbeEvent::Reply(r) if r.bad_checksum => {
                self.totals.bad_checksums += 1;
                None
            }
            ProbeEvent::Reply(r) if r.duplicate => {
                self.totals.duplicates += 1;
                None
            }
            ProbeEvent::Reply(r) => {
                self.totals.received += 1;
                self.totals.rtt.add(r.rtt_us);
                Some(r.seq)
            }
            ProbeEvent::Error(e) => {
                self.totals.errors += 1;
                Some(e.seq)
            }
            _ => None,
        }
    }

    /// Settle probe `seq`, answered by a frame that arrived at `at`, and widen the pipe.
    fn settle_answered(&mut self, seq: u16, at: SystemTime) {
        self.last_activity = Instant::now();
        let totals = &mut self.totals;
        if let Some(first) = self.book.get(seq).map(|p| p.n.min(totals.transmitted)) {
            // In flight when the answer arrived (iputils' pipe): the probes sent before its
            // arrival time, not before it was read: a receive ring hands frames over a block
            // at a time, after later probes may have left.
            let mut last = totals.transmitted;
            while last > first
                && (self.book.get(last as u16)).is_some_and(|q| q.n == last && q.at > at)
            {
                last -= 1;
            }
            totals.pipe = totals.pipe.max(last + 1 - first);
        }
        self.book.settle(seq);
    }
}

/// Build and send probe `seq` of `kind` with IP id `seq`; returns its send time.
fn send_probe<K: Probe + ?Sized>(
    path: &mut ProbePath,
    kind: &mut K,
    seq: u16,
    payload: &L4Repr,
    at: SystemTime,
) -> Result<SystemTime> {
    path.send(payload, at, |ip| {
        ip.id = seq;
        kind.adjust_ip(seq, ip);
    })
}

/// Sub-10 ms intervals: the default 50 µs timer slack would stretch every wait.
fn tighten_timer_slack(interval: Duration) {
    if interval < Duration::from_millis(10) {
        // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    }
}

/// The error a probe gets when its next hop never answered ARP: what the kernel reports to
/// iputils ping (EHOSTUNREACH, shown as "Destination Host Unreachable" from our own address).
fn host_unreachable(seq: u16, from: Ipv4Addr, p: &Pending, now: SystemTime) -> IcmpError {
    IcmpError {
        seq,
        from,
        ttl: 64,
        icmp_type: 3,
        icmp_code: 1,
        description: "Destination Host Unreachable".into(),
        detail: None,
        quoted_options: Vec::new(),
        rtt_us: event::us(now.duration_since(p.at).unwrap_or_default()),
        time_us: time_us(now),
    }
}
