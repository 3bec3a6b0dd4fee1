//! Opening a run: the one place every driver turns its target into an open link.
//!
//! A driver (ping, trace, the queries, probe, send, capture, blast, reflect) describes what it
//! needs in a [`SessionRequest`] — toward an address the kernel routes, or onto a named
//! interface; the link's filter and backend; whether the next hop's MAC must be known; how
//! frames leave on `lo`; a capture file — and [`Session::open`] does the rest in one order:
//!
//! 1. resolve: interface, source address and next hop from the kernel's routes
//!    ([`crate::net::resolve`]), or the named interface;
//! 2. open the link ([`crate::link::open_backend`]; with [`SessionRequest::fast`], the fast
//!    link itself, typed, for a driver that drives its batch API: [`Session::fast_link`]);
//! 3. `lo`, one way: frames a raw IP socket carries unchanged leave through one and no setting
//!    is touched ([`Loopback::RawSocket`]); frames it would alter need `lo`'s sysctls, set for
//!    the run and put back after ([`Loopback::Sysctls`], [`LoopbackGuard`]);
//! 4. complete the next hop through [`Neighbours`] (ARP for IPv4): the request's MAC, the
//!    kernel's neighbour cache, or a solicitation on the wire; or go on unresolved and ask
//!    again with each frame ([`NextHop::Lazy`], as the kernel does for ping);
//! 5. open the capture file, if any, for every frame sent and received.
//!
//! What fits the link (the MTU, IPv4's 65,535 bytes, VLAN tags) is checked with [`fits`]
//! before the session is opened ([`plan`], then [`Session::open_planned`]).
//!
//! IPv6 takes the same steps ([`plan6`], [`Session::open_planned6`]): the kernel's IPv6 route and
//! source selection, link-local destinations on their scope's interface, and NDP ([`Ndp`]) for
//! the next hop; the session's path is then [`Session::path6`].
//!
//! An address family is added here and in [`crate::wire`], never in each driver.

pub mod fits;
mod ndp;
pub mod neighbour;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

pub use fits::{check_fits, check_fits6, check_fits_tagged};
pub use ndp::{advertised_mac, complete6, solicitation, unresolved6, Ndp, Path6, NDP_HOP_LIMIT};
use neighbour::{Arp, Neighbours};

use crate::error::Field;
use crate::link::capfile::{Packet, PcapFormat, PcapWriter, LINKTYPE_ETHERNET};
#[cfg(target_os = "linux")]
use crate::link::packet::fast::{FastLink, FastOptions};
use crate::link::{self, Backend, Link, LinkConfig, RxFrame};
use crate::net::loopback::LoopbackGuard;
use crate::net::resolve::{self, PathRequest, Plan, Plan6};
use crate::net::{iface, Interface};
use crate::wire::{MacAddr, VlanStack};
use crate::{Error, Result};

/// A complete path: everything needed to build the Ethernet + IPv4 headers.
#[derive(Debug, Clone)]
pub struct Path {
    /// Interface, addresses and next hop.
    pub plan: Plan,
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination (next hop's MAC).
    pub dst_mac: MacAddr,
    /// VLAN tags every frame of the path carries (and every frame taken from it), outermost
    /// first.
    pub vlans: VlanStack,
}

/// Where a run's frames go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toward {
    /// An IP destination (on the wire: for a source route, its first hop), reached as the
    /// kernel routes it; the request's [`PathRequest`] may override the interface, source and
    /// MACs.
    Address(IpAddr),
    /// Onto a named interface, no route: capture, reflect, replayed frames.
    Interface(String),
}

/// Whether the next hop's MAC must be known before the run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NextHop {
    /// Resolve it now (overrides, neighbour cache, then a solicitation), or refuse the run
    /// when nothing answers within the request's `arp_timeout`.
    #[default]
    Resolve,
    /// Go on when nothing answers: frames go to the broadcast address, and
    /// [`Session::neighbour_request`] is the solicitation to send again with each frame until
    /// [`Session::learn_neighbour`] sees the answer.
    Lazy,
    /// Not needed (capture, reflect: frames are answers or none are sent).
    Skip,
}

