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

/// The body of a ping's output (header and summary times aside) with each option line reduced
/// to its addresses (a number that is not an address becomes `N`), blank lines kept.
fn option_shape(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter(|l| !l.starts_with("rtt ") && !l.contains("packets transmitted"))
        .map(|l| {
            if l.starts_with("64 bytes") {
                // The reply line: what follows the time (e.g. `\t(same route)`).
                return format!("reply{}", l.split(" ms").nth(1).unwrap_or(""));
            }
            l.split('\t')
                .map(|f| match f.trim().parse::<std::net::Ipv4Addr>() {
                    Ok(a) => a.to_string(),
                    Err(_) if f.trim().starts_with(|c: char| c.is_ascii_digit()) => "N".into(),
                    Err(_) => f.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect()
}

#[test]
fn repeated_routes_print_same_route_on_the_reply_line_as_in_iputils() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let (linux, pf) = both(&lab, &["-R", "-c", "3", "-i", "0.2", "203.0.113.2"]);
    assert_eq!(pf.status.code(), Some(0));
    let l = option_shape(&String::from_utf8_lossy(&linux.stdout));
    let p = option_shape(&common::stdout(&pf));
    assert_eq!(p, l);
    assert_eq!(
        p.iter().filter(|l| *l == "reply\t(same route)").count(),
        2,
        "{p:?}"
    );
    // The route block is followed by a blank line.
    let rr_end = p.iter().position(|l| l == "\t192.0.2.2").unwrap();
    assert_eq!(p[rr_end + 1], "", "{p:?}");
}

#[test]
fn timestamp_option_as_iputils_spells_it() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    for args in [
        vec!["-T", "tsonly"],
        vec!["-T", "tsandaddr"],
        vec!["-T", "tsprespec", "198.51.100.1", "203.0.113.2"],
    ] {
        let mut a = vec!["-c", "1"];
        a.extend(&args);
        a.push("203.0.113.2");
        let (linux, pf) = both(&lab, &a);
        assert_eq!(
            pf.status.code(),
            Some(0),
            "{args:?}: {}",
            common::stderr(&pf)
        );
        let l = option_shape(&String::from_utf8_lossy(&linux.stdout));
        let p = option_shape(&common::stdout(&pf));
        assert!(p.iter().any(|l| l.starts_with("TS: ")), "{args:?}: {p:?}");
        assert_eq!(p, l, "{args:?}");
    }
    // Today's spelling still works; addresses before the host without tsprespec are refused.
    let old = common::pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "1",
            "--timestamp",
            "tsprespec=198.51.100.1",
            "203.0.113.2",
        ],
    );
    assert_eq!(old.status.code(), Some(0));
    let bad = common::pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "1",
            "-T",
            "tsonly",
            "198.51.100.1",
            "203.0.113.2",
        ],
    );
    assert_eq!(bad.status.code(), Some(2), "refused as bad input");
    assert!(common::stderr(&bad).contains("tsprespec"));
    let five = common::pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "1",
            "-T",
            "tsprespec",
            "192.0.2.1",
            "192.0.2.1",
            "192.0.2.1",
            "192.0.2.1",
            "192.0.2.1",
            "203.0.113.2",
        ],
    );
    assert_eq!(five.status.code(), Some(2));
    assert!(common::stderr(&five).contains("1 to 4"));
}

#[test]
fn sub_millisecond_intervals_see_answers_in_time() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // Each answer arrives some 10 µs after its request, long before the next one leaves. The
    // log gives each request's departure and each answer's arrival (same run): a request is
    // "no answer yet" exactly when its answer arrived after the next request left.
    let log = std::env::temp_dir().join(format!("pf-subms-{}.log", std::process::id()));
    let out = common::pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-i",
            "0.0005",
            "-O",
            "-c",
            "200",
            "--log",
            log.to_str().unwrap(),
            "203.0.113.2",
        ],
    );
    let text = common::stdout(&out);
    let log_text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert_eq!(out.status.code(), Some(0));
    let field = |l: &str, key: &str| -> Option<u64> {
        l.split(' ')
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
    };
    let mut sent = std::collections::HashMap::new();
    let mut answered = std::collections::HashMap::new();
    for l in log_text.lines() {
        let stamp = l.split(' ').next().unwrap().to_string();
        if l.contains(" request ") {
            sent.insert(field(l, "seq=").unwrap(), stamp);
        } else if l.contains(" reply ") {
            answered.entry(field(l, "seq=").unwrap()).or_insert(stamp);
        }
    }
    assert_eq!(sent.len(), 200, "{log_text}");
    // ISO 8601 stamps with microseconds order as the times do.
    let mut late: Vec<u64> = (1..200)
        .filter(|n| answered.get(n).is_none_or(|a| *a > sent[&(n + 1)]))
        .collect();
    late.sort_unstable();
    let mut said: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("no answer yet for icmp_seq="))
        .map(|n| n.parse().unwrap())
        .collect();
    said.sort_unstable();
    eprintln!("answers that arrived after the next request left: {late:?}");
    assert_eq!(said, late, "{text}");
    if late.is_empty() {
        assert!(!text.contains("pipe"), "{text}");
    }
}

#[test]
fn flood_summary_has_iputils_ipg_ewma() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let (linux, pf) = both(&lab, &["-f", "-c", "20", "-i", "0.002", "203.0.113.2"]);
    assert_eq!(pf.status.code(), Some(0));
    let shape = |text: &str| -> Vec<String> {
        let last = text.lines().last().unwrap_or("").to_string();
        last.split(", ")
            .map(|item| item.split(' ').next().unwrap_or("").to_string())
            .collect()
    };
    let l = shape(&String::from_utf8_lossy(&linux.stdout));
    let p = shape(&common::stdout(&pf));
    assert_eq!(p, l);
    assert_eq!(p.last().map(String::as_str), Some("ipg/ewma"), "{p:?}");
    // ipg: the mean gap, close to the interval asked for (2 ms); the value parses as ms.
    let last = common::stdout(&pf).lines().last().unwrap().to_string();
    let ipg_ewma = last
        .split("ipg/ewma ")
        .nth(1)
        .unwrap()
        .trim_end_matches(" ms");
    let (ipg, ewma) = ipg_ewma.split_once('/').unwrap();
    assert!(ipg.parse::<f64>().unwrap() > 0.0 && ewma.parse::<f64>().unwrap() > 0.0);
}
