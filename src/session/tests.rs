//! The session against the real kernel: two namespaces joined by a veth pair.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::*;
use crate::lab::testing::{self, VethPair};
use crate::wire::{ArpRepr, EthernetFrame, ETHERTYPE_ARP};

fn peer_mac(pair: &VethPair) -> crate::wire::MacAddr {
    pair.ns2
        .run(|| iface::by_name("veth2").unwrap().mac.unwrap())
}

#[test]
fn resolves_the_next_hop_by_arp_and_records_both_ways() {
    if !testing::require_root("session resolves") {
        return;
    }
    let pair = VethPair::new("ses");
    let want = peer_mac(&pair);
    let dir = std::env::temp_dir().join(format!("pf-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("s.pcap");
    let f = file.clone();
    let (mac, notices, src, records) = pair.ns1.run(move || {
        let mut req = SessionRequest::toward(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        req.recording = Some(Recording {
            path: f,
            format: PcapFormat::Pcap,
        });
        let mut s = Session::open(&req).unwrap();
        let path = s.path().unwrap().clone();
        // an ARP request of our own, answered by the peer's kernel, recorded both ways
        let ask = Arp.solicitation(&path);
        s.send(&ask).unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            if let Some(rx) = s.recv(end).unwrap() {
                if Arp.answer(&path, rx.data).is_some() {
                    break;
                }
            }
        }
        s.flush().unwrap();
        (
            path.dst_mac,
            s.take_notices(),
            path.plan.src_ip,
            s.records(),
        )
    });
    assert_eq!(mac, want, "the next hop's MAC comes from ARP on the wire");
    assert!(notices.is_empty());
    assert_eq!(src, Ipv4Addr::new(192, 0, 2, 2));
    assert!(records);
    let bytes = std::fs::read(&file).unwrap();
    // a pcap header and at least the request and the reply
    assert!(bytes.len() > 24 + 2 * (16 + 42), "{} bytes", bytes.len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn lazy_next_hop_goes_on_and_keeps_the_solicitation() {
    if !testing::require_root("session lazy") {
        return;
    }
    let pair = VethPair::new("sel");
    let (pending, dst_mac) = pair.ns1.run(|| {
        let mut req = SessionRequest::toward(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77)));
        req.next_hop = NextHop::Lazy;
        let s = Session::open(&req).unwrap();
        (
            s.neighbour_request().map(<[u8]>::to_vec),
            s.path().unwrap().dst_mac,
        )
    });
    let pending = pending.expect("nobody has 192.0.2.77: the solicitation is kept");
    let eth = EthernetFrame::new_checked(&pending[..]).unwrap();
    assert_eq!(eth.ethertype(), ETHERTYPE_ARP);
    let arp = ArpRepr::parse(eth.payload()).unwrap();
    assert_eq!(arp.target_ip, Ipv4Addr::new(192, 0, 2, 77));
    assert_eq!(dst_mac, crate::wire::MacAddr::broadcast());

    // Resolve instead refuses the run, naming the timeout
    let err = pair.ns1.run(|| {
        let mut req = SessionRequest::toward(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77)));
        req.path.arp_timeout = Duration::from_millis(300);
        Session::open(&req).unwrap_err()
    });
    assert!(matches!(err, Error::ArpTimeout { .. }), "{err}");
}

#[test]
fn an_interface_session_has_no_path_and_an_unrouted_ipv6_address_is_refused() {
    if !testing::require_root("session iface") {
        return;
    }
    let pair = VethPair::new("sei");
    let (has_path, name, v6) = pair.ns1.run(|| {
        let s = Session::open(&SessionRequest::on_interface("veth1")).unwrap();
        let v6 =
            Session::open(&SessionRequest::toward("2001:db8::1".parse().unwrap())).unwrap_err();
        (s.path().is_some(), s.iface().name.clone(), v6)
    });
    assert!(!has_path);
    assert_eq!(name, "veth1");
    assert!(
        matches!(
            v6,
            Error::NoRoute {
                dst: IpAddr::V6(_),
                ..
            }
        ),
        "no IPv6 route on the pair: {v6}"
    );
}

