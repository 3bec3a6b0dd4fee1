//! Test helper: throw-away network namespaces and running code inside them.
//!
//! A namespace is created with `ip netns add pf-net-<pid>-<n>` and deleted on drop
//! (also when the test panics). Code runs in it on a fresh thread that calls
//! `setns(CLONE_NEWNET)`; sockets created on that thread belong to the namespace.
//! The test-harness thread itself never changes namespace.

use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// True when this test may use root-only features. With `CI=true` a missing
/// privilege is a failure; otherwise it is a skip with a printed note.
pub(crate) fn require_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs root (network namespaces) and CI=true forbids skipping");
    }
    eprintln!("note: skipping {test}: needs root for network namespaces");
    false
}

/// A network namespace we created; deleted on drop.
pub(crate) struct NetNs {
    pub name: String,
}

impl NetNs {
    /// Create `pf-net-<pid>-<n>-<tag>` with `lo` up.
    pub fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("pf-net-{}-{n}-{tag}", std::process::id());
        run_ip(&["netns", "add", &name]);
        let ns = NetNs { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NAME ARGS...`, panicking with ip's stderr on failure.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", &self.name];
        full.extend_from_slice(args);
        run_ip(&full);
    }

    /// `ip netns exec NAME sysctl -w KEY=VALUE` (per-namespace sysctls only).
    pub fn sysctl(&self, key: &str, value: &str) {
        run_ip(&[
            "netns",
            "exec",
            &self.name,
            "sysctl",
            "-q",
            "-w",
            &format!("{key}={value}"),
        ]);
    }

    /// Run `f` on a fresh thread that has entered this namespace; propagate panics.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        let h = std::thread::spawn(move || {
            enter(&path);
            f()
        });
        match h.join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    }

    /// Like [`run`](Self::run) but returns the join handle so work can overlap.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            enter(&path);
            f()
        })
    }
}

/// Enter the namespace at `path` on the *current* thread (only call on fresh threads).
fn enter(path: &str) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    // SAFETY: valid fd to a netns file; affects only the calling thread.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let out = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        if let Ok(o) = out {
            if !o.status.success() {
                eprintln!(
                    "warning: ip netns del {}: {}",
                    self.name,
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
}

fn run_ip(args: &[&str]) {
    let o = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running ip {args:?}: {e}"));
    assert!(
        o.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Two namespaces joined by a veth pair: `ns1`/`veth1` 192.0.2.2/24 ↔ `ns2`/`veth2` 192.0.2.1/24.
pub(crate) struct VethPair {
    pub ns1: NetNs,
    pub ns2: NetNs,
}

impl VethPair {
    pub fn new(tag: &str) -> Self {
        let ns1 = NetNs::new(&format!("{tag}1"));
        let ns2 = NetNs::new(&format!("{tag}2"));
        // Created directly inside ns1 with the peer inside ns2: the root namespace is never touched.
        ns1.ip(&[
            "link", "add", "veth1", "type", "veth", "peer", "name", "veth2", "netns", &ns2.name,
        ]);
        ns1.ip(&["addr", "add", "192.0.2.2/24", "dev", "veth1"]);
        ns2.ip(&["addr", "add", "192.0.2.1/24", "dev", "veth2"]);
        ns1.ip(&["link", "set", "veth1", "up"]);
        ns2.ip(&["link", "set", "veth2", "up"]);
        VethPair { ns1, ns2 }
    }
}
