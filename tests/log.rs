//! `--log FILE`: a line per request and per answer, from the same events the terminal shows;
//! unwritable output paths refused before any frame leaves.

mod common;

use pktforge::lab::{Host, Lab};

const B: &str = "203.0.113.2";

fn tx_packets(lab: &Lab) -> u64 {
    let out = lab
        .exec(
            Host::A,
            "cat",
            &["/sys/class/net/a-r1/statistics/tx_packets"],
        )
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn the_log_has_a_line_per_request_and_per_reply() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let dir = std::env::temp_dir().join(format!("pfp-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("ping.log");
    let out = common::pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "3",
            "-i",
            "0.2",
            "--log",
            log.to_str().unwrap(),
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    eprintln!("{text}");
    for seq in 1..=3 {
        let req = format!(" request seq={seq} to {B} ttl=64 84 bytes");
        let rep = format!(" reply seq={seq} from {B} ttl=62 64 bytes rtt=");
        let i = text.lines().position(|l| l.contains(&req)).expect(&req);
        let j = text.lines().position(|l| l.contains(&rep)).expect(&rep);
        assert!(i < j, "the reply comes after its request");
    }
    // Every line starts with a UTC time stamp.
    assert!(text
        .lines()
        .all(|l| l.len() > 28 && &l[4..5] == "-" && &l[26..28] == "Z "));

    let log = dir.join("trace.log");
    common::pktforge(
        &lab,
        Host::A,
        &["trace", "-q", "1", "--log", log.to_str().unwrap(), B],
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("hop ttl=1 probe=1 from 192.0.2.1 rtt="),
        "{text}"
    );
    assert!(
        text.contains("hop ttl=3 probe=1 from 203.0.113.2 rtt="),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unwritable_outputs_are_refused_before_anything_is_sent() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // Nothing in the neighbour cache: a run that got as far as the path would ARP.
    lab.exec(
        Host::A,
        "sysctl",
        &["-qw", "net.ipv6.conf.all.disable_ipv6=1"],
    )
    .unwrap(); // no IPv6 chatter on the counter
    lab.exec(Host::A, "ip", &["neigh", "flush", "all"]).unwrap();
    let before = tx_packets(&lab);
    for args in [
        vec!["ping", "-c", "1", "--pcap", "/nonexistent/x.pcap", B],
        vec!["ping", "-c", "1", "--log", "/nonexistent/x.log", B],
        vec!["trace", "--pcap", "/nonexistent/x.pcap", B],
        vec!["timestamp", "-c", "1", "--log", "/nonexistent/x.log", B],
        vec!["send", "--pcap", "/nonexistent/x.pcap", B],
    ] {
        let out = common::pktforge(&lab, Host::A, &args);
        assert_eq!(out.status.code(), Some(2));
        let err = common::stderr(&out);
        assert!(err.contains("/nonexistent/x."), "names the path: {err}");
        assert!(
            err.contains("--pcap") || err.contains("--log"),
            "names the flag: {err}"
        );
    }
    assert_eq!(tx_packets(&lab), before, "nothing left a-r1");
}
