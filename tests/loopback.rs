//! `lo` is reached without changing a system setting, and a run killed while a setting was
//! changed (blast's rings on lo still need them) has it put back by the next run.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use pktforge::lab::{Host, Lab};

fn lo_settings(lab: &Lab) -> String {
    let out = lab
        .exec(
            Host::A,
            "sysctl",
            &[
                "-n",
                "net.ipv4.conf.lo.accept_local",
                "net.ipv4.conf.lo.route_localnet",
            ],
        )
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn spawn(lab: &Lab, args: &[&str]) -> std::process::Child {
    Command::new("ip")
        .args(["netns", "exec", &lab.ns(Host::A)])
        .arg(env!("CARGO_BIN_EXE_pktforge"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn ping_over_lo_changes_nothing_even_when_killed() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let before = lo_settings(&lab);
    assert_eq!(before, "0\n0\n", "a fresh namespace");
    for backend in ["fast", "pnet"] {
        let mut child = spawn(
            &lab,
            &["ping", "-i", "0.1", "--backend", backend, "127.0.0.1"],
        );
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(lo_settings(&lab), before, "nothing changed while it runs");
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        assert_eq!(lo_settings(&lab), before);
    }
    let out = common::pktforge(
        &lab,
        Host::A,
        &["ping", "-c", "2", "-i", "0.1", "127.0.0.1"],
    );
    assert!(common::stdout(&out).contains("2 packets transmitted, 2 received"));
    assert_eq!(lo_settings(&lab), before);
}

#[test]
fn a_setting_left_by_a_killed_run_is_restored_by_the_next_one() {
    if !common::can_run_lab() {
        return;
    }
    let lab = common::lab();
    let before = lo_settings(&lab);
    // blast's rings inject at L2 on lo: the one user of lo's settings left.
    let mut child = spawn(
        &lab,
        &["blast", "--rate", "100", "--duration", "20", "127.0.0.1"],
    );
    let mut changed = false;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        if lo_settings(&lab) == "1\n1\n" {
            changed = true;
            break;
        }
    }
    assert!(changed, "blast on lo turned the settings on");
    child.kill().unwrap(); // SIGKILL: no destructor runs
    let _ = child.wait();
    assert_eq!(lo_settings(&lab), "1\n1\n", "left changed by the kill");
    let out = common::pktforge(&lab, Host::A, &["ping", "-c", "1", "127.0.0.1"]);
    assert!(
        common::stderr(&out).contains("restored net.ipv4.conf.lo.accept_local=0"),
        "the next run says what it put back"
    );
    assert_eq!(lo_settings(&lab), before);
}
