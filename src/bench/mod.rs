//! RFC 2544 benchmarks of a device between this host and a responder: throughput (binary
//! search for the highest rate within a loss bound), latency at that rate, frame loss at 100 %,
//! 90 %, ... of the maximum, and back-to-back bursts.
//!
//! A driver of drivers: every trial is one [`blast::run`] with its own [`BlastRequest`], its
//! own ICMP identifier (or UDP source port) so that a late answer to an earlier trial is never
//! counted in the next, and blast's wait for late answers after the last frame.
//!
//! Frame sizes count the Ethernet frame with its 4-byte FCS, as RFC 2544 does: a 64-byte frame
//! is sent as 60 bytes (14 Ethernet + 20 IPv4 + 8 ICMP or UDP + 18 data bytes), the FCS added
//! by the NIC.

pub mod plot;

use std::time::{Duration, Instant};

use crate::blast::{self, stats::BlastSummary, BlastRequest, Rate};
use crate::event::bench::{wire_bps, BenchResult, BenchStep, BenchTest, BenchTotals, BenchTrial};
use crate::event::{Command, Event, RttStats, Start, Summary, Totals};
use crate::net::resolve::{self, PathRequest};
use crate::{Error, Field, Result, Stop};

/// Bytes of a frame (with FCS) that are not ICMP/UDP data: 14 Ethernet + 20 IPv4 + 8 ICMP or
/// UDP + 4 FCS.
pub const HEADER_BYTES: usize = 14 + 20 + 8 + 4;
/// The smallest Ethernet frame, FCS included.
pub const MIN_FRAME: usize = 64;
/// RFC 2544's frame sizes for Ethernet.
pub const DEFAULT_SIZES: [usize; 7] = [64, 128, 256, 512, 1024, 1280, 1518];
/// Most trials one search runs (a guard: a search halves its interval each trial).
const MAX_SEARCH_TRIALS: u32 = 64;

/// The search's resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Precision {
    /// Stop when the bounds are within this percent of the upper bound.
    Percent(f64),
    /// Stop when the bounds are within this many frames per second (bursts: frames).
    Absolute(f64),
}

impl Precision {
    fn reached(self, low: f64, high: f64) -> bool {
        let gap = high - low;
        match self {
            Precision::Percent(p) => gap <= p / 100.0 * high,
            Precision::Absolute(n) => gap <= n,
        }
    }
}

/// Where the throughput search starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxRate {
    /// As fast as the sender goes (a first trial at blast's `Rate::Max`).
    Sender,
    /// Frames per second, at every size.
    Pps(f64),
    /// A line rate in bits per second on the wire (FCS, preamble and gap included): each
    /// size's frame rate follows from it.
    Bps(f64),
}

impl MaxRate {
    /// The frame rate at `frame_bytes`, or `None` for the sender's own maximum.
    pub fn pps(self, frame_bytes: usize) -> Option<f64> {
        match self {
            MaxRate::Sender => None,
            MaxRate::Pps(r) => Some(r),
            MaxRate::Bps(b) => Some(b / wire_bps(1.0, frame_bytes)),
        }
    }
}

/// A validated benchmark request.
#[derive(Debug, Clone)]
pub struct BenchRequest {
    /// What every trial shares (destination, UDP or ICMP, path, backend, threads, batch,
    /// TTL, TOS); its rate, count, duration, size, identifier and wait are set per trial.
    pub blast: BlastRequest,
    /// Frame sizes, FCS included.
    pub sizes: Vec<usize>,
    /// The tests, run in RFC order for each size.
    pub tests: Vec<BenchTest>,
    /// Loss bound of the throughput search, percent (0: no drop rate, NDR).
    pub loss_percent: f64,
    /// A second, higher bound (partial drop rate, PDR): a second search per size.
    pub pdr_percent: Option<f64>,
    /// Length of each trial (sending time).
    pub trial: Duration,
    /// After a trial's last frame, wait this long for late answers.
    pub wait: Duration,
    /// The search's resolution.
    pub precision: Precision,
    /// Where the search starts.
    pub max_rate: MaxRate,
    /// Latency trials per size (RFC 2544 asks for 20).
    pub latency_trials: u32,
    /// Longest burst tried by back-to-back (default: a trial's worth at the maximum rate).
    pub burst_max: Option<u64>,
}

