//! The IPv6 wire layer against the Linux kernel: frames built here are sent on a veth pair
//! between two throw-away namespaces (raw AF_PACKET socket, nothing leaves them) and the
//! kernel's answers are read back with the parsers here.

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use super::frag6::{fragment6, Reassembler6};
use super::icmpv6::explain_pointer6;
use super::ipv6ext::*;
use super::*;
use crate::lab::testing::{self, VethPair};

const MAC1: MacAddr = MacAddr(2, 0, 0, 0, 0, 1);
const MAC2: MacAddr = MacAddr(2, 0, 0, 0, 0, 2);

fn a() -> Ipv6Addr {
    "2001:db8:1::2".parse().unwrap()
}
fn b() -> Ipv6Addr {
    "2001:db8:1::1".parse().unwrap()
}

fn pair(tag: &str) -> VethPair {
    let p = VethPair::new(tag);
    p.ns1
        .ip(&["link", "set", "veth1", "address", "02:00:00:00:00:01"]);
    p.ns2
        .ip(&["link", "set", "veth2", "address", "02:00:00:00:00:02"]);
    p.ns1.sysctl("net.ipv6.conf.veth1.disable_ipv6", "0");
    p.ns2.sysctl("net.ipv6.conf.veth2.disable_ipv6", "0");
    p.ns2.sysctl("net.ipv6.icmp.ratelimit", "0");
    p.ns1
        .ip(&["addr", "add", "2001:db8:1::2/64", "dev", "veth1", "nodad"]);
    p.ns2
        .ip(&["addr", "add", "2001:db8:1::1/64", "dev", "veth2", "nodad"]);
    p.ns2.ip(&[
        "neigh",
        "replace",
        "2001:db8:1::2",
        "lladdr",
        "02:00:00:00:00:01",
        "dev",
        "veth2",
        "nud",
        "permanent",
    ]);
    p
}

/// Send `frames` on veth1 (inside ns1) and collect the IPv6 packets (Ethernet cut) ns2 sends
/// back to `a()`, until `done` says so or 3 s pass.
fn exchange(
    p: &VethPair,
    frames: Vec<Vec<u8>>,
    done: impl Fn(&[Vec<u8>]) -> bool + Send + 'static,
) -> Vec<Vec<u8>> {
    p.ns1.run(move || {
        // SAFETY: plain socket calls on a descriptor we own; buffers outlive the calls.
        unsafe {
            let proto = (libc::ETH_P_IPV6 as u16).to_be();
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto));
            assert!(fd >= 0, "AF_PACKET socket");
            let name = std::ffi::CString::new("veth1").unwrap();
            let ifindex = libc::if_nametoindex(name.as_ptr()) as i32;
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto;
            sll.sll_ifindex = ifindex;
            let r = libc::bind(
                fd,
                &sll as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            );
            assert_eq!(r, 0, "bind veth1");
            let tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 200_000,
            };
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as u32,
            );
            for f in &frames {
                let n = libc::send(fd, f.as_ptr() as *const libc::c_void, f.len(), 0);
                assert_eq!(n, f.len() as isize, "send");
            }
            let mut got = Vec::new();
            let start = Instant::now();
            let mut buf = vec![0u8; 65536];
            while start.elapsed() < Duration::from_secs(3) && !done(&got) {
                let n = libc::recv(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0);
                if n < 14 {
                    continue;
                }
                let f = &buf[..n as usize];
                // Only what ns2 sent to us (not our own frames looped back).
                if f[6..12] == MAC2.octets() && f[12..14] == [0x86, 0xdd] {
                    got.push(f[14..].to_vec());
                }
            }
            libc::close(fd);
            got
        }
    })
}

fn eth() -> EthernetRepr {
    EthernetRepr::new(MAC2, MAC1, ETHERTYPE_IPV6)
}

fn icmp_of(pkt: &[u8]) -> Option<ParsedIcmpv6> {
    let (ip, payload) = Ipv6Repr::parse_bytes(pkt).ok()?;
    match upper_layer(ip.repr.next_header, payload).ok()? {
        ChainEnd::Upper {
            protocol: 58,
            offset,
        } => Icmpv6Repr::parse_bytes(&payload[offset..], ip.repr.src, ip.repr.dst).ok(),
        _ => None,
    }
}

fn has_type(t: u8) -> impl Fn(&[Vec<u8>]) -> bool {
    move |got: &[Vec<u8>]| {
        got.iter()
            .any(|p| icmp_of(p).is_some_and(|m| m.icmp_type == t))
    }
}

fn echo(seq: u16, n: usize) -> L6Repr {
    L6Repr::Icmpv6(Icmpv6Repr::echo_request(
        0x6a6a,
        seq,
        (0..n).map(|i| i as u8).collect(),
    ))
}

