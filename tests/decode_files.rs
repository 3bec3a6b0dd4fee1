//! `decode -r FILE` on real and broken capture files: pcapng from Wireshark's tools, files cut
//! short, unknown blocks, directories and missing paths — a clear error and exit 2, no panic.

use std::process::Command;

fn pktforge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args(args)
        .output()
        .unwrap()
}

fn tmp(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("pfc-decode-{}-{name}", std::process::id()))
        .display()
        .to_string()
}

/// Two echo requests in a nanosecond pcap, written by `craft`'s hex through our writer.
fn sample(path: &str) {
    let hex = String::from_utf8(
        pktforge(&["craft", "--hex", "--src", "192.0.2.2", "203.0.113.2"]).stdout,
    )
    .unwrap();
    let frame: Vec<u8> = (0..hex.trim().len() / 2)
        .map(|i| u8::from_str_radix(&hex.trim()[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut w = pktforge::link::capfile::PcapWriter::create(path).unwrap();
    for s in 0..2u64 {
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::new(1_700_000_000 + s, 5);
        w.write(t, &frame).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn pcapng_decodes_like_pcap() {
    let (pcap, ng) = (tmp("a.pcap"), tmp("a.pcapng"));
    sample(&pcap);
    assert!(Command::new("editcap")
        .args(["-F", "pcapng", &pcap, &ng])
        .status()
        .expect("editcap (.ci/install)")
        .success());
    let a = pktforge(&["decode", "-r", &pcap]);
    let b = pktforge(&["decode", "-r", &ng]);
    assert_eq!(a.status.code(), Some(0), "{a:?}");
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    assert!(String::from_utf8_lossy(&a.stdout).contains("Frame 2: "));
    std::fs::remove_file(&pcap).ok();
    std::fs::remove_file(&ng).ok();
}

#[test]
fn broken_files_exit_2_naming_file_and_offset() {
    let pcap = tmp("b.pcap");
    sample(&pcap);
    let bytes = std::fs::read(&pcap).unwrap();
    let cut = tmp("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let garbage = tmp("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all").unwrap();
    let dir = std::env::temp_dir().display().to_string();
    for (path, needle) in [
        (cut.as_str(), "ends in the middle of a record"),
        (garbage.as_str(), "not a pcap or pcapng file"),
        (dir.as_str(), "is a directory"),
        ("/nonexistent/pfc.pcap", "opening /nonexistent/pfc.pcap"),
    ] {
        let out = pktforge(&["decode", "-r", path]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {err}");
        assert!(err.contains(needle) && err.contains(path), "{path}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    std::fs::remove_file(&pcap).ok();
    std::fs::remove_file(&cut).ok();
    std::fs::remove_file(&garbage).ok();
}
