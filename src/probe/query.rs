//! The ICMP request/reply family beyond echo: timestamp (13/14), address mask (17/18),
//! information (15/16) and router solicitation (10) / advertisement (9), on the probe engine.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::event::{Command, Event, Notice, Summary, Totals};
use crate::probe::engine::{self, Flow, ProbeEvent, ProbeKind, ProbePath, Schedule, Target};
use crate::probe::kinds::{Info, Mask, RouterSolicit, Timestamp};
use crate::{Error, Field, Result, Stop};

/// The all-routers group, where router solicitations go (RFC 1256).
pub const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);

/// Which request/reply pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// Timestamp (13/14).
    Timestamp,
    /// Address mask (17/18).
    Mask,
    /// Information (15/16).
    Info,
    /// Router solicitation (10) / advertisement (9).
    Rsol,
}

impl QueryKind {
    /// Its name in words ("address mask").
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::Timestamp => "timestamp",
            QueryKind::Mask => "address mask",
            QueryKind::Info => "information",
            QueryKind::Rsol => "router solicitation",
        }
    }

    /// The record's command.
    pub fn command(self) -> Command {
        match self {
            QueryKind::Timestamp => Command::Timestamp,
            QueryKind::Mask => Command::Mask,
            QueryKind::Info => Command::Info,
            QueryKind::Rsol => Command::Rsol,
        }
    }

    /// ICMP bytes of the request.
    fn icmp_len(self) -> usize {
        match self {
            QueryKind::Timestamp => 20,
            QueryKind::Mask => 12,
            QueryKind::Info | QueryKind::Rsol => 8,
        }
    }
}

/// A validated query request.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    /// Which pair.
    pub kind: QueryKind,
    /// Destination, addresses, IP header fields and options.
    pub target: Target,
    /// Requests to send.
    pub count: u64,
    /// Time between requests.
    pub interval: Duration,
    /// How long each request waits (router solicitation: how long to collect advertisements
    /// after the last solicitation).
    pub timeout: Duration,
    /// ICMP identifier.
    pub id: u16,
}

impl QueryRequest {
    /// Defaults: 3 requests 1 s apart, 2 s wait, TTL 64 (router solicitation: to 224.0.0.2
    /// with TTL 1, as RFC 1256 asks).
    pub fn new(kind: QueryKind, dest: Option<Ipv4Addr>) -> Result<Self> {
        let dest = match (dest, kind) {
            (Some(d), _) => d,
            (None, QueryKind::Rsol) => ALL_ROUTERS,
            (None, _) => {
                return Err(Error::Invalid(format!(
                    "{}: a destination is required",
                    kind.name()
                )))
            }
        };
        let mut target = Target::new(dest);
        if kind == QueryKind::Rsol {
            target.ttl = 1;
        }
        Ok(QueryRequest {
            kind,
            target,
            count: 3,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            id: (std::process::id() & 0xffff) as u16,
        })
    }

    /// Run the queries, reporting each event to `on_event`: the start, every request, reply
    /// and error, then the summary (for router solicitation with the routers heard).
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        if self.count == 0 {
            return Err(Error::invalid(Field::Count, "must be at least 1"));
        }
        let schedule = Schedule {
            count: Some(self.count),
            interval: self.interval,
            preload: 1,
            window: 0,
            timeout: self.timeout,
            deadline: None,
            collect: false,
        };
        let id = self.id;
        match self.kind {
            QueryKind::Timestamp => self.query(Timestamp { id }, schedule, stop, on_event),
            QueryKind::Mask => self.query(Mask { id }, schedule, stop, on_event),
            QueryKind::Info => self.query(Info { id }, schedule, stop, on_event),
            QueryKind::Rsol => {
                // Every advertisement heard within the wait after the last solicitation counts.
                let collect = Schedule {
                    deadline: Some(
                        schedule.interval * (self.count.saturating_sub(1) as u32)
                            + schedule.timeout,
                    ),
                    collect: true,
                    ..schedule
                };
                self.query(RouterSolicit, collect, stop, on_event)
            }
        }
    }

    fn query<K: ProbeKind>(
        &self,
        mut probe: K,
        schedule: Schedule,
        stop: &Stop,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Summary> {
        let icmp_len = self.kind.icmp_len();
        let mut session = ProbePath::open(&self.target, icmp_len)?;
        let command = self.kind.command();
        on_event(&Event::Start(session.start_record(
            command,
            self.target.dest,
            icmp_len - 8,
        )));
        for message in session.take_notices() {
            on_event(&Event::Notice(Notice { message }));
        }
        let rsol = self.kind == QueryKind::Rsol;
        let mut routers: Vec<Ipv4Addr> = Vec::new();
        let (totals, result) =
            engine::run_outcome(&mut session, &mut probe, &schedule, stop, &mut |ev| {
                match ev {
                    // Advertisements carry no sequence number: each is a reply, none a duplicate.
                    ProbeEvent::Reply(r) if rsol => {
                        if !routers.contains(&r.from) {
                            routers.push(r.from);
                        }
                        let mut r = r.clone();
                        r.duplicate = false;
                        on_event(&Event::Reply(r));
                    }
                    other => {
                        if let Some(e) = other.to_event() {
                            on_event(&e);
                        }
                    }
                }
                Flow::Continue
            });
        let mut summary = totals.summary(command, self.target.dest, stop);
        if let Totals::Probe(p) = &mut summary.totals {
            if rsol {
                p.routers = Some(routers);
            }
        }
        on_event(&Event::Summary(summary.clone()));
        result.map(|()| summary)
    }
}
