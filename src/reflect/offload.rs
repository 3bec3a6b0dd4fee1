//! Where echo is answered: in the kernel by the XDP program (`xdp.rs`) when its replies are
//! delivered and nothing needs every request in user space, else by the user-space responder;
//! and, while running, moving between the two as the veth peer takes XDP frames or stops.
//!
//! The choice is kept in the counters (`mode`, `xdp_unavailable`), and each move is said in a
//! sentence for a notice.

#[cfg(target_os = "linux")]
use std::time::Duration;
use std::time::Instant;

#[cfg(target_os = "linux")]
use super::xdp::{self, XdpReflectConfig, XdpReflector};
#[cfg(target_os = "linux")]
use super::ReflectMode;
use super::{Counters, ReflectConfig};
use crate::net::Interface;
use crate::wire::MacAddr;
#[cfg(target_os = "linux")]
use crate::Error;
use crate::Result;

/// How often a veth peer is looked at while the XDP program passes requests up because the
/// peer would not take its replies.
#[cfg(target_os = "linux")]
const XDP_GATE_RECHECK: Duration = Duration::from_millis(2);
/// How often it is looked at while the XDP program answers.
#[cfg(target_os = "linux")]
const XDP_PEER_RECHECK: Duration = Duration::from_millis(100);
/// XDP replies the interface failed to transmit before the program is given up (when at least
/// half of them failed).
#[cfg(target_os = "linux")]
const XDP_TX_FAILURES: u64 = 8;

/// Where echo is answered, in a sentence.
pub(super) fn where_echo(c: &Counters) -> String {
    match (c.mode.as_str(), &c.xdp_unavailable) {
        ("xdp-native", _) => {
            "echo answered in the kernel by an XDP program (native), the rest in user space".into()
        }
        ("xdp-generic", _) => {
            "echo answered in the kernel by an XDP program (generic), the rest in user space".into()
        }
        (_, Some(why)) => format!("everything answered in user space: {why}"),
        (_, None) => "everything answered in user space".into(),
    }
}

/// The counters' name of the XDP program's mode.
#[cfg(target_os = "linux")]
fn xdp_mode(native: bool) -> &'static str {
    if native {
        "xdp-native"
    } else {
        "xdp-generic"
    }
}

/// The XDP program, while it is attached.
#[cfg(target_os = "linux")]
pub(super) struct Offload {
    xdp: Option<XdpReflector>,
    /// While the XDP program's replies would not be delivered (a veth whose peer has no XDP
    /// program), it passes every request up: why.
    gate: Option<String>,
    /// When the peer is looked at next.
    next_look: Instant,
    iface: String,
    ifindex: u32,
    /// The program must answer ([`ReflectMode::Xdp`]): failing to is an error.
    required: bool,
}

#[cfg(target_os = "linux")]
impl Offload {
    /// Attach the XDP program as `cfg.mode` says, writing the choice into `counters`. Refused
    /// only when the program was required and cannot answer on `ifc`.
    pub(super) fn choose(
        cfg: &ReflectConfig,
        ifc: &Interface,
        mac: MacAddr,
        counters: &mut Counters,
    ) -> Result<Self> {
        let mut o = Offload {
            xdp: None,
            gate: None,
            next_look: Instant::now(),
            iface: ifc.name.clone(),
            ifindex: ifc.index,
            required: cfg.mode == ReflectMode::Xdp,
        };
        counters.mode = "packet".into();
        if cfg.mode == ReflectMode::Packet {
            return Ok(o);
        }
        match o.attach(cfg, mac) {
            Ok(x) => {
                counters.mode = match &o.gate {
                    Some(_) => "packet",
                    None => xdp_mode(x.native),
                }
                .into();
                counters.xdp_unavailable.clone_from(&o.gate);
                o.xdp = Some(x);
            }
            Err(e) if o.required => {
                return Err(Error::Unsupported {
                    what: format!("XDP reflector on {}", ifc.name),
                    needs: e.to_string(),
                })
            }
            Err(e) => counters.xdp_unavailable = Some(e),
        }
        Ok(o)
    }

