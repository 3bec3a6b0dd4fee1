//! `pktforge ping`: iputils-compatible flags → [`PingRequest`] → report.

use clap::Args;

use super::args::{parse_hex, parse_u16_any, parse_u32_any, parse_u8_any, ProbeArgs};
use super::render::Render;
use super::{exit_code, resolve_host, seconds, target};
use pktforge::craft::options::TimestampMode;
use pktforge::event::Totals;
use pktforge::probe::ping::PingRequest;
use pktforge::{Result, Stop};

/// `pktforge ping` flags, named as in iputils ping.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// Host to ping (IPv4 address or name); with `-T tsprespec` the one to four addresses to
    /// be stamped come first, as in iputils (`-T tsprespec ADDR [ADDR...] HOST`).
    #[arg(value_name = "HOST", required = true, num_args = 1..)]
    pub hosts: Vec<String>,
    /// Timestamp option as iputils spells it: tsonly, tsandaddr or tsprespec (the same as
    /// --timestamp, whose tsprespec takes its addresses as tsprespec=ADDR[,ADDR...]).
    #[arg(short = 'T', value_name = "TIMESTAMP", conflicts_with = "timestamp",
          value_parser = ["tsonly", "tsandaddr", "tsprespec"])]
    pub ts_type: Option<String>,
    /// Stop after sending COUNT requests.
    #[arg(short = 'c', long = "count", value_name = "COUNT", value_parser = super::args::parse_u64_any)]
    pub count: Option<u64>,
    /// Seconds between requests (default 1; 0.01 with -f).
    #[arg(short = 'i', long = "interval", value_name = "SECS")]
    pub interval: Option<f64>,
    /// ICMP data bytes (after the 8-byte header).
    #[arg(short = 's', long = "size", value_name = "SIZE", default_value_t = 56, value_parser = super::args::parse_usize_any)]
    pub size: usize,
    /// IP time to live (1..=255).
    #[arg(short = 't', long = "ttl", value_name = "TTL", default_value_t = 64,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub ttl: u8,
    /// IP TOS byte (DSCP << 2 | ECN), decimal or 0x hex.
    #[arg(short = 'Q', long = "tos", value_name = "TOS", value_parser = parse_u8_any)]
    pub tos: Option<u8>,
    /// Seconds to wait for replies after the last request.
    #[arg(
        short = 'W',
        long = "timeout",
        value_name = "SECS",
        default_value_t = 10.0
    )]
    pub timeout: f64,
    /// Stop after SECS seconds, however many requests were sent.
    #[arg(short = 'w', long = "deadline", value_name = "SECS")]
    pub deadline: Option<f64>,
    /// Up to 16 hex bytes repeated to fill the data (after the 16-byte timestamp).
    #[arg(short = 'p', long = "pattern", value_name = "HEX")]
    pub pattern: Option<String>,
    /// Quiet: only the header and the summary.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Numeric output only (pktforge never resolves names in output; accepted for iputils habits).
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
    /// Set the Don't Fragment flag.
    #[arg(long = "df")]
    pub df: bool,
    /// Allow pinging a broadcast address.
    #[arg(short = 'b')]
    pub broadcast: bool,
    /// Print a [seconds.microseconds] time stamp before each answer line.
    #[arg(short = 'D')]
    pub timestamps: bool,
    /// Report requests not answered before the next one is sent.
    #[arg(short = 'O')]
    pub outstanding: bool,
    /// Audible: ring the terminal bell with each reply.
    #[arg(short = 'a')]
    pub audible: bool,
    /// Send PRELOAD requests back to back before the interval applies.
    #[arg(short = 'l', long = "preload", value_name = "PRELOAD", value_parser = parse_u32_any)]
    pub preload: Option<u32>,
    /// Path MTU discovery: do (set DF, refuse sizes over the MTU), want (the same: pktforge
    /// does not fragment locally yet), dont (clear DF).
    #[arg(short = 'M', value_name = "HINT", value_parser = ["do", "want", "dont"])]
    pub pmtu: Option<String>,
    /// Flood: a dot per request, a backspace per reply; the interval is 10 ms unless -i says
    /// otherwise (under 2 ms needs root, as in iputils).
    #[arg(short = 'f')]
    pub flood: bool,
    /// ICMP identifier (default: process id).
    #[arg(long = "id", value_name = "ID", value_parser = parse_u16_any)]
    pub id: Option<u16>,
    /// IP options, interface, addresses and output.
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// Run `ping`; exit code 0 when any reply came, 1 when none did.
pub fn run(a: PingArgs, stop: &Stop) -> Result<i32> {
    let req = request(&a)?;
    // Unwritable outputs are refused before anything (ARP included) is sent.
    super::log::check_writable("--pcap", a.probe.output.pcap.as_deref())?;
    let mut log = super::log::Log::open(a.probe.output.log.as_deref())?;
    let mut out = Render::new(a.probe.output.json);
    out.quiet = a.quiet;
    out.timestamps = a.timestamps;
    out.audible = a.audible;
    out.outstanding = a.outstanding;
    out.flood = a.flood && !a.probe.output.json;
    out.broadcast = a.broadcast;
    let summary = req.run_with(stop, &mut |ev| {
        out.event(ev);
        log.event(ev);
    })?;
    // iputils: with -w, fewer replies than -c is a failure too.
    if let (Some(_), Some(c), Totals::Probe(p)) = (req.deadline, req.count, &summary.totals) {
        if p.received < c {
            return Ok(1);
        }
    }
    Ok(exit_code(&summary))
}

