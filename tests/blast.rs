//! `pktforge blast` across the namespace lab: real kernel responders, two routers.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{pktforge, stderr, stdout};
use pktforge::lab::{Host, Lab};

const B: &str = "203.0.113.2";

fn json(out: &std::process::Output) -> serde_json::Value {
    let text = stdout(out);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON summary in {text:?}"));
    serde_json::from_str(line).expect("summary is valid JSON")
}

fn tx_packets(lab: &Lab) -> u64 {
    let out = lab
        .exec(
            Host::A,
            "cat",
            &["/sys/class/net/a-r1/statistics/tx_packets"],
        )
        .unwrap();
    stdout(&out).trim().parse().unwrap()
}

fn check_consistent(s: &serde_json::Value, sent: u64) {
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} missing: {s}"));
    assert_eq!(n("sent"), sent);
    assert!(n("received") > 0);
    assert_eq!(n("received") + n("lost"), n("sent"));
    assert!(s["error"].is_null(), "{s}");
    for k in [
        "duplicates",
        "out_of_order",
        "late",
        "corrupt",
        "dropped_by_kernel",
    ] {
        n(k);
    }
    let r = &s["rtt_us"];
    let f = |k: &str| {
        r[k].as_f64()
            .unwrap_or_else(|| panic!("rtt {k} missing: {s}"))
    };
    assert!(f("min") > 0.0);
    assert!(f("min") <= f("p50") && f("p50") <= f("p90") && f("p90") <= f("p99"));
    assert!(f("p99") <= f("p999") && f("p999") <= f("max"));
    let hist: u64 = s["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        hist,
        n("received"),
        "the histogram holds every matched reply"
    );
    assert!(s["achieved_rate"].as_f64().unwrap() > 0.0);
    assert!(s["jitter_us"].as_f64().is_some());
}

#[test]
fn blast_matches_every_reply_across_two_routers() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &["blast", "--count", "2000", "--rate", "10000", "--json", B],
    );
    assert_eq!(out.status.code(), Some(0));
    let s = json(&out);
    check_consistent(&s, 2000);
    assert_eq!(s["backend"], "fast");
    assert_eq!(s["tx_mode"], "af_xdp", "auto settles on AF_XDP on veth");
    assert_eq!(s["iface"], "a-r1");
    assert_eq!(s["asked_rate"].as_f64(), Some(10000.0));
    // Kernel responders on an idle lab: nothing should be lost, duplicated or reordered.
    assert!(s["lost"].as_u64().unwrap() <= 20, "{s}");
    assert_eq!(s["duplicates"], 0);
    assert_eq!(s["corrupt"], 0);
}

#[test]
fn blast_text_summary_histogram_and_plot() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let dir = std::env::temp_dir().join(format!("pfblast-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plot = dir.join("rtt.svg");
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "blast",
            "-c",
            "500",
            "-r",
            "5000",
            "-s",
            "100",
            "-R",
            "--plot",
            plot.to_str().unwrap(),
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("--- 203.0.113.2 blast statistics ---"));
    assert!(text.contains("500 sent, "));
    assert!(text.contains("rtt us: min "));
    assert!(text.contains("p99.9"));
    assert!(text.contains("jitter"));
    assert!(
        text.lines().any(|l| l.contains(" us ") && l.ends_with('#')),
        "text histogram"
    );
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline") && svg.contains("<rect"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn blast_pnet_backend_and_every_fast_tx_mode_work_too() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    for args in [
        &["--backend", "pnet"][..],
        &["--backend", "fast", "--tx-mode", "sendmmsg"][..],
        &["--backend", "fast", "--tx-mode", "ring"][..],
        &["--backend", "fast", "--tx-mode", "xdp"][..],
    ] {
        let mut all = vec!["blast", "-c", "500", "-r", "5000", "--json"];
        all.extend_from_slice(args);
        all.push(B);
        let out = pktforge(&lab, Host::A, &all);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let s = json(&out);
        check_consistent(&s, 500);
        if args.contains(&"xdp") {
            assert_eq!(s["tx_mode"], "af_xdp", "AF_XDP copy mode binds on veth");
        }
    }
    // The default (auto) settles on AF_XDP here and says so.
    let out = pktforge(
        &lab,
        Host::A,
        &["blast", "-c", "200", "-r", "5000", "--json", B],
    );
    assert_eq!(json(&out)["tx_mode"], "af_xdp");
}

