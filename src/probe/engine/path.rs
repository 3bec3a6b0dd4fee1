//! Where probes go: the [`Target`] a driver asks for, and the [`ProbePath`] opened for it —
//! a [`Session`] and the frame template every probe is built from.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::SystemTime;

use super::IPPROTO_ICMP;
use crate::craft::options::{OptionsRequest, SourceRoute};
use crate::event::{Command, Start};
use crate::link::capfile::PcapFormat;
use crate::link::{self, LinkConfig, RxFilter};
use crate::net::resolve::{PathRequest, Plan};
use crate::session::fits::{check_fits, check_fits_tagged, MAX_IP_LEN};
use crate::session::Path;
use crate::session::{self, Loopback, NextHop, Recording, Session, SessionRequest, Toward};
use crate::wire::hop::{ms_since_midnight_ut, record_hop};
use crate::wire::{
    build_l4_frame_into, emit_options, EthernetRepr, IpOption, Ipv4Repr, L4Repr, ETHERTYPE_IPV4,
};
use crate::{Error, Field, Result};

/// Where and how probes are sent: shared by every probe kind.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host probed.
    pub dest: Ipv4Addr,
    /// IP TTL (trace overrides it per probe).
    pub ttl: u8,
    /// IP TOS byte.
    pub tos: u8,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// IP options.
    pub options: OptionsRequest,
    /// Interface and address overrides.
    pub path: PathRequest,
    /// Write every frame sent and received here.
    pub pcap: Option<PathBuf>,
    /// The format of that file (by default: pcapng when its name ends in `.pcapng`).
    pub pcap_format: PcapFormat,
    /// Which link implementation moves the frames.
    pub backend: link::Backend,
    /// When the next hop does not answer ARP: go on anyway, asking again at each probe and
    /// reporting each probe as "Destination Host Unreachable" (as the kernel does for iputils
    /// ping), instead of refusing the run.
    pub keep_trying_arp: bool,
}

impl Target {
    /// Defaults: TTL 64, no options, routed interface, 2 s ARP timeout.
    pub fn new(dest: Ipv4Addr) -> Self {
        Target {
            dest,
            ttl: 64,
            tos: 0,
            dont_fragment: false,
            options: OptionsRequest::default(),
            path: PathRequest::default(),
            pcap: None,
            pcap_format: PcapFormat::ByName,
            backend: link::Backend::default(),
            keep_trying_arp: false,
        }
    }

    /// What the session of a run toward `wire_dst` (the first hop of a source route, else the
    /// target) opens: the next hop resolved now, or asked again with each probe when
    /// [`keep_trying_arp`](Self::keep_trying_arp); raw IP on `lo`; the capture file. The
    /// link's filter (`probe_link`) is set once the size is checked.
    fn session_request(&self, wire_dst: Ipv4Addr) -> SessionRequest {
        SessionRequest {
            toward: Toward::Address(IpAddr::V4(wire_dst)),
            path: PathRequest {
                dst: Some(wire_dst),
                ..self.path.clone()
            },
            backend: self.backend,
            link: LinkConfig::default(),
            next_hop: if self.keep_trying_arp {
                NextHop::Lazy
            } else {
                NextHop::Resolve
            },
            // No sysctl is changed: well-formed IPv4 is all a probe sends.
            loopback: Loopback::RawSocket,
            recording: self.pcap.as_ref().map(|p| Recording {
                path: p.clone(),
                format: self.pcap_format,
            }),
            ..SessionRequest::toward(IpAddr::V4(wire_dst))
        }
    }
}

/// The receive side of a probe link: ARP, ICMP and `protocol`, only on exactly the VLAN stack
/// of the probes (untagged when none), into a 1 MiB buffer.
fn probe_link(protocol: u8, vlans: &crate::wire::VlanStack) -> Result<LinkConfig> {
    Ok(LinkConfig {
        filter: if protocol == IPPROTO_ICMP {
            RxFilter::ArpAndIcmp
        } else {
            RxFilter::ArpIcmpAnd(protocol)
        }
        .on_vlans(vlans)?,
        promiscuous: false,
        buffer_size: 1 << 20,
        ..LinkConfig::default()
    })
}

/// An open path to the target: the [`Session`] (link, resolved addresses, capture file) and
/// the frame template every probe is built from.
pub struct ProbePath {
    session: Session,
    eth: EthernetRepr,
    ip: Ipv4Repr,
    /// The destination the transport checksum is for (the last hop of a source route).
    final_dst: Ipv4Addr,
    /// The options as built, before this host records and stamps itself into them.
    options: Vec<IpOption>,
    option_bytes: usize,
    frame: Vec<u8>,
    /// The interface MTU (less the VLAN tags): larger datagrams leave as fragments.
    mtu: usize,
    fragments: Vec<Vec<u8>>,
}

