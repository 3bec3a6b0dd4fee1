//! `capture -r FILE [FILTER]` beside `tcpdump -r` on the same files: the same records kept for
//! tcpdump's filters, the file's own link type compiled for, `-w` keeping timestamps, original
//! lengths and link type (pcap or pcapng), cut records marked truncated, and every bad input a
//! clear error with exit 2.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use common::pktforge_here as pktforge;
use pktforge::link::capfile::{
    CaptureFile, Packet, PcapFormat, PcapWriter, Record, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL,
};
use serde_json::Value;

/// A path unique to this process and call (tests run in parallel threads).
fn tmp(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("pfc-capr-{}-{n}-{name}", std::process::id()))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `benches/gen_frames.py`: `n` varied frames (ICMP with options, VLAN tags, ICMP errors, DNS,
/// UDP, TCP with options, ARP), nanosecond timestamps.
fn generated(name: &str, n: usize) -> PathBuf {
    let p = tmp(name);
    let st = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/gen_frames.py"
        ))
        .arg(n.to_string())
        .arg(&p)
        .status()
        .expect("python3 (.ci/install)");
    assert!(st.success());
    p
}

fn records(p: &Path) -> Vec<Record> {
    CaptureFile::open(p).unwrap().map(|r| r.unwrap()).collect()
}

/// What tcpdump keeps of `file` for `filter`, read back (its -w files are microsecond pcap).
fn tcpdump_keeps(file: &Path, filter: &str) -> Vec<Record> {
    let o = tmp("td.pcap");
    let st = Command::new("tcpdump")
        .args(["-r", s(file), "-w", s(&o), filter])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("tcpdump (.ci/install)");
    assert!(st.success(), "tcpdump -r {filter:?}");
    let r = records(&o);
    std::fs::remove_file(&o).ok();
    r
}

fn micros(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

#[test]
fn filters_keep_what_tcpdump_keeps() {
    let file = generated("mix.pcap", 2000);
    let all = records(&file);
    assert_eq!(all.len(), 2000);
    for filter in [
        "icmp[icmptype] == icmp-echo",
        "udp",
        "tcp port 9",
        "tcp[tcpflags] & tcp-syn != 0",
        "ip[0] & 0xf > 5",
        "vlan",
        "vlan and icmp",
        "ether host 02:00:00:00:00:05",
        "net 192.0.2.0/24",
        "src host 192.0.2.2",
        "ip proto 1",
        "port 53",
        "greater 1000",
        "less 80",
        "arp",
        "not (icmp or arp)",
    ] {
        let ours = tmp("ours.pcap");
        let o = pktforge(&["capture", "-r", s(&file), "-w", s(&ours), filter]);
        assert_eq!(o.status.code(), Some(0), "{filter}: {}", err(&o));
        assert_eq!(out(&o), "", "{filter}: -w alone prints no frames");
        let got = records(&ours);
        let want = tcpdump_keeps(&file, filter);
        assert!(!want.is_empty(), "{filter}: the sample has some");
        assert_eq!(got.len(), want.len(), "{filter}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.data, w.data, "{filter}");
            assert_eq!(g.wire_len, w.wire_len, "{filter}");
            assert_eq!(micros(g.timestamp), micros(w.timestamp), "{filter}");
        }
        // Our file keeps the nanoseconds the input had.
        let first = all.iter().find(|r| r.data == got[0].data).unwrap();
        assert_eq!(got[0].timestamp, first.timestamp, "{filter}");
        // Printing gives one line per record kept.
        let o = pktforge(&["capture", "-r", s(&file), filter]);
        assert_eq!(out(&o).lines().count(), want.len(), "{filter}");
        std::fs::remove_file(&ours).ok();
    }
    std::fs::remove_file(&file).ok();
}

#[test]
fn output_lines_count_json_and_pcapng() {
    let file = generated("out.pcap", 200);
    // The same one-line text as a live capture, -c honoured.
    let o = pktforge(&["capture", "-r", s(&file), "-c", "3", "icmp"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0]
            .ends_with("IP 192.0.2.2 > 198.51.100.2: ICMP echo request, id 0, seq 0, length 64"),
        "{text}"
    );
    assert!(lines[0].starts_with("22:13:20.000"), "{text}");
    assert!(
        err(&o).contains("reading from file") && err(&o).contains("link-type EN10MB (Ethernet)"),
        "{}",
        err(&o)
    );
    // -e: the link level, VLAN tags included.
    let o = pktforge(&["capture", "-r", s(&file), "-e", "-c", "1", "vlan"]);
    assert!(
        out(&o).contains("ethertype 802.1Q (0x8100), length 102: vlan 3, p 0, ethertype IPv4"),
        "{}",
        out(&o)
    );
    // --tree: the dissection under each line.
    let o = pktforge(&["capture", "-r", s(&file), "--tree", "-c", "1", "arp"]);
    assert!(out(&o).lines().count() > 5, "{}", out(&o));
    assert!(out(&o).contains("    Ethernet II"), "{}", out(&o));
    // --json: start, notice, frames with the dissection, summary; every line valid.
    let o = pktforge(&["capture", "-r", s(&file), "--json", "-c", "4", "tcp"]);
    let schema: Value = serde_json::from_str(pktforge::event::JSON_SCHEMA).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let recs: Vec<Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for r in &recs {
        assert!(v.is_valid(r), "{r}");
    }
    let types: Vec<&str> = recs.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["start", "notice", "frame", "frame", "frame", "frame", "summary"]
    );
    assert_eq!(recs[6]["received"], 4);
    assert!(recs[2]["layers"].is_array());
    // pcapng by name and by --pcapng, nanoseconds declared; read back the same.
    for (name, extra) in [("o.pcapng", None), ("o.bin", Some("--pcapng"))] {
        let ng = tmp(name);
        let mut args = vec!["capture", "-r", s(&file), "-w", s(&ng)];
        args.extend(extra);
        args.push("udp");
        let o = pktforge(&args);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        let info = Command::new("capinfos")
            .args(["-t", "-I", "-M", s(&ng)])
            .output()
            .unwrap();
        let info = out(&info);
        assert!(info.contains("File type:           pcapng"), "{info}");
        assert!(info.contains("Time precision = nanoseconds (9)"), "{info}");
        let ours = records(&ng);
        let theirs = tcpdump_keeps(&file, "udp");
        assert_eq!(ours.len(), theirs.len());
        let original: Vec<Record> = records(&file)
            .into_iter()
            .filter(|r| theirs.iter().any(|t| t.data == r.data))
            .collect();
        assert_eq!(ours, original, "timestamps (ns), bytes and lengths kept");
        std::fs::remove_file(&ng).ok();
    }
    std::fs::remove_file(&file).ok();
}

