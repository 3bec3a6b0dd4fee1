//! The crate-wide error type: every failure carries enough context to be shown as is.
//!
//! Errors about a request name the request's [`Field`], never a command-line flag: the command
//! line renders them with its own flag names through [`Error::render`].

use std::fmt;
use std::net::Ipv4Addr;

use crate::wire::WireError;

/// A field of a request that an error is about. Its [`name`](Field::name) is a plain word; a
/// front end (the command line) may show its own name for it instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// Number of requests.
    Count,
    /// Time between requests.
    Interval,
    /// ICMP data bytes after the header.
    DataSize,
    /// Bytes repeated to fill the data.
    Pattern,
    /// IP time to live.
    Ttl,
    /// IP version field.
    IpVersion,
    /// IP TOS byte.
    Tos,
    /// How long each request waits for its answer.
    Timeout,
    /// How long the whole run may take.
    Deadline,
    /// First TTL of a trace.
    FirstTtl,
    /// Last TTL of a trace.
    MaxTtl,
    /// Probes per hop of a trace.
    ProbesPerHop,
    /// Probes in flight at once.
    InFlight,
    /// ICMP identifier.
    Id,
    /// A loose source route.
    LooseSourceRoute,
    /// A strict source route.
    StrictSourceRoute,
    /// Raw IP option bytes.
    IpOption,
    /// The timestamp option's mode.
    Timestamp,
    /// Source MAC address.
    SrcMac,
    /// Destination MAC address.
    DstMac,
    /// Source IPv4 address.
    Src,
    /// Interface.
    Iface,
    /// How long to wait for an ARP reply.
    ArpTimeout,
    /// Frames per second.
    Rate,
    /// How long a run sends.
    Duration,
    /// Sending threads.
    Threads,
    /// Frames per send call.
    Batch,
    /// Which link backend moves frames.
    Backend,
    /// Address (and prefix) a responder answers for.
    ResponderAddress,
    /// Address mask a responder announces.
    Mask,
    /// Replies per second a responder may send.
    RateLimit,
    /// A capture filter expression.
    Filter,
    /// Sending past the MTU on purpose.
    Force,
    /// Raw frame or hex input.
    Input,
    /// A network-namespace prefix.
    LabPrefix,
    /// A UDP or TCP port.
    Port,
    /// Which transport probes use (UDP, TCP, ICMP).
    Transport,
    /// Permission to probe a broadcast address.
    Broadcast,
    /// Requests sent at once before the schedule starts.
    Preload,
    /// Data bytes per hand-made fragment.
    Fragment,
    /// Bytes hand-made fragments overlap.
    FragmentOverlap,
    /// The VLAN tag stack frames carry.
    Vlan,
    /// The destination address (and its scope).
    Destination,
    /// A benchmark's frame size (with FCS).
    FrameSize,
    /// A benchmark's loss bound, percent.
    LossBound,
    /// A benchmark trial's length.
    Trial,
    /// A benchmark search's resolution.
    Precision,
    /// A benchmark's starting (maximum) rate.
    MaxRate,
}

