//! `trace`: probes with rising TTL on the probe engine — ICMP echo (like `traceroute -I`, the
//! default), UDP to rising ports (`traceroute -U`) or TCP SYN (`traceroute -T`). Each hop is
//! reported once all its probes are settled and every hop before it was reported.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use crate::event::{
    self, Answer, Command, Event, Hop, HopProbe, Notice, Summary, Totals, TraceTotals,
};
use crate::probe::engine::{self, Flow, Probe, ProbeEvent, ProbePath, Target};
use crate::probe::kinds::Echo;
use crate::probe::transport::{default_sport, PortPlan, TcpSynProbe, UdpProbe};
use crate::wire::{IpOption, Ipv4Packet, Ipv4Repr, L4Repr};
use crate::{Error, Field, Result, Stop};

/// A validated trace request.
#[derive(Debug, Clone)]
pub struct TraceRequest {
    /// Destination, addresses, options (TTL is set per probe).
    pub target: Target,
    /// First TTL (`-f`).
    pub first_ttl: u8,
    /// Last TTL (`-m`).
    pub max_hops: u8,
    /// Probes per hop (`-q`).
    pub probes: u8,
    /// How long each probe waits (`-w`).
    pub wait: Duration,
    /// Probes in flight at once (`-N`).
    pub in_flight: usize,
    /// ICMP identifier.
    pub id: u16,
    /// Data bytes after the ICMP or UDP header (TCP SYNs carry none).
    pub size: usize,
    /// What the probes are.
    pub method: TraceMethod,
}

/// traceroute's probe methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceMethod {
    /// ICMP echo (`-I`).
    #[default]
    Icmp,
    /// UDP to `port`, `port + 1`, ... one per probe (`-U`; traceroute's default port 33434).
    Udp {
        /// Destination port of the first probe.
        port: u16,
    },
    /// TCP SYN to `port` (`-T`; default 80).
    Tcp {
        /// Destination port.
        port: u16,
    },
}

impl TraceRequest {
    /// traceroute's defaults: TTL 1..=30, 3 probes, 5 s wait, 16 in flight, 60-byte packets.
    pub fn new(dest: Ipv4Addr) -> Self {
        TraceRequest {
            target: Target::new(dest),
            first_ttl: 1,
            max_hops: 30,
            probes: 3,
            wait: Duration::from_secs(5),
            in_flight: 16,
            id: (std::process::id() & 0xffff) as u16,
            size: 32,
            method: TraceMethod::Icmp,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.first_ttl == 0 {
            return Err(Error::invalid(Field::FirstTtl, "must be 1..=255"));
        }
        if self.max_hops == 0 {
            return Err(Error::invalid(Field::MaxTtl, "must be 1..=255"));
        }
        if self.first_ttl > self.max_hops {
            return Err(Error::Beyond {
                field: Field::FirstTtl,
                value: self.first_ttl.to_string(),
                limit: Field::MaxTtl,
                limit_value: self.max_hops.to_string(),
                rule: "the first TTL must not exceed the last".into(),
            });
        }
        if self.probes == 0 || self.probes > 10 {
            return Err(Error::invalid(Field::ProbesPerHop, "must be 1..=10"));
        }
        if self.in_flight == 0 {
            return Err(Error::invalid(Field::InFlight, "must be at least 1"));
        }
        if let TraceMethod::Udp { port: 0 } | TraceMethod::Tcp { port: 0 } = self.method {
            return Err(Error::invalid(Field::Port, "must be 1..=65535"));
        }
        Ok(())
    }

    fn ttl_of(&self, seq: u16) -> u8 {
        let i = (seq.max(1) - 1) / u16::from(self.probes);
        (u16::from(self.first_ttl) + i).min(255) as u8
    }

    fn last_seq_of(&self, ttl: u8) -> u16 {
        (u16::from(ttl - self.first_ttl) + 1) * u16::from(self.probes)
    }
}

/// A probe kind with the TTL set from the sequence number.
struct Ttl<'a> {
    inner: Box<dyn Probe + 'a>,
    req: &'a TraceRequest,
}

impl Probe for Ttl<'_> {
    fn protocol(&self) -> u8 {
        self.inner.protocol()
    }
    fn payload(&mut self, seq: u16, at: SystemTime) -> L4Repr {
        self.inner.payload(seq, at)
    }
    fn adjust_ip(&mut self, seq: u16, ip: &mut Ipv4Repr) {
        self.inner.adjust_ip(seq, ip);
        ip.ttl = self.req.ttl_of(seq);
    }
    fn answer(&self, ip: &Ipv4Packet<&[u8]>, at: SystemTime) -> Option<(u16, Answer)> {
        self.inner.answer(ip, at)
    }
    fn quoted(&self, protocol: u8, l4: &[u8]) -> Option<u16> {
        self.inner.quoted(protocol, l4)
    }
    fn accepts_dst(&self, dst: Ipv4Addr, src: Ipv4Addr) -> bool {
        self.inner.accepts_dst(dst, src)
    }
}

