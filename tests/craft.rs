//! `craft` → pcap → `decode --json` gives back every field, and tshark (a dissector nobody here
//! wrote) agrees with the decode field by field. No network needed.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::SystemTime;

use pktforge::link::capfile::PcapWriter;
use serde_json::Value;

/// Every ICMP kind, every option kind, 60-byte headers, VLAN, wrong checksums on purpose.
const CORPUS: &[&[&str]] = &[
    &["-R", "--df", "--tos", "0xb8", "--id", "0x1234", "--ttl", "7", "--icmp-id", "6762", "--icmp-seq", "1", "203.0.113.2"],
    &["--icmp-type", "0", "--lsrr", "198.51.100.2,203.0.113.1", "--icmp-id", "9", "203.0.113.2"],
    &["--ssrr", "192.0.2.1,198.51.100.2", "--size", "8", "203.0.113.2"],
    &["--timestamp", "tsonly", "203.0.113.2"],
    &["--timestamp", "tsandaddr", "--evil", "203.0.113.2"],
    &["--timestamp", "tsprespec=192.0.2.1,198.51.100.2", "203.0.113.2"],
    &["--ip-option", "94040000", "--ip-option", "01", "-R", "203.0.113.2"],
    &["--icmp-type", "3", "--icmp-code", "4", "--mtu", "1400", "192.0.2.2"],
    &["--icmp-type", "3", "--icmp-code", "5", "--icmp-id", "77", "--icmp-seq", "3", "192.0.2.2"],
    &["--icmp-type", "4", "192.0.2.2"],
    &["--icmp-type", "5", "--icmp-code", "1", "--gateway", "192.0.2.9", "192.0.2.2"],
    &["--icmp-type", "11", "--quote", "4f00007ce09f4000010167cac0000202cb0071020107270cc000020200000000000000000000000000000000000000000000000000000000000000000800e9511a6a0001", "192.0.2.2"],
    &["--icmp-type", "12", "--pointer", "22", "192.0.2.2"],
    &["--icmp-type", "13", "--orig", "1", "--recv", "2", "--xmit", "3", "--icmp-id", "5", "198.51.100.1"],
    &["--icmp-type", "14", "--orig", "4000", "--recv", "5000", "--xmit", "6000", "198.51.100.1"],
    &["--icmp-type", "15", "--icmp-seq", "2", "198.51.100.1"],
    &["--icmp-type", "16", "198.51.100.1"],
    &["--icmp-type", "17", "--icmp-id", "3", "198.51.100.1"],
    &["--icmp-type", "18", "--mask", "255.255.255.0", "198.51.100.1"],
    &["--icmp-type", "10", "198.51.100.1"],
    &["--ip-checksum", "0xdead", "--icmp-checksum", "0xbeef", "--src", "198.51.100.7", "203.0.113.2"],
    &["--vlan", "100:5", "--src-mac", "02:00:00:00:00:01", "--dst-mac", "02:00:00:00:00:02", "--data", "c0ffee", "203.0.113.2"],
    // Reserved and out-of-spec values the fields can carry are built (with a warning).
    &["--vlan", "4095", "203.0.113.2"],
    &["--vlan", "0:3", "203.0.113.2"],
    &["--vlan", "4095:7:1@q", "--vlan", "0@q", "203.0.113.2"],
    // Named options whose fields Wireshark decodes.
    &["--ip-option", "88040001", "--ip-option", "0b0405dc", "--ip-option", "520c000100020003c0000201", "203.0.113.2"],
    &["--ip-option", "1908004000000000", "--ip-option", "820bd78800034142434445", "203.0.113.2"],
    &["--ip-option", "0c040240", "--ip-option", "94040000", "203.0.113.2"],
];

