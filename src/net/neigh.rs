//! The kernel's neighbour caches: ARP's read from `/proc/net/arp`, IPv6's (NDP) dumped over
//! rtnetlink (`RTM_GETNEIGH`, like `ip -6 neigh`).

use std::net::{Ipv4Addr, Ipv6Addr};

use pnet_datalink::MacAddr;

/// `ATF_COM`: entry resolved.
const ATF_COM: u32 = 0x02;
/// `ATF_PERM`: permanent (static) entry.
const ATF_PERM: u32 = 0x04;

/// One usable row of `/proc/net/arp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpEntry {
    /// The neighbour's address.
    pub ip: Ipv4Addr,
    /// ATF_* flags.
    pub flags: u32,
    /// Its MAC.
    pub mac: MacAddr,
    /// The interface it is on.
    pub device: String,
}

/// Parse one data line (`IP  HW-type  Flags  HW-address  Mask  Device`). `None` for the
/// header, malformed lines, and entries that are neither complete nor permanent or whose
/// address is all-zero (incomplete).
pub fn parse_line(line: &str) -> Option<ArpEntry> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 6 {
        return None;
    }
    let ip: Ipv4Addr = f[0].parse().ok()?;
    let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).ok()?;
    let mac: MacAddr = f[3].parse().ok()?;
    if flags & (ATF_COM | ATF_PERM) == 0 || mac == MacAddr::zero() {
        return None;
    }
    Some(ArpEntry {
        ip,
        flags,
        mac,
        device: f[5].to_string(),
    })
}

/// Find `ip` on `ifname` in the text of `/proc/net/arp`.
pub fn find_in(text: &str, ifname: &str, ip: Ipv4Addr) -> Option<MacAddr> {
    text.lines()
        .skip(1)
        .filter_map(parse_line)
        .find(|e| e.ip == ip && e.device == ifname)
        .map(|e| e.mac)
}

/// The calling thread's namespace's ARP table. `/proc/net` follows the namespace of the
/// process's main thread, `/proc/thread-self/net` that of this thread.
fn read_table() -> Option<String> {
    std::fs::read_to_string("/proc/thread-self/net/arp")
        .or_else(|_| std::fs::read_to_string("/proc/net/arp"))
        .ok()
}

/// The resolved MAC of `ip` on `ifname` from the kernel's neighbour cache, if any.
pub fn lookup(ifname: &str, ip: Ipv4Addr) -> Option<MacAddr> {
    find_in(&read_table()?, ifname, ip)
}

// rtnetlink neighbour constants (linux/neighbour.h, linux/rtnetlink.h).
const NLMSG_HDRLEN: usize = 16;
const NDMSG_LEN: usize = 12;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWNEIGH: u16 = 28;
const RTM_GETNEIGH: u16 = 30;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// States whose link-layer address may be used: REACHABLE, STALE, DELAY, PROBE, NOARP,
/// PERMANENT (not INCOMPLETE or FAILED).
const NUD_USABLE: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;

/// One usable IPv6 neighbour entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neigh6 {
    /// Interface index.
    pub ifindex: u32,
    /// The neighbour's address.
    pub ip: Ipv6Addr,
    /// Its MAC.
    pub mac: MacAddr,
    /// `NUD_*` state.
    pub state: u16,
}

