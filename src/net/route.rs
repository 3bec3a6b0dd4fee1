//! Route lookup by asking the kernel, like `ip route get DST [from SRC] [oif DEV]`.
//!
//! A hand-written rtnetlink `RTM_GETROUTE` request: the kernel applies the local
//! table, policy rules and longest-prefix match, and answers with one `RTM_NEWROUTE`
//! (or an `NLMSG_ERROR` carrying the errno).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{Error, Result};

/// The kernel's answer for one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Output interface index.
    pub oif: u32,
    /// Output interface name.
    pub iface: String,
    /// Next-hop router, when the destination is not on-link.
    pub gateway: Option<Ipv4Addr>,
    /// Source address the kernel would pick.
    pub prefsrc: Option<Ipv4Addr>,
    /// `RTN_LOCAL`: the destination is one of this host's addresses (delivered via `lo`).
    pub local: bool,
}

impl Route {
    /// The address whose MAC we need: the gateway, or the destination itself when on-link.
    pub fn next_hop(&self, dst: Ipv4Addr) -> Ipv4Addr {
        self.gateway.unwrap_or(dst)
    }
}

/// The kernel's answer for one IPv6 destination ([`lookup6`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route6 {
    /// Output interface index.
    pub oif: u32,
    /// Output interface name.
    pub iface: String,
    /// Next-hop router (often its link-local address), when the destination is not on-link.
    pub gateway: Option<Ipv6Addr>,
    /// Source address the kernel would pick (RFC 6724 source selection).
    pub prefsrc: Option<Ipv6Addr>,
    /// `RTN_LOCAL`: the destination is one of this host's addresses.
    pub local: bool,
}

impl Route6 {
    /// The address whose MAC we need: the gateway, or the destination itself when on-link.
    pub fn next_hop(&self, dst: Ipv6Addr) -> Ipv6Addr {
        self.gateway.unwrap_or(dst)
    }
}

// Linux uapi constants (stable ABI; not all are exported by the libc crate).
const NLMSG_HDRLEN: usize = 16;
const RTMSG_LEN: usize = 12;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;
const NLM_F_REQUEST: u16 = 1;
const RTA_DST: u16 = 1;
const RTA_SRC: u16 = 2;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PREFSRC: u16 = 7;
const RTA_TABLE: u16 = 15;

/// Route types (`rtm_type`).
pub mod rtn {
    /// A gateway or direct route.
    pub const UNICAST: u8 = 1;
    /// An address of this host.
    pub const LOCAL: u8 = 2;
    /// A broadcast address, sent as broadcast.
    pub const BROADCAST: u8 = 3;
    /// A local anycast address.
    pub const ANYCAST: u8 = 4;
    /// A multicast route.
    pub const MULTICAST: u8 = 5;
    /// Dropped silently.
    pub const BLACKHOLE: u8 = 6;
    /// Refused: host unreachable.
    pub const UNREACHABLE: u8 = 7;
    /// Refused: administratively prohibited.
    pub const PROHIBIT: u8 = 8;
    /// Look-up continues in another table.
    pub const THROW: u8 = 9;
    /// Network address translation.
    pub const NAT: u8 = 10;

    /// Human name of a route type.
    pub fn name(t: u8) -> &'static str {
        match t {
            UNICAST => "unicast",
            LOCAL => "local",
            BROADCAST => "broadcast",
            ANYCAST => "anycast",
            MULTICAST => "multicast",
            BLACKHOLE => "blackhole",
            UNREACHABLE => "unreachable",
            PROHIBIT => "prohibit",
            THROW => "throw",
            NAT => "nat",
            _ => "unknown",
        }
    }
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn push_attr(buf: &mut Vec<u8>, ty: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(align4(buf.len()), 0);
}

/// Build the `RTM_GETROUTE` request bytes.
pub(crate) fn build_request(
    seq: u32,
    dst: Ipv4Addr,
    src: Option<Ipv4Addr>,
    oif: Option<u32>,
) -> Vec<u8> {
    build_request_for(seq, IpAddr::V4(dst), src.map(IpAddr::V4), oif)
}

