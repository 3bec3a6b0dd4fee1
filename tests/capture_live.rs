//! `capture` beside tcpdump in the namespace lab: directions, VLAN tags the kernel strips,
//! and pktforge's own probes visible to tcpdump.

mod common;

use std::process::{Command, Stdio};

use common::{pktforge, spawn_ready, stderr};
use pktforge::lab::Host;

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pfc-{}-{name}", std::process::id()))
}

/// tcpdump's text for a file.
fn tcpdump_read(args: &[&str], file: &std::path::Path) -> String {
    let out = Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(file)
        .args(args)
        .output()
        .expect("tcpdump (.ci/install installs it)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn stripped_vlan_tags_come_back_on_both_backends() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    for backend in ["fast", "pnet"] {
        let file = tmp(&format!("vlan-{backend}.pcap"));
        let cap = spawn_ready(
            &lab,
            Host::R1,
            &[
                "capture",
                "--backend",
                backend,
                "-i",
                "r1-a",
                "-e",
                "-c",
                "2",
                "--duration",
                "20",
                "-w",
                file.to_str().unwrap(),
                "--print",
                "vlan 100 and icmp",
            ],
            "capturing on r1-a",
        );
        // Tagged PCP 3, untagged, tagged PCP 0: the filter keeps the two tagged ones, which
        // the kernel untagged on receive. (r1 has no VLAN 100 to answer ARP on: its MAC is
        // given.)
        let r1_mac = lab
            .exec(Host::R1, "cat", &["/sys/class/net/r1-a/address"])
            .unwrap();
        let r1_mac = String::from_utf8_lossy(&r1_mac.stdout).trim().to_string();
        for vlan in [Some("100:3"), None, Some("100")] {
            let mut args = vec!["send", "-q", "-I", "a-r1", "-c", "1", "--dst-mac", &r1_mac];
            if let Some(v) = vlan {
                args.extend(["--vlan", v]);
            }
            args.push("192.0.2.1");
            assert_eq!(pktforge(&lab, Host::A, &args).status.code(), Some(0));
        }
        let out = cap.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{backend}: {text}");
        assert!(
            lines[0].contains(
                "ethertype 802.1Q (0x8100), length 102: vlan 100, p 3, ethertype IPv4 (0x0800), \
                 192.0.2.2 > 192.0.2.1: ICMP echo request"
            ),
            "{backend}: {}",
            lines[0]
        );
        assert!(
            lines[1].contains("vlan 100, p 0,"),
            "{backend}: {}",
            lines[1]
        );
        // The file holds the 102 tagged bytes, as tcpdump would have kept them.
        let theirs = tcpdump_read(&["-e"], &file);
        assert_eq!(theirs.lines().count(), 2, "{theirs}");
        assert!(
            theirs.lines().all(|l| l.contains("length 102: vlan 100")),
            "{backend}: {theirs}"
        );
        std::fs::remove_file(&file).ok();
    }
}

#[test]
fn directions_like_tcpdump_q_and_probes_seen_by_tcpdump() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let frames = |q: &str| {
        spawn_ready(
            &lab,
            Host::A,
            &[
                "capture",
                "-i",
                "a-r1",
                "-Q",
                q,
                "-c",
                "4",
                "--duration",
                "20",
                "icmp",
            ],
            "capturing on a-r1",
        )
    };
    // tcpdump on the sending interface sees pktforge's own requests (no packet-tap bypass).
    let tcpdump = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(Host::A),
            "timeout",
            "20",
            "tcpdump",
        ])
        .args([
            "-nn",
            "-l",
            "-i",
            "a-r1",
            "-c",
            "2",
            "icmp[icmptype] == icmp-echo",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let both = frames("inout");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let ping = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "2", "-i", "0.2", "192.0.2.1"],
    );
    assert_eq!(ping.status.code(), Some(0), "{}", stderr(&ping));
    let out = both.wait_with_output().unwrap();
    let text = stdout_of(&out);
    // On a's side the requests go out and the replies come in: -Q inout shows both.
    let kinds: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.contains("echo request") {
                "out"
            } else {
                "in"
            }
        })
        .collect();
    assert_eq!(kinds, ["out", "in", "out", "in"], "{text}");
    let td = tcpdump.wait_with_output().unwrap();
    let td = String::from_utf8_lossy(&td.stdout);
    assert_eq!(
        td.lines()
            .filter(|l| l.contains("ICMP echo request"))
            .count(),
        2,
        "tcpdump: {td}"
    );

    let only_in = frames("in");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let ping = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "4", "-i", "0.2", "192.0.2.1"],
    );
    assert_eq!(ping.status.code(), Some(0));
    let text = stdout_of(&only_in.wait_with_output().unwrap());
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.lines().all(|l| l.contains("echo reply")), "{text}");
}

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn writing_a_file_prints_no_frames_and_keeps_them_all() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let file = tmp("quiet.pcap");
    let cap = spawn_ready(
        &lab,
        Host::R1,
        &[
            "capture",
            "-i",
            "r1-a",
            "-Q",
            "in",
            "-c",
            "50",
            "--duration",
            "20",
            "-w",
            file.to_str().unwrap(),
            "udp",
        ],
        "capturing on r1-a",
    );
    let flood = pktforge(
        &lab,
        Host::A,
        &[
            "send",
            "-q",
            "--protocol",
            "17",
            "--size",
            "100",
            "-c",
            "50",
            "--rate",
            "1000",
            "192.0.2.1",
        ],
    );
    assert_eq!(flood.status.code(), Some(0));
    let out = cap.wait_with_output().unwrap();
    assert_eq!(stdout_of(&out), "", "no text per frame with -w");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("50 frames captured"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tcpdump_read(&[], &file).lines().count(), 50);
    std::fs::remove_file(&file).ok();
}
