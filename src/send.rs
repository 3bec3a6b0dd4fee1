//! Send: crafted frames (or frames given as bytes) put on the wire on one interface, paced with
//! absolute deadlines, and what answers shown while sending and for a wait after.
//!
//! Two steps, so a front end can show what will go out before it does:
//! [`SendRequest::prepare`] resolves the path, opens the link and builds the first frame;
//! [`PreparedSend::run_with`] sends.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::craft::{Endpoints, FrameSpec};
use crate::dissect::{dissect_frame, summary};
use crate::event::{self, Command, Direction, Event, Frame, FrameTotals, Start, Summary, Totals};
use crate::filter::Filter;
use crate::link::capfile::PcapFormat;
use crate::link::packet::loopback::raw_sendable;
use crate::link::{self, Backend, LinkConfig, RxFilter};
use crate::net::resolve::PathRequest;
use crate::net::Interface;
use crate::session::{Loopback, Recording, Session, SessionRequest};
use crate::wire::{EthernetFrame, VlanStack, ETHERNET_HEADER_LEN, ETHERTYPE_VLAN};
use crate::{Error, Field, Result, Stop};

/// What frames to send.
#[derive(Debug, Clone)]
pub enum FrameSource {
    /// A crafted frame, its path resolved as ping resolves it (route, interface, source,
    /// next-hop MAC); frame i carries the ICMP sequence number + i (as nping does), so answers
    /// can be told apart.
    Crafted {
        /// The frame.
        spec: Box<FrameSpec>,
        /// Interface and address overrides.
        path: PathRequest,
    },
    /// Frames sent as they are, in turn, on a named interface.
    Raw {
        /// The interface.
        iface: String,
        /// The frames.
        frames: Vec<Vec<u8>>,
    },
}

/// Fragments made by hand from each frame's IP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentPlan {
    /// Data bytes per fragment (a positive multiple of 8).
    pub size: usize,
    /// Bytes each fragment after the first repeats of the one before (a multiple of 8, less
    /// than `size`).
    pub overlap: usize,
    /// Send the last fragment first.
    pub reverse: bool,
}

impl FragmentPlan {
    /// Refuse sizes that are not multiples of 8 and overlaps that are not below the size.
    pub fn validate(&self) -> Result<()> {
        let f = self;
        if f.size == 0 || !f.size.is_multiple_of(8) || f.size > 65_528 {
            return Err(Error::invalid(
                Field::Fragment,
                format!(
                    "{} is not a multiple of 8 in 8..=65528 (fragment offsets count \
                     8-byte units)",
                    f.size
                ),
            ));
        }
        if !f.overlap.is_multiple_of(8) || f.overlap >= f.size {
            return Err(Error::invalid(
                Field::FragmentOverlap,
                format!(
                    "{} must be a multiple of 8 below the fragment size {}",
                    f.overlap, f.size
                ),
            ));
        }
        Ok(())
    }
}

/// A send request.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// The frames.
    pub source: FrameSource,
    /// Frames to send.
    pub count: u64,
    /// Time between frames (absolute deadlines: no drift).
    pub period: Duration,
    /// After sending, listen this long (also while sending) and report what matches `show`.
    pub wait: Option<Duration>,
    /// What the wait reports.
    pub show: Filter,
    /// Send frames larger than the interface MTU anyway.
    pub force: bool,
    /// Write every frame sent and received here (pcap).
    pub pcap: Option<PathBuf>,
    /// The format of that file (by default: pcapng when its name ends in `.pcapng`).
    pub pcap_format: PcapFormat,
    /// Send each frame as fragments made by hand.
    pub fragment: Option<FragmentPlan>,
    /// Put the full dissection into each frame record.
    pub dissect: bool,
    /// Which link implementation moves the frames.
    pub backend: link::Backend,
}

/// A send ready to go: the session is open and the first frame built.
pub struct PreparedSend {
    req: SendRequest,
    session: Session,
    frames: Vec<Vec<u8>>,
    crafted: Option<(FrameSpec, Endpoints)>,
}

/// How frames leave on `lo`: through a raw IP socket when it carries every one unchanged,
/// otherwise through the packet socket with `lo`'s sysctls on for the run.
fn loopback_for(frames: &[Vec<u8>]) -> Loopback {
    if frames.iter().all(|f| raw_sendable(f)) {
        Loopback::RawSocket
    } else {
        Loopback::Sysctls
    }
}

