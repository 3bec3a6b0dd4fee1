//! Line-rate paths in the lab: blast over UDP into reflect's UDP echo, XDP live frames (what
//! they need of the peer, what they refuse), and the in-kernel XDP echo reflector. Every run
//! is bounded in count and time; nothing here measures speed.

mod common;

use std::process::Child;

use common::{pktforge, stderr, stdout};
use pktforge::lab::{Host, Lab};

/// The reflector's address in b's subnet (not one the kernel owns).
const R: &str = "203.0.113.9";
/// r1's address on a's link: the kernel answers echo there.
const R1: &str = "192.0.2.1";

fn last_json(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON summary in {text:?}"));
    serde_json::from_str(line).expect("summary is valid JSON")
}

fn counter(lab: &Lab, host: Host, iface: &str, name: &str) -> u64 {
    let path = format!("/sys/class/net/{iface}/statistics/{name}");
    let out = lab.exec(host, "cat", &[&path]).unwrap();
    stdout(&out).trim().parse().unwrap()
}

/// ICMP messages the host's kernel has received (`Icmp: InMsgs` of /proc/net/snmp).
fn icmp_in(lab: &Lab, host: Host) -> u64 {
    let out = lab.exec(host, "cat", &["/proc/net/snmp"]).unwrap();
    let text = stdout(&out);
    let mut rows = text.lines().filter(|l| l.starts_with("Icmp:"));
    let (names, values) = (rows.next().unwrap(), rows.next().unwrap());
    let i = names
        .split_whitespace()
        .position(|n| n == "InMsgs")
        .unwrap();
    values.split_whitespace().nth(i).unwrap().parse().unwrap()
}

fn ethtool(lab: &Lab, host: Host, args: &[&str]) {
    let out = lab.exec(host, "ethtool", args).unwrap();
    assert!(out.status.success(), "ethtool {args:?}: {}", stderr(&out));
}

fn reflector_summary(child: Child) -> serde_json::Value {
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let c = last_json(&String::from_utf8_lossy(&done.stdout));
    eprintln!("reflector: {c}");
    c
}