impl BenchRequest {
    /// Defaults: RFC 2544's sizes, throughput and latency, NDR, 60 s trials, 2 s wait, 1 %
    /// precision, starting at the sender's maximum.
    pub fn new(blast: BlastRequest) -> BenchRequest {
        BenchRequest {
            blast,
            sizes: DEFAULT_SIZES.to_vec(),
            tests: vec![BenchTest::Throughput, BenchTest::Latency],
            loss_percent: 0.0,
            pdr_percent: None,
            trial: Duration::from_secs(60),
            wait: Duration::from_secs(2),
            precision: Precision::Percent(1.0),
            max_rate: MaxRate::Sender,
            latency_trials: 1,
            burst_max: None,
        }
    }
}

/// ICMP or UDP data bytes of a frame of `frame_bytes` (FCS included).
pub fn data_bytes(frame_bytes: usize) -> usize {
    frame_bytes.saturating_sub(HEADER_BYTES)
}

/// Check everything that needs no network: bounds, trial, precision, sizes against the
/// headers. [`run`] also checks the sizes against the interface's MTU before sending.
pub fn validate(req: &BenchRequest) -> Result<()> {
    if req.sizes.is_empty() {
        return Err(Error::invalid(Field::FrameSize, "needs at least one size"));
    }
    for &s in &req.sizes {
        let needed = HEADER_BYTES + blast::STAMP_BYTES;
        if s < MIN_FRAME.max(needed) {
            return Err(Error::invalid(
                Field::FrameSize,
                format!(
                    "{s}: below {MIN_FRAME} bytes, the smallest Ethernet frame (sizes count the \
                     FCS; Ethernet + IPv4 + ICMP/UDP headers + FCS take {HEADER_BYTES} bytes and \
                     the stamp {} more: {needed})",
                    blast::STAMP_BYTES
                ),
            ));
        }
    }
    for (what, v) in [
        ("--loss", Some(req.loss_percent)),
        ("--pdr", req.pdr_percent),
    ] {
        if let Some(v) = v {
            if !(v.is_finite() && (0.0..100.0).contains(&v)) {
                return Err(Error::invalid(
                    Field::LossBound,
                    format!("{v}: a loss bound is a percentage, at least 0 and below 100 ({what})"),
                ));
            }
        }
    }
    if let Some(p) = req.pdr_percent {
        if p <= req.loss_percent {
            return Err(Error::invalid(
                Field::LossBound,
                format!(
                    "{p}: the partial drop rate's bound must be above the loss bound ({})",
                    req.loss_percent
                ),
            ));
        }
    }
    if req.trial.is_zero() {
        return Err(Error::invalid(Field::Trial, "must be more than 0 seconds"));
    }
    match req.precision {
        Precision::Percent(p) if !(p.is_finite() && p > 0.0 && p < 100.0) => {
            return Err(Error::invalid(
                Field::Precision,
                format!("{p}%: must be more than 0 % and below 100 %"),
            ))
        }
        Precision::Absolute(n) if !(n.is_finite() && n > 0.0) => {
            return Err(Error::invalid(
                Field::Precision,
                format!("{n}: must be more than 0 frames per second"),
            ))
        }
        _ => {}
    }
    match req.max_rate {
        MaxRate::Pps(r) | MaxRate::Bps(r) if !(r.is_finite() && r > 0.0) => {
            return Err(Error::invalid(
                Field::MaxRate,
                format!("{r}: must be more than 0"),
            ))
        }
        _ => {}
    }
    if req.latency_trials == 0 {
        return Err(Error::invalid(Field::Trial, "latency trials: at least 1"));
    }
    if req.burst_max == Some(0) {
        return Err(Error::invalid(
            Field::Count,
            "longest burst: at least 1 frame",
        ));
    }
    if req.tests.is_empty() {
        return Err(Error::Invalid("no test to run".into()));
    }
    Ok(())
}

