//! One send / wait / match / time loop for every probe kind.
//!
//! A [`Probe`] is a small table of functions, like a zmap probe module: make the IP payload for
//! a sequence number (ICMP, UDP or TCP), recognise a datagram that answers one directly, and
//! say which probe a datagram quoted in an ICMP error was. The ICMP request/reply kinds
//! implement the narrower [`ProbeKind`] and get [`Probe`] from it. The engine does the rest: the
//! frame template, the schedule, at most N probes in flight, matching ICMP errors through the
//! datagram they quote (by protocol, the kind's own fields — ICMP id and seq, UDP/TCP ports,
//! TCP sequence number — and our source, never by arrival order), RTTs from kernel receive
//! timestamps, timeouts and the pcap.
//!
//! The engine's parts, one job each: `path` (the [`Target`] and the [`ProbePath`] opened for
//! it through a [`crate::session::Session`]: the frame template over the link), `book` (the
//! probes in flight by sequence number), `classify` (what a received frame says about them),
//! `run_loop` (the loop, one step per job) and `totals` ([`RunTotals`], [`RttAccumulator`]).

mod book;
mod classify;
mod path;
mod run_loop;
mod totals;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

pub use path::{ProbePath, Target};
pub use totals::{RttAccumulator, RunTotals};

use crate::event::{self, Answer, IcmpError, Malformed};
use crate::wire::{IcmpMessage, IcmpPacket, IcmpRepr, Ipv4Packet, Ipv4Repr, L4Repr};
use crate::{Result, Stop};
use run_loop::Run;

/// IP protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = 1;

/// What any probe contributes to the engine: the IP payload of each probe, how to recognise a
/// direct answer, and which probe a datagram quoted in an ICMP error was.
pub trait Probe {
    /// IP protocol of the probes (selects the receive filter; the payload's own protocol is
    /// what each probe carries).
    fn protocol(&self) -> u8;
    /// The IP payload of probe `seq`, sent at `at`.
    fn payload(&mut self, seq: u16, at: SystemTime) -> L4Repr;
    /// Adjust the IP header of probe `seq` (trace sets the TTL here).
    fn adjust_ip(&mut self, _seq: u16, _ip: &mut Ipv4Repr) {}
    /// If the datagram `ip` (a checked view, not a fragment) directly answers one of our
    /// probes: its sequence number and fields. ICMP errors are not answers: they reach
    /// [`quoted`](Self::quoted).
    fn answer(&self, ip: &Ipv4Packet<&[u8]>, at: SystemTime) -> Option<(u16, Answer)>;
    /// If a datagram of `protocol` whose payload starts with `l4` (often only 8 bytes) is one
    /// of our probes, quoted in an ICMP error: its sequence number.
    fn quoted(&self, protocol: u8, l4: &[u8]) -> Option<u16>;
    /// Whether an answer sent to `dst` may be ours (`src` is our source address).
    fn accepts_dst(&self, dst: Ipv4Addr, src: Ipv4Addr) -> bool {
        dst == src
    }
}

/// What an ICMP request/reply kind contributes to the engine (echo, timestamp, mask...); every
/// such kind is a [`Probe`].
pub trait ProbeKind {
    /// ICMP type of our requests, to recognise them quoted inside ICMP errors.
    fn request_type(&self) -> u8;
    /// ICMP identifier our requests carry (None when the kind has none, e.g. router solicitation).
    fn id(&self) -> Option<u16>;
    /// The request message for probe `seq`, sent at `at`.
    fn request(&mut self, seq: u16, at: SystemTime) -> IcmpMessage;
    /// Adjust the IP header of probe `seq` (trace sets the TTL here).
    fn adjust_ip(&mut self, _seq: u16, _ip: &mut Ipv4Repr) {}
    /// If `msg` directly answers one of our requests: its sequence number and fields.
    fn answer(&self, msg: &IcmpMessage, at: SystemTime) -> Option<(u16, Answer)>;
    /// Whether an answer sent to `dst` may be ours (`src` is our source address).
    fn accepts_dst(&self, dst: Ipv4Addr, src: Ipv4Addr) -> bool {
        dst == src
    }
}

