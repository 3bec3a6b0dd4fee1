//! The one record type every run reports.
//!
//! Every driver (ping, trace, the ICMP queries, send, capture, decode, craft, blast, reflect)
//! reports what happens as a stream of [`Event`]s, and returns its [`Summary`] (also the stream's
//! last event). A front end renders the same stream as text or, serialized with serde, as JSON
//! Lines: one object per event, tagged by `"type"`.
//!
//! One set of names and units for all of them:
//! - every duration is in microseconds, with the unit in the name (`rtt_us`, `elapsed_us`);
//! - every point in time is `time_us`, whole microseconds since the Unix epoch;
//! - addresses are dotted quads, MACs `aa:bb:cc:dd:ee:ff`, IP options their one-line text.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::dissect::Dissection;
use crate::wire::IpOption;

pub mod bench;
pub mod blast;
pub mod reflect;

/// One thing a run saw or did, in the order it happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The run has started: what it does and where frames go.
    Start(Start),
    /// A probe left.
    Request(Request),
    /// A direct answer to one of our probes.
    Reply(Reply),
    /// An ICMP error about one of our probes.
    IcmpError(IcmpError),
    /// An ICMP error to us whose quoted datagram cannot be read.
    Malformed(Malformed),
    /// A probe got no answer in time.
    Timeout(Timeout),
    /// A trace's hop, once all its probes are settled.
    Hop(Hop),
    /// What a port probe found (`probe --tcp/--udp`), once it is settled.
    Port(PortResult),
    /// A frame captured, decoded, crafted or answered.
    Frame(Frame),
    /// Something the user should know that is not an error (a setting changed for the run).
    Notice(Notice),
    /// Interim totals of a long run.
    Progress(Progress),
    /// The totals at the end of a run: always the last event.
    Summary(Summary),
    /// A benchmark trial is about to run (its test, frame size, rate and the search's bounds).
    BenchStep(bench::BenchStep),
    /// What a benchmark trial sent and got back.
    BenchTrial(bench::BenchTrial),
    /// A benchmark test's result at one frame size.
    BenchResult(bench::BenchResult),
}

/// Which subcommand (driver) a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Echo request/reply.
    Ping,
    /// Rising-TTL echo.
    Trace,
    /// ICMP timestamp request/reply.
    Timestamp,
    /// ICMP address mask request/reply.
    Mask,
    /// ICMP information request/reply.
    Info,
    /// Router solicitation.
    Rsol,
    /// Hand-made frames sent.
    Send,
    /// Frames received.
    Capture,
    /// Frames read from hex or a pcap.
    Decode,
    /// A frame built.
    Craft,
    /// The high-rate generator.
    Blast,
    /// The L2 responder.
    Reflect,
    /// UDP/TCP port probes.
    Probe,
    /// The RFC 2544 device benchmark.
    Bench,
}

impl Command {
    /// The subcommand's name.
    pub fn name(self) -> &'static str {
        match self {
            Command::Ping => "ping",
            Command::Trace => "trace",
            Command::Timestamp => "timestamp",
            Command::Mask => "mask",
            Command::Info => "info",
            Command::Rsol => "rsol",
            Command::Send => "send",
            Command::Capture => "capture",
            Command::Decode => "decode",
            Command::Craft => "craft",
            Command::Blast => "blast",
            Command::Reflect => "reflect",
            Command::Probe => "probe",
            Command::Bench => "bench",
        }
    }
}

/// Where a run sends and listens. Fields a command has no use for are absent.
#[derive(Debug, Clone, Serialize)]
pub struct Start {
    /// The subcommand.
    pub command: Command,
    /// When the run started.
    pub time_us: u64,
    /// The host probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest: Option<Ipv4Addr>,
    /// The IP destination on the wire (the first hop of a source route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire_dst: Option<Ipv4Addr>,
    /// Our source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Ipv4Addr>,
    /// Interface used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iface: Option<String>,
    /// Next hop (gateway or the destination).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<Ipv4Addr>,
    /// Next hop's MAC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_mac: Option<String>,
    /// Data bytes of each request (after the ICMP header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_bytes: Option<usize>,
    /// IP bytes of each request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_bytes: Option<usize>,
    /// Bytes of IP options in each request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option_bytes: Option<usize>,
    /// A trace's last TTL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_hops: Option<u8>,
    /// The VLAN tags frames carry (and answers must carry), outermost first; absent when
    /// untagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlans: Option<crate::wire::VlanStack>,
}