/// Check the sizes against the interface the destination is reached through (its MTU, and
/// the fast link's largest frame).
fn validate_path(req: &BenchRequest) -> Result<()> {
    let plan = resolve::plan(&PathRequest {
        dst: Some(req.blast.dest),
        ..req.blast.path.clone()
    })?;
    let mtu = plan.iface.mtu as usize;
    #[cfg(target_os = "linux")]
    let slot = (req.blast.backend == crate::link::Backend::Fast)
        .then_some(crate::link::packet::fast::MAX_FRAME + 4);
    #[cfg(not(target_os = "linux"))]
    let slot: Option<usize> = None;
    for &s in &req.sizes {
        if s - 18 > mtu {
            return Err(Error::invalid(
                Field::FrameSize,
                format!(
                    "{s}: above {}, the largest frame {} takes (MTU {mtu} + 14 Ethernet + 4 FCS)",
                    mtu + 18,
                    plan.iface.name
                ),
            ));
        }
        if let Some(max) = slot.filter(|&m| s > m) {
            return Err(Error::invalid(
                Field::FrameSize,
                format!("{s}: above {max}, the fast link's largest frame (with FCS)"),
            ));
        }
    }
    Ok(())
}

/// What a benchmark found, also when a stop or an error cut it short.
#[derive(Debug)]
pub struct BenchOutcome {
    /// Every result and the counts over all trials.
    pub totals: BenchTotals,
    /// A stop ended it early.
    pub interrupted: bool,
    /// The error that ended it early.
    pub error: Option<Error>,
}

/// One trial's verdict, as the searches see it.
#[derive(Debug, Clone)]
pub struct TrialOutcome {
    /// The trial's record.
    pub trial: BenchTrial,
    /// Stopped by the user during the trial.
    pub interrupted: bool,
}

/// Run the benchmark: [`validate`], the sizes against the path, then for each size the tests
/// asked for. Reports a start record, a [`BenchStep`] before and a [`BenchTrial`] after each
/// trial, a [`BenchResult`] per test and size, and the summary. A stop ends the trial under
/// way and reports the results found so far (the search's bounds, marked interrupted).
pub fn run(
    req: &BenchRequest,
    stop: &Stop,
    on_event: &mut dyn FnMut(&Event),
) -> Result<BenchOutcome> {
    validate(req)?;
    validate_path(req)?;
    let started = Instant::now();
    on_event(&Event::Start(Start {
        dest: Some(req.blast.dest),
        ..Start::new(Command::Bench)
    }));
    let mut runner = Runner {
        req,
        stop,
        next_id: req.blast.id,
        notice_sent: false,
        totals: BenchTotals {
            dest: req.blast.dest.to_string(),
            trials: 0,
            sent: 0,
            received: 0,
            results: Vec::new(),
        },
        error: None,
    };
    let interrupted = {
        let mut trial = |size: usize,
                         rate: Option<f64>,
                         burst: Option<u64>,
                         test: BenchTest,
                         n: u32,
                         ev: &mut dyn FnMut(&Event)| {
            runner.trial(size, rate, burst, test, n, ev)
        };
        bench_sizes(req, &mut trial, on_event)
    };
    let totals = {
        // The searches pushed their results through the events; gather them again here.
        let mut t = runner.totals;
        t.results = interrupted.1;
        t
    };
    let interrupted = interrupted.0 || stop.is_stopped();
    on_event(&Event::Summary(Summary {
        command: Command::Bench,
        elapsed_us: started.elapsed().as_secs_f64() * 1e6,
        interrupted,
        totals: Totals::Bench(Box::new(totals.clone())),
    }));
    Ok(BenchOutcome {
        totals,
        interrupted,
        error: runner.error,
    })
}

struct Runner<'a> {
    req: &'a BenchRequest,
    stop: &'a Stop,
    next_id: u16,
    notice_sent: bool,
    totals: BenchTotals,
    error: Option<Error>,
}

