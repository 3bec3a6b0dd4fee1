//! ICMP echo ("ping"): send requests on a schedule, match replies and errors, time them.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::link::{self, Link, LinkConfig, RxFilter};
use crate::net::loopback::LoopbackGuard;
use crate::net::resolve::{self, Path, PathRequest};
use crate::probe::options::OptionsRequest;
use crate::wire::hop::{ms_since_midnight_ut, record_hop};
use crate::wire::{
    build_icmp_frame_into, parse_frame, EthernetRepr, IcmpMessage, IcmpRepr, IpOption, Ipv4Repr,
    ParsedIpv4, ETHERTYPE_IPV4, L3, L4,
};
use crate::{Error, Result};

/// IP protocol number of ICMP.
const IPPROTO_ICMP: u8 = 1;
/// ICMP echo header length.
const ICMP_HEADER: usize = 8;
/// Largest IPv4 datagram.
const MAX_IP_LEN: usize = 65535;

/// A validated ping request.
#[derive(Debug, Clone)]
pub struct PingRequest {
    /// The host to ping.
    pub dest: Ipv4Addr,
    /// Number of requests (None: until interrupted or the deadline).
    pub count: Option<u64>,
    /// Time between requests.
    pub interval: Duration,
    /// ICMP data bytes after the 8-byte echo header.
    pub size: usize,
    /// IP time to live.
    pub ttl: u8,
    /// IP type of service byte (DSCP + ECN).
    pub tos: u8,
    /// Set the Don't Fragment flag.
    pub dont_fragment: bool,
    /// ICMP identifier.
    pub id: u16,
    /// After the last request, how long to wait for outstanding replies.
    pub timeout: Duration,
    /// Stop after this long whatever the count (`-w`).
    pub deadline: Option<Duration>,
    /// Bytes repeated to fill the data after the timestamp (`-p`); empty: 0x08, 0x09, ...
    pub pattern: Vec<u8>,
    /// IP options.
    pub options: OptionsRequest,
    /// Interface and address overrides.
    pub path: PathRequest,
    /// Write every frame sent and received here.
    pub pcap: Option<PathBuf>,
}

impl PingRequest {
    /// A request with iputils' defaults: 56 data bytes, TTL 64, 1 s interval, 10 s linger.
    pub fn new(dest: Ipv4Addr) -> Self {
        PingRequest {
            dest,
            count: None,
            interval: Duration::from_secs(1),
            size: 56,
            ttl: 64,
            tos: 0,
            dont_fragment: false,
            id: (std::process::id() & 0xffff) as u16,
            timeout: Duration::from_secs(10),
            deadline: None,
            pattern: Vec::new(),
            options: OptionsRequest::default(),
            path: PathRequest {
                arp_timeout: Duration::from_secs(2),
                ..Default::default()
            },
            pcap: None,
        }
    }
}

/// Something the ping run saw, in the order it happened.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PingEvent {
    /// The run has started: where frames go.
    Start {
        dest: Ipv4Addr,
        wire_dst: Ipv4Addr,
        src: Ipv4Addr,
        iface: String,
        next_hop: Ipv4Addr,
        dst_mac: String,
        data_bytes: usize,
        ip_bytes: usize,
        option_bytes: usize,
    },
    /// An echo reply matched one of our requests.
    Reply(Reply),
    /// An ICMP error about one of our requests.
    IcmpError(IcmpErrorEvent),
}

/// One echo reply.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reply {
    /// Sequence number.
    pub seq: u16,
    /// Source of the reply.
    pub from: Ipv4Addr,
    /// ICMP bytes (header + data), as ping prints them.
    pub bytes: usize,
    /// TTL of the reply.
    pub ttl: u8,
    /// Round-trip time in milliseconds (kernel receive timestamp − send time).
    pub rtt_ms: f64,
    /// A second reply to the same request.
    pub duplicate: bool,
    /// The echoed data differs from what we sent.
    pub data_mismatch: bool,
    /// IP options the reply carries, decoded, with this host's own record and stamp added as
    /// the receiving IP module adds them (Linux does this on input; so does `ping -R`'s view).
    #[serde(serialize_with = "ser_options")]
    pub options: Vec<IpOption>,
}