/// Build the `RTM_GETROUTE` request bytes for either family (`src` of the same family).
pub(crate) fn build_request_for(
    seq: u32,
    dst: IpAddr,
    src: Option<IpAddr>,
    oif: Option<u32>,
) -> Vec<u8> {
    let octets = |a: IpAddr| match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let (family, bits) = match dst {
        IpAddr::V4(_) => (libc::AF_INET as u8, 32u8),
        IpAddr::V6(_) => (libc::AF_INET6 as u8, 128u8),
    };
    let mut b = Vec::with_capacity(80);
    b.extend_from_slice(&[0; 4]); // nlmsg_len, patched below
    b.extend_from_slice(&RTM_GETROUTE.to_ne_bytes());
    b.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: kernel
                                              // struct rtmsg
    b.push(family); // rtm_family
    b.push(bits); // rtm_dst_len
    b.push(if src.is_some() { bits } else { 0 }); // rtm_src_len
    b.extend_from_slice(&[0, 0, 0, 0, 0]); // tos, table, protocol, scope, type
    b.extend_from_slice(&0u32.to_ne_bytes()); // rtm_flags
    push_attr(&mut b, RTA_DST, &octets(dst));
    if let Some(s) = src {
        push_attr(&mut b, RTA_SRC, &octets(s));
    }
    if let Some(o) = oif {
        push_attr(&mut b, RTA_OIF, &o.to_ne_bytes());
    }
    let len = b.len() as u32;
    b[0..4].copy_from_slice(&len.to_ne_bytes());
    b
}

/// The parts of an `RTM_NEWROUTE` we use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawRoute {
    pub rtm_type: u8,
    pub oif: Option<u32>,
    /// Of the reply's family.
    pub gateway: Option<IpAddr>,
    /// Of the reply's family.
    pub prefsrc: Option<IpAddr>,
    pub table: Option<u32>,
}

/// What one datagram from the kernel said about our request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    Route(RawRoute),
    /// `NLMSG_ERROR` with a non-zero (positive here) errno.
    Errno(i32),
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}
fn addr_of(family: u8, data: &[u8]) -> std::result::Result<IpAddr, String> {
    if family == libc::AF_INET6 as u8 {
        let a: [u8; 16] = data
            .try_into()
            .map_err(|_| format!("IPv6 attribute of {} bytes", data.len()))?;
        return Ok(IpAddr::V6(Ipv6Addr::from(a)));
    }
    let a: [u8; 4] = data
        .try_into()
        .map_err(|_| format!("IPv4 attribute of {} bytes", data.len()))?;
    Ok(IpAddr::V4(Ipv4Addr::from(a)))
}

/// Parse one datagram of netlink messages answering an IPv4 request. `Ok(None)`: nothing for
/// sequence `seq` in it. Never panics: every offset is bounds-checked; malformed input is an
/// `Err` describing it.
#[cfg(test)]
pub(crate) fn parse_reply(buf: &[u8], seq: u32) -> std::result::Result<Option<Reply>, String> {
    parse_reply_for(buf, seq, libc::AF_INET as u8)
}

/// [`parse_reply`] for a request of address family `family` (`AF_INET` or `AF_INET6`).
pub(crate) fn parse_reply_for(
    buf: &[u8],
    seq: u32,
    family: u8,
) -> std::result::Result<Option<Reply>, String> {
    let mut off = 0usize;
    while off < buf.len() {
        let rest = &buf[off..];
        if rest.len() < NLMSG_HDRLEN {
            return Err(format!("truncated netlink header ({} bytes)", rest.len()));
        }
        let len = u32_at(rest, 0).ok_or("short header")? as usize;
        let ty = u16_at(rest, 4).ok_or("short header")?;
        let mseq = u32_at(rest, 8).ok_or("short header")?;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(format!(
                "netlink message length {len} invalid ({} bytes available)",
                rest.len()
            ));
        }
        let payload = &rest[NLMSG_HDRLEN..len];
        if mseq == seq {
            match ty {
                NLMSG_ERROR => {
                    let err = u32_at(payload, 0).ok_or("truncated NLMSG_ERROR")? as i32;
                    if err != 0 {
                        return Ok(Some(Reply::Errno(err.saturating_neg())));
                    }
                    // error 0 is an ACK: keep looking.
                }
                RTM_NEWROUTE => return parse_route(payload, family).map(|r| Some(Reply::Route(r))),
                NLMSG_DONE => return Err("NLMSG_DONE without a route".into()),
                _ => {}
            }
        }
        off += align4(len);
    }
    Ok(None)
}

