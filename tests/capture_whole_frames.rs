//! Frames larger than the MTU the capture started with are kept whole: the MTU raised while
//! `capture` runs, and the 64 KiB GSO frames a veth hands packet sockets whatever its MTU.
//! Checked in the namespace lab with tshark on the file written, on both backends.

mod common;

use std::process::Command;

use common::{spawn_ready, stderr};
use pktforge::lab::Host;

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pfc-whole-{}-{name}", std::process::id()))
}

/// (frame.len, frame.cap_len) of every frame in `file`, by tshark.
fn lengths(file: &std::path::Path) -> Vec<(usize, usize)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-e", "frame.len", "-e", "frame.cap_len"])
        .output()
        .expect("tshark (.ci/install)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (a, b) = l.split_once('\t').expect("two fields");
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

#[test]
fn mtu_raised_during_the_capture_keeps_8042_byte_frames_whole() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    for backend in ["fast", "pnet"] {
        for (h, i) in [(Host::A, "a-r1"), (Host::R1, "r1-a")] {
            lab.ip(h, &["link", "set", i, "mtu", "1500"]).unwrap();
        }
        let file = tmp(&format!("mtu-{backend}.pcapng"));
        // Started at MTU 1500: an MTU-sized ring would cut what follows to its 4 KiB blocks.
        let cap = spawn_ready(
            &lab,
            Host::R1,
            &[
                "capture",
                "--backend",
                backend,
                "-i",
                "r1-a",
                "-c",
                "2",
                "--duration",
                "20",
                "-w",
                file.to_str().unwrap(),
                "icmp",
            ],
            "capturing on r1-a",
        );
        for (h, i) in [(Host::A, "a-r1"), (Host::R1, "r1-a")] {
            lab.ip(h, &["link", "set", i, "mtu", "9000"]).unwrap();
        }
        // 8000 data bytes: an 8,028-byte datagram, an 8,042-byte frame each way.
        let ping = lab
            .exec(
                Host::A,
                "ping",
                &["-c", "1", "-W", "5", "-s", "8000", "-M", "do", "192.0.2.1"],
            )
            .unwrap();
        assert!(ping.status.success(), "{ping:?}");
        let out = cap.wait_with_output().unwrap();
        assert!(out.status.success(), "{backend}: {out:?}");
        assert_eq!(
            lengths(&file),
            [(8042, 8042), (8042, 8042)],
            "{backend}: request and reply stored whole"
        );
        std::fs::remove_file(&file).ok();
    }
}

#[test]
fn gso_frames_past_the_mtu_are_kept_whole() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // A TCP sink in r1; a's veth hands its packet taps the TSO/GSO frames before they are cut
    // into MTU-sized segments (and the veth passes them on whole).
    // (`ip netns exec` execs python itself, so killing the child ends it; it also ends by
    // itself 30 s after its last connection.)
    let server = Command::new("ip")
        .args(["netns", "exec", &lab.ns(Host::R1), "python3", "-c"])
        .arg(
            "import socket\n\
             s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('192.0.2.1', 5001)); s.listen(1); s.settimeout(30)\n\
             print('ready', flush=True)\n\
             for _ in range(2):\n\
             \x20   c, _ = s.accept(); c.settimeout(30)\n\
             \x20   while c.recv(1 << 20): pass\n",
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = server;
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
    }
    for backend in ["fast", "pnet"] {
        let file = tmp(&format!("gso-{backend}.pcap"));
        let cap = spawn_ready(
            &lab,
            Host::A,
            &[
                "capture",
                "--backend",
                backend,
                "-i",
                "a-r1",
                "-Q",
                "out",
                "--duration",
                "4",
                "-w",
                file.to_str().unwrap(),
                "tcp port 5001 and greater 1600",
            ],
            "capturing on a-r1",
        );
        let client = lab
            .exec(
                Host::A,
                "timeout",
                &[
                    "20",
                    "python3",
                    "-c",
                    "import socket, time\n\
                     c = socket.create_connection(('192.0.2.1', 5001))\n\
                     for _ in range(32): c.sendall(b'x' * 65536); time.sleep(0.02)\n\
                     c.close()\n",
                ],
            )
            .unwrap();
        assert!(client.status.success(), "{client:?}");
        let out = cap.wait_with_output().unwrap();
        assert!(out.status.success(), "{backend}: {}", stderr(&out));
        let frames = lengths(&file);
        let largest = frames.iter().map(|f| f.0).max().unwrap_or(0);
        assert!(
            largest > 16_000,
            "{backend}: GSO frames far past the 1500 MTU were seen: {frames:?}"
        );
        assert!(
            frames.iter().all(|(len, cap)| len == cap),
            "{backend}: every frame whole: {frames:?}"
        );
        std::fs::remove_file(&file).ok();
    }
    let _ = server.kill();
    let _ = server.wait();
}
