//! `craft --udp` / `craft --tcp`: the bytes equal those of an independent builder (python3's
//! `struct`, written here from RFC 768/9293, not from pktforge's code) for the same fields, with
//! and without IP options, and tshark reports every checksum good. Bad transport flags exit 2.
//! No network needed.

mod common;

use std::process::Command;
use std::time::SystemTime;

use pktforge::link::capfile::PcapWriter;

/// The independent builder: Ethernet (zero MACs) + IPv4 (optional raw option bytes) + UDP or
/// TCP, checksums computed by python's own code.
const PY: &str = r#"
import struct, sys, json
a = json.loads(sys.argv[1])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
src = bytes(map(int, a['src'].split('.'))); dst = bytes(map(int, a['dst'].split('.')))
final = bytes(map(int, a.get('final', a['dst']).split('.')))
data = bytes.fromhex(a['data'])
if a['proto'] == 17:
    l4 = struct.pack('!HHHH', a['sport'], a['dport'], 8 + len(data), 0) + data
    c = csum(src + final + struct.pack('!BBH', 0, 17, len(l4)) + l4) or 0xffff
    l4 = l4[:6] + struct.pack('!H', c) + l4[8:]
else:
    opts = bytes.fromhex(a['tcpopts'])
    opts += b'\0' * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    l4 = struct.pack('!HHIIBBHHH', a['sport'], a['dport'], a['seq'], a['ack'],
                     off << 4, a['flags'], a['win'], 0, a['urg']) + opts + data
    c = csum(src + final + struct.pack('!BBH', 0, 6, len(l4)) + l4)
    l4 = l4[:16] + struct.pack('!H', c) + l4[18:]
ipopts = bytes.fromhex(a['ipopts']); ipopts += b'\0' * (-len(ipopts) % 4)
ihl = (20 + len(ipopts)) // 4
ip = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(l4), a['id'], 0, a['ttl'],
                 a['proto'], 0, src, dst) + ipopts
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
print((b'\0' * 12 + b'\x08\x00' + ip + l4).hex())
"#;