impl Start {
    /// A start record for `command` at the present time, every other field absent.
    pub fn new(command: Command) -> Self {
        Start {
            command,
            time_us: time_us(SystemTime::now()),
            dest: None,
            wire_dst: None,
            src: None,
            iface: None,
            next_hop: None,
            dst_mac: None,
            data_bytes: None,
            ip_bytes: None,
            option_bytes: None,
            max_hops: None,
            vlans: None,
        }
    }
}

/// A probe sent.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    /// Sequence number.
    pub seq: u16,
    /// When it left (the clock read just before the send call).
    pub time_us: u64,
    /// Its IP destination on the wire.
    pub dest: Ipv4Addr,
    /// Its IP TTL.
    pub ttl: u8,
    /// IP bytes sent.
    pub ip_bytes: usize,
}

/// A direct answer to a probe.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// Sequence number answered.
    pub seq: u16,
    /// Who answered.
    pub from: Ipv4Addr,
    /// ICMP bytes (header and data), as ping prints them.
    pub bytes: usize,
    /// TTL of the answer.
    pub ttl: u8,
    /// Round-trip time: kernel receive timestamp minus send time.
    pub rtt_us: f64,
    /// Receive time (kernel timestamp).
    pub time_us: u64,
    /// Not the first answer to this probe.
    pub duplicate: bool,
    /// Its IP header or ICMP checksum is wrong: shown, but not counted as an answer.
    pub bad_checksum: bool,
    /// The answer's IP options, with this host's own record and stamp added as the receiving
    /// IP module adds them (what `ping -R` shows). In JSON `options`, their text, and beside
    /// it, when they hold them, `route`, `source_route` and `timestamps` as lists
    /// ([`ser_options_lists`]).
    #[serde(flatten, serialize_with = "ser_options_lists")]
    pub options: Vec<IpOption>,
    /// What the answer says, by kind.
    pub answer: Answer,
}

/// The fields of a direct answer, by probe kind.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Answer {
    /// An echo reply.
    Echo {
        /// The echoed data differs from what we sent.
        data_mismatch: bool,
    },
    /// A timestamp reply: three times of day in ms since midnight UT (RFC 792).
    Timestamp {
        /// Our originate timestamp, echoed.
        originate_ms: u32,
        /// When the peer received the request.
        receive_ms: u32,
        /// When the peer sent the reply.
        transmit_ms: u32,
        /// Our receive time as ms since midnight UT.
        arrival_ms: u32,
        /// Peer clock minus ours, clockdiff-style: ((recv − orig) + (xmit − arrival)) / 2.
        offset_us: f64,
        /// Round trip seen by the stamps: (arrival − orig) − (xmit − recv), in ms (the stamps'
        /// resolution).
        rtt_from_stamps_ms: i64,
        /// A stamp has the high bit set (not ms since midnight UT).
        nonstandard: bool,
    },
    /// An address mask reply.
    Mask {
        /// The mask.
        mask: Ipv4Addr,
        /// Its prefix length, if the mask is contiguous.
        prefix_len: Option<u8>,
    },
    /// An information reply (obsolete).
    Info,
    /// A router advertisement.
    RouterAdvertisement {
        /// Lifetime in seconds (the protocol field).
        lifetime_s: u16,
        /// Advertised routers.
        routers: Vec<AdvertisedRouter>,
    },
    /// A TCP segment answering a probe (SYN-ACK: open; RST: closed).
    Tcp {
        /// The port probed (the segment's source port).
        port: u16,
        /// Its flags in tcpdump's letters (`S.`, `R.`).
        flags: String,
        /// Its sequence number.
        seq: u32,
        /// Its acknowledgment number.
        ack: u32,
        /// Its window.
        window: u16,
        /// The MSS it offers, if any.
        mss: Option<u16>,
    },
    /// A UDP datagram answering a probe.
    Udp {
        /// The port probed (the datagram's source port).
        port: u16,
        /// Bytes of data it carries.
        data_bytes: usize,
    },
}

