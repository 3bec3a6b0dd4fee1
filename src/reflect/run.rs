//! The run loop, one job per function: open the session, watch where echo is answered, send
//! the unsolicited advertisements, receive (reassembling fragments), answer under the rate
//! limit, and send the answer (fragmented to the MTU).

use std::time::{Duration, Instant, SystemTime};

use super::bucket::TokenBucket;
use super::offload::Offload;
use super::responder::{ipv4_on, Responder};
use super::{Counters, ReflectConfig};
use crate::event::{Event, Notice};
use crate::link::{self, LinkConfig, RxFilter};
use crate::net::iface;
use crate::session::{self, Recording, Session, SessionRequest};
use crate::wire::frag::{self, Reassembler};
use crate::wire::{Ipv4Packet, VlanStack, ETHERTYPE_ARP, IP_PROTO_UDP};
use crate::{Error, Result, Stop};

/// The longest one wait for a frame lasts: how soon a stop is seen.
const TICK: Duration = Duration::from_millis(100);

/// What the reflector opens: onto its interface, no route and no next hop (every frame it
/// sends answers one, to the sender's MAC), its capture file.
fn session_request(cfg: &ReflectConfig) -> Result<SessionRequest> {
    Ok(SessionRequest {
        backend: cfg.backend,
        link: LinkConfig {
            // Only frames on our VLAN stack (untagged when none).
            filter: match cfg.udp_echo {
                None => RxFilter::ArpAndIcmp,
                Some(_) => RxFilter::ArpIcmpAnd(IP_PROTO_UDP),
            }
            .on_vlans(&cfg.vlans)?,
            // Solicitations go to a multicast MAC a real NIC would filter out.
            promiscuous: cfg.advertise,
            buffer_size: 4 << 20,
            // Each request answered as it comes, not when a batch of them is handed over.
            rx_per_frame: true,
            ..LinkConfig::default()
        },
        recording: cfg.pcap.clone().map(|path| Recording {
            path,
            format: cfg.pcap_format,
        }),
        ..SessionRequest::on_interface(cfg.iface.clone())
    })
}

/// A reflector answering: its session, responder, where echo is answered, rate limits.
pub(super) struct Run<'a> {
    cfg: &'a ReflectConfig,
    session: Session,
    responder: Responder,
    offload: Offload,
    /// ARP and ICMP have separate budgets: an ARP flood must not starve echo, nor echo ARP.
    arp_bucket: Option<TokenBucket>,
    ip_bucket: Option<TokenBucket>,
    reassembler: Reassembler,
    next_adv: Option<Instant>,
    end: Option<Instant>,
}

impl<'a> Run<'a> {
    /// Check `cfg`, open the session and choose where echo is answered; the clock of the
    /// duration, rate limits and advertisements starts here. Nothing is sent but, when the
    /// XDP program is considered, its probe frames to the interface itself.
    pub(super) fn open(cfg: &'a ReflectConfig) -> Result<Self> {
        let (ifc, _) = session::plan(&SessionRequest::on_interface(cfg.iface.clone()))?;
        cfg.validate(&iface::list()?)?;
        let mac = ifc.mac.ok_or_else(|| Error::NoLinkAddress {
            iface: ifc.name.clone(),
            why: "reflect answers ARP, so it needs one (not lo)".into(),
        })?;
        let session = Session::open_planned(&session_request(cfg)?, ifc, None)?;
        let mut responder = Responder::new(cfg.clone(), mac);
        let offload = Offload::choose(cfg, session.iface(), mac, &mut responder.counters)?;
        let now = Instant::now();
        Ok(Run {
            cfg,
            session,
            responder,
            offload,
            arp_bucket: cfg.rate_limit.map(|r| TokenBucket::new(r, now)),
            ip_bucket: cfg.rate_limit.map(|r| TokenBucket::new(r, now)),
            reassembler: Reassembler::default(),
            next_adv: cfg.advertise.then_some(now),
            end: cfg.duration.map(|d| now + d),
        })
    }

    /// The counters so far.
    pub(super) fn counters(&self) -> &Counters {
        &self.responder.counters
    }