fn hbh(opt_type: u8) -> Vec<ExtHeaderRepr> {
    vec![ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![
        Ipv6Option::Raw {
            opt_type,
            data: vec![0; 4],
        },
    ]))]
}

#[test]
fn kernel_answers_what_the_options_ask_for() {
    if !testing::require_root("kernel_answers_what_the_options_ask_for") {
        return;
    }
    let p = pair("w6o");
    let ip = Ipv6Repr::new(a(), b(), 0);
    // Unknown option 0x80 (action 10): discard and Parameter Problem code 2, pointer 42 (the
    // option's type byte: 40 + 2).
    let f = build_ipv6_frame(&eth(), &ip, &hbh(0x80), &echo(1, 16)).unwrap();
    let got = exchange(&p, vec![f], has_type(4));
    let m = got
        .iter()
        .find_map(|p| icmp_of(p).filter(|m| m.icmp_type == 4));
    let m = m.expect("a Parameter Problem from the kernel");
    assert!(m.checksum_ok);
    let Icmpv6Message::ParameterProblem {
        code,
        pointer,
        ref quote,
    } = m.repr.message
    else {
        unreachable!()
    };
    assert_eq!((code, pointer), (2, 42));
    let q = m.repr.message.quote().unwrap().unwrap();
    assert_eq!(
        q.echo_id_seq(),
        Some((0x6a6a, 1)),
        "quote found behind the HBH"
    );
    assert!(explain_pointer6(quote, pointer).contains("0x80"));

    // Unknown option 0x1e (action 00): skipped, the echo answered.
    let f = build_ipv6_frame(&eth(), &ip, &hbh(0x1e), &echo(2, 16)).unwrap();
    let got = exchange(&p, vec![f], has_type(129));
    let m = got
        .iter()
        .find_map(|p| icmp_of(p).filter(|m| m.icmp_type == 129))
        .expect("an echo reply");
    assert!(m.checksum_ok);
    assert!(matches!(
        m.repr.message,
        Icmpv6Message::EchoReply {
            id: 0x6a6a,
            seq: 2,
            ..
        }
    ));

    // Routing type 0 with Segments Left 1: code 0, pointer 42 (the routing type byte).
    let rt0 = vec![ExtHeaderRepr::Routing(RoutingRepr::Type0 {
        segments_left: 1,
        reserved: 0,
        addresses: vec!["2001:db8:3::2".parse().unwrap()],
    })];
    let f = build_ipv6_frame(&eth(), &ip, &rt0, &echo(3, 16)).unwrap();
    let got = exchange(&p, vec![f], has_type(4));
    let m = got
        .iter()
        .find_map(|p| icmp_of(p).filter(|m| m.icmp_type == 4))
        .expect("a Parameter Problem for routing type 0");
    assert!(matches!(
        m.repr.message,
        Icmpv6Message::ParameterProblem {
            code: 0,
            pointer: 42,
            ..
        }
    ));
}

#[test]
fn kernel_reassembles_our_fragments_and_we_reassemble_its_reply() {
    if !testing::require_root("kernel_reassembles_our_fragments_and_we_reassemble_its_reply") {
        return;
    }
    let p = pair("w6f");
    let ip = Ipv6Repr::new(a(), b(), 58);
    let mut whole = Vec::new();
    build_ipv6_packet_into(&mut whole, &ip, &[], &echo(7, 2000)).unwrap();
    let frames: Vec<Vec<u8>> = fragment6(&whole, 1280, 0x1234)
        .unwrap()
        .into_iter()
        .map(|f| {
            let mut fr = vec![0u8; 14];
            eth().emit(&mut fr).unwrap();
            fr.extend_from_slice(&f);
            fr
        })
        .collect();
    assert_eq!(frames.len(), 2);
    // The 2048-byte reply does not fit veth's 1500: the kernel fragments it.
    let got = exchange(&p, frames, |got: &[Vec<u8>]| {
        let mut r = Reassembler6::default();
        got.iter().any(|f| r.push(f, Instant::now()).is_some())
    });
    let mut r = Reassembler6::default();
    let reply = got
        .iter()
        .find_map(|f| r.push(f, Instant::now()))
        .expect("the kernel's fragmented echo reply, reassembled");
    let m = icmp_of(&reply).expect("ICMPv6 in the reassembled reply");
    assert!(m.checksum_ok);
    let Icmpv6Message::EchoReply { id, seq, data } = m.repr.message else {
        panic!("not an echo reply: {:?}", m.repr.message)
    };
    assert_eq!((id, seq, data.len()), (0x6a6a, 7, 2000));
    assert!(data.iter().enumerate().all(|(i, &x)| x == i as u8));
}
