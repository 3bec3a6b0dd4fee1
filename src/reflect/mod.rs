//! `reflect`: a user-space ICMP responder on L2 for an address the kernel does not own, so two
//! pktforge hosts can load a path without the kernel's ICMP code in the loop.

mod responder;
#[cfg(target_os = "linux")]
mod xdp;

pub use responder::*;