/// One router of an advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AdvertisedRouter {
    /// Its address.
    pub address: Ipv4Addr,
    /// Its preference (higher is preferred).
    pub preference: i32,
}

/// An ICMP error about one of our probes.
#[derive(Debug, Clone, Serialize)]
pub struct IcmpError {
    /// Sequence number of the probe it is about.
    pub seq: u16,
    /// The router or host that sent it.
    pub from: Ipv4Addr,
    /// TTL of the error.
    pub ttl: u8,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub icmp_code: u8,
    /// iputils' wording, e.g. "Source Route Failed".
    pub description: String,
    /// For a parameter problem: the field or option the pointer names.
    pub detail: Option<String>,
    /// The IP options of our probe as the error's sender quoted them. In JSON
    /// `quoted_options`, their text, and beside it `quoted_route`, `quoted_source_route` and
    /// `quoted_timestamps` as lists when they hold them ([`ser_options_lists`]).
    #[serde(flatten, serialize_with = "ser_quoted_options_lists")]
    pub quoted_options: Vec<IpOption>,
    /// Receive time minus the probe's send time.
    pub rtt_us: f64,
    /// Receive time.
    pub time_us: u64,
}

/// An ICMP error sent to us whose quoted datagram cannot be read.
#[derive(Debug, Clone, Serialize)]
pub struct Malformed {
    /// Sender.
    pub from: Ipv4Addr,
    /// What the error says ("Time to live exceeded", ...).
    pub description: String,
    /// Why the quote could not be read.
    pub problem: String,
    /// Receive time.
    pub time_us: u64,
}

/// A probe that got nothing within its wait.
#[derive(Debug, Clone, Serialize)]
pub struct Timeout {
    /// Sequence number.
    pub seq: u16,
}

/// What one UDP or TCP port probe found, as hping3 and nping users read it.
#[derive(Debug, Clone, Serialize)]
pub struct PortResult {
    /// Sequence number of the probe.
    pub seq: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// The port probed.
    pub port: u16,
    /// `open` (SYN-ACK, or a UDP reply), `closed` (RST, or port unreachable), `filtered`
    /// (an ICMP error, or no answer to a SYN), `open|filtered` (no answer to UDP).
    pub verdict: String,
    /// Why: `SYN-ACK`, `RST`, the ICMP error's text, `no answer`.
    pub reason: String,
    /// Who answered (None: nobody).
    pub from: Option<Ipv4Addr>,
    /// TTL of the answer.
    pub ttl: Option<u8>,
    /// Round trip (None: no answer).
    pub rtt_us: Option<f64>,
    /// ICMP type and code of an error answer.
    pub icmp_type: Option<u8>,
    /// ICMP code of an error answer.
    pub icmp_code: Option<u8>,
    /// TCP flags of a TCP answer, tcpdump letters.
    pub flags: Option<String>,
    /// IP options of the answer (a reply's own, as the probe's came back; an error's, those
    /// of the probe it quotes). In JSON with `route`, `source_route` and `timestamps` beside them, as a
    /// reply's ([`ser_options_lists`]).
    #[serde(flatten, serialize_with = "ser_options_lists")]
    pub options: Vec<IpOption>,
}

/// The outcome of one trace probe.
#[derive(Debug, Clone, Serialize)]
pub struct HopProbe {
    /// Who answered (None: timed out).
    pub from: Option<Ipv4Addr>,
    /// Round trip.
    pub rtt_us: Option<f64>,
    /// traceroute's marker: `!H`, `!N`, `!P`, `!S`, `!F`, `!X`, ... (None for time exceeded and
    /// the destination's reply).
    pub marker: Option<String>,
    /// IP options as they came back: quoted inside the error, or the reply's own. In JSON
    /// with `route`, `source_route` and `timestamps` beside them, as a reply's ([`ser_options_lists`]).
    #[serde(flatten, serialize_with = "ser_options_lists")]
    pub options: Vec<IpOption>,
}

/// One hop of a trace.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    /// The TTL probed.
    pub ttl: u8,
    /// One result per probe, in send order.
    pub probes: Vec<HopProbe>,
    /// The route recorded so far (record route option), from the first probe that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_route: Option<Vec<Ipv4Addr>>,
}

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Sent by this host.
    Out,
    /// Received.
    In,
}

