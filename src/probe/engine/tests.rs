//! The engine against the real kernel: two namespaces joined by a veth pair.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::lab::netns;
use crate::lab::testing::{self, VethPair};
use crate::probe::ping::PingRequest;
use crate::session::{Session, SessionRequest};
use crate::wire::{EthernetFrame, ETHERTYPE_ARP};

/// The next hop ignores ARP until it has seen our first request: the run starts with the
/// next hop unknown (`keep_trying_arp`), asks again with each probe, and when the answer
/// comes sends the probes held for it; every probe is answered and none fails.
#[test]
fn probes_held_for_arp_leave_when_the_next_hop_answers_late() {
    if !testing::require_root("probes held for ARP") {
        return;
    }
    let pair = VethPair::new("eng");
    pair.ns2.sysctl("net.ipv4.conf.veth2.arp_ignore", "8");
    let ns2 = pair.ns2.name.clone();
    let (ready_tx, ready) = mpsc::channel();
    let watcher = pair.ns2.spawn(move || {
        let mut s = Session::open(&SessionRequest::on_interface("veth2")).unwrap();
        ready_tx.send(()).unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            let Some(rx) = s.recv(end).unwrap() else {
                continue;
            };
            if EthernetFrame::new_checked(rx.data).is_ok_and(|f| f.ethertype() == ETHERTYPE_ARP) {
                // Our first request went unanswered; the next ones are answered.
                netns::sysctl(&ns2, "net.ipv4.conf.veth2.arp_ignore", "0").unwrap();
                return true;
            }
        }
        false
    });
    ready.recv().unwrap();
    let outcome = pair.ns1.run(|| {
        let mut ping = PingRequest::new("192.0.2.1".parse().unwrap());
        ping.count = Some(3);
        ping.interval = Duration::from_millis(300);
        ping.timeout = Duration::from_secs(2);
        ping.run().unwrap()
    });
    assert!(watcher.join().unwrap(), "no ARP request reached the peer");
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let mut seqs: Vec<u16> = outcome.replies.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        [1, 2, 3],
        "every probe, held ones included, is answered"
    );
}