/// traceroute's marker for a destination-unreachable code; None for port unreachable (which
/// means the destination was reached).
pub fn unreachable_marker(code: u8, mtu: Option<u16>) -> Option<String> {
    Some(match code {
        0 | 6 => "!N".into(),
        1 | 7 => "!H".into(),
        2 => "!P".into(),
        3 => return None,
        4 => match mtu {
            Some(m) if m > 0 => format!("!F-{m}"),
            _ => "!F".into(),
        },
        5 => "!S".into(),
        9 | 10 | 13 => "!X".into(),
        14 => "!V".into(),
        15 => "!C".into(),
        c => format!("!<{c}>"),
    })
}

/// The route recorded so far (record route option), from the first probe that has one.
fn recorded_route(probes: &[HopProbe]) -> Option<Vec<Ipv4Addr>> {
    probes.iter().find_map(|p| {
        p.options.iter().find_map(|o| match o {
            IpOption::RecordRoute { .. } => Some(o.recorded()),
            _ => None,
        })
    })
}

impl TraceRequest {
    /// Run the trace, reporting each event to `on_event`: the start, every request, each hop
    /// once all its probes are settled and every hop before it was reported, then the summary.
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        let req = self;
        req.validate()?;
        let dest = req.target.dest;
        let (inner, l4_len, data): (Box<dyn Probe>, usize, usize) = match req.method {
            TraceMethod::Icmp => {
                let echo = Echo::new(req.id, req.size, &[]);
                let n = echo.icmp_len();
                (Box::new(echo), n, req.size)
            }
            TraceMethod::Udp { port } => {
                let plan = PortPlan::RisingDst {
                    sport: default_sport(),
                    base: port,
                };
                let u = UdpProbe::new(dest, plan, vec![0x40; req.size]);
                let n = u.l4_len();
                (Box::new(u), n, req.size)
            }
            TraceMethod::Tcp { port } => {
                let plan = PortPlan::Cycle {
                    sport_base: default_sport(),
                    ports: vec![port],
                };
                let t = TcpSynProbe::new(dest, plan, TcpSynProbe::linux_options(SystemTime::now()));
                let n = t.l4_len()?;
                (Box::new(t), n, 0)
            }
        };
        let mut session = ProbePath::open_l4(&req.target, inner.protocol(), l4_len)?;
        let mut start = session.start_record(Command::Trace, req.target.dest, data);
        start.ip_bytes = Some(20 + session.option_bytes() + l4_len);
        start.max_hops = Some(req.max_hops);
        on_event(&Event::Start(start));
        for message in session.take_notices() {
            on_event(&Event::Notice(Notice { message }));
        }
        let hops_n = usize::from(req.max_hops - req.first_ttl) + 1;
        let q = usize::from(req.probes);
        let mut results: Vec<Option<HopProbe>> = vec![None; hops_n * q];
        let mut printed = 0usize; // hops reported so far
        let mut last_ttl: Option<u8> = None; // the destination (or an unreachable) answered here
        let mut stopped_by: Option<String> = None;
        let mut sent_upto = 0u16;
        let mut kind = Ttl { inner, req };
        let schedule = engine::Schedule {
            count: Some((hops_n * q) as u64),
            interval: Duration::ZERO,
            preload: 1,
            window: req.in_flight,
            timeout: req.wait,
            deadline: None,
            collect: false,
        };
        let (totals, result) =
            engine::run_outcome(&mut session, &mut kind, &schedule, stop, &mut |ev| {
                // A second answer to a probe already settled (a late or forged reply after a Time
                // Exceeded, an error after the reply) changes nothing: it neither ends nor
                // reorders the trace.
                let settled = |seq: u16| {
                    let i = usize::from(seq.max(1) - 1);
                    i >= results.len() || results[i].is_some()
                };
                let (seq, result) = match ev {
                    ProbeEvent::Progress(p) => {
                        on_event(&Event::Progress(p.clone()));
                        return Flow::Continue;
                    }
                    ProbeEvent::Reply(r) if settled(r.seq) || r.bad_checksum => {
                        return Flow::Continue
                    }
                    ProbeEvent::Error(e) if settled(e.seq) => return Flow::Continue,
                    ProbeEvent::Sent(r) => {
                        sent_upto = r.seq;
                        on_event(&Event::Request(r.clone()));
                        return match last_ttl {
                            Some(t) if sent_upto >= req.last_seq_of(t) => Flow::StopSending,
                            _ => Flow::Continue,
                        };
                    }
                    ProbeEvent::Timeout { seq } => (
                        *seq,
                        HopProbe {
                            from: None,
                            rtt_us: None,
                            marker: None,
                            options: Vec::new(),
                        },
                    ),
                    ProbeEvent::Reply(r) if !r.duplicate => {
                        let ttl = req.ttl_of(r.seq);
                        last_ttl = Some(last_ttl.map_or(ttl, |t| t.min(ttl)));
                        (
                            r.seq,
                            HopProbe {
                                from: Some(r.from),
                                rtt_us: Some(r.rtt_us),
                                marker: None,
                                options: r.options.clone(),
                            },
                        )
                    }
                    ProbeEvent::Reply(_) | ProbeEvent::Malformed(_) => return Flow::Continue,
                    ProbeEvent::Error(e) => {
                        let marker = match e.icmp_type {
                            11 => None,
                            3 => unreachable_marker(e.icmp_code, None),
                            t => Some(format!("!<{t}/{}>", e.icmp_code)),
                        };
                        if e.icmp_type != 11 {
                            let ttl = req.ttl_of(e.seq);
                            last_ttl = Some(last_ttl.map_or(ttl, |t| t.min(ttl)));
                            if marker.is_some() && stopped_by.is_none() {
                                stopped_by = Some(e.description.clone());
                            }
                        }
                        (
                            e.seq,
                            HopProbe {
                                from: Some(e.from),
                                rtt_us: Some(e.rtt_us),
                                marker,
                                options: e.quoted_options.clone(),
                            },
                        )
                    }
                };
                let idx = usize::from(seq.max(1) - 1);
                if idx < results.len() && results[idx].is_none() {
                    results[idx] = Some(result);
                }
                // Report every hop now complete, in order, up to the last one.
                while printed < hops_n {
                    let ttl = req.first_ttl + printed as u8;
                    if last_ttl.is_some_and(|t| ttl > t) {
                        break;
                    }
                    let slots = &results[printed * q..(printed + 1) * q];
                    if slots.iter().any(Option::is_none) {
                        break;
                    }
                    let probes: Vec<HopProbe> = slots.iter().flatten().cloned().collect();
                    on_event(&Event::Hop(Hop {
                        ttl,
                        recorded_route: recorded_route(&probes),
                        probes,
                    }));
                    printed += 1;
                }
                match last_ttl {
                    Some(t) if printed > usize::from(t - req.first_ttl) => Flow::Stop,
                    Some(t) if sent_upto >= req.last_seq_of(t) => Flow::StopSending,
                    _ => Flow::Continue,
                }
            });
        let summary = Summary {
            command: Command::Trace,
            elapsed_us: event::us(totals.elapsed),
            interrupted: stop.is_stopped(),
            totals: Totals::Trace(TraceTotals {
                dest: req.target.dest,
                reached: last_ttl.is_some() && stopped_by.is_none(),
                stopped_by,
                hops: printed,
                sent: totals.transmitted,
            }),
        };
        on_event(&Event::Summary(summary.clone()));
        result.map(|()| summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_map_to_ttls() {
        let mut r = TraceRequest::new(Ipv4Addr::LOCALHOST);
        r.first_ttl = 2;
        r.probes = 3;
        assert_eq!(
            (1..=7).map(|s| r.ttl_of(s)).collect::<Vec<_>>(),
            [2, 2, 2, 3, 3, 3, 4]
        );
        assert_eq!(r.last_seq_of(2), 3);
        assert_eq!(r.last_seq_of(4), 9);
    }

    #[test]
    fn bad_ranges_are_refused() {
        let mut r = TraceRequest::new(Ipv4Addr::LOCALHOST);
        r.first_ttl = 10;
        r.max_hops = 5;
        assert_eq!(r.validate().unwrap_err().field(), Some(Field::FirstTtl));
        r.first_ttl = 0;
        assert!(r.validate().is_err());
    }

    #[test]
    fn markers_follow_traceroute() {
        assert_eq!(unreachable_marker(1, None).as_deref(), Some("!H"));
        assert_eq!(unreachable_marker(5, None).as_deref(), Some("!S"));
        assert_eq!(unreachable_marker(13, None).as_deref(), Some("!X"));
        assert_eq!(
            unreachable_marker(4, Some(1400)).as_deref(),
            Some("!F-1400")
        );
        assert_eq!(unreachable_marker(3, None), None);
    }
}
