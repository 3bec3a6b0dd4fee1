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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::event::{self, Command, Event, Notice, Start, Summary, Totals};
#[cfg(target_os = "linux")]
use crate::link::packet::fast::{FastLink, FastOptions, TxMode};
#[cfg(target_os = "linux")]
use crate::link::xdp::live::{self, LiveShared};
use crate::link::{self, Backend, Link, LinkConfig, RxFilter};
use crate::net::loopback::LoopbackGuard;
use crate::net::resolve::{self, PathRequest};
use crate::probe::engine::check_fits;
use crate::wire::echo_data;
use crate::wire::{EthernetRepr, Ipv4Repr, ETHERTYPE_IPV4};
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
    validate(req)?;
    if !req.path.vlans.is_empty() {
        return Err(Error::invalid(
            Field::Vlan,
            "are not sent by blast: its frame templates and reply classifier are untagged",
        ));
    }
    let ip_options = req.options.build(req.dest)?;
    let wire_dst = req.options.wire_destination(req.dest);
    let path_req = PathRequest {
        dst: Some(wire_dst),
        ..req.path.clone()
    };
    let plan = resolve::plan(&path_req)?;
    let option_bytes = crate::wire::emit_options(&ip_options)?.len();
    let ip_bytes = check_fits(&plan.iface, option_bytes, 8, req.size)?;
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
            return Err(Error::Invalid(
                "XDP live frames need the fast backend".into(),
            ));
        }
        if frame_len > live::MAX_FRAME {
            return Err(Error::Invalid(
                live::LiveError::TooLarge { frame: frame_len }.to_string(),
            ));
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
    let queues = tx_queues(&plan.iface.name);
    // Live frames are redirected from whatever CPU sends them: no queue per thread.
    if req.threads > queues && !live_asked {
        return Err(Error::invalid(
            Field::Threads,
            format!(
                "{} but {} has {queues} transmit queue{}: at most {queues}",
                req.threads,
                plan.iface.name,
                if queues == 1 { "" } else { "s" }
            ),
        ));
    }

    let cfg = LinkConfig {
        filter: match req.udp {
            None => RxFilter::ArpAndIcmpTo(plan.src_ip),
            Some(_) => RxFilter::ArpIcmpAnd(crate::wire::IP_PROTO_UDP),
        },
        promiscuous: false,
        buffer_size: 4 << 20,
        ..LinkConfig::default()
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
                    // A flood trades the host's packet taps for speed (said in blast's help).
                    bypass_taps: true,
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
        crate::session::neighbour::complete(plan, &path_req, l)?
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
        vlans: crate::wire::VlanStack::EMPTY,
        ethertype: ETHERTYPE_IPV4,
    };
    let mut ip = Ipv4Repr::new(path.plan.src_ip, wire_dst, 1);
    ip.ttl = req.ttl;
    ip.tos = req.tos;
    ip.dont_fragment = req.dont_fragment;
    ip.options = ip_options;
    let data = echo_data(req.size, &req.pattern, STAMP_BYTES);

    let n = req.threads;
    let shared = Shared {
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
    };
    let mut workers: Vec<Worker> = Vec::with_capacity(n);
    for k in 0..n {
        let quota = req
            .count
            .map(|c| c / n as u64 + u64::from((k as u64) < c % n as u64));
        workers.push(Worker {
            k,
            shared: &shared,
            template: Template::new(
                &eth,
                &ip,
                match req.udp {
                    None => Carrier::Icmp {
                        id: req.id.wrapping_add(k as u16),
                    },
                    Some(dst_port) => Carrier::Udp {
                        src_port: req.id.wrapping_add(k as u16),
                        dst_port,
                    },
                },
                req.dest,
                data.clone(),
            )?,
            rate: match req.rate {
                Rate::Pps(r) => Some(r / n as f64),
                Rate::Max => None,
            },
            quota,
            until: None,
            wait: req.wait,
            batch: req.batch,
            user_stop,
            #[cfg(target_os = "linux")]
            live: None,
        });
    }
    // XDP live frames: asked for, or tried first by `auto` (then only if delivery is seen).
    #[allow(unused_mut)]
    let mut live_unavailable = None;
    #[allow(unused_mut)]
    let mut tx_mode_used = tx_mode_used;
    #[cfg(target_os = "linux")]
    if req.udp.is_some() && req.tx_mode == TxMode::Auto {
        live_unavailable = Some("the live-frame program stamps ICMP echo requests only".into());
    }
    #[cfg(target_os = "linux")]
    if req.backend == Backend::Fast
        && req.udp.is_none()
        && matches!(req.tx_mode, TxMode::Live | TxMode::Auto)
    {
        let iface = &path.plan.iface;
        let t = &workers[0].template;
        let opened = if frame_len > live::MAX_FRAME || n >= live::SLOTS {
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
                tx_mode_used = TxMode::Live.to_string();
            }
            Err(e) if live_asked => {
                return Err(Error::Invalid(format!(
                    "XDP live frames on {}: {e}",
                    iface.name
                )))
            }
            Err(e) => live_unavailable = Some(e.to_string()),
        }
    }

    on_event(&Event::Start(Start {
        dest: Some(req.dest),
        wire_dst: Some(path.plan.dst_ip),
        src: Some(path.plan.src_ip),
        iface: Some(path.plan.iface.name.clone()),
        next_hop: Some(path.plan.next_hop),
        dst_mac: Some(path.dst_mac.to_string()),
        data_bytes: Some(req.size),
        ip_bytes: Some(frame_len - 14),
        option_bytes: Some(option_bytes),
        ..Start::new(Command::Blast)
    }));
    on_event(&Event::Notice(Notice {
        message: match &live_unavailable {
            Some(why) => format!("blast: sending with {tx_mode_used} (not XDP live frames: {why})"),
            None => format!("blast: sending with {tx_mode_used}"),
        },
    }));
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
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(20));
            // SIGQUIT: interim totals (iputils' "R/S packets, L% loss"), and go on.
            if user_stop.take_progress_request() {
                let (s, r) = (shared.total(|p| &p.sent), shared.total(|p| &p.received));
                on_event(&Event::Progress(event::Progress {
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
                }));
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
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut out = merge(
        req,
        &path,
        &shared,
        results,
        frame_len,
        elapsed,
        tx_mode_used,
    );
    out.live_unavailable = live_unavailable;
    on_event(&Event::Summary(Summary {
        command: Command::Blast,
        elapsed_us: elapsed * 1e6,
        interrupted: out.summary.interrupted,
        totals: Totals::Blast(Box::new(out.summary.clone())),
    }));
    Ok(out)
}

fn merge(
    req: &BlastRequest,
    path: &crate::session::Path,
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
    };
    BlastOutcome {
        summary,
        timeline,
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