fn parse_route(p: &[u8], family: u8) -> std::result::Result<RawRoute, String> {
    if p.len() < RTMSG_LEN {
        return Err(format!("truncated rtmsg ({} bytes)", p.len()));
    }
    if p[0] != family {
        return Err(format!("route reply for address family {}", p[0]));
    }
    let mut r = RawRoute {
        rtm_type: p[7],
        table: Some(p[4] as u32),
        ..RawRoute::default()
    };
    let mut off = RTMSG_LEN;
    while off < p.len() {
        let a = &p[off..];
        if a.len() < 4 {
            return Err(format!(
                "truncated route attribute header ({} bytes)",
                a.len()
            ));
        }
        let alen = u16_at(a, 0).ok_or("short attr")? as usize;
        let aty = u16_at(a, 2).ok_or("short attr")? & 0x3fff; // strip NLA_F_NESTED/NET_BYTEORDER
        if alen < 4 || alen > a.len() {
            return Err(format!(
                "route attribute {aty} length {alen} invalid ({} bytes left)",
                a.len()
            ));
        }
        let data = &a[4..alen];
        match aty {
            RTA_OIF => r.oif = Some(u32_at(data, 0).ok_or("RTA_OIF shorter than 4 bytes")?),
            RTA_GATEWAY => r.gateway = Some(addr_of(family, data)?),
            RTA_PREFSRC => r.prefsrc = Some(addr_of(family, data)?),
            RTA_TABLE => r.table = Some(u32_at(data, 0).ok_or("RTA_TABLE shorter than 4 bytes")?),
            _ => {}
        }
        off += align4(alen);
    }
    Ok(r)
}

/// The kernel's reason for an errno in route-lookup terms.
fn errno_detail(errno: i32, src: Option<IpAddr>) -> String {
    let sys = std::io::Error::from_raw_os_error(errno);
    let why = match errno {
        libc::ENETUNREACH => match src {
            // The kernel also answers ENETUNREACH when the requested source is not ours.
            Some(s) => format!("no matching route, or source {s} is not a local address"),
            None => "no matching route (and no default route)".to_string(),
        },
        libc::EHOSTUNREACH => "an unreachable route covers it".to_string(),
        libc::EACCES => "a prohibit route covers it".to_string(),
        libc::EINVAL => match src {
            Some(s) => format!("blackhole route, or source {s} is not a local address"),
            None => "blackhole route".to_string(),
        },
        libc::ENODEV => "the requested output interface does not exist".to_string(),
        _ => "kernel refused the lookup".to_string(),
    };
    format!("{why} (kernel: {sys})")
}

/// Turn a parsed reply into a [`Route`] or the error the user should see.
pub(crate) fn interpret(
    dst: Ipv4Addr,
    src: Option<Ipv4Addr>,
    reply: Reply,
    name_of: impl Fn(u32) -> Option<String>,
) -> Result<Route> {
    let (oif, iface, raw) = interpret_raw(dst.into(), src.map(IpAddr::V4), reply, name_of)?;
    let v4 = |a: Option<IpAddr>| match a {
        Some(IpAddr::V4(a)) => Some(a),
        _ => None,
    };
    Ok(Route {
        oif,
        iface,
        gateway: v4(raw.gateway),
        prefsrc: v4(raw.prefsrc),
        local: raw.rtm_type == rtn::LOCAL,
    })
}

/// Turn a parsed reply to an IPv6 request into a [`Route6`] or the error the user should see.
pub(crate) fn interpret6(
    dst: Ipv6Addr,
    src: Option<Ipv6Addr>,
    reply: Reply,
    name_of: impl Fn(u32) -> Option<String>,
) -> Result<Route6> {
    let (oif, iface, raw) = interpret_raw(dst.into(), src.map(IpAddr::V6), reply, name_of)?;
    let v6 = |a: Option<IpAddr>| match a {
        Some(IpAddr::V6(a)) => Some(a),
        _ => None,
    };
    Ok(Route6 {
        oif,
        iface,
        gateway: v6(raw.gateway),
        prefsrc: v6(raw.prefsrc),
        local: raw.rtm_type == rtn::LOCAL,
    })
}

