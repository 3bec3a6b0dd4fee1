//! Impossible requests are refused before anything is sent, with a message naming the limit.

mod common;

use common::{pktforge, stderr, stdout};
use pktforge::lab::Host;

const B: &str = "203.0.113.2";

/// Runs pktforge in a's namespace and expects exit 2, nothing sent, and `needle` in the error.
fn refused(lab: &pktforge::lab::Lab, args: &[&str], needle: &str) {
    let out = pktforge(lab, Host::A, args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "exit 2 for: {args:?}");
    assert!(
        err.contains(needle),
        "error for {args:?} should say {needle:?}: {err}"
    );
    assert!(!stdout(&out).contains("bytes from"), "nothing was answered");
}

#[test]
fn limits_and_malformed_values_are_refused_with_the_limit_named() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let ten = (1..=10)
        .map(|i| format!("198.51.100.{i}"))
        .collect::<Vec<_>>()
        .join(",");
    refused(
        &lab,
        &["ping", "-c", "1", "--lsrr", &ten, B],
        "at most 9 hops",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "--ssrr", &ten, B],
        "at most 9 hops",
    );
    let nops41 = "01".repeat(41);
    refused(
        &lab,
        &["ping", "-c", "1", "--ip-option", &nops41, B],
        "40 bytes",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "-R", "--ip-option", &"01".repeat(38), B],
        "40 bytes",
    );
    refused(
        &lab,
        // Over the MTU is fragmented (tests/fragments.rs); with Don't Fragment it is refused.
        &["ping", "-c", "1", "--df", "-s", "1500", B],
        "the largest -s here is 1472",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "--df", "-R", "-s", "1500", B],
        "the largest -s here is 1432",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "-R", "-s", "65500", B],
        "the largest -s here is 65467",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "-I", "nosuch0", B],
        "interface \"nosuch0\" not found",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "300.1.2.3"],
        "not an IPv4 address",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "--lsrr", "198.51.100", B],
        "is not an IPv4 address",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "--dst-mac", "02:00:00:00:00:01:07", B],
        "6 octets",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "--src-mac", "02:zz:00:00:00:01", B],
        "MAC",
    );
    refused(
        &lab,
        &["ping", "-c", "1", "-p", "abc", B],
        "odd number of digits",
    );
    refused(&lab, &["ping", "-c", "0", B], "at least 1");
    refused(
        &lab,
        &["ping", "-c", "1", "--timestamp", "tsbogus", B],
        "tsonly",
    );
}

#[test]
fn ttl_out_of_range_is_refused_by_the_parser() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    for ttl in ["0", "256"] {
        let out = pktforge(&lab, Host::A, &["ping", "-c", "1", "-t", ttl, B]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("1..=255") || stderr(&out).contains("1..256"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn unreachable_destination_is_refused_with_the_kernels_reason() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    lab.ip(
        Host::A,
        &["route", "add", "unreachable", "203.0.113.200/32"],
    )
    .unwrap();
    refused(
        &lab,
        &["ping", "-c", "1", "203.0.113.200"],
        "no route to 203.0.113.200",
    );
    // r1 without its route to b's network has no route at all (no default either).
    lab.ip(Host::R1, &["route", "del", "203.0.113.0/24"])
        .unwrap();
    let out = pktforge(&lab, Host::R1, &["ping", "-c", "1", B]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no route to 203.0.113.2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn silent_next_hop_gives_an_arp_timeout_naming_address_and_interface() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // ping keeps trying, as iputils does (tests/iputils.rs); the other probers refuse.
    refused(
        &lab,
        &["timestamp", "-c", "1", "--arp-timeout", "0.5", "192.0.2.77"],
        "no ARP reply for 192.0.2.77 on a-r1 within 500 ms",
    );
}

#[test]
fn without_cap_net_raw_the_error_says_how_to_grant_it() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = lab
        .exec(
            Host::A,
            "setpriv",
            &[
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                env!("CARGO_BIN_EXE_pktforge"),
                "ping",
                "-c",
                "1",
                B,
            ],
        )
        .unwrap();
    let err = stderr(&out);
    eprintln!("{err}");
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("CAP_NET_RAW"), "{err}");
    assert!(err.contains("setcap cap_net_raw,cap_net_admin+ep"), "{err}");
}

/// Like [`refused`], with a's outgoing frame counter unchanged (no ARP, no probe).
fn refused_silently(lab: &pktforge::lab::Lab, args: &[&str], needle: &str) {
    let tx = || {
        let out = lab
            .exec(
                Host::A,
                "cat",
                &["/sys/class/net/a-r1/statistics/tx_packets"],
            )
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // No IPv6 chatter (router solicitations, MLD) on the counter; an empty neighbour cache,
    // so that a run that got as far as the path would ARP.
    lab.exec(
        Host::A,
        "sysctl",
        &["-qw", "net.ipv6.conf.all.disable_ipv6=1"],
    )
    .unwrap();
    lab.exec(Host::A, "ip", &["neigh", "flush", "all"]).unwrap();
    let before = tx();
    refused(lab, args, needle);
    assert_eq!(tx(), before, "nothing sent for {args:?}");
}

#[test]
fn iputils_limits_are_refused_with_the_limit_named() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    refused_silently(&lab, &["ping", "-c", "1", "-s", "65508", B], "65507");
    refused_silently(
        &lab,
        &["send", "--fragment", "7", B],
        "--fragment 7 is not a multiple of 8",
    );
    refused_silently(
        &lab,
        &["send", "--fragment", "16", "--fragment-overlap", "16", B],
        "below the fragment size 16",
    );
    refused_silently(&lab, &["ping", "-c", "1", "-l", "5000", B], "1..=1024");
    refused_silently(&lab, &["ping", "-c", "1", "-l", "0", B], "-l");
    refused_silently(
        &lab,
        &["ping", "-c", "1", "-M", "do", "-s", "1473", B],
        "the largest -s here is 1472",
    );
    // A broadcast destination without -b: refused before its first request.
    refused_silently(&lab, &["ping", "-c", "1", "192.0.2.255"], "-b");
    refused_silently(
        &lab,
        &["ping", "-c", "1", "-I", "198.51.100.77", B],
        "no interface has the address",
    );
    // iputils' rule for a user who is not root: no interval under 2 ms, flood or not.
    for args in [
        vec!["ping", "-f", "-i", "0.001", "-c", "1", B],
        vec!["ping", "-i", "0.0005", "-c", "1", B],
    ] {
        let out = lab
            .exec(
                Host::A,
                "setpriv",
                &[
                    &[
                        "--reuid=65534",
                        "--regid=65534",
                        "--clear-groups",
                        env!("CARGO_BIN_EXE_pktforge"),
                    ][..],
                    &args[..],
                ]
                .concat(),
            )
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("-i") && err.contains("2 ms"), "{err}");
    }
}