impl SendRequest {
    /// Check the request, resolve the path, open the session and build the frames. Nothing is
    /// sent except, when the next hop's MAC is unknown, ARP requests.
    pub fn prepare(mut self) -> Result<PreparedSend> {
        if self.count == 0 {
            return Err(Error::invalid(Field::Count, "must be at least 1"));
        }
        if let Some(f) = self.fragment {
            f.validate()?;
        }
        // The kernel passes what the wait shows, and ARP (for resolving the next hop); for a
        // crafted frame on a VLAN stack, only frames on that same stack, the filter applied to
        // what is inside the tags.
        let vlans = match &self.source {
            FrameSource::Crafted { spec, .. } => spec.vlans,
            FrameSource::Raw { .. } => VlanStack::EMPTY,
        };
        #[cfg(feature = "pcap-filter")]
        let kernel = self.show.or("arp")?;
        // No compiler: the kernel passes every frame, and `show` picks in user space.
        #[cfg(not(feature = "pcap-filter"))]
        let kernel = Filter::everything();
        let rx_filter = RxFilter::Bpf(kernel.program).on_vlans(&vlans)?;
        if !vlans.is_empty() {
            self.show.program = crate::link::bpf::under_vlan_stack(&self.show.program, &vlans)
                .map_err(|e| Error::invalid(Field::Filter, e))?;
        }
        let recording = self.pcap.clone().map(|path| Recording {
            path,
            format: self.pcap_format,
        });
        let (session, frames, crafted) = match &self.source {
            FrameSource::Raw {
                iface: name,
                frames,
            } => {
                if frames.is_empty() {
                    return Err(Error::invalid(Field::Input, "holds no frames to send"));
                }
                let req = SessionRequest {
                    loopback: loopback_for(frames),
                    ..session_request(
                        SessionRequest::on_interface(name.clone()),
                        rx_filter,
                        self.backend,
                    )
                };
                let session = Session::open(&SessionRequest { recording, ..req })?;
                (session, frames.clone(), None)
            }
            FrameSource::Crafted { spec, path } => {
                // Refuse what cannot be built before touching the network.
                let offline = spec.build(&Endpoints::offline(path))?;
                let req = SessionRequest {
                    loopback: loopback_for(&[offline]),
                    recording,
                    ..crafted_session(spec, path, rx_filter, self.backend)
                };
                let session = Session::open(&req)?;
                let ep = endpoints(&session);
                let first = spec.build(&ep)?;
                (session, vec![first], Some(((**spec).clone(), ep)))
            }
        };
        for f in &frames {
            match self.fragment {
                Some(plan) => {
                    for piece in split(f, plan)? {
                        check_mtu(&piece, session.iface(), self.force)?;
                    }
                }
                None => check_mtu(f, session.iface(), self.force)?,
            }
        }
        Ok(PreparedSend {
            req: self,
            session,
            frames,
            crafted,
        })
    }
}

/// A session request for `toward` with a link taking `filter`.
fn session_request(toward: SessionRequest, filter: RxFilter, backend: Backend) -> SessionRequest {
    SessionRequest {
        backend,
        link: LinkConfig {
            filter,
            promiscuous: false,
            buffer_size: 4 << 20,
            ..LinkConfig::default()
        },
        ..toward
    }
}

/// The session a crafted frame is sent through: toward its IP destination on the wire (a
/// source route's first hop), ARP going out and taken back with the frame's tags.
fn crafted_session(
    spec: &FrameSpec,
    path: &PathRequest,
    filter: RxFilter,
    backend: Backend,
) -> SessionRequest {
    SessionRequest {
        path: PathRequest {
            vlans: spec.vlans,
            ..path.clone()
        },
        ..session_request(
            SessionRequest::toward(IpAddr::V4(spec.wire_dst())),
            filter,
            backend,
        )
    }
}

/// The addresses a session toward an address gives a crafted frame.
fn endpoints(session: &Session) -> Endpoints {
    let path = session
        .path()
        .expect("a session toward an address has a path");
    Endpoints {
        src_mac: path.src_mac,
        dst_mac: path.dst_mac,
        src_ip: path.plan.src_ip,
    }
}

/// The addresses a crafted frame gets from its path: resolved as ping resolves them (route,
/// interface, source, next-hop MAC from the neighbour cache or ARP); `path` overrides each
/// part.
pub fn resolve_endpoints(
    spec: &FrameSpec,
    path: &PathRequest,
    backend: Backend,
) -> Result<Endpoints> {
    spec.build(&Endpoints::offline(path))?;
    let req = crafted_session(spec, path, RxFilter::ArpAndIcmp, backend);
    Ok(endpoints(&Session::open(&SessionRequest {
        loopback: Loopback::AsIs,
        ..req
    })?))
}

/// A frame's IP datagram as hand-made fragments, each behind the frame's Ethernet header.
pub fn split(frame: &[u8], plan: FragmentPlan) -> Result<Vec<Vec<u8>>> {
    plan.validate()?;
    let eh = EthernetFrame::new_checked(frame)?.header_len();
    let pieces =
        crate::wire::frag::fragment_by(&frame[eh..], plan.size, plan.overlap, plan.reverse)
            .map_err(Error::Fragmenting)?;
    Ok(pieces
        .into_iter()
        .map(|p| {
            let mut f = frame[..eh].to_vec();
            f.extend_from_slice(&p);
            f
        })
        .collect())
}