fn interpret_raw(
    dst: IpAddr,
    src: Option<IpAddr>,
    reply: Reply,
    name_of: impl Fn(u32) -> Option<String>,
) -> Result<(u32, String, RawRoute)> {
    let raw = match reply {
        Reply::Errno(e) => {
            return Err(Error::NoRoute {
                dst,
                detail: errno_detail(e, src),
            })
        }
        Reply::Route(r) => r,
    };
    match raw.rtm_type {
        rtn::UNICAST | rtn::LOCAL | rtn::BROADCAST | rtn::MULTICAST | rtn::ANYCAST => {}
        t => {
            return Err(Error::NoRoute {
                dst,
                detail: format!("the kernel's route is of type {} ({t})", rtn::name(t)),
            })
        }
    }
    let oif = raw.oif.ok_or_else(|| Error::NoRoute {
        dst,
        detail: format!(
            "the kernel's {} route names no output interface",
            rtn::name(raw.rtm_type)
        ),
    })?;
    let iface = name_of(oif).ok_or_else(|| Error::NoRoute {
        dst,
        detail: format!("route via interface #{oif}, which no longer exists"),
    })?;
    Ok((oif, iface, raw))
}

/// A NETLINK_ROUTE socket, closed on drop.
struct NlSocket(libc::c_int);

impl Drop for NlSocket {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe { libc::close(self.0) };
    }
}

fn last_err(ctx: &str) -> Error {
    Error::io(ctx, std::io::Error::last_os_error())
}

fn ask_kernel(req: &[u8], seq: u32, family: u8) -> Result<Reply> {
    // SAFETY: all calls get valid pointers and lengths; fd owned by NlSocket.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        );
        if fd < 0 {
            return Err(last_err("opening a NETLINK_ROUTE socket"));
        }
        let sock = NlSocket(fd);
        let tv = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        libc::setsockopt(
            sock.0,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        let mut kernel: libc::sockaddr_nl = std::mem::zeroed();
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let n = libc::sendto(
            sock.0,
            req.as_ptr().cast(),
            req.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        );
        if n < 0 {
            return Err(last_err("sending RTM_GETROUTE"));
        }
        let mut buf = vec![0u8; 32 * 1024];
        // Bounded: a route request gets one answer; skip at most a few unrelated datagrams.
        for _ in 0..16 {
            let n = libc::recv(sock.0, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_TRUNC);
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::io("waiting for the kernel's RTM_GETROUTE reply", e));
            }
            let n = n as usize;
            if n > buf.len() {
                return Err(Error::io(
                    "reading RTM_GETROUTE reply",
                    std::io::Error::other(format!("reply of {n} bytes truncated")),
                ));
            }
            match parse_reply_for(&buf[..n], seq, family) {
                Ok(Some(r)) => return Ok(r),
                Ok(None) => continue,
                Err(why) => {
                    return Err(Error::io(
                        "parsing the kernel's RTM_GETROUTE reply",
                        std::io::Error::new(std::io::ErrorKind::InvalidData, why),
                    ))
                }
            }
        }
        Err(Error::io(
            "waiting for the kernel's RTM_GETROUTE reply",
            std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer to our request"),
        ))
    }
}

/// Ask the kernel how it would send to `dst` (optionally from `src`, optionally out of
/// interface index `oif`), exactly like `ip route get`.
pub fn lookup(dst: Ipv4Addr, src: Option<Ipv4Addr>, oif: Option<u32>) -> Result<Route> {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let req = build_request(seq, dst, src, oif);
    let reply = ask_kernel(&req, seq, libc::AF_INET as u8)?;
    interpret(dst, src, reply, super::iface::name_of_index)
}

