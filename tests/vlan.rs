//! VLAN stacks on the wire, in namespaces of their own (`tests/vlan_peer`): a Linux host on a
//! VLAN (802.1Q, and QinQ: 802.1ad outside 802.1Q) answers tagged probes and nothing else;
//! probes count only answers carrying exactly their own stack, even forged ones; reflect
//! answers on its own stack only, with the request's tags, and its XDP half never answers a
//! tagged request; tcpdump and tshark read the tags as sent; impossible stacks are refused
//! before anything is sent.

mod common;
mod vlan_peer;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

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

/// pktforge in `ns` in the background, output piped.
fn spawn(ns: &str, args: &[&str]) -> Child {
    Command::new("ip")
        .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_pktforge")])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pktforge")
}

/// `ping -c 3` from a with `extra` flags: (exit code, stdout).
/// Three pings; a run whose requests are all answered ends at the last reply, so the wait
/// after the last request (-W 3) only bounds the runs that expect no answer, and a loaded
/// machine's late reply is not taken for a lost one.
fn ping(peer: &VlanPeer, extra: &[&str], dest: &str) -> (Option<i32>, String) {
    let mut args = vec!["ping", "-c", "3", "-i", "0.2", "-W", "3"];
    args.extend_from_slice(extra);
    args.push(dest);
    let out = pktforge(&peer.a, &args);
    (out.status.code(), common::stdout(&out))
}

fn received(text: &str) -> usize {
    let line = text
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or_else(|| panic!("no summary line: {text}"));
    line.split(", ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pfv-{}-{name}", std::process::id()))
}

/// tcpdump writing what a's `va` sees to a file, stopped (SIGINT) when dropped or finished.
struct Dump {
    child: Child,
    file: PathBuf,
}

impl Dump {
    fn start(peer: &VlanPeer, name: &str) -> Dump {
        let file = tmp(name);
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &peer.a,
                "tcpdump",
                "-i",
                "va",
                "--immediate-mode",
                "-U",
                "-w",
            ])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpdump (.ci/install installs it)");
        let mut line = String::new();
        BufReader::new(child.stderr.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening on va"), "{line}");
        Dump { child, file }
    }

    /// Stop and read the file back with tcpdump -e -nn and tshark -V.
    fn finish(mut self) -> (String, String) {
        // Let it write what it has received (frames reach it as they come: immediate mode).
        std::thread::sleep(Duration::from_millis(300));
        self.stop();
        let file = std::mem::take(&mut self.file);
        let e = read_with("tcpdump", &["-e", "-nn", "-r"], &file);
        let v = read_with("tshark", &["-V", "-r"], &file);
        std::fs::remove_file(&file).ok();
        (e, v)
    }

    fn stop(&mut self) {
        // tcpdump flushes and exits on SIGINT (`ip netns exec` execs it: same pid).
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
    }
}

impl Drop for Dump {
    fn drop(&mut self) {
        self.stop();
        if !self.file.as_os_str().is_empty() {
            std::fs::remove_file(&self.file).ok();
        }
    }
}

