//! `pktforge ping` in the namespace lab, against real Linux routers and hosts.

mod common;

use common::{pktforge, stderr, stdout};
use pktforge::lab::Host;

const B: &str = "203.0.113.2";

fn rr_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("RR:"))
        .take_while(|l| l.starts_with("RR:") || l.starts_with('\t'))
        .map(|l| l.trim_start_matches("RR:").trim().to_string())
        .collect()
}

#[test]
fn three_replies_across_two_routers() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "3", "-i", "0.2", "-W", "2", B],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(text
        .starts_with("PING 203.0.113.2 (203.0.113.2) from 192.0.2.2 a-r1: 56(84) bytes of data."));
    for seq in 1..=3 {
        assert!(
            text.contains(&format!(
                "64 bytes from 203.0.113.2: icmp_seq={seq} ttl=62 time="
            )),
            "reply {seq} missing"
        );
    }
    assert!(text.contains("3 packets transmitted, 3 received, 0% packet loss"));
    assert!(text.contains("rtt min/avg/max/mdev = "));
    assert!(!text.contains("DUP!"));
}

#[test]
fn record_route_shows_the_eight_addresses_linux_records() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(&lab, Host::A, &["ping", "-c", "1", "-W", "2", "-R", B]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("56(124) bytes"),
        "20 + 40 option bytes + 8 + 56"
    );
    assert_eq!(rr_lines(&text), common::LINUX_RR_A_TO_B);
}

#[test]
fn record_route_output_matches_linux_ping() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let linux = lab
        .exec(Host::A, "ping", &["-c", "1", "-W", "2", "-R", B])
        .unwrap();
    let ours = pktforge(&lab, Host::A, &["ping", "-c", "1", "-W", "2", "-R", B]);
    assert_eq!(
        rr_lines(&stdout(&ours)),
        rr_lines(&String::from_utf8_lossy(&linux.stdout))
    );
}

#[test]
fn loose_source_route_through_r2_gets_replies_with_the_route_shown() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "2",
            "-i",
            "0.2",
            "-W",
            "2",
            "--lsrr",
            "198.51.100.2",
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("bytes from 203.0.113.2: icmp_seq=1 ttl="));
    assert!(text.contains("2 received"));
    // b reverses the source route for its reply (RFC 1122 3.2.1.8): the option in the reply
    // lists the way back, ending at us.
    assert!(text.contains("LSRR: "), "the reply's source route is shown");

    // With record route beside it, the recorded route is shown too; r2 recorded itself.
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            "-R",
            "--lsrr",
            "198.51.100.2",
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let rr = rr_lines(&stdout(&out));
    assert!(
        rr.iter().any(|a| a == "203.0.113.1"),
        "r2 recorded its outgoing address: {rr:?}"
    );
    assert_eq!(rr.first().map(String::as_str), Some("192.0.2.2"));
}

#[test]
fn strict_source_route_through_adjacent_routers_gets_replies() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "ping",
            "-c",
            "2",
            "-i",
            "0.2",
            "-W",
            "2",
            "--ssrr",
            "192.0.2.1,198.51.100.2",
            B,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("bytes from 203.0.113.2: icmp_seq=2 ttl="));
    assert!(text.contains("SSRR: "));
}

#[test]
fn strict_source_route_errors_from_r1_are_decoded() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // First hop 198.51.100.2 is not adjacent to a: the frame reaches r1, which is not the
    // current hop of a strict route. Linux (ip_options_rcv_srr) answers Parameter Problem
    // pointing at the destination address field.
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "1", "-W", "2", "--ssrr", "198.51.100.2", B],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "no reply: exit 1");
    assert!(
        text.contains("From 192.0.2.1 icmp_seq=1 Parameter problem: pointer = 16 (header field destination address"),
        "{text}"
    );
    assert!(
        text.contains("quoted: SSRR"),
        "the quoted option is decoded"
    );
    assert!(text.contains("1 packets transmitted, 0 received, +1 errors, 100% packet loss"));

    // r1 is the current hop, but the next strict hop (b) is not adjacent to r1: Source Route
    // Failed (ip_forward's sr_failed).
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "1", "-W", "2", "--ssrr", "192.0.2.1", B],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("From 192.0.2.1 icmp_seq=1 Source Route Failed"),
        "{text}"
    );
}

fn ts_addrs(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("TS:"))
        .take_while(|l| l.starts_with("TS:") || l.starts_with('\t'))
        .filter_map(|l| {
            l.trim_start_matches("TS:")
                .split_whitespace()
                .next()
                .map(String::from)
        })
        .collect()
}

