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

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::craft::options::OptionsRequest;
use crate::event::{
    self, time_us, Answer, Command, IcmpError, Malformed, ProbeTotals, RttStats, Start, Summary,
    Totals,
};
use crate::link::capfile::{PcapFormat, PcapWriter, LINKTYPE_ETHERNET};
use crate::link::{self, Link, LinkConfig, RxFilter};
use crate::net::resolve::{self, PathRequest};
use crate::session::{neighbour, Path};
use crate::wire::hop::{ms_since_midnight_ut, record_hop};
use crate::wire::{
    build_l4_frame_into, emit_options, explain_pointer, parse_options, EthernetRepr, IcmpMessage,
    IcmpPacket, IcmpRepr, IpOption, Ipv4Packet, Ipv4Repr, L4Repr, VlanStack, ETHERTYPE_IPV4,
};
use crate::{Error, Field, Result, Stop};

/// IP protocol number of ICMP.
pub const IPPROTO_ICMP: u8 = 1;
/// Largest IPv4 datagram.
const MAX_IP_LEN: usize = 65535;

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

/// Where and how probes are sent: shared by every probe kind.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host probed.
    pub dest: Ipv4Addr,
    /// IP TTL (trace overrides it per probe).
    pub ttl: u8,
    /// IP TOS byte.
    pub tos: u8,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// IP options.
    pub options: OptionsRequest,
    /// Interface and address overrides.
    pub path: PathRequest,
    /// Write every frame sent and received here.
    pub pcap: Option<PathBuf>,
    /// The format of that file (by default: pcapng when its name ends in `.pcapng`).
    pub pcap_format: PcapFormat,
    /// Which link implementation moves the frames.
    pub backend: link::Backend,
    /// When the next hop does not answer ARP: go on anyway, asking again at each probe and
    /// reporting each probe as "Destination Host Unreachable" (as the kernel does for iputils
    /// ping), instead of refusing the run.
    pub keep_trying_arp: bool,
}

impl Target {
    /// Defaults: TTL 64, no options, routed interface, 2 s ARP timeout.
    pub fn new(dest: Ipv4Addr) -> Self {
        Target {
            dest,
            ttl: 64,
            tos: 0,
            dont_fragment: false,
            options: OptionsRequest::default(),
            path: PathRequest::default(),
            pcap: None,
            pcap_format: PcapFormat::ByName,
            backend: link::Backend::default(),
            keep_trying_arp: false,
        }
    }
}

/// An open path to the target: link, resolved addresses and the frame template.
pub struct Session {
    link: Box<dyn Link>,
    path: Path,
    pcap: Option<PcapWriter>,
    eth: EthernetRepr,
    ip: Ipv4Repr,
    /// The destination the transport checksum is for (the last hop of a source route).
    final_dst: Ipv4Addr,
    /// The options as built, before this host records and stamps itself into them.
    options: Vec<IpOption>,
    option_bytes: usize,
    frame: Vec<u8>,
    notices: Vec<String>,
    /// The next hop's MAC is not known yet: the ARP request to send at each probe.
    unresolved: Option<Vec<u8>>,
    arp_wait: Duration,
    /// The interface MTU: larger datagrams leave as fragments.
    mtu: usize,
    fragments: Vec<Vec<u8>>,
    reassembler: crate::wire::frag::Reassembler,
}

/// Check that a datagram of `data` bytes after a `header_bytes` transport header, with
/// `option_bytes` of IP options, fits `iface`'s MTU and IPv4; returns its IP length.
pub fn check_fits(
    iface: &crate::net::Interface,
    option_bytes: usize,
    header_bytes: usize,
    data: usize,
) -> Result<usize> {
    check_fits_tagged(iface, 0, option_bytes, header_bytes, data)
}

/// Like [`check_fits`] for frames whose VLAN tags take `tag_bytes` of the MTU
/// ([`link::vlan_mtu_overhead`]).
pub fn check_fits_tagged(
    iface: &crate::net::Interface,
    tag_bytes: usize,
    option_bytes: usize,
    header_bytes: usize,
    data: usize,
) -> Result<usize> {
    let ip_bytes = 20 + option_bytes + header_bytes + data;
    let limit = (iface.mtu as usize)
        .saturating_sub(tag_bytes)
        .min(MAX_IP_LEN);
    if ip_bytes <= limit {
        return Ok(ip_bytes);
    }
    Err(Error::TooLarge {
        field: Field::DataSize,
        value: data,
        ip_bytes,
        option_bytes,
        header_bytes,
        limit,
        limited_by: if limit == MAX_IP_LEN {
            "IPv4".to_string()
        } else if tag_bytes > 0 {
            format!(
                "the MTU of {} less {tag_bytes} bytes of VLAN tags",
                iface.name
            )
        } else {
            format!("the MTU of {}", iface.name)
        },
        largest: limit.saturating_sub(20 + option_bytes + header_bytes),
    })
}

