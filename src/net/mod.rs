//! Which interface, which source address, which next hop, which MAC.
//!
//! Everything here asks the kernel of the *calling thread's* network namespace
//! (netlink sockets, ioctls and `/proc/thread-self`), so it also works from a
//! thread that entered another namespace with `setns`.

pub mod iface;
pub mod loopback;
pub mod neigh;
pub mod resolve;
pub mod route;

pub use iface::Interface;
pub use route::Route;