#[test]
fn cut_records_keep_their_length_and_are_marked_truncated() {
    let file = generated("whole.pcap", 100);
    let cut = tmp("cut.pcap");
    // Wireshark's editcap cuts every record to 60 bytes, keeping the original lengths.
    let st = Command::new("editcap")
        .args(["-s", "60", s(&file), s(&cut)])
        .status()
        .expect("editcap (.ci/install)");
    assert!(st.success());
    // `greater`/`len` see the original length (libpcap's offline filter does the same).
    let ours = tmp("cut-out.pcap");
    let o = pktforge(&["capture", "-r", s(&cut), "-w", s(&ours), "greater 100"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let want = tcpdump_keeps(&cut, "greater 100");
    let got = records(&ours);
    assert!(!want.is_empty());
    assert_eq!(got.len(), want.len());
    assert!(got.iter().all(|r| r.data.len() == 60 && r.wire_len > 100));
    // tshark sees the original lengths in our file.
    let t = Command::new("tshark")
        .args([
            "-r",
            s(&ours),
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "frame.cap_len",
        ])
        .output()
        .unwrap();
    let first = out(&t).lines().next().unwrap().to_string();
    assert_eq!(first, format!("{}\t60", got[0].wire_len), "{}", out(&t));
    // Text marks a cut frame as tcpdump's [|…] does; JSON says truncated with the bytes kept.
    let o = pktforge(&["capture", "-r", s(&cut), "-c", "1"]);
    let line = out(&o);
    assert!(
        line.trim_end()
            .ends_with("[|truncated: 60 of 138 bytes captured]"),
        "{line}"
    );
    let o = pktforge(&["capture", "-r", s(&cut), "-c", "1", "--json"]);
    let frame: Value = out(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["type"] == "frame")
        .unwrap();
    assert_eq!(frame["bytes"], 138);
    assert_eq!(frame["truncated"], true);
    assert_eq!(frame["captured"], 60);
    let schema: Value = serde_json::from_str(pktforge::event::JSON_SCHEMA).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(v.is_valid(&frame), "{frame}");
    let mut half = frame.clone();
    half.as_object_mut().unwrap().remove("captured");
    assert!(!v.is_valid(&half), "truncated without captured is refused");
    // decode says the same.
    let o = pktforge(&["decode", "-r", s(&cut)]);
    assert!(
        out(&o).starts_with("Frame 1: 138 bytes on the wire, 60 captured [truncated]"),
        "{}",
        out(&o)
    );
    // A whole frame has neither field.
    let o = pktforge(&["capture", "-r", s(&file), "-c", "1", "--json"]);
    assert!(!out(&o).contains("truncated"), "{}", out(&o));
    for p in [&file, &cut, &ours] {
        std::fs::remove_file(p).ok();
    }
}

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 1)
}

