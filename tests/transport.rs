//! UDP and TCP on the probe engine, in the lab: `trace -U`/`-T` against Linux's traceroute,
//! `probe --tcp/--udp` against a real listener and closed ports, and bad transport input.

mod common;

use std::process::{Child, Command, Stdio};

use common::{pktforge, stderr, stdout};
use pktforge::lab::{Host, Lab};

const B: &str = "203.0.113.2";

/// Routers and b answer every probe: no ICMP rate limit (Linux's burst of 6 then 1/s would
/// leave stars where traceroute and pktforge send at once).
fn lab() -> Lab {
    let lab = common::lab();
    for h in [Host::R1, Host::R2, Host::B] {
        lab.sysctl(h, "net.ipv4.icmp_ratelimit", "0").unwrap();
    }
    lab
}

/// The distinct responding addresses, hop by hop.
fn hop_addrs(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.len() > 3 && l[..3].trim().parse::<u8>().is_ok())
        .filter_map(|l| {
            l.split_whitespace()
                .skip(1)
                .find(|w| w.parse::<std::net::Ipv4Addr>().is_ok())
                .map(str::to_string)
        })
        .collect()
}

/// `python3 -m http.server PORT` in b, killed on drop.
struct Listener(Child);

impl Listener {
    fn start(lab: &Lab, port: u16) -> Listener {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns(Host::B),
                "python3",
                "-m",
                "http.server",
            ])
            .args([&port.to_string(), "--bind", B])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        // Ready once the kernel lists the listening socket.
        for _ in 0..100 {
            let ss = lab.exec(Host::B, "ss", &["-Hltn"]).unwrap();
            if String::from_utf8_lossy(&ss.stdout).contains(&format!(":{port}")) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Listener(child)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn trace_udp_and_tcp_list_the_hops_linux_traceroute_lists() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab();
    let _http = Listener::start(&lab, 8000);
    let hops = ["192.0.2.1", "198.51.100.2", "203.0.113.2"];
    for (ours, theirs) in [
        (
            vec!["trace", "-U", "-n", "-w", "2", B],
            vec!["-U", "-n", "-w", "2", B],
        ),
        (
            vec!["trace", "-T", "-n", "-w", "2", B],
            vec!["-T", "-n", "-w", "2", B],
        ),
        (
            vec!["trace", "-T", "-p", "8000", "-n", "-w", "2", B],
            vec!["-T", "-p", "8000", "-n", "-w", "2", B],
        ),
    ] {
        let out = pktforge(&lab, Host::A, &ours);
        assert_eq!(out.status.code(), Some(0), "{ours:?}: destination reached");
        let text = stdout(&out);
        let linux = lab.exec(Host::A, "traceroute", &theirs).unwrap();
        let linux_text = String::from_utf8_lossy(&linux.stdout);
        eprintln!("traceroute {theirs:?}:\n{linux_text}");
        assert_eq!(hop_addrs(&text), hops, "{ours:?}");
        assert_eq!(hop_addrs(&text), hop_addrs(&linux_text), "{ours:?}");
        // The destination line ends the trace: no hop past it.
        assert_eq!(text.lines().count(), 4, "{text}");
    }
}

#[test]
fn trace_udp_json_and_record_route() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab();
    let out = pktforge(
        &lab,
        Host::A,
        &["trace", "-U", "-R", "-q", "1", "-w", "2", "--json", B],
    );
    assert_eq!(out.status.code(), Some(0));
    let hops: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "hop")
        .collect();
    assert_eq!(hops.len(), 3);
    // The Time Exceeded from r1 quotes the probe with r1's own address recorded.
    let rr = hops[0]["recorded_route"].as_array().unwrap();
    assert_eq!(rr[0], "192.0.2.2");
    assert_eq!(rr[1], "192.0.2.1");
}

