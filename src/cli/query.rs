//! `pktforge timestamp | mask | info | rsol`: the ICMP request/reply family with ping-like
//! output, one engine and one set of flags.

use std::io::Write;
use std::net::Ipv4Addr;
use std::sync::atomic::AtomicBool;

use clap::Args;
use serde_json::json;

use super::args::ProbeArgs;
use super::report::{summary_text, PingReporter};
use super::{resolve_host, seconds, target};
use pktforge::probe::engine::{self, Event, Flow, ProbeKind, Schedule, Session, Target};
use pktforge::probe::kinds::{
    Advertisement, Info, Mask, MaskAnswer, RouterSolicit, Timestamp, TimestampAnswer,
};
use pktforge::probe::ping::PingSummary;
use pktforge::{Error, Result};

/// The all-routers group, where router solicitations go (RFC 1256).
const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);

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
    fn name(self) -> &'static str {
        match self {
            QueryKind::Timestamp => "timestamp",
            QueryKind::Mask => "address mask",
            QueryKind::Info => "information",
            QueryKind::Rsol => "router solicitation",
        }
    }

    fn no_answer_note(self, iface: &str, wait: f64) -> String {
        match self {
            QueryKind::Timestamp => "No host answered the timestamp requests (firewalls often drop them).".into(),
            QueryKind::Mask => "No host answered: Linux and most modern stacks do not answer address mask \
                 requests (RFC 1122 3.2.2.9 makes it optional); `pktforge reflect --mask` does."
                .into(),
            QueryKind::Info => "No host answered: information request/reply (15/16) is obsolete (RFC 1122 \
                 3.2.2.7) and modern stacks, Linux included, never answer it."
                .into(),
            QueryKind::Rsol => format!(
                "No router advertised on {iface} within {wait} s (Linux routers send ICMP router \
                 advertisements only when a daemon such as rdisc, or `pktforge reflect --advertise`, runs)."
            ),
        }
    }
}

/// Flags shared by `timestamp`, `mask`, `info` and `rsol`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Host to query (rsol: the solicitation's destination, default 224.0.0.2).
    pub dest: Option<String>,
    /// Requests to send.
    #[arg(short = 'c', long = "count", value_name = "COUNT", default_value_t = 3)]
    pub count: u64,
    /// Seconds between requests.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECS",
        default_value_t = 1.0
    )]
    pub interval: f64,
    /// Seconds each request waits for its answer (rsol: how long to collect advertisements).
    #[arg(
        short = 'W',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 2.0
    )]
    pub timeout: f64,
    /// IP TTL (default 64; rsol 1, as RFC 1256 asks).
    #[arg(short = 't', long = "ttl", value_name = "TTL",
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub ttl: Option<u8>,
    /// IP TOS byte.
    #[arg(short = 'Q', long = "tos", value_name = "TOS", value_parser = super::args::parse_u8_any)]
    pub tos: Option<u8>,
    /// ICMP identifier (default: process id).
    #[arg(long = "id", value_name = "ID")]
    pub id: Option<u16>,
    /// Quiet: only the header and the summary.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// IP options, interface, addresses and output.
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// How each kind's answer is shown.
trait ShowAnswer {
    fn text(&self) -> String;
    fn json(&self) -> serde_json::Value;
}

