//! The `pnet_datalink` backend: an AF_PACKET socket we prepare ourselves (ignore-outgoing,
//! BPF filter, timestamps, buffer size) and hand to `pnet_datalink::channel`, which binds it
//! to the interface and sends with `sendto`; frames are read with our own `recvmsg` for the
//! direction, the VLAN tag the kernel stripped (`PACKET_AUXDATA`) and the kernel timestamp.

use std::cell::Cell;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant, SystemTime};

use pnet_datalink::{Channel, DataLinkReceiver, DataLinkSender};

use crate::link::packet::rx::{self, Direction, RxPolicy, TAG_LEN};
use crate::link::sys::{
    packet_drops, packet_socket, pending_error, setsockopt, socket_error, PACKET_IGNORE_OUTGOING,
    SOL_PACKET, SO_ATTACH_FILTER, SO_TIMESTAMPNS,
};
use crate::link::{Link, LinkConfig, LinkStats, RxFrame};
use crate::net::Interface;
use crate::{Error, Result};

// Linux uapi constants (stable ABI on the architectures we build for).
const SO_RCVBUFFORCE: libc::c_int = 33;

/// Short poll timeout inside pnet's receiver; we poll the fd ourselves with the real
/// remaining time first, so this only bounds a spurious wake-up.
const PNET_READ_TIMEOUT: Duration = Duration::from_millis(20);
const PNET_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Receive buffer for one frame: lo's 64 KiB MTU plus headers.
const READ_BUFFER: usize = 65536 + 4096;
/// How long a sent frame is remembered to recognise its looped-back copy.
const OWN_TTL: Duration = Duration::from_secs(2);
const OWN_MAX: usize = 256;

/// Frames we sent recently, to recognise copies the kernel hands back to us
/// (on `lo` each sent frame is received once more; without `PACKET_IGNORE_OUTGOING`
/// the outgoing copy too). Matched by length and hash of the whole frame.
#[derive(Debug, Default)]
pub(crate) struct OwnFrames {
    copies_per_send: usize,
    recent: VecDeque<(Instant, usize, u64)>,
}

fn frame_hash(frame: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    frame.hash(&mut h);
    h.finish()
}

impl OwnFrames {
    /// Expect `copies_per_send` copies of each sent frame to come back.
    pub(crate) fn new(copies_per_send: usize) -> Self {
        OwnFrames {
            copies_per_send,
            recent: VecDeque::new(),
        }
    }

    /// Whether any copy is expected at all (else `take` is always false).
    pub(crate) fn is_active(&self) -> bool {
        self.copies_per_send > 0
    }

    pub(crate) fn remember(&mut self, frame: &[u8], now: Instant) {
        let key = (now, frame.len(), frame_hash(frame));
        for _ in 0..self.copies_per_send {
            if self.recent.len() >= OWN_MAX {
                self.recent.pop_front();
            }
            self.recent.push_back(key);
        }
    }

