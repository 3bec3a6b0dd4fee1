//! The writer's two formats: pcapng as Wireshark's tools read it, and both read back by
//! `capfile` with nanoseconds, original lengths and link types kept.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use super::*;
use crate::link::capfile::{CaptureFile, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL};
use crate::wire::testutil::{self, hex};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pfw-{}-{name}", std::process::id()))
}

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789)
}

/// An echo request, a reply cut to 40 of its bytes, a third frame 1 ns later.
fn write_three(w: &mut PcapWriter) {
    let req = hex(testutil::RR_REQUEST);
    let rep = hex(testutil::RR_REPLY);
    w.write(t0(), &req).unwrap();
    w.write_packet(&Packet {
        timestamp: t0() + Duration::from_nanos(1),
        data: &rep[..40],
        wire_len: rep.len(),
        linktype: LINKTYPE_ETHERNET,
        outgoing: Some(false),
    })
    .unwrap();
    w.write_packet(&Packet {
        timestamp: t0() + Duration::from_nanos(2),
        data: &req,
        wire_len: req.len(),
        linktype: LINKTYPE_ETHERNET,
        outgoing: Some(true),
    })
    .unwrap();
    w.flush().unwrap();
}

fn tool(name: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(name)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{name} (.ci/install installs tshark): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn format_follows_the_name_unless_asked() {
    assert_eq!(
        PcapFormat::ByName.resolve(Path::new("a/b.pcapng")),
        PcapFormat::PcapNg
    );
    assert_eq!(
        PcapFormat::ByName.resolve(Path::new("x.PCAPNG")),
        PcapFormat::PcapNg
    );
    assert_eq!(
        PcapFormat::ByName.resolve(Path::new("x.pcap")),
        PcapFormat::Pcap
    );
    assert_eq!(
        PcapFormat::ByName.resolve(Path::new("pcapng")),
        PcapFormat::Pcap
    );
    assert_eq!(
        PcapFormat::PcapNg.resolve(Path::new("x.pcap")),
        PcapFormat::PcapNg
    );
    let p = tmp("named.pcapng");
    let w = PcapWriter::create(&p).unwrap();
    assert_eq!(w.format(), PcapFormat::PcapNg);
    drop(w);
    let magic = std::fs::read(&p).unwrap();
    assert_eq!(
        &magic[..4],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        "a section header block"
    );
    std::fs::remove_file(&p).ok();
}

#[test]
fn pcapng_and_pcap_read_back_alike() {
    for (name, format) in [
        ("rt.pcapng", PcapFormat::ByName),
        ("rt-forced", PcapFormat::PcapNg),
        ("rt.pcap", PcapFormat::ByName),
    ] {
        let p = tmp(name);
        let mut w = PcapWriter::create_as(&p, format, LINKTYPE_ETHERNET, Some("veth0")).unwrap();
        write_three(&mut w);
        drop(w);
        let back: Vec<_> = CaptureFile::open(&p).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(back.len(), 3, "{name}");
        let rep = hex(testutil::RR_REPLY);
        assert_eq!(back[0].timestamp, t0(), "{name}: nanoseconds kept");
        assert_eq!(back[1].timestamp, t0() + Duration::from_nanos(1), "{name}");
        assert_eq!(back[1].data, rep[..40].to_vec(), "{name}");
        assert_eq!(back[1].wire_len, rep.len(), "{name}: original length kept");
        assert_eq!(back[2].data, hex(testutil::RR_REQUEST), "{name}");
        assert!(back.iter().all(|r| r.linktype == LINKTYPE_ETHERNET));
        std::fs::remove_file(&p).ok();
    }
}

#[test]
fn wireshark_tools_read_our_pcapng() {
    let p = tmp("ws.pcapng");
    let mut w =
        PcapWriter::create_as(&p, PcapFormat::PcapNg, LINKTYPE_ETHERNET, Some("veth0")).unwrap();
    write_three(&mut w);
    drop(w);
    let info = tool("capinfos", &["-t", "-I", "-c", "-M"], &p);
    assert!(info.contains("File type:           pcapng"), "{info}");
    assert!(info.contains("Number of packets:   3"), "{info}");
    assert!(info.contains("Name = veth0"), "{info}");
    assert!(
        info.contains("Encapsulation = Ethernet (1 - ether)"),
        "{info}"
    );
    assert!(info.contains("Time precision = nanoseconds (9)"), "{info}");
    let fields = tool(
        "tshark",
        &[
            "-n",
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.len",
            "-e",
            "frame.cap_len",
            "-e",
            "frame.interface_name",
            "-e",
            "frame.packet_flags_direction",
            "-e",
            "icmp.type",
            "-r",
        ],
        &p,
    );
    let rep = hex(testutil::RR_REPLY).len();
    let req = hex(testutil::RR_REQUEST).len();
    let lines: Vec<Vec<&str>> = fields.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 3, "{fields}");
    assert_eq!(lines[0][0], "1700000000.123456789", "{fields}");
    assert_eq!(lines[1][0], "1700000000.123456790", "{fields}");
    assert_eq!(lines[0][1], req.to_string());
    assert_eq!(lines[1][1], rep.to_string(), "original length");
    assert_eq!(lines[1][2], "40", "captured length");
    assert_eq!(lines[0][3], "veth0");
    // tshark prints the direction bits as hex (0x00000001) or decimal, by version.
    let dir = |s: &str| {
        let s = s.trim_start_matches("0x");
        u32::from_str_radix(s, if s.len() == 8 { 16 } else { 10 }).ok()
    };
    assert_eq!(dir(lines[0][4]), None, "no direction given: {fields}");
    assert_eq!(dir(lines[1][4]), Some(1), "inbound: {fields}");
    assert_eq!(dir(lines[2][4]), Some(2), "outbound: {fields}");
    assert_eq!(lines[0][5], "8", "tshark decoded the echo request");
    std::fs::remove_file(&p).ok();
}