#[test]
fn probe_tcp_open_closed_and_udp_closed() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab();
    let _http = Listener::start(&lab, 8000);
    let log_path = format!("/tmp/pktforge-probe-{}.log", std::process::id());
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "probe",
            B,
            "--tcp",
            "8000,8001",
            "-i",
            "0.1",
            "--log",
            &log_path,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    // --log: one line per request and per answer (the log is written in a's namespace, which
    // shares the host's file system).
    let log = std::fs::read_to_string(&log_path).expect("the log");
    let _ = std::fs::remove_file(&log_path);
    assert_eq!(
        log.lines().filter(|l| l.contains(" request ")).count(),
        2,
        "{log}"
    );
    assert!(log.lines().any(|l| l.contains(" reply ")), "{log}");
    let text = stdout(&out);
    assert!(
        text.contains("tcp/8000 open (SYN-ACK) from 203.0.113.2: seq=1 flags=S. ttl=62"),
        "{text}"
    );
    assert!(
        text.contains("tcp/8001 closed (RST) from 203.0.113.2: seq=2 flags=R. ttl=62"),
        "{text}"
    );
    let out = pktforge(
        &lab,
        Host::A,
        &["probe", B, "--udp", "9", "-c", "2", "-i", "0.1"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(
        text.matches("udp/9 closed (Destination Port Unreachable) from 203.0.113.2")
            .count(),
        2,
        "{text}"
    );
    assert!(text.contains("icmp=3/3"), "{text}");
}

#[test]
fn probe_tcp_with_record_route_shows_the_route_from_the_syn_ack() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab();
    let _http = Listener::start(&lab, 8000);
    let out = pktforge(&lab, Host::A, &["probe", B, "--tcp", "8000", "-R"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("tcp/8000 open (SYN-ACK)"), "{text}");
    // b's TCP answers with the SYN's option reflected (Linux echoes RR on the SYN-ACK), and
    // the way back records as an echo reply's does.
    let rr: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("RR:"))
        .take_while(|l| l.starts_with("RR:") || l.starts_with('\t'))
        .map(|l| l.trim_start_matches("RR:").trim())
        .collect();
    assert_eq!(rr, common::LINUX_RR_A_TO_B, "{text}");
}

#[test]
fn probe_silence_is_filtered_or_open_filtered() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab();
    // An address on the r1-r2 link that nobody holds: r1's ARP goes unanswered, and its host
    // unreachable comes only after its ARP timeout (~3 s), long after the 0.5 s wait.
    let target = "198.51.100.77";
    let out = pktforge(&lab, Host::A, &["probe", target, "--tcp", "7", "-W", "0.5"]);
    assert!(
        stdout(&out).contains("tcp/7 filtered (no answer): seq=1"),
        "{}",
        stdout(&out)
    );
    assert_eq!(out.status.code(), Some(1));
    let out = pktforge(&lab, Host::A, &["probe", target, "--udp", "7", "-W", "0.5"]);
    assert!(
        stdout(&out).contains("udp/7 open|filtered (no answer): seq=1"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_transport_input_exits_2_and_sends_nothing() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab();
    for (args, needle) in [
        (vec!["probe", B, "--tcp", "0"], "1..=65535"),
        (vec!["probe", B, "--udp", "80,65536"], "1..=65535"),
        (
            vec!["probe", B, "--tcp", "80", "--udp", "53"],
            "cannot be used with",
        ),
        (vec!["probe", B], "required"),
        (
            vec![
                "probe",
                B,
                "--tcp",
                "80",
                "--tcp-option",
                "sack=1:2,3:4,5:6,7:8",
                "--tcp-option",
                "mss=1",
                "--tcp-option",
                "wscale=1",
            ],
            "at most 40",
        ),
        (vec!["trace", "-T", "-U", B], "cannot be used with"),
        (vec!["trace", "-U", "-p", "0", B], "1..=65535"),
        (vec!["trace", "-p", "80", B], "needs -U"),
        (vec!["send", "--tcp", "--flags", "SZ", B], "'Z'"),
    ] {
        let before = lab
            .exec(
                Host::A,
                "cat",
                &["/sys/class/net/a-r1/statistics/tx_packets"],
            )
            .unwrap();
        let out = pktforge(&lab, Host::A, &args);
        let after = lab
            .exec(
                Host::A,
                "cat",
                &["/sys/class/net/a-r1/statistics/tx_packets"],
            )
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert_eq!(before.stdout, after.stdout, "{args:?} sent something");
    }
}

#[test]
fn probe_udp_counts_a_port_unreachable_as_an_answer() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab();
    let out = pktforge(
        &lab,
        Host::A,
        &["probe", B, "--udp", "9", "-c", "3", "-i", "0.1"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{text}"
    );
    assert!(!text.contains("errors"), "{text}");
    assert!(text.contains("rtt min/avg/max/mdev = "), "{text}");
    let json = pktforge(
        &lab,
        Host::A,
        &["probe", B, "--udp", "9", "-c", "2", "-i", "0.1", "--json"],
    );
    let summary = stdout(&json).lines().last().unwrap_or("").to_string();
    let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(v["received"], 2, "{summary}");
    assert_eq!(v["errors"], 0, "{summary}");
    assert_eq!(v["loss_percent"], 0.0, "{summary}");
    // An error from a router on the way is still no answer from the port: TTL 1.
    let out = pktforge(
        &lab,
        Host::A,
        &["probe", B, "--udp", "9", "-c", "1", "-t", "1"],
    );
    assert!(
        stdout(&out).contains("1 packets transmitted, 0 received, +1 errors"),
        "{}",
        stdout(&out)
    );
}
