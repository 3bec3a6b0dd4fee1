//! VLAN stacks on the wire, in namespaces of their own: probes match only answers carrying
//! exactly their own stack, a Linux host on a VLAN (802.1Q, and QinQ 802.1ad + 802.1Q)
//! answers tagged probes, reflect answers on its own stack only, and tcpdump and tshark read
//! the tags as sent.

mod common;
mod vlan_peer;

use std::process::{Command, Output, Stdio};

use vlan_peer::{exec, VlanPeer};

const QINQ: [(u16, u16); 2] = [(0x88a8, 200), (0x8100, 20)];

fn pktforge(ns: &str, args: &[&str]) -> Output {
    let out = exec(ns, env!("CARGO_BIN_EXE_pktforge"), args);
    eprintln!(
        "$ [{ns}] pktforge {}\nexit {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        common::stdout(&out),
        common::stderr(&out)
    );
    out
}

/// `ping -c N` from a with `extra` flags; (exit code, stdout).
fn ping(peer: &VlanPeer, extra: &[&str], dest: &str) -> (Option<i32>, String) {
    let mut args = vec!["ping", "-c", "3", "-i", "0.2", "-W", "1"];
    args.extend_from_slice(extra);
    args.push(dest);
    let out = pktforge(&peer.a, &args);
    (out.status.code(), common::stdout(&out))
}

#[test]
fn a_linux_host_on_a_vlan_answers_tagged_pings_and_nothing_else() {
    if !common::can_run_lab() {
        return;
    }
    let peer = VlanPeer::new(&[(0x8100, 100)]);
    let (code, text) = ping(&peer, &["--vlan", "100:3"], "192.0.2.1");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("3 packets transmitted, 3 received"), "{text}");
}

/// tcpdump on a's `va` writing `file` until `count` frames (at most 20 s); returns once it
/// listens.
fn tcpdump(peer: &VlanPeer, file: &std::path::Path, count: usize) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new("ip")
        .args([
            "netns", "exec", &peer.a, "timeout", "20", "tcpdump", "-i", "va", "-U", "-c",
        ])
        .arg(count.to_string())
        .arg("-w")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump (.ci/install installs it)");
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on va"), "{line}");
    child
}

fn read_with(program: &str, args: &[&str], file: &std::path::Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn debug_xdp() {
    if !common::can_run_lab() {
        return;
    }
    let peer = VlanPeer::new(&[(0x8100, 100)]);
    let amac = peer.a_mac();
    exec(
        &peer.b,
        "ip",
        &["neigh", "add", "192.0.2.9", "lladdr", &amac, "dev", "vb"],
    );
    for mode in ["xdp", "packet"] {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &peer.a,
                env!("CARGO_BIN_EXE_pktforge"),
                "reflect",
                "-I",
                "va",
                "--ip",
                "192.0.2.9/24",
                "--json",
                "--mode",
                mode,
                "--duration",
                "4",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let file = std::env::temp_dir().join(format!("pfv-{}-{mode}.pcap", std::process::id()));
        let dump = tcpdump(&peer, &file, 6);
        let out = exec(
            &peer.b,
            "ping",
            &["-c", "3", "-i", "0.2", "-W", "1", "192.0.2.9"],
        );
        eprintln!("{mode}: {}", common::stdout(&out));
        let _ = dump.wait_with_output();
        eprintln!("{}", read_with("tcpdump", &["-e", "-nn", "-r"], &file));
        let out = child.wait_with_output().unwrap();
        eprintln!("{}\n{}", common::stdout(&out), common::stderr(&out));
    }
}
