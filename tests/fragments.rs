//! Echo data beyond the MTU goes out as fragments built at L2 and comes back reassembled, with
//! every fragment in the pcap, across a path whose middle link has a smaller MTU.

mod common;

use std::process::Command;

use pktforge::lab::{Host, Lab};

const B: &str = "203.0.113.2";

fn small_middle_link(lab: &Lab) {
    lab.exec(Host::R1, "ip", &["link", "set", "r1-r2", "mtu", "1400"])
        .unwrap();
    lab.exec(Host::R2, "ip", &["link", "set", "r2-r1", "mtu", "1400"])
        .unwrap();
}

fn tshark(pcap: &str, args: &[&str]) -> Vec<String> {
    let out = Command::new("tshark")
        .args(["-r", pcap])
        .args(args)
        .output()
        .expect("tshark (installed by .ci/install)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn ping_s_3000_across_an_mtu_1400_link_gets_3008_byte_replies() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    small_middle_link(&lab);
    let pcap = format!("/tmp/pfp-frag-{}.pcap", std::process::id());
    let out = common::pktforge(
        &lab,
        Host::A,
        &[
            "ping", "-c", "2", "-i", "0.2", "-s", "3000", "--pcap", &pcap, B,
        ],
    );
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains("3000(3028) bytes of data."), "{text}");
    for seq in 1..=2 {
        assert!(
            text.contains(&format!("3008 bytes from {B}: icmp_seq={seq} ttl=62 time=")),
            "{text}"
        );
    }
    assert!(!text.contains("BAD"), "{text}");
    // iputils on the same path says the same size.
    let linux = lab
        .exec(Host::A, "ping", &["-c", "1", "-s", "3000", B])
        .unwrap();
    assert!(String::from_utf8_lossy(&linux.stdout).contains("3008 bytes from"));

    // Every fragment is in the pcap: tshark reassembles both requests and both replies, each
    // from more than one fragment, with every checksum right.
    let fields = [
        "-T",
        "fields",
        "-e",
        "icmp.type",
        "-e",
        "ip.fragment.count",
        "-e",
        "data.len",
    ];
    let mut args = vec![
        "-o",
        "ip.defragment:TRUE",
        "-Y",
        "icmp",
        "-o",
        "ip.check_checksum:TRUE",
    ];
    args.extend(fields);
    let rows = tshark(&pcap, &args);
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in &rows {
        let cols: Vec<&str> = r.split('\t').collect();
        let frags: usize = cols[1].parse().unwrap_or(0);
        assert!(frags >= 2, "reassembled from {frags} fragments: {r}");
        assert_eq!(
            cols[2], "2992",
            "3000 data bytes minus the 8-byte timestamp: {r}"
        );
    }
    let bad = tshark(
        &pcap,
        &[
            "-o",
            "ip.check_checksum:TRUE",
            "-Y",
            "ip.checksum.status == 0",
        ],
    );
    assert!(bad.is_empty(), "bad IP checksums: {bad:?}");
    let _ = std::fs::remove_file(pcap);
}