/// Keys compared with tshark's fields of the same name.
const KEYS: &[&str] = &[
    "eth.src",
    "eth.dst",
    "eth.type",
    "vlan.id",
    "vlan.priority",
    "ip.version",
    "ip.hdr_len",
    "ip.dsfield",
    "ip.len",
    "ip.id",
    "ip.flags.rb",
    "ip.flags.df",
    "ip.flags.mf",
    "ip.ttl",
    "ip.proto",
    "ip.checksum",
    "ip.src",
    "ip.dst",
    "ip.opt.type",
    "ip.opt.len",
    "ip.opt.ptr",
    "ip.rec_rt",
    "ip.empty_rt",
    "ip.opt.flag",
    "ip.opt.overflow",
    "ip.opt.time_stamp",
    "ip.opt.time_stamp_addr",
    "ip.opt.sid",
    "ip.opt.mtu",
    "ip.opt.id_number",
    "ip.opt.ohc",
    "ip.opt.rhc",
    "ip.opt.originator",
    "ip.opt.qs_ttl",
    "ip.opt.sec_rfc791_comp",
    "icmp.type",
    "icmp.code",
    "icmp.checksum",
    "icmp.ident",
    "icmp.seq",
    "icmp.mtu",
    "icmp.redir_gw",
    "icmp.pointer",
    "icmp.originate_timestamp",
    "icmp.receive_timestamp",
    "icmp.transmit_timestamp",
    "icmp.address_mask",
];

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

/// key → values in frame order, and key → checksum statuses, from one `decode --json` line.
fn decoded(frame: &Value) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>) {
    let mut nodes = Vec::new();
    for l in frame["layers"].as_array().unwrap() {
        walk(l, &mut nodes);
    }
    let (mut vals, mut st) = (BTreeMap::new(), BTreeMap::new());
    for n in nodes {
        let key = n["key"].as_str().unwrap().to_string();
        vals.entry(key.clone())
            .or_insert_with(Vec::new)
            .push(norm(n["value"].as_str().unwrap()));
        if let Some(s) = n.get("status").and_then(Value::as_str) {
            st.entry(key).or_insert_with(Vec::new).push(s.to_string());
        }
    }
    (vals, st)
}

