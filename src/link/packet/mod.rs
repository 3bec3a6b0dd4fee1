//! The packet-socket (`AF_PACKET`) backends: [`pnet::PnetLink`], portable, one syscall per
//! frame; [`fast::FastLink`] (Linux), TPACKET rings, `sendmmsg`, fanout, AF_XDP transmit. Both
//! apply the same receive rules (`rx`); [`loopback`] sends IP on `lo` through a raw socket
//! beside either.

#[cfg(target_os = "linux")]
pub mod fast;
pub mod loopback;
pub mod pnet;
pub(crate) mod rx;