/// An Ethernet echo request from the lab's a to r1 (`craft`).
fn echo() -> Vec<u8> {
    common::craft_hex(&["--src", "192.0.2.2", "192.0.2.1"])
}

/// The same datagram under a Linux cooked (SLL) header: `pkttype` 0 (to us) or 4 (outgoing).
fn cooked(pkttype: u16) -> Vec<u8> {
    let e = echo();
    let mut v = Vec::new();
    v.extend_from_slice(&pkttype.to_be_bytes());
    v.extend_from_slice(&[0, 1, 0, 6]);
    v.extend_from_slice(&e[6..12]);
    v.extend_from_slice(&[0, 0, 0x08, 0x00]);
    v.extend_from_slice(&e[14..]);
    v
}

#[test]
fn linux_cooked_files_get_their_own_program() {
    let sll = tmp("sll.pcap");
    let mut w = PcapWriter::create_as(&sll, PcapFormat::Pcap, LINKTYPE_LINUX_SLL, None).unwrap();
    for (i, t) in [0u16, 4, 0].into_iter().enumerate() {
        let f = cooked(t);
        w.write_packet(&Packet {
            timestamp: t0() + Duration::from_secs(i as u64),
            data: &f,
            wire_len: f.len(),
            linktype: LINKTYPE_LINUX_SLL,
            outgoing: None,
        })
        .unwrap();
    }
    drop(w);
    // `inbound` reads the cooked header's packet type, as tcpdump -r does.
    let o = pktforge(&["capture", "-r", s(&sll), "inbound and icmp"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).lines().count(), 2, "{}", out(&o));
    assert!(err(&o).contains("LINUX_SLL"), "{}", err(&o));
    // -d prints the program for the file's link type: tcpdump -d -r prints the same.
    let ours = pktforge(&["capture", "-d", "-r", s(&sll), "icmp"]);
    let theirs = Command::new("tcpdump")
        .args(["-d", "-r", s(&sll), "icmp"])
        .output()
        .unwrap();
    assert_eq!(out(&ours), out(&theirs));
    assert!(out(&ours).contains("ldh      [14]"), "SLL: protocol at 14");
    // -w keeps the cooked frames cooked.
    let o2 = tmp("sll-out.pcap");
    let o = pktforge(&["capture", "-r", s(&sll), "-w", s(&o2), "outbound"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let back = records(&o2);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].linktype, LINKTYPE_LINUX_SLL);
    // What the link type lacks: libpcap's message, the file named, exit 2.
    let o = pktforge(&["capture", "-r", s(&sll), "ether host 02:00:00:00:00:01"]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains(s(&sll)) && e.contains("ethernet addresses supported only on"),
        "{e}"
    );
    // A file does not know the direction of an Ethernet frame: refused as tcpdump refuses it.
    let eth = tmp("eth.pcap");
    let mut w = PcapWriter::create(&eth).unwrap();
    w.write(t0(), &echo()).unwrap();
    drop(w);
    let o = pktforge(&["capture", "-r", s(&eth), "inbound"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("needs what only a live capture knows"),
        "{}",
        err(&o)
    );
    for p in [&sll, &o2, &eth] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn pcapng_with_two_link_types() {
    // Ethernet and SLL interfaces in one pcapng: a program per link type.
    let ng = tmp("two.pcapng");
    let mut w = PcapWriter::create(&ng).unwrap();
    let e = echo();
    let c = cooked(0);
    w.write(t0(), &e).unwrap();
    let cooked_packet = Packet {
        timestamp: t0() + Duration::from_secs(1),
        data: &c,
        wire_len: c.len(),
        linktype: LINKTYPE_LINUX_SLL,
        outgoing: None,
    };
    w.write_packet(&cooked_packet).unwrap();
    w.write(t0() + Duration::from_secs(2), &e).unwrap();
    drop(w);
    let o = pktforge(&["capture", "-r", s(&ng), "icmp and dst host 192.0.2.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).lines().count(), 3, "{}", out(&o));
    // Into pcapng: both interfaces kept.
    let keep = tmp("keep.pcapng");
    let o = pktforge(&["capture", "-r", s(&ng), "-w", s(&keep), "icmp"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let types: Vec<u32> = records(&keep).iter().map(|r| r.linktype).collect();
    assert_eq!(
        types,
        [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_ETHERNET]
    );
    // Into classic pcap: refused at the record that needs a second link type.
    let flat = tmp("flat.pcap");
    let o = pktforge(&["capture", "-r", s(&ng), "-w", s(&flat), "icmp"]);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains("one link type") && e.contains("at byte offset") && e.contains("pcapng"),
        "{e}"
    );
    for p in [&ng, &keep, &flat] {
        std::fs::remove_file(p).ok();
    }
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let file = generated("bad.pcap", 20);
    let bytes = std::fs::read(&file).unwrap();
    let cut = tmp("cut-mid.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let garbage = tmp("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all").unwrap();
    let dir = std::env::temp_dir();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["capture", "-r", s(&file), "(icmp"], "syntax error"),
        (
            vec!["capture", "-r", s(&file), "icmp", "frobnicate"],
            "syntax error",
        ),
        (
            vec!["capture", "-r", s(&cut)],
            "ends in the middle of a record",
        ),
        (
            vec!["capture", "-r", s(&garbage)],
            "not a pcap or pcapng file",
        ),
        (
            vec!["capture", "-r", dir.to_str().unwrap()],
            "is a directory",
        ),
        (vec!["capture", "-r", "/nonexistent/x.pcap"], "No such file"),
        (
            vec!["capture", "-r", s(&file), "-i", "lo"],
            "cannot be used with",
        ),
        (
            vec!["capture", "-r", s(&file), "--duration", "1"],
            "cannot be used with",
        ),
        (vec!["capture", "-r", s(&file), "-c", "0"], "at least 1"),
        (
            vec!["capture", "-r", s(&file), "-w", "/nonexistent/o.pcap"],
            "creating",
        ),
    ];
    for (args, want) in cases {
        let o = pktforge(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(err(&o).contains(want), "{args:?}: {}", err(&o));
        assert!(!err(&o).contains("panicked"), "{args:?}");
    }
    // The cut file: the records before the cut are shown, the error names the offset.
    let o = pktforge(&["capture", "-r", s(&cut)]);
    assert_eq!(out(&o).lines().count(), 19, "{}", out(&o));
    assert!(err(&o).contains(s(&cut)) && err(&o).contains("at byte offset"));
    for p in [&file, &cut, &garbage] {
        std::fs::remove_file(p).ok();
    }
}

/// `-r -` reads the file from standard input, as `tcpdump -r -`: the same lines as `-r FILE`;
/// `decode --pcap -` too.
#[test]
fn standard_input_is_read_as_a_file() {
    use std::io::Write;
    use std::process::Stdio;
    let file = generated("stdin.pcap", 300);
    // pktforge ARGS with `input` on its standard input.
    let piped = |args: &[&str], input: Vec<u8>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pktforge"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = c.stdin.take().unwrap();
        let feed = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let o = c.wait_with_output().unwrap();
        feed.join().unwrap();
        o
    };
    let bytes = std::fs::read(&file).unwrap();
    let by_name = pktforge(&["capture", "-r", s(&file), "udp"]);
    let by_stdin = piped(&["capture", "-r", "-", "udp"], bytes.clone());
    assert_eq!(by_stdin.status.code(), Some(0), "{}", err(&by_stdin));
    assert!(!out(&by_name).is_empty());
    assert_eq!(out(&by_stdin), out(&by_name));
    let d = piped(&["decode", "--pcap", "-", "--json"], bytes);
    assert_eq!(d.status.code().map(|c| c <= 1), Some(true), "{}", err(&d));
    let frames = out(&d)
        .lines()
        .filter(|l| l.contains("\"type\":\"frame\""))
        .count();
    assert_eq!(frames, 300);
    // Garbage on standard input: named as such, exit 2.
    let o = piped(&["capture", "-r", "-"], b"GIF89a not a capture".to_vec());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("standard input: not a pcap or pcapng file"),
        "{}",
        err(&o)
    );
}