fn python(spec: &str) -> Vec<u8> {
    let out = Command::new("python3")
        .args(["-c", PY, spec])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = String::from_utf8(out.stdout).unwrap();
    let h = h.trim();
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// (craft flags, python spec): the same fields twice.
fn cases() -> Vec<(Vec<&'static str>, String)> {
    vec![
        (
            vec!["--udp", "--sport", "40000", "--dport", "9999", "--data", "706b74666f726765", "--id", "7", "203.0.113.2"],
            r#"{"proto":17,"src":"192.0.2.1","dst":"203.0.113.2","sport":40000,"dport":9999,"data":"706b74666f726765","ipopts":"","id":7,"ttl":64}"#.into(),
        ),
        (
            // Odd data length: the checksum pads with a zero byte.
            vec!["--udp", "--sport", "1", "--dport", "65535", "--size", "3", "--pattern", "ab", "--ttl", "3", "203.0.113.2"],
            r#"{"proto":17,"src":"192.0.2.1","dst":"203.0.113.2","sport":1,"dport":65535,"data":"ababab","ipopts":"","id":0,"ttl":3}"#.into(),
        ),
        (
            vec![
                "--tcp", "--sport", "59570", "--dport", "8000", "--flags", "S", "--seq", "3381058067",
                "--win", "64240", "--tcp-option", "mss=1460", "--tcp-option", "sackok",
                "--tcp-option", "ts=782973511:0", "--tcp-option", "nop", "--tcp-option", "wscale=10",
                "203.0.113.2",
            ],
            r#"{"proto":6,"src":"192.0.2.1","dst":"203.0.113.2","sport":59570,"dport":8000,"seq":3381058067,"ack":0,"flags":2,"win":64240,"urg":0,"tcpopts":"020405b40402080a2eab3a47000000000103030a","data":"","ipopts":"","id":0,"ttl":64}"#.into(),
        ),
        (
            // Record route (a 40-byte IP option) + every flag letter + data + SACK.
            vec![
                "-R", "--tcp", "--sport", "1234", "--dport", "80", "--flags", "SFRPAUEC", "--seq", "1",
                "--ack", "0xdeadbeef", "--win", "1", "--urg", "5", "--tcp-option", "sack=1:2,3:4",
                "--data", "00ff", "203.0.113.2",
            ],
            format!(
                r#"{{"proto":6,"src":"192.0.2.1","dst":"203.0.113.2","sport":1234,"dport":80,"seq":1,"ack":3735928559,"flags":255,"win":1,"urg":5,"tcpopts":"051200000001000000020000000300000004","data":"00ff","ipopts":"0727040{}","id":0,"ttl":64}}"#,
                "0".repeat(73)
            ),
        ),
        (
            // Loose source route: the IP destination is the first hop, the transport checksum
            // is over the final destination.
            vec!["--lsrr", "198.51.100.2", "--udp", "--dport", "7", "--sport", "7", "203.0.113.2"],
            r#"{"proto":17,"src":"192.0.2.1","dst":"198.51.100.2","final":"203.0.113.2","sport":7,"dport":7,"data":"","ipopts":"830704cb007102","id":0,"ttl":64}"#.into(),
        ),
    ]
}

#[test]
fn craft_bytes_equal_an_independent_builder_and_tshark_says_checksums_good() {
    let dir = std::env::temp_dir().join(format!("pktforge-l4craft-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("l4.pcap");
    let mut w = PcapWriter::create(&pcap).unwrap();
    let cases = cases();
    for (args, spec) in &cases {
        let ours = common::craft_hex(args);
        let theirs = python(spec);
        assert_eq!(
            ours.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            theirs
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            "craft {args:?}"
        );
        w.write(SystemTime::now(), &ours).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let out = Command::new("tshark")
        .args([
            "-o",
            "ip.check_checksum:TRUE",
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
            "-e",
            "ip.checksum.status",
            "-e",
            "udp.checksum.status",
            "-e",
            "tcp.checksum.status",
            "-e",
            "tcp.srcport",
            "-e",
            "udp.srcport",
        ])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), cases.len(), "{text}");
    for (l, (args, _)) in lines.iter().zip(&cases) {
        let f: Vec<&str> = l.split('|').collect();
        assert_eq!(f[0], "1", "IP checksum for {args:?}: {l}");
        let l4 = if args.contains(&"--udp") { f[1] } else { f[2] };
        assert_eq!(l4, "1", "transport checksum for {args:?}: {l}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn wrong_checksums_and_lengths_are_kept() {
    let f = common::craft_hex(&[
        "--udp",
        "--l4-checksum",
        "0",
        "--udp-len",
        "99",
        "203.0.113.2",
    ]);
    assert_eq!(&f[34 + 4..34 + 8], &[0, 99, 0, 0]);
    let f = common::craft_hex(&[
        "--tcp",
        "--l4-checksum",
        "0xbeef",
        "--data-offset",
        "15",
        "203.0.113.2",
    ]);
    assert_eq!(&f[34 + 16..34 + 18], &[0xbe, 0xef]);
    assert_eq!(f[34 + 12] >> 4, 15);
}

#[test]
fn bad_transport_input_exits_2_naming_the_limit() {
    for (args, needle) in [
        // Port 0 is reserved but fits the field: built with a warning (tests/craft.rs).
        (
            vec!["--tcp", "--sport", "65536", "203.0.113.2"],
            "0..=65535",
        ),
        (vec!["--tcp", "--flags", "SX", "203.0.113.2"], "'X'"),
        (vec!["--udp", "--tcp", "203.0.113.2"], "cannot be used with"),
        (
            vec![
                "--tcp",
                "--tcp-option",
                "sack=1:2,3:4,5:6,7:8",
                "--tcp-option",
                "mss=1460",
                "--tcp-option",
                "wscale=2",
                "203.0.113.2",
            ],
            "at most 40",
        ),
        (vec!["--flags", "S", "203.0.113.2"], "needs --tcp"),
        (vec!["--sport", "5", "203.0.113.2"], "needs --udp or --tcp"),
    ] {
        let mut all = vec!["craft", "--hex"];
        all.extend_from_slice(&args);
        let out = common::pktforge_here(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed a frame");
    }
}