impl ProbePath {
    /// Validate, resolve and open everything a probe needs; `icmp_len` is the size of the
    /// largest ICMP message to be sent (checked against the MTU). Nothing is sent here except,
    /// when the next hop's MAC is unknown, ARP requests.
    pub fn open(t: &Target, icmp_len: usize) -> Result<ProbePath> {
        ProbePath::open_l4(t, IPPROTO_ICMP, icmp_len)
    }

    /// Like [`open`](Self::open) for probes of IP protocol `protocol` whose largest payload
    /// (transport header included) is `l4_len` bytes: the receive filter takes that protocol
    /// besides ICMP.
    pub fn open_l4(t: &Target, protocol: u8, l4_len: usize) -> Result<ProbePath> {
        if t.ttl == 0 {
            return Err(Error::invalid(Field::Ttl, "must be 1..=255"));
        }
        let options = t.options.build(t.dest)?;
        let option_bytes = emit_options(&options)?.len();
        let wire_dst = t.options.wire_destination(t.dest);
        let mut req = t.session_request(wire_dst);
        let (ifc, plan) = session::plan(&req)?;
        let plan = plan.expect("a session toward an address has a route");
        let (mtu, ip_bytes) = check_size(t, &plan, option_bytes, l4_len)?;
        req.link = probe_link(protocol, &t.path.vlans)?;
        let notice = strict_route_notice(t, &plan, wire_dst);
        let mut session = Session::open_planned(&req, ifc, Some(plan))?;
        if let Some(n) = notice {
            session.notice(n);
        }
        let path = session
            .path()
            .expect("a session toward an address has a path");
        let mut ip = Ipv4Repr::new(path.plan.src_ip, wire_dst, protocol);
        ip.ttl = t.ttl;
        ip.tos = t.tos;
        ip.dont_fragment = t.dont_fragment;
        Ok(ProbePath {
            eth: EthernetRepr {
                dst: path.dst_mac,
                src: path.src_mac,
                vlans: path.vlans,
                ethertype: ETHERTYPE_IPV4,
            },
            ip,
            final_dst: t.dest,
            options,
            option_bytes,
            frame: Vec::with_capacity(14 + ip_bytes),
            session,
            mtu,
            fragments: Vec::new(),
        })
    }

    /// The resolved path.
    pub fn path(&self) -> &Path {
        self.session
            .path()
            .expect("a session toward an address has a path")
    }

    /// What the user should know about this run (a strict source route that cannot work);
    /// taken once.
    pub fn take_notices(&mut self) -> Vec<String> {
        self.session.take_notices()
    }

    /// The start record of a run on this path: where frames go, `data_bytes` of data after
    /// the ICMP header.
    pub fn start_record(&self, command: Command, dest: Ipv4Addr, data_bytes: usize) -> Start {
        let path = self.path();
        let plan = &path.plan;
        Start {
            dest: Some(dest),
            wire_dst: Some(plan.dst_ip),
            src: Some(plan.src_ip),
            iface: Some(plan.iface.name.clone()),
            next_hop: Some(plan.next_hop),
            dst_mac: Some(path.dst_mac.to_string()),
            data_bytes: Some(data_bytes),
            ip_bytes: Some(20 + self.option_bytes + 8 + data_bytes),
            option_bytes: Some(self.option_bytes),
            vlans: (!self.eth.vlans.is_empty()).then_some(self.eth.vlans),
            ..Start::new(command)
        }
    }

    /// Bytes of IP options each probe carries.
    pub fn option_bytes(&self) -> usize {
        self.option_bytes
    }

    /// The session the probes go through.
    pub(super) fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The IP header every probe starts from (our source, the wire destination, the TTL).
    pub(super) fn ip(&self) -> &Ipv4Repr {
        &self.ip
    }

    /// The VLAN stack the probes carry; answers on another are not ours.
    pub(super) fn vlans(&self) -> crate::wire::VlanStack {
        self.eth.vlans
    }

    /// While the next hop is unknown: send the ARP request again (recorded like every frame);
    /// false when the next hop is known and nothing was sent.
    pub(super) fn ask_for_next_hop(&mut self) -> Result<bool> {
        let Some(ask) = self.session.neighbour_request().map(<[u8]>::to_vec) else {
            return Ok(false);
        };
        self.session.send(&ask)?;
        Ok(true)
    }

