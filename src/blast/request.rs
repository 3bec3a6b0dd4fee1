//! What a blast run is asked to do, and the checks made before anything is sent.

use std::net::Ipv4Addr;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::{DEFAULT_BATCH, MAX_BATCH, STAMP_BYTES};
use crate::craft::options::OptionsRequest;
use crate::event::blast::BlastSummary;
#[cfg(target_os = "linux")]
use crate::link::packet::fast::TxMode;
use crate::link::Backend;
use crate::net::resolve::PathRequest;
use crate::{Error, Field, Result};

/// How fast to send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// Frames per second, over all threads.
    Pps(f64),
    /// As fast as the path takes them.
    Max,
}

impl std::str::FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Rate, String> {
        if s == "max" {
            return Ok(Rate::Max);
        }
        let v: f64 = s
            .parse()
            .map_err(|_| format!("{s:?}: expected frames per second (e.g. 10000) or max"))?;
        if !(v.is_finite() && v > 0.0) {
            return Err(format!(
                "{s}: the rate must be more than 0 frames per second"
            ));
        }
        Ok(Rate::Pps(v))
    }
}

/// A validated blast request.
#[derive(Debug, Clone)]
pub struct BlastRequest {
    /// The host to load.
    pub dest: Ipv4Addr,
    /// Sending rate.
    pub rate: Rate,
    /// Stop after this many requests (over all threads).
    pub count: Option<u64>,
    /// Stop sending after this long.
    pub duration: Option<Duration>,
    /// ICMP data bytes (at least [`STAMP_BYTES`]).
    pub size: usize,
    /// Sender threads (each with its own TX ring and RX ring in one fanout group).
    pub threads: usize,
    /// IP TTL.
    pub ttl: u8,
    /// IP TOS.
    pub tos: u8,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// ICMP identifier of thread 0 (thread k uses id + k).
    pub id: u16,
    /// Send UDP datagrams to this port instead of echo requests (thread k's source port is
    /// `id + k`); replies are the datagrams echoed back (e.g. by a UDP echo service).
    pub udp: Option<u16>,
    /// Bytes repeated after the stamp; empty: 0x10, 0x11, ...
    pub pattern: Vec<u8>,
    /// IP options.
    pub options: OptionsRequest,
    /// Interface and address overrides.
    pub path: PathRequest,
    /// Which link implementation.
    pub backend: Backend,
    /// How the fast link transmits.
    #[cfg(target_os = "linux")]
    pub tx_mode: TxMode,
    /// After the last request, wait this long for outstanding replies.
    pub wait: Duration,
    /// At most this many frames per syscall (larger: fewer syscalls, but a later frame of a
    /// batch leaves later than its send stamp says, which inflates its RTT).
    pub batch: usize,
}

impl BlastRequest {
    /// Defaults: 1000 pps, 56 data bytes, TTL 64, one thread, 1 s wait, fast backend on Linux.
    pub fn new(dest: Ipv4Addr) -> BlastRequest {
        BlastRequest {
            dest,
            rate: Rate::Pps(1000.0),
            count: None,
            duration: None,
            size: 56,
            threads: 1,
            ttl: 64,
            tos: 0,
            dont_fragment: false,
            id: (std::process::id() & 0xffff) as u16,
            udp: None,
            pattern: Vec::new(),
            options: OptionsRequest::default(),
            path: PathRequest {
                arp_timeout: Duration::from_secs(2),
                ..Default::default()
            },
            backend: Backend::default(),
            #[cfg(target_os = "linux")]
            tx_mode: TxMode::Auto,
            wait: Duration::from_secs(1),
            batch: DEFAULT_BATCH,
        }
    }
}

/// Live counters, readable while the run goes on (for the progress line).
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests sent so far.
    pub sent: AtomicU64,
    /// Distinct replies so far.
    pub received: AtomicU64,
}

/// The end of a run: the summary always, and the error that cut it short, if any.
#[derive(Debug)]
pub struct BlastOutcome {
    /// What was sent and received (with RTT over time, for a plot).
    pub summary: BlastSummary,
    /// Why the run stopped early.
    pub error: Option<Error>,
    /// With `TxMode::Auto`: why XDP live frames were not used (None when they were, or
    /// when not asked for).
    pub live_unavailable: Option<String>,
}

pub(super) fn validate(req: &BlastRequest) -> Result<()> {
    if let Rate::Pps(r) = req.rate {
        if !(r.is_finite() && r > 0.0) {
            return Err(Error::invalid(
                Field::Rate,
                format!("{r}: the rate must be more than 0 frames per second"),
            ));
        }
    }
    if req.count.is_none() && req.duration.is_none() {
        return Err(Error::NeedsOneOf {
            first: Field::Count,
            second: Field::Duration,
            why: "a blast must end by itself".into(),
        });
    }
    if req.count == Some(0) {
        return Err(Error::invalid(Field::Count, "must be at least 1"));
    }
    if req.duration.is_some_and(|d| d.is_zero()) {
        return Err(Error::invalid(Field::Duration, "must be more than 0"));
    }
    if req.batch == 0 || req.batch > MAX_BATCH {
        return Err(Error::invalid(
            Field::Batch,
            format!("{}: expected 1..={MAX_BATCH}", req.batch),
        ));
    }
    if req.threads == 0 {
        return Err(Error::invalid(Field::Threads, "must be at least 1"));
    }
    if req.threads > 1 && req.backend != Backend::Fast {
        return Err(Error::Needs {
            field: Field::Threads,
            needs: "fast".into(),
            other: Field::Backend,
            why: " above 1 thread (one TX ring and one fanout RX ring per thread)".into(),
        });
    }
    if req.size < STAMP_BYTES {
        return Err(Error::invalid(
            Field::DataSize,
            format!(
                "{}: blast needs at least {STAMP_BYTES} data bytes (sequence number + send time)",
                req.size
            ),
        ));
    }
    if req.pattern.len() > 16 {
        return Err(Error::invalid(
            Field::Pattern,
            format!("holds at most 16 bytes, got {}", req.pattern.len()),
        ));
    }
    if req.ttl == 0 {
        return Err(Error::invalid(Field::Ttl, "must be 1..=255"));
    }
    if req.udp == Some(0) {
        return Err(Error::invalid(Field::Port, "0: a UDP port is 1..=65535"));
    }
    if req.udp.is_some() && req.id == 0 {
        return Err(Error::invalid(
            Field::Id,
            "0: with UDP it is the source port of thread 0, 1..=65535",
        ));
    }
    #[cfg(target_os = "linux")]
    if req.udp.is_some() && req.tx_mode == TxMode::Live {
        return Err(Error::invalid(
            Field::Port,
            "XDP live frames stamp ICMP echo requests only: UDP goes with the AF_XDP or TX ring modes",
        ));
    }
    if usize::from(req.id) + req.threads > 0x10000 {
        return Err(Error::invalid(
            Field::Id,
            format!(
                "{} + {} threads runs past identifier 65535",
                req.id, req.threads
            ),
        ));
    }
    Ok(())
}