/// One frame, with its one-line summary and (when asked) its full dissection.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    /// 1-based position in the run.
    pub index: u64,
    /// When it was captured or sent (absent for frames without a time: hex input, craft).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_us: Option<u64>,
    /// Which way it went, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Its length in bytes (on the wire, for a captured frame).
    pub bytes: usize,
    /// Set when fewer than `bytes` were kept (the capture buffer or a file's snapshot length
    /// cut the frame): the summary and dissection describe only the `captured` bytes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The bytes kept, when the frame was truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured: Option<usize>,
    /// tcpdump-style one-line summary.
    pub summary: String,
    /// The frame's bytes as hex, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// Every field, named (absent unless asked).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub dissection: Option<Dissection>,
}

/// Something the user should know that is not an error.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// What happened, in a sentence.
    pub message: String,
}

/// Interim totals of a long run (blast prints one a second).
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// Time since the run started.
    pub elapsed_us: f64,
    /// Frames sent so far.
    pub sent: u64,
    /// Replies matched so far.
    pub received: u64,
    /// Send rate over the last interval, frames per second.
    pub tx_rate: f64,
    /// Receive rate over the last interval, frames per second.
    pub rx_rate: f64,
    /// Requests not answered so far, in percent of those sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_percent: Option<f64>,
    /// RTT statistics so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_us: Option<RttStats>,
    /// iputils' moving average of the RTT (weight 1/8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ewma_us: Option<f64>,
}

/// RTT statistics, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RttStats {
    /// Smallest.
    pub min: f64,
    /// Mean.
    pub avg: f64,
    /// Largest.
    pub max: f64,
    /// Standard deviation: sqrt(mean(x²) − mean(x)²), iputils' "mdev".
    pub mdev: f64,
    /// Percentiles, when the run kept a histogram (blast).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub percentiles: Option<Percentiles>,
}

/// RTT percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
}

/// The totals at the end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The subcommand.
    pub command: Command,
    /// Wall time of the run.
    pub elapsed_us: f64,
    /// The run was ended by a signal (or its stop handle) before it finished.
    pub interrupted: bool,
    /// The totals, by kind of run.
    #[serde(flatten)]
    pub totals: Totals,
}

/// The counts every kind of run shares, read without matching [`Totals`] (which may grow new
/// kinds). Each is `None` where the run has no such count.
///
/// ```
/// use pktforge::event::{Command, FrameTotals, Summary, Totals};
///
/// let s = Summary {
///     command: Command::Capture,
///     elapsed_us: 1e6,
///     interrupted: false,
///     totals: Totals::Frames(FrameTotals { received: 7, ..FrameTotals::default() }),
/// };
/// assert_eq!(s.received(), Some(7));
/// assert_eq!(s.sent(), Some(0));
/// assert_eq!(s.lost(), None); // a capture sends no requests: nothing to lose
/// assert_eq!(s.rtt_us(), None);
/// ```
impl Summary {
    /// Requests (or frames) sent: every kind; for a reflector, the requests it answered.
    pub fn sent(&self) -> Option<u64> {
        Some(match &self.totals {
            Totals::Probe(t) => t.sent,
            Totals::Trace(t) => t.sent,
            Totals::Frames(t) => t.sent,
            Totals::Blast(b) => b.sent,
            Totals::Reflect(c) => c.answered(),
            Totals::Bench(b) => b.sent,
        })
    }

    /// Distinct requests answered (ping, the ICMP queries, blast), frames received, read or
    /// built (send, capture, decode, craft), frames a reflector read; `None` for a trace
    /// (its hops are in [`Summary::hops`]).
    pub fn received(&self) -> Option<u64> {
        match &self.totals {
            Totals::Probe(t) => Some(t.received),
            Totals::Trace(_) => None,
            Totals::Frames(t) => Some(t.received),
            Totals::Blast(b) => Some(b.received),
            Totals::Reflect(c) => Some(c.frames),
            Totals::Bench(b) => Some(b.received),
        }
    }

