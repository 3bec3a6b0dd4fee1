//! High-rate echo generator: send echo requests at a set rate (or the maximum) from one or
//! more threads, match every reply through a sequence-indexed window, time it with the kernel
//! receive timestamp, and report rate, loss, reordering and latency percentiles.
//!
//! Every request's data starts with its 64-bit sequence number and its send time (UNIX ns,
//! little endian); the ICMP identifier names the sending thread (`id + thread`), the ICMP
//! sequence field holds the low 16 bits of the sequence number.

mod classify;
mod pace;
pub mod plot;
mod request;
pub mod stats;
mod template;
pub mod window;
mod worker;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::event::{self, Command, Event, Notice, Start, Summary, Totals};
#[cfg(target_os = "linux")]
use crate::link::packet::fast::{FastLink, FastOptions, TxMode};
#[cfg(target_os = "linux")]
use crate::link::xdp::live::{self, LiveShared};
use crate::link::{Backend, LinkConfig, RxFilter};
use crate::net::resolve::Plan;
use crate::net::Interface;
use crate::session::Path;
use crate::session::{self, check_fits, Loopback, NextHop, Session, SessionRequest};
use crate::wire::echo_data;
use crate::wire::{EthernetRepr, IpOption, Ipv4Repr, ETHERTYPE_IPV4};
use crate::{Error, Field, Result, Stop};
pub use classify::{classify, Expect, Rx};
use request::validate;
pub use request::{BlastOutcome, BlastRequest, Progress, Rate};
use stats::{BlastSummary, Gaps, RttSummary};
use template::{Carrier, Template};
use window::Window;
pub use worker::tx_queues;
use worker::{now_ns, Shared, Worker, WorkerLink, WorkerResult};

/// Bytes of sequence number + send time at the start of every request's data.
pub const STAMP_BYTES: usize = 16;
/// Slots of the matching window per sender thread.
const WINDOW: usize = 1 << 18;
/// Default and largest number of frames per syscall.
pub const DEFAULT_BATCH: usize = 64;
/// Largest `--batch`.
pub const MAX_BATCH: usize = 1024;

/// Run a blast. Refuses what it can before anything is sent; once sending has started, an
/// error (e.g. the interface went down) ends the run and comes back in
/// [`BlastOutcome::error`] beside the summary of what was sent until then.
///
/// Reports the start, a notice saying how frames are transmitted, a progress record each
/// second, and the summary at the end (also when a link error cuts the run short: the outcome
/// then carries the error).
pub fn run(
    req: &BlastRequest,
    user_stop: &Stop,
    on_event: &mut dyn FnMut(&Event),
) -> Result<BlastOutcome> {
    let plan = plan_run(req)?;
    let mut links = Links::open(req, &plan)?;
    let path = links
        .session
        .path()
        .expect("a session toward an address has a path")
        .clone();
    let per_thread = links.per_thread(plan.frame.frame_len);
    let shared = shared_state(req);
    let mut workers = build_workers(req, &plan, &path, &shared, user_stop)?;
    let tx = choose_transmission(req, &plan, &path, &per_thread, &mut workers)?;
    report_start(req, &plan, &path, &tx, on_event);
    let started = Instant::now();
    let results = run_workers(
        req, &shared, workers, per_thread, user_stop, started, on_event,
    );
    let elapsed = started.elapsed().as_secs_f64();
    let mut out = summarize(
        req,
        &path,
        &shared,
        results,
        plan.frame.frame_len,
        elapsed,
        tx.used,
    );
    out.live_unavailable = tx.live_unavailable;
    on_event(&Event::Summary(Summary {
        command: Command::Blast,
        elapsed_us: elapsed * 1e6,
        interrupted: out.summary.interrupted,
        totals: Totals::Blast(Box::new(out.summary.clone())),
    }));
    Ok(out)
}

impl BlastRequest {
    /// Run the blast through the contract every driver shares: the events (start, notices,
    /// progress each second, the summary) go to `on_event`, and the summary comes back; an
    /// error that cut the run short comes back after the summary was reported, its counts
    /// kept. [`run`] returns the same run's fuller outcome.
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        let out = run(self, stop, on_event)?;
        if let Some(e) = out.error {
            return Err(e);
        }
        Ok(Summary {
            command: Command::Blast,
            elapsed_us: out.summary.elapsed_seconds * 1e6,
            interrupted: out.summary.interrupted,
            totals: Totals::Blast(Box::new(out.summary)),
        })
    }
}

