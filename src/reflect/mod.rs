//! `reflect`: a user-space ICMP responder on L2 for an address the kernel does not own, so two
//! pktforge hosts can load a path without the kernel's ICMP code in the loop.
//!
//! It answers ARP for its address, echo requests (IP options echoed as RFC 1122 3.2.1.8 and
//! Linux do: record route and timestamps go on recording, a source route is reversed),
//! timestamp requests and, when configured, address mask requests and router solicitations.
//! It is never an amplifier: a reply is never larger than the frame it answers (both counted at
//! the 60-byte Ethernet minimum), broadcast and multicast requests are ignored unless asked for,
//! and an optional token bucket caps the reply rate.
//!
//! One job per file: [`ReflectConfig`] and [`ReflectConfig::run_with`] here; the pure
//! [`Responder`] (a frame in, at most one frame out) in `responder.rs`; the run loop in
//! `run.rs`; where echo is answered (in the kernel or in user space, and moving between them
//! while running) in `offload.rs`; the XDP program and its probes in `xdp.rs`; the rate
//! limit's token bucket in `bucket.rs`.

mod bucket;
mod offload;
mod responder;
mod run;
#[cfg(target_os = "linux")]
mod xdp;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

pub use crate::event::reflect::Counters;
use crate::event::{self, Command, Event, Notice, Start, Summary, Totals};
use crate::link::{self, capfile::PcapFormat};
use crate::net::Interface;
use crate::wire::{mask_prefix, VlanStack};
use crate::{Error, Field, Result, Stop};
pub use responder::{reply_options, Responder};

/// What the responder answers and how.
#[derive(Debug, Clone)]
pub struct ReflectConfig {
    /// Interface to answer on.
    pub iface: String,
    /// The address we answer for (not one the kernel owns).
    pub addr: Ipv4Addr,
    /// Its prefix length (for directed broadcasts).
    pub prefix: u8,
    /// Answer address mask requests with this mask.
    pub mask: Option<Ipv4Addr>,
    /// Send router advertisements and answer solicitations.
    pub advertise: bool,
    /// Seconds between unsolicited advertisements.
    pub adv_interval: Duration,
    /// Preference advertised for our address.
    pub preference: i32,
    /// Lifetime advertised (s).
    pub lifetime: u16,
    /// Also answer requests sent to broadcast or multicast addresses.
    pub broadcast: bool,
    /// Most replies per second (None: no limit).
    pub rate_limit: Option<u32>,
    /// Stop after answering this many requests.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Write every frame received and sent here.
    pub pcap: Option<std::path::PathBuf>,
    /// The format of that file (by default: pcapng when its name ends in `.pcapng`).
    pub pcap_format: PcapFormat,
    /// Which link implementation moves the frames.
    pub backend: link::Backend,
    /// Where plain echo requests are answered.
    pub mode: ReflectMode,
    /// Also answer UDP echo (RFC 862) on this port.
    pub udp_echo: Option<u16>,
    /// The VLAN stack answered on, outermost first: only frames carrying exactly these tags
    /// (TPID and VLAN id per tag) are answered, and replies carry the request's tags. Empty:
    /// untagged frames only.
    pub vlans: VlanStack,
}

/// Where plain echo requests are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReflectMode {
    /// In the kernel when an XDP program can be attached and nothing needs every frame in
    /// user space (no rate limit, no capture file); else [`ReflectMode::Packet`].
    #[default]
    Auto,
    /// In the kernel by an XDP program (`reflect::xdp`); the rest in user space.
    Xdp,
    /// Everything in user space through a packet socket.
    Packet,
}

impl std::str::FromStr for ReflectMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(ReflectMode::Auto),
            "xdp" => Ok(ReflectMode::Xdp),
            "packet" => Ok(ReflectMode::Packet),
            _ => Err(format!("{s:?}: expected auto, xdp or packet")),
        }
    }
}