    /// Requests never answered (ping, the ICMP queries: sent − received; blast: those whose
    /// wait expired); `None` for the runs that do not send requests to count.
    ///
    /// ```
    /// use pktforge::event::{Command, ProbeTotals, Summary, Totals};
    ///
    /// let ping = Summary {
    ///     command: Command::Ping,
    ///     elapsed_us: 2e6,
    ///     interrupted: false,
    ///     totals: Totals::Probe(ProbeTotals {
    ///         dest: "203.0.113.2".parse().unwrap(),
    ///         sent: 3,
    ///         received: 2,
    ///         duplicates: 0,
    ///         errors: 0,
    ///         loss_percent: 100.0 / 3.0,
    ///         rtt_us: None,
    ///         routers: None,
    ///         active_us: None,
    ///         dropped_by_kernel: 0,
    ///         bad_checksums: 0,
    ///         pipe: 1,
    ///     }),
    /// };
    /// assert_eq!((ping.sent(), ping.received(), ping.lost()), (Some(3), Some(2), Some(1)));
    /// assert_eq!(ping.loss_percent(), Some(100.0 / 3.0));
    /// assert_eq!(ping.duplicates(), Some(0));
    /// assert_eq!(ping.hops(), None);
    /// ```
    pub fn lost(&self) -> Option<u64> {
        match &self.totals {
            Totals::Probe(t) => Some(t.sent.saturating_sub(t.received)),
            Totals::Blast(b) => Some(b.lost),
            _ => None,
        }
    }

    /// Lost in percent of the requests whose fate is known (ping, the ICMP queries, blast).
    pub fn loss_percent(&self) -> Option<f64> {
        match &self.totals {
            Totals::Probe(t) => Some(t.loss_percent),
            Totals::Blast(b) => Some(b.loss_percent),
            _ => None,
        }
    }

    /// Extra answers to requests already answered (ping, the ICMP queries, blast).
    pub fn duplicates(&self) -> Option<u64> {
        match &self.totals {
            Totals::Probe(t) => Some(t.duplicates),
            Totals::Blast(b) => Some(b.duplicates),
            _ => None,
        }
    }

    /// RTT statistics over the first answers (ping, the ICMP queries, blast with
    /// percentiles); `None` for other runs and runs without an answer.
    pub fn rtt_us(&self) -> Option<&RttStats> {
        match &self.totals {
            Totals::Probe(t) => t.rtt_us.as_ref(),
            Totals::Blast(b) => b.rtt_us.as_ref(),
            _ => None,
        }
    }

    /// Frames the kernel dropped before they were read (every kind that reads a socket).
    pub fn dropped_by_kernel(&self) -> Option<u64> {
        match &self.totals {
            Totals::Probe(t) => Some(t.dropped_by_kernel),
            Totals::Frames(t) => Some(t.dropped_by_kernel),
            Totals::Blast(b) => Some(b.kernel_drops),
            _ => None,
        }
    }

    /// Hops a trace reported.
    pub fn hops(&self) -> Option<usize> {
        match &self.totals {
            Totals::Trace(t) => Some(t.hops),
            _ => None,
        }
    }
}

/// The totals of a run, by kind.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Totals {
    /// A request/reply run: ping, the ICMP queries.
    Probe(ProbeTotals),
    /// A trace.
    Trace(TraceTotals),
    /// Frames moved: send, capture, decode, craft.
    Frames(FrameTotals),
    /// A blast.
    Blast(Box<blast::BlastSummary>),
    /// A reflector.
    Reflect(reflect::Counters),
    /// A device benchmark.
    Bench(Box<bench::BenchTotals>),
}

/// The totals of a request/reply run.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeTotals {
    /// The host probed.
    pub dest: Ipv4Addr,
    /// Requests sent.
    pub sent: u64,
    /// Distinct requests answered.
    pub received: u64,
    /// Extra answers to already answered requests.
    pub duplicates: u64,
    /// ICMP errors about our requests.
    pub errors: u64,
    /// Requests not answered, in percent of those sent.
    pub loss_percent: f64,
    /// RTT statistics over the first answers; absent without answers.
    pub rtt_us: Option<RttStats>,
    /// Routers heard (router solicitation only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routers: Option<Vec<Ipv4Addr>>,
    /// From the start to the last request sent or answer received (iputils' `time`: the
    /// final wait for answers that never came is left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_us: Option<f64>,
    /// Frames the kernel dropped before they were read (the receive buffer was full).
    pub dropped_by_kernel: u64,
    /// Answers with a bad IP or ICMP checksum (shown, not counted as received).
    pub bad_checksums: u64,
    /// Most requests in flight when one was answered (iputils' `pipe`).
    pub pipe: u64,
    /// iputils' moving average of the RTTs (each answer moves it 1/8 of the way), shown by
    /// `ping -f` as the `ewma` of `ipg/ewma`; absent without answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ewma_us: Option<f64>,
}

