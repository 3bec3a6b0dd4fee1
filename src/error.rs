//! The crate-wide error type: every failure carries enough context to be printed as is.

use std::net::Ipv4Addr;

use crate::wire::WireError;

/// Every error pktforge reports to a user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A frame or option could not be built or parsed.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The request itself is impossible or malformed (bad flag value, over a limit).
    #[error("{0}")]
    Invalid(String),
    /// The named interface does not exist.
    #[error("interface {name:?} not found (available: {available})")]
    NoSuchInterface { name: String, available: String },
    /// The kernel has no route to the destination.
    #[error("no route to {dst}: {detail}")]
    NoRoute { dst: Ipv4Addr, detail: String },
    /// Nobody answered our ARP request for the next hop.
    #[error("no ARP reply for {target} on {iface} within {timeout_ms} ms (is the next hop up and on that link?)")]
    ArpTimeout {
        target: Ipv4Addr,
        iface: String,
        timeout_ms: u64,
    },
    /// Opening a packet socket was refused: CAP_NET_RAW missing.
    #[error(
        "permission denied opening a packet socket on {iface}: pktforge needs CAP_NET_RAW \
         (run as root, or grant it once: sudo setcap cap_net_raw,cap_net_admin+ep {exe})"
    )]
    NoPermission { iface: String, exe: String },
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
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
}
