//! The lab itself behaves as the README says, checked with the kernel's own tools.

mod common;

use pktforge::lab::Host;

#[test]
fn lab_forwards_and_records_routes_like_testing_md_says() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = lab
        .exec(
            Host::A,
            "ping",
            &["-c", "1", "-W", "2", "-R", "203.0.113.2"],
        )
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert!(out.status.success(), "linux ping across the lab failed");
    assert!(
        text.contains("ttl=62"),
        "two routers decrement the TTL twice"
    );
    let rr: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("RR:"))
        .take(8)
        .map(|l| l.trim_start_matches("RR:").trim())
        .collect();
    assert_eq!(rr, common::LINUX_RR_A_TO_B);
}

#[test]
fn lab_down_removes_every_namespace() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let names: Vec<String> = Host::ALL.iter().map(|h| lab.ns(*h)).collect();
    drop(lab);
    for n in names {
        assert!(
            !std::path::Path::new("/var/run/netns").join(&n).exists(),
            "{n} left behind"
        );
    }
}