impl Session {
    /// Validate, resolve and open everything a probe needs; `icmp_len` is the size of the
    /// largest ICMP message to be sent (checked against the MTU). Nothing is sent here except,
    /// when the next hop's MAC is unknown, ARP requests.
    pub fn open(t: &Target, icmp_len: usize) -> Result<Session> {
        Session::open_l4(t, IPPROTO_ICMP, icmp_len)
    }

    /// Like [`open`](Self::open) for probes of IP protocol `protocol` whose largest payload
    /// (transport header included) is `l4_len` bytes: the receive filter takes that protocol
    /// besides ICMP.
    pub fn open_l4(t: &Target, protocol: u8, l4_len: usize) -> Result<Session> {
        let icmp_len = l4_len;
        if t.ttl == 0 {
            return Err(Error::invalid(Field::Ttl, "must be 1..=255"));
        }
        let options = t.options.build(t.dest)?;
        let option_bytes = emit_options(&options)?.len();
        let wire_dst = t.options.wire_destination(t.dest);
        let path_req = PathRequest {
            dst: Some(wire_dst),
            ..t.path.clone()
        };
        let plan = resolve::plan(&path_req)?;
        let vlans = t.path.vlans;
        // The tags take their bytes from the MTU (one 802.1Q tag excepted, as Linux counts).
        let tag_bytes = link::vlan_mtu_overhead(&vlans);
        if (plan.iface.mtu as usize).saturating_sub(tag_bytes) < 68 {
            return Err(Error::invalid(
                Field::Vlan,
                format!(
                    "{}: {} tags take {tag_bytes} bytes of the MTU {} of {}, leaving less than \
                     the 68 bytes every IPv4 link must carry (RFC 791)",
                    vlans,
                    vlans.len(),
                    plan.iface.mtu,
                    plan.iface.name
                ),
            ));
        }
        // Over the MTU: sent as fragments built here (RFC 791), unless Don't Fragment is set.
        let ip_bytes = if t.dont_fragment {
            check_fits_tagged(
                &plan.iface,
                tag_bytes,
                option_bytes,
                8,
                icmp_len.saturating_sub(8),
            )?
        } else {
            let mut whole = plan.iface.clone();
            whole.mtu = MAX_IP_LEN as u32;
            check_fits(&whole, option_bytes, 8, icmp_len.saturating_sub(8))?
        };
        let mtu = (plan.iface.mtu as usize - tag_bytes).clamp(68, MAX_IP_LEN);
        let mut link = link::open_backend(
            t.backend,
            &plan.iface,
            &LinkConfig {
                // Only frames carrying exactly our VLAN stack (untagged when none).
                filter: if protocol == IPPROTO_ICMP {
                    RxFilter::ArpAndIcmp
                } else {
                    RxFilter::ArpIcmpAnd(protocol)
                }
                .on_vlans(&vlans)?,
                promiscuous: false,
                buffer_size: 1 << 20,
                ..LinkConfig::default()
            },
        )?;
        // On lo, send through a raw IP socket: no sysctl is changed (link::packet::loopback).
        if plan.iface.is_loopback {
            link = Box::new(link::packet::loopback::LoopbackLink::new(link)?);
        }
        let mut notices = Vec::new();
        if let Some(crate::craft::options::SourceRoute::Strict(_)) = &t.options.source_route {
            if plan.next_hop != wire_dst {
                // RFC 791: a strict route's first hop must be directly connected to us.
                notices.push(format!(
                    "the strict source route's first hop {wire_dst} is not on the link of {} \
                     (it is reached through {}): expect a Source Route Failed or Parameter \
                     Problem, or no answer",
                    plan.iface.name, plan.next_hop
                ));
            }
        }
        // Keeping on trying: no blocking ARP here; the first probe asks (as the kernel does).
        let complete_req = PathRequest {
            arp_timeout: if t.keep_trying_arp {
                Duration::ZERO
            } else {
                path_req.arp_timeout
            },
            ..path_req.clone()
        };
        let (path, unresolved) =
            match neighbour::complete(plan.clone(), &complete_req, link.as_mut()) {
                Ok(p) => (p, None),
                Err(Error::ArpTimeout { .. }) if t.keep_trying_arp => {
                    let p = neighbour::unresolved(plan, &path_req);
                    let arp = neighbour::arp_request(&p);
                    (p, Some(arp))
                }
                Err(e) => return Err(e),
            };
        let pcap = match &t.pcap {
            Some(p) => Some(PcapWriter::create_as(
                p,
                t.pcap_format,
                LINKTYPE_ETHERNET,
                Some(&path.plan.iface.name),
            )?),
            None => None,
        };
        let mut ip = Ipv4Repr::new(path.plan.src_ip, wire_dst, protocol);
        ip.ttl = t.ttl;
        ip.tos = t.tos;
        ip.dont_fragment = t.dont_fragment;
        Ok(Session {
            eth: EthernetRepr {
                dst: path.dst_mac,
                src: path.src_mac,
                vlans: path.vlans,
                ethertype: ETHERTYPE_IPV4,
            },
            ip,
            final_dst: t.dest,
            options,
            option_bytes,
            frame: Vec::with_capacity(14 + ip_bytes),
            link,
            path,
            pcap,
            notices,
            unresolved,
            // The kernel's: 3 unicast solicitations 1 s apart (ucast_solicit, retrans_time).
            arp_wait: Duration::from_secs(3),
            mtu,
            fragments: Vec::new(),
            reassembler: Default::default(),
        })
    }

