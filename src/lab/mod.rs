//! The namespace lab: a real four-host IPv4 network built from network namespaces and veth pairs.
//!
//! ```text
//!   a  192.0.2.2 ── 192.0.2.1  r1  198.51.100.1 ── 198.51.100.2  r2  203.0.113.1 ── 203.0.113.2  b
//! ```
//! `r1` and `r2` are Linux routers (`ip_forward=1`); every host accepts source-routed packets
//! (`accept_source_route=1`), because Linux drops any packet carrying LSRR/SSRR on an interface
//! without it, the final destination and the echo's way back included. Nothing touches the host's
//! own interfaces or routes: every link is created directly inside the namespaces.
//!
//! [`Lab::up_dual`] (what `pktforge lab up` builds) is dual stack: every link also gets a /64
//! from the documentation prefix 2001:db8::/32, r1 and r2 forward IPv6, and the ICMPv6 rate limit
//! is 0 so every probe is answered:
//! ```text
//!   a  2001:db8:1::2 ── 2001:db8:1::1  r1  2001:db8:2::1 ── 2001:db8:2::2  r2  2001:db8:3::1 ── 2001:db8:3::2  b
//! ```
//! Addresses are added without duplicate address detection; no host sends router solicitations
//! or accepts router advertisements. [`Lab::up`] keeps IPv6 off, so that every frame on its
//! links is one a test or a user sent (the kernel's MLD reports for its solicited-node groups
//! would otherwise appear when a link comes up).

pub mod netns;
#[cfg(test)]
pub(crate) mod testing;

use std::process::Output;

use crate::{Error, Result};

/// The four hosts of the lab, in order along the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The probing host: 192.0.2.2, default route via r1.
    A,
    /// First router: 192.0.2.1 / 198.51.100.1.
    R1,
    /// Second router: 198.51.100.2 / 203.0.113.1.
    R2,
    /// The far host: 203.0.113.2, default route via r2.
    B,
}

impl Host {
    /// All hosts, in order along the line.
    pub const ALL: [Host; 4] = [Host::A, Host::R1, Host::R2, Host::B];

    fn suffix(self) -> &'static str {
        match self {
            Host::A => "a",
            Host::R1 => "r1",
            Host::R2 => "r2",
            Host::B => "b",
        }
    }
}

/// One link of the lab: (host, interface, address/prefix) at each end.
type LinkEnd = (Host, &'static str, &'static str);

const LINKS: [(LinkEnd, LinkEnd); 3] = [
    (
        (Host::A, "a-r1", "192.0.2.2/24"),
        (Host::R1, "r1-a", "192.0.2.1/24"),
    ),
    (
        (Host::R1, "r1-r2", "198.51.100.1/24"),
        (Host::R2, "r2-r1", "198.51.100.2/24"),
    ),
    (
        (Host::R2, "r2-b", "203.0.113.1/24"),
        (Host::B, "b-r2", "203.0.113.2/24"),
    ),
];

/// The IPv6 address/prefix of each lab interface ([`Lab::up_dual`]), in the order of [`LINKS`].
const LINKS6: [(&str, &str); 3] = [
    ("2001:db8:1::2/64", "2001:db8:1::1/64"),
    ("2001:db8:2::1/64", "2001:db8:2::2/64"),
    ("2001:db8:3::1/64", "2001:db8:3::2/64"),
];

/// IPv6 routes beyond the connected /64s ([`Lab::up_dual`]): (host, destination, gateway).
const ROUTES6: [(Host, &str, &str); 4] = [
    (Host::A, "default", "2001:db8:1::1"),
    (Host::R1, "2001:db8:3::/64", "2001:db8:2::2"),
    (Host::R2, "2001:db8:1::/64", "2001:db8:2::1"),
    (Host::B, "default", "2001:db8:3::1"),
];

/// Routes each host needs beyond its connected networks: (host, `ip route add` arguments).
const ROUTES: [(Host, &str, &str); 4] = [
    (Host::A, "default", "192.0.2.1"),
    (Host::R1, "203.0.113.0/24", "198.51.100.2"),
    (Host::R2, "192.0.2.0/24", "198.51.100.1"),
    (Host::B, "default", "203.0.113.1"),
];

