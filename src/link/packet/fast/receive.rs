//! Receiving on the fast link: the TPACKET_V3 ring, its kernel timestamps, packet types and
//! the VLAN tags the kernel stripped.

use std::io;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant, SystemTime};

use libc::{TP_STATUS_KERNEL, TP_STATUS_TS_RAW_HARDWARE, TP_STATUS_TS_SOFTWARE, TP_STATUS_USER};

use super::*;
use crate::{Error, Result};

impl FastLink {
    /// Hand every frame already in the receive ring to `f` (data, kernel timestamp), without
    /// waiting. Returns how many frames were handed over.
    pub fn recv_in_place(&mut self, f: &mut dyn FnMut(&[u8], SystemTime)) -> Result<usize> {
        let mut n = 0;
        while let Some(slot) = self.next_frame() {
            if self.own.is_active()
                && self
                    .own
                    .take(slot_bytes(&self.scratch, &slot), Instant::now())
            {
                self.suppressed += 1;
                continue;
            }
            self.received += 1;
            n += 1;
            f(self.slot_bytes(&slot), slot.ts);
        }
        Ok(n)
    }

    /// The bytes of a frame `next_frame` returned.
    pub(super) fn slot_bytes(&self, s: &RxSlot) -> &[u8] {
        slot_bytes(&self.scratch, s)
    }

    /// The next frame the direction rule wants, its VLAN tag put back and, when it had one,
    /// the filter run again on the restored bytes.
    pub(super) fn next_frame(&mut self) -> Option<RxSlot> {
        loop {
            let RxHdr {
                ptr,
                len,
                ts,
                status,
                tci,
                tpid,
                wire,
                pkttype,
                tag_room,
            } = self.next_rx()?;
            if !self.policy.wants(pkttype) {
                continue;
            }
            let outgoing = pkttype == crate::link::packet::rx::PACKET_OUTGOING;
            let mut slot = RxSlot {
                ptr,
                len,
                wire_len: wire,
                outgoing,
                ts,
                copied: false,
            };
            let Some(tag) = crate::link::packet::rx::stripped_tag(status, tci, tpid) else {
                return Some(slot);
            };
            if len < 12 {
                return Some(slot);
            }
            if tag_room {
                // SAFETY: the 4 bytes before the frame are padding after the sockaddr_ll in
                // a block we own; the mapping is writable.
                unsafe {
                    let start = (ptr as *mut u8).sub(crate::link::packet::rx::TAG_LEN);
                    std::ptr::copy(ptr, start, 12);
                    let t = start.add(12);
                    std::ptr::copy_nonoverlapping(tag.0.to_be_bytes().as_ptr(), t, 2);
                    std::ptr::copy_nonoverlapping(tag.1.to_be_bytes().as_ptr(), t.add(2), 2);
                    slot.ptr = start;
                }
            } else {
                self.scratch.clear();
                self.scratch.resize(crate::link::packet::rx::TAG_LEN, 0);
                // SAFETY: as in slot_bytes.
                self.scratch
                    .extend_from_slice(unsafe { std::slice::from_raw_parts(ptr, len) });
                crate::link::packet::rx::insert_tag(
                    &mut self.scratch,
                    crate::link::packet::rx::TAG_LEN,
                    len,
                    tag,
                );
                slot.copied = true;
            }
            slot.len += crate::link::packet::rx::TAG_LEN;
            slot.wire_len += crate::link::packet::rx::TAG_LEN;
            if self.policy.accepts_retagged(self.slot_bytes(&slot)) {
                return Some(slot);
            }
        }
    }