impl<K: ProbeKind> Probe for K {
    fn protocol(&self) -> u8 {
        IPPROTO_ICMP
    }
    fn payload(&mut self, seq: u16, at: SystemTime) -> L4Repr {
        L4Repr::Icmp(IcmpRepr::new(self.request(seq, at)))
    }
    fn adjust_ip(&mut self, seq: u16, ip: &mut Ipv4Repr) {
        ProbeKind::adjust_ip(self, seq, ip)
    }
    fn answer(&self, ip: &Ipv4Packet<&[u8]>, at: SystemTime) -> Option<(u16, Answer)> {
        if ip.protocol() != IPPROTO_ICMP {
            return None;
        }
        let view = IcmpPacket::new_checked(ip.payload()).ok()?;
        if view.is_error() {
            return None;
        }
        let icmp = IcmpRepr::parse(&view).ok()?;
        ProbeKind::answer(self, &icmp.repr.message, at)
    }
    fn quoted(&self, protocol: u8, l4: &[u8]) -> Option<u16> {
        if protocol != IPPROTO_ICMP {
            return None;
        }
        let quoted = IcmpPacket::new_checked(l4).ok()?;
        if quoted.msg_type() != self.request_type() {
            return None;
        }
        if let Some(id) = self.id() {
            if quoted.ident() != id {
                return None;
            }
        }
        Some(quoted.seq_no())
    }
    fn accepts_dst(&self, dst: Ipv4Addr, src: Ipv4Addr) -> bool {
        ProbeKind::accepts_dst(self, dst, src)
    }
}

/// When probes go out and how long each may wait.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Probes to send (None: until stopped or the deadline).
    pub count: Option<u64>,
    /// Time between sends.
    pub interval: Duration,
    /// Probes sent back to back at the start before the interval applies (1: none early).
    pub preload: u32,
    /// Most probes unanswered at once (0: no limit).
    pub window: usize,
    /// How long each probe waits for its answer.
    pub timeout: Duration,
    /// End the run after this long, whatever is outstanding.
    pub deadline: Option<Duration>,
    /// Keep listening until the deadline even when every probe is settled (router
    /// solicitation: every advertisement heard counts).
    pub collect: bool,
}

/// What the engine saw, in the order it happened.
#[derive(Debug, Clone)]
pub enum ProbeEvent {
    /// A probe left.
    Sent(event::Request),
    /// A direct answer to a probe.
    Reply(event::Reply),
    /// An ICMP error quoting one of our probes.
    Error(IcmpError),
    /// An ICMP error sent to us whose quoted datagram cannot be read (truncated, bogus
    /// header): it cannot be matched to a probe, so it is shown for what it is.
    Malformed(Malformed),
    /// Probe `seq` got nothing within the timeout.
    Timeout {
        /// Sequence number.
        seq: u16,
    },
    /// Interim totals, asked for through [`Stop::request_progress`].
    Progress(event::Progress),
}

impl ProbeEvent {
    /// The record this event is reported as; None for timeouts, which drivers report in their
    /// own way (a `*` in a trace, nothing in ping).
    pub fn to_event(&self) -> Option<event::Event> {
        Some(match self {
            ProbeEvent::Sent(r) => event::Event::Request(r.clone()),
            ProbeEvent::Reply(r) => event::Event::Reply(r.clone()),
            ProbeEvent::Error(e) => event::Event::IcmpError(e.clone()),
            ProbeEvent::Malformed(m) => event::Event::Malformed(m.clone()),
            ProbeEvent::Progress(p) => event::Event::Progress(p.clone()),
            ProbeEvent::Timeout { .. } => return None,
        })
    }
}

/// What the caller wants after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Send nothing more; wait for what is outstanding.
    StopSending,
    /// End now.
    Stop,
}

/// Run probes of `kind` over `path` on `schedule`, reporting each event to `on_event`.
pub fn run<K: Probe + ?Sized>(
    path: &mut ProbePath,
    kind: &mut K,
    schedule: &Schedule,
    stop: &Stop,
    on_event: &mut dyn FnMut(&ProbeEvent) -> Flow,
) -> Result<RunTotals> {
    let (totals, result) = run_outcome(path, kind, schedule, stop, on_event);
    result.map(|()| totals)
}

/// Like [`run`], but the totals come back also when the run failed midway (the interface went
/// down, a write failed): a driver reports its summary and then the error.
pub fn run_outcome<K: Probe + ?Sized>(
    path: &mut ProbePath,
    kind: &mut K,
    schedule: &Schedule,
    stop: &Stop,
    on_event: &mut dyn FnMut(&ProbeEvent) -> Flow,
) -> (RunTotals, Result<()>) {
    let started = Instant::now();
    let mut run = Run::new(path, kind, schedule, stop, on_event, started);
    let result = run.run_loop();
    let mut totals = run.ledger.totals;
    let last_activity = run.ledger.last_activity;
    let flushed = path.flush();
    totals.elapsed = started.elapsed();
    totals.active = last_activity.duration_since(started);
    totals.kernel_drops = path.session().link().stats().kernel_drops;
    (totals, result.and(flushed))
}

#[cfg(test)]
mod tests;
