#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
//! pktforge: hand-crafted Ethernet + IPv4 + ICMP frames, sent on a chosen interface over
//! AF_PACKET (or AF_XDP) and matched with what answers, captured on the same interface.
//!
//! Data flows one way, and so do the modules: each imports only those in its own row or below
//! it, never one above, and the drivers never each other (`tests/layers.rs` checks every
//! `crate::` path against this table):
//!
//! | layer | modules | what they do |
//! | --- | --- | --- |
//! | bench | [`bench`](mod@bench) | RFC 2544 benchmarks: a driver of drivers (each trial a blast) |
//! | drivers | [`probe`] (ping, trace, queries, port probes), [`send`], [`capture`], [`blast`], [`reflect`] | turn a typed request into a run: `run_with(&Stop, on_event) -> Result<Summary>` |
//! | requests | [`craft`], [`lab`] | a hand-crafted frame as a typed request (and the IP options a request asks for); the namespace lab |
//! | session | [`session`] | what every driver opens its run through: resolve, what fits, link, `lo`, next hop (ARP), capture file |
//! | report | [`event`], [`filter`] | the one record stream every run reports; tcpdump's filter language to classic BPF |
//! | link | [`link`] | moving frames (pnet or the Linux fast path, XDP), classic and e-BPF, capture files |
//! | resolve | [`net`] | interfaces, routes and source addresses from the kernel, the neighbour cache |
//! | dissect | [`dissect`] | frames as trees of named fields and tcpdump's one-line form |
//! | base | [`error`], [`Stop`] | typed errors naming the request's [`Field`]; the stop flag |
//! | wire | [`wire`] | zero-copy views for reading, `Repr` values for building (Ethernet, ARP, IPv4 + options, ICMP, UDP, TCP, IPv6 + extension headers, ICMPv6); no I/O |
//!
//! Every driver reports what happens as a stream of [`Event`]s (start, request, reply, ICMP
//! error, hop, frame, summary) to a callback, and returns its [`event::Summary`]; serialized
//! with serde they are the JSON Lines the command-line tool writes, validated by the schema in
//! [`event::JSON_SCHEMA`]. Errors are typed ([`Error`]) and name the request's [`Field`].
//! Nothing in the library prints.
//!
//! # Building and reading frames
//! ```
//! use std::net::Ipv4Addr;
//! use pktforge::wire::*;
//!
//! let eth = EthernetRepr {
//!     dst: MacAddr::broadcast(),
//!     src: MacAddr::zero(),
//!     vlans: VlanStack::EMPTY,
//!     ethertype: ETHERTYPE_IPV4,
//! };
//! let mut ip = Ipv4Repr::new(Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(203, 0, 113, 2), 1);
//! ip.options = vec![IpOption::record_route(9)?];
//! let frame = build_icmp_frame(&eth, &ip, &IcmpRepr::echo_request(1, 1, vec![0; 56]))?;
//!
//! let v4 = Ipv4Packet::new_checked(EthernetFrame::new_checked(&frame[..])?.payload().to_vec())?;
//! assert_eq!(v4.header_len(), 60);
//! assert_eq!(v4.option_iter().next().unwrap().unwrap().option_type(), 7);
//! # Ok::<(), WireError>(())
//! ```
//!
//! # Probing
//! ```no_run
//! use pktforge::{craft::options::SourceRoute, probe::ping::PingRequest};
//!
//! let mut ping = PingRequest::new("203.0.113.2".parse()?);
//! ping.count = Some(3);
//! ping.target.options.source_route = Some(SourceRoute::Loose(vec!["198.51.100.2".parse()?]));
//! for reply in ping.run()?.replies {
//!     println!("{} bytes from {}: rtt {:.1} us {:?}", reply.bytes, reply.from, reply.rtt_us, reply.options);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//! Sending needs CAP_NET_RAW. The library asks the kernel of the calling thread's network
//! namespace, so a thread that entered a namespace (`setns`) probes from there.
//!
//! More in `examples/`: `rr_echo_frame` (build and dissect), `parse_options` (a captured
//! frame's options through the views), `ping_lsrr` (a ping from code, each reply a struct) and
//! `blast_summary` (a short blast and its summary); [`lab::Lab`] builds a network of Linux
//! routers in namespaces to run them in.
//!
//! # Cargo features
//! - `cli` (default): the command-line tool (clap, ctrlc, serde_json); turns on `pcap-filter`.
//! - `pcap-filter`: filter expressions in tcpdump's language, compiled by libpcap
//!   (`filter::Filter::compile`, and through it capture, `send` and capture-file filters).
//!   It links libpcap (Debian: `libpcap-dev` to build).
//!
//! With `default-features = false` the library needs no libpcap, at build time or at run
//! time: everything else works, a capture takes every frame or a [`filter::Filter`] of your own
//! BPF instructions, and a filter expression (a capture file's) is refused with the reason.

pub mod bench;
pub mod blast;
pub mod capture;
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
pub mod send;
pub mod session;
mod stop;
pub mod wire;

pub use error::{Error, Field, Result};
pub use event::Event;
pub use stop::Stop;