impl Runner<'_> {
    /// One blast: `rate` frames per second (None: the sender's maximum) for a trial's length,
    /// or a burst of `burst` frames at the maximum.
    fn trial(
        &mut self,
        size: usize,
        rate: Option<f64>,
        burst: Option<u64>,
        test: BenchTest,
        n: u32,
        on_event: &mut dyn FnMut(&Event),
    ) -> Option<TrialOutcome> {
        if self.stop.is_stopped() || self.error.is_some() {
            return None;
        }
        let mut b = self.req.blast.clone();
        b.size = data_bytes(size);
        b.rate = rate.map_or(Rate::Max, Rate::Pps);
        b.count = burst;
        b.duration = if burst.is_some() {
            None
        } else {
            Some(self.req.trial)
        };
        b.wait = self.req.wait;
        // A fresh identifier (UDP: source port) per trial: answers to an earlier trial that
        // arrive late are not this trial's.
        let (id, next) = trial_id(self.next_id, b.threads);
        b.id = id;
        self.next_id = next;
        let mut fwd = |ev: &Event| {
            if let Event::Notice(n) = ev {
                if !self.notice_sent {
                    on_event(&Event::Notice(n.clone()));
                }
            }
        };
        let out = blast::run(&b, self.stop, &mut fwd);
        self.notice_sent = true;
        let out = match out {
            Ok(o) => o,
            Err(e) => {
                self.error = Some(e);
                return None;
            }
        };
        let s = &out.summary;
        self.totals.trials += 1;
        self.totals.sent += s.sent;
        self.totals.received += s.received;
        let t = trial_record(test, size, n, rate, burst, s, self.bound_for(test));
        if let Some(e) = out.error {
            self.error = Some(e);
        }
        Some(TrialOutcome {
            interrupted: s.interrupted,
            trial: t,
        })
    }

    fn bound_for(&self, test: BenchTest) -> f64 {
        match test {
            BenchTest::BackToBack => 0.0,
            _ => self.req.loss_percent,
        }
    }
}

/// The identifier (UDP: source port) of a trial whose threads use `id .. id + threads`, from
/// the next free one, and the next trial's: never 0, never past 65535, wrapping to 1.
pub fn trial_id(next: u16, threads: usize) -> (u16, u16) {
    let threads = threads.max(1) as u32;
    let top = 0x10000u32 - threads;
    let mut id = u32::from(next);
    if id == 0 || id > top {
        id = 1;
    }
    (id as u16, ((id + threads) & 0xffff) as u16)
}

/// A trial's record from blast's summary; `passed` against the loss bound `bound` (the
/// throughput search re-judges it against its own bound).
fn trial_record(
    test: BenchTest,
    frame_bytes: usize,
    trial: u32,
    rate: Option<f64>,
    burst: Option<u64>,
    s: &BlastSummary,
    bound: f64,
) -> BenchTrial {
    let mut t = BenchTrial {
        test,
        frame_bytes,
        trial,
        rate_pps: rate,
        burst,
        achieved_pps: s.achieved_rate,
        sent: s.sent,
        received: s.received,
        lost: s.lost,
        loss_percent: s.loss_percent,
        duplicates: s.duplicates,
        late: s.late,
        out_of_order: s.out_of_order,
        rtt_us: s.rtt_us,
        passed: false,
        error: s.error.clone(),
    };
    t.passed = passes(&t, bound);
    t
}

/// A trial passes when it sent something, ran to its end without error, and lost at most
/// `bound` percent (0: nothing).
pub fn passes(t: &BenchTrial, bound: f64) -> bool {
    t.sent > 0
        && t.error.is_none()
        && if bound == 0.0 {
            t.lost == 0
        } else {
            t.loss_percent <= bound
        }
}

/// Runs one trial: (frame size, rate or None for the maximum, burst, test, trial number,
/// events) → the outcome, or None when stopped or failed before it ran.
pub type TrialFn<'a> = dyn FnMut(
        usize,
        Option<f64>,
        Option<u64>,
        BenchTest,
        u32,
        &mut dyn FnMut(&Event),
    ) -> Option<TrialOutcome>
    + 'a;

