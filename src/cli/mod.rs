//! The command line: parse arguments into typed requests, run them, print reports, pick the
//! exit code (0 some reply, 1 no reply, 2 error — as iputils ping).

pub mod args;
pub mod blast;
pub mod lab;
pub mod ping;
pub mod report;

use std::net::{Ipv4Addr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;

use crate::net::resolve::PathRequest;
use crate::probe::options::{
    parse_addr_list, parse_hex, parse_timestamp_mode, OptionsRequest, SourceRoute,
};
use crate::wire::parse_mac;
use crate::{Error, Result};
use args::{Cli, Command, IpOptionArgs, LinkArgs};

/// Set by Ctrl-C: the running probe stops, prints its summary and flushes its pcap.
static STOP: AtomicBool = AtomicBool::new(false);

/// Run the command line and return the process exit code.
pub fn main() -> i32 {
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
        Command::Blast(a) => blast::run(*a, &STOP),
    }
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
        src_mac: a.src_mac.as_deref().map(parse_mac).transpose()?,
        dst_mac: a.dst_mac.as_deref().map(parse_mac).transpose()?,
        arp_timeout: seconds("--arp-timeout", a.arp_timeout)?,
    })
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
