//! Network interfaces: name, index, MAC, IPv4 addresses, MTU, flags.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_datalink::MacAddr;

use crate::{Error, Result};

/// One network interface of the current network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its name (`eth0`, `a-r1`).
    pub name: String,
    /// Its index.
    pub index: u32,
    /// Hardware address; `None` on `lo` or when the address is all-zero.
    pub mac: Option<MacAddr>,
    /// IPv4 addresses with their prefix length.
    pub ipv4: Vec<(Ipv4Addr, u8)>,
    /// IPv6 addresses with their prefix length (link-local ones are scoped to this interface).
    pub ipv6: Vec<(Ipv6Addr, u8)>,
    /// Largest IP packet it carries.
    pub mtu: u32,
    /// Administratively up.
    pub is_up: bool,
    /// The loopback interface.
    pub is_loopback: bool,
}

impl Interface {
    /// The first IPv4 address on the interface, if any.
    pub fn first_ipv4(&self) -> Option<Ipv4Addr> {
        self.ipv4.first().map(|(a, _)| *a)
    }

    /// Its first link-local IPv6 address (fe80::/10), if any.
    pub fn link_local_ipv6(&self) -> Option<Ipv6Addr> {
        self.ipv6
            .iter()
            .map(|(a, _)| *a)
            .find(|a| crate::wire::is_link_local(*a))
    }

    /// Its first IPv6 address that is not link-local, if any.
    pub fn global_ipv6(&self) -> Option<Ipv6Addr> {
        self.ipv6
            .iter()
            .map(|(a, _)| *a)
            .find(|a| !crate::wire::is_link_local(*a))
    }

    /// The pnet view of this interface (what `pnet_datalink::channel` needs).
    pub(crate) fn to_pnet(&self) -> pnet_datalink::NetworkInterface {
        let mut flags = 0u32;
        if self.is_up {
            flags |= libc::IFF_UP as u32;
        }
        if self.is_loopback {
            flags |= libc::IFF_LOOPBACK as u32;
        }
        pnet_datalink::NetworkInterface {
            name: self.name.clone(),
            description: String::new(),
            index: self.index,
            mac: self.mac,
            ips: Vec::new(),
            flags,
        }
    }
}

/// `None` for the all-zero address (loopback, some tunnels), else the address.
pub fn nonzero_mac(mac: MacAddr) -> Option<MacAddr> {
    if mac.octets() == [0; 6] {
        None
    } else {
        Some(mac)
    }
}

/// Resolve the MAC of `name`: pnet's view, confirmed by the `mac_address` crate.
///
/// Both read `getifaddrs` (AF_PACKET entries); when they disagree the `mac_address`
/// answer wins because it is looked up by name at this moment.
fn confirm_mac(name: &str, from_pnet: Option<MacAddr>) -> Option<MacAddr> {
    match mac_address::mac_address_by_name(name) {
        Ok(Some(m)) => nonzero_mac(MacAddr::from(m.bytes())),
        Ok(None) => from_pnet.and_then(nonzero_mac),
        Err(_) => from_pnet.and_then(nonzero_mac),
    }
}

/// MTU of `name`: `SIOCGIFMTU` (answers for the calling thread's namespace), falling
/// back to `/sys/class/net/NAME/mtu` (which shows the namespace `/sys` was mounted in).
fn mtu_of(name: &str) -> Option<u32> {
    mtu_ioctl(name).or_else(|| {
        std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    })
}

fn mtu_ioctl(name: &str) -> Option<u32> {
    if name.len() >= libc::IFNAMSIZ {
        return None;
    }
    // SAFETY: plain socket/ioctl/close on a zeroed ifreq whose name fits.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return None;
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        let rc = libc::ioctl(fd, libc::SIOCGIFMTU as _, &mut ifr);
        libc::close(fd);
        if rc < 0 {
            return None;
        }
        u32::try_from(ifr.ifr_ifru.ifru_mtu).ok()
    }
}