#[test]
fn timestamp_option_collects_stamps_from_the_routers() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "1", "-W", "2", "--timestamp", "tsonly", B],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let stamps: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("TS:"))
        .take_while(|l| l.starts_with("TS:") || l.starts_with('\t'))
        .collect();
    // a, r1, r2, b (in), b (reply), r2, r1, a (in): Linux stamps on input and on origin.
    assert_eq!(stamps.len(), 8, "{stamps:?}");
    assert!(stamps[0].ends_with("absolute"));

    // With addresses, the hops are the ones Linux's own ping -T tsandaddr shows.
    let ours = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "1", "-W", "2", "--timestamp", "tsandaddr", B],
    );
    assert_eq!(ours.status.code(), Some(0));
    let linux = lab
        .exec(
            Host::A,
            "ping",
            &["-c", "1", "-W", "2", "-T", "tsandaddr", B],
        )
        .unwrap();
    let linux_text = String::from_utf8_lossy(&linux.stdout);
    eprintln!("linux:\n{linux_text}");
    let text = stdout(&ours);
    assert_eq!(
        ts_addrs(&text),
        ["192.0.2.2", "192.0.2.1", "198.51.100.2", "203.0.113.2"]
    );
    assert_eq!(ts_addrs(&text), ts_addrs(&linux_text));
    assert!(text.contains("Unrecorded hops: 3"));
}

#[test]
fn ping_over_loopback() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "2", "-i", "0.2", "-W", "2", "127.0.0.1"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("from 127.0.0.1 lo:"));
    assert!(text.contains("64 bytes from 127.0.0.1: icmp_seq=2 ttl=64"));
    assert!(text.contains("2 packets transmitted, 2 received, 0% packet loss"));
    assert!(
        !text.contains("DUP!"),
        "lo shows every frame twice; we must count it once"
    );
}

#[test]
fn json_output_has_one_object_per_reply_and_a_summary() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "2", "-i", "0.2", "-W", "2", "-R", "--json", B],
    );
    assert_eq!(out.status.code(), Some(0));
    let objs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let kinds: Vec<&str> = objs.iter().map(|o| o["type"].as_str().unwrap()).collect();
    // Every probe sent has its request record (with its send time) before its reply.
    assert_eq!(
        kinds,
        ["start", "request", "reply", "request", "reply", "summary"]
    );
    assert!(objs[1]["time_us"].as_u64().unwrap() > 0);
    assert_eq!(objs[1]["seq"], objs[2]["seq"]);
    assert_eq!(objs[2]["ttl"], 62);
    assert!(objs[2]["options"][0].as_str().unwrap().starts_with("RR"));
    assert_eq!(objs[5]["received"], 2);
}

#[test]
fn pcap_with_forty_option_bytes_has_good_checksums_in_tshark() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let dir = tempdir();
    let pcap = format!("{dir}/rr.pcap");
    let out = pktforge(
        &lab,
        Host::A,
        &[
            "ping", "-c", "2", "-i", "0.2", "-W", "2", "-R", "--pcap", &pcap, B,
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let ts = std::process::Command::new("tshark")
        .args([
            "-r",
            &pcap,
            "-o",
            "ip.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=,",
            "-e",
            "ip.hdr_len",
            "-e",
            "ip.checksum.status",
            "-e",
            "icmp.type",
            "-e",
            "icmp.checksum.status",
            "-e",
            "ip.opt.type",
            "-Y",
            "icmp",
        ])
        .output()
        .expect("tshark is installed by .ci/run");
    let text = String::from_utf8_lossy(&ts.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&ts.stderr));
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 4, "2 requests + 2 replies");
    for row in rows {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f[0], "60", "IHL 15: {row}");
        assert_eq!(f[1], "1", "IPv4 checksum good (1): {row}");
        assert_eq!(f[3], "1", "ICMP checksum good (1): {row}");
        assert!(f[4..].contains(&"7"), "record route option decoded: {row}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn garbage_frames_on_the_wire_never_disturb_ping() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // r1 sprays truncated and malformed IPv4/ICMP frames at a while a pings b.
    let script = r#"
import socket, os, random, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("r1-a", 0))
dst = open("/sys/class/net/r1-a/address").read()  # our own MAC as a stand-in source
random.seed(7)
end = time.time() + 1.5
n = 0
while time.time() < end and n < 3000:
    body = bytes(random.getrandbits(8) for _ in range(random.randrange(0, 80)))
    ip = bytes([0x40 | random.randrange(0, 16), 0]) + body
    if n % 3 == 0:
        ip = bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]) + body[:6]
    s.send(b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip)
    n += 1
"#;
    let spray = std::process::Command::new("ip")
        .args(["netns", "exec", &lab.ns(Host::R1), "python3", "-c", script])
        .spawn()
        .expect("python3");
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "5", "-i", "0.2", "-W", "2", B],
    );
    let _ = spray.wait_with_output();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("5 packets transmitted, 5 received"));
    assert!(
        stderr(&out).is_empty(),
        "no panic, no warning: {}",
        stderr(&out)
    );
}