/// A running lab. Dropping it tears the namespaces down unless [`Lab::keep`] was called.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    keep: bool,
    dual: bool,
}

impl Lab {
    /// Interface of host `a` toward r1.
    pub const A_IFACE: &'static str = "a-r1";
    /// Interface of host `b` toward r2.
    pub const B_IFACE: &'static str = "b-r2";

    /// Build the lab under `prefix` (namespaces `PREFIX-a`, `PREFIX-r1`, `PREFIX-r2`, `PREFIX-b`).
    /// Any namespace of the same name left from an earlier run is removed first.
    /// IPv4 only: IPv6 is disabled on every interface.
    pub fn up(prefix: &str) -> Result<Lab> {
        Lab::build_under(prefix, false)
    }

    /// Build the lab dual stack: the IPv4 lab of [`Lab::up`] plus the IPv6 addresses and routes
    /// of the module's description (what `pktforge lab up` builds).
    pub fn up_dual(prefix: &str) -> Result<Lab> {
        Lab::build_under(prefix, true)
    }

    fn build_under(prefix: &str, dual: bool) -> Result<Lab> {
        validate_prefix(prefix)?;
        Lab::down(prefix);
        let lab = Lab {
            prefix: prefix.to_string(),
            keep: false,
            dual,
        };
        lab.build()?; // on error `lab` drops and tears down what was made
        Ok(lab)
    }

    /// Whether the lab has its IPv6 addresses ([`Lab::up_dual`]).
    pub fn is_dual(&self) -> bool {
        self.dual
    }

    fn build(&self) -> Result<()> {
        let off = if self.dual { "0" } else { "1" };
        for host in Host::ALL {
            netns::add(&self.ns(host))?;
            // IPv4 only: no IPv6 router solicitations, DAD or MLD frames on its links, so every
            // frame on them is one a test or a user sent (or the kernel's IPv4 answer to it).
            // Dual stack: no DAD, no router solicitations, no router advertisements taken.
            for scope in ["all", "default"] {
                if self.dual {
                    self.sysctl(host, &format!("net.ipv6.conf.{scope}.accept_dad"), "0")?;
                    self.sysctl(host, &format!("net.ipv6.conf.{scope}.accept_ra"), "0")?;
                    self.sysctl(
                        host,
                        &format!("net.ipv6.conf.{scope}.router_solicitations"),
                        "0",
                    )?;
                }
                self.sysctl(host, &format!("net.ipv6.conf.{scope}.disable_ipv6"), off)?;
            }
            if self.dual {
                // Every ICMPv6 error answered (the default limits them to one per 100 ms).
                self.sysctl(host, "net.ipv6.icmp.ratelimit", "0")?;
                if matches!(host, Host::R1 | Host::R2) {
                    self.sysctl(host, "net.ipv6.conf.all.forwarding", "1")?;
                }
            }
            self.sysctl(host, "net.ipv4.conf.all.accept_source_route", "1")?;
            self.sysctl(host, "net.ipv4.conf.default.accept_source_route", "1")?;
            self.sysctl(host, "net.ipv4.conf.all.rp_filter", "0")?;
            self.sysctl(host, "net.ipv4.conf.default.rp_filter", "0")?;
            if matches!(host, Host::R1 | Host::R2) {
                self.sysctl(host, "net.ipv4.ip_forward", "1")?;
            }
            self.ip(host, &["link", "set", "lo", "up"])?;
        }
        for (((h1, if1, addr1), (h2, if2, addr2)), (v6a, v6b)) in LINKS.into_iter().zip(LINKS6) {
            let peer_ns = self.ns(h2);
            self.ip(
                h1,
                &[
                    "link", "add", if1, "type", "veth", "peer", "name", if2, "netns", &peer_ns,
                ],
            )?;
            for (h, ifname, addr) in [(h1, if1, addr1), (h2, if2, addr2)] {
                self.ip(h, &["addr", "add", addr, "dev", ifname])?;
                self.sysctl(
                    h,
                    &format!("net.ipv4.conf.{ifname}.accept_source_route"),
                    "1",
                )?;
            }
            if self.dual {
                self.ip(h1, &["-6", "addr", "add", v6a, "dev", if1, "nodad"])?;
                self.ip(h2, &["-6", "addr", "add", v6b, "dev", if2, "nodad"])?;
            }
            for (h, ifname) in [(h1, if1), (h2, if2)] {
                self.ip(h, &["link", "set", ifname, "up"])?;
            }
        }
        for (host, dst, via) in ROUTES {
            self.ip(host, &["route", "add", dst, "via", via])?;
        }
        if self.dual {
            for (host, dst, via) in ROUTES6 {
                self.ip(host, &["-6", "route", "add", dst, "via", via])?;
            }
            self.wait_for_link_local()?;
        }
        Ok(())
    }