/// How a trace ended.
#[derive(Debug, Clone, Serialize)]
pub struct TraceTotals {
    /// The destination.
    pub dest: Ipv4Addr,
    /// The destination answered.
    pub reached: bool,
    /// An unreachable (or other error) ended it: what it said.
    pub stopped_by: Option<String>,
    /// Hops reported.
    pub hops: usize,
    /// Probes sent.
    pub sent: u64,
}

/// Frames moved by send, capture, decode or craft.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FrameTotals {
    /// Frames sent.
    pub sent: u64,
    /// Frames received (or read, or built).
    pub received: u64,
    /// Frames the kernel dropped before we read them.
    pub dropped_by_kernel: u64,
    /// Frames that did not decode completely.
    pub incomplete: u64,
}

/// The JSON Schema (draft 2020-12) every record's JSON form validates against.
pub const JSON_SCHEMA: &str = include_str!("schema.json");

/// A point in time as whole microseconds since the Unix epoch (0 before it).
pub fn time_us(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// A duration in microseconds, to the nanosecond.
pub fn us(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e3
}

/// The JSON form of a record's IP options, flattened into the record: `options`, their one-line
/// text each; beside it, when they hold them, their addresses and stamps as lists:
/// - `route`: the addresses a record route option recorded (as its text shows them);
/// - `source_route`: a loose or strict source route's whole route (as its text shows it);
/// - `timestamps`: the filled entries of a timestamp option, each `{"timestamp": ms}`
///   (milliseconds since midnight UT, the high bit marking a non-standard value), with
///   `"addr"` when the option records addresses.
///
/// ```text
/// "options":["RR: 192.0.2.2 198.51.100.1 (2 of 9 slots)"],"route":["192.0.2.2","198.51.100.1"]
/// ```
pub fn ser_options_lists<S: serde::Serializer>(
    opts: &[IpOption],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    ser_lists(["options", "route", "source_route", "timestamps"], opts, s)
}

/// [`ser_options_lists`] for the options an ICMP error quotes: `quoted_options`,
/// `quoted_route`, `quoted_source_route`, `quoted_timestamps`.
pub fn ser_quoted_options_lists<S: serde::Serializer>(
    opts: &[IpOption],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    ser_lists(
        [
            "quoted_options",
            "quoted_route",
            "quoted_source_route",
            "quoted_timestamps",
        ],
        opts,
        s,
    )
}

/// The options' text under the first key; the first record route's addresses, source route's
/// and timestamp's entries under the others, each only when there is such an option.
fn ser_lists<S: serde::Serializer>(
    [text, route, source_route, stamps]: [&'static str; 4],
    opts: &[IpOption],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;

    /// One filled timestamp entry.
    #[derive(Serialize)]
    struct Stamp {
        #[serde(skip_serializing_if = "Option::is_none")]
        addr: Option<Ipv4Addr>,
        timestamp: u32,
    }
    let texts: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
    let mut m = s.serialize_map(None)?;
    m.serialize_entry(text, &texts)?;
    if let Some(o) = opts
        .iter()
        .find(|o| matches!(o, IpOption::RecordRoute { .. }))
    {
        m.serialize_entry(route, &o.recorded())?;
    }
    if let Some(r) = opts.iter().find_map(|o| match o {
        IpOption::LooseSourceRoute { route, .. } | IpOption::StrictSourceRoute { route, .. } => {
            Some(route)
        }
        _ => None,
    }) {
        m.serialize_entry(source_route, r)?;
    }
    if let Some(ts) = opts
        .iter()
        .find(|o| matches!(o, IpOption::Timestamp { .. }))
    {
        let list: Vec<Stamp> = ts
            .stamped()
            .into_iter()
            .map(|e| Stamp {
                addr: e.addr,
                timestamp: e.timestamp,
            })
            .collect();
        m.serialize_entry(stamps, &list)?;
    }
    m.end()
}