    /// The resolved path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the user should know about this session (settings changed for the run); taken
    /// once.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// The start record of a run on this session: where frames go, `data_bytes` of data after
    /// the ICMP header.
    pub fn start_record(&self, command: Command, dest: Ipv4Addr, data_bytes: usize) -> Start {
        let plan = &self.path.plan;
        Start {
            dest: Some(dest),
            wire_dst: Some(plan.dst_ip),
            src: Some(plan.src_ip),
            iface: Some(plan.iface.name.clone()),
            next_hop: Some(plan.next_hop),
            dst_mac: Some(self.path.dst_mac.to_string()),
            data_bytes: Some(data_bytes),
            ip_bytes: Some(20 + self.option_bytes + 8 + data_bytes),
            option_bytes: Some(self.option_bytes),
            vlans: (!self.eth.vlans.is_empty()).then_some(self.eth.vlans),
            ..Start::new(command)
        }
    }

    /// Bytes of IP options each probe carries.
    pub fn option_bytes(&self) -> usize {
        self.option_bytes
    }

    /// Build and send one probe; `adjust` may change its IP header (id, TTL). Returns the clock
    /// read just before the send call: the RTT's start, with the build cost left out.
    fn send(
        &mut self,
        l4: &L4Repr,
        at: SystemTime,
        adjust: impl FnOnce(&mut Ipv4Repr),
    ) -> Result<SystemTime> {
        // As the originating IP module (RFC 791, and as Linux does): record and stamp ourselves.
        self.ip.options.clone_from(&self.options);
        record_hop(&mut self.ip.options, self.ip.src, ms_since_midnight_ut(at));
        self.ip.protocol = l4.protocol();
        adjust(&mut self.ip);
        build_l4_frame_into(&mut self.frame, &self.eth, &self.ip, l4, self.final_dst)?;
        let eh = self.eth.header_len();
        if self.frame.len() - eh > self.mtu {
            // Fragments built at L2, each with the same Ethernet header.
            let pieces = crate::wire::frag::fragment(&self.frame[eh..], self.mtu)
                .map_err(|e| Error::Invalid(e.to_string()))?;
            self.fragments.clear();
            for piece in pieces {
                let mut f = self.frame[..eh].to_vec();
                f.extend_from_slice(&piece);
                self.fragments.push(f);
            }
            let sent = SystemTime::now();
            for f in &self.fragments {
                self.link.send(f)?;
                if let Some(p) = self.pcap.as_mut() {
                    p.write(SystemTime::now(), f)?;
                }
            }
            return Ok(sent);
        }
        let sent = SystemTime::now();
        self.link.send(&self.frame)?;
        if let Some(p) = self.pcap.as_mut() {
            p.write(sent, &self.frame)?;
        }
        Ok(sent)
    }