    /// The program attached, answering at once where its replies are delivered; on a veth
    /// whose peer does not take them yet (not required), attached but passing every request
    /// up (the gate). `Err`: why it is not used.
    fn attach(
        &mut self,
        cfg: &ReflectConfig,
        mac: MacAddr,
    ) -> std::result::Result<XdpReflector, String> {
        if cfg.rate_limit.is_some() || cfg.pcap.is_some() {
            return Err(
                "a rate limit or a capture file needs every request in user space".to_string(),
            );
        }
        if !cfg.vlans.is_empty() {
            // The XDP program answers untagged frames only (a tag may be in the bytes or in
            // the driver's metadata): a VLAN stack is answered in user space.
            return Err("requests on a VLAN stack are answered in user space".to_string());
        }
        // Only a path that delivers: replies XDP_TX'ed into a veth whose peer takes no XDP
        // frames are all lost, so that is found out before the first request. On a veth in
        // auto mode the program is attached anyway but passes every request up until the peer
        // takes them (e.g. a sender attaches its own program later).
        let peer = xdp::veth_peer_takes_xdp(&self.iface, self.ifindex);
        let delivers = peer
            .clone()
            .and_then(|()| xdp::xdp_tx_delivers(&self.iface, self.ifindex, mac));
        match &delivers {
            Err(e) if self.required || peer.is_ok() => return Err(e.clone()),
            _ => {}
        }
        let x = XdpReflector::attach(
            &self.iface,
            self.ifindex,
            &XdpReflectConfig {
                mac,
                addr: cfg.addr,
                prefix: cfg.prefix,
                limit: cfg.count,
            },
        )?;
        match delivers {
            Ok(()) => x.set_answering(true),
            Err(e) => self.gate = Some(e),
        }
        Ok(x)
    }

    /// When the loop must wake to look at the peer again.
    pub(super) fn next_look(&self) -> Option<Instant> {
        self.xdp.as_ref().map(|_| self.next_look)
    }

    /// Look at the peer again when due, and at the replies the interface failed to transmit;
    /// move echo between the kernel and user space as they say, and bring the program's counts
    /// into `c`. A sentence when echo moved; an error when the program was required and its
    /// replies are lost.
    pub(super) fn watch(&mut self, now: Instant, c: &mut Counters) -> Result<Option<String>> {
        let mut moved = self.look_at_peer(now, c);
        let Some(x) = &self.xdp else {
            return Ok(moved);
        };
        c.xdp_echo_replies = x.replies();
        c.xdp_tx_failed = x.tx_failures();
        // XDP_TX that the interface refuses is lost: the peer takes no XDP frames.
        if c.xdp_tx_failed >= XDP_TX_FAILURES && c.xdp_tx_failed * 2 >= c.xdp_echo_replies {
            let why = format!(
                "{} of {} XDP replies were not transmitted: on a veth pair the peer needs GRO on or an XDP program attached",
                c.xdp_tx_failed, c.xdp_echo_replies
            );
            if self.required {
                return Err(Error::Unsupported {
                    what: format!("XDP reflector on {}", self.iface),
                    needs: why.to_string(),
                });
            }
            c.xdp_echo_replies = c.xdp_echo_replies.saturating_sub(c.xdp_tx_failed);
            c.xdp_unavailable = Some(why);
            c.mode = "packet".into();
            self.xdp = None;
            moved = Some(where_echo(c));
        }
        Ok(moved)
    }

    /// The peer is looked at again now and then: every few milliseconds while requests wait
    /// for it in user space (none is lost), less often while XDP answers (a peer that dropped
    /// its program would lose the replies).
    fn look_at_peer(&mut self, now: Instant, c: &mut Counters) -> Option<String> {
        let x = self.xdp.as_ref().filter(|_| now >= self.next_look)?;
        let peer = xdp::veth_peer_takes_xdp(&self.iface, self.ifindex);
        let moved = match (peer, self.gate.is_some()) {
            (Ok(()), true) => {
                x.set_answering(true);
                self.gate = None;
                c.mode = xdp_mode(x.native).into();
                c.xdp_unavailable = None;
                Some(where_echo(c))
            }
            (Err(why), false) => {
                x.set_answering(false);
                c.mode = "packet".into();
                c.xdp_unavailable = Some(why.clone());
                self.gate = Some(why);
                Some(where_echo(c))
            }
            _ => None,
        };
        self.next_look = now
            + if self.gate.is_some() {
                XDP_GATE_RECHECK
            } else {
                XDP_PEER_RECHECK
            };
        moved
    }

    /// The program's final counts into `c`.
    pub(super) fn collect(&self, c: &mut Counters) {
        if let Some(x) = &self.xdp {
            c.xdp_echo_replies = x.replies();
            c.xdp_tx_failed = x.tx_failures();
        }
    }
}

/// No XDP here: everything is answered in user space.
#[cfg(not(target_os = "linux"))]
pub(super) struct Offload;

#[cfg(not(target_os = "linux"))]
impl Offload {
    /// Everything in user space.
    pub(super) fn choose(
        _cfg: &ReflectConfig,
        _ifc: &Interface,
        _mac: MacAddr,
        counters: &mut Counters,
    ) -> Result<Self> {
        counters.mode = "packet".into();
        Ok(Offload)
    }

    /// Never.
    pub(super) fn next_look(&self) -> Option<Instant> {
        None
    }

    /// Nothing moves.
    pub(super) fn watch(&mut self, _now: Instant, _c: &mut Counters) -> Result<Option<String>> {
        Ok(None)
    }

    /// Nothing to count.
    pub(super) fn collect(&self, _c: &mut Counters) {}
}