    /// True (and forget one copy) when `frame` is a copy of something we sent.
    pub(crate) fn take(&mut self, frame: &[u8], now: Instant) -> bool {
        while let Some(&(t, _, _)) = self.recent.front() {
            if now.duration_since(t) > OWN_TTL {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.is_empty() {
            return false;
        }
        let (len, h) = (frame.len(), frame_hash(frame));
        match self.recent.iter().position(|&(_, l, x)| l == len && x == h) {
            Some(i) => {
                self.recent.remove(i);
                true
            }
            None => false,
        }
    }
}

/// A link on one interface through `pnet_datalink`.
pub struct PnetLink {
    iface: String,
    /// The socket; owned (and closed) by pnet's sender/receiver.
    fd: RawFd,
    tx: Box<dyn DataLinkSender>,
    /// Kept for the descriptor it owns; frames are read with our own `recvmsg` (pnet's
    /// `recvfrom` drops the address and the auxiliary data: direction, VLAN tag, length).
    _rx: Box<dyn DataLinkReceiver>,
    /// The last frame read, at `buf[start..start + len]`; [`TAG_LEN`] spare bytes before it.
    buf: Vec<u8>,
    start: usize,
    len: usize,
    policy: RxPolicy,
    sent: u64,
    received: u64,
    drops: Cell<u64>,
    ignore_outgoing: bool,
    own: OwnFrames,
    suppressed: u64,
}

impl PnetLink {
    /// Open a packet socket on `iface` configured by `cfg`.
    pub fn open(iface: &Interface, cfg: &LinkConfig) -> Result<Self> {
        // Protocol 0 until pnet binds it (ETH_P_ALL) to this interface.
        let guard = packet_socket(iface)?;
        let fd = guard.0;

        let one: libc::c_int = 1;
        let ignore_outgoing = cfg.direction == Direction::In
            && setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one).is_ok();
        setsockopt(fd, SOL_PACKET, rx::PACKET_AUXDATA, &one)
            .map_err(|e| Error::io(format!("asking for PACKET_AUXDATA on {}", iface.name), e))?;

        if let Some(mut prog) = crate::link::filter_program(&cfg.filter) {
            let fprog = libc::sock_fprog {
                len: prog.len() as libc::c_ushort,
                filter: prog.as_mut_ptr(),
            };
            setsockopt(fd, libc::SOL_SOCKET, SO_ATTACH_FILTER, &fprog).map_err(|e| {
                Error::io(format!("attaching the receive filter on {}", iface.name), e)
            })?;
        }

        // Kernel receive timestamps (SCM_TIMESTAMPNS with every frame); without them, recv time.
        let _ = setsockopt(fd, libc::SOL_SOCKET, SO_TIMESTAMPNS, &one);

        if cfg.buffer_size > 0 {
            let size = libc::c_int::try_from(cfg.buffer_size / 2).unwrap_or(libc::c_int::MAX / 2);
            // The kernel doubles the value; FORCE (CAP_NET_ADMIN) ignores rmem_max.
            if setsockopt(fd, libc::SOL_SOCKET, SO_RCVBUFFORCE, &size).is_err() {
                setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size).map_err(|e| {
                    Error::io(format!("setting receive buffer on {}", iface.name), e)
                })?;
            }
        }

        let config = pnet_datalink::Config {
            write_buffer_size: 65536 + 4096,
            read_buffer_size: READ_BUFFER,
            read_timeout: Some(PNET_READ_TIMEOUT),
            write_timeout: Some(PNET_WRITE_TIMEOUT),
            promiscuous: cfg.promiscuous,
            socket_fd: Some(fd),
            ..Default::default()
        };
        // pnet owns the fd from here on (it closes it on its own errors too).
        let _ = guard.into_raw();
        let (tx, rx) = match pnet_datalink::channel(&iface.to_pnet(), config) {
            Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
            Ok(_) => {
                return Err(Error::Invalid(format!(
                    "pnet returned a non-Ethernet channel for {}",
                    iface.name
                )))
            }
            Err(e) => return Err(socket_error(iface, "binding the packet socket", e)),
        };

        let copies_per_send = if cfg.direction == Direction::In {
            usize::from(iface.is_loopback) + usize::from(!ignore_outgoing)
        } else {
            0
        };
        Ok(PnetLink {
            iface: iface.name.clone(),
            fd,
            tx,
            _rx: rx,
            buf: vec![0; READ_BUFFER.max(cfg.rx_max_frame.unwrap_or(0)) + TAG_LEN],
            start: TAG_LEN,
            len: 0,
            policy: crate::link::rx_policy(iface, cfg),
            sent: 0,
            received: 0,
            drops: Cell::new(0),
            ignore_outgoing,
            own: OwnFrames {
                copies_per_send,
                recent: VecDeque::new(),
            },
            suppressed: 0,
        })
    }

    /// Read one queued frame with `recvmsg` (never blocks): its wire length, whether it
    /// went out, its kernel timestamp and the VLAN tag the kernel stripped, if any. The bytes
    /// land at `buf[TAG_LEN..]`. None when nothing is queued.
    #[allow(clippy::type_complexity)]
    fn recv_one(
        &mut self,
    ) -> io::Result<Option<(usize, usize, bool, SystemTime, Option<(u16, u16)>)>> {
        // SAFETY: plain C structs; all-zero is valid.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut ctl = [0u64; 32];
        let mut iov = libc::iovec {
            iov_base: self.buf[TAG_LEN..].as_mut_ptr().cast(),
            iov_len: self.buf.len() - TAG_LEN,
        };
        // SAFETY: as above.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&ctl) as _;
        // SAFETY: every pointer in msg points at live buffers of the sizes given.
        let rc = unsafe { libc::recvmsg(self.fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let wire = rc as usize;
        let len = wire.min(self.buf.len() - TAG_LEN);
        let mut ts = None;
        let mut tag = None;
        // SAFETY: the CMSG_* macros walk the control buffer the kernel filled, within
        // msg_controllen; each payload is read unaligned at its own size.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                match ((*c).cmsg_level, (*c).cmsg_type) {
                    (SOL_PACKET, rx::PACKET_AUXDATA) => {
                        #[repr(C)]
                        struct Aux {
                            tp_status: u32,
                            tp_len: u32,
                            tp_snaplen: u32,
                            tp_mac: u16,
                            tp_net: u16,
                            tp_vlan_tci: u16,
                            tp_vlan_tpid: u16,
                        }
                        let a = std::ptr::read_unaligned(data as *const Aux);
                        tag = rx::stripped_tag(a.tp_status, a.tp_vlan_tci, a.tp_vlan_tpid);
                    }
                    (libc::SOL_SOCKET, SO_TIMESTAMPNS) => {
                        let t = std::ptr::read_unaligned(data as *const libc::timespec);
                        if t.tv_sec > 0 {
                            ts = Some(
                                SystemTime::UNIX_EPOCH
                                    + Duration::new(t.tv_sec as u64, t.tv_nsec as u32),
                            );
                        }
                    }
                    _ => {}
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let outgoing = sa.sll_pkttype == rx::PACKET_OUTGOING;
        Ok(Some((
            len,
            wire,
            outgoing,
            ts.unwrap_or_else(SystemTime::now),
            tag,
        )))
    }

    /// Wait for readability up to `deadline`. Ok(false) on timeout.
    fn wait_readable(&self, deadline: Instant) -> Result<bool> {
        loop {
            // Past the deadline we still poll once with timeout 0: frames already queued
            // are returned, only waiting stops.
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = if left.is_zero() {
                0
            } else {
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
            };
            let mut p = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let rc = unsafe { libc::poll(&mut p, 1, ms) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::io(
                    format!("waiting for frames on {}", self.iface),
                    e,
                ));
            }
            if rc == 0 {
                if left.is_zero() {
                    return Ok(false);
                }
                continue;
            }
            if p.revents & libc::POLLIN != 0 {
                return Ok(true);
            }
            if p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                let revents = p.revents;
                let e = pending_error(self.fd, || {
                    io::Error::other(format!("poll revents {revents:#x}"))
                });
                return Err(Error::io(format!("packet socket on {}", self.iface), e));
            }
        }
    }
}

