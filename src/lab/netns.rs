//! Network namespaces by name: create, configure, run programs and threads inside, delete.
//! What the lab and the tests' throw-away namespaces are both built from.

use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Output};

use crate::{Error, Result};

/// Where `ip netns` keeps its namespaces.
pub const NETNS_DIR: &str = "/var/run/netns";

/// Whether a namespace of that name exists.
pub fn exists(name: &str) -> bool {
    Path::new(NETNS_DIR).join(name).exists()
}

/// `ip netns add NAME`.
pub fn add(name: &str) -> Result<()> {
    run("ip", &["netns", "add", name])
}

/// `ip netns del NAME`, when it exists.
pub fn delete(name: &str) -> Result<()> {
    if exists(name) {
        run("ip", &["netns", "del", name])?;
    }
    Ok(())
}

/// `ip -n NAME ARGS...`; a non-zero exit is an error carrying ip's message.
pub fn ip(name: &str, args: &[&str]) -> Result<()> {
    let mut all = vec!["-n", name];
    all.extend_from_slice(args);
    run("ip", &all)
}

/// Set a sysctl of the namespace (`sysctl -qw KEY=VALUE` inside it).
pub fn sysctl(name: &str, key: &str, value: &str) -> Result<()> {
    let kv = format!("{key}={value}");
    run("ip", &["netns", "exec", name, "sysctl", "-qw", &kv])
}

/// Run `program ARGS...` inside the namespace and collect its output (not checked).
pub fn exec(name: &str, program: &str, args: &[&str]) -> Result<Output> {
    let mut all = vec!["netns", "exec", name, program];
    all.extend_from_slice(args);
    Command::new("ip")
        .args(&all)
        .output()
        .map_err(|e| Error::io(format!("running {program} in {name}"), e))
}

/// Move the calling thread into the namespace (`setns`); sockets it opens afterwards belong
/// there. Call it on a thread of its own: the thread never comes back.
pub fn enter(name: &str) -> Result<()> {
    let path = Path::new(NETNS_DIR).join(name);
    let f = std::fs::File::open(&path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    // SAFETY: a valid fd to a netns file; setns affects only the calling thread.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(Error::io(
            format!("entering {name}"),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Run `program ARGS...`; a non-zero exit is an error carrying its standard error.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| Error::io(format!("running {program} (is iproute2 installed?)"), e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