    /// Flush the pcap, if any.
    pub fn flush(&mut self) -> Result<()> {
        match self.pcap.as_mut() {
            Some(p) => p.flush(),
            None => Ok(()),
        }
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

/// Totals of a run.
#[derive(Debug, Clone, Default)]
pub struct RunTotals {
    /// Probes sent.
    pub transmitted: u64,
    /// Probes answered directly (first answers only).
    pub received: u64,
    /// Extra answers to already answered probes.
    pub duplicates: u64,
    /// ICMP errors about our probes.
    pub errors: u64,
    /// Probes that timed out.
    pub timeouts: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// From the start to the last request sent or answer received: what iputils prints as
    /// `time` (the wait for answers that never came is left out).
    pub active: Duration,
    /// Answers that matched a probe but failed their IP or ICMP checksum (not counted as
    /// received).
    pub bad_checksums: u64,
    /// Frames the kernel dropped before the engine read them (the receive buffer was full).
    pub kernel_drops: u64,
    /// Most probes in flight when one was answered (iputils' `pipe`).
    pub pipe: u64,
    /// RTT of first answers (running sums: memory stays flat).
    pub rtt: RttAccumulator,
}

impl RunTotals {
    /// The summary record of a request/reply run to `dest`.
    pub fn summary(&self, command: Command, dest: Ipv4Addr, stop: &Stop) -> Summary {
        let lost = self.transmitted - self.received.min(self.transmitted);
        Summary {
            command,
            elapsed_us: event::us(self.elapsed),
            interrupted: stop.is_stopped(),
            totals: Totals::Probe(ProbeTotals {
                dest,
                sent: self.transmitted,
                received: self.received,
                duplicates: self.duplicates,
                errors: self.errors,
                loss_percent: if self.transmitted == 0 {
                    0.0
                } else {
                    100.0 * lost as f64 / self.transmitted as f64
                },
                rtt_us: self.rtt.stats(),
                routers: None,
                active_us: Some(event::us(self.active)),
                dropped_by_kernel: self.kernel_drops,
                bad_checksums: self.bad_checksums,
                pipe: self.pipe,
                ewma_us: self.rtt.ewma(),
            }),
        }
    }

    /// Interim totals (what SIGQUIT prints in iputils ping).
    pub fn progress(&self, elapsed: Duration) -> event::Progress {
        let lost = self.transmitted - self.received.min(self.transmitted);
        let secs = elapsed.as_secs_f64().max(1e-9);
        event::Progress {
            elapsed_us: event::us(elapsed),
            sent: self.transmitted,
            received: self.received,
            tx_rate: self.transmitted as f64 / secs,
            rx_rate: self.received as f64 / secs,
            loss_percent: Some(if self.transmitted == 0 {
                0.0
            } else {
                100.0 * lost as f64 / self.transmitted as f64
            }),
            rtt_us: self.rtt.stats(),
            ewma_us: self.rtt.ewma(),
        }
    }
}

/// Running min/max/sum/sum² of RTTs in µs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RttAccumulator {
    n: u64,
    sum: f64,
    sum2: f64,
    min: f64,
    max: f64,
    ewma: f64,
}

impl RttAccumulator {
    /// Add one sample (µs).
    pub fn add(&mut self, us: f64) {
        if self.n == 0 || us < self.min {
            self.min = us;
        }
        if self.n == 0 || us > self.max {
            self.max = us;
        }
        // iputils' moving average: the first sample, then 1/8 of each new difference.
        self.ewma = if self.n == 0 {
            us
        } else {
            self.ewma + (us - self.ewma) / 8.0
        };
        self.n += 1;
        self.sum += us;
        self.sum2 += us * us;
    }

    /// Take in the samples of another accumulator (min, max, sums; the moving average stays
    /// this one's unless it has no samples).
    pub fn merge(&mut self, other: &RttAccumulator) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.n += other.n;
        self.sum += other.sum;
        self.sum2 += other.sum2;
    }

    /// iputils' exponentially weighted moving average (weight 1/8); None without samples.
    pub fn ewma(&self) -> Option<f64> {
        (self.n > 0).then_some(self.ewma)
    }

    /// min/avg/max/mdev as iputils computes them; None without samples.
    pub fn stats(&self) -> Option<RttStats> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let avg = self.sum / n;
        Some(RttStats {
            min: self.min,
            avg,
            max: self.max,
            mdev: (self.sum2 / n - avg * avg).max(0.0).sqrt(),
            percentiles: None,
        })
    }
}

/// One probe's bookkeeping, in a slot indexed by its sequence number.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Which probe of the run this is (1-based): tells a reused slot from its old occupant.
    n: u64,
    at: SystemTime,
    sent: Instant,
    answers: u32,
    settled: bool,
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

/// Probes by sequence number (a slot per u16, grown as sequence numbers are used: at most
/// 65,536 slots), plus the unsettled ones in send order for timeouts. Every operation is O(1)
/// (amortized), and memory is bounded whatever the count.
#[derive(Debug, Default)]
struct Book {
    slots: Vec<Option<Pending>>,
    /// (sequence number, probe number) in send order; settled entries are dropped lazily.
    order: std::collections::VecDeque<(u16, u64)>,
    outstanding: usize,
}

impl Book {
    fn get(&self, seq: u16) -> Option<&Pending> {
        self.slots.get(usize::from(seq)).and_then(Option::as_ref)
    }

    fn get_mut(&mut self, seq: u16) -> Option<&mut Pending> {
        self.slots
            .get_mut(usize::from(seq))
            .and_then(Option::as_mut)
    }

    /// Record probe `p` under `seq`; returns the unsettled probe it displaced (sequence numbers
    /// wrapped before it was answered or timed out).
    fn insert(&mut self, seq: u16, p: Pending) -> Option<Pending> {
        let i = usize::from(seq);
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        let old = self.slots[i].replace(p).filter(|o| !o.settled);
        if old.is_none() {
            self.outstanding += 1;
        }
        self.order.push_back((seq, p.n));
        old
    }

