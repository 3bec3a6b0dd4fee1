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
fn an_interface_session_has_no_path_and_ipv6_is_refused() {
    if !testing::require_root("session iface") {
        return;
    }
    let pair = VethPair::new("sei");
    let (has_path, name, v6) = pair.ns1.run(|| {
        let s = Session::open(&SessionRequest::on_interface("veth1")).unwrap();
        let v6 = Session::open(&SessionRequest::toward("2001:db8::1".parse().unwrap()))
            .unwrap_err()
            .to_string();
        (s.path().is_some(), s.iface().name.clone(), v6)
    });
    assert!(!has_path);
    assert_eq!(name, "veth1");
    assert!(v6.contains("IPv6"), "{v6}");
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
