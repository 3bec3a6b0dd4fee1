//! IPv6 in `decode` and `capture -r`: frames built by our IPv6 builders (every extension header
//! kind, NDP with options, ICMPv6 errors quoting packets behind extension headers, UDP/TCP over
//! IPv6) and kernel traffic captured in throw-away namespaces (echo, NDP, Time Exceeded, Packet
//! Too Big, fragments, Port Unreachable, TCP). `capture -r` prints what `tcpdump -nn -r` prints
//! line by line (and with -e, -v), its filters give tcpdump's records, and `decode --json` agrees
//! with `tshark -T fields` field by field.

mod common;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use common::pktforge_here as pktforge;
use pktforge::wire::icmpv6::{Icmpv6Message, Icmpv6Repr, NdpOption};
use pktforge::wire::ipv6ext::{FragmentRepr, Ipv6Option, OptionsRepr, RoutingRepr, SrhRepr};
use pktforge::wire::{
    build_ipv6_frame, EthernetRepr, ExtHeaderRepr, Ipv6Repr, L6Repr, MacAddr, TcpRepr, UdpRepr,
    VlanStack, ETHERTYPE_IPV6,
};
use serde_json::Value;

/// A per-call number: the tests of this file run in parallel in one process.
fn unique() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "pfD-ipv6-{}-{}-{name}",
        std::process::id(),
        unique()
    ))
}

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// A pcap (Ethernet) of `frames`, one second apart.
fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        b.extend_from_slice(&(1_700_000_000 + i as u32).to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(f.len() as u32).to_le_bytes());
        b.extend_from_slice(&(f.len() as u32).to_le_bytes());
        b.extend_from_slice(f);
    }
    std::fs::write(path, b).unwrap();
}

fn eth() -> EthernetRepr {
    EthernetRepr {
        dst: MacAddr::new(0x02, 0, 0, 0, 0, 0x01),
        src: MacAddr::new(0x02, 0, 0, 0, 0, 0x02),
        vlans: VlanStack::default(),
        ethertype: ETHERTYPE_IPV6,
    }
}

fn ip(src: &str, dst: &str) -> Ipv6Repr {
    Ipv6Repr::new(a(src), a(dst), 0)
}

fn frame(ip: &Ipv6Repr, exts: &[ExtHeaderRepr], upper: L6Repr) -> Vec<u8> {
    build_ipv6_frame(&eth(), ip, exts, &upper).unwrap()
}

fn icmp(m: Icmpv6Message) -> L6Repr {
    L6Repr::Icmpv6(Icmpv6Repr::new(m))
}

fn echo(id: u16, seq: u16, n: usize) -> L6Repr {
    L6Repr::Icmpv6(Icmpv6Repr::echo_request(
        id,
        seq,
        (0..n).map(|i| i as u8).collect(),
    ))
}

/// The IPv6 packet (no Ethernet) of a frame.
fn packet(f: &[u8]) -> Vec<u8> {
    f[14..].to_vec()
}