impl Link for PnetLink {
    fn expect_own_copy(&mut self, frame: &[u8]) {
        self.own.remember(frame, Instant::now());
    }

    fn send(&mut self, frame: &[u8]) -> Result<()> {
        self.own.remember(frame, Instant::now());
        match self.tx.send_to(frame, None) {
            Some(Ok(())) => {
                self.sent += 1;
                Ok(())
            }
            Some(Err(e)) => Err(Error::io(
                format!("sending a {}-byte frame on {}", frame.len(), self.iface),
                e,
            )),
            None => Err(Error::Invalid(format!(
                "frame of {} bytes does not fit the send buffer",
                frame.len()
            ))),
        }
    }

    fn recv(&mut self, deadline: Instant) -> Result<Option<RxFrame<'_>>> {
        // Bounded by the deadline; each iteration consumes one frame or waits.
        loop {
            let Some((len, wire, outgoing, timestamp, tag)) = self
                .recv_one()
                .map_err(|e| Error::io(format!("receiving on {}", self.iface), e))?
            else {
                if !self.wait_readable(deadline)? {
                    return Ok(None);
                }
                continue;
            };
            if !self
                .policy
                .wants(if outgoing { rx::PACKET_OUTGOING } else { 0 })
            {
                continue;
            }
            let (mut start, mut len, mut wire) = (TAG_LEN, len, wire);
            if let Some(tag) = tag {
                start = rx::insert_tag(&mut self.buf, TAG_LEN, len, tag);
                if start != TAG_LEN {
                    len += TAG_LEN;
                    wire += TAG_LEN;
                    if !self.policy.accepts_retagged(&self.buf[start..start + len]) {
                        continue;
                    }
                }
            }
            if self.own.take(&self.buf[start..start + len], Instant::now()) {
                self.suppressed += 1;
                continue;
            }
            self.received += 1;
            self.start = start;
            self.len = len;
            return Ok(Some(RxFrame {
                data: &self.buf[self.start..self.start + self.len],
                timestamp,
                wire_len: wire,
                outgoing,
            }));
        }
    }

    fn stats(&self) -> LinkStats {
        self.drops
            .set(self.drops.get() + packet_drops::<libc::tpacket_stats>(self.fd));
        LinkStats {
            sent: self.sent,
            received: self.received,
            kernel_drops: self.drops.get(),
            ignore_outgoing: self.ignore_outgoing,
            own_frames_suppressed: self.suppressed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_frames_match_once_and_expire() {
        let t0 = Instant::now();
        let mut o = OwnFrames {
            copies_per_send: 1,
            recent: VecDeque::new(),
        };
        o.remember(b"hello frame", t0);
        assert!(!o.take(b"other frame", t0));
        assert!(o.take(b"hello frame", t0));
        assert!(!o.take(b"hello frame", t0), "only one copy remembered");
        o.remember(b"late", t0);
        assert!(!o.take(b"late", t0 + OWN_TTL + Duration::from_millis(1)));
        let mut two = OwnFrames {
            copies_per_send: 2,
            recent: VecDeque::new(),
        };
        two.remember(b"x", t0);
        assert!(two.take(b"x", t0) && two.take(b"x", t0) && !two.take(b"x", t0));
        let mut none = OwnFrames::default();
        none.remember(b"x", t0);
        assert!(!none.take(b"x", t0));
        for i in 0..(OWN_MAX * 2) {
            two.remember(&i.to_le_bytes(), t0);
        }
        assert!(two.recent.len() <= OWN_MAX);
    }
}