impl ReflectConfig {
    /// Defaults: /24, no mask answers, no advertisements, no limits.
    pub fn new(iface: &str, addr: Ipv4Addr) -> Self {
        ReflectConfig {
            iface: iface.to_string(),
            addr,
            prefix: 24,
            mask: None,
            advertise: false,
            adv_interval: Duration::from_secs(600),
            preference: 0,
            lifetime: 1800,
            broadcast: false,
            rate_limit: None,
            count: None,
            duration: None,
            pcap: None,
            pcap_format: PcapFormat::ByName,
            backend: link::Backend::default(),
            mode: ReflectMode::default(),
            udp_echo: None,
            vlans: VlanStack::EMPTY,
        }
    }

    /// Refuse what cannot work, before anything is sent.
    pub fn validate(&self, ifaces: &[Interface]) -> Result<()> {
        if self.prefix > 32 {
            return Err(Error::invalid(
                Field::ResponderAddress,
                format!(
                    "{}/{}: the prefix length is at most 32",
                    self.addr, self.prefix
                ),
            ));
        }
        if self.addr.is_multicast() || self.addr.is_broadcast() || self.addr.is_unspecified() {
            return Err(Error::invalid(
                Field::ResponderAddress,
                format!("{}: a responder needs a unicast address", self.addr),
            ));
        }
        if let Some(owner) = ifaces
            .iter()
            .find(|i| i.ipv4.iter().any(|(a, _)| *a == self.addr))
        {
            return Err(Error::AddressInUse {
                addr: self.addr,
                iface: owner.name.clone(),
            });
        }
        if let Some(m) = self.mask {
            if mask_prefix(m).is_none() {
                return Err(Error::invalid(
                    Field::Mask,
                    format!("{m} is not contiguous: a mask is ones followed by zeros (RFC 950)"),
                ));
            }
        }
        if self.rate_limit == Some(0) {
            return Err(Error::invalid(
                Field::RateLimit,
                "must be at least 1 reply/s",
            ));
        }
        if self.count == Some(0) {
            return Err(Error::invalid(Field::Count, "must be at least 1"));
        }
        if self.udp_echo == Some(0) {
            return Err(Error::invalid(Field::Port, "0: a UDP port is 1..=65535"));
        }
        Ok(())
    }
}

impl ReflectConfig {
    /// Answer on `iface` until `stop`, `count` answers or `duration`, reporting the start once
    /// the link is open and filtering (from then on requests are answered), then a notice
    /// saying where echo is answered (in the kernel by the XDP program, or in user space, and
    /// why), a notice whenever that changes, and the summary with the counters.
    ///
    /// Refused before anything is sent when the configuration cannot work (see
    /// [`ReflectConfig::validate`]) or an XDP program was asked for and cannot answer there.
    /// Once running, an error (the interface went away, a write failed) ends the run: the
    /// summary with the counters so far is still reported, then the error is returned.
    pub fn run_with(&self, stop: &Stop, on_event: &mut dyn FnMut(&Event)) -> Result<Summary> {
        let started = Instant::now();
        let mut run = run::Run::open(self)?;
        on_event(&Event::Start(Start {
            iface: Some(self.iface.clone()),
            src: Some(self.addr),
            vlans: (!self.vlans.is_empty()).then_some(self.vlans),
            ..Start::new(Command::Reflect)
        }));
        let on = if self.vlans.is_empty() {
            self.iface.clone()
        } else {
            format!("{} vlan {}", self.iface, self.vlans)
        };
        on_event(&Event::Notice(Notice {
            message: format!(
                "answering for {}/{} on {on}: {}",
                self.addr,
                self.prefix,
                offload::where_echo(run.counters())
            ),
        }));
        let result = run.answer_until(stop, on_event);
        let (counters, flushed) = run.finish();
        let summary = Summary {
            command: Command::Reflect,
            elapsed_us: event::us(started.elapsed()),
            interrupted: stop.is_stopped(),
            totals: Totals::Reflect(counters),
        };
        on_event(&Event::Summary(summary.clone()));
        result.and(flushed).map(|()| summary)
    }
}