/// Frames of every kind the dissector and the one-liner know, from our builders.
fn built_frames() -> Vec<Vec<u8>> {
    let (s, d) = ("2001:db8:1::2", "2001:db8:3::2");
    let mut v = Vec::new();
    // Echo with traffic class and flow label.
    let mut h = ip(s, d);
    h.traffic_class = 0xb8;
    h.flow_label = 0x12345;
    v.push(frame(&h, &[], echo(1, 1, 56)));
    // Hop-by-Hop: Router Alert + PadN; an unknown option 0x1e and one 0x80 (action bits).
    let hbh = ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![
        Ipv6Option::RouterAlert(0),
        Ipv6Option::PadN(0),
    ]));
    v.push(frame(&ip(s, d), &[hbh], echo(1, 2, 16)));
    let unk = ExtHeaderRepr::HopByHop(OptionsRepr::new(vec![
        Ipv6Option::Raw {
            opt_type: 0x1e,
            data: vec![0; 2],
        },
        Ipv6Option::Raw {
            opt_type: 0x80,
            data: vec![1, 2],
        },
    ]));
    v.push(frame(&ip(s, d), std::slice::from_ref(&unk), echo(1, 3, 16)));
    // Destination Options with a Tunnel Encapsulation Limit.
    let dst = ExtHeaderRepr::DestOpts(OptionsRepr::new(vec![Ipv6Option::TunnelEncapLimit(4)]));
    v.push(frame(&ip(s, d), &[dst], echo(1, 4, 16)));
    // Routing type 0 and an SRH (checksums over the final destination).
    let rt0 = ExtHeaderRepr::Routing(RoutingRepr::Type0 {
        segments_left: 1,
        reserved: 0,
        addresses: vec![a(d)],
    });
    v.push(frame(
        &ip(s, "2001:db8:1::1"),
        std::slice::from_ref(&rt0),
        echo(1, 5, 16),
    ));
    let srh = ExtHeaderRepr::Routing(RoutingRepr::Srh(SrhRepr::from_path(&[
        a("2001:db8:1::1"),
        a("2001:db8:2::1"),
        a(d),
    ])));
    v.push(frame(
        &ip(s, "2001:db8:1::1"),
        &[srh],
        L6Repr::Udp(UdpRepr {
            src_port: 40000,
            dst_port: 33434,
            payload: vec![7; 12],
            length_override: None,
            checksum_override: None,
        }),
    ));
    // Fragments: first and later, and an atomic fragment.
    let fr = |offset, more| {
        ExtHeaderRepr::Fragment(FragmentRepr {
            offset,
            more,
            ident: 0x1234_5678,
        })
    };
    let whole = frame(&ip(s, d), &[], echo(2, 1, 120));
    let body = &whole[54..];
    v.push(frame(
        &ip(s, d),
        &[fr(0, true)],
        L6Repr::Raw(58, body[..64].to_vec()),
    ));
    v.push(frame(
        &ip(s, d),
        &[fr(8, false)],
        L6Repr::Raw(58, body[64..].to_vec()),
    ));
    v.push(frame(&ip(s, d), &[fr(0, false)], echo(2, 2, 8)));
    // AH (length 4: 24 bytes) before ICMPv6, ESP, No Next Header.
    let mut ah = vec![0, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 5];
    ah.extend_from_slice(&[0xaa; 12]);
    v.push(frame(
        &ip(s, d),
        &[ExtHeaderRepr::Raw {
            protocol: 51,
            bytes: ah,
        }],
        echo(3, 1, 8),
    ));
    let mut esp = vec![0, 0, 0x20, 0x02, 0, 0, 0, 9];
    esp.extend_from_slice(&[0x55; 24]);
    v.push(frame(&ip(s, d), &[], L6Repr::Raw(50, esp)));
    v.push(frame(&ip(s, d), &[], L6Repr::Raw(59, vec![])));
    // UDP and TCP over IPv6, a UDP with a wrong checksum.
    v.push(frame(
        &ip(s, d),
        &[],
        L6Repr::Udp(UdpRepr {
            src_port: 4000,
            dst_port: 9999,
            payload: b"hello".to_vec(),
            length_override: None,
            checksum_override: None,
        }),
    ));
    v.push(frame(
        &ip(s, d),
        &[],
        L6Repr::Udp(UdpRepr {
            src_port: 5000,
            dst_port: 6000,
            payload: b"bad".to_vec(),
            length_override: None,
            checksum_override: Some(0x1234),
        }),
    ));
    let mut syn = TcpRepr::new(40001, 22, 0x002);
    syn.seq = 1000;
    syn.window = 64800;
    v.push(frame(&ip(s, d), &[], L6Repr::Tcp(syn)));
    // NDP: RS, RA with prefix / MTU / source link-layer, NS, NA, Redirect.
    let mac = MacAddr::new(0x02, 0, 0, 0, 0, 0x02);
    let mut nd = ip("fe80::2", "ff02::2");
    nd.hop_limit = 255;
    v.push(frame(
        &nd,
        &[],
        icmp(Icmpv6Message::RouterSolicitation {
            options: vec![NdpOption::SourceLinkLayer(mac)],
        }),
    ));
    let mut ra = ip("fe80::1", "ff02::1");
    ra.hop_limit = 255;
    v.push(frame(
        &ra,
        &[],
        icmp(Icmpv6Message::RouterAdvertisement {
            cur_hop_limit: 64,
            managed: true,
            other: false,
            preference: 1,
            router_lifetime: 1800,
            reachable_time: 30000,
            retrans_timer: 1000,
            options: vec![
                NdpOption::SourceLinkLayer(mac),
                NdpOption::Mtu(1500),
                NdpOption::PrefixInformation {
                    prefix_len: 64,
                    on_link: true,
                    autonomous: true,
                    valid_lifetime: 86400,
                    preferred_lifetime: 14400,
                    prefix: a("2001:db8:1::"),
                },
            ],
        }),
    ));
    let mut ns = ip(s, "ff02::1:ff00:1");
    ns.hop_limit = 255;
    v.push(frame(
        &ns,
        &[],
        icmp(Icmpv6Message::NeighborSolicitation {
            target: a("2001:db8:1::1"),
            options: vec![NdpOption::SourceLinkLayer(mac)],
        }),
    ));
    let mut na = ip("2001:db8:1::1", s);
    na.hop_limit = 255;
    v.push(frame(
        &na,
        &[],
        icmp(Icmpv6Message::NeighborAdvertisement {
            router: true,
            solicited: true,
            override_flag: false,
            target: a("2001:db8:1::1"),
            options: vec![NdpOption::TargetLinkLayer(mac)],
        }),
    ));
    v.push(frame(
        &na,
        &[],
        icmp(Icmpv6Message::Redirect {
            target: a("fe80::3"),
            destination: a(d),
            options: vec![],
        }),
    ));
    // Errors quoting packets: behind a Hop-by-Hop header (Parameter Problem code 2 pointer
    // 42), a routing type 0 (code 0 pointer 42), Port Unreachable for UDP, Packet Too Big.
    let quoted = packet(&frame(&ip(s, d), &[unk], echo(9, 1, 8)));
    let r1 = ip("2001:db8:1::1", s);
    v.push(frame(
        &r1,
        &[],
        icmp(Icmpv6Message::ParameterProblem {
            code: 2,
            pointer: 42,
            quote: quoted,
        }),
    ));
    let quoted = packet(&frame(&ip(s, d), &[rt0], echo(9, 2, 8)));
    v.push(frame(
        &r1,
        &[],
        icmp(Icmpv6Message::ParameterProblem {
            code: 0,
            pointer: 42,
            quote: quoted,
        }),
    ));
    let probe = packet(&frame(
        &ip(s, d),
        &[],
        L6Repr::Udp(UdpRepr {
            src_port: 40000,
            dst_port: 33434,
            payload: vec![0; 32],
            length_override: None,
            checksum_override: None,
        }),
    ));
    v.push(frame(
        &ip(d, s),
        &[],
        icmp(Icmpv6Message::DestUnreachable {
            code: 4,
            quote: probe.clone(),
        }),
    ));
    v.push(frame(
        &ip("2001:db8:1::1", s),
        &[],
        icmp(Icmpv6Message::DestUnreachable {
            code: 3,
            quote: probe.clone(),
        }),
    ));
    v.push(frame(
        &r1,
        &[],
        icmp(Icmpv6Message::TimeExceeded {
            code: 0,
            quote: probe.clone(),
        }),
    ));
    // The other codes: unreachable route / prohibited / beyond scope / policy, reassembly time
    // exceeded, unrecognized next header.
    for code in [0, 1, 2, 5] {
        v.push(frame(
            &r1,
            &[],
            icmp(Icmpv6Message::DestUnreachable {
                code,
                quote: probe.clone(),
            }),
        ));
    }
    v.push(frame(
        &ip(d, s),
        &[],
        icmp(Icmpv6Message::TimeExceeded {
            code: 1,
            quote: probe.clone(),
        }),
    ));
    v.push(frame(
        &ip(d, s),
        &[],
        icmp(Icmpv6Message::ParameterProblem {
            code: 1,
            pointer: 6,
            quote: probe,
        }),
    ));
    let big = packet(&frame(&ip(s, d), &[], echo(9, 3, 1400)));
    v.push(frame(
        &r1,
        &[],
        icmp(Icmpv6Message::PacketTooBig {
            mtu: 1280,
            quote: big[..1232].to_vec(),
        }),
    ));
    v
}