fn tshark(pcap: &str, fields: &[&str]) -> Vec<Vec<Vec<String>>> {
    let mut args = vec![
        "-o",
        "ip.check_checksum:TRUE",
        "-r",
        pcap,
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ];
    for f in fields {
        args.push("-e");
        args.push(f);
    }
    let out = Command::new("tshark").args(&args).output().expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            l.split('|')
                .map(|f| {
                    if f.is_empty() {
                        vec![]
                    } else {
                        f.split(',').map(norm).collect()
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn craft_decode_and_tshark_agree_field_by_field() {
    let dir = std::env::temp_dir().join(format!("pktforge-craft-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("corpus.pcap");
    let frames: Vec<Vec<u8>> = CORPUS.iter().map(|a| common::craft_hex(a)).collect();
    {
        let mut w = PcapWriter::create(&pcap).unwrap();
        for f in &frames {
            w.write(SystemTime::now(), f).unwrap();
        }
    }
    // craft --pcap writes the same bytes as --hex.
    let one = dir.join("one.pcap");
    let mut args = vec!["craft", "--pcap", one.to_str().unwrap()];
    args.extend_from_slice(CORPUS[0]);
    assert!(common::pktforge_here(&args).status.success());
    let back = pktforge::link::capfile::CaptureFile::open(&one)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .data;
    assert_eq!(back, frames[0]);

    let out = common::pktforge_here(&["decode", "--json", "--pcap", pcap.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "frame")
        .collect();
    assert_eq!(ours.len(), CORPUS.len());

    let mut fields: Vec<&str> = KEYS.to_vec();
    fields.extend([
        "ip.cur_rt",
        "ip.checksum.status",
        "icmp.checksum.status",
        "ip.src_rt",
    ]);
    let theirs = tshark(pcap.to_str().unwrap(), &fields);
    assert_eq!(theirs.len(), CORPUS.len());

    let mut compared = 0;
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        let ctx = format!("frame {} ({:?})", i + 1, CORPUS[i]);
        assert_eq!(o["complete"], Value::Bool(true), "{ctx}");
        let (vals, st) = decoded(o);
        for (k, key) in KEYS.iter().enumerate() {
            let mine = vals.get(*key).cloned().unwrap_or_default();
            let mut tv = t[k].clone();
            // With a source route, tshark shows the final destination as ip.dst and the
            // address on the wire as ip.cur_rt.
            if *key == "ip.dst" && !t[fields.len() - 4].is_empty() {
                tv = t[fields.len() - 4].clone();
            }
            // tshark dissects the ICMP header quoted in an error only when it is a
            // whole message; compare what it shows (the outer header first).
            if key.starts_with("icmp.") && tv.len() < mine.len() {
                tv.extend(mine[tv.len()..].iter().cloned());
            }
            assert_eq!(mine, tv, "{ctx}: {key}");
            compared += mine.len();
        }
        // Checksum verdicts: tshark's status 1 = good, 0 = bad.
        for (key, tk) in [
            ("ip.checksum", fields.len() - 3),
            ("icmp.checksum", fields.len() - 2),
        ] {
            let mine: Vec<String> = st
                .get(key)
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|s| if s == "good" { "1".into() } else { "0".into() })
                .collect();
            // tshark leaves a quoted ICMP checksum unverified (2): compare the outer one.
            let n = if key == "icmp.checksum" {
                1
            } else {
                t[tk].len().min(mine.len())
            };
            assert!(n >= 1, "{ctx}: {key} status missing");
            assert_eq!(mine[..n], t[tk][..n], "{ctx}: {key} status");
        }
        // Source routes: tshark lists the hops still ahead except the final destination.
        let sr = vals.get("ip.src_rt").cloned().unwrap_or_default();
        let tsr = &t[fields.len() - 1];
        if !sr.is_empty() {
            assert_eq!(&sr[..sr.len() - 1], &tsr[..], "{ctx}: ip.src_rt");
        }
    }
    assert!(compared > 400, "only {compared} values compared");
    // The deliberately wrong checksums are bad, with the right value named.
    let (_, st) = decoded(&ours[20]);
    assert!(
        st["ip.checksum"][0].starts_with("bad (should be 0x"),
        "{:?}",
        st["ip.checksum"]
    );
    assert!(st["icmp.checksum"][0].starts_with("bad (should be 0x"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn decode_garbage_marks_the_rest_and_exits_1() {
    // An echo request cut inside its options: Ethernet and IPv4 fields decode, the rest is marked.
    let mut f = common::craft_hex(&["-R", "203.0.113.2"]);
    f.truncate(40);
    let h: String = f.iter().map(|b| format!("{b:02x}")).collect();
    let out = common::pktforge_here(&["decode", &h]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Destination: 00:00:00:00:00:00"), "{text}");
    assert!(
        text.contains("[MALFORMED: header of 60 bytes, only 26 present]"),
        "{text}"
    );
    assert!(text.contains("Undecoded: 6 bytes"), "{text}");
    for bad in ["zz", "abc", ""] {
        let out = common::pktforge_here(&["decode", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("HEX"));
    }
}

#[test]
fn out_of_range_fields_are_refused_with_the_field_named() {
    for (args, needle) in [
        (&["--ttl", "256", "192.0.2.1"][..], "--ttl"),
        (
            &["--ihl", "16", "192.0.2.1"],
            "IHL 16 does not fit its 4-bit field",
        ),
        (
            &["--src-mac", "01:02:03:04:05:06:07", "192.0.2.1"],
            "--src-mac: MAC address must have 6 octets, got 7",
        ),
        (
            &["--data", "abc", "192.0.2.1"],
            "--data: hex string \"abc\" has an odd number of digits",
        ),
        (
            &["--vlan", "4096", "192.0.2.1"],
            "VLAN ID 4096 is out of range",
        ),
        (
            &["--frag-offset", "9000", "192.0.2.1"],
            "--frag-offset 9000 does not fit",
        ),
        (&["--size", "70000", "192.0.2.1"], "65535"),
        (&["--icmp-type", "300", "192.0.2.1"], "--icmp-type"),
        (&[][..], "DEST is required"),
    ] {
        let mut all = vec!["craft"];
        all.extend_from_slice(args);
        let out = common::pktforge_here(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn decode_reads_frames_from_standard_input() {
    use std::io::Write;
    let a: String = common::craft_hex(&["--icmp-type", "17", "198.51.100.1"])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let b: String = common::craft_hex(&["--timestamp", "tsonly", "203.0.113.2"])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Hex wrapped over lines, frames separated by a blank line.
    let input = format!("{}\n{}\n\n{b}\n", &a[..20], &a[20..]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .arg("decode")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Frame 1: 46 bytes") && text.contains("Frame 2: "),
        "{text}"
    );
    assert!(text.contains("Type: 17 (Address Mask Request)"), "{text}");
    assert!(
        text.contains("Time Stamp (TS): tsonly: (0 of 9 slots)"),
        "{text}"
    );
    assert!(text.contains("Flag: 0 (tsonly)"), "{text}");
}

#[test]
fn craft_fragment_copies_only_copied_options_into_later_fragments() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args([
            "craft",
            "--lsrr",
            "198.51.100.2",
            "-R",
            "--size",
            "100",
            "--fragment",
            "32",
            "--hex",
            "203.0.113.2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames: Vec<Vec<u8>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect();
    // 108 ICMP bytes in 32-byte pieces.
    assert_eq!(frames.len(), 4);
    for (i, f) in frames.iter().enumerate() {
        let ip = pktforge::wire::Ipv4Packet::new_checked(&f[14..]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(
            usize::from(ip.frag_offset()) * 8,
            32 * i,
            "offset in 8-byte units"
        );
        assert_eq!(ip.more_fragments(), i < 3);
        let types: Vec<u8> = ip
            .option_iter()
            .flatten()
            .map(|o| o.option_type())
            .collect();
        if i == 0 {
            assert!(
                types.contains(&7) && types.contains(&131),
                "RR and LSRR: {types:?}"
            );
        } else {
            assert!(
                types.contains(&131) && !types.contains(&7),
                "LSRR only: {types:?}"
            );
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args(["craft", "--fragment", "7", "203.0.113.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a multiple of 8"));
}

/// What the fields can carry is built, the reserved and out-of-spec included, each with a
/// warning on standard error; what they cannot carry is still refused.
#[test]
fn reserved_and_out_of_spec_values_are_built_with_a_warning() {
    for (args, bytes_at, warning) in [
        (
            &["--vlan", "4095", "192.0.2.1"][..],
            (14, 0x0f_u8),
            "VLAN ID 4095 is reserved",
        ),
        (
            &["--ihl", "4", "192.0.2.1"],
            (14, 0x44),
            "IHL 4 is below the minimum 5",
        ),
        (
            &["-R", "--ihl", "14", "192.0.2.1"],
            (14, 0x4e),
            "IHL 14 (56 bytes) is smaller than the header with options (60 bytes)",
        ),
        (
            &["--evil", "192.0.2.1"],
            (20, 0x80),
            "the reserved IP flag bit is set",
        ),
        (&["--ttl", "0", "192.0.2.1"], (22, 0), "TTL 0"),
        (
            &["--udp", "--dport", "0", "192.0.2.1"],
            (36, 0),
            "UDP destination port 0 is reserved",
        ),
        (
            &["--tcp", "--data-offset", "3", "192.0.2.1"],
            (46, 0x30),
            "TCP data offset 3 is below the minimum 5",
        ),
        (
            &["--udp", "--udp-len", "4", "192.0.2.1"],
            (39, 4),
            "UDP length 4 is below the 8-byte header",
        ),
        (
            &["--ip-option", "0701", "192.0.2.1"],
            (35, 0x01),
            "IP option RR (7) has length 1, below the minimum 2",
        ),
    ] {
        let mut a = vec!["craft", "--hex"];
        a.extend_from_slice(args);
        let out = common::pktforge_here(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            err.contains(&format!("pktforge: warning: {warning}")),
            "{args:?}: {err}"
        );
        let hex = String::from_utf8_lossy(&out.stdout);
        let frame: Vec<u8> = (0..hex.trim().len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex.trim()[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(frame[bytes_at.0], bytes_at.1, "{args:?}: {hex}");
    }
    // An ordinary frame has no warning.
    let out = common::pktforge_here(&["craft", "--hex", "--vlan", "0", "192.0.2.1"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the fields cannot hold is refused, naming the limit.
    for (args, needle) in [
        (
            &["--vlan", "4096", "192.0.2.1"][..],
            "VLAN ID 4096 is out of range 0..=4095",
        ),
        (&["--udp", "--sport", "65536", "192.0.2.1"], "0..=65535"),
        (&["--ttl", "256", "192.0.2.1"], "--ttl"),
    ] {
        let mut a = vec!["craft", "--hex"];
        a.extend_from_slice(args);
        let out = common::pktforge_here(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// Each IP option tshark names gets the same name in our tree (ours adds the abbreviation).
#[test]
fn ip_options_are_named_as_wireshark_names_them() {
    let dir = std::env::temp_dir().join(format!("pktforge-optnames-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut named = 0;
    for opt in [
        "00",
        "01",
        "07070400000000",
        "0b040000",
        "0c040000",
        "1908004000000000",
        "4408050000000000",
        "520c000100020003c0000201",
        "820b000000000000000000",
        "83070400000000",
        "85040000",
        "860600000001",
        "88040001",
        "89070400000000",
        "94040000",
        "95040000",
        "0a040000",
        "0f040000",
        "1e040000",
        "8e040000",
        "90040000",
        "91040000",
        "93040000",
        "97040000",
        "98040000",
        "cd040000",
    ] {
        let opt = if opt.len() % 2 == 1 {
            format!("{opt}0")
        } else {
            opt.to_string()
        };
        let pcap = dir.join(format!("{opt}.pcap"));
        let p = pcap.to_str().unwrap();
        let out = common::pktforge_here(&["craft", "--pcap", p, "--ip-option", &opt, "192.0.2.1"]);
        assert!(
            out.status.success(),
            "{opt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = Command::new("tshark")
            .args(["-r", p, "-V"])
            .output()
            .expect("tshark");
        let text = String::from_utf8_lossy(&v.stdout);
        let theirs: Option<String> = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("IP Option - "))
            .map(|n| {
                n.split(" (")
                    .next()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_string()
            });
        let json = common::pktforge_here(&["decode", "--json", "--pcap", p]);
        let line = String::from_utf8_lossy(&json.stdout);
        let frame: Value = line
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|v| v["type"] == "frame")
            .unwrap();
        let mut nodes = Vec::new();
        for l in frame["layers"].as_array().unwrap() {
            walk(l, &mut nodes);
        }
        let ours = nodes
            .iter()
            .find(|n| n["key"] == "ip.opt")
            .map(|n| n["name"].as_str().unwrap().to_string())
            .unwrap();
        eprintln!("{opt}: tshark {theirs:?}, ours {ours:?}");
        assert_ne!(ours, "Option", "{opt}: every IANA option has a name");
        if let Some(t) = theirs.filter(|t| !t.starts_with("Unknown")) {
            named += 1;
            assert!(
                ours == t || ours.starts_with(&format!("{t} (")),
                "{opt}: tshark {t:?}, ours {ours:?}"
            );
        }
    }
    assert!(named >= 15, "tshark named {named}");
    let _ = std::fs::remove_dir_all(&dir);
}
