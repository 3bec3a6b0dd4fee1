//! `pktforge reflect` in the lab: a user-space responder in b for 203.0.113.9, an address the
//! kernel does not own, answering a's probes through both Linux routers.

mod common;

use common::{pktforge, stderr, stdout};
use pktforge::lab::Host;

const R: &str = "203.0.113.9";

#[test]
fn reflector_answers_ping_timestamp_mask_and_solicitations() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // 2 pings + 1 LSRR ping + 1 timestamp + 1 mask = 5 answers, then it stops by itself.
    let child = common::start_reflector(
        &lab,
        &[
            "--mask",
            "/24",
            "--advertise",
            "--preference",
            "7",
            "--count",
            "5",
            "--duration",
            "20",
        ],
    );

    // rsol from r2's side of b's link finds the advertising reflector.
    let out = pktforge(
        &lab,
        Host::R2,
        &["rsol", "-I", "r2-b", "-c", "1", "-W", "1"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("bytes from 203.0.113.9"), "{text}");
    assert!(text.contains("router 203.0.113.9  preference 7"), "{text}");
    assert!(text.contains("advertisement(s) from 1 router(s)"), "{text}");

    // Echo with record route: the reflector records itself in and out, like Linux's b.
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "2", "-i", "0.2", "-W", "2", "-R", R],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("2 received"));
    let rr: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("RR:"))
        .take(8)
        .map(|l| l.trim_start_matches("RR:").trim().to_string())
        .collect();
    assert_eq!(
        rr,
        [
            "192.0.2.2",
            "198.51.100.1",
            "203.0.113.1",
            "203.0.113.9",
            "203.0.113.9",
            "198.51.100.2",
            "192.0.2.1",
            "192.0.2.2"
        ]
    );

    // Loose source route via r2: the reply comes back along the reversed route through r2.
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "1", "-W", "2", "--lsrr", "198.51.100.2", R],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("LSRR: \t198.51.100.2"),
        "{}",
        stdout(&out)
    );

    let out = pktforge(&lab, Host::A, &["timestamp", "-c", "1", R]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("20 bytes from 203.0.113.9: icmp_seq=1"));

    let out = pktforge(&lab, Host::A, &["mask", "-c", "1", R]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("mask 255.255.255.0 (/24)"));

    // The reflector stopped by itself after 5 answers and reports its counters.
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success());
    let c: serde_json::Value = String::from_utf8_lossy(&done.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap();
    eprintln!("{c}");
    assert_eq!(c["echo_replies"], 3);
    assert_eq!(c["timestamp_replies"], 1);
    assert_eq!(c["mask_replies"], 1);
    assert!(
        c["advertisements"].as_u64().unwrap() >= 2,
        "one unsolicited + one solicited"
    );
    assert!(
        c["arp_replies"].as_u64().unwrap() >= 1,
        "r2 asked who has 203.0.113.9"
    );
    assert_eq!(c["would_amplify"], 0);
}

#[test]
fn reflector_refuses_bad_configurations() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            "b-r2",
            "--ip",
            "203.0.113.2",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the kernel would answer too"),
        "{}",
        stderr(&out)
    );
    let out = pktforge(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            "b-r2",
            "--ip",
            "203.0.113.9",
            "--mask",
            "255.0.255.0",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not contiguous"), "{}", stderr(&out));
    let out = pktforge(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            "nosuch0",
            "--ip",
            "203.0.113.9",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}
