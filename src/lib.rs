//! pktforge: hand-crafted Ethernet + IPv4 + ICMP frames sent and captured over AF_PACKET.
//!
//! Data flows one way:
//! CLI → request → [`net`] (interface, route, next-hop MAC) → [`wire`] (build) → [`link`] (send)
//! → [`link`] (receive) → [`wire`] (parse) → [`probe`] (match) → report.

pub mod blast;
pub mod cli;
pub mod craft;
pub mod dissect;
pub mod error;
pub mod filter;
pub mod lab;
pub mod link;
pub mod net;
pub mod probe;
pub mod reflect;
#[cfg(target_os = "linux")]
pub(crate) mod reflect_xdp;
pub mod wire;

pub use error::{Error, Result};
