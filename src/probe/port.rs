//! `probe`: ping-like UDP or TCP SYN probes to ports, with the verdict hping3 and nping users
//! read: TCP open (SYN-ACK), closed (RST), filtered (an ICMP error, or silence); UDP open (a
//! reply), closed (port unreachable), open|filtered (silence). A port unreachable from the
//! destination is an answer: counted as received, with its round trip, as nping counts it.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use crate::event::{Answer, Command, Event, Notice, PortResult, Summary};
use crate::probe::engine::{self, Flow, Probe, ProbeEvent, ProbePath, Target};
use crate::probe::transport::{default_sport, tcp_open, PortPlan, TcpSynProbe, UdpProbe};
use crate::wire::TcpOption;
use crate::{Error, Field, Result, Stop};

/// UDP or TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProtocol {
    /// TCP SYN probes.
    Tcp,
    /// UDP datagrams.
    Udp,
}

impl PortProtocol {
    fn name(self) -> &'static str {
        match self {
            PortProtocol::Tcp => "tcp",
            PortProtocol::Udp => "udp",
        }
    }
}

/// A validated port probe request.
#[derive(Debug, Clone)]
pub struct PortProbeRequest {
    /// Destination, TTL, IP options, addresses.
    pub target: Target,
    /// UDP or TCP.
    pub protocol: PortProtocol,
    /// Ports, probed in turn (one probe per port per round).
    pub ports: Vec<u16>,
    /// Rounds (None: until stopped).
    pub count: Option<u64>,
    /// Time between probes.
    pub interval: Duration,
    /// How long each probe waits.
    pub timeout: Duration,
    /// First source port (probe n uses this + n − 1).
    pub sport: u16,
    /// UDP data.
    pub data: Vec<u8>,
    /// TCP options of the SYN (None: Linux's own).
    pub tcp_options: Option<Vec<TcpOption>>,
}

impl PortProbeRequest {
    /// Defaults: 1 round, 1 s apart, 1 s wait, no data, Linux's SYN options.
    pub fn new(dest: Ipv4Addr, protocol: PortProtocol, ports: Vec<u16>) -> Self {
        PortProbeRequest {
            target: Target::new(dest),
            protocol,
            ports,
            count: Some(1),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            sport: default_sport(),
            data: Vec::new(),
            tcp_options: None,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.ports.is_empty() {
            return Err(Error::invalid(Field::Port, "needs at least one port"));
        }
        if self.ports.contains(&0) || self.sport == 0 {
            return Err(Error::invalid(Field::Port, "must be 1..=65535"));
        }
        if self.count == Some(0) {
            return Err(Error::invalid(Field::Count, "must be at least 1"));
        }
        Ok(())
    }

    /// Run the probes, reporting the start, each request, each direct answer or ICMP error,
    /// one [`PortResult`] per settled probe, then the summary.
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        self.validate()?;
        let dest = self.target.dest;
        let plan = PortPlan::Cycle {
            sport_base: self.sport,
            ports: self.ports.clone(),
        };
        let (mut kind, l4_len): (Box<dyn Probe>, usize) = match self.protocol {
            PortProtocol::Tcp => {
                let opts = self
                    .tcp_options
                    .clone()
                    .unwrap_or_else(|| TcpSynProbe::linux_options(SystemTime::now()));
                let t = TcpSynProbe::new(dest, plan.clone(), opts);
                let n = t.l4_len()?;
                (Box::new(t), n)
            }
            PortProtocol::Udp => {
                let u = UdpProbe::new(dest, plan.clone(), self.data.clone());
                let n = u.l4_len();
                (Box::new(u), n)
            }
        };
        let mut session = ProbePath::open_l4(&self.target, kind.protocol(), l4_len)?;
        let mut start = session.start_record(Command::Probe, dest, l4_len);
        start.ip_bytes = Some(20 + session.option_bytes() + l4_len);
        start.data_bytes = Some(match self.protocol {
            PortProtocol::Tcp => 0,
            PortProtocol::Udp => self.data.len(),
        });
        on_event(&Event::Start(start));
        for message in session.take_notices() {
            on_event(&Event::Notice(Notice { message }));
        }
        let schedule = engine::Schedule {
            count: self.count.map(|c| c * self.ports.len() as u64),
            interval: self.interval,
            preload: 1,
            window: 0,
            timeout: self.timeout,
            deadline: None,
            collect: false,
        };
        let proto = self.protocol;
        let base = |seq: u16, verdict: &str, reason: String| PortResult {
            seq,
            protocol: proto.name().into(),
            port: plan.ports(seq).1,
            verdict: verdict.into(),
            reason,
            from: None,
            ttl: None,
            rtt_us: None,
            icmp_type: None,
            icmp_code: None,
            flags: None,
            options: Vec::new(),
        };
        // UDP ports that answered "port unreachable" from the destination: answers (closed),
        // counted as received and timed, as nping counts them.
        let mut closed_answers = engine::RttAccumulator::default();
        let mut closed_count = 0u64;
        let mut totals = engine::run(&mut session, kind.as_mut(), &schedule, stop, &mut |ev| {
            if let Some(e) = ev.to_event() {
                on_event(&e);
            }
            let result = match ev {
                ProbeEvent::Reply(r) if !r.duplicate => {
                    let (verdict, reason, flags) = match &r.answer {
                        Answer::Tcp { flags, .. } if tcp_open(flags) => {
                            ("open", "SYN-ACK".to_string(), Some(flags.clone()))
                        }
                        Answer::Tcp { flags, .. } => ("closed", "RST".into(), Some(flags.clone())),
                        _ => ("open", "UDP reply".into(), None),
                    };
                    PortResult {
                        from: Some(r.from),
                        ttl: Some(r.ttl),
                        rtt_us: Some(r.rtt_us),
                        flags,
                        options: r.options.clone(),
                        ..base(r.seq, verdict, reason)
                    }
                }
                ProbeEvent::Error(e) => {
                    // Port unreachable from the destination itself: nothing listens (UDP);
                    // any other error: something on the way or there filters.
                    let closed = proto == PortProtocol::Udp
                        && e.icmp_type == 3
                        && e.icmp_code == 3
                        && e.from == dest;
                    if closed {
                        closed_count += 1;
                        closed_answers.add(e.rtt_us);
                    }
                    PortResult {
                        from: Some(e.from),
                        ttl: Some(e.ttl),
                        rtt_us: Some(e.rtt_us),
                        icmp_type: Some(e.icmp_type),
                        icmp_code: Some(e.icmp_code),
                        options: e.quoted_options.clone(),
                        ..base(
                            e.seq,
                            if closed { "closed" } else { "filtered" },
                            e.description.clone(),
                        )
                    }
                }
                ProbeEvent::Timeout { seq } => base(
                    *seq,
                    match proto {
                        PortProtocol::Tcp => "filtered",
                        PortProtocol::Udp => "open|filtered",
                    },
                    "no answer".into(),
                ),
                _ => return Flow::Continue,
            };
            on_event(&Event::Port(result));
            Flow::Continue
        })?;
        totals.received += closed_count;
        totals.errors -= closed_count.min(totals.errors);
        totals.rtt.merge(&closed_answers);
        let summary = totals.summary(Command::Probe, dest, stop);
        on_event(&Event::Summary(summary.clone()));
        Ok(summary)
    }
}