    /// Settle `seq` (answered); true if it was outstanding.
    fn settle(&mut self, seq: u16) -> bool {
        match self.get_mut(seq) {
            Some(p) if !p.settled => {
                p.settled = true;
                self.outstanding -= 1;
                true
            }
            _ => false,
        }
    }

    /// The oldest unsettled probe sent before `limit`, settled as timed out.
    fn expire(&mut self, limit: Instant) -> Option<u16> {
        while let Some(&(seq, n)) = self.order.front() {
            match self.get(seq) {
                Some(p) if p.n == n && !p.settled => {
                    if p.sent > limit {
                        return None;
                    }
                    self.order.pop_front();
                    self.settle(seq);
                    return Some(seq);
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
        None
    }
}

/// Run probes of `kind` over `session` on `schedule`, reporting each event to `on_event`.
pub fn run<K: Probe + ?Sized>(
    session: &mut Session,
    kind: &mut K,
    schedule: &Schedule,
    stop: &Stop,
    on_event: &mut dyn FnMut(&ProbeEvent) -> Flow,
) -> Result<RunTotals> {
    let (totals, result) = run_outcome(session, kind, schedule, stop, on_event);
    result.map(|()| totals)
}

/// Like [`run`], but the totals come back also when the run failed midway (the interface went
/// down, a write failed): a driver reports its summary and then the error.
pub fn run_outcome<K: Probe + ?Sized>(
    session: &mut Session,
    kind: &mut K,
    schedule: &Schedule,
    stop: &Stop,
    on_event: &mut dyn FnMut(&ProbeEvent) -> Flow,
) -> (RunTotals, Result<()>) {
    let started = Instant::now();
    let mut totals = RunTotals::default();
    let mut last_activity = started;
    let result = run_loop(
        session,
        kind,
        schedule,
        stop,
        on_event,
        &mut totals,
        started,
        &mut last_activity,
    );
    let flushed = session.flush();
    totals.elapsed = started.elapsed();
    totals.active = last_activity.duration_since(started);
    totals.kernel_drops = session.link.stats().kernel_drops;
    (totals, result.and(flushed))
}

#[allow(clippy::too_many_arguments)]
fn run_loop<K: Probe + ?Sized>(
    s: &mut Session,
    kind: &mut K,
    schedule: &Schedule,
    stop: &Stop,
    on_event: &mut dyn FnMut(&ProbeEvent) -> Flow,
    totals: &mut RunTotals,
    started: Instant,
    last_activity: &mut Instant,
) -> Result<()> {
    let deadline = schedule.deadline.map(|d| started + d);
    let tick = Duration::from_millis(100);
    let mut book = Book::default();
    let mut unresolved_q: Vec<(u16, u64)> = Vec::new();
    let mut arp_round: Option<Instant> = None;
    let mut next_send = started;
    let mut sending = true;
    if schedule.interval < Duration::from_millis(10) {
        // Sub-10 ms intervals: the default 50 µs timer slack would stretch every wait.
        // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    }
    loop {
        let now = Instant::now();
        if stop.is_stopped() || deadline.is_some_and(|d| now >= d) {
            return Ok(());
        }
        if stop.take_progress_request() {
            let p = totals.progress(now.duration_since(started));
            if on_event(&ProbeEvent::Progress(p)) == Flow::Stop {
                return Ok(());
            }
        }
        if schedule.count.is_some_and(|c| totals.transmitted >= c) {
            sending = false;
        }
        // Probes whose next hop never answered ARP: like the kernel, a resolution round
        // lasts `arp_wait`, then every probe that waited for it fails at once.
        if arp_round.is_some_and(|t| now.duration_since(t) >= s.arp_wait) {
            arp_round = None;
            for (seq, n) in std::mem::take(&mut unresolved_q) {
                let Some(p) = book.get(seq).filter(|p| p.n == n && !p.settled).copied() else {
                    continue;
                };
                book.settle(seq);
                totals.errors += 1;
                totals.pipe = totals.pipe.max(totals.transmitted + 1 - p.n);
                *last_activity = now;
                let e = host_unreachable(seq, s.path.plan.src_ip, &p, SystemTime::now());
                if on_event(&ProbeEvent::Error(e)) == Flow::Stop {
                    return Ok(());
                }
            }
        }
        // Time out what waited too long: only the oldest unsettled probes are looked at.
        if let Some(limit) = now.checked_sub(schedule.timeout) {
            while let Some(seq) = book.expire(limit) {
                totals.timeouts += 1;
                if on_event(&ProbeEvent::Timeout { seq }) == Flow::Stop {
                    return Ok(());
                }
            }
        }
        let window_open = schedule.window == 0 || book.outstanding < schedule.window;
        if sending && window_open && now >= next_send {
            let n = totals.transmitted + 1;
            let seq = n as u16; // counts from 1, as iputils; wraps like it
            let at = SystemTime::now();
            let payload = kind.payload(seq, at);
            let ip_bytes = 20 + s.option_bytes + payload.buffer_len()?;
            let at = if let Some(arp) = s.unresolved.as_ref() {
                // No MAC for the next hop yet: ask again; the probe waits for the answer.
                s.link.send(arp)?;
                if let Some(p) = s.pcap.as_mut() {
                    p.write(at, arp)?;
                }
                unresolved_q.push((seq, n));
                arp_round.get_or_insert(now);
                at
            } else {
                s.send(&payload, at, |ip| {
                    ip.id = seq;
                    kind.adjust_ip(seq, ip);
                })?
            };
            totals.transmitted = n;
            *last_activity = Instant::now();
            let displaced = book.insert(
                seq,
                Pending {
                    n,
                    at,
                    sent: *last_activity,
                    answers: 0,
                    settled: false,
                },
            );
            if displaced.is_some() {
                // The sequence numbers went round before the old probe was settled.
                totals.timeouts += 1;
                if on_event(&ProbeEvent::Timeout { seq }) == Flow::Stop {
                    return Ok(());
                }
            }
            // Hold the average rate: a send that was late (timer slack, a busy pass) is made
            // up by the next ones, as iputils' token bucket does; after a stall of more than
            // 100 ms the schedule restarts from now instead of bursting.
            if totals.transmitted >= u64::from(schedule.preload.max(1)) {
                next_send += schedule.interval;
            }
            if now.saturating_duration_since(next_send) > Duration::from_millis(100) {
                next_send = now;
            }
            let sent = event::Request {
                seq,
                time_us: time_us(at),
                dest: s.ip.dst,
                ttl: s.ip.ttl,
                ip_bytes,
            };
            match on_event(&ProbeEvent::Sent(sent)) {
                Flow::Stop => return Ok(()),
                Flow::StopSending => sending = false,
                Flow::Continue => {}
            }
            continue;
        }
        if !sending && book.outstanding == 0 && !(schedule.collect && deadline.is_some()) {
            return Ok(());
        }
        let mut wait = now + tick;
        if sending && window_open {
            wait = wait.min(next_send);
        }
        if let Some(d) = deadline {
            wait = wait.min(d);
        }
        let Some(rx) = s.link.recv(wait)? else {
            continue;
        };
        let at = rx.timestamp;
        if let Some(p) = s.pcap.as_mut() {
            p.write(at, rx.data)?;
        }
        if s.unresolved.is_some() {
            if let Some(mac) = neighbour::arp_answer(&s.path, rx.data) {
                // The next hop answered at last: send what waited for it, as the kernel
                // sends the packets it queued while resolving.
                s.path.dst_mac = mac;
                s.eth.dst = mac;
                s.unresolved = None;
                for (seq, n) in std::mem::take(&mut unresolved_q) {
                    if book.get(seq).is_some_and(|p| p.n == n && !p.settled) {
                        let t = SystemTime::now();
                        let payload = kind.payload(seq, t);
                        let at = s.send(&payload, t, |ip| {
                            ip.id = seq;
                            kind.adjust_ip(seq, ip);
                        })?;
                        if let Some(p) = book.get_mut(seq) {
                            p.at = at;
                        }
                    }
                }
                continue;
            }
        }
        // A fragment is kept until its datagram is whole; then the whole one is classified
        // (every fragment went to the pcap above).
        let vlans = s.eth.vlans;
        let assembled = fragment_ip(rx.data, &vlans).and_then(|(eh, ip)| {
            let whole = s.reassembler.push(ip, Instant::now())?;
            let mut f = rx.data[..eh].to_vec();
            f.extend_from_slice(&whole);
            Some(f)
        });
        let bytes = assembled.as_deref().unwrap_or(rx.data);
        let Some(ev) = classify(kind, s.path.plan.src_ip, &vlans, bytes, at, &mut book) else {
            continue;
        };
        let seq = match &ev {
            ProbeEvent::Reply(r) if r.bad_checksum => {
                totals.bad_checksums += 1;
                None
            }
            ProbeEvent::Reply(r) if r.duplicate => {
                totals.duplicates += 1;
                None
            }
            ProbeEvent::Reply(r) => {
                totals.received += 1;
                totals.rtt.add(r.rtt_us);
                Some(r.seq)
            }
            ProbeEvent::Error(e) => {
                totals.errors += 1;
                Some(e.seq)
            }
            _ => None,
        };
        if let Some(seq) = seq {
            *last_activity = Instant::now();
            if let Some(first) = book.get(seq).map(|p| p.n.min(totals.transmitted)) {
                // In flight when the answer arrived (iputils' pipe): the probes sent before its
                // arrival time, not before it was read: a receive ring hands frames over a
                // block at a time, after later probes may have left.
                let mut last = totals.transmitted;
                while last > first
                    && book
                        .get(last as u16)
                        .is_some_and(|q| q.n == last && q.at > at)
                {
                    last -= 1;
                }
                totals.pipe = totals.pipe.max(last + 1 - first);
            }
            book.settle(seq);
        }
        match on_event(&ev) {
            Flow::Stop => return Ok(()),
            Flow::StopSending => sending = false,
            Flow::Continue => {}
        }
    }
}

/// The Ethernet header length and IP bytes of `frame` when it carries an IPv4 fragment on
/// exactly the VLAN stack `vlans`.
fn fragment_ip<'a>(frame: &'a [u8], vlans: &VlanStack) -> Option<(usize, &'a [u8])> {
    let eh = ipv4_on(frame, vlans)?;
    let ip = Ipv4Packet::new_checked(&frame[eh..]).ok()?;
    ip.is_fragment().then(|| (eh, &frame[eh..]))
}

/// Where the IPv4 header of `frame` starts when the frame carries IPv4 on exactly the VLAN
/// stack `vlans` (untagged when empty): a reply from another VLAN, or tagged when we are not,
/// is not ours.
fn ipv4_on(frame: &[u8], vlans: &VlanStack) -> Option<usize> {
    let eh = vlans.header_len_in(frame)?;
    (frame.get(eh - 2..eh)? == ETHERTYPE_IPV4.to_be_bytes()).then_some(eh)
}

/// Turn a received frame into a Reply or Error event when it is about one of our probes.
fn classify<K: Probe + ?Sized>(
    kind: &K,
    our_src: Ipv4Addr,
    vlans: &VlanStack,
    bytes: &[u8],
    at: SystemTime,
    book: &mut Book,
) -> Option<ProbeEvent> {
    // Through the views: nothing is allocated for a frame that is not ours.
    let eh = ipv4_on(bytes, vlans)?;
    let ip = Ipv4Packet::new_checked(&bytes[eh..]).ok()?;
    if ip.is_fragment() {
        return None;
    }
    // Kernel timestamps are ns but our send time is a user-space clock read: keep ns anyway.
    let rtt = |sent: SystemTime| event::us(at.duration_since(sent).unwrap_or_default());
    let time = time_us(at);
    if let Some((seq, answer)) = kind.answer(&ip, at) {
        if !kind.accepts_dst(ip.dst(), our_src) {
            return None;
        }
        let bad_checksum = !ip.verify_checksum() || !payload_checksum_ok(&ip);
        let p = book.get_mut(seq)?;
        // A damaged answer is shown but answers nothing (iputils: "(BAD CHECKSUM!)").
        if !bad_checksum {
            p.answers += 1;
        }
        let bytes = usize::from(ip.total_len()).saturating_sub(ip.header_len());
        let mut options = parse_options(ip.options());
        record_hop(&mut options, ip.dst(), ms_since_midnight_ut(at));
        return Some(ProbeEvent::Reply(event::Reply {
            seq,
            from: ip.src(),
            bytes,
            ttl: ip.ttl(),
            rtt_us: rtt(p.at),
            time_us: time,
            duplicate: p.answers > 1,
            bad_checksum,
            options,
            answer,
        }));
    }
    if ip.protocol() != IPPROTO_ICMP || ip.dst() != our_src {
        return None;
    }
    let icmp_view = IcmpPacket::new_checked(ip.payload()).ok()?;
    let quote_result = icmp_view.quote()?;
    let icmp = IcmpRepr::parse(&icmp_view).ok()?;
    let msg = &icmp.repr.message;
    let quote = match quote_result {
        Ok(q) => q,
        Err(e) => {
            return Some(ProbeEvent::Malformed(Malformed {
                from: ip.src(),
                description: msg.describe(),
                problem: e.to_string(),
                time_us: time,
            }))
        }
    };
    if quote.src() != our_src {
        return None;
    }
    let seq = kind.quoted(quote.protocol(), quote.payload())?;
    let p = book.get(seq)?;
    let detail = match msg {
        IcmpMessage::ParameterProblem { pointer, quote, .. } => {
            Some(explain_pointer(quote, *pointer))
        }
        _ => None,
    };
    Some(ProbeEvent::Error(IcmpError {
        seq,
        from: ip.src(),
        ttl: ip.ttl(),
        icmp_type: icmp.icmp_type,
        icmp_code: icmp.code,
        description: msg.describe(),
        detail,
        quoted_options: parse_options(quote.options()),
        rtt_us: rtt(p.at),
        time_us: time,
    }))
}

/// Whether the ICMP checksum of `ip`'s payload verifies (true for other protocols). UDP and TCP
/// are not judged: a Linux sender on a veth (or any NIC with checksum offload) leaves their
/// checksum for the device to fill, and a packet socket on the path sees it unfilled.
fn payload_checksum_ok(ip: &Ipv4Packet<&[u8]>) -> bool {
    match ip.protocol() {
        IPPROTO_ICMP => IcmpPacket::new_checked(ip.payload()).is_ok_and(|v| v.verify_checksum()),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::kinds::Echo;
    use crate::wire::{build_icmp_frame, MacAddr};

    fn frame_to_us(msg: IcmpMessage) -> Vec<u8> {
        frame_on(&VlanStack::EMPTY, msg)
    }

    fn frame_on(vlans: &VlanStack, msg: IcmpMessage) -> Vec<u8> {
        let ip = Ipv4Repr::new(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            1,
        );
        let eth = EthernetRepr {
            dst: MacAddr::zero(),
            src: MacAddr::zero(),
            vlans: *vlans,
            ethertype: ETHERTYPE_IPV4,
        };
        build_icmp_frame(&eth, &ip, &IcmpRepr::new(msg)).unwrap()
    }

    #[test]
    fn only_replies_on_our_own_vlan_stack_are_ours() {
        let kind = Echo::new(7, 0, &[]);
        let us: Ipv4Addr = "192.0.2.2".parse().unwrap();
        let st = |s: &[&str]| VlanStack::parse_specs(s).unwrap();
        let stacks = [
            VlanStack::EMPTY,
            st(&["100"]),
            st(&["100:5"]),
            st(&["101"]),
            st(&["100@ad"]),
            st(&["200", "100"]),
            st(&["100", "20"]),
        ];
        let reply = IcmpMessage::EchoReply {
            id: 7,
            seq: 1,
            data: Vec::new(),
        };
        let error = IcmpMessage::TimeExceeded {
            code: 0,
            quote: {
                let mut q = Ipv4Repr::new(us, "203.0.113.2".parse().unwrap(), 1);
                q.ttl = 1;
                let mut b = vec![0u8; 28];
                q.emit(&mut b, 8).unwrap();
                IcmpRepr::echo_request(7, 1, Vec::new())
                    .emit(&mut b[20..])
                    .unwrap();
                b
            },
        };
        for ours in &stacks {
            for theirs in &stacks {
                for (msg, is_reply) in [(&reply, true), (&error, false)] {
                    let mut book = Book::default();
                    let now = SystemTime::now();
                    book.insert(
                        1,
                        Pending {
                            n: 1,
                            at: now,
                            sent: Instant::now(),
                            answers: 0,
                            settled: false,
                        },
                    );
                    let f = frame_on(theirs, msg.clone());
                    let got = classify(&kind, us, ours, &f, now, &mut book);
                    let same = ours.same_vlans(theirs);
                    match got {
                        Some(ProbeEvent::Reply(r)) if is_reply => {
                            assert!(same, "{ours} took a reply on {theirs}");
                            assert_eq!(r.seq, 1);
                        }
                        Some(ProbeEvent::Error(e)) if !is_reply => {
                            assert!(same, "{ours} took an error on {theirs}");
                            assert_eq!(e.seq, 1);
                        }
                        None => assert!(!same, "{ours} missed its answer on {theirs}"),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn truncated_quotes_are_reported_not_matched_and_never_panic() {
        let kind = Echo::new(7, 8, &[]);
        let mut pending = Book::default();
        let us = "192.0.2.2".parse().unwrap();
        // A Time Exceeded quoting 12 bytes: less than an IPv4 header.
        let f = frame_to_us(IcmpMessage::TimeExceeded {
            code: 0,
            quote: vec![0x45, 0, 0, 84, 0, 1, 0, 0, 1, 1, 0, 0],
        });
        match classify(
            &kind,
            us,
            &VlanStack::EMPTY,
            &f,
            SystemTime::now(),
            &mut pending,
        ) {
            Some(ProbeEvent::Malformed(Malformed { description, .. })) => {
                assert_eq!(description, "Time to live exceeded")
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
        // Every truncation of a real frame: no panic.
        for n in 0..f.len() {
            let _ = classify(
                &kind,
                us,
                &VlanStack::EMPTY,
                &f[..n],
                SystemTime::now(),
                &mut pending,
            );
        }
    }

    #[test]
    fn rtt_accumulator_matches_iputils_formula() {
        let mut acc = RttAccumulator::default();
        assert!(acc.stats().is_none());
        for x in [1.0, 2.0, 3.0] {
            acc.add(x);
        }
        let s = acc.stats().unwrap();
        assert_eq!((s.min, s.avg, s.max), (1.0, 2.0, 3.0));
        assert!((s.mdev - (2.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }
}
