//! ICMP echo ("ping") on the probe engine.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::event::{Command, Event, IcmpError, Notice, Reply, Summary};
use crate::probe::engine::{self, Flow, ProbePath, Schedule, Target};
use crate::probe::kinds::Echo;
use crate::{Error, Field, Result, Stop};

/// Largest ICMP data that fits an IPv4 datagram with a 20-byte header.
const MAX_DATA: usize = 65535 - 20 - 8;
/// Most requests sent back to back by `preload` (iputils' limit for root is 65536; the
/// kernel's receive buffer bounds what can be answered at once far below that).
pub const MAX_PRELOAD: u32 = 1024;

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
    /// Probing a broadcast address is allowed (iputils `-b`); refused otherwise.
    pub broadcast: bool,
    /// Requests sent at once before the interval applies (iputils `-l`).
    pub preload: u32,
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
            broadcast: false,
            preload: 1,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.count == Some(0) {
            return Err(Error::invalid(Field::Count, "must be at least 1"));
        }
        if self.interval.is_zero() {
            return Err(Error::invalid(
                Field::Interval,
                "must be more than 0 (ping is not a flood tool: see blast)",
            ));
        }
        if self.pattern.len() > 16 {
            return Err(Error::invalid(
                Field::Pattern,
                format!("holds at most 16 bytes, got {}", self.pattern.len()),
            ));
        }
        if self.preload == 0 || self.preload > MAX_PRELOAD {
            return Err(Error::invalid(
                Field::Preload,
                format!(
                    "{} is out of range: 1..={MAX_PRELOAD} (iputils' limit for a user: 3; \
                     pktforge keeps at most {MAX_PRELOAD} in flight at once)",
                    self.preload
                ),
            ));
        }
        if self.size > MAX_DATA {
            return Err(Error::invalid(
                Field::DataSize,
                format!(
                    "{} is over the IPv4 limit: at most {MAX_DATA} data bytes",
                    self.size
                ),
            ));
        }
        Ok(())
    }

    /// Run the ping to the end and collect what it saw: every reply and error, and the summary.
    pub fn run(&self) -> Result<PingOutcome> {
        let (mut replies, mut errors) = (Vec::new(), Vec::new());
        let summary = self.run_with(&Stop::new(), &mut |ev| match ev {
            Event::Reply(r) => replies.push(r.clone()),
            Event::IcmpError(e) => errors.push(e.clone()),
            _ => {}
        })?;
        Ok(PingOutcome {
            replies,
            errors,
            summary,
        })
    }

    /// Run the ping, reporting each event to `on_event` as it happens (start, notices, every
    /// request, reply and error, then the summary), until the count is sent and answered or
    /// timed out, the deadline passes, or `stop` is stopped. Everything that can be refused is
    /// refused before the first frame leaves.
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        self.validate()?;
        let mut target = self.target.clone();
        target.keep_trying_arp = true; // iputils: an unanswered ARP is an error per probe
        let mut echo = Echo::new(self.id, self.size, &self.pattern);
        let mut session = ProbePath::open(&target, echo.icmp_len())?;
        let plan = &session.path().plan;
        let is_broadcast = self.target.dest.is_broadcast()
            || plan.iface.ipv4.iter().any(|&(a, p)| {
                p < 31 && u32::from(self.target.dest) == u32::from(a) | (u32::MAX >> p)
            });
        if is_broadcast && !self.broadcast {
            // Nothing has been sent: a broadcast next hop needs no ARP.
            return Err(Error::invalid(
                Field::Broadcast,
                format!(
                    "{} is a broadcast address on {}: ask for it explicitly",
                    self.target.dest, plan.iface.name
                ),
            ));
        }
        let start = session.start_record(Command::Ping, self.target.dest, self.size);
        on_event(&Event::Start(start));
        for message in session.take_notices() {
            on_event(&Event::Notice(Notice { message }));
        }
        let schedule = Schedule {
            count: self.count,
            interval: self.interval,
            preload: self.preload,
            window: 0,
            timeout: self.timeout,
            deadline: self.deadline,
            collect: false,
        };
        let (totals, result) =
            engine::run_outcome(&mut session, &mut echo, &schedule, stop, &mut |ev| {
                if let Some(e) = ev.to_event() {
                    on_event(&e);
                }
                Flow::Continue
            });
        // The summary also when the link failed midway: what was seen so far, then the error.
        let summary = totals.summary(Command::Ping, self.target.dest, stop);
        on_event(&Event::Summary(summary.clone()));
        result.map(|()| summary)
    }
}

/// What a finished ping saw.
#[derive(Debug, Clone)]
pub struct PingOutcome {
    /// Every echo reply, duplicates included, in arrival order.
    pub replies: Vec<Reply>,
    /// Every ICMP error about our requests.
    pub errors: Vec<IcmpError>,
    /// The totals.
    pub summary: Summary,
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
