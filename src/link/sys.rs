//! The syscall plumbing the packet backends, AF_XDP and the eBPF loader share: packet-socket
//! creation with the permission error users need, `setsockopt`/`getsockopt`, an owning
//! descriptor, and Linux uapi constants.

use std::io;
use std::os::fd::RawFd;

use crate::net::Interface;
use crate::{Error, Result};

// Linux uapi constants (stable ABI on the architectures we build for).
pub(crate) const SOL_PACKET: libc::c_int = 263;
pub(crate) const PACKET_STATISTICS: libc::c_int = 6;
pub(crate) const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
pub(crate) const SO_ATTACH_FILTER: libc::c_int = 26;
pub(crate) const SO_TIMESTAMPNS: libc::c_int = 35;

/// An owned descriptor, closed on drop unless handed over with [`Fd::into_raw`].
pub(crate) struct Fd(pub(crate) RawFd);

impl Fd {
    /// Give up ownership (e.g. to pnet, which closes it itself).
    pub(crate) fn into_raw(self) -> RawFd {
        let fd = self.0;
        std::mem::forget(self);
        fd
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor.
        unsafe { libc::close(self.0) };
    }
}

/// `setsockopt(2)` with a value of any plain type.
pub(crate) fn setsockopt<T>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    val: &T,
) -> io::Result<()> {
    // SAFETY: val points to a live T of the given size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (val as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `getsockopt(2)` for a value of a plain C type (all-zero bytes valid), e.g. `c_int` or
/// `libc::tpacket_stats`.
pub(crate) fn getsockopt<T: Copy>(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<T> {
    // SAFETY: T is a plain C type for which all-zero bytes are a valid value.
    let mut val: T = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: val is a live T and len its size; the kernel writes at most len bytes.
    let rc = unsafe { libc::getsockopt(fd, level, name, (&mut val as *mut T).cast(), &mut len) };
    if rc == 0 {
        Ok(val)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The socket's pending error (`SO_ERROR`), taken; `fallback` when none is pending.
pub(crate) fn pending_error(fd: RawFd, fallback: impl FnOnce() -> io::Error) -> io::Error {
    match getsockopt::<libc::c_int>(fd, libc::SOL_SOCKET, libc::SO_ERROR) {
        Ok(err) if err != 0 => io::Error::from_raw_os_error(err),
        _ => fallback(),
    }
}

/// Frames the kernel dropped on this packet socket since the last call (`PACKET_STATISTICS`
/// resets its counters on read); 0 when it cannot tell. `T` is `libc::tpacket_stats`, or
/// `libc::tpacket_stats_v3` on a TPACKET_V3 ring.
pub(crate) fn packet_drops<T: Copy + PacketStats>(fd: RawFd) -> u64 {
    getsockopt::<T>(fd, SOL_PACKET, PACKET_STATISTICS).map_or(0, |s| s.drops())
}

/// The drop counter of the kernel's packet statistics structs.
pub(crate) trait PacketStats {
    /// `tp_drops`.
    fn drops(&self) -> u64;
}

impl PacketStats for libc::tpacket_stats {
    fn drops(&self) -> u64 {
        u64::from(self.tp_drops)
    }
}

impl PacketStats for libc::tpacket_stats_v3 {
    fn drops(&self) -> u64 {
        u64::from(self.tp_drops)
    }
}

/// The error for a refused packet socket: what is missing and how to grant it.
pub(crate) fn socket_error(iface: &Interface, what: &str, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => Error::NoPermission {
            iface: iface.name.clone(),
            exe: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "pktforge".into()),
        },
        _ => Error::io(format!("{what} for {}", iface.name), e),
    }
}

/// An AF_PACKET raw socket with protocol 0: nothing is queued until it is bound with a
/// protocol to one interface, so no frame of another interface slips in before the bind.
pub(crate) fn packet_socket(iface: &Interface) -> Result<Fd> {
    // SAFETY: plain socket(2).
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(socket_error(
            iface,
            "opening a packet socket",
            io::Error::last_os_error(),
        ));
    }
    Ok(Fd(fd))
}
