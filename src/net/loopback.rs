//! Frames injected on `lo` through a packet socket go through full input routing, unlike the
//! kernel's own loopback traffic, and Linux drops them as martians: a 127/8 source needs
//! `route_localnet`, and any local source needs `accept_local`.
//!
//! Probes never need these: on `lo` they leave through a raw IP socket
//! ([`crate::link::packet::loopback::LoopbackLink`]). Only frames a raw socket would alter (a wrong
//! checksum or length, ARP, VLAN tags) and blast's rings still need them; for those
//! [`LoopbackGuard`] turns both on for the run and puts the old values back when dropped.
//!
//! So that nothing stays changed after a SIGKILL either, the guard first writes the old values
//! to a journal (`/run/pktforge/lo-<netns inode>`), removed when they are put back; the next
//! run in that namespace ([`recover`]) and `lab down` ([`sweep`]) restore what a killed run
//! left. A process that is not root (a binary on file capabilities) never changes them: the
//! guard refuses and says so.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

const KEYS: [&str; 2] = ["accept_local", "route_localnet"];

/// Where journals live.
pub const JOURNAL_DIR: &str = "/run/pktforge";

/// Restores `lo`'s `accept_local` and `route_localnet` when dropped.
#[derive(Debug)]
pub struct LoopbackGuard {
    restore: Vec<(PathBuf, String)>,
    journal: Option<PathBuf>,
}

fn sysctl_path(key: &str) -> PathBuf {
    // /proc/sys/net shows the network namespace of the thread that opens it.
    PathBuf::from(format!("/proc/sys/net/ipv4/conf/lo/{key}"))
}

/// This process's network namespace (the inode of /proc/self/ns/net).
fn netns_inode(p: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| m.ino())
}

fn journal_path(inode: u64) -> PathBuf {
    PathBuf::from(format!("{JOURNAL_DIR}/lo-{inode}"))
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// A journal's contents: the writer's pid and `key=old` lines.
fn parse_journal(text: &str) -> (i32, Vec<(String, String)>) {
    let mut pid = 0;
    let mut values = Vec::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            if k == "pid" {
                pid = v.trim().parse().unwrap_or(0);
            } else if KEYS.contains(&k) && matches!(v.trim(), "0" | "1") {
                values.push((k.to_string(), v.trim().to_string()));
            }
        }
    }
    (pid, values)
}

/// Put back what a killed run left changed in this network namespace; returns the settings
/// restored (`net.ipv4.conf.lo.KEY=OLD`). Journals of live processes are left alone.
pub fn recover() -> Vec<String> {
    let Some(inode) = netns_inode(Path::new("/proc/self/ns/net")) else {
        return Vec::new();
    };
    let path = journal_path(inode);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    let (pid, values) = parse_journal(&text);
    if pid_alive(pid) {
        return Vec::new();
    }
    let mut done = Vec::new();
    for (k, v) in values {
        if std::fs::write(sysctl_path(&k), &v).is_ok() {
            done.push(format!("net.ipv4.conf.lo.{k}={v}"));
        }
    }
    let _ = std::fs::remove_file(&path);
    done
}

/// Remove journals of network namespaces that no longer exist (their settings went with them);
/// `lab down` calls this after deleting its namespaces.
pub fn sweep() {
    let Ok(dir) = std::fs::read_dir(JOURNAL_DIR) else {
        return;
    };
    let mut live: Vec<u64> = Vec::new();
    if let Some(i) = netns_inode(Path::new("/proc/self/ns/net")) {
        live.push(i);
    }
    if let Ok(named) = std::fs::read_dir("/run/netns") {
        live.extend(named.flatten().filter_map(|e| netns_inode(&e.path())));
    }
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(inode) = name.strip_prefix("lo-").and_then(|i| i.parse::<u64>().ok()) else {
            continue;
        };
        let (pid, _) = parse_journal(&std::fs::read_to_string(e.path()).unwrap_or_default());
        if !live.contains(&inode) && !pid_alive(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

impl LoopbackGuard {
    /// Turn on what injected frames on `lo` need; [`changed`](Self::changed) says which
    /// settings were changed (none when they were already on). Refused when not root.
    pub fn enable() -> Result<LoopbackGuard> {
        let mut old = Vec::new();
        for key in KEYS {
            let path = sysctl_path(key);
            let v = std::fs::read_to_string(&path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if v.trim() != "1" {
                old.push((path, key, v.trim().to_string()));
            }
        }
        if old.is_empty() {
            return Ok(LoopbackGuard {
                restore: Vec::new(),
                journal: None,
            });
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(Error::Invalid(format!(
                "these frames on lo need {} = 1, and pktforge changes system settings only \
                 when run as root (this process is uid {}); set them yourself or send \
                 well-formed IPv4 frames, which need no change",
                old.iter()
                    .map(|(_, k, _)| format!("net.ipv4.conf.lo.{k}"))
                    .collect::<Vec<_>>()
                    .join(" and "),
                // SAFETY: as above.
                unsafe { libc::geteuid() }
            )));
        }
        // Journal first: a SIGKILL between the change and the restore leaves a record.
        let journal = netns_inode(Path::new("/proc/self/ns/net")).map(journal_path);
        if let Some(j) = &journal {
            let mut text = format!("pid={}\n", std::process::id());
            for (_, k, v) in &old {
                text.push_str(&format!("{k}={v}\n"));
            }
            std::fs::create_dir_all(JOURNAL_DIR)
                .and_then(|()| std::fs::write(j, text))
                .map_err(|e| Error::io(format!("writing the journal {}", j.display()), e))?;
        }
        let mut guard = LoopbackGuard {
            restore: Vec::new(),
            journal,
        };
        for (path, _, v) in old {
            std::fs::write(&path, "1")
                .map_err(|e| Error::io(format!("setting {} to 1", path.display()), e))?;
            guard.restore.push((path, v));
        }
        Ok(guard)
    }

    /// The sysctl names this guard changed, e.g. `net.ipv4.conf.lo.accept_local`.
    pub fn changed(&self) -> Vec<String> {
        self.restore
            .iter()
            .map(|(p, _)| {
                let s = p.to_string_lossy();
                s.trim_start_matches("/proc/sys/").replace('/', ".")
            })
            .collect()
    }
}

impl Drop for LoopbackGuard {
    fn drop(&mut self) {
        for (path, old) in &self.restore {
            let _ = std::fs::write(path, old);
        }
        if let Some(j) = &self.journal {
            let _ = std::fs::remove_file(j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_parse_and_ignore_garbage() {
        let (pid, v) = parse_journal("pid=42\naccept_local=0\nroute_localnet=1\nevil=7\n");
        assert_eq!(pid, 42);
        assert_eq!(
            v,
            [
                ("accept_local".to_string(), "0".to_string()),
                ("route_localnet".to_string(), "1".to_string())
            ]
        );
        let (pid, v) = parse_journal("accept_local=rm -rf\n\u{0}");
        assert_eq!((pid, v.len()), (0, 0));
    }
}