#[test]
fn blast_refuses_bad_input_before_sending() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // Keep the kernel's own IPv6 chatter (router solicitations, MLD) off the counter we read.
    lab.sysctl(Host::A, "net.ipv6.conf.a-r1.disable_ipv6", "1")
        .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--rate", "0", "-c", "5"], "more than 0"),
        (&["--rate=-100", "-c", "5"], "more than 0"),
        (&["--rate", "fast", "-c", "5"], "max"),
        (&[], "--count N or --duration"),
        (&["-c", "0"], "at least 1"),
        (&["-c", "5", "--threads", "2"], "transmit queue"),
        (
            &["-c", "5", "--threads", "2", "--backend", "pnet"],
            "--backend fast",
        ),
        (&["-c", "5", "-s", "1473"], "the largest -s here is 1472"),
        (&["-c", "5", "-s", "8"], "at least 16"),
        (&["-c", "5", "--duration", "0"], "more than 0"),
    ];
    for (args, needle) in cases {
        let before = tx_packets(&lab);
        let mut all = vec!["blast"];
        all.extend_from_slice(args);
        all.push(B);
        let out = pktforge(&lab, Host::A, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(needle),
            "{args:?}: expected {needle:?} in {err}"
        );
        assert_eq!(tx_packets(&lab), before, "{args:?}: nothing may be sent");
    }
}

#[test]
fn interface_going_down_ends_the_blast_with_an_error_and_a_summary() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let ns = lab.ns(Host::A);
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            env!("CARGO_BIN_EXE_pktforge"),
            "blast",
            "--duration",
            "3",
            "--rate",
            "5000",
            "--json",
            B,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(700));
    lab.ip(Host::A, &["link", "set", "a-r1", "down"]).unwrap();
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    eprintln!("took {took:?}\n{}\n{}", stdout(&out), stderr(&out));
    assert!(took < Duration::from_secs(20), "no hang");
    assert_eq!(out.status.code(), Some(2), "an error exit");
    let s = json(&out);
    assert!(
        s["sent"].as_u64().unwrap() > 0,
        "the summary of what was sent"
    );
    assert!(s["received"].as_u64().unwrap() > 0);
    let e = s["error"].as_str().expect("the summary names the error");
    assert!(e.contains("a-r1"), "{e}");
    assert!(
        stderr(&out).contains("pktforge: "),
        "the error is printed too"
    );
}

/// `Icmp: InEchos` of the host's /proc/net/snmp: echo requests its kernel received.
fn in_echos(lab: &Lab, host: Host) -> u64 {
    let out = lab.exec(host, "cat", &["/proc/net/snmp"]).unwrap();
    let text = stdout(&out);
    let mut rows = text.lines().filter(|l| l.starts_with("Icmp:"));
    let (names, values) = (rows.next().unwrap(), rows.next().unwrap());
    let i = names
        .split_whitespace()
        .position(|n| n == "InEchos")
        .unwrap();
    values.split_whitespace().nth(i).unwrap().parse().unwrap()
}

/// Run blast in A's namespace; its JSON summary and its resource usage (wait4: every thread).
#[allow(clippy::zombie_processes)] // reaped by wait4, which also returns its rusage
fn blast_with_rusage(lab: &Lab, args: &[&str]) -> (serde_json::Value, libc::rusage) {
    use std::io::Read;
    let ns = lab.ns(Host::A);
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns, env!("CARGO_BIN_EXE_pktforge")])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pktforge");
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // `ip netns exec` execs pktforge in place: this child is the sender.
    let mut status = 0;
    // SAFETY: plain out-parameters for our own child, reaped once here.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
    eprintln!(
        "$ pktforge {}\n{out}{err}voluntary context switches {}, involuntary {}",
        args.join(" "),
        ru.ru_nvcsw,
        ru.ru_nivcsw
    );
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status}: {err}"
    );
    let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap();
    (serde_json::from_str(line).unwrap(), ru)
}

/// A paced blast sleeps before its departures instead of spinning: at 10 kpps (100 µs between
/// frames) its sender blocks in the kernel before each frame, which the kernel counts as a
/// voluntary context switch of the process (`ru_nvcsw`), whether one send may carry 1 frame or
/// 64. A sender that spins until each departure (as blast did below a 200 µs gap) switches
/// only for its periodic waits, a few dozen times. And every request reaches the far host
/// (counted by its kernel).
#[test]
fn a_paced_blast_sleeps_between_departures_and_delivers_every_frame() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    for batch in ["1", "64"] {
        let count = 3000u64;
        let before = in_echos(&lab, Host::B);
        let (s, ru) = blast_with_rusage(
            &lab,
            &[
                "blast", "--count", "3000", "--rate", "10000", "--batch", batch, "--json", B,
            ],
        );
        check_consistent(&s, count);
        assert_eq!(s["asked_rate"].as_f64(), Some(10000.0));
        assert_eq!(
            in_echos(&lab, Host::B) - before,
            count,
            "--batch {batch}: B's kernel received every request"
        );
        assert!(
            ru.ru_nvcsw as u64 >= count / 2,
            "--batch {batch}: the sender slept {} times for {count} frames: it spins between departures",
            ru.ru_nvcsw
        );
    }
}