/// All interfaces of the current network namespace.
pub fn list() -> Result<Vec<Interface>> {
    let mut out: Vec<Interface> = pnet_datalink::interfaces()
        .into_iter()
        .map(|p| {
            let ipv4 = p
                .ips
                .iter()
                .filter_map(|n| match n.ip() {
                    IpAddr::V4(a) => Some((a, n.prefix())),
                    IpAddr::V6(_) => None,
                })
                .collect();
            let ipv6 = p
                .ips
                .iter()
                .filter_map(|n| match n.ip() {
                    IpAddr::V6(a) => Some((a, n.prefix())),
                    IpAddr::V4(_) => None,
                })
                .collect();
            Interface {
                mac: confirm_mac(&p.name, p.mac),
                mtu: mtu_of(&p.name).unwrap_or(1500),
                is_up: p.is_up(),
                is_loopback: p.is_loopback(),
                ipv4,
                ipv6,
                index: p.index,
                name: p.name,
            }
        })
        .collect();
    if out.is_empty() {
        return Err(Error::io(
            "listing network interfaces",
            std::io::Error::other("the kernel reported no interfaces"),
        ));
    }
    out.sort_by_key(|i| i.index);
    Ok(out)
}

fn available(ifaces: &[Interface]) -> String {
    let names: Vec<&str> = ifaces.iter().map(|i| i.name.as_str()).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The interface called `name`, or [`Error::NoSuchInterface`] listing the others.
pub fn by_name(name: &str) -> Result<Interface> {
    let all = list()?;
    match all.iter().position(|i| i.name == name) {
        Some(p) => Ok(all.into_iter().nth(p).expect("index from position")),
        None => Err(Error::NoSuchInterface {
            name: name.to_string(),
            available: available(&all),
        }),
    }
}

/// The interface with kernel index `index`.
pub fn by_index(index: u32) -> Result<Interface> {
    let all = list()?;
    match all.iter().position(|i| i.index == index) {
        Some(p) => Ok(all.into_iter().nth(p).expect("index from position")),
        None => Err(Error::NoSuchInterface {
            name: format!("#{index}"),
            available: available(&all),
        }),
    }
}

/// Name of the interface with kernel index `index` (`if_indextoname`), without listing.
pub fn name_of_index(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf is IF_NAMESIZE bytes as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::testing::{self, NetNs};

    #[test]
    fn nonzero_mac_filters_zero() {
        assert_eq!(nonzero_mac(MacAddr::zero()), None);
        let m = MacAddr::new(2, 0, 0, 0, 0, 1);
        assert_eq!(nonzero_mac(m), Some(m));
    }

    #[test]
    fn lo_in_this_namespace() {
        let lo = by_name("lo").expect("lo exists");
        assert!(lo.is_loopback);
        assert_eq!(lo.mac, None, "lo has no MAC");
        assert!(lo.mtu >= 1500);
        assert_eq!(by_index(lo.index).unwrap().name, "lo");
        assert_eq!(name_of_index(lo.index).as_deref(), Some("lo"));
    }

    #[test]
    fn unknown_name_lists_available() {
        match by_name("nosuch0") {
            Err(Error::NoSuchInterface { name, available }) => {
                assert_eq!(name, "nosuch0");
                assert!(available.contains("lo"), "{available}");
            }
            other => panic!("expected NoSuchInterface, got {other:?}"),
        }
        assert!(matches!(
            by_index(999_999),
            Err(Error::NoSuchInterface { .. })
        ));
    }

    #[test]
    fn veth_in_namespace_has_mac_mtu_and_address() {
        if !testing::require_root("veth_in_namespace_has_mac_mtu_and_address") {
            return;
        }
        let ns = NetNs::new("if");
        ns.ip(&[
            "link", "add", "pfa", "mtu", "1400", "type", "veth", "peer", "name", "pfb",
        ]);
        ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "pfa"]);
        ns.ip(&["link", "set", "pfa", "up"]);
        let (a, all) = ns.run(|| (by_name("pfa").unwrap(), list().unwrap()));
        assert_eq!(
            a.mtu, 1400,
            "MTU must come from the namespace, not /sys of the host"
        );
        assert!(a.mac.is_some());
        assert_eq!(a.ipv4, vec![(Ipv4Addr::new(192, 0, 2, 2), 24)]);
        assert!(all.iter().any(|i| i.name == "pfb"));
        assert!(
            !all.iter().any(|i| i.name == "eth0"),
            "saw the host's interfaces"
        );
    }
}
