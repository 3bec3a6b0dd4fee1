//! Transmitting on the fast link: the TPACKET_V2 TX ring, `sendmmsg` batches and AF_XDP, with
//! frames written in place and flushed with one syscall per batch.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

use libc::{TP_STATUS_SENDING, TP_STATUS_SEND_REQUEST, TP_STATUS_WRONG_FORMAT};

use super::{sockaddr_ll, FastLink, Mmap, Tpacket2Hdr, Tx, MMSG_BATCH, TX_DATA_OFFSET};
use crate::{Error, Result};

impl FastLink {
    pub(super) fn tx_slot_ptr(map: &Mmap, slot: usize, i: usize) -> *mut u8 {
        // SAFETY: i < slots, so the slot lies inside the mapping.
        unsafe { map.ptr.add(i * slot) }
    }

    /// Flush queued TX slots with one syscall. Returns an error when the kernel refuses.
    pub(super) fn tx_flush(&mut self) -> Result<()> {
        if let Tx::Xdp(x) = &mut self.tx {
            let r = x.kick();
            return r.map_err(|e| self.tx_error(e));
        }
        match &mut self.tx {
            Tx::Xdp(_) => Ok(()),
            Tx::Ring { pending, .. } => {
                if *pending == 0 {
                    return Ok(());
                }
                let sa = sockaddr_ll(self.iface.index, self.ethertype_hint);
                loop {
                    // SAFETY: zero-length sendto flushes the TX ring.
                    let rc = unsafe {
                        libc::sendto(
                            self.tx_fd.0,
                            std::ptr::null(),
                            0,
                            libc::MSG_DONTWAIT,
                            (&sa as *const libc::sockaddr_ll).cast(),
                            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                        )
                    };
                    if rc >= 0 {
                        // The kernel may stop early (socket buffer full); what it left stays
                        // queued and goes with the next flush or `tx_drain`.
                        if let Tx::Ring { pending, .. } = &mut self.tx {
                            *pending = 0;
                        }
                        return Ok(());
                    }
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => continue,
                        // Socket buffer momentarily full: the frames stay queued and go out
                        // with the next flush.
                        Some(libc::EAGAIN) | Some(libc::ENOBUFS) => return Ok(()),
                        _ => return Err(self.tx_error(e)),
                    }
                }
            }
            Tx::Mmsg {
                bufs,
                slot,
                lens,
                iov,
                msgs,
                addr,
            } => {
                let n = lens.len().min(msgs.len());
                let n = lens[..n].iter().take_while(|&&l| l > 0).count();
                if n == 0 {
                    return Ok(());
                }
                addr.sll_protocol = self.ethertype_hint.to_be();
                for i in 0..n {
                    iov[i].iov_base = bufs[i * *slot..].as_mut_ptr().cast();
                    iov[i].iov_len = lens[i];
                    let h = &mut msgs[i].msg_hdr;
                    h.msg_name = (&mut **addr as *mut libc::sockaddr_ll).cast();
                    h.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                    h.msg_iov = &mut iov[i];
                    h.msg_iovlen = 1;
                }
                let mut done = 0;
                while done < n {
                    // SAFETY: msgs[done..n] are filled above and point into `bufs`.
                    let rc = unsafe {
                        libc::sendmmsg(
                            self.tx_fd.0,
                            msgs[done..].as_mut_ptr(),
                            (n - done) as libc::c_uint,
                            0,
                        )
                    };
                    if rc < 0 {
                        let e = io::Error::last_os_error();
                        match e.raw_os_error() {
                            Some(libc::EINTR) => continue,
                            Some(libc::ENOBUFS) | Some(libc::EAGAIN) => {
                                std::thread::yield_now();
                                continue;
                            }
                            _ => {
                                lens.iter_mut().for_each(|l| *l = 0);
                                let err =
                                    io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0));
                                return Err(Error::io(
                                    format!("sending on {}", self.iface.name),
                                    err,
                                ));
                            }
                        }
                    }
                    done += rc as usize;
                }
                lens.iter_mut().for_each(|l| *l = 0);
                Ok(())
            }
        }
    }

    pub(super) fn tx_error(&self, e: io::Error) -> Error {
        let down = matches!(e.raw_os_error(), Some(libc::ENETDOWN) | Some(libc::ENXIO));
        Error::io(
            if down {
                format!("sending on {}: the interface went down", self.iface.name)
            } else {
                format!("sending on {}", self.iface.name)
            },
            e,
        )
    }

    /// Flush until every queued TX slot has been taken by the kernel, or `deadline`.
    pub fn tx_drain(&mut self, deadline: Instant) -> Result<()> {
        loop {
            let busy = match &mut self.tx {
                Tx::Ring {
                    map,
                    slot,
                    slots,
                    pending,
                    ..
                } => {
                    let busy = (0..*slots).any(|i| {
                        let hdr = Self::tx_slot_ptr(map, *slot, i) as *const Tpacket2Hdr;
                        // SAFETY: see tx_wait_slot.
                        let st = unsafe { std::ptr::read_volatile(&(*hdr).tp_status) };
                        st & TP_STATUS_SEND_REQUEST != 0
                    });
                    if busy {
                        *pending = (*pending).max(1);
                    }
                    busy
                }
                Tx::Mmsg { .. } => false,
                Tx::Xdp(x) => {
                    x.reap();
                    x.in_flight() > 0
                }
            };
            if !busy {
                return Ok(());
            }
            self.tx_flush()?;
            if Instant::now() >= deadline {
                return Ok(());
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    /// Wait up to `deadline` for a free TX slot (the kernel frees them as frames leave).
    pub(super) fn tx_wait_slot(&mut self, deadline: Instant) -> Result<bool> {
        loop {
            let free = match &mut self.tx {
                Tx::Ring {
                    map, slot, next, ..
                } => {
                    let hdr = Self::tx_slot_ptr(map, *slot, *next) as *const Tpacket2Hdr;
                    // SAFETY: the header lies in the mapping; the kernel writes it concurrently,
                    // hence the volatile read.
                    let st = unsafe { std::ptr::read_volatile(&(*hdr).tp_status) };
                    if st & TP_STATUS_WRONG_FORMAT != 0 {
                        return Err(Error::Invalid(format!(
                            "the kernel refused a frame on {} (TP_STATUS_WRONG_FORMAT)",
                            self.iface.name
                        )));
                    }
                    st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING) == 0
                }
                Tx::Mmsg { .. } => true,
                Tx::Xdp(x) => x.has_room(),
            };
            if free {
                return Ok(true);
            }
            // Ring full: push out what is queued, then give the kernel a moment.
            self.tx_flush()?;
            if Instant::now() >= deadline {
                return Ok(false);
            }
            let fd = match &self.tx {
                Tx::Xdp(x) => x.raw_fd(),
                _ => self.tx_fd.0,
            };
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, 1) };
            if p.revents & libc::POLLERR != 0 {
                return Err(self.sock_error(fd));
            }
        }
    }

    pub(super) fn sock_error(&self, fd: RawFd) -> Error {
        let e = crate::link::sys::pending_error(fd, || io::Error::other("socket error"));
        if e.raw_os_error() == Some(libc::ENETDOWN) {
            Error::io(format!("{}: the interface went down", self.iface.name), e)
        } else {
            Error::io(format!("packet socket on {}", self.iface.name), e)
        }
    }

    /// Queue up to `n` frames written in place by `fill(i, slot) -> len` and flush them with one
    /// syscall. Returns how many were queued: fewer than `n` when the ring is full.
    /// `fill` must return a length ≤ the slot length; 0 skips the slot.
    pub fn send_in_place(
        &mut self,
        n: usize,
        fill: &mut dyn FnMut(usize, &mut [u8]) -> usize,
    ) -> Result<usize> {
        let queued = self.queue_in_place(n, fill);
        self.tx_flush()?;
        Ok(queued)
    }

    /// [`FastLink::send_in_place`] without the flush: on the TX ring the frames wait for the
    /// next [`FastLink::tx_flush`] (the other modes send them when they flush anyway).
    pub(super) fn queue_in_place(
        &mut self,
        n: usize,
        fill: &mut dyn FnMut(usize, &mut [u8]) -> usize,
    ) -> usize {
        let mut queued = 0;
        match &mut self.tx {
            Tx::Ring {
                map,
                slot,
                slots,
                next,
                pending,
            } => {
                while queued < n {
                    let base = Self::tx_slot_ptr(map, *slot, *next);
                    let hdr = base as *mut Tpacket2Hdr;
                    // SAFETY: see tx_wait_slot.
                    let st = unsafe { std::ptr::read_volatile(&(*hdr).tp_status) };
                    if st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING | TP_STATUS_WRONG_FORMAT)
                        != 0
                    {
                        break;
                    }
                    // SAFETY: the data area of a slot we own (status AVAILABLE).
                    let data = unsafe {
                        std::slice::from_raw_parts_mut(
                            base.add(TX_DATA_OFFSET),
                            *slot - TX_DATA_OFFSET,
                        )
                    };
                    let len = fill(queued, data);
                    queued += 1;
                    if len == 0 {
                        continue;
                    }
                    // SAFETY: header fields of a slot we own; the fence orders the data
                    // before the status the kernel polls.
                    unsafe {
                        (*hdr).tp_len = len as u32;
                        fence(Ordering::Release);
                        std::ptr::write_volatile(&mut (*hdr).tp_status, TP_STATUS_SEND_REQUEST);
                    }
                    *next = (*next + 1) % *slots;
                    *pending += 1;
                    self.sent += 1;
                }
            }
            Tx::Mmsg {
                bufs, slot, lens, ..
            } => {
                let n = n.min(MMSG_BATCH);
                while queued < n {
                    let data = &mut bufs[queued * *slot..(queued + 1) * *slot];
                    let len = fill(queued, data);
                    lens[queued] = len;
                    queued += 1;
                    if len > 0 {
                        self.sent += 1;
                    }
                }
                // Compact skipped slots is unnecessary: a 0 length ends the batch, so keep
                // only the prefix before the first skipped one.
            }
            Tx::Xdp(x) => {
                let (calls, sent) = x.queue(n, fill);
                queued = calls;
                self.sent += sent;
            }
        }
        queued
    }

    /// TX ring frames queued and not yet flushed.
    pub(super) fn tx_pending(&self) -> usize {
        match &self.tx {
            Tx::Ring { pending, .. } => *pending,
            _ => 0,
        }
    }
}
