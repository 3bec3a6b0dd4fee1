#![warn(missing_docs)]
//! pktforge: hand-crafted Ethernet + IPv4 + ICMP frames sent and captured over AF_PACKET.
//!
//! Data flows one way:
//! CLI → request → [`net`] (interface, route, next-hop MAC) → [`wire`] (build) → [`link`] (send)
//! → [`link`] (receive) → [`wire`] (parse) → [`probe`] (match) → report.

pub mod blast;
pub mod craft;
pub mod dissect;
pub mod error;
pub mod event;
pub mod filter;
pub mod lab;
pub mod link;
pub mod net;
pub mod probe;
pub mod reflect;
#[cfg(target_os = "linux")]
pub(crate) mod reflect_xdp;
mod stop;
#[cfg(test)]
pub(crate) mod testns;
pub mod wire;

pub use error::{Error, Field, Result};
pub use event::Event;
pub use stop::Stop;