#[test]
fn with_df_oversize_is_refused_naming_the_mtu() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = common::pktforge(&lab, Host::A, &["ping", "-c", "1", "--df", "-s", "3000", B]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("the largest -s here is 1472"));
    let out = common::pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "1", "-M", "do", "-s", "1473", B],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn jumbo_frames_and_los_mtu_work_on_both_backends() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    lab.exec(Host::A, "ip", &["link", "set", "a-r1", "mtu", "9000"])
        .unwrap();
    lab.exec(Host::R1, "ip", &["link", "set", "r1-a", "mtu", "9000"])
        .unwrap();
    for backend in ["fast", "pnet"] {
        let out = common::pktforge(
            &lab,
            Host::A,
            &[
                "ping",
                "-c",
                "1",
                "--df",
                "-s",
                "8000",
                "--backend",
                backend,
                "192.0.2.1",
            ],
        );
        assert!(
            common::stdout(&out).contains("8008 bytes from 192.0.2.1"),
            "{backend}"
        );
        let out = common::pktforge(
            &lab,
            Host::A,
            &[
                "send",
                "--icmp-seq",
                "1",
                "--size",
                "8000",
                "--wait",
                "1",
                "--backend",
                backend,
                "192.0.2.1",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{backend}");
        assert!(common::stdout(&out).contains("1 received"), "{backend}");
        // lo's MTU is 65,536: the largest echo fits in one datagram there.
        let out = common::pktforge(
            &lab,
            Host::A,
            &[
                "ping",
                "-c",
                "1",
                "-s",
                "65507",
                "--backend",
                backend,
                "127.0.0.1",
            ],
        );
        assert!(
            common::stdout(&out).contains("65515 bytes from 127.0.0.1"),
            "{backend}"
        );
    }
}

#[test]
fn hand_made_fragments_reach_b_in_any_order_and_overlaps_are_dropped_as_linux_does() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let pcap = format!("/tmp/pfp-sendfrag-{}.pcap", std::process::id());
    let send = |extra: &[&str]| {
        let mut args = vec![
            "send",
            "--icmp-seq",
            "1",
            "--size",
            "100",
            "--fragment",
            "32",
            "--wait",
            "1",
            "--pcap",
            &pcap,
        ];
        args.extend(extra);
        args.push(B);
        let out = common::pktforge(&lab, Host::A, &args);
        // send's exit: 0 when something matching arrived within --wait, else 1.
        let text = common::stdout(&out);
        let answered = text.contains("1 received");
        assert_eq!(out.status.code(), Some(if answered { 0 } else { 1 }));
        text
    };
    assert!(send(&[]).contains("1 sent, 1 received"));
    assert!(send(&["--fragment-reverse"]).contains("1 sent, 1 received"));
    // 108 ICMP bytes in 32-byte pieces: 4 fragments, each with a right IP checksum; tshark
    // puts them back together.
    let rows = tshark(
        &pcap,
        &[
            "-o",
            "ip.defragment:TRUE",
            "-Y",
            "icmp.type == 8",
            "-T",
            "fields",
            "-e",
            "ip.fragment.count",
        ],
    );
    assert_eq!(rows, ["4"], "{rows:?}");
    // Linux drops a datagram whose fragments overlap (since 4.19): no answer, as expected.
    assert!(send(&["--fragment-overlap", "8"]).contains("1 sent, 0 received"));
    let _ = std::fs::remove_file(pcap);
}

#[test]
fn reflect_answers_a_fragmented_request_with_a_fragmented_reply_of_the_same_size() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let pcap = format!("/tmp/pfp-reflfrag-{}.pcap", std::process::id());
    let child = common::spawn_ready(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            Lab::B_IFACE,
            "--ip",
            "203.0.113.9/24",
            "--mode",
            "packet",
            "--duration",
            "3",
            "--pcap",
            &pcap,
        ],
        "answering for",
    );
    // iputils: the kernel fragments the 3028-byte request at a's 1500-byte MTU.
    let linux = lab
        .exec(
            Host::A,
            "ping",
            &["-c", "1", "-s", "3000", "-W", "2", "203.0.113.9"],
        )
        .unwrap();
    let text = String::from_utf8_lossy(&linux.stdout);
    assert!(
        text.contains("3008 bytes from 203.0.113.9: icmp_seq=1"),
        "{text}"
    );
    let _ = child.wait_with_output();
    let sum = |filter: &str| -> (usize, usize) {
        let rows = tshark(
            &pcap,
            &[
                "-Y",
                filter,
                "-T",
                "fields",
                "-e",
                "ip.len",
                "-e",
                "ip.hdr_len",
            ],
        );
        let bytes = rows
            .iter()
            .map(|r| {
                let c: Vec<usize> = r.split('\t').map(|x| x.parse().unwrap()).collect();
                c[0] - c[1]
            })
            .sum();
        (rows.len(), bytes)
    };
    let (req_frags, req_bytes) = sum("ip.dst == 203.0.113.9 && ip.proto == 1");
    let (rep_frags, rep_bytes) = sum("ip.src == 203.0.113.9 && ip.proto == 1");
    assert!(req_frags >= 3 && rep_frags >= 3, "{req_frags} {rep_frags}");
    assert_eq!(rep_bytes, req_bytes, "never more bytes than asked");
    assert_eq!(req_bytes, 3008);
    let _ = std::fs::remove_file(pcap);
}