    /// Answer until `stop`, the count or the duration; the first error ends the run. Reports
    /// a notice whenever echo moves between the kernel and user space.
    pub(super) fn answer_until(
        &mut self,
        stop: &Stop,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<()> {
        loop {
            let now = Instant::now();
            if let Some(message) = self.offload.watch(now, &mut self.responder.counters)? {
                on_event(&Event::Notice(Notice { message }));
            }
            if self.done(stop, now) {
                break;
            }
            self.advertise(now)?;
            self.receive(self.wake_at(now))?;
        }
        self.session.link().flush()
    }

    /// The counters, and whether the capture file was written out.
    pub(super) fn finish(mut self) -> (Counters, Result<()>) {
        let flushed = self.session.flush();
        self.offload.collect(&mut self.responder.counters);
        (self.responder.counters, flushed)
    }

    fn done(&self, stop: &Stop, now: Instant) -> bool {
        stop.is_stopped()
            || self.end.is_some_and(|e| now >= e)
            || self
                .cfg
                .count
                .is_some_and(|c| self.responder.counters.answered() >= c)
    }

    /// An unsolicited router advertisement when one is due.
    fn advertise(&mut self, now: Instant) -> Result<()> {
        let Some(t) = self.next_adv.filter(|t| now >= *t) else {
            return Ok(());
        };
        if let Some(f) = self.responder.unsolicited_advertisement() {
            self.session.send(&f)?;
        }
        self.next_adv = Some(t + self.cfg.adv_interval.max(Duration::from_secs(1)));
        Ok(())
    }

    /// How long the next wait for a frame may last: until the next look at the peer, the end
    /// or the next advertisement, a tick at most.
    fn wake_at(&self, now: Instant) -> Instant {
        [self.offload.next_look(), self.end, self.next_adv]
            .into_iter()
            .flatten()
            .fold(now + TICK, Instant::min)
    }

    /// The next frame until `until` (written to the capture file by the session), answered.
    fn receive(&mut self, until: Instant) -> Result<()> {
        let Some(rx) = self.session.recv(until)? else {
            return Ok(());
        };
        // A fragmented request is answered once whole (and the answer fragmented to fit).
        let whole = match fragment_parts(rx.data, &self.cfg.vlans) {
            Some((eh, ip)) => match self.reassembler.push(ip, Instant::now()) {
                Some(d) => Some([&rx.data[..eh], &d[..]].concat()),
                None => return Ok(()),
            },
            None => None,
        };
        let frame = whole.as_deref().unwrap_or(rx.data);
        let Some(reply) = self.responder.respond(frame, rx.timestamp) else {
            return Ok(());
        };
        if !self.within_rate(&reply) {
            self.responder.counters.rate_limited += 1;
            self.responder.uncount(&reply);
            return Ok(());
        }
        self.send_reply(reply)
    }

    /// Whether the rate limit lets `reply` go (ARP and IP from separate budgets).
    fn within_rate(&mut self, reply: &[u8]) -> bool {
        let eh = self.cfg.vlans.ethernet_header_len();
        let bucket = if reply.get(eh - 2..eh) == Some(&ETHERTYPE_ARP.to_be_bytes()[..]) {
            self.arp_bucket.as_mut()
        } else {
            self.ip_bucket.as_mut()
        };
        bucket.is_none_or(|b| b.take(Instant::now()))
    }

    /// Send `reply`, split to the MTU (less what the tags take of it): never more bytes than
    /// asked, the reply mirrors the request.
    fn send_reply(&mut self, reply: Vec<u8>) -> Result<()> {
        let vlans = &self.cfg.vlans;
        let eh = vlans.ethernet_header_len();
        let mtu = (self.session.iface().mtu as usize)
            .saturating_sub(link::vlan_mtu_overhead(vlans))
            .max(68);
        let pieces = if reply.len() - eh > mtu && ipv4_on(&reply, vlans).is_some() {
            frag::fragment(&reply[eh..], mtu)
                .map(|ps| ps.iter().map(|p| [&reply[..eh], &p[..]].concat()).collect())
                .unwrap_or_else(|_| vec![reply])
        } else {
            vec![reply]
        };
        for piece in pieces {
            // Sent with the next replies while requests keep coming, at once when none is
            // waiting (the link flushes before it waits).
            self.session.link().send_batched(&piece)?;
            self.session.record(SystemTime::now(), &piece)?;
        }
        Ok(())
    }
}

/// The Ethernet header length and IP bytes of `frame` when it is an IPv4 fragment on the
/// stack `vlans`.
fn fragment_parts<'a>(frame: &'a [u8], vlans: &VlanStack) -> Option<(usize, &'a [u8])> {
    let ip_bytes = ipv4_on(frame, vlans)?;
    let ip = Ipv4Packet::new_checked(ip_bytes).ok()?;
    ip.is_fragment()
        .then(|| (frame.len() - ip_bytes.len(), ip_bytes))
}