impl ShowAnswer for TimestampAnswer {
    fn text(&self) -> String {
        format!(
            "orig={} recv={} xmit={} offset={:+.1} ms{}",
            time_of_day(self.originate),
            time_of_day(self.receive),
            time_of_day(self.transmit),
            self.offset_ms,
            if self.nonstandard {
                " (non-standard timestamps)"
            } else {
                ""
            }
        )
    }
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl ShowAnswer for MaskAnswer {
    fn text(&self) -> String {
        match self.prefix {
            Some(p) => format!("mask {} (/{p})", self.mask),
            None => format!("mask {} (not contiguous)", self.mask),
        }
    }
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl ShowAnswer for () {
    fn text(&self) -> String {
        "information reply".into()
    }
    fn json(&self) -> serde_json::Value {
        json!({})
    }
}

impl ShowAnswer for Advertisement {
    fn text(&self) -> String {
        let mut s = format!(
            "router advertisement, lifetime {} s, {} address(es)",
            self.lifetime,
            self.routers.len()
        );
        for (addr, pref) in &self.routers {
            s.push_str(&format!("\n    router {addr}  preference {pref}"));
        }
        s
    }
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// ms since midnight UT as HH:MM:SS.mmm (UTC); the high bit marks a non-standard value.
pub fn time_of_day(ms: u32) -> String {
    let ms = ms & 0x7fff_ffff;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Run one of the request/reply subcommands.
pub fn run(kind: QueryKind, a: QueryArgs, stop: &AtomicBool) -> Result<i32> {
    let dest = match (&a.dest, kind) {
        (Some(d), _) => resolve_host(d)?,
        (None, QueryKind::Rsol) => ALL_ROUTERS,
        (None, _) => {
            return Err(Error::Invalid(format!(
                "{}: a destination is required",
                kind.name()
            )))
        }
    };
    if a.count == 0 {
        return Err(Error::Invalid("-c COUNT must be at least 1".into()));
    }
    let mut target = target(dest, &a.probe)?;
    target.ttl = a
        .ttl
        .unwrap_or(if kind == QueryKind::Rsol { 1 } else { 64 });
    target.tos = a.tos.unwrap_or(0);
    let id = a.id.unwrap_or((std::process::id() & 0xffff) as u16);
    let schedule = Schedule {
        count: Some(a.count),
        interval: seconds("-i", a.interval)?,
        window: 0,
        timeout: seconds("-W", a.timeout)?,
        deadline: None,
        collect: false,
    };
    match kind {
        QueryKind::Timestamp => query(kind, &a, &target, Timestamp { id }, schedule, stop),
        QueryKind::Mask => query(kind, &a, &target, Mask { id }, schedule, stop),
        QueryKind::Info => query(kind, &a, &target, Info { id }, schedule, stop),
        QueryKind::Rsol => {
            // Every advertisement heard within -W after the last solicitation counts.
            let collect = Schedule {
                deadline: Some(
                    schedule.interval * (a.count.saturating_sub(1) as u32) + schedule.timeout,
                ),
                collect: true,
                ..schedule
            };
            query(kind, &a, &target, RouterSolicit, collect, stop)
        }
    }
}

fn query<K>(
    kind: QueryKind,
    a: &QueryArgs,
    target: &Target,
    mut probe: K,
    schedule: Schedule,
    stop: &AtomicBool,
) -> Result<i32>
where
    K: ProbeKind,
    K::Answer: ShowAnswer,
{
    let icmp_len = match kind {
        QueryKind::Timestamp => 20,
        QueryKind::Mask => 12,
        QueryKind::Info | QueryKind::Rsol => 8,
    };
    let mut session = Session::open(target, icmp_len)?;
    let plan = session.path().plan.clone();
    let json = a.probe.output.json;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            json!({"type": "start", "kind": kind.name(), "dest": target.dest, "src": plan.src_ip,
                   "iface": plan.iface.name, "wire_dst": plan.dst_ip})
        );
    } else {
        let _ = writeln!(
            out,
            "{} {} ({}) from {} {}: ICMP {} request.",
            kind.name().to_uppercase(),
            target.dest,
            plan.dst_ip,
            plan.src_ip,
            plan.iface.name,
            kind.name()
        );
    }
    drop(out);
    let mut reporter = PingReporter::new(json, a.quiet);
    let mut routers: Vec<Ipv4Addr> = Vec::new();
    let rsol = kind == QueryKind::Rsol;
    let totals = engine::run(&mut session, &mut probe, &schedule, stop, &mut |ev| {
        let line = match ev {
            Event::Reply(r) => {
                if rsol && !routers.contains(&r.from) {
                    routers.push(r.from);
                }
                if json {
                    json!({"type": "reply", "seq": r.seq, "from": r.from, "ttl": r.ttl,
                           "rtt_ms": r.rtt_ms, "duplicate": r.duplicate && !rsol,
                           "answer": r.answer.json(),
                           "options": r.options.iter().map(|o| o.to_string()).collect::<Vec<_>>()})
                    .to_string()
                        + "\n"
                } else if a.quiet {
                    String::new()
                } else {
                    let mut s = format!(
                        "{} bytes from {}: icmp_seq={} ttl={} time={:.3} ms {}{}\n",
                        r.icmp_bytes,
                        r.from,
                        r.seq,
                        r.ttl,
                        r.rtt_ms,
                        r.answer.text(),
                        if r.duplicate && !rsol { " (DUP!)" } else { "" }
                    );
                    for o in &r.options {
                        s.push_str(&reporter.option_lines(o));
                    }
                    s
                }
            }
            Event::Error(e) if json => {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("type".into(), "icmp_error".into());
                }
                v.to_string() + "\n"
            }
            Event::Error(e) if !a.quiet => {
                format!("From {} icmp_seq={} {}\n", e.from, e.seq, e.description)
            }
            Event::Malformed {
                from,
                description,
                problem,
            } if !a.quiet && !json => {
                format!("From {from}: {description} (malformed: {problem})\n")
            }
            _ => String::new(),
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
        Flow::Continue
    })?;
    let summary = PingSummary::from_totals(target.dest, &totals);
    let mut out = std::io::stdout().lock();
    if json {
        let mut v = serde_json::to_value(&summary).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), "summary".into());
            o.insert("kind".into(), kind.name().into());
            if rsol {
                o.insert(
                    "routers".into(),
                    serde_json::to_value(&routers).unwrap_or_default(),
                );
            }
        }
        let _ = writeln!(out, "{v}");
    } else if rsol {
        let _ = write!(
            out,
            "\n--- {} router solicitation ---\n{} solicitations sent, {} advertisement(s) from {} router(s)\n",
            target.dest,
            totals.transmitted,
            totals.received + totals.duplicates,
            routers.len()
        );
    } else {
        let _ = out.write_all(summary_text(&summary, &kind.name().replace(' ', "-")).as_bytes());
    }
    if totals.received == 0 && !json {
        let _ = writeln!(out, "{}", kind.no_answer_note(&plan.iface.name, a.timeout));
    }
    Ok(if totals.received > 0 { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(time_of_day(0), "00:00:00.000");
        assert_eq!(time_of_day(34_262_123), "09:31:02.123");
        assert_eq!(time_of_day(0x8000_0000 | 1_000), "00:00:01.000");
    }
}