/// How frames leave on `lo`, where a packet socket's frames are routed as if they came from
/// outside (and dropped as martians without `accept_local` and `route_localnet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loopback {
    /// Through a raw IP socket: no setting changed; only well-formed IPv4 frames
    /// ([`link::packet::loopback::raw_sendable`]).
    #[default]
    RawSocket,
    /// Through the packet socket, with `lo`'s two sysctls on for the run (root only; put back
    /// when the session ends, journaled against SIGKILL).
    Sysctls,
    /// Through the packet socket, nothing changed (frames that only need to reach the taps).
    AsIs,
}

/// The capture file every frame a session sends and receives is recorded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Its path.
    pub path: PathBuf,
    /// pcap or pcapng (by default by the name's ending).
    pub format: PcapFormat,
}

/// What a driver needs opened.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    /// Where frames go.
    pub toward: Toward,
    /// Overrides of the routed path (interface, source, MACs, VLAN stack, ARP wait).
    pub path: PathRequest,
    /// Which link implementation moves the frames.
    pub backend: Backend,
    /// The link's receive filter, buffer, direction.
    pub link: LinkConfig,
    /// Whether the next hop's MAC must be known.
    pub next_hop: NextHop,
    /// How frames leave on `lo`.
    pub loopback: Loopback,
    /// Write every frame sent and received here.
    pub recording: Option<Recording>,
    /// The fast backend's options beyond [`LinkConfig`] (how it transmits, its TX slot size,
    /// its AF_XDP queue, the packet taps): None opens it with its defaults for the
    /// interface's MTU. With them, the session keeps the fast link typed
    /// ([`Session::fast_link`]) unless `lo` wraps it in a raw socket.
    #[cfg(target_os = "linux")]
    pub fast: Option<FastOptions>,
}

impl SessionRequest {
    /// Toward `dst` as routed, with the default link, the next hop resolved now, raw IP on `lo`.
    pub fn toward(dst: IpAddr) -> Self {
        SessionRequest {
            toward: Toward::Address(dst),
            path: PathRequest::default(),
            backend: Backend::default(),
            link: LinkConfig::default(),
            next_hop: NextHop::Resolve,
            loopback: Loopback::RawSocket,
            recording: None,
            #[cfg(target_os = "linux")]
            fast: None,
        }
    }

    /// Onto interface `name`, no route and no next hop.
    pub fn on_interface(name: impl Into<String>) -> Self {
        SessionRequest {
            toward: Toward::Interface(name.into()),
            next_hop: NextHop::Skip,
            loopback: Loopback::AsIs,
            ..SessionRequest::toward(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
        }
    }
}

/// The session's link: boxed, or the fast link itself when the driver asked for its options.
enum OpenLink {
    Boxed(Box<dyn Link>),
    #[cfg(target_os = "linux")]
    Fast(Box<FastLink>),
}

impl OpenLink {
    fn as_dyn(&mut self) -> &mut dyn Link {
        match self {
            OpenLink::Boxed(l) => l.as_mut(),
            #[cfg(target_os = "linux")]
            OpenLink::Fast(l) => l.as_mut(),
        }
    }

