//! Every subcommand's `--json` output, run for real in the namespace lab, validates line by line
//! against the one written schema (`pktforge::event::JSON_SCHEMA`), and every run has a start
//! and a summary record.

mod common;

use common::{pktforge, stdout};
use pktforge::lab::{Host, Lab};
use serde_json::Value;

const B: &str = "203.0.113.2";
const R: &str = "203.0.113.9";

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(pktforge::event::JSON_SCHEMA).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Every line of `text` is a record that validates; returns their types.
fn check(v: &jsonschema::Validator, what: &str, text: &str) -> Vec<String> {
    let mut types = Vec::new();
    for line in text.lines() {
        let rec: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"));
        let errors: Vec<String> = v.iter_errors(&rec).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{what}: {line}\n{}", errors.join("\n"));
        types.push(rec["type"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        types.first().map(String::as_str),
        Some("start"),
        "{what}: {text}"
    );
    assert_eq!(
        types.last().map(String::as_str),
        Some("summary"),
        "{what}: {text}"
    );
    types
}

fn has(types: &[String], t: &str) -> bool {
    types.iter().any(|x| x == t)
}

#[test]
fn every_subcommand_json_validates_against_the_schema() {
    if !common::can_run_lab() {
        return;
    }
    let v = validator();
    let lab = common::lab();
    let run = |host, args: &[&str]| {
        let out = pktforge(&lab, host, args);
        stdout(&out)
    };

    let t = check(
        &v,
        "ping",
        &run(
            Host::A,
            &["ping", "-c", "2", "-i", "0.2", "-R", "--json", B],
        ),
    );
    assert!(has(&t, "request") && has(&t, "reply"), "{t:?}");
    // An ICMP error (r1 refuses a strict route whose first hop is not adjacent).
    let t = check(
        &v,
        "ping --ssrr",
        &run(
            Host::A,
            &[
                "ping",
                "-c",
                "1",
                "-W",
                "1",
                "--ssrr",
                "198.51.100.2",
                "--json",
                B,
            ],
        ),
    );
    assert!(has(&t, "icmp_error"), "{t:?}");
    let t = check(
        &v,
        "trace",
        &run(Host::A, &["trace", "-q", "1", "-w", "1", "-R", "--json", B]),
    );
    assert!(has(&t, "hop"), "{t:?}");
    for args in [
        &["trace", "-U", "-q", "1", "-w", "1", "--json", B][..],
        &["trace", "-T", "-q", "1", "-w", "1", "--json", B][..],
    ] {
        let t = check(&v, "trace -U/-T", &run(Host::A, args));
        assert!(has(&t, "hop"), "{t:?}");
    }
    // A closed TCP port (RST: a reply with a tcp answer), a closed UDP port (an ICMP error)
    // and a silent address (a timeout), each with its port verdict.
    // (The traces just before used up b's ICMP error budget: lift it so the port unreachable
    // comes.)
    lab.sysctl(Host::B, "net.ipv4.icmp_ratelimit", "0").unwrap();
    for (args, kind) in [
        (&["probe", "--tcp", "81", "-R", "--json", B][..], "reply"),
        (&["probe", "--udp", "9", "--json", B][..], "icmp_error"),
        (
            &["probe", "--udp", "9", "-W", "0.3", "--json", R][..],
            "port",
        ),
    ] {
        let t = check(&v, "probe", &run(Host::A, args));
        assert!(has(&t, "port") && has(&t, kind), "{args:?}: {t:?}");
    }
    let t = check(
        &v,
        "timestamp",
        &run(Host::A, &["timestamp", "-c", "1", "--json", B]),
    );
    assert!(has(&t, "reply"), "{t:?}");
    check(
        &v,
        "info",
        &run(Host::A, &["info", "-c", "1", "-W", "0.3", "--json", B]),
    );

    // A reflector in b answers mask requests and router solicitations, and reports its own.
    let child = common::spawn_ready(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            Lab::B_IFACE,
            "--ip",
            "203.0.113.9/24",
            "--mask",
            "/24",
            "--advertise",
            "--duration",
            "4",
            "--json",
        ],
        "answering for",
    );
    let t = check(&v, "mask", &run(Host::A, &["mask", "-c", "1", "--json", R]));
    assert!(has(&t, "reply"), "{t:?}");
    let t = check(
        &v,
        "rsol",
        &run(
            Host::R2,
            &["rsol", "-I", "r2-b", "-c", "1", "-W", "1", "--json"],
        ),
    );
    assert!(has(&t, "reply"), "{t:?}");
    let done = child.wait_with_output().expect("reflector ends by itself");
    check(&v, "reflect", &String::from_utf8_lossy(&done.stdout));

    let t = check(
        &v,
        "send",
        &run(
            Host::A,
            &[
                "send",
                "--icmp-seq",
                "1",
                "-c",
                "2",
                "--interval",
                "0.1",
                "--wait",
                "0.5",
                "--json",
                B,
            ],
        ),
    );
    assert!(has(&t, "frame"), "{t:?}");

    // A capture in r1 sees a ping go through.
    let cap = common::spawn_ready(
        &lab,
        Host::R1,
        &[
            "capture",
            "-I",
            "r1-a",
            "-c",
            "2",
            "--duration",
            "5",
            "--json",
            "icmp",
        ],
        "capturing on",
    );
    run(Host::A, &["ping", "-c", "1", B]);
    let done = cap.wait_with_output().expect("capture ends by itself");
    let t = check(&v, "capture", &String::from_utf8_lossy(&done.stdout));
    assert!(has(&t, "frame"), "{t:?}");

    let hex = run(Host::A, &["craft", "--hex", "-R", B]);
    check(&v, "craft", &run(Host::A, &["craft", "--json", "-R", B]));
    check(
        &v,
        "decode",
        &run(Host::A, &["decode", "--json", hex.trim()]),
    );

    let t = check(
        &v,
        "blast",
        &run(Host::A, &["blast", "-c", "200", "-r", "2000", "--json", B]),
    );
    assert_eq!(t.iter().filter(|x| *x == "summary").count(), 1, "{t:?}");
}

#[test]
fn the_schema_rejects_records_that_drift() {
    let v = validator();
    let ok: Value = serde_json::json!({"type": "timeout", "seq": 3});
    assert!(v.is_valid(&ok));
    let port = serde_json::json!({"type": "port", "seq": 1, "protocol": "tcp", "port": 81,
        "verdict": "closed", "reason": "reset", "from": null, "ttl": null, "rtt_us": null,
        "icmp_type": null, "icmp_code": null, "flags": null,
        "options": ["RR: 192.0.2.2 (1 of 9 slots)"], "route": ["192.0.2.2"]});
    assert!(v.is_valid(&port), "{port}");
    for bad in [
        serde_json::json!({"type": "timeout", "seq": 3, "rtt_ms": 1.0}),
        serde_json::json!({"type": "timeout"}),
        serde_json::json!({"type": "request", "seq": 1, "time_us": 5, "dest": "1.2.3", "ttl": 64, "ip_bytes": 84}),
        serde_json::json!({"type": "summary", "command": "ping", "elapsed_us": 1.0, "interrupted": false}),
        serde_json::json!({"type": "bogus"}),
        // The recorded route is a list of addresses, never the text again.
        serde_json::json!({"type": "port", "seq": 1, "protocol": "tcp", "port": 81,
            "verdict": "closed", "reason": "reset", "from": null, "ttl": null, "rtt_us": null,
            "icmp_type": null, "icmp_code": null, "flags": null,
            "options": ["RR: 192.0.2.2 (1 of 9 slots)"], "route": "192.0.2.2"}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
}