    /// The next frame of the ring, releasing exhausted blocks (the frame handed out last, on
    /// a per-frame ring).
    pub(super) fn next_rx(&mut self) -> Option<RxHdr> {
        if self.rx.per_frame {
            return self.next_rx_v2();
        }
        loop {
            let base = self.rx.map.ptr;
            // SAFETY: block < blocks, so the descriptor lies in the mapping.
            let bd = unsafe { base.add(self.rx.block * self.rx.block_size) } as *mut BlockDesc;
            if self.rx.left == 0 {
                if self.rx.offset != 0 {
                    // Finished with this block: give it back and move on.
                    fence(Ordering::Release);
                    // SAFETY: status word of a block we own.
                    unsafe {
                        std::ptr::write_volatile(&mut (*bd).hdr.bh1.block_status, TP_STATUS_KERNEL)
                    };
                    self.rx.offset = 0;
                    self.rx.block = (self.rx.block + 1) % self.rx.blocks;
                    continue;
                }
                // SAFETY: volatile read of a status the kernel writes.
                let st = unsafe { std::ptr::read_volatile(&(*bd).hdr.bh1.block_status) };
                if st & TP_STATUS_USER == 0 {
                    return None;
                }
                fence(Ordering::Acquire);
                // SAFETY: the block is ours now.
                let (num, first) =
                    unsafe { ((*bd).hdr.bh1.num_pkts, (*bd).hdr.bh1.offset_to_first_pkt) };
                if num == 0 {
                    self.rx.offset = 1; // empty block: release it on the next turn
                    continue;
                }
                self.rx.left = num;
                self.rx.offset = first as usize;
            }
            let block_base = bd as *const u8;
            if self.rx.offset + std::mem::size_of::<Tpacket3Hdr>() > self.rx.block_size {
                self.rx.left = 0;
                self.rx.offset = 1;
                continue;
            }
            // SAFETY: offset within the block (checked above).
            let hp = unsafe { block_base.add(self.rx.offset) } as *const Tpacket3Hdr;
            // SAFETY: as above.
            let h = unsafe { &*hp };
            let mac = usize::from(h.tp_mac);
            let len = h.tp_snaplen as usize;
            let ok = mac >= TP3_SLL_END && self.rx.offset + mac + len <= self.rx.block_size;
            // SAFETY: bounds checked by `ok`.
            let ptr = unsafe { block_base.add(self.rx.offset + mac) };
            let ts = SystemTime::UNIX_EPOCH + Duration::new(u64::from(h.tp_sec), h.tp_nsec);
            if h.tp_status & (TP_STATUS_TS_SOFTWARE | TP_STATUS_TS_RAW_HARDWARE) != 0 {
                self.kernel_ts += 1;
            }
            self.rx.left -= 1;
            if self.rx.left == 0 || h.tp_next_offset == 0 {
                self.rx.left = 0;
                self.rx.offset = self.rx.offset.max(1);
            } else {
                self.rx.offset += h.tp_next_offset as usize;
            }
            if ok {
                // SAFETY: the frame's header, in a block we own.
                let pkttype = unsafe { *(hp as *const u8).add(TP3_SLL + SLL_PKTTYPE) };
                return Some(RxHdr {
                    ptr,
                    len,
                    ts,
                    status: h.tp_status,
                    tci: h.hv1.tp_vlan_tci as u16,
                    tpid: h.hv1.tp_vlan_tpid,
                    wire: h.tp_len as usize,
                    pkttype,
                    tag_room: mac >= TP3_SLL_END + crate::link::packet::rx::TAG_LEN,
                });
            }
        }
    }

    /// [`FastLink::next_rx`] on a TPACKET_V2 ring: one frame per slot, each with its own
    /// status, so the kernel wakes the reader for every frame (no block to retire first).
    fn next_rx_v2(&mut self) -> Option<RxHdr> {
        loop {
            // SAFETY: block < blocks: the slot lies in the mapping.
            let hp = unsafe { self.rx.map.ptr.add(self.rx.block * self.rx.block_size) }
                as *mut Tpacket2Hdr;
            if self.rx.offset != 0 {
                // The frame handed out last: give it back and move on.
                fence(Ordering::Release);
                // SAFETY: status word of a slot we own.
                unsafe { std::ptr::write_volatile(&mut (*hp).tp_status, TP_STATUS_KERNEL) };
                self.rx.offset = 0;
                self.rx.block = (self.rx.block + 1) % self.rx.blocks;
                continue;
            }
            // SAFETY: volatile read of a status the kernel writes.
            let st = unsafe { std::ptr::read_volatile(&(*hp).tp_status) };
            if st & TP_STATUS_USER == 0 {
                return None;
            }
            fence(Ordering::Acquire);
            self.rx.offset = 1;
            // SAFETY: the slot is ours until we give it back.
            let h = unsafe { &*hp };
            let mac = usize::from(h.tp_mac);
            let len = h.tp_snaplen as usize;
            if mac < TP2_SLL_END || mac + len > self.rx.block_size {
                continue;
            }
            if h.tp_status & (TP_STATUS_TS_SOFTWARE | TP_STATUS_TS_RAW_HARDWARE) != 0 {
                self.kernel_ts += 1;
            }
            // SAFETY: bounds checked above; the header is followed by its sockaddr_ll.
            let (ptr, pkttype) = unsafe {
                (
                    (hp as *const u8).add(mac),
                    *(hp as *const u8).add(TP2_SLL + SLL_PKTTYPE),
                )
            };
            return Some(RxHdr {
                ptr,
                len,
                ts: SystemTime::UNIX_EPOCH + Duration::new(u64::from(h.tp_sec), h.tp_nsec),
                status: h.tp_status,
                tci: h.tp_vlan_tci,
                tpid: h.tp_vlan_tpid,
                wire: h.tp_len as usize,
                pkttype,
                tag_room: mac >= TP2_SLL_END + crate::link::packet::rx::TAG_LEN,
            });
        }
    }

    /// Wait until a receive block is ready or `deadline` passes. Errors when the socket reports
    /// one (e.g. the interface went down).
    pub fn wait_rx(&mut self, deadline: Instant) -> Result<()> {
        if self.rx.left > 0 {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let ts = libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        let mut p = libc::pollfd {
            fd: self.rx_fd.0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd and timespec.
        let rc = unsafe { libc::ppoll(&mut p, 1, &ts, std::ptr::null()) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(Error::io(format!("waiting on {}", self.iface.name), e));
        }
        if rc > 0 && p.revents & libc::POLLERR != 0 {
            return Err(self.sock_error(self.rx_fd.0));
        }
        Ok(())
    }

    /// Check for an asynchronous socket error (e.g. the interface went down).
    pub fn check_error(&self) -> Result<()> {
        let mut p = libc::pollfd {
            fd: self.rx_fd.0,
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no waiting.
        unsafe { libc::poll(&mut p, 1, 0) };
        if p.revents & libc::POLLERR != 0 {
            return Err(self.sock_error(self.rx_fd.0));
        }
        Ok(())
    }
}