/// The `RTM_GETNEIGH` dump request for IPv6 neighbours.
pub(crate) fn neigh6_request(seq: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(NLMSG_HDRLEN + NDMSG_LEN);
    b.extend_from_slice(&((NLMSG_HDRLEN + NDMSG_LEN) as u32).to_ne_bytes());
    b.extend_from_slice(&RTM_GETNEIGH.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.push(libc::AF_INET6 as u8); // ndm_family
    b.extend_from_slice(&[0; NDMSG_LEN - 1]); // pads, ifindex 0 (all), state, flags, type
    b
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// Parse one datagram of a neighbour dump for `seq`: the usable IPv6 entries in it, and
/// whether the dump is done. Never panics; malformed input is an `Err`.
pub(crate) fn parse_neigh6(
    buf: &[u8],
    seq: u32,
) -> std::result::Result<(Vec<Neigh6>, bool), String> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off < buf.len() {
        let rest = &buf[off..];
        let len = u32_at(rest, 0).ok_or("truncated netlink header")? as usize;
        let ty = u16_at(rest, 4).ok_or("truncated netlink header")?;
        let mseq = u32_at(rest, 8).ok_or("truncated netlink header")?;
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(format!(
                "netlink message length {len} invalid ({} bytes available)",
                rest.len()
            ));
        }
        let p = &rest[NLMSG_HDRLEN..len];
        if mseq == seq {
            match ty {
                NLMSG_DONE => return Ok((out, true)),
                NLMSG_ERROR => {
                    let e = u32_at(p, 0).ok_or("truncated NLMSG_ERROR")? as i32;
                    if e != 0 {
                        return Err(format!(
                            "the kernel refused the neighbour dump: {}",
                            std::io::Error::from_raw_os_error(-e)
                        ));
                    }
                }
                RTM_NEWNEIGH => {
                    if p.len() < NDMSG_LEN {
                        return Err(format!("truncated ndmsg ({} bytes)", p.len()));
                    }
                    let ifindex = u32_at(p, 4).ok_or("short ndmsg")?;
                    let state = u16_at(p, 8).ok_or("short ndmsg")?;
                    let (mut ip, mut mac) = (None, None);
                    let mut a = NDMSG_LEN;
                    while a < p.len() {
                        let at = &p[a..];
                        let alen = u16_at(at, 0).ok_or("truncated neighbour attribute")? as usize;
                        let aty = u16_at(at, 2).ok_or("truncated neighbour attribute")? & 0x3fff;
                        if alen < 4 || alen > at.len() {
                            return Err(format!(
                                "neighbour attribute {aty} length {alen} invalid ({} bytes left)",
                                at.len()
                            ));
                        }
                        let d = &at[4..alen];
                        match aty {
                            NDA_DST => {
                                ip = <[u8; 16]>::try_from(d).ok().map(Ipv6Addr::from);
                            }
                            NDA_LLADDR => {
                                mac = <[u8; 6]>::try_from(d)
                                    .ok()
                                    .map(|m| MacAddr::new(m[0], m[1], m[2], m[3], m[4], m[5]));
                            }
                            _ => {}
                        }
                        a += (alen + 3) & !3;
                    }
                    if p[0] == libc::AF_INET6 as u8 && state & NUD_USABLE != 0 {
                        if let (Some(ip), Some(mac)) = (ip, mac) {
                            if mac != MacAddr::zero() {
                                out.push(Neigh6 {
                                    ifindex,
                                    ip,
                                    mac,
                                    state,
                                });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        off += (len + 3) & !3;
    }
    Ok((out, false))
}

/// The calling thread's namespace's usable IPv6 neighbour entries (`ip -6 neigh`).
pub fn table6() -> crate::Result<Vec<Neigh6>> {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let io = |ctx: &str, e: std::io::Error| crate::Error::io(ctx, e);
    // SAFETY: plain socket calls with valid pointers and lengths; the fd is closed below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io(
            "opening a NETLINK_ROUTE socket",
            std::io::Error::last_os_error(),
        ));
    }
    struct Fd(libc::c_int);
    impl Drop for Fd {
        fn drop(&mut self) {
            // SAFETY: we own the fd.
            unsafe { libc::close(self.0) };
        }
    }
    let fd = Fd(fd);
    let tv = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    let req = neigh6_request(seq);
    // SAFETY: valid pointers and lengths.
    unsafe {
        libc::setsockopt(
            fd.0,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        let mut kernel: libc::sockaddr_nl = std::mem::zeroed();
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        if libc::sendto(
            fd.0,
            req.as_ptr().cast(),
            req.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        ) < 0
        {
            return Err(io("sending RTM_GETNEIGH", std::io::Error::last_os_error()));
        }
    }
    let mut all = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    // Bounded: a dump ends with NLMSG_DONE; a namespace's table fits in a few datagrams.
    for _ in 0..4096 {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::recv(fd.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(io("waiting for the kernel's neighbour dump", e));
        }
        let (entries, done) = parse_neigh6(&buf[..n as usize], seq).map_err(|why| {
            io(
                "parsing the kernel's neighbour dump",
                std::io::Error::new(std::io::ErrorKind::InvalidData, why),
            )
        })?;
        all.extend(entries);
        if done {
            return Ok(all);
        }
    }
    Err(io(
        "reading the kernel's neighbour dump",
        std::io::Error::other("no NLMSG_DONE"),
    ))
}

/// The resolved MAC of the IPv6 neighbour `ip` on interface index `ifindex` from the kernel's
/// neighbour cache, if any.
pub fn lookup6(ifindex: u32, ip: Ipv6Addr) -> Option<MacAddr> {
    table6()
        .ok()?
        .into_iter()
        .find(|e| e.ifindex == ifindex && e.ip == ip)
        .map(|e| e.mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
IP address       HW type     Flags       HW address            Mask     Device
192.0.2.1        0x1         0x2         52:54:00:12:34:56     *        veth1
192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        veth1
192.0.2.7        0x1         0x6         02:00:00:00:00:07     *        veth1
192.0.2.1        0x1         0x2         aa:bb:cc:dd:ee:ff     *        eth9
198.51.100.3     0x1         0x2         00:00:00:00:00:00     *        veth1
garbage line
203.0.113.1      0x1         zz          52:54:00:12:34:56     *        veth1
";

    #[test]
    fn finds_complete_entry_on_device() {
        let m = find_in(TABLE, "veth1", Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(m, Some(MacAddr::new(0x52, 0x54, 0, 0x12, 0x34, 0x56)));
        let m = find_in(TABLE, "eth9", Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(m, Some(MacAddr::new(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff)));
    }

    #[test]
    fn permanent_entry_counts() {
        let m = find_in(TABLE, "veth1", Ipv4Addr::new(192, 0, 2, 7));
        assert_eq!(m, Some(MacAddr::new(2, 0, 0, 0, 0, 7)));
    }

    #[test]
    fn skips_incomplete_zero_other_device_and_garbage() {
        assert_eq!(find_in(TABLE, "veth1", Ipv4Addr::new(192, 0, 2, 9)), None);
        assert_eq!(
            find_in(TABLE, "veth1", Ipv4Addr::new(198, 51, 100, 3)),
            None
        );
        assert_eq!(find_in(TABLE, "veth2", Ipv4Addr::new(192, 0, 2, 1)), None);
        assert_eq!(find_in(TABLE, "veth1", Ipv4Addr::new(203, 0, 113, 1)), None);
        assert_eq!(find_in("", "veth1", Ipv4Addr::new(192, 0, 2, 1)), None);
        assert!(parse_line("IP address HW type Flags HW address Mask Device").is_none());
    }

    fn neigh_msg(seq: u32, ifindex: u32, state: u16, ip: &str, mac: Option<[u8; 6]>) -> Vec<u8> {
        let mut p = vec![libc::AF_INET6 as u8, 0, 0, 0];
        p.extend_from_slice(&ifindex.to_ne_bytes());
        p.extend_from_slice(&state.to_ne_bytes());
        p.extend_from_slice(&[0, 0]);
        let ip: Ipv6Addr = ip.parse().unwrap();
        p.extend_from_slice(&20u16.to_ne_bytes());
        p.extend_from_slice(&NDA_DST.to_ne_bytes());
        p.extend_from_slice(&ip.octets());
        if let Some(m) = mac {
            p.extend_from_slice(&10u16.to_ne_bytes());
            p.extend_from_slice(&NDA_LLADDR.to_ne_bytes());
            p.extend_from_slice(&m);
            p.extend_from_slice(&[0, 0]);
        }
        let mut b = ((16 + p.len()) as u32).to_ne_bytes().to_vec();
        b.extend_from_slice(&RTM_NEWNEIGH.to_ne_bytes());
        b.extend_from_slice(&0x2u16.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&p);
        b
    }

    #[test]
    fn parses_the_ipv6_neighbour_dump() {
        let mut buf = neigh_msg(4, 3, 0x02, "2001:db8:1::1", Some([2, 0, 0, 0, 0, 1]));
        buf.extend(neigh_msg(4, 3, 0x01, "2001:db8:1::9", None)); // incomplete
        buf.extend(neigh_msg(
            4,
            3,
            0x20,
            "2001:db8:1::7",
            Some([2, 0, 0, 0, 0, 7]),
        )); // failed
        buf.extend(neigh_msg(4, 5, 0x04, "fe80::1", Some([2, 0, 0, 0, 0, 2]))); // stale
        buf.extend(neigh_msg(3, 5, 0x80, "fe80::3", Some([2, 0, 0, 0, 0, 3]))); // other seq
        let (v, done) = parse_neigh6(&buf, 4).unwrap();
        assert!(!done);
        assert_eq!(
            v.iter()
                .map(|e| (e.ifindex, e.ip.to_string()))
                .collect::<Vec<_>>(),
            vec![(3, "2001:db8:1::1".into()), (5, "fe80::1".into())]
        );
        assert_eq!(v[0].mac, MacAddr::new(2, 0, 0, 0, 0, 1));
        let mut done_msg = 20u32.to_ne_bytes().to_vec();
        done_msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        done_msg.extend_from_slice(&[0, 0]);
        done_msg.extend_from_slice(&4u32.to_ne_bytes());
        done_msg.extend_from_slice(&[0; 8]);
        assert_eq!(parse_neigh6(&done_msg, 4).unwrap(), (vec![], true));
        for cut in 1..buf.len() {
            let _ = parse_neigh6(&buf[..cut], 4);
        }
        assert_eq!(neigh6_request(9).len(), 28);
    }

    #[test]
    fn ipv6_neighbour_table_of_this_namespace() {
        if !crate::lab::testing::require_root("ipv6_neighbour_table_of_this_namespace") {
            return;
        }
        let v = crate::lab::testing::VethPair::new("nb6");
        v.ns1.ip(&[
            "-6",
            "neigh",
            "add",
            "2001:db8::1",
            "lladdr",
            "02:00:00:00:00:01",
            "dev",
            "veth1",
        ]);
        let (found, missing) = v.ns1.run(|| {
            let idx = crate::net::iface::by_name("veth1").unwrap().index;
            (
                lookup6(idx, "2001:db8::1".parse().unwrap()),
                lookup6(idx, "2001:db8::5".parse().unwrap()),
            )
        });
        assert_eq!(found, Some(MacAddr::new(2, 0, 0, 0, 0, 1)));
        assert_eq!(missing, None);
    }

    #[test]
    fn lookup_reads_this_threads_table() {
        // Nothing should be cached for a TEST-NET address on a nonexistent device.
        assert_eq!(lookup("nosuch0", Ipv4Addr::new(192, 0, 2, 250)), None);
    }
}
