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

/// `Lab::up_dual` (what `pktforge lab up` builds): iputils `ping -6` from a reaches b through both
/// routers (hop limit 64 less two), r1 by its global and link-local address, and the ICMPv6 rate
/// limit is off in every namespace; the IPv4-only lab keeps IPv6 off.
#[test]
fn dual_stack_lab_pings_over_ipv6_through_both_routers() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab_dual();
    let ping6 = |host: Host, args: &[&str]| {
        let out = lab.exec(host, "ping", args).unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!(
            "ping {args:?}\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = ping6(
        Host::A,
        &["-6", "-n", "-c", "2", "-W", "2", "2001:db8:3::2"],
    );
    assert!(ok, "linux ping -6 across the lab failed");
    assert!(text.contains("from 2001:db8:3::2"), "{text}");
    assert!(
        text.contains("ttl=62"),
        "two routers decrement the hop limit"
    );
    let (ok, text) = ping6(
        Host::B,
        &["-6", "-n", "-c", "1", "-W", "2", "2001:db8:1::2"],
    );
    assert!(ok && text.contains("ttl=62"), "{text}");
    let (ok, _) = ping6(
        Host::A,
        &["-6", "-n", "-c", "1", "-W", "2", "2001:db8:1::1"],
    );
    assert!(ok, "r1's address on a's link");
    let (ok, text) = ping6(Host::A, &["-6", "-n", "-c", "1", "-W", "2", "ff02::1%a-r1"]);
    assert!(
        ok && text.contains("from fe80::"),
        "link-local answers: {text}"
    );
    for host in Host::ALL {
        let out = lab
            .exec(host, "sysctl", &["-n", "net.ipv6.icmp.ratelimit"])
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{host:?}");
    }
    for host in [Host::R1, Host::R2] {
        let out = lab
            .exec(host, "sysctl", &["-n", "net.ipv6.conf.all.forwarding"])
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{host:?}");
    }
    assert!(lab.is_dual());
    assert!(lab.describe().contains("2001:db8:3::2"));

    let v4 = common::lab();
    let out = v4.exec(Host::A, "ip", &["-6", "addr", "show"]).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("inet6"), "the IPv4 lab has no IPv6: {text}");
}

/// `pktforge lab up` builds the dual-stack lab.
#[test]
fn lab_up_command_is_dual_stack() {
    if !common::can_run_lab() {
        return;
    }
    let prefix = format!("pfN{}u", std::process::id());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args(["lab", "up", "--prefix", &prefix])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let addrs = pktforge::lab::netns::exec(&format!("{prefix}-b"), "ip", &["-6", "addr"]);
    pktforge::lab::Lab::down(&prefix);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("2001:db8:1::2/64"), "{text}");
    let addrs = String::from_utf8_lossy(&addrs.unwrap().stdout).into_owned();
    assert!(addrs.contains("2001:db8:3::2/64"), "{addrs}");
}
