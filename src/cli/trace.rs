//! `pktforge trace`: traceroute's ICMP, UDP (-U) and TCP SYN (-T) methods with IP options, hop
//! table or JSON.

use std::sync::mpsc;

use clap::Args;

use super::args::ProbeArgs;
use super::names::Names;
use super::render::Render;
use super::{resolve_host, seconds, target};
use pktforge::event::{Event, Totals};
use pktforge::probe::trace::{TraceMethod, TraceRequest};
use pktforge::{Result, Stop};

/// `pktforge trace` flags, named as in traceroute: `-I` is ICMP and `-i` the interface.
#[derive(Debug, Args)]
#[command(mut_arg("iface", |a| a.short('i')))]
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
    /// Probe with ICMP echo (traceroute -I; the default).
    #[arg(short = 'I', long = "icmp", conflicts_with_all = ["udp", "tcp"])]
    pub icmp: bool,
    /// Probe with UDP datagrams to rising ports (traceroute -U; port 33434 + probe number).
    #[arg(short = 'U', long = "udp", conflicts_with = "tcp")]
    pub udp: bool,
    /// Probe with TCP SYNs (traceroute -T; port 80 unless -p).
    #[arg(short = 'T', long = "tcp")]
    pub tcp: bool,
    /// Destination port, 1..=65535: the first of -U's rising ports (default 33434), -T's port
    /// (default 80).
    #[arg(short = 'p', long = "port", value_name = "PORT", value_parser = super::args::parse_port)]
    pub port: Option<u16>,
    /// Data bytes per probe (after the ICMP or UDP header).
    #[arg(short = 's', long = "size", value_name = "SIZE", default_value_t = 32, value_parser = super::args::parse_usize_any)]
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
pub fn run(a: TraceArgs, stop: &Stop) -> Result<i32> {
    let mut req = TraceRequest::new(resolve_host(&a.dest)?);
    req.target = target(req.target.dest, &a.probe)?;
    req.first_ttl = a.first;
    req.max_hops = a.max_hops;
    req.probes = a.queries;
    req.wait = seconds("-w", a.wait)?;
    req.in_flight = a.sim_queries;
    req.size = a.size;
    req.method = match (a.udp, a.tcp) {
        (true, _) => TraceMethod::Udp {
            port: a.port.unwrap_or(33434),
        },
        (_, true) => TraceMethod::Tcp {
            port: a.port.unwrap_or(80),
        },
        _ if a.port.is_some() => {
            return Err(pktforge::Error::Invalid(
                "-p needs -U (UDP) or -T (TCP): ICMP probes have no port".into(),
            ))
        }
        _ => TraceMethod::Icmp,
    };
    req.target.tos = a.tos.unwrap_or(0);
    let json = a.probe.output.json;
    // Unwritable outputs are refused before anything (ARP included) is sent.
    super::log::check_writable("--pcap", a.probe.output.pcap.as_deref())?;
    let mut log = super::log::Log::open(a.probe.output.log.as_deref())?;
    let names = (!a.numeric && !json).then(Names::default);

    // Events go to a printer thread so that waiting for names never holds up the probes.
    let (tx, rx) = mpsc::channel::<Event>();
    let mut out = Render::new(json);
    out.show_rr = a.probe.ip_options.record_route;
    out.names = names.clone();
    let printer = std::thread::spawn(move || {
        for ev in rx {
            out.event(&ev);
        }
    });
    let summary = req.run_with(stop, &mut |ev| {
        if let (Some(n), Event::Hop(hop)) = (&names, ev) {
            hop.probes
                .iter()
                .filter_map(|p| p.from)
                .for_each(|a| n.prefetch(a));
        }
        log.event(ev);
        let _ = tx.send(ev.clone());
    });
    drop(tx);
    let _ = printer.join();
    let reached = matches!(&summary?.totals, Totals::Trace(t) if t.reached);
    Ok(if reached { 0 } else { 1 })
}