    fn boxed(self) -> Box<dyn Link> {
        match self {
            OpenLink::Boxed(l) => l,
            #[cfg(target_os = "linux")]
            OpenLink::Fast(l) => l,
        }
    }
}

/// Open `req`'s link on `ifc`: typed when the request carries the fast backend's options.
fn open_link(req: &SessionRequest, ifc: &Interface) -> Result<OpenLink> {
    #[cfg(target_os = "linux")]
    if let (Backend::Fast, Some(opts)) = (req.backend, req.fast) {
        return Ok(OpenLink::Fast(Box::new(FastLink::open(
            ifc, &req.link, opts,
        )?)));
    }
    Ok(OpenLink::Boxed(link::open_backend(
        req.backend,
        ifc,
        &req.link,
    )?))
}

/// An open run: the interface, the resolved path, the link and the capture file.
pub struct Session {
    iface: Interface,
    path: Option<Path>,
    path6: Option<Path6>,
    link: OpenLink,
    capture: Option<PcapWriter>,
    unresolved: Option<Vec<u8>>,
    neighbours: Arp,
    notices: Vec<String>,
    // Last, so that the link is closed before lo's settings are put back.
    _lo: Option<LoopbackGuard>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("iface", &self.iface.name)
            .field("path", &self.path)
            .field("path6", &self.path6)
            .field("capture", &self.capture.is_some())
            .field("unresolved", &self.unresolved.is_some())
            .finish()
    }
}

/// Where `req` goes, without opening anything: the interface, and for an address the route.
pub fn plan(req: &SessionRequest) -> Result<(Interface, Option<Plan>)> {
    match &req.toward {
        Toward::Interface(name) => Ok((iface::by_name(name)?, None)),
        Toward::Address(IpAddr::V4(dst)) => {
            let plan = resolve::plan(&PathRequest {
                dst: Some(*dst),
                ..req.path.clone()
            })?;
            Ok((plan.iface.clone(), Some(plan)))
        }
        Toward::Address(IpAddr::V6(dst)) => Err(Error::invalid(
            Field::IpVersion,
            format!("{dst}: an IPv6 destination is planned with session::plan6"),
        )),
    }
}

/// Where `req` goes toward an IPv6 address, without opening anything: the kernel's route and
/// source selection ([`resolve::plan6`]); a link-local destination goes out of `req.path.iface`
/// (its scope).
pub fn plan6(req: &SessionRequest) -> Result<(Interface, Plan6)> {
    match &req.toward {
        Toward::Address(IpAddr::V6(dst)) => {
            let plan = resolve::plan6(*dst, &req.path)?;
            Ok((plan.iface.clone(), plan))
        }
        other => Err(Error::invalid(
            Field::IpVersion,
            format!("{other:?} is not an IPv6 destination"),
        )),
    }
}

/// The IPv6 counterpart of an IPv4 receive filter: ICMPv6 (NDP, errors) and the same upper
/// layer; `All` and hand-written programs as they are.
fn filter6(f: &link::RxFilter) -> link::RxFilter {
    use crate::wire::IP_PROTO_ICMPV6;
    use link::RxFilter::*;
    match f {
        ArpAndIcmp | ArpAndIcmpTo(_) => Icmp6And(IP_PROTO_ICMPV6),
        ArpIcmpAnd(p) => Icmp6And(*p),
        other => other.clone(),
    }
}

impl Session {
    /// Resolve, open the link, set up `lo`, complete the next hop and open the capture file.
    /// Nothing is sent here except neighbour solicitations.
    pub fn open(req: &SessionRequest) -> Result<Session> {
        if let Toward::Address(IpAddr::V6(_)) = req.toward {
            let (ifc, plan) = plan6(req)?;
            return Session::open_planned6(req, ifc, plan);
        }
        let (ifc, plan) = plan(req)?;
        Session::open_planned(req, ifc, plan)
    }