/// Every test at every size; returns (interrupted, results).
pub fn bench_sizes(
    req: &BenchRequest,
    trial: &mut TrialFn<'_>,
    on_event: &mut dyn FnMut(&Event),
) -> (bool, Vec<BenchResult>) {
    let mut results = Vec::new();
    let push =
        |r: BenchResult, on_event: &mut dyn FnMut(&Event), results: &mut Vec<BenchResult>| {
            on_event(&Event::BenchResult(r.clone()));
            results.push(r);
        };
    for &size in &req.sizes {
        // The maximum rate at this size: given, or measured by the first throughput trial.
        let mut max_pps = req.max_rate.pps(size);
        let mut ndr = None;
        if req.tests.contains(&BenchTest::Throughput) {
            let bounds: Vec<f64> = std::iter::once(req.loss_percent)
                .chain(req.pdr_percent)
                .collect();
            for bound in bounds {
                let (r, measured_max) = throughput(req, size, bound, trial, on_event);
                max_pps = max_pps.or(measured_max);
                let stopped = r.interrupted;
                if ndr.is_none() {
                    ndr = Some(r.rate_pps);
                }
                push(r, on_event, &mut results);
                if stopped {
                    return (true, results);
                }
            }
        }
        if req.tests.contains(&BenchTest::Latency) {
            if let Some(rate) = ndr.filter(|&r| r > 0.0) {
                let r = latency(req, size, rate, trial, on_event);
                let stopped = r.interrupted;
                push(r, on_event, &mut results);
                if stopped {
                    return (true, results);
                }
            }
        }
        let needs_max =
            req.tests.contains(&BenchTest::FrameLoss) || req.tests.contains(&BenchTest::BackToBack);
        if needs_max && max_pps.is_none() {
            // No throughput search measured it: one trial at the sender's maximum.
            match trial(size, None, None, BenchTest::FrameLoss, 0, on_event) {
                Some(t) if !t.interrupted => {
                    on_event(&Event::BenchTrial(t.trial.clone()));
                    max_pps = Some(t.trial.achieved_pps);
                }
                _ => return (true, results),
            }
        }
        if req.tests.contains(&BenchTest::FrameLoss) {
            let max = max_pps.unwrap_or(0.0);
            let mut clean = 0;
            for (k, pct) in (1..=10)
                .rev()
                .map(|p| (11 - p, p as f64 * 10.0))
                .map(|(k, p)| (k as u32, p))
            {
                let rate = max * pct / 100.0;
                on_event(&Event::BenchStep(BenchStep {
                    test: BenchTest::FrameLoss,
                    frame_bytes: size,
                    trial: k,
                    rate_pps: Some(rate),
                    burst: None,
                    low: None,
                    high: None,
                }));
                let Some(t) = trial(size, Some(rate), None, BenchTest::FrameLoss, k, on_event)
                else {
                    return (true, results);
                };
                on_event(&Event::BenchTrial(t.trial.clone()));
                let r = BenchResult {
                    test: BenchTest::FrameLoss,
                    frame_bytes: size,
                    rate_pps: rate,
                    rate_bps: wire_bps(rate, size),
                    loss_bound_percent: None,
                    percent_of_max: Some(pct),
                    loss_percent: t.trial.loss_percent,
                    burst: None,
                    rtt_us: t.trial.rtt_us,
                    rfc_latency_us: None,
                    sender_limited: false,
                    trials: 1,
                    interrupted: t.interrupted,
                };
                push(r, on_event, &mut results);
                if t.interrupted {
                    return (true, results);
                }
                // RFC 2544 26.3: done after two successive trials without loss.
                clean = if t.trial.lost == 0 { clean + 1 } else { 0 };
                if clean == 2 {
                    break;
                }
            }
        }
        if req.tests.contains(&BenchTest::BackToBack) {
            let max = max_pps.unwrap_or(0.0);
            let r = back_to_back(req, size, max, trial, on_event);
            let stopped = r.interrupted;
            push(r, on_event, &mut results);
            if stopped {
                return (true, results);
            }
        }
    }
    (false, results)
}