/// One ICMP error that quotes one of our requests.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IcmpErrorEvent {
    /// Sequence number of the request it is about.
    pub seq: u16,
    /// The router or host that sent the error.
    pub from: Ipv4Addr,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// iputils' wording, e.g. "Source Route Failed".
    pub description: String,
    /// For a parameter problem: which field or option the pointer names.
    pub detail: Option<String>,
    /// The IP options of our request as the sender of the error quoted them.
    #[serde(serialize_with = "ser_options")]
    pub quoted_options: Vec<IpOption>,
}

fn ser_options<S: serde::Serializer>(
    opts: &[IpOption],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(opts.iter().map(|o| o.to_string()))
}

/// Totals at the end of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PingSummary {
    /// The host pinged.
    pub dest: Option<Ipv4Addr>,
    /// Requests sent.
    pub transmitted: u64,
    /// Distinct requests answered.
    pub received: u64,
    /// Extra replies to already answered requests.
    pub duplicates: u64,
    /// ICMP errors about our requests.
    pub errors: u64,
    /// Wall time of the run in milliseconds.
    pub time_ms: u64,
    /// RTT statistics over the replies (ms), absent without replies.
    pub rtt: Option<RttStats>,
    /// Packet loss in percent.
    pub loss_percent: f64,
}

/// min/avg/max/mdev as iputils computes them.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RttStats {
    /// Smallest RTT (ms).
    pub min: f64,
    /// Mean RTT (ms).
    pub avg: f64,
    /// Largest RTT (ms).
    pub max: f64,
    /// Mean deviation: sqrt(mean(x²) − mean(x)²) (ms).
    pub mdev: f64,
}

impl RttStats {
    /// Statistics over a list of RTTs in ms; None when empty.
    pub fn from_samples(samples: &[f64]) -> Option<RttStats> {
        if samples.is_empty() {
            return None;
        }
        let n = samples.len() as f64;
        let sum: f64 = samples.iter().sum();
        let sum2: f64 = samples.iter().map(|x| x * x).sum();
        let avg = sum / n;
        Some(RttStats {
            min: samples.iter().cloned().fold(f64::INFINITY, f64::min),
            max: samples.iter().cloned().fold(0.0, f64::max),
            avg,
            mdev: (sum2 / n - avg * avg).max(0.0).sqrt(),
        })
    }
}

/// A request sent and not yet forgotten.
struct Sent {
    at: SystemTime,
    replies: u32,
}

