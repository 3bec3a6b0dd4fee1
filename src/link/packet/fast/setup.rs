//! Opening a fast link, one job per function: the transmit socket and the path frames leave
//! by (AF_XDP, TX ring or `sendmmsg`), the receive socket (direction, filter, timestamps), the
//! receive ring mapped, promiscuous mode.

use std::io;
use std::os::fd::RawFd;

use super::{
    rx_ring_for, sockaddr_ll, tx_slot_for, FastLink, FastOptions, Mmap, Rx, RxRing, Tx, TxMode,
    MAX_FRAME, MMSG_BATCH, TPACKET_V2, TPACKET_V3, TX_RING_BYTES,
};
use crate::link::packet::pnet::OwnFrames;
use crate::link::sys::{
    packet_socket, setsockopt, Fd, PACKET_IGNORE_OUTGOING, SOL_PACKET, SO_ATTACH_FILTER,
    SO_TIMESTAMPNS,
};
use crate::link::xdp::afxdp::{self, XdpTx};
use crate::link::{Direction, LinkConfig, RxFilter};
use crate::net::Interface;
use crate::{Error, Result};

use libc::{
    ETH_P_ALL, PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC, PACKET_QDISC_BYPASS, PACKET_RX_RING,
    PACKET_TX_RING, PACKET_VERSION, SO_SNDBUFFORCE,
};

/// `what` on `iface`, for errors.
fn on(iface: &Interface, what: &str) -> String {
    format!("{what} on {}", iface.name)
}

impl FastLink {
    /// Open the TX and RX sockets and rings on `iface`.
    pub fn open(iface: &Interface, cfg: &LinkConfig, opts: FastOptions) -> Result<FastLink> {
        let max_frame = if opts.max_frame == 0 {
            1514
        } else {
            opts.max_frame
        };
        let slot = tx_slot_for(max_frame).ok_or_else(|| Error::FrameDoesNotFit {
            bytes: max_frame,
            place: "a TX ring slot".into(),
            limit: MAX_FRAME,
        })?;

        let tx_fd = tx_socket(iface, opts.bypass_taps)?;
        let tx = tx_path(&tx_fd, iface, &opts, max_frame, slot)?;
        bind(tx_fd.0, iface, 0)?;

        let rx_fd = packet_socket(iface)?;
        let ignore_outgoing = cfg.direction == Direction::In && ignore_outgoing(&rx_fd);
        attach_filter(&rx_fd, iface, &cfg.filter)?;
        enable_timestamps(&rx_fd, iface)?;
        let rx = map_rx_ring(&rx_fd, iface, cfg)?;
        bind(rx_fd.0, iface, ETH_P_ALL as u16)?;
        if cfg.promiscuous {
            enable_promiscuous(&rx_fd, iface)?;
        }

        Ok(FastLink {
            policy: crate::link::rx_policy(iface, cfg),
            scratch: Vec::new(),
            iface: iface.clone(),
            tx_fd,
            rx_fd,
            tx,
            rx,
            sent: 0,
            received: 0,
            kernel_ts: 0,
            drops: std::cell::Cell::new(0),
            ignore_outgoing,
            own: OwnFrames::new(own_copies_per_send(iface, cfg, ignore_outgoing)),
            suppressed: 0,
            ethertype_hint: 0x0800,
        })
    }
}

/// The transmit socket (protocol 0: it never queues a received frame), its send buffer
/// enlarged, and the packet taps skipped when `bypass_taps` asks (`PACKET_QDISC_BYPASS`).
fn tx_socket(iface: &Interface, bypass_taps: bool) -> Result<Fd> {
    let fd = packet_socket(iface)?;
    let one: libc::c_int = 1;
    if bypass_taps {
        setsockopt(fd.0, SOL_PACKET, PACKET_QDISC_BYPASS, &one)
            .map_err(|e| Error::io(on(iface, "setting PACKET_QDISC_BYPASS"), e))?;
    }
    let sndbuf: libc::c_int = 4 << 20;
    let _ = setsockopt(fd.0, libc::SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf);
    Ok(fd)
}