/// RFC 2544 26.1 at one size and one loss bound: a first trial at the maximum, then a binary
/// search between the highest passing rate and the lowest failing one. Returns the result and
/// the maximum the first trial offered.
fn throughput(
    req: &BenchRequest,
    size: usize,
    bound: f64,
    trial: &mut TrialFn<'_>,
    on_event: &mut dyn FnMut(&Event),
) -> (BenchResult, Option<f64>) {
    let mut result = BenchResult {
        test: BenchTest::Throughput,
        frame_bytes: size,
        rate_pps: 0.0,
        rate_bps: 0.0,
        loss_bound_percent: Some(bound),
        percent_of_max: None,
        loss_percent: 0.0,
        burst: None,
        rtt_us: None,
        rfc_latency_us: None,
        sender_limited: false,
        trials: 0,
        interrupted: false,
    };
    let first_rate = req.max_rate.pps(size);
    on_event(&Event::BenchStep(BenchStep {
        test: BenchTest::Throughput,
        frame_bytes: size,
        trial: 1,
        rate_pps: first_rate,
        burst: None,
        low: None,
        high: None,
    }));
    let Some(mut t) = trial(size, first_rate, None, BenchTest::Throughput, 1, on_event) else {
        result.interrupted = true;
        return (result, None);
    };
    t.trial.passed = passes(&t.trial, bound);
    on_event(&Event::BenchTrial(t.trial.clone()));
    result.trials = 1;
    // What the trial really offered: the sender may fall short of a rate asked of it.
    let max = offered(first_rate, &t.trial);
    if t.interrupted {
        result.interrupted = true;
        return (result, Some(max));
    }
    let set = |r: &mut BenchResult, rate: f64, t: &BenchTrial| {
        r.rate_pps = rate;
        r.rate_bps = wire_bps(rate, size);
        r.loss_percent = t.loss_percent;
        r.rtt_us = t.rtt_us;
    };
    if t.trial.passed {
        // The device took all the sender offered: the result is the sender's limit (or the
        // given maximum, when the sender reached it).
        set(&mut result, max, &t.trial);
        result.sender_limited = first_rate.is_none_or(|r| max < r);
        return (result, Some(max));
    }
    let (mut low, mut high) = (0.0f64, max);
    // Nothing passing down to the resolution's share of the maximum: the result is 0.
    let floor = match req.precision {
        Precision::Percent(p) => max * p / 100.0,
        Precision::Absolute(n) => n,
    };
    let mut n = 1;
    let done =
        |low: f64, high: f64| req.precision.reached(low, high) || (low == 0.0 && high <= floor);
    while !done(low, high) && n < MAX_SEARCH_TRIALS {
        n += 1;
        let rate = (low + high) / 2.0;
        on_event(&Event::BenchStep(BenchStep {
            test: BenchTest::Throughput,
            frame_bytes: size,
            trial: n,
            rate_pps: Some(rate),
            burst: None,
            low: Some(low),
            high: Some(high),
        }));
        let Some(mut t) = trial(size, Some(rate), None, BenchTest::Throughput, n, on_event) else {
            result.interrupted = true;
            break;
        };
        t.trial.passed = passes(&t.trial, bound);
        on_event(&Event::BenchTrial(t.trial.clone()));
        result.trials = n;
        if t.interrupted {
            result.interrupted = true;
            break;
        }
        let got = offered(Some(rate), &t.trial);
        if t.trial.passed {
            low = got;
            set(&mut result, got, &t.trial);
            if got < rate {
                // The sender fell short of the rate asked: the device took all it could
                // send, and no higher rate can be tried.
                result.sender_limited = true;
                break;
            }
        } else {
            high = got;
        }
    }
    (result, Some(max))
}

/// Frames per second a trial offered: the rate asked, unless the sender fell more than 1 %
/// short of it (then what it achieved); the achieved rate for a trial at the maximum.
pub fn offered(asked: Option<f64>, t: &BenchTrial) -> f64 {
    match asked {
        Some(r) if t.achieved_pps >= 0.99 * r => r,
        _ => t.achieved_pps,
    }
}

/// RFC 2544 26.2: trials at the throughput rate; percentiles over the frames, the RFC's
/// statistic (the average of each trial's mean) beside them.
fn latency(
    req: &BenchRequest,
    size: usize,
    rate: f64,
    trial: &mut TrialFn<'_>,
    on_event: &mut dyn FnMut(&Event),
) -> BenchResult {
    let mut result = BenchResult {
        test: BenchTest::Latency,
        frame_bytes: size,
        rate_pps: rate,
        rate_bps: wire_bps(rate, size),
        loss_bound_percent: None,
        percent_of_max: None,
        loss_percent: 0.0,
        burst: None,
        rtt_us: None,
        rfc_latency_us: None,
        sender_limited: false,
        trials: 0,
        interrupted: false,
    };
    let mut stats: Vec<(u64, RttStats)> = Vec::new();
    let (mut sent, mut lost) = (0u64, 0u64);
    for n in 1..=req.latency_trials {
        on_event(&Event::BenchStep(BenchStep {
            test: BenchTest::Latency,
            frame_bytes: size,
            trial: n,
            rate_pps: Some(rate),
            burst: None,
            low: None,
            high: None,
        }));
        let Some(t) = trial(size, Some(rate), None, BenchTest::Latency, n, on_event) else {
            result.interrupted = true;
            break;
        };
        on_event(&Event::BenchTrial(t.trial.clone()));
        result.trials = n;
        sent += t.trial.sent;
        lost += t.trial.lost;
        if let Some(r) = t.trial.rtt_us {
            stats.push((t.trial.received, r));
        }
        if t.interrupted {
            result.interrupted = true;
            break;
        }
    }
    result.loss_percent = if sent > 0 {
        100.0 * lost as f64 / sent as f64
    } else {
        0.0
    };
    result.rtt_us = merge_rtt(&stats);
    if !stats.is_empty() {
        result.rfc_latency_us =
            Some(stats.iter().map(|(_, r)| r.avg).sum::<f64>() / stats.len() as f64);
    }
    result
}