/// Run a ping: resolve the path, send `count` requests, report each event to `on_event`, and
/// return the totals. Everything that can be refused is refused before the first frame leaves.
pub fn run(
    req: &PingRequest,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(&PingEvent),
) -> Result<PingSummary> {
    validate(req)?;
    let ip_options = req.options.build(req.dest)?;
    let wire_dst = req.options.wire_destination(req.dest);
    let path_req = PathRequest {
        dst: Some(wire_dst),
        ..req.path.clone()
    };
    let plan = resolve::plan(&path_req)?;

    // Size check against the interface MTU before any socket is opened.
    let option_bytes = crate::wire::emit_options(&ip_options)?.len();
    let ip_bytes = 20 + option_bytes + ICMP_HEADER + req.size;
    let limit = (plan.iface.mtu as usize).min(MAX_IP_LEN);
    if ip_bytes > limit {
        return Err(Error::Invalid(format!(
            "-s {} makes a {ip_bytes}-byte IP packet (20 header + {option_bytes} options + 8 ICMP + \
             {} data) but {} allows {limit}: the largest -s here is {}",
            req.size,
            req.size,
            if limit == MAX_IP_LEN {
                "IPv4".to_string()
            } else {
                format!("the MTU of {}", plan.iface.name)
            },
            limit.saturating_sub(20 + option_bytes + ICMP_HEADER)
        )));
    }

    let mut link = link::open(
        &plan.iface,
        &LinkConfig {
            filter: RxFilter::ArpAndIcmp,
            promiscuous: false,
            buffer_size: 1 << 20,
        },
    )?;
    // Linux drops frames injected on lo unless lo accepts local sources (see net::loopback).
    let _lo_guard = if plan.iface.is_loopback {
        let g = LoopbackGuard::enable()?;
        if !g.changed().is_empty() {
            eprintln!(
                "pktforge: note: set {} = 1 for this run (Linux drops frames injected on lo \
                 otherwise); restored on exit",
                g.changed().join(", ")
            );
        }
        Some(g)
    } else {
        None
    };
    let path = resolve::complete(plan, &path_req, link.as_mut())?;
    let mut pcap = match &req.pcap {
        Some(p) => Some(link::pcap::PcapWriter::create(p)?),
        None => None,
    };

    on_event(&PingEvent::Start {
        dest: req.dest,
        wire_dst,
        src: path.plan.src_ip,
        iface: path.plan.iface.name.clone(),
        next_hop: path.plan.next_hop,
        dst_mac: path.dst_mac.to_string(),
        data_bytes: req.size,
        ip_bytes,
        option_bytes,
    });

    let template = Template::new(req, &path, ip_options);
    let mut session = Session {
        req,
        path: &path,
        template,
        sent: HashMap::new(),
        frame: Vec::with_capacity(ip_bytes + 14),
        rtts: Vec::new(),
        summary: PingSummary {
            dest: Some(req.dest),
            ..Default::default()
        },
    };
    let started = Instant::now();
    let result = session.run_loop(link.as_mut(), pcap.as_mut(), stop, on_event, started);
    if let Some(p) = pcap.as_mut() {
        p.flush()?;
    }
    result?;
    let mut summary = session.summary;
    summary.time_ms = started.elapsed().as_millis() as u64;
    summary.rtt = RttStats::from_samples(&session.rtts);
    summary.loss_percent = if summary.transmitted == 0 {
        0.0
    } else {
        100.0 * (summary.transmitted - summary.received.min(summary.transmitted)) as f64
            / summary.transmitted as f64
    };
    Ok(summary)
}

fn validate(req: &PingRequest) -> Result<()> {
    if req.count == Some(0) {
        return Err(Error::Invalid("-c COUNT must be at least 1".into()));
    }
    if req.ttl == 0 {
        return Err(Error::Invalid("-t TTL must be 1..=255".into()));
    }
    if req.interval.is_zero() {
        return Err(Error::Invalid(
            "-i INTERVAL must be more than 0 (ping is not a flood tool: see `blast`)".into(),
        ));
    }
    if req.pattern.len() > 16 {
        return Err(Error::Invalid(format!(
            "-p PATTERN holds at most 16 bytes, got {}",
            req.pattern.len()
        )));
    }
    if req.size > MAX_IP_LEN - 20 - ICMP_HEADER {
        return Err(Error::Invalid(format!(
            "-s {} is over the IPv4 limit: at most {} data bytes",
            req.size,
            MAX_IP_LEN - 20 - ICMP_HEADER
        )));
    }
    Ok(())
}

/// The unchanging part of every request frame.
struct Template {
    eth: EthernetRepr,
    ip: Ipv4Repr,
    /// The options as built, before this host records and stamps itself into them.
    options: Vec<IpOption>,
    data: Vec<u8>,
}

impl Template {
    fn new(req: &PingRequest, path: &Path, options: Vec<IpOption>) -> Self {
        let mut ip = Ipv4Repr::new(
            path.plan.src_ip,
            req.options.wire_destination(req.dest),
            IPPROTO_ICMP,
        );
        ip.ttl = req.ttl;
        ip.tos = req.tos;
        ip.dont_fragment = req.dont_fragment;
        Template {
            options,
            eth: EthernetRepr {
                dst: path.dst_mac,
                src: path.src_mac,
                vlan: None,
                ethertype: ETHERTYPE_IPV4,
            },
            ip,
            data: fill_data(req.size, &req.pattern),
        }
    }
}