#[test]
fn pcapng_describes_each_link_type_and_pcap_refuses_a_second() {
    let sll = {
        // A Linux cooked (SLL) header: incoming, ARPHRD_ETHER, 6-byte address, IPv4.
        let mut v = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        v.extend_from_slice(&hex(testutil::RR_REQUEST)[14..]);
        v
    };
    let sll_packet = Packet {
        timestamp: t0(),
        data: &sll,
        wire_len: sll.len(),
        linktype: LINKTYPE_LINUX_SLL,
        outgoing: None,
    };
    let p = tmp("two.pcapng");
    let mut w = PcapWriter::create(&p).unwrap();
    w.write(t0(), &hex(testutil::RR_REQUEST)).unwrap();
    w.write_packet(&sll_packet).unwrap();
    w.write(t0(), &hex(testutil::RR_REPLY)).unwrap();
    drop(w);
    let info = tool("capinfos", &["-I", "-M"], &p);
    assert!(info.contains("Number of interfaces in file: 2"), "{info}");
    assert!(
        info.contains("Encapsulation = Linux cooked-mode capture v1 (25 - linux-sll)"),
        "{info}"
    );
    let types: Vec<u32> = CaptureFile::open(&p)
        .unwrap()
        .map(|r| r.unwrap().linktype)
        .collect();
    assert_eq!(types, [1, LINKTYPE_LINUX_SLL, 1]);
    std::fs::remove_file(&p).ok();

    let p = tmp("two.pcap");
    let mut w = PcapWriter::create(&p).unwrap();
    w.write(t0(), &hex(testutil::RR_REQUEST)).unwrap();
    let e = w.write_packet(&sll_packet).unwrap_err().to_string();
    assert!(
        e.contains("two.pcap") && e.contains("one link type (1)") && e.contains("113"),
        "{e}"
    );
    // A pcap made for SLL takes SLL frames.
    let mut w = PcapWriter::create_as(&p, PcapFormat::Pcap, LINKTYPE_LINUX_SLL, None).unwrap();
    w.write_packet(&sll_packet).unwrap();
    drop(w);
    let back: Vec<_> = CaptureFile::open(&p).unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].linktype, LINKTYPE_LINUX_SLL);
    std::fs::remove_file(&p).ok();
}

fn tmp_pcap(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pf-pcap-{}-{name}.pcap", std::process::id()))
}

fn sample_frames() -> Vec<(SystemTime, Vec<u8>)> {
    let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    let mut icmp = vec![0xffu8; 6];
    icmp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    icmp.extend_from_slice(&[
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1,
    ]);
    icmp.extend_from_slice(&[8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
    vec![
        (t, icmp),
        (t + Duration::from_nanos(1), vec![0u8; 60]),
        (t + Duration::from_secs(1), (0..=255u8).collect()),
    ]
}

#[test]
fn round_trip_keeps_nanoseconds() {
    let p = tmp_pcap("rt");
    let frames = sample_frames();
    {
        let mut w = PcapWriter::create(&p).unwrap();
        for (t, f) in &frames {
            w.write(*t, f).unwrap();
        }
        // no explicit flush: Drop must flush
    }
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(bytes[..4], MAGIC_NSEC.to_le_bytes());
    assert_eq!(bytes[16..20], SNAPLEN.to_le_bytes());
    let r = CaptureFile::open(&p).unwrap();
    assert_eq!(r.linktype(), LINKTYPE_ETHERNET);
    let back: Vec<_> = r
        .map(|x| x.map(|r| (r.timestamp, r.data)).unwrap())
        .collect();
    assert_eq!(back, frames);
    std::fs::remove_file(&p).ok();
}

#[test]
fn tshark_reads_our_file() {
    let tshark = Path::new("/usr/bin/tshark");
    if !tshark.exists() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("tshark missing at /usr/bin/tshark and CI=true");
        }
        eprintln!("note: skipping tshark_reads_our_file: /usr/bin/tshark not installed");
        return;
    }
    let p = tmp_pcap("tshark");
    let frames = sample_frames();
    {
        let mut w = PcapWriter::create(&p).unwrap();
        for (t, f) in &frames {
            w.write(*t, f).unwrap();
        }
        w.flush().unwrap();
    }
    let out = std::process::Command::new(tshark)
        .args(["-n", "-r"])
        .arg(&p)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "frame.time_epoch",
            "-e",
            "icmp.type",
        ])
        .output()
        .unwrap();
    std::fs::remove_file(&p).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let first: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(first[0], "42");
    assert!(first[1].starts_with("1700000000.123456789"), "{stdout}");
    assert_eq!(first[2], "8", "tshark decoded the ICMP echo request");
    assert!(lines[2].starts_with("256\t"));
}
