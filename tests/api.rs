//! The library as an outside crate uses it: only public items, no CLI. Frames are built and read
//! offline; probes run for real from a thread that entered the lab's namespace `a` (the library
//! asks the kernel of the calling thread's namespace, so nothing else is needed).

mod common;

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use pktforge::blast::{self, BlastRequest, Rate};
use pktforge::craft::options::SourceRoute;
use pktforge::event::{Answer, Command, Totals};
use pktforge::lab::{Host, Lab};
use pktforge::probe::ping::PingRequest;
use pktforge::probe::trace::TraceRequest;
use pktforge::wire::{
    build_icmp_frame, EthernetFrame, EthernetRepr, IcmpPacket, IcmpRepr, IpOption, Ipv4Packet,
    Ipv4Repr, MacAddr, ETHERTYPE_IPV4,
};
use pktforge::{Error, Event, Field, Stop};

const B: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);

/// Run `f` on a fresh thread inside the lab host's network namespace.
fn in_ns<T: Send>(lab: &Lab, host: Host, f: impl FnOnce() -> T + Send) -> T {
    let path = format!("/run/netns/{}", lab.ns(host));
    std::thread::scope(|s| {
        s.spawn(|| {
            let ns = std::fs::File::open(&path).expect("namespace file");
            // SAFETY: setns on this thread only, with a namespace fd we own.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}");
            f()
        })
        .join()
        .expect("namespace thread")
    })
}

#[test]
fn a_frame_built_with_record_route_reads_back_through_the_views() {
    let eth = EthernetRepr {
        dst: MacAddr::new(2, 0, 0, 0, 0, 2),
        src: MacAddr::new(2, 0, 0, 0, 0, 1),
        vlans: pktforge::wire::VlanStack::EMPTY,
        ethertype: ETHERTYPE_IPV4,
    };
    let mut ip = Ipv4Repr::new(Ipv4Addr::new(192, 0, 2, 2), B, 1);
    ip.options = vec![IpOption::record_route(9).unwrap()];
    let frame = build_icmp_frame(&eth, &ip, &IcmpRepr::echo_request(7, 1, vec![0xab; 56])).unwrap();

    let e = EthernetFrame::new_checked(&frame[..]).unwrap();
    let v4 = Ipv4Packet::new_checked(e.payload()).unwrap();
    assert_eq!(v4.header_len(), 60, "40 bytes of options: IHL 15");
    assert!(v4.verify_checksum());
    let opts: Vec<_> = v4.option_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(opts[0].option_type(), 7);
    assert_eq!(opts[0].pointer(), Some(4), "an empty route");
    let icmp = IcmpPacket::new_checked(v4.payload()).unwrap();
    assert_eq!(icmp.msg_type(), 8);
    // Every truncation is refused, never a panic.
    for n in 0..frame.len() {
        let _ = EthernetFrame::new_checked(&frame[..n])
            .and_then(|e| Ipv4Packet::new_checked(e.payload().to_vec()));
    }
}

#[test]
fn impossible_requests_name_the_field_not_a_flag() {
    let mut ping = PingRequest::new(B);
    ping.count = Some(0);
    let err = ping.run().unwrap_err();
    assert_eq!(err.field(), Some(Field::Count));
    assert_eq!(err.to_string(), "count must be at least 1");
    let ten: Vec<Ipv4Addr> = (1..=10).map(|i| Ipv4Addr::new(198, 51, 100, i)).collect();
    let mut ping = PingRequest::new(B);
    ping.target.options.source_route = Some(SourceRoute::Loose(ten));
    let err = ping.run().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                field: Field::LooseSourceRoute,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("--"), "{err}");
}

#[test]
fn ping_trace_and_blast_from_code_in_the_lab() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    in_ns(&lab, Host::A, || {
        // Ping through a loose source route: every reply is a struct, with the route reversed.
        let mut ping = PingRequest::new(B);
        ping.count = Some(3);
        ping.interval = Duration::from_millis(100);
        ping.timeout = Duration::from_secs(2);
        ping.target.options.source_route =
            Some(SourceRoute::Loose(vec![Ipv4Addr::new(198, 51, 100, 2)]));
        let out = ping.run().expect("ping runs");
        assert_eq!(out.replies.len(), 3, "{out:?}");
        for r in &out.replies {
            assert_eq!(r.from, B);
            assert!(r.rtt_us > 0.0);
            assert!(matches!(
                r.answer,
                Answer::Echo {
                    data_mismatch: false
                }
            ));
            assert!(
                r.options
                    .iter()
                    .any(|o| matches!(o, IpOption::LooseSourceRoute { .. })),
                "{:?}",
                r.options
            );
        }
        let Totals::Probe(t) = &out.summary.totals else {
            panic!("{:?}", out.summary)
        };
        assert_eq!((t.sent, t.received), (3, 3));
        assert_eq!(out.summary.command, Command::Ping);
        // The same counts without matching the (non-exhaustive) totals.
        let s = &out.summary;
        assert_eq!(
            (s.sent(), s.received(), s.lost()),
            (Some(3), Some(3), Some(0))
        );
        assert_eq!(s.loss_percent(), Some(0.0));
        assert!(s.rtt_us().is_some_and(|r| r.min > 0.0 && r.min <= r.max));

        // A trace streams its events: requests, one hop per TTL, the summary last.
        let mut trace = TraceRequest::new(B);
        trace.probes = 1;
        trace.wait = Duration::from_secs(2);
        let mut hops = Vec::new();
        let mut last = None;
        let summary = trace
            .run_with(&Stop::new(), &mut |ev| {
                if let Event::Hop(h) = ev {
                    hops.push(h.probes[0].from);
                }
                last = Some(ev.clone());
            })
            .expect("trace runs");
        assert!(matches!(last, Some(Event::Summary(_))));
        assert!(matches!(summary.totals, Totals::Trace(ref t) if t.reached));
        assert_eq!(hops.last(), Some(&Some(B)));
        assert_eq!(summary.hops(), Some(hops.len()));
        assert_eq!((summary.received(), summary.lost()), (None, None));

        // A short blast, its summary read as a struct.
        let mut req = BlastRequest::new(B);
        req.rate = Rate::Pps(5000.0);
        req.count = Some(500);
        let out = blast::run(&req, &Stop::new(), &mut |_| {}).expect("blast runs");
        assert!(out.error.is_none(), "{:?}", out.error);
        assert_eq!(out.summary.sent, 500);
        assert_eq!(out.summary.received + out.summary.lost, 500);
        assert!(out.summary.received > 0);
    });
}