#[test]
fn blast_udp_into_reflect_udp_echo_matches_every_reply() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let child = common::start_reflector(
        &lab,
        &[
            "--udp-echo",
            "--mode",
            "packet",
            "--count",
            "400",
            "--duration",
            "30",
        ],
    );
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "blast", "--udp", "7", "--id", "40000", "-c", "400", "-r", "2000", "-W", "3", "--json",
            R,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = last_json(&stdout(&out));
    assert_eq!(s["sent"], 400);
    assert_eq!(s["received"], 400, "every echoed datagram matched: {s}");
    assert_eq!(s["lost"], 0);
    assert_eq!(s["corrupt"], 0);
    assert_eq!(s["duplicates"], 0);
    assert_ne!(s["tx_mode"], "live", "live frames carry ICMP only");
    let c = reflector_summary(child);
    assert_eq!(c["udp_echo_replies"], 400, "one echo per datagram");
    assert_eq!(c["echo_replies"], 0);
    assert_eq!(c["would_amplify"], 0);
    assert_eq!(c["martian"], 0);

    // UDP with live frames, or port 0: refused before anything is sent.
    let before = counter(&lab, Host::A, Lab::A_IFACE, "tx_packets");
    for (args, needle) in [
        (&["--udp", "7", "--tx-mode", "live"][..], "ICMP echo"),
        (&["--udp", "0"][..], "--udp"),
    ] {
        let mut all = vec!["blast", "-c", "5"];
        all.extend_from_slice(args);
        all.push(R);
        let out = pktforge(&lab, Host::A, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(counter(&lab, Host::A, Lab::A_IFACE, "tx_packets"), before);
}

#[test]
fn live_frames_are_delivered_to_a_gro_peer_and_refused_elsewhere() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // A plain veth peer takes no XDP redirects: refused, exit 2, nothing counted as sent.
    let icmp_before = icmp_in(&lab, Host::R1);
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "blast",
            "--tx-mode",
            "live",
            "-c",
            "100",
            "-r",
            "10000",
            "--json",
            R1,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("does not take XDP redirects"), "{err}");
    assert!(err.contains("gro on"), "names what the peer needs: {err}");
    assert!(
        !stdout(&out).contains("\"type\":\"summary\""),
        "no summary of frames sent: {}",
        stdout(&out)
    );
    assert_eq!(
        icmp_in(&lab, Host::R1),
        icmp_before,
        "no echo request reached the peer's kernel"
    );

    // lo never takes them either.
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "blast",
            "--tx-mode",
            "live",
            "-c",
            "100",
            "-I",
            "lo",
            "127.0.0.1",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("XDP"), "{}", stderr(&out));

    // More threads than cores, and a frame past the XDP frame: refused before sending.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let too_many = (cores + 1).to_string();
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "blast",
            "--tx-mode",
            "live",
            "-c",
            "10",
            "--threads",
            &too_many,
            R1,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("core"), "{}", stderr(&out));
    for (h, i) in [(Host::A, "a-r1"), (Host::R1, "r1-a")] {
        lab.ip(h, &["link", "set", i, "mtu", "9000"]).unwrap();
    }
    let tx_before = counter(&lab, Host::A, Lab::A_IFACE, "tx_packets");
    let out = pktforge(
        &lab,
        Host::A,
        &["blast", "--tx-mode", "live", "-c", "10", "-s", "4000", R1],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does not fit an XDP live frame"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        counter(&lab, Host::A, Lab::A_IFACE, "tx_packets"),
        tx_before
    );
    for (h, i) in [(Host::A, "a-r1"), (Host::R1, "r1-a")] {
        lab.ip(h, &["link", "set", i, "mtu", "1500"]).unwrap();
    }

    // With GRO on the peer, live frames arrive: counted on the receiver, answered by its kernel.
    ethtool(&lab, Host::R1, &["-K", "r1-a", "gro", "on"]);
    let rx_before = counter(&lab, Host::R1, "r1-a", "rx_packets");
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "blast",
            "--tx-mode",
            "live",
            "-c",
            "2000",
            "-r",
            "20000",
            "-W",
            "2",
            "--json",
            R1,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = last_json(&stdout(&out));
    assert_eq!(s["tx_mode"], "live");
    assert_eq!(s["sent"], 2000);
    let delivered = counter(&lab, Host::R1, "r1-a", "rx_packets") - rx_before;
    assert!(
        delivered >= 2000,
        "the peer received {delivered} frames of 2000 sent (plus probes)"
    );
    let received = s["received"].as_u64().unwrap();
    assert!(received > 0, "r1's kernel answered: {s}");
    assert_eq!(
        s["corrupt"], 0,
        "every stamped frame's checksum is right: {s}"
    );
    // auto picks live frames now that the peer takes them.
    let out = pktforge(
        &lab,
        Host::A,
        &["blast", "-c", "200", "-r", "20000", "--json", R1],
    );
    assert_eq!(last_json(&stdout(&out))["tx_mode"], "live");
}

#[test]
fn xdp_reflector_answers_echo_in_the_kernel_and_drops_martians() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // XDP_TX back into a veth needs an XDP program on the peer: with GRO alone the frames are
    // queued on the peer but its NAPI is not woken for them (the README's line-rate section).
    let pass = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/xdp_drop.py");
    let out = lab
        .exec(Host::R2, "python3", &[pass, "r2-b", "--pass"])
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let child = common::start_reflector(&lab, &["--mode", "xdp", "--duration", "8"]);
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "5", "-i", "0.2", "-W", "2", R],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("5 received"), "{}", stdout(&out));
    // Spoofed martian sources, sent from r2 onto b's link to the reflector's MAC.
    let martians = [
        "0.0.0.0",
        "255.255.255.255",
        "203.0.113.255",
        "224.0.0.1",
        "127.0.0.1",
        R,
    ];
    for src in martians {
        let out = pktforge(
            &lab,
            Host::R2,
            &[
                "send",
                "-q",
                "-I",
                "r2-b",
                "--src",
                src,
                "--icmp-id",
                "9",
                R,
            ],
        );
        assert_eq!(
            out.status.code().map(|c| c <= 1),
            Some(true),
            "{src}: {}",
            stderr(&out)
        );
    }
    let c = reflector_summary(child);
    assert!(
        c["mode"] == "xdp-native" || c["mode"] == "xdp-generic",
        "answered in XDP: {c}"
    );
    assert_eq!(
        c["xdp_echo_replies"], 5,
        "the five pings, answered in the kernel"
    );
    assert_eq!(c["xdp_tx_failed"], 0);
    assert_eq!(c["echo_replies"], 0, "none needed user space");
    assert_eq!(
        c["martian"].as_u64().unwrap(),
        martians.len() as u64,
        "every martian source dropped (passed up by XDP, refused by the responder)"
    );
}

