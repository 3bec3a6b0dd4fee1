//! `pktforge reflect` in the lab: a user-space responder in b for 203.0.113.9, an address the
//! kernel does not own, answering a's probes through both Linux routers.

mod common;

use common::{pktforge, stderr, stdout};
use pktforge::lab::Host;

const R: &str = "203.0.113.9";

#[test]
fn reflector_answers_ping_timestamp_mask_and_solicitations() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    // 2 pings + 1 LSRR ping + 1 timestamp + 1 mask = 5 answers, then it stops by itself.
    let child = common::start_reflector(
        &lab,
        &[
            "--mask",
            "/24",
            "--advertise",
            "--preference",
            "7",
            "--count",
            "5",
            "--duration",
            "20",
        ],
    );

    // rsol from r2's side of b's link finds the advertising reflector.
    let out = pktforge(
        &lab,
        Host::R2,
        &["rsol", "-I", "r2-b", "-c", "1", "-W", "1"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("bytes from 203.0.113.9"), "{text}");
    assert!(text.contains("router 203.0.113.9  preference 7"), "{text}");
    assert!(text.contains("advertisement(s) from 1 router(s)"), "{text}");

    // Echo with record route: the reflector records itself in and out, like Linux's b.
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "2", "-i", "0.2", "-W", "2", "-R", R],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("2 received"));
    let rr: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("RR:"))
        .take(8)
        .map(|l| l.trim_start_matches("RR:").trim().to_string())
        .collect();
    assert_eq!(
        rr,
        [
            "192.0.2.2",
            "198.51.100.1",
            "203.0.113.1",
            "203.0.113.9",
            "203.0.113.9",
            "198.51.100.2",
            "192.0.2.1",
            "192.0.2.2"
        ]
    );

    // Loose source route via r2: the reply comes back along the reversed route through r2.
    let out = pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "1", "-W", "2", "--lsrr", "198.51.100.2", R],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("LSRR: \t198.51.100.2"),
        "{}",
        stdout(&out)
    );

    let out = pktforge(&lab, Host::A, &["timestamp", "-c", "1", R]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("20 bytes from 203.0.113.9: icmp_seq=1"));

    let out = pktforge(&lab, Host::A, &["mask", "-c", "1", R]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("mask 255.255.255.0 (/24)"));

    // The reflector stopped by itself after 5 answers and reports its counters.
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success());
    let c: serde_json::Value = String::from_utf8_lossy(&done.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap();
    eprintln!("{c}");
    assert_eq!(c["echo_replies"], 3);
    assert_eq!(c["timestamp_replies"], 1);
    assert_eq!(c["mask_replies"], 1);
    assert!(
        c["advertisements"].as_u64().unwrap() >= 2,
        "one unsolicited + one solicited"
    );
    assert!(
        c["arp_replies"].as_u64().unwrap() >= 1,
        "r2 asked who has 203.0.113.9"
    );
    assert_eq!(c["would_amplify"], 0);
}

