//! Test helper: throw-away network namespaces (built with [`super::netns`]) and running code
//! inside them.
//!
//! A namespace is created as `pf-net-<pid>-<n>-<tag>` and deleted on drop (also when the
//! test panics). Code runs in it on a fresh thread that enters it; sockets created on that
//! thread belong to the namespace. The test-harness thread itself never changes namespace.

use std::sync::atomic::{AtomicU32, Ordering};

use super::netns;

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
        netns::add(&name).unwrap();
        let ns = NetNs { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n NAME ARGS...`, panicking with ip's message on failure.
    pub fn ip(&self, args: &[&str]) {
        netns::ip(&self.name, args).unwrap();
    }

    /// A sysctl of this namespace.
    pub fn sysctl(&self, key: &str, value: &str) {
        netns::sysctl(&self.name, key, value).unwrap();
    }

    /// Run `f` on a fresh thread that has entered this namespace; propagate panics.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        match self.spawn(f).join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    }

    /// Like [`run`](Self::run) but returns the join handle so work can overlap.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let name = self.name.clone();
        std::thread::spawn(move || {
            netns::enter(&name).unwrap();
            f()
        })
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        if let Err(e) = netns::delete(&self.name) {
            eprintln!("warning: {e}");
        }
    }
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