/// The bytes of one request frame.
#[derive(Debug, Clone, Copy)]
struct FrameSize {
    /// IP options.
    option_bytes: usize,
    /// The IP datagram.
    ip_bytes: usize,
    /// The Ethernet frame (no FCS).
    frame_len: usize,
}

/// A request checked against the route: everything refused that can be before anything opens.
struct RunPlan {
    /// What the session opens (the link's filter and fast options included).
    session: SessionRequest,
    /// The interface the route leaves by.
    iface: Interface,
    /// The route toward the destination on the wire.
    route: Plan,
    /// The IP destination on the wire (a source route's first hop).
    wire_dst: Ipv4Addr,
    /// The IP options every request carries.
    ip_options: Vec<IpOption>,
    frame: FrameSize,
    /// XDP live frames asked for (not only tried by `auto`).
    live_asked: bool,
}

/// Check the request, route it and check that its frames and threads fit the interface.
fn plan_run(req: &BlastRequest) -> Result<RunPlan> {
    validate(req)?;
    if !req.path.vlans.is_empty() {
        return Err(Error::invalid(
            Field::Vlan,
            "are not sent by blast: its frame templates and reply classifier are untagged",
        ));
    }
    let ip_options = req.options.build(req.dest)?;
    let wire_dst = req.options.wire_destination(req.dest);
    let mut session = SessionRequest {
        path: req.path.clone(),
        backend: req.backend,
        next_hop: NextHop::Resolve,
        // Rings and AF_XDP move the frames on lo too: its sysctls, not a raw socket.
        loopback: Loopback::Sysctls,
        ..SessionRequest::toward(IpAddr::V4(wire_dst))
    };
    let (iface, route) = session::plan(&session)?;
    let route = route.expect("a session toward an address has a route");
    let frame = frame_size(req, &iface, &ip_options)?;
    let live_asked = check_threads(req, &iface, frame.frame_len)?;
    session.link = link_config(req, route.src_ip);
    #[cfg(target_os = "linux")]
    {
        session.fast = Some(fast_options(req, frame.frame_len, 0));
    }
    Ok(RunPlan {
        session,
        iface,
        route,
        wire_dst,
        ip_options,
        frame,
        live_asked,
    })
}

/// The request's frame against the interface's MTU (and the fast link's TX slot).
fn frame_size(req: &BlastRequest, iface: &Interface, ip_options: &[IpOption]) -> Result<FrameSize> {
    let option_bytes = crate::wire::emit_options(ip_options)?.len();
    let ip_bytes = check_fits(iface, option_bytes, 8, req.size)?;
    let frame_len = 14 + ip_bytes;
    #[cfg(target_os = "linux")]
    if req.backend == Backend::Fast && frame_len > crate::link::packet::fast::MAX_FRAME {
        return Err(Error::TooLarge {
            field: Field::DataSize,
            value: req.size,
            ip_bytes,
            option_bytes,
            header_bytes: 8,
            limit: crate::link::packet::fast::MAX_FRAME - 14,
            limited_by: "the fast link's TX ring slot".into(),
            largest: crate::link::packet::fast::MAX_FRAME - 14 - 20 - option_bytes - 8,
        });
    }
    Ok(FrameSize {
        option_bytes,
        ip_bytes,
        frame_len,
    })
}

