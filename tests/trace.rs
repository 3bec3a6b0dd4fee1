//! `pktforge trace` in the lab, against Linux routers and Linux's own traceroute.

mod common;

use common::{pktforge, stderr, stdout};
use pktforge::lab::{Host, Lab};

const B: &str = "203.0.113.2";

/// Real routers rate-limit ICMP errors (a burst of 6 per peer, then 1/s); tests that trace
/// more than once turn that off so each run sees every Time Exceeded.
fn lab_without_icmp_ratelimit() -> Lab {
    let lab = common::lab();
    for h in [Host::R1, Host::R2] {
        lab.sysctl(h, "net.ipv4.icmp_ratelimit", "0").unwrap();
    }
    lab
}

/// The responding address of each hop line (first address on the line).
fn hop_addrs(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.len() > 3 && l[..3].trim().parse::<u8>().is_ok())
        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        .collect()
}

#[test]
fn hop_list_equals_linux_traceroute() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab_without_icmp_ratelimit();
    let ours = pktforge(&lab, Host::A, &["trace", "-n", "-w", "2", B]);
    assert_eq!(ours.status.code(), Some(0), "destination reached: exit 0");
    let text = stdout(&ours);
    assert!(
        text.starts_with("traceroute to 203.0.113.2 (203.0.113.2), 30 hops max, 60 byte packets")
    );
    let linux = lab
        .exec(Host::A, "traceroute", &["-I", "-n", "-w", "2", B])
        .unwrap();
    let linux_text = String::from_utf8_lossy(&linux.stdout);
    eprintln!("linux:\n{linux_text}");
    assert_eq!(
        hop_addrs(&text),
        ["192.0.2.1", "198.51.100.2", "203.0.113.2"]
    );
    assert_eq!(hop_addrs(&text), hop_addrs(&linux_text));
    // Three timings per hop, as traceroute prints them.
    for line in text.lines().skip(1) {
        assert_eq!(line.matches(" ms").count(), 3, "{line}");
    }
}

#[test]
fn record_route_shows_the_route_quoted_in_each_time_exceeded() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab_without_icmp_ratelimit();
    let out = pktforge(
        &lab,
        Host::A,
        &["trace", "-n", "-q", "1", "-w", "2", "-R", B],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let rr: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("RR:"))
        .collect();
    assert_eq!(rr.len(), 3, "one RR line per hop");
    // r1 quotes our header after recording itself: a's origin record, then r1.
    assert_eq!(rr[0].trim(), "RR: 192.0.2.2 192.0.2.1");
    assert!(
        rr[1].trim().starts_with("RR: 192.0.2.2 198.51.100.1"),
        "{}",
        rr[1]
    );
    assert!(
        rr[2].contains("203.0.113.2 203.0.113.2"),
        "b records itself in and out: {}",
        rr[2]
    );
}

#[test]
fn loose_source_route_trace_reaches_the_destination() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab_without_icmp_ratelimit();
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "trace",
            "-n",
            "-q",
            "1",
            "-w",
            "2",
            "--lsrr",
            "198.51.100.2",
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        hop_addrs(&stdout(&out)),
        ["192.0.2.1", "198.51.100.2", "203.0.113.2"]
    );
}

#[test]
fn an_unreachable_ends_the_trace_with_its_marker() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab_without_icmp_ratelimit();
    lab.ip(
        Host::R2,
        &["route", "add", "unreachable", "203.0.113.200/32"],
    )
    .unwrap();
    let out = pktforge(
        &lab,
        Host::A,
        &["trace", "-n", "-q", "2", "-w", "2", "203.0.113.200"],
    );
    assert_eq!(out.status.code(), Some(1), "not reached: exit 1");
    let text = stdout(&out);
    let last = text.lines().last().unwrap();
    assert!(last.starts_with(" 2  198.51.100.2"), "{text}");
    assert!(last.contains("!H"), "host unreachable marker: {last}");
}

#[test]
fn json_gives_one_object_per_hop() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab_without_icmp_ratelimit();
    let out = pktforge(&lab, Host::A, &["trace", "-q", "1", "-w", "2", "--json", B]);
    assert_eq!(out.status.code(), Some(0));
    let objs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = objs.iter().map(|o| o["type"].as_str().unwrap()).collect();
    // Requests interleave with hops (each probe is logged when it leaves): set them aside.
    let requests = kinds.iter().filter(|k| **k == "request").count();
    let objs: Vec<&serde_json::Value> = objs.iter().filter(|o| o["type"] != "request").collect();
    let kinds: Vec<&str> = objs.iter().map(|o| o["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["start", "hop", "hop", "hop", "summary"]);
    assert_eq!(objs[1]["probes"][0]["from"], "192.0.2.1");
    assert_eq!(objs[4]["reached"], true);
    assert_eq!(objs[4]["sent"], requests as u64);
}

#[test]
fn impossible_ttl_ranges_are_refused() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(&lab, Host::A, &["trace", "-f", "10", "-m", "5", B]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-f 10 is beyond -m 5"));
    for bad in [["-f", "0"], ["-m", "256"]] {
        let out = pktforge(&lab, Host::A, &["trace", bad[0], bad[1], B]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            stderr(&out).contains("1..=255") || stderr(&out).contains("1..256"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn traceroute_letters_i_for_the_interface_and_capital_i_for_icmp() {
    if !common::can_run_lab() {
        return;
    }
    let lab = lab_without_icmp_ratelimit();
    let args = ["-I", "-i", Lab::A_IFACE, "-n", "-q", "1", "-w", "2", B];
    let linux = lab.exec(Host::A, "traceroute", &args).unwrap();
    let linux_text = String::from_utf8_lossy(&linux.stdout);
    eprintln!("linux:\n{linux_text}");
    let mut ours = vec!["trace"];
    ours.extend(args);
    let out = pktforge(&lab, Host::A, &ours);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(hop_addrs(&stdout(&out)), hop_addrs(&linux_text));
    assert_eq!(
        hop_addrs(&stdout(&out)),
        ["192.0.2.1", "198.51.100.2", "203.0.113.2"]
    );
    // The long names still work.
    let long = pktforge(
        &lab,
        Host::A,
        &[
            "trace",
            "--icmp",
            "--interface",
            Lab::A_IFACE,
            "-n",
            "-q",
            "1",
            B,
        ],
    );
    assert_eq!(long.status.code(), Some(0), "{}", stderr(&long));
    // -i names an interface: one that does not exist is refused.
    let bad = pktforge(&lab, Host::A, &["trace", "-i", "nosuch0", "-n", B]);
    assert_ne!(bad.status.code(), Some(0));
    assert!(stderr(&bad).contains("nosuch0"), "{}", stderr(&bad));
}