#[test]
fn on_lo_frames_leave_through_a_raw_socket_and_nothing_changes() {
    if !testing::require_root("session lo") {
        return;
    }
    let pair = VethPair::new("selo");
    let read = || {
        std::fs::read_to_string("/proc/sys/net/ipv4/conf/lo/route_localnet")
            .unwrap()
            .trim()
            .to_string()
    };
    let (before, during, after) = pair.ns1.run(move || {
        let before = read();
        let s = Session::open(&SessionRequest::toward(IpAddr::V4(Ipv4Addr::LOCALHOST))).unwrap();
        let during = (read(), s.settings_changed());
        drop(s);
        (before, during, read())
    });
    assert_eq!(before, during.0);
    assert!(during.1.is_empty());
    assert_eq!(before, after);
}

/// A driver that drives the fast link's batch API (blast) asks for its options and gets the
/// link itself: opened with those options, ARP resolved through it, more of them opened on
/// the same interface. Without the options, or on `lo` through a raw socket, it stays boxed.
#[cfg(target_os = "linux")]
#[test]
fn fast_options_give_the_driver_the_fast_link_itself() {
    use crate::link::packet::fast::{FastOptions, TxMode};
    if !testing::require_root("session fast") {
        return;
    }
    let pair = VethPair::new("sef");
    let want = peer_mac(&pair);
    let opts = FastOptions {
        tx_mode: TxMode::Mmsg,
        max_frame: 200,
        queue: 0,
        bypass_taps: true,
    };
    let got = pair.ns1.run(move || {
        let mut req = SessionRequest::toward(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        req.fast = Some(opts);
        let mut s = Session::open(&req).unwrap();
        let mac = s.path().unwrap().dst_mac;
        let first = s.fast_link().expect("asked for the fast options: typed");
        let first = first.tx_mode();
        let another = s
            .open_another_fast(
                &req.link,
                FastOptions {
                    tx_mode: TxMode::Ring,
                    ..opts
                },
            )
            .unwrap()
            .tx_mode();

        let plain = SessionRequest::toward(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        let boxed = Session::open(&plain).unwrap().fast_link().is_none();
        let lo = SessionRequest {
            fast: Some(opts),
            ..SessionRequest::toward(IpAddr::V4(Ipv4Addr::LOCALHOST))
        };
        let lo_wrapped = Session::open(&lo).unwrap().fast_link().is_none();
        (mac, first, another, boxed, lo_wrapped)
    });
    let (mac, mode, another, boxed, lo_wrapped) = got;
    assert_eq!(mac, want, "the next hop resolved through the typed link");
    assert_eq!(mode, TxMode::Mmsg, "opened with the request's options");
    assert_eq!(another, TxMode::Ring);
    assert!(boxed, "no options: the boxed link");
    assert!(lo_wrapped, "lo through a raw socket wraps the link");
}

/// Run `f` on a thread inside the lab host's namespace.
fn in_host<T: Send + 'static>(
    lab: &crate::lab::Lab,
    host: crate::lab::Host,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let ns = lab.ns(host);
    std::thread::spawn(move || {
        crate::lab::netns::enter(&ns).unwrap();
        f()
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn dual_lab(tag: &str) -> crate::lab::Lab {
    crate::lab::Lab::up_dual(&format!("pfN{}{tag}", std::process::id())).unwrap()
}

fn mac_of(
    lab: &crate::lab::Lab,
    host: crate::lab::Host,
    name: &'static str,
) -> crate::wire::MacAddr {
    in_host(lab, host, move || {
        iface::by_name(name).unwrap().mac.unwrap()
    })
}

/// The ICMPv6 message of an untagged IPv6 frame, with its hop limit and Ethernet destination.
fn icmp6_of(frame: &[u8]) -> Option<(crate::wire::MacAddr, u8, crate::wire::Icmpv6Message)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != crate::wire::ETHERTYPE_IPV6 {
        return None;
    }
    let ip = crate::wire::Ipv6Packet::new_checked(eth.payload()).ok()?;
    let m = crate::wire::Icmpv6Repr::parse_bytes(ip.payload(), ip.src(), ip.dst()).ok()?;
    assert!(m.checksum_ok);
    Some((eth.dst(), ip.hop_limit(), m.repr.message))
}

/// Toward b's IPv6 address from a, across r1 and r2, with no neighbour entries: the kernel's
/// route gives r1 as the next hop and its source address; r1's MAC is learned by NDP on the
/// wire, and the recording holds our solicitation and r1's advertisement.
#[test]
fn ipv6_next_hop_by_ndp_across_the_lab() {
    use crate::lab::Host;
    use crate::wire::{Icmpv6Message, NdpOption};
    if !testing::require_root("session ndp") {
        return;
    }
    let lab = dual_lab("ndp");
    let r1_mac = mac_of(&lab, Host::R1, "r1-a");
    let a_mac = mac_of(&lab, Host::A, "a-r1");
    lab.ip(Host::A, &["-6", "neigh", "flush", "dev", "a-r1"])
        .unwrap();
    let dir = std::env::temp_dir().join(format!("pf-session6-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ndp.pcap");
    let f = file.clone();
    let path = in_host(&lab, Host::A, move || {
        let mut req = SessionRequest::toward("2001:db8:3::2".parse().unwrap());
        req.recording = Some(Recording {
            path: f,
            format: PcapFormat::Pcap,
        });
        let mut s = Session::open(&req).unwrap();
        assert!(s.path().is_none());
        let path = s.path6().unwrap().clone();
        // The path carries an echo request to b and its reply back, through both routers.
        let echo = crate::wire::build_ipv6_frame(
            &path.ethernet(),
            &path.ipv6(crate::wire::IP_PROTO_ICMPV6, 64),
            &[],
            &crate::wire::L6Repr::Icmpv6(crate::wire::Icmpv6Repr::echo_request(
                0x6a6a,
                1,
                b"session".to_vec(),
            )),
        )
        .unwrap();
        s.send(&echo).unwrap();
        let end = Instant::now() + Duration::from_secs(3);
        let mut reply_hops = None;
        while reply_hops.is_none() && Instant::now() < end {
            if let Some(rx) = s.recv(end).unwrap() {
                if let Some((_, hops, Icmpv6Message::EchoReply { id: 0x6a6a, .. })) =
                    icmp6_of(rx.data)
                {
                    reply_hops = Some(hops);
                }
            }
        }
        s.flush().unwrap();
        assert_eq!(reply_hops, Some(62), "b's reply, two routers back");
        path
    });
    let r1: std::net::Ipv6Addr = "2001:db8:1::1".parse().unwrap();
    assert_eq!(path.plan.iface.name, "a-r1");
    assert_eq!(path.plan.gateway, Some(r1), "the kernel's route: via r1");
    assert_eq!(path.plan.next_hop, r1);
    assert_eq!(
        path.plan.src_ip,
        "2001:db8:1::2".parse::<std::net::Ipv6Addr>().unwrap()
    );
    assert_eq!(path.src_mac, a_mac);
    assert_eq!(path.dst_mac, r1_mac, "r1's MAC, learned by NDP");
    assert_eq!(path.ethernet().dst, r1_mac);
    assert_eq!(
        path.ipv6(58, 64).dst,
        "2001:db8:3::2".parse::<std::net::Ipv6Addr>().unwrap()
    );

    let mut cap = crate::link::capfile::CaptureFile::open(&file).unwrap();
    let mut frames = Vec::new();
    while let Some(r) = cap.next_record().unwrap() {
        frames.push(r.data);
    }
    std::fs::remove_dir_all(&dir).ok();
    let msgs: Vec<_> = frames.iter().filter_map(|f| icmp6_of(f)).collect();
    let ns = msgs
        .iter()
        .find(|(_, _, m)| matches!(m, Icmpv6Message::NeighborSolicitation { .. }))
        .expect("our Neighbor Solicitation is recorded");
    assert_eq!(
        ns.0,
        crate::wire::MacAddr::new(0x33, 0x33, 0xff, 0, 0, 1),
        "solicited-node group"
    );
    assert_eq!(ns.1, 255);
    assert_eq!(
        ns.2,
        Icmpv6Message::NeighborSolicitation {
            target: r1,
            options: vec![NdpOption::SourceLinkLayer(a_mac)],
        }
    );
    let na = msgs
        .iter()
        .find(|(_, _, m)| matches!(m, Icmpv6Message::NeighborAdvertisement { .. }))
        .expect("r1's Neighbor Advertisement is recorded");
    assert_eq!(na.1, 255);
    match &na.2 {
        Icmpv6Message::NeighborAdvertisement {
            target,
            solicited,
            router,
            options,
            ..
        } => {
            assert_eq!(*target, r1);
            assert!(
                *solicited && *router,
                "r1 forwards: a router's solicited answer"
            );
            assert_eq!(options, &vec![NdpOption::TargetLinkLayer(r1_mac)]);
        }
        m => panic!("{m:?}"),
    }
}

/// Lazy toward an on-link address nobody has: the session goes on with the solicitation kept
/// (to the target's solicited-node group); Resolve refuses the run naming NDP and the wait.
/// Lazy toward r1: the kept solicitation, sent, is answered and completes the path.
#[test]
fn ipv6_lazy_next_hop_keeps_the_solicitation_and_learns_the_answer() {
    use crate::lab::Host;
    use crate::wire::Icmpv6Message;
    if !testing::require_root("session ndp lazy") {
        return;
    }
    let lab = dual_lab("ndl");
    let r1_mac = mac_of(&lab, Host::R1, "r1-a");
    let (pending, dst_mac, err) = in_host(&lab, Host::A, || {
        let mut req = SessionRequest::toward("2001:db8:1::77".parse().unwrap());
        req.next_hop = NextHop::Lazy;
        let s = Session::open(&req).unwrap();
        let mut resolve = SessionRequest::toward("2001:db8:1::77".parse().unwrap());
        resolve.path.arp_timeout = Duration::from_millis(300);
        (
            s.neighbour_request().map(<[u8]>::to_vec),
            s.path6().unwrap().dst_mac,
            Session::open(&resolve).unwrap_err(),
        )
    });
    let pending = pending.expect("nobody has 2001:db8:1::77: the solicitation is kept");
    let (dst, hops, msg) = icmp6_of(&pending).unwrap();
    let group = crate::wire::MacAddr::new(0x33, 0x33, 0xff, 0, 0, 0x77);
    assert_eq!((dst, hops), (group, 255));
    assert!(
        matches!(msg, Icmpv6Message::NeighborSolicitation { target, .. } if target == "2001:db8:1::77".parse::<std::net::Ipv6Addr>().unwrap())
    );
    assert_eq!(
        dst_mac, group,
        "until answered, frames go to the target's group"
    );
    assert!(matches!(err, Error::NdpTimeout { .. }), "{err}");
    assert!(err.to_string().contains("300 ms"), "{err}");

    lab.ip(Host::A, &["-6", "neigh", "flush", "dev", "a-r1"])
        .unwrap();
    let (learned, mac) = in_host(&lab, Host::A, || {
        let mut req = SessionRequest::toward("2001:db8:1::1".parse().unwrap());
        req.next_hop = NextHop::Lazy;
        let mut s = Session::open(&req).unwrap();
        let ask = s
            .neighbour_request()
            .expect("not in the kernel's table")
            .to_vec();
        s.send(&ask).unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        let mut learned = false;
        while !learned && Instant::now() < end {
            if let Some(rx) = s.recv(end).unwrap() {
                let data = rx.data.to_vec();
                learned = s.learn_neighbour(&data);
            }
        }
        (learned, s.path6().unwrap().dst_mac)
    });
    assert!(learned);
    assert_eq!(mac, r1_mac);
}

/// A link-local destination goes out of its scope's interface: from a (one interface up) it
/// needs none; from r1 (two) it is refused without one and resolved by NDP with it.
#[test]
fn ipv6_link_local_destinations_and_their_scope() {
    use crate::lab::Host;
    if !testing::require_root("session link-local") {
        return;
    }
    let lab = dual_lab("ll");
    let (a_ll, a_mac) = in_host(&lab, Host::A, || {
        let i = iface::by_name("a-r1").unwrap();
        (
            i.link_local_ipv6().expect("a-r1 has a link-local address"),
            i.mac.unwrap(),
        )
    });
    let r1_ll = in_host(&lab, Host::R1, || {
        iface::by_name("r1-a").unwrap().link_local_ipv6().unwrap()
    });
    let r1_mac = mac_of(&lab, Host::R1, "r1-a");
    let from_a = in_host(&lab, Host::A, move || {
        let s = Session::open(&SessionRequest::toward(IpAddr::V6(r1_ll))).unwrap();
        s.path6().unwrap().clone()
    });
    assert_eq!(from_a.plan.iface.name, "a-r1");
    assert_eq!(
        from_a.plan.src_ip, a_ll,
        "a link-local source toward a link-local address"
    );
    assert_eq!(from_a.dst_mac, r1_mac);

    let (refused, scoped) = in_host(&lab, Host::R1, move || {
        let refused = Session::open(&SessionRequest::toward(IpAddr::V6(a_ll))).unwrap_err();
        let text = format!("{a_ll}%r1-a");
        let (addr, scope) = resolve::parse_scoped(&text).unwrap();
        let mut req = SessionRequest::toward(addr);
        req.path.iface = scope;
        let s = Session::open(&req).unwrap();
        (refused, s.path6().unwrap().dst_mac)
    });
    let text = refused.to_string();
    assert!(
        text.contains("link-local") && text.contains("%IFACE"),
        "{text}"
    );
    assert_eq!(scoped, a_mac);
}

/// Toward ::1: the kernel's local route on `lo`, no neighbour to ask; an echo sent on the
/// packet socket is answered by the kernel.
#[test]
fn ipv6_on_lo_needs_no_neighbour() {
    use crate::wire::Icmpv6Message;
    if !testing::require_root("session lo6") {
        return;
    }
    let ns = testing::NetNs::new("lo6");
    ns.sysctl("net.ipv6.conf.all.disable_ipv6", "0");
    ns.sysctl("net.ipv6.conf.lo.disable_ipv6", "0");
    let (name, mac, hops) = ns.run(|| {
        let mut s = Session::open(&SessionRequest::toward("::1".parse().unwrap())).unwrap();
        let path = s.path6().unwrap().clone();
        let echo = crate::wire::build_ipv6_frame(
            &path.ethernet(),
            &path.ipv6(crate::wire::IP_PROTO_ICMPV6, 64),
            &[],
            &crate::wire::L6Repr::Icmpv6(crate::wire::Icmpv6Repr::echo_request(7, 1, vec![1; 8])),
        )
        .unwrap();
        s.send(&echo).unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        let mut hops = None;
        while hops.is_none() && Instant::now() < end {
            if let Some(rx) = s.recv(end).unwrap() {
                if let Some((_, h, Icmpv6Message::EchoReply { id: 7, .. })) = icmp6_of(rx.data) {
                    hops = Some(h);
                }
            }
        }
        (path.plan.iface.name.clone(), path.dst_mac, hops)
    });
    assert_eq!(name, "lo");
    assert_eq!(mac, crate::wire::MacAddr::zero());
    assert_eq!(hops, Some(64));
}