/// The sender threads against the cores, the interface's transmit queues and, for XDP live
/// frames, their limits. True when live frames are asked for.
fn check_threads(req: &BlastRequest, iface: &Interface, frame_len: usize) -> Result<bool> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if req.threads > cores {
        return Err(Error::invalid(
            Field::Threads,
            format!(
                "{}: this machine has {cores} core{} to run them on: at most {cores}",
                req.threads,
                if cores == 1 { "" } else { "s" }
            ),
        ));
    }
    #[cfg(target_os = "linux")]
    let live_asked = req.tx_mode == TxMode::Live;
    #[cfg(not(target_os = "linux"))]
    let live_asked = false;
    #[cfg(target_os = "linux")]
    if live_asked {
        if req.backend != Backend::Fast {
            return Err(Error::Unsupported {
                what: "XDP live frames".into(),
                needs: "they need the fast backend".into(),
            });
        }
        if frame_len > live::MAX_FRAME {
            return Err(Error::FrameDoesNotFit {
                bytes: frame_len,
                place: "an XDP live frame (a page less the XDP headroom and tailroom)".into(),
                limit: live::MAX_FRAME,
            });
        }
        if req.threads >= live::SLOTS {
            return Err(Error::invalid(
                Field::Threads,
                format!(
                    "{}: XDP live frames take at most {} sender threads",
                    req.threads,
                    live::SLOTS - 1
                ),
            ));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = frame_len;
    let queues = tx_queues(&iface.name);
    // Live frames are redirected from whatever CPU sends them: no queue per thread.
    if req.threads > queues && !live_asked {
        return Err(Error::invalid(
            Field::Threads,
            format!(
                "{} but {} has {queues} transmit queue{}: at most {queues}",
                req.threads,
                iface.name,
                if queues == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(live_asked)
}

/// What every thread's link receives: ARP and the replies to our source address (ICMP), or
/// ARP, ICMP and UDP.
fn link_config(req: &BlastRequest, src: Ipv4Addr) -> LinkConfig {
    LinkConfig {
        filter: match req.udp {
            None => RxFilter::ArpAndIcmpTo(src),
            Some(_) => RxFilter::ArpIcmpAnd(crate::wire::IP_PROTO_UDP),
        },
        promiscuous: false,
        buffer_size: 4 << 20,
        ..LinkConfig::default()
    }
}

/// The fast link of the sender thread on transmit queue `queue`.
#[cfg(target_os = "linux")]
fn fast_options(req: &BlastRequest, frame_len: usize, queue: u32) -> FastOptions {
    FastOptions {
        tx_mode: req.tx_mode,
        max_frame: frame_len,
        queue,
        // A flood trades the host's packet taps for speed (said in blast's help).
        bypass_taps: true,
    }
}

/// The run's session (its link is the first thread's) and the fast links of the other sender
/// threads, one transmit queue each, all in one fanout group.
struct Links {
    session: Session,
    #[cfg(target_os = "linux")]
    more: Vec<FastLink>,
}

impl Links {
    /// Open the session (link, `lo`'s sysctls, the next hop's MAC) and the other threads' links.
    fn open(req: &BlastRequest, plan: &RunPlan) -> Result<Links> {
        let session =
            Session::open_planned(&plan.session, plan.iface.clone(), Some(plan.route.clone()))?;
        #[cfg(target_os = "linux")]
        let mut links = Links {
            more: (1..req.threads)
                .map(|queue| {
                    session.open_another_fast(
                        &plan.session.link,
                        fast_options(req, plan.frame.frame_len, queue as u32),
                    )
                })
                .collect::<Result<_>>()?,
            session,
        };
        #[cfg(not(target_os = "linux"))]
        let links = {
            let _ = req; // one thread: the session's link
            Links { session }
        };
        #[cfg(target_os = "linux")]
        if req.threads > 1 {
            let group = (std::process::id() & 0xffff) as u16;
            if let Some(first) = links.session.fast_link() {
                first.join_fanout(group)?;
            }
            for l in &mut links.more {
                l.join_fanout(group)?;
            }
        }
        Ok(links)
    }

    /// One link per sender thread, borrowed for the run: the fast links themselves, or the
    /// session's link one frame at a time (with a buffer of `frame_len` bytes).
    fn per_thread(&mut self, frame_len: usize) -> Vec<WorkerLink<'_>> {
        #[cfg(target_os = "linux")]
        if self.session.fast_link().is_some() {
            let first = self.session.fast_link().expect("checked just above");
            return std::iter::once(first)
                .chain(self.more.iter_mut())
                .map(WorkerLink::Fast)
                .collect();
        }
        vec![WorkerLink::Other(self.session.link(), vec![0u8; frame_len])]
    }
}

/// What every worker shares: matching windows, counters, the stop flags.
fn shared_state(req: &BlastRequest) -> Shared {
    let n = req.threads;
    Shared {
        windows: (0..n).map(|_| Window::new(WINDOW)).collect(),
        progress: (0..n).map(|_| Progress::default()).collect(),
        stop: AtomicBool::new(false),
        sending: AtomicUsize::new(n),
        interrupted: AtomicBool::new(false),
        base_id: req.id,
        expect: match req.udp {
            None => Expect::Icmp,
            Some(p) => Expect::Udp(p),
        },
    }
}

/// One worker per sender thread: its frame template (its own ICMP identifier or UDP source
/// port), its share of the rate and of the count.
fn build_workers<'a>(
    req: &BlastRequest,
    plan: &RunPlan,
    path: &Path,
    shared: &'a Shared,
    user_stop: &'a Stop,
) -> Result<Vec<Worker<'a>>> {
    let eth = EthernetRepr {
        dst: path.dst_mac,
        src: path.src_mac,
        vlans: crate::wire::VlanStack::EMPTY,
        ethertype: ETHERTYPE_IPV4,
    };
    let mut ip = Ipv4Repr::new(path.plan.src_ip, plan.wire_dst, 1);
    ip.ttl = req.ttl;
    ip.tos = req.tos;
    ip.dont_fragment = req.dont_fragment;
    ip.options = plan.ip_options.clone();
    let data = echo_data(req.size, &req.pattern, STAMP_BYTES);
    let n = req.threads;
    (0..n)
        .map(|k| {
            let carrier = match req.udp {
                None => Carrier::Icmp {
                    id: req.id.wrapping_add(k as u16),
                },
                Some(dst_port) => Carrier::Udp {
                    src_port: req.id.wrapping_add(k as u16),
                    dst_port,
                },
            };
            Ok(Worker {
                k,
                shared,
                template: Template::new(&eth, &ip, carrier, req.dest, data.clone())?,
                rate: match req.rate {
                    Rate::Pps(r) => Some(r / n as f64),
                    Rate::Max => None,
                },
                quota: req
                    .count
                    .map(|c| c / n as u64 + u64::from((k as u64) < c % n as u64)),
                until: None,
                wait: req.wait,
                batch: req.batch,
                user_stop,
                #[cfg(target_os = "linux")]
                live: None,
            })
        })
        .collect()
}

/// How frames leave: what the links settled on, or XDP live frames.
struct Transmission {
    /// The mode's name, for the notice and the summary.
    used: String,
    /// With `auto`: why live frames were not used.
    live_unavailable: Option<String>,
}

/// XDP live frames when asked for, or tried first by `auto` (then only if delivery is seen):
/// each worker gets its sender. Otherwise what the first link transmits with (`auto`
/// settles on AF_XDP or the TX ring).
fn choose_transmission(
    req: &BlastRequest,
    plan: &RunPlan,
    path: &Path,
    links: &[WorkerLink<'_>],
    workers: &mut [Worker<'_>],
) -> Result<Transmission> {
    #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
    let mut tx = Transmission {
        used: links[0].tx_mode(),
        live_unavailable: None,
    };
    #[cfg(not(target_os = "linux"))]
    let _ = (req, plan, path, workers);
    #[cfg(target_os = "linux")]
    {
        if req.udp.is_some() && req.tx_mode == TxMode::Auto {
            tx.live_unavailable =
                Some("the live-frame program stamps ICMP echo requests only".into());
        }
        if req.backend != Backend::Fast
            || req.udp.is_some()
            || !matches!(req.tx_mode, TxMode::Live | TxMode::Auto)
        {
            return Ok(tx);
        }
        let iface = &path.plan.iface;
        let frame_len = plan.frame.frame_len;
        let t = &workers[0].template;
        let opened = if frame_len > live::MAX_FRAME || workers.len() >= live::SLOTS {
            Err(live::LiveError::TooLarge { frame: frame_len })
        } else {
            LiveShared::open(&iface.name, iface.index, &t.frame, t.icmp)
                .and_then(|l| l.probe(&t.frame).map(|()| l))
        };
        match opened {
            Ok(l) => {
                let l = std::sync::Arc::new(l);
                for (k, w) in workers.iter_mut().enumerate() {
                    w.live = Some(l.sender(k, &w.template.frame));
                }
                tx.used = TxMode::Live.to_string();
            }
            Err(e) if plan.live_asked => {
                return Err(Error::Unsupported {
                    what: format!("XDP live frames on {}", iface.name),
                    needs: e.to_string(),
                })
            }
            Err(e) => tx.live_unavailable = Some(e.to_string()),
        }
    }
    Ok(tx)
}

/// The start record and the notice saying how frames are transmitted.
fn report_start(
    req: &BlastRequest,
    plan: &RunPlan,
    path: &Path,
    tx: &Transmission,
    on_event: &mut dyn FnMut(&Event),
) {
    on_event(&Event::Start(Start {
        dest: Some(req.dest),
        wire_dst: Some(path.plan.dst_ip),
        src: Some(path.plan.src_ip),
        iface: Some(path.plan.iface.name.clone()),
        next_hop: Some(path.plan.next_hop),
        dst_mac: Some(path.dst_mac.to_string()),
        data_bytes: Some(req.size),
        ip_bytes: Some(plan.frame.ip_bytes),
        option_bytes: Some(plan.frame.option_bytes),
        ..Start::new(Command::Blast)
    }));
    let used = &tx.used;
    on_event(&Event::Notice(Notice {
        message: match &tx.live_unavailable {
            Some(why) => format!("blast: sending with {used} (not XDP live frames: {why})"),
            None => format!("blast: sending with {used}"),
        },
    }));
}

/// Start every worker on one schedule, slightly in the future, each on its link; report
/// progress each second (and on SIGQUIT) until all are done.
fn run_workers(
    req: &BlastRequest,
    shared: &Shared,
    mut workers: Vec<Worker<'_>>,
    links: Vec<WorkerLink<'_>>,
    user_stop: &Stop,
    started: Instant,
    on_event: &mut dyn FnMut(&Event),
) -> Vec<WorkerResult> {
    let t0 = started + Duration::from_millis(2);
    let t0_ns = now_ns() + 2_000_000;
    for w in &mut workers {
        w.until = req.duration.map(|d| t0 + d);
    }
    std::thread::scope(|sc| {
        let handles: Vec<_> = workers
            .into_iter()
            .zip(links)
            .map(|(w, l)| sc.spawn(move || w.run(l, t0, t0_ns)))
            .collect();
        let mut last = (Instant::now(), 0u64, 0u64);
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            // SIGQUIT: interim totals (iputils' "R/S packets, L% loss"), and go on.
            if user_stop.take_progress_request() {
                on_event(&Event::Progress(interim_totals(shared, started)));
            }
            if last.0.elapsed() >= Duration::from_secs(1) {
                let (s, r) = (shared.total(|p| &p.sent), shared.total(|p| &p.received));
                let dt = last.0.elapsed().as_secs_f64();
                on_event(&Event::Progress(event::Progress {
                    elapsed_us: event::us(started.elapsed()),
                    sent: s,
                    received: r,
                    tx_rate: (s - last.1) as f64 / dt,
                    rx_rate: (r - last.2) as f64 / dt,
                    loss_percent: None,
                    rtt_us: None,
                    ewma_us: None,
                }));
                last = (Instant::now(), s, r);
            }
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("blast worker panicked"))
            .collect()
    })
}

/// Sent, received and the loss so far (iputils' answer to SIGQUIT).
fn interim_totals(shared: &Shared, started: Instant) -> event::Progress {
    let (s, r) = (shared.total(|p| &p.sent), shared.total(|p| &p.received));
    event::Progress {
        elapsed_us: event::us(started.elapsed()),
        sent: s,
        received: r,
        tx_rate: 0.0,
        rx_rate: 0.0,
        loss_percent: Some(if s > 0 {
            100.0 * s.saturating_sub(r) as f64 / s as f64
        } else {
            0.0
        }),
        rtt_us: None,
        ewma_us: None,
    }
}

/// The workers' results merged into the run's summary and RTT timeline.
fn summarize(
    req: &BlastRequest,
    path: &Path,
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
    let mut in_flight = 0;
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
        in_flight += r.in_flight;
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
        lost: sent.saturating_sub(received).saturating_sub(in_flight),
        in_flight,
        loss_percent: if sent > in_flight {
            100.0 * sent.saturating_sub(received).saturating_sub(in_flight) as f64
                / (sent - in_flight) as f64
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
        timeline,
    };
    BlastOutcome {
        summary,
        error,
        live_unavailable: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{checksum, parse_frame, IcmpMessage, MacAddr, L3, L4};

    fn template(size: usize) -> Template {
        let eth = EthernetRepr {
            dst: MacAddr(2, 0, 0, 0, 0, 2),
            src: MacAddr(2, 0, 0, 0, 0, 1),
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        let ip = Ipv4Repr::new(
            "192.0.2.2".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
            1,
        );
        Template::new(
            &eth,
            &ip,
            Carrier::Icmp { id: 0x4242 },
            ip.dst,
            (0..size).map(|i| i as u8).collect(),
        )
        .unwrap()
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

    /// Regression (found by the `blast_classify` fuzz target): a reply carrying an 802.1Q tag
    /// was matched to our untagged requests.
    #[test]
    fn a_tagged_reply_is_not_ours() {
        let t = template(56);
        let mut buf = vec![0u8; 256];
        let n = t.write(&mut buf, 5, 999);
        let rep = reply_of(&buf[..n]);
        assert!(matches!(
            classify(&rep, 0x4242, 1, Expect::Icmp),
            Rx::Reply { .. }
        ));
        let mut tagged = rep[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        tagged.extend_from_slice(&rep[12..]);
        assert_eq!(classify(&tagged, 0x4242, 1, Expect::Icmp), Rx::NotOurs);
    }

    #[test]
    fn classify_replies_and_refuse_the_rest() {
        let t = template(56);
        let mut buf = vec![0u8; 256];
        let n = t.write(&mut buf, 77, 999);
        let req = buf[..n].to_vec();
        assert_eq!(
            classify(&req, 0x4242, 1, Expect::Icmp),
            Rx::NotOurs,
            "our own request"
        );
        let rep = reply_of(&req);
        assert_eq!(
            classify(&rep, 0x4242, 1, Expect::Icmp),
            Rx::Reply {
                thread: 0,
                seq: 77,
                sent_ns: 999
            }
        );
        assert_eq!(
            classify(&rep, 0x4241, 2, Expect::Icmp),
            Rx::Reply {
                thread: 1,
                seq: 77,
                sent_ns: 999
            }
        );
        assert_eq!(
            classify(&rep, 0x4243, 4, Expect::Icmp),
            Rx::NotOurs,
            "other id"
        );
        let mut bad = rep.clone();
        bad[60] ^= 1;
        assert_eq!(classify(&bad, 0x4242, 1, Expect::Icmp), Rx::Corrupt);
        for cut in 0..rep.len() {
            let _ = classify(&rep[..cut], 0x4242, 1, Expect::Icmp);
        }
        let mut garbage = rep.clone();
        garbage[14] = 0x4f; // IHL 15 past the end
        let _ = classify(&garbage, 0x4242, 1, Expect::Icmp);
        garbage[16..18].copy_from_slice(&[0xff, 0xff]);
        let _ = classify(&garbage, 0x4242, 1, Expect::Icmp);
    }

    fn udp_template(size: usize) -> Template {
        let eth = EthernetRepr {
            dst: MacAddr(2, 0, 0, 0, 0, 2),
            src: MacAddr(2, 0, 0, 0, 0, 1),
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        let mut ip = Ipv4Repr::new(
            "192.0.2.2".parse().unwrap(),
            "198.51.100.1".parse().unwrap(),
            1,
        );
        // A source route: the UDP checksum covers the final destination, not the IP one.
        ip.options = vec![crate::wire::IpOption::loose_source_route(vec!["203.0.113.2"
            .parse()
            .unwrap()])
        .unwrap()];
        Template::new(
            &eth,
            &ip,
            Carrier::Udp {
                src_port: 40000,
                dst_port: 7,
            },
            "203.0.113.2".parse().unwrap(),
            (0..size).map(|i| i as u8).collect(),
        )
        .unwrap()
    }

    #[test]
    fn udp_incremental_checksum_matches_a_full_one() {
        let fin: std::net::Ipv4Addr = "203.0.113.2".parse().unwrap();
        for size in [16, 17, 56, 1400] {
            let t = udp_template(size);
            let mut buf = vec![0u8; 2048];
            for (seq, ns) in [(0u64, 0u64), (1, 1), (65535, u64::MAX), (1 << 40, 7)] {
                let n = t.write(&mut buf, seq, ns);
                let f = &buf[..n];
                let eth = crate::wire::EthernetFrame::new_checked(f).unwrap();
                let ip = crate::wire::Ipv4Packet::new_checked(eth.payload()).unwrap();
                assert!(ip.verify_checksum());
                let udp = crate::wire::UdpPacket::new_checked(ip.payload()).unwrap();
                assert_eq!(
                    udp.verify_checksum(ip.src(), fin),
                    Some(true),
                    "size {size}"
                );
                assert_eq!((udp.src_port(), udp.dst_port()), (40000, 7));
                assert_eq!(&udp.payload()[..8], &seq.to_le_bytes());
                assert_eq!(&udp.payload()[8..16], &ns.to_le_bytes());
            }
        }
    }

    /// The datagram a UDP echo service sends back: addresses and ports swapped.
    fn udp_echo_of(req: &[u8]) -> Vec<u8> {
        let eth = crate::wire::EthernetFrame::new_checked(req).unwrap();
        let ip = crate::wire::Ipv4Packet::new_checked(eth.payload()).unwrap();
        let udp = crate::wire::UdpPacket::new_checked(ip.payload()).unwrap();
        let e = EthernetRepr {
            dst: eth.src(),
            src: eth.dst(),
            vlans: crate::wire::VlanStack::EMPTY,
            ethertype: ETHERTYPE_IPV4,
        };
        let mut rip = Ipv4Repr::new("203.0.113.2".parse().unwrap(), ip.src(), 17);
        rip.protocol = crate::wire::IP_PROTO_UDP;
        let l4 = crate::wire::L4Repr::Udp(crate::wire::UdpRepr::new(
            udp.dst_port(),
            udp.src_port(),
            udp.payload().to_vec(),
        ));
        let mut f = Vec::new();
        crate::wire::build_l4_frame_into(&mut f, &e, &rip, &l4, ip.src()).unwrap();
        f
    }

    #[test]
    fn classify_udp_echoes_and_refuse_the_rest() {
        let t = udp_template(16);
        let mut buf = vec![0u8; 256];
        let n = t.write(&mut buf, 77, 999);
        let req = buf[..n].to_vec();
        let u = Expect::Udp(7);
        assert_eq!(classify(&req, 40000, 1, u), Rx::NotOurs, "our own request");
        let mut rep = udp_echo_of(&req);
        let want = Rx::Reply {
            thread: 0,
            seq: 77,
            sent_ns: 999,
        };
        assert_eq!(classify(&rep, 40000, 1, u), want);
        assert_eq!(classify(&rep, 40000, 1, Expect::Icmp), Rx::NotOurs);
        assert_eq!(
            classify(&rep, 40000, 1, Expect::Udp(9)),
            Rx::NotOurs,
            "other port"
        );
        assert_eq!(
            classify(&rep, 40001, 4, u),
            Rx::NotOurs,
            "other source port"
        );
        // Padded to the Ethernet minimum: the padding is not the datagram.
        rep.resize(rep.len().max(60) + 4, 0);
        assert_eq!(classify(&rep, 40000, 1, u), want);
        let mut bad = rep.clone();
        bad[14 + 20 + 8 + 3] ^= 1;
        assert_eq!(classify(&bad, 40000, 1, u), Rx::Corrupt);
        // No checksum is allowed in UDP.
        let mut none = udp_echo_of(&req);
        none[14 + 20 + 6..14 + 20 + 8].fill(0);
        assert_eq!(classify(&none, 40000, 1, u), want);
        for cut in 0..rep.len() {
            let _ = classify(&rep[..cut], 40000, 1, u);
        }
    }

    #[test]
    fn rate_parsing_and_validation() {
        assert_eq!("max".parse::<Rate>(), Ok(Rate::Max));
        assert_eq!("1e4".parse::<Rate>(), Ok(Rate::Pps(10000.0)));
        for bad in ["0", "-5", "nan", "inf", "fast"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        let mut r = BlastRequest::new("192.0.2.1".parse().unwrap());
        assert_eq!(validate(&r).unwrap_err().field(), Some(Field::Count));
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
        r.backend = Backend::default();
        r.threads = 1;
        r.udp = Some(0);
        assert_eq!(validate(&r).unwrap_err().field(), Some(Field::Port));
        r.udp = Some(7);
        r.id = 0;
        assert_eq!(validate(&r).unwrap_err().field(), Some(Field::Id));
        r.id = 1000;
        validate(&r).unwrap();
        #[cfg(target_os = "linux")]
        {
            r.tx_mode = TxMode::Live;
            assert!(validate(&r).unwrap_err().to_string().contains("ICMP echo"));
        }
    }
}