/// Ask the kernel how it would send to the IPv6 destination `dst` (optionally from `src`,
/// optionally out of interface index `oif`, which a link-local destination needs), exactly
/// like `ip -6 route get`: the output interface, the gateway and the source address it selects.
pub fn lookup6(dst: Ipv6Addr, src: Option<Ipv6Addr>, oif: Option<u32>) -> Result<Route6> {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let req = build_request_for(seq, dst.into(), src.map(IpAddr::V6), oif);
    let reply = ask_kernel(&req, seq, libc::AF_INET6 as u8)?;
    interpret6(dst, src, reply, super::iface::name_of_index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::testing::{self, NetNs, VethPair};

    fn nlmsg(ty: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(payload);
        b.resize(align4(b.len()), 0);
        b
    }

    fn route_payload(ty: u8, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut p = vec![libc::AF_INET as u8, 32, 0, 0, 254, 0, 0, ty, 0, 0, 0, 0];
        for (t, d) in attrs {
            push_attr(&mut p, *t, d);
        }
        p
    }

    #[test]
    fn request_layout() {
        let r = build_request(
            7,
            Ipv4Addr::new(203, 0, 113, 5),
            Some(Ipv4Addr::new(192, 0, 2, 2)),
            Some(3),
        );
        assert_eq!(r.len(), 16 + 12 + 8 + 8 + 8);
        assert_eq!(u32_at(&r, 0), Some(r.len() as u32));
        assert_eq!(u16_at(&r, 4), Some(RTM_GETROUTE));
        assert_eq!(u16_at(&r, 6), Some(NLM_F_REQUEST));
        assert_eq!(u32_at(&r, 8), Some(7));
        assert_eq!(&r[16..19], &[libc::AF_INET as u8, 32, 32]);
        assert_eq!(u16_at(&r, 28), Some(8));
        assert_eq!(u16_at(&r, 30), Some(RTA_DST));
        assert_eq!(&r[32..36], &[203, 0, 113, 5]);
        assert_eq!(u16_at(&r, 38), Some(RTA_SRC));
        assert_eq!(u16_at(&r, 46), Some(RTA_OIF));
        assert_eq!(u32_at(&r, 48), Some(3));
        let bare = build_request(1, Ipv4Addr::LOCALHOST, None, None);
        assert_eq!(bare.len(), 36);
        assert_eq!(bare[18], 0, "src_len 0 without a source");
    }

    #[test]
    fn parses_unicast_with_gateway() {
        let p = route_payload(
            rtn::UNICAST,
            &[
                (RTA_TABLE, 254u32.to_ne_bytes().to_vec()),
                (RTA_DST, vec![203, 0, 113, 5]),
                (RTA_OIF, 4u32.to_ne_bytes().to_vec()),
                (RTA_PREFSRC, vec![192, 0, 2, 2]),
                (RTA_GATEWAY, vec![192, 0, 2, 1]),
                (99, vec![1, 2, 3]), // unknown, odd length: skipped with padding
            ],
        );
        let buf = nlmsg(RTM_NEWROUTE, 5, &p);
        let reply = parse_reply(&buf, 5).unwrap().unwrap();
        let raw = match &reply {
            Reply::Route(r) => r.clone(),
            e => panic!("{e:?}"),
        };
        assert_eq!(raw.oif, Some(4));
        assert_eq!(raw.gateway, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
        assert_eq!(raw.prefsrc, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))));
        assert_eq!(raw.table, Some(254));
        let dst = Ipv4Addr::new(203, 0, 113, 5);
        let r = interpret(dst, None, reply, |i| Some(format!("if{i}"))).unwrap();
        assert_eq!(r.iface, "if4");
        assert!(!r.local);
        assert_eq!(r.next_hop(dst), Ipv4Addr::new(192, 0, 2, 1));
    }

    #[test]
    fn skips_other_sequences_and_acks() {
        let mut buf = nlmsg(RTM_NEWROUTE, 1, &route_payload(rtn::UNICAST, &[]));
        buf.extend(nlmsg(NLMSG_ERROR, 2, &0i32.to_ne_bytes()));
        assert_eq!(parse_reply(&buf, 2), Ok(None));
        assert_eq!(parse_reply(&buf, 3), Ok(None));
        assert_eq!(parse_reply(&[], 3), Ok(None));
    }

    #[test]
    fn kernel_errno_becomes_no_route() {
        let mut p = (-libc::ENETUNREACH).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0; 16]);
        let buf = nlmsg(NLMSG_ERROR, 9, &p);
        let reply = parse_reply(&buf, 9).unwrap().unwrap();
        assert_eq!(reply, Reply::Errno(libc::ENETUNREACH));
        let dst = Ipv4Addr::new(203, 0, 113, 5);
        match interpret(dst, None, reply, |_| None) {
            Err(Error::NoRoute { dst: d, detail }) => {
                assert_eq!(d, IpAddr::V4(dst));
                assert!(detail.contains("unreachable"), "{detail}");
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn unreachable_types_become_no_route() {
        for t in [rtn::UNREACHABLE, rtn::PROHIBIT, rtn::BLACKHOLE, rtn::THROW] {
            let p = route_payload(t, &[(RTA_OIF, 1u32.to_ne_bytes().to_vec())]);
            let reply = parse_reply(&nlmsg(RTM_NEWROUTE, 1, &p), 1)
                .unwrap()
                .unwrap();
            match interpret(Ipv4Addr::LOCALHOST, None, reply, |_| Some("lo".into())) {
                Err(Error::NoRoute { detail, .. }) => assert!(detail.contains(rtn::name(t))),
                o => panic!("type {t}: {o:?}"),
            }
        }
        let p = route_payload(rtn::LOCAL, &[(RTA_OIF, 1u32.to_ne_bytes().to_vec())]);
        let reply = parse_reply(&nlmsg(RTM_NEWROUTE, 1, &p), 1)
            .unwrap()
            .unwrap();
        let r = interpret(Ipv4Addr::LOCALHOST, None, reply, |_| Some("lo".into())).unwrap();
        assert!(r.local);
        // A unicast route without RTA_OIF cannot be used.
        let p = route_payload(rtn::UNICAST, &[]);
        let reply = parse_reply(&nlmsg(RTM_NEWROUTE, 1, &p), 1)
            .unwrap()
            .unwrap();
        assert!(matches!(
            interpret(Ipv4Addr::LOCALHOST, None, reply, |_| None),
            Err(Error::NoRoute { .. })
        ));
    }

    #[test]
    fn truncated_and_garbage_replies_are_errors_not_panics() {
        let good = nlmsg(
            RTM_NEWROUTE,
            1,
            &route_payload(rtn::UNICAST, &[(RTA_GATEWAY, vec![192, 0, 2, 1])]),
        );
        // Every prefix of a valid reply: error or "nothing", never a panic.
        for cut in 1..good.len() {
            let _ = parse_reply(&good[..cut], 1);
        }
        assert!(parse_reply(&good[..10], 1).is_err());
        assert!(parse_reply(&good[..20], 1).is_err(), "length beyond buffer");
        // Header claiming a length smaller than a header.
        let mut bad = good.clone();
        bad[0..4].copy_from_slice(&3u32.to_ne_bytes());
        assert!(parse_reply(&bad, 1).is_err());
        // Attribute length 0 (would loop forever if not rejected) and oversize.
        let mut p = route_payload(rtn::UNICAST, &[]);
        p.extend_from_slice(&[0, 0, 5, 0]);
        assert!(parse_reply(&nlmsg(RTM_NEWROUTE, 1, &p), 1).is_err());
        let mut p = route_payload(rtn::UNICAST, &[]);
        p.extend_from_slice(&200u16.to_ne_bytes());
        p.extend_from_slice(&RTA_GATEWAY.to_ne_bytes());
        assert!(parse_reply(&nlmsg(RTM_NEWROUTE, 1, &p), 1).is_err());
        // Gateway of the wrong size.
        let p = route_payload(rtn::UNICAST, &[(RTA_GATEWAY, vec![1, 2, 3, 4, 5, 6])]);
        assert!(parse_reply(&nlmsg(RTM_NEWROUTE, 1, &p), 1).is_err());
        // Short rtmsg, wrong family, truncated error.
        assert!(parse_reply(&nlmsg(RTM_NEWROUTE, 1, &[2, 32]), 1).is_err());
        let mut p = route_payload(rtn::UNICAST, &[]);
        p[0] = 10;
        assert!(parse_reply(&nlmsg(RTM_NEWROUTE, 1, &p), 1).is_err());
        assert!(parse_reply(&nlmsg(NLMSG_ERROR, 1, &[1, 2]), 1).is_err());
        // Pseudo-random garbage.
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            let len = (x % 80) as usize;
            let g: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let _ = parse_reply(&g, x & 3);
        }
    }

    fn route6_payload(ty: u8, attrs: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut p = vec![libc::AF_INET6 as u8, 128, 0, 0, 254, 0, 0, ty, 0, 0, 0, 0];
        for (t, d) in attrs {
            push_attr(&mut p, *t, d);
        }
        p
    }

    #[test]
    fn request6_layout() {
        let dst: Ipv6Addr = "2001:db8:3::2".parse().unwrap();
        let src: Ipv6Addr = "2001:db8:1::2".parse().unwrap();
        let r = build_request_for(7, dst.into(), Some(src.into()), Some(3));
        assert_eq!(r.len(), 16 + 12 + 20 + 20 + 8);
        assert_eq!(u32_at(&r, 0), Some(r.len() as u32));
        assert_eq!(u16_at(&r, 4), Some(RTM_GETROUTE));
        assert_eq!(&r[16..19], &[libc::AF_INET6 as u8, 128, 128]);
        assert_eq!(u16_at(&r, 28), Some(20));
        assert_eq!(u16_at(&r, 30), Some(RTA_DST));
        assert_eq!(&r[32..48], &dst.octets());
        assert_eq!(u16_at(&r, 50), Some(RTA_SRC));
        assert_eq!(&r[52..68], &src.octets());
        assert_eq!(u16_at(&r, 70), Some(RTA_OIF));
        assert_eq!(u32_at(&r, 72), Some(3));
        let bare = build_request_for(1, Ipv6Addr::LOCALHOST.into(), None, None);
        assert_eq!(bare.len(), 16 + 12 + 20);
        assert_eq!(bare[18], 0, "src_len 0 without a source");
    }

    #[test]
    fn parses_ipv6_unicast_with_link_local_gateway() {
        let gw: Ipv6Addr = "fe80::1".parse().unwrap();
        let src: Ipv6Addr = "2001:db8:1::2".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8:3::2".parse().unwrap();
        let p = route6_payload(
            rtn::UNICAST,
            &[
                (RTA_TABLE, 254u32.to_ne_bytes().to_vec()),
                (RTA_DST, dst.octets().to_vec()),
                (RTA_OIF, 4u32.to_ne_bytes().to_vec()),
                (RTA_PREFSRC, src.octets().to_vec()),
                (RTA_GATEWAY, gw.octets().to_vec()),
            ],
        );
        let buf = nlmsg(RTM_NEWROUTE, 5, &p);
        let reply = parse_reply_for(&buf, 5, libc::AF_INET6 as u8)
            .unwrap()
            .unwrap();
        let r = interpret6(dst, None, reply, |i| Some(format!("if{i}"))).unwrap();
        assert_eq!(r.iface, "if4");
        assert_eq!(r.gateway, Some(gw));
        assert_eq!(r.prefsrc, Some(src));
        assert_eq!(r.next_hop(dst), gw);
        assert!(!r.local);
        // An IPv6 reply where IPv4 was asked (and the reverse) is refused, as is a 4-byte gateway.
        assert!(parse_reply(&buf, 5).is_err());
        let v4 = nlmsg(RTM_NEWROUTE, 5, &route_payload(rtn::UNICAST, &[]));
        assert!(parse_reply_for(&v4, 5, libc::AF_INET6 as u8).is_err());
        let p = route6_payload(rtn::UNICAST, &[(RTA_GATEWAY, vec![192, 0, 2, 1])]);
        assert!(parse_reply_for(&nlmsg(RTM_NEWROUTE, 1, &p), 1, libc::AF_INET6 as u8).is_err());
        // The kernel's errno names the IPv6 destination.
        let mut p = (-libc::ENETUNREACH).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0; 16]);
        let reply = parse_reply_for(&nlmsg(NLMSG_ERROR, 9, &p), 9, libc::AF_INET6 as u8)
            .unwrap()
            .unwrap();
        match interpret6(dst, None, reply, |_| None) {
            Err(Error::NoRoute { dst: d, .. }) => assert_eq!(d, IpAddr::V6(dst)),
            o => panic!("{o:?}"),
        }
        // Every prefix of a valid reply: an error or nothing, never a panic.
        for cut in 1..buf.len() {
            let _ = parse_reply_for(&buf[..cut], 5, libc::AF_INET6 as u8);
        }
    }

    #[test]
    fn ipv6_routes_from_the_kernel() {
        if !testing::require_root("ipv6_routes_from_the_kernel") {
            return;
        }
        let v = VethPair::new("rt6");
        for ns in [&v.ns1, &v.ns2] {
            ns.sysctl("net.ipv6.conf.all.disable_ipv6", "0");
        }
        v.ns1.ip(&[
            "-6",
            "addr",
            "add",
            "2001:db8::2/64",
            "dev",
            "veth1",
            "nodad",
        ]);
        v.ns1.ip(&[
            "-6", "route", "add", "default", "via", "fe80::1", "dev", "veth1",
        ]);
        let far: Ipv6Addr = "2001:db8:3::2".parse().unwrap();
        let (r, onlink, own, idx) = v.ns1.run(move || {
            (
                lookup6(far, None, None).unwrap(),
                lookup6("2001:db8::1".parse().unwrap(), None, None).unwrap(),
                lookup6("2001:db8::2".parse().unwrap(), None, None).unwrap(),
                crate::net::iface::by_name("veth1").unwrap().index,
            )
        });
        assert_eq!(r.gateway, Some("fe80::1".parse().unwrap()));
        assert_eq!((r.iface.as_str(), r.oif), ("veth1", idx));
        assert_eq!(r.prefsrc, Some("2001:db8::2".parse().unwrap()));
        assert_eq!(onlink.gateway, None);
        assert_eq!(onlink.iface, "veth1");
        assert!(own.local, "{own:?}");
        // No route: the kernel's reason, naming the IPv6 destination.
        let e = v.ns2.run(move || lookup6(far, None, None));
        assert!(
            matches!(
                e,
                Err(Error::NoRoute {
                    dst: IpAddr::V6(_),
                    ..
                })
            ),
            "{e:?}"
        );
    }

    #[test]
    fn loopback_is_local_via_lo() {
        if !testing::require_root("loopback_is_local_via_lo") {
            return;
        }
        let ns = NetNs::new("rt");
        let r = ns.run(|| lookup(Ipv4Addr::LOCALHOST, None, None)).unwrap();
        assert_eq!(r.iface, "lo");
        assert!(r.local);
        assert_eq!(r.gateway, None);
        assert_eq!(r.next_hop(Ipv4Addr::LOCALHOST), Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn veth_no_route_then_default_gateway() {
        if !testing::require_root("veth_no_route_then_default_gateway") {
            return;
        }
        let v = VethPair::new("rt");
        let far = Ipv4Addr::new(203, 0, 113, 5);
        let e = v.ns1.run(move || lookup(far, None, None));
        match e {
            Err(Error::NoRoute { dst, detail }) => {
                assert_eq!(dst, IpAddr::V4(far));
                eprintln!("kernel says: {detail}");
                assert!(detail.contains("unreachable"), "{detail}");
            }
            o => panic!("expected NoRoute, got {o:?}"),
        }
        // On-link: no gateway; own address: local via lo.
        let (onlink, own, idx) = v.ns1.run(|| {
            (
                lookup(Ipv4Addr::new(192, 0, 2, 1), None, None).unwrap(),
                lookup(Ipv4Addr::new(192, 0, 2, 2), None, None).unwrap(),
                crate::net::iface::by_name("veth1").unwrap().index,
            )
        });
        assert_eq!(
            (onlink.iface.as_str(), onlink.gateway, onlink.oif),
            ("veth1", None, idx)
        );
        assert_eq!(onlink.prefsrc, Some(Ipv4Addr::new(192, 0, 2, 2)));
        assert!(own.local && own.iface == "lo", "{own:?}");

        v.ns1.ip(&["route", "add", "default", "via", "192.0.2.1"]);
        let (r, with_src, with_oif, bad_src, bad_oif) = v.ns1.run(move || {
            (
                lookup(far, None, None),
                lookup(far, Some(Ipv4Addr::new(192, 0, 2, 2)), None),
                lookup(far, None, Some(idx)),
                lookup(far, Some(Ipv4Addr::new(198, 51, 100, 7)), None),
                lookup(far, None, Some(1)), // lo: kernel still answers, via lo
            )
        });
        let r = r.unwrap();
        assert_eq!(r.gateway, Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(r.iface, "veth1");
        assert_eq!(r.oif, idx);
        assert_eq!(r.prefsrc, Some(Ipv4Addr::new(192, 0, 2, 2)));
        assert!(!r.local);
        assert_eq!(r.next_hop(far), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(with_src.unwrap().iface, "veth1");
        assert_eq!(with_oif.unwrap().iface, "veth1");
        eprintln!("from non-local source: {bad_src:?}");
        assert!(matches!(bad_src, Err(Error::NoRoute { .. })), "{bad_src:?}");
        eprintln!("forced out of lo: {bad_oif:?}");

        // Unreachable / prohibit / blackhole routes: NoRoute with the kernel's reason.
        v.ns1.ip(&["route", "add", "unreachable", "203.0.113.0/24"]);
        v.ns1.ip(&["route", "add", "prohibit", "198.51.100.0/25"]);
        v.ns1
            .ip(&["route", "add", "blackhole", "198.51.100.128/25"]);
        let res = v.ns1.run(|| {
            [
                lookup(Ipv4Addr::new(203, 0, 113, 5), None, None),
                lookup(Ipv4Addr::new(198, 51, 100, 5), None, None),
                lookup(Ipv4Addr::new(198, 51, 100, 200), None, None),
            ]
        });
        for r in res {
            eprintln!("special route: {r:?}");
            assert!(matches!(r, Err(Error::NoRoute { .. })), "{r:?}");
        }
    }
}
