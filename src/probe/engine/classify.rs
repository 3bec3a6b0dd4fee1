//! Telling what a received frame says about our probes: a direct answer, an ICMP error that
//! quotes one, an error whose quote cannot be read, or nothing of ours.

use std::net::Ipv4Addr;
use std::time::SystemTime;

use super::book::Book;
use super::{Probe, ProbeEvent, IPPROTO_ICMP};
use crate::event::{self, time_us, Answer, IcmpError, Malformed};
use crate::wire::hop::{ms_since_midnight_ut, record_hop};
use crate::wire::{
    explain_pointer, parse_options, IcmpMessage, IcmpPacket, IcmpRepr, Ipv4Packet, VlanStack,
    ETHERTYPE_IPV4,
};

/// The Ethernet header length and IP bytes of `frame` when it carries an IPv4 fragment on
/// exactly the VLAN stack `vlans`.
pub(super) fn fragment_ip<'a>(frame: &'a [u8], vlans: &VlanStack) -> Option<(usize, &'a [u8])> {
    let eh = ipv4_on(frame, vlans)?;
    let ip = Ipv4Packet::new_checked(&frame[eh..]).ok()?;
    ip.is_fragment().then(|| (eh, &frame[eh..]))
}

/// Where the IPv4 header of `frame` starts when the frame carries IPv4 on exactly the VLAN
/// stack `vlans` (untagged when empty): a reply from another VLAN, or tagged when we are not,
/// is not ours.
fn ipv4_on(frame: &[u8], vlans: &VlanStack) -> Option<usize> {
    let eh = vlans.header_len_in(frame)?;
    (frame.get(eh - 2..eh)? == ETHERTYPE_IPV4.to_be_bytes()).then_some(eh)
}

/// Turn a received frame into a Reply or Error event when it is about one of our probes.
pub(super) fn classify<K: Probe + ?Sized>(
    kind: &K,
    our_src: Ipv4Addr,
    vlans: &VlanStack,
    bytes: &[u8],
    at: SystemTime,
    book: &mut Book,
) -> Option<ProbeEvent> {
    // Through the views: nothing is allocated for a frame that is not ours.
    let eh = ipv4_on(bytes, vlans)?;
    let ip = Ipv4Packet::new_checked(&bytes[eh..]).ok()?;
    if ip.is_fragment() {
        return None;
    }
    if let Some((seq, answer)) = kind.answer(&ip, at) {
        if !kind.accepts_dst(ip.dst(), our_src) {
            return None;
        }
        return reply(&ip, seq, answer, at, book);
    }
    quoting_error(kind, our_src, &ip, at, book)
}

/// The RTT of a probe sent at `sent` and answered at `at`, in µs. Kernel timestamps are ns but
/// our send time is a user-space clock read: keep ns anyway.
fn rtt_us(at: SystemTime, sent: SystemTime) -> f64 {
    event::us(at.duration_since(sent).unwrap_or_default())
}

/// The Reply event of `ip`, a direct answer to probe `seq` (None when that probe is not in
/// the book).
fn reply(
    ip: &Ipv4Packet<&[u8]>,
    seq: u16,
    answer: Answer,
    at: SystemTime,
    book: &mut Book,
) -> Option<ProbeEvent> {
    let bad_checksum = !ip.verify_checksum() || !payload_checksum_ok(ip);
    let p = book.get_mut(seq)?;
    // A damaged answer is shown but answers nothing (iputils: "(BAD CHECKSUM!)").
    if !bad_checksum {
        p.answers += 1;
    }
    let bytes = usize::from(ip.total_len()).saturating_sub(ip.header_len());
    let mut options = parse_options(ip.options());
    record_hop(&mut options, ip.dst(), ms_since_midnight_ut(at));
    Some(ProbeEvent::Reply(event::Reply {
        seq,
        from: ip.src(),
        bytes,
        ttl: ip.ttl(),
        rtt_us: rtt_us(at, p.at),
        time_us: time_us(at),
        duplicate: p.answers > 1,
        bad_checksum,
        options,
        answer,
    }))
}

/// The Error event of `ip` when it is an ICMP error to us quoting one of our probes; a
/// Malformed event when the quote cannot be read.
fn quoting_error<K: Probe + ?Sized>(
    kind: &K,
    our_src: Ipv4Addr,
    ip: &Ipv4Packet<&[u8]>,
    at: SystemTime,
    book: &Book,
) -> Option<ProbeEvent> {
    if ip.protocol() != IPPROTO_ICMP || ip.dst() != our_src {
        return None;
    }
    let icmp_view = IcmpPacket::new_checked(ip.payload()).ok()?;
    let quote_result = icmp_view.quote()?;
    let icmp = IcmpRepr::parse(&icmp_view).ok()?;
    let msg = &icmp.repr.message;
    let quote = match quote_result {
        Ok(q) => q,
        Err(e) => {
            return Some(ProbeEvent::Malformed(Malformed {
                from: ip.src(),
                description: msg.describe(),
                problem: e.to_string(),
                time_us: time_us(at),
            }))
        }
    };
    if quote.src() != our_src {
        return None;
    }
    let seq = kind.quoted(quote.protocol(), quote.payload())?;
    let p = book.get(seq)?;
    let detail = match msg {
        IcmpMessage::ParameterProblem { pointer, quote, .. } => {
            Some(explain_pointer(quote, *pointer))
        }
        _ => None,
    };
    Some(ProbeEvent::Error(IcmpError {
        seq,
        from: ip.src(),
        ttl: ip.ttl(),
        icmp_type: icmp.icmp_type,
        icmp_code: icmp.code,
        description: msg.describe(),
        detail,
        quoted_options: parse_options(quote.options()),
        rtt_us: rtt_us(at, p.at),
        time_us: time_us(at),
    }))
}

