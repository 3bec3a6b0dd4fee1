//! Replies that must not count: a bad checksum (shown as iputils shows it), and a forged or late
//! echo reply to a trace probe already answered by a Time Exceeded.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use pktforge::lab::{Host, Lab};

const B: &str = "203.0.113.2";

fn quiet_b(lab: &Lab) {
    lab.exec(
        Host::B,
        "sysctl",
        &["-qw", "net.ipv4.icmp_echo_ignore_all=1"],
    )
    .unwrap();
}

fn spawn_a(lab: &Lab, args: &[&str]) -> std::process::Child {
    Command::new("ip")
        .args(["netns", "exec", &lab.ns(Host::A)])
        .arg(env!("CARGO_BIN_EXE_pktforge"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// From b: an echo reply to a with the given id and seq (and a wrong checksum, if given).
fn forge_reply(lab: &Lab, id: u16, seq: u16, bad_sum: bool) {
    let (id, seq) = (id.to_string(), seq.to_string());
    let mut args = vec![
        "send",
        "--icmp-type",
        "0",
        "--icmp-id",
        &id,
        "--icmp-seq",
        &seq,
    ];
    if bad_sum {
        args.extend(["--icmp-checksum", "0x1234"]);
    }
    args.push("192.0.2.2");
    let out = common::pktforge(lab, Host::B, &args);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_reply_with_a_bad_checksum_is_shown_and_not_counted() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    quiet_b(&lab);
    let child = spawn_a(&lab, &["ping", "-c", "1", "-W", "3", "--id", "0x4242", B]);
    std::thread::sleep(Duration::from_millis(500));
    forge_reply(&lab, 0x4242, 1, true);
    let out = child.wait_with_output().unwrap();
    let text = common::stdout(&out);
    eprintln!("{text}");
    assert!(
        text.contains("icmp_seq=1 ttl=62") && text.contains("(BAD CHECKSUM!)"),
        "{text}"
    );
    assert!(text.contains("1 packets transmitted, 0 received, 100% packet loss"));
    assert_eq!(out.status.code(), Some(1), "no good reply: exit 1");
}

#[test]
fn an_echo_reply_to_a_probe_already_answered_never_ends_the_trace() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    quiet_b(&lab);
    // Hops 1 and 2 answer at once; b stays silent, so TTL 3 waits its 2 s.
    let child = spawn_a(
        &lab,
        &["trace", "-q", "1", "-w", "2", "-N", "1", "-m", "4", B],
    );
    let id = (child.id() & 0xffff) as u16; // ip netns exec execs: this is pktforge's pid
    std::thread::sleep(Duration::from_millis(700));
    forge_reply(&lab, id, 1, false); // "answers" the TTL-1 probe, already settled
    let out = child.wait_with_output().unwrap();
    let text = common::stdout(&out);
    eprintln!("{text}");
    let hops: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("    "))
        .collect();
    // Under the first `*` row, once: why a `*` may not be a loss.
    assert_eq!(text.matches("net.ipv4.icmp_ratelimit").count(), 1, "{text}");
    assert!(hops[0].starts_with(" 1  192.0.2.1"), "{text}");
    assert!(hops[1].starts_with(" 2  198.51.100.2"), "{text}");
    assert!(
        hops[2].starts_with(" 3  *") && hops[3].starts_with(" 4  *"),
        "{text}"
    );
    assert_eq!(hops.len(), 4, "{text}");
}
