//! `craft -6`: the bytes equal scapy's (an independent builder) for every header, option and
//! ICMPv6 kind the flags build; tshark decodes them with every checksum good (and the one
//! asked to be wrong bad) and the fields as meant; bad input is refused naming the limit; and
//! `send -6` gets the kernel's answers on a veth pair in throw-away namespaces.
//!
//! The reference hex was made with scapy 2.5.0 (`E = Ether(src="02:00:00:00:00:01",
//! dst="02:00:00:00:00:02")`, `S = "2001:db8::1"`, `D = "2001:db8::2"`, `R1 = "2001:db8:1::1"`,
//! `R2 = "2001:db8:2::1"`, `B = "2001:db8:3::2"`, `d8 = bytes(range(8, 16))`), each expression
//! beside its case. scapy 2.5.0 writes the SRH HMAC TLV's length wrong (in bits + 48, two
//! bytes), so that TLV is given to it as a generic TLV of type 5.

mod common;

use std::process::Command;
use std::time::SystemTime;

use common::pktforge_here;
use pktforge::link::capfile::PcapWriter;

/// Addresses every case shares.
const ADDRS: &[&str] = &[
    "--src-mac",
    "02:00:00:00:00:01",
    "--dst-mac",
    "02:00:00:00:00:02",
    "--src",
    "2001:db8::1",
];