/// Run blast in a, stop it with SIGINT after `after`, return its JSON summary.
fn interrupted_blast(lab: &Lab, wait: &str, after: std::time::Duration) -> serde_json::Value {
    let child = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(Host::A),
            env!("CARGO_BIN_EXE_pktforge"),
        ])
        .args([
            "blast", "-c", "100000", "-d", "20", "-r", "1000", "-W", wait, "--json",
        ])
        .arg("203.0.113.2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    // `ip netns exec` execs pktforge: the child's pid is pktforge's.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    let s = last_json(&stdout(&out));
    eprintln!("{s}");
    s
}

#[test]
fn a_stopped_blast_counts_unexpired_requests_as_in_flight_not_lost() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // b's kernel answers no echo: every request stays unanswered.
    lab.sysctl(Host::B, "net.ipv4.icmp_echo_ignore_all", "1")
        .unwrap();
    let n = |s: &serde_json::Value, k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k}: {s}"));
    // A 30 s wait outlasts the run: nothing had its wait expire.
    let s = interrupted_blast(&lab, "30", std::time::Duration::from_millis(1500));
    assert_eq!(s["interrupted"], true);
    assert!(n(&s, "sent") > 0);
    assert_eq!(n(&s, "received"), 0);
    assert_eq!(
        n(&s, "in_flight"),
        n(&s, "sent"),
        "all still within their wait"
    );
    assert_eq!(n(&s, "lost"), 0);
    assert_eq!(s["loss_percent"], 0.0);
    // A 0.1 s wait: what left more than 0.1 s before the stop is lost, the rest in flight.
    let s = interrupted_blast(&lab, "0.1", std::time::Duration::from_millis(1500));
    assert_eq!(s["interrupted"], true);
    assert_eq!(n(&s, "received"), 0);
    assert_eq!(n(&s, "lost") + n(&s, "in_flight"), n(&s, "sent"));
    assert!(n(&s, "lost") > 0, "requests older than the wait are lost");
    assert!(n(&s, "in_flight") < n(&s, "sent"));
}

/// Live frames into the XDP reflector on the same link, nothing else set up: blast's program,
/// attached natively to the sending veth, lets it take the reflector's XDP_TX replies, and
/// tells them (ingress: the veth) from its own frames (handed in on lo). Every reply matched.
/// The reflector runs in its default mode: until blast's program is there its requests would
/// go to user space (`--mode xdp` is refused while the peer cannot take XDP frames); from
/// then on XDP answers.
#[test]
fn live_frames_into_the_xdp_reflector_get_every_reply() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let child = common::start_reflector_on(
        &lab,
        Host::R1,
        "r1-a",
        "192.0.2.9/24",
        &["--duration", "10"],
    );
    let rx_before = counter(&lab, Host::R1, "r1-a", "rx_packets");
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "blast",
            "--tx-mode",
            "live",
            "-c",
            "5000",
            "-r",
            "50000",
            "-W",
            "2",
            "--json",
            "192.0.2.9",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = last_json(&stdout(&out));
    assert_eq!(s["tx_mode"], "live");
    assert_eq!(s["sent"], 5000);
    assert_eq!(
        s["received"], 5000,
        "every request answered and matched: {s}"
    );
    assert_eq!(s["corrupt"], 0, "{s}");
    assert!(counter(&lab, Host::R1, "r1-a", "rx_packets") - rx_before >= 5000);
    let c = reflector_summary(child);
    let n = |k: &str| c[k].as_u64().unwrap();
    assert!(n("xdp_echo_replies") > 0, "XDP answered: {c}");
    assert!(n("xdp_echo_replies") + n("echo_replies") >= 5000, "{c}");
    assert_eq!(c["xdp_tx_failed"], 0, "{c}");
}