    /// [`open`](Self::open) toward an IPv6 address, for a plan made already: the link's IPv4
    /// filter becomes its IPv6 counterpart (ICMPv6 for NDP and errors, and the same upper
    /// layer); the capture file is opened first and records the NDP exchange. On `lo` frames
    /// go through the packet socket as they are: the kernel takes IPv6 from it without IPv4's
    /// `lo` sysctls ([`Loopback::Sysctls`] still sets them when asked).
    pub fn open_planned6(req: &SessionRequest, ifc: Interface, plan: Plan6) -> Result<Session> {
        let cfg = LinkConfig {
            filter: filter6(&req.link.filter),
            ..req.link.clone()
        };
        let mut link = link::open_backend(req.backend, &ifc, &cfg)?;
        let mut lo = None;
        if ifc.is_loopback && req.loopback == Loopback::Sysctls {
            lo = Some(LoopbackGuard::enable()?);
        }
        let mut capture = open_capture(req, &ifc)?;
        let mut unresolved = None;
        let path6 = match req.next_hop {
            NextHop::Skip => unresolved6(plan, &req.path),
            NextHop::Resolve => complete6(plan, &req.path, link.as_mut(), capture.as_mut())?,
            NextHop::Lazy => {
                let quick = PathRequest {
                    arp_timeout: Duration::ZERO,
                    ..req.path.clone()
                };
                match complete6(plan.clone(), &quick, link.as_mut(), None) {
                    Ok(p) => p,
                    Err(Error::NdpTimeout { .. }) => {
                        let p = unresolved6(plan, &req.path);
                        unresolved = Some(Ndp.solicitation(&p));
                        p
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        Ok(Session {
            iface: ifc,
            path: None,
            path6: Some(path6),
            link: OpenLink::Boxed(link),
            capture,
            unresolved,
            neighbours: Arp,
            notices: Vec::new(),
            _lo: lo,
        })
    }

    /// [`open`](Self::open) for a plan made already (a driver that checked what fits first).
    pub fn open_planned(
        req: &SessionRequest,
        ifc: Interface,
        plan: Option<Plan>,
    ) -> Result<Session> {
        let mut link = open_link(req, &ifc)?;
        let mut lo = None;
        if ifc.is_loopback {
            match req.loopback {
                Loopback::RawSocket => {
                    link = OpenLink::Boxed(Box::new(link::packet::loopback::LoopbackLink::new(
                        link.boxed(),
                    )?));
                }
                Loopback::Sysctls => lo = Some(LoopbackGuard::enable()?),
                Loopback::AsIs => {}
            }
        }
        let neighbours = Arp;
        let mut unresolved = None;
        let path = match plan {
            None => None,
            Some(plan) => Some(match req.next_hop {
                NextHop::Skip => neighbour::unresolved(plan, &req.path),
                NextHop::Resolve => neighbour::complete(plan, &req.path, link.as_dyn())?,
                NextHop::Lazy => {
                    let quick = PathRequest {
                        arp_timeout: Duration::ZERO,
                        ..req.path.clone()
                    };
                    match neighbour::complete(plan.clone(), &quick, link.as_dyn()) {
                        Ok(p) => p,
                        Err(Error::ArpTimeout { .. }) => {
                            let p = neighbour::unresolved(plan, &req.path);
                            unresolved = Some(neighbours.solicitation(&p));
                            p
                        }
                        Err(e) => return Err(e),
                    }
                }
            }),
        };
        let capture = open_capture(req, &ifc)?;
        Ok(Session {
            iface: ifc,
            path,
            path6: None,
            link,
            capture,
            unresolved,
            neighbours,
            notices: Vec::new(),
            _lo: lo,
        })
    }

    /// The interface frames go out of.
    pub fn iface(&self) -> &Interface {
        &self.iface
    }

    /// The resolved path (toward an address only).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_ref()
    }

    /// The resolved IPv6 path (toward an IPv6 address only).
    pub fn path6(&self) -> Option<&Path6> {
        self.path6.as_ref()
    }

    /// The link, for drivers that move frames themselves.
    pub fn link(&mut self) -> &mut dyn Link {
        self.link.as_dyn()
    }

    /// The fast link itself, for a driver that drives its batch API: when the request carried
    /// [`SessionRequest::fast`] (and `lo` did not wrap the link in a raw socket).
    #[cfg(target_os = "linux")]
    pub fn fast_link(&mut self) -> Option<&mut FastLink> {
        match &mut self.link {
            OpenLink::Fast(l) => Some(l.as_mut()),
            OpenLink::Boxed(_) => None,
        }
    }

    /// Send one frame and write it to the capture file; returns the clock read just before
    /// the send call.
    pub fn send(&mut self, frame: &[u8]) -> Result<SystemTime> {
        let at = SystemTime::now();
        self.link.as_dyn().send(frame)?;
        if let Some(c) = self.capture.as_mut() {
            c.write(at, frame)?;
        }
        Ok(at)
    }

    /// The next frame until `deadline`, written to the capture file as received (its length
    /// on the wire and its direction kept).
    pub fn recv(&mut self, deadline: Instant) -> Result<Option<RxFrame<'_>>> {
        let frame = self.link.as_dyn().recv(deadline)?;
        if let (Some(f), Some(c)) = (&frame, self.capture.as_mut()) {
            c.write_packet(&Packet {
                timestamp: f.timestamp,
                data: f.data,
                wire_len: f.wire_len,
                linktype: LINKTYPE_ETHERNET,
                outgoing: Some(f.outgoing),
            })?;
        }
        Ok(frame)
    }

    /// Write a frame to the capture file (one the driver moved itself).
    pub fn record(&mut self, at: SystemTime, frame: &[u8]) -> Result<()> {
        match self.capture.as_mut() {
            Some(c) => c.write(at, frame),
            None => Ok(()),
        }
    }

    /// Write a record with its length on the wire and direction to the capture file.
    pub fn record_packet(&mut self, packet: &Packet<'_>) -> Result<()> {
        match self.capture.as_mut() {
            Some(c) => c.write_packet(packet),
            None => Ok(()),
        }
    }

    /// Whether frames are written to a capture file.
    pub fn records(&self) -> bool {
        self.capture.is_some()
    }

    /// While the next hop is unknown ([`NextHop::Lazy`]): the solicitation to send again.
    pub fn neighbour_request(&self) -> Option<&[u8]> {
        self.unresolved.as_deref()
    }

    /// Complete the path when `frame` answers the pending solicitation; true when it did.
    pub fn learn_neighbour(&mut self, frame: &[u8]) -> bool {
        if self.unresolved.is_none() {
            return false;
        }
        if let Some(path) = self.path6.as_mut() {
            return match Ndp.answer(path, frame) {
                Some(mac) => {
                    path.dst_mac = mac;
                    self.unresolved = None;
                    true
                }
                None => false,
            };
        }
        let Some(path) = self.path.as_mut() else {
            return false;
        };
        match self.neighbours.answer(path, frame) {
            Some(mac) => {
                path.dst_mac = mac;
                self.unresolved = None;
                true
            }
            None => false,
        }
    }

    /// Open one more link on the session's interface (a second sender thread's queue).
    pub fn open_another(&self, backend: Backend, cfg: &LinkConfig) -> Result<Box<dyn Link>> {
        link::open_backend(backend, &self.iface, cfg)
    }

    /// Open one more fast link on the session's interface, typed (a second sender thread's
    /// TX queue: `opts.queue`).
    #[cfg(target_os = "linux")]
    pub fn open_another_fast(&self, cfg: &LinkConfig, opts: FastOptions) -> Result<FastLink> {
        FastLink::open(&self.iface, cfg, opts)
    }

    /// Something the user should know about this session; taken once.
    pub fn notice(&mut self, message: impl Into<String>) {
        self.notices.push(message.into());
    }

    /// The notices so far, taken.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// What `lo`'s guard changed for this run (empty when nothing).
    pub fn settings_changed(&self) -> Vec<String> {
        self._lo.as_ref().map(|g| g.changed()).unwrap_or_default()
    }

    /// Flush the capture file.
    pub fn flush(&mut self) -> Result<()> {
        match self.capture.as_mut() {
            Some(c) => c.flush(),
            None => Ok(()),
        }
    }
}

/// The capture file `req` asks for, opened.
fn open_capture(req: &SessionRequest, ifc: &Interface) -> Result<Option<PcapWriter>> {
    match &req.recording {
        Some(c) => Ok(Some(PcapWriter::create_as(
            &c.path,
            c.format,
            LINKTYPE_ETHERNET,
            Some(&ifc.name),
        )?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;
