//! Every subcommand ends the same way on SIGTERM (what `timeout`, `kill` and systemd send):
//! summary written, pcap flushed and complete (tshark reads it to the end), nothing left
//! changed. SIGQUIT prints interim totals and the run goes on, as iputils ping does.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use pktforge::lab::{Host, Lab};

const B: &str = "203.0.113.2";

fn tempdir() -> String {
    let d = format!(
        "/tmp/pfp-signals-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run pktforge in `host` under `timeout -s TERM secs` (timeout execs nothing else: the
/// signal goes to pktforge itself).
fn under_term(lab: &Lab, host: Host, secs: &str, args: &[&str]) -> Output {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(host),
            "timeout",
            "-s",
            "TERM",
            secs,
        ])
        .arg(env!("CARGO_BIN_EXE_pktforge"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    eprintln!(
        "$ timeout -s TERM {secs} pktforge {}\nexit {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The last JSON line must be the summary, marked interrupted.
fn assert_interrupted_summary(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().expect("some output");
    let v: serde_json::Value = serde_json::from_str(last).expect("JSON line");
    assert_eq!(v["type"], "summary", "last record: {last}");
    assert_eq!(v["interrupted"], true, "{last}");
    v
}

/// tshark reads the whole file without complaint; returns its frame count.
fn tshark_frames(pcap: &str) -> usize {
    let out = Command::new("tshark")
        .args(["-r", pcap, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("tshark (installed by .ci/install)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {err}");
    assert!(!err.contains("cut short"), "truncated pcap: {err}");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn sigterm_ends_every_prober_with_its_summary_and_a_complete_pcap() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let dir = tempdir();
    let runs: [(&str, Vec<&str>); 3] = [
        ("ping", vec!["ping", "-i", "0.1", B]),
        ("timestamp", vec!["timestamp", "-c", "100", "-i", "0.1", B]),
        // r1 forwards TTL >= 2 onto r1-r2 and ARPs for nobody: the trace is still waiting.
        (
            "trace",
            vec!["trace", "-q", "1", "-w", "5", "-N", "1", "198.51.100.99"],
        ),
    ];
    for (name, args) in runs {
        let pcap = format!("{dir}/{name}.pcap");
        let mut all = args.clone();
        all.extend(["--json", "--pcap", &pcap]);
        let out = under_term(&lab, Host::A, "1.5", &all);
        assert_interrupted_summary(&out);
        let n = tshark_frames(&pcap);
        assert!(n >= 2, "{name}: {n} frames in the pcap");
        // The text form prints its summary too.
        let out = under_term(&lab, Host::A, "1", &args);
        let text = String::from_utf8_lossy(&out.stdout);
        match name {
            "trace" => assert!(text.lines().any(|l| l.starts_with(" 1 ")), "{text}"),
            _ => assert!(text.contains("statistics ---"), "{name}: {text}"),
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigterm_ends_capture_send_blast_and_reflect_with_their_summaries() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let dir = tempdir();
    // Traffic for the capture and the reflector to see.
    let bg = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(Host::A),
            "ping",
            "-c",
            "30",
            "-i",
            "0.1",
            B,
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pcap = format!("{dir}/capture.pcap");
    let out = under_term(
        &lab,
        Host::R1,
        "1.5",
        &["capture", "-I", "r1-a", "--json", "--pcap", &pcap, "icmp"],
    );
    let v = assert_interrupted_summary(&out);
    let n = tshark_frames(&pcap);
    assert!(
        n >= 2 && v["received"].as_u64() == Some(n as u64),
        "{v} vs {n}"
    );

    let pcap = format!("{dir}/reflect.pcap");
    let out = under_term(
        &lab,
        Host::B,
        "1",
        &[
            "reflect",
            "-I",
            Lab::B_IFACE,
            "--ip",
            "203.0.113.9/24",
            "--json",
            "--pcap",
            &pcap,
        ],
    );
    assert_interrupted_summary(&out);
    tshark_frames(&pcap);

    let pcap = format!("{dir}/send.pcap");
    let out = under_term(
        &lab,
        Host::A,
        "1",
        &[
            "send",
            "-c",
            "100",
            "--interval",
            "0.1",
            "--json",
            "--pcap",
            &pcap,
            B,
        ],
    );
    assert_interrupted_summary(&out);
    assert!(tshark_frames(&pcap) >= 2);

    let out = under_term(
        &lab,
        Host::A,
        "1",
        &["blast", "--rate", "1000", "--duration", "30", "--json", B],
    );
    let v = assert_interrupted_summary(&out);
    assert!(v["sent"].as_u64().unwrap() > 0, "{v}");
    let _ = bg.wait_with_output();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sigquit_prints_interim_statistics_and_ping_goes_on() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let child = Command::new("ip")
        .args(["netns", "exec", &lab.ns(Host::A)])
        .arg(env!("CARGO_BIN_EXE_pktforge"))
        .args(["ping", "-c", "8", "-i", "0.2", B])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    unsafe { libc::kill(child.id() as i32, libc::SIGQUIT) };
    let out = child.wait_with_output().unwrap();
    let (text, err) = (common::stdout(&out), common::stderr(&out));
    eprintln!("{text}{err}");
    assert_eq!(out.status.code(), Some(0), "not killed by SIGQUIT");
    let line = err
        .lines()
        .find(|l| l.contains(" packets, ") && l.contains("% loss"))
        .expect("iputils' interim line on stderr");
    // `R/S packets, L% loss, min/avg/ewma/max = a/b/c/d ms`
    let (counts, rest) = line.split_once(" packets, ").unwrap();
    let (r, s) = counts.trim().split_once('/').unwrap();
    let (r, s): (u64, u64) = (r.parse().unwrap(), s.parse().unwrap());
    assert!(r >= 1 && r <= s && s < 8, "{line}");
    assert!(rest.contains("min/avg/ewma/max = "), "{line}");
    assert!(text.contains("8 packets transmitted, 8 received, 0% packet loss"));
}

#[test]
fn an_interface_failing_mid_run_still_gets_its_summary() {
    if !common::can_run_lab() {
        return;
    }
    for args in [
        vec!["ping", "-i", "0.1", B],
        vec!["timestamp", "-c", "100", "-i", "0.1", B],
    ] {
        let lab = common::lab();
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns(Host::A)])
            .arg(env!("CARGO_BIN_EXE_pktforge"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(600));
        lab.exec(Host::A, "ip", &["link", "del", Lab::A_IFACE])
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let (text, err) = (common::stdout(&out), common::stderr(&out));
        eprintln!("{text}{err}");
        assert_eq!(out.status.code(), Some(2), "an error ends the run");
        assert!(text.contains("statistics ---"), "summary first: {text}");
        assert!(err.contains("pktforge: "), "then the error: {err}");
    }
    // trace (waiting on an unanswered hop) and reflect: their JSON summary, then the error.
    for args in [
        vec![
            "trace",
            "-q",
            "1",
            "-w",
            "5",
            "-N",
            "1",
            "--json",
            "198.51.100.99",
        ],
        vec![
            "reflect",
            "-I",
            Lab::A_IFACE,
            "--ip",
            "192.0.2.50/24",
            "--json",
        ],
    ] {
        let lab = common::lab();
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns(Host::A)])
            .arg(env!("CARGO_BIN_EXE_pktforge"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(800));
        lab.exec(Host::A, "ip", &["link", "del", Lab::A_IFACE])
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let (text, err) = (common::stdout(&out), common::stderr(&out));
        eprintln!("{args:?}\n{text}{err}");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let last = text.lines().last().unwrap_or_default();
        assert!(last.contains(r#""type":"summary""#), "{args:?}: {last}");
    }
}