    /// A veth's carrier comes up a moment after `ip link set up`, and its link-local address
    /// (which NDP answers from) only then: wait for every lab interface's, at most 5 s.
    fn wait_for_link_local(&self) -> Result<()> {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        for ((h1, if1, _), (h2, if2, _)) in LINKS {
            for (h, ifname) in [(h1, if1), (h2, if2)] {
                loop {
                    let out = self.exec(
                        h,
                        "ip",
                        &["-6", "-o", "addr", "show", "dev", ifname, "scope", "link"],
                    )?;
                    if !out.stdout.is_empty() {
                        break;
                    }
                    if std::time::Instant::now() >= end {
                        return Err(Error::Invalid(format!(
                            "lab: {ifname} in {} has no IPv6 link-local address after 5 s",
                            self.ns(h)
                        )));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
        Ok(())
    }

    /// Remove every namespace of the lab under `prefix`; missing ones are ignored.
    pub fn down(prefix: &str) {
        for host in Host::ALL {
            let _ = netns::delete(&format!("{prefix}-{}", host.suffix()));
        }
        // Journals of lo settings changed in namespaces that are gone now.
        crate::net::loopback::sweep();
    }

    /// Whether any namespace of a lab under `prefix` exists.
    pub fn exists(prefix: &str) -> bool {
        Host::ALL
            .iter()
            .any(|h| netns::exists(&format!("{prefix}-{}", h.suffix())))
    }

    /// Leave the namespaces in place when this value is dropped (for `pktforge lab up`).
    pub fn keep(mut self) {
        self.keep = true;
    }

    /// The prefix the lab was built under.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Name of a host's network namespace.
    pub fn ns(&self, host: Host) -> String {
        format!("{}-{}", self.prefix, host.suffix())
    }

    /// Run a program inside a host's namespace and collect its output (it is not checked).
    pub fn exec(&self, host: Host, program: &str, args: &[&str]) -> Result<Output> {
        netns::exec(&self.ns(host), program, args)
    }

    /// Run `ip ARGS` inside a host's namespace; a non-zero exit is an error.
    pub fn ip(&self, host: Host, args: &[&str]) -> Result<()> {
        netns::ip(&self.ns(host), args)
    }

    /// Set a sysctl inside a host's namespace.
    pub fn sysctl(&self, host: Host, key: &str, value: &str) -> Result<()> {
        netns::sysctl(&self.ns(host), key, value)
    }

    /// A one-paragraph description of the lab for `pktforge lab up`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (((h1, if1, a1), (h2, if2, a2)), (b1, b2)) in LINKS.into_iter().zip(LINKS6) {
            s.push_str(&format!(
                "  {} {if1} {a1}  <->  {} {if2} {a2}\n",
                self.ns(h1),
                self.ns(h2)
            ));
            if self.dual {
                s.push_str(&format!(
                    "  {} {if1} {b1}  <->  {} {if2} {b2}\n",
                    self.ns(h1),
                    self.ns(h2)
                ));
            }
        }
        s.push_str(&format!(
            "try:  ip netns exec {} pktforge ping -c 3 -R 203.0.113.2\n",
            self.ns(Host::A)
        ));
        s.push_str(&format!(
            "done: pktforge lab down --prefix {}\n",
            self.prefix
        ));
        s
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !self.keep {
            Lab::down(&self.prefix);
        }
    }
}

fn validate_prefix(prefix: &str) -> Result<()> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 32
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "lab prefix {prefix:?} must be 1..=32 characters of [A-Za-z0-9_-]"
        )))
    }
}