impl Field {
    /// The field's plain name, as the library's own messages use it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Count => "count",
            Field::Interval => "interval",
            Field::DataSize => "data size",
            Field::Pattern => "pattern",
            Field::Ttl => "TTL",
            Field::IpVersion => "IP version",
            Field::Tos => "TOS",
            Field::Timeout => "timeout",
            Field::Deadline => "deadline",
            Field::FirstTtl => "first TTL",
            Field::MaxTtl => "max TTL",
            Field::ProbesPerHop => "probes per hop",
            Field::InFlight => "probes in flight",
            Field::Id => "identifier",
            Field::LooseSourceRoute => "loose source route",
            Field::StrictSourceRoute => "strict source route",
            Field::IpOption => "IP option",
            Field::Timestamp => "timestamp option",
            Field::SrcMac => "source MAC",
            Field::DstMac => "destination MAC",
            Field::Src => "source address",
            Field::Iface => "interface",
            Field::ArpTimeout => "ARP timeout",
            Field::Rate => "rate",
            Field::Duration => "duration",
            Field::Threads => "threads",
            Field::Batch => "batch",
            Field::Backend => "backend",
            Field::ResponderAddress => "responder address",
            Field::Mask => "mask",
            Field::RateLimit => "rate limit",
            Field::Filter => "filter",
            Field::Force => "force",
            Field::Input => "input",
            Field::LabPrefix => "lab prefix",
            Field::Port => "port",
            Field::Transport => "transport",
            Field::Broadcast => "broadcast permission",
            Field::Preload => "preload",
            Field::Fragment => "fragment size",
            Field::FragmentOverlap => "fragment overlap",
            Field::Vlan => "VLAN tags",
            Field::Destination => "destination",
            Field::FrameSize => "frame size",
            Field::LossBound => "loss bound",
            Field::Trial => "trial length",
            Field::Precision => "precision",
            Field::MaxRate => "max rate",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every error pktforge reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A frame or option could not be built or parsed.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The request cannot work, for a reason that is about no single field.
    #[error("{0}")]
    Invalid(String),
    /// A field of the request holds a value that cannot work.
    #[error("{}", self.render(&|f| f.name()))]
    InvalidValue {
        /// The field.
        field: Field,
        /// Why, in words that follow the field's name ("must be at least 1").
        reason: String,
    },
    /// A field's value is beyond what another field allows.
    #[error("{}", self.render(&|f| f.name()))]
    Beyond {
        /// The field.
        field: Field,
        /// Its value.
        value: String,
        /// The field that limits it.
        limit: Field,
        /// That field's value.
        limit_value: String,
        /// The rule broken.
        rule: String,
    },
    /// A field needs another field set (or set differently).
    #[error("{}", self.render(&|f| f.name()))]
    Needs {
        /// The field.
        field: Field,
        /// What it needs, in words that follow "needs".
        needs: String,
        /// The field that must change.
        other: Field,
        /// Why.
        why: String,
    },
    /// One of two fields must be given.
    #[error("{}", self.render(&|f| f.name()))]
    NeedsOneOf {
        /// One.
        first: Field,
        /// The other.
        second: Field,
        /// Why.
        why: String,
    },
    /// The datagram asked for does not fit the path (MTU or the IPv4 limit).
    #[error("{}", self.render(&|f| f.name()))]
    TooLarge {
        /// The field that sets the size (data size).
        field: Field,
        /// Its value.
        value: usize,
        /// Bytes of the IP datagram it makes.
        ip_bytes: usize,
        /// Bytes of IP options in it.
        option_bytes: usize,
        /// Bytes of the transport header (8 for ICMP).
        header_bytes: usize,
        /// The largest datagram allowed.
        limit: usize,
        /// What sets the limit ("the MTU of a-r1", "IPv4").
        limited_by: String,
        /// The largest value of `field` that fits.
        largest: usize,
    },
    /// A frame is larger than the interface's MTU (and sending it anyway was not asked).
    #[error("{}", self.render(&|f| f.name()))]
    OverMtu {
        /// The frame's length.
        frame_bytes: usize,
        /// Its length after the Ethernet header.
        l3_bytes: usize,
        /// The MTU.
        mtu: u32,
        /// The interface.
        iface: String,
    },
    /// Something the request needs is not available here (a backend, a kernel feature, a
    /// driver's support); `needs` says what would make it work.
    #[error("{what}: {needs}")]
    Unsupported {
        /// What was asked for ("XDP live frames", "the XDP reflector on b-r2").
        what: String,
        /// Why it cannot run here and what it needs.
        needs: String,
    },
    /// An address the kernel of this namespace owns already, asked for where only an address
    /// it does not own works (the kernel would answer too).
    #[error(
        "{addr} is already an address of {iface} in this namespace: the kernel would answer \
         too (pick an address the kernel does not own)"
    )]
    AddressInUse {
        /// The address.
        addr: Ipv4Addr,
        /// The interface that has it.
        iface: String,
    },
    /// The interface has no Ethernet address, and the run needs one (to answer ARP, say).
    #[error("{iface} has no Ethernet address: {why}")]
    NoLinkAddress {
        /// The interface.
        iface: String,
        /// What needs it.
        why: String,
    },
    /// Cutting a datagram into fragments failed (not IPv4, Don't Fragment, an MTU too small).
    #[error("fragmenting: {0}")]
    Fragmenting(#[from] crate::wire::frag::FragError),
    /// A filter expression was refused (by libpcap's compiler, or by a bound of ours).
    #[error("filter {expression:?}: {reason}")]
    Filter {
        /// The expression as given.
        expression: String,
        /// libpcap's message, or the bound it exceeds.
        reason: String,
    },
    /// A capture file could not be read as one (not pcap or pcapng, a broken record).
    #[error("{file}: {what}{}", offset.map(|o| format!(" (at byte offset {o})")).unwrap_or_default())]
    CaptureFile {
        /// The file's name as given.
        file: String,
        /// Where in the file, when it is about one place.
        offset: Option<u64>,
        /// What is wrong.
        what: String,
    },
    /// A frame does not fit where it must go (a TX ring slot, an XDP frame, a send buffer).
    #[error("a {bytes}-byte frame does not fit {place} ({limit} bytes at most)")]
    FrameDoesNotFit {
        /// The frame's length.
        bytes: usize,
        /// Where it had to fit.
        place: String,
        /// The most that fits there.
        limit: usize,
    },
    /// The transmit ring stayed full: the interface is not taking frames (try again, or
    /// slower).
    #[error("the TX ring on {iface} {how}")]
    TxRingFull {
        /// The interface.
        iface: String,
        /// "is full", "stayed full for 1 s".
        how: String,
    },
    /// The named interface does not exist.
    #[error("interface {name:?} not found (available: {available})")]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The interfaces there are.
        available: String,
    },
    /// The kernel has no route to the destination.
    #[error("no route to {dst}: {detail}")]
    NoRoute {
        /// The destination.
        dst: std::net::IpAddr,
        /// The kernel's reason.
        detail: String,
    },
    /// Nobody answered our ARP request for the next hop.
    #[error("no ARP reply for {target} on {iface} within {timeout_ms} ms (is the next hop up and on that link?)")]
    ArpTimeout {
        /// The address asked for.
        target: Ipv4Addr,
        /// The interface asked on.
        iface: String,
        /// How long we waited.
        timeout_ms: u64,
    },
    /// Nobody answered our Neighbor Solicitations for the next hop.
    #[error("no Neighbor Advertisement for {target} on {iface} within {timeout_ms} ms (is the next hop up and on that link?)")]
    NdpTimeout {
        /// The address asked for.
        target: std::net::Ipv6Addr,
        /// The interface asked on.
        iface: String,
        /// How long we waited.
        timeout_ms: u64,
    },
    /// Opening a packet socket was refused: CAP_NET_RAW missing.
    #[error(
        "permission denied opening a packet socket on {iface}: pktforge needs CAP_NET_RAW \
         (run as root, or grant it once: sudo setcap cap_net_raw,cap_net_admin+ep {exe})"
    )]
    NoPermission {
        /// The interface.
        iface: String,
        /// This program's path, for the setcap hint.
        exe: String,
    },
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wrap an I/O error with what we were doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A field holds a value that cannot work; `reason` follows the field's name.
    pub fn invalid(field: Field, reason: impl Into<String>) -> Self {
        Error::InvalidValue {
            field,
            reason: reason.into(),
        }
    }

    /// The field this error is about, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            Error::InvalidValue { field, .. }
            | Error::Beyond { field, .. }
            | Error::Needs { field, .. }
            | Error::NeedsOneOf { first: field, .. }
            | Error::TooLarge { field, .. } => Some(*field),
            _ => None,
        }
    }

    /// The message with every field shown by `name` (the library's own [`Display`](fmt::Display)
    /// uses [`Field::name`]; a command line passes its flag names).
    pub fn render(&self, name: &dyn Fn(Field) -> &'static str) -> String {
        match self {
            Error::InvalidValue { field, reason } => format!("{} {reason}", name(*field)),
            Error::Beyond {
                field,
                value,
                limit,
                limit_value,
                rule,
            } => format!(
                "{} {value} is beyond {} {limit_value}: {rule}",
                name(*field),
                name(*limit)
            ),
            Error::Needs {
                field,
                needs,
                other,
                why,
            } => format!("{} needs {} {needs}{why}", name(*field), name(*other)),
            Error::NeedsOneOf { first, second, why } => format!(
                "give {} or {} (or both): {why}",
                name(*first),
                name(*second)
            ),
            Error::TooLarge {
                field,
                value,
                ip_bytes,
                option_bytes,
                header_bytes,
                limit,
                limited_by,
                largest,
            } => {
                let n = name(*field);
                format!(
                    "{n} {value} makes a {ip_bytes}-byte IP packet (20 header + {option_bytes} \
                     options + {header_bytes} header + {value} data) but {limited_by} allows \
                     {limit}: the largest {n} here is {largest}"
                )
            }
            Error::OverMtu {
                frame_bytes,
                l3_bytes,
                mtu,
                iface,
            } => format!(
                "the frame is {frame_bytes} bytes: {l3_bytes} after the Ethernet header, over the \
                 MTU {mtu} of {iface}; {} sends it anyway",
                name(Field::Force)
            ),
            other => other.to_string(),
        }
    }
}