#[test]
fn reflector_refuses_bad_configurations() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            "b-r2",
            "--ip",
            "203.0.113.2",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the kernel would answer too"),
        "{}",
        stderr(&out)
    );
    let out = pktforge(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            "b-r2",
            "--ip",
            "203.0.113.9",
            "--mask",
            "255.0.255.0",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not contiguous"), "{}", stderr(&out));
    let out = pktforge(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            "nosuch0",
            "--ip",
            "203.0.113.9",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

/// The reflector's JSON summary once it stopped by itself (`--duration`).
fn summary(child: std::process::Child) -> serde_json::Value {
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let c = String::from_utf8_lossy(&done.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "summary")
        .expect("a summary record");
    eprintln!("reflector: {c}");
    c
}

/// iputils `ping -c 3` from a, as the README's lab shows it.
fn iputils_ping(lab: &pktforge::lab::Lab) -> String {
    let out = lab
        .exec(Host::A, "ping", &["-c", "3", "-i", "0.2", "-W", "2", R])
        .unwrap();
    let text = stdout(&out);
    eprintln!("$ ping -c 3 {R}\n{text}{}", stderr(&out));
    text
}

/// The README's lab as it stands (kernel routers r1 and r2 in the path, r2's side of b's veth
/// with no XDP program and GRO off): reflect in its default mode answers every iputils ping.
/// Before, auto mode attached the XDP echo program and every reply, XDP_TX'ed into that veth,
/// was lost. Once r2's side gets an XDP program, echo moves into XDP, still losing nothing.
#[test]
fn default_mode_answers_iputils_ping_through_the_routers_on_a_plain_veth() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let child = common::start_reflector(&lab, &["--duration", "6"]);
    let text = iputils_ping(&lab);
    assert!(text.contains("3 received, 0% packet loss"), "{text}");
    // r2's side of the veth now takes XDP frames: the reflector moves echo into XDP.
    let pass = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/xdp_drop.py");
    let out = lab
        .exec(Host::R2, "python3", &[pass, "r2-b", "--pass"])
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let text = iputils_ping(&lab);
    assert!(text.contains("3 received, 0% packet loss"), "{text}");
    let c = summary(child);
    assert_eq!(c["echo_replies"], 3, "the first three in user space: {c}");
    assert_eq!(c["xdp_echo_replies"], 3, "the next three in XDP: {c}");
    assert_eq!(c["xdp_tx_failed"], 0, "{c}");
    assert_eq!(c["mode"], "xdp-native", "{c}");
}

/// `--mode xdp` on a veth whose peer takes no XDP frames is refused before anything runs, and
/// the reason names what the peer needs.
#[test]
fn xdp_mode_is_refused_where_the_replies_would_not_be_delivered() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let out = pktforge(
        &lab,
        Host::B,
        &[
            "reflect",
            "-I",
            "b-r2",
            "--ip",
            R,
            "--mode",
            "xdp",
            "--duration",
            "5",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("XDP reflector on b-r2")
            && err.contains("only while the peer has an XDP program attached in native"),
        "{err}"
    );
    assert!(
        !err.contains("answering for"),
        "refused before running: {err}"
    );
    // Nothing was left attached: the kernel's own route to b answers as before.
    let text = iputils_ping(&lab);
    assert!(
        text.contains("0 received"),
        "nobody answers for {R}: {text}"
    );
}

/// The user-space responder answers requests that come one at a time, each as it arrives
/// (its receive ring hands frames over one by one): iputils ping at 20 requests/s through
/// both routers, every request answered once, by the packet path.
#[test]
fn packet_mode_answers_every_request_of_a_slow_ping() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let child = common::start_reflector(
        &lab,
        &["--mode", "packet", "--count", "20", "--duration", "20"],
    );
    let out = lab
        .exec(Host::A, "ping", &["-c", "20", "-i", "0.05", "-W", "2", R])
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("20 received, 0% packet loss"), "{text}");
    assert!(!text.contains("DUP!"), "{text}");
    let c = summary(child);
    assert_eq!(c["mode"], "packet", "{c}");
    assert_eq!(c["echo_replies"], 20, "{c}");
    assert_eq!(c["xdp_echo_replies"], 0, "{c}");
}

/// Run `f` on a thread inside `host`'s namespace (the library asks that thread's kernel).
fn spawn_in<'s, T: Send + 's>(
    s: &'s std::thread::Scope<'s, '_>,
    lab: &pktforge::lab::Lab,
    host: Host,
    f: impl FnOnce() -> T + Send + 's,
) -> std::thread::ScopedJoinHandle<'s, T> {
    use std::os::fd::AsRawFd;
    let path = format!("/run/netns/{}", lab.ns(host));
    s.spawn(move || {
        let ns = std::fs::File::open(&path).expect("namespace file");
        // SAFETY: setns on this thread only, with a namespace fd we own.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}");
        f()
    })
}

/// The reflector from code, on the one driver contract: `run_with(&Stop, on_event)` reports
/// the start once it answers, a notice saying where echo is answered, and a summary carrying
/// its counters, which it also returns.
#[test]
fn the_reflector_reports_its_start_where_it_answers_and_its_counters_as_events() {
    use pktforge::event::{Command, Totals};
    use pktforge::reflect::{ReflectConfig, ReflectMode};
    use pktforge::{Event, Stop};
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let mut cfg = ReflectConfig::new(pktforge::lab::Lab::B_IFACE, R.parse().unwrap());
    cfg.mode = ReflectMode::Packet;
    cfg.count = Some(3);
    cfg.duration = Some(std::time::Duration::from_secs(20));
    let stop = Stop::new();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let (events, summary) = std::thread::scope(|s| {
        let run = spawn_in(s, &lab, Host::B, || {
            let mut events = Vec::new();
            let summary = cfg.run_with(&stop, &mut |e| {
                if matches!(e, Event::Notice(_)) {
                    let _ = ready_tx.send(());
                }
                events.push(e.clone());
            });
            (events, summary)
        });
        ready
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the reflector says where it answers once it does");
        let out = lab
            .exec(Host::A, "ping", &["-c", "3", "-i", "0.2", "-W", "2", R])
            .unwrap();
        assert!(stdout(&out).contains("3 received"), "{}", stdout(&out));
        run.join().expect("reflector thread")
    });
    let summary = summary.expect("stopped by its count");
    let Event::Start(start) = &events[0] else {
        panic!("first the start: {events:?}")
    };
    assert_eq!(start.command, Command::Reflect);
    assert_eq!(start.iface.as_deref(), Some("b-r2"));
    assert_eq!(start.src, Some(R.parse().unwrap()));
    let Event::Notice(n) = &events[1] else {
        panic!("then where echo is answered: {events:?}")
    };
    assert_eq!(
        n.message,
        "answering for 203.0.113.9/24 on b-r2: everything answered in user space"
    );
    let Some(Event::Summary(last)) = events.last() else {
        panic!("last the summary: {events:?}")
    };
    for s in [last, &summary] {
        let Totals::Reflect(c) = &s.totals else {
            panic!("a reflector's counters: {s:?}")
        };
        assert_eq!((c.echo_replies, c.mode.as_str()), (3, "packet"), "{c:?}");
        assert!(c.arp_replies >= 1, "{c:?}");
        assert!(!s.interrupted);
    }
}

