//! `send` and `capture` in the namespace lab, against real Linux routers and hosts.

mod common;

use std::process::Command;

use common::{pktforge, stderr, stdout};
use pktforge::lab::{Host, Lab};

/// A line that starts with `prefix` (then a timestamp) and contains `needle`.
fn has_line(text: &str, prefix: &str, needle: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with(prefix) && l.contains(needle))
}

/// An SSRR crafted byte by byte (type 137, length 11, pointer 4, 198.51.100.2, 203.0.113.2),
/// sent to r1: r1 and r2 each take the next hop from it, b answers along the reversed route.
#[test]
fn send_hand_crafted_ssrr_echo_and_wait_shows_the_reply_decoded() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "send",
            "-I",
            Lab::A_IFACE,
            "--ip-option",
            "890b04c6336402cb007102",
            "--icmp-id",
            "0x4242",
            "--icmp-seq",
            "1",
            "--wait",
            "2",
            "192.0.2.1",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        has_line(
            &text,
            "> ",
            "IP 192.0.2.2 > 192.0.2.1: ICMP echo request, id 16962, seq 1, length 64"
        ),
        "{text}"
    );
    // The reply from b, decoded: its SSRR is b's reversal with each router's record.
    let reply = text
        .lines()
        .find(|l| l.starts_with("< "))
        .unwrap_or_else(|| panic!("no reply shown: {text}"));
    assert!(
        reply.contains(
            "IP 203.0.113.2 > 192.0.2.2: ICMP echo reply, id 16962, seq 1, length 64 (ttl 62"
        ),
        "{reply}"
    );
    assert!(
        text.contains("Strict Source Route (SSRR): ptr=12: 198.51.100.2 192.0.2.1"),
        "{text}"
    );
    assert!(text.contains("Checksum: ") && text.contains("[good]"));
    assert!(
        text.contains("--- 1 sent, 1 received, 0 dropped by kernel"),
        "{text}"
    );

    // The same with the --ssrr flag: IP destination = the first hop, as ping.
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "send",
            "--ssrr",
            "192.0.2.1,198.51.100.2",
            "--icmp-id",
            "7",
            "-c",
            "2",
            "--interval",
            "0.1",
            "--wait",
            "2",
            "--filter",
            "icmp[icmptype] == icmp-echoreply",
            "203.0.113.2",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for seq in [0, 1] {
        assert!(
            has_line(
                &text,
                "< ",
                &format!("IP 203.0.113.2 > 192.0.2.2: ICMP echo reply, id 7, seq {seq},")
            ),
            "reply {seq} missing: {text}"
        );
    }
    assert!(text.contains(", 2 received,"), "{text}");
}