/// Several trials' RTT statistics as one: smallest minimum, largest maximum, the mean and
/// deviation over all frames, and each percentile the worst trial's (no trial's frames are
/// hidden by another's).
pub fn merge_rtt(stats: &[(u64, RttStats)]) -> Option<RttStats> {
    let n: u64 = stats.iter().map(|(n, _)| n).sum();
    if stats.is_empty() || n == 0 {
        return stats.first().map(|s| s.1);
    }
    let nf = n as f64;
    let avg = stats.iter().map(|(k, r)| *k as f64 * r.avg).sum::<f64>() / nf;
    let sq = stats
        .iter()
        .map(|(k, r)| *k as f64 * (r.mdev * r.mdev + r.avg * r.avg))
        .sum::<f64>()
        / nf;
    let mut percentiles = stats[0].1.percentiles;
    for (_, r) in &stats[1..] {
        if let (Some(p), Some(q)) = (percentiles.as_mut(), r.percentiles) {
            p.p50 = p.p50.max(q.p50);
            p.p90 = p.p90.max(q.p90);
            p.p99 = p.p99.max(q.p99);
            p.p999 = p.p999.max(q.p999);
        }
    }
    Some(RttStats {
        min: stats
            .iter()
            .map(|(_, r)| r.min)
            .fold(f64::INFINITY, f64::min),
        avg,
        max: stats.iter().map(|(_, r)| r.max).fold(0.0, f64::max),
        mdev: (sq - avg * avg).max(0.0).sqrt(),
        percentiles,
    })
}

/// RFC 2544 26.4: the longest burst at the maximum rate without loss, by binary search on
/// the burst's length.
fn back_to_back(
    req: &BenchRequest,
    size: usize,
    max_pps: f64,
    trial: &mut TrialFn<'_>,
    on_event: &mut dyn FnMut(&Event),
) -> BenchResult {
    let longest = req
        .burst_max
        .unwrap_or(((max_pps * req.trial.as_secs_f64()).ceil() as u64).max(1));
    let mut result = BenchResult {
        test: BenchTest::BackToBack,
        frame_bytes: size,
        rate_pps: max_pps,
        rate_bps: wire_bps(max_pps, size),
        loss_bound_percent: Some(0.0),
        percent_of_max: None,
        loss_percent: 0.0,
        burst: Some(0),
        rtt_us: None,
        rfc_latency_us: None,
        sender_limited: false,
        trials: 0,
        interrupted: false,
    };
    let (mut low, mut high) = (0u64, longest);
    let mut burst = longest;
    let mut n = 0;
    loop {
        n += 1;
        on_event(&Event::BenchStep(BenchStep {
            test: BenchTest::BackToBack,
            frame_bytes: size,
            trial: n,
            rate_pps: None,
            burst: Some(burst),
            low: Some(low as f64),
            high: (n > 1).then_some(high as f64),
        }));
        let Some(t) = trial(size, None, Some(burst), BenchTest::BackToBack, n, on_event) else {
            result.interrupted = true;
            break;
        };
        on_event(&Event::BenchTrial(t.trial.clone()));
        result.trials = n;
        if t.interrupted {
            result.interrupted = true;
            break;
        }
        if t.trial.passed {
            low = burst;
            result.burst = Some(burst);
            result.rtt_us = t.trial.rtt_us;
            if burst == longest {
                result.sender_limited = true;
                break;
            }
        } else {
            high = burst;
            result.loss_percent = t.trial.loss_percent;
        }
        if high - low <= 1
            || req.precision.reached(low as f64, high as f64)
            || n >= MAX_SEARCH_TRIALS
        {
            break;
        }
        burst = (low + high) / 2;
    }
    if result.burst.is_some_and(|b| b > 0) {
        result.loss_percent = 0.0;
    }
    result
}

#[cfg(test)]
mod tests;