fn tempdir() -> String {
    let d = std::env::temp_dir().join(format!(
        "pktforge-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d.to_string_lossy().into_owned()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn ctrl_c_prints_the_summary_and_flushes_the_pcap() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let dir = tempdir();
    let pcap = format!("{dir}/int.pcap");
    // `ip netns exec` execs the program, so the child's pid is pktforge's.
    let child = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(Host::A),
            env!("CARGO_BIN_EXE_pktforge"),
        ])
        .args(["ping", "-i", "0.2", "--pcap", &pcap, B])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    eprintln!("{text}");
    assert_eq!(out.status.code(), Some(0), "replies came: exit 0");
    assert!(text.contains("--- 203.0.113.2 ping statistics ---"));
    let frames: Vec<_> = pktforge::link::capfile::CaptureFile::open(&pcap)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        frames.len() >= 4,
        "requests and replies written before exit: {}",
        frames.len()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn both_link_backends_ping_with_options_over_the_lab_and_loopback() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    for backend in ["pnet", "fast"] {
        let out = pktforge(
            &lab,
            Host::A,
            &["ping", "-c", "1", "-W", "2", "-R", "--backend", backend, B],
        );
        assert_eq!(out.status.code(), Some(0), "{backend}");
        assert_eq!(
            rr_lines(&stdout(&out)),
            common::LINUX_RR_A_TO_B,
            "{backend}"
        );
        let out = pktforge(
            &lab,
            Host::A,
            &[
                "ping",
                "-c",
                "2",
                "-i",
                "0.2",
                "-W",
                "2",
                "--backend",
                backend,
                "127.0.0.1",
            ],
        );
        assert!(
            stdout(&out).contains("2 packets transmitted, 2 received, 0% packet loss"),
            "{backend}"
        );
        assert!(
            !stdout(&out).contains("DUP!"),
            "{backend}: our own frames are never replies"
        );
    }
    let out = pktforge(&lab, Host::A, &["ping", "-c", "1", "--backend", "bogus", B]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected pnet or fast"),
        "{}",
        stderr(&out)
    );
}

/// The addresses after the option's name in its text (`RR: a b (8 of 9 slots)`,
/// `LSRR ptr=8: a b`).
fn text_addrs(opt: &str) -> Vec<String> {
    opt.split_once(':')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .take_while(|w| !w.starts_with('('))
        .map(String::from)
        .collect()
}

#[test]
fn json_route_source_route_and_timestamps_are_lists_beside_the_text() {
    if !common::can_run_lab() {
        return;
    }
    let schema: serde_json::Value =
        serde_json::from_str(pktforge::event::JSON_SCHEMA).expect("schema is JSON");
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    let lab = common::lab();
    let replies = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = pktforge(&lab, Host::A, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let recs: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        for r in &recs {
            let errors: Vec<String> = v.iter_errors(r).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{args:?}: {r}\n{}", errors.join("\n"));
        }
        let replies: Vec<_> = recs.into_iter().filter(|r| r["type"] == "reply").collect();
        assert!(!replies.is_empty(), "{args:?}: no reply");
        replies
    };
    let list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("not a list: {v}"))
            .iter()
            .map(|a| a.as_str().expect("an address").to_string())
            .collect()
    };

    // Record route: the eight addresses Linux records, as a list, and the same as the text.
    for r in replies(&["ping", "-c", "1", "-W", "2", "-R", "--json", B]) {
        assert_eq!(list(&r["route"]), common::LINUX_RR_A_TO_B, "{r}");
        assert_eq!(
            list(&r["route"]),
            text_addrs(r["options"][0].as_str().unwrap())
        );
        assert!(
            r.get("source_route").is_none() && r.get("timestamps").is_none(),
            "{r}"
        );
    }

    // A loose source route beside record route: each in its own list.
    let args = [
        "ping",
        "-c",
        "1",
        "-W",
        "2",
        "-R",
        "--lsrr",
        "198.51.100.2",
        "--json",
        B,
    ];
    for r in replies(&args) {
        let texts: Vec<&str> = r["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap())
            .collect();
        let rr = texts
            .iter()
            .find(|t| t.starts_with("RR:"))
            .expect("RR text");
        let lsrr = texts
            .iter()
            .find(|t| t.starts_with("LSRR"))
            .expect("LSRR text");
        assert_eq!(list(&r["route"]), text_addrs(rr), "{r}");
        assert!(
            list(&r["route"]).contains(&"203.0.113.1".to_string()),
            "{r}"
        );
        assert_eq!(list(&r["source_route"]), text_addrs(lsrr), "{r}");
        assert!(!list(&r["source_route"]).is_empty(), "{r}");
    }

    // Timestamps with addresses: the hops that stamped, each with its stamp.
    for r in replies(&[
        "ping",
        "-c",
        "1",
        "-W",
        "2",
        "--timestamp",
        "tsandaddr",
        "--json",
        B,
    ]) {
        let stamps = r["timestamps"].as_array().unwrap_or_else(|| panic!("{r}"));
        let addrs: Vec<&str> = stamps.iter().map(|s| s["addr"].as_str().unwrap()).collect();
        assert_eq!(
            addrs,
            ["192.0.2.2", "192.0.2.1", "198.51.100.2", "203.0.113.2"],
            "{r}"
        );
        assert!(stamps.iter().all(|s| s["timestamp"].is_u64()), "{r}");
    }
}