/// Refuse a frame the kernel would refuse for the MTU, unless forced: more than MTU bytes after
/// the 14-byte header, VLAN tags included, except that an outer 802.1Q tag is free (Linux's
/// packet socket rule, [`crate::link::vlan_mtu_overhead`]).
fn check_mtu(frame: &[u8], iface: &Interface, force: bool) -> Result<()> {
    let free = if frame.get(12..14) == Some(&ETHERTYPE_VLAN.to_be_bytes()[..]) {
        4
    } else {
        0
    };
    let l3 = frame.len().saturating_sub(ETHERNET_HEADER_LEN);
    if l3 > iface.mtu as usize + free && !force {
        return Err(Error::OverMtu {
            frame_bytes: frame.len(),
            l3_bytes: l3,
            mtu: iface.mtu,
            iface: iface.name.clone(),
        });
    }
    Ok(())
}

impl PreparedSend {
    /// The interface the frames go out of.
    pub fn iface(&self) -> &Interface {
        self.session.iface()
    }

    /// The frames: the first crafted one, or every raw frame.
    pub fn frames(&self) -> &[Vec<u8>] {
        &self.frames
    }

    /// Send, reporting the start, every frame sent (direction out) and every frame received
    /// that the filter shows (direction in), then the summary.
    pub fn run_with(mut self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        let vlans = self.crafted.as_ref().map(|(spec, _)| spec.vlans);
        on_event(&Event::Start(Start {
            iface: Some(self.session.iface().name.clone()),
            vlans: vlans.filter(|v| !v.is_empty()),
            ..Start::new(Command::Send)
        }));
        let start = Instant::now();
        let mut totals = FrameTotals::default();
        let mut index = 0u64;
        let result = self.send_all(stop, on_event, &mut totals, &mut index);
        let send_time = start.elapsed();
        let result = result.and_then(|()| match self.req.wait {
            Some(w) => self.listen(w, stop, on_event, &mut totals, &mut index),
            None => Ok(()),
        });
        let flushed = self.session.flush();
        totals.dropped_by_kernel = self.session.link().stats().kernel_drops;
        let summary = Summary {
            command: Command::Send,
            // From the first send to the last: what the pacing held.
            elapsed_us: event::us(send_time),
            interrupted: stop.is_stopped(),
            totals: Totals::Frames(totals),
        };
        on_event(&Event::Summary(summary.clone()));
        result.and(flushed).map(|()| summary)
    }

    fn frame_record(&self, index: u64, at: SystemTime, data: &[u8], dir: Direction) -> Event {
        Event::Frame(Frame {
            index,
            time_us: Some(event::time_us(at)),
            direction: Some(dir),
            bytes: data.len(),
            truncated: false,
            captured: None,
            summary: summary(data),
            hex: None,
            dissection: self.req.dissect.then(|| dissect_frame(data)),
        })
    }

    fn on_rx(
        &mut self,
        on_event: &mut dyn FnMut(&Event),
        totals: &mut FrameTotals,
        index: &mut u64,
        until: Instant,
    ) -> Result<bool> {
        let Some(rx) = self.session.link().recv(until)? else {
            return Ok(false);
        };
        if !self.req.show.matches(rx.data) {
            return Ok(true);
        }
        let (data, at) = (rx.data.to_vec(), rx.timestamp);
        totals.received += 1;
        *index += 1;
        // Only what the wait shows is kept.
        self.session.record(at, &data)?;
        on_event(&self.frame_record(*index, at, &data, Direction::In));
        Ok(true)
    }

    fn send_all(
        &mut self,
        stop: &Stop,
        on_event: &mut dyn FnMut(&Event),
        totals: &mut FrameTotals,
        index: &mut u64,
    ) -> Result<()> {
        let start = Instant::now();
        while totals.sent < self.req.count && !stop.is_stopped() {
            // Absolute deadline for frame `sent`: no drift however long each send takes.
            let due = start + self.req.period.mul_f64(totals.sent as f64);
            while Instant::now() < due {
                if self.req.wait.is_some() {
                    self.on_rx(on_event, totals, index, due)?;
                } else {
                    std::thread::sleep(due - Instant::now());
                }
            }
            let frame = match &mut self.crafted {
                Some((spec, ep)) if totals.sent > 0 => {
                    spec.icmp.seq = spec.icmp.seq.wrapping_add(1);
                    spec.build(ep)?
                }
                _ => self.frames[(totals.sent % self.frames.len() as u64) as usize].clone(),
            };
            let pieces = match self.req.fragment {
                Some(plan) => split(&frame, plan)?,
                None => vec![frame],
            };
            for frame in pieces {
                let at = self.session.send(&frame)?;
                *index += 1;
                on_event(&self.frame_record(*index, at, &frame, Direction::Out));
            }
            totals.sent += 1;
        }
        Ok(())
    }

    fn listen(
        &mut self,
        wait: Duration,
        stop: &Stop,
        on_event: &mut dyn FnMut(&Event),
        totals: &mut FrameTotals,
        index: &mut u64,
    ) -> Result<()> {
        let end = Instant::now() + wait;
        while !stop.is_stopped() && Instant::now() < end {
            let until = end.min(Instant::now() + Duration::from_millis(200));
            self.on_rx(on_event, totals, index, until)?;
        }
        Ok(())
    }
}
