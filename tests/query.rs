//! `timestamp`, `mask`, `info` and `rsol` against Linux hosts and routers.

mod common;

use common::{pktforge, stdout};
use pktforge::lab::Host;

const B: &str = "203.0.113.2";

#[test]
fn linux_answers_timestamp_requests_with_three_times() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(&lab, Host::A, &["timestamp", "-c", "2", "-i", "0.2", B]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("20 bytes from 203.0.113.2"))
        .unwrap();
    for field in ["ttl=62", "orig=", "recv=", "xmit=", "offset="] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(text.contains("2 packets transmitted, 2 received"));

    let out = pktforge(&lab, Host::A, &["timestamp", "-c", "1", "--json", B]);
    let reply: serde_json::Value = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "reply")
        .unwrap();
    // Both ends read the same kernel clock, so the true offset is 0 and the estimate can be off
    // by at most half the round trip (plus the 1 ms resolution of ICMP timestamps).
    let ans = &reply["answer"];
    let offset = ans["offset_us"].as_f64().unwrap() / 1e3;
    let rtt = ans["rtt_from_stamps_ms"].as_i64().unwrap() as f64;
    assert!(offset.abs() <= rtt / 2.0 + 1.0, "{ans}");
}

#[test]
fn silence_is_explained_for_mask_info_and_rsol() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(&lab, Host::A, &["mask", "-c", "1", "-W", "0.5", B]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("do not answer address mask requests"));
    let out = pktforge(&lab, Host::A, &["info", "-c", "1", "-W", "0.5", B]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("obsolete (RFC 1122"));
    let out = pktforge(
        &lab,
        Host::R2,
        &["rsol", "-I", "r2-b", "-c", "1", "-W", "0.5"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("No router advertised on r2-b"));
}
