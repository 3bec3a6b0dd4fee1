//! The command line: parse arguments into typed requests, run them, print reports, pick the
//! exit code (0 some reply, 1 no reply, 2 error — as iputils ping).

pub mod args;
pub mod blast;
pub mod capture;
pub mod craft;
pub mod decode;
pub mod lab;
pub mod names;
pub mod ping;
pub mod query;
pub mod reflect;
pub mod report;
pub mod send;
pub mod trace;

use std::net::{Ipv4Addr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;

use pktforge::net::resolve::PathRequest;
use pktforge::probe::engine::Target;
use pktforge::probe::options::{
    parse_addr_list, parse_hex, parse_timestamp_mode, OptionsRequest, SourceRoute,
};
use pktforge::wire::parse_mac;
use pktforge::{Error, Result};
use args::{Cli, Command, IpOptionArgs, LinkArgs, ProbeArgs};
use query::QueryKind;

/// Set by Ctrl-C: the running probe stops, prints its summary and flushes its pcap.
static STOP: AtomicBool = AtomicBool::new(false);

/// Run the command line and return the process exit code.
pub fn main() -> i32 {
    // Die quietly on a closed pipe (`pktforge ... | head`), like every Unix filter.
    // SAFETY: setting a signal disposition to SIG_DFL has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pktforge: {e}");
            2
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Ping(a) => ping::run(*a, &STOP),
        Command::Lab(a) => lab::run(a.action),
        Command::Trace(a) => trace::run(*a, &STOP),
        Command::Timestamp(a) => query::run(QueryKind::Timestamp, *a, &STOP),
        Command::Mask(a) => query::run(QueryKind::Mask, *a, &STOP),
        Command::Info(a) => query::run(QueryKind::Info, *a, &STOP),
        Command::Rsol(a) => query::run(QueryKind::Rsol, *a, &STOP),
        Command::Reflect(a) => reflect::run(*a, &STOP),
        Command::Craft(a) => craft::run(*a),
        Command::Send(a) => send::run(*a, &STOP),
        Command::Decode(a) => decode::run(a),
        Command::Capture(a) => capture::run(a, &STOP),
        Command::Blast(a) => blast::run(*a, &STOP),
    }
}

/// The destination and the shared probe flags as a [`Target`] (TTL and TOS left at defaults).
pub fn target(dest: Ipv4Addr, a: &ProbeArgs) -> Result<Target> {
    let mut t = Target::new(dest);
    t.options = options_request(&a.ip_options)?;
    t.path = path_request(&a.link)?;
    t.pcap = a.output.pcap.clone();
    t.backend = a.link.backend;
    Ok(t)
}

/// The IP option flags as a typed request.
pub fn options_request(a: &IpOptionArgs) -> Result<OptionsRequest> {
    Ok(OptionsRequest {
        record_route: a.record_route,
        source_route: match (&a.lsrr, &a.ssrr) {
            (Some(l), _) => Some(SourceRoute::Loose(parse_addr_list("--lsrr", l)?)),
            (None, Some(s)) => Some(SourceRoute::Strict(parse_addr_list("--ssrr", s)?)),
            (None, None) => None,
        },
        timestamp: a
            .timestamp
            .as_deref()
            .map(parse_timestamp_mode)
            .transpose()?,
        raw: a
            .ip_option
            .iter()
            .map(|h| parse_hex("--ip-option", h))
            .collect::<Result<_>>()?,
    })
}

/// The interface and address flags as a typed request.
pub fn path_request(a: &LinkArgs) -> Result<PathRequest> {
    Ok(PathRequest {
        dst: None,
        iface: a.iface.clone(),
        src: a.src,
        src_mac: a
            .src_mac
            .as_deref()
            .map(|m| mac_flag("--src-mac", m))
            .transpose()?,
        dst_mac: a
            .dst_mac
            .as_deref()
            .map(|m| mac_flag("--dst-mac", m))
            .transpose()?,
        arp_timeout: seconds("--arp-timeout", a.arp_timeout)?,
    })
}

/// A MAC address flag; the error names the flag.
fn mac_flag(flag: &str, s: &str) -> Result<pktforge::wire::MacAddr> {
    parse_mac(s).map_err(|e| Error::Invalid(format!("{flag}: {e}")))
}

/// Seconds given on the command line as a duration.
pub fn seconds(flag: &str, s: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        Error::Invalid(format!(
            "{flag} {s}: expected a non-negative number of seconds"
        ))
    })
}

/// An IPv4 address, or a name looked up through the system resolver.
pub fn resolve_host(host: &str) -> Result<Ipv4Addr> {
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        return Ok(a);
    }
    let bad = || {
        Error::Invalid(format!(
            "{host:?}: not an IPv4 address or a known host name"
        ))
    };
    // A dotted number that is not an address is a typo, not a name: never ask DNS about it.
    let numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if numeric || host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    (host, 0)
        .to_socket_addrs()
        .map_err(|_| bad())?
        .find_map(|sa| match sa.ip() {
            std::net::IpAddr::V4(a) => Some(a),
            _ => None,
        })
        .ok_or_else(bad)
}