/// How frames leave, as `opts.tx_mode` asks: an AF_XDP socket (`Xdp`; `Auto` when one opens
/// and the frames fit it, else the TX ring), the TX ring (`Ring`, and `Live`, whose frames
/// the caller sends by XDP), or `sendmmsg` batches (`Mmsg`). `slot`: bytes per frame buffer.
fn tx_path(
    tx_fd: &Fd,
    iface: &Interface,
    opts: &FastOptions,
    max_frame: usize,
    slot: usize,
) -> Result<Tx> {
    match opts.tx_mode {
        TxMode::Xdp | TxMode::Auto => match af_xdp_tx(iface, opts, max_frame)? {
            Some(x) => Ok(Tx::Xdp(x)),
            None => tx_ring(tx_fd, iface, slot),
        },
        TxMode::Ring | TxMode::Live => tx_ring(tx_fd, iface, slot),
        TxMode::Mmsg => Ok(mmsg_batches(iface, slot)),
    }
}

/// An AF_XDP socket on `opts.queue` for frames up to `max_frame` bytes. When it cannot open
/// or the frames do not fit: an error in mode `Xdp`, None in `Auto` (the TX ring instead).
fn af_xdp_tx(
    iface: &Interface,
    opts: &FastOptions,
    max_frame: usize,
) -> Result<Option<Box<XdpTx>>> {
    let required = opts.tx_mode == TxMode::Xdp;
    match XdpTx::open(iface.index, opts.queue) {
        Ok(x) if max_frame <= afxdp::FRAME_SIZE as usize => Ok(Some(Box::new(x))),
        Ok(_) if required => Err(Error::FrameDoesNotFit {
            bytes: max_frame,
            place: "an AF_XDP frame".into(),
            limit: afxdp::FRAME_SIZE as usize,
        }),
        Err(e) if required => Err(Error::io(
            on(
                iface,
                &format!("opening an AF_XDP socket on queue {}", opts.queue),
            ),
            e,
        )),
        _ => Ok(None),
    }
}

/// A TPACKET_V2 TX ring of `TX_RING_BYTES` in `slot`-byte slots on `tx_fd`, mapped.
fn tx_ring(tx_fd: &Fd, iface: &Interface, slot: usize) -> Result<Tx> {
    setsockopt(tx_fd.0, SOL_PACKET, PACKET_VERSION, &TPACKET_V2)
        .map_err(|e| Error::io(on(iface, "selecting TPACKET_V2"), e))?;
    let block = slot.max(1 << 16);
    let req = libc::tpacket_req {
        tp_block_size: block as u32,
        tp_block_nr: (TX_RING_BYTES / block) as u32,
        tp_frame_size: slot as u32,
        tp_frame_nr: (TX_RING_BYTES / slot) as u32,
    };
    setsockopt(tx_fd.0, SOL_PACKET, PACKET_TX_RING, &req)
        .map_err(|e| Error::io(on(iface, "setting up the TX ring"), e))?;
    let map = Mmap::new(tx_fd.0, TX_RING_BYTES)
        .map_err(|e| Error::io(on(iface, "mapping the TX ring"), e))?;
    Ok(Tx::Ring {
        map,
        slot,
        slots: TX_RING_BYTES / slot,
        next: 0,
        pending: 0,
    })
}

/// `sendmmsg` batches: `MMSG_BATCH` preallocated buffers of `slot` bytes.
fn mmsg_batches(iface: &Interface, slot: usize) -> Tx {
    Tx::Mmsg {
        bufs: vec![0u8; MMSG_BATCH * slot],
        slot,
        lens: vec![0; MMSG_BATCH],
        // SAFETY: plain C structs; pointers are set before each use.
        iov: vec![unsafe { std::mem::zeroed() }; MMSG_BATCH],
        // SAFETY: as above: an all-zero mmsghdr is valid; filled before each use.
        msgs: vec![unsafe { std::mem::zeroed() }; MMSG_BATCH],
        addr: Box::new(sockaddr_ll(iface.index, 0x0800)),
    }
}

/// Ask the kernel not to hand this socket the frames the host sends
/// (`PACKET_IGNORE_OUTGOING`, Linux 4.20); whether it did.
fn ignore_outgoing(rx_fd: &Fd) -> bool {
    let one: libc::c_int = 1;
    setsockopt(rx_fd.0, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one).is_ok()
}

