//! ICMP echo ("ping") on the probe engine.

use std::net::Ipv4Addr;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::probe::engine::{
    self, Event, Flow, IcmpError, RttStats, Schedule, Session, Target, Totals,
};
use crate::probe::kinds::Echo;
use crate::wire::IpOption;
use crate::{Error, Result};

/// Largest ICMP data that fits an IPv4 datagram with a 20-byte header.
const MAX_DATA: usize = 65535 - 20 - 8;

/// A validated ping request.
#[derive(Debug, Clone)]
pub struct PingRequest {
    /// Destination, addresses, IP header fields and options.
    pub target: Target,
    /// Number of requests (None: until interrupted or the deadline).
    pub count: Option<u64>,
    /// Time between requests.
    pub interval: Duration,
    /// ICMP data bytes after the 8-byte echo header.
    pub size: usize,
    /// ICMP identifier.
    pub id: u16,
    /// How long each request waits for its reply (after the last: how long ping lingers).
    pub timeout: Duration,
    /// Stop after this long whatever the count (`-w`).
    pub deadline: Option<Duration>,
    /// Bytes repeated to fill the data after the timestamp (`-p`); empty: 0x08, 0x09, ...
    pub pattern: Vec<u8>,
}

impl PingRequest {
    /// iputils' defaults: 56 data bytes, TTL 64, 1 s interval, 10 s wait.
    pub fn new(dest: Ipv4Addr) -> Self {
        PingRequest {
            target: Target::new(dest),
            count: None,
            interval: Duration::from_secs(1),
            size: 56,
            id: (std::process::id() & 0xffff) as u16,
            timeout: Duration::from_secs(10),
            deadline: None,
            pattern: Vec::new(),
        }
    }

    fn validate(&self) -> Result<()> {
        if self.count == Some(0) {
            return Err(Error::Invalid("-c COUNT must be at least 1".into()));
        }
        if self.interval.is_zero() {
            return Err(Error::Invalid(
                "-i INTERVAL must be more than 0 (ping is not a flood tool: see `blast`)".into(),
            ));
        }
        if self.pattern.len() > 16 {
            return Err(Error::Invalid(format!(
                "-p PATTERN holds at most 16 bytes, got {}",
                self.pattern.len()
            )));
        }
        if self.size > MAX_DATA {
            return Err(Error::Invalid(format!(
                "-s {} is over the IPv4 limit: at most {MAX_DATA} data bytes",
                self.size
            )));
        }
        Ok(())
    }
}

/// Something the ping run saw, in the order it happened.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PingEvent {
    /// The run has started: where frames go.
    Start {
        /// The host pinged.
        dest: Ipv4Addr,
        /// The IP destination on the wire (first hop of a source route).
        wire_dst: Ipv4Addr,
        /// Our source address.
        src: Ipv4Addr,
        /// Interface used.
        iface: String,
        /// Next hop (gateway or the destination).
        next_hop: Ipv4Addr,
        /// Its MAC.
        dst_mac: String,
        /// ICMP data bytes.
        data_bytes: usize,
        /// IP bytes of each request.
        ip_bytes: usize,
        /// Bytes of IP options.
        option_bytes: usize,
    },
    /// An echo reply matched one of our requests.
    Reply(Reply),
    /// An ICMP error about one of our requests.
    IcmpError(IcmpError),
    /// An ICMP error to us whose quoted datagram cannot be read.
    Malformed {
        /// Sender.
        from: Ipv4Addr,
        /// What the error says.
        description: String,
        /// Why the quote could not be read.
        problem: String,
    },
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
    /// Round-trip time in ms (kernel receive timestamp − send time).
    pub rtt_ms: f64,
    /// A second reply to the same request.
    pub duplicate: bool,
    /// The echoed data differs from what we sent.
    pub data_mismatch: bool,
    /// IP options of the reply, with our own receive record added (see [`engine::Reply`]).
    #[serde(serialize_with = "engine::ser_options")]
    pub options: Vec<IpOption>,
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

/// Run a ping, report each event to `on_event`, return the totals. Everything that can be
/// refused is refused before the first frame leaves.
pub fn run(
    req: &PingRequest,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(&PingEvent),
) -> Result<PingSummary> {
    req.validate()?;
    let mut echo = Echo::new(req.id, req.size, &req.pattern);
    let mut session = Session::open(&req.target, echo.icmp_len())?;
    let path = session.path().clone();
    let option_bytes = session.option_bytes();
    on_event(&PingEvent::Start {
        dest: req.target.dest,
        wire_dst: path.plan.dst_ip,
        src: path.plan.src_ip,
        iface: path.plan.iface.name.clone(),
        next_hop: path.plan.next_hop,
        dst_mac: path.dst_mac.to_string(),
        data_bytes: req.size,
        ip_bytes: 20 + option_bytes + echo.icmp_len(),
        option_bytes,
    });
    let schedule = Schedule {
        count: req.count,
        interval: req.interval,
        window: 0,
        timeout: req.timeout,
        deadline: req.deadline,
        collect: false,
    };
    let totals = engine::run(&mut session, &mut echo, &schedule, stop, &mut |ev| {
        match ev {
            Event::Reply(r) => on_event(&PingEvent::Reply(Reply {
                seq: r.seq,
                from: r.from,
                bytes: r.icmp_bytes,
                ttl: r.ttl,
                rtt_ms: r.rtt_ms,
                duplicate: r.duplicate,
                data_mismatch: r.answer.data_mismatch,
                options: r.options.clone(),
            })),
            Event::Error(e) => on_event(&PingEvent::IcmpError(e.clone())),
            Event::Malformed {
                from,
                description,
                problem,
            } => on_event(&PingEvent::Malformed {
                from: *from,
                description: description.clone(),
                problem: problem.clone(),
            }),
            Event::Sent { .. } | Event::Timeout { .. } => {}
        }
        Flow::Continue
    })?;
    Ok(PingSummary::from_totals(req.target.dest, &totals))
}

impl PingSummary {
    /// The summary of any request/reply run from the engine's totals.
    pub fn from_totals(dest: Ipv4Addr, totals: &Totals) -> Self {
        let lost = totals.transmitted - totals.received.min(totals.transmitted);
        PingSummary {
            dest: Some(dest),
            transmitted: totals.transmitted,
            received: totals.received,
            duplicates: totals.duplicates,
            errors: totals.errors,
            time_ms: totals.elapsed.as_millis() as u64,
            rtt: totals.rtt.stats(),
            loss_percent: if totals.transmitted == 0 {
                0.0
            } else {
                100.0 * lost as f64 / totals.transmitted as f64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_requests_are_refused() {
        let mut r = PingRequest::new(Ipv4Addr::LOCALHOST);
        r.count = Some(0);
        assert!(r.validate().is_err());
        let mut r = PingRequest::new(Ipv4Addr::LOCALHOST);
        r.size = 70000;
        assert!(r.validate().unwrap_err().to_string().contains("65507"));
        let mut r = PingRequest::new(Ipv4Addr::LOCALHOST);
        r.interval = Duration::ZERO;
        assert!(r.validate().is_err());
        let mut r = PingRequest::new(Ipv4Addr::LOCALHOST);
        r.pattern = vec![0; 17];
        assert!(r.validate().unwrap_err().to_string().contains("16"));
    }
}
