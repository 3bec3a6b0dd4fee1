//! `pktforge bench` across the namespace lab against a device whose limit is known: r2 (a
//! Linux router) with a token bucket (tc tbf, 50 Mbit/s) on its egress toward b, the kernel's
//! echo in b as responder. The answers come back through r2-r1, unshaped.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{pktforge, stderr, stdout};
use pktforge::lab::{Host, Lab};
use serde_json::Value;

const B: &str = "203.0.113.2";
const TBF_BITS: f64 = 50e6;

fn shape(lab: &Lab) {
    let out = lab
        .exec(
            Host::R2,
            "tc",
            &[
                "qdisc", "add", "dev", "r2-b", "root", "tbf", "rate", "50mbit", "burst", "8kb",
                "latency", "20ms",
            ],
        )
        .unwrap();
    assert!(out.status.success(), "tc: {}", stderr(&out));
}

/// (bytes, packets) the tbf qdisc on r2-b has sent.
fn tbf_sent(lab: &Lab) -> (u64, u64) {
    let out = lab
        .exec(Host::R2, "tc", &["-s", "qdisc", "show", "dev", "r2-b"])
        .unwrap();
    let text = stdout(&out);
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "Sent").expect(&text);
    (
        words[at + 1].parse().unwrap(),
        words[at + 3].parse().unwrap(),
    )
}

fn records(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
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

/// The frame rate the bucket allows for frames of `size` bytes with FCS: tbf on a veth counts
/// skb->len, the Ethernet frame without FCS (and without padding: a veth does not pad), so
/// L = size − 4 (checked below against the qdisc's own byte and packet counters).
fn tbf_pps(size: usize) -> f64 {
    TBF_BITS / 8.0 / (size - 4) as f64
}

#[test]
fn bench_finds_the_token_bucket_rate_and_latency_rises_past_it() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    shape(&lab);
    let before = tbf_sent(&lab);
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "bench",
            "--size",
            "512,1518",
            "--trial",
            "2",
            "--wait",
            "0.3",
            "--max-rate",
            "100mbit",
            "--precision",
            "1%",
            "--json",
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = tbf_sent(&lab);
    let recs = records(&out);
    let v = common::schema_validator();
    for r in &recs {
        let errors: Vec<String> = v.iter_errors(r).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{r}\n{}", errors.join("\n"));
    }
    assert_eq!(recs.first().unwrap()["type"], "start");
    let summary = recs.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["command"], "bench");
    for size in [512usize, 1518] {
        let want = tbf_pps(size);
        let tput = recs
            .iter()
            .find(|r| {
                r["type"] == "bench_result" && r["test"] == "throughput" && r["frame_bytes"] == size
            })
            .unwrap_or_else(|| panic!("no throughput result for {size}"));
        let got = tput["rate_pps"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 0.05 * want,
            "{size} B: found {got:.0} pps, the bucket allows {want:.0}"
        );
        let lat = recs
            .iter()
            .find(|r| {
                r["type"] == "bench_result" && r["test"] == "latency" && r["frame_bytes"] == size
            })
            .unwrap_or_else(|| panic!("no latency result for {size}"));
        assert_eq!(lat["rate_pps"], tput["rate_pps"]);
        assert!(lat["rtt_us"]["p99"].as_f64().unwrap() > 0.0);
        // Latency rises as the trial rate passes the bucket: the queue fills.
        let p50 = |pred: &dyn Fn(f64) -> bool| -> Vec<f64> {
            recs.iter()
                .filter(|r| r["type"] == "bench_trial" && r["frame_bytes"] == size)
                .filter(|r| pred(r["rate_pps"].as_f64().unwrap()))
                .filter_map(|r| r["rtt_us"]["p50"].as_f64())
                .collect()
        };
        let below = p50(&|r| r < 0.99 * want);
        let above = p50(&|r| r > 1.03 * want);
        assert!(
            !below.is_empty() && !above.is_empty(),
            "{size}: {below:?} {above:?}"
        );
        let worst_below = below.iter().cloned().fold(0.0, f64::max);
        let best_above = above.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(
            worst_below < best_above,
            "{size}: RTT medians below the bucket's rate {below:?}, above it {above:?}"
        );
    }
    // What tbf counts: the frame without FCS. Every request of the run crossed r2-b (frames
    // of two sizes, 508 and 1514 bytes, and a few ARP frames).
    let (bytes, pkts) = (after.0 - before.0, after.1 - before.1);
    let trials: Vec<&Value> = recs.iter().filter(|r| r["type"] == "bench_trial").collect();
    let expect: u64 = trials
        .iter()
        .map(|r| {
            (r["sent"].as_u64().unwrap() - r["lost"].as_u64().unwrap())
                * (r["frame_bytes"].as_u64().unwrap() - 4)
        })
        .sum();
    let n: u64 = trials
        .iter()
        .map(|r| r["sent"].as_u64().unwrap() - r["lost"].as_u64().unwrap())
        .sum();
    assert!(
        pkts >= n && pkts - n < 50,
        "tbf sent {pkts} packets, answered requests {n}"
    );
    // The few packets beyond the answered requests are ARP frames and requests whose answer
    // was lost on the way back: each at most a 1,514-byte frame. Counted with its FCS, every
    // frame would add 4 bytes: some 20 times that slack here.
    let extra = pkts - n;
    assert!(
        bytes >= expect && bytes - expect <= extra * 1514,
        "tbf sent {bytes} bytes in {pkts} packets, answered requests' frames without FCS \
         {expect} in {n}"
    );
}

