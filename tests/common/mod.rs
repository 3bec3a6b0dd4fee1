//! Shared helpers for the namespace-lab integration tests.
#![allow(dead_code)]

use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

use pktforge::lab::{Host, Lab};

/// The route Linux's own `ping -R` shows from a to b across the lab (the README's lab section).
pub const LINUX_RR_A_TO_B: [&str; 8] = [
    "192.0.2.2",
    "198.51.100.1",
    "203.0.113.1",
    "203.0.113.2",
    "203.0.113.2",
    "198.51.100.2",
    "192.0.2.1",
    "192.0.2.2",
];

/// True when the tests may build namespaces. Under `CI=true` a missing privilege is a failure,
/// never a silent skip.
pub fn can_run_lab() -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but not root: the namespace lab tests must run in CI"
        );
        eprintln!("skipping lab test: needs root (set CI=true to make this a failure)");
    }
    root
}

static N: AtomicU32 = AtomicU32::new(0);

/// A lab under a prefix unique to this process and call.
pub fn lab() -> Lab {
    let prefix = format!(
        "pft{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    Lab::up(&prefix).expect("building the namespace lab")
}

/// A dual-stack lab (`Lab::up_dual`, what `pktforge lab up` builds) under a unique prefix.
pub fn lab_dual() -> Lab {
    let prefix = format!(
        "pft{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    Lab::up_dual(&prefix).expect("building the dual-stack namespace lab")
}

/// Run the pktforge binary inside a host's namespace.
pub fn pktforge(lab: &Lab, host: Host, args: &[&str]) -> Output {
    let out = lab
        .exec(host, env!("CARGO_BIN_EXE_pktforge"), args)
        .expect("running pktforge");
    eprintln!(
        "$ pktforge {}\nexit {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Start pktforge in a host's namespace in the background (output piped) and wait until its
/// first line on standard error contains `ready`: its socket is open and filtering.
pub fn spawn_ready(lab: &Lab, host: Host, args: &[&str], ready: &str) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns(host),
            env!("CARGO_BIN_EXE_pktforge"),
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pktforge");
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().expect("piped stderr"))
        .read_line(&mut line)
        .expect("reading pktforge's first line");
    assert!(line.contains(ready), "expected {ready:?}, got: {line}");
    child
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Run the pktforge binary here (no namespace: offline subcommands).
pub fn pktforge_here(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pktforge"))
        .args(args)
        .output()
        .expect("running pktforge")
}

/// `pktforge craft --hex ARGS` as bytes; fails the test when craft fails.
pub fn craft_hex(args: &[&str]) -> Vec<u8> {
    let mut all = vec!["craft", "--hex"];
    all.extend_from_slice(args);
    let out = pktforge_here(&all);
    assert!(
        out.status.success(),
        "craft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = String::from_utf8(out.stdout).unwrap();
    let h = h.trim();
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// Start `pktforge reflect` in b for 203.0.113.9/24 (JSON counters on stdout), with `extra`
/// flags, and wait until its socket is open.
pub fn start_reflector(lab: &Lab, extra: &[&str]) -> std::process::Child {
    start_reflector_on(lab, Host::B, Lab::B_IFACE, "203.0.113.9/24", extra)
}

/// `reflect -I IFACE --ip CIDR --json EXTRA...` in `host`, once it says it is answering.
pub fn start_reflector_on(
    lab: &Lab,
    host: Host,
    iface: &str,
    cidr: &str,
    extra: &[&str],
) -> std::process::Child {
    let mut args = vec!["reflect", "-I", iface, "--ip", cidr, "--json"];
    args.extend_from_slice(extra);
    let ready = format!("answering for {cidr} on {iface}");
    spawn_ready(lab, host, &args, &ready)
}

/// The one event schema, compiled.
pub fn schema_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(pktforge::event::JSON_SCHEMA).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}