/// An error once running (the interface goes away) ends the run with the summary of what was
/// answered until then, then the error.
#[test]
fn a_reflector_that_fails_midway_still_reports_its_counters() {
    use pktforge::event::Totals;
    use pktforge::reflect::ReflectConfig;
    use pktforge::{Event, Stop};
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let mut cfg = ReflectConfig::new(pktforge::lab::Lab::B_IFACE, R.parse().unwrap());
    // Bounded, should the error never come.
    cfg.duration = Some(std::time::Duration::from_secs(20));
    let stop = Stop::new();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let (events, result) = std::thread::scope(|s| {
        let run = spawn_in(s, &lab, Host::B, || {
            let mut events = Vec::new();
            let result = cfg.run_with(&stop, &mut |e| {
                if matches!(e, Event::Notice(_)) {
                    let _ = ready_tx.send(());
                }
                events.push(e.clone());
            });
            (events, result)
        });
        ready
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the reflector answers");
        let out = lab
            .exec(Host::A, "ping", &["-c", "2", "-i", "0.2", "-W", "2", R])
            .unwrap();
        assert!(stdout(&out).contains("2 received"), "{}", stdout(&out));
        lab.ip(Host::B, &["link", "del", pktforge::lab::Lab::B_IFACE])
            .unwrap();
        run.join().expect("reflector thread")
    });
    assert!(result.is_err(), "the interface went away: {result:?}");
    let Some(Event::Summary(last)) = events.last() else {
        panic!("the summary still comes last: {events:?}")
    };
    let Totals::Reflect(c) = &last.totals else {
        panic!("{last:?}")
    };
    assert_eq!(c.answered(), 2, "what was answered before: {c:?}");
}

/// On a veth whose peer takes no XDP frames the reflector answers in user space and says why;
/// once the peer has an XDP program it moves echo into the kernel and says so in a notice.
#[test]
fn echo_moves_into_the_kernel_when_the_peer_takes_xdp_frames_and_a_notice_says_so() {
    use pktforge::event::Totals;
    use pktforge::reflect::ReflectConfig;
    use pktforge::{Event, Stop};
    use std::time::Duration;
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let mut cfg = ReflectConfig::new(pktforge::lab::Lab::B_IFACE, R.parse().unwrap());
    cfg.count = Some(3);
    cfg.duration = Some(Duration::from_secs(20));
    let stop = Stop::new();
    let (notices_tx, notices) = std::sync::mpsc::channel();
    let summary = std::thread::scope(|s| {
        let run = spawn_in(s, &lab, Host::B, || {
            cfg.run_with(&stop, &mut |e| {
                if let Event::Notice(n) = e {
                    let _ = notices_tx.send(n.message.clone());
                }
            })
        });
        let first = notices.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            first.starts_with(
                "answering for 203.0.113.9/24 on b-r2: everything answered in user space: \
                 XDP_TX replies on the veth b-r2 reach its peer"
            ),
            "{first}"
        );
        let pass = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/xdp_drop.py");
        let out = lab
            .exec(Host::R2, "python3", &[pass, "r2-b", "--pass"])
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let moved = notices.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(
            moved,
            "echo answered in the kernel by an XDP program (native), the rest in user space"
        );
        let out = lab
            .exec(Host::A, "ping", &["-c", "3", "-i", "0.2", "-W", "2", R])
            .unwrap();
        assert!(stdout(&out).contains("3 received"), "{}", stdout(&out));
        run.join().expect("reflector thread")
    });
    let summary = summary.expect("stopped by its count");
    let Totals::Reflect(c) = &summary.totals else {
        panic!("{summary:?}")
    };
    assert_eq!(
        (c.mode.as_str(), c.xdp_echo_replies, c.echo_replies),
        ("xdp-native", 3, 0),
        "{c:?}"
    );
}