/// Attach the classic BPF program for `filter` in the kernel (none for `RxFilter::All`).
fn attach_filter(rx_fd: &Fd, iface: &Interface, filter: &RxFilter) -> Result<()> {
    let Some(mut prog) = crate::link::filter_program(filter) else {
        return Ok(());
    };
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_mut_ptr(),
    };
    setsockopt(rx_fd.0, libc::SOL_SOCKET, SO_ATTACH_FILTER, &fprog)
        .map_err(|e| Error::io(on(iface, "attaching the receive filter"), e))
}

/// Turn on receive timestamping in the stack (`net_enable_timestamp`), so ring headers carry
/// the skb's receive time (`TP_STATUS_TS_SOFTWARE`), not the time the ring was filled.
fn enable_timestamps(rx_fd: &Fd, iface: &Interface) -> Result<()> {
    let one: libc::c_int = 1;
    setsockopt(rx_fd.0, libc::SOL_SOCKET, SO_TIMESTAMPNS, &one)
        .map_err(|e| Error::io(on(iface, "enabling receive timestamps"), e))
}

/// The receive ring `cfg` asks for ([`rx_ring_for`]: TPACKET_V3 blocks, or TPACKET_V2 slots
/// for a per-frame reader) set up on `rx_fd` and mapped.
fn map_rx_ring(rx_fd: &Fd, iface: &Interface, cfg: &LinkConfig) -> Result<Rx> {
    let mtu_frame = iface.mtu as usize + 14 + 4;
    let (block_size, blocks) = match rx_ring_for(cfg, mtu_frame) {
        RxRing::PerFrame { req, frame, frames } => {
            set_rx_ring(rx_fd, iface, (TPACKET_V2, "selecting TPACKET_V2"), &req)?;
            (frame, frames)
        }
        RxRing::Blocks(req) => {
            set_rx_ring(rx_fd, iface, (TPACKET_V3, "selecting TPACKET_V3"), &req)?;
            (req.tp_block_size as usize, req.tp_block_nr as usize)
        }
    };
    let map = Mmap::new(rx_fd.0, block_size * blocks)
        .map_err(|e| Error::io(on(iface, "mapping the RX ring"), e))?;
    Ok(Rx {
        map,
        block_size,
        blocks,
        block: 0,
        left: 0,
        offset: 0,
        per_frame: cfg.rx_per_frame,
    })
}

/// Select the TPACKET `version` (named for errors), then request the RX ring `req`.
fn set_rx_ring<T>(
    rx_fd: &Fd,
    iface: &Interface,
    (version, selecting): (libc::c_int, &str),
    req: &T,
) -> Result<()> {
    setsockopt(rx_fd.0, SOL_PACKET, PACKET_VERSION, &version)
        .map_err(|e| Error::io(on(iface, selecting), e))?;
    setsockopt(rx_fd.0, SOL_PACKET, PACKET_RX_RING, req)
        .map_err(|e| Error::io(on(iface, "setting up the RX ring"), e))
}

/// Receive unicast frames addressed to other MACs too (`PACKET_MR_PROMISC` membership: the
/// kernel undoes it when the socket closes).
fn enable_promiscuous(rx_fd: &Fd, iface: &Interface) -> Result<()> {
    let mr = libc::packet_mreq {
        mr_ifindex: iface.index as libc::c_int,
        mr_type: PACKET_MR_PROMISC as u16,
        mr_alen: 0,
        mr_address: [0; 8],
    };
    setsockopt(rx_fd.0, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr)
        .map_err(|e| Error::io(on(iface, "enabling promiscuous mode"), e))
}

/// How many copies of each frame sent come back in to be dropped: one on `lo` (every frame
/// returns as an incoming one), one more when the kernel did not take
/// `PACKET_IGNORE_OUTGOING`; none when the caller asked for outgoing frames.
fn own_copies_per_send(iface: &Interface, cfg: &LinkConfig, ignore_outgoing: bool) -> usize {
    if cfg.direction == Direction::In {
        usize::from(iface.is_loopback) + usize::from(!ignore_outgoing)
    } else {
        0
    }
}

fn bind(fd: RawFd, iface: &Interface, protocol: u16) -> Result<()> {
    let sa = sockaddr_ll(iface.index, protocol);
    // SAFETY: binding to a valid sockaddr_ll.
    let rc = unsafe {
        libc::bind(
            fd,
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(Error::io(
            format!("binding a packet socket to {}", iface.name),
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}