#[test]
fn bench_refuses_bad_input_before_sending() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let before = tx_packets(&lab);
    for (args, says) in [
        (&["--size", "63"][..], "64"),
        (&["--size", "64,1519"][..], "1518"),
        (&["--loss", "100"][..], "--loss"),
        (&["--loss=-1"][..], "below 100"),
        (&["--pdr", "101"][..], "--pdr"),
        (&["--trial", "0"][..], "--trial"),
        (&["--trial=-2"][..], "--trial"),
        (&["--precision", "0%"][..], "--precision"),
        (&["--precision", "0"][..], "--precision"),
        (&["--max-rate", "0"][..], "--max-rate"),
        (&["--test", "speed"][..], "--test"),
    ] {
        let mut a = vec!["bench"];
        a.extend_from_slice(args);
        a.push(B);
        let out = pktforge(&lab, Host::A, &a);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let e = stderr(&out);
        assert!(e.contains(says), "{args:?}: {e}");
    }
    assert_eq!(tx_packets(&lab), before, "nothing was sent");
}

#[test]
fn bench_stopped_by_sigint_prints_the_results_found_so_far() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    shape(&lab);
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(Host::A),
            env!("CARGO_BIN_EXE_pktforge"),
        ])
        .args([
            "bench",
            "--size",
            "1518",
            "--trial",
            "0.5",
            "--wait",
            "0.2",
            "--max-rate",
            "100mbit",
            "--precision",
            "0.01%",
            B,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    // Wait until the search has a passing rate (the first trial at 100 Mbit/s fails, the
    // second at half of it passes), then stop it.
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            panic!("bench ended before its third trial: {seen}");
        }
        seen.push_str(&line);
        if line.contains("trial 3") {
            break;
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    eprintln!("{seen}{text}");
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains("interrupted"), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("throughput"))
        .unwrap_or_else(|| panic!("no throughput row: {text}"));
    assert!(row.contains("1518") && row.contains("kpps"), "{row}");
}

#[test]
fn bench_frame_loss_and_back_to_back_against_the_token_bucket() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    shape(&lab);
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "bench",
            "--test",
            "frame-loss,back-to-back",
            "--size",
            "512",
            "--trial",
            "0.5",
            "--wait",
            "0.3",
            "--max-rate",
            "100mbit",
            "--burst-max",
            "2000",
            "--json",
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recs = records(&out);
    let v = common::schema_validator();
    for r in &recs {
        assert!(v.is_valid(r), "{r}");
    }
    let results: Vec<&Value> = recs
        .iter()
        .filter(|r| r["type"] == "bench_result")
        .collect();
    // Frame loss: 100 % of 100 Mbit/s is 23.5 kpps of 512-byte frames against the bucket's
    // 12.3 kpps: about 1 − 12.3/23.5 = 48 % lost (less what the queue holds); the steps go
    // down until two trials lose nothing, which happens at or below 50 % (11.7 kpps).
    let fl: Vec<&&Value> = results
        .iter()
        .filter(|r| r["test"] == "frame_loss")
        .collect();
    assert_eq!(fl[0]["percent_of_max"], 100.0);
    let first = fl[0]["loss_percent"].as_f64().unwrap();
    assert!((35.0..55.0).contains(&first), "loss at 100 %: {first}");
    let n = fl.len();
    assert!(
        (2..=10).contains(&n) && fl[n - 1]["percent_of_max"].as_f64().unwrap() <= 50.0,
        "{fl:?}"
    );
    assert_eq!(fl[n - 1]["loss_percent"], 0.0);
    assert_eq!(fl[n - 2]["loss_percent"], 0.0);
    // Back-to-back: the bucket's queue holds 20 ms at 50 Mbit/s + the 8 kB burst = 133,192
    // bytes = 262 frames of 508 bytes; a burst that long passes whatever the sender's speed.
    let b2b = results
        .iter()
        .find(|r| r["test"] == "back_to_back")
        .expect("back-to-back result");
    let burst = b2b["burst"].as_u64().unwrap();
    assert!(burst >= 262, "{b2b}");
    if b2b["sender_limited"] == false {
        assert!(burst < 2000, "{b2b}");
    }
}
