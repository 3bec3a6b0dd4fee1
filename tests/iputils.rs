//! pktforge ping beside iputils ping on the same lab path: same lines, same exit codes (times
//! and the header, which names the interface pktforge picked, aside).

mod common;

use pktforge::lab::{Host, Lab};

/// Output lines with every time value blanked, header dropped.
fn timeless(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .map(|l| {
            let mut out = Vec::new();
            for w in l.split(' ') {
                if let Some(i) = w.find("time") {
                    out.push(format!("{}time=?", &w[..i]));
                } else if w.ends_with("ms") && w.chars().next().is_some_and(|c| c.is_ascii_digit())
                {
                    out.push("?ms".into());
                } else {
                    out.push(w.to_string());
                }
            }
            out.join(" ")
        })
        .collect()
}

fn both(lab: &Lab, args: &[&str]) -> (std::process::Output, std::process::Output) {
    let linux = lab.exec(Host::A, "ping", args).unwrap();
    let mut ours = vec!["ping"];
    ours.extend(args);
    let pf = common::pktforge(lab, Host::A, &ours);
    eprintln!("iputils:\n{}", String::from_utf8_lossy(&linux.stdout));
    (linux, pf)
}

#[test]
fn an_on_link_host_that_never_answers_arp_looks_as_in_iputils() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let (linux, pf) = both(&lab, &["-c", "3", "192.0.2.99"]);
    assert_eq!(pf.status.code(), linux.status.code());
    assert_eq!(pf.status.code(), Some(1));
    let l = timeless(&String::from_utf8_lossy(&linux.stdout));
    let p = timeless(&common::stdout(&pf));
    assert_eq!(p, l);
    assert!(p
        .iter()
        .any(|l| l == "From 192.0.2.2 icmp_seq=3 Destination Host Unreachable"));
}

#[test]
fn a_deadline_that_cuts_the_count_short_exits_1_as_in_iputils() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let (linux, pf) = both(&lab, &["-c", "5", "-i", "0.5", "-w", "1", "203.0.113.2"]);
    assert_eq!(linux.status.code(), Some(1));
    assert_eq!(pf.status.code(), Some(1));
    let (linux, pf) = both(&lab, &["-c", "2", "-i", "0.2", "-w", "3", "203.0.113.2"]);
    assert_eq!(linux.status.code(), Some(0));
    assert_eq!(pf.status.code(), Some(0));
}

#[test]
fn unrecorded_hops_match_iputils_for_every_timestamp_flavour() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let unrecorded = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("Unrecorded hops"))
            .map(String::from)
            .collect()
    };
    for (ours, linux) in [
        (vec!["--timestamp", "tsonly"], vec!["-T", "tsonly"]),
        (vec!["--timestamp", "tsandaddr"], vec!["-T", "tsandaddr"]),
        (
            vec!["--timestamp", "tsprespec=198.51.100.1,203.0.113.2"],
            vec!["-T", "tsprespec", "198.51.100.1", "203.0.113.2"],
        ),
    ] {
        let mut l = vec!["-c", "1"];
        l.extend(&linux);
        l.push("203.0.113.2");
        let linux = lab.exec(Host::A, "ping", &l).unwrap();
        let mut p = vec!["ping", "-c", "1"];
        p.extend(&ours);
        p.push("203.0.113.2");
        let pf = common::pktforge(&lab, Host::A, &p);
        assert_eq!(
            unrecorded(&common::stdout(&pf)),
            unrecorded(&String::from_utf8_lossy(&linux.stdout)),
            "{ours:?}"
        );
    }
}

#[test]
fn hex_is_accepted_wherever_a_number_is() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = common::pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "0x2",
            "-i",
            "0.2",
            "-s",
            "0x40",
            "-l",
            "0x1",
            "--id",
            "0x4242",
            "203.0.113.2",
        ],
    );
    let text = common::stdout(&out);
    assert!(text.contains("64(92) bytes of data."), "{text}");
    assert!(text.contains("2 packets transmitted, 2 received"), "{text}");
    let out = common::pktforge(&lab, Host::A, &["timestamp", "-c", "0x1", "203.0.113.2"]);
    assert_eq!(out.status.code(), Some(0));
}