#[test]
fn send_refuses_frames_over_the_mtu_unless_forced_and_replays_hex() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(&lab, Host::A, &["send", "--size", "1473", "192.0.2.1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("over the MTU 1500 of a-r1; --force sends it anyway"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("> "), "nothing sent");
    let out = pktforge(&lab, Host::A, &["send", "--size", "1472", "192.0.2.1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Replay: craft offline with r1's real MAC, send as is, r1 answers.
    let r1_mac = lab
        .exec(Host::R1, "cat", &["/sys/class/net/r1-a/address"])
        .unwrap();
    let r1_mac = String::from_utf8(r1_mac.stdout).unwrap().trim().to_string();
    let craft = pktforge(
        &lab,
        Host::A,
        &[
            "craft",
            "--hex",
            "--dst-mac",
            &r1_mac,
            "--src",
            "192.0.2.2",
            "--icmp-id",
            "99",
            "--icmp-type",
            "13",
            "192.0.2.1",
        ],
    );
    let hex = stdout(&craft).trim().to_string();
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "send",
            "-I",
            Lab::A_IFACE,
            "--from-hex",
            &hex,
            "--wait",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        has_line(
            &stdout(&out),
            "< ",
            "IP 192.0.2.1 > 192.0.2.2: ICMP time stamp reply, id 99, seq 0,"
        ),
        "{}",
        stdout(&out)
    );
    // Replay needs an interface.
    let out = pktforge(&lab, Host::A, &["send", "--from-hex", &hex]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("need -I IFACE"));
}

/// Start `pktforge capture` in r1 and wait until its filter is attached.
fn start_capture(lab: &Lab, args: &[&str]) -> std::process::Child {
    let mut all = vec!["capture"];
    all.extend_from_slice(args);
    common::spawn_ready(lab, Host::R1, &all, "capturing on r1-a")
}

#[test]
fn capture_icmp_sees_only_icmp_under_a_udp_flood_with_no_kernel_drops() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let pcap = std::env::temp_dir().join(format!("pktforge-cap-{}.pcap", std::process::id()));
    let icmp = start_capture(
        &lab,
        &[
            "-I",
            "r1-a",
            "-Q",
            "in",
            "-c",
            "3",
            "--duration",
            "30",
            "-w",
            pcap.to_str().unwrap(),
            "--print",
            "icmp",
        ],
    );
    // A witness: everything IPv4 that is not ICMP, to prove the flood reached r1-a.
    let others = start_capture(
        &lab,
        &[
            "-I",
            "r1-a",
            "-Q",
            "in",
            "-c",
            "2000",
            "--duration",
            "30",
            "ip and not icmp",
        ],
    );

    // 2000 UDP frames at 2000/s, then three echo requests.
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
            "2000",
            "--rate",
            "2000",
            "192.0.2.1",
        ],
    );
    assert_eq!(flood.status.code(), Some(0));
    assert!(stdout(&flood).contains("--- 2000 sent"));
    let pings = pktforge(
        &lab,
        Host::A,
        &[
            "send",
            "-q",
            "-c",
            "3",
            "--interval",
            "0.05",
            "--icmp-id",
            "5",
            "192.0.2.1",
        ],
    );
    assert_eq!(pings.status.code(), Some(0));

    let icmp = icmp.wait_with_output().unwrap();
    let others = others.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&icmp.stdout);
    let err = String::from_utf8_lossy(&icmp.stderr);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (i, l) in lines.iter().enumerate() {
        assert!(
            l.contains(&format!(
                "IP 192.0.2.2 > 192.0.2.1: ICMP echo request, id 5, seq {i}, length 64"
            )),
            "{l}"
        );
    }
    assert!(
        err.contains("3 frames captured, 0 dropped by kernel"),
        "{err}"
    );
    let other_text = String::from_utf8_lossy(&others.stdout);
    // Every flood frame reached r1-a and the witness kept all of them, although nobody read
    // its output until the end (a slow reader must not cost frames at this rate).
    assert!(
        String::from_utf8_lossy(&others.stderr)
            .contains("2000 frames captured, 0 dropped by kernel"),
        "{}",
        String::from_utf8_lossy(&others.stderr)
    );
    assert!(
        other_text
            .lines()
            .all(|l| l.contains(" > 192.0.2.1.") && !l.contains("ICMP")),
        "{other_text}"
    );

    // The pcap holds exactly those frames, kernel timestamps in order.
    let frames: Vec<_> = pktforge::link::capfile::CaptureFile::open(&pcap)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(frames.len(), 3);
    assert!(frames.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    std::fs::remove_file(&pcap).ok();
}

#[test]
fn bad_filters_exit_2_with_libpcaps_message() {
    for (words, needle) in [
        (&["frobnicate"][..], "filter \"frobnicate\": "),
        (&["(", "icmp"][..], "syntax error"),
        (&["icmp", ")"][..], "syntax error"),
        (&["wlan", "addr1", "00:11:22:33:44:55"][..], "802.11"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_pktforge"))
            .args(["capture", "-i", "lo"])
            .args(words)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{words:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{words:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // 20,000 negations: refused by name before libpcap, no stack overflow.
    let deep = format!("{}icmp", "!".repeat(20_000));
    let out = Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args(["capture", "-I", "none", &deep])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 4096"));
}

#[test]
fn dump_prints_the_program_like_tcpdump_d() {
    let out = Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args(["capture", "-d", "icmp[icmptype]==icmp-echo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let theirs = Command::new("tcpdump")
        .args(["-d", "icmp[icmptype]==icmp-echo"])
        .output()
        .expect("tcpdump (.ci/install installs it)");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
}

/// `send --from-pcap FILE` sends every frame of the file once by default (as tcpreplay), and
/// `-c N` cycles through them; counted on the receiving side.
#[test]
fn replay_sends_every_frame_of_the_file() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let file = std::env::temp_dir().join(format!("pktforge-replay-{}.pcap", std::process::id()));
    let st = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/gen_frames.py"
        ))
        .arg("5")
        .arg(&file)
        .status()
        .expect("python3");
    assert!(st.success());
    let rx = |lab: &Lab| -> u64 {
        let o = lab
            .exec(
                Host::R1,
                "cat",
                &["/sys/class/net/r1-a/statistics/rx_packets"],
            )
            .unwrap();
        stdout(&o).trim().parse().unwrap()
    };
    let f = file.to_str().unwrap();
    for (count, want) in [(None, 5u64), (Some("7"), 7)] {
        let before = rx(&lab);
        let mut args = vec![
            "send",
            "-q",
            "-I",
            Lab::A_IFACE,
            "--interval",
            "0",
            "--from-pcap",
            f,
        ];
        if let Some(c) = count {
            args.extend(["-c", c]);
        }
        let out = pktforge(&lab, Host::A, &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("--- {want} sent")),
            "{}",
            stdout(&out)
        );
        let got = rx(&lab) - before;
        assert!(got >= want, "r1 received {got} of {want}");
    }
    let _ = std::fs::remove_file(&file);
}