/// Whether the ICMP checksum of `ip`'s payload verifies (true for other protocols). UDP and TCP
/// are not judged: a Linux sender on a veth (or any NIC with checksum offload) leaves their
/// checksum for the device to fill, and a packet socket on the path sees it unfilled.
fn payload_checksum_ok(ip: &Ipv4Packet<&[u8]>) -> bool {
    match ip.protocol() {
        IPPROTO_ICMP => IcmpPacket::new_checked(ip.payload()).is_ok_and(|v| v.verify_checksum()),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::engine::book::Pending;
    use crate::probe::kinds::Echo;
    use crate::wire::{build_icmp_frame, MacAddr};
    use crate::wire::{EthernetRepr, Ipv4Repr};
    use std::time::Instant;

    fn frame_to_us(msg: IcmpMessage) -> Vec<u8> {
        frame_on(&VlanStack::EMPTY, msg)
    }

    fn frame_on(vlans: &VlanStack, msg: IcmpMessage) -> Vec<u8> {
        let ip = Ipv4Repr::new(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            1,
        );
        let eth = EthernetRepr {
            dst: MacAddr::zero(),
            src: MacAddr::zero(),
            vlans: *vlans,
            ethertype: ETHERTYPE_IPV4,
        };
        build_icmp_frame(&eth, &ip, &IcmpRepr::new(msg)).unwrap()
    }

    #[test]
    fn only_replies_on_our_own_vlan_stack_are_ours() {
        let kind = Echo::new(7, 0, &[]);
        let us: Ipv4Addr = "192.0.2.2".parse().unwrap();
        let st = |s: &[&str]| VlanStack::parse_specs(s).unwrap();
        let stacks = [
            VlanStack::EMPTY,
            st(&["100"]),
            st(&["100:5"]),
            st(&["101"]),
            st(&["100@ad"]),
            st(&["200", "100"]),
            st(&["100", "20"]),
        ];
        let reply = IcmpMessage::EchoReply {
            id: 7,
            seq: 1,
            data: Vec::new(),
        };
        let error = IcmpMessage::TimeExceeded {
            code: 0,
            quote: {
                let mut q = Ipv4Repr::new(us, "203.0.113.2".parse().unwrap(), 1);
                q.ttl = 1;
                let mut b = vec![0u8; 28];
                q.emit(&mut b, 8).unwrap();
                IcmpRepr::echo_request(7, 1, Vec::new())
                    .emit(&mut b[20..])
                    .unwrap();
                b
            },
        };
        for ours in &stacks {
            for theirs in &stacks {
                for (msg, is_reply) in [(&reply, true), (&error, false)] {
                    let mut book = Book::default();
                    let now = SystemTime::now();
                    book.insert(
                        1,
                        Pending {
                            n: 1,
                            at: now,
                            sent: Instant::now(),
                            answers: 0,
                            settled: false,
                        },
                    );
                    let f = frame_on(theirs, msg.clone());
                    let got = classify(&kind, us, ours, &f, now, &mut book);
                    let same = ours.same_vlans(theirs);
                    match got {
                        Some(ProbeEvent::Reply(r)) if is_reply => {
                            assert!(same, "{ours} took a reply on {theirs}");
                            assert_eq!(r.seq, 1);
                        }
                        Some(ProbeEvent::Error(e)) if !is_reply => {
                            assert!(same, "{ours} took an error on {theirs}");
                            assert_eq!(e.seq, 1);
                        }
                        None => assert!(!same, "{ours} missed its answer on {theirs}"),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn truncated_quotes_are_reported_not_matched_and_never_panic() {
        let kind = Echo::new(7, 8, &[]);
        let mut pending = Book::default();
        let us = "192.0.2.2".parse().unwrap();
        // A Time Exceeded quoting 12 bytes: less than an IPv4 header.
        let f = frame_to_us(IcmpMessage::TimeExceeded {
            code: 0,
            quote: vec![0x45, 0, 0, 84, 0, 1, 0, 0, 1, 1, 0, 0],
        });
        match classify(
            &kind,
            us,
            &VlanStack::EMPTY,
            &f,
            SystemTime::now(),
            &mut pending,
        ) {
            Some(ProbeEvent::Malformed(Malformed { description, .. })) => {
                assert_eq!(description, "Time to live exceeded")
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
        // Every truncation of a real frame: no panic.
        for n in 0..f.len() {
            let _ = classify(
                &kind,
                us,
                &VlanStack::EMPTY,
                &f[..n],
                SystemTime::now(),
                &mut pending,
            );
        }
    }
}