#[rustfmt::skip]
const CASES: &[(&str, &[&str], &str)] = &[
    // scapy: E/IPv6(src=S,dst=D,tc=0xb8,fl=0x12345,hlim=7)/ICMPv6EchoRequest(id=9,seq=3,data=d8)
    (
        "echo",
        &["--hop-limit", "7", "--tclass", "0xb8", "--flow-label", "0x12345", "--icmp-id", "9", "--icmp-seq", "3", "--size", "8", "2001:db8::2"],
        "02000000000202000000000186dd6b81234500103a0720010db800000000000000000000000120010db80000000000000000000000028000f8030009000308090a0b0c0d0e0f",
    ),
    // scapy: E/IPv6(src=S,dst=D)/ICMPv6EchoReply(id=1,seq=2,cksum=0xbeef)
    (
        "reply_cksum",
        &["--icmp6-type", "129", "--icmp-id", "1", "--icmp-seq", "2", "--icmp6-checksum", "0xbeef", "--size", "0", "2001:db8::2"],
        "02000000000202000000000186dd6000000000083a4020010db800000000000000000000000120010db80000000000000000000000028100beef00010002",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])/ICMPv6EchoRequest()
    (
        "hbh_ra",
        &["--hbh", "ra=0", "--size", "0", "2001:db8::2"],
        "02000000000202000000000186dd600000000010004020010db800000000000000000000000120010db80000000000000000000000023a000502000001008000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrHopByHop(options=[Pad1(),PadN(optdata=b'\0\0\0'),HBHOptUnknown(otype=0x1e,optdata=b'\0\0'),HBHOptUnknown(otype=0x80,optdata=b'')])/ICMPv6EchoRequest()
    (
        "hbh_pads_raw",
        &["--hbh", "pad1,padn=3,0x1e:0000,0x80:", "--size", "0", "2001:db8::2"],
        "02000000000202000000000186dd600000000018004020010db800000000000000000000000120010db80000000000000000000000023a010001030000001e020000800001008000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=2),Jumbo(jumboplen=70000)])/ICMPv6EchoRequest()
    (
        "hbh_ra_jumbo",
        &["--hbh", "ra=2,jumbo=70000", "--size", "0", "2001:db8::2"],
        "02000000000202000000000186dd600000000018004020010db800000000000000000000000120010db80000000000000000000000023a0105020002c20400011170010200008000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x31,optdata=bytes.fromhex('0000000b080080000000'))])/ICMPv6EchoRequest()
    (
        "hbh_ioam",
        &["--hbh", "ioam=0000000b080080000000", "--size", "0", "2001:db8::2"],
        "02000000000202000000000186dd600000000018004020010db800000000000000000000000120010db80000000000000000000000023a01310a0000000b08008000000001008000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=4,optdata=b'\x04')])/ICMPv6EchoRequest()
    (
        "dest_tel",
        &["--dest-opt", "tel=4", "--size", "0", "2001:db8::2"],
        "02000000000202000000000186dd6000000000103c4020010db800000000000000000000000120010db80000000000000000000000023a000401040101008000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrFragment(offset=0,m=0,id=7)/ICMPv6EchoRequest()
    (
        "frag_atomic",
        &["--frag", "0:0:7", "--size", "0", "2001:db8::2"],
        "02000000000202000000000186dd6000000000102c4020010db800000000000000000000000120010db80000000000000000000000023a000000000000078000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrFragment(offset=5,m=1,id=0x1234)/UDP(sport=49152,dport=33434)
    (
        "frag_mid",
        &["--frag", "5:1:0x1234", "--udp", "2001:db8::2"],
        "02000000000202000000000186dd6000000000102c4020010db800000000000000000000000120010db80000000000000000000000021100002900001234c000829a000861ce",
    ),
    // scapy: E/IPv6(src=S,dst=R1)/IPv6ExtHdrRouting(type=0,segleft=2,addresses=[R2,B])/ICMPv6EchoRequest()
    (
        "rh0",
        &["--rh0", "2001:db8:1::1,2001:db8:2::1", "--size", "0", "2001:db8:3::2"],
        "02000000000202000000000186dd6000000000302b4020010db800000000000000000000000120010db80001000000000000000000013a0400020000000020010db800020000000000000000000120010db80003000000000000000000028000244500000000",
    ),
    // scapy: E/IPv6(src=S,dst=R1)/IPv6ExtHdrSegmentRouting(addresses=[B,R2,R1],segleft=2,lastentry=2,tag=0x77)/ICMPv6EchoRequest()
    (
        "srh",
        &["--srh", "2001:db8:1::1,2001:db8:2::1", "--srh-tag", "0x77", "--size", "0", "2001:db8:3::2"],
        "02000000000202000000000186dd6000000000402b4020010db800000000000000000000000120010db80001000000000000000000013a0604020200007720010db800030000000000000000000220010db800020000000000000000000120010db80001000000000000000000018000244500000000",
    ),
    // scapy: E/IPv6(src=S,dst=R1)/IPv6ExtHdrSegmentRouting(addresses=[B,R1],segleft=1,lastentry=1,tlv_objects=[IPv6ExtHdrSegmentRoutingTLV(type=5,len=38,value=b'\0\0'+(5).to_bytes(4,'big')+b'\x11'*32)])/ICMPv6EchoRequest()
    (
        "srh_hmac",
        &["--srh", "2001:db8:1::1", "--srh-hmac", "5:1111111111111111111111111111111111111111111111111111111111111111", "--size", "0", "2001:db8:3::2"],
        "02000000000202000000000186dd6000000000582b4020010db800000000000000000000000120010db80001000000000000000000013a0904010100000020010db800030000000000000000000220010db8000100000000000000000001052600000000000511111111111111111111111111111111111111111111111111111111111111118000244500000000",
    ),
    // scapy: E/IPv6(src=S,dst=R1)/IPv6ExtHdrSegmentRouting(addresses=[B,R1],segleft=5,lastentry=1)/ICMPv6EchoRequest()
    (
        "srh_segleft",
        &["--srh", "2001:db8:1::1", "--srh-segleft", "5", "--size", "0", "2001:db8:3::2"],
        "02000000000202000000000186dd6000000000302b4020010db800000000000000000000000120010db80001000000000000000000013a0404050100000020010db800030000000000000000000220010db80001000000000000000000018000244500000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e,optdata=b'ab')])/IPv6ExtHdrFragment(offset=0,m=0,id=1)/UDP(sport=1000,dport=33434)/Raw(b'\x00')
    (
        "chain_udp",
        &["--hbh", "ra=0", "--dest-opt", "0x1e:6162", "--frag", "0:0:1", "--udp", "--sport", "1000", "--dport", "33434", "--data", "00", "2001:db8::2"],
        "02000000000202000000000186dd600000000021004020010db800000000000000000000000120010db80000000000000000000000023c000502000001002c001e0261620100110000000000000103e8829a00091de500",
    ),
    // scapy: E/IPv6(src=S,dst=D,hlim=9)/TCP(sport=49152,dport=80,flags="S",window=64240)
    (
        "tcp",
        &["-t", "9", "--tcp", "2001:db8::2"],
        "02000000000202000000000186dd600000000014060920010db800000000000000000000000120010db8000000000000000000000002c000005000000000000000005002faf0992c0000",
    ),
    // scapy: E/IPv6(src=S,dst="ff02::1:ff00:2",hlim=255)/ICMPv6ND_NS(tgt=D)/ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")
    (
        "ns",
        &["--icmp6-type", "135", "--target", "2001:db8::2", "--sll", "02:00:00:00:00:01", "--hop-limit", "255", "ff02::1:ff00:2"],
        "02000000000202000000000186dd6000000000203aff20010db8000000000000000000000001ff0200000000000000000001ff00000287001c270000000020010db80000000000000000000000020101020000000001",
    ),
    // scapy: E/IPv6(src=S,dst=D,hlim=255)/ICMPv6ND_NA(tgt=S,R=0,S=1,O=1)/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:01")
    (
        "na",
        &["--icmp6-type", "136", "--target", "2001:db8::1", "--na-flags", "SO", "--tll", "02:00:00:00:00:01", "--hop-limit", "255", "2001:db8::2"],
        "02000000000202000000000186dd6000000000203aff20010db800000000000000000000000120010db800000000000000000000000288008a736000000020010db80000000000000000000000010201020000000001",
    ),
    // scapy: E/IPv6(src=S,dst="ff02::2",hlim=255)/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")
    (
        "rs",
        &["--icmp6-type", "133", "--sll", "02:00:00:00:00:01", "--hop-limit", "255", "ff02::2"],
        "02000000000202000000000186dd6000000000103aff20010db8000000000000000000000001ff02000000000000000000000000000285004af4000000000101020000000001",
    ),
    // scapy: E/IPv6(src=S,dst="ff02::1",hlim=255)/ICMPv6ND_RA(chlim=64,routerlifetime=1800,prf=0)/ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")
    (
        "ra",
        &["--icmp6-type", "134", "--sll", "02:00:00:00:00:01", "--hop-limit", "255", "ff02::1"],
        "02000000000202000000000186dd6000000000183aff20010db8000000000000000000000001ff020000000000000000000000000001860002e54000070800000000000000000101020000000001",
    ),
    // scapy: E/IPv6(src=S,dst=D)/ICMPv6PacketTooBig(mtu=1400)/IPv6(src=D,dst=S,hlim=1)/ICMPv6EchoRequest(id=4,seq=5)
    (
        "ptb",
        &["--icmp6-type", "2", "--mtu", "1400", "--icmp-id", "4", "--icmp-seq", "5", "2001:db8::2"],
        "02000000000202000000000186dd6000000000383a4020010db800000000000000000000000120010db8000000000000000000000002020002d9000005786000000000083a0120010db800000000000000000000000220010db80000000000000000000000018000243f00040005",
    ),
    // scapy: E/IPv6(src=S,dst=D)/ICMPv6ParamProblem(code=2,ptr=42)/IPv6(src=D,dst=S,hlim=1)/ICMPv6EchoRequest()
    (
        "param",
        &["--icmp6-type", "4", "--icmp6-code", "2", "--pointer", "42", "2001:db8::2"],
        "02000000000202000000000186dd6000000000383a4020010db800000000000000000000000120010db8000000000000000000000002040206250000002a6000000000083a0120010db800000000000000000000000220010db80000000000000000000000018000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/ICMPv6DestUnreach(code=4)/IPv6(src=D,dst=S,hlim=1)/ICMPv6EchoRequest()
    (
        "unreach",
        &["--icmp6-type", "1", "--icmp6-code", "4", "2001:db8::2"],
        "02000000000202000000000186dd6000000000383a4020010db800000000000000000000000120010db80000000000000000000000020104094d000000006000000000083a0120010db800000000000000000000000220010db80000000000000000000000018000244800000000",
    ),
    // scapy: E/IPv6(src=S,dst=D)/ICMPv6TimeExceeded(code=0)/IPv6(src=D,dst=S,hlim=1)/ICMPv6EchoRequest()
    (
        "timex",
        &["--icmp6-type", "3", "2001:db8::2"],
        "02000000000202000000000186dd6000000000383a4020010db800000000000000000000000120010db800000000000000000000000203000751000000006000000000083a0120010db800000000000000000000000220010db80000000000000000000000018000244800000000",
    ),
];

fn craft6(args: &[&str]) -> Vec<u8> {
    let mut all = vec!["-6"];
    all.extend_from_slice(ADDRS);
    all.extend_from_slice(args);
    common::craft_hex(&all)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn craft6_bytes_equal_scapys_for_every_header_and_option_kind() {
    let mut differ = Vec::new();
    for (name, args, scapy) in CASES {
        let ours = hex(&craft6(args));
        if ours != *scapy {
            differ.push(format!("{name}:\n  ours  {ours}\n  scapy {scapy}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// Extension headers are built in the order the flags are given, whatever the order.
#[test]
fn extension_headers_follow_the_command_line_order() {
    let a = craft6(&[
        "--frag",
        "0:0:1",
        "--hbh",
        "ra=0",
        "--size",
        "0",
        "2001:db8::2",
    ]);
    let b = craft6(&[
        "--hbh",
        "ra=0",
        "--frag",
        "0:0:1",
        "--size",
        "0",
        "2001:db8::2",
    ]);
    // Fixed header's next header: Fragment (44) first, Hop-by-Hop (0) first.
    assert_eq!(a[14 + 6], 44);
    assert_eq!(
        a[14 + 40],
        0,
        "the Fragment header is followed by Hop-by-Hop"
    );
    assert_eq!(b[14 + 6], 0);
    assert_eq!(b[14 + 40], 44);
    // And a raw header with the overrides: next header and payload length as given.
    let c = craft6(&[
        "--ext-hdr",
        "253:00000102030405ff",
        "--next-header",
        "59",
        "--payload-len",
        "1000",
        "--size",
        "0",
        "2001:db8::2",
    ]);
    assert_eq!(c[14 + 6], 59);
    assert_eq!(&c[14 + 4..14 + 6], &1000u16.to_be_bytes());
    assert_eq!(
        &c[14 + 40..14 + 48],
        &[58, 0, 1, 2, 3, 4, 5, 0xff],
        "first byte is the next header (ICMPv6), the rest as given"
    );
}

/// tshark: every checksum good but the one asked wrong, and the fields as the flags meant.
#[test]
fn tshark_finds_every_checksum_good_and_the_fields_as_meant() {
    let dir = std::env::temp_dir().join(format!("pfC6-craft6-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("craft6.pcap");
    let mut w = PcapWriter::create(&pcap).unwrap();
    for (_, args, _) in CASES {
        w.write(SystemTime::now(), &craft6(args)).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let fields = [
        "icmpv6.checksum.status",
        "udp.checksum.status",
        "tcp.checksum.status",
        "ipv6.hlim",
        "ipv6.tclass",
        "ipv6.flow",
        "ipv6.opt.type",
        "ipv6.routing.type",
        "ipv6.routing.segleft",
        "ipv6.fraghdr.offset",
        "ipv6.fraghdr.more",
        "ipv6.fraghdr.ident",
        "icmpv6.type",
        "icmpv6.code",
        "icmpv6.pointer",
        "icmpv6.mtu",
        "icmpv6.nd.ns.target_address",
        "ipv6.routing.srh.tag",
        "_ws.malformed",
    ];
    let mut args = vec![
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-r",
        pcap.to_str().unwrap(),
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ];
    for f in &fields {
        args.extend(["-e", f]);
    }
    let out = Command::new("tshark").args(&args).output().expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), CASES.len());
    let col = |f: &str| fields.iter().position(|x| *x == f).unwrap();
    for ((name, _, _), row) in CASES.iter().zip(&rows) {
        // The outer checksum (the first value): good, except where a wrong one was asked for.
        let sums: Vec<&str> = [
            "icmpv6.checksum.status",
            "udp.checksum.status",
            "tcp.checksum.status",
        ]
        .iter()
        .filter_map(|f| row[col(f)].split(',').next().filter(|s| !s.is_empty()))
        .collect();
        let want = if *name == "reply_cksum" { "0" } else { "1" };
        if *name != "frag_mid" {
            assert_eq!(sums, vec![want], "{name}: checksum verdicts {row:?}");
        }
        assert_eq!(
            row[col("_ws.malformed")],
            "",
            "{name}: malformed for tshark: {row:?}"
        );
    }
    let get = |name: &str, f: &str| -> String {
        let i = CASES.iter().position(|(n, _, _)| *n == name).unwrap();
        rows[i][col(f)].to_string()
    };
    assert_eq!(get("echo", "ipv6.hlim"), "7");
    assert_eq!(get("echo", "ipv6.tclass"), "0x000000b8");
    assert_eq!(get("echo", "ipv6.flow"), "0x012345");
    assert_eq!(get("hbh_ra", "ipv6.opt.type"), "0x05,0x01");
    assert_eq!(
        get("hbh_pads_raw", "ipv6.opt.type"),
        "0x00,0x01,0x1e,0x80,0x01"
    );
    assert_eq!(get("dest_tel", "ipv6.opt.type"), "0x04,0x01");
    assert_eq!(get("hbh_ra_jumbo", "ipv6.opt.type"), "0x05,0xc2,0x01");
    assert_eq!(get("hbh_ioam", "ipv6.opt.type"), "0x31,0x01");
    assert_eq!(get("rh0", "ipv6.routing.type"), "0");
    assert_eq!(get("rh0", "ipv6.routing.segleft"), "2");
    assert_eq!(get("srh", "ipv6.routing.type"), "4");
    assert_eq!(get("srh", "ipv6.routing.segleft"), "2");
    assert_eq!(get("srh", "ipv6.routing.srh.tag"), "0077");
    assert_eq!(get("srh_segleft", "ipv6.routing.segleft"), "5");
    assert_eq!(get("frag_atomic", "ipv6.fraghdr.offset"), "0");
    assert_eq!(get("frag_atomic", "ipv6.fraghdr.ident"), "0x00000007");
    assert_eq!(get("frag_mid", "ipv6.fraghdr.offset"), "5");
    assert_eq!(get("frag_mid", "ipv6.fraghdr.more"), "1");
    assert_eq!(get("param", "icmpv6.pointer"), "42");
    assert_eq!(get("param", "icmpv6.code"), "2,0");
    assert_eq!(get("ptb", "icmpv6.mtu"), "1400");
    assert_eq!(get("ns", "icmpv6.nd.ns.target_address"), "2001:db8::2");
    for (name, t) in [
        ("na", "136"),
        ("rs", "133"),
        ("ra", "134"),
        ("timex", "3,128"),
    ] {
        assert_eq!(get(name, "icmpv6.type"), t, "{name}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Exit 2 with `needle` in the error and nothing on stdout.
fn refused(args: &[&str], needle: &str) {
    let out = pktforge_here(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit 2 for {args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?} should say {needle:?}: {err}"
    );
    assert!(out.stdout.is_empty(), "nothing built for {args:?}");
}

#[test]
fn bad_ipv6_input_is_refused_naming_the_limit() {
    let d = "2001:db8::2";
    refused(&["craft", "2001:db8::zz"], "not an IPv6 address");
    refused(&["craft", "-6", "192.0.2.1"], "not an IPv6 address");
    refused(
        &["craft", "-6", "--srh", "2001:db8::1,fe80::1%eth0", d],
        "not an IPv6 address",
    );
    refused(
        &["craft", "-6", "--flow-label", "0x100000", d],
        "20-bit field (at most 0xfffff)",
    );
    let long = format!("0x1e:{}", "00".repeat(256));
    refused(&["craft", "-6", "--hbh", &long, d], "at most 255");
    refused(&["craft", "-6", "--dest-opt", "padn=256", d], "at most 255");
    // Eight options of 255 bytes: over the 2048 bytes an 8-bit length in 8-byte units says.
    let big = vec![format!("0x1e:{}", "00".repeat(255)); 8].join(",");
    refused(&["craft", "-6", "--hbh", &big, d], "exceeds 2048");
    let segs: Vec<String> = (1..=127).map(|i| format!("2001:db8:1::{i:x}")).collect();
    refused(&["craft", "-6", "--srh", &segs.join(","), d], "at most 127");
    refused(
        &[
            "craft",
            "-6",
            "--srh",
            "2001:db8:1::1",
            "--srh-hmac",
            "1:00112233",
            d,
        ],
        "8, 16, 24 or 32 bytes",
    );
    refused(&["craft", "-6", "--frag", "8192", d], "13-bit field");
    refused(&["craft", "-6", "--ihl", "6", d], "--ihl is an IPv4 field");
    refused(&["craft", "--hbh", "ra=0", "192.0.2.1"], "needs -6");
    refused(&["craft", "-6", "--hbh", "bogus", d], "expected pad1");
    // 126 segments plus the destination fit exactly.
    let ok = pktforge_here(&["craft", "-6", "--hex", "--srh", &segs[..126].join(","), d]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

/// Options whose action bits make a receiver discard, and routing type 0, are built with a
/// warning on stderr, as the IPv4 side warns for reserved values.
#[test]
fn discarding_options_and_routing_type_0_are_built_with_a_warning() {
    let out = pktforge_here(&[
        "craft",
        "-6",
        "--hex",
        "--hbh",
        "0x80:",
        "--rh0",
        "2001:db8:1::1",
        "2001:db8::2",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("option type 0x80 is unknown with action bits 10"),
        "{err}"
    );
    assert!(err.contains("Parameter Problem, code 2"), "{err}");
    assert!(err.contains("RFC 5095"), "{err}");
}

/// Two namespaces `pfC6-<pid>-<tag>a/b` joined by a veth pair, 2001:db8:6::1/64 ↔
/// 2001:db8:6::2/64 (nodad), MTU 1280; deleted on drop.
struct Pair {
    a: String,
    b: String,
    b_mac: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pair {
    fn new(tag: &str) -> Pair {
        let a = format!("pfC6-{}-{tag}a", std::process::id());
        let b = format!("pfC6-{}-{tag}b", std::process::id());
        ip(&["netns", "add", &a]);
        let p = Pair {
            a: a.clone(),
            b: b.clone(),
            b_mac: "02:00:00:00:06:02".into(),
        };
        ip(&["netns", "add", &b]);
        ip(&[
            "-n", &a, "link", "add", "v6a", "type", "veth", "peer", "name", "v6b", "netns", &b,
        ]);
        ip(&[
            "-n",
            &a,
            "link",
            "set",
            "v6a",
            "address",
            "02:00:00:00:06:01",
            "mtu",
            "1280",
        ]);
        ip(&[
            "-n", &b, "link", "set", "v6b", "address", &p.b_mac, "mtu", "1280",
        ]);
        for (ns, dev, addr) in [
            (&a, "v6a", "2001:db8:6::1/64"),
            (&b, "v6b", "2001:db8:6::2/64"),
        ] {
            let _ = Command::new("ip")
                .args(["netns", "exec", ns, "sysctl", "-qw"])
                .arg(format!("net.ipv6.conf.{dev}.disable_ipv6=0"))
                .output();
            ip(&["-n", ns, "addr", "add", addr, "dev", dev, "nodad"]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        // The answers go back without NDP: b knows a's MAC.
        ip(&[
            "-n",
            &b,
            "neigh",
            "replace",
            "2001:db8:6::1",
            "lladdr",
            "02:00:00:00:06:01",
            "dev",
            "v6b",
            "nud",
            "permanent",
        ]);
        // No ICMPv6 rate limit; b processes Segment Routing Headers.
        for kv in [
            "net.ipv6.icmp.ratelimit=0",
            "net.ipv6.conf.all.seg6_enabled=1",
            "net.ipv6.conf.v6b.seg6_enabled=1",
        ] {
            let _ = Command::new("ip")
                .args(["netns", "exec", &b, "sysctl", "-qw", kv])
                .output();
        }
        p
    }

    /// pktforge in a.
    fn send(&self, args: &[&str]) -> std::process::Output {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.a, env!("CARGO_BIN_EXE_pktforge")])
            .args(args)
            .output()
            .expect("pktforge");
        eprintln!(
            "$ pktforge {}\nexit {:?}\n{}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.a]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.b]).output();
    }
}

/// The ICMPv6 messages received in a pcap written by `send --pcap`, as tshark reads them:
/// (type, code, pointer, echo id, echo seq, checksum verdict) for frames to 2001:db8:6::1;
/// id and seq are the first found (for an error: the quoted echo's).
fn answers(pcap: &std::path::Path) -> Vec<Vec<String>> {
    let out = Command::new("tshark")
        .args([
            "-r",
            pcap.to_str().unwrap(),
            "-Y",
            "ipv6.dst == 2001:db8:6::1 && icmpv6",
        ])
        .args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=f"])
        .args([
            "-e",
            "icmpv6.type",
            "-e",
            "icmpv6.code",
            "-e",
            "icmpv6.pointer",
        ])
        .args([
            "-e",
            "icmpv6.echo.identifier",
            "-e",
            "icmpv6.echo.sequence_number",
        ])
        .args(["-e", "icmpv6.checksum.status"])
        .output()
        .expect("tshark");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// `send -6` on a veth pair: the peer kernel answers the echo requests (sequence numbers
/// counting up), sends Parameter Problem code 2 pointer 42 for a Hop-by-Hop option of type
/// 0x80, skips type 0x1e and answers, refuses routing type 0 with code 0 pointer 42 and an SRH
/// whose Segments Left is beyond its list with code 0 pointer 43, reassembles our fragments
/// and answers; a frame whose extension headers exceed the MTU is refused before anything is
/// sent.
#[test]
fn send6_gets_the_kernels_answers_on_a_veth_pair() {
    if !common::can_run_lab() {
        return;
    }
    let p = Pair::new("s");
    let dir = std::env::temp_dir().join(format!("pfC6-send6-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = [
        "send",
        "-6",
        "-I",
        "v6a",
        "--dst-mac",
        "02:00:00:00:06:02",
        "--src",
        "2001:db8:6::1",
        "--wait",
        "1",
        "-q",
    ];
    let run = |name: &str, extra: &[&str]| -> Vec<Vec<String>> {
        let pcap = dir.join(format!("{name}.pcap"));
        let mut args: Vec<&str> = base.to_vec();
        let ps = pcap.to_str().unwrap().to_string();
        args.extend(["--pcap", &ps]);
        args.extend_from_slice(extra);
        args.push("2001:db8:6::2");
        let out = p.send(&args);
        assert_eq!(out.status.code(), Some(0), "{name}: something answered");
        answers(&pcap)
    };
    let row = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let echo = run(
        "echo",
        &[
            "--icmp-id",
            "7",
            "--icmp-seq",
            "1",
            "--flow-label",
            "0x12345",
            "-c",
            "2",
            "--interval",
            "0.1",
        ],
    );
    // Frame i carries --icmp-seq + i.
    assert!(
        echo.contains(&row(&["129", "0", "", "0x0007", "2", "1"])),
        "{echo:?}"
    );
    assert!(
        echo.contains(&row(&["129", "0", "", "0x0007", "1", "1"])),
        "{echo:?}"
    );
    let pp = run("opt80", &["--hbh", "0x80:", "--icmp-id", "8"]);
    assert!(
        pp.contains(&row(&["4", "2", "42", "0x0008", "0", "1"])),
        "{pp:?}"
    );
    let skip = run(
        "opt1e",
        &["--hbh", "0x1e:0000", "--icmp-id", "9", "--icmp-seq", "2"],
    );
    assert!(
        skip.contains(&row(&["129", "0", "", "0x0009", "2", "1"])),
        "{skip:?}"
    );
    let rh0 = run("rh0", &["--rh0", "2001:db8:6::2", "--size", "8"]);
    assert!(
        rh0.contains(&row(&["4", "0", "42", "0x0000", "0", "1"])),
        "{rh0:?}"
    );

    // An SRH whose Segments Left (5) is beyond its list: Parameter Problem code 0 pointing at
    // Segments Left (40 + 3 = 43), RFC 8754 §4.3.1.1. b is both the segment and DEST.
    let sl = run(
        "segleft",
        &[
            "--srh",
            "2001:db8:6::2",
            "--srh-segleft",
            "5",
            "--icmp-id",
            "11",
        ],
    );
    assert!(
        sl.contains(&row(&["4", "0", "43", "0x000b", "0", "1"])),
        "{sl:?}"
    );

    // 1400 data bytes over a 1280-byte MTU as fragments of 512 (behind the Hop-by-Hop header,
    // repeated in each): the kernel reassembles them and answers (its reply fragmented too;
    // tshark reassembles it, `icmp6` would only match unfragmented packets, so the wait shows
    // all IPv6).
    let frag = run(
        "frag",
        &[
            "--fragment",
            "512",
            "--size",
            "1400",
            "--hbh",
            "0x1e:0000",
            "--icmp-id",
            "10",
            "--icmp-seq",
            "3",
            "--filter",
            "ip6",
        ],
    );
    assert!(
        frag.contains(&row(&["129", "0", "", "0x000a", "3", "1"])),
        "{frag:?}"
    );

    // Extension headers over the 1280-byte MTU: refused, nothing sent.
    let big = vec![format!("0x1e:{}", "00".repeat(250)); 5].join(",");
    let pcap = dir.join("big.pcap");
    let ps = pcap.to_str().unwrap().to_string();
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--pcap", &ps, "--hbh", &big, "2001:db8:6::2"]);
    let out = p.send(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("over the MTU 1280 of v6a"), "{err}");
    assert!(err.contains("of them extension headers"), "{err}");
    assert!(!pcap.exists(), "nothing was sent or recorded");
    std::fs::remove_dir_all(&dir).ok();
}

/// NDP messages default to hop limit 255 (RFC 4861 §6.1: a receiver drops any other); the
/// rest to 64; `-t` sets either.
#[test]
fn ndp_defaults_to_hop_limit_255() {
    let ns = craft6(&["--icmp6-type", "135", "ff02::1:ff00:2"]);
    assert_eq!(ns[14 + 7], 255);
    let echo = craft6(&["2001:db8::2"]);
    assert_eq!(echo[14 + 7], 64);
    let low = craft6(&["--icmp6-type", "136", "-t", "1", "2001:db8::2"]);
    assert_eq!(low[14 + 7], 1);
}