/// Each frame's text without its time stamp (continuation lines joined with `\n`).
fn frames(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        let stamped = l.len() > 16 && l.as_bytes()[2] == b':' && l.as_bytes()[8] == b'.';
        if stamped {
            out.push(l.split_once(' ').unwrap().1.to_string());
        } else if let Some(last) = out.last_mut() {
            last.push('\n');
            last.push_str(l);
        }
    }
    out
}

fn tcpdump(flags: &[&str], file: &Path, filter: Option<&str>) -> Vec<String> {
    let mut c = Command::new("tcpdump");
    c.arg("-nn")
        .args(flags)
        .arg("-r")
        .arg(file)
        .env("TZ", "UTC");
    if let Some(f) = filter {
        c.arg(f);
    }
    let o = c.output().expect("tcpdump (.ci/install)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    frames(&String::from_utf8_lossy(&o.stdout))
}

fn ours(flags: &[&str], file: &Path, filter: Option<&str>) -> Vec<String> {
    let mut args = vec!["capture"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["-r", file.to_str().unwrap()]);
    if let Some(f) = filter {
        args.push(f);
    }
    let o = pktforge(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    frames(&String::from_utf8_lossy(&o.stdout))
}

/// Kernel IPv6 traffic in throw-away namespaces a — r — b (2001:db8:1::/64, 2001:db8:3::/64,
/// the r–b link at MTU 1280), captured by tcpdump on a's veth: NDP, echo with flow label and
/// traffic class, Time Exceeded, Packet Too Big, fragments both ways, UDP Port Unreachable, a
/// TCP SYN answered by RST, a TCP connection with data both ways.
fn kernel_capture() -> PathBuf {
    let file = tmp("kernel.pcap");
    let id = format!("{}x{}", std::process::id() % 100_000, unique());
    let (na, nr, nb) = (
        format!("pfDa{id}"),
        format!("pfDr{id}"),
        format!("pfDb{id}"),
    );
    let script = format!(
        r#"set -e
A={na} R={nr} B={nb}
for n in $A $R $B; do ip netns add $n; done
trap 'for n in $A $R $B; do ip netns del $n 2>/dev/null; done' EXIT
ip link add v0 netns $A type veth peer name v1 netns $R
ip link add v2 netns $R type veth peer name v3 netns $B
ip -n $A addr add 2001:db8:1::2/64 dev v0 nodad
ip -n $R addr add 2001:db8:1::1/64 dev v1 nodad
ip -n $R addr add 2001:db8:3::1/64 dev v2 nodad
ip -n $B addr add 2001:db8:3::2/64 dev v3 nodad
for n in $A $R $B; do ip -n $n link set lo up; ip netns exec $n sysctl -qw net.ipv6.icmp.ratelimit=0; done
ip -n $A link set v0 up; ip -n $R link set v1 up; ip -n $R link set v2 up mtu 1280; ip -n $B link set v3 up mtu 1280
ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n $A -6 route add default via 2001:db8:1::1
ip -n $B -6 route add default via 2001:db8:3::1
ip netns exec $A tcpdump -i v0 -U -s 0 -w {file} ip6 2>/dev/null & TP=$!
sleep 1.5
ip netns exec $A ping -6 -c2 -i0.2 -F 0x12345 -Q 0x28 2001:db8:3::2 >/dev/null
ip netns exec $A ping -6 -c1 -t1 -W1 2001:db8:3::2 >/dev/null || true
ip netns exec $A ping -6 -c1 -W1 -M do -s 1400 2001:db8:3::2 >/dev/null 2>&1 || true
ip netns exec $A ping -6 -c1 -s 1400 2001:db8:3::2 >/dev/null
ip netns exec $A traceroute -6 -n -q1 -m2 2001:db8:3::2 >/dev/null
ip netns exec $A traceroute -6 -n -q1 -m2 -T -p 80 2001:db8:3::2 >/dev/null
ip netns exec $B timeout 5 python3 -c 'import socket
s = socket.socket(socket.AF_INET6); s.bind(("::", 7777)); s.listen()
c, _ = s.accept(); c.recv(100); c.sendall(b"ok"); c.close()' & SP=$!
sleep 0.5
ip netns exec $A timeout 5 python3 -c 'import socket
s = socket.create_connection(("2001:db8:3::2", 7777)); s.sendall(b"hello"); s.recv(10); s.close()'
wait $SP
sleep 1
kill $TP; wait $TP || true
"#,
        file = file.display()
    );
    let o = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    file
}

fn built_file() -> PathBuf {
    let f = tmp("built.pcap");
    write_pcap(&f, &built_frames());
    f
}

/// Every IPv6 line of `capture -r` equals tcpdump -nn's, for built and kernel frames, and with
/// -e and -v (the NDP options and MLD records -v lists included).
#[test]
fn ipv6_lines_equal_tcpdump_nn() {
    let mut seen = Vec::new();
    for file in [built_file(), kernel_capture()] {
        for flags in [&[][..], &["-e"][..], &["-v"][..], &["-e", "-v"][..]] {
            let t = tcpdump(flags, &file, None);
            seen.extend(t.iter().cloned());
            let p = ours(flags, &file, None);
            assert_eq!(t.len(), p.len(), "{flags:?} {}", file.display());
            assert!(t.len() >= 15, "{t:?}");
            let mut same = 0;
            for (x, y) in t.iter().zip(&p) {
                assert_eq!(x, y, "{flags:?} {}", file.display());
                same += 1;
            }
            assert!(same >= 15, "{flags:?}: {same} lines compared");
        }
        let _ = std::fs::remove_file(&file);
    }
    // Every kind of line was among those compared.
    for kind in [
        "echo request, id",
        "neighbor solicitation, who has",
        "neighbor advertisement, tgt is",
        "router advertisement",
        "time exceeded in-transit for",
        "packet too big, mtu 1280",
        "unreachable port, 2001:db8:3::2 udp port",
        "parameter problem, option - octet 42",
        "frag (0|1232) ICMP6",
        "HBH ",
        "RT6 (len=",
        "Flags [P.], seq 1:6, ack 1",
        "flowlabel 0x12345",
        "ethertype IPv6 (0x86dd)",
        "source link-address option",
    ] {
        assert!(seen.iter().any(|l| l.contains(kind)), "no {kind:?} line");
    }
}

/// tcpdump's filters `ip6`, `icmp6`, `ip6 proto 58`, `udp` select the same records.
#[test]
fn ipv6_filters_select_tcpdumps_records() {
    for file in [built_file(), kernel_capture()] {
        for f in [
            "ip6",
            "icmp6",
            "ip6 proto 58",
            "udp",
            "tcp",
            "ip6 proto 0",
            "ip",
        ] {
            let t = tcpdump(&[], &file, Some(f));
            let p = ours(&[], &file, Some(f));
            assert_eq!(t, p, "filter {f}");
            assert!(
                !t.is_empty() || matches!(f, "ip6 proto 0" | "ip"),
                "filter {f}"
            );
        }
        let _ = std::fs::remove_file(&file);
    }
}

/// One field as text comparable with tshark: the first word, numbers as numbers.
fn norm(v: &str) -> String {
    let w = v.split_whitespace().next().unwrap_or("");
    let n = match w.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => w.parse::<u64>().ok(),
    };
    match (n, w) {
        (_, "True") => "1".into(),
        (_, "False") => "0".into(),
        (Some(n), _) => n.to_string(),
        _ => w.to_string(),
    }
}

fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(v);
    if let Some(c) = v.get("children").and_then(Value::as_array) {
        for x in c {
            walk(x, out);
        }
    }
}

