//! Every subcommand that writes frames writes pcapng when asked (`--pcapng`) or when the file
//! name ends in `.pcapng`: checked with capinfos and tshark, and read back by our own decode.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{pktforge, pktforge_here, spawn_ready, stderr};
use pktforge::lab::{Host, Lab};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pfc-ng-{}-{name}", std::process::id()))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// capinfos' long report of `file`.
fn capinfos(file: &Path) -> String {
    let o = Command::new("capinfos")
        .args(["-t", "-I", "-c", "-M"])
        .arg(file)
        .output()
        .expect("capinfos (tshark's wireshark-common, .ci/install)");
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// tshark's fields for every frame of `file`, tab-separated.
fn tshark(file: &Path, fields: &[&str]) -> Vec<String> {
    let mut args = vec!["-n", "-r", s(file), "-T", "fields"];
    for f in fields {
        args.extend(["-e", f]);
    }
    let o = Command::new("tshark").args(&args).output().unwrap();
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The file is pcapng with nanosecond resolution, `frames` frames, interface `iface` if given;
/// our decode reads the same number of frames back.
fn check(file: &Path, iface: Option<&str>, frames: usize, what: &str) {
    let info = capinfos(file);
    assert!(
        info.contains("File type:           pcapng"),
        "{what}: {info}"
    );
    assert!(
        info.contains("Time precision = nanoseconds (9)"),
        "{what}: {info}"
    );
    assert!(
        info.contains(&format!("Number of packets:   {frames}\n")),
        "{what}: {info}"
    );
    if let Some(i) = iface {
        assert!(info.contains(&format!("Name = {i}")), "{what}: {info}");
    }
    let o = pktforge_here(&["decode", "--json", "-r", s(file)]);
    let n = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("\"type\":\"frame\""))
        .count();
    assert_eq!(n, frames, "{what}: decode reads them back");
}

#[test]
fn craft_writes_pcapng_by_name_and_by_flag() {
    for (name, flag) in [("c.pcapng", None), ("c.pcap", Some("--pcapng"))] {
        let f = tmp(name);
        let mut args = vec!["craft", "--pcap", s(&f)];
        args.extend(flag);
        args.extend(["--src", "192.0.2.2", "203.0.113.2"]);
        let o = pktforge_here(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        check(&f, None, 1, name);
        assert_eq!(tshark(&f, &["icmp.type"]), ["8"]);
        std::fs::remove_file(&f).ok();
    }
    // --pcapng without a file is refused.
    let o = pktforge_here(&["craft", "--pcapng", "203.0.113.2"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn probes_send_reflect_and_capture_write_pcapng() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // ping (the probe engine: trace, probe and the queries share it), by name.
    let f = tmp("ping.pcapng");
    let o = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "2", "-i", "0.2", "--pcap", s(&f), "192.0.2.1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let types = tshark(&f, &["icmp.type"]);
    assert_eq!(
        types.iter().filter(|t| *t == "8" || *t == "0").count(),
        4,
        "{types:?}"
    );
    check(&f, Some("a-r1"), types.len(), "ping");
    std::fs::remove_file(&f).ok();

    // trace with --pcapng and a .pcap name: the flag decides.
    let f = tmp("trace.pcap");
    let o = pktforge(
        &lab,
        Host::A,
        &[
            "trace",
            "-q",
            "1",
            "--pcap",
            s(&f),
            "--pcapng",
            "203.0.113.2",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let n = tshark(&f, &["frame.number"]).len();
    assert!(n >= 6, "three hops asked and answered: {n}");
    check(&f, Some("a-r1"), n, "trace");
    std::fs::remove_file(&f).ok();

    // send --wait.
    let f = tmp("send.bin");
    let o = pktforge(
        &lab,
        Host::A,
        &[
            "send",
            "-q",
            "--wait",
            "1",
            "--pcap",
            s(&f),
            "--pcapng",
            "192.0.2.1",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let types = tshark(&f, &["icmp.type"]);
    assert!(
        types.contains(&"8".to_string()) && types.contains(&"0".to_string()),
        "{types:?}"
    );
    check(&f, Some("a-r1"), types.len(), "send");
    std::fs::remove_file(&f).ok();

    // reflect, by name.
    let f = tmp("reflect.pcapng");
    let refl =
        common::start_reflector(&lab, &["--pcap", s(&f), "--count", "1", "--duration", "20"]);
    let o = pktforge(&lab, Host::A, &["ping", "-c", "1", "203.0.113.9"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = refl.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let types = tshark(&f, &["icmp.type"]);
    assert!(
        types.contains(&"8".to_string()) && types.contains(&"0".to_string()),
        "{types:?}"
    );
    check(&f, Some(Lab::B_IFACE), types.len(), "reflect");
    std::fs::remove_file(&f).ok();

    // capture -w: each frame's direction in epb_flags (1 in, 2 out).
    let f = tmp("cap.pcapng");
    let cap = spawn_ready(
        &lab,
        Host::A,
        &[
            "capture",
            "-i",
            "a-r1",
            "-c",
            "2",
            "--duration",
            "20",
            "-w",
            s(&f),
            "icmp",
        ],
        "capturing on a-r1",
    );
    let o = pktforge(&lab, Host::A, &["ping", "-c", "1", "192.0.2.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(cap.wait_with_output().unwrap().status.success());
    let rows = tshark(&f, &["icmp.type", "frame.packet_flags_direction"]);
    let dir = |r: &str| {
        let d = r.split('\t').nth(1).unwrap_or("").trim_start_matches("0x");
        u32::from_str_radix(d, if d.len() == 8 { 16 } else { 10 }).ok()
    };
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].starts_with("8\t") && dir(&rows[0]) == Some(2),
        "request out: {rows:?}"
    );
    assert!(
        rows[1].starts_with("0\t") && dir(&rows[1]) == Some(1),
        "reply in: {rows:?}"
    );
    check(&f, Some("a-r1"), 2, "capture");
    std::fs::remove_file(&f).ok();
}