    /// Whether the next hop's MAC is still unknown.
    pub(super) fn next_hop_unknown(&self) -> bool {
        self.session.neighbour_request().is_some()
    }

    /// Take the next hop's MAC from `frame` when it answers our ARP request; true when it did
    /// (every later probe goes to it).
    pub(super) fn learn_next_hop(&mut self, frame: &[u8]) -> bool {
        if !self.session.learn_neighbour(frame) {
            return false;
        }
        self.eth.dst = self.path().dst_mac;
        true
    }

    /// Build and send one probe; `adjust` may change its IP header (id, TTL). Returns the clock
    /// read just before the send call: the RTT's start, with the build cost left out.
    pub(super) fn send(
        &mut self,
        l4: &L4Repr,
        at: SystemTime,
        adjust: impl FnOnce(&mut Ipv4Repr),
    ) -> Result<SystemTime> {
        // As the originating IP module (RFC 791, and as Linux does): record and stamp ourselves.
        self.ip.options.clone_from(&self.options);
        record_hop(&mut self.ip.options, self.ip.src, ms_since_midnight_ut(at));
        self.ip.protocol = l4.protocol();
        adjust(&mut self.ip);
        build_l4_frame_into(&mut self.frame, &self.eth, &self.ip, l4, self.final_dst)?;
        let eh = self.eth.header_len();
        if self.frame.len() - eh <= self.mtu {
            return self.session.send(&self.frame);
        }
        // Fragments built at L2, each with the same Ethernet header.
        let pieces =
            crate::wire::frag::fragment(&self.frame[eh..], self.mtu).map_err(Error::Fragmenting)?;
        self.fragments.clear();
        for piece in pieces {
            let mut f = self.frame[..eh].to_vec();
            f.extend_from_slice(&piece);
            self.fragments.push(f);
        }
        let mut sent = None;
        for f in &self.fragments {
            let at = self.session.send(f)?;
            sent.get_or_insert(at);
        }
        Ok(sent.unwrap_or_else(SystemTime::now))
    }

    /// Flush the capture file, if any.
    pub fn flush(&mut self) -> Result<()> {
        self.session.flush()
    }
}

/// Check what fits before anything is opened: the VLAN tags leave an IPv4 link its 68 bytes,
/// and the largest probe fits the MTU (with Don't Fragment) or IPv4 (fragmented here, RFC
/// 791). Returns the MTU less the tags, and the largest probe's IP length.
fn check_size(
    t: &Target,
    plan: &Plan,
    option_bytes: usize,
    l4_len: usize,
) -> Result<(usize, usize)> {
    let vlans = t.path.vlans;
    // The tags take their bytes from the MTU (one 802.1Q tag excepted, as Linux counts).
    let tag_bytes = link::vlan_mtu_overhead(&vlans);
    if (plan.iface.mtu as usize).saturating_sub(tag_bytes) < 68 {
        return Err(Error::invalid(
            Field::Vlan,
            format!(
                "{}: {} tags take {tag_bytes} bytes of the MTU {} of {}, leaving less than \
                 the 68 bytes every IPv4 link must carry (RFC 791)",
                vlans,
                vlans.len(),
                plan.iface.mtu,
                plan.iface.name
            ),
        ));
    }
    // Over the MTU: sent as fragments built here (RFC 791), unless Don't Fragment is set.
    let ip_bytes = if t.dont_fragment {
        check_fits_tagged(
            &plan.iface,
            tag_bytes,
            option_bytes,
            8,
            l4_len.saturating_sub(8),
        )?
    } else {
        let mut whole = plan.iface.clone();
        whole.mtu = MAX_IP_LEN as u32;
        check_fits(&whole, option_bytes, 8, l4_len.saturating_sub(8))?
    };
    let mtu = (plan.iface.mtu as usize - tag_bytes).clamp(68, MAX_IP_LEN);
    Ok((mtu, ip_bytes))
}

/// RFC 791: a strict route's first hop must be directly connected to us; when the route to it
/// goes through a router, what the user should expect.
fn strict_route_notice(t: &Target, plan: &Plan, wire_dst: Ipv4Addr) -> Option<String> {
    let Some(SourceRoute::Strict(_)) = &t.options.source_route else {
        return None;
    };
    (plan.next_hop != wire_dst).then(|| {
        format!(
            "the strict source route's first hop {wire_dst} is not on the link of {} \
             (it is reached through {}): expect a Source Route Failed or Parameter \
             Problem, or no answer",
            plan.iface.name, plan.next_hop
        )
    })
}