/// iputils' data: a timeval in the first 16 bytes (when there is room), then the pattern.
fn fill_data(size: usize, pattern: &[u8]) -> Vec<u8> {
    (0..size)
        .map(|i| match pattern {
            [] => (i + 8) as u8,
            p => p[i % p.len()],
        })
        .collect()
}

fn stamp_data(data: &mut [u8], at: SystemTime) {
    if data.len() >= 16 {
        let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        data[..8].copy_from_slice(&d.as_secs().to_le_bytes());
        data[8..16].copy_from_slice(&u64::from(d.subsec_micros()).to_le_bytes());
    }
}

struct Session<'a> {
    req: &'a PingRequest,
    path: &'a Path,
    template: Template,
    sent: HashMap<u16, Sent>,
    frame: Vec<u8>,
    rtts: Vec<f64>,
    summary: PingSummary,
}

impl Session<'_> {
    fn run_loop(
        &mut self,
        link: &mut dyn Link,
        mut pcap: Option<&mut link::pcap::PcapWriter>,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(&PingEvent),
        started: Instant,
    ) -> Result<()> {
        let deadline = self.req.deadline.map(|d| started + d);
        let mut next_send = started;
        let mut linger_until: Option<Instant> = None;
        let tick = Duration::from_millis(100);
        loop {
            let now = Instant::now();
            if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| now >= d) {
                return Ok(());
            }
            let more = self.req.count.is_none_or(|c| self.summary.transmitted < c);
            if more && now >= next_send {
                self.send_one(link, pcap.as_deref_mut())?;
                next_send += self.req.interval;
                if next_send < now {
                    next_send = now + self.req.interval; // never burst to catch up
                }
                if self
                    .req
                    .count
                    .is_some_and(|c| self.summary.transmitted >= c)
                {
                    linger_until = Some(Instant::now() + self.req.timeout);
                }
            }
            if let Some(until) = linger_until {
                let all_answered = self.sent.values().all(|s| s.replies > 0);
                if all_answered || now >= until {
                    return Ok(());
                }
            }
            let mut wait = now + tick;
            if more {
                wait = wait.min(next_send);
            }
            if let Some(u) = linger_until {
                wait = wait.min(u);
            }
            if let Some(d) = deadline {
                wait = wait.min(d);
            }
            if let Some(rx) = link.recv(wait)? {
                if let Some(p) = pcap.as_deref_mut() {
                    p.write(rx.timestamp, rx.data)?;
                }
                if let Some(ev) = self.handle(rx.data, rx.timestamp) {
                    on_event(&ev);
                }
            }
        }
    }

    fn send_one(
        &mut self,
        link: &mut dyn Link,
        pcap: Option<&mut link::pcap::PcapWriter>,
    ) -> Result<()> {
        let seq = (self.summary.transmitted + 1) as u16; // iputils counts from 1
        let at = SystemTime::now();
        stamp_data(&mut self.template.data, at);
        self.template.ip.id = seq;
        // As the originating IP module (RFC 791, and as Linux does): record and stamp ourselves.
        let t = &mut self.template;
        t.ip.options.clone_from(&t.options);
        record_hop(&mut t.ip.options, t.ip.src, ms_since_midnight_ut(at));
        let icmp = IcmpRepr {
            message: IcmpMessage::EchoRequest {
                id: self.req.id,
                seq,
                data: self.template.data.clone(),
            },
            code_override: None,
            checksum_override: None,
        };
        build_icmp_frame_into(
            &mut self.frame,
            &self.template.eth,
            &self.template.ip,
            &icmp,
        )?;
        link.send(&self.frame)?;
        if let Some(p) = pcap {
            p.write(at, &self.frame)?;
        }
        self.sent.insert(seq, Sent { at, replies: 0 });
        self.summary.transmitted += 1;
        Ok(())
    }

    /// Turn a received frame into an event when it answers one of our requests.
    fn handle(&mut self, bytes: &[u8], at: SystemTime) -> Option<PingEvent> {
        let frame = parse_frame(bytes).ok()?;
        let L3::Ipv4 { ip, l4 } = frame.l3 else {
            return None;
        };
        if ip.repr.dst != self.path.plan.src_ip {
            return None;
        }
        let L4::Icmp(icmp) = l4 else {
            return None;
        };
        match &icmp.repr.message {
            IcmpMessage::EchoReply { id, seq, data } if *id == self.req.id => {
                let sent = self.sent.get_mut(seq)?;
                sent.replies += 1;
                let duplicate = sent.replies > 1;
                let rtt_ms = at.duration_since(sent.at).unwrap_or_default().as_secs_f64() * 1000.0;
                // As the receiving IP module (Linux records and stamps on input): so the route
                // shown is the one `ping -R` shows. The pcap keeps the bytes as they arrived.
                let mut options = ip.repr.options;
                record_hop(&mut options, ip.repr.dst, ms_since_midnight_ut(at));
                if duplicate {
                    self.summary.duplicates += 1;
                } else {
                    self.summary.received += 1;
                    self.rtts.push(rtt_ms);
                }
                Some(PingEvent::Reply(Reply {
                    seq: *seq,
                    from: ip.repr.src,
                    bytes: ICMP_HEADER + data.len(),
                    ttl: ip.repr.ttl,
                    rtt_ms,
                    duplicate,
                    data_mismatch: data[16.min(data.len())..]
                        != self.template.data[16.min(self.template.data.len())..],
                    options,
                }))
            }
            msg => {
                let quote = msg.quote()?.ok()?;
                let seq = self.quoted_seq(&quote.ip, &quote.payload)?;
                let sent = self.sent.get_mut(&seq)?;
                // An error settles the request: nothing more will come for it.
                sent.replies = sent.replies.max(1);
                self.summary.errors += 1;
                let detail = match msg {
                    IcmpMessage::ParameterProblem { pointer, quote, .. } => {
                        Some(crate::wire::explain_pointer(quote, *pointer))
                    }
                    _ => None,
                };
                Some(PingEvent::IcmpError(IcmpErrorEvent {
                    seq,
                    from: ip.repr.src,
                    icmp_type: icmp.icmp_type,
                    code: icmp.code,
                    description: msg.describe(),
                    detail,
                    quoted_options: quote.ip.repr.options,
                }))
            }
        }
    }

    /// The sequence number of our echo request quoted in an ICMP error, if it is ours.
    fn quoted_seq(&self, ip: &ParsedIpv4, payload: &[u8]) -> Option<u16> {
        if ip.repr.protocol != IPPROTO_ICMP || ip.repr.src != self.path.plan.src_ip {
            return None;
        }
        // The quoted ICMP header: type 8, code, checksum, id, seq.
        if payload.len() < 8 || payload[0] != 8 {
            return None;
        }
        let id = u16::from_be_bytes([payload[4], payload[5]]);
        (id == self.req.id).then(|| u16::from_be_bytes([payload[6], payload[7]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_stats_match_iputils_formula() {
        let s = RttStats::from_samples(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.min, s.avg, s.max), (1.0, 2.0, 3.0));
        assert!((s.mdev - (2.0f64 / 3.0).sqrt()).abs() < 1e-9);
        assert!(RttStats::from_samples(&[]).is_none());
    }

    #[test]
    fn data_fill_follows_pattern_or_counts_from_eight() {
        assert_eq!(fill_data(3, &[]), vec![8, 9, 10]);
        assert_eq!(
            fill_data(5, &[0xab, 0xcd]),
            vec![0xab, 0xcd, 0xab, 0xcd, 0xab]
        );
    }

    #[test]
    fn impossible_requests_are_refused() {
        let mut r = PingRequest::new(Ipv4Addr::LOCALHOST);
        r.count = Some(0);
        assert!(validate(&r).is_err());
        let mut r = PingRequest::new(Ipv4Addr::LOCALHOST);
        r.size = 70000;
        assert!(validate(&r).unwrap_err().to_string().contains("65507"));
        let mut r = PingRequest::new(Ipv4Addr::LOCALHOST);
        r.interval = Duration::ZERO;
        assert!(validate(&r).is_err());
    }
}