/// Keys compared with tshark's fields of the same name (outside quotes).
const KEYS: &[&str] = &[
    "ipv6.version",
    "ipv6.tclass",
    "ipv6.flow",
    "ipv6.plen",
    "ipv6.nxt",
    "ipv6.hlim",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hopopts.nxt",
    "ipv6.dstopts.nxt",
    "ipv6.opt.type",
    "ipv6.opt.length",
    "ipv6.opt.router_alert",
    "ipv6.opt.tel",
    "ipv6.routing.type",
    "ipv6.routing.segleft",
    "ipv6.routing.src.addr",
    "ipv6.routing.srh.last_entry",
    "ipv6.routing.srh.addr",
    "ipv6.fraghdr.offset",
    "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident",
    "ah.next_header",
    "ah.spi",
    "ah.sequence",
    "esp.spi",
    "esp.sequence",
    "icmpv6.type",
    "icmpv6.code",
    "icmpv6.checksum",
    "icmpv6.echo.identifier",
    "icmpv6.echo.sequence_number",
    "icmpv6.mtu",
    "icmpv6.pointer",
    "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.target_address",
    "icmpv6.nd.na.flag.r",
    "icmpv6.nd.na.flag.s",
    "icmpv6.nd.na.flag.o",
    "icmpv6.nd.ra.cur_hop_limit",
    "icmpv6.nd.ra.flag.m",
    "icmpv6.nd.ra.flag.o",
    "icmpv6.nd.ra.router_lifetime",
    "icmpv6.nd.ra.reachable_time",
    "icmpv6.nd.ra.retrans_timer",
    "icmpv6.nd.rd.target_address",
    "icmpv6.opt.type",
    "icmpv6.opt.linkaddr",
    "icmpv6.opt.prefix.length",
    "icmpv6.opt.prefix.flag.l",
    "icmpv6.opt.prefix.flag.a",
    "icmpv6.opt.prefix.valid_lifetime",
    "icmpv6.opt.prefix.preferred_lifetime",
    "icmpv6.opt.prefix",
    "icmpv6.opt.mtu",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "udp.checksum",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.checksum",
];