/// Turn `ping` flags into a typed request; refuses malformed values with the flag named.
pub fn request(a: &PingArgs) -> Result<PingRequest> {
    let (dest, before) = a
        .hosts
        .split_last()
        .ok_or_else(|| pktforge::Error::Invalid("ping: a host to ping is needed".into()))?;
    let mut req = PingRequest::new(resolve_host(dest)?);
    req.target = target(req.target.dest, &a.probe)?;
    req.target.options.timestamp = match a.ts_type.as_deref() {
        Some("tsonly") => Some(TimestampMode::TsOnly),
        Some("tsandaddr") => Some(TimestampMode::TsAndAddr),
        Some(_) if before.is_empty() || before.len() > 4 => {
            return Err(pktforge::Error::Invalid(format!(
                "-T tsprespec: {} address(es) given before the host; 1 to 4 are needed \
                 (ping -T tsprespec ADDR [ADDR [ADDR [ADDR]]] HOST, as in iputils)",
                before.len()
            )))
        }
        Some(_) => Some(TimestampMode::Prespecified(
            before
                .iter()
                .map(|h| resolve_host(h))
                .collect::<Result<_>>()?,
        )),
        None => req.target.options.timestamp.take(),
    };
    if !before.is_empty() && a.ts_type.as_deref() != Some("tsprespec") {
        return Err(pktforge::Error::Invalid(format!(
            "{}: one host is pinged; more addresses are only taken by -T tsprespec (for a \
             source route use --lsrr HOP[,HOP...])",
            a.hosts.join(" ")
        )));
    }
    req.count = a.count;
    let interval = a.interval.unwrap_or(if a.flood { 0.01 } else { 1.0 });
    req.interval = seconds("-i", interval)?;
    // iputils' rule: intervals under 2 ms (floods included) need root.
    // SAFETY: geteuid has no preconditions.
    if interval < 0.002 && unsafe { libc::geteuid() } != 0 {
        return Err(pktforge::Error::invalid(
            pktforge::Field::Interval,
            format!(
                "{interval} s is under 2 ms, the shortest interval allowed for a user who is \
                 not root (as in iputils){}",
                if a.flood { " (with -f)" } else { "" }
            ),
        ));
    }
    req.broadcast = a.broadcast;
    if let Some(l) = a.preload {
        req.preload = l;
    }
    match a.pmtu.as_deref() {
        Some("do" | "want") => req.target.dont_fragment = true,
        Some(_) => req.target.dont_fragment = false,
        None => {}
    }
    req.size = a.size;
    req.target.ttl = a.ttl;
    req.target.tos = a.tos.unwrap_or(0);
    req.timeout = seconds("-W", a.timeout)?;
    req.deadline = a.deadline.map(|d| seconds("-w", d)).transpose()?;
    if let Some(p) = &a.pattern {
        req.pattern = parse_hex("-p", p)?;
    }
    req.target.dont_fragment |= a.df;
    if let Some(id) = a.id {
        req.id = id;
    }
    Ok(req)
}
