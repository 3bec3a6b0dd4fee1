//! Opening a run: the one place every driver turns its target into an open link.
//!
//! A driver (ping, trace, the queries, probe, send, capture, blast, reflect) describes what it
//! needs in a [`SessionRequest`] — toward an address the kernel routes, or onto a named
//! interface; the link's filter and backend; whether the next hop's MAC must be known; how
//! frames leave on `lo`; a capture file — and [`Session::open`] does the rest in one order:
//!
//! 1. resolve: interface, source address and next hop from the kernel's routes
//!    ([`crate::net::resolve`]), or the named interface;
//! 2. open the link ([`crate::link::open_backend`]);
//! 3. `lo`, one way: frames a raw IP socket carries unchanged leave through one and no setting
//!    is touched ([`Loopback::RawSocket`]); frames it would alter need `lo`'s sysctls, set for
//!    the run and put back after ([`Loopback::Sysctls`], [`LoopbackGuard`]);
//! 4. complete the next hop through [`Neighbours`] (ARP for IPv4): the request's MAC, the
//!    kernel's neighbour cache, or a solicitation on the wire; or go on unresolved and ask
//!    again with each frame ([`NextHop::Lazy`], as the kernel does for ping);
//! 5. open the capture file, if any, for every frame sent and received.
//!
//! An address family is added here and in [`crate::wire`], never in each driver.

pub mod neighbour;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::error::Field;
use crate::link::capfile::{PcapFormat, PcapWriter, LINKTYPE_ETHERNET};
use crate::link::{self, Backend, Link, LinkConfig, RxFrame};
use crate::net::loopback::LoopbackGuard;
use crate::net::resolve::{self, PathRequest, Plan};
use crate::net::{iface, Interface};
use crate::wire::{MacAddr, VlanStack};
use crate::{Error, Result};
use neighbour::{Arp, Neighbours};

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

/// The capture file every frame sent and received is written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureFile {
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
    pub capture_file: Option<CaptureFile>,
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
            capture_file: None,
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

/// An open run: the interface, the resolved path, the link and the capture file.
pub struct Session {
    iface: Interface,
    path: Option<Path>,
    link: Box<dyn Link>,
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
            format!("{dst}: IPv6 is not supported yet"),
        )),
    }
}

impl Session {
    /// Resolve, open the link, set up `lo`, complete the next hop and open the capture file.
    /// Nothing is sent here except neighbour solicitations.
    pub fn open(req: &SessionRequest) -> Result<Session> {
        let (ifc, plan) = plan(req)?;
        Session::open_planned(req, ifc, plan)
    }

    /// [`open`](Self::open) for a plan made already (a driver that checked what fits first).
    pub fn open_planned(
        req: &SessionRequest,
        ifc: Interface,
        plan: Option<Plan>,
    ) -> Result<Session> {
        let mut link = link::open_backend(req.backend, &ifc, &req.link)?;
        let mut lo = None;
        if ifc.is_loopback {
            match req.loopback {
                Loopback::RawSocket => {
                    link = Box::new(link::packet::loopback::LoopbackLink::new(link)?);
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
                NextHop::Resolve => neighbour::complete(plan, &req.path, link.as_mut())?,
                NextHop::Lazy => {
                    let quick = PathRequest {
                        arp_timeout: Duration::ZERO,
                        ..req.path.clone()
                    };
                    match neighbour::complete(plan.clone(), &quick, link.as_mut()) {
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
        let capture = match &req.capture_file {
            Some(c) => Some(PcapWriter::create_as(
                &c.path,
                c.format,
                LINKTYPE_ETHERNET,
                Some(&ifc.name),
            )?),
            None => None,
        };
        Ok(Session {
            iface: ifc,
            path,
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

    /// The link, for drivers that move frames themselves.
    pub fn link(&mut self) -> &mut dyn Link {
        self.link.as_mut()
    }

    /// Send one frame and write it to the capture file; returns the clock read just before
    /// the send call.
    pub fn send(&mut self, frame: &[u8]) -> Result<SystemTime> {
        let at = SystemTime::now();
        self.link.send(frame)?;
        if let Some(c) = self.capture.as_mut() {
            c.write(at, frame)?;
        }
        Ok(at)
    }

    /// The next frame until `deadline`, written to the capture file as received.
    pub fn recv(&mut self, deadline: Instant) -> Result<Option<RxFrame<'_>>> {
        let frame = self.link.recv(deadline)?;
        if let (Some(f), Some(c)) = (&frame, self.capture.as_mut()) {
            c.write_cut(f.timestamp, f.data, f.wire_len)?;
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
        let (Some(_), Some(path)) = (&self.unresolved, self.path.as_mut()) else {
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

#[cfg(test)]
mod tests;