/// Our values of `key` in frame order, outside quoted packets (tshark dissects quotes with the
/// same keys; ours are kept apart under `icmpv6.quote`).
fn ours_outside_quotes(frame: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in frame["layers"].as_array().unwrap() {
        let mut nodes = Vec::new();
        walk(l, &mut nodes);
        for n in nodes {
            let k = n["key"].as_str().unwrap().to_string();
            out.entry(k)
                .or_default()
                .push(norm(n["value"].as_str().unwrap()));
        }
    }
    out
}

/// `decode --json` agrees with tshark field by field for every IPv6 frame (built and kernel),
/// outside quotes; checksum verdicts agree; quotes are dissected behind their extension headers.
#[test]
fn decode_agrees_with_tshark_field_by_field() {
    for file in [built_file(), kernel_capture()] {
        let o = pktforge(&["decode", "--json", "-r", file.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let ours: Vec<Value> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["type"] == "frame")
            .collect();
        let mut args = vec![
            "-o".to_string(),
            "udp.check_checksum:TRUE".into(),
            "-o".into(),
            "tcp.check_checksum:TRUE".into(),
            "-o".into(),
            "ipv6.defragment:FALSE".into(),
            "-r".into(),
            file.to_str().unwrap().into(),
            "-T".into(),
            "fields".into(),
            "-E".into(),
            "separator=|".into(),
            "-E".into(),
            "occurrence=a".into(),
            "-E".into(),
            "aggregator=,".into(),
        ];
        for k in KEYS {
            args.push("-e".into());
            args.push((*k).into());
        }
        for k in [
            "icmpv6.checksum.status",
            "udp.checksum.status",
            "tcp.checksum.status",
        ] {
            args.push("-e".into());
            args.push(k.into());
        }
        let t = Command::new("tshark").args(&args).output().expect("tshark");
        let text = String::from_utf8(t.stdout).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
        assert_eq!(
            rows.len(),
            ours.len(),
            "{}",
            String::from_utf8_lossy(&t.stderr)
        );
        let mut compared = 0;
        let mut bad = Vec::new();
        for (i, (row, frame)) in rows.iter().zip(&ours).enumerate() {
            let mine = ours_outside_quotes(frame);
            for (k, key) in KEYS.iter().enumerate() {
                // Every occurrence, quoted packets included, in tree order.
                let theirs: Vec<String> = row[k]
                    .split(',')
                    .filter(|x| !x.is_empty())
                    .map(norm)
                    .collect();
                let mine = mine.get(*key).cloned().unwrap_or_default();
                if mine != theirs {
                    bad.push(format!(
                        "frame {}: {key}: ours {mine:?}, tshark {theirs:?}",
                        i + 1
                    ));
                }
                compared += theirs.len();
            }
            // Checksum verdicts: 1 good, 0 bad (2: unverified).
            for (j, key) in ["icmpv6.checksum", "udp.checksum", "tcp.checksum"]
                .iter()
                .enumerate()
            {
                let st = row[KEYS.len() + j].split(',').next().unwrap_or("");
                let node = frame["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|l| {
                        let mut v = Vec::new();
                        walk(l, &mut v);
                        v.into_iter().cloned().collect::<Vec<_>>()
                    })
                    .find(|n| n["key"] == *key);
                let verdict = node
                    .as_ref()
                    .and_then(|n| n.get("status"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                // Ours gives no verdict inside a quote (tshark verifies a whole quoted UDP).
                let ok = match st {
                    _ if verdict.is_empty() => true,
                    "1" => verdict == "good",
                    "0" => verdict.starts_with("bad"),
                    _ => true,
                };
                if !ok {
                    bad.push(format!(
                        "frame {}: {key} verdict ours {verdict}, tshark {st}",
                        i + 1
                    ));
                }
            }
        }
        assert!(bad.is_empty(), "{}: {bad:#?}", file.display());
        assert!(compared > 150, "{compared} fields compared");
        let _ = std::fs::remove_file(&file);
    }
}

/// The tree shows what tshark -V shows beyond single fields: option action bits explained, the
/// SRH's active segment, the Parameter Problem pointer explained, the quote's upper layer found
/// behind its Hop-by-Hop header, the checksum over the routing header's final destination.
#[test]
fn decode_explains_ipv6() {
    let file = built_file();
    let o = pktforge(&["decode", "-r", file.to_str().unwrap()]);
    let text = String::from_utf8(o.stdout).unwrap();
    for want in [
        "Action: 2 (discard the packet and send an ICMPv6 Parameter Problem, code 2)",
        "Action: 0 (skip over this option and continue processing the header)",
        "(active segment)",
        "Pointer: 42 (",
        "Quoted ICMPv6 header: Echo (ping) request",
        "(pseudo-header destination 2001:db8:3::2) [good]",
        "(atomic fragment",
        "Prefix: 2001:db8:1::",
        "Checksum: 0x1234 [BAD, should be 0x",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.contains("malformed"), "{text}");
    let _ = std::fs::remove_file(&file);
}

/// The records of `decode --json` and `capture --json -r` for IPv6 frames (addresses of the
/// other family, extension headers, NDP, quotes) validate against the one event schema.
#[test]
fn ipv6_records_validate_against_the_schema() {
    let schema: Value = serde_json::from_str(pktforge::event::JSON_SCHEMA).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let file = built_file();
    for args in [
        vec!["decode", "--json", "-r", file.to_str().unwrap()],
        vec!["capture", "--json", "-r", file.to_str().unwrap()],
    ] {
        let o = pktforge(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        let mut frames = 0;
        for line in text.lines() {
            let rec: Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = v.iter_errors(&rec).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{args:?}: {line}\n{}", errors.join("\n"));
            if rec["type"] == "frame" {
                frames += 1;
                assert!(rec.to_string().contains("IP6 "), "{line}");
            }
        }
        assert_eq!(frames, built_frames().len(), "{args:?}");
    }
    let _ = std::fs::remove_file(&file);
}
