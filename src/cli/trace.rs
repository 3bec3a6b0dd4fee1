//! `pktforge trace`: traceroute -I with IP options, hop table or JSON.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;

use super::args::ProbeArgs;
use super::names::Names;
use super::{resolve_host, seconds, target};
use pktforge::probe::trace::{self, Hop, TraceRequest, TraceStart};
use pktforge::Result;

/// `pktforge trace` flags, named as in traceroute.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Host to trace to.
    pub dest: String,
    /// First TTL.
    #[arg(short = 'f', long = "first", value_name = "FIRST_TTL", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub first: u8,
    /// Last TTL.
    #[arg(short = 'm', long = "max-hops", value_name = "MAX_HOPS", default_value_t = 30,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub max_hops: u8,
    /// Probes per hop.
    #[arg(
        short = 'q',
        long = "queries",
        value_name = "PROBES",
        default_value_t = 3
    )]
    pub queries: u8,
    /// Seconds each probe waits for an answer.
    #[arg(short = 'w', long = "wait", value_name = "SECS", default_value_t = 5.0)]
    pub wait: f64,
    /// Probes in flight at once.
    #[arg(
        short = 'N',
        long = "sim-queries",
        value_name = "N",
        default_value_t = 16
    )]
    pub sim_queries: usize,
    /// Numeric output: no reverse name lookups.
    #[arg(short = 'n')]
    pub numeric: bool,
    /// ICMP data bytes per probe.
    #[arg(short = 's', long = "size", value_name = "SIZE", default_value_t = 32)]
    pub size: usize,
    /// IP TOS byte.
    #[arg(short = 't', long = "tos", value_name = "TOS", value_parser = super::args::parse_u8_any)]
    pub tos: Option<u8>,
    /// IP options, interface, addresses and output (with -R each hop shows the route recorded
    /// so far).
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// Run `trace`; exit 0 when the destination answered, 1 otherwise.
pub fn run(a: TraceArgs, stop: &AtomicBool) -> Result<i32> {
    let mut req = TraceRequest::new(resolve_host(&a.dest)?);
    req.target = target(req.target.dest, &a.probe)?;
    req.first_ttl = a.first;
    req.max_hops = a.max_hops;
    req.probes = a.queries;
    req.wait = seconds("-w", a.wait)?;
    req.in_flight = a.sim_queries;
    req.size = a.size;
    req.target.tos = a.tos.unwrap_or(0);
    let json = a.probe.output.json;
    let names = (!a.numeric && !json).then(Names::default);

    // Hops go to a printer thread so that waiting for names never holds up the probes.
    let (tx, rx) = mpsc::channel::<Hop>();
    let printer_names = names.clone();
    let show_rr = a.probe.ip_options.record_route;
    let printer = std::thread::spawn(move || {
        for hop in rx {
            print_hop(&hop, json, show_rr, printer_names.as_ref());
        }
    });
    let summary = trace::run(&req, stop, &mut |s| print_start(s, json), &mut |hop| {
        if let Some(n) = &names {
            hop.probes
                .iter()
                .filter_map(|p| p.from)
                .for_each(|a| n.prefetch(a));
        }
        let _ = tx.send(hop.clone());
    });
    drop(tx);
    let _ = printer.join();
    let summary = summary?;
    if json {
        let mut v = serde_json::to_value(&summary).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), "summary".into());
        }
        println!("{v}");
    }
    Ok(if summary.reached { 0 } else { 1 })
}

fn print_start(s: &TraceStart, json: bool) {
    if json {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), "start".into());
        }
        println!("{v}");
    } else {
        println!(
            "traceroute to {} ({}), {} hops max, {} byte packets",
            s.dest, s.dest, s.max_hops, s.packet_bytes
        );
    }
}

fn print_hop(hop: &Hop, json: bool, show_rr: bool, names: Option<&Names>) {
    let mut out = std::io::stdout().lock();
    if json {
        let mut v = serde_json::to_value(hop).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), "hop".into());
            if let Some(rr) = hop.recorded_route() {
                o.insert(
                    "recorded_route".into(),
                    serde_json::to_value(rr).unwrap_or_default(),
                );
            }
        }
        let _ = writeln!(out, "{v}");
        return;
    }
    let mut line = format!("{:>2} ", hop.ttl);
    let mut last = None;
    for p in &hop.probes {
        match (p.from, p.rtt_ms) {
            (Some(from), Some(rtt)) => {
                if last != Some(from) {
                    let label = match names.and_then(|n| n.get(from, Duration::from_secs(2))) {
                        Some(name) => format!("{name} ({from})"),
                        None => from.to_string(),
                    };
                    line.push_str(&format!(" {label}"));
                    last = Some(from);
                }
                line.push_str(&format!("  {rtt:.3} ms"));
                if let Some(m) = &p.marker {
                    line.push_str(&format!(" {m}"));
                }
            }
            _ => line.push_str(" *"),
        }
    }
    line.push('\n');
    if show_rr {
        if let Some(rr) = hop.recorded_route() {
            let list: Vec<String> = rr.iter().map(|a| a.to_string()).collect();
            line.push_str(&format!("     RR: {}\n", list.join(" ")));
        }
    }
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}