fn read_with(program: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every line of `text` as a record that validates against the event schema.
fn validated(text: &str) -> Vec<serde_json::Value> {
    let schema: serde_json::Value =
        serde_json::from_str(pktforge::event::JSON_SCHEMA).expect("schema is JSON");
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    text.lines()
        .map(|line| {
            let rec: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let errors: Vec<String> = v.iter_errors(&rec).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{line}\n{}", errors.join("\n"));
            rec
        })
        .collect()
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn a_linux_host_on_an_802_1q_vlan_answers_tagged_probes_and_nothing_else() {
    if !common::can_run_lab() {
        return;
    }
    let peer = VlanPeer::new(&[(0x8100, 100)]);
    let b_mac = peer.b_mac();

    let dump = Dump::start(&peer, "q.pcap");
    let (code, text) = ping(&peer, &["--vlan", "100:3"], "192.0.2.1");
    assert_eq!((code, received(&text)), (Some(0), 3), "{text}");
    assert!(
        text.contains("from 192.0.2.2 va vlan 100:3@802.1q:"),
        "{text}"
    );
    let (e, v) = dump.finish();
    eprintln!("{e}");
    // ARP went out and came back on the VLAN; the requests carry PCP 3, the kernel's replies
    // PCP 0 (its default egress priority): the same VLAN all the same.
    assert_eq!(
        count(
            &e,
            "ethertype 802.1Q (0x8100), length 60: vlan 100, p 3, ethertype ARP (0x0806), \
             Request who-has 192.0.2.1 tell 192.0.2.2"
        ),
        1,
        "{e}"
    );
    assert_eq!(
        count(
            &e,
            "vlan 100, p 0, ethertype ARP (0x0806), Reply 192.0.2.1 is-at"
        ),
        1,
        "{e}"
    );
    assert_eq!(
        count(
            &e,
            "ethertype 802.1Q (0x8100), length 102: vlan 100, p 3, ethertype IPv4 (0x0800), \
             192.0.2.2 > 192.0.2.1: ICMP echo request"
        ),
        3,
        "{e}"
    );
    assert_eq!(
        count(
            &e,
            "length 102: vlan 100, p 0, ethertype IPv4 (0x0800), 192.0.2.1 > 192.0.2.2: ICMP \
             echo reply"
        ),
        3,
        "{e}"
    );
    // tshark, a dissector nobody here wrote, reads the same tags.
    assert_eq!(
        count(&v, "802.1Q Virtual LAN, PRI: 3, DEI: 0, ID: 100"),
        4,
        "{v}"
    );
    assert_eq!(
        count(&v, "802.1Q Virtual LAN, PRI: 0, DEI: 0, ID: 100"),
        4,
        "{v}"
    );

    // Every other stack reaches nobody (the MAC is given: the echo requests do go out).
    for other in [
        &["--dst-mac", &b_mac][..],
        &["--dst-mac", &b_mac, "--vlan", "101"],
        &["--dst-mac", &b_mac, "--vlan", "100@ad"],
        &["--dst-mac", &b_mac, "--vlan", "7", "--vlan", "100"],
    ] {
        let (code, text) = ping(&peer, other, "192.0.2.1");
        assert_eq!((code, received(&text)), (Some(1), 0), "{other:?}: {text}");
    }

    // JSON: the start record names the stack, and every record validates.
    let out = pktforge(
        &peer.a,
        &[
            "ping",
            "-c",
            "1",
            "--json",
            "--vlan",
            "100:3@q",
            "192.0.2.1",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let recs = validated(&common::stdout(&out));
    assert_eq!(
        recs[0]["vlans"],
        serde_json::json!([{ "tpid": 0x8100, "vid": 100, "pcp": 3, "dei": false }])
    );

    // The portable backend's receive path puts the stripped tag back as well.
    let (code, text) = ping(&peer, &["--vlan", "100", "--backend", "pnet"], "192.0.2.1");
    assert_eq!((code, received(&text)), (Some(0), 3), "{text}");

    // The other request/reply probes and the shared engine's other drivers, on the VLAN.
    let out = pktforge(
        &peer.a,
        &[
            "probe",
            "--tcp",
            "9",
            "-W",
            "2",
            "--vlan",
            "100",
            "192.0.2.1",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        common::stdout(&out).contains("closed"),
        "{}",
        common::stdout(&out)
    );
    let out = pktforge(
        &peer.a,
        &[
            "timestamp",
            "-c",
            "1",
            "-W",
            "2",
            "--vlan",
            "100",
            "192.0.2.1",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(common::stdout(&out).contains("1 received"));
    let out = pktforge(
        &peer.a,
        &["trace", "-q", "1", "-w", "1", "--vlan", "100", "192.0.2.1"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        common::stdout(&out)
            .lines()
            .any(|l| l.starts_with(" 1  192.0.2.1 ")),
        "{}",
        common::stdout(&out)
    );
    let out = pktforge(
        &peer.a,
        &["send", "-q", "--vlan", "100", "--wait", "1", "192.0.2.1"],
    );
    assert_eq!(out.status.code(), Some(0), "send --wait saw the reply");
    assert!(common::stdout(&out).contains("1 received"));
    let out = pktforge(
        &peer.a,
        &[
            "send",
            "-q",
            "--dst-mac",
            &b_mac,
            "--wait",
            "1",
            "192.0.2.1",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "untagged: nothing answers");
}

#[test]
fn a_linux_host_on_a_qinq_stack_answers_only_that_stack_also_in_fragments() {
    if !common::can_run_lab() {
        return;
    }
    let peer = VlanPeer::new(&QINQ);
    let b_mac = peer.b_mac();
    let dump = Dump::start(&peer, "qinq.pcap");
    // 802.1ad outside, 802.1Q inside: the defaults for two tags.
    let (code, text) = ping(&peer, &["--vlan", "200:3", "--vlan", "20"], "192.0.2.1");
    assert_eq!((code, received(&text)), (Some(0), 3), "{text}");
    let (e, v) = dump.finish();
    eprintln!("{e}");
    assert_eq!(
        count(
            &e,
            "ethertype 802.1Q-QinQ (0x88a8), length 106: vlan 200, p 3, ethertype 802.1Q \
             (0x8100), vlan 20, p 0, ethertype IPv4 (0x0800), 192.0.2.2 > 192.0.2.1: ICMP echo \
             request"
        ),
        3,
        "{e}"
    );
    assert_eq!(
        count(
            &e,
            "ethertype 802.1Q-QinQ (0x88a8), length 106: vlan 200, p 0, ethertype 802.1Q \
             (0x8100), vlan 20, p 0, ethertype IPv4 (0x0800), 192.0.2.1 > 192.0.2.2: ICMP echo \
             reply"
        ),
        3,
        "{e}"
    );
    assert_eq!(count(&v, "IEEE 802.1ad, ID: 200"), 8, "{v}");
    assert_eq!(
        count(&v, "802.1Q Virtual LAN, PRI: 0, DEI: 0, ID: 20"),
        8,
        "{v}"
    );

    for other in [
        &["--vlan", "200"][..],
        &["--vlan", "20"],
        &["--vlan", "200@q", "--vlan", "20"],
        &["--vlan", "200", "--vlan", "21"],
        &["--vlan", "200", "--vlan", "20", "--vlan", "2"],
    ] {
        let mut args = vec!["--dst-mac", &b_mac];
        args.extend_from_slice(other);
        let (code, text) = ping(&peer, &args, "192.0.2.1");
        assert_eq!((code, received(&text)), (Some(1), 0), "{other:?}: {text}");
    }

    // Don't Fragment: the two tags take 8 bytes of the 1500-byte MTU (a single 802.1Q tag
    // would be free), refused before anything is sent.
    let out = pktforge(
        &peer.a,
        &[
            "ping",
            "-c",
            "1",
            "--df",
            "-s",
            "1472",
            "--vlan",
            "200",
            "--vlan",
            "20",
            "192.0.2.1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out).contains("the MTU of va less 8 bytes of VLAN tags allows 1492"),
        "{}",
        common::stderr(&out)
    );
    // Fragmented both ways: ours cut to 1492 bytes, b's (MTU 1496 so that its tagged
    // fragments fit a's veth) reassembled under the tags.
    exec(&peer.b, "ip", &["link", "set", "vb", "mtu", "1496"]);
    let (code, text) = ping(
        &peer,
        &["-s", "3000", "--vlan", "200", "--vlan", "20"],
        "192.0.2.1",
    );
    assert_eq!((code, received(&text)), (Some(0), 3), "{text}");
    assert!(text.contains("3008 bytes from 192.0.2.1"), "{text}");
}

/// An echo reply from b to a (id 0x4242, seq 1) from 192.0.2.77, on `stack` (`--vlan` values).
fn forge(peer: &VlanPeer, stack: &[&str]) {
    let a_mac = peer.a_mac();
    let mut args = vec![
        "send",
        "-q",
        "-I",
        "vb",
        "--icmp-type",
        "0",
        "--icmp-id",
        "0x4242",
        "--icmp-seq",
        "1",
        "--src",
        "192.0.2.77",
        "--dst-mac",
        &a_mac,
    ];
    for v in stack {
        args.extend(["--vlan", v]);
    }
    args.push("192.0.2.2");
    let out = pktforge(&peer.b, &args);
    assert_eq!(out.status.code(), Some(0), "forging from b");
}

#[test]
fn forged_replies_count_only_on_the_probes_own_vlan_stack() {
    if !common::can_run_lab() {
        return;
    }
    // A plain veth pair; b's kernel answers nothing (the probes go to 192.0.2.77, which
    // nobody holds, at b's MAC): every reply is forged by pktforge send in b.
    let peer = VlanPeer::new(&[]);
    let b_mac = peer.b_mac();
    let stacks: [&[&str]; 5] = [&[], &["100"], &["200", "20"], &["200"], &["100@ad"]];
    for ours in [&stacks[0], &stacks[1], &stacks[2]] {
        for answer_ours_too in [false, true] {
            let mut args = vec![
                "ping",
                "-c",
                "1",
                "-W",
                "4",
                "--id",
                "0x4242",
                "--dst-mac",
                &b_mac,
            ];
            for v in ours.iter() {
                args.extend(["--vlan", v]);
            }
            args.push("192.0.2.77");
            let mut child = spawn(&peer.a, &args);
            // The PING line is printed as the first request leaves.
            let mut out = BufReader::new(child.stdout.take().unwrap());
            let mut first = String::new();
            out.read_line(&mut first).unwrap();
            assert!(first.starts_with("PING 192.0.2.77"), "{first}");
            std::thread::sleep(Duration::from_millis(200));
            for theirs in &stacks {
                if theirs != ours {
                    forge(&peer, theirs);
                }
            }
            if answer_ours_too {
                forge(&peer, ours);
            }
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
            let status = child.wait().unwrap();
            eprintln!("{ours:?} {answer_ours_too}: {first}{rest}");
            let want = usize::from(answer_ours_too);
            assert_eq!(received(&rest), want, "{ours:?}: {rest}");
            assert!(!rest.contains("DUP"), "{ours:?}: {rest}");
            assert_eq!(status.code(), Some(if answer_ours_too { 0 } else { 1 }));
        }
    }
}

/// reflect in b on `vb` for 192.0.2.9 with `extra` flags; its JSON summary when it ends.
fn reflector(peer: &VlanPeer, extra: &[&str]) -> Child {
    use std::io::Read;
    let mut args = vec![
        "reflect",
        "-I",
        "vb",
        "--ip",
        "192.0.2.9/24",
        "--json",
        "--duration",
        "15",
    ];
    args.extend_from_slice(extra);
    let mut child = spawn(&peer.b, &args);
    let mut err = child.stderr.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while err.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line);
    assert!(line.contains("answering for 192.0.2.9/24 on vb"), "{line}");
    child
}

/// Stop the reflector; its summary record (every record validated against the schema).
fn stop_reflector(child: Child) -> serde_json::Value {
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let mut recs = validated(&common::stdout(&out));
    assert_eq!(recs[0]["type"], "start");
    recs.pop().expect("a summary record")
}

#[test]
fn reflect_answers_its_own_vlan_stack_only_and_the_untagged_one_no_stack() {
    if !common::can_run_lab() {
        return;
    }
    let peer = VlanPeer::new(&[]);
    let b_mac = peer.b_mac();
    // On a QinQ stack: ARP and echo answered with the tags, everything else ignored.
    let r = reflector(&peer, &["--vlan", "200", "--vlan", "20"]);
    let dump = Dump::start(&peer, "reflect.pcap");
    let (code, text) = ping(&peer, &["--vlan", "200:5", "--vlan", "20"], "192.0.2.9");
    assert_eq!((code, received(&text)), (Some(0), 3), "{text}");
    let (e, _) = dump.finish();
    // The replies carry the request's tags, its priority included.
    assert_eq!(
        count(
            &e,
            "vlan 200, p 5, ethertype 802.1Q (0x8100), vlan 20, p 0, ethertype IPv4 (0x0800), \
             192.0.2.9 > 192.0.2.2: ICMP echo reply"
        ),
        3,
        "{e}"
    );
    for other in [
        &[][..],
        &["--vlan", "200"],
        &["--vlan", "20"],
        &["--vlan", "201", "--vlan", "20"],
        &["--vlan", "200@q", "--vlan", "20"],
    ] {
        let mut args = vec!["--dst-mac", &b_mac];
        args.extend_from_slice(other);
        let (code, text) = ping(&peer, &args, "192.0.2.9");
        assert_eq!((code, received(&text)), (Some(1), 0), "{other:?}: {text}");
    }
    let c = stop_reflector(r);
    assert_eq!(
        (c["echo_replies"].as_u64(), c["arp_replies"].as_u64()),
        (Some(3), Some(1)),
        "{c}"
    );
    assert_eq!(c["mode"], "packet", "{c}");
    assert_eq!(
        c["xdp_unavailable"],
        "requests on a VLAN stack are answered in user space"
    );

    // Untagged (auto mode: echo in XDP where it can): tagged requests are never answered,
    // neither by the XDP program nor in user space.
    for mode in ["packet", "auto"] {
        let r = reflector(&peer, &["--mode", mode]);
        for stack in [&["100"][..], &["200", "20"]] {
            let mut args = vec!["--dst-mac", &b_mac];
            for v in stack {
                args.extend(["--vlan", v]);
            }
            let (code, text) = ping(&peer, &args, "192.0.2.9");
            assert_eq!(
                (code, received(&text)),
                (Some(1), 0),
                "{mode} {stack:?}: {text}"
            );
        }
        let c = stop_reflector(r);
        assert_eq!(c["echo_replies"].as_u64(), Some(0), "{c}");
        assert_eq!(c["xdp_echo_replies"].as_u64(), Some(0), "{c}");
        // The untagged ones are (in user space: an XDP reply into a veth whose peer has no
        // XDP program is lost, which is not what this test is about).
        if mode == "packet" {
            let r = reflector(&peer, &["--mode", mode]);
            let (code, text) = ping(&peer, &[], "192.0.2.9");
            assert_eq!((code, received(&text)), (Some(0), 3), "{text}");
            let c = stop_reflector(r);
            assert_eq!(c["echo_replies"].as_u64(), Some(3), "{c}");
        }
    }
}

#[test]
fn the_xdp_reflector_passes_requests_whose_tag_the_kernel_moved_into_metadata() {
    if !common::can_run_lab() {
        return;
    }
    // b is on VLAN 100 and its kernel tags what it sends through the skb's VLAN metadata (as a
    // VLAN device does with TX offload): on a's veth the XDP program sees no tag in the
    // bytes. Before the driver was asked, an untagged XDP reflector answered all of these.
    let peer = VlanPeer::new(&[(0x8100, 100)]);
    let a_mac = peer.a_mac();
    exec(
        &peer.b,
        "ip",
        &["neigh", "add", "192.0.2.9", "lladdr", &a_mac, "dev", "vb"],
    );
    // An XDP program on b's side lets the veth deliver XDP replies (else --mode xdp is
    // refused): what is tested here is that none is made.
    let pass = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/xdp_drop.py");
    exec(&peer.b, "python3", &[pass, "vb", "--pass"]);
    let mut child = spawn(
        &peer.a,
        &[
            "reflect",
            "-I",
            "va",
            "--ip",
            "192.0.2.9/24",
            "--json",
            "--mode",
            "xdp",
            "--duration",
            "15",
        ],
    );
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("answering for 192.0.2.9/24 on va"), "{line}");
    let out = exec(
        &peer.b,
        "ping",
        &["-c", "3", "-i", "0.2", "-W", "1", "192.0.2.9"],
    );
    let text = common::stdout(&out);
    assert!(text.contains("3 packets transmitted, 0 received"), "{text}");
    let c = stop_reflector(child);
    assert_eq!(c["mode"], "xdp-native", "{c}");
    assert_eq!(c["xdp_echo_replies"].as_u64(), Some(0), "{c}");
    assert_eq!(c["echo_replies"].as_u64(), Some(0), "{c}");
}

#[test]
fn impossible_stacks_are_refused_before_anything_is_sent() {
    if !common::can_run_lab() {
        return;
    }
    let peer = VlanPeer::new(&[]);
    let b_mac = peer.b_mac();
    let tx = || -> u64 {
        let out = exec(&peer.a, "cat", &["/sys/class/net/va/statistics/tx_packets"]);
        common::stdout(&out).trim().parse().unwrap()
    };
    let before = tx();
    let eight: Vec<&str> = ["1", "2", "3", "4", "5", "6", "7", "8"]
        .iter()
        .flat_map(|v| ["--vlan", v])
        .collect();
    let nine: Vec<&str> = eight.iter().copied().chain(["--vlan", "9"]).collect();
    let with = |cmd: &[&str], tags: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        v.extend(tags.iter().map(|s| s.to_string()));
        v.push("192.0.2.1".into());
        v
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            with(&["ping", "-c", "1"], &["--vlan", "4096"]),
            "--vlan 4096: VLAN ID 4096 is out of range 0..=4095",
        ),
        (
            with(&["ping", "-c", "1"], &["--vlan", "1:8"]),
            "VLAN PCP 8 is out of range 0..=7",
        ),
        (
            with(&["send"], &["--vlan", "1:0:2"]),
            "VLAN DEI 2 is out of range 0..=1",
        ),
        (
            with(&["trace"], &["--vlan", "1@q", "--vlan", "2@0x"]),
            "--vlan 2@0x: unknown TPID",
        ),
        (with(&["timestamp"], &nine), "9 VLAN tags given: at most 8"),
        // Eight tags, 802.1ad outside, take 32 bytes of the MTU: 1460 data bytes and their
        // headers no longer fit a 1500-byte MTU.
        (
            with(&["send", "--size", "1460", "--dst-mac", &b_mac], &eight),
            "over the MTU 1500 of va",
        ),
        (
            with(
                &["ping", "-c", "1", "--df", "-s", "1450", "--dst-mac", &b_mac],
                &eight,
            ),
            "the MTU of va less 32 bytes of VLAN tags allows 1468",
        ),
    ];
    for (args, needle) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = pktforge(&peer.a, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            common::stderr(&out).contains(needle),
            "{args:?}: {}",
            common::stderr(&out)
        );
    }
    // A link too small for eight tags and an IPv4 datagram.
    exec(&peer.a, "ip", &["link", "set", "va", "mtu", "90"]);
    let args = with(&["ping", "-c", "1", "--dst-mac", &b_mac], &eight);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = pktforge(&peer.a, &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out)
            .contains("8 tags take 32 bytes of the MTU 90 of va, leaving less than the 68 bytes"),
        "{}",
        common::stderr(&out)
    );
    assert_eq!(tx(), before, "nothing left a");
    // lo carries no tags.
    let out = pktforge(&peer.a, &["ping", "-c", "1", "--vlan", "5", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("a loopback device carries no VLAN tags"));
}
